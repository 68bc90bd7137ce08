/* Hex encoding, the one copy the library writes digests, signatures and \u escapes with:
 * lower case for digests and ids, upper case where a format asks for it (URI encoding). */
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

#endif
