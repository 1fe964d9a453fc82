/* Dates for the date and currentdate tests (RFC 5260 4.2-5): RFC 5322
 * dates with their original zone, and the date parts shown in a zone.
 * Pure arithmetic on days, no time zone database. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/header.h"
#include "sieve/sieve_int.h"

static const char *const parts[] = {
	"year", "month", "day", "date", "julian", "hour", "minute", "second", "time",
	"iso8601", "std11", "zone", "weekday",
};

bool sieve_date_part_is_known(const char *part)
{
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strcasecmp(part, parts[i]) == 0)
			return true;
	return false;
}

int sieve_zone_parse(const char *s, size_t len, int *zone_r)
{
	int h, m;

	if (len != 5 || (s[0] != '+' && s[0] != '-'))
		return -1;
	for (size_t i = 1; i < 5; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 23)
		return -1;
	*zone_r = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
	return 0;
}

/* The zone of an RFC 5322 date: its last word, +hhmm or an obsolete name. */
static int date_zone(const char *s, size_t len)
{
	static const struct { const char *name; int min; } names[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 }, { "EST", -300 }, { "EDT", -240 },
		{ "CST", -360 }, { "CDT", -300 }, { "MST", -420 }, { "MDT", -360 },
		{ "PST", -480 }, { "PDT", -420 },
	};
	size_t end = len, start;
	int zone = 0;

	/* drop a trailing comment such as "(JST)" */
	while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r' ||
			   s[end - 1] == '\n'))
		end--;
	if (end > 0 && s[end - 1] == ')') {
		const char *open = memrchr(s, '(', end);

		if (open != NULL)
			end = (size_t)(open - s);
		while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
	}
	start = end;
	while (start > 0 && s[start - 1] != ' ' && s[start - 1] != '\t')
		start--;
	if (sieve_zone_parse(s + start, end - start, &zone) == 0)
		return zone;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (end - start == strlen(names[i].name) &&
		    strncasecmp(s + start, names[i].name, end - start) == 0)
			return names[i].min;
	return 0;
}

int sieve_date_parse(const char *s, size_t len, int64_t *t_r, int *zone_r)
{
	if (mail_date_parse(s, len, t_r) < 0)
		return -1;
	*zone_r = date_zone(s, len);
	return 0;
}

/* Civil date of a day count since 1970-01-01 (Howard Hinnant's method). */
static void civil(int64_t days, int *y_r, int *m_r, int *d_r)
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	*y_r = (int)(y + (m <= 2));
	*m_r = (int)m;
	*d_r = (int)d;
}

int sieve_date_part(int64_t t, int zone, const char *part, struct strbuf *out)
{
	static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
	static const char *const mn[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					  "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t lt = t + (int64_t)zone * 60, days, secs;
	int y, m, d, hh, mi, ss, az = zone < 0 ? -zone : zone;
	char sign = zone < 0 ? '-' : '+';

	days = lt >= 0 ? lt / 86400 : -((-lt + 86399) / 86400);
	secs = lt - days * 86400;
	civil(days, &y, &m, &d);
	hh = (int)(secs / 3600);
	mi = (int)(secs / 60 % 60);
	ss = (int)(secs % 60);
	if (strcasecmp(part, "year") == 0)
		strbuf_printf(out, "%04d", y);
	else if (strcasecmp(part, "month") == 0)
		strbuf_printf(out, "%02d", m);
	else if (strcasecmp(part, "day") == 0)
		strbuf_printf(out, "%02d", d);
	else if (strcasecmp(part, "date") == 0)
		strbuf_printf(out, "%04d-%02d-%02d", y, m, d);
	else if (strcasecmp(part, "julian") == 0)
		strbuf_printf(out, "%lld", (long long)(days + 40587));
	else if (strcasecmp(part, "hour") == 0)
		strbuf_printf(out, "%02d", hh);
	else if (strcasecmp(part, "minute") == 0)
		strbuf_printf(out, "%02d", mi);
	else if (strcasecmp(part, "second") == 0)
		strbuf_printf(out, "%02d", ss);
	else if (strcasecmp(part, "time") == 0)
		strbuf_printf(out, "%02d:%02d:%02d", hh, mi, ss);
	else if (strcasecmp(part, "iso8601") == 0 && zone == 0)
		strbuf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, hh, mi, ss);
	else if (strcasecmp(part, "iso8601") == 0)
		strbuf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d, hh, mi, ss,
			      sign, az / 60, az % 60);
	else if (strcasecmp(part, "std11") == 0)
		strbuf_printf(out, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d",
			      wd[((days % 7) + 7) % 7], d, mn[m - 1], y, hh, mi, ss, sign, az / 60,
			      az % 60);
	else if (strcasecmp(part, "zone") == 0)
		strbuf_printf(out, "%c%02d%02d", sign, az / 60, az % 60);
	else if (strcasecmp(part, "weekday") == 0)
		strbuf_printf(out, "%d", (int)(((days % 7) + 7 + 4) % 7));
	else
		return -1;
	return 0;
}
