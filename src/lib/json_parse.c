/* The strict JSON parser (see json_parse.h): recursive descent with the
 * depth bounded by the caller, values from one array and decoded strings
 * into one buffer, both sized from the input before parsing starts. */
#include "lib/json_parse.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

struct json_doc {
	struct json_value *values;
	size_t nvalues, max_values;
	char *strings;		/* decoded strings, each NUL-terminated */
	size_t used;
	const char *p, *end, *start;
	unsigned depth, max_depth;
	const char *error;
};

static bool jp_fail(struct json_doc *d, const char *error)
{
	if (d->error == NULL)
		d->error = error;
	return false;
}

static void jp_ws(struct json_doc *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
		d->p++;
}

static struct json_value *jp_new(struct json_doc *d, enum json_type type)
{
	struct json_value *v;

	if (d->nvalues == d->max_values) {
		jp_fail(d, "too many values");
		return NULL;
	}
	v = &d->values[d->nvalues++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

static int jp_hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static void jp_put_utf8(struct json_doc *d, unsigned cp)
{
	char *o = d->strings + d->used;

	if (cp < 0x80) {
		o[0] = (char)cp;
		d->used += 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		d->used += 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		d->used += 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		d->used += 4;
	}
}

/* A \u escape at d->p (after the backslash and 'u'); a high surrogate
 * must be followed by \u and a low one. The output is never longer than
 * the escape (6 or 12 bytes give at most 3 or 4). */
static bool jp_unicode(struct json_doc *d)
{
	int cp, lo;

	if (d->end - d->p < 4 || (cp = jp_hex4(d->p)) < 0)
		return jp_fail(d, "bad \\u escape");
	d->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jp_fail(d, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (d->end - d->p < 6 || d->p[0] != '\\' || d->p[1] != 'u' || (lo = jp_hex4(d->p + 2)) < 0 ||
		    lo < 0xdc00 || lo > 0xdfff)
			return jp_fail(d, "high surrogate without a low one");
		d->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	jp_put_utf8(d, (unsigned)cp);
	return true;
}

/* A string at d->p (on the opening quote) into the string buffer. */
static bool jp_string(struct json_doc *d, const char **out, size_t *len_r)
{
	size_t begin = d->used;

	d->p++;
	for (;;) {
		unsigned char c;
		size_t n;

		if (d->p >= d->end)
			return jp_fail(d, "unterminated string");
		c = (unsigned char)*d->p;
		if (c == '"')
			break;
		if (c < 0x20)
			return jp_fail(d, "control character in a string");
		if (c == '\\') {
			const char *esc = "\"\\/bfnrt", *dec = "\"\\/\b\f\n\r\t", *hit;

			if (d->end - d->p < 2)
				return jp_fail(d, "unterminated string");
			d->p += 2;
			if (d->p[-1] == 'u') {
				if (!jp_unicode(d))
					return false;
				continue;
			}
			hit = strchr(esc, d->p[-1]);
			if (hit == NULL || d->p[-1] == '\0')
				return jp_fail(d, "bad escape");
			d->strings[d->used++] = dec[hit - esc];
			continue;
		}
		n = str_utf8_char_len(d->p, (size_t)(d->end - d->p));
		if (n == 0)
			return jp_fail(d, "invalid UTF-8");
		memcpy(d->strings + d->used, d->p, n);
		d->used += n;
		d->p += n;
	}
	d->p++;
	d->strings[d->used++] = '\0';
	*out = d->strings + begin;
	*len_r = d->used - begin - 1;
	return true;
}

static bool jp_digits(struct json_doc *d)
{
	const char *s = d->p;

	while (d->p < d->end && *d->p >= '0' && *d->p <= '9')
		d->p++;
	return d->p > s;
}

static bool jp_number(struct json_doc *d, struct json_value *v)
{
	const char *s = d->p;

	if (d->p < d->end && *d->p == '-')
		d->p++;
	if (d->p < d->end && *d->p == '0')
		d->p++;
	else if (!jp_digits(d))
		return jp_fail(d, "bad number");
	if (d->p < d->end && *d->p == '.') {
		d->p++;
		if (!jp_digits(d))
			return jp_fail(d, "bad number");
	}
	if (d->p < d->end && (*d->p == 'e' || *d->p == 'E')) {
		d->p++;
		if (d->p < d->end && (*d->p == '+' || *d->p == '-'))
			d->p++;
		if (!jp_digits(d))
			return jp_fail(d, "bad number");
	}
	v->text = s;
	v->len = (size_t)(d->p - s);
	return true;
}

static bool jp_literal(struct json_doc *d, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0)
		return jp_fail(d, "unexpected character");
	d->p += n;
	return true;
}

static struct json_value *jp_value(struct json_doc *d);

/* The members of an array or object after its opening bracket. */
static bool jp_container(struct json_doc *d, struct json_value *v)
{
	bool object = v->type == JSON_OBJECT;
	char close = object ? '}' : ']';
	struct json_value **tail = &v->child;

	if (++d->depth > d->max_depth)
		return jp_fail(d, "nested too deeply");
	d->p++;
	jp_ws(d);
	if (d->p < d->end && *d->p == close) {
		d->p++;
		d->depth--;
		return true;
	}
	for (;;) {
		const char *name = NULL;
		size_t name_len = 0;
		struct json_value *m;

		jp_ws(d);
		if (object) {
			if (d->p >= d->end || *d->p != '"')
				return jp_fail(d, "expected a member name");
			if (!jp_string(d, &name, &name_len))
				return false;
			for (m = v->child; m != NULL; m = m->next) {
				if (m->name_len == name_len && memcmp(m->name, name, name_len) == 0)
					return jp_fail(d, "duplicate member name");
			}
			jp_ws(d);
			if (d->p >= d->end || *d->p != ':')
				return jp_fail(d, "expected ':'");
			d->p++;
		}
		m = jp_value(d);
		if (m == NULL)
			return false;
		m->name = name;
		m->name_len = name_len;
		*tail = m;
		tail = &m->next;
		v->count++;
		jp_ws(d);
		if (d->p < d->end && *d->p == ',') {
			d->p++;
			continue;
		}
		if (d->p < d->end && *d->p == close) {
			d->p++;
			d->depth--;
			return true;
		}
		return jp_fail(d, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static struct json_value *jp_value(struct json_doc *d)
{
	struct json_value *v;
	bool ok;

	jp_ws(d);
	if (d->p >= d->end) {
		jp_fail(d, "unexpected end");
		return NULL;
	}
	switch (*d->p) {
	case '{': v = jp_new(d, JSON_OBJECT); ok = v != NULL && jp_container(d, v); break;
	case '[': v = jp_new(d, JSON_ARRAY); ok = v != NULL && jp_container(d, v); break;
	case '"': v = jp_new(d, JSON_STRING); ok = v != NULL && jp_string(d, &v->text, &v->len); break;
	case 't': v = jp_new(d, JSON_TRUE); ok = v != NULL && jp_literal(d, "true"); break;
	case 'f': v = jp_new(d, JSON_FALSE); ok = v != NULL && jp_literal(d, "false"); break;
	case 'n': v = jp_new(d, JSON_NULL); ok = v != NULL && jp_literal(d, "null"); break;
	default:
		if (*d->p != '-' && (*d->p < '0' || *d->p > '9')) {
			jp_fail(d, "unexpected character");
			return NULL;
		}
		v = jp_new(d, JSON_NUMBER);
		ok = v != NULL && jp_number(d, v);
	}
	return ok ? v : NULL;
}

struct json_doc *json_parse(const char *text, size_t len, const struct json_limits *lim,
			    const char **error_r, size_t *offset_r)
{
	struct json_doc *d;

	*offset_r = 0;
	if (len > lim->max_size) {
		*error_r = "document too large";
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	/* Every value takes at least one byte of text; decoded strings are
	 * never longer than their source (plus a NUL each). */
	if (d != NULL) {
		d->max_values = lim->max_values < len + 1 ? lim->max_values : len + 1;
		d->values = calloc(d->max_values > 0 ? d->max_values : 1, sizeof(*d->values));
		d->strings = malloc(len + 1);
	}
	if (d == NULL || d->values == NULL || d->strings == NULL) {
		json_doc_free(d);
		*error_r = "out of memory";
		return NULL;
	}
	d->p = d->start = text;
	d->end = text + len;
	d->max_depth = lim->max_depth;
	if (jp_value(d) != NULL) {
		jp_ws(d);
		if (d->p != d->end)
			jp_fail(d, "text after the value");
	} else if (d->error == NULL) {
		jp_fail(d, "no value");
	}
	if (d->error != NULL) {
		*error_r = d->error;
		*offset_r = (size_t)(d->p - d->start);
		json_doc_free(d);
		return NULL;
	}
	return d;
}

void json_doc_free(struct json_doc *doc)
{
	if (doc == NULL)
		return;
	free(doc->values);
	free(doc->strings);
	free(doc);
}

const struct json_value *json_doc_root(const struct json_doc *doc)
{
	return &doc->values[0];
}

const struct json_value *json_member(const struct json_value *obj, const char *name)
{
	size_t n = strlen(name);

	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json_value *m = obj->child; m != NULL; m = m->next) {
		if (m->name_len == n && memcmp(m->name, name, n) == 0)
			return m;
	}
	return NULL;
}

const char *json_value_str(const struct json_value *v)
{
	if (v == NULL || v->type != JSON_STRING || memchr(v->text, '\0', v->len) != NULL)
		return NULL;
	return v->text;
}

int json_value_uint(const struct json_value *v, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;

	if (v == NULL || v->type != JSON_NUMBER || v->len == 0)
		return -1;
	for (size_t i = 0; i < v->len; i++) {
		unsigned digit;

		if (v->text[i] < '0' || v->text[i] > '9')
			return -1;
		digit = (unsigned)(v->text[i] - '0');
		if (n > (max - digit) / 10)
			return -1;
		n = n * 10 + digit;
	}
	*out = n;
	return 0;
}
