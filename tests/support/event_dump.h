/* The canonical text dump of a decoded event, written from libauditstream's own
 * decoder; reference_decoder.c writes the same dump from jansson's tree.
 *
 * The format, one fact per line, so that two dumps compare with strcmp and differ
 * on the line at fault:
 *
 *     verdict ok | json-error | not-event | inconclusive | status <name>
 *     records <n>
 *     record <i> valid | invalid | undetermined
 *      eventID <string> | -                      (- : absent or not a string)
 *      eventName INSERT | MODIFY | REMOVE | ?    (? : absent, not a string, other)
 *      eventSource, eventSourceARN, SequenceNumber, StreamViewType,
 *      userIdentity.type, userIdentity.principalId <string> | -
 *      ApproximateCreationDateTime int <n> | real <%.17g> | huge+ | huge- | non-number | -
 *      Keys <tree> | -                           (when sound, even in an invalid record)
 *      OldImage, NewImage <tree> | -             (valid records only)
 *
 * Strings are the decoded bytes in double quotes, printable ASCII as is, '"' and
 * '\\' escaped, every other byte \xHH. A tree is
 *     M#<size>^<depth>{"name"=<value>,...}   L#<size>^<depth>[<value>,...]
 *     S#<size>"..."  N#<size>"..."  B#<size>"..."   (N: its text, B: its base64 text)
 *     SS#<size>["..."#<size>,...]  (NS, BS alike)    NULL#1  BOOL#1:true
 * with names in document order; <size> is DynamoDB's size as as_value.size has it.
 * Lines starting with "!!" report a broken invariant of our decoder's output (a span
 * outside the input, a wrong flag, a wire text that does not hold the value): the
 * reference never writes them, so they always show up as a difference. */
#ifndef TEST_EVENT_DUMP_H
#define TEST_EVENT_DUMP_H

#include <stdbool.h>

#include "auditstream.h"

#if defined(__GNUC__) || defined(__clang__)
#define DUMP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define DUMP_PRINTF(fmt, args)
#endif

/* event_dump flags. */
enum {
    /* The reference rewrote \u0000 in object keys to U+10FFFF (jansson refuses NUL
     * in keys): print our names the same way and count each such character as
     * the one byte it is. */
    EVENT_DUMP_NUL_NAMES = 1u << 0
};

/* 9999-12-31T23:59:59.999Z is the last valid millisecond: epoch seconds below this. */
#define DUMP_TIME_END 253402300800.0

/* Appends the dump of as_event_decode's outcome on `len` bytes of `json`: `status`
 * is what it returned and `event` (borrowed, NULL unless AS_OK) what it produced. */
void event_dump(const char *json, size_t len, as_status status, const as_event *event,
                unsigned flags, as_buf *out);

/* Shared by both dumps, so that they print the same facts the same way. */
void dump_printf(as_buf *out, const char *fmt, ...) DUMP_PRINTF(2, 3);
/* `bytes` quoted as the format above says. */
void dump_string(as_buf *out, const char *bytes, size_t len);
/* The ApproximateCreationDateTime value: jansson keeps an integer that fits a long
 * long and a double otherwise; both dumps reduce the number text to that. */
void dump_time_integer(as_buf *out, long long value);
void dump_time_real(as_buf *out, double value);
void dump_time_huge(as_buf *out, bool negative);
/* True when a double cannot tell whether its number text lies in 1970..9999: -0.0
 * (from "-0.0", valid, or "-1e-400", not) and 253402300800.0 (which the text
 * "253402300799.9999999" rounds to). Such records dump as "undetermined". */
bool dump_time_ambiguous(double value);

#endif
