/* Reading what DynamoDB answers: a Query or Scan page, a GetItem answer or one item in
 * wire JSON, checked against DynamoDB's rules by the event decoder's own parser. */
#ifndef AUDITSTREAM_WIRE_H
#define AUDITSTREAM_WIRE_H

#include "common.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the text holds. */
typedef enum as_wire_shape {
    AS_WIRE_ANY = 0, /* decode only: whichever of the three below the text is */
    AS_WIRE_PAGE,    /* Query or Scan: {"Items":[...],"Count":..,"LastEvaluatedKey":{...}} */
    AS_WIRE_GET,     /* GetItem: {"Item":{...}}, or {} when there is no such item */
    AS_WIRE_ITEM     /* one item: {"name":{"S":"..."},...} */
} as_wire_shape;

/* Decoded items. Opaque; owns its values but not the input bytes, which must outlive it. */
typedef struct as_wire_items as_wire_items;

/* Decodes `len` bytes of `json` (borrowed: keep them alive and unchanged until
 * as_wire_items_free) as `shape`. AS_WIRE_ANY takes an object with an "Items" array as a
 * page, an object whose members are "Item" (an object) and perhaps "ConsumedCapacity",
 * or no member at all, as a GetItem answer, and any other object as one item. A page's
 * members other than Items and LastEvaluatedKey (Count, ScannedCount,
 * ConsumedCapacity...) are checked as JSON and otherwise ignored.
 * On success *out is new: free it with as_wire_items_free. Fails with AS_ERR_JSON when the
 * bytes are not JSON (err->offset says where), and AS_ERR_ARGUMENT when they are JSON but
 * not that shape, or an attribute value breaks DynamoDB's rules (bad type, number past 38
 * digits, duplicate set member or name...): the message names the item and attribute,
 * "Items[3].price: N \"1x\": not a number". */
AS_MUST_CHECK as_status as_wire_decode(const char *json, size_t len, as_wire_shape shape,
                                       as_wire_items **out, as_error *err);

/* NULL is a no-op. */
void as_wire_items_free(as_wire_items *items);

/* The shape found (never AS_WIRE_ANY); AS_WIRE_ANY for NULL. */
as_wire_shape as_wire_items_shape(const as_wire_items *items);

/* 0 for NULL. */
size_t as_wire_item_count(const as_wire_items *items);

/* The item at `index`: a map (type M, `wire` empty like an event's images, `text` its
 * object), its attributes the members that follow it (see as_value). Borrowed until
 * as_wire_items_free; NULL for a bad index or a NULL `items`. */
const as_value *as_wire_item(const as_wire_items *items, size_t index);

/* A page's LastEvaluatedKey (a map like an item), or NULL when the page has none (the
 * last page) or is not a page. Borrowed like as_wire_item. */
const as_value *as_wire_last_key(const as_wire_items *items);

/* The member of `map` (type M: an item, a key, an M value) whose decoded name is the `len`
 * bytes of `name`; NULL when there is none, or when `map` is NULL or not a map. Borrowed
 * from the map's owner. The value's `text` is still JSON-escaped: as_json_unescape
 * decodes an S. */
const as_value *as_wire_member(const as_value *map, const char *name, size_t len);

/* as_wire_member for a NUL-terminated name. */
const as_value *as_wire_attribute(const as_value *map, const char *name);

#ifdef __cplusplus
}
#endif

#endif
