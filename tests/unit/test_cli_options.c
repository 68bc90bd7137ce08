/* Unit tests of auditstream's command line (cli/options.h): every command and option, the
 * defaults from the environment, and each usage error with its exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "commands.h"
#include "options.h"

#define MAX_ARGS 16

typedef struct fake_env {
    const char *pairs[4][2];
} fake_env;

static const char *fake_getenv(const char *name, void *ctx)
{
    const fake_env *env = ctx;
    for (size_t i = 0; env != NULL && i < 4 && env->pairs[i][0] != NULL; i++) {
        if (strcmp(env->pairs[i][0], name) == 0) {
            return env->pairs[i][1];
        }
    }
    return NULL;
}

/* argv from a NULL-terminated list; parses it and returns the status. */
static int parse(const char *const *args, fake_env *env, cli_options *out,
                 char message[CLI_MESSAGE_MAX])
{
    char *argv[MAX_ARGS];
    int argc = 0;
    argv[argc++] = (char *)(uintptr_t) "auditstream";
    for (size_t i = 0; args[i] != NULL; i++) {
        assert_true(argc < MAX_ARGS);
        argv[argc++] = (char *)(uintptr_t)args[i];
    }
    return cli_options_parse(argc, argv, fake_getenv, env, out, message);
}

static void test_history_with_times(void **state)
{
    (void)state;
    const char *args[] = {"history",
                          "CACHE_TTL_SEC",
                          "--since",
                          "2024-05-01T12:30:45Z",
                          "--until=1714566646.5",
                          "--json",
                          NULL};
    cli_options o;
    char message[CLI_MESSAGE_MAX];
    assert_int_equal(parse(args, NULL, &o, message), 0);
    assert_int_equal(o.command, CLI_HISTORY);
    assert_int_equal(o.key_count, 1);
    assert_string_equal(o.keys[0], "CACHE_TTL_SEC");
    assert_true(o.has_since);
    assert_int_equal(o.since_ms, INT64_C(1714566645000));
    assert_true(o.has_until);
    assert_int_equal(o.until_ms, INT64_C(1714566646500));
    assert_true(o.json);
    assert_false(o.has_at);
    assert_string_equal(o.audit_table, "Audit");
    assert_string_equal(o.source_table, "Configuration");
    assert_null(o.region);
    assert_null(o.endpoint_url);
    assert_null(o.profile);
    cli_options_free(&o);
    assert_null(o.keys);
    cli_options_free(NULL);
}

static void test_common_options_anywhere(void **state)
{
    (void)state;
    const char *args[] = {"--region",
                          "eu-west-1",
                          "show",
                          "--audit-table",
                          "MyAudit",
                          "k1",
                          "--table=Settings",
                          "--endpoint-url",
                          "http://127.0.0.1:8000",
                          "--profile",
                          "ops",
                          "--at",
                          "2024-05-01T12:30:45.123Z",
                          NULL};
    fake_env env = {{{"AUDIT_TABLE", "FromEnv"}, {"AUDIT_SOURCE_TABLE", "SourceEnv"}}};
    cli_options o;
    char message[CLI_MESSAGE_MAX];
    assert_int_equal(parse(args, &env, &o, message), 0);
    assert_int_equal(o.command, CLI_SHOW);
    assert_string_equal(o.keys[0], "k1");
    assert_string_equal(o.region, "eu-west-1");
    assert_string_equal(o.audit_table, "MyAudit");
    assert_string_equal(o.source_table, "Settings");
    assert_string_equal(o.endpoint_url, "http://127.0.0.1:8000");
    assert_string_equal(o.profile, "ops");
    assert_true(o.has_at);
    assert_int_equal(o.at_ms, INT64_C(1714566645123));
    cli_options_free(&o);

    /* The variables when the options are not given; "--" lets a KEY start with a dash. */
    const char *args2[] = {"show", "--", "-dash-key", NULL};
    assert_int_equal(parse(args2, &env, &o, message), 0);
    assert_string_equal(o.audit_table, "FromEnv");
    assert_string_equal(o.source_table, "SourceEnv");
    assert_string_equal(o.keys[0], "-dash-key");
    cli_options_free(&o);

    /* A table ARN is taken, and its name is what the historyKey uses. */
    const char *args3[] = {
        "verify", "a", "b", "--table", "arn:aws:dynamodb:eu-west-1:123456789012:table/Cfg", NULL};
    assert_int_equal(parse(args3, NULL, &o, message), 0);
    assert_int_equal(o.key_count, 2);
    assert_string_equal(cli_table_name(o.source_table), "Cfg");
    assert_string_equal(cli_table_name("Plain"), "Plain");
    cli_options_free(&o);
}

