/* libFuzzer target: the MIME structure parser (mime_message_parse), then
 * BODY, BODYSTRUCTURE and ENVELOPE of every message in it, the decoded
 * text of every text part and RFC 2047 decoding of every header field.
 * Checks that every part lies inside the input and inside its parent, and
 * that the writers' parentheses balance outside strings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/header.h"
#include "mail/imap_envelope.h"
#include "mail/mime.h"
#include "mail/rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_part(const struct mime_message *msg, const struct mime_part *p,
		       size_t *count)
{
	struct strbuf text = STRBUF_INIT;

	for (; p != NULL; p = p->next) {
		(*count)++;
		if (p->header_offset + p->header_size != p->body_offset ||
		    p->body_offset + p->body_size > msg->size)
			abort();
		if (p->parent != NULL &&
		    (p->header_offset < p->parent->body_offset ||
		     p->body_offset + p->body_size > p->parent->body_offset + p->parent->body_size))
			abort();
		if (p->depth > 20)
			abort();
		strbuf_truncate(&text, 0);
		if (mime_part_text_decode(msg, p, &text) < 0 && text.len != 0)
			abort();
		check_part(msg, p->children, count);
	}
	strbuf_free(&text);
}

/* Skips IMAP strings and checks that parentheses balance. */
static void check_balanced(const struct strbuf *out)
{
	const char *s = strbuf_cstr(out);
	size_t i = 0, n = out->len;
	long depth = 0;

	while (i < n) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\')
					i++;
			}
			i++;
		} else if (s[i] == '{') {
			unsigned long len = strtoul(s + i + 1, NULL, 10);
			const char *end = strchr(s + i, '}');
			if (end == NULL || end[1] != '\r' || end[2] != '\n')
				abort();
			i = (size_t)(end - s) + 3 + len;
		} else {
			if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && --depth < 0)
				abort();
			i++;
		}
	}
	if (depth != 0 || i != n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mime_limits limits = { 20, 500 };
	struct mime_message *msg = NULL;
	struct strbuf out = STRBUF_INIT;
	struct mail_header_iter iter;
	struct mail_header_field f;
	const char *error = NULL;
	size_t count = 0;

	if (mime_message_parse((const char *)data, size, &limits, &msg, &error) < 0)
		abort();
	check_part(msg, msg->root, &count);
	if (count != msg->part_count || count > limits.max_parts)
		abort();
	imap_bodystructure_write(msg, msg->root, true, &out);
	check_balanced(&out);
	strbuf_truncate(&out, 0);
	imap_bodystructure_write(msg, msg->root, false, &out);
	check_balanced(&out);
	strbuf_truncate(&out, 0);
	imap_envelope_write(msg->data, msg->root->header_size, &out);
	check_balanced(&out);
	mail_header_iter_init(&iter, msg->data, msg->root->header_size);
	while (mail_header_iter_next(&iter, &f)) {
		strbuf_truncate(&out, 0);
		rfc2047_decode(f.value, f.value_len, &out);
	}
	strbuf_free(&out);
	mime_message_free(msg);
	return 0;
}
