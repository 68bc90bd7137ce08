/* The line parsing that ddb.c and runtime.c share in their curl header callbacks;
 * what each keeps of a header, and what a new status line resets, stays with them. */
#include <string.h>
#include <strings.h>

#include "aws/http_header.h"

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
    const char *colon = memchr(line, ':', len);
    if (colon == NULL) {
        return false;
    }
    const char *start = colon + 1;
    const char *end = line + len;
    while (start < end && is_blank(*start)) {
        start++;
    }
    while (end > start && (end[-1] == '\r' || end[-1] == '\n' || is_blank(end[-1]))) {
        end--;
    }
    *name = (as_span){line, (size_t)(colon - line)};
    *value = (as_span){start, (size_t)(end - start)};
    return true;
}

bool as_http_header_name_is(as_span name, const char *want)
{
    return strlen(want) == name.len && strncasecmp(name.ptr, want, name.len) == 0;
}
