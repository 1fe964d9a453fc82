#include "lib/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void strbuf_free(struct strbuf *buf)
{
	if (buf == NULL)
		return;
	free(buf->data);
	strbuf_init(buf);
}

void strbuf_reserve(struct strbuf *buf, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - buf->len - 1)
		abort();
	need = buf->len + extra + 1;
	if (need <= buf->cap)
		return;
	cap = buf->cap < 64 ? 64 : buf->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(buf->data, cap);
	if (p == NULL)
		abort();
	buf->data = p;
	buf->cap = cap;
	buf->data[buf->len] = '\0';
}

void strbuf_append(struct strbuf *buf, const void *data, size_t len)
{
	strbuf_reserve(buf, len);
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

void strbuf_append_str(struct strbuf *buf, const char *s)
{
	strbuf_append(buf, s, strlen(s));
}

void strbuf_append_c(struct strbuf *buf, char c)
{
	strbuf_append(buf, &c, 1);
}

void strbuf_vprintf(struct strbuf *buf, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	strbuf_reserve(buf, 64);
	n = vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		buf->data[buf->len] = '\0';
		return;
	}
	if ((size_t)n >= buf->cap - buf->len) {
		strbuf_reserve(buf, (size_t)n);
		n = vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap);
		if (n < 0) {
			buf->data[buf->len] = '\0';
			return;
		}
	}
	buf->len += (size_t)n;
}

void strbuf_printf(struct strbuf *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(buf, fmt, ap);
	va_end(ap);
}

void strbuf_truncate(struct strbuf *buf, size_t len)
{
	if (len < buf->len) {
		buf->len = len;
		buf->data[len] = '\0';
	}
}

const char *strbuf_cstr(const struct strbuf *buf)
{
	return buf->data != NULL ? buf->data : "";
}
