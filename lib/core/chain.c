/* The hash chain's pure parts (auditstream/chain.h): record digests over canonical forms,
 * links, the chain fields added to an item, and the head item written and read back. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auditstream/wire.h"
#include "core/canonical.h"
#include "core/chain.h"
#include "core/hex.h"
#include "core/ids.h"
#include "core/isotime.h"
#include "core/json_text.h"
#include "core/number.h"

#define DIGESTING "computing a record digest"

static const char zeros64[AS_CHAIN_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

void as_chain_head_init(as_chain_head *head)
{
    if (head == NULL) {
        return;
    }
    memset(head, 0, sizeof *head);
    memcpy(head->chain, zeros64, sizeof head->chain);
    memset(head->seq, '0', AS_CHAIN_SEQ_LEN);
    head->seq[AS_CHAIN_SEQ_LEN] = '\0';
}

bool as_chain_is_hex(const char *text, size_t len)
{
    if (len != AS_CHAIN_HEX_LEN) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
    }
    return true;
}

as_status as_chain_seq_pad(as_span sequence_number, char out[AS_CHAIN_SEQ_LEN + 1], as_error *err)
{
    if (out == NULL || (sequence_number.ptr == NULL && sequence_number.len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_chain_seq_pad: NULL argument"));
    }
    size_t n = sequence_number.len;
    if (n == 0 || n > AS_CHAIN_SEQ_LEN || !all_digits(sequence_number.ptr, n)) {
        int shown = n > 64 ? 64 : (int)n;
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0,
                                    "sequence number \"%.*s%s\" is not 1 to 40 digits", shown,
                                    n > 0 ? sequence_number.ptr : "", n > 64 ? "..." : ""));
    }
    memset(out, '0', AS_CHAIN_SEQ_LEN - n);
    memcpy(out + AS_CHAIN_SEQ_LEN - n, sequence_number.ptr, n);
    out[AS_CHAIN_SEQ_LEN] = '\0';
    return AS_OK;
}

/* ---- The record digest -------------------------------------------------------------- */

bool as_chain_is_field(const as_value *member, void *ctx)
{
    (void)ctx;
    static const char *const names[] = {"chainPrev", "chain", "chainPrevTime"};
    bool escaped = (member->flags & AS_VALUE_NAME_ESCAPED) != 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (as_json_string_equals(member->name, escaped, names[i], strlen(names[i]))) {
            return true;
        }
    }
    return false;
}

void as_chain_digester_free(as_chain_digester *d)
{
    if (d == NULL) {
        return;
    }
    as_buf_free(&d->ids);
    as_buf_free(&d->forms);
    free(d->items);
    memset(d, 0, sizeof *d);
}

void as_chain_digester_reset(as_chain_digester *d)
{
    as_buf_clear(&d->ids);
    as_buf_clear(&d->forms);
    d->count = 0;
}

as_result as_chain_digester_add(as_chain_digester *d, const as_value *item, size_t index,
                                as_error *err)
{
    AS_ENSURE(item != NULL && item->type == AS_TYPE_M,
              as_fail(err, AS_ERR_ARGUMENT, 0, "item %zu is not a map", index));
    const as_value *id = as_wire_attribute(item, "id");
    AS_ENSURE(id != NULL && id->type == AS_TYPE_S,
              as_fail(err, AS_ERR_ARGUMENT, 0, "item %zu has no id of type S", index));
    if (d->count == d->cap) {
        size_t cap = d->cap < 8 ? 8 : d->cap * 2;
        chain_form *items = realloc(d->items, cap * sizeof *items);
        AS_ENSURE(items != NULL, as_fail_nomem(err, DIGESTING));
        d->items = items;
        d->cap = cap;
    }
    chain_form *f = &d->items[d->count];
    f->id_at = d->ids.len;
    as_json_append_unescaped(&d->ids, id->text);
    f->id_len = d->ids.len - f->id_at;
    AS_GUARD(as_buf_result(&d->ids, err, DIGESTING));
    f->form_at = d->forms.len;
    as_result formed = as_canonical_image_without(item, as_chain_is_field, NULL, &d->forms);
    if (!as_result_is_ok(formed)) {
        if (formed.status == AS_ERR_NOMEM) {
            return as_fail_nomem(err, DIGESTING);
        }
        return as_fail(err, formed.status, 0, "item %zu: a value has no canonical form", index);
    }
    f->form_len = d->forms.len - f->form_at;
    d->count++;
    return AS_RESULT_OK;
}

