/* The reference decoder: jansson parses, and the event, record and attribute rules
 * are re-implemented here on jansson's tree, to write the dump event_dump.c writes from ours.
 *
 * jansson is RFC 8259 JSON with a few limits of its own. Each is worked around by
 * rewriting the offending token and parsing again, so that the dump stays exact for
 * every input that does not hit one, and nearly exact for those that do; what cannot
 * be made exact makes the input "inconclusive" (nothing compared):
 *
 * 1. Integers beyond long long ("too big integer", "too big negative integer") and
 *    reals beyond a double ("real number overflow") are valid JSON that we accept.
 *    The token becomes the sentinel +-1.234567890123e300: the only number the rules
 *    look at is ApproximateCreationDateTime, which is out of range either way, and
 *    both dumps print such a number as huge+ / huge-. (The sentinel typed in as the
 *    time of an input that also holds a huge number would print as huge too: libFuzzer
 *    does not trace floating-point comparisons, so it will not find that value.)
 * 2. A NUL byte in an object key ("\u0000", refused even with JSON_ALLOW_NUL) is
 *    rewritten to U+10FFFF, and doc->nul_names tells event_dump to print our names the
 *    same way; sizes count the character as its one byte. An input that also holds
 *    U+10FFFF anywhere (raw or escaped) would be ambiguous: inconclusive.
 * 3. Duplicate object keys: jansson keeps the last, our decoder judges by the first
 *    occurrence and faults a record that repeats a field it reads (eventID, eventName,
 *    eventSource, eventSourceARN, userIdentity, dynamodb, its type / principalId,
 *    Keys, NewImage, OldImage, SequenceNumber, StreamViewType,
 *    ApproximateCreationDateTime, an attribute name in Keys, an image or an M, a type
 *    tag) and ignores repeats of fields it does not read; a repeated top-level "Records"
 *    makes the payload not an event. Once jansson accepts the text, every later
 *    occurrence (found with JSON_REJECT_DUPLICATES) is replaced by a marker member
 *    "\uDBFF\uDFFEdup<n>": "<key>", which the rules below read as "this key was
 *    repeated" and otherwise skip. An input holding U+10FFFE anywhere could forge a
 *    marker (libFuzzer learns the bytes from the strncmp below): inconclusive.
 * 4. A raw NUL byte just after a number or a literal ("[12\0]", "[true\0]") is dropped
 *    by jansson 2.14 (its one-character lookahead buffer takes 0 for "empty" after an
 *    unget) and the text accepted. A raw NUL byte is never valid JSON, inside strings
 *    or out: the reference rejects any input holding one before jansson sees it.
 * 5. Depth: jansson refuses a value nested in more than 2048 levels, counting the
 *    value itself, so [[...[1]...]] with 2048 arrays is refused while 2048 empty
 *    arrays are not. The decoder takes jansson's limit as is: no workaround.
 *
 * ApproximateCreationDateTime reaches this file as a double (or long long), which
 * cannot always tell on which side of 1970 or 9999 the text lies; event_dump.h's
 * dump_time_ambiguous() says when, and both dumps then print the record as
 * "undetermined". N and B texts are judged with lib/number.h and lib/base64.h,
 * which have unit tests of their own. */
#include "reference_decoder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"
#include "event_dump.h"
#include "core/number.h"

#define REF_FLAGS (JSON_ALLOW_NUL | JSON_DECODE_ANY)
/* More workarounds than this on one input and the reference gives up. */
#define MAX_REWRITES 2000
#define MAX_ATTR_DEPTH 32

#define SENTINEL_TEXT "1.234567890123e300"
static const double SENTINEL = 1.234567890123e300;
static const char MARKER_TEXT[] = "\"\\uDBFF\\uDFFEdup";
static const char MARKER_BYTES[] = "\xF4\x8F\xBF\xBE" "dup";
static const char NUL_NAME_TEXT[] = "\\uDBFF\\uDFFF";
static const char NUL_NAME_BYTES[] = "\xF4\x8F\xBF\xBF";

/* ---- Rewriting the text around jansson's limits --------------------------------------- */

/* True when `json` holds the character whose UTF-8 is `raw` (4 bytes) or whose JSON
 * escape is `escape` (12 bytes, lower case; any case matches). An escaped backslash
 * before "u" gives a false positive, which only makes an input inconclusive. */
