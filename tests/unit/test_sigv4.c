/* Unit tests for lib/aws/sigv4.c: every header-mode case of aws-c-auth's and botocore's SigV4
 * suites (one cmocka test each, listed from tests/vectors at run time), the key
 * cache, a DynamoDB PutItem known answer from botocore, and the refusals. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "auditstream.h"

/* The values every case shares (tests/vectors/sigv4/README.md, "context.json"). */
#define AKID   "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
/* 2015-08-30T12:36:00Z */
#define SUITE_TIME INT64_C(1440938160)

#define MAX_HEADERS 64

static as_span span_of(const char *s)
{
    return (as_span){s, strlen(s)};
}

static as_span buf_span(const as_buf *b)
{
    return (as_span){b->data, b->len};
}

static bool span_eq(as_span a, as_span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool span_eq_str(as_span a, const char *s)
{
    return span_eq(a, span_of(s));
}

static bool span_caseeq(as_span a, const char *s)
{
    return a.len == strlen(s) && strncasecmp(a.ptr, s, a.len) == 0;
}

/* Fails the test with both texts when they differ. */
static void expect_span_text(const char *what, as_span got, as_span want)
{
    if (!span_eq(got, want)) {
        fail_msg("%s differs.\n---- got:\n%.*s\n---- want:\n%.*s\n----", what, (int)got.len,
                 got.ptr != NULL ? got.ptr : "", (int)want.len, want.ptr != NULL ? want.ptr : "");
    }
}

/* The in-tree copies (tests/vectors/README.md), relative to the top of the tree, where
 * tests/run-unit.sh runs every test from. No override: a test that could be pointed
 * elsewhere could pass in one checkout and fail in a clone. */
#define VECTORS_DIR "tests/vectors"

/* Reads a whole file; false when it cannot be opened. */
static bool read_file(const char *path, as_buf *out)
{
    as_buf_clear(out);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        as_buf_append(out, chunk, n);
    }
    bool ok = !ferror(f);
    fclose(f);
    if (out->data == NULL) {
        as_buf_append(out, "", 0); /* an empty file still gets a NUL-terminated buffer */
    }
    assert_int_equal(as_buf_status(out), AS_OK);
    return ok;
}

static void must_read(const char *path, as_buf *out)
{
    if (!read_file(path, out)) {
        fail_msg("cannot read %s (tests run from the top of the tree)", path);
    }
}

/* ---- The suites' request format ------------------------------------------------------------ */

/* A request parsed from the suites' HTTP/1.1-like text; spans point into `text`. */
typedef struct parsed_request {
    as_buf text;
    as_span method;
    as_span path;
    as_span query;
    as_span body;
    as_sigv4_header headers[MAX_HEADERS];
    size_t header_count;
} parsed_request;

/* The suites' request text: "METHOD PATH HTTP/1.1" split at the first space (paths may hold raw
 * spaces and UTF-8), "Name:value" lines, lines starting with whitespace continuing the
 * previous header (the value span then runs over the fold, LF included, as on the
 * wire), and the body after the first empty line. */
static void parse_request(const char *file, parsed_request *req)
{
    const char *s = req->text.data;
    size_t len = req->text.len;
    const char *nl = memchr(s, '\n', len);
    size_t line_end = nl != NULL ? (size_t)(nl - s) : len;
    const char *sp = memchr(s, ' ', line_end);
    if (sp == NULL) {
        fail_msg("%s: no space in the request line", file);
    }
    req->method = (as_span){s, (size_t)(sp - s)};
    static const char VERSION[] = " HTTP/1.1";
    size_t target_start = (size_t)(sp - s) + 1;
    size_t vlen = sizeof VERSION - 1;
    if (line_end < target_start + vlen || memcmp(s + line_end - vlen, VERSION, vlen) != 0) {
        fail_msg("%s: the request line does not end in HTTP/1.1", file);
    }
    as_span target = {s + target_start, line_end - vlen - target_start};
    const char *q = memchr(target.ptr, '?', target.len);
    if (q != NULL) {
        req->path = (as_span){target.ptr, (size_t)(q - target.ptr)};
        req->query = (as_span){q + 1, target.len - req->path.len - 1};
    } else {
        req->path = target;
        req->query = (as_span){"", 0};
    }

    req->header_count = 0;
    req->body = (as_span){"", 0};
    size_t pos = line_end + 1;
    while (pos < len) {
        nl = memchr(s + pos, '\n', len - pos);
        line_end = nl != NULL ? (size_t)(nl - s) : len;
        if (line_end == pos) {
            req->body = (as_span){s + pos + 1, len - (pos + 1)};
            break;
        }
        if (s[pos] == ' ' || s[pos] == '\t') {
            if (req->header_count == 0) {
                fail_msg("%s: a continuation line before any header", file);
            }
            as_span *value = &req->headers[req->header_count - 1].value;
            value->len = (size_t)(s + line_end - value->ptr);
        } else {
            const char *colon = memchr(s + pos, ':', line_end - pos);
            if (colon == NULL) {
                fail_msg("%s: a header line without ':'", file);
            }
            if (req->header_count == MAX_HEADERS) {
                fail_msg("%s: more than %d headers", file, MAX_HEADERS);
            }
            as_sigv4_header *h = &req->headers[req->header_count++];
            h->name = (as_span){s + pos, (size_t)(colon - (s + pos))};
            h->value = (as_span){colon + 1, (size_t)(s + line_end - (colon + 1))};
        }
        pos = line_end + 1;
    }
}

/* Index of the first header called `name` (any case), or -1. */
static int find_header(const as_sigv4_header *headers, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (span_caseeq(headers[i].name, name)) {
            return (int)i;
        }
    }
    return -1;
}

static void remove_header(parsed_request *req, int index)
{
    memmove(&req->headers[index], &req->headers[index + 1],
            (req->header_count - (size_t)index - 1) * sizeof req->headers[0]);
    req->header_count--;
}

