/* Unit tests for lib/isotime.c: epoch-second texts from real events and their edges,
 * every reason, and the calendar checked day by day against a naive one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/isotime.h"

#define MS_MAX INT64_C(253402300799999)

static const char NAN_WHY[] = "not a number";
static const char BEFORE_WHY[] = "before 1970-01-01T00:00:00.000Z";
static const char AFTER_WHY[] = "after 9999-12-31T23:59:59.999Z";

static int64_t parse_ok(as_span text)
{
    int64_t ms = -12345;
    const char *why = "(untouched)";
    if (!as_epoch_text_to_ms(text, &ms, &why)) {
        fail_msg("\"%.*s\" rejected: %s", (int)(text.len > 200 ? 200 : text.len), text.ptr, why);
    }
    return ms;
}

static void expect_reject(as_span text, const char *reason)
{
    int64_t ms = -12345;
    const char *why = NULL;
    if (as_epoch_text_to_ms(text, &ms, &why)) {
        fail_msg("\"%.*s\" accepted as %lld, want \"%s\"", (int)(text.len > 200 ? 200 : text.len),
                 text.ptr, (long long)ms, reason);
    }
    if (why == NULL || strcmp(why, reason) != 0) {
        fail_msg("\"%.*s\": reason \"%s\", want \"%s\"", (int)(text.len > 200 ? 200 : text.len),
                 text.ptr, why == NULL ? "(null)" : why, reason);
    }
    /* A rejection leaves the output alone. */
    assert_int_equal(ms, -12345);
}

static void expect_format(int64_t ms, const char *want)
{
    char out[AS_ISO_TIME_LEN + 1];
    memset(out, '#', sizeof out);
    as_iso_time_format(ms, out);
    assert_int_equal(out[AS_ISO_TIME_LEN], '#');
    out[AS_ISO_TIME_LEN] = '\0';
    if (strcmp(out, want) != 0) {
        fail_msg("%lld formatted as %s, want %s", (long long)ms, out, want);
    }
}

/* Texts from the fixture events first; the times were checked with Python's
 * datetime.fromtimestamp(ms // 1000, timezone.utc). */
