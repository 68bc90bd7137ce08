/* The AWS CLI's shared files (~/.aws/credentials, ~/.aws/config) read for one profile's
 * static keys and region, and the order in which it prefers the environment to them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "auditstream/buf.h"
#include "auditstream/profile.h"
#include "aws/wipe.h"
#include "core/cursor.h"
#include "core/internal.h"

/* A shared file bigger than this is not one: refused rather than read whole. */
#define FILE_MAX (1024 * 1024)

/* Keys by which a profile gets credentials some other way than static keys. */
static const char *const OTHER_SOURCES[] = {
    "role_arn",       "credential_process",      "sso_session",       "sso_start_url",
    "sso_account_id", "web_identity_token_file", "credential_source", "login_session",
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static as_span trim(as_span s)
{
    while (s.len > 0 && is_blank(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && (is_blank(s.ptr[s.len - 1]) || s.ptr[s.len - 1] == '\r')) {
        s.len--;
    }
    return s;
}

static bool span_eq(as_span s, const char *text)
{
    size_t n = strlen(text);
    return s.len == n && memcmp(s.ptr, text, n) == 0;
}

static bool span_eq_nocase(as_span s, const char *text)
{
    size_t n = strlen(text);
    return s.len == n && strncasecmp(s.ptr, text, n) == 0;
}

/* Whether a section header (the text between the brackets, trimmed) names `profile`. */
static bool header_names(as_span header, as_profile_file kind, const char *profile)
{
    if (kind == AS_PROFILE_CREDENTIALS) {
        return span_eq(header, profile);
    }
    if (strcmp(profile, "default") == 0 && span_eq(header, "default")) {
        return true;
    }
    /* "profile" and the name, with blanks between. */
    if (header.len <= 7 || memcmp(header.ptr, "profile", 7) != 0 || !is_blank(header.ptr[7])) {
        return false;
    }
    as_span rest = trim((as_span){header.ptr + 7, header.len - 7});
    return span_eq(rest, profile);
}

static void take_setting(as_profile_section *out, as_span key, as_span value)
{
    if (span_eq_nocase(key, "aws_access_key_id")) {
        out->access_key_id = value;
    } else if (span_eq_nocase(key, "aws_secret_access_key")) {
        out->secret_access_key = value;
    } else if (span_eq_nocase(key, "aws_session_token") ||
               (span_eq_nocase(key, "aws_security_token") && out->session_token.len == 0)) {
        out->session_token = value;
    } else if (span_eq_nocase(key, "region")) {
        out->region = value;
    } else if (out->other_source.len == 0 && value.len > 0) {
        for (size_t i = 0; i < sizeof OTHER_SOURCES / sizeof OTHER_SOURCES[0]; i++) {
            if (span_eq_nocase(key, OTHER_SOURCES[i])) {
                out->other_source = key;
            }
        }
    }
}

static AS_RESULT parse(as_span text, as_profile_file kind, const char *profile, const char *name,
                       as_profile_section *out, as_error *err)
{
    as_cursor c = as_cursor_of(text);
    (void)as_cursor_take_bytes(&c, "\xEF\xBB\xBF", 3);
    bool in_section = false; /* some section has been opened */
    bool in_target = false;  /* the one being read is the profile's */
    bool after_setting = false;
    for (size_t line_no = 1; !as_cursor_at_end(&c); line_no++) {
        as_span raw = as_cursor_take_until(&c, '\n');
        (void)as_cursor_take_char(&c, '\n');
        as_span line = trim(raw);
        if (line.len == 0 || line.ptr[0] == '#' || line.ptr[0] == ';') {
            continue;
        }
        if (raw.len > 0 && is_blank(raw.ptr[0]) && after_setting) {
            continue; /* a nested setting or a continued value: not the profile's own */
        }
        if (line.ptr[0] == '[') {
            const char *close = NULL;
            for (size_t i = line.len; i > 1; i--) {
                if (line.ptr[i - 1] == ']') {
                    close = line.ptr + i - 1;
                    break;
                }
            }
            AS_ENSURE(close != NULL, as_fail(err, AS_ERR_ARGUMENT, line_no,
                                             "%s line %zu: a '[' without its ']'", name, line_no));
            as_span header = trim((as_span){line.ptr + 1, (size_t)(close - line.ptr - 1)});
            in_section = true;
            in_target = header_names(header, kind, profile);
            out->found = out->found || in_target;
            after_setting = false;
            continue;
        }
        size_t at = 0;
        while (at < line.len && line.ptr[at] != '=' && line.ptr[at] != ':') {
            at++;
        }
        AS_ENSURE(at < line.len,
                  as_fail(err, AS_ERR_ARGUMENT, line_no,
                          "%s line %zu: neither a [section], a name = value setting nor a comment",
                          name, line_no));
        AS_ENSURE(in_section,
                  as_fail(err, AS_ERR_ARGUMENT, line_no,
                          "%s line %zu: a setting before any [section]", name, line_no));
        as_span key = trim((as_span){line.ptr, at});
        as_span value = trim((as_span){line.ptr + at + 1, line.len - at - 1});
        if (in_target) {
            take_setting(out, key, value);
        }
        after_setting = true;
    }
    return AS_RESULT_OK;
}

as_status as_profile_parse(as_span text, as_profile_file kind, const char *profile,
                           const char *name, as_profile_section *out, as_error *err)
{
    if (out == NULL || profile == NULL || (text.ptr == NULL && text.len > 0)) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "profile: no text, profile or output to parse into"));
    }
    memset(out, 0, sizeof *out);
    as_result result = parse(text, kind, profile, name != NULL ? name : "shared file", out, err);
    if (!as_result_is_ok(result)) {
        memset(out, 0, sizeof *out);
    }
    return as_status_of(result);
}

