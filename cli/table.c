/* auditstream's terminal tables (cli/table.h): cells are kept as given and measured once;
 * the columns' widths are settled when the table is written, then each cell is cut to its
 * column, escaped and padded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

typedef struct cell {
    char *text; /* as given; NULL for an empty cell */
    size_t len;
    size_t width; /* characters, shown whole (escapes included) */
} cell;

/* A column is never narrowed below this (or its header) to fit a terminal. */
#define MIN_FIT_WIDTH 8

struct cli_table {
    size_t columns;
    size_t max_widths[CLI_TABLE_MAX_COLUMNS];
    cell headers[CLI_TABLE_MAX_COLUMNS];
    cell *cells; /* rows * columns */
    size_t rows;
    size_t cap_rows;
    size_t fit; /* the widest a line may be; 0: no limit */
};

/* One character of a cell as shown: the bytes written and how many columns they take. */
typedef struct glyph {
    const char *bytes;
    size_t len;
    size_t width;
    char escape[8]; /* storage when the character is shown as an escape */
} glyph;

/* The length of the valid UTF-8 sequence at `s` (1..4), or 0 when it is not one. */
static size_t utf8_length(const unsigned char *s, size_t left, uint32_t *code)
{
    unsigned char b = s[0];
    if (b < 0x80) {
        *code = b;
        return 1;
    }
    size_t n;
    uint32_t min;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        min = 0x80;
        *code = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        min = 0x800;
        *code = b & 0x0Fu;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        min = 0x10000;
        *code = b & 0x07u;
    } else {
        return 0;
    }
    if (left < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        *code = (*code << 6) | (s[i] & 0x3Fu);
    }
    if (*code < min || *code > 0x10FFFF || (*code >= 0xD800 && *code <= 0xDFFF)) {
        return 0;
    }
    return n;
}

/* Characters a terminal would act on rather than show: C0 and C1 controls, DEL, the line
 * and paragraph separators and the bidirectional overrides (which can make a value read
 * as something else). */
static bool is_control(uint32_t code)
{
    return code < 0x20 || (code >= 0x7F && code <= 0x9F) || code == 0x2028 || code == 0x2029 ||
           (code >= 0x202A && code <= 0x202E) || (code >= 0x2066 && code <= 0x2069);
}

static const char HEX[] = "0123456789abcdef";

/* The glyph at `s`; returns the bytes of input it stands for. */
static size_t next_glyph(const char *s, size_t left, glyph *g)
{
    uint32_t code = 0;
    size_t n = utf8_length((const unsigned char *)s, left, &code);
    if (n == 0) {
        g->bytes = "?";
        g->len = 1;
        g->width = 1;
        return 1;
    }
    if (!is_control(code)) {
        g->bytes = s;
        g->len = n;
        g->width = 1;
        return n;
    }
    const char *named = code == '\n' ? "\\n" : code == '\t' ? "\\t" : code == '\r' ? "\\r" : NULL;
    if (named != NULL) {
        memcpy(g->escape, named, 3);
    } else {
        g->escape[0] = '\\';
        g->escape[1] = 'u';
        for (int i = 0; i < 4; i++) {
            g->escape[2 + i] = HEX[(code >> (12 - 4 * i)) & 0xFu];
        }
        g->escape[6] = '\0';
    }
    g->bytes = g->escape;
    g->len = strlen(g->escape);
    g->width = g->len;
    return n;
}

size_t cli_cell_text(const char *text, size_t len, size_t max_width, as_buf *out)
{
    size_t total = 0;
    glyph g;
    for (size_t at = 0; at < len;) {
        at += next_glyph(text + at, len - at, &g);
        total += g.width;
    }
    bool cut = max_width > 0 && total > max_width;
    size_t room = cut ? max_width - 1 : total; /* the ellipsis takes one column */
    size_t width = 0;
    for (size_t at = 0; at < len;) {
        size_t used = next_glyph(text + at, len - at, &g);
        if (width + g.width > room) {
            break;
        }
        as_buf_append(out, g.bytes, g.len);
        width += g.width;
        at += used;
    }
    if (cut) {
        as_buf_append_str(out, "\xE2\x80\xA6");
        width++;
    }
    return width;
}

/* The width of the `len` bytes of `text` shown whole. */
static size_t measure(const char *text, size_t len)
{
    size_t width = 0;
    glyph g;
    for (size_t at = 0; at < len;) {
        at += next_glyph(text + at, len - at, &g);
        width += g.width;
    }
    return width;
}

static bool keep_cell(cell *c, const char *text, size_t len)
{
    char *copy = NULL;
    if (len > 0) {
        copy = malloc(len);
        if (copy == NULL) {
            return false;
        }
        memcpy(copy, text, len);
    }
    free(c->text);
    c->text = copy;
    c->len = len;
    c->width = measure(text, len);
    return true;
}

