/* From an API draft (struct ops_mail_draft) to a composed message: the
 * account, the attachments (uploads, parts of stored messages, a message
 * forwarded whole), the reply headers from the stored original
 * (ops_mail_write.h; the composer itself is mail/compose.c). */
#include "ops/ops_mail_write_int.h"
#include "lib/fsutil.h"
#include "lib/str.h"
#include "mail/header.h"
#include "mail/mime.h"
#include "mail/mime_decode.h"
#include "mail/rfc2047.h"
#include "store/maildir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int ops_mail_account(struct ops *o, const struct ops_actor *actor, struct dir_account *a_r,
		     char *root, size_t size, struct ops_error *err)
{
	int r;

	if (actor->kind != OPS_ACTOR_USER)
		return ops_fail(err, "forbidden", NULL, "only a mail user writes mail here",
				"メールを書けるのはメールユーザーだけです");
	r = directory_account_get(o->dir, actor->name, a_r);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "the directory is unavailable", "ディレクトリを利用できません");
	if (r == 0 || !a_r->enabled)
		return ops_fail(err, "forbidden", NULL, "the account is not usable", "このアカウントは使えません");
	if (maildir_path(root, size, o->data, a_r->domain, a_r->local) < 0)
		return ops_fail(err, "internal", NULL, "path too long", "パスが長すぎます");
	return 0;
}

void ops_mail_work_free(struct ops_mail_work *w)
{
	for (size_t i = 0; i < w->nparts; i++)
		free(w->bufs[i]);
	free(w->bufs);
	free(w->names);
	free(w->types);
	free(w->parts);
	free(w->to);
	free(w->cc);
	free(w->bcc);
	strbuf_free(&w->refs);
	strbuf_free(&w->irt);
	strbuf_free(&w->msg);
	strbuf_free(&w->extra);
	if (w->idx != NULL)
		mail_index_release(w->idx);
	memset(w, 0, sizeof(*w));
}

static int not_found(struct ops_error *err, const char *field)
{
	return ops_fail(err, "not_found", field, "no such message", "そのメッセージはありません");
}

/* The stored message ref->folder/uid read whole (at most max bytes) into
 * *data_r (free), its row into *row_r when not NULL. */
int ops_mail_load(struct ops_mail_work *w, const struct ops_mail_ref *ref, size_t max, char **data_r,
		  size_t *len_r, struct index_mailbox *m_r, struct index_msg *row_r, const char *field,
		  struct ops_error *err)
{
	struct index_view v;
	char path[PATH_MAX];

	if (mail_index_mailbox_get(w->idx, ref->folder, m_r) <= 0)
		return not_found(err, field);
	if (mail_index_rows(w->idx, m_r, &ref->uid, 1, &v) < 0)
		return ops_fail(err, "internal", NULL, "the mail index is unavailable", "メールの索引を利用できません");
	if (v.count != 1) {
		index_view_free(&v);
		return not_found(err, field);
	}
	if (row_r != NULL)
		*row_r = v.msgs[0];
	if (mail_index_msg_path(m_r, &v.msgs[0], path, sizeof(path)) < 0) {
		index_view_free(&v);
		return not_found(err, field);
	}
	index_view_free(&v);
	*data_r = fs_read_file(path, max, len_r);
	if (*data_r == NULL)
		return ops_fail(err, "too_large", field, "the message cannot be read or is too large",
				"メッセージを読めないか、大きすぎます");
	return 0;
}

/* The part at an IMAP section ("2", "1.3") of msg, or NULL. */
static const struct mime_part *section_find(const struct mime_message *msg, const char *section)
{
	const struct mime_part *cur = msg->root;
	const char *s = section;

	while (*s != '\0') {
		char *end;
		unsigned long n = strtoul(s, &end, 10);

		if (end == s || n == 0 || (*end != '.' && *end != '\0'))
			return NULL;
		if (cur->is_message && cur->children != NULL)
			cur = cur->children;
		if (cur->is_multipart) {
			cur = cur->children;
			while (cur != NULL && --n > 0)
				cur = cur->next;
			if (cur == NULL)
				return NULL;
		} else if (n != 1) {
			return NULL;
		}
		s = *end == '.' ? end + 1 : end;
	}
	return cur == msg->root ? NULL : cur;
}

/* A parameter's value with RFC 2047 words decoded (old clients' names). */
static void param_decoded(const char *value, char *out, size_t size)
{
	struct strbuf b = STRBUF_INIT;

	rfc2047_decode(value, strlen(value), &b);
	str_copy(out, size, strbuf_cstr(&b));
	strbuf_free(&b);
}

/* One part of a stored message as an attachment (decoded bytes). */
static int part_attach(struct ops_mail_work *w, const struct ops_mail_ref *ref, size_t max,
		       struct ops_error *err)
{
	struct mime_limits lim = { 50, 5000 };
	struct mime_message *msg = NULL;
	struct index_mailbox m;
	const struct mime_part *p;
	struct compose_part *cp = &w->parts[w->nparts];
	struct strbuf body = STRBUF_INIT;
	const char *error, *fn = NULL;
	char *data;
	size_t len;

