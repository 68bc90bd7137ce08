/* Private helpers shared by the library's modules: the result type every internal
 * fallible function returns, the guards that keep the happy path linear, and as_fail.
 *
 * The convention (s2n-tls's s2n_result is the model):
 *   - an internal fallible function, static ones too, returns AS_RESULT: a struct the
 *     compiler neither lets a caller drop (warn_unused_result) nor mistakes for an int,
 *     a bool or an as_status (it converts to none of them);
 *   - it fails with `return as_fail(err, code, offset, "what went wrong", ...)`, where
 *     the failure is found, so that the message names what failed there; nothing fills
 *     a message in later, and no module keeps a failure kind of its own;
 *   - a caller passes a failure on with AS_GUARD(call) (an as_result only),
 *     AS_GUARD_STATUS(call) for a public function that returns as_status and fills
 *     `err` itself, and AS_ENSURE(cond, as_fail(...)) for a condition;
 *   - a public entry point returns as_status, AS_MUST_CHECK, converting once with
 *     as_status_of(result).
 * A sticky as_buf is the one deliberate exception to "fail at once": appends go on
 * after a failed grow and do nothing, and as_buf_result() turns the buffer's state
 * into a result, with its message, before anything reads the buffer's contents. */
#ifndef AS_INTERNAL_H
#define AS_INTERNAL_H

#include <stdbool.h>
#include <string.h>

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

/* The outcome of an internal fallible function. Internal only: the public API returns
 * the as_status enum. */
typedef struct as_result {
    as_status status;
} as_result;

/* The return type of every internal fallible function. */
#define AS_RESULT AS_MUST_CHECK as_result

#define AS_RESULT_OK ((as_result){AS_OK})

static inline bool as_result_is_ok(as_result result)
{
    return result.status == AS_OK;
}

/* What a public entry point returns for `result`. */
static inline as_status as_status_of(as_result result)
{
    return result.status;
}

/* Fills `err` (which may be NULL) with `code`, `offset` and the formatted message, and
 * returns the failed result. `code` must not be AS_OK. */
AS_LOCAL AS_RESULT as_fail(as_error *err, as_status code, size_t offset, const char *fmt, ...)
    AS_PRINTF(4, 5);

/* AS_ERR_NOMEM with the message "out of memory <doing>", e.g. "decoding the event". */
#define as_fail_nomem(err, doing) as_fail((err), AS_ERR_NOMEM, 0, "out of memory %s", (doing))

/* AS_RESULT_OK when no append to `buf` has failed since its last clear, else
 * as_fail_nomem(err, doing). Check it before anything reads the buffer's contents. */
struct as_buf;
AS_LOCAL AS_RESULT as_buf_result(const struct as_buf *buf, as_error *err, const char *doing);

/* Returns the failed result of `expr`, an as_result. Anything else does not compile: an
 * int, a bool or an as_status has no conversion to the as_result parameter of
 * as_result_is_ok, and the function returns as_result. */
#define AS_GUARD(expr)                                                                             \
    do {                                                                                           \
        as_result as_guard_ = (expr);                                                              \
        if (!as_result_is_ok(as_guard_)) {                                                         \
            return as_guard_;                                                                      \
        }                                                                                          \
    } while (0)

/* From a function that returns as_result, calls a public function that returns as_status
 * and has filled its as_error on failure, and returns that status as a result. Anything
 * but an as_status (an int, a bool, an as_result) does not compile; a compiler that
 * stores the enum as unsigned int lets an unsigned int through. */
#define AS_GUARD_STATUS(expr)                                                                      \
    do {                                                                                           \
        as_status as_guard_status_ = _Generic((expr), as_status : (expr));                         \
        if (as_guard_status_ != AS_OK) {                                                           \
            return (as_result){as_guard_status_};                                                  \
        }                                                                                          \
    } while (0)

/* Returns `result` when `cond` is false. In a function that returns as_result, `result`
 * is an as_result, typically as_fail(...), which is evaluated only on failure. */
#define AS_ENSURE(cond, result)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return (result);                                                                       \
        }                                                                                          \
    } while (0)

/* Orders two spans bytewise, a proper prefix first: the sort order the trail and the chain
 * both rely on, so one definition keeps them from drifting apart. */
static inline int as_span_cmp(as_span a, as_span b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n > 0 ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c != 0) {
        return c;
    }
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

#endif
