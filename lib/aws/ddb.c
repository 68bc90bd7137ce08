/* The DynamoDB client: endpoint and CA bundle resolution, and PutItem over a curl multi
 * handle with standard-mode retries. It reads no environment (see lib/lambda/config.c). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "auditstream/ddb.h"
#include "auditstream/ddb_read.h"
#include "auditstream/version.h"
#include "aws/arrays.h"
#include "aws/clock.h"
#include "aws/crc32.h"
#include "aws/curl_code.h"
#include "aws/ddb_call.h"
#include "aws/ddb_retry.h"
#include "aws/endpoint.h"
#include "aws/http_header.h"
#include "aws/wipe.h"
#include "core/internal.h"

#define CONTENT_TYPE "application/x-amz-json-1.0"
#define TARGET       "DynamoDB_20120810.PutItem"
#define USER_AGENT   "libauditstream/" AS_VERSION_STRING
#define TABLE_MAX    1024 /* a table name or ARN; DynamoDB's own limit is lower */

/* ---- configuration ------------------------------------------------------------------------ */

const char *const as_ddb_ca_paths[] = {
    "/etc/pki/tls/certs/ca-bundle.crt",                  /* Amazon Linux, RHEL, CentOS */
    "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu */
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* Fedora, RHEL 7+ */
    "/etc/ssl/ca-bundle.pem",                            /* openSUSE */
    "/etc/ssl/cert.pem",                                 /* Alpine */
    NULL,
};

as_status as_ddb_ca_bundle_find(const char *configured, const char *source, as_ddb_exists_fn exists,
                                void *ctx, const char **out, as_error *err)
{
    if (exists == NULL || out == NULL) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: exists and out are required"));
    }
    *out = NULL;
    if (configured != NULL && configured[0] != '\0') {
        if (!exists(configured, ctx)) {
            return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0,
                                        "ddb: %s names a CA bundle that is not a readable "
                                        "regular file: %.160s",
                                        source != NULL ? source : "ca_bundle", configured));
        }
        *out = configured;
        return AS_OK;
    }
    for (size_t i = 0; as_ddb_ca_paths[i] != NULL; i++) {
        if (exists(as_ddb_ca_paths[i], ctx)) {
            *out = as_ddb_ca_paths[i];
            return AS_OK;
        }
    }
    return AS_OK;
}

as_status as_ddb_ca_check(bool tls, const char *ca_bundle, const char *curl_cainfo,
                          const char *curl_capath, as_error *err)
{
    bool have_bundle = ca_bundle != NULL && ca_bundle[0] != '\0';
    bool curl_default = (curl_cainfo != NULL && curl_cainfo[0] != '\0') ||
                        (curl_capath != NULL && curl_capath[0] != '\0');
    if (!tls || have_bundle || curl_default) {
        return AS_OK;
    }
    size_t looked = 0;
    while (as_ddb_ca_paths[looked] != NULL) {
        looked++;
    }
    /* The message has room for the first path only; the header lists them all. */
    return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0,
                                "ddb: no CA bundle to verify https with: none configured "
                                "(AWS_CA_BUNDLE, SSL_CERT_FILE), none of the %zu system ones "
                                "found (%s, ...), and libcurl has no default CA file or path; "
                                "set AWS_CA_BUNDLE to a PEM file",
                                looked, as_ddb_ca_paths[0]));
}

/* A directory passes access(2) but fails every handshake after: only a regular file. */
static bool file_readable(const char *path, void *ctx)
{
    (void)ctx;
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

const char *as_ddb_stop_name(as_ddb_stop stop)
{
    switch (stop) {
    case AS_DDB_STOP_NONE: return "none";
    case AS_DDB_STOP_DEADLINE: return "deadline";
    case AS_DDB_STOP_SIGNING: return "signing_failed";
    case AS_DDB_STOP_NOMEM: return "out_of_memory";
    case AS_DDB_STOP_TRANSPORT: return "transport_failed";
    case AS_DDB_STOP_ARGUMENT: return "bad_argument";
    case AS_DDB_STOP_CALLER: return "stopped_by_caller";
    default: return "unknown";
    }
}

const char *as_ddb_outcome_name(as_ddb_outcome outcome)
{
    switch (outcome) {
    case AS_DDB_NOT_ATTEMPTED: return "not attempted";
    case AS_DDB_WRITTEN: return "written";
    case AS_DDB_FAILED: return "failed";
    case AS_DDB_ALREADY_THERE: return "already there";
    case AS_DDB_CONDITION_FAILED: return "condition failed";
    default: return "unknown";
    }
}

/* ---- the client --------------------------------------------------------------------------- */

/* One concurrent request: its easy handle (kept across calls), the request it sends and
 * what came back. */
typedef struct slot {
    CURL *easy;
    struct curl_slist *headers; /* holds the Authorization value: wiped when freed */
    as_buf body;
    as_buf response;
    as_sigv4_output sig;
    size_t cap; /* the response body cap */
    bool overflow;
    bool nomem; /* the response body could not grow */
    bool busy;
    size_t item;
    bool have_crc;
    bool crc_valid; /* false too when x-amz-crc32 came twice: which one was summed? */
    uint32_t crc;
    char date[64];
    unsigned date_count; /* Date headers seen: more than one makes the Date unusable */
    int64_t signed_ms;   /* the time the request was signed with (clock + offset) */
    char request_id[AS_DDB_REQUEST_ID_MAX];
    char errbuf[CURL_ERROR_SIZE];
} slot;

/* Per item, for one call. */
typedef struct item_state {
    uint32_t counted;   /* attempts that count against max_attempts */
    uint32_t last_cost; /* tokens the last retry took */
    bool skew_retried;  /* the one clock-fix retry is spent */
    bool skew_next;     /* the next attempt is that retry: it does not count */
} item_state;

typedef struct pending {
    size_t item;
    int64_t ready_at;
} pending;

struct as_ddb_client {
    CURLM *multi;
    slot *slots;
    size_t slot_count;
    as_sigv4_signer *signer;
    as_ddb_endpoint endpoint;
    char *region;
    char *ca_bundle;
    uint32_t max_attempts;
    uint32_t base_delay_ms;
    uint32_t max_backoff_ms;
    uint32_t attempt_timeout_ms;
    as_ddb_clock_fn clock;
    void *clock_ctx;
    as_ddb_random_fn random;
    void *random_ctx;
    uint64_t prng;
    int64_t clock_offset_ms;
    as_ddb_quota quota;
    size_t max_response; /* as_ddb_config.max_response_bytes, or its default */
    /* Per-call scratch, kept so that calls stop allocating once warm. */
    item_state *states;
    pending *pending;
    size_t state_cap;
    as_buf line;
};

/* splitmix64: jitter needs spread, not secrecy. */
static uint64_t default_random(void *ctx)
{
    as_ddb_client *client = ctx;
    client->prng += UINT64_C(0x9e3779b97f4a7c15);
    uint64_t z = client->prng;
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void free_headers(struct curl_slist *list)
{
    for (struct curl_slist *p = list; p != NULL; p = p->next) {
        OPENSSL_cleanse(p->data, strlen(p->data));
    }
    curl_slist_free_all(list);
}

static char *copy_string(const char *s)
{
    size_t len = strlen(s);
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, s, len + 1);
    }
    return copy;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    slot *s = userdata;
    size_t len = size * n;
    if (len > s->cap - s->response.len) {
        s->overflow = true;
        return 0;
    }
    as_buf_append(&s->response, data, len);
    if (as_buf_status(&s->response) != AS_OK) {
        s->nomem = true;
        return 0;
    }
    return len;
}

