/* The integration tests' chain driver: invocations of the batch with AUDIT_CHAIN=on, and the
 * table read back and checked with the pure chain verify, as JSON lines for test_chain_moto.py. */
#include <auditstream.h>
#include <auditstream/batch.h>
#include <auditstream/config.h>
#include <auditstream/log.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
    "usage: chain_batches [--endpoint URL] [--region NAME] COMMAND ARGS...\n"
    "  process TABLE classic|detailed PutItem|BatchWriteItem EVENT.json...\n"
    "      one invocation per event, the chain on: prints the batch's log lines as they\n"
    "      are, then {\"event\",\"outcome\",\"identifier\",\"stats\":{...}} per event\n"
    "  verify TABLE [ANCHORS]\n"
    "      scans TABLE, checks every key's continuity and chain (and each anchor of\n"
    "      ANCHORS, the 'chain heads' lines, one JSON object a line): verify's JSON lines\n"
    "Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.\n"
    "Exit 0: every invocation complete / every key ok; 1: not; 2: usage or setup.\n";

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
    fprintf(stderr, "chain_batches: %s\n%s", why, usage_text);
    return 2;
}

static bool read_file(const char *path, as_buf *out)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        return false;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        as_buf_append(out, chunk, n);
    }
    bool ok = ferror(in) == 0 && as_buf_status(out) == AS_OK;
    fclose(in);
    return ok;
}

/* ---- process -------------------------------------------------------------------------------- */

static int process(as_ddb_client *client, const as_credentials *creds, int argc, char **argv)
{
    if (argc < 4) {
        return usage("process: TABLE FORMAT API EVENT... expected");
    }
    as_batch_options options = {0};
    options.table = argv[0];
    options.chain = true;
    if (as_format_parse(argv[1], &options.format) != AS_OK ||
        as_ddb_write_api_parse(argv[2], &options.write_api) != AS_OK) {
        return usage("process: a bad format or write API");
    }
    as_error err = {0};
    as_batch *batch = NULL;
    if (as_batch_new(client, creds, &options, &batch, &err) != AS_OK) {
        fprintf(stderr, "chain_batches: %s\n", err.message);
        return 2;
    }
    as_log log = {0};
    log.format = AS_LOG_FORMAT_JSON;
    log.level = AS_LOG_INFO;
    log.service = as_span_from_cstr("chain_batches");
    log.request_id = as_span_from_cstr("integration");
    int rc = 0;
    for (int i = 3; i < argc; i++) {
        as_buf payload = AS_BUF_INIT;
        as_buf lines = AS_BUF_INIT;
        if (!read_file(argv[i], &payload)) {
            fprintf(stderr, "chain_batches: cannot read %s\n", argv[i]);
            as_buf_free(&payload);
            rc = 2;
            break;
        }
        as_batch_result result;
        as_status status = as_batch_process(batch, (as_span){payload.data, payload.len}, 0, &log,
                                            &lines, &result, &err);
        fwrite(lines.data != NULL ? lines.data : "", 1, lines.len, stdout);
        json_t *line = json_pack(
            "{s:s,s:s,s:s%,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "event", argv[i], "outcome",
            as_batch_outcome_name(result.outcome), "identifier",
            result.item_identifier.ptr != NULL ? result.item_identifier.ptr : "",
            result.item_identifier.len, "stats", "records", (json_int_t)result.stats.records,
            "written", (json_int_t)result.stats.written, "failed", (json_int_t)result.stats.failed,
            "requests_put_item", (json_int_t)result.stats.requests_put_item, "requests_batch_write",
            (json_int_t)result.stats.requests_batch_write, "requests_batch_get",
            (json_int_t)result.stats.requests_batch_get, "chain_heads_moved",
            (json_int_t)result.stats.chain_heads_moved, "chain_condition_retries",
            (json_int_t)result.stats.chain_condition_retries, "chain_skipped",
            (json_int_t)result.stats.chain_skipped);
        char *text = json_dumps(line, JSON_COMPACT);
        printf("%s\n", text != NULL ? text : "{}");
        free(text);
        json_decref(line);
        as_buf_free(&payload);
        as_buf_free(&lines);
        if (status != AS_OK) {
            fprintf(stderr, "chain_batches: %s\n", err.message);
            rc = 2;
            break;
        }
        if (result.outcome != AS_BATCH_COMPLETE) {
            rc = rc == 0 ? 1 : rc;
        }
    }
    as_batch_free(batch);
    return rc;
}