/* The sort's view of one item, its spans final. */
typedef struct form_span {
    as_span id;
    as_span form;
} form_span;

static int form_order(const void *x, const void *y)
{
    const form_span *a = x;
    const form_span *b = y;
    int c = as_span_cmp(a->id, b->id);
    return c != 0 ? c : as_span_cmp(a->form, b->form);
}

/* SHA-256 of the sorted forms; any libcrypto failure is taken for want of memory. */
static AS_RESULT hash_forms(const form_span *spans, size_t n, uint8_t digest[32], as_error *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    AS_ENSURE(ctx != NULL, as_fail_nomem(err, DIGESTING));
    bool done = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; i < n && done; i++) {
        if (i > 0 && form_order(&spans[i - 1], &spans[i]) == 0) {
            continue; /* the same item given twice */
        }
        done = EVP_DigestUpdate(ctx, spans[i].form.ptr, spans[i].form.len) == 1 &&
               EVP_DigestUpdate(ctx, "\n", 1) == 1;
    }
    unsigned int len = 0;
    done = done && EVP_DigestFinal_ex(ctx, digest, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    AS_ENSURE(done, as_fail_nomem(err, DIGESTING));
    return AS_RESULT_OK;
}

as_result as_chain_digester_finish(as_chain_digester *d, uint8_t digest[32], as_error *err)
{
    AS_ENSURE(d->count > 0, as_fail(err, AS_ERR_ARGUMENT, 0, "a record digest needs an item"));
    form_span stack[8];
    form_span *spans = stack;
    if (d->count > sizeof stack / sizeof stack[0]) {
        spans = malloc(d->count * sizeof *spans);
        AS_ENSURE(spans != NULL, as_fail_nomem(err, DIGESTING));
    }
    for (size_t i = 0; i < d->count; i++) {
        const chain_form *f = &d->items[i];
        spans[i].id = (as_span){d->ids.data + f->id_at, f->id_len};
        spans[i].form = (as_span){d->forms.data + f->form_at, f->form_len};
    }
    qsort(spans, d->count, sizeof *spans, form_order);
    as_result result = hash_forms(spans, d->count, digest, err);
    if (spans != stack) {
        free(spans);
    }
    return result;
}

static AS_RESULT record_digest(as_chain_digester *d, const as_span *items, size_t count,
                               uint8_t digest[32], as_error *err)
{
    AS_ENSURE(count > 0, as_fail(err, AS_ERR_ARGUMENT, 0, "a record digest needs an item"));
    for (size_t i = 0; i < count; i++) {
        AS_ENSURE(items[i].ptr != NULL || items[i].len == 0,
                  as_fail(err, AS_ERR_ARGUMENT, 0, "item %zu is NULL", i));
        as_wire_items *w = NULL;
        as_error inner = {0};
        as_status st = as_wire_decode(items[i].ptr, items[i].len, AS_WIRE_ITEM, &w, &inner);
        as_result added = AS_RESULT_OK;
        if (st != AS_OK) {
            added = st == AS_ERR_NOMEM
                        ? as_fail_nomem(err, DIGESTING)
                        : as_fail(err, st, inner.offset, "item %zu: %s", i, inner.message);
        } else {
            added = as_chain_digester_add(d, as_wire_item(w, 0), i, err);
        }
        as_wire_items_free(w);
        AS_GUARD(added);
    }
    return as_chain_digester_finish(d, digest, err);
}

as_status as_chain_record_digest(const as_span *items, size_t count, uint8_t digest[32],
                                 as_error *err)
{
    if (items == NULL || digest == NULL) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_chain_record_digest: NULL argument"));
    }
    as_chain_digester d = {0};
    as_result result = record_digest(&d, items, count, digest, err);
    as_chain_digester_free(&d);
    return as_status_of(result);
}

