/* The canonical form of attribute values and images: the one text that is hashed and
 * HMACed (backfill ids, redaction, the chain), the same whatever DynamoDB rewrote. */
#ifndef AS_CANONICAL_H
#define AS_CANONICAL_H

#include <stdbool.h>

#include "auditstream/buf.h"
#include "auditstream/event.h"
#include "core/internal.h"

/* The rules: compact wire JSON; map members sorted by their decoded name bytes; SS
 * members sorted by their bytes, NS by value, BS by their decoded bytes; a number as
 * [-]<digits>E<exponent>, no leading or trailing zero in the digits, zero as 0E0 (1800 is
 * 18E2, 0.50 is 5E-1, -0.0 is 0E0); a binary as padded standard base64 of its bytes; a
 * string (and a name) with '"', '\' and the controls below 0x20 escaped as \", \\ and
 * \u00xx (lower-case hex), every other character as its raw UTF-8, whatever escapes it
 * arrived with; BOOL and NULL as {"BOOL":true}, {"NULL":true}. Values equal under the
 * diff's equality (as_value_equal) have one form, and values that differ have two. */

/* Appends the canonical form of `v`, a value of a decoded event, to `out`: {"N":"18E2"},
 * {"M":{...}}. Keys and images, maps never wrapped on the wire, are written as
 * {"M":{...}}; a member of a set (type S, N or B) as {"S":"..."}.
 * Fails with AS_ERR_ARGUMENT for a NULL argument or a value no valid record holds (a
 * number or base64 text the decoder would have refused), AS_ERR_NOMEM when memory runs out
 * (or `out` had already failed). On failure `out` is cut back to its length at the call
 * (a failed grow stays reported by as_buf_status). */
AS_LOCAL AS_RESULT as_canonical_value(const as_value *v, as_buf *out);

/* Appends the canonical form of an image, `map` (type M: a record's Keys, OldImage or
 * NewImage, or any map value), bare as an item is written: {"name":{...},...}, names
 * sorted. The same failures as as_canonical_value, and AS_ERR_ARGUMENT for a value that
 * is not a map. */
AS_LOCAL AS_RESULT as_canonical_image(const as_value *map, as_buf *out);

/* Says whether to leave `member` (an attribute of the image) out of its canonical form;
 * `ctx` is the caller's. */
typedef bool (*as_canonical_skip)(const as_value *member, void *ctx);

/* as_canonical_image of the image less the attributes `skip` leaves out (an image with
 * AUDIT_IGNORE_ATTRIBUTES applied, an item without its chain fields), without copying
 * it; only top-level attributes are asked about. `skip` NULL leaves out nothing. */
AS_LOCAL AS_RESULT as_canonical_image_without(const as_value *map, as_canonical_skip skip,
                                              void *ctx, as_buf *out);

#endif
