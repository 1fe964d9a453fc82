#include "mail/header.h"

#include <string.h>

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
