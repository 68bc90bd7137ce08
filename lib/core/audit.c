/* The audit item builder: turns decoded records into DynamoDB wire JSON, copying the
 * record's spans into one output buffer, and keeps every item within DynamoDB's limits. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "auditstream/audit.h"
#include "auditstream/buf.h"
#include "auditstream/diff.h"
#include "core/canonical.h"
#include "core/cursor.h"
#include "core/hex.h"
#include "core/ids.h"
#include "core/internal.h"
#include "core/isotime.h"
#include "core/json_text.h"
#include "core/number.h"
#include "core/value_json.h"

/* The message of every allocation failure here: "out of memory building audit items". */
#define BUILDING "building audit items"

/* Items hold at most this many top-level attributes (detailed: 14), with room for the
 * optional fields the format plans (actor, retention, chain). */
#define MAX_ATTRS 24

/* historySort's sequence number is left-padded with '0' to this many digits. */
#define SEQUENCE_DIGITS 40

/* DynamoDB's limits on a global secondary index's key values: an item whose index key
 * is longer is refused whole (ValidationException), on every retry. */
#define INDEX_HASH_MAX  2048u
#define INDEX_RANGE_MAX 1024u

/* An S attribute's body inside an item: from the item's start, for as_item's spans. */
typedef struct body_at {
    size_t off;
    size_t len;
} body_at;

typedef struct item_slot {
    size_t json_off;
    size_t json_len;
    size_t record;
    uint32_t flags;
    uint64_t size;
    size_t reason_off;
    size_t reason_len;
    body_at id;
    body_at history_key;
    body_at history_sort;
    body_at modification_time;
} item_slot;

/* A redacted value of the record: an image's top-level member and its marker, written
 * once per record (its HMAC is the costly part) wherever the value appears. */
typedef struct mark {
    const as_value *value;
    size_t off; /* the marker's JSON in as_items.mark_text */
    size_t len;
} mark;

/* The redaction marker, {"M":{"redacted":{"BOOL":true}}} with "hmac" added when keyed,
 * and its DynamoDB size: 3 for the map, then name + value + 1 per entry ("redacted" a
 * BOOL of 1 byte, "hmac" 64 hex characters). */
#define MARK_HEAD       "{\"M\":{\"redacted\":{\"BOOL\":true}"
#define MARK_HMAC       ",\"hmac\":{\"S\":\""
#define MARK_SIZE_PLAIN (3u + 8u + 1u + 1u)
#define MARK_SIZE_HMAC  (MARK_SIZE_PLAIN + 4u + AS_SHA256_HEX_LEN + 1u)

/* The actor of a TTL delete, whatever the options say: DynamoDB's own principal. */
#define TTL_PRINCIPAL "dynamodb.amazonaws.com"

/* A top-level attribute of the item being written, for the size guard. */
typedef struct attr_slot {
    const char *name; /* a literal: the builder names every attribute itself */
    size_t name_len;
    size_t value_off; /* into items->json */
    size_t value_len;
    uint64_t value_size;  /* DynamoDB's size of the value */
    bool protected_field; /* the common fields are never truncated */
} attr_slot;

struct as_items {
    as_buf json;
    item_slot *slots;
    size_t count;
    size_t cap;
    as_buf reasons;
    as_changes *changes;
    as_hasher *hasher;
    /* Per record: the decoded eventID (or SHA-256 name), itemKey value and time. */
    as_buf id_name;
    as_buf item_key;
    uint64_t item_key_size;
    bool has_item_key;
    char time_text[AS_ISO_TIME_LEN];
    bool has_time;
    bool processing_time;
    const char *event_word; /* CREATE, UPDATE, DELETE, BASELINE; NULL when unknown */
    as_buf table;           /* the table's name, decoded, when has_table */
    bool has_table;
    as_buf history_key; /* historyKey's S body (JSON-escaped), when has_history */
    uint64_t history_key_size;
    as_buf history_sort; /* historySort's S body (JSON-escaped) */
    uint64_t history_sort_size;
    bool has_history;
    /* The options' ignore list less the record's key attributes, which are never left
     * out; `ignore` holds ignore_cap spans. */
    as_span *ignore;
    size_t ignore_count;
    size_t ignore_cap;
    /* The same for the redact list, and the markers of the record's redacted values. */
    as_span *redact;
    size_t redact_count;
    size_t redact_cap;
    bool redacting;            /* the options name attributes to redact */
    const uint8_t *redact_key; /* NULL: markers carry no hmac */
    size_t redact_key_len;
    mark *marks;
    size_t mark_count;
    size_t mark_cap;
    as_buf mark_text;
    as_buf canon; /* a redacted value's canonical form, for its HMAC */
    /* BASELINE: the image as written (redacted values as their markers), for its id. */
    as_value *nodes;
    size_t node_cap;
    /* actor and actorSource of the record's items, when has_actor. */
    bool has_actor;
    as_span actor;
    bool actor_escaped;
    const char *actor_source;
    /* expiresAt, when retention_days is set and the item has a time. */
    uint32_t retention_days;
    uint64_t expires_at;
    /* Bytes under DynamoDB's 400 KB an item may take (less the options' reserve). */
    uint64_t size_limit;
    /* The item being written. */
    size_t item_start;
    attr_slot attrs[MAX_ATTRS];
    unsigned attr_count;
    as_buf scratch;
    const as_value **sorted;
    size_t sorted_cap;
};

as_status as_format_parse(const char *text, as_format *out)
{
    if (text != NULL && strcmp(text, "classic") == 0) {
        *out = AS_FORMAT_CLASSIC;
        return AS_OK;
    }
    if (text != NULL && strcmp(text, "detailed") == 0) {
        *out = AS_FORMAT_DETAILED;
        return AS_OK;
    }
    return AS_ERR_ARGUMENT;
}

as_items *as_items_new(void)
{
    as_items *items = calloc(1, sizeof *items);
    if (items == NULL) {
        return NULL;
    }
    items->changes = as_changes_new();
    items->hasher = as_hasher_new();
    if (items->changes == NULL || items->hasher == NULL) {
        as_items_free(items);
        return NULL;
    }
    return items;
}

void as_items_free(as_items *items)
{
    if (items == NULL) {
        return;
    }
    as_buf_free(&items->json);
    as_buf_free(&items->reasons);
    as_buf_free(&items->id_name);
    as_buf_free(&items->item_key);
    as_buf_free(&items->table);
    as_buf_free(&items->history_key);
    as_buf_free(&items->history_sort);
    as_buf_free(&items->scratch);
    as_buf_free(&items->mark_text);
    as_buf_free(&items->canon);
    as_changes_free(items->changes);
    as_hasher_free(items->hasher);
    free(items->slots);
    free(items->sorted);
    free(items->ignore);
    free(items->redact);
    free(items->marks);
    free(items->nodes);
    free(items);
}

void as_items_clear(as_items *items)
{
    if (items == NULL) {
        return;
    }
    as_buf_clear(&items->json);
    as_buf_clear(&items->reasons);
    items->count = 0;
}

size_t as_items_count(const as_items *items)
{
    return items != NULL ? items->count : 0;
}

/* An S body inside an item; empty when the item has no such attribute (len 0: no item
 * attribute the spans name can be empty). */
static as_span body_span(as_span json, body_at at)
{
    return at.len > 0 ? (as_span){json.ptr + at.off, at.len} : (as_span){NULL, 0};
}

as_item as_items_get(const as_items *items, size_t index)
{
    as_item item = {0};
    if (items == NULL || index >= items->count) {
        return item;
    }
    const item_slot *s = &items->slots[index];
    item.json = (as_span){items->json.data + s->json_off, s->json_len};
    item.record = s->record;
    item.flags = s->flags;
    item.size = s->size;
    item.reason = s->reason_len > 0 ? (as_span){items->reasons.data + s->reason_off, s->reason_len}
                                    : (as_span){NULL, 0};
    item.id = body_span(item.json, s->id);
    item.history_key = body_span(item.json, s->history_key);
    item.history_sort = body_span(item.json, s->history_sort);
    item.modification_time = body_span(item.json, s->modification_time);
    return item;
}

/* ---- Writing one item ------------------------------------------------------------ */

static void item_begin(as_items *items)
{
    items->item_start = items->json.len;
    items->attr_count = 0;
    as_buf_append_char(&items->json, '{');
}

/* Writes `"name":` and opens the attribute's slot; the value follows. */
static attr_slot *attr_begin(as_items *items, const char *name, bool protected_field)
{
    as_buf *out = &items->json;
    if (items->attr_count > 0) {
        as_buf_append_char(out, ',');
    }
    size_t name_len = strlen(name);
    as_buf_append_char(out, '"');
    as_buf_append(out, name, name_len);
    as_buf_append(out, "\":", 2);
    attr_slot *a = &items->attrs[items->attr_count++];
    a->name = name;
    a->name_len = name_len;
    a->value_off = out->len;
    a->protected_field = protected_field;
    a->value_size = 0;
    return a;
}

static void attr_end(as_items *items, attr_slot *a, uint64_t value_size)
{
    a->value_len = items->json.len - a->value_off;
    a->value_size = value_size;
}

/* An S attribute from raw bytes, JSON-escaped unless `plain` says they need no escape
 * (ids, times, fixed words). */
