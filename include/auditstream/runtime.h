/* A client of the AWS Lambda Runtime API (2018-06-01) for custom runtimes written in C:
 * fetch an invocation, answer it with a response or an error, report an init failure. */
#ifndef AUDITSTREAM_RUNTIME_H
#define AUDITSTREAM_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest invocation payload as_runtime_next reads by default: Lambda's 6 MB limit
 * for synchronous invocations (the largest it sends) plus 1 MiB of room. */
#define AS_RUNTIME_MAX_PAYLOAD_DEFAULT ((size_t)7 * 1024 * 1024)
/* Lost connections are retried this many times per request by default, after
 * AS_RUNTIME_RETRY_DELAY_MS_DEFAULT ms, then twice that, and so on up to 10 s. */
#define AS_RUNTIME_RETRIES_DEFAULT        3
#define AS_RUNTIME_RETRY_DELAY_MS_DEFAULT 100
/* Each attempt of a post (response, error, init error) gives up after this long by
 * default (less when the invocation's deadline is nearer: AS_RUNTIME_POST_FLOOR_MS).
 * The long poll for the next invocation never times out: Lambda may freeze the process
 * in it. */
#define AS_RUNTIME_POST_TIMEOUT_MS_DEFAULT 10000
/* Once an invocation's headers have arrived, its whole payload must follow within this
 * long by default (the Runtime API is local: 6 MB take milliseconds); a body that
 * stalls or never ends makes the invocation refused (Runtime.PayloadIncomplete) rather
 * than hang the function. The wait for the headers themselves has no limit. */
#define AS_RUNTIME_BODY_TIMEOUT_MS_DEFAULT 30000
/* When a post answers the invocation at hand and its deadline is known, the post (its
 * attempts and the waits between them) ends at that deadline, or this long from when
 * it starts when that is later: Lambda refuses an answer after the deadline, and a
 * bogus deadline must not stop an answer from being tried at all. */
#define AS_RUNTIME_POST_FLOOR_MS 1000
/* The most bytes as_runtime_next takes of a header's value. Lambda's request ids are
 * 36-byte UUIDs and its trace ids about 100 bytes; anything much longer is not
 * Lambda's. A longer request id makes the invocation unanswerable, a longer trace id
 * is dropped, a longer other header is read as absent. */
#define AS_RUNTIME_REQUEST_ID_MAX 256
#define AS_RUNTIME_TRACE_ID_MAX   4096
#define AS_RUNTIME_HEADER_MAX     8192
/* The most bytes of headers, all lines together, an invocation may come with (Lambda's
 * are a few KB): past it the read stops and the invocation is refused as
 * Runtime.HeaderTooLarge, before libcurl's own cap (300 KB in all, 100 KB a line) would
 * make it look like a lost connection. */
#define AS_RUNTIME_HEADERS_TOTAL_MAX (256 * 1024)
/* The environment variable as_runtime_next sets to each invocation's trace id. */
#define AS_RUNTIME_TRACE_ENV "_X_AMZN_TRACE_ID"

/* The connection to the Runtime API: one kept-alive HTTP connection (a reused curl easy
 * handle) and the buffers every invocation reuses, so that memory stays flat across
 * invocations. Not for use from two threads at once.
 *
 * Failures come in two kinds. Some concern one call or one invocation (a bad argument,
 * an answer the Runtime API refused, a payload over the limit) and the runtime goes on.
 * The others leave it broken for good (see as_runtime_broken): the process should then
 * exit, and Lambda starts a fresh one. Those report AS_ERR_IO (or AS_ERR_NOMEM), and
 * as_runtime_broken() then says true. */
typedef struct as_runtime as_runtime;

/* Options for as_runtime_new; a zero field takes its default. */
typedef struct as_runtime_options {
    size_t max_payload;       /* 0: AS_RUNTIME_MAX_PAYLOAD_DEFAULT */
    unsigned retries;         /* 0: AS_RUNTIME_RETRIES_DEFAULT */
    unsigned retry_delay_ms;  /* 0: AS_RUNTIME_RETRY_DELAY_MS_DEFAULT */
    unsigned post_timeout_ms; /* 0: AS_RUNTIME_POST_TIMEOUT_MS_DEFAULT */
    unsigned body_timeout_ms; /* 0: AS_RUNTIME_BODY_TIMEOUT_MS_DEFAULT */
    /* Optional: told about what the runtime survives, for the caller's log: a lost
     * connection about to be retried, and in as_runtime_run an invocation whose answer
     * the Runtime API refused or that the loop failed by itself. `warning` is
     * borrowed for the call. The library itself never prints. */
    void (*warn)(void *warn_ctx, const as_error *warning);
    void *warn_ctx;
} as_runtime_options;

