/* The Lambda Runtime API client: one kept-alive curl handle, buffers reused across
 * invocations, bounded retries of a lost connection, and the trace id in the environment. */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/runtime.h"
#include "auditstream/version.h"
#include "aws/clock.h"
#include "aws/curl_code.h"
#include "aws/http_header.h"
#include "aws/uri.h"
#include "core/internal.h"
#include "core/json_text.h"

#define API_MAX_LEN        255
#define ERROR_TYPE_MAX     128
#define ANSWER_CAPTURE     512  /* bytes of a refusal's body kept for the error message */
#define CONNECT_TIMEOUT_MS 3000 /* the Runtime API is local: a connect never takes long */
#define TRACE_ENV_MIN_CAP  256  /* X-Ray headers are about 100 bytes: one allocation */
#define RETRY_DELAY_MAX_MS 10000
/* Lambda's longest function timeout is 15 minutes: a deadline further away than that
 * (plus a minute of slack) is not one Lambda sent. */
#define DEADLINE_MAX_AHEAD_MS ((int64_t)16 * 60 * 1000)
#define QUOTE_MAX             64 /* bytes of a bad header value quoted in a warning */

#define AS_RUNTIME_STR_(x) #x
#define AS_RUNTIME_STR(x)  AS_RUNTIME_STR_(x)

/* The status of "the Runtime API is gone or told us to go". */
#define RT_ERR_BROKEN AS_ERR_IO

/* The headers of an invocation, in as_invocation's order. */
enum {
    HDR_REQUEST_ID,
    HDR_DEADLINE,
    HDR_FUNCTION_ARN,
    HDR_TRACE_ID,
    HDR_CLIENT_CONTEXT,
    HDR_COGNITO_IDENTITY,
    HDR_COUNT
};

static const char *const header_names[HDR_COUNT] = {
    "Lambda-Runtime-Aws-Request-Id",       "Lambda-Runtime-Deadline-Ms",
    "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id",
    "Lambda-Runtime-Client-Context",       "Lambda-Runtime-Cognito-Identity",
};

/* The most bytes kept of each header's value; a longer value is not stored. The
 * request id must be printable and at most AS_RUNTIME_REQUEST_ID_MAX; the trace id at
 * most AS_RUNTIME_TRACE_ID_MAX. */
static const size_t header_caps[HDR_COUNT] = {
    AS_RUNTIME_REQUEST_ID_MAX, 64,
    AS_RUNTIME_HEADER_MAX,     AS_RUNTIME_TRACE_ID_MAX,
    AS_RUNTIME_HEADER_MAX,     AS_RUNTIME_HEADER_MAX,
};

/* Where one header's value sits in as_runtime.headers (offsets: the buffer may move). */
typedef struct header_slot {
    size_t offset;
    size_t len; /* the value's length as sent, even when it was too long to keep */
    bool seen;
    bool too_long; /* over header_caps: not stored */
    bool conflict; /* sent again with another value */
} header_slot;

struct as_runtime {
    CURL *curl;
    struct curl_slist *response_headers; /* Content-Type and Expect for responses */
    as_runtime_options options;
    as_buf api;      /* host:port, for messages */
    as_buf base_url; /* http://host:port/2018-06-01/runtime/ */
    as_buf url;      /* the request at hand */
    as_buf payload;  /* the invocation's body */
    as_buf headers;  /* the invocation's header values, each NUL-terminated */
    header_slot slots[HDR_COUNT];
    as_buf answer;   /* the start of a post's answer, for messages */
    as_buf document; /* error documents */
    as_buf line;     /* the error-type header line */
    as_runtime_reply reply;
    bool reading_next;       /* the transfer at hand is GET next: keep headers and body */
    bool headers_done;       /* its header section ended (the blank line came) */
    size_t header_bytes;     /* of its header lines so far */
    bool headers_too_large;  /* they passed AS_RUNTIME_HEADERS_TOTAL_MAX */
    bool line_unreadable;    /* libcurl stopped at a header line: over its cap, or memory */
    int64_t headers_done_ms; /* when, on the monotonic clock */
    bool body_timed_out;     /* its body did not arrive within options.body_timeout_ms */
    bool over_limit;         /* its body passed options.max_payload */
    const char *refusal;     /* the error type for an invocation as_runtime_next refused */
    int64_t inv_deadline_ms; /* the current invocation's deadline, 0 when unknown */
    unsigned attempts;       /* attempts the last request took */
    bool broken;
    as_error broken_error;
    char *trace_env; /* "_X_AMZN_TRACE_ID=<id>", owned, given to putenv */
    size_t trace_env_cap;
    as_runtime_stats stats;
    char curl_error[CURL_ERROR_SIZE];
};

static const as_span empty_span = {"", 0};

static as_span buf_span(const as_buf *buf)
{
    as_span span = {buf->data != NULL ? buf->data : "", buf->len};
    return span;
}

static void copy_error(as_error *err, const as_error *from)
{
    if (err != NULL && err != from) {
        *err = *from;
    }
}

static void format_error(as_error *out, as_status code, const char *fmt, va_list ap)
    AS_PRINTF(3, 0);

static void format_error(as_error *out, as_status code, const char *fmt, va_list ap)
{
    out->code = code;
    out->offset = 0;
    vsnprintf(out->message, sizeof out->message, fmt, ap);
}

/* Marks the runtime broken for good with this message, copied to `err`. */
static AS_RESULT rt_break(as_runtime *rt, as_error *err, const char *fmt, ...) AS_PRINTF(3, 4);

static as_result rt_break(as_runtime *rt, as_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_error(&rt->broken_error, RT_ERR_BROKEN, fmt, ap);
    va_end(ap);
    rt->broken = true;
    copy_error(err, &rt->broken_error);
    return (as_result){RT_ERR_BROKEN};
}

