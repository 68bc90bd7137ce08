/* AWS Signature Version 4: canonical request, string to sign, and the HMAC chain, with
 * the derived key cached in the signer so that a warm signature costs three SHA-256s
 * (payload, cache id, canonical request) and one HMAC over a pre-keyed context. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "auditstream/sigv4.h"
#include "aws/uri.h"
#include "aws/wipe.h"
#include "core/hex.h"
#include "core/ids.h"
#include "core/internal.h"
#include "core/isotime.h"

#define SHA256_LEN 32
#define ALGORITHM  "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"

/* One name/value pair being canonicalised: offsets into the signer's scratch buffer
 * (which may move as it grows), and the position it came in, for a stable sort. */
typedef struct entry {
    size_t name_off;
    size_t name_len;
    size_t value_off;
    size_t value_len;
    size_t index;
} entry;

struct as_sigv4_signer {
    as_hasher *hasher; /* the library's one SHA-256 helper */
    EVP_MAC *hmac;
    /* Keyed with the cached signing key between calls: a signature re-initialises it
     * without a key, which reuses the key schedule instead of hashing the pads again. */
    EVP_MAC_CTX *mac_ctx;
    bool key_valid;
    /* Hex SHA-256 over the secret, date, region and service the key was derived from. */
    char key_id[AS_SHA256_HEX_LEN];
    uint64_t derivations;
    as_buf scratch;
    entry *entries;
    size_t entry_cap;
};

/* ---- small helpers ------------------------------------------------------------------------ */

/* RFC 9110's tchar: what header names and methods are made of. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token(as_span s)
{
    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (!is_tchar((unsigned char)s.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* Credential scope parts and the access key id end up in the Authorization header
 * between '/' and ',' separators: visible ASCII without those two. */
static bool is_scope_part(as_span s)
{
    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',') {
            return false;
        }
    }
    return true;
}

/* A query component as sent may be encoded or not: decode valid %XX escapes, then
 * encode, so that both spellings give the one canonical form. */
static void append_query_component(as_buf *buf, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < len) {
            int hi = as_hex_value((unsigned char)s[i + 1]);
            int lo = as_hex_value((unsigned char)s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (unsigned char)(hi << 4 | lo);
                i += 2;
            }
        }
        if (as_uri_is_unreserved(c)) {
            as_buf_append_char(buf, (char)c);
        } else {
            as_uri_append_escape(buf, c);
        }
    }
}

/* Makes room for `n` entries in the signer's array. */
static AS_RESULT reserve_entries(as_sigv4_signer *signer, size_t n, as_error *err)
{
    if (n <= signer->entry_cap) {
        return AS_RESULT_OK;
    }
    size_t cap = signer->entry_cap < 16 ? 16 : signer->entry_cap;
    while (cap < n) {
        AS_ENSURE(cap <= SIZE_MAX / 2 / sizeof(entry),
                  as_fail_nomem(err, "signing: sorting the headers or query parameters"));
        cap *= 2;
    }
    entry *grown = realloc(signer->entries, cap * sizeof(entry));
    AS_ENSURE(grown != NULL,
              as_fail_nomem(err, "signing: sorting the headers or query parameters"));
    signer->entries = grown;
    signer->entry_cap = cap;
    return AS_RESULT_OK;
}

