/* Checking a key's hash chain on a trail read back (as_trail_verify_chain) and anchored
 * heads against it (as_trail_verify_anchor): altered, missing, expired, head and anchor. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/wire.h"
#include "core/chain.h"
#include "core/hex.h"
#include "core/isotime.h"
#include "core/json_text.h"
#include "core/number.h"
#include "core/replay.h"

#define CHECKING "checking the hash chain"

static const char zeros64[AS_CHAIN_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* One chained record, as the anchors need it. */
typedef struct walk_record {
    char seq[AS_CHAIN_SEQ_LEN + 1];     /* its historySort's 40 digits */
    char running[AS_CHAIN_SEQ_LEN + 1]; /* chainSeq once it is chained; "" when not known */
    char chain[AS_CHAIN_HEX_LEN + 1];   /* recomputed: SHA-256 of its chainPrev and digest */
    bool recomputed;                    /* false: its chainPrev was malformed */
} walk_record;

struct chain_walk {
    const as_trail *trail; /* what it was computed from, to tell a stale walk */
    size_t items;
    as_buf key;
    walk_record *recs;
    size_t count;
    size_t cap;
    bool expired_start;                   /* the first chained record's predecessors expired */
    char first_seq[AS_CHAIN_SEQ_LEN + 1]; /* the smallest non-zero sequence chained; "" none */
    as_chain_digester digester;
    as_buf scratch; /* chain fields decoded, a detail being written */
};

void as_chain_walk_free(chain_walk *walk)
{
    if (walk == NULL) {
        return;
    }
    as_buf_free(&walk->key);
    free(walk->recs);
    as_chain_digester_free(&walk->digester);
    as_buf_free(&walk->scratch);
    free(walk);
}

/* ---- A record's chain fields --------------------------------------------------------- */

/* The three fields of one record, decoded; absent ones have has_* false. Texts longer than
 * any valid one are kept cut (they are malformed whatever follows). */
#define FIELD_CAP 80
typedef struct fields {
    bool any;
    bool has_prev, has_chain, has_time;
    char prev[FIELD_CAP + 1];
    char chain[FIELD_CAP + 1];
    char time[FIELD_CAP + 1];
    size_t prev_len, chain_len, time_len;
} fields;

/* The decoded S `name` of `item` into `out`; false when absent; a non-S is kept as "" with
 * *bad set. */
static bool read_field(const as_value *item, const char *name, char out[FIELD_CAP + 1], size_t *len,
                       bool *bad)
{
    const as_value *v = as_wire_attribute(item, name);
    *len = 0;
    out[0] = '\0';
    if (v == NULL) {
        return false;
    }
    if (v->type != AS_TYPE_S) {
        *bad = true;
        return true;
    }
    as_json_reader r = as_json_reader_of(v->text, (v->flags & AS_VALUE_TEXT_ESCAPED) != 0);
    const char *ptr;
    size_t n;
    size_t total = 0;
    while (as_json_reader_next(&r, &ptr, &n)) {
        size_t room = FIELD_CAP - (*len);
        size_t take = n < room ? n : room;
        memcpy(out + *len, ptr, take);
        *len += take;
        total += n;
    }
    out[*len] = '\0';
    if (total > FIELD_CAP) {
        *bad = true;
    }
    return true;
}

static void read_fields(const as_value *item, fields *f, bool *bad)
{
    memset(f, 0, sizeof *f);
    f->has_prev = read_field(item, "chainPrev", f->prev, &f->prev_len, bad);
    f->has_chain = read_field(item, "chain", f->chain, &f->chain_len, bad);
    f->has_time = read_field(item, "chainPrevTime", f->time, &f->time_len, bad);
    f->any = f->has_prev || f->has_chain || f->has_time;
}

static bool same_fields(const fields *a, const fields *b)
{
    return a->has_prev == b->has_prev && a->has_chain == b->has_chain &&
           a->has_time == b->has_time && strcmp(a->prev, b->prev) == 0 &&
           strcmp(a->chain, b->chain) == 0 && strcmp(a->time, b->time) == 0;
}

/* ---- Problems ----------------------------------------------------------------------- */

