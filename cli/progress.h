/* backfill's progress on standard error: a bar redrawn in place when it is a terminal,
 * nothing at all otherwise (a log or a pipe gets only the final counts on stdout). */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cli_progress {
    FILE *out;
    bool terminal;
    bool drawn;        /* a bar is on the line now */
    uint64_t expected; /* items the table is said to hold (DescribeTable's ItemCount); 0: unknown */
    int64_t last_ms;   /* when the bar was last drawn */
} cli_progress;

void cli_progress_init(cli_progress *p, FILE *out, bool terminal);
void cli_progress_start(cli_progress *p, uint64_t expected);
/* Redraws at most ten times a second. */
void cli_progress_update(cli_progress *p, uint64_t scanned, uint64_t written, uint64_t failed);
/* Erases the bar so that a message can take the line; the next update draws it again. */
void cli_progress_clear(cli_progress *p);
/* The last drawing, and the end of its line. */
void cli_progress_finish(cli_progress *p, uint64_t scanned, uint64_t written, uint64_t failed);

/* The bar's text for these counts, without the leading "\r" (for tests). */
void cli_progress_text(uint64_t expected, uint64_t scanned, uint64_t written, uint64_t failed,
                       char *out, size_t size);

#endif