/* Copies a header value, trimmed, printable ASCII only, cut to fit. */
static void copy_header_value(as_span value, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < value.len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)value.ptr[i];
        out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
    slot *s = userdata;
    size_t len = size * n;
    if (as_http_header_is_status(data, len)) {
        /* A new response (after an interim one): forget the last one's headers. */
        s->have_crc = false;
        s->crc_valid = false;
        s->date[0] = '\0';
        s->date_count = 0;
        s->request_id[0] = '\0';
        return len;
    }
    as_span name;
    as_span value;
    if (!as_http_header_parse(data, len, &name, &value)) {
        return len;
    }
    if (as_http_header_name_is(name, "x-amz-crc32")) {
        s->crc_valid = !s->have_crc && as_ddb_parse_crc32(value, &s->crc);
        s->have_crc = true;
    } else if (as_http_header_name_is(name, "date")) {
        copy_header_value(value, s->date, sizeof s->date);
        s->date_count++;
    } else if (as_http_header_name_is(name, "x-amzn-requestid")) {
        copy_header_value(value, s->request_id, sizeof s->request_id);
    }
    return len;
}

/* Options that stay for the life of the handle. */
static bool setup_easy(as_ddb_client *client, slot *s, const as_ddb_config *config)
{
    CURL *e = s->easy;
    long connect_ms = config->connect_timeout_ms != 0 ? (long)config->connect_timeout_ms
                                                      : AS_DDB_DEFAULT_CONNECT_TIMEOUT_MS;
    bool ok = true;
    ok = ok && curl_easy_setopt(e, CURLOPT_URL, client->endpoint.url) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
                                client->endpoint.tls ? "https" : "http") == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_POST, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (client->ca_bundle != NULL) {
        ok = ok && curl_easy_setopt(e, CURLOPT_CAINFO, client->ca_bundle) == CURLE_OK;
    }
    ok = ok && curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) == CURLE_OK;
    /* No proxy from the environment: the library reads none of it. */
    ok = ok && curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_WRITEDATA, s) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_HEADERDATA, s) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf) == CURLE_OK;
    ok = ok && curl_easy_setopt(e, CURLOPT_PRIVATE, s) == CURLE_OK;
    return ok;
}

void as_ddb_client_free(as_ddb_client *client)
{
    if (client == NULL) {
        return;
    }
    for (size_t i = 0; i < client->slot_count; i++) {
        slot *s = &client->slots[i];
        if (s->easy != NULL) {
            if (s->busy) {
                curl_multi_remove_handle(client->multi, s->easy);
            }
            curl_easy_cleanup(s->easy);
        }
        free_headers(s->headers);
        as_buf_free(&s->body);
        /* An error answer may have echoed the session token or a signature. */
        as_buf_wipe_free(&s->response);
        as_sigv4_output_free(&s->sig);
    }
    free(client->slots);
    /* Closes the cached connections. */
    if (client->multi != NULL) {
        curl_multi_cleanup(client->multi);
    }
    as_sigv4_signer_free(client->signer);
    free(client->region);
    free(client->ca_bundle);
    free(client->states);
    free(client->pending);
    as_buf_wipe_free(&client->line);
    free(client);
}

static AS_RESULT check_config(const as_ddb_config *config, as_error *err)
{
    if (config->concurrency > AS_DDB_MAX_CONCURRENCY) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: concurrency %u is over %d",
                       (unsigned)config->concurrency, AS_DDB_MAX_CONCURRENCY);
    }
    if (config->max_attempts > AS_DDB_MAX_ATTEMPTS_LIMIT) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: max_attempts %u is over %d",
                       (unsigned)config->max_attempts, AS_DDB_MAX_ATTEMPTS_LIMIT);
    }
    if (config->attempt_timeout_ms > 24u * 3600 * 1000 ||
        config->connect_timeout_ms > 24u * 3600 * 1000) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: a timeout is over a day");
    }
    return AS_RESULT_OK;
}

