/* verify --anchors FILE (cli/anchors.h): the function's `chain heads` log lines, JSON or
 * text, read into the heads they anchor; every malformed line refused by its number. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "anchors.h"

#define MESSAGE_TEXT "chain heads"

static int say(char message[CLI_MESSAGE_MAX], int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(char message[CLI_MESSAGE_MAX], int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, CLI_MESSAGE_MAX, fmt, ap);
    va_end(ap);
    return rc;
}

/* Where a line is, for its messages. */
typedef struct where {
    const char *name;
    size_t line;
} where;

static bool all_of(const char *text, size_t len, const char *set, size_t min, size_t max)
{
    if (len < min || len > max) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\0' || strchr(set, text[i]) == NULL) {
            return false;
        }
    }
    return true;
}

static bool add(cli_anchors *out, const char *key, size_t key_len, const char *seq,
                size_t seq_len, const char *chain, size_t line)
{
    if (out->count == out->cap) {
        size_t cap = out->cap == 0 ? 16 : out->cap * 2;
        cli_anchor *grown = realloc(out->items, cap * sizeof *grown);
        if (grown == NULL) {
            return false;
        }
        out->items = grown;
        out->cap = cap;
    }
    cli_anchor *a = &out->items[out->count];
    memset(a, 0, sizeof *a);
    a->history_key = malloc(key_len + 1);
    if (a->history_key == NULL) {
        return false;
    }
    memcpy(a->history_key, key, key_len);
    a->history_key[key_len] = '\0';
    memcpy(a->sequence_number, seq, seq_len);
    memcpy(a->chain, chain, 64);
    a->line = line;
    a->order = out->count;
    out->count++;
    return true;
}

/* One head of a "heads" array: 0, 2 (malformed) or 1 (memory). */
static int take_head(const where *w, size_t index, json_t *head, cli_anchors *out,
                     char message[CLI_MESSAGE_MAX])
{
    if (!json_is_object(head)) {
        return say(message, 2, "%s: line %zu: heads[%zu] is not an object", w->name, w->line,
                   index);
    }
    json_t *key = json_object_get(head, "historyKey");
    json_t *seq = json_object_get(head, "sequenceNumber");
    json_t *chain = json_object_get(head, "chain");
    if (!json_is_string(key) || json_string_length(key) == 0) {
        return say(message, 2, "%s: line %zu: heads[%zu].historyKey is %s", w->name, w->line,
                   index, key == NULL ? "missing" : "not a non-empty string");
    }
    if (!json_is_string(seq) ||
        !all_of(json_string_value(seq), json_string_length(seq), "0123456789", 1, 40)) {
        return say(message, 2, "%s: line %zu: heads[%zu].sequenceNumber is %s", w->name, w->line,
                   index, seq == NULL ? "missing" : "not a string of 1 to 40 digits");
    }
    if (!json_is_string(chain) ||
        !all_of(json_string_value(chain), json_string_length(chain), "0123456789abcdef", 64, 64)) {
        return say(message, 2, "%s: line %zu: heads[%zu].chain is %s", w->name, w->line, index,
                   chain == NULL ? "missing" : "not 64 lower-case hex digits");
    }
    if (!add(out, json_string_value(key), json_string_length(key), json_string_value(seq),
             json_string_length(seq), json_string_value(chain), w->line)) {
        return say(message, 1, "out of memory reading %s", w->name);
    }
    return 0;
}

static int take_heads(const where *w, json_t *heads, cli_anchors *out,
                      char message[CLI_MESSAGE_MAX])
{
    if (!json_is_array(heads)) {
        return say(message, 2, "%s: line %zu: \"heads\" is not an array", w->name, w->line);
    }
    out->lines++;
    for (size_t i = 0; i < json_array_size(heads); i++) {
        int rc = take_head(w, i, json_array_get(heads, i), out, message);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* A line that is a JSON object (from `text` to the end of the line). */
static int take_object(const where *w, const char *text, size_t len, cli_anchors *out,
                       char message[CLI_MESSAGE_MAX])
{
    json_error_t error;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        return say(message, 2, "%s: line %zu: not a JSON object: %s", w->name, w->line,
                   error.text);
    }
    int rc = 0;
    json_t *heads = json_object_get(root, "heads");
    json_t *what = json_object_get(root, "message");
    if (!json_is_object(root)) {
        rc = say(message, 2, "%s: line %zu: not a JSON object", w->name, w->line);
    } else if (heads != NULL) {
        rc = take_heads(w, heads, out, message);
    } else if (json_is_string(what) && strcmp(json_string_value(what), MESSAGE_TEXT) == 0) {
        rc = say(message, 2, "%s: line %zu: a \"chain heads\" line without \"heads\"", w->name,
                 w->line);
    }
    json_decref(root);
    return rc;
}

/* The value of heads= in a text log line: a JSON array, bare or quoted as a JSON string. */
static int take_text_heads(const where *w, const char *value, size_t len, cli_anchors *out,
                           char message[CLI_MESSAGE_MAX])
{
    json_error_t error;
    json_t *parsed = json_loadb(value, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &error);
    if (parsed == NULL) {
        return say(message, 2, "%s: line %zu: heads= is not JSON: %s", w->name, w->line,
                   error.text);
    }
    /* What follows the value must be the line's other fields, after a blank. */
    size_t used = (size_t)error.position;
    if (used < len && value[used] != ' ' && value[used] != '\t') {
        json_decref(parsed);
        return say(message, 2, "%s: line %zu: heads= is not followed by a blank", w->name,
                   w->line);
    }
    int rc;
    if (json_is_string(parsed)) {
        json_t *inner = json_loadb(json_string_value(parsed), json_string_length(parsed), 0,
                                   &error);
        rc = inner == NULL ? say(message, 2, "%s: line %zu: heads= is not a JSON array: %s",
                                 w->name, w->line, error.text)
                           : take_heads(w, inner, out, message);
        json_decref(inner);
    } else {
        rc = take_heads(w, parsed, out, message);
    }
    json_decref(parsed);
    return rc;
}

static const char *find(const char *text, size_t len, const char *what)
{
    size_t n = strlen(what);
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(text + i, what, n) == 0) {
            return text + i;
        }
    }
    return NULL;
}

