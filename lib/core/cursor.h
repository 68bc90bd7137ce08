/* as_cursor: a checked read position over borrowed bytes, for the library's small parsers
 * (a stream ARN's table name, an endpoint URL, HTTP header lines, error bodies).
 *
 * Why: a hand-written parser that moves a pointer and compares bytes is one forgotten
 * length check away from reading past its input. Every read here checks what is left,
 * and a step that does not match leaves the cursor where it was, so a parser can try
 * one form, then another, and read like the grammar it follows:
 *
 *     as_cursor c = as_cursor_of(arn);
 *     if (!as_cursor_take_literal(&c, "arn:") || !as_cursor_skip_past(&c, ":table/")) ...
 *     as_span name = as_cursor_take_until(&c, '/');
 *
 * Nothing allocates and nothing fails but a step's match: a take that does not match
 * returns false (or an empty span) and moves nothing. The bytes are never modified and
 * need not be NUL-terminated; spans taken from a cursor borrow its input. */
#ifndef AS_CURSOR_H
#define AS_CURSOR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "auditstream/common.h"

typedef struct as_cursor {
    const char *ptr; /* the whole input */
    size_t len;
    size_t pos; /* bytes read so far; never above len */
} as_cursor;

static inline as_cursor as_cursor_of(as_span input)
{
    as_cursor c = {input.ptr, input.ptr != NULL ? input.len : 0, 0};
    return c;
}

/* Bytes not yet read. */
static inline size_t as_cursor_left(const as_cursor *c)
{
    return c->len - c->pos;
}

static inline bool as_cursor_at_end(const as_cursor *c)
{
    return c->pos >= c->len;
}

/* The unread bytes, without moving. */
static inline as_span as_cursor_rest(const as_cursor *c)
{
    /* No arithmetic on a NULL input: even adding 0 to it is undefined. */
    as_span rest = {c->ptr != NULL ? c->ptr + c->pos : NULL, as_cursor_left(c)};
    return rest;
}

/* True when the next byte is `ch`; never true at the end. */
static inline bool as_cursor_peek(const as_cursor *c, char ch)
{
    return c->pos < c->len && c->ptr[c->pos] == ch;
}

/* Steps over `ch` when it comes next. */
static inline bool as_cursor_take_char(as_cursor *c, char ch)
{
    if (!as_cursor_peek(c, ch)) {
        return false;
    }
    c->pos++;
    return true;
}

/* Steps over the `n` bytes of `bytes` when they come next. */
static inline bool as_cursor_take_bytes(as_cursor *c, const char *bytes, size_t n)
{
    if (as_cursor_left(c) < n || (n > 0 && memcmp(c->ptr + c->pos, bytes, n) != 0)) {
        return false;
    }
    c->pos += n;
    return true;
}

/* as_cursor_take_bytes for a string literal (its length known at compile time). */
#define as_cursor_take_literal(c, literal) as_cursor_take_bytes((c), (literal), sizeof(literal) - 1)

/* Steps over the next byte when it is one of the NUL-terminated `set`, which *taken (when
 * not NULL) then holds; false (nothing moved, *taken untouched) otherwise. */
static inline bool as_cursor_take_one_of(as_cursor *c, const char *set, char *taken)
{
    if (as_cursor_at_end(c) || c->ptr[c->pos] == '\0' || strchr(set, c->ptr[c->pos]) == NULL) {
        return false;
    }
    if (taken != NULL) {
        *taken = c->ptr[c->pos];
    }
    c->pos++;
    return true;
}

/* Takes the run of decimal digits that comes next: an empty span (its pointer set unless
 * the input is NULL) when none does. */
static inline as_span as_cursor_take_digits(as_cursor *c)
{
    as_span run = as_cursor_rest(c);
    size_t n = 0;
    while (n < run.len && run.ptr[n] >= '0' && run.ptr[n] <= '9') {
        n++;
    }
    run.len = n;
    c->pos += n;
    return run;
}

/* Takes exactly `n` bytes into *out; false (nothing moved) when fewer are left. */
static inline bool as_cursor_take_n(as_cursor *c, size_t n, as_span *out)
{
    if (as_cursor_left(c) < n) {
        return false;
    }
    out->ptr = c->ptr + c->pos;
    out->len = n;
    c->pos += n;
    return true;
}

/* Takes the bytes before the first `stop`, or all that is left when there is none; the
 * `stop` itself is not taken. The span is empty (its pointer still set) when `stop` comes
 * next. */
static inline as_span as_cursor_take_until(as_cursor *c, char stop)
{
    as_span rest = as_cursor_rest(c);
    const char *at = rest.len > 0 ? (const char *)memchr(rest.ptr, stop, rest.len) : NULL;
    size_t n = at != NULL ? (size_t)(at - rest.ptr) : rest.len;
    rest.len = n;
    c->pos += n;
    return rest;
}

/* Moves just past the first occurrence of the `n` bytes of `bytes`; false (nothing
 * moved) when they do not occur in what is left. */
static inline bool as_cursor_skip_past_bytes(as_cursor *c, const char *bytes, size_t n)
{
    size_t left = as_cursor_left(c);
    if (n == 0 || left < n) {
        return n == 0;
    }
    for (size_t i = 0; i + n <= left; i++) {
        if (memcmp(c->ptr + c->pos + i, bytes, n) == 0) {
            c->pos += i + n;
            return true;
        }
    }
    return false;
}

#define as_cursor_skip_past(c, literal)                                                            \
    as_cursor_skip_past_bytes((c), (literal), sizeof(literal) - 1)

/* Takes a run of decimal digits as an unsigned value no greater than `max`; false
 * (nothing moved) when no digit comes next or the value passes `max`. */
static inline bool as_cursor_take_u64(as_cursor *c, uint64_t max, uint64_t *out)
{
    size_t pos = c->pos;
    uint64_t value = 0;
    while (pos < c->len && c->ptr[pos] >= '0' && c->ptr[pos] <= '9') {
        unsigned digit = (unsigned)(c->ptr[pos] - '0');
        if (value > (max - digit) / 10) {
            return false;
        }
        value = value * 10 + digit;
        pos++;
    }
    if (pos == c->pos) {
        return false;
    }
    c->pos = pos;
    *out = value;
    return true;
}

#endif
