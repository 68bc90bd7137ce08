/* A DynamoDB PutItem client over libcurl: many items written concurrently over kept-alive
 * connections, with the AWS SDKs' standard retry mode, x-amz-crc32 checks and skew repair. */
#ifndef AUDITSTREAM_DDB_H
#define AUDITSTREAM_DDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "sigv4.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults for the zero fields of as_ddb_config. */
#define AS_DDB_DEFAULT_CONCURRENCY        8
#define AS_DDB_MAX_CONCURRENCY            256
#define AS_DDB_DEFAULT_MAX_ATTEMPTS       3   /* standard mode's, as AWS_MAX_ATTEMPTS */
#define AS_DDB_MAX_ATTEMPTS_LIMIT         100 /* the most AWS_MAX_ATTEMPTS may ask for */
#define AS_DDB_DEFAULT_BASE_DELAY_MS      25  /* DynamoDB's base delay in the SDKs */
#define AS_DDB_DEFAULT_MAX_BACKOFF_MS     20000
#define AS_DDB_DEFAULT_CONNECT_TIMEOUT_MS 3000
#define AS_DDB_DEFAULT_ATTEMPT_TIMEOUT_MS 10000
#define AS_DDB_DEFAULT_MAX_RESPONSE       65536 /* a larger response body is an error */
#define AS_DDB_DEFAULT_RETRY_QUOTA        500   /* standard mode's retry token bucket */
#define AS_DDB_RETRY_COST                 5
#define AS_DDB_TIMEOUT_RETRY_COST         10
/* Clock-skew correction, which a "Signature expired" answer (DynamoDB refuses a
 * signature over 5 minutes off) asks for. A correction is taken only from a response
 * whose Date differs from the time the request was signed with by more than
 * AS_DDB_SKEW_MIN_MS (under DynamoDB's 5 minutes, so that latency and the Date's
 * whole seconds cannot hide a real skew, and a Date that shows none corrects nothing),
 * only up to AS_DDB_SKEW_MAX_MS from the local clock (a day covers any time-zone
 * mistake; a Lambda host's clock is synchronised, so more is a broken or hostile
 * answer), and never from a Date before AS_DDB_SKEW_DATE_MIN (epoch s, 2000-01-01) or
 * past the signer's range. The AWS SDKs accept any Date; one bad answer must not leave
 * this client unable to sign. */
#define AS_DDB_SKEW_MIN_MS   INT64_C(240000)
#define AS_DDB_SKEW_MAX_MS   INT64_C(86400000)
#define AS_DDB_SKEW_DATE_MIN INT64_C(946684800)

/* Epoch milliseconds, like CLOCK_REALTIME. `ctx` is as_ddb_config.clock_ctx. */
typedef int64_t (*as_ddb_clock_fn)(void *ctx);
/* 64 uniformly random bits (for backoff jitter, not for secrets). */
typedef uint64_t (*as_ddb_random_fn)(void *ctx);
/* Whether `path` is a regular file that can be read (the CA bundle search asks it: a
 * directory passes access(2) and then fails every TLS handshake). */
typedef bool (*as_ddb_exists_fn)(const char *path, void *ctx);

/* How to reach DynamoDB. Zero-initialise it, then fill what you need: every zero
 * number means the default above, every NULL the default below. All strings are
 * borrowed for the length of as_ddb_client_new, which copies what it keeps. */
typedef struct as_ddb_config {
    const char *region; /* "eu-west-1"; required */
    /* "https://host[:port][/]" or a loopback "http://..." (see as_ddb_endpoint_resolve);
     * NULL or "" for the region's own endpoint. */
    const char *endpoint_url;
    /* The CA bundle (PEM file) TLS peers are verified against; NULL to look for one (see
     * as_ddb_ca_bundle_find). `ca_bundle_source` names where it came from for error
     * messages ("AWS_CA_BUNDLE"); NULL says "ca_bundle". */
    const char *ca_bundle;
    const char *ca_bundle_source;
    uint32_t concurrency;        /* requests in flight at once, 1..AS_DDB_MAX_CONCURRENCY */
    uint32_t max_attempts;       /* attempts per item, first included */
    uint32_t base_delay_ms;      /* backoff base; tests make it 1 */
    uint32_t max_backoff_ms;     /* the 20 s cap on one backoff */
    uint32_t connect_timeout_ms; /* per connection */
    uint32_t attempt_timeout_ms; /* per attempt, connecting included */
    uint32_t retry_quota;        /* initial and largest retry token count */
    size_t max_response_bytes;   /* response bodies over this fail the attempt */
    as_ddb_clock_fn clock;       /* NULL: clock_gettime(CLOCK_REALTIME) */
    void *clock_ctx;
    as_ddb_random_fn random; /* NULL: a PRNG seeded from getrandom(2) */
    void *random_ctx;
} as_ddb_config;

