/* Unit tests for lib/runtime.c against tests/support/runtime_standin.py, a Lambda Runtime
 * API stand-in this test starts on a free loopback port and stops by its pid. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "auditstream.h"
#include "fault_client.h"

#define STANDIN_DEFAULT "tests/support/runtime_standin.py"
#define STARTUP_MS      10000
#define TRACE_A         "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
#define TRACE_B         "Root=1-65a1b2c3-0123456789abcdef01234567;Parent=0011223344556677;Sampled=0"
#define ARN             "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime"

/* The stand-in this process started; the only process the tests ever signal. */
static pid_t standin_pid = -1;
static char standin_api[64]; /* 127.0.0.1:PORT */
static CURL *control;        /* the test's own handle for the control API */

/* ---- small helpers -------------------------------------------------------------------- */

static as_span span_of(const char *s)
{
    return (as_span){s, strlen(s)};
}

static bool span_eq_str(as_span a, const char *s)
{
    return a.len == strlen(s) && (a.len == 0 || memcmp(a.ptr, s, a.len) == 0);
}

static void expect_span(const char *what, as_span got, const char *want)
{
    if (!span_eq_str(got, want)) {
        fail_msg("%s: got \"%.*s\", want \"%s\"", what, (int)got.len, got.ptr, want);
    }
    /* Every span of an invocation is also NUL-terminated. */
    assert_non_null(got.ptr);
    assert_int_equal(got.ptr[got.len], '\0');
}

static void expect_ok(as_status st, const as_error *err)
{
    if (st != AS_OK) {
        fail_msg("status %s: %s", as_status_name(st), err->message);
    }
}

static void expect_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL) {
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
    }
}

static size_t collect(char *data, size_t size, size_t count, void *ctx)
{
    as_buf_append(ctx, data, size * count);
    return size * count;
}

