/* Benchmark of the event hot path: decode -> diff -> build -> serialize of whole Lambda
 * events, single thread, beside jansson's parse-only time for the same bytes. */
#include <auditstream.h>

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "timing.h"

/* The bar: the whole path at least this many times faster than jansson's parse. */
#define TARGET_RATIO 5.0

#define EVENTS_DIR "events"
#define MIXED_EVENT EVENTS_DIR "/bench-1000-mixed.json"

/* Any fixed instant: only records without ApproximateCreationDateTime use it. */
#define FIXED_NOW_MS INT64_C(1714564800000)

typedef enum path_kind {
    PATH_CLASSIC,
    PATH_DETAILED,
    PATH_DECODE,
    PATH_JANSSON,
    PATH_COUNT
} path_kind;

static const char *const path_names[PATH_COUNT] = {
    "full classic", "full detailed", "decode only", "jansson parse"};

typedef struct input {
    const char *path;
    char *data;          /* the file, owned */
    const char *json;    /* `data` past a byte-order mark, as the handler would see it */
    size_t len;
    size_t records;
    size_t invalid;      /* records the decoder found invalid (they become error items) */
} input;

typedef struct run_ctx {
    const char *json;
    size_t len;
    as_audit_options options;
    as_items *items;     /* reused across runs, as the handler reuses it across invocations */
    size_t produced;     /* items (or records) the last run yielded */
    uint64_t sink;       /* folds in what each run produced, so none of it is dead */
    as_error err;
    json_error_t jerr;
} run_ctx;

/* What the runs touched; never printed, but volatile so that no run is dead code. */
static volatile uint64_t bench_sink;

typedef struct row {
    bool measured;
    bool failed;
    bench_result result;
    size_t items;        /* per event; 0 where the path builds none */
} row;

/* decode -> diff -> build -> serialize: what the handler does before sending. */
static int run_full(void *arg)
{
    run_ctx *c = arg;
    as_event *event = NULL;
    if (as_event_decode(c->json, c->len, &event, &c->err) != AS_OK) {
        return 1;
    }
    as_items_clear(c->items);
    as_status status = as_audit_build_event(event, &c->options, c->items, &c->err);
    if (status == AS_OK) {
        size_t n = as_items_count(c->items);
        for (size_t i = 0; i < n; i++) {
            as_item item = as_items_get(c->items, i);
            c->sink += item.json.len > 0 ? (unsigned char)item.json.ptr[item.json.len - 1] : 0;
        }
        c->produced = n;
    }
    as_event_free(event);
    return status == AS_OK ? 0 : 1;
}

/* Not asked for, but it splits the full path's time into decoding and building. */
static int run_decode(void *arg)
{
    run_ctx *c = arg;
    as_event *event = NULL;
    if (as_event_decode(c->json, c->len, &event, &c->err) != AS_OK) {
        return 1;
    }
    c->produced = as_event_record_count(event);
    c->sink += c->produced + as_event_record(event, 0)->raw.len;
    as_event_free(event);
    return 0;
}

static int run_jansson(void *arg)
{
    run_ctx *c = arg;
    json_t *root = json_loadb(c->json, c->len, JSON_ALLOW_NUL, &c->jerr);
    if (root == NULL) {
        return 1;
    }
    c->produced = json_array_size(json_object_get(root, "Records"));
    c->sink += c->produced;
    json_decref(root);
    return 0;
}

static bool ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text);
    size_t m = strlen(suffix);
    return n >= m && memcmp(text + n - m, suffix, m) == 0;
}

/* The largest fixture, by size, that is an event the decoder should take whole: not a
 * generated bench-* file and not the deliberately malformed one. NULL if none. */
static char *largest_fixture(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return NULL;
    }
    char *best = NULL;
    off_t best_size = -1;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        if (name[0] == '.' || !ends_with(name, ".json") || strncmp(name, "bench-", 6) == 0 ||
            strstr(name, "malformed") != NULL) {
            continue;
        }
        size_t size = strlen(dir) + 1 + strlen(name) + 1;
        char *path = malloc(size);
        struct stat st;
        if (path == NULL) {
            break;
        }
        snprintf(path, size, "%s/%s", dir, name);
        /* Ties go to the first name in byte order, so the choice never depends on readdir. */
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            (st.st_size > best_size ||
             (st.st_size == best_size && best != NULL && strcmp(path, best) < 0))) {
            free(best);
            best = path;
            best_size = st.st_size;
        } else {
            free(path);
        }
    }
    closedir(d);
    return best;
}

