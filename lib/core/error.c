/* Status names, and the one way a failure's message reaches the caller's optional
 * as_error (as_fail). */
#include <stdarg.h>
#include <stdio.h>

#include "core/internal.h"

const char *as_status_name(as_status status)
{
    switch (status) {
    case AS_OK: return "ok";
    case AS_ERR_NOMEM: return "out of memory";
    case AS_ERR_ARGUMENT: return "invalid argument";
    case AS_ERR_JSON: return "invalid JSON";
    case AS_ERR_NOT_EVENT: return "not a DynamoDB Streams event";
    case AS_ERR_LIMIT: return "limit exceeded";
    case AS_ERR_IO: return "I/O failure";
    default: return "unknown status";
    }
}

/* Both forms fill the error the same way; only their return types differ. */
static void fill(as_error *err, as_status code, size_t offset, const char *fmt, va_list ap)
    AS_PRINTF(4, 0);

static void fill(as_error *err, as_status code, size_t offset, const char *fmt, va_list ap)
{
    if (err != NULL) {
        err->code = code;
        err->offset = offset;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
}

as_result as_fail(as_error *err, as_status code, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fill(err, code, offset, fmt, ap);
    va_end(ap);
    return (as_result){code};
}
