/* Replay: an item's state as of a time, applied record by record by one state machine
 * over the trail's ordered entries (trail.c), and what it, history and verify share. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/diff.h"
#include "auditstream/wire.h"
#include "core/isotime.h"
#include "core/json_text.h"
#include "core/replay.h"
#include "core/value_json.h"

#define REPLAYING "replaying the trail"

/* ---- Time --------------------------------------------------------------------------- */

as_status as_replay_time_parse(as_span text, int64_t *ms, as_error *err)
{
    if (ms == NULL || (text.ptr == NULL && text.len > 0)) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_replay_time_parse: NULL argument"));
    }
    if (text.len > 0 && as_iso_time_parse(text, false, ms)) {
        return AS_OK;
    }
    bool digits_first = text.len > 0 && text.ptr[0] >= '0' && text.ptr[0] <= '9';
    const char *why = NULL;
    if (digits_first && as_epoch_text_to_ms(text, ms, &why)) {
        return AS_OK;
    }
    int shown = text.len > 64 ? 64 : (int)text.len;
    return as_status_of(
        as_fail(err, AS_ERR_ARGUMENT, 0,
                "\"%.*s%s\" is not a time: give ISO-8601 UTC (2024-05-01T12:30:45Z, milliseconds "
                "optional) or epoch seconds%s%s",
                shown, text.ptr != NULL ? text.ptr : "", text.len > 64 ? "..." : "",
                digits_first && why != NULL ? ": " : "", digits_first && why != NULL ? why : ""));
}

void as_replay_time_format(int64_t ms, char out[25])
{
    as_iso_time_format(ms, out);
    out[AS_ISO_TIME_LEN] = '\0';
}

/* ---- Markers ------------------------------------------------------------------------- */

static bool bool_true(const as_value *v)
{
    return v != NULL && v->type == AS_TYPE_BOOL && v->text.len == 4;
}

marker_kind as_replay_marker(const as_value *value)
{
    if (value == NULL || value->type != AS_TYPE_M) {
        return MARKER_NONE;
    }
    const as_value *sha = as_wire_attribute(value, "sha256");
    const as_value *size = as_wire_attribute(value, "sizeBytes");
    if (value->count == 3 && bool_true(as_wire_attribute(value, "truncated")) && sha != NULL &&
        sha->type == AS_TYPE_S && size != NULL && size->type == AS_TYPE_N) {
        return MARKER_TRUNCATED;
    }
    const as_value *hmac = as_wire_attribute(value, "hmac");
    if (bool_true(as_wire_attribute(value, "redacted")) &&
        (value->count == 1 || (value->count == 2 && hmac != NULL && hmac->type == AS_TYPE_S))) {
        return MARKER_REDACTED;
    }
    return MARKER_NONE;
}

/* ---- Small writers ------------------------------------------------------------------- */

void as_json_append_string(as_buf *out, as_span bytes)
{
    /* A key or a problem may come from the caller: bytes that are not UTF-8 must still
     * make a valid line. */
    as_buf_append_char(out, '"');
    as_json_append_text(out, bytes);
    as_buf_append_char(out, '"');
}

const char *as_decoded_short(char *out, size_t cap, as_span body, bool escaped)
{
    size_t len = 0;
    bool cut = false;
    as_json_reader reader = as_json_reader_of(body, escaped);
    const char *chunk;
    size_t n;
    while (!cut && as_json_reader_next(&reader, &chunk, &n)) {
        for (size_t i = 0; i < n; i++) {
            if (len + 4 >= cap) {
                /* A continuation byte next: the last character is not whole, drop it. */
                if (((unsigned char)chunk[i] & 0xC0) == 0x80) {
                    while (len > 0 && ((unsigned char)out[len - 1] & 0xC0) == 0x80) {
                        len--;
                    }
                    len -= len > 0 ? 1 : 0;
                }
                cut = true;
                break;
            }
            out[len++] = chunk[i] == '\0' ? '?' : chunk[i];
        }
    }
    if (cut) {
        memcpy(out + len, "...", 3);
        len += 3;
    }
    out[len] = '\0';
    return out;
}

void as_record_describe(as_buf *out, const trail_record *rec)
{
    as_buf_append_span(out, rec->time);
    if (rec->sequence.ptr != NULL) {
        as_buf_append_str(out, ", sequence ");
        as_buf_append_span(out, rec->sequence);
    } else {
        as_buf_append_str(out, ", no sequence number");
    }
}

