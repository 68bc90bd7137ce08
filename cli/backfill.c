/* auditstream backfill: the source table scanned in parallel segments; for each item
 * whose trail does not replay to it as read, a BASELINE item built by the library and
 * written only where absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/audit.h"
#include "auditstream/config.h"
#include "auditstream/replay.h"
#include "auditstream/wire.h"
#include "commands.h"
#include "progress.h"
#include "session.h"
#include "table.h"

/* At most this many failed items are named on standard error; the count says the rest. */
#define FAILURES_SHOWN 10

typedef struct backfill {
    cli_session *session;
    as_ddb_client *writer; /* Queries and writes, while the session's client scans */
    const cli_options *options;
    as_audit_options audit;
    as_span key_names[2];
    size_t key_count;
    as_items *built;
    as_buf pending;   /* the BASELINE items to write, one after another */
    size_t *offsets;  /* where each starts in `pending`, and one past the last */
    size_t pending_count;
    size_t pending_cap;
    uint64_t scanned, written, failed, unchanged;
    FILE *errors;
    cli_progress progress;
    bool no_get; /* GetItem on the source table is denied: the Scan's copies are used */
    int rc;      /* a failure that stops the scan, with `message` */
    char message[CLI_MESSAGE_MAX];
} backfill;

static void item_failed(backfill *b, const char *what, const char *why)
{
    b->failed++;
    if (b->failed <= FAILURES_SHOWN) {
        cli_progress_clear(&b->progress);
        fprintf(b->errors, "auditstream: backfill: %s: %s\n", what, why);
    }
}

static bool stop(backfill *b, int rc, const char *message)
{
    b->rc = rc;
    if (message != NULL) {
        snprintf(b->message, sizeof b->message, "%s", message);
    }
    return false;
}

static bool queue(backfill *b, as_span json)
{
    if (b->pending_count + 2 > b->pending_cap) {
        size_t cap = b->pending_cap == 0 ? 64 : b->pending_cap * 2;
        size_t *grown = realloc(b->offsets, cap * sizeof *grown);
        if (grown == NULL) {
            return false;
        }
        b->offsets = grown;
        b->pending_cap = cap;
    }
    b->offsets[b->pending_count++] = b->pending.len;
    as_buf_append_span(&b->pending, json);
    b->offsets[b->pending_count] = b->pending.len;
    return as_buf_status(&b->pending) == AS_OK;
}

/* Whether the trail of the BASELINE item `json` already replays, as of `read_ms`, to the
 * image it holds; then it need not be written. */
static int trail_shows(backfill *b, as_span json, int64_t read_ms, bool *shows)
{
    *shows = false;
    as_wire_items *item = NULL;
    as_trail *trail = as_trail_new();
    as_replay *replay = as_replay_new();
    as_buf key = AS_BUF_INIT;
    as_error err = {0};
    int rc = trail != NULL && replay != NULL ? 0 : CLI_EXIT_FAILED;
    if (rc == 0 && as_wire_decode(json.ptr, json.len, AS_WIRE_ITEM, &item, &err) != AS_OK) {
        rc = CLI_EXIT_FAILED;
    }
    const as_value *it = rc == 0 ? as_wire_item(item, 0) : NULL;
    const as_value *hk = as_wire_attribute(it, "historyKey");
    const as_value *image = as_wire_attribute(
        it, b->audit.format == AS_FORMAT_DETAILED ? "newImage" : "newValue");
    if (rc == 0 && (hk == NULL || hk->type != AS_TYPE_S || image == NULL)) {
        snprintf(err.message, sizeof err.message, "the BASELINE item built has no %s",
                 hk == NULL ? "historyKey" : "image");
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        as_json_unescape(hk->text, &key);
        rc = as_buf_status(&key) == AS_OK ? 0 : CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        /* The trail is read through the writer: the session's client is busy scanning. */
        as_ddb_client *scanner = b->session->client;
        b->session->client = b->writer;
        rc = cli_fetch_trail(b->session, key.data, AS_TIME_MIN, read_ms, trail, NULL, b->message);
        b->session->client = scanner;
        if (rc != 0) {
            b->rc = rc;
        }
    }
    if (rc == 0 && as_trail_replay(trail, (as_span){key.data, key.len}, read_ms, replay, &err) !=
                       AS_OK) {
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        *shows = as_replay_matches(replay, image);
    } else if (b->rc == 0) {
        snprintf(b->message, sizeof b->message, "%s",
                 err.message[0] != '\0' ? err.message : "out of memory replaying a trail");
        b->rc = rc;
    }
    as_buf_free(&key);
    as_replay_free(replay);
    as_trail_free(trail);
    as_wire_items_free(item);
    return rc;
}

