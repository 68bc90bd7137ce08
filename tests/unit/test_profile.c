/* Unit tests of the shared AWS files reader (auditstream/profile.h): sections, comments,
 * blanks, CRLF, nested settings, [profile x] in config against [x] in credentials, and the
 * order in which the environment, --profile and the two files are preferred. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auditstream/profile.h"

#define SECRET  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SECRET2 "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"

static bool span_is(as_span span, const char *text)
{
    return span.len == strlen(text) && (span.len == 0 || memcmp(span.ptr, text, span.len) == 0);
}

static as_profile_section parse_ok(const char *text, as_profile_file kind, const char *profile)
{
    as_profile_section s;
    as_error err = {0};
    assert_int_equal(as_profile_parse(as_span_from_cstr(text), kind, profile, "f", &s, &err),
                     AS_OK);
    return s;
}

/* ---- parsing ------------------------------------------------------------------------------ */

static void test_parse_picks_the_profile(void **state)
{
    (void)state;
    const char *text = "[default]\n"
                       "aws_access_key_id = AKIDDEFAULT\n"
                       "aws_secret_access_key = " SECRET "\n"
                       "\n"
                       "[work]\n"
                       "aws_access_key_id=AKIDWORK\n"
                       "aws_secret_access_key=" SECRET2 "\n"
                       "aws_session_token = TOKEN/xyz=\n"
                       "region = eu-west-3\n";
    as_profile_section s = parse_ok(text, AS_PROFILE_CREDENTIALS, "work");
    assert_true(s.found);
    assert_true(span_is(s.access_key_id, "AKIDWORK"));
    assert_true(span_is(s.secret_access_key, SECRET2));
    assert_true(span_is(s.session_token, "TOKEN/xyz="));
    assert_true(span_is(s.region, "eu-west-3"));
    assert_int_equal(s.other_source.len, 0);

    s = parse_ok(text, AS_PROFILE_CREDENTIALS, "default");
    assert_true(s.found);
    assert_true(span_is(s.access_key_id, "AKIDDEFAULT"));
    assert_true(span_is(s.secret_access_key, SECRET));
    assert_int_equal(s.session_token.len, 0);
    assert_int_equal(s.region.len, 0);

    s = parse_ok(text, AS_PROFILE_CREDENTIALS, "nope");
    assert_false(s.found);
    assert_int_equal(s.access_key_id.len, 0);
}

static void test_parse_comments_blanks_crlf_case(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF# a comment\r\n"
                       "; another\r\n"
                       "   # an indented comment\r\n"
                       "[  dev  ]  \r\n"
                       "\t AWS_Access_Key_ID\t=   AKIDDEV  \r\n"
                       "aws_secret_access_key : " SECRET "\r\n"
                       "\r\n"
                       "   \r\n"
                       "region=us-west-2 # not a comment here\r\n";
    as_profile_section s = parse_ok(text, AS_PROFILE_CREDENTIALS, "dev");
    assert_true(s.found);
    assert_true(span_is(s.access_key_id, "AKIDDEV"));
    assert_true(span_is(s.secret_access_key, SECRET));
    /* As the AWS CLI's reader: a '#' after the start of a line belongs to the value. */
    assert_true(span_is(s.region, "us-west-2 # not a comment here"));
}

static void test_parse_config_sections(void **state)
{
    (void)state;
    const char *text = "[dev]\n"
                       "region = us-east-2\n"
                       "[profile   dev ]\n"
                       "region = ap-south-1\n"
                       "[default]\n"
                       "region = eu-north-1\n";
    /* In config, [dev] is not the profile dev: [profile dev] is. */
    as_profile_section s = parse_ok(text, AS_PROFILE_CONFIG, "dev");
    assert_true(s.found);
    assert_true(span_is(s.region, "ap-south-1"));
    s = parse_ok(text, AS_PROFILE_CONFIG, "default");
    assert_true(s.found);
    assert_true(span_is(s.region, "eu-north-1"));
    s = parse_ok("[profile default]\nregion = sa-east-1\n", AS_PROFILE_CONFIG, "default");
    assert_true(s.found);
    assert_true(span_is(s.region, "sa-east-1"));
    /* In credentials, [profile dev] is a profile named "profile dev". */
    s = parse_ok("[profile dev]\naws_access_key_id = AKID\n", AS_PROFILE_CREDENTIALS, "dev");
    assert_false(s.found);
    s = parse_ok("[profiledev]\nregion = x\n", AS_PROFILE_CONFIG, "dev");
    assert_false(s.found);
}

