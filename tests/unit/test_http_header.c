/* Unit tests for lib/http_header.c: status lines, "Name: value" splitting and trimming
 * on lines as curl hands them over, and case-blind name matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aws/http_header.h"

static const struct {
    const char *line;
    bool status;
    bool header;
    const char *name; /* when a header */
    const char *value;
} LINES[] = {
    {"HTTP/1.1 200 OK\r\n", true, false, NULL, NULL},
    {"HTTP/2 100\r\n", true, false, NULL, NULL},
    {"HTTP/", true, false, NULL, NULL},
    {"HTTP", false, false, NULL, NULL},
    {"http/1.1 200 OK\r\n", false, false, NULL, NULL},
    {"\r\n", false, false, NULL, NULL},
    {"", false, false, NULL, NULL},
    {"Date: Wed, 01 May 2024 12:30:45 GMT\r\n", false, true, "Date",
     "Wed, 01 May 2024 12:30:45 GMT"},
    {"x-amz-crc32:123\r\n", false, true, "x-amz-crc32", "123"},
    {"X: \t v a \t \r\n", false, true, "X", "v a"},
    {"Empty:\r\n", false, true, "Empty", ""},
    {"Blank: \t\r\n", false, true, "Blank", ""},
    {"Spaced : v\r\n", false, true, "Spaced ", "v"},
    {"Host: [::1]:80\n", false, true, "Host", "[::1]:80"},
    {":v", false, true, "", "v"},
};

static void test_lines(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof LINES / sizeof LINES[0]; k++) {
        const char *line = LINES[k].line;
        size_t len = strlen(line);
        assert_int_equal(as_http_header_is_status(line, len), LINES[k].status);
        as_span name = {"untouched", 9};
        as_span value = {"untouched", 9};
        bool header = as_http_header_parse(line, len, &name, &value);
        if (header != LINES[k].header) {
            fail_msg("\"%s\": header=%d", line, header);
        }
        if (!header) {
            assert_int_equal(name.len, 9);
            assert_int_equal(value.len, 9);
            continue;
        }
        assert_int_equal(name.len, strlen(LINES[k].name));
        assert_memory_equal(name.ptr, LINES[k].name, name.len);
        assert_int_equal(value.len, strlen(LINES[k].value));
        assert_memory_equal(value.ptr, LINES[k].value, value.len);
    }
}

/* Nothing past `len` is read: curl's lines are not NUL-terminated. */
static void test_span_bounds(void **state)
{
    (void)state;
    const char line[] = "Name: value  tail:more";
    as_span name;
    as_span value;
    assert_true(as_http_header_parse(line, 13, &name, &value));
    assert_int_equal(name.len, 4);
    assert_int_equal(value.len, 5);
    assert_memory_equal(value.ptr, "value", 5);
    assert_false(as_http_header_parse(line, 4, &name, &value));
    assert_false(as_http_header_is_status("HTTP/", 4));
}

static void test_name_is(void **state)
{
    (void)state;
    assert_true(as_http_header_name_is((as_span){"X-Amz-CRC32", 11}, "x-amz-crc32"));
    assert_true(as_http_header_name_is((as_span){"DATE", 4}, "date"));
    assert_true(as_http_header_name_is((as_span){"", 0}, ""));
    assert_false(as_http_header_name_is((as_span){"Dat", 3}, "date"));
    assert_false(as_http_header_name_is((as_span){"Dates", 5}, "date"));
    assert_false(as_http_header_name_is((as_span){"Date ", 5}, "date"));
    assert_false(as_http_header_name_is((as_span){"", 0}, "date"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_span_bounds),
        cmocka_unit_test(test_name_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
