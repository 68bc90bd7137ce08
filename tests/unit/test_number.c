/* Unit tests for lib/number.c: DynamoDB's N syntax, its limits and reasons, the
 * normal form, the value order (checked against integer arithmetic), the size, and the
 * decimal scanner it shares with isotime.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/number.h"

static const char NAN_WHY[] = "not a number";
static const char DIGITS_WHY[] = "more than 38 significant digits";
static const char ABOVE_WHY[] = "magnitude above 9.9999999999999999999999999999999999999E+125";
static const char BELOW_WHY[] = "magnitude below 1E-130";

/* Parses `text` that must be valid, failing the test with its text otherwise. */
static as_number parse_ok(as_span text)
{
    as_number n;
    const char *why = "(untouched)";
    if (!as_number_parse(text, &n, &why)) {
        fail_msg("\"%.*s\" rejected: %s", (int)(text.len > 200 ? 200 : text.len), text.ptr, why);
    }
    return n;
}

static void expect_form(const char *text, int sign, const char *digits, int exponent, uint64_t size)
{
    as_number n = parse_ok(as_span_from_cstr(text));
    if (n.sign != sign || n.ndigits != strlen(digits) || memcmp(n.digits, digits, n.ndigits) != 0 ||
        n.exponent != exponent || as_number_size(&n) != size) {
        fail_msg("\"%s\": got sign %d digits \"%.*s\" exponent %d size %llu, want %d \"%s\" "
                 "%d %llu",
                 text, n.sign, (int)n.ndigits, n.digits, n.exponent,
                 (unsigned long long)as_number_size(&n), sign, digits, exponent,
                 (unsigned long long)size);
    }
}

static void expect_reject(as_span text, const char *reason)
{
    as_number n;
    const char *why = NULL;
    if (as_number_parse(text, &n, &why)) {
        fail_msg("\"%.*s\" accepted, want \"%s\"", (int)(text.len > 200 ? 200 : text.len), text.ptr,
                 reason);
    }
    if (why == NULL || strcmp(why, reason) != 0) {
        fail_msg("\"%.*s\": reason \"%s\", want \"%s\"", (int)(text.len > 200 ? 200 : text.len),
                 text.ptr, why == NULL ? "(null)" : why, reason);
    }
}

/* value = sign * 0.digits * 10^exponent; size = ceil(len(digits) / 2) + 1. The forms
 * were cross-checked with Python's decimal.Decimal(text).normalize(). */
