/* The canonical form of attribute values (core/canonical.h): read from the decoder's spans
 * in place, numbers through number.c, strings through json_text.c's unescaper. */
#include <stdlib.h>

#include "core/base64.h"
#include "core/canonical.h"
#include "core/hex.h"
#include "core/json_text.h"
#include "core/number.h"
#include "core/value_order.h"

/* Members of a map or set sorted through a stack array up to this many: configuration
 * items are small, and maps recurse, so it stays small. */
#define STACK_MEMBERS 16

#define WRITING "writing a canonical form"

/* ---- Scalars ------------------------------------------------------------------------ */

static bool escaped_text(const as_value *v)
{
    return (v->flags & AS_VALUE_TEXT_ESCAPED) != 0;
}

static bool escaped_name(const as_value *v)
{
    return (v->flags & AS_VALUE_NAME_ESCAPED) != 0;
}

/* Raw bytes as a JSON string body with only '"', '\' and the controls escaped, and those
 * always one way: every other byte, U+007F and U+2028 included, is copied. */
static void append_escaped(as_buf *out, const char *bytes, size_t len)
{
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        as_buf_append(out, bytes + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            as_buf_append(out, esc, sizeof esc);
        } else {
            char esc[6] = {
                '\\', 'u', '0', '0', as_hex_digit(c >> 4, false), as_hex_digit(c, false)};
            as_buf_append(out, esc, sizeof esc);
        }
    }
    as_buf_append(out, bytes + run, len - run);
}

/* A validated string body (a name or an S), quoted, its input escapes decoded first. */
static void append_string(as_buf *out, as_span body, bool escaped)
{
    as_buf_append_char(out, '"');
    as_json_reader r = as_json_reader_of(body, escaped);
    const char *ptr;
    size_t len;
    while (as_json_reader_next(&r, &ptr, &len)) {
        append_escaped(out, ptr, len);
    }
    as_buf_append_char(out, '"');
}

static bool number_of(const as_value *v, as_number *out)
{
    if (!escaped_text(v)) {
        return as_number_parse(v->text, out, NULL);
    }
    return as_number_parse_escaped(v->text, out);
}

/* value = sign * 0.d1..dn * 10^exponent, so the digits d1..dn, already free of leading
 * and trailing zeros, take the exponent less n. */
static void append_number(as_buf *out, const as_number *n)
{
    as_buf_append_char(out, '"');
    if (n->sign == 0) {
        as_buf_append(out, "0E0", 3);
    } else {
        if (n->sign < 0) {
            as_buf_append_char(out, '-');
        }
        as_buf_append(out, n->digits, n->ndigits);
        as_buf_append_char(out, 'E');
        /* |exponent| <= 130 and ndigits <= 38: no overflow. */
        int e = n->exponent - (int)n->ndigits;
        if (e < 0) {
            as_buf_append_char(out, '-');
            e = -e;
        }
        as_buf_append_u64(out, (uint64_t)e);
    }
    as_buf_append_char(out, '"');
}

/* The decoded bytes of a B text, a base64 quantum at a time, read through the JSON
 * unescaper ("\/" is a common spelling of '/'). */
typedef struct binary_reader {
    as_json_bytes text;
    bool bad; /* a character outside the alphabet, or a text cut short */
} binary_reader;

static binary_reader binary_reader_of(const as_value *v)
{
    binary_reader r = {as_json_bytes_of(v->text, escaped_text(v)), false};
    return r;
}

/* The next quantum's bytes into `out`: 3, or 1 or 2 for a padded last one, 0 at the end. */
static size_t binary_next(binary_reader *r, unsigned char out[3])
{
    char quad[4];
    for (int i = 0; i < 4; i++) {
        int c = as_json_bytes_next(&r->text);
        if (c < 0) {
            r->bad |= i > 0;
            return 0;
        }
        quad[i] = (char)c;
    }
    /* Only a text the decoder never saw fails this; as_base64_quantum would read it as
     * zero bits. */
    r->bad |= !as_base64_valid((as_span){quad, 4}, NULL);
    return as_base64_quantum(quad, out);
}

/* Re-encoded a quantum at a time: every quantum but the last holds 3 bytes, so this is
 * the standard padded encoding of the decoded bytes, with the padding bits zero. */
