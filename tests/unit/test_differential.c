/* Differential tests of the event decoder against the jansson reference: the fixtures,
 * every truncation and byte edit of a small event, a table of hand-written inputs for
 * each syntax and DynamoDB rule, the exact error texts, and every fuzz regression. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream.h"
#include "differential.h"
#include "reference_decoder.h"

/* ---- Helpers ----------------------------------------------------------------------- */

/* Failures are gathered so that one run names every disagreement, not just the first. */
typedef struct tally {
    size_t cases;
    size_t failed;
    as_buf report;
} tally;

/* Runs one input through both decoders; a disagreement is written to the tally. The
 * bytes are copied to an exact-size buffer so that sanitizers see any overread. */
static bool check_case(tally *t, const char *name, const char *bytes, size_t len)
{
    char *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0) {
        memcpy(copy, bytes, len);
    }
    differential d;
    memset(&d, 0, sizeof d);
    bool same = differential_run(copy, len, &d);
    t->cases++;
    if (!same) {
        t->failed++;
        if (t->failed <= 40) {
            as_buf_append_str(&t->report, "DISAGREE ");
            as_buf_append_str(&t->report, name);
            as_buf_append_char(&t->report, '\n');
            differential_explain(&d, &t->report);
        }
    }
    differential_free(&d);
    free(copy);
    return same;
}

static void tally_finish(tally *t, const char *what)
{
    if (t->failed > 0) {
        /* Straight to stdout: cmocka's print_message cuts long texts. */
        fwrite(t->report.data, 1, t->report.len, stdout);
        if (t->failed > 40) {
            printf("... and %zu more\n", t->failed - 40);
        }
        fflush(stdout);
        as_buf_free(&t->report);
        fail_msg("%s: %zu of %zu inputs disagree with the jansson reference", what, t->failed,
                 t->cases);
    }
    as_buf_free(&t->report);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    as_buf buf = AS_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        as_buf_append(&buf, chunk, n);
    }
    fclose(f);
    *len = buf.len;
    if (buf.data == NULL) {
        return calloc(1, 1);
    }
    return buf.data;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of `dir` whose names end in `suffix` (any when NULL), sorted,
 * leaving out READMEs; *count of them. Free each and the array. */
static char **list_files(const char *dir, const char *suffix, size_t *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return NULL;
    }
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0) {
            continue;
        }
        if (suffix != NULL && (n < strlen(suffix) || strcmp(e->d_name + n - strlen(suffix), suffix) != 0)) {
            continue;
        }
        if (*count == cap) {
            cap = cap == 0 ? 32 : cap * 2;
            char **grown = realloc(names, cap * sizeof *names);
            assert_non_null(grown);
            names = grown;
        }
        size_t size = strlen(dir) + n + 2;
        names[*count] = malloc(size);
        assert_non_null(names[*count]);
        snprintf(names[*count], size, "%s/%s", dir, e->d_name);
        (*count)++;
    }
    closedir(d);
    if (*count > 0) {
        qsort(names, *count, sizeof *names, name_cmp);
    }
    return names;
}

static void free_files(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(names[i]);
    }
    free(names);
}

/* The fixture events, in the tree (events/README.md names their sources); tests run from
 * the top of the tree. */
static const char *fixture_dir(void)
{
    return "events";
}

/* ---- Fixtures ---------------------------------------------------------------------- */

static void test_fixtures(void **state)
{
    (void)state;
    tally t = {0, 0, AS_BUF_INIT};
    size_t count;
    char **names = list_files(fixture_dir(), ".json", &count);
    if (count == 0) {
        fail_msg("no .json event in %s/ (tests run from the top of the tree)", fixture_dir());
    }
    for (size_t i = 0; i < count; i++) {
        size_t len;
        char *bytes = read_file(names[i], &len);
        assert_non_null(bytes);
        check_case(&t, names[i], bytes, len);
        free(bytes);
    }
    free_files(names, count);
    tally_finish(&t, "fixtures");
}

/* ---- Systematic edits of a small event ----------------------------------------------- */

/* One record holding every attribute type, escapes, a fractional time and userIdentity. */
static const char SMALL[] =
    "{\"Records\":[{\"eventID\":\"c4ca4238a0b923820dcc509a6f75849b\",\"eventName\":\"MODIFY\","
    "\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","
    "\"dynamodb\":{\"ApproximateCreationDateTime\":1714566645.5,"
    "\"Keys\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"}},"
    "\"OldImage\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"3600\"},"
    "\"b\":{\"B\":\"AAEq\"},\"ss\":{\"SS\":[\"a\",\"b\\u00e9\"]},\"ns\":{\"NS\":[\"1\",\"2.5\"]},"
    "\"bs\":{\"BS\":[\"QQ==\"]},\"m\":{\"M\":{\"x\":{\"NULL\":true},\"y\":{\"BOOL\":false}}},"
    "\"l\":{\"L\":[{\"S\":\"\\u20ac\\n\"},{\"N\":\"-1e3\"}]}},"
    "\"NewImage\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"1800\"}},"
    "\"SequenceNumber\":\"111\",\"SizeBytes\":26,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"},"
    "\"userIdentity\":{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"},"
    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:111111111111:table/Configuration/stream/"
    "2024-05-01T00:00:00.000\"}]}";

static void test_small_event_agrees(void **state)
{
    (void)state;
    tally t = {0, 0, AS_BUF_INIT};
    check_case(&t, "small event", SMALL, sizeof SMALL - 1);
    tally_finish(&t, "small event");
}

/* Every prefix: each stops inside some token or structure, and all must fail alike. */
static void test_truncations(void **state)
{
    (void)state;
    tally t = {0, 0, AS_BUF_INIT};
    char name[64];
    for (size_t n = 0; n < sizeof SMALL - 1; n++) {
        snprintf(name, sizeof name, "small event cut to %zu bytes", n);
        check_case(&t, name, SMALL, n);
    }
    size_t len;
    char path[256];
    snprintf(path, sizeof path, "%s/localstack-esm-insert-number.json", fixture_dir());
    char *pretty = read_file(path, &len);
    if (pretty != NULL) {
        for (size_t n = 0; n < len; n++) {
            snprintf(name, sizeof name, "insert-number fixture cut to %zu bytes", n);
            check_case(&t, name, pretty, n);
        }
        free(pretty);
    }
    tally_finish(&t, "truncations");
}

/* Every byte deleted, doubled, and replaced by a few bytes that matter to JSON. */
static void test_byte_edits(void **state)
{
    (void)state;
    static const char replacements[] = {'"', '\\', '{', ']', ',', ' ', '\0', '\x80'};
    tally t = {0, 0, AS_BUF_INIT};
    size_t len = sizeof SMALL - 1;
    char *edited = malloc(len + 1);
    assert_non_null(edited);
    char name[80];
    for (size_t i = 0; i < len; i++) {
        memcpy(edited, SMALL, i);
        memcpy(edited + i, SMALL + i + 1, len - i - 1);
        snprintf(name, sizeof name, "small event without byte %zu", i);
        check_case(&t, name, edited, len - 1);

        memcpy(edited, SMALL, i + 1);
        memcpy(edited + i + 1, SMALL + i, len - i);
        snprintf(name, sizeof name, "small event with byte %zu doubled", i);
        check_case(&t, name, edited, len + 1);

        for (size_t r = 0; r < sizeof replacements; r++) {
            if (SMALL[i] == replacements[r]) {
                continue;
            }
            memcpy(edited, SMALL, len);
            edited[i] = replacements[r];
            snprintf(name, sizeof name, "small event with byte %zu set to 0x%02x", i,
                     (unsigned char)replacements[r]);
            check_case(&t, name, edited, len);
        }
    }
    free(edited);
    tally_finish(&t, "byte edits");
}

/* ---- Hand-written inputs ----------------------------------------------------------------- */

typedef struct named_input {
    const char *name;
    const char *bytes;
    size_t len;
} named_input;

#define CASE(name, literal) {name, literal, sizeof literal - 1}