	if (ops_mail_load(w, ref, max, &data, &len, &m, NULL, "attachments", err) < 0)
		return -1;
	if (mime_message_parse(data, len, &lim, &msg, &error) < 0 || (p = section_find(msg, ref->part)) == NULL) {
		mime_message_free(msg);
		free(data);
		return ops_fail(err, "not_found", "attachments", "no such part %s", "パート %s はありません", ref->part);
	}
	if (strcasecmp(p->encoding, "base64") == 0)
		mime_base64_decode(data + p->body_offset, p->body_size, &body);
	else if (strcasecmp(p->encoding, "quoted-printable") == 0)
		mime_qp_decode(data + p->body_offset, p->body_size, &body);
	else
		strbuf_append(&body, data + p->body_offset, p->body_size);
	for (unsigned i = 0; i < p->disposition_param_count && fn == NULL; i++) {
		if (strcmp(p->disposition_params[i].name, "filename") == 0)
			fn = p->disposition_params[i].value;
	}
	if (fn == NULL)
		fn = mime_part_param(p, "name");
	param_decoded(fn != NULL ? fn : "attachment", w->names[w->nparts], sizeof(w->names[0]));
	snprintf(w->types[w->nparts], sizeof(w->types[0]), "%s/%s", p->type, p->subtype);
	mime_message_free(msg);
	free(data);
	w->bufs[w->nparts] = body.data != NULL ? body.data : strdup("");
	cp->filename = w->names[w->nparts];
	cp->content_type = w->types[w->nparts];
	cp->data = w->bufs[w->nparts];
	cp->len = body.len;
	w->nparts++;
	return 0;
}

static int upload_attach(struct ops *o, const struct ops_actor *actor, struct ops_mail_work *w,
			 const char *id, struct ops_error *err)
{
	struct ops_upload u;
	struct compose_part *cp = &w->parts[w->nparts];

	if (ops_upload_read(o, actor, id, time(NULL), &u, err) < 0)
		return -1;
	str_copy(w->names[w->nparts], sizeof(w->names[0]), u.filename);
	str_copy(w->types[w->nparts], sizeof(w->types[0]), u.content_type);
	w->bufs[w->nparts] = u.data;
	cp->filename = w->names[w->nparts];
	cp->content_type = w->types[w->nparts];
	cp->data = u.data;
	cp->len = u.size;
	w->nparts++;
	return 0;
}

/* The message forwarded as a whole: a message/rfc822 part named after
 * its subject. */
static int forward_attach(struct ops_mail_work *w, const struct ops_mail_ref *ref, size_t max,
			  struct ops_error *err)
{
	struct compose_part *cp = &w->parts[w->nparts];
	struct mail_header_field f;
	struct index_mailbox m;
	char *data;
	size_t len;

	if (ops_mail_load(w, ref, max, &data, &len, &m, NULL, OPS_MAIL_FORWARD, err) < 0)
		return -1;
	str_copy(w->names[w->nparts], sizeof(w->names[0]), "forwarded message.eml");
	if (mail_header_find(data, len, "Subject", &f)) {
		struct strbuf s = STRBUF_INIT;

		rfc2047_decode(f.value, f.value_len, &s);
		if (s.len > 0 && s.len < 200) {
			strbuf_append_str(&s, ".eml");
			param_decoded(strbuf_cstr(&s), w->names[w->nparts], sizeof(w->names[0]));
		}
		strbuf_free(&s);
	}
	str_copy(w->types[w->nparts], sizeof(w->types[0]), "message/rfc822");
	w->bufs[w->nparts] = data;
	cp->filename = w->names[w->nparts];
	cp->content_type = w->types[w->nparts];
	cp->data = data;
	cp->len = len;
	w->nparts++;
	return 0;
}

/* In-Reply-To and References from the original (RFC 5322 3.6.4). */
static int reply_headers(struct ops_mail_work *w, const struct ops_mail_ref *ref, size_t max,
			 struct ops_error *err)
{
	struct mail_header_field f;
	struct index_mailbox m;
	struct strbuf mid = STRBUF_INIT, refs = STRBUF_INIT, irt = STRBUF_INIT;
	char *data;
	size_t len, hlen;

	if (ops_mail_load(w, ref, max, &data, &len, &m, NULL, "in_reply_to", err) < 0)
		return -1;
	hlen = mail_header_block_size(data, len);
	if (mail_header_find(data, hlen, "Message-ID", &f))
		mail_header_unfold(f.value, f.value_len, &mid);
	if (mail_header_find(data, hlen, "References", &f))
		mail_header_unfold(f.value, f.value_len, &refs);
	if (mail_header_find(data, hlen, "In-Reply-To", &f))
		mail_header_unfold(f.value, f.value_len, &irt);
	free(data);
	compose_references(&w->refs, strbuf_cstr(&refs), strbuf_cstr(&irt), strbuf_cstr(&mid));
	compose_references(&w->irt, NULL, NULL, strbuf_cstr(&mid));	/* its one <id> */
	strbuf_free(&mid);
	strbuf_free(&refs);
	strbuf_free(&irt);
	return 0;
}

