/* as_buf: the one growable byte buffer all output goes through.
 * Appends never overrun; a failed grow is sticky: every later append does nothing until a
 * clear, and as_buf_status() reports it. Check the status before using the contents. */
#ifndef AUDITSTREAM_BUF_H
#define AUDITSTREAM_BUF_H

#include <stdbool.h>
#include <string.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Zero-initialise (AS_BUF_INIT or as_buf_init) before use. `data` is owned by the
 * buffer and is NUL-terminated whenever it is non-NULL, for convenience only: the
 * contents are binary-safe and `len` is authoritative. */
typedef struct as_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed; /* an append could not grow the buffer; later appends do nothing */
} as_buf;

#define AS_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, false                                                                          \
    }

void as_buf_init(as_buf *buf);
/* Releases the storage; the buffer is empty and usable again. NULL is a no-op. */
void as_buf_free(as_buf *buf);
/* Forgets the contents and the failure, keeps the storage. */
void as_buf_clear(as_buf *buf);
/* Cuts the contents back to their first `len` bytes (a longer `len` changes nothing). A
 * failure is kept: bytes written before it are not known to be whole. */
void as_buf_truncate(as_buf *buf, size_t len);
/* Makes room for `extra` more bytes. */
AS_MUST_CHECK as_status as_buf_reserve(as_buf *buf, size_t extra);
/* AS_ERR_NOMEM if any append since the last clear failed, else AS_OK. */
AS_MUST_CHECK as_status as_buf_status(const as_buf *buf);

void as_buf_grow_slow(as_buf *buf, const void *ptr, size_t len);

/* Appends `len` bytes. After a failed grow nothing is appended, even what would fit in
 * the storage left: a buffer that silently skipped one piece must not go on to look
 * complete. */
static inline void as_buf_append(as_buf *buf, const void *ptr, size_t len)
{
    if (!buf->failed && buf->cap - buf->len > len) {
        if (len > 0) {
            memcpy(buf->data + buf->len, ptr, len);
        }
        buf->len += len;
        buf->data[buf->len] = '\0';
        return;
    }
    as_buf_grow_slow(buf, ptr, len);
}

static inline void as_buf_append_span(as_buf *buf, as_span span)
{
    as_buf_append(buf, span.ptr, span.len);
}

/* `str` is NUL-terminated. */
static inline void as_buf_append_str(as_buf *buf, const char *str)
{
    as_buf_append(buf, str, strlen(str));
}

static inline void as_buf_append_char(as_buf *buf, char c)
{
    as_buf_append(buf, &c, 1);
}

/* Decimal text of `value`. */
void as_buf_append_u64(as_buf *buf, uint64_t value);

/* Writes `bytes` as the body of a JSON string (no quotes): '"', '\\' and control
 * bytes escaped, everything else (UTF-8 included) copied. */
void as_buf_append_json_escaped(as_buf *buf, const char *bytes, size_t len);

#ifdef __cplusplus
}
#endif

#endif