static const struct {
    const char *text;
    int64_t ms;
    const char *iso;
} VALID[] = {
    {"1480642020", INT64_C(1480642020000), "2016-12-02T01:27:00.000Z"},
    {"1693997155.0", INT64_C(1693997155000), "2023-09-06T10:45:55.000Z"},
    {"1.635734407123456789E9", INT64_C(1635734407123), "2021-11-01T02:40:07.123Z"},
    {"1.635734407123E9", INT64_C(1635734407123), "2021-11-01T02:40:07.123Z"},
    {"1.4285376E9", INT64_C(1428537600000), "2015-04-09T00:00:00.000Z"},
    {"1428537600", INT64_C(1428537600000), "2015-04-09T00:00:00.000Z"},
    {"1764086904", INT64_C(1764086904000), "2025-11-25T16:08:24.000Z"},
    {"1e3", 1000000, "1970-01-01T00:16:40.000Z"},
    {"1E+3", 1000000, "1970-01-01T00:16:40.000Z"},
    {"10E-1", 1000, "1970-01-01T00:00:01.000Z"},
    {"0.1e1", 1000, "1970-01-01T00:00:01.000Z"},
    /* Zero in all its spellings, negative zero included. */
    {"0", 0, "1970-01-01T00:00:00.000Z"},
    {"-0", 0, "1970-01-01T00:00:00.000Z"},
    {"-0.0", 0, "1970-01-01T00:00:00.000Z"},
    {"-0e5", 0, "1970-01-01T00:00:00.000Z"},
    {"0.000e-5", 0, "1970-01-01T00:00:00.000Z"},
    {"0E99999999999999999999", 0, "1970-01-01T00:00:00.000Z"},
    {"-0E-99999999999999999999", 0, "1970-01-01T00:00:00.000Z"},
    /* Flooring, never rounding. */
    {"1.9999", 1999, "1970-01-01T00:00:01.999Z"},
    {"0.0009", 0, "1970-01-01T00:00:00.000Z"},
    {"0.001", 1, "1970-01-01T00:00:00.001Z"},
    {"0.0019999999999999999999", 1, "1970-01-01T00:00:00.001Z"},
    {"1E-3", 1, "1970-01-01T00:00:00.001Z"},
    {"1E-4", 0, "1970-01-01T00:00:00.000Z"},
    {"9e-4", 0, "1970-01-01T00:00:00.000Z"},
    {"1e-99999999999999999999", 0, "1970-01-01T00:00:00.000Z"},
    {"86399.9995", 86399999, "1970-01-01T23:59:59.999Z"},
    {"123456789.123456789e-3", 123456789, "1970-01-02T10:17:36.789Z"},
    {"59.99999999999999999999999999999999999999999999", 59999, "1970-01-01T00:00:59.999Z"},
    /* Leap days and century rules. */
    {"951782400", INT64_C(951782400000), "2000-02-29T00:00:00.000Z"},
    {"1709164800", INT64_C(1709164800000), "2024-02-29T00:00:00.000Z"},
    {"4107542400", INT64_C(4107542400000), "2100-03-01T00:00:00.000Z"},
    {"4107456000", INT64_C(4107456000000), "2100-02-28T00:00:00.000Z"},
    {"946684799.999", INT64_C(946684799999), "1999-12-31T23:59:59.999Z"},
    {"946684800", INT64_C(946684800000), "2000-01-01T00:00:00.000Z"},
    {"2147483648", INT64_C(2147483648000), "2038-01-19T03:14:08.000Z"},
    /* The last millisecond of 9999, however it is spelled. */
    {"253402300799.999", MS_MAX, "9999-12-31T23:59:59.999Z"},
    {"253402300799.9995", MS_MAX, "9999-12-31T23:59:59.999Z"},
    {"253402300799.99999999999999999999", MS_MAX, "9999-12-31T23:59:59.999Z"},
    {"2.53402300799999E11", MS_MAX, "9999-12-31T23:59:59.999Z"},
    {"253402300799999E-3", MS_MAX, "9999-12-31T23:59:59.999Z"},
    {"253402300799", INT64_C(253402300799000), "9999-12-31T23:59:59.000Z"},
    {"253402214400", INT64_C(253402214400000), "9999-12-31T00:00:00.000Z"},
};

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof VALID / sizeof VALID[0]; i++) {
        int64_t ms = parse_ok(as_span_from_cstr(VALID[i].text));
        if (ms != VALID[i].ms) {
            fail_msg("\"%s\" gave %lld ms, want %lld", VALID[i].text, (long long)ms,
                     (long long)VALID[i].ms);
        }
        expect_format(ms, VALID[i].iso);
    }
}

