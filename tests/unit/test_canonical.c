/* Unit tests for lib/core/canonical.c: each rule of the canonical form on values decoded
 * from small inline events, sort orders, one form for equal values, depth, and refusals. */
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
#include "auditstream/wire.h"
#include "core/canonical.h"
#include "core/json_text.h"

/* ---- Helpers ------------------------------------------------------------------------- */

/* Appends `text` with every ' turned into ", so that JSON reads plainly in C sources. */
static void append_json(as_buf *b, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        as_buf_append_char(b, *p == '\'' ? '"' : *p);
    }
}

/* One decoded INSERT whose NewImage is `image` (' for "). */
typedef struct doc {
    as_buf json;
    as_event *event;
    const as_record *rec;
} doc;

static void doc_load(doc *d, const char *image)
{
    as_buf_init(&d->json);
    append_json(&d->json, "{'Records':[{'eventID':'e1','eventName':'INSERT',"
                          "'eventSource':'aws:dynamodb','dynamodb':{'Keys':{'k':{'S':'key'}},"
                          "'SequenceNumber':'1','NewImage':");
    append_json(&d->json, image);
    append_json(&d->json, "}}]}");
    assert_int_equal(as_buf_status(&d->json), AS_OK);
    as_error err = {0};
    if (as_event_decode(d->json.data, d->json.len, &d->event, &err) != AS_OK) {
        fail_msg("decode failed: %s\n%s", err.message, d->json.data);
    }
    d->rec = as_event_record(d->event, 0);
    if (d->rec == NULL || d->rec->error != NULL || d->rec->new_image == NULL) {
        fail_msg("record refused: %s\n%s", d->rec != NULL ? d->rec->error : "none", d->json.data);
    }
}

static void doc_free(doc *d)
{
    as_event_free(d->event);
    as_buf_free(&d->json);
}

/* The first attribute of an image. */
static const as_value *first_attr(const doc *d)
{
    const as_value *image = d->rec->new_image;
    assert_true(image->subtree > 1);
    return image + 1;
}

/* Fails unless `b` holds exactly `want` (with ' for "). */
static void assert_buf_is(const as_buf *b, const char *want, const char *input)
{
    as_buf w = AS_BUF_INIT;
    append_json(&w, want);
    assert_int_equal(as_buf_status(&w), AS_OK);
    if (b->len != w.len || memcmp(b->data, w.data, w.len) != 0) {
        fail_msg("input %s\n  got  %.*s\n  want %s", input, (int)b->len, b->data, w.data);
    }
    as_buf_free(&w);
}

/* The canonical form of attribute value `value` (' for "), into `out` (cleared). */
static void canon_of(const char *value, as_buf *out)
{
    as_buf image = AS_BUF_INIT;
    append_json(&image, "{'v':");
    append_json(&image, value);
    append_json(&image, "}");
    assert_int_equal(as_buf_status(&image), AS_OK);
    doc d;
    doc_load(&d, image.data);
    as_buf_clear(out);
    as_result r = as_canonical_value(first_attr(&d), out);
    if (!as_result_is_ok(r)) {
        fail_msg("as_canonical_value failed (%d) on %s", (int)r.status, value);
    }
    doc_free(&d);
    as_buf_free(&image);
}

typedef struct canon_case {
    const char *value; /* an attribute value, ' for " */
    const char *want;  /* its canonical form, ' for " */
} canon_case;

static void run_table(const canon_case *cases, size_t n)
{
    as_buf out = AS_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        canon_of(cases[i].value, &out);
        assert_buf_is(&out, cases[i].want, cases[i].value);
    }
    as_buf_free(&out);
}

#define RUN_TABLE(t) run_table((t), sizeof(t) / sizeof((t)[0]))

/* ---- Scalars ------------------------------------------------------------------------ */

static const canon_case STRINGS[] = {
    {"{'S':'plain'}", "{'S':'plain'}"},
    {"{'S':''}", "{'S':''}"},
    {"{'S':'a\\'b'}", "{'S':'a\\'b'}"},
    {"{'S':'a\\u0022b'}", "{'S':'a\\'b'}"},
    {"{'S':'back\\\\slash'}", "{'S':'back\\\\slash'}"},
    {"{'S':'\\u005C'}", "{'S':'\\\\'}"},
    /* Controls: always \u00xx in lower case, never the short escapes. */
    {"{'S':'line\\nbreak'}", "{'S':'line\\u000abreak'}"},
    {"{'S':'\\t\\r\\b\\f'}", "{'S':'\\u0009\\u000d\\u0008\\u000c'}"},
    {"{'S':'\\u001F\\u001b'}", "{'S':'\\u001f\\u001b'}"},
    {"{'S':'nul\\u0000byte'}", "{'S':'nul\\u0000byte'}"},
    /* Everything else raw: '/', DEL, U+2028, non-ASCII, astral. */
    {"{'S':'a\\/b'}", "{'S':'a/b'}"},
    {"{'S':'\\u007f'}", "{'S':'\x7f'}"},
    {"{'S':'\\u2028'}", "{'S':'\xe2\x80\xa8'}"},
    {"{'S':'caf\\u00e9'}", "{'S':'caf\xc3\xa9'}"},
    {"{'S':'caf\\u00E9'}", "{'S':'caf\xc3\xa9'}"},
    {"{'S':'caf\xc3\xa9'}", "{'S':'caf\xc3\xa9'}"},
    {"{'S':'\\ud83d\\ude00!'}", "{'S':'\xf0\x9f\x98\x80!'}"},
    {"{'S':'\\uD83D\\uDE00'}", "{'S':'\xf0\x9f\x98\x80'}"},
    {"{'S':'\xf0\x9f\x98\x80'}", "{'S':'\xf0\x9f\x98\x80'}"},
    {"{'S':'\\u0061\\u0062c'}", "{'S':'abc'}"},
};

