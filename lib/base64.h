/* Base64 (RFC 4648, standard alphabet, padded) as DynamoDB's B and BS carry it. */
#ifndef AS_BASE64_H
#define AS_BASE64_H

#include <stdbool.h>

#include "auditstream/buf.h"
#include "internal.h"

/* True when `text` is padded standard base64 (length a multiple of 4, '=' only as the
 * last one or two bytes); *decoded_len gets the decoded byte count. */
AS_LOCAL bool as_base64_valid(as_span text, size_t *decoded_len);

/* Appends the decoded bytes of valid `text` to `out`. */
AS_LOCAL void as_base64_decode(as_span text, as_buf *out);

#endif
