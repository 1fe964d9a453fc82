/* RCPT TO (RFC 5321 4.1.1.3): the recipient checks. A local domain's
 * recipient must be an enabled account with room in its quota (BATV tags
 * checked and removed first); another domain's only for an authenticated
 * sender, within its sending limits; relay tricks (%-hacks, source routes)
 * are refused. At most smtp.max_recipients per transaction. */
#include "server/smtp_session.h"
#include "server/proxy.h"
#include "server/stats.h"
#include "directory/directory.h"
#include "directory/validate.h"
#include "policy/batv.h"
#include "policy/forward.h"
#include "store/mail_move.h"
#include "store/maildir.h"
#include "store/quota.h"
#include "lib/log.h"
#include "lib/str.h"
#include "settings/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The account's forwarding (settings `forward`, `forward-keep`): sets
 * rcpt->forward and rcpt->keep. A list that no longer parses forwards
 * nothing (the copy is kept). */
/* Has the mailbox its INBOX? A node makes a mailbox on first use, and
 * its directory may exist before with only Sieve scripts in it. */
static bool rcpt_inbox_exists(const char *maildir)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/new", maildir);
	return access(path, F_OK) == 0;
}

static void rcpt_forwarding(struct smtp_session *s, struct directory *dir, struct smtp_rcpt *rcpt)
{
	char value[FORWARD_MAX * (FORWARD_ADDR_MAX + 2)], list[FORWARD_MAX][FORWARD_ADDR_MAX];
	const char *error;
	size_t n = 0;

	rcpt->forward = NULL;
	rcpt->keep = true;
	if (settings_account_string(dir, rcpt->address, SETTING_FORWARD, value, sizeof(value)) <= 0 ||
	    value[0] == '\0')
		return;
	if (forward_list_parse(value, rcpt->address, list, &n, &error) < 0) {
		log_warn(s->conn->sid, "smtp: forwarding of %s ignored: %s", rcpt->address, error);
		return;
	}
	if (n == 0)
		return;
	rcpt->forward = strdup(value);
	rcpt->keep = settings_account_bool(dir, rcpt->address, SETTING_FORWARD_KEEP);
}

/* Checks a local recipient; on success fills rcpt and returns 0, otherwise
 * has replied and returns -1. */
/* server.role = proxy: the recipient's mail goes to its home node by
 * LMTP (proxy_lmtp.c); 0, or -1 after replying. */
static int rcpt_on_node(struct smtp_session *s, struct directory *dir, const struct dir_account *acct,
			struct smtp_rcpt *rcpt)
{
	int r;

	if (s->authenticated) {
		/* submission: into the proxy's queue like mail for other domains,
		 * so the checks of an authenticated sender (sender policy, DKIM,
		 * sending limits) apply; the queue hands it to the MX, a proxy,
		 * whose port 25 passes it to the node */
		return 0;
	}
	r = directory_account_node(dir, acct->address, rcpt->node, sizeof(rcpt->node));
	if (r <= 0 || rcpt->node[0] == '\0') {
		smtp_reply(s, "450 4.2.0 <%s>: the mailbox has no home node, try again later", acct->address);
		log_warn(s->conn->sid, "smtp: <%s> refused: %s", acct->address,
			 r < 0 ? "directory error" : "no home node");
		return -1;
	}
	for (unsigned i = 0; i < s->tx.nrcpts; i++) {
		if (s->tx.rcpts[i].maildir == NULL) {
			/* a remote recipient is queued here, a local one goes to a node */
			smtp_reply(s, "452 4.5.3 Too many kinds of recipients: send this one in another message");
			return -1;
		}
	}
	rcpt->keep = true;
	rcpt->maildir = strdup("");
	if (rcpt->maildir == NULL) {
		smtp_local_error(s, "452 4.3.1 Insufficient system resources", __func__);
		return -1;
	}
	return 0;
}

static int rcpt_check_local(struct smtp_session *s, const struct mail_path *path,
			    struct directory *dir, struct smtp_rcpt *rcpt)
{
	char local[MAIL_LOCAL_MAX * 2 + 3], maildir[4200], node[DIR_NODE_NAME_MAX + 1];
	struct dir_account acct;
	const char *error;
	uint64_t usage;
	int r;

