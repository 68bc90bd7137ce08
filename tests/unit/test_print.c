/* bootstrap with the trust settings: `--print` builds items with the actor, retention and
 * redaction the function would use, checks AUDIT_CHAIN, refuses a bad variable with its
 * init error, and never shows the redaction key; the function passes them on and says so.
 * Runs from the top of the tree (make check-unit does); the plain AUDIT_FORMAT and
 * AUDIT_IGNORE_ATTRIBUTES cases of --print are test_golden's. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auditstream.h"
#include "auditstream/chain.h"
#include "auditstream/config.h"
#include "fault_client.h"

/* The bootstrap beside this binary's build directory ($(BUILD)/tests/../bootstrap),
 * else ./build/bootstrap. */
static char bootstrap_path[4096] = "./build/bootstrap";

/* The shell words that run the bootstrap with none of the variables that shape items or
 * configure the function, whatever the caller's environment holds. */
#define CLEAN_ENV                                                                                  \
    "env -u AUDIT_FORMAT -u AUDIT_IGNORE_ATTRIBUTES -u AUDIT_TABLE -u target_table "               \
    "-u AUDIT_ACTOR_ATTRIBUTE -u AUDIT_RETENTION_DAYS -u AUDIT_REDACT_ATTRIBUTES "                 \
    "-u AUDIT_REDACT_KEY -u AUDIT_CHAIN -u AUDIT_WRITE_API -u AUDIT_CONCURRENCY "

/* A 32-byte key of printable bytes, so that the test can look for it raw too. */
#define KEY_RAW "this-is-a-32-byte-redaction-key!"
#define KEY_B64 "dGhpcy1pcy1hLTMyLWJ5dGUtcmVkYWN0aW9uLWtleSE="

#define SECRET_1 "hunter2-first"
#define SECRET_2 "hunter2-second"

#define ARN                                                                                        \
    "arn:aws:dynamodb:eu-west-1:123456789012:table/Configuration/stream/2024-05-01T00:00:00.000"
#define RECORD(id, name, seq, time, extra)                                                         \
    "{\"eventID\":\"" id "\",\"eventName\":\"" name "\",\"eventVersion\":\"1.1\","                 \
    "\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"eu-west-1\",\"eventSourceARN\":\"" ARN       \
    "\"," extra "\"dynamodb\":{\"ApproximateCreationDateTime\":" time ",\"SequenceNumber\":\"" seq \
    "\","                                                                                          \
    "\"SizeBytes\":10,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\","
#define IMAGE_1                                                                                    \
    "{\"key\":{\"S\":\"db\"},\"value\":{\"N\":\"1\"},\"updatedBy\":{\"S\":\"alice\"},"             \
    "\"secret\":{\"S\":\"" SECRET_1 "\"}}"
#define IMAGE_2                                                                                    \
    "{\"key\":{\"S\":\"db\"},\"value\":{\"N\":\"2\"},\"updatedBy\":{\"S\":\"bob\"},"               \
    "\"secret\":{\"S\":\"" SECRET_2 "\"}}"
#define IMAGE_TMP                                                                                  \
    "{\"key\":{\"S\":\"tmp\"},\"updatedBy\":{\"S\":\"carol\"},\"secret\":{\"S\":\"" SECRET_1 "\"}" \
    "}"

/* A life of two items: created, updated, deleted by a user; created, expired by TTL. */
static const char EVENT[] = "{\"Records\":[" RECORD(
    "e1", "INSERT", "100", "1714566645.5",
    "") "\"Keys\":{\"key\":{\"S\":\"db\"}},\"NewImage\":" IMAGE_1
        "}}," RECORD(
            "e2", "MODIFY", "200", "1714566700.25",
            "") "\"Keys\":{\"key\":{\"S\":\"db\"}},\"OldImage\":" IMAGE_1 ",\"NewImage\":" IMAGE_2
                "}}," RECORD(
                    "e3", "REMOVE", "300", "1714566800",
                    "") "\"Keys\":{\"key\":{\"S\":\"db\"}},\"OldImage\":" IMAGE_2
                        "}}," RECORD(
                            "e4", "INSERT", "400", "1714566900",
                            "") "\"Keys\":{\"key\":{\"S\":\"tmp\"}},\"NewImage\":" IMAGE_TMP
                                "}}," RECORD(
                                    "e5", "REMOVE", "500", "1714567000",
                                    "\"userIdentity\":{\"type\":\"Service\",\"principalId\":"
                                    "\"dynamodb.amazonaws.com\"},") "\"Keys\":{\"key\":{\"S\":"
                                                                    "\"tmp\"}},"
                                                                    "\"OldImage\":" IMAGE_TMP "}}"
                                                                    "]}";

