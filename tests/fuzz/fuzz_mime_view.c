/* libFuzzer target: the webmail's reading of a message (mail/mime_view.c):
 * the walk over the shown parts, each part found again by its id, its
 * decoded body, file name, Content-ID and download header. Checks that a
 * part found by id is the one walked, that names hold no path separator
 * or control byte, and that the header is ASCII and bounded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mime_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	const struct mime_message *msg;
	unsigned count;
};

static void seen(const struct mime_part *p, const char *id, enum mime_view_kind kind, void *arg)
{
	struct ctx *c = arg;
	struct strbuf b = STRBUF_INIT;
	char disp[320];

	if (mime_view_part_find(c->msg, id) != p)
		abort();
	c->count++;
	mime_view_body_decode(c->msg, p, &b);
	if (b.len > p->body_size)
		abort();
	strbuf_truncate(&b, 0);
	mime_view_filename(p, &b);
	for (size_t i = 0; i < b.len; i++) {
		unsigned char ch = (unsigned char)b.data[i];
		if (ch < 0x20 || ch == '/' || ch == '\\')
			abort();
	}
	mime_view_disposition(kind == MIME_VIEW_ATTACHMENT, strbuf_cstr(&b), "part", disp, sizeof(disp));
	if (strlen(disp) >= sizeof(disp))
		abort();
	for (const char *s = disp; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			abort();
	}
	strbuf_truncate(&b, 0);
	mime_view_content_id(p, &b);
	strbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits lim = { 20, 500 };
	struct mime_message *msg = NULL;
	const char *error = NULL;
	struct ctx c = { NULL, 0 };

	if (mime_message_parse((const char *)data, size, &lim, &msg, &error) < 0)
		abort();
	c.msg = msg;
	mime_view_walk(msg, seen, &c);
	if (c.count > msg->part_count)
		abort();
	(void)mime_view_part_find(msg, "1.1.1");
	mime_message_free(msg);
	return 0;
}
