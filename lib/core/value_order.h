/* Orders of attribute values that the diff's equality and the canonical form share, so
 * that a set sorts one way wherever it is sorted. */
#ifndef AS_CORE_VALUE_ORDER_H
#define AS_CORE_VALUE_ORDER_H

#include "auditstream/event.h"
#include "core/internal.h"

/* Byte order of two B values' decoded bytes: two spellings of one value compare equal
 * (escapes, and the unused bits of a padded quantum: "QR==" is "QQ=="). Both must come
 * from a decoder, which validated them. */
AS_LOCAL int as_binary_cmp(const as_value *a, const as_value *b);

#endif
