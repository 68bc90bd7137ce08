/* The small harness every benchmark program in tests/bench/ shares: a monotonic clock,
 * a runner that repeats one operation for long enough and reports its median round. */
#ifndef AS_BENCH_TIMING_H
#define AS_BENCH_TIMING_H

#include <stddef.h>
#include <stdint.h>

/* How long to measure. One measurement runs at least `rounds` rounds and at least
 * `min_seconds` in all; each round repeats the operation the same number of times. */
typedef struct bench_config {
    double min_seconds;
    unsigned rounds;
} bench_config;

#define BENCH_CONFIG_DEFAULT {1.0, 5}

typedef struct bench_result {
    double median;          /* seconds per operation in the median round */
    double best;            /* ... in the fastest round */
    double worst;           /* ... in the slowest round */
    uint64_t repetitions;   /* operations per round */
    unsigned rounds;
    double total;           /* seconds spent in the timed rounds */
} bench_result;

/* One operation: returns 0, or non-zero to abandon the measurement (the function
 * reports its own error). `ctx` is the caller's. */
typedef int (*bench_fn)(void *ctx);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/* Runs `fn` once to warm up and check it works, calibrates the repetitions per round,
 * then times the rounds. Returns 0, or the first non-zero value `fn` returned. */
int bench_measure(const bench_config *config, bench_fn fn, void *ctx, bench_result *out);

/* bench_measure for `n` operations whose speeds are compared: their rounds take turns
 * (A B C A B C ...), so that a machine busy with something else for a while slows them
 * all alike and their ratios hold. Each is calibrated on its own and gets `config`
 * whole. Returns 0, or the first non-zero value a function returned (*failed is then
 * its index). */
int bench_measure_interleaved(const bench_config *config, size_t n, const bench_fn *fns,
                              void *const *ctxs, bench_result *out, size_t *failed);

/* Reads options the programs share, removing them from argv: `--time SECONDS` (the
 * whole measurement's minimum) and `--rounds N`. Returns 0, or -1 after printing why
 * to stderr. Leaves the other arguments, in order, in argv[1..*argc-1]. */
int bench_parse_args(int *argc, char **argv, bench_config *config);

/* Reads a whole file into a new malloc'd buffer (free it), NUL-terminated for
 * convenience. Returns 0, or -1 after printing why to stderr. */
int bench_read_file(const char *path, char **data, size_t *len);

#endif
