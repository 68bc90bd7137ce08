/* Unit tests for lib/core/diff.c: docs/audit-format.md's equality rule by rule (on values
 * decoded from small inline events), and both diff modes: order, ignore list, NULL images,
 * paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auditstream/buf.h"
#include "auditstream/diff.h"
#include "auditstream/event.h"
#include "core/json_text.h"

/* ---- Helpers ------------------------------------------------------------------------- */

/* Appends `text` with every ' turned into ", so that JSON reads plainly in C sources
 * (no test needs a literal '). */
static void append_json(as_buf *b, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        as_buf_append_char(b, *p == '\'' ? '"' : *p);
    }
}

/* One decoded MODIFY record with the given images (' for ", NULL for absent). */
typedef struct doc {
    as_buf json;
    as_event *event;
    const as_value *old_image;
    const as_value *new_image;
} doc;

static void doc_load(doc *d, const char *old_image, const char *new_image)
{
    as_buf_init(&d->json);
    append_json(&d->json, "{'Records':[{'eventID':'e1','eventName':'MODIFY',"
                          "'eventSource':'aws:dynamodb','dynamodb':{'Keys':{'key':{'S':'k'}},"
                          "'SequenceNumber':'1'");
    if (old_image != NULL) {
        append_json(&d->json, ",'OldImage':");
        append_json(&d->json, old_image);
    }
    if (new_image != NULL) {
        append_json(&d->json, ",'NewImage':");
        append_json(&d->json, new_image);
    }
    append_json(&d->json, "}}]}");
    assert_int_equal(as_buf_status(&d->json), AS_OK);
    as_error err = {0};
    if (as_event_decode(d->json.data, d->json.len, &d->event, &err) != AS_OK) {
        fail_msg("decode failed: %s\n%s", err.message, d->json.data);
    }
    assert_int_equal(as_event_record_count(d->event), 1);
    const as_record *rec = as_event_record(d->event, 0);
    if (rec->error != NULL) {
        fail_msg("record refused: %s\n%s", rec->error, d->json.data);
    }
    d->old_image = rec->old_image;
    d->new_image = rec->new_image;
    assert_true(old_image == NULL || d->old_image != NULL);
    assert_true(new_image == NULL || d->new_image != NULL);
}

static void doc_free(doc *d)
{
    as_event_free(d->event);
    as_buf_free(&d->json);
}

/* The attribute of `image` whose decoded name is `name`. */
static const as_value *attr(const as_value *image, const char *name)
{
    for (const as_value *m = image + 1; m < image + image->subtree; m += m->subtree) {
        if (as_json_string_equals(m->name, (m->flags & AS_VALUE_NAME_ESCAPED) != 0, name,
                                  strlen(name))) {
            return m;
        }
    }
    fail_msg("no attribute \"%s\"", name);
    return NULL;
}

static bool span_is(as_span span, const char *text)
{
    size_t len = strlen(text);
    return span.len == len && (len == 0 || memcmp(span.ptr, text, len) == 0);
}

/* `span` equals `text` once its ' are turned into ". */
static bool span_is_json(as_span span, const char *text)
{
    as_buf b = AS_BUF_INIT;
    append_json(&b, text);
    bool same = as_buf_status(&b) == AS_OK && span.len == b.len &&
                (b.len == 0 || memcmp(span.ptr, b.data, b.len) == 0);
    as_buf_free(&b);
    return same;
}

/* ---- Equality ---------------------------------------------------------------------------- */

typedef struct equality_case {
    const char *a;      /* attribute values, ' for " */
    const char *b;
    bool equal;
} equality_case;

