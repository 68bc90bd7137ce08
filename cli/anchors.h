/* verify --anchors FILE: the function's `chain heads` log lines read into the heads they
 * anchor, each kept with its line so that a problem or a mistake can be traced back. */
#ifndef CLI_ANCHORS_H
#define CLI_ANCHORS_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/* One anchored head: {"historyKey","sequenceNumber","chain"} of a `chain heads` line. */
typedef struct cli_anchor {
    char *history_key;          /* decoded text (new, owned by the list) */
    char sequence_number[41];   /* 1 to 40 digits, as the line gives it */
    char chain[65];             /* 64 lower-case hex digits */
    size_t line;                /* 1-based line of the file */
    size_t order;               /* the head's place in the file, from 0 */
} cli_anchor;

/* The anchors of a file, sorted by historyKey, then in the order the file gives them. */
typedef struct cli_anchors {
    cli_anchor *items;
    size_t count;
    size_t cap;
    size_t lines; /* `chain heads` lines read (some may have no head) */
} cli_anchors;

/* Reads the lines of `text` (`len` bytes; `name` names it in messages) into `out`, which
 * it overwrites (free it with cli_anchors_free whatever the outcome). A line may be
 *  - blank: skipped;
 *  - a JSON object (a JSON log line of the function, or a bare {"heads":[...]}): its
 *    "heads" field, when it has one, is an array of heads; an object without "heads" is
 *    another log line (a summary, a metric, a platform event) and is skipped, unless its
 *    "message" is "chain heads";
 *  - a JSON log line after a prefix (a time and a stream name, as `aws logs tail` prints
 *    them): from its first '{' to the end of the line, read as above when it is a JSON
 *    object, or refused when it is not but names "heads" (a line cut short);
 *  - a text log line whose message is the words "chain heads" (after a tab or a blank,
 *    before a blank or the end): it must carry heads=<JSON array>, as the text log format
 *    writes it, bare or quoted as a JSON string; any other text line (START, END, REPORT,
 *    another message, "chain heads: ..." errors) is skipped.
 * Each head must be an object with "historyKey" (a non-empty string), "sequenceNumber"
 * (a string of 1 to 40 digits) and "chain" (64 lower-case hex digits); other fields are
 * ignored. Returns 0; 2 with `message` "<name>: line N: <what is wrong>" for a malformed
 * line, or "<name>: no `chain heads` line ..." when none is found; 1 when memory ran out. */
int cli_anchors_parse(const char *name, const char *text, size_t len, cli_anchors *out,
                      char message[CLI_MESSAGE_MAX]);

/* cli_anchors_parse on the file at `path` ("-" is standard input); 2 with a message
 * naming the file when it cannot be read. */
int cli_anchors_read(const char *path, cli_anchors *out, char message[CLI_MESSAGE_MAX]);

/* The anchors of `history_key`: *first gets the index of the first, the return value how
 * many (0 when none). */
size_t cli_anchors_of(const cli_anchors *anchors, const char *history_key, size_t *first);

/* Frees what the list holds and empties it. NULL is a no-op. */
void cli_anchors_free(cli_anchors *anchors);

#endif