/* What each record's items must say, by their modificationTime. */
static const struct {
    const char *time;
    int64_t seconds;
    const char *actor;
    const char *source;
} EXPECT[] = {
    {"2024-05-01T12:30:45.500Z", 1714566645, "alice", "item"},
    {"2024-05-01T12:31:40.250Z", 1714566700, "bob", "item"},
    {"2024-05-01T12:33:20.000Z", 1714566800, "bob", "last-writer"},
    {"2024-05-01T12:35:00.000Z", 1714566900, "carol", "item"},
    {"2024-05-01T12:36:40.000Z", 1714567000, "dynamodb.amazonaws.com", "ttl"},
};

static void need_bootstrap(void)
{
    if (access(bootstrap_path, X_OK) != 0) {
        fail_msg("%s is missing: build it first (make unit builds it)", bootstrap_path);
    }
}

/* The temporary files a test wrote, removed after each test even when it failed. */
static char temp_paths[2][64];
static size_t temp_count;

/* Writes `len` bytes to a new temporary file; its path goes in `path`. */
static void write_temp(const char *data, size_t len, char path[64])
{
    assert_true(temp_count < sizeof temp_paths / sizeof temp_paths[0]);
    snprintf(path, 64, "/tmp/test_print.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    memcpy(temp_paths[temp_count++], path, 64);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int remove_temps(void **state)
{
    (void)state;
    for (size_t i = 0; i < temp_count; i++) {
        unlink(temp_paths[i]);
    }
    temp_count = 0;
    return 0;
}

/* The output of a command run through the shell; new (free it). */
typedef struct output {
    char *data;
    size_t len;
    int status;
} output;

static output run(const char *command)
{
    FILE *p = popen(command, "r");
    assert_non_null(p);
    output out = {NULL, 0, -1};
    size_t cap = 1 << 16;
    out.data = malloc(cap + 1);
    assert_non_null(out.data);
    size_t got;
    while ((got = fread(out.data + out.len, 1, cap - out.len, p)) > 0) {
        out.len += got;
        if (out.len == cap) {
            cap *= 2;
            out.data = realloc(out.data, cap + 1);
            assert_non_null(out.data);
        }
    }
    out.data[out.len] = '\0';
    int status = pclose(p);
    assert_true(WIFEXITED(status));
    out.status = WEXITSTATUS(status);
    return out;
}

/* bootstrap --print FILE with `vars` (VAR=value shell words) and `args`: stdout, or
 * stderr when `want_stderr`. */
static output print_with(const char *vars, const char *file, const char *args, bool want_stderr)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, CLEAN_ENV "%s '%s' --print '%s' %s %s", vars, bootstrap_path, file,
             args, want_stderr ? "2>&1 >/dev/null" : "2>/dev/null");
    return run(cmd);
}

/* A getenv over "NAME=value" strings, for the library's side of a comparison. */
static const char *list_getenv(const char *name, void *ctx)
{
    const char *const *pairs = ctx;
    size_t n = strlen(name);
    for (size_t i = 0; pairs[i] != NULL; i++) {
        if (strncmp(pairs[i], name, n) == 0 && pairs[i][n] == '=') {
            return pairs[i] + n + 1;
        }
    }
    return NULL;
}

/* The items the library builds from `json` with the item settings in `pairs` (NULL-ended
 * "NAME=value"), one line each, as --print prints them; new (free it). */