static int load_input(const char *path, input *in)
{
    in->path = path;
    if (bench_read_file(path, &in->data, &in->len) != 0) {
        return -1;
    }
    /* Lambda never sends a byte-order mark; editors save some fixtures with one. */
    in->json = in->data;
    if (in->len >= 3 && memcmp(in->json, "\xEF\xBB\xBF", 3) == 0) {
        in->json += 3;
        in->len -= 3;
    }
    as_event *event = NULL;
    as_error err = {0};
    if (as_event_decode(in->json, in->len, &event, &err) != AS_OK) {
        fprintf(stderr, "bench_event: %s: not a decodable event: %s\n", path, err.message);
        return -1;
    }
    in->records = as_event_record_count(event);
    in->invalid = 0;
    for (size_t i = 0; i < in->records; i++) {
        const as_record *rec = as_event_record(event, i);
        if (rec->error != NULL) {
            if (in->invalid == 0) {
                fprintf(stderr, "bench_event: %s: warning: %s\n", path, rec->error);
            }
            in->invalid++;
        }
    }
    as_event_free(event);
    if (in->records == 0) {
        fprintf(stderr, "bench_event: %s: the event has no records\n", path);
        return -1;
    }
    return 0;
}

/* Sets up the run of one path over `in`; false when out of memory. */
static bool setup_path(run_ctx *ctx, const input *in, path_kind kind, bench_fn *fn)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->json = in->json;
    ctx->len = in->len;
    ctx->options.now_ms = FIXED_NOW_MS;
    switch (kind) {
    case PATH_CLASSIC:
    case PATH_DETAILED:
        ctx->options.format = kind == PATH_CLASSIC ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED;
        ctx->items = as_items_new();
        *fn = run_full;
        return ctx->items != NULL;
    case PATH_DECODE:
        *fn = run_decode;
        return true;
    case PATH_JANSSON:
        *fn = run_jansson;
        return true;
    default:
        return false;
    }
}

/* Measures the paths of one input (all, or `only`) with their rounds interleaved, so
 * that their ratios survive a machine that is busy with something else for a while. */
static int measure_input(const bench_config *config, const input *in, int only,
                         row rows[PATH_COUNT])
{
    run_ctx ctx[PATH_COUNT];
    bench_fn fns[PATH_COUNT];
    void *ctxs[PATH_COUNT];
    path_kind kinds[PATH_COUNT];
    bench_result results[PATH_COUNT];
    size_t n = 0;
    int rc = 0;
    for (int k = 0; k < PATH_COUNT; k++) {
        if (only >= 0 && k != only) {
            continue;
        }
        kinds[n] = (path_kind)k;
        ctxs[n] = &ctx[k];
        if (!setup_path(&ctx[k], in, (path_kind)k, &fns[n])) {
            fputs("bench_event: out of memory\n", stderr);
            as_items_free(ctx[k].items);
            rc = -1;
            break;
        }
        n++;
    }
    size_t failed = 0;
    if (rc == 0) {
        rc = bench_measure_interleaved(config, n, fns, ctxs, results, &failed);
        if (rc != 0) {
            const run_ctx *c = ctxs[failed];
            fprintf(stderr, "bench_event: %s: %s failed: %s\n", in->path,
                    path_names[kinds[failed]],
                    kinds[failed] == PATH_JANSSON ? c->jerr.text : c->err.message);
        }
    }
    for (size_t i = 0; i < n; i++) {
        run_ctx *c = ctxs[i];
        row *r = &rows[kinds[i]];
        r->measured = rc == 0;
        r->failed = rc != 0;
        if (rc == 0) {
            r->result = results[i];
            r->items = c->items != NULL ? c->produced : 0;
        }
        bench_sink += c->sink;
        as_items_free(c->items);
    }
    return rc;
}

static void print_rows(const input *in, const row rows[PATH_COUNT], unsigned *pass,
                       unsigned *miss)
{
    const char *name = strrchr(in->path, '/') != NULL ? strrchr(in->path, '/') + 1 : in->path;
    double jansson = rows[PATH_JANSSON].measured ? rows[PATH_JANSSON].result.median : 0;
    bool first = true;
    for (int k = 0; k < PATH_COUNT; k++) {
        const row *r = &rows[k];
        if (!r->measured && !r->failed) {
            continue;
        }
        if (!first) {
            printf("%-38s %9s %7s", "", "", "");
        } else {
            printf("%-38.38s %9zu %7zu", name, in->len, in->records);
            first = false;
        }
        if (!r->measured) {
            printf("  %-13s  (failed)\n", path_names[k]);
            continue;
        }
        double t = r->result.median;
        printf("  %-13s %11.1f %11.0f %9.1f", path_names[k], t * 1e6, (double)in->records / t,
               (double)in->len / t / 1e6);
        if (r->items > 0) {
            printf(" %6zu %11.0f", r->items, (double)r->items / t);
        } else {
            printf(" %6s %11s", "-", "-");
        }
        if (jansson > 0 && k != PATH_JANSSON) {
            double ratio = jansson / t;
            printf("  %6.2fx", ratio);
            if (k == PATH_CLASSIC || k == PATH_DETAILED) {
                bool ok = ratio >= TARGET_RATIO;
                printf(" %s", ok ? "PASS" : "MISS");
                *(ok ? pass : miss) += 1;
            }
        } else if (k == PATH_JANSSON) {
            printf("  %6.2fx", 1.0);
        }
        printf("\n");
    }
}