/* One request to the stand-in's control API; returns the HTTP status, the body in `out`. */
static long control_call(const char *method, const char *path, const void *body, size_t len,
                         as_buf *out)
{
    char url[2048];
    int n = snprintf(url, sizeof url, "http://%s%s", standin_api, path);
    assert_true(n > 0 && (size_t)n < sizeof url);
    as_buf_clear(out);
    curl_easy_reset(control);
    curl_easy_setopt(control, CURLOPT_URL, url);
    curl_easy_setopt(control, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(control, CURLOPT_PROXY, "");
    curl_easy_setopt(control, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(control, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(control, CURLOPT_WRITEDATA, (void *)out);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(control, CURLOPT_HTTPHEADER, headers);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(control, CURLOPT_POST, 1L);
        curl_easy_setopt(control, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        curl_easy_setopt(control, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode rc = curl_easy_perform(control);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        fail_msg("control API %s %s: %s", method, path, curl_easy_strerror(rc));
    }
    long status = 0;
    curl_easy_getinfo(control, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static void control_post(const char *path)
{
    as_buf out = AS_BUF_INIT;
    long status = control_call("POST", path, NULL, 0, &out);
    if (status != 200) {
        fail_msg("control API POST %s answered %ld: %s", path, status, out.data);
    }
    as_buf_free(&out);
}

/* Queues an event; `query` is the enqueue query string (may be ""). */
static void enqueue(const char *query, const void *payload, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "/_test/enqueue?%s", query);
    as_buf out = AS_BUF_INIT;
    long status = control_call("POST", path, payload, len, &out);
    if (status != 200) {
        fail_msg("enqueue answered %ld: %s", status, out.data);
    }
    as_buf_free(&out);
}

static void enqueue_str(const char *query, const char *payload)
{
    enqueue(query, payload, strlen(payload));
}

/* The stand-in's record (see the control API in its docstring); free with json_decref. */
static json_t *results(void)
{
    as_buf out = AS_BUF_INIT;
    long status = control_call("GET", "/_test/results", NULL, 0, &out);
    assert_int_equal(status, 200);
    json_error_t jerr;
    json_t *root = json_loadb(out.data, out.len, 0, &jerr);
    if (root == NULL) {
        fail_msg("results are not JSON: %s", jerr.text);
    }
    as_buf_free(&out);
    return root;
}

static json_t *posts_of(json_t *root)
{
    json_t *posts = json_object_get(root, "posts");
    assert_true(json_is_array(posts));
    return posts;
}

static const char *post_str(json_t *post, const char *field)
{
    json_t *value = json_object_get(post, field);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

static const char *post_header(json_t *post, const char *name)
{
    json_t *value = json_object_get(json_object_get(post, "headers"), name);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

static long long post_int(json_t *post, const char *field)
{
    json_t *value = json_object_get(post, field);
    assert_true(json_is_integer(value));
    return json_integer_value(value);
}

/* How many runtime requests the stand-in saw end with `outcome` ("drop", "partial"). */
static size_t requests_with_outcome(json_t *root, const char *outcome)
{
    size_t count = 0;
    size_t i;
    json_t *request;
    json_array_foreach(json_object_get(root, "requests"), i, request)
    {
        json_t *value = json_object_get(request, "outcome");
        if (json_is_string(value) && strcmp(json_string_value(value), outcome) == 0) {
            count++;
        }
    }
    return count;
}

static size_t request_count(json_t *root)
{
    return json_array_size(json_object_get(root, "requests"));
}

/* The body the runtime posted, decoded from base64 by jansson-free means: the stand-in
 * also gives it as text when it is UTF-8, which every test body here is. */
static void expect_post(json_t *post, const char *kind, const char *request_id, long long status)
{
    assert_string_equal(post_str(post, "kind"), kind);
    if (request_id != NULL) {
        assert_string_equal(post_str(post, "request_id"), request_id);
    }
    assert_int_equal(post_int(post, "status"), status);
}

static void sleep_for_ms(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the warn callback saw. */
typedef struct warnings {
    int count;
    char last[256];
} warnings;

static void on_warn(void *ctx, const as_error *warning)
{
    warnings *w = ctx;
    w->count++;
    snprintf(w->last, sizeof w->last, "%s", warning->message);
}

static as_runtime *runtime_new(const as_runtime_options *options)
{
    as_runtime *rt = NULL;
    as_error err = {0};
    expect_ok(as_runtime_new(standin_api, options, &rt, &err), &err);
    assert_non_null(rt);
    return rt;
}

/* ---- the stand-in's life ----------------------------------------------------------------- */

/* Reads the first line of the child's stdout (its port) within STARTUP_MS. */
static bool read_port_line(int fd, char *line, size_t size, char *why, size_t why_size)
{
    size_t len = 0;
    long long deadline = now_ms() + STARTUP_MS;
    while (len + 1 < size) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            snprintf(why, why_size, "no port on its stdout within %d ms", STARTUP_MS);
            return false;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int ready = poll(&pfd, 1, (int)left);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            continue;
        }
        ssize_t n = read(fd, line + len, 1);
        if (n <= 0) {
            snprintf(why, why_size, "it exited before printing its port (see its stderr above)");
            return false;
        }
        if (line[len] == '\n') {
            line[len] = '\0';
            return true;
        }
        len++;
    }
    snprintf(why, why_size, "its first line is too long");
    return false;
}

static void stop_standin(void)
{
    if (standin_pid > 0) {
        kill(standin_pid, SIGTERM);
        int status;
        while (waitpid(standin_pid, &status, 0) < 0 && errno == EINTR) {
        }
        standin_pid = -1;
    }
}

static int group_setup(void **state)
{
    (void)state;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "test_runtime: curl_global_init failed\n");
        return -1;
    }
    control = curl_easy_init();
    if (control == NULL) {
        fprintf(stderr, "test_runtime: curl_easy_init failed\n");
        return -1;
    }
    const char *script = getenv("AS_RUNTIME_STANDIN");
    if (script == NULL || script[0] == '\0') {
        script = STANDIN_DEFAULT;
    }
    if (access(script, R_OK) != 0) {
        fprintf(stderr,
                "test_runtime: cannot read the Runtime API stand-in %s (%s); run from the top "
                "of the tree or set AS_RUNTIME_STANDIN\n",
                script, strerror(errno));
        return -1;
    }
    int out[2];
    if (pipe(out) != 0) {
        fprintf(stderr, "test_runtime: pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "test_runtime: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            close(devnull);
        }
        execlp("python3", "python3", script, "--host", "127.0.0.1", "--port", "0", (char *)NULL);
        fprintf(stderr, "test_runtime: cannot run python3: %s\n", strerror(errno));
        _exit(127);
    }
    standin_pid = pid;
    close(out[1]);
    char line[64];
    char why[128];
    bool started = read_port_line(out[0], line, sizeof line, why, sizeof why);
    close(out[0]);
    char *end = NULL;
    long port = started ? strtol(line, &end, 10) : 0;
    if (!started || end == line || *end != '\0' || port <= 0 || port > 65535) {
        fprintf(stderr, "test_runtime: the Runtime API stand-in (python3 %s) did not start: %s\n",
                script, started ? "its first line is not a port" : why);
        stop_standin();
        return -1;
    }
    snprintf(standin_api, sizeof standin_api, "127.0.0.1:%ld", port);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    stop_standin();
    curl_easy_cleanup(control);
    control = NULL;
    curl_global_cleanup();
    return 0;
}

static int reset(void **state)
{
    (void)state;
    control_post("/_test/reset");
    unsetenv(AS_RUNTIME_TRACE_ENV);
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_new_refuses(void **state)
{
    (void)state;
    as_runtime *rt = (as_runtime *)&rt; /* must be reset to NULL on failure */
    as_error err = {0};
    assert_int_equal(as_runtime_new(NULL, NULL, &rt, &err), AS_ERR_ARGUMENT);
    assert_null(rt);
    expect_contains(err.message, "AWS_LAMBDA_RUNTIME_API is not set");
    assert_int_equal(as_runtime_new("", NULL, &rt, &err), AS_ERR_ARGUMENT);
    const char *bad[] = {"http://127.0.0.1:9001", "127.0.0.1:9001/x", "host name:1", "a@b:1",
                         "127.0.0.1:9001?x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(as_runtime_new(bad[i], NULL, &rt, &err), AS_ERR_ARGUMENT);
        assert_null(rt);
        expect_contains(err.message, "not a host:port");
    }
    assert_int_equal(as_runtime_new("127.0.0.1:9001", NULL, NULL, NULL), AS_ERR_ARGUMENT);
    as_runtime_free(NULL);
    assert_false(as_runtime_broken(NULL));
}

static void test_next_parses_headers(void **state)
{
    (void)state;
    enqueue_str("request_id=8476a536-e9f4-11e8-9739-2dfe598c3fcd&deadline_ms=1542409706888"
                "&function_arn=" ARN "&trace_id=Root%3D1-5bef4de7-ad49b0e87f6ef6c87fc2e700%3B"
                "Parent%3D9a9197af755a6419%3BSampled%3D1&client_context=%7B%22client%22%3A1%7D"
                "&cognito_identity=%7B%22cognitoIdentityId%22%3A%22id%22%7D",
                "{\"Records\":[]}");
    as_runtime *rt = runtime_new(NULL);
    as_invocation inv;
    as_error err = {0};
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    expect_span("request id", inv.request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    assert_int_equal(inv.deadline_ms, INT64_C(1542409706888));
    expect_span("function arn", inv.function_arn, ARN);
    expect_span("trace id", inv.trace_id, TRACE_A);
    expect_span("client context", inv.client_context, "{\"client\":1}");
    expect_span("cognito identity", inv.cognito_identity, "{\"cognitoIdentityId\":\"id\"}");
    expect_span("payload", inv.payload, "{\"Records\":[]}");
    assert_string_equal(getenv(AS_RUNTIME_TRACE_ENV), TRACE_A);

    as_runtime_stats stats;
    as_runtime_get_stats(rt, &stats);
    assert_int_equal(stats.invocations, 1);
    assert_int_equal(stats.connects, 1);
    assert_int_equal(stats.retries, 0);
    as_runtime_free(rt);
    /* The environment keeps no pointer into the freed runtime. */
    assert_null(getenv(AS_RUNTIME_TRACE_ENV));
}

static void test_next_missing_headers(void **state)
{
    (void)state;
    /* Absent headers are empty spans, an absent or bogus deadline is 0, and an invocation
     * without a trace id removes the previous one from the environment. */
    enqueue_str("request_id=first&trace_id=Root%3D1-5bef4de7-ad49b0e87f6ef6c87fc2e700%3B"
                "Parent%3D9a9197af755a6419%3BSampled%3D1",
                "{}");
    enqueue_str("request_id=second&omit=Lambda-Runtime-Deadline-Ms,"
                "Lambda-Runtime-Invoked-Function-Arn,Lambda-Runtime-Trace-Id",
                "");
    enqueue_str("request_id=third&deadline_ms=12ab", "x");
    enqueue_str("request_id=fourth&deadline_ms=99999999999999999999", "x");
    as_runtime *rt = runtime_new(NULL);
    as_invocation inv;
    as_error err = {0};

    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    expect_span("request id", inv.request_id, "first");
    assert_true(inv.deadline_ms > 0); /* the stand-in's default: delivery time + 3 s */
    assert_string_equal(getenv(AS_RUNTIME_TRACE_ENV), TRACE_A);
    expect_span("client context", inv.client_context, "");
    expect_span("cognito identity", inv.cognito_identity, "");

    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    expect_span("request id", inv.request_id, "second");
    assert_int_equal(inv.deadline_ms, 0);
    expect_span("function arn", inv.function_arn, "");
    expect_span("trace id", inv.trace_id, "");
    expect_span("payload", inv.payload, "");
    assert_null(getenv(AS_RUNTIME_TRACE_ENV));

    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    assert_int_equal(inv.deadline_ms, 0);
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    assert_int_equal(inv.deadline_ms, 0);
    as_runtime_free(rt);
}

static void test_next_payload_byte_for_byte(void **state)
{
    (void)state;
    /* Every byte value, NULs included, and a large body in one piece. */
    unsigned char all[512];
    for (size_t i = 0; i < sizeof all; i++) {
        all[i] = (unsigned char)(i * 7 + 3);
    }
    size_t big_len = (size_t)3 * 1024 * 1024 + 17;
    unsigned char *big = malloc(big_len);
    assert_non_null(big);
    uint32_t x = 12345;
    for (size_t i = 0; i < big_len; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (unsigned char)(x >> 16);
    }
    enqueue("request_id=bytes", all, sizeof all);
    enqueue("request_id=big", big, big_len);

    as_runtime *rt = runtime_new(NULL);
    as_invocation inv;
    as_error err = {0};
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    assert_int_equal(inv.payload.len, sizeof all);
    assert_memory_equal(inv.payload.ptr, all, sizeof all);
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    assert_int_equal(inv.payload.len, big_len);
    assert_memory_equal(inv.payload.ptr, big, big_len);
    assert_int_equal(inv.payload.ptr[big_len], '\0');
    free(big);
    as_runtime_free(rt);
}

static void test_respond(void **state)
{
    (void)state;
    enqueue_str("request_id=req-1", "{\"in\":1}");
    as_runtime *rt = runtime_new(NULL);
    as_invocation inv;
    as_error err = {0};
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    const char body[] = "{\"batchItemFailures\":[]}";
    expect_ok(as_runtime_respond(rt, inv.request_id, span_of(body), &err), &err);

    json_t *root = results();
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), 1);
    json_t *post = json_array_get(posts, 0);
    expect_post(post, "response", "req-1", 202);
    assert_string_equal(post_str(post, "path"), "/2018-06-01/runtime/invocation/req-1/response");
    assert_string_equal(post_str(post, "body"), body);
    assert_string_equal(post_header(post, "content-type"), "application/json");
    assert_null(post_header(post, "lambda-runtime-function-error-type"));
    /* One kept-alive connection: the post went over the connection of the long poll. */
    json_t *first = json_array_get(json_object_get(root, "requests"), 0);
    assert_int_equal(post_int(post, "conn"), post_int(first, "conn"));
    json_decref(root);

    as_runtime_stats stats;
    as_runtime_get_stats(rt, &stats);
    assert_int_equal(stats.posts, 1);
    assert_int_equal(stats.refused, 0);
    assert_int_equal(stats.connects, 1);
    as_runtime_free(rt);
}

static void test_fail(void **state)
{
    (void)state;
    enqueue_str("request_id=req-2", "not an event");
    as_runtime *rt = runtime_new(NULL);
    as_invocation inv;
    as_error err = {0};
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    /* Quotes, a backslash, a control byte, valid UTF-8 and an invalid byte. */
    const char message[] = "bad \"event\" \\ at\nbyte 0: caf\xC3\xA9 \xFF!";
    expect_ok(as_runtime_fail(rt, inv.request_id, span_of("InvalidEvent"), span_of(message), &err),
              &err);

    json_t *root = results();
    json_t *post = json_array_get(posts_of(root), 0);
    expect_post(post, "error", "req-2", 202);
    assert_string_equal(post_str(post, "path"), "/2018-06-01/runtime/invocation/req-2/error");
    assert_string_equal(post_header(post, "lambda-runtime-function-error-type"),
                        "Function.InvalidEvent");
    assert_string_equal(post_header(post, "content-type"), "application/vnd.aws.lambda.error+json");
    json_t *doc = json_object_get(post, "json");
    assert_true(json_is_object(doc));
    assert_string_equal(json_string_value(json_object_get(doc, "errorType")), "InvalidEvent");
    assert_string_equal(json_string_value(json_object_get(doc, "errorMessage")),
                        "bad \"event\" \\ at\nbyte 0: caf\xC3\xA9 \xEF\xBF\xBD!");
    json_t *trace = json_object_get(doc, "stackTrace");
    assert_true(json_is_array(trace));
    assert_int_equal(json_array_size(trace), 0);
    assert_int_equal(json_object_size(doc), 3);
    json_decref(root);
    as_runtime_free(rt);
}

static void test_fail_refuses_bad_error_type(void **state)
{
    (void)state;
    as_runtime *rt = runtime_new(NULL);
    as_error err = {0};
    char long_type[130];
    memset(long_type, 'A', sizeof long_type - 1);
    long_type[sizeof long_type - 1] = '\0';
    const char *bad[] = {"", "Bad Type", "Bad\r\nX-Injected: 1", "caf\xC3\xA9", long_type};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(as_runtime_fail(rt, span_of("req"), span_of(bad[i]), span_of("m"), &err),
                         AS_ERR_ARGUMENT);
        expect_contains(err.message, "error type");
        assert_int_equal(as_runtime_init_fail(rt, span_of(bad[i]), span_of("m"), &err),
                         AS_ERR_ARGUMENT);
    }
    assert_int_equal(as_runtime_fail(rt, span_of(""), span_of("Ok"), span_of("m"), &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_runtime_respond(rt, span_of(""), span_of("{}"), &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_runtime_respond(rt, span_of("x"), (as_span){NULL, 3}, &err),
                     AS_ERR_ARGUMENT);
    assert_false(as_runtime_broken(rt));
    /* Nothing reached the Runtime API. */
    json_t *root = results();
    assert_int_equal(request_count(root), 0);
    json_decref(root);
    as_runtime_free(rt);
}

static void test_init_fail(void **state)
{
    (void)state;
    as_runtime *rt = runtime_new(NULL);
    as_error err = {0};
    expect_ok(
        as_runtime_init_fail(rt, span_of("ConfigInvalid"), span_of("AUDIT_TABLE is not set"), &err),
        &err);
    json_t *root = results();
    json_t *post = json_array_get(posts_of(root), 0);
    expect_post(post, "init_error", NULL, 202);
    assert_string_equal(post_str(post, "path"), "/2018-06-01/runtime/init/error");
    assert_string_equal(post_header(post, "lambda-runtime-function-error-type"),
                        "Runtime.ConfigInvalid");
    json_t *doc = json_object_get(post, "json");
    assert_string_equal(json_string_value(json_object_get(doc, "errorType")), "ConfigInvalid");
    assert_string_equal(json_string_value(json_object_get(doc, "errorMessage")),
                        "AUDIT_TABLE is not set");
    json_decref(root);
    as_runtime_free(rt);
}

static void test_wrong_request_id(void **state)
{
    (void)state;
    enqueue_str("request_id=real", "{}");
    as_runtime *rt = runtime_new(NULL);
    as_invocation inv;
    as_error err = {0};
    expect_ok(as_runtime_next(rt, &inv, &err), &err);

    /* Unknown id: 400, reported, and the runtime goes on. Odd bytes are percent-encoded. */
    assert_int_equal(as_runtime_respond(rt, span_of("no such/id ?"), span_of("{}"), &err),
                     AS_ERR_ARGUMENT);
    expect_contains(err.message, "refused POST invocation response with 400");
    expect_contains(err.message, "InvalidRequestID");
    assert_false(as_runtime_broken(rt));

    expect_ok(as_runtime_respond(rt, inv.request_id, span_of("{}"), &err), &err);
    /* Already answered: 403 for a second response and for an error. */
    assert_int_equal(as_runtime_respond(rt, inv.request_id, span_of("{}"), &err), AS_ERR_ARGUMENT);
    expect_contains(err.message, "403");
    assert_int_equal(
        as_runtime_fail(rt, inv.request_id, span_of("Late"), span_of("too late"), &err),
        AS_ERR_ARGUMENT);
    expect_contains(err.message, "InvalidStateTransition");
    assert_false(as_runtime_broken(rt));

    json_t *root = results();
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), 4);
    expect_post(json_array_get(posts, 0), "response", "no such/id ?", 400);
    assert_string_equal(post_str(json_array_get(posts, 0), "path"),
                        "/2018-06-01/runtime/invocation/no%20such%2Fid%20%3F/response");
    expect_post(json_array_get(posts, 1), "response", "real", 202);
    expect_post(json_array_get(posts, 2), "response", "real", 403);
    expect_post(json_array_get(posts, 3), "error", "real", 403);
    json_decref(root);

    as_runtime_stats stats;
    as_runtime_get_stats(rt, &stats);
    assert_int_equal(stats.posts, 1);
    assert_int_equal(stats.refused, 3);
    assert_int_equal(stats.connects, 1); /* a refusal keeps the connection */
    as_runtime_free(rt);
}

static void test_response_too_large(void **state)
{
    (void)state;
    enqueue_str("request_id=huge", "{}");
    as_runtime *rt = runtime_new(NULL);
    as_invocation inv;
    as_error err = {0};
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    size_t len = 6291556 + 1; /* one byte over what Lambda accepts */
    char *body = malloc(len);
    assert_non_null(body);
    memset(body, 'a', len);
    assert_int_equal(as_runtime_respond(rt, inv.request_id, (as_span){body, len}, &err),
                     AS_ERR_LIMIT);
    expect_contains(err.message, "413");
    assert_false(as_runtime_broken(rt));
    free(body);
    as_runtime_free(rt);
}

static void test_payload_over_limit(void **state)
{
    (void)state;
    char big[5000];
    memset(big, 'x', sizeof big);
    enqueue("request_id=too-big&trace_id=Root%3D1-aaaaaaaa-000000000000000000000000", big,
            sizeof big);
    enqueue_str("request_id=fits", "{\"ok\":true}");
    as_runtime_options options = {.max_payload = 1000};
    as_runtime *rt = runtime_new(&options);
    as_invocation inv;
    as_error err = {0};
    assert_int_equal(as_runtime_next(rt, &inv, &err), AS_ERR_LIMIT);
    assert_false(as_runtime_broken(rt));
    expect_contains(err.message, "too-big");
    expect_contains(err.message, "over 1000 bytes");
    expect_span("request id", inv.request_id, "too-big");
    expect_span("payload", inv.payload, "");
    expect_ok(
        as_runtime_fail(rt, inv.request_id, span_of("PayloadTooLarge"), span_of(err.message), &err),
        &err);
    /* The connection was cut mid-body; the next request opens another and works. */
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    expect_span("payload", inv.payload, "{\"ok\":true}");
    as_runtime_free(rt);
}

/* ---- the run loop ------------------------------------------------------------------------- */

typedef struct loop_state {
    int calls;
    int stop_after;
    char traces[8][128]; /* _X_AMZN_TRACE_ID as each call saw it ("-" when unset) */
    char ids[8][64];
} loop_state;

/* Echoes the payload, fails payloads starting with "fail:" and "badtype:". */
static void echo_handler(void *user, const as_invocation *inv, as_runtime_reply *reply)
{
    loop_state *ls = user;
    if (ls->calls < 8) {
        const char *trace = getenv(AS_RUNTIME_TRACE_ENV);
        snprintf(ls->traces[ls->calls], sizeof ls->traces[0], "%s", trace != NULL ? trace : "-");
        snprintf(ls->ids[ls->calls], sizeof ls->ids[0], "%.*s", (int)inv->request_id.len,
                 inv->request_id.ptr);
    }
    ls->calls++;
    if (inv->payload.len >= 5 && memcmp(inv->payload.ptr, "fail:", 5) == 0) {
        as_runtime_reply_fail(reply, "InvalidEvent", inv->payload.ptr + 5);
    } else if (inv->payload.len >= 8 && memcmp(inv->payload.ptr, "badtype:", 8) == 0) {
        as_runtime_reply_fail(reply, "not a type", "handler message");
    } else {
        as_buf_append_span(&reply->body, inv->payload);
    }
    reply->stop = ls->calls == ls->stop_after;
}

/* Answers with the payload's length, so that a large payload is not echoed. */
static void length_handler(void *user, const as_invocation *inv, as_runtime_reply *reply)
{
    loop_state *ls = user;
    if (ls->calls < 8) {
        snprintf(ls->ids[ls->calls], sizeof ls->ids[0], "%.*s", (int)inv->request_id.len,
                 inv->request_id.ptr);
    }
    ls->calls++;
    char text[32];
    snprintf(text, sizeof text, "%zu", inv->payload.len);
    as_buf_append_str(&reply->body, text);
    reply->stop = ls->calls == ls->stop_after;
}

static void test_run_sets_trace_id_per_invocation(void **state)
{
    (void)state;
    enqueue_str("request_id=t1&trace_id=Root%3D1-5bef4de7-ad49b0e87f6ef6c87fc2e700%3B"
                "Parent%3D9a9197af755a6419%3BSampled%3D1",
                "one");
    enqueue_str("request_id=t2&trace_id=Root%3D1-65a1b2c3-0123456789abcdef01234567%3B"
                "Parent%3D0011223344556677%3BSampled%3D0",
                "two");
    enqueue_str("request_id=t3&omit=Lambda-Runtime-Trace-Id", "three");
    enqueue_str("request_id=t4&trace_id=Root%3D1-5bef4de7-ad49b0e87f6ef6c87fc2e700%3B"
                "Parent%3D9a9197af755a6419%3BSampled%3D1",
                "four");
    as_runtime *rt = runtime_new(NULL);
    loop_state ls = {.stop_after = 4};
    as_error err = {0};
    expect_ok(as_runtime_run(rt, echo_handler, &ls, &err), &err);
    assert_int_equal(ls.calls, 4);
    assert_string_equal(ls.ids[0], "t1");
    assert_string_equal(ls.traces[0], TRACE_A);
    assert_string_equal(ls.traces[1], TRACE_B);
    assert_string_equal(ls.traces[2], "-");
    assert_string_equal(ls.traces[3], TRACE_A);
    as_runtime_free(rt);
    assert_null(getenv(AS_RUNTIME_TRACE_ENV));
}

static void test_run_answers_and_stays_flat(void **state)
{
    (void)state;
    enum { INVOCATIONS = 40, WARM = 10, SIZE = 3000 }; /* the warm-up includes an error */
    char payload[SIZE + 32];
    for (int i = 0; i < INVOCATIONS; i++) {
        char query[64];
        snprintf(query, sizeof query, "request_id=inv-%02d", i);
        /* Same size each time, different bytes; every tenth is an error. */
        int n = snprintf(payload, sizeof payload, "%s%02d:", i % 10 == 9 ? "fail:" : "", i);
        memset(payload + n, 'a' + i % 26, SIZE - (size_t)n);
        enqueue(query, payload, SIZE);
    }
    warnings w = {0};
    as_runtime_options options = {.warn = on_warn, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    as_error err = {0};

    loop_state ls = {.stop_after = WARM};
    expect_ok(as_runtime_run(rt, echo_handler, &ls, &err), &err);
    as_runtime_stats warm;
    as_runtime_get_stats(rt, &warm);

    loop_state rest = {.stop_after = INVOCATIONS - WARM};
    expect_ok(as_runtime_run(rt, echo_handler, &rest, &err), &err);
    as_runtime_stats stats;
    as_runtime_get_stats(rt, &stats);
    assert_int_equal(stats.invocations, INVOCATIONS);
    assert_int_equal(stats.posts, INVOCATIONS);
    assert_int_equal(stats.refused, 0);
    assert_int_equal(stats.retries, 0);
    assert_int_equal(stats.connects, 1); /* one kept-alive connection throughout */
    /* Memory does not grow across invocations: every buffer is reused. */
    assert_true(warm.buffer_bytes > 0);
    assert_int_equal(stats.buffer_bytes, warm.buffer_bytes);
    assert_int_equal(w.count, 0);

    json_t *root = results();
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), INVOCATIONS);
    for (int i = 0; i < INVOCATIONS; i++) {
        json_t *post = json_array_get(posts, (size_t)i);
        char id[32];
        snprintf(id, sizeof id, "inv-%02d", i);
        int n = snprintf(payload, sizeof payload, "%s%02d:", i % 10 == 9 ? "fail:" : "", i);
        memset(payload + n, 'a' + i % 26, SIZE - (size_t)n);
        payload[SIZE] = '\0';
        if (i % 10 == 9) {
            expect_post(post, "error", id, 202);
            json_t *doc = json_object_get(post, "json");
            assert_string_equal(json_string_value(json_object_get(doc, "errorMessage")),
                                payload + 5);
            assert_string_equal(post_header(post, "lambda-runtime-function-error-type"),
                                "Function.InvalidEvent");
        } else {
            expect_post(post, "response", id, 202);
            assert_string_equal(post_str(post, "body"), payload);
        }
    }
    json_decref(root);
    as_runtime_free(rt);
}

static void test_run_survives_what_one_invocation_does(void **state)
{
    (void)state;
    /* A payload over the limit, an error type Lambda cannot take, an answer the Runtime
     * API refuses: each is reported to warn, and the loop goes on. */
    char big[2048];
    memset(big, 'b', sizeof big);
    enqueue("request_id=big", big, sizeof big);
    enqueue_str("request_id=badtype", "badtype:");
    enqueue_str("request_id=refused", "{}");
    enqueue_str("request_id=last", "{\"last\":1}");
    control_post("/_test/fault?action=status&status=400&path=response&count=1");
    control_post("/_test/fault?action=delay&delay_ms=1&path=next&count=1"); /* no-op */
    warnings w = {0};
    as_runtime_options options = {.max_payload = 1024, .warn = on_warn, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    loop_state ls = {.stop_after = 3};
    as_error err = {0};
    expect_ok(as_runtime_run(rt, echo_handler, &ls, &err), &err);
    assert_int_equal(ls.calls, 3); /* the handler never saw the payload over the limit */
    assert_string_equal(ls.ids[0], "badtype");
    assert_int_equal(w.count, 3);
    expect_contains(w.last, "refused POST invocation response with 400");

    json_t *root = results();
    json_t *posts = posts_of(root);
    json_t *post = json_array_get(posts, 0);
    expect_post(post, "error", "big", 202);
    assert_string_equal(post_header(post, "lambda-runtime-function-error-type"),
                        "Runtime.PayloadTooLarge");
    post = json_array_get(posts, 1);
    expect_post(post, "error", "badtype", 202);
    assert_string_equal(post_header(post, "lambda-runtime-function-error-type"),
                        "Runtime.InvalidErrorType");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(post, "json"), "errorMessage")),
        "handler message");
    /* The stand-in answered the injected 400 without recording a post. */
    expect_post(json_array_get(posts, 2), "response", "last", 202);
    assert_int_equal(json_array_size(posts), 3);
    json_decref(root);
    assert_false(as_runtime_broken(rt));
    as_runtime_free(rt);
}

