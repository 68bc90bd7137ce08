/* The hash chain in DynamoDB (AUDIT_CHAIN=on, docs/audit-format.md "The hash chain"): reads
 * the heads of a batch's source items, links their records, writes them, moves the heads. */
#ifndef AUDITSTREAM_CHAIN_STORE_H
#define AUDITSTREAM_CHAIN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "common.h"
#include "ddb.h"
#include "sigv4.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How many times a head whose conditional write was refused (another writer, such as a
 * backfill, moved it between the read and the write) is read again, its key's links
 * recomputed and its items and head written again. Past it the key's records count as
 * not written, and the stream's redelivery tries them later: a head moved that often
 * within one invocation means a writer that keeps racing, which waiting outlives. */
#define AS_CHAIN_STORE_MAX_CONDITION_RETRIES 3

/* How long before the call's deadline the items stop being sent, so that the heads of
 * those written can still move: without it, items slow enough to meet the deadline would
 * leave every head where it was, and the same batch would come back and meet it again. */
#define AS_CHAIN_STORE_HEAD_RESERVE_MS 300

/* One entry: a record's items, or a BASELINE item. Every span is borrowed for the call. */
typedef struct as_chain_entry {
    /* The items' historyKey as its JSON string body (escapes kept), as as_item.history_key
     * has it. Empty: the items are written as they are, not chained. */
    as_span history_key;
    /* The record's SequenceNumber as the stream gave it (its JSON string body, escapes
     * kept: 1 to 40 digits once decoded). Empty for a BASELINE item, which links like any entry but
     * leaves chainSeq as it was; empty without `baseline`: the items are written as they are. */
    as_span sequence_number;
    bool baseline;
    /* The entry's modificationTime (2024-05-01T12:30:45.000Z), as as_item has it. */
    as_span modification_time;
    /* The record's items, each its compact wire JSON without chain fields (as_item.json,
     * built with reserve_bytes AS_CHAIN_FIELDS_SIZE so that the fields fit). */
    const as_span *items;
    size_t item_count;
} as_chain_entry;

/* What became of an entry. */
typedef enum as_chain_outcome {
    AS_CHAIN_NOT_ATTEMPTED = 0, /* the deadline came (or the call stopped) first */
    AS_CHAIN_LINKED,            /* items written and the head moved over the entry */
    AS_CHAIN_PLAIN,             /* not chainable: items written as they are */
    AS_CHAIN_SKIPPED,           /* sequence number not above chainSeq: chained before (a
                                   redelivery); nothing sent, counts as written */
    AS_CHAIN_ALREADY_THERE,     /* if_absent: an item of it was in the table already, on
                                   the chain (the head's entry, or behind the head) or
                                   written without chain fields; the head did not move */
    AS_CHAIN_FAILED,            /* not written: see the items' results */
    AS_CHAIN_LATE               /* a BASELINE not linked (nothing sent): the head it would
                                   follow has a chainTime at or after its modificationTime,
                                   so it would sort before an entry it follows (verify:
                                   missing). Counts as not written, error type
                                   AS_CHAIN_LATE_TYPE, AS_CHAIN_LATE_MESSAGE */
} as_chain_outcome;

/* The error type and message of a BASELINE's items left out as AS_CHAIN_LATE, for
 * backfill to tell and print. */
#define AS_CHAIN_LATE_TYPE    "ChainOutOfOrder"
#define AS_CHAIN_LATE_MESSAGE "a later change is already chained; run backfill again"

/* "not attempted", "linked", "plain", "skipped", "already there", "failed", "late". */
const char *as_chain_outcome_name(as_chain_outcome outcome);

typedef struct as_chain_store_options {
    const char *table;          /* the Audit table; required, copied */
    as_ddb_write_api write_api; /* how the items go out (the heads always by PutItem) */
    /* Backfill: the items are written with attribute_not_exists(id), and a source item may
     * have one entry a call at most. A BASELINE (of one item) found there already is read
     * back (BatchGetItem, consistent): when its chainPrev is the head's chain (written by
     * an earlier call whose head write failed) the head moves over it as stored, and it
     * counts as written (AS_CHAIN_LINKED); on the chain it is AS_CHAIN_ALREADY_THERE;
     * otherwise it is reported (AS_CHAIN_FAILED, "ChainBroken"). */
    bool if_absent;
} as_chain_store_options;

/* A head this call moved: the anchor line's {"historyKey","sequenceNumber","chain"}.
 * Spans are borrowed from the store until its next write or free. */
