/* Reading DynamoDB with the PutItem client's machinery (auditstream/ddb.h): Query and Scan
 * page by page, GetItem, BatchGetItem, DescribeTable, and PutItem only where absent. */
#ifndef AUDITSTREAM_DDB_READ_H
#define AUDITSTREAM_DDB_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "common.h"
#include "ddb.h"
#include "sigv4.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every call here goes through an as_ddb_client made by as_ddb_client_new: its
 * connections, signer, clock offset, CA bundle and retry quota, with as_ddb_put_items's
 * rules (retries, x-amz-crc32, skew repair, cleaned messages). Like it, a call returns
 * AS_OK when it ran, whatever DynamoDB answered: each request's own fate is in an
 * as_ddb_result (outcome AS_DDB_ANSWERED, or AS_DDB_FAILED with error_type and message;
 * as_ddb_error_kind sorts it), and `stats` (optional) gets the call's counts: `pages`
 * the answers handed over, `written` the requests answered, `failed` those that failed. An error return is the call's own failure: AS_ERR_ARGUMENT for what the
 * caller passed (nothing is sent), AS_ERR_NOMEM for memory or libcurl, as put_items,
 * and for an answer that could not be held or read for want of memory.
 * The default cap on one response body for a read: a Query or Scan page holds up to
 * 1 MB of items, which DynamoDB's JSON (type tags, quotes, escapes) can make several
 * times longer. Every read takes its own cap (`max_response_bytes`, 0 for this one); a
 * call holds at most one response per connection (as_ddb_config.concurrency) at a time,
 * and the connections keep their buffers for the next call. */
#define AS_DDB_DEFAULT_MAX_READ_RESPONSE ((size_t)16 * 1024 * 1024)
/* BatchGetItem's most keys per request, and the most segments a Scan may ask for. */
#define AS_DDB_BATCH_GET_MAX   100
#define AS_DDB_MAX_SEGMENTS    1000000u
/* The requests (and so the results) a BatchGetItem of `keys` keys needs. */
#define AS_DDB_BATCH_GET_REQUESTS(keys) (((keys) + AS_DDB_BATCH_GET_MAX - 1) / AS_DDB_BATCH_GET_MAX)

/* What a failed request's error_type means to a caller deciding what to say. */
typedef enum as_ddb_error_kind {
    AS_DDB_KIND_NONE = 0,    /* not failed */
    AS_DDB_KIND_NOT_FOUND,   /* ResourceNotFoundException: no such table or index */
    AS_DDB_KIND_DENIED,      /* AccessDeniedException, and the credential and signature
                                refusals (UnrecognizedClientException, InvalidClientTokenId,
                                InvalidSignatureException, SignatureDoesNotMatch,
                                MissingAuthenticationToken, ExpiredToken...) */
    AS_DDB_KIND_CONNECTION,  /* ConnectionError, Timeout, TlsError: DynamoDB not reached */
    AS_DDB_KIND_THROTTLED,   /* throttling, still so after the last attempt */
    AS_DDB_KIND_VALIDATION,  /* ValidationException: the request itself is wrong */
    AS_DDB_KIND_OTHER        /* anything else (5xx, checksum, caller stop, ...) */
} as_ddb_error_kind;

/* The kind of `result` (NONE unless its outcome is AS_DDB_FAILED); NULL gives NONE. */
as_ddb_error_kind as_ddb_error_kind_of(const as_ddb_result *result);
/* Short static name: "none", "not_found", "denied", "connection", "throttled",
 * "validation", "other". */
const char *as_ddb_error_kind_name(as_ddb_error_kind kind);

/* ---- one request ---------------------------------------------------------------------------- */

/* Sends one request, `operation` ("DescribeTable": the X-Amz-Target's part after
 * "DynamoDB_20120810."; letters only) with `body` (a JSON object's text, borrowed, sent
 * as is), retried as put_items retries, and on AS_DDB_ANSWERED leaves the 2xx answer's
 * body, as received, in `response` (caller-owned; cleared first; left empty otherwise).
 * `deadline_ms` as put_items's; `max_response_bytes` 0 is
 * AS_DDB_DEFAULT_MAX_READ_RESPONSE. The other calls here are built on it. */
