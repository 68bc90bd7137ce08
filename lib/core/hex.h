/* Hex encoding, the one copy the library writes digests, signatures and \u escapes with
 * (lower case for digests and ids, upper case where a format asks for it: URI encoding),
 * and the one hex digit decoder. */
#ifndef AS_HEX_H
#define AS_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* The digits of a nibble (0..15). */
static inline char as_hex_digit(unsigned nibble, bool upper)
{
    return (upper ? "0123456789ABCDEF" : "0123456789abcdef")[nibble & 15u];
}

/* Writes the 2 * `n` hex digits of `bytes` to `out` (not NUL-terminated). */
static inline void as_hex_encode(const void *bytes, size_t n, bool upper, char *out)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = as_hex_digit(b[i] >> 4, upper);
        out[2 * i + 1] = as_hex_digit(b[i], upper);
    }
}

/* The value of a hex digit of either case, or -1 when `c` is none: the one decoder the
 * library's %XX and \uXXXX readers use. */
static inline int as_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

#endif
