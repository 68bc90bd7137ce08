/* Unit tests for lib/event.c: payloads that are not JSON or not an event, records that
 * break DynamoDB's rules, exact spans, flags and sizes, and every fixture in events/. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditstream/buf.h"
#include "auditstream/event.h"

/* A string literal and its length, embedded NULs included. */
#define BYTES(s) s, sizeof(s) - 1

/* ---- Small oracles that do not go through the decoder -------------------------------- */

static bool span_is(as_span s, const char *text, size_t len)
{
    return s.ptr != NULL && s.len == len && (len == 0 || memcmp(s.ptr, text, len) == 0);
}

static bool span_is_str(as_span s, const char *text)
{
    return span_is(s, text, strlen(text));
}

static bool contains_byte(as_span s, char c)
{
    return s.len > 0 && memchr(s.ptr, c, s.len) != NULL;
}

/* True when `s` lies within [lo, hi). */
static bool inside(as_span s, const char *lo, const char *hi)
{
    return s.ptr != NULL && s.ptr >= lo && s.ptr <= hi && s.len <= (size_t)(hi - s.ptr);
}

/* The first `needle` in [from, end), or NULL. */
static const char *find(const char *from, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = from; p != NULL && (size_t)(end - p) >= n; p++) {
        if (memcmp(p, needle, n) == 0) {
            return p;
        }
    }
    return NULL;
}

/* Whitespace outside strings: what AS_VALUE_WIRE_SPACED promises. */
static bool spaced(as_span s)
{
    bool in_string = false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            return true;
        }
    }
    return false;
}

/* RFC 3629 UTF-8: no overlongs, no surrogates, nothing past U+10FFFF. */
static bool valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t c = s[i];
        size_t n;
        uint32_t min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 2;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4;
            min = 0x10000;
            c &= 0x07;
        } else {
            return false;
        }
        if (len - i < n) {
            return false;
        }
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
            c = c << 6 | (uint32_t)(s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            return false;
        }
        i += n;
    }
    return true;
}

static as_buf unescaped(as_span body)
{
    as_buf out = AS_BUF_INIT;
    as_json_unescape(body, &out);
    assert_int_equal(as_buf_status(&out), AS_OK);
    return out;
}

/* Whether a JSON string body stands for `text` once its escapes are decoded. */
static bool unescapes_to(as_span body, const char *text)
{
    if (body.ptr == NULL) {
        return false;
    }
    as_buf b = unescaped(body);
    size_t n = strlen(text);
    bool same = b.len == n && (n == 0 || memcmp(b.data, text, n) == 0);
    as_buf_free(&b);
    return same;
}

static size_t decoded_len(as_span body)
{
    as_buf b = unescaped(body);
    size_t n = b.len;
    as_buf_free(&b);
    return n;
}

/* DynamoDB's size of a scalar, worked out from its text: S its UTF-8 bytes, B its
 * decoded bytes, N one byte per two significant digits rounded up plus one. */
static uint64_t scalar_size(const as_value *v)
{
    as_buf b = unescaped(v->text);
    const char *s = b.data != NULL ? b.data : "";
    size_t n = b.len;
    uint64_t size = 0;
    switch (v->type) {
    case AS_TYPE_S:
        size = n;
        break;
    case AS_TYPE_B: {
        size_t pad = 0;
        while (pad < n && pad < 2 && s[n - 1 - pad] == '=') {
            pad++;
        }
        size = n / 4 * 3 - pad;
        break;
    }
    case AS_TYPE_N: {
        size_t end = 0;
        while (end < n && s[end] != 'e' && s[end] != 'E') {
            end++;
        }
        size_t first = SIZE_MAX;
        size_t last = 0;
        for (size_t k = 0; k < end; k++) {
            if (s[k] >= '1' && s[k] <= '9') {
                if (first == SIZE_MAX) {
                    first = k;
                }
                last = k;
            }
        }
        size_t digits = 0;
        for (size_t k = first; first != SIZE_MAX && k <= last; k++) {
            digits += s[k] != '.';
        }
        size = digits == 0 ? 1 : (digits + 1) / 2 + 1;
        break;
    }
    case AS_TYPE_BOOL:
    case AS_TYPE_NULL:
        size = 1;
        break;
    default:
        fail_msg("scalar_size: %s is not a scalar", as_type_name(v->type));
    }
    as_buf_free(&b);
    return size;
}

/* ---- Invariants every decoded event must satisfy --------------------------------------- */

typedef enum role {
    ROLE_TOP,       /* Keys, NewImage, OldImage: maps never wrapped */
    ROLE_VALUE,     /* an attribute value {"T": ...} */
    ROLE_MEMBER     /* a set member "..." */
} role;

static void check_value(const as_value *v, role r, const char *lo, const char *hi);

#define VALUE_FAIL(v, what)                                                                   \
    fail_msg("value \"%.*s\" (%s): %s", (int)(v)->name.len,                                   \
             (v)->name.ptr != NULL ? (v)->name.ptr : "", as_type_name((v)->type), what)

/* Walks the members of a set, M or L and checks its count, size and depth against them. */
static void check_members(const as_value *v, const char *lo, const char *hi)
{
    const as_value *end = v + v->subtree;
    bool set = v->type == AS_TYPE_SS || v->type == AS_TYPE_NS || v->type == AS_TYPE_BS;
    as_type member_type = v->type == AS_TYPE_SS ? AS_TYPE_S
                          : v->type == AS_TYPE_NS ? AS_TYPE_N
                                                  : AS_TYPE_B;
    uint32_t count = 0;
    uint64_t size = set ? 0 : 3;
    uint32_t depth = 0;
    for (const as_value *m = v + 1; m < end; m += m->subtree) {
        if (m->subtree < 1 || m->subtree > (size_t)(end - m)) {
            VALUE_FAIL(v, "a member's subtree runs past its parent's");
        }
        count++;
        if (v->type == AS_TYPE_M) {
            if (!inside(m->name, lo, hi) || m->name.ptr[-1] != '"' ||
                m->name.ptr[m->name.len] != '"') {
                VALUE_FAIL(m, "an M entry's name is not a quoted string in the record");
            }
            check_value(m, ROLE_VALUE, lo, hi);
            size += decoded_len(m->name) + m->size + 1;
        } else if (v->type == AS_TYPE_L) {
            if (m->name.ptr != NULL || m->name.len != 0) {
                VALUE_FAIL(m, "a list element has a name");
            }
            check_value(m, ROLE_VALUE, lo, hi);
            size += m->size + 1;
        } else {
            if (m->name.ptr != NULL || m->name.len != 0 || m->type != member_type) {
                VALUE_FAIL(m, "a set member has a name or the wrong type");
            }
            check_value(m, ROLE_MEMBER, lo, hi);
            size += m->size;
        }
        if (m->depth > depth) {
            depth = m->depth;
        }
    }
    if (count != v->count) {
        VALUE_FAIL(v, "count differs from its members");
    }
    if (size != v->size) {
        fail_msg("value \"%.*s\" (%s): size %llu, its members make %llu", (int)v->name.len,
                 v->name.ptr != NULL ? v->name.ptr : "", as_type_name(v->type),
                 (unsigned long long)v->size, (unsigned long long)size);
    }
    if (set ? (v->depth != 0 || count == 0) : v->depth != depth + 1) {
        VALUE_FAIL(v, "depth differs from its members (or empty set)");
    }
}

static void check_value(const as_value *v, role r, const char *lo, const char *hi)
{
    if (v->subtree < 1) {
        VALUE_FAIL(v, "subtree 0");
    }
    if ((v->flags & ~(uint32_t)(AS_VALUE_NAME_ESCAPED | AS_VALUE_TEXT_ESCAPED |
                                AS_VALUE_WIRE_SPACED)) != 0) {
        VALUE_FAIL(v, "unknown flag bits");
    }
    if (((v->flags & AS_VALUE_NAME_ESCAPED) != 0) != contains_byte(v->name, '\\')) {
        VALUE_FAIL(v, "AS_VALUE_NAME_ESCAPED disagrees with the name");
    }
    as_span outer;
    switch (r) {
    case ROLE_TOP:
        if (v->type != AS_TYPE_M || v->wire.ptr != NULL || v->wire.len != 0 ||
            v->name.ptr != NULL || !inside(v->text, lo, hi)) {
            VALUE_FAIL(v, "Keys or an image is not an unwrapped, unnamed M inside the record");
        }
        outer = v->text;
        break;
    case ROLE_VALUE:
        if (!inside(v->wire, lo, hi) || v->wire.len < 2 || v->wire.ptr[0] != '{' ||
            v->wire.ptr[v->wire.len - 1] != '}') {
            VALUE_FAIL(v, "wire is not an object inside the record");
        }
        outer = v->wire;
        break;
    default:
        if (!inside(v->text, lo, hi) || v->wire.ptr != v->text.ptr - 1 ||
            v->wire.len != v->text.len + 2 || v->wire.ptr[0] != '"' ||
            v->wire.ptr[v->wire.len - 1] != '"') {
            VALUE_FAIL(v, "a set member's wire is not its quoted text");
        }
        outer = v->wire;
        break;
    }
    if (!inside(v->text, outer.ptr, outer.ptr + outer.len)) {
        VALUE_FAIL(v, "text lies outside the wire");
    }
    if (((v->flags & AS_VALUE_WIRE_SPACED) != 0) != spaced(outer)) {
        VALUE_FAIL(v, "AS_VALUE_WIRE_SPACED disagrees with the wire");
    }
    bool stringy = v->type == AS_TYPE_S || v->type == AS_TYPE_N || v->type == AS_TYPE_B;
    if (((v->flags & AS_VALUE_TEXT_ESCAPED) != 0) != (stringy && contains_byte(v->text, '\\'))) {
        VALUE_FAIL(v, "AS_VALUE_TEXT_ESCAPED disagrees with the text");
    }
    switch (v->type) {
    case AS_TYPE_S:
    case AS_TYPE_N:
    case AS_TYPE_B:
        if (v->text.ptr[-1] != '"' || v->text.ptr[v->text.len] != '"') {
            VALUE_FAIL(v, "text is not a string body");
        }
        if (v->subtree != 1 || v->count != 0 || v->depth != 0) {
            VALUE_FAIL(v, "scalar with members or depth");
        }
        if (v->size != scalar_size(v)) {
            fail_msg("value \"%.*s\" %s \"%.*s\": size %llu, want %llu", (int)v->name.len,
                     v->name.ptr != NULL ? v->name.ptr : "", as_type_name(v->type),
                     (int)v->text.len, v->text.ptr, (unsigned long long)v->size,
                     (unsigned long long)scalar_size(v));
        }
        break;
    case AS_TYPE_BOOL:
    case AS_TYPE_NULL:
        if (!span_is_str(v->text, "true") &&
            (v->type == AS_TYPE_NULL || !span_is_str(v->text, "false"))) {
            VALUE_FAIL(v, "text is not the literal");
        }
        if (v->subtree != 1 || v->count != 0 || v->depth != 0 || v->size != 1) {
            VALUE_FAIL(v, "BOOL/NULL with members, depth or size other than 1");
        }
        break;
    case AS_TYPE_M:
        if (v->text.len < 2 || v->text.ptr[0] != '{' || v->text.ptr[v->text.len - 1] != '}') {
            VALUE_FAIL(v, "text is not the object");
        }
        check_members(v, lo, hi);
        break;
    case AS_TYPE_L:
    case AS_TYPE_SS:
    case AS_TYPE_NS:
    case AS_TYPE_BS:
        if (v->text.len < 2 || v->text.ptr[0] != '[' || v->text.ptr[v->text.len - 1] != ']') {
            VALUE_FAIL(v, "text is not the array");
        }
        check_members(v, lo, hi);
        break;
    default:
        VALUE_FAIL(v, "unknown type");
    }
}

typedef struct decoded {
    char *bytes;        /* an exact-size copy, so that a read past the end is caught */
    size_t len;
    as_event *event;
    as_status status;
    as_error err;
} decoded;

static void check_record(const decoded *d, size_t i)
{
    const as_record *rec = as_event_record(d->event, i);
    if (rec->index != i) {
        fail_msg("Records[%zu] has index %zu", i, rec->index);
    }
    if (!inside(rec->raw, d->bytes, d->bytes + d->len) || rec->raw.len == 0) {
        fail_msg("Records[%zu]: raw does not lie in the input", i);
    }
    const char *lo = rec->raw.ptr;
    const char *hi = lo + rec->raw.len;
    const as_span fields[] = {rec->event_id,        rec->event_source,
                              rec->event_source_arn, rec->sequence_number,
                              rec->creation_time,   rec->stream_view_type,
                              rec->identity_type,   rec->identity_principal};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        if ((fields[f].ptr != NULL || fields[f].len != 0) && !inside(fields[f], lo, hi)) {
            fail_msg("Records[%zu]: field %zu does not lie in the record", i, f);
        }
    }
    uint32_t escaped = 0;
    if (contains_byte(rec->event_id, '\\')) {
        escaped |= AS_RECORD_EVENT_ID_ESCAPED;
    }
    if (contains_byte(rec->sequence_number, '\\')) {
        escaped |= AS_RECORD_SEQUENCE_ESCAPED;
    }
    if (contains_byte(rec->event_source_arn, '\\')) {
        escaped |= AS_RECORD_ARN_ESCAPED;
    }
    if (contains_byte(rec->event_source, '\\')) {
        escaped |= AS_RECORD_SOURCE_ESCAPED;
    }
    if (rec->escaped != escaped) {
        fail_msg("Records[%zu]: escaped bits %#x, want %#x", i, rec->escaped, escaped);
    }
    if (rec->error != NULL) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "Records[%zu]", i);
        size_t n = strlen(prefix);
        if (strncmp(rec->error, prefix, n) != 0 || (rec->error[n] != '.' && rec->error[n] != ':')) {
            fail_msg("Records[%zu]: error does not start with \"%s\": %s", i, prefix, rec->error);
        }
        size_t len = strlen(rec->error);
        if (!valid_utf8((const unsigned char *)rec->error, len)) {
            fail_msg("Records[%zu]: error is not valid UTF-8: %s", i, rec->error);
        }
        for (size_t k = 0; k < len; k++) {
            if ((unsigned char)rec->error[k] < 0x20) {
                fail_msg("Records[%zu]: error holds control byte %#x", i, rec->error[k]);
            }
        }
        /* An invalid record keeps no image, and its Keys only when they are sound. */
        if (rec->old_image != NULL || rec->new_image != NULL) {
            fail_msg("Records[%zu] is invalid but keeps an image", i);
        }
        if (rec->keys == NULL) {
            return;
        }
    } else if (!unescapes_to(rec->event_source, "aws:dynamodb") || rec->event_id.len == 0 ||
               rec->event_name < AS_EVENT_INSERT || rec->event_name > AS_EVENT_REMOVE ||
               rec->sequence_number.len == 0 || rec->keys == NULL) {
        fail_msg("Records[%zu] is valid but lacks what a valid record has", i);
    }
    check_value(rec->keys, ROLE_TOP, lo, hi);
    if (rec->keys->count == 0) {
        fail_msg("Records[%zu] is valid with empty Keys", i);
    }
    const as_value *keys_end = rec->keys + rec->keys->subtree;
    for (const as_value *k = rec->keys + 1; k < keys_end; k += k->subtree) {
        bool scalar = k->type == AS_TYPE_S || k->type == AS_TYPE_N || k->type == AS_TYPE_B;
        if (!scalar || (k->type != AS_TYPE_N && k->size == 0)) {
            fail_msg("Records[%zu] is valid with key type %s size %llu", i, as_type_name(k->type),
                     (unsigned long long)k->size);
        }
    }
    if (rec->old_image != NULL) {
        check_value(rec->old_image, ROLE_TOP, lo, hi);
    }
    if (rec->new_image != NULL) {
        check_value(rec->new_image, ROLE_TOP, lo, hi);
    }
}

static int not_set;     /* *out points here before a call: a failing call must clear it */

/* Decodes a copy of `json` in a block of exactly `len` bytes, and checks the result's
 * invariants (or, on failure, that *out was cleared and err filled). */
static void decode_with(decoded *d, const char *json, size_t len)
{
    memset(d, 0, sizeof *d);
    d->len = len;
    d->bytes = malloc(len > 0 ? len : 1);
    assert_non_null(d->bytes);
    if (len > 0) {
        memcpy(d->bytes, json, len);
    }
    d->event = (as_event *)&not_set;
    d->status = as_event_decode(d->bytes, d->len, &d->event, &d->err);
    if (d->status == AS_OK) {
        if (d->event == NULL || d->event == (as_event *)&not_set) {
            fail_msg("decode succeeded without setting *out");
        }
        size_t n = as_event_record_count(d->event);
        for (size_t i = 0; i < n; i++) {
            check_record(d, i);
        }
    } else {
        if (d->event != NULL) {
            fail_msg("a failing decode left *out set");
        }
        if (d->err.code != d->status || d->err.message[0] == '\0') {
            fail_msg("a failing decode (%s) did not fill err", as_status_name(d->status));
        }
    }
}

static void release(decoded *d)
{
    as_event_free(d->event);
    free(d->bytes);
    memset(d, 0, sizeof *d);
}

static void expect_span(as_span got, const char *want, const char *what)
{
    if (want == NULL) {
        if (got.ptr != NULL || got.len != 0) {
            fail_msg("%s: got \"%.*s\", want no span", what, (int)got.len,
                     got.ptr != NULL ? got.ptr : "");
        }
        return;
    }
    if (!span_is_str(got, want)) {
        fail_msg("%s: got %s\"%.*s\", want \"%s\"", what, got.ptr == NULL ? "no span " : "",
                 (int)got.len, got.ptr != NULL ? got.ptr : "", want);
    }
}

static void expect_text(const char *got, const char *want, const char *what)
{
    if (want == NULL ? got != NULL : (got == NULL || strcmp(got, want) != 0)) {
        fail_msg("%s:\n  got  %s\n  want %s", what, got != NULL ? got : "(null)",
                 want != NULL ? want : "(null)");
    }
}

static void expect_unescaped(as_span body, const char *want, size_t want_len, const char *what)
{
    as_buf b = unescaped(body);
    if (b.len != want_len || (want_len > 0 && memcmp(b.data, want, want_len) != 0)) {
        fail_msg("%s: unescaped to %zu bytes \"%.*s\", want %zu", what, b.len, (int)b.len,
                 b.data != NULL ? b.data : "", want_len);
    }
    as_buf_free(&b);
}

