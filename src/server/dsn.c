/* Delivery status notifications (RFC 3464, RFC 6522 multipart/report),
 * from MAILER-DAEMON with the null sender, in the shape Postfix's bounce
 * daemon writes them: a human part, message/delivery-status, and the
 * original headers (text/rfc822-headers). */
#include "server/queue.h"
#include "server/proxy.h"
#include "server/server.h"
#include "directory/directory.h"
#include "store/index.h"
#include "store/maildir.h"
#include "store/quota.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/strbuf.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DSN_HEADERS_MAX (64 * 1024)

static void rfc5322_date(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%a, %d %b %Y %H:%M:%S +0000 (UTC)", &tm);
}

/* The status code of a recorded reply ("550 5.1.1 ..."): its enhanced code,
 * else one made from the class. */
static void reply_status(const char *reply, bool delayed, char *buf, size_t size)
{
	const char *p = reply;

	if (strlen(p) > 4 && p[3] == ' ' && (p[4] == '4' || p[4] == '5') && p[5] == '.') {
		size_t n = strspn(p + 4, "0123456789.");
		if (n >= 5 && n < size) {
			str_copyn(buf, size, p + 4, n);
			if (!delayed || buf[0] == '4')
				return;
		}
	}
	snprintf(buf, size, "%s", delayed ? "4.0.0" : (reply[0] == '5' ? "5.0.0" : "4.4.7"));
}

/* The original header block (up to the empty line), CRLF as stored. */
static void original_headers(const struct queue_env *env, const char *path, struct strbuf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t want = env->body_len < DSN_HEADERS_MAX ? (size_t)env->body_len : DSN_HEADERS_MAX;
	char *buf;
	ssize_t n;

	if (fd < 0)
		return;
	buf = malloc(want + 1);
	if (buf == NULL) {
		close(fd);
		return;
	}
	n = pread(fd, buf, want, (off_t)env->body_off);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		size_t len = end != NULL ? (size_t)(end - buf) + 2 : (size_t)n;
		strbuf_append(out, buf, len);
	}
	free(buf);
}