static const equality_case EQUALITY[] = {
    /* N: by numeric value */
    {"{'N':'1'}", "{'N':'1.0'}", true},
    {"{'N':'1'}", "{'N':'1E0'}", true},
    {"{'N':'1'}", "{'N':'10E-1'}", true},
    {"{'N':'1.0'}", "{'N':'1E0'}", true},
    {"{'N':'1'}", "{'N':'0.1e1'}", true},
    {"{'N':'1'}", "{'N':'2'}", false},
    {"{'N':'1'}", "{'N':'-1'}", false},
    {"{'N':'-0'}", "{'N':'0'}", true},
    {"{'N':'0'}", "{'N':'0.000E9'}", true},
    {"{'N':'100'}", "{'N':'1E2'}", true},
    {"{'N':'100'}", "{'N':'1E3'}", false},
    {"{'N':'0.001'}", "{'N':'1e-3'}", true},
    {"{'N':'007'}", "{'N':'7'}", true},
    {"{'N':'12345678901234567890123456789012345678'}",
     "{'N':'1.2345678901234567890123456789012345678E37'}", true},
    {"{'N':'12345678901234567890123456789012345678'}",
     "{'N':'12345678901234567890123456789012345679'}", false},
    /* N with escapes: decoded first */
    {"{'N':'\\u0031'}", "{'N':'1'}", true},
    {"{'N':'1\\u0030'}", "{'N':'10'}", true},
    {"{'N':'1\\u0030'}", "{'N':'1'}", false},
    {"{'N':'\\u002d.5'}", "{'N':'-0.50'}", true},
    {"{'N':'\\u002d.5'}", "{'N':'0.5'}", false},
    {"{'N':'0\\u002e0001e+\\u0030004'}", "{'N':'1'}", true},
    {"{'N':'\\u0031e-130'}", "{'N':'1E-130'}", true},
    {"{'N':'\\u0030'}", "{'N':'-0.0e5'}", true},
    {"{'N':'\\u0031\\u0030\\u0030'}", "{'N':'1e2'}", true},
    {"{'N':'1\\u00305'}", "{'N':'1.05E2'}", true},
    {"{'N':'1\\u00305'}", "{'N':'1.5E2'}", false},
    {"{'N':'\\u0031'}", "{'N':'\\u0031.0'}", true},
    /* S: decoded bytes */
    {"{'S':'a'}", "{'S':'\\u0061'}", true},
    {"{'S':'\\u00e9'}", "{'S':'\xc3\xa9'}", true},
    {"{'S':'\\u00E9'}", "{'S':'\xc3\xa9'}", true},
    {"{'S':'\\ud83d\\ude00'}", "{'S':'\xf0\x9f\x98\x80'}", true},
    {"{'S':'a\\\"b'}", "{'S':'a\\u0022b'}", true},
    {"{'S':'\\n'}", "{'S':'\\u000a'}", true},
    {"{'S':'\\/'}", "{'S':'/'}", true},
    {"{'S':'a'}", "{'S':'b'}", false},
    {"{'S':'a'}", "{'S':'A'}", false},
    {"{'S':'ab'}", "{'S':'a'}", false},
    {"{'S':'\\u0061b'}", "{'S':'a'}", false},
    {"{'S':'1.0'}", "{'S':'1'}", false},
    {"{'S':''}", "{'S':'a'}", false},
    /* B: decoded bytes */
    {"{'B':'ab\\/d'}", "{'B':'ab/d'}", true},
    {"{'B':'\\u0041\\u0041=='}", "{'B':'AA=='}", true},
    {"{'B':'QR=='}", "{'B':'QQ=='}", true},
    {"{'B':'aGVsbG8='}", "{'B':'aGVsbG9='}", true},
    {"{'B':'QQ=='}", "{'B':'Qg=='}", false},
    {"{'B':'AAAA'}", "{'B':'AAAB'}", false},
    {"{'B':'AA=='}", "{'B':'AAA='}", false},
    {"{'B':'AAA='}", "{'B':'AAAA'}", false},
    {"{'B':'AAAAAAAA'}", "{'B':'AAAA'}", false},
    {"{'B':''}", "{'B':'AA=='}", false},
    /* SS, NS, BS: order ignored */
    {"{'SS':['a','b','c']}", "{'SS':['c','a','b']}", true},
    {"{'SS':['a','b','c']}", "{'SS':['a','b','d']}", false},
    {"{'SS':['a','b','c']}", "{'SS':['b','d','a']}", false},
    {"{'SS':['a','b']}", "{'SS':['a','b','c']}", false},
    {"{'SS':['\\u0061','b']}", "{'SS':['b','a']}", true},
    {"{'SS':['A','b']}", "{'SS':['b','a']}", false},
    {"{'NS':['1','2','3']}", "{'NS':['3.0','1E0','2']}", true},
    {"{'NS':['1','2']}", "{'NS':['1','3']}", false},
    {"{'NS':['-0','5']}", "{'NS':['5','0']}", true},
    {"{'NS':['1','2']}", "{'NS':['2','-1']}", false},
    {"{'BS':['QQ==','Qg==']}", "{'BS':['Qg==','QQ==']}", true},
    {"{'BS':['QQ==','Qg==']}", "{'BS':['QQ==','Qw==']}", false},
    {"{'BS':['QR==','Qg==']}", "{'BS':['Qg==','QQ==']}", true},
    {"{'BS':['ab\\/d']}", "{'BS':['ab/d']}", true},
    /* sets against other types */
    {"{'SS':['a']}", "{'L':[{'S':'a'}]}", false},
    {"{'NS':['1']}", "{'L':[{'N':'1'}]}", false},
    {"{'SS':['1']}", "{'NS':['1']}", false},
    {"{'NS':['1']}", "{'N':'1'}", false},
    {"{'SS':['a']}", "{'S':'a'}", false},
    {"{'BS':['QQ==']}", "{'SS':['QQ==']}", false},
    /* M: names and values, order ignored */
    {"{'M':{'x':{'N':'1'},'y':{'S':'s'}}}", "{'M':{'y':{'S':'s'},'x':{'N':'1.0'}}}", true},
    {"{'M':{'x':{'N':'1'}}}", "{'M':{'x':{'N':'1'},'y':{'S':'s'}}}", false},
    {"{'M':{'x':{'N':'1'},'y':{'S':'s'}}}", "{'M':{'x':{'N':'1'},'z':{'S':'s'}}}", false},
    {"{'M':{'x':{'N':'1'},'y':{'S':'s'}}}", "{'M':{'y':{'S':'t'},'x':{'N':'1'}}}", false},
    {"{'M':{'x':{'N':'1'}}}", "{'M':{'x':{'N':'2'}}}", false},
    {"{'M':{'x':{'N':'1'}}}", "{'M':{'x':{'S':'1'}}}", false},
    {"{'M':{'\\u0078':{'N':'1'}}}", "{'M':{'x':{'N':'1'}}}", true},
    {"{'M':{'x':{'N':'1'}}}", "{'M':{'X':{'N':'1'}}}", false},
    {"{'M':{'x':{'N':'1'}}}", "{'M': { 'x' : { 'N' : '1' } } }", true},
    {"{'M':{}}", "{'M':{}}", true},
    {"{'M':{}}", "{'M':{'x':{'NULL':true}}}", false},
    {"{'M':{'x':{'N':'1'}}}", "{'L':[{'N':'1'}]}", false},
    /* nested M and L */
    {"{'M':{'a':{'M':{'b':{'L':[{'N':'1'},{'SS':['p','q']}]}}},'c':{'NULL':true}}}",
     "{'M':{'c':{'NULL':true},'a':{'M':{'b':{'L':[{'N':'1.00'},{'SS':['q','p']}]}}}}}", true},
    {"{'M':{'a':{'M':{'b':{'L':[{'N':'1'},{'SS':['p','q']}]}}},'c':{'NULL':true}}}",
     "{'M':{'c':{'NULL':true},'a':{'M':{'b':{'L':[{'N':'1.00'},{'SS':['q','r']}]}}}}}", false},
    {"{'L':[{'M':{'k':{'BOOL':true},'j':{'B':'QQ=='}}}]}",
     "{'L':[{'M':{'j':{'B':'QR=='},'k':{'BOOL':true}}}]}", true},
    {"{'L':[{'M':{'k':{'BOOL':true}}}]}", "{'L':[{'M':{'k':{'BOOL':false}}}]}", false},
    /* L: element by element */
    {"{'L':[{'N':'1'},{'N':'2'}]}", "{'L':[{'N':'2'},{'N':'1'}]}", false},
    {"{'L':[{'N':'1'},{'N':'2'}]}", "{'L':[{'N':'1.0'},{'N':'2'}]}", true},
    {"{'L':[{'N':'1'}]}", "{'L':[{'N':'1'},{'N':'1'}]}", false},
    {"{'L':[{'S':'a'}]}", "{'L':[{'S':'\\u0061'}]}", true},
    {"{'L':[]}", "{'L':[]}", true},
    {"{'L':[]}", "{'L':[{'NULL':true}]}", false},
    /* BOOL, NULL: by value */
    {"{'BOOL':true}", "{'BOOL':false}", false},
    {"{'BOOL':true}", "{'BOOL':true}", true},
    {"{'BOOL':false}", "{ 'BOOL' : false }", true},
    {"{'NULL':true}", "{'NULL':true}", true},
    {"{'BOOL':true}", "{'NULL':true}", false},
    /* types differ */
    {"{'S':'1'}", "{'N':'1'}", false},
    {"{'S':'QQ=='}", "{'B':'QQ=='}", false},
    {"{'S':'true'}", "{'BOOL':true}", false},
    {"{'N':'1'}", "{'BOOL':true}", false},
};