cli_table *cli_table_new(size_t columns, const char *const *headers, const size_t *max_widths)
{
    if (columns == 0 || columns > CLI_TABLE_MAX_COLUMNS || headers == NULL) {
        return NULL;
    }
    cli_table *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return NULL;
    }
    t->columns = columns;
    for (size_t i = 0; i < columns; i++) {
        t->max_widths[i] = max_widths != NULL ? max_widths[i] : 0;
        if ((t->max_widths[i] == 1) || !keep_cell(&t->headers[i], headers[i], strlen(headers[i]))) {
            cli_table_free(t);
            return NULL;
        }
    }
    return t;
}

void cli_table_free(cli_table *table)
{
    if (table == NULL) {
        return;
    }
    for (size_t i = 0; i < table->columns; i++) {
        free(table->headers[i].text);
    }
    for (size_t i = 0; i < table->rows * table->columns; i++) {
        free(table->cells[i].text);
    }
    free(table->cells);
    free(table);
}

bool cli_table_row(cli_table *table)
{
    if (table == NULL) {
        return false;
    }
    if (table->rows == table->cap_rows) {
        size_t cap = table->cap_rows == 0 ? 16 : table->cap_rows * 2;
        if (cap > SIZE_MAX / sizeof(cell) / table->columns) {
            return false;
        }
        cell *grown = realloc(table->cells, cap * table->columns * sizeof(cell));
        if (grown == NULL) {
            return false;
        }
        table->cells = grown;
        table->cap_rows = cap;
    }
    memset(table->cells + table->rows * table->columns, 0, table->columns * sizeof(cell));
    table->rows++;
    return true;
}

bool cli_table_set(cli_table *table, size_t column, const char *text, size_t len)
{
    if (table == NULL || table->rows == 0 || column >= table->columns ||
        (text == NULL && len > 0)) {
        return false;
    }
    cell *c = &table->cells[(table->rows - 1) * table->columns + column];
    return keep_cell(c, text != NULL ? text : "", len);
}

bool cli_table_set_str(cli_table *table, size_t column, const char *text)
{
    return cli_table_set(table, column, text, text != NULL ? strlen(text) : 0);
}

void cli_table_fit(cli_table *table, size_t width)
{
    if (table != NULL) {
        table->fit = width;
    }
}

static void write_line(const cli_table *t, const cell *cells, const size_t *widths, as_buf *out)
{
    /* The last column that has something in this line: nothing is padded after it. */
    size_t last = 0;
    for (size_t i = 0; i < t->columns; i++) {
        if (cells[i].len > 0) {
            last = i;
        }
    }
    for (size_t i = 0; i <= last; i++) {
        if (i > 0) {
            as_buf_append_str(out, "  ");
        }
        size_t w =
            cells[i].len > 0 ? cli_cell_text(cells[i].text, cells[i].len, widths[i], out) : 0;
        for (; i < last && w < widths[i]; w++) {
            as_buf_append_char(out, ' ');
        }
    }
    as_buf_append_char(out, '\n');
}

/* Each column as wide as its widest cell, within its limit; then, to fit `fit`, the widest
 * column that has a limit narrowed one character at a time (never below MIN_FIT_WIDTH or
 * its header). A column without a limit is never cut. */
static void settle_widths(const cli_table *t, size_t *widths)
{
    size_t total = 0;
    for (size_t i = 0; i < t->columns; i++) {
        size_t w = 0;
        for (size_t r = 0; r < t->rows; r++) {
            size_t cw = t->cells[r * t->columns + i].width;
            w = cw > w ? cw : w;
        }
        if (t->max_widths[i] > 0 && w > t->max_widths[i]) {
            w = t->max_widths[i];
        }
        widths[i] = w > t->headers[i].width ? w : t->headers[i].width;
        total += widths[i] + (i > 0 ? 2 : 0);
    }
    while (t->fit > 0 && total > t->fit) {
        size_t widest = t->columns;
        for (size_t i = 0; i < t->columns; i++) {
            size_t floor =
                t->headers[i].width > MIN_FIT_WIDTH ? t->headers[i].width : MIN_FIT_WIDTH;
            if (t->max_widths[i] > 0 && widths[i] > floor &&
                (widest == t->columns || widths[i] > widths[widest])) {
                widest = i;
            }
        }
        if (widest == t->columns) {
            return; /* nothing left to narrow: the lines wrap */
        }
        widths[widest]--;
        total--;
    }
}

void cli_table_render(const cli_table *table, as_buf *out)
{
    if (table == NULL) {
        return;
    }
    size_t widths[CLI_TABLE_MAX_COLUMNS];
    settle_widths(table, widths);
    write_line(table, table->headers, widths, out);
    for (size_t r = 0; r < table->rows; r++) {
        write_line(table, table->cells + r * table->columns, widths, out);
    }
}