/* Passes on a failure already said in `from` (a call's own error, or why the runtime
 * broke earlier), copied to `err`. */
static as_result pass_on(as_error *err, const as_error *from)
{
    copy_error(err, from);
    return (as_result){from->code};
}

static void rt_warn_error(const as_runtime *rt, const as_error *warning)
{
    if (rt->options.warn != NULL) {
        rt->options.warn(rt->options.warn_ctx, warning);
    }
}

static void rt_warn(const as_runtime *rt, as_status code, const char *fmt, ...) AS_PRINTF(3, 4);

static void rt_warn(const as_runtime *rt, as_status code, const char *fmt, ...)
{
    if (rt->options.warn == NULL) {
        return;
    }
    as_error warning;
    va_list ap;
    va_start(ap, fmt);
    format_error(&warning, code, fmt, ap);
    va_end(ap);
    rt->options.warn(rt->options.warn_ctx, &warning);
}

/* ---- text helpers ------------------------------------------------------------------ */

/* host:port as AWS_LAMBDA_RUNTIME_API holds it: no scheme, path, user or spaces. */
static bool api_valid(const char *api, size_t len)
{
    if (len == 0 || len > API_MAX_LEN) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)api[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool error_type_valid(as_span type)
{
    if (type.ptr == NULL || type.len == 0 || type.len > ERROR_TYPE_MAX) {
        return false;
    }
    for (size_t i = 0; i < type.len; i++) {
        unsigned char c = (unsigned char)type.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Lambda's error document. `type` has passed error_type_valid. */
static void build_error_document(as_buf *out, as_span type, as_span message)
{
    as_buf_clear(out);
    as_buf_append_str(out, "{\"errorMessage\":\"");
    as_json_append_text(out, message);
    as_buf_append_str(out, "\",\"errorType\":\"");
    as_buf_append_span(out, type);
    as_buf_append_str(out, "\",\"stackTrace\":[]}");
}

/* Lambda-Runtime-Deadline-Ms: decimal epoch milliseconds; anything else is unknown (0). */
static int64_t parse_deadline(as_span text)
{
    if (text.len == 0 || text.len > 18) {
        return 0;
    }
    int64_t value = 0;
    for (size_t i = 0; i < text.len; i++) {
        if (text.ptr[i] < '0' || text.ptr[i] > '9') {
            return 0;
        }
        value = value * 10 + (text.ptr[i] - '0');
    }
    return value;
}

static void sleep_ms(unsigned ms)
{
    struct timespec left = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

/* ---- the environment --------------------------------------------------------------- */

/* The one place the library changes the process environment: Lambda's runtime contract
 * asks a runtime to set _X_AMZN_TRACE_ID to each invocation's trace id (X-Ray SDKs read
 * it). putenv rather than setenv: glibc's setenv keeps every value it ever stored (so
 * that old getenv() pointers stay valid), so a fresh trace id per invocation would grow
 * memory for ever; putenv installs this runtime's own buffer, rewritten in place, and
 * tests/banned-functions.sh allows putenv in this file only. */
static AS_RESULT rt_export_trace_id(as_runtime *rt, as_span trace_id, as_error *err)
{
    static const char prefix[] = AS_RUNTIME_TRACE_ENV "=";
    const size_t prefix_len = sizeof prefix - 1;

    if (trace_id.len == 0 || memchr(trace_id.ptr, '\0', trace_id.len) != NULL) {
        unsetenv(AS_RUNTIME_TRACE_ENV);
        return AS_RESULT_OK;
    }
    AS_ENSURE(trace_id.len < SIZE_MAX - prefix_len - 1,
              as_fail_nomem(err, "setting " AS_RUNTIME_TRACE_ENV));
    size_t need = prefix_len + trace_id.len + 1;
    char *old = NULL;
    size_t old_cap = rt->trace_env_cap;
    if (need > rt->trace_env_cap) {
        size_t cap = need < TRACE_ENV_MIN_CAP ? TRACE_ENV_MIN_CAP : need;
        char *fresh = malloc(cap);
        AS_ENSURE(fresh != NULL, as_fail_nomem(err, "setting " AS_RUNTIME_TRACE_ENV));
        old = rt->trace_env;
        rt->trace_env = fresh;
        rt->trace_env_cap = cap;
    }
    memcpy(rt->trace_env, prefix, prefix_len);
    memcpy(rt->trace_env + prefix_len, trace_id.ptr, trace_id.len);
    rt->trace_env[need - 1] = '\0';
    /* Again each time, in case someone else replaced the variable in between: with the
     * same pointer glibc only rewrites the entry. */
    if (putenv(rt->trace_env) != 0) {
        /* The environment still points at the old buffer (or at nothing of ours). */
        if (old != NULL) {
            free(rt->trace_env);
            rt->trace_env = old;
            rt->trace_env_cap = old_cap;
        }
        return as_fail_nomem(err, "setting " AS_RUNTIME_TRACE_ENV);
    }
    free(old); /* no longer in the environment: putenv replaced the entry */
    return AS_RESULT_OK;
}

/* ---- transfers --------------------------------------------------------------------- */

/* The long poll has no timeout, but once an invocation's headers are in, its body comes
 * from a local peer at once: one that stalls or never ends is cut off here (libcurl
 * calls this about once a second even when nothing arrives). */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    as_runtime *rt = ctx;
    if (rt->reading_next && rt->headers_done &&
        as_clock_monotonic_ms() - rt->headers_done_ms > (int64_t)rt->options.body_timeout_ms) {
        rt->body_timed_out = true;
        return 1;
    }
    return 0;
}

static size_t on_header(char *line, size_t size, size_t count, void *ctx)
{
    as_runtime *rt = ctx;
    size_t len = size * count;
    if (!rt->reading_next) {
        return len;
    }
    /* A new status line (after a 100 Continue, say): the headers before it are void. */
    if (as_http_header_is_status(line, len)) {
        as_buf_clear(&rt->headers);
        memset(rt->slots, 0, sizeof rt->slots);
        rt->headers_done = false;
        rt->header_bytes = 0;
        return len;
    }
    rt->header_bytes += len;
    if (rt->header_bytes > AS_RUNTIME_HEADERS_TOTAL_MAX) {
        rt->headers_too_large = true;
        return 0; /* stops the transfer */
    }
    if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
        rt->headers_done = true;
        rt->headers_done_ms = as_clock_monotonic_ms();
        return len;
    }
    as_span name;
    as_span value;
    if (!as_http_header_parse(line, len, &name, &value)) {
        return len;
    }
    for (size_t i = 0; i < HDR_COUNT; i++) {
        header_slot *slot = &rt->slots[i];
        if (!as_http_header_name_is(name, header_names[i])) {
            continue;
        }
        if (slot->seen) {
            /* The first value counts; a different second one makes it doubtful. */
            const char *kept = rt->headers.data != NULL ? rt->headers.data + slot->offset : "";
            if (slot->too_long || value.len != slot->len ||
                (value.len > 0 && memcmp(kept, value.ptr, value.len) != 0)) {
                slot->conflict = true;
            }
            break;
        }
        slot->seen = true;
        slot->len = value.len;
        slot->offset = rt->headers.len;
        if (value.len > header_caps[i]) {
            slot->too_long = true; /* a hostile size is never copied */
            break;
        }
        as_buf_append(&rt->headers, value.ptr, value.len);
        as_buf_append_char(&rt->headers, '\0');
        break;
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t count, void *ctx)
{
    as_runtime *rt = ctx;
    size_t len = size * count;
    if (!rt->reading_next) {
        size_t room = ANSWER_CAPTURE - rt->answer.len;
        as_buf_append(&rt->answer, data, len < room ? len : room);
        return len;
    }
    if (len > rt->options.max_payload - rt->payload.len) {
        rt->over_limit = true;
        return 0; /* aborts the transfer: the rest is never read */
    }
    as_buf_append(&rt->payload, data, len);
    return as_buf_status(&rt->payload) == AS_OK ? len : 0;
}

/* A connection that failed or went away, or an attempt out of time: worth another. */
static bool transport_failure(CURLcode rc)
{
    as_curl_kind kind = as_curl_classify(rc);
    return kind == AS_CURL_CONNECTION || kind == AS_CURL_TIMEOUT;
}

static const char *curl_reason(const as_runtime *rt, CURLcode rc)
{
    return rt->curl_error[0] != '\0' ? rt->curl_error : curl_easy_strerror(rc);
}

/* Runs the request set up on the handle, retrying lost connections; `*status` gets the
 * HTTP status. Each attempt may take `timeout_ms` (0: no limit); with `until_ms` (epoch
 * ms, 0 for none) no attempt runs past it and no retry starts after it, which fails
 * with AS_ERR_IO without breaking the runtime. AS_ERR_LIMIT for a body over the limit or
 * a header libcurl cannot hold while reading an invocation, AS_ERR_NOMEM, or a broken
 * runtime. */
static AS_RESULT rt_perform(as_runtime *rt, const char *what, long timeout_ms, int64_t until_ms,
                            long *status, as_error *err)
{
    *status = 0;
    for (unsigned attempt = 0;; attempt++) {
        rt->attempts = attempt + 1;
        rt->over_limit = false;
        rt->headers_done = false;
        rt->header_bytes = 0;
        rt->headers_too_large = false;
        rt->line_unreadable = false;
        rt->body_timed_out = false;
        rt->curl_error[0] = '\0';
        as_buf_clear(&rt->answer);
        if (rt->reading_next) {
            /* Posts leave these alone: the invocation's spans point into them. */
            as_buf_clear(&rt->payload);
            as_buf_clear(&rt->headers);
            memset(rt->slots, 0, sizeof rt->slots);
        }
        long timeout = timeout_ms;
        if (until_ms != 0) {
            int64_t left = until_ms - as_clock_realtime_ms(NULL);
            if (left <= 0) {
                return as_fail(err, AS_ERR_IO, 0,
                               "%s: the invocation's deadline passed after %u attempts", what,
                               attempt);
            }
            if (timeout == 0 || left < timeout) {
                timeout = (long)left;
            }
        }
        curl_easy_setopt(rt->curl, CURLOPT_TIMEOUT_MS, timeout);

        CURLcode rc = curl_easy_perform(rt->curl);
        long connects = 0;
        if (curl_easy_getinfo(rt->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK &&
            connects > 0) {
            rt->stats.connects += (uint64_t)connects;
        }
        /* The answer's status, also when it was refused part way (0 when none came). */
        curl_easy_getinfo(rt->curl, CURLINFO_RESPONSE_CODE, status);
        if (rc == CURLE_OK) {
            return AS_RESULT_OK;
        }
        if (rt->headers_too_large) {
            rt->refusal = "HeaderTooLarge";
            return as_fail(err, AS_ERR_LIMIT, 0,
                           "%s: the headers are over %d bytes in all (Lambda sends a few "
                           "KB); the payload was not read",
                           what, AS_RUNTIME_HEADERS_TOTAL_MAX);
        }
        if (rt->body_timed_out) {
            rt->refusal = "PayloadIncomplete";
            return as_fail(err, AS_ERR_LIMIT, 0,
                           "%s: the payload did not arrive in full within %u ms of the "
                           "headers (%zu bytes came)",
                           what, rt->options.body_timeout_ms, rt->payload.len);
        }
        if (rt->over_limit || rc == CURLE_FILESIZE_EXCEEDED) {
            return as_fail(err, AS_ERR_LIMIT, 0, "%s: the body is over %zu bytes", what,
                           rt->options.max_payload);
        }
        if (rt->reading_next && rc == CURLE_OUT_OF_MEMORY && !rt->headers_done && *status != 0 &&
            as_buf_status(&rt->payload) == AS_OK && as_buf_status(&rt->headers) == AS_OK) {
            /* What libcurl reports for a header line over its 100 KB cap: the sender's
             * doing, not this process's memory. Before any status line it is memory. */
            rt->refusal = "HeaderTooLarge";
            rt->line_unreadable = true;
            return as_fail(err, AS_ERR_LIMIT, 0,
                           "%s: a header line is too long to read (libcurl stops at "
                           "100 KB and says \"%s\"); the payload was not read",
                           what, curl_reason(rt, rc));
        }
        if (rc == CURLE_OUT_OF_MEMORY || as_buf_status(&rt->payload) != AS_OK ||
            as_buf_status(&rt->headers) != AS_OK) {
            return as_fail(err, AS_ERR_NOMEM, 0, "%s: out of memory", what);
        }
        if (!transport_failure(rc)) {
            return rt_break(rt, err, "%s failed at the Lambda Runtime API %s: %s", what,
                            rt->api.data, curl_reason(rt, rc));
        }
        if (attempt >= rt->options.retries) {
            return rt_break(rt, err,
                            "lost the connection to the Lambda Runtime API %s: %s failed "
                            "%u times, last: %s",
                            rt->api.data, what, attempt + 1, curl_reason(rt, rc));
        }
        uint64_t doubled = (uint64_t)rt->options.retry_delay_ms << (attempt < 16 ? attempt : 16);
        unsigned delay = doubled < RETRY_DELAY_MAX_MS ? (unsigned)doubled : RETRY_DELAY_MAX_MS;
        if (until_ms != 0 && as_clock_realtime_ms(NULL) + delay >= until_ms) {
            /* Lambda ends the invocation at its deadline: a later answer is refused. The
             * Runtime API may be fine, so the runtime is not broken; the next request
             * finds out. */
            return as_fail(err, AS_ERR_IO, 0,
                           "%s: gave up at the invocation's deadline after %u attempts, "
                           "last: %s",
                           what, attempt + 1, curl_reason(rt, rc));
        }
        rt_warn(rt, RT_ERR_BROKEN,
                "lost the connection to the Lambda Runtime API %s during %s (%s); retry %u of "
                "%u in %u ms",
                rt->api.data, what, curl_reason(rt, rc), attempt + 1, rt->options.retries, delay);
        rt->stats.retries++;
        sleep_ms(delay);
    }
}

/* POSTs `body` to rt->url; `what` names the request in messages; `until_ms` bounds it
 * (see rt_perform). */
static AS_RESULT rt_post(as_runtime *rt, const char *what, struct curl_slist *headers, as_span body,
                         int64_t until_ms, as_error *err)
{
    AS_ENSURE(as_buf_status(&rt->url) == AS_OK,
              as_fail(err, AS_ERR_NOMEM, 0, "%s: out of memory", what));
    rt->reading_next = false;
    /* libcurl copies the URL; a failed copy would leave the request with none. */
    AS_ENSURE(curl_easy_setopt(rt->curl, CURLOPT_URL, rt->url.data) == CURLE_OK,
              as_fail(err, AS_ERR_NOMEM, 0, "%s: out of memory", what));
    curl_easy_setopt(rt->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(rt->curl, CURLOPT_POSTFIELDS, body.len > 0 ? body.ptr : "");
    curl_easy_setopt(rt->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(rt->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(rt->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)0);

    long status = 0;
    as_result st = rt_perform(rt, what, (long)rt->options.post_timeout_ms, until_ms, &status, err);
    curl_easy_setopt(rt->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    AS_GUARD(st);
    if (status >= 200 && status <= 299) {
        rt->stats.posts++;
        return AS_RESULT_OK;
    }
    as_span answer = buf_span(&rt->answer);
    if (status >= 500) {
        return rt_break(rt, err,
                        "the Lambda Runtime API %s answered %ld (container error: the runtime "
                        "must exit) to %s: %.*s",
                        rt->api.data, status, what, (int)answer.len, answer.ptr);
    }
    rt->stats.refused++;
    return as_fail(err, status == 413 ? AS_ERR_LIMIT : AS_ERR_ARGUMENT, 0,
                   "the Lambda Runtime API refused %s with %ld%s: %.*s", what, status,
                   rt->attempts > 1 ? " (an earlier attempt may have been accepted)" : "",
                   (int)answer.len, answer.ptr);
}

static void set_url(as_runtime *rt, const char *path, as_span request_id, const char *tail)
{
    as_buf_clear(&rt->url);
    as_buf_append_span(&rt->url, buf_span(&rt->base_url));
    as_buf_append_str(&rt->url, path);
    as_uri_append_encoded(&rt->url, request_id, false);
    as_buf_append_str(&rt->url, tail);
}

static int64_t post_until(const as_runtime *rt, const as_span *request_id);

/* Posts an error document with the header Lambda-Runtime-Function-Error-Type:
 * <category><type>, to /invocation/{id}/error, or to /init/error when `request_id` is
 * NULL. */
static AS_RESULT rt_post_error(as_runtime *rt, const as_span *request_id, const char *category,
                               as_span type, as_span message, as_error *err)
{
    build_error_document(&rt->document, type, message);
    as_buf_clear(&rt->line);
    as_buf_append_str(&rt->line, "Lambda-Runtime-Function-Error-Type: ");
    as_buf_append_str(&rt->line, category);
    as_buf_append_span(&rt->line, type);
    if (request_id != NULL) {
        set_url(rt, "invocation/", *request_id, "/error");
    } else {
        set_url(rt, "init/error", empty_span, "");
    }
    AS_ENSURE(as_buf_status(&rt->document) == AS_OK && as_buf_status(&rt->line) == AS_OK,
              as_fail(err, AS_ERR_NOMEM, 0, "out of memory building an error document"));

    struct curl_slist *headers = NULL;
    const char *lines[] = {"Content-Type: application/vnd.aws.lambda.error+json",
                           "Expect:", rt->line.data};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct curl_slist *next = curl_slist_append(headers, lines[i]);
        if (next == NULL) {
            curl_slist_free_all(headers);
            return as_fail(err, AS_ERR_NOMEM, 0, "out of memory building headers");
        }
        headers = next;
    }
    as_result st = rt_post(rt, request_id != NULL ? "POST invocation error" : "POST init error",
                           headers, buf_span(&rt->document), post_until(rt, request_id), err);
    curl_slist_free_all(headers);
    return st;
}

/* ---- the public API ---------------------------------------------------------------- */

static void reply_init(as_runtime_reply *reply)
{
    as_buf_init(&reply->body);
    as_buf_init(&reply->error_type);
    as_buf_init(&reply->error_message);
    reply->stop = false;
}

static void reply_clear(as_runtime_reply *reply)
{
    as_buf_clear(&reply->body);
    as_buf_clear(&reply->error_type);
    as_buf_clear(&reply->error_message);
    reply->stop = false;
}

static void reply_free(as_runtime_reply *reply)
{
    as_buf_free(&reply->body);
    as_buf_free(&reply->error_type);
    as_buf_free(&reply->error_message);
}

void as_runtime_reply_fail(as_runtime_reply *reply, const char *error_type, const char *message)
{
    if (reply == NULL) {
        return;
    }
    as_buf_clear(&reply->error_type);
    as_buf_clear(&reply->error_message);
    as_buf_append_str(&reply->error_type, error_type != NULL ? error_type : "");
    as_buf_append_str(&reply->error_message, message != NULL ? message : "");
}

/* Options that must hold for the whole life of the handle. */
static bool rt_configure(as_runtime *rt)
{
    CURL *c = rt->curl;
    bool ok =
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, rt->curl_error) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_HEADERDATA, (void *)rt) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)rt) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)rt) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
        /* The Runtime API is local: an HTTP_PROXY meant for the internet must not
         * catch it. */
        curl_easy_setopt(c, CURLOPT_PROXY, "") == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_USERAGENT, "libauditstream/" AS_VERSION_STRING) == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    ok = ok && curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http") == CURLE_OK;