/* ---- verify --------------------------------------------------------------------------------- */

typedef struct head_entry {
    char *key; /* decoded historyKey */
    size_t key_len;
    as_chain_head head;
} head_entry;

typedef struct scan_state {
    as_trail *trail;
    head_entry *heads;
    size_t head_count, head_cap;
    as_buf scratch;
    as_buf item;
    bool failed;
    char why[512];
} scan_state;

static int append_dump(const char *buffer, size_t size, void *data)
{
    as_buf_append(data, buffer, size);
    return 0;
}

/* Every page goes into the trail (which leaves the heads out), and the heads are kept. */
static bool on_page(const as_ddb_page *page, void *ctx)
{
    scan_state *st = ctx;
    as_error err = {0};
    if (as_trail_add_json(st->trail, page->body.ptr, page->body.len, &err) != AS_OK) {
        snprintf(st->why, sizeof st->why, "trail: %s", err.message);
        st->failed = true;
        return false;
    }
    json_error_t jerr;
    json_t *root = json_loadb(page->body.ptr, page->body.len, 0, &jerr);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(root, "Items"), i, item)
    {
        if (json_object_get(item, "chainOf") == NULL) {
            continue;
        }
        as_buf_clear(&st->item);
        json_dump_callback(item, append_dump, &st->item, JSON_COMPACT);
        as_span name;
        head_entry h = {0};
        if (as_chain_head_parse((as_span){st->item.data, st->item.len}, &h.head, &st->scratch,
                                &name, &err) != AS_OK) {
            snprintf(st->why, sizeof st->why, "head: %s", err.message);
            st->failed = true;
            break;
        }
        if (st->head_count == st->head_cap) {
            size_t cap = st->head_cap * 2 + 8;
            head_entry *grown = realloc(st->heads, cap * sizeof *grown);
            if (grown == NULL) {
                snprintf(st->why, sizeof st->why, "out of memory");
                st->failed = true;
                break;
            }
            st->heads = grown;
            st->head_cap = cap;
        }
        h.key = malloc(name.len + 1);
        if (h.key == NULL) {
            snprintf(st->why, sizeof st->why, "out of memory");
            st->failed = true;
            break;
        }
        memcpy(h.key, name.ptr, name.len);
        h.key[name.len] = '\0';
        h.key_len = name.len;
        st->heads[st->head_count++] = h;
    }
    json_decref(root);
    return !st->failed;
}

static const as_chain_head *head_of(const scan_state *st, as_span key)
{
    for (size_t i = 0; i < st->head_count; i++) {
        if (st->heads[i].key_len == key.len && memcmp(st->heads[i].key, key.ptr, key.len) == 0) {
            return &st->heads[i].head;
        }
    }
    return NULL;
}

/* Checks each anchor of `key` found in the anchors file's lines. Returns the anchors
 * checked, or -1 on a failed call. */
static long check_anchors(as_trail *trail, as_span key, const as_buf *anchors, as_verify *v)
{
    long checked = 0;
    for (const char *p = anchors->data; p != NULL && p < anchors->data + anchors->len;) {
        const char *end = memchr(p, '\n', (size_t)(anchors->data + anchors->len - p));
        size_t len = end != NULL ? (size_t)(end - p) : (size_t)(anchors->data + anchors->len - p);
        json_error_t jerr;
        json_t *line = json_loadb(p, len, 0, &jerr);
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(line, "heads"), i, h)
        {
            json_t *hk = json_object_get(h, "historyKey");
            if (!json_is_string(hk) || json_string_length(hk) != key.len ||
                memcmp(json_string_value(hk), key.ptr, key.len) != 0) {
                continue;
            }
            const char *seq = json_string_value(json_object_get(h, "sequenceNumber"));
            const char *chain = json_string_value(json_object_get(h, "chain"));
            as_error err = {0};
            if (as_trail_verify_anchor(trail, key, as_span_from_cstr(seq != NULL ? seq : ""),
                                       as_span_from_cstr(chain != NULL ? chain : ""), v,
                                       &err) != AS_OK) {
                fprintf(stderr, "chain_batches: anchor: %s\n", err.message);
                json_decref(line);
                return -1;
            }
            checked++;
        }
        json_decref(line);
        p = end != NULL ? end + 1 : NULL;
    }
    return checked;
}

