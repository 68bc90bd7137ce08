/* Unit tests of what auditstream says (cli/errors.h, plain.h, progress.h): DynamoDB's
 * refusals as one actionable line with their exit status, values as people read them,
 * and backfill's progress line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "plain.h"
#include "progress.h"

static const cli_failure WHERE = {
    .operation = "Query",
    .table = "Audit",
    .option = "--audit-table or AUDIT_TABLE",
    .endpoint = "http://127.0.0.1:4566/",
    .region = "us-east-1",
    .credentials = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    .policy = "reader_policy_arn",
};

static as_ddb_result failed(const char *type, const char *message, long http)
{
    as_ddb_result r;
    memset(&r, 0, sizeof r);
    r.outcome = AS_DDB_FAILED;
    r.attempts = 3;
    r.http_status = http;
    snprintf(r.error_type, sizeof r.error_type, "%s", type);
    snprintf(r.message, sizeof r.message, "%s", message);
    return r;
}

static void test_failure_lines(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *message;
        long http;
        int rc;
        const char *line;
    } cases[] = {
        {"ResourceNotFoundException", "Requested resource not found", 400, 2,
         "no table \"Audit\" in us-east-1 at http://127.0.0.1:4566/: check the name "
         "(--audit-table or AUDIT_TABLE) and the region (--region)"},
        {"AccessDeniedException", "User is not authorized to perform: dynamodb:Query", 400, 2,
         "access denied: Query on table \"Audit\" (AccessDeniedException: User is not authorized "
         "to perform: dynamodb:Query): the credentials (from AWS_ACCESS_KEY_ID and "
         "AWS_SECRET_ACCESS_KEY) need dynamodb:Query; the Terraform output reader_policy_arn "
         "grants what this command needs"},
        {"AccessDenied", "User: u is not authorized to perform: dynamodb:Query", 403, 2,
         "access denied: Query on table \"Audit\" (AccessDenied: User: u is not authorized to "
         "perform: dynamodb:Query): the credentials (from AWS_ACCESS_KEY_ID and "
         "AWS_SECRET_ACCESS_KEY) need dynamodb:Query; the Terraform output reader_policy_arn "
         "grants what this command needs"},
        {"UnrecognizedClientException", "The security token included in the request is invalid",
         400, 2,
         "DynamoDB refused the credentials (UnrecognizedClientException: The security token "
         "included in the request is invalid): check the access key, secret and session token "
         "(from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"},
        {"ConnectionError", "Couldn't connect to server", 0, 2,
         "cannot reach DynamoDB at http://127.0.0.1:4566/ (ConnectionError: Couldn't connect to "
         "server): check --endpoint-url, --region and the network"},
        {"Timeout", "", 0, 2,
         "cannot reach DynamoDB at http://127.0.0.1:4566/ (Timeout): check --endpoint-url, "
         "--region and the network"},
        {"ValidationException", "Key size too large", 400, 2,
         "DynamoDB refused Query on table \"Audit\" (ValidationException: Key size too large)"},
        {"ProvisionedThroughputExceededException", "slow down", 400, 1,
         "DynamoDB throttled Query on table \"Audit\" after 3 attempts "
         "(ProvisionedThroughputExceededException: slow down): try again later, or raise "
         "AWS_MAX_ATTEMPTS"},
        {"InternalServerError", "oops", 500, 1,
         "Query on table \"Audit\" failed (InternalServerError: oops), HTTP 500"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_ddb_result r = failed(cases[i].type, cases[i].message, cases[i].http);
        char message[CLI_MESSAGE_MAX];
        int rc = cli_failure_message(&WHERE, &r, message);
        if (rc != cases[i].rc || strcmp(message, cases[i].line) != 0) {
            fail_msg("case %zu (%s): status %d, \"%s\"", i, cases[i].type, rc, message);
        }
        assert_null(strchr(message, '\n'));
    }
}

static void test_index_lines(void **state)
{
    (void)state;
    char message[CLI_MESSAGE_MAX];
    assert_int_equal(cli_index_message("AuditNoIndex", NULL, message), 2);
    assert_string_equal(message, "table \"AuditNoIndex\" has no index \"history\", which "
                                 "auditstream reads the trail through: create it with the "
                                 "Terraform variable history_index = true (its default) and apply");
    assert_int_equal(cli_index_message("Audit", "CREATING", message), 2);
    assert_string_equal(message, "the index \"history\" of table \"Audit\" is CREATING, not "
                                 "ACTIVE: wait until DynamoDB has built it, then run this again");
}

static void plain_is(const char *wire, const char *want)
{
    as_buf out = AS_BUF_INIT;
    assert_int_equal(cli_plain_wire(as_span_from_cstr(wire), &out), AS_OK);
    assert_string_equal(out.data, want);
    as_buf_free(&out);
}

static void test_plain_values(void **state)
{
    (void)state;
    plain_is("{\"S\":\"abc\"}", "\"abc\"");
    plain_is("{\"S\":\"a\\\"b\\n\"}", "\"a\\\"b\\n\"");
    plain_is("{\"N\":\"1.50\"}", "1.50");
    plain_is("{\"N\":\"1E3\"}", "1E3");
    plain_is("{\"BOOL\":true}", "true");
    plain_is("{\"NULL\":true}", "null");
    plain_is("{\"B\":\"AAEC\"}", "b64:AAEC");
    plain_is("{\"SS\":[\"x\",\"y\"]}", "<<\"x\",\"y\">>");
    plain_is("{\"NS\":[\"1\",\"2.5\"]}", "<<1,2.5>>");
    plain_is("{\"BS\":[\"AA==\"]}", "<<b64:AA==>>");
    plain_is("{\"L\":[{\"N\":\"1\"},{\"S\":\"a\"},{\"L\":[]}]}", "[1,\"a\",[]]");
    plain_is("{\"M\":{\"a\":{\"N\":\"1\"},\"b\":{\"M\":{\"c\":{\"BOOL\":false}}}}}",
             "{\"a\":1,\"b\":{\"c\":false}}");
    /* What does not decode is shown as it is. */
    plain_is("{\"X\":1}", "{\"X\":1}");
    plain_is("nonsense", "nonsense");
}

