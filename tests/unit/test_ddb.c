/* Unit tests for the DynamoDB client: the pure parts (endpoints, CA bundle,
 * backoff, quota, error classification) by table, then each retry rule against the real
 * client and tests/support/fault_server.py, a fault-injecting DynamoDB stand-in. */
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "auditstream.h"
#include "aws/crc32.h"
#include "aws/ddb_retry.h"
#include "fault_client.h"

extern char **environ;

#define AKID   "AKIDFAULTTEST"
#define SECRET "fault/server+secret/key"
#define TOKEN  "FQoGZXIvYXdzEXAMPLEsessionTOKEN"
#define TABLE  "Audit"

static as_span span_of(const char *s)
{
    return (as_span){s, strlen(s)};
}

static bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* ---- endpoints ---------------------------------------------------------------------------- */

static void test_endpoint_table(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *region;
        const char *want_url; /* NULL: refused */
        const char *want_host;
        bool tls;
    } cases[] = {
        {NULL, "us-east-1", "https://dynamodb.us-east-1.amazonaws.com/",
         "dynamodb.us-east-1.amazonaws.com", true},
        {"", "eu-central-1", "https://dynamodb.eu-central-1.amazonaws.com/",
         "dynamodb.eu-central-1.amazonaws.com", true},
        {NULL, "cn-north-1", "https://dynamodb.cn-north-1.amazonaws.com.cn/",
         "dynamodb.cn-north-1.amazonaws.com.cn", true},
        {NULL, "cn-northwest-1", "https://dynamodb.cn-northwest-1.amazonaws.com.cn/",
         "dynamodb.cn-northwest-1.amazonaws.com.cn", true},
        {NULL, "us-gov-west-1", "https://dynamodb.us-gov-west-1.amazonaws.com/",
         "dynamodb.us-gov-west-1.amazonaws.com", true},
        {NULL, "", NULL, NULL, false},
        {NULL, NULL, NULL, NULL, false},
        {NULL, "US-EAST-1", NULL, NULL, false},
        {NULL, "us-east-1.evil.com/x", NULL, NULL, false},
        /* loopback http: allowed */
        {"http://127.0.0.1:8000", "us-east-1", "http://127.0.0.1:8000/", "127.0.0.1:8000", false},
        {"http://127.0.0.1:8000/", NULL, "http://127.0.0.1:8000/", "127.0.0.1:8000", false},
        {"http://127.1.2.3:80", NULL, "http://127.1.2.3:80/", "127.1.2.3", false},
        {"http://localhost", NULL, "http://localhost/", "localhost", false},
        {"http://LocalHost:4566/", NULL, "http://LocalHost:4566/", "LocalHost:4566", false},
        {"http://[::1]:8000", NULL, "http://[::1]:8000/", "[::1]:8000", false},
        {"http://[::1]", NULL, "http://[::1]/", "[::1]", false},
        /* http elsewhere: refused */
        {"http://10.0.0.1", NULL, NULL, NULL, false},
        {"http://10.0.0.1:8000", NULL, NULL, NULL, false},
        {"http://example.com", NULL, NULL, NULL, false},
        {"http://127.0.0.1.example.com", NULL, NULL, NULL, false},
        {"http://localhost.example.com", NULL, NULL, NULL, false},
        {"http://128.0.0.1", NULL, NULL, NULL, false},
        {"http://127.0.0.256", NULL, NULL, NULL, false},
        {"http://127.0.0", NULL, NULL, NULL, false},
        {"http://127.0.0.1.", NULL, NULL, NULL, false},
        {"http://0127.0.0.1", NULL, NULL, NULL, false},
        {"http://[::2]", NULL, NULL, NULL, false},
        {"http://[::ffff:127.0.0.1]", NULL, NULL, NULL, false},
        /* https: anything well formed */
        {"https://example.com", NULL, "https://example.com/", "example.com", true},
        {"HTTPS://Example.com", NULL, "https://Example.com/", "Example.com", true},
        {"https://example.com:443", NULL, "https://example.com:443/", "example.com", true},
        {"https://example.com:8443/", NULL, "https://example.com:8443/", "example.com:8443", true},
        {"https://10.0.0.1", NULL, "https://10.0.0.1/", "10.0.0.1", true},
        {"https://[2001:db8::1]:9000", NULL, "https://[2001:db8::1]:9000/", "[2001:db8::1]:9000",
         true},
        {"https://dynamodb.us-east-1.amazonaws.com", "eu-west-1",
         "https://dynamodb.us-east-1.amazonaws.com/", "dynamodb.us-east-1.amazonaws.com", true},
        /* malformed */
        {"ftp://example.com", NULL, NULL, NULL, false},
        {"example.com", NULL, NULL, NULL, false},
        {"https://", NULL, NULL, NULL, false},
        {"https://:443", NULL, NULL, NULL, false},
        {"https://a:0", NULL, NULL, NULL, false},
        {"https://a:65536", NULL, NULL, NULL, false},
        {"https://a:", NULL, NULL, NULL, false},
        {"https://a:12x", NULL, NULL, NULL, false},
        {"https://user:password@example.com", NULL, NULL, NULL, false},
        {"https://example.com/prefix", NULL, NULL, NULL, false},
        {"https://example.com?x=1", NULL, NULL, NULL, false},
        {"https://example.com#frag", NULL, NULL, NULL, false},
        {"https://exa mple.com", NULL, NULL, NULL, false},
        {"https://[::1", NULL, NULL, NULL, false},
        {"https://[]", NULL, NULL, NULL, false},
        {"https://[::1]x", NULL, NULL, NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_ddb_endpoint ep;
        as_error err = {0};
        as_status status = as_ddb_endpoint_resolve(cases[i].url, cases[i].region, &ep, &err);
        if (cases[i].want_url == NULL) {
            if (status != AS_ERR_ARGUMENT) {
                fail_msg("case %zu (%s): accepted as %s", i, cases[i].url, ep.url);
            }
            assert_true(err.message[0] != '\0');
            /* Never echoes the URL: user info in it could be a password. */
            assert_false(contains(err.message, "password"));
            continue;
        }
        if (status != AS_OK) {
            fail_msg("case %zu (%s): %s", i, cases[i].url, err.message);
        }
        assert_string_equal(ep.url, cases[i].want_url);
        assert_string_equal(ep.host, cases[i].want_host);
        assert_int_equal(ep.tls, cases[i].tls);
    }
    as_error err;
    assert_true(as_ddb_endpoint_resolve("http://10.0.0.1", NULL, &(as_ddb_endpoint){0}, &err) ==
                AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "not loopback"));
}

/* ---- CA bundle ---------------------------------------------------------------------------- */

typedef struct fake_fs {
    const char *files[6];
} fake_fs;

static bool fake_exists(const char *path, void *ctx)
{
    const fake_fs *fs = ctx;
    for (size_t i = 0; i < 6 && fs->files[i] != NULL; i++) {
        if (strcmp(fs->files[i], path) == 0) {
            return true;
        }
    }
    return false;
}

static void test_ca_bundle_order(void **state)
{
    (void)state;
    static const char AL[] = "/etc/pki/tls/certs/ca-bundle.crt";
    static const char DEB[] = "/etc/ssl/certs/ca-certificates.crt";
    static const struct {
        const char *configured;
        fake_fs fs;
        const char *want; /* NULL: none found, still AS_OK */
        bool fails;
    } cases[] = {
        {NULL, {{AL, DEB}}, AL, false},
        {NULL, {{DEB, AL}}, AL, false}, /* the list's order, not the file system's */
        {NULL, {{DEB}}, DEB, false},
        {"", {{DEB}}, DEB, false},
        {NULL,
         {{"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"}},
         "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
         false},
        {NULL, {{"/etc/ssl/cert.pem", "/etc/ssl/ca-bundle.pem"}}, "/etc/ssl/ca-bundle.pem", false},
        {NULL, {{"/elsewhere.pem"}}, NULL, false},
        {"/custom.pem", {{"/custom.pem", AL, DEB}}, "/custom.pem", false},
        {"/custom.pem", {{AL, DEB}}, NULL, true}, /* configured but missing: no fallback */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *found = "unset";
        as_error err = {0};
        as_status status = as_ddb_ca_bundle_find(cases[i].configured, "AWS_CA_BUNDLE", fake_exists,
                                                 (void *)(uintptr_t)&cases[i].fs, &found, &err);
        if (cases[i].fails) {
            assert_int_equal(status, AS_ERR_ARGUMENT);
            assert_true(contains(err.message, "AWS_CA_BUNDLE"));
            assert_true(contains(err.message, "/custom.pem"));
            continue;
        }
        if (status != AS_OK) {
            fail_msg("case %zu: %s", i, err.message);
        }
        if (cases[i].want == NULL) {
            assert_null(found);
        } else {
            assert_string_equal(found, cases[i].want);
        }
    }
    assert_string_equal(as_ddb_ca_paths[0], AL);
    assert_string_equal(as_ddb_ca_paths[1], DEB);
}

/* Every branch of the trust decision: only https with no bundle and a libcurl without a
 * default of its own (the zip's, built --without-ca-bundle --without-ca-path) fails. */
