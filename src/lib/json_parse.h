#ifndef YUBIN_LIB_JSON_PARSE_H
#define YUBIN_LIB_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A strict RFC 8259 JSON parser into a small tree. Pure: no I/O, no
 * globals; the limits are the caller's. Strings are checked as UTF-8
 * (RFC 3629), \u escapes decoded (a surrogate pair is one character, a
 * lone surrogate an error), numbers follow the grammar exactly, only the
 * four whitespace characters are skipped, nothing may follow the value,
 * and an object's names must be unique. */

struct json_limits {
	size_t max_size;	/* bytes of text */
	unsigned max_depth;	/* nested arrays/objects (1: the top one only) */
	size_t max_values;	/* values in all, containers included */
};

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
	enum json_type type;
	const char *name;	/* a member's name (NUL-terminated), else NULL */
	size_t name_len;
	const char *text;	/* a string (decoded, NUL-terminated) or a number's text */
	size_t len;
	size_t count;		/* an array's or object's members */
	struct json_value *child, *next;
};

struct json_doc;

/* Parses len bytes: the document, or NULL with a message in *error_r and
 * the byte offset of the trouble in *offset_r. */
struct json_doc *json_parse(const char *text, size_t len, const struct json_limits *lim,
			    const char **error_r, size_t *offset_r);
void json_doc_free(struct json_doc *doc);
const struct json_value *json_doc_root(const struct json_doc *doc);

/* The member called name of an object, or NULL. */
const struct json_value *json_member(const struct json_value *obj, const char *name);
/* The string of v when it is a string without NUL bytes, else NULL. */
const char *json_value_str(const struct json_value *v);
/* v as an unsigned integer (digits only, no fraction or exponent): 0, or
 * -1 when it is not one or exceeds max. */
int json_value_uint(const struct json_value *v, uint64_t max, uint64_t *out);

#endif
