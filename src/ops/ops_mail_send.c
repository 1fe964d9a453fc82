/* Drafts and sending for a mail user (ops_mail_write.h): a draft is composed
 * and appended to Drafts through the index IMAP uses (quota reserved like
 * APPEND); a message to send is composed and handed to the daemon's
 * submission path (o->mail_submit: the send-as rules, sending limits,
 * compromise detection, local delivery, the DKIM-signed queue file), then
 * copied into Sent, the original of a reply marked \Answered (a forward
 * $Forwarded) and the draft it came from removed. */
#include "ops/ops_mail_write_int.h"
#include "lib/str.h"
#include "store/quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Appends w->msg to folder with flags: the saved place into r. */
static int store_copy(struct ops_mail_work *w, const char *folder, uint32_t flags, struct ops_mail_saved *r,
		      struct ops_error *err)
{
	struct index_mailbox m;
	struct maildir_msg msg = { "", 0, w->msg.data, -1, w->msg.len };
	uint64_t quota = (uint64_t)w->account.quota_mb * 1024 * 1024;
	const char *error;

	if (mail_index_mailbox_get(w->idx, folder, &m) <= 0 &&
	    (mail_index_mailbox_create(w->idx, folder, &error) < 0 ||
	     mail_index_mailbox_get(w->idx, folder, &m) <= 0))
		return ops_fail(err, "internal", NULL, "the folder %s is unavailable", "フォルダー %s を利用できません",
				folder);
	if (!quota_reserve(w->root, w->msg.len, quota))
		return ops_fail(err, "mailbox_full", NULL,
				"the mailbox is full: delete mail or empty the Trash",
				"メールボックスがいっぱいです。メールを削除するか、ごみ箱を空にしてください");
	if (mail_index_append(w->idx, &m, &msg, flags, "", 0, &r->uid, &error) < 0) {
		quota_release(w->root, w->msg.len);
		return ops_fail(err, "internal", NULL, "cannot store the message: %s", "メッセージを保存できません: %s",
				error);
	}
	str_copy(r->folder, sizeof(r->folder), folder);
	r->uidvalidity = m.uidvalidity;
	r->size = w->msg.len;
	str_copy(r->message_id, sizeof(r->message_id), w->message_id);
	return 0;
}

/* Removes folder's message uid: 1 removed, 0 not there, -1 error. */
static int remove_uid(struct ops_mail_work *w, const char *folder, uint32_t uid)
{
	struct index_mailbox m;
	struct index_view v;
	int r;

	if (mail_index_mailbox_get(w->idx, folder, &m) <= 0 || mail_index_rows(w->idx, &m, &uid, 1, &v) < 0)
		return -1;
	r = v.count == 1 ? (mail_index_expunge(w->idx, &m, v.msgs, 1) < 0 ? -1 : 1) : 0;
	index_view_free(&v);
	return r;
}

/* Adds flag (and keyword kw, or NULL) to the message ref. */
static void mark(struct ops_mail_work *w, const struct ops_mail_ref *ref, uint32_t flag, const char *kw)
{
	struct index_mailbox m;
	struct index_view v;

	if (mail_index_mailbox_get(w->idx, ref->folder, &m) <= 0 || mail_index_rows(w->idx, &m, &ref->uid, 1, &v) < 0)
		return;
	if (v.count == 1) {
		char keywords[INDEX_KEYWORDS_MAX];
		const char *k = v.msgs[0].keywords;
		bool has = kw == NULL;

		for (const char *p = k; !has && (p = strstr(p, kw)) != NULL; p += strlen(kw))
			has = (p == k || p[-1] == ' ') && (p[strlen(kw)] == '\0' || p[strlen(kw)] == ' ');
		snprintf(keywords, sizeof(keywords), "%s%s%s", k, has || k[0] == '\0' ? "" : " ", has ? "" : kw);
		mail_index_set_flags(w->idx, &m, &v.msgs[0], v.msgs[0].flags | flag, keywords);
	}
	index_view_free(&v);
}

/* The uploads a stored message holds are removed: a draft or a sent
 * message took them over (their bytes are in the message, counted by the
 * quota like any other), so the upload area and its cap only ever hold
 * attachments no message has yet. */
static void uploads_handed_over(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d)
{
	struct ops_error ignored;

	for (size_t i = 0; i < d->natts; i++) {
		if (d->atts[i].kind == OPS_ATT_UPLOAD)
			ops_upload_del(o, actor, d->atts[i].upload, &ignored);
	}
}

int ops_mail_draft_save(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d,
			uint32_t old_uid, const struct ops_mail_env *env, struct ops_mail_saved *r,
			struct ops_error *err)
{
	struct ops_mail_work w;
	int ret = -1;

	memset(&w, 0, sizeof(w));
	memset(r, 0, sizeof(*r));
	if (ops_mail_build(o, actor, d, env, true, &w, err) < 0)
		goto out;
	if (old_uid != 0) {
		struct index_mailbox m;
		struct index_view v;
		bool there;

		if (mail_index_mailbox_get(w.idx, "Drafts", &m) <= 0 || mail_index_rows(w.idx, &m, &old_uid, 1, &v) < 0) {
			ops_fail(err, "not_found", "uid", "no such draft", "その下書きはありません");
			goto out;
		}
		there = v.count == 1;
		index_view_free(&v);
		if (!there) {
			ops_fail(err, "not_found", "uid", "no such draft", "その下書きはありません");
			goto out;
		}
	}
	if (store_copy(&w, "Drafts", INDEX_FLAG_DRAFT | INDEX_FLAG_SEEN, r, err) < 0)
		goto out;
	/* the new version is stored: the old one goes; when another save
	 * of the same version took it first, this one gives way */
	if (old_uid != 0 && remove_uid(&w, "Drafts", old_uid) == 0) {
		remove_uid(&w, "Drafts", r->uid);
		ops_fail(err, "conflict", "uid", "the draft was replaced meanwhile: read it again",
			 "下書きは別の保存で置き換えられました。読み直してください");
		goto out;
	}
	uploads_handed_over(o, actor, d);
	ret = 0;
out:
	ops_mail_work_free(&w);
	return ret;
}