static const struct {
    const char *text;
    int sign;
    const char *digits;
    int exponent;
    uint64_t size;
} FORMS[] = {
    {"0", 0, "", 0, 1},
    {"-0", 0, "", 0, 1},
    {"+0", 0, "", 0, 1},
    {"0.0", 0, "", 0, 1},
    {"000.000", 0, "", 0, 1},
    {".0", 0, "", 0, 1},
    {"0.", 0, "", 0, 1},
    {"0E999999999", 0, "", 0, 1},
    {"-0e-999999999", 0, "", 0, 1},
    {"0E99999999999999999999999999999999", 0, "", 0, 1},
    {"1", 1, "1", 1, 2},
    {"+1", 1, "1", 1, 2},
    {"-1", -1, "1", 1, 2},
    {"1.0", 1, "1", 1, 2},
    {"1E0", 1, "1", 1, 2},
    {"10E-1", 1, "1", 1, 2},
    {"0.1e1", 1, "1", 1, 2},
    {"0.1E+1", 1, "1", 1, 2},
    {"007", 1, "7", 1, 2},
    {".5", 1, "5", 0, 2},
    {"5.", 1, "5", 1, 2},
    {"-.5", -1, "5", 0, 2},
    {"12", 1, "12", 2, 2},
    {"123", 1, "123", 3, 3},
    {"100", 1, "1", 3, 2},
    {"1200", 1, "12", 4, 2},
    {"0.001", 1, "1", -2, 2},
    {"0.0010", 1, "1", -2, 2},
    {"1.5", 1, "15", 1, 2},
    {"-12345", -1, "12345", 5, 4},
    {"3600", 1, "36", 4, 2},
    {"1.4285376E9", 1, "14285376", 10, 5},
    {"1e-3", 1, "1", -2, 2},
    {"1E+3", 1, "1", 4, 2},
    {"102.0304", 1, "1020304", 3, 5},
    {"0.000123e3", 1, "123", 0, 3},
    {"123000e-3", 1, "123", 3, 3},
    {"1e-0", 1, "1", 1, 2},
    {"1e-000000000000000000000000000001", 1, "1", 0, 2},
    /* The limits themselves. */
    {"1E-130", 1, "1", -129, 2},
    {"-1E-130", -1, "1", -129, 2},
    {"0.1E-129", 1, "1", -129, 2},
    {"1E125", 1, "1", 126, 2},
    {"9.9999999999999999999999999999999999999E+125", 1, "99999999999999999999999999999999999999",
     126, 20},
    {"-9.9999999999999999999999999999999999999E+125", -1, "99999999999999999999999999999999999999",
     126, 20},
    {"99999999999999999999999999999999999999E88", 1, "99999999999999999999999999999999999999", 126,
     20},
    {"1.2345678901234567890123456789012345678E-130", 1, "12345678901234567890123456789012345678",
     -129, 20},
    /* 38 significant digits, however many zeros surround them. */
    {"12345678901234567890123456789012345678", 1, "12345678901234567890123456789012345678", 38, 20},
    {"1234567890123456789012345678901234567800000", 1, "12345678901234567890123456789012345678", 43,
     20},
    {"0.00001234567890123456789012345678901234567800", 1, "12345678901234567890123456789012345678",
     -4, 20},
    {"00000000000000000000000000000000000000000000001.0000000000000000000000000000000000000000000",
     1, "1", 1, 2},
    {"1.0000000000000000000000000000000000001", 1, "10000000000000000000000000000000000001", 1, 20},
    {"100000000000000000000000000000000000000000000000000", 1, "1", 51, 2},
};

static void test_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof FORMS / sizeof FORMS[0]; i++) {
        expect_form(FORMS[i].text, FORMS[i].sign, FORMS[i].digits, FORMS[i].exponent,
                    FORMS[i].size);
    }
}

static const struct {
    const char *text;
    const char *why;
} REJECTS[] = {
    {"", NAN_WHY},
    {"+", NAN_WHY},
    {"-", NAN_WHY},
    {".", NAN_WHY},
    {"+.", NAN_WHY},
    {"-.e1", NAN_WHY},
    {"e5", NAN_WHY},
    {"E5", NAN_WHY},
    {".e5", NAN_WHY},
    {"1e", NAN_WHY},
    {"1E+", NAN_WHY},
    {"1e-", NAN_WHY},
    {"1e++5", NAN_WHY},
    {"1e+-5", NAN_WHY},
    {"1.2.3", NAN_WHY},
    {"1..2", NAN_WHY},
    {"1e5.5", NAN_WHY},
    {"1e5e5", NAN_WHY},
    {"--1", NAN_WHY},
    {"+-1", NAN_WHY},
    {"-+1", NAN_WHY},
    {" 1", NAN_WHY},
    {"1 ", NAN_WHY},
    {"1,5", NAN_WHY},
    {"1_000", NAN_WHY},
    {"0x10", NAN_WHY},
    {"1d5", NAN_WHY},
    {"1f", NAN_WHY},
    {"Infinity", NAN_WHY},
    {"-Infinity", NAN_WHY},
    {"NaN", NAN_WHY},
    {"\"1\"", NAN_WHY},
    {"\xd9\xa1", NAN_WHY},     /* ARABIC-INDIC DIGIT ONE */
    {"\xef\xbc\x91", NAN_WHY}, /* FULLWIDTH DIGIT ONE */
    /* Too many digits is reported before magnitude. */
    {"123456789012345678901234567890123456789", DIGITS_WHY},
    {"-123456789012345678901234567890123456789", DIGITS_WHY},
    {"1.00000000000000000000000000000000000001", DIGITS_WHY},
    {"0.000123456789012345678901234567890123456789", DIGITS_WHY},
    {"100000000000000000000000000000000000000000000001", DIGITS_WHY},
    {"123456789012345678901234567890123456789E999", DIGITS_WHY},
    {"123456789012345678901234567890123456789E-999", DIGITS_WHY},
    /* Magnitude. */
    {"1E126", ABOVE_WHY},
    {"-1E126", ABOVE_WHY},
    {"1E+126", ABOVE_WHY},
    {"10E125", ABOVE_WHY},
    {"0.1E127", ABOVE_WHY},
    {"9.99999999999999999999999999999999999999E+125", DIGITS_WHY},
    {"1E99999999999999999999", ABOVE_WHY},
    {"1E9223372036854775807", ABOVE_WHY},
    {"1E9223372036854775808", ABOVE_WHY},
    {"1E18446744073709551616", ABOVE_WHY},
    {"1E2147483648", ABOVE_WHY},
    {"1E4294967297", ABOVE_WHY},
    {"0.00001E99999999999999999999999999999999999999", ABOVE_WHY},
    {"1E-131", BELOW_WHY},
    {"-1E-131", BELOW_WHY},
    {"0.99999E-130", BELOW_WHY},
    {"0.1E-130", BELOW_WHY},
    {"1E-99999999999999999999", BELOW_WHY},
    {"1E-9223372036854775808", BELOW_WHY},
    {"1E-2147483649", BELOW_WHY},
    {"100000E-99999999999999999999999999999999999999", BELOW_WHY},
};

