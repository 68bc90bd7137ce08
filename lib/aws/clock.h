/* The library's one reader of the system clocks, for the network layers (the core reads
 * no clock: it is handed times). Wall-clock time signs requests and meets deadlines; the
 * monotonic clock measures how long a body takes. */
#ifndef AS_CLOCK_H
#define AS_CLOCK_H

#include <stdint.h>

#include "core/internal.h"

/* Milliseconds since the epoch (CLOCK_REALTIME). `ctx` is unused: the signature is
 * as_ddb_clock_fn's, so that this is the default clock the DynamoDB client and the batch
 * take. */
AS_LOCAL int64_t as_clock_realtime_ms(void *ctx);

/* Milliseconds on CLOCK_MONOTONIC, which no clock correction moves. */
AS_LOCAL int64_t as_clock_monotonic_ms(void);

#endif
