/* Benchmark of the write path: as_ddb_write_items, PutItem and BatchWriteItem side by side,
 * for 100 and 1,000 audit items against a loopback endpoint that answers after 5 ms. */
#include <auditstream.h>

#include <arpa/inet.h>
#include <errno.h>
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

/* Issue 13's bars: batch mode within this factor of ceil(ceil(N / 25) / c) x delay, and
 * its client CPU per item at most this fraction of PutItem mode's. */
#define TARGET_RATIO     1.5
#define TARGET_CPU_SHARE 0.2

#define EVENT_PATH      "events/bench-1000-mixed.json"
#define MAX_ITEMS       1000u
#define DELAY_US        5000u
#define MIN_CALLS       5u  /* per case, whatever --time and --rounds say */
#define MIN_BATCH_CALLS 21u /* BatchWriteItem's calls are short: more of them, less noise */
#define FIXED_NOW_MS    INT64_C(1714564800000)

static const unsigned concurrencies[] = {1, 4, 8, 16};
#define NCONC (sizeof concurrencies / sizeof concurrencies[0])
static const unsigned sizes[] = {100, 1000};
#define NSIZES (sizeof sizes / sizeof sizes[0])
static const as_ddb_write_api apis[] = {AS_DDB_WRITE_PUT_ITEM, AS_DDB_WRITE_BATCH};
#define NAPIS  (sizeof apis / sizeof apis[0])
#define NCASES (NCONC * NSIZES * NAPIS)

/* ---- the endpoint: one thread per connection, each request answered after `delay_us` --- */

typedef struct server {
    int fd;
    unsigned port;
    unsigned delay_us;
    char response[256]; /* PutItem's answer */
    size_t response_len;
    char batch_response[256]; /* BatchWriteItem's: nothing unprocessed */
    size_t batch_response_len;
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t refused; /* not a signed PutItem or BatchWriteItem: 400 */
    atomic_uint_fast64_t batch_requests;
    atomic_uint_fast64_t connections;
    atomic_int in_flight;
    atomic_int max_in_flight;
    atomic_uint_fast64_t service_ns; /* request read -> response written, summed */
} server;

typedef struct conn {
    server *srv;
    int fd;
} conn;

/* CRC-32 (IEEE, as x-amz-crc32), bit by bit: it sums one 2-byte body once. */
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

/* Case-insensitive search for a header line "name: value..." in the head; its value. */
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

/* The end of the request head ("\r\n\r\n") in the first `len` bytes, or NULL. */
static char *find_head_end(char *buf, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++) {
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            return buf + i;
        }
    }
    return NULL;
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void note_in_flight(server *srv)
{
    int now = atomic_fetch_add(&srv->in_flight, 1) + 1;
    int seen = atomic_load(&srv->max_in_flight);
    while (now > seen && !atomic_compare_exchange_weak(&srv->max_in_flight, &seen, now)) {
    }
}