static AS_RESULT client_init(as_ddb_client *client, const as_ddb_config *config, as_error *err)
{
    AS_GUARD(check_config(config, err));
    AS_GUARD_STATUS(
        as_ddb_endpoint_resolve(config->endpoint_url, config->region, &client->endpoint, err));
    const char *ca = NULL;
    AS_GUARD_STATUS(as_ddb_ca_bundle_find(config->ca_bundle, config->ca_bundle_source,
                                          file_readable, NULL, &ca, err));
    /* A libcurl built --without-ca-bundle --without-ca-path trusts nothing of its own:
     * one init error that says what to set beats a TlsError on every write. */
    const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
    AS_GUARD_STATUS(as_ddb_ca_check(client->endpoint.tls, ca, curl != NULL ? curl->cainfo : NULL,
                                    curl != NULL ? curl->capath : NULL, err));
    if (config->region == NULL || !as_ddb_region_ok(config->region)) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "ddb: region is empty, longer than 64 bytes, or holds a byte other "
                       "than a-z, 0-9 and '-'");
    }
    client->region = copy_string(config->region);
    if (ca != NULL) {
        client->ca_bundle = copy_string(ca);
    }
    if (client->region == NULL || (ca != NULL && client->ca_bundle == NULL)) {
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory copying the config");
    }

    client->max_attempts =
        config->max_attempts != 0 ? config->max_attempts : AS_DDB_DEFAULT_MAX_ATTEMPTS;
    client->base_delay_ms =
        config->base_delay_ms != 0 ? config->base_delay_ms : AS_DDB_DEFAULT_BASE_DELAY_MS;
    client->max_backoff_ms =
        config->max_backoff_ms != 0 ? config->max_backoff_ms : AS_DDB_DEFAULT_MAX_BACKOFF_MS;
    client->attempt_timeout_ms = config->attempt_timeout_ms != 0
                                     ? config->attempt_timeout_ms
                                     : AS_DDB_DEFAULT_ATTEMPT_TIMEOUT_MS;
    as_ddb_quota_init(&client->quota,
                      config->retry_quota != 0 ? config->retry_quota : AS_DDB_DEFAULT_RETRY_QUOTA);
    client->clock = config->clock != NULL ? config->clock : as_clock_realtime_ms;
    client->clock_ctx = config->clock != NULL ? config->clock_ctx : NULL;
    client->random = config->random != NULL ? config->random : default_random;
    client->random_ctx = config->random != NULL ? config->random_ctx : client;
    /* Jitter needs no cryptographic strength: getrandom(2) seeds it without paying for
     * OpenSSL's generator at start-up (about a millisecond of init on Lambda). */
    if (getrandom(&client->prng, sizeof client->prng, GRND_NONBLOCK) !=
        (ssize_t)sizeof client->prng) {
        client->prng = (uint64_t)as_clock_realtime_ms(NULL) ^ (uint64_t)(uintptr_t)client;
    }

    /* Room for a long session token up front: growing would leave copies of header lines
     * (the token, the Authorization value) behind in freed memory. */
    if (as_buf_reserve(&client->line, 4096) != AS_OK) {
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory for the header buffer");
    }
    client->signer = as_sigv4_signer_new();
    if (client->signer == NULL) {
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory making the SigV4 signer");
    }
    client->slot_count =
        config->concurrency != 0 ? config->concurrency : AS_DDB_DEFAULT_CONCURRENCY;
    client->multi = curl_multi_init();
    client->slots = calloc(client->slot_count, sizeof *client->slots);
    if (client->multi == NULL || client->slots == NULL) {
        client->slot_count = client->slots == NULL ? 0 : client->slot_count;
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory making the curl multi handle");
    }
    if (curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS, (long)client->slot_count) !=
            CURLM_OK ||
        curl_multi_setopt(client->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING) != CURLM_OK) {
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory setting up the curl multi handle");
    }
    size_t cap =
        config->max_response_bytes != 0 ? config->max_response_bytes : AS_DDB_DEFAULT_MAX_RESPONSE;
    client->max_response = cap;
    for (size_t i = 0; i < client->slot_count; i++) {
        slot *s = &client->slots[i];
        as_sigv4_output_init(&s->sig);
        s->cap = cap;
        s->easy = curl_easy_init();
        if (s->easy == NULL || !setup_easy(client, s, config)) {
            return as_fail(err, AS_ERR_NOMEM, 0,
                           "ddb: out of memory setting up curl easy handle %zu (or libcurl "
                           "without http, https or an option this client needs)",
                           i);
        }
    }
    return AS_RESULT_OK;
}

static AS_RESULT client_new(const as_ddb_config *config, as_ddb_client **out, as_error *err)
{
    if (out == NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: out is required");
    }
    *out = NULL;
    if (config == NULL) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: config is required");
    }
    as_ddb_client *client = calloc(1, sizeof *client);
    if (client == NULL) {
        return as_fail(err, AS_ERR_NOMEM, 0, "ddb: out of memory for the client");
    }
    as_result made = client_init(client, config, err);
    if (!as_result_is_ok(made)) {
        as_ddb_client_free(client);
        return made;
    }
    *out = client;
    return AS_RESULT_OK;
}

as_status as_ddb_client_new(const as_ddb_config *config, as_ddb_client **out, as_error *err)
{
    return as_status_of(client_new(config, out, err));
}

const as_ddb_endpoint *as_ddb_client_endpoint(const as_ddb_client *client)
{
    return client != NULL ? &client->endpoint : NULL;
}

const char *as_ddb_client_ca_bundle(const as_ddb_client *client)
{
    return client != NULL ? client->ca_bundle : NULL;
}

int64_t as_ddb_client_clock_offset_ms(const as_ddb_client *client)
{
    return client != NULL ? client->clock_offset_ms : 0;
}

uint32_t as_ddb_client_retry_tokens(const as_ddb_client *client)
{
    return client != NULL ? client->quota.tokens : 0;
}

/* ---- one call ----------------------------------------------------------------------------- */

typedef struct call {
    as_ddb_client *client;
    const as_credentials *credentials;
    const as_ddb_call_ops *ops;
    size_t cap; /* the response body cap for this call */
    size_t count;
    int64_t deadline_ms;
    as_ddb_result *results;
    as_ddb_stats stats;
    size_t next_new;      /* the first item never started */
    size_t pending_count; /* retries waiting for their backoff */
    size_t busy;          /* slots in flight */
    bool past_deadline;
    size_t deadline_cut; /* retries the deadline dropped */
    as_ddb_stop stop;    /* set where the call fails, before it returns */
    as_error *err;
    bool halted;      /* an `answered` hook stopped the call: by the caller, or failing */
    as_result halt;   /* why, when it failed */
} call;

static void set_text(char *out, size_t cap, const char *text)
{
    size_t len = strlen(text);
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(out, text, n);
    out[n] = '\0';
}

void as_ddb_set_text(char *out, size_t cap, const char *text)
{
    set_text(out, cap, text);
}

/* Appends `note` to the message, cutting the message to make room. */
static void add_note(as_ddb_result *result, const char *note)
{
    size_t note_len = strlen(note);
    size_t len = strlen(result->message);
    if (len + note_len + 1 > sizeof result->message) {
        len = sizeof result->message - note_len - 1;
    }
    memcpy(result->message + len, note, note_len + 1);
}