/* Adds a problem of `rec` (NULL: of the key), its detail printf-style after a description
 * of the record. */
static AS_RESULT problem(as_verify *v, chain_walk *w, as_error *err, const char *kind,
                         const trail_record *rec, const char *fmt, ...) AS_PRINTF(6, 7);

static as_result problem(as_verify *v, chain_walk *w, as_error *err, const char *kind,
                         const trail_record *rec, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    as_buf_clear(&w->scratch);
    as_buf_append_str(&w->scratch, what);
    if (rec != NULL) {
        as_buf_append_str(&w->scratch, " (entry ");
        as_record_describe(&w->scratch, rec);
        as_buf_append_char(&w->scratch, ')');
    }
    as_buf_append_char(&w->scratch, '\0');
    AS_ENSURE(as_buf_status(&w->scratch) == AS_OK, as_fail_nomem(err, CHECKING));
    char seq[AS_CHAIN_SEQ_LEN + 1] = "";
    if (rec != NULL && rec->sequence.ptr != NULL) {
        memcpy(seq, rec->sequence.ptr, rec->sequence.len);
        seq[rec->sequence.len] = '\0';
    }
    as_status st = as_verify_add_problem(v, kind, seq, w->scratch.data, err);
    return (as_result){st};
}

/* ---- The walk ----------------------------------------------------------------------- */

static AS_RESULT walk_reserve(chain_walk *w, as_error *err)
{
    if (w->count == w->cap) {
        size_t cap = w->cap < 16 ? 16 : w->cap * 2;
        walk_record *recs = realloc(w->recs, cap * sizeof *recs);
        AS_ENSURE(recs != NULL, as_fail_nomem(err, CHECKING));
        w->recs = recs;
        w->cap = cap;
    }
    return AS_RESULT_OK;
}

/* A whole number of seconds (expiresAt), in any spelling DynamoDB gives it. */
static bool whole_seconds(const as_value *v, int64_t *out)
{
    if (v == NULL || v->type != AS_TYPE_N) {
        return false;
    }
    as_number n;
    bool parsed = (v->flags & AS_VALUE_TEXT_ESCAPED) != 0 ? as_number_parse_escaped(v->text, &n)
                                                          : as_number_parse(v->text, &n, NULL);
    if (!parsed || n.sign < 0 || n.exponent > 15 || (n.sign > 0 && n.exponent < (int)n.ndigits)) {
        return false;
    }
    int64_t value = 0;
    for (int i = 0; n.sign > 0 && i < n.exponent; i++) {
        value = value * 10 + (i < (int)n.ndigits ? n.digits[i] - '0' : 0);
    }
    *out = value;
    return true;
}

static int64_t floor_second(int64_t ms)
{
    return ms / 1000; /* times here are from 1970 on */
}

/* The first chained record's chainPrev is not zeros: its predecessors expired, or are
 * missing. */
static AS_RESULT check_start(as_verify *v, chain_walk *w, const trail_record *rec, const fields *f,
                             int64_t now_ms, as_error *err)
{
    int64_t prev_ms;
    if (!f->has_time || !as_iso_time_parse((as_span){f->time, f->time_len}, true, &prev_ms)) {
        return problem(v, w, err, "missing", rec,
                       "chainPrev is not 64 zeros, so entries came before this one, and without "
                       "a chainPrevTime nothing says they expired");
    }
    int64_t expires;
    if (!whole_seconds(as_wire_attribute(rec->head->item, "expiresAt"), &expires)) {
        return problem(v, w, err, "missing", rec,
                       "chainPrev is not 64 zeros, so entries came before this one (the last at "
                       "%s), and this entry has no expiresAt: they cannot have expired",
                       f->time);
    }
    int64_t retention = expires - floor_second(rec->head->time_ms);
    int64_t gone_s = floor_second(prev_ms) + retention;
    char when[AS_ISO_TIME_LEN + 1];
    as_iso_time_format(gone_s * 1000, when);
    when[AS_ISO_TIME_LEN] = '\0';
    if (retention >= 0 && gone_s < INT64_MAX / 1000 && gone_s * 1000 < now_ms) {
        w->expired_start = true;
        return problem(v, w, err, "expired", rec,
                       "the entries before this one (the last at %s) expired at %s, their "
                       "retention of %lld s past",
                       f->time, when, (long long)retention);
    }
    return problem(v, w, err, "missing", rec,
                   "chainPrev is not 64 zeros, so entries came before this one (the last at %s), "
                   "and they would expire only at %s: they are missing",
                   f->time, when);
}