static void *serve_connection(void *arg)
{
    conn *c = arg;
    server *srv = c->srv;
    int fd = c->fd;
    free(c);
    /* The delay is the endpoint's whole contribution: ask the kernel not to stretch it. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0"
                              "\r\nContent-Length: 2\r\n\r\n{}";
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    size_t used = 0;
    while (buf != NULL) {
        char *end = find_head_end(buf, used);
        if (end == NULL) {
            if (used == cap) {
                break; /* a head over 1 MiB: not ours */
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
        uint64_t start = bench_now_ns();
        note_in_flight(srv);
        const char *target = header_value(buf, head_len, "X-Amz-Target");
        const char *auth = header_value(buf, head_len, "Authorization");
        bool signed_ok = auth != NULL && strncmp(auth, "AWS4-HMAC-SHA256 ", 17) == 0;
        bool put = target != NULL && strncmp(target, "DynamoDB_20120810.PutItem\r", 26) == 0;
        bool batch = target != NULL &&
                     strncmp(target, "DynamoDB_20120810.BatchWriteItem\r", 33) == 0 &&
                     body_len > 0 && memcmp(buf + head_len, "{\"RequestItems\":", 16) == 0;
        bool ours = signed_ok && (put || batch);
        if (srv->delay_us > 0) {
            sleep_us(srv->delay_us);
        }
        atomic_fetch_sub(&srv->in_flight, 1);
        bool sent = !ours   ? write_all(fd, bad, sizeof bad - 1)
                    : batch ? write_all(fd, srv->batch_response, srv->batch_response_len)
                            : write_all(fd, srv->response, srv->response_len);
        if (ours && batch) {
            atomic_fetch_add(&srv->batch_requests, 1);
        }
        atomic_fetch_add(&srv->requests, 1);
        if (!ours) {
            atomic_fetch_add(&srv->refused, 1);
        }
        atomic_fetch_add(&srv->service_ns, bench_now_ns() - start);
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

/* Listens on 127.0.0.1 (any free port) and starts accepting. */
static int server_start(server *srv, unsigned delay_us)
{
    memset(srv, 0, sizeof *srv);
    srv->delay_us = delay_us;
    static const char body[] = "{}";
    int n = snprintf(srv->response, sizeof srv->response,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                     "Content-Length: 2\r\nx-amz-crc32: %lu\r\n"
                     "x-amzn-RequestId: BENCH0000000000000000000000000000000000000000000000\r\n"
                     "\r\n%s",
                     (unsigned long)crc32_ieee(body, 2), body);
    srv->response_len = (size_t)n;
    static const char batch_body[] = "{\"UnprocessedItems\":{}}";
    n = snprintf(srv->batch_response, sizeof srv->batch_response,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                 "Content-Length: %zu\r\nx-amz-crc32: %lu\r\n"
                 "x-amzn-RequestId: BENCH0000000000000000000000000000000000000000000000\r\n"
                 "\r\n%s",
                 sizeof batch_body - 1,
                 (unsigned long)crc32_ieee(batch_body, sizeof batch_body - 1), batch_body);
    srv->batch_response_len = (size_t)n;
    srv->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv->fd < 0) {
        perror("bench_ddb_write: socket");
        return -1;
    }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(srv->fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(srv->fd, 128) != 0 ||
        getsockname(srv->fd, (struct sockaddr *)&addr, &len) != 0) {
        perror("bench_ddb_write: bind");
        close(srv->fd);
        return -1;
    }
    srv->port = ntohs(addr.sin_port);
    pthread_t t;
    if (pthread_create(&t, NULL, accept_loop, srv) != 0) {
        fputs("bench_ddb_write: cannot start the endpoint's thread\n", stderr);
        close(srv->fd);
        return -1;
    }
    pthread_detach(t);
    return 0;
}

/* ---- the client side ----------------------------------------------------------------------- */

/* One mode, one batch size, one concurrency: its measured calls. */
typedef struct client_case {
    as_ddb_write_api api;
    unsigned items;
    unsigned concurrency;
    as_ddb_client *client; /* shared by the cases of one concurrency */
    server *srv;
    double *times;   /* seconds per call, one per measured call */
    double *cpu;     /* seconds of this thread's CPU per call */
    double *service; /* the endpoint's mean seconds per request, per call */
    size_t calls;
    size_t cap;
    double total;
    double first; /* the first call (the client's connections may not be open yet) */
    uint64_t requests;
    uint64_t retries;
} client_case;

typedef struct shared {
    const as_credentials *creds;
    const as_span *items;
    as_ddb_result results[MAX_ITEMS];
} shared;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One call of as_ddb_write_items: its wall and CPU seconds, and the mean time a request
 * spent in the endpoint (read to answered). Every item must be written. */
