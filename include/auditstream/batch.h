/* One invocation of a DynamoDB Streams audit function, end to end: decode the event,
 * build the audit items, write them, and turn what happened into Lambda's partial batch
 * response (ReportBatchItemFailures), an invocation error, log lines and metrics. */
#ifndef AUDITSTREAM_BATCH_H
#define AUDITSTREAM_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "buf.h"
#include "common.h"
#include "ddb.h"
#include "log.h"
#include "sigv4.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How long before the invocation's deadline writing stops, by default: room to cut off
 * the requests in flight, write the log lines and post the response to the Runtime API
 * (milliseconds of work, even on a 128 MB function's slice of a CPU), with a wide
 * margin, because a function that overruns is killed and its whole batch retried. */
#define AS_BATCH_DEFAULT_MARGIN_MS 250
/* The margin never takes more than this share (1/n) of the time left when the
 * invocation arrives, so that even a short timeout leaves time to make progress. */
#define AS_BATCH_MARGIN_MAX_SHARE 4
/* Detail lines of one kind (invalid records, failed items, truncated items) logged per
 * invocation at most; one more line counts the rest. */
#define AS_BATCH_LOG_DETAIL_MAX 20
/* The CloudWatch namespace of as_batch_log_metrics. */
#define AS_BATCH_METRICS_NAMESPACE "libauditstream"

/* The error types of an invocation that fails (see as_runtime_fail). */
#define AS_BATCH_ERROR_INVALID_EVENT "InvalidEvent"
#define AS_BATCH_ERROR_WRITE_FAILED  "AuditWriteFailed"
#define AS_BATCH_ERROR_INTERNAL      "InternalError"

typedef struct as_batch_options {
    const char *table; /* required; copied */
    as_format format;
    /* Top-level attribute names left out of MODIFY diffs (raw bytes); copied. May be
     * NULL when `ignore_count` is 0. */
    const as_span *ignore;
    size_t ignore_count;
    /* The trust settings, as as_audit_options has them (docs/configuration.md); the
     * names and the key are copied, and the key's copy is wiped by as_batch_free. */
    as_span actor_attribute;
    uint32_t retention_days;
    const as_span *redact;
    size_t redact_count;
    const uint8_t *redact_key;
    size_t redact_key_len;
    /* AUDIT_CHAIN=on: link each source item's records into its hash chain and move its
     * head (docs/audit-format.md, "The hash chain"). */
    bool chain;
    /* AUDIT_WRITE_API: PutItem (one item a request) or BatchWriteItem (up to 25). */
    as_ddb_write_api write_api;
    uint32_t margin_ms; /* 0: AS_BATCH_DEFAULT_MARGIN_MS */
    /* Epoch ms. It must be the clock the DynamoDB client was made with, since the client
     * measures the write deadline on its own. NULL: clock_gettime(CLOCK_REALTIME), the
     * client's default too. */
    as_ddb_clock_fn clock;
    void *clock_ctx;
} as_batch_options;

/* What one invocation needs and keeps between invocations: the options, the item
 * list, the per-item arrays, and the buffers; all reused, so that memory stays at its
 * high-water mark. Not for use from two threads at once. */
typedef struct as_batch as_batch;

/* New batch processor (free with as_batch_free). `client` and `credentials` are
 * borrowed and must outlive it (the secret is never copied). AS_ERR_ARGUMENT for a
 * NULL argument or an empty table, AS_ERR_NOMEM. */
AS_MUST_CHECK as_status as_batch_new(as_ddb_client *client, const as_credentials *credentials,
                                     const as_batch_options *options, as_batch **out,
                                     as_error *err);
/* NULL is a no-op. */
void as_batch_free(as_batch *batch);

typedef enum as_batch_outcome {
    /* Every record's items were written (a record with none counts as written): the
     * response is {"batchItemFailures":[]}. */
    AS_BATCH_COMPLETE = 0,
    /* Some record was not written, but not the whole batch failed: the response names
     * one record, where Lambda checkpoints and redelivers from (see item_identifier). */
    AS_BATCH_PARTIAL,
    /* Not one record could be written: an invocation error, AuditWriteFailed, so that
     * Lambda's Errors metric and bisect-on-error see it. */
    AS_BATCH_WRITE_FAILED,
    /* The payload is not a DynamoDB Streams event: an invocation error, InvalidEvent. */
    AS_BATCH_INVALID_EVENT,
    /* Processing itself failed (out of memory): an invocation error, InternalError. */
    AS_BATCH_INTERNAL_ERROR
} as_batch_outcome;

/* "complete", "partial", "write_failed", "invalid_event", "internal_error". */
const char *as_batch_outcome_name(as_batch_outcome outcome);

/* The counts of one invocation: the summary line's and the metrics'. */
typedef struct as_batch_stats {
    uint64_t records;         /* records in the event */
    uint64_t records_failed;  /* records with an item not written */
    uint64_t items;           /* audit items built */
    uint64_t written;         /* items written */
    uint64_t failed;          /* items that failed after their last attempt */
    uint64_t not_attempted;   /* items never sent: the deadline came first */
    uint64_t requests;        /* write requests sent (PutItem or BatchWriteItem) */
    uint64_t requests_put_item;      /* of which PutItem (items, and chain heads) */
    uint64_t requests_batch_write;   /* of which BatchWriteItem */
    uint64_t requests_batch_get;     /* BatchGetItem requests (chain heads read) */
    uint64_t unprocessed;            /* items BatchWriteItem returned unprocessed */
    uint64_t chain_heads_moved;      /* chain heads written */
    uint64_t chain_condition_retries;/* head writes refused by their condition, read again */
    uint64_t chain_skipped;          /* records already chained (a redelivery): not written */
    uint64_t retries;         /* retries after a backoff */
    uint64_t throttles;       /* throttling answers */
    uint64_t error_items;     /* invalid records, written as error items */
    uint64_t truncated;       /* items with values replaced to fit 400 KB */
    uint64_t missing_images;  /* records without the images their event implies */
    uint64_t processing_time; /* records stamped with the processing time */
    uint64_t duration_ms;     /* from the start of as_batch_process to its end */
} as_batch_stats;

typedef struct as_batch_result {
    as_batch_outcome outcome;
    as_batch_stats stats;
    /* AS_BATCH_PARTIAL: the itemIdentifier sent, a SequenceNumber as the JSON string
     * body it was received as (escapes kept), never empty. It is the first record (in
     * batch order) with an item not written, or, when that record has no
     * SequenceNumber (an invalid record), the nearest record before it that has one:
     * Lambda then redelivers from a little earlier, which the idempotent ids make
     * harmless. When no record before it has one either, the outcome is
     * AS_BATCH_WRITE_FAILED instead (the whole batch is retried). Borrowed from the
     * batch until its next process or free; empty otherwise. */
    as_span item_identifier;
    /* AS_BATCH_PARTIAL and AS_BATCH_WRITE_FAILED: the index of the first record not
     * written; the index of the record item_identifier belongs to. */
    size_t first_failed_record;
    size_t identifier_record;
    /* The deadline given to as_ddb_put_items (epoch ms), 0 when there was none (the
     * invocation's was missing or already past on arrival). */
    int64_t write_deadline_ms;
    /* Why writing ended before every item had run its course (AS_DDB_STOP_NONE when
     * it did not): the deadline, or a failure of the write call itself. */
    as_ddb_stop write_stop;
    int64_t started_ms;  /* the batch's clock at the start, epoch ms */
    int64_t finished_ms; /* and at the end */
    /* The error outcomes: AS_BATCH_ERROR_* and a message saying why (with the first
     * failure DynamoDB gave, which never holds a credential). Empty otherwise. */
    char error_type[32];
    char error_message[512];
} as_batch_result;

/* Processes one invocation's `payload` (borrowed for the call): decodes it, builds the
 * audit items, writes them with as_ddb_put_items until `deadline_ms` (the invocation's
 * Lambda-Runtime-Deadline-Ms) less the margin, and fills `result`. A deadline that is 0
 * (missing) or not after the batch's clock on arrival counts as unknown: writing then
 * has no deadline. The margin is min(options.margin_ms, time left / 4).
 *
 * When `log` and `log_out` are both given, appends log lines (see as_log_line) about
 * what went wrong in detail: an ERROR line per invalid record and per item not
 * written, a WARN line per truncated item (each kind capped at
 * AS_BATCH_LOG_DETAIL_MAX, then one line counting the rest), one WARN line for records
 * missing images and one for records stamped with the processing time, one WARN line
 * when the deadline stopped writing, one ERROR line naming the real reason when the
 * write call stopped early for another (result->write_stop: a signing failure, no
 * memory, ...), one ERROR line for a payload that is not an event, and, with the chain
 * on, one INFO line "chain heads" with field "heads", [{"historyKey","sequenceNumber",
 * "chain"}], the heads moved (the anchors), when one moved. The summary and
 * the metrics are separate (below).
 *
 * AS_OK when the invocation was judged: `result->outcome` says how, and may well be
 * an error outcome. AS_ERR_NOMEM when memory ran out (`result` is then
 * AS_BATCH_INTERNAL_ERROR, still fit for as_batch_reply), AS_ERR_ARGUMENT for a NULL
 * `batch` or `result`, or a payload with a length and no bytes (`result` untouched). */
AS_MUST_CHECK as_status as_batch_process(as_batch *batch, as_span payload, int64_t deadline_ms,
                                         const as_log *log, as_buf *log_out,
                                         as_batch_result *result, as_error *err);

/* Writes `result` into `reply` (an as_runtime_reply *, from auditstream/runtime.h,
 * which this header leaves out since nothing else here needs the runtime):
 * {"batchItemFailures":[]} or
 * {"batchItemFailures":[{"itemIdentifier":"<sequence number>"}]} into the body, or the
 * error type and message for an error outcome. */
struct as_runtime_reply;
void as_batch_reply(const as_batch_result *result, struct as_runtime_reply *reply);

/* Appends the invocation's summary line: INFO when complete, WARN when partial, ERROR
 * otherwise; the message names the outcome and the fields are the stats (snake_case,
 * as in as_batch_stats), plus item_identifier when partial. Stamped finished_ms. */
void as_batch_log_summary(const as_log *log, const as_batch_result *result, as_buf *out);

/* Appends the invocation's Embedded Metric Format line (see as_log_emf): namespace
 * AS_BATCH_METRICS_NAMESPACE, dimension FunctionName = `function_name`, and the stats
 * as metrics: Records, RecordsFailed, Items, ItemsWritten, ItemsFailed,
 * ItemsNotAttempted, Requests, RequestsPutItem, RequestsBatchWriteItem,
 * RequestsBatchGetItem, UnprocessedItems, ChainHeadsMoved, ChainConditionRetries,
 * ChainSkipped, Retries, Throttles, ErrorItems, TruncatedItems, RecordsMissingImages,
 * RecordsProcessingTime (Count) and Duration (Milliseconds).
 * Stamped finished_ms. */
void as_batch_log_metrics(const as_batch_result *result, as_span function_name, as_buf *out);

#ifdef __cplusplus
}
#endif

#endif