/* Howard Hinnant's days_from_civil, written out here so that the tests do not lean on
 * the formatter they check. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t digits(const char *s, size_t n)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(s[i] >= '0' && s[i] <= '9');
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "2015-08-30T12:36:00Z" (context.json) or "20150830T123600Z" (X-Amz-Date). */
static int64_t parse_time(as_span t)
{
    const char *s = t.ptr;
    if (t.len == 20) {
        return days_from_civil(digits(s, 4), digits(s + 5, 2), digits(s + 8, 2)) * 86400 +
               digits(s + 11, 2) * 3600 + digits(s + 14, 2) * 60 + digits(s + 17, 2);
    }
    assert_int_equal(t.len, 16);
    return days_from_civil(digits(s, 4), digits(s + 4, 2), digits(s + 6, 2)) * 86400 +
           digits(s + 9, 2) * 3600 + digits(s + 11, 2) * 60 + digits(s + 13, 2);
}

/* ---- The suites, one test per case --------------------------------------------------------- */

typedef enum suite { SUITE_AWS_C_AUTH, SUITE_CLASSIC } suite;

typedef struct suite_case {
    suite suite;
    char dir[1024]; /* the case's folder */
    char name[256];
} suite_case;

static void path_join(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    int n = snprintf(out, cap, "%s/%s%s", a, b, c);
    assert_true(n > 0 && (size_t)n < cap);
}

/* Checks the signer's output against the signed request file: the Authorization value
 * matches, every header the signer adds is there with the same value, and every header
 * there that the request lacked is one the signer added. */
static void expect_signed_request(const char *file, const parsed_request *req,
                                  const as_sigv4_output *out, bool check_authorization)
{
    parsed_request signed_req = {.text = AS_BUF_INIT};
    must_read(file, &signed_req.text);
    parse_request(file, &signed_req);
    for (size_t i = 0; i < out->header_count; i++) {
        const as_sigv4_header *mine = &out->headers[i];
        bool is_authorization = span_eq_str(mine->name, "Authorization");
        if (is_authorization && !check_authorization) {
            continue;
        }
        bool found = false;
        for (size_t j = 0; j < signed_req.header_count && !found; j++) {
            const as_sigv4_header *theirs = &signed_req.headers[j];
            as_span value = theirs->value;
            /* botocore's files write "Authorization: " with a space. */
            while (value.len > 0 && value.ptr[0] == ' ') {
                value.ptr++;
                value.len--;
            }
            found = theirs->name.len == mine->name.len &&
                    strncasecmp(theirs->name.ptr, mine->name.ptr, mine->name.len) == 0 &&
                    span_eq(value, mine->value);
        }
        if (!found) {
            fail_msg("%s lacks the added header %.*s: %.*s", file, (int)mine->name.len,
                     mine->name.ptr, (int)mine->value.len, mine->value.ptr);
        }
    }
    for (size_t j = 0; j < signed_req.header_count; j++) {
        const as_sigv4_header *theirs = &signed_req.headers[j];
        bool known = false;
        for (size_t i = 0; i < req->header_count && !known; i++) {
            known = span_eq(req->headers[i].name, theirs->name);
        }
        for (size_t i = 0; i < out->header_count && !known; i++) {
            known = theirs->name.len == out->headers[i].name.len &&
                    strncasecmp(theirs->name.ptr, out->headers[i].name.ptr, theirs->name.len) == 0;
        }
        if (!known) {
            fail_msg("%s has header %.*s, which the signer did not add", file,
                     (int)theirs->name.len, theirs->name.ptr);
        }
    }
    as_buf_free(&signed_req.text);
}

static as_span json_span(const json_t *obj, const char *key, bool required, const char *file)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL && !required) {
        return (as_span){NULL, 0};
    }
    if (!json_is_string(v)) {
        fail_msg("%s: %s is not a string", file, key);
    }
    return (as_span){json_string_value(v), json_string_length(v)};
}

static bool json_flag(const json_t *obj, const char *key, const char *file)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        return false;
    }
    if (!json_is_boolean(v)) {
        fail_msg("%s: %s is not a boolean", file, key);
    }
    return json_is_true(v);
}

/* aws-c-auth's layout: request.txt, context.json and the header-*.txt answers. Upstream's
 * query-*.txt answers are for presigned URLs, which this signer does not make (it signs
 * in the Authorization header only), so they were not copied into tests/vectors. */
static void run_aws_c_auth_case(const suite_case *c)
{
    char path[1200];
    parsed_request req = {.text = AS_BUF_INIT};
    path_join(path, sizeof path, c->dir, "request.txt", "");
    must_read(path, &req.text);
    parse_request(path, &req);

    path_join(path, sizeof path, c->dir, "context.json", "");
    json_error_t jerr;
    json_t *ctx = json_load_file(path, 0, &jerr);
    if (ctx == NULL) {
        fail_msg("%s: %s", path, jerr.text);
    }
    const json_t *cred = json_object_get(ctx, "credentials");
    as_sigv4_params params = {
        .credentials =
            {
                .access_key_id = json_span(cred, "access_key_id", true, path),
                .secret_access_key = json_span(cred, "secret_access_key", true, path),
                .session_token = json_span(cred, "token", false, path),
            },
        .region = json_span(ctx, "region", true, path),
        .service = json_span(ctx, "service", true, path),
        .time = parse_time(json_span(ctx, "timestamp", true, path)),
        .keep_path_segments = !json_flag(ctx, "normalize", path),
        .add_content_sha256 = json_flag(ctx, "sign_body", path),
        .unsigned_session_token = json_flag(ctx, "omit_session_token", path),
    };
    /* sign_body false means an empty-payload hash in aws-c-auth; the suite only says so
     * for empty bodies, which this signer hashes to the same line. */
    if (!params.add_content_sha256 && req.body.len != 0) {
        fail_msg("%s: sign_body is false with a non-empty body", c->name);
    }

    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    as_error err = {0};
    as_sigv4_request r = {req.method, req.path, req.query, req.headers, req.header_count, req.body};
    if (as_sigv4_sign(signer, &r, &params, &out, &err) != AS_OK) {
        fail_msg("%s: %s", c->name, err.message);
    }

    as_buf want = AS_BUF_INIT;
    path_join(path, sizeof path, c->dir, "header-canonical-request.txt", "");
    must_read(path, &want);
    expect_span_text("canonical request", buf_span(&out.canonical_request), buf_span(&want));
    path_join(path, sizeof path, c->dir, "header-string-to-sign.txt", "");
    must_read(path, &want);
    expect_span_text("string to sign", buf_span(&out.string_to_sign), buf_span(&want));
    path_join(path, sizeof path, c->dir, "header-signature.txt", "");
    must_read(path, &want);
    expect_span_text("signature", span_of(out.signature), buf_span(&want));
    path_join(path, sizeof path, c->dir, "header-signed-request.txt", "");
    expect_signed_request(path, &req, &out, true);

    as_buf_free(&want);
    as_sigv4_output_free(&out);
    as_sigv4_signer_free(signer);
    json_decref(ctx);
    as_buf_free(&req.text);
}