static void test_ca_check(void **state)
{
    (void)state;
    static const char BUNDLE[] = "/etc/pki/tls/certs/ca-bundle.crt";
    static const char CURL_FILE[] = "/etc/ssl/certs/ca-certificates.crt";
    static const char CURL_DIR[] = "/etc/ssl/certs";
    static const struct {
        bool tls;
        const char *bundle;
        const char *cainfo;
        const char *capath;
        bool fails;
    } cases[] = {
        {false, NULL, NULL, NULL, false}, /* plain http (loopback) needs no trust anchor */
        {false, BUNDLE, NULL, NULL, false},
        {true, BUNDLE, NULL, NULL, false},
        {true, BUNDLE, CURL_FILE, CURL_DIR, false},
        {true, NULL, CURL_FILE, NULL, false}, /* Debian's libcurl */
        {true, NULL, NULL, CURL_DIR, false},
        {true, NULL, CURL_FILE, CURL_DIR, false},
        {true, "", "", CURL_DIR, false},
        {true, NULL, NULL, NULL, true},
        {true, "", NULL, NULL, true}, /* empty counts as none, everywhere */
        {true, NULL, "", "", true},
        {true, "", "", "", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_error err = {0};
        as_status status =
            as_ddb_ca_check(cases[i].tls, cases[i].bundle, cases[i].cainfo, cases[i].capath, &err);
        if (!cases[i].fails) {
            if (status != AS_OK) {
                fail_msg("case %zu: %s", i, err.message);
            }
            continue;
        }
        if (status != AS_ERR_ARGUMENT) {
            fail_msg("case %zu: status %d, expected AS_ERR_ARGUMENT", i, (int)status);
        }
        assert_int_equal(err.code, AS_ERR_ARGUMENT);
        assert_true(contains(err.message, "https"));
        assert_true(contains(err.message, "SSL_CERT_FILE"));
        assert_true(contains(err.message, as_ddb_ca_paths[0]));
        assert_true(contains(err.message, "libcurl has no default"));
        assert_true(contains(err.message, "set AWS_CA_BUNDLE"));
        /* Cut by the buffer, the advice would be lost: it must fit whole. */
        assert_true(strlen(err.message) + 1 < sizeof err.message);
        assert_int_equal(
            as_ddb_ca_check(cases[i].tls, cases[i].bundle, cases[i].cainfo, cases[i].capath, NULL),
            AS_ERR_ARGUMENT);
    }

    /* As as_ddb_client_new composes them, on a host with no bundle at all (the packaged
     * bootstrap on such a host fails at init rather than on every write). */
    fake_fs empty = {{NULL}};
    const char *found = "unset";
    as_error err = {0};
    assert_int_equal(as_ddb_ca_bundle_find(NULL, NULL, fake_exists, &empty, &found, &err), AS_OK);
    assert_null(found);
    assert_int_equal(as_ddb_ca_check(true, found, NULL, NULL, &err), AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "AWS_CA_BUNDLE"));
    assert_int_equal(as_ddb_ca_check(false, found, NULL, NULL, &err), AS_OK);
}

/* The real client on this machine: the system bundle is found; a configured one that is
 * missing fails naming its source. */
static void test_client_ca_bundle(void **state)
{
    (void)state;
    as_ddb_config config = {0};
    config.region = "eu-west-1";
    as_ddb_client *client = NULL;
    as_error err;
    assert_int_equal(as_ddb_client_new(&config, &client, &err), AS_OK);
    const char *ca = as_ddb_client_ca_bundle(client);
    bool any = false;
    for (size_t i = 0; as_ddb_ca_paths[i] != NULL; i++) {
        if (access(as_ddb_ca_paths[i], R_OK) == 0) {
            assert_non_null(ca);
            assert_string_equal(ca, as_ddb_ca_paths[i]);
            any = true;
            break;
        }
    }
    if (!any) {
        assert_null(ca);
    }
    assert_string_equal(as_ddb_client_endpoint(client)->url,
                        "https://dynamodb.eu-west-1.amazonaws.com/");
    as_ddb_client_free(client);

    config.ca_bundle = "/nonexistent/bundle.pem";
    config.ca_bundle_source = "SSL_CERT_FILE";
    assert_int_equal(as_ddb_client_new(&config, &client, &err), AS_ERR_ARGUMENT);
    assert_null(client);
    assert_true(contains(err.message, "SSL_CERT_FILE"));

    /* Issue 9, item 5: a directory passed access(2), and then every write failed with
     * TlsError. Only a readable regular file is a CA bundle. */
    char dir[] = "/tmp/auditstream-ca-XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char *const sources[] = {"AWS_CA_BUNDLE", "SSL_CERT_FILE"};
    for (size_t i = 0; i < 2; i++) {
        config.ca_bundle = dir;
        config.ca_bundle_source = sources[i];
        client = NULL;
        assert_int_equal(as_ddb_client_new(&config, &client, &err), AS_ERR_ARGUMENT);
        assert_null(client);
        assert_true(contains(err.message, sources[i]));
        assert_true(contains(err.message, "not a readable regular file"));
    }
    /* Nor a device (reading /dev/null trusts nothing) or a link to a directory. */
    char link[sizeof dir + 16];
    snprintf(link, sizeof link, "%s/dir-link", dir);
    assert_int_equal(symlink(dir, link), 0);
    const char *const not_files[] = {"/dev/null", link};
    for (size_t i = 0; i < 2; i++) {
        config.ca_bundle = not_files[i];
        config.ca_bundle_source = "AWS_CA_BUNDLE";
        assert_int_equal(as_ddb_client_new(&config, &client, &err), AS_ERR_ARGUMENT);
        assert_true(contains(err.message, "not a readable regular file"));
    }
    unlink(link);
    /* A regular file there is taken (PEM content is libcurl's to judge, at connect). */
    char file[sizeof dir + 16];
    snprintf(file, sizeof file, "%s/bundle.pem", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("-----BEGIN CERTIFICATE-----\n", f);
    fclose(f);
    config.ca_bundle = file;
    assert_int_equal(as_ddb_client_new(&config, &client, &err), AS_OK);
    assert_string_equal(as_ddb_client_ca_bundle(client), file);
    as_ddb_client_free(client);
    client = NULL;
    unlink(file);
    rmdir(dir);

    config.ca_bundle = NULL;
    config.concurrency = AS_DDB_MAX_CONCURRENCY + 1;
    assert_int_equal(as_ddb_client_new(&config, &client, &err), AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "concurrency"));
    config.concurrency = 0;
    config.endpoint_url = "http://example.com";
    assert_int_equal(as_ddb_client_new(&config, &client, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_client_new(NULL, &client, &err), AS_ERR_ARGUMENT);
    as_ddb_client_free(NULL);
}

/* ---- backoff, quota, classification ------------------------------------------------------- */

static void test_backoff(void **state)
{
    (void)state;
    static const struct {
        uint32_t attempt;
        uint32_t base;
        uint32_t cap;
        uint64_t random;
        uint32_t want;
    } cases[] = {
        {1, 25, 20000, 0, 0},
        {1, 25, 20000, UINT64_MAX, 24}, /* just under min(25, 20000) */
        {2, 25, 20000, UINT64_MAX, 49},
        {3, 25, 20000, UINT64_MAX, 99},
        {1, 25, 20000, UINT64_C(1) << 63, 12}, /* half of 25, floored */
        {3, 25, 20000, UINT64_C(1) << 63, 50},
        {3, 25, 20000, UINT64_C(1) << 62, 25},
        {10, 25, 20000, UINT64_MAX, 12799}, /* 25 * 2^9 */
        {11, 25, 20000, UINT64_MAX, 19999}, /* 25 * 2^10 = 25600: capped at 20 s */
        {11, 25, 20000, UINT64_C(1) << 63, 10000},
        {64, 25, 20000, UINT64_MAX, 19999},
        {1000000, 25, 20000, UINT64_MAX, 19999}, /* no overflow however many */
        {1, 30000, 20000, UINT64_MAX, 19999},
        {1, 1, 20000, UINT64_MAX, 0}, /* tests' 1 ms base: no real sleeping */
        {5, 1, 20000, UINT64_MAX, 15},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t got =
            as_ddb_backoff_ms(cases[i].attempt, cases[i].base, cases[i].cap, cases[i].random);
        if (got != cases[i].want) {
            fail_msg("case %zu: attempt %u: got %u, want %u", i, cases[i].attempt, got,
                     cases[i].want);
        }
    }
    /* Always below the ceiling, whatever the random bits. */
    uint64_t r = 0x9e3779b97f4a7c15u;
    for (uint32_t attempt = 1; attempt < 20; attempt++) {
        for (int k = 0; k < 100; k++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            uint64_t ceiling = 25u << (attempt - 1);
            uint32_t got = as_ddb_backoff_ms(attempt, 25, 20000, r);
            assert_true(got < (ceiling < 20000 ? ceiling : 20000));
        }
    }
}

static void test_quota(void **state)
{
    (void)state;
    as_ddb_quota q;
    as_ddb_quota_init(&q, AS_DDB_DEFAULT_RETRY_QUOTA);
    assert_int_equal(q.tokens, 500);
    assert_int_equal(as_ddb_quota_acquire(&q, false), 5);
    assert_int_equal(q.tokens, 495);
    assert_int_equal(as_ddb_quota_acquire(&q, true), 10);
    assert_int_equal(q.tokens, 485);
    as_ddb_quota_release(&q, 10); /* success after a timeout retry: its 10 come back */
    assert_int_equal(q.tokens, 495);
    as_ddb_quota_release(&q, 0); /* success with no retry: 1 token */
    assert_int_equal(q.tokens, 496);
    for (int i = 0; i < 10; i++) {
        as_ddb_quota_release(&q, 5);
    }
    assert_int_equal(q.tokens, 500); /* never above the start */

    /* Drained: 100 retries of 5 empty it; then nothing is retried and nothing taken. */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(as_ddb_quota_acquire(&q, false), 5);
    }
    assert_int_equal(q.tokens, 0);
    assert_int_equal(as_ddb_quota_acquire(&q, false), 0);
    assert_int_equal(as_ddb_quota_acquire(&q, true), 0);
    assert_int_equal(q.tokens, 0);
    as_ddb_quota_release(&q, 0);
    as_ddb_quota_release(&q, 5);
    as_ddb_quota_release(&q, 0);
    assert_int_equal(q.tokens, 7);
    /* 7 left: a plain retry fits, a timeout retry (10) does not. */
    assert_int_equal(as_ddb_quota_acquire(&q, true), 0);
    assert_int_equal(as_ddb_quota_acquire(&q, false), 5);
    assert_int_equal(q.tokens, 2);
}

