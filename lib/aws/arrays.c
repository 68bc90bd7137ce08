/* Parallel arrays grown together (aws/arrays.h): one copy of the overflow check and the
 * two reallocs that the DynamoDB client and the batch both need. */
#include <stdint.h>
#include <stdlib.h>

#include "aws/arrays.h"

as_result as_grow_pair(void **a, size_t a_size, void **b, size_t b_size, size_t *cap, size_t count,
                       as_error *err, const char *what)
{
    if (count <= *cap) {
        return AS_RESULT_OK;
    }
    size_t larger = a_size > b_size ? a_size : b_size;
    AS_ENSURE(larger > 0 && count <= SIZE_MAX / larger, as_fail_nomem(err, what));
    void *grown_a = realloc(*a, count * a_size);
    AS_ENSURE(grown_a != NULL, as_fail_nomem(err, what));
    *a = grown_a;
    void *grown_b = realloc(*b, count * b_size);
    AS_ENSURE(grown_b != NULL, as_fail_nomem(err, what));
    *b = grown_b;
    *cap = count;
    return AS_RESULT_OK;
}