	str_copy(local, sizeof(local), path->local);
	str_lower(local);
	if (validate_local_part(local, &error) < 0) {
		/* no account has such a local part: the reply shows it as sent */
		mail_path_format(path, rcpt->address, sizeof(rcpt->address));
		r = 0;
	} else {
		snprintf(rcpt->address, sizeof(rcpt->address), "%s@%s", local, path->domain);
		r = directory_account_get(dir, rcpt->address, &acct);
	}
	if (r == 0) {
		char safe[300];

		smtp_reply_safe(safe, sizeof(safe), rcpt->address);
		smtp_reply(s, "550 5.1.1 <%s>: Recipient address rejected: no such user here", safe);
		stats_inc(STATS_SMTP_REJECTS, REJECT_RCPT_UNKNOWN);
		server_event("rcpt-unknown", safe, s->conn->ip, "no such account");
		return -1;
	}
	if (r < 0) {
		smtp_local_error(s, "451 4.3.0 Temporary lookup failure, try again later", __func__);
		return -1;
	}
	if (!acct.enabled) {
		smtp_reply(s, "550 5.2.1 <%s>: Mailbox disabled, not accepting messages", acct.address);
		stats_inc(STATS_SMTP_REJECTS, REJECT_MAILBOX_DISABLED);
		server_event("rcpt-rejected", acct.address, s->conn->ip, "account disabled");
		return -1;
	}
	if (proxy_role_is_proxy())
		return rcpt_on_node(s, dir, &acct, rcpt);
	r = proxy_account_is_here(dir, acct.address, node, sizeof(node));
	if (r <= 0) {
		/* a mail node never fills an empty mailbox for another node's account */
		smtp_reply(s, "450 4.2.0 <%s>: the mailbox is on another node%s%s, try again later", acct.address,
			   node[0] != '\0' ? " " : "", node);
		log_warn(s->conn->sid, "smtp: <%s> refused: %s", acct.address,
			 r < 0 ? "directory error" : "its home node is another one");
		return -1;
	}
	if (server_maildir(maildir, sizeof(maildir), acct.domain, acct.local) == 0 && mail_move_is_gone(maildir)) {
		/* frozen for a move (store/mail_move.h): soon on its new node */
		smtp_reply(s, "450 4.2.0 <%s>: the mailbox is moving to another node, try again later", acct.address);
		return -1;
	}
	if (server_maildir(maildir, sizeof(maildir), acct.domain, acct.local) < 0 ||
	    (!rcpt_inbox_exists(maildir) && maildir_create(maildir) < 0) ||
	    quota_usage(maildir, &usage) < 0) {
		smtp_local_error(s, "451 4.3.0 Mailbox unavailable, try again later", __func__);
		log_error(s->conn->sid, "smtp: mailbox %s unusable", maildir);
		return -1;
	}
	rcpt->quota_bytes = (uint64_t)acct.quota_mb * 1024 * 1024;
	rcpt_forwarding(s, dir, rcpt);
	if (rcpt->keep && (usage >= rcpt->quota_bytes ||
	    (s->tx.params.has_size && usage + s->tx.params.size > rcpt->quota_bytes))) {
		smtp_reply(s, "552 5.2.2 <%s>: Mailbox full: the recipient's mailbox has reached its %u MB"
			   " limit and cannot take this message until mail is deleted",
			   acct.address, acct.quota_mb);
		stats_inc(STATS_SMTP_REJECTS, REJECT_QUOTA);
		server_event("rcpt-full", acct.address, s->conn->ip, "mailbox full (quota reached)");
		free(rcpt->forward);
		rcpt->forward = NULL;
		return -1;
	}
	rcpt->maildir = strdup(maildir);
	if (rcpt->maildir == NULL) {
		free(rcpt->forward);
		rcpt->forward = NULL;
		smtp_local_error(s, "452 4.3.1 Insufficient system resources", __func__);
		return -1;
	}
	return 0;
}

