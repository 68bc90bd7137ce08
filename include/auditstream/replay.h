/* Reading the audit trail back: an item's state as of a time (replay), the continuity of
 * its trail (verify), its changes record by record (history), and their JSON lines. */
#ifndef AUDITSTREAM_REPLAY_H
#define AUDITSTREAM_REPLAY_H

#include <stdbool.h>

#include "buf.h"
#include "chain.h"
#include "common.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Time ------------------------------------------------------------------------- */

/* Lower and upper bounds for as_trail_history that bound nothing. */
#define AS_TIME_MIN INT64_MIN
#define AS_TIME_MAX INT64_MAX

/* Parses a time as people give it: ISO-8601 UTC "2024-05-01T12:30:45Z" or with
 * milliseconds "2024-05-01T12:30:45.123Z", or epoch seconds ("1714566645", "1714566645.5",
 * floored to the millisecond), into epoch milliseconds. Years 1970 to 9999. Fails with
 * AS_ERR_ARGUMENT and a message quoting the text. */
AS_MUST_CHECK as_status as_replay_time_parse(as_span text, int64_t *ms, as_error *err);

/* Writes epoch milliseconds as 2024-05-01T12:30:45.000Z into `out` (24 bytes and a NUL);
 * values outside 1970..9999 are clamped. */
void as_replay_time_format(int64_t ms, char out[25]);

/* ---- The trail ---------------------------------------------------------------------- */

/* The audit items of one or many source items (historyKey), in any order. Opaque. */
typedef struct as_trail as_trail;

/* New empty trail (free with as_trail_free), or NULL when out of memory. */
as_trail *as_trail_new(void);
/* NULL is a no-op. */
void as_trail_free(as_trail *trail);

/* Adds the audit items in `json`: a Query or Scan page, a GetItem answer or one item (as
 * as_wire_decode reads them with AS_WIRE_ANY), of any keys, in any order; the trail keeps
 * a copy of the bytes. Items without historyKey (chain heads, the error items of records
 * whose keys were unsound) are not part of any key's trail: they are counted in
 * as_trail_skipped. An item that is not an audit item (historySort missing or not
 * <modificationTime>/<40 digits>, modificationTime not 2024-05-01T12:30:45.000Z, eventName
 * not CREATE, UPDATE, DELETE or BASELINE, missing on an item that is not an error item,
 * a field of the wrong type, an image that is not a map...) fails the call with
 * AS_ERR_ARGUMENT and a message naming the item's index and id and the field; the bytes
 * failing as_wire_decode fail it as there. A failed call adds nothing. */
AS_MUST_CHECK as_status as_trail_add_json(as_trail *trail, const char *json, size_t len,
                                          as_error *err);

/* Items held (an item given twice, by id, counts once in replay but twice here); 0 for
 * NULL. */
size_t as_trail_item_count(const as_trail *trail);
/* Items added but left out for want of a historyKey; 0 for NULL. */
size_t as_trail_skipped(const as_trail *trail);

/* The keys held, sorted by their bytes. The trail orders its items on the first call
 * after an add that needs the order (these two, replay, history, verify): that is why they
 * take a non-const trail; it allocates nothing and cannot fail. */
size_t as_trail_key_count(as_trail *trail);
/* The decoded historyKey bytes (`<table>/<itemKey>`); borrowed until the next add or the
 * free; {NULL, 0} for a bad index. */
as_span as_trail_key(as_trail *trail, size_t index);

/* ---- Replay: an item's state as of a time ------------------------------------------- */

typedef enum as_exists {
    AS_EXISTS_UNKNOWN = 0, /* no trail at or before the time, or an error item, ... */
    AS_EXISTS_NO,
    AS_EXISTS_YES
} as_exists;

/* A reusable replay result. */
typedef struct as_replay as_replay;

/* New empty result (free with as_replay_free), or NULL when out of memory. */
as_replay *as_replay_new(void);
/* NULL is a no-op. */
void as_replay_free(as_replay *replay);

