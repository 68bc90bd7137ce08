/* Operations on JSON text already validated by the decoder. They trust their input:
 * every escape is well formed and every \u surrogate is paired. */
#include <stddef.h>

#include "core/hex.h"
#include "core/json_text.h"

/* The decoder has checked that all four are hex digits. */
static unsigned read_hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        v = v << 4 | (unsigned)as_hex_value((unsigned char)p[i]);
    }
    return v;
}

/* Decodes the escape at `p` (just past the backslash) into up to 4 UTF-8 bytes;
 * returns how many input bytes after the backslash it used. */
static size_t decode_escape(const char *p, char out[4], size_t *out_len)
{
    if (*p != 'u') {
        /* One of b f n r t, or '"', '\\', '/' standing for themselves. */
        static const char from[] = "bfnrt";
        static const char to[] = "\b\f\n\r\t";
        const char *at = memchr(from, *p, sizeof from - 1);
        out[0] = at != NULL ? to[at - from] : *p;
        *out_len = 1;
        return 1;
    }
    unsigned cp = read_hex4(p + 1);
    size_t used = 5;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (read_hex4(p + 7) - 0xDC00);
        used = 11;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        *out_len = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        *out_len = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        *out_len = 3;
    } else {
        out[0] = (char)(0xF0 | cp >> 18);
        out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        *out_len = 4;
    }
    return used;
}

as_json_reader as_json_reader_of(as_span body, bool escaped)
{
    as_json_reader r = {body.ptr, body.ptr + body.len, escaped, {0}};
    return r;
}

bool as_json_reader_next(as_json_reader *r, const char **ptr, size_t *len)
{
    if (r->p >= r->end) {
        return false;
    }
    if (!r->decode) {
        *ptr = r->p;
        *len = (size_t)(r->end - r->p);
        r->p = r->end;
        return true;
    }
    if (*r->p == '\\') {
        r->p += 1 + decode_escape(r->p + 1, r->esc, len);
        *ptr = r->esc;
        return true;
    }
    const char *start = r->p;
    while (r->p < r->end && *r->p != '\\') {
        r->p++;
    }
    *ptr = start;
    *len = (size_t)(r->p - start);
    return true;
}

void as_json_append_unescaped(as_buf *out, as_span span)
{
    as_json_reader r = as_json_reader_of(span, true);
    const char *ptr;
    size_t len;
    while (as_json_reader_next(&r, &ptr, &len)) {
        as_buf_append(out, ptr, len);
    }
}

size_t as_json_decoded_len(as_span body)
{
    as_json_reader r = as_json_reader_of(body, true);
    const char *ptr;
    size_t len;
    size_t total = 0;
    while (as_json_reader_next(&r, &ptr, &len)) {
        total += len;
    }
    return total;
}

int as_json_string_cmp(as_span a, bool a_escaped, as_span b, bool b_escaped)
{
    if (!a_escaped && !b_escaped) {
        size_t n = a.len < b.len ? a.len : b.len;
        int c = n > 0 ? memcmp(a.ptr, b.ptr, n) : 0;
        if (c != 0) {
            return c;
        }
        return (a.len > b.len) - (a.len < b.len);
    }
    /* Compare chunk by chunk without allocating. */
    as_json_reader ra = as_json_reader_of(a, a_escaped);
    as_json_reader rb = as_json_reader_of(b, b_escaped);
    const char *pa = NULL;
    const char *pb = NULL;
    size_t la = 0;
    size_t lb = 0;
    for (;;) {
        if (la == 0 && !as_json_reader_next(&ra, &pa, &la)) {
            la = 0;
        }
        if (lb == 0 && !as_json_reader_next(&rb, &pb, &lb)) {
            lb = 0;
        }
        if (la == 0 || lb == 0) {
            return (la > 0) - (lb > 0);
        }
        size_t n = la < lb ? la : lb;
        int c = memcmp(pa, pb, n);
        if (c != 0) {
            return c;
        }
        pa += n;
        pb += n;
        la -= n;
        lb -= n;
    }
}

bool as_json_string_equals(as_span body, bool escaped, const char *bytes, size_t len)
{
    as_span raw = {bytes, len};
    return as_json_string_cmp(body, escaped, raw, false) == 0;
}

void as_json_append_compact(as_buf *out, as_span span)
{
    /* Compact text is never longer than its source: reserve once, write in place. */
    if (as_buf_reserve(out, span.len) != AS_OK) {
        return;
    }
    char *dst = out->data + out->len;
    const char *p = span.ptr;
    const char *end = span.ptr + span.len;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            /* Copy the string whole: whitespace inside it is content. A quote ends it
             * unless an odd run of backslashes precedes it. */
            const char *q = p + 1;
            for (;;) {
                q = memchr(q, '"', (size_t)(end - q));
                size_t backslashes = 0;
                while (q[-1 - (ptrdiff_t)backslashes] == '\\') {
                    backslashes++;
                }
                if (backslashes % 2 == 0) {
                    break;
                }
                q++;
            }
            size_t n = (size_t)(q + 1 - p);
            memcpy(dst, p, n);
            dst += n;
            p = q + 1;
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            p++;
        } else {
            *dst++ = c;
            p++;
        }
    }
    out->len = (size_t)(dst - out->data);
    out->data[out->len] = '\0';
}

size_t as_utf8_sequence(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (avail < len || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return len;
}

void as_json_append_text(as_buf *out, as_span text)
{
    const unsigned char *p = (const unsigned char *)text.ptr;
    size_t start = 0;
    size_t i = 0;
    while (i < text.len) {
        size_t n = as_utf8_sequence(p + i, text.len - i);
        if (n > 0) {
            i += n;
            continue;
        }
        as_buf_append_json_escaped(out, text.ptr + start, i - start);
        as_buf_append_str(out, "\xEF\xBF\xBD");
        i++;
        start = i;
    }
    if (i > start) {
        as_buf_append_json_escaped(out, text.ptr + start, i - start);
    }
}
