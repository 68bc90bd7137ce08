/* The canonical dump (see event_dump.h) written from our decoder's as_event, with
 * checks that every span, flag and count it hands out agrees with the input bytes. */
#include "event_dump.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Shared formatting ------------------------------------------------------------ */

void dump_printf(as_buf *out, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    as_buf_append(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void dump_string(as_buf *out, const char *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    as_buf_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            as_buf_append(out, esc, 2);
        } else if (c >= 0x20 && c < 0x7f) {
            as_buf_append_char(out, (char)c);
        } else {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            as_buf_append(out, esc, 4);
        }
    }
    as_buf_append_char(out, '"');
}

void dump_time_integer(as_buf *out, long long value)
{
    dump_printf(out, "int %lld", value);
}

void dump_time_real(as_buf *out, double value)
{
    dump_printf(out, "real %.17g", value);
}

void dump_time_huge(as_buf *out, bool negative)
{
    as_buf_append_str(out, negative ? "huge-" : "huge+");
}

bool dump_time_ambiguous(double value)
{
    return (value == 0.0 && signbit(value)) || value == DUMP_TIME_END;
}

/* ---- Our decoder's side ------------------------------------------------------------ */

typedef struct walker {
    const char *json;
    size_t len;
    unsigned flags;
    as_buf *out;
    as_buf notes;       /* "!!" lines, written after the record they belong to */
    as_buf scratch;
    size_t record;
} walker;

static void note(walker *w, const char *fmt, ...) DUMP_PRINTF(2, 3);

static void note(walker *w, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    dump_printf(&w->notes, "!! Records[%zu]: %s\n", w->record, line);
}

static size_t offset_of(const walker *w, const char *p)
{
    return p >= w->json && p <= w->json + w->len ? (size_t)(p - w->json) : SIZE_MAX;
}

/* True when `span` lies inside the input (an empty span may sit at its very end). */
static bool span_inside(const walker *w, as_span span)
{
    if (span.ptr == NULL) {
        return span.len == 0;
    }
    return span.ptr >= w->json && span.len <= w->len && (size_t)(span.ptr - w->json) <= w->len - span.len;
}