static void test_strings(void **state)
{
    (void)state;
    RUN_TABLE(STRINGS);
}

static const canon_case NUMBERS[] = {
    /* The examples of the rule. */
    {"{'N':'1800'}", "{'N':'18E2'}"},
    {"{'N':'0.50'}", "{'N':'5E-1'}"},
    {"{'N':'-0.0'}", "{'N':'0E0'}"},
    {"{'N':'1E3'}", "{'N':'1E3'}"},
    {"{'N':'100'}", "{'N':'1E2'}"},
    {"{'N':'0.001'}", "{'N':'1E-3'}"},
    /* -12.5e+2 is -1250. */
    {"{'N':'-12.5e+2'}", "{'N':'-125E1'}"},
    {"{'N':'0'}", "{'N':'0E0'}"},
    {"{'N':'-0'}", "{'N':'0E0'}"},
    {"{'N':'0.000e9'}", "{'N':'0E0'}"},
    {"{'N':'0E999999999'}", "{'N':'0E0'}"},
    {"{'N':'1'}", "{'N':'1E0'}"},
    {"{'N':'-1'}", "{'N':'-1E0'}"},
    {"{'N':'+5'}", "{'N':'5E0'}"},
    {"{'N':'.5'}", "{'N':'5E-1'}"},
    {"{'N':'5.'}", "{'N':'5E0'}"},
    {"{'N':'007'}", "{'N':'7E0'}"},
    {"{'N':'10'}", "{'N':'1E1'}"},
    {"{'N':'123.456'}", "{'N':'123456E-3'}"},
    {"{'N':'-0.000120'}", "{'N':'-12E-5'}"},
    {"{'N':'3600'}", "{'N':'36E2'}"},
    {"{'N':'1e-130'}", "{'N':'1E-130'}"},
    {"{'N':'12345678901234567890123456789012345678'}",
     "{'N':'12345678901234567890123456789012345678E0'}"},
    {"{'N':'9.9999999999999999999999999999999999999E+125'}",
     "{'N':'99999999999999999999999999999999999999E88'}"},
    {"{'N':'-1.000000000000000000000000000000000000000000000000000e-130'}", "{'N':'-1E-130'}"},
    /* Escaped digits are decoded first. */
    {"{'N':'\\u0031\\u0030\\u0030'}", "{'N':'1E2'}"},
    {"{'N':'\\u002d.5'}", "{'N':'-5E-1'}"},
    {"{'N':'1\\u00305'}", "{'N':'105E0'}"},
};

static void test_numbers(void **state)
{
    (void)state;
    RUN_TABLE(NUMBERS);
}

/* Equal numbers, however written, have one form. */
static void test_equal_numbers_one_form(void **state)
{
    (void)state;
    static const char *const SPELLINGS[] = {
        "1800",   "1.8E3",  "18e2",     "0.0018e6",    "+1800.000",   "\\u0031800",
        "1800e0", "180E+1", "18000E-1", "00001800.00", "1.8\\u00453",
    };
    as_buf first = AS_BUF_INIT;
    as_buf out = AS_BUF_INIT;
    for (size_t i = 0; i < sizeof SPELLINGS / sizeof SPELLINGS[0]; i++) {
        char value[64];
        snprintf(value, sizeof value, "{'N':'%s'}", SPELLINGS[i]);
        canon_of(value, &out);
        assert_buf_is(&out, "{'N':'18E2'}", value);
        if (i == 0) {
            as_buf_append(&first, out.data, out.len);
        }
        assert_memory_equal(out.data, first.data, first.len);
    }
    as_buf_free(&out);
    as_buf_free(&first);
}

static const canon_case BINARIES[] = {
    {"{'B':'QQ=='}", "{'B':'QQ=='}"},
    {"{'B':''}", "{'B':''}"},
    {"{'B':'aGVsbG8='}", "{'B':'aGVsbG8='}"},
    {"{'B':'aGVsbG8h'}", "{'B':'aGVsbG8h'}"},
    /* Unused bits of a padded quantum are dropped: the bytes are what counts. */
    {"{'B':'QR=='}", "{'B':'QQ=='}"},
    {"{'B':'aGVsbG9='}", "{'B':'aGVsbG8='}"},
    /* Escapes in the text are decoded first. */
    {"{'B':'ab\\/d'}", "{'B':'ab/d'}"},
    {"{'B':'\\u0041\\u0041=='}", "{'B':'AA=='}"},
    {"{'B':'AA\\u003d='}", "{'B':'AA=='}"},
    {"{'B':'+/+/AAAA'}", "{'B':'+/+/AAAA'}"},
};

static void test_binaries(void **state)
{
    (void)state;
    RUN_TABLE(BINARIES);
}

static const canon_case LITERALS[] = {
    {"{'BOOL':true}", "{'BOOL':true}"},
    {"{'BOOL':false}", "{'BOOL':false}"},
    {"{'NULL':true}", "{'NULL':true}"},
    {"{ 'BOOL' : true }", "{'BOOL':true}"},
};

