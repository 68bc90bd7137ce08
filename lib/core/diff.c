/* The equality of attribute values (docs/audit-format.md) and the image diff behind both audit
 * formats: changed top-level names (classic) or JSON Pointers down to the deepest change
 * (detailed).
 *
 * Equality reads the decoder's spans in place and allocates nothing on the common path:
 * escaped strings are compared chunk by chunk, escaped numbers and base64 are decoded
 * on the fly (json_text.c's reader, number.c's and base64.c's decoders). Only sets and maps that
 * are large and out of order are sorted, through a stack buffer when they fit and the heap when
 * not; when the heap fails they are matched pairwise, slower but never wrong. */
#include <stdlib.h>

#include "auditstream/buf.h"
#include "auditstream/diff.h"
#include "core/base64.h"
#include "core/internal.h"
#include "core/json_text.h"
#include "core/number.h"
#include "core/value_order.h"

/* Members left after a common prefix, up to this many, are matched pairwise:
 * cheaper than sorting for the small collections configuration items hold. */
#define PAIRWISE_LIMIT 16
/* Sorted member arrays up to this many members a side live on the stack. Maps recurse
 * (32 levels at most), so this stays small. */
#define STACK_MEMBERS 32

static bool same_bytes(as_span a, as_span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* ---- N ------------------------------------------------------------------------------ */

/* Parses an N or NS member. False only for text a decoded event would have refused. */
static bool number_of(const as_value *v, as_number *out)
{
    if (!(v->flags & AS_VALUE_TEXT_ESCAPED)) {
        return as_number_parse(v->text, out, NULL);
    }
    return as_number_parse_escaped(v->text, out);
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

/* The next four decoded characters of a B text, decoded; how many bytes they hold (0 at
 * the end). */
static size_t next_quantum(as_json_bytes *text, unsigned char out[3])
{
    char quad[4];
    for (int i = 0; i < 4; i++) {
        int c = as_json_bytes_next(text);
        if (c < 0) {
            return 0;
        }
        quad[i] = (char)c;
    }
    return as_base64_quantum(quad, out);
}

/* Byte order of the decoded bytes. Two texts of the same bytes can differ in their
 * escapes and in the unused bits of a padded quantum ("QR==" is "QQ=="). */
int as_binary_cmp(const as_value *a, const as_value *b)
{
    as_json_bytes ra = as_json_bytes_of(a->text, (a->flags & AS_VALUE_TEXT_ESCAPED) != 0);
    as_json_bytes rb = as_json_bytes_of(b->text, (b->flags & AS_VALUE_TEXT_ESCAPED) != 0);
    for (;;) {
        unsigned char qa[3];
        unsigned char qb[3];
        size_t na = next_quantum(&ra, qa);
        size_t nb = next_quantum(&rb, qb);
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
    case AS_TYPE_B: return as_binary_cmp(a, b);
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

/* Members [x, x_end) and [y, y_end), `count` a side, sorted and compared in order:
 * how large sets and maps out of order are matched in O(n log n). */
typedef struct sorted_match {
    int (*order)(const void *, const void *);         /* qsort order of two `const as_value *` */
    bool (*same)(const as_value *, const as_value *); /* members in the same place match */
    /* The fallback when the heap cannot hold the sort: slower, never wrong. */
    bool (*pairwise)(const as_value *, const as_value *, const as_value *, const as_value *);
} sorted_match;

static bool match_sorted(const sorted_match *how, const as_value *x, const as_value *x_end,
                         const as_value *y, const as_value *y_end, size_t count)
{
    const as_value *stack[2 * STACK_MEMBERS];
    const as_value **p = stack;
    if (count > STACK_MEMBERS) {
        p = count <= SIZE_MAX / 2 / sizeof *p ? malloc(2 * count * sizeof *p) : NULL;
        if (p == NULL) {
            return how->pairwise(x, x_end, y, y_end);
        }
    }
    size_t n = 0;
    for (const as_value *e = x; e < x_end; e += e->subtree) {
        p[n++] = e;
    }
    for (const as_value *e = y; e < y_end; e += e->subtree) {
        p[n++] = e;
    }
    qsort(p, count, sizeof *p, how->order);
    qsort(p + count, count, sizeof *p, how->order);
    bool equal = true;
    for (size_t i = 0; i < count && equal; i++) {
        equal = how->same(p[i], p[count + i]);
    }
    if (p != stack) {
        free(p);
    }
    return equal;
}

static bool members_same(const as_value *a, const as_value *b)
{
    return member_cmp(a, b) == 0;
}

/* members_match_pairwise over the bounds match_sorted works with (members are single
 * values: the count is the distance). */
static bool members_pairwise(const as_value *x, const as_value *x_end, const as_value *y,
                             const as_value *y_end)
{
    (void)y_end;
    return members_match_pairwise(x, y, (size_t)(x_end - x));
}

static const sorted_match SET_MEMBERS = {member_ptr_cmp, members_same, members_pairwise};

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
    return match_sorted(&SET_MEMBERS, x, x + left, y, y + left, left);
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

static bool entries_same(const as_value *a, const as_value *b)
{
    return names_equal(a, b) && as_value_equal(a, b);
}

static const sorted_match MAP_ENTRIES = {name_ptr_cmp, entries_same, entries_match_pairwise};

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
    return match_sorted(&MAP_ENTRIES, x, x_end, y, y_end, left);
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
    case AS_TYPE_B: return as_binary_cmp(a, b) == 0;
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
    as_error *err; /* the caller's, while a diff runs */
};

/* The message of every allocation failure here: "out of memory diffing images". */
#define DIFFING "diffing images"

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
    if (changes == NULL || index >= changes->count) {
        return NULL;
    }
    return &changes->items[index];
}

/* Appends a change whose path is paths[path_start..]. Its pointer is set once the
 * diff is over and `paths` has stopped moving. */
static AS_RESULT push_change(as_changes *out, size_t path_start, as_span top_name,
                             const as_value *old_value, const as_value *new_value)
{
    /* The path's bytes are final once they are known to be whole. */
    AS_GUARD(as_buf_result(&out->paths, out->err, DIFFING));
    if (out->count == out->cap) {
        size_t cap = out->cap < 16 ? 16 : out->cap * 2;
        AS_ENSURE(cap <= SIZE_MAX / sizeof *out->items, as_fail_nomem(out->err, DIFFING));
        as_change *items = realloc(out->items, cap * sizeof *items);
        AS_ENSURE(items != NULL, as_fail_nomem(out->err, DIFFING));
        out->items = items;
        out->cap = cap;
    }
    as_change *c = &out->items[out->count++];
    c->path.ptr = NULL;
    c->path.len = out->paths.len - path_start;
    c->top_name = top_name;
    c->old_value = old_value;
    c->new_value = new_value;
    return AS_RESULT_OK;
}

/* Pushes the members of `map` (NULL: none) sorted by decoded name; *at is where. */
static AS_RESULT push_sorted(as_changes *out, const as_value *map, size_t *at)
{
    size_t count = map != NULL ? map->count : 0;
    if (out->sorted_cap - out->sorted_len < count) {
        size_t cap = out->sorted_cap < 64 ? 64 : out->sorted_cap;
        while (cap - out->sorted_len < count) {
            AS_ENSURE(cap <= SIZE_MAX / 2 / sizeof *out->sorted, as_fail_nomem(out->err, DIFFING));
            cap *= 2;
        }
        const as_value **sorted = realloc(out->sorted, cap * sizeof *sorted);
        AS_ENSURE(sorted != NULL, as_fail_nomem(out->err, DIFFING));
        out->sorted = sorted;
        out->sorted_cap = cap;
    }
    *at = out->sorted_len;
    if (count == 0) {
        return AS_RESULT_OK; /* nothing to add, and `sorted` may not exist yet */
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
    return AS_RESULT_OK;
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
static AS_RESULT merge_start(as_changes *out, const as_value *old_map, const as_value *new_map,
                             member_merge *m)
{
    AS_GUARD(push_sorted(out, old_map, &m->old_at));
    AS_GUARD(push_sorted(out, new_map, &m->new_at));
    m->old_count = m->new_at - m->old_at;
    m->new_count = out->sorted_len - m->new_at;
    m->old_next = 0;
    m->new_next = 0;
    return AS_RESULT_OK;
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

/* Appends the decoded `name` to the pointer as one RFC 6901 reference token. */
static AS_RESULT append_token(as_changes *out, const as_value *entry)
{
    as_span bytes = entry->name;
    if (entry->flags & AS_VALUE_NAME_ESCAPED) {
        as_buf_clear(&out->name);
        as_json_append_unescaped(&out->name, entry->name);
        AS_GUARD(as_buf_result(&out->name, out->err, DIFFING));
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
    return AS_RESULT_OK;
}

static AS_RESULT record_at_pointer(as_changes *out, as_span top_name, const as_value *old_value,
                                   const as_value *new_value)
{
    /* The pointer becomes a change's path: it must be whole. */
    AS_GUARD(as_buf_result(&out->pointer, out->err, DIFFING));
    size_t start = out->paths.len;
    as_buf_append(&out->paths, out->pointer.data, out->pointer.len);
    return push_change(out, start, top_name, old_value, new_value);
}

static AS_RESULT diff_value(as_changes *out, as_span top_name, const as_value *old_value,
                            const as_value *new_value);

/* The union of both maps' names in byte order; each name's values compared at
 * <pointer>/<name>. */
static AS_RESULT diff_map(as_changes *out, as_span top_name, const as_value *old_map,
                          const as_value *new_map)
{
    size_t base = out->sorted_len;
    size_t mark = out->pointer.len;
    member_merge merge;
    AS_GUARD(merge_start(out, old_map, new_map, &merge));
    const as_value *old_value;
    const as_value *new_value;
    while (merge_next(out, &merge, &old_value, &new_value)) {
        as_buf_truncate(&out->pointer, mark);
        AS_GUARD(append_token(out, old_value != NULL ? old_value : new_value));
        AS_GUARD(diff_value(out, top_name, old_value, new_value));
    }
    as_buf_truncate(&out->pointer, mark);
    out->sorted_len = base;
    return AS_RESULT_OK;
}

/* Indices 0 .. max(counts)-1 ascending, a missing element NULL. */
static AS_RESULT diff_list(as_changes *out, as_span top_name, const as_value *old_list,
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
        as_buf_truncate(&out->pointer, mark);
        as_buf_append_char(&out->pointer, '/');
        as_buf_append_u64(&out->pointer, index);
        AS_GUARD(diff_value(out, top_name, old_value, new_value));
        x += old_value != NULL ? x->subtree : 0;
        y += new_value != NULL ? y->subtree : 0;
    }
    as_buf_truncate(&out->pointer, mark);
    return AS_RESULT_OK;
}

static as_result diff_value(as_changes *out, as_span top_name, const as_value *old_value,
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
        return AS_RESULT_OK;
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
static AS_RESULT diff_top(as_changes *out, const as_value *old_image, const as_value *new_image,
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
            as_buf_truncate(&out->pointer, 0);
            AS_GUARD(append_token(out, entry));
            AS_GUARD(diff_value(out, entry->name, old_value, new_value));
            continue;
        }
        if (old_value != NULL && new_value != NULL && as_value_equal(old_value, new_value)) {
            continue;
        }
        size_t start = out->paths.len;
        if (entry->flags & AS_VALUE_NAME_ESCAPED) {
            as_json_append_unescaped(&out->paths, entry->name);
        } else {
            as_buf_append_span(&out->paths, entry->name);
        }
        AS_GUARD(push_change(out, start, entry->name, old_value, new_value));
    }
    return AS_RESULT_OK;
}

/* as_diff_images' work, its arguments checked and `out` emptied. */
static AS_RESULT diff_images(const as_value *old_image, const as_value *new_image,
                             as_diff_mode mode, const as_span *ignore, size_t ignore_count,
                             as_changes *out)
{
    /* Storage for the paths even when all are empty, so no path has a NULL pointer. */
    AS_ENSURE(as_buf_reserve(&out->paths, 1) == AS_OK && as_buf_reserve(&out->pointer, 1) == AS_OK,
              as_fail_nomem(out->err, DIFFING));
    AS_GUARD(diff_top(out, old_image, new_image, mode, ignore, ignore_count));
    /* `paths` moved as it grew: the changes point into it only now. */
    AS_GUARD(as_buf_result(&out->paths, out->err, DIFFING));
    size_t offset = 0;
    for (size_t i = 0; i < out->count; i++) {
        out->items[i].path.ptr = out->paths.data + offset;
        offset += out->items[i].path.len;
    }
    return AS_RESULT_OK;
}

as_status as_diff_images(const as_value *old_image, const as_value *new_image, as_diff_mode mode,
                         const as_span *ignore, size_t ignore_count, as_changes *out, as_error *err)
{
    if (out == NULL || (ignore == NULL && ignore_count > 0) ||
        (mode != AS_DIFF_TOP && mode != AS_DIFF_DEEP)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_diff_images: invalid argument"));
    }
    out->count = 0;
    out->sorted_len = 0;
    as_buf_clear(&out->paths);
    as_buf_clear(&out->pointer);
    as_buf_clear(&out->name);
    out->err = err;
    as_result result = diff_images(old_image, new_image, mode, ignore, ignore_count, out);
    out->err = NULL;
    if (!as_result_is_ok(result)) {
        out->count = 0; /* no half list */
    }
    return as_status_of(result);
}
