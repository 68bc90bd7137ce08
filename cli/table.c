/* auditstream's terminal tables (cli/table.h): each cell is rendered once, when set (cut,
 * escaped), and the columns are padded to their widest cell when the table is written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

typedef struct cell {
    char *text; /* rendered: cut and escaped; NULL for an empty cell */
    size_t len;
    size_t width; /* characters */
} cell;

struct cli_table {
    size_t columns;
    size_t max_widths[CLI_TABLE_MAX_COLUMNS];
    cell headers[CLI_TABLE_MAX_COLUMNS];
    cell *cells; /* rows * columns */
    size_t rows;
    size_t cap_rows;
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

static bool render_cell(cell *c, const char *text, size_t len, size_t max_width)
{
    as_buf buf = AS_BUF_INIT;
    size_t width = cli_cell_text(text, len, max_width, &buf);
    if (as_buf_status(&buf) != AS_OK) {
        as_buf_free(&buf);
        return false;
    }
    free(c->text);
    c->text = buf.data; /* NULL when nothing was written: an empty cell */
    c->len = buf.len;
    c->width = width;
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
        if ((t->max_widths[i] == 1) ||
            !render_cell(&t->headers[i], headers[i], strlen(headers[i]), 0)) {
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
    return render_cell(c, text != NULL ? text : "", len, table->max_widths[column]);
}

bool cli_table_set_str(cli_table *table, size_t column, const char *text)
{
    return cli_table_set(table, column, text, text != NULL ? strlen(text) : 0);
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
        if (cells[i].len > 0) {
            as_buf_append(out, cells[i].text, cells[i].len);
        }
        for (size_t w = cells[i].width; i < last && w < widths[i]; w++) {
            as_buf_append_char(out, ' ');
        }
    }
    as_buf_append_char(out, '\n');
}

void cli_table_render(const cli_table *table, as_buf *out)
{
    if (table == NULL) {
        return;
    }
    size_t widths[CLI_TABLE_MAX_COLUMNS];
    for (size_t i = 0; i < table->columns; i++) {
        widths[i] = table->headers[i].width;
        for (size_t r = 0; r < table->rows; r++) {
            size_t w = table->cells[r * table->columns + i].width;
            widths[i] = w > widths[i] ? w : widths[i];
        }
    }
    write_line(table, table->headers, widths, out);
    for (size_t r = 0; r < table->rows; r++) {
        write_line(table, table->cells + r * table->columns, widths, out);
    }
}