static void test_literals(void **state)
{
    (void)state;
    RUN_TABLE(LITERALS);
}

/* ---- The shared vectors ------------------------------------------------------------ */

/* tests/canonical/vectors.tsv: every table above and more (numbers at DynamoDB's limits,
 * unpadded-looking base64, sets in several orders, deeper nesting), one "<value>\t<form>" a
 * line, read by the Python model too (tests/canonical/test_canonical.py): both sides must
 * write each form byte for byte. Values are real JSON here, no ' for ". */
static void test_vector_file(void **state)
{
    (void)state;
    FILE *f = fopen("tests/canonical/vectors.tsv", "rb");
    if (f == NULL) {
        fail_msg("cannot open tests/canonical/vectors.tsv (run from the top of the tree)");
    }
    char line[4096];
    size_t vectors = 0;
    as_buf out = AS_BUF_INIT;
    while (fgets(line, sizeof line, f) != NULL) {
        char *end = strchr(line, '\n');
        if (end == NULL) {
            fail_msg("a line of vectors.tsv is too long or unterminated: %.60s", line);
        }
        *end = '\0';
        if (line[0] == '\0' || line[0] == '#') {
            continue;
        }
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        as_buf json = AS_BUF_INIT;
        as_buf_append_str(&json, "{\"Records\":[{\"eventID\":\"e1\",\"eventName\":\"INSERT\","
                                 "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"Keys\":{\"k\":"
                                 "{\"S\":\"key\"}},\"SequenceNumber\":\"1\",\"NewImage\":{\"v\":");
        as_buf_append_str(&json, line);
        as_buf_append_str(&json, "}}}]}");
        assert_int_equal(as_buf_status(&json), AS_OK);
        as_event *event = NULL;
        as_error err = {0};
        if (as_event_decode(json.data, json.len, &event, &err) != AS_OK) {
            fail_msg("vector %zu: %s: %s", vectors, line, err.message);
        }
        const as_record *rec = as_event_record(event, 0);
        if (rec->error != NULL) {
            fail_msg("vector %zu: %s: %s", vectors, line, rec->error);
        }
        as_buf_clear(&out);
        assert_true(as_result_is_ok(as_canonical_value(rec->new_image + 1, &out)));
        if (out.len != strlen(tab + 1) || memcmp(out.data, tab + 1, out.len) != 0) {
            fail_msg("vector %zu: %s\n  got  %.*s\n  want %s", vectors, line, (int)out.len,
                     out.data, tab + 1);
        }
        as_event_free(event);
        as_buf_free(&json);
        vectors++;
    }
    fclose(f);
    as_buf_free(&out);
    assert_true(vectors >= 120);
}

/* ---- Sets ------------------------------------------------------------------------------ */

static const canon_case SETS[] = {
    {"{'SS':['c','a','b']}", "{'SS':['a','b','c']}"},
    {"{'SS':['ab','a','']}", "{'SS':['','a','ab']}"},
    /* By decoded bytes: 'B' < 'b' < 'z' < U+00E9 (0xC3 0xA9); \u0062 is 'b', not '\'. */
    {"{'SS':['\\u00e9','z','b','B']}", "{'SS':['B','b','z','\xc3\xa9']}"},
    {"{'SS':['\\u0062','a','c']}", "{'SS':['a','b','c']}"},
    {"{'SS':['x\\ny','x']}", "{'SS':['x','x\\u000ay']}"},
    /* By value, each member in its canonical form. */
    {"{'NS':['10','9','-1','0.5']}", "{'NS':['-1E0','5E-1','9E0','1E1']}"},
    {"{'NS':['1E2','2','-0']}", "{'NS':['0E0','2E0','1E2']}"},
    {"{'NS':['-10','-9','-100']}", "{'NS':['-1E2','-1E1','-9E0']}"},
    {"{'NS':['\\u0032','1']}", "{'NS':['1E0','2E0']}"},
    /* By decoded bytes: A (41) < AB (41 42) < B (42); escapes and padding bits decoded. */
    {"{'BS':['Qg==','QQ==','QUI=']}", "{'BS':['QQ==','QUI=','Qg==']}"},
    {"{'BS':['QR==','Qg==']}", "{'BS':['QQ==','Qg==']}"},
    {"{'BS':['\\/w==','AA==']}", "{'BS':['AA==','/w==']}"},
    {"{'BS':['AAAA','AA==','AAA=']}", "{'BS':['AA==','AAA=','AAAA']}"},
};

static void test_sets(void **state)
{
    (void)state;
    RUN_TABLE(SETS);
}

/* Writes the members in the order `perm` gives into a set value of `type`. */
static void set_text(as_buf *b, const char *type, const char *const *members, const int *perm,
                     size_t n)
{
    as_buf_clear(b);
    as_buf_append_str(b, "{'");
    as_buf_append_str(b, type);
    as_buf_append_str(b, "':[");
    for (size_t i = 0; i < n; i++) {
        as_buf_append_str(b, i > 0 ? ",'" : "'");
        as_buf_append_str(b, members[perm[i]]);
        as_buf_append_char(b, '\'');
    }
    as_buf_append_str(b, "]}");
    assert_int_equal(as_buf_status(b), AS_OK);
}

