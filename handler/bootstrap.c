/* bootstrap: the audit_producer Lambda function's executable.
 * `bootstrap --print EVENT.json [--format classic|detailed]` prints the audit items of an event. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditstream.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
    fputs("usage: bootstrap --print EVENT.json|- [--format classic|detailed]\n"
          "  Prints the audit items a DynamoDB Streams event yields, one JSON object a line.\n",
          out);
}

/* Reads all of `path` ("-": standard input) into `out`. */
static int read_input(const char *path, as_buf *out)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (in == NULL) {
        fprintf(stderr, "bootstrap: %s: %s\n", path, strerror(errno));
        return -1;
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
    if (failed || as_buf_status(out) != AS_OK) {
        fprintf(stderr, "bootstrap: %s: cannot read the whole input\n", path);
        return -1;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int print_items(const char *path, as_format format)
{
    as_buf input = AS_BUF_INIT;
    as_event *event = NULL;
    as_items *items = NULL;
    as_error err = {0};
    int rc = EXIT_USAGE;

    if (read_input(path, &input) != 0) {
        goto cleanup;
    }
    /* Files saved by editors may start with a byte-order mark; Lambda never sends one. */
    const char *json = input.data != NULL ? input.data : "";
    size_t len = input.len;
    if (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) {
        json += 3;
        len -= 3;
    }
    if (as_event_decode(json, len, &event, &err) != AS_OK) {
        fprintf(stderr, "bootstrap: %s: %s\n", path, err.message);
        goto cleanup;
    }
    items = as_items_new();
    as_audit_options options = {.format = format, .now_ms = now_ms()};
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
    as_items_free(items);
    as_event_free(event);
    as_buf_free(&input);
    return rc;
}

int main(int argc, char **argv)
{
    const char *print = NULL;
    as_format format = AS_FORMAT_CLASSIC;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--print") == 0 && i + 1 < argc) {
            print = argv[++i];
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            if (as_format_parse(argv[++i], &format) != AS_OK) {
                fprintf(stderr, "bootstrap: --format must be classic or detailed, not \"%s\"\n",
                        argv[i]);
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return EXIT_SUCCESS;
        } else {
            fprintf(stderr, "bootstrap: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (print == NULL) {
        /* The Lambda runtime loop arrives with its own change; until then only --print. */
        fputs("bootstrap: the Lambda runtime loop is not built yet; use --print\n", stderr);
        usage(stderr);
        return EXIT_USAGE;
    }
    return print_items(print, format);
}
