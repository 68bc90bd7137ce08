/* Deterministic identifiers for audit items: UUID version 5 (RFC 9562 section 5.5) and
 * hex SHA-256, both through libcrypto's EVP interface (the only one not deprecated in 3.0). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/hex.h"
#include "core/ids.h"

/* UUIDv5(NAMESPACE_URL, "urn:libauditstream:audit-id"); test_ids recomputes it. */
const unsigned char as_audit_namespace[16] = {
    0x52, 0x6e, 0x30, 0xd9, 0x4c, 0x12, 0x5f, 0x25, 0x81, 0x42, 0x6d, 0x3f, 0x5f, 0x41, 0x7d, 0xc4,
};

struct as_hasher {
    EVP_MD_CTX *ctx;
    EVP_MD *sha1;
    EVP_MD *sha256;
};

as_hasher *as_hasher_new(void)
{
    as_hasher *h = calloc(1, sizeof *h);
    if (h == NULL) {
        return NULL;
    }
    h->ctx = EVP_MD_CTX_new();
    h->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    h->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (h->ctx == NULL || h->sha1 == NULL || h->sha256 == NULL) {
        as_hasher_free(h);
        return NULL;
    }
    return h;
}

void as_hasher_free(as_hasher *hasher)
{
    if (hasher == NULL) {
        return;
    }
    EVP_MD_CTX_free(hasher->ctx);
    EVP_MD_free(hasher->sha1);
    EVP_MD_free(hasher->sha256);
    free(hasher);
}

/* Digest of `a` followed by `b`, so the namespace and the name need no joined copy.
 * libcrypto allocates (a context without a hasher, digest state on a change of
 * algorithm), and any of its failures is taken for want of memory. */
static AS_RESULT digest2(as_hasher *hasher, bool sha1, const void *a, size_t a_len, const void *b,
                         size_t b_len, unsigned char *out, as_error *err)
{
    EVP_MD_CTX *ctx = hasher != NULL ? hasher->ctx : EVP_MD_CTX_new();
    const EVP_MD *md = hasher != NULL ? (sha1 ? hasher->sha1 : hasher->sha256)
                                      : (sha1 ? EVP_sha1() : EVP_sha256());
    AS_ENSURE(ctx != NULL, as_fail_nomem(err, "making a digest context"));
    bool done = EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, a_len) == 1 &&
                EVP_DigestUpdate(ctx, b, b_len) == 1 && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    if (hasher == NULL) {
        EVP_MD_CTX_free(ctx);
    }
    AS_ENSURE(done, as_fail(err, AS_ERR_NOMEM, 0, "out of memory computing a %s digest",
                            sha1 ? "SHA-1" : "SHA-256"));
    return AS_RESULT_OK;
}

as_result as_uuid5(as_hasher *hasher, const unsigned char ns[16], const void *name, size_t len,
                   char out[AS_UUID_TEXT_LEN], as_error *err)
{
    unsigned char hash[EVP_MAX_MD_SIZE];
    as_result hashed = digest2(hasher, true, ns, 16, name, len, hash, err);
    if (!as_result_is_ok(hashed)) {
        memset(out, '0', AS_UUID_TEXT_LEN);
        return hashed;
    }
    /* The first 16 bytes of the SHA-1, with version 5 in the high nibble of byte 6 and
     * the RFC 9562 variant (binary 10) in the high bits of byte 8. */
    hash[6] = (unsigned char)((hash[6] & 0x0f) | 0x50);
    hash[8] = (unsigned char)((hash[8] & 0x3f) | 0x80);
    as_hex_encode(hash, 4, false, out);
    out[8] = '-';
    as_hex_encode(hash + 4, 2, false, out + 9);
    out[13] = '-';
    as_hex_encode(hash + 6, 2, false, out + 14);
    out[18] = '-';
    as_hex_encode(hash + 8, 2, false, out + 19);
    out[23] = '-';
    as_hex_encode(hash + 10, 6, false, out + 24);
    return AS_RESULT_OK;
}

as_result as_sha256_hex(as_hasher *hasher, const void *bytes, size_t len,
                        char out[AS_SHA256_HEX_LEN], as_error *err)
{
    unsigned char hash[EVP_MAX_MD_SIZE];
    as_result hashed = digest2(hasher, false, bytes, len, "", 0, hash, err);
    if (!as_result_is_ok(hashed)) {
        memset(out, '0', AS_SHA256_HEX_LEN);
        return hashed;
    }
    as_hex_encode(hash, 32, false, out);
    return AS_RESULT_OK;
}
