/* The equality of attribute values (docs/audit-format.md) and the image diff behind both audit
 * formats: changed top-level names (classic) or JSON Pointers down to the deepest change
 * (detailed).
 *
 * Equality reads the decoder's spans in place and allocates nothing on the common path:
 * escaped strings are compared chunk by chunk, escaped numbers and base64 are decoded
 * on the fly. Only sets and maps that are large and out of order are sorted, through
 * a stack buffer when they fit and the heap when not; when the heap fails they are
 * matched pairwise, slower but never wrong. */
#include <stdlib.h>

#include "auditstream/buf.h"
#include "auditstream/diff.h"
#include "core/internal.h"
#include "core/json_text.h"
#include "core/number.h"

/* Members left after a common prefix, up to this many, are matched pairwise:
 * cheaper than sorting for the small collections configuration items hold. */
#define PAIRWISE_LIMIT 16
/* Sorted member arrays up to this many members a side live on the stack. Maps recurse
 * (32 levels at most), so this stays small. */
#define STACK_MEMBERS 32

/* ---- Decoded bytes of N and B texts ---------------------------------------------- */

/* Walks the decoded bytes of a validated JSON string body one at a time: enough for
 * N and B texts, which decode to ASCII. */
typedef struct byte_reader {
    const char *p;
    const char *end;
    bool escaped;
} byte_reader;

/* Stands for any decoded character past U+007F, which no valid N or B text holds. */
#define NOT_ASCII 0x100

static byte_reader reader_of(const as_value *v)
{
    byte_reader r = {v->text.ptr, v->text.ptr + v->text.len,
                     (v->flags & AS_VALUE_TEXT_ESCAPED) != 0};
    return r;
}

static unsigned hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return (unsigned)(c - '0');
    }
    return (unsigned)((c | 0x20) - 'a' + 10);
}

/* The next decoded byte, or -1 at the end. */
static int reader_next(byte_reader *r)
{
    if (r->p >= r->end) {
        return -1;
    }
    unsigned char c = (unsigned char)*r->p++;
    if (c != '\\' || !r->escaped) {
        return c;
    }
    char e = *r->p++;
    switch (e) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': {
        unsigned cp = hex_value(r->p[0]) << 12 | hex_value(r->p[1]) << 8 | hex_value(r->p[2]) << 4 |
                      hex_value(r->p[3]);
        r->p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            r->p += 6; /* the low half of the pair: not ASCII either way */
        }
        return cp < 0x80 ? (int)cp : NOT_ASCII;
    }
    default: return (unsigned char)e; /* '"', '\\', '/' */
    }
}