static int compare_bytes(const char *a, size_t a_len, const char *b, size_t b_len)
{
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (c != 0) {
        return c;
    }
    return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

/* Entries sort by name, then (query parameters) value, then position, which makes the
 * sort stable. Not qsort: its comparator gets no context to find the scratch bytes in
 * without a global. Insertion sort for the handful a request usually has, merged
 * halves above that so that a long list stays O(n log n). */
static int compare_entries(const char *base, const entry *a, const entry *b, bool by_value)
{
    int c = compare_bytes(base + a->name_off, a->name_len, base + b->name_off, b->name_len);
    if (c == 0 && by_value) {
        c = compare_bytes(base + a->value_off, a->value_len, base + b->value_off, b->value_len);
    }
    if (c == 0) {
        c = a->index < b->index ? -1 : a->index > b->index ? 1 : 0;
    }
    return c;
}

static void merge_sort(const char *base, entry *items, entry *tmp, size_t n, bool by_value)
{
    if (n < 2) {
        return;
    }
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            entry e = items[i];
            size_t j = i;
            while (j > 0 && compare_entries(base, &items[j - 1], &e, by_value) > 0) {
                items[j] = items[j - 1];
                j--;
            }
            items[j] = e;
        }
        return;
    }
    size_t half = n / 2;
    merge_sort(base, items, tmp, half, by_value);
    merge_sort(base, items + half, tmp, n - half, by_value);
    size_t i = 0;
    size_t j = half;
    size_t k = 0;
    while (i < half && j < n) {
        if (compare_entries(base, &items[j], &items[i], by_value) < 0) {
            tmp[k++] = items[j++];
        } else {
            tmp[k++] = items[i++];
        }
    }
    while (i < half) {
        tmp[k++] = items[i++];
    }
    while (j < n) {
        tmp[k++] = items[j++];
    }
    memcpy(items, tmp, n * sizeof(entry));
}

/* Sorts the first `n` entries; the array must have room for 2n (the second half is
 * the merge buffer). */
static void sort_entries(as_sigv4_signer *signer, size_t n, bool by_value)
{
    if (n < 2) {
        return; /* sorted already, and the arrays may not exist yet */
    }
    merge_sort(signer->scratch.data, signer->entries, signer->entries + n, n, by_value);
}

/* ---- time --------------------------------------------------------------------------------- */

/* 20150830T123600Z from epoch seconds, through isotime's civil-date arithmetic. */
static void format_amz_date(int64_t seconds, char out[AS_SIGV4_DATE_LEN])
{
    char iso[AS_ISO_TIME_LEN]; /* 2015-08-30T12:36:00.000Z */
    as_iso_time_format(seconds * 1000, iso);
    memcpy(out, iso, 4);
    memcpy(out + 4, iso + 5, 2);
    memcpy(out + 6, iso + 8, 2);
    out[8] = 'T';
    memcpy(out + 9, iso + 11, 2);
    memcpy(out + 11, iso + 14, 2);
    memcpy(out + 13, iso + 17, 2);
    out[15] = 'Z';
}

/* ---- digests and the key ----------------------------------------------------------------- */

/* What the cached key was derived from, as the hex SHA-256 of the length-prefixed secret,
 * date, region and service (so that no two different tuples hash the same bytes): lets a
 * call recognise the cached key without the signer keeping a copy of the secret. The
 * tuple is put together in the scratch buffer, which is wiped straight after. */
static AS_RESULT key_id(as_sigv4_signer *signer, const as_sigv4_params *params, const char date[8],
                        char out[AS_SHA256_HEX_LEN], as_error *err)
{
    as_span parts[] = {
        params->credentials.secret_access_key, {date, 8}, params->region, params->service};
    as_buf *scratch = &signer->scratch;
    as_buf_clear(scratch);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        uint64_t len = parts[i].len;
        as_buf_append(scratch, &len, sizeof len);
        as_buf_append_span(scratch, parts[i]);
    }
    as_result result = as_buf_result(scratch, err, "signing: identifying the signing key");
    if (as_result_is_ok(result)) {
        result = as_sha256_hex(signer->hasher, scratch->data, scratch->len, out, err);
    }
    as_wipe(scratch->data, scratch->cap);
    as_buf_clear(scratch);
    return result;
}

