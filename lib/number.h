/* DynamoDB numbers (type N): validation, DynamoDB's size, and comparison by value,
 * all on the decimal text as received; nothing goes through a double. */
#ifndef AS_NUMBER_H
#define AS_NUMBER_H

#include <stdbool.h>

#include "auditstream/common.h"
#include "internal.h"

#define AS_NUMBER_MAX_DIGITS 38

/* A number reduced to sign, significant digits and exponent:
 * value = sign * 0.d1d2...dn * 10^exponent, d1 != 0, dn != 0. Zero has n = 0. */
typedef struct as_number {
    int sign;                               /* -1, 0 or +1 */
    unsigned ndigits;
    int exponent;
    char digits[AS_NUMBER_MAX_DIGITS];
} as_number;

/* Parses DynamoDB's number syntax: optional sign, digits with an optional '.', at least
 * one digit, optional e/E exponent with optional sign. Checks at most 38 significant
 * digits and magnitude 1E-130 .. 9.99...E+125 (zero allowed). On failure returns
 * false and points *why at a static reason ("not a number", "more than 38 significant
 * digits", "magnitude above 9.9999999999999999999999999999999999999E+125",
 * "magnitude below 1E-130"). `text` is the raw bytes between the JSON quotes. */
AS_LOCAL bool as_number_parse(as_span text, as_number *out, const char **why);

/* A total order consistent with numeric equality: <0, 0, >0. */
AS_LOCAL int as_number_cmp(const as_number *a, const as_number *b);

/* DynamoDB's size: 1 byte per two significant digits, rounded up, plus 1. */
AS_LOCAL uint64_t as_number_size(const as_number *n);

#endif