static const struct {
    const char *text;
    const char *why;
} REJECTS[] = {
    /* RFC 8259's number grammar, and nothing else. */
    {"", NAN_WHY},
    {"-", NAN_WHY},
    {"+1", NAN_WHY},
    {"01", NAN_WHY},
    {"-01", NAN_WHY},
    {"00", NAN_WHY},
    {"1.", NAN_WHY},
    {".5", NAN_WHY},
    {"-.5", NAN_WHY},
    {"1.e3", NAN_WHY},
    {"1e", NAN_WHY},
    {"1e+", NAN_WHY},
    {"1E-", NAN_WHY},
    {"1e++3", NAN_WHY},
    {"1.5.5", NAN_WHY},
    {"1e5e5", NAN_WHY},
    {"1e5.5", NAN_WHY},
    {"--1", NAN_WHY},
    {" 1", NAN_WHY},
    {"1 ", NAN_WHY},
    {"1,5", NAN_WHY},
    {"0x1", NAN_WHY},
    {"NaN", NAN_WHY},
    {"Infinity", NAN_WHY},
    {"-Infinity", NAN_WHY},
    {"\"1480642020\"", NAN_WHY},
    {"null", NAN_WHY},
    {"\xd9\xa1", NAN_WHY},
    /* Any negative value but zero. */
    {"-1", BEFORE_WHY},
    {"-0.001", BEFORE_WHY},
    {"-0.0001", BEFORE_WHY},
    {"-1e-99999999999999999999", BEFORE_WHY},
    {"-1e99999999999999999999", BEFORE_WHY},
    {"-1480642020", BEFORE_WHY},
    {"-0.00000000000000000000000000000000000000000001", BEFORE_WHY},
    /* From the first millisecond of 10000 on. */
    {"253402300800", AFTER_WHY},
    {"253402300800.0", AFTER_WHY},
    {"253402300800.000000000000000001", AFTER_WHY},
    {"2.534023008E11", AFTER_WHY},
    {"253402300800000e-3", AFTER_WHY},
    {"999999999999", AFTER_WHY},
    {"1e12", AFTER_WHY},
    {"1e15", AFTER_WHY},
    {"99999999999999999999", AFTER_WHY},
    {"1E99999999999999999999", AFTER_WHY},
    {"1E2147483648", AFTER_WHY},
    {"1E9223372036854775807", AFTER_WHY},
    {"1E9223372036854775808", AFTER_WHY},
    {"1E18446744073709551617", AFTER_WHY},
    {"0.000001E99999999999999999999999999999999", AFTER_WHY},
};

static void test_rejects(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof REJECTS / sizeof REJECTS[0]; i++) {
        expect_reject(as_span_from_cstr(REJECTS[i].text), REJECTS[i].why);
    }
}

static void test_span_bounds(void **state)
{
    (void)state;
    assert_int_equal(parse_ok((as_span){"1480642020999", 10}), INT64_C(1480642020000));
    assert_int_equal(parse_ok((as_span){"1e3e", 3}), 1000000);
    expect_reject((as_span){"1\0", 2}, NAN_WHY);
    expect_reject((as_span){"1", 0}, NAN_WHY);
    expect_reject((as_span){NULL, 0}, NAN_WHY);
    /* `why` may be NULL. */
    int64_t ms = 7;
    assert_false(as_epoch_text_to_ms(as_span_from_cstr("x"), &ms, NULL));
    assert_false(as_epoch_text_to_ms(as_span_from_cstr("-1"), &ms, NULL));
    assert_int_equal(ms, 7);
    assert_true(as_epoch_text_to_ms(as_span_from_cstr("1"), &ms, NULL));
    assert_int_equal(ms, 1000);
}

/* Long texts: the point lands far from the digits and the exponent brings it back. */
static void test_long_texts(void **state)
{
    (void)state;
    char text[700];
    /* "1" and 500 zeros, E-491: 1E9 seconds. */
    text[0] = '1';
    memset(text + 1, '0', 500);
    memcpy(text + 501, "E-491", 5);
    assert_int_equal(parse_ok((as_span){text, 506}), INT64_C(1000000000000));
    memcpy(text + 501, "E-488", 5);
    expect_reject((as_span){text, 506}, AFTER_WHY);
    /* "0." and 500 zeros, then 1480642020123: 1.480642020123E-501, so E+510 makes
     * it 1480642020.123 seconds, E+498 1.48 ms and E+497 0.148 ms. */
    memcpy(text, "0.", 2);
    memset(text + 2, '0', 500);
    memcpy(text + 502, "1480642020123E+510", 18);
    assert_int_equal(parse_ok((as_span){text, 520}), INT64_C(1480642020123));
    memcpy(text + 502, "1480642020123E+498", 18);
    assert_int_equal(parse_ok((as_span){text, 520}), 1);
    memcpy(text + 502, "1480642020123E+497", 18);
    assert_int_equal(parse_ok((as_span){text, 520}), 0);
    /* A fraction 600 digits long is floored. */
    memcpy(text, "1.", 2);
    memset(text + 2, '9', 598);
    assert_int_equal(parse_ok((as_span){text, 600}), 1999);
}