static void dsn_build(struct strbuf *m, const struct queue_env *env, const char *path,
		      const size_t *idx, size_t n, bool delayed, const char *hostname,
		      const struct config *cfg)
{
	char date[64], arrival[64], boundary[96], rnd[13], status[16];
	int64_t now = (int64_t)time(NULL);

	str_random_id(rnd, sizeof(rnd));
	snprintf(boundary, sizeof(boundary), "%s.%lld/%s", env->id, (long long)now, hostname);
	rfc5322_date(now, date, sizeof(date));
	rfc5322_date(env->created, arrival, sizeof(arrival));
	strbuf_printf(m, "Return-Path: <>\r\n");
	strbuf_printf(m, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", hostname);
	strbuf_printf(m, "To: <%s>\r\n", env->from);
	strbuf_printf(m, "Subject: %s\r\n", delayed ? "Delayed Mail (still being retried)"
						      : "Undelivered Mail Returned to Sender");
	strbuf_printf(m, "Date: %s\r\nMessage-ID: <%lld.%s.%s@%s>\r\n", date, (long long)now, env->id,
		      rnd, hostname);
	strbuf_printf(m, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	strbuf_printf(m, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
			 "\tboundary=\"%s\"\r\n\r\n", boundary);
	strbuf_printf(m, "This is a MIME-encapsulated message.\r\n\r\n");

	strbuf_printf(m, "--%s\r\nContent-Description: Notification\r\n"
			 "Content-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
	strbuf_printf(m, "This is the mail system at host %s.\r\n\r\n", hostname);
	if (delayed) {
		strbuf_printf(m, "####################################################################\r\n"
				 "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n"
				 "####################################################################\r\n\r\n"
				 "Your message could not be delivered for %u hours.\r\n"
				 "It will be retried until it is %u days old.\r\n\r\n",
			      cfg->queue_delay_warning / 3600, cfg->queue_lifetime / 86400);
	} else {
		strbuf_printf(m, "I'm sorry to have to inform you that your message could not\r\n"
				 "be delivered to one or more recipients. It's attached below.\r\n\r\n");
	}
	for (size_t i = 0; i < n; i++) {
		const struct queue_rcpt *r = &env->rcpts[idx[i]];
		strbuf_printf(m, "<%s>: %s\r\n\r\n", r->addr, r->reply[0] != '\0' ? r->reply : "unknown error");
	}

	strbuf_printf(m, "--%s\r\nContent-Description: Delivery report\r\n"
			 "Content-Type: message/delivery-status\r\n\r\n", boundary);
	strbuf_printf(m, "Reporting-MTA: dns; %s\r\nX-Yubin-Queue-ID: %s\r\nX-Yubin-Sender: rfc822; %s\r\n"
			 "Arrival-Date: %s\r\n", hostname, env->id, env->from, arrival);
	for (size_t i = 0; i < n; i++) {
		const struct queue_rcpt *r = &env->rcpts[idx[i]];
		char last[64];
		const char *host = strstr(r->reply, "(host ");

		reply_status(r->reply, delayed, status, sizeof(status));
		rfc5322_date(r->ts != 0 ? r->ts : now, last, sizeof(last));
		strbuf_printf(m, "\r\nFinal-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n", r->addr,
			      delayed ? "delayed" : "failed", status);
		if (host != NULL) {
			const char *end = strchr(host + 6, '[');
			if (end != NULL)
				strbuf_printf(m, "Remote-MTA: dns; %.*s\r\n", (int)(end - host - 6), host + 6);
		}
		if (r->reply[0] != '\0')
			strbuf_printf(m, "Diagnostic-Code: smtp; %s\r\n", r->reply);
		strbuf_printf(m, "Last-Attempt-Date: %s\r\n", last);
		if (delayed) {
			char until[64];
			rfc5322_date(env->created + cfg->queue_lifetime, until, sizeof(until));
			strbuf_printf(m, "Will-Retry-Until: %s\r\n", until);
		}
	}
	strbuf_printf(m, "\r\n--%s\r\nContent-Description: Undelivered Message Headers\r\n"
			 "Content-Type: text/rfc822-headers\r\n\r\n", boundary);
	original_headers(env, path, m);
	strbuf_printf(m, "\r\n--%s--\r\n", boundary);
}

/* Delivers into the local sender's INBOX. 1 done, 0 not a local account,
 * -1 failed. */
static int dsn_deliver_local(const char *address, struct strbuf *msg)
{
	struct directory *dir = server_directory();
	struct dir_account acct;
	struct maildir_msg m;
	char maildir[PATH_MAX], name[MAILDIR_NAME_MAX], node[DIR_NODE_NAME_MAX + 1];
	const char *error = "";
	int r;

	if (dir == NULL)
		return -1;
	r = directory_account_get(dir, address, &acct);
	if (r <= 0)
		return r;
	/* a proxy holds no mailbox, nor a node another node's: queued, the
	 * notice goes to the account's node like any mail */
	if (proxy_role_is_proxy())
		return 0;
	r = proxy_account_is_here(dir, acct.address, node, sizeof(node));
	if (r <= 0)
		return r;
	if (server_maildir(maildir, sizeof(maildir), acct.domain, acct.local) < 0)
		return -1;
	memset(&m, 0, sizeof(m));
	m.prefix = "";
	m.body = strbuf_cstr(msg);
	m.body_fd = -1;
	m.body_len = msg->len;
	/* a bounce is never refused for quota: the sender must learn */
	quota_reserve(maildir, m.body_len, 0);
	if (maildir_deliver(maildir, &m, name, sizeof(name), &error) < 0) {
		quota_release(maildir, m.body_len);
		log_error(NULL, "queue: DSN to %s failed: %s", address, error);
		return -1;
	}
	store_changed(maildir);
	return 1;
}

int dsn_send(const struct queue_env *env, const char *path, const size_t *idx, size_t n,
	     bool delayed, const char **error_r)
{
	struct config cfg;
	struct strbuf m;
	int r;

	if (env->from[0] == '\0' || n == 0)
		return 0;	/* never a bounce for a bounce */
	server_config(&cfg);
	strbuf_init(&m);
	dsn_build(&m, env, path, idx, n, delayed, cfg.hostname, &cfg);
	r = dsn_deliver_local(env->from, &m);
	if (r == 0) {
		const char *rcpt = env->from;
		struct maildir_msg mm;
		char id[QUEUE_ID_MAX];

		memset(&mm, 0, sizeof(mm));
		mm.prefix = "";
		mm.body = strbuf_cstr(&m);
		mm.body_fd = -1;
		/* without our own Return-Path line: the receiver adds its own */
		mm.body += strlen("Return-Path: <>\r\n");
		mm.body_len = m.len - strlen("Return-Path: <>\r\n");
		r = queue_submit(NULL, "", &rcpt, 1, &mm, id, sizeof(id), error_r) == 0 ? 1 : -1;
		if (r > 0)
			log_info(NULL, "queue: id=%s %s notice to <%s> queued as id=%s", env->id,
				 delayed ? "delay" : "bounce", env->from, id);
	} else if (r > 0) {
		log_info(NULL, "queue: id=%s %s notice delivered to <%s>", env->id,
			 delayed ? "delay" : "bounce", env->from);
	} else {
		*error_r = "cannot deliver the notice";
	}
	strbuf_free(&m);
	return r > 0 ? 0 : -1;
}
