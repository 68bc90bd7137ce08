/* Benchmark of the hash chain's cost: one 100-record invocation (as_batch_process) with
 * AUDIT_CHAIN off and on, against a loopback DynamoDB that answers every request after 5 ms. */
#include <auditstream.h>
#include <auditstream/batch.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

#define EVENT_PATH  "events/bench-1000-mixed.json"
#define RECORDS     100u
#define RECORDS_ALL 1000u /* the whole event, once: how long the anchor line can grow */
#define DELAY_US    5000u
#define CONCURRENCY 8u  /* AUDIT_CONCURRENCY's default */
#define MIN_CALLS   11u /* per case, whatever --time and --rounds say */
#define TABLE       "Audit"

/* ---- the endpoint: a thread per kept-alive connection, every answer after `delay_us` ----- */

enum { T_PUT, T_PUT_IF, T_BATCH_GET, T_BATCH_WRITE, T_OTHER, T_COUNT };

typedef struct server {
    int fd;
    unsigned port;
    unsigned delay_us;
    atomic_uint_fast64_t counts[T_COUNT];
    atomic_uint_fast64_t connections;
} server;

typedef struct conn {
    server *srv;
    int fd;
} conn;

/* CRC-32 (IEEE, as x-amz-crc32), bit by bit: the bodies are a few dozen bytes. */
static uint32_t crc32_ieee(const char *data, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned char)data[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return crc ^ 0xFFFFFFFFu;
}

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static const char *header_value(const char *head, size_t head_len, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = head; line < head + head_len;) {
        const char *eol = memchr(line, '\n', (size_t)(head + head_len - line));
        if (eol == NULL) {
            break;
        }
        if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ') {
                v++;
            }
            return v;
        }
        line = eol + 1;
    }
    return NULL;
}