/* The client reads no environment: as_ddb_config_from_env (auditstream/config.h) fills
 * an as_ddb_config from it. */

/* The resolved endpoint: what curl connects to and the Host header that is signed. */
#define AS_DDB_URL_MAX  1024
#define AS_DDB_HOST_MAX 512
typedef struct as_ddb_endpoint {
    char url[AS_DDB_URL_MAX];   /* "https://dynamodb.eu-west-1.amazonaws.com/", NUL-terminated */
    char host[AS_DDB_HOST_MAX]; /* "dynamodb.eu-west-1.amazonaws.com", "127.0.0.1:8000" */
    bool tls;                   /* https */
} as_ddb_endpoint;

/* Pure. `endpoint_url` NULL or "" gives https://dynamodb.<region>.amazonaws.com
 * (amazonaws.com.cn for regions starting "cn-"). Otherwise the URL must be http or
 * https, with a host, an optional port (1..65535) and nothing after but an optional
 * "/": no user info, other path, query or fragment. Plain http is refused unless the
 * host is loopback (localhost, 127.x.x.x or [::1]), so that nothing signed crosses a
 * network in the clear. The Host header carries the port when it is not the scheme's
 * default. AS_ERR_ARGUMENT says what is wrong. */
AS_MUST_CHECK as_status as_ddb_endpoint_resolve(const char *endpoint_url, const char *region,
                                                as_ddb_endpoint *out, as_error *err);

/* The CA bundles looked for, in order (Amazon Linux and RHEL, Debian and Ubuntu,
 * Fedora, SUSE, Alpine), terminated by NULL. */
extern const char *const as_ddb_ca_paths[];

/* Pure but for `exists`. A `configured` bundle (non-NULL, non-empty) is used when
 * `exists` says so and is an error naming `source` when not (a directory, a missing or
 * unreadable file: the client uses stat(2) and access(2)); otherwise *out is the
 * first of as_ddb_ca_paths that exists, or NULL when none does (libcurl's built-in
 * default then applies, if it has one: see as_ddb_ca_check). *out is `configured` or a
 * static string. */
AS_MUST_CHECK as_status as_ddb_ca_bundle_find(const char *configured, const char *source,
                                              as_ddb_exists_fn exists, void *ctx, const char **out,
                                              as_error *err);

/* Pure. Whether TLS peers can be verified at all: fine for plain http (`tls` false), for
 * a `ca_bundle` (what as_ddb_ca_bundle_find found), or when libcurl has a default of its
 * own (`curl_cainfo`, `curl_capath`: curl_version_info()'s cainfo and capath, NULL in a
 * libcurl built --without-ca-bundle --without-ca-path); NULL and "" count as none. Else
 * AS_ERR_ARGUMENT, whose message names what was looked at (AWS_CA_BUNDLE, SSL_CERT_FILE,
 * as_ddb_ca_paths, libcurl's default) and says to set AWS_CA_BUNDLE: every write would
 * fail verification otherwise. as_ddb_client_new asks it with the linked libcurl's. */
AS_MUST_CHECK as_status as_ddb_ca_check(bool tls, const char *ca_bundle, const char *curl_cainfo,
                                        const char *curl_capath, as_error *err);

/* Deprecated since 0.2.0: the old names of as_global_init and as_global_cleanup
 * (auditstream/global.h), which the runtime client needs as well. */
#if defined(__GNUC__) || defined(__clang__)
#define AS_DDB_DEPRECATED(use) __attribute__((deprecated("use " use)))
#else
#define AS_DDB_DEPRECATED(use)
#endif
AS_MUST_CHECK AS_DDB_DEPRECATED("as_global_init") as_status as_ddb_global_init(as_error *err);
AS_DDB_DEPRECATED("as_global_cleanup") void as_ddb_global_cleanup(void);