int ops_mail_draft_del(struct ops *o, const struct ops_actor *actor, uint32_t uid, struct ops_error *err)
{
	struct ops_mail_work w;
	int r;

	memset(&w, 0, sizeof(w));
	if (ops_mail_account(o, actor, &w.account, w.root, sizeof(w.root), err) < 0)
		return -1;
	w.idx = mail_index_acquire(w.root, w.ixerr, sizeof(w.ixerr));
	if (w.idx == NULL)
		return ops_fail(err, "internal", NULL, "the mailbox is unavailable", "メールボックスを利用できません");
	r = remove_uid(&w, "Drafts", uid);
	ops_mail_work_free(&w);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "the draft cannot be removed", "下書きを削除できません");
	if (r == 0)
		return ops_fail(err, "not_found", "uid", "no such draft", "その下書きはありません");
	return 0;
}

/* Every recipient once (To, Cc, Bcc; addresses compared in any case). */
static size_t rcpts_collect(const struct ops_mail_draft *d, const char **out, size_t max)
{
	const struct ops_mail_addr *lists[3] = { d->to, d->cc, d->bcc };
	size_t counts[3] = { d->nto, d->ncc, d->nbcc }, n = 0;

	for (int l = 0; l < 3; l++) {
		for (size_t i = 0; i < counts[l] && n < max; i++) {
			bool dup = false;

			for (size_t k = 0; k < n && !dup; k++)
				dup = strcasecmp(out[k], lists[l][i].address) == 0;
			if (!dup)
				out[n++] = lists[l][i].address;
		}
	}
	return n;
}

static int submit_error(const struct ops_submit_result *s, struct ops_error *err)
{
	switch (s->status) {
	case OPS_SUBMIT_SENDER:
		return ops_fail(err, "forbidden", "from", "%s", "%s", s->text);
	case OPS_SUBMIT_LIMIT:
		return ops_fail(err, "rate_limited", NULL, "%s", "%s", s->text);
	case OPS_SUBMIT_SUSPENDED:
		return ops_fail(err, "suspended", NULL, "%s", "%s", s->text);
	case OPS_SUBMIT_RCPT:
		return ops_fail(err, "recipient_refused", "to", "<%s>: %s", "<%s>: %s", s->rcpt, s->text);
	case OPS_SUBMIT_VIRUS:
		return ops_fail(err, "virus_found", "attachments", "%s", "%s", s->text);
	case OPS_SUBMIT_TOO_BIG:
		return ops_fail(err, "too_large", NULL, "%s", "%s", s->text);
	default:
		return ops_fail(err, "unavailable", NULL, "%s", "%s",
				s->text[0] != '\0' ? s->text : "a local error: try again later");
	}
}

int ops_mail_send(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d,
		  const struct ops_mail_env *env, struct ops_mail_sent *r, struct ops_error *err)
{
	const char *rcpts[3 * COMPOSE_ADDRS_MAX];
	struct ops_submit in;
	struct ops_submit_result res;
	struct ops_mail_work w;
	struct ops_error ignored;
	int ret = -1;

	memset(&w, 0, sizeof(w));
	memset(r, 0, sizeof(*r));
	memset(&res, 0, sizeof(res));
	if (ops_mail_build(o, actor, d, env, false, &w, err) < 0)
		goto out;
	if (o->mail_submit == NULL) {
		ops_fail(err, "unavailable", NULL, "sending is not available here", "ここでは送信できません");
		goto out;
	}
	in.login = actor->name;
	in.ip = actor->ip;
	in.from = w.from;
	in.rcpts = rcpts;
	in.nrcpts = rcpts_collect(d, rcpts, sizeof(rcpts) / sizeof(rcpts[0]));
	in.msg = w.msg.data;
	in.len = w.msg.len;
	if (o->mail_submit(o, &in, &res) < 0 || res.status != OPS_SUBMIT_OK) {
		submit_error(&res, err);
		goto out;
	}
	str_copy(r->message_id, sizeof(r->message_id), w.message_id);
	str_copy(r->queue_id, sizeof(r->queue_id), res.queue_id);
	/* sent: what follows is bookkeeping and never fails the send */
	r->has_sent = store_copy(&w, "Sent", INDEX_FLAG_SEEN, &r->sent, &ignored) == 0;
	if (d->has_reply)
		mark(&w, &d->reply, INDEX_FLAG_ANSWERED, NULL);
	if (d->forward != OPS_FORWARD_NONE)
		mark(&w, &d->fwd, 0, "$Forwarded");
	if (d->draft_uid != 0)
		r->draft_removed = remove_uid(&w, "Drafts", d->draft_uid) == 1;
	ops_mail_note_sent(o, actor, d);
	uploads_handed_over(o, actor, d);
	ret = 0;
out:
	ops_mail_work_free(&w);
	return ret;
}