static bool contains(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* An answer with its x-amz-crc32, written into `out` (at least 512 bytes). */
static size_t answer(char *out, size_t cap, int status, const char *body)
{
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
                     "Content-Length: %zu\r\nx-amz-crc32: %lu\r\n"
                     "x-amzn-RequestId: BENCHCHAIN00000000000000000000000000000000000000000\r\n"
                     "\r\n%s",
                     status, status == 200 ? "OK" : "Bad Request", strlen(body),
                     (unsigned long)crc32_ieee(body, strlen(body)), body);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* PutItem, conditional or not: {}. BatchGetItem: no head exists yet, so that every call
 * is a fresh chain for every key and makes the same requests (a real table would skip a
 * repeated batch as a redelivery). Anything else, or a request not signed: 400. */
static void *serve_connection(void *arg)
{
    conn *c = arg;
    server *srv = c->srv;
    int fd = c->fd;
    free(c);
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    char put[512];
    char get[512];
    char bad[512];
    char bw[512];
    size_t bw_len = answer(bw, sizeof bw, 200, "{\"UnprocessedItems\":{}}");
    size_t put_len = answer(put, sizeof put, 200, "{}");
    size_t get_len =
        answer(get, sizeof get, 200, "{\"Responses\":{\"" TABLE "\":[]},\"UnprocessedKeys\":{}}");
    size_t bad_len = answer(bad, sizeof bad, 400,
                            "{\"__type\":\"com.amazon.coral.validate#ValidationException\"}");
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    size_t used = 0;
    while (buf != NULL) {
        char *end = NULL;
        for (size_t i = 0; i + 4 <= used; i++) {
            if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
                end = buf + i;
                break;
            }
        }
        if (end == NULL) {
            if (used == cap) {
                break;
            }
            ssize_t n = recv(fd, buf + used, cap - used, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            used += (size_t)n;
            continue;
        }
        size_t head_len = (size_t)(end - buf) + 4;
        const char *cl = header_value(buf, head_len, "Content-Length");
        size_t body_len = cl != NULL ? strtoul(cl, NULL, 10) : 0;
        if (body_len > cap - head_len) {
            break;
        }
        while (used < head_len + body_len) {
            ssize_t n = recv(fd, buf + used, cap - used, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                goto done;
            }
            used += (size_t)n;
        }
        const char *target = header_value(buf, head_len, "X-Amz-Target");
        const char *auth = header_value(buf, head_len, "Authorization");
        bool signed_ok = auth != NULL && strncmp(auth, "AWS4-HMAC-SHA256 ", 17) == 0;
        int kind = T_OTHER;
        if (signed_ok && target != NULL && strncmp(target, "DynamoDB_20120810.PutItem", 25) == 0) {
            kind = contains(buf + head_len, body_len, "\"ConditionExpression\"") ? T_PUT_IF : T_PUT;
        } else if (signed_ok && target != NULL &&
                   strncmp(target, "DynamoDB_20120810.BatchGetItem", 30) == 0) {
            kind = T_BATCH_GET;
        } else if (signed_ok && target != NULL &&
                   strncmp(target, "DynamoDB_20120810.BatchWriteItem", 32) == 0) {
            kind = T_BATCH_WRITE;
        }
        if (srv->delay_us > 0) {
            sleep_us(srv->delay_us);
        }
        atomic_fetch_add(&srv->counts[kind], 1);
        bool sent = kind == T_BATCH_GET     ? write_all(fd, get, get_len)
                    : kind == T_BATCH_WRITE ? write_all(fd, bw, bw_len)
                    : kind == T_OTHER       ? write_all(fd, bad, bad_len)
                                            : write_all(fd, put, put_len);
        if (!sent) {
            break;
        }
        memmove(buf, buf + head_len + body_len, used - head_len - body_len);
        used -= head_len + body_len;
    }
done:
    free(buf);
    close(fd);
    return NULL;
}

static void *accept_loop(void *arg)
{
    server *srv = arg;
    for (;;) {
        int fd = accept(srv->fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            return NULL;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = malloc(sizeof *c);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        if (c == NULL) {
            close(fd);
            pthread_attr_destroy(&attr);
            continue;
        }
        c->srv = srv;
        c->fd = fd;
        if (pthread_create(&t, &attr, serve_connection, c) != 0) {
            free(c);
            close(fd);
        } else {
            atomic_fetch_add(&srv->connections, 1);
        }
        pthread_attr_destroy(&attr);
    }
}

static int server_start(server *srv, unsigned delay_us)
{
    memset(srv, 0, sizeof *srv);
    srv->delay_us = delay_us;
    srv->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv->fd < 0) {
        perror("bench_chain: socket");
        return -1;
    }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(srv->fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(srv->fd, 128) != 0 ||
        getsockname(srv->fd, (struct sockaddr *)&addr, &len) != 0) {
        perror("bench_chain: bind");
        close(srv->fd);
        return -1;
    }
    srv->port = ntohs(addr.sin_port);
    pthread_t t;
    if (pthread_create(&t, NULL, accept_loop, srv) != 0) {
        fputs("bench_chain: cannot start the endpoint's thread\n", stderr);
        close(srv->fd);
        return -1;
    }
    pthread_detach(t);
    return 0;
}

/* ---- the events ------------------------------------------------------------------------- */

/* The first `records` records of the benchmark event as a payload of their own. With `keys`
 * > 0 the records are spread over that many source items (record i's key becomes
 * "bench-key-<i % keys>"), which sets how many heads a batch moves; 0 keeps their keys. */
static char *payload_of(json_t *event, size_t records, size_t keys, size_t *len)
{
    json_t *all = json_object_get(event, "Records");
    json_t *some = json_array();
    if (!json_is_array(all) || json_array_size(all) < records || some == NULL) {
        json_decref(some);
        return NULL;
    }
    for (size_t i = 0; i < records; i++) {
        json_t *r = json_deep_copy(json_array_get(all, i));
        if (r == NULL) {
            json_decref(some);
            return NULL;
        }
        if (keys > 0) {
            char name[32];
            snprintf(name, sizeof name, "bench-key-%zu", i % keys);
            json_t *ddb = json_object_get(r, "dynamodb");
            json_t *value = json_pack("{s:s}", "S", name);
            json_t *key = json_pack("{s:o}", "key", value);
            json_object_set_new(ddb, "Keys", key);
            /* The images hold the key attribute too: keep them consistent with Keys. */
            json_t *img = json_object_get(ddb, "NewImage");
            if (json_is_object(img)) {
                json_object_set_new(img, "key", json_pack("{s:s}", "S", name));
            }
            img = json_object_get(ddb, "OldImage");
            if (json_is_object(img)) {
                json_object_set_new(img, "key", json_pack("{s:s}", "S", name));
            }
        }
        json_array_append_new(some, r);
    }
    json_t *doc = json_pack("{s:o}", "Records", some);
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text != NULL) {
        *len = strlen(text);
    }
    return text;
}