const char *as_profile_source_name(as_profile_source source)
{
    switch (source) {
    case AS_PROFILE_FROM_NONE: return "none";
    case AS_PROFILE_FROM_OPTION: return "option";
    case AS_PROFILE_FROM_ENVIRONMENT: return "environment";
    case AS_PROFILE_FROM_CREDENTIALS: return "credentials file";
    case AS_PROFILE_FROM_CONFIG: return "config file";
    default: return "unknown";
    }
}

/* ---- resolving -------------------------------------------------------------------------- */

typedef struct env_reader {
    as_profile_getenv_fn getenv_fn;
    void *ctx;
} env_reader;

/* The variable's value, NULL when unset or empty. */
static const char *env_get(const env_reader *env, const char *name)
{
    const char *value = env->getenv_fn(name, env->ctx);
    return value != NULL && value[0] != '\0' ? value : NULL;
}

static AS_RESULT copy_span(as_span value, char **out, as_error *err)
{
    *out = NULL;
    if (value.len == 0) {
        return AS_RESULT_OK;
    }
    char *copy = malloc(value.len + 1);
    AS_ENSURE(copy != NULL, as_fail_nomem(err, "copying a profile setting"));
    memcpy(copy, value.ptr, value.len);
    copy[value.len] = '\0';
    *out = copy;
    return AS_RESULT_OK;
}

/* The file named by `variable`, else $HOME/<relative>; "~/" at the start is $HOME. NULL
 * (no error) when neither can be known: no file, so no profile in it. */
static AS_RESULT file_path(const env_reader *env, const char *variable, const char *relative,
                           char **out, as_error *err)
{
    const char *set = env_get(env, variable);
    const char *home = env_get(env, "HOME");
    as_buf path = AS_BUF_INIT;
    *out = NULL;
    if (set != NULL && strncmp(set, "~/", 2) == 0 && home != NULL) {
        as_buf_append_str(&path, home);
        as_buf_append_str(&path, set + 1);
    } else if (set != NULL) {
        as_buf_append_str(&path, set);
    } else if (home != NULL) {
        as_buf_append_str(&path, home);
        as_buf_append_str(&path, relative);
    } else {
        return AS_RESULT_OK;
    }
    as_result result = as_buf_result(&path, err, "naming a shared AWS file");
    if (!as_result_is_ok(result)) {
        as_buf_free(&path);
        return result;
    }
    *out = path.data; /* the buffer's storage is a NUL-terminated string, now the caller's */
    return AS_RESULT_OK;
}

/* Reads `path` whole into `text` (wiped by the caller: it may hold keys). A file that does
 * not exist, or no path, leaves `text` empty. */
static AS_RESULT read_file(const char *path, as_buf *text, as_error *err)
{
    if (path == NULL) {
        return AS_RESULT_OK;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int error = errno;
        AS_ENSURE(error == ENOENT || error == ENOTDIR,
                  error == ENOMEM ? as_fail_nomem(err, "opening a shared AWS file")
                                  : as_fail(err, AS_ERR_ARGUMENT, 0, "cannot read %s: %s", path,
                                            strerror(error)));
        return AS_RESULT_OK;
    }
    struct stat st;
    as_result result = AS_RESULT_OK;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        result = as_fail(err, AS_ERR_ARGUMENT, 0, "cannot read %s: not a regular file", path);
    }
    char chunk[4096];
    size_t n;
    while (as_result_is_ok(result) && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        as_buf_append(text, chunk, n);
        if (text->len > FILE_MAX) {
            result = as_fail(err, AS_ERR_ARGUMENT, 0,
                             "%s is over 1 MiB: not a shared AWS credentials or config file", path);
        }
    }
    if (as_result_is_ok(result) && ferror(f)) {
        result = as_fail(err, AS_ERR_ARGUMENT, 0, "cannot read the whole of %s", path);
    }
    as_wipe(chunk, sizeof chunk);
    fclose(f);
    AS_GUARD(result);
    return as_buf_result(text, err, "reading a shared AWS file");
}