/* A client: the curl multi handle and its connection cache, one easy handle per
 * concurrent request (reused across calls, so connections outlive a call), the SigV4
 * signer and its key cache, the clock offset learnt from DynamoDB, and the retry quota.
 * Not for use from two threads at once. */
typedef struct as_ddb_client as_ddb_client;

/* New client (free with as_ddb_client_free). Fails with AS_ERR_ARGUMENT for a bad
 * config (region, endpoint, CA bundle, a number out of range, or an https endpoint with
 * no CA bundle configured or found and a libcurl without a default: as_ddb_ca_check)
 * and AS_ERR_NOMEM when memory, libcurl or libcrypto fail; the message says which. TLS
 * peer and host verification are always on; proxies from the environment are not used. */
AS_MUST_CHECK as_status as_ddb_client_new(const as_ddb_config *config, as_ddb_client **out,
                                          as_error *err);
/* Closes the connections and wipes the signer. NULL is a no-op. */
void as_ddb_client_free(as_ddb_client *client);

/* The endpoint the client talks to (borrowed from the client). */
const as_ddb_endpoint *as_ddb_client_endpoint(const as_ddb_client *client);
/* The CA bundle in use, or NULL for libcurl's default (borrowed from the client). */
const char *as_ddb_client_ca_bundle(const as_ddb_client *client);
/* Milliseconds added to the clock when signing, learnt from a "Signature expired"
 * response's plausible Date header (see AS_DDB_SKEW_MIN_MS); 0 until then, and again
 * whenever signing with it fails. Always within +-AS_DDB_SKEW_MAX_MS. */
int64_t as_ddb_client_clock_offset_ms(const as_ddb_client *client);
/* Retry tokens left in the quota. */
uint32_t as_ddb_client_retry_tokens(const as_ddb_client *client);

typedef enum as_ddb_outcome {
    AS_DDB_NOT_ATTEMPTED = 0, /* never sent: the deadline came first, or the call failed */
    AS_DDB_WRITTEN,           /* a 2xx whose body matched its x-amz-crc32 (if sent) */
    AS_DDB_FAILED,            /* sent, and not written after the last attempt */
    /* as_ddb_put_items_if_absent (auditstream/ddb_read.h): DynamoDB refused the write
     * because an item with its id is there already. put_items never reports it. */
    AS_DDB_ALREADY_THERE,
    /* as_ddb_put_items_if (auditstream/ddb_read.h): DynamoDB refused the write because
     * its condition did not hold (ConditionalCheckFailedException). */
    AS_DDB_CONDITION_FAILED,
    /* The reads' name for AS_DDB_WRITTEN (auditstream/ddb_read.h): a 2xx JSON answer. */
    AS_DDB_ANSWERED = AS_DDB_WRITTEN
} as_ddb_outcome;

/* Short static name of an outcome ("written", "failed", "not attempted",
 * "already there", "condition failed"). */
const char *as_ddb_outcome_name(as_ddb_outcome outcome);

#define AS_DDB_ERROR_TYPE_MAX 64
#define AS_DDB_MESSAGE_MAX    256
#define AS_DDB_REQUEST_ID_MAX 64

/* What happened to one item. Strings are NUL-terminated and empty when not known. */
typedef struct as_ddb_result {
    as_ddb_outcome outcome;
    uint32_t attempts; /* requests sent for the item, the skew retry included */
    long http_status;  /* of the last response; 0 when none came back */
    /* FAILED: DynamoDB's error type (the part of __type after '#', or the <Code> of an
     * XML error), or one of the client's own: ConnectionError, Timeout, TlsError,
     * Crc32Mismatch, ResponseTooLarge, InvalidResponse (a 2xx whose body is not a JSON
     * object; for a read, not the answer its operation gives), TransportError, HttpError,
     * UnprocessedKeys (as_ddb_batch_get_items: keys left when the attempts ran out), and
     * UnprocessedItems (as_ddb_write_items with BatchWriteItem: the item was still
     * returned unprocessed when its attempts or the retry quota ran out). */
    char error_type[AS_DDB_ERROR_TYPE_MAX];
    /* FAILED: the server's message or the client's, plus "(retry quota exhausted)" or
     * "(deadline reached before retry)" when that is why no further attempt was made.
     * The server's is cleaned whole before it is cut: first line only, printable ASCII,
     * anything after "The Canonical String" dropped, and "[redacted]" for every run that
     * holds 16 characters in a row of the session token, secret key or access key id
     * (escaped forms too), for what an echoed Authorization header shows (credential
     * scope, signed headers, signature), access key ids and 40 hex digits in a row. An
     * error type that would show such a piece is "Redacted". Never holds a request
     * header. */
    char message[AS_DDB_MESSAGE_MAX];
    /* x-amzn-RequestId of the last response, cleaned as `message` is. */
    char request_id[AS_DDB_REQUEST_ID_MAX];
} as_ddb_result;

