/* The per-item hash chain (AUDIT_CHAIN=on, docs/audit-format.md "The hash chain"): the
 * pure parts, shared by the function, backfill and verify: digests, links, chain fields
 * and heads. Reading and moving heads in DynamoDB is auditstream/chain_store.h's. */
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
    bool exists;                        /* false: no head yet (a new chain) */
    char chain[AS_CHAIN_HEX_LEN + 1];   /* the last entry's chain; 64 zeros when !exists */
    char seq[AS_CHAIN_SEQ_LEN + 1];     /* chainSeq: the last chained record's, 40 digits */
    char time[AS_CHAIN_TIME_LEN + 1];   /* chainTime: that entry's modificationTime */
    uint64_t entries;                   /* entries chained */
} as_chain_head;

/* The head of a chain that has none yet: exists false, 64 zeros, seq 40 zeros. */
void as_chain_head_init(as_chain_head *head);

/* The record digest d: SHA-256 of the canonical forms of `items` (each the wire JSON of
 * one audit item of the record, {"id":{"S":..},...}, as built or as read back), each
 * without its chain fields (chainPrev, chain, chainPrevTime), sorted by id, each followed
 * by a newline. Fails with AS_ERR_ARGUMENT (no item, an item that is not a JSON object
 * of wire values, without an S id) naming the item, or AS_ERR_NOMEM. */
AS_MUST_CHECK as_status as_chain_record_digest(const as_span *items, size_t count,
                                               uint8_t digest[32], as_error *err);

/* The link that follows `head` for a record digest `d` of an entry whose
 * modificationTime is `time`: prev = head->chain, prev_time = head->time (or "" when the
 * head does not exist), chain = lower-case hex SHA-256 of "<prev><hex of d>". Then
 * advances `head` to the entry: chain, time, entries + 1, and seq = `seq` unless `seq` is
 * NULL (a BASELINE leaves chainSeq as it was); exists becomes true. */
void as_chain_advance(as_chain_head *head, const uint8_t digest[32], const char *seq,
                      const char *time, as_chain_link *link);

/* Appends `item` (one audit item's compact wire JSON, without chain fields) to `out` with
 * the link's fields added at its end: ..,"chainPrev":{"S":..},"chain":{"S":..}
 * [,"chainPrevTime":{"S":..}]}. AS_ERR_ARGUMENT when `item` is not a JSON object's text,
 * AS_ERR_NOMEM; `out` is cut back on failure. */
AS_MUST_CHECK as_status as_chain_item_append(as_span item, const as_chain_link *link,
                                             as_buf *out, as_error *err);

/* The head's id: UUIDv5 (the audit namespace) of "chain/<historyKey>" (decoded bytes),
 * as 36 characters and a NUL. */
AS_MUST_CHECK as_status as_chain_head_id(as_span history_key, char out[37], as_error *err);

/* Appends the head item's wire JSON: id, chainOf (the historyKey), chain, chainSeq,
 * chainTime, entries. AS_ERR_ARGUMENT for a head that does not exist, AS_ERR_NOMEM. */
AS_MUST_CHECK as_status as_chain_head_item(as_span history_key, const as_chain_head *head,
                                           as_buf *out, as_error *err);

/* Reads a head item (an item's wire JSON, as GetItem or BatchGetItem return it) into
 * `head` (exists true) and its chainOf into `history_key` (decoded bytes, borrowed from
 * `scratch`). AS_ERR_ARGUMENT naming the field that is missing or malformed (chain not 64
 * lower-case hex, chainSeq not 40 digits, chainTime not a modificationTime, entries not
 * a whole number), AS_ERR_NOMEM. */
AS_MUST_CHECK as_status as_chain_head_parse(as_span item, as_chain_head *head, as_buf *scratch,
                                            as_span *history_key, as_error *err);

#ifdef __cplusplus
}
#endif

#endif