static AS_RESULT append_binary(as_buf *out, const as_value *v)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    binary_reader r = binary_reader_of(v);
    as_buf_append_char(out, '"');
    for (;;) {
        unsigned char q[3] = {0, 0, 0};
        size_t n = binary_next(&r, q);
        if (n == 0) {
            break;
        }
        /* A padded quantum's unused bits are not the value's ("QR==" is "QQ=="). */
        for (size_t k = n; k < 3; k++) {
            q[k] = 0;
        }
        uint32_t bits = (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
        char enc[4] = {alphabet[bits >> 18], alphabet[bits >> 12 & 63u],
                       n > 1 ? alphabet[bits >> 6 & 63u] : '=', n > 2 ? alphabet[bits & 63u] : '='};
        as_buf_append(out, enc, sizeof enc);
        if (n < 3) {
            /* Padding ends the text: anything after it was never base64. */
            unsigned char rest[3];
            r.bad |= binary_next(&r, rest) != 0 || as_json_bytes_next(&r.text) >= 0;
            break;
        }
    }
    as_buf_append_char(out, '"');
    AS_ENSURE(!r.bad, as_fail(NULL, AS_ERR_ARGUMENT, 0, "B value is not base64"));
    return AS_RESULT_OK;
}

/* ---- Sorting ------------------------------------------------------------------------ */

/* The member pointers of a map or set: on the stack when few, else on the heap. */
typedef struct members {
    const as_value *stack[STACK_MEMBERS];
    const as_value **p;
    size_t n;
} members;

/* Collects the members of `parent` (a map's entries, a list's or set's values), less
 * those `skip` (when not NULL) leaves out. */
static AS_RESULT members_of(members *m, const as_value *parent, as_canonical_skip skip, void *ctx)
{
    m->p = m->stack;
    m->n = 0;
    size_t count = parent->count;
    if (count > STACK_MEMBERS) {
        m->p = count <= SIZE_MAX / sizeof *m->p ? malloc(count * sizeof *m->p) : NULL;
        AS_ENSURE(m->p != NULL, as_fail_nomem(NULL, WRITING));
    }
    for (const as_value *e = parent + 1; e < parent + parent->subtree && m->n < count;
         e += e->subtree) {
        if (skip == NULL || !skip(e, ctx)) {
            m->p[m->n++] = e;
        }
    }
    return AS_RESULT_OK;
}

static void members_free(members *m)
{
    if (m->p != m->stack) {
        free(m->p);
    }
}

static int name_order(const void *x, const void *y)
{
    const as_value *a = *(const as_value *const *)x;
    const as_value *b = *(const as_value *const *)y;
    return as_json_string_cmp(a->name, escaped_name(a), b->name, escaped_name(b));
}

static int string_order(const void *x, const void *y)
{
    const as_value *a = *(const as_value *const *)x;
    const as_value *b = *(const as_value *const *)y;
    return as_json_string_cmp(a->text, escaped_text(a), b->text, escaped_text(b));
}

static int binary_order(const void *x, const void *y)
{
    return as_binary_cmp(*(const as_value *const *)x, *(const as_value *const *)y);
}

static int number_order(const void *x, const void *y)
{
    return as_number_cmp(x, y);
}

/* ---- Values ------------------------------------------------------------------------- */

static AS_RESULT append_value(as_buf *out, const as_value *v);

/* The entries of a map, sorted by name: "name":value,... without the braces; those `skip`
 * (when not NULL) leaves out are not written. */
static AS_RESULT append_entries(as_buf *out, const as_value *map, as_canonical_skip skip, void *ctx)
{
    members m;
    AS_GUARD(members_of(&m, map, skip, ctx));
    qsort(m.p, m.n, sizeof *m.p, name_order);
    as_result result = AS_RESULT_OK;
    for (size_t i = 0; i < m.n && as_result_is_ok(result); i++) {
        if (i > 0) {
            as_buf_append_char(out, ',');
        }
        append_string(out, m.p[i]->name, escaped_name(m.p[i]));
        as_buf_append_char(out, ':');
        result = append_value(out, m.p[i]);
    }
    members_free(&m);
    return result;
}

static AS_RESULT append_list(as_buf *out, const as_value *list)
{
    as_buf_append_char(out, '[');
    uint32_t i = 0;
    for (const as_value *e = list + 1; e < list + list->subtree; e += e->subtree, i++) {
        if (i > 0) {
            as_buf_append_char(out, ',');
        }
        AS_GUARD(append_value(out, e));
    }
    as_buf_append_char(out, ']');
    return AS_RESULT_OK;
}

/* NS: parsed once each, then sorted by value. */
static AS_RESULT append_number_set(as_buf *out, const as_value *set)
{
    as_number stack[STACK_MEMBERS];
    as_number *n = stack;
    size_t count = set->count;
    if (count > STACK_MEMBERS) {
        n = count <= SIZE_MAX / sizeof *n ? malloc(count * sizeof *n) : NULL;
        AS_ENSURE(n != NULL, as_fail_nomem(NULL, WRITING));
    }
    size_t k = 0;
    bool ok = true;
    for (const as_value *e = set + 1; e < set + set->subtree && k < count && ok; e++) {
        ok = number_of(e, &n[k++]);
    }
    if (ok) {
        qsort(n, k, sizeof *n, number_order);
        as_buf_append_char(out, '[');
        for (size_t i = 0; i < k; i++) {
            if (i > 0) {
                as_buf_append_char(out, ',');
            }
            append_number(out, &n[i]);
        }
        as_buf_append_char(out, ']');
    }
    if (n != stack) {
        free(n);
    }
    AS_ENSURE(ok, as_fail(NULL, AS_ERR_ARGUMENT, 0, "NS member is not a number"));
    return AS_RESULT_OK;
}