/* ---- 1. Payloads that are not JSON, or not an event ------------------------------------ */

typedef struct bad_event {
    const char *json;
    size_t len;
    as_status status;
    size_t offset;
    const char *message;
} bad_event;

#define JSON_AT(line, column, byte, what)                                                      \
    AS_ERR_JSON, byte, "invalid JSON at line " #line ", column " #column " (byte " #byte "): " what
#define NOT_EVENT_AT(byte, what)                                                               \
    AS_ERR_NOT_EVENT, byte, "not a DynamoDB Streams event (byte " #byte "): " what

/* 18 bytes: a valid event so far, and a member whose value is the case. */
#define P "{\"Records\":[],\"x\":"
/* Up to an attribute value's payload (42 bytes) or to a BOOL's (45 bytes). */
#define TO_S "{\"Records\":[{\"dynamodb\":{\"Keys\":{\"k\":{\"S\":"
#define TO_BOOL "{\"Records\":[{\"dynamodb\":{\"Keys\":{\"k\":{\"BOOL\":"
#define TO_NULL "{\"Records\":[{\"dynamodb\":{\"Keys\":{\"k\":{\"NULL\":"
/* Up to ApproximateCreationDateTime's value (55 bytes). */
#define TO_TIME "{\"Records\":[{\"dynamodb\":{\"ApproximateCreationDateTime\":"

static const bad_event BAD_EVENTS[] = {
    /* Nothing, or not UTF-8 JSON text from its first byte. */
    {BYTES(""), JSON_AT(1, 1, 0, "empty input")},
    {BYTES(" \n\t "), JSON_AT(2, 3, 4, "empty input")},
    {BYTES("\xEF\xBB\xBF{\"Records\":[]}"),
     JSON_AT(1, 1, 0, "starts with a UTF-8 byte-order mark")},
    {BYTES("\xEF\xBB\xBF"), JSON_AT(1, 1, 0, "starts with a UTF-8 byte-order mark")},
    {BYTES(" \xEF\xBB\xBF{\"Records\":[]}"), JSON_AT(1, 2, 1, "unexpected character")},
    {BYTES("\xFF\xFE{}"), JSON_AT(1, 1, 0, "unexpected character")},
    /* Truncated. */
    {BYTES("{"), JSON_AT(1, 2, 1, "unexpected end of input")},
    {BYTES("{\"Rec"), JSON_AT(1, 2, 1, "unterminated string")},
    {BYTES("{\"Records\""), JSON_AT(1, 11, 10, "unexpected end of input")},
    {BYTES("{\"Records\":"), JSON_AT(1, 12, 11, "unexpected end of input")},
    {BYTES("{\"Records\":["), JSON_AT(1, 13, 12, "unexpected end of input")},
    {BYTES("{\"Records\":[{"), JSON_AT(1, 14, 13, "unexpected end of input")},
    {BYTES("{\"Records\":[{\"eventID\":\"ab"), JSON_AT(1, 24, 23, "unterminated string")},
    {BYTES("{\"Records\":[{}"), JSON_AT(1, 15, 14, "unexpected end of input")},
    {BYTES("{\"Records\":[]"), JSON_AT(1, 14, 13, "unexpected end of input")},
    {BYTES("{\"Records\":[],"), JSON_AT(1, 15, 14, "unexpected end of input")},
    {BYTES(TO_S), JSON_AT(1, 43, 42, "unexpected end of input")},
    {BYTES(P "12"), JSON_AT(1, 21, 20, "unexpected end of input")},
    {BYTES(P "tr"), JSON_AT(1, 19, 18, "invalid literal")},
    {BYTES(P "\"a\\"), JSON_AT(1, 19, 18, "unterminated string")},
    {BYTES(P "\"\\u00"), JSON_AT(1, 20, 19, "invalid \\u escape")},
    {BYTES(P "[1,"), JSON_AT(1, 22, 21, "unexpected end of input")},
    {BYTES(P "{\"a\":"), JSON_AT(1, 24, 23, "unexpected end of input")},
    /* Bytes after the value. */
    {BYTES("{\"Records\":[]}x"), JSON_AT(1, 15, 14, "trailing bytes after the JSON value")},
    {BYTES("{\"Records\":[]} {}"), JSON_AT(1, 16, 15, "trailing bytes after the JSON value")},
    {BYTES("{\"Records\":[]}\0"), JSON_AT(1, 15, 14, "trailing bytes after the JSON value")},
    {BYTES("{\"Records\":[]}}"), JSON_AT(1, 15, 14, "trailing bytes after the JSON value")},
    {BYTES("[] x"), JSON_AT(1, 4, 3, "trailing bytes after the JSON value")},
    {BYTES("{\n  \"Records\": [\n  ]\n}\nx"),
     JSON_AT(5, 1, 23, "trailing bytes after the JSON value")},
    {BYTES("{\r\n\"Records\":[]\r\n}x"), JSON_AT(3, 2, 18, "trailing bytes after the JSON value")},
    /* JSON, but not an object with one Records array holding a DynamoDB record. */
    {BYTES("[]"), NOT_EVENT_AT(0, "the top-level value is not an object")},
    {BYTES("\"x\""), NOT_EVENT_AT(0, "the top-level value is not an object")},
    {BYTES(" null"), NOT_EVENT_AT(1, "the top-level value is not an object")},
    {BYTES("42"), NOT_EVENT_AT(0, "the top-level value is not an object")},
    {BYTES("{}"), NOT_EVENT_AT(0, "no \"Records\" array")},
    {BYTES("{\"records\":[]}"), NOT_EVENT_AT(0, "no \"Records\" array")},
    {BYTES("\n{\"Record\":[],\"x\":{\"Records\":[]}}"), NOT_EVENT_AT(1, "no \"Records\" array")},
    {BYTES("{\"Records\":{}}"), NOT_EVENT_AT(11, "\"Records\" is not an array")},
    {BYTES("{\"Records\":null}"), NOT_EVENT_AT(11, "\"Records\" is not an array")},
    {BYTES("{\"Records\": \"[]\"}"), NOT_EVENT_AT(12, "\"Records\" is not an array")},
    {BYTES("{\"Records\":[],\"Records\":[]}"), NOT_EVENT_AT(24, "\"Records\" appears twice")},
    {BYTES("{\"Records\":[],\"Rec\\u006frds\":[]}"), NOT_EVENT_AT(29, "\"Records\" appears twice")},
    {BYTES("{\"Records\":{},\"Records\":[]}"), NOT_EVENT_AT(11, "\"Records\" is not an array")},
    {BYTES("{\"Records\":[{\"eventSource\":\"aws:sqs\"}]}"),
     NOT_EVENT_AT(11, "no record has eventSource \"aws:dynamodb\"")},
    {BYTES("{\"Records\":[1,\"x\",null]}"),
     NOT_EVENT_AT(11, "no record has eventSource \"aws:dynamodb\"")},
    {BYTES("{\"Records\":[{\"eventSource\":\"aws:kinesis\",\"dynamodb\":{}},{}]}"),
     NOT_EVENT_AT(11, "no record has eventSource \"aws:dynamodb\"")},
    {BYTES("{\"x\":1,\"Records\":[{\"eventSource\":\"AWS:DYNAMODB\"}]}"),
     NOT_EVENT_AT(17, "no record has eventSource \"aws:dynamodb\"")},
    /* eventSource is compared unescaped: an escape spelling another source is not one. */
    {BYTES("{\"Records\":[{\"eventSource\":\"aws\\u003asqs\"}]}"),
     NOT_EVENT_AT(11, "no record has eventSource \"aws:dynamodb\"")},
    {BYTES("{\"Records\":[{\"eventSource\":\"aws\\u003aDynamoDB\"}]}"),
     NOT_EVENT_AT(11, "no record has eventSource \"aws:dynamodb\"")},
    {BYTES("{\"Records\":[{\"eventSource\":\"aws:dynamodb\\u0000\"}]}"),
     NOT_EVENT_AT(11, "no record has eventSource \"aws:dynamodb\"")},
    /* Escapes. */
    {BYTES(P "\"\\q\"}"), JSON_AT(1, 20, 19, "invalid escape in string")},
    {BYTES(P "\"\\U0041\"}"), JSON_AT(1, 20, 19, "invalid escape in string")},
    {BYTES(P "\"\\x41\"}"), JSON_AT(1, 20, 19, "invalid escape in string")},
    {BYTES(P "\"\\'\"}"), JSON_AT(1, 20, 19, "invalid escape in string")},
    {BYTES(P "\"ab\\a\"}"), JSON_AT(1, 22, 21, "invalid escape in string")},
    {BYTES(P "\"\\u12G4\"}"), JSON_AT(1, 20, 19, "invalid \\u escape")},
    {BYTES(P "\"\\u-123\"}"), JSON_AT(1, 20, 19, "invalid \\u escape")},
    {BYTES("{\"\\a\":1}"), JSON_AT(1, 3, 2, "invalid escape in string")},
    /* Not UTF-8: overlongs, surrogates, past U+10FFFF, stray and missing continuations. */
    {BYTES(P "\"\xC0\x80\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xC1\xBF\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xE0\x80\x80\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xF0\x80\x80\x80\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xED\xA0\x80\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xED\xBF\xBF\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xF4\x90\x80\x80\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xF5\x80\x80\x80\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xFF\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\x80\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xE2\x82\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xE2\x82"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"\xF0\x9F\x98\"}"), JSON_AT(1, 20, 19, "invalid UTF-8")},
    {BYTES(P "\"a\xC3(\"}"), JSON_AT(1, 21, 20, "invalid UTF-8")},
    {BYTES("{\"\xC3" "\":1}"), JSON_AT(1, 3, 2, "invalid UTF-8")},
    {BYTES(TO_S "\"\xC0\x80\"}}}}]}"), JSON_AT(1, 44, 43, "invalid UTF-8")},
    {BYTES(P "\xC3\xA9}"), JSON_AT(1, 19, 18, "unexpected character")},
    /* Raw control characters in strings. */
    {BYTES(P "\"a\tb\"}"), JSON_AT(1, 21, 20, "control character in string")},
    {BYTES(P "\"\x01\"}"), JSON_AT(1, 20, 19, "control character in string")},
    {BYTES(P "\"\x1F\"}"), JSON_AT(1, 20, 19, "control character in string")},
    {BYTES(P "\"a\0b\"}"), JSON_AT(1, 21, 20, "control character in string")},
    {BYTES(P "\"a\nb\"}"), JSON_AT(1, 21, 20, "control character in string")},
    {BYTES("{\"a\tb\":1}"), JSON_AT(1, 4, 3, "control character in string")},
    /* Unpaired surrogate escapes. */
    {BYTES(P "\"\\uD800\"}"), JSON_AT(1, 20, 19, "high surrogate not followed by a low one")},
    {BYTES(P "\"\\uDC00\"}"), JSON_AT(1, 20, 19, "lone low surrogate in \\u escape")},
    {BYTES(P "\"\\uDFFF\"}"), JSON_AT(1, 20, 19, "lone low surrogate in \\u escape")},
    {BYTES(P "\"\\uD800\\u0041\"}"),
     JSON_AT(1, 20, 19, "high surrogate not followed by a low one")},
    {BYTES(P "\"\\uD800\\uD800\"}"),
     JSON_AT(1, 20, 19, "high surrogate not followed by a low one")},
    {BYTES(P "\"\\uD800\\n\"}"), JSON_AT(1, 20, 19, "high surrogate not followed by a low one")},
    {BYTES(P "\"x\\udbff\"}"), JSON_AT(1, 21, 20, "high surrogate not followed by a low one")},
    {BYTES(P "\"\\uD800"), JSON_AT(1, 20, 19, "high surrogate not followed by a low one")},
    {BYTES(P "\"\\ud83d\\ude00\\ude00\"}"), JSON_AT(1, 32, 31, "lone low surrogate in \\u escape")},
    /* Numbers outside RFC 8259's grammar. */
    {BYTES(P "-01}"), JSON_AT(1, 19, 18, "invalid number")},
    {BYTES(P "01}"), JSON_AT(1, 19, 18, "invalid number")},
    {BYTES(P "1.}"), JSON_AT(1, 19, 18, "invalid number: no digit after '.'")},
    {BYTES(P ".5}"), JSON_AT(1, 19, 18, "unexpected character")},
    {BYTES(P "1e}"), JSON_AT(1, 19, 18, "invalid number: no digit in exponent")},
    {BYTES(P "1.5e+}"), JSON_AT(1, 19, 18, "invalid number: no digit in exponent")},
    {BYTES(P "1E+-2}"), JSON_AT(1, 19, 18, "invalid number: no digit in exponent")},
    {BYTES(P "--1}"), JSON_AT(1, 19, 18, "invalid number")},
    {BYTES(P "+1}"), JSON_AT(1, 19, 18, "unexpected character")},
    {BYTES(P "-}"), JSON_AT(1, 19, 18, "invalid number")},
    {BYTES(P "-.5}"), JSON_AT(1, 19, 18, "invalid number")},
    {BYTES(P "1e5.3}"), JSON_AT(1, 19, 18, "invalid number")},
    {BYTES(P "1.5.2}"), JSON_AT(1, 19, 18, "invalid number")},
    {BYTES(P "0x1}"), JSON_AT(1, 20, 19, "expected ',' or '}'")},
    {BYTES(P "NaN}"), JSON_AT(1, 19, 18, "unexpected character")},
    {BYTES(P "Infinity}"), JSON_AT(1, 19, 18, "unexpected character")},
    {BYTES(P "-Infinity}"), JSON_AT(1, 19, 18, "invalid number")},
    {BYTES(TO_TIME "01}}]}"), JSON_AT(1, 56, 55, "invalid number")},
    {BYTES(TO_TIME "1.}}]}"), JSON_AT(1, 56, 55, "invalid number: no digit after '.'")},
    {BYTES(TO_TIME "-}}]}"), JSON_AT(1, 56, 55, "invalid number")},
    /* Literals. */
    {BYTES(P "tru}"), JSON_AT(1, 19, 18, "invalid literal")},
    {BYTES(P "nul}"), JSON_AT(1, 19, 18, "invalid literal")},
    {BYTES(P "fals}"), JSON_AT(1, 19, 18, "invalid literal")},
    {BYTES(P "True}"), JSON_AT(1, 19, 18, "unexpected character")},
    {BYTES(P "falsey}"), JSON_AT(1, 24, 23, "expected ',' or '}'")},
    {BYTES(P "nulll}"), JSON_AT(1, 23, 22, "expected ',' or '}'")},
    {BYTES(TO_BOOL "tru}}}}]}"), JSON_AT(1, 46, 45, "invalid literal")},
    {BYTES(TO_NULL "nul}}}}]}"), JSON_AT(1, 46, 45, "invalid literal")},
    /* Structure. */
    {BYTES(P "1,}"), JSON_AT(1, 21, 20, "expected a string key")},
    {BYTES("{\"Records\":[1,]}"), JSON_AT(1, 15, 14, "unexpected character")},
    {BYTES("{\"Records\":[],}"), JSON_AT(1, 15, 14, "expected a string key")},
    {BYTES("{'Records':[]}"), JSON_AT(1, 2, 1, "expected a string key")},
    {BYTES("{\"Records\" []}"), JSON_AT(1, 12, 11, "expected ':'")},
    {BYTES("{\"Records\":[] \"x\":1}"), JSON_AT(1, 15, 14, "expected ',' or '}'")},
    {BYTES("{\"Records\":[{}{}]}"), JSON_AT(1, 15, 14, "expected ',' or ']'")},
    {BYTES("{\"Records\":[{\"eventID\" \"x\"}]}"), JSON_AT(1, 24, 23, "expected ':'")},
    {BYTES("{\"Records\":[]]"), JSON_AT(1, 14, 13, "expected ',' or '}'")},
    {BYTES("]"), JSON_AT(1, 1, 0, "unexpected character")},
    {BYTES(P "[1 2]}"), JSON_AT(1, 22, 21, "expected ',' or ']'")},
    {BYTES(P "[,1]}"), JSON_AT(1, 20, 19, "unexpected character")},
    {BYTES(P "{\"a\" 1}}"), JSON_AT(1, 24, 23, "expected ':'")},
    {BYTES(P "{\"a\":1,}}"), JSON_AT(1, 26, 25, "expected a string key")},
    {BYTES(P "{1:1}}"), JSON_AT(1, 20, 19, "expected a string key")},
    {BYTES(P "{,}}"), JSON_AT(1, 20, 19, "expected a string key")},
};

static void expect_failure(const char *json, size_t len, as_status status, size_t offset,
                           const char *message)
{
    decoded d;
    decode_with(&d, json, len);
    if (d.status != status || d.err.offset != offset || strcmp(d.err.message, message) != 0) {
        fail_msg("input \"%.*s\" (%zu bytes):\n  got  %s, offset %zu: %s\n  want %s, offset "
                 "%zu: %s",
                 (int)(len > 120 ? 120 : len), json, len, as_status_name(d.status),
                 d.err.offset, d.err.message, as_status_name(status), offset, message);
    }
    release(&d);
}

static void test_bad_events(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD_EVENTS / sizeof BAD_EVENTS[0]; i++) {
        const bad_event *c = &BAD_EVENTS[i];
        expect_failure(c->json, c->len, c->status, c->offset, c->message);
        /* The caller's error struct is optional, and the status is the same without it:
         * the handler tells InvalidEvent from other failures by it. */
        as_event *ev = (as_event *)&not_set;
        as_status s = as_event_decode(c->json, c->len, &ev, NULL);
        if (s != c->status) {
            fail_msg("\"%.*s\" without an as_error: %s, want %s", (int)c->len, c->json,
                     as_status_name(s), as_status_name(c->status));
        }
        assert_null(ev);
    }
}

/* A document built as prefix, `open` n times, middle, `close` n times, suffix. */
static as_buf nested(const char *prefix, const char *open, size_t n, const char *middle,
                     const char *close, const char *suffix)
{
    as_buf b = AS_BUF_INIT;
    as_buf_append_str(&b, prefix);
    for (size_t i = 0; i < n; i++) {
        as_buf_append_str(&b, open);
    }
    as_buf_append_str(&b, middle);
    for (size_t i = 0; i < n; i++) {
        as_buf_append_str(&b, close);
    }
    as_buf_append_str(&b, suffix);
    assert_int_equal(as_buf_status(&b), AS_OK);
    return b;
}