static char *library_lines(const char *json, size_t len, const char *const *pairs, as_format format,
                           uint32_t reserve)
{
    as_config config;
    memset(&config, 0, sizeof config);
    as_error err = {0};
    if (as_config_items_from_env(list_getenv, (void *)(uintptr_t)pairs, &config, &err) != AS_OK) {
        fail_msg("config: %s", err.message);
    }
    as_event *event = NULL;
    assert_int_equal(as_event_decode(json, len, &event, &err), AS_OK);
    as_items *items = as_items_new();
    assert_non_null(items);
    as_audit_options options = {.format = format,
                                .ignore = config.ignore,
                                .ignore_count = config.ignore_count,
                                .now_ms = 0,
                                .actor_attribute = config.actor_attribute,
                                .retention_days = config.retention_days,
                                .redact = config.redact,
                                .redact_count = config.redact_count,
                                .redact_key = config.redact_key,
                                .redact_key_len = config.redact_key_len,
                                .reserve_bytes = reserve};
    assert_int_equal(as_audit_build_event(event, &options, items, &err), AS_OK);
    as_buf out = AS_BUF_INIT;
    for (size_t i = 0; i < as_items_count(items); i++) {
        as_item item = as_items_get(items, i);
        as_buf_append(&out, item.json.ptr, item.json.len);
        as_buf_append(&out, "\n", 1);
    }
    as_buf_append(&out, "", 1);
    assert_int_equal(as_buf_status(&out), AS_OK);
    as_items_free(items);
    as_event_free(event);
    as_config_wipe(&config);
    char *text = strdup(out.data);
    assert_non_null(text);
    as_buf_free(&out);
    return text;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/* Lower-case hex of HMAC-SHA256(KEY_RAW, `canonical`). */
static void hmac_hex(const char *canonical, char hex[65])
{
    unsigned char mac[32];
    unsigned int len = 0;
    assert_non_null(HMAC(EVP_sha256(), KEY_RAW, 32, (const unsigned char *)canonical,
                         strlen(canonical), mac, &len));
    assert_int_equal(len, 32);
    for (size_t i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    }
}

/* Neither the key's text nor its bytes nor a secret value anywhere in `text`. */
static void assert_nothing_secret(const char *text)
{
    assert_null(strstr(text, KEY_B64));
    assert_null(strstr(text, KEY_RAW));
    assert_null(strstr(text, "hunter2"));
}

/* Checks every line of --print's output against EXPECT: the actor fields, expiresAt from
 * the change's time, and the redacted values (with an hmac when `keyed`). */
static void check_trust_lines(const char *text, uint32_t days, bool keyed)
{
    size_t lines = 0;
    for (const char *line = text; *line != '\0'; lines++) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        json_error_t jerr;
        json_t *item = json_loadb(line, (size_t)(end - line), 0, &jerr);
        if (item == NULL) {
            fail_msg("line %zu is not JSON: %s", lines + 1, jerr.text);
        }
        const char *time =
            json_string_value(json_object_get(json_object_get(item, "modificationTime"), "S"));
        assert_non_null(time);
        size_t k = 0;
        while (k < sizeof EXPECT / sizeof EXPECT[0] && strcmp(EXPECT[k].time, time) != 0) {
            k++;
        }
        if (k == sizeof EXPECT / sizeof EXPECT[0]) {
            fail_msg("line %zu: unexpected modificationTime %s", lines + 1, time);
        }
        const char *actor = json_string_value(json_object_get(json_object_get(item, "actor"), "S"));
        const char *source =
            json_string_value(json_object_get(json_object_get(item, "actorSource"), "S"));
        if (actor == NULL || source == NULL || strcmp(actor, EXPECT[k].actor) != 0 ||
            strcmp(source, EXPECT[k].source) != 0) {
            fail_msg("line %zu: actor %s (%s), want %s (%s)", lines + 1, actor ? actor : "none",
                     source ? source : "none", EXPECT[k].actor, EXPECT[k].source);
        }
        const char *expires =
            json_string_value(json_object_get(json_object_get(item, "expiresAt"), "N"));
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)(EXPECT[k].seconds + (int64_t)days * 86400));
        if (expires == NULL || strcmp(expires, want) != 0) {
            fail_msg("line %zu: expiresAt %s, want %s", lines + 1, expires ? expires : "none",
                     want);
        }
        json_decref(item);
        line = end + 1;
    }
    assert_true(lines >= 5);

    /* Every value of `secret` is a marker; with the key, each carries the HMAC of the
     * canonical form of one of the two values, and nothing else does. */
    size_t markers = count_of(text, "{\"redacted\":{\"BOOL\":true");
    assert_true(markers >= 5);
    char first[65];
    char second[65];
    hmac_hex("{\"S\":\"" SECRET_1 "\"}", first);
    hmac_hex("{\"S\":\"" SECRET_2 "\"}", second);
    char with_first[128];
    char with_second[128];
    snprintf(with_first, sizeof with_first, "\"redacted\":{\"BOOL\":true},\"hmac\":{\"S\":\"%s\"}",
             first);
    snprintf(with_second, sizeof with_second,
             "\"redacted\":{\"BOOL\":true},\"hmac\":{\"S\":\"%s\"}", second);
    if (keyed) {
        size_t n1 = count_of(text, with_first);
        size_t n2 = count_of(text, with_second);
        assert_true(n1 > 0 && n2 > 0);
        assert_int_equal(n1 + n2, markers);
        assert_int_equal(count_of(text, "\"hmac\""), markers);
    } else {
        assert_int_equal(count_of(text, "{\"M\":{\"redacted\":{\"BOOL\":true}}}"), markers);
        assert_null(strstr(text, "hmac"));
    }
    /* The key attribute is never redacted, and the actor's own attribute is kept. */
    assert_non_null(strstr(text, "\"key\":{\"S\":\"db\"}"));
    assert_non_null(strstr(text, "\"updatedBy\":{\"S\":\"alice\"}"));
    assert_nothing_secret(text);
}

