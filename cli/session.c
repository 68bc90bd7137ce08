/* auditstream's connection to DynamoDB (cli/session.h): settings resolved once, the
 * function's own environment rules for the endpoint and CA bundle, and the reads every
 * command starts with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditstream/config.h"
#include "auditstream/global.h"
#include "commands.h"
#include "errors.h"
#include "session.h"

int64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The environment as the client's settings reader should see it: the credentials and
 * region already found (options and profile included) and --endpoint-url in place of the
 * endpoint variables; everything else (AWS_CA_BUNDLE, AWS_MAX_ATTEMPTS, ...) as set. */
const char *cli_session_getenv(const char *name, void *ctx)
{
    const cli_session *s = ctx;
    if (strcmp(name, "AWS_REGION") == 0) {
        return s->settings.region;
    }
    if (strcmp(name, "AWS_DEFAULT_REGION") == 0) {
        return NULL;
    }
    if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0) {
        return s->settings.access_key_id;
    }
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0) {
        return s->settings.secret_access_key;
    }
    if (strcmp(name, "AWS_SESSION_TOKEN") == 0) {
        return s->settings.session_token;
    }
    if (s->options->endpoint_url != NULL) {
        if (strcmp(name, "AWS_ENDPOINT_URL_DYNAMODB") == 0) {
            return s->options->endpoint_url;
        }
        if (strcmp(name, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == 0) {
            return NULL;
        }
    }
    return s->getenv_fn(name, s->getenv_ctx);
}

