/* libFuzzer target: the spam filter's header edits (spam/spam_tag.c) and
 * allow/block list patterns (spam/spam_list.c). Edits stay inside the
 * header, in order and apart; a message tagged once is not tagged again
 * and keeps no verdict field; an accepted pattern is lower case, bounded
 * and, when it is an address, matches itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spam/spam_list.h"
#include "spam/spam_tag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t edits(const char *msg, size_t len, enum spam_tag_mode mode, struct spam_edit **e_r)
{
	bool subject;
	size_t n = spam_tag_edits(msg, len, mode, NULL, 0, &subject);
	struct spam_edit *e = calloc(n + 1, sizeof(*e));

	if (e == NULL || spam_tag_edits(msg, len, mode, e, n, &subject) != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (e[i].offset + e[i].remove > len || (i > 0 && e[i].offset < e[i - 1].offset + e[i - 1].remove))
			abort();
	}
	*e_r = e;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	struct spam_edit *e, *e2;
	char *out = malloc(size + 64 * 16 + 1), norm[SPAM_LIST_PATTERN_MAX], *text;
	const char *error;
	size_t n, len, n2;

	if (out == NULL || size > 64 * 1024)
		goto done;
	n = edits(msg, size, SPAM_TAG_ADD, &e);
	if (n > 64) {
		free(e);
		goto done;
	}
	len = spam_tag_apply(msg, size, e, n, out);
	free(e);
	/* tagged and cleaned: a second pass has nothing to insert */
	n2 = edits(out, len, SPAM_TAG_ADD, &e2);
	for (size_t i = 0; i < n2; i++) {
		if (e2[i].insert != NULL)
			abort();
	}
	free(e2);
	n = edits(msg, size, SPAM_TAG_REMOVE, &e);
	free(e);
	/* the input as a list pattern */
	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) == size && spam_list_pattern_check(text, norm, sizeof(norm), &error) == 0) {
		if (strlen(norm) >= SPAM_LIST_PATTERN_MAX || (strchr(norm, '*') != NULL && norm[0] != '*'))
			abort();
		for (const char *p = norm; *p != '\0'; p++) {
			if (*p >= 'A' && *p <= 'Z')
				abort();
		}
		if (norm[0] != '*' && !spam_list_match(norm, norm))
			abort();
	}
	free(text);
done:
	free(out);
	return 0;
}
