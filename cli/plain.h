/* Attribute values as people read them in auditstream's tables: "text" for S, the digits
 * for N, true/null, {..} and [..], <<..>> for sets, b64:.. for binary; not wire JSON. */
#ifndef CLI_PLAIN_H
#define CLI_PLAIN_H

#include "auditstream/buf.h"
#include "auditstream/event.h"

/* Appends `value` (as decoded by the library): S as a JSON string ("a\"b", escapes as
 * stored), N as its text, B as b64:<base64>, BOOL and NULL as true, false, null, M as
 * {"name":value,...}, L as [value,...], SS, NS and BS as <<member,...>>. */
void cli_plain_value(const as_value *value, as_buf *out);

/* The same for one value in compact wire JSON ({"N":"1.50"}); the text itself, as is,
 * when it does not decode. AS_ERR_NOMEM when memory ran out, else AS_OK. */
as_status cli_plain_wire(as_span wire, as_buf *out);

#endif
