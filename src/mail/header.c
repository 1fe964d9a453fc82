#include "mail/header.h"
#include "mail/rfc5322.h"

#include <string.h>
#include <strings.h>

static bool is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

void mail_header_iter_init(struct mail_header_iter *iter, const char *data, size_t size)
{
	iter->data = data;
	iter->size = size;
	iter->pos = 0;
}

/* End of the line starting at pos: the index just past its LF, or size. */
static size_t line_next(const char *data, size_t size, size_t pos)
{
	const char *lf = memchr(data + pos, '\n', size - pos);

	return lf == NULL ? size : (size_t)(lf - data) + 1;
}

static bool line_is_empty(const char *data, size_t size, size_t pos)
{
	return data[pos] == '\n' || (data[pos] == '\r' && pos + 1 < size && data[pos + 1] == '\n');
}

/* Length of the line content without its CRLF / LF. */
static size_t content_end(const char *data, size_t start, size_t next)
{
	size_t end = next;

	if (end > start && data[end - 1] == '\n')
		end--;
	if (end > start && data[end - 1] == '\r')
		end--;
	return end;
}

bool mail_header_iter_next(struct mail_header_iter *iter, struct mail_header_field *field_r)
{
	const char *d = iter->data;
	size_t size = iter->size;

	while (iter->pos < size) {
		size_t start = iter->pos, next, name_end, i, end;

		if (line_is_empty(d, size, start)) {
			iter->pos = size;	/* end of the header block */
			return false;
		}
		/* the field spans its continuation lines */
		next = line_next(d, size, start);
		while (next < size && (d[next] == ' ' || d[next] == '\t'))
			next = line_next(d, size, next);
		iter->pos = next;
		i = start;
		while (i < next && is_ftext((unsigned char)d[i]))
			i++;
		name_end = i;
		while (i < next && (d[i] == ' ' || d[i] == '\t'))
			i++;
		if (name_end == start || i >= next || d[i] != ':')
			continue;	/* not a field: skip it */
		end = content_end(d, start, next);
		field_r->name = d + start;
		field_r->name_len = name_end - start;
		field_r->value = d + i + 1;
		field_r->value_len = end > i + 1 ? end - (i + 1) : 0;
		field_r->offset = start;
		field_r->size = next - start;
		return true;
	}
	return false;
}

bool mail_header_field_is(const struct mail_header_field *field, const char *name)
{
	size_t n = strlen(name);

	return field->name_len == n && strncasecmp(field->name, name, n) == 0;
}

bool mail_header_find(const char *data, size_t size, const char *name,
		      struct mail_header_field *field_r)
{
	struct mail_header_iter iter;

	mail_header_iter_init(&iter, data, size);
	while (mail_header_iter_next(&iter, field_r)) {
		if (mail_header_field_is(field_r, name))
			return true;
	}
	return false;
}

size_t mail_header_block_size(const char *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		if (line_is_empty(data, size, pos))
			return line_next(data, size, pos);
		pos = line_next(data, size, pos);
	}
	return size;
}

void mail_header_unfold(const char *value, size_t len, struct strbuf *out)
{
	size_t start = 0, end = len, i, run;

	while (start < end && (value[start] == ' ' || value[start] == '\t' ||
			       value[start] == '\r' || value[start] == '\n'))
		start++;
	while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t' ||
			       value[end - 1] == '\r' || value[end - 1] == '\n'))
		end--;
	strbuf_reserve(out, end - start);
	i = start;
	while (i < end) {
		run = i;
		while (run < end && value[run] != '\r' && value[run] != '\n')
			run++;
		strbuf_append(out, value + i, run - i);
		while (run < end && (value[run] == '\r' || value[run] == '\n'))
			run++;
		i = run;
	}
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* CFWS and the comma after the day name. */
static size_t date_skip(const char *s, size_t len, size_t i)
{
	while ((i = rfc5322_skip_cfws(s, len, i)) < len && s[i] == ',')
		i++;
	return i;
}

static size_t date_number(const char *s, size_t len, size_t i, long *v, unsigned *ndigits)
{
	*v = 0;
	*ndigits = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9' && *ndigits < 9) {
		*v = *v * 10 + (s[i] - '0');
		(*ndigits)++;
		i++;
	}
	return i;
}

int mail_date_parse(const char *s, size_t len, int64_t *t_r)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const struct { const char *name; int minutes; } zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
		{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
		{ "JST", 540 },
	};
	long day, year, hh, mm, ss = 0;
	unsigned nd, month = 0;
	int zone = 0;
	size_t i = date_skip(s, len, 0);

	/* an optional day name */
	if (i + 3 <= len && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')) {
		while (i < len && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
			i++;
		i = date_skip(s, len, i);
	}
	i = date_number(s, len, i, &day, &nd);
	if (nd == 0 || nd > 2 || day < 1 || day > 31)
		return -1;
	i = date_skip(s, len, i);
	if (i + 3 > len)
		return -1;
	for (unsigned m = 0; m < 12; m++) {
		if (((s[i] | 0x20) == months[m * 3]) && ((s[i + 1] | 0x20) == months[m * 3 + 1]) &&
		    ((s[i + 2] | 0x20) == months[m * 3 + 2]))
			month = m + 1;
	}
	if (month == 0)
		return -1;
	i = date_skip(s, len, i + 3);
	i = date_number(s, len, i, &year, &nd);
	if (nd < 2 || nd > 4)
		return -1;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;
	else if (nd == 3)
		year += 1900;
	i = date_skip(s, len, i);
	i = date_number(s, len, i, &hh, &nd);
	if (nd == 0 || nd > 2 || i >= len || s[i] != ':')
		return -1;
	i = date_number(s, len, i + 1, &mm, &nd);
	if (nd != 2)
		return -1;
	if (i < len && s[i] == ':') {
		i = date_number(s, len, i + 1, &ss, &nd);
		if (nd != 2)
			return -1;
	}
	if (hh > 23 || mm > 59 || ss > 60)
		return -1;
	i = date_skip(s, len, i);
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		long z;
		size_t j = date_number(s, len, i + 1, &z, &nd);
		if (nd == 4 && z % 100 < 60) {
			zone = (int)(z / 100 * 60 + z % 100);
			if (s[i] == '-')
				zone = -zone;
		}
		i = j;
	} else {
		for (size_t k = 0; k < sizeof(zones) / sizeof(zones[0]); k++) {
			size_t n = strlen(zones[k].name);
			if (i + n <= len && strncasecmp(s + i, zones[k].name, n) == 0 &&
			    (i + n == len || !((s[i + n] | 0x20) >= 'a' && (s[i + n] | 0x20) <= 'z'))) {
				zone = zones[k].minutes;
				break;
			}
		}
	}
	*t_r = days_from_civil(year, month, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss -
	       (int64_t)zone * 60;
	return 0;
}
