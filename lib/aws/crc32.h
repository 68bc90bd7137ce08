/* CRC-32 (IEEE 802.3, the zlib and binascii one): what DynamoDB puts in x-amz-crc32,
 * computed here so that checking it links nothing beyond the declared libraries. */
#ifndef AS_CRC32_H
#define AS_CRC32_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/* Continues `crc` (0 to start) over `len` bytes at `bytes` (NULL when len is 0). */
AS_LOCAL uint32_t as_crc32(uint32_t crc, const void *bytes, size_t len);

#endif