static int one_call(client_case *k, shared *sh, double *wall, double *cpu, double *service)
{
    as_ddb_stats stats;
    as_error err = {0};
    uint64_t s0 = atomic_load(&k->srv->service_ns);
    uint64_t r0 = atomic_load(&k->srv->requests);
    uint64_t c0 = thread_cpu_ns();
    uint64_t t0 = bench_now_ns();
    as_status st = as_ddb_write_items(k->client, sh->creds, "Audit", k->api, sh->items, k->items, 0,
                                      sh->results, &stats, &err);
    uint64_t t1 = bench_now_ns();
    uint64_t c1 = thread_cpu_ns();
    if (st != AS_OK) {
        fprintf(stderr, "bench_ddb_write: as_ddb_write_items: %s\n", err.message);
        return -1;
    }
    if (stats.written != k->items) {
        for (size_t i = 0; i < k->items; i++) {
            if (sh->results[i].outcome != AS_DDB_WRITTEN) {
                fprintf(stderr, "bench_ddb_write: item %zu %s: %s %s\n", i,
                        as_ddb_outcome_name(sh->results[i].outcome), sh->results[i].error_type,
                        sh->results[i].message);
                break;
            }
        }
        return -1;
    }
    k->requests += stats.requests;
    k->retries += stats.retries;
    *wall = (double)(t1 - t0) / 1e9;
    *cpu = (double)(c1 - c0) / 1e9;
    /* The endpoint counts a request just after answering it, so the last ones of the call
     * may land a moment later: the mean is over those counted. */
    uint64_t served = atomic_load(&k->srv->requests) - r0;
    *service =
        served > 0 ? (double)(atomic_load(&k->srv->service_ns) - s0) / 1e9 / (double)served : 0;
    return 0;
}

static int record(client_case *k, double wall, double cpu, double service)
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
        double *v = realloc(k->service, cap * sizeof *v);
        if (v == NULL) {
            return -1;
        }
        k->service = v;
        k->cap = cap;
    }
    k->times[k->calls] = wall;
    k->cpu[k->calls] = cpu;
    k->service[k->calls] = service;
    k->calls++;
    k->total += wall;
    return 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `v` and returns its median. */
static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, by_value);
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static as_ddb_client *client_open(const server *srv, unsigned concurrency)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", srv->port);
    as_ddb_config config = {0};
    config.region = "us-east-1";
    config.endpoint_url = url;
    config.concurrency = concurrency;
    as_ddb_client *client = NULL;
    as_error err = {0};
    if (as_ddb_client_new(&config, &client, &err) != AS_OK) {
        fprintf(stderr, "bench_ddb_write: as_ddb_client_new: %s\n", err.message);
        return NULL;
    }
    return client;
}

/* The first MAX_ITEMS items the classic format builds from the benchmark event. */
static int build_items(as_items **items, char **data, as_span spans[MAX_ITEMS], double *mean_bytes)
{
    size_t len = 0;
    as_event *event = NULL;
    as_error err = {0};
    if (bench_read_file(EVENT_PATH, data, &len) != 0) {
        return -1;
    }
    if (as_event_decode(*data, len, &event, &err) != AS_OK) {
        fprintf(stderr, "bench_ddb_write: %s: %s\n", EVENT_PATH, err.message);
        return -1;
    }
    *items = as_items_new();
    as_audit_options options = {.format = AS_FORMAT_CLASSIC, .now_ms = FIXED_NOW_MS};
    int rc = -1;
    if (*items == NULL || as_audit_build_event(event, &options, *items, &err) != AS_OK) {
        fprintf(stderr, "bench_ddb_write: building items: %s\n",
                *items == NULL ? "out of memory" : err.message);
        goto cleanup;
    }
    if (as_items_count(*items) < MAX_ITEMS) {
        fprintf(stderr, "bench_ddb_write: %s yields fewer than %u items\n", EVENT_PATH, MAX_ITEMS);
        goto cleanup;
    }
    double bytes = 0;
    for (size_t i = 0; i < MAX_ITEMS; i++) {
        spans[i] = as_items_get(*items, i).json;
        bytes += (double)spans[i].len;
    }
    *mean_bytes = bytes / MAX_ITEMS;
    rc = 0;
cleanup:
    as_event_free(event); /* the items are built into storage of their own */
    return rc;
}

/* Requests a call makes, as the ideal counts them. */
static unsigned requests_of(const client_case *k)
{
    unsigned per = k->api == AS_DDB_WRITE_BATCH ? AS_DDB_BATCH_WRITE_MAX_ITEMS : 1u;
    return (k->items + per - 1) / per;
}

static unsigned waves_of(const client_case *k)
{
    return (requests_of(k) + k->concurrency - 1) / k->concurrency;
}