static bool input_holds(const char *json, size_t len, const char *raw, const char *escape)
{
    for (size_t i = 0; i < len; i++) {
        if (i + 4 <= len && memcmp(json + i, raw, 4) == 0) {
            return true;
        }
        if (i + 12 <= len && json[i] == '\\' && strncasecmp(json + i, escape, 12) == 0) {
            return true;
        }
    }
    return false;
}

typedef struct doc_text {
    char *p;
    size_t len;
} doc_text;

/* Replaces [start, end) of `t` by `with`. */
static bool splice(doc_text *t, size_t start, size_t end, const char *with, size_t with_len)
{
    size_t len = t->len - (end - start) + with_len;
    char *p = malloc(len + 1);
    if (p == NULL) {
        return false;
    }
    memcpy(p, t->p, start);
    memcpy(p + start, with, with_len);
    memcpy(p + start + with_len, t->p + end, t->len - end);
    p[len] = '\0';
    free(t->p);
    t->p = p;
    t->len = len;
    return true;
}

static bool is_number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Past the JSON number at i, as jansson lexes one (the text before its error point
 * lexed cleanly, so no check is needed beyond staying in bounds). */
static size_t lex_number(const doc_text *t, size_t i, size_t end)
{
    if (i < end && t->p[i] == '-') {
        i++;
    }
    while (i < end && is_digit(t->p[i])) {
        i++;
    }
    if (i < end && t->p[i] == '.') {
        for (i++; i < end && is_digit(t->p[i]); i++) {
        }
    }
    if (i < end && (t->p[i] == 'e' || t->p[i] == 'E')) {
        i++;
        if (i < end && (t->p[i] == '+' || t->p[i] == '-')) {
            i++;
        }
        while (i < end && is_digit(t->p[i])) {
            i++;
        }
    }
    return i;
}

/* jansson stopped just after a number it cannot hold, which ends at byte `end`. The
 * bytes before it that could belong to numbers may hold other numbers ("1E-130-1e999",
 * jansson's tokens need no separator) and the "e" ending a true or false: lex them
 * again from the first one that can start a number. */
static bool rewrite_number(doc_text *t, size_t end)
{
    if (end == 0 || end > t->len || !is_number_char(t->p[end - 1])) {
        return false;
    }
    size_t run = end;
    while (run > 0 && is_number_char(t->p[run - 1])) {
        run--;
    }
    while (run < end && (t->p[run] == 'e' || t->p[run] == 'E')) {
        run++;
    }
    size_t start = run;
    while (start < end) {
        size_t next = lex_number(t, start, end);
        if (next == start) {
            return false;
        }
        if (next == end) {
            break;
        }
        start = next;
    }
    if (start >= end) {
        return false;
    }
    const char *with = t->p[start] == '-' ? "-" SENTINEL_TEXT : SENTINEL_TEXT;
    return splice(t, start, end, with, strlen(with));
}

/* The opening quote of the string whose closing quote is at end - 1: the nearest
 * quote before it that no backslash escapes. */
static bool string_start(const doc_text *t, size_t end, size_t *start)
{
    if (end < 2 || end > t->len || t->p[end - 1] != '"') {
        return false;
    }
    for (size_t i = end - 1; i-- > 0;) {
        if (t->p[i] != '"') {
            continue;
        }
        size_t backslashes = 0;
        while (backslashes < i && t->p[i - 1 - backslashes] == '\\') {
            backslashes++;
        }
        if (backslashes % 2 == 0) {
            *start = i;
            return true;
        }
    }
    return false;
}

/* jansson stopped just after an object key holding \u0000, which ends at `end`. */
static bool rewrite_nul_key(doc_text *t, size_t end)
{
    size_t start;
    if (!string_start(t, end, &start)) {
        return false;
    }
    as_buf key = AS_BUF_INIT;
    for (size_t i = start; i < end;) {
        if (t->p[i] == '\\' && i + 1 < end && t->p[i + 1] == 'u') {
            if (i + 6 <= end && memcmp(t->p + i + 2, "0000", 4) == 0) {
                as_buf_append_str(&key, NUL_NAME_TEXT);
            } else {
                as_buf_append(&key, t->p + i, 6);
            }
            i += 6;
        } else if (t->p[i] == '\\') {
            as_buf_append(&key, t->p + i, 2);
            i += 2;
        } else {
            as_buf_append_char(&key, t->p[i]);
            i++;
        }
    }
    bool ok = as_buf_status(&key) == AS_OK && splice(t, start, end, key.data, key.len);
    as_buf_free(&key);
    return ok;
}