#endif
    return ok;
}

static AS_RESULT runtime_new(const char *api, const as_runtime_options *options, as_runtime **out,
                             as_error *err)
{
    AS_ENSURE(out != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "as_runtime_new: out is NULL"));
    *out = NULL;
    AS_ENSURE(api != NULL && api[0] != '\0',
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "AWS_LAMBDA_RUNTIME_API is not set: not running in Lambda?"));
    size_t api_len = strlen(api);
    AS_ENSURE(api_valid(api, api_len),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "AWS_LAMBDA_RUNTIME_API is not a host:port: \"%.*s\"",
                      (int)(api_len < 100 ? api_len : 100), api));

    as_runtime *rt = calloc(1, sizeof *rt);
    AS_ENSURE(rt != NULL, as_fail(err, AS_ERR_NOMEM, 0, "out of memory"));
    if (options != NULL) {
        rt->options = *options;
    }
    if (rt->options.max_payload == 0) {
        rt->options.max_payload = AS_RUNTIME_MAX_PAYLOAD_DEFAULT;
    }
    if (rt->options.retries == 0) {
        rt->options.retries = AS_RUNTIME_RETRIES_DEFAULT;
    }
    if (rt->options.retry_delay_ms == 0) {
        rt->options.retry_delay_ms = AS_RUNTIME_RETRY_DELAY_MS_DEFAULT;
    }
    if (rt->options.post_timeout_ms == 0) {
        rt->options.post_timeout_ms = AS_RUNTIME_POST_TIMEOUT_MS_DEFAULT;
    }
    if (rt->options.body_timeout_ms == 0) {
        rt->options.body_timeout_ms = AS_RUNTIME_BODY_TIMEOUT_MS_DEFAULT;
    }
    reply_init(&rt->reply);
    as_buf_append(&rt->api, api, api_len);
    as_buf_append_str(&rt->base_url, "http://");
    as_buf_append(&rt->base_url, api, api_len);
    as_buf_append_str(&rt->base_url, "/2018-06-01/runtime/");

    struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");
    rt->response_headers = json != NULL ? curl_slist_append(json, "Expect:") : NULL;
    if (rt->response_headers == NULL) {
        curl_slist_free_all(json);
    }
    rt->curl = curl_easy_init();
    if (as_buf_status(&rt->api) != AS_OK || as_buf_status(&rt->base_url) != AS_OK ||
        rt->response_headers == NULL || rt->curl == NULL || !rt_configure(rt)) {
        as_runtime_free(rt);
        return as_fail(err, AS_ERR_NOMEM, 0, "out of memory setting up curl");
    }
    *out = rt;
    return AS_RESULT_OK;
}

