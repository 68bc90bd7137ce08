/* The integration tests' reader: one DynamoDB read (or a write only where absent) through
 * auditstream/ddb_read.h, its pages and results printed as JSON lines for test_ddb_moto.py. */
#include <auditstream.h>
#include <auditstream/config.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 256

static const char usage_text[] =
    "usage: read_items [--endpoint URL] [--region NAME] [--concurrency N] COMMAND ARGS...\n"
    "  query TABLE INDEX|- CONDITION NAMES|- VALUES|- LIMIT [desc]\n"
    "  scan TABLE SEGMENTS LIMIT\n"
    "  get TABLE KEY\n"
    "  batch-get TABLE KEY...\n"
    "  describe TABLE\n"
    "  put-if-absent TABLE ITEM...\n"
    "JSON arguments are given as text; '-' leaves one out. Credentials: AWS_ACCESS_KEY_ID,\n"
    "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. Prints a JSON line per page\n"
    "{\"page\",\"segment\",\"last\",\"body\"} (the body as received, as a string), then one\n"
    "{\"results\":[...],\"stats\":{...}} line. Exit 0 when the call ran, 2 on usage or setup.\n";

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

static int usage(const char *why)
{
    fprintf(stderr, "read_items: %s\n%s", why, usage_text);
    return 2;
}

/* Prints `obj` as one line and releases it. */
static void print_line(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (text == NULL) {
        fprintf(stderr, "read_items: out of memory printing a line\n");
        exit(2);
    }
    puts(text);
    free(text);
}

static bool print_page(const as_ddb_page *page, void *ctx)
{
    (void)ctx;
    print_line(json_pack("{s:I,s:i,s:b,s:s%}", "page", (json_int_t)page->page, "segment",
                         (int)page->segment, "last", page->last, "body", page->body.ptr,
                         page->body.len));
    return true;
}

static json_t *result_json(const as_ddb_result *r)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "outcome", as_ddb_outcome_name(r->outcome),
                     "error_type", r->error_type, "kind",
                     as_ddb_error_kind_name(as_ddb_error_kind_of(r)), "message", r->message,
                     "attempts", (int)r->attempts, "http_status", (int)r->http_status);
}

static void print_results(const as_ddb_result *results, size_t count, const as_ddb_stats *stats,
                          json_t *extra)
{
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        json_array_append_new(list, result_json(&results[i]));
    }
    json_t *line = json_pack(
        "{s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:s}}", "results", list, "stats", "requests",
        (json_int_t)stats->requests, "retries", (json_int_t)stats->retries, "pages",
        (json_int_t)stats->pages, "written", (json_int_t)stats->written, "failed",
        (json_int_t)stats->failed, "already_there", (json_int_t)stats->already_there, "stopped",
        as_ddb_stop_name(stats->stopped));
    if (line == NULL) {
        fprintf(stderr, "read_items: out of memory\n");
        exit(2);
    }
    if (extra != NULL) {
        json_object_update(line, extra);
        json_decref(extra);
    }
    print_line(line);
}

static json_t *keys_json(const as_ddb_key_schema *k)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "hash", k->hash_name, "hash_type", k->hash_type, "range",
                     k->range_name, "range_type", k->range_type);
}

static json_t *table_json(const as_ddb_table_info *info)
{
    json_t *indexes = json_array();
    for (size_t i = 0; i < info->index_count; i++) {
        const as_ddb_index_info *x = &info->indexes[i];
        json_array_append_new(indexes, json_pack("{s:s,s:s,s:s,s:o}", "name", x->name, "status",
                                                 x->status, "projection", x->projection, "keys",
                                                 keys_json(&x->keys)));
    }
    return json_pack("{s:{s:s,s:s,s:o,s:o,s:b,s:s,s:s}}", "table", "name", info->name, "status",
                     info->status, "keys", keys_json(&info->keys), "indexes", indexes,
                     "stream_enabled", info->stream_enabled, "stream_view_type",
                     info->stream_view_type, "stream_arn", info->stream_arn);
}

static as_span arg_span(const char *arg)
{
    if (strcmp(arg, "-") == 0) {
        return (as_span){NULL, 0};
    }
    return as_span_from_cstr(arg);
}

static const char *arg_text(const char *arg)
{
    return strcmp(arg, "-") == 0 ? NULL : arg;
}