typedef struct as_chain_moved {
    as_span history_key;     /* JSON string body, as the entry gave it */
    as_span sequence_number; /* the last linked entry's with one, as the stream gave it;
                                empty when only BASELINE entries were linked */
    char chain[AS_CHAIN_HEX_LEN + 1];
    uint64_t entries; /* the head's entries after the move */
} as_chain_moved;

/* The counts of one as_chain_store_write. */
typedef struct as_chain_stats {
    uint64_t requests_put_item;    /* PutItem requests: items (PutItem mode) and heads */
    uint64_t requests_batch_write; /* BatchWriteItem requests (items) */
    uint64_t requests_batch_get;   /* BatchGetItem requests (heads read and read again) */
    uint64_t retries;              /* all of the calls' retries after a backoff */
    uint64_t throttles;
    uint64_t unprocessed;       /* items BatchWriteItem returned unprocessed */
    uint64_t heads_moved;       /* heads written */
    uint64_t condition_retries; /* head writes refused by their condition, read again */
    uint64_t skipped;           /* entries skipped as chained before */
    as_ddb_stop stopped;        /* why a call inside ended early, if one did */
} as_chain_stats;

/* What the chain needs between calls: options, buffers and the moved heads; reused, so
 * that memory stays at its high-water mark. Not for use from two threads at once. */
typedef struct as_chain_store as_chain_store;

/* New store (free with as_chain_store_free). `client` and `credentials` are borrowed and
 * must outlive it. AS_ERR_ARGUMENT for a NULL argument or an empty table, AS_ERR_NOMEM. */
AS_MUST_CHECK as_status as_chain_store_new(as_ddb_client *client, const as_credentials *credentials,
                                           const as_chain_store_options *options,
                                           as_chain_store **out, as_error *err);
/* NULL is a no-op. */
void as_chain_store_free(as_chain_store *store);

/* Writes `entries` (in batch order: a source item's records in the order the stream gave
 * them) as docs/audit-format.md says: reads the heads of the source items held
 * (BatchGetItem, consistent), skips the entries whose sequence number is not above
 * chainSeq, links the rest per source item in order, writes every item (the plain ones
 * too) with `write_api`, and only then moves each head with a conditional PutItem
 * (chain = :old, or attribute_not_exists(id) for a new head). A refused condition reads
 * that head again and relinks and rewrites its source item's entries, up to
 * AS_CHAIN_STORE_MAX_CONDITION_RETRIES times. A head only moves over entries written in
 * a row: after an entry not written, its source item's later entries count as not
 * written too (redelivery relinks them from the head, which gives the same links).
 *
 * `results` (caller-owned, one per item of every entry, in entry order) says per item
 * whether its entry counts as written: AS_DDB_WRITTEN for a linked, plain or skipped
 * entry's items (skipped ones with 0 attempts), AS_DDB_ALREADY_THERE for an item that
 * was there (if_absent), AS_DDB_NOT_ATTEMPTED when the deadline came first, and
 * AS_DDB_FAILED otherwise, with the reason: the item's own write's, or the head's read
 * or write (its DynamoDB error type and a message beginning "chain head"),
 * "ChainBroken" for an entry after one not written, or AS_CHAIN_LATE_TYPE for a BASELINE
 * that would follow a head as late as itself (checked at each read of the head). `outcomes`
 * (caller-owned, optional, one per entry) says what became of each entry. `deadline_ms` as
 * as_ddb_put_items's, for the reads and the heads; the items stop AS_CHAIN_STORE_HEAD_RESERVE_MS
 * before it. `stats` (optional) is overwritten.
 *
 * AS_OK when the call ran, whatever DynamoDB answered. AS_ERR_ARGUMENT for a NULL
 * argument or a malformed entry (named by its index: no items, a sequence number that is
 * not 1 to 40 digits, a modificationTime that is not 24 characters, an item the digest
 * refuses, two entries of one source item with if_absent), before anything is sent;
 * AS_ERR_NOMEM. */
AS_MUST_CHECK as_status as_chain_store_write(as_chain_store *store, const as_chain_entry *entries,
                                             size_t count, int64_t deadline_ms,
                                             as_ddb_result *results, as_chain_outcome *outcomes,
                                             as_chain_stats *stats, as_error *err);

/* The heads the last as_chain_store_write moved, in the order their source items first
 * appear in its entries; *count gets how many. Borrowed until the next write or free. */
const as_chain_moved *as_chain_store_moved(const as_chain_store *store, size_t *count);

#ifdef __cplusplus
}
#endif

#endif
