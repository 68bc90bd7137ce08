/* auditstream: reads the audit trail that the audit_producer function writes (history,
 * state as of a time, continuity) and backfills it; the work is done by the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "auditstream/version.h"
#include "commands.h"

static const char *env(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

/* One line on standard error: what is wrong and what to do. */
static int say(int rc, const char *message)
{
    fprintf(stderr, "auditstream: %s\n", message);
    return rc;
}

/* The columns of the terminal standard output is, or 0 when it is not one: tables are
 * fitted to a terminal, never to a pipe or a file. */
static size_t terminal_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) != 1 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) {
        return 0;
    }
    return ws.ws_col;
}

int main(int argc, char **argv)
{
    cli_options options;
    char message[CLI_MESSAGE_MAX];
    int rc = cli_options_parse(argc, argv, env, NULL, &options, message);
    if (rc != 0) {
        cli_options_free(&options);
        return say(rc, message);
    }
    if (options.help || options.version) {
        if (options.help) {
            fputs(cli_help(options.command), stdout);
        } else {
            printf("auditstream (libauditstream) %s\n", as_version());
        }
        cli_options_free(&options);
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    }
    as_buf out = AS_BUF_INIT;
    message[0] = '\0';
    options.width = terminal_width();
    switch (options.command) {
    case CLI_HISTORY: rc = cli_history(&options, env, NULL, &out, message); break;
    case CLI_SHOW: rc = cli_show(&options, env, NULL, &out, message); break;
    case CLI_VERIFY: rc = cli_verify(&options, env, NULL, &out, message); break;
    case CLI_BACKFILL:
        rc = cli_backfill(&options, env, NULL, &out, stderr, isatty(STDERR_FILENO) == 1, message);
        break;
    default:
        rc = CLI_EXIT_USAGE;
        snprintf(message, sizeof message, "no command given (auditstream --help)");
        break;
    }
    cli_options_free(&options);
    if (message[0] != '\0') {
        as_buf_free(&out);
        return say(rc != 0 ? rc : CLI_EXIT_FAILED, message);
    }
    if (as_buf_status(&out) != AS_OK) {
        as_buf_free(&out);
        return say(CLI_EXIT_FAILED, "out of memory writing the output");
    }
    if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len) {
        rc = CLI_EXIT_FAILED;
    }
    as_buf_free(&out);
    if (fflush(stdout) != 0) {
        return say(CLI_EXIT_FAILED, "cannot write to standard output");
    }
    return rc;
}
