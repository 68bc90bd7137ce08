/* History: a key's records in a time window with their changes (JSON Pointer paths, old and
 * new values as wire JSON), copied out of the trail so that the result outlives it. */
#include <stdlib.h>
#include <string.h>

#include "auditstream/wire.h"
#include "core/json_text.h"
#include "core/replay.h"
#include "core/value_json.h"

#define LISTING "listing the history"

/* A string of the result: an offset into its text, or absent. */
typedef struct ref {
    size_t at;
    size_t len;
    bool set;
} ref;

typedef struct hist_record {
    ref time;
    int64_t ms;
    ref sequence;
    ref event;
    ref actor;
    ref error;
    size_t change_first;
    size_t change_count;
} hist_record;

typedef struct hist_change {
    ref path;
    ref old_value;
    ref new_value;
} hist_change;

struct as_history {
    as_buf text;
    hist_record *records;
    size_t count;
    size_t cap;
    hist_change *changes;
    size_t change_count;
    size_t change_cap;
    const as_value **scratch;
    size_t scratch_cap;
};

as_history *as_history_new(void)
{
    return calloc(1, sizeof(as_history));
}

void as_history_free(as_history *history)
{
    if (history == NULL) {
        return;
    }
    as_buf_free(&history->text);
    free(history->records);
    free(history->changes);
    free(history->scratch);
    free(history);
}

static ref keep_span(as_history *h, as_span bytes)
{
    ref r = {h->text.len, bytes.len, true};
    as_buf_append_span(&h->text, bytes);
    return r;
}

static ref keep_decoded(as_history *h, const as_value *s)
{
    ref r = {h->text.len, 0, true};
    as_json_append_unescaped(&h->text, s->text);
    r.len = h->text.len - r.at;
    return r;
}

static ref keep_wire(as_history *h, const as_value *v)
{
    if (v == NULL) {
        return (ref){0, 0, false};
    }
    ref r = {h->text.len, 0, true};
    as_value_append_wire(&h->text, v);
    r.len = h->text.len - r.at;
    return r;
}

/* Appends decoded `bytes` as one JSON Pointer reference token: '~' as ~0, '/' as ~1. */
static void append_token(as_buf *out, as_span body, bool escaped)
{
    as_json_reader reader = as_json_reader_of(body, escaped);
    const char *chunk;
    size_t n;
    while (as_json_reader_next(&reader, &chunk, &n)) {
        for (size_t i = 0; i < n; i++) {
            if (chunk[i] == '~') {
                as_buf_append(out, "~0", 2);
            } else if (chunk[i] == '/') {
                as_buf_append(out, "~1", 2);
            } else {
                as_buf_append_char(out, chunk[i]);
            }
        }
    }
}

static AS_RESULT new_change(as_history *h, hist_change **out, as_error *err)
{
    if (h->change_count == h->change_cap) {
        size_t cap = h->change_cap < 16 ? 16 : h->change_cap * 2;
        hist_change *changes = realloc(h->changes, cap * sizeof *changes);
        AS_ENSURE(changes != NULL, as_fail_nomem(err, LISTING));
        h->changes = changes;
        h->change_cap = cap;
    }
    *out = &h->changes[h->change_count++];
    memset(*out, 0, sizeof **out);
    h->records[h->count - 1].change_count++;
    return AS_RESULT_OK;
}

/* A change of one top-level attribute, `name` as the item has it. */
static AS_RESULT attribute_change(as_history *h, as_span name, bool escaped,
                                  const as_value *old_value, const as_value *new_value,
                                  as_error *err)
{
    hist_change *c;
    AS_GUARD(new_change(h, &c, err));
    c->path.at = h->text.len;
    c->path.set = true;
    as_buf_append_char(&h->text, '/');
    append_token(&h->text, name, escaped);
    c->path.len = h->text.len - c->path.at;
    c->old_value = keep_wire(h, old_value);
    c->new_value = keep_wire(h, new_value);
    return AS_RESULT_OK;
}

/* CREATE, BASELINE, DELETE: one change per top-level attribute of the image, on its side
 * (`is_new`). An image replaced by a truncated marker is one change of the whole item (""). */