/* Decodes `a` and `b` as attributes of one image and checks as_value_equal both
 * ways; returns false (after printing why) when it disagrees with `equal`. */
static bool check_pair(const char *a, const char *b, bool equal, const char *label)
{
    as_buf image = AS_BUF_INIT;
    as_buf_append_str(&image, "{'a':");
    as_buf_append_str(&image, a);
    as_buf_append_str(&image, ",'b':");
    as_buf_append_str(&image, b);
    as_buf_append_str(&image, "}");
    assert_int_equal(as_buf_status(&image), AS_OK);
    doc d;
    doc_load(&d, NULL, image.data);
    const as_value *va = attr(d.new_image, "a");
    const as_value *vb = attr(d.new_image, "b");
    bool ab = as_value_equal(va, vb);
    bool ba = as_value_equal(vb, va);
    bool ok = ab == equal && ba == equal && as_value_equal(va, va) && as_value_equal(vb, vb);
    if (!ok) {
        print_error("%s: %.200s vs %.200s: got %d/%d, want %d\n", label, a, b, ab, ba, equal);
    }
    doc_free(&d);
    as_buf_free(&image);
    return ok;
}

static void test_equal_table(void **state)
{
    (void)state;
    size_t failures = 0;
    for (size_t i = 0; i < sizeof EQUALITY / sizeof EQUALITY[0]; i++) {
        char label[32];
        snprintf(label, sizeof label, "case %zu", i);
        failures += !check_pair(EQUALITY[i].a, EQUALITY[i].b, EQUALITY[i].equal, label);
    }
    assert_int_equal(failures, 0);
}

/* Escaped numbers whose decoded text is longer than any fixed buffer: "1" followed or
 * preceded by runs of zeros. */
static void test_equal_long_escaped_numbers(void **state)
{
    (void)state;
    struct {
        const char *prefix;
        size_t zeros;
        const char *suffix;
        const char *plain;
        bool equal;
    } cases[] = {
        {"\\u0031", 100, "", "1e100", true},
        {"\\u0031", 100, "", "1e99", false},
        {"\\u0031", 100, "", "1e101", false},
        {"", 500, "1\\u0030", "10", true},
        {"", 500, "1\\u0030", "100", false},
        {"0.", 120, "\\u0031", "1e-121", true},
        {"0.", 120, "\\u0031", "1e-120", false},
        {"\\u0031.", 300, "e-2", "0.01", true},
        {"-\\u0031", 50, "e-0000000000000000000000000000000000000050", "-1", true},
        {"\\u0031", 37, "", "1e37", true},
        /* 37 zeros between two ones: 39 significant digits would be refused; 36 fit */
        {"\\u0031", 36, "1", "1.0000000000000000000000000000000000001e37", true},
        {"\\u0031", 36, "1", "1.0000000000000000000000000000000000002e37", false},
    };
    size_t failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_buf a = AS_BUF_INIT;
        as_buf_append_str(&a, "{'N':'");
        as_buf_append_str(&a, cases[i].prefix);
        for (size_t z = 0; z < cases[i].zeros; z++) {
            as_buf_append_char(&a, '0');
        }
        as_buf_append_str(&a, cases[i].suffix);
        as_buf_append_str(&a, "'}");
        as_buf b = AS_BUF_INIT;
        as_buf_append_str(&b, "{'N':'");
        as_buf_append_str(&b, cases[i].plain);
        as_buf_append_str(&b, "'}");
        assert_int_equal(as_buf_status(&a), AS_OK);
        assert_int_equal(as_buf_status(&b), AS_OK);
        char label[32];
        snprintf(label, sizeof label, "long number %zu", i);
        failures += !check_pair(a.data, b.data, cases[i].equal, label);
        as_buf_free(&a);
        as_buf_free(&b);
    }
    assert_int_equal(failures, 0);
}

static void base64_of(uint32_t value, char out[5])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char bytes[3] = {(unsigned char)(value >> 16), (unsigned char)(value >> 8),
                              (unsigned char)value};
    out[0] = alphabet[bytes[0] >> 2];
    out[1] = alphabet[(bytes[0] & 3) << 4 | bytes[1] >> 4];
    out[2] = alphabet[(bytes[1] & 15) << 2 | bytes[2] >> 6];
    out[3] = alphabet[bytes[2] & 63];
    out[4] = '\0';
}

/* Member `i` of a generated set of type `tag`, in one of several equivalent spellings. */
static void append_member(as_buf *b, const char *tag, uint32_t i, unsigned spelling)
{
    char text[32];
    if (strcmp(tag, "SS") == 0) {
        snprintf(text, sizeof text, spelling % 2 ? "\\u006d%03u" : "m%03u", (unsigned)i);
    } else if (strcmp(tag, "NS") == 0) {
        /* i, i.0, i0E-1, 0i.000: one value */
        static const char *const prefixes[] = {"", "", "", "0"};
        static const char *const suffixes[] = {"", ".0", "0E-1", ".000"};
        snprintf(text, sizeof text, "%s%u%s", prefixes[spelling % 4], (unsigned)i,
                 suffixes[spelling % 4]);
    } else {
        base64_of(i * 7919u + 1, text);
        if (spelling % 2 && strchr(text, '/') != NULL) {
            /* The same bytes with "\/" for the slash. */
            char escaped[32];
            size_t n = 0;
            for (const char *p = text; *p != '\0'; p++) {
                if (*p == '/') {
                    escaped[n++] = '\\';
                }
                escaped[n++] = *p;
            }
            escaped[n] = '\0';
            memcpy(text, escaped, n + 1);
        }
    }
    as_buf_append_char(b, '\'');
    as_buf_append_str(b, text);
    as_buf_append_char(b, '\'');
}

