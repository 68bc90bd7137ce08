/* Unit tests for lib/base64.c: RFC 4648's vectors, every way padding can be wrong,
 * and validation and decoding checked against libcrypto's encoder on random bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "core/base64.h"

/* Validates and decodes `text` into a fresh buffer; the caller frees it. */
static as_buf decode_ok(as_span text)
{
    size_t n = SIZE_MAX;
    if (!as_base64_valid(text, &n)) {
        fail_msg("\"%.*s\" rejected", (int)text.len, text.ptr);
    }
    as_buf out = AS_BUF_INIT;
    as_base64_decode(text, &out);
    assert_int_equal(as_buf_status(&out), AS_OK);
    assert_int_equal(out.len, n);
    return out;
}

/* RFC 4648 section 10, then bytes the alphabet's last characters and padding carry;
 * the decodings were checked with Python's base64.b64decode(text, validate=True). */
static const struct {
    const char *text;
    const char *bytes;
    size_t len;
} VALID[] = {
    {"", "", 0},
    {"Zg==", "f", 1},
    {"Zm8=", "fo", 2},
    {"Zm9v", "foo", 3},
    {"Zm9vYg==", "foob", 4},
    {"Zm9vYmE=", "fooba", 5},
    {"Zm9vYmFy", "foobar", 6},
    {"AA==", "\0", 1},
    {"AAA=", "\0\0", 2},
    {"AAAA", "\0\0\0", 3},
    {"////", "\xff\xff\xff", 3},
    {"++++", "\xfb\xef\xbe", 3},
    {"+/+/", "\xfb\xff\xbf", 3},
    {"/w==", "\xff", 1},
    {"//8=", "\xff\xff", 2},
    {"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
     "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14"
     "\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20",
     32},
    {"AAECAwQFBgcICQ==", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10},
    {"dGhpcyB0ZXh0IHdhcyBiYXNlNjQgZW5jb2RlZA==", "this text was base64 encoded", 28},
    {"0JrQu9GO0Yc=", "\xd0\x9a\xd0\xbb\xd1\x8e\xd1\x87", 8},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
     "\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51\x55\x97\x61\x96"
     "\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2\x9a\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3"
     "\x5d\xb7\xe3\x9e\xbb\xf3\xdf\xbf",
     48},
    /* Non-zero bits under the padding are not checked (see base64.h). */
    {"QR==", "A", 1},
    {"QUJ=", "AB", 2},
};

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof VALID / sizeof VALID[0]; i++) {
        as_buf out = decode_ok(as_span_from_cstr(VALID[i].text));
        if (out.len != VALID[i].len ||
            (out.len > 0 && memcmp(out.data, VALID[i].bytes, out.len) != 0)) {
            fail_msg("\"%s\" decoded to %zu bytes, not the %zu expected", VALID[i].text, out.len,
                     VALID[i].len);
        }
        as_buf_free(&out);
    }
}

static const char *const INVALID[] = {
    /* Length not a multiple of 4, padding missing. */
    "Z",
    "Zg",
    "Zg=",
    "Zm9",
    "Zm9vY",
    "Zm9vYg",
    "Zm9vYg=",
    "Zm9vYmE",
    "=",
    "==",
    "===",
    /* '=' anywhere but the last one or two bytes. */
    "====",
    "Z===",
    "=Zg=",
    "==Zg",
    "Zg=a",
    "Z=g=",
    "Zg==Zg==",
    "Zg==Zm9v",
    "Zm8=Zm8=",
    "Zm9v====",
    "Zm9vY===",
    "=AAA",
    "A=AA",
    "AA=A",
    /* Bytes outside the alphabet: URL-safe, whitespace, other punctuation, high bytes. */
    "Zm-_",
    "Zm9-",
    "Zm9_",
    "Zm9v\n",
    "Zm9 v",
    " Zm9v",
    "Zm9v ",
    "Zm9v\r\n",
    "Zm\tv",
    "Zm.v",
    "Zm9v!!!!",
    "Zm9v*===",
    "Zm9\x80",
    "\xffZm9",
    "Zm9v\xc3\xa9==",
    "Zg%3D",
};

static void test_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof INVALID / sizeof INVALID[0]; i++) {
        size_t n = 12345;
        if (as_base64_valid(as_span_from_cstr(INVALID[i]), &n)) {
            fail_msg("\"%s\" accepted", INVALID[i]);
        }
        /* A rejection leaves the length alone. */
        assert_int_equal(n, 12345);
    }
}