/* The value after the first line starting with `prefix` in `text`, or an empty span. */
static as_span line_value(const as_buf *text, const char *prefix)
{
    size_t n = strlen(prefix);
    size_t pos = 0;
    while (pos < text->len) {
        const char *nl = memchr(text->data + pos, '\n', text->len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text->data) : text->len;
        if (end - pos >= n && strncasecmp(text->data + pos, prefix, n) == 0) {
            return (as_span){text->data + pos + n, end - pos - n};
        }
        pos = end + 1;
    }
    return (as_span){NULL, 0};
}

/* botocore's layout: <case>.req (already holding X-Amz-Date), .creq, .sts, .authz and
 * .sreq; the credentials, region, service and date are the suites' shared ones. */
static void run_classic_case(const suite_case *c)
{
    char path[1200];
    char ext[300];
    parsed_request req = {.text = AS_BUF_INIT};
    snprintf(ext, sizeof ext, "%s.req", c->name);
    path_join(path, sizeof path, c->dir, ext, "");
    must_read(path, &req.text);
    parse_request(path, &req);

    as_sigv4_params params = {
        .credentials = {span_of(AKID), span_of(SECRET), {NULL, 0}},
        .region = span_of("us-east-1"),
        .service = span_of("service"),
    };
    /* The request carries the date the signer adds: it becomes the signing time. */
    int date = find_header(req.headers, req.header_count, "x-amz-date");
    assert_true(date >= 0);
    params.time = parse_time(req.headers[date].value);
    remove_header(&req, date);

    /* The token, per the suite's notes: in the .req when it is signed (post-sts-header-before),
     * else only in the .creq (get-vanilla-with-session-token, signed), else only in the
     * .sreq (post-sts-header-after, added after signing). */
    as_buf creq = AS_BUF_INIT;
    as_buf sreq = AS_BUF_INIT;
    snprintf(ext, sizeof ext, "%s.creq", c->name);
    path_join(path, sizeof path, c->dir, ext, "");
    must_read(path, &creq);
    snprintf(ext, sizeof ext, "%s.sreq", c->name);
    path_join(path, sizeof path, c->dir, ext, "");
    must_read(path, &sreq);
    int token = find_header(req.headers, req.header_count, "x-amz-security-token");
    if (token >= 0) {
        params.credentials.session_token = req.headers[token].value;
        remove_header(&req, token);
    } else if (line_value(&creq, "x-amz-security-token:").ptr != NULL) {
        params.credentials.session_token = line_value(&creq, "x-amz-security-token:");
    } else if (line_value(&sreq, "X-Amz-Security-Token:").ptr != NULL) {
        params.credentials.session_token = line_value(&sreq, "X-Amz-Security-Token:");
        params.unsigned_session_token = true;
    }

    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    as_error err = {0};
    as_sigv4_request r = {req.method, req.path, req.query, req.headers, req.header_count, req.body};
    if (as_sigv4_sign(signer, &r, &params, &out, &err) != AS_OK) {
        fail_msg("%s: %s", c->name, err.message);
    }

    as_buf want = AS_BUF_INIT;
    expect_span_text("canonical request", buf_span(&out.canonical_request), buf_span(&creq));
    snprintf(ext, sizeof ext, "%s.sts", c->name);
    path_join(path, sizeof path, c->dir, ext, "");
    must_read(path, &want);
    expect_span_text("string to sign", buf_span(&out.string_to_sign), buf_span(&want));
    snprintf(ext, sizeof ext, "%s.authz", c->name);
    path_join(path, sizeof path, c->dir, ext, "");
    must_read(path, &want);
    expect_span_text("Authorization", buf_span(&out.authorization), buf_span(&want));
    /* Upstream's get-vanilla-with-session-token.sreq carries get-vanilla's signature
     * (its .authz and .sts agree with each other and with us): its Authorization line
     * is not compared, its other headers are. */
    bool sreq_authorization_valid = strcmp(c->name, "get-vanilla-with-session-token") != 0;
    snprintf(ext, sizeof ext, "%s.sreq", c->name);
    path_join(path, sizeof path, c->dir, ext, "");
    expect_signed_request(path, &req, &out, sreq_authorization_valid);

    as_buf_free(&want);
    as_buf_free(&creq);
    as_buf_free(&sreq);
    as_sigv4_output_free(&out);
    as_sigv4_signer_free(signer);
    as_buf_free(&req.text);
}

static void test_suite_case(void **state)
{
    const suite_case *c = *state;
    if (c->suite == SUITE_AWS_C_AUTH) {
        run_aws_c_auth_case(c);
    } else {
        run_classic_case(c);
    }
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The case folders of one suite, sorted; NULL-terminated array of new strings. */
static char **list_cases(const char *root, size_t *count)
{
    *count = 0;
    DIR *d = opendir(root);
    if (d == NULL) {
        return NULL;
    }
    size_t cap = 64;
    char **names = calloc(cap + 1, sizeof *names);
    assert_non_null(names);
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char full[1200];
        path_join(full, sizeof full, root, e->d_name, "");
        struct stat st;
        if (stat(full, &st) != 0 || !S_ISDIR(st.st_mode)) {
            continue;
        }
        if (*count == cap) {
            cap *= 2;
            names = realloc(names, (cap + 1) * sizeof *names);
            assert_non_null(names);
        }
        names[*count] = strdup(e->d_name);
        assert_non_null(names[*count]);
        (*count)++;
        names[*count] = NULL;
    }
    closedir(d);
    qsort(names, *count, sizeof *names, compare_names);
    return names;
}