static bool write_pending(backfill *b)
{
    if (b->pending_count == 0) {
        return true;
    }
    as_span *items = calloc(b->pending_count, sizeof *items);
    as_ddb_result *results = calloc(b->pending_count, sizeof *results);
    as_error err = {0};
    bool ok = items != NULL && results != NULL;
    if (!ok) {
        stop(b, CLI_EXIT_FAILED, "out of memory writing BASELINE items");
    }
    for (size_t i = 0; ok && i < b->pending_count; i++) {
        items[i] = (as_span){b->pending.data + b->offsets[i], b->offsets[i + 1] - b->offsets[i]};
    }
    if (ok && as_ddb_put_items_if_absent(b->writer, &b->session->credentials,
                                         b->options->audit_table, items, b->pending_count, 0,
                                         results, NULL, &err) != AS_OK) {
        ok = stop(b, err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE, err.message);
    }
    for (size_t i = 0; ok && i < b->pending_count; i++) {
        if (results[i].outcome == AS_DDB_WRITTEN) {
            b->written++;
        } else if (results[i].outcome == AS_DDB_ALREADY_THERE) {
            b->unchanged++;
        } else {
            as_ddb_error_kind kind = as_ddb_error_kind_of(&results[i]);
            if (kind == AS_DDB_KIND_DENIED || kind == AS_DDB_KIND_NOT_FOUND ||
                kind == AS_DDB_KIND_CONNECTION) {
                /* No other item would fare better: say why once, and stop. */
                b->rc = cli_session_failure(b->session, "PutItem", b->options->audit_table,
                                            "--audit-table or AUDIT_TABLE", &results[i],
                                            b->message);
                ok = false;
                break;
            }
            char why[AS_DDB_ERROR_TYPE_MAX + AS_DDB_MESSAGE_MAX + 4];
            snprintf(why, sizeof why, "%s: %s", results[i].error_type, results[i].message);
            item_failed(b, "PutItem", why);
        }
    }
    free(items);
    free(results);
    b->pending_count = 0;
    as_buf_clear(&b->pending);
    return ok;
}

/* Builds the BASELINE item of `item` as read at `read_ms` into b->built. 0, 1 when the item
 * cannot have one (counted and named as failed), or -1 when the backfill must stop. */
static int build(backfill *b, const as_value *item, int64_t read_ms, as_span *json)
{
    as_error err = {0};
    as_baseline baseline = {
        .item = item,
        .key_names = b->key_names,
        .key_count = b->key_count,
        .table = as_span_from_cstr(cli_table_name(b->options->source_table)),
        .read_ms = read_ms,
    };
    as_items_clear(b->built);
    if (as_audit_build_baseline(&baseline, &b->audit, b->built, &err) != AS_OK) {
        if (err.code == AS_ERR_NOMEM) {
            stop(b, CLI_EXIT_FAILED, err.message);
            return -1;
        }
        item_failed(b, "an item", err.message);
        return 1;
    }
    *json = as_items_get(b->built, 0).json;
    return 0;
}

/* {"<hash key>":<value>,"<range key>":<value>} of `item`, for GetItem. */
static bool key_of(const backfill *b, const as_value *item, as_buf *key)
{
    as_buf_clear(key);
    as_buf_append_char(key, '{');
    for (size_t i = 0; i < b->key_count; i++) {
        const as_value *v = as_wire_member(item, b->key_names[i].ptr, b->key_names[i].len);
        if (v == NULL || v->wire.len == 0) {
            return false;
        }
        as_buf_append_str(key, i > 0 ? ",\"" : "\"");
        as_buf_append_json_escaped(key, b->key_names[i].ptr, b->key_names[i].len);
        as_buf_append_str(key, "\":");
        as_buf_append_span(key, v->wire);
    }
    as_buf_append_char(key, '}');
    return as_buf_status(key) == AS_OK;
}

/* One scanned item. The page may have been read well before it is handed over (pages of
 * other segments are served first, each item costs a Query), so the Scan's copy only
 * answers "is the trail already right?". When it is not, the item is read again,
 * consistently, between two readings of the clock, and that copy and time are what the
 * BASELINE holds: a change the stream times within that one round trip is the only one
 * that can still fall on the wrong side of it. False when the backfill must stop. */
