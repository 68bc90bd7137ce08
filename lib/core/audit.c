/* The audit item builder: turns decoded records into DynamoDB wire JSON, copying the
 * record's spans into one output buffer, and keeps every item within DynamoDB's limits. */
#include <stdio.h>
#include <stdlib.h>

#include "auditstream/audit.h"
#include "auditstream/buf.h"
#include "auditstream/diff.h"
#include "core/cursor.h"
#include "core/ids.h"
#include "core/internal.h"
#include "core/isotime.h"
#include "core/json_text.h"
#include "core/value_json.h"

/* The message of every allocation failure here: "out of memory building audit items". */
#define BUILDING "building audit items"

/* Items hold at most this many top-level attributes (detailed: 12). */
#define MAX_ATTRS 16

typedef struct item_slot {
    size_t json_off;
    size_t json_len;
    size_t record;
    uint32_t flags;
    uint64_t size;
    size_t reason_off;
    size_t reason_len;
} item_slot;

/* A top-level attribute of the item being written, for the size guard. */
typedef struct attr_slot {
    const char *name; /* a literal: the builder names every attribute itself */
    size_t name_len;
    size_t value_off; /* into items->json */
    size_t value_len;
    uint64_t value_size;  /* DynamoDB's size of the value */
    bool protected_field; /* id, itemKey, modificationTime are never truncated */
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
    as_buf_free(&items->scratch);
    as_changes_free(items->changes);
    as_hasher_free(items->hasher);
    free(items->slots);
    free(items->sorted);
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

as_item as_items_get(const as_items *items, size_t index)
{
    as_item item = {{NULL, 0}, 0, 0, 0, {NULL, 0}};
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

/* An S attribute from a string body as received (already JSON-escaped). */
static void put_s_body(as_items *items, const char *name, as_span body, bool escaped)
{
    attr_slot *a = attr_begin(items, name, false);
    as_buf_append(&items->json, "{\"S\":\"", 6);
    as_buf_append_span(&items->json, body);
    as_buf_append(&items->json, "\"}", 2);
    attr_end(items, a, escaped ? as_json_decoded_len(body) : body.len);
}

static void put_value(as_items *items, const char *name, const as_value *v)
{
    attr_slot *a = attr_begin(items, name, false);
    as_value_append_wire(&items->json, v);
    attr_end(items, a, v->size);
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
    for (unsigned k = 0; k < n && total > AS_ITEM_MAX_SIZE; k++) {
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
    if (size > AS_ITEM_MAX_SIZE) {
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

/* Sets items->item_key to the itemKey value ({"S":"..."}) derived from Keys. */
static AS_RESULT derive_item_key(as_items *items, const as_value *keys, as_error *err)
{
    as_buf *out = &items->item_key;
    as_buf_clear(out);
    items->has_item_key = false;
    if (keys == NULL || keys->count == 0) {
        return AS_RESULT_OK;
    }
    as_buf_append(out, "{\"S\":\"", 6);
    size_t body = out->len;
    if (keys->count == 1) {
        append_key_value(out, keys + 1, false);
    } else {
        if (keys->count > items->sorted_cap) {
            const as_value **sorted = realloc(items->sorted, keys->count * sizeof *sorted);
            AS_ENSURE(sorted != NULL, as_fail_nomem(err, BUILDING));
            items->sorted = sorted;
            items->sorted_cap = keys->count;
        }
        size_t n = 0;
        for (const as_value *k = keys + 1; k < keys + keys->subtree; k += k->subtree) {
            items->sorted[n++] = k;
        }
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

/* Prepares the id name, itemKey and time of a record. */
static AS_RESULT prepare_record(as_items *items, const as_record *rec, bool keys_usable,
                                const as_audit_options *opts, as_error *err)
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
    AS_GUARD(derive_item_key(items, keys_usable ? rec->keys : NULL, err));

    int64_t ms = opts->now_ms;
    const char *why;
    items->processing_time = rec->creation_time.ptr == NULL;
    items->has_time = true;
    if (!items->processing_time && !as_epoch_text_to_ms(rec->creation_time, &ms, &why)) {
        items->has_time = false; /* an invalid record's bad time: left out, not invented */
        return AS_RESULT_OK;
    }
    if (ms < 0 || ms > 253402300799999) {
        items->has_time = false;
        return AS_RESULT_OK;
    }
    as_iso_time_format(ms, items->time_text);
    return AS_RESULT_OK;
}

/* ---- Formats ------------------------------------------------------------------------ */

static AS_RESULT reason_error_item(as_items *items, const as_record *rec, as_span reason,
                                   as_error *err);

/* A record whose item would nest past DynamoDB's limit becomes an error item. */
static AS_RESULT depth_error(as_items *items, const as_record *rec, unsigned depth, as_error *err)
{
    char reason[160];
    int len = snprintf(reason, sizeof reason,
                       "Records[%zu]: the audit item would nest %u levels, deeper than "
                       "DynamoDB's %u",
                       rec->index, depth, AS_ITEM_MAX_DEPTH);
    as_span span = {reason, len > 0 ? (size_t)len : 0};
    return reason_error_item(items, rec, span, err);
}

/* The item for a record that cannot be turned into normal items. */
static as_result reason_error_item(as_items *items, const as_record *rec, as_span reason,
                                   as_error *err)
{
    item_begin(items);
    AS_GUARD(put_common(items, NULL, err));
    put_s(items, "error", false, reason.ptr, reason.len, false);
    attr_slot *a = attr_begin(items, "rawRecord", false);
    as_buf_append(&items->json, "{\"S\":\"", 6);
    as_buf_append_json_escaped(&items->json, rec->raw.ptr, rec->raw.len);
    as_buf_append(&items->json, "\"}", 2);
    attr_end(items, a, rec->raw.len);
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

static AS_RESULT build_classic(as_items *items, const as_record *rec, const as_audit_options *opts,
                               as_error *err)
{
    if (rec->event_name == AS_EVENT_MODIFY && images_complete(rec)) {
        AS_GUARD_STATUS(as_diff_images(rec->old_image, rec->new_image, AS_DIFF_TOP, opts->ignore,
                                       opts->ignore_count, items->changes, err));
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
        put_value(items, "oldValue", rec->old_image);
    }
    if (rec->new_image != NULL) {
        put_value(items, "newValue", rec->new_image);
    }
    return item_end(items, rec->index, flags, (as_span){NULL, 0}, err);
}

/* The table name inside a stream ARN: arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/...
 * *found is false when the record has no ARN or it names no table. */
static AS_RESULT table_from_arn(as_items *items, const as_record *rec, as_span *table, bool *found,
                                as_error *err)
{
    *found = false;
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
    *table = as_cursor_take_until(&c, '/');
    *found = table->len > 0;
    return AS_RESULT_OK;
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

/* changes: an L of M {path, oldValue, newValue}. */
static void put_changes(as_items *items, const as_changes *changes)
{
    attr_slot *a = list_begin(items, "changes");
    as_buf *out = &items->json;
    size_t count = as_changes_count(changes);
    uint64_t size = 3;
    for (size_t i = 0; i < count; i++) {
        const as_change *c = as_changes_get(changes, i);
        if (i > 0) {
            as_buf_append_char(out, ',');
        }
        uint64_t entry = 3 + strlen("path") + c->path.len + 1;
        as_buf_append(out, "{\"M\":{\"path\":{\"S\":\"", 19);
        as_buf_append_json_escaped(out, c->path.ptr, c->path.len);
        as_buf_append(out, "\"}", 2);
        if (c->old_value != NULL) {
            as_buf_append(out, ",\"oldValue\":", 12);
            as_value_append_wire(out, c->old_value);
            entry += strlen("oldValue") + c->old_value->size + 1;
        }
        if (c->new_value != NULL) {
            as_buf_append(out, ",\"newValue\":", 12);
            as_value_append_wire(out, c->new_value);
            entry += strlen("newValue") + c->new_value->size + 1;
        }
        as_buf_append(out, "}}", 2);
        size += entry + 1;
    }
    as_buf_append(out, "]}", 2);
    attr_end(items, a, size);
}

static unsigned changes_depth(const as_changes *changes)
{
    unsigned depth = 0;
    size_t count = as_changes_count(changes);
    for (size_t i = 0; i < count; i++) {
        const as_change *c = as_changes_get(changes, i);
        if (c->old_value != NULL && c->old_value->depth > depth) {
            depth = c->old_value->depth;
        }
        if (c->new_value != NULL && c->new_value->depth > depth) {
            depth = c->new_value->depth;
        }
    }
    return depth;
}

static AS_RESULT build_detailed(as_items *items, const as_record *rec, const as_audit_options *opts,
                                as_error *err)
{
    static const char *const event_names[] = {"", "CREATE", "UPDATE", "DELETE"};
    const as_value *whole = NULL; /* CREATE/DELETE: the image whose attributes all changed */
    bool have_changes = images_complete(rec);
    if (have_changes) {
        if (rec->event_name == AS_EVENT_MODIFY) {
            AS_GUARD_STATUS(as_diff_images(rec->old_image, rec->new_image, AS_DIFF_DEEP,
                                           opts->ignore, opts->ignore_count, items->changes, err));
        } else {
            whole = rec->event_name == AS_EVENT_INSERT ? rec->new_image : rec->old_image;
            /* Against an empty side, the deep diff lists each top-level attribute whole. */
            AS_GUARD_STATUS(as_diff_images(rec->event_name == AS_EVENT_REMOVE ? whole : NULL,
                                           rec->event_name == AS_EVENT_INSERT ? whole : NULL,
                                           AS_DIFF_DEEP, NULL, 0, items->changes, err));
        }
    }
    /* Wrapped in changes (L of M), a value sits two levels deeper than in the image. */
    unsigned depth = have_changes ? changes_depth(items->changes) + 2 : 0;
    if (rec->old_image != NULL && rec->old_image->depth > depth) {
        depth = rec->old_image->depth;
    }
    if (rec->new_image != NULL && rec->new_image->depth > depth) {
        depth = rec->new_image->depth;
    }
    if (depth > AS_ITEM_MAX_DEPTH) {
        return depth_error(items, rec, depth, err);
    }

    item_begin(items);
    AS_GUARD(put_common(items, NULL, err));
    const char *event_name = event_names[rec->event_name];
    put_s(items, "eventName", false, event_name, strlen(event_name), true);
    put_value(items, "keys", rec->keys);
    put_s_body(items, "sequenceNumber", rec->sequence_number,
               (rec->escaped & AS_RECORD_SEQUENCE_ESCAPED) != 0);
    as_span table;
    bool has_table;
    AS_GUARD(table_from_arn(items, rec, &table, &has_table, err));
    if (has_table) {
        put_s(items, "tableName", false, table.ptr, table.len, false);
    }
    const char *cause = is_ttl_delete(rec) ? "ttl" : "user";
    put_s(items, "cause", false, cause, strlen(cause), true);
    if (have_changes) {
        put_name_list(items, items->changes);
        put_changes(items, items->changes);
    }
    if (rec->old_image != NULL) {
        put_value(items, "oldImage", rec->old_image);
    }
    if (rec->new_image != NULL) {
        put_value(items, "newImage", rec->new_image);
    }
    return item_end(items, rec->index, have_changes ? 0 : AS_ITEM_MISSING_IMAGES,
                    (as_span){NULL, 0}, err);
}

/* as_audit_build's work, for one record whose arguments are checked. */
static AS_RESULT build_items(const as_record *record, const as_audit_options *options,
                             as_items *out, as_error *err)
{
    AS_GUARD(prepare_record(out, record, record->keys != NULL, options, err));
    if (record->error != NULL) {
        return reason_error_item(out, record, as_span_from_cstr(record->error), err);
    }
    if (options->format == AS_FORMAT_DETAILED) {
        return build_detailed(out, record, options, err);
    }
    /* Classic wraps a whole image once, as newValue or oldValue. */
    if (!(record->event_name == AS_EVENT_MODIFY && images_complete(record))) {
        const as_value *images[2] = {record->old_image, record->new_image};
        for (int i = 0; i < 2; i++) {
            if (images[i] != NULL && images[i]->depth > AS_ITEM_MAX_DEPTH) {
                return depth_error(out, record, images[i]->depth, err);
            }
        }
    }
    return build_classic(out, record, options, err);
}

/* build_items, leaving no part of an unfinished item behind when it fails: the items
 * finished before it (of this record too) stay whole, and the JSON ends with the last. */
static AS_RESULT build_record(const as_record *record, const as_audit_options *options,
                              as_items *out, as_error *err)
{
    as_result built = build_items(record, options, out, err);
    if (!as_result_is_ok(built)) {
        const item_slot *last = out->count > 0 ? &out->slots[out->count - 1] : NULL;
        as_buf_truncate(&out->json, last != NULL ? last->json_off + last->json_len : 0);
    }
    return built;
}

as_status as_audit_build(const as_record *record, const as_audit_options *options, as_items *out,
                         as_error *err)
{
    if (record == NULL || options == NULL || out == NULL) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_audit_build: NULL argument"));
    }
    return as_status_of(build_record(record, options, out, err));
}

as_status as_audit_build_event(const as_event *event, const as_audit_options *options,
                               as_items *out, as_error *err)
{
    if (event == NULL || options == NULL || out == NULL) {
        return as_status_of(
            as_fail(err, AS_ERR_ARGUMENT, 0, "as_audit_build_event: NULL argument"));
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