static void test_format(void **state)
{
    (void)state;
    expect_format(0, "1970-01-01T00:00:00.000Z");
    expect_format(1, "1970-01-01T00:00:00.001Z");
    expect_format(999, "1970-01-01T00:00:00.999Z");
    expect_format(INT64_C(86399999), "1970-01-01T23:59:59.999Z");
    expect_format(INT64_C(86400000), "1970-01-02T00:00:00.000Z");
    expect_format(INT64_C(1714566645000), "2024-05-01T12:30:45.000Z");
    expect_format(INT64_C(1714566645042), "2024-05-01T12:30:45.042Z");
    expect_format(MS_MAX, "9999-12-31T23:59:59.999Z");
    /* Out of contract: clamped, never a five-digit or negative year. */
    expect_format(-1, "1970-01-01T00:00:00.000Z");
    expect_format(INT64_MIN, "1970-01-01T00:00:00.000Z");
    expect_format(MS_MAX + 1, "9999-12-31T23:59:59.999Z");
    expect_format(INT64_MAX, "9999-12-31T23:59:59.999Z");
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int field(const char *s, size_t at, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(s[at + i] >= '0' && s[at + i] <= '9');
        v = v * 10 + (s[at + i] - '0');
    }
    return v;
}

/* Every day from 1970-01-01 to 9999-12-31, against a calendar that just counts, at a
 * time of day that changes from day to day. */
static void test_every_day(void **state)
{
    (void)state;
    static const int DAYS_IN[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 1970;
    int m = 1;
    int d = 1;
    int64_t day = 0;
    for (;;) {
        int64_t in_day = (day * INT64_C(7919) + 13) % INT64_C(86400000);
        if (y == 9999 && m == 12 && d == 31) {
            in_day = INT64_C(86399999);
        }
        int64_t ms = day * INT64_C(86400000) + in_day;
        char out[AS_ISO_TIME_LEN];
        as_iso_time_format(ms, out);
        if (field(out, 0, 4) != y || field(out, 5, 2) != m || field(out, 8, 2) != d ||
            field(out, 11, 2) != (int)(in_day / 3600000) ||
            field(out, 14, 2) != (int)(in_day / 60000 % 60) ||
            field(out, 17, 2) != (int)(in_day / 1000 % 60) ||
            field(out, 20, 3) != (int)(in_day % 1000) || out[4] != '-' || out[7] != '-' ||
            out[10] != 'T' || out[13] != ':' || out[16] != ':' || out[19] != '.' ||
            out[23] != 'Z') {
            fail_msg("day %lld: %.24s, want %04d-%02d-%02d", (long long)day, out, y, m, d);
        }
        int64_t back = -1;
        if (!as_iso_time_parse((as_span){out, AS_ISO_TIME_LEN}, true, &back) || back != ms) {
            fail_msg("day %lld: %.24s parses back as %lld", (long long)day, out, (long long)back);
        }
        if (y == 9999 && m == 12 && d == 31) {
            assert_int_equal(ms, MS_MAX);
            break;
        }
        int last = DAYS_IN[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
        if (++d > last) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
        day++;
    }
}

/* A deterministic xorshift64*, so that a failure can be replayed. */
static uint64_t rng_state = 0x13198a2e03707344u;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

/* Random instants, written as seconds in several spellings with extra fraction digits
 * that must be floored away, parse back to the same millisecond. */
/* What as_iso_time_parse refuses, and the looser form people type. */
static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool strict;
        int64_t ms; /* -1: refused */
    } CASES[] = {
        {"2024-05-01T12:30:45.000Z", true, INT64_C(1714566645000)},
        {"2024-05-01T12:30:45Z", true, -1},
        {"2024-05-01T12:30:45Z", false, INT64_C(1714566645000)},
        {"2024-05-01T12:30:45.5Z", false, INT64_C(1714566645500)},
        {"2024-05-01T12:30:45.123456789Z", false, INT64_C(1714566645123)},
        {"2024-05-01T12:30:45.1234567890Z", false, -1},
        {"2024-05-01T12:30:45.Z", false, -1},
        {"2024-05-01T12:30:45.000", true, -1},
        {"2024-05-01T12:30:45.000Z ", true, -1},
        {"2024-02-29T00:00:00.000Z", true, INT64_C(1709164800000)},
        {"2023-02-29T00:00:00.000Z", true, -1},
        {"1900-01-01T00:00:00.000Z", true, -1},
        {"1970-01-01T00:00:00.000Z", true, 0},
        {"9999-12-31T23:59:59.999Z", true, INT64_C(253402300799999)},
        {"2024-13-01T00:00:00.000Z", true, -1},
        {"2024-05-01T24:00:00.000Z", true, -1},
        {"2024-05-01T12:60:00.000Z", true, -1},
        {"2024-05-01 12:30:45.000Z", true, -1},
        {"", false, -1},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        int64_t ms = -1;
        bool ok = as_iso_time_parse(as_span_from_cstr(CASES[i].text), CASES[i].strict, &ms);
        if (ok != (CASES[i].ms >= 0) || (ok && ms != CASES[i].ms)) {
            fail_msg("\"%s\" (%s): %s %lld", CASES[i].text, CASES[i].strict ? "strict" : "loose",
                     ok ? "parsed as" : "refused", (long long)ms);
        }
    }
}

