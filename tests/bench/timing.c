/* The benchmark harness: calibrated repetitions, median of rounds, CLOCK_MONOTONIC.
 * It times; it never judges: the programs print reports and assert nothing on speed. */
#include "timing.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Calibration stops doubling once a batch lasts this long: long enough that the
 * clock's resolution and the call overhead are noise, short enough to be cheap. */
#define CALIBRATE_SECONDS 0.02

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Runs `fn` `reps` times; *seconds is the elapsed time. */
static int run_batch(bench_fn fn, void *ctx, uint64_t reps, double *seconds)
{
    uint64_t start = bench_now_ns();
    for (uint64_t i = 0; i < reps; i++) {
        int rc = fn(ctx);
        if (rc != 0) {
            return rc;
        }
    }
    *seconds = (double)(bench_now_ns() - start) / 1e9;
    return 0;
}

static int double_order(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs `fn` once to warm up, then doubles a batch until it lasts long enough to time;
 * *per_round is the repetitions that make one round last `round_target` seconds. */
static int calibrate(bench_fn fn, void *ctx, double round_target, uint64_t *per_round)
{
    int rc = fn(ctx);
    if (rc != 0) {
        return rc;
    }
    uint64_t reps = 1;
    double elapsed = 0;
    for (;;) {
        rc = run_batch(fn, ctx, reps, &elapsed);
        if (rc != 0) {
            return rc;
        }
        if (elapsed >= CALIBRATE_SECONDS || elapsed >= round_target) {
            break;
        }
        reps *= 2;
    }
    double per_op = elapsed > 0 ? elapsed / (double)reps : 1e-9;
    /* A little over the target so that rounds that run fast still add up to it. */
    double want = round_target * 1.02 / per_op;
    *per_round = want < 1 ? 1 : (uint64_t)want + 1;
    return 0;
}

/* The timed rounds of one operation, grown as they come. */
typedef struct rounds {
    double *times;      /* seconds per operation, one per round */
    size_t done;
    size_t cap;
    double total;
    uint64_t per_round;
} rounds;

static bool rounds_push(rounds *r, double seconds_per_op)
{
    if (r->done == r->cap) {
        size_t cap = r->cap < 8 ? 8 : r->cap * 2;
        double *grown = realloc(r->times, cap * sizeof *grown);
        if (grown == NULL) {
            fputs("bench: out of memory\n", stderr);
            return false;
        }
        r->times = grown;
        r->cap = cap;
    }
    r->times[r->done++] = seconds_per_op;
    return true;
}

static void rounds_result(rounds *r, bench_result *out)
{
    qsort(r->times, r->done, sizeof *r->times, double_order);
    size_t mid = r->done / 2;
    out->median = r->done % 2 == 1 ? r->times[mid] : (r->times[mid - 1] + r->times[mid]) / 2;
    out->best = r->times[0];
    out->worst = r->times[r->done - 1];
    out->repetitions = r->per_round;
    out->rounds = (unsigned)r->done;
    out->total = r->total;
}

int bench_measure_interleaved(const bench_config *config, size_t n, const bench_fn *fns,
                              void *const *ctxs, bench_result *out, size_t *failed)
{
    unsigned min_rounds = config->rounds > 0 ? config->rounds : 1;
    double round_target = config->min_seconds / min_rounds;
    rounds *r = calloc(n > 0 ? n : 1, sizeof *r);
    int rc = 0;
    size_t at = 0;
    if (r == NULL) {
        fputs("bench: out of memory\n", stderr);
        return -1;
    }
    for (at = 0; at < n && rc == 0; at++) {
        rc = calibrate(fns[at], ctxs[at], round_target, &r[at].per_round);
    }
    if (rc != 0) {
        at--;
        goto cleanup;
    }
    /* Turns until every operation has its rounds and its time. */
    for (bool more = n > 0; more && rc == 0;) {
        more = false;
        for (at = 0; at < n; at++) {
            rounds *x = &r[at];
            if (x->done >= min_rounds && x->total >= config->min_seconds) {
                continue;
            }
            double elapsed = 0;
            rc = run_batch(fns[at], ctxs[at], x->per_round, &elapsed);
            if (rc != 0) {
                break;
            }
            if (!rounds_push(x, elapsed / (double)x->per_round)) {
                rc = -1;
                break;
            }
            x->total += elapsed;
            more = true;
        }
    }
    if (rc == 0) {
        for (at = 0; at < n; at++) {
            rounds_result(&r[at], &out[at]);
        }
    }
cleanup:
    if (rc != 0 && failed != NULL) {
        *failed = at;
    }
    for (size_t i = 0; i < n; i++) {
        free(r[i].times);
    }
    free(r);
    return rc;
}

int bench_measure(const bench_config *config, bench_fn fn, void *ctx, bench_result *out)
{
    void *ctxs[1] = {ctx};
    return bench_measure_interleaved(config, 1, &fn, ctxs, out, NULL);
}

static int parse_positive(const char *option, const char *text, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value > 0) || value > max) {
        fprintf(stderr, "bench: %s wants a number above 0 and at most %g, not \"%s\"\n", option,
                max, text);
        return -1;
    }
    *out = value;
    return 0;
}

int bench_parse_args(int *argc, char **argv, bench_config *config)
{
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        const char *arg = argv[i];
        bool takes_value = strcmp(arg, "--time") == 0 || strcmp(arg, "--rounds") == 0;
        if (takes_value && i + 1 >= *argc) {
            fprintf(stderr, "bench: %s wants a value\n", arg);
            return -1;
        }
        double value;
        if (strcmp(arg, "--time") == 0) {
            if (parse_positive(arg, argv[++i], 3600, &value) != 0) {
                return -1;
            }
            config->min_seconds = value;
        } else if (strcmp(arg, "--rounds") == 0) {
            if (parse_positive(arg, argv[++i], 1000, &value) != 0 || value != (unsigned)value) {
                fprintf(stderr, "bench: --rounds wants a whole number from 1 to 1000\n");
                return -1;
            }
            config->rounds = (unsigned)value;
        } else {
            argv[kept++] = argv[i];
        }
    }
    *argc = kept;
    argv[kept] = NULL;
    return 0;
}

int bench_read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16;
    size_t used = 0;
    char *buf = malloc(cap);
    int rc = -1;
    while (buf != NULL) {
        used += fread(buf + used, 1, cap - used - 1, f);
        if (ferror(f)) {
            fprintf(stderr, "bench: %s: read error\n", path);
            goto cleanup;
        }
        if (feof(f)) {
            buf[used] = '\0';
            *data = buf;
            *len = used;
            buf = NULL;
            rc = 0;
            goto cleanup;
        }
        if (cap - used - 1 == 0) {
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fprintf(stderr, "bench: %s: out of memory\n", path);
cleanup:
    free(buf);
    fclose(f);
    return rc;
}