static void test_progress_text(void **state)
{
    (void)state;
    char text[200];
    cli_progress_text(0, 12, 3, 1, text, sizeof text);
    assert_string_equal(text, "backfill: scanned 12, written 3, failed 1");
    cli_progress_text(100, 50, 2, 0, text, sizeof text);
    assert_string_equal(text, "backfill [############------------]  50%  scanned 50 of about "
                              "100, written 2, failed 0");
    cli_progress_text(100, 100, 0, 0, text, sizeof text);
    assert_string_equal(text, "backfill [########################] 100%  scanned 100 of about "
                              "100, written 0, failed 0");
    /* ItemCount is stale: past it, counts alone. */
    cli_progress_text(10, 11, 0, 0, text, sizeof text);
    assert_string_equal(text, "backfill: scanned 11, written 0, failed 0");

    /* Off a terminal nothing is written; on one, the bar is redrawn in place. */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    cli_progress p;
    cli_progress_init(&p, out, false);
    cli_progress_start(&p, 10);
    cli_progress_update(&p, 5, 0, 0);
    cli_progress_finish(&p, 10, 0, 0);
    assert_int_equal(fflush(out), 0);
    assert_int_equal(len, 0);
    cli_progress_init(&p, out, true);
    cli_progress_start(&p, 0);
    cli_progress_update(&p, 5, 1, 0);
    cli_progress_clear(&p);
    cli_progress_finish(&p, 6, 1, 0);
    assert_int_equal(fclose(out), 0);
    assert_string_equal(buf, "\r\033[Kbackfill: scanned 5, written 1, failed 0\r\033[K"
                             "\r\033[Kbackfill: scanned 6, written 1, failed 0\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failure_lines),
        cmocka_unit_test(test_index_lines),
        cmocka_unit_test(test_plain_values),
        cmocka_unit_test(test_progress_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
