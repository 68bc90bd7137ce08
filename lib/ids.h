/* Deterministic identifiers: UUID version 5 (RFC 9562) over SHA-1, and hex SHA-256. */
#ifndef AS_IDS_H
#define AS_IDS_H

#include "auditstream/common.h"
#include "internal.h"

#define AS_UUID_TEXT_LEN 36
#define AS_SHA256_HEX_LEN 64

/* The namespace of audit ids: UUIDv5(NAMESPACE_URL, "urn:libauditstream:audit-id"). */
AS_LOCAL extern const unsigned char as_audit_namespace[16];

/* Writes the lower-case 36-character UUIDv5 of `name` (raw bytes) in `ns` to `out`
 * (not NUL-terminated). */
AS_LOCAL void as_uuid5(const unsigned char ns[16], const void *name, size_t len,
              char out[AS_UUID_TEXT_LEN]);

/* Writes the lower-case hex SHA-256 of the bytes to `out` (not NUL-terminated). */
AS_LOCAL void as_sha256_hex(const void *bytes, size_t len, char out[AS_SHA256_HEX_LEN]);

#endif
