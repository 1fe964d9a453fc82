/* libFuzzer target: the searchable text of a message (mail_text_extract,
 * mail_text_body, mail_text_html) under small limits. Checks the limits
 * hold, the cut text ends on a character boundary, the body SEARCH reads
 * is the body the index holds, and HTML reduction never grows the text
 * past a bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mail_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mail_text_limits limits = { 1024, 4096, 20, 500 };
	const char *msg = (const char *)data;
	struct strbuf body = STRBUF_INIT, html = STRBUF_INIT;
	struct mail_text t;
	bool cut;

	mail_text_init(&t);
	mail_text_extract(msg, size, &limits, &t);
	if (t.header.len > limits.max_header || t.body.len > limits.max_body)
		abort();
	if (t.body.len > 0 && ((unsigned char)t.body.data[t.body.len - 1] & 0xC0) == 0xC0 && t.truncated)
		abort();	/* cut after a UTF-8 lead byte */
	cut = mail_text_body(msg, size, &limits, limits.max_body, &body);
	if (body.len != t.body.len || (body.len > 0 && memcmp(body.data, t.body.data, body.len) != 0))
		abort();
	if (cut && !t.truncated)
		abort();
	mail_text_html(msg, size, &html);
	/* a character reference grows at most from 2 bytes ("&#0" without ';'
	 * is 3) to 3 (U+FFFD); everything else shrinks or stays */
	if (html.len > size * 3 / 2 + 3)
		abort();
	mail_text_fold(t.body.data, t.body.len);
	strbuf_free(&body);
	strbuf_free(&html);
	mail_text_free(&t);
	return 0;
}
