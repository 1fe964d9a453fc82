/* The webmail's sending (http_api_env.mail_submit, ops_mail_write.h): a message
 * composed by ops/ goes through what port 587 does for an authenticated
 * login, on the API's worker thread: the size limit, the send-as rules
 * (server/smtp_sendas.c), the sending limits and compromise detection
 * (sendguard: the same per-account counters as SMTP), the recipients'
 * checks (local accounts enabled and with room), the virus check, then
 * every local copy
 * delivered durably (Return-Path, Delivered-To, Received), the forwarding
 * of local recipients, and one queue file for the remote ones, DKIM-signed
 * for the login (queue_submit). Every copy is durable before the reply.
 * The virus check runs as for submitted mail, after the recipients'
 * checks and before any copy is written. */
#include "server/web.h"
#include "directory/directory.h"
#include "directory/validate.h"
#include "lib/log.h"
#include "lib/str.h"
#include "ops/ops_mail_write.h"
#include "policy/forward.h"
#include "server/queue.h"
#include "server/sendguard.h"
#include "server/server.h"
#include "server/smtp_forward.h"
#include "server/smtp_sendas.h"
#include "server/smtp_session.h"
#include "server/smtp_virus.h"
#include "server/stats.h"
#include "settings/settings.h"
#include "store/index.h"
#include "store/maildir.h"
#include "store/quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The message as it is delivered: the composed one, or the virus
 * check's rewritten copy (X-Virus-Scan: unavailable). */
struct web_body {
	const char *data;
	int fd;
	size_t len;
};

struct web_rcpt {
	char address[320];
	char maildir[4200];	/* "" when remote */
	uint64_t quota_bytes;
	char forward[FORWARD_MAX * (FORWARD_ADDR_MAX + 2)];	/* "" for none */
	bool keep;
	char name[MAILDIR_NAME_MAX];	/* the copy delivered */
	size_t size;
};

static int refuse(struct ops_submit_result *r, enum ops_submit_status st, const char *rcpt, const char *text)
{
	r->status = st;
	str_copy(r->rcpt, sizeof(r->rcpt), rcpt != NULL ? rcpt : "");
	str_copy(r->text, sizeof(r->text), text);
	return 0;
}

/* A local recipient: its account enabled and its mailbox with room.
 * 0, or -1 after refuse(). */
static int rcpt_local(struct directory *dir, struct web_rcpt *w, size_t len, struct ops_submit_result *r)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1];
	struct dir_account acct;
	const char *error;
	uint64_t usage;
	int got;

	str_lower(w->address);
	got = validate_address(w->address, local, sizeof(local), domain, sizeof(domain), &error) < 0 ? 0 :
	      directory_account_get(dir, w->address, &acct);
	if (got < 0)
		return refuse(r, OPS_SUBMIT_TEMP, w->address, "temporary lookup failure"), -1;
	if (got == 0)
		return refuse(r, OPS_SUBMIT_RCPT, w->address, "no such user here"), -1;
	if (!acct.enabled)
		return refuse(r, OPS_SUBMIT_RCPT, w->address, "mailbox disabled, not accepting messages"), -1;
	if (server_maildir(w->maildir, sizeof(w->maildir), acct.domain, acct.local) < 0 ||
	    (access(w->maildir, F_OK) < 0 && maildir_create(w->maildir) < 0) || quota_usage(w->maildir, &usage) < 0)
		return refuse(r, OPS_SUBMIT_TEMP, w->address, "mailbox unavailable"), -1;
	w->quota_bytes = (uint64_t)acct.quota_mb * 1024 * 1024;
	w->keep = true;
	if (settings_account_string(dir, w->address, SETTING_FORWARD, w->forward, sizeof(w->forward)) > 0 &&
	    w->forward[0] != '\0') {
		char list[FORWARD_MAX][FORWARD_ADDR_MAX];
		size_t n = 0;

		if (forward_list_parse(w->forward, w->address, list, &n, &error) < 0 || n == 0)
			w->forward[0] = '\0';
		else
			w->keep = settings_account_bool(dir, w->address, SETTING_FORWARD_KEEP);
	} else {
		w->forward[0] = '\0';
	}
	if (w->keep && usage + len > w->quota_bytes)
		return refuse(r, OPS_SUBMIT_RCPT, w->address,
			      "mailbox full: the recipient's mailbox cannot take this message"), -1;
	return 0;
}

