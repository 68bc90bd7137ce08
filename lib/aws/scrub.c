/* The message cleaner (aws/scrub.h): one pass over the whole message for Authorization
 * parts, then a rolling-hash search for runs of the secrets, escaped forms included. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/scrub.h"
#include "aws/wipe.h"
#include "core/cursor.h"
#include "core/hex.h"

/* The first occurrence of `needle` in `hay`, or NULL (an empty needle finds nothing). */
static const char *find_bytes(const char *hay, size_t hay_len, const char *needle,
                              size_t needle_len)
{
    as_cursor c = as_cursor_of((as_span){hay, hay_len});
    if (needle_len == 0 || !as_cursor_skip_past_bytes(&c, needle, needle_len)) {
        return NULL;
    }
    return hay + c.pos - needle_len;
}

static const char REDACTED[] = "[redacted]";

static bool is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Bytes of credentials (base64 and key ids) and of the escapes that could hide them. */
static bool is_run_char(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("+/=\\%&#;_.-", c) != NULL);
}

/* The value of the `n` hex digits at s[i], or -1 when fewer than `n` bytes are left or
 * one of them is no hex digit. */
static long hex_at(const char *s, size_t len, size_t i, size_t n)
{
    if (i > len || len - i < n) {
        return -1;
    }
    long value = 0;
    for (size_t k = 0; k < n; k++) {
        int d = as_hex_value((unsigned char)s[i + k]);
        if (d < 0) {
            return -1;
        }
        value = value << 4 | d;
    }
    return value;
}

