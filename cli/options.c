/* auditstream's command line (cli/options.h): argv read once into cli_options, each
 * mistake refused with a message that names it and says what to give instead. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/replay.h"
#include "options.h"

/* Which commands take an option. */
enum {
    FOR_HISTORY = 1u << CLI_HISTORY,
    FOR_SHOW = 1u << CLI_SHOW,
    FOR_VERIFY = 1u << CLI_VERIFY,
    FOR_BACKFILL = 1u << CLI_BACKFILL,
    FOR_ALL = FOR_HISTORY | FOR_SHOW | FOR_VERIFY | FOR_BACKFILL
};

typedef enum option_id {
    OPT_AUDIT_TABLE,
    OPT_TABLE,
    OPT_REGION,
    OPT_ENDPOINT_URL,
    OPT_PROFILE,
    OPT_JSON,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_AT,
    OPT_ALL,
    OPT_ANCHORS,
    OPT_SEGMENTS,
    OPT_HELP,
    OPT_VERSION
} option_id;

typedef struct option_spec {
    const char *name; /* without its dashes */
    option_id id;
    bool takes_value;
    unsigned commands;   /* FOR_* */
    const char *example; /* a value to show in "needs a value" */
} option_spec;

static const option_spec OPTIONS[] = {
    {"audit-table", OPT_AUDIT_TABLE, true, FOR_ALL, "Audit"},
    {"table", OPT_TABLE, true, FOR_ALL, "Configuration"},
    {"region", OPT_REGION, true, FOR_ALL, "eu-west-1"},
    {"endpoint-url", OPT_ENDPOINT_URL, true, FOR_ALL, "http://127.0.0.1:8000"},
    {"profile", OPT_PROFILE, true, FOR_ALL, "default"},
    {"json", OPT_JSON, false, FOR_ALL, NULL},
    {"since", OPT_SINCE, true, FOR_HISTORY, "2024-05-01T12:30:45Z"},
    {"until", OPT_UNTIL, true, FOR_HISTORY, "2024-05-01T12:30:45Z"},
    {"at", OPT_AT, true, FOR_SHOW, "2024-05-01T12:30:45Z"},
    {"all", OPT_ALL, false, FOR_VERIFY, NULL},
    {"anchors", OPT_ANCHORS, true, FOR_VERIFY, "anchors.jsonl"},
    {"segments", OPT_SEGMENTS, true, FOR_BACKFILL, "4"},
    {"help", OPT_HELP, false, FOR_ALL, NULL},
    {"version", OPT_VERSION, false, FOR_ALL, NULL},
};

static const char *const COMMANDS[] = {"auditstream", "history", "show", "verify", "backfill"};

const char *cli_command_name(cli_command command)
{
    return (size_t)command < sizeof COMMANDS / sizeof COMMANDS[0] ? COMMANDS[command]
                                                                  : "auditstream";
}

static cli_command command_of(const char *word)
{
    for (size_t i = 1; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        if (strcmp(word, COMMANDS[i]) == 0) {
            return (cli_command)i;
        }
    }
    return CLI_NONE;
}

/* The commands that take an option, as "show" or "history" for a message. */
static const char *owner_of(unsigned commands)
{
    for (size_t i = 1; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        if (commands == (1u << i)) {
            return COMMANDS[i];
        }
    }
    return "another command";
}

