/* Unit tests for lib/ids.c: UUIDv5 and SHA-256 known answers (cross-checked with
 * Python's uuid and hashlib), the audit namespace, and the version and variant bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_fail.h"
#include "core/ids.h"

/* RFC 9562 appendix C's NAMESPACE_URL and NAMESPACE_DNS. */
static const unsigned char NAMESPACE_URL[16] = {
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
};
static const unsigned char NAMESPACE_DNS[16] = {
    0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
};

static void expect_uuid(const unsigned char ns[16], const void *name, size_t len, const char *want)
{
    char out[AS_UUID_TEXT_LEN + 1];
    memset(out, '#', sizeof out);
    assert_int_equal(as_uuid5(NULL, ns, name, len, out, NULL).status, AS_OK);
    /* Exactly 36 bytes are written: the guard byte after them is untouched. */
    assert_int_equal(out[AS_UUID_TEXT_LEN], '#');
    out[AS_UUID_TEXT_LEN] = '\0';
    assert_string_equal(out, want);
}

static void test_audit_namespace(void **state)
{
    (void)state;
    static const char NAME[] = "urn:libauditstream:audit-id";
    expect_uuid(NAMESPACE_URL, NAME, strlen(NAME), "526e30d9-4c12-5f25-8142-6d3f5f417dc4");

    /* The constant is those 16 bytes, recomputed rather than copied. */
    char text[AS_UUID_TEXT_LEN];
    assert_int_equal(as_uuid5(NULL, NAMESPACE_URL, NAME, strlen(NAME), text, NULL).status, AS_OK);
    unsigned char bytes[16];
    size_t b = 0;
    size_t i = 0;
    while (i < AS_UUID_TEXT_LEN) {
        if (text[i] == '-') {
            i++;
            continue;
        }
        unsigned hi = (unsigned)(text[i] <= '9' ? text[i] - '0' : text[i] - 'a' + 10);
        unsigned lo = (unsigned)(text[i + 1] <= '9' ? text[i + 1] - '0' : text[i + 1] - 'a' + 10);
        bytes[b++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    assert_int_equal(b, 16);
    assert_memory_equal(as_audit_namespace, bytes, 16);
}

/* Names in the audit namespace; the first two are docs/audit-format.md's examples. */
static const struct {
    const char *name;
    size_t len;
    const char *uuid;
} AUDIT_IDS[] = {
    {"c4ca4238a0b923820dcc509a6f75849b", 32, "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925"},
    {"c4ca4238a0b923820dcc509a6f75849b/value", 38, "35338964-9dc6-5199-a27f-fcb4c705e8bd"},
    {"", 0, "b4340d82-a31c-5f9b-aa7d-9f30ba8210ab"},
    {"a\0b", 3, "fb8ef381-7fd7-5f57-86c0-6c5c1ff8426d"},
    {"\xff\xfe", 2, "d9eb4065-dcaa-5406-a758-3315abb594ff"},
    {"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87/\xd0\xb7\xd0\xbd\xd0\xb0\xd1\x87\xd0\xb5\xd0\xbd\xd0\xb8"
     "\xd0\xb5",
     25, "6147f9fb-a7c2-55cd-9691-a1ac43a8879f"},
};

static void test_audit_ids(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof AUDIT_IDS / sizeof AUDIT_IDS[0]; i++) {
        expect_uuid(as_audit_namespace, AUDIT_IDS[i].name, AUDIT_IDS[i].len, AUDIT_IDS[i].uuid);
    }
    /* A name longer than a SHA-1 block, and the empty name given as NULL. */
    char x[1000];
    memset(x, 'x', sizeof x);
    expect_uuid(as_audit_namespace, x, sizeof x, "937562b2-3e18-5727-8fdd-b005da6efcc8");
    expect_uuid(as_audit_namespace, NULL, 0, "b4340d82-a31c-5f9b-aa7d-9f30ba8210ab");
}

/* Python's own examples: uuid5(NAMESPACE_DNS, "python.org") and RFC 9562's URL one. */
static void test_other_namespaces(void **state)
{
    (void)state;
    expect_uuid(NAMESPACE_DNS, "python.org", 10, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    expect_uuid(NAMESPACE_URL, "http://www.example.com/", 23,
                "fcde3c85-2270-590f-9e7c-ee003d65e0e2");
}

/* Every id is lower-case hex in 8-4-4-4-12 groups, version 5, variant 10xx, and
 * different names give different ids. */
static void test_shape(void **state)
{
    (void)state;
    char prev[AS_UUID_TEXT_LEN] = {0};
    for (unsigned i = 0; i < 2000; i++) {
        unsigned char name[4] = {(unsigned char)i, (unsigned char)(i >> 8), 0, 7};
        char out[AS_UUID_TEXT_LEN];
        assert_int_equal(as_uuid5(NULL, as_audit_namespace, name, sizeof name, out, NULL).status,
                         AS_OK);
        for (size_t k = 0; k < AS_UUID_TEXT_LEN; k++) {
            if (k == 8 || k == 13 || k == 18 || k == 23) {
                assert_int_equal(out[k], '-');
            } else {
                assert_true((out[k] >= '0' && out[k] <= '9') || (out[k] >= 'a' && out[k] <= 'f'));
            }
        }
        assert_int_equal(out[14], '5');
        assert_non_null(strchr("89ab", out[19]));
        assert_memory_not_equal(out, prev, AS_UUID_TEXT_LEN);
        memcpy(prev, out, sizeof prev);
    }
}

/* FIPS 180-2's examples and a few more, checked with Python's hashlib. */
static const struct {
    const char *bytes;
    size_t len;
    const char *hex;
} SHA256S[] = {
    {"", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"\0", 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
    {"{\"N\":\"3600\"}", 12, "6f63e0b80afad56d22de810d4c862b7a4dba41d425dc4d1d392e2698fbe95409"},
};

static void test_sha256(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof SHA256S / sizeof SHA256S[0]; i++) {
        char out[AS_SHA256_HEX_LEN + 1];
        memset(out, '#', sizeof out);
        assert_int_equal(as_sha256_hex(NULL, SHA256S[i].bytes, SHA256S[i].len, out, NULL).status,
                         AS_OK);
        assert_int_equal(out[AS_SHA256_HEX_LEN], '#');
        out[AS_SHA256_HEX_LEN] = '\0';
        assert_string_equal(out, SHA256S[i].hex);
    }
    /* A million 'a's: FIPS 180-2's long example, across many blocks. */
    static char million[1000000];
    memset(million, 'a', sizeof million);
    char out[AS_SHA256_HEX_LEN + 1];
    assert_int_equal(as_sha256_hex(NULL, million, sizeof million, out, NULL).status, AS_OK);
    out[AS_SHA256_HEX_LEN] = '\0';
    assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_int_equal(as_sha256_hex(NULL, NULL, 0, out, NULL).status, AS_OK);
    assert_memory_equal(out, SHA256S[0].hex, AS_SHA256_HEX_LEN);
}

/* A reused hasher gives what a fresh context gives, call after call, both digests mixed. */
static void test_reused_hasher(void **state)
{
    (void)state;
    as_hasher *hasher = as_hasher_new();
    assert_non_null(hasher);
    for (int round = 0; round < 3; round++) {
        char fresh[AS_UUID_TEXT_LEN];
        char reused[AS_UUID_TEXT_LEN];
        assert_int_equal(
            as_uuid5(NULL, as_audit_namespace, "c4ca4238a0b923820dcc509a6f75849b", 32, fresh, NULL)
                .status,
            AS_OK);
        assert_int_equal(as_uuid5(hasher, as_audit_namespace, "c4ca4238a0b923820dcc509a6f75849b",
                                  32, reused, NULL)
                             .status,
                         AS_OK);
        assert_memory_equal(fresh, "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", AS_UUID_TEXT_LEN);
        assert_memory_equal(reused, fresh, AS_UUID_TEXT_LEN);
        char hex_fresh[AS_SHA256_HEX_LEN];
        char hex_reused[AS_SHA256_HEX_LEN];
        assert_int_equal(as_sha256_hex(NULL, "abc", 3, hex_fresh, NULL).status, AS_OK);
        assert_int_equal(as_sha256_hex(hasher, "abc", 3, hex_reused, NULL).status, AS_OK);
        assert_memory_equal(hex_reused, hex_fresh, AS_SHA256_HEX_LEN);
    }
    as_hasher_free(hasher);
    as_hasher_free(NULL);
}

/* libcrypto's allocator replaced (alloc_fail.h) before anything allocates. */
static bool allocator_replaced;

/* Whichever of libcrypto's allocations fails, the status says so and the output is no
 * id; once allocations succeed again, so do the functions. */
static void test_allocation_failure(void **state)
{
    (void)state;
    assert_true(allocator_replaced);
    static const char NAME[] = "c4ca4238a0b923820dcc509a6f75849b";
    int failures = 0;
    for (long at = 1; at <= 64; at++) {
        char uuid[AS_UUID_TEXT_LEN];
        char hex[AS_SHA256_HEX_LEN];
        alloc_fail_after(at);
        as_status s1 = as_uuid5(NULL, as_audit_namespace, NAME, strlen(NAME), uuid, NULL).status;
        alloc_fail_off();
        bool hit = alloc_fail_hit();
        alloc_fail_after(at);
        as_status s2 = as_sha256_hex(NULL, NAME, strlen(NAME), hex, NULL).status;
        alloc_fail_off();
        hit = hit || alloc_fail_hit();
        if (s1 != AS_OK) {
            assert_int_equal(s1, AS_ERR_NOMEM);
            for (size_t i = 0; i < sizeof uuid; i++) {
                assert_int_equal(uuid[i], '0');
            }
            failures++;
        } else {
            assert_memory_equal(uuid, "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", sizeof uuid);
        }
        if (s2 != AS_OK) {
            assert_int_equal(s2, AS_ERR_NOMEM);
            for (size_t i = 0; i < sizeof hex; i++) {
                assert_int_equal(hex[i], '0');
            }
        } else {
            assert_memory_equal(hex,
                                "08428467285068b426356b9b0d0ae1e80378d9137d5e559e5f8377dbd6dde29f",
                                sizeof hex);
        }
        if (!hit) {
            break; /* neither call allocates that often: later `at` change nothing */
        }
    }
    /* The first allocation (the digest context) always fails the call. */
    assert_true(failures >= 1);
    expect_uuid(as_audit_namespace, NAME, strlen(NAME), "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925");
}

int main(void)
{
    /* Only possible before libcrypto allocates anything; should something linked in have
     * made it allocate already, the allocation failure test fails rather than pass empty. */
    allocator_replaced = alloc_fail_hook_libcrypto();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_namespace),
        cmocka_unit_test(test_audit_ids),
        cmocka_unit_test(test_other_namespaces),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_reused_hasher),
        cmocka_unit_test(test_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
