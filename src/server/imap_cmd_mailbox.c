/* IMAP commands on mailboxes (run on a worker): SELECT/EXAMINE, CREATE,
 * DELETE, RENAME, (UN)SUBSCRIBE, LIST/LSUB, STATUS, APPEND, CLOSE,
 * UNSELECT, EXPUNGE, CHECK/NOOP, quotas, ENABLE, ID, NAMESPACE. */
#include "server/imap_session.h"
#include "server/proxy.h"
#include "server/imap_msgset.h"
#include "directory/directory.h"
#include "store/maildir.h"
#include "store/quota.h"
#include "lib/log.h"
#include "lib/str.h"
#include "proto/imap_args.h"
#include "proto/imap_mailbox.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int imap_session_open_store(struct imap_session *s, const char *address)
{
	struct directory *dir = server_directory();
	struct dir_account acct;
	struct mail_index *idx;
	char err[256], root[PATH_MAX];

	if (dir == NULL || directory_account_get(dir, address, &acct) <= 0)
		return -1;
	if (server_maildir(root, sizeof(root), acct.domain, acct.local) < 0 ||
	    imap_xmove_open_root(s, acct.address, root, sizeof(root)) < 0 ||
	    (access(root, F_OK) < 0 && maildir_create(root) < 0))
		return -1;
	/* Opened (and made, the first time) to check it works; commands
	 * borrow a handle from the pool. */
	idx = mail_index_acquire(root, err, sizeof(err));
	if (idx == NULL) {
		log_error(NULL, "imap: %s", err);
		return -1;
	}
	mail_index_release(idx);
	free(s->root);
	if ((s->root = strdup(root)) == NULL)
		return -1;
	str_copy(s->user, sizeof(s->user), acct.address);
	/* a move copies what the source holds, whatever the quota says */
	s->quota_bytes = s->mover ? 0 : (uint64_t)acct.quota_mb * 1024 * 1024;
	return 0;
}

const char *imap_mailbox_name(struct imap_session *s, const char *raw)
{
	struct strbuf buf = STRBUF_INIT;
	const char *error, *name = NULL;

	if (raw == NULL)
		return NULL;
	if (imap_mailbox_decode(raw, strlen(raw), s->enabled_utf8, '/', &buf, &error) == 0)
		name = imap_arena_strndup(imap_parser_arena(s->parser), buf.data, buf.len);
	else
		s->name_error = error;
	strbuf_free(&buf);
	return name;
}

bool imap_mailbox_refuse(struct imap_session *s, const struct imap_command *cmd, const char *raw)
{
	if (raw == NULL)
		return false;
	imap_tagged(s, cmd, "NO", "[CANNOT] Invalid mailbox name: %s",
		    s->name_error != NULL ? s->name_error : "not valid");
	return true;
}

/* The raw astring of argument i, or NULL. */
#define arg_raw(cmd, i) ((i) < (cmd)->count ? imap_arg_astring(&(cmd)->args[i]) : NULL)

/* The mailbox argument as a UTF-8 name (decoded from modified UTF-7). */
#define arg_mailbox(cmd, i) \
	((i) < (cmd)->count ? imap_mailbox_name(s, imap_arg_astring(&(cmd)->args[i])) : NULL)

void imap_cmd_noop(struct imap_session *s, const struct imap_command *cmd)
{
	imap_view_sync(s, true);
	imap_tagged(s, cmd, "OK", "%s completed", cmd->name);
}

void imap_cmd_check(struct imap_session *s, const struct imap_command *cmd)
{
	imap_cmd_noop(s, cmd);
}

/* The number of values in resolved ranges. */
static uint64_t ranges_total(const uint32_t (*r)[2], size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += (uint64_t)r[i][1] - r[i][0] + 1;
	return total;
}

/* SELECT/EXAMINE's QRESYNC parameter (RFC 7162 3.2.5), once the mailbox
 * is selected and its view v filled: the messages the client knew (its
 * known UIDs, else all below UIDNEXT) that are gone, and every message
 * changed or added since the client's mod-sequence, with its flags. */
