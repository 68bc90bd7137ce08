/* auditstream verify [KEY ...] [--all]: each key's trail (read through the history index,
 * or the whole audit table scanned) checked for continuity by the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/replay.h"
#include "commands.h"
#include "session.h"
#include "table.h"

typedef struct totals {
    size_t keys;
    size_t entries;
    bool ok;
} totals;

static bool add_key_rows(cli_table *t, as_span key, const as_verify *v)
{
    char entries[32];
    snprintf(entries, sizeof entries, "%zu", as_verify_entries(v));
    size_t problems = as_verify_problem_count(v);
    size_t rows = problems > 0 ? problems : 1;
    for (size_t i = 0; i < rows; i++) {
        if (!cli_table_row(t)) {
            return false;
        }
        if (i == 0 && !(cli_table_set(t, 0, key.ptr, key.len) && cli_table_set_str(t, 1, entries) &&
                        cli_table_set_str(t, 2, as_verify_ok(v) ? "ok" : "NOT OK"))) {
            return false;
        }
        as_problem p;
        if (problems > 0 && as_verify_problem_get(v, i, &p)) {
            if (!(cli_table_set_str(t, 3, p.kind) &&
                  cli_table_set_str(t, 4, p.sequence_number[0] != '\0' ? p.sequence_number : "-") &&
                  cli_table_set_str(t, 5, p.detail))) {
                return false;
            }
        } else if (as_verify_entries(v) == 0 &&
                   !cli_table_set_str(t, 5, "no audit item for this key")) {
            return false;
        }
    }
    return true;
}

/* Verifies every key of `keys` (or all the trail holds when `keys` is NULL), appending
 * lines or rows. */
static int verify_keys(as_trail *trail, const char *const *keys, size_t key_count, bool json,
                       as_buf *out, cli_table *t, totals *sum, char message[CLI_MESSAGE_MAX])
{
    as_verify *v = as_verify_new();
    as_error err = {0};
    int rc = v != NULL ? 0 : CLI_EXIT_FAILED;
    size_t count = keys != NULL ? key_count : as_trail_key_count(trail);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        as_span key = keys != NULL ? as_span_from_cstr(keys[i]) : as_trail_key(trail, i);
        if (as_trail_verify(trail, key, v, &err) != AS_OK ||
            (json && as_verify_write_json(v, out, &err) != AS_OK)) {
            rc = CLI_EXIT_FAILED;
            break;
        }
        if (!json && !add_key_rows(t, key, v)) {
            rc = CLI_EXIT_FAILED;
            break;
        }
        sum->keys++;
        sum->entries += as_verify_entries(v);
        sum->ok = sum->ok && as_verify_ok(v);
    }
    if (rc != 0) {
        snprintf(message, CLI_MESSAGE_MAX, "%s",
                 v == NULL ? "out of memory verifying" : err.message);
    }
    as_verify_free(v);
    return rc;
}

typedef struct scan_fill {
    as_trail *trail;
    as_error err;
    bool failed;
} scan_fill;

static bool add_page(const as_ddb_page *page, void *ctx)
{
    scan_fill *f = ctx;
    if (as_trail_add_json(f->trail, page->body.ptr, page->body.len, &f->err) != AS_OK) {
        f->failed = true;
        return false;
    }
    return true;
}

/* The whole audit table into `trail`. */
static int scan_all(cli_session *s, as_trail *trail, char message[CLI_MESSAGE_MAX])
{
    enum { SEGMENTS = 4 };
    as_ddb_scan scan;
    memset(&scan, 0, sizeof scan);
    scan.table = s->options->audit_table;
    scan.segments = SEGMENTS;
    as_ddb_result results[SEGMENTS];
    memset(results, 0, sizeof results);
    scan_fill f;
    memset(&f, 0, sizeof f);
    f.trail = trail;
    as_error err = {0};
    if (as_ddb_scan_pages(s->client, &s->credentials, &scan, add_page, &f, results, NULL, &err) !=
        AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        return err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
    }
    if (f.failed) {
        snprintf(message, CLI_MESSAGE_MAX,
                 "table \"%s\" holds an item that is not an audit item: %s", scan.table,
                 f.err.message);
        return CLI_EXIT_FAILED;
    }
    for (size_t i = 0; i < SEGMENTS; i++) {
        if (results[i].outcome != AS_DDB_ANSWERED) {
            return cli_session_failure(s, "Scan", scan.table, "--audit-table or AUDIT_TABLE",
                                       &results[i], message);
        }
    }
    return 0;
}

int cli_verify(const cli_options *o, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
               char message[CLI_MESSAGE_MAX])
{
    static const char *const headers[] = {"KEY",     "ENTRIES",  "RESULT",
                                          "PROBLEM", "SEQUENCE", "DETAIL"};
    static const size_t widths[] = {48, 0, 0, 12, 0, 80};
    cli_session s;
    as_ddb_table_info info;
    memset(&info, 0, sizeof info);
    as_trail *trail = as_trail_new();
    cli_table *t = o->json ? NULL : cli_table_new(6, headers, widths);
    char **keys = calloc(o->key_count > 0 ? o->key_count : 1, sizeof *keys);
    totals sum = {0, 0, true};
    int rc = cli_session_open(&s, o, getenv_fn, ctx, 4, message);
    if (rc == 0 && (trail == NULL || keys == NULL || (!o->json && t == NULL))) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory reading the trail");
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        rc = cli_describe(&s, o->audit_table, "--audit-table or AUDIT_TABLE", !o->all, &info,
                          message);
    }
    if (rc == 0 && o->all) {
        rc = scan_all(&s, trail, message);
    }
    for (size_t i = 0; rc == 0 && !o->all && i < o->key_count; i++) {
        keys[i] = cli_history_key(o, o->keys[i]);
        if (keys[i] == NULL) {
            snprintf(message, CLI_MESSAGE_MAX, "out of memory reading the trail");
            rc = CLI_EXIT_FAILED;
        } else {
            rc = cli_fetch_trail(&s, NULL, keys[i], AS_TIME_MIN, AS_TIME_MAX, trail, NULL, message);
        }
    }
    if (rc == 0) {
        rc = verify_keys(trail, o->all ? NULL : (const char *const *)keys, o->key_count, o->json,
                         out, t, &sum, message);
    }
    as_error err = {0};
    if (rc == 0 && o->json &&
        as_verify_write_summary_json(sum.keys, sum.entries, sum.ok, out, &err) != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        rc = CLI_EXIT_FAILED;
    } else if (rc == 0 && !o->json) {
        cli_table_fit(t, o->width);
        cli_table_render(t, out);
        char line[128];
        snprintf(line, sizeof line, "%zu key%s, %zu entr%s: %s\n", sum.keys,
                 sum.keys == 1 ? "" : "s", sum.entries, sum.entries == 1 ? "y" : "ies",
                 sum.ok ? "ok" : "NOT OK (a change is missing from the trail)");
        as_buf_append_str(out, line);
    }
    if (rc == 0 && !sum.ok) {
        rc = CLI_EXIT_FAILED;
    }
    for (size_t i = 0; keys != NULL && i < o->key_count; i++) {
        free(keys[i]);
    }
    free(keys);
    cli_table_free(t);
    as_trail_free(trail);
    as_ddb_table_info_free(&info);
    cli_session_close(&s);
    return rc;
}
