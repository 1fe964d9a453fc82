/* STORE (with CONDSTORE UNCHANGEDSINCE), COPY, MOVE (RFC 6851) and
 * UID EXPUNGE (RFC 4315). */
#include "server/imap_session.h"
#include "server/imap_msgset.h"
#include "server/spam_learn.h"
#include "proto/imap_store.h"
#include "store/quota.h"
#include "lib/str.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool keyword_in(const char *list, const char *kw)
{
	size_t len = strlen(kw);

	for (const char *p = list; *p != '\0';) {
		const char *sp = strchr(p, ' ');
		size_t l = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (l == len && strncasecmp(p, kw, len) == 0)
			return true;
		p += l;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* New keyword list for a STORE operation. */
static void keywords_apply(const char *cur, const struct imap_store *st, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	if (st->op != IMAP_STORE_SET) {
		for (const char *p = cur; *p != '\0';) {
			const char *sp = strchr(p, ' ');
			size_t l = sp != NULL ? (size_t)(sp - p) : strlen(p);
			char kw[INDEX_KEYWORDS_MAX];
			bool drop = false;

			str_copyn(kw, sizeof(kw), p, l);
			if (st->op == IMAP_STORE_REMOVE) {
				for (size_t i = 0; i < st->flags.nkeywords; i++)
					drop |= strcasecmp(st->flags.keywords[i], kw) == 0;
			}
			if (!drop && l > 0 && o + l + 2 <= size)
				o += (size_t)snprintf(out + o, size - o, "%s%s", o > 0 ? " " : "", kw);
			p += l;
			while (*p == ' ')
				p++;
		}
	}
	if (st->op == IMAP_STORE_REMOVE)
		return;
	for (size_t i = 0; i < st->flags.nkeywords; i++) {
		const char *kw = st->flags.keywords[i];
		if (keyword_in(out, kw) || o + strlen(kw) + 2 > size)
			continue;
		o += (size_t)snprintf(out + o, size - o, "%s%s", o > 0 ? " " : "", kw);
	}
}

/* The untagged replies of a STORE, in the order asked: pos[i] is the
 * message's change in changes (made or not), SIZE_MAX - 1 for a message
 * left as it was, SIZE_MAX for one not reported. */
static void store_replies(struct imap_session *s, const struct imap_command *cmd, const struct imap_store *st,
			  const struct index_view *v, const size_t *idx, size_t n,
			  const struct index_flag_change *changes, const size_t *pos, size_t nch)
{
	for (size_t i = 0; i < n; i++) {
		const struct index_msg *m;

		if (pos[i] == SIZE_MAX || (pos[i] < nch && changes[pos[i]].result < 0))
			continue;
		m = pos[i] < nch ? changes[pos[i]].msg : imap_index_find(v, s->view[idx[i]].uid);
		s->view[idx[i]].flags = m->flags;
		s->view[idx[i]].modseq = m->modseq;
		imap_keywords_check(s, m->keywords);
		if (st->silent && !st->has_unchangedsince)
			continue;
		strbuf_printf(&s->out, "* %zu FETCH (", idx[i] + 1);
		if (!st->silent) {
			strbuf_append_str(&s->out, "FLAGS ");
			imap_out_flags(s, m->flags, m->keywords, s->view[idx[i]].recent);
		}
		if (s->enabled_condstore)
			strbuf_printf(&s->out, "%sMODSEQ (%llu)", st->silent ? "" : " ",
				      (unsigned long long)m->modseq);
		/* with QRESYNC every FETCH response names its UID (RFC 7162 3.2.4) */
		if (cmd->uid || s->enabled_qresync)
			strbuf_printf(&s->out, " UID %u", m->uid);
		strbuf_append(&s->out, ")\r\n", 3);
	}
}

void imap_cmd_store(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_store st;
	struct index_view v;
	const char *error;
	size_t *idx, n;
	uint32_t *modified = NULL;
	struct index_flag_change *changes = NULL;
	size_t *pos = NULL;
	size_t nmod = 0, nch = 0;

	if (cmd->count < 3) {
		imap_tagged(s, cmd, "BAD", "Syntax: STORE set item value");
		return;
	}
	if (imap_store_parse(cmd->args + 1, cmd->count - 1, imap_parser_arena(s->parser), &st, &error) < 0) {
		imap_tagged(s, cmd, "BAD", "%s", error);
		return;
	}
	if (s->readonly) {
		imap_tagged(s, cmd, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	if (imap_msgs_prepare(s, cmd, &cmd->args[0], cmd->uid, cmd->uid, &v, &idx, &n) < 0)
		return;
	if (st.has_unchangedsince)
		imap_condstore_enable(s, v.highestmodseq);
	modified = calloc(n > 0 ? n : 1, sizeof(*modified));
	changes = calloc(n > 0 ? n : 1, sizeof(*changes));
	pos = calloc(n > 0 ? n : 1, sizeof(*pos));
	if (modified == NULL || changes == NULL || pos == NULL) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		goto out;
	}
	/* 1. what changes: all of it made at once, one index transaction */
	for (size_t i = 0; i < n; i++) {
		struct index_msg *m = (struct index_msg *)imap_index_find(&v, s->view[idx[i]].uid);
		char keywords[INDEX_KEYWORDS_MAX];
		uint32_t flags;

		pos[i] = SIZE_MAX;
		if (m == NULL)
			continue;
		if (st.has_unchangedsince && m->modseq > st.unchangedsince) {
			modified[nmod++] = cmd->uid ? m->uid : (uint32_t)(idx[i] + 1);
			continue;
		}
		flags = st.op == IMAP_STORE_SET ? st.flags.system
			: st.op == IMAP_STORE_ADD ? m->flags | st.flags.system
			: m->flags & ~st.flags.system;
		flags &= ~IMAP_FLAG_RECENT;
		keywords_apply(m->keywords, &st, keywords, sizeof(keywords));
		pos[i] = SIZE_MAX - 1;	/* unchanged, reported */
		if (flags != m->flags || strcmp(keywords, m->keywords) != 0) {
			struct index_flag_change *c = &changes[nch];

			c->msg = m;
			c->flags = flags;
			c->keywords = strcmp(keywords, m->keywords) != 0 ? strdup(keywords) : NULL;
			if (c->keywords == NULL && strcmp(keywords, m->keywords) != 0)
				continue;
			pos[i] = nch++;
		}
	}
	mail_index_set_flags_many(s->idx, &s->mbox, changes, nch);
	store_replies(s, cmd, &st, &v, idx, n, changes, pos, nch);
	if (nmod > 0) {
		strbuf_printf(&s->out, "%s OK [MODIFIED ", cmd->tag);
		imap_uidset_append(&s->out, modified, nmod);
		strbuf_append_str(&s->out, "] Conditional STORE failed for some messages\r\n");
	} else {
		imap_tagged(s, cmd, "OK", "%sSTORE completed", cmd->uid ? "UID " : "");
	}
out:
	for (size_t i = 0; changes != NULL && i < nch; i++)
		free((char *)changes[i].keywords);
	free(changes);
	free(pos);
	free(modified);
	free(idx);
	index_view_free(&v);
}

/* A batch of messages to learn from when the copy or move goes into or
 * out of Junk (server/spam_learn.h), else NULL. */
static struct spam_learn *imap_learn_begin(const struct imap_session *s, const struct index_mailbox *dst)
{
	int direction = spam_learn_direction(s->mbox.name, s->mbox.special_use, dst->name, dst->special_use);

	return direction != 0 ? spam_learn_new(s->sid, s->user, direction) : NULL;
}

/* Copies (moves) the messages at view positions idx into dst, all in one
 * go (mail_index_copy_many); src_uids and dst_uids get the UIDs of those
 * done, *bytes loses their sizes for a copy. How many were done. */
static size_t copy_msgs(struct imap_session *s, const struct index_view *v, const size_t *idx, size_t n,
			struct index_mailbox *dst, bool move, uint32_t *src_uids, uint32_t *dst_uids,
			uint64_t *bytes, const char **error_r)
{
	const struct index_msg **msgs = calloc(n > 0 ? n : 1, sizeof(*msgs));
	int *lis = calloc(n > 0 ? n : 1, sizeof(*lis));	/* each one's place in the learning batch */
	struct spam_learn *learn = imap_learn_begin(s, dst);
	size_t nmsgs = 0, done = 0;
	char path[PATH_MAX];

	for (size_t i = 0; msgs != NULL && lis != NULL && i < n; i++) {
		const struct index_msg *m = imap_index_find(v, s->view[idx[i]].uid);

		if (m == NULL)
			continue;
		lis[nmsgs] = -1;
		if (learn != NULL && mail_index_msg_path(&s->mbox, m, path, sizeof(path)) == 0)
			lis[nmsgs] = spam_learn_add(learn, path);	/* read before a move renames it */
		msgs[nmsgs++] = m;
	}
	if (msgs == NULL || lis == NULL)
		*error_r = "[SERVERBUG] Out of memory";
	else if (nmsgs > 0)
		done = mail_index_copy_many(s->idx, &s->mbox, msgs, nmsgs, dst, move, dst_uids, error_r);
	for (size_t i = 0; i < nmsgs; i++) {
		if (i >= done) {
			spam_learn_drop(learn, lis[i]);
			continue;
		}
		if (!move)
			*bytes -= msgs[i]->size;
		src_uids[i] = msgs[i]->uid;
	}
	spam_learn_submit(learn);	/* trains on a worker of its own */
	free(msgs);
	free(lis);
	return done;
}

static void imap_copy_move(struct imap_session *s, const struct imap_command *cmd, bool move)
{
	const char *name = cmd->count == 2 ? imap_mailbox_name(s, imap_arg_astring(&cmd->args[1])) : NULL;
	const char *error = NULL;
	struct index_mailbox dst;
	struct index_view v;
	uint32_t *src_uids, *dst_uids;
	size_t *idx, n, done = 0;
	uint64_t bytes = 0;

	if (name == NULL && cmd->count == 2 && imap_mailbox_refuse(s, cmd, imap_arg_astring(&cmd->args[1])))
		return;
	if (name == NULL) {
		imap_tagged(s, cmd, "BAD", "Syntax: %s set mailbox", cmd->name);
		return;
	}
	if (move && s->readonly) {
		imap_tagged(s, cmd, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	if (mail_index_mailbox_get(s->idx, name, &dst) <= 0) {
		imap_tagged(s, cmd, "NO", "[TRYCREATE] No such mailbox");
		return;
	}
	if (imap_msgs_prepare(s, cmd, &cmd->args[0], cmd->uid, cmd->uid, &v, &idx, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct index_msg *m = imap_index_find(&v, s->view[idx[i]].uid);
		if (m != NULL)
			bytes += m->size;
	}
	if (!move && !quota_reserve(s->root, bytes, s->quota_bytes)) {
		free(idx);
		index_view_free(&v);
		imap_tagged(s, cmd, "NO", "[OVERQUOTA] The mailbox is full: delete mail or empty the Trash");
		return;
	}
	src_uids = calloc(n > 0 ? n : 1, sizeof(*src_uids));
	dst_uids = calloc(n > 0 ? n : 1, sizeof(*dst_uids));
	if (src_uids == NULL || dst_uids == NULL)
		error = "[SERVERBUG] Out of memory";
	else
		done = copy_msgs(s, &v, idx, n, &dst, move, src_uids, dst_uids, &bytes, &error);
	if (!move && bytes > 0)
		quota_release(s->root, bytes);	/* what was not copied */
	if (done > 0 && move) {
		strbuf_printf(&s->out, "* OK [COPYUID %u ", dst.uidvalidity);
		imap_uidset_append(&s->out, src_uids, done);
		strbuf_append_c(&s->out, ' ');
		imap_uidset_append(&s->out, dst_uids, done);
		strbuf_append_str(&s->out, "] Moved\r\n");
		imap_view_sync(s, true);
	}
	if (done < n && error != NULL) {
		imap_tagged(s, cmd, "NO", "%s", error);
	} else if (move) {
		imap_tagged(s, cmd, "OK", "%sMOVE completed", cmd->uid ? "UID " : "");
	} else if (done > 0) {
		strbuf_printf(&s->out, "%s OK [COPYUID %u ", cmd->tag, dst.uidvalidity);
		imap_uidset_append(&s->out, src_uids, done);
		strbuf_append_c(&s->out, ' ');
		imap_uidset_append(&s->out, dst_uids, done);
		strbuf_printf(&s->out, "] %sCOPY completed\r\n", cmd->uid ? "UID " : "");
	} else {
		imap_tagged(s, cmd, "OK", "%sCOPY completed", cmd->uid ? "UID " : "");
	}
	free(src_uids);
	free(dst_uids);
	free(idx);
	index_view_free(&v);
}

void imap_cmd_copy(struct imap_session *s, const struct imap_command *cmd)
{
	imap_copy_move(s, cmd, false);
}

void imap_cmd_move(struct imap_session *s, const struct imap_command *cmd)
{
	imap_copy_move(s, cmd, true);
}

/* UID EXPUNGE set: only the \Deleted messages within the set. */
void imap_cmd_uid_expunge(struct imap_session *s, const struct imap_command *cmd)
{
	struct index_view v;
	struct index_msg *gone;
	size_t *idx, n, ngone = 0;

	if (s->readonly) {
		imap_tagged(s, cmd, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	if (cmd->count != 1) {
		imap_tagged(s, cmd, "BAD", "Syntax: UID EXPUNGE set");
		return;
	}
	if (imap_msgs_prepare(s, cmd, &cmd->args[0], true, true, &v, &idx, &n) < 0)
		return;
	gone = calloc(n > 0 ? n : 1, sizeof(*gone));
	for (size_t i = 0; gone != NULL && i < n; i++) {
		const struct index_msg *m = imap_index_find(&v, s->view[idx[i]].uid);
		if (m != NULL && (m->flags & INDEX_FLAG_DELETED))
			gone[ngone++] = *m;
	}
	if (gone != NULL)
		mail_index_expunge(s->idx, &s->mbox, gone, ngone);
	free(gone);
	free(idx);
	index_view_free(&v);
	imap_view_sync(s, true);
	imap_expunge_reply(s, cmd);
}