static void select_qresync(struct imap_session *s, const struct imap_select_params *p,
			   const struct index_view *v)
{
	struct imap_arena *a = imap_parser_arena(s->parser);
	uint32_t (*ranges)[2] = NULL, floor = 0, all[1][2] = { { 1, UINT32_MAX } };
	size_t nranges = 0;

	if (p->uidvalidity != v->uidvalidity || p->modseq >= v->highestmodseq)
		return;	/* another mailbox by now, or nothing changed since */
	/* seq-match: a message still at the sequence number the client gave
	 * with its UID proves that nothing below it was expunged */
	if (p->has_seq_match) {
		uint32_t (*seqs)[2], (*uids)[2];
		size_t ns, nu;

		if (imap_seqset_resolve(&p->match_seqs, (uint32_t)s->nview, a, &seqs, &ns) == 0 &&
		    imap_seqset_resolve(&p->match_uids, s->view_uidnext, a, &uids, &nu) == 0 &&
		    ranges_total(seqs, ns) == ranges_total(uids, nu)) {
			size_t si = 0, ui = 0;
			uint32_t sq = ns > 0 ? seqs[0][0] : 0, uid = nu > 0 ? uids[0][0] : 0;

			/* ascending: past the view's last message nothing can
			 * match, which bounds the walk by the folder, not by
			 * the numbers the client sent */
			while (si < ns && ui < nu && sq <= s->nview) {
				if (sq >= 1 && s->view[sq - 1].uid == uid && uid > floor)
					floor = uid;
				if (sq++ == seqs[si][1] && ++si < ns)
					sq = seqs[si][0];
				if (uid++ == uids[ui][1] && ++ui < nu)
					uid = uids[ui][0];
			}
		}
	}
	if (!p->has_known_uids ||
	    imap_seqset_resolve(&p->known_uids, s->view_uidnext > 0 ? s->view_uidnext - 1 : 0, a, &ranges,
				&nranges) < 0) {
		ranges = all;
		nranges = 1;
	}
	imap_vanished_earlier(s, (const uint32_t (*)[2])ranges, nranges, floor);
	for (size_t i = 0; i < v->count && i < s->nview; i++) {
		const struct index_msg *m = &v->msgs[i];

		if (m->modseq <= p->modseq)
			continue;
		strbuf_printf(&s->out, "* %zu FETCH (UID %u FLAGS ", i + 1, m->uid);
		imap_out_flags(s, m->flags, m->keywords, s->view[i].recent);
		imap_out(s, " MODSEQ (%llu))", (unsigned long long)m->modseq);
	}
}

