/* The integration tests' writer: builds real audit items (from the events/ fixtures, or takes
 * them ready-made from a JSON-lines file) and writes them with as_ddb_write_items (PutItem or
 * BatchWriteItem). */
#include <auditstream.h>
#include <auditstream/config.h>

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Stamps records that carry no ApproximateCreationDateTime: a fixed instant, so that two
 * runs over the same input build the same bytes (the idempotence test needs that). */
#define FIXED_NOW_MS INT64_C(1714564800000)
#define MAX_INPUTS   64

static const char usage_text[] =
    "usage: put_items --table NAME (--events FILE... | --items FILE.jsonl) [options]\n"
    "  --endpoint URL        DynamoDB endpoint (else AWS_ENDPOINT_URL_DYNAMODB, ...)\n"
    "  --region NAME         signing region (else AWS_REGION / AWS_DEFAULT_REGION)\n"
    "  --events FILE         a Streams event: its audit items (repeatable, in order)\n"
    "  --items FILE          one item's wire JSON per line\n"
    "  --format F            classic (default) or detailed, for --events\n"
    "  --skip N, --limit N   write items [N, N+limit) of what was built or read\n"
    "  --dump FILE           write the items to be written, one per line (the exact bytes)\n"
    "  --dry-run             build and dump only: no credentials, no requests\n"
    "  --concurrency N       requests in flight (default 8)\n"
    "  --base-delay-ms N     backoff base (default 5)\n"
    "  --max-attempts N      attempts per item (default AWS_MAX_ATTEMPTS, else 3)\n"
    "  --write-api API       PutItem (default) or BatchWriteItem\n"
    "Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.\n"
    "Prints one JSON line per item, then a summary line. Exit 0: every item written;\n"
    "1: some item not written; 2: usage or setup error.\n";

typedef struct options {
    const char *endpoint;
    const char *region;
    const char *table;
    const char *events[MAX_INPUTS];
    size_t event_count;
    const char *items_path;
    as_format format;
    size_t skip;
    size_t limit; /* SIZE_MAX: all */
    const char *dump_path;
    bool dry_run;
    uint32_t concurrency;
    uint32_t base_delay_ms;
    uint32_t max_attempts;
    as_ddb_write_api write_api;
} options;

/* Every item to write, back to back in `bytes`; offsets survive the buffer's growth. */
typedef struct item_list {
    as_buf bytes;
    size_t *offset;
    size_t *len;
    size_t count;
    size_t cap;
} item_list;

/* The environment the library reads, with the command line's endpoint and region laid
 * over it: the config is still made by as_ddb_config_from_env, as the handler's is. */
typedef struct env_overlay {
    const char *region;
    const char *endpoint;
} env_overlay;

static const char *overlay_getenv(const char *name, void *ctx)
{
    const env_overlay *o = ctx;
    if (o->region != NULL && strcmp(name, "AWS_REGION") == 0) {
        return o->region;
    }
    if (o->endpoint != NULL && strcmp(name, "AWS_ENDPOINT_URL_DYNAMODB") == 0) {
        return o->endpoint;
    }
    return getenv(name);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool parse_size(const char *text, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > SIZE_MAX) {
        return false;
    }
    *out = (size_t)v;
    return true;
}

