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

/* A 32-byte redaction key (bytes 0x00..0x1f) and its base64. */
static const unsigned char KEY32[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                        11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                        22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
#define KEY32_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

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
    /* The trust settings and the write API: none, kept forever, off, PutItem. */
    assert_int_equal(c.actor_attribute.len, 0);
    assert_int_equal(c.retention_days, 0);
    assert_int_equal(c.redact_count, 0);
    assert_int_equal(c.redact_key_len, 0);
    assert_false(c.chain);
    assert_int_equal(c.write_api, AS_DDB_WRITE_PUT_ITEM);
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
        {"AUDIT_ACTOR_ATTRIBUTE", " updatedBy\t"},
        {"AUDIT_RETENTION_DAYS", "365"},
        {"AUDIT_REDACT_ATTRIBUTES", "password, apiKey"},
        {"AUDIT_REDACT_KEY", KEY32_B64},
        {"AUDIT_CHAIN", "on"},
        {"AUDIT_WRITE_API", "BatchWriteItem"},
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
    assert_true(span_is(c.actor_attribute, "updatedBy"));
    assert_int_equal(c.retention_days, 365);
    assert_int_equal(c.redact_count, 2);
    assert_true(span_is(c.redact[0], "password"));
    assert_true(span_is(c.redact[1], "apiKey"));
    assert_int_equal(c.redact_key_len, 32);
    assert_memory_equal(c.redact_key, KEY32, 32);
    assert_true(c.chain);
    assert_int_equal(c.write_api, AS_DDB_WRITE_BATCH);
    as_config_wipe(&c);
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
        assert_int_equal(c.redact_count, 0);
        assert_int_equal(c.redact_key_len, 0);
        static const uint8_t zeros[AS_CONFIG_MAX_REDACT_KEY];
        assert_memory_equal(c.redact_key, zeros, sizeof zeros);
    }
}

static void test_table(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_TABLE", "abc", NULL},
        {"AUDIT_TABLE", "Audit_table-v2.prod", NULL},
        {"AUDIT_TABLE", "arn:aws:dynamodb:eu-west-1:123456789012:table/Audit", NULL},
        {"AUDIT_TABLE", "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/Audit",
         "AUDIT_TABLE is a table ARN in partition \"aws-us-gov\", but AWS_REGION eu-west-1 is in "
         "partition aws"},
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

    /* Issue 9, item 5: with JSON asked for, the FATAL line about a bad level was Text.
     * The format (and the names) that could be read come back with the error. */
    static const char *const json_bad_level[][2] = {{"AWS_LAMBDA_LOG_FORMAT", "JSON"},
                                                    {"AWS_LAMBDA_LOG_LEVEL", "loud"},
                                                    {"AWS_LAMBDA_FUNCTION_NAME", "fn"}};
    env = with(json_bad_level, 3);
    assert_int_equal(as_config_from_env(fake_getenv, &env, &c, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "AWS_LAMBDA_LOG_LEVEL"));
    assert_int_equal(c.log.format, AS_LOG_FORMAT_JSON);
    assert_int_equal(c.log.level, AS_LOG_INFO);
    assert_true(span_is(c.log.function_name, "fn"));
    assert_null(c.table);
}

/* What the handler logs with before (or without) the configuration: never fails, keeps
 * whatever is valid. */
