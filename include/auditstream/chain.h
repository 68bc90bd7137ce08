/* The per-item hash chain (AUDIT_CHAIN=on, docs/trust.md): the pure parts, shared by the
 * function, backfill and verify: digests, links, chain fields and heads. Reading and
 * moving heads in DynamoDB is auditstream/chain_store.h's; checking a trail's chains is
 * as_trail_verify_chain's (auditstream/replay.h). */
#ifndef AUDITSTREAM_CHAIN_H
#define AUDITSTREAM_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lower-case hex of a SHA-256, without its NUL. */
#define AS_CHAIN_HEX_LEN 64
/* modificationTime's text, 2024-05-01T12:30:45.000Z, without its NUL. */
#define AS_CHAIN_TIME_LEN 24
/* A sequence number as the chain keeps it: 40 digits, left-padded with '0'. */
#define AS_CHAIN_SEQ_LEN 40
/* The most bytes the chain fields add to an item (names, values and DynamoDB's size
 * rules alike): what as_audit_options.reserve_bytes leaves free for them. */
#define AS_CHAIN_FIELDS_SIZE 256u

/* One entry's link: the three chain fields of each of a record's items. */
typedef struct as_chain_link {
    char prev[AS_CHAIN_HEX_LEN + 1];       /* chainPrev: the previous chain, or 64 zeros */
    char chain[AS_CHAIN_HEX_LEN + 1];      /* chain */
    char prev_time[AS_CHAIN_TIME_LEN + 1]; /* chainPrevTime; "" for the first entry */
} as_chain_link;

/* A key's chain head as stored (an Audit item without historyKey). */
typedef struct as_chain_head {
    bool exists;                      /* false: no head yet (a new chain) */
    char chain[AS_CHAIN_HEX_LEN + 1]; /* the last entry's chain; 64 zeros when !exists */
    char seq[AS_CHAIN_SEQ_LEN + 1];   /* chainSeq: the last chained record's, 40 digits */
    char time[AS_CHAIN_TIME_LEN + 1]; /* chainTime: that entry's modificationTime */
    uint64_t entries;                 /* entries chained */
} as_chain_head;

/* The head of a chain that has none yet: exists false, 64 zeros, seq 40 zeros, time "",
 * entries 0. */
void as_chain_head_init(as_chain_head *head);

/* A sequence number (1 to 40 ASCII digits, as a record or an anchor line gives it, or
 * already 40 digits) left-padded with '0' to AS_CHAIN_SEQ_LEN digits and a NUL: the form
 * chainSeq and historySort keep, which compares by its bytes as the numbers do.
 * AS_ERR_ARGUMENT, quoting the text, for an empty text, a non-digit or more than 40
 * digits. */
AS_MUST_CHECK as_status as_chain_seq_pad(as_span sequence_number, char out[AS_CHAIN_SEQ_LEN + 1],
                                         as_error *err);

/* The record digest d: SHA-256 of the canonical forms of `items` (each the wire JSON of
 * one audit item of the record, {"id":{"S":..},...}, as built or as read back: DynamoDB's
 * rewriting of numbers, sets and escapes changes nothing), each without its chain fields
 * (chainPrev, chain, chainPrevTime), sorted by the bytes of their ids (then by the form,
 * and a form given twice counted once), each followed by a newline. Fails with
 * AS_ERR_ARGUMENT naming the item (no item, an item that is not one JSON object of wire
 * values, one without an S id), AS_ERR_JSON when an item is not JSON, or AS_ERR_NOMEM. */
AS_MUST_CHECK as_status as_chain_record_digest(const as_span *items, size_t count,
                                               uint8_t digest[32], as_error *err);

/* chain = lower-case hex SHA-256 of the 128 ASCII bytes "<prev><hex of d>", into `out`
 * (64 digits and a NUL). `prev` is 64 lower-case hex digits. AS_ERR_NOMEM when libcrypto
 * cannot hash (it allocates); `out` is then 64 zeros and must not be written. */
AS_MUST_CHECK as_status as_chain_compute(const char prev[AS_CHAIN_HEX_LEN + 1],
                                         const uint8_t digest[32], char out[AS_CHAIN_HEX_LEN + 1],
                                         as_error *err);

/* The link that follows `head` for a record digest `d` of an entry whose
 * modificationTime is `time` (24 characters and a NUL): prev = head->chain, prev_time =
 * head->time ("" when the head does not exist), chain = as_chain_compute(prev, d). Then
 * advances `head` to the entry: chain, time, entries + 1, and seq = `seq` (40 digits, as
 * as_chain_seq_pad makes it) unless `seq` is NULL (a BASELINE leaves chainSeq as it was);
 * exists becomes true. AS_ERR_ARGUMENT for a NULL argument, AS_ERR_NOMEM when the hash
 * fails; `head` and `link` are then unchanged. (Changed from the draft's void: SHA-256
 * through libcrypto allocates, so it can fail.) */
AS_MUST_CHECK as_status as_chain_advance(as_chain_head *head, const uint8_t digest[32],
                                         const char *seq, const char *time, as_chain_link *link,
                                         as_error *err);

/* Appends `item` (one audit item's compact wire JSON, as as_audit_build writes it, without
 * chain fields) to `out` with the link's fields added at its end:
 * ..,"chainPrev":{"S":..},"chain":{"S":..}[,"chainPrevTime":{"S":..}]}, chainPrevTime only
 * when link->prev_time is not "". AS_ERR_ARGUMENT when `item` is not an object's text
 * ('{' to '}'; its inside is not parsed again), AS_ERR_NOMEM; `out` is cut back to its
 * length at the call on failure. */
AS_MUST_CHECK as_status as_chain_item_append(as_span item, const as_chain_link *link, as_buf *out,
                                             as_error *err);

/* The head's id: UUIDv5 (the audit namespace) of "chain/<historyKey>" (decoded bytes),
 * as 36 characters and a NUL. AS_ERR_ARGUMENT for an empty key, AS_ERR_NOMEM. */
AS_MUST_CHECK as_status as_chain_head_id(as_span history_key, char out[37], as_error *err);

/* Appends the head item's wire JSON: {"id":..,"chainOf":{"S":<historyKey>},"chain":..,
 * "chainSeq":..,"chainTime":..,"entries":{"N":..}}. AS_ERR_ARGUMENT for a head that does
 * not exist or an empty key, AS_ERR_NOMEM; `out` is cut back on failure. */
AS_MUST_CHECK as_status as_chain_head_item(as_span history_key, const as_chain_head *head,
                                           as_buf *out, as_error *err);

/* Reads a head item (the item's wire JSON, {"id":..,"chainOf":..,...}, as GetItem's "Item"
 * or a BatchGetItem response holds it) into `head` (exists true) and its chainOf into
 * `history_key` (decoded bytes, in `scratch`, which is cleared first: valid until it
 * changes). AS_ERR_JSON when the text is not JSON; AS_ERR_ARGUMENT naming the field that
 * is missing or malformed: id not the head id of chainOf, chainOf not a non-empty S, chain
 * not 64 lower-case hex, chainSeq not 40 digits, chainTime not a modificationTime
 * (2024-05-01T12:30:45.000Z), entries not a whole number from 1 up; AS_ERR_NOMEM. `head`
 * is left as it was on failure. */
AS_MUST_CHECK as_status as_chain_head_parse(as_span item, as_chain_head *head, as_buf *scratch,
                                            as_span *history_key, as_error *err);

#ifdef __cplusplus
}
#endif

#endif