static AS_RESULT image_changes(as_history *h, const as_value *image, bool is_new, as_error *err)
{
    if (image == NULL) {
        return AS_RESULT_OK;
    }
    if (as_replay_marker(image) != MARKER_NONE) {
        hist_change *c;
        AS_GUARD(new_change(h, &c, err));
        c->path = keep_span(h, (as_span){"", 0});
        if (is_new) {
            c->new_value = keep_wire(h, image);
        } else {
            c->old_value = keep_wire(h, image);
        }
        return AS_RESULT_OK;
    }
    size_t n = image->count;
    AS_GUARD(as_members_by_name(image, &h->scratch, &h->scratch_cap, LISTING, err));
    for (size_t i = 0; i < n; i++) {
        const as_value *m = h->scratch[i];
        bool escaped = (m->flags & AS_VALUE_NAME_ESCAPED) != 0;
        AS_GUARD(attribute_change(h, m->name, escaped, is_new ? NULL : m, is_new ? m : NULL, err));
    }
    return AS_RESULT_OK;
}

/* A detailed item's own `changes`. */
static AS_RESULT detailed_changes(as_history *h, const as_value *changes, as_error *err)
{
    if (changes == NULL) {
        return AS_RESULT_OK;
    }
    if (changes->type != AS_TYPE_L) {
        return image_changes(h, changes, true, err);
    }
    for (const as_value *m = changes + 1; m < changes + changes->subtree; m += m->subtree) {
        hist_change *c;
        AS_GUARD(new_change(h, &c, err));
        c->path = keep_decoded(h, as_wire_attribute(m, "path"));
        c->old_value = keep_wire(h, as_wire_attribute(m, "oldValue"));
        c->new_value = keep_wire(h, as_wire_attribute(m, "newValue"));
    }
    return AS_RESULT_OK;
}

static AS_RESULT record_changes(as_history *h, const trail_entry *entries, const trail_record *rec,
                                as_error *err)
{
    const trail_entry *head = rec->head;
    if (rec->error) {
        return AS_RESULT_OK;
    }
    if (head->detailed) {
        return detailed_changes(h, head->changes, err);
    }
    switch (rec->event) {
    case EVENT_CREATE:
    case EVENT_BASELINE: return image_changes(h, head->new_value, true, err);
    case EVENT_DELETE: return image_changes(h, head->old_value, false, err);
    case EVENT_UPDATE:
        for (size_t i = rec->begin; i < rec->end; i++) {
            const trail_entry *e = &entries[i];
            if (e->updated_attribute == NULL || as_trail_repeat(entries, rec->begin, i)) {
                continue;
            }
            AS_GUARD(attribute_change(h, e->updated_attribute->text,
                                      (e->updated_attribute->flags & AS_VALUE_TEXT_ESCAPED) != 0,
                                      e->old_value, e->new_value, err));
        }
        return AS_RESULT_OK;
    case EVENT_NONE:
    default: return AS_RESULT_OK;
    }
}

static AS_RESULT add_record(as_history *h, const trail_entry *entries, const trail_record *rec,
                            as_error *err)
{
    if (h->count == h->cap) {
        size_t cap = h->cap < 16 ? 16 : h->cap * 2;
        hist_record *records = realloc(h->records, cap * sizeof *records);
        AS_ENSURE(records != NULL, as_fail_nomem(err, LISTING));
        h->records = records;
        h->cap = cap;
    }
    hist_record *r = &h->records[h->count++];
    memset(r, 0, sizeof *r);
    r->time = keep_span(h, rec->time);
    r->ms = rec->head->time_ms;
    if (rec->sequence.ptr != NULL) {
        r->sequence = keep_span(h, rec->sequence);
    }
    const as_value *event = as_wire_attribute(rec->head->item, "eventName");
    if (event != NULL) {
        r->event = keep_decoded(h, event);
    }
    for (size_t i = rec->begin; i < rec->end; i++) {
        if (entries[i].actor != NULL && !r->actor.set) {
            r->actor = keep_decoded(h, entries[i].actor);
        }
        if (entries[i].error_text != NULL && !r->error.set) {
            r->error = keep_decoded(h, entries[i].error_text);
        }
    }
    r->change_first = h->change_count;
    AS_GUARD(record_changes(h, entries, rec, err));
    return as_buf_result(&h->text, err, LISTING);
}