static void put_s(as_items *items, const char *name, bool protected_field, const char *bytes,
                  size_t len, bool plain)
{
    attr_slot *a = attr_begin(items, name, protected_field);
    as_buf_append(&items->json, "{\"S\":\"", 6);
    if (plain) {
        as_buf_append(&items->json, bytes, len);
    } else {
        as_buf_append_json_escaped(&items->json, bytes, len);
    }
    as_buf_append(&items->json, "\"}", 2);
    attr_end(items, a, len);
}

/* A protected S attribute from a body this file escaped, `size` its decoded length. */
static void put_s_escaped(as_items *items, const char *name, const as_buf *body, uint64_t size)
{
    attr_slot *a = attr_begin(items, name, true);
    as_buf_append(&items->json, "{\"S\":\"", 6);
    as_buf_append(&items->json, body->data, body->len);
    as_buf_append(&items->json, "\"}", 2);
    attr_end(items, a, size);
}

/* An S attribute from a string body as received (already JSON-escaped). */
static void put_s_body(as_items *items, const char *name, as_span body, bool escaped)
{
    attr_slot *a = attr_begin(items, name, false);
    as_buf_append(&items->json, "{\"S\":\"", 6);
    as_buf_append_span(&items->json, body);
    as_buf_append(&items->json, "\"}", 2);
    attr_end(items, a, escaped ? as_json_decoded_len(body) : body.len);
}

/* The marker standing for `v` when it is a redacted value of the record, else NULL. */
static const mark *find_mark(const as_items *items, const as_value *v)
{
    for (size_t i = 0; i < items->mark_count; i++) {
        if (items->marks[i].value == v) {
            return &items->marks[i];
        }
    }
    return NULL;
}

static uint64_t mark_size(const as_items *items)
{
    return items->redact_key != NULL ? MARK_SIZE_HMAC : MARK_SIZE_PLAIN;
}

/* A value as the trail holds it: its marker when redacted, else its wire JSON. */
static void append_audited(as_items *items, as_buf *out, const as_value *v)
{
    const mark *m = find_mark(items, v);
    if (m != NULL) {
        as_buf_append(out, items->mark_text.data + m->off, m->len);
    } else {
        as_value_append_wire(out, v);
    }
}

static uint64_t audited_size(const as_items *items, const as_value *v)
{
    return find_mark(items, v) != NULL ? mark_size(items) : v->size;
}

/* How deep the value nests as written: a marker is a map of scalars. */
static uint32_t audited_depth(const as_items *items, const as_value *v)
{
    return find_mark(items, v) != NULL ? 1 : v->depth;
}

static void put_value(as_items *items, const char *name, const as_value *v)
{
    attr_slot *a = attr_begin(items, name, false);
    append_audited(items, &items->json, v);
    attr_end(items, a, audited_size(items, v));
}

static uint64_t u64_number_size(uint64_t value);

/* An N attribute of a whole number. */
static void put_u64(as_items *items, const char *name, bool protected_field, uint64_t value)
{
    attr_slot *a = attr_begin(items, name, protected_field);
    as_buf_append(&items->json, "{\"N\":\"", 6);
    as_buf_append_u64(&items->json, value);
    as_buf_append(&items->json, "\"}", 2);
    attr_end(items, a, u64_number_size(value));
}

/* Writes the id, itemKey and modificationTime every item starts with. `suffix` is the
 * decoded attribute name or path for per-attribute ids, or NULL. */
static AS_RESULT put_common(as_items *items, const as_span *suffix, as_error *err)
{
    char uuid[AS_UUID_TEXT_LEN];
    if (suffix == NULL) {
        AS_GUARD(as_uuid5(items->hasher, as_audit_namespace, items->id_name.data,
                          items->id_name.len, uuid, err));
    } else {
        /* The id's name is "<eventID>/<attribute>": extend the record's name in place
         * and cut it back, rather than copy it per attribute. A name that could not be
         * extended must not be hashed: every attribute would get the record's id. */
        size_t base = items->id_name.len;
        as_buf_append_char(&items->id_name, '/');
        as_buf_append_span(&items->id_name, *suffix);
        AS_GUARD(as_buf_result(&items->id_name, err, BUILDING));
        as_result hashed = as_uuid5(items->hasher, as_audit_namespace, items->id_name.data,
                                    items->id_name.len, uuid, err);
        as_buf_truncate(&items->id_name, base);
        AS_GUARD(hashed);
    }
    put_s(items, "id", true, uuid, sizeof uuid, true);
    if (items->has_item_key) {
        attr_slot *a = attr_begin(items, "itemKey", true);
        as_buf_append(&items->json, items->item_key.data, items->item_key.len);
        attr_end(items, a, items->item_key_size);
    }
    if (items->has_time) {
        put_s(items, "modificationTime", true, items->time_text, AS_ISO_TIME_LEN, true);
    }
    if (items->event_word != NULL) {
        put_s(items, "eventName", true, items->event_word, strlen(items->event_word), true);
    }
    if (items->has_history) {
        put_s_escaped(items, "historyKey", &items->history_key, items->history_key_size);
        put_s_escaped(items, "historySort", &items->history_sort, items->history_sort_size);
    }
    /* The trust fields follow, protected like the rest: who and until when is what the
     * trail must keep when an item is cut to fit. */
    if (items->has_actor) {
        attr_slot *a = attr_begin(items, "actor", true);
        as_buf_append(&items->json, "{\"S\":\"", 6);
        as_buf_append_span(&items->json, items->actor);
        as_buf_append(&items->json, "\"}", 2);
        attr_end(items, a,
                 items->actor_escaped ? as_json_decoded_len(items->actor) : items->actor.len);
        put_s(items, "actorSource", true, items->actor_source, strlen(items->actor_source), true);
    }
    if (items->has_time && items->retention_days > 0) {
        put_u64(items, "expiresAt", true, items->expires_at);
    }
    return AS_RESULT_OK;
}

static uint64_t item_size(const as_items *items)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < items->attr_count; i++) {
        total += items->attrs[i].name_len + items->attrs[i].value_size;
    }
    return total;
}

/* DynamoDB's size of the replacement map: three entries, with 3 bytes of overhead and
 * 1 per entry, names counted. */
static uint64_t truncated_size(uint64_t size_bytes)
{
    uint64_t digits = 0;
    for (uint64_t v = size_bytes; v != 0 || digits == 0; v /= 10) {
        digits++;
    }
    uint64_t n_size = (digits + 1) / 2 + 1;
    return 3 + (strlen("truncated") + 1 + 1) + (strlen("sizeBytes") + n_size + 1) +
           (strlen("sha256") + AS_SHA256_HEX_LEN + 1);
}

static int attr_larger_first(const void *a, const void *b)
{
    const attr_slot *x = *(const attr_slot *const *)a;
    const attr_slot *y = *(const attr_slot *const *)b;
    return (x->value_size < y->value_size) - (x->value_size > y->value_size);
}

/* Replaces the largest values, largest first, until the item fits in 400 KB. The item
 * is rewritten into scratch and copied back over itself. */
static AS_RESULT shrink_item(as_items *items, uint64_t *size, as_error *err)
{
    attr_slot *order[MAX_ATTRS];
    unsigned n = 0;
    for (unsigned i = 0; i < items->attr_count; i++) {
        if (!items->attrs[i].protected_field) {
            order[n++] = &items->attrs[i];
        }
    }
    qsort(order, n, sizeof order[0], attr_larger_first);
    bool replace[MAX_ATTRS] = {false};
    uint64_t total = *size;
    for (unsigned k = 0; k < n && total > items->size_limit; k++) {
        attr_slot *a = order[k];
        replace[a - items->attrs] = true;
        total = total - a->value_size + truncated_size(a->value_size);
    }
    as_buf *s = &items->scratch;
    as_buf_clear(s);
    as_buf_append_char(s, '{');
    for (unsigned i = 0; i < items->attr_count; i++) {
        attr_slot *a = &items->attrs[i];
        const char *value = items->json.data + a->value_off;
        if (i > 0) {
            as_buf_append_char(s, ',');
        }
        as_buf_append_char(s, '"');
        as_buf_append(s, a->name, a->name_len);
        as_buf_append(s, "\":", 2);
        size_t value_off = s->len;
        if (replace[i]) {
            char hash[AS_SHA256_HEX_LEN];
            AS_GUARD(as_sha256_hex(items->hasher, value, a->value_len, hash, err));
            as_buf_append_str(s, "{\"M\":{\"truncated\":{\"BOOL\":true},\"sizeBytes\":{\"N\":\"");
            as_buf_append_u64(s, a->value_size);
            as_buf_append_str(s, "\"},\"sha256\":{\"S\":\"");
            as_buf_append(s, hash, sizeof hash);
            as_buf_append_str(s, "\"}}}");
            a->value_size = truncated_size(a->value_size);
        } else {
            as_buf_append(s, value, a->value_len);
        }
        a->value_len = s->len - value_off;
        a->value_off = items->item_start + value_off;
    }
    as_buf_append_char(s, '}');
    AS_GUARD(as_buf_result(s, err, BUILDING));
    as_buf_truncate(&items->json, items->item_start);
    as_buf_append(&items->json, s->data, s->len);
    *size = total;
    return AS_RESULT_OK;
}