/* out = HMAC-SHA256(key, data), through the signer's one MAC context. */
static AS_RESULT hmac(as_sigv4_signer *signer, const unsigned char *key, size_t key_len,
                      const void *data, size_t len, unsigned char out[SHA256_LEN], as_error *err)
{
    size_t out_len = 0;
    if (EVP_MAC_init(signer->mac_ctx, key, key_len, NULL) != 1 ||
        EVP_MAC_update(signer->mac_ctx, data, len) != 1 ||
        EVP_MAC_final(signer->mac_ctx, out, &out_len, SHA256_LEN) != 1 || out_len != SHA256_LEN) {
        return as_fail_nomem(err, "signing: deriving the signing key (libcrypto's HMAC failed)");
    }
    return AS_RESULT_OK;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"),
 * left keyed into the MAC context. Every intermediate is wiped. */
static AS_RESULT derive_key(as_sigv4_signer *signer, const as_sigv4_params *params,
                            const char date[8], as_error *err)
{
    as_span secret = params->credentials.secret_access_key;
    AS_ENSURE(secret.len <= SIZE_MAX - 4,
              as_fail(err, AS_ERR_ARGUMENT, 0, "sigv4: credentials.secret_access_key is too long"));
    unsigned char *k_secret = malloc(secret.len + 4);
    AS_ENSURE(k_secret != NULL, as_fail_nomem(err, "signing: deriving the signing key"));
    memcpy(k_secret, "AWS4", 4);
    memcpy(k_secret + 4, secret.ptr, secret.len);

    unsigned char a[SHA256_LEN];
    unsigned char b[SHA256_LEN];
    as_result result = hmac(signer, k_secret, secret.len + 4, date, 8, a, err);
    if (as_result_is_ok(result)) {
        result = hmac(signer, a, SHA256_LEN, params->region.ptr, params->region.len, b, err);
    }
    if (as_result_is_ok(result)) {
        result = hmac(signer, b, SHA256_LEN, params->service.ptr, params->service.len, a, err);
    }
    if (as_result_is_ok(result)) {
        result = hmac(signer, a, SHA256_LEN, TERMINATOR, strlen(TERMINATOR), b, err);
    }
    if (as_result_is_ok(result) && EVP_MAC_init(signer->mac_ctx, b, SHA256_LEN, NULL) != 1) {
        result = as_fail_nomem(err, "signing: keying the signature (libcrypto's HMAC failed)");
    }
    OPENSSL_cleanse(k_secret, secret.len + 4);
    free(k_secret);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return result;
}

/* Makes the MAC context hold the signing key for these inputs, deriving it on a miss. */
static AS_RESULT ensure_key(as_sigv4_signer *signer, const as_sigv4_params *params,
                            const char date[8], as_error *err)
{
    char id[AS_SHA256_HEX_LEN];
    AS_GUARD(key_id(signer, params, date, id, err));
    if (signer->key_valid && CRYPTO_memcmp(id, signer->key_id, sizeof id) == 0) {
        return AS_RESULT_OK;
    }
    signer->key_valid = false;
    as_result result = derive_key(signer, params, date, err);
    if (as_result_is_ok(result)) {
        memcpy(signer->key_id, id, sizeof id);
        signer->key_valid = true;
        signer->derivations++;
    }
    OPENSSL_cleanse(id, sizeof id);
    return result;
}

/* ---- canonicalisation --------------------------------------------------------------------- */

static AS_RESULT append_canonical_path(as_sigv4_signer *signer, as_span path,
                                       const as_sigv4_params *params, as_buf *out, as_error *err)
{
    if (path.len == 0) {
        as_buf_append_char(out, '/');
        return AS_RESULT_OK;
    }
    if (params->keep_path_segments) {
        if (params->path_is_encoded) {
            as_buf_append_span(out, path);
        } else {
            as_uri_append_encoded(out, path, true);
        }
        return AS_RESULT_OK;
    }
    /* RFC 3986 section 5.2.4 plus merged slashes, as botocore does it: segments that
     * are empty or "." vanish, ".." drops the one before it (never above the root), and
     * the path's own trailing slash survives when a segment is left ("/a/b/.." is "/a",
     * where RFC 3986 would say "/a/"). Entries hold the kept segments, as offsets. */
    size_t kept = 0;
    size_t start = 1;
    while (start <= path.len) {
        const char *slash = memchr(path.ptr + start, '/', path.len - start);
        size_t end = slash != NULL ? (size_t)(slash - path.ptr) : path.len;
        size_t len = end - start;
        if (len == 2 && path.ptr[start] == '.' && path.ptr[start + 1] == '.') {
            if (kept > 0) {
                kept--;
            }
        } else if (len > 0 && !(len == 1 && path.ptr[start] == '.')) {
            AS_GUARD(reserve_entries(signer, kept + 1, err));
            signer->entries[kept].name_off = start;
            signer->entries[kept].name_len = len;
            kept++;
        }
        start = end + 1;
    }
    as_buf_append_char(out, '/');
    for (size_t i = 0; i < kept; i++) {
        if (i > 0) {
            as_buf_append_char(out, '/');
        }
        const char *seg = path.ptr + signer->entries[i].name_off;
        if (params->path_is_encoded) {
            as_buf_append(out, seg, signer->entries[i].name_len);
        } else {
            as_uri_append_encoded(out, (as_span){seg, signer->entries[i].name_len}, false);
        }
    }
    if (kept > 0 && path.ptr[path.len - 1] == '/') {
        as_buf_append_char(out, '/');
    }
    return AS_RESULT_OK;
}

static AS_RESULT append_canonical_query(as_sigv4_signer *signer, as_span query, as_buf *out,
                                        as_error *err)
{
    as_buf *scratch = &signer->scratch;
    as_buf_clear(scratch);
    size_t n = 0;
    size_t start = 0;
    while (start < query.len) {
        const char *amp = memchr(query.ptr + start, '&', query.len - start);
        size_t end = amp != NULL ? (size_t)(amp - query.ptr) : query.len;
        if (end > start) {
            const char *eq = memchr(query.ptr + start, '=', end - start);
            size_t name_end = eq != NULL ? (size_t)(eq - query.ptr) : end;
            size_t value_start = eq != NULL ? name_end + 1 : end;
            AS_GUARD(reserve_entries(signer, 2 * (n + 1), err));
            entry *e = &signer->entries[n];
            e->index = n;
            e->name_off = scratch->len;
            append_query_component(scratch, query.ptr + start, name_end - start);
            e->name_len = scratch->len - e->name_off;
            e->value_off = scratch->len;
            append_query_component(scratch, query.ptr + value_start, end - value_start);
            e->value_len = scratch->len - e->value_off;
            n++;
        }
        start = end + 1;
    }
    AS_GUARD(as_buf_result(scratch, err, "signing: canonicalising the query"));
    sort_entries(signer, n, true);
    for (size_t i = 0; i < n; i++) {
        const entry *e = &signer->entries[i];
        if (i > 0) {
            as_buf_append_char(out, '&');
        }
        as_buf_append(out, scratch->data + e->name_off, e->name_len);
        as_buf_append_char(out, '=');
        as_buf_append(out, scratch->data + e->value_off, e->value_len);
    }
    return AS_RESULT_OK;
}

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Length of the whitespace at value[i]: spaces, tabs and obsolete line folds (CRLF or
 * LF followed by a space or tab). 0 when there is none; SIZE_MAX for a CR or LF that
 * is not a fold, which no header value may hold. */
static size_t blank_run(const char *value, size_t len, size_t i)
{
    size_t j = i;
    while (j < len) {
        unsigned char c = (unsigned char)value[j];
        if (is_blank(c)) {
            j++;
        } else if (c == '\n' || c == '\r') {
            size_t lf = c == '\r' ? j + 1 : j;
            if (lf + 1 >= len || value[lf] != '\n' || !is_blank((unsigned char)value[lf + 1])) {
                return SIZE_MAX;
            }
            j = lf + 2;
        } else {
            break;
        }
    }
    return j - i;
}

/* Appends the value trimmed, with every inner run of whitespace made one space. */
static bool append_canonical_value(as_buf *buf, as_span value)
{
    bool pending_space = false;
    bool any = false;
    size_t i = 0;
    while (i < value.len) {
        size_t run = blank_run(value.ptr, value.len, i);
        if (run == SIZE_MAX) {
            return false;
        }
        if (run > 0) {
            pending_space = any;
            i += run;
            continue;
        }
        size_t start = i;
        while (i < value.len && value.ptr[i] != ' ' && value.ptr[i] != '\t' &&
               value.ptr[i] != '\r' && value.ptr[i] != '\n') {
            if (value.ptr[i] == '\0') {
                return false;
            }
            i++;
        }
        if (pending_space) {
            as_buf_append_char(buf, ' ');
            pending_space = false;
        }
        as_buf_append(buf, value.ptr + start, i - start);
        any = true;
    }
    return true;
}

static bool name_is(const char *lower, size_t len, const char *literal)
{
    return len == strlen(literal) && memcmp(lower, literal, len) == 0;
}

static void add_entry(as_sigv4_signer *signer, size_t n, const char *name, as_span value)
{
    as_buf *scratch = &signer->scratch;
    entry *e = &signer->entries[n];
    e->index = n;
    e->name_off = scratch->len;
    as_buf_append_str(scratch, name);
    e->name_len = scratch->len - e->name_off;
    e->value_off = scratch->len;
    as_buf_append_span(scratch, value);
    e->value_len = scratch->len - e->value_off;
}

/* Appends the canonical headers block (each "name:values\n") to `out`, and the signed
 * headers list ("a;b;c") to `signed_list`. */
static AS_RESULT append_canonical_headers(as_sigv4_signer *signer, const as_sigv4_request *req,
                                          const as_sigv4_params *params,
                                          const as_sigv4_output *result, as_buf *out,
                                          as_buf *signed_list, as_error *err)
{
    bool sign_token = params->credentials.session_token.len > 0 && !params->unsigned_session_token;
    bool has_token = params->credentials.session_token.len > 0;
    AS_ENSURE(req->header_count <= SIZE_MAX / 2 - 3,
              as_fail_nomem(err, "signing: sorting the headers"));
    size_t max = req->header_count + 3;
    AS_GUARD(reserve_entries(signer, 2 * max, err));

    as_buf *scratch = &signer->scratch;
    as_buf_clear(scratch);
    size_t n = 0;
    for (size_t h = 0; h < req->header_count; h++) {
        as_span name = req->headers[h].name;
        if (!is_token(name)) {
            return as_fail(err, AS_ERR_ARGUMENT, 0,
                           "sigv4: header %zu: the name is not an HTTP token", h);
        }
        entry *e = &signer->entries[n];
        e->index = n;
        e->name_off = scratch->len;
        /* as_buf_reserve says nothing in an as_error: the message is set here. */
        AS_ENSURE(as_buf_reserve(scratch, name.len) == AS_OK,
                  as_fail_nomem(err, "signing: canonicalising the headers"));
        char *lower = scratch->data + scratch->len;
        for (size_t i = 0; i < name.len; i++) {
            char c = name.ptr[i];
            lower[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        scratch->len += name.len;
        scratch->data[scratch->len] = '\0';
        e->name_len = name.len;
        if (name_is(lower, name.len, "authorization") || name_is(lower, name.len, "x-amz-date") ||
            (has_token && name_is(lower, name.len, "x-amz-security-token")) ||
            (params->add_content_sha256 && name_is(lower, name.len, "x-amz-content-sha256"))) {
            return as_fail(err, AS_ERR_ARGUMENT, 0, "sigv4: header %zu: %s is added by the signer",
                           h, scratch->data + e->name_off);
        }
        e->value_off = scratch->len;
        if (!append_canonical_value(scratch, req->headers[h].value)) {
            return as_fail(err, AS_ERR_ARGUMENT, 0,
                           "sigv4: header %zu (%.*s): the value holds a CR, LF or NUL", h,
                           (int)(name.len < 64 ? name.len : 64), scratch->data + e->name_off);
        }
        e->value_len = scratch->len - e->value_off;
        n++;
    }
    as_span date = {result->amz_date, AS_SIGV4_DATE_LEN};
    add_entry(signer, n++, "x-amz-date", date);
    if (sign_token) {
        add_entry(signer, n++, "x-amz-security-token", params->credentials.session_token);
    }
    if (params->add_content_sha256) {
        as_span hash = {result->payload_hash, AS_SIGV4_HEX_LEN};
        add_entry(signer, n++, "x-amz-content-sha256", hash);
    }
    AS_GUARD(as_buf_result(scratch, err, "signing: canonicalising the headers"));

    /* Stable by position, so repeated names keep the order they were sent in. */
    sort_entries(signer, n, false);
    const char *base = scratch->data;
    for (size_t i = 0; i < n; i++) {
        const entry *e = &signer->entries[i];
        bool same_as_previous = i > 0 && compare_bytes(base + e->name_off, e->name_len,
                                                       base + signer->entries[i - 1].name_off,
                                                       signer->entries[i - 1].name_len) == 0;
        if (same_as_previous) {
            as_buf_append_char(out, ',');
        } else {
            if (i > 0) {
                as_buf_append_char(out, '\n');
                as_buf_append_char(signed_list, ';');
            }
            as_buf_append(out, base + e->name_off, e->name_len);
            as_buf_append_char(out, ':');
            as_buf_append(signed_list, base + e->name_off, e->name_len);
        }
        as_buf_append(out, base + e->value_off, e->value_len);
    }
    as_buf_append_char(out, '\n');
    return AS_RESULT_OK;
}

/* ---- public API --------------------------------------------------------------------------- */

void as_sigv4_output_init(as_sigv4_output *out)
{
    *out = (as_sigv4_output)AS_SIGV4_OUTPUT_INIT;
}

void as_sigv4_output_free(as_sigv4_output *out)
{
    if (out == NULL) {
        return;
    }
    as_buf_wipe_free(&out->authorization);
    as_buf_wipe_free(&out->canonical_request);
    as_buf_wipe_free(&out->string_to_sign);
    OPENSSL_cleanse(out->signature, sizeof out->signature);
    as_sigv4_output_init(out);
}

as_sigv4_signer *as_sigv4_signer_new(void)
{
    as_sigv4_signer *signer = calloc(1, sizeof *signer);
    if (signer == NULL) {
        return NULL;
    }
    signer->hasher = as_hasher_new();
    signer->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (signer->hmac != NULL) {
        signer->mac_ctx = EVP_MAC_CTX_new(signer->hmac);
    }
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    if (signer->hasher == NULL || signer->mac_ctx == NULL ||
        EVP_MAC_CTX_set_params(signer->mac_ctx, params) != 1) {
        as_sigv4_signer_free(signer);
        return NULL;
    }
    return signer;
}

void as_sigv4_signer_free(as_sigv4_signer *signer)
{
    if (signer == NULL) {
        return;
    }
    /* libcrypto wipes the key it holds in the MAC context when freeing it. */
    EVP_MAC_CTX_free(signer->mac_ctx);
    EVP_MAC_free(signer->hmac);
    as_hasher_free(signer->hasher);
    /* The scratch held the session token and header values. */
    as_buf_wipe_free(&signer->scratch);
    free(signer->entries);
    OPENSSL_cleanse(signer, sizeof *signer);
    free(signer);
}

uint64_t as_sigv4_signer_derivations(const as_sigv4_signer *signer)
{
    return signer != NULL ? signer->derivations : 0;
}

/* A span may have a NULL pointer only when it is empty. */
static bool span_ok(as_span s)
{
    return s.len == 0 || s.ptr != NULL;
}

static AS_RESULT check_params(const as_sigv4_request *req, const as_sigv4_params *params,
                              as_error *err)
{
    const as_credentials *cred = &params->credentials;
    if (!span_ok(cred->access_key_id) || !span_ok(cred->secret_access_key) ||
        !span_ok(cred->session_token) || !span_ok(params->region) || !span_ok(params->service) ||
        !span_ok(req->method) || !span_ok(req->path) || !span_ok(req->query) ||
        !span_ok(req->payload) || (req->header_count > 0 && req->headers == NULL)) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "sigv4: a span or the header array is NULL with a length");
    }
    for (size_t h = 0; h < req->header_count; h++) {
        if (!span_ok(req->headers[h].name) || !span_ok(req->headers[h].value)) {
            return as_fail(err, AS_ERR_ARGUMENT, 0,
                           "sigv4: header %zu: NULL name or value with a length", h);
        }
    }
    if (params->time < 0 || params->time > AS_SIGV4_TIME_MAX) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "sigv4: time %lld is outside 1970-01-01 to 9999-12-31",
                       (long long)params->time);
    }
    if (!is_scope_part(cred->access_key_id)) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "sigv4: credentials.access_key_id is empty or holds a space, '/', "
                       "',' or a non-ASCII byte");
    }
    if (cred->secret_access_key.len == 0) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "sigv4: credentials.secret_access_key is empty");
    }
    /* The token goes out as a header value: a CR or LF in it would end that header and
     * start one of the sender's choosing. Real tokens are base64. */
    for (size_t i = 0; i < cred->session_token.len; i++) {
        unsigned char c = (unsigned char)cred->session_token.ptr[i];
        if (c < 0x21 || c > 0x7e) {
            return as_fail(err, AS_ERR_ARGUMENT, 0,
                           "sigv4: credentials.session_token holds a control byte (CR, LF, "
                           "...), a space or a non-ASCII byte");
        }
    }
    if (!is_scope_part(params->region)) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "sigv4: region is empty or holds a space, '/', ',' or a non-ASCII "
                       "byte");
    }
    if (!is_scope_part(params->service)) {
        return as_fail(err, AS_ERR_ARGUMENT, 0,
                       "sigv4: service is empty or holds a space, '/', ',' or a non-ASCII "
                       "byte");
    }
    if (!is_token(req->method)) {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "sigv4: method is not an HTTP token");
    }
    if (req->path.len > 0 && req->path.ptr[0] != '/') {
        return as_fail(err, AS_ERR_ARGUMENT, 0, "sigv4: path does not start with '/'");
    }
    return AS_RESULT_OK;
}

