/* The MIME-dependent parts of FETCH and SEARCH: part sections
 * (BODY[1.2.MIME], BINARY[2]), ENVELOPE, BODY and BODYSTRUCTURE, and the
 * decoded text that SEARCH compares against. */
#include "server/imap_msgset.h"
#include "mail/header.h"
#include "mail/imap_envelope.h"
#include "mail/mime.h"
#include "mail/mime_decode.h"
#include "mail/rfc2047.h"
#include "mail/mail_text.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static const struct mime_limits imap_mime_limits = { 100, 10000 };

/* The part a section's part numbers name (RFC 3501 6.4.5), or NULL. */
static const struct mime_part *section_part(const struct mime_message *mm,
					    const struct imap_fetch_section *sec)
{
	const struct mime_part *part = mm->root;

	for (size_t i = 0; i < sec->nparts && part != NULL; i++) {
		uint32_t n = sec->parts[i];

		/* The parts of a message/rfc822 part are those of the message
		 * it holds. */
		if (i > 0 && part->is_message && part->children != NULL)
			part = part->children;
		if (part->is_multipart) {
			const struct mime_part *child = part->children;
			for (uint32_t k = 1; child != NULL && k < n; k++)
				child = child->next;
			part = child;
		} else if (n != 1 || strcmp(part->type, "multipart") == 0) {
			/* a multipart without a usable boundary has one empty
			 * part (see imap_envelope.c), as in Dovecot */
			part = NULL;
		}
	}
	return part;
}

static bool field_listed(const struct mail_header_field *f, const struct imap_fetch_section *sec)
{
	for (size_t i = 0; i < sec->nfields; i++) {
		if (strlen(sec->fields[i]) == f->name_len &&
		    strncasecmp(sec->fields[i], f->name, f->name_len) == 0)
			return true;
	}
	return false;
}

void imap_header_fields(const char *hdr, size_t size, const struct imap_fetch_section *sec,
			struct strbuf *out)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	bool not = sec->text == IMAP_SECTION_HEADER_FIELDS_NOT;

	mail_header_iter_init(&it, hdr, size);
	while (mail_header_iter_next(&it, &f)) {
		if (field_listed(&f, sec) != not)
			strbuf_append(out, hdr + f.offset, f.size);
	}
	strbuf_append(out, "\r\n", 2);
}

static void body_decoded(const char *msg, const struct mime_part *part, struct strbuf *out)
{
	const char *body = msg + part->body_offset;

	if (strcasecmp(part->encoding, "base64") == 0)
		mime_base64_decode(body, part->body_size, out);
	else if (strcasecmp(part->encoding, "quoted-printable") == 0)
		mime_qp_decode(body, part->body_size, out);
	else
		strbuf_append(out, body, part->body_size);
}

int imap_fetch_part(const char *msg, size_t len, const struct imap_fetch_section *sec, bool decode,
		    struct strbuf *out)
{
	struct mime_message *mm;
	const struct mime_part *part, *inner;
	const char *error;
	int ret = 0;

	if (mime_message_parse(msg, len, &imap_mime_limits, &mm, &error) < 0)
		return -1;
	part = section_part(mm, sec);
	if (part == NULL) {
		mime_message_free(mm);
		return -1;
	}
	switch (sec->text) {
	case IMAP_SECTION_NONE:
		if (decode)
			body_decoded(msg, part, out);
		else
			strbuf_append(out, msg + part->body_offset, part->body_size);
		break;
	case IMAP_SECTION_MIME:
		strbuf_append(out, msg + part->header_offset, part->header_size);
		break;
	case IMAP_SECTION_HEADER:
	case IMAP_SECTION_TEXT:
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		/* Only a message/rfc822 part has a header and text of its own. */
		inner = part->is_message ? part->children : NULL;
		if (inner == NULL) {
			ret = -1;
		} else if (sec->text == IMAP_SECTION_HEADER) {
			strbuf_append(out, msg + inner->header_offset, inner->header_size);
		} else if (sec->text == IMAP_SECTION_TEXT) {
			strbuf_append(out, msg + inner->body_offset, inner->body_size);
		} else {
			imap_header_fields(msg + inner->header_offset, inner->header_size, sec, out);
		}
		break;
	}
	mime_message_free(mm);
	return ret;
}

int imap_fetch_part_range(const char *msg, size_t len, const struct imap_fetch_section *sec, size_t *off_r,
			  size_t *len_r)
{
	const struct mime_part *part, *inner = NULL;
	struct mime_message *mm;
	const char *error;
	int ret = 0;

	if (sec->text == IMAP_SECTION_HEADER_FIELDS || sec->text == IMAP_SECTION_HEADER_FIELDS_NOT ||
	    mime_message_parse(msg, len, &imap_mime_limits, &mm, &error) < 0)
		return -1;
	part = section_part(mm, sec);
	if (part != NULL && part->is_message)
		inner = part->children;
	if (part == NULL)
		ret = -1;
	else if (sec->text == IMAP_SECTION_NONE)
		*off_r = part->body_offset, *len_r = part->body_size;
	else if (sec->text == IMAP_SECTION_MIME)
		*off_r = part->header_offset, *len_r = part->header_size;
	else if (inner == NULL)
		ret = -1;
	else if (sec->text == IMAP_SECTION_HEADER)
		*off_r = inner->header_offset, *len_r = inner->header_size;
	else
		*off_r = inner->body_offset, *len_r = inner->body_size;
	mime_message_free(mm);
	return ret;
}

void imap_fetch_structure(struct imap_session *s, enum imap_fetch_type type, const char *msg, size_t len)
{
	struct mime_message *mm;
	const char *error;

	if (type == IMAP_FETCH_ENVELOPE) {
		strbuf_append_str(&s->out, "ENVELOPE ");
		imap_envelope_write(msg, mail_header_block_size(msg, len), &s->out);
		return;
	}
	strbuf_append_str(&s->out, type == IMAP_FETCH_BODY ? "BODY " : "BODYSTRUCTURE ");
	if (mime_message_parse(msg, len, &imap_mime_limits, &mm, &error) < 0) {
		strbuf_append_str(&s->out, "NIL");
		return;
	}
	imap_bodystructure_write(mm, mm->root, type == IMAP_FETCH_BODYSTRUCTURE, &s->out);
	mime_message_free(mm);
}

void imap_header_decode(const char *value, size_t len, struct strbuf *out)
{
	rfc2047_decode(value, len, out);
}

void imap_message_text(const char *msg, size_t len, struct strbuf *out)
{
	const struct mail_text_limits limits = { SIZE_MAX, SIZE_MAX, MAIL_TEXT_MIME_DEPTH, MAIL_TEXT_MIME_PARTS };
	size_t hdr = mail_header_block_size(msg, len);

	rfc2047_decode(msg, hdr, out);
	strbuf_append_c(out, '\0');
	mail_text_body(msg, len, &limits, SIZE_MAX, out);
}