/* Counts given by tests/vectors/README.md: a suite that vanished or shrank fails here instead of
 * passing with fewer tests. */
static size_t listed_aws_c_auth;
static size_t listed_classic;

static void test_suites_present(void **state)
{
    (void)state;
    if (listed_aws_c_auth != 38 || listed_classic != 34) {
        fail_msg("found %zu aws-c-auth and %zu botocore cases under %s, expected 38 and 34",
                 listed_aws_c_auth, listed_classic, VECTORS_DIR);
    }
}

/* ---- The key cache ------------------------------------------------------------------------- */

static const as_sigv4_header PUT_ITEM_HEADERS[] = {
    {{"Content-Type", 12}, {"application/x-amz-json-1.0", 26}},
    {{"X-Amz-Target", 12}, {"DynamoDB_20120810.PutItem", 25}},
    {{"Host", 4}, {"dynamodb.eu-west-1.amazonaws.com", 32}},
};

static const char PUT_ITEM_BODY[] =
    "{\"TableName\":\"Audit\",\"Item\":{\"id\":{\"S\":\"35338964-9dc6-5199-a27f-fcb4c705e8bd\"},"
    "\"itemKey\":{\"S\":\"CACHE_TTL_SEC\"},\"modificationTime\":{\"S\":\"2024-05-01T12:30:45."
    "000Z\"},"
    "\"updatedAttribute\":{\"S\":\"value\"},\"oldValue\":{\"N\":\"3600\"},\"newValue\":{\"N\":"
    "\"1800\"}}}";

static as_sigv4_request put_item_request(void)
{
    return (as_sigv4_request){span_of("POST"),
                              span_of("/"),
                              {"", 0},
                              PUT_ITEM_HEADERS,
                              sizeof PUT_ITEM_HEADERS / sizeof PUT_ITEM_HEADERS[0],
                              {PUT_ITEM_BODY, sizeof PUT_ITEM_BODY - 1}};
}

#define PUT_ITEM_TOKEN "FwoGZXIvYXdzEBYaDexampletoken/+="
#define PUT_ITEM_TIME  INT64_C(1714566645) /* 2024-05-01T12:30:45Z */

static as_sigv4_params put_item_params(void)
{
    return (as_sigv4_params){
        .credentials = {span_of(AKID), span_of(SECRET), span_of(PUT_ITEM_TOKEN)},
        .region = span_of("eu-west-1"),
        .service = span_of("dynamodb"),
        .time = PUT_ITEM_TIME,
    };
}

static void sign_ok(as_sigv4_signer *signer, const as_sigv4_request *req,
                    const as_sigv4_params *params, as_sigv4_output *out)
{
    as_error err = {0};
    if (as_sigv4_sign(signer, req, params, out, &err) != AS_OK) {
        fail_msg("sign: %s", err.message);
    }
}

static void test_key_cache(void **state)
{
    (void)state;
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    as_sigv4_request req = put_item_request();
    as_sigv4_params params = put_item_params();
    assert_int_equal(as_sigv4_signer_derivations(signer), 0);

    sign_ok(signer, &req, &params, &out);
    assert_int_equal(as_sigv4_signer_derivations(signer), 1);
    /* Same day, region, service and secret: the cached key, even a second later and
     * with the secret's bytes at another address. */
    params.time++;
    char secret_copy[] = SECRET;
    params.credentials.secret_access_key = (as_span){secret_copy, sizeof secret_copy - 1};
    sign_ok(signer, &req, &params, &out);
    params.time = PUT_ITEM_TIME - 12 * 3600; /* 00:30:45 the same day */
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(as_sigv4_signer_derivations(signer), 1);

    /* A new day, region, service or secret each derive a new key. */
    params.time = PUT_ITEM_TIME + 86400;
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(as_sigv4_signer_derivations(signer), 2);
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(as_sigv4_signer_derivations(signer), 2);
    params.region = span_of("us-east-1");
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(as_sigv4_signer_derivations(signer), 3);
    params.service = span_of("dynamodbx");
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(as_sigv4_signer_derivations(signer), 4);
    secret_copy[0] = 'X';
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(as_sigv4_signer_derivations(signer), 5);

    /* One entry: going back to the first inputs derives again, and still signs right. */
    params = put_item_params();
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(as_sigv4_signer_derivations(signer), 6);
    assert_string_equal(out.signature,
                        "694bb4c929f96c917f3504340ee3aa061d1a4c92485f8b3afaad511e19a5c793");

    /* Length-prefixed cache id: moving a byte between region and service is a miss. */
    params.region = span_of("eu-west-1d");
    params.service = span_of("ynamodb");
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(as_sigv4_signer_derivations(signer), 7);

    as_sigv4_output_free(&out);
    as_sigv4_signer_free(signer);
}

static void test_secret_changes_signature(void **state)
{
    (void)state;
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_output a = AS_SIGV4_OUTPUT_INIT;
    as_sigv4_output b = AS_SIGV4_OUTPUT_INIT;
    as_sigv4_request req = put_item_request();
    as_sigv4_params params = put_item_params();
    sign_ok(signer, &req, &params, &a);
    char other[] = SECRET;
    other[sizeof other - 2] = 'Z';
    params.credentials.secret_access_key = (as_span){other, sizeof other - 1};
    sign_ok(signer, &req, &params, &b);
    /* Only the signature moves: the canonical request and string to sign hold no secret. */
    assert_string_not_equal(a.signature, b.signature);
    expect_span_text("string to sign", buf_span(&a.string_to_sign), buf_span(&b.string_to_sign));
    as_sigv4_output_free(&a);
    as_sigv4_output_free(&b);
    as_sigv4_signer_free(signer);
}