static void test_verify_and_backfill(void **state)
{
    (void)state;
    cli_options o;
    char message[CLI_MESSAGE_MAX];
    const char *all[] = {"verify", "--all", NULL};
    assert_int_equal(parse(all, NULL, &o, message), 0);
    assert_true(o.all);
    assert_int_equal(o.key_count, 0);
    assert_null(o.anchors);
    cli_options_free(&o);
    /* --anchors FILE: alone (the keys it anchors), with KEYs, or with --all. */
    const char *anchors[] = {"verify", "--anchors", "heads.jsonl", NULL};
    assert_int_equal(parse(anchors, NULL, &o, message), 0);
    assert_string_equal(o.anchors, "heads.jsonl");
    assert_false(o.all);
    assert_int_equal(o.key_count, 0);
    cli_options_free(&o);
    const char *with_keys[] = {"verify", "a", "--anchors=-", "b", NULL};
    assert_int_equal(parse(with_keys, NULL, &o, message), 0);
    assert_string_equal(o.anchors, "-");
    assert_int_equal(o.key_count, 2);
    assert_string_equal(o.keys[1], "b");
    cli_options_free(&o);
    const char *with_all[] = {"--anchors", "x", "verify", "--all", NULL};
    assert_int_equal(parse(with_all, NULL, &o, message), 0);
    assert_string_equal(o.anchors, "x");
    assert_true(o.all);
    cli_options_free(&o);
    const char *backfill[] = {"backfill", NULL};
    assert_int_equal(parse(backfill, NULL, &o, message), 0);
    assert_int_equal(o.command, CLI_BACKFILL);
    assert_int_equal(o.segments, CLI_DEFAULT_SEGMENTS);
    cli_options_free(&o);
    const char *segments[] = {"backfill", "--segments", "1000", NULL};
    assert_int_equal(parse(segments, NULL, &o, message), 0);
    assert_int_equal(o.segments, 1000);
    cli_options_free(&o);
}

static void test_help_and_version(void **state)
{
    (void)state;
    cli_options o;
    char message[CLI_MESSAGE_MAX];
    const char *general[] = {"--help", NULL};
    assert_int_equal(parse(general, NULL, &o, message), 0);
    assert_true(o.help);
    assert_int_equal(o.command, CLI_NONE);
    cli_options_free(&o);
    /* A command's help, even without its KEY or with a bad option beside it. */
    const char *show[] = {"show", "--bogus", "-h", NULL};
    assert_int_equal(parse(show, NULL, &o, message), 0);
    assert_true(o.help);
    assert_int_equal(o.command, CLI_SHOW);
    cli_options_free(&o);
    const char *version[] = {"--version", NULL};
    assert_int_equal(parse(version, NULL, &o, message), 0);
    assert_true(o.version);
    cli_options_free(&o);
    /* An unknown command is refused, help or not. */
    const char *unknown[] = {"frobnicate", "--help", NULL};
    assert_int_equal(parse(unknown, NULL, &o, message), 2);
    assert_string_equal(message, "unknown command \"frobnicate\": the commands are history, show, "
                                 "verify and backfill (auditstream --help)");
    cli_options_free(&o);
    /* Each help names its command's synopsis. */
    assert_non_null(strstr(cli_help(CLI_HISTORY), "auditstream history KEY [--since T]"));
    assert_non_null(strstr(cli_help(CLI_SHOW), "auditstream show KEY [--at T]"));
    assert_non_null(strstr(cli_help(CLI_VERIFY), "auditstream verify [KEY ...] [--all]"));
    assert_non_null(strstr(cli_help(CLI_VERIFY), "[--anchors FILE]"));
    assert_null(strstr(cli_help(CLI_VERIFY), "not supported"));
    static const char *const kinds[] = {"continuity", "altered", "missing",
                                        "head",       "anchor",  "expired"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        assert_non_null(strstr(cli_help(CLI_VERIFY), kinds[i]));
    }
    assert_non_null(strstr(cli_help(CLI_BACKFILL), "AUDIT_CHAIN"));
    assert_non_null(strstr(cli_help(CLI_BACKFILL), "AUDIT_REDACT_KEY"));
    assert_non_null(strstr(cli_help(CLI_BACKFILL), "auditstream backfill [--segments N]"));
    assert_non_null(strstr(cli_help(CLI_NONE), "Commands:"));
}

