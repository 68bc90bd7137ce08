/* auditstream's command line: the command, its options and KEYs, with the defaults the
 * environment gives; every mistake a one-line message that says what to do. */
#ifndef CLI_OPTIONS_H
#define CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cli_command {
    CLI_NONE = 0, /* no command: auditstream --help, --version, or a usage error */
    CLI_HISTORY,
    CLI_SHOW,
    CLI_VERIFY,
    CLI_BACKFILL
} cli_command;

/* The command's name ("history", ...; "auditstream" for CLI_NONE). */
const char *cli_command_name(cli_command command);

#define CLI_DEFAULT_AUDIT_TABLE  "Audit"
#define CLI_DEFAULT_SOURCE_TABLE "Configuration"
#define CLI_DEFAULT_SEGMENTS     4u
#define CLI_MAX_SEGMENTS         1000u
#define CLI_MESSAGE_MAX          512

/* Like getenv(3). */
typedef const char *(*cli_getenv_fn)(const char *name, void *ctx);

/* What the command line says. Strings are borrowed from argv or from what the getenv
 * callback returned; `keys` is new (cli_options_free). */
typedef struct cli_options {
    cli_command command;
    bool help;    /* --help or -h: the command's help (or the general one) */
    bool version; /* --version */
    bool json;
    bool all;                 /* verify --all */
    const char *audit_table;  /* --audit-table, else AUDIT_TABLE, else Audit */
    const char *source_table; /* --table, else AUDIT_SOURCE_TABLE, else Configuration */
    const char *region;       /* --region, or NULL */
    const char *endpoint_url; /* --endpoint-url, or NULL */
    const char *profile;      /* --profile, or NULL */
    const char *anchors;      /* verify --anchors FILE, or NULL */
    bool has_since, has_until, has_at;
    int64_t since_ms, until_ms, at_ms; /* epoch milliseconds */
    uint32_t segments;                 /* backfill --segments, CLI_DEFAULT_SEGMENTS */
    size_t width;                      /* the terminal's columns; 0: not a terminal */
    const char **keys;                 /* the KEYs, in order */
    size_t key_count;
} cli_options;

/* Reads argv (argv[0] is the program). Options may come before or after the command and
 * the KEYs, as "--name value" or "--name=value"; "--" ends them. Returns 0, or 2 with a
 * one-line message (no prefix, no newline) in `message` for a usage error: an unknown
 * command or option, an option the command does not take, a missing or empty value, a
 * time that does not parse, a table name DynamoDB would refuse, the wrong number of KEYs
 * (verify: none without --all or --anchors, or KEYs with --all), or 1 when memory ran out.
 * `out` is filled
 * as far as it got either way (free it). */
int cli_options_parse(int argc, char *const *argv, cli_getenv_fn getenv_fn, void *ctx,
                      cli_options *out, char message[CLI_MESSAGE_MAX]);

/* Frees `keys`. NULL is a no-op. */
void cli_options_free(cli_options *options);

/* The table's name from a name or a table ARN (arn:...:table/NAME): a pointer into
 * `table`. */
const char *cli_table_name(const char *table);

#endif