as_status as_runtime_new(const char *api, const as_runtime_options *options, as_runtime **out,
                         as_error *err)
{
    return as_status_of(runtime_new(api, options, out, err));
}

void as_runtime_free(as_runtime *rt)
{
    if (rt == NULL) {
        return;
    }
    if (rt->trace_env != NULL) {
        /* The environment must not keep a pointer into freed memory. */
        unsetenv(AS_RUNTIME_TRACE_ENV);
        free(rt->trace_env);
    }
    if (rt->curl != NULL) {
        curl_easy_cleanup(rt->curl);
    }
    curl_slist_free_all(rt->response_headers);
    as_buf_free(&rt->api);
    as_buf_free(&rt->base_url);
    as_buf_free(&rt->url);
    as_buf_free(&rt->payload);
    as_buf_free(&rt->headers);
    as_buf_free(&rt->answer);
    as_buf_free(&rt->document);
    as_buf_free(&rt->line);
    reply_free(&rt->reply);
    free(rt);
}

bool as_runtime_broken(const as_runtime *rt)
{
    return rt != NULL && rt->broken;
}

static void invocation_clear(as_invocation *inv)
{
    inv->request_id = empty_span;
    inv->deadline_ms = 0;
    inv->function_arn = empty_span;
    inv->trace_id = empty_span;
    inv->client_context = empty_span;
    inv->cognito_identity = empty_span;
    inv->payload = empty_span;
}

