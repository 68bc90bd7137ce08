/* The allocation wraps behind alloc_fail.h: a counter that can make the n-th allocation
 * fail, in front of the real allocator. Only linked in effect with -Wl,--wrap=... */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "alloc_fail.h"

int alloc_check_failures;

/* Resolved to the real functions by --wrap; weak so that a link without the wraps (every
 * other unit test) still succeeds, with these left NULL and never called. */
extern void *__real_malloc(size_t size) __attribute__((weak));
extern void *__real_calloc(size_t count, size_t size) __attribute__((weak));
extern void *__real_realloc(void *ptr, size_t size) __attribute__((weak));
extern void __real_free(void *ptr) __attribute__((weak));

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void __wrap_free(void *ptr);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static struct {
    bool counting;
    bool paused;
    bool all_after; /* fail from the n-th on, not the n-th alone */
    long fail_at;   /* 0: never */
    long count;
    bool hit;
    long live;
} state;

/* Volatile: the compiler takes malloc for the C library's, which touches no global of
 * ours, and would fold the probe's answer to false. */
static volatile bool probed;

static void arm(long n, bool all_after)
{
    state.counting = true;
    state.all_after = all_after;
    state.fail_at = n;
    state.count = 0;
    state.hit = false;
}

void alloc_fail_after(long n)
{
    arm(n, false);
}

void alloc_fail_all_after(long n)
{
    arm(n, true);
}

void alloc_fail_off(void)
{
    state.counting = false;
    state.fail_at = 0;
    state.paused = false;
}

void alloc_fail_pause(void)
{
    state.paused = true;
}

void alloc_fail_resume(void)
{
    state.paused = false;
}

long alloc_fail_count(void)
{
    return state.count;
}

bool alloc_fail_hit(void)
{
    return state.hit;
}

long alloc_fail_live(void)
{
    return state.live;
}

/* Blocks are tracked only inside an armed window: the test's own buffers outlive it. */
static bool watching(void)
{
    return state.counting && !state.paused;
}

/* True when this allocation is the one (or one of those) to fail. */
static bool should_fail(void)
{
    if (!state.counting || state.paused) {
        return false;
    }
    state.count++;
    if (state.fail_at <= 0) {
        return false;
    }
    if (state.count == state.fail_at || (state.all_after && state.count > state.fail_at)) {
        state.hit = true;
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    void *p = __real_malloc(size);
    state.live += p != NULL && watching();
    probed = true;
    return p;
}

void *__wrap_calloc(size_t count, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    void *p = __real_calloc(count, size);
    state.live += p != NULL && watching();
    return p;
}

void *__wrap_realloc(void *ptr, size_t size)
{
    if (should_fail()) {
        return NULL; /* like a real failure: `ptr` stays valid and owned by the caller */
    }
    void *p = __real_realloc(ptr, size);
    state.live += ptr == NULL && p != NULL && watching();
    return p;
}

void __wrap_free(void *ptr)
{
    state.live -= ptr != NULL && watching();
    __real_free(ptr);
}

char *__wrap_strdup(const char *s)
{
    return __wrap_strndup(s, strlen(s));
}

char *__wrap_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *copy = __wrap_malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

bool alloc_fail_linked(void)
{
    /* A wrapped malloc sets `probed`; an unwrapped one goes straight to libc. The volatile
     * pointer keeps the compiler from pairing and dropping the two calls. */
    probed = false;
    void *volatile p = malloc(1);
    free(p);
    return probed;
}

/* libcrypto's allocations: counted and failed like the rest, but not in `live`, since
 * libcrypto keeps caches of its own across calls. Without the wraps (a unit test),
 * `malloc` here is libc's own, and libcrypto's are the only allocations counted. */
static void *crypto_malloc(size_t size, const char *file, int line)
{
    (void)file;
    (void)line;
    if (should_fail()) {
        return NULL;
    }
    return __real_malloc != NULL ? __real_malloc(size) : malloc(size);
}

static void *crypto_realloc(void *ptr, size_t size, const char *file, int line)
{
    (void)file;
    (void)line;
    if (should_fail()) {
        return NULL;
    }
    return __real_realloc != NULL ? __real_realloc(ptr, size) : realloc(ptr, size);
}

static void crypto_free(void *ptr, const char *file, int line)
{
    (void)file;
    (void)line;
    if (__real_free != NULL) {
        __real_free(ptr);
    } else {
        free(ptr);
    }
}

bool alloc_fail_hook_libcrypto(void)
{
    return CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free) == 1;
}

