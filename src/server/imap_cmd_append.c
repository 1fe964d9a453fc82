/* APPEND (RFC 3501 6.3.11, UIDPLUS APPENDUID, APPENDLIMIT): the message is
 * written durably into the folder's cur/ before OK, after its size has
 * been reserved against the account's quota. */
#include "server/imap_session.h"
#include "store/quota.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be space-padded) to a time. */
static int imap_datetime_parse(const char *s, int64_t *time_r)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char mon[4], sign;
	int day, year, hh, mm, ss, zone, n = 0;
	struct tm tm;

	while (*s == ' ')
		s++;
	if (sscanf(s, "%2d-%3s-%4d %2d:%2d:%2d %c%4d%n", &day, mon, &year, &hh, &mm, &ss, &sign, &zone, &n) != 8 ||
	    s[n] != '\0' || (sign != '+' && sign != '-'))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++) {
		if (strcasecmp(mon, months[i]) == 0)
			tm.tm_mon = i;
	}
	if (tm.tm_mon < 0 || day < 1 || day > 31 || year < 1970 || hh > 23 || mm > 59 || ss > 60)
		return -1;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*time_r = (int64_t)timegm(&tm) - (sign == '+' ? 1 : -1) * ((zone / 100) * 3600 + (zone % 100) * 60);
	return 0;
}

/* Parses a flag list into flags and space-separated keywords. */
int imap_flags_parse(const struct imap_arg *list, uint32_t *flags_r, char *keywords, size_t size,
		     const char **error_r);
int imap_flags_parse(const struct imap_arg *list, uint32_t *flags_r, char *keywords, size_t size,
		     const char **error_r)
{
	static const struct { const char *name; uint32_t flag; } sys[] = {
		{ "\\Seen", INDEX_FLAG_SEEN }, { "\\Answered", INDEX_FLAG_ANSWERED },
		{ "\\Flagged", INDEX_FLAG_FLAGGED }, { "\\Deleted", INDEX_FLAG_DELETED },
		{ "\\Draft", INDEX_FLAG_DRAFT },
	};
	size_t o = 0;

	*flags_r = 0;
	keywords[0] = '\0';
	for (size_t i = 0; i < list->count; i++) {
		const char *f = imap_arg_atom(&list->list[i]);
		bool found = false;

		if (f == NULL) {
			*error_r = "Flags must be atoms";
			return -1;
		}
		for (size_t k = 0; k < sizeof(sys) / sizeof(sys[0]); k++) {
			if (strcasecmp(f, sys[k].name) == 0) {
				*flags_r |= sys[k].flag;
				found = true;
			}
		}
		if (found)
			continue;
		if (f[0] == '\\') {
			*error_r = strcasecmp(f, "\\Recent") == 0 ? "\\Recent cannot be set"
								  : "Unknown system flag";
			return -1;
		}
		for (const char *c = f; *c != '\0'; c++) {
			if (strchr("(){%*\"\\]", *c) != NULL || (unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
				*error_r = "Invalid keyword";
				return -1;
			}
		}
		/* skip duplicates */
		{
			char padded[INDEX_KEYWORDS_MAX + 2];
			char needle[INDEX_KEYWORDS_MAX];
			snprintf(padded, sizeof(padded), " %s ", keywords);
			snprintf(needle, sizeof(needle), " %s ", f);
			if (strstr(padded, needle) != NULL)
				continue;
		}
		if (o + strlen(f) + 2 > size) {
			*error_r = "Too many keywords";
			return -1;
		}
		o += (size_t)snprintf(keywords + o, size - o, "%s%s", o > 0 ? " " : "", f);
	}
	return 0;
}

void imap_cmd_append(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name = cmd->count > 0 ? imap_arg_astring(&cmd->args[0]) : NULL, *error;
	const struct imap_arg *msg_arg = cmd->count > 0 ? &cmd->args[cmd->count - 1] : NULL;
	struct index_mailbox m;
	struct maildir_msg msg;
	uint32_t flags = 0, uid;
	char keywords[INDEX_KEYWORDS_MAX];
	int64_t date = 0;
	uint64_t size;
	size_t a = 1;

	keywords[0] = '\0';
	if (name == NULL || cmd->count < 2 || cmd->count > 4 || msg_arg->type != IMAP_ARG_LITERAL) {
		imap_tagged(s, cmd, "BAD", "Syntax: APPEND mailbox [(flags)] [date-time] literal");
		return;
	}
	if (a < cmd->count - 1 && cmd->args[a].type == IMAP_ARG_LIST) {
		if (imap_flags_parse(&cmd->args[a], &flags, keywords, sizeof(keywords), &error) < 0) {
			imap_tagged(s, cmd, "BAD", "%s", error);
			return;
		}
		a++;
	}
	if (a < cmd->count - 1) {
		const char *d = imap_arg_string(&cmd->args[a]);
		if (d == NULL || imap_datetime_parse(d, &date) < 0) {
			imap_tagged(s, cmd, "BAD", "Invalid date-time");
			return;
		}
		a++;
	}
	if (a != cmd->count - 1) {
		imap_tagged(s, cmd, "BAD", "Syntax: APPEND mailbox [(flags)] [date-time] literal");
		return;
	}
	if (mail_index_mailbox_get(s->idx, name, &m) <= 0) {
		imap_tagged(s, cmd, "NO", "[TRYCREATE] No such mailbox");
		return;
	}
	memset(&msg, 0, sizeof(msg));
	msg.prefix = "";
	if (msg_arg->streamed) {
		if (s->spool_fd < 0) {
			imap_tagged(s, cmd, "NO", "[SERVERBUG] The message could not be spooled");
			return;
		}
		msg.body_fd = s->spool_fd;
		msg.body_len = (size_t)s->spool_len;
	} else {
		msg.body = msg_arg->str;
		msg.body_fd = -1;
		msg.body_len = msg_arg->len;
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
	if (mail_index_append(s->idx, &m, &msg, flags, keywords, date, &uid, &error) < 0) {
		quota_release(s->root, size);
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot store the message: %s", error);
		return;
	}
	if (msg_arg->streamed) {
		close(s->spool_fd);
		s->spool_fd = -1;
	}
	if (s->state == IMAP_S_SELECTED && s->mbox.id == m.id)
		imap_view_sync(s, false);
	imap_tagged(s, cmd, "OK", "[APPENDUID %u %u] APPEND completed", m.uidvalidity, uid);
}