/* A set of `count` members 0..count-1 in the order `order` gives, member `replace`
 * (if < count) replaced by `count + 1000`. */
static void append_set(as_buf *b, const char *tag, uint32_t count, const uint32_t *order,
                       uint32_t replace, unsigned spelling)
{
    as_buf_append_str(b, "{'");
    as_buf_append_str(b, tag);
    as_buf_append_str(b, "':[");
    for (uint32_t k = 0; k < count; k++) {
        uint32_t i = order[k];
        if (k > 0) {
            as_buf_append_char(b, ',');
        }
        append_member(b, tag, i == replace ? count + 1000 : i, spelling + i);
    }
    as_buf_append_str(b, "]}");
}

static bool check_sets(const char *tag, uint32_t count, const uint32_t *order_a,
                       const uint32_t *order_b, uint32_t replace_b, bool equal)
{
    as_buf a = AS_BUF_INIT;
    as_buf b = AS_BUF_INIT;
    append_set(&a, tag, count, order_a, UINT32_MAX, 0);
    append_set(&b, tag, count, order_b, replace_b, 1);
    assert_int_equal(as_buf_status(&a), AS_OK);
    assert_int_equal(as_buf_status(&b), AS_OK);
    char label[48];
    snprintf(label, sizeof label, "%s of %u, replaced %u", tag, (unsigned)count,
             (unsigned)replace_b);
    bool ok = check_pair(a.data, b.data, equal, label);
    as_buf_free(&a);
    as_buf_free(&b);
    return ok;
}

/* Sets large enough to be sorted rather than matched pairwise, in reversed, shuffled
 * and partly shared orders, spelled differently on each side. */
static void test_equal_large_sets(void **state)
{
    (void)state;
    enum { N = 120 };
    uint32_t forward[N];
    uint32_t reversed[N];
    uint32_t tail_shuffled[N];  /* the first 70 in place, the rest scrambled */
    uint32_t scrambled[N];
    for (uint32_t i = 0; i < N; i++) {
        forward[i] = i;
        reversed[i] = N - 1 - i;
        tail_shuffled[i] = i < 70 ? i : 70 + (i * 37) % (N - 70);
        scrambled[i] = (i * 53) % N;
    }
    const char *tags[] = {"SS", "NS", "BS"};
    size_t failures = 0;
    for (size_t t = 0; t < 3; t++) {
        const char *tag = tags[t];
        failures += !check_sets(tag, N, forward, forward, UINT32_MAX, true);
        failures += !check_sets(tag, N, forward, reversed, UINT32_MAX, true);
        failures += !check_sets(tag, N, forward, tail_shuffled, UINT32_MAX, true);
        failures += !check_sets(tag, N, reversed, scrambled, UINT32_MAX, true);
        failures += !check_sets(tag, N, forward, reversed, 0, false);
        failures += !check_sets(tag, N, forward, reversed, N - 1, false);
        failures += !check_sets(tag, N, forward, tail_shuffled, 100, false);
        failures += !check_sets(tag, N, reversed, scrambled, 55, false);
        /* 20 members: past the pairwise limit after no common prefix */
        failures += !check_sets(tag, 20, reversed + N - 20, forward, UINT32_MAX, true);
        failures += !check_sets(tag, 20, reversed + N - 20, forward, 3, false);
    }
    assert_int_equal(failures, 0);
}

/* A map of `count` entries n000.. in the order `order` gives; entry `change` gets
 * another value, entry `rename` another name. */
static void append_map(as_buf *b, uint32_t count, const uint32_t *order, uint32_t change,
                       uint32_t rename, bool escaped_names)
{
    as_buf_append_str(b, "{'M':{");
    for (uint32_t k = 0; k < count; k++) {
        uint32_t i = order[k];
        char entry[96];
        snprintf(entry, sizeof entry, "%s'%s%03u':{'L':[{'N':'%u%s'}]}", k > 0 ? "," : "",
                 i == rename ? "r" : escaped_names ? "\\u006e" : "n", (unsigned)i,
                 i == change ? 9999u : (unsigned)i, escaped_names ? ".0" : "");
        as_buf_append_str(b, entry);
    }
    as_buf_append_str(b, "}}");
}

static bool check_maps(uint32_t count, const uint32_t *order_b, uint32_t change, uint32_t rename,
                       bool equal)
{
    uint32_t forward[200];
    for (uint32_t i = 0; i < count; i++) {
        forward[i] = i;
    }
    as_buf a = AS_BUF_INIT;
    as_buf b = AS_BUF_INIT;
    append_map(&a, count, forward, UINT32_MAX, UINT32_MAX, false);
    append_map(&b, count, order_b, change, rename, true);
    assert_int_equal(as_buf_status(&a), AS_OK);
    assert_int_equal(as_buf_status(&b), AS_OK);
    char label[64];
    snprintf(label, sizeof label, "M of %u, changed %u, renamed %u", (unsigned)count,
             (unsigned)change, (unsigned)rename);
    bool ok = check_pair(a.data, b.data, equal, label);
    as_buf_free(&a);
    as_buf_free(&b);
    return ok;
}

