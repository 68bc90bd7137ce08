/* Wiping secrets before memory is freed (aws/wipe.h), through libcrypto's cleanse, which
 * no optimiser removes. */
#include <openssl/crypto.h>

#include "aws/wipe.h"

void as_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0) {
        OPENSSL_cleanse(p, n);
    }
}

void as_buf_wipe_free(as_buf *buf)
{
    as_wipe(buf->data, buf->cap);
    as_buf_free(buf);
}
