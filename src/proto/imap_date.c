/* IMAP date and date-time parsing and formatting, with civil-date
 * arithmetic so no time zone database or locale is involved. */
#include "proto/imap_date.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int digits(const char *s, size_t n, int *v_r)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*v_r = v;
	return 0;
}

/* Parses "Mon-yyyy" (8 bytes) after the day. */
static int month_year_parse(const char *s, struct imap_date *d)
{
	d->month = 0;
	for (int i = 0; i < 12; i++) {
		if (strncasecmp(s, months[i], 3) == 0)
			d->month = i + 1;
	}
	if (d->month == 0 || s[3] != '-' || digits(s + 4, 4, &d->year) < 0 || d->year == 0)
		return -1;
	if (d->day < 1 || d->day > month_days(d->year, d->month))
		return -1;
	return 0;
}

int imap_date_parse(const char *s, size_t len, struct imap_date *date_r)
{
	size_t dl = len == 10 ? 1 : 2;

	memset(date_r, 0, sizeof(*date_r));
	if ((len != 10 && len != 11) || digits(s, dl, &date_r->day) < 0 || s[dl] != '-')
		return -1;
	return month_year_parse(s + dl + 1, date_r);
}

int64_t imap_date_days(const struct imap_date *date)
{
	/* H. Hinnant's days_from_civil */
	int64_t y = date->year - (date->month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (date->month + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + date->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

time_t imap_date_to_time(const struct imap_date *date)
{
	return (time_t)(imap_date_days(date) * 86400);
}

int imap_date_cmp(const struct imap_date *a, const struct imap_date *b)
{
	int64_t x = imap_date_days(a), y = imap_date_days(b);

	return x < y ? -1 : x > y;
}

int imap_datetime_parse(const char *s, size_t len, struct imap_datetime *dt_r)
{
	int zh, zm;

	memset(dt_r, 0, sizeof(*dt_r));
	/* "dd-Mon-yyyy hh:mm:ss +zzzz", day may be " d" */
	if (len != 26)
		return -1;
	if (s[0] == ' ') {
		if (digits(s + 1, 1, &dt_r->date.day) < 0)
			return -1;
	} else if (digits(s, 2, &dt_r->date.day) < 0) {
		return -1;
	}
	if (s[2] != '-' || month_year_parse(s + 3, &dt_r->date) < 0 || s[11] != ' ' ||
	    digits(s + 12, 2, &dt_r->hour) < 0 || s[14] != ':' ||
	    digits(s + 15, 2, &dt_r->min) < 0 || s[17] != ':' ||
	    digits(s + 18, 2, &dt_r->sec) < 0 || s[20] != ' ' ||
	    (s[21] != '+' && s[21] != '-') || digits(s + 22, 2, &zh) < 0 ||
	    digits(s + 24, 2, &zm) < 0)
		return -1;
	if (dt_r->hour > 23 || dt_r->min > 59 || dt_r->sec > 60 || zh > 23 || zm > 59)
		return -1;
	dt_r->zone_minutes = (zh * 60 + zm) * (s[21] == '-' ? -1 : 1);
	dt_r->utc = (time_t)(imap_date_days(&dt_r->date) * 86400 + dt_r->hour * 3600 +
			     dt_r->min * 60 + (dt_r->sec > 59 ? 59 : dt_r->sec) -
			     (int64_t)dt_r->zone_minutes * 60);
	return 0;
}

void imap_date_format(const struct imap_date *date, char out[IMAP_DATE_SIZE])
{
	int m = date->month >= 1 && date->month <= 12 ? date->month : 1;

	snprintf(out, IMAP_DATE_SIZE, "%02d-%s-%04d", date->day % 100, months[m - 1],
		 date->year % 10000);
}

int imap_datetime_format(time_t t, int zone_minutes, char out[IMAP_DATETIME_SIZE])
{
	int64_t local, days, secs, z, era, doe, yoe, y, doy, mp;
	int d, m;

	if (zone_minutes < -1439 || zone_minutes > 1439)
		return -1;
	local = (int64_t)t + (int64_t)zone_minutes * 60;
	if (local < -62135596800LL || local > 253402300799LL)
		return -1;	/* outside 0001-01-01 .. 9999-12-31 */
	days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	secs = local - days * 86400;
	/* H. Hinnant's civil_from_days */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y += m <= 2;
	z = zone_minutes < 0 ? -zone_minutes : zone_minutes;
	snprintf(out, IMAP_DATETIME_SIZE, "%02d-%s-%04d %02d:%02d:%02d %c%02d%02d", d,
		 months[m - 1], (int)y, (int)(secs / 3600), (int)(secs / 60 % 60),
		 (int)(secs % 60), zone_minutes < 0 ? '-' : '+', (int)(z / 60), (int)(z % 60));
	return 0;
}