static bool starts_with_ci(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)s[i];
        unsigned char b = (unsigned char)prefix[i];
        if (a >= 'A' && a <= 'Z') {
            a = (unsigned char)(a - 'A' + 'a');
        }
        if (b >= 'A' && b <= 'Z') {
            b = (unsigned char)(b - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

static bool is_quote(char c)
{
    return c == '\'' || c == '"' || c == '`';
}

/* An echoed header value ends at a quote (AWS quotes what it repeats) or the line's end. */
static size_t skip_to_quote(const char *s, size_t len, size_t i)
{
    while (i < len && !is_quote(s[i])) {
        i++;
    }
    return i;
}

/* One key=value's value: up to a separator of the Authorization header or a query. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    while (i < len && !is_quote(s[i]) && s[i] != ',' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '&' && s[i] != ')') {
        i++;
    }
    return i;
}

/* AKIA or ASIA and 16 of A-Z 0-9, not inside a longer word. */
static bool is_key_id_at(const char *s, size_t len, size_t i)
{
    if (i > 0 && is_alnum((unsigned char)s[i - 1])) {
        return false;
    }
    if (len - i < 20 || (memcmp(s + i, "AKIA", 4) != 0 && memcmp(s + i, "ASIA", 4) != 0)) {
        return false;
    }
    for (size_t k = 4; k < 20; k++) {
        char c = s[i + k];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return len - i == 20 || !is_alnum((unsigned char)s[i + 20]);
}

/* Names whose value is a secret or a signature wherever they appear, with "=" or ":". */
static const char *const SECRET_KEYS[] = {"Credential", "Signature", "X-Amz-Security-Token", NULL};

/* Copies s[0..len) to `out` with what an echoed Authorization header (or a presigned
 * query) shows replaced by REDACTED. */
static void scrub_headers(const char *s, size_t len, as_buf *out)
{
    size_t i = 0;
    while (i < len) {
        if (starts_with_ci(s + i, len - i, "AWS4-HMAC-SHA256")) {
            as_buf_append_str(out, "AWS4-HMAC-SHA256 ");
            as_buf_append_str(out, REDACTED);
            i = skip_to_quote(s, len, i + 16);
            continue;
        }
        if (starts_with_ci(s + i, len - i, "Authorization") && len - i > 13 &&
            (s[i + 13] == '=' || s[i + 13] == ':')) {
            as_buf_append(out, s + i, 14);
            as_buf_append_str(out, REDACTED);
            i = skip_to_quote(s, len, i + 14);
            continue;
        }
        bool keyed = false;
        for (size_t k = 0; SECRET_KEYS[k] != NULL && !keyed; k++) {
            size_t n = strlen(SECRET_KEYS[k]);
            if (starts_with_ci(s + i, len - i, SECRET_KEYS[k]) && len - i > n &&
                (s[i + n] == '=' || s[i + n] == ':')) {
                as_buf_append(out, s + i, n + 1);
                as_buf_append_str(out, REDACTED);
                i = skip_value(s, len, i + n + 1);
                keyed = true;
            }
        }
        if (keyed) {
            continue;
        }
        if (is_key_id_at(s, len, i)) {
            as_buf_append_str(out, REDACTED);
            i += 20;
            continue;
        }
        as_buf_append_char(out, s[i]);
        i++;
    }
}

/* One AS_DDB_SECRET_RUN-byte window of a secret, by its rolling hash. */
typedef struct window {
    uint64_t hash;
    const char *at;
} window;

/* The secrets to look for: windows of the long ones, sorted by hash; the short ones whole. */
typedef struct matcher {
    window *windows;
    size_t window_count;
    const as_span *secrets;
    size_t secret_count;
} matcher;

#define HASH_BASE 1099511628211u

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++) {
        h = h * HASH_BASE + (unsigned char)s[i];
    }
    return h;
}

/* HASH_BASE^(AS_DDB_SECRET_RUN - 1), to take the oldest byte out of a rolling hash. */
static uint64_t hash_top(void)
{
    uint64_t top = 1;
    for (size_t i = 1; i < AS_DDB_SECRET_RUN; i++) {
        top *= HASH_BASE;
    }
    return top;
}

static int window_cmp(const void *a, const void *b)
{
    uint64_t x = ((const window *)a)->hash;
    uint64_t y = ((const window *)b)->hash;
    return x < y ? -1 : x > y;
}

static bool matcher_init(matcher *m, const as_span *secrets, size_t secret_count)
{
    memset(m, 0, sizeof *m);
    m->secrets = secrets;
    m->secret_count = secret_count;
    size_t total = 0;
    for (size_t k = 0; k < secret_count; k++) {
        if (secrets[k].len >= AS_DDB_SECRET_RUN) {
            total += secrets[k].len - AS_DDB_SECRET_RUN + 1;
        }
    }
    if (total == 0) {
        return true;
    }
    m->windows = malloc(total * sizeof *m->windows);
    if (m->windows == NULL) {
        return false;
    }
    uint64_t top = hash_top();
    for (size_t k = 0; k < secret_count; k++) {
        const char *p = secrets[k].ptr;
        size_t len = secrets[k].len;
        if (len < AS_DDB_SECRET_RUN) {
            continue;
        }
        uint64_t h = hash_bytes(p, AS_DDB_SECRET_RUN);
        for (size_t i = 0;; i++) {
            m->windows[m->window_count++] = (window){h, p + i};
            if (i + AS_DDB_SECRET_RUN == len) {
                break;
            }
            h = (h - (unsigned char)p[i] * top) * HASH_BASE +
                (unsigned char)p[i + AS_DDB_SECRET_RUN];
        }
    }
    qsort(m->windows, m->window_count, sizeof *m->windows, window_cmp);
    return true;
}

/* Zeroes `n` bytes where the compiler cannot drop it (this layer has no OpenSSL). */
/* The hashes say something about the secrets, and the buffers may hold them echoed. */
static void matcher_free(matcher *m)
{
    if (m->windows != NULL) {
        as_wipe(m->windows, m->window_count * sizeof *m->windows);
    }
    free(m->windows);
    m->windows = NULL;
}

/* Whether text[at..at+RUN) is one of the windows. */
static bool window_known(const matcher *m, uint64_t h, const char *text)
{
    size_t lo = 0;
    size_t hi = m->window_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->windows[mid].hash < h) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (; lo < m->window_count && m->windows[lo].hash == h; lo++) {
        if (memcmp(m->windows[lo].at, text, AS_DDB_SECRET_RUN) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether `text` shows AS_DDB_SECRET_RUN bytes in a row of a secret (a shorter secret
 * whole), or 40 hex digits in a row. */
static bool shows_secret(const matcher *m, const char *text, size_t len)
{
    size_t hex = 0;
    for (size_t i = 0; i < len; i++) {
        hex = as_hex_value((unsigned char)text[i]) >= 0 ? hex + 1 : 0;
        if (hex >= 40) {
            return true;
        }
    }
    for (size_t k = 0; k < m->secret_count; k++) {
        as_span s = m->secrets[k];
        if (s.len == 0 || s.len >= AS_DDB_SECRET_RUN) {
            continue;
        }
        if (find_bytes(text, len, s.ptr, s.len) != NULL) {
            return true;
        }
    }
    if (m->window_count == 0 || len < AS_DDB_SECRET_RUN) {
        return false;
    }
    uint64_t top = hash_top();
    uint64_t h = hash_bytes(text, AS_DDB_SECRET_RUN);
    for (size_t i = 0;; i++) {
        if (window_known(m, h, text + i)) {
            return true;
        }
        if (i + AS_DDB_SECRET_RUN == len) {
            return false;
        }
        h = (h - (unsigned char)text[i] * top) * HASH_BASE +
            (unsigned char)text[i + AS_DDB_SECRET_RUN];
    }
}

/* One level of escapes undone: \uXXXX, \x (any other byte after a backslash), %XX,
 * &#N; and &#xN;. A character outside ASCII becomes '?': no credential holds one. */
static void unescape(const char *s, size_t len, as_buf *out)
{
    as_buf_clear(out);
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        long u = c == '\\' && i + 1 < len && s[i + 1] == 'u' ? hex_at(s, len, i + 2, 4) : -1;
        long pct = c == '%' ? hex_at(s, len, i + 1, 2) : -1;
        if (u >= 0) {
            as_buf_append_char(out, u < 0x80 ? (char)u : '?');
            i += 6;
        } else if (c == '\\' && i + 1 < len) {
            as_buf_append_char(out, s[i + 1]);
            i += 2;
        } else if (pct >= 0) {
            as_buf_append_char(out, (char)pct);
            i += 3;
        } else if (c == '&' && i + 1 < len && s[i + 1] == '#') {
            bool is_hex = i + 2 < len && (s[i + 2] == 'x' || s[i + 2] == 'X');
            size_t j = i + (is_hex ? 3 : 2);
            unsigned v = 0;
            size_t digits = 0;
            while (j < len && digits < 8) {
                int d = as_hex_value((unsigned char)s[j]);
                if (d < 0 || (!is_hex && d > 9)) {
                    break;
                }
                v = v * (is_hex ? 16u : 10u) + (unsigned)d;
                digits++;
                j++;
            }
            if (digits > 0 && j < len && s[j] == ';') {
                as_buf_append_char(out, v < 0x80 ? (char)v : '?');
                i = j + 1;
            } else {
                as_buf_append_char(out, s[i]);
                i++;
            }
        } else {
            as_buf_append_char(out, s[i]);
            i++;
        }
    }
}

/* 1 when the run shows a secret, as is or unescaped up to three levels; 0 when not; -1
 * when memory ran out. */
static int run_is_secret(const matcher *m, const char *run, size_t len, as_buf scratch[2])
{
    if (shows_secret(m, run, len)) {
        return 1;
    }
    const char *cur = run;
    size_t cur_len = len;
    for (int level = 0; level < 3; level++) {
        as_buf *next = &scratch[level % 2];
        unescape(cur, cur_len, next);
        if (as_buf_status(next) != AS_OK) {
            return -1;
        }
        if (next->len == cur_len) {
            return 0; /* nothing was escaped */
        }
        if (shows_secret(m, next->data, next->len)) {
            return 1;
        }
        cur = next->data;
        cur_len = next->len;
    }
    return 0;
}

static void emit(const char *s, size_t len, char *out, size_t cap, size_t *n)
{
    for (size_t i = 0; i < len && *n + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[(*n)++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
}

void as_ddb_clean_message(as_span raw, const as_span *secrets, size_t secret_count, char *out,
                          size_t cap)
{
    static const char *const CUTS[] = {"The Canonical String", "The String-to-Sign"};
    static const char WITHHELD[] = "[message withheld: out of memory cleaning it]";
    if (cap == 0) {
        return;
    }
    out[0] = '\0';
    if (raw.ptr == NULL) {
        return;
    }
    size_t len = raw.len;
    for (size_t i = 0; i < len; i++) {
        if (raw.ptr[i] == '\n' || raw.ptr[i] == '\r') {
            len = i;
            break;
        }
    }
    for (size_t c = 0; c < sizeof CUTS / sizeof CUTS[0]; c++) {
        const char *at = find_bytes(raw.ptr, len, CUTS[c], strlen(CUTS[c]));
        if (at != NULL) {
            len = (size_t)(at - raw.ptr);
        }
    }
    as_buf scrubbed = AS_BUF_INIT;
    as_buf scratch[2] = {AS_BUF_INIT, AS_BUF_INIT};
    matcher m;
    /* Room up front (a redaction at most doubles a short value): a buffer that grew
     * would leave a copy of what it held in memory it no longer owns, out of reach of
     * the wipe. */
    bool ok = matcher_init(&m, secrets, secret_count) && len < SIZE_MAX / 4 &&
              as_buf_reserve(&scrubbed, 2 * len + 64) == AS_OK &&
              as_buf_reserve(&scratch[0], len + 1) == AS_OK &&
              as_buf_reserve(&scratch[1], len + 1) == AS_OK;
    if (ok) {
        scrub_headers(raw.ptr, len, &scrubbed);
        ok = as_buf_status(&scrubbed) == AS_OK;
    }
    size_t n = 0;
    const char *s = scrubbed.data;
    len = scrubbed.len;
    size_t i = 0;
    while (ok && i < len && n + 1 < cap) {
        if (!is_run_char((unsigned char)s[i])) {
            emit(s + i, 1, out, cap, &n);
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && is_run_char((unsigned char)s[j])) {
            j++;
        }
        int secret = run_is_secret(&m, s + i, j - i, scratch);
        ok = secret >= 0;
        if (secret > 0) {
            emit(REDACTED, sizeof REDACTED - 1, out, cap, &n);
        } else {
            emit(s + i, j - i, out, cap, &n);
        }
        i = j;
    }
    if (!ok) {
        n = 0;
        emit(WITHHELD, sizeof WITHHELD - 1, out, cap, &n);
    }
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t')) {
        n--;
    }
    out[n] = '\0';
    matcher_free(&m);
    as_buf_wipe_free(&scrubbed);
    as_buf_wipe_free(&scratch[0]);
    as_buf_wipe_free(&scratch[1]);
}