/* ---- lost connections and fatal answers ------------------------------------------------ */

static void test_next_waits_without_timeout(void **state)
{
    (void)state;
    /* The long poll outlasts the post timeout: it has none. */
    enqueue_str("request_id=slow", "{}");
    control_post("/_test/fault?action=delay&delay_ms=600&path=next");
    as_runtime_options options = {.post_timeout_ms = 100};
    as_runtime *rt = runtime_new(&options);
    as_invocation inv;
    as_error err = {0};
    long long start = now_ms();
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    assert_true(now_ms() - start >= 550);
    expect_span("request id", inv.request_id, "slow");
    as_runtime_stats stats;
    as_runtime_get_stats(rt, &stats);
    assert_int_equal(stats.retries, 0);
    as_runtime_free(rt);
}

static void test_reconnects_after_lost_connection(void **state)
{
    (void)state;
    enqueue_str("request_id=r1", "{\"first\":1}");
    enqueue_str("request_id=r2", "{\"second\":2}");
    warnings w = {0};
    as_runtime_options options = {.retry_delay_ms = 5, .warn = on_warn, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    as_invocation inv;
    as_error err = {0};

    /* Dropped without an answer, then cut in the middle of the body: both retried. */
    control_post("/_test/fault?action=drop&path=next&count=1");
    control_post("/_test/fault?action=partial&path=next&count=1");
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    expect_span("request id", inv.request_id, "r1");
    expect_span("payload", inv.payload, "{\"first\":1}");
    assert_true(w.count >= 1);
    expect_contains(w.last, "lost the connection to the Lambda Runtime API");

    /* A post whose connection drops is sent again. */
    control_post("/_test/fault?action=drop&path=response&count=1");
    expect_ok(as_runtime_respond(rt, inv.request_id, span_of("{\"r\":1}"), &err), &err);
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    expect_span("payload", inv.payload, "{\"second\":2}");
    expect_ok(as_runtime_respond(rt, inv.request_id, span_of("{\"r\":2}"), &err), &err);
    assert_false(as_runtime_broken(rt));

    as_runtime_stats stats;
    as_runtime_get_stats(rt, &stats);
    assert_true(stats.retries >= 1 && stats.retries <= 3);
    assert_int_equal(stats.posts, 2);
    assert_true(stats.connects >= 2); /* each lost connection is replaced */
    json_t *root = results();
    assert_int_equal(requests_with_outcome(root, "drop"), 2);
    assert_int_equal(requests_with_outcome(root, "partial"), 1);
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), 2);
    expect_post(json_array_get(posts, 0), "response", "r1", 202);
    expect_post(json_array_get(posts, 1), "response", "r2", 202);
    json_decref(root);
    as_runtime_free(rt);
}