/* A valid one-record event whose pieces each case replaces. */
#define FIELDS "\"eventID\":\"1\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\""
#define KEYS_A "\"Keys\":{\"k\":{\"S\":\"a\"}}"
#define EVENT_OF(record) "{\"Records\":[" record "]}"
#define RECORD(fields) EVENT_OF("{" fields "}")
#define DYNAMODB(members) RECORD(FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," members "}")
#define EXTRA(members) DYNAMODB(KEYS_A "," members)
#define IMAGE(members) EXTRA("\"NewImage\":{" members "}")
#define ATTR(value) IMAGE("\"a\":" value)
#define TIME(number) EXTRA("\"ApproximateCreationDateTime\":" number)
#define UNKNOWN(value) RECORD(FIELDS ",\"x\":" value ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")
#define STRING(body) RECORD(FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "},\"x\":\"" body "\"")
#define S_VALUE(body) ATTR("{\"S\":\"" body "\"}")
#define NAME(body) IMAGE("\"" body "\":{\"S\":\"v\"}")

static const named_input SYNTAX[] = {
    CASE("empty input", ""),
    CASE("whitespace only", " \n\t\r "),
    CASE("lone {", "{"),
    CASE("lone [", "["),
    CASE("empty object", "{}"),
    CASE("empty array", "[]"),
    CASE("top-level string", "\"Records\""),
    CASE("top-level number", "1"),
    CASE("top-level null", "null"),
    CASE("empty Records", "{\"Records\":[]}"),
    CASE("empty Records spaced", " \r\n\t{ \"Records\" : [ ] } \n"),
    CASE("Records object", "{\"Records\":{}}"),
    CASE("Records null", "{\"Records\":null}"),
    CASE("Records string", "{\"Records\":\"[]\"}"),
    CASE("no Records", "{\"records\":[]}"),
    CASE("Records escaped key", "{\"Record\\u0073\":[]}"),
    CASE("trailing garbage", "{\"Records\":[]} x"),
    CASE("two values", "{\"Records\":[]}{}"),
    CASE("trailing comma in array", "{\"Records\":[1,]}"),
    CASE("trailing comma in object", "{\"Records\":[],}"),
    CASE("missing colon", "{\"Records\" []}"),
    CASE("missing comma", "{\"a\":1 \"Records\":[]}"),
    CASE("single quotes", "{'Records':[]}"),
    CASE("unquoted key", "{Records:[]}"),
    CASE("comment", "{\"Records\":[] /* c */}"),
    CASE("BOM", "\xEF\xBB\xBF{\"Records\":[]}"),
    CASE("BOM after space", " \xEF\xBB\xBF{\"Records\":[]}"),
    CASE("NUL byte outside strings", "{\"Records\":[]}\0"),
    CASE("NUL byte before value", "\0{\"Records\":[]}"),
    CASE("form feed as space", "{\"Records\":[]}\f"),
    CASE("vertical tab as space", "\v{\"Records\":[]}"),
    CASE("literal true", UNKNOWN("true")),
    CASE("literal tru", UNKNOWN("tru")),
    CASE("literal True", UNKNOWN("True")),
    CASE("literal nul", UNKNOWN("nul")),
    CASE("literal nulll", UNKNOWN("nulll")),
    CASE("literal falsey", UNKNOWN("falsey")),
    CASE("NaN", UNKNOWN("NaN")),
    CASE("Infinity", UNKNOWN("Infinity")),
    CASE("-Infinity", UNKNOWN("-Infinity")),
    /* Numbers (in a field nobody reads: only the syntax matters). */
    CASE("number -0", UNKNOWN("-0")),
    CASE("number 1e5", UNKNOWN("1e5")),
    CASE("number 1E+5", UNKNOWN("1E+5")),
    CASE("number 1e-5", UNKNOWN("1e-5")),
    CASE("number 0.5", UNKNOWN("0.5")),
    CASE("number 01", UNKNOWN("01")),
    CASE("number -01", UNKNOWN("-01")),
    CASE("number 00", UNKNOWN("00")),
    CASE("number 1.", UNKNOWN("1.")),
    CASE("number .5", UNKNOWN(".5")),
    CASE("number -", UNKNOWN("-")),
    CASE("number +1", UNKNOWN("+1")),
    CASE("number 1e", UNKNOWN("1e")),
    CASE("number 1e+", UNKNOWN("1e+")),
    CASE("number 1.e5", UNKNOWN("1.e5")),
    CASE("number 1.5.5", UNKNOWN("1.5.5")),
    CASE("number 0x10", UNKNOWN("0x10")),
    CASE("number 1 2", UNKNOWN("1 2")),
    CASE("number - 1", UNKNOWN("- 1")),
    CASE("number 1e999999999999", UNKNOWN("1e999999999999")),
    CASE("number -1e999999999999", UNKNOWN("-1e999999999999")),
    CASE("number 1e-999999999999", UNKNOWN("1e-999999999999")),
    CASE("number 1e309", UNKNOWN("1e309")),
    CASE("number 1.7976931348623157e308", UNKNOWN("1.7976931348623157e308")),
    CASE("number int64 max", UNKNOWN("9223372036854775807")),
    CASE("number int64 min", UNKNOWN("-9223372036854775808")),
    CASE("number int64 max + 1", UNKNOWN("9223372036854775808")),
    CASE("number int64 min - 1", UNKNOWN("-9223372036854775809")),
    CASE("number 40 digits", UNKNOWN("1234567890123456789012345678901234567890")),
    CASE("huge numbers twice", UNKNOWN("[1e400,-99999999999999999999,{\"a\":1e999}]")),
    CASE("huge number as top level", "123456789012345678901234567890"),
    CASE("huge number then syntax error", UNKNOWN("[1e400,]")),
    CASE("number then huge number", "1E-130-130999999999999999999559999999999955"),
    CASE("true then huge number", UNKNOWN("[true-1e400]")),
    CASE("false then huge number", UNKNOWN("[false1e400]")),
    CASE("three numbers then huge", UNKNOWN("[1.5-2e3-0-99999999999999999999]")),
    /* Strings: escapes. */
    CASE("escape \\/", STRING("a\\/b")),
    CASE("escapes all", STRING("\\\"\\\\\\/\\b\\f\\n\\r\\t")),
    CASE("escape \\x", STRING("\\x41")),
    CASE("escape \\'", STRING("\\'")),
    CASE("escape \\U", STRING("\\U0041")),
    CASE("escape \\a", STRING("\\a")),
    CASE("escape \\0", STRING("\\0")),
    CASE("escape \\u12", STRING("\\u12")),
    CASE("escape \\u12G4", STRING("\\u12G4")),
    CASE("escape \\u at end", STRING("\\u")),
    CASE("escape \\uabcd lower", STRING("\\uabcd")),
    CASE("escape \\uABCD upper", STRING("\\uABCD")),
    CASE("escape \\u0000", STRING("\\u0000")),
    CASE("escape \\u001f", STRING("\\u001f")),
    CASE("lone \\uD800", STRING("\\uD800")),
    CASE("lone \\uDBFF", STRING("\\uDBFF")),
    CASE("lone \\uDC00", STRING("\\uDC00")),
    CASE("lone \\uDFFF", STRING("\\uDFFF")),
    CASE("\\uD800 then text", STRING("\\uD800abcdef")),
    CASE("\\uD800\\u0041", STRING("\\uD800\\u0041")),
    CASE("\\uD800\\uD800", STRING("\\uD800\\uD800")),
    CASE("\\uD800\\n", STRING("\\uD800\\n")),
    CASE("\\uD800\\uDC00", STRING("\\uD800\\uDC00")),
    CASE("\\uDBFF\\uDFFF", STRING("\\uDBFF\\uDFFF")),
    CASE("\\uDC00\\uD800", STRING("\\uDC00\\uD800")),
    CASE("backslash at end", STRING("\\")),
    CASE("raw control 0x01", STRING("\x01")),
    CASE("raw tab", STRING("\t")),
    CASE("raw newline", STRING("\n")),
    CASE("raw 0x1f", STRING("\x1f")),
    CASE("raw DEL", STRING("\x7f")),
    CASE("raw NUL", STRING("a\0b")),
    CASE("unterminated string", "{\"Records\":[], \"a\":\"abc"),
    CASE("unterminated key", "{\"Records\":[], \"a"),
    /* UTF-8, valid at every boundary. */
    CASE("utf8 U+0080", STRING("\xC2\x80")),
    CASE("utf8 U+07FF", STRING("\xDF\xBF")),
    CASE("utf8 U+0800", STRING("\xE0\xA0\x80")),
    CASE("utf8 U+D7FF", STRING("\xED\x9F\xBF")),
    CASE("utf8 U+E000", STRING("\xEE\x80\x80")),
    CASE("utf8 U+FFFF", STRING("\xEF\xBF\xBF")),
    CASE("utf8 U+FEFF inside", STRING("\xEF\xBB\xBF")),
    CASE("utf8 U+10000", STRING("\xF0\x90\x80\x80")),
    CASE("utf8 U+10FFFF", STRING("\xF4\x8F\xBF\xBF")),
    /* UTF-8, invalid of every kind. */
    CASE("utf8 lone continuation 80", STRING("\x80")),
    CASE("utf8 lone continuation BF", STRING("\xBF")),
    CASE("utf8 overlong C0 80", STRING("\xC0\x80")),
    CASE("utf8 overlong C1 BF", STRING("\xC1\xBF")),
    CASE("utf8 overlong E0 80 80", STRING("\xE0\x80\x80")),
    CASE("utf8 overlong E0 9F BF", STRING("\xE0\x9F\xBF")),
    CASE("utf8 overlong F0 80 80 80", STRING("\xF0\x80\x80\x80")),
    CASE("utf8 overlong F0 8F BF BF", STRING("\xF0\x8F\xBF\xBF")),
    CASE("utf8 surrogate ED A0 80", STRING("\xED\xA0\x80")),
    CASE("utf8 surrogate ED BF BF", STRING("\xED\xBF\xBF")),
    CASE("utf8 surrogate pair", STRING("\xED\xA0\x80\xED\xB0\x80")),
    CASE("utf8 above U+10FFFF F4 90", STRING("\xF4\x90\x80\x80")),
    CASE("utf8 lead F5", STRING("\xF5\x80\x80\x80")),
    CASE("utf8 lead F8", STRING("\xF8\x88\x80\x80\x80")),
    CASE("utf8 lead FE", STRING("\xFE")),
    CASE("utf8 lead FF", STRING("\xFF")),
    CASE("utf8 truncated C3", STRING("\xC3")),
    CASE("utf8 truncated E2 82", STRING("\xE2\x82")),
    CASE("utf8 truncated F0 9F 98", STRING("\xF0\x9F\x98")),
    CASE("utf8 C3 then ASCII", STRING("\xC3" "A")),
    CASE("utf8 E2 then ASCII", STRING("\xE2\x82" "A")),
    CASE("utf8 2 continuations", STRING("\xC3\xA9\xA9")),
    CASE("utf8 truncated at end of input", "{\"Records\":[],\"a\":\"\xE2\x82"),
    CASE("utf8 in key", "{\"Records\":[],\"\xC3\xA9\":1}"),
    CASE("utf8 invalid in key", "{\"Records\":[],\"\xC3\":1}"),
    CASE("utf8 outside strings", "{\"Records\":[]\xC3\xA9}"),
    CASE("utf8 invalid outside strings", "{\"Records\":[]\xFF}"),
    CASE("utf8 in eventID", RECORD("\"eventID\":\"\xE2\x82\xAC\",\"eventName\":\"INSERT\","
                                   "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{"
                                   "\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("utf8 invalid in S", S_VALUE("\xED\xA0\x80")),
    CASE("utf8 invalid in name", NAME("\xC0\xAF")),
};

static const named_input ATTRIBUTES[] = {
    CASE("S", S_VALUE("text")),
    CASE("S empty", S_VALUE("")),
    CASE("S escaped", S_VALUE("a\\\"b\\u00e9\\ud83d\\ude00")),
    CASE("S holding \\u0000", S_VALUE("a\\u0000b")),
    CASE("S not a string", ATTR("{\"S\":1}")),
    CASE("S null", ATTR("{\"S\":null}")),
    CASE("N", ATTR("{\"N\":\"3600\"}")),
    CASE("N -0", ATTR("{\"N\":\"-0\"}")),
    CASE("N +5", ATTR("{\"N\":\"+5\"}")),
    CASE("N .5", ATTR("{\"N\":\".5\"}")),
    CASE("N 5.", ATTR("{\"N\":\"5.\"}")),
    CASE("N 007", ATTR("{\"N\":\"007\"}")),
    CASE("N 1e-3", ATTR("{\"N\":\"1e-3\"}")),
    CASE("N empty", ATTR("{\"N\":\"\"}")),
    CASE("N .", ATTR("{\"N\":\".\"}")),
    CASE("N 1e", ATTR("{\"N\":\"1e\"}")),
    CASE("N space", ATTR("{\"N\":\" 1\"}")),
    CASE("N trailing space", ATTR("{\"N\":\"1 \"}")),
    CASE("N 0x1", ATTR("{\"N\":\"0x1\"}")),
    CASE("N Infinity", ATTR("{\"N\":\"Infinity\"}")),
    CASE("N NaN", ATTR("{\"N\":\"NaN\"}")),
    CASE("N 38 digits", ATTR("{\"N\":\"12345678901234567890123456789012345678\"}")),
    CASE("N 39 digits", ATTR("{\"N\":\"123456789012345678901234567890123456789\"}")),
    CASE("N 38 digits and zeros", ATTR("{\"N\":\"0001234567890123456789012345678901234567800000\"}")),
    CASE("N 9.99E125", ATTR("{\"N\":\"9.9999999999999999999999999999999999999E+125\"}")),
    CASE("N 1E126", ATTR("{\"N\":\"1E126\"}")),
    CASE("N 1E-130", ATTR("{\"N\":\"1E-130\"}")),
    CASE("N 1E-131", ATTR("{\"N\":\"1E-131\"}")),
    CASE("N 0E999999999", ATTR("{\"N\":\"0E999999999\"}")),
    CASE("N 1E99999999999999999999", ATTR("{\"N\":\"1E99999999999999999999\"}")),
    CASE("N escaped digits", ATTR("{\"N\":\"\\u0031\\u0032\"}")),
    CASE("N not a string", ATTR("{\"N\":1}")),
    CASE("B", ATTR("{\"B\":\"AAEqQQ==\"}")),
    CASE("B test", ATTR("{\"B\":\"test\"}")),
    CASE("B empty", ATTR("{\"B\":\"\"}")),
    CASE("B tes", ATTR("{\"B\":\"tes\"}")),
    CASE("B te==", ATTR("{\"B\":\"te==\"}")),
    CASE("B t===", ATTR("{\"B\":\"t===\"}")),
    CASE("B ====", ATTR("{\"B\":\"====\"}")),
    CASE("B QR==", ATTR("{\"B\":\"QR==\"}")),
    CASE("B =AAA", ATTR("{\"B\":\"=AAA\"}")),
    CASE("B A=AA", ATTR("{\"B\":\"A=AA\"}")),
    CASE("B space", ATTR("{\"B\":\"Zm9v YmFy\"}")),
    CASE("B url-safe", ATTR("{\"B\":\"-_-_\"}")),
    CASE("B escaped", ATTR("{\"B\":\"Zm9v\\u0059mFy\"}")),
    CASE("B escaped slash", ATTR("{\"B\":\"ab\\/c\"}")),
    CASE("B not a string", ATTR("{\"B\":[]}")),
    CASE("BOOL true", ATTR("{\"BOOL\":true}")),
    CASE("BOOL false", ATTR("{\"BOOL\":false}")),
    CASE("BOOL string", ATTR("{\"BOOL\":\"true\"}")),
    CASE("BOOL 1", ATTR("{\"BOOL\":1}")),
    CASE("BOOL null", ATTR("{\"BOOL\":null}")),
    CASE("NULL true", ATTR("{\"NULL\":true}")),
    CASE("NULL false", ATTR("{\"NULL\":false}")),
    CASE("NULL null", ATTR("{\"NULL\":null}")),
    CASE("NULL string", ATTR("{\"NULL\":\"true\"}")),
    CASE("SS", ATTR("{\"SS\":[\"a\",\"b\"]}")),
    CASE("SS empty", ATTR("{\"SS\":[]}")),
    CASE("SS duplicate", ATTR("{\"SS\":[\"a\",\"b\",\"a\"]}")),
    CASE("SS duplicate by escape", ATTR("{\"SS\":[\"a\",\"\\u0061\"]}")),
    CASE("SS with empty string", ATTR("{\"SS\":[\"\"]}")),
    CASE("SS two empty strings", ATTR("{\"SS\":[\"\",\"\"]}")),
    CASE("SS number member", ATTR("{\"SS\":[\"a\",1]}")),
    CASE("SS null member", ATTR("{\"SS\":[null]}")),
    CASE("SS not an array", ATTR("{\"SS\":\"a\"}")),
    CASE("SS prefix members", ATTR("{\"SS\":[\"ab\",\"a\",\"abc\"]}")),
    CASE("SS NUL members", ATTR("{\"SS\":[\"a\\u0000\",\"a\"]}")),
    CASE("NS", ATTR("{\"NS\":[\"1\",\"2.5\",\"-3e2\"]}")),
    CASE("NS empty", ATTR("{\"NS\":[]}")),
    CASE("NS duplicate 1 1.0", ATTR("{\"NS\":[\"1\",\"1.0\"]}")),
    CASE("NS duplicate 1E0 10E-1", ATTR("{\"NS\":[\"1E0\",\"10E-1\"]}")),
    CASE("NS duplicate 0 -0", ATTR("{\"NS\":[\"0\",\"-0\"]}")),
    CASE("NS invalid member", ATTR("{\"NS\":[\"1\",\"x\"]}")),
    CASE("NS 39 digits", ATTR("{\"NS\":[\"123456789012345678901234567890123456789\"]}")),
    CASE("NS number member", ATTR("{\"NS\":[1]}")),
    CASE("BS", ATTR("{\"BS\":[\"QQ==\",\"Qg==\"]}")),
    CASE("BS empty", ATTR("{\"BS\":[]}")),
    CASE("BS duplicate", ATTR("{\"BS\":[\"QQ==\",\"QQ==\"]}")),
    CASE("BS duplicate after decoding", ATTR("{\"BS\":[\"QQ==\",\"QR==\"]}")),
    CASE("BS empty member", ATTR("{\"BS\":[\"\"]}")),
    CASE("BS two empty members", ATTR("{\"BS\":[\"\",\"\"]}")),
    CASE("BS invalid member", ATTR("{\"BS\":[\"QQ=\"]}")),
    CASE("BS 17 members one repeated", ATTR("{\"BS\":[\"AA==\",\"AQ==\",\"Ag==\",\"Aw==\",\"BA==\","
                                            "\"BQ==\",\"Bg==\",\"Bw==\",\"CA==\",\"CQ==\",\"Cg==\","
                                            "\"Cw==\",\"DA==\",\"DQ==\",\"Dg==\",\"Dw==\",\"AA==\"]}")),
    CASE("SS 17 members one repeated", ATTR("{\"SS\":[\"q\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\","
                                            "\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"\\u0071\"]}")),
    CASE("NS 17 members one repeated", ATTR("{\"NS\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
                                            "\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\","
                                            "\"1.00\"]}")),
    CASE("M", ATTR("{\"M\":{\"x\":{\"S\":\"1\"},\"y\":{\"N\":\"2\"}}}")),
    CASE("M empty", ATTR("{\"M\":{}}")),
    CASE("M repeated name", ATTR("{\"M\":{\"x\":{\"S\":\"1\"},\"x\":{\"S\":\"1\"}}}")),
    CASE("M repeated name by escape", ATTR("{\"M\":{\"x\":{\"S\":\"1\"},\"\\u0078\":{\"S\":\"2\"}}}")),
    CASE("M invalid member", ATTR("{\"M\":{\"x\":{\"Q\":\"1\"}}}")),
    CASE("M not an object", ATTR("{\"M\":[]}")),
    CASE("M 17 names one repeated", ATTR("{\"M\":{\"a\":{\"NULL\":true},\"b\":{\"NULL\":true},"
                                         "\"c\":{\"NULL\":true},\"d\":{\"NULL\":true},\"e\":{\"NULL\":true},"
                                         "\"f\":{\"NULL\":true},\"g\":{\"NULL\":true},\"h\":{\"NULL\":true},"
                                         "\"i\":{\"NULL\":true},\"j\":{\"NULL\":true},\"k\":{\"NULL\":true},"
                                         "\"l\":{\"NULL\":true},\"m\":{\"NULL\":true},\"n\":{\"NULL\":true},"
                                         "\"o\":{\"NULL\":true},\"p\":{\"NULL\":true},\"\\u0061\":{\"NULL\":true}}}")),
    CASE("L", ATTR("{\"L\":[{\"S\":\"1\"},{\"L\":[]},{\"M\":{}}]}")),
    CASE("L empty", ATTR("{\"L\":[]}")),
    CASE("L invalid member", ATTR("{\"L\":[{\"S\":\"1\"},{\"S\":2}]}")),
    CASE("L of plain values", ATTR("{\"L\":[1,2]}")),
    CASE("L not an array", ATTR("{\"L\":{}}")),
    CASE("L repeated values", ATTR("{\"L\":[{\"S\":\"1\"},{\"S\":\"1\"}]}")),
    CASE("type lower case", ATTR("{\"s\":\"a\"}")),
    CASE("type unknown", ATTR("{\"X\":\"a\"}")),
    CASE("type empty", ATTR("{\"\":\"a\"}")),
    CASE("type escaped", ATTR("{\"\\u0053\":\"a\"}")),
    CASE("type escaped BOOL", ATTR("{\"B\\u004fOL\":true}")),
    CASE("type with NUL", ATTR("{\"S\\u0000\":\"a\"}")),
    CASE("two types", ATTR("{\"S\":\"a\",\"N\":\"1\"}")),
    CASE("type repeated", ATTR("{\"S\":\"a\",\"S\":\"a\"}")),
    CASE("no type", ATTR("{}")),
    CASE("value not an object", ATTR("\"a\"")),
    CASE("value array", ATTR("[]")),
    CASE("value null", ATTR("null")),
    CASE("value spaced", ATTR(" { \"S\" : \"a b\" } ")),
    CASE("nested spaced", ATTR("{\"M\":{ \"x\" :{\"L\":[ {\"SS\":[ \"a\" , \"b\" ]} ]}}}")),
    CASE("set spaced", ATTR("{\"SS\" : [\"a\"\n,\t\"b\"]}")),
    /* Names. */
    CASE("name empty", NAME("")),
    CASE("name escaped", NAME("\\u0061\\n")),
    CASE("name utf8", NAME("\xC3\xA9t\xC3\xA9")),
    CASE("name with NUL", NAME("a\\u0000b")),
    CASE("names with NUL, repeated", IMAGE("\"a\\u0000\":{\"S\":\"1\"},\"a\\u0000\":{\"S\":\"2\"}")),
    CASE("names with NUL, distinct", IMAGE("\"a\\u0000\":{\"S\":\"1\"},\"a\":{\"S\":\"2\"}")),
    CASE("name with NUL in M", ATTR("{\"M\":{\"\\u0000\":{\"NULL\":true}}}")),
    CASE("name with escaped backslash u0000", NAME("\\\\u0000")),
    CASE("name repeated in image", IMAGE("\"a\":{\"S\":\"1\"},\"b\":{\"S\":\"1\"},\"a\":{\"S\":\"2\"}")),
    CASE("name repeated by escape in image", IMAGE("\"ab\":{\"S\":\"1\"},\"a\\u0062\":{\"S\":\"2\"}")),
    /* Images. */
    CASE("image empty", IMAGE("")),
    CASE("both images", EXTRA("\"OldImage\":{\"a\":{\"N\":\"1\"}},\"NewImage\":{\"a\":{\"N\":\"2\"}}")),
    CASE("OldImage only", EXTRA("\"OldImage\":{\"a\":{\"N\":\"1\"}}")),
    CASE("image not an object", EXTRA("\"NewImage\":[]")),
    CASE("image null", EXTRA("\"NewImage\":null")),
    CASE("OldImage invalid", EXTRA("\"OldImage\":{\"a\":{\"N\":\"x\"}}")),
};

static const named_input RECORDS[] = {
    CASE("minimal record", DYNAMODB(KEYS_A)),
    CASE("record not an object", EVENT_OF("1")),
    CASE("records of every kind", EVENT_OF("1,\"x\",null,[],{}," "{" FIELDS ",\"dynamodb\":{"
                                           "\"SequenceNumber\":\"1\"," KEYS_A "}}")),
    CASE("no record from dynamodb", EVENT_OF("{\"eventSource\":\"aws:kinesis\"},1")),
    CASE("only non-objects", EVENT_OF("1,2")),
    CASE("one record from dynamodb among others", EVENT_OF("{\"eventSource\":\"aws:kinesis\"},"
                                                           "{\"eventSource\":\"aws:dynamodb\"}")),
    CASE("eventID missing", RECORD("\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
                                   "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventID number", RECORD("\"eventID\":1,\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
                                  "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventID empty", RECORD("\"eventID\":\"\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
                                 "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventID escaped", RECORD("\"eventID\":\"a\\u0062\\\"\",\"eventName\":\"INSERT\","
                                   "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"SequenceNumber\":\"1\","
                                   KEYS_A "}")),
    CASE("eventID holding \\u0000", RECORD("\"eventID\":\"a\\u0000\",\"eventName\":\"INSERT\","
                                         "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{"
                                         "\"SequenceNumber\":\"\\u0000\"," KEYS_A "}")),
    CASE("eventName MODIFY", RECORD("\"eventID\":\"1\",\"eventName\":\"MODIFY\",\"eventSource\":\"aws:dynamodb\","
                                    "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventName REMOVE", RECORD("\"eventID\":\"1\",\"eventName\":\"REMOVE\",\"eventSource\":\"aws:dynamodb\","
                                    "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventName lower case", RECORD("\"eventID\":\"1\",\"eventName\":\"insert\",\"eventSource\":\"aws:dynamodb\","
                                        "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventName with space", RECORD("\"eventID\":\"1\",\"eventName\":\"INSERT \",\"eventSource\":\"aws:dynamodb\","
                                        "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventName missing", RECORD("\"eventID\":\"1\",\"eventSource\":\"aws:dynamodb\","
                                     "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventName null", RECORD("\"eventID\":\"1\",\"eventName\":null,\"eventSource\":\"aws:dynamodb\","
                                  "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventName escaped", RECORD("\"eventID\":\"1\",\"eventName\":\"INS\\u0045RT\",\"eventSource\":\"aws:dynamodb\","
                                     "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventSource escaped", RECORD("\"eventID\":\"1\",\"eventName\":\"INSERT\",\"eventSource\":\"aws\\u003adynamodb\","
                                       "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventSource escaped slash", RECORD("\"eventID\":\"1\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
                                             "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:1:table\\/T\","
                                             "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventSource other", EVENT_OF("{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}},"
                                       "{\"eventID\":\"2\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb \"}")),
    CASE("eventSource missing", EVENT_OF("{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}},"
                                         "{\"eventID\":\"2\",\"eventName\":\"INSERT\"}")),
    CASE("eventSourceARN number", RECORD(FIELDS ",\"eventSourceARN\":1,\"dynamodb\":{\"SequenceNumber\":\"1\","
                                         KEYS_A "}")),
    CASE("userIdentity", RECORD(FIELDS ",\"userIdentity\":{\"type\":\"Service\",\"principalId\":"
                                "\"dynamodb.amazonaws.com\",\"x\":1},\"dynamodb\":{\"SequenceNumber\":\"1\","
                                KEYS_A "}")),
    CASE("userIdentity empty", RECORD(FIELDS ",\"userIdentity\":{},\"dynamodb\":{\"SequenceNumber\":\"1\","
                                      KEYS_A "}")),
    CASE("userIdentity null", RECORD(FIELDS ",\"userIdentity\":null,\"dynamodb\":{\"SequenceNumber\":\"1\","
                                     KEYS_A "}")),
    CASE("userIdentity type number", RECORD(FIELDS ",\"userIdentity\":{\"type\":1},\"dynamodb\":{"
                                            "\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("userIdentity principalId array", RECORD(FIELDS ",\"userIdentity\":{\"principalId\":[]},"
                                                  "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    /* Optional fields given as null are absent; required ones are missing. */
    CASE("eventSourceARN null", RECORD(FIELDS ",\"eventSourceARN\":null,\"dynamodb\":{\"SequenceNumber\":\"1\","
                                       KEYS_A "}")),
    CASE("StreamViewType null", EXTRA("\"StreamViewType\":null")),
    CASE("OldImage null", EXTRA("\"OldImage\":null")),
    CASE("NewImage null then given", EXTRA("\"NewImage\":null,\"NewImage\":{}")),
    CASE("userIdentity.type null", RECORD(FIELDS ",\"userIdentity\":{\"type\":null,\"principalId\":\"x\"},"
                                          "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("userIdentity.principalId null", RECORD(FIELDS ",\"userIdentity\":{\"type\":\"Service\","
                                                 "\"principalId\":null},\"dynamodb\":{\"SequenceNumber\":\"1\","
                                                 KEYS_A "}")),
    CASE("Keys null", DYNAMODB("\"Keys\":null")),
    CASE("eventID null", RECORD("\"eventID\":null,\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
                                "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventSource null", EVENT_OF("{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}},"
                                      "{\"eventID\":\"2\",\"eventName\":\"INSERT\",\"eventSource\":null}")),
    CASE("SequenceNumber null", RECORD(FIELDS ",\"dynamodb\":{\"SequenceNumber\":null," KEYS_A "}")),
    CASE("dynamodb missing", RECORD(FIELDS)),
    CASE("dynamodb array", RECORD(FIELDS ",\"dynamodb\":[]")),
    CASE("dynamodb null", RECORD(FIELDS ",\"dynamodb\":null")),
    CASE("SequenceNumber missing", RECORD(FIELDS ",\"dynamodb\":{" KEYS_A "}")),
    CASE("SequenceNumber empty", RECORD(FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"\"," KEYS_A "}")),
    CASE("SequenceNumber number", RECORD(FIELDS ",\"dynamodb\":{\"SequenceNumber\":1," KEYS_A "}")),
    CASE("SequenceNumber escaped", RECORD(FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"\\u0031\"," KEYS_A "}")),
    CASE("StreamViewType number", EXTRA("\"StreamViewType\":1")),
    CASE("StreamViewType", EXTRA("\"StreamViewType\":\"KEYS_ONLY\"")),
    CASE("Keys missing", DYNAMODB("\"NewImage\":{}")),
    CASE("Keys empty", DYNAMODB("\"Keys\":{}")),
    CASE("Keys not an object", DYNAMODB("\"Keys\":[]")),
    CASE("Keys N", DYNAMODB("\"Keys\":{\"k\":{\"N\":\"1\"}}")),
    CASE("Keys B", DYNAMODB("\"Keys\":{\"k\":{\"B\":\"QQ==\"}}")),
    CASE("Keys composite", DYNAMODB("\"Keys\":{\"tenant\":{\"S\":\"acme\"},\"name\":{\"S\":\"timeout\"}}")),
    CASE("Keys S empty", DYNAMODB("\"Keys\":{\"k\":{\"S\":\"\"}}")),
    CASE("Keys B empty", DYNAMODB("\"Keys\":{\"k\":{\"B\":\"\"}}")),
    CASE("Keys N invalid", DYNAMODB("\"Keys\":{\"k\":{\"N\":\"1x\"}}")),
    CASE("Keys SS", DYNAMODB("\"Keys\":{\"k\":{\"SS\":[\"a\"]}}")),
    CASE("Keys M", DYNAMODB("\"Keys\":{\"k\":{\"M\":{}}}")),
    CASE("Keys BOOL", DYNAMODB("\"Keys\":{\"k\":{\"BOOL\":true}}")),
    CASE("Keys NULL", DYNAMODB("\"Keys\":{\"k\":{\"NULL\":true}}")),
    CASE("Keys name repeated", DYNAMODB("\"Keys\":{\"k\":{\"S\":\"a\"},\"k\":{\"S\":\"b\"}}")),
    CASE("Keys sound, image invalid", EXTRA("\"NewImage\":{\"a\":{\"S\":1}}")),
    CASE("Keys sound, eventName invalid", RECORD("\"eventID\":\"1\",\"eventName\":\"X\","
                                                 "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{"
                                                 "\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("escaped field names", RECORD("\"event\\u0049D\":\"1\",\"eventNam\\u0065\":\"INSERT\","
                                       "\"eventSource\":\"aws:dynamodb\",\"dyn\\u0061modb\":{"
                                       "\"Sequence\\u004eumber\":\"1\",\"K\\u0065ys\":{\"k\":{\"S\":\"a\"}}}")),
    CASE("field names with NUL", RECORD(FIELDS ",\"eventID\\u0000\":2,\"dynamodb\":{\"SequenceNumber\":\"1\","
                                        KEYS_A "}")),
    /* ApproximateCreationDateTime. */
    CASE("time integer", TIME("1714566645")),
    CASE("time fraction", TIME("1714566645.123456789")),
    CASE("time exponent", TIME("1.635734407123456789E9")),
    CASE("time 0", TIME("0")),
    CASE("time -0", TIME("-0")),
    CASE("time -0.0", TIME("-0.0")),
    CASE("time 0e5", TIME("0e5")),
    CASE("time -1", TIME("-1")),
    CASE("time -0.001", TIME("-0.001")),
    CASE("time -1e-400", TIME("-1e-400")),
    CASE("time 1e-400", TIME("1e-400")),
    CASE("time last second", TIME("253402300799")),
    CASE("time last millisecond", TIME("253402300799.999")),
    CASE("time end of 9999", TIME("253402300800")),
    CASE("time end of 9999 as real", TIME("2.534023008e11")),
    CASE("time just before the end, 7 decimals", TIME("253402300799.9999999")),
    CASE("time just after the end", TIME("253402300800.0000001")),
    CASE("time 1e400", TIME("1e400")),
    CASE("time -1e400", TIME("-1e400")),
    CASE("time 20 digits", TIME("99999999999999999999")),
    CASE("time -20 digits", TIME("-99999999999999999999")),
    CASE("time int64 max", TIME("9223372036854775807")),
    CASE("time string", TIME("\"1714566645\"")),
    CASE("time null", TIME("null")),
    CASE("time true", TIME("true")),
    CASE("time array", TIME("[1]")),
    CASE("time object", TIME("{}")),
    CASE("time invalid number", TIME("01")),
};

/* Repeated object members: jansson keeps the last, the rules judge the first. */
static const named_input DUPLICATES[] = {
    CASE("Records twice", "{\"Records\":[],\"Records\":[]}"),
    CASE("Records twice, second bad", "{\"Records\":[],\"Records\":1}"),
    CASE("Records twice, first bad", "{\"Records\":1,\"Records\":[]}"),
    CASE("unknown top-level twice", "{\"a\":1,\"Records\":[],\"a\":2}"),
    CASE("unknown record field twice", RECORD(FIELDS ",\"x\":1,\"x\":{\"y\":2},\"dynamodb\":{"
                                              "\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("unknown dynamodb field twice", EXTRA("\"SizeBytes\":1,\"SizeBytes\":2")),
    CASE("repeats inside an unknown field", UNKNOWN("{\"a\":1,\"a\":{\"b\":1,\"b\":2}}")),
    CASE("eventID twice", RECORD(FIELDS ",\"eventID\":\"2\",\"dynamodb\":{\"SequenceNumber\":\"1\","
                                 KEYS_A "}")),
    CASE("eventID twice, first a number", RECORD("\"eventID\":5,\"eventID\":\"x\",\"eventName\":\"INSERT\","
                                                 "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{"
                                                 "\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventName twice", RECORD(FIELDS ",\"eventName\":\"INSERT\",\"dynamodb\":{\"SequenceNumber\":\"1\","
                                   KEYS_A "}")),
    CASE("eventName twice, first bad", RECORD("\"eventName\":\"X\"," FIELDS ",\"dynamodb\":{"
                                              "\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("eventSource twice", RECORD(FIELDS ",\"eventSource\":\"x\",\"dynamodb\":{\"SequenceNumber\":\"1\","
                                     KEYS_A "}")),
    CASE("eventSource twice, first a number", EVENT_OF("{\"eventSource\":5,\"eventSource\":\"aws:dynamodb\"}")),
    CASE("eventSource twice, first other", EVENT_OF("{\"eventSource\":\"x\",\"eventSource\":\"aws:dynamodb\"}")),
    CASE("eventSourceARN twice", RECORD(FIELDS ",\"eventSourceARN\":\"a\",\"eventSourceARN\":\"b\","
                                        "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("userIdentity twice", RECORD(FIELDS ",\"userIdentity\":{},\"userIdentity\":{\"type\":\"Service\"},"
                                      "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("userIdentity.type twice", RECORD(FIELDS ",\"userIdentity\":{\"type\":\"a\",\"type\":\"b\"},"
                                           "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("userIdentity unknown twice", RECORD(FIELDS ",\"userIdentity\":{\"x\":\"a\",\"x\":\"b\"},"
                                              "\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "}")),
    CASE("dynamodb twice", RECORD(FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A "},"
                                  "\"dynamodb\":{\"SequenceNumber\":\"2\"," KEYS_A "}")),
    CASE("dynamodb twice, first bad", RECORD(FIELDS ",\"dynamodb\":1,\"dynamodb\":{\"SequenceNumber\":\"2\","
                                             KEYS_A "}")),
    CASE("SequenceNumber twice", EXTRA("\"SequenceNumber\":\"2\"")),
    CASE("SequenceNumber twice, first a number", RECORD(FIELDS ",\"dynamodb\":{\"SequenceNumber\":1,"
                                                        "\"SequenceNumber\":\"2\"," KEYS_A "}")),
    CASE("StreamViewType twice", EXTRA("\"StreamViewType\":\"A\",\"StreamViewType\":\"B\"")),
    CASE("time twice", EXTRA("\"ApproximateCreationDateTime\":1,\"ApproximateCreationDateTime\":2")),
    CASE("time twice, first a string", EXTRA("\"ApproximateCreationDateTime\":\"x\","
                                             "\"ApproximateCreationDateTime\":2")),
    CASE("Keys twice", EXTRA("\"Keys\":{\"k\":{\"S\":\"b\"}}")),
    CASE("Keys twice, first not an object", DYNAMODB("\"Keys\":5," KEYS_A)),
    CASE("Keys twice, first invalid", DYNAMODB("\"Keys\":{\"k\":{\"S\":1}}," KEYS_A)),
    CASE("NewImage twice", EXTRA("\"NewImage\":{},\"NewImage\":{}")),
    CASE("OldImage twice, first not an object", EXTRA("\"OldImage\":1,\"OldImage\":{}")),
    CASE("repeats in second occurrence only", EXTRA("\"x\":1,\"x\":{\"a\":1,\"a\":2}")),
    CASE("marker-like key, nothing repeated", "{\"\xF4\x8F\xBF\xBE" "dup\":1,\"Records\":[]}"),
    CASE("marker-like escaped key, nothing repeated", "{\"\\uDBFF\\uDFFE\":[],\"Records\":[]}"),
};

static void check_table(const named_input *cases, size_t count, const char *what)
{
    tally t = {0, 0, AS_BUF_INIT};
    for (size_t i = 0; i < count; i++) {
        check_case(&t, cases[i].name, cases[i].bytes, cases[i].len);
    }
    tally_finish(&t, what);
}

static void test_syntax(void **state)
{
    (void)state;
    check_table(SYNTAX, sizeof SYNTAX / sizeof SYNTAX[0], "syntax");
}

static void test_attributes(void **state)
{
    (void)state;
    check_table(ATTRIBUTES, sizeof ATTRIBUTES / sizeof ATTRIBUTES[0], "attribute values");
}

static void test_records(void **state)
{
    (void)state;
    check_table(RECORDS, sizeof RECORDS / sizeof RECORDS[0], "records");
}

static void test_duplicates(void **state)
{
    (void)state;
    check_table(DUPLICATES, sizeof DUPLICATES / sizeof DUPLICATES[0], "repeated members");
}

/* ---- Nesting -------------------------------------------------------------------------- */

/* prefix + open x n + inner + close x n + suffix, in a new buffer. */
static char *nest(const char *prefix, const char *open, size_t n, const char *inner,
                  const char *close, const char *suffix, size_t *len)
{
    as_buf buf = AS_BUF_INIT;
    as_buf_append_str(&buf, prefix);
    for (size_t i = 0; i < n; i++) {
        as_buf_append_str(&buf, open);
    }
    as_buf_append_str(&buf, inner);
    for (size_t i = 0; i < n; i++) {
        as_buf_append_str(&buf, close);
    }
    as_buf_append_str(&buf, suffix);
    assert_int_equal(as_buf_status(&buf), AS_OK);
    *len = buf.len;
    return buf.data;
}

typedef struct nesting {
    const char *name;
    const char *prefix;
    const char *open;
    const char *inner;
    const char *close;
    const char *suffix;
    size_t levels[6];
} nesting;

/* Around jansson's 2048 levels (the value inside counts as a level), and DynamoDB's 32
 * M/L levels. The record's own fields sit 3 levels down, an image attribute value's
 * payload 6. */
static const nesting NESTINGS[] = {
    {"top-level empty arrays", "", "[", "", "]", "", {2047, 2048, 2049, 0, 0, 0}},
    {"top-level arrays around 1", "", "[", "1", "]", "", {2046, 2047, 2048, 2049, 0, 0}},
    {"top-level arrays around \"s\"", "", "[", "\"s\"", "]", "", {2047, 2048, 0, 0, 0, 0}},
    {"top-level objects", "", "{\"a\":", "{}", "}", "", {2046, 2047, 2048, 0, 0, 0}},
    {"top-level objects around true", "", "{\"a\":", "true", "}", "", {2046, 2047, 2048, 0, 0, 0}},
    {"Records arrays", "{\"Records\":[],\"x\":", "[", "", "]", "}", {2046, 2047, 2048, 0, 0, 0}},
    {"Records arrays around null", "{\"Records\":[],\"x\":", "[", "null", "]", "}",
     {2045, 2046, 2047, 2048, 0, 0}},
    {"record field arrays", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A
     "},\"x\":", "[", "", "]", "}]}", {2044, 2045, 2046, 0, 0, 0}},
    {"record field arrays around 0", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\","
     KEYS_A "},\"x\":", "[", "0", "]", "}]}", {2043, 2044, 2045, 2046, 0, 0}},
    {"dynamodb field arrays around 0", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\","
     KEYS_A ",\"x\":", "[", "0", "]", "}}]}", {2042, 2043, 2044, 2045, 0, 0}},
    {"records nested in Records", "{\"Records\":[", "[", "", "]", "]}", {2045, 2046, 2047, 0, 0, 0}},
    {"M levels", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A
     ",\"NewImage\":{\"a\":", "{\"M\":{\"a\":", "{\"S\":\"x\"}", "}}", "}}}]}", {31, 32, 33, 34, 0, 0}},
    {"L levels", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A
     ",\"NewImage\":{\"a\":", "{\"L\":[", "{\"NULL\":true}", "]}", "}}}]}", {31, 32, 33, 0, 0, 0}},
    {"L levels, empty", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A
     ",\"NewImage\":{\"a\":", "{\"L\":[", "", "]}", "}}}]}", {31, 32, 33, 0, 0, 0}},
    {"M and L levels", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\"," KEYS_A
     ",\"NewImage\":{\"a\":", "{\"L\":[{\"M\":{\"m\":", "{\"BOOL\":false}", "}}]}", "}}}]}",
     {15, 16, 17, 0, 0, 0}},
    {"M levels in Keys", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\","
     "\"Keys\":{\"k\":", "{\"M\":{\"a\":", "{\"S\":\"x\"}", "}}", "}}}]}", {1, 32, 33, 0, 0, 0}},
    /* Past DynamoDB's limit the rest is only JSON, still limited by jansson's. */
    {"attribute arrays past 32 levels", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\","
     KEYS_A ",\"NewImage\":{\"a\":", "{\"L\":[", "", "]}", "}}}]}", {1020, 1021, 1022, 1023, 0, 0}},
    {"attribute M past 32 levels", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\","
     KEYS_A ",\"NewImage\":{\"a\":", "{\"M\":{\"a\":", "{\"S\":\"x\"}", "}}", "}}}]}",
     {1019, 1020, 1021, 1022, 0, 0}},
    {"plain arrays in an L", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\","
     KEYS_A ",\"NewImage\":{\"a\":{\"L\":", "[", "", "]", "}}}}]}", {2040, 2041, 2042, 2043, 0, 0}},
    {"plain arrays in an SS", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\","
     KEYS_A ",\"NewImage\":{\"a\":{\"SS\":", "[", "", "]", "}}}}]}", {2040, 2041, 2042, 2043, 0, 0}},
    {"plain arrays in an S", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\","
     KEYS_A ",\"NewImage\":{\"a\":{\"S\":", "[", "", "]", "}}}}]}", {2040, 2041, 2042, 2043, 0, 0}},
    {"plain arrays as an attribute value", "{\"Records\":[{" FIELDS ",\"dynamodb\":{\"SequenceNumber\":\"1\","
     KEYS_A ",\"NewImage\":{\"a\":", "[", "", "]", "}}}]}", {2041, 2042, 2043, 2044, 0, 0}},
};

static void test_nesting(void **state)
{
    (void)state;
    tally t = {0, 0, AS_BUF_INIT};
    for (size_t i = 0; i < sizeof NESTINGS / sizeof NESTINGS[0]; i++) {
        const nesting *n = &NESTINGS[i];
        for (size_t k = 0; k < 6 && n->levels[k] != 0; k++) {
            size_t len;
            char *bytes = nest(n->prefix, n->open, n->levels[k], n->inner, n->close, n->suffix, &len);
            char name[128];
            snprintf(name, sizeof name, "%s x %zu", n->name, n->levels[k]);
            check_case(&t, name, bytes, len);
            free(bytes);
        }
    }
    tally_finish(&t, "nesting");
}

/* ---- The harness itself --------------------------------------------------------------- */

/* The workarounds for jansson's limits must leave an exact comparison, not a skipped one. */
static void test_reference_workarounds(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        unsigned rewrites;
        unsigned duplicates;
        bool nul_names;
    } cases[] = {
        {"{\"Records\":[],\"a\":99999999999999999999}", 1, 0, false},
        {"{\"Records\":[],\"a\":[1e400,-1e400]}", 2, 0, false},
        {"{\"Records\":[],\"a\\u0000\":1,\"b\\\\u0000\\u0000\\u0000\":1}", 2, 0, true},
        {"{\"Records\":[],\"a\":1,\"a\":2,\"a\":{\"a\":1,\"a\":2}}", 0, 2, false},
        {"{\"Records\":[],\"a\":{\"a\":1,\"a\":2},\"a\":{\"a\":1,\"a\":2}}", 0, 2, false},
        {"{\"Records\":[],\"a\\u0000\":1,\"a\\u0000\":1e999}", 3, 1, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ref_doc doc;
        ref_load(cases[i].json, strlen(cases[i].json), &doc);
        assert_false(doc.inconclusive);
        assert_false(doc.rejected);
        assert_non_null(doc.root);
        assert_int_equal(doc.rewrites, cases[i].rewrites);
        assert_int_equal(doc.duplicates, cases[i].duplicates);
        assert_int_equal(doc.nul_names, cases[i].nul_names);
        ref_doc_free(&doc);
    }
    /* Inputs that could forge the reference's stand-ins are not compared. */
    static const char *const ambiguous[] = {
        "{\"Records\":[],\"a\\u0000\":1,\"b\\uDBFF\\udfff\":1}",
        "{\"Records\":[],\"a\\u0000\":1,\"b\xF4\x8F\xBF\xBF\":1}",
        ("{\"Records\":[],\"a\":1,\"a\":2,\"\xF4\x8F\xBF\xBE" "dup0\":1}"),
        "{\"Records\":[],\"a\":1,\"a\":2,\"\\udbff\\uDFFE\":1}",
    };
    for (size_t i = 0; i < sizeof ambiguous / sizeof ambiguous[0]; i++) {
        ref_doc doc;
        ref_load(ambiguous[i], strlen(ambiguous[i]), &doc);
        assert_true(doc.inconclusive);
        ref_doc_free(&doc);
    }
    /* A syntax error after a huge number is still a syntax error. */
    ref_doc doc;
    ref_load("[1e400,]", 8, &doc);
    assert_true(doc.rejected);
    ref_doc_free(&doc);
}

/* ---- Exact error texts ---------------------------------------------------------------- */

typedef struct expected_error {
    const char *json;
    size_t len;
    as_status status;
    size_t offset;
    const char *message;
} expected_error;

#define ERR(literal, status, offset, message) {literal, sizeof literal - 1, status, offset, message}

static const expected_error ERRORS[] = {
    ERR("", AS_ERR_JSON, 0, "invalid JSON at line 1, column 1 (byte 0): empty input"),
    ERR("\xEF\xBB\xBF{\"Records\":[]}", AS_ERR_JSON, 0,
        "invalid JSON at line 1, column 1 (byte 0): starts with a UTF-8 byte-order mark"),
    ERR("{\"Records\":[]} x", AS_ERR_JSON, 15,
        "invalid JSON at line 1, column 16 (byte 15): trailing bytes after the JSON value"),
    ERR("{\"Records\":[}", AS_ERR_JSON, 12,
        "invalid JSON at line 1, column 13 (byte 12): unexpected character"),
    ERR("{\n  \"Records\": [],\n  \"a\": tru\n}", AS_ERR_JSON, 26,
        "invalid JSON at line 3, column 8 (byte 26): invalid literal"),
    ERR("{\"a\":\"\xC3\x28\"}", AS_ERR_JSON, 6,
        "invalid JSON at line 1, column 7 (byte 6): invalid UTF-8"),
    ERR("{\"a\":\"\\uD800\"}", AS_ERR_JSON, 6,
        "invalid JSON at line 1, column 7 (byte 6): high surrogate not followed by a low one"),
    ERR("{\"a\":\"\\q\"}", AS_ERR_JSON, 6,
        "invalid JSON at line 1, column 7 (byte 6): invalid escape in string"),
    ERR("{\"a\":01}", AS_ERR_JSON, 5, "invalid JSON at line 1, column 6 (byte 5): invalid number"),
    ERR("{\"a\":\"x\ty\"}", AS_ERR_JSON, 7,
        "invalid JSON at line 1, column 8 (byte 7): control character in string"),
    ERR("{\"Records\":[{\"a\":1", AS_ERR_JSON, 18,
        "invalid JSON at line 1, column 19 (byte 18): unexpected end of input"),
    ERR("[]", AS_ERR_NOT_EVENT, 0,
        "not a DynamoDB Streams event (byte 0): the top-level value is not an object"),
    ERR("{\"records\":[]}", AS_ERR_NOT_EVENT, 0,
        "not a DynamoDB Streams event (byte 0): no \"Records\" array"),
    ERR("{\"Records\":{}}", AS_ERR_NOT_EVENT, 11,
        "not a DynamoDB Streams event (byte 11): \"Records\" is not an array"),
    ERR("{\"Records\":[{\"eventSource\":\"aws:s3\"}]}", AS_ERR_NOT_EVENT, 11,
        "not a DynamoDB Streams event (byte 11): no record has eventSource \"aws:dynamodb\""),
};

static void test_error_texts(void **state)
{
    (void)state;
    size_t wrong = 0;
    for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++) {
        const expected_error *e = &ERRORS[i];
        char *copy = malloc(e->len > 0 ? e->len : 1);
        assert_non_null(copy);
        memcpy(copy, e->json, e->len);
        as_event *event = NULL;
        as_error err;
        memset(&err, 0, sizeof err);
        as_status status = as_event_decode(copy, e->len, &event, &err);
        if (status != e->status || err.code != e->status || err.offset != e->offset ||
            strcmp(err.message, e->message) != 0) {
            print_message("input %zu: got status %d, offset %zu, \"%s\"\n"
                          "     expected status %d, offset %zu, \"%s\"\n",
                          i, (int)status, err.offset, err.message, (int)e->status, e->offset,
                          e->message);
            wrong++;
        }
        assert_null(event);
        free(copy);
    }
    assert_int_equal(wrong, 0);
}

/* Record faults name the record and the field. */
static void test_record_error_texts(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *error;
    } cases[] = {
        {ATTR("{\"N\":\"1x\"}"), "Records[0].dynamodb.NewImage.a: N \"1x\": not a number"},
        {ATTR("{\"M\":{\"b\":{\"L\":[{\"S\":\"x\"},{\"NULL\":false}]}}}"),
         "Records[0].dynamodb.NewImage.a.b[1].NULL: NULL must be true"},
        {ATTR("{\"SS\":[]}"), "Records[0].dynamodb.NewImage.a.SS: empty set"},
        {DYNAMODB("\"Keys\":{}"), "Records[0].dynamodb.Keys: is empty"},
        {RECORD(FIELDS), "Records[0].dynamodb: is missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_event *event = NULL;
        as_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(as_event_decode(cases[i].json, strlen(cases[i].json), &event, &err), AS_OK);
        assert_int_equal(as_event_record_count(event), 1);
        const as_record *r = as_event_record(event, 0);
        assert_non_null(r->error);
        assert_string_equal(r->error, cases[i].error);
        as_event_free(event);
    }
}

/* ---- Fuzz regressions ----------------------------------------------------------------- */

/* Every crash or disagreement the fuzzers ever found is kept and must agree now. */
static void test_fuzz_regressions(void **state)
{
    (void)state;
    tally t = {0, 0, AS_BUF_INIT};
    size_t count;
    char **names = list_files("tests/fuzz/regressions", NULL, &count);
    for (size_t i = 0; i < count; i++) {
        size_t len;
        char *bytes = read_file(names[i], &len);
        assert_non_null(bytes);
        check_case(&t, names[i], bytes, len);

        /* The builder must take whatever the decoder accepts. */
        as_event *event = NULL;
        if (as_event_decode(bytes, len, &event, NULL) == AS_OK) {
            as_items *items = as_items_new();
            assert_non_null(items);
            as_audit_options options = {.format = AS_FORMAT_CLASSIC, .ignore = NULL, .ignore_count = 0, .now_ms = INT64_C(1700000000000)};
            assert_int_equal(as_audit_build_event(event, &options, items, NULL), AS_OK);
            options.format = AS_FORMAT_DETAILED;
            assert_int_equal(as_audit_build_event(event, &options, items, NULL), AS_OK);
            as_items_free(items);
        }
        as_event_free(event);
        free(bytes);
    }
    free_files(names, count);
    tally_finish(&t, "fuzz regressions");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_workarounds),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_small_event_agrees),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_byte_edits),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_error_texts),
        cmocka_unit_test(test_record_error_texts),
        cmocka_unit_test(test_fuzz_regressions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