void imap_cmd_select(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name = arg_mailbox(cmd, 0), *raw, *error = NULL;
	bool examine = strcmp(cmd->name, "EXAMINE") == 0;
	struct imap_select_params params;
	struct index_view v;
	size_t recent = 0, first_unseen = 0;

	if (cmd->count <= 2 && name == NULL && imap_mailbox_refuse(s, cmd, arg_raw(cmd, 0)))
		return;
	if (name == NULL || imap_select_parse(cmd->args, cmd->count, imap_parser_arena(s->parser), &raw, &params,
					      &error) < 0) {
		imap_tagged(s, cmd, "BAD", "%s", error != NULL ? error : "Syntax: SELECT mailbox");
		return;
	}
	if (params.qresync && !s->enabled_qresync) {
		imap_tagged(s, cmd, "BAD", "QRESYNC is not enabled (ENABLE QRESYNC first)");
		return;
	}
	if (params.condstore)
		s->enabled_condstore = true;
	if (s->state == IMAP_S_SELECTED) {
		imap_view_free(s);
		s->state = IMAP_S_AUTH;
		imap_out(s, "* OK [CLOSED] Previous mailbox closed");
	}
	if (mail_index_mailbox_get(s->idx, name, &s->mbox) <= 0) {
		imap_tagged(s, cmd, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	if (mail_index_sync(s->idx, &s->mbox, &v) < 0) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot read the mailbox");
		return;
	}
	s->readonly = examine;
	imap_view_fill(s, &v);
	for (size_t i = 0; i < v.count; i++) {
		if (first_unseen == 0 && !(v.msgs[i].flags & INDEX_FLAG_SEEN))
			first_unseen = i + 1;
		imap_keywords_add(s, v.msgs[i].keywords);
	}
	for (size_t i = 0; i < s->nview; i++)
		recent += s->view[i].recent;
	s->state = IMAP_S_SELECTED;
	imap_keywords_announce(s);
	imap_out(s, "* %zu EXISTS", v.count);
	if (!s->rev2) {
		imap_out(s, "* %zu RECENT", recent);
		if (first_unseen > 0)
			imap_out(s, "* OK [UNSEEN %zu] First unseen", first_unseen);
	}
	imap_out(s, "* OK [UIDVALIDITY %u] UIDs valid", v.uidvalidity);
	imap_out(s, "* OK [UIDNEXT %u] Predicted next UID", v.uidnext);
	imap_out(s, "* OK [HIGHESTMODSEQ %llu] Highest", (unsigned long long)v.highestmodseq);
	if (params.qresync)
		select_qresync(s, &params, &v);
	index_view_free(&v);
	imap_tagged(s, cmd, "OK", "[%s] %s completed", examine ? "READ-ONLY" : "READ-WRITE", cmd->name);
}

void imap_cmd_create(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name = arg_mailbox(cmd, 0), *error;
	char buf[INDEX_NAME_MAX];
	size_t len;

	if (name == NULL && imap_mailbox_refuse(s, cmd, arg_raw(cmd, 0)))
		return;
	if (name == NULL) {
		imap_tagged(s, cmd, "BAD", "Syntax: CREATE mailbox");
		return;
	}
	if (strlen(name) >= sizeof(buf)) {
		imap_tagged(s, cmd, "NO", "[LIMIT] Mailbox name too long");
		return;
	}
	/* A trailing separator only says the client wants children later. */
	str_copy(buf, sizeof(buf), name);
	len = strlen(buf);
	if (len > 1 && buf[len - 1] == '/')
		buf[len - 1] = '\0';
	if (mail_index_mailbox_create(s->idx, buf, &error) < 0) {
		imap_tagged(s, cmd, "NO", "%s", error);
		return;
	}
	imap_tagged(s, cmd, "OK", "CREATE completed");
}

void imap_cmd_delete(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name = arg_mailbox(cmd, 0), *error;

	if (name == NULL && imap_mailbox_refuse(s, cmd, arg_raw(cmd, 0)))
		return;
	if (name == NULL) {
		imap_tagged(s, cmd, "BAD", "Syntax: DELETE mailbox");
		return;
	}
	if (s->state == IMAP_S_SELECTED && strcmp(s->mbox.name, name) == 0) {
		imap_view_free(s);
		s->state = IMAP_S_AUTH;
	}
	if (mail_index_mailbox_delete(s->idx, name, &error) < 0) {
		imap_tagged(s, cmd, "NO", "%s", error);
		return;
	}
	imap_tagged(s, cmd, "OK", "DELETE completed");
}

void imap_cmd_rename(struct imap_session *s, const struct imap_command *cmd)
{
	const char *from = arg_mailbox(cmd, 0), *to = arg_mailbox(cmd, 1), *error;

	if (from == NULL && imap_mailbox_refuse(s, cmd, arg_raw(cmd, 0)))
		return;
	if (from != NULL && to == NULL && imap_mailbox_refuse(s, cmd, arg_raw(cmd, 1)))
		return;
	if (from == NULL || to == NULL) {
		imap_tagged(s, cmd, "BAD", "Syntax: RENAME from to");
		return;
	}
	if (mail_index_mailbox_rename(s->idx, from, to, &error) < 0) {
		imap_tagged(s, cmd, "NO", "%s", error);
		return;
	}
	imap_tagged(s, cmd, "OK", "RENAME completed");
}

static void imap_subscribe(struct imap_session *s, const struct imap_command *cmd, bool on)
{
	const char *name = arg_mailbox(cmd, 0), *error;

	if (name == NULL && imap_mailbox_refuse(s, cmd, arg_raw(cmd, 0)))
		return;
	if (name == NULL) {
		imap_tagged(s, cmd, "BAD", "Syntax: %s mailbox", cmd->name);
		return;
	}
	if (mail_index_mailbox_subscribe(s->idx, name, on, &error) < 0) {
		imap_tagged(s, cmd, "NO", "%s", error);
		return;
	}
	imap_tagged(s, cmd, "OK", "%s completed", cmd->name);
}

void imap_cmd_subscribe(struct imap_session *s, const struct imap_command *cmd)
{
	imap_subscribe(s, cmd, true);
}

void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *cmd)
{
	imap_subscribe(s, cmd, false);
}