/* Why an as_ddb_put_items call ended before every item had run its course, so that a
 * caller can say the real reason items went unsent. */
typedef enum as_ddb_stop {
    AS_DDB_STOP_NONE = 0,  /* it did not: every item was written or failed on its own */
    AS_DDB_STOP_DEADLINE,  /* the deadline came: items unsent, retries dropped, cut off */
    AS_DDB_STOP_SIGNING,   /* a request could not be signed (the call's error says why) */
    AS_DDB_STOP_NOMEM,     /* memory ran out */
    AS_DDB_STOP_TRANSPORT, /* libcurl itself failed (not one request: the whole call) */
    AS_DDB_STOP_ARGUMENT,  /* the call was refused for its arguments: nothing was sent */
    AS_DDB_STOP_CALLER     /* a read's page callback asked to stop (ddb_read.h) */
} as_ddb_stop;

/* Short static name: "none", "deadline", "signing_failed", "out_of_memory",
 * "transport_failed", "bad_argument", "stopped_by_caller". */
const char *as_ddb_stop_name(as_ddb_stop stop);

/* Counts for one as_ddb_put_items call (the handler's summary and metrics). */
typedef struct as_ddb_stats {
    uint64_t requests;          /* HTTP requests sent */
    uint64_t retries;           /* retries after a backoff (skew retries not included) */
    uint64_t throttles;         /* throttling responses */
    uint64_t server_errors;     /* 5xx responses */
    uint64_t connection_errors; /* connect failures, resets, TLS handshakes that broke */
    uint64_t timeouts;          /* attempts that ran out of time */
    uint64_t crc_mismatches;    /* responses whose body did not match x-amz-crc32 */
    uint64_t clock_corrections; /* clock offsets taken from a Date header */
    uint64_t quota_refusals;    /* retries refused because the quota was empty */
    uint64_t written;
    uint64_t failed;
    uint64_t not_attempted;
    as_ddb_stop stopped; /* why the call ended early, if it did */
    uint64_t already_there; /* as_ddb_put_items_if_absent: items found there already */
    uint64_t unprocessed;   /* as_ddb_write_items, BatchWriteItem: items returned
                               under UnprocessedItems (each return counted) */
    uint64_t pages;         /* reads (ddb_read.h): answers handed to the caller */
} as_ddb_stats;

/* Puts `items[i]` (each the wire JSON of one item, {"id":{"S":...},...}, borrowed for
 * the call) into `table` with PutItem, at most `concurrency` at a time, retrying as
 * docs/configuration.md says, and fills `results[i]` (caller-owned array of `count`). Credentials
 * are borrowed for the call; the secret is never copied. `deadline_ms` (epoch ms on the
 * client's clock, 0 for none): no attempt starts at or after it, an attempt in flight
 * is cut off at it, and items not yet sent are reported AS_DDB_NOT_ATTEMPTED. `stats`
 * (optional) is overwritten with this call's counts.
 *
 * AS_OK means the call ran: each item's own outcome is in `results`, and some may have
 * failed. An error return (AS_ERR_ARGUMENT for bad arguments or credentials the signer
 * refuses, AS_ERR_NOMEM when memory or libcurl fail) stops the call; `results` still
 * says which items were written.
 *
 * Every response's body is checked against its x-amz-crc32 when it has one (DynamoDB's
 * always do; moto's error bodies do not; two of them count as a mismatch) and capped at
 * max_response_bytes; a 2xx counts as written only with a JSON object for its body.
 * Retries: throttling, 5xx, connection failures, resets, timeouts,
 * TransactionConflictException, checksum mismatches and 2xx bodies that are not JSON
 * objects, up to max_attempts, each after a full-jitter backoff spent in
 * curl_multi_poll (other items go on meanwhile) and paid from the retry quota; a
 * signature refused for clock skew sets the client's clock offset from the response's
 * Date header and is retried once, free and at once, when that Date is plausible (see
 * AS_DDB_SKEW_MIN_MS): otherwise the item fails with a note saying why. Nothing else is
 * retried. `stats->stopped` says why the call ended early, if it did. */
