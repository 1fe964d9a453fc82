/* libFuzzer target: the message composer (compose_message) and its reply
 * helpers. The input is split at NUL bytes into the draft's fields (flags,
 * display name, address, subject, text, HTML, file name, attachment);
 * a composed message must have only CRLF line ends and lines of at most
 * 998 bytes, parse back, and give back a UTF-8 subject as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/compose.h"
#include "mail/header.h"
#include "mail/mime.h"
#include "mail/rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The attachment (the root's last child) carries filename as it was. */
static void check_filename(const struct mime_message *msg, const char *filename)
{
	const struct mime_part *p = msg->root->children;

	if (!msg->root->is_multipart || p == NULL)
		abort();
	while (p->next != NULL)
		p = p->next;
	for (unsigned i = 0; i < p->disposition_param_count; i++) {
		if (strcmp(p->disposition_params[i].name, "filename") == 0 &&
		    strcmp(p->disposition_params[i].value, filename) != 0)
			abort();
	}
}

static void check(const struct strbuf *m, const char *subject, bool utf8, const char *filename)
{
	struct mime_limits lim = { 20, 200 };
	struct mime_message *msg = NULL;
	struct mail_header_field f;
	const char *error;
	size_t start = 0;

	for (size_t i = 0; i < m->len; i++) {
		if (m->data[i] == '\n') {
			if (i == 0 || m->data[i - 1] != '\r' || i - start > 999)
				abort();
			start = i + 1;
		} else if (m->data[i] == '\r' && (i + 1 == m->len || m->data[i + 1] != '\n')) {
			abort();
		}
	}
	if (mime_message_parse(m->data, m->len, &lim, &msg, &error) < 0)
		abort();
	if (filename != NULL && filename[0] != '\0')
		check_filename(msg, filename);
	mime_message_free(msg);
	if (!mail_header_find(m->data, m->len, "Subject", &f))
		abort();
	if (utf8 && subject[0] != '\0') {
		struct strbuf v = STRBUF_INIT;
		size_t n = strlen(subject);

		rfc2047_decode(f.value, f.value_len, &v);
		if (v.len == n && memcmp(v.data, subject, n) == 0) {
			strbuf_free(&v);
			return;
		}
		/* else sent as plain text: the decoder trims blanks at the ends */
		while (n > 0 && (subject[n - 1] == ' ' || subject[n - 1] == '\t'))
			n--;
		while (n > 0 && (*subject == ' ' || *subject == '\t')) {
			subject++;
			n--;
		}
		if (v.len != n || memcmp(v.data, subject, n) != 0)
			abort();
		strbuf_free(&v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *fields[8] = { 0 };
	struct compose_addr to;
	struct compose_part part;
	struct compose_draft d;
	struct compose_error err;
	struct strbuf m = STRBUF_INIT, s = STRBUF_INIT;
	size_t nf = 0;

	if (copy == NULL || size == 0) {
		free(copy);
		return 0;
	}
	memcpy(copy, data, size);
	copy[size] = '\0';
	fields[nf++] = copy;
	for (size_t i = 0; i < size && nf < 8; i++) {
		if (copy[i] == '\0')
			fields[nf++] = copy + i + 1;
	}
	for (size_t i = nf; i < 8; i++)
		fields[i] = "";
	memset(&d, 0, sizeof(d));
	to.name = fields[1];
	to.address = fields[2][0] != '\0' ? fields[2] : "to@example.test";
	d.from.name = fields[1];
	d.from.address = "me@example.test";
	d.to = &to;
	d.nto = 1;
	d.subject = fields[3];
	d.text = fields[4];
	d.html = fields[5];
	part.filename = fields[6];
	part.content_type = (copy[0] & 4) != 0 ? "message/rfc822" : "application/octet-stream";
	part.data = fields[7];
	part.len = strlen(fields[7]);
	d.parts = &part;
	d.nparts = (copy[0] & 8) != 0;
	d.charset = (copy[0] & 1) != 0 ? COMPOSE_ISO2022JP : COMPOSE_UTF8;
	d.flowed = (copy[0] & 2) != 0;
	d.message_id = "<x@y>";
	d.boundary_seed = "fuzz";
	d.date = (int64_t)size * 100000;
	if (compose_message(&d, &m, &err) == 0)
		check(&m, d.subject, d.charset == COMPOSE_UTF8, d.nparts > 0 ? part.filename : NULL);
	compose_reply_subject(&s, fields[3], (copy[0] & 16) != 0);
	compose_references(&s, fields[4], fields[5], fields[6]);
	compose_quote(&s, fields[1], fields[4], strlen(fields[4]));
	strbuf_free(&s);
	strbuf_free(&m);
	free(copy);
	return 0;
}
