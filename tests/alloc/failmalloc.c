/* failmalloc: an LD_PRELOAD shim that makes the n-th allocation of a whole process fail
 * (its libcurl, OpenSSL and libc included), for tests/alloc/bootstrap-alloc.sh.
 *
 * Environment, read once when the shim is loaded:
 *   ALLOC_FAIL_AT=n       the n-th allocation counted (n >= 1) returns NULL; 0 or unset: none
 *   ALLOC_FAIL_MODE=once  only that one fails (the default), so that code which ignores a
 *                         failure and goes on shows it;
 *                  after  that one and every later one fail (memory that stays short)
 *   ALLOC_COUNTER_FILE=p  the counters live in this file (created, 4 KiB, shared mapping),
 *                         so that the test reads them while the process runs or after it
 *                         was killed: two little-endian int64 at offset 0 and 8, the
 *                         allocations counted and the ones made to fail.
 * Counting starts when main() is called (the shim wraps __libc_start_main): what the
 * program does, not what its libraries' constructors do (a preloaded library is set up
 * before some of those). A free and a realloc to size 0 are not counted.
 * Before counting starts, when libcrypto is loaded, the shim has it set up its default
 * library context and fetch SHA-1 and SHA-256 (ALLOC_SPARE_LIBCRYPTO_INIT=0: not): libcrypto
 * 3.0 whose first, lazy set-up fails for want of memory goes on with a NULL lock and
 * crashes on its next use, a defect of that library that no caller can detect or avoid.
 * Every later libcrypto allocation is counted.
 *
 * The real allocator is reached through glibc's __libc_* entry points, not dlsym(RTLD_NEXT)
 * (dlsym allocates, which would come back here). Counts are atomic: libcurl's resolver
 * allocates from a thread of its own. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t alignment, size_t size);

typedef struct counters {
    _Atomic int64_t counted;
    _Atomic int64_t failed;
} counters;

static counters local_counters;
static counters *shared = &local_counters;
static int64_t fail_at;
static int fail_after;
static atomic_int armed;

static int64_t parse_count(const char *text)
{
    int64_t value = 0;
    if (text == NULL) {
        return 0;
    }
    for (; *text >= '0' && *text <= '9'; text++) {
        if (value > (INT64_MAX - 9) / 10) {
            return 0;
        }
        value = value * 10 + (*text - '0');
    }
    return *text == '\0' ? value : 0;
}

__attribute__((constructor)) static void failmalloc_init(void)
{
    fail_at = parse_count(getenv("ALLOC_FAIL_AT"));
    const char *mode = getenv("ALLOC_FAIL_MODE");
    fail_after = mode != NULL && strcmp(mode, "after") == 0;
    const char *path = getenv("ALLOC_COUNTER_FILE");
    if (path != NULL && *path != '\0') {
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0 && ftruncate(fd, 4096) == 0) {
            void *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (map != MAP_FAILED) {
                shared = map;
            }
        }
        if (fd >= 0) {
            close(fd);
        }
        if (shared == &local_counters) {
            /* A test that cannot read the counts must not pass on a run it knows nothing
             * of. */
            static const char msg[] = "failmalloc: cannot map ALLOC_COUNTER_FILE\n";
            ssize_t ignored = write(2, msg, sizeof msg - 1);
            (void)ignored;
            _exit(97);
        }
    }
}

typedef int main_fn(int, char **, char **);
typedef int start_fn(main_fn *, int, char **, void (*)(void), void (*)(void), void (*)(void),
                     void *);
static main_fn *real_main;

typedef void *fetch_fn(void *, const char *, const char *);
typedef void release_fn(void *);

static void spare_libcrypto_init(void)
{
    const char *spare = getenv("ALLOC_SPARE_LIBCRYPTO_INIT");
    if (spare != NULL && strcmp(spare, "0") == 0) {
        return;
    }
    fetch_fn *fetch = (fetch_fn *)dlsym(RTLD_DEFAULT, "EVP_MD_fetch");
    release_fn *release = (release_fn *)dlsym(RTLD_DEFAULT, "EVP_MD_free");
    if (fetch == NULL || release == NULL) {
        return;
    }
    release(fetch(NULL, "SHA1", NULL));
    release(fetch(NULL, "SHA256", NULL));
}

static int armed_main(int argc, char **argv, char **envp)
{
    spare_libcrypto_init();
    atomic_store(&armed, 1);
    return real_main(argc, argv, envp);
}

int __libc_start_main(main_fn *program, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void), void *stack_end);

/* dlsym may allocate: harmless here, since nothing is counted yet and malloc never calls
 * dlsym. */
int __libc_start_main(main_fn *program, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    start_fn *real = (start_fn *)dlsym(RTLD_NEXT, "__libc_start_main");
    if (real == NULL) {
        static const char msg[] = "failmalloc: no __libc_start_main\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        _exit(97);
    }
    real_main = program;
    return real(armed_main, argc, argv, init, fini, rtld_fini, stack_end);
}

/* Counts one allocation; true when it is to fail. */
static int should_fail(void)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed)) {
        return 0;
    }
    int64_t n = atomic_fetch_add(&shared->counted, 1) + 1;
    if (fail_at <= 0 || n < fail_at || (n > fail_at && !fail_after)) {
        return 0;
    }
    atomic_fetch_add(&shared->failed, 1);
    return 1;
}

void *malloc(size_t size)
{
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_calloc(count, size);
}

void *realloc(void *ptr, size_t size)
{
    /* realloc(p, 0) frees: nothing to fail. */
    if ((ptr == NULL || size > 0) && should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(ptr, size);
}

void free(void *ptr)
{
    __libc_free(ptr);
}

void *reallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(ptr, count * size);
}

static void *aligned(size_t alignment, size_t size)
{
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) {
        return EINVAL;
    }
    void *p = aligned(alignment, size);
    if (p == NULL) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size)
{
    return aligned(alignment, size);
}

void *memalign(size_t alignment, size_t size)
{
    return aligned(alignment, size);
}

void *valloc(size_t size)
{
    return aligned((size_t)sysconf(_SC_PAGESIZE), size);
}

void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return aligned(page, (size + page - 1) / page * page);
}

char *strdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = malloc(len);
    if (copy != NULL) {
        memcpy(copy, s, len);
    }
    return copy;
}

char *strndup(const char *s, size_t max)
{
    size_t len = strnlen(s, max);
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}
