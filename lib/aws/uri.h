/* RFC 3986 percent-encoding, the one copy for the signer's canonical path and query and
 * the runtime client's request ids in URL paths: unreserved bytes kept, every other byte
 * %XX in upper case. */
#ifndef AS_URI_H
#define AS_URI_H

#include <stdbool.h>

#include "auditstream/buf.h"
#include "core/internal.h"

/* A-Z a-z 0-9 - . _ ~ */
AS_LOCAL bool as_uri_is_unreserved(unsigned char c);

/* Appends "%XX" for `c`. */
AS_LOCAL void as_uri_append_escape(as_buf *buf, unsigned char c);

/* Appends `text` encoded; '/' is kept as well when `keep_slash` (a path of segments). */
AS_LOCAL void as_uri_append_encoded(as_buf *buf, as_span text, bool keep_slash);

#endif
