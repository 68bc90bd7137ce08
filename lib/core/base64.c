/* Base64 (RFC 4648 section 4: standard alphabet, '=' padding) for DynamoDB's B and BS:
 * strict validation, and decoding straight into the output buffer's storage. */
#include "core/base64.h"

/* Each byte of the alphabet maps to VALID | its sextet; every other byte, '=' included,
 * maps to 0 (only the checks on the last quantum let '=' through). One table serves
 * both validation and decoding. */
#define VALID 0x80
#define S(v)  (VALID | (v))

static const unsigned char SEXTET[256] = {
    ['A'] = S(0),  ['B'] = S(1),  ['C'] = S(2),  ['D'] = S(3),  ['E'] = S(4),  ['F'] = S(5),
    ['G'] = S(6),  ['H'] = S(7),  ['I'] = S(8),  ['J'] = S(9),  ['K'] = S(10), ['L'] = S(11),
    ['M'] = S(12), ['N'] = S(13), ['O'] = S(14), ['P'] = S(15), ['Q'] = S(16), ['R'] = S(17),
    ['S'] = S(18), ['T'] = S(19), ['U'] = S(20), ['V'] = S(21), ['W'] = S(22), ['X'] = S(23),
    ['Y'] = S(24), ['Z'] = S(25), ['a'] = S(26), ['b'] = S(27), ['c'] = S(28), ['d'] = S(29),
    ['e'] = S(30), ['f'] = S(31), ['g'] = S(32), ['h'] = S(33), ['i'] = S(34), ['j'] = S(35),
    ['k'] = S(36), ['l'] = S(37), ['m'] = S(38), ['n'] = S(39), ['o'] = S(40), ['p'] = S(41),
    ['q'] = S(42), ['r'] = S(43), ['s'] = S(44), ['t'] = S(45), ['u'] = S(46), ['v'] = S(47),
    ['w'] = S(48), ['x'] = S(49), ['y'] = S(50), ['z'] = S(51), ['0'] = S(52), ['1'] = S(53),
    ['2'] = S(54), ['3'] = S(55), ['4'] = S(56), ['5'] = S(57), ['6'] = S(58), ['7'] = S(59),
    ['8'] = S(60), ['9'] = S(61), ['+'] = S(62), ['/'] = S(63),
};

static bool in_alphabet(char c)
{
    return (SEXTET[(unsigned char)c] & VALID) != 0;
}

/* The masking keeps decoding of text that skipped validation within 6 bits per byte:
 * wrong bytes come out, never out-of-bounds writes. */
static uint32_t sextet(char c)
{
    return SEXTET[(unsigned char)c] & 0x3f;
}

/* Number of '=' at the end of a text whose length is a non-zero multiple of 4. */
static size_t padding(as_span text)
{
    if (text.ptr[text.len - 1] != '=') {
        return 0;
    }
    return text.ptr[text.len - 2] == '=' ? 2 : 1;
}

bool as_base64_valid(as_span text, size_t *decoded_len)
{
    if (text.len % 4 != 0) {
        return false;
    }
    if (text.len == 0) {
        if (decoded_len != NULL) {
            *decoded_len = 0;
        }
        return true;
    }
    size_t pad = padding(text);
    size_t data = text.len - pad;
    for (size_t i = 0; i < data; i++) {
        if (!in_alphabet(text.ptr[i])) {
            return false;
        }
    }
    if (decoded_len != NULL) {
        *decoded_len = text.len / 4 * 3 - pad;
    }
    return true;
}

size_t as_base64_quantum(const char in[4], unsigned char out[3])
{
    uint32_t v = sextet(in[0]) << 18 | sextet(in[1]) << 12 | sextet(in[2]) << 6 | sextet(in[3]);
    out[0] = (unsigned char)(v >> 16);
    out[1] = (unsigned char)(v >> 8);
    out[2] = (unsigned char)v;
    size_t pads = (size_t)(in[3] == '=') + (size_t)(in[2] == '=') + (size_t)(in[1] == '=');
    return pads >= 3 ? 0 : 3 - pads;
}

void as_base64_decode(as_span text, as_buf *out)
{
    size_t quads = text.len / 4;
    if (quads == 0) {
        return;
    }
    size_t pad = padding((as_span){text.ptr, quads * 4});
    size_t n = quads * 3 - pad;
    if (as_buf_reserve(out, n) != AS_OK) {
        /* The buffer now reports the failure through as_buf_status(). */
        return;
    }
    unsigned char *dst = (unsigned char *)out->data + out->len;
    const char *src = text.ptr;
    /* Every quantum but the last is whole; the last may stop after 1 or 2 bytes. */
    for (size_t q = 0; q + 1 < quads; q++, src += 4) {
        uint32_t v =
            sextet(src[0]) << 18 | sextet(src[1]) << 12 | sextet(src[2]) << 6 | sextet(src[3]);
        *dst++ = (unsigned char)(v >> 16);
        *dst++ = (unsigned char)(v >> 8);
        *dst++ = (unsigned char)v;
    }
    uint32_t v = sextet(src[0]) << 18 | sextet(src[1]) << 12;
    *dst++ = (unsigned char)(v >> 16);
    if (pad < 2) {
        v |= sextet(src[2]) << 6;
        *dst++ = (unsigned char)(v >> 8);
    }
    if (pad < 1) {
        v |= sextet(src[3]);
        *dst++ = (unsigned char)v;
    }
    out->len += n;
    out->data[out->len] = '\0';
}
