/* The allocation-failure stage for lib/aws and lib/lambda: signing (a cached and a fresh
 * key, with and without a session token), every log and EMF line, the batch's answers,
 * DynamoDB's error messages cleaned of credentials, the configuration and the making of
 * the DynamoDB client, the batch and the runtime client, each run with the n-th
 * allocation failing for every n.
 *
 * Each run must either report AS_ERR_NOMEM with its message (for the line writers, whose
 * documented failure is the caller's sticky buffer: that buffer's status) or give exactly
 * the bytes of the clean run. n goes from 1 until a run finishes without reaching the
 * failure, once with only the n-th allocation failing and once with every one from the
 * n-th on. libcrypto's allocations are counted and failed too (CRYPTO_set_mem_functions,
 * through alloc_fail_hook_libcrypto), so that a digest or MAC context that cannot be had
 * inside signing is tested; libcurl's are its own and not counted. The batch runs
 * against a client whose clock is past every write deadline, so nothing is sent; the
 * reads (auditstream/ddb_read.h) run against canned answers from a child process on a
 * loopback port (read_server), so that their answers are read under failure too; the
 * shared AWS files (auditstream/profile.h) are read from a temporary HOME.
 * ALLOC_SHOW=1 in the environment prints each clean run's output. */
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "auditstream/batch.h"
#include "auditstream/buf.h"
#include "auditstream/chain_store.h"
#include "auditstream/config.h"
#include "auditstream/ddb.h"
#include "auditstream/ddb_read.h"
#include "auditstream/global.h"
#include "auditstream/log.h"
#include "auditstream/profile.h"
#include "auditstream/runtime.h"
#include "auditstream/sigv4.h"
#include "aws/ddb_retry.h"

/* One run: makes the call under test and, with counting paused, writes what it got to
 * `out`. Returns AS_ERR_NOMEM (with `err` filled) when the call reported it. */

static void dump_span(as_buf *out, const char *label, as_span span)
{
    alloc_fail_pause();
    as_buf_append_str(out, label);
    as_buf_append_span(out, span);
    as_buf_append_char(out, '\n');
    alloc_fail_resume();
}

static void dump_str(as_buf *out, const char *label, const char *text)
{
    dump_span(out, label, as_span_from_cstr(text != NULL ? text : "(null)"));
}

static void dump_u64(as_buf *out, const char *label, uint64_t value)
{
    alloc_fail_pause();
    as_buf_append_str(out, label);
    as_buf_append_u64(out, value);
    as_buf_append_char(out, '\n');
    alloc_fail_resume();
}

static as_span buf_span(const as_buf *buf)
{
    return (as_span){buf->data != NULL ? buf->data : "", buf->len};
}

/* The failure a line writer reports: its buffer's. */
static as_status buffer_outcome(const as_buf *buf, as_error *err, const char *what)
{
    if (as_buf_status(buf) == AS_OK) {
        return AS_OK;
    }
    *err = (as_error){AS_ERR_NOMEM, 0, ""};
    snprintf(err->message, sizeof err->message, "%s: the buffer reports out of memory", what);
    return AS_ERR_NOMEM;
}

/* Runs `fn` clean, then with the n-th allocation failing for every n; returns the runs.
 * Every case here succeeds when memory does. */
static long torture(const char *name, alloc_run_fn fn, const void *ctx)
{
    alloc_torture_result r = alloc_fail_torture(name, fn, ctx, 5);
    CHECK(r.clean_status == AS_OK, "%s: the clean run failed", name);
    printf("%-52s %4ld allocations, %5ld runs: %5ld out of memory, %4ld unchanged\n", name,
           r.allocs, r.tried, r.nomem, r.same);
    return r.tried;
}

/* ---- signing ------------------------------------------------------------------------ */

typedef struct sign_case {
    as_sigv4_signer *cached; /* NULL: a signer is made (and its key derived) in the run */
    bool token;
} sign_case;

static const char TOKEN[] = "IQoJb3JpZ2luX2VjEXAMPLEtokenAQoDYXdzEJr//////////wEaCXVzLWVhc3QtMSJH"
                            "MEUCIQDexampleexampleexampleexampleexampleexampleexample==";