static void test_parse_nested_and_repeated(void **state)
{
    (void)state;
    const char *text = "[default]\n"
                       "s3 =\n"
                       "  region = us-east-1\n"
                       "  aws_access_key_id = NESTED\n"
                       "region = eu-central-1\n"
                       "[other]\n"
                       "region = x\n"
                       "[default]\n"
                       "aws_access_key_id = AKIDLATER\n"
                       "aws_security_token = OLDNAME\n";
    as_profile_section s = parse_ok(text, AS_PROFILE_CREDENTIALS, "default");
    assert_true(span_is(s.region, "eu-central-1"));
    assert_true(span_is(s.access_key_id, "AKIDLATER"));
    assert_true(span_is(s.session_token, "OLDNAME"));
    /* aws_session_token wins over the old name, whatever the order. */
    s = parse_ok("[a]\naws_session_token = NEW\naws_security_token = OLD\n", AS_PROFILE_CREDENTIALS,
                 "a");
    assert_true(span_is(s.session_token, "NEW"));
    /* A key set to nothing counts as absent. */
    s = parse_ok("[a]\naws_access_key_id =\nregion:\n", AS_PROFILE_CREDENTIALS, "a");
    assert_true(s.found);
    assert_int_equal(s.access_key_id.len, 0);
    assert_int_equal(s.region.len, 0);
}

static void test_parse_other_sources(void **state)
{
    (void)state;
    as_profile_section s = parse_ok("[profile sso]\nsso_session = corp\nsso_account_id = 1\n",
                                    AS_PROFILE_CONFIG, "sso");
    assert_true(span_is(s.other_source, "sso_session"));
    s = parse_ok("[profile r]\nregion = x\nROLE_ARN = arn:aws:iam::1:role/r\n", AS_PROFILE_CONFIG,
                 "r");
    assert_true(span_is(s.other_source, "ROLE_ARN"));
    s = parse_ok("[p]\ncredential_process = /bin/creds\n", AS_PROFILE_CREDENTIALS, "p");
    assert_true(span_is(s.other_source, "credential_process"));
    s = parse_ok("[p]\nrole_arn =\n", AS_PROFILE_CREDENTIALS, "p");
    assert_int_equal(s.other_source.len, 0);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"region = x\n[default]\n", "creds line 1: a setting before any [section]"},
        {"# c\n\n  region = x\n", "creds line 3: a setting before any [section]"},
        {"[default]\nregion = x\njust words\n",
         "creds line 3: neither a [section], a name = value setting nor a comment"},
        {"[default\nregion = x\n", "creds line 1: a '[' without its ']'"},
        {"[ x  \n", "creds line 1: a '[' without its ']'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_profile_section s;
        as_error err = {0};
        assert_int_equal(as_profile_parse(as_span_from_cstr(cases[i].text), AS_PROFILE_CREDENTIALS,
                                          "default", "creds", &s, &err),
                         AS_ERR_ARGUMENT);
        assert_string_equal(err.message, cases[i].message);
        assert_false(s.found);
    }
    as_profile_section s;
    as_error err = {0};
    assert_int_equal(
        as_profile_parse(as_span_from_cstr(""), AS_PROFILE_CREDENTIALS, NULL, "x", &s, &err),
        AS_ERR_ARGUMENT);
    /* The empty text holds no profile, and is no error. */
    s = parse_ok("", AS_PROFILE_CONFIG, "default");
    assert_false(s.found);
}

/* ---- resolving: a temporary HOME and a table for the environment -------------------------- */

typedef struct fixture {
    char dir[64];
    char home[96];
    char credentials[192];
    char config[192];
    const char *env[16][2];
} fixture;

static const char *fake_getenv(const char *name, void *ctx)
{
    const fixture *f = ctx;
    for (size_t i = 0; i < 16 && f->env[i][0] != NULL; i++) {
        if (strcmp(f->env[i][0], name) == 0) {
            return f->env[i][1];
        }
    }
    return NULL;
}

