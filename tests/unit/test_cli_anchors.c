/* Unit tests of verify --anchors FILE's reader (cli/anchors.h): the function's "chain heads"
 * lines in JSON and text, other log lines skipped, and each malformed line named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "anchors.h"
#include "auditstream/log.h"

#define C1 "1111111111111111111111111111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222222222222222222222222222"
#define C3 "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static int parse(const char *text, cli_anchors *out, char message[CLI_MESSAGE_MAX])
{
    return cli_anchors_parse("a.jsonl", text, strlen(text), out, message);
}

static void expect(const cli_anchors *a, size_t i, const char *key, const char *seq,
                   const char *chain, size_t line)
{
    assert_true(i < a->count);
    assert_string_equal(a->items[i].history_key, key);
    assert_string_equal(a->items[i].sequence_number, seq);
    assert_string_equal(a->items[i].chain, chain);
    assert_int_equal(a->items[i].line, line);
}

static void test_every_form(void **state)
{
    (void)state;
    const char *text =
        /* 1: a JSON log line, as the function writes with AWS_LAMBDA_LOG_FORMAT=JSON */
        "{\"timestamp\":\"2024-05-01T12:30:45.000Z\",\"level\":\"INFO\",\"message\":\"chain "
        "heads\",\"service\":\"audit_producer\",\"function_request_id\":\"r1\",\"heads\":"
        "[{\"historyKey\":\"Configuration/b\",\"sequenceNumber\":\"200\",\"chain\":\"" C2 "\"},"
        "{\"historyKey\":\"Configuration/a\",\"sequenceNumber\":\"100\",\"chain\":\"" C1 "\","
        "\"extra\":1},{\"historyKey\":\"Configuration/a\",\"sequenceNumber\":\"150\",\"chain\":"
        "\"" C2 "\"}]}\n"
        /* 2: blank; 3: Lambda's platform lines; 4: the summary line; 5: a metric line */
        "   \n"
        "START RequestId: r2 Version: $LATEST\n"
        "{\"level\":\"INFO\",\"message\":\"batch done\",\"records\":3}\n"
        "{\"_aws\":{\"Timestamp\":1},\"ChainHeadsMoved\":2}\r\n"
        /* 6: a bare line; 7: a text log line, CRLF */
        "{\"heads\":[{\"historyKey\":\"Configuration/a\",\"sequenceNumber\":\"00000000000000000000"
        "00000000000000000101\",\"chain\":\"" C3 "\"}]}\n"
        "2024-05-01T12:31:00.000Z\tr3\tINFO\tchain heads heads=[{\"historyKey\":\"Configuration/"
        "c d\",\"sequenceNumber\":\"7\",\"chain\":\"" C1 "\"}] extra=1\r\n"
        /* 8: heads quoted as a JSON string; 9: a JSON line after a prefix (aws logs tail) */
        "2024-05-01T12:32:00.000Z\tINFO\tchain heads heads=\"[{\\\"historyKey\\\":\\\"Configuration"
        "/e\\\",\\\"sequenceNumber\\\":\\\"9\\\",\\\"chain\\\":\\\"" C2 "\\\"}]\"\n"
        "2024-05-01T12:33:00.123000+00:00 2024/05/01/[$LATEST]abc {\"message\":\"chain heads\","
        "\"heads\":[{\"historyKey\":\"Configuration/\\u00e9\",\"sequenceNumber\":\"8\",\"chain\":"
        "\"" C3 "\"}]}\n"
        /* 10: a line whose heads are empty counts as a chain heads line */
        "{\"message\":\"chain heads\",\"heads\":[]}\n"
        /* 11, 12: the function's error about its anchor line, in text; another message
         * that merely names chain heads; 13: another JSON line after a prefix */
        "2024-05-01T12:34:00.000Z\tr4\tERROR\tchain heads: out of memory writing the anchor "
        "line\n"
        "2024-05-01T12:34:00.000Z\tr4\tINFO\tno chain headsets here x=\"chain heads\"\n"
        "2024-05-01T12:34:00.1+00:00 stream {\"message\":\"batch complete\",\"records\":{}}\n"
        "REPORT RequestId: r2 Duration: 1.00 ms"; /* 14, without a newline */
    cli_anchors a;
    char message[CLI_MESSAGE_MAX];
    int rc = parse(text, &a, message);
    assert_string_equal(message, "");
    assert_int_equal(rc, 0);
    assert_int_equal(a.count, 7);
    assert_int_equal(a.lines, 6);
    /* Sorted by key, then in the file's order (two of one line included). */
    expect(&a, 0, "Configuration/a", "100", C1, 1);
    expect(&a, 1, "Configuration/a", "150", C2, 1);
    expect(&a, 2, "Configuration/a", "0000000000000000000000000000000000000101", C3, 6);
    expect(&a, 3, "Configuration/b", "200", C2, 1);
    expect(&a, 4, "Configuration/c d", "7", C1, 7);
    expect(&a, 5, "Configuration/e", "9", C2, 8);
    expect(&a, 6, "Configuration/\xc3\xa9", "8", C3, 9);
    size_t first = 99;
    assert_int_equal(cli_anchors_of(&a, "Configuration/a", &first), 3);
    assert_int_equal(first, 0);
    assert_int_equal(cli_anchors_of(&a, "Configuration/c d", &first), 1);
    assert_int_equal(first, 4);
    assert_int_equal(cli_anchors_of(&a, "Configuration/zz", &first), 0);
    assert_int_equal(cli_anchors_of(&a, "Configuration/", &first), 0);
    cli_anchors_free(&a);
    assert_null(a.items);
    assert_int_equal(a.count, 0);
    cli_anchors_free(NULL);
}