static void test_equal_large_maps(void **state)
{
    (void)state;
    enum { N = 90 };
    uint32_t forward[N];
    uint32_t reversed[N];
    uint32_t tail_shuffled[N];
    for (uint32_t i = 0; i < N; i++) {
        forward[i] = i;
        reversed[i] = N - 1 - i;
        tail_shuffled[i] = i < 30 ? i : 30 + (i * 7) % (N - 30);
    }
    size_t failures = 0;
    failures += !check_maps(N, forward, UINT32_MAX, UINT32_MAX, true);
    failures += !check_maps(N, reversed, UINT32_MAX, UINT32_MAX, true);
    failures += !check_maps(N, tail_shuffled, UINT32_MAX, UINT32_MAX, true);
    failures += !check_maps(N, forward, 5, UINT32_MAX, false);
    failures += !check_maps(N, reversed, 0, UINT32_MAX, false);
    failures += !check_maps(N, reversed, UINT32_MAX, 17, false);
    failures += !check_maps(N, tail_shuffled, 80, UINT32_MAX, false);
    failures += !check_maps(N, tail_shuffled, UINT32_MAX, 29, false);
    /* within the pairwise limit once the common prefix is gone */
    failures += !check_maps(10, reversed + N - 10, UINT32_MAX, UINT32_MAX, true);
    failures += !check_maps(10, reversed + N - 10, 4, UINT32_MAX, false);
    failures += !check_maps(10, reversed + N - 10, UINT32_MAX, 9, false);
    assert_int_equal(failures, 0);
}

static void test_equal_null_arguments(void **state)
{
    (void)state;
    doc d;
    doc_load(&d, NULL, "{'a':{'NULL':true}}");
    assert_true(as_value_equal(NULL, NULL));
    assert_false(as_value_equal(attr(d.new_image, "a"), NULL));
    assert_false(as_value_equal(NULL, attr(d.new_image, "a")));
    doc_free(&d);
}

/* ---- Diffs -------------------------------------------------------------------------------- */

/* A bad index or a NULL list gives NULL, as every accessor of the library does. */
static void test_changes_accessors_check_index(void **state)
{
    (void)state;
    doc d;
    doc_load(&d, "{'a':{'N':'1'}}", "{'a':{'N':'2'}}");
    as_changes *changes = as_changes_new();
    assert_non_null(changes);
    as_error err = {0};
    assert_int_equal(
        as_diff_images(d.old_image, d.new_image, AS_DIFF_TOP, NULL, 0, changes, &err), AS_OK);
    assert_int_equal(as_changes_count(changes), 1);
    assert_non_null(as_changes_get(changes, 0));
    assert_null(as_changes_get(changes, 1));
    assert_null(as_changes_get(changes, SIZE_MAX));
    assert_null(as_changes_get(NULL, 0));
    assert_int_equal(as_changes_count(NULL), 0);
    assert_int_equal(as_diff_images(d.old_image, d.new_image, (as_diff_mode)7, NULL, 0, changes,
                                    &err),
                     AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "as_diff_images: invalid argument");
    as_changes_free(changes);
    doc_free(&d);
}

typedef struct want {
    const char *path;       /* decoded */
    const char *top;        /* the top-level name as received */
    const char *old_wire;   /* ' for ", NULL when absent */
    const char *new_wire;
} want;

static void print_changes(const as_changes *changes)
{
    for (size_t i = 0; i < as_changes_count(changes); i++) {
        const as_change *c = as_changes_get(changes, i);
        print_error("  [%zu] %.*s top=%.*s old=%.*s new=%.*s\n", i, (int)c->path.len, c->path.ptr,
                    (int)c->top_name.len, c->top_name.ptr,
                    c->old_value ? (int)c->old_value->wire.len : 4,
                    c->old_value ? c->old_value->wire.ptr : "NULL",
                    c->new_value ? (int)c->new_value->wire.len : 4,
                    c->new_value ? c->new_value->wire.ptr : "NULL");
    }
}

static bool value_is(const as_value *v, const char *wire)
{
    if (wire == NULL) {
        return v == NULL;
    }
    return v != NULL && span_is_json(v->wire, wire);
}

static void expect_changes(const as_changes *changes, const want *w, size_t n)
{
    size_t count = as_changes_count(changes);
    bool ok = count == n;
    for (size_t i = 0; ok && i < n; i++) {
        const as_change *c = as_changes_get(changes, i);
        ok = c->path.ptr != NULL && span_is(c->path, w[i].path) &&
             span_is_json(c->top_name, w[i].top) && value_is(c->old_value, w[i].old_wire) &&
             value_is(c->new_value, w[i].new_wire);
        if (!ok) {
            print_error("change %zu differs: want %s top=%s old=%s new=%s\n", i, w[i].path,
                        w[i].top, w[i].old_wire ? w[i].old_wire : "NULL",
                        w[i].new_wire ? w[i].new_wire : "NULL");
        }
    }
    if (!ok) {
        print_error("got %zu changes, want %zu:\n", count, n);
        print_changes(changes);
        fail();
    }
}

/* Diffs the two images (' for ", NULL for absent) and checks the changes. */
static void expect_diff(const char *old_image, const char *new_image, as_diff_mode mode,
                        const as_span *ignore, size_t ignore_count, const want *w, size_t n)
{
    doc d;
    doc_load(&d, old_image, new_image);
    as_changes *changes = as_changes_new();
    assert_non_null(changes);
    as_error err = {0};
    assert_int_equal(as_diff_images(d.old_image, d.new_image, mode, ignore, ignore_count, changes,
                                    &err),
                     AS_OK);
    expect_changes(changes, w, n);
    as_changes_free(changes);
    doc_free(&d);
}

#define WANT(...) ((const want[]){__VA_ARGS__}), (sizeof((const want[]){__VA_ARGS__}) / sizeof(want))

/* Names in byte order of their decoded bytes: "B" < "a" < "gone" < ... < "é". */
static const char OLD_TOP[] =
    "{'same':{'N':'5'},'\\u00e9':{'S':'y'},'a':{'N':'1'},'gone':{'S':'g'},'B':{'S':'x'},"
    "'num':{'N':'1'},'set':{'SS':['p','q']},'m':{'M':{'x':{'N':'1'},'y':{'N':'2'}}}}";
static const char NEW_TOP[] =
    "{'\xc3\xa9':{'S':'z'},'a':{'N':'2'},'B':{'S':'x'},'new':{'BOOL':true},'same':{'N':'5.0'},"
    "'num':{'N':'1E0'},'set':{'SS':['q','p']},'m':{'M':{'y':{'N':'2'},'x':{'N':'3'}}}}";