/* One invocation, as GET /runtime/invocation/next delivered it. Every span is borrowed
 * from the as_runtime, stays valid until the next as_runtime_next or as_runtime_free,
 * and is also NUL-terminated (`ptr` is never NULL); a header that was absent is empty. */
typedef struct as_invocation {
    as_span request_id;       /* Lambda-Runtime-Aws-Request-Id; never empty, at most
                                 AS_RUNTIME_REQUEST_ID_MAX bytes of visible ASCII */
    int64_t deadline_ms;      /* Lambda-Runtime-Deadline-Ms, epoch ms; 0 when absent, not
                                 a decimal number, or over 15 minutes away (the caller
                                 decides what a past deadline means) */
    as_span function_arn;     /* Lambda-Runtime-Invoked-Function-Arn */
    as_span trace_id;         /* Lambda-Runtime-Trace-Id (an X-Ray trace header); empty
                                 when over AS_RUNTIME_TRACE_ID_MAX or not visible ASCII */
    as_span client_context;   /* Lambda-Runtime-Client-Context (AWS Mobile SDK) */
    as_span cognito_identity; /* Lambda-Runtime-Cognito-Identity (AWS Mobile SDK) */
    as_span payload;          /* the event, byte for byte */
} as_invocation;

/* Connects nothing yet: makes the runtime for `api`, the host:port Lambda puts in
 * AWS_LAMBDA_RUNTIME_API (borrowed; copied). `options` may be NULL (all defaults) and
 * is copied. On success `*out` is a new runtime (free with as_runtime_free); on failure
 * it is NULL. AS_ERR_ARGUMENT for a NULL `out`, a NULL or empty `api` (the message says
 * AWS_LAMBDA_RUNTIME_API is not set) or one that is not a plain host:port,
 * AS_ERR_NOMEM when memory or curl fails. Call as_global_init (auditstream/global.h)
 * once before, from one thread: the library does not set up libcurl on its own. */
AS_MUST_CHECK as_status as_runtime_new(const char *api, const as_runtime_options *options,
                                       as_runtime **out, as_error *err);
/* Closes the connection, releases everything, and removes _X_AMZN_TRACE_ID from the
 * environment when as_runtime_next set it. NULL is a no-op. */
void as_runtime_free(as_runtime *rt);

/* True once the runtime can no longer be used and the process should exit: the
 * Runtime API answered a 5xx (its "container error": Lambda wants the runtime gone) or
 * something that is not its protocol, could not be reached after the retries, or
 * memory ran out during as_runtime_next. Every later call then fails at once, without
 * a request, with the same status and message. False for NULL. */
bool as_runtime_broken(const as_runtime *rt);

/* Waits, with no timeout, for the next invocation and fills `out` (see as_invocation).
 * Sets _X_AMZN_TRACE_ID to its trace id, or removes it when the invocation has none,
 * as Lambda asks of a runtime; this changes the process environment, so no other
 * thread may read it meanwhile. A lost connection is retried (see the options).
 * Headers that are not what Lambda sends are told to the options' warn and left out:
 * a trace id over AS_RUNTIME_TRACE_ID_MAX, repeated with another value or not visible
 * ASCII (the invocation is handled without one: tracing is not worth a batch), a
 * deadline that is not epoch ms or is over 15 minutes away (unknown, 0).
 * On failure `out` is emptied, except for AS_ERR_LIMIT with the runtime not broken: an
 * invocation that cannot be taken as delivered, with the message saying why. With a
 * request id in `out` (every field but the payload filled) the caller should fail it:
 * a payload over the options' max_payload, left unread (as_runtime_run posts
 * Runtime.PayloadTooLarge), or a header line over libcurl's 100 KB cap, which stops the
 * read (Runtime.HeaderTooLarge), or a payload that did not arrive in full within the
 * options' body_timeout_ms of the headers (Runtime.PayloadIncomplete). With an empty
 * request id nothing can answer it: its
 * Lambda-Runtime-Aws-Request-Id was missing, over AS_RUNTIME_REQUEST_ID_MAX, repeated
 * with another value or not visible ASCII; the caller goes on to the next.
 * AS_ERR_ARGUMENT for a NULL argument. Any other failure leaves the runtime broken. */
AS_MUST_CHECK as_status as_runtime_next(as_runtime *rt, as_invocation *out, as_error *err);