/* Where nesting first passes 2048 levels, or SIZE_MAX. Like jansson, a scalar value
 * counts as one level below its container, so "[1]" is 2 levels deep. */
static size_t first_too_deep(const char *s, size_t len)
{
    static char kinds[4096]; /* the open containers: '[' or '{' */
    size_t depth = 0;
    bool in_string = false;
    char prev = '\0'; /* the last significant byte outside strings */
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            continue;
        }
        bool value_position = prev == '\0' || prev == ':' || prev == '[' ||
                              (prev == ',' && depth > 0 && kinds[depth - 1] == '[');
        if (c == '{' || c == '[') {
            if (++depth > 2048) {
                return i;
            }
            kinds[depth - 1] = c;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (value_position && c != ',' && depth + 1 > 2048) {
            return i; /* a string, number or literal one level too deep */
        }
        in_string = c == '"';
        prev = c;
    }
    return SIZE_MAX;
}

/* Decodes the document at n - 1 and n levels of `open`: the first must stay within
 * 2048 levels and decode with `ok_status`, the second must fail where it passes them. */
static void expect_depth_limit(const char *prefix, const char *open, size_t n,
                               const char *middle, const char *close, const char *suffix,
                               as_status ok_status)
{
    as_buf fits = nested(prefix, open, n - 1, middle, close, suffix);
    as_buf deep = nested(prefix, open, n, middle, close, suffix);
    assert_int_equal(first_too_deep(fits.data, fits.len), SIZE_MAX);
    size_t at = first_too_deep(deep.data, deep.len);
    assert_int_not_equal(at, SIZE_MAX);

    decoded d;
    decode_with(&d, fits.data, fits.len);
    if (d.status != ok_status) {
        fail_msg("%zu x \"%s\" after \"%s\": %s", n - 1, open, prefix, d.err.message);
    }
    release(&d);

    char message[128];
    snprintf(message, sizeof message,
             "invalid JSON at line 1, column %zu (byte %zu): nesting deeper than 2048 levels",
             at + 1, at);
    expect_failure(deep.data, deep.len, AS_ERR_JSON, at, message);
    as_buf_free(&fits);
    as_buf_free(&deep);
}

static void test_json_depth(void **state)
{
    (void)state;
    /* Top level: 2048 arrays are JSON (but not an event), 2049 are not. */
    expect_depth_limit("", "[", 2049, "", "]", "", AS_ERR_NOT_EVENT);
    /* The event object is level 1. */
    expect_depth_limit(P, "[", 2048, "", "]", "}", AS_OK);
    expect_depth_limit(P, "{\"a\":", 2047, "1", "}", "}", AS_OK); /* 1 is a level too */
    /* Inside a record (levels 1 to 3 are the event, Records and the record). */
    expect_depth_limit("{\"Records\":[{\"eventSource\":\"aws:dynamodb\",\"x\":", "[", 2046, "",
                       "]", "}]}", AS_OK);
    expect_depth_limit("{\"Records\":[{\"eventSource\":\"aws:dynamodb\",\"x\":", "{\"a\":", 2045,
                       "null", "}", "}]}", AS_OK);
    /* Inside userIdentity, and inside an attribute value already past DynamoDB's 32
     * levels, where the decoder only skips. */
    expect_depth_limit("{\"Records\":[{\"eventSource\":\"aws:dynamodb\",\"userIdentity\":{\"x\":",
                       "[", 2045, "", "]", "}}]}", AS_OK);
    expect_depth_limit("{\"Records\":[{\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"NewImage\":"
                       "{\"v\":",
                       "{\"L\":[", 1021, "{\"NULL\":true}", "]}", "}}}]}", AS_OK);
    expect_depth_limit("{\"Records\":[{\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"Keys\":"
                       "{\"v\":",
                       "{\"M\":{\"a\":", 1021, "{\"NULL\":true}", "}}", "}}}]}", AS_OK);
}

/* ---- 2. Records that break DynamoDB's rules ------------------------------------------------ */

#define ID "\"eventID\":\"e1\""
#define INS "\"eventName\":\"INSERT\""
#define SRC "\"eventSource\":\"aws:dynamodb\""
#define SEQ "\"SequenceNumber\":\"1\""
#define KEYS "\"Keys\":{\"k\":{\"S\":\"a\"}}"
#define DDB(fields) "\"dynamodb\":{" fields "}"
#define REC(fields) "{" fields "}"
/* A record whose dynamodb object holds `fields`. */
#define WITH_DDB(fields) REC(ID "," INS "," SRC "," DDB(fields))
#define WITH_KEYS(keys) WITH_DDB(SEQ ",\"Keys\":" keys)
/* A record whose NewImage has attribute "v" = the value. */
#define VALUE_PREFIX                                                                           \
    "{" ID "," INS "," SRC ",\"dynamodb\":{" SEQ "," KEYS                                     \
    ",\"NewImage\":{\"k\":{\"S\":\"a\"},\"v\":"
#define VALUE_SUFFIX "}}}"
#define WITH_VALUE(v) VALUE_PREFIX v VALUE_SUFFIX
#define AT_V "Records[0].dynamodb.NewImage.v"
#define E1 "e1"

/* The record that follows every bad one, and the one that precedes it in the second pass. */
#define NEXT                                                                                   \
    REC("\"eventID\":\"next\",\"eventName\":\"REMOVE\"," SRC ","                               \
        DDB("\"SequenceNumber\":\"2\",\"Keys\":{\"id\":{\"S\":\"n1\"}},"                      \
            "\"OldImage\":{\"id\":{\"S\":\"n1\"},\"z\":{\"N\":\"7\"}}"))
#define FIRST                                                                                  \
    REC("\"eventID\":\"first\"," INS "," SRC ","                                                 \
        DDB(SEQ "," KEYS ",\"NewImage\":{\"k\":{\"S\":\"a\"}}"))

#define D10 "1234567890"

typedef struct bad_record {
    const char *record;
    const char *event_id;   /* what the record's eventID span must still hold, or NULL */
    const char *error;
} bad_record;