static void test_diff_top(void **state)
{
    (void)state;
    expect_diff(OLD_TOP, NEW_TOP, AS_DIFF_TOP, NULL, 0,
                WANT({"a", "a", "{'N':'1'}", "{'N':'2'}"},
                     {"gone", "gone", "{'S':'g'}", NULL},
                     {"m", "m", "{'M':{'x':{'N':'1'},'y':{'N':'2'}}}",
                      "{'M':{'y':{'N':'2'},'x':{'N':'3'}}}"},
                     {"new", "new", NULL, "{'BOOL':true}"},
                     {"\xc3\xa9", "\\u00e9", "{'S':'y'}", "{'S':'z'}"}));
}

static void test_diff_top_ignore(void **state)
{
    (void)state;
    /* "gone" and "é" are ignored whatever their spelling in the event; "ign" only
     * matches its decoded name, "\u0069gn" in the image. */
    const char old_image[] = "{'a':{'N':'1'},'\\u0069gn':{'N':'1'},'gone':{'S':'g'},"
                             "'\\u00e9':{'S':'y'},'keep':{'S':'k'}}";
    const char new_image[] = "{'a':{'N':'2'},'ign':{'N':'2'},'\xc3\xa9':{'S':'z'},"
                             "'keep':{'S':'K'}}";
    const as_span ignore[] = {{"gone", 4}, {"\xc3\xa9", 2}, {"ign", 3}, {"missing", 7}};
    expect_diff(old_image, new_image, AS_DIFF_TOP, ignore, 4,
                WANT({"a", "a", "{'N':'1'}", "{'N':'2'}"},
                     {"keep", "keep", "{'S':'k'}", "{'S':'K'}"}));
    /* An ignore entry is a decoded name: its escaped spelling matches nothing. */
    const as_span escaped_ignore[] = {{"\\u0061", 6}};
    expect_diff(old_image, new_image, AS_DIFF_TOP, escaped_ignore, 1,
                WANT({"a", "a", "{'N':'1'}", "{'N':'2'}"},
                     {"gone", "gone", "{'S':'g'}", NULL},
                     {"ign", "\\u0069gn", "{'N':'1'}", "{'N':'2'}"},
                     {"keep", "keep", "{'S':'k'}", "{'S':'K'}"},
                     {"\xc3\xa9", "\\u00e9", "{'S':'y'}", "{'S':'z'}"}));
    /* In DEEP mode too. */
    expect_diff(old_image, new_image, AS_DIFF_DEEP, ignore, 4,
                WANT({"/a", "a", "{'N':'1'}", "{'N':'2'}"},
                     {"/keep", "keep", "{'S':'k'}", "{'S':'K'}"}));
}

static void test_diff_null_images(void **state)
{
    (void)state;
    const char image[] = "{'x':{'S':'1'},'a':{'M':{'b':{'N':'1'}}}}";
    expect_diff(NULL, image, AS_DIFF_TOP, NULL, 0,
                WANT({"a", "a", NULL, "{'M':{'b':{'N':'1'}}}"},
                     {"x", "x", NULL, "{'S':'1'}"}));
    expect_diff(image, NULL, AS_DIFF_TOP, NULL, 0,
                WANT({"a", "a", "{'M':{'b':{'N':'1'}}}", NULL},
                     {"x", "x", "{'S':'1'}", NULL}));
    /* DEEP: one change per top-level attribute, the whole value on its side. */
    expect_diff(NULL, image, AS_DIFF_DEEP, NULL, 0,
                WANT({"/a", "a", NULL, "{'M':{'b':{'N':'1'}}}"},
                     {"/x", "x", NULL, "{'S':'1'}"}));
    expect_diff(image, NULL, AS_DIFF_DEEP, NULL, 0,
                WANT({"/a", "a", "{'M':{'b':{'N':'1'}}}", NULL},
                     {"/x", "x", "{'S':'1'}", NULL}));

    as_changes *changes = as_changes_new();
    assert_non_null(changes);
    assert_int_equal(as_diff_images(NULL, NULL, AS_DIFF_TOP, NULL, 0, changes, NULL), AS_OK);
    assert_int_equal(as_changes_count(changes), 0);
    assert_int_equal(as_diff_images(NULL, NULL, AS_DIFF_DEEP, NULL, 0, changes, NULL), AS_OK);
    assert_int_equal(as_changes_count(changes), 0);
    as_changes_free(changes);
    as_changes_free(NULL);
    assert_int_equal(as_changes_count(NULL), 0);
}

static void test_diff_equal_images(void **state)
{
    (void)state;
    const char old_image[] = "{'a':{'N':'1'},'m':{'M':{'x':{'SS':['a','b']},'l':{'L':[]}}},"
                             "'b':{'B':'QQ=='}}";
    const char new_image[] = "{'b':{'B':'QR=='},'m':{'M':{'l':{'L':[]},'x':{'SS':['b','a']}}},"
                             "'a':{'N':'1.0'}}";
    expect_diff(old_image, new_image, AS_DIFF_TOP, NULL, 0, NULL, 0);
    expect_diff(old_image, new_image, AS_DIFF_DEEP, NULL, 0, NULL, 0);
}

static void test_diff_deep_maps(void **state)
{
    (void)state;
    const char old_image[] =
        "{'cfg':{'M':{'a':{'N':'1'},'b':{'M':{'c':{'S':'x'},'gone':{'N':'1'}}}}},"
        "'top':{'S':'t'}}";
    const char new_image[] =
        "{'top':{'S':'t'},'cfg':{'M':{'b':{'M':{'d':{'BOOL':true},'c':{'S':'y'}}},"
        "'a':{'N':'1.0'},'e':{'M':{}}}}}";
    expect_diff(old_image, new_image, AS_DIFF_DEEP, NULL, 0,
                WANT({"/cfg/b/c", "cfg", "{'S':'x'}", "{'S':'y'}"},
                     {"/cfg/b/d", "cfg", NULL, "{'BOOL':true}"},
                     {"/cfg/b/gone", "cfg", "{'N':'1'}", NULL},
                     {"/cfg/e", "cfg", NULL, "{'M':{}}"}));
    /* The same images in TOP mode: one change, the whole map on both sides. */
    expect_diff(old_image, new_image, AS_DIFF_TOP, NULL, 0,
                WANT({"cfg", "cfg",
                      "{'M':{'a':{'N':'1'},'b':{'M':{'c':{'S':'x'},'gone':{'N':'1'}}}}}",
                      "{'M':{'b':{'M':{'d':{'BOOL':true},'c':{'S':'y'}}},'a':{'N':'1.0'},"
                      "'e':{'M':{}}}}"}));
}