static void fail_item(call *c, size_t item, const char *note)
{
    c->results[item].outcome = AS_DDB_FAILED;
    if (note != NULL) {
        add_note(&c->results[item], note);
    }
}

/* A header line "Name: value" into the slot's list, through the client's line buffer
 * (wiped after: it may hold the Authorization value or the token). */
static bool add_header(as_ddb_client *client, struct curl_slist **list, as_span name, as_span value)
{
    as_buf *line = &client->line;
    as_buf_clear(line);
    as_buf_append_span(line, name);
    as_buf_append(line, ": ", 2);
    as_buf_append_span(line, value);
    if (as_buf_status(line) != AS_OK) {
        return false;
    }
    struct curl_slist *grown = curl_slist_append(*list, line->data);
    OPENSSL_cleanse(line->data, line->len);
    if (grown == NULL) {
        return false;
    }
    *list = grown;
    return true;
}

/* Signs at the local clock plus the learnt offset, remembering the time used. An offset
 * beyond AS_DDB_SKEW_MAX_MS (none is ever learnt), or one that takes the time outside
 * the signer's range, is dropped rather than applied: a signing failure it caused would
 * repeat on every call. */
static AS_RESULT sign_at(as_ddb_client *client, const as_sigv4_request *req,
                         as_sigv4_params *params, slot *s, int64_t now, as_error *err)
{
    int64_t offset = client->clock_offset_ms;
    int64_t sign_ms = now + offset;
    if (offset > AS_DDB_SKEW_MAX_MS || offset < -AS_DDB_SKEW_MAX_MS || sign_ms < 0 ||
        sign_ms / 1000 > AS_SIGV4_TIME_MAX) {
        client->clock_offset_ms = 0;
        sign_ms = now;
    }
    s->signed_ms = sign_ms;
    params->time = sign_ms > 0 ? sign_ms / 1000 : 0;
    AS_GUARD_STATUS(as_sigv4_sign(client->signer, req, params, &s->sig, err));
    return AS_RESULT_OK;
}

/* Builds, signs and starts one attempt for `item` in slot `s`. */
static AS_RESULT start_attempt(call *c, slot *s, size_t item)
{
    as_ddb_client *client = c->client;
    int64_t now = client->clock(client->clock_ctx);
    item_state *st = &client->states[item];

    as_buf_clear(&s->body);
    c->ops->build(c->ops->ctx, item, &s->body);
    if (as_buf_status(&s->body) != AS_OK) {
        return as_fail(c->err, AS_ERR_NOMEM, 0, "ddb: out of memory building item %zu", item);
    }

    as_span host = as_span_from_cstr(client->endpoint.host);
    as_sigv4_header signed_headers[3] = {
        {as_span_from_cstr("Content-Type"), as_span_from_cstr(CONTENT_TYPE)},
        {as_span_from_cstr("Host"), host},
        {as_span_from_cstr("X-Amz-Target"), as_span_from_cstr(c->ops->target)},
    };
    as_sigv4_request req = {
        as_span_from_cstr("POST"),           as_span_from_cstr("/"), {NULL, 0}, signed_headers, 3,
        (as_span){s->body.data, s->body.len}};
    as_sigv4_params params = {0};
    params.credentials = *c->credentials;
    params.region = as_span_from_cstr(client->region);
    params.service = as_span_from_cstr("dynamodb");
    as_error sign_err;
    as_result signed_ok = sign_at(client, &req, &params, s, now, &sign_err);
    if (!as_result_is_ok(signed_ok) && client->clock_offset_ms != 0) {
        /* The offset must never be what stops signing: drop it and use the local clock.
         * A real skew then shows again in DynamoDB's answer and is learnt afresh. */
        client->clock_offset_ms = 0;
        signed_ok = sign_at(client, &req, &params, s, now, &sign_err);
    }
    if (!as_result_is_ok(signed_ok)) {
        c->stop = sign_err.code == AS_ERR_NOMEM ? AS_DDB_STOP_NOMEM : AS_DDB_STOP_SIGNING;
        return as_fail(c->err, sign_err.code, 0, "ddb: signing item %zu: %s", item,
                       sign_err.message);
    }

    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, NULL);
    free_headers(s->headers);
    s->headers = NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < 3; i++) {
        ok = add_header(client, &s->headers, signed_headers[i].name, signed_headers[i].value);
    }
    for (size_t i = 0; ok && i < s->sig.header_count; i++) {
        ok = add_header(client, &s->headers, s->sig.headers[i].name, s->sig.headers[i].value);
    }
    /* identity: the body checked against x-amz-crc32 is the one DynamoDB summed. An empty
     * Expect stops curl's 100-continue wait; an empty Accept drops its default. */
    ok = ok && add_header(client, &s->headers, as_span_from_cstr("Accept-Encoding"),
                          as_span_from_cstr("identity"));
    ok = ok && add_header(client, &s->headers, as_span_from_cstr("Expect"), as_span_from_cstr(""));
    ok = ok && add_header(client, &s->headers, as_span_from_cstr("Accept"), as_span_from_cstr(""));
    if (!ok) {
        return as_fail(c->err, AS_ERR_NOMEM, 0, "ddb: out of memory for item %zu's headers", item);
    }

    long timeout = (long)client->attempt_timeout_ms;
    if (c->deadline_ms != 0 && c->deadline_ms - now < timeout) {
        timeout = c->deadline_ms - now > 1 ? (long)(c->deadline_ms - now) : 1;
    }
    as_buf_clear(&s->response);
    s->cap = c->cap;
    s->overflow = false;
    s->nomem = false;
    s->have_crc = false;
    s->crc_valid = false;
    s->date[0] = '\0';
    s->date_count = 0;
    s->request_id[0] = '\0';
    s->errbuf[0] = '\0';
    if (curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers) != CURLE_OK ||
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body.data) != CURLE_OK ||
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len) !=
            CURLE_OK ||
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK) {
        return as_fail(c->err, AS_ERR_NOMEM, 0, "ddb: cannot set item %zu's request", item);
    }
    CURLMcode mc = curl_multi_add_handle(client->multi, s->easy);
    if (mc != CURLM_OK) {
        c->stop = AS_DDB_STOP_TRANSPORT;
        return as_fail(c->err, AS_ERR_NOMEM, 0, "ddb: curl_multi_add_handle: %s",
                       curl_multi_strerror(mc));
    }
    s->busy = true;
    s->item = item;
    c->busy++;
    c->stats.requests++;
    c->results[item].attempts++;
    if (st->counted > 0 && !st->skew_next) {
        c->stats.retries++;
    }
    if (st->skew_next) {
        st->skew_next = false;
    } else {
        st->counted++;
    }
    return AS_RESULT_OK;
}