static void test_free_null_and_wipe(void **state)
{
    (void)state;
    as_sigv4_signer_free(NULL);
    as_sigv4_output_free(NULL);
    assert_int_equal(as_sigv4_signer_derivations(NULL), 0);

    /* A freed output is wiped, empty and reusable. */
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_output out;
    as_sigv4_output_init(&out);
    as_sigv4_request req = put_item_request();
    as_sigv4_params params = put_item_params();
    sign_ok(signer, &req, &params, &out);
    as_sigv4_output_free(&out);
    assert_null(out.authorization.data);
    assert_int_equal(out.authorization.len, 0);
    assert_int_equal(out.header_count, 0);
    assert_int_equal(out.signature[0], '\0');
    sign_ok(signer, &req, &params, &out);
    assert_string_equal(out.signature,
                        "694bb4c929f96c917f3504340ee3aa061d1a4c92485f8b3afaad511e19a5c793");
    as_sigv4_output_free(&out);
    as_sigv4_output_free(&out); /* twice is fine */
    as_sigv4_signer_free(signer);
}

/* ---- DynamoDB PutItem ---------------------------------------------------------------------- */

/* Known answer from botocore 1.43 (SigV4Auth, clock pinned to 2024-05-01T12:30:45Z) for
 * the same request: signed headers as docs/configuration.md lists them, token signed. */
#define PUT_ITEM_AUTHORIZATION                                                                     \
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/eu-west-1/dynamodb/aws4_request, "           \
    "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "               \
    "Signature=694bb4c929f96c917f3504340ee3aa061d1a4c92485f8b3afaad511e19a5c793"

static void test_put_item(void **state)
{
    (void)state;
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    as_sigv4_request req = put_item_request();
    as_sigv4_params params = put_item_params();
    sign_ok(signer, &req, &params, &out);

    expect_span_text("Authorization", buf_span(&out.authorization),
                     span_of(PUT_ITEM_AUTHORIZATION));
    assert_string_equal(out.amz_date, "20240501T123045Z");
    assert_int_equal(out.header_count, 3);
    assert_true(span_eq_str(out.headers[0].name, "X-Amz-Date"));
    assert_true(span_eq_str(out.headers[0].value, "20240501T123045Z"));
    assert_true(span_eq_str(out.headers[1].name, "X-Amz-Security-Token"));
    /* Borrowed from the credentials, not copied. */
    assert_ptr_equal(out.headers[1].value.ptr, params.credentials.session_token.ptr);
    assert_int_equal(out.headers[1].value.len, params.credentials.session_token.len);
    assert_true(span_eq_str(out.headers[2].name, "Authorization"));
    assert_true(span_eq(out.headers[2].value, buf_span(&out.authorization)));
    expect_span_text("canonical request", buf_span(&out.canonical_request),
                     span_of("POST\n/\n\n"
                             "content-type:application/x-amz-json-1.0\n"
                             "host:dynamodb.eu-west-1.amazonaws.com\n"
                             "x-amz-date:20240501T123045Z\n"
                             "x-amz-security-token:" PUT_ITEM_TOKEN "\n"
                             "x-amz-target:DynamoDB_20120810.PutItem\n\n"
                             "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
                             "3a7b22582e5227344f83409508a68ce585984dadfc87226cc8d76c113b83a4f8"));

    /* Signed again, into the same output and into a fresh one: the same bytes. */
    as_buf first = AS_BUF_INIT;
    as_buf_append(&first, out.authorization.data, out.authorization.len);
    sign_ok(signer, &req, &params, &out);
    expect_span_text("second Authorization", buf_span(&out.authorization), buf_span(&first));
    as_sigv4_output fresh = AS_SIGV4_OUTPUT_INIT;
    sign_ok(signer, &req, &params, &fresh);
    expect_span_text("fresh Authorization", buf_span(&fresh.authorization), buf_span(&first));
    expect_span_text("fresh canonical request", buf_span(&fresh.canonical_request),
                     buf_span(&out.canonical_request));
    assert_int_equal(as_sigv4_signer_derivations(signer), 1);

    /* Without a token: three signed headers, no token header. */
    params.credentials.session_token = (as_span){NULL, 0};
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(out.header_count, 2);
    assert_true(span_eq_str(out.headers[1].name, "Authorization"));
    assert_non_null(strstr(out.authorization.data,
                           "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "));

    as_buf_free(&first);
    as_sigv4_output_free(&fresh);
    as_sigv4_output_free(&out);
    as_sigv4_signer_free(signer);
}

/* The added headers' order and the content hash header, and an unsigned token. */
static void test_added_headers(void **state)
{
    (void)state;
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    as_sigv4_request req = put_item_request();
    as_sigv4_params params = put_item_params();
    params.add_content_sha256 = true;
    params.unsigned_session_token = true;
    sign_ok(signer, &req, &params, &out);
    assert_int_equal(out.header_count, 4);
    assert_true(span_eq_str(out.headers[0].name, "X-Amz-Date"));
    assert_true(span_eq_str(out.headers[1].name, "X-Amz-Security-Token"));
    assert_true(span_eq_str(out.headers[2].name, "x-amz-content-sha256"));
    assert_true(span_eq_str(out.headers[2].value,
                            "3a7b22582e5227344f83409508a68ce585984dadfc87226cc8d76c113b83a4f8"));
    assert_string_equal(out.payload_hash,
                        "3a7b22582e5227344f83409508a68ce585984dadfc87226cc8d76c113b83a4f8");
    assert_true(span_eq_str(out.headers[3].name, "Authorization"));
    assert_non_null(strstr(out.authorization.data, "SignedHeaders=content-type;host;x-amz-content-"
                                                   "sha256;x-amz-date;x-amz-target, "));
    assert_null(strstr(out.canonical_request.data, PUT_ITEM_TOKEN));
    as_sigv4_output_free(&out);
    as_sigv4_signer_free(signer);
}

/* ---- Canonicalisation details -------------------------------------------------------------- */

/* Signs GET with one Host header and returns the canonical request's second and third
 * lines (path and query) as "path|query" in `got`. */