/* The chain state carried from one chained record to the next. */
typedef struct walk_state {
    bool started;
    char last_chain[FIELD_CAP + 1]; /* the last chained record's chain as stored */
    trail_record last;
    char running[AS_CHAIN_SEQ_LEN + 1];
} walk_state;

/* One record of the key. */
static AS_RESULT walk_record_at(as_verify *v, chain_walk *w, const trail_entry *entries,
                                const trail_record *rec, walk_state *s, int64_t now_ms,
                                as_error *err)
{
    const char *digits = rec->head->sort.ptr + HISTORY_TIME_LEN + 1;
    bool no_sequence = rec->sequence.ptr == NULL;
    /* The record's fields: its items' when they agree; else those of an item whose chain
     * follows from them, so that one altered item does not break the links after it. */
    fields f;
    bool bad = false;
    read_fields(rec->head->item, &f, &bad);
    bool consistent = true;
    bool any = f.any;
    for (size_t i = rec->begin + 1; i < rec->end; i++) {
        fields g;
        read_fields(entries[i].item, &g, &bad);
        consistent = consistent && same_fields(&f, &g);
        any = any || g.any;
    }
    if (!any) {
        if (s->started && !(no_sequence && rec->event != EVENT_BASELINE)) {
            return problem(v, w, err, "altered", rec,
                           "no chain fields, after the key's chain started: its fields were "
                           "removed, or the entry was slipped in");
        }
        return AS_RESULT_OK;
    }
    as_chain_digester_reset(&w->digester);
    for (size_t i = rec->begin; i < rec->end; i++) {
        AS_GUARD(as_chain_digester_add(&w->digester, entries[i].item, i - rec->begin, err));
    }
    uint8_t d[32];
    AS_GUARD(as_chain_digester_finish(&w->digester, d, err));
    AS_GUARD(walk_reserve(w, err));
    walk_record *wr = &w->recs[w->count];
    memset(wr, 0, sizeof *wr);
    memcpy(wr->seq, digits, AS_CHAIN_SEQ_LEN);
    for (size_t i = rec->begin; i < rec->end; i++) {
        fields g;
        bool ignored = false;
        read_fields(entries[i].item, &g, &ignored);
        if (!f.any && g.any) {
            f = g;
        }
        if (!g.has_prev || !as_chain_is_hex(g.prev, g.prev_len)) {
            continue;
        }
        char chain[AS_CHAIN_HEX_LEN + 1];
        AS_GUARD_STATUS(as_chain_compute(g.prev, d, chain, err));
        bool follows = strcmp(chain, g.chain) == 0;
        if (!wr->recomputed || follows) {
            memcpy(wr->chain, chain, sizeof wr->chain);
            wr->recomputed = true;
            f = g;
        }
        if (follows || consistent) {
            break;
        }
    }
    if (!consistent) {
        AS_GUARD(problem(v, w, err, "altered", rec,
                         "the items of the entry carry different chain fields"));
    }
    bool prev_ok = f.has_prev && as_chain_is_hex(f.prev, f.prev_len);
    bool chain_ok = f.has_chain && as_chain_is_hex(f.chain, f.chain_len);
    bool time_ok =
        !f.has_time || (f.time_len == AS_ISO_TIME_LEN &&
                        as_iso_time_parse((as_span){f.time, f.time_len}, true, &(int64_t){0}));
    if (bad || !prev_ok || !chain_ok || !time_ok) {
        AS_GUARD(problem(v, w, err, "altered", rec, "malformed chain fields: %s%s%s%s",
                         !prev_ok ? "chainPrev is not 64 lower-case hex; " : "",
                         !chain_ok ? "chain is not 64 lower-case hex; " : "",
                         !time_ok ? "chainPrevTime is not a modificationTime; " : "",
                         bad ? "a field is not a short S" : ""));
    }
    if (wr->recomputed && chain_ok && strcmp(wr->chain, f.chain) != 0) {
        char hex[65];
        as_hex_encode(d, 32, false, hex);
        hex[64] = '\0';
        AS_GUARD(problem(v, w, err, "altered", rec,
                         "chain %s does not follow from chainPrev and the entry's digest %s "
                         "(SHA-256 gives %s): the entry was changed",
                         f.chain, hex, wr->chain));
    }
    if (!s->started) {
        if (strcmp(f.prev, zeros64) != 0) {
            AS_GUARD(check_start(v, w, rec, &f, now_ms, err));
        }
    } else if (strcmp(f.prev, s->last_chain) != 0) {
        AS_GUARD(problem(v, w, err, "missing", rec,
                         "chainPrev %s is not the previous entry's chain %s: entries between "
                         "are missing",
                         f.prev, s->last_chain));
    } else if (!f.has_time || s->last.time.len != f.time_len ||
               memcmp(s->last.time.ptr, f.time, f.time_len) != 0) {
        AS_GUARD(problem(v, w, err, "altered", rec,
                         "chainPrevTime \"%s\" is not the previous entry's modificationTime %.*s",
                         f.time, (int)s->last.time.len, s->last.time.ptr));
    }
    if (!no_sequence &&
        (w->first_seq[0] == '\0' || memcmp(digits, w->first_seq, AS_CHAIN_SEQ_LEN) < 0)) {
        memcpy(w->first_seq, digits, AS_CHAIN_SEQ_LEN);
        w->first_seq[AS_CHAIN_SEQ_LEN] = '\0';
    }
    if (rec->event != EVENT_BASELINE) {
        memcpy(s->running, digits, AS_CHAIN_SEQ_LEN);
        s->running[AS_CHAIN_SEQ_LEN] = '\0';
    }
    memcpy(wr->running, s->running, sizeof wr->running);
    w->count++;
    s->started = true;
    memcpy(s->last_chain, f.chain, sizeof s->last_chain);
    s->last = *rec;
    return AS_RESULT_OK;
}