static AS_RESULT history(as_trail *trail, as_span key, int64_t since_ms, int64_t until_ms,
                         as_history *h, as_error *err)
{
    as_buf_clear(&h->text);
    h->count = 0;
    h->change_count = 0;
    size_t begin;
    size_t end;
    if (!as_trail_find(trail, key, &begin, &end)) {
        return AS_RESULT_OK;
    }
    size_t count;
    const trail_entry *entries = as_trail_entries(trail, &count);
    for (size_t at = begin; at < end;) {
        trail_record rec = as_trail_record_at(entries, at, end);
        int64_t ms = rec.head->time_ms;
        if (ms > until_ms) {
            break;
        }
        if (ms >= since_ms) {
            AS_GUARD(add_record(h, entries, &rec, err));
        }
        at = rec.end;
    }
    return AS_RESULT_OK;
}

as_status as_trail_history(as_trail *trail, as_span history_key, int64_t since_ms, int64_t until_ms,
                           as_history *out, as_error *err)
{
    if (trail == NULL || out == NULL || (history_key.ptr == NULL && history_key.len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_trail_history: NULL argument"));
    }
    as_result result = history(trail, history_key, since_ms, until_ms, out, err);
    if (!as_result_is_ok(result)) {
        /* Nothing half-listed stays readable. */
        out->count = 0;
        out->change_count = 0;
    }
    return as_status_of(result);
}

size_t as_history_count(const as_history *history)
{
    return history != NULL ? history->count : 0;
}

static as_span span_of(const as_history *h, ref r)
{
    if (!r.set) {
        return (as_span){NULL, 0};
    }
    return (as_span){h->text.data != NULL ? h->text.data + r.at : "", r.len};
}

bool as_history_get(const as_history *history, size_t index, as_history_record *out)
{
    if (history == NULL || out == NULL || index >= history->count) {
        return false;
    }
    const hist_record *r = &history->records[index];
    out->modification_time = span_of(history, r->time);
    out->time_ms = r->ms;
    out->sequence_number = span_of(history, r->sequence);
    out->event_name = span_of(history, r->event);
    out->actor = span_of(history, r->actor);
    out->error = span_of(history, r->error);
    out->change_count = r->change_count;
    return true;
}

bool as_history_change_get(const as_history *history, size_t record, size_t index,
                           as_history_change *out)
{
    if (history == NULL || out == NULL || record >= history->count ||
        index >= history->records[record].change_count) {
        return false;
    }
    const hist_change *c = &history->changes[history->records[record].change_first + index];
    out->path = span_of(history, c->path);
    out->old_value = span_of(history, c->old_value);
    out->new_value = span_of(history, c->new_value);
    return true;
}

static void append_field(as_buf *out, const char *name, as_span text, bool *comma)
{
    if (text.ptr == NULL) {
        return;
    }
    as_buf_append_str(out, *comma ? ",\"" : "\"");
    as_buf_append_str(out, name);
    as_buf_append(out, "\":", 2);
    as_json_append_string(out, text);
    *comma = true;
}

as_status as_history_write_json(const as_history *history, as_buf *out, as_error *err)
{
    if (history == NULL || out == NULL) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_history_write_json: NULL argument"));
    }
    for (size_t i = 0; i < history->count; i++) {
        as_history_record r;
        (void)as_history_get(history, i, &r);
        bool comma = false;
        as_buf_append_char(out, '{');
        append_field(out, "modificationTime", r.modification_time, &comma);
        append_field(out, "sequenceNumber", r.sequence_number, &comma);
        append_field(out, "eventName", r.event_name, &comma);
        append_field(out, "actor", r.actor, &comma);
        as_buf_append_str(out, ",\"changes\":[");
        for (size_t k = 0; k < r.change_count; k++) {
            as_history_change c;
            (void)as_history_change_get(history, i, k, &c);
            as_buf_append_str(out, k > 0 ? ",{\"path\":" : "{\"path\":");
            as_json_append_string(out, c.path);
            if (c.old_value.ptr != NULL) {
                as_buf_append_str(out, ",\"oldValue\":");
                as_buf_append_span(out, c.old_value);
            }
            if (c.new_value.ptr != NULL) {
                as_buf_append_str(out, ",\"newValue\":");
                as_buf_append_span(out, c.new_value);
            }
            as_buf_append_char(out, '}');
        }
        as_buf_append_str(out, "]}\n");
    }
    if (as_buf_status(out) != AS_OK) {
        return as_status_of(as_fail_nomem(err, "writing the history lines"));
    }
    return AS_OK;
}
