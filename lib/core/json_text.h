/* Small operations on JSON text the decoder has already validated: reading, comparing and
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

/* Appends the decoded bytes of a validated string body to `out` (sticky on failure). */
AS_LOCAL void as_json_append_unescaped(as_buf *out, as_span body);

/* The one JSON unescaper: walks the decoded bytes of a validated string body a chunk at
 * a time (a run of plain bytes, or the UTF-8 bytes of one escape), without allocating. */
typedef struct as_json_reader {
    const char *p;
    const char *end;
    bool decode; /* false: the bytes are raw, a backslash is just a byte */
    char esc[4];
} as_json_reader;

/* A reader of `body`; `escaped` says whether it holds a backslash escape to decode. */
AS_LOCAL as_json_reader as_json_reader_of(as_span body, bool escaped);

/* The next chunk into *ptr and *len (never 0); false at the end. *ptr stays valid while
 * the reader and the body do. */
AS_LOCAL bool as_json_reader_next(as_json_reader *r, const char **ptr, size_t *len);

/* Decoded bytes one at a time over as_json_reader, for texts read byte by byte (N and
 * B, which decode to ASCII). */
typedef struct as_json_bytes {
    as_json_reader reader;
    const char *ptr;
    size_t len;
} as_json_bytes;

static inline as_json_bytes as_json_bytes_of(as_span body, bool escaped)
{
    as_json_bytes b = {as_json_reader_of(body, escaped), NULL, 0};
    return b;
}

/* The next decoded byte (0..255), or -1 at the end. */
static inline int as_json_bytes_next(as_json_bytes *b)
{
    if (b->len == 0 && !as_json_reader_next(&b->reader, &b->ptr, &b->len)) {
        return -1;
    }
    b->len--;
    return (unsigned char)*b->ptr++;
}

#endif