static as_status run_sign(const void *ctx, as_buf *out, as_error *err)
{
    const sign_case *c = ctx;
    as_sigv4_signer *signer = c->cached != NULL ? c->cached : as_sigv4_signer_new();
    if (signer == NULL) {
        *err = (as_error){AS_ERR_NOMEM, 0, "as_sigv4_signer_new returned NULL"};
        return AS_ERR_NOMEM;
    }
    /* Enough headers and parameters to sort with the merge (over 16), a folded value, a
     * path with dot segments, encoded and plain query spellings. */
    as_sigv4_header headers[20] = {
        {as_span_from_cstr("Host"), as_span_from_cstr("dynamodb.us-east-1.amazonaws.com")},
        {as_span_from_cstr("Content-Type"), as_span_from_cstr("application/x-amz-json-1.0")},
        {as_span_from_cstr("X-Amz-Target"), as_span_from_cstr("DynamoDB_20120810.PutItem")},
        {as_span_from_cstr("My-Header"), as_span_from_cstr("  a   b\r\n\tc  ")},
    };
    char names[16][8];
    for (size_t i = 4; i < 20; i++) {
        snprintf(names[i - 4], sizeof names[i - 4], "x-h%02zu", 19 - i);
        headers[i] = (as_sigv4_header){as_span_from_cstr(names[i - 4]), as_span_from_cstr("v")};
    }
    as_sigv4_request req = {
        .method = as_span_from_cstr("POST"),
        .path = as_span_from_cstr("/a/./b/../c d//e/"),
        .query = as_span_from_cstr("b=2&a=1&a=%41&z&q=%7e~&p=1&o=2&n=3&m=4&l=5&k=6&j=7&i=8&h=9&g="
                                   "10&f=11&e=12&d=13"),
        .headers = headers,
        .header_count = 20,
        .payload = as_span_from_cstr("{\"TableName\":\"t\",\"Item\":{\"id\":{\"S\":\"1\"}}}"),
    };
    as_sigv4_params params = {
        .credentials = {as_span_from_cstr("AKIDEXAMPLE"),
                        as_span_from_cstr("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                        as_span_from_cstr(c->token ? TOKEN : "")},
        .region = as_span_from_cstr("us-east-1"),
        .service = as_span_from_cstr("dynamodb"),
        .time = INT64_C(1700000000),
        .add_content_sha256 = true,
    };
    as_sigv4_output o;
    as_sigv4_output_init(&o);
    as_status status = as_sigv4_sign(signer, &req, &params, &o, err);
    if (status == AS_OK) {
        dump_span(out, "authorization ", buf_span(&o.authorization));
        dump_span(out, "canonical request\n", buf_span(&o.canonical_request));
        dump_span(out, "string to sign\n", buf_span(&o.string_to_sign));
        dump_str(out, "signature ", o.signature);
        for (size_t i = 0; i < o.header_count; i++) {
            dump_span(out, "header ", o.headers[i].name);
            dump_span(out, " value ", o.headers[i].value);
        }
    } else {
        CHECK(o.header_count == 0 && o.signature[0] == '\0' && o.authorization.len == 0,
              "sign: a failed signature left output behind");
    }
    as_sigv4_output_free(&o);
    if (c->cached == NULL) {
        as_sigv4_signer_free(signer);
    }
    return status;
}

/* ---- log lines ---------------------------------------------------------------------- */

typedef enum line_kind { LINE_JSON, LINE_TEXT, LINE_EMF, LINE_SUMMARY, LINE_METRICS } line_kind;

typedef struct line_case {
    line_kind kind;
    const as_batch_result *result;
} line_case;

static as_status run_line(const void *ctx, as_buf *out, as_error *err)
{
    const line_case *c = ctx;
    as_log log = {
        .format = c->kind == LINE_TEXT ? AS_LOG_FORMAT_TEXT : AS_LOG_FORMAT_JSON,
        .level = AS_LOG_TRACE,
        .service = as_span_from_cstr("audit \"service\""),
        .function_name = as_span_from_cstr("fn"),
        .request_id = as_span_from_cstr("8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
        .trace_id = as_span_from_cstr("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af"),
        .cold_start = true,
    };
    as_log_field fields[] = {
        as_log_field_str("text", "line\nbreak \x01 and \xc3\xa9 \"quoted\" = \\"),
        as_log_field_json_str("seq", as_span_from_cstr("1\\u0041 2")),
        as_log_field_u64("u", UINT64_MAX),
        as_log_field_i64("i", INT64_MIN),
        as_log_field_bool("b", true),
        as_log_field_str("bare", "word"),
    };
    as_metric metrics[] = {{"Records", "Count", 3}, {"Duration", "Milliseconds", 12}};
    as_buf line = AS_BUF_INIT;
    switch (c->kind) {
    case LINE_JSON:
    case LINE_TEXT:
        as_log_line(&log, AS_LOG_WARN, INT64_C(1700000000123), as_span_from_cstr("a message\t!"),
                    fields, sizeof fields / sizeof fields[0], &line);
        break;
    case LINE_EMF:
        as_log_emf(INT64_C(1700000000123), "Audit/\"ns\"", "FunctionName", as_span_from_cstr("fn"),
                   metrics, 2, &line);
        break;
    case LINE_SUMMARY: as_batch_log_summary(&log, c->result, &line); break;
    case LINE_METRICS: as_batch_log_metrics(c->result, as_span_from_cstr("fn"), &line); break;
    }
    as_status status = buffer_outcome(&line, err, "log line");
    if (status == AS_OK) {
        dump_span(out, "", buf_span(&line));
    }
    as_buf_free(&line);
    return status;
}

/* ---- the batch's answers ------------------------------------------------------------ */

static as_status reply_outcome(const as_runtime_reply *reply, as_error *err)
{
    as_status status = buffer_outcome(&reply->body, err, "reply body");
    if (status == AS_OK) {
        status = buffer_outcome(&reply->error_type, err, "reply error type");
    }
    if (status == AS_OK) {
        status = buffer_outcome(&reply->error_message, err, "reply error message");
    }
    return status;
}

static void reply_dump(as_buf *out, const as_runtime_reply *reply)
{
    dump_span(out, "body ", buf_span(&reply->body));
    dump_span(out, "error type ", buf_span(&reply->error_type));
    dump_span(out, "error message ", buf_span(&reply->error_message));
}

static void reply_free(as_runtime_reply *reply)
{
    as_buf_free(&reply->body);
    as_buf_free(&reply->error_type);
    as_buf_free(&reply->error_message);
}

/* as_batch_reply for a crafted result (the outcomes a write needs DynamoDB for). */
static as_status run_reply(const void *ctx, as_buf *out, as_error *err)
{
    const as_batch_result *result = ctx;
    as_runtime_reply reply = {AS_BUF_INIT, AS_BUF_INIT, AS_BUF_INIT, false};
    /* A handler's reply holds something already: the answer replaces it. */
    as_buf_append_str(&reply.body, "stale");
    as_batch_reply(result, &reply);
    as_status status = reply_outcome(&reply, err);
    if (status == AS_OK) {
        reply_dump(out, &reply);
    }
    reply_free(&reply);
    return status;
}

typedef struct process_case {
    as_batch *batch;
    const char *payload;
    int64_t deadline_ms;
} process_case;

static const int64_t NOW_MS = INT64_C(1700000000000);

static int64_t batch_clock(void *ctx)
{
    (void)ctx;
    return NOW_MS;
}

/* The client's clock is a minute on: every write deadline has passed when it looks. */
static int64_t client_clock(void *ctx)
{
    (void)ctx;
    return NOW_MS + 60000;
}

static void dump_result(as_buf *out, const as_batch_result *r)
{
    dump_str(out, "outcome ", as_batch_outcome_name(r->outcome));
    dump_u64(out, "records ", r->stats.records);
    dump_u64(out, "records failed ", r->stats.records_failed);
    dump_u64(out, "items ", r->stats.items);
    dump_u64(out, "error items ", r->stats.error_items);
    dump_u64(out, "not attempted ", r->stats.not_attempted);
    dump_u64(out, "written ", r->stats.written);
    dump_u64(out, "heads moved ", r->stats.chain_heads_moved);
    dump_u64(out, "heads read ", r->stats.requests_batch_get);
    dump_span(out, "identifier ", r->item_identifier);
    dump_str(out, "error type ", r->error_type);
    dump_str(out, "error message ", r->error_message);
}

/* as_batch_process, its answer and its summary line. */
static as_status run_process(const void *ctx, as_buf *out, as_error *err)
{
    const process_case *c = ctx;
    as_log log = {.format = AS_LOG_FORMAT_JSON, .level = AS_LOG_TRACE};
    as_buf lines = AS_BUF_INIT;
    as_batch_result result;
    as_status status = as_batch_process(c->batch, as_span_from_cstr(c->payload), c->deadline_ms,
                                        &log, &lines, &result, err);
    if (status != AS_OK) {
        CHECK(status == AS_ERR_NOMEM, "process: status %d: %s", (int)status, err->message);
        CHECK(result.outcome == AS_BATCH_INTERNAL_ERROR,
              "process: out of memory but the outcome is %s",
              as_batch_outcome_name(result.outcome));
        as_buf_free(&lines);
        return status;
    }
    if (result.write_stop == AS_DDB_STOP_NOMEM) {
        /* The write call's memory failure: its records are reported not written, and
         * the lines say why; the run reports it as such. */
        CHECK(result.outcome != AS_BATCH_COMPLETE, "process: out of memory writing, yet complete");
        as_buf_free(&lines);
        *err = (as_error){AS_ERR_NOMEM, 0, "writing stopped: out of memory"};
        return AS_ERR_NOMEM;
    }
    as_runtime_reply reply = {AS_BUF_INIT, AS_BUF_INIT, AS_BUF_INIT, false};
    as_batch_reply(&result, &reply);
    as_batch_log_summary(&log, &result, &lines);
    status = buffer_outcome(&lines, err, "batch log lines");
    if (status == AS_OK) {
        status = reply_outcome(&reply, err);
    }
    if (status == AS_OK) {
        dump_result(out, &result);
        reply_dump(out, &reply);
        dump_span(out, "lines\n", buf_span(&lines));
    }
    reply_free(&reply);
    as_buf_free(&lines);
    return status;
}

/* ---- the handles ------------------------------------------------------------------- */

typedef enum handle_kind { HANDLE_CLIENT, HANDLE_BATCH, HANDLE_RUNTIME } handle_kind;

typedef struct handle_case {
    handle_kind kind;
    as_ddb_client *client; /* for HANDLE_BATCH */
} handle_case;

static const as_credentials CREDENTIALS = {
    {"AKIDEXAMPLE", 11}, {"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 40}, {"", 0}};

/* Makes and frees one handle: it is made whole or not at all, with nothing leaked. */
static as_status run_handle(const void *ctx, as_buf *out, as_error *err)
{
    const handle_case *c = ctx;
    as_status status = AS_OK;
    if (c->kind == HANDLE_CLIENT) {
        as_ddb_config config = {0};
        config.region = "eu-west-1";
        config.endpoint_url = "http://localhost:8000/";
        config.concurrency = 4;
        as_ddb_client *client = NULL;
        status = as_ddb_client_new(&config, &client, err);
        if (status == AS_OK) {
            dump_str(out, "url ", as_ddb_client_endpoint(client)->url);
            dump_str(out, "host ", as_ddb_client_endpoint(client)->host);
        } else {
            CHECK(client == NULL, "client: a failed as_ddb_client_new handed back a client");
        }
        as_ddb_client_free(client);
    } else if (c->kind == HANDLE_BATCH) {
        as_span ignore[] = {{"version", 7}, {"updatedAt", 9}};
        as_span redact[] = {{"password", 8}};
        static const uint8_t key[32] = {1, 2, 3};
        as_batch_options options = {.table = "audit",
                                    .ignore = ignore,
                                    .ignore_count = 2,
                                    .actor_attribute = {"updatedBy", 9},
                                    .retention_days = 30,
                                    .redact = redact,
                                    .redact_count = 1,
                                    .redact_key = key,
                                    .redact_key_len = sizeof key,
                                    .chain = true,
                                    .clock = batch_clock};
        as_batch *batch = NULL;
        status = as_batch_new(c->client, &CREDENTIALS, &options, &batch, err);
        if (status == AS_OK) {
            dump_str(out, "batch ", "made");
        } else {
            CHECK(batch == NULL, "batch: a failed as_batch_new handed back a batch");
        }
        as_batch_free(batch);
    } else {
        as_runtime *rt = NULL;
        status = as_runtime_new("127.0.0.1:9001", NULL, &rt, err);
        if (status == AS_OK) {
            dump_str(out, "runtime ", "made");
        } else {
            CHECK(rt == NULL, "runtime: a failed as_runtime_new handed back a runtime");
        }
        as_runtime_free(rt);
    }
    return status;
}

/* ---- the reads, against canned answers ---------------------------------------------- */

/* The answer to one request, by its X-Amz-Target and what its body asks. */
static const char *canned_answer(const char *target, const char *body, int *status)
{
    *status = 200;
    if (strstr(target, ".Query") != NULL || strstr(target, ".Scan") != NULL) {
        return strstr(body, "ExclusiveStartKey") == NULL
                   ? "{\"Items\":[{\"id\":{\"S\":\"a\"},\"n\":{\"N\":\"1.50\"}}],\"Count\":1,"
                     "\"LastEvaluatedKey\":{\"id\":{\"S\":\"a\"}}}"
                   : "{\"Items\":[{\"id\":{\"S\":\"b\"}}],\"Count\":1}";
    }
    if (strstr(target, ".GetItem") != NULL) {
        return "{\"Item\":{\"id\":{\"S\":\"a\"}}}";
    }
    if (strstr(target, ".BatchGetItem") != NULL) {
        return strstr(body, "\"a\"") != NULL
                   ? "{\"Responses\":{\"t\":[{\"id\":{\"S\":\"a\"}}]},"
                     "\"UnprocessedKeys\":{\"t\":{\"Keys\":[{\"id\":{\"S\":\"b\"}}]}}}"
                   : "{\"Responses\":{\"t\":[{\"id\":{\"S\":\"b\"}}]},\"UnprocessedKeys\":{}}";
    }
    if (strstr(target, ".DescribeTable") != NULL) {
        return "{\"Table\":{\"TableName\":\"t\",\"TableStatus\":\"ACTIVE\",\"ItemCount\":3,"
               "\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}],"
               "\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"},"
               "{\"AttributeName\":\"hk\",\"AttributeType\":\"S\"},"
               "{\"AttributeName\":\"hs\",\"AttributeType\":\"S\"}],"
               "\"StreamSpecification\":{\"StreamEnabled\":true,"
               "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"},"
               "\"GlobalSecondaryIndexes\":[{\"IndexName\":\"history\",\"IndexStatus\":\"ACTIVE\","
               "\"Projection\":{\"ProjectionType\":\"ALL\"},\"KeySchema\":["
               "{\"AttributeName\":\"hk\",\"KeyType\":\"HASH\"},"
               "{\"AttributeName\":\"hs\",\"KeyType\":\"RANGE\"}]}]}}";
    }
    if (strstr(target, ".BatchWriteItem") != NULL) {
        return strstr(body, "{\"S\":\"a\"}") != NULL
                   ? "{\"UnprocessedItems\":{\"t\":[{\"PutRequest\":{\"Item\":{\"id\":{\"S\":"
                     "\"b\"}}}}]}}"
                   : "{\"UnprocessedItems\":{}}";
    }
    if (strstr(body, "\"there\"") != NULL) {
        *status = 400;
        return "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
               "\"message\":\"The conditional request failed\"}";
    }
    return "{}";
}

/* Answers the requests of one kept-alive connection until it closes. No allocation: it
 * runs in a child process of a harness that counts them. */
static void serve_connection(int fd)
{
    static char request[65536];
    size_t have = 0;
    for (;;) {
        char *end = NULL;
        while ((end = strstr(request, "\r\n\r\n")) == NULL) {
            if (have + 1 >= sizeof request) {
                return;
            }
            ssize_t n = read(fd, request + have, sizeof request - 1 - have);
            if (n <= 0) {
                return;
            }
            have += (size_t)n;
            request[have] = '\0';
        }
        size_t head = (size_t)(end - request) + 4;
        const char *length = strstr(request, "Content-Length: ");
        size_t body_len = length != NULL && length < end ? strtoul(length + 16, NULL, 10) : 0;
        if (head + body_len >= sizeof request) {
            return;
        }
        while (have < head + body_len) {
            ssize_t n = read(fd, request + have, sizeof request - 1 - have);
            if (n <= 0) {
                return;
            }
            have += (size_t)n;
            request[have] = '\0';
        }
        char target[128] = "";
        const char *t = strstr(request, "X-Amz-Target: ");
        if (t != NULL && t < end) {
            size_t n = strcspn(t + 14, "\r\n");
            n = n < sizeof target - 1 ? n : sizeof target - 1;
            memcpy(target, t + 14, n);
            target[n] = '\0';
        }
        char body[4096];
        size_t copy = body_len < sizeof body - 1 ? body_len : sizeof body - 1;
        memcpy(body, request + head, copy);
        body[copy] = '\0';
        int status = 200;
        const char *answer = canned_answer(target, body, &status);
        char reply[4096];
        int len = snprintf(reply, sizeof reply,
                           "HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
                           "Content-Length: %zu\r\n\r\n%s",
                           status, status == 200 ? "OK" : "Bad Request", strlen(answer), answer);
        if (write(fd, reply, (size_t)len) != len) {
            return;
        }
        /* What followed this request stays for the next. */
        size_t used = head + body_len;
        memmove(request, request + used, have - used);
        have -= used;
        request[have] = '\0';
    }
}

/* A child process answering on a loopback port (*port): one grandchild a connection.
 * Both die with their parent. Returns the child's pid, or -1. */
static pid_t read_server(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t addr_len = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &addr_len) != 0) {
        return -1;
    }
    *port = ntohs(addr.sin_port);
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) {
        close(fd);
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGCHLD, SIG_IGN); /* no zombies from the connections */
    for (;;) {
        int conn = accept(fd, NULL, NULL);
        if (conn < 0) {
            continue;
        }
        if (fork() == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            close(fd);
            serve_connection(conn);
            _exit(0);
        }
        close(conn);
    }
}