static AS_RESULT item_end(as_items *items, size_t record, uint32_t flags, as_span reason,
                          as_error *err)
{
    as_buf_append_char(&items->json, '}');
    /* The item's bytes are read from here on (to shrink it, then as the result). */
    AS_GUARD(as_buf_result(&items->json, err, BUILDING));
    uint64_t size = item_size(items);
    if (size > items->size_limit) {
        AS_GUARD(shrink_item(items, &size, err));
        AS_GUARD(as_buf_result(&items->json, err, BUILDING));
        flags |= AS_ITEM_TRUNCATED;
    }
    if (items->count == items->cap) {
        size_t cap = items->cap < 16 ? 16 : items->cap * 2;
        item_slot *slots = realloc(items->slots, cap * sizeof *slots);
        AS_ENSURE(slots != NULL, as_fail_nomem(err, BUILDING));
        items->slots = slots;
        items->cap = cap;
    }
    item_slot *slot = &items->slots[items->count++];
    slot->json_off = items->item_start;
    slot->json_len = items->json.len - items->item_start;
    slot->record = record;
    slot->flags = flags | (items->processing_time ? AS_ITEM_PROCESSING_TIME : 0);
    slot->size = size;
    slot->reason_off = items->reasons.len;
    slot->reason_len = reason.len;
    slot->id = slot->history_key = slot->history_sort = slot->modification_time = (body_at){0, 0};
    for (unsigned i = 0; i < items->attr_count; i++) {
        const attr_slot *a = &items->attrs[i];
        body_at *at = strcmp(a->name, "id") == 0                 ? &slot->id
                      : strcmp(a->name, "historyKey") == 0       ? &slot->history_key
                      : strcmp(a->name, "historySort") == 0      ? &slot->history_sort
                      : strcmp(a->name, "modificationTime") == 0 ? &slot->modification_time
                                                                 : NULL;
        /* Each is {"S":"<body>"}, never cut (protected). */
        if (at != NULL && a->value_len >= 8) {
            *at = (body_at){a->value_off + 6 - items->item_start, a->value_len - 8};
        }
    }
    as_buf_append_span(&items->reasons, reason);
    as_result kept = as_buf_result(&items->reasons, err, BUILDING);
    if (!as_result_is_ok(kept)) {
        items->count--;
    }
    return kept;
}

/* ---- What every item of a record shares ------------------------------------------- */

static int name_order(const void *a, const void *b)
{
    const as_value *x = *(const as_value *const *)a;
    const as_value *y = *(const as_value *const *)b;
    return as_json_string_cmp(x->name, (x->flags & AS_VALUE_NAME_ESCAPED) != 0, y->name,
                              (y->flags & AS_VALUE_NAME_ESCAPED) != 0);
}

/* Appends a key attribute's plain value: S as its string body, N as its number text,
 * B as its base64 text. `quoted` wraps S and B in quotes (composite keys). */
static void append_key_value(as_buf *out, const as_value *k, bool quoted)
{
    bool escaped = (k->flags & AS_VALUE_TEXT_ESCAPED) != 0;
    bool quote = quoted && k->type != AS_TYPE_N;
    if (quote) {
        as_buf_append_char(out, '"');
    }
    if (k->type == AS_TYPE_S || !escaped) {
        as_buf_append_span(out, k->text);
    } else {
        /* N and B text is plain ASCII once an escape such as "\/" is decoded. */
        as_json_append_unescaped(out, k->text);
    }
    if (quote) {
        as_buf_append_char(out, '"');
    }
}

static AS_RESULT reserve_sorted(as_items *items, size_t n, as_error *err)
{
    if (n > items->sorted_cap) {
        const as_value **sorted = realloc(items->sorted, n * sizeof *sorted);
        AS_ENSURE(sorted != NULL, as_fail_nomem(err, BUILDING));
        items->sorted = sorted;
        items->sorted_cap = n;
    }
    return AS_RESULT_OK;
}

/* Sets items->item_key to the itemKey value ({"S":"..."}) of the `n` key attributes in
 * items->sorted (n >= 1), which it sorts by name. */
static AS_RESULT derive_item_key(as_items *items, size_t n, as_error *err)
{
    as_buf *out = &items->item_key;
    as_buf_clear(out);
    as_buf_append(out, "{\"S\":\"", 6);
    size_t body = out->len;
    if (n == 1) {
        append_key_value(out, items->sorted[0], false);
    } else {
        qsort(items->sorted, n, sizeof items->sorted[0], name_order);
        /* The composite is compact JSON text, then escaped once more as the S body. */
        as_buf *json = &items->scratch;
        as_buf_clear(json);
        as_buf_append_char(json, '{');
        for (size_t i = 0; i < n; i++) {
            if (i > 0) {
                as_buf_append_char(json, ',');
            }
            as_buf_append_char(json, '"');
            as_buf_append_span(json, items->sorted[i]->name);
            as_buf_append(json, "\":", 2);
            append_key_value(json, items->sorted[i], true);
        }
        as_buf_append_char(json, '}');
        AS_GUARD(as_buf_result(json, err, BUILDING));
        as_buf_append_json_escaped(out, json->data, json->len);
    }
    size_t body_len = out->len - body;
    as_buf_append(out, "\"}", 2);
    AS_GUARD(as_buf_result(out, err, BUILDING));
    as_span body_span = {out->data + body, body_len};
    items->item_key_size = as_json_decoded_len(body_span);
    items->has_item_key = true;
    return AS_RESULT_OK;
}

/* The itemKey of a record's Keys; none when they are NULL (unsound) or empty. */
static AS_RESULT record_item_key(as_items *items, const as_value *keys, as_error *err)
{
    items->has_item_key = false;
    if (keys == NULL || keys->count == 0) {
        return AS_RESULT_OK;
    }
    AS_GUARD(reserve_sorted(items, keys->count, err));
    size_t n = 0;
    for (const as_value *k = keys + 1; k < keys + keys->subtree; k += k->subtree) {
        items->sorted[n++] = k;
    }
    return derive_item_key(items, n, err);
}

/* Sets the item's time to `ms`; none when it lies outside 1970..9999. */
static void set_time(as_items *items, int64_t ms)
{
    items->has_time = ms >= 0 && ms <= 253402300799999;
    if (items->has_time) {
        as_iso_time_format(ms, items->time_text);
        /* From the change's time, not the clock: a retry writes the same item. */
        items->expires_at = (uint64_t)(ms / 1000) + (uint64_t)items->retention_days * 86400u;
    }
}

/* Whether `text` is 1 to `max` ASCII digits. */
static bool all_digits(const char *text, size_t len, size_t max)
{
    if (len == 0 || len > max) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
    }
    return true;
}

/* historyKey = <table>/<itemKey> ('-' for a table unknown: no table name is that short)
 * and historySort = <modificationTime>/<sequence number, left-padded with '0' to 40
 * digits; 40 zeros without one>. Both need the itemKey and the time. */
static AS_RESULT prepare_history(as_items *items, as_span sequence, bool sequence_escaped,
                                 as_error *err)
{
    items->has_history = false;
    if (!items->has_item_key || !items->has_time) {
        return AS_RESULT_OK;
    }
    as_buf *key = &items->history_key;
    as_buf_clear(key);
    if (items->has_table) {
        as_buf_append_json_escaped(key, items->table.data, items->table.len);
    } else {
        as_buf_append_char(key, '-');
    }
    as_buf_append_char(key, '/');
    /* The itemKey's S body, already escaped: {"S":"<body>"}. */
    as_buf_append(key, items->item_key.data + 6, items->item_key.len - 8);
    items->history_key_size = (items->has_table ? items->table.len : 1) + 1 + items->item_key_size;

    as_buf *digits = &items->scratch;
    as_buf_clear(digits);
    if (sequence_escaped) {
        as_json_append_unescaped(digits, sequence);
    } else {
        as_buf_append_span(digits, sequence);
    }
    AS_GUARD(as_buf_result(digits, err, BUILDING));
    AS_GUARD(as_buf_result(key, err, BUILDING));
    /* DynamoDB's are 21 to 40 digits. Anything else cannot be ordered in the trail (its
     * readers refuse a historySort that is not <time>/<40 digits>): the item is written
     * without the two fields, out of the index, as for keys past its limits. */
    if (sequence.ptr != NULL && !all_digits(digits->data, digits->len, SEQUENCE_DIGITS)) {
        return AS_RESULT_OK;
    }
    as_buf *sort = &items->history_sort;
    as_buf_clear(sort);
    as_buf_append(sort, items->time_text, AS_ISO_TIME_LEN);
    as_buf_append_char(sort, '/');
    for (size_t i = digits->len; i < SEQUENCE_DIGITS; i++) {
        as_buf_append_char(sort, '0');
    }
    as_buf_append(sort, digits->data, digits->len);
    items->history_sort_size = AS_ISO_TIME_LEN + 1 + SEQUENCE_DIGITS;
    AS_GUARD(as_buf_result(sort, err, BUILDING));
    /* Past the index's limits DynamoDB would refuse the item itself, and the record
     * could never be written: the item is written without them, out of the index. */
    items->has_history =
        items->history_key_size <= INDEX_HASH_MAX && items->history_sort_size <= INDEX_RANGE_MAX;
    return AS_RESULT_OK;
}

/* The table name inside a stream ARN: arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/...
 * into items->table (decoded); has_table is false when the record has no ARN or it
 * names no table. */
