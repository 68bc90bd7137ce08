/* AWS credentials and region found the way the AWS CLI finds them: the AWS_* variables,
 * then a profile of the shared files (~/.aws/credentials, ~/.aws/config), static keys only. */
#ifndef AUDITSTREAM_PROFILE_H
#define AUDITSTREAM_PROFILE_H

#include <stdbool.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Like getenv(3): the value of `name`, or NULL when unset. This module reads the
 * environment only through it (a table in tests). */
typedef const char *(*as_profile_getenv_fn)(const char *name, void *ctx);

/* What one shared file says about one profile. Spans borrow the file's text; a key that
 * is absent, or set to nothing, is the empty span. */
typedef struct as_profile_section {
    bool found; /* the file has the profile's section (one or more times: they merge) */
    as_span access_key_id;
    as_span secret_access_key;
    as_span session_token; /* aws_session_token (aws_security_token, its old name, too) */
    as_span region;
    /* The first key met that gets credentials some other way than static keys
     * (role_arn, credential_process, sso_session, sso_start_url, web_identity_token_file,
     * credential_source, login_session), for the error that says what to do instead;
     * empty when none. */
    as_span other_source;
} as_profile_section;

/* Which file a text came from: the two differ in how a profile's section is named. */
typedef enum as_profile_file {
    AS_PROFILE_CREDENTIALS = 0, /* [name] */
    AS_PROFILE_CONFIG           /* [profile name], and [default] (or [profile default]) */
} as_profile_file;

/* Pure. Reads the section of `profile` from `text`, the contents of a shared file of
 * kind `kind`, as the AWS CLI's INI reader does: lines end with LF or CRLF, a UTF-8
 * byte-order mark is skipped; a line whose first non-blank byte is '#' or ';' is a
 * comment (a '#' later on a line is part of the value); "[ name ]" opens a section
 * (blanks around the name, and between "profile" and the name, do not count); a setting
 * is "name = value" or "name: value", the name read in any case and both trimmed of
 * blanks; an indented line after a setting continues it (nested settings such as
 * "s3 =" then "  max_concurrent_requests = 10") and is not read as a setting of the
 * profile. A section named twice merges; a later value wins. `name` is the file's name
 * for messages. AS_ERR_ARGUMENT, naming the file and line, for a setting before any
 * section, a line that is neither, or an unclosed "[". */
AS_MUST_CHECK as_status as_profile_parse(as_span text, as_profile_file kind, const char *profile,
                                         const char *name, as_profile_section *out, as_error *err);

/* Where a setting was found. */
typedef enum as_profile_source {
    AS_PROFILE_FROM_NONE = 0,
    AS_PROFILE_FROM_OPTION,      /* the caller's own (a --region option) */
    AS_PROFILE_FROM_ENVIRONMENT, /* AWS_ACCESS_KEY_ID, AWS_REGION, ... */
    AS_PROFILE_FROM_CREDENTIALS, /* the shared credentials file */
    AS_PROFILE_FROM_CONFIG       /* the shared config file */
} as_profile_source;

/* Short static name: "none", "option", "environment", "credentials file", "config file". */
const char *as_profile_source_name(as_profile_source source);

/* What the caller already knows: each NULL or "" when not given. Borrowed for the call. */
typedef struct as_profile_request {
    const char *profile; /* a --profile option: wins over AWS_PROFILE and over AWS_* keys */
    const char *region;  /* a --region option: wins over every other source */
} as_profile_request;

/* The resolved settings. Every string is new, owned by the struct (free it with
 * as_profile_settings_free, which wipes the secrets first) and NUL-terminated; NULL when
 * there is none. */
typedef struct as_profile_settings {
    char *profile; /* the profile looked at ("default" when none was named) */
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
    char *region;
    as_profile_source credentials_from;
    as_profile_source region_from;
    char *credentials_path; /* the files read (whether they existed or not) */
    char *config_path;
} as_profile_settings;

/* Finds credentials and region as the AWS CLI does, through `getenv_fn`:
 *   profile      request->profile, else AWS_PROFILE, else AWS_DEFAULT_PROFILE, else
 *                "default";
 *   credentials  with request->profile: that profile alone. Otherwise AWS_ACCESS_KEY_ID
 *                and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN, else
 *                AWS_SECURITY_TOKEN) when set, else the profile: the credentials file's
 *                keys, else the config file's;
 *   region       request->region, else AWS_REGION, else AWS_DEFAULT_REGION, else the
 *                profile's (the credentials file's, else the config file's); may stay
 *                NULL;
 *   files        AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials;
 *                AWS_CONFIG_FILE, else $HOME/.aws/config ("~/" is $HOME). A file that
 *                does not exist holds no profile; one that cannot be read is an error.
 * Empty values count as unset. Every credential must be printable ASCII without blanks
 * (a CR or LF would add a request header; an access key id is letters, digits and '_').
 * AS_ERR_ARGUMENT, with a message that says what to do and never quotes a secret, when:
 * only one of the two key variables is set; a named profile is in neither file; the
 * profile gets its credentials some other way (role_arn, SSO, credential_process: `aws
 * configure export-credentials --format env` turns them into variables); a profile has
 * half a key pair; no credentials are found at all; a value is not printable; a file does
 * not parse. AS_ERR_NOMEM when memory runs out. `out` is overwritten; on failure it holds
 * nothing to free. */
AS_MUST_CHECK as_status as_profile_resolve(const as_profile_request *request,
                                           as_profile_getenv_fn getenv_fn, void *ctx,
                                           as_profile_settings *out, as_error *err);

/* Wipes and frees the strings and zeroes `settings`. NULL is a no-op. */
void as_profile_settings_free(as_profile_settings *settings);

#ifdef __cplusplus
}
#endif

#endif