/* ---- Links -------------------------------------------------------------------------- */

as_status as_chain_compute(const char prev[AS_CHAIN_HEX_LEN + 1], const uint8_t digest[32],
                           char out[AS_CHAIN_HEX_LEN + 1], as_error *err)
{
    if (prev == NULL || digest == NULL || out == NULL) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_chain_compute: NULL argument"));
    }
    char text[2 * AS_CHAIN_HEX_LEN];
    memcpy(text, prev, AS_CHAIN_HEX_LEN);
    as_hex_encode(digest, 32, false, text + AS_CHAIN_HEX_LEN);
    as_result hashed = as_sha256_hex(NULL, text, sizeof text, out, err);
    out[AS_CHAIN_HEX_LEN] = '\0';
    return as_status_of(hashed);
}

as_status as_chain_advance(as_chain_head *head, const uint8_t digest[32], const char *seq,
                           const char *time, as_chain_link *link, as_error *err)
{
    if (head == NULL || digest == NULL || time == NULL || link == NULL) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_chain_advance: NULL argument"));
    }
    as_chain_link next;
    const char *prev = head->exists ? head->chain : zeros64;
    memcpy(next.prev, prev, sizeof next.prev);
    next.prev[AS_CHAIN_HEX_LEN] = '\0';
    if (head->exists) {
        memcpy(next.prev_time, head->time, sizeof next.prev_time);
        next.prev_time[AS_CHAIN_TIME_LEN] = '\0';
    } else {
        next.prev_time[0] = '\0';
    }
    as_status st = as_chain_compute(next.prev, digest, next.chain, err);
    if (st != AS_OK) {
        return st;
    }
    *link = next;
    memcpy(head->chain, next.chain, sizeof head->chain);
    size_t tlen = strnlen(time, AS_CHAIN_TIME_LEN);
    memcpy(head->time, time, tlen);
    head->time[tlen] = '\0';
    if (seq != NULL) {
        size_t slen = strnlen(seq, AS_CHAIN_SEQ_LEN);
        memcpy(head->seq, seq, slen);
        head->seq[slen] = '\0';
    }
    head->entries++;
    head->exists = true;
    return AS_OK;
}

static void append_s(as_buf *out, const char *name, const char *value, size_t len)
{
    as_buf_append_char(out, '"');
    as_buf_append_str(out, name);
    as_buf_append(out, "\":{\"S\":\"", 8);
    as_buf_append_json_escaped(out, value, len);
    as_buf_append(out, "\"}", 2);
}

as_status as_chain_item_append(as_span item, const as_chain_link *link, as_buf *out, as_error *err)
{
    if (link == NULL || out == NULL || (item.ptr == NULL && item.len > 0)) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_chain_item_append: NULL argument"));
    }
    if (item.len < 2 || item.ptr[0] != '{' || item.ptr[item.len - 1] != '}') {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0,
                                    "as_chain_item_append: the item is not a JSON object's text"));
    }
    size_t start = out->len;
    as_buf_append(out, item.ptr, item.len - 1);
    if (item.len > 2) {
        as_buf_append_char(out, ',');
    }
    append_s(out, "chainPrev", link->prev, strnlen(link->prev, AS_CHAIN_HEX_LEN));
    as_buf_append_char(out, ',');
    append_s(out, "chain", link->chain, strnlen(link->chain, AS_CHAIN_HEX_LEN));
    if (link->prev_time[0] != '\0') {
        as_buf_append_char(out, ',');
        append_s(out, "chainPrevTime", link->prev_time,
                 strnlen(link->prev_time, AS_CHAIN_TIME_LEN));
    }
    as_buf_append_char(out, '}');
    if (as_buf_status(out) != AS_OK) {
        as_buf_truncate(out, start);
        return as_status_of(as_fail_nomem(err, "adding the chain fields to an item"));
    }
    return AS_OK;
}

/* ---- Heads -------------------------------------------------------------------------- */