static size_t skip_ws(const doc_text *t, size_t i)
{
    while (i < t->len && (t->p[i] == ' ' || t->p[i] == '\t' || t->p[i] == '\n' || t->p[i] == '\r')) {
        i++;
    }
    return i;
}

/* Past the string opening at i, in text jansson accepted; SIZE_MAX if unterminated. */
static size_t skip_string(const doc_text *t, size_t i)
{
    for (i++; i < t->len; i++) {
        if (t->p[i] == '\\') {
            i++;
        } else if (t->p[i] == '"') {
            return i + 1;
        }
    }
    return SIZE_MAX;
}

/* Past the value starting at i, in text jansson accepted. */
static size_t skip_json(const doc_text *t, size_t i)
{
    if (i >= t->len) {
        return SIZE_MAX;
    }
    char c = t->p[i];
    if (c == '"') {
        return skip_string(t, i);
    }
    if (c == '{' || c == '[') {
        size_t depth = 0;
        while (i < t->len) {
            c = t->p[i];
            if (c == '"') {
                i = skip_string(t, i);
                if (i == SIZE_MAX) {
                    return SIZE_MAX;
                }
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return i + 1;
                }
            }
            i++;
        }
        return SIZE_MAX;
    }
    while (i < t->len && t->p[i] != ',' && t->p[i] != ']' && t->p[i] != '}' && t->p[i] != ' ' &&
           t->p[i] != '\t' && t->p[i] != '\n' && t->p[i] != '\r') {
        i++;
    }
    return i;
}

/* jansson stopped just after the repeated key ending at `end`: the member becomes
 * a marker naming it. */
static bool drop_duplicate(doc_text *t, size_t end, unsigned serial)
{
    size_t start;
    if (!string_start(t, end, &start)) {
        return false;
    }
    size_t i = skip_ws(t, end);
    if (i >= t->len || t->p[i] != ':') {
        return false;
    }
    size_t value_end = skip_json(t, skip_ws(t, i + 1));
    if (value_end == SIZE_MAX) {
        return false;
    }
    as_buf marker = AS_BUF_INIT;
    as_buf_append_str(&marker, MARKER_TEXT);
    as_buf_append_u64(&marker, serial);
    as_buf_append_str(&marker, "\":");
    as_buf_append(&marker, t->p + start, end - start);
    bool ok = as_buf_status(&marker) == AS_OK && splice(t, start, value_end, marker.data, marker.len);
    as_buf_free(&marker);
    return ok;
}

void ref_load(const char *json, size_t len, ref_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    doc_text t = {malloc(len + 1), len};
    if (t.p == NULL) {
        doc->inconclusive = true;
        return;
    }
    if (len > 0) {
        memcpy(t.p, json, len);
    }
    t.p[len] = '\0';

    if (len > 0 && memchr(json, '\0', len) != NULL) {
        doc->rejected = true;
        snprintf(doc->error, sizeof doc->error, "raw NUL byte");
        goto done;
    }

    /* First until jansson accepts the text: every other refusal is the verdict. */
    json_error_t error;
    for (;;) {
        json_t *root = json_loadb(t.p, t.len, REF_FLAGS, &error);
        if (root != NULL) {
            json_decref(root);
            break;
        }
        enum json_error_code code = json_error_code(&error);
        bool ok;
        if (code == json_error_numeric_overflow) {
            ok = rewrite_number(&t, (size_t)error.position);
        } else if (code == json_error_null_byte_in_key) {
            ok = rewrite_nul_key(&t, (size_t)error.position);
            doc->nul_names = true;
        } else {
            doc->rejected = true;
            snprintf(doc->error, sizeof doc->error, "%s", error.text);
            goto done;
        }
        if (!ok || ++doc->rewrites > MAX_REWRITES) {
            doc->inconclusive = true;
            goto done;
        }
    }

    if (doc->nul_names && input_holds(json, len, NUL_NAME_BYTES, "\\udbff\\udfff")) {
        doc->inconclusive = true;
        goto done;
    }

    /* Then, on valid JSON, until no object repeats a key. */
    for (;;) {
        doc->root = json_loadb(t.p, t.len, REF_FLAGS | JSON_REJECT_DUPLICATES, &error);
        if (doc->root != NULL) {
            break;
        }
        if (json_error_code(&error) != json_error_duplicate_key ||
            doc->duplicates >= MAX_REWRITES ||
            (doc->duplicates == 0 && input_holds(json, len, MARKER_BYTES, "\\udbff\\udffe")) ||
            !drop_duplicate(&t, (size_t)error.position, doc->duplicates)) {
            doc->inconclusive = true;
            goto done;
        }
        doc->duplicates++;
    }
done:
    free(t.p);
}

