/* Unit tests of the configuration reader: every variable of docs/configuration.md with good
 * and bad values, the alias, defaults, and messages that name the variable at fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditstream.h"
#include "auditstream/config.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define TOKEN  "IQoJb3JpZ2luX2VjEXAMPLETOKEN"

typedef struct fake_env {
    const char *pairs[24][2];
} fake_env;

static const char *fake_getenv(const char *name, void *ctx)
{
    const fake_env *env = ctx;
    for (size_t i = 0; i < 24 && env->pairs[i][0] != NULL; i++) {
        if (strcmp(env->pairs[i][0], name) == 0) {
            return env->pairs[i][1];
        }
    }
    return NULL;
}

/* A complete, valid environment plus `extra` (which wins: it is looked up first). */
static fake_env with(const char *const extra[][2], size_t count)
{
    static const char *const base[][2] = {
        {"AWS_REGION", "eu-west-1"},       {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
        {"AWS_SECRET_ACCESS_KEY", SECRET}, {"AWS_SESSION_TOKEN", TOKEN},
        {"AUDIT_TABLE", "Audit"},
    };
    fake_env env;
    memset(&env, 0, sizeof env);
    size_t n = 0;
    for (size_t i = 0; i < count; i++, n++) {
        env.pairs[n][0] = extra[i][0];
        env.pairs[n][1] = extra[i][1];
    }
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++, n++) {
        env.pairs[n][0] = base[i][0];
        env.pairs[n][1] = base[i][1];
    }
    return env;
}

static bool span_is(as_span span, const char *text)
{
    return span.len == strlen(text) && memcmp(span.ptr, text, span.len) == 0;
}

static void test_defaults(void **state)
{
    (void)state;
    fake_env env = with(NULL, 0);
    as_config c;
    as_error err = {0};
    assert_int_equal(as_config_from_env(fake_getenv, &env, &c, &err), AS_OK);
    assert_string_equal(c.table, "Audit");
    assert_string_equal(c.table_variable, "AUDIT_TABLE");
    assert_int_equal(c.format, AS_FORMAT_CLASSIC);
    assert_int_equal(c.ignore_count, 0);
    assert_int_equal(c.concurrency, AS_DDB_DEFAULT_CONCURRENCY);
    assert_int_equal(c.ddb.concurrency, AS_DDB_DEFAULT_CONCURRENCY);
    assert_int_equal(c.log.format, AS_LOG_FORMAT_TEXT);
    assert_int_equal(c.log.level, AS_LOG_INFO);
    assert_true(span_is(c.log.function_name, AS_CONFIG_DEFAULT_FUNCTION));
    assert_true(span_is(c.log.service, AS_CONFIG_DEFAULT_FUNCTION));
    assert_int_equal(c.log.request_id.len, 0);
    assert_false(c.log.cold_start);
    assert_string_equal(c.ddb.region, "eu-west-1");
    assert_null(c.ddb.endpoint_url);
    assert_int_equal(c.ddb.max_attempts, 0);
    assert_true(span_is(c.credentials.access_key_id, "AKIDEXAMPLE"));
    assert_true(span_is(c.credentials.secret_access_key, SECRET));
    assert_true(span_is(c.credentials.session_token, TOKEN));
}

