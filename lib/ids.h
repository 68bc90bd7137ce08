/* Deterministic identifiers: UUID version 5 (RFC 9562) over SHA-1, and hex SHA-256. */
#ifndef AS_IDS_H
#define AS_IDS_H

#include "auditstream/common.h"
#include "internal.h"

#define AS_UUID_TEXT_LEN 36
#define AS_SHA256_HEX_LEN 64

/* The namespace of audit ids: UUIDv5(NAMESPACE_URL, "urn:libauditstream:audit-id"). */
AS_LOCAL extern const unsigned char as_audit_namespace[16];

/* Writes the lower-case 36-character UUIDv5 of `name` (raw bytes, `len` of them; NULL
 * when len is 0) in `ns` to `out` (not NUL-terminated). libcrypto 3 allocates a digest
 * context per call, so this can fail: AS_ERR_NOMEM, and `out` then holds no id (all
 * '0'), which must never be written as one, since a wrong id breaks idempotence. */
AS_LOCAL AS_MUST_CHECK as_status as_uuid5(const unsigned char ns[16], const void *name,
                                          size_t len, char out[AS_UUID_TEXT_LEN]);

/* Writes the lower-case hex SHA-256 of the bytes to `out` (not NUL-terminated).
 * AS_ERR_NOMEM when libcrypto fails, as for as_uuid5. */
AS_LOCAL AS_MUST_CHECK as_status as_sha256_hex(const void *bytes, size_t len,
                                               char out[AS_SHA256_HEX_LEN]);

#endif