/* The length alone decides what is read: bytes past it, NULs inside it. */
static void test_span_bounds(void **state)
{
    (void)state;
    as_buf out = decode_ok((as_span){"Zm9vYmFy", 4});
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.data, "foo", 3);
    as_buf_free(&out);

    assert_false(as_base64_valid((as_span){"Zm\0v", 4}, NULL));
    assert_false(as_base64_valid((as_span){"Zm9v\0\0\0\0", 8}, NULL));
    assert_true(as_base64_valid((as_span){NULL, 0}, NULL));
    assert_true(as_base64_valid((as_span){"Zg==", 4}, NULL));
}

/* Decoding appends; nothing is written for empty text. */
static void test_decode_appends(void **state)
{
    (void)state;
    as_buf out = AS_BUF_INIT;
    as_buf_append_str(&out, "pre:");
    as_base64_decode(as_span_from_cstr("Zm9v"), &out);
    as_base64_decode(as_span_from_cstr(""), &out);
    as_base64_decode(as_span_from_cstr("YmE="), &out);
    as_base64_decode(as_span_from_cstr("cg=="), &out);
    assert_int_equal(as_buf_status(&out), AS_OK);
    assert_int_equal(out.len, 10);
    assert_string_equal(out.data, "pre:foobar");
    as_buf_free(&out);

    as_buf empty = AS_BUF_INIT;
    as_base64_decode(as_span_from_cstr(""), &empty);
    assert_null(empty.data);
    assert_int_equal(empty.len, 0);
}

/* Text that skipped validation must still not write outside the buffer: the sanitizers
 * and valgrind are the real assertion here; the lengths are what the padding implies. */
static void test_decode_unvalidated(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len;
    } CASES[] = {
        {"!!!!", 3},
        {"====", 1},
        {"A===", 1},
        {"Zg=", 0},
        {"Zm9vY", 3},
        {"Zg==Zg", 1},
        {"\xff\xff\xff\xff\xff\xff\xff\xff", 6},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_buf out = AS_BUF_INIT;
        as_base64_decode(as_span_from_cstr(CASES[i].text), &out);
        assert_int_equal(as_buf_status(&out), AS_OK);
        assert_int_equal(out.len, CASES[i].len);
        as_buf_free(&out);
    }
}

/* A deterministic xorshift64*, so that a failure can be replayed. */
static uint64_t rng_state = 0x243f6a8885a308d3u;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

/* Random bytes of every length up to 300, encoded by libcrypto, come back intact; and
 * turning any one byte of the text into one outside the alphabet is caught, as is
 * '=' anywhere but where padding may stand. */
static void test_against_libcrypto(void **state)
{
    (void)state;
    unsigned char bytes[300];
    unsigned char text[404];
    for (int round = 0; round < 4; round++) {
        for (size_t len = 0; len <= sizeof bytes; len++) {
            for (size_t i = 0; i < len; i++) {
                bytes[i] = (unsigned char)rng();
            }
            int tlen = EVP_EncodeBlock(text, bytes, (int)len);
            assert_true(tlen >= 0 && (size_t)tlen == (len + 2) / 3 * 4);
            as_span t = {(const char *)text, (size_t)tlen};
            as_buf out = decode_ok(t);
            assert_int_equal(out.len, len);
            if (len > 0) {
                assert_memory_equal(out.data, bytes, len);
            }
            as_buf_free(&out);

            if (tlen == 0) {
                continue;
            }
            /* One corrupted byte. */
            size_t at = (size_t)(rng() % (uint64_t)tlen);
            unsigned char saved = text[at];
            static const char BAD[] = "=-_ \n.\x80\xff";
            text[at] = (unsigned char)BAD[rng() % (sizeof BAD - 1)];
            bool ours = as_base64_valid(t, NULL);
            /* Only '=' can still be valid: it shortens the padding's reach. */
            bool padding_ok =
                text[at] == '=' &&
                (at == (size_t)tlen - 1 || (at == (size_t)tlen - 2 && text[tlen - 1] == '='));
            if (ours != padding_ok) {
                fail_msg("corrupting byte %zu of %d to 0x%02x: valid=%d", at, tlen, text[at], ours);
            }
            text[at] = saved;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_span_bounds),
        cmocka_unit_test(test_decode_appends),
        cmocka_unit_test(test_decode_unvalidated),
        cmocka_unit_test(test_against_libcrypto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