/* The next permutation of perm[0..n) in lexicographic order; false after the last. */
static bool next_perm(int *perm, size_t n)
{
    size_t i = n - 1;
    while (i > 0 && perm[i - 1] >= perm[i]) {
        i--;
    }
    if (i == 0) {
        return false;
    }
    size_t j = n - 1;
    while (perm[j] <= perm[i - 1]) {
        j--;
    }
    int t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
    for (size_t a = i, z = n - 1; a < z; a++, z--) {
        t = perm[a];
        perm[a] = perm[z];
        perm[z] = t;
    }
    return true;
}

/* Every order of a duplicate-free set gives the same text. */
static void test_sets_any_order(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *members[5];
        const char *want;
    } SETS_5[] = {
        {"SS", {"b", "\\u0061", "\\u00e9", "B", "ab"}, "{'SS':['B','a','ab','b','\xc3\xa9']}"},
        {"NS", {"1.0e1", "-3", "0.25", "7", "-0"}, "{'NS':['-3E0','0E0','25E-2','7E0','1E1']}"},
        {"BS",
         {"Qg==", "QR==", "QUI=", "\\/w==", "AAAA"},
         "{'BS':['AAAA','QQ==','QUI=','Qg==','/w==']}"},
    };
    as_buf value = AS_BUF_INIT;
    as_buf out = AS_BUF_INIT;
    for (size_t s = 0; s < sizeof SETS_5 / sizeof SETS_5[0]; s++) {
        int perm[5] = {0, 1, 2, 3, 4};
        int orders = 0;
        do {
            set_text(&value, SETS_5[s].type, SETS_5[s].members, perm, 5);
            canon_of(value.data, &out);
            assert_buf_is(&out, SETS_5[s].want, value.data);
            orders++;
        } while (next_perm(perm, 5));
        assert_int_equal(orders, 120);
    }
    as_buf_free(&value);
    as_buf_free(&out);
}

/* Sets and maps past the stack arrays (the heap path), sorted the same way. */
static void test_large_collections(void **state)
{
    (void)state;
    enum { N = 40 };
    as_buf value = AS_BUF_INIT;
    as_buf want = AS_BUF_INIT;
    as_buf out = AS_BUF_INIT;
    char item[64];

    /* NS of N..1, written as k * 10 / 10 with a decimal tail. */
    as_buf_append_str(&value, "{'NS':[");
    as_buf_append_str(&want, "{'NS':[");
    for (int i = N; i >= 1; i--) {
        snprintf(item, sizeof item, "%s'%d.0'", i < N ? "," : "", i);
        as_buf_append_str(&value, item);
    }
    for (int i = 1; i <= N; i++) {
        if (i % 10 == 0) {
            snprintf(item, sizeof item, "%s'%dE1'", i > 1 ? "," : "", i / 10);
        } else {
            snprintf(item, sizeof item, "%s'%dE0'", i > 1 ? "," : "", i);
        }
        as_buf_append_str(&want, item);
    }
    as_buf_append_str(&value, "]}");
    as_buf_append_str(&want, "]}");
    canon_of(value.data, &out);
    assert_buf_is(&out, want.data, value.data);

    /* SS and a map with names n00..n39 in reverse order. */
    as_buf_clear(&value);
    as_buf_clear(&want);
    as_buf ss = AS_BUF_INIT;
    as_buf ss_want = AS_BUF_INIT;
    as_buf_append_str(&value, "{'M':{");
    as_buf_append_str(&want, "{'M':{");
    as_buf_append_str(&ss, "{'SS':[");
    as_buf_append_str(&ss_want, "{'SS':[");
    for (int i = N - 1; i >= 0; i--) {
        snprintf(item, sizeof item, "%s'n%02d':{'N':'%d'}", i < N - 1 ? "," : "", i, i + 1);
        as_buf_append_str(&value, item);
        snprintf(item, sizeof item, "%s'n%02d'", i < N - 1 ? "," : "", i);
        as_buf_append_str(&ss, item);
    }
    for (int i = 0; i < N; i++) {
        if ((i + 1) % 10 == 0) {
            snprintf(item, sizeof item, "%s'n%02d':{'N':'%dE1'}", i > 0 ? "," : "", i,
                     (i + 1) / 10);
        } else {
            snprintf(item, sizeof item, "%s'n%02d':{'N':'%dE0'}", i > 0 ? "," : "", i, i + 1);
        }
        as_buf_append_str(&want, item);
        snprintf(item, sizeof item, "%s'n%02d'", i > 0 ? "," : "", i);
        as_buf_append_str(&ss_want, item);
    }
    as_buf_append_str(&value, "}}");
    as_buf_append_str(&want, "}}");
    as_buf_append_str(&ss, "]}");
    as_buf_append_str(&ss_want, "]}");
    canon_of(value.data, &out);
    assert_buf_is(&out, want.data, value.data);
    canon_of(ss.data, &out);
    assert_buf_is(&out, ss_want.data, ss.data);

    as_buf_free(&ss);
    as_buf_free(&ss_want);
    as_buf_free(&value);
    as_buf_free(&want);
    as_buf_free(&out);
}

/* ---- Maps and lists --------------------------------------------------------------- */