void ref_doc_free(ref_doc *doc)
{
    if (doc != NULL) {
        json_decref(doc->root);
        doc->root = NULL;
    }
}

/* ---- Reading objects that may hold markers -------------------------------------------- */

static bool is_marker(const char *key)
{
    return strncmp(key, MARKER_BYTES, sizeof MARKER_BYTES - 1) == 0;
}

/* The first occurrence of `name` in `object`, or NULL. */
static json_t *member(json_t *object, const char *name)
{
    return json_is_object(object) ? json_object_get(object, name) : NULL;
}

/* True when `object` repeated `name` (any name when NULL). Markers exist only when
 * duplicates were dropped, and then the input holds no key that looks like one. */
static bool repeated(const ref_doc *doc, json_t *object, const char *name)
{
    if (doc->duplicates == 0) {
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value) {
        if (is_marker(key) && (name == NULL || strcmp(json_string_value(value), name) == 0)) {
            return true;
        }
    }
    return false;
}

/* A string member: the json_t when present and a string, else NULL. */
static json_t *string_member(json_t *object, const char *name)
{
    json_t *value = member(object, name);
    return json_is_string(value) ? value : NULL;
}

static bool string_is(json_t *string, const char *text)
{
    size_t len = strlen(text);
    return json_is_string(string) && json_string_length(string) == len &&
           memcmp(json_string_value(string), text, len) == 0;
}

static as_span string_span(json_t *string)
{
    return (as_span){json_string_value(string), json_string_length(string)};
}

/* ---- DynamoDB's attribute value rules ------------------------------------------------- */

typedef struct ref_ctx {
    const ref_doc *doc;
    as_buf *out;
} ref_ctx;

typedef enum {
    T_S, T_N, T_B, T_SS, T_NS, T_BS, T_M, T_L, T_NULL, T_BOOL, T_NONE
} ref_type;

static const char *const TAGS[] = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"};

/* An attribute value is an object with exactly one member, a known type tag. */
static ref_type value_type(json_t *value, json_t **payload)
{
    if (!json_is_object(value) || json_object_size(value) != 1) {
        return T_NONE;
    }
    const char *key;
    json_t *inner;
    json_object_foreach (value, key, inner) {
        for (unsigned t = 0; t < sizeof TAGS / sizeof TAGS[0]; t++) {
            if (strcmp(key, TAGS[t]) == 0) {
                *payload = inner;
                return (ref_type)t;
            }
        }
    }
    return T_NONE;
}

/* Bytes DynamoDB counts for a name: its UTF-8, a rewritten NUL counting one. */
static uint64_t name_size(const ref_ctx *cx, const char *name)
{
    size_t len = strlen(name);
    if (cx->doc->nul_names) {
        for (const char *p = name; (p = strstr(p, NUL_NAME_BYTES)) != NULL; p += 4) {
            len -= 3;
        }
    }
    return len;
}

typedef struct span_key {
    const char *ptr;
    size_t len;
} span_key;