static void test_diff_deep_order(void **state)
{
    (void)state;
    /* Depth-first, names in byte order at every level. */
    expect_diff("{'b':{'N':'1'},'a':{'M':{'z':{'N':'1'},'b':{'N':'1'},'B':{'N':'1'}}}}",
                "{'a':{'M':{'B':{'N':'2'},'b':{'N':'2'},'z':{'N':'2'}}},'b':{'N':'2'}}",
                AS_DIFF_DEEP, NULL, 0,
                WANT({"/a/B", "a", "{'N':'1'}", "{'N':'2'}"},
                     {"/a/b", "a", "{'N':'1'}", "{'N':'2'}"},
                     {"/a/z", "a", "{'N':'1'}", "{'N':'2'}"},
                     {"/b", "b", "{'N':'1'}", "{'N':'2'}"}));
}

static void test_diff_deep_lists(void **state)
{
    (void)state;
    /* changed and shrunk */
    expect_diff("{'l':{'L':[{'N':'1'},{'N':'2'},{'N':'3'}]}}",
                "{'l':{'L':[{'N':'1.0'},{'N':'5'}]}}", AS_DIFF_DEEP, NULL, 0,
                WANT({"/l/1", "l", "{'N':'2'}", "{'N':'5'}"},
                     {"/l/2", "l", "{'N':'3'}", NULL}));
    /* grown */
    expect_diff("{'l':{'L':[{'S':'a'}]}}", "{'l':{'L':[{'S':'a'},{'S':'b'},{'NULL':true}]}}",
                AS_DIFF_DEEP, NULL, 0,
                WANT({"/l/1", "l", NULL, "{'S':'b'}"},
                     {"/l/2", "l", NULL, "{'NULL':true}"}));
    /* from empty, and into a map inside a list */
    expect_diff("{'e':{'L':[]},'l':{'L':[{'M':{'x':{'N':'1'},'y':{'N':'1'}}}]}}",
                "{'e':{'L':[{'N':'0'}]},'l':{'L':[{'M':{'y':{'N':'1'},'x':{'N':'2'}}}]}}",
                AS_DIFF_DEEP, NULL, 0,
                WANT({"/e/0", "e", NULL, "{'N':'0'}"},
                     {"/l/0/x", "l", "{'N':'1'}", "{'N':'2'}"}));
    /* indices ascend numerically: 2 before 10 */
    expect_diff("{'l':{'L':[{'N':'0'},{'N':'1'},{'N':'2'},{'N':'3'},{'N':'4'},{'N':'5'},"
                "{'N':'6'},{'N':'7'},{'N':'8'},{'N':'9'},{'N':'10'},{'N':'11'}]}}",
                "{'l':{'L':[{'N':'0'},{'N':'1'},{'N':'-2'},{'N':'3'},{'N':'4'},{'N':'5'},"
                "{'N':'6'},{'N':'7'},{'N':'8'},{'N':'9'},{'N':'-10'},{'N':'11'}]}}",
                AS_DIFF_DEEP, NULL, 0,
                WANT({"/l/2", "l", "{'N':'2'}", "{'N':'-2'}"},
                     {"/l/10", "l", "{'N':'10'}", "{'N':'-10'}"}));
    /* a list nested in a list */
    expect_diff("{'l':{'L':[{'L':[{'S':'a'}]}]}}", "{'l':{'L':[{'L':[{'S':'b'}]}]}}",
                AS_DIFF_DEEP, NULL, 0, WANT({"/l/0/0", "l", "{'S':'a'}", "{'S':'b'}"}));
}

static void test_diff_deep_pointer_escapes(void **state)
{
    (void)state;
    /* "~" is "~0" and "/" is "~1", also when the event spelled "/" as "\/"; names are
     * ordered by their decoded bytes ("a/b" < "c~d" < "e/f" < "~1"). */
    expect_diff("{'m':{'M':{'x/y':{'N':'1'},'p~q':{'N':'1'}}}}",
                "{'~1':{'S':'t'},'e\\/f':{'S':'s'},'c~d':{'N':'2'},'a/b':{'N':'1'},"
                "'m':{'M':{'x/y':{'N':'2'},'p~q':{'N':'2'}}}}",
                AS_DIFF_DEEP, NULL, 0,
                WANT({"/a~1b", "a/b", NULL, "{'N':'1'}"},
                     {"/c~0d", "c~d", NULL, "{'N':'2'}"},
                     {"/e~1f", "e\\/f", NULL, "{'S':'s'}"},
                     {"/m/p~0q", "m", "{'N':'1'}", "{'N':'2'}"},
                     {"/m/x~1y", "m", "{'N':'1'}", "{'N':'2'}"},
                     {"/~01", "~1", NULL, "{'S':'t'}"}));
    /* Escaped names are decoded before escaping; top_name stays as received. */
    expect_diff("{'\\u0063fg':{'M':{'\\u00e9/':{'N':'1'}}}}",
                "{'cfg':{'M':{'\xc3\xa9\\/':{'N':'2'}}}}", AS_DIFF_DEEP, NULL, 0,
                WANT({"/cfg/\xc3\xa9~1", "\\u0063fg", "{'N':'1'}", "{'N':'2'}"}));
}