AS_MUST_CHECK as_status as_ddb_put_items(as_ddb_client *client, const as_credentials *credentials,
                                         const char *table, const as_span *items, size_t count,
                                         int64_t deadline_ms, as_ddb_result *results,
                                         as_ddb_stats *stats, as_error *err);

/* How as_ddb_write_items sends items. */
typedef enum as_ddb_write_api {
    AS_DDB_WRITE_PUT_ITEM = 0, /* one PutItem request per item (the default) */
    AS_DDB_WRITE_BATCH         /* BatchWriteItem requests of up to 25 items and 16 MB */
} as_ddb_write_api;

/* Parses "PutItem" or "BatchWriteItem" (exact). AS_ERR_ARGUMENT otherwise. */
AS_MUST_CHECK as_status as_ddb_write_api_parse(const char *text, as_ddb_write_api *out);
/* "PutItem" or "BatchWriteItem". */
const char *as_ddb_write_api_name(as_ddb_write_api api);

/* BatchWriteItem's limits: items a request, and bytes of its body. DynamoDB says "16 MB"
 * without saying which megabyte; the decimal one is the smaller, so a request within it
 * passes either way. */
#define AS_DDB_BATCH_WRITE_MAX_ITEMS 25
#define AS_DDB_BATCH_WRITE_MAX_BYTES 16000000u

/* as_ddb_put_items with the API `api` chooses, with the same arguments, results and
 * guarantees per item (an `api` that is neither: AS_ERR_ARGUMENT). BatchWriteItem
 * ({"RequestItems":{"<table>":[{"PutRequest":{"Item":...}},...]}}, `table` a name or an
 * ARN as DynamoDB accepts either there): items packed in their order, at most
 * AS_DDB_BATCH_WRITE_MAX_ITEMS and AS_DDB_BATCH_WRITE_MAX_BYTES a request, a new request
 * begun where the next item's id is in the current one already (DynamoDB would refuse
 * the whole request), `concurrency` requests in flight. Every item must be one
 * well-formed JSON object with a top-level "id" of {"S"|"N"|"B":"<text>"}, by which
 * UnprocessedItems are matched back to the request's items: otherwise, or for an item
 * too large for a request of its own, the call is refused (AS_ERR_ARGUMENT naming the
 * item) and nothing is sent, since one bad item would fail its whole request.
 *
 * A request is one unit of retry: every sending of an item is one of its attempts
 * (`attempts` counts the sendings of its request while it was in it), whether the
 * request failed whole or returned the item under UnprocessedItems; a request that
 * fails whole with an error PutItem would retry (throttling, 5xx, reset, timeout,
 * x-amz-crc32, a 2xx that is not JSON) is retried whole, and one PutItem gives up on
 * (validation, access) fails its items with that error. An answer's unprocessed items
 * go again, alone, in the next sending of their request after a throttled request's
 * backoff, which costs one retry from the quota (given back, as every retry is, by the
 * 2xx answer after it); items still unprocessed when the attempts or the quota run out
 * fail with error_type "UnprocessedItems". A 2xx answer whose UnprocessedItems cannot be
 * read or names an id the request did not send is "InvalidResponse" and the request
 * goes again whole. A written item's http_status and request_id are those of the answer
 * that wrote it. The deadline works as put_items': no request starts at or after it,
 * and the items of requests never sent are AS_DDB_NOT_ATTEMPTED. An answer's body is
 * capped at the call's largest request plus 64 KiB (not max_response_bytes), since
 * UnprocessedItems echoes the items. `stats`: requests, retries, throttles and the
 * other HTTP counts are by request; written, failed and not_attempted by item;
 * `unprocessed` counts each return of an item under UnprocessedItems. */
AS_MUST_CHECK as_status as_ddb_write_items(as_ddb_client *client, const as_credentials *credentials,
                                           const char *table, as_ddb_write_api api,
                                           const as_span *items, size_t count,
                                           int64_t deadline_ms, as_ddb_result *results,
                                           as_ddb_stats *stats, as_error *err);

#ifdef __cplusplus
}
#endif

#endif
