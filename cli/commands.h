/* auditstream's four commands. Each writes what goes to standard output into `out` and
 * returns the exit status; on a failure it leaves a one-line `message` (no prefix, no
 * newline) for standard error, and `out` is then not printed. */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

#include <stdio.h>

#include "auditstream/buf.h"
#include "options.h"

/* Exit statuses: 1 is also verify's "a key is not ok" and backfill's "items failed". */
#define CLI_EXIT_OK     0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE  2

int cli_history(const cli_options *options, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
                char message[CLI_MESSAGE_MAX]);
int cli_show(const cli_options *options, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
             char message[CLI_MESSAGE_MAX]);
int cli_verify(const cli_options *options, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
               char message[CLI_MESSAGE_MAX]);
/* Progress goes to `progress` (standard error): a bar when `is_terminal`, else nothing. */
int cli_backfill(const cli_options *options, cli_getenv_fn getenv_fn, void *ctx, as_buf *out,
                 FILE *progress, bool is_terminal, char message[CLI_MESSAGE_MAX]);

/* The help of `command` (CLI_NONE: the general help), for standard output. */
const char *cli_help(cli_command command);

#endif