static as_ddb_fault fault_of(CURLcode code, const slot *s)
{
    switch (as_curl_classify(code)) {
    case AS_CURL_DONE: return AS_DDB_FAULT_NONE;
    case AS_CURL_TIMEOUT: return AS_DDB_FAULT_TIMEOUT;
    case AS_CURL_WRITE: return s->overflow ? AS_DDB_FAULT_TOO_LARGE : AS_DDB_FAULT_OTHER;
    case AS_CURL_CONNECTION: return AS_DDB_FAULT_CONNECTION;
    case AS_CURL_TLS: return AS_DDB_FAULT_TLS;
    case AS_CURL_OTHER:
    default: return AS_DDB_FAULT_OTHER;
    }
}

static void schedule(call *c, size_t item, int64_t ready_at)
{
    c->client->pending[c->pending_count++] = (pending){item, ready_at};
}

/* Whether `body` is {...} once blanks around it are skipped: PutItem's answer is a JSON
 * object ("{}" without ReturnValues); the check is for shape, not a full parse. */
static bool json_object_shaped(as_span body)
{
    size_t start = 0;
    size_t end = body.len;
    while (start < end && (body.ptr[start] == ' ' || body.ptr[start] == '\t' ||
                           body.ptr[start] == '\r' || body.ptr[start] == '\n')) {
        start++;
    }
    while (end > start && (body.ptr[end - 1] == ' ' || body.ptr[end - 1] == '\t' ||
                           body.ptr[end - 1] == '\r' || body.ptr[end - 1] == '\n')) {
        end--;
    }
    return end - start >= 2 && body.ptr[start] == '{' && body.ptr[end - 1] == '}';
}

/* Whether a JSON error body's "__type" names `name` (after its last '#'), read in place:
 * a known type needs neither parsing nor cleaning, so that it is recognised with no
 * memory to spare. Anything unusual (escapes, another shape) says no. */
static bool error_type_is(as_span body, const char *name)
{
    static const char KEY[] = "\"__type\"";
    size_t key_len = sizeof KEY - 1;
    size_t i = 0;
    while (i < body.len && (body.ptr[i] == ' ' || body.ptr[i] == '\n' || body.ptr[i] == '\r' ||
                            body.ptr[i] == '\t')) {
        i++;
    }
    if (i >= body.len || body.ptr[i] != '{') {
        return false;
    }
    i++;
    while (i < body.len && (body.ptr[i] == ' ' || body.ptr[i] == '\n' || body.ptr[i] == '\r' ||
                            body.ptr[i] == '\t')) {
        i++;
    }
    /* DynamoDB writes __type first. */
    if (body.len - i < key_len || memcmp(body.ptr + i, KEY, key_len) != 0) {
        return false;
    }
    i += key_len;
    while (i < body.len && (body.ptr[i] == ' ' || body.ptr[i] == ':')) {
        i++;
    }
    if (i >= body.len || body.ptr[i] != '"') {
        return false;
    }
    size_t start = ++i;
    size_t last_hash = start;
    while (i < body.len && body.ptr[i] != '"') {
        if (body.ptr[i] == '\\') {
            return false;
        }
        if (body.ptr[i] == '#') {
            last_hash = i + 1;
        }
        i++;
    }
    size_t name_len = strlen(name);
    return i < body.len && i - last_hash == name_len &&
           memcmp(body.ptr + last_hash, name, name_len) == 0;
}

/* Fills the result's error fields for a failed attempt. */
static void describe_failure(call *c, const slot *s, as_ddb_fault fault, CURLcode code, long status,
                             const char *type, const char *raw_message)
{
    as_ddb_result *r = &c->results[s->item];
    if (fault != AS_DDB_FAULT_NONE) {
        set_text(r->error_type, sizeof r->error_type, as_ddb_fault_type(fault));
        if (fault == AS_DDB_FAULT_CRC) {
            snprintf(r->message, sizeof r->message,
                     "x-amz-crc32 %s does not match the %zu-byte body",
                     s->crc_valid ? "value" : "header is malformed and", s->response.len);
        } else if (fault == AS_DDB_FAULT_TOO_LARGE) {
            snprintf(r->message, sizeof r->message, "response body over %zu bytes", s->cap);
        } else if (fault == AS_DDB_FAULT_BAD_BODY) {
            snprintf(r->message, sizeof r->message,
                     "HTTP %ld with a %zu-byte body that is not a JSON object", status,
                     s->response.len);
        } else {
            /* libcurl's own words name the host and the failing step, never a header. */
            as_ddb_clean_message(
                as_span_from_cstr(s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(code)),
                NULL, 0, r->message, sizeof r->message);
        }
        return;
    }
    if (type[0] != '\0') {
        set_text(r->error_type, sizeof r->error_type, type);
    } else {
        set_text(r->error_type, sizeof r->error_type, "HttpError");
    }
    /* Already cleaned whole by as_ddb_parse_error_body; this only cuts it to fit. */
    as_ddb_clean_message(as_span_from_cstr(raw_message), NULL, 0, r->message, sizeof r->message);
    if (r->message[0] == '\0') {
        snprintf(r->message, sizeof r->message, "HTTP %ld", status);
    }
}

/* A retry of `item` after standard mode's backoff, if its attempts and the quota allow;
 * else the item fails with its result as it stands. */
static void retry_later(call *c, size_t item, bool after_timeout, int64_t now)
{
    as_ddb_client *client = c->client;
    item_state *st = &client->states[item];
    if (st->counted >= client->max_attempts) {
        fail_item(c, item, NULL);
        return;
    }
    uint32_t cost = as_ddb_quota_acquire(&client->quota, after_timeout);
    if (cost == 0) {
        c->stats.quota_refusals++;
        fail_item(c, item, " (retry quota exhausted)");
        return;
    }
    st->last_cost = cost;
    uint32_t delay = as_ddb_backoff_ms(st->counted, client->base_delay_ms, client->max_backoff_ms,
                                       client->random(client->random_ctx));
    schedule(c, item, now + delay);
}

