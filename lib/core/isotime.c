/* Epoch seconds as DynamoDB Streams writes them (a JSON number) to UTC ISO-8601 with
 * milliseconds, by moving the decimal point in the text: no double, no gmtime; and
 * ISO-8601 UTC text back to epoch milliseconds. */
#include "core/isotime.h"
#include "core/number.h"

/* 9999-12-31T23:59:59.999Z, the last millisecond ISO-8601's four-digit years reach. */
#define MS_MAX        INT64_C(253402300799999)
#define MS_MAX_DIGITS 15

#define MS_PER_DAY INT64_C(86400000)

static const char NOT_A_NUMBER[] = "not a number";
static const char BEFORE_1970[] = "before 1970-01-01T00:00:00.000Z";
static const char AFTER_9999[] = "after 9999-12-31T23:59:59.999Z";

bool as_epoch_text_to_ms(as_span text, int64_t *ms, const char **why)
{
    as_decimal d;
    if (!as_decimal_scan(text, AS_DECIMAL_JSON, &d)) {
        return as_refuse(why, NOT_A_NUMBER);
    }
    if (d.zero) {
        *ms = 0; /* zero, "-0" included, is the epoch */
        return true;
    }
    /* Any other negative number lies before 1970, however little. */
    if (d.negative) {
        return as_refuse(why, BEFORE_1970);
    }

    /* The value is 0.d1d2... * 10^(point + exp10) with d1 the first non-zero digit, so
     * the milliseconds are the first point + exp10 + 3 digits, read as an integer (zeros
     * supplied past the last digit) and the rest dropped: that is the floor. */
    int64_t want = d.point + d.exp10 + 3;
    if (want <= 0) {
        *ms = 0; /* under a millisecond */
        return true;
    }
    if (want > MS_MAX_DIGITS) {
        return as_refuse(why, AFTER_9999);
    }
    const char *s = text.ptr;
    int64_t value = 0;
    size_t k = d.first;
    for (int64_t taken = 0; taken < want; taken++) {
        if (k < d.frac_end && s[k] == '.') {
            k++;
        }
        int digit = 0;
        if (k < d.frac_end) {
            digit = s[k] - '0';
            k++;
        }
        value = value * 10 + digit;
    }
    if (value > MS_MAX) {
        return as_refuse(why, AFTER_9999);
    }
    *ms = value;
    return true;
}

static void put2(char *out, unsigned v)
{
    out[0] = (char)('0' + v / 10);
    out[1] = (char)('0' + v % 10);
}

void as_iso_time_format(int64_t ms, char out[AS_ISO_TIME_LEN])
{
    /* Out-of-contract input is clamped so that the year always has four digits. */
    if (ms < 0) {
        ms = 0;
    } else if (ms > MS_MAX) {
        ms = MS_MAX;
    }
    int64_t days = ms / MS_PER_DAY;
    int64_t in_day = ms % MS_PER_DAY;

    /* Howard Hinnant's civil_from_days, for days >= 0 only: eras of 400 years
     * (146097 days) starting on 0000-03-01, so that February comes last. */
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    unsigned year = (unsigned)(yoe + era * 400 + (month <= 2 ? 1 : 0));

    unsigned millis = (unsigned)(in_day % 1000);
    unsigned secs = (unsigned)(in_day / 1000);

    put2(out, year / 100);
    put2(out + 2, year % 100);
    out[4] = '-';
    put2(out + 5, month);
    out[7] = '-';
    put2(out + 8, day);
    out[10] = 'T';
    put2(out + 11, secs / 3600);
    out[13] = ':';
    put2(out + 14, secs / 60 % 60);
    out[16] = ':';
    put2(out + 17, secs % 60);
    out[19] = '.';
    out[20] = (char)('0' + millis / 100);
    put2(out + 21, millis % 100);
    out[23] = 'Z';
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool leap_year(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* `n` digits at text[at] into *out. */
static bool take_digits(as_span text, size_t at, size_t n, unsigned *out)
{
    if (at + n > text.len) {
        return false;
    }
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text.ptr[at + i];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (unsigned)(c - '0');
    }
    *out = v;
    return true;
}

bool as_iso_time_parse(as_span text, bool strict, int64_t *ms)
{
    unsigned y, mo, d, h, mi, s;
    if (!take_digits(text, 0, 4, &y) || text.len < 20 || text.ptr[4] != '-' ||
        !take_digits(text, 5, 2, &mo) || text.ptr[7] != '-' || !take_digits(text, 8, 2, &d) ||
        text.ptr[10] != 'T' || !take_digits(text, 11, 2, &h) || text.ptr[13] != ':' ||
        !take_digits(text, 14, 2, &mi) || text.ptr[16] != ':' || !take_digits(text, 17, 2, &s)) {
        return false;
    }
    size_t at = 19;
    unsigned millis = 0;
    if (at < text.len && text.ptr[at] == '.') {
        at++;
        size_t digits = 0;
        while (at + digits < text.len && text.ptr[at + digits] >= '0' &&
               text.ptr[at + digits] <= '9') {
            if (digits < 3) {
                millis = millis * 10 + (unsigned)(text.ptr[at + digits] - '0');
            }
            digits++;
        }
        if (digits == 0 || digits > 9 || (strict && digits != 3)) {
            return false;
        }
        for (size_t i = digits; i < 3; i++) {
            millis *= 10;
        }
        at += digits;
    } else if (strict) {
        return false;
    }
    if (at + 1 != text.len || text.ptr[at] != 'Z') {
        return false;
    }
    static const unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > month_days[mo - 1] + (mo == 2 && leap_year(y) ? 1u : 0u) || h > 23 || mi > 59 ||
        s > 59) {
        return false;
    }
    int64_t days = days_from_civil((int64_t)y, mo, d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000 + millis;
    return true;
}