/* BATV (domain setting `batv`): a prvs= tagged recipient is checked and
 * rewritten to the plain address; with batv on, a bounce (null reverse-path)
 * to an untagged address, or any mail to a bad or expired tag, is refused.
 * Returns 0 to go on, or -1 after replying. */
static int rcpt_check_batv(struct smtp_session *s, struct mail_path *path, struct directory *dir)
{
	char plain[MAIL_LOCAL_MAX * 2 + 3], hex[BATV_KEY_MAX * 2 + 1], addr[MAIL_PATH_MAX + 8];
	unsigned char key[BATV_KEY_MAX];
	unsigned keynum;
	enum batv_result r;
	bool on = settings_domain_bool(dir, path->domain, SETTING_BATV);
	long keylen = 0;

	r = batv_parse(path->local, &keynum, plain, sizeof(plain));
	if (r == BATV_NONE) {
		if (!on || !s->tx.from.null_path)
			return 0;
		mail_path_format(path, addr, sizeof(addr));
		smtp_reply(s, "550 5.7.1 <%s>: This domain signs the sender address of its outgoing mail"
			   " (BATV); a bounce to an unsigned address answers mail that was not sent from"
			   " here, so it is refused", addr);
		stats_inc(STATS_SMTP_REJECTS, REJECT_BATV);
		server_event("batv-refused", addr, s->conn->ip, "bounce to an unsigned address");
		return -1;
	}
	if (r == BATV_VALID) {
		int k = directory_batv_key(dir, path->domain, keynum, false, hex, sizeof(hex));
		size_t hl = k > 0 ? strlen(hex) : 0;

		for (size_t i = 0; i + 1 < hl && (size_t)keylen < sizeof(key); i += 2) {
			unsigned byte;
			if (sscanf(hex + i, "%2x", &byte) != 1)
				break;
			key[keylen++] = (unsigned char)byte;
		}
		r = batv_verify(path->local, path->domain, key, (size_t)keylen, time(NULL), plain,
				sizeof(plain));
		explicit_bzero(key, sizeof(key));
		explicit_bzero(hex, sizeof(hex));
	}
	if (r == BATV_VALID) {
		str_copy(path->local, sizeof(path->local), plain);
		return 0;
	}
	if (!on)
		return 0;	/* an ordinary local part that looks like a tag */
	mail_path_format(path, addr, sizeof(addr));
	smtp_reply(s, "550 5.7.1 <%s>: Invalid BATV address (%s): this is not a sender address this"
		   " server signed recently; bounces are accepted for 7 days after sending", addr,
		   batv_result_text(r));
	stats_inc(STATS_SMTP_REJECTS, REJECT_BATV);
	server_event("batv-refused", addr, s->conn->ip, batv_result_text(r));
	return -1;
}

/* Counts an accepted recipient against the authenticated sender's limits
 * and runs the compromise detection. Returns 0, or -1 after replying. */
static int rcpt_count_sent(struct smtp_session *s, const char *address)
{
	char text[512];

	if (!s->authenticated || !s->tx.sender.active)
		return 0;
	switch (sendguard_rcpt(&s->tx.sender, address, s->conn->ip, text, sizeof(text))) {
	case SENDGUARD_OK:
		return 0;
	case SENDGUARD_LIMIT:
		smtp_reply(s, "451 4.7.1 %s", text);
		stats_inc(STATS_SMTP_REJECTS, REJECT_RATE_LIMIT);
		if (!s->tx.sender.limit_noted)
			server_event("send-limited", s->auth_user, s->conn->ip, text);
		s->tx.sender.limit_noted = true;
		return -1;
	case SENDGUARD_SUSPENDED:
		smtp_reply(s, "550 5.7.1 %s", text);
		stats_inc(STATS_SMTP_REJECTS, REJECT_SUSPENDED);
		return -1;
	default:
		smtp_local_error(s, "451 4.3.0 Temporary lookup failure, try again later", __func__);
		return -1;
	}
}

