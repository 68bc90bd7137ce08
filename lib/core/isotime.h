/* Timestamps: DynamoDB Streams' epoch seconds (a JSON number, possibly fractional or
 * in exponent form) to UTC ISO-8601 with milliseconds, without going through a double,
 * and ISO-8601 text back to epoch milliseconds. */
#ifndef AS_ISOTIME_H
#define AS_ISOTIME_H

#include <stdbool.h>

#include "auditstream/common.h"
#include "core/internal.h"

#define AS_ISO_TIME_LEN 24 /* 2024-05-01T12:30:45.000Z */

/* Parses a JSON number text (RFC 8259 grammar: no '+', no leading zeros, no bare '.')
 * of epoch seconds into epoch milliseconds, floored: "1.9999" gives 1999, "1e3" 1000000,
 * "-0" 0. Exact for any number of digits or exponent size, no allocation. False, with
 * *why (when `why` is not NULL) pointing at a static reason, when it is
 * "not a number", lies "before 1970-01-01T00:00:00.000Z" (any negative value but
 * zero) or lies "after 9999-12-31T23:59:59.999Z" (from 253402300800 on: the last
 * millisecond of 9999 itself, 253402300799.9995 say, floors to .999 and is valid). */
AS_LOCAL bool as_epoch_text_to_ms(as_span text, int64_t *ms, const char **why);

/* Formats epoch milliseconds in [0, 253402300799999] as 2024-05-01T12:30:45.000Z
 * (not NUL-terminated), proleptic Gregorian, UTC. Values outside are clamped to that
 * range rather than written with a year of other than four digits. */
AS_LOCAL void as_iso_time_format(int64_t ms, char out[AS_ISO_TIME_LEN]);

/* Parses YYYY-MM-DDTHH:MM:SS, then, when `strict`, exactly .mmm (as
 * as_iso_time_format writes it), else an optional '.' with 1 to 9 digits (floored to the
 * millisecond), then Z and the end, into epoch milliseconds: years 1970 to 9999, real
 * dates only. False for anything else. */
AS_LOCAL bool as_iso_time_parse(as_span text, bool strict, int64_t *ms);

#endif