static const canon_case COMPOUND[] = {
    {"{'M':{}}", "{'M':{}}"},
    {"{'L':[]}", "{'L':[]}"},
    {"{'M':{'b':{'N':'1'},'a':{'S':'x'}}}", "{'M':{'a':{'S':'x'},'b':{'N':'1E0'}}}"},
    /* Lists keep their order. */
    {"{'L':[{'N':'2.0'},{'S':'x'},{'L':[]},{'N':'1'}]}",
     "{'L':[{'N':'2E0'},{'S':'x'},{'L':[]},{'N':'1E0'}]}"},
    /* Names sorted by their decoded bytes: \u0041 is 'A', before 'B' (a raw '\' is not). */
    {"{'M':{'B':{'N':'2'},'a':{'N':'3'},'\\u0041':{'N':'1'}}}",
     "{'M':{'A':{'N':'1E0'},'B':{'N':'2E0'},'a':{'N':'3E0'}}}"},
    {"{'M':{'z':{'N':'1'},'\\u00e9':{'N':'2'},'Z':{'N':'3'}}}",
     "{'M':{'Z':{'N':'3E0'},'z':{'N':'1E0'},'\xc3\xa9':{'N':'2E0'}}}"},
    {"{'M':{'\\u0062':{'N':'1'},'a':{'N':'2'},'c':{'N':'3'}}}",
     "{'M':{'a':{'N':'2E0'},'b':{'N':'1E0'},'c':{'N':'3E0'}}}"},
    /* Names are written with the string rules ('\\' is 0x5c, before 'a'). */
    {"{'M':{'a\\'q':{'N':'1'},'line\\nx':{'N':'2'},'\\\\':{'N':'3'}}}",
     "{'M':{'\\\\':{'N':'3E0'},'a\\'q':{'N':'1E0'},'line\\u000ax':{'N':'2E0'}}}"},
    {"{'M':{'ab':{'N':'1'},'a':{'N':'2'},'':{'N':'3'}}}",
     "{'M':{'':{'N':'3E0'},'a':{'N':'2E0'},'ab':{'N':'1E0'}}}"},
    /* Nesting: maps in lists in maps, sets inside, each level by its own rule. */
    {"{'M':{'outer':{'L':[{'M':{'y':{'SS':['q','p']},'x':{'NS':['2','1']}}},"
     "{'BS':['Qg==','QQ==']},{'M':{'n':{'NULL':true},'b':{'BOOL':false}}}]},"
     "'a':{'M':{'d':{'B':'QR=='},'c':{'S':'\\u00e9\\n'}}}}}",
     "{'M':{'a':{'M':{'c':{'S':'\xc3\xa9\\u000a'},'d':{'B':'QQ=='}}},"
     "'outer':{'L':[{'M':{'x':{'NS':['1E0','2E0']},'y':{'SS':['p','q']}}},"
     "{'BS':['QQ==','Qg==']},{'M':{'b':{'BOOL':false},'n':{'NULL':true}}}]}}}"},
    /* Whitespace outside strings is gone. */
    {"{ 'M' : { 'b' : { 'N' : '1' } , 'a' : { 'L' : [ { 'S' : ' x ' } ] } } }",
     "{'M':{'a':{'L':[{'S':' x '}]},'b':{'N':'1E0'}}}"},
};

static void test_compound(void **state)
{
    (void)state;
    RUN_TABLE(COMPOUND);
}

/* 30 levels of maps and lists: each level sorted, nothing lost at the bottom. */
static void test_deep_nesting(void **state)
{
    (void)state;
    enum { LEVELS = 30 };
    as_buf value = AS_BUF_INIT;
    as_buf want = AS_BUF_INIT;
    for (int i = 0; i < LEVELS; i++) {
        if (i % 2 == 0) {
            as_buf_append_str(&value, "{'M':{'z':{'N':'10'},'a':");
            as_buf_append_str(&want, "{'M':{'a':");
        } else {
            as_buf_append_str(&value, "{'L':[{'N':'0.10'},");
            as_buf_append_str(&want, "{'L':[{'N':'1E-1'},");
        }
    }
    as_buf_append_str(&value, "{'SS':['y','x']}");
    as_buf_append_str(&want, "{'SS':['x','y']}");
    for (int i = LEVELS - 1; i >= 0; i--) {
        if (i % 2 == 0) {
            as_buf_append_str(&value, "}}");
            as_buf_append_str(&want, ",'z':{'N':'1E1'}}}");
        } else {
            as_buf_append_str(&value, "]}");
            as_buf_append_str(&want, "]}");
        }
    }
    assert_int_equal(as_buf_status(&value), AS_OK);
    assert_int_equal(as_buf_status(&want), AS_OK);
    as_buf out = AS_BUF_INIT;
    canon_of(value.data, &out);
    assert_buf_is(&out, want.data, value.data);
    as_buf_free(&out);
    as_buf_free(&value);
    as_buf_free(&want);
}

/* ---- Images, Keys, set members ---------------------------------------------------- */

