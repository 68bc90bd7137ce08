/* DynamoDB endpoint resolution: a region's own endpoint, or a configured URL read through
 * the checked cursor and refused, with the reason, unless it is https (or loopback http)
 * to a plain host and port. Pure: no I/O, no environment. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auditstream/ddb.h"
#include "aws/endpoint.h"
#include "core/cursor.h"
#include "core/internal.h"

bool as_ddb_region_ok(const char *region)
{
    size_t len = strlen(region);
    if (len == 0 || len > 64) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = region[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

static bool is_host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

static bool is_ipv6_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
}

/* 127.a.b.c, each part 0..255 in plain decimal (at most three digits). */
static bool is_loopback_v4(as_span host)
{
    as_cursor c = as_cursor_of(host);
    for (unsigned part = 0; part < 4; part++) {
        size_t start = c.pos;
        uint64_t value = 0;
        if ((part > 0 && !as_cursor_take_char(&c, '.')) || !as_cursor_take_u64(&c, 255, &value) ||
            c.pos - start - (part > 0) > 3 || (part == 0 && value != 127)) {
            return false;
        }
    }
    return as_cursor_at_end(&c);
}

static bool is_loopback(as_span host)
{
    return (host.len == 9 && strncasecmp(host.ptr, "localhost", 9) == 0) ||
           (host.len == 5 && memcmp(host.ptr, "[::1]", 5) == 0) || is_loopback_v4(host);
}

/* Steps over `literal` when it comes next, in any ASCII case. */
static bool take_ci(as_cursor *c, const char *literal)
{
    size_t n = strlen(literal);
    as_span skipped;
    as_span rest = as_cursor_rest(c);
    return rest.len >= n && strncasecmp(rest.ptr, literal, n) == 0 &&
           as_cursor_take_n(c, n, &skipped);
}

/* The host of an authority: "[v6]" or a name or IPv4 address, up to the ':' of a port. */
static AS_RESULT take_host(as_cursor *a, as_span *host, as_error *err)
{
    if (as_cursor_peek(a, '[')) {
        as_span inside = as_cursor_take_until(a, ']');
        AS_ENSURE(
            as_cursor_take_char(a, ']'),
            as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: endpoint URL has an IPv6 host without ']'"));
        for (size_t i = 1; i < inside.len; i++) {
            AS_ENSURE(is_ipv6_char((unsigned char)inside.ptr[i]),
                      as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: endpoint URL has a bad IPv6 host"));
        }
        *host = (as_span){inside.ptr, inside.len + 1};
        AS_ENSURE(host->len >= 3,
                  as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: endpoint URL has an empty host"));
        return AS_RESULT_OK;
    }
    *host = as_cursor_take_until(a, ':');
    for (size_t i = 0; i < host->len; i++) {
        AS_ENSURE(is_host_char((unsigned char)host->ptr[i]),
                  as_fail(err, AS_ERR_ARGUMENT, 0,
                          "ddb: endpoint URL's host holds a byte other than letters, digits, "
                          "'-', '.' and '_'"));
    }
    AS_ENSURE(host->len > 0,
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: endpoint URL has an empty host"));
    return AS_RESULT_OK;
}

/* ":port" after the host, when there is one: 1 to 5 digits, no sign, 1 to 65535. */
static AS_RESULT take_port(as_cursor *a, uint32_t *port, as_error *err)
{
    if (as_cursor_at_end(a)) {
        return AS_RESULT_OK;
    }
    AS_ENSURE(as_cursor_take_char(a, ':'),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "ddb: endpoint URL has bytes between the host and the port"));
    size_t digits = as_cursor_left(a);
    uint64_t value = 0;
    AS_ENSURE(digits >= 1 && digits <= 5 && as_cursor_take_u64(a, 65535, &value) &&
                  as_cursor_at_end(a) && value >= 1,
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "ddb: endpoint URL's port is not a number from 1 to 65535"));
    *port = (uint32_t)value;
    return AS_RESULT_OK;
}

static AS_RESULT endpoint_resolve(const char *endpoint_url, const char *region,
                                  as_ddb_endpoint *out, as_error *err)
{
    AS_ENSURE(out != NULL, as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: endpoint output is required"));
    memset(out, 0, sizeof *out);
    if (endpoint_url == NULL || endpoint_url[0] == '\0') {
        AS_ENSURE(region != NULL && as_ddb_region_ok(region),
                  as_fail(err, AS_ERR_ARGUMENT, 0,
                          "ddb: region is empty, longer than 64 bytes, or holds a byte other "
                          "than a-z, 0-9 and '-'"));
        const char *suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
        snprintf(out->host, sizeof out->host, "dynamodb.%s.%s", region, suffix);
        snprintf(out->url, sizeof out->url, "https://%s/", out->host);
        out->tls = true;
        return AS_RESULT_OK;
    }

    /* The URL is not echoed in messages: user info in it could be a password. */
    as_cursor c = as_cursor_of(as_span_from_cstr(endpoint_url));
    bool tls = take_ci(&c, "https://");
    AS_ENSURE(tls || take_ci(&c, "http://"),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "ddb: endpoint URL does not start with https:// or http://"));
    as_span auth = {NULL, 0};
    (void)as_cursor_take_n(&c, strcspn(as_cursor_rest(&c).ptr, "/?#"), &auth);
    AS_ENSURE(as_cursor_at_end(&c) || (as_cursor_take_char(&c, '/') && as_cursor_at_end(&c)),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "ddb: endpoint URL has a path, query or fragment; only \"/\" may follow "
                      "the host and port"));
    AS_ENSURE(auth.len == 0 || memchr(auth.ptr, '@', auth.len) == NULL,
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: endpoint URL holds user info ('@')"));

    as_cursor a = as_cursor_of(auth);
    as_span host = {NULL, 0};
    AS_GUARD(take_host(&a, &host, err));
    uint32_t port = tls ? 443 : 80;
    AS_GUARD(take_port(&a, &port, err));
    AS_ENSURE(tls || is_loopback(host),
              as_fail(err, AS_ERR_ARGUMENT, 0,
                      "ddb: endpoint URL is plain http:// to a host that is not loopback "
                      "(localhost, 127.x.x.x, [::1]); use https://"));
    AS_ENSURE(host.len + 7 <= sizeof out->host && auth.len + 10 <= sizeof out->url,
              as_fail(err, AS_ERR_ARGUMENT, 0, "ddb: endpoint URL is too long"));
    memcpy(out->host, host.ptr, host.len);
    if (port != (tls ? 443u : 80u)) {
        snprintf(out->host + host.len, sizeof out->host - host.len, ":%u", (unsigned)port);
    }
    snprintf(out->url, sizeof out->url, "%s://%.*s/", tls ? "https" : "http", (int)auth.len,
             auth.ptr);
    out->tls = tls;
    return AS_RESULT_OK;
}

as_status as_ddb_endpoint_resolve(const char *endpoint_url, const char *region,
                                  as_ddb_endpoint *out, as_error *err)
{
    return as_status_of(endpoint_resolve(endpoint_url, region, out, err));
}