/* A 2xx JSON answer: the operation says what follows it. */
static void answered(call *c, const slot *s, int64_t now)
{
    size_t item = s->item;
    as_ddb_result *r = &c->results[item];
    as_ddb_next next = AS_DDB_NEXT_DONE;
    if (c->ops->answered != NULL) {
        as_result read = c->ops->answered(c->ops->ctx, item, (as_span){s->response.data,
                                                                        s->response.len},
                                          r, &next, c->err);
        if (!as_result_is_ok(read)) {
            c->halted = true;
            c->halt = read;
            c->stop = read.status == AS_ERR_NOMEM ? AS_DDB_STOP_NOMEM : AS_DDB_STOP_TRANSPORT;
            return;
        }
    }
    item_state *st = &c->client->states[item];
    switch (next) {
    case AS_DDB_NEXT_AGAIN:
        /* A new request: its own attempts and its own skew retry. */
        memset(st, 0, sizeof *st);
        schedule(c, item, now);
        return;
    case AS_DDB_NEXT_BACKOFF: retry_later(c, item, false, now); return;
    case AS_DDB_NEXT_FAIL: fail_item(c, item, NULL); return;
    case AS_DDB_NEXT_STOP:
        r->outcome = AS_DDB_ANSWERED;
        c->halted = true;
        c->stop = AS_DDB_STOP_CALLER;
        return;
    case AS_DDB_NEXT_DONE:
    default: r->outcome = AS_DDB_ANSWERED; return;
    }
}

/* What to do once an attempt has finished. */
static void finish_attempt(call *c, slot *s, CURLcode code)
{
    as_ddb_client *client = c->client;
    size_t item = s->item;
    as_ddb_result *r = &c->results[item];
    item_state *st = &client->states[item];
    int64_t now = client->clock(client->clock_ctx);

    if (s->nomem && c->ops->nomem_stops_call) {
        c->halted = true;
        c->halt = as_fail(c->err, AS_ERR_NOMEM, 0, "ddb: out of memory for a response body");
        c->stop = AS_DDB_STOP_NOMEM;
        return;
    }
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    r->http_status = status;
    /* Cleaned against every credential before anything is cut: DynamoDB's messages can
     * echo request parts, the session token among them, and a header is echoed as is. */
    const as_span secrets[3] = {c->credentials->session_token, c->credentials->secret_access_key,
                                c->credentials->access_key_id};
    as_ddb_clean_message(as_span_from_cstr(s->request_id), secrets, 3, r->request_id,
                         sizeof r->request_id);

    as_ddb_fault fault = fault_of(code, s);
    if (fault == AS_DDB_FAULT_NONE && s->have_crc &&
        (!s->crc_valid || as_crc32(0, s->response.data, s->response.len) != s->crc)) {
        fault = AS_DDB_FAULT_CRC;
    }
    /* Only DynamoDB's own JSON answer counts as written, never whatever said 200. */
    if (fault == AS_DDB_FAULT_NONE && status >= 200 && status <= 299 &&
        !json_object_shaped((as_span){s->response.data, s->response.len})) {
        fault = AS_DDB_FAULT_BAD_BODY;
    }
    if (c->ops->if_absent && fault == AS_DDB_FAULT_NONE && status == 400 &&
        error_type_is((as_span){s->response.data, s->response.len},
                      "ConditionalCheckFailedException")) {
        /* The item is there: what a write only where absent was for, not a failure. */
        r->outcome = AS_DDB_ALREADY_THERE;
        r->error_type[0] = '\0';
        r->message[0] = '\0';
        return;
    }
    char type[AS_DDB_ERROR_TYPE_MAX] = "";
    char raw_message[1024] = "";
    if (fault == AS_DDB_FAULT_NONE && (status < 200 || status > 299)) {
        as_ddb_parse_error_body((as_span){s->response.data, s->response.len}, secrets, 3, type,
                                sizeof type, raw_message, sizeof raw_message);
    }
    as_ddb_verdict verdict = as_ddb_classify(fault, status, type, raw_message);

    switch (fault) {
    case AS_DDB_FAULT_CONNECTION: c->stats.connection_errors++; break;
    case AS_DDB_FAULT_TIMEOUT: c->stats.timeouts++; break;
    case AS_DDB_FAULT_CRC: c->stats.crc_mismatches++; break;
    case AS_DDB_FAULT_NONE:
        if (status >= 500) {
            c->stats.server_errors++;
        }
        break;
    case AS_DDB_FAULT_TLS:
    case AS_DDB_FAULT_TOO_LARGE:
    case AS_DDB_FAULT_BAD_BODY:
    case AS_DDB_FAULT_OTHER:
    default: break;
    }
    if (verdict == AS_DDB_RETRY_THROTTLE) {
        c->stats.throttles++;
    }

    if (verdict == AS_DDB_SUCCESS) {
        as_ddb_quota_release(&client->quota, st->last_cost);
        r->error_type[0] = '\0';
        r->message[0] = '\0';
        answered(c, s, now);
        return;
    }
    describe_failure(c, s, fault, code, status, type, raw_message);

    switch (verdict) {
    case AS_DDB_FIX_CLOCK: {
        if (st->skew_retried) {
            fail_item(c, item, " (clock already corrected once)");
            return;
        }
        time_t server = s->date_count == 1 ? curl_getdate(s->date, NULL) : (time_t)-1;
        int64_t offset = 0;
        as_ddb_skew skew =
            as_ddb_skew_judge(server != (time_t)-1, (int64_t)server, s->signed_ms, now, &offset);
        if (skew != AS_DDB_SKEW_FIX) {
            fail_item(c, item, as_ddb_skew_note(skew));
            return;
        }
        client->clock_offset_ms = offset;
        c->stats.clock_corrections++;
        st->skew_retried = true;
        st->skew_next = true;
        schedule(c, item, now);
        return;
    }
    case AS_DDB_RETRY_THROTTLE:
    case AS_DDB_RETRY_TRANSIENT:
    case AS_DDB_RETRY_TIMEOUT: retry_later(c, item, verdict == AS_DDB_RETRY_TIMEOUT, now); return;
    case AS_DDB_SUCCESS:
    case AS_DDB_GIVE_UP:
    default: fail_item(c, item, NULL); return;
    }
}