typedef enum read_kind {
    READ_QUERY,
    READ_SCAN,
    READ_GET,
    READ_BATCH,
    READ_DESCRIBE,
    READ_PUT_IF_ABSENT,
    READ_BATCH_WRITE,
    READ_CHAIN,
    READ_CHAIN_THERE,
    READ_REQUEST
} read_kind;

typedef struct read_case {
    read_kind kind;
    as_ddb_client *client;
} read_case;

/* The pages of each segment, in their order (segments interleave as they come). */
typedef struct read_pages {
    as_buf segment[2];
} read_pages;

static bool keep_page(const as_ddb_page *page, void *ctx)
{
    read_pages *pages = ctx;
    alloc_fail_pause();
    as_buf *b = &pages->segment[page->segment < 2 ? page->segment : 1];
    as_buf_append_u64(b, page->page);
    as_buf_append_str(b, page->last ? " last " : " more ");
    as_buf_append_span(b, page->body);
    as_buf_append_char(b, '\n');
    alloc_fail_resume();
    return true;
}

static void dump_read_result(as_buf *out, const as_ddb_result *r)
{
    dump_str(out, "outcome ", as_ddb_outcome_name(r->outcome));
    dump_u64(out, "attempts ", r->attempts);
    dump_u64(out, "http ", (uint64_t)r->http_status);
    dump_str(out, "type ", r->error_type);
    dump_str(out, "message ", r->message);
}

