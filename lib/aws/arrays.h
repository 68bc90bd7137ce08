/* Parallel arrays grown together: the DynamoDB client's per-item state and the batch's
 * per-item spans and results, each pair indexed by item and sized by one capacity. */
#ifndef AS_ARRAYS_H
#define AS_ARRAYS_H

#include <stddef.h>

#include "core/internal.h"

/* Makes the arrays at *a (elements of `a_size` bytes) and *b (`b_size`) hold `count`
 * elements each, and sets *cap to `count`; nothing when *cap is enough already. On
 * failure (as_fail_nomem naming `what`) *cap is unchanged and *a and *b still point at
 * live arrays of at least *cap elements (one of them may have moved), so the caller
 * stores both back whatever the result. */
AS_LOCAL AS_RESULT as_grow_pair(void **a, size_t a_size, void **b, size_t b_size, size_t *cap,
                                size_t count, as_error *err, const char *what);

#endif