static void test_rejects(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof REJECTS / sizeof REJECTS[0]; i++) {
        expect_reject(as_span_from_cstr(REJECTS[i].text), REJECTS[i].why);
    }
}

/* Bytes past `len` are never read, and an embedded NUL is just a bad byte. */
static void test_span_bounds(void **state)
{
    (void)state;
    as_number n = parse_ok((as_span){"12345", 3});
    assert_int_equal(n.ndigits, 3);
    assert_memory_equal(n.digits, "123", 3);
    assert_int_equal(n.exponent, 3);

    n = parse_ok((as_span){"1e5x", 3});
    assert_int_equal(n.exponent, 6);

    expect_reject((as_span){"1\0", 2}, NAN_WHY);
    expect_reject((as_span){"\0"
                            "1",
                            2},
                  NAN_WHY);
    expect_reject((as_span){"1e", 2}, NAN_WHY);
    expect_reject((as_span){"1.5", 0}, NAN_WHY);
    expect_reject((as_span){NULL, 0}, NAN_WHY);
}

/* `why` may be NULL, and a rejection does not depend on it. */
static void test_null_why(void **state)
{
    (void)state;
    as_number n;
    assert_false(as_number_parse(as_span_from_cstr("x"), &n, NULL));
    assert_false(as_number_parse(as_span_from_cstr("1E126"), &n, NULL));
    assert_true(as_number_parse(as_span_from_cstr("1E125"), &n, NULL));
    assert_int_equal(n.exponent, 126);
}

/* Texts made at run time: long runs of zeros move the point far from the digits. */
static void test_long_texts(void **state)
{
    (void)state;
    char text[600];

    /* "1" then z zeros is 1E z: valid up to 125. */
    for (size_t z = 120; z <= 130; z++) {
        text[0] = '1';
        memset(text + 1, '0', z);
        as_span s = {text, z + 1};
        if (z <= 125) {
            as_number n = parse_ok(s);
            assert_int_equal(n.exponent, (int)z + 1);
            assert_int_equal(n.ndigits, 1);
        } else {
            expect_reject(s, ABOVE_WHY);
        }
    }
    /* "0." then z zeros then "1" is 1E-(z+1): valid down to 1E-130. */
    for (size_t z = 125; z <= 135; z++) {
        memcpy(text, "0.", 2);
        memset(text + 2, '0', z);
        text[z + 2] = '1';
        as_span s = {text, z + 3};
        if (z + 1 <= 130) {
            as_number n = parse_ok(s);
            assert_int_equal(n.exponent, -(int)z);
        } else {
            expect_reject(s, BELOW_WHY);
        }
    }
    /* Leading zeros, however many, do not move the point. */
    memset(text, '0', 500);
    text[500] = '1';
    as_number n = parse_ok((as_span){text, 501});
    assert_int_equal(n.exponent, 1);
    assert_int_equal(n.ndigits, 1);
    /* A long integer part and a large negative exponent offset each other. */
    text[0] = '1';
    memset(text + 1, '0', 499);
    memcpy(text + 500, "E-374", 5);
    n = parse_ok((as_span){text, 505});
    assert_int_equal(n.exponent, 126);
    memcpy(text + 500, "E-373", 5);
    expect_reject((as_span){text, 505}, ABOVE_WHY);
    /* And so do a long run of fraction zeros and a large positive exponent. */
    memcpy(text, "0.", 2);
    memset(text + 2, '0', 499);
    memcpy(text + 501, "1E+375", 6);
    n = parse_ok((as_span){text, 507});
    assert_int_equal(n.exponent, -499 + 375);
    memcpy(text + 501, "1E-001", 6);
    expect_reject((as_span){text, 507}, BELOW_WHY);
}

