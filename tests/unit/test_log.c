/* Unit tests of the log formatter: exact JSON and text lines, level filtering, escaping
 * of any bytes, and the Embedded Metric Format line's exact shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "auditstream/log.h"

/* 2024-05-01T12:30:45.678Z */
#define NOW_MS 1714566645678

static as_span span_of(const char *s)
{
    return (as_span){s, strlen(s)};
}

static as_log json_log(void)
{
    as_log log = {0};
    log.format = AS_LOG_FORMAT_JSON;
    log.level = AS_LOG_INFO;
    log.service = span_of("audit");
    log.function_name = span_of("audit_producer");
    return log;
}

static const char *text_of(const as_buf *buf)
{
    return buf->data != NULL ? buf->data : "";
}

/* Parses `line` (one line, ending in '\n') with jansson; fails the test if invalid. */
static json_t *parse_line(const char *line)
{
    size_t len = strlen(line);
    assert_true(len > 0 && line[len - 1] == '\n');
    assert_null(memchr(line, '\n', len - 1));
    json_error_t jerr;
    json_t *root = json_loadb(line, len - 1, JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        fail_msg("not JSON (%s): %s", jerr.text, line);
    }
    return root;
}

static void test_json_line_outside_invocation(void **state)
{
    (void)state;
    as_log log = json_log();
    as_buf out = AS_BUF_INIT;
    as_log_field f[] = {as_log_field_str("table", "Audit"), as_log_field_u64("concurrency", 8)};
    as_log_line(&log, AS_LOG_INFO, NOW_MS, span_of("ready"), f, 2, &out);
    /* No request yet: no cold_start, no request id, no trace id. */
    assert_string_equal(text_of(&out),
                        "{\"timestamp\":\"2024-05-01T12:30:45.678Z\",\"level\":\"INFO\","
                        "\"message\":\"ready\",\"service\":\"audit\","
                        "\"function_name\":\"audit_producer\",\"table\":\"Audit\","
                        "\"concurrency\":8}\n");
    as_buf_free(&out);
}

static void test_json_line_in_invocation(void **state)
{
    (void)state;
    as_log log = json_log();
    log.request_id = span_of("8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    log.trace_id = span_of("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
                           "Sampled=1");
    log.cold_start = true;
    as_buf out = AS_BUF_INIT;
    as_log_field f[] = {as_log_field_i64("delta", -42), as_log_field_bool("ok", false),
                        as_log_field_json_str("sequence_number", span_of("4\\u00321"))};
    as_log_line(&log, AS_LOG_WARN, NOW_MS, span_of("hello"), f, 3, &out);
    assert_string_equal(text_of(&out),
                        "{\"timestamp\":\"2024-05-01T12:30:45.678Z\",\"level\":\"WARN\","
                        "\"message\":\"hello\",\"service\":\"audit\",\"cold_start\":true,"
                        "\"function_name\":\"audit_producer\","
                        "\"function_request_id\":\"8476a536-e9f4-11e8-9739-2dfe598c3fcd\","
                        "\"xray_trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\","
                        "\"delta\":-42,\"ok\":false,\"sequence_number\":\"4\\u00321\"}\n");
    /* And jansson reads what Powertools would write. */
    json_t *root = parse_line(text_of(&out));
    assert_string_equal(json_string_value(json_object_get(root, "sequence_number")), "421");
    assert_true(json_is_true(json_object_get(root, "cold_start")));
    json_decref(root);

    /* A trace header without Root= is logged whole; a Root= not first is found. */
    as_buf_clear(&out);
    log.cold_start = false;
    log.trace_id = span_of("Parent=1;Root=1-abc");
    as_log_line(&log, AS_LOG_ERROR, NOW_MS, span_of("m"), NULL, 0, &out);
    root = parse_line(text_of(&out));
    assert_string_equal(json_string_value(json_object_get(root, "xray_trace_id")), "1-abc");
    assert_true(json_is_false(json_object_get(root, "cold_start")));
    json_decref(root);
    as_buf_free(&out);
}

static void test_levels_filter(void **state)
{
    (void)state;
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    for (int threshold = AS_LOG_TRACE; threshold <= AS_LOG_FATAL; threshold++) {
        as_log log = json_log();
        log.level = (as_log_level)threshold;
        as_buf out = AS_BUF_INIT;
        for (int level = AS_LOG_TRACE; level <= AS_LOG_FATAL; level++) {
            assert_int_equal(as_log_enabled(&log, (as_log_level)level), level >= threshold);
            as_buf_clear(&out);
            as_log_line(&log, (as_log_level)level, NOW_MS, span_of("x"), NULL, 0, &out);
            if (level < threshold) {
                assert_int_equal(out.len, 0);
                continue;
            }
            json_t *root = parse_line(text_of(&out));
            assert_string_equal(json_string_value(json_object_get(root, "level")), names[level]);
            json_decref(root);
        }
        as_buf_free(&out);
    }
    assert_false(as_log_enabled(NULL, AS_LOG_FATAL));
    for (int level = AS_LOG_TRACE; level <= AS_LOG_FATAL; level++) {
        assert_string_equal(as_log_level_name((as_log_level)level), names[level]);
    }
}