/* SS and BS: the members sorted by their (decoded) bytes. */
static AS_RESULT append_set(as_buf *out, const as_value *set)
{
    members m;
    AS_GUARD(members_of(&m, set, NULL, NULL));
    bool binary = set->type == AS_TYPE_BS;
    qsort(m.p, m.n, sizeof *m.p, binary ? binary_order : string_order);
    as_result result = AS_RESULT_OK;
    as_buf_append_char(out, '[');
    for (size_t i = 0; i < m.n && as_result_is_ok(result); i++) {
        if (i > 0) {
            as_buf_append_char(out, ',');
        }
        if (binary) {
            result = append_binary(out, m.p[i]);
        } else {
            append_string(out, m.p[i]->text, escaped_text(m.p[i]));
        }
    }
    as_buf_append_char(out, ']');
    members_free(&m);
    return result;
}

/* {"<type>":<canonical body>}. */
static AS_RESULT append_value(as_buf *out, const as_value *v)
{
    as_buf_append(out, "{\"", 2);
    as_buf_append_str(out, as_type_name(v->type));
    as_buf_append(out, "\":", 2);
    switch (v->type) {
    case AS_TYPE_S: append_string(out, v->text, escaped_text(v)); break;
    case AS_TYPE_N: {
        as_number n;
        AS_ENSURE(number_of(v, &n), as_fail(NULL, AS_ERR_ARGUMENT, 0, "N value is not a number"));
        append_number(out, &n);
        break;
    }
    case AS_TYPE_B: AS_GUARD(append_binary(out, v)); break;
    case AS_TYPE_SS:
    case AS_TYPE_BS: AS_GUARD(append_set(out, v)); break;
    case AS_TYPE_NS: AS_GUARD(append_number_set(out, v)); break;
    case AS_TYPE_M:
        as_buf_append_char(out, '{');
        AS_GUARD(append_entries(out, v, NULL, NULL));
        as_buf_append_char(out, '}');
        break;
    case AS_TYPE_L: AS_GUARD(append_list(out, v)); break;
    case AS_TYPE_BOOL:
    case AS_TYPE_NULL:
        /* The literal as received: the decoder allows only true and false (NULL: true). */
        AS_ENSURE(
            v->text.len == 4 || v->text.len == 5,
            as_fail(NULL, AS_ERR_ARGUMENT, 0, "%s value is not a literal", as_type_name(v->type)));
        as_buf_append_str(out, v->text.len == 4 ? "true" : "false");
        break;
    default: return as_fail(NULL, AS_ERR_ARGUMENT, 0, "unknown attribute type %d", (int)v->type);
    }
    as_buf_append_char(out, '}');
    return AS_RESULT_OK;
}

/* Cuts `out` back to `start` when `result` failed, then reports the buffer's state. */
static AS_RESULT finish(as_buf *out, size_t start, as_result result)
{
    if (!as_result_is_ok(result)) {
        as_buf_truncate(out, start);
        return result;
    }
    as_result state = as_buf_result(out, NULL, WRITING);
    if (!as_result_is_ok(state)) {
        as_buf_truncate(out, start);
    }
    return state;
}

as_result as_canonical_value(const as_value *v, as_buf *out)
{
    AS_ENSURE(v != NULL && out != NULL,
              as_fail(NULL, AS_ERR_ARGUMENT, 0, "as_canonical_value: %s is NULL",
                      v == NULL ? "value" : "out"));
    size_t start = out->len;
    return finish(out, start, append_value(out, v));
}

as_result as_canonical_image_without(const as_value *map, as_canonical_skip skip, void *ctx,
                                     as_buf *out)
{
    AS_ENSURE(map != NULL && out != NULL,
              as_fail(NULL, AS_ERR_ARGUMENT, 0, "as_canonical_image: %s is NULL",
                      map == NULL ? "image" : "out"));
    AS_ENSURE(map->type == AS_TYPE_M,
              as_fail(NULL, AS_ERR_ARGUMENT, 0, "as_canonical_image: a %s value is not a map",
                      as_type_name(map->type)));
    size_t start = out->len;
    as_buf_append_char(out, '{');
    as_result result = append_entries(out, map, skip, ctx);
    as_buf_append_char(out, '}');
    return finish(out, start, result);
}

as_result as_canonical_image(const as_value *map, as_buf *out)
{
    return as_canonical_image_without(map, NULL, NULL, out);
}