/* Groups of equal values, the groups in ascending order. */
static const char *const ORDERED[][6] = {
    {"-9.9999999999999999999999999999999999999E+125", "-99999999999999999999999999999999999999E88"},
    {"-1E125", "-10E124", "-0.1E126"},
    {"-12345678901234567890123456789012345678", "-1.2345678901234567890123456789012345678E37"},
    {"-10", "-1E1", "-10.000", "-0.1e2"},
    {"-2", "-2.0", "-20E-1"},
    {"-1.5", "-15e-1", "-.15E1"},
    {"-1", "-1.0", "-1E0", "-10E-1", "-0.1e1", "-000001.000"},
    {"-0.5", "-.5", "-5e-1", "-0.50", "-50E-2"},
    {"-1E-130", "-0.1E-129", "-10E-131"},
    {"0", "-0", "+0", "0.0", "0E999999999", "-0e-5"},
    {"1E-130", "0.1E-129", "10E-131"},
    {"1.2345678901234567890123456789012345678E-130"},
    {"1.2345678901234567890123456789012345679E-130"},
    {"0.001", "1e-3", "0.0010", "1E-3"},
    {"0.00100000000000000000000000000000000001"},
    {"0.5", ".5", "5e-1", "+0.50", "50E-2"},
    {"0.99999999999999999999999999999999999999"},
    {"1", "1.0", "1E0", "10E-1", "0.1e1", "+000001.000"},
    {"1.0000000000000000000000000000000000001"},
    {"1.5", "15e-1", ".15E1"},
    {"1.51"},
    {"2", "2.0", "20E-1"},
    {"9"},
    {"10", "1E1", "10.000", "0.1e2"},
    {"11"},
    {"12345678901234567890123456789012345678", "1.2345678901234567890123456789012345678E37"},
    {"1E125", "10E124", "0.1E126"},
    {"9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999E88"},
};

static int sign_of(int v)
{
    return (v > 0) - (v < 0);
}

/* The scanner both number.c and isotime.c use: the parts it reports, and the texts
 * one grammar takes and the other refuses. */
static const struct {
    const char *text;
    as_decimal_grammar grammar;
    bool negative;
    bool zero;
    size_t int_start, int_end, frac_start, frac_end, first;
    int64_t point, exp10;
} DECIMALS[] = {
    {"+0012.0340e-5", AS_DECIMAL_DYNAMODB, false, false, 1, 5, 6, 10, 3, 2, -5},
    {"-.005", AS_DECIMAL_DYNAMODB, true, false, 1, 1, 2, 5, 4, -2, 0},
    {"5.", AS_DECIMAL_DYNAMODB, false, false, 0, 1, 2, 2, 0, 1, 0},
    {"-0.00E+7", AS_DECIMAL_DYNAMODB, true, true, 1, 2, 3, 5, 0, 0, 7},
    {"1", AS_DECIMAL_JSON, false, false, 0, 1, 1, 1, 0, 1, 0},
    {"-0.25e2", AS_DECIMAL_JSON, true, false, 1, 2, 3, 5, 3, 0, 2},
    {"0", AS_DECIMAL_JSON, false, true, 0, 1, 1, 1, 0, 0, 0},
};