/* POSTs `body` (borrowed, sent as application/json) as the response of invocation
 * `request_id` (borrowed; any bytes: it is percent-encoded into the path). AS_OK when
 * the Runtime API accepted it (202). Failures that leave the runtime usable:
 * AS_ERR_LIMIT for a 413 (the response is over Lambda's limit, and Lambda has failed
 * the invocation itself: posting an error for it too would be refused); AS_ERR_ARGUMENT
 * for a NULL argument, an empty request id, or another 4xx (an unknown or already
 * answered request id), with the Runtime API's own message. A lost connection is
 * retried; when the retries run out, or on a 5xx, the runtime is broken. For the
 * invocation as_runtime_next delivered last, when its deadline is known (and was not
 * past on arrival), the post ends at that deadline or AS_RUNTIME_POST_FLOOR_MS after
 * it starts, whichever is later: each attempt's timeout is cut to fit, no retry starts
 * after it, and running out is AS_ERR_IO without breaking the runtime. */
AS_MUST_CHECK as_status as_runtime_respond(as_runtime *rt, as_span request_id, as_span body,
                                           as_error *err);

/* POSTs a function error for invocation `request_id`: the body is Lambda's error
 * document {"errorMessage": `message`, "errorType": `error_type`, "stackTrace": []}
 * (application/vnd.aws.lambda.error+json) and the Lambda-Runtime-Function-Error-Type
 * header is "Function.<error_type>". `error_type` is 1 to 128 bytes of A-Z a-z 0-9 . _ -
 * (anything else is AS_ERR_ARGUMENT). `message` is any bytes: JSON-escaped, invalid
 * UTF-8 replaced by U+FFFD. All borrowed. Results as for as_runtime_respond. */
AS_MUST_CHECK as_status as_runtime_fail(as_runtime *rt, as_span request_id, as_span error_type,
                                        as_span message, as_error *err);

/* POSTs an initialization failure to /runtime/init/error: the same error document,
 * with the header "Runtime.<error_type>". The process is expected to exit afterwards
 * (Lambda reports the error to the first invoke). Results as for as_runtime_fail. */
AS_MUST_CHECK as_status as_runtime_init_fail(as_runtime *rt, as_span error_type, as_span message,
                                             as_error *err);

/* What a handler gives back to as_runtime_run. The runtime owns it and reuses its
 * storage: every buffer is emptied (not freed) before each call of the handler. */
typedef struct as_runtime_reply {
    as_buf body;          /* the response, sent when error_type is empty */
    as_buf error_type;    /* non-empty: post an error instead (see as_runtime_fail) */
    as_buf error_message; /* the error's message */
    bool stop;            /* set: as_runtime_run returns AS_OK once this is posted */
} as_runtime_reply;

/* Sets the reply to an error: the loop posts it as as_runtime_fail does. Both strings
 * are NUL-terminated and copied (NULL counts as ""). NULL `reply` is a no-op. */
void as_runtime_reply_fail(as_runtime_reply *reply, const char *error_type, const char *message);

/* Handles one invocation: reads `inv` (borrowed for the call) and fills `reply`. An
 * append that failed for lack of memory makes the loop post the error
 * Runtime.OutOfMemory instead of the reply. */
typedef void (*as_runtime_handler)(void *user, const as_invocation *inv, as_runtime_reply *reply);

/* The runtime loop: as_runtime_next, the handler, then the response or the error,
 * for ever. It survives what concerns one invocation and tells the options' warn
 * callback: a payload over the limit (posted as the error PayloadTooLarge, header
 * Runtime.PayloadTooLarge, without calling the handler), a header line libcurl cannot
 * read (Runtime.HeaderTooLarge, likewise), an invocation without a usable request id
 * (skipped: nothing can answer it), a trace id or deadline left out, a post cut off at
 * the invocation's deadline, an error type the Runtime API
 * cannot take (posted as Runtime.InvalidErrorType with the handler's message), a post
 * the Runtime API refused. It returns only when the runtime is broken or memory runs
 * out, with that failure (the caller then exits the process), or AS_OK after posting a
 * reply that asked to stop. AS_ERR_ARGUMENT for a NULL `rt` or `handler`. `user` is
 * passed to `handler`. */
AS_MUST_CHECK as_status as_runtime_run(as_runtime *rt, as_runtime_handler handler, void *user,
                                       as_error *err);

/* Counters since as_runtime_new, for metrics and tests. */
typedef struct as_runtime_stats {
    uint64_t invocations; /* invocations received (over the limit or not) */
    uint64_t posts;       /* posts the Runtime API accepted */
    uint64_t refused;     /* posts it refused with a 4xx */
    uint64_t retries;     /* requests repeated after a lost connection */
    uint64_t connects;    /* connections opened: 1 while keep-alive holds */
    size_t buffer_bytes;  /* storage held by the reused buffers (flat once warm) */
} as_runtime_stats;

/* Fills `out` with the counters of `rt`. */
void as_runtime_get_stats(const as_runtime *rt, as_runtime_stats *out);

#ifdef __cplusplus
}
#endif

#endif
