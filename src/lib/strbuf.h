#ifndef YUBIN_LIB_STRBUF_H
#define YUBIN_LIB_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* A growable byte buffer. The bytes are always followed by a NUL (not
 * counted in len), so data can be used as a C string when it holds no NUL.
 * Allocation failure aborts: buffers are bounded by their callers' limits. */
struct strbuf {
	char *data;	/* NULL until the first append */
	size_t len;
	size_t cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_init(struct strbuf *buf);
/* Frees the bytes and leaves buf empty and reusable; accepts NULL. */
void strbuf_free(struct strbuf *buf);
/* Makes room for at least extra more bytes (plus the NUL). */
void strbuf_reserve(struct strbuf *buf, size_t extra);
void strbuf_append(struct strbuf *buf, const void *data, size_t len);
void strbuf_append_str(struct strbuf *buf, const char *s);
void strbuf_append_c(struct strbuf *buf, char c);
void strbuf_printf(struct strbuf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Shortens the contents to len bytes (no-op when already shorter). */
void strbuf_truncate(struct strbuf *buf, size_t len);
/* The contents as a C string: "" for a buffer never appended to. */
const char *strbuf_cstr(const struct strbuf *buf);

#endif