/* The message "chain heads" as a text log line holds it: a word of its own, after a tab
 * or a blank, before a blank or the end (not "chain heads: out of memory ..."). */
static const char *find_message(const char *text, size_t len)
{
    size_t n = strlen(MESSAGE_TEXT);
    const char *end = text + len;
    for (const char *at = find(text, len, MESSAGE_TEXT); at != NULL;
         at = find(at + 1, (size_t)(end - at - 1), MESSAGE_TEXT)) {
        bool starts = at == text || at[-1] == '\t' || at[-1] == ' ';
        bool ends = at + n == end || at[n] == ' ' || at[n] == '\t';
        if (starts && ends) {
            return at;
        }
    }
    return NULL;
}

static bool is_object(const char *text, size_t len)
{
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    bool object = json_is_object(root);
    json_decref(root);
    return object;
}

static int take_line(const where *w, const char *text, size_t len, cli_anchors *out,
                     char message[CLI_MESSAGE_MAX])
{
    while (len > 0 && (text[0] == ' ' || text[0] == '\t')) {
        text++;
        len--;
    }
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r')) {
        len--;
    }
    if (len == 0) {
        return 0;
    }
    if (text[0] == '{') {
        return take_object(w, text, len, out, message);
    }
    /* A JSON log line after a prefix (a time and a stream's name): read as one when it is
     * one, or when it claims heads but does not parse (cut short, say). */
    const char *brace = memchr(text, '{', len);
    if (brace != NULL) {
        size_t rest = len - (size_t)(brace - text);
        if (is_object(brace, rest) || find(brace, rest, "\"heads\"") != NULL) {
            return take_object(w, brace, rest, out, message);
        }
    }
    const char *at = find_message(text, len);
    if (at == NULL) {
        return 0; /* another text line: START, END, REPORT, a summary, an error */
    }
    const char *heads = find(at, len - (size_t)(at - text), " heads=");
    if (heads == NULL) {
        return say(message, 2,
                   "%s: line %zu: a \"chain heads\" line with neither heads= nor a JSON object",
                   w->name, w->line);
    }
    heads += 7;
    return take_text_heads(w, heads, len - (size_t)(heads - text), out, message);
}

static int compare(const void *a, const void *b)
{
    const cli_anchor *x = a, *y = b;
    int c = strcmp(x->history_key, y->history_key);
    if (c != 0) {
        return c;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

int cli_anchors_parse(const char *name, const char *text, size_t len, cli_anchors *out,
                      char message[CLI_MESSAGE_MAX])
{
    memset(out, 0, sizeof *out);
    message[0] = '\0';
    where w = {name, 0};
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        w.line++;
        if (memchr(text + start, '\0', end - start) != NULL) {
            return say(message, 2, "%s: line %zu: holds a NUL byte: not a log line", name,
                       w.line);
        }
        int rc = take_line(&w, text + start, end - start, out, message);
        if (rc != 0) {
            return rc;
        }
        start = end + 1;
    }
    if (out->lines == 0) {
        return say(message, 2,
                   "%s: no \"chain heads\" line in it: give the function's log lines whose "
                   "message is \"chain heads\"",
                   name);
    }
    if (out->count > 1) {
        qsort(out->items, out->count, sizeof *out->items, compare);
    }
    return 0;
}

int cli_anchors_read(const char *path, cli_anchors *out, char message[CLI_MESSAGE_MAX])
{
    bool std_in = strcmp(path, "-") == 0;
    FILE *f = std_in ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return say(message, 2, "%s: cannot open it: %s", path, strerror(errno));
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (cap - len < 65536) {
            size_t grown_cap = cap == 0 ? 65536 : cap * 2;
            char *grown = realloc(text, grown_cap);
            if (grown == NULL) {
                rc = say(message, 1, "out of memory reading %s", path);
                break;
            }
            text = grown;
            cap = grown_cap;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                rc = say(message, 2, "%s: cannot read it: %s", path, strerror(errno));
            }
            break;
        }
    }
    if (!std_in) {
        fclose(f);
    }
    if (rc == 0) {
        rc = cli_anchors_parse(std_in ? "standard input" : path, text, len, out, message);
    }
    free(text);
    return rc;
}

size_t cli_anchors_of(const cli_anchors *anchors, const char *history_key, size_t *first)
{
    size_t lo = 0, hi = anchors->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(anchors->items[mid].history_key, history_key) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *first = lo;
    size_t n = 0;
    while (lo + n < anchors->count && strcmp(anchors->items[lo + n].history_key, history_key) == 0) {
        n++;
    }
    return n;
}

void cli_anchors_free(cli_anchors *anchors)
{
    if (anchors == NULL) {
        return;
    }
    for (size_t i = 0; i < anchors->count; i++) {
        free(anchors->items[i].history_key);
    }
    free(anchors->items);
    memset(anchors, 0, sizeof *anchors);
}
