/* auditstream verify [KEY ...] [--all]: each key's trail (the KEYs', or every key a Scan
 * of the audit table finds) read through the history index and checked by the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/replay.h"
#include "auditstream/wire.h"
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

/* Reads one key's whole trail and verifies it, appending its line or rows. */
static int verify_key(cli_session *s, const char *key, bool json, as_buf *out, cli_table *t,
                      totals *sum, char message[CLI_MESSAGE_MAX])
{
    as_trail *trail = as_trail_new();
    as_verify *v = as_verify_new();
    as_error err = {0};
    int rc = 0;
    if (trail == NULL || v == NULL) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory verifying");
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        rc = cli_fetch_trail(s, NULL, key, AS_TIME_MIN, AS_TIME_MAX, trail, NULL, message);
    }
    as_span k = as_span_from_cstr(key);
    if (rc == 0 && (as_trail_verify(trail, k, v, &err) != AS_OK ||
                    (json && as_verify_write_json(v, out, &err) != AS_OK))) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0 && !json && !add_key_rows(t, k, v)) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory laying out the result");
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        sum->keys++;
        sum->entries += as_verify_entries(v);
        sum->ok = sum->ok && as_verify_ok(v);
    }
    as_verify_free(v);
    as_trail_free(trail);
    return rc;
}

/* The distinct historyKeys of the audit table (decoded), gathered by a Scan that reads
 * nothing else: each key's trail is then read through the index on its own, so that
 * memory holds one trail at a time, not the table. */
typedef struct key_set {
    char **keys;
    size_t count;
    size_t cap;
    size_t unique; /* keys[0..unique) are sorted and distinct */
    as_error err;
    bool failed;
} key_set;

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dedupe(key_set *k)
{
    if (k->count == 0) {
        return;
    }
    qsort(k->keys, k->count, sizeof *k->keys, compare_keys);
    size_t kept = 1;
    for (size_t i = 1; i < k->count; i++) {
        if (strcmp(k->keys[i], k->keys[kept - 1]) == 0) {
            free(k->keys[i]);
        } else {
            k->keys[kept++] = k->keys[i];
        }
    }
    k->count = kept;
    k->unique = kept;
}

static bool add_key(key_set *k, const as_value *hk)
{
    if (k->count == k->cap) {
        size_t cap = k->cap == 0 ? 256 : k->cap * 2;
        char **grown = realloc(k->keys, cap * sizeof *grown);
        if (grown == NULL) {
            return false;
        }
        k->keys = grown;
        k->cap = cap;
    }
    as_buf key = AS_BUF_INIT;
    as_json_unescape(hk->text, &key);
    bool ok = as_buf_status(&key) == AS_OK;
    if (!ok || key.data == NULL) {
        as_buf_free(&key);
        return ok; /* an empty key names no trail */
    }
    k->keys[k->count++] = key.data; /* NUL-terminated; the set owns it now */
    return true;
}

static bool collect_keys(const as_ddb_page *page, void *ctx)
{
    key_set *k = ctx;
    as_wire_items *items = NULL;
    if (as_wire_decode(page->body.ptr, page->body.len, AS_WIRE_PAGE, &items, &k->err) != AS_OK) {
        k->failed = true;
        return false;
    }
    for (size_t i = 0; i < as_wire_item_count(items); i++) {
        /* Chain heads and the error items of unsound keys have none: no trail to verify. */
        const as_value *hk = as_wire_attribute(as_wire_item(items, i), "historyKey");
        if (hk != NULL && hk->type == AS_TYPE_S && !add_key(k, hk)) {
            snprintf(k->err.message, sizeof k->err.message, "out of memory gathering keys");
            k->err.code = AS_ERR_NOMEM;
            k->failed = true;
            break;
        }
    }
    as_wire_items_free(items);
    if (!k->failed && k->count > 2 * k->unique + 4096) {
        dedupe(k); /* every item repeats its key: keep the list near the number of keys */
    }
    return !k->failed;
}

static void key_set_free(key_set *k)
{
    for (size_t i = 0; i < k->count; i++) {
        free(k->keys[i]);
    }
    free(k->keys);
    memset(k, 0, sizeof *k);
}

/* Every historyKey of the audit table, sorted, into `keys`. */
static int scan_keys(cli_session *s, key_set *keys, char message[CLI_MESSAGE_MAX])
{
    enum { SEGMENTS = 4 };
    as_ddb_scan scan;
    memset(&scan, 0, sizeof scan);
    scan.table = s->options->audit_table;
    scan.segments = SEGMENTS;
    scan.projection = "historyKey";
    as_ddb_result results[SEGMENTS];
    memset(results, 0, sizeof results);
    as_error err = {0};
    if (as_ddb_scan_pages(s->client, &s->credentials, &scan, collect_keys, keys, results, NULL,
                          &err) != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        return err.code == AS_ERR_NOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
    }
    if (keys->failed) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", keys->err.message);
        return CLI_EXIT_FAILED;
    }
    for (size_t i = 0; i < SEGMENTS; i++) {
        if (results[i].outcome != AS_DDB_ANSWERED) {
            return cli_session_failure(s, "Scan", scan.table, "--audit-table or AUDIT_TABLE",
                                       &results[i], message);
        }
    }
    dedupe(keys);
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
    cli_table *t = o->json ? NULL : cli_table_new(6, headers, widths);
    key_set keys;
    memset(&keys, 0, sizeof keys);
    totals sum = {0, 0, true};
    int rc = cli_session_open(&s, o, getenv_fn, ctx, 4, message);
    if (rc == 0 && !o->json && t == NULL) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory");
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0) {
        rc = cli_describe(&s, o->audit_table, "--audit-table or AUDIT_TABLE", true, &info, message);
    }
    if (rc == 0 && o->all) {
        rc = scan_keys(&s, &keys, message);
    }
    for (size_t i = 0; rc == 0 && i < (o->all ? keys.count : o->key_count); i++) {
        char *key = o->all ? keys.keys[i] : cli_history_key(o, o->keys[i]);
        if (key == NULL) {
            snprintf(message, CLI_MESSAGE_MAX, "out of memory reading the trail");
            rc = CLI_EXIT_FAILED;
            break;
        }
        rc = verify_key(&s, key, o->json, out, t, &sum, message);
        if (!o->all) {
            free(key);
        }
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
    key_set_free(&keys);
    cli_table_free(t);
    as_ddb_table_info_free(&info);
    cli_session_close(&s);
    return rc;
}
