/* auditstream history KEY: the item's records read through the history index and shown a
 * change a line (or as the library's JSON lines). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/replay.h"
#include "commands.h"
#include "plain.h"
#include "session.h"
#include "table.h"

enum { COL_TIME, COL_SEQUENCE, COL_EVENT, COL_ACTOR, COL_PATH, COL_OLD, COL_NEW };

static bool set_plain(cli_table *t, size_t column, as_span wire, as_buf *scratch)
{
    if (wire.len == 0) {
        return cli_table_set_str(t, column, "-");
    }
    as_buf_clear(scratch);
    if (cli_plain_wire(wire, scratch) != AS_OK) {
        return false;
    }
    return cli_table_set(t, column, scratch->data, scratch->len);
}

/* One row per change; the record's own columns on its first row only. */
static bool add_record(cli_table *t, const as_history *h, size_t index, bool with_actor,
                       as_buf *scratch)
{
    as_history_record r;
    if (!as_history_get(h, index, &r)) {
        return false;
    }
    size_t shift = with_actor ? 0 : 1; /* the columns after ACTOR move left without it */
    size_t rows = r.change_count > 0 ? r.change_count : 1;
    for (size_t c = 0; c < rows; c++) {
        if (!cli_table_row(t)) {
            return false;
        }
        bool ok = true;
        if (c == 0) {
            ok = cli_table_set(t, COL_TIME, r.modification_time.ptr, r.modification_time.len) &&
                 (r.sequence_number.len > 0
                      ? cli_table_set(t, COL_SEQUENCE, r.sequence_number.ptr, r.sequence_number.len)
                      : cli_table_set_str(t, COL_SEQUENCE, "-")) &&
                 (r.event_name.len > 0
                      ? cli_table_set(t, COL_EVENT, r.event_name.ptr, r.event_name.len)
                      : cli_table_set_str(t, COL_EVENT, "ERROR")) &&
                 (!with_actor || r.actor.len == 0 ||
                  cli_table_set(t, COL_ACTOR, r.actor.ptr, r.actor.len));
        }
        as_history_change change;
        if (ok && r.change_count > 0 && as_history_change_get(h, index, c, &change)) {
            ok = cli_table_set(t, COL_PATH - shift, change.path.ptr, change.path.len) &&
                 set_plain(t, COL_OLD - shift, change.old_value, scratch) &&
                 set_plain(t, COL_NEW - shift, change.new_value, scratch);
        } else if (ok && r.error.len > 0) {
            /* The reason is too long for a cell: it follows the table, whole. */
            ok = cli_table_set_str(t, COL_PATH - shift, "(error item: see below)");
        } else if (ok) {
            ok = cli_table_set_str(t, COL_PATH - shift, "(no change recorded)");
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

static int render(const as_history *h, const char *key, size_t fit, as_buf *out,
                  char message[CLI_MESSAGE_MAX])
{
    size_t count = as_history_count(h);
    bool with_actor = false;
    for (size_t i = 0; i < count; i++) {
        as_history_record r;
        with_actor = with_actor || (as_history_get(h, i, &r) && r.actor.len > 0);
    }
    static const char *const all_headers[] = {"TIME (UTC)", "SEQUENCE", "EVENT", "ACTOR",
                                              "PATH",       "OLD",      "NEW"};
    /* Time, sequence number and event are never cut; the rest give way to a narrow terminal. */
    static const size_t all_widths[] = {0, 0, 0, 24, 40, 36, 36};
    const char *headers[7];
    size_t widths[7];
    size_t n = 0;
    for (size_t i = 0; i < 7; i++) {
        if (i != COL_ACTOR || with_actor) {
            headers[n] = all_headers[i];
            widths[n++] = all_widths[i];
        }
    }
    char title[CLI_MESSAGE_MAX];
    snprintf(title, sizeof title, "history of %s: %zu record%s\n", key, count,
             count == 1 ? "" : "s");
    as_buf_append_str(out, title);
    if (count == 0) {
        as_buf_append_str(out, "(no audit item for this key in the trail read)\n");
        return 0;
    }
    cli_table *t = cli_table_new(n, headers, widths);
    as_buf scratch = AS_BUF_INIT;
    bool ok = t != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        ok = add_record(t, h, i, with_actor, &scratch);
    }
    if (ok) {
        cli_table_fit(t, fit);
        cli_table_render(t, out);
    }
    for (size_t i = 0; ok && i < count; i++) {
        as_history_record r;
        if (as_history_get(h, i, &r) && r.error.len > 0) {
            as_buf_append_str(out, "error item of record ");
            if (r.sequence_number.len > 0) {
                as_buf_append_span(out, r.sequence_number);
                as_buf_append_str(out, " at ");
            }
            as_buf_append_span(out, r.modification_time);
            as_buf_append_str(out, ": ");
            cli_cell_text(r.error.ptr, r.error.len, 0, out);
            as_buf_append_char(out, '\n');
        }
    }
    cli_table_free(t);
    as_buf_free(&scratch);
    if (!ok) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory laying out the history");
        return CLI_EXIT_FAILED;
    }
    return 0;
}

int cli_history(const cli_options *o, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
                char message[CLI_MESSAGE_MAX])
{
    int64_t since = o->has_since ? o->since_ms : AS_TIME_MIN;
    int64_t until = o->has_until ? o->until_ms : AS_TIME_MAX;
    cli_key_trail kt;
    int rc = cli_key_trail_open(&kt, o, getenv_fn, ctx, since, until, message);
    const char *key = kt.key;
    as_history *history = NULL;
    if (rc == 0 && (history = as_history_new()) == NULL) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory reading the trail");
        rc = CLI_EXIT_FAILED;
    }
    as_error err = {0};
    if (rc == 0 &&
        as_trail_history(kt.trail, as_span_from_cstr(key), since, until, history, &err) != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0 && o->json) {
        if (as_history_write_json(history, out, &err) != AS_OK) {
            snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
            rc = CLI_EXIT_FAILED;
        }
    } else if (rc == 0) {
        rc = render(history, key, o->width, out, message);
    }
    as_history_free(history);
    cli_key_trail_close(&kt);
    return rc;
}