static as_span header_value(const as_runtime *rt, size_t index)
{
    const header_slot *slot = &rt->slots[index];
    if (!slot->seen || slot->too_long || rt->headers.data == NULL) {
        return empty_span;
    }
    as_span span = {rt->headers.data + slot->offset, slot->len};
    return span;
}

/* Posts for the invocation at hand end at its deadline, or AS_RUNTIME_POST_FLOOR_MS from
 * now when that is later (a deadline that is near is no reason not to try); other
 * posts, and invocations whose deadline is unknown, have the plain timeout and retries. */
static int64_t post_until(const as_runtime *rt, const as_span *request_id)
{
    if (request_id == NULL || rt->inv_deadline_ms == 0) {
        return 0;
    }
    as_span current = header_value(rt, HDR_REQUEST_ID);
    if (current.len == 0 || current.len != request_id->len ||
        memcmp(current.ptr, request_id->ptr, current.len) != 0) {
        return 0;
    }
    int64_t floor = as_clock_realtime_ms(NULL) + AS_RUNTIME_POST_FLOOR_MS;
    return rt->inv_deadline_ms > floor ? rt->inv_deadline_ms : floor;
}

/* Copies up to QUOTE_MAX bytes of `value` for a message, each byte outside printable
 * ASCII as '?', so that a hostile header cannot shape a log line. */