static int usage(char message[CLI_MESSAGE_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage(char message[CLI_MESSAGE_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, CLI_MESSAGE_MAX, fmt, ap);
    va_end(ap);
    return 2;
}

/* A DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -), or a table ARN ending in one. */
static bool table_ok(const char *table)
{
    const char *name = cli_table_name(table);
    if (name != table && strncmp(table, "arn:", 4) != 0) {
        return false;
    }
    size_t len = strlen(name);
    if (len < 3 || len > 255) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

const char *cli_table_name(const char *table)
{
    if (strncmp(table, "arn:", 4) == 0) {
        const char *at = strstr(table, ":table/");
        return at != NULL ? at + 7 : table;
    }
    return table;
}

static const char *env_value(cli_getenv_fn getenv_fn, void *ctx, const char *name)
{
    const char *value = getenv_fn != NULL ? getenv_fn(name, ctx) : NULL;
    return value != NULL && value[0] != '\0' ? value : NULL;
}

static int parse_time(const char *prefix, const char *option, const char *text, int64_t *ms,
                      char message[CLI_MESSAGE_MAX])
{
    as_error err = {0};
    if (as_replay_time_parse(as_span_from_cstr(text), ms, &err) != AS_OK) {
        if (err.code == AS_ERR_NOMEM) {
            return usage(message, "out of memory reading --%s", option) - 1;
        }
        return usage(message, "%s--%s %s", prefix, option, err.message);
    }
    return 0;
}

static int parse_segments(const char *text, uint32_t *out, char message[CLI_MESSAGE_MAX])
{
    uint32_t value = 0;
    size_t len = strlen(text);
    bool ok = len > 0 && len <= 4;
    for (size_t i = 0; ok && i < len; i++) {
        ok = text[i] >= '0' && text[i] <= '9';
        value = value * 10 + (uint32_t)(text[i] - '0');
    }
    if (!ok || value < 1 || value > CLI_MAX_SEGMENTS) {
        return usage(message, "backfill: --segments \"%.40s\": want a whole number from 1 to %u",
                     text, CLI_MAX_SEGMENTS);
    }
    *out = value;
    return 0;
}

/* The option named by `arg` ("--name" or "--name=value"); NULL when there is none. */
static const option_spec *find_option(const char *arg, const char **inline_value)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    *inline_value = eq != NULL ? eq + 1 : NULL;
    for (size_t i = 0; i < sizeof OPTIONS / sizeof OPTIONS[0]; i++) {
        if (strlen(OPTIONS[i].name) == len && strncmp(OPTIONS[i].name, name, len) == 0) {
            return &OPTIONS[i];
        }
    }
    return NULL;
}

static bool is_option(const char *arg)
{
    return arg[0] == '-' && arg[1] != '\0';
}

/* A first pass for --help and --version, which win over any other mistake but an unknown
 * command: `auditstream show --help` helps even without its KEY. */
static void find_help(int argc, char *const *argv, cli_options *out)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            break;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            out->help = true;
        } else if (strcmp(arg, "--version") == 0) {
            out->version = true;
        } else if (!is_option(arg) && out->command == CLI_NONE) {
            out->command = command_of(arg);
        }
    }
}

/* Stores `value` for `spec`; 0, or 2 with the message. */
static int take_value(const option_spec *spec, const char *prefix, const char *value,
                      cli_options *out, char message[CLI_MESSAGE_MAX])
{
    if (value[0] == '\0') {
        return usage(message, "%s--%s is empty: give a value, such as --%s %s", prefix, spec->name,
                     spec->name, spec->example);
    }
    switch (spec->id) {
    case OPT_AUDIT_TABLE: out->audit_table = value; return 0;
    case OPT_TABLE: out->source_table = value; return 0;
    case OPT_REGION: out->region = value; return 0;
    case OPT_ENDPOINT_URL: out->endpoint_url = value; return 0;
    case OPT_PROFILE: out->profile = value; return 0;
    case OPT_ANCHORS: out->anchors = value; return 0;
    case OPT_SINCE:
        out->has_since = true;
        return parse_time(prefix, "since", value, &out->since_ms, message);
    case OPT_UNTIL:
        out->has_until = true;
        return parse_time(prefix, "until", value, &out->until_ms, message);
    case OPT_AT: out->has_at = true; return parse_time(prefix, "at", value, &out->at_ms, message);
    case OPT_SEGMENTS: return parse_segments(value, &out->segments, message);
    default: return 0;
    }
}