static void canonical_target(as_sigv4_signer *signer, const char *path, const char *query,
                             bool keep, bool encoded, as_buf *got)
{
    static const as_sigv4_header HOST[] = {{{"Host", 4}, {"example.amazonaws.com", 21}}};
    as_sigv4_request req = {span_of("GET"), span_of(path), span_of(query), HOST, 1, {NULL, 0}};
    as_sigv4_params params = {
        .credentials = {span_of(AKID), span_of(SECRET), {NULL, 0}},
        .region = span_of("us-east-1"),
        .service = span_of("service"),
        .time = SUITE_TIME,
        .keep_path_segments = keep,
        .path_is_encoded = encoded,
    };
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    sign_ok(signer, &req, &params, &out);
    const char *s = out.canonical_request.data;
    const char *a = strchr(s, '\n') + 1;
    const char *b = strchr(a, '\n') + 1;
    const char *c = strchr(b, '\n');
    as_buf_clear(got);
    as_buf_append(got, a, (size_t)(b - 1 - a));
    as_buf_append_char(got, '|');
    as_buf_append(got, b, (size_t)(c - b));
    as_sigv4_output_free(&out);
}

static void test_paths_and_queries(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *query;
        bool keep;
        bool encoded;
        const char *want;
    } CASES[] = {
        {"", "", false, false, "/|"},
        {"/", "", false, false, "/|"},
        {"/", "", true, false, "/|"},
        /* Double encoding: what is sent is encoded once more (every service but S3). */
        {"/a%20b", "", false, false, "/a%2520b|"},
        {"/a b/c+d", "", false, false, "/a%20b/c%2Bd|"},
        /* S3's way: the path as given, unnormalised. */
        {"/a%20b//c/./..", "", true, true, "/a%20b//c/./..|"},
        {"/a%20b//c/", "", false, true, "/a%20b/c/|"},
        /* Normalisation: dots and repeated slashes, never above the root. */
        {"/../../a", "", false, false, "/a|"},
        {"/a/b/../c/./d/", "", false, false, "/a/c/d/|"},
        {"/a/b/..", "", false, false, "/a|"},
        {"/..", "", false, false, "/|"},
        {"/.../a", "", false, false, "/.../a|"},
        {"/a/b/../c", "", true, false, "/a/b/../c|"},
        /* Queries: empty parameters dropped, a bare name gets '=', sorted by encoded name
         * then value, escapes normalised to upper case, '+' and invalid escapes encoded. */
        {"/", "b&a=", false, false, "/|a=&b="},
        {"/", "&&x=1&&", false, false, "/|x=1"},
        {"/", "a=2&a=10&A=3", false, false, "/|A=3&a=10&a=2"},
        {"/", "%e1%88%b4=%7e", false, false, "/|%E1%88%B4=~"},
        {"/", "k=a+b&s=a b&p=%zz&t=%4", false, false, "/|k=a%2Bb&p=%25zz&s=a%20b&t=%254"},
        {"/", "x=a=b", false, false, "/|x=a%3Db"},
        {"/", "=v", false, false, "/|=v"},
    };
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_buf got = AS_BUF_INIT;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        canonical_target(signer, CASES[i].path, CASES[i].query, CASES[i].keep, CASES[i].encoded,
                         &got);
        if (strcmp(got.data, CASES[i].want) != 0) {
            fail_msg("path %s query %s (keep %d, encoded %d): got %s, want %s", CASES[i].path,
                     CASES[i].query, CASES[i].keep, CASES[i].encoded, got.data, CASES[i].want);
        }
    }
    as_buf_free(&got);
    as_sigv4_signer_free(signer);
}

/* The canonical headers block ("name:value" lines) of a GET with these headers. */
static void canonical_headers(as_sigv4_signer *signer, const as_sigv4_header *headers, size_t n,
                              as_buf *got)
{
    as_sigv4_request req = {span_of("GET"), span_of("/"), {"", 0}, headers, n, {NULL, 0}};
    as_sigv4_params params = {
        .credentials = {span_of(AKID), span_of(SECRET), {NULL, 0}},
        .region = span_of("us-east-1"),
        .service = span_of("service"),
        .time = SUITE_TIME,
    };
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    sign_ok(signer, &req, &params, &out);
    const char *start =
        strchr(strchr(strchr(out.canonical_request.data, '\n') + 1, '\n') + 1, '\n') + 1;
    const char *end = strstr(start, "\n\n");
    as_buf_clear(got);
    as_buf_append(got, start, (size_t)(end - start));
    as_sigv4_output_free(&out);
}

static void test_header_values(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        const char *want;
    } CASES[] = {
        {"", "a:"},
        {"   ", "a:"},
        {" \t x \t y  ", "a:x y"},
        {"x\r\n y", "a:x y"},
        {"x\n\ty", "a:x y"},
        {"x\n \n z", "a:x z"},
        {"x\r\n ", "a:x"},
        {"\"a   b\"", "a:\"a b\""},
        {"\xe1\x88\xb4 \x7f", "a:\xe1\x88\xb4 \x7f"},
    };
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_buf got = AS_BUF_INIT;
    as_buf want = AS_BUF_INIT;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_sigv4_header h = {span_of("A"), span_of(CASES[i].value)};
        canonical_headers(signer, &h, 1, &got);
        as_buf_clear(&want);
        as_buf_append_str(&want, CASES[i].want);
        as_buf_append_str(&want, "\nx-amz-date:20150830T123600Z");
        expect_span_text(CASES[i].value, buf_span(&got), buf_span(&want));
    }

    /* More headers than the insertion sort takes: names in reverse, some repeated, with
     * mixed case. Expected: names sorted, a repeated name's values in the order sent. */
    enum { N = 60 };
    as_sigv4_header many[N];
    char names[N][16];
    char values[N][16];
    for (int i = 0; i < N; i++) {
        int k = (N - i) % 23; /* 23 distinct names, most repeated */
        snprintf(names[i], sizeof names[i], "%c-%02d", i % 2 ? 'H' : 'h', k);
        snprintf(values[i], sizeof values[i], "v%02d", i);
        many[i] = (as_sigv4_header){span_of(names[i]), span_of(values[i])};
    }
    canonical_headers(signer, many, N, &got);
    as_buf_clear(&want);
    for (int k = 0; k < 23; k++) {
        bool first = true;
        for (int i = 0; i < N; i++) {
            if ((N - i) % 23 != k) {
                continue;
            }
            if (first) {
                char line[16];
                snprintf(line, sizeof line, "h-%02d:", k);
                as_buf_append_str(&want, line);
            } else {
                as_buf_append_char(&want, ',');
            }
            as_buf_append_str(&want, values[i]);
            first = false;
        }
        as_buf_append_char(&want, '\n');
    }
    as_buf_append_str(&want, "x-amz-date:20150830T123600Z");
    expect_span_text("60 headers", buf_span(&got), buf_span(&want));

    as_buf_free(&got);
    as_buf_free(&want);
    as_sigv4_signer_free(signer);
}