static void test_malformed_lines(void **state)
{
    (void)state;
    static const char OK[] = "{\"heads\":[]}\n";
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"{\"heads\":[]}\n{\"heads\":[\n",
         "a.jsonl: line 2: not a JSON object: ']' expected near end of file"},
        {"{\"heads\":[]} trailing\n",
         "a.jsonl: line 1: not a JSON object: end of file expected near 'trailing'"},
        {"{\"heads\":{}}\n", "a.jsonl: line 1: \"heads\" is not an array"},
        {"{\"heads\":[1]}\n", "a.jsonl: line 1: heads[0] is not an object"},
        {"{\"heads\":[{\"sequenceNumber\":\"1\",\"chain\":\"" C1 "\"}]}\n",
         "a.jsonl: line 1: heads[0].historyKey is missing"},
        {"{\"heads\":[{\"historyKey\":\"\",\"sequenceNumber\":\"1\",\"chain\":\"" C1 "\"}]}\n",
         "a.jsonl: line 1: heads[0].historyKey is not a non-empty string"},
        {"{\"heads\":[{\"historyKey\":7,\"sequenceNumber\":\"1\",\"chain\":\"" C1 "\"}]}\n",
         "a.jsonl: line 1: heads[0].historyKey is not a non-empty string"},
        {"{\"heads\":[{\"historyKey\":\"k\",\"chain\":\"" C1 "\"}]}\n",
         "a.jsonl: line 1: heads[0].sequenceNumber is missing"},
        {"{\"heads\":[{\"historyKey\":\"k\",\"sequenceNumber\":100,\"chain\":\"" C1 "\"}]}\n",
         "a.jsonl: line 1: heads[0].sequenceNumber is not a string of 1 to 40 digits"},
        {"{\"heads\":[{\"historyKey\":\"k\",\"sequenceNumber\":\"\",\"chain\":\"" C1 "\"}]}\n",
         "a.jsonl: line 1: heads[0].sequenceNumber is not a string of 1 to 40 digits"},
        {"{\"heads\":[{\"historyKey\":\"k\",\"sequenceNumber\":\"1x\",\"chain\":\"" C1 "\"}]}\n",
         "a.jsonl: line 1: heads[0].sequenceNumber is not a string of 1 to 40 digits"},
        {"{\"heads\":[{\"historyKey\":\"k\",\"sequenceNumber\":\"12345678901234567890123456789012"
         "345678901\",\"chain\":\"" C1 "\"}]}\n",
         "a.jsonl: line 1: heads[0].sequenceNumber is not a string of 1 to 40 digits"},
        {"{\"heads\":[{\"historyKey\":\"k\",\"sequenceNumber\":\"1\"}]}\n",
         "a.jsonl: line 1: heads[0].chain is missing"},
        {"{\"heads\":[{\"historyKey\":\"k\",\"sequenceNumber\":\"1\",\"chain\":\"ABCDEF0123456789"
         "abcdef0123456789abcdef0123456789abcdef0123456789\"}]}\n",
         "a.jsonl: line 1: heads[0].chain is not 64 lower-case hex digits"},
        {"{\"heads\":[{\"historyKey\":\"k\",\"sequenceNumber\":\"1\",\"chain\":\"" C1 "0\"}]}\n",
         "a.jsonl: line 1: heads[0].chain is not 64 lower-case hex digits"},
        {"{\"heads\":[{\"historyKey\":\"k\",\"sequenceNumber\":\"1\",\"chain\":\"" C1
         "\"},{\"historyKey\":\"k\",\"sequenceNumber\":\"2\",\"chain\":\"x\"}]}\n",
         "a.jsonl: line 1: heads[1].chain is not 64 lower-case hex digits"},
        {"{\"message\":\"chain heads\",\"level\":\"INFO\"}\n",
         "a.jsonl: line 1: a \"chain heads\" line without \"heads\""},
        {"[1,2]\n", NULL}, /* text without "chain heads": skipped, so no line at all */
        {"{\"heads\":[],\"heads\":[]}\n",
         "a.jsonl: line 1: not a JSON object: duplicate object key near '\"heads\"'"},
        {"2024-05-01T12:31:00.000Z\tr3\tINFO\tchain heads\n",
         "a.jsonl: line 1: a \"chain heads\" line with neither heads= nor a JSON object"},
        {"2024-05-01T12:31:00.000Z\tINFO\tchain heads heads=[{\"historyKey\"\n",
         "a.jsonl: line 1: heads= is not JSON: ':' expected near end of file"},
        {"2024-05-01T12:31:00.000Z\tINFO\tchain heads heads=[]x\n",
         "a.jsonl: line 1: heads= is not followed by a blank"},
        {"2024-05-01T12:31:00.000Z\tINFO\tchain heads heads=\"[1\"\n",
         "a.jsonl: line 1: heads= is not a JSON array: ']' expected near end of file"},
        {"2024-05-01T12:31:00.000Z\tINFO\tchain heads heads=\"{}\"\n",
         "a.jsonl: line 1: \"heads\" is not an array"},
        /* A prefixed JSON line cut short, which names heads: refused, not skipped. */
        {"2024-05-01T12:31:00.000Z stream {\"message\":\"chain heads\",\"heads\":[{\"hist\n",
         "a.jsonl: line 1: not a JSON object: premature end of input near '\"hist'"},
        {"x {\"heads\":[]} y\n",
         "a.jsonl: line 1: not a JSON object: end of file expected near 'y'"},
        {"{\"heads\":[]}\n\n{\"heads\":[{\"historyKey\":\"k\"}]}\n",
         "a.jsonl: line 3: heads[0].sequenceNumber is missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_anchors a;
        char message[CLI_MESSAGE_MAX];
        int rc = parse(cases[i].text, &a, message);
        const char *want = cases[i].message != NULL
                               ? cases[i].message
                               : "a.jsonl: no \"chain heads\" line in it: give the function's "
                                 "log lines whose message is \"chain heads\"";
        if (rc != 2 || strcmp(message, want) != 0) {
            fail_msg("case %zu: status %d, message \"%s\"", i, rc, message);
        }
        cli_anchors_free(&a);
    }
    /* A NUL byte inside a line. */
    static const char nul[] = "{\"heads\":[]}\n{\"heads\":\0[]}\n";
    cli_anchors a;
    char message[CLI_MESSAGE_MAX];
    assert_int_equal(cli_anchors_parse("f", nul, sizeof nul - 1, &a, message), 2);
    assert_string_equal(message, "f: line 2: holds a NUL byte: not a log line");
    cli_anchors_free(&a);
    /* Nothing but other lines, or nothing at all: not an anchors file. */
    const char *none[] = {"", "\n\n", "START RequestId: r\n{\"message\":\"batch done\"}\n"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        assert_int_equal(parse(none[i], &a, message), 2);
        assert_string_equal(message, "a.jsonl: no \"chain heads\" line in it: give the "
                                     "function's log lines whose message is \"chain heads\"");
        cli_anchors_free(&a);
    }
    assert_int_equal(parse(OK, &a, message), 0);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.lines, 1);
    cli_anchors_free(&a);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_cli_anchors.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] =
        "{\"heads\":[{\"historyKey\":\"T/k\",\"sequenceNumber\":\"5\",\"chain\":\"" C1 "\"}]}\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    cli_anchors a;
    char message[CLI_MESSAGE_MAX];
    assert_int_equal(cli_anchors_read(path, &a, message), 0);
    assert_int_equal(a.count, 1);
    expect(&a, 0, "T/k", "5", C1, 1);
    cli_anchors_free(&a);
    /* A malformed line is named with the path. */
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("{oops\n", f);
    fclose(f);
    assert_int_equal(cli_anchors_read(path, &a, message), 2);
    char want[CLI_MESSAGE_MAX];
    snprintf(want, sizeof want, "%s: line 2: not a JSON object: string or '}' expected near 'oops'",
             path);
    assert_string_equal(message, want);
    cli_anchors_free(&a);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(cli_anchors_read(path, &a, message), 2);
    snprintf(want, sizeof want, "%s: cannot open it: No such file or directory", path);
    assert_string_equal(message, want);
    cli_anchors_free(&a);
    /* A folder opens but does not read. */
    assert_int_equal(cli_anchors_read("/tmp", &a, message), 2);
    assert_string_equal(message, "/tmp: cannot read it: Is a directory");
    cli_anchors_free(&a);
}

