/* DynamoDB numbers (type N): validation, DynamoDB's size, and comparison by value,
 * all on the decimal text as received; nothing goes through a double. */
#ifndef AS_NUMBER_H
#define AS_NUMBER_H

#include <stdbool.h>

#include "auditstream/common.h"
#include "core/internal.h"

#define AS_NUMBER_MAX_DIGITS 38

/* Points *why (when `why` is not NULL) at `reason`, a static string, and returns false:
 * how the checks here and in isotime.c refuse a text. */
static inline bool as_refuse(const char **why, const char *reason)
{
    if (why != NULL) {
        *why = reason;
    }
    return false;
}

/* A number reduced to sign, significant digits and exponent:
 * value = sign * 0.d1d2...dn * 10^exponent, d1 != 0, dn != 0, the digits as ASCII
 * '0'..'9' (not NUL-terminated). Zero, "-0" included, has sign 0, n = 0, exponent 0,
 * so every value has exactly one form: equal numbers have equal sign, exponent,
 * ndigits and first ndigits digits (the rest of `digits` is garbage). */
typedef struct as_number {
    int sign; /* -1, 0 or +1 */
    unsigned ndigits;
    int exponent;
    char digits[AS_NUMBER_MAX_DIGITS];
} as_number;

/* Which decimal syntax as_decimal_scan accepts. */
typedef enum as_decimal_grammar {
    AS_DECIMAL_DYNAMODB, /* DynamoDB's N: '+' or '-'; "5", ".5" and "5." (not ".") */
    AS_DECIMAL_JSON      /* RFC 8259: '-' only; "0" or no leading zero; digits on both
                          * sides of a '.' */
} as_decimal_grammar;

/* The parts of a decimal text, as offsets into it: [sign] int ['.' frac] [e exp].
 * Without a '.', frac_start == frac_end == int_end; after a bare "5.", both sit past
 * the '.'. The mantissa's digits are the int ones then the frac ones, its text
 * [int_start, frac_end) (a '.' among them, perhaps last). */
typedef struct as_decimal {
    bool negative; /* written with '-', "-0" too */
    size_t int_start;
    size_t int_end;
    size_t frac_start;
    size_t frac_end;
    int64_t exp10; /* the e/E exponent, 0 without one; saturates far out of any range */
    bool zero;     /* no non-zero digit: "0", "-0.00", "0e99" */
    /* When not zero: value = 0.d1d2... * 10^(point + exp10) with d1 != 0 the digit at
     * offset `first`; `point` saturates like exp10. Both are 0 for zero. */
    size_t first;
    int64_t point;
} as_decimal;

/* Scans `text` as a whole against `grammar` into *out; false (*out unspecified) when it
 * is not such a number. The exponent and point saturate so that point + exp10 cannot
 * overflow: beyond the saturation, any value is far outside every range that callers
 * accept. No allocation; linear in the text. */
AS_LOCAL bool as_decimal_scan(as_span text, as_decimal_grammar grammar, as_decimal *out);

/* Parses DynamoDB's number syntax: optional sign, digits with an optional '.', at least
 * one digit, optional e/E exponent with optional sign ("+5", ".5", "5.", "007", "1e-3"
 * are numbers; "", ".", "1e", " 1", "0x1", "Infinity" are not). Checks at most 38
 * significant digits (leading and trailing zeros do not count) and magnitude
 * 1E-130 .. 9.99...E+125; zero with any exponent ("0E999999999") is valid.
 * On failure returns false and points *why (when `why` is not NULL) at a static reason,
 * checked in this order: "not a number", "more than 38 significant digits",
 * "magnitude above 9.9999999999999999999999999999999999999E+125",
 * "magnitude below 1E-130"; *out is then unspecified. `text` is the raw bytes between
 * the JSON quotes. No allocation; the time is linear in the text. */
AS_LOCAL bool as_number_parse(as_span text, as_number *out, const char **why);

/* as_number_parse of a string body still JSON-escaped ("\u0031" is 1), as a decoded
 * event holds it, without decoding it into memory: the decoded digits are read one at a
 * time and reduced to a short equivalent text first, so that no allocation is needed
 * however many zeros the text carries. False for what as_number_parse refuses. */
AS_LOCAL bool as_number_parse_escaped(as_span body, as_number *out);

/* A total order by numeric value: <0, 0, >0, and 0 exactly when the values are equal
 * (1, 1.0, 1E0, 10E-1, 0.1e1 are equal; so are 0 and -0). Both numbers come from
 * as_number_parse. */
AS_LOCAL int as_number_cmp(const as_number *a, const as_number *b);

/* DynamoDB's size: 1 byte per two significant digits, rounded up, plus 1; the sign
 * costs nothing. Zero, which has no significant digits, is 1 byte. */
AS_LOCAL uint64_t as_number_size(const as_number *n);

#endif