static void quote_value(as_span value, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < value.len && i < QUOTE_MAX && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)value.ptr[i];
        out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

static bool visible_ascii(as_span value)
{
    for (size_t i = 0; i < value.len; i++) {
        unsigned char c = (unsigned char)value.ptr[i];
        if (c <= 0x20 || c >= 0x7f) {
            return false;
        }
    }
    return true;
}

/* What is wrong with the request id, or NULL: it names the invocation in the answer's
 * URL and in every log line, so it must be there, short and printable. */
static const char *request_id_problem(const as_runtime *rt)
{
    const header_slot *slot = &rt->slots[HDR_REQUEST_ID];
    if (!slot->seen || slot->len == 0) {
        return "is missing";
    }
    if (slot->too_long) {
        return "is over " AS_RUNTIME_STR(AS_RUNTIME_REQUEST_ID_MAX) " bytes";
    }
    if (slot->conflict) {
        return "was sent twice with different values";
    }
    if (!visible_ascii(header_value(rt, HDR_REQUEST_ID))) {
        return "holds a space, a control byte or a non-ASCII byte";
    }
    return NULL;
}

/* Drops a trace id that is too long, doubtful or unprintable (it goes into the
 * environment and every log line), and a deadline that is not Lambda's, telling warn;
 * the invocation itself is still handled: tracing is not worth an audit batch. */
static void invocation_check(as_runtime *rt, as_invocation *inv)
{
    const header_slot *trace = &rt->slots[HDR_TRACE_ID];
    const char *trace_problem = NULL;
    if (trace->too_long) {
        trace_problem = "is over " AS_RUNTIME_STR(AS_RUNTIME_TRACE_ID_MAX) " bytes";
    } else if (trace->conflict) {
        trace_problem = "was sent twice with different values";
    } else if (!visible_ascii(inv->trace_id)) {
        trace_problem = "holds a space, a control byte or a non-ASCII byte";
    }
    if (trace_problem != NULL) {
        rt_warn(rt, AS_ERR_ARGUMENT,
                "invocation %.*s: %s (%zu bytes) %s: handled without a trace id",
                (int)inv->request_id.len, inv->request_id.ptr, header_names[HDR_TRACE_ID],
                trace->len, trace_problem);
        inv->trace_id = empty_span;
    }
    const header_slot *deadline = &rt->slots[HDR_DEADLINE];
    if (deadline->seen) {
        char value[QUOTE_MAX + 1];
        quote_value(header_value(rt, HDR_DEADLINE), value, sizeof value);
        char shown[QUOTE_MAX + 32];
        if (deadline->too_long) {
            snprintf(shown, sizeof shown, "of %zu bytes", deadline->len);
        } else {
            snprintf(shown, sizeof shown, "\"%s\"", value);
        }
        const char *problem = NULL;
        int64_t now = as_clock_realtime_ms(NULL);
        if (deadline->too_long || inv->deadline_ms == 0) {
            problem = "is not epoch milliseconds";
        } else if (deadline->conflict) {
            problem = "was sent twice with different values";
        } else if (inv->deadline_ms > now + DEADLINE_MAX_AHEAD_MS) {
            problem = "is over 15 minutes away (Lambda's longest timeout)";
        }
        if (problem != NULL) {
            rt_warn(rt, AS_ERR_ARGUMENT,
                    "invocation %.*s: %s %s %s: the deadline counts as unknown",
                    (int)inv->request_id.len, inv->request_id.ptr, header_names[HDR_DEADLINE],
                    shown, problem);
            inv->deadline_ms = 0;
        }
        /* Past on arrival (some emulators send one) counts as unknown for posts too. */
        rt->inv_deadline_ms = inv->deadline_ms > now ? inv->deadline_ms : 0;
    }
}