/* One invocation's heads spread over several "chain heads" lines, as the function logs
 * more than fit in one CloudWatch Logs event: lines of about 180,000 bytes, all of one
 * request, in JSON and in text; every head of every line is read, with its line. */
static void test_split_lines(void **state)
{
    (void)state;
    const size_t per_line = 1200;
    const size_t lines = 3;
    as_buf file = AS_BUF_INIT;
    as_buf heads = AS_BUF_INIT;
    for (int format = 0; format < 2; format++) {
        as_log log = {.format = format == 0 ? AS_LOG_FORMAT_JSON : AS_LOG_FORMAT_TEXT,
                      .level = AS_LOG_INFO,
                      .request_id = {"r-split", 7}};
        for (size_t l = 0; l < lines; l++) {
            as_buf_clear(&heads);
            as_buf_append_char(&heads, '[');
            for (size_t i = 0; i < per_line; i++) {
                char head[200];
                size_t n = l * per_line + i;
                snprintf(head, sizeof head,
                         "%s{\"historyKey\":\"Configuration/key-%d-%05zu\",\"sequenceNumber\":"
                         "\"%zu\",\"chain\":\"%s\"}",
                         i > 0 ? "," : "", format, n, 100000 + n, n % 2 == 0 ? C1 : C2);
                as_buf_append_str(&heads, head);
            }
            as_buf_append_char(&heads, ']');
            assert_int_equal(as_buf_status(&heads), AS_OK);
            as_log_field f = as_log_field_json("heads", (as_span){heads.data, heads.len});
            size_t at = file.len;
            as_log_line(&log, AS_LOG_INFO, 1714566645000, as_span_from_cstr("chain heads"), &f, 1,
                        &file);
            assert_true(file.len - at > 150000 && file.len - at < 200000);
        }
    }
    assert_int_equal(as_buf_status(&file), AS_OK);
    cli_anchors a;
    char message[CLI_MESSAGE_MAX];
    assert_int_equal(cli_anchors_parse("split.log", file.data, file.len, &a, message), 0);
    assert_int_equal(a.lines, 2 * lines);
    assert_int_equal(a.count, 2 * lines * per_line);
    for (int format = 0; format < 2; format++) {
        for (size_t n = 0; n < lines * per_line; n += 499) {
            char key[64];
            char seq[16];
            snprintf(key, sizeof key, "Configuration/key-%d-%05zu", format, n);
            snprintf(seq, sizeof seq, "%zu", 100000 + n);
            size_t first = 0;
            assert_int_equal(cli_anchors_of(&a, key, &first), 1);
            expect(&a, first, key, seq, n % 2 == 0 ? C1 : C2,
                   (size_t)format * lines + n / per_line + 1);
        }
    }
    cli_anchors_free(&a);
    as_buf_free(&heads);
    as_buf_free(&file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_form),
        cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_split_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
