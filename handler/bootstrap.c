/* bootstrap: the audit_producer Lambda function's executable: configuration from the
 * environment, then the Runtime API loop; `--print EVENT.json` prints an event's items. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "auditstream.h"
#include "auditstream/batch.h"
#include "auditstream/chain.h"
#include "auditstream/config.h"
#include "auditstream/log.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
    fputs("usage: bootstrap --print EVENT.json|- [--format classic|detailed]\n"
          "  Prints the audit items a DynamoDB Streams event yields, one JSON object a line,\n"
          "  as the function would build them with the same AUDIT_FORMAT,\n"
          "  AUDIT_IGNORE_ATTRIBUTES, AUDIT_ACTOR_ATTRIBUTE, AUDIT_RETENTION_DAYS,\n"
          "  AUDIT_REDACT_ATTRIBUTES and AUDIT_REDACT_KEY (--format overrides AUDIT_FORMAT).\n"
          "  AUDIT_CHAIN is checked, but the chain fields need the table: not printed.\n"
          "  Writes nothing anywhere; a bad variable: exit status 2 and its init error.\n"
          "       bootstrap --version\n"
          "  Prints the versions of libauditstream, libcurl and OpenSSL it runs with.\n"
          "       bootstrap\n"
          "  Runs as the Lambda function (AWS_LAMBDA_RUNTIME_API; see README's Configuration).\n",
          out);
}

/* The versions linked in, as they say at run time (the zip links curl and OpenSSL
 * statically, so these are what answers a support question, not the build machine's). */
static int print_version(void)
{
    const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
    printf("libauditstream %s\nlibcurl %s\nOpenSSL %s\n", as_version(),
           curl != NULL && curl->version != NULL ? curl->version : "unknown",
           OpenSSL_version(OPENSSL_VERSION_STRING));
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Reads all of `path` ("-": standard input) into `out`; the exit status on failure. */
static int read_input(const char *path, as_buf *out)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (in == NULL) {
        int error = errno;
        fprintf(stderr, "bootstrap: %s: %s\n", path,
                error == ENOMEM ? "out of memory opening the input" : strerror(error));
        return error == ENOMEM ? EXIT_FAILURE : EXIT_USAGE;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        as_buf_append(out, chunk, n);
    }
    int failed = ferror(in);
    if (in != stdin) {
        fclose(in);
    }
    /* Memory is not the user's fault: say so, and keep exit status 2 for bad usage. */
    if (as_buf_status(out) != AS_OK) {
        fprintf(stderr, "bootstrap: %s: out of memory reading the input\n", path);
        return EXIT_FAILURE;
    }
    if (failed) {
        fprintf(stderr, "bootstrap: %s: cannot read the whole input\n", path);
        return EXIT_USAGE;
    }
    return EXIT_SUCCESS;
}