/* The recipients resolved and counted against the sender's limits, as
 * RCPT does; 0, or -1 after refuse(). */
static int rcpts_check(struct directory *dir, const struct ops_submit *in, struct sendguard_sender *snd,
		       struct web_rcpt *rc, struct ops_submit_result *r)
{
	for (size_t i = 0; i < in->nrcpts; i++) {
		const char *at = strrchr(in->rcpts[i], '@');
		char text[512];
		int local;

		str_copy(rc[i].address, sizeof(rc[i].address), in->rcpts[i]);
		if (at == NULL)
			return refuse(r, OPS_SUBMIT_RCPT, in->rcpts[i], "not an address"), -1;
		local = directory_domain_exists(dir, at + 1);
		if (local < 0)
			return refuse(r, OPS_SUBMIT_TEMP, in->rcpts[i], "temporary lookup failure"), -1;
		if (local > 0 && rcpt_local(dir, &rc[i], in->len, r) < 0)
			return -1;
		switch (sendguard_rcpt(snd, rc[i].address, in->ip, text, sizeof(text))) {
		case SENDGUARD_OK:
			break;
		case SENDGUARD_LIMIT:
			if (!snd->limit_noted)
				server_event("send-limited", in->login, in->ip, text);
			snd->limit_noted = true;
			stats_inc(STATS_SMTP_REJECTS, REJECT_RATE_LIMIT);
			return refuse(r, OPS_SUBMIT_LIMIT, rc[i].address, text), -1;
		case SENDGUARD_SUSPENDED:
			stats_inc(STATS_SMTP_REJECTS, REJECT_SUSPENDED);
			return refuse(r, OPS_SUBMIT_SUSPENDED, rc[i].address, text), -1;
		default:
			return refuse(r, OPS_SUBMIT_TEMP, rc[i].address, "temporary lookup failure"), -1;
		}
	}
	return 0;
}

static void undo(struct web_rcpt *rc, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[8400];

		if (rc[i].name[0] == '\0')
			continue;
		snprintf(path, sizeof(path), "%s/new/%s", rc[i].maildir, rc[i].name);
		unlink(path);
		quota_release(rc[i].maildir, rc[i].size);
		rc[i].name[0] = '\0';
	}
}

/* Every kept local copy, durably; then the queue file of the remote
 * recipients; then the forwarded copies. 0, or -1 after refuse(). */
