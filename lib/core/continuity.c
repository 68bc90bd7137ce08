/* The continuity check: each record's old side against the state replayed up to the
 * record before it, so that a change missing from the trail shows where it went missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/diff.h"
#include "auditstream/wire.h"
#include "core/json_text.h"
#include "core/replay.h"

#define VERIFYING "verifying the trail"

/* A problem's strings: offsets into the result's text, each NUL-terminated. */
typedef struct problem_ref {
    size_t kind;
    size_t sequence;
    size_t detail;
} problem_ref;

struct as_verify {
    as_buf key;
    size_t entries;
    as_buf text;
    problem_ref *problems;
    size_t count;
    size_t cap;
    replay_state st;
    const as_value **scratch; /* an old image's members, sorted */
    size_t scratch_cap;
    as_buf detail;    /* the detail being written */
    chain_walk *walk; /* the key's chain, once as_trail_verify_chain ran (chain_verify.c) */
};

as_verify *as_verify_new(void)
{
    return calloc(1, sizeof(as_verify));
}

void as_verify_free(as_verify *verify)
{
    if (verify == NULL) {
        return;
    }
    as_buf_free(&verify->key);
    as_buf_free(&verify->text);
    free(verify->problems);
    as_state_free(&verify->st);
    free(verify->scratch);
    as_buf_free(&verify->detail);
    as_chain_walk_free(verify->walk);
    free(verify);
}

chain_walk **as_verify_chain_walk(as_verify *v)
{
    return &v->walk;
}

bool as_verify_is_key(const as_verify *v, as_span key)
{
    return v->key.data != NULL && v->key.len == key.len &&
           (key.len == 0 || memcmp(v->key.data, key.ptr, key.len) == 0);
}

as_result as_verify_start(as_verify *v, as_span key, size_t entries, as_error *err)
{
    as_buf_clear(&v->key);
    as_buf_clear(&v->text);
    v->count = 0;
    v->entries = entries;
    as_buf_append_span(&v->key, key);
    as_buf_append_char(&v->key, '\0');
    as_buf_truncate(&v->key, key.len);
    return as_buf_result(&v->key, err, VERIFYING);
}

static AS_RESULT add_problem(as_verify *v, const char *kind, as_span sequence, as_span detail,
                             as_error *err)
{
    if (v->count == v->cap) {
        size_t cap = v->cap < 8 ? 8 : v->cap * 2;
        problem_ref *problems = realloc(v->problems, cap * sizeof *problems);
        AS_ENSURE(problems != NULL, as_fail_nomem(err, VERIFYING));
        v->problems = problems;
        v->cap = cap;
    }
    problem_ref *p = &v->problems[v->count];
    p->kind = v->text.len;
    as_buf_append(&v->text, kind, strlen(kind) + 1);
    p->sequence = v->text.len;
    as_buf_append_span(&v->text, sequence);
    as_buf_append_char(&v->text, '\0');
    p->detail = v->text.len;
    as_buf_append_span(&v->text, detail);
    as_buf_append_char(&v->text, '\0');
    AS_GUARD(as_buf_result(&v->text, err, VERIFYING));
    v->count++;
    return AS_RESULT_OK;
}

as_status as_verify_add_problem(as_verify *verify, const char *kind, const char *sequence_number,
                                const char *detail, as_error *err)
{
    if (verify == NULL || kind == NULL || detail == NULL) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_verify_add_problem: NULL argument"));
    }
    return as_status_of(add_problem(verify, kind, as_span_from_cstr(sequence_number),
                                    as_span_from_cstr(detail), err));
}

/* One continuity problem of `rec`, its detail in v->detail. */
static AS_RESULT continuity(as_verify *v, const trail_record *rec, as_error *err)
{
    AS_GUARD(as_buf_result(&v->detail, err, VERIFYING));
    return add_problem(v, "continuity", rec->sequence, (as_span){v->detail.data, v->detail.len},
                       err);
}

/* Compares what the replay expects of one attribute with what the record's `field` holds;
 * the unknown and markers are not compared. */