static AS_RESULT head_id(as_span key, char out[37], as_error *err)
{
    AS_ENSURE(key.len > 0, as_fail(err, AS_ERR_ARGUMENT, 0, "a chain head needs a historyKey"));
    AS_ENSURE(key.len <= SIZE_MAX - 6,
              as_fail(err, AS_ERR_LIMIT, 0, "historyKey too long for a chain head"));
    char *name = malloc(key.len + 6);
    AS_ENSURE(name != NULL, as_fail_nomem(err, "naming a chain head"));
    memcpy(name, "chain/", 6);
    memcpy(name + 6, key.ptr, key.len);
    as_result made = as_uuid5(NULL, as_audit_namespace, name, key.len + 6, out, err);
    free(name);
    out[AS_UUID_TEXT_LEN] = '\0';
    return made;
}

as_status as_chain_head_id(as_span history_key, char out[37], as_error *err)
{
    if (out == NULL || (history_key.ptr == NULL && history_key.len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_chain_head_id: NULL argument"));
    }
    return as_status_of(head_id(history_key, out, err));
}

as_status as_chain_head_item(as_span history_key, const as_chain_head *head, as_buf *out,
                             as_error *err)
{
    if (head == NULL || out == NULL || (history_key.ptr == NULL && history_key.len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_chain_head_item: NULL argument"));
    }
    if (!head->exists) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_chain_head_item: the head does not exist"));
    }
    char id[37];
    as_status st = as_status_of(head_id(history_key, id, err));
    if (st != AS_OK) {
        return st;
    }
    size_t start = out->len;
    as_buf_append_char(out, '{');
    append_s(out, "id", id, AS_UUID_TEXT_LEN);
    as_buf_append_char(out, ',');
    append_s(out, "chainOf", history_key.ptr, history_key.len);
    as_buf_append_char(out, ',');
    append_s(out, "chain", head->chain, strnlen(head->chain, AS_CHAIN_HEX_LEN));
    as_buf_append_char(out, ',');
    append_s(out, "chainSeq", head->seq, strnlen(head->seq, AS_CHAIN_SEQ_LEN));
    as_buf_append_char(out, ',');
    append_s(out, "chainTime", head->time, strnlen(head->time, AS_CHAIN_TIME_LEN));
    as_buf_append_str(out, ",\"entries\":{\"N\":\"");
    as_buf_append_u64(out, head->entries);
    as_buf_append_str(out, "\"}}");
    if (as_buf_status(out) != AS_OK) {
        as_buf_truncate(out, start);
        return as_status_of(as_fail_nomem(err, "writing a chain head"));
    }
    return AS_OK;
}

/* The decoded bytes of the head's S attribute `name` appended to `scratch`: *at, *len. */
static AS_RESULT head_string(const as_value *item, const char *name, as_buf *scratch, size_t *at,
                             size_t *len, as_error *err)
{
    const as_value *v = as_wire_attribute(item, name);
    AS_ENSURE(v != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "chain head: %s is missing", name));
    AS_ENSURE(v->type == AS_TYPE_S,
              as_fail(err, AS_ERR_ARGUMENT, 0, "chain head: %s has type %s, not S", name,
                      as_type_name(v->type)));
    *at = scratch->len;
    as_json_append_unescaped(scratch, v->text);
    *len = scratch->len - *at;
    return as_buf_result(scratch, err, "reading a chain head");
}

/* A whole number from 1 to UINT64_MAX in any spelling DynamoDB may give it. */
static bool whole_number(const as_value *v, uint64_t *out)
{
    as_number n;
    bool parsed = (v->flags & AS_VALUE_TEXT_ESCAPED) != 0 ? as_number_parse_escaped(v->text, &n)
                                                          : as_number_parse(v->text, &n, NULL);
    if (!parsed || n.sign <= 0 || n.exponent < (int)n.ndigits || n.exponent > 20) {
        return false;
    }
    uint64_t value = 0;
    for (int i = 0; i < n.exponent; i++) {
        unsigned d = i < (int)n.ndigits ? (unsigned)(n.digits[i] - '0') : 0u;
        if (value > (UINT64_MAX - d) / 10) {
            return false;
        }
        value = value * 10 + d;
    }
    *out = value;
    return true;
}