/* Printable ASCII without blanks (a CR or LF would add a request header); an access key
 * id is letters, digits and '_' alone. The value is never quoted. */
static AS_RESULT check_credential(as_span value, bool key_id, const char *what, const char *where,
                                  as_error *err)
{
    for (size_t i = 0; i < value.len; i++) {
        unsigned char c = (unsigned char)value.ptr[i];
        bool ok = key_id ? ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '_')
                         : (c > 0x20 && c < 0x7f);
        AS_ENSURE(
            ok, as_fail(err, AS_ERR_ARGUMENT, 0,
                        "%s %s holds a byte that is %s (its value is not shown): copy the "
                        "key again",
                        where, what,
                        key_id ? "not a letter, digit or '_'" : "not printable ASCII, or a blank"));
    }
    return AS_RESULT_OK;
}

/* The files' text and what they say, kept together so that one place wipes them. */
typedef struct shared_files {
    as_buf credentials_text;
    as_buf config_text;
    as_profile_section credentials;
    as_profile_section config;
} shared_files;

static as_span first_set(as_span a, as_span b)
{
    return a.len > 0 ? a : b;
}

static AS_RESULT credentials_from_profile(const shared_files *files, const as_profile_settings *s,
                                          as_span *key_id, as_span *secret, as_span *token,
                                          as_profile_source *from, as_error *err)
{
    const as_profile_section *cred = &files->credentials;
    const as_profile_section *conf = &files->config;
    /* Like the AWS CLI, the credentials file's settings win over the config file's, one
     * setting at a time. */
    *key_id = first_set(cred->access_key_id, conf->access_key_id);
    *secret = first_set(cred->secret_access_key, conf->secret_access_key);
    *token = first_set(cred->session_token, conf->session_token);
    *from = cred->access_key_id.len > 0 ? AS_PROFILE_FROM_CREDENTIALS : AS_PROFILE_FROM_CONFIG;
    const char *cred_path =
        s->credentials_path != NULL ? s->credentials_path : "~/.aws/credentials";
    const char *conf_path = s->config_path != NULL ? s->config_path : "~/.aws/config";
    if (key_id->len == 0 && secret->len == 0) {
        as_span other = first_set(cred->other_source, conf->other_source);
        AS_ENSURE(other.len == 0,
                  as_fail(err, AS_ERR_ARGUMENT, 0,
                          "profile \"%s\" gets its credentials through %.*s, which is not read "
                          "here: run `aws configure export-credentials --profile %s --format env` "
                          "and use the variables it prints",
                          s->profile, (int)other.len, other.ptr, s->profile));
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "profile \"%s\" has no aws_access_key_id and aws_secret_access_key in %s "
                       "or %s: add them (aws configure --profile %s)",
                       s->profile, cred_path, conf_path, s->profile);
    }
    AS_ENSURE(key_id->len > 0 && secret->len > 0,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "profile \"%s\" has %s but no %s: add it (aws configure --profile %s)",
                      s->profile, key_id->len > 0 ? "aws_access_key_id" : "aws_secret_access_key",
                      key_id->len > 0 ? "aws_secret_access_key" : "aws_access_key_id", s->profile));
    return AS_RESULT_OK;
}