static void test_lost_connection_bound(void **state)
{
    (void)state;
    enqueue_str("request_id=never", "{}");
    control_post("/_test/fault?action=drop&path=any&count=100");
    warnings w = {0};
    as_runtime_options options = {
        .retries = 3, .retry_delay_ms = 5, .warn = on_warn, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    as_invocation inv;
    as_error err = {0};
    long long start = now_ms();
    as_status st = as_runtime_next(rt, &inv, &err);
    assert_int_not_equal(st, AS_OK);
    assert_true(now_ms() - start < 3000);
    assert_true(as_runtime_broken(rt));
    expect_contains(err.message, "lost the connection to the Lambda Runtime API 127.0.0.1:");
    expect_contains(err.message, "failed 4 times");
    expect_span("request id", inv.request_id, "");
    assert_int_equal(w.count, 3);

    as_runtime_stats stats;
    as_runtime_get_stats(rt, &stats);
    assert_int_equal(stats.retries, 3);
    json_t *root = results();
    size_t drops = requests_with_outcome(root, "drop");
    /* Four attempts; curl may itself retry the first once, on its reused connection. */
    assert_true(drops >= 4 && drops <= 5);
    size_t seen = request_count(root);
    json_decref(root);

    /* Broken for good: later calls fail at once, without a request. */
    as_error again = {0};
    assert_int_equal(as_runtime_next(rt, &inv, &again), st);
    assert_string_equal(again.message, err.message);
    assert_int_equal(as_runtime_respond(rt, span_of("never"), span_of("{}"), &again), st);
    assert_int_equal(as_runtime_init_fail(rt, span_of("X"), span_of("y"), &again), st);
    assert_int_not_equal(as_runtime_run(rt, echo_handler, &(loop_state){0}, &again), AS_OK);
    root = results();
    assert_int_equal(request_count(root), seen);
    json_decref(root);
    as_runtime_free(rt);
}

static void test_unreachable_runtime_api(void **state)
{
    (void)state;
    /* A port nothing listens on: connections are refused. */
    unsigned port = closed_loopback_port();
    assert_true(port != 0);
    char api[64];
    snprintf(api, sizeof api, "127.0.0.1:%u", port);

    as_runtime_options options = {.retries = 2, .retry_delay_ms = 5};
    as_runtime *rt = NULL;
    as_error err = {0};
    expect_ok(as_runtime_new(api, &options, &rt, &err), &err);
    as_invocation inv;
    assert_int_not_equal(as_runtime_next(rt, &inv, &err), AS_OK);
    assert_true(as_runtime_broken(rt));
    expect_contains(err.message, api);
    expect_contains(err.message, "failed 3 times");
    as_runtime_stats stats;
    as_runtime_get_stats(rt, &stats);
    assert_int_equal(stats.retries, 2);
    as_runtime_free(rt);
}

static void test_container_error_breaks(void **state)
{
    (void)state;
    /* 500 on a post: Lambda wants the runtime gone. */
    enqueue_str("request_id=c1", "{}");
    as_runtime *rt = runtime_new(NULL);
    as_invocation inv;
    as_error err = {0};
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    control_post("/_test/fault?action=status&status=500&path=response");
    assert_int_not_equal(as_runtime_respond(rt, inv.request_id, span_of("{}"), &err), AS_OK);
    assert_true(as_runtime_broken(rt));
    expect_contains(err.message, "answered 500 (container error: the runtime must exit)");
    as_runtime_stats stats;
    as_runtime_get_stats(rt, &stats);
    assert_int_equal(stats.retries, 0); /* an answer is not a lost connection */
    as_runtime_free(rt);

    /* 500 on next, and the run loop hands it back. */
    control_post("/_test/fault?action=status&status=500&path=next");
    rt = runtime_new(NULL);
    loop_state ls = {0};
    assert_int_not_equal(as_runtime_run(rt, echo_handler, &ls, &err), AS_OK);
    assert_true(as_runtime_broken(rt));
    expect_contains(err.message, "answered 500 to GET invocation/next");
    assert_int_equal(ls.calls, 0);
    as_runtime_free(rt);

    /* 500 on the error post of the run loop. */
    enqueue_str("request_id=c2", "fail:boom");
    control_post("/_test/fault?action=status&status=503&path=error");
    rt = runtime_new(NULL);
    assert_int_not_equal(as_runtime_run(rt, echo_handler, &ls, &err), AS_OK);
    assert_true(as_runtime_broken(rt));
    expect_contains(err.message, "503");
    as_runtime_free(rt);
}

static void test_post_timeout(void **state)
{
    (void)state;
    /* Posts are bounded: a Runtime API that does not answer is a lost connection. */
    enqueue_str("request_id=p1", "{}");
    as_runtime_options options = {.post_timeout_ms = 150, .retries = 1, .retry_delay_ms = 5};
    as_runtime *rt = runtime_new(&options);
    as_invocation inv;
    as_error err = {0};
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    control_post("/_test/fault?action=delay&delay_ms=700&path=response&count=2");
    long long start = now_ms();
    assert_int_not_equal(as_runtime_respond(rt, inv.request_id, span_of("{}"), &err), AS_OK);
    assert_true(now_ms() - start < 1500);
    assert_true(as_runtime_broken(rt));
    expect_contains(err.message, "failed 2 times");
    as_runtime_free(rt);
    /* The stand-in answers the abandoned attempts after its delay: let them land in this
     * test, not in the next one's record. */
    sleep_for_ms(800);
}

/* ---- hostile invocations and slow answers (issue 9, item 6) ------------------------------ */

/* What the warn callback saw, every message kept. */
typedef struct all_warnings {
    int count;
    char text[16][512];
} all_warnings;

static void on_warn_all(void *ctx, const as_error *warning)
{
    all_warnings *w = ctx;
    if (w->count < 16) {
        snprintf(w->text[w->count], sizeof w->text[0], "%s", warning->message);
    }
    w->count++;
}

static void expect_warned(const all_warnings *w, int index, const char *part)
{
    if (index >= w->count || index >= 16) {
        fail_msg("warning %d was never given (%d given)", index, w->count);
    }
    expect_contains(w->text[index], part);
}

/* A 200 KB trace id is over libcurl's 100 KB header line cap, which it reports as "out
 * of memory": the function used to exit. Now that invocation is failed with
 * Runtime.HeaderTooLarge (its request id came first), the reason is told, and the next
 * invocation is handled on a new connection. */
static void test_header_over_curl_cap(void **state)
{
    (void)state;
    enqueue_str("request_id=giant-trace&sizes=%7B%22Lambda-Runtime-Trace-Id%22%3A204800%7D", "{}");
    enqueue_str("request_id=after", "{\"after\":1}");
    all_warnings w = {0};
    as_runtime_options options = {.warn = on_warn_all, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    loop_state ls = {.stop_after = 1};
    as_error err = {0};
    expect_ok(as_runtime_run(rt, echo_handler, &ls, &err), &err);
    assert_false(as_runtime_broken(rt));
    assert_int_equal(ls.calls, 1);
    assert_string_equal(ls.ids[0], "after");
    assert_int_equal(w.count, 1);
    expect_warned(&w, 0,
                  "invocation giant-trace: GET invocation/next: a header line is too long to read");
    expect_warned(&w, 0, "100 KB");

    json_t *root = results();
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), 2);
    json_t *post = json_array_get(posts, 0);
    expect_post(post, "error", "giant-trace", 202);
    assert_string_equal(post_header(post, "lambda-runtime-function-error-type"),
                        "Runtime.HeaderTooLarge");
    expect_contains(
        json_string_value(json_object_get(json_object_get(post, "json"), "errorMessage")),
        "a header line is too long to read");
    expect_post(json_array_get(posts, 1), "response", "after", 202);
    json_decref(root);
    as_runtime_free(rt);
}

