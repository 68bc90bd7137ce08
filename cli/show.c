/* auditstream show KEY [--at T]: the item's trail up to T replayed by the library, shown
 * as a few facts and an attribute a line (or as the library's JSON line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/replay.h"
#include "commands.h"
#include "plain.h"
#include "session.h"
#include "table.h"

static const char *exists_text(as_exists exists)
{
    switch (exists) {
    case AS_EXISTS_YES: return "yes";
    case AS_EXISTS_NO: return "no (deleted)";
    default: return "unknown";
    }
}

static bool fact(cli_table *t, const char *name, const char *value, size_t len)
{
    return cli_table_row(t) && cli_table_set_str(t, 0, name) && cli_table_set(t, 1, value, len);
}

static int render(const as_replay *r, const char *key, int64_t at_ms, size_t fit, as_buf *out,
                  char message[CLI_MESSAGE_MAX])
{
    static const char *const fact_headers[] = {"FIELD", "VALUE"};
    static const size_t fact_widths[] = {0, 100};
    static const char *const attr_headers[] = {"ATTRIBUTE", "VALUE"};
    static const size_t attr_widths[] = {32, 80};
    char at[25];
    as_replay_time_format(at_ms, at);
    char last[160] = "none";
    as_span seq = {0}, when = {0};
    if (as_replay_last_change(r, &seq, &when, NULL)) {
        snprintf(last, sizeof last, "%.*s%s%.*s", (int)when.len, when.ptr,
                 seq.len > 0 ? ", sequence " : " (BASELINE)", (int)seq.len,
                 seq.ptr != NULL ? seq.ptr : "");
    }
    const char *complete = as_replay_exists(r) == AS_EXISTS_UNKNOWN ? "-"
                           : as_replay_complete(r)                  ? "yes"
                                                   : "no: only the attributes below are known";
    cli_table *facts = cli_table_new(2, fact_headers, fact_widths);
    cli_table *attrs = cli_table_new(2, attr_headers, attr_widths);
    as_buf value = AS_BUF_INIT;
    const char *ex = exists_text(as_replay_exists(r));
    bool ok = facts != NULL && attrs != NULL && fact(facts, "key", key, strlen(key)) &&
              fact(facts, "at (UTC)", at, 24) && fact(facts, "exists", ex, strlen(ex)) &&
              fact(facts, "complete", complete, strlen(complete)) &&
              fact(facts, "last change", last, strlen(last));
    for (size_t i = 0; ok && i < as_replay_note_count(r); i++) {
        const char *note = as_replay_note(r, i);
        ok = fact(facts, "note", note, strlen(note));
    }
    size_t count = as_replay_attribute_count(r);
    for (size_t i = 0; ok && i < count; i++) {
        as_replay_attribute a = as_replay_attribute_get(r, i);
        as_buf_clear(&value);
        if (a.value != NULL) {
            cli_plain_value(a.value, &value);
        } else {
            as_buf_append_str(&value, "(absent)");
        }
        ok = as_buf_status(&value) == AS_OK && cli_table_row(attrs) &&
             cli_table_set(attrs, 0, a.name.ptr, a.name.len) &&
             cli_table_set(attrs, 1, value.data, value.len);
    }
    if (ok) {
        cli_table_fit(facts, fit);
        cli_table_fit(attrs, fit);
        cli_table_render(facts, out);
        if (count > 0) {
            as_buf_append_char(out, '\n');
            cli_table_render(attrs, out);
        }
    }
    cli_table_free(facts);
    cli_table_free(attrs);
    as_buf_free(&value);
    if (!ok) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory laying out the item");
        return CLI_EXIT_FAILED;
    }
    return 0;
}

int cli_show(const cli_options *o, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
             char message[CLI_MESSAGE_MAX])
{
    int64_t at = o->has_at ? o->at_ms : cli_now_ms();
    cli_key_trail kt;
    int rc = cli_key_trail_open(&kt, o, getenv_fn, ctx, AS_TIME_MIN, at, message);
    const char *key = kt.key;
    as_replay *replay = NULL;
    if (rc == 0 && (replay = as_replay_new()) == NULL) {
        snprintf(message, CLI_MESSAGE_MAX, "out of memory reading the trail");
        rc = CLI_EXIT_FAILED;
    }
    as_error err = {0};
    if (rc == 0 && as_trail_replay(kt.trail, as_span_from_cstr(key), at, replay, &err) != AS_OK) {
        snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0 && o->json) {
        if (as_replay_write_json(replay, out, &err) != AS_OK) {
            snprintf(message, CLI_MESSAGE_MAX, "%s", err.message);
            rc = CLI_EXIT_FAILED;
        }
    } else if (rc == 0) {
        rc = render(replay, key, at, o->width, out, message);
    }
    as_replay_free(replay);
    cli_key_trail_close(&kt);
    return rc;
}