static AS_RESULT compare_attr(as_verify *v, const trail_record *rec, as_span name, bool escaped,
                              const as_value *found, const char *field, as_error *err)
{
    const state_attr *a = as_state_find(&v->st, name, escaped);
    if (a == NULL && !v->st.complete) {
        return AS_RESULT_OK;
    }
    const as_value *expected = a != NULL ? a->value : NULL;
    if (as_replay_marker(expected) != MARKER_NONE || as_replay_marker(found) != MARKER_NONE) {
        return AS_RESULT_OK;
    }
    if (expected == NULL && found == NULL) {
        return AS_RESULT_OK;
    }
    if (expected != NULL && found != NULL && as_value_equal(expected, found)) {
        return AS_RESULT_OK;
    }
    char shown[80];
    as_buf_clear(&v->detail);
    as_buf_append_str(&v->detail, "attribute \"");
    as_buf_append_str(&v->detail, as_decoded_short(shown, sizeof shown, name, escaped));
    as_buf_append_str(&v->detail, "\": expected ");
    as_value_append_short(&v->detail, expected, 200);
    as_buf_append_str(&v->detail, ", found ");
    as_value_append_short(&v->detail, found, 200);
    as_buf_append_str(&v->detail, " in ");
    as_buf_append_str(&v->detail, field);
    return continuity(v, rec, err);
}

/* A whole old image against the state, attribute by attribute in name order. */
static AS_RESULT compare_image(as_verify *v, const trail_record *rec, const as_value *image,
                               const char *field, as_error *err)
{
    if (as_replay_marker(image) != MARKER_NONE) {
        return AS_RESULT_OK;
    }
    size_t n = image->count;
    AS_GUARD(as_members_by_name(image, &v->scratch, &v->scratch_cap, VERIFYING, err));
    /* Merge the two sorted lists; the state's attributes are looked up again by name in
     * compare_attr, which costs a search but keeps one comparison rule. */
    size_t i = 0;
    size_t j = 0;
    while (i < v->st.count || j < n) {
        const state_attr *a = i < v->st.count ? &v->st.attrs[i] : NULL;
        const as_value *m = j < n ? v->scratch[j] : NULL;
        int c = a == NULL   ? 1
                : m == NULL ? -1
                            : as_json_string_cmp(a->name, a->escaped, m->name,
                                                 (m->flags & AS_VALUE_NAME_ESCAPED) != 0);
        if (c < 0) {
            AS_GUARD(compare_attr(v, rec, a->name, a->escaped, NULL, field, err));
            i++;
        } else if (c > 0) {
            AS_GUARD(compare_attr(v, rec, m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0, m,
                                  field, err));
            j++;
        } else {
            AS_GUARD(compare_attr(v, rec, a->name, a->escaped, m, field, err));
            i++;
            j++;
        }
    }
    return AS_RESULT_OK;
}

/* Whether the item exists before `rec` as its event needs. */
static AS_RESULT check_existence(as_verify *v, const trail_record *rec, const trail_record *prev,
                                 bool *go_on, as_error *err)
{
    *go_on = false;
    bool creates = rec->event == EVENT_CREATE;
    if (v->st.exists == AS_EXISTS_UNKNOWN || (creates && v->st.exists == AS_EXISTS_NO)) {
        return AS_RESULT_OK;
    }
    if (!creates && v->st.exists == AS_EXISTS_YES) {
        *go_on = true;
        return AS_RESULT_OK;
    }
    as_buf_clear(&v->detail);
    as_buf_append_str(&v->detail, creates ? "item: expected absent before a CREATE, found present"
                                  : rec->event == EVENT_DELETE
                                      ? "item: expected present before a DELETE, found absent"
                                      : "item: expected present before an UPDATE, found absent");
    as_buf_append_str(&v->detail, " (its last record: ");
    as_record_describe(&v->detail, prev);
    as_buf_append_char(&v->detail, ')');
    return continuity(v, rec, err);
}

/* Whether the state already is what `rec` leads to (for a classic UPDATE: the values of
 * the attributes it sets). */