static void invocation_fill(const as_runtime *rt, as_invocation *inv)
{
    inv->request_id = header_value(rt, HDR_REQUEST_ID);
    inv->deadline_ms = parse_deadline(header_value(rt, HDR_DEADLINE));
    inv->function_arn = header_value(rt, HDR_FUNCTION_ARN);
    inv->trace_id = header_value(rt, HDR_TRACE_ID);
    inv->client_context = header_value(rt, HDR_CLIENT_CONTEXT);
    inv->cognito_identity = header_value(rt, HDR_COGNITO_IDENTITY);
}

static AS_RESULT runtime_next(as_runtime *rt, as_invocation *out, as_error *err)
{
    AS_ENSURE(rt != NULL && out != NULL,
              as_fail(err, AS_ERR_ARGUMENT, 0, "as_runtime_next: NULL argument"));
    invocation_clear(out);
    rt->inv_deadline_ms = 0;
    rt->refusal = NULL;
    if (rt->broken) {
        return pass_on(err, &rt->broken_error);
    }
    static const char what[] = "GET invocation/next";
    set_url(rt, "invocation/next", empty_span, "");
    AS_ENSURE(as_buf_status(&rt->url) == AS_OK, rt_break(rt, err, "%s: out of memory", what));
    rt->reading_next = true;
    AS_ENSURE(curl_easy_setopt(rt->curl, CURLOPT_URL, rt->url.data) == CURLE_OK,
              rt_break(rt, err, "%s: out of memory", what));
    curl_easy_setopt(rt->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(rt->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_easy_setopt(rt->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)rt->options.max_payload);

    long status = 0;
    as_error local;
    /* No timeout: Lambda freezes the process inside this request between invocations. */
    as_status st = as_status_of(rt_perform(rt, what, 0L, 0, &status, &local));
    rt->reading_next = false;
    if (rt->broken) {
        return pass_on(err, &local);
    }
    if (st == AS_ERR_NOMEM) {
        return rt_break(rt, err, "%s", local.message);
    }
    if (st != AS_OK && st != AS_ERR_LIMIT) {
        return pass_on(err, &local);
    }
    if (as_buf_status(&rt->headers) != AS_OK) {
        return rt_break(rt, err, "%s: out of memory", what);
    }
    if (status != 200) {
        as_span body = buf_span(&rt->payload);
        int shown = body.len < ANSWER_CAPTURE ? (int)body.len : ANSWER_CAPTURE;
        return rt_break(rt, err, "the Lambda Runtime API %s answered %ld to %s: %.*s", rt->api.data,
                        status, what, shown, body.ptr);
    }
    as_invocation inv;
    invocation_clear(&inv);
    invocation_fill(rt, &inv);
    rt->stats.invocations++;
    const char *id_problem = request_id_problem(rt);
    if (id_problem != NULL && rt->line_unreadable && !rt->slots[HDR_REQUEST_ID].seen) {
        /* libcurl says "out of memory" both for a header line over its cap and for memory
         * it could not get, and stopped before the request id either way. Skipping would
         * leave the invocation to Lambda's timeout, and memory may really be gone: exiting
         * makes Lambda fail the invocation now (Runtime.ExitError) and start afresh. */
        return rt_break(rt, err,
                        "%s: libcurl stopped at a header line before %s (a line over its "
                        "100 KB cap, or out of memory: it reports both alike); the invocation "
                        "cannot be answered",
                        what, header_names[HDR_REQUEST_ID]);
    }
    if (id_problem != NULL) {
        /* Nothing can answer it: Lambda times it out and retries it. The runtime goes on. */
        rt->refusal = NULL;
        return as_fail(err, AS_ERR_LIMIT, 0,
                       "the Lambda Runtime API %s sent an invocation whose %s %s (%zu "
                       "bytes): skipped without an answer%s%s",
                       rt->api.data, header_names[HDR_REQUEST_ID], id_problem,
                       rt->slots[HDR_REQUEST_ID].len, st == AS_ERR_LIMIT ? "; also: " : "",
                       st == AS_ERR_LIMIT ? local.message : "");
    }
    invocation_check(rt, &inv);
    if (st == AS_ERR_LIMIT) {
        *out = inv;
        if (rt->refusal != NULL) {
            return as_fail(err, AS_ERR_LIMIT, 0, "invocation %.*s: %s", (int)inv.request_id.len,
                           inv.request_id.ptr, local.message);
        }
        rt->refusal = "PayloadTooLarge";
        return as_fail(err, AS_ERR_LIMIT, 0,
                       "invocation %.*s: the payload is over %zu bytes and was not read",
                       (int)inv.request_id.len, inv.request_id.ptr, rt->options.max_payload);
    }
    if (!as_result_is_ok(rt_export_trace_id(rt, inv.trace_id, &local))) {
        return rt_break(rt, err, "%s", local.message);
    }
    inv.payload = buf_span(&rt->payload);
    *out = inv;
    return AS_RESULT_OK;
}

as_status as_runtime_next(as_runtime *rt, as_invocation *out, as_error *err)
{
    return as_status_of(runtime_next(rt, out, err));
}

static AS_RESULT check_request_id(const char *fn, as_span request_id, as_error *err)
{
    AS_ENSURE(request_id.ptr != NULL && request_id.len > 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "%s: empty request id", fn));
    return AS_RESULT_OK;
}

/* Fails at once, with the reason, when the runtime is broken. */
static AS_RESULT check_usable(as_runtime *rt, const char *fn, as_error *err)
{
    AS_ENSURE(rt != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "%s: NULL runtime", fn));
    if (rt->broken) {
        return pass_on(err, &rt->broken_error);
    }
    return AS_RESULT_OK;
}