static void test_times(void **state)
{
    (void)state;
    static const struct {
        int64_t time;
        const char *want;
    } CASES[] = {
        {0, "19700101T000000Z"},
        {SUITE_TIME, "20150830T123600Z"},
        {INT64_C(951782400), "20000229T000000Z"},
        {INT64_C(4107542399), "21000228T235959Z"},
        {INT64_C(4107542400), "21000301T000000Z"},
        {AS_SIGV4_TIME_MAX, "99991231T235959Z"},
    };
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    as_sigv4_request req = put_item_request();
    as_sigv4_params params = put_item_params();
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        params.time = CASES[i].time;
        sign_ok(signer, &req, &params, &out);
        assert_string_equal(out.amz_date, CASES[i].want);
        /* The scope's date is the same day. */
        char scope[32];
        snprintf(scope, sizeof scope, "/%.8s/eu-west-1/", CASES[i].want);
        assert_non_null(strstr(out.authorization.data, scope));
    }
    as_sigv4_output_free(&out);
    as_sigv4_signer_free(signer);
}

/* ---- Refusals ------------------------------------------------------------------------------ */

static void expect_refused(as_sigv4_signer *signer, const as_sigv4_request *req,
                           const as_sigv4_params *params, const char *message)
{
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    as_error err = {0};
    assert_int_equal(as_sigv4_sign(signer, req, params, &out, &err), AS_ERR_ARGUMENT);
    assert_int_equal(err.code, AS_ERR_ARGUMENT);
    if (strstr(err.message, message) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err.message, message);
    }
    assert_int_equal(out.header_count, 0);
    assert_int_equal(out.signature[0], '\0');
    assert_int_equal(out.authorization.len, 0);
    /* Without an error struct too. */
    assert_int_equal(as_sigv4_sign(signer, req, params, &out, NULL), AS_ERR_ARGUMENT);
    as_sigv4_output_free(&out);
}