static void dump_read_stats(as_buf *out, const as_ddb_stats *st)
{
    dump_u64(out, "requests ", st->requests);
    dump_u64(out, "retries ", st->retries);
    dump_u64(out, "pages ", st->pages);
    dump_u64(out, "written ", st->written);
    dump_u64(out, "already there ", st->already_there);
    dump_str(out, "stopped ", as_ddb_stop_name(st->stopped));
}

static void dump_keys(as_buf *out, const as_ddb_key_schema *k)
{
    dump_str(out, "hash ", k->hash_name);
    dump_str(out, "hash type ", k->hash_type);
    dump_str(out, "range ", k->range_name);
    dump_str(out, "range type ", k->range_type);
}

/* The chain over three source items: "a" (two records, the second's item refused, so
 * its head moves over the first alone), "there" (its head's condition always refused:
 * read again to the bound) and a plain record; a new store each run. */
static as_status run_chain(as_ddb_client *client, as_buf *out, as_error *err)
{
    static const char *const json[] = {
        "{\"id\":{\"S\":\"1\"},\"historyKey\":{\"S\":\"a\"},\"v\":{\"N\":\"1.50\"}}",
        "{\"id\":{\"S\":\"2\"},\"historyKey\":{\"S\":\"a\"},\"v\":{\"S\":\"there\"}}",
        "{\"id\":{\"S\":\"3\"}}",
        "{\"id\":{\"S\":\"4\"},\"n\":{\"N\":\"0.0\"}}",
    };
    as_span items[4];
    for (size_t i = 0; i < 4; i++) {
        items[i] = as_span_from_cstr(json[i]);
    }
    const as_span time = as_span_from_cstr("2024-05-01T12:30:45.000Z");
    as_chain_entry entries[4] = {
        {{"a", 1}, {"100", 3}, false, time, &items[0], 1},
        {{"a", 1}, {"101", 3}, false, time, &items[1], 1},
        {{"there", 5}, {"102", 3}, false, time, &items[2], 1},
        {{NULL, 0}, {"103", 3}, false, time, &items[3], 1},
    };
    as_chain_store_options options = {.table = "t"};
    as_chain_store *store = NULL;
    as_status status = as_chain_store_new(client, &CREDENTIALS, &options, &store, err);
    if (status != AS_OK) {
        CHECK(store == NULL, "chain: a failed as_chain_store_new handed back a store");
        return status;
    }
    as_ddb_result results[4];
    as_chain_outcome outcomes[4];
    as_chain_stats stats;
    status = as_chain_store_write(store, entries, 4, 0, results, outcomes, &stats, err);
    for (size_t i = 0; status == AS_OK && i < 4; i++) {
        /* The client's documented failures cleaning an answer: it withholds the message,
         * or says "Redacted" for a type it could not check. */
        if (strstr(results[i].message, "[message withheld: out of memory") != NULL ||
            strcmp(results[i].error_type, "Redacted") == 0) {
            *err = (as_error){AS_ERR_NOMEM, 0, "a message was withheld"};
            status = AS_ERR_NOMEM;
        }
    }
    if (status == AS_OK) {
        for (size_t i = 0; i < 4; i++) {
            dump_str(out, "entry ", as_chain_outcome_name(outcomes[i]));
            dump_read_result(out, &results[i]);
        }
        dump_u64(out, "heads moved ", stats.heads_moved);
        dump_u64(out, "condition retries ", stats.condition_retries);
        dump_u64(out, "heads read ", stats.requests_batch_get);
        size_t count = 0;
        const as_chain_moved *moved = as_chain_store_moved(store, &count);
        for (size_t i = 0; i < count; i++) {
            dump_span(out, "moved ", moved[i].history_key);
            dump_span(out, "seq ", moved[i].sequence_number);
            dump_str(out, "chain ", moved[i].chain);
        }
    }
    as_chain_store_free(store);
    return status;
}