/* Headers over 256 KB in all, in lines libcurl takes one by one (50 unknown headers of
 * 90 KB): libcurl's own 300 KB cap looked like a lost connection, retried, and the
 * invocation was lost. Now it is refused as Runtime.HeaderTooLarge. */
static void test_headers_over_total_cap(void **state)
{
    (void)state;
    enqueue_str("request_id=many-big&pad=50:90000", "{}");
    enqueue_str("request_id=after-big", "{}");
    all_warnings w = {0};
    as_runtime_options options = {.warn = on_warn_all, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    loop_state ls = {.stop_after = 1};
    as_error err = {0};
    expect_ok(as_runtime_run(rt, echo_handler, &ls, &err), &err);
    assert_string_equal(ls.ids[0], "after-big");
    assert_int_equal(w.count, 1);
    expect_warned(&w, 0,
                  "invocation many-big: GET invocation/next: the headers are over 262144 "
                  "bytes in all");
    json_t *root = results();
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), 2);
    expect_post(json_array_get(posts, 0), "error", "many-big", 202);
    assert_string_equal(post_header(json_array_get(posts, 0), "lambda-runtime-function-error-type"),
                        "Runtime.HeaderTooLarge");
    expect_post(json_array_get(posts, 1), "response", "after-big", 202);
    json_decref(root);
    as_runtime_free(rt);
}