/* Starts what can start: ready retries first (earliest first), then new items. */
static AS_RESULT start_ready(call *c)
{
    as_ddb_client *client = c->client;
    int64_t now = client->clock(client->clock_ctx);
    if (c->deadline_ms != 0 && now >= c->deadline_ms) {
        /* Retries scheduled by attempts that ended after the deadline end here too. */
        c->past_deadline = true;
        c->deadline_cut += c->pending_count;
        for (size_t i = 0; i < c->pending_count; i++) {
            fail_item(c, client->pending[i].item, " (deadline reached before retry)");
        }
        c->pending_count = 0;
        return AS_RESULT_OK;
    }
    for (size_t k = 0; k < client->slot_count; k++) {
        slot *s = &client->slots[k];
        if (s->busy) {
            continue;
        }
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < c->pending_count; i++) {
            if (client->pending[i].ready_at <= now &&
                (best == SIZE_MAX ||
                 client->pending[i].ready_at < client->pending[best].ready_at)) {
                best = i;
            }
        }
        size_t item;
        if (best != SIZE_MAX) {
            item = client->pending[best].item;
            client->pending[best] = client->pending[--c->pending_count];
        } else if (c->next_new < c->count) {
            item = c->next_new++;
        } else {
            break;
        }
        AS_GUARD(start_attempt(c, s, item));
    }
    return AS_RESULT_OK;
}

/* Reads finished transfers; true when any finished. */
static bool drain(call *c)
{
    as_ddb_client *client = c->client;
    bool any = false;
    int left = 0;
    for (;;) {
        CURLMsg *msg = curl_multi_info_read(client->multi, &left);
        if (msg == NULL) {
            break;
        }
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        slot *s = (slot *)(void *)priv;
        curl_multi_remove_handle(client->multi, easy);
        s->busy = false;
        c->busy--;
        finish_attempt(c, s, code);
        any = true;
        if (c->halted) {
            break;
        }
    }
    return any;
}

/* How long to wait for sockets: until the next retry is due or the deadline, at most 1 s
 * (libcurl shortens it further for its own timers). */
static int wait_ms(const call *c)
{
    const as_ddb_client *client = c->client;
    int64_t now = client->clock(client->clock_ctx);
    int64_t wait = 1000;
    /* A due retry with every slot busy waits for a transfer to end, which wakes the
     * poll: counting it here would spin. */
    size_t due_count = c->busy < client->slot_count ? c->pending_count : 0;
    for (size_t i = 0; i < due_count; i++) {
        int64_t due = client->pending[i].ready_at - now;
        if (due < wait) {
            wait = due;
        }
    }
    if (c->deadline_ms != 0 && !c->past_deadline && c->deadline_ms - now < wait) {
        wait = c->deadline_ms - now;
    }
    return wait > 0 ? (int)wait : 0;
}

/* Stops whatever is in flight after a failure of the call itself. */
static void abort_call(call *c)
{
    as_ddb_client *client = c->client;
    for (size_t k = 0; k < client->slot_count; k++) {
        slot *s = &client->slots[k];
        if (s->busy) {
            curl_multi_remove_handle(client->multi, s->easy);
            s->busy = false;
            set_text(c->results[s->item].error_type, AS_DDB_ERROR_TYPE_MAX, "TransportError");
            set_text(c->results[s->item].message, AS_DDB_MESSAGE_MAX,
                     "the call stopped before this attempt finished");
            c->results[s->item].outcome = AS_DDB_FAILED;
        }
    }
    c->busy = 0;
    for (size_t i = 0; i < c->pending_count; i++) {
        fail_item(c, client->pending[i].item, " (the call stopped before the retry)");
    }
    c->pending_count = 0;
}

/* Leaves no Authorization value or token in memory between calls. */
static void scrub_slots(as_ddb_client *client)
{
    for (size_t k = 0; k < client->slot_count; k++) {
        slot *s = &client->slots[k];
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, NULL);
        free_headers(s->headers);
        s->headers = NULL;
        as_sigv4_output_free(&s->sig);
    }
}

/* The caller stopped the call from a page: what is in flight or waiting is dropped, each
 * left as it was (not failed: nobody wants its answer now). */
static void stop_for_caller(call *c)
{
    as_ddb_client *client = c->client;
    for (size_t k = 0; k < client->slot_count; k++) {
        slot *s = &client->slots[k];
        if (s->busy) {
            curl_multi_remove_handle(client->multi, s->easy);
            s->busy = false;
            set_text(c->results[s->item].message, AS_DDB_MESSAGE_MAX,
                     "not finished: the caller stopped the call");
        }
    }
    c->busy = 0;
    for (size_t i = 0; i < c->pending_count; i++) {
        set_text(c->results[client->pending[i].item].message, AS_DDB_MESSAGE_MAX,
                 "not finished: the caller stopped the call");
    }
    c->pending_count = 0;
}

static AS_RESULT run_call(call *c)
{
    as_ddb_client *client = c->client;
    for (;;) {
        if (c->halted) {
            if (c->stop == AS_DDB_STOP_CALLER) {
                stop_for_caller(c);
                return AS_RESULT_OK;
            }
            return c->halt;
        }
        AS_GUARD(start_ready(c));
        bool more = !c->past_deadline && (c->pending_count > 0 || c->next_new < c->count);
        if (c->busy == 0 && !more) {
            return AS_RESULT_OK;
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(client->multi, &running);
        if (mc != CURLM_OK) {
            c->stop = AS_DDB_STOP_TRANSPORT;
            return as_fail(c->err, AS_ERR_NOMEM, 0, "ddb: curl_multi_perform: %s",
                           curl_multi_strerror(mc));
        }
        if (drain(c)) {
            continue;
        }
        mc = curl_multi_poll(client->multi, NULL, 0, wait_ms(c), NULL);
        if (mc != CURLM_OK) {
            c->stop = AS_DDB_STOP_TRANSPORT;
            return as_fail(c->err, AS_ERR_NOMEM, 0, "ddb: curl_multi_poll: %s",
                           curl_multi_strerror(mc));
        }
    }
}

static AS_RESULT check_call(as_ddb_client *client, const as_credentials *credentials,
                            const char *table, const as_span *items, size_t count,
                            as_ddb_result *results, as_error *err)
{
    if (client == NULL || credentials == NULL || table == NULL ||
        (count > 0 && (items == NULL || results == NULL))) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "ddb: client, credentials, table, items and results are required");
    }
    size_t table_len = strlen(table);
    if (table_len == 0 || table_len > TABLE_MAX) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: table name is empty or over %d bytes",
                       TABLE_MAX);
    }
    for (size_t i = 0; i < count; i++) {
        if (items[i].ptr == NULL || items[i].len < 2 || items[i].ptr[0] != '{' ||
            items[i].ptr[items[i].len - 1] != '}') {
            return as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: item %zu is not a JSON object", i);
        }
    }
    return AS_RESULT_OK;
}

