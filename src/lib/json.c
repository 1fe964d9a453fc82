#include "lib/json.h"
#include "lib/str.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void json_free(struct json *j)
{
	if (j == NULL)
		return;
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
}

static void json_put(struct json *j, const char *s, size_t len)
{
	if (j->failed)
		return;
	if (j->len + len + 1 > j->cap) {
		size_t cap = j->cap == 0 ? 256 : j->cap;
		char *nbuf;

		while (cap < j->len + len + 1)
			cap *= 2;
		nbuf = realloc(j->buf, cap);
		if (nbuf == NULL) {
			j->failed = true;
			return;
		}
		j->buf = nbuf;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, len);
	j->len += len;
	j->buf[j->len] = '\0';
}

static void json_puts(struct json *j, const char *s)
{
	json_put(j, s, strlen(s));
}

/* Writes the comma that separates this value from the previous one and
 * checks that a value may stand here. */
static void json_value_begin(struct json *j)
{
	if (j->failed)
		return;
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->is_object[j->depth] && j->depth > 0) {
		j->failed = true;	/* a value inside an object needs its key */
		return;
	}
	if (j->depth == 0 && !j->first[0]) {
		j->failed = true;	/* one top-level value only */
		return;
	}
	if (!j->first[j->depth])
		json_put(j, ",", 1);
	j->first[j->depth] = false;
}

static void json_open(struct json *j, bool object)
{
	json_value_begin(j);
	if (j->failed)
		return;
	if (j->depth + 1 >= JSON_DEPTH_MAX) {
		j->failed = true;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
	j->is_object[j->depth] = object;
	json_put(j, object ? "{" : "[", 1);
}

static void json_close(struct json *j, bool object)
{
	if (j->failed)
		return;
	if (j->depth == 0 || j->is_object[j->depth] != object || j->after_key) {
		j->failed = true;
		return;
	}
	j->depth--;
	json_put(j, object ? "}" : "]", 1);
}

void json_object_begin(struct json *j) { json_open(j, true); }
void json_object_end(struct json *j) { json_close(j, true); }
void json_array_begin(struct json *j) { json_open(j, false); }
void json_array_end(struct json *j) { json_close(j, false); }

static void json_put_escaped(struct json *j, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	char esc[8];

	json_put(j, "\"", 1);
	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		n = c >= 0x80 ? str_utf8_char_len(s + i, len - i) : 0;
		if (n > 0) {
			i += n;
			run += n;
			continue;
		}
		/* Flush the plain run before this byte, then escape it. */
		json_put(j, str + i - run, run);
		run = 0;
		switch (c) {
		case '"': json_put(j, "\\\"", 2); break;
		case '\\': json_put(j, "\\\\", 2); break;
		case '\n': json_put(j, "\\n", 2); break;
		case '\r': json_put(j, "\\r", 2); break;
		case '\t': json_put(j, "\\t", 2); break;
		case '\b': json_put(j, "\\b", 2); break;
		case '\f': json_put(j, "\\f", 2); break;
		default:
			if (c >= 0x80) {
				json_put(j, "\\ufffd", 6);	/* not UTF-8 */
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				json_put(j, esc, 6);
			}
			break;
		}
		i++;
	}
	json_put(j, str + i - run, run);
	json_put(j, "\"", 1);
}

void json_key(struct json *j, const char *key)
{
	if (j->failed)
		return;
	if (j->depth == 0 || !j->is_object[j->depth] || j->after_key) {
		j->failed = true;
		return;
	}
	if (!j->first[j->depth])
		json_put(j, ",", 1);
	j->first[j->depth] = false;
	json_put_escaped(j, key, strlen(key));
	json_put(j, ":", 1);
	j->after_key = true;
}

void json_string_n(struct json *j, const char *s, size_t len)
{
	json_value_begin(j);
	json_put_escaped(j, s, len);
}

void json_string(struct json *j, const char *s)
{
	if (s == NULL) {
		json_null(j);
		return;
	}
	json_string_n(j, s, strlen(s));
}

void json_uint(struct json *j, uint64_t v)
{
	char num[24];

	json_value_begin(j);
	snprintf(num, sizeof(num), "%" PRIu64, v);
	json_puts(j, num);
}

void json_int(struct json *j, int64_t v)
{
	char num[24];

	json_value_begin(j);
	snprintf(num, sizeof(num), "%" PRId64, v);
	json_puts(j, num);
}

void json_fixed(struct json *j, uint64_t value, unsigned decimals)
{
	uint64_t scale = 1;
	char num[48];

	if (decimals > 18) {
		j->failed = true;
		return;
	}
	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	json_value_begin(j);
	if (decimals == 0)
		snprintf(num, sizeof(num), "%" PRIu64, value);
	else
		snprintf(num, sizeof(num), "%" PRIu64 ".%0*" PRIu64, value / scale,
			 (int)decimals, value % scale);
	json_puts(j, num);
}

void json_bool(struct json *j, bool v)
{
	json_value_begin(j);
	json_puts(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
	json_value_begin(j);
	json_puts(j, "null");
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_kv_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_uint(j, v);
}

void json_kv_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

const char *json_result(const struct json *j, size_t *len_r)
{
	if (j->failed || j->depth != 0 || j->after_key || j->buf == NULL)
		return NULL;
	if (len_r != NULL)
		*len_r = j->len;
	return j->buf;
}