static void test_classify_table(void **state)
{
    (void)state;
    static const struct {
        as_ddb_fault fault;
        long status;
        const char *type;
        const char *message;
        as_ddb_verdict want;
    } cases[] = {
        {AS_DDB_FAULT_NONE, 200, "", "", AS_DDB_SUCCESS},
        {AS_DDB_FAULT_NONE, 400, "ThrottlingException", "Rate exceeded", AS_DDB_RETRY_THROTTLE},
        {AS_DDB_FAULT_NONE, 400, "ProvisionedThroughputExceededException", "",
         AS_DDB_RETRY_THROTTLE},
        {AS_DDB_FAULT_NONE, 400, "RequestLimitExceeded", "", AS_DDB_RETRY_THROTTLE},
        {AS_DDB_FAULT_NONE, 400, "TooManyRequestsException", "", AS_DDB_RETRY_THROTTLE},
        {AS_DDB_FAULT_NONE, 429, "", "", AS_DDB_RETRY_THROTTLE},
        {AS_DDB_FAULT_NONE, 500, "InternalServerError", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_NONE, 500, "", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_NONE, 502, "", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_NONE, 503, "ServiceUnavailableException", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_NONE, 504, "", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_NONE, 400, "TransactionConflictException", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_CONNECTION, 0, "", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_CONNECTION, 200, "", "", AS_DDB_RETRY_TRANSIENT}, /* reset mid-body */
        {AS_DDB_FAULT_TIMEOUT, 0, "", "", AS_DDB_RETRY_TIMEOUT},
        {AS_DDB_FAULT_CRC, 200, "", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_CRC, 400, "ValidationException", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_TLS, 0, "", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_TOO_LARGE, 200, "", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_BAD_BODY, 200, "", "", AS_DDB_RETRY_TRANSIENT},
        {AS_DDB_FAULT_OTHER, 0, "", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 400, "ValidationException", "One or more parameter values",
         AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 400, "AccessDeniedException", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 400, "UnrecognizedClientException", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 400, "InvalidSignatureException",
         "The request signature we calculated does not match", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 400, "ResourceNotFoundException", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 400, "ConditionalCheckFailedException", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 403, "UnrecognizedClientException", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 403, "InvalidClientTokenId", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 403, "", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 404, "", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 301, "", "", AS_DDB_GIVE_UP},
        {AS_DDB_FAULT_NONE, 400, "InvalidSignatureException",
         "Signature expired: 20240501T120000Z is now earlier than 20240501T124500Z "
         "(20240501T125000Z - 5 min.)",
         AS_DDB_FIX_CLOCK},
        {AS_DDB_FAULT_NONE, 400, "InvalidSignatureException",
         "Signature not yet current: 20240501T140000Z is still later than 20240501T125500Z",
         AS_DDB_FIX_CLOCK},
        {AS_DDB_FAULT_NONE, 403, "RequestTimeTooSkewed", "", AS_DDB_FIX_CLOCK},
        {AS_DDB_FAULT_NONE, 400, "RequestExpired", "", AS_DDB_FIX_CLOCK},
        {AS_DDB_FAULT_NONE, 400, "ValidationException", "Signature expired", AS_DDB_GIVE_UP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_ddb_verdict got =
            as_ddb_classify(cases[i].fault, cases[i].status, cases[i].type, cases[i].message);
        if (got != cases[i].want) {
            fail_msg("case %zu (%ld %s): got %d, want %d", i, cases[i].status, cases[i].type, got,
                     cases[i].want);
        }
    }
    assert_true(as_ddb_is_throttle_type("ThrottlingException"));
    assert_false(as_ddb_is_throttle_type("ValidationException"));
    assert_int_equal(as_ddb_classify(AS_DDB_FAULT_NONE, 400, NULL, NULL), AS_DDB_GIVE_UP);
}

static void test_parse_error_body(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *type;
        const char *message;
    } cases[] = {
        {"{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\","
         "\"message\":\"Rate exceeded\"}",
         "ThrottlingException", "Rate exceeded"},
        {"{\"__type\":\"com.amazon.coral.validate#ValidationException\","
         "\"Message\":\"capital M\"}",
         "ValidationException", "capital M"},
        {"{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\"}",
         "UnrecognizedClientException", ""},
        {"{\"__type\":\"NoHash\",\"message\":\"m\"}", "NoHash", "m"},
        {"{\"__type\":\"a#b#Last<script>\"}", "Last", ""},
        {"{\"message\":\"no type\"}", "", "no type"},
        {"{\"__type\":42}", "", ""},
        {"[1,2]", "", ""},
        {"not json", "", ""},
        {"", "", ""},
        {"   ", "", ""},
        {"{\"__type\":\"x#T\",\"__type\":\"x#U\"}", "", ""}, /* duplicate keys refused */
        {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error>"
         "<Code>UnrecognizedClientException</Code><Message>The security token included in the "
         "request is invalid.</Message></Error></ErrorResponse>",
         "UnrecognizedClientException", "The security token included in the request is invalid."},
        {"<Response><Errors><Error><Code>AccessDenied</Code></Error></Errors></Response>",
         "AccessDenied", ""},
        {"<Error><Code>Unclosed", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char type[AS_DDB_ERROR_TYPE_MAX];
        char message[64];
        as_ddb_parse_error_body(span_of(cases[i].body), NULL, 0, type, sizeof type, message,
                                sizeof message);
        if (strcmp(type, cases[i].type) != 0 || strcmp(message, cases[i].message) != 0) {
            fail_msg("case %zu: got \"%s\" \"%s\"", i, type, message);
        }
    }
    /* Cut to fit. */
    char type[8];
    char message[8];
    as_ddb_parse_error_body(
        span_of("{\"__type\":\"x#ThrottlingException\",\"message\":\"0123456789\"}"), NULL, 0, type,
        sizeof type, message, sizeof message);
    assert_string_equal(type, "Throttl");
    assert_string_equal(message, "0123456");
}

static void test_clean_message(void **state)
{
    (void)state;
    char out[AS_DDB_MESSAGE_MAX];
    const as_span token[1] = {{TOKEN, sizeof TOKEN - 1}};
    const char *leak = "The request signature we calculated does not match the signature you "
                       "provided.\n\nThe Canonical String for this request should have been\n"
                       "'POST\n/\n\nx-amz-security-token:" TOKEN "\n'";
    as_ddb_clean_message(span_of(leak), token, 1, out, sizeof out);
    assert_string_equal(out, "The request signature we calculated does not match the signature "
                             "you provided.");
    /* On one line too. */
    as_ddb_clean_message(span_of("bad. The Canonical String for this request: token " TOKEN), token,
                         1, out, sizeof out);
    assert_string_equal(out, "bad.");
    as_ddb_clean_message(span_of("token " TOKEN " seen, String-to-Sign follows"), token, 1, out,
                         sizeof out);
    assert_string_equal(out, "token [redacted] seen, String-to-Sign follows");
    as_ddb_clean_message(span_of("ctl\x01\x7f byte \xc3\xa9  "), NULL, 0, out, sizeof out);
    assert_string_equal(out, "ctl?? byte ??");
    char small[6];
    as_ddb_clean_message(span_of("0123456789"), NULL, 0, small, sizeof small);
    assert_string_equal(small, "01234");
    /* A run that holds the token goes whole, whatever is glued to it. */
    as_ddb_clean_message(span_of("ab" TOKEN), token, 1, small, sizeof small);
    assert_string_equal(small, "[reda");
    /* What DynamoDB says every day comes through as it was. */
    static const char *const plain[] = {
        "One or more parameter values were invalid: Missing the key id in the item",
        "Requested resource not found: Table: Audit not found",
        "User: arn:aws:iam::123456789012:user/test is not authorized to perform: "
        "dynamodb:PutItem on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/Audit",
        "Signature expired: 20240501T120000Z is now earlier than 20240501T120500Z "
        "(20240501T121000Z - 5 min.)",
        "Rate of requests exceeds the allowed throughput.",
        "Authorization header requires 'Signature' parameter.",
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        as_ddb_clean_message(span_of(plain[i]), token, 1, out, sizeof out);
        assert_string_equal(out, plain[i]);
    }
}

/* A realistic session token (Lambda's are about 1,100 characters of base64): made from a
 * fixed seed, so that every run sees the same one. */
#define LONG_TOKEN_LEN 1094
static void long_token(char out[LONG_TOKEN_LEN + 1])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint64_t x = 0x9e3779b97f4a7c15u;
    memcpy(out, "IQoJb3JpZ2luX2VjE", 17);
    for (size_t i = 17; i < LONG_TOKEN_LEN - 2; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        out[i] = b64[(x >> 33) % 64];
    }
    out[LONG_TOKEN_LEN - 2] = '=';
    out[LONG_TOKEN_LEN - 1] = '=';
    out[LONG_TOKEN_LEN] = '\0';
}