static bool same_bytes(as_span a, as_span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* ---- N ------------------------------------------------------------------------------ */

/* "[-]0." + 38 digits + "E" + a 64-bit exponent, with room to spare. */
#define SQUEEZED_MAX 72

/* Writes the decoded text of an escaped N ("\u0031" is "1") as [-]0.<digits>E<exp>:
 * the same value, but short however many zeros the original carries, so that
 * as_number_parse can read it from the stack. False when the text is not a number
 * with at most 38 significant digits (never so for a decoded event's N). */
static bool squeeze_number(as_span text, char out[SQUEEZED_MAX], as_span *result)
{
    byte_reader r = {text.ptr, text.ptr + text.len, true};
    size_t n = 0;
    int c = reader_next(&r);
    if (c == '-' || c == '+') {
        if (c == '-') {
            out[n++] = '-';
        }
        c = reader_next(&r);
    }
    char digits[AS_NUMBER_MAX_DIGITS];
    size_t ndigits = 0;
    int64_t zeros = 0; /* zeros held back after the last significant digit */
    int64_t point = 0; /* value = 0.<digits> * 10^(point + exponent) */
    bool seen_point = false;
    bool seen_digit = false;
    for (;; c = reader_next(&r)) {
        if (c == '.' && !seen_point) {
            seen_point = true;
            continue;
        }
        if (c < '0' || c > '9') {
            break;
        }
        seen_digit = true;
        if (ndigits == 0 && c == '0') {
            if (seen_point) {
                point--; /* 0.001 is 0.1E-2 */
            }
            continue;
        }
        if (!seen_point) {
            point++;
        }
        if (c == '0') {
            zeros++;
            continue;
        }
        if ((int64_t)ndigits + zeros + 1 > AS_NUMBER_MAX_DIGITS) {
            return false;
        }
        memset(digits + ndigits, '0', (size_t)zeros);
        ndigits += (size_t)zeros;
        zeros = 0;
        digits[ndigits++] = (char)c;
    }
    if (!seen_digit) {
        return false;
    }
    int64_t exponent = 0;
    if (c == 'e' || c == 'E') {
        c = reader_next(&r);
        bool negative = c == '-';
        if (c == '-' || c == '+') {
            c = reader_next(&r);
        }
        if (c < '0' || c > '9') {
            return false;
        }
        for (; c >= '0' && c <= '9'; c = reader_next(&r)) {
            /* Past this the value is out of range anyway; stop before overflowing. */
            if (exponent < INT64_MAX / 1000) {
                exponent = exponent * 10 + (c - '0');
            }
        }
        if (negative) {
            exponent = -exponent;
        }
    }
    if (c != -1) {
        return false;
    }
    if (ndigits == 0) {
        out[0] = '0';
        result->ptr = out;
        result->len = 1;
        return true;
    }
    out[n++] = '0';
    out[n++] = '.';
    memcpy(out + n, digits, ndigits);
    n += ndigits;
    out[n++] = 'E';
    /* |point| is bounded by the text's length, far below INT64_MAX / 2. */
    int64_t total = point + exponent;
    uint64_t magnitude = total < 0 ? (uint64_t)0 - (uint64_t)total : (uint64_t)total;
    if (total < 0) {
        out[n++] = '-';
    }
    char text_digits[20];
    size_t count = 0;
    do {
        text_digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    while (count > 0) {
        out[n++] = text_digits[--count];
    }
    result->ptr = out;
    result->len = n;
    return true;
}

/* Parses an N or NS member. False only for text a decoded event would have refused. */
static bool number_of(const as_value *v, as_number *out)
{
    if (!(v->flags & AS_VALUE_TEXT_ESCAPED)) {
        return as_number_parse(v->text, out, NULL);
    }
    char buf[SQUEEZED_MAX];
    as_span squeezed;
    return squeeze_number(v->text, buf, &squeezed) && as_number_parse(squeezed, out, NULL);
}

static int number_cmp(const as_value *a, const as_value *b)
{
    if (!((a->flags | b->flags) & AS_VALUE_TEXT_ESCAPED) && same_bytes(a->text, b->text)) {
        return 0;
    }
    as_number x;
    as_number y;
    if (!number_of(a, &x) || !number_of(b, &y)) {
        /* Outside the contract (not from a valid record): order by text instead. */
        return as_json_string_cmp(a->text, (a->flags & AS_VALUE_TEXT_ESCAPED) != 0, b->text,
                                  (b->flags & AS_VALUE_TEXT_ESCAPED) != 0);
    }
    return as_number_cmp(&x, &y);
}

/* ---- S and B -------------------------------------------------------------------------- */

static int string_cmp(const as_value *a, const as_value *b)
{
    return as_json_string_cmp(a->text, (a->flags & AS_VALUE_TEXT_ESCAPED) != 0, b->text,
                              (b->flags & AS_VALUE_TEXT_ESCAPED) != 0);
}

static unsigned sextet(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return (unsigned)(c - 'A');
    }
    if (c >= 'a' && c <= 'z') {
        return (unsigned)(c - 'a' + 26);
    }
    if (c >= '0' && c <= '9') {
        return (unsigned)(c - '0' + 52);
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return 0; /* '=' */
}

/* Decodes the next four-character quantum into `out`; returns how many bytes it
 * holds: 3, or 1 or 2 for the padded last one, 0 at the end. */
static size_t base64_quantum(byte_reader *r, unsigned char out[3])
{
    unsigned s[4];
    size_t pads = 0;
    for (int i = 0; i < 4; i++) {
        int c = reader_next(r);
        if (c < 0) {
            return 0;
        }
        pads += c == '=';
        s[i] = sextet(c);
    }
    out[0] = (unsigned char)(s[0] << 2 | s[1] >> 4);
    out[1] = (unsigned char)((s[1] & 15) << 4 | s[2] >> 2);
    out[2] = (unsigned char)((s[2] & 3) << 6 | s[3]);
    return pads >= 3 ? 0 : 3 - pads;
}

/* Byte order of the decoded bytes. Two texts of the same bytes can differ in their
 * escapes and in the unused bits of a padded quantum ("QR==" is "QQ=="). */
static int binary_cmp(const as_value *a, const as_value *b)
{
    byte_reader ra = reader_of(a);
    byte_reader rb = reader_of(b);
    for (;;) {
        unsigned char qa[3];
        unsigned char qb[3];
        size_t na = base64_quantum(&ra, qa);
        size_t nb = base64_quantum(&rb, qb);
        size_t n = na < nb ? na : nb;
        int c = n > 0 ? memcmp(qa, qb, n) : 0;
        if (c != 0) {
            return c;
        }
        if (na != nb) {
            return na < nb ? -1 : 1;
        }
        if (na < 3) {
            return 0; /* both ended: only the last quantum is short */
        }
    }
}

/* ---- Sets ------------------------------------------------------------------------------- */

/* Order of two members of the same set type. */
static int member_cmp(const as_value *a, const as_value *b)
{
    switch (a->type) {
    case AS_TYPE_N: return number_cmp(a, b);
    case AS_TYPE_B: return binary_cmp(a, b);
    default: return string_cmp(a, b);
    }
}

static int member_ptr_cmp(const void *x, const void *y)
{
    const as_value *const *a = x;
    const as_value *const *b = y;
    return member_cmp(*a, *b);
}

static int number_struct_cmp(const void *x, const void *y)
{
    return as_number_cmp(x, y);
}

/* Valid sets hold no duplicates, so `count` members each equal to one of the other
 * side's `count` are the same set. Set members are single values: x[i] is the i-th. */
static bool members_match_pairwise(const as_value *x, const as_value *y, size_t count)
{
    size_t cursor = 0; /* where the last match was: sets often keep their order */
    for (size_t i = 0; i < count; i++) {
        size_t j = 0;
        while (j < count && member_cmp(&x[i], &y[(cursor + j) % count]) != 0) {
            j++;
        }
        if (j == count) {
            return false;
        }
        cursor = (cursor + j + 1) % count;
    }
    return true;
}

static bool numbers_match_sorted(const as_value *x, const as_value *y, size_t count)
{
    if (count > SIZE_MAX / 2 / sizeof(as_number)) {
        return members_match_pairwise(x, y, count);
    }
    as_number *n = malloc(2 * count * sizeof *n);
    if (n == NULL) {
        return members_match_pairwise(x, y, count);
    }
    for (size_t i = 0; i < count; i++) {
        if (!number_of(&x[i], &n[i]) || !number_of(&y[i], &n[count + i])) {
            free(n);
            return members_match_pairwise(x, y, count);
        }
    }
    qsort(n, count, sizeof *n, number_struct_cmp);
    qsort(n + count, count, sizeof *n, number_struct_cmp);
    bool equal = true;
    for (size_t i = 0; i < count && equal; i++) {
        equal = as_number_cmp(&n[i], &n[count + i]) == 0;
    }
    free(n);
    return equal;
}

static bool members_match_sorted(const as_value *x, const as_value *y, size_t count)
{
    const as_value *stack[2 * STACK_MEMBERS];
    const as_value **p = stack;
    if (count > STACK_MEMBERS) {
        p = count <= SIZE_MAX / 2 / sizeof *p ? malloc(2 * count * sizeof *p) : NULL;
        if (p == NULL) {
            return members_match_pairwise(x, y, count);
        }
    }
    for (size_t i = 0; i < count; i++) {
        p[i] = &x[i];
        p[count + i] = &y[i];
    }
    qsort(p, count, sizeof *p, member_ptr_cmp);
    qsort(p + count, count, sizeof *p, member_ptr_cmp);
    bool equal = true;
    for (size_t i = 0; i < count && equal; i++) {
        equal = member_cmp(p[i], p[count + i]) == 0;
    }
    if (p != stack) {
        free(p);
    }
    return equal;
}

static bool set_equal(const as_value *a, const as_value *b)
{
    if (a->count != b->count) {
        return false;
    }
    const as_value *x = a + 1;
    const as_value *y = b + 1;
    size_t left = a->count;
    /* Unchanged sets usually come back in the same order. */
    while (left > 0 && member_cmp(x, y) == 0) {
        x++;
        y++;
        left--;
    }
    if (left <= PAIRWISE_LIMIT) {
        return members_match_pairwise(x, y, left);
    }
    if (a->type == AS_TYPE_NS) {
        /* Parsed once each rather than at every comparison of the sort. */
        return numbers_match_sorted(x, y, left);
    }
    return members_match_sorted(x, y, left);
}

/* ---- M and L ---------------------------------------------------------------------------- */

static int name_cmp(const as_value *a, const as_value *b)
{
    return as_json_string_cmp(a->name, (a->flags & AS_VALUE_NAME_ESCAPED) != 0, b->name,
                              (b->flags & AS_VALUE_NAME_ESCAPED) != 0);
}

static int name_ptr_cmp(const void *x, const void *y)
{
    const as_value *const *a = x;
    const as_value *const *b = y;
    return name_cmp(*a, *b);
}

static bool names_equal(const as_value *a, const as_value *b)
{
    if (!((a->flags | b->flags) & AS_VALUE_NAME_ESCAPED)) {
        return same_bytes(a->name, b->name);
    }
    return name_cmp(a, b) == 0;
}

/* Entries [x, x_end) and [y, y_end), `count` each, with unique names: equal when every
 * name on the left has an entry of equal value on the right. */
static bool entries_match_pairwise(const as_value *x, const as_value *x_end, const as_value *y,
                                   const as_value *y_end)
{
    const as_value *cursor = y; /* searches start after the last match */
    for (; x < x_end; x += x->subtree) {
        const as_value *found = NULL;
        for (const as_value *e = cursor; e < y_end && found == NULL; e += e->subtree) {
            if (names_equal(x, e)) {
                found = e;
            }
        }
        for (const as_value *e = y; e < cursor && found == NULL; e += e->subtree) {
            if (names_equal(x, e)) {
                found = e;
            }
        }
        if (found == NULL || !as_value_equal(x, found)) {
            return false;
        }
        cursor = found + found->subtree;
        if (cursor == y_end) {
            cursor = y;
        }
    }
    return true;
}

static bool entries_match_sorted(const as_value *x, const as_value *x_end, const as_value *y,
                                 const as_value *y_end, size_t count)
{
    const as_value *stack[2 * STACK_MEMBERS];
    const as_value **p = stack;
    if (count > STACK_MEMBERS) {
        p = count <= SIZE_MAX / 2 / sizeof *p ? malloc(2 * count * sizeof *p) : NULL;
        if (p == NULL) {
            return entries_match_pairwise(x, x_end, y, y_end);
        }
    }
    size_t i = 0;
    for (const as_value *e = x; e < x_end; e += e->subtree) {
        p[i++] = e;
    }
    i = 0;
    for (const as_value *e = y; e < y_end; e += e->subtree) {
        p[count + i++] = e;
    }
    qsort(p, count, sizeof *p, name_ptr_cmp);
    qsort(p + count, count, sizeof *p, name_ptr_cmp);
    bool equal = true;
    for (i = 0; i < count && equal; i++) {
        equal = names_equal(p[i], p[count + i]) && as_value_equal(p[i], p[count + i]);
    }
    if (p != stack) {
        free(p);
    }
    return equal;
}

static bool map_equal(const as_value *a, const as_value *b)
{
    if (a->count != b->count) {
        return false;
    }
    const as_value *x = a + 1;
    const as_value *y = b + 1;
    const as_value *x_end = a + a->subtree;
    const as_value *y_end = b + b->subtree;
    size_t left = a->count;
    /* Both images of an item usually list its names in the same order. */
    while (left > 0 && names_equal(x, y)) {
        if (!as_value_equal(x, y)) {
            return false;
        }
        x += x->subtree;
        y += y->subtree;
        left--;
    }
    if (left <= PAIRWISE_LIMIT) {
        return entries_match_pairwise(x, x_end, y, y_end);
    }
    return entries_match_sorted(x, x_end, y, y_end, left);
}

static bool list_equal(const as_value *a, const as_value *b)
{
    if (a->count != b->count) {
        return false;
    }
    const as_value *x = a + 1;
    const as_value *y = b + 1;
    for (uint32_t i = 0; i < a->count; i++) {
        if (!as_value_equal(x, y)) {
            return false;
        }
        x += x->subtree;
        y += y->subtree;
    }
    return true;
}

bool as_value_equal(const as_value *a, const as_value *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    if (a->type != b->type) {
        return false;
    }
    /* The same text of the same type is the same value, whatever the rules below. */
    if (same_bytes(a->text, b->text)) {
        return true;
    }
    switch (a->type) {
    case AS_TYPE_S: return string_cmp(a, b) == 0;
    case AS_TYPE_N: return number_cmp(a, b) == 0;
    case AS_TYPE_B: return binary_cmp(a, b) == 0;
    case AS_TYPE_SS:
    case AS_TYPE_NS:
    case AS_TYPE_BS: return set_equal(a, b);
    case AS_TYPE_M: return map_equal(a, b);
    case AS_TYPE_L: return list_equal(a, b);
    case AS_TYPE_BOOL:
    case AS_TYPE_NULL: return false; /* the literals differ */
    default: return false;
    }
}

/* ---- The list of changes ---------------------------------------------------------------- */

struct as_changes {
    as_change *items;
    size_t count;
    size_t cap;
    as_buf paths;   /* the changes' paths back to back, in change order */
    as_buf pointer; /* AS_DIFF_DEEP: the JSON Pointer of the value being compared */
    as_buf name;    /* a decoded name on its way into `pointer` */
    /* A stack of name-sorted member arrays, two per open map. Held as indices into
     * `sorted` across recursion, which may move it. */
    const as_value **sorted;
    size_t sorted_len;
    size_t sorted_cap;
};

as_changes *as_changes_new(void)
{
    return calloc(1, sizeof(as_changes));
}

void as_changes_free(as_changes *changes)
{
    if (changes == NULL) {
        return;
    }
    free(changes->items);
    as_buf_free(&changes->paths);
    as_buf_free(&changes->pointer);
    as_buf_free(&changes->name);
    free(changes->sorted);
    free(changes);
}

size_t as_changes_count(const as_changes *changes)
{
    return changes != NULL ? changes->count : 0;
}

const as_change *as_changes_get(const as_changes *changes, size_t index)
{
    return &changes->items[index];
}

/* Appends a change whose path is paths[path_start..]. Its pointer is set once the
 * diff is over and `paths` has stopped moving. */
static as_status push_change(as_changes *out, size_t path_start, as_span top_name,
                             const as_value *old_value, const as_value *new_value)
{
    if (as_buf_status(&out->paths) != AS_OK || as_buf_status(&out->pointer) != AS_OK ||
        as_buf_status(&out->name) != AS_OK) {
        return AS_ERR_NOMEM;
    }
    if (out->count == out->cap) {
        size_t cap = out->cap < 16 ? 16 : out->cap * 2;
        if (cap > SIZE_MAX / sizeof *out->items) {
            return AS_ERR_NOMEM;
        }
        as_change *items = realloc(out->items, cap * sizeof *items);
        if (items == NULL) {
            return AS_ERR_NOMEM;
        }
        out->items = items;
        out->cap = cap;
    }
    as_change *c = &out->items[out->count++];
    c->path.ptr = NULL;
    c->path.len = out->paths.len - path_start;
    c->top_name = top_name;
    c->old_value = old_value;
    c->new_value = new_value;
    return AS_OK;
}

/* Pushes the members of `map` (NULL: none) sorted by decoded name; *at is where. */
static as_status push_sorted(as_changes *out, const as_value *map, size_t *at)
{
    size_t count = map != NULL ? map->count : 0;
    if (out->sorted_cap - out->sorted_len < count) {
        size_t cap = out->sorted_cap < 64 ? 64 : out->sorted_cap;
        while (cap - out->sorted_len < count) {
            if (cap > SIZE_MAX / 2 / sizeof *out->sorted) {
                return AS_ERR_NOMEM;
            }
            cap *= 2;
        }
        const as_value **sorted = realloc(out->sorted, cap * sizeof *sorted);
        if (sorted == NULL) {
            return AS_ERR_NOMEM;
        }
        out->sorted = sorted;
        out->sorted_cap = cap;
    }
    *at = out->sorted_len;
    if (count == 0) {
        return AS_OK; /* nothing to add, and `sorted` may not exist yet */
    }
    const as_value **p = out->sorted + out->sorted_len;
    size_t n = 0;
    for (const as_value *m = map + 1; m < map + map->subtree; m += m->subtree) {
        p[n++] = m;
    }
    out->sorted_len += n;
    /* Names in the input are often already in order: skip the sort then. */
    bool in_order = true;
    for (size_t i = 1; i < n && in_order; i++) {
        in_order = name_cmp(p[i - 1], p[i]) < 0;
    }
    if (!in_order) {
        qsort(p, n, sizeof *p, name_ptr_cmp);
    }
    return AS_OK;
}

/* Walks two maps' members in name order, each name once, as an (old, new) pair with
 * NULL on the side that lacks it. The members sit sorted in out->sorted, which the
 * caller may grow between steps (the recursion does): hence indices, not pointers. */
typedef struct member_merge {
    size_t old_at; /* the old map's run in out->sorted: [old_at, old_at + old_count) */
    size_t old_count;
    size_t new_at;
    size_t new_count;
    size_t old_next; /* how far along each run the walk is */
    size_t new_next;
} member_merge;

/* Pushes both maps' members (NULL: none) sorted onto out->sorted; the caller restores
 * sorted_len when it is done with them. */
static as_status merge_start(as_changes *out, const as_value *old_map, const as_value *new_map,
                             member_merge *m)
{
    AS_GUARD(push_sorted(out, old_map, &m->old_at));
    AS_GUARD(push_sorted(out, new_map, &m->new_at));
    m->old_count = m->new_at - m->old_at;
    m->new_count = out->sorted_len - m->new_at;
    m->old_next = 0;
    m->new_next = 0;
    return AS_OK;
}

/* The next pair in name order; false when both runs are done. */
static bool merge_next(const as_changes *out, member_merge *m, const as_value **old_value,
                       const as_value **new_value)
{
    if (m->old_next == m->old_count && m->new_next == m->new_count) {
        return false;
    }
    const as_value *x = m->old_next < m->old_count ? out->sorted[m->old_at + m->old_next] : NULL;
    const as_value *y = m->new_next < m->new_count ? out->sorted[m->new_at + m->new_next] : NULL;
    int c = x == NULL ? 1 : y == NULL ? -1 : name_cmp(x, y);
    *old_value = c <= 0 ? x : NULL;
    *new_value = c >= 0 ? y : NULL;
    m->old_next += c <= 0;
    m->new_next += c >= 0;
    return true;
}

static void buf_truncate(as_buf *buf, size_t len)
{
    if (buf->data != NULL && len <= buf->len) {
        buf->len = len;
        buf->data[len] = '\0';
    }
}

/* Appends the decoded `name` to the pointer as one RFC 6901 reference token. */
static void append_token(as_changes *out, const as_value *entry)
{
    as_span bytes = entry->name;
    if (entry->flags & AS_VALUE_NAME_ESCAPED) {
        as_buf_clear(&out->name);
        as_json_unescape(entry->name, &out->name);
        if (as_buf_status(&out->name) != AS_OK) {
            return; /* reported when the diff ends */
        }
        bytes.ptr = out->name.data;
        bytes.len = out->name.len;
    }
    as_buf *p = &out->pointer;
    as_buf_append_char(p, '/');
    size_t run = 0;
    for (size_t i = 0; i < bytes.len; i++) {
        char c = bytes.ptr[i];
        if (c != '~' && c != '/') {
            continue;
        }
        as_buf_append(p, bytes.ptr + run, i - run);
        as_buf_append(p, c == '~' ? "~0" : "~1", 2);
        run = i + 1;
    }
    as_buf_append(p, bytes.ptr + run, bytes.len - run);
}

static as_status record_at_pointer(as_changes *out, as_span top_name, const as_value *old_value,
                                   const as_value *new_value)
{
    size_t start = out->paths.len;
    as_buf_append(&out->paths, out->pointer.data, out->pointer.len);
    return push_change(out, start, top_name, old_value, new_value);
}

static as_status diff_value(as_changes *out, as_span top_name, const as_value *old_value,
                            const as_value *new_value);

/* The union of both maps' names in byte order; each name's values compared at
 * <pointer>/<name>. */
static as_status diff_map(as_changes *out, as_span top_name, const as_value *old_map,
                          const as_value *new_map)
{
    size_t base = out->sorted_len;
    size_t mark = out->pointer.len;
    member_merge merge;
    AS_GUARD(merge_start(out, old_map, new_map, &merge));
    const as_value *old_value;
    const as_value *new_value;
    while (merge_next(out, &merge, &old_value, &new_value)) {
        buf_truncate(&out->pointer, mark);
        append_token(out, old_value != NULL ? old_value : new_value);
        AS_GUARD(diff_value(out, top_name, old_value, new_value));
    }
    buf_truncate(&out->pointer, mark);
    out->sorted_len = base;
    return AS_OK;
}

/* Indices 0 .. max(counts)-1 ascending, a missing element NULL. */
static as_status diff_list(as_changes *out, as_span top_name, const as_value *old_list,
                           const as_value *new_list)
{
    size_t mark = out->pointer.len;
    const as_value *x = old_list + 1;
    const as_value *y = new_list + 1;
    const as_value *x_end = old_list + old_list->subtree;
    const as_value *y_end = new_list + new_list->subtree;
    for (uint64_t index = 0; x < x_end || y < y_end; index++) {
        const as_value *old_value = x < x_end ? x : NULL;
        const as_value *new_value = y < y_end ? y : NULL;
        buf_truncate(&out->pointer, mark);
        as_buf_append_char(&out->pointer, '/');
        as_buf_append_u64(&out->pointer, index);
        AS_GUARD(diff_value(out, top_name, old_value, new_value));
        x += old_value != NULL ? x->subtree : 0;
        y += new_value != NULL ? y->subtree : 0;
    }
    buf_truncate(&out->pointer, mark);
    return AS_OK;
}

static as_status diff_value(as_changes *out, as_span top_name, const as_value *old_value,
                            const as_value *new_value)
{
    if (old_value != NULL && new_value != NULL && old_value->type == new_value->type) {
        if (old_value->type == AS_TYPE_M) {
            return diff_map(out, top_name, old_value, new_value);
        }
        if (old_value->type == AS_TYPE_L) {
            return diff_list(out, top_name, old_value, new_value);
        }
    }
    if (old_value != NULL && new_value != NULL && as_value_equal(old_value, new_value)) {
        return AS_OK;
    }
    return record_at_pointer(out, top_name, old_value, new_value);
}

static bool ignored(const as_value *entry, const as_span *ignore, size_t ignore_count)
{
    bool escaped = (entry->flags & AS_VALUE_NAME_ESCAPED) != 0;
    for (size_t k = 0; k < ignore_count; k++) {
        if (as_json_string_equals(entry->name, escaped, ignore[k].ptr, ignore[k].len)) {
            return true;
        }
    }
    return false;
}

/* The top level: like diff_map, with the ignore list, and in AS_DIFF_TOP one change
 * per differing name. */
static as_status diff_top(as_changes *out, const as_value *old_image, const as_value *new_image,
                          as_diff_mode mode, const as_span *ignore, size_t ignore_count)
{
    member_merge merge;
    AS_GUARD(merge_start(out, old_image, new_image, &merge));
    const as_value *old_value;
    const as_value *new_value;
    while (merge_next(out, &merge, &old_value, &new_value)) {
        const as_value *entry = old_value != NULL ? old_value : new_value;
        if (ignored(entry, ignore, ignore_count)) {
            continue;
        }
        if (mode == AS_DIFF_DEEP) {
            buf_truncate(&out->pointer, 0);
            append_token(out, entry);
            AS_GUARD(diff_value(out, entry->name, old_value, new_value));
            continue;
        }
        if (old_value != NULL && new_value != NULL && as_value_equal(old_value, new_value)) {
            continue;
        }
        size_t start = out->paths.len;
        if (entry->flags & AS_VALUE_NAME_ESCAPED) {
            as_json_unescape(entry->name, &out->paths);
        } else {
            as_buf_append_span(&out->paths, entry->name);
        }
        AS_GUARD(push_change(out, start, entry->name, old_value, new_value));
    }
    return AS_OK;
}

as_status as_diff_images(const as_value *old_image, const as_value *new_image, as_diff_mode mode,
                         const as_span *ignore, size_t ignore_count, as_changes *out, as_error *err)
{
    if (out == NULL || (ignore == NULL && ignore_count > 0) ||
        (mode != AS_DIFF_TOP && mode != AS_DIFF_DEEP)) {
        return as_error_set(err, AS_ERR_ARGUMENT, 0, "as_diff_images: invalid argument");
    }
    out->count = 0;
    out->sorted_len = 0;
    as_buf_clear(&out->paths);
    as_buf_clear(&out->pointer);
    as_buf_clear(&out->name);
    /* Storage for the paths even when all are empty, so no path has a NULL pointer. */
    as_status status = as_buf_reserve(&out->paths, 1);
    if (status == AS_OK) {
        status = as_buf_reserve(&out->pointer, 1);
    }
    if (status == AS_OK) {
        status = diff_top(out, old_image, new_image, mode, ignore, ignore_count);
    }
    /* A failed append leaves a buffer short but later ones may still fit: any failure
     * anywhere fails the whole diff. */
    if (status == AS_OK &&
        (as_buf_status(&out->paths) != AS_OK || as_buf_status(&out->pointer) != AS_OK ||
         as_buf_status(&out->name) != AS_OK)) {
        status = AS_ERR_NOMEM;
    }
    if (status != AS_OK) {
        out->count = 0;
        return as_error_set(err, AS_ERR_NOMEM, 0, "out of memory diffing images");
    }
    size_t offset = 0;
    for (size_t i = 0; i < out->count; i++) {
        out->items[i].path.ptr = out->paths.data + offset;
        offset += out->items[i].path.len;
    }
    return AS_OK;
}