static int deliver_all(const struct ops_submit *in, const struct web_body *b, struct web_rcpt *rc,
		       const char *received, const char *date, struct ops_submit_result *r)
{
	const char *remote[in->nrcpts > 0 ? in->nrcpts : 1];
	size_t nremote = 0;
	char prefix[2048];
	const char *error = "";

	for (size_t i = 0; i < in->nrcpts; i++) {
		struct maildir_msg msg = { prefix, 0, b->data, b->fd, b->len };
		int n;

		if (rc[i].maildir[0] == '\0') {
			remote[nremote++] = rc[i].address;
			continue;
		}
		if (!rc[i].keep)
			continue;
		n = snprintf(prefix, sizeof(prefix), "Return-Path: <%s>\r\nDelivered-To: %s\r\n", in->from,
			     rc[i].address);
		n = smtp_trace_append(prefix, sizeof(prefix), n, received, rc[i].address, "", date);
		if (n < 0)
			return undo(rc, i), refuse(r, OPS_SUBMIT_TEMP, NULL, "local error"), -1;
		msg.prefix_len = (size_t)n;
		if (!quota_reserve(rc[i].maildir, (size_t)n + b->len, rc[i].quota_bytes))
			return undo(rc, i), refuse(r, OPS_SUBMIT_RCPT, rc[i].address, "mailbox full"), -1;
		rc[i].size = (size_t)n + b->len;
		if (maildir_deliver(rc[i].maildir, &msg, rc[i].name, sizeof(rc[i].name), &error) < 0) {
			quota_release(rc[i].maildir, rc[i].size);
			log_error(NULL, "web: delivery to %s failed: %s", rc[i].address, error);
			return undo(rc, i), refuse(r, OPS_SUBMIT_TEMP, NULL, "local error while storing the message"), -1;
		}
	}
	if (nremote > 0) {
		char qfrom[MAIL_PATH_MAX + 8];
		struct maildir_msg msg = { prefix, 0, b->data, b->fd, b->len };
		int n = smtp_trace_append(prefix, sizeof(prefix), 0, received, nremote == 1 ? remote[0] : NULL, "", date);

		if (smtp_batv_envelope_sender(in->from, qfrom, sizeof(qfrom)) < 0)
			str_copy(qfrom, sizeof(qfrom), in->from);
		msg.prefix_len = n > 0 ? (size_t)n : 0;
		if (n < 0 || queue_submit(in->login, qfrom, remote, nremote, &msg, r->queue_id, sizeof(r->queue_id),
					  &error) < 0) {
			log_error(NULL, "web: cannot queue the message for %zu remote recipients: %s", nremote, error);
			return undo(rc, in->nrcpts), refuse(r, OPS_SUBMIT_TEMP, NULL, "cannot queue the message"), -1;
		}
	}
	return 0;
}

static void forward_and_note(const struct ops_submit *in, const struct web_body *b, struct web_rcpt *rc,
			     const char *txid, const char *received, const char *date)
{
	struct directory *dir = server_directory();
	struct forward_msg fm = {
		.sid = "web", .txid = txid, .ip = in->ip, .from = in->from, .received = received,
		.tls_suite = "", .date = date, .body = b->data, .body_fd = b->fd, .body_len = b->len,
	};

	for (size_t i = 0; i < in->nrcpts; i++) {
		char detail[512];

		if (rc[i].maildir[0] == '\0')
			continue;
		if (rc[i].forward[0] != '\0')
			smtp_forward(&fm, rc[i].address, rc[i].forward);
		store_changed(rc[i].maildir);
		stats_add(STATS_LOCAL_DELIVERIES, 0, rc[i].keep);
		if (dir != NULL && rc[i].keep) {
			snprintf(detail, sizeof(detail), "from <%s>, %zu bytes, id %s", in->from, rc[i].size, txid);
			directory_event_add(dir, "delivered", rc[i].address, in->ip, detail);
		}
		log_info(NULL, "web: delivered id=%s from=<%s> to=<%s> size=%zu", txid, in->from, rc[i].address,
			 in->len);
	}
}

/* The virus check of submitted mail (smtp_virus.c: the login's domain
 * decides), as at the end of DATA: 0 to deliver (body may now be the
 * rewritten copy), or -1 after refuse(). */
static int virus_check(const struct ops_submit *in, const char *txid, struct smtp_virus *v,
		       struct web_body *b, struct ops_submit_result *r)
{
	struct smtp_virus_msg m = {
		.sid = "web", .txid = txid, .ip = in->ip, .from = in->from, .login = in->login,
		.rcpts = in->rcpts, .nrcpts = in->nrcpts,
	};
	char text[300];

	if (smtp_virus_run(v, &m, &b->data, &b->fd, &b->len) == 0)
		return 0;
	if (v->found) {
		snprintf(text, sizeof(text), "message refused: it contains the virus %s", v->name);
		return refuse(r, OPS_SUBMIT_VIRUS, NULL, text), -1;
	}
	return refuse(r, OPS_SUBMIT_TEMP, NULL, v->defer ? "the virus check is unavailable, try again later" :
		      "local error"), -1;
}