static void test_print_trust_settings(void **state)
{
    (void)state;
    need_bootstrap();
    char path[64];
    write_temp(EVENT, sizeof EVENT - 1, path);
    static const struct {
        const char *vars;     /* for env */
        const char *pairs[6]; /* the same, for the library */
        uint32_t days;
        bool keyed;
    } CASES[] = {
        {"AUDIT_ACTOR_ATTRIBUTE=updatedBy AUDIT_RETENTION_DAYS=30 "
         "AUDIT_REDACT_ATTRIBUTES=secret,key "
         "AUDIT_REDACT_KEY=" KEY_B64,
         {"AUDIT_ACTOR_ATTRIBUTE=updatedBy", "AUDIT_RETENTION_DAYS=30",
          "AUDIT_REDACT_ATTRIBUTES=secret,key", "AUDIT_REDACT_KEY=" KEY_B64, NULL},
         30,
         true},
        {"'AUDIT_ACTOR_ATTRIBUTE= updatedBy\t' AUDIT_RETENTION_DAYS=36500 "
         "'AUDIT_REDACT_ATTRIBUTES= secret '",
         {"AUDIT_ACTOR_ATTRIBUTE= updatedBy\t", "AUDIT_RETENTION_DAYS=36500",
          "AUDIT_REDACT_ATTRIBUTES= secret ", NULL},
         36500,
         false},
        {"AUDIT_ACTOR_ATTRIBUTE=updatedBy AUDIT_RETENTION_DAYS=1 AUDIT_REDACT_ATTRIBUTES=secret "
         "AUDIT_REDACT_KEY=" KEY_B64 " AUDIT_CHAIN=on",
         {"AUDIT_ACTOR_ATTRIBUTE=updatedBy", "AUDIT_RETENTION_DAYS=1",
          "AUDIT_REDACT_ATTRIBUTES=secret", "AUDIT_REDACT_KEY=" KEY_B64, "AUDIT_CHAIN=on", NULL},
         1,
         true},
    };
    static const struct {
        const char *args;
        as_format format;
    } FORMATS[] = {{"", AS_FORMAT_CLASSIC}, {"--format detailed", AS_FORMAT_DETAILED}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        for (size_t f = 0; f < 2; f++) {
            output out = print_with(CASES[i].vars, path, FORMATS[f].args, false);
            if (out.status != 0) {
                fail_msg("case %zu %s: exit %d", i, FORMATS[f].args, out.status);
            }
            check_trust_lines(out.data, CASES[i].days, CASES[i].keyed);
            /* The chain's fields need the table: never printed. */
            assert_null(strstr(out.data, "\"chain"));
            /* Exactly what the library builds with those settings. */
            bool chain = strstr(CASES[i].vars, "AUDIT_CHAIN=on") != NULL;
            char *want = library_lines(EVENT, sizeof EVENT - 1, CASES[i].pairs, FORMATS[f].format,
                                       chain ? AS_CHAIN_FIELDS_SIZE : 0);
            if (strcmp(out.data, want) != 0) {
                fail_msg("case %zu %s: --print differs from the library:\n%s\nwant:\n%s", i,
                         FORMATS[f].args, out.data, want);
            }
            free(want);
            /* Nothing on stderr either, and no secret there. */
            output err = print_with(CASES[i].vars, path, FORMATS[f].args, true);
            assert_int_equal(err.status, 0);
            assert_int_equal(err.len, 0);
            free(err.data);
            free(out.data);
        }
    }
    /* Without the settings: none of the trust fields, the secrets in clear (the baseline
     * that shows the cases above changed something). */
    output plain = print_with("", path, "", false);
    assert_int_equal(plain.status, 0);
    assert_null(strstr(plain.data, "\"actorSource\":{\"S\":\"item\"}"));
    assert_null(strstr(plain.data, "expiresAt"));
    assert_null(strstr(plain.data, "redacted"));
    assert_non_null(strstr(plain.data, SECRET_1));
    /* A TTL delete is named whether or not the actor attribute is set. */
    assert_int_equal(count_of(plain.data, "\"actorSource\":{\"S\":\"ttl\"}"), 1);
    free(plain.data);
}

/* AUDIT_CHAIN is read and checked by --print, but changes no item of a small event: the
 * output is the same on and off. */
static void test_print_chain_checked(void **state)
{
    (void)state;
    need_bootstrap();
    char path[64];
    write_temp(EVENT, sizeof EVENT - 1, path);
    output off = print_with("AUDIT_CHAIN=off", path, "", false);
    output on = print_with("AUDIT_CHAIN=on", path, "", false);
    output unset = print_with("", path, "", false);
    assert_int_equal(off.status, 0);
    assert_int_equal(on.status, 0);
    assert_string_equal(on.data, off.data);
    assert_string_equal(unset.data, off.data);
    assert_null(strstr(on.data, "chainPrev"));
    free(off.data);
    free(on.data);
    free(unset.data);
}

