/* Reading a stored message back for writing (ops_mail_write.h): a draft as the
 * MailDraft it was saved from (GET /mail/drafts/{uid}), and a reply or a
 * forward prefilled from the original (GET /mail/compose): addresses and
 * subject decoded, the first text/plain and text/html parts, the other
 * leaf parts as attachments named by their IMAP section. */
#include "ops/ops_mail_write_int.h"
#include "lib/str.h"
#include "mail/header.h"
#include "mail/imap_envelope.h"
#include "mail/mime.h"
#include "mail/rfc2047.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ops_mail_view_free(struct ops_mail_view *v)
{
	if (v == NULL)
		return;
	strbuf_free(&v->text);
	strbuf_free(&v->html);
	strbuf_free(&v->subject);
	strbuf_free(&v->date);
	free(v->from);
	free(v->reply_to);
	free(v->to);
	free(v->cc);
	free(v->bcc);
	free(v->parts);
	memset(v, 0, sizeof(*v));
}

struct addr_list {
	struct ops_mail_addr **list;
	size_t *n;
	int group;
};

static bool addr_cb(const struct imap_address *a, void *ctx)
{
	struct addr_list *l = ctx;
	struct ops_mail_addr *grown, *e;
	struct strbuf name = STRBUF_INIT;

	if (a->group_start || a->group_end || a->mailbox == NULL || a->host == NULL)
		return true;
	if (*l->n >= COMPOSE_ADDRS_MAX)
		return false;
	grown = realloc(*l->list, (*l->n + 1) * sizeof(**l->list));
	if (grown == NULL)
		return false;
	*l->list = grown;
	e = &grown[(*l->n)++];
	if (a->name != NULL)
		rfc2047_decode(a->name, strlen(a->name), &name);
	str_copy(e->name, sizeof(e->name), strbuf_cstr(&name));
	snprintf(e->address, sizeof(e->address), "%s@%s", a->mailbox, a->host);
	strbuf_free(&name);
	return true;
}

static void header_addrs(const char *head, size_t hlen, const char *field, struct ops_mail_addr **list, size_t *n)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	struct addr_list l = { list, n, 0 };

	mail_header_iter_init(&it, head, hlen);
	while (mail_header_iter_next(&it, &f)) {
		if (mail_header_field_is(&f, field))
			imap_address_list_each(f.value, f.value_len, addr_cb, &l);
	}
}

/* format=flowed text back to lines: soft breaks joined, stuffing removed. */
static void unflow(struct strbuf *t)
{
	struct strbuf out = STRBUF_INIT;
	size_t i = 0;

	while (i < t->len) {
		const char *nl = memchr(t->data + i, '\n', t->len - i);
		size_t end = nl != NULL ? (size_t)(nl - t->data) : t->len;
		size_t body = end > i && t->data[end - 1] == '\r' ? end - 1 : end;
		size_t s = i < body && t->data[i] == ' ' ? i + 1 : i;

		strbuf_append(&out, t->data + s, body - s);
		if (nl != NULL && !(body > s && t->data[body - 1] == ' ' && !(body - s == 3 && memcmp(t->data + s, "-- ", 3) == 0)))
			strbuf_append_c(&out, '\n');
		i = end + (nl != NULL);
	}
	strbuf_free(t);
	*t = out;
}

/* CRLF to LF. */
static void lf(struct strbuf *t)
{
	size_t o = 0;

	for (size_t i = 0; i < t->len; i++) {
		if (t->data[i] == '\r' && i + 1 < t->len && t->data[i + 1] == '\n')
			continue;
		t->data[o++] = t->data[i];
	}
	strbuf_truncate(t, o);
}

static bool is_attachment(const struct mime_part *p)
{
	if (p->disposition != NULL && strcmp(p->disposition, "attachment") == 0)
		return true;
	return strcmp(p->type, "text") != 0 || (strcmp(p->subtype, "plain") != 0 && strcmp(p->subtype, "html") != 0);
}

static const char *part_name(const struct mime_part *p)
{
	for (unsigned i = 0; i < p->disposition_param_count; i++) {
		if (strcmp(p->disposition_params[i].name, "filename") == 0)
			return p->disposition_params[i].value;
	}
	return mime_part_param(p, "name");
}

/* The leaves of p (section prefix sec): text, HTML, attachments. */
static void walk(const struct mime_message *msg, const struct mime_part *p, const char *sec, struct ops_mail_view *v)
{
	if (p->is_multipart) {
		unsigned n = 1;

		for (const struct mime_part *c = p->children; c != NULL; c = c->next, n++) {
			char sub[40];

			snprintf(sub, sizeof(sub), "%s%s%u", sec, sec[0] != '\0' ? "." : "", n);
			if (strlen(sub) < sizeof(v->parts[0].part))
				walk(msg, c, sub, v);
		}
		return;
	}
	if (!is_attachment(p) && strcmp(p->subtype, "plain") == 0 && !v->has_text) {
		const char *fmt = mime_part_param(p, "format");

		mime_part_text_decode(msg, p, &v->text);
		if (fmt != NULL && strcasecmp(fmt, "flowed") == 0)
			unflow(&v->text);
		lf(&v->text);
		v->has_text = true;
		v->iso2022jp = strcasecmp(mime_part_charset(p), "iso-2022-jp") == 0;
		return;
	}
	if (!is_attachment(p) && strcmp(p->subtype, "html") == 0 && !v->has_html) {
		mime_part_text_decode(msg, p, &v->html);
		lf(&v->html);
		v->has_html = true;
		return;
	}
	if (v->nparts < COMPOSE_PARTS_MAX) {
		struct ops_mail_part_info *grown = realloc(v->parts, (v->nparts + 1) * sizeof(*v->parts));
		struct strbuf name = STRBUF_INIT;
		const char *fn = part_name(p);

		if (grown == NULL)
			return;
		v->parts = grown;
		grown += v->nparts++;
		str_copy(grown->part, sizeof(grown->part), sec[0] != '\0' ? sec : "1");
		if (fn != NULL)
			rfc2047_decode(fn, strlen(fn), &name);
		str_copy(grown->filename, sizeof(grown->filename), name.len > 0 ? name.data : "attachment");
		snprintf(grown->content_type, sizeof(grown->content_type), "%s/%s", p->type, p->subtype);
		grown->size = strcasecmp(p->encoding, "base64") == 0 ? p->body_size / 4 * 3 : p->body_size;
		strbuf_free(&name);
	}
}