static AS_RESULT reserve_states(as_ddb_client *client, size_t count, as_error *err)
{
    void *states = client->states;
    void *pending_items = client->pending;
    as_result grown =
        as_grow_pair(&states, sizeof *client->states, &pending_items, sizeof *client->pending,
                     &client->state_cap, count, err, "for the DynamoDB call's item states");
    client->states = states;
    client->pending = pending_items;
    return grown;
}

as_result as_ddb_call_run(as_ddb_client *client, const as_credentials *credentials,
                          const as_ddb_call_ops *ops, size_t count, int64_t deadline_ms,
                          as_ddb_result *results, as_ddb_stats *stats, as_error *err)
{
    if (stats != NULL) {
        memset(stats, 0, sizeof *stats);
    }
    if (count > 0) {
        memset(results, 0, count * sizeof *results);
    }
    as_result reserved = reserve_states(client, count, err);
    if (!as_result_is_ok(reserved)) {
        if (stats != NULL) {
            stats->stopped = AS_DDB_STOP_NOMEM;
            stats->not_attempted = count;
        }
        return reserved;
    }
    if (count > 0) {
        memset(client->states, 0, count * sizeof *client->states);
    }

    call c = {0};
    c.client = client;
    c.credentials = credentials;
    c.ops = ops;
    c.cap = ops->max_response_bytes != 0 ? ops->max_response_bytes : client->max_response;
    c.count = count;
    c.deadline_ms = deadline_ms;
    c.results = results;
    as_error local = {0};
    c.err = err != NULL ? err : &local;
    as_result ran = run_call(&c);
    as_status status = as_status_of(ran);
    if (status != AS_OK) {
        abort_call(&c);
        if (c.stop == AS_DDB_STOP_NONE) {
            c.stop = status == AS_ERR_NOMEM ? AS_DDB_STOP_NOMEM : AS_DDB_STOP_TRANSPORT;
        }
    }
    scrub_slots(client);
    for (size_t i = 0; i < count; i++) {
        switch (results[i].outcome) {
        case AS_DDB_WRITTEN: c.stats.written++; break;
        case AS_DDB_FAILED: c.stats.failed++; break;
        case AS_DDB_ALREADY_THERE: c.stats.already_there++; break;
        case AS_DDB_NOT_ATTEMPTED:
        default:
            c.stats.not_attempted++;
            if (status != AS_OK) {
                snprintf(results[i].message, sizeof results[i].message,
                         "not sent: the call stopped early (%s)", as_ddb_stop_name(c.stop));
            } else if (c.past_deadline) {
                set_text(results[i].message, sizeof results[i].message,
                         "deadline reached before the first attempt");
            }
            break;
        }
    }
    if (status == AS_OK && c.past_deadline && (c.stats.not_attempted > 0 || c.deadline_cut > 0)) {
        c.stop = AS_DDB_STOP_DEADLINE;
    }
    c.stats.stopped = c.stop;
    if (stats != NULL) {
        *stats = c.stats;
    }
    return ran;
}

/* PutItem's body: the table, the item, and for a write only where absent its condition. */
typedef struct put_call {
    const char *table;
    const as_span *items;
    bool if_absent;
} put_call;

static void build_put(void *ctx, size_t item, as_buf *body)
{
    const put_call *p = ctx;
    as_buf_append_str(body, "{\"TableName\":\"");
    as_buf_append_json_escaped(body, p->table, strlen(p->table));
    as_buf_append_str(body, "\",\"Item\":");
    as_buf_append_span(body, p->items[item]);
    if (p->if_absent) {
        as_buf_append_str(body, ",\"ConditionExpression\":\"attribute_not_exists(id)\"");
    }
    as_buf_append_char(body, '}');
}

static as_status put_items(as_ddb_client *client, const as_credentials *credentials,
                           const char *table, const as_span *items, size_t count,
                           int64_t deadline_ms, as_ddb_result *results, as_ddb_stats *stats,
                           bool if_absent, as_error *err)
{
    if (stats != NULL) {
        memset(stats, 0, sizeof *stats);
    }
    as_result checked = check_call(client, credentials, table, items, count, results, err);
    if (!as_result_is_ok(checked)) {
        if (stats != NULL) {
            stats->stopped = AS_DDB_STOP_ARGUMENT;
        }
        return as_status_of(checked);
    }
    put_call p = {table, items, if_absent};
    as_ddb_call_ops ops = {0};
    ops.target = TARGET;
    ops.if_absent = if_absent;
    /* put_items keeps its old way; the new call says out of memory as the reads do. */
    ops.nomem_stops_call = if_absent;
    ops.build = build_put;
    ops.ctx = &p;
    return as_status_of(
        as_ddb_call_run(client, credentials, &ops, count, deadline_ms, results, stats, err));
}

as_status as_ddb_put_items(as_ddb_client *client, const as_credentials *credentials,
                           const char *table, const as_span *items, size_t count,
                           int64_t deadline_ms, as_ddb_result *results, as_ddb_stats *stats,
                           as_error *err)
{
    return put_items(client, credentials, table, items, count, deadline_ms, results, stats, false,
                     err);
}

as_status as_ddb_put_items_if_absent(as_ddb_client *client, const as_credentials *credentials,
                                     const char *table, const as_span *items, size_t count,
                                     int64_t deadline_ms, as_ddb_result *results,
                                     as_ddb_stats *stats, as_error *err)
{
    return put_items(client, credentials, table, items, count, deadline_ms, results, stats, true,
                     err);
}
