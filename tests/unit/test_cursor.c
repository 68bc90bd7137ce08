/* Unit tests for the checked read cursor (lib/core/cursor.h) and the small helpers beside
 * it (hex encoding, spans of C strings): every step at the end of its input, every
 * mismatch leaving the cursor where it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/cursor.h"
#include "core/hex.h"

static void assert_span(as_span span, const char *expected)
{
    assert_int_equal(span.len, strlen(expected));
    if (span.len > 0) {
        assert_memory_equal(span.ptr, expected, span.len);
    }
}

static void test_literals_and_chars(void **state)
{
    (void)state;
    as_cursor c = as_cursor_of(as_span_from_cstr("arn:aws"));
    assert_false(as_cursor_take_literal(&c, "arn:aws:"));
    assert_int_equal(c.pos, 0);
    assert_false(as_cursor_take_literal(&c, "ARN"));
    assert_true(as_cursor_take_literal(&c, "arn"));
    assert_true(as_cursor_peek(&c, ':'));
    assert_false(as_cursor_take_char(&c, 'x'));
    assert_true(as_cursor_take_char(&c, ':'));
    assert_span(as_cursor_rest(&c), "aws");
    assert_int_equal(as_cursor_left(&c), 3);
    assert_true(as_cursor_take_literal(&c, "aws"));
    assert_true(as_cursor_at_end(&c));
    /* At the end nothing matches but the empty literal, and nothing moves. */
    assert_false(as_cursor_peek(&c, 's'));
    assert_false(as_cursor_take_char(&c, '\0'));
    assert_true(as_cursor_take_literal(&c, ""));
    assert_int_equal(c.pos, 7);
}

/* The input need not be NUL-terminated: a NUL inside it is a byte like another, and
 * nothing is read past its length. */
static void test_bounds(void **state)
{
    (void)state;
    const char bytes[6] = {'a', '\0', 'b', '/', 'c', 'X'};
    as_cursor c = as_cursor_of((as_span){bytes, 5});
    assert_true(as_cursor_take_char(&c, 'a'));
    assert_true(as_cursor_take_char(&c, '\0'));
    as_span part = as_cursor_take_until(&c, '/');
    assert_span(part, "b");
    assert_false(as_cursor_skip_past(&c, "cX"));
    assert_true(as_cursor_skip_past(&c, "/"));
    assert_span(as_cursor_take_until(&c, 'X'), "c");
    assert_true(as_cursor_at_end(&c));
    as_span none;
    assert_false(as_cursor_take_n(&c, 1, &none));
    /* A NULL input is an empty one. */
    as_cursor empty = as_cursor_of((as_span){NULL, 5});
    assert_true(as_cursor_at_end(&empty));
    assert_span(as_cursor_take_until(&empty, '/'), "");
    assert_false(as_cursor_skip_past(&empty, "a"));
}

static void test_take_until_and_n(void **state)
{
    (void)state;
    as_cursor c = as_cursor_of(as_span_from_cstr("Host: example\r\nX"));
    as_span name = as_cursor_take_until(&c, ':');
    assert_span(name, "Host");
    assert_true(as_cursor_take_literal(&c, ": "));
    as_span value = as_cursor_take_until(&c, '\r');
    assert_span(value, "example");
    /* Taken up to a byte that comes next: empty, pointer set, nothing moved. */
    as_span again = as_cursor_take_until(&c, '\r');
    assert_non_null(again.ptr);
    assert_int_equal(again.len, 0);
    as_span crlf;
    assert_false(as_cursor_take_n(&c, 4, &crlf));
    assert_true(as_cursor_take_n(&c, 2, &crlf));
    assert_span(crlf, "\r\n");
    /* No stop byte: the rest. */
    assert_span(as_cursor_take_until(&c, '\n'), "X");
}