static size_t distinct_keys(json_t *event, size_t records)
{
    json_t *all = json_object_get(event, "Records");
    json_t *seen = json_object();
    for (size_t i = 0; i < records && seen != NULL; i++) {
        json_t *keys = json_object_get(json_object_get(json_array_get(all, i), "dynamodb"), "Keys");
        char *text = json_dumps(keys, JSON_COMPACT | JSON_SORT_KEYS);
        if (text != NULL) {
            json_object_set_new(seen, text, json_true());
            free(text);
        }
    }
    size_t n = json_object_size(seen);
    json_decref(seen);
    return n;
}

/* ---- the cases ---------------------------------------------------------------------------- */

typedef struct bench_case {
    const char *label;
    bool chain;
    as_ddb_write_api write_api;
    size_t keys; /* source items in the batch */
    char *payload;
    size_t payload_len;
    as_ddb_client *client;
    as_batch *batch;
    double *times;
    double *cpu; /* the calling thread's CPU seconds per call */
    size_t calls;
    size_t cap;
    double total;
    uint64_t counts[T_COUNT]; /* requests of the measured calls, by kind */
    as_batch_stats stats;     /* the last call's */
    size_t anchor_bytes;      /* the last call's `chain heads` line, newline included */
    size_t log_lines;
} bench_case;

static const as_credentials creds = {
    {"ASIABENCHCHAIN000000", 20},
    {"benchChainSecretKey0000000000000000000000", 40},
    {"IQoJb3JpZ2luX2VjEBenchChainSessionToken", 39},
};

static int case_open(bench_case *k, server *srv)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", srv->port);
    as_ddb_config config = {0};
    config.region = "us-east-1";
    config.endpoint_url = url;
    config.concurrency = CONCURRENCY;
    as_error err = {0};
    if (as_ddb_client_new(&config, &k->client, &err) != AS_OK) {
        fprintf(stderr, "bench_chain: as_ddb_client_new: %s\n", err.message);
        return -1;
    }
    as_batch_options options = {0};
    options.table = TABLE;
    options.format = AS_FORMAT_CLASSIC;
    options.chain = k->chain;
    options.write_api = k->write_api;
    if (as_batch_new(k->client, &creds, &options, &k->batch, &err) != AS_OK) {
        fprintf(stderr, "bench_chain: as_batch_new: %s\n", err.message);
        return -1;
    }
    return 0;
}

static void case_close(bench_case *k)
{
    as_batch_free(k->batch);
    as_ddb_client_free(k->client);
    free(k->times);
    free(k->cpu);
    free(k->payload);
}

/* The length of the log's `chain heads` line (JSON lines), 0 when there is none. */
static size_t anchor_line(const as_buf *log, size_t *lines)
{
    const char *p = log->data;
    const char *end = log->data + log->len;
    size_t found = 0;
    *lines = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol != NULL ? eol + 1 : end;
        (*lines)++;
        if (contains(p, (size_t)(stop - p), "\"message\":\"chain heads\"")) {
            found = (size_t)(stop - p);
        }
        p = stop;
    }
    return found;
}