static void test_usage_errors(void **state)
{
    (void)state;
    static const struct {
        const char *args[8];
        const char *message;
    } cases[] = {
        {{NULL},
         "no command given: auditstream history|show|verify|backfill ... (auditstream --help)"},
        {{"--json", NULL},
         "no command given: auditstream history|show|verify|backfill ... (auditstream --help)"},
        {{"frobnicate", "k", NULL},
         "unknown command \"frobnicate\": the commands are history, show, verify and backfill "
         "(auditstream --help)"},
        {{"show", "k", "--colour", NULL},
         "show: unknown option --colour (auditstream show --help lists them)"},
        {{"show", "k", "--colour=red", NULL},
         "show: unknown option --colour (auditstream show --help lists them)"},
        {{"-x", NULL}, "unknown option -x (auditstream --help lists them)"},
        {{"show", "k", "--at", "yesterday", NULL},
         "show: --at \"yesterday\" is not a time: give ISO-8601 UTC (2024-05-01T12:30:45Z, "
         "milliseconds optional) or epoch seconds"},
        {{"history", "k", "--since", "2024-13-01T00:00:00Z", NULL},
         "history: --since \"2024-13-01T00:00:00Z\" is not a time: give ISO-8601 UTC "
         "(2024-05-01T12:30:45Z, milliseconds optional) or epoch seconds: not a number"},
        {{"history", "k", "--since", "2024-05-02T00:00:00Z", "--until", "2024-05-01T00:00:00Z",
          NULL},
         "history: --since is after --until: swap them"},
        {{"show", "k", "--at", NULL},
         "show: --at needs a value, such as --at 2024-05-01T12:30:45Z"},
        {{"show", "k", "--region=", NULL},
         "show: --region is empty: give a value, such as --region eu-west-1"},
        {{"show", "k", "--json=yes", NULL}, "show: --json takes no value: write --json alone"},
        {{"show", "k", "--since", "1", NULL},
         "show: --since is an option of history, not of show (auditstream show --help)"},
        {{"--at", "1", "history", "k", NULL},
         "history: --at is an option of show, not of history (auditstream history --help)"},
        {{"history", "--all", "k", NULL},
         "history: --all is an option of verify, not of history (auditstream history --help)"},
        {{"show", NULL},
         "show: give the KEY of the item (its itemKey), such as: auditstream show CACHE_TTL_SEC"},
        {{"history", "a", "b", NULL}, "history: one KEY at a time, not 2 (\"b\" is the second)"},
        {{"show", "", NULL}, "show: KEY is empty: give the item's key as its itemKey holds it"},
        {{"verify", NULL},
         "verify: name one or more KEYs, pass --all to verify every key in the audit table, or "
         "--anchors FILE to verify the keys it anchors"},
        {{"verify", "--json", NULL},
         "verify: name one or more KEYs, pass --all to verify every key in the audit table, or "
         "--anchors FILE to verify the keys it anchors"},
        {{"verify", "k", "--all", NULL}, "verify: KEYs and --all do not go together: drop one"},
        {{"verify", "--anchors", NULL},
         "verify: --anchors needs a value, such as --anchors anchors.jsonl"},
        {{"verify", "--anchors=", NULL},
         "verify: --anchors is empty: give a value, such as --anchors anchors.jsonl"},
        {{"show", "k", "--anchors", "a.jsonl", NULL},
         "show: --anchors is an option of verify, not of show (auditstream show --help)"},
        {{"--anchors", "a.jsonl", "backfill", NULL},
         "backfill: --anchors is an option of verify, not of backfill (auditstream backfill "
         "--help)"},
        {{"backfill", "k", NULL}, "backfill: takes no KEY, it reads the whole table (\"k\" given)"},
        {{"backfill", "--segments", "0", NULL},
         "backfill: --segments \"0\": want a whole number from 1 to 1000"},
        {{"backfill", "--segments", "1001", NULL},
         "backfill: --segments \"1001\": want a whole number from 1 to 1000"},
        {{"backfill", "--segments", "4x", NULL},
         "backfill: --segments \"4x\": want a whole number from 1 to 1000"},
        {{"show", "k", "--table", "ab", NULL},
         "show: --table \"ab\" is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -) or "
         "table ARN"},
        {{"show", "k", "--audit-table", "a b c", NULL},
         "show: --audit-table \"a b c\" is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . "
         "-) or table ARN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_options o;
        char message[CLI_MESSAGE_MAX];
        int rc = parse(cases[i].args, NULL, &o, message);
        if (rc != 2 || strcmp(message, cases[i].message) != 0) {
            fail_msg("case %zu: status %d, message \"%s\"", i, rc, message);
        }
        cli_options_free(&o);
    }
    /* A bad table name from the environment names the variable. */
    fake_env env = {{{"AUDIT_SOURCE_TABLE", "x/y"}}};
    const char *args[] = {"show", "k", NULL};
    cli_options o;
    char message[CLI_MESSAGE_MAX];
    assert_int_equal(parse(args, &env, &o, message), 2);
    assert_string_equal(message, "show: AUDIT_SOURCE_TABLE \"x/y\" is not a DynamoDB table name "
                                 "(3 to 255 of A-Z a-z 0-9 _ . -) or table ARN");
    cli_options_free(&o);
    assert_string_equal(cli_command_name(CLI_VERIFY), "verify");
    assert_string_equal(cli_command_name(CLI_NONE), "auditstream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_with_times),  cmocka_unit_test(test_common_options_anywhere),
        cmocka_unit_test(test_verify_and_backfill), cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
