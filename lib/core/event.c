/* The event decoder: one validating pass over a Lambda DynamoDB Streams event that
 * keeps spans into the input instead of building a tree, and judges each record alone.
 *
 * Two kinds of failure are kept apart. A syntax failure (not JSON, not UTF-8) stops
 * the whole decode. A record that is JSON but breaks DynamoDB's rules only marks that
 * record: its first fault is kept as its error and the pass goes on, so that one bad
 * record never costs the others. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "auditstream/buf.h"
#include "auditstream/event.h"
#include "core/base64.h"
#include "core/hex.h"
#include "core/internal.h"
#include "core/isotime.h"
#include "core/json_text.h"
#include "core/number.h"
#include "core/wire.h"

/* jansson's limit, so that both parsers accept the same documents. */
#define MAX_JSON_DEPTH 2048
/* Attribute values nest at most this deep in an item DynamoDB accepts. */
#define MAX_ATTR_DEPTH 32
/* The message of every allocation failure here: "out of memory decoding the event". */
#define DECODING "decoding the event"
/* Sets and maps up to this many members are checked for duplicates pairwise. */
#define PAIRWISE_LIMIT 16

typedef struct record_slots {
    uint32_t keys; /* value index + 1, or 0 when absent */
    uint32_t old_image;
    uint32_t new_image;
    size_t error_offset; /* into event->errors, or SIZE_MAX */
} record_slots;

struct as_event {
    as_record *records;
    record_slots *slots;
    size_t record_count;
    size_t record_cap;
    as_value *values;
    size_t value_count;
    size_t value_cap;
    as_buf errors; /* NUL-separated record error messages */
};

/* Decoding DynamoDB items (core/wire.h) rather than an event: each item is a record. */
typedef struct items_mode {
    as_wire_shape shape; /* asked for */
    as_items_found *found;
    char label[48]; /* names the item being read in its faults: "Items[3]" */
} items_mode;

typedef struct parser {
    const char *start;
    const char *p;
    const char *end;
    as_event *event;
    as_error *err;
    size_t spaces; /* whitespace runs skipped so far: tells spaced values apart */
    /* The record being decoded. */
    size_t record;
    bool record_failed;
    bool keys_failed;    /* a fault lies in Keys: the error item cannot name the item */
    uint32_t seen;       /* FIELD_* bits of the record: a repeat is a fault, null or not */
    const char *section; /* "Keys", "NewImage", "OldImage" while inside one */
    uint32_t open[MAX_ATTR_DEPTH + 2]; /* value indices from the image down to here */
    unsigned open_count;
    as_buf scratch; /* decoded text for the rare escaped N, B and names */
    as_buf scratch2;
    as_number *numbers; /* NS members being checked for duplicates */
    size_t number_cap;
    struct dup_key *keys; /* other members being checked for duplicates */
    size_t key_cap;
    items_mode *items; /* NULL for an event */
} parser;

/* Record fields whose repetition is caught by `seen` (a null leaves no span behind). */
enum {
    FIELD_KEYS = 1u << 0,
    FIELD_NEW_IMAGE = 1u << 1,
    FIELD_OLD_IMAGE = 1u << 2,
    FIELD_VIEW_TYPE = 1u << 3,
    FIELD_TIME = 1u << 4,
    FIELD_ARN = 1u << 5,
    FIELD_IDENTITY = 1u << 6,
    FIELD_EVENT_ID = 1u << 7,
    FIELD_EVENT_NAME = 1u << 8,
    FIELD_SOURCE = 1u << 9,
    FIELD_SEQUENCE = 1u << 10,
    FIELD_DYNAMODB = 1u << 11,
    FIELD_IDENTITY_TYPE = 1u << 12,
    FIELD_PRINCIPAL = 1u << 13
};

/* Whether a field given as null counts as absent (optional) or as a fault. */
typedef enum { REQUIRED, OPTIONAL } field_presence;

/* ---- Lexing ------------------------------------------------------------------ */

static AS_RESULT syntax_error(parser *ps, const char *at, const char *what)
{
    size_t offset = (size_t)(at - ps->start);
    size_t line = 1;
    size_t column = 1;
    for (const char *q = ps->start; q < at; q++) {
        if (*q == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    return as_fail(ps->err, AS_ERR_JSON, offset,
                   "invalid JSON at line %zu, column %zu (byte %zu): %s", line, column, offset,
                   what);
}

static inline bool is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline void skip_ws(parser *ps)
{
    const char *p = ps->p;
    if (AS_LIKELY(p >= ps->end || !is_space(*p))) {
        return;
    }
    /* Pretty-printed events indent with runs of spaces: take them 8 at a time. */
    const uint64_t spaces8 = 0x2020202020202020ull;
    do {
        p++;
        while (ps->end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w != spaces8) {
                break;
            }
            p += 8;
        }
    } while (p < ps->end && is_space(*p));
    ps->p = p;
    ps->spaces++;
}

static inline bool peek(parser *ps, char c)
{
    return ps->p < ps->end && *ps->p == c;
}

static AS_RESULT expect(parser *ps, char c, const char *what)
{
    skip_ws(ps);
    if (!peek(ps, c)) {
        return syntax_error(ps, ps->p, ps->p < ps->end ? what : "unexpected end of input");
    }
    ps->p++;
    return AS_RESULT_OK;
}

static bool read_hex4(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4) {
        return false;
    }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = as_hex_value((unsigned char)p[i]);
        if (d < 0) {
            return false;
        }
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return true;
}

/* True when any of the 8 bytes is '"', '\\', below 0x20 or above 0x7F. */
/* The high bit of each byte of the result is set for '"', '\\', bytes below 0x20 and
 * bytes above 0x7F. A borrow can also mark a byte above a marked one, never below:
 * the lowest mark is always a real one. */
static inline uint64_t special_bytes(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull;
    const uint64_t highs = 0x8080808080808080ull;
    uint64_t quote = w ^ (ones * '"');
    uint64_t slash = w ^ (ones * '\\');
    uint64_t special =
        ((quote - ones) & ~quote) | ((slash - ones) & ~slash) | (w - ones * 0x20) | w;
    return special & highs;
}

/* Bytes before the first special one in a word loaded from memory. */
static inline unsigned plain_prefix(uint64_t mask)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (unsigned)__builtin_ctzll(mask) >> 3;
#else
    (void)mask;
    return 0; /* the byte loop finds it */
#endif
}

/* Scans a string whose opening quote is at ps->p. On success `body` is the text
 * between the quotes and *escaped says whether it holds a backslash. */
static AS_RESULT scan_string(parser *ps, as_span *body, bool *escaped)
{
    const char *p = ps->p + 1;
    const char *end = ps->end;
    bool esc = false;
    for (;;) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t mask = special_bytes(w);
            if (mask != 0) {
                p += plain_prefix(mask);
                break;
            }
            p += 8;
        }
        if (p >= end) {
            return syntax_error(ps, ps->p, "unterminated string");
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            esc = true;
            if (end - p < 2) {
                return syntax_error(ps, ps->p, "unterminated string");
            }
            char e = p[1];
            if (e == 'u') {
                unsigned cp;
                if (!read_hex4(p + 2, end, &cp)) {
                    return syntax_error(ps, p, "invalid \\u escape");
                }
                p += 6;
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return syntax_error(ps, p - 6, "lone low surrogate in \\u escape");
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned low;
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                        !read_hex4(p + 2, end, &low) || low < 0xDC00 || low > 0xDFFF) {
                        return syntax_error(ps, p - 6, "high surrogate not followed by a low one");
                    }
                    p += 6;
                }
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                p += 2;
            } else {
                return syntax_error(ps, p, "invalid escape in string");
            }
        } else if (c < 0x20) {
            return syntax_error(ps, p, "control character in string");
        } else if (c >= 0x80) {
            size_t n = as_utf8_sequence((const unsigned char *)p, (size_t)(end - p));
            if (n == 0) {
                return syntax_error(ps, p, "invalid UTF-8");
            }
            p += n;
        } else {
            p++;
        }
    }
    body->ptr = ps->p + 1;
    body->len = (size_t)(p - body->ptr);
    *escaped = esc;
    ps->p = p + 1;
    return AS_RESULT_OK;
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Scans a JSON number at ps->p (RFC 8259 grammar). */
static AS_RESULT scan_number(parser *ps, as_span *text)
{
    const char *start = ps->p;
    const char *p = start;
    const char *end = ps->end;
    if (p < end && *p == '-') {
        p++;
    }
    if (p >= end || !is_digit(*p)) {
        return syntax_error(ps, start, "invalid number");
    }
    if (*p == '0') {
        p++;
    } else {
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p)) {
            return syntax_error(ps, start, "invalid number: no digit after '.'");
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= end || !is_digit(*p)) {
            return syntax_error(ps, start, "invalid number: no digit in exponent");
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E')) {
        return syntax_error(ps, start, "invalid number");
    }
    text->ptr = start;
    text->len = (size_t)(p - start);
    ps->p = p;
    return AS_RESULT_OK;
}