/* Lambda's documented largest payload (6 MB) is handled whole with the default options;
 * one byte over the default limit (7 MiB) is failed as Runtime.PayloadTooLarge with a
 * warning that says so, and the loop goes on. */
static void test_default_payload_limit(void **state)
{
    (void)state;
    size_t six = (size_t)6 * 1000 * 1000;
    size_t over = AS_RUNTIME_MAX_PAYLOAD_DEFAULT + 1;
    char *bytes = malloc(over);
    assert_non_null(bytes);
    memset(bytes, 'z', over);
    enqueue("request_id=six-mb", bytes, six);
    enqueue("request_id=over", bytes, over);
    enqueue_str("request_id=small", "{}");
    free(bytes);
    all_warnings w = {0};
    as_runtime_options options = {.warn = on_warn_all, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    loop_state ls = {.stop_after = 2};
    as_error err = {0};
    expect_ok(as_runtime_run(rt, length_handler, &ls, &err), &err);
    assert_string_equal(ls.ids[0], "six-mb");
    assert_string_equal(ls.ids[1], "small");
    assert_int_equal(w.count, 1);
    expect_warned(&w, 0, "invocation over: the payload is over 7340032 bytes and was not read");
    json_t *root = results();
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), 3);
    expect_post(json_array_get(posts, 0), "response", "six-mb", 202);
    assert_string_equal(post_str(json_array_get(posts, 0), "body"), "6000000");
    expect_post(json_array_get(posts, 1), "error", "over", 202);
    assert_string_equal(post_header(json_array_get(posts, 1), "lambda-runtime-function-error-type"),
                        "Runtime.PayloadTooLarge");
    expect_post(json_array_get(posts, 2), "response", "small", 202);
    json_decref(root);
    as_runtime_free(rt);
}

/* A trace id that libcurl reads but that is not an X-Ray header (over 4 KB, a control
 * byte, sent twice): the invocation is handled without it, and warn says so. */