static void test_parse(void **state)
{
    (void)state;
    as_log_level level = AS_LOG_INFO;
    assert_int_equal(as_log_level_parse("debug", &level), AS_OK);
    assert_int_equal(level, AS_LOG_DEBUG);
    assert_int_equal(as_log_level_parse("FaTaL", &level), AS_OK);
    assert_int_equal(level, AS_LOG_FATAL);
    assert_int_equal(as_log_level_parse("WARNING", &level), AS_ERR_ARGUMENT);
    assert_int_equal(as_log_level_parse("", &level), AS_ERR_ARGUMENT);
    assert_int_equal(as_log_level_parse(NULL, &level), AS_ERR_ARGUMENT);
    assert_int_equal(level, AS_LOG_FATAL); /* unchanged by the failures */
    as_log_format format = AS_LOG_FORMAT_TEXT;
    assert_int_equal(as_log_format_parse("json", &format), AS_OK);
    assert_int_equal(format, AS_LOG_FORMAT_JSON);
    assert_int_equal(as_log_format_parse("TEXT", &format), AS_OK);
    assert_int_equal(format, AS_LOG_FORMAT_TEXT);
    assert_int_equal(as_log_format_parse("yaml", &format), AS_ERR_ARGUMENT);
}

/* Any bytes in the message or a field make valid JSON: escapes, controls, and ill-formed
 * UTF-8 replaced by U+FFFD (a message cut mid-character by a 256-byte error buffer). */
static void test_json_escaping(void **state)
{
    (void)state;
    as_log log = json_log();
    log.service = span_of("svc\"q");
    as_buf out = AS_BUF_INIT;
    const char msg[] = "say \"hi\"\\\n\t\x01 caf\xC3\xA9 \xC3 end \xED\xA0\x80 \xFF";
    as_log_field f[] = {as_log_field_span("raw", (as_span){"a\0b", 3}),
                        as_log_field_str("we\"ird", "x")};
    as_log_line(&log, AS_LOG_INFO, NOW_MS, (as_span){msg, sizeof msg - 1}, f, 2, &out);
    assert_non_null(strstr(text_of(&out),
                           "\"message\":\"say \\\"hi\\\"\\\\\\n\\t\\u0001 caf\xC3\xA9 "
                           "\xEF\xBF\xBD end \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\""));
    assert_non_null(strstr(text_of(&out), "\"service\":\"svc\\\"q\""));
    assert_non_null(strstr(text_of(&out), "\"raw\":\"a\\u0000b\""));
    assert_non_null(strstr(text_of(&out), "\"we\\\"ird\":\"x\""));
    json_t *root = parse_line(text_of(&out));
    assert_int_equal(json_string_length(json_object_get(root, "raw")), 3);
    json_decref(root);
    as_buf_free(&out);
}

static void test_text_lines(void **state)
{
    (void)state;
    as_log log = json_log();
    log.format = AS_LOG_FORMAT_TEXT;
    as_buf out = AS_BUF_INIT;
    as_log_line(&log, AS_LOG_INFO, NOW_MS, span_of("ready"), NULL, 0, &out);
    assert_string_equal(text_of(&out), "2024-05-01T12:30:45.678Z\tINFO\tready\n");

    /* In an invocation: Lambda's column order, then name=value pairs; values quoted only
     * when they must be, so that a line stays one line and parses back. */
    as_buf_clear(&out);
    log.request_id = span_of("req-1");
    log.trace_id = span_of("Root=1-x");
    log.cold_start = true;
    as_log_field f[] = {as_log_field_u64("records", 3),
                        as_log_field_str("error_type", "ThrottlingException"),
                        as_log_field_str("error_message", "Rate of \"requests\"\nexceeded"),
                        as_log_field_str("empty", ""),
                        as_log_field_str("eq", "a=b"),
                        as_log_field_i64("neg", -1),
                        as_log_field_bool("ok", true),
                        as_log_field_json_str("seq", span_of("111")),
                        as_log_field_json_str("esc", span_of("a\\\"b"))};
    as_log_line(&log, AS_LOG_ERROR, NOW_MS, span_of("two\nlines\x7f"), f, 9, &out);
    assert_string_equal(text_of(&out),
                        "2024-05-01T12:30:45.678Z\treq-1\tERROR\ttwo\\nlines\\x7f records=3 "
                        "error_type=ThrottlingException "
                        "error_message=\"Rate of \\\"requests\\\"\\nexceeded\" empty=\"\" "
                        "eq=\"a=b\" neg=-1 ok=true seq=111 esc=\"a\\\"b\"\n");

    /* Filtering applies to text too. */
    as_buf_clear(&out);
    log.level = AS_LOG_FATAL;
    as_log_line(&log, AS_LOG_ERROR, NOW_MS, span_of("dropped"), NULL, 0, &out);
    assert_int_equal(out.len, 0);
    as_buf_free(&out);
}