static int verify(as_ddb_client *client, const as_credentials *creds, int argc, char **argv)
{
    if (argc < 1 || argc > 2) {
        return usage("verify: TABLE [ANCHORS] expected");
    }
    as_buf anchors = AS_BUF_INIT;
    if (argc == 2 && !read_file(argv[1], &anchors)) {
        fprintf(stderr, "chain_batches: cannot read %s\n", argv[1]);
        return 2;
    }
    scan_state st = {0};
    st.trail = as_trail_new();
    as_ddb_scan scan = {0};
    scan.table = argv[0];
    scan.consistent_read = true;
    as_ddb_result result;
    as_error err = {0};
    int rc = 0;
    if (as_ddb_scan_pages(client, creds, &scan, on_page, &st, &result, NULL, &err) != AS_OK ||
        st.failed || result.outcome != AS_DDB_ANSWERED) {
        fprintf(stderr, "chain_batches: scan: %s %s %s\n", err.message, st.why, result.message);
        rc = 2;
    }
    as_verify *v = as_verify_new();
    as_buf out = AS_BUF_INIT;
    size_t keys = rc == 0 ? as_trail_key_count(st.trail) : 0;
    size_t entries = 0;
    long anchored = 0;
    bool ok = true;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    for (size_t k = 0; k < keys && rc == 0; k++) {
        as_span key = as_trail_key(st.trail, k);
        long n = 0;
        if (as_trail_verify(st.trail, key, v, &err) != AS_OK ||
            as_trail_verify_chain(st.trail, key, head_of(&st, key), now_ms, v, &err) != AS_OK ||
            (n = check_anchors(st.trail, key, &anchors, v)) < 0 ||
            as_verify_write_json(v, &out, &err) != AS_OK) {
            fprintf(stderr, "chain_batches: verify: %s\n", err.message);
            rc = 2;
            break;
        }
        anchored += n;
        entries += as_verify_entries(v);
        ok = ok && as_verify_ok(v);
    }
    if (rc == 0) {
        fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
        printf("{\"keys\":%zu,\"entries\":%zu,\"heads\":%zu,\"anchors\":%ld,\"ok\":%s}\n", keys,
               entries, st.head_count, anchored, ok ? "true" : "false");
        rc = ok ? 0 : 1;
    }
    for (size_t i = 0; i < st.head_count; i++) {
        free(st.heads[i].key);
    }
    free(st.heads);
    as_buf_free(&st.scratch);
    as_buf_free(&st.item);
    as_trail_free(st.trail);
    as_verify_free(v);
    as_buf_free(&out);
    as_buf_free(&anchors);
    return rc;
}

int main(int argc, char **argv)
{
    env_overlay env = {NULL, NULL};
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc) {
            return usage("an option without its value");
        }
        if (strcmp(argv[i], "--endpoint") == 0) {
            env.endpoint = argv[i + 1];
        } else if (strcmp(argv[i], "--region") == 0) {
            env.region = argv[i + 1];
        } else {
            return usage("unknown option");
        }
    }
    if (i >= argc) {
        return usage("no command");
    }
    as_error err = {0};
    if (as_global_init(&err) != AS_OK) {
        fprintf(stderr, "chain_batches: %s\n", err.message);
        return 2;
    }
    as_ddb_config config = {0};
    as_credentials creds;
    as_ddb_client *client = NULL;
    if (as_ddb_config_from_env(&config, &creds, overlay_getenv, &env, &err) != AS_OK) {
        fprintf(stderr, "chain_batches: %s\n", err.message);
        as_global_cleanup();
        return 2;
    }
    config.concurrency = 4;
    config.base_delay_ms = 5;
    if (as_ddb_client_new(&config, &client, &err) != AS_OK) {
        fprintf(stderr, "chain_batches: %s\n", err.message);
        as_global_cleanup();
        return 2;
    }
    int rc;
    if (strcmp(argv[i], "process") == 0) {
        rc = process(client, &creds, argc - i - 1, argv + i + 1);
    } else if (strcmp(argv[i], "verify") == 0) {
        rc = verify(client, &creds, argc - i - 1, argv + i + 1);
    } else {
        rc = usage("unknown command");
    }
    as_ddb_client_free(client);
    as_global_cleanup();
    return rc;
}
