/* Base64 (RFC 4648, standard alphabet, padded) as DynamoDB's B and BS carry it. */
#ifndef AS_BASE64_H
#define AS_BASE64_H

#include <stdbool.h>

#include "auditstream/buf.h"
#include "core/internal.h"

/* True when `text` is padded standard base64: length a multiple of 4, every byte from
 * A-Z a-z 0-9 + / except that the last one or two may be '='. The empty text is valid
 * (0 bytes). No whitespace, no URL-safe alphabet, no missing padding. The unused low
 * bits of a padded last quantum are not checked ("QR==" decodes like "QQ==", as RFC
 * 4648 section 3.5 allows); DynamoDB itself only ever emits them as zero. When
 * `decoded_len` is not NULL it gets the decoded byte count on success. */
AS_LOCAL bool as_base64_valid(as_span text, size_t *decoded_len);

/* Appends the decoded bytes of `text`, which as_base64_valid accepted, to `out` in one
 * allocation at most; a failed allocation is left for as_buf_status(out) to report.
 * Text that was not valid yields unspecified bytes, but never a write out of bounds. */
AS_LOCAL void as_base64_decode(as_span text, as_buf *out);

/* Decodes one four-character quantum `in` into `out` and returns how many bytes it holds:
 * 3, or 2 or 1 for a padded last quantum ("QQ==" holds 1), 0 for "====" or worse. For
 * texts read a quantum at a time (comparing escaped B values without decoding them
 * whole); characters outside the alphabet decode as 0 bits, never out of bounds. */
AS_LOCAL size_t as_base64_quantum(const char in[4], unsigned char out[3]);

#endif