static const char *env(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `format` is --format's, or NULL to take AUDIT_FORMAT's. */
static int print_items(const char *path, const as_format *format)
{
    as_buf input = AS_BUF_INIT;
    as_event *event = NULL;
    as_items *items = NULL;
    as_error err = {0};
    int rc = EXIT_USAGE;

    /* The same item settings as the function: a variable it would refuse at init is
     * refused here, before any input is read. */
    as_config config = {0};
    if (as_config_items_from_env(env, NULL, &config, &err) != AS_OK) {
        fprintf(stderr, "bootstrap: %s\n", err.message);
        goto cleanup;
    }
    if (format != NULL) {
        config.format = *format;
    }
    rc = read_input(path, &input);
    if (rc != EXIT_SUCCESS) {
        goto cleanup;
    }
    rc = EXIT_USAGE;
    /* Files saved by editors may start with a byte-order mark; Lambda never sends one. */
    const char *json = input.data != NULL ? input.data : "";
    size_t len = input.len;
    if (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) {
        json += 3;
        len -= 3;
    }
    if (as_event_decode(json, len, &event, &err) != AS_OK) {
        fprintf(stderr, "bootstrap: %s: %s\n", path, err.message);
        rc = err.code == AS_ERR_NOMEM ? EXIT_FAILURE : EXIT_USAGE;
        goto cleanup;
    }
    items = as_items_new();
    /* Every setting the function builds with, the room it leaves for the chain's fields
     * included: an item near 400 KB is cut exactly as the function would cut it. */
    as_audit_options options = {.format = config.format,
                                .ignore = config.ignore,
                                .ignore_count = config.ignore_count,
                                .now_ms = now_ms(),
                                .actor_attribute = config.actor_attribute,
                                .retention_days = config.retention_days,
                                .redact = config.redact,
                                .redact_count = config.redact_count,
                                .redact_key = config.redact_key_len > 0 ? config.redact_key : NULL,
                                .redact_key_len = config.redact_key_len,
                                .reserve_bytes = config.chain ? AS_CHAIN_FIELDS_SIZE : 0};
    if (items == NULL || as_audit_build_event(event, &options, items, &err) != AS_OK) {
        fprintf(stderr, "bootstrap: %s: %s\n", path, items == NULL ? "out of memory" : err.message);
        rc = EXIT_FAILURE;
        goto cleanup;
    }
    for (size_t i = 0; i < as_items_count(items); i++) {
        as_item item = as_items_get(items, i);
        fwrite(item.json.ptr, 1, item.json.len, stdout);
        fputc('\n', stdout);
    }
    rc = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
cleanup:
    as_config_wipe(&config);
    as_items_free(items);
    as_event_free(event);
    as_buf_free(&input);
    return rc;
}

/* ---- the Lambda function ------------------------------------------------------------------ */

/* What lives across invocations: connections, signing key, parsed configuration, buffers. */
typedef struct app {
    as_runtime *rt;
    as_config config;
    as_ddb_client *client;
    as_batch *batch;
    as_buf lines; /* the log lines of one invocation, written at once */
} app;

static as_span span_of(const char *s)
{
    return (as_span){s, strlen(s)};
}

/* One write per batch of lines, flushed: Lambda may freeze the process right after. */
static void flush_lines(as_buf *lines)
{
    if (as_buf_status(lines) == AS_OK && lines->len > 0) {
        fwrite(lines->data, 1, lines->len, stdout);
        fflush(stdout);
    }
    as_buf_clear(lines);
}

/* A line that could not be formatted for want of memory is still said, in the format asked
 * for, without allocating (stdio falls back to unbuffered output): the bytes of `message`
 * that could break the line (control bytes; in JSON also '"', '\\' and non-ASCII) become
 * '?'. Without this, a process out of memory would exit without a word. */
static void say_without_memory(const as_log *log, as_log_level level, const char *message)
{
    bool json = log->format == AS_LOG_FORMAT_JSON;
    fputs(json ? "{\"level\":\"" : "", stdout);
    fputs(as_log_level_name(level), stdout);
    fputs(json ? "\",\"message\":\"" : "\t", stdout);
    fputs("out of memory writing a log line: ", stdout);
    for (const unsigned char *p = (const unsigned char *)message; *p != '\0'; p++) {
        bool breaks = *p < 0x20 || *p == 0x7f || (json && (*p == '"' || *p == '\\' || *p >= 0x80));
        fputc(breaks ? '?' : *p, stdout);
    }
    fputs(json ? "\"}\n" : "\n", stdout);
    fflush(stdout);
}

static void say(app *a, as_log_level level, const char *message, const as_log_field *fields,
                size_t count)
{
    as_log_line(&a->config.log, level, now_ms(), span_of(message), fields, count, &a->lines);
    if (as_buf_status(&a->lines) != AS_OK && level >= a->config.log.level) {
        say_without_memory(&a->config.log, level, message);
    }
    flush_lines(&a->lines);
}

static void warn(void *ctx, const as_error *warning)
{
    say(ctx, AS_LOG_WARN, warning->message, NULL, 0);
}

static void handle(void *user, const as_invocation *inv, as_runtime_reply *reply)
{
    app *a = user;
    as_log *log = &a->config.log;
    log->request_id = inv->request_id;
    log->trace_id = inv->trace_id;
    as_batch_result result;
    as_error err;
    /* Out of memory: answer this invocation, then exit so that Lambda starts afresh. */
    reply->stop = as_batch_process(a->batch, inv->payload, inv->deadline_ms, log, &a->lines,
                                   &result, &err) == AS_ERR_NOMEM;
    as_batch_reply(&result, reply);
    as_batch_log_summary(log, &result, &a->lines);
    as_batch_log_metrics(&result, log->function_name, &a->lines);
    flush_lines(&a->lines);
    log->cold_start = false;
    log->request_id = log->trace_id = (as_span){NULL, 0};
}

/* Logs an init failure and posts it to /runtime/init/error as Runtime.<type>. */
static void fail_init(app *a, const char *type, const as_error *err)
{
    as_log_field field = as_log_field_str("error_type", type);
    say(a, AS_LOG_FATAL, err->message, &field, 1);
    as_error post;
    if (a->rt != NULL &&
        as_runtime_init_fail(a->rt, span_of(type), span_of(err->message), &post) != AS_OK) {
        say(a, AS_LOG_FATAL, post.message, NULL, 0);
    }
}

static int run_lambda(void)
{
    /* Batches allocate and free megabyte blocks; glibc's adaptive mmap threshold would
     * otherwise move them onto the heap after the first batch and keep the heap at its
     * high-water mark for the life of the process. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    app a = {0};
    /* Before anything can fail: a failure before the configuration is read (or in it)
     * is still logged in the format asked for. */
    as_config_log_from_env(env, NULL, &a.config.log);
    as_error err = {0};
    as_runtime_options options = {.warn = warn, .warn_ctx = &a};
    if (as_global_init(&err) != AS_OK ||
        as_runtime_new(as_config_runtime_api(env, NULL), &options, &a.rt, &err) != AS_OK) {
        fail_init(&a, "InitializationFailed", &err);
        goto cleanup;
    }
    if (as_config_from_env(env, NULL, &a.config, &err) != AS_OK) {
        fail_init(&a, "InvalidConfiguration", &err);
        goto cleanup;
    }
    as_batch_options batch = {
        .table = a.config.table,
        .format = a.config.format,
        .ignore = a.config.ignore,
        .ignore_count = a.config.ignore_count,
        .actor_attribute = a.config.actor_attribute,
        .retention_days = a.config.retention_days,
        .redact = a.config.redact,
        .redact_count = a.config.redact_count,
        .redact_key = a.config.redact_key_len > 0 ? a.config.redact_key : NULL,
        .redact_key_len = a.config.redact_key_len,
        .chain = a.config.chain,
        .write_api = a.config.write_api,
    };
    if (as_ddb_client_new(&a.config.ddb, &a.client, &err) != AS_OK ||
        as_batch_new(a.client, &a.config.credentials, &batch, &a.batch, &err) != AS_OK) {
        fail_init(&a, err.code == AS_ERR_ARGUMENT ? "InvalidConfiguration" : "InitializationFailed",
                  &err);
        goto cleanup;
    }
    /* The batch keeps its own copy of the key (wiped when it is freed): this one is done. */
    as_config_wipe(&a.config);
    a.config.log.cold_start = true;
    /* What shapes the trail, as the batch was given it, so that a reader of the logs knows
     * what the items hold; never the key, only whether there is one. */
    as_log_field ready[] = {
        as_log_field_str("table", batch.table),
        as_log_field_str("endpoint", as_ddb_client_endpoint(a.client)->url),
        as_log_field_u64("concurrency", a.config.concurrency),
        as_log_field_str("format", batch.format == AS_FORMAT_DETAILED ? "detailed" : "classic"),
        as_log_field_str("write_api", as_ddb_write_api_name(batch.write_api)),
        as_log_field_bool("chain", batch.chain),
        as_log_field_u64("retention_days", batch.retention_days),
        as_log_field_u64("ignored_attributes", batch.ignore_count),
        as_log_field_u64("redacted_attributes", batch.redact_count),
        as_log_field_bool("redact_hmac", batch.redact_key_len > 0),
    };
    say(&a, AS_LOG_INFO, "ready", ready, sizeof ready / sizeof ready[0]);
    /* The loop ends only when the runtime is broken or memory ran out: exit either way,
     * and Lambda starts a fresh process. */
    bool broken = as_runtime_run(a.rt, handle, &a, &err) != AS_OK;
    say(&a, AS_LOG_FATAL, broken ? err.message : "out of memory: exiting", NULL, 0);
cleanup:
    as_config_wipe(&a.config);
    as_batch_free(a.batch);
    as_ddb_client_free(a.client);
    as_runtime_free(a.rt);
    as_buf_free(&a.lines);
    as_global_cleanup();
    return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
    const char *print = NULL;
    as_format format = AS_FORMAT_CLASSIC;
    bool format_given = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--print") == 0 && i + 1 < argc) {
            print = argv[++i];
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            if (as_format_parse(argv[++i], &format) != AS_OK) {
                fprintf(stderr, "bootstrap: --format must be classic or detailed, not \"%s\"\n",
                        argv[i]);
                return EXIT_USAGE;
            }
            format_given = true;
        } else if (strcmp(argv[i], "--version") == 0) {
            return print_version();
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return EXIT_SUCCESS;
        } else {
            fprintf(stderr, "bootstrap: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    return print != NULL ? print_items(print, format_given ? &format : NULL) : run_lambda();
}