static void print_cpu(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    if (f == NULL) {
        return;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *colon = strchr(line, ':');
            if (colon != NULL) {
                printf("cpu:      %s", colon + 2);
            }
            break;
        }
    }
    fclose(f);
}

static void usage(void)
{
    fputs("usage: bench_event [--time SECONDS] [--rounds N] [--only PATH] [EVENT.json ...]\n"
          "Without files: " MIXED_EVENT " and the largest fixture in " EVENTS_DIR "/.\n"
          "--only classic|detailed|decode|jansson measures that path alone (for profiling).\n"
          "Run from the top of the tree (make bench does).\n",
          stderr);
}

int main(int argc, char **argv)
{
    bench_config config = BENCH_CONFIG_DEFAULT;
    if (bench_parse_args(&argc, argv, &config) != 0) {
        usage();
        return 2;
    }
    /* --only: one path, so that a profiler sees nothing else. */
    static const char *const only_names[PATH_COUNT] = {"classic", "detailed", "decode",
                                                       "jansson"};
    int only = -1;
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            i++;
            for (int k = 0; k < PATH_COUNT; k++) {
                if (strcmp(argv[i], only_names[k]) == 0) {
                    only = k;
                }
            }
            if (only < 0) {
                usage();
                return 2;
            }
        } else if (argv[i][0] == '-') {
            usage();
            return 2;
        } else {
            argv[kept++] = argv[i];
        }
    }
    argc = kept;

    const char *paths[64];
    size_t npaths = 0;
    char *fixture = NULL;
    if (argc > 1) {
        if ((size_t)argc - 1 > sizeof paths / sizeof paths[0]) {
            fprintf(stderr, "bench_event: at most %zu inputs\n", sizeof paths / sizeof paths[0]);
            return 2;
        }
        for (int i = 1; i < argc; i++) {
            paths[npaths++] = argv[i];
        }
    } else {
        paths[npaths++] = MIXED_EVENT;
        fixture = largest_fixture(EVENTS_DIR);
        if (fixture == NULL) {
            fputs("bench_event: no fixture found in " EVENTS_DIR "/ (run from the top of the "
                  "tree)\n",
                  stderr);
            return 2;
        }
        paths[npaths++] = fixture;
    }

    printf("bench_event: Lambda DynamoDB Streams event -> audit items, single thread\n");
    printf("path:     full = as_event_decode -> as_audit_build_event (diff, build, serialize)"
           " into a reused as_items\n");
    printf("          jansson parse = json_loadb(JSON_ALLOW_NUL) + json_decref of the same"
           " bytes\n");
    printf("timing:   median of >= %u rounds, >= %g s per row, the rows' rounds taking"
           " turns; CLOCK_MONOTONIC; MB = 10^6 bytes\n",
           config.rounds, config.min_seconds);
#if defined(__clang__)
    const char *compiler = "clang " __clang_version__;
#else
    const char *compiler = "gcc " __VERSION__;
#endif
#if defined(__OPTIMIZE__)
    const char *optimized = "optimized";
#else
    const char *optimized = "NOT OPTIMIZED: the numbers mean little";
#endif
    printf("build:    %s, %s; jansson %s\n", compiler, optimized, jansson_version_str());
    print_cpu();
    printf("\n%-38s %9s %7s  %-13s %11s %11s %9s %6s %11s  %s\n", "input", "bytes", "records",
           "path", "us/event", "records/s", "MB/s", "items", "items/s",
           "speed vs jansson (target >= 5x)");

    int status = 0;
    unsigned pass = 0;
    unsigned miss = 0;
    for (size_t i = 0; i < npaths; i++) {
        input in = {0};
        row rows[PATH_COUNT];
        memset(rows, 0, sizeof rows);
        if (load_input(paths[i], &in) != 0) {
            free(in.data);
            status = 1;
            continue;
        }
        if (measure_input(&config, &in, only, rows) != 0) {
            status = 1;
        }
        print_rows(&in, rows, &pass, &miss);
        if (in.invalid > 0) {
            printf("%-38s (%zu of %zu records invalid: they became error items)\n", "",
                   in.invalid, in.records);
        }
        fflush(stdout);
        free(in.data);
    }
    free(fixture);

    printf("\ntarget: full path >= %.0fx jansson's parse-only speed: %u PASS, %u MISS%s\n",
           TARGET_RATIO, pass, miss, status != 0 ? " (some rows failed)" : "");
    /* A report, not a test: a MISS does not fail, only an input that cannot be run. */
    return status;
}