/* "..."-cut quote of decoded bytes for a message. */
#define SHOWN(len) ((int)((len) > 64 ? 64 : (len)))

static AS_RESULT head_parse(const as_value *item, as_chain_head *head, as_buf *scratch,
                            as_span *history_key, as_error *err)
{
    size_t key_at, key_len, id_at, id_len, chain_at, chain_len, seq_at, seq_len, time_at, time_len;
    AS_GUARD(head_string(item, "chainOf", scratch, &key_at, &key_len, err));
    AS_ENSURE(key_len > 0, as_fail(err, AS_ERR_ARGUMENT, 0, "chain head: chainOf is empty"));
    AS_GUARD(head_string(item, "id", scratch, &id_at, &id_len, err));
    AS_GUARD(head_string(item, "chain", scratch, &chain_at, &chain_len, err));
    AS_GUARD(head_string(item, "chainSeq", scratch, &seq_at, &seq_len, err));
    AS_GUARD(head_string(item, "chainTime", scratch, &time_at, &time_len, err));
    const char *base = scratch->data;
    as_span key = {base + key_at, key_len};
    char want[37];
    AS_GUARD(head_id(key, want, err));
    AS_ENSURE(id_len == AS_UUID_TEXT_LEN && memcmp(base + id_at, want, id_len) == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "chain head: id \"%.*s\" is not the head id of its chainOf (%s)",
                      SHOWN(id_len), base + id_at, want));
    AS_ENSURE(as_chain_is_hex(base + chain_at, chain_len),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "chain head: chain \"%.*s\" is not 64 lower-case hex digits",
                      SHOWN(chain_len), base + chain_at));
    AS_ENSURE(seq_len == AS_CHAIN_SEQ_LEN && all_digits(base + seq_at, seq_len),
              as_fail(err, AS_ERR_ARGUMENT, 0, "chain head: chainSeq \"%.*s\" is not 40 digits",
                      SHOWN(seq_len), base + seq_at));
    int64_t ms;
    AS_ENSURE(time_len == AS_CHAIN_TIME_LEN &&
                  as_iso_time_parse((as_span){base + time_at, time_len}, true, &ms),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "chain head: chainTime \"%.*s\" is not a time like "
                      "2024-05-01T12:30:45.000Z",
                      SHOWN(time_len), base + time_at));
    const as_value *entries = as_wire_attribute(item, "entries");
    AS_ENSURE(entries != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "chain head: entries is missing"));
    AS_ENSURE(entries->type == AS_TYPE_N,
              as_fail(err, AS_ERR_ARGUMENT, 0, "chain head: entries has type %s, not N",
                      as_type_name(entries->type)));
    uint64_t count;
    AS_ENSURE(whole_number(entries, &count),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "chain head: entries \"%.*s\" is not a whole number from 1 up",
                      SHOWN(entries->text.len), entries->text.ptr));
    head->exists = true;
    memcpy(head->chain, base + chain_at, AS_CHAIN_HEX_LEN);
    head->chain[AS_CHAIN_HEX_LEN] = '\0';
    memcpy(head->seq, base + seq_at, AS_CHAIN_SEQ_LEN);
    head->seq[AS_CHAIN_SEQ_LEN] = '\0';
    memcpy(head->time, base + time_at, AS_CHAIN_TIME_LEN);
    head->time[AS_CHAIN_TIME_LEN] = '\0';
    head->entries = count;
    *history_key = key;
    return AS_RESULT_OK;
}

as_status as_chain_head_parse(as_span item, as_chain_head *head, as_buf *scratch,
                              as_span *history_key, as_error *err)
{
    if (head == NULL || scratch == NULL || history_key == NULL ||
        (item.ptr == NULL && item.len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_chain_head_parse: NULL argument"));
    }
    as_buf_clear(scratch);
    as_wire_items *w = NULL;
    as_status st = as_wire_decode(item.ptr, item.len, AS_WIRE_ITEM, &w, err);
    if (st != AS_OK) {
        return st;
    }
    as_result result = head_parse(as_wire_item(w, 0), head, scratch, history_key, err);
    as_wire_items_free(w);
    return as_status_of(result);
}