static bool region_ok(const char *region)
{
    size_t len = strlen(region);
    if (len == 0 || len > 64) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = region[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

static const char *region_source(const as_profile_settings *p)
{
    switch (p->region_from) {
    case AS_PROFILE_FROM_OPTION: return "--region";
    case AS_PROFILE_FROM_ENVIRONMENT: return "AWS_REGION or AWS_DEFAULT_REGION";
    case AS_PROFILE_FROM_CREDENTIALS: return p->credentials_path;
    case AS_PROFILE_FROM_CONFIG: return p->config_path;
    default: return "nowhere";
    }
}

static int fail(char message[CLI_MESSAGE_MAX], int rc, const char *text)
{
    snprintf(message, CLI_MESSAGE_MAX, "%s", text);
    return rc;
}

int cli_session_open(cli_session *s, const cli_options *options, cli_getenv_fn getenv_fn, void *ctx,
                     uint32_t concurrency, char message[CLI_MESSAGE_MAX])
{
    memset(s, 0, sizeof *s);
    s->options = options;
    s->getenv_fn = getenv_fn;
    s->getenv_ctx = ctx;
    as_error err = {0};
    /* The URL's shape does not depend on the region: it is checked before anything is
     * looked up, so that a mistake in it is the one reported. */
    as_ddb_endpoint endpoint;
    if (options->endpoint_url != NULL &&
        as_ddb_endpoint_resolve(options->endpoint_url, "us-east-1", &endpoint, &err) != AS_OK) {
        const char *why = strncmp(err.message, "ddb: ", 5) == 0 ? err.message + 5 : err.message;
        snprintf(message, CLI_MESSAGE_MAX, "--endpoint-url: %s", why);
        return 2;
    }
    as_profile_request request = {options->profile, options->region};
    if (as_profile_resolve(&request, getenv_fn, ctx, &s->settings, &err) != AS_OK) {
        return fail(message, err.code == AS_ERR_NOMEM ? 1 : 2, err.message);
    }
    if (s->settings.region == NULL) {
        snprintf(message, CLI_MESSAGE_MAX,
                 "no region: pass --region, set AWS_REGION, or add region = ... to profile \"%s\" "
                 "(aws configure)",
                 s->settings.profile);
        return 2;
    }
    if (!region_ok(s->settings.region)) {
        snprintf(message, CLI_MESSAGE_MAX,
                 "region \"%.64s\" (from %s) is not an AWS region name such as eu-west-1",
                 s->settings.region, region_source(&s->settings));
        return 2;
    }
    s->config.concurrency = concurrency;
    if (as_ddb_config_from_env(&s->config, &s->credentials, cli_session_getenv, s, &err) != AS_OK) {
        return fail(message, err.code == AS_ERR_NOMEM ? 1 : 2, err.message);
    }
    if (as_global_init(&err) != AS_OK) {
        return fail(message, 1, err.message);
    }
    s->global_init = true;
    int rc = cli_session_client(s, concurrency, &s->client, message);
    if (rc != 0) {
        return rc;
    }
    snprintf(s->endpoint, sizeof s->endpoint, "%s", as_ddb_client_endpoint(s->client)->url);
    return 0;
}

int cli_session_client(cli_session *s, uint32_t concurrency, as_ddb_client **out,
                       char message[CLI_MESSAGE_MAX])
{
    as_error err = {0};
    as_ddb_config config = s->config;
    config.concurrency = concurrency;
    if (as_ddb_client_new(&config, out, &err) != AS_OK) {
        return fail(message, err.code == AS_ERR_NOMEM ? 1 : 2, err.message);
    }
    return 0;
}

void cli_session_close(cli_session *s)
{
    as_ddb_client_free(s->client);
    s->client = NULL;
    as_profile_settings_free(&s->settings);
    memset(&s->credentials, 0, sizeof s->credentials);
    if (s->global_init) {
        as_global_cleanup();
        s->global_init = false;
    }
}

/* Where the credentials came from, for a message about them. */
static void credentials_source(const cli_session *s, char *out, size_t size)
{
    const as_profile_settings *p = &s->settings;
    switch (p->credentials_from) {
    case AS_PROFILE_FROM_ENVIRONMENT:
        snprintf(out, size, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        break;
    case AS_PROFILE_FROM_CREDENTIALS:
    case AS_PROFILE_FROM_CONFIG:
        snprintf(out, size, "profile \"%s\" in %s", p->profile,
                 p->credentials_from == AS_PROFILE_FROM_CREDENTIALS ? p->credentials_path
                                                                    : p->config_path);
        break;
    default: snprintf(out, size, "nowhere"); break;
    }
}

int cli_session_failure(const cli_session *s, const char *operation, const char *table,
                        const char *option, const as_ddb_result *result,
                        char message[CLI_MESSAGE_MAX])
{
    char creds[320];
    credentials_source(s, creds, sizeof creds);
    cli_failure where = {
        .operation = operation,
        .table = table,
        .option = option,
        .endpoint = s->endpoint,
        .region = s->settings.region,
        .credentials = creds,
        .policy = s->options->command == CLI_BACKFILL ? "backfill_policy_arn" : "reader_policy_arn",
    };
    return cli_failure_message(&where, result, message);
}

int cli_describe(cli_session *s, const char *table, const char *option, bool need_history,
                 as_ddb_table_info *info, char message[CLI_MESSAGE_MAX])
{
    as_ddb_result result;
    as_error err = {0};
    memset(info, 0, sizeof *info);
    memset(&result, 0, sizeof result);
    if (as_ddb_describe_table(s->client, &s->credentials, table, 0, info, &result, NULL, &err) !=
        AS_OK) {
        return fail(message, err.code == AS_ERR_NOMEM ? 1 : 2, err.message);
    }
    if (result.outcome != AS_DDB_ANSWERED) {
        return cli_session_failure(s, "DescribeTable", table, option, &result, message);
    }
    if (need_history) {
        const as_ddb_index_info *index = as_ddb_table_info_index(info, CLI_HISTORY_INDEX);
        if (index == NULL) {
            return cli_index_message(table, NULL, message);
        }
        if (index->status[0] != '\0' && strcmp(index->status, "ACTIVE") != 0) {
            return cli_index_message(table, index->status, message);
        }
    }
    return 0;
}

char *cli_history_key(const cli_options *options, const char *key)
{
    const char *table = cli_table_name(options->source_table);
    size_t len = strlen(table) + 1 + strlen(key);
    char *out = malloc(len + 1);
    if (out != NULL) {
        snprintf(out, len + 1, "%s/%s", table, key);
    }
    return out;
}

typedef struct fetch {
    as_trail *trail;
    uint64_t pages;
    as_error err;
    bool failed;
} fetch;

static bool add_page(const as_ddb_page *page, void *ctx)
{
    fetch *f = ctx;
    f->pages++;
    if (as_trail_add_json(f->trail, page->body.ptr, page->body.len, &f->err) != AS_OK) {
        f->failed = true;
        return false;
    }
    return true;
}

/* Appends {"S":"<text>"} as a member ":name" of an ExpressionAttributeValues object. */
static void add_value(as_buf *values, const char *name, const char *text, size_t len)
{
    as_buf_append_str(values, values->len == 0 ? "{\"" : ",\"");
    as_buf_append_str(values, name);
    as_buf_append_str(values, "\":{\"S\":\"");
    as_buf_append_json_escaped(values, text, len);
    as_buf_append_str(values, "\"}");
}

int cli_fetch_trail(const cli_session *s, as_ddb_client *client, const char *history_key,
                    int64_t since_ms, int64_t until_ms, as_trail *trail, uint64_t *pages,
                    char message[CLI_MESSAGE_MAX])
{
    /* historySort is <modificationTime>/<sequence number>: a time alone sorts before every
     * key of that time, the time and "/~" after them. */
    as_buf values = AS_BUF_INIT;
    add_value(&values, ":k", history_key, strlen(history_key));
    char low[25], high[28];
    const char *condition = "historyKey = :k";
    if (since_ms != AS_TIME_MIN) {
        as_replay_time_format(since_ms, low);
        add_value(&values, ":lo", low, strlen(low));
    }
    if (until_ms != AS_TIME_MAX) {
        as_replay_time_format(until_ms, high);
        memcpy(high + 24, "/~", 3);
        add_value(&values, ":hi", high, strlen(high));
    }
    if (since_ms != AS_TIME_MIN && until_ms != AS_TIME_MAX) {
        condition = "historyKey = :k AND historySort BETWEEN :lo AND :hi";
    } else if (since_ms != AS_TIME_MIN) {
        condition = "historyKey = :k AND historySort >= :lo";
    } else if (until_ms != AS_TIME_MAX) {
        condition = "historyKey = :k AND historySort <= :hi";
    }
    as_buf_append_char(&values, '}');
    if (as_buf_status(&values) != AS_OK) {
        as_buf_free(&values);
        return fail(message, 1, "out of memory building a Query");
    }
    as_ddb_query query;
    memset(&query, 0, sizeof query);
    query.table = s->options->audit_table;
    query.index = CLI_HISTORY_INDEX;
    query.key_condition = condition;
    query.values = (as_span){values.data, values.len};
    fetch f;
    memset(&f, 0, sizeof f);
    f.trail = trail;
    as_ddb_result result;
    memset(&result, 0, sizeof result);
    as_error err = {0};
    as_status status = as_ddb_query_pages(client != NULL ? client : s->client, &s->credentials,
                                          &query, add_page, &f, &result, NULL, &err);
    as_buf_free(&values);
    if (pages != NULL) {
        *pages = f.pages;
    }
    if (status != AS_OK) {
        return fail(message, err.code == AS_ERR_NOMEM ? 1 : 2, err.message);
    }
    if (f.failed) {
        if (f.err.code == AS_ERR_NOMEM) {
            return fail(message, 1, f.err.message);
        }
        snprintf(message, CLI_MESSAGE_MAX,
                 "table \"%s\" holds an item in %s's trail that is not an audit item: %s",
                 s->options->audit_table, history_key, f.err.message);
        return 1;
    }
    if (result.outcome != AS_DDB_ANSWERED) {
        if (as_ddb_error_kind_of(&result) == AS_DDB_KIND_VALIDATION &&
            strstr(result.message, "index") != NULL) {
            return cli_index_message(s->options->audit_table, NULL, message);
        }
        return cli_session_failure(s, "Query", s->options->audit_table,
                                   "--audit-table or AUDIT_TABLE", &result, message);
    }
    return 0;
}

int cli_key_trail_open(cli_key_trail *kt, const cli_options *options, cli_getenv_fn getenv_fn,
                       void *ctx, int64_t since_ms, int64_t until_ms, char message[CLI_MESSAGE_MAX])
{
    memset(kt, 0, sizeof *kt);
    int rc = cli_session_open(&kt->session, options, getenv_fn, ctx, 4, message);
    if (rc == 0) {
        rc = cli_describe(&kt->session, options->audit_table, "--audit-table or AUDIT_TABLE", true,
                          &kt->info, message);
    }
    if (rc == 0) {
        kt->key = cli_history_key(options, options->keys[0]);
        kt->trail = as_trail_new();
        if (kt->key == NULL || kt->trail == NULL) {
            snprintf(message, CLI_MESSAGE_MAX, "out of memory reading the trail");
            rc = CLI_EXIT_FAILED;
        }
    }
    if (rc == 0) {
        rc = cli_fetch_trail(&kt->session, NULL, kt->key, since_ms, until_ms, kt->trail, NULL,
                             message);
    }
    return rc;
}

void cli_key_trail_close(cli_key_trail *kt)
{
    as_trail_free(kt->trail);
    kt->trail = NULL;
    free(kt->key);
    kt->key = NULL;
    as_ddb_table_info_free(&kt->info);
    cli_session_close(&kt->session);
}