static AS_RESULT table_from_arn(as_items *items, const as_record *rec, as_error *err)
{
    items->has_table = false;
    as_buf_clear(&items->table);
    as_span arn = rec->event_source_arn;
    if (arn.ptr == NULL) {
        return AS_RESULT_OK;
    }
    if (rec->escaped & AS_RECORD_ARN_ESCAPED) {
        as_buf_clear(&items->scratch);
        as_json_append_unescaped(&items->scratch, arn);
        /* An ARN cut short by a failed append would name another table, or none. */
        AS_GUARD(as_buf_result(&items->scratch, err, BUILDING));
        arn = (as_span){items->scratch.data, items->scratch.len};
    }
    as_cursor c = as_cursor_of(arn);
    if (!as_cursor_take_literal(&c, "arn:") || !as_cursor_skip_past(&c, ":table/")) {
        return AS_RESULT_OK;
    }
    as_span table = as_cursor_take_until(&c, '/');
    if (table.len == 0) {
        return AS_RESULT_OK;
    }
    as_buf_append_span(&items->table, table);
    AS_GUARD(as_buf_result(&items->table, err, BUILDING));
    items->has_table = true;
    return AS_RESULT_OK;
}

/* `names` less the record's key attributes (the `key_count` values in items->sorted),
 * which are never left out nor redacted, into *out (holding *cap spans). */
static AS_RESULT names_but_keys(as_items *items, const as_span *names, size_t count,
                                size_t key_count, as_span **out, size_t *cap, size_t *out_count,
                                as_error *err)
{
    *out_count = 0;
    if (count == 0) {
        return AS_RESULT_OK;
    }
    if (count > *cap) {
        as_span *grown = realloc(*out, count * sizeof *grown);
        AS_ENSURE(grown != NULL, as_fail_nomem(err, BUILDING));
        *out = grown;
        *cap = count;
    }
    for (size_t i = 0; i < count; i++) {
        as_span name = names[i];
        bool key = false;
        for (size_t k = 0; k < key_count && !key; k++) {
            const as_value *v = items->sorted[k];
            key = as_json_string_equals(v->name, (v->flags & AS_VALUE_NAME_ESCAPED) != 0, name.ptr,
                                        name.len);
        }
        if (!key) {
            (*out)[(*out_count)++] = name;
        }
    }
    return AS_RESULT_OK;
}

/* The record's ignore and redact lists, and what its items may weigh. */
static AS_RESULT prepare_ignore(as_items *items, const as_audit_options *opts, size_t key_count,
                                as_error *err)
{
    items->retention_days = opts->retention_days;
    items->redacting = opts->redact_count > 0;
    items->redact_key = opts->redact_key_len > 0 ? opts->redact_key : NULL;
    items->redact_key_len = opts->redact_key_len;
    items->size_limit = AS_ITEM_MAX_SIZE - opts->reserve_bytes;
    items->has_actor = false;
    items->mark_count = 0;
    AS_GUARD(names_but_keys(items, opts->redact, opts->redact_count, key_count, &items->redact,
                            &items->redact_cap, &items->redact_count, err));
    return names_but_keys(items, opts->ignore, opts->ignore_count, key_count, &items->ignore,
                          &items->ignore_cap, &items->ignore_count, err);
}

/* Whether an image's top-level member is left out of the trail. */
static bool is_ignored(const as_items *items, const as_value *member)
{
    bool escaped = (member->flags & AS_VALUE_NAME_ESCAPED) != 0;
    for (size_t i = 0; i < items->ignore_count; i++) {
        if (as_json_string_equals(member->name, escaped, items->ignore[i].ptr,
                                  items->ignore[i].len)) {
            return true;
        }
    }
    return false;
}

/* Whether a top-level name (as received, JSON-escaped) is redacted for this record. */
static bool name_redacted(const as_items *items, as_span name, bool escaped)
{
    for (size_t i = 0; i < items->redact_count; i++) {
        if (as_json_string_equals(name, escaped, items->redact[i].ptr, items->redact[i].len)) {
            return true;
        }
    }
    return false;
}

/* Whether error items hold a digest of the record instead of its text: while an option
 * keeps values out of the trail (AUDIT_IGNORE_ATTRIBUTES, AUDIT_REDACT_ATTRIBUTES),
 * since an invalid record cannot be trusted to be cut apart. */
static bool raw_record_withheld(const as_audit_options *opts)
{
    return opts->ignore_count > 0 || opts->redact_count > 0;
}

/* The canonical module reports no message: give its failure one. */
static AS_RESULT canonical_result(as_result result, as_buf *out, as_error *err)
{
    if (as_result_is_ok(result)) {
        return AS_RESULT_OK;
    }
    if (result.status == AS_ERR_NOMEM || as_buf_status(out) != AS_OK) {
        return as_fail_nomem(err, BUILDING);
    }
    return as_fail(err, result.status, 0,
                   "building audit items: an attribute holds a value no valid item holds");
}

/* SHA-256's block, to which HMAC pads its key. */
#define SHA256_BLOCK 64

static void hex_to_bytes(const char *hex, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (unsigned char)(as_hex_value((unsigned char)hex[2 * i]) << 4 |
                                 as_hex_value((unsigned char)hex[2 * i + 1]));
    }
}

/* The HMAC-SHA256 (RFC 2104) under the redact key of `msg` past its first SHA256_BLOCK
 * bytes (which this fills with the inner pad), as lower-case hex. Two digests through the
 * hasher the ids use, whose context is kept: libcrypto's HMAC() fetches and allocates a
 * dozen times a call, and a batch may redact a value in every record. */
static AS_RESULT hmac_hex(as_items *items, as_buf *msg, char hex[AS_SHA256_HEX_LEN],
                          as_error *err)
{
    unsigned char key[SHA256_BLOCK] = {0};
    if (items->redact_key_len > SHA256_BLOCK) {
        /* A key longer than a block stands for its digest. */
        char digest[AS_SHA256_HEX_LEN];
        AS_GUARD(as_sha256_hex(items->hasher, items->redact_key, items->redact_key_len, digest,
                               err));
        hex_to_bytes(digest, sizeof digest / 2, key);
    } else {
        memcpy(key, items->redact_key, items->redact_key_len);
    }
    unsigned char outer[SHA256_BLOCK + AS_SHA256_HEX_LEN / 2];
    for (size_t i = 0; i < SHA256_BLOCK; i++) {
        msg->data[i] = (char)(key[i] ^ 0x36);
        outer[i] = (unsigned char)(key[i] ^ 0x5c);
    }
    char inner[AS_SHA256_HEX_LEN];
    as_result done = as_sha256_hex(items->hasher, msg->data, msg->len, inner, err);
    if (as_result_is_ok(done)) {
        hex_to_bytes(inner, sizeof inner / 2, outer + SHA256_BLOCK);
        done = as_sha256_hex(items->hasher, outer, sizeof outer, hex, err);
    }
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(outer, sizeof outer);
    return done;
}

/* Writes the marker of `v` into mark_text and lists it: with a key, the hmac is the
 * HMAC-SHA256 of the value's canonical form, so that equal values (by DynamoDB's
 * equality, whatever it rewrote) show equal markers without showing themselves. */
static AS_RESULT add_mark(as_items *items, const as_value *v, as_error *err)
{
    if (items->mark_count == items->mark_cap) {
        size_t cap = items->mark_cap < 8 ? 8 : items->mark_cap * 2;
        mark *marks = realloc(items->marks, cap * sizeof *marks);
        AS_ENSURE(marks != NULL, as_fail_nomem(err, BUILDING));
        items->marks = marks;
        items->mark_cap = cap;
    }
    as_buf *text = &items->mark_text;
    size_t off = text->len;
    as_buf_append_str(text, MARK_HEAD);
    if (items->redact_key != NULL) {
        /* The HMAC's inner block, then the value's canonical form after it. */
        as_buf *canon = &items->canon;
        as_buf_clear(canon);
        as_buf_append(canon, (const char[SHA256_BLOCK]){0}, SHA256_BLOCK);
        AS_GUARD(as_buf_result(canon, err, BUILDING));
        AS_GUARD(canonical_result(as_canonical_value(v, canon), canon, err));
        char hex[AS_SHA256_HEX_LEN];
        as_result mac = hmac_hex(items, canon, hex, err);
        /* The canonical form is a secret's too: it does not outlive its use. */
        OPENSSL_cleanse(canon->data, canon->len);
        AS_GUARD(mac);
        as_buf_append_str(text, MARK_HMAC);
        as_buf_append(text, hex, sizeof hex);
        as_buf_append(text, "\"}", 2);
    }
    as_buf_append(text, "}}", 2);
    AS_GUARD(as_buf_result(text, err, BUILDING));
    items->marks[items->mark_count++] = (mark){v, off, text->len - off};
    return AS_RESULT_OK;
}

/* The markers of the redacted top-level attributes of the images (either may be NULL). */
static AS_RESULT prepare_marks(as_items *items, const as_value *old_image,
                               const as_value *new_image, as_error *err)
{
    items->mark_count = 0;
    as_buf_clear(&items->mark_text);
    if (items->redact_count == 0) {
        return AS_RESULT_OK;
    }
    const as_value *images[2] = {old_image, new_image};
    for (int i = 0; i < 2; i++) {
        const as_value *image = images[i];
        if (image == NULL) {
            continue;
        }
        for (const as_value *m = image + 1; m < image + image->subtree; m += m->subtree) {
            if (!is_ignored(items, m) &&
                name_redacted(items, m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0)) {
                AS_GUARD(add_mark(items, m, err));
            }
        }
    }
    return AS_RESULT_OK;
}

