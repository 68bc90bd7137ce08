/* Private helpers shared by the library's modules: guard macros that keep the happy
 * path linear, and error reporting into the caller's optional as_error. */
#ifndef AS_INTERNAL_H
#define AS_INTERNAL_H

#include "auditstream/common.h"

#if defined(__GNUC__) || defined(__clang__)
#define AS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define AS_LOCAL             __attribute__((visibility("hidden")))
#define AS_LIKELY(x)         __builtin_expect(!!(x), 1)
#define AS_UNLIKELY(x)       __builtin_expect(!!(x), 0)
#else
#define AS_PRINTF(fmt, args)
#define AS_LOCAL
#define AS_LIKELY(x)   (x)
#define AS_UNLIKELY(x) (x)
#endif

/* Return the status of `expr` when it is not AS_OK. */
#define AS_GUARD(expr)                                                                             \
    do {                                                                                           \
        as_status as_guard_status_ = (expr);                                                       \
        if (as_guard_status_ != AS_OK) {                                                           \
            return as_guard_status_;                                                               \
        }                                                                                          \
    } while (0)

/* Return `status` when `cond` is false. */
#define AS_ENSURE(cond, status)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return (status);                                                                       \
        }                                                                                          \
    } while (0)

/* Fills `err` (which may be NULL) and returns `code`. */
AS_LOCAL as_status as_error_set(as_error *err, as_status code, size_t offset, const char *fmt, ...)
    AS_PRINTF(4, 5);

#endif