static void test_spellings(void **state)
{
    (void)state;
    for (int round = 0; round < 20000; round++) {
        int64_t ms = (int64_t)(rng() % (uint64_t)(MS_MAX + 1));
        if (round % 10 == 0) {
            ms = round % 20 == 0 ? MS_MAX - (int64_t)(rng() % 1000) : (int64_t)(rng() % 5000);
        }
        char digits[24];
        int nd = snprintf(digits, sizeof digits, "%lld", (long long)ms);
        assert_true(nd > 0 && (size_t)nd < sizeof digits);
        char extra[8];
        int ne = snprintf(extra, sizeof extra, "%u", (unsigned)(rng() % 1000000));
        assert_true(ne > 0 && (size_t)ne < sizeof extra);
        char text[80];
        int n;
        switch (round % 4) {
        case 0:
            /* seconds.mmm then more digits */
            n = snprintf(text, sizeof text, "%lld.%03lld%s", (long long)(ms / 1000),
                         (long long)(ms % 1000), extra);
            break;
        case 1:
            /* d.ddd...E(n) scientific, as the Java SDK writes it */
            if (nd == 1) {
                n = snprintf(text, sizeof text, "%sE-3", digits);
            } else {
                n = snprintf(text, sizeof text, "%c.%s%sE%d", digits[0], digits + 1, extra,
                             nd - 1 - 3);
            }
            break;
        case 2:
            /* the milliseconds as an integer, scaled down */
            n = snprintf(text, sizeof text, "%s.%se-3", digits, extra);
            break;
        default:
            /* a tiny mantissa, scaled up */
            n = snprintf(text, sizeof text, "0.00000%s%se%d", digits, extra, nd + 5 - 3);
            break;
        }
        assert_true(n > 0 && (size_t)n < sizeof text);
        int64_t got = parse_ok((as_span){text, (size_t)n});
        if (got != ms) {
            fail_msg("\"%s\" gave %lld, want %lld", text, (long long)got, (long long)ms);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),       cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_span_bounds), cmocka_unit_test(test_long_texts),
        cmocka_unit_test(test_format),      cmocka_unit_test(test_every_day),
        cmocka_unit_test(test_spellings),   cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