static AS_RESULT scan_literal(parser *ps, const char *word, size_t len)
{
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0) {
        return syntax_error(ps, ps->p, "invalid literal");
    }
    ps->p += len;
    return AS_RESULT_OK;
}

/* Steps over a JSON null. Optional fields given as null (as re-serialised test
 * events carry them) count as absent. */
static bool take_null(parser *ps)
{
    if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) {
        ps->p += 4;
        return true;
    }
    return false;
}

/* Validates and steps over any JSON value at ps->p, `depth` levels already open.
 * Iterative, so hostile nesting cannot exhaust the stack. */
static AS_RESULT skip_value(parser *ps, unsigned depth)
{
    unsigned char kinds[MAX_JSON_DEPTH / 8 + 1]; /* bit set: the open level is an object */
    unsigned open = 0;
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end) {
            return syntax_error(ps, ps->p, "unexpected end of input");
        }
        char c = *ps->p;
        as_span span;
        bool esc;
        if (c == '{' || c == '[') {
            if (depth + open + 1 > MAX_JSON_DEPTH) {
                return syntax_error(ps, ps->p, "nesting deeper than 2048 levels");
            }
            bool object = c == '{';
            if (object) {
                kinds[open / 8] = (unsigned char)(kinds[open / 8] | 1u << (open % 8));
            } else {
                kinds[open / 8] = (unsigned char)(kinds[open / 8] & ~(1u << (open % 8)));
            }
            open++;
            ps->p++;
            skip_ws(ps);
            if (peek(ps, object ? '}' : ']')) {
                ps->p++;
                open--;
                goto after_value;
            }
            if (object) {
                if (!peek(ps, '"')) {
                    return syntax_error(ps, ps->p, "expected a string key");
                }
                AS_GUARD(scan_string(ps, &span, &esc));
                AS_GUARD(expect(ps, ':', "expected ':'"));
            }
            continue;
        } else if (depth + open + 1 > MAX_JSON_DEPTH) {
            /* jansson counts the value itself as a level, scalar or not. */
            return syntax_error(ps, ps->p, "nesting deeper than 2048 levels");
        } else if (c == '"') {
            AS_GUARD(scan_string(ps, &span, &esc));
        } else if (c == 't') {
            AS_GUARD(scan_literal(ps, "true", 4));
        } else if (c == 'f') {
            AS_GUARD(scan_literal(ps, "false", 5));
        } else if (c == 'n') {
            AS_GUARD(scan_literal(ps, "null", 4));
        } else if (c == '-' || is_digit(c)) {
            AS_GUARD(scan_number(ps, &span));
        } else {
            return syntax_error(ps, ps->p, "unexpected character");
        }
    after_value:
        for (;;) {
            if (open == 0) {
                return AS_RESULT_OK;
            }
            bool object = (kinds[(open - 1) / 8] >> ((open - 1) % 8)) & 1u;
            skip_ws(ps);
            if (peek(ps, ',')) {
                ps->p++;
                if (object) {
                    skip_ws(ps);
                    if (!peek(ps, '"')) {
                        return syntax_error(ps, ps->p, "expected a string key");
                    }
                    AS_GUARD(scan_string(ps, &span, &esc));
                    AS_GUARD(expect(ps, ':', "expected ':'"));
                }
                break;
            }
            if (peek(ps, object ? '}' : ']')) {
                ps->p++;
                open--;
                continue;
            }
            return syntax_error(ps, ps->p,
                                ps->p >= ps->end ? "unexpected end of input"
                                : object         ? "expected ',' or '}'"
                                                 : "expected ',' or ']'");
        }
    }
}

/* Object and array iteration: `first` is true before the first member. After an
 * OK return, *more says whether a member follows (and for objects, its key). */
static AS_RESULT object_next(parser *ps, bool *first, bool *more, as_span *key, bool *key_escaped)
{
    skip_ws(ps);
    if (*first) {
        *first = false;
        if (peek(ps, '}')) {
            ps->p++;
            *more = false;
            return AS_RESULT_OK;
        }
    } else if (peek(ps, ',')) {
        ps->p++;
        skip_ws(ps);
    } else if (peek(ps, '}')) {
        ps->p++;
        *more = false;
        return AS_RESULT_OK;
    } else {
        return syntax_error(ps, ps->p,
                            ps->p >= ps->end ? "unexpected end of input" : "expected ',' or '}'");
    }
    if (!peek(ps, '"')) {
        return syntax_error(ps, ps->p,
                            ps->p >= ps->end ? "unexpected end of input" : "expected a string key");
    }
    AS_GUARD(scan_string(ps, key, key_escaped));
    AS_GUARD(expect(ps, ':', "expected ':'"));
    skip_ws(ps);
    *more = true;
    return AS_RESULT_OK;
}

static AS_RESULT array_next(parser *ps, bool *first, bool *more)
{
    skip_ws(ps);
    if (*first) {
        *first = false;
        if (peek(ps, ']')) {
            ps->p++;
            *more = false;
            return AS_RESULT_OK;
        }
        *more = true;
        return AS_RESULT_OK;
    }
    if (peek(ps, ',')) {
        ps->p++;
        skip_ws(ps);
        *more = true;
        return AS_RESULT_OK;
    }
    if (peek(ps, ']')) {
        ps->p++;
        *more = false;
        return AS_RESULT_OK;
    }
    return syntax_error(ps, ps->p,
                        ps->p >= ps->end ? "unexpected end of input" : "expected ',' or ']'");
}

static inline bool key_equals(as_span key, bool escaped, const char *name, size_t len)
{
    if (AS_LIKELY(!escaped)) {
        return key.len == len && memcmp(key.ptr, name, len) == 0;
    }
    return as_json_string_equals(key, true, name, len);
}

/* A literal name's length is known at compile time, and so the memcmp is inlined. */
#define key_is(key, escaped, literal) key_equals(key, escaped, literal, sizeof(literal) - 1)

/* ---- Record faults ------------------------------------------------------------- */

/* A JSON string body goes into an error message as received (it holds no raw control
 * byte), cut after 64 bytes at a boundary that splits no escape or UTF-8 sequence:
 * this is how much of it is kept. */
static size_t name_cut(as_span name)
{
    size_t len = name.len;
    if (len > 64) {
        len = 64;
        while (len > 0 && ((unsigned char)name.ptr[len] & 0xC0) == 0x80) {
            len--;
        }
        /* Walk the escapes from the start, so a "\\\\" pair is never read from its
         * middle; one that straddles the cut (a surrogate pair is 12 bytes) goes whole. */
        for (size_t i = 0; i < len; i++) {
            if (name.ptr[i] != '\\') {
                continue;
            }
            size_t escape = 2;
            if (name.ptr[i + 1] == 'u') {
                char h0 = (char)(name.ptr[i + 2] | 0x20);
                char h1 = (char)(name.ptr[i + 3] | 0x20);
                bool high_surrogate =
                    h0 == 'd' && (h1 == '8' || h1 == '9' || h1 == 'a' || h1 == 'b');
                escape = high_surrogate ? 12 : 6;
            }
            if (i + escape > len) {
                len = i;
                break;
            }
            i += escape - 1;
        }
    }
    return len;
}

static void append_name(as_buf *out, as_span name)
{
    size_t len = name_cut(name);
    as_buf_append(out, name.ptr, len);
    if (len < name.len) {
        as_buf_append_str(out, "...");
    }
}

/* Room for what append_name writes: 64 bytes, "..." and the NUL. */
#define QUOTE_MAX 68

/* `text` as append_name writes it, into `out`: a fault message quotes from the stack, so
 * that quoting cannot fail and leave a message that quotes nothing. */
static const char *quoted(char out[QUOTE_MAX], as_span text)
{
    size_t len = name_cut(text);
    memcpy(out, text.ptr, len);
    if (len < text.len) {
        memcpy(out + len, "...", 3);
        len += 3;
    }
    out[len] = '\0';
    return out;
}

/* Marks the current record invalid with its first fault: "Records[i].<where>: <why>". */
static AS_RESULT record_fault(parser *ps, const char *where, const char *fmt, ...) AS_PRINTF(3, 4);

/* Fails only when the message cannot be kept: the decode then fails too, rather than
 * let an invalid record pass for a valid one. */