static const struct {
    const char *text;
    bool dynamodb; /* whether AS_DECIMAL_DYNAMODB takes it; AS_DECIMAL_JSON takes none */
} JSON_REFUSES[] = {
    {"+1", true}, {".5", true}, {"5.", true}, {"01", true}, {"-", false}, {"0x1", false},
};

static void test_decimal_scan(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof DECIMALS / sizeof DECIMALS[0]; k++) {
        as_decimal d;
        if (!as_decimal_scan(as_span_from_cstr(DECIMALS[k].text), DECIMALS[k].grammar, &d)) {
            fail_msg("\"%s\" rejected", DECIMALS[k].text);
        }
        assert_int_equal(d.negative, DECIMALS[k].negative);
        assert_int_equal(d.zero, DECIMALS[k].zero);
        assert_int_equal(d.int_start, DECIMALS[k].int_start);
        assert_int_equal(d.int_end, DECIMALS[k].int_end);
        assert_int_equal(d.frac_start, DECIMALS[k].frac_start);
        assert_int_equal(d.frac_end, DECIMALS[k].frac_end);
        assert_int_equal(d.first, DECIMALS[k].first);
        assert_int_equal(d.point, DECIMALS[k].point);
        assert_int_equal(d.exp10, DECIMALS[k].exp10);
    }
    for (size_t k = 0; k < sizeof JSON_REFUSES / sizeof JSON_REFUSES[0]; k++) {
        as_decimal d;
        as_span text = as_span_from_cstr(JSON_REFUSES[k].text);
        if (as_decimal_scan(text, AS_DECIMAL_JSON, &d)) {
            fail_msg("\"%s\" taken as JSON", JSON_REFUSES[k].text);
        }
        assert_int_equal(as_decimal_scan(text, AS_DECIMAL_DYNAMODB, &d), JSON_REFUSES[k].dynamodb);
    }
}

static void test_order(void **state)
{
    (void)state;
    size_t groups = sizeof ORDERED / sizeof ORDERED[0];
    for (size_t g = 0; g < groups; g++) {
        for (size_t i = 0; i < 6 && ORDERED[g][i] != NULL; i++) {
            as_number a = parse_ok(as_span_from_cstr(ORDERED[g][i]));
            for (size_t h = 0; h < groups; h++) {
                for (size_t j = 0; j < 6 && ORDERED[h][j] != NULL; j++) {
                    as_number b = parse_ok(as_span_from_cstr(ORDERED[h][j]));
                    int want = g < h ? -1 : g > h ? 1 : 0;
                    int got = sign_of(as_number_cmp(&a, &b));
                    if (got != want) {
                        fail_msg("cmp(%s, %s) = %d, want %d", ORDERED[g][i], ORDERED[h][j], got,
                                 want);
                    }
                }
            }
        }
    }
}

/* A deterministic xorshift64*, so that a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static int64_t rng_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

/* Writes k * 10^scale in a randomly chosen one of its many spellings: sign, padding
 * zeros on both sides, point anywhere, with or without an exponent. */