static AS_RESULT check_head(as_verify *v, chain_walk *w, const walk_state *s,
                            const as_chain_head *head, as_error *err)
{
    bool exists = head != NULL && head->exists;
    if (!s->started) {
        if (exists) {
            return problem(v, w, err, "head", NULL,
                           "a chain head (chain %s, %llu entries, last at %s) but no chained "
                           "entry in the trail",
                           head->chain, (unsigned long long)head->entries, head->time);
        }
        return AS_RESULT_OK;
    }
    if (!exists) {
        return problem(v, w, err, "head", &s->last,
                       "the trail is chained but the key has no chain head");
    }
    if (strcmp(head->chain, s->last_chain) != 0) {
        return problem(v, w, err, "head", &s->last,
                       "the last entry's chain %s is not the head's %s (head: %llu entries, "
                       "last at %s): the head was moved back, or the last entries are missing",
                       s->last_chain, head->chain, (unsigned long long)head->entries, head->time);
    }
    return AS_RESULT_OK;
}

static AS_RESULT verify_chain(as_trail *trail, as_span key, const as_chain_head *head,
                              int64_t now_ms, as_verify *v, as_error *err)
{
    chain_walk **slot = as_verify_chain_walk(v);
    if (*slot == NULL) {
        *slot = calloc(1, sizeof **slot);
        AS_ENSURE(*slot != NULL, as_fail_nomem(err, CHECKING));
    }
    chain_walk *w = *slot;
    w->trail = NULL; /* stale until the walk is whole */
    w->count = 0;
    w->expired_start = false;
    w->first_seq[0] = '\0';
    as_buf_clear(&w->key);
    as_buf_append_span(&w->key, key);
    AS_GUARD(as_buf_result(&w->key, err, CHECKING));

    size_t begin = 0;
    size_t end = 0;
    size_t count;
    const trail_entry *entries = as_trail_entries(trail, &count);
    bool found = as_trail_find(trail, key, &begin, &end);
    if (!as_verify_is_key(v, key)) {
        size_t records = 0;
        for (size_t at = begin; found && at < end; records++) {
            at = as_trail_record_at(entries, at, end).end;
        }
        AS_GUARD(as_verify_start(v, key, records, err));
    }
    walk_state s;
    memset(&s, 0, sizeof s);
    for (size_t at = begin; found && at < end;) {
        trail_record rec = as_trail_record_at(entries, at, end);
        AS_GUARD(walk_record_at(v, w, entries, &rec, &s, now_ms, err));
        at = rec.end;
    }
    AS_GUARD(check_head(v, w, &s, head, err));
    w->trail = trail;
    w->items = as_trail_item_count(trail);
    return AS_RESULT_OK;
}

