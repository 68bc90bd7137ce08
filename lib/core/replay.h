/* What trail.c, replay.c, continuity.c, chain_verify.c and replay_history.c share: a trail's
 * items as parsed entries in historySort order, and the state machine that replays them. */
#ifndef AS_CORE_REPLAY_H
#define AS_CORE_REPLAY_H

#include "auditstream/buf.h"
#include "auditstream/replay.h"
#include "core/internal.h"

typedef enum entry_event {
    EVENT_NONE = 0, /* an error item without eventName */
    EVENT_CREATE,
    EVENT_UPDATE,
    EVENT_DELETE,
    EVENT_BASELINE
} entry_event;

/* One audit item of the trail, its fields found once when it is added. Spans are decoded
 * bytes owned by the trail; values are borrowed from the trail's decoded pages. */
typedef struct trail_entry {
    as_span key;  /* historyKey */
    as_span sort; /* historySort: <modificationTime>/<40 digits>, HISTORY_SORT_LEN bytes */
    as_span attr; /* classic updatedAttribute; ptr NULL when the item has none */
    as_span id;
    int64_t time_ms;
    entry_event event;
    bool detailed;
    bool error;
    const as_value *item;
    const as_value *updated_attribute; /* S */
    const as_value *old_value;         /* classic */
    const as_value *new_value;
    const as_value *old_image; /* detailed */
    const as_value *new_image;
    const as_value *keys;
    const as_value *changes;
    const as_value *actor;      /* S, or NULL */
    const as_value *error_text; /* S, or NULL */
} trail_entry;

#define HISTORY_TIME_LEN 24u /* 2024-05-01T12:30:45.000Z */
#define HISTORY_SEQ_LEN  40u
#define HISTORY_SORT_LEN (HISTORY_TIME_LEN + 1u + HISTORY_SEQ_LEN)

/* One record of a key's trail: the entries [begin, end) sharing a historySort. */
typedef struct trail_record {
    size_t begin;
    size_t end;
    const trail_entry *head;
    bool error;        /* one of its items is an error item */
    entry_event event; /* the head's */
    as_span sequence;  /* the sequence number without its padding; ptr NULL when all zeros */
    as_span time;      /* modificationTime: the historySort's first 24 bytes */
} trail_record;

/* The entries of the trail in order (indexing it first); *count gets their number. */
AS_LOCAL const trail_entry *as_trail_entries(as_trail *trail, size_t *count);

/* Where `key`'s entries lie, [*begin, *end); false when the trail has none. */
AS_LOCAL bool as_trail_find(as_trail *trail, as_span key, size_t *begin, size_t *end);

/* The record that starts at entries[at] (before `end`). */
AS_LOCAL trail_record as_trail_record_at(const trail_entry *entries, size_t at, size_t end);

/* Whether entries[i] is entries[i - 1] given again (same record and id): counted once. */
AS_LOCAL bool as_trail_repeat(const trail_entry *entries, size_t begin, size_t i);

/* "a truncated value" marker {"truncated":true,"sizeBytes":..,"sha256":..}, "redacted"
 * {"redacted":true[,"hmac":..]}, or neither. */
typedef enum marker_kind { MARKER_NONE = 0, MARKER_TRUNCATED, MARKER_REDACTED } marker_kind;
AS_LOCAL marker_kind as_replay_marker(const as_value *value);

/* ---- Verify results shared with chain_verify.c --------------------------------------- */

/* chain_verify.c's record of one key's chain, kept in a verify result for the anchors. */
typedef struct chain_walk chain_walk;
/* NULL is a no-op. */
AS_LOCAL void as_chain_walk_free(chain_walk *walk);
/* The slot of `v` that holds it (NULL until chain_verify.c fills it). */
AS_LOCAL chain_walk **as_verify_chain_walk(as_verify *v);
/* Whether `v` holds the result of `key` (as_trail_verify's, or a chain check's). */
AS_LOCAL bool as_verify_is_key(const as_verify *v, as_span key);
/* Makes `v` the result of `key`: no problem yet, `entries` records. */
AS_LOCAL AS_RESULT as_verify_start(as_verify *v, as_span key, size_t entries, as_error *err);

/* ---- The state machine -------------------------------------------------------------- */

/* One known attribute: its name as the item has it (JSON-escaped when `escaped`). */
typedef struct state_attr {
    as_span name;
    bool escaped;
    const as_value *value; /* NULL: known to be absent (only while not complete) */
} state_attr;

typedef struct replay_state {
    as_exists exists;
    bool complete;
    size_t records;    /* records applied */
    state_attr *attrs; /* sorted by decoded name */
    size_t count;
    size_t cap;
    as_buf notes; /* why the state is not complete: NUL-terminated notes back to back */
    size_t note_count;
    bool keep_notes;
    const as_value **scratch; /* image members being sorted */
    size_t scratch_cap;
} replay_state;

/* Back to nothing known; keeps the storage. */
AS_LOCAL void as_state_reset(replay_state *st);
AS_LOCAL void as_state_free(replay_state *st);

/* Applies one record. */
AS_LOCAL AS_RESULT as_state_apply(replay_state *st, const trail_entry *entries,
                                  const trail_record *rec, as_error *err);

/* The entries of `map` into (*scratch)[0, map->count), sorted by decoded name; *scratch
 * grows as needed (*cap its room) and fails, saying it was `doing`, only when it cannot. */
AS_LOCAL AS_RESULT as_members_by_name(const as_value *map, const as_value ***scratch, size_t *cap,
                                      const char *doing, as_error *err);

/* Whether the state is exactly `item` (a map): present, complete, the same names, values
 * equal by as_value_equal. */
AS_LOCAL bool as_state_matches(const replay_state *st, const as_value *item);

/* The known attribute named `name` (JSON-escaped when `escaped`), or NULL. */
AS_LOCAL const state_attr *as_state_find(const replay_state *st, as_span name, bool escaped);

/* Appends a note (printf-style) to st->notes; a failed append shows in as_buf_result. */
AS_LOCAL void as_state_note(replay_state *st, const char *fmt, ...) AS_PRINTF(2, 3);

/* The decoded bytes of a string body into `out` (`cap` bytes, NUL-terminated), cut at a
 * character boundary with "..." when longer, a NUL byte shown as '?'; returns `out`. */
AS_LOCAL const char *as_decoded_short(char *out, size_t cap, as_span body, bool escaped);

/* Appends "<time>, sequence <n>" (or "<time>, BASELINE") for notes and details. */
AS_LOCAL void as_record_describe(as_buf *out, const trail_record *rec);

/* Appends at most about `max` bytes of `value`'s compact wire JSON ("absent" for NULL),
 * cut at a character boundary with "..." when longer. */
AS_LOCAL void as_value_append_short(as_buf *out, const as_value *value, size_t max);

/* Appends a JSON string: quotes around `bytes` escaped, a byte that starts no UTF-8
 * character written as U+FFFD. */
AS_LOCAL void as_json_append_string(as_buf *out, as_span bytes);

#endif
