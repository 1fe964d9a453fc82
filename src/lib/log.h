#ifndef YUBIN_LIB_LOG_H
#define YUBIN_LIB_LOG_H

#include <stddef.h>

/* Structured log lines on stderr, one per event:
 *   2026-11-28T12:00:00.123Z info sid=4f2a smtp: message text
 * The session id ties every line of one conversation together. */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level min);
int log_level_parse(const char *name, enum log_level *level_r);
void log_msg(enum log_level level, const char *sid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies len bytes of src into dst (size bytes, NUL-terminated) with
 * every control character (C0, DEL, C1) and every byte that is not part
 * of valid UTF-8 written as \xNN; stops before a character that does not
 * fit. Returns the length written. Log values pass through it. */
size_t log_escape(char *dst, size_t size, const char *src, size_t len);

#define log_debug(sid, ...) log_msg(LOG_DEBUG, sid, __VA_ARGS__)
#define log_info(sid, ...) log_msg(LOG_INFO, sid, __VA_ARGS__)
#define log_warn(sid, ...) log_msg(LOG_WARN, sid, __VA_ARGS__)
#define log_error(sid, ...) log_msg(LOG_ERROR, sid, __VA_ARGS__)

#endif