static double ideal_ms(const client_case *k)
{
    return waves_of(k) * DELAY_US / 1000.0;
}

/* Calls for every case, in turns, so that a machine busy with something else for a while
 * slows them all alike. Each case's first call is not counted. */
static int measure(client_case *cases, size_t n, shared *sh, const bench_config *config)
{
    unsigned min_calls = config->rounds > MIN_CALLS ? config->rounds : MIN_CALLS;
    unsigned min_batch = config->rounds > MIN_BATCH_CALLS ? config->rounds : MIN_BATCH_CALLS;
    for (size_t i = 0; i < n; i++) {
        double wall;
        double cpu;
        double service;
        if (one_call(&cases[i], sh, &wall, &cpu, &service) != 0) {
            return -1;
        }
        cases[i].first = wall;
        cases[i].requests = 0;
        cases[i].retries = 0;
    }
    for (bool more = true; more;) {
        more = false;
        for (size_t i = 0; i < n; i++) {
            client_case *k = &cases[i];
            unsigned least = k->api == AS_DDB_WRITE_BATCH ? min_batch : min_calls;
            if (k->calls >= least && k->total >= config->min_seconds / (double)n) {
                continue;
            }
            double wall;
            double cpu;
            double service;
            if (one_call(k, sh, &wall, &cpu, &service) != 0 || record(k, wall, cpu, service) != 0) {
                return -1;
            }
            more = true;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_config config = BENCH_CONFIG_DEFAULT;
    if (bench_parse_args(&argc, argv, &config) != 0 || argc > 1) {
        fputs("usage: bench_ddb_write [--time SECONDS] [--rounds N]   (from the top of the "
              "tree)\n",
              stderr);
        return 2;
    }
    static server slow;
    static shared sh;
    static as_span spans[MAX_ITEMS];
    as_items *items = NULL;
    char *data = NULL;
    double mean_bytes = 0;
    as_ddb_client *clients[NCONC] = {NULL};
    client_case cases[NCASES];
    memset(cases, 0, sizeof cases);
    int rc = 1;
    as_error err = {0};

    if (build_items(&items, &data, spans, &mean_bytes) != 0 || server_start(&slow, DELAY_US) != 0) {
        goto cleanup;
    }
    if (as_global_init(&err) != AS_OK) {
        fprintf(stderr, "bench_ddb_write: %s\n", err.message);
        goto cleanup;
    }
    static const as_credentials creds = {{"AKIDBENCHMARK", 13},
                                         {"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 40},
                                         {"FQoGZXIvYXdzEXAMPLETOKEN", 24}};
    sh.creds = &creds;
    sh.items = spans;
    for (size_t c = 0; c < NCONC; c++) {
        clients[c] = client_open(&slow, concurrencies[c]);
        if (clients[c] == NULL) {
            goto cleanup;
        }
    }
    /* In print order: by size, then concurrency, then mode. */
    size_t n = 0;
    for (size_t z = 0; z < NSIZES; z++) {
        for (size_t c = 0; c < NCONC; c++) {
            for (size_t a = 0; a < NAPIS; a++) {
                cases[n].api = apis[a];
                cases[n].items = sizes[z];
                cases[n].concurrency = concurrencies[c];
                cases[n].client = clients[c];
                cases[n].srv = &slow;
                n++;
            }
        }
    }
    if (measure(cases, NCASES, &sh, &config) != 0) {
        goto cleanup;
    }

    printf("bench_ddb_write: as_ddb_write_items, PutItem and BatchWriteItem, %u and %u items "
           "(the first classic items of %s, %.0f bytes on average),\n"
           "a loopback endpoint (C, a thread per connection) answering each signed request "
           "after %.1f ms; HTTP/1.1 kept alive; ideal = ceil(requests / c) x %.0f ms\n",
           sizes[0], sizes[1], EVENT_PATH, mean_bytes, DELAY_US / 1000.0, DELAY_US / 1000.0);
    printf("%-15s %5s %3s %5s %8s %10s %8s %8s %7s %7s %7s %9s %8s %5s\n", "mode", "items", "c",
           "reqs", "ideal ms", "median ms", "min ms", "max ms", "ratio", "svc ms", "ratio'",
           "CPU ms", "us/item", "calls");
    unsigned ratio_pass = 0;
    unsigned ratio_miss = 0;
    unsigned cpu_pass = 0;
    unsigned cpu_miss = 0;
    double put_cpu_item = 0;
    for (size_t i = 0; i < NCASES; i++) {
        client_case *k = &cases[i];
        double med = median_of(k->times, k->calls);
        double cpu = median_of(k->cpu, k->calls);
        double service = median_of(k->service, k->calls);
        double ideal = ideal_ms(k);
        double ratio = med * 1e3 / ideal;
        double cpu_item = cpu / k->items;
        bool batch = k->api == AS_DDB_WRITE_BATCH;
        printf("%-15s %5u %3u %5u %8.0f %10.2f %8.2f %8.2f %6.3fx %7.3f %6.3fx %9.2f %8.2f %5zu",
               as_ddb_write_api_name(k->api), k->items, k->concurrency, requests_of(k), ideal,
               med * 1e3, k->times[0] * 1e3, k->times[k->calls - 1] * 1e3, ratio, service * 1e3,
               med / (waves_of(k) * service), cpu * 1e3, cpu_item * 1e6, k->calls);
        if (!batch) {
            put_cpu_item = cpu_item;
            printf("\n");
            continue;
        }
        double share = cpu_item / put_cpu_item;
        bool ratio_ok = ratio <= TARGET_RATIO;
        bool cpu_ok = share <= TARGET_CPU_SHARE;
        *(ratio_ok ? &ratio_pass : &ratio_miss) += 1;
        *(cpu_ok ? &cpu_pass : &cpu_miss) += 1;
        printf("  CPU/Put %.3fx  %s %s\n", share, ratio_ok ? "time PASS" : "time MISS",
               cpu_ok ? "CPU PASS" : "CPU MISS");
    }
    printf("ratio = median / ideal; svc = the endpoint's median time per request (read to "
           "answered); ratio' = median / (waves x svc), which leaves out the endpoint's own "
           "lateness;\nCPU = the calling thread's CPU time per call (median); CPU/Put = batch "
           "CPU per item / PutItem's at the same size and c\n");
    printf("1st calls (not counted), ms:");
    for (size_t i = 0; i < NCASES; i++) {
        printf(" %s", i % 8 == 0 ? "\n " : "");
        printf("%s/%u/c%u %.1f", cases[i].api == AS_DDB_WRITE_BATCH ? "B" : "P", cases[i].items,
               cases[i].concurrency, cases[i].first * 1e3);
    }
    printf("\nendpoint: %llu requests (%llu BatchWriteItem, %llu refused), %llu connections, at "
           "most %d in flight; mean time in the %.0f ms endpoint %.3f ms\n",
           (unsigned long long)atomic_load(&slow.requests),
           (unsigned long long)atomic_load(&slow.batch_requests),
           (unsigned long long)atomic_load(&slow.refused),
           (unsigned long long)atomic_load(&slow.connections), atomic_load(&slow.max_in_flight),
           DELAY_US / 1000.0,
           (double)atomic_load(&slow.service_ns) / 1e6 / (double)atomic_load(&slow.requests));
    uint64_t retries = 0;
    for (size_t i = 0; i < NCASES; i++) {
        retries += cases[i].retries;
    }
    printf("retries: %llu\n", (unsigned long long)retries);
    printf("targets: batch within %.1fx of ideal: %u pass, %u miss; batch CPU per item at most "
           "%.2f of PutItem's: %u pass, %u miss\n",
           TARGET_RATIO, ratio_pass, ratio_miss, TARGET_CPU_SHARE, cpu_pass, cpu_miss);
    rc = atomic_load(&slow.refused) == 0 ? 0 : 1;
cleanup:
    for (size_t i = 0; i < NCASES; i++) {
        free(cases[i].times);
        free(cases[i].cpu);
        free(cases[i].service);
    }
    for (size_t c = 0; c < NCONC; c++) {
        as_ddb_client_free(clients[c]);
    }
    as_global_cleanup();
    as_items_free(items);
    free(data);
    return rc;
}