AS_MUST_CHECK as_status as_ddb_request(as_ddb_client *client, const as_credentials *credentials,
                                       const char *operation, as_span body, int64_t deadline_ms,
                                       size_t max_response_bytes, as_buf *response,
                                       as_ddb_result *result, as_ddb_stats *stats, as_error *err);

/* ---- pages ---------------------------------------------------------------------------------- */

/* One answered page, handed to an as_ddb_page_fn. */
typedef struct as_ddb_page {
    /* The 2xx answer's body as received (numbers keep their text): {"Items":[...],
     * "Count":n,"LastEvaluatedKey":{...}} for Query and Scan, {"Responses":{"<table>":
     * [...]},"UnprocessedKeys":{...}} for BatchGetItem. Borrowed for the callback only. */
    as_span body;
    uint32_t segment; /* Scan: the segment; BatchGetItem: the request (keys 100*i...); else 0 */
    uint64_t page;    /* 0 for the segment's (request's) first answer, then 1, 2, ... */
    bool last;        /* no LastEvaluatedKey (no UnprocessedKeys): nothing follows */
} as_ddb_page;

/* Called for each page as it arrives, one at a time, from the calling thread; pages of
 * one segment come in order, pages of different segments interleave. Returns true to
 * go on, false to stop the whole call: nothing more is sent or delivered, the call
 * returns AS_OK with stats->stopped AS_DDB_STOP_CALLER. */
typedef bool (*as_ddb_page_fn)(const as_ddb_page *page, void *ctx);

/* A Query. Strings are borrowed for the call; NULL (or an empty span) leaves a
 * parameter out. Expression texts go into the request as JSON strings, escaped;
 * `names` and `values` are JSON objects' text put in as they are (checked to be JSON
 * objects), e.g. names {"#k":"historyKey"} and values {":k":{"S":"abc"},
 * ":t":{"S":"2024-05-01T00:00:00.000Z/~"}} for "#k = :k AND historySort <= :t". */
typedef struct as_ddb_query {
    const char *table;          /* required */
    const char *index;          /* IndexName: NULL for the table itself */
    const char *key_condition;  /* KeyConditionExpression, required */
    const char *filter;         /* FilterExpression */
    const char *projection;     /* ProjectionExpression */
    as_span names;              /* ExpressionAttributeNames */
    as_span values;             /* ExpressionAttributeValues */
    as_span start_key;          /* ExclusiveStartKey of the first page (to resume) */
    bool descending;            /* ScanIndexForward false */
    bool consistent_read;       /* ConsistentRead (not on a global secondary index) */
    uint32_t limit;             /* Limit: items a page reads at most; 0 for none */
    uint64_t max_pages;         /* stop after this many pages (the last one's body holds
                                   the LastEvaluatedKey to resume from); 0 for all */
    int64_t deadline_ms;        /* as put_items's; 0 for none */
    size_t max_response_bytes;  /* 0: AS_DDB_DEFAULT_MAX_READ_RESPONSE */
} as_ddb_query;

/* Runs `query` page after page, each following LastEvaluatedKey with ExclusiveStartKey,
 * and hands each page to `on_page` (required) until a page without LastEvaluatedKey,
 * `max_pages`, or the callback says stop. `result` (required) is the Query's fate: the
 * last page's request, AS_DDB_FAILED when one failed after its attempts (the pages
 * before it were delivered). Each page's request gets its own attempts. */
AS_MUST_CHECK as_status as_ddb_query_pages(as_ddb_client *client, const as_credentials *credentials,
                                           const as_ddb_query *query, as_ddb_page_fn on_page,
                                           void *ctx, as_ddb_result *result, as_ddb_stats *stats,
                                           as_error *err);

/* A parallel Scan of `segments` segments (Segment i of TotalSegments `segments`; 0 or 1
 * is a plain Scan), each followed through its pages, as many at once as the client has
 * connections. Strings borrowed; NULL leaves a parameter out, as for Query. */