/* Backfill's way: a BASELINE written where absent is there already ("there" in its body),
 * so it is read back (the canned answer: the item without chain fields, there). */
static as_status run_chain_there(as_ddb_client *client, as_buf *out, as_error *err)
{
    as_span item = as_span_from_cstr(
        "{\"id\":{\"S\":\"b\"},\"historyKey\":{\"S\":\"k\"},\"v\":{\"S\":\"there\"}}");
    as_chain_entry entry = {
        {"k", 1}, {NULL, 0}, true, as_span_from_cstr("2024-05-01T12:30:45.000Z"), &item, 1};
    as_chain_store_options options = {.table = "t", .if_absent = true};
    as_chain_store *store = NULL;
    as_status status = as_chain_store_new(client, &CREDENTIALS, &options, &store, err);
    if (status != AS_OK) {
        return status;
    }
    as_ddb_result result;
    as_chain_outcome outcome;
    as_chain_stats stats;
    status = as_chain_store_write(store, &entry, 1, 0, &result, &outcome, &stats, err);
    if (status == AS_OK && (strstr(result.message, "[message withheld: out of memory") != NULL ||
                            strcmp(result.error_type, "Redacted") == 0)) {
        *err = (as_error){AS_ERR_NOMEM, 0, "a message was withheld"};
        status = AS_ERR_NOMEM;
    }
    if (status == AS_OK) {
        dump_str(out, "entry ", as_chain_outcome_name(outcome));
        dump_read_result(out, &result);
        dump_u64(out, "reads ", stats.requests_batch_get);
    }
    as_chain_store_free(store);
    return status;
}