/* An image as the trail holds it, ignored attributes left out: its DynamoDB size and its
 * depth ({"M":{}} is 1), as as_value counts them for the whole image. */
typedef struct image_view {
    uint64_t size;
    uint32_t depth;
    size_t altered; /* members ignored or redacted */
} image_view;

static image_view view_image(const as_items *items, const as_value *image)
{
    image_view view = {image->size, image->depth, 0};
    if (items->ignore_count == 0 && items->mark_count == 0) {
        return view;
    }
    view.size = 3;
    uint32_t depth = 0;
    for (const as_value *m = image + 1; m < image + image->subtree; m += m->subtree) {
        if (is_ignored(items, m)) {
            view.altered++;
            continue;
        }
        view.altered += find_mark(items, m) != NULL;
        bool escaped = (m->flags & AS_VALUE_NAME_ESCAPED) != 0;
        view.size +=
            (escaped ? as_json_decoded_len(m->name) : m->name.len) + audited_size(items, m) + 1;
        uint32_t d = audited_depth(items, m);
        if (d > depth) {
            depth = d;
        }
    }
    view.depth = depth + 1;
    return view;
}

/* Writes a whole image as an M attribute, ignored attributes left out, redacted ones
 * as their markers. */
static void put_image(as_items *items, const char *name, const as_value *image)
{
    image_view view = view_image(items, image);
    if (view.altered == 0) {
        put_value(items, name, image);
        return;
    }
    attr_slot *a = attr_begin(items, name, false);
    as_buf *out = &items->json;
    as_buf_append(out, "{\"M\":{", 6);
    bool first = true;
    for (const as_value *m = image + 1; m < image + image->subtree; m += m->subtree) {
        if (is_ignored(items, m)) {
            continue;
        }
        if (!first) {
            as_buf_append_char(out, ',');
        }
        first = false;
        as_buf_append_char(out, '"');
        as_buf_append_span(out, m->name);
        as_buf_append(out, "\":", 2);
        append_audited(items, out, m);
    }
    as_buf_append(out, "}}", 2);
    attr_end(items, a, view.size);
}

static const char *event_word(as_event_name name)
{
    switch (name) {
    case AS_EVENT_INSERT: return "CREATE";
    case AS_EVENT_MODIFY: return "UPDATE";
    case AS_EVENT_REMOVE: return "DELETE";
    default: return NULL;
    }
}

static bool is_ttl_delete(const as_record *rec);

/* Who made the change: DynamoDB for a TTL delete, whatever the options say (the only
 * principal a stream names); else the S value of `attribute` in the image that says who
 * wrote last: the NewImage of a CREATE or UPDATE, the OldImage of a user's DELETE. */
static void prepare_actor(as_items *items, const as_record *rec, as_span attribute)
{
    items->has_actor = false;
    if (rec->event_name == AS_EVENT_REMOVE && is_ttl_delete(rec)) {
        items->has_actor = true;
        items->actor = (as_span){TTL_PRINCIPAL, strlen(TTL_PRINCIPAL)};
        items->actor_escaped = false;
        items->actor_source = "ttl";
        return;
    }
    const as_value *image = rec->event_name == AS_EVENT_REMOVE ? rec->old_image
                            : rec->event_name == AS_EVENT_UNKNOWN ? NULL
                                                                  : rec->new_image;
    if (attribute.len == 0 || image == NULL) {
        return;
    }
    for (const as_value *m = image + 1; m < image + image->subtree; m += m->subtree) {
        if (m->type == AS_TYPE_S &&
            as_json_string_equals(m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0,
                                  attribute.ptr, attribute.len)) {
            items->has_actor = true;
            items->actor = m->text;
            items->actor_escaped = (m->flags & AS_VALUE_TEXT_ESCAPED) != 0;
            items->actor_source = rec->event_name == AS_EVENT_REMOVE ? "last-writer" : "item";
            return;
        }
    }
}

/* Prepares what every item of a record shares: the id name, itemKey, time, eventName,
 * table, history keys, ignore and redact lists, actor and redaction markers. */
static AS_RESULT prepare_record(as_items *items, const as_record *rec, const as_audit_options *opts,
                                as_error *err)
{
    as_buf_clear(&items->id_name);
    /* An empty eventID names nothing: hashing the record's text keeps two such (invalid)
     * records from sharing one id and overwriting each other. */
    if (rec->event_id.ptr != NULL && rec->event_id.len > 0) {
        if (rec->escaped & AS_RECORD_EVENT_ID_ESCAPED) {
            as_json_append_unescaped(&items->id_name, rec->event_id);
        } else {
            as_buf_append_span(&items->id_name, rec->event_id);
        }
    } else {
        char hash[AS_SHA256_HEX_LEN];
        AS_GUARD(as_sha256_hex(items->hasher, rec->raw.ptr, rec->raw.len, hash, err));
        as_buf_append(&items->id_name, hash, sizeof hash);
    }
    AS_GUARD(as_buf_result(&items->id_name, err, BUILDING));
    AS_GUARD(record_item_key(items, rec->keys, err));
    AS_GUARD(prepare_ignore(items, opts, items->has_item_key ? rec->keys->count : 0, err));
    prepare_actor(items, rec, opts->actor_attribute);
    AS_GUARD(prepare_marks(items, rec->old_image, rec->new_image, err));
    items->event_word = event_word(rec->event_name);
    AS_GUARD(table_from_arn(items, rec, err));

    int64_t ms = opts->now_ms;
    const char *why;
    items->processing_time = rec->creation_time.ptr == NULL;
    if (!items->processing_time && !as_epoch_text_to_ms(rec->creation_time, &ms, &why)) {
        /* An invalid record's bad time: left out, not invented. */
        items->has_time = false;
        items->has_history = false;
        return AS_RESULT_OK;
    }
    set_time(items, ms);
    return prepare_history(items, rec->sequence_number,
                           (rec->escaped & AS_RECORD_SEQUENCE_ESCAPED) != 0, err);
}

/* ---- Formats ------------------------------------------------------------------------ */

static AS_RESULT reason_error_item(as_items *items, const as_record *rec, as_span reason,
                                   bool withhold_raw, as_error *err);

/* A record whose item would nest past DynamoDB's limit becomes an error item. */
static AS_RESULT depth_error(as_items *items, const as_record *rec, unsigned depth,
                             bool withhold_raw, as_error *err)
{
    char reason[160];
    int len = snprintf(reason, sizeof reason,
                       "Records[%zu]: the audit item would nest %u levels, deeper than "
                       "DynamoDB's %u",
                       rec->index, depth, AS_ITEM_MAX_DEPTH);
    as_span span = {reason, len > 0 ? (size_t)len : 0};
    return reason_error_item(items, rec, span, withhold_raw, err);
}

/* DynamoDB's size of a number written as the decimal digits of `value`. */
static uint64_t u64_number_size(uint64_t value)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%" PRIu64, value);
    as_number n;
    /* Every whole number below 10^20 is a DynamoDB number. */
    if (len <= 0 || !as_number_parse((as_span){digits, (size_t)len}, &n, NULL)) {
        return 0;
    }
    return as_number_size(&n);
}

/* The item for a record that cannot be turned into normal items. */
/* The length of "Records[<n>].dynamodb.NewImage" (or OldImage) at the start of a reason
 * that points into an image, else 0. */
static size_t image_fault_prefix(as_span reason)
{
    as_cursor c = as_cursor_of(reason);
    if (!as_cursor_take_literal(&c, "Records[") || !as_cursor_skip_past(&c, "].dynamodb.") ||
        !(as_cursor_take_literal(&c, "NewImage") || as_cursor_take_literal(&c, "OldImage"))) {
        return 0;
    }
    size_t len = c.pos;
    char next = len < reason.len ? reason.ptr[len] : '\0';
    return next == '.' || next == '[' || next == ':' ? len : 0;
}

static as_result reason_error_item(as_items *items, const as_record *rec, as_span reason,
                                   bool withhold_raw, as_error *err)
{
    /* No value of an invalid record is trusted, its actor attribute's neither; a TTL
     * delete's actor is DynamoDB, which the record names outside any value. */
    items->has_actor = false;
    prepare_actor(items, rec, (as_span){NULL, 0});
    /* A fault inside an image quotes the value at fault, and its path names the members
     * above it, which may lie inside a redacted attribute: while attributes are redacted
     * the reason (stored, and logged) keeps only which image, as the record's text is
     * kept only as a digest. */
    char withheld[160]; /* the prefix is at most "Records[<20 digits>].dynamodb.NewImage" */
    size_t prefix = items->redacting ? image_fault_prefix(reason) : 0;
    if (prefix > 0) {
        int n = snprintf(withheld, sizeof withheld,
                         "%.*s: an attribute value is invalid (its detail is withheld while "
                         "attributes are redacted)",
                         (int)prefix, reason.ptr);
        reason = (as_span){withheld, n > 0 && (size_t)n < sizeof withheld ? (size_t)n : 0};
    }
    item_begin(items);
    AS_GUARD(put_common(items, NULL, err));
    put_s(items, "error", false, reason.ptr, reason.len, false);
    if (withhold_raw) {
        char hash[AS_SHA256_HEX_LEN];
        AS_GUARD(as_sha256_hex(items->hasher, rec->raw.ptr, rec->raw.len, hash, err));
        put_s(items, "rawRecordSha256", false, hash, sizeof hash, true);
        attr_slot *a = attr_begin(items, "rawRecordSize", false);
        as_buf_append(&items->json, "{\"N\":\"", 6);
        as_buf_append_u64(&items->json, rec->raw.len);
        as_buf_append(&items->json, "\"}", 2);
        attr_end(items, a, u64_number_size(rec->raw.len));
    } else {
        attr_slot *a = attr_begin(items, "rawRecord", false);
        as_buf_append(&items->json, "{\"S\":\"", 6);
        as_buf_append_json_escaped(&items->json, rec->raw.ptr, rec->raw.len);
        as_buf_append(&items->json, "\"}", 2);
        attr_end(items, a, rec->raw.len);
    }
    return item_end(items, rec->index, AS_ITEM_ERROR, reason, err);
}

