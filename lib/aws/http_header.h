/* HTTP/1.1 response header lines as curl's header callback hands them over, one at a
 * time with their CRLF: the status line, and "Name: value" split and trimmed. */
#ifndef AS_HTTP_HEADER_H
#define AS_HTTP_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "auditstream/common.h"
#include "core/internal.h"

/* True when the `len` bytes at `line` start a response ("HTTP/..."): a new one after
 * an interim 1xx, so whatever headers came before belong to that one. */
AS_LOCAL bool as_http_header_is_status(const char *line, size_t len);

/* Splits a header line at its first ':' into the name, as written (no trimming), and
 * the value without leading spaces and tabs or trailing spaces, tabs, CR and LF; both
 * borrow from `line`. False, *name and *value untouched, when the line has no ':'
 * (the blank line that ends the headers, say). */
AS_LOCAL bool as_http_header_parse(const char *line, size_t len, as_span *name, as_span *value);

/* True when `name` is `want` (NUL-terminated) regardless of ASCII case. */
AS_LOCAL bool as_http_header_name_is(as_span name, const char *want);

#endif
