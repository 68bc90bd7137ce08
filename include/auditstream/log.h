/* Log lines for a Lambda function, formatted into an as_buf for the caller to write:
 * JSON objects with AWS Lambda Powertools' field names or plain text, and CloudWatch
 * Embedded Metric Format lines. Formatting only: nothing here prints or reads a clock. */
#ifndef AUDITSTREAM_LOG_H
#define AUDITSTREAM_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* AWS_LAMBDA_LOG_LEVEL's levels, lowest first. */
typedef enum as_log_level {
    AS_LOG_TRACE = 0,
    AS_LOG_DEBUG,
    AS_LOG_INFO,
    AS_LOG_WARN,
    AS_LOG_ERROR,
    AS_LOG_FATAL
} as_log_level;

/* AWS_LAMBDA_LOG_FORMAT's formats. */
typedef enum as_log_format { AS_LOG_FORMAT_TEXT = 0, AS_LOG_FORMAT_JSON } as_log_format;

/* Parses TRACE, DEBUG, INFO, WARN, ERROR or FATAL, in any case, as Lambda does.
 * AS_ERR_ARGUMENT for anything else (NULL included); *out is then unchanged. */
AS_MUST_CHECK as_status as_log_level_parse(const char *text, as_log_level *out);
/* Parses JSON or Text, in any case. AS_ERR_ARGUMENT for anything else. */
AS_MUST_CHECK as_status as_log_format_parse(const char *text, as_log_format *out);
/* "TRACE" ... "FATAL": the names Lambda filters JSON lines on. */
const char *as_log_level_name(as_log_level level);

/* Where lines go and what they carry. A plain value: fill it once, then change the
 * per-invocation fields before each invocation's lines. Every span is borrowed for the
 * length of each call and may be empty, which leaves that field out. Nothing here
 * takes credentials, so that no secret can reach a line through this API. */
typedef struct as_log {
    as_log_format format;
    as_log_level level;    /* lines below it are dropped */
    as_span service;       /* Powertools' `service` */
    as_span function_name; /* Powertools' `function_name` (AWS_LAMBDA_FUNCTION_NAME) */
    as_span request_id;    /* the invocation's: `function_request_id` */
    as_span trace_id;      /* the invocation's X-Ray header (Root=1-...;Parent=...);
                              its Root alone is logged, as `xray_trace_id` */
    bool cold_start;       /* the first invocation of this process */
} as_log;

typedef enum as_log_value {
    AS_LOG_VALUE_STR = 0,  /* `str`: raw bytes, escaped on output (bad UTF-8 becomes U+FFFD) */
    AS_LOG_VALUE_JSON_STR, /* `str`: the body of a JSON string, escapes and all, that is
                              already valid (a span of a decoded event): copied as is */
    AS_LOG_VALUE_U64,
    AS_LOG_VALUE_I64,
    AS_LOG_VALUE_BOOL,
    AS_LOG_VALUE_JSON /* `str`: a whole JSON value's text, valid and compact (an array
                         of objects): in as it is in JSON lines, and as it is, control
                         bytes escaped, after `name=` in text lines */
} as_log_value;

/* A field beyond the standard ones. `name` is NUL-terminated and borrowed; it should
 * not repeat a standard field's name (nothing checks). */
typedef struct as_log_field {
    const char *name;
    as_log_value type;
    as_span str;
    uint64_t u64;
    int64_t i64;
    bool boolean;
} as_log_field;

static inline as_log_field as_log_field_span(const char *name, as_span value)
{
    as_log_field f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.type = AS_LOG_VALUE_STR;
    f.str = value;
    return f;
}

/* `value` is NUL-terminated; NULL counts as "". */
static inline as_log_field as_log_field_str(const char *name, const char *value)
{
    as_span span;
    span.ptr = value != NULL ? value : "";
    span.len = value != NULL ? strlen(value) : 0;
    return as_log_field_span(name, span);
}

static inline as_log_field as_log_field_json_str(const char *name, as_span escaped_body)
{
    as_log_field f = as_log_field_span(name, escaped_body);
    f.type = AS_LOG_VALUE_JSON_STR;
    return f;
}

static inline as_log_field as_log_field_json(const char *name, as_span json)
{
    as_log_field f = as_log_field_span(name, json);
    f.type = AS_LOG_VALUE_JSON;
    return f;
}

static inline as_log_field as_log_field_u64(const char *name, uint64_t value)
{
    as_log_field f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.type = AS_LOG_VALUE_U64;
    f.u64 = value;
    return f;
}

static inline as_log_field as_log_field_i64(const char *name, int64_t value)
{
    as_log_field f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.type = AS_LOG_VALUE_I64;
    f.i64 = value;
    return f;
}

static inline as_log_field as_log_field_bool(const char *name, bool value)
{
    as_log_field f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.type = AS_LOG_VALUE_BOOL;
    f.boolean = value;
    return f;
}

/* Whether a line of `level` passes `log`'s filter. False for a NULL `log`. */
bool as_log_enabled(const as_log *log, as_log_level level);

/* Appends one line, ending in '\n', to `out` when `level` passes the filter (else
 * nothing). `now_ms` is the caller's clock (epoch ms) and `message` any bytes.
 *
 * JSON: {"timestamp":"2024-05-01T12:30:45.000Z","level":"INFO","message":"...",
 * "service":"...","cold_start":true,"function_name":"...","function_request_id":"...",
 * "xray_trace_id":"1-...",<fields>} -- empty standard fields left out, cold_start only
 * once a request id is set; valid JSON whatever the bytes.
 * Text, as Lambda's managed runtimes print: "2024-05-01T12:30:45.000Z\t<request id>\tINFO
 * \t<message> name=value ...", the request id column left out when empty; control
 * bytes escaped so that a line stays one line, and a string value quoted as JSON when
 * it holds a space, '"', '=', '\\' or a byte outside printable ASCII. A failed append
 * is sticky in `out` (see as_buf_status). `fields` may be NULL when `count` is 0. */
void as_log_line(const as_log *log, as_log_level level, int64_t now_ms, as_span message,
                 const as_log_field *fields, size_t count, as_buf *out);

/* One metric of an Embedded Metric Format line. `name` and `unit` are borrowed,
 * NUL-terminated; `unit` one of CloudWatch's ("Count", "Milliseconds", ...). */
typedef struct as_metric {
    const char *name;
    const char *unit;
    uint64_t value;
} as_metric;

/* Appends one CloudWatch Embedded Metric Format line (always JSON, never filtered):
 * {"_aws":{"Timestamp":<now_ms>,"CloudWatchMetrics":[{"Namespace":"<ns>",
 * "Dimensions":[["<dimension>"]],"Metrics":[{"Name":"<name>","Unit":"<unit>"},...]}]},
 * "<dimension>":"<dimension_value>","<name>":<value>,...}\n
 * All strings are borrowed and escaped. `metrics` may be NULL when `count` is 0. */
void as_log_emf(int64_t now_ms, const char *ns, const char *dimension, as_span dimension_value,
                const as_metric *metrics, size_t count, as_buf *out);

#ifdef __cplusplus
}
#endif

#endif