/* "<Postmaster>" without a domain: the postmaster of the server's own
 * domain, i.e. the host name or the nearest parent of it that is a local
 * domain. 0, or -1 after replying. */
static int rcpt_postmaster_domain(struct smtp_session *s, struct directory *dir,
				  struct mail_path *path)
{

	for (const char *h = s->lim.hostname; h != NULL && strchr(h, '.') != NULL;) {
		int r = directory_domain_exists(dir, h);
		if (r < 0) {
			smtp_local_error(s, "451 4.3.0 Temporary lookup failure, try again later", __func__);
			return -1;
		}
		if (r > 0) {
			str_copy(path->domain, sizeof(path->domain), h);
			str_lower(path->domain);
			return 0;
		}
		h = strchr(h, '.') + 1;
	}
	smtp_reply(s, "550 5.1.1 <postmaster>: No postmaster mailbox here: the server's host name"
		   " %s is not in a domain this server hosts", s->lim.hostname);
	stats_inc(STATS_SMTP_REJECTS, REJECT_RCPT_UNKNOWN);
	smtp_error(s);
	return -1;
}

static void rcpt_discard(struct smtp_rcpt *rcpt)
{
	free(rcpt->maildir);
	free(rcpt->forward);
}

/* An RCPT answered 250 for rcpts[index]: counted, and for LMTP's
 * replies after the data (one per accepted RCPT, RFC 2033 4.2) noted. */
static void rcpt_accepted(struct smtp_session *s, unsigned index)
{
	unsigned *grown = NULL;

	if (s->conn->service == SERVICE_LMTP && (s->tx.accepted != NULL || s->tx.rcpts_accepted == 0)) {
		grown = realloc(s->tx.accepted, (s->tx.rcpts_accepted + 1) * sizeof(*grown));
		if (grown == NULL) {
			free(s->tx.accepted);
			s->tx.accepted = NULL;
		} else {
			grown[s->tx.rcpts_accepted] = index;
			s->tx.accepted = grown;
		}
	}
	s->tx.rcpts_accepted++;
	smtp_reply(s, "250 2.1.5 Ok");
}

/* Appends a recipient to the transaction and replies 250, or replies
 * with the error. rcpt.maildir is owned by the session from here on. */
static void rcpt_append(struct smtp_session *s, struct smtp_rcpt *rcpt)
{
	for (unsigned i = 0; i < s->tx.nrcpts; i++) {
		if (strcmp(s->tx.rcpts[i].address, rcpt->address) == 0) {
			/* The same mailbox twice gets one copy. */
			rcpt_discard(rcpt);
			rcpt_accepted(s, i);
			return;
		}
	}
	if (rcpt_count_sent(s, rcpt->address) < 0) {
		rcpt_discard(rcpt);
		return;
	}
	{
		struct smtp_rcpt *grown = realloc(s->tx.rcpts, (s->tx.nrcpts + 1) * sizeof(*grown));
		if (grown == NULL) {
			rcpt_discard(rcpt);
			smtp_local_error(s, "452 4.3.1 Insufficient system resources", __func__);
			return;
		}
		s->tx.rcpts = grown;
	}
	s->tx.rcpts[s->tx.nrcpts++] = *rcpt;
	s->state = SMTP_S_RCPT;
	rcpt_accepted(s, s->tx.nrcpts - 1);
}

/* An authenticated sender's recipient in another domain: it goes to the
 * outbound queue at the end of DATA. */
static void rcpt_add_remote(struct smtp_session *s, const char *addr)
{
	struct smtp_rcpt rcpt;

	memset(&rcpt, 0, sizeof(rcpt));
	if (s->tx.nrcpts > 0 && s->tx.rcpts[0].node[0] != '\0') {
		/* server.role = proxy: the others go to mail nodes */
		smtp_reply(s, "452 4.5.3 Too many kinds of recipients: send this one in another message");
		return;
	}
	if (str_copy(rcpt.address, sizeof(rcpt.address), addr) < 0) {
		smtp_reply(s, "501 5.1.3 Recipient address too long");
		smtp_error(s);
		return;
	}
	rcpt_append(s, &rcpt);
}