static void test_images(void **state)
{
    (void)state;
    doc d;
    doc_load(&d, "{'value':{'N':'3600'},'key':{'S':'CACHE_TTL_SEC'},"
                 "'tags':{'SS':['b','a']},'\\u0041':{'BOOL':true}}");
    as_buf out = AS_BUF_INIT;
    as_buf_append_str(&out, "prefix:");

    /* The bare image, appended after what the buffer held. */
    assert_true(as_result_is_ok(as_canonical_image(d.rec->new_image, &out)));
    assert_buf_is(&out,
                  "prefix:{'A':{'BOOL':true},'key':{'S':'CACHE_TTL_SEC'},"
                  "'tags':{'SS':['a','b']},'value':{'N':'36E2'}}",
                  "NewImage");

    /* The same image as a value: wrapped in M. */
    as_buf_clear(&out);
    assert_true(as_result_is_ok(as_canonical_value(d.rec->new_image, &out)));
    assert_buf_is(&out,
                  "{'M':{'A':{'BOOL':true},'key':{'S':'CACHE_TTL_SEC'},"
                  "'tags':{'SS':['a','b']},'value':{'N':'36E2'}}}",
                  "NewImage as a value");

    /* Keys are an image too. */
    as_buf_clear(&out);
    assert_true(as_result_is_ok(as_canonical_image(d.rec->keys, &out)));
    assert_buf_is(&out, "{'k':{'S':'key'}}", "Keys");

    /* A set member alone is a value of its own type. */
    const as_value *tags = NULL;
    for (const as_value *m = d.rec->new_image + 1; m < d.rec->new_image + d.rec->new_image->subtree;
         m += m->subtree) {
        if (m->type == AS_TYPE_SS) {
            tags = m;
        }
    }
    assert_non_null(tags);
    as_buf_clear(&out);
    assert_true(as_result_is_ok(as_canonical_value(tags + 1, &out)));
    assert_buf_is(&out, "{'S':'b'}", "SS member");

    /* A map value inside an image is an image too. */
    doc_free(&d);
    doc_load(&d, "{'m':{'M':{'y':{'NS':['1.0']},'x':{'N':'-0'}}}}");
    as_buf_clear(&out);
    assert_true(as_result_is_ok(as_canonical_image(first_attr(&d), &out)));
    assert_buf_is(&out, "{'x':{'N':'0E0'},'y':{'NS':['1E0']}}", "M value as an image");

    as_buf_free(&out);
    doc_free(&d);
}

/* The example of the classic format: the image before and after an update, and the
 * same item as DynamoDB might hand it back (names reordered, number rewritten). */
static void test_reordered_image_same_form(void **state)
{
    (void)state;
    doc a;
    doc b;
    doc_load(&a, "{'key':{'S':'CACHE_TTL_SEC'},'value':{'N':'1800'},"
                 "'tags':{'NS':['3','1.50','2']}}");
    doc_load(&b, "{'tags':{'NS':['1.5','2','3']},'value':{'N':'1.8E3'},"
                 "'\\u006bey':{'S':'CACHE_\\u0054TL_SEC'}}");
    as_buf x = AS_BUF_INIT;
    as_buf y = AS_BUF_INIT;
    assert_true(as_result_is_ok(as_canonical_image(a.rec->new_image, &x)));
    assert_true(as_result_is_ok(as_canonical_image(b.rec->new_image, &y)));
    assert_buf_is(&x,
                  "{'key':{'S':'CACHE_TTL_SEC'},'tags':{'NS':['15E-1','2E0','3E0']},"
                  "'value':{'N':'18E2'}}",
                  "image a");
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    as_buf_free(&x);
    as_buf_free(&y);
    doc_free(&a);
    doc_free(&b);
}

/* Leaves out the top-level attributes whose decoded name is one of the NULL-terminated
 * names in `ctx`. */
static bool skip_named(const as_value *member, void *ctx)
{
    for (const char **n = ctx; *n != NULL; n++) {
        if (as_json_string_equals(member->name, (member->flags & AS_VALUE_NAME_ESCAPED) != 0, *n,
                                  strlen(*n))) {
            return true;
        }
    }
    return false;
}

/* An image less some attributes has the form of the image that never had them, and a
 * nested member of a left-out name stays. */
static void test_image_without(void **state)
{
    (void)state;
    doc whole;
    doc less;
    doc_load(&whole, "{'value':{'N':'1800'},'chain':{'S':'x'},'\\u0069gnored':{'N':'1'},"
                     "'m':{'M':{'chain':{'S':'kept'}}},'key':{'S':'K'}}");
    doc_load(&less, "{'key':{'S':'K'},'m':{'M':{'chain':{'S':'kept'}}},'value':{'N':'18E2'}}");
    static const char *LEFT_OUT[] = {"chain", "ignored", NULL};
    as_buf x = AS_BUF_INIT;
    as_buf y = AS_BUF_INIT;
    assert_true(as_result_is_ok(
        as_canonical_image_without(whole.rec->new_image, skip_named, LEFT_OUT, &x)));
    assert_true(as_result_is_ok(as_canonical_image(less.rec->new_image, &y)));
    assert_buf_is(&x, "{'key':{'S':'K'},'m':{'M':{'chain':{'S':'kept'}}},'value':{'N':'18E2'}}",
                  "image without chain and ignored");
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);

    /* Nothing left out: the whole image; everything left out: the empty one. */
    as_buf_clear(&x);
    as_buf_clear(&y);
    assert_true(as_result_is_ok(as_canonical_image_without(whole.rec->new_image, NULL, NULL, &x)));
    assert_true(as_result_is_ok(as_canonical_image(whole.rec->new_image, &y)));
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    static const char *ALL[] = {"value", "chain", "ignored", "m", "key", NULL};
    as_buf_clear(&x);
    assert_true(
        as_result_is_ok(as_canonical_image_without(whole.rec->new_image, skip_named, ALL, &x)));
    assert_buf_is(&x, "{}", "image without all its attributes");

    /* The same refusals as as_canonical_image. */
    const as_value *s = first_attr(&whole);
    assert_int_equal(as_canonical_image_without(s, skip_named, ALL, &x).status, AS_ERR_ARGUMENT);
    assert_int_equal(as_canonical_image_without(NULL, NULL, NULL, &x).status, AS_ERR_ARGUMENT);
    as_buf_free(&x);
    as_buf_free(&y);
    doc_free(&whole);
    doc_free(&less);
}

