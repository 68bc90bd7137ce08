/* What every auditstream command shares: credentials and region found as the AWS CLI finds
 * them, one DynamoDB client, the audit table's `history` index checked, and a key's trail
 * read through it. */
#ifndef CLI_SESSION_H
#define CLI_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "auditstream/ddb.h"
#include "auditstream/ddb_read.h"
#include "auditstream/profile.h"
#include "auditstream/replay.h"
#include "options.h"

/* The index the trail is read through, and the Terraform variable that creates it. */
#define CLI_HISTORY_INDEX    "history"
#define CLI_HISTORY_VARIABLE "history_index"

typedef struct cli_session {
    const cli_options *options;
    cli_getenv_fn getenv_fn;
    void *getenv_ctx;
    as_profile_settings settings;
    as_credentials credentials;
    as_ddb_client *client;
    as_ddb_config config;          /* what made the client; its strings borrow the settings */
    char endpoint[AS_DDB_URL_MAX]; /* the URL requests go to, for messages */
    bool global_init;
} cli_session;

/* Finds credentials and region (options, AWS_* variables, profile), reads the endpoint
 * and CA bundle settings as the function does, and makes a client with `concurrency`
 * connections. 0, or the exit status (2 for what the user can fix, 1 for memory) with a
 * one-line `message`. Close the session either way. */
int cli_session_open(cli_session *s, const cli_options *options, cli_getenv_fn getenv_fn, void *ctx,
                     uint32_t concurrency, char message[CLI_MESSAGE_MAX]);
/* Another client with the session's settings and `concurrency` connections (a client
 * serves one call at a time: backfill queries while its Scan runs). 0 or an exit status
 * with `message`. */
int cli_session_client(cli_session *s, uint32_t concurrency, as_ddb_client **out,
                       char message[CLI_MESSAGE_MAX]);

/* The environment as the library's settings readers should see it (`ctx` is the
 * session): the credentials and region found, --endpoint-url in place of the endpoint
 * variables, everything else as set. */
const char *cli_session_getenv(const char *name, void *ctx);

/* Frees the client and wipes the credentials. */
void cli_session_close(cli_session *s);

/* DescribeTable of `table` into `info` (free it with as_ddb_table_info_free). `option`
 * names where the name came from for messages ("--audit-table or AUDIT_TABLE"). With
 * `need_history`, the table must also have the history index, ACTIVE. 0 or an exit
 * status with `message`. */
int cli_describe(cli_session *s, const char *table, const char *option, bool need_history,
                 as_ddb_table_info *info, char message[CLI_MESSAGE_MAX]);

/* "<source table name>/<key>" into `out` (a new string: free it), or NULL when out of
 * memory. */
char *cli_history_key(const cli_options *options, const char *key);

/* Adds to `trail` the audit items of `history_key` through the history index whose time
 * lies from `since_ms` to `until_ms` (AS_TIME_MIN and AS_TIME_MAX for no bound), every
 * page, read through `client` (NULL: the session's; a client serves one call at a time).
 * `pages` (optional) counts them. 0 or an exit status with `message`. */
int cli_fetch_trail(const cli_session *s, as_ddb_client *client, const char *history_key,
                    int64_t since_ms, int64_t until_ms, as_trail *trail, uint64_t *pages,
                    char message[CLI_MESSAGE_MAX]);

/* What `history` and `show` read: the session, the audit table checked, and the trail of
 * the command's KEY. */
typedef struct cli_key_trail {
    cli_session session;
    as_ddb_table_info info;
    char *key; /* the historyKey */
    as_trail *trail;
} cli_key_trail;

/* Opens the session, checks the audit table and its index, and reads into a new trail the
 * items of the command's KEY from `since_ms` to `until_ms`. 0 or an exit status with
 * `message`. Close it either way. */
int cli_key_trail_open(cli_key_trail *kt, const cli_options *options, cli_getenv_fn getenv_fn,
                       void *ctx, int64_t since_ms, int64_t until_ms,
                       char message[CLI_MESSAGE_MAX]);
void cli_key_trail_close(cli_key_trail *kt);

/* The line for `result`, a failed `operation` on `table` (whose name came from `option`),
 * and its exit status (cli_failure_message). */
int cli_session_failure(const cli_session *s, const char *operation, const char *table,
                        const char *option, const as_ddb_result *result,
                        char message[CLI_MESSAGE_MAX]);

/* The time now, epoch milliseconds (UTC). */
int64_t cli_now_ms(void);

#endif