static bool backfill_item(backfill *b, const as_value *scanned, int64_t handed_ms)
{
    as_span json;
    int rc = build(b, scanned, handed_ms, &json);
    bool shows = false;
    if (rc != 0) {
        return rc > 0;
    }
    if (trail_shows(b, json, handed_ms, &shows) != 0) {
        return false;
    }
    if (shows) {
        b->unchanged++;
        return true;
    }
    if (b->no_get) {
        return queue(b, json) || stop(b, CLI_EXIT_FAILED, "out of memory holding BASELINE items");
    }
    as_buf key = AS_BUF_INIT, answer = AS_BUF_INIT;
    as_wire_items *fresh = NULL;
    as_ddb_result result;
    memset(&result, 0, sizeof result);
    as_error err = {0};
    bool found = false, go_on = true;
    if (!key_of(b, scanned, &key)) {
        item_failed(b, "an item", "its key attributes are not all there");
        as_buf_free(&key);
        return true;
    }
    if (as_ddb_get_item(b->writer, &b->session->credentials, b->options->source_table,
                        (as_span){key.data, key.len}, NULL, (as_span){NULL, 0}, true, 0, &answer,
                        &found, &result, NULL, &err) != AS_OK) {
        go_on = stop(b, err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE, err.message);
    } else if (result.outcome != AS_DDB_ANSWERED && as_ddb_error_kind_of(&result) == AS_DDB_KIND_DENIED &&
               strncmp(result.error_type, "AccessDenied", 12) == 0) {
        /* A policy that grants Scan but not GetItem: carry on with the Scan's copies, which
         * changes made during the backfill may have made stale, and say so once. */
        b->no_get = true;
        cli_progress_clear(&b->progress);
        fprintf(b->errors,
                "auditstream: backfill: dynamodb:GetItem on table \"%s\" is denied: the Scan's "
                "copies are written, which changes made meanwhile may have made stale (grant "
                "GetItem on the source table to avoid it)\n",
                b->options->source_table);
        as_buf_free(&key);
        as_buf_free(&answer);
        return queue(b, json) || stop(b, CLI_EXIT_FAILED, "out of memory holding BASELINE items");
    } else if (result.outcome != AS_DDB_ANSWERED) {
        b->rc = cli_session_failure(b->session, "GetItem", b->options->source_table,
                                    "--table or AUDIT_SOURCE_TABLE", &result, b->message);
        go_on = false;
    }
    int64_t read_ms = cli_now_ms();
    if (go_on && !found) {
        b->unchanged++; /* deleted since the Scan: its trail has the DELETE, or will */
    } else if (go_on && as_wire_decode(answer.data, answer.len, AS_WIRE_GET, &fresh, &err) != AS_OK) {
        go_on = stop(b, CLI_EXIT_FAILED, err.message);
    } else if (go_on) {
        rc = build(b, as_wire_item(fresh, 0), read_ms, &json);
        if (rc < 0 || (rc == 0 && trail_shows(b, json, read_ms, &shows) != 0)) {
            go_on = false;
        } else if (rc == 0 && shows) {
            b->unchanged++;
        } else if (rc == 0 && !queue(b, json)) {
            go_on = stop(b, CLI_EXIT_FAILED, "out of memory holding BASELINE items");
        }
    }
    as_wire_items_free(fresh);
    as_buf_free(&answer);
    as_buf_free(&key);
    return go_on;
}

static bool on_page(const as_ddb_page *page, void *ctx)
{
    backfill *b = ctx;
    int64_t handed_ms = cli_now_ms();
    as_wire_items *items = NULL;
    as_error err = {0};
    if (as_wire_decode(page->body.ptr, page->body.len, AS_WIRE_PAGE, &items, &err) != AS_OK) {
        return stop(b, CLI_EXIT_FAILED, err.message);
    }
    bool go_on = true;
    for (size_t i = 0; go_on && i < as_wire_item_count(items); i++) {
        b->scanned++;
        go_on = backfill_item(b, as_wire_item(items, i), handed_ms);
        cli_progress_update(&b->progress, b->scanned, b->written, b->failed);
    }
    as_wire_items_free(items);
    if (go_on) {
        go_on = write_pending(b);
    }
    cli_progress_update(&b->progress, b->scanned, b->written, b->failed);
    return go_on;
}

/* The function's AUDIT_* settings, read as the function reads them (AUDIT_TABLE being
 * the audit table this command writes to). */
typedef struct config_env {
    cli_session *session;
    const char *audit_table;
} config_env;

static const char *config_getenv(const char *name, void *ctx)
{
    const config_env *e = ctx;
    if (strcmp(name, "AUDIT_TABLE") == 0) {
        return e->audit_table;
    }
    if (strcmp(name, "target_table") == 0) {
        return NULL;
    }
    return cli_session_getenv(name, e->session);
}

