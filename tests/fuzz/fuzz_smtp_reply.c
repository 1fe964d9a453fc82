/* libFuzzer target: SMTP replies as the outbound client reads them
 * (smtp_reply_feed, one line per input line, then smtp_ehlo_parse and
 * smtp_reply_format). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	struct smtp_ehlo e;
	const char *p = (const char *)data, *end = p + size;
	char buf[600];

	smtp_reply_init(&r);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char *error = NULL;
		int k = smtp_reply_feed(&r, p, len, &error);

		if (k < 0 && error == NULL)
			abort();
		if (r.text_len >= SMTP_REPLY_TEXT_MAX || strlen(r.text) != r.text_len)
			abort();
		if (k != 0) {
			if (k == 1 && (r.code < 200 || r.code > 599))
				abort();
			smtp_ehlo_parse(&e, &r);
			smtp_reply_format(&r, buf, sizeof(buf));
			if (strlen(buf) >= sizeof(buf))
				abort();
			smtp_reply_init(&r);
		}
		p += len + (nl != NULL);
	}
	return 0;
}