static AS_RESULT resolve(const as_profile_request *request, const env_reader *env,
                         shared_files *files, as_profile_settings *s, as_error *err)
{
    const char *named = request->profile != NULL && request->profile[0] != '\0'
                            ? request->profile
                            : env_get(env, "AWS_PROFILE");
    if (named == NULL) {
        named = env_get(env, "AWS_DEFAULT_PROFILE");
    }
    AS_GUARD(copy_span(as_span_from_cstr(named != NULL ? named : "default"), &s->profile, err));
    AS_GUARD(file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "/.aws/credentials",
                       &s->credentials_path, err));
    AS_GUARD(file_path(env, "AWS_CONFIG_FILE", "/.aws/config", &s->config_path, err));
    AS_GUARD(read_file(s->credentials_path, &files->credentials_text, err));
    AS_GUARD(read_file(s->config_path, &files->config_text, err));
    as_span cred_text = {files->credentials_text.data, files->credentials_text.len};
    as_span conf_text = {files->config_text.data, files->config_text.len};
    AS_GUARD_STATUS(as_profile_parse(cred_text, AS_PROFILE_CREDENTIALS, s->profile,
                                     s->credentials_path, &files->credentials, err));
    AS_GUARD_STATUS(as_profile_parse(conf_text, AS_PROFILE_CONFIG, s->profile, s->config_path,
                                     &files->config, err));
    bool found = files->credentials.found || files->config.found;
    AS_ENSURE(found || named == NULL,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "profile \"%s\" is in neither %s nor %s: name another, or add it (aws "
                      "configure --profile %s)",
                      s->profile, s->credentials_path != NULL ? s->credentials_path : "(no HOME)",
                      s->config_path != NULL ? s->config_path : "(no HOME)", s->profile));

    as_span key_id = {0}, secret = {0}, token = {0};
    const char *env_key = env_get(env, "AWS_ACCESS_KEY_ID");
    const char *env_secret = env_get(env, "AWS_SECRET_ACCESS_KEY");
    bool by_option = request->profile != NULL && request->profile[0] != '\0';
    const char *where = "";
    if (!by_option && (env_key != NULL || env_secret != NULL)) {
        AS_ENSURE(env_key != NULL && env_secret != NULL,
                  as_fail(err, AS_ERR_ARGUMENT, 0,
                          "%s is set but %s is not: set both, or neither to use a profile",
                          env_key != NULL ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                          env_key != NULL ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"));
        const char *env_token = env_get(env, "AWS_SESSION_TOKEN");
        key_id = as_span_from_cstr(env_key);
        secret = as_span_from_cstr(env_secret);
        token =
            as_span_from_cstr(env_token != NULL ? env_token : env_get(env, "AWS_SECURITY_TOKEN"));
        s->credentials_from = AS_PROFILE_FROM_ENVIRONMENT;
        where = "the environment's";
    } else {
        AS_ENSURE(found, as_fail(err, AS_ERR_ARGUMENT, 0,
                                 "no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                                 "AWS_SECRET_ACCESS_KEY, or add a [default] profile to %s (aws "
                                 "configure)",
                                 s->credentials_path != NULL ? s->credentials_path
                                                             : "~/.aws/credentials"));
        AS_GUARD(credentials_from_profile(files, s, &key_id, &secret, &token, &s->credentials_from,
                                          err));
        where = "the profile's";
    }
    AS_GUARD(check_credential(key_id, true, "access key id", where, err));
    AS_GUARD(check_credential(secret, false, "secret access key", where, err));
    AS_GUARD(check_credential(token, false, "session token", where, err));
    AS_GUARD(copy_span(key_id, &s->access_key_id, err));
    AS_GUARD(copy_span(secret, &s->secret_access_key, err));
    AS_GUARD(copy_span(token, &s->session_token, err));

    as_span region = {0};
    if (request->region != NULL && request->region[0] != '\0') {
        region = as_span_from_cstr(request->region);
        s->region_from = AS_PROFILE_FROM_OPTION;
    } else if (env_get(env, "AWS_REGION") != NULL || env_get(env, "AWS_DEFAULT_REGION") != NULL) {
        const char *r = env_get(env, "AWS_REGION");
        region = as_span_from_cstr(r != NULL ? r : env_get(env, "AWS_DEFAULT_REGION"));
        s->region_from = AS_PROFILE_FROM_ENVIRONMENT;
    } else if (files->credentials.region.len > 0) {
        region = files->credentials.region;
        s->region_from = AS_PROFILE_FROM_CREDENTIALS;
    } else if (files->config.region.len > 0) {
        region = files->config.region;
        s->region_from = AS_PROFILE_FROM_CONFIG;
    }
    return copy_span(region, &s->region, err);
}

as_status as_profile_resolve(const as_profile_request *request, as_profile_getenv_fn getenv_fn,
                             void *ctx, as_profile_settings *out, as_error *err)
{
    if (out == NULL || getenv_fn == NULL) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "profile: no getenv function or output given"));
    }
    memset(out, 0, sizeof *out);
    as_profile_request none = {NULL, NULL};
    env_reader env = {getenv_fn, ctx};
    shared_files files;
    memset(&files, 0, sizeof files);
    as_result result = resolve(request != NULL ? request : &none, &env, &files, out, err);
    as_buf_wipe_free(&files.credentials_text);
    as_buf_wipe_free(&files.config_text);
    if (!as_result_is_ok(result)) {
        as_profile_settings_free(out);
    }
    return as_status_of(result);
}

static void free_secret(char *s)
{
    if (s != NULL) {
        as_wipe(s, strlen(s));
        free(s);
    }
}

void as_profile_settings_free(as_profile_settings *settings)
{
    if (settings == NULL) {
        return;
    }
    free(settings->profile);
    free_secret(settings->access_key_id);
    free_secret(settings->secret_access_key);
    free_secret(settings->session_token);
    free(settings->region);
    free(settings->credentials_path);
    free(settings->config_path);
    memset(settings, 0, sizeof *settings);
}
