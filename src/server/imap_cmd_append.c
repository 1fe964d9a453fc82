/* APPEND (RFC 3501 6.3.11, UIDPLUS APPENDUID, APPENDLIMIT): the message is
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

void imap_cmd_append(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_append app;
	const struct imap_append_msg *am;
	struct index_mailbox m;
	struct maildir_msg msg;
	char keywords[INDEX_KEYWORDS_MAX];
	const char *error;
	uint32_t uid;
	uint64_t size;

	if (imap_append_parse(cmd->args, cmd->count, false, imap_parser_arena(s->parser), &app, &error) < 0) {
		imap_tagged(s, cmd, "BAD", "%s", error);
		return;
	}
	am = &app.msgs[0];
	if (imap_mailbox_name(s, app.mailbox) == NULL ||
	    mail_index_mailbox_get(s->idx, imap_mailbox_name(s, app.mailbox), &m) <= 0) {
		imap_tagged(s, cmd, "NO", "[TRYCREATE] No such mailbox");
		return;
	}
	memset(&msg, 0, sizeof(msg));
	msg.prefix = "";
	if (am->literal->streamed) {
		if (s->spool_fd < 0) {
			imap_tagged(s, cmd, "NO", "[SERVERBUG] The message could not be spooled");
			return;
		}
		msg.body_fd = s->spool_fd;
		msg.body_len = (size_t)s->spool_len;
	} else {
		msg.body = am->literal->str;
		msg.body_fd = -1;
		msg.body_len = am->literal->len;
	}
	size = msg.body_len;
	if (size == 0) {
		imap_tagged(s, cmd, "NO", "Empty messages cannot be appended");
		return;
	}
	if (!quota_reserve(s->root, size, s->quota_bytes)) {
		imap_tagged(s, cmd, "NO", "[OVERQUOTA] The mailbox is full: delete mail or empty the Trash");
		return;
	}
	imap_keywords_join(&am->flags, keywords, sizeof(keywords));
	if (mail_index_append(s->idx, &m, &msg, am->flags.system & ~IMAP_FLAG_RECENT, keywords,
			      am->has_date ? (int64_t)am->date.utc : 0, &uid, &error) < 0) {
		quota_release(s->root, size);
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot store the message: %s", error);
		return;
	}
	if (am->literal->streamed) {
		close(s->spool_fd);
		s->spool_fd = -1;
	}
	if (s->state == IMAP_S_SELECTED && s->mbox.id == m.id)
		imap_view_sync(s, false);
	imap_tagged(s, cmd, "OK", "[APPENDUID %u %u] APPEND completed", m.uidvalidity, uid);
}