static size_t spell(int64_t k, int scale, char *out, size_t cap)
{
    char digits[32];
    int nd = snprintf(digits, sizeof digits, "%lld", (long long)(k < 0 ? -k : k));
    assert_true(nd > 0 && (size_t)nd < sizeof digits);
    /* The text's mantissa is digits * 10^(scale - e), written with its point placed. */
    int e = (int)rng_range(-6, 6);
    int shift = scale - e; /* power of ten applied to the integer `digits` */
    size_t n = 0;
    if (k < 0) {
        out[n++] = '-';
    } else if (rng() % 3 == 0) {
        out[n++] = '+';
    }
    int lead = (int)rng_range(0, 2);
    for (int i = 0; i < lead; i++) {
        out[n++] = '0';
    }
    if (shift >= 0) {
        memcpy(out + n, digits, (size_t)nd);
        n += (size_t)nd;
        for (int i = 0; i < shift; i++) {
            out[n++] = '0';
        }
        if (rng() % 2 == 0) {
            out[n++] = '.';
            int trail = (int)rng_range(0, 3);
            for (int i = 0; i < trail; i++) {
                out[n++] = '0';
            }
        }
    } else {
        int frac = -shift; /* digits after the point */
        if (frac >= nd) {
            if (lead == 0 && rng() % 2 == 0) {
                out[n++] = '0';
            }
            out[n++] = '.';
            for (int i = 0; i < frac - nd; i++) {
                out[n++] = '0';
            }
            memcpy(out + n, digits, (size_t)nd);
            n += (size_t)nd;
        } else {
            memcpy(out + n, digits, (size_t)(nd - frac));
            n += (size_t)(nd - frac);
            out[n++] = '.';
            memcpy(out + n, digits + nd - frac, (size_t)frac);
            n += (size_t)frac;
        }
        int trail = (int)rng_range(0, 3);
        for (int i = 0; i < trail; i++) {
            out[n++] = '0';
        }
    }
    if (e != 0 || rng() % 2 == 0) {
        int w = snprintf(out + n, cap - n, "%s%d", rng() % 2 ? "e" : "E", e);
        assert_true(w > 0 && (size_t)w < cap - n);
        n += (size_t)w;
    }
    assert_true(n < cap);
    return n;
}

/* k * 10^(scale + 6) as an integer, exact for |k| <= 10^6 and scale in [-6, 6]. */
static int64_t scaled(int64_t k, int scale)
{
    int64_t v = k;
    for (int i = 0; i < scale + 6; i++) {
        v *= 10;
    }
    return v;
}

/* The order and equality of random spellings agree with integer arithmetic. */
static void test_order_against_integers(void **state)
{
    (void)state;
    for (int round = 0; round < 20000; round++) {
        int64_t ka = rng() % 16 == 0 ? 0 : rng_range(-1000000, 1000000);
        int sa = (int)rng_range(-6, 6);
        int64_t kb;
        int sb;
        switch (rng() % 3) {
        case 0:
            /* The same value, the same integer. */
            kb = ka;
            sb = sa;
            break;
        case 1:
            /* The same value written with one more zero, when it fits. */
            kb = ka % 10 == 0 ? ka / 10 : ka;
            sb = ka % 10 == 0 && sa < 6 ? sa + 1 : sa;
            if (sb == sa) {
                kb = ka;
            }
            break;
        default:
            kb = rng() % 16 == 0 ? 0 : rng_range(-1000000, 1000000);
            sb = (int)rng_range(-6, 6);
            break;
        }
        char ta[96];
        char tb[96];
        size_t la = spell(ka, sa, ta, sizeof ta);
        size_t lb = spell(kb, sb, tb, sizeof tb);
        as_number a = parse_ok((as_span){ta, la});
        as_number b = parse_ok((as_span){tb, lb});
        int64_t va = scaled(ka, sa);
        int64_t vb = scaled(kb, sb);
        int want = (va > vb) - (va < vb);
        int got = sign_of(as_number_cmp(&a, &b));
        if (got != want) {
            fail_msg("cmp(%.*s, %.*s) = %d, want %d", (int)la, ta, (int)lb, tb, got, want);
        }
        assert_int_equal(sign_of(as_number_cmp(&b, &a)), -want);
        assert_int_equal(as_number_cmp(&a, &a), 0);
        /* Equal values have one normal form. */
        if (want == 0) {
            assert_int_equal(a.sign, b.sign);
            assert_int_equal(a.exponent, b.exponent);
            assert_int_equal(a.ndigits, b.ndigits);
            assert_memory_equal(a.digits, b.digits, a.ndigits);
        }
        assert_int_equal(a.sign, (ka > 0) - (ka < 0));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),       cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_span_bounds), cmocka_unit_test(test_null_why),
        cmocka_unit_test(test_long_texts),  cmocka_unit_test(test_decimal_scan),
        cmocka_unit_test(test_order),       cmocka_unit_test(test_order_against_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