static bool already_shown(const replay_state *st, const trail_entry *entries,
                          const trail_record *rec)
{
    const trail_entry *h = rec->head;
    if (rec->event == EVENT_DELETE) {
        return false;
    }
    if (h->detailed) {
        return as_state_matches(st, h->new_image);
    }
    if (h->updated_attribute == NULL) {
        return as_state_matches(st, h->new_value);
    }
    if (st->exists != AS_EXISTS_YES) {
        return false;
    }
    for (size_t i = rec->begin; i < rec->end; i++) {
        const trail_entry *e = &entries[i];
        if (e->updated_attribute == NULL) {
            return false;
        }
        const state_attr *a =
            as_state_find(st, e->updated_attribute->text,
                          (e->updated_attribute->flags & AS_VALUE_TEXT_ESCAPED) != 0);
        const as_value *now = a != NULL ? a->value : NULL;
        if (a == NULL && !st->complete) {
            return false;
        }
        if (now == NULL ? e->new_value != NULL
                        : e->new_value == NULL || !as_value_equal(now, e->new_value)) {
            return false;
        }
    }
    return true;
}

/* The record's old side against the state before it. */
static AS_RESULT check_record(as_verify *v, const trail_entry *entries, const trail_record *rec,
                              const trail_record *prev, as_error *err)
{
    if (rec->error || prev == NULL || rec->event == EVENT_BASELINE || rec->event == EVENT_NONE) {
        return AS_RESULT_OK;
    }
    bool go_on;
    AS_GUARD(check_existence(v, rec, prev, &go_on, err));
    if (!go_on) {
        return AS_RESULT_OK;
    }
    const trail_entry *h = rec->head;
    if (h->detailed) {
        return h->old_image != NULL ? compare_image(v, rec, h->old_image, "oldImage", err)
                                    : AS_RESULT_OK;
    }
    if (rec->event == EVENT_DELETE || h->updated_attribute == NULL) {
        return h->old_value != NULL && h->old_value->type == AS_TYPE_M
                   ? compare_image(v, rec, h->old_value, "oldValue", err)
                   : AS_RESULT_OK;
    }
    for (size_t i = rec->begin; i < rec->end; i++) {
        const trail_entry *e = &entries[i];
        if (e->updated_attribute == NULL || as_trail_repeat(entries, rec->begin, i)) {
            continue;
        }
        AS_GUARD(compare_attr(v, rec, e->updated_attribute->text,
                              (e->updated_attribute->flags & AS_VALUE_TEXT_ESCAPED) != 0,
                              e->old_value, "oldValue", err));
    }
    return AS_RESULT_OK;
}

/* Backfill stamps a BASELINE with the second in which its read began, and DynamoDB Streams
 * dates records to the second (or, elsewhere, by a clock of its own): the records of that
 * second may sort after the BASELINE and yet be in what it read. When the record after a
 * BASELINE does not follow from it, and a record of that second leads to exactly what the
 * BASELINE shows, the records up to that one were read by it: where they end, else
 * first->begin. */
static size_t read_by_baseline(const replay_state *st, const trail_entry *entries,
                               const trail_record *first, int64_t baseline_ms, size_t end)
{
    for (size_t at = first->begin; at < end;) {
        trail_record r = as_trail_record_at(entries, at, end);
        if (r.error || r.head->time_ms >= baseline_ms + 1000) {
            break;
        }
        if (already_shown(st, entries, &r)) {
            return r.end;
        }
        at = r.end;
    }
    return first->begin;
}

static AS_RESULT verify(as_trail *trail, as_span key, as_verify *v, as_error *err)
{
    as_buf_clear(&v->key);
    as_buf_clear(&v->text);
    v->count = 0;
    v->entries = 0;
    as_state_reset(&v->st);
    v->st.keep_notes = false;
    as_buf_append_span(&v->key, key);
    AS_GUARD(as_buf_result(&v->key, err, VERIFYING));
    size_t begin;
    size_t end;
    if (!as_trail_find(trail, key, &begin, &end)) {
        return AS_RESULT_OK;
    }
    size_t count;
    const trail_entry *entries = as_trail_entries(trail, &count);
    trail_record prev;
    bool have_prev = false;
    for (size_t at = begin; at < end;) {
        trail_record rec = as_trail_record_at(entries, at, end);
        size_t problems = v->count;
        size_t text = v->text.len;
        AS_GUARD(check_record(v, entries, &rec, have_prev ? &prev : NULL, err));
        size_t read = rec.begin;
        if (have_prev && v->count > problems && prev.event == EVENT_BASELINE) {
            read = read_by_baseline(&v->st, entries, &rec, prev.head->time_ms, end);
        }
        if (read > rec.begin) {
            /* The state already is what these records lead to. */
            v->count = problems;
            as_buf_truncate(&v->text, text);
            for (; at < read; at = prev.end) {
                prev = as_trail_record_at(entries, at, end);
                v->entries++;
            }
            continue;
        }
        AS_GUARD(as_state_apply(&v->st, entries, &rec, err));
        v->entries++;
        prev = rec;
        have_prev = true;
        at = rec.end;
    }
    return AS_RESULT_OK;
}

