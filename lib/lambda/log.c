/* Log lines (Powertools-style JSON or Lambda-style text) and Embedded Metric Format
 * lines, formatted into a caller's buffer; the caller decides where they go. */
#include <strings.h>

#include "auditstream/log.h"
#include "core/cursor.h"
#include "core/hex.h"
#include "core/internal.h"
#include "core/isotime.h"
#include "core/json_text.h"

static const char *const level_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};

as_status as_log_level_parse(const char *text, as_log_level *out)
{
    if (text == NULL || out == NULL) {
        return AS_ERR_ARGUMENT;
    }
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (as_log_level)i;
            return AS_OK;
        }
    }
    return AS_ERR_ARGUMENT;
}

as_status as_log_format_parse(const char *text, as_log_format *out)
{
    if (text == NULL || out == NULL) {
        return AS_ERR_ARGUMENT;
    }
    if (strcasecmp(text, "JSON") == 0) {
        *out = AS_LOG_FORMAT_JSON;
        return AS_OK;
    }
    if (strcasecmp(text, "Text") == 0) {
        *out = AS_LOG_FORMAT_TEXT;
        return AS_OK;
    }
    return AS_ERR_ARGUMENT;
}

const char *as_log_level_name(as_log_level level)
{
    switch (level) {
    case AS_LOG_TRACE:
    case AS_LOG_DEBUG:
    case AS_LOG_INFO:
    case AS_LOG_WARN:
    case AS_LOG_ERROR:
    case AS_LOG_FATAL: return level_names[level];
    default: return "INFO";
    }
}

bool as_log_enabled(const as_log *log, as_log_level level)
{
    return log != NULL && level >= log->level;
}

/* ---- escaping ----------------------------------------------------------------------------- */

static void append_json_string(as_buf *out, as_span text)
{
    as_buf_append_char(out, '"');
    as_json_append_text(out, text);
    as_buf_append_char(out, '"');
}

/* Text lines: every byte as is but control bytes (and DEL), which become \n, \t, \r or
 * \xNN, so that one line stays one line in CloudWatch. */
static void append_text(as_buf *out, as_span text)
{
    size_t run = 0;
    for (size_t i = 0; i < text.len; i++) {
        unsigned char c = (unsigned char)text.ptr[i];
        if (c >= 0x20 && c != 0x7f) {
            continue;
        }
        as_buf_append(out, text.ptr + run, i - run);
        run = i + 1;
        switch (c) {
        case '\n': as_buf_append(out, "\\n", 2); break;
        case '\r': as_buf_append(out, "\\r", 2); break;
        case '\t': as_buf_append(out, "\\t", 2); break;
        default: {
            char esc[4] = {'\\', 'x'};
            as_hex_encode(&c, 1, false, esc + 2);
            as_buf_append(out, esc, sizeof esc);
            break;
        }
        }
    }
    as_buf_append(out, text.ptr + run, text.len - run);
}

/* Whether a text-line value can go bare: printable ASCII, no space, quote, '=' or '\\'. */
static bool text_bare(as_span text)
{
    if (text.len == 0) {
        return false;
    }
    for (size_t i = 0; i < text.len; i++) {
        unsigned char c = (unsigned char)text.ptr[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '=' || c == '\\') {
            return false;
        }
    }
    return true;
}

static void append_i64(as_buf *out, int64_t value)
{
    if (value < 0) {
        as_buf_append_char(out, '-');
        as_buf_append_u64(out, (uint64_t)0 - (uint64_t)value);
    } else {
        as_buf_append_u64(out, (uint64_t)value);
    }
}

/* The Root=... part of an X-Ray trace header, or the whole header when it has none. */
static as_span trace_root(as_span header)
{
    as_cursor c = as_cursor_of(header);
    while (!as_cursor_at_end(&c)) {
        as_cursor part = as_cursor_of(as_cursor_take_until(&c, ';'));
        (void)as_cursor_take_char(&c, ';');
        if (as_cursor_take_literal(&part, "Root=") && !as_cursor_at_end(&part)) {
            return as_cursor_rest(&part);
        }
    }
    return header;
}

/* ---- lines -------------------------------------------------------------------------------- */

static void json_key(as_buf *out, const char *name)
{
    as_buf_append_str(out, ",\"");
    as_json_append_text(out, as_span_from_cstr(name));
    as_buf_append_str(out, "\":");
}

static void json_string_field(as_buf *out, const char *name, as_span value)
{
    if (value.len == 0) {
        return;
    }
    json_key(out, name);
    append_json_string(out, value);
}

/* A number or a boolean, written the same in both formats; false for a string. */
static bool append_scalar(as_buf *out, const as_log_field *f)
{
    switch (f->type) {
    case AS_LOG_VALUE_U64: as_buf_append_u64(out, f->u64); return true;
    case AS_LOG_VALUE_I64: append_i64(out, f->i64); return true;
    case AS_LOG_VALUE_BOOL: as_buf_append_str(out, f->boolean ? "true" : "false"); return true;
    case AS_LOG_VALUE_JSON_STR:
    case AS_LOG_VALUE_STR:
    case AS_LOG_VALUE_JSON:
    default: return false;
    }
}