/* Replaces `out` with the state of `history_key` (decoded bytes) as of `at_ms`: the items
 * of the key with modificationTime at or before it, in historySort order, by the rules of
 * docs/library.md ("Reading the trail"). A key with no such item is not a failure: the
 * result has no trail, exists unknown and a note saying so. Fails with AS_ERR_NOMEM, or
 * AS_ERR_ARGUMENT for a NULL argument. `out` borrows values from `trail`: replay again or
 * free the result before adding to or freeing the trail. */
AS_MUST_CHECK as_status as_trail_replay(as_trail *trail, as_span history_key, int64_t at_ms,
                                        as_replay *out, as_error *err);

/* Whether any item of the key lies at or before the time. */
bool as_replay_has_trail(const as_replay *replay);
as_exists as_replay_exists(const as_replay *replay);
/* True when every attribute of the item is known (exists NO counts as complete). */
bool as_replay_complete(const as_replay *replay);

/* One known attribute of the replayed item. When the state is not complete, an attribute
 * may also be known to be absent (a classic UPDATE removed it): `value` is then NULL. */
typedef struct as_replay_attribute {
    as_span name;          /* decoded bytes, borrowed from the result */
    const as_value *value; /* borrowed from the trail; NULL: known to be absent */
} as_replay_attribute;

/* Known attributes, in byte order of their names; 0 unless exists is YES. */
size_t as_replay_attribute_count(const as_replay *replay);
/* By value; all zero for a bad index. */
as_replay_attribute as_replay_attribute_get(const as_replay *replay, size_t index);

/* The item as wire JSON, a bare map of its known present attributes in byte order of
 * their names: {"key":{"S":"a"},"value":{"N":"1.50"}} (values as DynamoDB returned them);
 * {NULL, 0} unless exists is YES. Borrowed from the result. */
as_span as_replay_item_json(const as_replay *replay);

/* The record that last changed the item, at or before the time: its sequence number as
 * the stream gave it (the 40-digit padding's zeros removed; {NULL, 0} for a BASELINE) and
 * its modificationTime text and epoch milliseconds. False (nothing written) when there is
 * no trail. Any pointer may be NULL. Spans are borrowed from the result. */
bool as_replay_last_change(const as_replay *replay, as_span *sequence_number,
                           as_span *modification_time, int64_t *time_ms);

/* True when the replayed state is exactly `item` (a map, as as_wire_item gives, or an
 * event's image): exists YES, complete, the same attribute names, and values equal by
 * as_value_equal (a truncated or redacted marker compares as the map it is). What backfill
 * asks before writing a BASELINE: pass the item as it would be written (ignored attributes
 * left out, redacted ones redacted). False for a NULL argument. */
bool as_replay_matches(const as_replay *replay, const as_value *item);

/* Notes on the result, in the order they arose: no trail, a trail that starts with an
 * UPDATE, an error item or a record without images that left values unknown, a value that
 * is a truncated or redacted marker. NUL-terminated, borrowed from the result; NULL for a
 * bad index. */
size_t as_replay_note_count(const as_replay *replay);
const char *as_replay_note(const as_replay *replay, size_t index);

/* Appends `auditstream show --json`'s line and a newline:
 * {"historyKey":..,"at":..,"exists":true|false|null,"complete":..,"item":{..}|null,
 *  "lastChange":{"sequenceNumber":..,"modificationTime":..}|null,"notes":[..]}.
 * AS_ERR_NOMEM when `out` could not grow; AS_ERR_ARGUMENT for a NULL argument. */
AS_MUST_CHECK as_status as_replay_write_json(const as_replay *replay, as_buf *out, as_error *err);

/* ---- History: the changes of one key, record by record ------------------------------- */

/* A reusable history result. */
typedef struct as_history as_history;

/* New empty result (free with as_history_free), or NULL when out of memory. */
as_history *as_history_new(void);
/* NULL is a no-op. */
void as_history_free(as_history *history);