void imap_status_items(struct imap_session *s, struct index_mailbox *m,
		       const struct imap_arg *items, bool *ok_r)
{
	struct index_view v;
	size_t unseen = 0, recent = 0, deleted = 0;
	uint64_t size = 0;
	bool first = true;

	*ok_r = false;
	if (mail_index_sync(s->idx, m, &v) < 0)
		return;
	for (size_t i = 0; i < v.count; i++) {
		unseen += !(v.msgs[i].flags & INDEX_FLAG_SEEN);
		recent += v.msgs[i].recent;
		deleted += (v.msgs[i].flags & INDEX_FLAG_DELETED) != 0;
		size += v.msgs[i].size;
	}
	strbuf_append_str(&s->out, "* STATUS ");
	imap_out_mailbox(s, m->name);
	strbuf_append_str(&s->out, " (");
	for (size_t i = 0; i < items->count; i++) {
		const char *it = imap_arg_atom(&items->list[i]);
		unsigned long long val;

		if (it == NULL)
			continue;
		if (strcasecmp(it, "MESSAGES") == 0) val = v.count;
		else if (strcasecmp(it, "UIDNEXT") == 0) val = v.uidnext;
		else if (strcasecmp(it, "UIDVALIDITY") == 0) val = v.uidvalidity;
		else if (strcasecmp(it, "UNSEEN") == 0) val = unseen;
		else if (strcasecmp(it, "RECENT") == 0) val = recent;
		else if (strcasecmp(it, "DELETED") == 0) val = deleted;
		else if (strcasecmp(it, "SIZE") == 0) val = size;
		else if (strcasecmp(it, "HIGHESTMODSEQ") == 0) val = v.highestmodseq;
		else
			continue;
		strbuf_printf(&s->out, "%s%s %llu", first ? "" : " ", it, val);
		first = false;
	}
	strbuf_append_str(&s->out, ")\r\n");
	index_view_free(&v);
	*ok_r = true;
}

