/* APPEND (RFC 3501 6.3.11, UIDPLUS APPENDUID, APPENDLIMIT, MULTIAPPEND RFC 3502,
 * all or nothing): each message is
 * written durably into the folder's cur/ before OK, after its size has
 * been reserved against the account's quota. */
#include "server/imap_session.h"
#include "server/imap_msgset.h"
#include "store/quota.h"
#include "lib/log.h"
#include "lib/str.h"
#include "proto/imap_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Space-separated keywords for the index from a parsed flag list. */
void imap_keywords_join(const struct imap_flags *flags, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < flags->nkeywords; i++) {
		size_t len = strlen(flags->keywords[i]);
		if (o + len + 2 > size)
			break;
		o += (size_t)snprintf(buf + o, size - o, "%s%s", o > 0 ? " " : "", flags->keywords[i]);
	}
}

/* Stores one message of an APPEND; *size_r gets the bytes reserved. On
 * failure it has released them and returns the NO text. */
static const char *append_one(struct imap_session *s, struct index_mailbox *m,
			      const struct imap_append_msg *am, uint32_t *uid_r)
{
	struct maildir_msg msg;
	char keywords[INDEX_KEYWORDS_MAX];
	const char *error;
	uint64_t size;

	memset(&msg, 0, sizeof(msg));
	msg.prefix = "";
	if (am->literal->streamed) {
		if (s->spool_fd < 0)
			return "[SERVERBUG] The message could not be spooled";
		msg.body_fd = s->spool_fd;
		msg.body_len = (size_t)s->spool_len;
	} else {
		msg.body = am->literal->str;
		msg.body_fd = -1;
		msg.body_len = am->literal->len;
	}
	size = msg.body_len;
	if (size == 0)
		return "Empty messages cannot be appended";
	if (!quota_reserve(s->root, size, s->quota_bytes))
		return "[OVERQUOTA] The mailbox is full: delete mail or empty the Trash";
	imap_keywords_join(&am->flags, keywords, sizeof(keywords));
	if (mail_index_append(s->idx, m, &msg, am->flags.system & ~IMAP_FLAG_RECENT, keywords,
			      am->has_date ? (int64_t)am->date.utc : 0, uid_r, &error) < 0) {
		quota_release(s->root, size);
		log_error(NULL, "imap: APPEND for %s: %s", s->user, error);
		return "[SERVERBUG] Cannot store the message";
	}
	return NULL;
}

/* MULTIAPPEND is all or nothing (RFC 3502): removes what was stored. */
static void append_undo(struct imap_session *s, struct index_mailbox *m, const uint32_t *uids, size_t n)
{
	struct index_view v;
	struct index_msg *gone;
	size_t ngone = 0;

	if (n == 0 || mail_index_sync(s->idx, m, &v) < 0)
		return;
	gone = calloc(n, sizeof(*gone));
	for (size_t i = 0; gone != NULL && i < n; i++) {
		const struct index_msg *x = imap_index_find(&v, uids[i]);
		if (x != NULL)
			gone[ngone++] = *x;
	}
	if (gone != NULL)
		mail_index_expunge(s->idx, m, gone, ngone);
	free(gone);
	index_view_free(&v);
}

void imap_cmd_append(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_append app;
	struct index_mailbox m;
	const char *error, *name;
	uint32_t *uids;
	size_t done = 0, streamed = 0;

	if (imap_append_parse(cmd->args, cmd->count, true, imap_parser_arena(s->parser), &app, &error) < 0) {
		imap_tagged(s, cmd, "BAD", "%s", error);
		return;
	}
	name = imap_mailbox_name(s, app.mailbox);
	if (name == NULL && imap_mailbox_refuse(s, cmd, app.mailbox))
		return;
	if (name == NULL || mail_index_mailbox_get(s->idx, name, &m) <= 0) {
		imap_tagged(s, cmd, "NO", "[TRYCREATE] No such mailbox");
		return;
	}
	for (size_t i = 0; i < app.count; i++)
		streamed += app.msgs[i].literal->streamed;
	if (streamed > 1) {
		/* One spool file per session: big messages go one per APPEND. */
		imap_tagged(s, cmd, "NO", "[TOOBIG] MULTIAPPEND takes at most one message of 256 KiB or more;"
			    " append big messages one at a time");
		return;
	}
	uids = calloc(app.count, sizeof(*uids));
	if (uids == NULL) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		return;
	}
	for (error = NULL; done < app.count && error == NULL; done++) {
		if ((error = append_one(s, &m, &app.msgs[done], &uids[done])) != NULL)
			break;
	}
	if (streamed > 0 && s->spool_fd >= 0) {
		close(s->spool_fd);
		s->spool_fd = -1;
	}
	if (error != NULL) {
		append_undo(s, &m, uids, done);
		free(uids);
		imap_tagged(s, cmd, "NO", "%s", error);
		return;
	}
	if (s->state == IMAP_S_SELECTED && s->mbox.id == m.id)
		imap_view_sync(s, false);
	strbuf_printf(&s->out, "%s OK [APPENDUID %u ", cmd->tag, m.uidvalidity);
	for (size_t i = 0; i < done;) {
		size_t j = i;
		while (j + 1 < done && uids[j + 1] == uids[j] + 1)
			j++;
		strbuf_printf(&s->out, "%s%u", i > 0 ? "," : "", uids[i]);
		if (j > i)
			strbuf_printf(&s->out, ":%u", uids[j]);
		i = j + 1;
	}
	strbuf_append_str(&s->out, "] APPEND completed\r\n");
	free(uids);
}