static struct compose_addr *addrs_of(const struct ops_mail_addr *in, size_t n)
{
	struct compose_addr *out = calloc(n > 0 ? n : 1, sizeof(*out));

	for (size_t i = 0; out != NULL && i < n; i++) {
		out[i].name = in[i].name;
		out[i].address = in[i].address;
	}
	return out;
}

int ops_mail_build(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d,
		   const struct ops_mail_env *env, bool draft, struct ops_mail_work *w, struct ops_error *err)
{
	struct compose_draft c;
	struct compose_error cerr;
	struct tm tm;
	time_t now = time(NULL);
	char rnd[21];
	size_t natt = d->natts + (d->forward == OPS_FORWARD_ATTACHMENT);

	memset(&c, 0, sizeof(c));
	if (ops_mail_account(o, actor, &w->account, w->root, sizeof(w->root), err) < 0)
		return -1;
	if (natt > COMPOSE_PARTS_MAX)
		return ops_fail(err, "too_many", "attachments", "at most %d attachments", "添付は %d 個までです",
				COMPOSE_PARTS_MAX);
	w->idx = mail_index_acquire(w->root, w->ixerr, sizeof(w->ixerr));
	w->parts = calloc(natt > 0 ? natt : 1, sizeof(*w->parts));
	w->bufs = calloc(natt > 0 ? natt : 1, sizeof(*w->bufs));
	w->names = calloc(natt > 0 ? natt : 1, sizeof(*w->names));
	w->types = calloc(natt > 0 ? natt : 1, sizeof(*w->types));
	w->to = addrs_of(d->to, d->nto);
	w->cc = addrs_of(d->cc, d->ncc);
	w->bcc = addrs_of(d->bcc, d->nbcc);
	if (w->idx == NULL || w->parts == NULL || w->bufs == NULL || w->names == NULL || w->types == NULL ||
	    w->to == NULL || w->cc == NULL || w->bcc == NULL)
		return ops_fail(err, "internal", NULL, "the mailbox is unavailable", "メールボックスを利用できません");
	for (size_t i = 0; i < d->natts; i++) {
		if ((d->atts[i].kind == OPS_ATT_UPLOAD ? upload_attach(o, actor, w, d->atts[i].upload, err)
		     : part_attach(w, &d->atts[i].ref, env->max_size, err)) < 0)
			return -1;
	}
	/* a draft keeps only the reference (X-Yubin-Forward): attached when sent */
	if (d->forward == OPS_FORWARD_ATTACHMENT && !draft && forward_attach(w, &d->fwd, env->max_size, err) < 0)
		return -1;
	if (d->has_reply && reply_headers(w, &d->reply, env->max_size, err) < 0)
		return -1;
	str_copy(w->from, sizeof(w->from), d->from[0] != '\0' ? d->from : actor->name);
	str_random_id(rnd, sizeof(rnd));
	snprintf(w->message_id, sizeof(w->message_id), "<%s.%lld@%s>", rnd, (long long)now, env->host);
	str_random_id(w->seed, sizeof(w->seed));
	localtime_r(&now, &tm);
	c.from.name = d->from_name;
	c.from.address = w->from;
	c.to = w->to;
	c.nto = d->nto;
	c.cc = w->cc;
	c.ncc = d->ncc;
	c.bcc = w->bcc;
	c.nbcc = d->nbcc;
	c.subject = d->subject;
	c.text = d->text;
	c.html = d->html;
	c.parts = w->parts;
	c.nparts = w->nparts;
	c.in_reply_to = w->irt.len > 0 ? w->irt.data : NULL;
	c.references = w->refs.len > 0 ? w->refs.data : NULL;
	c.date = now;
	c.tz_minutes = (int)(tm.tm_gmtoff / 60);
	c.message_id = w->message_id;
	c.boundary_seed = w->seed;
	c.charset = d->charset;
	c.flowed = d->flowed;
	c.keep_bcc = draft;
	if (draft && d->has_reply)
		ops_mail_ref_header(&w->extra, "X-Yubin-Reply", NULL, &d->reply);
	if (draft && d->forward != OPS_FORWARD_NONE)
		ops_mail_ref_header(&w->extra, "X-Yubin-Forward", d->forward == OPS_FORWARD_INLINE ? "inline" : "attachment",
				    &d->fwd);
	c.extra_headers = w->extra.len > 0 ? w->extra.data : NULL;
	if (compose_message(&c, &w->msg, &cerr) < 0)
		return ops_fail(err, cerr.code, cerr.field, "%s", "%s", cerr.text);
	if (w->msg.len > env->max_size)
		return ops_fail(err, "too_large", NULL, "the message is larger than %llu bytes",
				"メッセージが %llu バイトを超えています", (unsigned long long)env->max_size);
	return 0;
}
