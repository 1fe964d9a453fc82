/* libFuzzer target: the strict JSON parser (lib/json_parse.c). An accepted
 * document has a root, every string it gives back is valid UTF-8 of the
 * stated length, and the depth and value limits hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json_parse.h"
#include "lib/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t check(const struct json_value *v, unsigned depth)
{
	size_t n = 1, members = 0;

	if (depth > 8)
		abort();
	if (v->type == JSON_STRING) {
		if (strlen(v->text) > v->len)
			abort();
		for (size_t i = 0; i < v->len;) {
			size_t c = v->text[i] == '\0' ? 1 : str_utf8_char_len(v->text + i, v->len - i);
			if (c == 0)
				abort();
			i += c;
		}
	}
	if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
		for (const struct json_value *m = v->child; m != NULL; m = m->next) {
			if ((v->type == JSON_OBJECT) != (m->name != NULL))
				abort();
			if (v->type == JSON_OBJECT && memchr(m->name, '\0', m->name_len) == NULL &&
			    json_member(v, m->name) == NULL)
				abort();
			n += check(m, depth + 1);
			members++;
		}
		if (members != v->count)
			abort();
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_limits lim = { 1 << 16, 8, 256 };
	const char *error = NULL;
	size_t offset = 0;
	struct json_doc *doc = json_parse((const char *)data, size, &lim, &error, &offset);

	if (doc == NULL) {
		if (error == NULL || offset > size)
			abort();
		return 0;
	}
	if (check(json_doc_root(doc), 0) > lim.max_values)
		abort();
	json_doc_free(doc);
	return 0;
}