int ops_mail_view(struct ops *o, const struct ops_actor *actor, const struct ops_mail_ref *ref,
		  const struct ops_mail_env *env, struct ops_mail_view *v, struct ops_error *err)
{
	struct mime_limits lim = { 50, 5000 };
	struct mime_message *msg = NULL;
	struct mail_header_field f;
	struct index_mailbox m;
	struct ops_mail_work w;
	const char *error;
	char *data = NULL;
	size_t len, hlen;
	int r = -1;

	memset(v, 0, sizeof(*v));
	memset(&w, 0, sizeof(w));
	if (ops_mail_account(o, actor, &w.account, w.root, sizeof(w.root), err) < 0)
		return -1;
	w.idx = mail_index_acquire(w.root, w.ixerr, sizeof(w.ixerr));
	if (w.idx == NULL) {
		ops_fail(err, "internal", NULL, "the mailbox is unavailable", "メールボックスを利用できません");
		goto out;
	}
	if (ops_mail_load(&w, ref, env->max_size * 2, &data, &len, &m, NULL, "uid", err) < 0)
		goto out;
	hlen = mail_header_block_size(data, len);
	header_addrs(data, hlen, "from", &v->from, &v->nfrom);
	header_addrs(data, hlen, "reply-to", &v->reply_to, &v->nreply_to);
	header_addrs(data, hlen, "to", &v->to, &v->nto);
	header_addrs(data, hlen, "cc", &v->cc, &v->ncc);
	header_addrs(data, hlen, "bcc", &v->bcc, &v->nbcc);
	if (mail_header_find(data, hlen, "Subject", &f))
		rfc2047_decode(f.value, f.value_len, &v->subject);
	if (mail_header_find(data, hlen, "Date", &f))
		mail_header_unfold(f.value, f.value_len, &v->date);
	if (mail_header_find(data, hlen, "X-Yubin-Reply", &f))
		ops_mail_ref_parse(f.value, f.value_len, &v->reply, &v->has_reply, NULL);
	if (mail_header_find(data, hlen, "X-Yubin-Forward", &f))
		ops_mail_ref_parse(f.value, f.value_len, &v->fwd, NULL, &v->forward);
	if (mime_message_parse(data, len, &lim, &msg, &error) == 0)
		walk(msg, msg->root, "", v);
	mime_message_free(msg);
	r = 0;
out:
	free(data);
	if (r < 0)
		ops_mail_view_free(v);
	ops_mail_work_free(&w);
	return r;
}

/* ---- the draft's own context headers ---- */

void ops_mail_ref_header(struct strbuf *out, const char *name, const char *mode, const struct ops_mail_ref *ref)
{
	strbuf_printf(out, "%s: %s%s%u ", name, mode != NULL ? mode : "", mode != NULL ? " " : "", ref->uid);
	for (const unsigned char *p = (const unsigned char *)ref->folder; *p != '\0'; p++) {
		if (*p > 0x20 && *p < 0x7f && *p != '%')
			strbuf_append_c(out, (char)*p);
		else
			strbuf_printf(out, "%%%02X", *p);
	}
	strbuf_append_str(out, "\r\n");
}

void ops_mail_ref_parse(const char *value, size_t len, struct ops_mail_ref *ref, bool *has_reply,
			enum ops_forward_mode *mode)
{
	struct strbuf v = STRBUF_INIT;
	const char *s;
	char *end;
	unsigned long uid;
	size_t o = 0;

	mail_header_unfold(value, len, &v);
	s = strbuf_cstr(&v);
	if (mode != NULL) {
		if (strncmp(s, "inline ", 7) == 0)
			*mode = OPS_FORWARD_INLINE;
		else if (strncmp(s, "attachment ", 11) == 0)
			*mode = OPS_FORWARD_ATTACHMENT;
		else
			goto out;
		s = strchr(s, ' ') + 1;
	}
	uid = strtoul(s, &end, 10);
	if (uid == 0 || uid > UINT32_MAX || *end != ' ')
		goto bad;
	ref->uid = (uint32_t)uid;
	for (s = end + 1; *s != '\0' && o + 1 < sizeof(ref->folder); s++) {
		unsigned x;

		if (*s == '%' && sscanf(s + 1, "%2x", &x) == 1) {
			ref->folder[o++] = (char)x;
			s += 2;
		} else {
			ref->folder[o++] = *s;
		}
	}
	ref->folder[o] = '\0';
	if (has_reply != NULL)
		*has_reply = true;
	goto out;
bad:
	if (mode != NULL)
		*mode = OPS_FORWARD_NONE;
out:
	strbuf_free(&v);
}