static void test_log_before_config(void **state)
{
    (void)state;
    static const struct {
        const char *format;
        const char *level;
        as_log_format want_format;
        as_log_level want_level;
    } cases[] = {
        {NULL, NULL, AS_LOG_FORMAT_TEXT, AS_LOG_INFO},
        {"JSON", NULL, AS_LOG_FORMAT_JSON, AS_LOG_INFO},
        {"json", "loud", AS_LOG_FORMAT_JSON, AS_LOG_INFO},
        {"JSON", "INFO\n", AS_LOG_FORMAT_JSON, AS_LOG_INFO},
        {"JSON", "error", AS_LOG_FORMAT_JSON, AS_LOG_ERROR},
        {"JSON\r\n", "warn", AS_LOG_FORMAT_TEXT, AS_LOG_WARN},
        {"XML", "DEBUG", AS_LOG_FORMAT_TEXT, AS_LOG_DEBUG},
        {"", "", AS_LOG_FORMAT_TEXT, AS_LOG_INFO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_env env = {{{"AWS_LAMBDA_LOG_FORMAT", cases[i].format},
                         {"AWS_LAMBDA_LOG_LEVEL", cases[i].level},
                         {"POWERTOOLS_SERVICE_NAME", "svc"}}};
        if (cases[i].format == NULL) {
            env.pairs[0][0] = "UNUSED";
        }
        if (cases[i].level == NULL) {
            env.pairs[1][0] = "UNUSED";
        }
        as_log log;
        memset(&log, 0xa5, sizeof log);
        as_config_log_from_env(fake_getenv, &env, &log);
        if (log.format != cases[i].want_format || log.level != cases[i].want_level) {
            fail_msg("case %zu: format %d level %d", i, (int)log.format, (int)log.level);
        }
        assert_true(span_is(log.service, "svc"));
        assert_true(span_is(log.function_name, AS_CONFIG_DEFAULT_FUNCTION));
        assert_int_equal(log.request_id.len, 0);
        assert_false(log.cold_start);
    }
    /* A level with a control byte is refused by the strict reader, quoted safely. */
    static const char *const nl[][2] = {{"AWS_LAMBDA_LOG_LEVEL", "INFO\r\nFAKE=1"}};
    fake_env env = with(nl, 1);
    as_config c;
    as_error err;
    assert_int_equal(as_config_from_env(fake_getenv, &env, &c, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "config: AWS_LAMBDA_LOG_LEVEL is \"INFO??FAKE=1\": want "
                                     "TRACE, DEBUG, INFO, WARN, ERROR or FATAL");
    as_config_log_from_env(NULL, NULL, NULL); /* no-op */

    fake_env api = {{{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}}};
    assert_string_equal(as_config_runtime_api(fake_getenv, &api), "127.0.0.1:9001");
    fake_env empty_api = {{{"AWS_LAMBDA_RUNTIME_API", ""}}};
    assert_null(as_config_runtime_api(fake_getenv, &empty_api));
    assert_null(as_config_runtime_api(NULL, NULL));
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

/* ---- the DynamoDB client's settings (as_ddb_config_from_env) ------------------------------ */

#define AKID "AKIDFAULTTEST"

static bool has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static void test_ddb_env_minimal(void **state)
{
    (void)state;
    fake_env env = {{{"AWS_REGION", "eu-west-1"},
                     {"AWS_ACCESS_KEY_ID", AKID},
                     {"AWS_SECRET_ACCESS_KEY", SECRET}}};
    as_ddb_config config = {0};
    config.concurrency = 5;
    as_credentials creds;
    as_error err;
    assert_int_equal(as_ddb_config_from_env(&config, &creds, fake_getenv, &env, &err), AS_OK);
    assert_string_equal(config.region, "eu-west-1");
    assert_null(config.endpoint_url);
    assert_null(config.ca_bundle);
    assert_int_equal(config.max_attempts, 0); /* the default applies */
    assert_int_equal(config.concurrency, 5);  /* left as the caller set it */
    assert_int_equal(creds.access_key_id.len, strlen(AKID));
    assert_memory_equal(creds.secret_access_key.ptr, SECRET, strlen(SECRET));
    assert_int_equal(creds.session_token.len, 0);
}

static void test_ddb_env_table(void **state)
{
    (void)state;
    static const struct {
        fake_env env;
        const char *region;
        const char *endpoint;
        uint32_t attempts;
        const char *ca;
        const char *ca_source;
        const char *error; /* a part of the message, or NULL for success */
    } cases[] = {
        {{{{"AWS_DEFAULT_REGION", "us-west-2"}}}, "us-west-2", NULL, 0, NULL, NULL, NULL},
        {{{{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "us-west-2"}}},
         "us-west-2",
         NULL,
         0,
         NULL,
         NULL,
         NULL},
        {{{{"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "us-west-2"}}},
         "eu-west-1",
         NULL,
         0,
         NULL,
         NULL,
         NULL},
        {{{{"HOME", "/root"}}}, NULL, NULL, 0, NULL, NULL, "AWS_REGION is not set"},
        {{{{"AWS_REGION", "eu-west-1"},
           {"AWS_ENDPOINT_URL", "https://general.example"},
           {"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000"}}},
         "eu-west-1",
         "http://localhost:8000",
         0,
         NULL,
         NULL,
         NULL},
        {{{{"AWS_REGION", "eu-west-1"}, {"AWS_ENDPOINT_URL", "https://general.example"}}},
         "eu-west-1",
         "https://general.example",
         0,
         NULL,
         NULL,
         NULL},
        {{{{"AWS_REGION", "eu-west-1"},
           {"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000"},
           {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}}},
         "eu-west-1",
         NULL,
         0,
         NULL,
         NULL,
         NULL},
        {{{{"AWS_REGION", "eu-west-1"}, {"AWS_ENDPOINT_URL", "http://10.0.0.1:8000"}}},
         NULL,
         NULL,
         0,
         NULL,
         NULL,
         "ddb: AWS_ENDPOINT_URL: endpoint URL is plain http://"},
        {{{{"AWS_REGION", "eu-west-1"}, {"AWS_ENDPOINT_URL_DYNAMODB", "ftp://x"}}},
         NULL,
         NULL,
         0,
         NULL,
         NULL,
         "ddb: AWS_ENDPOINT_URL_DYNAMODB: endpoint URL does not start"},
        {{{{"AWS_REGION", "Not A Region"}}},
         NULL,
         NULL,
         0,
         NULL,
         NULL,
         "ddb: AWS_REGION: region is empty"},
        {{{{"AWS_REGION", "eu-west-1"}, {"AWS_MAX_ATTEMPTS", "5"}}},
         "eu-west-1",
         NULL,
         5,
         NULL,
         NULL,
         NULL},
        {{{{"AWS_REGION", "eu-west-1"}, {"AWS_MAX_ATTEMPTS", "0"}}},
         NULL,
         NULL,
         0,
         NULL,
         NULL,
         "AWS_MAX_ATTEMPTS is not a whole number"},
        {{{{"AWS_REGION", "eu-west-1"}, {"AWS_MAX_ATTEMPTS", "3x"}}},
         NULL,
         NULL,
         0,
         NULL,
         NULL,
         "AWS_MAX_ATTEMPTS"},
        {{{{"AWS_REGION", "eu-west-1"}, {"AWS_MAX_ATTEMPTS", "101"}}},
         NULL,
         NULL,
         0,
         NULL,
         NULL,
         "AWS_MAX_ATTEMPTS"},
        {{{{"AWS_REGION", "eu-west-1"},
           {"SSL_CERT_FILE", "/ssl/cert.pem"},
           {"AWS_CA_BUNDLE", "/aws/bundle.pem"}}},
         "eu-west-1",
         NULL,
         0,
         "/aws/bundle.pem",
         "AWS_CA_BUNDLE",
         NULL},
        {{{{"AWS_REGION", "eu-west-1"}, {"SSL_CERT_FILE", "/ssl/cert.pem"}}},
         "eu-west-1",
         NULL,
         0,
         "/ssl/cert.pem",
         "SSL_CERT_FILE",
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_ddb_config config = {0};
        config.region = "untouched";
        as_error err = {0};
        as_status status = as_ddb_config_from_env(&config, NULL, fake_getenv,
                                                  (void *)(uintptr_t)&cases[i].env, &err);
        if (cases[i].error != NULL) {
            if (status == AS_OK || !has(err.message, cases[i].error)) {
                fail_msg("case %zu: want an error with \"%s\", got %d \"%s\"", i, cases[i].error,
                         status, err.message);
            }
            /* A failure leaves the config as it was. */
            assert_string_equal(config.region, "untouched");
            continue;
        }
        if (status != AS_OK) {
            fail_msg("case %zu: %s", i, err.message);
        }
        assert_string_equal(config.region, cases[i].region);
        if (cases[i].endpoint == NULL) {
            assert_null(config.endpoint_url);
        } else {
            assert_string_equal(config.endpoint_url, cases[i].endpoint);
        }
        assert_int_equal(config.max_attempts, cases[i].attempts);
        if (cases[i].ca == NULL) {
            assert_null(config.ca_bundle);
        } else {
            assert_string_equal(config.ca_bundle, cases[i].ca);
            assert_string_equal(config.ca_bundle_source, cases[i].ca_source);
        }
    }
}

static void test_ddb_env_credentials(void **state)
{
    (void)state;
    fake_env no_secret = {{{"AWS_REGION", "eu-west-1"}, {"AWS_ACCESS_KEY_ID", AKID}}};
    fake_env no_key = {{{"AWS_REGION", "eu-west-1"}, {"AWS_SECRET_ACCESS_KEY", SECRET}}};
    fake_env with_token = {{{"AWS_REGION", "eu-west-1"},
                            {"AWS_ACCESS_KEY_ID", AKID},
                            {"AWS_SECRET_ACCESS_KEY", SECRET},
                            {"AWS_SESSION_TOKEN", TOKEN}}};
    as_ddb_config config = {0};
    as_credentials creds;
    as_error err;
    assert_int_equal(as_ddb_config_from_env(&config, &creds, fake_getenv, &no_secret, &err),
                     AS_ERR_ARGUMENT);
    assert_true(has(err.message, "AWS_SECRET_ACCESS_KEY is not set"));
    assert_int_equal(as_ddb_config_from_env(&config, &creds, fake_getenv, &no_key, &err),
                     AS_ERR_ARGUMENT);
    assert_true(has(err.message, "AWS_ACCESS_KEY_ID is not set"));
    assert_false(has(err.message, SECRET));
    assert_int_equal(as_ddb_config_from_env(&config, &creds, fake_getenv, &with_token, &err),
                     AS_OK);
    assert_int_equal(creds.session_token.len, strlen(TOKEN));
    assert_int_equal(as_ddb_config_from_env(NULL, &creds, fake_getenv, &with_token, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_config_from_env(&config, &creds, NULL, NULL, &err), AS_ERR_ARGUMENT);
}

/* Issue 9, items 3 and 5: a token with CR/LF added a request header; a key id with a
 * space failed every write. Each credential with a control byte, a space, DEL or a byte
 * outside ASCII is an init error naming the variable, the value never shown. */
static void test_credential_bytes(void **state)
{
    (void)state;
    static const char *const names[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                        "AWS_SESSION_TOKEN"};
    static const struct {
        const char *value;
        const char *why;
    } bad[] = {
        {"MARKVALUE\r\nX-Injected: 1", "line break"},
        {"MARKVALUE\nX-Injected: 1", "line break"},
        {"MARKVALUE\rX", "line break"},
        {"MARK VALUE", "space"},
        {"MARKVALUE ", "space"},
        {"MARK\tVALUE", "control character"},
        {"MARKVALUE\x7f", "control character"},
        {"MARKVALUE\x01", "control character"},
        {"MARKVALUE\x1b[2J", "control character"},
        {"MARKVAL\xc3\xa9", "outside ASCII"},
        {"MARKVALUE\xff", "outside ASCII"},
    };
    for (size_t n = 0; n < 3; n++) {
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            const char *extra[1][2] = {{names[n], bad[i].value}};
            fake_env env = with(extra, 1);
            as_config c;
            as_error err = {0};
            if (as_config_from_env(fake_getenv, &env, &c, &err) != AS_ERR_ARGUMENT ||
                strstr(err.message, names[n]) == NULL || strstr(err.message, bad[i].why) == NULL) {
                fail_msg("%s case %zu: \"%s\"", names[n], i, err.message);
            }
            /* Not the value, nor a piece of it. */
            assert_null(strstr(err.message, "MARK"));
            assert_null(strstr(err.message, "VALUE"));
            assert_null(strstr(err.message, "Injected"));
            assert_int_equal(c.credentials.session_token.len, 0);
        }
    }
    /* The key id is letters, digits and '_' (IAM's own rule). */
    static const char *const bad_ids[] = {"AKIA/EXAMPLE", "AKIA+EXAMPLE", "AKIA=", "AKIA-X"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        const char *extra[1][2] = {{"AWS_ACCESS_KEY_ID", bad_ids[i]}};
        fake_env env = with(extra, 1);
        as_config c;
        as_error err;
        assert_int_equal(as_config_from_env(fake_getenv, &env, &c, &err), AS_ERR_ARGUMENT);
        assert_non_null(strstr(err.message, "AWS_ACCESS_KEY_ID"));
        assert_null(strstr(err.message, bad_ids[i]));
    }
    /* What real credentials hold passes: base64 with + / =, and moto's short test keys. */
    static const char *const good[][2] = {
        {"AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE"},
        {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
        {"AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJIMEYCIQD+abc=="},
    };
    for (size_t i = 0; i < 3; i++) {
        const char *extra[1][2] = {{good[i][0], good[i][1]}};
        fake_env env = with(extra, 1);
        as_config c;
        as_error err = {0};
        if (as_config_from_env(fake_getenv, &env, &c, &err) != AS_OK) {
            fail_msg("%s: %s", good[i][0], err.message);
        }
    }
}

/* Issue 9, item 5: a table ARN of another region or partition was sent unchecked; the
 * regional endpoint cannot reach it, so every write would fail. */
static void test_table_arn_region(void **state)
{
    (void)state;
    static const struct {
        const char *region;
        const char *table;
        const char *error; /* NULL: accepted */
    } cases[] = {
        {"eu-west-1", "arn:aws:dynamodb:eu-west-1:123456789012:table/Audit", NULL},
        {"eu-west-1", "arn:aws:dynamodb:us-east-1:123456789012:table/Audit",
         "AUDIT_TABLE is a table ARN in region \"us-east-1\", but requests go to AWS_REGION "
         "eu-west-1"},
        {"eu-west-1", "arn:aws:dynamodb:eu-west-10:123456789012:table/Audit", "region"},
        {"eu-west-1", "arn:aws-cn:dynamodb:eu-west-1:123456789012:table/Audit", "partition"},
        {"cn-north-1", "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/Audit", NULL},
        {"cn-north-1", "arn:aws:dynamodb:cn-north-1:123456789012:table/Audit",
         "AUDIT_TABLE is a table ARN in partition \"aws\", but AWS_REGION cn-north-1 is in "
         "partition aws-cn"},
        {"us-gov-west-1", "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/Audit", NULL},
        {"us-gov-west-1", "arn:aws:dynamodb:us-gov-west-1:123456789012:table/Audit", "partition"},
        {"us-iso-east-1", "arn:aws-iso:dynamodb:us-iso-east-1:123456789012:table/Audit", NULL},
        {"us-isob-east-1", "arn:aws-iso-b:dynamodb:us-isob-east-1:123456789012:table/Audit", NULL},
        {"us-isob-east-1", "arn:aws-iso:dynamodb:us-isob-east-1:123456789012:table/Audit",
         "partition"},
        {"eusc-de-east-1", "arn:aws-eusc:dynamodb:eusc-de-east-1:123456789012:table/Audit", NULL},
        {"eu-west-1", "arn:aws-foo:dynamodb:eu-west-1:123456789012:table/Audit", "partition"},
        {"eu-west-1", "arn::dynamodb:eu-west-1:123456789012:table/Audit", "AUDIT_TABLE"},
        {"eu-west-1", "arn:aws:dynamodb::123456789012:table/Audit", "AUDIT_TABLE"},
        {"eu-west-1", "arn:aws:dynamodb:eu-west-1:123456789012:table/Audit:x", "AUDIT_TABLE"},
        {"eu-west-1", "Audit", NULL}, /* a name is in the client's region by definition */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *extra[2][2] = {{"AWS_REGION", cases[i].region},
                                   {"AUDIT_TABLE", cases[i].table}};
        fake_env env = with(extra, 2);
        as_config c;
        as_error err = {0};
        as_status status = as_config_from_env(fake_getenv, &env, &c, &err);
        if (cases[i].error == NULL) {
            if (status != AS_OK) {
                fail_msg("case %zu: %s", i, err.message);
            }
            continue;
        }
        if (status != AS_ERR_ARGUMENT || strstr(err.message, cases[i].error) == NULL ||
            strstr(err.message, "AUDIT_TABLE") == NULL) {
            fail_msg("case %zu: want \"%s\", got \"%s\"", i, cases[i].error, err.message);
        }
        assert_null(c.table);
    }
    /* The alias is named when it is the one set; AWS_DEFAULT_REGION counts too. */
    fake_env alias = {{{"AWS_DEFAULT_REGION", "eu-west-1"},
                       {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                       {"AWS_SECRET_ACCESS_KEY", SECRET},
                       {"target_table", "arn:aws:dynamodb:us-east-1:123456789012:table/Audit"}}};
    as_config c;
    as_error err;
    assert_int_equal(as_config_from_env(fake_getenv, &alias, &c, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "config: target_table is a table ARN in region"));
}

/* The item settings alone (bootstrap --print): AUDIT_FORMAT and AUDIT_IGNORE_ATTRIBUTES
 * read as as_config_from_env reads them, with the same messages, and nothing else needed
 * (no table, region or credentials); the rest of the config untouched; a failure
 * changes nothing. */
static void test_items_from_env(void **state)
{
    (void)state;
    fake_env bare = {{{"AUDIT_FORMAT", "detailed"}, {"AUDIT_IGNORE_ATTRIBUTES", " a ,b\t"}}};
    as_config c;
    memset(&c, 0, sizeof c);
    c.table = "kept";
    c.concurrency = 3;
    as_error err = {0};
    assert_int_equal(as_config_items_from_env(fake_getenv, &bare, &c, &err), AS_OK);
    assert_int_equal(c.format, AS_FORMAT_DETAILED);
    assert_int_equal(c.ignore_count, 2);
    assert_true(span_is(c.ignore[0], "a"));
    assert_true(span_is(c.ignore[1], "b"));
    assert_string_equal(c.table, "kept");
    assert_int_equal(c.concurrency, 3);

    /* Unset: the defaults, a list read before forgotten. */
    fake_env none = {{{NULL, NULL}}};
    assert_int_equal(as_config_items_from_env(fake_getenv, &none, &c, &err), AS_OK);
    assert_int_equal(c.format, AS_FORMAT_CLASSIC);
    assert_int_equal(c.ignore_count, 0);

    /* The trust settings too, the write API not (it shapes no item). */
    fake_env trust = {{{"AUDIT_ACTOR_ATTRIBUTE", " who "},
                       {"AUDIT_RETENTION_DAYS", "90"},
                       {"AUDIT_REDACT_ATTRIBUTES", "password,pin"},
                       {"AUDIT_REDACT_KEY", KEY32_B64},
                       {"AUDIT_CHAIN", "on"},
                       {"AUDIT_WRITE_API", "not an API"}}};
    c.write_api = AS_DDB_WRITE_BATCH;
    assert_int_equal(as_config_items_from_env(fake_getenv, &trust, &c, &err), AS_OK);
    assert_true(span_is(c.actor_attribute, "who"));
    assert_int_equal(c.retention_days, 90);
    assert_int_equal(c.redact_count, 2);
    assert_true(span_is(c.redact[0], "password"));
    assert_true(span_is(c.redact[1], "pin"));
    assert_int_equal(c.redact_key_len, 32);
    assert_memory_equal(c.redact_key, KEY32, 32);
    assert_true(c.chain);
    assert_int_equal(c.write_api, AS_DDB_WRITE_BATCH);
    assert_string_equal(c.table, "kept");
    /* Unset again: each back to none. */
    assert_int_equal(as_config_items_from_env(fake_getenv, &none, &c, &err), AS_OK);
    assert_int_equal(c.actor_attribute.len, 0);
    assert_int_equal(c.retention_days, 0);
    assert_int_equal(c.redact_count, 0);
    assert_int_equal(c.redact_key_len, 0);
    static const uint8_t zeros[AS_CONFIG_MAX_REDACT_KEY];
    assert_memory_equal(c.redact_key, zeros, sizeof zeros);
    assert_false(c.chain);

    /* Each refusal is the one as_config_from_env gives, and leaves *out as it was. */
    static const one_case BAD[] = {
        {"AUDIT_FORMAT", "Detailed",
         "config: AUDIT_FORMAT is \"Detailed\": want classic or detailed"},
        {"AUDIT_IGNORE_ATTRIBUTES", "a,,b",
         "config: AUDIT_IGNORE_ATTRIBUTES: entry 2 is empty (a stray comma?)"},
        {"AUDIT_REDACT_ATTRIBUTES", "a,",
         "config: AUDIT_REDACT_ATTRIBUTES: entry 2 is empty (a stray comma?)"},
        {"AUDIT_ACTOR_ATTRIBUTE", " ",
         "config: AUDIT_ACTOR_ATTRIBUTE is blank: want one attribute name"},
        {"AUDIT_ACTOR_ATTRIBUTE", "a,b",
         "config: AUDIT_ACTOR_ATTRIBUTE is \"a,b\": want one attribute name, not a list"},
        {"AUDIT_RETENTION_DAYS", "36501",
         "config: AUDIT_RETENTION_DAYS is \"36501\": want whole days from 1 to 36500"},
        {"AUDIT_RETENTION_DAYS", "1.5",
         "config: AUDIT_RETENTION_DAYS is \"1.5\": want whole days from 1 to 36500"},
        {"AUDIT_REDACT_KEY", "c2hvcnQ=",
         "config: AUDIT_REDACT_KEY decodes to 5 bytes: want 32 to 256 (the base64 of random bytes, "
         "e.g. from openssl rand -base64 32; the value is not shown)"},
        {"AUDIT_REDACT_KEY", "not base64",
         "config: AUDIT_REDACT_KEY holds a character outside standard base64 (A-Z a-z 0-9 + / and "
         "'=' padding; spaces, line breaks and the URL-safe - and _ are not accepted) (the value "
         "is "
         "not shown)"},
        {"AUDIT_CHAIN", "yes", "config: AUDIT_CHAIN is \"yes\": want on or off"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        fake_env env = {{{BAD[i].name, BAD[i].value}}};
        as_config before;
        memset(&before, 0, sizeof before);
        before.format = AS_FORMAT_DETAILED;
        before.ignore_count = 1;
        before.ignore[0] = (as_span){"x", 1};
        as_config after = before;
        assert_int_equal(as_config_items_from_env(fake_getenv, &env, &after, &err),
                         AS_ERR_ARGUMENT);
        assert_string_equal(err.message, BAD[i].error);
        assert_memory_equal(&after, &before, sizeof before);
        as_error full = {0};
        assert_int_equal(run_one(&BAD[i], &c, &full), AS_ERR_ARGUMENT);
        assert_string_equal(full.message, err.message);
    }
    /* The actor also listed: the same message, naming both variables. */
    fake_env clash = {{{"AUDIT_ACTOR_ATTRIBUTE", "who"}, {"AUDIT_REDACT_ATTRIBUTES", "who"}}};
    assert_int_equal(as_config_items_from_env(fake_getenv, &clash, &c, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message,
                        "config: AUDIT_ACTOR_ATTRIBUTE \"who\" is also listed in "
                        "AUDIT_REDACT_ATTRIBUTES: the attribute that names the actor may be "
                        "neither redacted nor ignored");
    assert_int_equal(as_config_items_from_env(NULL, &none, &c, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_config_items_from_env(fake_getenv, &none, NULL, NULL), AS_ERR_ARGUMENT);
}

/* ---- the trust settings and the write API ------------------------------------------------- */

/* Two variables at once on top of a valid environment: the status, and the message. */
static as_status run_two(const char *n1, const char *v1, const char *n2, const char *v2,
                         as_config *c, as_error *err)
{
    const char *extra[2][2] = {{n1, v1}, {n2, v2}};
    fake_env env = with(extra, 2);
    memset(err, 0, sizeof *err);
    return as_config_from_env(fake_getenv, &env, c, err);
}

static void test_actor_attribute(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_ACTOR_ATTRIBUTE", "updatedBy", NULL},
        {"AUDIT_ACTOR_ATTRIBUTE", "first name", NULL},
        {"AUDIT_ACTOR_ATTRIBUTE", "", NULL}, /* empty counts as unset */
        {"AUDIT_ACTOR_ATTRIBUTE", " \t ",
         "config: AUDIT_ACTOR_ATTRIBUTE is blank: want one attribute name"},
        {"AUDIT_ACTOR_ATTRIBUTE", "\t", "AUDIT_ACTOR_ATTRIBUTE is blank"},
        {"AUDIT_ACTOR_ATTRIBUTE", "updatedBy,createdBy",
         "config: AUDIT_ACTOR_ATTRIBUTE is \"updatedBy,createdBy\": want one attribute name, not a "
         "list"},
        {"AUDIT_ACTOR_ATTRIBUTE", "updatedBy,", "not a list"},
        {"AUDIT_ACTOR_ATTRIBUTE", ",", "not a list"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);

    as_config c;
    as_error err;
    /* Trimmed of spaces and tabs, inner bytes kept, borrowed from the value. */
    one_case padded = {"AUDIT_ACTOR_ATTRIBUTE", " \tmodifi\xC3\xA9 par\t ", NULL};
    assert_int_equal(run_one(&padded, &c, &err), AS_OK);
    assert_true(span_is(c.actor_attribute, "modifi\xC3\xA9 par"));
    assert_ptr_equal(c.actor_attribute.ptr, padded.value + 2);

    /* Also redacted or ignored: refused, naming both variables, whatever the spacing. */
    static const struct {
        const char *list;
        const char *value;
        const char *actor;
        const char *message; /* NULL: accepted */
    } conflicts[] = {
        {"AUDIT_REDACT_ATTRIBUTES", "password, updatedBy", " updatedBy",
         "config: AUDIT_ACTOR_ATTRIBUTE \"updatedBy\" is also listed in AUDIT_REDACT_ATTRIBUTES: "
         "the attribute that names the actor may be neither redacted nor ignored"},
        {"AUDIT_IGNORE_ATTRIBUTES", "updatedBy\t", "updatedBy",
         "config: AUDIT_ACTOR_ATTRIBUTE \"updatedBy\" is also listed in AUDIT_IGNORE_ATTRIBUTES: "
         "the attribute that names the actor may be neither redacted nor ignored"},
        {"AUDIT_IGNORE_ATTRIBUTES", "a,b,who", "who", "AUDIT_IGNORE_ATTRIBUTES"},
        /* Names are compared as bytes: another case, a longer or a shorter name is not it. */
        {"AUDIT_REDACT_ATTRIBUTES", "UpdatedBy", "updatedBy", NULL},
        {"AUDIT_REDACT_ATTRIBUTES", "updatedByX,updatedB", "updatedBy", NULL},
        {"AUDIT_IGNORE_ATTRIBUTES", "updated By", "updatedBy", NULL},
    };
    for (size_t i = 0; i < sizeof conflicts / sizeof conflicts[0]; i++) {
        as_status status = run_two(conflicts[i].list, conflicts[i].value, "AUDIT_ACTOR_ATTRIBUTE",
                                   conflicts[i].actor, &c, &err);
        if (conflicts[i].message == NULL) {
            if (status != AS_OK) {
                fail_msg("conflict case %zu: %s", i, err.message);
            }
            assert_true(span_is(c.actor_attribute, "updatedBy"));
            continue;
        }
        if (status != AS_ERR_ARGUMENT || strstr(err.message, conflicts[i].message) == NULL ||
            strstr(err.message, "AUDIT_ACTOR_ATTRIBUTE") == NULL ||
            strstr(err.message, conflicts[i].list) == NULL) {
            fail_msg("conflict case %zu: got %d \"%s\"", i, status, err.message);
        }
        assert_int_equal(c.actor_attribute.len, 0);
        assert_null(c.table);
    }
}

static void test_retention_days(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_RETENTION_DAYS", "1", NULL},
        {"AUDIT_RETENTION_DAYS", "30", NULL},
        {"AUDIT_RETENTION_DAYS", "36500", NULL},
        {"AUDIT_RETENTION_DAYS", "", NULL}, /* empty counts as unset */
        {"AUDIT_RETENTION_DAYS", "0",
         "config: AUDIT_RETENTION_DAYS is \"0\": want whole days from 1 to 36500"},
        {"AUDIT_RETENTION_DAYS", "36501", "config: AUDIT_RETENTION_DAYS is \"36501\""},
        {"AUDIT_RETENTION_DAYS", "-1", "AUDIT_RETENTION_DAYS is \"-1\""},
        {"AUDIT_RETENTION_DAYS", "+7", "AUDIT_RETENTION_DAYS"},
        {"AUDIT_RETENTION_DAYS", "1.5", "AUDIT_RETENTION_DAYS is \"1.5\""},
        {"AUDIT_RETENTION_DAYS", "7.0", "AUDIT_RETENTION_DAYS"},
        {"AUDIT_RETENTION_DAYS", " 7", "AUDIT_RETENTION_DAYS is \" 7\""},
        {"AUDIT_RETENTION_DAYS", "7 ", "AUDIT_RETENTION_DAYS"},
        {"AUDIT_RETENTION_DAYS", "7\n", "AUDIT_RETENTION_DAYS is \"7?\""},
        {"AUDIT_RETENTION_DAYS", "7d", "AUDIT_RETENTION_DAYS"},
        {"AUDIT_RETENTION_DAYS", "1e3", "AUDIT_RETENTION_DAYS"},
        {"AUDIT_RETENTION_DAYS", "0x10", "AUDIT_RETENTION_DAYS"},
        {"AUDIT_RETENTION_DAYS", "forever", "AUDIT_RETENTION_DAYS"},
        {"AUDIT_RETENTION_DAYS", "\xD9\xA7", "AUDIT_RETENTION_DAYS"},   /* an Arabic-Indic 7 */
        {"AUDIT_RETENTION_DAYS", "4294967297", "AUDIT_RETENTION_DAYS"}, /* 2^32 + 1 wraps to 1 */
        {"AUDIT_RETENTION_DAYS", "18446744073709551623", "AUDIT_RETENTION_DAYS"}, /* 2^64 + 7 */
        {"AUDIT_RETENTION_DAYS", "99999999999999999999999999999999", "AUDIT_RETENTION_DAYS"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);

    static const struct {
        const char *text;
        uint32_t days;
    } good[] = {{"1", 1}, {"365", 365}, {"0365", 365}, {"36500", 36500}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        as_config c;
        as_error err;
        one_case k = {"AUDIT_RETENTION_DAYS", good[i].text, NULL};
        assert_int_equal(run_one(&k, &c, &err), AS_OK);
        assert_int_equal(c.retention_days, good[i].days);
    }
}

/* Read exactly as AUDIT_IGNORE_ATTRIBUTES is. */
static void test_redact_attributes(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_REDACT_ATTRIBUTES", "password", NULL},
        {"AUDIT_REDACT_ATTRIBUTES", " \t ", NULL}, /* blank: none */
        {"AUDIT_REDACT_ATTRIBUTES", "a,b", NULL},
        {"AUDIT_REDACT_ATTRIBUTES", "a,,b",
         "config: AUDIT_REDACT_ATTRIBUTES: entry 2 is empty (a stray comma?)"},
        {"AUDIT_REDACT_ATTRIBUTES", "a,", "AUDIT_REDACT_ATTRIBUTES: entry 2 is empty"},
        {"AUDIT_REDACT_ATTRIBUTES", ",a", "AUDIT_REDACT_ATTRIBUTES: entry 1 is empty"},
        {"AUDIT_REDACT_ATTRIBUTES", ",", "AUDIT_REDACT_ATTRIBUTES: entry 1 is empty"},
        {"AUDIT_REDACT_ATTRIBUTES", "a, \t ,b", "AUDIT_REDACT_ATTRIBUTES: entry 2 is empty"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);

    as_config c;
    as_error err;
    one_case blank = {"AUDIT_REDACT_ATTRIBUTES", " ", NULL};
    assert_int_equal(run_one(&blank, &c, &err), AS_OK);
    assert_int_equal(c.redact_count, 0);
    one_case names = {"AUDIT_REDACT_ATTRIBUTES", "\tapi key ,pass\xC3\xA9,x", NULL};
    assert_int_equal(run_one(&names, &c, &err), AS_OK);
    assert_int_equal(c.redact_count, 3);
    assert_true(span_is(c.redact[0], "api key"));
    assert_ptr_equal(c.redact[0].ptr, names.value + 1);
    assert_true(span_is(c.redact[1], "pass\xC3\xA9"));
    assert_true(span_is(c.redact[2], "x"));
    assert_int_equal(c.ignore_count, 0); /* the other list is its own */

    /* Both lists at once, each its own. */
    assert_int_equal(
        run_two("AUDIT_IGNORE_ATTRIBUTES", "a,b", "AUDIT_REDACT_ATTRIBUTES", "c", &c, &err), AS_OK);
    assert_int_equal(c.ignore_count, 2);
    assert_int_equal(c.redact_count, 1);
    assert_true(span_is(c.redact[0], "c"));

    /* AS_CONFIG_MAX_REDACT names pass; one more is refused. */
    char list[4 * (AS_CONFIG_MAX_REDACT + 1) + 1] = "";
    size_t len = 0;
    for (int i = 0; i < AS_CONFIG_MAX_REDACT; i++) {
        len += (size_t)snprintf(list + len, sizeof list - len, "%sr%d", i ? "," : "", i);
    }
    one_case full = {"AUDIT_REDACT_ATTRIBUTES", list, NULL};
    assert_int_equal(run_one(&full, &c, &err), AS_OK);
    assert_int_equal(c.redact_count, AS_CONFIG_MAX_REDACT);
    assert_true(span_is(c.redact[AS_CONFIG_MAX_REDACT - 1], "r63"));
    snprintf(list + len, sizeof list - len, ",zz");
    assert_int_equal(run_one(&full, &c, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "config: AUDIT_REDACT_ATTRIBUTES lists more than 64 names");
}

/* Fails the test when `message` holds any 4 bytes in a row of `value` (or the whole of a
 * shorter one): no piece of a key may reach a message. */
static void assert_no_piece_of(const char *message, const char *value)
{
    size_t len = strlen(value);
    size_t piece = len < 4 ? len : 4;
    for (size_t at = 0; piece > 0 && at + piece <= len; at++) {
        char part[5];
        memcpy(part, value + at, piece);
        part[piece] = '\0';
        if (strstr(message, part) != NULL) {
            fail_msg("message \"%s\" holds \"%s\", a piece of the key", message, part);
        }
    }
}

/* `count` bytes of zeros in base64 ("AAAA" a 3 bytes, padded), into `out`. */
static const char *zeros_b64(size_t count, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < count / 3 && n + 4 < cap; i++, n += 4) {
        memcpy(out + n, "AAAA", 4);
    }
    const char *tail = count % 3 == 1 ? "AA==" : count % 3 == 2 ? "AAA=" : "";
    snprintf(out + n, cap - n, "%s", tail);
    return out;
}

static void test_redact_key(void **state)
{
    (void)state;
    char k256[400];
    char k257[400];
    char k255[400];
    zeros_b64(256, k256, sizeof k256);
    zeros_b64(257, k257, sizeof k257);
    zeros_b64(255, k255, sizeof k255);
    const struct {
        const char *value;
        const char *error; /* a part of the message; NULL: accepted */
    } cases[] = {
        {KEY32_B64, NULL},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", NULL}, /* 33 bytes, no padding */
        {"+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/8=", NULL}, /* + and / */
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
         "config: AUDIT_REDACT_KEY decodes to 31 bytes: want 32 to 256"}, /* one short */
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
         "config: AUDIT_REDACT_KEY is not padded base64: its length is not a multiple of 4"},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==", "not a multiple of 4"},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH===",
         "config: AUDIT_REDACT_KEY has more than two '=' of padding"},
        {"====", "more than two '='"},
        {"AAECAwQFBgcI=QoLDA0ODxAREhMUFRYXGBkaGxwdHh8A",
         "config: AUDIT_REDACT_KEY has '=' padding before its end"},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh==8", "padding before its end"},
        {"-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_8=",
         "config: AUDIT_REDACT_KEY holds a character outside standard base64"},
        {"AAECAwQFBgcI CQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "outside standard base64"},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "outside standard base64"},
        {" AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "outside standard base64"},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r", "outside standard base64"},
        {"AAECAwQFBgcI\tCQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "outside standard base64"},
        {"AAECAwQFBgcI.CQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "outside standard base64"},
        {"AAECAwQFBgcI\xC3\xA9QoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "outside standard base64"},
        {"   ", "outside standard base64"},
        {"a2V5", "decodes to 3 bytes"},
        {"a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5", "decodes to 30 bytes"},
        {"P@ssw0rd#Secret!", "outside standard base64"},
        {k256, NULL},
        {k255, NULL},
        {k257, "config: AUDIT_REDACT_KEY decodes to 257 bytes: want 32 to 256"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_config c;
        as_error err;
        one_case k = {"AUDIT_REDACT_KEY", cases[i].value, NULL};
        as_status status = run_one(&k, &c, &err);
        if (cases[i].error == NULL) {
            if (status != AS_OK) {
                fail_msg("key case %zu: unexpected error \"%s\"", i, err.message);
            }
            assert_true(c.redact_key_len >= AS_AUDIT_MIN_REDACT_KEY);
            as_config_wipe(&c);
            continue;
        }
        if (status != AS_ERR_ARGUMENT || strstr(err.message, cases[i].error) == NULL ||
            strstr(err.message, "AUDIT_REDACT_KEY") == NULL) {
            fail_msg("key case %zu: want \"%s\", got %d \"%s\"", i, cases[i].error, status,
                     err.message);
        }
        /* Never a piece of the value, and it says so. */
        assert_no_piece_of(err.message, cases[i].value);
        assert_non_null(strstr(err.message, "the value is not shown"));
        assert_int_equal(c.redact_key_len, 0);
    }

    /* The decoded bytes are kept in the config's own buffer. */
    static const struct {
        const char *value;
        size_t len;
    } decoded[] = {
        {KEY32_B64, 32},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", 33},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v", 48},
    };
    for (size_t i = 0; i < sizeof decoded / sizeof decoded[0]; i++) {
        as_config c;
        as_error err;
        one_case k = {"AUDIT_REDACT_KEY", decoded[i].value, NULL};
        assert_int_equal(run_one(&k, &c, &err), AS_OK);
        assert_int_equal(c.redact_key_len, decoded[i].len);
        for (size_t b = 0; b < decoded[i].len; b++) {
            assert_int_equal(c.redact_key[b], b);
        }
        assert_false(c.redact_key_len < sizeof c.redact_key && c.redact_key[c.redact_key_len] != 0);
        as_config_wipe(&c);
    }
    as_config c;
    as_error err;
    one_case plus = {"AUDIT_REDACT_KEY", "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/8=", NULL};
    assert_int_equal(run_one(&plus, &c, &err), AS_OK);
    assert_int_equal(c.redact_key_len, 32);
    static const unsigned char fb[3] = {0xfb, 0xff, 0xbf};
    for (size_t b = 0; b < 32; b++) {
        assert_int_equal(c.redact_key[b], fb[b % 3]);
    }
    as_config_wipe(&c);
    one_case big = {"AUDIT_REDACT_KEY", k256, NULL};
    assert_int_equal(run_one(&big, &c, &err), AS_OK);
    assert_int_equal(c.redact_key_len, AS_CONFIG_MAX_REDACT_KEY);
    as_config_wipe(&c);
}

/* Whatever else is wrong, the key never reaches a message, and a failure after the key
 * was read hands none of it back. */
static void test_key_never_in_messages(void **state)
{
    (void)state;
    static const one_case bad[] = {
        {"AUDIT_FORMAT", "x", "AUDIT_FORMAT"},
        {"AUDIT_CHAIN", "yes", "AUDIT_CHAIN"},
        {"AUDIT_WRITE_API", "x", "AUDIT_WRITE_API"},
        {"AUDIT_CONCURRENCY", "0", "AUDIT_CONCURRENCY"},
        {"AUDIT_RETENTION_DAYS", "0", "AUDIT_RETENTION_DAYS"},
        {"AUDIT_ACTOR_ATTRIBUTE", "a,b", "AUDIT_ACTOR_ATTRIBUTE"},
        {"AUDIT_TABLE", "x", "AUDIT_TABLE"},
        {"AWS_REGION", "Not A Region", "AWS_REGION"},
        {"AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS"},
        {"AWS_LAMBDA_LOG_LEVEL", "loud", "AWS_LAMBDA_LOG_LEVEL"},
    };
    static const uint8_t zeros[AS_CONFIG_MAX_REDACT_KEY];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        as_config c;
        as_error err;
        assert_int_equal(
            run_two(bad[i].name, bad[i].value, "AUDIT_REDACT_KEY", KEY32_B64, &c, &err),
            AS_ERR_ARGUMENT);
        assert_non_null(strstr(err.message, bad[i].error));
        assert_no_piece_of(err.message, KEY32_B64);
        assert_int_equal(c.redact_key_len, 0);
        assert_memory_equal(c.redact_key, zeros, sizeof zeros);
    }
}

static void test_chain_setting(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_CHAIN", "on", NULL},
        {"AUDIT_CHAIN", "off", NULL},
        {"AUDIT_CHAIN", "", NULL}, /* empty counts as unset: off */
        {"AUDIT_CHAIN", "ON", "config: AUDIT_CHAIN is \"ON\": want on or off"},
        {"AUDIT_CHAIN", "Off", "AUDIT_CHAIN is \"Off\""},
        {"AUDIT_CHAIN", "true", "AUDIT_CHAIN is \"true\""},
        {"AUDIT_CHAIN", "1", "AUDIT_CHAIN"},
        {"AUDIT_CHAIN", "yes", "AUDIT_CHAIN"},
        {"AUDIT_CHAIN", "enabled", "AUDIT_CHAIN"},
        {"AUDIT_CHAIN", " on", "AUDIT_CHAIN"},
        {"AUDIT_CHAIN", "on ", "AUDIT_CHAIN"},
        {"AUDIT_CHAIN", "o", "AUDIT_CHAIN"},
        {"AUDIT_CHAIN", "onn", "AUDIT_CHAIN"},
        {"AUDIT_CHAIN", "on\n", "AUDIT_CHAIN is \"on?\""},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
    as_config c;
    as_error err;
    one_case on = {"AUDIT_CHAIN", "on", NULL};
    assert_int_equal(run_one(&on, &c, &err), AS_OK);
    assert_true(c.chain);
    one_case off = {"AUDIT_CHAIN", "off", NULL};
    assert_int_equal(run_one(&off, &c, &err), AS_OK);
    assert_false(c.chain);
}

static void test_write_api(void **state)
{
    (void)state;
    static const one_case cases[] = {
        {"AUDIT_WRITE_API", "PutItem", NULL},
        {"AUDIT_WRITE_API", "BatchWriteItem", NULL},
        {"AUDIT_WRITE_API", "", NULL}, /* empty counts as unset: PutItem */
        {"AUDIT_WRITE_API", "putitem",
         "config: AUDIT_WRITE_API is \"putitem\": want PutItem or BatchWriteItem"},
        {"AUDIT_WRITE_API", "PUTITEM", "AUDIT_WRITE_API is \"PUTITEM\""},
        {"AUDIT_WRITE_API", "batchwriteitem", "AUDIT_WRITE_API"},
        {"AUDIT_WRITE_API", "BatchWrite", "AUDIT_WRITE_API"},
        {"AUDIT_WRITE_API", "Batch", "AUDIT_WRITE_API"},
        {"AUDIT_WRITE_API", "TransactWriteItems", "AUDIT_WRITE_API"},
        {"AUDIT_WRITE_API", " PutItem", "AUDIT_WRITE_API"},
        {"AUDIT_WRITE_API", "BatchWriteItem ", "AUDIT_WRITE_API"},
        {"AUDIT_WRITE_API", "DynamoDB_20120810.BatchWriteItem", "AUDIT_WRITE_API"},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
    as_config c;
    as_error err;
    one_case batch = {"AUDIT_WRITE_API", "BatchWriteItem", NULL};
    assert_int_equal(run_one(&batch, &c, &err), AS_OK);
    assert_int_equal(c.write_api, AS_DDB_WRITE_BATCH);
    one_case put = {"AUDIT_WRITE_API", "PutItem", NULL};
    assert_int_equal(run_one(&put, &c, &err), AS_OK);
    assert_int_equal(c.write_api, AS_DDB_WRITE_PUT_ITEM);
}

/* as_config_wipe zeroes the key and its length, and nothing else. */
static void test_wipe(void **state)
{
    (void)state;
    const char *extra[1][2] = {{"AUDIT_REDACT_KEY", KEY32_B64}};
    fake_env env = with(extra, 1);
    as_config c;
    as_error err;
    assert_int_equal(as_config_from_env(fake_getenv, &env, &c, &err), AS_OK);
    assert_int_equal(c.redact_key_len, 32);
    assert_memory_equal(c.redact_key, KEY32, 32);
    as_config_wipe(&c);
    static const uint8_t zeros[AS_CONFIG_MAX_REDACT_KEY];
    assert_int_equal(c.redact_key_len, 0);
    assert_memory_equal(c.redact_key, zeros, sizeof zeros);
    assert_string_equal(c.table, "Audit");
    as_config_wipe(NULL); /* no-op */
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
        cmocka_unit_test(test_ddb_env_minimal),
        cmocka_unit_test(test_ddb_env_table),
        cmocka_unit_test(test_ddb_env_credentials),
        cmocka_unit_test(test_credential_bytes),
        cmocka_unit_test(test_table_arn_region),
        cmocka_unit_test(test_log_before_config),
        cmocka_unit_test(test_items_from_env),
        cmocka_unit_test(test_actor_attribute),
        cmocka_unit_test(test_retention_days),
        cmocka_unit_test(test_redact_attributes),
        cmocka_unit_test(test_redact_key),
        cmocka_unit_test(test_key_never_in_messages),
        cmocka_unit_test(test_chain_setting),
        cmocka_unit_test(test_write_api),
        cmocka_unit_test(test_wipe),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