static bool parse_u32(const char *text, uint32_t *out)
{
    size_t v;
    if (!parse_size(text, &v) || v > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "put_items: %s%s%s\n%s", what, arg != NULL ? ": " : "", arg != NULL ? arg : "",
            usage_text);
    return 2;
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->limit = SIZE_MAX;
    o->concurrency = 8;
    o->base_delay_ms = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--dry-run") == 0) {
            o->dry_run = true;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            return usage_error("missing value or unknown option", a);
        }
        const char *v = argv[++i];
        bool ok = true;
        if (strcmp(a, "--endpoint") == 0) {
            o->endpoint = v;
        } else if (strcmp(a, "--region") == 0) {
            o->region = v;
        } else if (strcmp(a, "--table") == 0) {
            o->table = v;
        } else if (strcmp(a, "--events") == 0) {
            if (o->event_count == MAX_INPUTS) {
                return usage_error("too many --events", v);
            }
            o->events[o->event_count++] = v;
        } else if (strcmp(a, "--items") == 0) {
            o->items_path = v;
        } else if (strcmp(a, "--format") == 0) {
            ok = as_format_parse(v, &o->format) == AS_OK;
        } else if (strcmp(a, "--skip") == 0) {
            ok = parse_size(v, &o->skip);
        } else if (strcmp(a, "--limit") == 0) {
            ok = parse_size(v, &o->limit);
        } else if (strcmp(a, "--dump") == 0) {
            o->dump_path = v;
        } else if (strcmp(a, "--concurrency") == 0) {
            ok = parse_u32(v, &o->concurrency);
        } else if (strcmp(a, "--base-delay-ms") == 0) {
            ok = parse_u32(v, &o->base_delay_ms);
        } else if (strcmp(a, "--write-api") == 0) {
            ok = as_ddb_write_api_parse(v, &o->write_api) == AS_OK;
        } else if (strcmp(a, "--max-attempts") == 0) {
            ok = parse_u32(v, &o->max_attempts) && o->max_attempts > 0;
        } else {
            return usage_error("unknown option", a);
        }
        if (!ok) {
            return usage_error("bad value for option", a);
        }
    }
    if ((o->event_count > 0) == (o->items_path != NULL)) {
        return usage_error("give --events or --items (one of them)", NULL);
    }
    if (o->table == NULL && !o->dry_run) {
        return usage_error("--table is required", NULL);
    }
    return 0;
}

/* The whole file, NUL-terminated; NULL (with a message) on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "put_items: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    as_buf buf = AS_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        as_buf_append(&buf, chunk, n);
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || as_buf_status(&buf) != AS_OK) {
        fprintf(stderr, "put_items: cannot read %s\n", path);
        as_buf_free(&buf);
        return NULL;
    }
    if (buf.data == NULL) {
        as_buf_append(&buf, "", 0); /* an empty file: still a string */
        if (as_buf_status(&buf) != AS_OK) {
            return NULL;
        }
    }
    *len = buf.len;
    return buf.data; /* taken from the buffer */
}

static bool list_add(item_list *list, const char *json, size_t len)
{
    if (list->count == list->cap) {
        size_t cap = list->cap == 0 ? 1024 : list->cap * 2;
        size_t *offset = realloc(list->offset, cap * sizeof *offset);
        if (offset == NULL) {
            return false;
        }
        list->offset = offset;
        size_t *lens = realloc(list->len, cap * sizeof *lens);
        if (lens == NULL) {
            return false;
        }
        list->len = lens;
        list->cap = cap;
    }
    list->offset[list->count] = list->bytes.len;
    list->len[list->count] = len;
    as_buf_append(&list->bytes, json, len);
    if (as_buf_status(&list->bytes) != AS_OK) {
        return false;
    }
    list->count++;
    return true;
}

static void list_free(item_list *list)
{
    as_buf_free(&list->bytes);
    free(list->offset);
    free(list->len);
}

/* Decodes one event file and appends its audit items. A byte-order mark is dropped,
 * as the handler's --print does for files. */
