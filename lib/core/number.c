/* DynamoDB numbers (type N): a scan of the decimal text that checks the syntax and
 * reduces it to sign, significant digits and a power of ten, so that nothing is rounded.
 * The scan also serves isotime.c, whose JSON numbers differ only in grammar. */
#include <string.h>

#include "core/cursor.h"
#include "core/json_text.h"
#include "core/number.h"

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

static int64_t capped(size_t n)
{
    return n > (size_t)LIMIT ? LIMIT : (int64_t)n;
}

/* The first non-zero digit of the mantissa, or frac_end when there is none. */
static size_t first_significant(const char *s, const as_decimal *d)
{
    size_t first = d->int_start;
    while (first < d->int_end && s[first] == '0') {
        first++;
    }
    if (first < d->int_end) {
        return first;
    }
    first = d->frac_start;
    while (first < d->frac_end && s[first] == '0') {
        first++;
    }
    return first;
}

bool as_decimal_scan(as_span text, as_decimal_grammar grammar, as_decimal *out)
{
    bool json = grammar == AS_DECIMAL_JSON;
    as_cursor c = as_cursor_of(text);

    char sign = '+';
    (void)as_cursor_take_one_of(&c, json ? "-" : "+-", &sign);
    out->negative = sign == '-';

    out->int_start = c.pos;
    /* JSON's only integer part that starts with 0 is "0" itself. */
    if (!(json && as_cursor_take_char(&c, '0'))) {
        (void)as_cursor_take_digits(&c);
    }
    out->int_end = c.pos;
    if (json && out->int_end == out->int_start) {
        return false;
    }
    out->frac_start = c.pos;
    out->frac_end = c.pos;
    if (as_cursor_take_char(&c, '.')) {
        out->frac_start = c.pos;
        (void)as_cursor_take_digits(&c);
        out->frac_end = c.pos;
        if (json && out->frac_end == out->frac_start) {
            return false;
        }
    }
    if (out->int_end == out->int_start && out->frac_end == out->frac_start) {
        return false;
    }

    out->exp10 = 0;
    if (as_cursor_take_one_of(&c, "eE", NULL)) {
        char exp_sign = '+';
        (void)as_cursor_take_one_of(&c, "+-", &exp_sign);
        as_span digits = as_cursor_take_digits(&c);
        if (digits.len == 0) {
            return false;
        }
        for (size_t k = 0; k < digits.len; k++) {
            if (out->exp10 <= (LIMIT - 9) / 10) {
                out->exp10 = out->exp10 * 10 + (digits.ptr[k] - '0');
            }
        }
        if (exp_sign == '-') {
            out->exp10 = -out->exp10;
        }
    }
    if (!as_cursor_at_end(&c)) {
        return false;
    }

    const char *s = text.ptr;
    out->first = first_significant(s, out);
    out->zero = out->first == out->frac_end;
    if (out->zero) {
        out->first = 0;
        out->point = 0;
    } else if (out->first < out->int_end) {
        /* Digits before the point, counted from the first significant one. */
        out->point = capped(out->int_end - out->first);
    } else {
        /* Below 1: minus the zeros between the point and the first significant one. */
        out->point = -capped(out->first - out->frac_start);
    }
    return true;
}

