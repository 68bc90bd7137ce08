/* Deterministic identifiers: UUID version 5 (RFC 9562) over SHA-1, and hex SHA-256. */
#ifndef AS_IDS_H
#define AS_IDS_H

#include "auditstream/common.h"
#include "core/internal.h"

#define AS_UUID_TEXT_LEN  36
#define AS_SHA256_HEX_LEN 64

/* A reusable digest context: libcrypto fetches the algorithms once and keeps one
 * context, instead of a lookup under a lock and an allocation per id. Not for use
 * from two threads at once. */
typedef struct as_hasher as_hasher;

/* New hasher (free with as_hasher_free), or NULL when libcrypto cannot give one. */
AS_LOCAL as_hasher *as_hasher_new(void);
/* NULL is a no-op. */
AS_LOCAL void as_hasher_free(as_hasher *hasher);

/* The namespace of audit ids: UUIDv5(NAMESPACE_URL, "urn:libauditstream:audit-id"). */
AS_LOCAL extern const unsigned char as_audit_namespace[16];

/* Writes the lower-case 36-character UUIDv5 of `name` (raw bytes, `len` of them; NULL
 * when len is 0) in `ns` to `out` (not NUL-terminated). libcrypto 3 allocates a digest
 * context per call, so this can fail: AS_ERR_NOMEM, with `err` filled, and `out` then
 * holds no id (all '0'), which must never be written as one, since a wrong id breaks
 * idempotence. `hasher` may be NULL: a context is then made for the call. */
AS_LOCAL AS_RESULT as_uuid5(as_hasher *hasher, const unsigned char ns[16], const void *name,
                            size_t len, char out[AS_UUID_TEXT_LEN], as_error *err);

/* Writes the lower-case hex SHA-256 of the bytes to `out` (not NUL-terminated).
 * AS_ERR_NOMEM when libcrypto fails, as for as_uuid5. */
AS_LOCAL AS_RESULT as_sha256_hex(as_hasher *hasher, const void *bytes, size_t len,
                                 char out[AS_SHA256_HEX_LEN], as_error *err);

#endif
