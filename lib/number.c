/* DynamoDB numbers (type N): a scan of the decimal text that checks the syntax and
 * reduces it to sign, significant digits and a power of ten, so that nothing is rounded. */
#include <string.h>

#include "number.h"

/* value = 0.d1...dn * 10^exponent, so 1E-130 has exponent -129 and
 * 9.99...E+125 has exponent 126; 38 digits can never exceed the latter at 126. */
#define EXPONENT_MIN (-129)
#define EXPONENT_MAX 126

/* Exponent texts stop accumulating past LIMIT / 10 and digit positions are capped at
 * LIMIT, so "1E99999999999999999999" cannot overflow when the two are added; such a
 * value is out of range anyway. Capping never changes a verdict: a position that
 * could offset an exponent of LIMIT / 10 (about 2.3E17) needs more bytes than any
 * address space holds. */
#define LIMIT (INT64_MAX / 4)

static const char NOT_A_NUMBER[] = "not a number";
static const char TOO_MANY_DIGITS[] = "more than 38 significant digits";
static const char TOO_LARGE[] = "magnitude above 9.9999999999999999999999999999999999999E+125";
static const char TOO_SMALL[] = "magnitude below 1E-130";

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool fail(const char **why, const char *reason)
{
    if (why != NULL) {
        *why = reason;
    }
    return false;
}

static int64_t capped(size_t n)
{
    return n > (size_t)LIMIT ? LIMIT : (int64_t)n;
}

bool as_number_parse(as_span text, as_number *out, const char **why)
{
    const char *s = text.ptr;
    size_t len = text.len;
    size_t i = 0;

    int sign = 1;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '-' ? -1 : 1;
        i++;
    }

    /* The mantissa is [int_start, int_end) '.' [frac_start, frac_end); either run may
     * be empty, not both. */
    size_t int_start = i;
    while (i < len && is_digit(s[i])) {
        i++;
    }
    size_t int_end = i;
    size_t frac_start = i;
    size_t frac_end = i;
    if (i < len && s[i] == '.') {
        i++;
        frac_start = i;
        while (i < len && is_digit(s[i])) {
            i++;
        }
        frac_end = i;
    }
    if (int_end == int_start && frac_end == frac_start) {
        return fail(why, NOT_A_NUMBER);
    }

    int64_t exp10 = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool negative = false;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            negative = s[i] == '-';
            i++;
        }
        if (i == len || !is_digit(s[i])) {
            return fail(why, NOT_A_NUMBER);
        }
        while (i < len && is_digit(s[i])) {
            if (exp10 <= (LIMIT - 9) / 10) {
                exp10 = exp10 * 10 + (s[i] - '0');
            }
            i++;
        }
        if (negative) {
            exp10 = -exp10;
        }
    }
    if (i != len) {
        return fail(why, NOT_A_NUMBER);
    }

    /* The first significant digit; the mantissa's digits are int then frac. */
    size_t first = int_start;
    while (first < int_end && s[first] == '0') {
        first++;
    }
    bool first_in_int = first < int_end;
    if (!first_in_int) {
        first = frac_start;
        while (first < frac_end && s[first] == '0') {
            first++;
        }
        if (first == frac_end) {
            /* Zero, whatever its sign or exponent: DynamoDB stores it as 0. */
            out->sign = 0;
            out->ndigits = 0;
            out->exponent = 0;
            return true;
        }
    }

    /* The last significant digit: the mantissa ends at frac_end (a bare "5." ends
     * with its point), and the scan stops at `first` at the latest. */
    size_t last = frac_end - 1;
    while (s[last] == '0' || s[last] == '.') {
        last--;
    }

    unsigned n = 0;
    for (size_t k = first; k <= last; k++) {
        if (s[k] == '.') {
            continue;
        }
        if (n == AS_NUMBER_MAX_DIGITS) {
            return fail(why, TOO_MANY_DIGITS);
        }
        out->digits[n++] = s[k];
    }

    /* Digits before the point, counted from the first significant one; or, when the
     * number is below 1, minus the zeros between the point and the first one. */
    int64_t point = first_in_int ? capped(int_end - first) : -capped(first - frac_start);
    int64_t exponent = point + exp10;
    if (exponent > EXPONENT_MAX) {
        return fail(why, TOO_LARGE);
    }
    if (exponent < EXPONENT_MIN) {
        return fail(why, TOO_SMALL);
    }
    out->sign = sign;
    out->ndigits = n;
    out->exponent = (int)exponent;
    return true;
}

/* Compares magnitudes: a larger exponent wins, then the digits, then the longer of two
 * digit strings where one is a prefix of the other (its extra digits are non-zero). */
static int magnitude_cmp(const as_number *a, const as_number *b)
{
    if (a->exponent != b->exponent) {
        return a->exponent < b->exponent ? -1 : 1;
    }
    unsigned common = a->ndigits < b->ndigits ? a->ndigits : b->ndigits;
    int c = memcmp(a->digits, b->digits, common);
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    if (a->ndigits != b->ndigits) {
        return a->ndigits < b->ndigits ? -1 : 1;
    }
    return 0;
}

int as_number_cmp(const as_number *a, const as_number *b)
{
    if (a->sign != b->sign) {
        return a->sign < b->sign ? -1 : 1;
    }
    if (a->sign == 0) {
        return 0;
    }
    int c = magnitude_cmp(a, b);
    return a->sign > 0 ? c : -c;
}

uint64_t as_number_size(const as_number *n)
{
    return (uint64_t)(n->ndigits + 1) / 2 + 1;
}