typedef struct as_ddb_scan {
    const char *table; /* required */
    const char *index; /* IndexName */
    const char *filter;
    const char *projection; /* ProjectionExpression */
    as_span names;
    as_span values;
    uint32_t segments; /* TotalSegments, up to AS_DDB_MAX_SEGMENTS */
    bool consistent_read;
    uint32_t limit; /* Limit per page; 0 for none */
    int64_t deadline_ms;
    size_t max_response_bytes;
} as_ddb_scan;

/* Runs `scan`, handing every page of every segment to `on_page` (page->segment says
 * which). `results` (caller-owned, max(segments, 1) of them) is each segment's fate. */
AS_MUST_CHECK as_status as_ddb_scan_pages(as_ddb_client *client, const as_credentials *credentials,
                                          const as_ddb_scan *scan, as_ddb_page_fn on_page,
                                          void *ctx, as_ddb_result *results, as_ddb_stats *stats,
                                          as_error *err);

/* ---- items by key --------------------------------------------------------------------------- */

/* GetItem of `key` (a JSON object's text: {"id":{"S":"..."}}) in `table`.
 * `projection` and `names` optional (NULL, empty span). On AS_DDB_ANSWERED, `response`
 * (caller-owned, cleared first) holds the answer's body as received, {"Item":{...}} or
 * {} when there is no such item, and *found (optional) says which. */
AS_MUST_CHECK as_status as_ddb_get_item(as_ddb_client *client, const as_credentials *credentials,
                                        const char *table, as_span key, const char *projection,
                                        as_span names, bool consistent_read, int64_t deadline_ms,
                                        as_buf *response, bool *found, as_ddb_result *result,
                                        as_ddb_stats *stats, as_error *err);

/* A BatchGetItem of keys from one table. */
typedef struct as_ddb_batch_get {
    const char *table;   /* required */
    const as_span *keys; /* key_count keys, each a JSON object's text; borrowed */
    size_t key_count;
    const char *projection;
    as_span names;
    bool consistent_read;
    int64_t deadline_ms;
    size_t max_response_bytes;
} as_ddb_batch_get;

/* Gets the keys AS_DDB_BATCH_GET_MAX a request, the requests at once over the client's
 * connections, and hands each answer to `on_page` (page->segment is the request: keys
 * from 100 * segment). An answer with UnprocessedKeys is followed by a request for
 * those keys alone, after the backoff of a retry and paid as one from the quota and the
 * request's attempts, as the AWS SDKs advise; when the attempts or the quota run out
 * with keys left, the request fails with error_type "UnprocessedKeys". `results`
 * (caller-owned) holds AS_DDB_BATCH_GET_REQUESTS(key_count). The keys are not checked
 * for duplicates (DynamoDB refuses a request that repeats one). */
AS_MUST_CHECK as_status as_ddb_batch_get_items(as_ddb_client *client,
                                               const as_credentials *credentials,
                                               const as_ddb_batch_get *batch,
                                               as_ddb_page_fn on_page, void *ctx,
                                               as_ddb_result *results, as_ddb_stats *stats,
                                               as_error *err);

/* ---- DescribeTable -------------------------------------------------------------------------- */

#define AS_DDB_NAME_MAX   256 /* table, index and key attribute names (DynamoDB: 255) */
#define AS_DDB_STATUS_MAX 32
#define AS_DDB_ARN_MAX    512

/* A key schema: the hash key and, when there is one, the range key. Types are "S", "N"
 * or "B" (from AttributeDefinitions); "" when DynamoDB did not say. */
typedef struct as_ddb_key_schema {
    char hash_name[AS_DDB_NAME_MAX];
    char hash_type[2];
    char range_name[AS_DDB_NAME_MAX]; /* "" when the key has no range part */
    char range_type[2];
} as_ddb_key_schema;

typedef struct as_ddb_index_info {
    char name[AS_DDB_NAME_MAX];
    char status[AS_DDB_STATUS_MAX];   /* IndexStatus: "ACTIVE", "CREATING", ... */
    char projection[AS_DDB_STATUS_MAX]; /* ProjectionType: "ALL", "KEYS_ONLY", "INCLUDE" */
    as_ddb_key_schema keys;
} as_ddb_index_info;

