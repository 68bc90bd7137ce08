/* Building the audit items of stream records in the `classic` or `detailed`
 * format (docs/audit-format.md), serialized straight into DynamoDB wire JSON. */
#ifndef AUDITSTREAM_AUDIT_H
#define AUDITSTREAM_AUDIT_H

#include "common.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum as_format { AS_FORMAT_CLASSIC = 0, AS_FORMAT_DETAILED } as_format;

/* Parses "classic" or "detailed" (exact, lower case). */
AS_MUST_CHECK as_status as_format_parse(const char *text, as_format *out);

typedef struct as_audit_options {
    as_format format;
    /* Borrowed: top-level attribute names (raw bytes) not audited at all: left out of the
     * diffs, of the whole images (classic newValue/oldValue, detailed oldImage/newImage),
     * of updatedAttributes and changes, in both formats. A record's key attributes (the
     * names in its Keys) are never left out, whatever the list says. While the list is
     * set, error items carry rawRecordSha256 and rawRecordSize instead of rawRecord: an
     * invalid record cannot be trusted to be cut apart, so none of its values is stored. */
    const as_span *ignore;
    size_t ignore_count;
    /* Epoch milliseconds to stamp records that carry no ApproximateCreationDateTime:
     * the caller's clock, since the library reads none. */
    int64_t now_ms;
    /* AUDIT_ACTOR_ATTRIBUTE (raw bytes; empty: none): the attribute in which the
     * application records who made a change. CREATE and UPDATE items get `actor` = its S
     * value in the NewImage and `actorSource` "item"; a user's DELETE the OldImage's and
     * "last-writer". A TTL delete gets actor "dynamodb.amazonaws.com" and actorSource "ttl"
     * whether this is set or not. Neither field when the image lacks the attribute or it
     * is not an S, nor on error items (but a TTL delete's) and BASELINE items. */
    as_span actor_attribute;
    /* AUDIT_RETENTION_DAYS (0: none; else 1..AS_AUDIT_MAX_RETENTION_DAYS): every item with
     * a modificationTime gets expiresAt (N) = floor(its epoch seconds) + days x 86400. */
    uint32_t retention_days;
    /* Borrowed: AUDIT_REDACT_ATTRIBUTES, top-level attribute names (raw bytes) whose
     * changes are audited but whose values are never stored: every value of them in an
     * item is replaced by {"M":{"redacted":{"BOOL":true}}}, plus "hmac" (S, lower-case hex
     * HMAC-SHA256 of the value's canonical form) when `redact_key` is set; changes paths
     * below such an attribute collapse to "/<name>". Key attributes are never redacted.
     * While the list is set, error items withhold rawRecord as with `ignore`. */
    const as_span *redact;
    size_t redact_count;
    /* Borrowed: the HMAC key (the bytes AUDIT_REDACT_KEY's base64 decodes to, at least
     * AS_AUDIT_MIN_REDACT_KEY); NULL or 0 length: redacted values carry no hmac. */
    const uint8_t *redact_key;
    size_t redact_key_len;
    /* Bytes to leave free under DynamoDB's 400 KB when sizing an item, for fields added
     * after it is built (the hash chain's: AS_CHAIN_FIELDS_SIZE); 0 for none. */
    uint32_t reserve_bytes;
} as_audit_options;

/* AUDIT_RETENTION_DAYS' range, and the shortest AUDIT_REDACT_KEY (decoded bytes). */
#define AS_AUDIT_MAX_RETENTION_DAYS 36500u
#define AS_AUDIT_MIN_REDACT_KEY     32u

/* Bits of as_item.flags. */
enum {
    AS_ITEM_ERROR = 1u << 0,          /* the record was invalid: an `error` item */
    AS_ITEM_TRUNCATED = 1u << 1,      /* values were replaced to fit DynamoDB's 400 KB */
    AS_ITEM_MISSING_IMAGES = 1u << 2, /* the record lacked the images its event implies */
    AS_ITEM_PROCESSING_TIME = 1u << 3 /* modificationTime is now_ms, not the record's */
};

/* DynamoDB's item size limit and nesting limit. */
#define AS_ITEM_MAX_SIZE  409600u
#define AS_ITEM_MAX_DEPTH 32u

