/* auditstream's tables for a terminal: aligned columns, cells cut to a width with an
 * ellipsis at a character boundary, control characters shown as escapes, never sent. */
#ifndef CLI_TABLE_H
#define CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "auditstream/buf.h"

#define CLI_TABLE_MAX_COLUMNS 8

/* A table being filled. Cells are copied in; the table owns them. */
typedef struct cli_table cli_table;

/* New table of `columns` columns (1..CLI_TABLE_MAX_COLUMNS) with these headers (copied)
 * and, per column, the widest a cell may be in characters (0: no limit, and the column is
 * never cut; else at least 2).
 * NULL when out of memory or for bad arguments. Free with cli_table_free. */
cli_table *cli_table_new(size_t columns, const char *const *headers, const size_t *max_widths);
/* NULL is a no-op. */
void cli_table_free(cli_table *table);

/* Starts a new row; its cells are empty until set. False when out of memory. */
bool cli_table_row(cli_table *table);
/* Sets cell `column` of the last row to the `len` bytes of `text` (copied; UTF-8, but any
 * bytes are accepted: a byte that is not UTF-8 shows as '?'). False when out of memory,
 * when there is no row or for a bad column. */
bool cli_table_set(cli_table *table, size_t column, const char *text, size_t len);
/* cli_table_set of a NUL-terminated string. */
bool cli_table_set_str(cli_table *table, size_t column, const char *text);

/* Lines of the table at most `width` characters wide (a terminal's columns; 0, the
 * default, for no limit): the widest columns that have a limit are narrowed, down to 8
 * characters or their header, until the lines fit. Columns without a limit keep their
 * width, so a line may still be wider. */
void cli_table_fit(cli_table *table, size_t width);

/* Appends the table: the header line, then a line per row, columns two spaces apart and
 * each as wide as its widest cell (within its limit, and narrowed by cli_table_fit), no
 * blank at the end of a line. Every cell shows as cli_cell_text says, cut to its column.
 * The buffer's status says whether it all fitted in memory. */
void cli_table_render(const cli_table *table, as_buf *out);

/* Appends the `len` bytes of `text` as one cell shows them, cut to at most `max_width`
 * characters (0: no limit) by ending with "…" (U+2026) in the last one, and returns the
 * width written, in characters. Characters are UTF-8 code points, each counted as one
 * column; a C0 control, DEL or a C1 control is written as an escape (\n, \t, \r or
 * \u00XX, each as wide as its characters) so that a value can neither break the line nor
 * drive the terminal; a byte that does not start a valid UTF-8 sequence shows as '?'. A
 * cut never splits a character or an escape. */
size_t cli_cell_text(const char *text, size_t len, size_t max_width, as_buf *out);

#endif