static void test_everything_set(void **state)
{
    (void)state;
    static const char *const extra[][2] = {
        {"AUDIT_FORMAT", "detailed"},
        {"AUDIT_IGNORE_ATTRIBUTES", " updatedAt ,\tversion,lastSeen\t"},
        {"AUDIT_CONCURRENCY", "256"},
        {"AWS_LAMBDA_LOG_FORMAT", "json"},
        {"AWS_LAMBDA_LOG_LEVEL", "debug"},
        {"AWS_LAMBDA_FUNCTION_NAME", "audit_producer-prod"},
        {"POWERTOOLS_SERVICE_NAME", "audit"},
        {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"},
        {"AWS_MAX_ATTEMPTS", "5"},
    };
    fake_env env = with(extra, sizeof extra / sizeof extra[0]);
    as_config c;
    as_error err = {0};
    assert_int_equal(as_config_from_env(fake_getenv, &env, &c, &err), AS_OK);
    assert_int_equal(c.format, AS_FORMAT_DETAILED);
    assert_int_equal(c.ignore_count, 3);
    assert_true(span_is(c.ignore[0], "updatedAt"));
    assert_true(span_is(c.ignore[1], "version"));
    assert_true(span_is(c.ignore[2], "lastSeen"));
    assert_int_equal(c.concurrency, 256);
    assert_int_equal(c.ddb.concurrency, 256);
    assert_int_equal(c.log.format, AS_LOG_FORMAT_JSON);
    assert_int_equal(c.log.level, AS_LOG_DEBUG);
    assert_true(span_is(c.log.function_name, "audit_producer-prod"));
    assert_true(span_is(c.log.service, "audit"));
    assert_string_equal(c.ddb.endpoint_url, "http://127.0.0.1:8000");
    assert_int_equal(c.ddb.max_attempts, 5);
}

/* One variable set to one value on top of a valid environment. */
typedef struct one_case {
    const char *name;
    const char *value;
    const char *error; /* a part of the message, or NULL for success */
} one_case;

static as_status run_one(const one_case *k, as_config *c, as_error *err)
{
    const char *extra[1][2] = {{k->name, k->value}};
    fake_env env = with(extra, 1);
    memset(err, 0, sizeof *err);
    return as_config_from_env(fake_getenv, &env, c, err);
}

static void check_cases(const one_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        as_config c;
        as_error err;
        as_status status = run_one(&cases[i], &c, &err);
        if (cases[i].error == NULL) {
            if (status != AS_OK) {
                fail_msg("%s=\"%s\": unexpected error \"%s\"", cases[i].name, cases[i].value,
                         err.message);
            }
            continue;
        }
        if (status != AS_ERR_ARGUMENT || err.code != AS_ERR_ARGUMENT ||
            strstr(err.message, cases[i].error) == NULL) {
            fail_msg("%s=\"%s\": want AS_ERR_ARGUMENT with \"%s\", got %d \"%s\"", cases[i].name,
                     cases[i].value, cases[i].error, status, err.message);
        }
        /* Every message names the variable it is about. */
        if (strstr(err.message, cases[i].name) == NULL) {
            fail_msg("%s: message does not name it: \"%s\"", cases[i].name, err.message);
        }
        /* A failure hands back no half-read configuration. */
        assert_null(c.table);
        assert_int_equal(c.ignore_count, 0);
        assert_int_equal(c.credentials.secret_access_key.len, 0);
    }
}

static void test_table(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_TABLE", "abc", NULL},
        {"AUDIT_TABLE", "Audit_table-v2.prod", NULL},
        {"AUDIT_TABLE", "arn:aws:dynamodb:eu-west-1:123456789012:table/Audit", NULL},
        {"AUDIT_TABLE", "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/Audit", NULL},
        {"AUDIT_TABLE", "ab", "config: AUDIT_TABLE is \"ab\": want a DynamoDB table name"},
        {"AUDIT_TABLE", "Audit table", "AUDIT_TABLE is \"Audit table\""},
        {"AUDIT_TABLE", "Audit/x", "AUDIT_TABLE"},
        {"AUDIT_TABLE", "Au\"d\nit", "AUDIT_TABLE is \"Au?d?it\""},
        {"AUDIT_TABLE", "arn:aws:dynamodb:eu-west-1:12345:table/Audit", "AUDIT_TABLE"},
        {"AUDIT_TABLE", "arn:aws:s3:eu-west-1:123456789012:table/Audit", "AUDIT_TABLE"},
        {"AUDIT_TABLE", "arn:aws:dynamodb:eu-west-1:123456789012:table/ab", "AUDIT_TABLE"},
        {"AUDIT_TABLE", "arn:aws:dynamodb:eu-west-1:123456789012:Audit", "AUDIT_TABLE"},
        {"AUDIT_TABLE", "arn:aws:dynamodb:EU:123456789012:table/Audit", "AUDIT_TABLE"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);

    /* 255 bytes is DynamoDB's longest name; 256 is refused, and the quote is capped. */
    char name[257];
    memset(name, 'a', 256);
    name[255] = '\0';
    one_case longest[] = {{"AUDIT_TABLE", name, NULL}};
    check_cases(longest, 1);
    name[255] = 'a';
    name[256] = '\0';
    one_case too_long[] = {
        {"AUDIT_TABLE", name, "AUDIT_TABLE is \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\""}};
    check_cases(too_long, 1);
}