static as_result record_fault(parser *ps, const char *where, const char *fmt, ...)
{
    if ((ps->section != NULL && strcmp(ps->section, "Keys") == 0) ||
        (where != NULL && strncmp(where, "dynamodb.Keys", 13) == 0)) {
        ps->keys_failed = true;
    }
    if (ps->record_failed) {
        return AS_RESULT_OK;
    }
    ps->record_failed = true;
    as_event *ev = ps->event;
    ev->slots[ps->record].error_offset = ev->errors.len;
    as_buf *e = &ev->errors;
    if (ps->items != NULL) {
        as_buf_append_str(e, ps->items->label);
    } else {
        as_buf_append_str(e, "Records[");
        as_buf_append_u64(e, ps->record);
        as_buf_append_str(e, "]");
    }
    if (ps->section != NULL) {
        if (ps->items == NULL) {
            as_buf_append_str(e, ".dynamodb.");
            as_buf_append_str(e, ps->section);
        }
        for (unsigned i = 1; i < ps->open_count; i++) {
            const as_value *v = &ev->values[ps->open[i]];
            if (v->name.ptr != NULL) {
                as_buf_append_char(e, '.');
                append_name(e, v->name);
            } else {
                /* A list element: its index is its rank among the parent's members. */
                const as_value *parent = &ev->values[ps->open[i - 1]];
                uint32_t index = 0;
                for (const as_value *m = parent + 1; m < v; m += m->subtree) {
                    index++;
                }
                as_buf_append_char(e, '[');
                as_buf_append_u64(e, index);
                as_buf_append_char(e, ']');
            }
        }
    }
    if (where != NULL && where[0] != '\0') {
        as_buf_append_char(e, '.');
        as_buf_append_str(e, where);
    }
    as_buf_append_str(e, ": ");
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    as_buf_append_str(e, why);
    as_buf_append_char(e, '\0');
    return as_buf_result(e, ps->err, DECODING);
}

/* ---- Attribute values ------------------------------------------------------------ */

static AS_RESULT grow_values(parser *ps)
{
    as_event *ev = ps->event;
    if (ev->value_count < ev->value_cap) {
        return AS_RESULT_OK;
    }
    size_t cap = ev->value_cap < 64 ? 64 : ev->value_cap * 2;
    AS_ENSURE(cap <= UINT32_MAX,
              as_fail(ps->err, AS_ERR_LIMIT, (size_t)(ps->p - ps->start),
                      "event holds more than %u attribute values", (unsigned)UINT32_MAX));
    as_value *values = realloc(ev->values, cap * sizeof *values);
    AS_ENSURE(values != NULL, as_fail_nomem(ps->err, DECODING));
    ev->values = values;
    ev->value_cap = cap;
    return AS_RESULT_OK;
}

/* Appends a value slot and returns its index. */
static AS_RESULT new_value(parser *ps, as_type type, as_span name, bool name_escaped,
                           uint32_t *index)
{
    AS_GUARD(grow_values(ps));
    as_value *v = &ps->event->values[ps->event->value_count];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->name = name;
    v->flags = name_escaped ? AS_VALUE_NAME_ESCAPED : 0;
    v->subtree = 1;
    *index = (uint32_t)ps->event->value_count++;
    return AS_RESULT_OK;
}

static const char *const type_names[] = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"};

const char *as_type_name(as_type type)
{
    if ((unsigned)type < sizeof type_names / sizeof type_names[0]) {
        return type_names[type];
    }
    return "?";
}

static bool type_from_tag(as_span tag, bool escaped, as_type *out)
{
    if (AS_UNLIKELY(escaped)) {
        for (unsigned t = 0; t < sizeof type_names / sizeof type_names[0]; t++) {
            if (as_json_string_equals(tag, true, type_names[t], strlen(type_names[t]))) {
                *out = (as_type)t;
                return true;
            }
        }
        return false;
    }
    const char *p = tag.ptr;
    switch (tag.len) {
    case 1:
        switch (p[0]) {
        case 'S': *out = AS_TYPE_S; return true;
        case 'N': *out = AS_TYPE_N; return true;
        case 'B': *out = AS_TYPE_B; return true;
        case 'M': *out = AS_TYPE_M; return true;
        case 'L': *out = AS_TYPE_L; return true;
        default: return false;
        }
    case 2:
        if (p[1] != 'S') {
            return false;
        }
        switch (p[0]) {
        case 'S': *out = AS_TYPE_SS; return true;
        case 'N': *out = AS_TYPE_NS; return true;
        case 'B': *out = AS_TYPE_BS; return true;
        default: return false;
        }
    case 4:
        if (memcmp(p, "NULL", 4) == 0) {
            *out = AS_TYPE_NULL;
            return true;
        }
        if (memcmp(p, "BOOL", 4) == 0) {
            *out = AS_TYPE_BOOL;
            return true;
        }
        return false;
    default: return false;
    }
}

/* The text of a scalar with its escapes decoded, in `scratch` when it had any. */
static AS_RESULT plain_text(parser *ps, const as_value *v, as_buf *scratch, as_span *out)
{
    if (!(v->flags & AS_VALUE_TEXT_ESCAPED)) {
        *out = v->text;
        return AS_RESULT_OK;
    }
    as_buf_clear(scratch);
    as_json_append_unescaped(scratch, v->text);
    AS_GUARD(as_buf_result(scratch, ps->err, DECODING));
    *out = (as_span){scratch->data, scratch->len};
    return AS_RESULT_OK;
}

/* Checks an N, B or S string against DynamoDB's rules and sets its size; *why is NULL
 * or why it is refused. */
static AS_RESULT check_scalar(parser *ps, as_value *v, const char **why)
{
    *why = NULL;
    as_span text;
    switch (v->type) {
    case AS_TYPE_S:
        v->size = (v->flags & AS_VALUE_TEXT_ESCAPED) ? as_json_decoded_len(v->text) : v->text.len;
        return AS_RESULT_OK;
    case AS_TYPE_N: {
        as_number n;
        AS_GUARD(plain_text(ps, v, &ps->scratch, &text));
        if (as_number_parse(text, &n, why)) {
            v->size = as_number_size(&n);
        }
        return AS_RESULT_OK;
    }
    case AS_TYPE_B: {
        size_t decoded = 0;
        AS_GUARD(plain_text(ps, v, &ps->scratch, &text));
        if (as_base64_valid(text, &decoded)) {
            v->size = decoded;
        } else {
            *why = "not valid base64 (standard alphabet, padded)";
        }
        return AS_RESULT_OK;
    }
    default: return AS_RESULT_OK;
    }
}

/* Faults the record for a refused scalar, quoting (the start of) its text. */
static AS_RESULT scalar_fault(parser *ps, const as_value *v, const char *where, const char *why)
{
    char q[QUOTE_MAX];
    return record_fault(ps, where, "%s \"%s\": %s", as_type_name(v->type), quoted(q, v->text), why);
}

/* A member of a set or map reduced to what duplicates are judged on. */
typedef struct dup_key {
    const as_value *value;
    as_span bytes; /* name, text, or (BS) offset/length into the decode buffer */
    bool escaped;
} dup_key;

static int dup_key_cmp(const void *a, const void *b)
{
    const dup_key *x = a;
    const dup_key *y = b;
    return as_json_string_cmp(x->bytes, x->escaped, y->bytes, y->escaped);
}

static int number_cmp(const void *a, const void *b)
{
    return as_number_cmp(a, b);
}

static bool grow_scratch(void **array, size_t *cap, size_t count, size_t elem)
{
    if (count <= *cap) {
        return true;
    }
    void *grown = realloc(*array, count * elem);
    if (grown == NULL) {
        return false;
    }
    *array = grown;
    *cap = count;
    return true;
}

/* Finds a duplicate among the members of `parent` (a map's names when `names`, else
 * a set's members: NS by value, BS by decoded bytes, SS by decoded bytes). *dup is
 * one of a duplicate pair, or NULL. Small collections are compared pairwise in place;
 * large ones are sorted, so hostile sets stay O(n log n). */
