/* Allocation-failure injection for tests (curl's torture mode, jansson's chaos test):
 * fail the n-th allocation of a call and check the call says so or gives the clean result.
 *
 * How it hooks in: the test is linked with
 *     -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup,--wrap=strndup
 * (`make check-alloc` does), so that every allocation the static library and the test make
 * goes through the __wrap_ functions here; libcrypto's own allocations reach them too after
 * alloc_fail_hook_libcrypto(). Shared libraries other than libcrypto (libc's own, cmocka,
 * curl, jansson) are not counted. Linked without the wraps (as every unit test is, since
 * tests/support/ is linked whole), only libcrypto's allocations can be counted, once
 * hooked: alloc_fail_linked() says which.
 * Works under ASan and valgrind: the wraps call the real allocator, whichever it is.
 *
 * Use: arm, make the one call under test, disarm, then look:
 *
 *     alloc_fail_after(n);            // the n-th allocation from here fails
 *     status = call_under_test(...);
 *     alloc_fail_off();
 *     if (!alloc_fail_hit()) ...      // the call made fewer than n allocations: done
 *
 * Not thread-safe: one armed call at a time. */
#ifndef TEST_ALLOC_FAIL_H
#define TEST_ALLOC_FAIL_H

#include <stdbool.h>
#include <stdio.h>

#include "auditstream/buf.h"
#include "auditstream/common.h"

/* Starts counting allocations from zero; the n-th (n >= 1) returns NULL and the later ones
 * succeed, so that code which ignores one failure and goes on shows it. n = 0 only counts. */
void alloc_fail_after(long n);

/* As alloc_fail_after, but the n-th and every later allocation fail (memory that stays
 * short, as under a cgroup limit). */
void alloc_fail_all_after(long n);

/* Stops counting and failing; the counts stay readable until the next arm. */
void alloc_fail_off(void);

/* Between these two, allocations are neither counted nor failed: for the test's own
 * bookkeeping inside an armed window. */
void alloc_fail_pause(void);
void alloc_fail_resume(void);

/* Allocations seen since the last arm, the failed ones included. */
long alloc_fail_count(void);

/* Whether an allocation was made to fail since the last arm. */
bool alloc_fail_hit(void);

/* Blocks allocated through the wraps while armed (not paused; libcrypto's not included),
 * less those freed while armed: compare before and after an armed call that frees what it
 * made, to find a leak on a failure path. */
long alloc_fail_live(void);

/* True when the test was linked with the --wrap options above (checked once by a probe
 * allocation), so that a harness cannot pass by testing nothing. */
bool alloc_fail_linked(void);

/* Routes libcrypto's allocations through the same counter (CRYPTO_set_mem_functions), so
 * that a digest context that cannot be had is tested too. Call first thing in main(),
 * before libcrypto allocates; false when it is too late. Without the wraps (a unit test)
 * it works alone: libcrypto's allocations are then the only ones counted and failed. */
bool alloc_fail_hook_libcrypto(void);

/* Checks that were false so far (CHECK): a harness reports every failing run, then exits
 * non-zero. */
extern int alloc_check_failures;

/* When `cond` is false: says where and what (printf-style), counts it, and goes on. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            alloc_check_failures++;                                                                \
        }                                                                                          \
    } while (0)

/* One call under test: writes what it got to `out` (with counting paused for the test's
 * own bookkeeping) and returns its status, filling `err` on failure. */
typedef as_status (*alloc_run_fn)(const void *ctx, as_buf *out, as_error *err);

typedef struct alloc_torture_result {
    as_status clean_status; /* the clean run's */
    long allocs;            /* allocations of the clean run */
    long tried;             /* runs with a failure armed, both modes */
    long nomem;             /* runs that reported AS_ERR_NOMEM */
    long same;              /* runs that met a failure and still gave the clean result */
} alloc_torture_result;

/* Runs `fn` once unwatched (caches that live for the process warm up), once clean, then
 * with the n-th allocation failing, alone and from then on, for every n until a run makes
 * fewer than n. Each run must report AS_ERR_NOMEM with its message, or give the clean
 * run's status and output byte for byte, and leak nothing; a broken rule is a CHECK
 * naming the case, n and mode. After `max_failures` failed checks it goes on to the next
 * case. ALLOC_SHOW in the environment prints the clean output. */
alloc_torture_result alloc_fail_torture(const char *name, alloc_run_fn fn, const void *ctx,
                                        int max_failures);

#endif
