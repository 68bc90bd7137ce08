/* A decoded attribute value written back as compact DynamoDB wire JSON: the one writer
 * the audit builder and the public as_value_to_json share. */
#ifndef AS_VALUE_JSON_H
#define AS_VALUE_JSON_H

#include "auditstream/buf.h"
#include "auditstream/event.h"
#include "core/internal.h"

/* Appends `v` as {"<type>":...} without whitespace outside strings; Keys and images
 * (never wrapped on the wire) become {"M":{...}}, a set member {"S":"..."} and so on.
 * A failed append is left in `out`'s sticky status. */
AS_LOCAL void as_value_append_wire(as_buf *out, const as_value *v);

#endif