/* An item read back from DynamoDB (as_wire_decode) has the form of the image it was built
 * from, however DynamoDB rewrote it: names reordered, numbers normalised, sets shuffled,
 * escapes spelt otherwise. What the chain and backfill rely on. */
static void test_wire_items(void **state)
{
    (void)state;
    doc d;
    doc_load(&d, "{'key':{'S':'CACHE_TTL_SEC'},'value':{'N':'1800'},"
                 "'tags':{'SS':['b','a']},'bin':{'BS':['Qg==','QQ==']},"
                 "'m':{'M':{'z':{'L':[{'N':'0.50'}]},'\\u00e9':{'NULL':true}}}}");
    as_buf page = AS_BUF_INIT;
    append_json(&page, "{'Items':[{'m':{'M':{'\xc3\xa9':{'NULL':true},'z':{'L':[{'N':'.5'}]}}},"
                       "'bin':{'BS':['QQ==','Qg==']},'value':{'N':'1.8E3'},"
                       "'tags':{'SS':['a','\\u0062']},'key':{'S':'CACHE_TTL_SEC'}}],"
                       "'Count':1,'ScannedCount':1}");
    as_wire_items *items = NULL;
    as_error err = {0};
    if (as_wire_decode(page.data, page.len, AS_WIRE_PAGE, &items, &err) != AS_OK) {
        fail_msg("as_wire_decode: %s", err.message);
    }
    assert_int_equal(as_wire_item_count(items), 1);
    as_buf x = AS_BUF_INIT;
    as_buf y = AS_BUF_INIT;
    assert_true(as_result_is_ok(as_canonical_image(d.rec->new_image, &x)));
    assert_true(as_result_is_ok(as_canonical_image(as_wire_item(items, 0), &y)));
    assert_buf_is(&y,
                  "{'bin':{'BS':['QQ==','Qg==']},'key':{'S':'CACHE_TTL_SEC'},"
                  "'m':{'M':{'z':{'L':[{'N':'5E-1'}]},'\xc3\xa9':{'NULL':true}}},"
                  "'tags':{'SS':['a','b']},'value':{'N':'18E2'}}",
                  "the item read back");
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    as_buf_free(&x);
    as_buf_free(&y);
    as_wire_items_free(items);
    as_buf_free(&page);
    doc_free(&d);
}

/* ---- Agreement with the diff's equality --------------------------------------------- */

/* Two values have the same canonical form exactly when as_value_equal holds. */
static void test_agrees_with_equality(void **state)
{
    (void)state;
    static const char *const PAIRS[][2] = {
        {"{'N':'1'}", "{'N':'1.0'}"},
        {"{'N':'1'}", "{'N':'10E-1'}"},
        {"{'N':'1'}", "{'N':'-1'}"},
        {"{'N':'-0'}", "{'N':'0'}"},
        {"{'N':'1'}", "{'S':'1'}"},
        {"{'S':'a'}", "{'S':'\\u0061'}"},
        {"{'S':'a'}", "{'S':'A'}"},
        {"{'B':'QR=='}", "{'B':'QQ=='}"},
        {"{'B':'QQ=='}", "{'B':'Qg=='}"},
        {"{'SS':['a','b']}", "{'SS':['b','a']}"},
        {"{'SS':['a','b']}", "{'SS':['a','c']}"},
        {"{'NS':['1','2']}", "{'NS':['2.0','1E0']}"},
        {"{'BS':['QQ==','Qg==']}", "{'BS':['Qg==','QR==']}"},
        {"{'M':{'x':{'N':'1'},'y':{'S':'s'}}}", "{'M':{'y':{'S':'s'},'x':{'N':'1.0'}}}"},
        {"{'M':{'x':{'N':'1'}}}", "{'M':{'x':{'N':'1'},'y':{'S':'s'}}}"},
        {"{'L':[{'N':'1'},{'N':'2'}]}", "{'L':[{'N':'2'},{'N':'1'}]}"},
        {"{'L':[{'N':'1'},{'N':'2'}]}", "{'L':[{'N':'1.0'},{'N':'2'}]}"},
        {"{'BOOL':true}", "{'BOOL':false}"},
        {"{'NULL':true}", "{'BOOL':true}"},
    };
    as_buf x = AS_BUF_INIT;
    as_buf y = AS_BUF_INIT;
    as_buf image = AS_BUF_INIT;
    for (size_t i = 0; i < sizeof PAIRS / sizeof PAIRS[0]; i++) {
        as_buf_clear(&image);
        append_json(&image, "{'a':");
        append_json(&image, PAIRS[i][0]);
        append_json(&image, ",'b':");
        append_json(&image, PAIRS[i][1]);
        append_json(&image, "}");
        doc d;
        doc_load(&d, image.data);
        const as_value *a = first_attr(&d);
        const as_value *b = a + a->subtree;
        as_buf_clear(&x);
        as_buf_clear(&y);
        assert_true(as_result_is_ok(as_canonical_value(a, &x)));
        assert_true(as_result_is_ok(as_canonical_value(b, &y)));
        bool same = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
        if (same != as_value_equal(a, b)) {
            fail_msg("%s vs %s: canonical %s, as_value_equal %s", PAIRS[i][0], PAIRS[i][1],
                     same ? "same" : "different", same ? "false" : "true");
        }
        doc_free(&d);
    }
    as_buf_free(&x);
    as_buf_free(&y);
    as_buf_free(&image);
}

