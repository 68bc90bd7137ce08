/* Unit tests for as_buf (include/auditstream/buf.h): appends, escaping and numbers, and
 * above all that a failed grow is sticky: no later append lands until a clear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auditstream/buf.h"

static void assert_buf(const as_buf *buf, const char *expected)
{
    assert_int_equal(buf->len, strlen(expected));
    assert_memory_equal(buf->data, expected, buf->len);
    assert_int_equal(buf->data[buf->len], '\0');
}

static void test_appends(void **state)
{
    (void)state;
    as_buf b = AS_BUF_INIT;
    as_buf_append_str(&b, "ab");
    as_buf_append_char(&b, 'c');
    as_buf_append_span(&b, (as_span){"def", 2});
    as_buf_append_u64(&b, 0);
    as_buf_append_u64(&b, UINT64_MAX);
    assert_int_equal(as_buf_status(&b), AS_OK);
    assert_buf(&b, "abcde018446744073709551615");
    as_buf_free(&b);
    assert_null(b.data);
    as_buf_free(NULL);
}

/* Growth past the first 64 bytes keeps every byte, binary ones included. */
static void test_growth_binary(void **state)
{
    (void)state;
    as_buf b = AS_BUF_INIT;
    char expected[1000];
    for (size_t i = 0; i < sizeof expected; i++) {
        expected[i] = (char)(i * 7);
        as_buf_append(&b, &expected[i], 1);
    }
    assert_int_equal(as_buf_status(&b), AS_OK);
    assert_int_equal(b.len, sizeof expected);
    assert_memory_equal(b.data, expected, sizeof expected);
    as_buf_free(&b);
}

static void test_json_escaped(void **state)
{
    (void)state;
    as_buf b = AS_BUF_INIT;
    as_buf_append_json_escaped(&b, "a\"b\\c\n\r\t\b\f\x01\x1f\xc3\xa9", 14);
    assert_int_equal(as_buf_status(&b), AS_OK);
    assert_buf(&b, "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\xc3\xa9");
    as_buf_free(&b);
}

/* The reported defect: "0123456789", a grow that fails, then "-tail", which would fit
 * in the storage already there, gave "0123456789-tail" with status NOMEM. */
static void test_failure_is_sticky(void **state)
{
    (void)state;
    as_buf b = AS_BUF_INIT;
    as_buf_append_str(&b, "0123456789");
    assert_int_equal(as_buf_status(&b), AS_OK);
    assert_true(b.cap > b.len + 5);
    /* A size no allocator can give fails the grow without allocating. */
    assert_int_equal(as_buf_reserve(&b, SIZE_MAX - 8), AS_ERR_NOMEM);
    assert_int_equal(as_buf_status(&b), AS_ERR_NOMEM);
    as_buf_append_str(&b, "-tail");
    as_buf_append_char(&b, 'x');
    as_buf_append_u64(&b, 42);
    as_buf_append_json_escaped(&b, "q\"", 2);
    assert_buf(&b, "0123456789");
    assert_int_equal(as_buf_status(&b), AS_ERR_NOMEM);
    /* A reserve that would fit still reports the failure. */
    assert_int_equal(as_buf_reserve(&b, 1), AS_ERR_NOMEM);
    /* A clear forgets the failure. */
    as_buf_clear(&b);
    assert_int_equal(as_buf_status(&b), AS_OK);
    as_buf_append_str(&b, "again");
    assert_buf(&b, "again");
    as_buf_free(&b);
}

/* A failed append through the slow path (the storage is full) is sticky too. */
static void test_failure_sticky_from_empty(void **state)
{
    (void)state;
    as_buf b = AS_BUF_INIT;
    /* Past the guard against overflow: refused before any allocation (which ASan would
     * abort rather than fail). */
    assert_int_equal(as_buf_reserve(&b, SIZE_MAX / 2 + 1), AS_ERR_NOMEM);
    as_buf_append_str(&b, "x");
    assert_int_equal(b.len, 0);
    assert_int_equal(as_buf_status(&b), AS_ERR_NOMEM);
    as_buf_free(&b);
    assert_int_equal(as_buf_status(&b), AS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_growth_binary),
        cmocka_unit_test(test_json_escaped),
        cmocka_unit_test(test_failure_is_sticky),
        cmocka_unit_test(test_failure_sticky_from_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
