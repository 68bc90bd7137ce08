/* Types every libauditstream module shares: the status code, the caller-owned
 * error struct, and the (pointer, length) span that wire data travels in. */
#ifndef AUDITSTREAM_COMMON_H
#define AUDITSTREAM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define AS_MUST_CHECK __attribute__((warn_unused_result))
#else
#define AS_MUST_CHECK
#endif

/* Every fallible function returns one of these; AS_OK is zero. */
typedef enum as_status {
    AS_OK = 0,
    AS_ERR_NOMEM,     /* an allocation failed */
    AS_ERR_ARGUMENT,  /* the caller passed something the function cannot take */
    AS_ERR_JSON,      /* the bytes are not valid JSON (or not UTF-8) */
    AS_ERR_NOT_EVENT, /* valid JSON, but not a DynamoDB Streams event */
    AS_ERR_LIMIT,     /* a size or count the library refuses to exceed */
    AS_ERR_IO         /* a peer or connection failed (the Runtime API, an HTTP endpoint) */
} as_status;

/* Filled by a failing call when the caller passes one; the message names what was
 * wrong and where (record index, field path, byte offset). Always NUL-terminated. */
typedef struct as_error {
    as_status code;
    size_t offset; /* byte offset into the input for AS_ERR_JSON / AS_ERR_NOT_EVENT */
    char message[256];
} as_error;

/* A borrowed run of bytes; never NUL-terminated unless said otherwise. */
typedef struct as_span {
    const char *ptr;
    size_t len;
} as_span;

/* The span of a NUL-terminated string, its NUL left out; NULL gives the empty span
 * {NULL, 0}. The span borrows `text`. */
static inline as_span as_span_from_cstr(const char *text)
{
    as_span span = {text, 0};
    if (text != NULL) {
        while (text[span.len] != '\0') {
            span.len++;
        }
    }
    return span;
}

/* Short static name of a status ("ok", "out of memory", ...). */
const char *as_status_name(as_status status);

#ifdef __cplusplus
}
#endif

#endif