static int run(as_ddb_client *client, const as_credentials *creds, int argc, char **argv)
{
    const char *command = argv[0];
    as_error err = {0};
    as_ddb_stats stats;
    as_status status = AS_OK;
    if (strcmp(command, "query") == 0 && (argc == 7 || argc == 8)) {
        as_ddb_query q = {0};
        q.table = argv[1];
        q.index = arg_text(argv[2]);
        q.key_condition = argv[3];
        q.names = arg_span(argv[4]);
        q.values = arg_span(argv[5]);
        q.limit = (uint32_t)strtoul(argv[6], NULL, 10);
        q.descending = argc == 8 && strcmp(argv[7], "desc") == 0;
        as_ddb_result result;
        status = as_ddb_query_pages(client, creds, &q, print_page, NULL, &result, &stats, &err);
        if (status == AS_OK) {
            print_results(&result, 1, &stats, NULL);
        }
    } else if (strcmp(command, "scan") == 0 && argc == 4) {
        as_ddb_scan sc = {0};
        sc.table = argv[1];
        sc.segments = (uint32_t)strtoul(argv[2], NULL, 10);
        sc.limit = (uint32_t)strtoul(argv[3], NULL, 10);
        size_t n = sc.segments > 1 ? sc.segments : 1;
        as_ddb_result *results = calloc(n, sizeof *results);
        if (results == NULL) {
            return usage("out of memory");
        }
        status = as_ddb_scan_pages(client, creds, &sc, print_page, NULL, results, &stats, &err);
        if (status == AS_OK) {
            print_results(results, n, &stats, NULL);
        }
        free(results);
    } else if (strcmp(command, "get") == 0 && argc == 3) {
        as_buf response = AS_BUF_INIT;
        as_ddb_result result;
        bool found = false;
        status = as_ddb_get_item(client, creds, argv[1], as_span_from_cstr(argv[2]), NULL,
                                 (as_span){NULL, 0}, true, 0, &response, &found, &result, &stats,
                                 &err);
        if (status == AS_OK) {
            print_results(&result, 1, &stats,
                          json_pack("{s:b,s:s%}", "found", found, "body",
                                    response.data != NULL ? response.data : "", response.len));
        }
        as_buf_free(&response);
    } else if (strcmp(command, "batch-get") == 0 && argc >= 2 && argc - 2 <= MAX_ARGS) {
        as_span keys[MAX_ARGS];
        for (int i = 2; i < argc; i++) {
            keys[i - 2] = as_span_from_cstr(argv[i]);
        }
        as_ddb_batch_get b = {0};
        b.table = argv[1];
        b.keys = keys;
        b.key_count = (size_t)(argc - 2);
        as_ddb_result results[AS_DDB_BATCH_GET_REQUESTS(MAX_ARGS)];
        status = as_ddb_batch_get_items(client, creds, &b, print_page, NULL, results, &stats, &err);
        if (status == AS_OK) {
            print_results(results, AS_DDB_BATCH_GET_REQUESTS(b.key_count), &stats, NULL);
        }
    } else if (strcmp(command, "describe") == 0 && argc == 2) {
        as_ddb_table_info info;
        as_ddb_result result;
        status = as_ddb_describe_table(client, creds, argv[1], 0, &info, &result, &stats, &err);
        if (status == AS_OK) {
            print_results(&result, 1, &stats,
                          result.outcome == AS_DDB_ANSWERED ? table_json(&info) : NULL);
        }
        as_ddb_table_info_free(&info);
    } else if (strcmp(command, "put-if-absent") == 0 && argc >= 2 && argc - 2 <= MAX_ARGS) {
        as_span items[MAX_ARGS];
        as_ddb_result results[MAX_ARGS];
        size_t count = (size_t)(argc - 2);
        for (size_t i = 0; i < count; i++) {
            items[i] = as_span_from_cstr(argv[i + 2]);
        }
        status = as_ddb_put_items_if_absent(client, creds, argv[1], items, count, 0, results,
                                            &stats, &err);
        if (status == AS_OK) {
            print_results(results, count, &stats, NULL);
        }
    } else {
        return usage("unknown command or wrong number of arguments");
    }
    if (status != AS_OK) {
        fprintf(stderr, "read_items: %s: %s\n", as_status_name(status), err.message);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    env_overlay env = {NULL, NULL};
    uint32_t concurrency = 4;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc) {
            return usage("an option without its value");
        }
        if (strcmp(argv[i], "--endpoint") == 0) {
            env.endpoint = argv[i + 1];
        } else if (strcmp(argv[i], "--region") == 0) {
            env.region = argv[i + 1];
        } else if (strcmp(argv[i], "--concurrency") == 0) {
            concurrency = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        } else {
            return usage("unknown option");
        }
    }
    if (i >= argc) {
        return usage("no command");
    }
    as_error err = {0};
    if (as_global_init(&err) != AS_OK) {
        fprintf(stderr, "read_items: %s\n", err.message);
        return 2;
    }
    as_ddb_config config = {0};
    as_credentials creds = {0};
    as_ddb_client *client = NULL;
    if (as_ddb_config_from_env(&config, &creds, overlay_getenv, &env, &err) != AS_OK) {
        fprintf(stderr, "read_items: %s\n", err.message);
        as_global_cleanup();
        return 2;
    }
    config.concurrency = concurrency;
    config.base_delay_ms = 5;
    if (as_ddb_client_new(&config, &client, &err) != AS_OK) {
        fprintf(stderr, "read_items: %s\n", err.message);
        as_global_cleanup();
        return 2;
    }
    int rc = run(client, &creds, argc - i, argv + i);
    as_ddb_client_free(client);
    as_global_cleanup();
    return rc;
}