void imap_cmd_status(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name = arg_mailbox(cmd, 0);
	struct index_mailbox m;
	bool ok;

	if (name == NULL && cmd->count == 2 && imap_mailbox_refuse(s, cmd, arg_raw(cmd, 0)))
		return;
	if (name == NULL || cmd->count != 2 || cmd->args[1].type != IMAP_ARG_LIST) {
		imap_tagged(s, cmd, "BAD", "Syntax: STATUS mailbox (items)");
		return;
	}
	for (size_t i = 0; i < cmd->args[1].count; i++) {
		static const char *const known[] = { "MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
						     "RECENT", "DELETED", "SIZE", "HIGHESTMODSEQ" };
		const char *it = imap_arg_atom(&cmd->args[1].list[i]);
		bool found = false;
		for (size_t k = 0; it != NULL && k < sizeof(known) / sizeof(known[0]); k++)
			found |= strcasecmp(it, known[k]) == 0;
		if (!found) {
			imap_tagged(s, cmd, "BAD", "Unknown STATUS item");
			return;
		}
	}
	if (mail_index_mailbox_get(s->idx, name, &m) <= 0) {
		imap_tagged(s, cmd, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	imap_status_items(s, &m, &cmd->args[1], &ok);
	if (!ok)
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot read the mailbox");
	else
		imap_tagged(s, cmd, "OK", "STATUS completed");
}

static void imap_unselect(struct imap_session *s)
{
	imap_view_free(s);
	s->state = IMAP_S_AUTH;
}

/* Removes \Deleted messages; with report, announces each EXPUNGE. */
static int imap_expunge_deleted(struct imap_session *s, bool report)
{
	struct index_view v;
	struct index_msg *gone;
	size_t n = 0;
	int r;

	if (mail_index_sync(s->idx, &s->mbox, &v) < 0)
		return -1;
	gone = calloc(v.count > 0 ? v.count : 1, sizeof(*gone));
	for (size_t i = 0; gone != NULL && i < v.count; i++) {
		if (v.msgs[i].flags & INDEX_FLAG_DELETED)
			gone[n++] = v.msgs[i];
	}
	r = gone != NULL ? mail_index_expunge(s->idx, &s->mbox, gone, n) : -1;
	free(gone);
	index_view_free(&v);
	if (r == 0 && report)
		imap_view_sync(s, true);
	return r;
}

void imap_cmd_close(struct imap_session *s, const struct imap_command *cmd)
{
	if (!s->readonly)
		imap_expunge_deleted(s, false);
	imap_unselect(s);
	imap_tagged(s, cmd, "OK", "CLOSE completed");
}

void imap_cmd_unselect(struct imap_session *s, const struct imap_command *cmd)
{
	imap_unselect(s);
	imap_tagged(s, cmd, "OK", "UNSELECT completed");
}

void imap_cmd_expunge(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->uid) {
		imap_cmd_uid_expunge(s, cmd);
		return;
	}
	if (s->readonly) {
		imap_tagged(s, cmd, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	if (imap_expunge_deleted(s, true) < 0) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Expunge failed");
		return;
	}
	imap_expunge_reply(s, cmd);
}

static void imap_quota_line(struct imap_session *s)
{
	uint64_t used = 0;

	quota_usage(s->root, &used);
	imap_out(s, "* QUOTA \"\" (STORAGE %llu %llu)", (unsigned long long)((used + 1023) / 1024),
		 (unsigned long long)(s->quota_bytes / 1024));
}

void imap_cmd_getquotaroot(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name = arg_mailbox(cmd, 0);

	if (name == NULL && imap_mailbox_refuse(s, cmd, arg_raw(cmd, 0)))
		return;
	if (name == NULL) {
		imap_tagged(s, cmd, "BAD", "Syntax: GETQUOTAROOT mailbox");
		return;
	}
	strbuf_append_str(&s->out, "* QUOTAROOT ");
	imap_out_mailbox(s, name);
	strbuf_append_str(&s->out, " \"\"\r\n");
	imap_quota_line(s);
	imap_tagged(s, cmd, "OK", "GETQUOTAROOT completed");
}

void imap_cmd_getquota(struct imap_session *s, const struct imap_command *cmd)
{
	const char *root = cmd->count == 1 ? imap_arg_astring(&cmd->args[0]) : NULL;

	if (root == NULL || root[0] != '\0') {
		imap_tagged(s, cmd, "NO", "[NONEXISTENT] The only quota root is \"\"");
		return;
	}
	imap_quota_line(s);
	imap_tagged(s, cmd, "OK", "GETQUOTA completed");
}

void imap_cmd_enable(struct imap_session *s, const struct imap_command *cmd)
{
	strbuf_append_str(&s->out, "* ENABLED");
	for (size_t i = 0; i < cmd->count; i++) {
		const char *cap = imap_arg_atom(&cmd->args[i]);
		if (cap == NULL)
			continue;
		if (strcasecmp(cap, "CONDSTORE") == 0 && !s->enabled_condstore) {
			s->enabled_condstore = true;
			strbuf_append_str(&s->out, " CONDSTORE");
		} else if (strcasecmp(cap, "QRESYNC") == 0 && !s->enabled_qresync) {
			/* QRESYNC implies CONDSTORE (RFC 7162 3.2.3) */
			s->enabled_qresync = true;
			s->enabled_condstore = true;
			strbuf_append_str(&s->out, " QRESYNC");
		} else if (strcasecmp(cap, "UTF8=ACCEPT") == 0 && !s->enabled_utf8) {
			s->enabled_utf8 = true;
			strbuf_append_str(&s->out, " UTF8=ACCEPT");
		} else if (strcasecmp(cap, "IMAP4rev2") == 0 && !s->rev2) {
			s->rev2 = true;
			strbuf_append_str(&s->out, " IMAP4rev2");
		}
	}
	strbuf_append_str(&s->out, "\r\n");
	imap_tagged(s, cmd, "OK", "ENABLE completed");
}

void imap_cmd_id(struct imap_session *s, const struct imap_command *cmd)
{
	/* A trusted proxy passes the client's address (server/proxy.h). */
	if (s->conn->proxy_peer && cmd->count == 1 && cmd->args[0].type == IMAP_ARG_LIST) {
		const struct imap_arg *l = cmd->args[0].list;

		for (size_t i = 0; i + 1 < cmd->args[0].count; i += 2) {
			const char *k = imap_arg_string(&l[i]), *v = imap_arg_string(&l[i + 1]);
			if (k != NULL && v != NULL && strcasecmp(k, "x-originating-ip") == 0)
				proxy_client_address(s->conn, v);
			/* an account move (ops/ops_move.c); before the login
			 * only, so nothing relayed after it can claim it */
			if (k != NULL && strcasecmp(k, "x-yubin-move") == 0 && s->state == IMAP_S_NOTAUTH)
				s->mover = true;
		}
	}
	imap_out(s, "* ID (\"name\" \"Yubin\" \"vendor\" \"Yubin\" \"support-url\" \"mailto:postmaster\")");
	imap_tagged(s, cmd, "OK", "ID completed");
}

void imap_cmd_namespace(struct imap_session *s, const struct imap_command *cmd)
{
	imap_out(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_tagged(s, cmd, "OK", "NAMESPACE completed");
}