static void test_bad_trace_id_dropped(void **state)
{
    (void)state;
    enqueue_str("request_id=long-trace&sizes=%7B%22Lambda-Runtime-Trace-Id%22%3A8000%7D", "a");
    enqueue_str("request_id=tab-trace&trace_id=Root%3D1-5bef4de7%09x", "b");
    enqueue_str("request_id=two-traces&extra=%5B%5B%22Lambda-Runtime-Trace-Id%22%2C%22Root%3D1-"
                "other%22%5D%5D",
                "c");
    all_warnings w = {0};
    as_runtime_options options = {.warn = on_warn_all, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    loop_state ls = {.stop_after = 3};
    as_error err = {0};
    expect_ok(as_runtime_run(rt, echo_handler, &ls, &err), &err);
    assert_int_equal(ls.calls, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(ls.traces[i], "-"); /* _X_AMZN_TRACE_ID unset */
    }
    assert_int_equal(w.count, 3);
    expect_warned(&w, 0,
                  "invocation long-trace: Lambda-Runtime-Trace-Id (8000 bytes) is over "
                  "4096 bytes: handled without a trace id");
    expect_warned(&w, 1,
                  "invocation tab-trace: Lambda-Runtime-Trace-Id (17 bytes) holds a space, "
                  "a control byte or a non-ASCII byte");
    expect_warned(&w, 2, "invocation two-traces: Lambda-Runtime-Trace-Id");
    expect_warned(&w, 2, "was sent twice with different values");
    json_t *root = results();
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), 3);
    expect_post(json_array_get(posts, 0), "response", "long-trace", 202);
    expect_post(json_array_get(posts, 2), "response", "two-traces", 202);
    json_decref(root);
    as_runtime_free(rt);
}

/* An invocation whose request id is unusable cannot be answered: it is skipped with a
 * warning naming what was wrong, and the loop goes on (it used to exit on a missing
 * one). */
static void test_bad_request_id_skipped(void **state)
{
    (void)state;
    enqueue_str("request_id=r-long&sizes=%7B%22Lambda-Runtime-Aws-Request-Id%22%3A300%7D", "1");
    enqueue_str("request_id=r-missing&omit=Lambda-Runtime-Aws-Request-Id", "3");
    enqueue_str("request_id=r-twice&extra=%5B%5B%22Lambda-Runtime-Aws-Request-Id%22%2C%22r-other"
                "%22%5D%5D",
                "4");
    enqueue_str("request_id=r%20space", "5");
    enqueue_str("request_id=r-fine", "{\"fine\":1}");
    all_warnings w = {0};
    as_runtime_options options = {.warn = on_warn_all, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    loop_state ls = {.stop_after = 1};
    as_error err = {0};
    expect_ok(as_runtime_run(rt, echo_handler, &ls, &err), &err);
    assert_false(as_runtime_broken(rt));
    assert_int_equal(ls.calls, 1);
    assert_string_equal(ls.ids[0], "r-fine");
    assert_int_equal(w.count, 4);
    expect_warned(&w, 0, "Lambda-Runtime-Aws-Request-Id is over 256 bytes (300 bytes)");
    expect_warned(&w, 1, "Lambda-Runtime-Aws-Request-Id is missing (0 bytes): skipped");
    expect_warned(&w, 2, "was sent twice with different values");
    expect_warned(&w, 3, "holds a space, a control byte or a non-ASCII byte");
    for (int i = 0; i < 4; i++) {
        expect_warned(&w, i, "skipped without an answer");
    }
    json_t *root = results();
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), 1);
    expect_post(json_array_get(posts, 0), "response", "r-fine", 202);
    json_decref(root);
    as_invocation inv;
    /* as_runtime_next alone says the same with AS_ERR_LIMIT and an empty request id. */
    enqueue_str("request_id=r-missing-2&omit=Lambda-Runtime-Aws-Request-Id", "6");
    assert_int_equal(as_runtime_next(rt, &inv, &err), AS_ERR_LIMIT);
    expect_span("request id", inv.request_id, "");
    expect_contains(err.message, "is missing");
    assert_false(as_runtime_broken(rt));
    as_runtime_free(rt);
}

/* A request id libcurl cannot read (a 200 KB line, which it reports as out of memory,
 * as it does memory it could not get) leaves nothing to answer with: the runtime breaks,
 * so that the process exits and Lambda fails the invocation now, not at its timeout. */
static void test_unreadable_request_id_breaks(void **state)
{
    (void)state;
    enqueue_str("request_id=r-giant&sizes=%7B%22Lambda-Runtime-Aws-Request-Id%22%3A204800%7D", "2");
    enqueue_str("request_id=r-never", "{}");
    as_runtime *rt = runtime_new(NULL);
    loop_state ls = {.stop_after = 1};
    as_error err = {0};
    assert_int_not_equal(as_runtime_run(rt, echo_handler, &ls, &err), AS_OK);
    assert_true(as_runtime_broken(rt));
    assert_int_equal(ls.calls, 0);
    expect_contains(err.message, "libcurl stopped at a header line before "
                                 "Lambda-Runtime-Aws-Request-Id");
    expect_contains(err.message, "cannot be answered");
    json_t *root = results();
    assert_int_equal(json_array_size(posts_of(root)), 0);
    json_decref(root);
    as_runtime_free(rt);
}

/* A deadline that is not Lambda's is unknown (0), with a warning quoting it (cut, and
 * unprintable bytes shown as '?'). */