static int span_key_cmp(const void *a, const void *b)
{
    const span_key *x = a;
    const span_key *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n > 0 ? memcmp(x->ptr, y->ptr, n) : 0;
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static int number_key_cmp(const void *a, const void *b)
{
    return as_number_cmp(a, b);
}

/* A set: a non-empty array of valid member strings, no two equal (SS and BS by
 * bytes, the latter decoded; NS by value). */
static bool check_set(json_t *array, ref_type type, uint64_t *size)
{
    size_t n = json_array_size(array);
    if (!json_is_array(array) || n == 0) {
        return false;
    }
    bool ok = true;
    uint64_t total = 0;
    span_key *keys = calloc(n, sizeof *keys);
    as_number *numbers = calloc(n, sizeof *numbers);
    size_t *offsets = calloc(n, sizeof *offsets);
    as_buf bytes = AS_BUF_INIT;
    if (keys == NULL || numbers == NULL || offsets == NULL) {
        ok = false;
        goto done;
    }
    for (size_t i = 0; i < n && ok; i++) {
        json_t *item = json_array_get(array, i);
        if (!json_is_string(item)) {
            ok = false;
            break;
        }
        as_span text = string_span(item);
        size_t decoded = 0;
        switch (type) {
        case T_SS:
            keys[i] = (span_key){text.ptr, text.len};
            total += text.len;
            break;
        case T_NS:
            ok = as_number_parse(text, &numbers[i], NULL);
            total += ok ? as_number_size(&numbers[i]) : 0;
            break;
        default:
            ok = as_base64_valid(text, &decoded);
            if (ok) {
                offsets[i] = bytes.len;
                as_base64_decode(text, &bytes);
                keys[i].len = bytes.len - offsets[i];
                total += decoded;
            }
            break;
        }
    }
    if (!ok || as_buf_status(&bytes) != AS_OK) {
        ok = false;
        goto done;
    }
    if (type == T_NS) {
        qsort(numbers, n, sizeof *numbers, number_key_cmp);
        for (size_t i = 1; i < n && ok; i++) {
            ok = as_number_cmp(&numbers[i - 1], &numbers[i]) != 0;
        }
    } else {
        if (type == T_BS) {
            for (size_t i = 0; i < n; i++) {
                keys[i].ptr = bytes.data != NULL ? bytes.data + offsets[i] : "";
            }
        }
        qsort(keys, n, sizeof *keys, span_key_cmp);
        for (size_t i = 1; i < n && ok; i++) {
            ok = span_key_cmp(&keys[i - 1], &keys[i]) != 0;
        }
    }
    *size = total;
done:
    free(keys);
    free(numbers);
    free(offsets);
    as_buf_free(&bytes);
    return ok;
}

static bool check_map(const ref_ctx *cx, json_t *object, unsigned level, uint64_t *size,
                      uint32_t *depth);

/* An attribute value `level` M/L levels down from an image: valid or not, and its
 * DynamoDB size and M/L depth. */
static bool check_value(const ref_ctx *cx, json_t *value, unsigned level, uint64_t *size,
                        uint32_t *depth)
{
    json_t *payload = NULL;
    ref_type type = value_type(value, &payload);
    *depth = 0;
    size_t decoded = 0;
    as_number number;
    switch (type) {
    case T_S:
        *size = json_string_length(payload);
        return json_is_string(payload);
    case T_N:
        if (!json_is_string(payload) || !as_number_parse(string_span(payload), &number, NULL)) {
            return false;
        }
        *size = as_number_size(&number);
        return true;
    case T_B:
        if (!json_is_string(payload) || !as_base64_valid(string_span(payload), &decoded)) {
            return false;
        }
        *size = decoded;
        return true;
    case T_BOOL:
        *size = 1;
        return json_is_boolean(payload);
    case T_NULL:
        *size = 1;
        return json_is_true(payload);
    case T_SS:
    case T_NS:
    case T_BS:
        return check_set(payload, type, size);
    case T_M:
        if (!json_is_object(payload) || level + 1 > MAX_ATTR_DEPTH) {
            return false;
        }
        return check_map(cx, payload, level + 1, size, depth);
    case T_L: {
        if (!json_is_array(payload) || level + 1 > MAX_ATTR_DEPTH) {
            return false;
        }
        uint64_t total = 3;
        uint32_t deepest = 0;
        size_t index;
        json_t *item;
        json_array_foreach (payload, index, item) {
            uint64_t s;
            uint32_t d;
            if (!check_value(cx, item, level + 1, &s, &d)) {
                return false;
            }
            total += s + 1;
            deepest = d > deepest ? d : deepest;
        }
        *size = total;
        *depth = deepest + 1;
        return true;
    }
    default:
        return false;
    }
}

/* A map of attribute values (Keys, an image, an M payload) whose values sit `level`
 * M/L levels down: no repeated name, every value valid. */
static bool check_map(const ref_ctx *cx, json_t *object, unsigned level, uint64_t *size,
                      uint32_t *depth)
{
    if (!json_is_object(object) || repeated(cx->doc, object, NULL)) {
        return false;
    }
    uint64_t total = 3;
    uint32_t deepest = 0;
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value) {
        uint64_t s;
        uint32_t d;
        if (!check_value(cx, value, level, &s, &d)) {
            return false;
        }
        total += name_size(cx, key) + s + 1;
        deepest = d > deepest ? d : deepest;
    }
    *size = total;
    *depth = deepest + 1;
    return true;
}

