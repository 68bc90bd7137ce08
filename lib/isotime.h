/* Timestamps: DynamoDB Streams' epoch seconds (a JSON number, possibly fractional or
 * in exponent form) to UTC ISO-8601 with milliseconds, without going through a double. */
#ifndef AS_ISOTIME_H
#define AS_ISOTIME_H

#include <stdbool.h>

#include "auditstream/common.h"
#include "internal.h"

#define AS_ISO_TIME_LEN 24   /* 2024-05-01T12:30:45.000Z */

/* Parses a JSON number text of epoch seconds, floored to the millisecond, into epoch
 * milliseconds. False (and *why set to a static reason) when it is not a number or
 * lies before 1970-01-01T00:00:00.000Z or after 9999-12-31T23:59:59.999Z. */
AS_LOCAL bool as_epoch_text_to_ms(as_span text, int64_t *ms, const char **why);

/* Formats epoch milliseconds in [0, 253402300799999] as 2024-05-01T12:30:45.000Z
 * (not NUL-terminated). */
AS_LOCAL void as_iso_time_format(int64_t ms, char out[AS_ISO_TIME_LEN]);

#endif
