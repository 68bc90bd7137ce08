/* Small operations on JSON text the decoder has already validated: comparing and
 * copying escaped strings, and copying a value with its insignificant whitespace dropped. */
#ifndef AS_JSON_TEXT_H
#define AS_JSON_TEXT_H

#include <stdbool.h>

#include "auditstream/buf.h"
#include "core/internal.h"

/* Appends `span` (validated JSON text) to `out` without whitespace outside strings. */
AS_LOCAL void as_json_append_compact(as_buf *out, as_span span);

/* Byte-order comparison of two validated string bodies by their decoded bytes;
 * `escaped` says whether each holds a backslash (when neither does this is memcmp). */
AS_LOCAL int as_json_string_cmp(as_span a, bool a_escaped, as_span b, bool b_escaped);

/* True when the string body decodes to exactly the `len` raw bytes of `bytes`. */
AS_LOCAL bool as_json_string_equals(as_span body, bool escaped, const char *bytes, size_t len);

/* Length of the well-formed UTF-8 sequence at `p` (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF; 1 for ASCII), or 0 when there is none. `avail`
 * bytes are readable. */
AS_LOCAL size_t as_utf8_sequence(const unsigned char *p, size_t avail);

/* Appends any bytes as a JSON string body: escaped as as_buf_append_json_escaped, and
 * each byte that starts no well-formed UTF-8 sequence replaced by U+FFFD, so that text
 * quoting raw input (or cut mid-character) still makes valid JSON. */
AS_LOCAL void as_json_append_text(as_buf *out, as_span text);

/* Number of bytes `body` decodes to. */
AS_LOCAL size_t as_json_decoded_len(as_span body);

#endif