static void set_env(fixture *f, const char *name, const char *value)
{
    size_t i = 0;
    while (f->env[i][0] != NULL && strcmp(f->env[i][0], name) != 0) {
        i++;
    }
    assert_true(i < 15);
    f->env[i][0] = name;
    f->env[i][1] = value;
}

static void write_file(const char *path, const char *text)
{
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(text, 1, strlen(text), out), strlen(text));
    assert_int_equal(fclose(out), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_profile.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->home, sizeof f->home, "%s/home", f->dir);
    assert_int_equal(mkdir(f->home, 0700), 0);
    char aws[128];
    snprintf(aws, sizeof aws, "%s/.aws", f->home);
    assert_int_equal(mkdir(aws, 0700), 0);
    snprintf(f->credentials, sizeof f->credentials, "%s/credentials", aws);
    snprintf(f->config, sizeof f->config, "%s/config", aws);
    set_env(f, "HOME", f->home);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    unlink(f->credentials);
    unlink(f->config);
    char path[160];
    snprintf(path, sizeof path, "%s/.aws/alt", f->home);
    unlink(path);
    snprintf(path, sizeof path, "%s/.aws", f->home);
    rmdir(path);
    rmdir(f->home);
    rmdir(f->dir);
    free(f);
    return 0;
}

static as_profile_settings resolve_ok(fixture *f, const char *profile, const char *region)
{
    as_profile_request req = {profile, region};
    as_profile_settings s;
    as_error err = {0};
    as_status status = as_profile_resolve(&req, fake_getenv, f, &s, &err);
    if (status != AS_OK) {
        fail_msg("resolve failed: %s", err.message);
    }
    return s;
}

static const char *resolve_fails(fixture *f, const char *profile, as_error *err)
{
    as_profile_request req = {profile, NULL};
    as_profile_settings s;
    assert_int_equal(as_profile_resolve(&req, fake_getenv, f, &s, err), AS_ERR_ARGUMENT);
    assert_null(s.access_key_id);
    assert_null(s.profile);
    return err->message;
}

static void test_resolve_environment_first(void **state)
{
    fixture *f = *state;
    write_file(f->credentials, "[default]\naws_access_key_id = AKIDFILE\n"
                               "aws_secret_access_key = " SECRET2 "\n");
    write_file(f->config, "[default]\nregion = ap-northeast-1\n");
    set_env(f, "AWS_ACCESS_KEY_ID", "AKIDENV");
    set_env(f, "AWS_SECRET_ACCESS_KEY", SECRET);
    set_env(f, "AWS_SESSION_TOKEN", "TOKENENV");
    as_profile_settings s = resolve_ok(f, NULL, NULL);
    assert_string_equal(s.access_key_id, "AKIDENV");
    assert_string_equal(s.secret_access_key, SECRET);
    assert_string_equal(s.session_token, "TOKENENV");
    assert_int_equal(s.credentials_from, AS_PROFILE_FROM_ENVIRONMENT);
    /* The region still comes from the profile when the environment has none. */
    assert_string_equal(s.region, "ap-northeast-1");
    assert_int_equal(s.region_from, AS_PROFILE_FROM_CONFIG);
    assert_string_equal(s.profile, "default");
    assert_string_equal(s.credentials_path, f->credentials);
    assert_string_equal(s.config_path, f->config);
    as_profile_settings_free(&s);
    assert_null(s.secret_access_key);

    set_env(f, "AWS_DEFAULT_REGION", "us-west-1");
    s = resolve_ok(f, NULL, NULL);
    assert_string_equal(s.region, "us-west-1");
    assert_int_equal(s.region_from, AS_PROFILE_FROM_ENVIRONMENT);
    as_profile_settings_free(&s);
    set_env(f, "AWS_REGION", "eu-west-2");
    s = resolve_ok(f, NULL, NULL);
    assert_string_equal(s.region, "eu-west-2");
    as_profile_settings_free(&s);
    s = resolve_ok(f, NULL, "ca-central-1");
    assert_string_equal(s.region, "ca-central-1");
    assert_int_equal(s.region_from, AS_PROFILE_FROM_OPTION);
    as_profile_settings_free(&s);

    /* --profile wins over the environment's keys. */
    s = resolve_ok(f, "default", NULL);
    assert_string_equal(s.access_key_id, "AKIDFILE");
    assert_string_equal(s.secret_access_key, SECRET2);
    assert_null(s.session_token);
    assert_int_equal(s.credentials_from, AS_PROFILE_FROM_CREDENTIALS);
    as_profile_settings_free(&s);
    as_profile_settings_free(NULL);
}