static AS_RESULT find_duplicate(parser *ps, const as_value *parent, as_type member_type, bool names,
                                const as_value **dup)
{
    *dup = NULL;
    uint32_t count = parent->count;
    if (count < 2) {
        return AS_RESULT_OK;
    }
    const as_value *end = parent + parent->subtree;
    if (member_type == AS_TYPE_N && !names) {
        AS_ENSURE(grow_scratch((void **)&ps->numbers, &ps->number_cap, count, sizeof(as_number)),
                  as_fail_nomem(ps->err, DECODING));
        uint32_t n = 0;
        for (const as_value *m = parent + 1; m < end; m += m->subtree) {
            as_span text;
            AS_GUARD(plain_text(ps, m, &ps->scratch, &text));
            if (!as_number_parse(text, &ps->numbers[n++], NULL)) {
                return AS_RESULT_OK; /* already reported */
            }
        }
        qsort(ps->numbers, n, sizeof(as_number), number_cmp);
        for (uint32_t i = 1; i < n; i++) {
            if (as_number_cmp(&ps->numbers[i - 1], &ps->numbers[i]) == 0) {
                /* Sorting lost the members' places: find the last one of that value. */
                const as_number twice = ps->numbers[i];
                for (const as_value *m = parent + 1; m < end; m += m->subtree) {
                    as_number x;
                    as_span text;
                    AS_GUARD(plain_text(ps, m, &ps->scratch, &text));
                    if (as_number_parse(text, &x, NULL) && as_number_cmp(&x, &twice) == 0) {
                        *dup = m;
                    }
                }
                return AS_RESULT_OK;
            }
        }
        return AS_RESULT_OK;
    }
    AS_ENSURE(grow_scratch((void **)&ps->keys, &ps->key_cap, count, sizeof(dup_key)),
              as_fail_nomem(ps->err, DECODING));
    bool binary = member_type == AS_TYPE_B && !names;
    as_buf_clear(&ps->scratch2);
    uint32_t n = 0;
    for (const as_value *m = parent + 1; m < end; m += m->subtree) {
        dup_key *k = &ps->keys[n++];
        k->value = m;
        if (names) {
            k->bytes = m->name;
            k->escaped = (m->flags & AS_VALUE_NAME_ESCAPED) != 0;
        } else if (binary) {
            size_t at = ps->scratch2.len;
            as_span text;
            AS_GUARD(plain_text(ps, m, &ps->scratch, &text));
            as_base64_decode(text, &ps->scratch2);
            k->bytes = (as_span){NULL, at};
            k->escaped = false;
            k->bytes.len = ps->scratch2.len - at;
            k->bytes.ptr = (const char *)(uintptr_t)at;
        } else {
            k->bytes = m->text;
            k->escaped = (m->flags & AS_VALUE_TEXT_ESCAPED) != 0;
        }
    }
    if (binary) {
        AS_GUARD(as_buf_result(&ps->scratch2, ps->err, DECODING));
        /* Members that all decode to nothing leave the buffer unallocated. */
        const char *base = ps->scratch2.data != NULL ? ps->scratch2.data : "";
        for (uint32_t i = 0; i < n; i++) {
            ps->keys[i].bytes.ptr = base + (uintptr_t)ps->keys[i].bytes.ptr;
        }
    }
    if (n <= PAIRWISE_LIMIT) {
        for (uint32_t a = 0; a < n; a++) {
            for (uint32_t b = a + 1; b < n; b++) {
                const dup_key *x = &ps->keys[a];
                const dup_key *y = &ps->keys[b];
                /* Unescaped names of other lengths or first bytes cannot be equal. */
                if (!x->escaped && !y->escaped &&
                    (x->bytes.len != y->bytes.len ||
                     (x->bytes.len > 0 && x->bytes.ptr[0] != y->bytes.ptr[0]))) {
                    continue;
                }
                if (dup_key_cmp(x, y) == 0) {
                    *dup = ps->keys[b].value;
                    return AS_RESULT_OK;
                }
            }
        }
        return AS_RESULT_OK;
    }
    qsort(ps->keys, n, sizeof(dup_key), dup_key_cmp);
    for (uint32_t i = 1; i < n; i++) {
        if (dup_key_cmp(&ps->keys[i - 1], &ps->keys[i]) == 0) {
            *dup = ps->keys[i].value;
            return AS_RESULT_OK;
        }
    }
    return AS_RESULT_OK;
}

static AS_RESULT parse_attr_value(parser *ps, as_span name, bool name_escaped, unsigned json_depth,
                                  unsigned attr_depth, uint32_t *index);

/* A map, list or set being read: where its text began and what ps->spaces was then. */
typedef struct container {
    const char *start;
    size_t spaces;
    bool first; /* for object_next / array_next */
} container;

/* Steps into the container whose bracket is at ps->p, `json_depth` levels down. */
static AS_RESULT container_open(parser *ps, unsigned json_depth, container *c)
{
    if (json_depth + 1 > MAX_JSON_DEPTH) {
        return syntax_error(ps, ps->p, "nesting deeper than 2048 levels");
    }
    c->start = ps->p;
    c->spaces = ps->spaces;
    c->first = true;
    ps->p++;
    return AS_RESULT_OK;
}

/* Completes value `index` once the container's closing bracket is read. */
static as_value *container_close(parser *ps, const container *c, uint32_t index, uint32_t count,
                                 uint64_t size, uint32_t depth)
{
    as_event *ev = ps->event;
    as_value *v = &ev->values[index];
    v->text.ptr = c->start;
    v->text.len = (size_t)(ps->p - c->start);
    v->count = count;
    v->subtree = (uint32_t)(ev->value_count - index);
    v->size = size;
    v->depth = depth;
    if (ps->spaces != c->spaces) {
        v->flags |= AS_VALUE_WIRE_SPACED;
    }
    return v;
}

/* Parses a map of name -> attribute value whose '{' is at ps->p into value `index`
 * (already created as an M). Used for Keys, images and M payloads alike. */
static AS_RESULT parse_attr_map(parser *ps, uint32_t index, unsigned json_depth,
                                unsigned attr_depth)
{
    as_event *ev = ps->event;
    container box;
    AS_GUARD(container_open(ps, json_depth, &box));
    bool more;
    as_span key;
    bool key_escaped;
    uint32_t count = 0;
    uint64_t size = 3;
    uint32_t depth = 0;
    for (;;) {
        AS_GUARD(object_next(ps, &box.first, &more, &key, &key_escaped));
        if (!more) {
            break;
        }
        uint32_t child;
        AS_GUARD(parse_attr_value(ps, key, key_escaped, json_depth + 1, attr_depth, &child));
        const as_value *c = &ev->values[child];
        size_t name_len = key_escaped ? as_json_decoded_len(key) : key.len;
        size += name_len + c->size + 1;
        if (c->depth > depth) {
            depth = c->depth;
        }
        count++;
    }
    as_value *v = container_close(ps, &box, index, count, size, depth + 1);
    const as_value *dup;
    AS_GUARD(find_duplicate(ps, v, AS_TYPE_M, true, &dup));
    if (dup != NULL) {
        char q[QUOTE_MAX];
        AS_GUARD(
            record_fault(ps, NULL, "attribute name \"%s\" appears twice", quoted(q, dup->name)));
    }
    return AS_RESULT_OK;
}

/* Parses a set's array at ps->p into value `index`: strings of the member type. */
static AS_RESULT parse_set(parser *ps, uint32_t index, as_type member_type, unsigned json_depth)
{
    as_event *ev = ps->event;
    const char *tag = as_type_name(ev->values[index].type);
    container box;
    AS_GUARD(container_open(ps, json_depth, &box));
    bool more;
    uint32_t count = 0;
    uint64_t size = 0;
    for (;;) {
        AS_GUARD(array_next(ps, &box.first, &more));
        if (!more) {
            break;
        }
        if (!peek(ps, '"')) {
            char where[32];
            snprintf(where, sizeof where, "%s[%u]", tag, count);
            AS_GUARD(record_fault(ps, where, "is not a string"));
            AS_GUARD(skip_value(ps, json_depth + 1));
            count++;
            continue;
        }
        const char *member_start = ps->p;
        as_span text;
        bool escaped;
        AS_GUARD(scan_string(ps, &text, &escaped));
        uint32_t member;
        AS_GUARD(new_value(ps, member_type, (as_span){NULL, 0}, false, &member));
        as_value *m = &ev->values[member];
        m->text = text;
        m->wire.ptr = member_start;
        m->wire.len = (size_t)(ps->p - member_start);
        if (escaped) {
            m->flags |= AS_VALUE_TEXT_ESCAPED;
        }
        const char *why;
        AS_GUARD(check_scalar(ps, m, &why));
        if (AS_UNLIKELY(why != NULL)) {
            char where[32];
            snprintf(where, sizeof where, "%s[%u]", tag, count);
            AS_GUARD(scalar_fault(ps, m, where, why));
        }
        size += m->size;
        count++;
    }
    as_value *v = container_close(ps, &box, index, count, size, 0);
    if (count == 0) {
        AS_GUARD(record_fault(ps, tag, "empty set"));
        return AS_RESULT_OK;
    }
    if (!ps->record_failed) {
        const as_value *dup;
        AS_GUARD(find_duplicate(ps, v, member_type, false, &dup));
        if (dup != NULL) {
            char q[QUOTE_MAX];
            AS_GUARD(record_fault(ps, tag, "duplicate member \"%s\"", quoted(q, dup->text)));
        }
    }
    return AS_RESULT_OK;
}

