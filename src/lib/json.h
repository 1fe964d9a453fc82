#ifndef YUBIN_LIB_JSON_H
#define YUBIN_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A tiny JSON writer into a growing buffer. Pure: no I/O. Commas are
 * placed automatically; strings are escaped (quotes, backslashes, control
 * characters), valid UTF-8 passes through and invalid bytes become U+FFFD,
 * so the output is always valid JSON. Errors (out of memory, nesting
 * deeper than JSON_DEPTH_MAX, a value where a key is due, unbalanced
 * ends) are sticky and reported by json_result(). */

#define JSON_DEPTH_MAX 32

struct json {
	char *buf;
	size_t len, cap;
	unsigned depth;
	bool failed;
	bool after_key;			/* a key was written, its value is due */
	bool first[JSON_DEPTH_MAX];	/* nothing written yet at this level */
	bool is_object[JSON_DEPTH_MAX];
};

void json_init(struct json *j);
/* Frees the buffer; j may be reused after json_init(). NULL is fine. */
void json_free(struct json *j);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* Inside an object, every value is preceded by its key. */
void json_key(struct json *j, const char *key);

void json_string(struct json *j, const char *s);
void json_string_n(struct json *j, const char *s, size_t len);
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
/* value / 10^decimals written exactly, e.g. (1234, 1) -> 123.4. */
void json_fixed(struct json *j, uint64_t value, unsigned decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Key and value in one call. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);

/* The finished text (NUL-terminated, owned by j), or NULL when anything
 * failed or a container is still open. */
const char *json_result(const struct json *j, size_t *len_r);

#endif