as_status as_trail_verify_chain(as_trail *trail, as_span history_key, const as_chain_head *head,
                                int64_t now_ms, as_verify *out, as_error *err)
{
    if (trail == NULL || out == NULL || (history_key.ptr == NULL && history_key.len > 0)) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_trail_verify_chain: NULL argument"));
    }
    return as_status_of(verify_chain(trail, history_key, head, now_ms, out, err));
}

/* ---- Anchors ------------------------------------------------------------------------ */

static AS_RESULT verify_anchor(as_trail *trail, as_span key, as_span sequence, as_span chain,
                               as_verify *v, as_error *err)
{
    char seq[AS_CHAIN_SEQ_LEN + 1];
    AS_GUARD_STATUS(as_chain_seq_pad(sequence, seq, err));
    AS_ENSURE(chain.ptr != NULL && as_chain_is_hex(chain.ptr, chain.len),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "anchor: chain \"%.*s%s\" is not 64 lower-case hex digits",
                      (int)(chain.len > 64 ? 64 : chain.len), chain.ptr != NULL ? chain.ptr : "",
                      chain.len > 64 ? "..." : ""));
    chain_walk *w = *as_verify_chain_walk(v);
    AS_ENSURE(w != NULL && w->trail == trail && w->items == as_trail_item_count(trail) &&
                  as_verify_is_key(v, key) && w->key.len == key.len &&
                  (key.len == 0 || memcmp(w->key.data, key.ptr, key.len) == 0),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "as_trail_verify_anchor: run as_trail_verify_chain on this trail and key "
                      "first"));
    for (size_t i = 0; i < w->count; i++) {
        const walk_record *r = &w->recs[i];
        if (r->recomputed && memcmp(r->chain, chain.ptr, AS_CHAIN_HEX_LEN) == 0 &&
            (r->running[0] == '\0' || memcmp(r->running, seq, AS_CHAIN_SEQ_LEN) == 0)) {
            return AS_RESULT_OK;
        }
    }
    if (w->expired_start &&
        (w->first_seq[0] == '\0' || memcmp(seq, w->first_seq, AS_CHAIN_SEQ_LEN) < 0)) {
        return AS_RESULT_OK; /* anchored before what expired */
    }
    bool known = false;
    for (size_t i = 0; i < w->count && !known; i++) {
        known = memcmp(w->recs[i].seq, seq, AS_CHAIN_SEQ_LEN) == 0;
    }
    size_t lead = 0;
    while (lead < AS_CHAIN_SEQ_LEN - 1 && seq[lead] == '0') {
        lead++;
    }
    char detail[320];
    snprintf(detail, sizeof detail,
             "the anchored chain %.64s is not on the recomputed chain%s: the key's chain was "
             "rewritten, or entries are missing",
             chain.ptr,
             known ? " at that sequence number" : " (no chained entry has that sequence number)");
    return (as_result){as_verify_add_problem(v, "anchor", seq + lead, detail, err)};
}

as_status as_trail_verify_anchor(as_trail *trail, as_span history_key, as_span sequence_number,
                                 as_span chain, as_verify *out, as_error *err)
{
    if (trail == NULL || out == NULL || (history_key.ptr == NULL && history_key.len > 0)) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_trail_verify_anchor: NULL argument"));
    }
    return as_status_of(verify_anchor(trail, history_key, sequence_number, chain, out, err));
}