/* One built item. Spans are borrowed from the as_items that holds it. */
typedef struct as_item {
    as_span json;   /* compact wire JSON: {"id":{"S":"..."},...} */
    size_t record;  /* the as_record.index it stands for */
    uint32_t flags; /* AS_ITEM_* */
    uint64_t size;  /* DynamoDB's size of the item as written */
    as_span reason; /* AS_ITEM_ERROR: why the record was invalid; else empty */
    /* The item's own attributes, as the JSON string bodies written (escapes kept: the
     * bytes between the quotes), borrowed like `json`; empty when the item has none. */
    as_span id;
    as_span history_key;       /* <table>/<itemKey> */
    as_span history_sort;      /* <modificationTime>/<40-digit sequence number> */
    as_span modification_time; /* 2024-05-01T12:30:45.000Z */
} as_item;

/* A reusable list of built items, with the scratch space building needs. */
typedef struct as_items as_items;

/* New empty list (free with as_items_free), or NULL when out of memory. */
as_items *as_items_new(void);
/* NULL is a no-op. */
void as_items_free(as_items *items);
/* Forgets the items, keeps the storage; also what makes a list usable again after a
 * build failed (the items built before the failure stay until then). NULL is a no-op. */
void as_items_clear(as_items *items);
/* 0 for NULL. */
size_t as_items_count(const as_items *items);
/* By value; its spans are valid until the next build into, clear or free of `items`.
 * An item with a NULL json span (all zero) when `index` >= count or `items` is NULL. */
as_item as_items_get(const as_items *items, size_t index);

/* Appends the audit items of one record, in the order docs/audit-format.md gives. An invalid
 * record yields its error item; this fails only with AS_ERR_NOMEM or AS_ERR_ARGUMENT (a
 * NULL argument, or options out of range: retention_days past the maximum, a redact_key
 * shorter than AS_AUDIT_MIN_REDACT_KEY, a NULL list or key with a count, the actor
 * attribute also ignored or redacted, reserve_bytes past half of AS_ITEM_MAX_SIZE). */
AS_MUST_CHECK as_status as_audit_build(const as_record *record, const as_audit_options *options,
                                       as_items *out, as_error *err);

/* as_audit_build for every record of `event`, in order. */
AS_MUST_CHECK as_status as_audit_build_event(const as_event *event, const as_audit_options *options,
                                             as_items *out, as_error *err);

/* An item of the source table as a Scan read it, for backfill's BASELINE item. */
typedef struct as_baseline {
    /* Borrowed: the item, a map (type M, as_value's layout) whose members are its
     * attributes, e.g. a decoded record's NewImage. Its values are copied as received. */
    const as_value *item;
    /* Borrowed: the table's key attribute names (raw bytes), from its key schema: the
     * hash key, then the range key when there is one (1 or 2 names). */
    const as_span *key_names;
    size_t key_count;
    /* The source table's name (raw bytes), for historyKey and tableName. */
    as_span table;
    /* When the scan read the item, epoch milliseconds: the item's modificationTime. */
    int64_t read_ms;
} as_baseline;

/* Appends the one BASELINE item of `baseline->item` in options->format
 * (docs/audit-format.md, "BASELINE items"): eventName BASELINE, the image as read less
 * the ignored attributes, redacted ones as their markers (classic newValue, detailed
 * newImage with keys, tableName, updatedAttributes and changes), modificationTime =
 * read_ms, expiresAt with retention, no actor, historySort with 40 zeros for the
 * sequence number, and id = UUIDv5 of
 * "baseline/<historyKey>/<hex SHA-256 of the canonical form of the image as written>",
 * so that the same image read again gives the same id, and no id carries a digest of a
 * redacted value. options->now_ms is not used. The item's `record` is 0. Fails with
 * AS_ERR_ARGUMENT (a NULL argument, options out of range as for as_audit_build, an item
 * that is not a map, a key name the item lacks or whose value is not a non-empty S, N or
 * B, no key or more than two, an empty table name, a read time outside 1970..9999),
 * AS_ERR_LIMIT (the item would nest deeper than DynamoDB's 32 levels once wrapped) or
 * AS_ERR_NOMEM; nothing is appended then. */
AS_MUST_CHECK as_status as_audit_build_baseline(const as_baseline *baseline,
                                                const as_audit_options *options, as_items *out,
                                                as_error *err);

#ifdef __cplusplus
}
#endif

#endif
