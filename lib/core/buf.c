/* as_buf: growth, escaping and number formatting for the one output buffer type.
 * Growth doubles, so appending n bytes costs O(n) amortised. */
#include <stdlib.h>

#include "auditstream/buf.h"
#include "core/hex.h"
#include "core/internal.h"

void as_buf_init(as_buf *buf)
{
    *buf = (as_buf)AS_BUF_INIT;
}

void as_buf_free(as_buf *buf)
{
    if (buf == NULL) {
        return;
    }
    free(buf->data);
    as_buf_init(buf);
}

void as_buf_clear(as_buf *buf)
{
    buf->len = 0;
    buf->failed = false;
    if (buf->data != NULL) {
        buf->data[0] = '\0';
    }
}

void as_buf_truncate(as_buf *buf, size_t len)
{
    if (buf->data != NULL && len < buf->len) {
        buf->len = len;
        buf->data[len] = '\0';
    }
}

as_status as_buf_reserve(as_buf *buf, size_t extra)
{
    if (buf->failed) {
        return AS_ERR_NOMEM;
    }
    /* One byte more than asked keeps room for the terminating NUL. */
    if (buf->cap - buf->len > extra) {
        return AS_OK;
    }
    if (extra > SIZE_MAX / 2 - buf->len) {
        buf->failed = true;
        return AS_ERR_NOMEM;
    }
    size_t want = buf->len + extra + 1;
    size_t cap = buf->cap < 64 ? 64 : buf->cap;
    while (cap < want) {
        cap *= 2;
    }
    char *data = realloc(buf->data, cap);
    if (data == NULL) {
        buf->failed = true;
        return AS_ERR_NOMEM;
    }
    buf->data = data;
    buf->cap = cap;
    return AS_OK;
}

as_status as_buf_status(const as_buf *buf)
{
    return buf->failed ? AS_ERR_NOMEM : AS_OK;
}

as_result as_buf_result(const as_buf *buf, as_error *err, const char *doing)
{
    if (buf->failed) {
        return as_fail_nomem(err, doing);
    }
    return AS_RESULT_OK;
}

void as_buf_grow_slow(as_buf *buf, const void *ptr, size_t len)
{
    if (as_buf_reserve(buf, len) != AS_OK) {
        return;
    }
    if (len > 0) {
        memcpy(buf->data + buf->len, ptr, len);
    }
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void as_buf_append_u64(as_buf *buf, uint64_t value)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n] = (char)('0' + value % 10);
        value /= 10;
        n++;
    } while (value != 0);
    as_buf_append(buf, digits + sizeof digits - n, n);
}

void as_buf_append_json_escaped(as_buf *buf, const char *bytes, size_t len)
{
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        as_buf_append(buf, bytes + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': as_buf_append(buf, "\\\"", 2); break;
        case '\\': as_buf_append(buf, "\\\\", 2); break;
        case '\n': as_buf_append(buf, "\\n", 2); break;
        case '\r': as_buf_append(buf, "\\r", 2); break;
        case '\t': as_buf_append(buf, "\\t", 2); break;
        case '\b': as_buf_append(buf, "\\b", 2); break;
        case '\f': as_buf_append(buf, "\\f", 2); break;
        default: {
            char esc[6] = {
                '\\', 'u', '0', '0', as_hex_digit(c >> 4, false), as_hex_digit(c, false)};
            as_buf_append(buf, esc, sizeof esc);
            break;
        }
        }
    }
    as_buf_append(buf, bytes + run, len - run);
}