static void test_refusals(void **state)
{
    (void)state;
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_request req = put_item_request();
    as_sigv4_params params = put_item_params();
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    as_error err = {0};

    assert_int_equal(as_sigv4_sign(NULL, &req, &params, &out, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_sigv4_sign(signer, NULL, &params, &out, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_sigv4_sign(signer, &req, NULL, &out, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_sigv4_sign(signer, &req, &params, NULL, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "required"));

    as_sigv4_params p = params;
    p.time = -1;
    expect_refused(signer, &req, &p, "time -1");
    p.time = AS_SIGV4_TIME_MAX + 1;
    expect_refused(signer, &req, &p, "outside");
    p = params;
    p.credentials.access_key_id = span_of("");
    expect_refused(signer, &req, &p, "access_key_id");
    p.credentials.access_key_id = span_of("AKID,X");
    expect_refused(signer, &req, &p, "access_key_id");
    p = params;
    p.credentials.secret_access_key = span_of("");
    expect_refused(signer, &req, &p, "secret_access_key");
    p = params;
    p.region = span_of("eu/west");
    expect_refused(signer, &req, &p, "region");
    p = params;
    p.service = (as_span){NULL, 0};
    expect_refused(signer, &req, &p, "service");
    p = params;
    p.service = (as_span){NULL, 3};
    expect_refused(signer, &req, &p, "NULL");

    as_sigv4_request r = req;
    r.method = span_of("PO ST");
    expect_refused(signer, &r, &params, "method");
    r = req;
    r.path = span_of("a/b");
    expect_refused(signer, &r, &params, "path");
    r = req;
    r.header_count = 1;
    r.headers = NULL;
    expect_refused(signer, &r, &params, "NULL");

    static const struct {
        const char *name;
        const char *value;
        const char *message;
    } BAD_HEADERS[] = {
        {"", "x", "header 1: the name is not an HTTP token"},
        {"My Header", "x", "header 1: the name is not an HTTP token"},
        {"My:Header", "x", "header 1: the name is not an HTTP token"},
        {"X-Inject", "a\r\nEvil: 1", "header 1 (x-inject): the value holds a CR, LF or NUL"},
        {"X-Inject", "a\nEvil: 1", "CR, LF or NUL"},
        {"X-Inject", "a\rb", "CR, LF or NUL"},
        {"X-Inject", "a\n", "CR, LF or NUL"},
        {"Authorization", "x", "header 1: authorization is added by the signer"},
        {"X-AMZ-DATE", "x", "x-amz-date is added by the signer"},
        {"x-amz-security-token", "x", "x-amz-security-token is added by the signer"},
    };
    for (size_t i = 0; i < sizeof BAD_HEADERS / sizeof BAD_HEADERS[0]; i++) {
        as_sigv4_header h[2] = {PUT_ITEM_HEADERS[0],
                                {span_of(BAD_HEADERS[i].name), span_of(BAD_HEADERS[i].value)}};
        r = req;
        r.headers = h;
        r.header_count = 2;
        expect_refused(signer, &r, &params, BAD_HEADERS[i].message);
    }
    /* A NUL inside a value. */
    as_sigv4_header nul[1] = {{span_of("X-Nul"), {"a\0b", 3}}};
    r = req;
    r.headers = nul;
    r.header_count = 1;
    expect_refused(signer, &r, &params, "CR, LF or NUL");
    /* x-amz-security-token without a token in the credentials is an ordinary header,
     * and x-amz-content-sha256 is one unless the signer adds it. */
    as_sigv4_header own[2] = {{span_of("X-Amz-Security-Token"), span_of("t")},
                              {span_of("x-amz-content-sha256"), span_of("UNSIGNED-PAYLOAD")}};
    r = req;
    r.headers = own;
    r.header_count = 2;
    p = params;
    p.credentials.session_token = (as_span){NULL, 0};
    sign_ok(signer, &r, &p, &out);
    assert_non_null(strstr(out.canonical_request.data, "\nx-amz-security-token:t\n"));
    p.add_content_sha256 = true;
    expect_refused(signer, &r, &p, "x-amz-content-sha256 is added by the signer");

    /* A refused call leaves the output reusable. */
    sign_ok(signer, &req, &params, &out);
    expect_span_text("after refusals", buf_span(&out.authorization),
                     span_of(PUT_ITEM_AUTHORIZATION));
    as_sigv4_output_free(&out);
    as_sigv4_signer_free(signer);
}

/* Issue 9, item 3: the token went out as a header value unchecked, so a CR/LF in it
 * added a header of its sender's choosing. The signer refuses it whatever its caller
 * checked, and the message never quotes the token. */
static void test_token_bytes(void **state)
{
    (void)state;
    as_sigv4_signer *signer = as_sigv4_signer_new();
    assert_non_null(signer);
    as_sigv4_request req = put_item_request();
    as_sigv4_params params = put_item_params();
    static const char *const bad[] = {
        "TOKENPART\r\nX-Injected: 1",
        "TOKENPART\nX-Injected: 1",
        "TOKENPART\rX",
        "TOKENPART\x01",
        "TOKENPART\x7f",
        "TOKENPART\t",
        "TOKEN PART",
        "TOKENPART\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        as_sigv4_params p = params;
        p.credentials.session_token = span_of(bad[i]);
        expect_refused(signer, &req, &p, "session_token holds a control byte");
        p.unsigned_session_token = true; /* sent unsigned, still sent: refused too */
        expect_refused(signer, &req, &p, "session_token");
        as_error err = {0};
        as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
        assert_int_equal(as_sigv4_sign(signer, &req, &p, &out, &err), AS_ERR_ARGUMENT);
        assert_null(strstr(err.message, "TOKEN"));
        as_sigv4_output_free(&out);
    }
    /* A NUL inside the span is a control byte as well. */
    as_sigv4_params p = params;
    p.credentials.session_token = (as_span){"TOK\0EN", 6};
    expect_refused(signer, &req, &p, "session_token");
    /* Base64 passes. */
    p.credentials.session_token = span_of("IQoJb3JpZ2luX2VjEJr//////////wEaCXVz+abc==");
    as_sigv4_output out = AS_SIGV4_OUTPUT_INIT;
    sign_ok(signer, &req, &p, &out);
    as_sigv4_output_free(&out);
    as_sigv4_signer_free(signer);
}

/* ---- The runner ---------------------------------------------------------------------------- */

static const struct CMUnitTest FIXED_TESTS[] = {
    cmocka_unit_test(test_suites_present),
    cmocka_unit_test(test_key_cache),
    cmocka_unit_test(test_secret_changes_signature),
    cmocka_unit_test(test_free_null_and_wipe),
    cmocka_unit_test(test_put_item),
    cmocka_unit_test(test_added_headers),
    cmocka_unit_test(test_paths_and_queries),
    cmocka_unit_test(test_header_values),
    cmocka_unit_test(test_times),
    cmocka_unit_test(test_refusals),
    cmocka_unit_test(test_token_bytes),
};

int main(void)
{
    static const struct {
        suite suite;
        const char *folder;
    } SUITES[] = {
        {SUITE_AWS_C_AUTH, "sigv4"},
        {SUITE_CLASSIC, "sigv4-classic"},
    };
    size_t fixed = sizeof FIXED_TESTS / sizeof FIXED_TESTS[0];
    char roots[2][1024];
    char **names[2];
    size_t counts[2];
    size_t total = fixed;
    for (size_t s = 0; s < 2; s++) {
        snprintf(roots[s], sizeof roots[s], "%s/%s", VECTORS_DIR, SUITES[s].folder);
        names[s] = list_cases(roots[s], &counts[s]);
        /* Before any test runs: a missing suite must never look like a smaller pass. */
        if (names[s] == NULL || counts[s] == 0) {
            fprintf(stderr, "test_sigv4: %s %s (tests run from the top of the tree)\n", roots[s],
                    names[s] == NULL ? "cannot be opened" : "holds no case folder");
            return 1;
        }
        total += counts[s];
    }
    listed_aws_c_auth = counts[0];
    listed_classic = counts[1];

    struct CMUnitTest *tests = calloc(total, sizeof *tests);
    suite_case *cases = calloc(total - fixed + 1, sizeof *cases);
    char(*test_names)[300] = calloc(total - fixed + 1, sizeof *test_names);
    if (tests == NULL || cases == NULL || test_names == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    memcpy(tests, FIXED_TESTS, sizeof FIXED_TESTS);
    size_t t = 0;
    for (size_t s = 0; s < 2; s++) {
        for (size_t i = 0; i < counts[s]; i++, t++) {
            suite_case *c = &cases[t];
            c->suite = SUITES[s].suite;
            snprintf(c->name, sizeof c->name, "%s", names[s][i]);
            snprintf(c->dir, sizeof c->dir, "%s/%s", roots[s], names[s][i]);
            snprintf(test_names[t], sizeof test_names[t], "%s/%s", SUITES[s].folder, c->name);
            tests[fixed + t] = (struct CMUnitTest){
                .name = test_names[t],
                .test_func = test_suite_case,
                .initial_state = c,
            };
        }
    }
    int failed = _cmocka_run_group_tests("sigv4", tests, total, NULL, NULL);

    for (size_t s = 0; s < 2; s++) {
        for (size_t i = 0; names[s] != NULL && i < counts[s]; i++) {
            free(names[s][i]);
        }
        free(names[s]);
    }
    free(test_names);
    free(cases);
    free(tests);
    return failed;
}