/* One read, its results, counts and pages. */
static as_status run_read(const void *ctx, as_buf *out, as_error *err)
{
    const read_case *c = ctx;
    as_ddb_result results[2];
    memset(results, 0, sizeof results);
    as_ddb_stats stats;
    read_pages pages = {{AS_BUF_INIT, AS_BUF_INIT}};
    size_t result_count = 1;
    as_status status = AS_OK;
    as_buf response = AS_BUF_INIT;
    as_ddb_table_info info;
    memset(&info, 0, sizeof info);
    bool found = false;
    as_span keys[2] = {as_span_from_cstr("{\"id\":{\"S\":\"a\"}}"),
                       as_span_from_cstr("{\"id\":{\"S\":\"b\"}}")};
    switch (c->kind) {
    case READ_QUERY: {
        as_ddb_query q = {0};
        q.table = "t";
        q.index = "history";
        q.key_condition = "#k = :k AND hs <= :t";
        q.names = as_span_from_cstr("{\"#k\":\"hk\"}");
        q.values = as_span_from_cstr("{\":k\":{\"S\":\"x\"},\":t\":{\"S\":\"2024/~\"}}");
        q.limit = 1;
        status = as_ddb_query_pages(c->client, &CREDENTIALS, &q, keep_page, &pages, results,
                                    &stats, err);
        break;
    }
    case READ_SCAN: {
        as_ddb_scan sc = {0};
        sc.table = "t";
        sc.segments = 2;
        sc.projection = "id";
        status = as_ddb_scan_pages(c->client, &CREDENTIALS, &sc, keep_page, &pages, results,
                                   &stats, err);
        result_count = 2;
        break;
    }
    case READ_GET:
        status = as_ddb_get_item(c->client, &CREDENTIALS, "t", keys[0], "id",
                                 (as_span){NULL, 0}, true, 0, &response, &found, results,
                                 &stats, err);
        break;
    case READ_BATCH: {
        as_ddb_batch_get b = {0};
        b.table = "t";
        b.keys = keys;
        b.key_count = 2;
        status = as_ddb_batch_get_items(c->client, &CREDENTIALS, &b, keep_page, &pages, results,
                                        &stats, err);
        break;
    }
    case READ_DESCRIBE:
        status = as_ddb_describe_table(c->client, &CREDENTIALS, "t", 0, &info, results, &stats,
                                       err);
        break;
    case READ_PUT_IF_ABSENT: {
        as_span items[2] = {as_span_from_cstr("{\"id\":{\"S\":\"new\"}}"),
                            as_span_from_cstr("{\"id\":{\"S\":\"there\"}}")};
        status = as_ddb_put_items_if_absent(c->client, &CREDENTIALS, "t", items, 2, 0, results,
                                            &stats, err);
        result_count = 2;
        break;
    }
    case READ_BATCH_WRITE:
        status = as_ddb_write_items(c->client, &CREDENTIALS, "t", AS_DDB_WRITE_BATCH, keys, 2, 0,
                                    results, &stats, err);
        result_count = 2;
        break;
    case READ_CHAIN:
        status = run_chain(c->client, out, err);
        result_count = 0;
        break;
    case READ_CHAIN_THERE:
        status = run_chain_there(c->client, out, err);
        result_count = 0;
        break;
    case READ_REQUEST:
    default:
        status = as_ddb_request(c->client, &CREDENTIALS, "GetItem",
                                as_span_from_cstr("{\"TableName\":\"t\",\"Key\":{\"id\":{\"S\":\"a\"}}}"),
                                0, 0, &response, results, &stats, err);
        break;
    }
    if (status != AS_OK) {
        CHECK(status == AS_ERR_NOMEM, "read %d: status %d: %s", (int)c->kind, (int)status,
              err->message);
    } else {
        for (size_t i = 0; i < result_count; i++) {
            dump_read_result(out, &results[i]);
        }
        dump_read_stats(out, &stats);
        dump_span(out, "segment 0\n", buf_span(&pages.segment[0]));
        dump_span(out, "segment 1\n", buf_span(&pages.segment[1]));
        dump_span(out, "response ", buf_span(&response));
        dump_str(out, "found ", found ? "yes" : "no");
        dump_str(out, "table ", info.name);
        dump_str(out, "status ", info.status);
        dump_keys(out, &info.keys);
        dump_u64(out, "indexes ", info.index_count);
        for (size_t i = 0; i < info.index_count; i++) {
            dump_str(out, "index ", info.indexes[i].name);
            dump_str(out, "projection ", info.indexes[i].projection);
            dump_keys(out, &info.indexes[i].keys);
        }
        dump_str(out, "stream ", info.stream_view_type);
    }
    as_ddb_table_info_free(&info);
    as_buf_free(&response);
    /* Made while counting was paused: freed the same way. */
    alloc_fail_pause();
    as_buf_free(&pages.segment[0]);
    as_buf_free(&pages.segment[1]);
    alloc_fail_resume();
    return status;
}

static uint64_t no_jitter(void *ctx)
{
    (void)ctx;
    return 0;
}

/* ---- DynamoDB's error messages, cleaned of credentials ------------------------------ */

