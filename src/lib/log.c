#include "lib/log.h"
#include "lib/str.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level min)
{
	log_min = min;
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

size_t log_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, i = 0;

	if (size == 0)
		return 0;
	while (i < len) {
		size_t n = s[i] >= 0x80 ? str_utf8_char_len(s + i, len - i) : 1;
		bool control = s[i] < 0x20 || s[i] == 0x7f || (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0);

		if (n > 0 && !control) {
			if (o + n >= size)
				break;
			memcpy(dst + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		/* One byte of an invalid sequence, or each byte of a control
		 * character (C1 controls are two bytes in UTF-8). */
		if (n == 0)
			n = 1;
		if (o + 4 * n >= size)
			break;
		for (size_t k = 0; k < n; k++, i++) {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[s[i] >> 4];
			dst[o++] = hex[s[i] & 15];
		}
	}
	dst[o] = '\0';
	return o;
}

static void log_vwrite(enum log_level level, const char *sid, const char *fmt, va_list ap)
{
	char msg[2048], line[2048 + 4 * sizeof(msg)];
	struct timeval tv;
	struct tm tm;
	size_t n, mlen = 0;
	int r;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %s ",
			      (int)(tv.tv_usec / 1000), level_names[level]);
	if (sid != NULL)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "sid=%s ", sid);
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r > 0)
		mlen = (size_t)r < sizeof(msg) ? (size_t)r : sizeof(msg) - 1;
	/* Never let a client-controlled byte break the one-line-per-event
	 * rule or the log's encoding: controls and invalid UTF-8 become
	 * \xNN. */
	if (n < sizeof(line) - 1)
		n += log_escape(line + n, sizeof(line) - 1 - n, msg, mlen);
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}

void log_msg(enum log_level level, const char *sid, const char *fmt, ...)
{
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	log_vwrite(level, sid, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