/* Whether `text` holds AS_DDB_SECRET_RUN bytes in a row of `secret`. */
static bool shows_run_of(const char *text, const char *secret)
{
    size_t n = strlen(secret);
    for (size_t i = 0; i + AS_DDB_SECRET_RUN <= n; i++) {
        for (size_t j = 0; j + AS_DDB_SECRET_RUN <= strlen(text); j++) {
            if (memcmp(text + j, secret + i, AS_DDB_SECRET_RUN) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* Issue 9, item 1: a 1,094-character token echoed in a message over 1 KB was cut to the
 * 1 KB buffer first, so the whole token no longer matched and its first ~200 characters
 * reached the logs. Cleaned before the cut now, as is every run of a secret. */
static void test_clean_long_token(void **state)
{
    (void)state;
    char tok[LONG_TOKEN_LEN + 1];
    long_token(tok);
    const as_span secrets[3] = {span_of(tok), span_of(SECRET), span_of(AKID)};
    as_buf body = AS_BUF_INIT;
    as_buf_append_str(&body, "{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\","
                             "\"message\":\"The security token included in the request is "
                             "invalid: ");
    as_buf_append_str(&body, tok);
    as_buf_append_str(&body, " (token as sent)\"}");
    assert_int_equal(as_buf_status(&body), AS_OK);
    assert_true(body.len > 1024);
    char type[AS_DDB_ERROR_TYPE_MAX];
    char message[1024];
    as_ddb_parse_error_body((as_span){body.data, body.len}, secrets, 3, type, sizeof type, message,
                            sizeof message);
    assert_string_equal(type, "UnrecognizedClientException");
    assert_string_equal(message, "The security token included in the request is invalid: "
                                 "[redacted] (token as sent)");
    char out[AS_DDB_MESSAGE_MAX];
    as_ddb_clean_message(span_of(message), NULL, 0, out, sizeof out);
    assert_false(shows_run_of(out, tok));

    /* The same in XML, and with JSON's "\/" for every '/': the cut falls in the token. */
    as_buf_clear(&body);
    as_buf_append_str(&body, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>"
                             "token=");
    as_buf_append_str(&body, tok);
    as_buf_append_str(&body, "</Message></Error></ErrorResponse>");
    as_ddb_parse_error_body((as_span){body.data, body.len}, secrets, 3, type, sizeof type, message,
                            sizeof message);
    assert_string_equal(message, "[redacted]"); /* "token=" is glued to it: one run */
    as_buf_clear(&body);
    as_buf_append_str(&body, "{\"message\":\"seen: ");
    for (const char *p = tok; *p != '\0'; p++) {
        as_buf_append_str(&body, *p == '/' ? "\\\\/" : (char[2]){*p, '\0'});
    }
    as_buf_append_str(&body, "\"}");
    as_ddb_parse_error_body((as_span){body.data, body.len}, secrets, 3, type, sizeof type, message,
                            sizeof message);
    assert_string_equal(message, "seen: [redacted]");
    as_buf_free(&body);

    /* Pieces of a secret: any AS_DDB_SECRET_RUN bytes in a row take their whole run. */
    char text[512];
    char piece[64];
    static const struct {
        size_t at, len;
        bool redacted;
    } pieces[] = {
        {0, 16, true},
        {500, 40, true},
        {LONG_TOKEN_LEN - 16, 16, true},
        {300, 15, false},
    };
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        memcpy(piece, tok + pieces[i].at, pieces[i].len);
        piece[pieces[i].len] = '\0';
        snprintf(text, sizeof text, "before xx%syy after", piece);
        as_ddb_clean_message(span_of(text), secrets, 3, out, sizeof out);
        if (pieces[i].redacted) {
            assert_string_equal(out, "before [redacted] after");
        } else {
            assert_string_equal(out, text);
        }
    }
    /* The secret key and the access key id, whole or in part. */
    as_ddb_clean_message(span_of("key " SECRET " and id " AKID "."), secrets, 3, out, sizeof out);
    assert_string_equal(out, "key [redacted] and id [redacted]");
    /* Escaped forms, one level or more: \uXXXX, %XX, &#N;, \/ twice. */
    as_buf esc = AS_BUF_INIT;
    for (size_t f = 0; f < 4; f++) {
        as_buf_clear(&esc);
        as_buf_append_str(&esc, "echo ");
        for (size_t i = 200; i < 240; i++) {
            char one[16];
            unsigned char c = (unsigned char)tok[i];
            switch (f) {
            case 0: snprintf(one, sizeof one, "\\u%04x", c); break;
            case 1: snprintf(one, sizeof one, "%%%02X", c); break;
            case 2: snprintf(one, sizeof one, "&#%d;", c); break;
            default: snprintf(one, sizeof one, "\\\\%c", c); break;
            }
            as_buf_append_str(&esc, one);
        }
        as_buf_append_str(&esc, " end");
        assert_int_equal(as_buf_status(&esc), AS_OK);
        as_ddb_clean_message((as_span){esc.data, esc.len}, secrets, 3, out, sizeof out);
        if (strcmp(out, "echo [redacted] end") != 0) {
            fail_msg("form %zu: %s", f, out);
        }
    }
    as_buf_free(&esc);
    /* A type that echoes a secret is not shown either. */
    snprintf(text, sizeof text, "{\"__type\":\"x#%.40s\",\"message\":\"m\"}", tok + 17);
    as_ddb_parse_error_body(span_of(text), secrets, 3, type, sizeof type, message, sizeof message);
    assert_string_equal(type, "Redacted");
}

/* Issue 9, item 2: IncompleteSignatureException messages repeat the Authorization
 * header; no part of it but its name may reach a log line. */
static void test_clean_authorization(void **state)
{
    (void)state;
#define SIG "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
#define AUTH                                                                                       \
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/dynamodb/aws4_request, "  \
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" SIG
    static const struct {
        const char *raw;
        const char *want;
    } cases[] = {
        {"'" AUTH
         "' not a valid key=value pair (missing equal-sign) in Authorization header: '" AUTH "'.",
         "'AWS4-HMAC-SHA256 [redacted]' not a valid key=value pair (missing equal-sign) in "
         "Authorization header: 'AWS4-HMAC-SHA256 [redacted]'."},
        {"Authorization header requires 'Signature' parameter. Authorization=" AUTH,
         "Authorization header requires 'Signature' parameter. Authorization=[redacted]"},
        {"Authorization: Bearer abc def", "Authorization:[redacted]"},
        {"Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/dynamodb/aws4_request, ok",
         "Credential=[redacted], ok"},
        {"bad signature=" SIG ", try again", "bad signature=[redacted], try again"},
        {"X-Amz-Signature=" SIG "&X-Amz-Date=20240501T000000Z",
         "X-Amz-Signature=[redacted]&X-Amz-Date=20240501T000000Z"},
        {"x-amz-security-token: abc", "x-amz-security-token:[redacted]"},
        {"key ASIAIOSFODNN7EXAMPLE here, AKIAIOSFODNN7EXAMPLE.",
         "key [redacted] here, [redacted]."},
        {"sig " SIG " seen", "sig [redacted] seen"},
        /* Not a key id: too short, or inside a longer word. */
        {"AKIA123 and XAKIAIOSFODNN7EXAMPLE", "AKIA123 and XAKIAIOSFODNN7EXAMPLE"},
    };
    char out[AS_DDB_MESSAGE_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_ddb_clean_message(span_of(cases[i].raw), NULL, 0, out, sizeof out);
        if (strcmp(out, cases[i].want) != 0) {
            fail_msg("case %zu: got \"%s\"", i, out);
        }
        assert_null(strstr(out, SIG));
        assert_null(strstr(out, "IOSFODNN7EXAMPLE/"));
    }
#undef AUTH
#undef SIG
}

static void test_crc32(void **state)
{
    (void)state;
    /* zlib's and Python's binascii.crc32. */
    assert_int_equal(as_crc32(0, "", 0), 0);
    assert_int_equal(as_crc32(0, "123456789", 9), 0xcbf43926u);
    assert_int_equal(as_crc32(0, "{}", 2), 2745614147u);
    uint32_t part = as_crc32(0, "12345", 5);
    assert_int_equal(as_crc32(part, "6789", 4), 0xcbf43926u);

    uint32_t v = 0;
    assert_true(as_ddb_parse_crc32(span_of("2745614147"), &v));
    assert_int_equal(v, 2745614147u);
    assert_true(as_ddb_parse_crc32(span_of(" 0 "), &v));
    assert_int_equal(v, 0);
    assert_true(as_ddb_parse_crc32(span_of("4294967295"), &v));
    assert_int_equal(v, UINT32_MAX);
    assert_false(as_ddb_parse_crc32(span_of("4294967296"), &v));
    assert_false(as_ddb_parse_crc32(span_of("-1"), &v));
    assert_false(as_ddb_parse_crc32(span_of("0x10"), &v));
    assert_false(as_ddb_parse_crc32(span_of(""), &v));
    assert_false(as_ddb_parse_crc32(span_of("12 34"), &v));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(as_ddb_outcome_name(AS_DDB_WRITTEN), "written");
    assert_string_equal(as_ddb_outcome_name(AS_DDB_FAILED), "failed");
    assert_string_equal(as_ddb_outcome_name(AS_DDB_NOT_ATTEMPTED), "not attempted");
    assert_string_equal(as_ddb_fault_type(AS_DDB_FAULT_TIMEOUT), "Timeout");
    assert_string_equal(as_ddb_fault_type(AS_DDB_FAULT_NONE), "");
}

/* ---- the fault-injecting stand-in --------------------------------------------------------- */

static fault_server server = {.pid = -1};

static int start_server(void **state)
{
    (void)state;
    return fault_server_setup(&server, "test_ddb") ? 0 : -1;
}

static int stop_server(void **state)
{
    (void)state;
    fault_server_teardown(&server);
    return 0;
}

/* Resets the stand-in and gives it a script (a JSON object's members, without braces). */
static void script(const char *members)
{
    fault_server_script(&server, SECRET, members, 2048);
}

static const char *header_of(json_t *request, const char *name)
{
    json_t *headers = json_object_get(request, "headers");
    size_t i;
    json_t *pair;
    json_array_foreach(headers, i, pair)
    {
        if (strcasecmp(json_string_value(json_array_get(pair, 0)), name) == 0) {
            return json_string_value(json_array_get(pair, 1));
        }
    }
    return NULL;
}

static size_t header_count(json_t *request, const char *name)
{
    json_t *headers = json_object_get(request, "headers");
    size_t i;
    size_t n = 0;
    json_t *pair;
    json_array_foreach(headers, i, pair)
    {
        if (strcasecmp(json_string_value(json_array_get(pair, 0)), name) == 0) {
            n++;
        }
    }
    return n;
}

static uint64_t fixed_random(void *ctx)
{
    return *(const uint64_t *)ctx;
}

static int64_t offset_clock(void *ctx)
{
    return fault_real_ms() + *(const int64_t *)ctx;
}

static const as_credentials CREDS = {
    {AKID, sizeof AKID - 1}, {SECRET, sizeof SECRET - 1}, {TOKEN, sizeof TOKEN - 1}};

#define MAX_ITEMS 32

typedef struct batch {
    char text[MAX_ITEMS][96];
    as_span items[MAX_ITEMS];
    as_ddb_result results[MAX_ITEMS];
    as_ddb_stats stats;
    size_t count;
} batch;

/* Items {"id":{"S":"<prefix><i>"},"n":{"N":"<i>"}} for i in [0, count). */
static void make_batch(batch *b, const char *prefix, size_t count)
{
    assert_true(count <= MAX_ITEMS);
    b->count = count;
    for (size_t i = 0; i < count; i++) {
        snprintf(b->text[i], sizeof b->text[i], "{\"id\":{\"S\":\"%s%zu\"},\"n\":{\"N\":\"%zu\"}}",
                 prefix, i, i);
        b->items[i] = span_of(b->text[i]);
    }
}

static void put(as_ddb_client *client, batch *b, int64_t deadline_ms)
{
    as_error err;
    if (as_ddb_put_items(client, &CREDS, TABLE, b->items, b->count, deadline_ms, b->results,
                         &b->stats, &err) != AS_OK) {
        fail_msg("as_ddb_put_items: %s", err.message);
    }
}

static void expect_written(const batch *b, size_t i, uint32_t attempts)
{
    fault_expect_written(&b->results[i], i, attempts);
}

static void expect_failed(const batch *b, size_t i, uint32_t attempts, const char *type,
                          const char *message_part)
{
    fault_expect_failed(&b->results[i], i, attempts, type, message_part);
}

/* Every request the stand-in saw was signed correctly (it recomputes SigV4 itself). */
static void expect_signatures_ok(json_t *log)
{
    json_t *requests = json_object_get(log, "requests");
    size_t i;
    json_t *req;
    json_array_foreach(requests, i, req)
    {
        if (!json_is_true(json_object_get(req, "signature_ok"))) {
            fail_msg("request %zu: the stand-in could not verify its signature", i);
        }
    }
}

/* ---- the client against the stand-in ------------------------------------------------------ */

/* What goes on the wire: method, path, every header docs/configuration.md lists, the body, and a
 * signature the stand-in verifies independently. */
static void test_request_shape(void **state)
{
    (void)state;
    script("");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "shape-", 3);
    put(client, &b, 0);
    for (size_t i = 0; i < 3; i++) {
        expect_written(&b, i, 1);
    }
    assert_int_equal(b.stats.requests, 3);
    assert_int_equal(b.stats.written, 3);
    assert_int_equal(b.stats.retries, 0);

    json_t *log = fault_server_log(&server);
    json_t *requests = json_object_get(log, "requests");
    assert_int_equal(json_array_size(requests), 3);
    expect_signatures_ok(log);
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%u", server.port);
    for (size_t i = 0; i < 3; i++) {
        json_t *req = json_array_get(requests, i);
        assert_string_equal(json_string_value(json_object_get(req, "method")), "POST");
        assert_string_equal(json_string_value(json_object_get(req, "path")), "/");
        assert_string_equal(json_string_value(json_object_get(req, "version")), "HTTP/1.1");
        assert_string_equal(header_of(req, "Host"), host);
        assert_string_equal(header_of(req, "Content-Type"), "application/x-amz-json-1.0");
        assert_string_equal(header_of(req, "X-Amz-Target"), "DynamoDB_20120810.PutItem");
        assert_string_equal(header_of(req, "Accept-Encoding"), "identity");
        assert_string_equal(header_of(req, "X-Amz-Security-Token"), TOKEN);
        assert_int_equal(strlen(header_of(req, "X-Amz-Date")), 16);
        assert_null(header_of(req, "Expect"));
        assert_int_equal(header_count(req, "Host"), 1);
        assert_int_equal(header_count(req, "Authorization"), 1);
        const char *authz = header_of(req, "Authorization");
        char want[160];
        snprintf(want, sizeof want, "AWS4-HMAC-SHA256 Credential=%s/%.8s/us-east-1/dynamodb/", AKID,
                 header_of(req, "X-Amz-Date"));
        assert_true(strncmp(authz, want, strlen(want)) == 0);
        assert_true(contains(authz, "SignedHeaders=content-type;host;x-amz-date;"
                                    "x-amz-security-token;x-amz-target, Signature="));
        /* Sent, never signed: moto refuses signatures over user-agent. */
        assert_non_null(header_of(req, "User-Agent"));
        assert_false(contains(authz, "user-agent"));
        char body[160];
        snprintf(body, sizeof body, "{\"TableName\":\"Audit\",\"Item\":%s}", b.text[i]);
        assert_string_equal(json_string_value(json_object_get(req, "body")), body);
    }
    json_decref(log);
    as_ddb_client_free(client);
}

/* N throttles then success: retried with backoff, quota charged 5 a retry and refunded
 * the last retry's 5 on success. */
static void test_throttles_then_success(void **state)
{
    (void)state;
    script("\"items\":{\"th-0\":[\"throttle\",\"pte\",\"ok\"],"
           "\"th-1\":[\"throttle\",\"throttle\",\"throttle\",\"ok\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.max_attempts = 4;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "th-", 2);
    put(client, &b, 0);
    expect_written(&b, 0, 3);
    expect_written(&b, 1, 4);
    assert_int_equal(b.stats.requests, 7);
    assert_int_equal(b.stats.retries, 5);
    assert_int_equal(b.stats.throttles, 5);
    /* 500 - 2*5 + 5 (item 0), then - 3*5 + 5 (item 1). */
    assert_int_equal(as_ddb_client_retry_tokens(client), 485);
    json_t *log = fault_server_log(&server);
    expect_signatures_ok(log);
    json_decref(log);
    as_ddb_client_free(client);
}

static void test_server_errors_retried(void **state)
{
    (void)state;
    script("\"items\":{\"5xx-0\":[\"500\",\"503\",\"ok\"],\"5xx-1\":[\"429\",\"ok\"],"
           "\"5xx-2\":[\"conflict\",\"ok\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "5xx-", 3);
    put(client, &b, 0);
    expect_written(&b, 0, 3);
    expect_written(&b, 1, 2);
    expect_written(&b, 2, 2);
    assert_int_equal(b.stats.server_errors, 2);
    assert_int_equal(b.stats.throttles, 1);
    assert_int_equal(b.stats.retries, 4);
    as_ddb_client_free(client);
}

/* A response cut by a TCP reset after its headers: a connection error, retried on a new
 * connection. */
static void test_reset_mid_response(void **state)
{
    (void)state;
    script("\"items\":{\"rst-0\":[\"reset\",\"ok\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "rst-", 2);
    put(client, &b, 0);
    expect_written(&b, 0, 2);
    expect_written(&b, 1, 1);
    assert_int_equal(b.stats.connection_errors, 1);
    assert_int_equal(b.stats.retries, 1);
    as_ddb_client_free(client);
}

/* A stalled response hits the attempt timeout, is retried at the timeout price (10) and
 * refunded on success; the call takes the timeout, not the stall. */
static void test_stall_times_out(void **state)
{
    (void)state;
    script("\"stall_seconds\":5,\"items\":{\"stall-0\":[\"stall\",\"ok\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.attempt_timeout_ms = 300;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "stall-", 1);
    int64_t start = fault_mono_ms();
    put(client, &b, 0);
    int64_t took = fault_mono_ms() - start;
    expect_written(&b, 0, 2);
    assert_int_equal(b.stats.timeouts, 1);
    assert_true(took >= 290 && took < 2000);
    assert_int_equal(as_ddb_client_retry_tokens(client), 500);

    /* Every attempt stalls: the failure names the timeout. */
    script("\"stall_seconds\":5,\"default\":\"stall\"");
    put(client, &b, 0);
    expect_failed(&b, 0, 3, "Timeout", "");
    assert_int_equal(b.results[0].http_status, 0);
    assert_int_equal(b.stats.timeouts, 3);
    assert_int_equal(as_ddb_client_retry_tokens(client), 480);
    as_ddb_client_free(client);
}

static void test_bad_crc_retried(void **state)
{
    (void)state;
    script("\"items\":{\"crc-0\":[\"badcrc\",\"ok\"],"
           "\"crc-1\":[\"badcrc\",\"badcrc\",\"badcrc\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "crc-", 2);
    put(client, &b, 0);
    expect_written(&b, 0, 2);
    expect_failed(&b, 1, 3, "Crc32Mismatch", "x-amz-crc32 value does not match the 2-byte body");
    assert_int_equal(b.results[1].http_status, 200);
    assert_int_equal(b.stats.crc_mismatches, 4);
    as_ddb_client_free(client);
}

/* A clock an hour slow: the first request is refused as expired, the offset comes from
 * the Date header, and nothing after is refused, in this call or the next. */
static void test_skew_corrected_once(void **state)
{
    (void)state;
    script("\"skew_check\":true");
    int64_t skew = -3600 * 1000;
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.clock = offset_clock;
    config.clock_ctx = &skew;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "skew-", 3);
    put(client, &b, 0);
    expect_written(&b, 0, 2);
    expect_written(&b, 1, 1);
    expect_written(&b, 2, 1);
    assert_int_equal(b.stats.clock_corrections, 1);
    assert_int_equal(b.stats.retries, 0);
    int64_t offset = as_ddb_client_clock_offset_ms(client);
    assert_true(offset > 3600 * 1000 - 2500 && offset < 3600 * 1000 + 2500);
    assert_int_equal(as_ddb_client_retry_tokens(client), 500); /* the fix costs no token */

    put(client, &b, 0);
    for (size_t i = 0; i < 3; i++) {
        expect_written(&b, i, 1);
    }
    assert_int_equal(b.stats.clock_corrections, 0);

    json_t *log = fault_server_log(&server);
    json_t *requests = json_object_get(log, "requests");
    size_t refused = 0;
    size_t i;
    json_t *req;
    json_array_foreach(requests, i, req)
    {
        refused += strcmp(json_string_value(json_object_get(req, "action")), "skewed") == 0;
    }
    assert_int_equal(json_array_size(requests), 7);
    assert_int_equal(refused, 1);
    json_decref(log);
    as_ddb_client_free(client);
}

/* "Signature expired" again after the fix: retried once only, then reported. The clock
 * is an hour slow, so that the first refusal's Date shows skew. */
static void test_skew_retried_once_only(void **state)
{
    (void)state;
    script("\"default\":\"expired\"");
    int64_t skew = -3600 * 1000;
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.max_attempts = 5;
    config.clock = offset_clock;
    config.clock_ctx = &skew;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "exp-", 1);
    put(client, &b, 0);
    expect_failed(&b, 0, 2, "InvalidSignatureException", "Signature expired: ");
    assert_true(contains(b.results[0].message, "(clock already corrected once)"));
    assert_int_equal(b.results[0].http_status, 400);
    assert_int_equal(b.stats.clock_corrections, 1);
    as_ddb_client_free(client);
}

/* Validation, access and authentication errors are reported at once, with DynamoDB's
 * type and message; moto's 403 XML bodies are read through their <Code>. */
static void test_not_retried(void **state)
{
    (void)state;
    script("\"items\":{\"nr-0\":[\"validation\"],\"nr-1\":[\"denied\"],\"nr-2\":[\"xml403\"],"
           "\"nr-3\":[\"sigleak\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.concurrency = 4;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "nr-", 4);
    put(client, &b, 0);
    expect_failed(&b, 0, 1, "ValidationException",
                  "One or more parameter values were invalid: Missing the key id in the item");
    expect_failed(&b, 1, 1, "AccessDeniedException", "is not authorized to perform");
    expect_failed(&b, 2, 1, "UnrecognizedClientException",
                  "The security token included in the request is invalid.");
    assert_int_equal(b.results[2].http_status, 403);
    /* AWS echoes the canonical request, token and all: only the first line comes back. */
    expect_failed(&b, 3, 1, "InvalidSignatureException",
                  "The request signature we calculated does not match");
    assert_false(contains(b.results[3].message, TOKEN));
    assert_false(contains(b.results[3].message, "Canonical"));
    assert_int_equal(b.stats.retries, 0);
    assert_int_equal(b.stats.failed, 4);
    assert_int_equal(b.stats.requests, 4);
    as_ddb_client_free(client);
}

/* Issue 9, items 1 and 2, through the real client: answers that repeat the token (in a
 * message over 1 KB, and in the request id header) or the Authorization header come
 * back with no credential, signature or Authorization value in any result field. */
static void test_echoes_cleaned(void **state)
{
    (void)state;
    script("\"items\":{\"ec-0\":[\"tokenecho\"],\"ec-1\":[\"authecho\"],"
           "\"ec-2\":[\"ridecho\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "ec-", 3);
    put(client, &b, 0);
    expect_failed(&b, 0, 1, "UnrecognizedClientException",
                  "The security token included in the request is invalid: [redacted] (as sent;");
    expect_failed(&b, 1, 1, "IncompleteSignatureException",
                  "'AWS4-HMAC-SHA256 [redacted]' not a valid key=value pair");
    expect_failed(&b, 2, 1, "ValidationException", "request id echo");
    assert_string_equal(b.results[2].request_id, "[redacted]");
    json_t *log = fault_server_log(&server);
    json_t *requests = json_object_get(log, "requests");
    for (size_t i = 0; i < 3; i++) {
        const as_ddb_result *r = &b.results[i];
        const char *auth = header_of(json_array_get(requests, i), "Authorization");
        assert_non_null(auth);
        const char *sig = strstr(auth, "Signature=");
        assert_non_null(sig);
        const char *fields[3] = {r->message, r->error_type, r->request_id};
        for (size_t f = 0; f < 3; f++) {
            assert_false(contains(fields[f], TOKEN));
            assert_false(contains(fields[f], SECRET));
            assert_false(contains(fields[f], AKID));
            assert_false(contains(fields[f], sig + 10));
            assert_false(contains(fields[f], "Credential="));
            assert_false(contains(fields[f], "SignedHeaders"));
        }
    }
    json_decref(log);
    as_ddb_client_free(client);
}

/* After the last attempt the failure reaches the caller with its reason. */
static void test_last_attempt_reported(void **state)
{
    (void)state;
    script("\"default\":\"throttle\"");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "last-", 1);
    put(client, &b, 0);
    expect_failed(&b, 0, 3, "ThrottlingException",
                  "Rate of requests exceeds the allowed throughput.");
    assert_int_equal(b.results[0].http_status, 400);
    assert_int_equal(b.stats.throttles, 3);
    assert_int_equal(b.stats.retries, 2);
    assert_int_equal(b.stats.failed, 1);
    as_ddb_client_free(client);

    /* AWS_MAX_ATTEMPTS=1: no retry at all. */
    config.max_attempts = 1;
    client = fault_server_ddb_client(&config);
    script("\"default\":\"503\"");
    put(client, &b, 0);
    expect_failed(&b, 0, 1, "ServiceUnavailableException", "scripted 503");
    assert_int_equal(b.results[0].http_status, 503);
    as_ddb_client_free(client);
}

/* An empty quota stops retrying, and the reason says so. */
static void test_quota_exhausted(void **state)
{
    (void)state;
    script("\"items\":{\"q-0\":[\"throttle\",\"throttle\",\"ok\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.retry_quota = 5;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "q-", 1);
    put(client, &b, 0);
    expect_failed(&b, 0, 2, "ThrottlingException", "(retry quota exhausted)");
    assert_int_equal(b.stats.quota_refusals, 1);
    assert_int_equal(as_ddb_client_retry_tokens(client), 0);
    as_ddb_client_free(client);
}

/* Bodies over the cap fail the attempt, unretried. */
static void test_response_cap(void **state)
{
    (void)state;
    script("\"default\":\"big\"");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "big-", 1);
    put(client, &b, 0);
    expect_failed(&b, 0, 1, "ResponseTooLarge", "response body over 65536 bytes");
    as_ddb_client_free(client);
}

/* Nothing listens: connection errors, retried, then reported. */
static void test_connection_refused(void **state)
{
    (void)state;
    unsigned port = closed_loopback_port();
    assert_true(port != 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.endpoint_url = url;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "refused-", 2);
    put(client, &b, 0);
    expect_failed(&b, 0, 3, "ConnectionError", "");
    expect_failed(&b, 1, 3, "ConnectionError", "");
    assert_true(b.results[0].message[0] != '\0');
    assert_int_equal(b.results[0].http_status, 0);
    assert_int_equal(b.stats.connection_errors, 6);
    as_ddb_client_free(client);
}

/* Up to `concurrency` requests in flight at once, over connections kept for the next call. */
static void test_concurrency_and_keepalive(void **state)
{
    (void)state;
    script("\"default\":\"delay:40\"");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.concurrency = 4;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "conc-", 16);
    int64_t start = fault_mono_ms();
    put(client, &b, 0);
    int64_t took = fault_mono_ms() - start;
    for (size_t i = 0; i < 16; i++) {
        expect_written(&b, i, 1);
    }
    /* 16 requests of 40 ms, four at a time: about 160 ms, far below 16 * 40. */
    assert_true(took < 16 * 40);

    json_t *log = fault_server_log(&server);
    json_int_t max_inflight = json_integer_value(json_object_get(log, "max_inflight"));
    assert_true(max_inflight >= 2 && max_inflight <= 4);
    json_t *requests = json_object_get(log, "requests");
    json_int_t ports[16];
    size_t port_count = 0;
    size_t i;
    json_t *req;
    json_array_foreach(requests, i, req)
    {
        json_int_t port = json_integer_value(json_object_get(req, "client_port"));
        bool seen = false;
        for (size_t k = 0; k < port_count; k++) {
            seen = seen || ports[k] == port;
        }
        if (!seen) {
            ports[port_count++] = port;
        }
    }
    assert_true(port_count >= 2 && port_count <= 4);
    json_decref(log);

    /* The next call reuses those connections: no new client port appears. */
    script("");
    make_batch(&b, "conc2-", 8);
    put(client, &b, 0);
    log = fault_server_log(&server);
    requests = json_object_get(log, "requests");
    assert_int_equal(json_array_size(requests), 8);
    json_array_foreach(requests, i, req)
    {
        json_int_t port = json_integer_value(json_object_get(req, "client_port"));
        bool seen = false;
        for (size_t k = 0; k < port_count; k++) {
            seen = seen || ports[k] == port;
        }
        if (!seen) {
            fail_msg("request %zu came on a new connection (port %lld)", i, (long long)port);
        }
    }
    json_decref(log);
    as_ddb_client_free(client);
}

/* A backoff waits in curl_multi_poll: the other items go on meanwhile. The random source
 * is pinned at its top, so the one retry waits base - 1 ms. */
static void test_backoff_does_not_block(void **state)
{
    (void)state;
    script("\"items\":{\"bo-0\":[\"throttle\",\"ok\"]},\"default\":\"delay:20\"");
    uint64_t top = UINT64_MAX;
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.concurrency = 2;
    config.base_delay_ms = 400;
    config.random = fixed_random;
    config.random_ctx = &top;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "bo-", 6);
    int64_t start = fault_mono_ms();
    put(client, &b, 0);
    int64_t took = fault_mono_ms() - start;
    expect_written(&b, 0, 2);
    for (size_t i = 1; i < 6; i++) {
        expect_written(&b, i, 1);
    }
    assert_true(took >= 399 && took < 1500);
    json_t *log = fault_server_log(&server);
    json_t *requests = json_object_get(log, "requests");
    assert_int_equal(json_array_size(requests), 7);
    /* The retry is the last request: items 1..5 went while item 0 waited. */
    json_t *last = json_array_get(requests, 6);
    assert_string_equal(json_string_value(json_object_get(last, "item")), "bo-0");
    double waited = json_real_value(json_object_get(last, "time")) -
                    json_real_value(json_object_get(json_array_get(requests, 0), "time"));
    assert_true(waited >= 0.39);
    json_decref(log);
    as_ddb_client_free(client);
}

/* The deadline: nothing starts at or after it; what was never sent is "not attempted",
 * a retry it cuts short is "failed" with the reason. */
static void test_deadline(void **state)
{
    (void)state;
    script("\"default\":\"delay:60\"");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "dl-", 8);

    /* Already past: nothing is sent. */
    put(client, &b, fault_real_ms() - 1);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(b.results[i].outcome, AS_DDB_NOT_ATTEMPTED);
        assert_int_equal(b.results[i].attempts, 0);
        assert_true(contains(b.results[i].message, "deadline"));
    }
    assert_int_equal(b.stats.requests, 0);
    assert_int_equal(b.stats.not_attempted, 8);
    json_t *log = fault_server_log(&server);
    assert_int_equal(json_array_size(json_object_get(log, "requests")), 0);
    json_decref(log);

    /* One at a time, 60 ms each, 200 ms to go: the first few are written, the rest are not
     * attempted, and nothing written follows an unwritten item. */
    int64_t start = fault_mono_ms();
    put(client, &b, fault_real_ms() + 200);
    int64_t took = fault_mono_ms() - start;
    assert_true(took < 600);
    assert_true(b.stats.written >= 1);
    assert_true(b.stats.not_attempted >= 1);
    assert_true(b.stats.written + b.stats.failed + b.stats.not_attempted == 8);
    bool seen_unwritten = false;
    for (size_t i = 0; i < 8; i++) {
        if (b.results[i].outcome != AS_DDB_WRITTEN) {
            seen_unwritten = true;
        } else {
            assert_false(seen_unwritten);
        }
    }
    as_ddb_client_free(client);

    /* A retry due after the deadline is not waited for. */
    script("\"items\":{\"dlr-0\":[\"throttle\",\"ok\"]}");
    uint64_t top = UINT64_MAX;
    config.base_delay_ms = 5000;
    config.random = fixed_random;
    config.random_ctx = &top;
    client = fault_server_ddb_client(&config);
    make_batch(&b, "dlr-", 1);
    start = fault_mono_ms();
    put(client, &b, fault_real_ms() + 300);
    took = fault_mono_ms() - start;
    assert_true(took < 1000);
    expect_failed(&b, 0, 1, "ThrottlingException", "(deadline reached before retry)");
    as_ddb_client_free(client);
}

/* Arguments the call refuses, and credentials the signer refuses: the message names the
 * field, never the secret. */
static void test_bad_arguments(void **state)
{
    (void)state;
    script("");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "arg-", 2);
    as_error err;
    assert_int_equal(as_ddb_put_items(NULL, &CREDS, TABLE, b.items, 2, 0, b.results, NULL, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_put_items(client, NULL, TABLE, b.items, 2, 0, b.results, NULL, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_put_items(client, &CREDS, "", b.items, 2, 0, b.results, NULL, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_put_items(client, &CREDS, TABLE, NULL, 2, 0, b.results, NULL, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_put_items(client, &CREDS, TABLE, b.items, 2, 0, NULL, NULL, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_put_items(client, &CREDS, TABLE, NULL, 0, 0, NULL, NULL, &err), AS_OK);
    b.items[1] = span_of("[1]");
    assert_int_equal(as_ddb_put_items(client, &CREDS, TABLE, b.items, 2, 0, b.results, NULL, &err),
                     AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "item 1"));

    /* An access key id the Authorization header cannot carry. */
    make_batch(&b, "arg-", 2);
    as_credentials bad = CREDS;
    bad.access_key_id = span_of("AKID WITH SPACE");
    as_ddb_stats stats;
    assert_int_equal(as_ddb_put_items(client, &bad, TABLE, b.items, 2, 0, b.results, &stats, &err),
                     AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "access_key_id"));
    assert_false(contains(err.message, SECRET));
    assert_int_equal(b.results[0].outcome, AS_DDB_NOT_ATTEMPTED);
    assert_int_equal(stats.requests, 0);

    /* The client still works after that. */
    put(client, &b, 0);
    expect_written(&b, 0, 1);
    expect_written(&b, 1, 1);
    as_ddb_client_free(client);
}

/* A due retry while every slot is busy waits on the poll instead of spinning: the CPU
 * the call burns stays far below the time it takes. */
static void test_no_spin_while_slots_busy(void **state)
{
    (void)state;
    script("\"items\":{\"spin-0\":[\"throttle\",\"ok\"],\"spin-1\":[\"delay:400\"]}");
    uint64_t top = UINT64_MAX;
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.base_delay_ms = 51; /* item 0's retry is due 50 ms in, while item 1 runs */
    config.random = fixed_random;
    config.random_ctx = &top;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "spin-", 2);
    clock_t cpu = clock();
    int64_t start = fault_mono_ms();
    put(client, &b, 0);
    int64_t took = fault_mono_ms() - start;
    double cpu_ms = (double)(clock() - cpu) * 1000.0 / CLOCKS_PER_SEC;
    expect_written(&b, 0, 2);
    expect_written(&b, 1, 1);
    assert_true(took >= 400);
    if (cpu_ms > 200) {
        fail_msg("the call used %.0f ms of CPU in %lld ms", cpu_ms, (long long)took);
    }
    as_ddb_client_free(client);
}

/* Runs argv[0] from PATH with its output discarded; true when it exits 0. */
static bool run_quiet(char *const argv[])
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        return false;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* TLS peers are always verified: a self-signed stand-in is refused (and not retried)
 * against the system's CA bundle, and accepted once its certificate is the bundle. */
static void test_tls_verification(void **state)
{
    (void)state;
    char dir[] = "/tmp/as-ddb-tls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cert[64];
    char key[64];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    char *openssl[] = {"openssl",
                       "req",
                       "-x509",
                       "-newkey",
                       "ec",
                       "-pkeyopt",
                       "ec_paramgen_curve:prime256v1",
                       "-nodes",
                       "-keyout",
                       key,
                       "-out",
                       cert,
                       "-days",
                       "1",
                       "-subj",
                       "/CN=127.0.0.1",
                       "-addext",
                       "subjectAltName=IP:127.0.0.1,DNS:localhost",
                       NULL};
    if (!run_quiet(openssl)) {
        unlink(cert);
        unlink(key);
        rmdir(dir);
        /* tests/install-deps.sh installs it: its absence is a broken machine, not a pass. */
        fail_msg("the openssl command could not make a test certificate");
    }
    char *tls_args[] = {"--tls", cert, key, NULL};
    fault_server tls = {.pid = -1};
    assert_true(fault_server_start(&tls, "test_ddb", tls_args));

    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%u", tls.port);
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.endpoint_url = url;
    /* A TLS handshake under valgrind on a busy machine can outlast the usual 1 s; a
     * timeout would be retried and hide the one-attempt TlsError this test is about. */
    config.connect_timeout_ms = 20000;
    config.attempt_timeout_ms = 30000;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "tls-", 1);
    put(client, &b, 0);
    expect_failed(&b, 0, 1, "TlsError", "");
    assert_int_equal(b.stats.requests, 1);
    as_ddb_client_free(client);

    config.ca_bundle = cert;
    client = fault_server_ddb_client(&config);
    put(client, &b, 0);
    expect_written(&b, 0, 1);
    as_ddb_client_free(client);

    snprintf(url, sizeof url, "https://localhost:%u/", tls.port);
    client = fault_server_ddb_client(&config);
    put(client, &b, 0);
    expect_written(&b, 0, 1);
    as_ddb_client_free(client);

    fault_server_stop(&tls);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

/* Answers no DynamoDB would give, each with what the client makes of it: a body shorter
 * than its Content-Length, one that never ends, a 200 that is not JSON (never counted as
 * written), a 200 without x-amz-crc32 (accepted, as the SDKs do), two x-amz-crc32
 * headers (a mismatch), a Retry-After of a year (ignored: standard mode's backoff
 * rules), and a success dated 9999 (a success's Date is never read). */
static void test_hostile_answers(void **state)
{
    (void)state;
    script("\"stall_seconds\":3,\"items\":{\"ha-0\":[\"shortbody\",\"ok\"],"
           "\"ha-1\":[\"endless\",\"ok\"],\"ha-2\":[\"notjson\",\"notjson\",\"notjson\"],"
           "\"ha-3\":[\"notjson\",\"ok\"],\"ha-4\":[\"nocrc\"],"
           "\"ha-5\":[\"dupcrc\",\"dupcrc\",\"dupcrc\"],\"ha-6\":[\"retryafter\",\"ok\"],"
           "\"ha-7\":[\"okdate:Fri, 31 Dec 9999 23:59:59 GMT\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.attempt_timeout_ms = 400;
    config.concurrency = 4;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "ha-", 8);
    int64_t start = fault_mono_ms();
    put(client, &b, 0);
    assert_true(fault_mono_ms() - start < 5000);
    expect_written(&b, 0, 2);
    expect_written(&b, 1, 2);
    expect_failed(&b, 2, 3, "InvalidResponse",
                  "HTTP 200 with a 21-byte body that is not a JSON object");
    assert_int_equal(b.results[2].http_status, 200);
    expect_written(&b, 3, 2);
    expect_written(&b, 4, 1);
    expect_failed(&b, 5, 3, "Crc32Mismatch", "x-amz-crc32 header is malformed");
    expect_written(&b, 6, 2);
    expect_written(&b, 7, 1);
    assert_int_equal(b.stats.timeouts, 1);
    assert_true(b.stats.connection_errors >= 1);
    assert_int_equal(b.stats.clock_corrections, 0);
    assert_int_equal(as_ddb_client_clock_offset_ms(client), 0);
    as_ddb_client_free(client);
}

/* An answer followed by bytes beyond its Content-Length: the next request on that
 * kept-alive connection reads them first ("Received HTTP/0.9"). That attempt counts as
 * a connection failure and is retried on a new connection; the item used to fail. */
static void test_bytes_after_the_body(void **state)
{
    (void)state;
    script("\"items\":{\"tb-0\":[\"trailing\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "tb-", 2);
    put(client, &b, 0);
    expect_written(&b, 0, 1);
    expect_written(&b, 1, 2);
    assert_int_equal(b.stats.connection_errors, 1);
    as_ddb_client_free(client);
}

/* ---- clock-skew correction (issue 9, item 4) ---------------------------------------------- */

/* An HTTP date (RFC 7231's IMF-fixdate) for epoch ms `ms`. */
static void http_date(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    assert_non_null(gmtime_r(&t, &tm));
    assert_true(strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
}

/* What a refusal's Date may correct, by table: only a Date that shows skew against the
 * signing time, within a day of the local clock, from 2000 to the signer's end. */
static void test_skew_judge_table(void **state)
{
    (void)state;
    const int64_t now = INT64_C(1764979200000); /* 2025-12-06T00:00:00Z */
    static const struct {
        bool have;
        int64_t server_s;
        int64_t signed_off_ms; /* signed at now + this */
        as_ddb_skew want;
        int64_t want_offset_ms;
    } cases[] = {
        {false, 0, 0, AS_DDB_SKEW_NO_DATE, 0},
        {true, AS_SIGV4_TIME_MAX, 0, AS_DDB_SKEW_TOO_FAR, 0}, /* 9999-12-31T23:59:59 */
        {true, AS_SIGV4_TIME_MAX + 1, 0, AS_DDB_SKEW_IMPLAUSIBLE, 0},
        {true, 0, 0, AS_DDB_SKEW_IMPLAUSIBLE, 0}, /* 1970 */
        {true, -86400, 0, AS_DDB_SKEW_IMPLAUSIBLE, 0},
        {true, AS_DDB_SKEW_DATE_MIN - 1, 0, AS_DDB_SKEW_IMPLAUSIBLE, 0},
        {true, 1764979200 + 60, 0, AS_DDB_SKEW_NOT_SHOWN, 0},  /* 1 min off */
        {true, 1764979200 - 240, 0, AS_DDB_SKEW_NOT_SHOWN, 0}, /* 4 min: the edge */
        {true, 1764979200 + 241, 0, AS_DDB_SKEW_FIX, 241000},
        {true, 1764979200 + 600, 0, AS_DDB_SKEW_FIX, 600000},    /* 10 min fast */
        {true, 1764979200 - 3600, 0, AS_DDB_SKEW_FIX, -3600000}, /* an hour slow */
        {true, 1764979200 + 86400, 0, AS_DDB_SKEW_FIX, 86400000},
        {true, 1764979200 + 86401, 0, AS_DDB_SKEW_TOO_FAR, 0},
        {true, 1764979200 - 86401, 0, AS_DDB_SKEW_TOO_FAR, 0},
        /* Signed with a wrong offset learnt earlier (23 h): a true Date replaces it. */
        {true, 1764979200, 23 * 3600 * 1000, AS_DDB_SKEW_FIX, 0},
        /* Signed with a right offset, and the Date agrees: nothing to fix. */
        {true, 1764979200 + 600, 600000, AS_DDB_SKEW_NOT_SHOWN, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t offset = 12345;
        as_ddb_skew got = as_ddb_skew_judge(cases[i].have, cases[i].server_s,
                                            now + cases[i].signed_off_ms, now, &offset);
        if (got != cases[i].want) {
            fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
        }
        assert_int_equal(offset, got == AS_DDB_SKEW_FIX ? cases[i].want_offset_ms : 12345);
        assert_true(got == AS_DDB_SKEW_FIX ? as_ddb_skew_note(got)[0] == '\0'
                                           : strstr(as_ddb_skew_note(got), "(") != NULL);
    }
}

/* One "Signature expired" with a hostile or useless Date corrects nothing and is not
 * retried; the item fails with a note saying why, and the next call still signs and
 * sends. Before the fix, the year 9999 made every later signing fail. */
static void test_skew_hostile_dates(void **state)
{
    (void)state;
    char one_minute[64];
    char day_and_more[64];
    char right_now[64];
    http_date(fault_real_ms() + 60 * 1000, one_minute, sizeof one_minute);
    http_date(fault_real_ms() - 25 * 3600 * 1000, day_and_more, sizeof day_and_more);
    http_date(fault_real_ms() + 10 * 60 * 1000, right_now, sizeof right_now);
    char twice[160];
    snprintf(twice, sizeof twice, "%s|%s", right_now, one_minute);
    const struct {
        const char *dates; /* the Date headers, '|' between two */
        const char *note;
    } cases[] = {
        {"Fri, 31 Dec 9999 23:59:59 GMT", "over 24 h from the local clock"},
        {"Thu, 01 Jan 1970 00:00:00 GMT", "before 2000 or after 9999"},
        {"Sat, 01 Jan 1999 00:00:00 GMT", "before 2000 or after 9999"},
        {"not a date at all", "no usable Date header"},
        {"", "no usable Date header"},
        {"1733443200", "no usable Date header"}, /* epoch seconds are not an HTTP date */
        {twice, "no usable Date header"},        /* two Dates: which is right? */
        {one_minute, "shows no clock skew"},
        {day_and_more, "over 24 h from the local clock"},
    };
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.max_attempts = 5;
    as_ddb_client *client = fault_server_ddb_client(&config);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char members[512];
        snprintf(members, sizeof members, "\"items\":{\"hd-0\":[\"expired_date:%s\"]}",
                 cases[i].dates);
        script(members);
        batch b;
        make_batch(&b, "hd-", 1);
        put(client, &b, 0);
        expect_failed(&b, 0, 1, "InvalidSignatureException", cases[i].note);
        assert_int_equal(b.stats.clock_corrections, 0);
        assert_int_equal(b.stats.stopped, AS_DDB_STOP_NONE);
        assert_int_equal(as_ddb_client_clock_offset_ms(client), 0);
        /* The client still signs and sends: the next call is written at once. */
        put(client, &b, 0);
        expect_written(&b, 0, 1);
        json_t *log = fault_server_log(&server);
        assert_int_equal(json_array_size(json_object_get(log, "requests")), 2);
        expect_signatures_ok(log);
        json_decref(log);
    }
    as_ddb_client_free(client);
}

/* A plausible 10-minute skew is corrected and retried once, and the retry is signed with
 * the corrected time; a wrong but plausible correction (23 h) is replaced as soon as the
 * real server refuses it, because skew is measured against the time a request was
 * signed with. */
static void test_skew_plausible_fix_and_repair(void **state)
{
    (void)state;
    char ahead[64];
    http_date(fault_real_ms() + 10 * 60 * 1000, ahead, sizeof ahead);
    char members[512];
    snprintf(members, sizeof members, "\"items\":{\"pf-0\":[\"expired_date:%s\",\"ok\"]}", ahead);
    script(members);
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "pf-", 1);
    put(client, &b, 0);
    expect_written(&b, 0, 2);
    assert_int_equal(b.stats.clock_corrections, 1);
    int64_t offset = as_ddb_client_clock_offset_ms(client);
    assert_true(offset > 600000 - 3000 && offset < 600000 + 1000);
    json_t *log = fault_server_log(&server);
    json_t *requests = json_object_get(log, "requests");
    assert_int_equal(json_array_size(requests), 2);
    char want[32];
    time_t t = (time_t)((fault_real_ms() + offset) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(want, sizeof want, "%Y%m%dT%H", &tm);
    /* The retry's X-Amz-Date carries the corrected hour (to the hour: no race). */
    const char *sent = header_of(json_array_get(requests, 1), "X-Amz-Date");
    assert_non_null(sent);
    assert_memory_equal(sent, want, 11);
    json_decref(log);

    /* A lie within bounds: 23 h ahead. Learnt, then the real server (which checks skew
     * and sends its own Date) refuses it and the offset goes back to about 0. */
    char lie[64];
    http_date(fault_real_ms() + 23 * 3600 * 1000, lie, sizeof lie);
    snprintf(members, sizeof members, "\"items\":{\"pf-0\":[\"expired_date:%s\",\"ok\"]}", lie);
    script(members);
    put(client, &b, 0);
    expect_written(&b, 0, 2);
    offset = as_ddb_client_clock_offset_ms(client);
    assert_true(offset > 23 * 3600 * 1000 - 3000);
    script("\"skew_check\":true");
    put(client, &b, 0);
    expect_written(&b, 0, 2);
    assert_int_equal(b.stats.clock_corrections, 1);
    offset = as_ddb_client_clock_offset_ms(client);
    assert_true(offset > -3000 && offset < 3000);
    put(client, &b, 0);
    expect_written(&b, 0, 1);
    as_ddb_client_free(client);
}

/* A clock frozen where the test puts it. */
static int64_t frozen_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* The offset can never stop signing: near the end of the signer's range, a correction
 * that was fine when learnt would push the signing time past 9999-12-31 a little later;
 * the client then signs with its own clock instead of failing every call. */
static void test_skew_never_stops_signing(void **state)
{
    (void)state;
    int64_t now = AS_SIGV4_TIME_MAX * 1000 - 10 * 60 * 1000; /* 9999-12-31T23:49:59 */
    script("\"items\":{\"ns-0\":[\"expired_date:Fri, 31 Dec 9999 23:59:59 GMT\",\"ok\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.clock = frozen_clock;
    config.clock_ctx = &now;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "ns-", 1);
    put(client, &b, 0);
    expect_written(&b, 0, 2);
    assert_int_equal(as_ddb_client_clock_offset_ms(client), 600000);
    now += 10 * 1000; /* clock + offset is now past the signer's range */
    put(client, &b, 0);
    expect_written(&b, 0, 1);
    assert_int_equal(b.stats.stopped, AS_DDB_STOP_NONE);
    assert_int_equal(as_ddb_client_clock_offset_ms(client), 0);
    json_t *log = fault_server_log(&server);
    json_t *requests = json_object_get(log, "requests");
    assert_int_equal(json_array_size(requests), 3);
    assert_string_equal(header_of(json_array_get(requests, 2), "X-Amz-Date"), "99991231T235009Z");
    json_decref(log);
    as_ddb_client_free(client);
}

/* Why a call stopped early is reported: a signing failure (an access key id the signer
 * refuses) leaves the items unsent with stats.stopped AS_DDB_STOP_SIGNING, and names
 * it in each item's message; nothing is sent. */
static void test_stop_reason(void **state)
{
    (void)state;
    script("");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "sr-", 3);
    const as_credentials bad = {{"AKID WITH SPACE", 15}, {SECRET, sizeof SECRET - 1}, {NULL, 0}};
    as_error err;
    assert_int_equal(
        as_ddb_put_items(client, &bad, TABLE, b.items, b.count, 0, b.results, &b.stats, &err),
        AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "signing item 0"));
    assert_int_equal(b.stats.stopped, AS_DDB_STOP_SIGNING);
    assert_int_equal(b.stats.not_attempted, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(b.results[i].outcome, AS_DDB_NOT_ATTEMPTED);
        assert_string_equal(b.results[i].message,
                            "not sent: the call stopped early (signing_failed)");
    }
    json_t *log = fault_server_log(&server);
    assert_int_equal(json_array_size(json_object_get(log, "requests")), 0);
    json_decref(log);
    assert_string_equal(as_ddb_stop_name(AS_DDB_STOP_DEADLINE), "deadline");
    assert_string_equal(as_ddb_stop_name(AS_DDB_STOP_NOMEM), "out_of_memory");
    assert_string_equal(as_ddb_stop_name(AS_DDB_STOP_NONE), "none");
    assert_string_equal(as_ddb_stop_name((as_ddb_stop)99), "unknown");

    /* The deadline: items never sent, stopped says so. */
    script("\"default\":\"delay:600\"");
    int64_t deadline = fault_real_ms() + 300;
    put(client, &b, deadline);
    assert_int_equal(b.stats.stopped, AS_DDB_STOP_DEADLINE);
    assert_int_equal(b.stats.not_attempted, 2);
    as_ddb_client_free(client);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_endpoint_table),
        cmocka_unit_test(test_ca_bundle_order),
        cmocka_unit_test(test_ca_check),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_skew_judge_table),
        cmocka_unit_test(test_parse_error_body),
        cmocka_unit_test(test_clean_message),
        cmocka_unit_test(test_clean_long_token),
        cmocka_unit_test(test_clean_authorization),
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_names),
    };
    const struct CMUnitTest wire[] = {
        cmocka_unit_test(test_client_ca_bundle),
        cmocka_unit_test(test_request_shape),
        cmocka_unit_test(test_throttles_then_success),
        cmocka_unit_test(test_server_errors_retried),
        cmocka_unit_test(test_reset_mid_response),
        cmocka_unit_test(test_stall_times_out),
        cmocka_unit_test(test_bad_crc_retried),
        cmocka_unit_test(test_skew_corrected_once),
        cmocka_unit_test(test_skew_retried_once_only),
        cmocka_unit_test(test_skew_hostile_dates),
        cmocka_unit_test(test_skew_plausible_fix_and_repair),
        cmocka_unit_test(test_skew_never_stops_signing),
        cmocka_unit_test(test_stop_reason),
        cmocka_unit_test(test_hostile_answers),
        cmocka_unit_test(test_bytes_after_the_body),
        cmocka_unit_test(test_not_retried),
        cmocka_unit_test(test_echoes_cleaned),
        cmocka_unit_test(test_last_attempt_reported),
        cmocka_unit_test(test_quota_exhausted),
        cmocka_unit_test(test_response_cap),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_concurrency_and_keepalive),
        cmocka_unit_test(test_backoff_does_not_block),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_no_spin_while_slots_busy),
        cmocka_unit_test(test_tls_verification),
    };
    int failed = cmocka_run_group_tests_name("ddb pure", pure, NULL, NULL);
    failed +=
        cmocka_run_group_tests_name("ddb against fault_server.py", wire, start_server, stop_server);
    return failed != 0;
}