static void rcpt_run(struct smtp_session *s, const struct smtp_command *cmd, struct directory *dir);

/* The recipient's lookups (domain, BATV, account, forwarding) read the
 * directory in one read transaction. */
void smtp_cmd_rcpt(struct smtp_session *s, const struct smtp_command *cmd)
{
	struct directory *dir = server_directory();
	bool txn = dir != NULL && directory_read_begin(dir) == 0;

	if (dir != NULL)
		directory_settings_batch_begin(dir);
	rcpt_run(s, cmd, dir);
	if (dir != NULL)
		directory_settings_batch_end(dir);
	if (txn)
		directory_read_end(dir);
}

static void rcpt_run(struct smtp_session *s, const struct smtp_command *cmd, struct directory *dir)
{
	struct mail_path path;
	struct smtp_rcpt rcpt;
	const char *error, *trick;
	enum smtp_arg_error r;
	int local;

	if (s->tx.nrcpts >= s->lim.smtp_max_recipients) {
		smtp_reply(s, "452 4.5.3 Too many recipients (at most %u per message)",
			   s->lim.smtp_max_recipients);
		stats_inc(STATS_SMTP_REJECTS, REJECT_TOO_MANY_RCPTS);
		return;
	}
	r = smtp_rcpt_parse(cmd->args, cmd->args_len, &path, &error);
	if (r != SMTP_ARG_OK) {
		if (r == SMTP_ARG_PARAM)
			smtp_reply(s, "555 5.5.4 %s", error);
		else if (r == SMTP_ARG_ADDRESS)
			smtp_reply(s, "501 5.1.3 Bad recipient address syntax: %s", error);
		else
			smtp_reply(s, "501 5.5.4 %s", error);
		smtp_error(s);
		return;
	}
	if (dir == NULL) {
		smtp_local_error(s, "451 4.3.0 Temporary lookup failure, try again later", __func__);
		return;
	}
	if (path.domain[0] == '\0' && rcpt_postmaster_domain(s, dir, &path) < 0)
		return;
	local = path.domain_literal ? 0 : directory_domain_exists(dir, path.domain);
	if (local < 0) {
		smtp_local_error(s, "451 4.3.0 Temporary lookup failure, try again later", __func__);
		return;
	}
	trick = mail_path_relay_trick(&path);
	if (local > 0 && trick != NULL) {
		smtp_reply(s, "550 5.7.1 Relaying denied (%s): to send mail to other domains, authenticate"
			   " (SMTP AUTH) on port 587", trick);
		stats_inc(STATS_SMTP_REJECTS, REJECT_RELAY_DENIED);
		server_event("relay-denied", "", s->conn->ip, trick);
		smtp_error(s);
		return;
	}
	if (local == 0) {
		char addr[MAIL_PATH_MAX + 8];
		mail_path_format(&path, addr, sizeof(addr));
		if (!s->authenticated) {
			smtp_reply(s, "554 5.7.1 <%s>: Relay access denied: to send mail to other domains,"
				   " authenticate (SMTP AUTH) on port 587", addr);
			stats_inc(STATS_SMTP_REJECTS, REJECT_RELAY_DENIED);
			server_event("relay-denied", "", s->conn->ip, trick != NULL ? trick : path.domain);
			smtp_error(s);
			return;
		}
		if (path.domain_literal || path.domain[0] == '\0' || trick != NULL) {
			smtp_reply(s, "550 5.1.2 <%s>: This form of address is not accepted for other"
				   " domains (%s): use a plain name@domain address", addr,
				   trick != NULL ? trick : "IP address literal");
			stats_inc(STATS_SMTP_REJECTS, REJECT_RELAY_DENIED);
			smtp_error(s);
			return;
		}
		rcpt_add_remote(s, addr);
		return;
	}
	if (rcpt_check_batv(s, &path, dir) < 0)
		return;
	memset(&rcpt, 0, sizeof(rcpt));
	if (rcpt_check_local(s, &path, dir, &rcpt) < 0)
		return;
	rcpt_append(s, &rcpt);
}