static void test_resolve_profiles(void **state)
{
    fixture *f = *state;
    write_file(f->credentials, "[default]\naws_access_key_id = AKIDDEF\n"
                               "aws_secret_access_key = " SECRET "\n"
                               "[ops]\naws_access_key_id = AKIDOPS\n"
                               "aws_secret_access_key = " SECRET2 "\n"
                               "aws_session_token = TOKOPS\n");
    write_file(f->config, "[default]\nregion = eu-west-1\n"
                          "[profile ops]\nregion = us-east-2\n"
                          "[profile cfgonly]\naws_access_key_id = AKIDCFG\n"
                          "aws_secret_access_key = " SECRET "\nregion = af-south-1\n"
                          "[ops]\nregion = wrong\n");
    as_profile_settings s = resolve_ok(f, NULL, NULL);
    assert_string_equal(s.access_key_id, "AKIDDEF");
    assert_string_equal(s.region, "eu-west-1");
    as_profile_settings_free(&s);

    set_env(f, "AWS_PROFILE", "ops");
    s = resolve_ok(f, NULL, NULL);
    assert_string_equal(s.profile, "ops");
    assert_string_equal(s.access_key_id, "AKIDOPS");
    assert_string_equal(s.session_token, "TOKOPS");
    assert_string_equal(s.region, "us-east-2");
    assert_int_equal(s.credentials_from, AS_PROFILE_FROM_CREDENTIALS);
    assert_int_equal(s.region_from, AS_PROFILE_FROM_CONFIG);
    as_profile_settings_free(&s);

    /* --profile wins over AWS_PROFILE; keys from config when credentials lack the profile. */
    s = resolve_ok(f, "cfgonly", NULL);
    assert_string_equal(s.access_key_id, "AKIDCFG");
    assert_string_equal(s.region, "af-south-1");
    assert_int_equal(s.credentials_from, AS_PROFILE_FROM_CONFIG);
    as_profile_settings_free(&s);

    as_error err = {0};
    const char *message = resolve_fails(f, "nosuch", &err);
    char want[512];
    snprintf(want, sizeof want,
             "profile \"nosuch\" is in neither %s nor %s: name another, or add it (aws configure "
             "--profile nosuch)",
             f->credentials, f->config);
    assert_string_equal(message, want);
}