void as_value_append_short(as_buf *out, const as_value *value, size_t max)
{
    if (value == NULL) {
        as_buf_append_str(out, "absent");
        return;
    }
    size_t at = out->len;
    as_value_append_wire(out, value);
    if (out->failed || out->len - at <= max) {
        return;
    }
    size_t keep = max;
    while (keep > 0 && ((unsigned char)out->data[at + keep] & 0xC0) == 0x80) {
        keep--;
    }
    as_buf_truncate(out, at + keep);
    as_buf_append_str(out, "...");
}

/* ---- The state machine --------------------------------------------------------------- */

void as_state_reset(replay_state *st)
{
    st->exists = AS_EXISTS_UNKNOWN;
    st->complete = false;
    st->records = 0;
    st->count = 0;
    as_buf_clear(&st->notes);
    st->note_count = 0;
}

void as_state_free(replay_state *st)
{
    free(st->attrs);
    free(st->scratch);
    as_buf_free(&st->notes);
    memset(st, 0, sizeof *st);
}

void as_state_note(replay_state *st, const char *fmt, ...)
{
    if (!st->keep_notes) {
        return;
    }
    char note[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    as_buf_append(&st->notes, note, strlen(note) + 1);
    st->note_count++;
}

static void clear_notes(replay_state *st)
{
    as_buf_clear(&st->notes);
    st->note_count = 0;
}

/* Nothing known of the attributes any more. */
static void forget(replay_state *st, as_exists exists)
{
    st->count = 0;
    st->exists = exists;
    st->complete = exists == AS_EXISTS_NO;
}

static size_t lower_bound(const replay_state *st, as_span name, bool escaped, bool *found)
{
    size_t lo = 0;
    size_t hi = st->count;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const state_attr *a = &st->attrs[mid];
        int c = as_json_string_cmp(a->name, a->escaped, name, escaped);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

const state_attr *as_state_find(const replay_state *st, as_span name, bool escaped)
{
    bool found;
    size_t at = lower_bound(st, name, escaped, &found);
    return found ? &st->attrs[at] : NULL;
}

static AS_RESULT grow_attrs(replay_state *st, size_t need, as_error *err)
{
    if (need <= st->cap) {
        return AS_RESULT_OK;
    }
    size_t cap = st->cap < 16 ? 16 : st->cap;
    while (cap < need) {
        cap *= 2;
    }
    state_attr *attrs = realloc(st->attrs, cap * sizeof *attrs);
    AS_ENSURE(attrs != NULL, as_fail_nomem(err, REPLAYING));
    st->attrs = attrs;
    st->cap = cap;
    return AS_RESULT_OK;
}

/* Sets (or, with a NULL value, removes) one attribute. */
static AS_RESULT put(replay_state *st, as_span name, bool escaped, const as_value *value,
                     as_error *err)
{
    bool found;
    size_t at = lower_bound(st, name, escaped, &found);
    if (found && value == NULL && st->complete) {
        memmove(&st->attrs[at], &st->attrs[at + 1], (st->count - at - 1) * sizeof *st->attrs);
        st->count--;
        return AS_RESULT_OK;
    }
    if (found) {
        st->attrs[at].value = value;
        return AS_RESULT_OK;
    }
    if (value == NULL && st->complete) {
        return AS_RESULT_OK;
    }
    AS_GUARD(grow_attrs(st, st->count + 1, err));
    memmove(&st->attrs[at + 1], &st->attrs[at], (st->count - at) * sizeof *st->attrs);
    st->attrs[at] = (state_attr){name, escaped, value};
    st->count++;
    return AS_RESULT_OK;
}

static int name_order(const void *x, const void *y)
{
    const as_value *a = *(const as_value *const *)x;
    const as_value *b = *(const as_value *const *)y;
    return as_json_string_cmp(a->name, (a->flags & AS_VALUE_NAME_ESCAPED) != 0, b->name,
                              (b->flags & AS_VALUE_NAME_ESCAPED) != 0);
}

as_result as_members_by_name(const as_value *map, const as_value ***scratch, size_t *cap,
                             const char *doing, as_error *err)
{
    size_t n = map->count;
    if (n > *cap) {
        const as_value **grown = realloc(*scratch, n * sizeof *grown);
        AS_ENSURE(grown != NULL, as_fail_nomem(err, doing));
        *scratch = grown;
        *cap = n;
    }
    size_t i = 0;
    for (const as_value *m = map + 1; m < map + map->subtree; m += m->subtree) {
        (*scratch)[i++] = m;
    }
    if (n > 1) {
        qsort(*scratch, n, sizeof **scratch, name_order);
    }
    return AS_RESULT_OK;
}

/* The state becomes the whole image: present, every attribute known. */
static AS_RESULT set_image(replay_state *st, const as_value *image, as_error *err)
{
    size_t n = image->count;
    AS_GUARD(grow_attrs(st, n, err));
    AS_GUARD(as_members_by_name(image, &st->scratch, &st->scratch_cap, REPLAYING, err));
    for (size_t i = 0; i < n; i++) {
        const as_value *m = st->scratch[i];
        st->attrs[i] = (state_attr){m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0, m};
    }
    st->count = n;
    st->exists = AS_EXISTS_YES;
    st->complete = true;
    clear_notes(st);
    return AS_RESULT_OK;
}

static const char *event_text(entry_event event)
{
    switch (event) {
    case EVENT_CREATE: return "CREATE";
    case EVENT_UPDATE: return "UPDATE";
    case EVENT_DELETE: return "DELETE";
    case EVENT_BASELINE: return "BASELINE";
    case EVENT_NONE: return "record";
    default: return "record";
    }
}

/* "<time>, sequence <n>" on the stack, for a note. */
static const char *described(char out[96], const trail_record *rec)
{
    int seq = (int)rec->sequence.len;
    if (rec->sequence.ptr != NULL) {
        snprintf(out, 96, "%.*s, sequence %.*s", (int)rec->time.len, rec->time.ptr, seq,
                 rec->sequence.ptr);
    } else {
        snprintf(out, 96, "%.*s", (int)rec->time.len, rec->time.ptr);
    }
    return out;
}

/* CREATE, BASELINE, a detailed UPDATE, a classic item without updatedAttribute: the new
 * image is the whole item, when the record has it. */
static AS_RESULT whole_image(replay_state *st, const trail_record *rec, const as_value *image,
                             as_error *err)
{
    if (image != NULL && as_replay_marker(image) == MARKER_NONE) {
        return set_image(st, image, err);
    }
    forget(st, AS_EXISTS_YES);
    clear_notes(st);
    char d[96];
    if (image == NULL) {
        as_state_note(st,
                      "the %s (%s) has no new image (a stream without images): the values "
                      "of the item are unknown",
                      event_text(rec->event), described(d, rec));
    } else {
        as_state_note(st,
                      "the new image of the %s (%s) was truncated (an item over 400 KB): "
                      "the values of the item are unknown",
                      event_text(rec->event), described(d, rec));
    }
    return AS_RESULT_OK;
}

/* A classic UPDATE: each item sets its attribute, or removes it. */
static AS_RESULT per_attribute(replay_state *st, const trail_entry *entries,
                               const trail_record *rec, bool first, as_error *err)
{
    if (st->exists != AS_EXISTS_YES) {
        as_exists before = st->exists;
        forget(st, AS_EXISTS_YES);
        char d[96];
        if (first) {
            as_state_note(st,
                          "the trail starts with an UPDATE (%s): only the attributes it "
                          "changed are known",
                          described(d, rec));
        } else if (before == AS_EXISTS_NO) {
            clear_notes(st);
            as_state_note(st,
                          "an UPDATE (%s) follows a DELETE with no CREATE between: only the "
                          "attributes it changed are known",
                          described(d, rec));
        }
    }
    for (size_t i = rec->begin; i < rec->end; i++) {
        const trail_entry *e = &entries[i];
        if (e->updated_attribute == NULL || as_trail_repeat(entries, rec->begin, i)) {
            continue;
        }
        AS_GUARD(put(st, e->updated_attribute->text,
                     (e->updated_attribute->flags & AS_VALUE_TEXT_ESCAPED) != 0, e->new_value,
                     err));
    }
    return AS_RESULT_OK;
}

as_result as_state_apply(replay_state *st, const trail_entry *entries, const trail_record *rec,
                         as_error *err)
{
    bool first = st->records == 0;
    st->records++;
    const trail_entry *h = rec->head;
    char d[96];
    if (rec->error) {
        forget(st, AS_EXISTS_UNKNOWN);
        clear_notes(st);
        const trail_entry *e = h;
        for (size_t i = rec->begin; i < rec->end && !e->error; i++) {
            e = &entries[i];
        }
        char why[200];
        as_state_note(st, "an error item (%s) left the state unknown: %s", described(d, rec),
                      as_decoded_short(why, sizeof why, e->error_text->text,
                                       (e->error_text->flags & AS_VALUE_TEXT_ESCAPED) != 0));
        return AS_RESULT_OK;
    }
    switch (rec->event) {
    case EVENT_CREATE:
    case EVENT_BASELINE:
        AS_GUARD(whole_image(st, rec, h->detailed ? h->new_image : h->new_value, err));
        break;
    case EVENT_DELETE:
        forget(st, AS_EXISTS_NO);
        clear_notes(st);
        break;
    case EVENT_UPDATE:
        if (h->detailed || h->updated_attribute == NULL) {
            AS_GUARD(whole_image(st, rec, h->detailed ? h->new_image : h->new_value, err));
        } else {
            AS_GUARD(per_attribute(st, entries, rec, first, err));
        }
        break;
    case EVENT_NONE:
    default: forget(st, AS_EXISTS_UNKNOWN); break;
    }
    /* A detailed item names its keys: they are known even when nothing else is. */
    if (h->detailed && h->keys != NULL && st->exists == AS_EXISTS_YES && !st->complete) {
        for (const as_value *k = h->keys + 1; k < h->keys + h->keys->subtree; k += k->subtree) {
            bool escaped = (k->flags & AS_VALUE_NAME_ESCAPED) != 0;
            if (as_state_find(st, k->name, escaped) == NULL) {
                AS_GUARD(put(st, k->name, escaped, k, err));
            }
        }
    }
    return AS_RESULT_OK;
}

/* ---- Replay ---------------------------------------------------------------------------- */

struct as_replay {
    replay_state st;
    as_buf key;
    int64_t at_ms;
    bool has_trail;
    int64_t last_ms;
    char last_time[HISTORY_TIME_LEN + 1];
    char last_seq[HISTORY_SEQ_LEN + 1];
    bool last_has_seq;
    as_buf item;
    as_buf names;    /* decoded attribute names back to back */
    size_t *name_at; /* count + 1 offsets into names */
    size_t name_cap;
    as_buf notes; /* NUL-terminated, back to back */
    size_t note_count;
};

as_replay *as_replay_new(void)
{
    return calloc(1, sizeof(as_replay));
}

void as_replay_free(as_replay *replay)
{
    if (replay == NULL) {
        return;
    }
    as_state_free(&replay->st);
    as_buf_free(&replay->key);
    as_buf_free(&replay->item);
    as_buf_free(&replay->names);
    free(replay->name_at);
    as_buf_free(&replay->notes);
    free(replay);
}

static void note(as_replay *r, const char *text)
{
    as_buf_append(&r->notes, text, strlen(text) + 1);
    r->note_count++;
}

/* The item, its names and its notes, from the final state. */
static AS_RESULT finish_replay(as_replay *r, as_error *err)
{
    const replay_state *st = &r->st;
    as_buf_append(&r->notes, st->notes.data, st->notes.len);
    r->note_count = st->note_count;
    if (!r->has_trail) {
        char at[25];
        as_replay_time_format(r->at_ms, at);
        char text[96];
        snprintf(text, sizeof text, "no audit item of this key at or before %s", at);
        note(r, text);
    }
    size_t n = st->exists == AS_EXISTS_YES ? st->count : 0;
    if (n + 1 > r->name_cap) {
        size_t *name_at = realloc(r->name_at, (n + 1) * sizeof *name_at);
        AS_ENSURE(name_at != NULL, as_fail_nomem(err, REPLAYING));
        r->name_at = name_at;
        r->name_cap = n + 1;
    }
    if (st->exists == AS_EXISTS_YES) {
        as_buf_append_char(&r->item, '{');
    }
    bool comma = false;
    for (size_t i = 0; i < n; i++) {
        const state_attr *a = &st->attrs[i];
        r->name_at[i] = r->names.len;
        as_json_append_unescaped(&r->names, a->name);
        if (a->value == NULL) {
            continue;
        }
        if (comma) {
            as_buf_append_char(&r->item, ',');
        }
        comma = true;
        as_buf_append_char(&r->item, '"');
        as_buf_append_span(&r->item, a->name);
        as_buf_append(&r->item, "\":", 2);
        as_value_append_wire(&r->item, a->value);
        marker_kind marker = as_replay_marker(a->value);
        if (marker != MARKER_NONE) {
            char text[200];
            char name[72];
            as_decoded_short(name, sizeof name, a->name, a->escaped);
            if (marker == MARKER_TRUNCATED) {
                const as_value *size = as_wire_attribute(a->value, "sizeBytes");
                snprintf(text, sizeof text,
                         "attribute \"%s\" holds a truncated marker (%.*s bytes): its value is "
                         "unknown",
                         name, (int)(size->text.len > 40 ? 40 : size->text.len), size->text.ptr);
            } else {
                snprintf(text, sizeof text, "attribute \"%s\" is redacted: its value is not stored",
                         name);
            }
            note(r, text);
        }
    }
    r->name_at[n] = r->names.len;
    if (st->exists == AS_EXISTS_YES) {
        as_buf_append_char(&r->item, '}');
    }
    AS_GUARD(as_buf_result(&r->st.notes, err, REPLAYING));
    AS_GUARD(as_buf_result(&r->item, err, REPLAYING));
    AS_GUARD(as_buf_result(&r->names, err, REPLAYING));
    AS_GUARD(as_buf_result(&r->key, err, REPLAYING));
    return as_buf_result(&r->notes, err, REPLAYING);
}

static AS_RESULT replay(as_trail *trail, as_span key, int64_t at_ms, as_replay *r, as_error *err)
{
    as_state_reset(&r->st);
    r->st.keep_notes = true;
    as_buf_clear(&r->key);
    as_buf_clear(&r->item);
    as_buf_clear(&r->names);
    as_buf_clear(&r->notes);
    r->note_count = 0;
    r->has_trail = false;
    r->last_has_seq = false;
    r->at_ms = at_ms;
    as_buf_append_span(&r->key, key);
    size_t begin;
    size_t end;
    if (as_trail_find(trail, key, &begin, &end)) {
        size_t count;
        const trail_entry *entries = as_trail_entries(trail, &count);
        for (size_t at = begin; at < end && entries[at].time_ms <= at_ms;) {
            trail_record rec = as_trail_record_at(entries, at, end);
            AS_GUARD(as_state_apply(&r->st, entries, &rec, err));
            r->has_trail = true;
            r->last_ms = rec.head->time_ms;
            memcpy(r->last_time, rec.time.ptr, HISTORY_TIME_LEN);
            r->last_time[HISTORY_TIME_LEN] = '\0';
            r->last_has_seq = rec.sequence.ptr != NULL;
            if (r->last_has_seq) {
                memcpy(r->last_seq, rec.sequence.ptr, rec.sequence.len);
                r->last_seq[rec.sequence.len] = '\0';
            }
            at = rec.end;
        }
    }
    return finish_replay(r, err);
}

as_status as_trail_replay(as_trail *trail, as_span history_key, int64_t at_ms, as_replay *out,
                          as_error *err)
{
    if (trail == NULL || out == NULL || (history_key.ptr == NULL && history_key.len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_trail_replay: NULL argument"));
    }
    return as_status_of(replay(trail, history_key, at_ms, out, err));
}

bool as_replay_has_trail(const as_replay *replay)
{
    return replay != NULL && replay->has_trail;
}

as_exists as_replay_exists(const as_replay *replay)
{
    return replay != NULL ? replay->st.exists : AS_EXISTS_UNKNOWN;
}

bool as_replay_complete(const as_replay *replay)
{
    return replay != NULL && replay->has_trail && replay->st.complete;
}

size_t as_replay_attribute_count(const as_replay *replay)
{
    return replay != NULL && replay->st.exists == AS_EXISTS_YES ? replay->st.count : 0;
}

as_replay_attribute as_replay_attribute_get(const as_replay *replay, size_t index)
{
    as_replay_attribute a = {{NULL, 0}, NULL};
    if (index < as_replay_attribute_count(replay)) {
        size_t at = replay->name_at[index];
        a.name = (as_span){replay->names.data != NULL ? replay->names.data + at : "",
                           replay->name_at[index + 1] - at};
        a.value = replay->st.attrs[index].value;
    }
    return a;
}

as_span as_replay_item_json(const as_replay *replay)
{
    if (replay == NULL || replay->st.exists != AS_EXISTS_YES) {
        return (as_span){NULL, 0};
    }
    return (as_span){replay->item.data, replay->item.len};
}

bool as_replay_last_change(const as_replay *replay, as_span *sequence_number,
                           as_span *modification_time, int64_t *time_ms)
{
    if (replay == NULL || !replay->has_trail) {
        return false;
    }
    if (sequence_number != NULL) {
        *sequence_number =
            replay->last_has_seq ? as_span_from_cstr(replay->last_seq) : (as_span){NULL, 0};
    }
    if (modification_time != NULL) {
        *modification_time = (as_span){replay->last_time, HISTORY_TIME_LEN};
    }
    if (time_ms != NULL) {
        *time_ms = replay->last_ms;
    }
    return true;
}

size_t as_replay_note_count(const as_replay *replay)
{
    return replay != NULL ? replay->note_count : 0;
}

const char *as_replay_note(const as_replay *replay, size_t index)
{
    if (replay == NULL || index >= replay->note_count) {
        return NULL;
    }
    const char *p = replay->notes.data;
    for (size_t i = 0; i < index; i++) {
        p += strlen(p) + 1;
    }
    return p;
}

bool as_state_matches(const replay_state *st, const as_value *item)
{
    if (item == NULL || item->type != AS_TYPE_M || st->exists != AS_EXISTS_YES || !st->complete ||
        st->count != item->count) {
        return false;
    }
    for (const as_value *m = item + 1; m < item + item->subtree; m += m->subtree) {
        const state_attr *a = as_state_find(st, m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0);
        if (a == NULL || a->value == NULL || !as_value_equal(a->value, m)) {
            return false;
        }
    }
    return true;
}

bool as_replay_matches(const as_replay *replay, const as_value *item)
{
    return replay != NULL && as_state_matches(&replay->st, item);
}

as_status as_replay_write_json(const as_replay *replay, as_buf *out, as_error *err)
{
    if (replay == NULL || out == NULL) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_replay_write_json: NULL argument"));
    }
    char at[25];
    as_replay_time_format(replay->at_ms, at);
    as_buf_append_str(out, "{\"historyKey\":");
    as_json_append_string(out, (as_span){replay->key.data, replay->key.len});
    as_buf_append_str(out, ",\"at\":\"");
    as_buf_append_str(out, at);
    as_buf_append_str(out, "\",\"exists\":");
    as_exists exists = as_replay_exists(replay);
    as_buf_append_str(out, !replay->has_trail || exists == AS_EXISTS_UNKNOWN ? "null"
                           : exists == AS_EXISTS_YES                         ? "true"
                                                                             : "false");
    as_buf_append_str(out, ",\"complete\":");
    as_buf_append_str(out, as_replay_complete(replay) ? "true" : "false");
    as_buf_append_str(out, ",\"item\":");
    as_span item = as_replay_item_json(replay);
    if (item.ptr != NULL) {
        as_buf_append_span(out, item);
    } else {
        as_buf_append_str(out, "null");
    }
    as_buf_append_str(out, ",\"lastChange\":");
    if (replay->has_trail) {
        as_buf_append_char(out, '{');
        if (replay->last_has_seq) {
            as_buf_append_str(out, "\"sequenceNumber\":\"");
            as_buf_append_str(out, replay->last_seq);
            as_buf_append_str(out, "\",");
        }
        as_buf_append_str(out, "\"modificationTime\":\"");
        as_buf_append_str(out, replay->last_time);
        as_buf_append_str(out, "\"}");
    } else {
        as_buf_append_str(out, "null");
    }
    as_buf_append_str(out, ",\"notes\":[");
    for (size_t i = 0; i < replay->note_count; i++) {
        if (i > 0) {
            as_buf_append_char(out, ',');
        }
        as_json_append_string(out, as_span_from_cstr(as_replay_note(replay, i)));
    }
    as_buf_append_str(out, "]}\n");
    if (as_buf_status(out) != AS_OK) {
        return as_status_of(as_fail_nomem(err, "writing the show line"));
    }
    return AS_OK;
}