static AS_RESULT sign(as_sigv4_signer *signer, const as_sigv4_request *req,
                      const as_sigv4_params *params, as_sigv4_output *out, as_error *err)
{
    AS_GUARD(check_params(req, params, err));
    format_amz_date(params->time, out->amz_date);
    out->amz_date[AS_SIGV4_DATE_LEN] = '\0';
    AS_GUARD(
        as_sha256_hex(signer->hasher, req->payload.ptr, req->payload.len, out->payload_hash, err));
    out->payload_hash[AS_SIGV4_HEX_LEN] = '\0';

    /* Task 1: the canonical request. The signed headers list is built in the
     * authorization buffer first, then moved to the canonical request. */
    as_buf *creq = &out->canonical_request;
    as_buf *authz = &out->authorization;
    as_buf_append_span(creq, req->method);
    as_buf_append_char(creq, '\n');
    AS_GUARD(append_canonical_path(signer, req->path, params, creq, err));
    as_buf_append_char(creq, '\n');
    AS_GUARD(append_canonical_query(signer, req->query, creq, err));
    as_buf_append_char(creq, '\n');
    as_buf_append_str(authz, ALGORITHM " Credential=");
    as_buf_append_span(authz, params->credentials.access_key_id);
    as_buf_append_char(authz, '/');
    size_t scope_start = authz->len;
    as_buf_append(authz, out->amz_date, 8);
    as_buf_append_char(authz, '/');
    as_buf_append_span(authz, params->region);
    as_buf_append_char(authz, '/');
    as_buf_append_span(authz, params->service);
    as_buf_append_str(authz, "/" TERMINATOR);
    size_t scope_end = authz->len;
    as_buf_append_str(authz, ", SignedHeaders=");
    size_t signed_start = authz->len;
    AS_GUARD(append_canonical_headers(signer, req, params, out, creq, authz, err));
    AS_GUARD(as_buf_result(authz, err, "signing: writing the Authorization header"));
    as_buf_append_char(creq, '\n');
    as_buf_append(creq, authz->data + signed_start, authz->len - signed_start);
    as_buf_append_char(creq, '\n');
    as_buf_append(creq, out->payload_hash, AS_SIGV4_HEX_LEN);
    AS_GUARD(as_buf_result(creq, err, "signing: writing the canonical request"));

    /* Task 2: the string to sign. */
    char creq_hash[AS_SHA256_HEX_LEN];
    AS_GUARD(as_sha256_hex(signer->hasher, creq->data, creq->len, creq_hash, err));
    as_buf *sts = &out->string_to_sign;
    as_buf_append_str(sts, ALGORITHM "\n");
    as_buf_append(sts, out->amz_date, AS_SIGV4_DATE_LEN);
    as_buf_append_char(sts, '\n');
    as_buf_append(sts, authz->data + scope_start, scope_end - scope_start);
    as_buf_append_char(sts, '\n');
    as_buf_append(sts, creq_hash, AS_SIGV4_HEX_LEN);
    AS_GUARD(as_buf_result(sts, err, "signing: writing the string to sign"));

    /* Task 3: the signature, with the cached key when it fits. */
    AS_GUARD(ensure_key(signer, params, out->amz_date, err));
    unsigned char mac[SHA256_LEN];
    size_t mac_len = 0;
    if (EVP_MAC_init(signer->mac_ctx, NULL, 0, NULL) != 1 ||
        EVP_MAC_update(signer->mac_ctx, (const unsigned char *)sts->data, sts->len) != 1 ||
        EVP_MAC_final(signer->mac_ctx, mac, &mac_len, sizeof mac) != 1 || mac_len != SHA256_LEN) {
        /* The context's state is unknown now: derive again next time. */
        signer->key_valid = false;
        return as_fail_nomem(err, "signing: computing the signature (libcrypto's HMAC failed)");
    }
    as_hex_encode(mac, SHA256_LEN, false, out->signature);
    out->signature[AS_SIGV4_HEX_LEN] = '\0';
    OPENSSL_cleanse(mac, sizeof mac);

    as_buf_append_str(authz, ", Signature=");
    as_buf_append(authz, out->signature, AS_SIGV4_HEX_LEN);
    AS_GUARD(as_buf_result(authz, err, "signing: writing the Authorization header"));

    size_t n = 0;
    out->headers[n++] = (as_sigv4_header){{"X-Amz-Date", 10}, {out->amz_date, AS_SIGV4_DATE_LEN}};
    if (params->credentials.session_token.len > 0) {
        out->headers[n++] =
            (as_sigv4_header){{"X-Amz-Security-Token", 20}, params->credentials.session_token};
    }
    if (params->add_content_sha256) {
        out->headers[n++] =
            (as_sigv4_header){{"x-amz-content-sha256", 20}, {out->payload_hash, AS_SIGV4_HEX_LEN}};
    }
    out->headers[n++] = (as_sigv4_header){{"Authorization", 13}, {authz->data, authz->len}};
    out->header_count = n;
    return AS_RESULT_OK;
}

static void clear_output(as_sigv4_output *out)
{
    as_buf_clear(&out->authorization);
    as_buf_clear(&out->canonical_request);
    as_buf_clear(&out->string_to_sign);
    out->header_count = 0;
    out->signature[0] = '\0';
}

as_status as_sigv4_sign(as_sigv4_signer *signer, const as_sigv4_request *req,
                        const as_sigv4_params *params, as_sigv4_output *out, as_error *err)
{
    if (out != NULL) {
        clear_output(out);
    }
    if (signer == NULL || req == NULL || params == NULL || out == NULL) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0,
                                    "sigv4: signer, request, params and output are required"));
    }
    as_result result = sign(signer, req, params, out, err);
    if (!as_result_is_ok(result)) {
        clear_output(out);
    }
    return as_status_of(result);
}
