/* The event decoder's second entry point: DynamoDB items (a Query or Scan page, a GetItem
 * answer, one item) read with the same validating parser as a Streams event's images. */
#ifndef AS_CORE_WIRE_H
#define AS_CORE_WIRE_H

#include "auditstream/event.h"
#include "auditstream/wire.h"
#include "core/internal.h"

/* What as_event_decode_items found besides the items. */
typedef struct as_items_found {
    as_wire_shape shape;    /* never AS_WIRE_ANY */
    size_t last_key_record; /* the record holding LastEvaluatedKey, + 1; 0 when none */
} as_items_found;

/* Decodes `len` bytes of `json` (borrowed, as for as_event_decode) as `shape` into a new
 * event whose records each hold one map: `new_image` is the map, `raw` its text, `error`
 * its first fault ("Items[3].price: N ...") or NULL. The records are the items in order,
 * and the page's LastEvaluatedKey where it came in the text (found->last_key_record).
 * Fails with AS_ERR_JSON when the bytes are not JSON and AS_ERR_ARGUMENT when they are
 * not `shape`; a faulty attribute value fails nothing here: the caller reads `error`. */
AS_LOCAL AS_RESULT as_event_decode_items(const char *json, size_t len, as_wire_shape shape,
                                         as_event **out, as_items_found *found, as_error *err);

#endif
