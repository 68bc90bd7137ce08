/* Wiping memory that held a secret (a signing key, a session token, an Authorization
 * value, a message that may echo them) before it goes back to the allocator: the one
 * copy the signer, the DynamoDB client and the message cleaner use. */
#ifndef AS_WIPE_H
#define AS_WIPE_H

#include <stddef.h>

#include "auditstream/buf.h"
#include "core/internal.h"

/* Zeroes `n` bytes at `p` in a way the compiler does not drop (OPENSSL_cleanse). */
AS_LOCAL void as_wipe(void *p, size_t n);

/* Zeroes the whole of `buf`'s storage, not only its length, then frees it. */
AS_LOCAL void as_buf_wipe_free(as_buf *buf);

#endif