/* ---- Writing the tree (of a valid record) ---------------------------------------------- */

static void dump_map(const ref_ctx *cx, json_t *object, unsigned level);

static void dump_value(const ref_ctx *cx, json_t *value, unsigned level)
{
    json_t *payload = NULL;
    ref_type type = value_type(value, &payload);
    uint64_t size = 0;
    uint32_t depth = 0;
    (void)check_value(cx, value, level, &size, &depth);
    unsigned long long sz = (unsigned long long)size;
    switch (type) {
    case T_S:
    case T_N:
    case T_B:
        dump_printf(cx->out, "%s#%llu", TAGS[type], sz);
        dump_string(cx->out, json_string_value(payload), json_string_length(payload));
        return;
    case T_BOOL:
        dump_printf(cx->out, "BOOL#%llu:%s", sz, json_is_true(payload) ? "true" : "false");
        return;
    case T_NULL:
        dump_printf(cx->out, "NULL#%llu", sz);
        return;
    case T_SS:
    case T_NS:
    case T_BS: {
        dump_printf(cx->out, "%s#%llu[", TAGS[type], sz);
        size_t index;
        json_t *item;
        json_array_foreach (payload, index, item) {
            as_span text = string_span(item);
            uint64_t member_size = text.len;
            as_number number;
            if (type == T_NS && as_number_parse(text, &number, NULL)) {
                member_size = as_number_size(&number);
            } else if (type == T_BS) {
                size_t decoded = 0;
                (void)as_base64_valid(text, &decoded);
                member_size = decoded;
            }
            if (index > 0) {
                as_buf_append_char(cx->out, ',');
            }
            dump_string(cx->out, text.ptr, text.len);
            dump_printf(cx->out, "#%llu", (unsigned long long)member_size);
        }
        as_buf_append_char(cx->out, ']');
        return;
    }
    case T_M:
        dump_printf(cx->out, "M#%llu^%u", sz, depth);
        dump_map(cx, payload, level + 1);
        return;
    case T_L: {
        dump_printf(cx->out, "L#%llu^%u[", sz, depth);
        size_t index;
        json_t *item;
        json_array_foreach (payload, index, item) {
            if (index > 0) {
                as_buf_append_char(cx->out, ',');
            }
            dump_value(cx, item, level + 1);
        }
        as_buf_append_char(cx->out, ']');
        return;
    }
    default:
        as_buf_append_str(cx->out, "?");
        return;
    }
}

/* The members of a map, in document order: {"name"=value,...}. */
static void dump_map(const ref_ctx *cx, json_t *object, unsigned level)
{
    as_buf_append_char(cx->out, '{');
    const char *key;
    json_t *value;
    const char *sep = "";
    json_object_foreach (object, key, value) {
        as_buf_append_str(cx->out, sep);
        dump_string(cx->out, key, strlen(key));
        as_buf_append_char(cx->out, '=');
        dump_value(cx, value, level);
        sep = ",";
    }
    as_buf_append_char(cx->out, '}');
}

static void dump_image(const ref_ctx *cx, const char *label, json_t *object)
{
    dump_printf(cx->out, " %s ", label);
    if (object == NULL) {
        as_buf_append_str(cx->out, "-\n");
        return;
    }
    uint64_t size = 0;
    uint32_t depth = 0;
    (void)check_map(cx, object, 0, &size, &depth);
    dump_printf(cx->out, "M#%llu^%u", (unsigned long long)size, depth);
    dump_map(cx, object, 0);
    as_buf_append_char(cx->out, '\n');
}

/* ---- Records and the event ------------------------------------------------------------ */

/* 9999-12-31T23:59:59.999Z as epoch seconds is 253402300799.999. */
#define LAST_SECOND 253402300799LL

typedef enum { TIME_ABSENT, TIME_VALID, TIME_INVALID, TIME_AMBIGUOUS } time_state;