/* Replaces `out` with the records of `history_key` whose modificationTime lies in
 * [since_ms, until_ms] (AS_TIME_MIN, AS_TIME_MAX: unbounded), oldest first. The result
 * copies what it needs: it outlives the trail. Fails with AS_ERR_NOMEM, or
 * AS_ERR_ARGUMENT for a NULL argument. */
AS_MUST_CHECK as_status as_trail_history(as_trail *trail, as_span history_key, int64_t since_ms,
                                         int64_t until_ms, as_history *out, as_error *err);

/* One record of the history. Spans are borrowed from the result; an absent field is
 * {NULL, 0}. */
typedef struct as_history_record {
    as_span modification_time; /* 2024-05-01T12:30:45.000Z */
    int64_t time_ms;
    as_span sequence_number; /* padding removed; absent for BASELINE */
    as_span event_name;      /* CREATE, UPDATE, DELETE, BASELINE; absent on some error items */
    as_span actor;           /* decoded; absent when the items have none */
    as_span error;           /* an error item's reason, decoded; absent otherwise */
    size_t change_count;
} as_history_record;

/* One change: `path` an RFC 6901 JSON Pointer (decoded bytes, "/value"), `old_value` and
 * `new_value` compact wire JSON ({"N":"3600"}), absent when that side has nothing. */
typedef struct as_history_change {
    as_span path;
    as_span old_value;
    as_span new_value;
} as_history_change;

/* Records; 0 for NULL. */
size_t as_history_count(const as_history *history);
/* False (nothing written) for a bad index. */
bool as_history_get(const as_history *history, size_t index, as_history_record *out);
/* The change `index` of record `record`; false for a bad index. */
bool as_history_change_get(const as_history *history, size_t record, size_t index,
                           as_history_change *out);

/* Appends `auditstream history --json`'s lines, one per record, each ending in a newline:
 * {"modificationTime":..,"sequenceNumber":..,"eventName":..,"actor":..,
 *  "changes":[{"path":..,"oldValue":..,"newValue":..}]}, absent fields left out. */
AS_MUST_CHECK as_status as_history_write_json(const as_history *history, as_buf *out,
                                              as_error *err);

/* ---- Verify: the continuity of one key's trail --------------------------------------- */

/* A reusable verify result. */
typedef struct as_verify as_verify;

/* New empty result (free with as_verify_free), or NULL when out of memory. */
as_verify *as_verify_new(void);
/* NULL is a no-op. */
void as_verify_free(as_verify *verify);

/* Replaces `out` with the continuity check of `history_key`'s whole trail: each record's
 * old side (a detailed oldImage, a classic item's oldValue for its attribute or absent, a
 * classic DELETE's whole oldValue) against the state replayed up to the record before it,
 * with DynamoDB's equality (as_value_equal); what is unknown, or a truncated or redacted
 * marker, is not compared. A CREATE must follow an absent or unknown state, an UPDATE or
 * DELETE a present or unknown one. Each mismatch is a problem of kind "continuity" naming
 * the record's sequence number and, in its detail, the attribute and what the replay
 * expected against what the record holds. The result copies what it needs. Fails with
 * AS_ERR_NOMEM, or AS_ERR_ARGUMENT for a NULL argument. */
AS_MUST_CHECK as_status as_trail_verify(as_trail *trail, as_span history_key, as_verify *out,
                                        as_error *err);

/* One problem: `kind` "continuity" (or what as_verify_add_problem gave); strings are
 * NUL-terminated, borrowed from the result; `sequence_number` "" when the record has
 * none. */
typedef struct as_problem {
    const char *kind;
    const char *sequence_number;
    const char *detail;
} as_problem;

/* The records (entries) of the key's trail; 0 for NULL. */
size_t as_verify_entries(const as_verify *verify);
/* True when every problem is of kind "expired" (or there is none). */
bool as_verify_ok(const as_verify *verify);
size_t as_verify_problem_count(const as_verify *verify);
/* False (nothing written) for a bad index. */
bool as_verify_problem_get(const as_verify *verify, size_t index, as_problem *out);