static void test_skip_past(void **state)
{
    (void)state;
    as_cursor c = as_cursor_of(as_span_from_cstr("a:table:table/T/x"));
    assert_false(as_cursor_skip_past(&c, ":index/"));
    assert_int_equal(c.pos, 0);
    assert_true(as_cursor_skip_past(&c, ":table/"));
    assert_span(as_cursor_rest(&c), "T/x");
    /* A needle longer than what is left. */
    assert_false(as_cursor_skip_past(&c, "T/x/"));
    assert_true(as_cursor_skip_past(&c, "T/x"));
    assert_true(as_cursor_at_end(&c));
}

static void test_u64(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t max;
        bool ok;
        uint64_t value;
        size_t taken;
    } CASES[] = {
        {"443/", 65535, true, 443, 3},
        {"65535", 65535, true, 65535, 5},
        {"65536", 65535, false, 0, 0},
        {"0", 1, true, 0, 1},
        {"007x", 100, true, 7, 3},
        {"18446744073709551615", UINT64_MAX, true, UINT64_MAX, 20},
        {"18446744073709551616", UINT64_MAX, false, 0, 0},
        {"99999999999999999999999", UINT64_MAX, false, 0, 0},
        {"", 10, false, 0, 0},
        {"-1", 10, false, 0, 0},
        {"x1", 10, false, 0, 0},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_cursor c = as_cursor_of(as_span_from_cstr(CASES[i].text));
        uint64_t value = 12345;
        assert_int_equal(as_cursor_take_u64(&c, CASES[i].max, &value), CASES[i].ok);
        assert_int_equal(c.pos, CASES[i].taken);
        assert_int_equal(value, CASES[i].ok ? CASES[i].value : 12345);
    }
}

static void test_one_of_and_digits(void **state)
{
    (void)state;
    const char bytes[] = {'-', '0', '1', '2', 'e', '\0', '5'};
    as_cursor c = as_cursor_of((as_span){bytes, sizeof bytes});
    char taken = 'x';
    assert_false(as_cursor_take_one_of(&c, "+", &taken));
    assert_int_equal(taken, 'x');
    assert_true(as_cursor_take_one_of(&c, "+-", &taken));
    assert_int_equal(taken, '-');
    as_span digits = as_cursor_take_digits(&c);
    assert_span(digits, "012");
    /* No digit next: empty, nothing moved. */
    as_span none = as_cursor_take_digits(&c);
    assert_int_equal(none.len, 0);
    assert_int_equal(c.pos, 4);
    assert_true(as_cursor_take_one_of(&c, "eE", NULL));
    /* A NUL byte of the input is never taken for the end of the set. */
    assert_false(as_cursor_take_one_of(&c, "eE", &taken));
    assert_int_equal(c.pos, 5);
    assert_true(as_cursor_take_char(&c, '\0'));
    assert_span(as_cursor_take_digits(&c), "5");
    assert_false(as_cursor_take_one_of(&c, "5", NULL));
    assert_true(as_cursor_at_end(&c));
}

static void test_span_from_cstr(void **state)
{
    (void)state;
    as_span s = as_span_from_cstr("abc");
    assert_int_equal(s.len, 3);
    assert_memory_equal(s.ptr, "abc", 3);
    as_span empty = as_span_from_cstr("");
    assert_non_null(empty.ptr);
    assert_int_equal(empty.len, 0);
    as_span none = as_span_from_cstr(NULL);
    assert_null(none.ptr);
    assert_int_equal(none.len, 0);
}

static void test_hex(void **state)
{
    (void)state;
    const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof bytes + 1];
    memset(out, 'Z', sizeof out);
    as_hex_encode(bytes, sizeof bytes, false, out);
    assert_memory_equal(out, "00017f80abff", 12);
    assert_int_equal(out[12], 'Z');
    as_hex_encode(bytes, sizeof bytes, true, out);
    assert_memory_equal(out, "00017F80ABFF", 12);
    as_hex_encode(bytes, 0, false, out);
    assert_int_equal(as_hex_digit(0x1a, false), 'a');
    assert_int_equal(as_hex_digit(15, true), 'F');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals_and_chars),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_take_until_and_n),
        cmocka_unit_test(test_skip_past),
        cmocka_unit_test(test_u64),
        cmocka_unit_test(test_one_of_and_digits),
        cmocka_unit_test(test_span_from_cstr),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
