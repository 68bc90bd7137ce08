/* DynamoDB's answers as attribute-value maps: the public face of the event decoder's item
 * entry point (core/wire.h), where a faulty item fails the whole decode. */
#include <stdlib.h>

#include "auditstream/wire.h"
#include "core/internal.h"
#include "core/json_text.h"
#include "core/wire.h"

struct as_wire_items {
    as_event *event;
    const as_value **items; /* the maps, in order; LastEvaluatedKey left out */
    size_t count;
    const as_value *last_key;
    as_wire_shape shape;
};

/* Fails with the first faulty item's message: a reader has no use for half a page. */
static AS_RESULT check_items(const as_event *event, const char *json, as_error *err)
{
    for (size_t i = 0; i < as_event_record_count(event); i++) {
        const as_record *rec = as_event_record(event, i);
        if (rec->error != NULL) {
            size_t offset = (size_t)(rec->raw.ptr - json);
            return as_fail(err, AS_ERR_ARGUMENT, offset, "%s", rec->error);
        }
    }
    return AS_RESULT_OK;
}

static AS_RESULT decode(const char *json, size_t len, as_wire_shape shape, as_wire_items *w,
                        as_error *err)
{
    as_items_found found;
    AS_GUARD(as_event_decode_items(json, len, shape, &w->event, &found, err));
    AS_GUARD(check_items(w->event, json, err));
    w->shape = found.shape;
    size_t records = as_event_record_count(w->event);
    if (records > 0) {
        w->items = malloc(records * sizeof *w->items);
        AS_ENSURE(w->items != NULL, as_fail_nomem(err, "decoding DynamoDB items"));
    }
    for (size_t i = 0; i < records; i++) {
        const as_value *map = as_event_record(w->event, i)->new_image;
        if (i + 1 == found.last_key_record) {
            w->last_key = map;
        } else {
            w->items[w->count++] = map;
        }
    }
    return AS_RESULT_OK;
}

as_status as_wire_decode(const char *json, size_t len, as_wire_shape shape, as_wire_items **out,
                         as_error *err)
{
    if (out == NULL || (json == NULL && len > 0)) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_wire_decode: NULL argument"));
    }
    *out = NULL;
    as_wire_items *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return as_status_of(as_fail_nomem(err, "decoding DynamoDB items"));
    }
    as_result result = decode(json, len, shape, w, err);
    if (!as_result_is_ok(result)) {
        as_wire_items_free(w);
        return as_status_of(result);
    }
    *out = w;
    return AS_OK;
}

void as_wire_items_free(as_wire_items *items)
{
    if (items == NULL) {
        return;
    }
    as_event_free(items->event);
    free(items->items);
    free(items);
}

as_wire_shape as_wire_items_shape(const as_wire_items *items)
{
    return items != NULL ? items->shape : AS_WIRE_ANY;
}

size_t as_wire_item_count(const as_wire_items *items)
{
    return items != NULL ? items->count : 0;
}

const as_value *as_wire_item(const as_wire_items *items, size_t index)
{
    if (items == NULL || index >= items->count) {
        return NULL;
    }
    return items->items[index];
}

const as_value *as_wire_last_key(const as_wire_items *items)
{
    return items != NULL ? items->last_key : NULL;
}

const as_value *as_wire_member(const as_value *map, const char *name, size_t len)
{
    if (map == NULL || map->type != AS_TYPE_M || (name == NULL && len > 0)) {
        return NULL;
    }
    for (const as_value *m = map + 1; m < map + map->subtree; m += m->subtree) {
        bool escaped = (m->flags & AS_VALUE_NAME_ESCAPED) != 0;
        if (as_json_string_equals(m->name, escaped, name != NULL ? name : "", len)) {
            return m;
        }
    }
    return NULL;
}

const as_value *as_wire_attribute(const as_value *map, const char *name)
{
    as_span span = as_span_from_cstr(name);
    return name != NULL ? as_wire_member(map, span.ptr, span.len) : NULL;
}