/* Adds a problem found elsewhere (the hash chain's altered, missing, head, anchor,
 * expired), so that one line reports the key. The strings are copied; NUL-terminated.
 * AS_ERR_NOMEM, or AS_ERR_ARGUMENT for a NULL argument. */
AS_MUST_CHECK as_status as_verify_add_problem(as_verify *verify, const char *kind,
                                              const char *sequence_number, const char *detail,
                                              as_error *err);

/* ---- Verify: the hash chain (docs/trust.md) ---------------------------------------- */

/* Adds to `out` the hash chain's problems of `history_key`'s trail, its records taken in
 * historySort order (a record's items together; its digest as as_chain_record_digest,
 * over the items as read back; an item given twice counted once):
 *  - "altered": a record whose chain is not SHA-256 of its chainPrev and its digest; whose
 *    items carry different or malformed chain fields; whose chainPrevTime is not the
 *    previous entry's modificationTime; or, once the key's chain has started, a record
 *    with no chain fields at all (fields stripped, or an entry slipped in) unless it has no
 *    sequence number and is not a BASELINE (such records are not chained);
 *  - "missing": a chainPrev that is not the previous chained record's chain (named by the
 *    record whose chainPrev does not match), and a first chained record whose chainPrev is
 *    not 64 zeros while its predecessor cannot have expired;
 *  - "expired" (ok): a first chained record whose chainPrev is not zeros, and whose
 *    chainPrevTime (floored to the second) plus its own retention (expiresAt less its
 *    modificationTime's second) lies before `now_ms` (epoch ms: the caller's clock);
 *  - "head": the last chained record's chain is not head->chain (named by that record), a
 *    chained trail with no head (`head` NULL or not existing), or a head while the trail
 *    has no chained record.
 * A key with no chain fields and no head has no chain problem. When `out` already holds
 * the result of `history_key` (as_trail_verify's, as verify runs both) the problems are
 * added to it; otherwise it is first made the key's (no problem yet, `entries` the key's
 * records). The per-record chains are kept in `out` for as_trail_verify_anchor. Fails with
 * AS_ERR_NOMEM, or AS_ERR_ARGUMENT for a NULL argument. */
AS_MUST_CHECK as_status as_trail_verify_chain(as_trail *trail, as_span history_key,
                                              const as_chain_head *head, int64_t now_ms,
                                              as_verify *out, as_error *err);

/* Checks one anchor of `history_key` (a `chain heads` log line's {"sequenceNumber",
 * "chain"}): adds "anchor" to `out` unless a chained record with that sequence number (1
 * to 40 digits, padding or not) has, recomputed from its digest and its chainPrev, that
 * chain (or a BASELINE chained after it, which leaves chainSeq as it was, does). Anchors
 * older than an "expired" first record (a smaller sequence number) are not checked. Reads
 * the chains that as_trail_verify_chain kept in `out`: call it first, for the same trail
 * and key, with nothing added to the trail since. AS_ERR_ARGUMENT for a NULL argument, a
 * sequence number that is not 1 to 40 digits or a chain that is not 64 lower-case hex
 * (named and quoted), or when `out` holds no chain of `history_key` from this trail;
 * AS_ERR_NOMEM. */
AS_MUST_CHECK as_status as_trail_verify_anchor(as_trail *trail, as_span history_key,
                                               as_span sequence_number, as_span chain,
                                               as_verify *out, as_error *err);

/* Appends `auditstream verify --json`'s line for the key and a newline:
 * {"historyKey":..,"entries":N,"ok":..,"problems":[{"kind","sequenceNumber","detail"}]}
 * (sequenceNumber left out when the problem has none). */
AS_MUST_CHECK as_status as_verify_write_json(const as_verify *verify, as_buf *out, as_error *err);

/* Appends verify's last line, {"keys":N,"entries":N,"ok":..}, and a newline. */
AS_MUST_CHECK as_status as_verify_write_summary_json(size_t keys, size_t entries, bool ok,
                                                     as_buf *out, as_error *err);

#ifdef __cplusplus
}
#endif

#endif
