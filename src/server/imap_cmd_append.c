/* APPEND (RFC 3501 6.3.11, UIDPLUS APPENDUID, APPENDLIMIT, MULTIAPPEND RFC 3502,
 * all or nothing): the messages are written durably into the folder's cur/
 * before OK (a MULTIAPPEND's together: one directory fsync and one index
 * commit), after their size has been reserved against the account's
 * quota. */
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

/* The message of an APPEND as the store takes it. */
static void append_msg(struct imap_session *s, const struct imap_append_msg *am, struct maildir_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	msg->prefix = "";
	if (am->literal->streamed) {
		msg->body_fd = s->spool_fd;
		msg->body_len = (size_t)s->spool_len;
	} else {
		msg->body = am->literal->str;
		msg->body_fd = -1;
		msg->body_len = am->literal->len;
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

	if (am->literal->streamed && s->spool_fd < 0)
		return "[SERVERBUG] The message could not be spooled";
	append_msg(s, am, &msg);
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

/* MULTIAPPEND (RFC 3502), all or nothing: the messages stored together,
 * one directory fsync and one index commit for all of them
 * (mail_index_append_many). NULL, or the NO text. */
static const char *append_many(struct imap_session *s, struct index_mailbox *m, const struct imap_append *app,
			       uint32_t *uids)
{
	struct maildir_msg *msgs = calloc(app->count, sizeof(*msgs));
	struct index_append *items = calloc(app->count, sizeof(*items));
	char (*keywords)[INDEX_KEYWORDS_MAX] = calloc(app->count, sizeof(*keywords));
	const char *error = NULL, *why;
	uint64_t size = 0;

	if (msgs == NULL || items == NULL || keywords == NULL) {
		error = "[SERVERBUG] Out of memory";
		goto out;
	}
	for (size_t i = 0; i < app->count && error == NULL; i++) {
		const struct imap_append_msg *am = &app->msgs[i];

		append_msg(s, am, &msgs[i]);
		if (am->literal->streamed && s->spool_fd < 0)
			error = "[SERVERBUG] The message could not be spooled";
		else if (msgs[i].body_len == 0)
			error = "Empty messages cannot be appended";
		imap_keywords_join(&am->flags, keywords[i], sizeof(keywords[i]));
		items[i] = (struct index_append){ .msg = &msgs[i], .flags = am->flags.system & ~IMAP_FLAG_RECENT,
						  .keywords = keywords[i],
						  .internaldate = am->has_date ? (int64_t)am->date.utc : 0 };
		size += msgs[i].body_len;
	}
	if (error != NULL)
		goto out;
	if (!quota_reserve(s->root, size, s->quota_bytes)) {
		error = "[OVERQUOTA] The mailbox is full: delete mail or empty the Trash";
		goto out;
	}
	if (mail_index_append_many(s->idx, m, items, app->count, uids, &why) < 0) {
		quota_release(s->root, size);
		log_error(NULL, "imap: MULTIAPPEND of %zu for %s: %s", app->count, s->user, why);
		error = "[SERVERBUG] Cannot store the messages";
	}
out:
	free(msgs);
	free(items);
	free(keywords);
	return error;
}

void imap_cmd_append(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_append app;
	struct index_mailbox m;
	const char *error, *name;
	uint32_t *uids;
	size_t streamed = 0;

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
	error = app.count == 1 ? append_one(s, &m, &app.msgs[0], &uids[0]) : append_many(s, &m, &app, uids);
	if (streamed > 0 && s->spool_fd >= 0) {
		close(s->spool_fd);
		s->spool_fd = -1;
	}
	if (error != NULL) {
		free(uids);
		imap_tagged(s, cmd, "NO", "%s", error);
		return;
	}
	if (s->state == IMAP_S_SELECTED && s->mbox.id == m.id)
		imap_view_sync(s, false);
	strbuf_printf(&s->out, "%s OK [APPENDUID %u ", cmd->tag, m.uidvalidity);
	imap_uidset_append(&s->out, uids, app.count);
	strbuf_append_str(&s->out, "] APPEND completed\r\n");
	free(uids);
}