static const char SECRET[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static const char WITHHELD[] = "[message withheld: out of memory cleaning it]";

/* The cleaner's documented failure is the message withheld; a credential must never come
 * through, whatever fails. */
static as_status run_clean(const void *ctx, as_buf *out, as_error *err)
{
    (void)ctx;
    const as_span secrets[3] = {as_span_from_cstr(TOKEN), as_span_from_cstr(SECRET),
                                as_span_from_cstr("AKIDEXAMPLE")};
    char raw[1024];
    snprintf(raw, sizeof raw,
             "The security token included in the request is invalid: token %s, secret "
             "wJalrXUtnFEMI%%2FK7MDENG%%2BbPxRfiCYEXAMPLEKEY, Credential=AKIDEXAMPLE/20150830/"
             "us-east-1/dynamodb/aws4_request, Signature="
             "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
             TOKEN);
    char cleaned[512];
    as_ddb_clean_message(as_span_from_cstr(raw), secrets, 3, cleaned, sizeof cleaned);
    CHECK(strstr(cleaned, "EXAMPLEKEY") == NULL && strstr(cleaned, "EXAMPLEtoken") == NULL &&
              strstr(cleaned, "5d672d79c15b") == NULL,
          "clean: a credential came through: %s", cleaned);
    if (strcmp(cleaned, WITHHELD) == 0) {
        *err = (as_error){AS_ERR_NOMEM, 0, "the message was withheld"};
        return AS_ERR_NOMEM;
    }
    dump_str(out, "", cleaned);
    return AS_OK;
}

/* ---- configuration ------------------------------------------------------------------ */

static const char *const ENV[][2] = {
    {"AUDIT_TABLE", "arn:aws:dynamodb:eu-west-1:123456789012:table/audit.trail-1"},
    {"AUDIT_FORMAT", "detailed"},
    {"AUDIT_IGNORE_ATTRIBUTES", " version , updatedAt,ttl "},
    {"AUDIT_CONCURRENCY", "16"},
    {"AWS_REGION", "eu-west-1"},
    {"AWS_ENDPOINT_URL_DYNAMODB", "https://[2001:db8::1]:8443/"},
    {"AWS_MAX_ATTEMPTS", "5"},
    {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
    {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
    {"AWS_SESSION_TOKEN", "token/with+base64=="},
    {"AWS_LAMBDA_LOG_FORMAT", "JSON"},
    {"AWS_LAMBDA_LOG_LEVEL", "debug"},
    {"AWS_LAMBDA_FUNCTION_NAME", "audit-fn"},
};

static const char *fake_getenv(const char *name, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof ENV / sizeof ENV[0]; i++) {
        if (strcmp(ENV[i][0], name) == 0) {
            return ENV[i][1];
        }
    }
    return NULL;
}

static as_status run_config(const void *ctx, as_buf *out, as_error *err)
{
    (void)ctx;
    as_config c;
    as_status status = as_config_from_env(fake_getenv, NULL, &c, err);
    if (status != AS_OK) {
        return status;
    }
    dump_str(out, "table ", c.table);
    dump_str(out, "table variable ", c.table_variable);
    dump_u64(out, "format ", (uint64_t)c.format);
    for (size_t i = 0; i < c.ignore_count; i++) {
        dump_span(out, "ignore ", c.ignore[i]);
    }
    dump_u64(out, "concurrency ", c.concurrency);
    dump_str(out, "region ", c.ddb.region);
    dump_str(out, "endpoint ", c.ddb.endpoint_url);
    dump_u64(out, "max attempts ", c.ddb.max_attempts);
    dump_span(out, "key id ", c.credentials.access_key_id);
    dump_u64(out, "token bytes ", c.credentials.session_token.len);
    dump_u64(out, "log format ", (uint64_t)c.log.format);
    dump_u64(out, "log level ", (uint64_t)c.log.level);
    dump_span(out, "function ", c.log.function_name);
    as_ddb_endpoint endpoint;
    status = as_ddb_endpoint_resolve(c.ddb.endpoint_url, c.ddb.region, &endpoint, err);
    if (status == AS_OK) {
        dump_str(out, "url ", endpoint.url);
        dump_str(out, "host ", endpoint.host);
    }
    return status;
}

/* The shared AWS files (auditstream/profile.h), read from a temporary HOME. */
static char profile_home[64];

static const char *profile_getenv(const char *name, void *ctx)
{
    (void)ctx;
    if (strcmp(name, "HOME") == 0) {
        return profile_home;
    }
    return strcmp(name, "AWS_PROFILE") == 0 ? "dev" : NULL;
}

static bool profile_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/.aws/%s", profile_home, name);
    FILE *f = fopen(path, "w");
    return f != NULL && fputs(text, f) >= 0 && fclose(f) == 0;
}

static as_status run_profile(const void *ctx, as_buf *out, as_error *err)
{
    (void)ctx;
    as_profile_settings s;
    as_status status = as_profile_resolve(NULL, profile_getenv, NULL, &s, err);
    if (status == AS_OK) {
        dump_str(out, "profile ", s.profile);
        dump_str(out, "key id ", s.access_key_id);
        dump_u64(out, "secret bytes ", strlen(s.secret_access_key));
        dump_str(out, "region ", s.region);
        dump_str(out, "config ", s.config_path);
    }
    as_profile_settings_free(&s);
    return status;
}

int main(void)
{
    if (!alloc_fail_hook_libcrypto()) {
        fprintf(stderr, "alloc: cannot hook libcrypto's allocations\n");
        return 1;
    }
    if (!alloc_fail_linked()) {
        fprintf(stderr, "alloc: not linked with -Wl,--wrap=malloc,...: nothing would be tested\n");
        return 1;
    }
    /* Forked before libcurl and libcrypto set up anything more. */
    unsigned read_port = 0;
    pid_t reader = read_server(&read_port);
    if (reader < 0) {
        fprintf(stderr, "alloc: cannot start the canned DynamoDB for the reads\n");
        return 1;
    }
    as_error err = {AS_OK, 0, ""};
    if (as_global_init(&err) != AS_OK) {
        fprintf(stderr, "alloc: as_global_init: %s\n", err.message);
        return 1;
    }
    long runs = 0;

    as_sigv4_signer *cached = as_sigv4_signer_new();
    CHECK(cached != NULL, "as_sigv4_signer_new returned NULL outside the test");
    const struct {
        const char *name;
        sign_case c;
    } signs[] = {
        {"sign: fresh signer, key derived", {NULL, false}},
        {"sign: fresh signer, key derived, session token", {NULL, true}},
        {"sign: cached key", {cached, false}},
        {"sign: cached key, session token", {cached, true}},
    };
    for (size_t i = 0; i < sizeof signs / sizeof signs[0]; i++) {
        runs += torture(signs[i].name, run_sign, &signs[i].c);
    }
    /* The cached cases do sign with the cached key: a further signature derives nothing
     * (a failed run may have made the signer forget its key; the first call after one
     * derives it again). */
    sign_case again = {cached, false};
    as_buf scratch = AS_BUF_INIT;
    CHECK(run_sign(&again, &scratch, &err) == AS_OK, "sign: the cached signer failed: %s",
          err.message);
    uint64_t derived = as_sigv4_signer_derivations(cached);
    CHECK(run_sign(&again, &scratch, &err) == AS_OK &&
              as_sigv4_signer_derivations(cached) == derived,
          "sign: the cached signer derived its key again");
    as_buf_free(&scratch);

    char identifier[] = "4000000000000012345\\u0041";
    as_batch_result partial = {.outcome = AS_BATCH_PARTIAL, .finished_ms = NOW_MS};
    partial.stats.records = 3;
    partial.stats.records_failed = 1;
    partial.item_identifier = as_span_from_cstr(identifier);
    as_batch_result complete = {.outcome = AS_BATCH_COMPLETE, .finished_ms = NOW_MS};
    as_batch_result write_failed = {.outcome = AS_BATCH_WRITE_FAILED, .finished_ms = NOW_MS};
    snprintf(write_failed.error_type, sizeof write_failed.error_type, "%s",
             AS_BATCH_ERROR_WRITE_FAILED);
    snprintf(write_failed.error_message, sizeof write_failed.error_message,
             "none of the 2 records could be written; first failure: \"quoted\"\n");
    as_batch_result invalid = {.outcome = AS_BATCH_INVALID_EVENT, .finished_ms = NOW_MS};
    snprintf(invalid.error_type, sizeof invalid.error_type, "%s", AS_BATCH_ERROR_INVALID_EVENT);
    snprintf(invalid.error_message, sizeof invalid.error_message, "event: not JSON at 0");

    const struct {
        const char *name;
        line_case c;
    } lines[] = {
        {"log: JSON line, every field type", {LINE_JSON, NULL}},
        {"log: text line, every field type", {LINE_TEXT, NULL}},
        {"log: EMF line", {LINE_EMF, NULL}},
        {"log: batch summary (partial)", {LINE_SUMMARY, &partial}},
        {"log: batch summary (write_failed)", {LINE_SUMMARY, &write_failed}},
        {"log: batch metrics", {LINE_METRICS, &partial}},
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        runs += torture(lines[i].name, run_line, &lines[i].c);
    }

    const struct {
        const char *name;
        const as_batch_result *result;
    } replies[] = {
        {"batch answer: complete", &complete},
        {"batch answer: partial", &partial},
        {"batch answer: write_failed", &write_failed},
        {"batch answer: invalid_event", &invalid},
    };
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        runs += torture(replies[i].name, run_reply, replies[i].result);
    }

    as_ddb_config ddb_config = {0};
    ddb_config.region = "us-east-1";
    ddb_config.endpoint_url = "http://127.0.0.1:1";
    ddb_config.clock = client_clock;
    as_ddb_client *client = NULL;
    as_credentials credentials = {as_span_from_cstr("AKIDEXAMPLE"),
                                  as_span_from_cstr("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                  as_span_from_cstr("")};
    as_batch *batch = NULL;
    if (as_ddb_client_new(&ddb_config, &client, &err) != AS_OK) {
        fprintf(stderr, "alloc: as_ddb_client_new: %s\n", err.message);
        return 1;
    }
    as_span ignore[] = {{"version", 7}};
    as_batch_options options = {
        .table = "audit", .ignore = ignore, .ignore_count = 1, .clock = batch_clock};
    if (as_batch_new(client, &credentials, &options, &batch, &err) != AS_OK) {
        fprintf(stderr, "alloc: as_batch_new: %s\n", err.message);
        return 1;
    }
#define RECORD(seq, extra)                                                                         \
    "{\"eventID\":\"e" seq "\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","         \
    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024\","          \
    "\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000,\"Keys\":{\"id\":{\"S\":\"" seq      \
    "\"}},\"NewImage\":{\"id\":{\"S\":\"" seq "\"},\"version\":{\"N\":\"1\"}" extra "},"           \
    "\"SequenceNumber\":\"" seq "00\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}"
    const process_case processes[] = {
        {batch, "{\"Records\":[]}", NOW_MS + 30000},
        {batch, "{\"Records\":[" RECORD("1", ) "," RECORD("2", ",\"n\":{\"N\":\"x\"}") "]}",
         NOW_MS + 30000},
        {batch, "{\"Records\":", NOW_MS + 30000},
    };
    const char *process_names[] = {"batch process: complete (no records)",
                                   "batch process: write_failed (deadline before any write)",
                                   "batch process: invalid_event"};
    for (size_t i = 0; i < sizeof processes / sizeof processes[0]; i++) {
        runs += torture(process_names[i], run_process, &processes[i]);
    }

    const struct {
        const char *name;
        handle_case c;
    } handles[] = {
        {"handle: as_ddb_client_new", {HANDLE_CLIENT, NULL}},
        {"handle: as_batch_new", {HANDLE_BATCH, client}},
        {"handle: as_runtime_new", {HANDLE_RUNTIME, NULL}},
    };
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) {
        runs += torture(handles[i].name, run_handle, &handles[i].c);
    }
    runs += torture("error message cleaned of credentials", run_clean, NULL);

    char read_url[64];
    snprintf(read_url, sizeof read_url, "http://127.0.0.1:%u", read_port);
    as_ddb_config read_config = {0};
    read_config.region = "us-east-1";
    read_config.endpoint_url = read_url;
    read_config.concurrency = 2;
    read_config.random = no_jitter;
    as_ddb_client *read_client = NULL;
    if (as_ddb_client_new(&read_config, &read_client, &err) != AS_OK) {
        fprintf(stderr, "alloc: as_ddb_client_new for the reads: %s\n", err.message);
        return 1;
    }
    const struct {
        const char *name;
        read_case c;
    } reads[] = {
        {"read: Query, two pages", {READ_QUERY, read_client}},
        {"read: Scan, two segments of two pages", {READ_SCAN, read_client}},
        {"read: GetItem", {READ_GET, read_client}},
        {"read: BatchGetItem, a key unprocessed once", {READ_BATCH, read_client}},
        {"read: DescribeTable with an index", {READ_DESCRIBE, read_client}},
        {"read: PutItem if absent, one there", {READ_PUT_IF_ABSENT, read_client}},
        {"write: BatchWriteItem, an item unprocessed once", {READ_BATCH_WRITE, read_client}},
        {"chain: heads read, items linked, heads moved", {READ_CHAIN, read_client}},
        {"chain: a BASELINE there already, read back", {READ_CHAIN_THERE, read_client}},
        {"read: one request", {READ_REQUEST, read_client}},
    };
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        runs += torture(reads[i].name, run_read, &reads[i].c);
    }
    as_batch_options chain_options = {.table = "t", .chain = true, .clock = batch_clock};
    as_batch *chain_batch = NULL;
    if (as_batch_new(read_client, &credentials, &chain_options, &chain_batch, &err) != AS_OK) {
        fprintf(stderr, "alloc: as_batch_new with the chain: %s\n", err.message);
        return 1;
    }
    /* Once partial first, so that the identifier's buffer, which the batch keeps, is
     * there before the runs count what they leave behind. */
    as_batch_result warm;
    as_status warmed = as_batch_process(
        chain_batch,
        as_span_from_cstr("{\"Records\":[" RECORD("1", ) "," RECORD("2", ",\"x\":{\"S\":\"there\"}") "]}"),
        0, NULL, NULL, &warm, &err);
    CHECK(warmed == AS_OK && warm.outcome == AS_BATCH_PARTIAL, "chain batch: not partial: %s",
          as_batch_outcome_name(warm.outcome));
    const process_case chained = {
        chain_batch, "{\"Records\":[" RECORD("1", ) "," RECORD("2", ) "," RECORD("1", ) "]}", 0};
    runs += torture("batch process: the chain on, heads moved", run_process, &chained);
    as_batch_free(chain_batch);
    as_ddb_client_free(read_client);
    kill(reader, SIGTERM);
    waitpid(reader, NULL, 0);
    runs += torture("config: every variable set", run_config, NULL);

    char aws_dir[96];
    snprintf(profile_home, sizeof profile_home, "/tmp/alloc-profile.XXXXXX");
    snprintf(aws_dir, sizeof aws_dir, "%s/.aws", mkdtemp(profile_home) != NULL ? profile_home : "");
    if (mkdir(aws_dir, 0700) != 0 ||
        !profile_file("credentials", "[dev]\naws_access_key_id = AKIDEXAMPLE\n"
                                     "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n") ||
        !profile_file("config", "[profile dev]\nregion = eu-west-1\n")) {
        fprintf(stderr, "alloc: cannot write the shared AWS files under %s\n", profile_home);
        return 1;
    }
    runs += torture("profile: credentials and config files", run_profile, NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/credentials", aws_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/config", aws_dir);
    unlink(path);
    rmdir(aws_dir);
    rmdir(profile_home);

    as_batch_free(batch);
    as_ddb_client_free(client);
    as_sigv4_signer_free(cached);
    as_global_cleanup();
    printf("alloc layers: %ld runs, %d failures\n", runs, alloc_check_failures);
    return alloc_check_failures == 0 ? 0 : 1;
}