/* One invocation; every record must be written. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int one_call(bench_case *k, server *srv, as_buf *log_out, double *wall, double *cpu)
{
    as_log log = {0};
    log.format = AS_LOG_FORMAT_JSON;
    log.level = AS_LOG_INFO;
    log.service = (as_span){"audit_producer", 14};
    log.function_name = (as_span){"audit_producer", 14};
    log.request_id = (as_span){"bench-chain-request", 19};
    as_buf_clear(log_out);
    as_batch_result result;
    as_error err = {0};
    uint64_t before[T_COUNT];
    for (int t = 0; t < T_COUNT; t++) {
        before[t] = atomic_load(&srv->counts[t]);
    }
    uint64_t c0 = thread_cpu_ns();
    uint64_t t0 = bench_now_ns();
    as_status st = as_batch_process(k->batch, (as_span){k->payload, k->payload_len}, 0, &log,
                                    log_out, &result, &err);
    uint64_t t1 = bench_now_ns();
    uint64_t c1 = thread_cpu_ns();
    if (st != AS_OK || result.outcome != AS_BATCH_COMPLETE) {
        fprintf(stderr, "bench_chain: %s: %s %s %s\n", k->label,
                st != AS_OK ? err.message : as_batch_outcome_name(result.outcome),
                result.error_type, result.error_message);
        fwrite(log_out->data, 1, log_out->len, stderr);
        return -1;
    }
    as_batch_log_summary(&log, &result, log_out);
    k->stats = result.stats;
    k->anchor_bytes = anchor_line(log_out, &k->log_lines);
    for (int t = 0; t < T_COUNT; t++) {
        k->counts[t] += atomic_load(&srv->counts[t]) - before[t];
    }
    *wall = (double)(t1 - t0) / 1e9;
    *cpu = (double)(c1 - c0) / 1e9;
    return 0;
}

static int record(bench_case *k, double wall, double cpu)
{
    if (k->calls == k->cap) {
        size_t cap = k->cap < 16 ? 16 : k->cap * 2;
        double *t = realloc(k->times, cap * sizeof *t);
        if (t == NULL) {
            return -1;
        }
        k->times = t;
        double *c = realloc(k->cpu, cap * sizeof *c);
        if (c == NULL) {
            return -1;
        }
        k->cpu = c;
        k->cap = cap;
    }
    k->cpu[k->calls] = cpu;
    k->times[k->calls++] = wall;
    k->total += wall;
    return 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, by_value);
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    bench_config config = BENCH_CONFIG_DEFAULT;
    if (bench_parse_args(&argc, argv, &config) != 0 || argc > 1) {
        fputs("usage: bench_chain [--time SECONDS] [--rounds N]   (from the top of the tree)\n",
              stderr);
        return 2;
    }
    static server srv;
    json_error_t jerr;
    json_t *event = json_load_file(EVENT_PATH, 0, &jerr);
    if (event == NULL) {
        fprintf(stderr, "bench_chain: %s: %s\n", EVENT_PATH, jerr.text);
        return 1;
    }
    size_t own_keys = distinct_keys(event, RECORDS);
    bench_case cases[] = {
        {.label = "chain off", .chain = false, .keys = own_keys},
        {.label = "chain on", .chain = true, .keys = own_keys},
        {.label = "chain on, 10 keys", .chain = true, .keys = 10},
        {.label = "chain on, 1 key", .chain = true, .keys = 1},
        {.label = "BatchWriteItem, chain off", .write_api = AS_DDB_WRITE_BATCH, .keys = own_keys},
        {.label = "BatchWriteItem, chain on",
         .chain = true,
         .write_api = AS_DDB_WRITE_BATCH,
         .keys = own_keys},
        {.label = "BatchWriteItem, chain on, 1 key",
         .chain = true,
         .write_api = AS_DDB_WRITE_BATCH,
         .keys = 1},
    };
    size_t ncases = sizeof cases / sizeof cases[0];
    as_buf log_out;
    as_buf_init(&log_out);
    int rc = 1;
    size_t opened = 0;
    if (server_start(&srv, DELAY_US) != 0) {
        goto out;
    }
    for (size_t i = 0; i < ncases; i++) {
        size_t rewrite = cases[i].keys == own_keys ? 0 : cases[i].keys;
        cases[i].payload = payload_of(event, RECORDS, rewrite, &cases[i].payload_len);
        if (cases[i].payload == NULL) {
            fprintf(stderr, "bench_chain: %s: cannot cut %u records out of it\n", EVENT_PATH,
                    RECORDS);
            goto out;
        }
        if (case_open(&cases[i], &srv) != 0) {
            goto out;
        }
        opened++;
    }
    /* A first call per case opens its connections and is not counted. */
    for (size_t i = 0; i < ncases; i++) {
        double wall;
        double cpu;
        if (one_call(&cases[i], &srv, &log_out, &wall, &cpu) != 0) {
            goto out;
        }
        memset(cases[i].counts, 0, sizeof cases[i].counts);
    }
    unsigned min_calls = config.rounds > MIN_CALLS ? config.rounds : MIN_CALLS;
    for (bool more = true; more;) {
        more = false;
        for (size_t i = 0; i < ncases; i++) {
            bench_case *k = &cases[i];
            if (k->calls >= min_calls && k->total >= config.min_seconds / (double)ncases) {
                continue;
            }
            double wall;
            double cpu;
            if (one_call(k, &srv, &log_out, &wall, &cpu) != 0 || record(k, wall, cpu) != 0) {
                goto out;
            }
            more = true;
        }
    }
    printf("%u records of %s (classic; %zu items with the chain off), AUDIT_CONCURRENCY=%u, "
           "endpoint answers after %u ms; medians of at least %u calls, cases in turns\n",
           RECORDS, EVENT_PATH, (size_t)cases[0].stats.items, CONCURRENCY, DELAY_US / 1000u,
           min_calls);
    printf("| case | keys | median ms | min | max | vs off | CPU ms | requests per batch (PutItem "
           "items + heads, BatchWriteItem, BatchGetItem) | heads moved | anchor line bytes |\n");
    printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    double off = 0;
    double off_batch = 0;
    for (size_t i = 0; i < ncases; i++) {
        bench_case *k = &cases[i];
        double min = k->times[0];
        double max = k->times[0];
        for (size_t j = 0; j < k->calls; j++) {
            min = k->times[j] < min ? k->times[j] : min;
            max = k->times[j] > max ? k->times[j] : max;
        }
        double med = median_of(k->times, k->calls) * 1e3;
        double cpu_med = median_of(k->cpu, k->calls) * 1e3;
        if (!k->chain && k->write_api == AS_DDB_WRITE_PUT_ITEM) {
            off = med;
        }
        if (!k->chain && k->write_api == AS_DDB_WRITE_BATCH) {
            off_batch = med;
        }
        double base = k->write_api == AS_DDB_WRITE_BATCH ? off_batch : off;
        double per = (double)k->calls;
        printf("| %s | %zu | %.2f | %.2f | %.2f | %.3fx | %.2f | %.1f (%.1f + %.1f, %.1f, %.1f) | "
               "%llu | %zu |\n",
               k->label, k->keys, med, min * 1e3, max * 1e3, med / base, cpu_med,
               (double)(k->counts[T_PUT] + k->counts[T_PUT_IF] + k->counts[T_BATCH_GET] +
                        k->counts[T_BATCH_WRITE] + k->counts[T_OTHER]) /
                   per,
               (double)k->counts[T_PUT] / per, (double)k->counts[T_PUT_IF] / per,
               (double)k->counts[T_BATCH_WRITE] / per, (double)k->counts[T_BATCH_GET] / per,
               (unsigned long long)k->stats.chain_heads_moved, k->anchor_bytes);
        if (k->counts[T_OTHER] != 0) {
            fprintf(stderr, "bench_chain: %s: %llu requests the endpoint refused\n", k->label,
                    (unsigned long long)k->counts[T_OTHER]);
            goto out;
        }
        if (k->chain && (k->anchor_bytes == 0 || k->stats.chain_heads_moved != k->keys)) {
            fprintf(stderr,
                    "bench_chain: %s: %llu heads moved for %zu keys, anchor line %zu "
                    "bytes\n",
                    k->label, (unsigned long long)k->stats.chain_heads_moved, k->keys,
                    k->anchor_bytes);
            goto out;
        }
    }
    /* The whole event once, untimed: the anchor line of a batch of many keys. */
    bench_case all = {.label = "chain on, 1000 records", .chain = true};
    all.keys = distinct_keys(event, RECORDS_ALL);
    all.payload = payload_of(event, RECORDS_ALL, 0, &all.payload_len);
    if (all.payload == NULL || case_open(&all, &srv) != 0) {
        free(all.payload);
        goto out;
    }
    double wall = 0;
    double cpu = 0;
    int all_rc = one_call(&all, &srv, &log_out, &wall, &cpu);
    printf("%u records (%zu keys, %llu items), chain on, once: %.1f ms, %llu heads moved, "
           "anchor line %zu bytes (%.1f a head)\n",
           RECORDS_ALL, all.keys, (unsigned long long)all.stats.items, wall * 1e3,
           (unsigned long long)all.stats.chain_heads_moved, all.anchor_bytes,
           all.stats.chain_heads_moved > 0
               ? (double)all.anchor_bytes / (double)all.stats.chain_heads_moved
               : 0.0);
    case_close(&all);
    if (all_rc != 0) {
        goto out;
    }
    printf("(summary stats of the last call: chain on: requests %llu, put_item %llu, "
           "batch_get %llu; the endpoint saw %llu connections)\n",
           (unsigned long long)cases[1].stats.requests,
           (unsigned long long)cases[1].stats.requests_put_item,
           (unsigned long long)cases[1].stats.requests_batch_get,
           (unsigned long long)atomic_load(&srv.connections));
    rc = 0;
out:
    for (size_t i = 0; i < opened; i++) {
        case_close(&cases[i]);
    }
    for (size_t i = opened; i < ncases; i++) {
        free(cases[i].payload);
    }
    as_buf_free(&log_out);
    json_decref(event);
    return rc;
}