static void test_bad_deadline_unknown(void **state)
{
    (void)state;
    char far[160];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long in_an_hour = (long long)ts.tv_sec * 1000 + 3600 * 1000;
    snprintf(far, sizeof far, "request_id=d-far&deadline_ms=%lld", in_an_hour);
    enqueue_str("request_id=d-text&deadline_ms=soon", "1");
    enqueue_str("request_id=d-negative&deadline_ms=-5", "2");
    enqueue_str("request_id=d-huge&deadline_ms=99999999999999999999", "3");
    enqueue_str(far, "4");
    enqueue_str("request_id=d-long&sizes=%7B%22Lambda-Runtime-Deadline-Ms%22%3A100%7D", "5");
    enqueue_str("request_id=d-twice&extra=%5B%5B%22Lambda-Runtime-Deadline-Ms%22%2C%221%22%5D%5D",
                "6");
    all_warnings w = {0};
    as_runtime_options options = {.warn = on_warn_all, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    as_invocation inv;
    as_error err = {0};
    const char *wants[] = {
        ("invocation d-text: Lambda-Runtime-Deadline-Ms \"soon\" is not epoch milliseconds: "
         "the deadline counts as unknown"),
        "\"-5\" is not epoch milliseconds",
        "\"99999999999999999999\" is not epoch milliseconds",
        "is over 15 minutes away (Lambda's longest timeout): the deadline counts as unknown",
        "Lambda-Runtime-Deadline-Ms of 100 bytes is not epoch milliseconds",
        "was sent twice with different values",
    };
    for (int i = 0; i < 6; i++) {
        expect_ok(as_runtime_next(rt, &inv, &err), &err);
        assert_int_equal(inv.deadline_ms, 0);
        assert_int_equal(w.count, i + 1);
        expect_warned(&w, i, wants[i]);
    }
    as_runtime_free(rt);
}

/* A body that stalls, or never ends, after the headers: the invocation is failed with
 * Runtime.PayloadIncomplete once body_timeout_ms has passed, and the loop goes on. The
 * long poll for the headers has no such limit. */
static void test_body_that_never_ends(void **state)
{
    (void)state;
    enqueue_str("request_id=b-stall", "{\"stall\":1}");
    enqueue_str("request_id=b-drip", "{\"drip\":1}");
    enqueue_str("request_id=b-slow-headers", "{\"ok\":1}");
    control_post("/_test/fault?action=stall&path=next&count=1");
    control_post("/_test/fault?action=drip&path=next&count=1");
    control_post("/_test/fault?action=delay&delay_ms=900&path=next&count=1");
    all_warnings w = {0};
    as_runtime_options options = {.body_timeout_ms = 300, .warn = on_warn_all, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    loop_state ls = {.stop_after = 1};
    as_error err = {0};
    long long start = now_ms();
    expect_ok(as_runtime_run(rt, echo_handler, &ls, &err), &err);
    assert_true(now_ms() - start < 5000);
    assert_int_equal(ls.calls, 1);
    assert_string_equal(ls.ids[0], "b-slow-headers");
    assert_int_equal(w.count, 2);
    expect_warned(&w, 0,
                  "invocation b-stall: GET invocation/next: the payload did not arrive in "
                  "full within 300 ms of the headers");
    expect_warned(&w, 1, "invocation b-drip:");
    json_t *root = results();
    json_t *posts = posts_of(root);
    if (json_array_size(posts) != 3) {
        fail_msg("posts: %s", json_dumps(posts, 0));
    }
    expect_post(json_array_get(posts, 0), "error", "b-stall", 202);
    assert_string_equal(post_header(json_array_get(posts, 0), "lambda-runtime-function-error-type"),
                        "Runtime.PayloadIncomplete");
    expect_post(json_array_get(posts, 1), "error", "b-drip", 202);
    expect_post(json_array_get(posts, 2), "response", "b-slow-headers", 202);
    json_decref(root);
    as_runtime_free(rt);
}

/* An invocation followed by bytes beyond its Content-Length: they are read as the start
 * of the next answer on that connection ("Received HTTP/0.9"), which used to break the
 * runtime. That attempt is now retried on a new connection, and the loop goes on. */
static void test_bytes_after_the_body(void **state)
{
    (void)state;
    enqueue_str("request_id=tr-1", "{\"first\":1}");
    enqueue_str("request_id=tr-2", "{\"second\":2}");
    control_post("/_test/fault?action=trailing&path=next&count=1");
    all_warnings w = {0};
    as_runtime_options options = {.retry_delay_ms = 5, .warn = on_warn_all, .warn_ctx = &w};
    as_runtime *rt = runtime_new(&options);
    loop_state ls = {.stop_after = 2};
    as_error err = {0};
    expect_ok(as_runtime_run(rt, echo_handler, &ls, &err), &err);
    assert_false(as_runtime_broken(rt));
    assert_int_equal(ls.calls, 2);
    json_t *root = results();
    json_t *posts = posts_of(root);
    /* The first answer reached the stand-in; a resend after the garbage is refused. */
    expect_post(json_array_get(posts, 0), "response", "tr-1", 202);
    expect_post(json_array_get(posts, json_array_size(posts) - 1), "response", "tr-2", 202);
    assert_int_equal(requests_with_outcome(root, "trailing"), 1);
    json_decref(root);
    as_runtime_free(rt);
}

/* A post that answers slowly used to be retried 4 x 10 s, 40 s past the deadline. Now
 * it ends at the invocation's deadline, without breaking the runtime; a missing deadline
 * or one past on arrival keeps the plain timeout, and a deadline about to pass still
 * leaves AS_RUNTIME_POST_FLOOR_MS. */
static void test_post_respects_deadline(void **state)
{
    (void)state;
    enqueue_str("request_id=slow-1&timeout_ms=1200", "{}");
    as_runtime *rt = runtime_new(NULL); /* 10 s a post attempt, 3 retries */
    as_invocation inv;
    as_error err = {0};
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    control_post("/_test/fault?action=delay&delay_ms=2500&path=response&count=10");
    long long start = now_ms();
    as_status st = as_runtime_respond(rt, inv.request_id, span_of("{}"), &err);
    long long took = now_ms() - start;
    assert_int_equal(st, AS_ERR_IO);
    assert_false(as_runtime_broken(rt));
    expect_contains(err.message, "POST invocation response: gave up at the invocation's deadline");
    assert_true(took >= 900 && took < 2000);
    /* The stand-in answers the abandoned attempts after its delay: let them land here. */
    sleep_for_ms(2700);
    control_post("/_test/reset");

    /* The runtime is fine: the next invocation is answered. */
    enqueue_str("request_id=slow-2&timeout_ms=5000", "{}");
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    expect_ok(as_runtime_respond(rt, inv.request_id, span_of("{}"), &err), &err);

    /* Unknown deadlines: missing, and past on arrival. A 700 ms answer is waited for. */
    enqueue_str("request_id=slow-3&omit=Lambda-Runtime-Deadline-Ms", "{}");
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    control_post("/_test/fault?action=delay&delay_ms=700&path=response&count=1");
    expect_ok(as_runtime_respond(rt, inv.request_id, span_of("{}"), &err), &err);
    enqueue_str("request_id=slow-4&deadline_ms=1000", "{}");
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    control_post("/_test/fault?action=delay&delay_ms=700&path=error&count=1");
    expect_ok(as_runtime_fail(rt, inv.request_id, span_of("Late"), span_of("m"), &err), &err);

    /* A deadline 100 ms away, gone by the time of the post: the floor still lets a
     * 400 ms answer through. */
    enqueue_str("request_id=slow-5&timeout_ms=100", "{}");
    expect_ok(as_runtime_next(rt, &inv, &err), &err);
    sleep_for_ms(200);
    control_post("/_test/fault?action=delay&delay_ms=400&path=response&count=1");
    expect_ok(as_runtime_respond(rt, inv.request_id, span_of("{}"), &err), &err);
    json_t *root = results();
    json_t *posts = posts_of(root);
    assert_int_equal(json_array_size(posts), 4);
    expect_post(json_array_get(posts, 3), "response", "slow-5", 202);
    json_decref(root);
    as_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_new_refuses, reset),
        cmocka_unit_test_setup(test_next_parses_headers, reset),
        cmocka_unit_test_setup(test_next_missing_headers, reset),
        cmocka_unit_test_setup(test_next_payload_byte_for_byte, reset),
        cmocka_unit_test_setup(test_respond, reset),
        cmocka_unit_test_setup(test_fail, reset),
        cmocka_unit_test_setup(test_fail_refuses_bad_error_type, reset),
        cmocka_unit_test_setup(test_init_fail, reset),
        cmocka_unit_test_setup(test_wrong_request_id, reset),
        cmocka_unit_test_setup(test_response_too_large, reset),
        cmocka_unit_test_setup(test_payload_over_limit, reset),
        cmocka_unit_test_setup(test_run_sets_trace_id_per_invocation, reset),
        cmocka_unit_test_setup(test_run_answers_and_stays_flat, reset),
        cmocka_unit_test_setup(test_run_survives_what_one_invocation_does, reset),
        cmocka_unit_test_setup(test_next_waits_without_timeout, reset),
        cmocka_unit_test_setup(test_reconnects_after_lost_connection, reset),
        cmocka_unit_test_setup(test_lost_connection_bound, reset),
        cmocka_unit_test_setup(test_unreachable_runtime_api, reset),
        cmocka_unit_test_setup(test_container_error_breaks, reset),
        cmocka_unit_test_setup(test_post_timeout, reset),
        cmocka_unit_test_setup(test_header_over_curl_cap, reset),
        cmocka_unit_test_setup(test_headers_over_total_cap, reset),
        cmocka_unit_test_setup(test_default_payload_limit, reset),
        cmocka_unit_test_setup(test_bad_trace_id_dropped, reset),
        cmocka_unit_test_setup(test_bad_request_id_skipped, reset),
        cmocka_unit_test_setup(test_unreadable_request_id_breaks, reset),
        cmocka_unit_test_setup(test_bad_deadline_unknown, reset),
        cmocka_unit_test_setup(test_body_that_never_ends, reset),
        cmocka_unit_test_setup(test_post_respects_deadline, reset),
        cmocka_unit_test_setup(test_bytes_after_the_body, reset),
    };
    return cmocka_run_group_tests_name("runtime", tests, group_setup, group_teardown);
}
