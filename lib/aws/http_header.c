/* The line parsing that ddb.c and runtime.c share in their curl header callbacks;
 * what each keeps of a header, and what a new status line resets, stays with them. */
#include <string.h>
#include <strings.h>

#include "aws/http_header.h"
#include "core/cursor.h"

bool as_http_header_is_status(const char *line, size_t len)
{
    return len >= 5 && memcmp(line, "HTTP/", 5) == 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool as_http_header_parse(const char *line, size_t len, as_span *name, as_span *value)
{
    as_cursor c = as_cursor_of((as_span){line, len});
    as_span before = as_cursor_take_until(&c, ':');
    if (!as_cursor_take_char(&c, ':')) {
        return false;
    }
    while (as_cursor_take_char(&c, ' ') || as_cursor_take_char(&c, '\t')) {
    }
    as_span rest = as_cursor_rest(&c);
    while (rest.len > 0 && (rest.ptr[rest.len - 1] == '\r' || rest.ptr[rest.len - 1] == '\n' ||
                            is_blank(rest.ptr[rest.len - 1]))) {
        rest.len--;
    }
    *name = before;
    *value = rest;
    return true;
}

bool as_http_header_name_is(as_span name, const char *want)
{
    return strlen(want) == name.len && strncasecmp(name.ptr, want, name.len) == 0;
}