/* Writes the ApproximateCreationDateTime line and judges the value. */
static time_state dump_time(const ref_ctx *cx, json_t *value)
{
    as_buf_append_str(cx->out, " ApproximateCreationDateTime ");
    time_state state;
    if (value == NULL) {
        as_buf_append_str(cx->out, "-");
        state = TIME_ABSENT;
    } else if (json_is_integer(value)) {
        json_int_t seconds = json_integer_value(value);
        dump_time_integer(cx->out, (long long)seconds);
        state = seconds >= 0 && seconds <= LAST_SECOND ? TIME_VALID : TIME_INVALID;
    } else if (json_is_real(value)) {
        double seconds = json_real_value(value);
        if (seconds == SENTINEL || seconds == -SENTINEL) {
            dump_time_huge(cx->out, seconds < 0);
            state = TIME_INVALID;
        } else {
            dump_time_real(cx->out, seconds);
            if (dump_time_ambiguous(seconds)) {
                state = TIME_AMBIGUOUS;
            } else {
                state = seconds >= 0 && seconds < DUMP_TIME_END ? TIME_VALID : TIME_INVALID;
            }
        }
    } else {
        as_buf_append_str(cx->out, "non-number");
        state = TIME_INVALID;
    }
    as_buf_append_char(cx->out, '\n');
    return state;
}

static void dump_string_field(const ref_ctx *cx, const char *label, json_t *string)
{
    dump_printf(cx->out, " %s ", label);
    if (string == NULL) {
        as_buf_append_str(cx->out, "-");
    } else {
        dump_string(cx->out, json_string_value(string), json_string_length(string));
    }
    as_buf_append_char(cx->out, '\n');
}

/* A key attribute: S, N or B, not empty. */
static bool check_keys(const ref_ctx *cx, json_t *keys)
{
    uint64_t size;
    uint32_t depth;
    if (!check_map(cx, keys, 0, &size, &depth) || json_object_size(keys) == 0) {
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach (keys, key, value) {
        json_t *payload = NULL;
        ref_type type = value_type(value, &payload);
        if (type == T_S && json_string_length(payload) == 0) {
            return false;
        }
        if (type == T_B) {
            size_t decoded = 0;
            if (!as_base64_valid(string_span(payload), &decoded) || decoded == 0) {
                return false;
            }
        }
        if (type != T_S && type != T_N && type != T_B) {
            return false;
        }
    }
    return true;
}

static const char *const RECORD_FIELDS[] = {"eventID", "eventName", "eventSource",
                                            "eventSourceARN", "userIdentity", "dynamodb"};
static const char *const DYNAMODB_FIELDS[] = {"Keys", "NewImage", "OldImage", "SequenceNumber",
                                              "StreamViewType", "ApproximateCreationDateTime"};
static const char *const IDENTITY_FIELDS[] = {"type", "principalId"};

static bool none_repeated(const ref_ctx *cx, json_t *object, const char *const *names,
                          size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (repeated(cx->doc, object, names[i])) {
            return false;
        }
    }
    return true;
}

/* An optional field: absent when missing or null (re-serialised test events write
 * absent fields as null). */
static json_t *optional(json_t *object, const char *name)
{
    json_t *value = member(object, name);
    return json_is_null(value) ? NULL : value;
}

/* An optional field that, when given, must be a string. */
static bool optional_string(json_t *object, const char *name)
{
    json_t *value = optional(object, name);
    return value == NULL || json_is_string(value);
}

