/* backfill's progress bar (cli/progress.h): drawn in place with "\r" and an erase to the end
 * of the line, only on a terminal. */
#include <string.h>

#include "progress.h"
#include "session.h"

#define BAR_WIDTH 24

void cli_progress_init(cli_progress *p, FILE *out, bool terminal)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->terminal = terminal;
}

void cli_progress_start(cli_progress *p, uint64_t expected)
{
    p->expected = expected;
}

void cli_progress_text(uint64_t expected, uint64_t scanned, uint64_t written, uint64_t failed,
                       char *out, size_t size)
{
    /* ItemCount is refreshed by DynamoDB about every six hours: past it, no percentage. */
    if (expected == 0 || scanned > expected) {
        snprintf(out, size, "backfill: scanned %llu, written %llu, failed %llu",
                 (unsigned long long)scanned, (unsigned long long)written,
                 (unsigned long long)failed);
        return;
    }
    char bar[BAR_WIDTH + 1];
    size_t filled = (size_t)(scanned * BAR_WIDTH / expected);
    memset(bar, '#', filled);
    memset(bar + filled, '-', BAR_WIDTH - filled);
    bar[BAR_WIDTH] = '\0';
    snprintf(out, size,
             "backfill [%s] %3llu%%  scanned %llu of about %llu, written %llu, failed %llu", bar,
             (unsigned long long)(scanned * 100 / expected), (unsigned long long)scanned,
             (unsigned long long)expected, (unsigned long long)written, (unsigned long long)failed);
}

static void draw(cli_progress *p, uint64_t scanned, uint64_t written, uint64_t failed)
{
    char text[200];
    cli_progress_text(p->expected, scanned, written, failed, text, sizeof text);
    fprintf(p->out, "\r\033[K%s", text);
    fflush(p->out);
    p->drawn = true;
}

void cli_progress_update(cli_progress *p, uint64_t scanned, uint64_t written, uint64_t failed)
{
    if (!p->terminal) {
        return;
    }
    int64_t now = cli_now_ms();
    if (p->drawn && now - p->last_ms < 100) {
        return;
    }
    p->last_ms = now;
    draw(p, scanned, written, failed);
}

void cli_progress_clear(cli_progress *p)
{
    if (p->terminal && p->drawn) {
        fputs("\r\033[K", p->out);
        p->drawn = false;
    }
}

void cli_progress_finish(cli_progress *p, uint64_t scanned, uint64_t written, uint64_t failed)
{
    if (!p->terminal) {
        return;
    }
    draw(p, scanned, written, failed);
    fputc('\n', p->out);
    fflush(p->out);
    p->drawn = false;
}