/* An INSERT whose one item is `blob_len` bytes of string past its other fields. */
static char *big_event(size_t blob_len, size_t *len)
{
    static const char head[] =
        "{\"Records\":[{\"eventID\":\"big\",\"eventName\":\"INSERT\",\"eventVersion\":\"1.1\","
        "\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"eu-west-1\",\"eventSourceARN\":\"" ARN
        "\","
        "\"dynamodb\":{\"ApproximateCreationDateTime\":1714566645,\"SequenceNumber\":\"1\","
        "\"SizeBytes\":10,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\","
        "\"Keys\":{\"key\":{\"S\":\"big\"}},\"NewImage\":{\"key\":{\"S\":\"big\"},\"blob\":{\"S\":"
        "\"";
    static const char tail[] = "\"}}}}]}";
    *len = sizeof head - 1 + blob_len + sizeof tail - 1;
    char *json = malloc(*len + 1);
    assert_non_null(json);
    memcpy(json, head, sizeof head - 1);
    memset(json + sizeof head - 1, 'x', blob_len);
    memcpy(json + sizeof head - 1 + blob_len, tail, sizeof tail);
    return json;
}

/* With AUDIT_CHAIN=on the function leaves room for the chain's fields under 400 KB, so an
 * item that only just fits without them is cut: --print cuts it the same way. */
static void test_print_chain_room(void **state)
{
    (void)state;
    need_bootstrap();
    static const char *const none[] = {NULL};
    /* The longest value that fits without the room but not with it. */
    size_t blob = 0;
    char *json = NULL;
    size_t len = 0;
    for (size_t n = AS_ITEM_MAX_SIZE; n > AS_ITEM_MAX_SIZE - 2048 && blob == 0; n -= 16) {
        json = big_event(n, &len);
        char *loose = library_lines(json, len, none, AS_FORMAT_CLASSIC, 0);
        char *tight = library_lines(json, len, none, AS_FORMAT_CLASSIC, AS_CHAIN_FIELDS_SIZE);
        if (strstr(loose, "truncated") == NULL && strstr(tight, "truncated") != NULL) {
            blob = n;
        } else {
            free(json);
            json = NULL;
        }
        free(loose);
        free(tight);
    }
    assert_true(blob > 0);
    char path[64];
    write_temp(json, len, path);
    output on = print_with("AUDIT_CHAIN=on", path, "", false);
    output off = print_with("AUDIT_CHAIN=off", path, "", false);
    assert_int_equal(on.status, 0);
    assert_int_equal(off.status, 0);
    assert_non_null(strstr(on.data, "\"truncated\":{\"BOOL\":true}"));
    assert_null(strstr(off.data, "truncated"));
    char *want_on = library_lines(json, len, none, AS_FORMAT_CLASSIC, AS_CHAIN_FIELDS_SIZE);
    assert_string_equal(on.data, want_on);
    free(want_on);
    free(on.data);
    free(off.data);
    free(json);
}

/* ---- against the trust goldens (tests/golden/trust/, written by audit_model.py) ---------- */

#define TRUST_DIR "tests/golden/trust"
/* The clock the goldens stamped records without ApproximateCreationDateTime with. */
#define GOLDEN_NOW "2024-05-01T12:30:45.678Z"

/* The AUDIT_*=value lines of TRUST_DIR/settings as shell words ('...' quoted), into `out`. */
static void trust_vars(char *out, size_t cap)
{
    FILE *f = fopen(TRUST_DIR "/settings", "r");
    assert_non_null(f);
    char line[1024];
    size_t n = 0;
    size_t count = 0;
    out[0] = '\0';
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "AUDIT_", 6) != 0) {
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        assert_null(strchr(line, '\''));
        int w = snprintf(out + n, cap - n, "'%s' ", line);
        assert_true(w > 0 && (size_t)w < cap - n);
        n += (size_t)w;
        count++;
    }
    fclose(f);
    assert_true(count >= 4); /* actor, retention, redact list and key at least */
}

/* A line with the processing time's fields taken out (modificationTime, historySort,
 * expiresAt): what --print and the golden share for a record the clock stamped. */
static json_t *without_clock(const char *line, size_t len)
{
    json_error_t jerr;
    json_t *item = json_loadb(line, len, 0, &jerr);
    if (item == NULL) {
        fail_msg("not JSON: %.*s", (int)len, line);
    }
    json_object_del(item, "modificationTime");
    json_object_del(item, "historySort");
    json_object_del(item, "expiresAt");
    return item;
}