static int read_args(int argc, char *const *argv, cli_options *out, char message[CLI_MESSAGE_MAX])
{
    bool options_done = false;
    bool command_seen = false;
    char prefix[32];
    prefix[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || !is_option(arg)) {
            if (!command_seen) {
                out->command = command_of(arg);
                if (out->command == CLI_NONE) {
                    return usage(message,
                                 "unknown command \"%.60s\": the commands are history, show, "
                                 "verify and backfill (auditstream --help)",
                                 arg);
                }
                command_seen = true;
                snprintf(prefix, sizeof prefix, "%s: ", arg);
                continue;
            }
            out->keys[out->key_count++] = arg;
            continue;
        }
        const char *value = NULL;
        const option_spec *spec = arg[1] == '-' ? find_option(arg, &value) : NULL;
        if (spec == NULL) {
            const char *eq = strchr(arg, '=');
            int shown = eq != NULL ? (int)(eq - arg) : 60;
            return usage(message, "%sunknown option %.*s (%s%s --help lists them)", prefix, shown,
                         arg, command_seen ? "auditstream " : "auditstream",
                         command_seen ? cli_command_name(out->command) : "");
        }
        if (!spec->takes_value) {
            if (value != NULL) {
                return usage(message, "%s--%s takes no value: write --%s alone", prefix, spec->name,
                             spec->name);
            }
            out->json = out->json || spec->id == OPT_JSON;
            out->all = out->all || spec->id == OPT_ALL;
        } else {
            if (value == NULL) {
                if (i + 1 >= argc) {
                    return usage(message, "%s--%s needs a value, such as --%s %s", prefix,
                                 spec->name, spec->name, spec->example);
                }
                value = argv[++i];
            }
            int rc = take_value(spec, prefix, value, out, message);
            if (rc != 0) {
                return rc;
            }
        }
        /* Which command owns an option is checked once the command is known. */
        if (command_seen && (spec->commands & (1u << out->command)) == 0) {
            return usage(message, "%s--%s is an option of %s, not of %s (auditstream %s --help)",
                         prefix, spec->name, owner_of(spec->commands),
                         cli_command_name(out->command), cli_command_name(out->command));
        }
    }
    return 0;
}

/* Options given before the command are checked against it here. */
static int check_owners(int argc, char *const *argv, const cli_options *out,
                        char message[CLI_MESSAGE_MAX])
{
    const char *name = cli_command_name(out->command);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0 || !is_option(arg)) {
            if (strcmp(arg, "--") == 0 || command_of(arg) == out->command) {
                return 0; /* from here on read_args checked them */
            }
            continue;
        }
        const char *value = NULL;
        const option_spec *spec = arg[1] == '-' ? find_option(arg, &value) : NULL;
        if (spec != NULL && (spec->commands & (1u << out->command)) == 0) {
            return usage(message, "%s: --%s is an option of %s, not of %s (auditstream %s --help)",
                         name, spec->name, owner_of(spec->commands), name, name);
        }
        if (spec != NULL && spec->takes_value && value == NULL) {
            i++;
        }
    }
    return 0;
}

