/* The allocation wraps behind alloc_fail.h: a counter that can make the n-th allocation
 * fail, in front of the real allocator. Only linked in effect with -Wl,--wrap=... */
#include <stddef.h>
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