static const bad_record BAD_RECORDS[] = {
    /* The record itself. */
    {"1", NULL, "Records[0]: record is not an object"},
    {"[]", NULL, "Records[0]: record is not an object"},
    {"\"x\"", NULL, "Records[0]: record is not an object"},
    {"null", NULL, "Records[0]: record is not an object"},
    /* Missing, empty or mistyped fields. */
    {REC(INS "," SRC "," DDB(SEQ "," KEYS)), NULL, "Records[0].eventID: is missing"},
    {REC(ID "," SRC "," DDB(SEQ "," KEYS)), E1, "Records[0].eventName: is missing"},
    {REC(ID "," INS "," DDB(SEQ "," KEYS)), E1, "Records[0].eventSource: is missing"},
    {REC(ID "," INS "," SRC), E1, "Records[0].dynamodb: is missing"},
    {WITH_DDB(KEYS), E1, "Records[0].dynamodb.SequenceNumber: is missing"},
    {WITH_DDB(SEQ), E1, "Records[0].dynamodb.Keys: is missing"},
    {WITH_DDB("\"SequenceNumber\":\"\"," KEYS), E1, "Records[0].dynamodb.SequenceNumber: is empty"},
    {WITH_DDB("\"SequenceNumber\":1," KEYS), E1,
     "Records[0].dynamodb.SequenceNumber: is not a string"},
    {REC(ID ",\"eventName\":\"UPSERT\"," SRC "," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventName: \"UPSERT\" is not INSERT, MODIFY or REMOVE"},
    {REC(ID ",\"eventName\":\"insert\"," SRC "," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventName: \"insert\" is not INSERT, MODIFY or REMOVE"},
    {REC(ID ",\"eventName\":1," SRC "," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventName: is not a string"},
    {REC(ID "," INS ",\"eventSource\":\"aws:sqs\"," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventSource: is \"aws:sqs\", not \"aws:dynamodb\""},
    {REC("\"eventID\":5," INS "," SRC "," DDB(SEQ "," KEYS)), NULL,
     "Records[0].eventID: is not a string"},
    /* Every record with an empty eventID would share one audit id. */
    {REC("\"eventID\":\"\"," INS "," SRC "," DDB(SEQ "," KEYS)), "",
     "Records[0].eventID: is empty"},
    /* Required fields given as null are faults, as before; only optional ones may be. */
    {REC("\"eventID\":null," INS "," SRC "," DDB(SEQ "," KEYS)), NULL,
     "Records[0].eventID: is not a string"},
    {REC(ID ",\"eventName\":null," SRC "," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventName: is not a string"},
    {REC(ID "," INS ",\"eventSource\":null," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventSource: is not a string"},
    {REC(ID "," INS "," SRC ",\"dynamodb\":null"), E1, "Records[0].dynamodb: is not an object"},
    {WITH_DDB("\"SequenceNumber\":null," KEYS), E1,
     "Records[0].dynamodb.SequenceNumber: is not a string"},
    /* eventName and eventSource compare unescaped, and are quoted as received. */
    {REC(ID ",\"eventName\":\"UPS\\u0045RT\"," SRC "," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventName: \"UPS\\u0045RT\" is not INSERT, MODIFY or REMOVE"},
    {REC(ID ",\"eventName\":\"INSERT\\u0000\"," SRC "," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventName: \"INSERT\\u0000\" is not INSERT, MODIFY or REMOVE"},
    {REC(ID "," INS ",\"eventSource\":\"aws\\u003asqs\"," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventSource: is \"aws\\u003asqs\", not \"aws:dynamodb\""},
    {REC(ID "," INS "," SRC ",\"eventSourceARN\":5," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventSourceARN: is not a string"},
    {REC(ID "," INS "," SRC ",\"userIdentity\":\"x\"," DDB(SEQ "," KEYS)), E1,
     "Records[0].userIdentity: is not an object"},
    {REC(ID "," INS "," SRC ",\"userIdentity\":{\"type\":1}," DDB(SEQ "," KEYS)), E1,
     "Records[0].userIdentity.type: is not a string"},
    {REC(ID "," INS "," SRC ",\"userIdentity\":{\"principalId\":7}," DDB(SEQ "," KEYS)), E1,
     "Records[0].userIdentity.principalId: is not a string"},
    {REC(ID "," INS "," SRC ",\"dynamodb\":\"x\""), E1, "Records[0].dynamodb: is not an object"},
    {WITH_DDB(SEQ "," KEYS ",\"StreamViewType\":1"), E1,
     "Records[0].dynamodb.StreamViewType: is not a string"},
    /* ApproximateCreationDateTime. */
    {WITH_DDB("\"ApproximateCreationDateTime\":\"1480642020\"," SEQ "," KEYS), E1,
     "Records[0].dynamodb.ApproximateCreationDateTime: is not a number"},
    {WITH_DDB("\"ApproximateCreationDateTime\":-1," SEQ "," KEYS), E1,
     "Records[0].dynamodb.ApproximateCreationDateTime: before 1970-01-01T00:00:00.000Z"},
    {WITH_DDB("\"ApproximateCreationDateTime\":-0.001," SEQ "," KEYS), E1,
     "Records[0].dynamodb.ApproximateCreationDateTime: before 1970-01-01T00:00:00.000Z"},
    {WITH_DDB("\"ApproximateCreationDateTime\":253402300800," SEQ "," KEYS), E1,
     "Records[0].dynamodb.ApproximateCreationDateTime: after 9999-12-31T23:59:59.999Z"},
    {WITH_DDB("\"ApproximateCreationDateTime\":2.534023008E11," SEQ "," KEYS), E1,
     "Records[0].dynamodb.ApproximateCreationDateTime: after 9999-12-31T23:59:59.999Z"},
    {WITH_DDB("\"ApproximateCreationDateTime\":1e400," SEQ "," KEYS), E1,
     "Records[0].dynamodb.ApproximateCreationDateTime: after 9999-12-31T23:59:59.999Z"},
    /* Keys, NewImage and OldImage: the path names them under dynamodb. A duplicated or
     * mistyped Keys is a Keys fault, so the record keeps no Keys (see keeps_keys). */
    {WITH_DDB(SEQ "," KEYS "," KEYS), E1, "Records[0].dynamodb.Keys: appears twice"},
    {WITH_DDB(SEQ ",\"Keys\":\"x\""), E1, "Records[0].dynamodb.Keys: is not an object"},
    {WITH_DDB(SEQ ",\"Keys\":[{\"k\":{\"S\":\"a\"}}]"), E1, "Records[0].dynamodb.Keys: is not an object"},
    {WITH_DDB(SEQ "," KEYS ",\"NewImage\":{},\"NewImage\":{}"), E1,
     "Records[0].dynamodb.NewImage: appears twice"},
    {WITH_DDB(SEQ "," KEYS ",\"NewImage\":{},\"NewImage\":null"), E1,
     "Records[0].dynamodb.NewImage: appears twice"},
    /* A null counts as absent, but still as a copy: either order of a repeat faults. */
    {WITH_DDB(SEQ "," KEYS ",\"NewImage\":null,\"NewImage\":{}"), E1,
     "Records[0].dynamodb.NewImage: appears twice"},
    {WITH_DDB(SEQ "," KEYS ",\"ApproximateCreationDateTime\":1,\"ApproximateCreationDateTime\":null"),
     E1, "Records[0].dynamodb.ApproximateCreationDateTime: appears twice"},
    {WITH_DDB(SEQ "," KEYS ",\"StreamViewType\":null,\"StreamViewType\":\"KEYS_ONLY\""), E1,
     "Records[0].dynamodb.StreamViewType: appears twice"},
    {REC(ID "," INS "," SRC ",\"eventSourceARN\":null,\"eventSourceARN\":null," DDB(SEQ "," KEYS)),
     E1, "Records[0].eventSourceARN: appears twice"},
    {REC(ID "," INS "," SRC ",\"userIdentity\":null,\"userIdentity\":{}," DDB(SEQ "," KEYS)), E1,
     "Records[0].userIdentity: appears twice"},
    /* Keys are required: null is not an absent Keys but a wrong one. */
    {WITH_DDB(SEQ ",\"Keys\":null"), E1, "Records[0].dynamodb.Keys: is not an object"},
    {WITH_DDB(SEQ "," KEYS ",\"NewImage\":true"), E1,
     "Records[0].dynamodb.NewImage: is not an object"},
    {WITH_DDB(SEQ "," KEYS ",\"OldImage\":[]"), E1,
     "Records[0].dynamodb.OldImage: is not an object"},
    {WITH_DDB(SEQ "," KEYS ",\"OldImage\":{},\"OldImage\":{}"), E1,
     "Records[0].dynamodb.OldImage: appears twice"},
    {WITH_DDB(SEQ "," KEYS ",\"Old\\u0049mage\":\"x\""), E1,
     "Records[0].dynamodb.OldImage: is not an object"},
    /* Keys. */
    {WITH_KEYS("{}"), E1, "Records[0].dynamodb.Keys: is empty"},
    {WITH_KEYS("{\"k\":{\"M\":{}}}"), E1,
     "Records[0].dynamodb.Keys: key attribute \"k\" has type M, not S, N or B"},
    {WITH_KEYS("{\"k\":{\"BOOL\":true}}"), E1,
     "Records[0].dynamodb.Keys: key attribute \"k\" has type BOOL, not S, N or B"},
    {WITH_KEYS("{\"a\":{\"S\":\"x\"},\"k\":{\"SS\":[\"x\"]}}"), E1,
     "Records[0].dynamodb.Keys: key attribute \"k\" has type SS, not S, N or B"},
    {WITH_KEYS("{\"k\":{\"S\":\"\"}}"), E1,
     "Records[0].dynamodb.Keys: key attribute \"k\" is empty"},
    {WITH_KEYS("{\"k\":{\"B\":\"\"}}"), E1,
     "Records[0].dynamodb.Keys: key attribute \"k\" is empty"},
    {WITH_KEYS("{\"k\":{\"N\":\"x\"}}"), E1, "Records[0].dynamodb.Keys.k: N \"x\": not a number"},
    {WITH_KEYS("{\"k\":{\"S\":\"a\"},\"k\":{\"S\":\"b\"}}"), E1,
     "Records[0].dynamodb.Keys: attribute name \"k\" appears twice"},
    /* Attribute values that are not {"T": payload}. */
    {WITH_VALUE("\"x\""), E1, AT_V ": attribute value is not an object"},
    {WITH_VALUE("[]"), E1, AT_V ": attribute value is not an object"},
    {WITH_VALUE("null"), E1, AT_V ": attribute value is not an object"},
    {WITH_VALUE("{}"), E1, AT_V ": attribute value has no type"},
    {WITH_VALUE("{\"S\":\"a\",\"N\":\"1\"}"), E1, AT_V ": attribute value has more than one type"},
    {WITH_VALUE("{\"S\":\"a\",\"S\":\"b\"}"), E1, AT_V ": attribute value has more than one type"},
    {WITH_VALUE("{\"X\":\"a\"}"), E1, AT_V ": unknown type \"X\""},
    {WITH_VALUE("{\"s\":\"a\"}"), E1, AT_V ": unknown type \"s\""},
    {WITH_VALUE("{\"SSS\":[\"a\"]}"), E1, AT_V ": unknown type \"SSS\""},
    /* S, N, B. */
    {WITH_VALUE("{\"S\":1}"), E1, AT_V ".S: value is not a string"},
    {WITH_VALUE("{\"S\":null}"), E1, AT_V ".S: value is not a string"},
    {WITH_VALUE("{\"N\":12}"), E1, AT_V ".N: value is not a string"},
    {WITH_VALUE("{\"N\":\"12a\"}"), E1, AT_V ": N \"12a\": not a number"},
    {WITH_VALUE("{\"N\":\"\"}"), E1, AT_V ": N \"\": not a number"},
    {WITH_VALUE("{\"N\":\" 1\"}"), E1, AT_V ": N \" 1\": not a number"},
    {WITH_VALUE("{\"N\":\"0x1\"}"), E1, AT_V ": N \"0x1\": not a number"},
    {WITH_VALUE("{\"N\":\"NaN\"}"), E1, AT_V ": N \"NaN\": not a number"},
    {WITH_VALUE("{\"N\":\"1e\"}"), E1, AT_V ": N \"1e\": not a number"},
    {WITH_VALUE("{\"N\":\"123456789012345678901234567890123456789\"}"), E1,
     AT_V ": N \"123456789012345678901234567890123456789\": more than 38 significant digits"},
    {WITH_VALUE("{\"N\":\"1.23456789012345678901234567890123456789\"}"), E1,
     AT_V ": N \"1.23456789012345678901234567890123456789\": more than 38 significant digits"},
    {WITH_VALUE("{\"N\":\"" D10 D10 D10 D10 D10 D10 D10 "\"}"), E1,
     AT_V ": N \"" D10 D10 D10 D10 D10 D10 "1234...\": more than 38 significant digits"},
    {WITH_VALUE("{\"N\":\"1E126\"}"), E1,
     AT_V ": N \"1E126\": magnitude above 9.9999999999999999999999999999999999999E+125"},
    {WITH_VALUE("{\"N\":\"-10E125\"}"), E1,
     AT_V ": N \"-10E125\": magnitude above 9.9999999999999999999999999999999999999E+125"},
    {WITH_VALUE("{\"N\":\"1E-131\"}"), E1, AT_V ": N \"1E-131\": magnitude below 1E-130"},
    {WITH_VALUE("{\"N\":\"-0.9E-130\"}"), E1, AT_V ": N \"-0.9E-130\": magnitude below 1E-130"},
    {WITH_VALUE("{\"B\":1}"), E1, AT_V ".B: value is not a string"},
    {WITH_VALUE("{\"B\":\"abc\"}"), E1, AT_V ": B \"abc\": not valid base64 (standard alphabet, padded)"},
    {WITH_VALUE("{\"B\":\"Zm9vYg\"}"), E1, AT_V ": B \"Zm9vYg\": not valid base64 (standard alphabet, padded)"},
    {WITH_VALUE("{\"B\":\"Zm9v-_==\"}"), E1, AT_V ": B \"Zm9v-_==\": not valid base64 (standard alphabet, padded)"},
    {WITH_VALUE("{\"B\":\"Zm9v YmFy\"}"), E1, AT_V ": B \"Zm9v YmFy\": not valid base64 (standard alphabet, padded)"},
    /* BOOL, NULL. */
    {WITH_VALUE("{\"BOOL\":\"yes\"}"), E1, AT_V ".BOOL: value is not true or false"},
    {WITH_VALUE("{\"BOOL\":null}"), E1, AT_V ".BOOL: value is not true or false"},
    {WITH_VALUE("{\"BOOL\":1}"), E1, AT_V ".BOOL: value is not true or false"},
    {WITH_VALUE("{\"NULL\":false}"), E1, AT_V ".NULL: NULL must be true"},
    {WITH_VALUE("{\"NULL\":null}"), E1, AT_V ".NULL: NULL must be true"},
    {WITH_VALUE("{\"NULL\":\"true\"}"), E1, AT_V ".NULL: NULL must be true"},
    {WITH_VALUE("{\"NULL\":1}"), E1, AT_V ".NULL: NULL must be true"},
    {WITH_VALUE("{\"NULL\":{}}"), E1, AT_V ".NULL: NULL must be true"},
    {WITH_VALUE("{\"BOOL\":\"true\"}"), E1, AT_V ".BOOL: value is not true or false"},
    /* Sets. */
    {WITH_VALUE("{\"SS\":[]}"), E1, AT_V ".SS: empty set"},
    {WITH_VALUE("{\"NS\":[]}"), E1, AT_V ".NS: empty set"},
    {WITH_VALUE("{\"BS\":[]}"), E1, AT_V ".BS: empty set"},
    {WITH_VALUE("{\"SS\":\"a\"}"), E1, AT_V ".SS: value is not an array"},
    {WITH_VALUE("{\"NS\":{}}"), E1, AT_V ".NS: value is not an array"},
    {WITH_VALUE("{\"SS\":[\"a\",\"a\"]}"), E1, AT_V ".SS: duplicate member \"a\""},
    {WITH_VALUE("{\"SS\":[\"a\",\"b\",\"\\u0061\"]}"), E1,
     AT_V ".SS: duplicate member \"\\u0061\""},
    {WITH_VALUE("{\"NS\":[\"1\",\"1\"]}"), E1, AT_V ".NS: duplicate member \"1\""},
    {WITH_VALUE("{\"NS\":[\"1\",\"1.0\"]}"), E1, AT_V ".NS: duplicate member \"1.0\""},
    {WITH_VALUE("{\"NS\":[\"0\",\"-0\"]}"), E1, AT_V ".NS: duplicate member \"-0\""},
    {WITH_VALUE("{\"BS\":[\"AAEqQQ==\",\"AAEqQQ==\"]}"), E1,
     AT_V ".BS: duplicate member \"AAEqQQ==\""},
    {WITH_VALUE("{\"BS\":[\"\\/w==\",\"/w==\"]}"), E1, AT_V ".BS: duplicate member \"/w==\""},
    {WITH_VALUE("{\"BS\":[\"QQ==\",\"QR==\"]}"), E1, AT_V ".BS: duplicate member \"QR==\""},
    {WITH_VALUE("{\"SS\":[\"a\",1]}"), E1, AT_V ".SS[1]: is not a string"},
    {WITH_VALUE("{\"NS\":[{},\"1\"]}"), E1, AT_V ".NS[0]: is not a string"},
    {WITH_VALUE("{\"BS\":[\"AA==\",\"AQ==\",null]}"), E1, AT_V ".BS[2]: is not a string"},
    {WITH_VALUE("{\"M\":{\"s\":{\"SS\":[\"a\",[\"b\"]]}}}"), E1, AT_V ".s.SS[1]: is not a string"},
    {WITH_VALUE("{\"L\":[{\"S\":\"x\"},{\"NS\":[\"1\",\"2\",true]}]}"), E1,
     AT_V "[1].NS[2]: is not a string"},
    {WITH_VALUE("{\"NS\":[\"1\",\"x\"]}"), E1, AT_V ".NS[1]: N \"x\": not a number"},
    {WITH_VALUE("{\"NS\":[\"1E126\"]}"), E1,
     AT_V ".NS[0]: N \"1E126\": magnitude above 9.9999999999999999999999999999999999999E+125"},
    {WITH_VALUE("{\"BS\":[\"AA==\",\"A\"]}"), E1, AT_V ".BS[1]: B \"A\": not valid base64 (standard alphabet, padded)"},
    /* M and L. */
    {WITH_VALUE("{\"M\":[]}"), E1, AT_V ".M: value is not an object"},
    {WITH_VALUE("{\"L\":{}}"), E1, AT_V ".L: value is not an array"},
    {WITH_VALUE("{\"M\":{\"a\":{\"S\":\"x\"},\"a\":{\"S\":\"y\"}}}"), E1,
     AT_V ": attribute name \"a\" appears twice"},
    {WITH_VALUE("{\"M\":{\"\\u0061\":{\"S\":\"x\"},\"a\":{\"S\":\"y\"}}}"), E1,
     AT_V ": attribute name \"a\" appears twice"},
    {WITH_VALUE("{\"M\":{\"a\":{\"S\":\"x\"},\"\\u0061\":{\"S\":\"y\"}}}"), E1,
     AT_V ": attribute name \"\\u0061\" appears twice"},
    {WITH_VALUE("{\"NS\":[\"1\",\"1.0\",\"0\"]}"), E1, AT_V ".NS: duplicate member \"1.0\""},
    {WITH_VALUE("{\"NS\":[\"2\",\"1\",\"3\",\"02.0\"]}"), E1,
     AT_V ".NS: duplicate member \"02.0\""},
    /* Names and texts quoted in messages appear as received, cut after 64 bytes between
     * characters and between escapes. */
    {WITH_DDB(SEQ "," KEYS ",\"NewImage\":{\"a\\\"b\":{\"N\":\"x\"}}"), E1,
     "Records[0].dynamodb.NewImage.a\\\"b: N \"x\": not a number"},
    {WITH_DDB(SEQ "," KEYS ",\"NewImage\":{\"a\\\\b\":{\"N\":\"x\"}}"), E1,
     "Records[0].dynamodb.NewImage.a\\\\b: N \"x\": not a number"},
    {WITH_VALUE("{\"N\":\"1\\\"\"}"), E1, AT_V ": N \"1\\\"\": not a number"},
    {WITH_VALUE("{\"\\u0058\":1}"), E1, AT_V ": unknown type \"\\u0058\""},
    {WITH_VALUE("{\"N\":\"" D10 D10 D10 D10 D10 D10 "123\xC3\xA9\"}"), E1,
     AT_V ": N \"" D10 D10 D10 D10 D10 D10 "123...\": not a number"},
    {WITH_VALUE("{\"X" D10 D10 D10 D10 D10 D10 "12\xC3\xA9\":1}"), E1,
     AT_V ": unknown type \"X" D10 D10 D10 D10 D10 D10 "12...\""},
    {WITH_VALUE("{\"N\":\"" D10 D10 D10 D10 D10 D10 "\\u00e91\"}"), E1,
     AT_V ": N \"" D10 D10 D10 D10 D10 D10 "...\": not a number"},
    {WITH_VALUE("{\"M\":{\"inner\":{\"L\":[{\"S\":\"ok\"},{\"N\":\"bad\"}]}}}"), E1,
     AT_V ".inner[1]: N \"bad\": not a number"},
    {WITH_VALUE("{\"L\":[{\"S\":\"ok\"},{\"NS\":[\"1\",\"1\"]}]}"), E1,
     AT_V "[1].NS: duplicate member \"1\""},
    {WITH_VALUE("{\"L\":[{\"M\":{\"x\":{\"Q\":1}}}]}"), E1, AT_V "[0].x: unknown type \"Q\""},
    {WITH_DDB(SEQ "," KEYS ",\"NewImage\":{\"k\":{\"S\":\"a\"},\"k\":{\"S\":\"a\"}}"), E1,
     "Records[0].dynamodb.NewImage: attribute name \"k\" appears twice"},
    {WITH_DDB(SEQ "," KEYS ",\"OldImage\":{\"k\":{\"S\":\"a\"},\"v\":{\"NULL\":false}}"), E1,
     "Records[0].dynamodb.OldImage.v.NULL: NULL must be true"},
    /* A field that appears twice. */
    {REC(ID "," INS ",\"eventName\":\"INSERT\"," SRC "," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventName: appears twice"},
    {REC(ID "," ID "," INS "," SRC "," DDB(SEQ "," KEYS)), E1, "Records[0].eventID: appears twice"},
    {REC(ID "," INS "," SRC "," SRC "," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventSource: appears twice"},
    {REC(ID "," INS "," SRC ",\"eventSourceARN\":\"a\",\"eventSourceARN\":\"a\","
         DDB(SEQ "," KEYS)),
     E1, "Records[0].eventSourceARN: appears twice"},
    {REC(ID "," INS "," SRC "," DDB(SEQ "," KEYS) "," DDB(SEQ "," KEYS)), E1,
     "Records[0].dynamodb: appears twice"},
    {WITH_DDB(SEQ "," SEQ "," KEYS), E1, "Records[0].dynamodb.SequenceNumber: appears twice"},
    {WITH_DDB("\"ApproximateCreationDateTime\":1,\"ApproximateCreationDateTime\":1," SEQ "," KEYS),
     E1, "Records[0].dynamodb.ApproximateCreationDateTime: appears twice"},
    {WITH_DDB(SEQ "," KEYS ",\"StreamViewType\":\"KEYS_ONLY\",\"StreamViewType\":\"KEYS_ONLY\""),
     E1, "Records[0].dynamodb.StreamViewType: appears twice"},
    {REC(ID "," INS "," SRC ",\"userIdentity\":{\"type\":\"a\",\"type\":\"a\"}," DDB(SEQ "," KEYS)),
     E1, "Records[0].userIdentity.type: appears twice"},
    /* The first fault is the one kept; names match through escapes. */
    {REC(ID ",\"eventName\":\"UPSERT\"," SRC ","
         DDB(SEQ "," KEYS ",\"NewImage\":{\"v\":{\"N\":\"x\"}}")),
     E1, "Records[0].eventName: \"UPSERT\" is not INSERT, MODIFY or REMOVE"},
    {REC(INS "," SRC "," DDB(SEQ "," KEYS ",\"NewImage\":{\"v\":{\"N\":\"x\"}}")), NULL,
     "Records[0].dynamodb.NewImage.v: N \"x\": not a number"},
    {REC(ID ",\"event\\u004eame\":\"UPSERT\"," SRC "," DDB(SEQ "," KEYS)), E1,
     "Records[0].eventName: \"UPSERT\" is not INSERT, MODIFY or REMOVE"},
    {REC(ID "," INS "," SRC ",\"dyn\\u0061modb\":{" SEQ ",\"Ke\\u0079s\":{}}"), E1,
     "Records[0].dynamodb.Keys: is empty"},
};

static void check_next(const as_record *r, size_t index)
{
    assert_int_equal(r->index, index);
    expect_text(r->error, NULL, "the record after a bad one");
    expect_span(r->event_id, "next", "next eventID");
    assert_int_equal(r->event_name, AS_EVENT_REMOVE);
    expect_span(r->sequence_number, "2", "next SequenceNumber");
    assert_null(r->new_image);
    const as_value *k = r->keys;
    assert_non_null(k);
    assert_int_equal(k->count, 1);
    assert_int_equal(k->subtree, 2);
    assert_int_equal(k->size, 3 + 2 + 2 + 1);
    expect_span(k[1].name, "id", "next key name");
    assert_int_equal(k[1].type, AS_TYPE_S);
    expect_span(k[1].text, "n1", "next key text");
    expect_span(k[1].wire, "{\"S\":\"n1\"}", "next key wire");
    const as_value *o = r->old_image;
    assert_non_null(o);
    assert_int_equal(o->count, 2);
    assert_int_equal(o->subtree, 3);
    assert_int_equal(o->size, 3 + (2 + 2 + 1) + (1 + 2 + 1));
    expect_span(o[1].name, "id", "next OldImage first name");
    expect_span(o[2].name, "z", "next OldImage second name");
    assert_int_equal(o[2].type, AS_TYPE_N);
    expect_span(o[2].text, "7", "next OldImage.z");
    assert_int_equal(o[2].size, 2);
}

/* Whether an invalid record built from these macros keeps its Keys: only when it has the
 * sound KEYS and its fault lies elsewhere. */
static bool keeps_keys(const char *record, const char *error)
{
    return strstr(record, KEYS) != NULL && strstr(error, ".Keys") == NULL;
}

/* Decodes the bad record first, before NEXT; then between FIRST and NEXT. Its error and
 * raw text must be exact, its Keys kept when sound, and the valid records around it
 * untouched. */
static void expect_bad_record(const char *record, size_t len, const char *event_id,
                              const char *error)
{
    static const char zeroth[] = "Records[0]";
    assert_memory_equal(error, zeroth, sizeof zeroth - 1);
    for (int pass = 0; pass < 2; pass++) {
        size_t index = (size_t)pass;
        as_buf in = AS_BUF_INIT;
        as_buf_append_str(&in, pass == 0 ? "{\"Records\":[" : "{\"Records\":[" FIRST ",");
        size_t at = in.len;
        as_buf_append(&in, record, len);
        as_buf_append_str(&in, "," NEXT "]}");
        assert_int_equal(as_buf_status(&in), AS_OK);
        decoded d;
        decode_with(&d, in.data, in.len);
        if (d.status != AS_OK) {
            fail_msg("record %.*s: the event failed: %s", (int)len, record, d.err.message);
        }
        assert_int_equal(as_event_record_count(d.event), index + 2);
        const as_record *bad = as_event_record(d.event, index);
        char want[1024];
        snprintf(want, sizeof want, "Records[%zu]%s", index, error + sizeof zeroth - 1);
        if (bad->error == NULL || strcmp(bad->error, want) != 0) {
            fail_msg("record %.*s:\n  got  %s\n  want %s", (int)(len > 300 ? 300 : len), record,
                     bad->error != NULL ? bad->error : "(valid)", want);
        }
        if (bad->raw.ptr != d.bytes + at || bad->raw.len != len) {
            fail_msg("record %.*s: raw is not the record as received", (int)len, record);
        }
        expect_span(bad->event_id, event_id, "the bad record's eventID");
        if (keeps_keys(record, error)) {
            if (bad->keys == NULL || bad->keys->count != 1 ||
                !span_is_str(bad->keys[1].name, "k") || !span_is_str(bad->keys[1].text, "a")) {
                fail_msg("record %.*s: its sound Keys were not kept", (int)len, record);
            }
        } else if (bad->keys != NULL) {
            fail_msg("record %.*s: keeps Keys it should not", (int)len, record);
        }
        if (pass == 1) {
            const as_record *first = as_event_record(d.event, 0);
            expect_text(first->error, NULL, "the record before a bad one");
            expect_span(first->event_id, "first", "first eventID");
            assert_non_null(first->new_image);
            assert_int_equal(first->new_image->count, 1);
        }
        check_next(as_event_record(d.event, index + 1), index + 1);
        release(&d);
        as_buf_free(&in);
    }
}

static void test_bad_records(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD_RECORDS / sizeof BAD_RECORDS[0]; i++) {
        const bad_record *c = &BAD_RECORDS[i];
        expect_bad_record(c->record, strlen(c->record), c->event_id, c->error);
    }
}

/* Decodes one record holding attribute "v" = `value` beside "k", which must be valid;
 * returns v. */
static const as_value *decode_value(decoded *d, const char *value, size_t len)
{
    as_buf in = AS_BUF_INIT;
    as_buf_append_str(&in, "{\"Records\":[" VALUE_PREFIX);
    as_buf_append(&in, value, len);
    as_buf_append_str(&in, VALUE_SUFFIX "]}");
    assert_int_equal(as_buf_status(&in), AS_OK);
    decode_with(d, in.data, in.len);
    as_buf_free(&in);
    if (d->status != AS_OK) {
        fail_msg("value %.*s: %s", (int)(len > 200 ? 200 : len), value, d->err.message);
    }
    const as_record *rec = as_event_record(d->event, 0);
    if (rec->error != NULL) {
        fail_msg("value %.*s: %s", (int)(len > 200 ? 200 : len), value, rec->error);
    }
    const as_value *img = rec->new_image;
    assert_non_null(img);
    assert_int_equal(img->count, 2);
    const as_value *v = img + 1 + img[1].subtree;
    expect_span(v->name, "v", "the attribute's name");
    return v;
}

/* A record holding attribute "v" = the value in `value`, as built. */
static as_buf record_with_value(const as_buf *value)
{
    as_buf r = AS_BUF_INIT;
    as_buf_append_str(&r, VALUE_PREFIX);
    as_buf_append(&r, value->data, value->len);
    as_buf_append_str(&r, VALUE_SUFFIX);
    assert_int_equal(as_buf_status(&r), AS_OK);
    return r;
}

static void expect_bad_value(const as_buf *value, const char *error)
{
    as_buf r = record_with_value(value);
    expect_bad_record(r.data, r.len, E1, error);
    as_buf_free(&r);
}

static void append_number(as_buf *b, const char *before, size_t n, const char *after)
{
    as_buf_append_str(b, before);
    as_buf_append_u64(b, n);
    as_buf_append_str(b, after);
}

/* Sets and maps of `n` members, then a copy of member `dup`, as {"SS": ...} and so on. */
static as_buf set_with_duplicate(const char *tag, size_t n, size_t dup)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    as_buf b = AS_BUF_INIT;
    bool map = strcmp(tag, "M") == 0;
    as_buf_append_str(&b, "{\"");
    as_buf_append_str(&b, tag);
    as_buf_append_str(&b, map ? "\":{" : "\":[");
    for (size_t i = 0; i <= n; i++) {
        size_t k = i < n ? i : dup;
        if (i > 0) {
            as_buf_append_char(&b, ',');
        }
        if (map) {
            append_number(&b, "\"k", k, "\":{\"N\":\"1\"}");
        } else if (strcmp(tag, "SS") == 0) {
            append_number(&b, "\"m", k, "\"");
        } else if (strcmp(tag, "NS") == 0) {
            append_number(&b, "\"", k, "\"");
        } else {
            /* Three bytes k >> 16, k >> 8, k: four base64 characters, no padding. */
            char q[7] = {'"', b64[k >> 18 & 63], b64[k >> 12 & 63], b64[k >> 6 & 63], b64[k & 63],
                         '"', '\0'};
            as_buf_append_str(&b, q);
        }
    }
    as_buf_append_str(&b, map ? "}}" : "]}");
    assert_int_equal(as_buf_status(&b), AS_OK);
    return b;
}

/* n levels of M (or L) down from the attribute: {"M":{"a":{"M":{"a":...{"M":{}}}}}}. */
static as_buf nested_value(bool map, size_t n)
{
    as_buf b = AS_BUF_INIT;
    for (size_t i = 1; i < n; i++) {
        as_buf_append_str(&b, map ? "{\"M\":{\"a\":" : "{\"L\":[");
    }
    as_buf_append_str(&b, map ? "{\"M\":{}}" : "{\"L\":[]}");
    for (size_t i = 1; i < n; i++) {
        as_buf_append_str(&b, map ? "}}" : "]}");
    }
    assert_int_equal(as_buf_status(&b), AS_OK);
    return b;
}

/* Bad records built by program: sets and maps large enough to be sorted rather than
 * compared pairwise, and nesting past DynamoDB's 32 levels. */
static void test_bad_records_built(void **state)
{
    (void)state;
    static const struct {
        const char *tag;
        size_t n;
        size_t dup;
        const char *error;
    } DUPS[] = {
        {"SS", 15, 3, AT_V ".SS: duplicate member \"m3\""},
        {"SS", 16, 3, AT_V ".SS: duplicate member \"m3\""},
        {"SS", 17, 0, AT_V ".SS: duplicate member \"m0\""},
        {"SS", 5000, 4999, AT_V ".SS: duplicate member \"m4999\""},
        {"BS", 16, 3, AT_V ".BS: duplicate member \"AAAD\""},
        {"BS", 5000, 0, AT_V ".BS: duplicate member \"AAAA\""},
        {"NS", 2, 1, AT_V ".NS: duplicate member \"1\""},
        {"M", 16, 3, AT_V ": attribute name \"k3\" appears twice"},
        {"M", 17, 16, AT_V ": attribute name \"k16\" appears twice"},
        {"M", 5000, 2500, AT_V ": attribute name \"k2500\" appears twice"},
    };
    for (size_t i = 0; i < sizeof DUPS / sizeof DUPS[0]; i++) {
        as_buf v = set_with_duplicate(DUPS[i].tag, DUPS[i].n, DUPS[i].dup);
        expect_bad_value(&v, DUPS[i].error);
        as_buf_free(&v);
    }

    /* NS members compare by value: 1.0 is 1, among 17 members (sorted, not pairwise). */
    as_buf ns = AS_BUF_INIT;
    as_buf_append_str(&ns, "{\"NS\":[\"1\",\"1.0\"");
    for (size_t k = 2; k <= 16; k++) {
        append_number(&ns, ",\"", k, "\"");
    }
    as_buf_append_str(&ns, "]}");
    expect_bad_value(&ns, AT_V ".NS: duplicate member \"1.0\"");
    as_buf_free(&ns);

    /* 33 levels of M, and of L: the 33rd is refused, and the path names each level. */
    as_buf want = AS_BUF_INIT;
    as_buf_append_str(&want, AT_V);
    for (int i = 0; i < 32; i++) {
        as_buf_append_str(&want, ".a");
    }
    as_buf_append_str(&want, ".M: nested deeper than DynamoDB's 32 levels");
    as_buf deep = nested_value(true, 33);
    expect_bad_value(&deep, want.data);
    as_buf_free(&deep);

    as_buf_clear(&want);
    as_buf_append_str(&want, AT_V);
    for (int i = 0; i < 32; i++) {
        as_buf_append_str(&want, "[0]");
    }
    as_buf_append_str(&want, ".L: nested deeper than DynamoDB's 32 levels");
    deep = nested_value(false, 33);
    expect_bad_value(&deep, want.data);
    as_buf_free(&deep);
    as_buf_free(&want);
}

/* ---- 3. Values extracted exactly ----------------------------------------------------------- */

/* Every attribute type, numbers at DynamoDB's edges, escapes of every kind, an escaped
 * name, whitespace inside one value only; then a second record with nothing but keys. */
static const char RICH[] =
    "{\"Records\":[{\"eventID\":\"id-\\u0031\",\"eventName\":\"MODIFY\",\"eventVersion\":\"1.1\","
    "\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","
    "\"userIdentity\":{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"},"
    "\"dynamodb\":{\"ApproximateCreationDateTime\":1.7e9,"
    "\"Keys\":{ \"pk\":{\"S\":\"k1\"},\n\"sk\":{\"N\":\"42\"} },"
    "\"NewImage\":{"
    "\"pk\":{\"S\":\"k1\"},"
    "\"sk\":{\"N\":\"42\"},"
    "\"s\":{\"S\":\"h\\u00e9\\n\\\"\\\\\\/\\u0000\\ud83d\\ude00x\"},"
    "\"raw\":{\"S\":\"h\xC3\xA9llo\xF0\x9F\x98\x80\"},"
    "\"sp1\":{\"S\":\"a b\"},"
    "\"n38\":{\"N\":\"12345678901234567890123456789012345678\"},"
    "\"nexp\":{\"N\":\"-1.50E+10\"},"
    "\"nmax\":{\"N\":\"9.9999999999999999999999999999999999999E+125\"},"
    "\"nmin\":{\"N\":\"1E-130\"},"
    "\"nneg\":{\"N\":\"-1E-130\"},"
    "\"nz\":{\"N\":\"-0\"},"
    "\"n0\":{\"N\":\"0\"},"
    "\"nfrac\":{\"N\":\"0.00123\"},"
    "\"b\":{\"B\":\"Zm9vYmFy\"},"
    "\"n\\u0061me\":{\"S\":\"x\"},"
    "\"t\":{\"BOOL\":true},"
    "\"f\":{\"BOOL\":false},"
    "\"nul\":{\"NULL\":true},"
    "\"ss\":{\"SS\":[\"a\",\"\\u00e9\"]},"
    "\"ns\":{\"NS\":[\"1\",\"10.5\",\"-3E2\"]},"
    "\"bs\":{\"BS\":[\"AA==\",\"AAE=\"]},"
    "\"m\":{\"M\":{\"x\":{\"N\":\"1\"},\"y\":{\"L\":[{\"S\":\"z\"},{\"M\":{}}]}}},"
    "\"l\":{\"L\":[]},"
    "\"sp\":{ \"M\" : { \"q\" : { \"S\" : \"w\" } } },"
    "\"e\":{\"S\":\"\"}"
    "},"
    "\"OldImage\":{\"pk\":{\"S\":\"k1\"},\"sk\":{\"N\":\"42\"},\"gone\":{\"NULL\":true}},"
    "\"SequenceNumber\":\"12\\u0033\",\"SizeBytes\":99,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"},"
    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table\\/T\\/stream\\/2024\"},"
    "{\"eventID\":\"plain\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
    "\"dynamodb\":{\"Keys\":{\"pk\":{\"S\":\"k2\"}},\"SequenceNumber\":\"124\","
    "\"StreamViewType\":\"KEYS_ONLY\"}}"
    "]}";

typedef struct want_value {
    const char *name;   /* as received; NULL for a list element or set member */
    as_type type;
    const char *wire;
    size_t text_at;     /* where text starts within wire */
    const char *text;
    uint32_t count;
    uint32_t subtree;
    uint32_t depth;
    uint32_t flags;
    uint64_t size;
} want_value;

#define TEXT_ESC AS_VALUE_TEXT_ESCAPED
#define NAME_ESC AS_VALUE_NAME_ESCAPED
#define SPACED AS_VALUE_WIRE_SPACED

/* NewImage in document order, members straight after their parent. Sizes by hand: S its
 * UTF-8 bytes after unescaping, N ceil(digits / 2) + 1, B decoded bytes, sets the sum of
 * their members, M 3 + sum(name + value + 1), L 3 + sum(value + 1). */
static const want_value NEW_IMAGE_VALUES[] = {
    {"pk", AS_TYPE_S, "{\"S\":\"k1\"}", 6, "k1", 0, 1, 0, 0, 2},
    {"sk", AS_TYPE_N, "{\"N\":\"42\"}", 6, "42", 0, 1, 0, 0, 2},
    {"s", AS_TYPE_S, "{\"S\":\"h\\u00e9\\n\\\"\\\\\\/\\u0000\\ud83d\\ude00x\"}", 6,
     "h\\u00e9\\n\\\"\\\\\\/\\u0000\\ud83d\\ude00x", 0, 1, 0, TEXT_ESC, 13},
    {"raw", AS_TYPE_S, "{\"S\":\"h\xC3\xA9llo\xF0\x9F\x98\x80\"}", 6,
     "h\xC3\xA9llo\xF0\x9F\x98\x80", 0, 1, 0, 0, 10},
    {"sp1", AS_TYPE_S, "{\"S\":\"a b\"}", 6, "a b", 0, 1, 0, 0, 3},
    {"n38", AS_TYPE_N, "{\"N\":\"12345678901234567890123456789012345678\"}", 6,
     "12345678901234567890123456789012345678", 0, 1, 0, 0, 20},
    {"nexp", AS_TYPE_N, "{\"N\":\"-1.50E+10\"}", 6, "-1.50E+10", 0, 1, 0, 0, 2},
    {"nmax", AS_TYPE_N, "{\"N\":\"9.9999999999999999999999999999999999999E+125\"}", 6,
     "9.9999999999999999999999999999999999999E+125", 0, 1, 0, 0, 20},
    {"nmin", AS_TYPE_N, "{\"N\":\"1E-130\"}", 6, "1E-130", 0, 1, 0, 0, 2},
    {"nneg", AS_TYPE_N, "{\"N\":\"-1E-130\"}", 6, "-1E-130", 0, 1, 0, 0, 2},
    {"nz", AS_TYPE_N, "{\"N\":\"-0\"}", 6, "-0", 0, 1, 0, 0, 1},
    {"n0", AS_TYPE_N, "{\"N\":\"0\"}", 6, "0", 0, 1, 0, 0, 1},
    {"nfrac", AS_TYPE_N, "{\"N\":\"0.00123\"}", 6, "0.00123", 0, 1, 0, 0, 3},
    {"b", AS_TYPE_B, "{\"B\":\"Zm9vYmFy\"}", 6, "Zm9vYmFy", 0, 1, 0, 0, 6},
    {"n\\u0061me", AS_TYPE_S, "{\"S\":\"x\"}", 6, "x", 0, 1, 0, NAME_ESC, 1},
    {"t", AS_TYPE_BOOL, "{\"BOOL\":true}", 8, "true", 0, 1, 0, 0, 1},
    {"f", AS_TYPE_BOOL, "{\"BOOL\":false}", 8, "false", 0, 1, 0, 0, 1},
    {"nul", AS_TYPE_NULL, "{\"NULL\":true}", 8, "true", 0, 1, 0, 0, 1},
    {"ss", AS_TYPE_SS, "{\"SS\":[\"a\",\"\\u00e9\"]}", 6, "[\"a\",\"\\u00e9\"]", 2, 3, 0, 0, 3},
    {NULL, AS_TYPE_S, "\"a\"", 1, "a", 0, 1, 0, 0, 1},
    {NULL, AS_TYPE_S, "\"\\u00e9\"", 1, "\\u00e9", 0, 1, 0, TEXT_ESC, 2},
    {"ns", AS_TYPE_NS, "{\"NS\":[\"1\",\"10.5\",\"-3E2\"]}", 6, "[\"1\",\"10.5\",\"-3E2\"]",
     3, 4, 0, 0, 7},
    {NULL, AS_TYPE_N, "\"1\"", 1, "1", 0, 1, 0, 0, 2},
    {NULL, AS_TYPE_N, "\"10.5\"", 1, "10.5", 0, 1, 0, 0, 3},
    {NULL, AS_TYPE_N, "\"-3E2\"", 1, "-3E2", 0, 1, 0, 0, 2},
    {"bs", AS_TYPE_BS, "{\"BS\":[\"AA==\",\"AAE=\"]}", 6, "[\"AA==\",\"AAE=\"]", 2, 3, 0, 0, 3},
    {NULL, AS_TYPE_B, "\"AA==\"", 1, "AA==", 0, 1, 0, 0, 1},
    {NULL, AS_TYPE_B, "\"AAE=\"", 1, "AAE=", 0, 1, 0, 0, 2},
    {"m", AS_TYPE_M, "{\"M\":{\"x\":{\"N\":\"1\"},\"y\":{\"L\":[{\"S\":\"z\"},{\"M\":{}}]}}}", 5,
     "{\"x\":{\"N\":\"1\"},\"y\":{\"L\":[{\"S\":\"z\"},{\"M\":{}}]}}", 2, 5, 3, 0, 18},
    {"x", AS_TYPE_N, "{\"N\":\"1\"}", 6, "1", 0, 1, 0, 0, 2},
    {"y", AS_TYPE_L, "{\"L\":[{\"S\":\"z\"},{\"M\":{}}]}", 5, "[{\"S\":\"z\"},{\"M\":{}}]", 2, 3, 2,
     0, 9},
    {NULL, AS_TYPE_S, "{\"S\":\"z\"}", 6, "z", 0, 1, 0, 0, 1},
    {NULL, AS_TYPE_M, "{\"M\":{}}", 5, "{}", 0, 1, 1, 0, 3},
    {"l", AS_TYPE_L, "{\"L\":[]}", 5, "[]", 0, 1, 1, 0, 3},
    {"sp", AS_TYPE_M, "{ \"M\" : { \"q\" : { \"S\" : \"w\" } } }", 8,
     "{ \"q\" : { \"S\" : \"w\" } }", 1, 2, 1, SPACED, 6},
    {"q", AS_TYPE_S, "{ \"S\" : \"w\" }", 9, "w", 0, 1, 0, SPACED, 1},
    {"e", AS_TYPE_S, "{\"S\":\"\"}", 6, "", 0, 1, 0, 0, 0},
};

static const want_value KEYS_VALUES[] = {
    {"pk", AS_TYPE_S, "{\"S\":\"k1\"}", 6, "k1", 0, 1, 0, 0, 2},
    {"sk", AS_TYPE_N, "{\"N\":\"42\"}", 6, "42", 0, 1, 0, 0, 2},
};

static const want_value OLD_IMAGE_VALUES[] = {
    {"pk", AS_TYPE_S, "{\"S\":\"k1\"}", 6, "k1", 0, 1, 0, 0, 2},
    {"sk", AS_TYPE_N, "{\"N\":\"42\"}", 6, "42", 0, 1, 0, 0, 2},
    {"gone", AS_TYPE_NULL, "{\"NULL\":true}", 8, "true", 0, 1, 0, 0, 1},
};

/* Checks a Keys or image map and the values under it, position by position: the map's
 * text runs from just after `after` to just before `before`; each name, wire and text
 * lies exactly where it appears in the input. */
static void expect_tree(const decoded *d, const as_value *top, const char *after,
                        const char *before, uint32_t count, uint32_t depth, uint32_t flags,
                        uint64_t size, const want_value *rows, size_t n)
{
    const char *end = d->bytes + d->len;
    const char *start = find(d->bytes, end, after);
    assert_non_null(start);
    start += strlen(after);
    const char *stop = find(start, end, before);
    assert_non_null(stop);
    assert_non_null(top);
    if (top->text.ptr != start || top->text.len != (size_t)(stop - start)) {
        fail_msg("the map after %s: text is not the object as received", after);
    }
    assert_int_equal(top->type, AS_TYPE_M);
    assert_null(top->name.ptr);
    assert_null(top->wire.ptr);
    assert_int_equal(top->wire.len, 0);
    assert_int_equal(top->count, count);
    assert_int_equal(top->subtree, n + 1);
    assert_int_equal(top->depth, depth);
    assert_int_equal(top->flags, flags);
    assert_int_equal(top->size, size);

    const char *cursor = start;
    for (size_t i = 0; i < n; i++) {
        const want_value *w = &rows[i];
        const as_value *v = top + 1 + i;
        char label[80];
        snprintf(label, sizeof label, "%s value %zu (%s)", after, i,
                 w->name != NULL ? w->name : "-");
        if (w->name != NULL) {
            char quoted[64];
            snprintf(quoted, sizeof quoted, "\"%s\"", w->name);
            const char *q = find(cursor, end, quoted);
            assert_non_null(q);
            if (v->name.ptr != q + 1 || v->name.len != strlen(w->name)) {
                fail_msg("%s: name is not the one in the input", label);
            }
            cursor = q + 1;
        } else if (v->name.ptr != NULL || v->name.len != 0) {
            fail_msg("%s: has a name", label);
        }
        if (v->type != w->type) {
            fail_msg("%s: type %s, want %s", label, as_type_name(v->type), as_type_name(w->type));
        }
        const char *wire = find(cursor, end, w->wire);
        assert_non_null(wire);
        if (v->wire.ptr != wire || v->wire.len != strlen(w->wire)) {
            fail_msg("%s: wire \"%.*s\" is not \"%s\" where it appears", label, (int)v->wire.len,
                     v->wire.ptr != NULL ? v->wire.ptr : "", w->wire);
        }
        cursor = wire + 1;
        if (v->text.ptr != wire + w->text_at || !span_is_str(v->text, w->text)) {
            fail_msg("%s: text \"%.*s\", want \"%s\" at %zu", label, (int)v->text.len,
                     v->text.ptr != NULL ? v->text.ptr : "", w->text, w->text_at);
        }
        if (v->count != w->count || v->subtree != w->subtree || v->depth != w->depth ||
            v->flags != w->flags || v->size != w->size) {
            fail_msg("%s: count %u subtree %u depth %u flags %#x size %llu, want %u %u %u %#x "
                     "%llu",
                     label, v->count, v->subtree, v->depth, v->flags,
                     (unsigned long long)v->size, w->count, w->subtree, w->depth, w->flags,
                     (unsigned long long)w->size);
        }
    }
}

static void test_values_exact(void **state)
{
    (void)state;
    decoded d;
    decode_with(&d, RICH, sizeof RICH - 1);
    assert_int_equal(d.status, AS_OK);
    assert_int_equal(as_event_record_count(d.event), 2);

    const as_record *r = as_event_record(d.event, 0);
    assert_int_equal(r->index, 0);
    expect_text(r->error, NULL, "RICH record 0");
    const char *end = d.bytes + d.len;
    const char *second = find(d.bytes, end, ",{\"eventID\":\"plain\"");
    assert_non_null(second);
    assert_ptr_equal(r->raw.ptr, d.bytes + 12);
    assert_int_equal(r->raw.len, (size_t)(second - (d.bytes + 12)));
    expect_span(r->event_id, "id-\\u0031", "eventID");
    assert_int_equal(r->event_name, AS_EVENT_MODIFY);
    expect_span(r->event_source, "aws:dynamodb", "eventSource");
    expect_span(r->event_source_arn,
                "arn:aws:dynamodb:us-east-1:123456789012:table\\/T\\/stream\\/2024",
                "eventSourceARN");
    expect_span(r->sequence_number, "12\\u0033", "SequenceNumber");
    expect_span(r->creation_time, "1.7e9", "ApproximateCreationDateTime");
    assert_ptr_equal(r->creation_time.ptr,
                     find(d.bytes, end, "\"ApproximateCreationDateTime\":") + 30);
    expect_span(r->stream_view_type, "NEW_AND_OLD_IMAGES", "StreamViewType");
    expect_span(r->identity_type, "Service", "userIdentity.type");
    expect_span(r->identity_principal, "dynamodb.amazonaws.com", "userIdentity.principalId");
    assert_int_equal(r->escaped, AS_RECORD_EVENT_ID_ESCAPED | AS_RECORD_SEQUENCE_ESCAPED |
                                     AS_RECORD_ARN_ESCAPED);
    expect_unescaped(r->event_id, BYTES("id-1"), "eventID");
    expect_unescaped(r->sequence_number, BYTES("123"), "SequenceNumber");
    expect_unescaped(r->event_source_arn,
                     BYTES("arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024"),
                     "eventSourceARN");

    /* Keys: spaced, so flagged; 3 + (2 + 2 + 1) + (2 + 2 + 1). */
    expect_tree(&d, r->keys, "\"Keys\":", ",\"NewImage\":", 2, 1, SPACED, 13, KEYS_VALUES,
                sizeof KEYS_VALUES / sizeof KEYS_VALUES[0]);
    /* NewImage: 25 attributes whose name + value + 1 sum to 216; the deepest is m, 3
     * levels; spaced because sp is. */
    expect_tree(&d, r->new_image, "\"NewImage\":", ",\"OldImage\":", 25, 4, SPACED, 3 + 216,
                NEW_IMAGE_VALUES, sizeof NEW_IMAGE_VALUES / sizeof NEW_IMAGE_VALUES[0]);
    /* OldImage: compact, 3 + 5 + 5 + (4 + 1 + 1). */
    expect_tree(&d, r->old_image, "\"OldImage\":", ",\"SequenceNumber\":", 3, 1, 0, 19,
                OLD_IMAGE_VALUES, sizeof OLD_IMAGE_VALUES / sizeof OLD_IMAGE_VALUES[0]);

    /* The documented walk over an image visits the 25 attributes in order. */
    const as_value *img = r->new_image;
    size_t seen = 0;
    for (const as_value *m = img + 1; m < img + img->subtree; m += m->subtree) {
        size_t row = (size_t)(m - img) - 1;
        expect_span(m->name, NEW_IMAGE_VALUES[row].name, "walked attribute");
        seen++;
    }
    assert_int_equal(seen, 25);

    /* Escapes decode to the right bytes; unescaping appends; plain text is copied. */
    expect_unescaped(img[3].text, BYTES("h\xC3\xA9\n\"\\/\0\xF0\x9F\x98\x80x"), "s");
    expect_unescaped(img[4].text, BYTES("h\xC3\xA9llo\xF0\x9F\x98\x80"), "raw");
    expect_unescaped(img[15].name, BYTES("name"), "n\\u0061me");
    expect_unescaped(img[21].text, BYTES("\xC3\xA9"), "ss[1]");
    expect_unescaped(img[38 - 1].text, BYTES(""), "e");
    as_buf both = AS_BUF_INIT;
    as_json_unescape(img[15].name, &both);
    as_json_unescape(img[21].text, &both);
    assert_int_equal(both.len, 6);
    assert_memory_equal(both.data, "name\xC3\xA9", 6);
    as_buf_free(&both);

    /* The second record: no escapes, no ARN, no identity, no time, no images. */
    const as_record *p = as_event_record(d.event, 1);
    assert_int_equal(p->index, 1);
    expect_text(p->error, NULL, "RICH record 1");
    assert_ptr_equal(p->raw.ptr, second + 1);
    assert_int_equal(p->raw.len, (size_t)(end - 2 - (second + 1)));
    expect_span(p->event_id, "plain", "eventID");
    assert_int_equal(p->event_name, AS_EVENT_INSERT);
    expect_span(p->sequence_number, "124", "SequenceNumber");
    expect_span(p->stream_view_type, "KEYS_ONLY", "StreamViewType");
    expect_span(p->event_source_arn, NULL, "eventSourceARN");
    expect_span(p->creation_time, NULL, "ApproximateCreationDateTime");
    expect_span(p->identity_type, NULL, "userIdentity.type");
    expect_span(p->identity_principal, NULL, "userIdentity.principalId");
    assert_int_equal(p->escaped, 0);
    assert_null(p->new_image);
    assert_null(p->old_image);
    assert_non_null(p->keys);
    assert_int_equal(p->keys->count, 1);
    expect_span(p->keys[1].text, "k2", "Keys.pk");
    release(&d);
}

/* Values DynamoDB accepts, at the edges of its rules, with their size and (for scalars)
 * the bytes they stand for. */
static const struct {
    const char *value;
    size_t len;
    as_type type;
    uint64_t size;
    const char *bytes;      /* the unescaped text, or NULL */
    size_t bytes_len;
} VALID_VALUES[] = {
    {BYTES("{\"N\":\"12345678901234567890123456789012345678\"}"), AS_TYPE_N, 20, NULL, 0},
    {BYTES("{\"N\":\"-12345678901234567890123456789012345678\"}"), AS_TYPE_N, 20, NULL, 0},
    {BYTES("{\"N\":\"0.00012345678901234567890123456789012345678\"}"), AS_TYPE_N, 20, NULL, 0},
    {BYTES("{\"N\":\"9.9999999999999999999999999999999999999E+125\"}"), AS_TYPE_N, 20, NULL, 0},
    {BYTES("{\"N\":\"-9.9999999999999999999999999999999999999E+125\"}"), AS_TYPE_N, 20, NULL, 0},
    {BYTES("{\"N\":\"1E-130\"}"), AS_TYPE_N, 2, NULL, 0},
    {BYTES("{\"N\":\"-1E-130\"}"), AS_TYPE_N, 2, NULL, 0},
    {BYTES("{\"N\":\"0.1E-129\"}"), AS_TYPE_N, 2, NULL, 0},
    {BYTES("{\"N\":\"0\"}"), AS_TYPE_N, 1, NULL, 0},
    {BYTES("{\"N\":\"-0\"}"), AS_TYPE_N, 1, NULL, 0},
    {BYTES("{\"N\":\"0.000\"}"), AS_TYPE_N, 1, NULL, 0},
    {BYTES("{\"N\":\"1000000000000000000000000000000000000000000\"}"), AS_TYPE_N, 2, NULL, 0},
    {BYTES("{\"N\":\"123.4500\"}"), AS_TYPE_N, 4, NULL, 0},
    {BYTES("{\"N\":\"1e2\"}"), AS_TYPE_N, 2, NULL, 0},
    {BYTES("{\"N\":\"\\u0031\\u0032\"}"), AS_TYPE_N, 2, BYTES("12")},
    {BYTES("{\"S\":\"\"}"), AS_TYPE_S, 0, BYTES("")},
    {BYTES("{\"S\":\"\x7F\"}"), AS_TYPE_S, 1, BYTES("\x7F")},
    {BYTES("{\"S\":\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"
           "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"}"),
     AS_TYPE_S, 24,
     BYTES("\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80"
           "\xF4\x8F\xBF\xBF")},
    {BYTES("{\"S\":\"\\uDBFF\\uDFFF\\u0000\\u007F\\u0080\\u07FF\\u0800\\uFFFF\"}"), AS_TYPE_S, 16,
     BYTES("\xF4\x8F\xBF\xBF" "\0" "\x7F" "\xC2\x80" "\xDF\xBF" "\xE0\xA0\x80" "\xEF\xBF\xBF")},
    {BYTES("{\"S\":\"\\b\\f\\n\\r\\t\\\"\\\\\\/\"}"), AS_TYPE_S, 8, BYTES("\b\f\n\r\t\"\\/")},
    {BYTES("{\"S\":\"a}\\\"]b\"}"), AS_TYPE_S, 5, BYTES("a}\"]b")},
    {BYTES("{\"B\":\"\"}"), AS_TYPE_B, 0, BYTES("")},
    {BYTES("{\"B\":\"\\/w==\"}"), AS_TYPE_B, 1, BYTES("/w==")},
    {BYTES("{\"B\":\"Zm9vYg==\"}"), AS_TYPE_B, 4, NULL, 0},
    {BYTES("{\"B\":\"Zm9vYmE=\"}"), AS_TYPE_B, 5, NULL, 0},
    {BYTES("{\"SS\":[\"\"]}"), AS_TYPE_SS, 0, NULL, 0},
    {BYTES("{\"SS\":[\"a\",\"A\",\"a \"]}"), AS_TYPE_SS, 4, NULL, 0},
    {BYTES("{\"NS\":[\"1\",\"-1\",\"1.01\",\"10\"]}"), AS_TYPE_NS, 2 + 2 + 3 + 2, NULL, 0},
    {BYTES("{\"BS\":[\"\\/w==\",\"+w==\"]}"), AS_TYPE_BS, 2, NULL, 0},
    {BYTES("{\"BS\":[\"\"]}"), AS_TYPE_BS, 0, NULL, 0},
    {BYTES("{\"M\":{}}"), AS_TYPE_M, 3, NULL, 0},
    {BYTES("{\"L\":[]}"), AS_TYPE_L, 3, NULL, 0},
    {BYTES("{\"M\":{\"a\":{\"S\":\"x\"},\"A\":{\"S\":\"x\"}}}"), AS_TYPE_M, 3 + 3 + 3, NULL, 0},
    {BYTES("{\"L\":[{\"NULL\":true},{\"BOOL\":false},{\"L\":[]}]}"), AS_TYPE_L, 3 + 2 + 2 + 4, NULL,
     0},
    {BYTES("{\"\\u0053\":\"x\"}"), AS_TYPE_S, 1, BYTES("x")},
    {BYTES("{\"\\u004e\\u0055LL\":true}"), AS_TYPE_NULL, 1, NULL, 0},
    {BYTES("{ \"BOOL\" :\tfalse\r\n}"), AS_TYPE_BOOL, 1, NULL, 0},
};

static void test_valid_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof VALID_VALUES / sizeof VALID_VALUES[0]; i++) {
        decoded d;
        const as_value *v = decode_value(&d, VALID_VALUES[i].value, VALID_VALUES[i].len);
        if (v->type != VALID_VALUES[i].type || v->size != VALID_VALUES[i].size) {
            fail_msg("%s: type %s size %llu, want %s %llu", VALID_VALUES[i].value,
                     as_type_name(v->type), (unsigned long long)v->size,
                     as_type_name(VALID_VALUES[i].type),
                     (unsigned long long)VALID_VALUES[i].size);
        }
        if (VALID_VALUES[i].bytes != NULL) {
            expect_unescaped(v->text, VALID_VALUES[i].bytes, VALID_VALUES[i].bytes_len,
                             VALID_VALUES[i].value);
        }
        release(&d);
    }

    /* 32 levels of M, and of L, are within DynamoDB's limit. */
    for (int map = 0; map < 2; map++) {
        as_buf deep = nested_value(map != 0, 32);
        decoded d;
        const as_value *v = decode_value(&d, deep.data, deep.len);
        assert_int_equal(v->depth, 32);
        assert_int_equal(v->subtree, 32);
        assert_int_equal(as_event_record(d.event, 0)->new_image->depth, 33);
        release(&d);
        as_buf_free(&deep);
    }

    /* Large sets and maps without duplicates: sorted, none reported. */
    static const char *const tags[] = {"SS", "NS", "BS", "M"};
    for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++) {
        as_buf big = set_with_duplicate(tags[t], 5000, 0);
        /* Drop the duplicate (the last member) again. */
        const char *close = strcmp(tags[t], "M") == 0 ? "}}" : "]}";
        char *last = big.data + big.len;
        while (*--last != ',') {
        }
        big.len = (size_t)(last - big.data);
        as_buf_append_str(&big, close);
        decoded d;
        const as_value *v = decode_value(&d, big.data, big.len);
        assert_int_equal(v->count, 5000);
        release(&d);
        as_buf_free(&big);
    }
}

/* Which images a record has follows from what it holds, not from StreamViewType or
 * eventName: the decoder neither invents nor demands them. */
static void test_view_types(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        as_event_name event;
        const char *view;
        bool old_image;
        bool new_image;
    } CASES[] = {
        {"INSERT", AS_EVENT_INSERT, "KEYS_ONLY", false, false},
        {"MODIFY", AS_EVENT_MODIFY, "KEYS_ONLY", false, false},
        {"REMOVE", AS_EVENT_REMOVE, "KEYS_ONLY", false, false},
        {"INSERT", AS_EVENT_INSERT, "NEW_IMAGE", false, true},
        {"MODIFY", AS_EVENT_MODIFY, "NEW_IMAGE", false, true},
        {"REMOVE", AS_EVENT_REMOVE, "NEW_IMAGE", false, false},
        {"INSERT", AS_EVENT_INSERT, "OLD_IMAGE", false, false},
        {"MODIFY", AS_EVENT_MODIFY, "OLD_IMAGE", true, false},
        {"REMOVE", AS_EVENT_REMOVE, "OLD_IMAGE", true, false},
        {"INSERT", AS_EVENT_INSERT, "NEW_AND_OLD_IMAGES", false, true},
        {"MODIFY", AS_EVENT_MODIFY, "NEW_AND_OLD_IMAGES", true, true},
        {"REMOVE", AS_EVENT_REMOVE, "NEW_AND_OLD_IMAGES", true, false},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_buf in = AS_BUF_INIT;
        as_buf_append_str(&in, "{\"Records\":[{\"eventID\":\"e\",\"eventName\":\"");
        as_buf_append_str(&in, CASES[i].name);
        as_buf_append_str(&in, "\"," SRC ",\"dynamodb\":{" SEQ "," KEYS);
        if (CASES[i].old_image) {
            as_buf_append_str(&in, ",\"OldImage\":{\"k\":{\"S\":\"a\"},\"v\":{\"N\":\"1\"}}");
        }
        if (CASES[i].new_image) {
            as_buf_append_str(&in, ",\"NewImage\":{\"k\":{\"S\":\"a\"},\"v\":{\"N\":\"2\"}}");
        }
        as_buf_append_str(&in, ",\"StreamViewType\":\"");
        as_buf_append_str(&in, CASES[i].view);
        as_buf_append_str(&in, "\"}}]}");
        decoded d;
        decode_with(&d, in.data, in.len);
        assert_int_equal(d.status, AS_OK);
        const as_record *r = as_event_record(d.event, 0);
        expect_text(r->error, NULL, in.data);
        assert_int_equal(r->event_name, CASES[i].event);
        expect_span(r->stream_view_type, CASES[i].view, "StreamViewType");
        assert_int_equal(r->old_image != NULL, CASES[i].old_image);
        assert_int_equal(r->new_image != NULL, CASES[i].new_image);
        if (r->old_image != NULL) {
            expect_span(r->old_image[2].text, "1", "OldImage.v");
        }
        if (r->new_image != NULL) {
            expect_span(r->new_image[2].text, "2", "NewImage.v");
        }
        release(&d);
        as_buf_free(&in);
    }
}

/* ApproximateCreationDateTime is kept as its JSON number text, whatever its form. */
static void test_creation_time(void **state)
{
    (void)state;
    static const char *const TIMES[] = {
        NULL, "1480642020", "1.635734407123456789E9", "1.4285376E9", "1693997155.0", "0", "-0",
        "-0.0", "0.0001", "1e3", "253402300799.999", "2.534023007999E11", "1E-400",
    };
    for (size_t i = 0; i < sizeof TIMES / sizeof TIMES[0]; i++) {
        as_buf in = AS_BUF_INIT;
        as_buf_append_str(&in, "{\"Records\":[{" ID "," INS "," SRC ",\"dynamodb\":{");
        size_t at = 0;
        if (TIMES[i] != NULL) {
            as_buf_append_str(&in, "\"ApproximateCreationDateTime\": ");
            at = in.len;
            as_buf_append_str(&in, TIMES[i]);
            as_buf_append_str(&in, " ,");
        }
        as_buf_append_str(&in, SEQ "," KEYS "}}]}");
        decoded d;
        decode_with(&d, in.data, in.len);
        assert_int_equal(d.status, AS_OK);
        const as_record *r = as_event_record(d.event, 0);
        expect_text(r->error, NULL, in.data);
        expect_span(r->creation_time, TIMES[i], "ApproximateCreationDateTime");
        if (TIMES[i] != NULL) {
            assert_ptr_equal(r->creation_time.ptr, d.bytes + at);
        }
        release(&d);
        as_buf_free(&in);
    }
}

/* An invalid record keeps whatever value its ApproximateCreationDateTime had, so that
 * its error item can tell a bad time from a missing one. (null is a missing one: see
 * test_null_optional_fields.) */
static void test_invalid_creation_time(void **state)
{
    (void)state;
    static const char *const TIMES[] = {
        "\"1480642020\"", "{\"a\":[1]}", "true", "-1", "253402300800", "1e400",
    };
    for (size_t i = 0; i < sizeof TIMES / sizeof TIMES[0]; i++) {
        as_buf in = AS_BUF_INIT;
        as_buf_append_str(&in, "{\"Records\":[{" ID "," INS "," SRC ",\"dynamodb\":{"
                               "\"ApproximateCreationDateTime\":");
        size_t at = in.len;
        as_buf_append_str(&in, TIMES[i]);
        as_buf_append_str(&in, "," SEQ "," KEYS "}}]}");
        decoded d;
        decode_with(&d, in.data, in.len);
        assert_int_equal(d.status, AS_OK);
        const as_record *r = as_event_record(d.event, 0);
        assert_non_null(r->error);
        expect_span(r->creation_time, TIMES[i], "an invalid ApproximateCreationDateTime");
        assert_ptr_equal(r->creation_time.ptr, d.bytes + at);
        release(&d);
        as_buf_free(&in);
    }
}

/* Valid events of unusual shape. */
static void test_valid_events(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        size_t records;
    } CASES[] = {
        {"{\"Records\":[]}", 0},
        {" \r\n\t{ \"Records\" : [ ] }\n\n", 0},
        {"{\"Rec\\u006frds\":[]}", 0},
        {"{\"window\":{\"start\":\"x\"},\"state\":{\"1\":[1,2,{\"a\":null}]},\"Records\":[],"
         "\"isFinalInvokeForWindow\":false,\"n\":-1.5e-3}",
         0},
        /* A DynamoDB record beside others that are not. */
        {"{\"Records\":[1,{\"eventSource\":\"aws:sqs\"}," FIRST "]}", 3},
        /* Unknown fields of every JSON type, anywhere in a record. */
        {"{\"Records\":[{\"a\":[1,{\"b\":[true,false,null]}]," ID ",\"x\":{\"y\":\"\\u00e9\"}," INS
         "," SRC ",\"userIdentity\":{\"type\":\"Service\",\"z\":[[]]},"
         "\"dynamodb\":{\"SizeBytes\":1.5E2,\"q\":{}," SEQ "," KEYS ",\"r\":[\"s\"]},"
         "\"eventVersion\":\"1.1\"}]}",
         1},
        /* Field names written with escapes are the same names. */
        {"{\"Records\":[{\"event\\u0049D\":\"e\",\"eventName\":\"INSERT\",\"\\u0065ventSource\":"
         "\"aws:dynamodb\",\"dyn\\u0061modb\":{\"Sequence\\u004eumber\":\"1\","
         "\"Ke\\u0079s\":{\"k\":"
         "{\"S\":\"a\"}},\"\\u004eewImage\":{\"k\":{\"S\":\"a\"}}}}]}",
         1},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        decoded d;
        decode_with(&d, CASES[i].json, strlen(CASES[i].json));
        if (d.status != AS_OK) {
            fail_msg("%s: %s", CASES[i].json, d.err.message);
        }
        assert_int_equal(as_event_record_count(d.event), CASES[i].records);
        release(&d);
    }

    /* The records with escaped field names and with unknown fields are valid. */
    decoded d;
    decode_with(&d, CASES[6].json, strlen(CASES[6].json));
    const as_record *r = as_event_record(d.event, 0);
    expect_text(r->error, NULL, "escaped field names");
    expect_span(r->event_id, "e", "event\\u0049D");
    expect_span(r->sequence_number, "1", "Sequence\\u004eumber");
    assert_non_null(r->keys);
    assert_non_null(r->new_image);
    release(&d);
    decode_with(&d, CASES[5].json, strlen(CASES[5].json));
    r = as_event_record(d.event, 0);
    expect_text(r->error, NULL, "unknown fields");
    expect_span(r->identity_type, "Service", "userIdentity.type");
    release(&d);
    decode_with(&d, CASES[4].json, strlen(CASES[4].json));
    expect_text(as_event_record(d.event, 0)->error, "Records[0]: record is not an object",
                "a number among records");
    expect_text(as_event_record(d.event, 1)->error,
                "Records[1].eventSource: is \"aws:sqs\", not \"aws:dynamodb\"", "an SQS record");
    expect_text(as_event_record(d.event, 2)->error, NULL, "the DynamoDB record");
    release(&d);
}

/* Many records, so that the arrays grow many times; every fifth one invalid. */
static void test_many_records(void **state)
{
    (void)state;
    as_buf in = AS_BUF_INIT;
    as_buf_append_str(&in, "{\"Records\":[");
    for (size_t i = 0; i < 3000; i++) {
        if (i > 0) {
            as_buf_append_char(&in, ',');
        }
        append_number(&in, "{\"eventID\":\"r", i, "\"," INS "," SRC ",\"dynamodb\":{" SEQ ",");
        append_number(&in, "\"Keys\":{\"k\":{\"N\":\"", i, "\"}},\"NewImage\":{\"k\":{\"N\":\"");
        append_number(&in, "", i, i % 5 == 4 ? "\"},\"bad\":{\"SS\":[]}}}}" : "\"}}}}");
    }
    as_buf_append_str(&in, "]}");
    decoded d;
    decode_with(&d, in.data, in.len);
    assert_int_equal(d.status, AS_OK);
    assert_int_equal(as_event_record_count(d.event), 3000);
    for (size_t i = 0; i < 3000; i++) {
        const as_record *r = as_event_record(d.event, i);
        char id[16];
        snprintf(id, sizeof id, "r%zu", i);
        expect_span(r->event_id, id, "eventID");
        assert_int_equal(r->index, i);
        if (i % 5 == 4) {
            char want[64];
            snprintf(want, sizeof want, "Records[%zu].dynamodb.NewImage.bad.SS: empty set", i);
            expect_text(r->error, want, id);
        } else {
            expect_text(r->error, NULL, id);
            char n[16];
            snprintf(n, sizeof n, "%zu", i);
            expect_span(r->keys[1].text, n, "Keys.k");
            expect_span(r->new_image[1].text, n, "NewImage.k");
        }
    }
    release(&d);
    as_buf_free(&in);
}

static void test_api_edges(void **state)
{
    (void)state;
    as_error err;
    as_event *ev = (as_event *)&not_set;
    memset(&err, 0, sizeof err);
    assert_int_equal(as_event_decode(NULL, 0, &ev, &err), AS_ERR_JSON);
    assert_null(ev);
    expect_text(err.message, "invalid JSON at line 1, column 1 (byte 0): empty input", "NULL, 0");

    assert_int_equal(as_event_decode(NULL, 5, &ev, &err), AS_ERR_ARGUMENT);
    assert_int_equal(err.code, AS_ERR_ARGUMENT);
    expect_text(err.message, "as_event_decode: NULL argument", "NULL, 5");
    assert_int_equal(as_event_decode("{\"Records\":[]}", 14, NULL, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_event_decode("{\"Records\":[]}", 14, NULL, NULL), AS_ERR_ARGUMENT);

    /* The error struct is optional on success too. */
    assert_int_equal(as_event_decode("{\"Records\":[]}", 14, &ev, NULL), AS_OK);
    assert_non_null(ev);
    assert_int_equal(as_event_record_count(ev), 0);
    as_event_free(ev);
    as_event_free(NULL);

    static const char *const NAMES[] = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"};
    for (int t = AS_TYPE_S; t <= AS_TYPE_BOOL; t++) {
        expect_text(as_type_name((as_type)t), NAMES[t], "as_type_name");
    }
    expect_text(as_type_name((as_type)10), "?", "as_type_name out of range");
}

/* ---- 4. The fixtures in events/ ------------------------------------------------------------ */

typedef struct want_record {
    const char *event_id;
    as_event_name event;
    const char *view;
    bool old_image;
    bool new_image;
    const char *creation;   /* ApproximateCreationDateTime as written; NULL when absent */
    unsigned size_bytes;    /* dynamodb.SizeBytes when AWS measured it; 0 when made up */
    const char *error;
} want_record;

typedef struct fixture {
    const char *file;
    as_status status;       /* of decoding the file as it is */
    size_t offset;
    const char *message;
    size_t skip;            /* then decoded again without its first `skip` bytes */
    size_t count;
    const want_record *records;
} fixture;

#define FIXTURE_OK AS_OK, 0, NULL, 0
#define RECORDS(r) sizeof(r) / sizeof(r)[0], r
#define NOI "NEW_AND_OLD_IMAGES"

static const want_record GO_EVENT[] = {
    {"f07f8ca4b0b26cb9c4e5e77e69f274ee", AS_EVENT_INSERT, NOI, false, true, "1480642020", 0, NULL},
    /* Its BS "asdf2" repeats "AAEqQQ=="; BinarySet and the empty SS come later. */
    {"f07f8ca4b0b26cb9c4e5e77e42f274ee", AS_EVENT_INSERT, NOI, false, true, "1480642020", 0,
     "Records[1].dynamodb.NewImage.asdf2.BS: duplicate member \"AAEqQQ==\""},
};
static const want_record GO_WINDOW[] = {
    {"1", AS_EVENT_INSERT, NOI, false, true, "1480642020", 0, NULL},
    {"2", AS_EVENT_MODIFY, NOI, true, true, "1480642020", 0, NULL},
    {"3", AS_EVENT_REMOVE, NOI, true, false, "1480642020", 0, NULL},
};
static const want_record JAVA_EVENT[] = {
    {"c4ca4238a0b923820dcc509a6f75849b", AS_EVENT_INSERT, NOI, false, true, "1428537600", 0, NULL},
    {"c81e728d9d4c2f636f067f89cc14862c", AS_EVENT_MODIFY, NOI, true, true,
     "1.635734407123456789E9", 0, NULL},
    {"eccbc87e4b5ce2fe28308fd9f2a7baf3", AS_EVENT_REMOVE, NOI, true, false, "1428537600", 0, NULL},
};
static const want_record JAVA_ROUNDTRIP[] = {
    {"c4ca4238a0b923820dcc509a6f75849b", AS_EVENT_INSERT, NOI, false, true, "1.4285376E9", 0, NULL},
    {"c81e728d9d4c2f636f067f89cc14862c", AS_EVENT_MODIFY, NOI, true, true, "1.635734407123E9", 0,
     NULL},
    {"eccbc87e4b5ce2fe28308fd9f2a7baf3", AS_EVENT_REMOVE, NOI, true, false, "1.4285376E9", 0, NULL},
};
static const want_record SAM_UPDATE[] = {
    {"c4ca4238a0b923820dcc509a6f75849b", AS_EVENT_INSERT, NOI, false, true, "1428537600", 0, NULL},
    {"c81e728d9d4c2f636f067f89cc14862c", AS_EVENT_MODIFY, NOI, true, true, "1428537600", 0, NULL},
    {"eccbc87e4b5ce2fe28308fd9f2a7baf3", AS_EVENT_REMOVE, NOI, true, false, "1428537600", 0, NULL},
};
/* Without its byte-order mark. */
static const want_record DOTNET_EVENT[] = {
    {"f07f8ca4b0b26cb9c4e5e77e69f274ee", AS_EVENT_INSERT, NOI, false, true, "1480642020", 0, NULL},
    {"f07f8ca4b0b26cb9c4e5e77e42f274ee", AS_EVENT_REMOVE, "OLD_IMAGE", true, false, "1480642020", 0,
     "Records[1].dynamodb.OldImage.asdf2.BS: duplicate member \"AAEqQQ==\""},
};
static const want_record DOTNET_TESTTOOL[] = {
    {"1", AS_EVENT_INSERT, NOI, false, true, NULL, 0, NULL},
    {"2", AS_EVENT_MODIFY, NOI, true, true, NULL, 0, NULL},
    {"3", AS_EVENT_REMOVE, NOI, true, false, NULL, 0, NULL},
};
static const want_record POWERTOOLS_STREAM[] = {
    {"1", AS_EVENT_INSERT, NOI, false, true, "1693997155.0", 0, NULL},
    {"2", AS_EVENT_MODIFY, NOI, true, true, NULL, 0, NULL},
};
static const want_record POWERTOOLS_BATCH[] = {
    {"1", AS_EVENT_INSERT, NOI, false, true, NULL, 0, NULL},
    {"1", AS_EVENT_INSERT, NOI, false, true, NULL, 0, NULL},
};
static const want_record POWERTOOLS_TS[] = {
    {"1", AS_EVENT_INSERT, "NEW_IMAGE", false, true, "1693997155.0", 0, NULL},
    {"2", AS_EVENT_MODIFY, NOI, true, true, NULL, 0, NULL},
};
static const want_record LOCALSTACK_BINARY[] = {
    {"3654ad92a90d0283732653189fdac330", AS_EVENT_INSERT, "NEW_IMAGE", false, true, "1764085660",
     70, NULL},
};
#define BATCH(id, ...) {id, AS_EVENT_INSERT, "NEW_IMAGE", false, true, "1764086904", 58, NULL}
static const want_record LOCALSTACK_BATCH[] = {
    BATCH("baa0bcc2367acc3223d6c7aba135997c"), BATCH("cb55aa0cfe5c882271ab59afe88b4b82"),
    BATCH("1a3b864bd4d16d7ea89d7a3001ea9f1e"), BATCH("49960a171e35d37d2299a9094e5c4a9f"),
    BATCH("253bef7cc19c987584c4db55eff4ac48"), BATCH("d824e814e4b6299f4e24f2e1290951c8"),
    BATCH("d824e814e4b6299f4e24f2e1290951c8"), BATCH("d824e814e4b6299f4e24f2e1290951c8"),
    BATCH("d824e814e4b6299f4e24f2e1290951c8"), BATCH("d824e814e4b6299f4e24f2e1290951c8"),
};
static const want_record LOCALSTACK_MODIFY[] = {
    {"78a0df58841efc25bd7768262ba7f76a", AS_EVENT_MODIFY, NOI, true, true, "1764086245", 46, NULL},
};
static const want_record LOCALSTACK_NUMBER[] = {
    {"90a2c43e35ad5644519805bfaf5d936a", AS_EVENT_INSERT, NOI, false, true, "1764086656", 39, NULL},
};
static const want_record LOCALSTACK_GETRECORDS[] = {
    {"3864dafd25f02baf26f3e54177305324", AS_EVENT_INSERT, NOI, false, true, "1759926979", 12, NULL},
    {"80f9e43997fe7a1377b4bb9502e54b5c", AS_EVENT_INSERT, NOI, false, true, "1759926979", 16, NULL},
    {"232e75cfaeb2fb74d0196ab7cf649702", AS_EVENT_REMOVE, NOI, true, false, "1759926979", 16, NULL},
    {"ea5528ddf15b553e87a4d52a250400e6", AS_EVENT_MODIFY, NOI, true, true, "1759926979", 26, NULL},
};

static const fixture FIXTURES[] = {
    {"aws-lambda-go-dynamodb-event.json", FIXTURE_OK, RECORDS(GO_EVENT)},
    {"aws-lambda-go-dynamodb-time-window-event.json", FIXTURE_OK, RECORDS(GO_WINDOW)},
    /* Cut off after "Zebra" in the second record's StringSet: 134 newlines, then 10 spaces. */
    {"aws-lambda-go-dynamodb-event-malformed.2.json",
     JSON_AT(135, 11, 2968, "unexpected end of input"), 0, 0, NULL},
    {"aws-lambda-java-libs-dynamo_event.json", FIXTURE_OK, RECORDS(JAVA_EVENT)},
    {"aws-lambda-java-libs-dynamo_event_roundtrip.json", FIXTURE_OK, RECORDS(JAVA_ROUNDTRIP)},
    {"aws-sam-cli-DynamoDBUpdate.json", FIXTURE_OK, RECORDS(SAM_UPDATE)},
    {"aws-lambda-dotnet-dynamodb-event.json",
     JSON_AT(1, 1, 0, "starts with a UTF-8 byte-order mark"), 3, RECORDS(DOTNET_EVENT)},
    {"aws-lambda-dotnet-testtool-dynamodb-update.json", FIXTURE_OK, RECORDS(DOTNET_TESTTOOL)},
    {"powertools-lambda-python-dynamoStreamEvent.json", FIXTURE_OK, RECORDS(POWERTOOLS_STREAM)},
    {"powertools-lambda-python-getting_started_dynamodb_event.json", FIXTURE_OK,
     RECORDS(POWERTOOLS_BATCH)},
    {"powertools-lambda-python-pydantic_dynamodb_event.json", FIXTURE_OK,
     RECORDS(POWERTOOLS_BATCH)},
    {"powertools-lambda-typescript-dynamodb-base.json", FIXTURE_OK, RECORDS(POWERTOOLS_TS)},
    {"localstack-esm-insert-binary.json", FIXTURE_OK, RECORDS(LOCALSTACK_BINARY)},
    {"localstack-esm-batch-10-inserts.json", FIXTURE_OK, RECORDS(LOCALSTACK_BATCH)},
    {"localstack-esm-modify-attr-added.json", FIXTURE_OK, RECORDS(LOCALSTACK_MODIFY)},
    {"localstack-esm-insert-number.json", FIXTURE_OK, RECORDS(LOCALSTACK_NUMBER)},
    {"localstack-getrecords-batchwrite.json", FIXTURE_OK, RECORDS(LOCALSTACK_GETRECORDS)},
};

static as_buf read_file(const char *path)
{
    as_buf b = AS_BUF_INIT;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s (run from the top of the tree)", path);
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        as_buf_append(&b, chunk, n);
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    assert_int_equal(as_buf_status(&b), AS_OK);
    return b;
}

/* An item's size by DynamoDB's rules is its map's size without the map's own 3 bytes
 * and 1 byte per entry; a stream record's SizeBytes is that of Keys plus the images. */
static uint64_t item_size(const as_value *map)
{
    return map == NULL ? 0 : map->size - 3 - map->count;
}

static void expect_fixture_records(const fixture *f, const decoded *d)
{
    if (as_event_record_count(d->event) != f->count) {
        fail_msg("%s: %zu records, want %zu", f->file, as_event_record_count(d->event), f->count);
    }
    for (size_t i = 0; i < f->count; i++) {
        const want_record *w = &f->records[i];
        const as_record *r = as_event_record(d->event, i);
        char label[128];
        snprintf(label, sizeof label, "%s Records[%zu]", f->file, i);
        expect_text(r->error, w->error, label);
        expect_span(r->event_id, w->event_id, label);
        expect_span(r->stream_view_type, w->view, label);
        expect_span(r->creation_time, w->creation, label);
        expect_span(r->event_source, "aws:dynamodb", label);
        if (r->event_name != w->event) {
            fail_msg("%s: eventName %d, want %d", label, (int)r->event_name, (int)w->event);
        }
        if (w->error != NULL) {
            /* Their faults lie in an image: the sound Keys still name the item. */
            if (r->keys == NULL) {
                fail_msg("%s: an invalid record with sound Keys lost them", label);
            }
            continue;
        }
        if ((r->old_image != NULL) != w->old_image || (r->new_image != NULL) != w->new_image) {
            fail_msg("%s: images old %d new %d, want %d %d", label, r->old_image != NULL,
                     r->new_image != NULL, w->old_image, w->new_image);
        }
        if (w->size_bytes != 0) {
            uint64_t size = item_size(r->keys) + item_size(r->old_image) + item_size(r->new_image);
            if (size != w->size_bytes) {
                fail_msg("%s: Keys and images size %llu, AWS measured %u", label,
                         (unsigned long long)size, w->size_bytes);
            }
        }
    }
}

static void test_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof FIXTURES / sizeof FIXTURES[0]; i++) {
        const fixture *f = &FIXTURES[i];
        char path[256];
        snprintf(path, sizeof path, "events/%s", f->file);
        as_buf file = read_file(path);
        decoded d;
        decode_with(&d, file.data, file.len);
        if (f->status != AS_OK) {
            if (d.status != f->status || d.err.offset != f->offset ||
                strcmp(d.err.message, f->message) != 0) {
                fail_msg("%s:\n  got  %s, offset %zu: %s\n  want %s, offset %zu: %s", f->file,
                         as_status_name(d.status), d.err.offset, d.err.message,
                         as_status_name(f->status), f->offset, f->message);
            }
        } else if (d.status != AS_OK) {
            fail_msg("%s: %s", f->file, d.err.message);
        }
        if (f->skip > 0) {
            release(&d);
            decode_with(&d, file.data + f->skip, file.len - f->skip);
            if (d.status != AS_OK) {
                fail_msg("%s without its first %zu bytes: %s", f->file, f->skip, d.err.message);
            }
        }
        if (d.status == AS_OK) {
            expect_fixture_records(f, &d);
        }
        release(&d);
        as_buf_free(&file);
    }

    /* Every fixture is in the table, so that a new one is not silently skipped. */
    DIR *dir = opendir("events");
    assert_non_null(dir);
    size_t seen = 0;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0 ||
            strncmp(e->d_name, "bench-", 6) == 0) {
            continue;
        }
        bool known = false;
        for (size_t i = 0; i < sizeof FIXTURES / sizeof FIXTURES[0]; i++) {
            known = known || strcmp(FIXTURES[i].file, e->d_name) == 0;
        }
        if (!known) {
            closedir(dir);
            fail_msg("events/%s is not in FIXTURES", e->d_name);
        }
        seen++;
    }
    closedir(dir);
    assert_int_equal(seen, sizeof FIXTURES / sizeof FIXTURES[0]);
}

/* ---- 5. Behaviour settled after review ------------------------------------------------------ */

/* Optional fields given as null (as re-serialised test events carry them) are fields not
 * given: the record stays valid, with no span, image or time for them. Each case sits
 * between two valid records, which must come through untouched. */
static void test_null_optional_fields(void **state)
{
    (void)state;
    static const char *const CASES[] = {
        REC(ID "," INS "," SRC ",\"userIdentity\":null," DDB(SEQ "," KEYS)),
        REC(ID "," INS "," SRC ",\"eventSourceARN\":null," DDB(SEQ "," KEYS)),
        WITH_DDB(SEQ "," KEYS ",\"NewImage\":null"),
        WITH_DDB(SEQ "," KEYS ",\"OldImage\":null"),
        WITH_DDB("\"ApproximateCreationDateTime\":null," SEQ "," KEYS),
        WITH_DDB(SEQ "," KEYS ",\"StreamViewType\":null"),
        /* All at once, spaced, some under escaped names. */
        "{" ID " , " INS "," SRC ", \"eventSourceARN\" : null ,\"user\\u0049dentity\":\tnull,"
        "\"dynamodb\":{\"ApproximateCreationDateTime\" :null," SEQ "," KEYS
        ",\"NewImage\": null\n,\"OldImage\":null ,\"Stream\\u0056iewType\":null}}",
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_buf in = AS_BUF_INIT;
        as_buf_append_str(&in, "{\"Records\":[" FIRST ",");
        as_buf_append_str(&in, CASES[i]);
        as_buf_append_str(&in, "," NEXT "]}");
        assert_int_equal(as_buf_status(&in), AS_OK);
        decoded d;
        decode_with(&d, in.data, in.len);
        if (d.status != AS_OK) {
            fail_msg("%s: %s", CASES[i], d.err.message);
        }
        assert_int_equal(as_event_record_count(d.event), 3);
        expect_text(as_event_record(d.event, 0)->error, NULL, "the record before");
        const as_record *r = as_event_record(d.event, 1);
        expect_text(r->error, NULL, CASES[i]);
        assert_int_equal(r->raw.len, strlen(CASES[i]));
        expect_span(r->event_id, "e1", "eventID");
        assert_int_equal(r->event_name, AS_EVENT_INSERT);
        expect_span(r->sequence_number, "1", "SequenceNumber");
        expect_span(r->event_source_arn, NULL, "eventSourceARN");
        expect_span(r->creation_time, NULL, "ApproximateCreationDateTime");
        expect_span(r->stream_view_type, NULL, "StreamViewType");
        expect_span(r->identity_type, NULL, "userIdentity.type");
        expect_span(r->identity_principal, NULL, "userIdentity.principalId");
        assert_int_equal(r->escaped, 0);
        assert_null(r->new_image);
        assert_null(r->old_image);
        assert_non_null(r->keys);
        assert_int_equal(r->keys->count, 1);
        expect_span(r->keys[1].text, "a", "Keys.k");
        check_next(as_event_record(d.event, 2), 2);
        release(&d);
        as_buf_free(&in);
    }
}

/* eventName and eventSource are JSON strings: an escape spells the same value, and an
 * escaped "aws:dynamodb" counts for the event's "at least one DynamoDB record" rule.
 * Each record is the event's only one. */
static void test_escaped_event_fields(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *source;
        as_event_name event;
    } CASES[] = {
        {"INS\\u0045RT", "aws\\u003adynamodb", AS_EVENT_INSERT},
        {"\\u004dODIFY", "\\u0061ws:dynamodb", AS_EVENT_MODIFY},
        {"REMOV\\u0045", "aws:dyn\\u0061mod\\u0062", AS_EVENT_REMOVE},
        {"\\u0052\\u0045\\u004d\\u004f\\u0056\\u0045", "aws:dynamodb", AS_EVENT_REMOVE},
        {"INSERT", "\\u0061\\u0077\\u0073\\u003a\\u0064\\u0079\\u006e\\u0061\\u006d\\u006f"
                   "\\u0064\\u0062",
         AS_EVENT_INSERT},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_buf in = AS_BUF_INIT;
        as_buf_append_str(&in, "{\"Records\":[{" ID ",\"eventName\":\"");
        as_buf_append_str(&in, CASES[i].name);
        as_buf_append_str(&in, "\",\"eventSource\":\"");
        as_buf_append_str(&in, CASES[i].source);
        as_buf_append_str(&in, "\"," DDB(SEQ "," KEYS) "}]}");
        assert_int_equal(as_buf_status(&in), AS_OK);
        decoded d;
        decode_with(&d, in.data, in.len);
        if (d.status != AS_OK) {
            fail_msg("%s: %s", in.data, d.err.message);
        }
        const as_record *r = as_event_record(d.event, 0);
        expect_text(r->error, NULL, in.data);
        assert_int_equal(r->event_name, CASES[i].event);
        expect_span(r->event_source, CASES[i].source, "eventSource as received");
        assert_true(unescapes_to(r->event_source, "aws:dynamodb"));
        assert_int_equal(r->escaped, strchr(CASES[i].source, '\\') != NULL
                                         ? (uint32_t)AS_RECORD_SOURCE_ESCAPED
                                         : 0u);
        release(&d);
        as_buf_free(&in);
    }

    /* The flag stands beside the others, and an escaped source beside an SQS record. */
    static const char MIXED[] =
        "{\"Records\":[{\"eventSource\":\"aws:sqs\"},{\"eventID\":\"e\\u0031\","
        "\"eventName\":\"MODIFY\",\"eventSource\":\"aws\\u003adynamodb\","
        "\"eventSourceARN\":\"a\\/b\",\"dynamodb\":{\"SequenceNumber\":\"\\u0031\"," KEYS "}}]}";
    decoded d;
    decode_with(&d, MIXED, sizeof MIXED - 1);
    assert_int_equal(d.status, AS_OK);
    assert_non_null(as_event_record(d.event, 0)->error);
    const as_record *r = as_event_record(d.event, 1);
    expect_text(r->error, NULL, "escaped fields");
    assert_int_equal(r->escaped, AS_RECORD_EVENT_ID_ESCAPED | AS_RECORD_SEQUENCE_ESCAPED |
                                     AS_RECORD_ARN_ESCAPED | AS_RECORD_SOURCE_ESCAPED);
    release(&d);
}

/* `template` with each '@' replaced by `with`. */
static as_buf substitute(const char *template, const char *with)
{
    as_buf b = AS_BUF_INIT;
    for (const char *p = template; *p != '\0'; p++) {
        if (*p == '@') {
            as_buf_append_str(&b, with);
        } else {
            as_buf_append_char(&b, *p);
        }
    }
    assert_int_equal(as_buf_status(&b), AS_OK);
    return b;
}

/* Every value a fault message quotes goes through one rule: the JSON string body as
 * received, cut after 64 bytes at a boundary that splits no UTF-8 sequence and no
 * escape (a surrogate pair is one), then "...". So the message is always UTF-8, which
 * DynamoDB demands of the S value it becomes; decode_with checks that for each. */
static void test_quoted_values_cut(void **state)
{
    (void)state;
    /* A record quoting its '@' at one site, and the fault that quotes it. */
    static const struct {
        const char *record;
        const char *error;
    } SITES[] = {
        {REC(ID ",\"eventName\":\"@\"," SRC "," DDB(SEQ "," KEYS)),
         "Records[0].eventName: \"@\" is not INSERT, MODIFY or REMOVE"},
        {REC(ID "," INS ",\"eventSource\":\"@\"," DDB(SEQ "," KEYS)),
         "Records[0].eventSource: is \"@\", not \"aws:dynamodb\""},
        {WITH_VALUE("{\"SS\":[\"@\",\"@\"]}"), AT_V ".SS: duplicate member \"@\""},
        {WITH_VALUE("{\"M\":{\"@\":{\"S\":\"x\"},\"@\":{\"S\":\"y\"}}}"),
         AT_V ": attribute name \"@\" appears twice"},
        {WITH_VALUE("{\"@\":1}"), AT_V ": unknown type \"@\""},
        {WITH_KEYS("{\"@\":{\"BOOL\":true}}"),
         "Records[0].dynamodb.Keys: key attribute \"@\" has type BOOL, not S, N or B"},
        {WITH_KEYS("{\"@\":{\"S\":\"\"}}"), "Records[0].dynamodb.Keys: key attribute \"@\" is empty"},
        {WITH_VALUE("{\"N\":\"@\"}"), AT_V ": N \"@\": not a number"},
        {WITH_VALUE("{\"NS\":[\"1\",\"@\"]}"), AT_V ".NS[1]: N \"@\": not a number"},
        {WITH_VALUE("{\"B\":\"@\"}"), AT_V ": B \"@\": not valid base64 (standard alphabet, padded)"},
        {WITH_VALUE("{\"BS\":[\"@\"]}"),
         AT_V ".BS[0]: B \"@\": not valid base64 (standard alphabet, padded)"},
        /* Names in the path follow the same rule. */
        {WITH_DDB(SEQ "," KEYS ",\"NewImage\":{\"@\":{\"N\":\"x\"}}"),
         "Records[0].dynamodb.NewImage.@: N \"x\": not a number"},
    };
#define F51 "---------------------------------------------------"
#define F52 F51 "-"
#define F53 F52 "-"
#define F58 F53 "-----"
#define F59 F58 "-"
#define F60 F59 "-"
#define F61 F60 "-"
#define F62 F61 "-"
#define F63 F62 "-"
#define F64 F63 "-"
#define E_ACUTE "\xC3\xA9"
#define EURO "\xE2\x82\xAC"
#define GRIN "\xF0\x9F\x98\x80"
    /* String bodies (as in the JSON text) and how a message quotes them. */
    static const struct {
        const char *body;
        const char *quoted;
    } BODIES[] = {
        {"-", "-"},
        {F64, F64},                                 /* 64 bytes: whole */
        {F64 "-", F64 "..."},                       /* 65: cut after 64 */
        {F64 E_ACUTE, F64 "..."},                   /* a character just after the cut */
        {F63 E_ACUTE "--", F63 "..."},              /* 2-byte character across byte 64 */
        {F62 E_ACUTE "--", F62 E_ACUTE "..."},      /* ends on byte 64 */
        {F62 EURO "-", F62 "..."},                  /* 3-byte, 2 bytes before the cut */
        {F63 EURO "-", F63 "..."},                  /* 3-byte, 1 byte before the cut */
        {F61 EURO "-", F61 EURO "..."},
        {F61 GRIN "-", F61 "..."},                  /* 4-byte, 3 bytes before the cut */
        {F63 GRIN, F63 "..."},                      /* 4-byte, 1 byte before the cut */
        {F60 GRIN "-", F60 GRIN "..."},
        {F60 GRIN, F60 GRIN},                       /* 64 bytes with a 4-byte last */
        {F63 "\\n-", F63 "..."},                    /* a 2-byte escape across the cut */
        {F62 "\\n-", F62 "\\n..."},
        {F63 "\\\\-", F63 "..."},
        {F62 "\\\\-", F62 "\\\\..."},
        {F63 "\\\"-", F63 "..."},
        {F59 "\\u00e9", F59 "..."},                 /* a \u escape across the cut */
        {F60 "\\u00e9", F60 "..."},
        {F63 "\\u00e9", F63 "..."},
        {F58 "\\u00e9-", F58 "\\u00e9..."},
        {F53 "\\ud83d\\ude00-", F53 "..."},         /* a surrogate pair across the cut */
        {F58 "\\ud83d\\ude00", F58 "..."},          /* the cut between its two halves */
        {F52 "\\ud83d\\ude00-", F52 "\\ud83d\\ude00..."},
        {F52 "\\ud83d\\ude00", F52 "\\ud83d\\ude00"},
        /* A run of "\\" pairs read from its start, never from the middle of a pair. */
        {F52 "\\\\\\\\\\\\\\\\\\\\\\\\\\\\-", F52 "\\\\\\\\\\\\\\\\\\\\\\\\..."},
        {F51 "\\\\\\\\\\\\\\\\\\\\\\\\\\\\-", F51 "\\\\\\\\\\\\\\\\\\\\\\\\..."},
        {F53 "\\\\\\ud83d\\ude00-", F53 "\\\\..."},
        {F53 "\\u0041\\n\\u0042\\n-", F53 "\\u0041\\n..."},
    };
    for (size_t s = 0; s < sizeof SITES / sizeof SITES[0]; s++) {
        for (size_t b = 0; b < sizeof BODIES / sizeof BODIES[0]; b++) {
            as_buf record = substitute(SITES[s].record, BODIES[b].body);
            as_buf error = substitute(SITES[s].error, BODIES[b].quoted);
            expect_bad_record(record.data, record.len, E1, error.data);
            as_buf_free(&record);
            as_buf_free(&error);
        }
    }
#undef F52
#undef F53
#undef F58
#undef F59
#undef F60
#undef F61
#undef F62
#undef F63
#undef F64
#undef E_ACUTE
#undef EURO
#undef GRIN
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_events),
        cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_bad_records_built),
        cmocka_unit_test(test_values_exact),
        cmocka_unit_test(test_valid_values),
        cmocka_unit_test(test_view_types),
        cmocka_unit_test(test_creation_time),
        cmocka_unit_test(test_invalid_creation_time),
        cmocka_unit_test(test_valid_events),
        cmocka_unit_test(test_many_records),
        cmocka_unit_test(test_api_edges),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_null_optional_fields),
        cmocka_unit_test(test_escaped_event_fields),
        cmocka_unit_test(test_quoted_values_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