/* Parses a list's array at ps->p into value `index`. */
static AS_RESULT parse_list(parser *ps, uint32_t index, unsigned json_depth, unsigned attr_depth)
{
    as_event *ev = ps->event;
    container box;
    AS_GUARD(container_open(ps, json_depth, &box));
    bool more;
    uint32_t count = 0;
    uint64_t size = 3;
    uint32_t depth = 0;
    for (;;) {
        AS_GUARD(array_next(ps, &box.first, &more));
        if (!more) {
            break;
        }
        uint32_t child;
        AS_GUARD(
            parse_attr_value(ps, (as_span){NULL, 0}, false, json_depth + 1, attr_depth, &child));
        const as_value *c = &ev->values[child];
        size += c->size + 1;
        if (c->depth > depth) {
            depth = c->depth;
        }
        count++;
    }
    (void)container_close(ps, &box, index, count, size, depth + 1);
    return AS_RESULT_OK;
}

/* Parses the payload of a typed attribute value (after "T":) into value `index`. */
static AS_RESULT parse_payload(parser *ps, uint32_t index, unsigned json_depth, unsigned attr_depth)
{
    as_event *ev = ps->event;
    as_type type = ev->values[index].type;
    const char *tag = as_type_name(type);
    char c = ps->p < ps->end ? *ps->p : '\0';
    switch (type) {
    case AS_TYPE_S:
    case AS_TYPE_N:
    case AS_TYPE_B: {
        if (c != '"') {
            AS_GUARD(record_fault(ps, tag, "value is not a string"));
            return skip_value(ps, json_depth);
        }
        as_span text;
        bool escaped;
        AS_GUARD(scan_string(ps, &text, &escaped));
        as_value *v = &ev->values[index];
        v->text = text;
        if (escaped) {
            v->flags |= AS_VALUE_TEXT_ESCAPED;
        }
        const char *why;
        AS_GUARD(check_scalar(ps, v, &why));
        if (AS_UNLIKELY(why != NULL)) {
            AS_GUARD(scalar_fault(ps, v, NULL, why));
        }
        return AS_RESULT_OK;
    }
    case AS_TYPE_BOOL:
    case AS_TYPE_NULL: {
        const char *start = ps->p;
        bool is_true = c == 't';
        if (c != 't' && c != 'f') {
            AS_GUARD(record_fault(ps, tag,
                                  type == AS_TYPE_NULL ? "NULL must be true"
                                                       : "value is not true or false"));
            return skip_value(ps, json_depth);
        }
        AS_GUARD(scan_literal(ps, is_true ? "true" : "false", is_true ? 4 : 5));
        as_value *v = &ev->values[index];
        v->text.ptr = start;
        v->text.len = (size_t)(ps->p - start);
        v->size = 1;
        if (type == AS_TYPE_NULL && !is_true) {
            AS_GUARD(record_fault(ps, tag, "NULL must be true"));
        }
        return AS_RESULT_OK;
    }
    case AS_TYPE_SS:
    case AS_TYPE_NS:
    case AS_TYPE_BS:
        if (c != '[') {
            AS_GUARD(record_fault(ps, tag, "value is not an array"));
            return skip_value(ps, json_depth);
        }
        return parse_set(ps, index,
                         type == AS_TYPE_SS   ? AS_TYPE_S
                         : type == AS_TYPE_NS ? AS_TYPE_N
                                              : AS_TYPE_B,
                         json_depth);
    case AS_TYPE_L:
    case AS_TYPE_M:
        if (c != (type == AS_TYPE_M ? '{' : '[')) {
            AS_GUARD(record_fault(ps, tag, "value is not an %s",
                                  type == AS_TYPE_M ? "object" : "array"));
            return skip_value(ps, json_depth);
        }
        if (attr_depth + 1 > MAX_ATTR_DEPTH) {
            AS_GUARD(
                record_fault(ps, tag, "nested deeper than DynamoDB's %d levels", MAX_ATTR_DEPTH));
            return skip_value(ps, json_depth);
        }
        if (type == AS_TYPE_M) {
            return parse_attr_map(ps, index, json_depth, attr_depth + 1);
        }
        return parse_list(ps, index, json_depth, attr_depth + 1);
    default: AS_GUARD(record_fault(ps, tag, "unknown type")); return skip_value(ps, json_depth);
    }
}

/* Parses one attribute value {"T": payload} at ps->p; `attr_depth` M/L levels enclose
 * it. *index is the new value's index. */
static AS_RESULT parse_attr_value(parser *ps, as_span name, bool name_escaped, unsigned json_depth,
                                  unsigned attr_depth, uint32_t *index)
{
    as_event *ev = ps->event;
    AS_GUARD(new_value(ps, AS_TYPE_NULL, name, name_escaped, index));
    uint32_t self = *index;
    const char *start = ps->p;
    size_t spaces = ps->spaces;
    ps->open[ps->open_count++] = self;
    as_result result = AS_RESULT_OK;
    if (!peek(ps, '{')) {
        AS_GUARD(record_fault(ps, NULL, "attribute value is not an object"));
        result = skip_value(ps, json_depth);
        goto done;
    }
    if (json_depth + 1 > MAX_JSON_DEPTH) {
        result = syntax_error(ps, ps->p, "nesting deeper than 2048 levels");
        goto done;
    }
    ps->p++;
    bool first = true;
    bool more;
    as_span tag;
    bool tag_escaped;
    unsigned members = 0;
    for (;;) {
        result = object_next(ps, &first, &more, &tag, &tag_escaped);
        if (!as_result_is_ok(result)) {
            goto done;
        }
        if (!more) {
            break;
        }
        members++;
        as_type type;
        if (members > 1) {
            result = record_fault(ps, NULL, "attribute value has more than one type");
            if (as_result_is_ok(result)) {
                result = skip_value(ps, json_depth + 1);
            }
        } else if (!type_from_tag(tag, tag_escaped, &type)) {
            char q[QUOTE_MAX];
            result = record_fault(ps, NULL, "unknown type \"%s\"", quoted(q, tag));
            if (as_result_is_ok(result)) {
                result = skip_value(ps, json_depth + 1);
            }
        } else {
            ev->values[self].type = type;
            result = parse_payload(ps, self, json_depth + 1, attr_depth);
        }
        if (!as_result_is_ok(result)) {
            goto done;
        }
    }
    if (members == 0) {
        AS_GUARD(record_fault(ps, NULL, "attribute value has no type"));
    }
done:
    ps->open_count--;
    if (as_result_is_ok(result)) {
        as_value *v = &ev->values[self];
        v->wire.ptr = start;
        v->wire.len = (size_t)(ps->p - start);
        v->subtree = (uint32_t)(ev->value_count - self);
        if (ps->spaces != spaces) {
            v->flags |= AS_VALUE_WIRE_SPACED;
        }
    }
    return result;
}

/* *first is true the first time the record has `field`; a repeat faults the record,
 * since parsers that keep the first and the last copy would read different records. */
static AS_RESULT first_time(parser *ps, uint32_t field, const char *where, bool *first)
{
    *first = (ps->seen & field) == 0;
    ps->seen |= field;
    if (!*first) {
        return record_fault(ps, where, "appears twice");
    }
    return AS_RESULT_OK;
}

/* Parses Keys, NewImage or OldImage at ps->p into a new M value; *slot gets its
 * index + 1. A repeat of the section faults the record. */
static AS_RESULT parse_section(parser *ps, const char *section, const char *where, uint32_t field,
                               uint32_t *slot, unsigned json_depth)
{
    bool first;
    AS_GUARD(first_time(ps, field, where, &first));
    if (!first) {
        return skip_value(ps, json_depth);
    }
    /* An image given as null is an image not given; Keys are required. */
    if (field != FIELD_KEYS && take_null(ps)) {
        return AS_RESULT_OK;
    }
    if (!peek(ps, '{')) {
        AS_GUARD(record_fault(ps, where, "is not an object"));
        return skip_value(ps, json_depth);
    }
    uint32_t index;
    AS_GUARD(new_value(ps, AS_TYPE_M, (as_span){NULL, 0}, false, &index));
    ps->section = section;
    ps->open[0] = index;
    ps->open_count = 1;
    as_result result = parse_attr_map(ps, index, json_depth, 0);
    ps->section = NULL;
    ps->open_count = 0;
    *slot = index + 1;
    return result;
}

/* ---- Records ---------------------------------------------------------------------- */

/* Reads a string field of a record into *out: a repeat or a non-string faults the
 * record; an OPTIONAL field given as null is left absent. */
static AS_RESULT record_string(parser *ps, const char *where, uint32_t field,
                               field_presence presence, as_span *out, bool *escaped,
                               unsigned json_depth)
{
    bool first;
    AS_GUARD(first_time(ps, field, where, &first));
    if (!first) {
        return skip_value(ps, json_depth);
    }
    if (presence == OPTIONAL && take_null(ps)) {
        return AS_RESULT_OK;
    }
    if (!peek(ps, '"')) {
        AS_GUARD(record_fault(ps, where, "is not a string"));
        return skip_value(ps, json_depth);
    }
    bool esc;
    AS_GUARD(scan_string(ps, out, &esc));
    if (escaped != NULL) {
        *escaped = esc;
    }
    return AS_RESULT_OK;
}