static void json_field(as_buf *out, const as_log_field *f)
{
    json_key(out, f->name != NULL ? f->name : "");
    if (append_scalar(out, f)) {
        return;
    }
    if (f->type == AS_LOG_VALUE_JSON) {
        as_buf_append(out, f->str.ptr, f->str.len);
    } else if (f->type == AS_LOG_VALUE_JSON_STR) {
        as_buf_append_char(out, '"');
        as_buf_append(out, f->str.ptr, f->str.len);
        as_buf_append_char(out, '"');
    } else {
        append_json_string(out, f->str);
    }
}

static void text_field(as_buf *out, const as_log_field *f)
{
    as_buf_append_char(out, ' ');
    append_text(out, as_span_from_cstr(f->name != NULL ? f->name : ""));
    as_buf_append_char(out, '=');
    if (append_scalar(out, f)) {
        return;
    }
    if (f->type == AS_LOG_VALUE_JSON) {
        /* JSON's own quotes mark its strings: it goes in as it is, kept on one line. */
        append_text(out, f->str);
    } else if (text_bare(f->str)) {
        as_buf_append(out, f->str.ptr, f->str.len);
    } else if (f->type == AS_LOG_VALUE_JSON_STR) {
        /* Already escaped: between quotes as it is. */
        as_buf_append_char(out, '"');
        append_text(out, f->str);
        as_buf_append_char(out, '"');
    } else {
        append_json_string(out, f->str);
    }
}

void as_log_line(const as_log *log, as_log_level level, int64_t now_ms, as_span message,
                 const as_log_field *fields, size_t count, as_buf *out)
{
    if (!as_log_enabled(log, level) || out == NULL || (fields == NULL && count > 0)) {
        return;
    }
    char stamp[AS_ISO_TIME_LEN];
    as_iso_time_format(now_ms, stamp);
    if (message.ptr == NULL) {
        message = as_span_from_cstr("");
    }
    if (log->format == AS_LOG_FORMAT_JSON) {
        as_buf_append_str(out, "{\"timestamp\":\"");
        as_buf_append(out, stamp, sizeof stamp);
        as_buf_append_str(out, "\",\"level\":\"");
        as_buf_append_str(out, as_log_level_name(level));
        as_buf_append_str(out, "\",\"message\":");
        append_json_string(out, message);
        json_string_field(out, "service", log->service);
        if (log->request_id.len > 0) {
            json_key(out, "cold_start");
            as_buf_append_str(out, log->cold_start ? "true" : "false");
        }
        json_string_field(out, "function_name", log->function_name);
        json_string_field(out, "function_request_id", log->request_id);
        json_string_field(out, "xray_trace_id", trace_root(log->trace_id));
        for (size_t i = 0; i < count; i++) {
            json_field(out, &fields[i]);
        }
        as_buf_append_str(out, "}\n");
        return;
    }
    as_buf_append(out, stamp, sizeof stamp);
    as_buf_append_char(out, '\t');
    if (log->request_id.len > 0) {
        append_text(out, log->request_id);
        as_buf_append_char(out, '\t');
    }
    as_buf_append_str(out, as_log_level_name(level));
    as_buf_append_char(out, '\t');
    append_text(out, message);
    for (size_t i = 0; i < count; i++) {
        text_field(out, &fields[i]);
    }
    as_buf_append_char(out, '\n');
}

void as_log_emf(int64_t now_ms, const char *ns, const char *dimension, as_span dimension_value,
                const as_metric *metrics, size_t count, as_buf *out)
{
    if (out == NULL || (metrics == NULL && count > 0)) {
        return;
    }
    as_span dim = as_span_from_cstr(dimension != NULL ? dimension : "");
    as_buf_append_str(out, "{\"_aws\":{\"Timestamp\":");
    append_i64(out, now_ms);
    as_buf_append_str(out, ",\"CloudWatchMetrics\":[{\"Namespace\":");
    append_json_string(out, as_span_from_cstr(ns != NULL ? ns : ""));
    as_buf_append_str(out, ",\"Dimensions\":[[");
    append_json_string(out, dim);
    as_buf_append_str(out, "]],\"Metrics\":[");
    for (size_t i = 0; i < count; i++) {
        as_buf_append_str(out, i == 0 ? "{\"Name\":" : ",{\"Name\":");
        append_json_string(out, as_span_from_cstr(metrics[i].name));
        as_buf_append_str(out, ",\"Unit\":");
        append_json_string(out, as_span_from_cstr(metrics[i].unit));
        as_buf_append_char(out, '}');
    }
    as_buf_append_str(out, "]}]},");
    append_json_string(out, dim);
    as_buf_append_char(out, ':');
    append_json_string(out, dimension_value.ptr != NULL ? dimension_value : as_span_from_cstr(""));
    for (size_t i = 0; i < count; i++) {
        as_buf_append_char(out, ',');
        append_json_string(out, as_span_from_cstr(metrics[i].name));
        as_buf_append_char(out, ':');
        as_buf_append_u64(out, metrics[i].value);
    }
    as_buf_append_str(out, "}\n");
}