as_status as_trail_verify(as_trail *trail, as_span history_key, as_verify *out, as_error *err)
{
    if (trail == NULL || out == NULL || (history_key.ptr == NULL && history_key.len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_trail_verify: NULL argument"));
    }
    return as_status_of(verify(trail, history_key, out, err));
}

size_t as_verify_entries(const as_verify *verify)
{
    return verify != NULL ? verify->entries : 0;
}

size_t as_verify_problem_count(const as_verify *verify)
{
    return verify != NULL ? verify->count : 0;
}

bool as_verify_problem_get(const as_verify *verify, size_t index, as_problem *out)
{
    if (verify == NULL || out == NULL || index >= verify->count) {
        return false;
    }
    const problem_ref *p = &verify->problems[index];
    out->kind = verify->text.data + p->kind;
    out->sequence_number = verify->text.data + p->sequence;
    out->detail = verify->text.data + p->detail;
    return true;
}

bool as_verify_ok(const as_verify *verify)
{
    for (size_t i = 0; i < as_verify_problem_count(verify); i++) {
        as_problem p;
        if (as_verify_problem_get(verify, i, &p) && strcmp(p.kind, "expired") != 0) {
            return false;
        }
    }
    return true;
}

as_status as_verify_write_json(const as_verify *verify, as_buf *out, as_error *err)
{
    if (verify == NULL || out == NULL) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_verify_write_json: NULL argument"));
    }
    as_buf_append_str(out, "{\"historyKey\":");
    as_json_append_string(out, (as_span){verify->key.data, verify->key.len});
    as_buf_append_str(out, ",\"entries\":");
    as_buf_append_u64(out, verify->entries);
    as_buf_append_str(out, ",\"ok\":");
    as_buf_append_str(out, as_verify_ok(verify) ? "true" : "false");
    as_buf_append_str(out, ",\"problems\":[");
    for (size_t i = 0; i < verify->count; i++) {
        as_problem p;
        (void)as_verify_problem_get(verify, i, &p);
        as_buf_append_str(out, i > 0 ? ",{\"kind\":" : "{\"kind\":");
        as_json_append_string(out, as_span_from_cstr(p.kind));
        if (p.sequence_number[0] != '\0') {
            as_buf_append_str(out, ",\"sequenceNumber\":");
            as_json_append_string(out, as_span_from_cstr(p.sequence_number));
        }
        as_buf_append_str(out, ",\"detail\":");
        as_json_append_string(out, as_span_from_cstr(p.detail));
        as_buf_append_char(out, '}');
    }
    as_buf_append_str(out, "]}\n");
    if (as_buf_status(out) != AS_OK) {
        return as_status_of(as_fail_nomem(err, "writing the verify line"));
    }
    return AS_OK;
}

as_status as_verify_write_summary_json(size_t keys, size_t entries, bool ok, as_buf *out,
                                       as_error *err)
{
    if (out == NULL) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_verify_write_summary_json: NULL argument"));
    }
    as_buf_append_str(out, "{\"keys\":");
    as_buf_append_u64(out, keys);
    as_buf_append_str(out, ",\"entries\":");
    as_buf_append_u64(out, entries);
    as_buf_append_str(out, ",\"ok\":");
    as_buf_append_str(out, ok ? "true}\n" : "false}\n");
    if (as_buf_status(out) != AS_OK) {
        return as_status_of(as_fail_nomem(err, "writing the verify summary line"));
    }
    return AS_OK;
}