/* Handles one member of an object read by read_fields: its key, its value at ps->p
 * `json_depth` levels down. */
typedef as_result (*field_reader)(parser *ps, as_record *rec, as_span key, bool key_escaped,
                                  unsigned json_depth);

/* Reads the object a record field holds, member by member; anything else faults the
 * record (`where` "is not an object") and is stepped over. */
static AS_RESULT read_fields(parser *ps, as_record *rec, const char *where, unsigned json_depth,
                             field_reader member)
{
    if (!peek(ps, '{')) {
        AS_GUARD(record_fault(ps, where, "is not an object"));
        return skip_value(ps, json_depth);
    }
    ps->p++;
    bool first = true;
    for (;;) {
        bool more;
        as_span key;
        bool key_escaped;
        AS_GUARD(object_next(ps, &first, &more, &key, &key_escaped));
        if (!more) {
            return AS_RESULT_OK;
        }
        AS_GUARD(member(ps, rec, key, key_escaped, json_depth + 1));
    }
}

static AS_RESULT identity_field(parser *ps, as_record *rec, as_span key, bool key_escaped,
                                unsigned json_depth)
{
    if (key_is(key, key_escaped, "type")) {
        return record_string(ps, "userIdentity.type", FIELD_IDENTITY_TYPE, OPTIONAL,
                             &rec->identity_type, NULL, json_depth);
    }
    if (key_is(key, key_escaped, "principalId")) {
        return record_string(ps, "userIdentity.principalId", FIELD_PRINCIPAL, OPTIONAL,
                             &rec->identity_principal, NULL, json_depth);
    }
    return skip_value(ps, json_depth);
}

static AS_RESULT parse_user_identity(parser *ps, as_record *rec, unsigned json_depth)
{
    if (take_null(ps)) {
        return AS_RESULT_OK;
    }
    return read_fields(ps, rec, "userIdentity", json_depth, identity_field);
}

/* dynamodb.ApproximateCreationDateTime: epoch seconds as a JSON number, or null. */
static AS_RESULT parse_creation_time(parser *ps, as_record *rec, unsigned json_depth)
{
    static const char where[] = "dynamodb.ApproximateCreationDateTime";
    bool first_copy;
    AS_GUARD(first_time(ps, FIELD_TIME, where, &first_copy));
    if (!first_copy) {
        return skip_value(ps, json_depth);
    }
    if (take_null(ps)) {
        return AS_RESULT_OK;
    }
    if (peek(ps, '-') || (ps->p < ps->end && is_digit(*ps->p))) {
        AS_GUARD(scan_number(ps, &rec->creation_time));
        int64_t ms;
        const char *why;
        if (!as_epoch_text_to_ms(rec->creation_time, &ms, &why)) {
            return record_fault(ps, where, "%s", why);
        }
        return AS_RESULT_OK;
    }
    /* Kept, so that the error item leaves the time out instead of stamping the clock,
     * which would differ on a retry. */
    const char *start = ps->p;
    AS_GUARD(record_fault(ps, where, "is not a number"));
    AS_GUARD(skip_value(ps, json_depth));
    rec->creation_time = (as_span){start, (size_t)(ps->p - start)};
    return AS_RESULT_OK;
}

static AS_RESULT dynamodb_field(parser *ps, as_record *rec, as_span key, bool key_escaped,
                                unsigned json_depth)
{
    record_slots *slots = &ps->event->slots[ps->record];
    if (key_is(key, key_escaped, "Keys")) {
        return parse_section(ps, "Keys", "dynamodb.Keys", FIELD_KEYS, &slots->keys, json_depth);
    }
    if (key_is(key, key_escaped, "NewImage")) {
        return parse_section(ps, "NewImage", "dynamodb.NewImage", FIELD_NEW_IMAGE,
                             &slots->new_image, json_depth);
    }
    if (key_is(key, key_escaped, "OldImage")) {
        return parse_section(ps, "OldImage", "dynamodb.OldImage", FIELD_OLD_IMAGE,
                             &slots->old_image, json_depth);
    }
    if (key_is(key, key_escaped, "SequenceNumber")) {
        bool esc = false;
        AS_GUARD(record_string(ps, "dynamodb.SequenceNumber", FIELD_SEQUENCE, REQUIRED,
                               &rec->sequence_number, &esc, json_depth));
        if (esc) {
            rec->escaped |= AS_RECORD_SEQUENCE_ESCAPED;
        }
        return AS_RESULT_OK;
    }
    if (key_is(key, key_escaped, "StreamViewType")) {
        return record_string(ps, "dynamodb.StreamViewType", FIELD_VIEW_TYPE, OPTIONAL,
                             &rec->stream_view_type, NULL, json_depth);
    }
    if (key_is(key, key_escaped, "ApproximateCreationDateTime")) {
        return parse_creation_time(ps, rec, json_depth);
    }
    return skip_value(ps, json_depth);
}

static AS_RESULT parse_dynamodb(parser *ps, as_record *rec, unsigned json_depth)
{
    return read_fields(ps, rec, "dynamodb", json_depth, dynamodb_field);
}

static bool from_dynamodb(const as_record *rec)
{
    return rec->event_source.ptr != NULL &&
           key_is(rec->event_source, (rec->escaped & AS_RECORD_SOURCE_ESCAPED) != 0,
                  "aws:dynamodb");
}

/* Checks what a record needs after all its fields are read. */
static AS_RESULT check_record(parser *ps, as_record *rec)
{
    char q[QUOTE_MAX];
    record_slots *slots = &ps->event->slots[ps->record];
    if (rec->event_source.ptr == NULL) {
        AS_GUARD(record_fault(ps, "eventSource", "is missing"));
    } else if (!from_dynamodb(rec)) {
        AS_GUARD(record_fault(ps, "eventSource", "is \"%s\", not \"aws:dynamodb\"",
                              quoted(q, rec->event_source)));
    }
    if (rec->event_id.ptr == NULL) {
        AS_GUARD(record_fault(ps, "eventID", "is missing"));
    } else if (rec->event_id.len == 0) {
        /* Every such record would share one audit id. */
        AS_GUARD(record_fault(ps, "eventID", "is empty"));
    }
    if (!(ps->seen & FIELD_EVENT_NAME)) {
        AS_GUARD(record_fault(ps, "eventName", "is missing"));
    }
    if (!(ps->seen & FIELD_DYNAMODB)) {
        return record_fault(ps, "dynamodb", "is missing");
    }
    if (rec->sequence_number.ptr == NULL) {
        AS_GUARD(record_fault(ps, "dynamodb.SequenceNumber", "is missing"));
    } else if (rec->sequence_number.len == 0) {
        AS_GUARD(record_fault(ps, "dynamodb.SequenceNumber", "is empty"));
    }
    if (slots->keys == 0) {
        return record_fault(ps, "dynamodb.Keys", "is missing");
    }
    const as_value *keys = &ps->event->values[slots->keys - 1];
    if (keys->count == 0) {
        return record_fault(ps, "dynamodb.Keys", "is empty");
    }
    for (const as_value *k = keys + 1; k < keys + keys->subtree; k += k->subtree) {
        if (k->type != AS_TYPE_S && k->type != AS_TYPE_N && k->type != AS_TYPE_B) {
            return record_fault(ps, "dynamodb.Keys",
                                "key attribute \"%s\" has type %s, not S, N or B",
                                quoted(q, k->name), as_type_name(k->type));
        }
        if ((k->type == AS_TYPE_S || k->type == AS_TYPE_B) && k->size == 0) {
            return record_fault(ps, "dynamodb.Keys", "key attribute \"%s\" is empty",
                                quoted(q, k->name));
        }
    }
    return AS_RESULT_OK;
}

static AS_RESULT grow_records(parser *ps)
{
    as_event *ev = ps->event;
    if (ev->record_count < ev->record_cap) {
        return AS_RESULT_OK;
    }
    size_t cap = ev->record_cap < 16 ? 16 : ev->record_cap * 2;
    as_record *records = realloc(ev->records, cap * sizeof *records);
    if (records != NULL) {
        ev->records = records;
    }
    record_slots *slots = realloc(ev->slots, cap * sizeof *slots);
    if (slots != NULL) {
        ev->slots = slots;
    }
    /* Either array may have grown alone: that is harmless, the capacity stays. */
    AS_ENSURE(records != NULL && slots != NULL, as_fail_nomem(ps->err, DECODING));
    ev->record_cap = cap;
    return AS_RESULT_OK;
}