static void test_diff_deep_whole_values(void **state)
{
    (void)state;
    /* A type change is reported where it happens, with both values whole. */
    expect_diff("{'m':{'M':{'x':{'N':'1'}}},'o':{'M':{'k':{'M':{'z':{'N':'1'}}}}}}",
                "{'m':{'S':'flat'},'o':{'M':{'k':{'L':[{'N':'1'}]}}}}", AS_DIFF_DEEP, NULL, 0,
                WANT({"/m", "m", "{'M':{'x':{'N':'1'}}}", "{'S':'flat'}"},
                     {"/o/k", "o", "{'M':{'z':{'N':'1'}}}", "{'L':[{'N':'1'}]}"}));
    /* Sets are compared whole, never descended into. */
    expect_diff("{'s':{'SS':['a','b']},'n':{'NS':['1','2']},'same':{'BS':['QQ==','Qg==']}}",
                "{'s':{'SS':['a','c']},'n':{'NS':['2','1.0','3']},'same':{'BS':['Qg==','QQ==']}}",
                AS_DIFF_DEEP, NULL, 0,
                WANT({"/n", "n", "{'NS':['1','2']}", "{'NS':['2','1.0','3']}"},
                     {"/s", "s", "{'SS':['a','b']}", "{'SS':['a','c']}"}));
    /* A whole map added or removed inside a map is one change. */
    expect_diff("{'m':{'M':{'gone':{'M':{'a':{'N':'1'},'b':{'N':'2'}}}}}}",
                "{'m':{'M':{'new':{'L':[{'N':'1'},{'N':'2'}]}}}}", AS_DIFF_DEEP, NULL, 0,
                WANT({"/m/gone", "m", "{'M':{'a':{'N':'1'},'b':{'N':'2'}}}", NULL},
                     {"/m/new", "m", NULL, "{'L':[{'N':'1'},{'N':'2'}]}"}));
}

/* Many top-level names in opposite orders on both sides: the merge still walks them
 * in byte order. */
static void test_diff_many_names(void **state)
{
    (void)state;
    as_buf old_image = AS_BUF_INIT;
    as_buf new_image = AS_BUF_INIT;
    as_buf_append_str(&old_image, "{");
    as_buf_append_str(&new_image, "{");
    for (unsigned i = 0; i < 150; i++) {
        char entry[64];
        unsigned j = 149 - i;
        snprintf(entry, sizeof entry, "%s'n%03u':{'N':'%u'}", i > 0 ? "," : "", j, j);
        as_buf_append_str(&old_image, entry);
        snprintf(entry, sizeof entry, "%s'n%03u':{'N':'%u%s'}", i > 0 ? "," : "", i,
                 i % 50 == 7 ? i + 1 : i, i % 2 ? ".0" : "");
        as_buf_append_str(&new_image, entry);
    }
    as_buf_append_str(&old_image, "}");
    as_buf_append_str(&new_image, "}");
    assert_int_equal(as_buf_status(&old_image), AS_OK);
    assert_int_equal(as_buf_status(&new_image), AS_OK);
    expect_diff(old_image.data, new_image.data, AS_DIFF_TOP, NULL, 0,
                WANT({"n007", "n007", "{'N':'7'}", "{'N':'8.0'}"},
                     {"n057", "n057", "{'N':'57'}", "{'N':'58.0'}"},
                     {"n107", "n107", "{'N':'107'}", "{'N':'108.0'}"}));
    expect_diff(old_image.data, new_image.data, AS_DIFF_DEEP, NULL, 0,
                WANT({"/n007", "n007", "{'N':'7'}", "{'N':'8.0'}"},
                     {"/n057", "n057", "{'N':'57'}", "{'N':'58.0'}"},
                     {"/n107", "n107", "{'N':'107'}", "{'N':'108.0'}"}));
    as_buf_free(&old_image);
    as_buf_free(&new_image);
}

/* One as_changes through several diffs: each replaces the last, large then small then
 * large again. */
static void test_diff_reuse(void **state)
{
    (void)state;
    doc big;
    doc_load(&big, OLD_TOP, NEW_TOP);
    doc small;
    doc_load(&small, "{'a':{'S':'x'}}", "{'a':{'S':'y'}}");
    as_changes *changes = as_changes_new();
    assert_non_null(changes);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(as_diff_images(big.old_image, big.new_image, AS_DIFF_DEEP, NULL, 0,
                                        changes, NULL),
                         AS_OK);
        expect_changes(changes,
                       WANT({"/a", "a", "{'N':'1'}", "{'N':'2'}"},
                            {"/gone", "gone", "{'S':'g'}", NULL},
                            {"/m/x", "m", "{'N':'1'}", "{'N':'3'}"},
                            {"/new", "new", NULL, "{'BOOL':true}"},
                            {"/\xc3\xa9", "\\u00e9", "{'S':'y'}", "{'S':'z'}"}));
        assert_int_equal(as_diff_images(small.old_image, small.new_image, AS_DIFF_TOP, NULL, 0,
                                        changes, NULL),
                         AS_OK);
        expect_changes(changes, WANT({"a", "a", "{'S':'x'}", "{'S':'y'}"}));
        assert_int_equal(as_diff_images(small.old_image, small.old_image, AS_DIFF_TOP, NULL, 0,
                                        changes, NULL),
                         AS_OK);
        assert_int_equal(as_changes_count(changes), 0);
    }
    as_changes_free(changes);
    doc_free(&big);
    doc_free(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes_accessors_check_index),
        cmocka_unit_test(test_equal_table),
        cmocka_unit_test(test_equal_long_escaped_numbers),
        cmocka_unit_test(test_equal_large_sets),
        cmocka_unit_test(test_equal_large_maps),
        cmocka_unit_test(test_equal_null_arguments),
        cmocka_unit_test(test_diff_top),
        cmocka_unit_test(test_diff_top_ignore),
        cmocka_unit_test(test_diff_null_images),
        cmocka_unit_test(test_diff_equal_images),
        cmocka_unit_test(test_diff_deep_maps),
        cmocka_unit_test(test_diff_deep_order),
        cmocka_unit_test(test_diff_deep_lists),
        cmocka_unit_test(test_diff_deep_pointer_escapes),
        cmocka_unit_test(test_diff_deep_whole_values),
        cmocka_unit_test(test_diff_many_names),
        cmocka_unit_test(test_diff_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