static bool span_within(as_span inner, as_span outer)
{
    return inner.ptr >= outer.ptr && inner.len <= outer.len &&
           (size_t)(inner.ptr - outer.ptr) <= outer.len - inner.len;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whitespace outside strings in JSON text the decoder validated. */
static bool spaced(as_span span)
{
    for (size_t i = 0; i < span.len; i++) {
        char c = span.ptr[i];
        if (c == '"') {
            for (i++; i < span.len && span.ptr[i] != '"'; i++) {
                if (span.ptr[i] == '\\') {
                    i++;
                }
            }
        } else if (is_ws(c)) {
            return true;
        }
    }
    return false;
}

static bool has_backslash(as_span span)
{
    return span.len > 0 && memchr(span.ptr, '\\', span.len) != NULL;
}

/* Decodes a string body into w->scratch; names get the NUL mapping when asked. */
static as_span decoded(walker *w, as_span body, bool name)
{
    as_buf_clear(&w->scratch);
    as_json_unescape(body, &w->scratch);
    if (name && (w->flags & EVENT_DUMP_NUL_NAMES) && w->scratch.len > 0 &&
        memchr(w->scratch.data, '\0', w->scratch.len) != NULL) {
        as_buf mapped = AS_BUF_INIT;
        for (size_t i = 0; i < w->scratch.len; i++) {
            if (w->scratch.data[i] == '\0') {
                as_buf_append(&mapped, "\xF4\x8F\xBF\xBF", 4);
            } else {
                as_buf_append_char(&mapped, w->scratch.data[i]);
            }
        }
        as_buf_free(&w->scratch);
        w->scratch = mapped;
    }
    return (as_span){w->scratch.data != NULL ? w->scratch.data : "", w->scratch.len};
}

static void dump_body(walker *w, as_span body, bool name)
{
    as_span text = decoded(w, body, name);
    dump_string(w->out, text.ptr, text.len);
}

static bool is_scalar(as_type t)
{
    return t == AS_TYPE_S || t == AS_TYPE_N || t == AS_TYPE_B;
}

static bool is_set(as_type t)
{
    return t == AS_TYPE_SS || t == AS_TYPE_NS || t == AS_TYPE_BS;
}

/* The members of `v` tile its subtree exactly and number v->count. */
static bool members_consistent(walker *w, const as_value *v)
{
    if (v->subtree == 0) {
        note(w, "value at byte %zu has subtree 0", offset_of(w, v->text.ptr));
        return false;
    }
    const as_value *end = v + v->subtree;
    uint32_t count = 0;
    const as_value *m = v + 1;
    while (m < end) {
        if (m->subtree == 0 || m->subtree > (size_t)(end - m)) {
            note(w, "member of the value at byte %zu has a bad subtree", offset_of(w, v->text.ptr));
            return false;
        }
        m += m->subtree;
        count++;
    }
    if (count != v->count) {
        note(w, "value at byte %zu: count %u but %u members", offset_of(w, v->text.ptr), v->count,
             count);
        return false;
    }
    return true;
}

/* ---- Checking a value against its wire text with jansson -------------------------------- */

static json_t *expected_attr(walker *w, const as_value *v, bool *unsupported);

static json_t *string_of(walker *w, as_span body)
{
    as_span text = decoded(w, body, false);
    return json_stringn(text.ptr, text.len);
}

/* The payload of `v` ({"S": payload}) as jansson would read it from the input. */
static json_t *expected_payload(walker *w, const as_value *v, bool *unsupported)
{
    switch (v->type) {
    case AS_TYPE_S:
    case AS_TYPE_N:
    case AS_TYPE_B:
        return string_of(w, v->text);
    case AS_TYPE_BOOL:
    case AS_TYPE_NULL:
        return json_boolean(v->text.len > 0 && v->text.ptr[0] == 't');
    case AS_TYPE_SS:
    case AS_TYPE_NS:
    case AS_TYPE_BS:
    case AS_TYPE_L: {
        json_t *array = json_array();
        for (const as_value *m = v + 1; m < v + v->subtree; m += m->subtree) {
            json_t *item = is_set(v->type) ? string_of(w, m->text) : expected_attr(w, m, unsupported);
            json_array_append_new(array, item);
        }
        return array;
    }
    case AS_TYPE_M: {
        json_t *object = json_object();
        for (const as_value *m = v + 1; m < v + v->subtree; m += m->subtree) {
            as_span name = decoded(w, m->name, false);
            if (name.len > 0 && memchr(name.ptr, '\0', name.len) != NULL) {
                *unsupported = true;    /* jansson cannot hold the key */
                continue;
            }
            char *key = strndup(name.ptr, name.len);
            if (key == NULL) {
                *unsupported = true;
                continue;
            }
            json_object_set_new(object, key, expected_attr(w, m, unsupported));
            free(key);
        }
        return object;
    }
    default:
        *unsupported = true;
        return json_null();
    }
}

static json_t *expected_attr(walker *w, const as_value *v, bool *unsupported)
{
    json_t *wrapped = json_object();
    json_object_set_new(wrapped, as_type_name(v->type), expected_payload(w, v, unsupported));
    return wrapped;
}

/* `span` must parse to `expected`; jansson's own limits (NUL in keys, huge numbers)
 * leave it unchecked. */
static void check_json(walker *w, as_span span, json_t *expected, const char *what,
                       const as_value *v)
{
    json_error_t error;
    json_t *parsed = json_loadb(span.ptr, span.len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &error);
    if (parsed == NULL) {
        enum json_error_code code = json_error_code(&error);
        if (code != json_error_null_byte_in_key && code != json_error_numeric_overflow) {
            note(w, "%s of the %s at byte %zu is not JSON: %s", what, as_type_name(v->type),
                 offset_of(w, span.ptr), error.text);
        }
        return;
    }
    if (!json_equal(parsed, expected)) {
        note(w, "%s of the %s at byte %zu does not hold its value", what, as_type_name(v->type),
             offset_of(w, span.ptr));
    }
    json_decref(parsed);
}

/* Invariants of one value: spans inside the input, the flags, and wire/text holding
 * what the tree says. `image` is true for Keys and images, which have no wire. */
static void check_value(walker *w, const as_value *v, bool member, bool image)
{
    size_t at = offset_of(w, v->text.ptr);
    if (!span_inside(w, v->text) || !span_inside(w, v->wire) || !span_inside(w, v->name)) {
        note(w, "a span of the value at byte %zu lies outside the input", at);
        return;
    }
    if (image != (v->wire.len == 0)) {
        note(w, "value at byte %zu: wire is %s", at, image ? "not empty" : "empty");
        return;
    }
    if (!image && !span_within(v->text, v->wire)) {
        note(w, "value at byte %zu: text lies outside wire", at);
        return;
    }
    bool name_escaped = (v->flags & AS_VALUE_NAME_ESCAPED) != 0;
    if (name_escaped != has_backslash(v->name)) {
        note(w, "value at byte %zu: NAME_ESCAPED is %d", at, name_escaped);
    }
    if (is_scalar(v->type)) {
        bool text_escaped = (v->flags & AS_VALUE_TEXT_ESCAPED) != 0;
        if (text_escaped != has_backslash(v->text)) {
            note(w, "value at byte %zu: TEXT_ESCAPED is %d", at, text_escaped);
        }
        if (v->text.ptr == w->json || v->text.ptr[-1] != '"' || at + v->text.len >= w->len ||
            v->text.ptr[v->text.len] != '"') {
            note(w, "value at byte %zu: text is not a string body", at);
        }
    }
    bool wire_spaced = (v->flags & AS_VALUE_WIRE_SPACED) != 0;
    if (wire_spaced != spaced(image ? v->text : v->wire)) {
        note(w, "value at byte %zu: WIRE_SPACED is %d", at, wire_spaced);
    }
    if (member) {
        if (v->wire.ptr != v->text.ptr - 1 || v->wire.len != v->text.len + 2) {
            note(w, "set member at byte %zu: wire is not its quoted text", at);
        }
        return;
    }
    bool unsupported = false;
    json_t *expected = image ? expected_payload(w, v, &unsupported) : expected_attr(w, v, &unsupported);
    if (!unsupported) {
        check_json(w, image ? v->text : v->wire, expected, image ? "text" : "wire", v);
    }
    json_decref(expected);
    if (!unsupported && !image && (v->type == AS_TYPE_M || v->type == AS_TYPE_L || is_set(v->type))) {
        json_t *payload = expected_payload(w, v, &unsupported);
        check_json(w, v->text, payload, "text", v);
        json_decref(payload);
    }
}

/* ---- Writing the tree ------------------------------------------------------------------ */

static void dump_value(walker *w, const as_value *v, bool image)
{
    check_value(w, v, false, image);
    const char *tag = as_type_name(v->type);
    unsigned long long size = (unsigned long long)v->size;
    switch (v->type) {
    case AS_TYPE_S:
    case AS_TYPE_N:
    case AS_TYPE_B:
        dump_printf(w->out, "%s#%llu", tag, size);
        dump_body(w, v->text, false);
        return;
    case AS_TYPE_BOOL:
        dump_printf(w->out, "BOOL#%llu:%.*s", size, (int)(v->text.len > 5 ? 5 : v->text.len),
                    v->text.ptr != NULL ? v->text.ptr : "");
        return;
    case AS_TYPE_NULL:
        dump_printf(w->out, "NULL#%llu", size);
        if (v->text.len != 4 || memcmp(v->text.ptr, "true", 4) != 0) {
            as_buf_append_str(w->out, ":not-true");
        }
        return;
    case AS_TYPE_SS:
    case AS_TYPE_NS:
    case AS_TYPE_BS: {
        dump_printf(w->out, "%s#%llu[", tag, size);
        if (members_consistent(w, v)) {
            const char *sep = "";
            for (const as_value *m = v + 1; m < v + v->subtree; m += m->subtree) {
                as_buf_append_str(w->out, sep);
                check_value(w, m, true, false);
                dump_body(w, m->text, false);
                dump_printf(w->out, "#%llu", (unsigned long long)m->size);
                sep = ",";
            }
        }
        as_buf_append_char(w->out, ']');
        return;
    }
    case AS_TYPE_M:
    case AS_TYPE_L: {
        bool map = v->type == AS_TYPE_M;
        dump_printf(w->out, "%s#%llu^%u%c", tag, size, v->depth, map ? '{' : '[');
        if (members_consistent(w, v)) {
            const char *sep = "";
            for (const as_value *m = v + 1; m < v + v->subtree; m += m->subtree) {
                as_buf_append_str(w->out, sep);
                if (map) {
                    dump_body(w, m->name, true);
                    as_buf_append_char(w->out, '=');
                } else if (m->name.ptr != NULL) {
                    note(w, "list element at byte %zu has a name", offset_of(w, m->text.ptr));
                }
                dump_value(w, m, false);
                sep = ",";
            }
        }
        as_buf_append_char(w->out, map ? '}' : ']');
        return;
    }
    default:
        dump_printf(w->out, "type%d", (int)v->type);
        return;
    }
}

static void dump_tree(walker *w, const char *label, const as_value *v)
{
    dump_printf(w->out, " %s ", label);
    if (v == NULL) {
        as_buf_append_str(w->out, "-\n");
        return;
    }
    if (v->type != AS_TYPE_M) {
        note(w, "%s is not an M", label);
    }
    dump_value(w, v, true);
    as_buf_append_char(w->out, '\n');
}

static void dump_field(walker *w, const as_record *r, const char *label, as_span span)
{
    dump_printf(w->out, " %s ", label);
    if (span.ptr == NULL) {
        as_buf_append_str(w->out, "-\n");
        return;
    }
    if (!span_inside(w, span) || !span_within(span, r->raw)) {
        note(w, "%s lies outside the record", label);
        as_buf_append_str(w->out, "?\n");
        return;
    }
    dump_body(w, span, false);
    as_buf_append_char(w->out, '\n');
}

typedef enum { TIME_ABSENT, TIME_OK, TIME_AMBIGUOUS } time_kind;

/* Reduces the number text the way jansson reads numbers: an integer when it has no
 * '.', 'e' or 'E' and fits a long long, else a double. */
static time_kind dump_creation_time(walker *w, as_span text)
{
    as_buf_append_str(w->out, " ApproximateCreationDateTime ");
    if (text.ptr == NULL) {
        as_buf_append_str(w->out, "-\n");
        return TIME_ABSENT;
    }
    if (text.len == 0 || (text.ptr[0] != '-' && (text.ptr[0] < '0' || text.ptr[0] > '9'))) {
        /* An invalid record keeps whatever value it had. */
        as_buf_append_str(w->out, "non-number\n");
        return TIME_ABSENT;
    }
    char number[128];
    char *copy = text.len < sizeof number ? number : malloc(text.len + 1);
    if (copy == NULL) {
        as_buf_append_str(w->out, "?\n");
        return TIME_ABSENT;
    }
    memcpy(copy, text.ptr, text.len);
    copy[text.len] = '\0';
    bool negative = copy[0] == '-';
    time_kind kind = TIME_OK;
    errno = 0;
    if (strpbrk(copy, ".eE") == NULL) {
        long long value = strtoll(copy, NULL, 10);
        if (errno == ERANGE) {
            dump_time_huge(w->out, negative);
        } else {
            dump_time_integer(w->out, value);
        }
    } else {
        double value = strtod(copy, NULL);
        if (errno == ERANGE && isinf(value)) {
            dump_time_huge(w->out, negative);
        } else {
            dump_time_real(w->out, value);
            if (dump_time_ambiguous(value)) {
                kind = TIME_AMBIGUOUS;
            }
        }
    }
    if (copy != number) {
        free(copy);
    }
    as_buf_append_char(w->out, '\n');
    return kind;
}

static const char *event_name_text(as_event_name name)
{
    switch (name) {
    case AS_EVENT_INSERT: return "INSERT";
    case AS_EVENT_MODIFY: return "MODIFY";
    case AS_EVENT_REMOVE: return "REMOVE";
    default: return "?";
    }
}

/* The record's raw text must be one JSON value, jansson's limits aside. */
static void check_raw(walker *w, const as_record *r, const char **previous_end)
{
    if (r->raw.ptr == NULL || r->raw.len == 0 || !span_inside(w, r->raw)) {
        note(w, "raw is empty or lies outside the input");
        return;
    }
    if (r->raw.ptr < *previous_end) {
        note(w, "raw overlaps the previous record");
    }
    *previous_end = r->raw.ptr + r->raw.len;
    if (is_ws(r->raw.ptr[0]) || is_ws(r->raw.ptr[r->raw.len - 1])) {
        note(w, "raw starts or ends with whitespace");
    }
    json_error_t error;
    json_t *parsed = json_loadb(r->raw.ptr, r->raw.len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &error);
    if (parsed == NULL) {
        enum json_error_code code = json_error_code(&error);
        if (code != json_error_null_byte_in_key && code != json_error_numeric_overflow) {
            note(w, "raw is not one JSON value: %s", error.text);
        }
        return;
    }
    json_decref(parsed);
}

static void dump_record(walker *w, const as_record *r, const char **previous_end)
{
    if (r->index != w->record) {
        note(w, "index is %zu", r->index);
    }
    check_raw(w, r, previous_end);

    /* The time goes first into a side buffer: it decides the validity line. */
    as_buf *out = w->out;
    as_buf time_line = AS_BUF_INIT;
    w->out = &time_line;
    time_kind time = dump_creation_time(w, r->creation_time);
    w->out = out;
    if (r->creation_time.ptr != NULL && !span_within(r->creation_time, r->raw)) {
        note(w, "ApproximateCreationDateTime lies outside the record");
    }

    const char *verdict = time == TIME_AMBIGUOUS ? "undetermined" : r->error == NULL ? "valid" : "invalid";
    dump_printf(out, "record %zu %s\n", w->record, verdict);
    if (r->error != NULL && strncmp(r->error, "Records[", 8) != 0) {
        note(w, "error does not name the record: %s", r->error);
    }
    dump_field(w, r, "eventID", r->event_id);
    dump_printf(out, " eventName %s\n", event_name_text(r->event_name));
    dump_field(w, r, "eventSource", r->event_source);
    dump_field(w, r, "eventSourceARN", r->event_source_arn);
    dump_field(w, r, "SequenceNumber", r->sequence_number);
    as_buf_append(out, time_line.data != NULL ? time_line.data : "", time_line.len);
    as_buf_free(&time_line);
    dump_field(w, r, "StreamViewType", r->stream_view_type);
    dump_field(w, r, "userIdentity.type", r->identity_type);
    dump_field(w, r, "userIdentity.principalId", r->identity_principal);

    bool id_escaped = (r->escaped & AS_RECORD_EVENT_ID_ESCAPED) != 0;
    bool seq_escaped = (r->escaped & AS_RECORD_SEQUENCE_ESCAPED) != 0;
    bool arn_escaped = (r->escaped & AS_RECORD_ARN_ESCAPED) != 0;
    if (id_escaped != has_backslash(r->event_id) || seq_escaped != has_backslash(r->sequence_number) ||
        arn_escaped != has_backslash(r->event_source_arn)) {
        note(w, "escaped bits 0x%x do not match the spans", (unsigned)r->escaped);
    }

    if (r->error != NULL && (r->old_image != NULL || r->new_image != NULL)) {
        note(w, "an invalid record keeps an image");
    }
    if (r->error == NULL && r->keys == NULL) {
        note(w, "a valid record has no Keys");
    }
    /* Keys are kept whenever they are sound, so that an error item can name its item. */
    dump_tree(w, "Keys", r->keys);
    if (r->error == NULL && time != TIME_AMBIGUOUS) {
        dump_tree(w, "OldImage", r->old_image);
        dump_tree(w, "NewImage", r->new_image);
    }
    as_buf_append(out, w->notes.data != NULL ? w->notes.data : "", w->notes.len);
    as_buf_clear(&w->notes);
}

void event_dump(const char *json, size_t len, as_status status, const as_event *event,
                unsigned flags, as_buf *out)
{
    switch (status) {
    case AS_OK:
        break;
    case AS_ERR_JSON:
        as_buf_append_str(out, "verdict json-error\n");
        return;
    case AS_ERR_NOT_EVENT:
        as_buf_append_str(out, "verdict not-event\n");
        return;
    default:
        dump_printf(out, "verdict status %s\n", as_status_name(status));
        return;
    }
    as_buf_append_str(out, "verdict ok\n");
    size_t count = as_event_record_count(event);
    dump_printf(out, "records %zu\n", count);
    walker w = {json, len, flags, out, AS_BUF_INIT, AS_BUF_INIT, 0};
    const char *previous_end = json;
    for (size_t i = 0; i < count; i++) {
        w.record = i;
        dump_record(&w, as_event_record(event, i), &previous_end);
    }
    as_buf_free(&w.notes);
    as_buf_free(&w.scratch);
}