static bool images_complete(const as_record *rec)
{
    switch (rec->event_name) {
    case AS_EVENT_INSERT: return rec->new_image != NULL;
    case AS_EVENT_REMOVE: return rec->old_image != NULL;
    case AS_EVENT_MODIFY: return rec->old_image != NULL && rec->new_image != NULL;
    default: return false;
    }
}

static AS_RESULT build_classic(as_items *items, const as_record *rec, as_error *err)
{
    if (rec->event_name == AS_EVENT_MODIFY && images_complete(rec)) {
        AS_GUARD_STATUS(as_diff_images(rec->old_image, rec->new_image, AS_DIFF_TOP, items->ignore,
                                       items->ignore_count, items->changes, err));
        size_t n = as_changes_count(items->changes);
        for (size_t i = 0; i < n; i++) {
            const as_change *c = as_changes_get(items->changes, i);
            item_begin(items);
            AS_GUARD(put_common(items, &c->path, err));
            put_s_body(items, "updatedAttribute", c->top_name, true);
            if (c->old_value != NULL) {
                put_value(items, "oldValue", c->old_value);
            }
            if (c->new_value != NULL) {
                put_value(items, "newValue", c->new_value);
            }
            AS_GUARD(item_end(items, rec->index, 0, (as_span){NULL, 0}, err));
        }
        return AS_RESULT_OK;
    }
    /* INSERT, REMOVE, or any record short of its images: one item with what it has. */
    uint32_t flags = images_complete(rec) ? 0 : AS_ITEM_MISSING_IMAGES;
    item_begin(items);
    AS_GUARD(put_common(items, NULL, err));
    if (rec->old_image != NULL) {
        put_image(items, "oldValue", rec->old_image);
    }
    if (rec->new_image != NULL) {
        put_image(items, "newValue", rec->new_image);
    }
    return item_end(items, rec->index, flags, (as_span){NULL, 0}, err);
}

static bool is_ttl_delete(const as_record *rec)
{
    return rec->identity_type.len == 7 && memcmp(rec->identity_type.ptr, "Service", 7) == 0 &&
           rec->identity_principal.len == 22 &&
           memcmp(rec->identity_principal.ptr, "dynamodb.amazonaws.com", 22) == 0;
}

/* Writes `"name":{"L":[` for an L attribute built from the changes. */
static attr_slot *list_begin(as_items *items, const char *name)
{
    attr_slot *a = attr_begin(items, name, false);
    as_buf_append(&items->json, "{\"L\":[", 6);
    return a;
}

/* updatedAttributes: the top-level names of the changes, in order, as an L of S. */
static void put_name_list(as_items *items, const as_changes *changes)
{
    attr_slot *a = list_begin(items, "updatedAttributes");
    as_buf *out = &items->json;
    uint64_t size = 3; /* an L's own bytes */
    size_t count = as_changes_count(changes);
    as_span previous = {NULL, 0};
    for (size_t i = 0; i < count; i++) {
        as_span name = as_changes_get(changes, i)->top_name;
        /* Deep changes under one attribute are adjacent: name it once. */
        if (previous.ptr != NULL && as_json_string_cmp(previous, true, name, true) == 0) {
            continue;
        }
        if (previous.ptr != NULL) {
            as_buf_append_char(out, ',');
        }
        previous = name;
        as_buf_append(out, "{\"S\":\"", 6);
        as_buf_append_span(out, name);
        as_buf_append(out, "\"}", 2);
        size += as_json_decoded_len(name) + 1;
    }
    as_buf_append(out, "]}", 2);
    attr_end(items, a, size);
}

/* The top-level member of `image` (NULL: none) named `name` (as received, escaped). */
static const as_value *member_named(const as_value *image, as_span name)
{
    if (image == NULL) {
        return NULL;
    }
    for (const as_value *m = image + 1; m < image + image->subtree; m += m->subtree) {
        if (as_json_string_cmp(m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0, name, true) == 0) {
            return m;
        }
    }
    return NULL;
}

/* A change as written: one below a redacted attribute stands for the whole attribute
 * ("/<name>", its values on each side as markers), since a deeper path would say where
 * inside a secret it changed; `skip` when an earlier change already stood for it. */
typedef struct written_change {
    as_span path;
    const as_value *old_value;
    const as_value *new_value;
    bool skip;
} written_change;

/* The changes of a diff from `old_side` to `new_side` (either NULL) are adjacent per
 * top-level attribute (depth-first), so `previous` (the last change's top name, or an
 * empty span) is all it takes to collapse them. */
static written_change write_change(const as_items *items, const as_change *c, as_span previous,
                                   const as_value *old_side, const as_value *new_side)
{
    written_change w = {c->path, c->old_value, c->new_value, false};
    if (!name_redacted(items, c->top_name, true)) {
        return w;
    }
    if (previous.ptr != NULL && as_json_string_cmp(previous, true, c->top_name, true) == 0) {
        w.skip = true;
        return w;
    }
    /* A pointer's top token holds no '/' (RFC 6901 writes it ~1): the second ends it. */
    const char *second = c->path.len > 1 ? memchr(c->path.ptr + 1, '/', c->path.len - 1) : NULL;
    if (second != NULL) {
        w.path.len = (size_t)(second - c->path.ptr);
    }
    w.old_value = member_named(old_side, c->top_name);
    w.new_value = member_named(new_side, c->top_name);
    return w;
}

/* changes: an L of M {path, oldValue, newValue}. */
static void put_changes(as_items *items, const as_changes *changes, const as_value *old_side,
                        const as_value *new_side)
{
    attr_slot *a = list_begin(items, "changes");
    as_buf *out = &items->json;
    size_t count = as_changes_count(changes);
    uint64_t size = 3;
    bool first = true;
    as_span previous = {NULL, 0};
    for (size_t i = 0; i < count; i++) {
        const as_change *c = as_changes_get(changes, i);
        written_change w = write_change(items, c, previous, old_side, new_side);
        previous = c->top_name;
        if (w.skip) {
            continue;
        }
        if (!first) {
            as_buf_append_char(out, ',');
        }
        first = false;
        uint64_t entry = 3 + strlen("path") + w.path.len + 1;
        as_buf_append(out, "{\"M\":{\"path\":{\"S\":\"", 19);
        as_buf_append_json_escaped(out, w.path.ptr, w.path.len);
        as_buf_append(out, "\"}", 2);
        if (w.old_value != NULL) {
            as_buf_append(out, ",\"oldValue\":", 12);
            append_audited(items, out, w.old_value);
            entry += strlen("oldValue") + audited_size(items, w.old_value) + 1;
        }
        if (w.new_value != NULL) {
            as_buf_append(out, ",\"newValue\":", 12);
            append_audited(items, out, w.new_value);
            entry += strlen("newValue") + audited_size(items, w.new_value) + 1;
        }
        as_buf_append(out, "}}", 2);
        size += entry + 1;
    }
    as_buf_append(out, "]}", 2);
    attr_end(items, a, size);
}

/* How deep the changes' values nest as written (a redacted attribute's: its marker). */
static unsigned changes_depth(const as_items *items, const as_changes *changes)
{
    unsigned depth = 0;
    size_t count = as_changes_count(changes);
    for (size_t i = 0; i < count; i++) {
        const as_change *c = as_changes_get(changes, i);
        if (name_redacted(items, c->top_name, true)) {
            depth = depth > 1 ? depth : 1;
            continue;
        }
        if (c->old_value != NULL && c->old_value->depth > depth) {
            depth = c->old_value->depth;
        }
        if (c->new_value != NULL && c->new_value->depth > depth) {
            depth = c->new_value->depth;
        }
    }
    return depth;
}

/* How deep a detailed item nests: its images wrapped as M, and each change's values
 * two levels down (L of M). */
static unsigned detailed_depth(const as_items *items, bool have_changes, const as_value *old_image,
                               const as_value *new_image)
{
    unsigned depth = have_changes ? changes_depth(items, items->changes) + 2 : 0;
    const as_value *images[2] = {old_image, new_image};
    for (int i = 0; i < 2; i++) {
        if (images[i] != NULL) {
            image_view view = view_image(items, images[i]);
            if (view.depth > depth) {
                depth = view.depth;
            }
        }
    }
    return depth;
}