/* Timestamps past the clamp range keep four-digit years and stay valid. */
static void test_timestamp_clamped(void **state)
{
    (void)state;
    as_log log = json_log();
    as_buf out = AS_BUF_INIT;
    as_log_line(&log, AS_LOG_INFO, -5, span_of("m"), NULL, 0, &out);
    assert_non_null(strstr(text_of(&out), "\"timestamp\":\"1970-01-01T00:00:00.000Z\""));
    as_buf_free(&out);
}

static void test_emf_exact(void **state)
{
    (void)state;
    as_metric m[] = {{"Records", "Count", 3}, {"Duration", "Milliseconds", 17}};
    as_buf out = AS_BUF_INIT;
    as_log_emf(NOW_MS, "libauditstream", "FunctionName", span_of("audit_producer"), m, 2, &out);
    assert_string_equal(text_of(&out),
                        "{\"_aws\":{\"Timestamp\":1714566645678,\"CloudWatchMetrics\":[{"
                        "\"Namespace\":\"libauditstream\",\"Dimensions\":[[\"FunctionName\"]],"
                        "\"Metrics\":[{\"Name\":\"Records\",\"Unit\":\"Count\"},"
                        "{\"Name\":\"Duration\",\"Unit\":\"Milliseconds\"}]}]},"
                        "\"FunctionName\":\"audit_producer\",\"Records\":3,\"Duration\":17}\n");
    json_t *root = parse_line(text_of(&out));
    json_decref(root);

    /* A dimension value with quotes still makes valid JSON; no metrics is an empty list. */
    as_buf_clear(&out);
    as_log_emf(0, "ns", "FunctionName", span_of("f\"n"), NULL, 0, &out);
    assert_string_equal(text_of(&out),
                        "{\"_aws\":{\"Timestamp\":0,\"CloudWatchMetrics\":[{\"Namespace\":\"ns\","
                        "\"Dimensions\":[[\"FunctionName\"]],\"Metrics\":[]}]},"
                        "\"FunctionName\":\"f\\\"n\"}\n");
    root = parse_line(text_of(&out));
    json_decref(root);
    as_buf_free(&out);
}

/* Lines append: several in one buffer, written at once by the caller. */
static void test_lines_append(void **state)
{
    (void)state;
    as_log log = json_log();
    as_buf out = AS_BUF_INIT;
    as_log_line(&log, AS_LOG_INFO, NOW_MS, span_of("one"), NULL, 0, &out);
    size_t first = out.len;
    as_log_line(&log, AS_LOG_INFO, NOW_MS, span_of("two"), NULL, 0, &out);
    assert_true(out.len > first);
    assert_non_null(strstr(out.data + first, "\"message\":\"two\""));
    assert_int_equal(as_buf_status(&out), AS_OK);
    as_buf_free(&out);
}

/* A raw JSON field goes in as it is: a JSON value in JSON lines, and after name= in text. */
static void test_raw_json_field(void **state)
{
    (void)state;
    as_log log = json_log();
    as_buf out = AS_BUF_INIT;
    const char *heads = "[{\"historyKey\":\"T/a \\\"q\\\"\",\"chain\":\"ab\"}]";
    as_log_field f = as_log_field_json("heads", span_of(heads));
    as_log_line(&log, AS_LOG_INFO, NOW_MS, span_of("chain heads"), &f, 1, &out);
    json_t *line = parse_line(text_of(&out));
    json_t *first = json_array_get(json_object_get(line, "heads"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "historyKey")), "T/a \"q\"");
    assert_string_equal(json_string_value(json_object_get(first, "chain")), "ab");
    json_decref(line);

    as_buf_clear(&out);
    log.format = AS_LOG_FORMAT_TEXT;
    as_log_line(&log, AS_LOG_INFO, NOW_MS, span_of("chain heads"), &f, 1, &out);
    assert_non_null(strstr(text_of(&out), "\tchain heads heads=[{\"historyKey\":"));
    assert_non_null(strstr(text_of(&out), "\"chain\":\"ab\"}]\n"));
    as_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_json_field),
        cmocka_unit_test(test_json_line_outside_invocation),
        cmocka_unit_test(test_json_line_in_invocation),
        cmocka_unit_test(test_levels_filter),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_text_lines),
        cmocka_unit_test(test_timestamp_clamped),
        cmocka_unit_test(test_emf_exact),
        cmocka_unit_test(test_lines_append),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
