/* RFC 3986 percent-encoding (aws/uri.h): runs of bytes that stay as they are go out in
 * one append, the rest as upper-case escapes. */
#include "aws/uri.h"
#include "core/hex.h"

bool as_uri_is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void as_uri_append_escape(as_buf *buf, unsigned char c)
{
    char esc[3] = {'%'};
    as_hex_encode(&c, 1, true, esc + 1);
    as_buf_append(buf, esc, sizeof esc);
}

void as_uri_append_encoded(as_buf *buf, as_span text, bool keep_slash)
{
    size_t run = 0;
    for (size_t i = 0; i < text.len; i++) {
        unsigned char c = (unsigned char)text.ptr[i];
        if (as_uri_is_unreserved(c) || (keep_slash && c == '/')) {
            continue;
        }
        as_buf_append(buf, text.ptr + run, i - run);
        as_uri_append_escape(buf, c);
        run = i + 1;
    }
    as_buf_append(buf, text.ptr + run, text.len - run);
}