static AS_RESULT runtime_respond(as_runtime *rt, as_span request_id, as_span body, as_error *err)
{
    AS_GUARD(check_usable(rt, "as_runtime_respond", err));
    AS_GUARD(check_request_id("as_runtime_respond", request_id, err));
    AS_ENSURE(body.ptr != NULL || body.len == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "as_runtime_respond: NULL body"));
    set_url(rt, "invocation/", request_id, "/response");
    return rt_post(rt, "POST invocation response", rt->response_headers, body,
                   post_until(rt, &request_id), err);
}

static AS_RESULT runtime_fail(as_runtime *rt, as_span request_id, as_span error_type,
                              as_span message, as_error *err)
{
    AS_GUARD(check_usable(rt, "as_runtime_fail", err));
    AS_GUARD(check_request_id("as_runtime_fail", request_id, err));
    AS_ENSURE(error_type_valid(error_type),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "as_runtime_fail: the error type must be 1 to %d of A-Z a-z 0-9 . _ -",
                      ERROR_TYPE_MAX));
    AS_ENSURE(message.ptr != NULL || message.len == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "as_runtime_fail: NULL message"));
    return rt_post_error(rt, &request_id, "Function.", error_type, message, err);
}

static AS_RESULT runtime_init_fail(as_runtime *rt, as_span error_type, as_span message,
                                   as_error *err)
{
    AS_GUARD(check_usable(rt, "as_runtime_init_fail", err));
    AS_ENSURE(error_type_valid(error_type),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "as_runtime_init_fail: the error type must be 1 to %d of A-Z a-z 0-9 "
                      ". _ -",
                      ERROR_TYPE_MAX));
    AS_ENSURE(message.ptr != NULL || message.len == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "as_runtime_init_fail: NULL message"));
    return rt_post_error(rt, NULL, "Runtime.", error_type, message, err);
}

/* Posts what the handler left in rt->reply for `inv`. */
static AS_RESULT rt_answer(as_runtime *rt, const as_invocation *inv, as_error *err)
{
    as_runtime_reply *reply = &rt->reply;
    if (as_buf_status(&reply->body) != AS_OK || as_buf_status(&reply->error_type) != AS_OK ||
        as_buf_status(&reply->error_message) != AS_OK) {
        rt_warn(rt, AS_ERR_NOMEM, "invocation %.*s: the handler ran out of memory",
                (int)inv->request_id.len, inv->request_id.ptr);
        return rt_post_error(rt, &inv->request_id, "Runtime.", as_span_from_cstr("OutOfMemory"),
                             as_span_from_cstr("the handler ran out of memory building its reply"),
                             err);
    }
    as_span type = buf_span(&reply->error_type);
    if (type.len == 0) {
        return runtime_respond(rt, inv->request_id, buf_span(&reply->body), err);
    }
    if (!error_type_valid(type)) {
        rt_warn(rt, AS_ERR_ARGUMENT,
                "invocation %.*s: error type \"%.*s\" is not 1 to %d of A-Z a-z 0-9 . _ -",
                (int)inv->request_id.len, inv->request_id.ptr, (int)(type.len < 64 ? type.len : 64),
                type.ptr, ERROR_TYPE_MAX);
        return rt_post_error(rt, &inv->request_id, "Runtime.",
                             as_span_from_cstr("InvalidErrorType"), buf_span(&reply->error_message),
                             err);
    }
    return runtime_fail(rt, inv->request_id, type, buf_span(&reply->error_message), err);
}

static AS_RESULT runtime_run(as_runtime *rt, as_runtime_handler handler, void *user, as_error *err)
{
    AS_ENSURE(rt != NULL && handler != NULL,
              as_fail(err, AS_ERR_ARGUMENT, 0, "as_runtime_run: NULL argument"));
    as_error problem;
    for (;;) {
        as_invocation inv;
        as_status st = as_status_of(runtime_next(rt, &inv, &problem));
        if (st == AS_ERR_LIMIT && !rt->broken) {
            rt_warn_error(rt, &problem);
            if (inv.request_id.len > 0 && rt->refusal != NULL) {
                st = as_status_of(rt_post_error(rt, &inv.request_id, "Runtime.",
                                                as_span_from_cstr(rt->refusal),
                                                as_span_from_cstr(problem.message), &problem));
            } else {
                st = AS_OK; /* no request id to answer: on to the next */
            }
        } else if (st == AS_OK) {
            reply_clear(&rt->reply);
            handler(user, &inv, &rt->reply);
            st = as_status_of(rt_answer(rt, &inv, &problem));
        }
        if (st != AS_OK) {
            if (rt->broken || st == AS_ERR_NOMEM) {
                return pass_on(err, &problem);
            }
            rt_warn_error(rt, &problem);
        }
        if (rt->reply.stop) {
            rt->reply.stop = false;
            return AS_RESULT_OK;
        }
    }
}

as_status as_runtime_respond(as_runtime *rt, as_span request_id, as_span body, as_error *err)
{
    return as_status_of(runtime_respond(rt, request_id, body, err));
}

as_status as_runtime_fail(as_runtime *rt, as_span request_id, as_span error_type, as_span message,
                          as_error *err)
{
    return as_status_of(runtime_fail(rt, request_id, error_type, message, err));
}

as_status as_runtime_init_fail(as_runtime *rt, as_span error_type, as_span message, as_error *err)
{
    return as_status_of(runtime_init_fail(rt, error_type, message, err));
}

as_status as_runtime_run(as_runtime *rt, as_runtime_handler handler, void *user, as_error *err)
{
    return as_status_of(runtime_run(rt, handler, user, err));
}

void as_runtime_get_stats(const as_runtime *rt, as_runtime_stats *out)
{
    if (rt == NULL || out == NULL) {
        return;
    }
    *out = rt->stats;
    out->buffer_bytes = rt->url.cap + rt->payload.cap + rt->headers.cap + rt->answer.cap +
                        rt->document.cap + rt->line.cap + rt->reply.body.cap +
                        rt->reply.error_type.cap + rt->reply.error_message.cap + rt->trace_env_cap;
}