static int scan(backfill *b, uint64_t expected)
{
    uint32_t segments = b->options->segments;
    as_ddb_result *results = calloc(segments, sizeof *results);
    if (results == NULL) {
        stop(b, CLI_EXIT_FAILED, "out of memory starting the Scan");
        return b->rc;
    }
    as_ddb_scan request;
    memset(&request, 0, sizeof request);
    request.table = b->options->source_table;
    request.segments = segments;
    as_error err = {0};
    cli_progress_start(&b->progress, expected);
    as_status status = as_ddb_scan_pages(b->session->client, &b->session->credentials, &request,
                                         on_page, b, results, NULL, &err);
    if (b->rc == 0 && status == AS_OK) {
        /* The pages written before a stop still count; a stop here says why. */
        b->rc = write_pending(b) ? 0 : b->rc;
    }
    cli_progress_finish(&b->progress, b->scanned, b->written, b->failed);
    if (b->rc == 0 && status != AS_OK) {
        stop(b, err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE, err.message);
    }
    for (uint32_t i = 0; b->rc == 0 && i < segments; i++) {
        if (results[i].outcome != AS_DDB_ANSWERED) {
            b->rc = cli_session_failure(b->session, "Scan", request.table,
                                        "--table or AUDIT_SOURCE_TABLE", &results[i], b->message);
        }
    }
    free(results);
    return b->rc;
}

static void report(const backfill *b, bool json, as_buf *out)
{
    char line[256];
    if (json) {
        snprintf(line, sizeof line, "{\"scanned\":%llu,\"written\":%llu,\"failed\":%llu}\n",
                 (unsigned long long)b->scanned, (unsigned long long)b->written,
                 (unsigned long long)b->failed);
    } else {
        snprintf(line, sizeof line,
                 "SCANNED  WRITTEN  UNCHANGED  FAILED\n%-7llu  %-7llu  %-9llu  %llu\n",
                 (unsigned long long)b->scanned, (unsigned long long)b->written,
                 (unsigned long long)b->unchanged, (unsigned long long)b->failed);
    }
    as_buf_append_str(out, line);
}

int cli_backfill(const cli_options *o, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
                 FILE *progress, bool is_terminal, char message[CLI_MESSAGE_MAX])
{
    cli_session s;
    backfill b;
    memset(&b, 0, sizeof b);
    b.session = &s;
    b.options = o;
    b.errors = progress;
    cli_progress_init(&b.progress, progress, is_terminal);
    as_ddb_table_info source, audit;
    memset(&source, 0, sizeof source);
    memset(&audit, 0, sizeof audit);
    as_config config;
    as_error err = {0};
    uint32_t connections = o->segments < AS_DDB_MAX_CONCURRENCY ? o->segments
                                                                : AS_DDB_MAX_CONCURRENCY;
    int rc = cli_session_open(&s, o, getenv_fn, ctx, connections, message);
    if (rc == 0) {
        config_env env = {&s, o->audit_table};
        if (as_config_from_env(config_getenv, &env, &config, &err) != AS_OK) {
            snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
            rc = err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
        }
    }
    if (rc == 0) {
        rc = cli_describe(&s, o->source_table, "--table or AUDIT_SOURCE_TABLE", false, &source,
                          message);
    }
    if (rc == 0) {
        rc = cli_describe(&s, o->audit_table, "--audit-table or AUDIT_TABLE", true, &audit,
                          message);
    }
    if (rc == 0) {
        rc = cli_session_client(&s, AS_DDB_DEFAULT_CONCURRENCY, &b.writer, message);
    }
    if (rc == 0) {
        b.audit.format = config.format;
        b.audit.ignore = config.ignore;
        b.audit.ignore_count = config.ignore_count;
        b.key_names[b.key_count++] = as_span_from_cstr(source.keys.hash_name);
        if (source.keys.range_name[0] != '\0') {
            b.key_names[b.key_count++] = as_span_from_cstr(source.keys.range_name);
        }
        b.built = as_items_new();
        if (b.built == NULL) {
            snprintf(message, CLI_MESSAGE_MAX, "out of memory");
            rc = CLI_EXIT_FAILED;
        }
    }
    if (rc == 0) {
        rc = scan(&b, source.item_count);
        if (rc != 0) {
            snprintf(message, CLI_MESSAGE_MAX, "%s", b.message);
        }
    }
    if (rc == 0) {
        report(&b, o->json, out);
        if (b.failed > FAILURES_SHOWN) {
            fprintf(progress, "auditstream: backfill: %llu more items failed\n",
                    (unsigned long long)(b.failed - FAILURES_SHOWN));
        }
        rc = b.failed > 0 ? CLI_EXIT_FAILED : 0;
    }
    as_items_free(b.built);
    as_buf_free(&b.pending);
    free(b.offsets);
    as_ddb_client_free(b.writer);
    as_ddb_table_info_free(&source);
    as_ddb_table_info_free(&audit);
    cli_session_close(&s);
    return rc;
}