static void test_resolve_file_variables(void **state)
{
    fixture *f = *state;
    char alt[160];
    snprintf(alt, sizeof alt, "%s/.aws/alt", f->home);
    write_file(alt, "[default]\naws_access_key_id = AKIDALT\naws_secret_access_key = " SECRET "\n");
    set_env(f, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/alt");
    set_env(f, "AWS_CONFIG_FILE", "/nonexistent/dir/config");
    as_profile_settings s = resolve_ok(f, NULL, NULL);
    assert_string_equal(s.access_key_id, "AKIDALT");
    assert_string_equal(s.credentials_path, alt);
    assert_string_equal(s.config_path, "/nonexistent/dir/config");
    assert_null(s.region);
    assert_int_equal(s.region_from, AS_PROFILE_FROM_NONE);
    as_profile_settings_free(&s);

    /* A directory where a file should be is an error, not "no profile". */
    set_env(f, "AWS_CONFIG_FILE", f->home);
    as_error err = {0};
    char want[256];
    snprintf(want, sizeof want, "cannot read %s: not a regular file", f->home);
    assert_string_equal(resolve_fails(f, NULL, &err), want);
}

static void test_resolve_refusals(void **state)
{
    fixture *f = *state;
    as_error err = {0};
    char want[512];
    /* Nothing anywhere. */
    snprintf(want, sizeof want,
             "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add a "
             "[default] profile to %s (aws configure)",
             f->credentials);
    assert_string_equal(resolve_fails(f, NULL, &err), want);

    set_env(f, "AWS_ACCESS_KEY_ID", "AKIDENV");
    assert_string_equal(
        resolve_fails(f, NULL, &err),
        "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither to use a "
        "profile");
    set_env(f, "AWS_ACCESS_KEY_ID", "");
    set_env(f, "AWS_SECRET_ACCESS_KEY", SECRET);
    assert_string_equal(
        resolve_fails(f, NULL, &err),
        "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither to use a "
        "profile");
    set_env(f, "AWS_ACCESS_KEY_ID", "AKID ENV");
    assert_string_equal(resolve_fails(f, NULL, &err),
                        "the environment's access key id holds a byte that is not a letter, digit "
                        "or '_' (its value is not shown): copy the key again");
    set_env(f, "AWS_ACCESS_KEY_ID", "AKIDENV");
    set_env(f, "AWS_SESSION_TOKEN", "TOKEN\r\nX-Evil: 1");
    assert_string_equal(resolve_fails(f, NULL, &err),
                        "the environment's session token holds a byte that is not printable ASCII, "
                        "or a blank (its value is not shown): copy the key again");
    assert_null(strstr(err.message, "Evil"));
    set_env(f, "AWS_SESSION_TOKEN", "");
    set_env(f, "AWS_ACCESS_KEY_ID", "");
    set_env(f, "AWS_SECRET_ACCESS_KEY", "");

    write_file(f->config, "[profile sso]\nsso_session = corp\nregion = us-east-1\n"
                          "[profile half]\naws_access_key_id = AKIDHALF\n"
                          "[profile empty]\nregion = us-east-1\n"
                          "[profile tab]\naws_access_key_id = AKID\n"
                          "aws_secret_access_key = wJalr\tXUtn\n");
    assert_string_equal(resolve_fails(f, "sso", &err),
                        "profile \"sso\" gets its credentials through sso_session, which is not "
                        "read here: run `aws configure export-credentials --profile sso --format "
                        "env` and use the variables it prints");
    assert_string_equal(resolve_fails(f, "half", &err),
                        "profile \"half\" has aws_access_key_id but no aws_secret_access_key: add "
                        "it (aws configure --profile half)");
    snprintf(want, sizeof want,
             "profile \"empty\" has no aws_access_key_id and aws_secret_access_key in %s or %s: "
             "add them (aws configure --profile empty)",
             f->credentials, f->config);
    assert_string_equal(resolve_fails(f, "empty", &err), want);
    /* Inner blanks are part of the value, and refused. */
    assert_string_equal(resolve_fails(f, "tab", &err),
                        "the profile's secret access key holds a byte that is not printable ASCII, "
                        "or a blank (its value is not shown): copy the key again");

    /* A file that does not parse names itself and the line. */
    write_file(f->credentials, "[default]\nthis is not a setting\n");
    snprintf(want, sizeof want,
             "%s line 2: neither a [section], a name = value setting nor a comment",
             f->credentials);
    assert_string_equal(resolve_fails(f, NULL, &err), want);
}

static void test_resolve_without_home(void **state)
{
    fixture *f = *state;
    set_env(f, "HOME", "");
    as_error err = {0};
    assert_string_equal(
        resolve_fails(f, NULL, &err),
        "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
        "or add a [default] profile to ~/.aws/credentials (aws configure)");
    set_env(f, "AWS_ACCESS_KEY_ID", "AKIDENV");
    set_env(f, "AWS_SECRET_ACCESS_KEY", SECRET);
    as_profile_settings s = resolve_ok(f, NULL, NULL);
    assert_null(s.credentials_path);
    assert_null(s.config_path);
    assert_string_equal(s.access_key_id, "AKIDENV");
    as_profile_settings_free(&s);
    assert_int_equal(as_profile_resolve(NULL, NULL, NULL, &s, &err), AS_ERR_ARGUMENT);
    assert_string_equal(as_profile_source_name(AS_PROFILE_FROM_CREDENTIALS), "credentials file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_picks_the_profile),
        cmocka_unit_test(test_parse_comments_blanks_crlf_case),
        cmocka_unit_test(test_parse_config_sections),
        cmocka_unit_test(test_parse_nested_and_repeated),
        cmocka_unit_test(test_parse_other_sources),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test_setup_teardown(test_resolve_environment_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_profiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_file_variables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_without_home, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
