/* Unit tests of auditstream's terminal tables (cli/table.h): alignment, cells cut with an
 * ellipsis at a character boundary, control characters escaped, bad UTF-8 shown as '?'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"

static void cell_is(const char *text, size_t len, size_t max, const char *want, size_t want_width)
{
    as_buf out = AS_BUF_INIT;
    size_t width = cli_cell_text(text, len, max, &out);
    assert_int_equal(as_buf_status(&out), AS_OK);
    assert_string_equal(out.data != NULL ? out.data : "", want);
    assert_int_equal(width, want_width);
    as_buf_free(&out);
}

static void test_cell_fits(void **state)
{
    (void)state;
    cell_is("abc", 3, 0, "abc", 3);
    cell_is("abc", 3, 3, "abc", 3);
    cell_is("", 0, 5, "", 0);
    /* Two-byte and three-byte characters count as one each. */
    cell_is("caf\xC3\xA9", 5, 4, "caf\xC3\xA9", 4);
    cell_is("\xE2\x82\xAC"
            "12",
            5, 3,
            "\xE2\x82\xAC"
            "12",
            3);
}

static void test_cell_cut(void **state)
{
    (void)state;
    cell_is("abcdef", 6, 4, "abc\xE2\x80\xA6", 4);
    cell_is("abcdef", 6, 2, "a\xE2\x80\xA6", 2);
    /* The cut never splits a character: "é" is two bytes, kept or dropped whole. */
    cell_is("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 8, 3, "\xC3\xA9\xC3\xA9\xE2\x80\xA6", 3);
    cell_is("\xF0\x9F\x98\x80xyz", 7, 2, "\xF0\x9F\x98\x80\xE2\x80\xA6", 2);
    /* Nor an escape: "\n" is two columns, dropped whole when only one is left. */
    cell_is("ab\ncd", 5, 4, "ab\xE2\x80\xA6", 3);
    cell_is("ab\ncd", 5, 5, "ab\\n\xE2\x80\xA6", 5);
}

static void test_cell_escapes(void **state)
{
    (void)state;
    cell_is("a\tb\r\n", 5, 0, "a\\tb\\r\\n", 8);
    cell_is("\x1b[31mred", 8, 0, "\\u001b[31mred", 13);
    cell_is("x\x7fy", 3, 0, "x\\u007fy", 8);
    /* A C1 control (U+009B, a CSI on some terminals) and a right-to-left override. */
    cell_is("\xC2\x9B"
            "1m",
            4, 0, "\\u009b1m", 8);
    cell_is("a\xE2\x80\xAE"
            "b",
            5, 0, "a\\u202eb", 8);
    cell_is("nul\0x", 5, 0, "nul\\u0000x", 10);
}

static void test_cell_bad_utf8(void **state)
{
    (void)state;
    cell_is("a\xFF"
            "b",
            3, 0, "a?b", 3);
    cell_is("\xC3", 1, 0, "?", 1);                /* cut short */
    cell_is("\xC0\xAF", 2, 0, "??", 2);           /* overlong */
    cell_is("\xED\xA0\x80", 3, 0, "???", 3);      /* a surrogate */
    cell_is("\xF4\x90\x80\x80", 4, 0, "????", 4); /* past U+10FFFF */
    cell_is("\xE2\x82", 2, 0, "??", 2);
}

static char *render(cli_table *t)
{
    as_buf out = AS_BUF_INIT;
    cli_table_render(t, &out);
    assert_int_equal(as_buf_status(&out), AS_OK);
    return out.data;
}

static void test_table_alignment(void **state)
{
    (void)state;
    static const char *const headers[] = {"KEY", "N", "VALUE"};
    static const size_t widths[] = {0, 0, 6};
    cli_table *t = cli_table_new(3, headers, widths);
    assert_non_null(t);
    assert_true(cli_table_row(t));
    assert_true(cli_table_set_str(t, 0, "a"));
    assert_true(cli_table_set_str(t, 1, "100"));
    assert_true(cli_table_set_str(t, 2, "\"short\""));
    assert_true(cli_table_row(t));
    assert_true(cli_table_set_str(t, 0, "longer-k\xC3\xA9y"));
    assert_true(cli_table_set_str(t, 1, "7"));
    assert_true(cli_table_row(t)); /* a row with its last cells empty: no blanks at the end */
    assert_true(cli_table_set_str(t, 0, "z"));
    char *text = render(t);
    assert_string_equal(text, "KEY         N    VALUE\n"
                              "a           100  \"shor\xE2\x80\xA6\n"
                              "longer-k\xC3\xA9y  7\n"
                              "z\n");
    free(text);
    cli_table_free(t);
    cli_table_free(NULL);
}

static void test_table_misuse(void **state)
{
    (void)state;
    static const char *const headers[] = {"A", "B"};
    static const size_t one[] = {1, 0};
    assert_null(cli_table_new(0, headers, NULL));
    assert_null(cli_table_new(CLI_TABLE_MAX_COLUMNS + 1, headers, NULL));
    assert_null(cli_table_new(2, NULL, NULL));
    assert_null(cli_table_new(2, headers, one)); /* no room for a character and the ellipsis */
    cli_table *t = cli_table_new(2, headers, NULL);
    assert_non_null(t);
    assert_false(cli_table_set_str(t, 0, "no row yet"));
    assert_true(cli_table_row(t));
    assert_false(cli_table_set_str(t, 2, "no such column"));
    assert_false(cli_table_set(t, 0, NULL, 3));
    assert_true(cli_table_set(t, 1, NULL, 0)); /* an empty row is an empty line */
    /* Many rows: the storage grows. */
    for (int i = 0; i < 100; i++) {
        assert_true(cli_table_row(t));
        assert_true(cli_table_set_str(t, 0, "x"));
    }
    char *text = render(t);
    assert_int_equal(strlen(text), strlen("A  B\n") + 1 + 100 * 2);
    free(text);
    cli_table_free(t);
}

static void test_table_fit(void **state)
{
    (void)state;
    static const char *const headers[] = {"TIME", "PATH", "VALUE"};
    static const size_t widths[] = {0, 20, 30};
    cli_table *t = cli_table_new(3, headers, widths);
    assert_non_null(t);
    assert_true(cli_table_row(t));
    assert_true(cli_table_set_str(t, 0, "2024-05-01T12:30:45.000Z"));
    assert_true(cli_table_set_str(t, 1, "/a/rather/long/path/in/a/map"));
    assert_true(cli_table_set_str(t, 2, "a value that goes on for a good while"));
    /* Unfitted: each column at its limit, 24 + 2 + 20 + 2 + 30 = 78 characters. */
    char *text = render(t);
    assert_string_equal(text, "TIME                      PATH                  VALUE\n"
                              "2024-05-01T12:30:45.000Z  /a/rather/long/path\xE2\x80\xA6  "
                              "a value that goes on for a go\xE2\x80\xA6\n");
    free(text);
    /* Fitted to 60: the widest limited column gives way first, then both in turn; the
     * time, which has no limit, is never cut. */
    cli_table_fit(t, 60);
    text = render(t);
    assert_string_equal(text, "TIME                      PATH              VALUE\n"
                              "2024-05-01T12:30:45.000Z  /a/rather/long/\xE2\x80\xA6  "
                              "a value that go\xE2\x80\xA6\n");
    free(text);
    /* Narrower than can be: the limited columns stop at 8 characters and the line wraps. */
    cli_table_fit(t, 20);
    text = render(t);
    assert_string_equal(text,
                        "TIME                      PATH      VALUE\n"
                        "2024-05-01T12:30:45.000Z  /a/rath\xE2\x80\xA6  a value\xE2\x80\xA6\n");
    free(text);
    cli_table_fit(t, 0);
    text = render(t);
    assert_int_equal(strlen(text), 54 + 83); /* as unfitted: each ellipsis is three bytes */
    free(text);
    cli_table_fit(NULL, 10);
    cli_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cell_fits),       cmocka_unit_test(test_cell_cut),
        cmocka_unit_test(test_cell_escapes),    cmocka_unit_test(test_cell_bad_utf8),
        cmocka_unit_test(test_table_alignment), cmocka_unit_test(test_table_misuse),
        cmocka_unit_test(test_table_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