bool as_number_parse(as_span text, as_number *out, const char **why)
{
    as_decimal d;
    if (!as_decimal_scan(text, AS_DECIMAL_DYNAMODB, &d)) {
        return as_refuse(why, NOT_A_NUMBER);
    }
    if (d.zero) {
        /* Zero, whatever its sign or exponent: DynamoDB stores it as 0. */
        out->sign = 0;
        out->ndigits = 0;
        out->exponent = 0;
        return true;
    }

    /* The last significant digit: the mantissa ends at frac_end (a bare "5." ends
     * with its point), and the scan stops at `first` at the latest. */
    const char *s = text.ptr;
    size_t last = d.frac_end - 1;
    while (s[last] == '0' || s[last] == '.') {
        last--;
    }

    unsigned n = 0;
    for (size_t k = d.first; k <= last; k++) {
        if (s[k] == '.') {
            continue;
        }
        if (n == AS_NUMBER_MAX_DIGITS) {
            return as_refuse(why, TOO_MANY_DIGITS);
        }
        out->digits[n++] = s[k];
    }

    int64_t exponent = d.point + d.exp10;
    if (exponent > EXPONENT_MAX) {
        return as_refuse(why, TOO_LARGE);
    }
    if (exponent < EXPONENT_MIN) {
        return as_refuse(why, TOO_SMALL);
    }
    out->sign = d.negative ? -1 : 1;
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

/* ---- Escaped texts ------------------------------------------------------------------- */

/* "[-]0." + 38 digits + "E" + a 64-bit exponent, with room to spare. */
#define SQUEEZED_MAX 72

/* Writes the decoded text of an escaped N ("\u0031" is "1") as [-]0.<digits>E<exp>:
 * the same value, but short however many zeros the original carries, so that
 * as_number_parse can read it from the stack. False when the text is not a number
 * with at most 38 significant digits (never so for a decoded event's N). */
static bool squeeze_number(as_span text, char out[SQUEEZED_MAX], as_span *result)
{
    as_json_bytes r = as_json_bytes_of(text, true);
    size_t n = 0;
    int c = as_json_bytes_next(&r);
    if (c == '-' || c == '+') {
        if (c == '-') {
            out[n++] = '-';
        }
        c = as_json_bytes_next(&r);
    }
    char digits[AS_NUMBER_MAX_DIGITS];
    size_t ndigits = 0;
    int64_t zeros = 0; /* zeros held back after the last significant digit */
    int64_t point = 0; /* value = 0.<digits> * 10^(point + exponent) */
    bool seen_point = false;
    bool seen_digit = false;
    for (;; c = as_json_bytes_next(&r)) {
        if (c == '.' && !seen_point) {
            seen_point = true;
            continue;
        }
        if (c < '0' || c > '9') {
            break;
        }
        seen_digit = true;
        if (ndigits == 0 && c == '0') {
            if (seen_point) {
                point--; /* 0.001 is 0.1E-2 */
            }
            continue;
        }
        if (!seen_point) {
            point++;
        }
        if (c == '0') {
            zeros++;
            continue;
        }
        if ((int64_t)ndigits + zeros + 1 > AS_NUMBER_MAX_DIGITS) {
            return false;
        }
        memset(digits + ndigits, '0', (size_t)zeros);
        ndigits += (size_t)zeros;
        zeros = 0;
        digits[ndigits++] = (char)c;
    }
    if (!seen_digit) {
        return false;
    }
    int64_t exponent = 0;
    if (c == 'e' || c == 'E') {
        c = as_json_bytes_next(&r);
        bool negative = c == '-';
        if (c == '-' || c == '+') {
            c = as_json_bytes_next(&r);
        }
        if (c < '0' || c > '9') {
            return false;
        }
        for (; c >= '0' && c <= '9'; c = as_json_bytes_next(&r)) {
            /* Past this the value is out of range anyway; stop before overflowing. */
            if (exponent < INT64_MAX / 1000) {
                exponent = exponent * 10 + (c - '0');
            }
        }
        if (negative) {
            exponent = -exponent;
        }
    }
    if (c != -1) {
        return false;
    }
    if (ndigits == 0) {
        out[0] = '0';
        result->ptr = out;
        result->len = 1;
        return true;
    }
    out[n++] = '0';
    out[n++] = '.';
    memcpy(out + n, digits, ndigits);
    n += ndigits;
    out[n++] = 'E';
    /* |point| is bounded by the text's length, far below INT64_MAX / 2. */
    int64_t total = point + exponent;
    uint64_t magnitude = total < 0 ? (uint64_t)0 - (uint64_t)total : (uint64_t)total;
    if (total < 0) {
        out[n++] = '-';
    }
    char text_digits[20];
    size_t count = 0;
    do {
        text_digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    while (count > 0) {
        out[n++] = text_digits[--count];
    }
    result->ptr = out;
    result->len = n;
    return true;
}

bool as_number_parse_escaped(as_span body, as_number *out)
{
    char buf[SQUEEZED_MAX];
    as_span squeezed;
    return squeeze_number(body, buf, &squeezed) && as_number_parse(squeezed, out, NULL);
}