/* Shows where two outputs part, with some context on each side. */
static void show_parting(const as_buf *clean, const as_buf *got)
{
    size_t at = 0;
    while (at < got->len && at < clean->len && got->data[at] == clean->data[at]) {
        at++;
    }
    size_t from = at > 60 ? at - 60 : 0;
    size_t clean_left = clean->len > from ? clean->len - from : 0;
    size_t got_left = got->len > from ? got->len - from : 0;
    fprintf(stderr, "  clean: ...%.*s\n  got:   ...%.*s\n",
            (int)(clean_left < 160 ? clean_left : 160), clean_left > 0 ? clean->data + from : "",
            (int)(got_left < 160 ? got_left : 160), got_left > 0 ? got->data + from : "");
}

alloc_torture_result alloc_fail_torture(const char *name, alloc_run_fn fn, const void *ctx,
                                        int max_failures)
{
    alloc_torture_result r = {AS_OK, 0, 0, 0, 0};
    as_buf clean = AS_BUF_INIT;
    as_buf got = AS_BUF_INIT;
    as_error err = {AS_OK, 0, ""};
    (void)fn(ctx, &clean, &err); /* unwatched: libcrypto loads its algorithms on first use */
    as_buf_clear(&clean);
    err = (as_error){AS_OK, 0, ""};
    long live = alloc_fail_live();
    alloc_fail_after(0);
    r.clean_status = fn(ctx, &clean, &err);
    alloc_fail_off();
    r.allocs = alloc_fail_count();
    CHECK(r.clean_status != AS_ERR_NOMEM, "%s: the clean run failed: %s", name, err.message);
    CHECK(as_buf_status(&clean) == AS_OK, "%s: the test's own buffer failed", name);
    CHECK(alloc_fail_live() == live, "%s: the clean run leaked %ld blocks", name,
          alloc_fail_live() - live);
    if (getenv("ALLOC_SHOW") != NULL) {
        printf("---- %s: the clean run's output\n%.*s", name, (int)clean.len, clean.data);
    }

    int failures_before = alloc_check_failures;
    for (int all_after = 0; all_after <= 1; all_after++) {
        const char *mode = all_after ? "from" : "only";
        for (long n = 1;; n++) {
            as_buf_clear(&got);
            err = (as_error){AS_OK, 0, ""};
            live = alloc_fail_live();
            if (all_after) {
                alloc_fail_all_after(n);
            } else {
                alloc_fail_after(n);
            }
            as_status status = fn(ctx, &got, &err);
            alloc_fail_off();
            bool hit = alloc_fail_hit();
            r.tried++;
            CHECK(alloc_fail_live() == live, "%s: n=%ld (%s): %ld blocks leaked", name, n, mode,
                  alloc_fail_live() - live);
            if (status == AS_ERR_NOMEM) {
                r.nomem++;
                CHECK(hit, "%s: n=%ld (%s): AS_ERR_NOMEM with no allocation failed", name, n, mode);
                CHECK(err.code == AS_ERR_NOMEM && err.message[0] != '\0',
                      "%s: n=%ld (%s): AS_ERR_NOMEM without its message (code %d, \"%s\")", name, n,
                      mode, (int)err.code, err.message);
            } else {
                bool same = status == r.clean_status && got.len == clean.len &&
                            memcmp(got.data, clean.data, clean.len) == 0;
                CHECK(same,
                      "%s: n=%ld (%s): a wrong success: status %d (%s), not AS_ERR_NOMEM, and "
                      "other than the clean run's status or output",
                      name, n, mode, (int)status, err.message);
                if (!same) {
                    show_parting(&clean, &got);
                }
                r.same += hit && same;
            }
            if (!hit) {
                break; /* the run made fewer than n allocations */
            }
            if (alloc_check_failures - failures_before > max_failures) {
                fprintf(stderr, "%s: more than %d failures, on to the next case\n", name,
                        max_failures);
                break;
            }
        }
    }
    as_buf_free(&got);
    as_buf_free(&clean);
    return r;
}