static bool holds(const char *text, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(text + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Compares --print's output with a golden, line by line: byte for byte, but for lines
 * of records the clock stamped, compared without the clock's fields. */
static void compare_with_golden(const char *got, const char *want, const char *what)
{
    size_t line = 1;
    while (*got != '\0' && *want != '\0') {
        const char *got_end = strchr(got, '\n');
        const char *want_end = strchr(want, '\n');
        assert_non_null(got_end);
        assert_non_null(want_end);
        size_t got_len = (size_t)(got_end - got);
        size_t want_len = (size_t)(want_end - want);
        bool same = got_len == want_len && memcmp(got, want, got_len) == 0;
        if (!same && holds(want, want_len, GOLDEN_NOW)) {
            json_t *a = without_clock(got, got_len);
            json_t *b = without_clock(want, want_len);
            same = json_equal(a, b);
            json_decref(a);
            json_decref(b);
        }
        if (!same) {
            fail_msg("%s, line %zu:\n%.*s\nwant:\n%.*s", what, line, (int)got_len, got,
                     (int)want_len, want);
        }
        got = got_end + 1;
        want = want_end + 1;
        line++;
    }
    if (*got != '\0' || *want != '\0') {
        fail_msg("%s: %s lines after line %zu", what, *got != '\0' ? "extra" : "missing", line);
    }
}

/* bootstrap --print with the goldens' trust settings gives the goldens, every fixture in
 * both formats, the chain on or off. */
static void test_print_trust_goldens(void **state)
{
    (void)state;
    need_bootstrap();
    char vars[4096];
    trust_vars(vars, sizeof vars);
    DIR *dir = opendir(TRUST_DIR);
    assert_non_null(dir);
    size_t compared = 0;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        const char *format = NULL;
        size_t stem = 0;
        if (len > 14 && strcmp(name + len - 14, ".classic.jsonl") == 0) {
            format = "classic";
            stem = len - 14;
        } else if (len > 15 && strcmp(name + len - 15, ".detailed.jsonl") == 0) {
            format = "detailed";
            stem = len - 15;
        } else {
            continue;
        }
        char fixture[600];
        char golden[600];
        snprintf(fixture, sizeof fixture, "events/%.*s.json", (int)stem, name);
        snprintf(golden, sizeof golden, TRUST_DIR "/%s", name);
        FILE *g = fopen(golden, "rb");
        assert_non_null(g);
        static char want[1 << 20];
        size_t want_len = fread(want, 1, sizeof want - 1, g);
        assert_true(feof(g));
        fclose(g);
        want[want_len] = '\0';
        static const char *const chain[] = {"", "AUDIT_CHAIN=off ", "AUDIT_CHAIN=on "};
        for (size_t c = 0; c < sizeof chain / sizeof chain[0]; c++) {
            char env_words[5000];
            char args[64];
            snprintf(env_words, sizeof env_words, "%s%s", chain[c], vars);
            snprintf(args, sizeof args, "--format %s", format);
            output out = print_with(env_words, fixture, args, false);
            char what[700];
            snprintf(what, sizeof what, "%s%s", chain[c], name);
            if (out.status != 0) {
                fail_msg("%s: exit %d", what, out.status);
            }
            compare_with_golden(out.data, want, what);
            assert_nothing_secret(out.data);
            free(out.data);
            compared++;
        }
    }
    closedir(dir);
    assert_true(compared >= 3 * 30);
}

/* A trust variable the function would refuse at init: exit status 2, exactly the init
 * error's message on one line of stderr, nothing on stdout, the key nowhere. */
static void test_print_refuses_bad_trust_variables(void **state)
{
    (void)state;
    need_bootstrap();
    static const struct {
        const char *vars;
        const char *pairs[3];
    } CASES[] = {
        {"AUDIT_RETENTION_DAYS=0", {"AUDIT_RETENTION_DAYS=0", NULL}},
        {"AUDIT_RETENTION_DAYS=-1", {"AUDIT_RETENTION_DAYS=-1", NULL}},
        {"AUDIT_RETENTION_DAYS=1.5", {"AUDIT_RETENTION_DAYS=1.5", NULL}},
        {"AUDIT_RETENTION_DAYS=36501", {"AUDIT_RETENTION_DAYS=36501", NULL}},
        {"'AUDIT_RETENTION_DAYS= 7'", {"AUDIT_RETENTION_DAYS= 7", NULL}},
        {"AUDIT_RETENTION_DAYS=99999999999999999999",
         {"AUDIT_RETENTION_DAYS=99999999999999999999", NULL}},
        {"AUDIT_REDACT_ATTRIBUTES=a,,b", {"AUDIT_REDACT_ATTRIBUTES=a,,b", NULL}},
        {"AUDIT_REDACT_ATTRIBUTES=a,", {"AUDIT_REDACT_ATTRIBUTES=a,", NULL}},
        {"'AUDIT_ACTOR_ATTRIBUTE= '", {"AUDIT_ACTOR_ATTRIBUTE= ", NULL}},
        {"AUDIT_ACTOR_ATTRIBUTE=a,b", {"AUDIT_ACTOR_ATTRIBUTE=a,b", NULL}},
        {"AUDIT_ACTOR_ATTRIBUTE=who AUDIT_REDACT_ATTRIBUTES=who",
         {"AUDIT_ACTOR_ATTRIBUTE=who", "AUDIT_REDACT_ATTRIBUTES=who", NULL}},
        {"AUDIT_ACTOR_ATTRIBUTE=who 'AUDIT_IGNORE_ATTRIBUTES=x, who'",
         {"AUDIT_ACTOR_ATTRIBUTE=who", "AUDIT_IGNORE_ATTRIBUTES=x, who", NULL}},
        {"AUDIT_REDACT_KEY=c2hvcnQ=", {"AUDIT_REDACT_KEY=c2hvcnQ=", NULL}},
        {"AUDIT_REDACT_KEY=dGhpcy1pcy1hLTMyLWJ5dGUtcmVkYWN0aW9uLWtleSE",
         {"AUDIT_REDACT_KEY=dGhpcy1pcy1hLTMyLWJ5dGUtcmVkYWN0aW9uLWtleSE", NULL}},
        {"AUDIT_REDACT_KEY=dGhpcy1pcy1hLTMyLWJ5dGUtcmVkYWN0aW9uLWtleSE==",
         {"AUDIT_REDACT_KEY=dGhpcy1pcy1hLTMyLWJ5dGUtcmVkYWN0aW9uLWtleSE==", NULL}},
        {"AUDIT_REDACT_KEY=dGhpcy1pcy1hLTMyLWJ5dGUtcmVkYWN0aW9uLWtleSE_",
         {"AUDIT_REDACT_KEY=dGhpcy1pcy1hLTMyLWJ5dGUtcmVkYWN0aW9uLWtleSE_", NULL}},
        {"AUDIT_REDACT_KEY=" KEY_RAW, {"AUDIT_REDACT_KEY=" KEY_RAW, NULL}},
        {"AUDIT_CHAIN=yes", {"AUDIT_CHAIN=yes", NULL}},
        {"AUDIT_CHAIN=ON", {"AUDIT_CHAIN=ON", NULL}},
        {"AUDIT_CHAIN=on AUDIT_RETENTION_DAYS=0 AUDIT_REDACT_KEY=" KEY_B64,
         {"AUDIT_RETENTION_DAYS=0", NULL}},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        /* The init error the function gives for the same variables. */
        as_config config;
        memset(&config, 0, sizeof config);
        as_error want = {0};
        assert_int_equal(as_config_items_from_env(list_getenv, (void *)(uintptr_t)CASES[i].pairs,
                                                  &config, &want),
                         AS_ERR_ARGUMENT);
        char line[sizeof want.message + 16];
        snprintf(line, sizeof line, "bootstrap: %s\n", want.message);
        static const char *const args[] = {"", "--format detailed"};
        for (size_t a = 0; a < 2; a++) {
            output err = print_with(CASES[i].vars, "events/aws-lambda-java-libs-dynamo_event.json",
                                    args[a], true);
            if (err.status != 2 || strcmp(err.data, line) != 0) {
                fail_msg("case %zu: exit %d, stderr \"%s\", want \"%s\"", i, err.status, err.data,
                         line);
            }
            assert_nothing_secret(err.data);
            free(err.data);
            output out = print_with(CASES[i].vars, "events/aws-lambda-java-libs-dynamo_event.json",
                                    args[a], false);
            assert_int_equal(out.status, 2);
            assert_int_equal(out.len, 0);
            free(out.data);
        }
    }
}

/* The usage text names the variables --print reads. */
static void test_print_usage(void **state)
{
    (void)state;
    need_bootstrap();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' --help", bootstrap_path);
    output out = run(cmd);
    assert_int_equal(out.status, 0);
    static const char *const names[] = {
        "AUDIT_FORMAT",         "AUDIT_IGNORE_ATTRIBUTES", "AUDIT_ACTOR_ATTRIBUTE",
        "AUDIT_RETENTION_DAYS", "AUDIT_REDACT_ATTRIBUTES", "AUDIT_REDACT_KEY",
        "AUDIT_CHAIN"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strstr(out.data, names[i]) == NULL) {
            fail_msg("--help does not name %s:\n%s", names[i], out.data);
        }
    }
    free(out.data);
}