static void dump_record(const ref_ctx *cx, json_t *rec, size_t index)
{
    bool object = json_is_object(rec);
    json_t *event_id = string_member(rec, "eventID");
    json_t *event_name = string_member(rec, "eventName");
    json_t *event_source = string_member(rec, "eventSource");
    json_t *arn = string_member(rec, "eventSourceARN");
    json_t *identity = optional(rec, "userIdentity");
    json_t *ddb = member(rec, "dynamodb");
    json_t *ddb_object = json_is_object(ddb) ? ddb : NULL;
    json_t *identity_object = json_is_object(identity) ? identity : NULL;
    json_t *sequence = string_member(ddb_object, "SequenceNumber");
    json_t *keys = member(ddb_object, "Keys");
    json_t *old_image = optional(ddb_object, "OldImage");
    json_t *new_image = optional(ddb_object, "NewImage");

    const char *name = string_is(event_name, "INSERT")   ? "INSERT"
                       : string_is(event_name, "MODIFY") ? "MODIFY"
                       : string_is(event_name, "REMOVE") ? "REMOVE"
                                                          : NULL;
    bool valid = object && none_repeated(cx, rec, RECORD_FIELDS, 6);
    /* An empty eventID would give every such record the same audit id. */
    valid = valid && event_id != NULL && json_string_length(event_id) > 0 && name != NULL && string_is(event_source, "aws:dynamodb");
    valid = valid && optional_string(rec, "eventSourceARN");
    if (identity != NULL) {
        valid = valid && identity_object != NULL && none_repeated(cx, identity, IDENTITY_FIELDS, 2) &&
                optional_string(identity, "type") && optional_string(identity, "principalId");
    }
    valid = valid && ddb_object != NULL && none_repeated(cx, ddb, DYNAMODB_FIELDS, 6);
    valid = valid && sequence != NULL && json_string_length(sequence) > 0;
    valid = valid && optional_string(ddb_object, "StreamViewType");
    bool keys_sound = keys != NULL && !repeated(cx->doc, ddb, "Keys") && check_keys(cx, keys);
    valid = valid && keys_sound;
    uint64_t size;
    uint32_t depth;
    valid = valid && (old_image == NULL || check_map(cx, old_image, 0, &size, &depth));
    valid = valid && (new_image == NULL || check_map(cx, new_image, 0, &size, &depth));

    /* The time line is written aside first: it can make the record undetermined. */
    as_buf time_line = AS_BUF_INIT;
    ref_ctx aside = {cx->doc, &time_line};
    json_t *time = optional(ddb_object, "ApproximateCreationDateTime");
    time_state state = dump_time(&aside, time);
    valid = valid && state != TIME_INVALID;

    const char *verdict = state == TIME_AMBIGUOUS ? "undetermined" : valid ? "valid" : "invalid";
    dump_printf(cx->out, "record %zu %s\n", index, verdict);
    dump_string_field(cx, "eventID", event_id);
    dump_printf(cx->out, " eventName %s\n", name != NULL ? name : "?");
    dump_string_field(cx, "eventSource", event_source);
    dump_string_field(cx, "eventSourceARN", arn);
    dump_string_field(cx, "SequenceNumber", sequence);
    as_buf_append(cx->out, time_line.data != NULL ? time_line.data : "", time_line.len);
    as_buf_free(&time_line);
    dump_string_field(cx, "StreamViewType", string_member(ddb_object, "StreamViewType"));
    dump_string_field(cx, "userIdentity.type", string_member(identity_object, "type"));
    dump_string_field(cx, "userIdentity.principalId", string_member(identity_object, "principalId"));
    /* Sound Keys stay even in an invalid record, to name the item in its error item;
     * repeated Keys are not sound: which one names the item? */
    dump_image(cx, "Keys", keys_sound ? keys : NULL);
    if (valid && state != TIME_AMBIGUOUS) {
        dump_image(cx, "OldImage", old_image);
        dump_image(cx, "NewImage", new_image);
    }
}

bool ref_check_item(json_t *item, uint64_t *size)
{
    ref_doc doc;
    memset(&doc, 0, sizeof doc);
    ref_ctx cx = {&doc, NULL};
    uint64_t map_size;
    uint32_t depth;
    if (!check_map(&cx, item, 0, &map_size, &depth)) {
        return false;
    }
    /* An item is not wrapped: no map overhead, no byte per attribute. */
    *size = map_size - 3 - json_object_size(item);
    return true;
}

json_t *ref_records(const ref_doc *doc)
{
    json_t *records = member(doc->root, "Records");
    return json_is_array(records) ? records : NULL;
}

void ref_dump(const ref_doc *doc, as_buf *out)
{
    if (doc->inconclusive) {
        as_buf_append_str(out, "verdict inconclusive\n");
        return;
    }
    if (doc->root == NULL) {
        as_buf_append_str(out, "verdict json-error\n");
        return;
    }
    json_t *root = doc->root;
    json_t *records = ref_records(doc);
    if (!json_is_object(root) || repeated(doc, root, "Records") || records == NULL) {
        as_buf_append_str(out, "verdict not-event\n");
        return;
    }
    /* A non-empty batch needs one record from DynamoDB to be a Streams event. */
    size_t count = json_array_size(records);
    bool from_dynamodb = count == 0;
    size_t index;
    json_t *rec;
    json_array_foreach (records, index, rec) {
        from_dynamodb = from_dynamodb || string_is(string_member(rec, "eventSource"), "aws:dynamodb");
    }
    if (!from_dynamodb) {
        as_buf_append_str(out, "verdict not-event\n");
        return;
    }
    as_buf_append_str(out, "verdict ok\n");
    dump_printf(out, "records %zu\n", count);
    ref_ctx cx = {doc, out};
    json_array_foreach (records, index, rec) {
        dump_record(&cx, rec, index);
    }
}