static AS_RESULT build_detailed(as_items *items, const as_record *rec, bool withhold_raw,
                                as_error *err)
{
    bool have_changes = images_complete(rec);
    /* The sides the diff compares: against an empty side for CREATE and DELETE, where the
     * deep diff lists each top-level attribute whole. */
    const as_value *old_side = rec->event_name == AS_EVENT_INSERT ? NULL : rec->old_image;
    const as_value *new_side = rec->event_name == AS_EVENT_REMOVE ? NULL : rec->new_image;
    if (have_changes) {
        AS_GUARD_STATUS(as_diff_images(old_side, new_side, AS_DIFF_DEEP, items->ignore,
                                       items->ignore_count, items->changes, err));
        /* Nothing audited changed: as in classic, no item. */
        if (rec->event_name == AS_EVENT_MODIFY && as_changes_count(items->changes) == 0) {
            return AS_RESULT_OK;
        }
    }
    unsigned depth = detailed_depth(items, have_changes, rec->old_image, rec->new_image);
    if (depth > AS_ITEM_MAX_DEPTH) {
        return depth_error(items, rec, depth, withhold_raw, err);
    }

    item_begin(items);
    AS_GUARD(put_common(items, NULL, err));
    put_value(items, "keys", rec->keys);
    put_s_body(items, "sequenceNumber", rec->sequence_number,
               (rec->escaped & AS_RECORD_SEQUENCE_ESCAPED) != 0);
    if (items->has_table) {
        put_s(items, "tableName", false, items->table.data, items->table.len, false);
    }
    const char *cause = is_ttl_delete(rec) ? "ttl" : "user";
    put_s(items, "cause", false, cause, strlen(cause), true);
    if (have_changes) {
        put_name_list(items, items->changes);
        put_changes(items, items->changes, old_side, new_side);
    }
    if (rec->old_image != NULL) {
        put_image(items, "oldImage", rec->old_image);
    }
    if (rec->new_image != NULL) {
        put_image(items, "newImage", rec->new_image);
    }
    return item_end(items, rec->index, have_changes ? 0 : AS_ITEM_MISSING_IMAGES,
                    (as_span){NULL, 0}, err);
}

/* as_audit_build's work, for one record whose arguments are checked. */
static AS_RESULT build_items(const as_record *record, const as_audit_options *options,
                             as_items *out, as_error *err)
{
    bool withhold_raw = raw_record_withheld(options);
    AS_GUARD(prepare_record(out, record, options, err));
    if (record->error != NULL) {
        return reason_error_item(out, record, as_span_from_cstr(record->error), withhold_raw, err);
    }
    if (options->format == AS_FORMAT_DETAILED) {
        return build_detailed(out, record, withhold_raw, err);
    }
    /* Classic wraps a whole image once, as newValue or oldValue. */
    if (!(record->event_name == AS_EVENT_MODIFY && images_complete(record))) {
        const as_value *images[2] = {record->old_image, record->new_image};
        for (int i = 0; i < 2; i++) {
            if (images[i] == NULL) {
                continue;
            }
            image_view view = view_image(out, images[i]);
            if (view.depth > AS_ITEM_MAX_DEPTH) {
                return depth_error(out, record, view.depth, withhold_raw, err);
            }
        }
    }
    return build_classic(out, record, err);
}

/* Cuts the JSON back to the end of the last finished item: a failed build leaves no
 * part of an unfinished item behind (the items finished before it stay whole). */
static void drop_unfinished(as_items *out)
{
    const item_slot *last = out->count > 0 ? &out->slots[out->count - 1] : NULL;
    as_buf_truncate(&out->json, last != NULL ? last->json_off + last->json_len : 0);
}

/* build_items, leaving no part of an unfinished item behind when it fails. */
static AS_RESULT build_record(const as_record *record, const as_audit_options *options,
                              as_items *out, as_error *err)
{
    as_result built = build_items(record, options, out, err);
    if (!as_result_is_ok(built)) {
        drop_unfinished(out);
    }
    return built;
}

/* Whether `name` is one of the `count` names of `list`. */
static bool listed(const as_span *list, size_t count, as_span name)
{
    for (size_t i = 0; i < count; i++) {
        if (list[i].len == name.len && memcmp(list[i].ptr, name.ptr, name.len) == 0) {
            return true;
        }
    }
    return false;
}

/* The trust options, checked once per call: the configuration refuses the same values
 * at init, and a library caller gets the same sentence. */
static AS_RESULT check_options(const as_audit_options *o, const char *fn, as_error *err)
{
    AS_ENSURE(o->redact != NULL || o->redact_count == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "%s: options.redact is NULL with a count", fn));
    AS_ENSURE(o->retention_days <= AS_AUDIT_MAX_RETENTION_DAYS,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "%s: options.retention_days %" PRIu32 " is outside 1..%u (0 for none)", fn,
                      o->retention_days, AS_AUDIT_MAX_RETENTION_DAYS));
    AS_ENSURE(o->redact_key != NULL || o->redact_key_len == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "%s: options.redact_key is NULL with a length",
                      fn));
    AS_ENSURE(o->redact_key_len == 0 || o->redact_key_len >= AS_AUDIT_MIN_REDACT_KEY,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "%s: options.redact_key is %zu bytes, fewer than %u", fn, o->redact_key_len,
                      AS_AUDIT_MIN_REDACT_KEY));
    AS_ENSURE(o->actor_attribute.ptr != NULL || o->actor_attribute.len == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "%s: options.actor_attribute is NULL with a length", fn));
    int shown = o->actor_attribute.len > 64 ? 64 : (int)o->actor_attribute.len;
    AS_ENSURE(o->actor_attribute.len == 0 ||
                  !listed(o->ignore, o->ignore_count, o->actor_attribute),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "%s: the actor attribute \"%.*s\" is also ignored: who made a change "
                      "cannot be left out",
                      fn, shown, o->actor_attribute.ptr));
    AS_ENSURE(o->actor_attribute.len == 0 ||
                  !listed(o->redact, o->redact_count, o->actor_attribute),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "%s: the actor attribute \"%.*s\" is also redacted: who made a change "
                      "cannot be both shown and hidden",
                      fn, shown, o->actor_attribute.ptr));
    AS_ENSURE(o->reserve_bytes <= AS_ITEM_MAX_SIZE / 2,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "%s: options.reserve_bytes %" PRIu32 " is more than half of DynamoDB's "
                      "%u-byte item",
                      fn, o->reserve_bytes, AS_ITEM_MAX_SIZE));
    return AS_RESULT_OK;
}

as_status as_audit_build(const as_record *record, const as_audit_options *options, as_items *out,
                         as_error *err)
{
    if (record == NULL || options == NULL || out == NULL ||
        (options->ignore == NULL && options->ignore_count > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_audit_build: NULL argument"));
    }
    as_result checked = check_options(options, "as_audit_build", err);
    if (!as_result_is_ok(checked)) {
        return as_status_of(checked);
    }
    return as_status_of(build_record(record, options, out, err));
}

as_status as_audit_build_event(const as_event *event, const as_audit_options *options,
                               as_items *out, as_error *err)
{
    if (event == NULL || options == NULL || out == NULL ||
        (options->ignore == NULL && options->ignore_count > 0)) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_audit_build_event: NULL argument"));
    }
    as_result checked = check_options(options, "as_audit_build_event", err);
    if (!as_result_is_ok(checked)) {
        return as_status_of(checked);
    }
    size_t count = as_event_record_count(event);
    for (size_t i = 0; i < count; i++) {
        as_result built = build_record(as_event_record(event, i), options, out, err);
        if (!as_result_is_ok(built)) {
            return as_status_of(built);
        }
    }
    return AS_OK;
}

/* ---- BASELINE items (backfill) ------------------------------------------------------ */

static bool skip_ignored(const as_value *member, void *ctx)
{
    return is_ignored(ctx, member);
}

/* The image as the BASELINE item writes it, as values: a copy of the image's nodes (they
 * borrow the same input) less the ignored members, each redacted member replaced by its
 * marker's nodes (an M holding "redacted" and, keyed, "hmac"). Into items->nodes. */
static AS_RESULT written_image(as_items *items, const as_value *image, const as_value **out,
                               as_error *err)
{
    size_t total = 1;
    uint32_t kept = 0;
    for (const as_value *m = image + 1; m < image + image->subtree; m += m->subtree) {
        if (!is_ignored(items, m)) {
            kept++;
            total += find_mark(items, m) != NULL ? (items->redact_key != NULL ? 3u : 2u)
                                                 : m->subtree;
        }
    }
    if (total > items->node_cap) {
        as_value *nodes = realloc(items->nodes, total * sizeof *nodes);
        AS_ENSURE(nodes != NULL, as_fail_nomem(err, BUILDING));
        items->nodes = nodes;
        items->node_cap = total;
    }
    as_value *n = items->nodes;
    n[0] = *image;
    n[0].subtree = (uint32_t)total;
    n[0].count = kept;
    size_t at = 1;
    for (const as_value *m = image + 1; m < image + image->subtree; m += m->subtree) {
        if (is_ignored(items, m)) {
            continue;
        }
        const mark *mk = find_mark(items, m);
        if (mk == NULL) {
            memcpy(&n[at], m, m->subtree * sizeof *m);
            at += m->subtree;
            continue;
        }
        bool keyed = items->redact_key != NULL;
        n[at] = (as_value){.type = AS_TYPE_M,
                           .subtree = keyed ? 3u : 2u,
                           .count = keyed ? 2u : 1u,
                           .depth = 1,
                           .flags = m->flags & AS_VALUE_NAME_ESCAPED,
                           .name = m->name};
        n[at + 1] = (as_value){
            .type = AS_TYPE_BOOL, .subtree = 1, .name = {"redacted", 8}, .text = {"true", 4}};
        if (keyed) {
            /* The hex digits inside the marker's text, which outlives this use. */
            const char *hex = items->mark_text.data + mk->off + strlen(MARK_HEAD MARK_HMAC);
            n[at + 2] = (as_value){.type = AS_TYPE_S,
                                   .subtree = 1,
                                   .name = {"hmac", 4},
                                   .text = {hex, AS_SHA256_HEX_LEN}};
        }
        at += n[at].subtree;
    }
    *out = n;
    return AS_RESULT_OK;
}

