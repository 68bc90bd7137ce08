/* Deterministic identifiers for audit items: UUID version 5 (RFC 9562 section 5.5) and
 * hex SHA-256, both through libcrypto's EVP interface (the only one not deprecated in 3.0). */
#include <string.h>

#include <openssl/evp.h>

#include "ids.h"

/* UUIDv5(NAMESPACE_URL, "urn:libauditstream:audit-id"); test_ids recomputes it. */
const unsigned char as_audit_namespace[16] = {
    0x52, 0x6e, 0x30, 0xd9, 0x4c, 0x12, 0x5f, 0x25,
    0x81, 0x42, 0x6d, 0x3f, 0x5f, 0x41, 0x7d, 0xc4,
};

static const char HEX[] = "0123456789abcdef";

static void hex_bytes(const unsigned char *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[bytes[i] >> 4];
        out[2 * i + 1] = HEX[bytes[i] & 15];
    }
}

/* Digest of `a` followed by `b`, so the namespace and the name need no joined copy.
 * libcrypto allocates the context and may fail, which is all the status reports. */
static as_status digest2(const EVP_MD *md, const void *a, size_t a_len, const void *b,
                         size_t b_len, unsigned char *out)
{
    as_status status = AS_ERR_NOMEM;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        goto cleanup;
    }
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, a, a_len) != 1 ||
        EVP_DigestUpdate(ctx, b, b_len) != 1 || EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
        goto cleanup;
    }
    status = AS_OK;
cleanup:
    EVP_MD_CTX_free(ctx);
    return status;
}

as_status as_uuid5(const unsigned char ns[16], const void *name, size_t len,
                   char out[AS_UUID_TEXT_LEN])
{
    unsigned char hash[EVP_MAX_MD_SIZE];
    as_status status = digest2(EVP_sha1(), ns, 16, name, len, hash);
    if (status != AS_OK) {
        memset(out, '0', AS_UUID_TEXT_LEN);
        return status;
    }
    /* The first 16 bytes of the SHA-1, with version 5 in the high nibble of byte 6 and
     * the RFC 9562 variant (binary 10) in the high bits of byte 8. */
    hash[6] = (unsigned char)((hash[6] & 0x0f) | 0x50);
    hash[8] = (unsigned char)((hash[8] & 0x3f) | 0x80);
    hex_bytes(hash, 4, out);
    out[8] = '-';
    hex_bytes(hash + 4, 2, out + 9);
    out[13] = '-';
    hex_bytes(hash + 6, 2, out + 14);
    out[18] = '-';
    hex_bytes(hash + 8, 2, out + 19);
    out[23] = '-';
    hex_bytes(hash + 10, 6, out + 24);
    return AS_OK;
}

as_status as_sha256_hex(const void *bytes, size_t len, char out[AS_SHA256_HEX_LEN])
{
    unsigned char hash[EVP_MAX_MD_SIZE];
    as_status status = digest2(EVP_sha256(), bytes, len, "", 0, hash);
    if (status != AS_OK) {
        memset(out, '0', AS_SHA256_HEX_LEN);
        return status;
    }
    hex_bytes(hash, 32, out);
    return AS_OK;
}