/* ---- Refusals ------------------------------------------------------------------------ */

static as_value scalar(as_type type, const char *text)
{
    as_value v = {0};
    v.type = type;
    v.subtree = 1;
    v.text = as_span_from_cstr(text);
    return v;
}

/* A value no valid record holds is refused, and the buffer keeps only what it held. */
static void check_refused(const as_value *v, const char *what)
{
    as_buf out = AS_BUF_INIT;
    as_buf_append_str(&out, "kept");
    as_result r = as_canonical_value(v, &out);
    if (r.status != AS_ERR_ARGUMENT) {
        fail_msg("%s: status %d, want AS_ERR_ARGUMENT", what, (int)r.status);
    }
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "kept");
    as_buf_free(&out);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        as_type type;
        const char *text;
    } BAD[] = {
        {AS_TYPE_N, "abc"}, {AS_TYPE_N, ""},     {AS_TYPE_N, "1e999"},    {AS_TYPE_N, "1.2.3"},
        {AS_TYPE_B, "QQ="}, {AS_TYPE_B, "Q==="}, {AS_TYPE_B, "QQ==QQ=="}, {AS_TYPE_B, "QQ=?"},
        {AS_TYPE_B, "Q"},   {AS_TYPE_B, "QQ-_"}, {AS_TYPE_BOOL, "yes"},   {AS_TYPE_NULL, ""},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        as_value v = scalar(BAD[i].type, BAD[i].text);
        check_refused(&v, BAD[i].text);
    }

    /* Inside a set or a map, the whole value is refused. */
    as_value ns[3] = {scalar(AS_TYPE_NS, "[...]"), scalar(AS_TYPE_N, "1"), scalar(AS_TYPE_N, "x")};
    ns[0].subtree = 3;
    ns[0].count = 2;
    check_refused(ns, "NS with a bad member");
    as_value bs[3] = {scalar(AS_TYPE_BS, "[...]"), scalar(AS_TYPE_B, "QQ=="),
                      scalar(AS_TYPE_B, "QQ")};
    bs[0].subtree = 3;
    bs[0].count = 2;
    check_refused(bs, "BS with a bad member");
    as_value m[2] = {scalar(AS_TYPE_M, "{...}"), scalar(AS_TYPE_N, "--1")};
    m[0].subtree = 2;
    m[0].count = 1;
    m[0].depth = 1;
    m[1].name = as_span_from_cstr("n");
    check_refused(m, "M with a bad member");

    as_value unknown = scalar((as_type)42, "x");
    check_refused(&unknown, "unknown type");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    as_buf out = AS_BUF_INIT;
    as_value s = scalar(AS_TYPE_S, "text");
    assert_int_equal(as_canonical_value(NULL, &out).status, AS_ERR_ARGUMENT);
    assert_int_equal(as_canonical_value(&s, NULL).status, AS_ERR_ARGUMENT);
    assert_int_equal(as_canonical_image(NULL, &out).status, AS_ERR_ARGUMENT);
    as_value m = scalar(AS_TYPE_M, "{}");
    assert_int_equal(as_canonical_image(&m, NULL).status, AS_ERR_ARGUMENT);
    /* Only a map is an image. */
    assert_int_equal(as_canonical_image(&s, &out).status, AS_ERR_ARGUMENT);
    assert_int_equal(out.len, 0);
    /* An empty map is the empty image. */
    assert_true(as_result_is_ok(as_canonical_image(&m, &out)));
    assert_buf_is(&out, "{}", "empty map");
    as_buf_free(&out);
}

/* A buffer that had already failed is reported, not written to. */
static void test_failed_buffer(void **state)
{
    (void)state;
    as_buf out = AS_BUF_INIT;
    as_buf_append_str(&out, "kept");
    out.failed = true;
    as_value s = scalar(AS_TYPE_S, "text");
    assert_int_equal(as_canonical_value(&s, &out).status, AS_ERR_NOMEM);
    assert_int_equal(out.len, 4);
    as_value m = scalar(AS_TYPE_M, "{}");
    assert_int_equal(as_canonical_image(&m, &out).status, AS_ERR_NOMEM);
    assert_int_equal(out.len, 4);
    assert_int_equal(as_buf_status(&out), AS_ERR_NOMEM);
    as_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_equal_numbers_one_form),
        cmocka_unit_test(test_binaries),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_vector_file),
        cmocka_unit_test(test_sets),
        cmocka_unit_test(test_sets_any_order),
        cmocka_unit_test(test_large_collections),
        cmocka_unit_test(test_compound),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_reordered_image_same_form),
        cmocka_unit_test(test_image_without),
        cmocka_unit_test(test_wire_items),
        cmocka_unit_test(test_agrees_with_equality),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_failed_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