/* Appends a blank record (an event's record or a wire item) and makes it the current one. */
static AS_RESULT begin_record(parser *ps, as_record **out)
{
    AS_GUARD(grow_records(ps));
    as_event *ev = ps->event;
    ps->record = ev->record_count++;
    ps->record_failed = false;
    ps->keys_failed = false;
    as_record *rec = &ev->records[ps->record];
    memset(rec, 0, sizeof *rec);
    rec->index = ps->record;
    ev->slots[ps->record] = (record_slots){0, 0, 0, SIZE_MAX};
    *out = rec;
    return AS_RESULT_OK;
}

static AS_RESULT parse_record(parser *ps, unsigned json_depth)
{
    as_record *rec;
    AS_GUARD(begin_record(ps, &rec));
    ps->seen = 0;
    ps->section = NULL;
    record_slots *slots = &ps->event->slots[ps->record];
    const char *start = ps->p;

    if (!peek(ps, '{')) {
        AS_GUARD(record_fault(ps, NULL, "record is not an object"));
        AS_GUARD(skip_value(ps, json_depth));
        rec->raw = (as_span){start, (size_t)(ps->p - start)};
        return AS_RESULT_OK;
    }
    ps->p++;
    bool first = true;
    bool more;
    as_span key;
    bool key_escaped;
    for (;;) {
        AS_GUARD(object_next(ps, &first, &more, &key, &key_escaped));
        if (!more) {
            break;
        }
        as_result s;
        bool esc = false;
        if (key_is(key, key_escaped, "eventID")) {
            s = record_string(ps, "eventID", FIELD_EVENT_ID, REQUIRED, &rec->event_id, &esc,
                              json_depth + 1);
            if (esc) {
                rec->escaped |= AS_RECORD_EVENT_ID_ESCAPED;
            }
        } else if (key_is(key, key_escaped, "eventName")) {
            as_span name = {NULL, 0};
            s = record_string(ps, "eventName", FIELD_EVENT_NAME, REQUIRED, &name, &esc,
                              json_depth + 1);
            if (name.ptr != NULL) {
                rec->event_name = key_is(name, esc, "INSERT")   ? AS_EVENT_INSERT
                                  : key_is(name, esc, "MODIFY") ? AS_EVENT_MODIFY
                                  : key_is(name, esc, "REMOVE") ? AS_EVENT_REMOVE
                                                                : AS_EVENT_UNKNOWN;
                if (rec->event_name == AS_EVENT_UNKNOWN && as_result_is_ok(s)) {
                    char q[QUOTE_MAX];
                    AS_GUARD(record_fault(ps, "eventName", "\"%s\" is not INSERT, MODIFY or REMOVE",
                                          quoted(q, name)));
                }
            }
        } else if (key_is(key, key_escaped, "eventSource")) {
            s = record_string(ps, "eventSource", FIELD_SOURCE, REQUIRED, &rec->event_source, &esc,
                              json_depth + 1);
            if (esc) {
                rec->escaped |= AS_RECORD_SOURCE_ESCAPED;
            }
        } else if (key_is(key, key_escaped, "eventSourceARN")) {
            s = record_string(ps, "eventSourceARN", FIELD_ARN, OPTIONAL, &rec->event_source_arn,
                              &esc, json_depth + 1);
            if (esc) {
                rec->escaped |= AS_RECORD_ARN_ESCAPED;
            }
        } else if (key_is(key, key_escaped, "userIdentity")) {
            bool first_copy;
            AS_GUARD(first_time(ps, FIELD_IDENTITY, "userIdentity", &first_copy));
            s = first_copy ? parse_user_identity(ps, rec, json_depth + 1)
                           : skip_value(ps, json_depth + 1);
        } else if (key_is(key, key_escaped, "dynamodb")) {
            bool first_copy;
            AS_GUARD(first_time(ps, FIELD_DYNAMODB, "dynamodb", &first_copy));
            s = first_copy ? parse_dynamodb(ps, rec, json_depth + 1)
                           : skip_value(ps, json_depth + 1);
        } else {
            s = skip_value(ps, json_depth + 1);
        }
        AS_GUARD(s);
    }
    rec->raw = (as_span){start, (size_t)(ps->p - start)};
    AS_GUARD(check_record(ps, rec));
    if (ps->record_failed) {
        /* An invalid record is written whole as rawRecord; only its Keys, when sound,
         * still serve, to name the item in the error item. */
        slots->old_image = slots->new_image = 0;
        if (ps->keys_failed) {
            slots->keys = 0;
        }
    }
    return AS_RESULT_OK;
}

/* ---- The event --------------------------------------------------------------------- */

static AS_RESULT not_event(parser *ps, const char *at, const char *what)
{
    size_t offset = (size_t)(at - ps->start);
    return as_fail(ps->err, AS_ERR_NOT_EVENT, offset, "not a DynamoDB Streams event (byte %zu): %s",
                   offset, what);
}

static AS_RESULT parse_records(parser *ps)
{
    ps->p++;
    bool first = true;
    bool more;
    for (;;) {
        AS_GUARD(array_next(ps, &first, &more));
        if (!more) {
            return AS_RESULT_OK;
        }
        AS_GUARD(parse_record(ps, 2));
    }
}

static AS_RESULT parse_event(parser *ps)
{
    if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xEF\xBB\xBF", 3) == 0) {
        return syntax_error(ps, ps->p, "starts with a UTF-8 byte-order mark");
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        return syntax_error(ps, ps->p, "empty input");
    }
    const char *top = ps->p;
    if (*top != '{') {
        AS_GUARD(skip_value(ps, 0));
        skip_ws(ps);
        if (ps->p < ps->end) {
            return syntax_error(ps, ps->p, "trailing bytes after the JSON value");
        }
        return not_event(ps, top, "the top-level value is not an object");
    }
    ps->p++;
    bool first = true;
    bool more;
    as_span key;
    bool key_escaped;
    const char *records_at = NULL;
    const char *bad_records = NULL;
    for (;;) {
        AS_GUARD(object_next(ps, &first, &more, &key, &key_escaped));
        if (!more) {
            break;
        }
        if (key_is(key, key_escaped, "Records")) {
            if (records_at != NULL || bad_records != NULL) {
                bad_records = bad_records != NULL ? bad_records : ps->p;
                AS_GUARD(skip_value(ps, 1));
                continue;
            }
            if (peek(ps, '[')) {
                records_at = ps->p;
                AS_GUARD(parse_records(ps));
            } else {
                bad_records = ps->p;
                AS_GUARD(skip_value(ps, 1));
            }
        } else
            AS_GUARD(skip_value(ps, 1));
    }
    skip_ws(ps);
    if (ps->p < ps->end) {
        return syntax_error(ps, ps->p, "trailing bytes after the JSON value");
    }
    if (bad_records != NULL) {
        return not_event(ps, bad_records,
                         records_at != NULL ? "\"Records\" appears twice"
                                            : "\"Records\" is not an array");
    }
    if (records_at == NULL) {
        return not_event(ps, top, "no \"Records\" array");
    }
    as_event *ev = ps->event;
    if (ev->record_count == 0) {
        return AS_RESULT_OK;
    }
    for (size_t i = 0; i < ev->record_count; i++) {
        if (from_dynamodb(&ev->records[i])) {
            return AS_RESULT_OK;
        }
    }
    return not_event(ps, records_at, "no record has eventSource \"aws:dynamodb\"");
}

/* ---- DynamoDB items (core/wire.h) ----------------------------------------------------- */

static AS_RESULT not_items(parser *ps, const char *at, const char *what)
{
    size_t offset = (size_t)(at - ps->start);
    return as_fail(ps->err, AS_ERR_ARGUMENT, offset,
                   "not DynamoDB items or a DynamoDB answer (byte %zu): %s", offset, what);
}

/* Parses the map at ps->p (an item, or LastEvaluatedKey) as a record of its own whose
 * new_image is the map; ps->items->label names it in its faults. */
static AS_RESULT parse_item(parser *ps, unsigned json_depth)
{
    as_record *rec;
    AS_GUARD(begin_record(ps, &rec));
    record_slots *slots = &ps->event->slots[ps->record];
    const char *start = ps->p;
    if (!peek(ps, '{')) {
        AS_GUARD(record_fault(ps, NULL, "is not an object"));
        AS_GUARD(skip_value(ps, json_depth));
    } else {
        uint32_t index;
        AS_GUARD(new_value(ps, AS_TYPE_M, (as_span){NULL, 0}, false, &index));
        ps->section = "";
        ps->open[0] = index;
        ps->open_count = 1;
        as_result result = parse_attr_map(ps, index, json_depth, 0);
        ps->section = NULL;
        ps->open_count = 0;
        AS_GUARD(result);
        slots->new_image = index + 1;
    }
    rec->raw = (as_span){start, (size_t)(ps->p - start)};
    return AS_RESULT_OK;
}