/* The function: the settings reach it (its "ready" line says what shapes the trail), a bad
 * one is a FATAL init error naming it, and the key is in no line either way. The Runtime
 * API is a port nothing listens on, so the process ends by itself after its retries. */
static void test_function_settings(void **state)
{
    (void)state;
    need_bootstrap();
    unsigned port = closed_loopback_port();
    assert_true(port > 0);
    static const char base[] = "env -i AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID=AKIDEXAMPLE "
                               "AWS_SECRET_ACCESS_KEY=secretEXAMPLE AUDIT_TABLE=Audit "
                               "AWS_LAMBDA_LOG_FORMAT=JSON";
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "%s AWS_LAMBDA_RUNTIME_API=127.0.0.1:%u AUDIT_ACTOR_ATTRIBUTE=updatedBy "
             "AUDIT_RETENTION_DAYS=90 AUDIT_REDACT_ATTRIBUTES=secret,pin AUDIT_REDACT_KEY=" KEY_B64
             " AUDIT_CHAIN=on AUDIT_WRITE_API=BatchWriteItem AUDIT_FORMAT=detailed "
             "AUDIT_IGNORE_ATTRIBUTES=version '%s' 2>&1",
             base, port, bootstrap_path);
    output good = run(cmd);
    assert_int_equal(good.status, 1); /* the Runtime API never answered */
    const char *end = strchr(good.data, '\n');
    assert_non_null(end);
    json_error_t jerr;
    json_t *ready = json_loadb(good.data, (size_t)(end - good.data), 0, &jerr);
    if (ready == NULL) {
        fail_msg("first line is not JSON: %s", good.data);
    }
    assert_string_equal(json_string_value(json_object_get(ready, "message")), "ready");
    assert_string_equal(json_string_value(json_object_get(ready, "write_api")), "BatchWriteItem");
    assert_string_equal(json_string_value(json_object_get(ready, "format")), "detailed");
    assert_int_equal(json_integer_value(json_object_get(ready, "ignored_attributes")), 1);
    assert_true(json_is_true(json_object_get(ready, "chain")));
    assert_int_equal(json_integer_value(json_object_get(ready, "retention_days")), 90);
    assert_int_equal(json_integer_value(json_object_get(ready, "redacted_attributes")), 2);
    assert_true(json_is_true(json_object_get(ready, "redact_hmac")));
    json_decref(ready);
    assert_nothing_secret(good.data);
    free(good.data);

    /* Defaults: PutItem, no chain, no retention, nothing redacted, no key. */
    snprintf(cmd, sizeof cmd, "%s AWS_LAMBDA_RUNTIME_API=127.0.0.1:%u '%s' 2>&1", base, port,
             bootstrap_path);
    output plain = run(cmd);
    assert_non_null(strstr(plain.data, "\"format\":\"classic\",\"write_api\":\"PutItem\","
                                       "\"chain\":false,\"retention_days\":0,"
                                       "\"ignored_attributes\":0,\"redacted_attributes\":0,"
                                       "\"redact_hmac\":false"));
    free(plain.data);

    /* A bad setting: the FATAL init error names it, and a key set beside it is nowhere. */
    static const struct {
        const char *vars;
        const char *message;
    } BAD[] = {
        {"AUDIT_WRITE_API=batch AUDIT_REDACT_KEY=" KEY_B64,
         "config: AUDIT_WRITE_API is \\\"batch\\\": want PutItem or BatchWriteItem"},
        {"AUDIT_REDACT_KEY=" KEY_RAW, "config: AUDIT_REDACT_KEY holds a character outside"},
        {"AUDIT_REDACT_KEY=c2hvcnQ=", "config: AUDIT_REDACT_KEY decodes to 5 bytes"},
        {"AUDIT_CHAIN=true", "config: AUDIT_CHAIN is \\\"true\\\": want on or off"},
        {"AUDIT_RETENTION_DAYS=0 AUDIT_REDACT_KEY=" KEY_B64, "config: AUDIT_RETENTION_DAYS is"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s AWS_LAMBDA_RUNTIME_API=127.0.0.1:%u %s '%s' 2>&1", base, port,
                 BAD[i].vars, bootstrap_path);
        output out = run(cmd);
        assert_int_equal(out.status, 1);
        if (strstr(out.data, "\"level\":\"FATAL\"") == NULL ||
            strstr(out.data, BAD[i].message) == NULL ||
            strstr(out.data, "\"error_type\":\"InvalidConfiguration\"") == NULL) {
            fail_msg("case %zu: want a FATAL line with \"%s\":\n%s", i, BAD[i].message, out.data);
        }
        assert_null(strstr(out.data, "\"ready\""));
        assert_nothing_secret(out.data);
        free(out.data);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *slash = strrchr(argv[0], '/');
    if (slash != NULL) {
        char candidate[sizeof bootstrap_path];
        int n = snprintf(candidate, sizeof candidate, "%.*s/../bootstrap", (int)(slash - argv[0]),
                         argv[0]);
        if (n > 0 && (size_t)n < sizeof candidate && access(candidate, X_OK) == 0) {
            memcpy(bootstrap_path, candidate, (size_t)n + 1);
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_print_trust_settings, remove_temps),
        cmocka_unit_test_teardown(test_print_chain_checked, remove_temps),
        cmocka_unit_test_teardown(test_print_chain_room, remove_temps),
        cmocka_unit_test(test_print_trust_goldens),
        cmocka_unit_test(test_print_refuses_bad_trust_variables),
        cmocka_unit_test(test_print_usage),
        cmocka_unit_test(test_function_settings),
    };
    return cmocka_run_group_tests_name("print", tests, NULL, NULL);
}