static void test_table_alias(void **state)
{
    (void)state;
    as_config c;
    as_error err = {0};
    /* target_table alone: the Java function's variable still works. */
    fake_env alias = {{{"AWS_REGION", "eu-west-1"},
                       {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                       {"AWS_SECRET_ACCESS_KEY", SECRET},
                       {"target_table", "LegacyAudit"}}};
    assert_int_equal(as_config_from_env(fake_getenv, &alias, &c, &err), AS_OK);
    assert_string_equal(c.table, "LegacyAudit");
    assert_string_equal(c.table_variable, "target_table");

    /* Both, equal: fine, and AUDIT_TABLE is the one named. */
    const char *same[1][2] = {{"target_table", "Audit"}};
    fake_env both = with(same, 1);
    assert_int_equal(as_config_from_env(fake_getenv, &both, &c, &err), AS_OK);
    assert_string_equal(c.table, "Audit");
    assert_string_equal(c.table_variable, "AUDIT_TABLE");

    /* Both, different: refused rather than guessed. */
    const char *differ[1][2] = {{"target_table", "Other"}};
    fake_env conflict = with(differ, 1);
    assert_int_equal(as_config_from_env(fake_getenv, &conflict, &c, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "AUDIT_TABLE and target_table"));

    /* A bad alias value is reported under the alias's name. */
    fake_env bad_alias = {{{"AWS_REGION", "eu-west-1"}, {"target_table", "x"}}};
    assert_int_equal(as_config_from_env(fake_getenv, &bad_alias, &c, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "config: target_table is \"x\""));

    /* Neither (or only empty values): required. */
    fake_env none = {{{"AWS_REGION", "eu-west-1"}, {"AUDIT_TABLE", ""}}};
    assert_int_equal(as_config_from_env(fake_getenv, &none, &c, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "config: AUDIT_TABLE is not set (nor its alias target_table)");
}

static void test_format(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_FORMAT", "classic", NULL},
        {"AUDIT_FORMAT", "detailed", NULL},
        {"AUDIT_FORMAT", "", NULL}, /* empty counts as unset */
        {"AUDIT_FORMAT", "Classic",
         "config: AUDIT_FORMAT is \"Classic\": want classic or detailed"},
        {"AUDIT_FORMAT", "full", "AUDIT_FORMAT is \"full\""},
        {"AUDIT_FORMAT", "classic ", "AUDIT_FORMAT"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_ignore_attributes(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_IGNORE_ATTRIBUTES", "a", NULL},
        {"AUDIT_IGNORE_ATTRIBUTES", "   ", NULL}, /* blank: none */
        {"AUDIT_IGNORE_ATTRIBUTES", "a,b", NULL},
        {"AUDIT_IGNORE_ATTRIBUTES", "a,,b", "AUDIT_IGNORE_ATTRIBUTES: entry 2 is empty"},
        {"AUDIT_IGNORE_ATTRIBUTES", "a,", "AUDIT_IGNORE_ATTRIBUTES: entry 2 is empty"},
        {"AUDIT_IGNORE_ATTRIBUTES", ",a", "AUDIT_IGNORE_ATTRIBUTES: entry 1 is empty"},
        {"AUDIT_IGNORE_ATTRIBUTES", "a, \t ,b", "entry 2 is empty"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);

    as_config c;
    as_error err;
    /* Blank means no names at all. */
    one_case blank = {"AUDIT_IGNORE_ATTRIBUTES", " \t ", NULL};
    assert_int_equal(run_one(&blank, &c, &err), AS_OK);
    assert_int_equal(c.ignore_count, 0);
    /* Names are raw bytes, inner spaces and UTF-8 kept, borrowed from the value. */
    one_case names = {"AUDIT_IGNORE_ATTRIBUTES", "first name,pr\xC3\xA9nom ,x", NULL};
    assert_int_equal(run_one(&names, &c, &err), AS_OK);
    assert_int_equal(c.ignore_count, 3);
    assert_true(span_is(c.ignore[0], "first name"));
    assert_true(span_is(c.ignore[1], "pr\xC3\xA9nom"));
    assert_ptr_equal(c.ignore[0].ptr, names.value);
    assert_true(span_is(c.ignore[2], "x"));

    /* AS_CONFIG_MAX_IGNORE names pass; one more is refused. */
    char list[4 * (AS_CONFIG_MAX_IGNORE + 1) + 1] = "";
    size_t len = 0;
    for (int i = 0; i < AS_CONFIG_MAX_IGNORE; i++) {
        len += (size_t)snprintf(list + len, sizeof list - len, "%sa%d", i ? "," : "", i);
    }
    one_case full = {"AUDIT_IGNORE_ATTRIBUTES", list, NULL};
    assert_int_equal(run_one(&full, &c, &err), AS_OK);
    assert_int_equal(c.ignore_count, AS_CONFIG_MAX_IGNORE);
    snprintf(list + len, sizeof list - len, ",zz");
    assert_int_equal(run_one(&full, &c, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "AUDIT_IGNORE_ATTRIBUTES lists more than 64 names"));
}

static void test_concurrency(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_CONCURRENCY", "1", NULL},
        {"AUDIT_CONCURRENCY", "8", NULL},
        {"AUDIT_CONCURRENCY", "256", NULL},
        {"AUDIT_CONCURRENCY", "0",
         "config: AUDIT_CONCURRENCY is \"0\": want a whole number from 1 to 256"},
        {"AUDIT_CONCURRENCY", "257", "AUDIT_CONCURRENCY is \"257\""},
        {"AUDIT_CONCURRENCY", "-1", "AUDIT_CONCURRENCY"},
        {"AUDIT_CONCURRENCY", "+8", "AUDIT_CONCURRENCY"},
        {"AUDIT_CONCURRENCY", " 8", "AUDIT_CONCURRENCY"},
        {"AUDIT_CONCURRENCY", "8 ", "AUDIT_CONCURRENCY"},
        {"AUDIT_CONCURRENCY", "8x", "AUDIT_CONCURRENCY"},
        {"AUDIT_CONCURRENCY", "0x10", "AUDIT_CONCURRENCY"},
        {"AUDIT_CONCURRENCY", "1e2", "AUDIT_CONCURRENCY"},
        {"AUDIT_CONCURRENCY", "4294967304", "AUDIT_CONCURRENCY"}, /* 2^32 + 8 wraps to 8 */
        {"AUDIT_CONCURRENCY", "99999999999999999999999999", "AUDIT_CONCURRENCY"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
    as_config c;
    as_error err;
    one_case three = {"AUDIT_CONCURRENCY", "3", NULL};
    assert_int_equal(run_one(&three, &c, &err), AS_OK);
    assert_int_equal(c.concurrency, 3);
    assert_int_equal(c.ddb.concurrency, 3);
}

static void test_log_settings(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AWS_LAMBDA_LOG_FORMAT", "JSON", NULL},
        {"AWS_LAMBDA_LOG_FORMAT", "Text", NULL},
        {"AWS_LAMBDA_LOG_FORMAT", "text", NULL},
        {"AWS_LAMBDA_LOG_FORMAT", "xml",
         "config: AWS_LAMBDA_LOG_FORMAT is \"xml\": want JSON or Text"},
        {"AWS_LAMBDA_LOG_FORMAT", "JSONL", "AWS_LAMBDA_LOG_FORMAT"},
        {"AWS_LAMBDA_LOG_LEVEL", "TRACE", NULL},
        {"AWS_LAMBDA_LOG_LEVEL", "Warn", NULL},
        {"AWS_LAMBDA_LOG_LEVEL", "fatal", NULL},
        {"AWS_LAMBDA_LOG_LEVEL", "WARNING", "config: AWS_LAMBDA_LOG_LEVEL is \"WARNING\""},
        {"AWS_LAMBDA_LOG_LEVEL", "verbose", "AWS_LAMBDA_LOG_LEVEL"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);

    static const struct {
        const char *text;
        as_log_level level;
    } levels[] = {{"trace", AS_LOG_TRACE}, {"DEBUG", AS_LOG_DEBUG}, {"Info", AS_LOG_INFO},
                  {"WARN", AS_LOG_WARN},   {"error", AS_LOG_ERROR}, {"FATAL", AS_LOG_FATAL}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        as_config c;
        as_error err;
        one_case k = {"AWS_LAMBDA_LOG_LEVEL", levels[i].text, NULL};
        assert_int_equal(run_one(&k, &c, &err), AS_OK);
        assert_int_equal(c.log.level, levels[i].level);
    }
}

/* A failure past the log settings still hands them back, so that it can be logged as
 * configured; a failure in them hands back the defaults. */
static void test_failure_keeps_log_settings(void **state)
{
    (void)state;
    static const char *const extra[][2] = {{"AWS_LAMBDA_LOG_FORMAT", "JSON"},
                                           {"AWS_LAMBDA_LOG_LEVEL", "ERROR"},
                                           {"AWS_LAMBDA_FUNCTION_NAME", "fn"},
                                           {"AUDIT_FORMAT", "bad"}};
    fake_env env = with(extra, 4);
    as_config c;
    as_error err;
    assert_int_equal(as_config_from_env(fake_getenv, &env, &c, &err), AS_ERR_ARGUMENT);
    assert_int_equal(c.log.format, AS_LOG_FORMAT_JSON);
    assert_int_equal(c.log.level, AS_LOG_ERROR);
    assert_true(span_is(c.log.function_name, "fn"));
    assert_null(c.table);

    static const char *const bad_log[][2] = {{"AWS_LAMBDA_LOG_LEVEL", "loud"}};
    env = with(bad_log, 1);
    assert_int_equal(as_config_from_env(fake_getenv, &env, &c, &err), AS_ERR_ARGUMENT);
    assert_int_equal(c.log.format, AS_LOG_FORMAT_TEXT);
    assert_int_equal(c.log.level, AS_LOG_INFO);
    assert_true(span_is(c.log.function_name, AS_CONFIG_DEFAULT_FUNCTION));
}

/* The DynamoDB variables go through as_ddb_config_from_env: their messages name them,
 * and no message ever carries a credential. */
static void test_ddb_variables(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AWS_MAX_ATTEMPTS", "0", "ddb: AWS_MAX_ATTEMPTS"},
        {"AWS_MAX_ATTEMPTS", "10", NULL},
        {"AWS_ENDPOINT_URL_DYNAMODB", "ftp://x", "ddb: AWS_ENDPOINT_URL_DYNAMODB"},
        {"AWS_ENDPOINT_URL", "http://10.1.2.3:8000", "ddb: AWS_ENDPOINT_URL"},
        {"AWS_ENDPOINT_URL", "https://dynamodb.example.com", NULL},
        {"AWS_REGION", "Not A Region", "AWS_REGION"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);

    as_config c;
    as_error err;
    fake_env no_key = {{{"AWS_REGION", "eu-west-1"},
                        {"AUDIT_TABLE", "Audit"},
                        {"AWS_SECRET_ACCESS_KEY", SECRET},
                        {"AWS_SESSION_TOKEN", TOKEN}}};
    assert_int_equal(as_config_from_env(fake_getenv, &no_key, &c, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "AWS_ACCESS_KEY_ID"));
    assert_null(strstr(err.message, SECRET));
    fake_env no_secret = {{{"AWS_REGION", "eu-west-1"},
                           {"AUDIT_TABLE", "Audit"},
                           {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                           {"AWS_SESSION_TOKEN", TOKEN}}};
    assert_int_equal(as_config_from_env(fake_getenv, &no_secret, &c, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "AWS_SECRET_ACCESS_KEY"));
    assert_null(strstr(err.message, TOKEN));
    assert_int_equal(c.credentials.session_token.len, 0);
}

static void test_arguments(void **state)
{
    (void)state;
    as_config c;
    as_error err;
    fake_env env = with(NULL, 0);
    assert_int_equal(as_config_from_env(NULL, &env, &c, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_config_from_env(fake_getenv, &env, NULL, &err), AS_ERR_ARGUMENT);
    /* The error struct is optional. */
    fake_env empty = {{{NULL, NULL}}};
    assert_int_equal(as_config_from_env(fake_getenv, &empty, &c, NULL), AS_ERR_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_everything_set),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_alias),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_ignore_attributes),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_log_settings),
        cmocka_unit_test(test_failure_keeps_log_settings),
        cmocka_unit_test(test_ddb_variables),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