typedef struct as_ddb_table_info {
    char name[AS_DDB_NAME_MAX];
    char status[AS_DDB_STATUS_MAX]; /* TableStatus: "ACTIVE", "CREATING", ... */
    as_ddb_key_schema keys;
    as_ddb_index_info *indexes; /* the global secondary indexes; new: as_ddb_table_info_free */
    size_t index_count;
    bool stream_enabled;                   /* StreamSpecification.StreamEnabled */
    char stream_view_type[AS_DDB_STATUS_MAX]; /* "NEW_AND_OLD_IMAGES", ...; "" when none */
    char stream_arn[AS_DDB_ARN_MAX];          /* LatestStreamArn; "" when none */
    uint64_t item_count;                   /* ItemCount (DynamoDB updates it every ~6 h) */
} as_ddb_table_info;

/* DescribeTable of `table` into `info` (caller-owned; overwritten; free its indexes with
 * as_ddb_table_info_free, also after a failure). A missing table is AS_OK with
 * result->outcome AS_DDB_FAILED and as_ddb_error_kind_of AS_DDB_KIND_NOT_FOUND; a 2xx
 * answer without a readable Table (name, status, key schema) fails the result with
 * error_type "InvalidResponse". */
AS_MUST_CHECK as_status as_ddb_describe_table(as_ddb_client *client,
                                              const as_credentials *credentials,
                                              const char *table, int64_t deadline_ms,
                                              as_ddb_table_info *info, as_ddb_result *result,
                                              as_ddb_stats *stats, as_error *err);

/* The global secondary index called `name` in `info`, or NULL (borrowed from info). */
const as_ddb_index_info *as_ddb_table_info_index(const as_ddb_table_info *info, const char *name);

/* Frees `info->indexes` and empties it. NULL is a no-op. */
void as_ddb_table_info_free(as_ddb_table_info *info);

/* ---- conditional writes --------------------------------------------------------------------- */

/* as_ddb_put_items with ConditionExpression "attribute_not_exists(id)": an item whose id
 * is already in the table is not written and its result is AS_DDB_ALREADY_THERE (not a
 * failure: DynamoDB's ConditionalCheckFailedException, stats->already_there), so that
 * writing the same items twice adds and rewrites nothing. Everything else as
 * put_items, but for memory: an answer that cannot be held for want of it stops the call
 * with AS_ERR_NOMEM, as the reads do (put_items fails that one item). */
AS_MUST_CHECK as_status as_ddb_put_items_if_absent(as_ddb_client *client,
                                                   const as_credentials *credentials,
                                                   const char *table, const as_span *items,
                                                   size_t count, int64_t deadline_ms,
                                                   as_ddb_result *results, as_ddb_stats *stats,
                                                   as_error *err);

/* One write of as_ddb_put_items_if: an item and the condition it is written under. */
typedef struct as_ddb_conditional_put {
    as_span item;          /* the item's wire JSON, {"id":{"S":...},...}; borrowed */
    const char *condition; /* ConditionExpression, required: "chain = :old" */
    as_span values;        /* ExpressionAttributeValues, a JSON object's text put in as
                              it is ({":old":{"S":"..."}}); empty for none */
} as_ddb_conditional_put;

/* PutItem of each `puts[i]` under its own ConditionExpression (the chain's heads move
 * with it: auditstream/chain_store.h), as many at once as the client has connections. A
 * write whose condition does not hold (ConditionalCheckFailedException) is
 * AS_DDB_CONDITION_FAILED, its own outcome and not a failure, and is not retried: the
 * caller reads again and decides. Everything else as as_ddb_put_items_if_absent (an
 * answer that cannot be held for want of memory stops the call with AS_ERR_NOMEM).
 * AS_ERR_ARGUMENT, before anything is sent, for a missing condition or `values` that are
 * not one JSON object. `results` (caller-owned) holds `count`. */
AS_MUST_CHECK as_status as_ddb_put_items_if(as_ddb_client *client, const as_credentials *credentials,
                                            const char *table, const as_ddb_conditional_put *puts,
                                            size_t count, int64_t deadline_ms,
                                            as_ddb_result *results, as_ddb_stats *stats,
                                            as_error *err);

#ifdef __cplusplus
}
#endif

#endif