/* The hex SHA-256 of the canonical form of the image as written: ignored attributes left
 * out, and redacted ones as their markers, never their values: a digest of a secret in
 * an id (which anyone reading the trail sees) would let them test guesses of it. */
static AS_RESULT image_digest(as_items *items, const as_value *image, char hex[AS_SHA256_HEX_LEN],
                              as_error *err)
{
    as_buf *canon = &items->scratch;
    as_buf_clear(canon);
    if (items->mark_count == 0) {
        AS_GUARD(canonical_result(as_canonical_image_without(image, skip_ignored, items, canon),
                                  canon, err));
    } else {
        const as_value *written = NULL;
        AS_GUARD(written_image(items, image, &written, err));
        AS_GUARD(canonical_result(as_canonical_image(written, canon), canon, err));
    }
    return as_sha256_hex(items->hasher, canon->data, canon->len, hex, err);
}

/* Finds the key attributes in the item, into keys[] in the key schema's order. */
static AS_RESULT baseline_keys(const as_baseline *b, const as_value *keys[2], as_error *err)
{
    for (size_t i = 0; i < b->key_count; i++) {
        as_span name = b->key_names[i];
        int shown = name.len > 64 ? 64 : (int)name.len;
        AS_ENSURE(name.ptr != NULL && name.len > 0,
                  as_fail(err, AS_ERR_ARGUMENT, 0, "as_audit_build_baseline: key name %zu is empty",
                          i + 1));
        AS_ENSURE(i == 0 || name.len != b->key_names[0].len ||
                      memcmp(name.ptr, b->key_names[0].ptr, name.len) != 0,
                  as_fail(err, AS_ERR_ARGUMENT, 0,
                          "as_audit_build_baseline: key name \"%.*s\" is given twice", shown,
                          name.ptr));
        const as_value *found = NULL;
        const as_value *item = b->item;
        for (const as_value *m = item + 1; m < item + item->subtree && found == NULL;
             m += m->subtree) {
            if (as_json_string_equals(m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0, name.ptr,
                                      name.len)) {
                found = m;
            }
        }
        AS_ENSURE(found != NULL, as_fail(err, AS_ERR_ARGUMENT, 0,
                                         "as_audit_build_baseline: the item has no key "
                                         "attribute \"%.*s\"",
                                         shown, name.ptr));
        AS_ENSURE(found->type == AS_TYPE_S || found->type == AS_TYPE_N || found->type == AS_TYPE_B,
                  as_fail(err, AS_ERR_ARGUMENT, 0,
                          "as_audit_build_baseline: key attribute \"%.*s\" has type %s, not S, "
                          "N or B",
                          shown, name.ptr, as_type_name(found->type)));
        AS_ENSURE(found->type == AS_TYPE_N || found->size > 0,
                  as_fail(err, AS_ERR_ARGUMENT, 0,
                          "as_audit_build_baseline: key attribute \"%.*s\" is empty", shown,
                          name.ptr));
        keys[i] = found;
    }
    return AS_RESULT_OK;
}

static AS_RESULT baseline_args(const as_baseline *b, const as_audit_options *opts,
                               const as_items *out, as_error *err)
{
    AS_ENSURE(b != NULL && opts != NULL && out != NULL,
              as_fail(err, AS_ERR_ARGUMENT, 0, "as_audit_build_baseline: NULL argument"));
    AS_ENSURE(opts->ignore != NULL || opts->ignore_count == 0,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "as_audit_build_baseline: options.ignore is NULL with a count"));
    AS_GUARD(check_options(opts, "as_audit_build_baseline", err));
    AS_ENSURE(b->item != NULL && b->item->type == AS_TYPE_M,
              as_fail(err, AS_ERR_ARGUMENT, 0, "as_audit_build_baseline: the item is not a map"));
    AS_ENSURE(b->key_names != NULL && b->key_count >= 1 && b->key_count <= 2,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "as_audit_build_baseline: want 1 or 2 key names (hash, range), not %zu",
                      b->key_names != NULL ? b->key_count : 0));
    AS_ENSURE(b->table.ptr != NULL && b->table.len > 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "as_audit_build_baseline: the table name is empty"));
    AS_ENSURE(b->read_ms >= 0 && b->read_ms <= 253402300799999,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "as_audit_build_baseline: read time %" PRId64 " ms is outside 1970..9999",
                      b->read_ms));
    return AS_RESULT_OK;
}

/* detailed's keys: the key attributes, in the key schema's order, as an M. */
static void put_key_map(as_items *items, const as_value *const *keys, size_t count)
{
    attr_slot *a = attr_begin(items, "keys", false);
    as_buf *out = &items->json;
    uint64_t size = 3;
    as_buf_append(out, "{\"M\":{", 6);
    for (size_t i = 0; i < count; i++) {
        if (i > 0) {
            as_buf_append_char(out, ',');
        }
        as_buf_append_char(out, '"');
        as_buf_append_span(out, keys[i]->name);
        as_buf_append(out, "\":", 2);
        as_value_append_wire(out, keys[i]);
        bool escaped = (keys[i]->flags & AS_VALUE_NAME_ESCAPED) != 0;
        size +=
            (escaped ? as_json_decoded_len(keys[i]->name) : keys[i]->name.len) + keys[i]->size + 1;
    }
    as_buf_append(out, "}}", 2);
    attr_end(items, a, size);
}

static AS_RESULT build_baseline(const as_baseline *b, const as_audit_options *opts, as_items *items,
                                as_error *err)
{
    const as_value *keys[2] = {NULL, NULL};
    AS_GUARD(baseline_keys(b, keys, err));
    AS_GUARD(reserve_sorted(items, b->key_count, err));
    for (size_t i = 0; i < b->key_count; i++) {
        items->sorted[i] = keys[i];
    }
    AS_GUARD(derive_item_key(items, b->key_count, err));
    AS_GUARD(prepare_ignore(items, opts, b->key_count, err));
    /* A scan names nobody: a BASELINE has no actor. */
    items->has_actor = false;
    AS_GUARD(prepare_marks(items, NULL, b->item, err));
    items->event_word = "BASELINE";
    items->processing_time = false;
    as_buf_clear(&items->table);
    as_buf_append_span(&items->table, b->table);
    AS_GUARD(as_buf_result(&items->table, err, BUILDING));
    items->has_table = true;
    set_time(items, b->read_ms);
    AS_GUARD(prepare_history(items, (as_span){NULL, 0}, false, err));

    image_view view = view_image(items, b->item);
    bool detailed = opts->format == AS_FORMAT_DETAILED;
    if (detailed) {
        /* Against an empty side, the deep diff lists each top-level attribute whole. */
        AS_GUARD_STATUS(as_diff_images(NULL, b->item, AS_DIFF_DEEP, items->ignore,
                                       items->ignore_count, items->changes, err));
    }
    unsigned depth = detailed ? detailed_depth(items, true, NULL, b->item) : view.depth;
    AS_ENSURE(depth <= AS_ITEM_MAX_DEPTH,
              as_fail(err, AS_ERR_LIMIT, 0,
                      "as_audit_build_baseline: the item would nest %u levels, deeper than "
                      "DynamoDB's %u",
                      depth, AS_ITEM_MAX_DEPTH));

    /* id: UUIDv5 of baseline/<historyKey, decoded>/<hex SHA-256 of the canonical image>. */
    char digest[AS_SHA256_HEX_LEN];
    AS_GUARD(image_digest(items, b->item, digest, err));
    as_buf *name = &items->id_name;
    as_buf_clear(name);
    as_buf_append_str(name, "baseline/");
    as_buf_append_span(name, b->table);
    as_buf_append_char(name, '/');
    as_json_append_unescaped(name, (as_span){items->item_key.data + 6, items->item_key.len - 8});
    as_buf_append_char(name, '/');
    as_buf_append(name, digest, sizeof digest);
    AS_GUARD(as_buf_result(name, err, BUILDING));

    item_begin(items);
    AS_GUARD(put_common(items, NULL, err));
    if (detailed) {
        put_key_map(items, keys, b->key_count);
        put_s(items, "tableName", false, b->table.ptr, b->table.len, false);
        put_name_list(items, items->changes);
        put_changes(items, items->changes, NULL, b->item);
        put_image(items, "newImage", b->item);
    } else {
        put_image(items, "newValue", b->item);
    }
    return item_end(items, 0, 0, (as_span){NULL, 0}, err);
}

as_status as_audit_build_baseline(const as_baseline *baseline, const as_audit_options *options,
                                  as_items *out, as_error *err)
{
    as_result built = baseline_args(baseline, options, out, err);
    if (as_result_is_ok(built)) {
        built = build_baseline(baseline, options, out, err);
        if (!as_result_is_ok(built)) {
            drop_unfinished(out);
        }
    }
    return as_status_of(built);
}
