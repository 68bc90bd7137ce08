/* The library's one reader of the system clocks (aws/clock.h): the DynamoDB client, the
 * batch and the runtime client all read time here. */
#include <time.h>

#include "aws/clock.h"

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t as_clock_realtime_ms(void *ctx)
{
    (void)ctx;
    return read_ms(CLOCK_REALTIME);
}

int64_t as_clock_monotonic_ms(void)
{
    return read_ms(CLOCK_MONOTONIC);
}