static bool add_event_items(const char *path, as_format format, as_items *scratch, item_list *list)
{
    size_t len = 0;
    char *data = read_file(path, &len);
    if (data == NULL) {
        return false;
    }
    const char *json = data;
    if (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) {
        json += 3;
        len -= 3;
    }
    bool ok = false;
    as_event *event = NULL;
    as_error err = {0};
    as_audit_options audit = {0};
    audit.format = format;
    audit.now_ms = FIXED_NOW_MS;
    as_items_clear(scratch);
    if (as_event_decode(json, len, &event, &err) != AS_OK) {
        fprintf(stderr, "put_items: %s: not an event: %s\n", path, err.message);
        goto cleanup;
    }
    if (as_audit_build_event(event, &audit, scratch, &err) != AS_OK) {
        fprintf(stderr, "put_items: %s: building failed: %s\n", path, err.message);
        goto cleanup;
    }
    for (size_t i = 0; i < as_items_count(scratch); i++) {
        as_item item = as_items_get(scratch, i);
        if (!list_add(list, item.json.ptr, item.json.len)) {
            fprintf(stderr, "put_items: out of memory\n");
            goto cleanup;
        }
    }
    ok = true;
cleanup:
    as_event_free(event);
    free(data);
    return ok;
}

/* One item per non-blank line; a trailing CR is not part of it. */
static bool add_jsonl_items(const char *path, item_list *list)
{
    size_t len = 0;
    char *data = read_file(path, &len);
    if (data == NULL) {
        return false;
    }
    bool ok = true;
    size_t start = 0;
    while (ok && start < len) {
        const char *nl = memchr(data + start, '\n', len - start);
        size_t end = nl != NULL ? (size_t)(nl - data) : len;
        size_t line_end = end;
        if (line_end > start && data[line_end - 1] == '\r') {
            line_end--;
        }
        if (line_end > start) {
            ok = list_add(list, data + start, line_end - start);
        }
        start = end + 1;
    }
    if (!ok) {
        fprintf(stderr, "put_items: out of memory\n");
    }
    free(data);
    return ok;
}

static bool write_dump(const char *path, const as_span *items, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "put_items: cannot create %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ok = fwrite(items[i].ptr, 1, items[i].len, f) == items[i].len && fputc('\n', f) != EOF;
    }
    if (fclose(f) != 0) {
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "put_items: cannot write %s\n", path);
    }
    return ok;
}

/* Prints `obj` as one line and drops the reference; false when it could not. */
static bool print_line(json_t *obj)
{
    if (obj == NULL) {
        return false;
    }
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (text == NULL) {
        return false;
    }
    puts(text);
    free(text);
    return true;
}

static bool print_result(size_t index, const as_ddb_result *r)
{
    return print_line(json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:s}", "index", (json_int_t)index,
                                "outcome", as_ddb_outcome_name(r->outcome), "attempts",
                                (json_int_t)r->attempts, "http_status", (json_int_t)r->http_status,
                                "error_type", r->error_type, "message", r->message, "request_id",
                                r->request_id));
}

static bool print_summary(as_status status, const as_error *err, size_t n, const as_ddb_stats *s,
                          int64_t elapsed_ms)
{
    const struct {
        const char *name;
        uint64_t value;
    } counts[] = {
        {"items", n},
        {"written", s->written},
        {"failed", s->failed},
        {"not_attempted", s->not_attempted},
        {"requests", s->requests},
        {"retries", s->retries},
        {"throttles", s->throttles},
        {"server_errors", s->server_errors},
        {"connection_errors", s->connection_errors},
        {"timeouts", s->timeouts},
        {"crc_mismatches", s->crc_mismatches},
        {"clock_corrections", s->clock_corrections},
        {"quota_refusals", s->quota_refusals},
        {"unprocessed", s->unprocessed},
        {"elapsed_ms", elapsed_ms > 0 ? (uint64_t)elapsed_ms : 0},
    };
    json_t *obj = json_pack("{s:b, s:s, s:s}", "summary", 1, "status", as_status_name(status),
                            "error", status == AS_OK ? "" : err->message);
    bool ok = obj != NULL;
    for (size_t i = 0; ok && i < sizeof counts / sizeof counts[0]; i++) {
        ok = json_object_set_new(obj, counts[i].name, json_integer((json_int_t)counts[i].value)) ==
             0;
    }
    if (!ok) {
        json_decref(obj);
        return false;
    }
    return print_line(obj);
}