int web_mail_submit(const struct ops *o, const struct ops_submit *in, struct ops_submit_result *r)
{
	struct directory *dir = server_directory();
	struct sendguard_sender snd;
	struct smtp_virus virus;
	struct web_body body = { in->msg, -1, in->len };
	struct web_rcpt *rc;
	struct config cfg;
	char text[512], txid[16], received[1024], date[64];
	time_t now = time(NULL);
	struct tm tm;
	int ok;

	(void)o;
	memset(r, 0, sizeof(*r));
	memset(&snd, 0, sizeof(snd));
	smtp_virus_init(&virus);
	if (dir == NULL)
		return refuse(r, OPS_SUBMIT_TEMP, NULL, "the directory is unavailable");
	server_config(&cfg);
	if (in->len > cfg.smtp_max_message_size) {
		snprintf(text, sizeof(text), "message size exceeds the limit of %llu bytes",
			 (unsigned long long)cfg.smtp_max_message_size);
		explicit_bzero(&cfg, sizeof(cfg));
		return refuse(r, OPS_SUBMIT_TOO_BIG, NULL, text);
	}
	if (in->nrcpts == 0 || in->nrcpts > cfg.smtp_max_recipients) {
		explicit_bzero(&cfg, sizeof(cfg));
		return refuse(r, OPS_SUBMIT_RCPT, NULL, in->nrcpts == 0 ? "no recipients" : "too many recipients");
	}
	str_random_id(txid, 13);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	snprintf(received, sizeof(received), "Received: from [%s]\r\n\tby %s (Yubin) with HTTPS id %s\r\n"
		 "\t(authenticated sender, webmail)", in->ip, cfg.hostname, txid);
	explicit_bzero(&cfg, sizeof(cfg));
	ok = sendas_check(dir, in->login, in->from);
	if (ok <= 0) {
		if (ok == 0) {
			server_event("sender-refused", in->login, in->ip, in->from);
			stats_inc(STATS_SMTP_REJECTS, REJECT_SENDER);
		}
		snprintf(text, sizeof(text), "sender address <%s> not allowed for login %s: an account sends as its"
			 " own address (also +tag) and the addresses its domain administrator gave it", in->from,
			 in->login);
		return refuse(r, ok < 0 ? OPS_SUBMIT_TEMP : OPS_SUBMIT_SENDER, in->from, text);
	}
	switch (sendguard_sender_open(&snd, in->login, in->ip, text, sizeof(text))) {
	case SENDGUARD_OK:
		break;
	case SENDGUARD_SUSPENDED:
		server_event("send-refused", in->login, in->ip, "sending is suspended");
		stats_inc(STATS_SMTP_REJECTS, REJECT_SUSPENDED);
		return refuse(r, OPS_SUBMIT_SUSPENDED, NULL, text);
	default:
		return refuse(r, OPS_SUBMIT_TEMP, NULL, "temporary lookup failure");
	}
	rc = calloc(in->nrcpts, sizeof(*rc));
	if (rc == NULL)
		return refuse(r, OPS_SUBMIT_TEMP, NULL, "out of memory");
	if (rcpts_check(dir, in, &snd, rc, r) == 0 && virus_check(in, txid, &virus, &body, r) == 0 &&
	    deliver_all(in, &body, rc, received, date, r) == 0) {
		forward_and_note(in, &body, rc, txid, received, date);
		if (r->queue_id[0] != '\0') {
			log_info(NULL, "web: queued id=%s queue=%s from=<%s> login=%s size=%zu", txid, r->queue_id,
				 in->from, in->login, in->len);
			stats_add(STATS_RELAY_QUEUED, 0, 1);
		}
	}
	free(rc);
	smtp_virus_free(&virus);
	return 0;
}