static int check_keys(cli_options *out, char message[CLI_MESSAGE_MAX])
{
    const char *name = cli_command_name(out->command);
    for (size_t i = 0; i < out->key_count; i++) {
        if (out->keys[i][0] == '\0') {
            return usage(message, "%s: KEY is empty: give the item's key as its itemKey holds it",
                         name);
        }
    }
    switch (out->command) {
    case CLI_HISTORY:
    case CLI_SHOW:
        if (out->key_count == 0) {
            return usage(message,
                         "%s: give the KEY of the item (its itemKey), such as: auditstream %s "
                         "CACHE_TTL_SEC",
                         name, name);
        }
        if (out->key_count > 1) {
            return usage(message, "%s: one KEY at a time, not %zu (\"%.40s\" is the second)", name,
                         out->key_count, out->keys[1]);
        }
        break;
    case CLI_VERIFY:
        /* With --anchors alone, the keys the anchors name are verified. */
        if (out->key_count == 0 && !out->all && out->anchors == NULL) {
            return usage(message, "verify: name one or more KEYs, pass --all to verify every "
                                  "key in the audit table, or --anchors FILE to verify the keys "
                                  "it anchors");
        }
        if (out->key_count > 0 && out->all) {
            return usage(message, "verify: KEYs and --all do not go together: drop one");
        }
        break;
    case CLI_BACKFILL:
        if (out->key_count > 0) {
            return usage(message,
                         "backfill: takes no KEY, it reads the whole table (\"%.40s\" given)",
                         out->keys[0]);
        }
        break;
    default: break;
    }
    if (out->has_since && out->has_until && out->since_ms > out->until_ms) {
        return usage(message, "history: --since is after --until: swap them");
    }
    return 0;
}

/* The tables: the option, else the variable, else the default; each name checked. */
static int resolve_tables(cli_options *out, cli_getenv_fn getenv_fn, void *ctx,
                          char message[CLI_MESSAGE_MAX])
{
    const char *name = cli_command_name(out->command);
    const char *audit_from = "--audit-table";
    const char *source_from = "--table";
    if (out->audit_table == NULL) {
        out->audit_table = env_value(getenv_fn, ctx, "AUDIT_TABLE");
        audit_from = "AUDIT_TABLE";
    }
    if (out->audit_table == NULL) {
        out->audit_table = CLI_DEFAULT_AUDIT_TABLE;
    }
    if (out->source_table == NULL) {
        out->source_table = env_value(getenv_fn, ctx, "AUDIT_SOURCE_TABLE");
        source_from = "AUDIT_SOURCE_TABLE";
    }
    if (out->source_table == NULL) {
        out->source_table = CLI_DEFAULT_SOURCE_TABLE;
    }
    const char *bad = !table_ok(out->audit_table)    ? audit_from
                      : !table_ok(out->source_table) ? source_from
                                                     : NULL;
    if (bad != NULL) {
        const char *value = bad == audit_from ? out->audit_table : out->source_table;
        return usage(message,
                     "%s: %s \"%.80s\" is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . "
                     "-) or table ARN",
                     name, bad, value);
    }
    return 0;
}

int cli_options_parse(int argc, char *const *argv, cli_getenv_fn getenv_fn, void *ctx,
                      cli_options *out, char message[CLI_MESSAGE_MAX])
{
    memset(out, 0, sizeof *out);
    message[0] = '\0';
    out->segments = CLI_DEFAULT_SEGMENTS;
    out->keys = calloc(argc > 0 ? (size_t)argc : 1, sizeof *out->keys);
    if (out->keys == NULL) {
        return usage(message, "out of memory reading the command line") - 1;
    }
    find_help(argc, argv, out);
    if (out->help || out->version) {
        /* Help for a command that exists, else the general help; an unknown command is
         * still refused below. */
        int rc = read_args(argc, argv, out, message);
        if (rc == 0 || out->command != CLI_NONE || strncmp(message, "unknown command", 15) != 0) {
            message[0] = '\0';
            out->key_count = 0;
            return 0;
        }
        return rc;
    }
    int rc = read_args(argc, argv, out, message);
    if (rc != 0) {
        return rc;
    }
    if (out->command == CLI_NONE) {
        return usage(message, "no command given: auditstream history|show|verify|backfill ... "
                              "(auditstream --help)");
    }
    rc = check_owners(argc, argv, out, message);
    if (rc == 0) {
        rc = check_keys(out, message);
    }
    if (rc == 0) {
        rc = resolve_tables(out, getenv_fn, ctx, message);
    }
    return rc;
}

void cli_options_free(cli_options *options)
{
    if (options != NULL) {
        free((void *)options->keys);
        options->keys = NULL;
        options->key_count = 0;
    }
}