/* Configures a client from the environment (as the handler does) and writes the items. */
static int put_all(const options *o, const as_span *items, size_t n)
{
    int rc = 2;
    as_error err = {0};
    as_ddb_client *client = NULL;
    as_ddb_result *results = calloc(n > 0 ? n : 1, sizeof *results);
    as_ddb_stats stats = {0};
    env_overlay env = {o->region, o->endpoint};
    as_ddb_config config = {0};
    as_credentials creds = {0};
    config.concurrency = o->concurrency;
    config.base_delay_ms = o->base_delay_ms;

    if (results == NULL) {
        fprintf(stderr, "put_items: out of memory\n");
        return 2;
    }
    if (as_global_init(&err) != AS_OK) {
        fprintf(stderr, "put_items: libcurl setup failed: %s\n", err.message);
        free(results);
        return 2;
    }
    if (as_ddb_config_from_env(&config, &creds, overlay_getenv, &env, &err) != AS_OK) {
        fprintf(stderr, "put_items: configuration: %s\n", err.message);
        goto cleanup;
    }
    if (o->max_attempts != 0) {
        config.max_attempts = o->max_attempts;
    }
    if (as_ddb_client_new(&config, &client, &err) != AS_OK) {
        fprintf(stderr, "put_items: client: %s\n", err.message);
        goto cleanup;
    }
    int64_t start = mono_ms();
    as_status status = as_ddb_write_items(client, &creds, o->table, o->write_api, items, n, 0,
                                          results, &stats, &err);
    int64_t elapsed = mono_ms() - start;
    bool printed = true;
    for (size_t i = 0; i < n; i++) {
        printed = print_result(i, &results[i]) && printed;
    }
    printed = print_summary(status, &err, n, &stats, elapsed) && printed;
    if (!printed) {
        fprintf(stderr, "put_items: could not print the results\n");
        goto cleanup;
    }
    if (status != AS_OK) {
        fprintf(stderr, "put_items: as_ddb_write_items: %s: %s\n", as_status_name(status),
                err.message);
        goto cleanup;
    }
    rc = stats.written == n ? 0 : 1;
cleanup:
    as_ddb_client_free(client);
    as_global_cleanup();
    free(results);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        return rc;
    }
    rc = 2;
    item_list list = {0};
    as_span *items = NULL;
    as_items *scratch = as_items_new();
    if (scratch == NULL) {
        fprintf(stderr, "put_items: out of memory\n");
        return 2;
    }
    for (size_t i = 0; i < o.event_count; i++) {
        if (!add_event_items(o.events[i], o.format, scratch, &list)) {
            goto cleanup;
        }
    }
    if (o.items_path != NULL && !add_jsonl_items(o.items_path, &list)) {
        goto cleanup;
    }
    size_t first = o.skip < list.count ? o.skip : list.count;
    size_t n = list.count - first;
    if (n > o.limit) {
        n = o.limit;
    }
    items = calloc(n > 0 ? n : 1, sizeof *items);
    if (items == NULL) {
        fprintf(stderr, "put_items: out of memory\n");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        items[i] = (as_span){list.bytes.data + list.offset[first + i], list.len[first + i]};
    }
    fprintf(stderr, "put_items: %zu items (%zu built or read, from #%zu)\n", n, list.count, first);
    if (o.dump_path != NULL && !write_dump(o.dump_path, items, n)) {
        goto cleanup;
    }
    if (o.dry_run) {
        rc = 0;
        goto cleanup;
    }
    if (fflush(stdout) != 0) {
        goto cleanup;
    }
    rc = put_all(&o, items, n);
cleanup:
    if (fflush(stdout) != 0 && rc == 0) {
        rc = 2;
    }
    free(items);
    list_free(&list);
    as_items_free(scratch);
    return rc;
}