/* AS_WIRE_ANY: what the object at ps->p is, judged by its members' names and the first
 * byte of their values, without moving. An Items array settles it at once, so that a
 * page's items are read once; anything else is read to the end. */
static AS_RESULT sniff_shape(parser *ps, as_wire_shape *shape)
{
    const char *top = ps->p;
    size_t spaces = ps->spaces;
    ps->p++;
    bool first = true;
    bool more;
    as_span key;
    bool key_escaped;
    bool page = false;
    bool get = true;
    for (;;) {
        AS_GUARD(object_next(ps, &first, &more, &key, &key_escaped));
        if (!more) {
            break;
        }
        if (key_is(key, key_escaped, "Items") && peek(ps, '[')) {
            page = true;
            break;
        }
        if (!(key_is(key, key_escaped, "Item") && peek(ps, '{')) &&
            !key_is(key, key_escaped, "ConsumedCapacity")) {
            get = false;
        }
        AS_GUARD(skip_value(ps, 1));
    }
    *shape = page ? AS_WIRE_PAGE : get ? AS_WIRE_GET : AS_WIRE_ITEM;
    ps->p = top;
    ps->spaces = spaces;
    return AS_RESULT_OK;
}

/* The Items array of a page. */
static AS_RESULT parse_item_array(parser *ps)
{
    ps->p++;
    bool first = true;
    bool more;
    size_t n = 0;
    for (;;) {
        AS_GUARD(array_next(ps, &first, &more));
        if (!more) {
            return AS_RESULT_OK;
        }
        snprintf(ps->items->label, sizeof ps->items->label, "Items[%zu]", n++);
        AS_GUARD(parse_item(ps, 2));
    }
}

/* The members of a Query, Scan or GetItem answer (`shape`) at ps->p. */
static AS_RESULT parse_answer(parser *ps, as_wire_shape shape)
{
    items_mode *mode = ps->items;
    const char *top = ps->p;
    ps->p++;
    bool first = true;
    bool more;
    as_span key;
    bool key_escaped;
    const char *items_at = NULL;
    bool last_key = false;
    for (;;) {
        AS_GUARD(object_next(ps, &first, &more, &key, &key_escaped));
        if (!more) {
            break;
        }
        const char *at = ps->p;
        bool is_items = shape == AS_WIRE_PAGE ? key_is(key, key_escaped, "Items")
                                              : key_is(key, key_escaped, "Item");
        if (is_items || (shape == AS_WIRE_PAGE && key_is(key, key_escaped, "LastEvaluatedKey"))) {
            AS_ENSURE(!(is_items ? items_at != NULL : last_key),
                      not_items(ps, at,
                                is_items ? (shape == AS_WIRE_PAGE ? "\"Items\" appears twice"
                                                                  : "\"Item\" appears twice")
                                         : "\"LastEvaluatedKey\" appears twice"));
        }
        if (is_items && shape == AS_WIRE_PAGE) {
            AS_ENSURE(peek(ps, '['), not_items(ps, at, "\"Items\" is not an array"));
            items_at = at;
            AS_GUARD(parse_item_array(ps));
        } else if (is_items) {
            AS_ENSURE(peek(ps, '{'), not_items(ps, at, "\"Item\" is not an object"));
            items_at = at;
            snprintf(mode->label, sizeof mode->label, "Item");
            AS_GUARD(parse_item(ps, 1));
        } else if (shape == AS_WIRE_PAGE && key_is(key, key_escaped, "LastEvaluatedKey")) {
            AS_ENSURE(peek(ps, '{'), not_items(ps, at, "\"LastEvaluatedKey\" is not an object"));
            last_key = true;
            snprintf(mode->label, sizeof mode->label, "LastEvaluatedKey");
            AS_GUARD(parse_item(ps, 1));
            mode->found->last_key_record = ps->event->record_count;
        } else {
            AS_GUARD(skip_value(ps, 1));
        }
    }
    AS_ENSURE(items_at != NULL || shape == AS_WIRE_GET,
              not_items(ps, top, "a Query or Scan answer without an \"Items\" array"));
    return AS_RESULT_OK;
}

static AS_RESULT parse_items_document(parser *ps)
{
    items_mode *mode = ps->items;
    if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xEF\xBB\xBF", 3) == 0) {
        return syntax_error(ps, ps->p, "starts with a UTF-8 byte-order mark");
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        return syntax_error(ps, ps->p, "empty input");
    }
    const char *top = ps->p;
    as_wire_shape shape = mode->shape;
    if (*top != '{') {
        AS_GUARD(skip_value(ps, 0));
    } else if (shape == AS_WIRE_ANY) {
        AS_GUARD(sniff_shape(ps, &shape));
    }
    if (*top == '{') {
        mode->found->shape = shape;
        if (shape == AS_WIRE_ITEM) {
            snprintf(mode->label, sizeof mode->label, "item");
            AS_GUARD(parse_item(ps, 0));
        } else {
            AS_GUARD(parse_answer(ps, shape));
        }
    }
    skip_ws(ps);
    if (ps->p < ps->end) {
        return syntax_error(ps, ps->p, "trailing bytes after the JSON value");
    }
    AS_ENSURE(*top == '{', not_items(ps, top, "the top-level value is not an object"));
    return AS_RESULT_OK;
}

/* One decode, of an event (`items` NULL) or of DynamoDB items. */
static as_status decode_document(const char *json, size_t len, items_mode *items, as_event **out,
                                 as_error *err)
{
    *out = NULL;
    as_event *ev = calloc(1, sizeof *ev);
    if (ev == NULL) {
        return as_status_of(as_fail_nomem(err, DECODING));
    }
    parser ps = {0};
    ps.start = ps.p = json != NULL ? json : "";
    ps.end = ps.start + len;
    ps.event = ev;
    ps.err = err;
    ps.items = items;
    as_result result = items == NULL ? parse_event(&ps) : parse_items_document(&ps);
    as_buf_free(&ps.scratch);
    as_buf_free(&ps.scratch2);
    free(ps.numbers);
    free(ps.keys);
    if (!as_result_is_ok(result)) {
        as_event_free(ev);
        return as_status_of(result);
    }
    /* The event lives while its items are written: give back the growth slack (up to
     * half the value array, a megabyte for a 1,000-record batch). */
    if (ev->value_count > 0 && ev->value_count < ev->value_cap) {
        as_value *fitted = realloc(ev->values, ev->value_count * sizeof *ev->values);
        if (fitted != NULL) {
            ev->values = fitted;
            ev->value_cap = ev->value_count;
        }
    }
    /* The arrays are final: turn indices and offsets into pointers. */
    for (size_t i = 0; i < ev->record_count; i++) {
        as_record *rec = &ev->records[i];
        const record_slots *slots = &ev->slots[i];
        rec->keys = slots->keys != 0 ? &ev->values[slots->keys - 1] : NULL;
        rec->old_image = slots->old_image != 0 ? &ev->values[slots->old_image - 1] : NULL;
        rec->new_image = slots->new_image != 0 ? &ev->values[slots->new_image - 1] : NULL;
        rec->error = slots->error_offset != SIZE_MAX ? ev->errors.data + slots->error_offset : NULL;
    }
    *out = ev;
    return AS_OK;
}

as_status as_event_decode(const char *json, size_t len, as_event **out, as_error *err)
{
    if (out == NULL || (json == NULL && len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_event_decode: NULL argument"));
    }
    return decode_document(json, len, NULL, out, err);
}

as_result as_event_decode_items(const char *json, size_t len, as_wire_shape shape, as_event **out,
                                as_items_found *found, as_error *err)
{
    AS_ENSURE(out != NULL && found != NULL && (json != NULL || len == 0),
              as_fail(err, AS_ERR_ARGUMENT, 0, "as_event_decode_items: NULL argument"));
    AS_ENSURE(
        shape >= AS_WIRE_ANY && shape <= AS_WIRE_ITEM,
        as_fail(err, AS_ERR_ARGUMENT, 0, "as_event_decode_items: unknown shape %d", (int)shape));
    *found = (as_items_found){AS_WIRE_ITEM, 0};
    items_mode mode = {shape, found, "item"};
    return (as_result){decode_document(json, len, &mode, out, err)};
}

void as_json_unescape(as_span span, as_buf *out)
{
    as_json_append_unescaped(out, span);
}

void as_event_free(as_event *event)
{
    if (event == NULL) {
        return;
    }
    free(event->records);
    free(event->slots);
    free(event->values);
    as_buf_free(&event->errors);
    free(event);
}

size_t as_event_record_count(const as_event *event)
{
    return event != NULL ? event->record_count : 0;
}

const as_record *as_event_record(const as_event *event, size_t index)
{
    if (event == NULL || index >= event->record_count) {
        return NULL;
    }
    return &event->records[index];
}
