/* The end of DATA on a worker thread: local delivery of one message to
 * every local recipient's Maildir, then one queue file for the remote
 * recipients of an authenticated sender. The 250 goes out only after every
 * copy is fsync'd and renamed into new/ (with new/ fsync'd) and the queue
 * file is on disk; if anything fails, the copies already written are
 * removed again and the client gets a 4xx, so a retry never duplicates and
 * a 250 never lies.
 *
 * A job goes worker -> committer -> worker -> loop:
 *   delivery_run (worker)       checks, then each local copy into tmp/,
 *                               handed straight to the committer
 *   (committer thread)          makes them durable in new/ with the copies
 *                               of every other session waiting then
 *                               (group commit, store/maildir_commit.h)
 *   delivery_batch_finish       (worker, once per batch) the plain jobs'
 *                               events in one transaction
 *   or delivery_finish (worker) per job: a queue file still to write,
 *                               forwarding, auto-replies, a failed copy
 * A message with only remote recipients has its queue file staged by
 * delivery_run and made durable by the committer like a local copy.
 *   delivery_done (loop)        the reply */
#include "server/smtp_session.h"
#include "directory/directory.h"
#include "policy/batv.h"
#include "policy/sendas.h"
#include "server/smtp_sendas.h"
#include "mail/autoreply.h"
#include "mail/header.h"
#include "server/inbound_auth.h"
#include "server/queue.h"
#include "server/smtp_forward.h"
#include "server/smtp_virus.h"
#include "server/smtp_spam.h"
#include "server/smtp_sieve.h"
#include "spam/spam_rules.h"
#include "server/stats.h"
#include "store/index.h"
#include "store/maildir.h"
#include "store/maildir_commit.h"
#include "store/mail_move.h"
#include "store/quota.h"
#include "lib/groupcommit.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"
#include "settings/settings.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct delivery_rcpt {
	char address[320];
	char *maildir;		/* NULL: remote, queued */
	uint64_t quota_bytes;
	const char *forward;	/* the account's forwarding list (the session's), or NULL */
	bool keep;
	const char *folder;	/* ".Junk" (DMARC quarantine, spam), ".Trash" (spam), or NULL */
	char *folder_path;	/* a Sieve fileinto copy: the folder's Maildir (owned), or NULL */
	char flags[8];		/* Maildir flags a Sieve script set for the copy */
	char *redirects;	/* the forwarding list with Sieve's redirects (owned), or NULL */
	struct smtp_vacation *vacation;	/* Sieve's auto-reply to send (owned), or NULL */
	char *refusal;		/* Sieve reject/ereject's reason (owned), or NULL */
	bool ereject;
	bool extra;		/* a further copy for the recipient before it (fileinto) */
	struct spam_verdict spam;	/* the spam step's (smtp_spam.h) */
	char name[MAILDIR_NAME_MAX];	/* a copy delivered directly (forward fallback) */
	struct maildir_staged *staged;	/* a copy staged for the group commit */
	size_t size;		/* the quota reserved for its copy */
	bool full;		/* LMTP: its mailbox was full, the others got the message */
};

struct delivery_job {
	struct smtp_session *s;
	struct event_base *base;	/* the session's loop */
	char sid[12], txid[16], ip[64];
	char from[MAIL_PATH_MAX + 8];
	char received[1024];	/* Received up to its id and comments */
	char tls_suite[96];	/* RFC 8314 "tls" clause, or empty */
	char date[64];
	const char *body;
	int body_fd;
	size_t body_len;
	struct delivery_rcpt *rcpts;
	unsigned nrcpts;
	unsigned nremote;
	unsigned nextra;	/* rcpts entries that are extra copies (Sieve fileinto) */
	char queue_from[MAIL_PATH_MAX + 8];	/* the envelope sender outbound (BATV) */
	char login[320];	/* the authenticated login, or "" */
	struct inbound_auth *auth;	/* SPF/DKIM/DMARC, Authentication-Results */
	struct smtp_virus virus;	/* the virus check (smtp_virus.h) */
	struct smtp_spam spam;		/* the spam step's copies */
	/* results */
	int status;		/* 0 ok, 1 over quota, 2 temporary failure, 3 refused (DMARC),
				 * 4 sender refused (failed_rcpt: the address, field: its field),
				 * 5 refused (virus: found or defer), 6 refused by the one
				 * recipient's Sieve reject/ereject (refusal: the reason) */
	char failed_rcpt[320];
	char refusal[REFUSAL_REASON_MAX + 1];
	const char *field;
	const char *field_error;	/* status 4: the field could not be read */
	char queue_id[64];
	struct maildir_staged *queued;	/* the queue file, staged for the group commit */
	size_t queued_size;
	struct group_commit_req commit;	/* items: the staged copies */
	struct delivery_job *next_committed;	/* delivery_batch_finish's list */
	uint64_t started;	/* the end of the data (stats_now) */
	bool lmtp;		/* one result per recipient (RFC 2033) */
};

static void rfc5322_date(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(buf, size, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

int smtp_trace_append(char *buf, size_t size, int used, const char *received, const char *rcpt,
		      const char *tls_suite, const char *date)
{
	int n;

	if (used < 0 || (size_t)used >= size)
		return -1;
	if (rcpt != NULL)
		n = snprintf(buf + used, size - (size_t)used, "%s\r\n\tfor <%s>%s%s; %s\r\n", received,
			     rcpt, tls_suite[0] != '\0' ? "\r\n\ttls " : "", tls_suite, date);
	else
		n = snprintf(buf + used, size - (size_t)used, "%s%s%s;\r\n\t%s\r\n", received,
			     tls_suite[0] != '\0' ? "\r\n\ttls " : "", tls_suite, date);
	return n < 0 || (size_t)n >= size - (size_t)used ? -1 : used + n;
}

/* Builds one recipient's trace headers. */
static int delivery_prefix(const struct delivery_job *job, const struct delivery_rcpt *r,
			   char *buf, size_t size)
{
	char verdict[512];
	int n;

	if (smtp_spam_header(&r->spam, verdict, sizeof(verdict)) < 0)
		return -1;
	n = snprintf(buf, size, "Return-Path: <%s>\r\nDelivered-To: %s\r\n%s%s", job->from, r->address,
		     inbound_auth_header(job->auth), verdict);

	return smtp_trace_append(buf, size, n, job->received, r->address, job->tls_suite, job->date);
}

/* The trace header of the queued copy: Received only (the receiving
 * server adds Return-Path; Delivered-To is for local mailboxes). */
static int queue_prefix(const struct delivery_job *job, char *buf, size_t size)
{
	const char *only = NULL;

	for (unsigned i = 0; i < job->nrcpts; i++) {
		if (job->rcpts[i].maildir == NULL)
			only = only == NULL ? job->rcpts[i].address : "";
	}
	return smtp_trace_append(buf, size, 0, job->received, only != NULL && only[0] != '\0' ? only : NULL,
				 job->tls_suite, job->date);
}

/* Writes the queue file for the remote recipients: durably at once
 * (stage NULL), or staged into *stage for the group commit. 0, or -1. */
static int delivery_queue(struct delivery_job *job, struct maildir_staged *stage)
{
	char prefix[2048];
	const char *rcpts[job->nremote > 0 ? job->nremote : 1];
	struct maildir_msg msg;
	const char *error = "";
	size_t n = 0;
	int plen = queue_prefix(job, prefix, sizeof(prefix));

	if (plen < 0)
		return -1;
	for (unsigned i = 0; i < job->nrcpts; i++) {
		if (job->rcpts[i].maildir == NULL)
			rcpts[n++] = job->rcpts[i].address;
	}
	msg.prefix = prefix;
	msg.prefix_len = (size_t)plen;
	msg.body = job->body;
	msg.body_fd = job->body_fd;
	msg.body_len = job->body_len;
	if (stage != NULL) {
		job->queued_size = msg.prefix_len + msg.body_len;
		return queue_stage(job->login[0] != '\0' ? job->login : NULL, job->queue_from, rcpts, n, &msg,
				   stage, &error);
	}
	if (queue_submit(job->login[0] != '\0' ? job->login : NULL, job->queue_from, rcpts, n, &msg, job->queue_id, sizeof(job->queue_id),
			 &error) < 0) {
		log_error(job->sid, "smtp: cannot queue the message for %zu remote recipients: %s", n,
			  error);
		return -1;
	}
	return 0;
}

/* Removes the copies of recipients [0, upto) and gives back their quota. */
static void delivery_undo(struct delivery_job *job, unsigned upto)
{
	for (unsigned i = 0; i < upto; i++) {
		char path[PATH_MAX];
		if (job->rcpts[i].maildir == NULL)
			continue;
		maildir_staged_discard(job->rcpts[i].staged);
		if (job->rcpts[i].name[0] != '\0') {
			snprintf(path, sizeof(path), "%s%s%s/new/%s", job->rcpts[i].maildir,
				 job->rcpts[i].folder != NULL ? "/" : "",
				 job->rcpts[i].folder != NULL ? job->rcpts[i].folder : "", job->rcpts[i].name);
			unlink(path);
		}
		quota_release(job->rcpts[i].maildir, job->rcpts[i].size);
		job->rcpts[i].size = 0;
	}
}

/* The folder a copy goes to (r->folder under the mailbox, created if the
 * mailbox lacks it) into buf: 0, or -1. */
static int delivery_folder_path(const struct delivery_rcpt *r, char *buf, size_t size)
{
	if (strcmp(r->folder, ".Junk") == 0)
		return inbound_auth_junk_path(r->maildir, buf, size);
	if (snprintf(buf, size, "%s/%s", r->maildir, r->folder) >= (int)size)
		return -1;
	if (access(buf, F_OK) < 0 && maildir_folders_mend(r->maildir) < 0)
		return -1;
	return 0;
}

/* The message as r gets it: tagged when r's spam step found it spam. */
static void delivery_body(const struct delivery_job *job, const struct delivery_rcpt *r,
			  const char **body, int *fd, size_t *len)
{
	if (r->spam.spam) {
		*body = job->spam.tag_body;
		*fd = job->spam.tag_body_fd;
		*len = job->spam.tag_body_len;
	} else {
		*body = job->body;
		*fd = job->body_fd;
		*len = job->body_len;
	}
}

/* One local recipient's copy, staged in tmp/ for the group commit or
 * (stage false) delivered durably at once: 0, or -1 with job->status set. */
static int delivery_one(struct delivery_job *job, struct delivery_rcpt *r, bool stage)
{
	char prefix[8192], junk[PATH_MAX];
	struct maildir_msg msg;
	const char *error;
	int plen = delivery_prefix(job, r, prefix, sizeof(prefix));

	if (plen < 0) {
		job->status = 2;
		return -1;
	}
	msg.prefix = prefix;
	msg.prefix_len = (size_t)plen;
	delivery_body(job, r, &msg.body, &msg.body_fd, &msg.body_len);
	if (!quota_reserve(r->maildir, (size_t)plen + msg.body_len, r->quota_bytes)) {
		/* a mailbox frozen or moved to another node meanwhile
		 * (store/mail_move.h): it comes again, to the new node */
		job->status = mail_move_is_gone(r->maildir) || access(r->maildir, F_OK) < 0 ? 2 : 1;
		str_copy(job->failed_rcpt, sizeof(job->failed_rcpt), r->address);
		return -1;
	}
	r->size = (size_t)plen + msg.body_len;
	if (r->folder_path != NULL) {
		str_copy(junk, sizeof(junk), r->folder_path);
	} else if (r->folder != NULL && delivery_folder_path(r, junk, sizeof(junk)) < 0) {
		job->status = 2;
		return -1;
	}
	if (stage && (r->staged = malloc(sizeof(*r->staged))) == NULL) {
		job->status = 2;
		return -1;
	}
	if (stage ? maildir_stage(r->folder != NULL || r->folder_path != NULL ? junk : r->maildir, &msg,
				  r->staged, &error) :
	    maildir_deliver(r->folder != NULL || r->folder_path != NULL ? junk : r->maildir, &msg, r->name,
			    sizeof(r->name), &error)) {
		log_error(job->sid, "smtp: delivery to %s failed: %s", r->address, error);
		free(r->staged);
		r->staged = NULL;
		job->status = 2;	/* the caller undoes the reservation */
		return -1;
	}
	if (stage)
		str_copy(r->staged->flags, sizeof(r->staged->flags), r->flags);
	return 0;
}

/* The forwarded copies, once every local copy and the queue file are on
 * disk. An account whose mail could not be forwarded keeps its copy even
 * with forward-keep off. */
static void delivery_forward(struct delivery_job *job)
{
	struct forward_msg fm = {
		.sid = job->sid, .txid = job->txid, .ip = job->ip, .from = job->from,
		.received = job->received, .tls_suite = job->tls_suite, .date = job->date,
		.body = job->body, .body_fd = job->body_fd, .body_len = job->body_len,
	};

	for (unsigned i = 0; i < job->nrcpts && job->status == 0; i++) {
		struct delivery_rcpt *r = &job->rcpts[i];

		if (r->maildir == NULL || r->forward == NULL || r->extra || r->full)
			continue;
		delivery_body(job, r, &fm.body, &fm.body_fd, &fm.body_len);	/* spam keeps its tag */
		if (smtp_forward(&fm, r->address, r->forward) < 0 && !r->keep) {
			r->keep = true;
			if (delivery_one(job, r, false) < 0)
				return;
		}
	}
}

#define SENDER_HEADER_WINDOW (256 * 1024)

/* One From: or Sender: field of an authenticated login's message against
 * the sender policy (policy/sendas.h): 0, or -1 with status 4 or 2. */
static int delivery_check_field(struct delivery_job *job, struct directory *dir,
				const struct mail_header_field *f, const char *name)
{
	char addrs[SENDAS_HEADER_ADDRS][SENDAS_ADDR_MAX];
	const char *error;
	size_t n = 0;

	job->field = name;
	if (sendas_header_addresses(f->value, f->value_len, addrs, SENDAS_HEADER_ADDRS, &n, &error) < 0) {
		job->field_error = error;
		job->status = 4;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int r = sendas_check(dir, job->login, addrs[i]);

		if (r <= 0) {
			str_copy(job->failed_rcpt, sizeof(job->failed_rcpt), addrs[i]);
			job->status = r < 0 ? 2 : 4;
			return -1;
		}
	}
	return 0;
}

/* The sender policy for the header of an authenticated login's message:
 * every address of every From: field, and Sender: when present, must be
 * one the login may use. 0, or -1 with job->status set. */
static int delivery_check_sender(struct delivery_job *job)
{
	struct directory *dir = server_directory();
	struct mail_header_iter it;
	struct mail_header_field f;
	const char *data = job->body;
	char *head = NULL;
	size_t size = job->body_len;
	int r = 0;

	if (job->login[0] == '\0')
		return 0;
	if (dir == NULL) {
		job->status = 2;
		return -1;
	}
	if (data == NULL) {
		ssize_t got;

		head = malloc(SENDER_HEADER_WINDOW);
		got = head != NULL ? pread(job->body_fd, head, SENDER_HEADER_WINDOW, 0) : -1;
		if (got < 0) {
			free(head);
			job->status = 2;
			return -1;
		}
		data = head;
		size = (size_t)got;
	}
	size = mail_header_block_size(data, size);
	if (head != NULL && size == SENDER_HEADER_WINDOW) {
		free(head);
		job->field = "header";
		job->field_error = "too long to check";
		job->status = 4;
		return -1;
	}
	mail_header_iter_init(&it, data, size);
	while (r == 0 && mail_header_iter_next(&it, &f)) {
		if (mail_header_field_is(&f, "from"))
			r = delivery_check_field(job, dir, &f, "From:");
		else if (mail_header_field_is(&f, "sender"))
			r = delivery_check_field(job, dir, &f, "Sender:");
	}
	free(head);
	return r;
}

/* The inbound checks (inbound_auth.c) before any copy is written: -1 when
 * the message is refused (status 3) or cannot be stored (status 2). */
static int delivery_authenticate(struct delivery_job *job)
{
	const char *rcpts[job->nrcpts > 0 ? job->nrcpts : 1];
	bool junk[job->nrcpts > 0 ? job->nrcpts : 1];

	if (inbound_auth_run(job->auth, &job->body, &job->body_fd, &job->body_len) < 0) {
		job->status = 2;
		return -1;
	}
	for (unsigned i = 0; i < job->nrcpts; i++)
		rcpts[i] = job->rcpts[i].maildir != NULL ? job->rcpts[i].address : NULL;
	if (inbound_auth_decide(job->auth, rcpts, job->nrcpts, junk)) {
		job->status = 3;
		return -1;
	}
	for (unsigned i = 0; i < job->nrcpts; i++) {
		if (junk[i]) {	/* quarantined: kept here, never forwarded */
			job->rcpts[i].folder = ".Junk";
			job->rcpts[i].keep = true;
			job->rcpts[i].forward = NULL;
		}
	}
	return 0;
}

/* The virus check (smtp_virus.c) after the inbound DMARC check: -1 when
 * the message is refused (status 5) or cannot be stored (status 2). */
static int delivery_virus_check(struct delivery_job *job)
{
	const char *rcpts[job->nrcpts > 0 ? job->nrcpts : 1];
	struct smtp_virus_msg m = {
		.sid = job->sid, .txid = job->txid, .ip = job->ip, .from = job->from,
		.login = job->login, .rcpts = rcpts, .nrcpts = job->nrcpts,
	};

	for (unsigned i = 0; i < job->nrcpts; i++)
		rcpts[i] = job->rcpts[i].address;
	if (smtp_virus_run(&job->virus, &m, &job->body, &job->body_fd, &job->body_len) == 0)
		return 0;
	job->status = job->virus.found || job->virus.defer ? 5 : 2;
	return -1;
}

/* The spam step (smtp_spam.h) for mail from outside: verdicts per local
 * recipient, then each one's spam-action: inbox (tagged only), the Junk
 * or Trash folder, or delete (no copy, no forward; an event records it).
 * A recipient DMARC already sent to Junk stays there. -1 with status 2
 * when the message could not be copied. */
static int delivery_spam(struct delivery_job *job)
{
	const char *rcpts[job->nrcpts > 0 ? job->nrcpts : 1];
	struct spam_verdict v[job->nrcpts > 0 ? job->nrcpts : 1];
	struct spam_auth auth;

	if (job->login[0] != '\0')
		return 0;	/* submitted mail is not filtered */
	for (unsigned i = 0; i < job->nrcpts; i++)
		rcpts[i] = job->rcpts[i].maildir != NULL ? job->rcpts[i].address : NULL;
	inbound_auth_results(job->auth, &auth);
	if (smtp_spam_run(&job->spam, job->from, &auth, &job->body, &job->body_fd, &job->body_len,
			  rcpts, job->nrcpts, v) < 0) {
		job->status = 2;
		return -1;
	}
	for (unsigned i = 0; i < job->nrcpts; i++) {
		struct delivery_rcpt *r = &job->rcpts[i];

		r->spam = v[i];
		if (!v[i].spam || r->maildir == NULL)
			continue;
		if (v[i].action == SPAM_ACTION_DELETE) {
			r->keep = false;
			r->forward = NULL;
		} else if (v[i].action == SPAM_ACTION_JUNK && r->folder == NULL) {
			r->folder = ".Junk";
		} else if (v[i].action == SPAM_ACTION_TRASH && r->folder == NULL) {
			r->folder = ".Trash";
		}
	}
	return 0;
}

/* A further copy of recipient r into the folder at path (owned) with
 * flags: a new entry at the end of job->rcpts. 0, or -1. */
static int delivery_add_copy(struct delivery_job *job, unsigned r, char *path, const char *flags)
{
	struct delivery_rcpt *v = realloc(job->rcpts, (job->nrcpts + 1) * sizeof(*v));
	struct delivery_rcpt *c;

	if (v == NULL)
		return -1;
	job->rcpts = v;
	c = &job->rcpts[job->nrcpts];
	*c = job->rcpts[r];
	c->folder = NULL;
	c->folder_path = path;
	c->redirects = NULL;
	c->vacation = NULL;
	c->forward = NULL;
	c->keep = true;
	c->extra = true;
	c->staged = NULL;
	c->name[0] = '\0';
	c->size = 0;
	str_copy(c->flags, sizeof(c->flags), flags);
	job->nrcpts++;
	job->nextra++;
	return 0;
}

/* The recipient's forwarding list with the script's redirects added. */
static void delivery_redirects(struct delivery_rcpt *r, const char *redirect)
{
	size_t n = (r->forward != NULL ? strlen(r->forward) : 0) + strlen(redirect) + 3;

	if ((r->redirects = malloc(n)) == NULL)
		return;
	snprintf(r->redirects, n, "%s%s%s", r->forward != NULL ? r->forward : "",
		 r->forward != NULL && r->forward[0] != '\0' ? ", " : "", redirect);
	r->forward = r->redirects;
}

/* Carries out a recipient's plan: its own copy kept (with flags) or not,
 * the fileinto copies added, the redirects joined to its forwarding. */
static int delivery_sieve_apply(struct delivery_job *job, unsigned i, struct sieve_plan *p)
{
	struct delivery_rcpt *r = &job->rcpts[i];
	char path[PATH_MAX];
	const char *error;

	if (p->error) {
		log_warn(job->sid, "smtp: id=%s to=<%s> sieve: %s", job->txid, r->address, p->why);
		server_event("sieve-error", r->address, job->ip, p->why);
		return 0;	/* the implicit keep: delivered as without a script */
	}
	r->keep = p->keep && !p->reject;
	str_copy(r->flags, sizeof(r->flags), p->keep_flags);
	for (unsigned c = 0; c < p->ncopies && !p->reject; c++) {
		char *owned;
		int got = mail_folder_path(r->maildir, p->copies[c].name, true, path, sizeof(path), &error);

		if (got != 1 || (owned = strdup(path)) == NULL) {
			log_warn(job->sid, "smtp: id=%s to=<%s> sieve: fileinto \"%s\": %s; kept in the inbox",
				 job->txid, r->address, p->copies[c].name, got < 0 ? error : "out of memory");
			job->rcpts[i].keep = true;
			continue;
		}
		if (delivery_add_copy(job, i, owned, p->copies[c].flags) < 0) {
			free(owned);
			return -1;
		}
		r = &job->rcpts[i];	/* the array moved */
	}
	if (p->redirect != NULL && !p->reject)
		delivery_redirects(r, p->redirect);
	if (p->reject) {
		r->refusal = p->reason;	/* refused in the reply or by a notice (RFC 5429) */
		r->ereject = p->ereject;
		p->reason = NULL;
	}
	if (p->vacation != NULL && !p->reject) {
		r->vacation = p->vacation;	/* sent once the copy is durable */
		p->vacation = NULL;
	}
	if (!r->keep && r->forward == NULL && p->ncopies == 0)
		log_info(job->sid, "smtp: id=%s to=<%s> not kept: %s", job->txid, r->address, p->why);
	if (p->ncopies > 0 || !p->keep || p->redirect != NULL || p->keep_flags[0] != '\0')
		server_event(p->reject ? "sieve-rejected" : "sieve-filed", r->address, job->ip, p->why);
	return 0;
}

/* The Sieve step (smtp_sieve.h) for every local recipient whose copy is
 * kept so far (after DMARC, the virus check and the spam action): -1 with
 * status 2 when the message cannot be read. */
static int delivery_sieve(struct delivery_job *job)
{
	unsigned n = job->nrcpts;

	for (unsigned i = 0; i < n; i++) {
		struct delivery_rcpt *r = &job->rcpts[i];
		struct smtp_sieve_msg m = {
			.sid = job->sid, .txid = job->txid, .maildir = r->maildir, .address = r->address,
			.from = job->from, .spam = &r->spam,
		};
		struct sieve_plan plan;
		char prefix[8192];
		int plen, rc;

		if (r->maildir == NULL || !r->keep)
			continue;
		if ((plen = delivery_prefix(job, r, prefix, sizeof(prefix))) < 0)
			continue;
		m.prefix = prefix;
		m.prefix_len = (size_t)plen;
		delivery_body(job, r, &m.body, &m.body_fd, &m.body_len);
		if (smtp_sieve_run(&m, &plan) < 0) {
			job->status = 2;
			return -1;
		}
		rc = plan.ran ? delivery_sieve_apply(job, i, &plan) : 0;
		smtp_sieve_plan_free(&plan);
		if (rc < 0) {
			job->status = 2;
			return -1;
		}
	}
	/* One recipient whose script refused: the refusal is the reply to the
	 * data (RFC 5429 2.1); with more, a notice follows (delivery_vacation). */
	if (job->nrcpts == 1 && job->rcpts[0].refusal != NULL) {
		autoreply_refusal_line(job->rcpts[0].refusal, job->refusal, sizeof(job->refusal));
		job->status = 6;
		return -1;
	}
	return 0;
}

/* The Sieve auto-replies, after the copies they answer are on disk. */
static void delivery_vacation(struct delivery_job *job)
{
	for (unsigned i = 0; i < job->nrcpts; i++) {
		struct delivery_rcpt *r = &job->rcpts[i];
		struct vacation_msg vm = {
			.sid = job->sid, .txid = job->txid, .ip = job->ip, .from = job->from,
			.body = job->body, .body_fd = job->body_fd, .body_len = job->body_len,
		};

		vm.spam = r->spam.spam;
		if (r->full)
			continue;
		if (r->vacation != NULL && r->maildir != NULL && !r->extra)
			smtp_vacation_send(&vm, r->address, r->maildir, r->vacation);
		if (r->refusal != NULL && r->maildir != NULL && !r->extra)
			smtp_refusal_send(&vm, r->address, !r->ereject, r->refusal);
		/* whatever else is sent from here makes its job not plain:
		 * delivery_is_plain must test it too, or the batched
		 * follow-up (delivery_batch_finish) skips it */
	}
}

/* The staged queue file is durable: to the queue runner. */
static void delivery_queued(struct delivery_job *job)
{
	const char *rcpts[job->nremote > 0 ? job->nremote : 1];
	size_t n = 0;

	for (unsigned i = 0; i < job->nrcpts; i++) {
		if (job->rcpts[i].maildir == NULL)
			rcpts[n++] = job->rcpts[i].address;
	}
	str_copy(job->queue_id, sizeof(job->queue_id), job->queued->name);
	queue_staged_done(job->queued, job->queue_from, rcpts, n, job->queued_size);
}

/* Once a job's copies are durable: the IDLE wake-ups and one `delivered`
 * event per kept local copy (dir NULL: no events). */
static void delivery_events(const struct delivery_job *job, struct directory *dir)
{
	for (unsigned i = 0; i < job->nrcpts; i++) {
		if (job->rcpts[i].maildir != NULL)
			store_changed(job->rcpts[i].maildir);	/* wakes IMAP IDLE */
	}
	for (unsigned i = 0; i < job->nrcpts && dir != NULL; i++) {
		char detail[512];
		if (job->rcpts[i].maildir == NULL || !job->rcpts[i].keep || job->rcpts[i].full)
			continue;
		if (job->rcpts[i].folder_path != NULL)
			snprintf(detail, sizeof(detail), "from <%s>, %zu bytes, id %s, into %s (mail filter)",
				 job->from, job->rcpts[i].size, job->txid, strrchr(job->rcpts[i].folder_path, '/') + 1);
		else
			snprintf(detail, sizeof(detail), "from <%s>, %zu bytes, id %s", job->from,
				 job->rcpts[i].size, job->txid);
		directory_event_add(dir, "delivered", job->rcpts[i].address, job->ip, detail);
	}
}

/* After the local copies are durable (or there are none): the queue file,
 * the forwarded copies, then the IDLE wake-ups and the events. */
static void delivery_finish(void *ctx)
{
	struct delivery_job *job = ctx;
	unsigned i;

	for (i = 0; i < job->nrcpts && job->status == 0; i++) {
		const struct maildir_staged *st = job->rcpts[i].staged;
		if (st != NULL && st->error != NULL) {
			log_error(job->sid, "smtp: delivery to %s failed: %s", job->rcpts[i].address,
				  st->error);
			job->status = 2;
		}
	}
	if (job->queued != NULL && job->queued->error != NULL) {
		log_error(job->sid, "smtp: cannot queue the message for %u remote recipients: %s", job->nremote,
			  job->queued->error);
		maildir_staged_discard(job->queued);
		job->status = 2;
	} else if (job->queued != NULL) {
		delivery_queued(job);
	} else if (job->status == 0 && job->nremote > 0 && delivery_queue(job, NULL) < 0) {
		job->status = 2;
	}
	if (job->status == 0)
		delivery_forward(job);
	if (job->status == 0)
		delivery_vacation(job);
	if (job->status != 0) {
		delivery_undo(job, job->nrcpts);
		return;
	}
	delivery_events(job, server_directory());
}

/* Every kept local copy staged in tmp/: 0, or -1 with status set and the
 * copies staged so far undone. */
static int delivery_stage(struct delivery_job *job)
{
	for (unsigned i = 0; i < job->nrcpts; i++) {
		struct delivery_rcpt *r = &job->rcpts[i];

		if (r->maildir == NULL || !r->keep || r->full)
			continue;	/* remote: queued later; forwarded only: later */
		if (job->commit.items == NULL &&
		    (job->commit.items = calloc(job->nrcpts, sizeof(void *))) == NULL) {
			job->status = 2;
			return -1;
		}
		if (delivery_one(job, r, true) < 0) {
			delivery_undo(job, i + 1);	/* its quota reservation too */
			return -1;
		}
		job->commit.items[job->commit.nitems++] = r->staged;
	}
	return 0;
}

/* LMTP: a mailbox found full at the end of the data refuses the message
 * for its own recipient only (RFC 2033 4.2: one reply per recipient); the
 * others' copies are staged again without it. false when there is no one
 * else (the message is then refused for all, as by SMTP). */
static bool delivery_drop_full(struct delivery_job *job)
{
	unsigned left = 0;

	if (!job->lmtp || job->status != 1)
		return false;
	for (unsigned i = 0; i < job->nrcpts; i++) {
		struct delivery_rcpt *r = &job->rcpts[i];

		free(r->staged);	/* discarded by delivery_undo */
		r->staged = NULL;
		if (r->maildir != NULL && strcmp(r->address, job->failed_rcpt) == 0) {
			r->full = true;
			r->forward = NULL;	/* refused: neither kept nor passed on */
		}
		left += r->maildir != NULL && !r->full && !r->extra;
	}
	if (left == 0)
		return false;
	log_info(job->sid, "smtp: id=%s to=<%s> refused: the mailbox is full; delivered to the others",
		 job->txid, job->failed_rcpt);
	server_event("rcpt-full", job->failed_rcpt, job->ip, "mailbox full at end of LMTP data");
	job->status = 0;
	job->commit.nitems = 0;
	return true;
}

/* The checks, then every kept local copy staged in tmp/. When there is
 * nothing to commit the job is finished here at once. */
static void delivery_prepare(struct delivery_job *job)
{
	if (delivery_check_sender(job) < 0 || delivery_authenticate(job) < 0 || delivery_virus_check(job) < 0)
		return;
	/* inbound order: DMARC (above) -> virus -> allow/block lists and spam -> Sieve -> forwarding */
	/* ... -> the recipients' Sieve scripts -> forwarding (delivery_finish) */
	if (delivery_spam(job) < 0 || delivery_sieve(job) < 0)
		return;
	while (delivery_stage(job) < 0) {
		if (!delivery_drop_full(job))
			return;
	}
	if (job->nremote > 0 && job->nremote == job->nrcpts) {
		/* only remote recipients: the queue file joins the group commit
		 * (with local copies it is written once they are durable) */
		job->commit.items = calloc(1, sizeof(void *));
		job->queued = malloc(sizeof(*job->queued));
		if (job->commit.items == NULL || job->queued == NULL || delivery_queue(job, job->queued) < 0) {
			free(job->queued);
			job->queued = NULL;
			job->status = 2;
			return;
		}
		job->commit.items[job->commit.nitems++] = job->queued;
	}
	if (job->commit.nitems == 0)
		delivery_finish(job);
}

static void delivery_done(void *ctx);

static void delivery_done_cb(evutil_socket_t fd, short what, void *ctx)
{
	delivery_done(ctx);
}

/* Hands the job back to its session's loop for the reply (from any
 * thread). */
static void delivery_post(struct delivery_job *job)
{
	static const struct timeval now = { 0, 0 };

	if (event_base_once(job->base, -1, EV_TIMEOUT, delivery_done_cb, job, &now) < 0)
		log_error(job->sid, "smtp: cannot return the delivery to its loop");
}

/* Does the job need nothing after its commit but the common follow-up of
 * delivery_batch_finish (no failed copy, no queue file still to write, no
 * forwarding, no auto-reply)? */
static bool delivery_is_plain(const struct delivery_job *job)
{
	if (job->queued != NULL ? job->queued->error != NULL : job->nremote > 0)
		return false;
	for (unsigned i = 0; i < job->nrcpts; i++) {
		const struct delivery_rcpt *r = &job->rcpts[i];

		if (r->staged != NULL && r->staged->error != NULL)
			return false;
		if (r->maildir != NULL && !r->extra &&
		    (r->forward != NULL || r->vacation != NULL || r->refusal != NULL))
			return false;
	}
	return true;
}

/* The committed plain jobs of the batch being finished: the committer
 * thread's alone (delivery_committed and delivery_batch_end run there). */
static struct delivery_job *committed_head, **committed_tail = &committed_head;

/* On a worker, once per group-commit batch: the follow-up of every plain
 * job of it, their events in one directory transaction, then each reply. */
static void delivery_batch_finish(void *ctx)
{
	struct directory *dir = server_directory();
	bool txn = dir != NULL && directory_begin(dir) == 0;

	for (struct delivery_job *job = ctx; job != NULL; job = job->next_committed) {
		if (job->queued != NULL)
			delivery_queued(job);
		delivery_events(job, dir);
	}
	if (txn && directory_commit(dir) < 0) {
		log_error(NULL, "smtp: cannot record a batch's delivery events");
		directory_rollback(dir);
	}
	for (struct delivery_job *job = ctx, *next; job != NULL; job = next) {
		next = job->next_committed;
		delivery_post(job);
	}
}

/* On the committer thread, after the last done() of a batch. */
static void delivery_batch_end(void)
{
	struct delivery_job *list = committed_head;

	committed_head = NULL;
	committed_tail = &committed_head;
	if (list != NULL)
		worker_pool_submit(server->workers, NULL, delivery_batch_finish, NULL, list);
}

/* On the committer thread: the batch holding the job's copies is through.
 * A plain job joins the batch's common follow-up; any other gets a worker
 * of its own (delivery_finish). */
static void delivery_committed(struct group_commit_req *req)
{
	struct delivery_job *job =
		(struct delivery_job *)((char *)req - offsetof(struct delivery_job, commit));

	if (delivery_is_plain(job)) {
		job->next_committed = NULL;
		*committed_tail = job;
		committed_tail = &job->next_committed;
		return;
	}
	worker_pool_submit(server->workers, job->base, delivery_finish, delivery_done, job);
}

/* On a worker: the checks and the staged copies, which then go straight
 * to the committer; the loop gets the job back only for the reply. */
static void delivery_run(void *ctx)
{
	struct delivery_job *job = ctx;
	struct directory *dir = server_directory();

	/* the recipients' and their domains' settings, each read once */
	if (dir != NULL)
		directory_settings_batch_begin(dir);
	delivery_prepare(job);
	if (dir != NULL)
		directory_settings_batch_end(dir);
	if (job->status == 0 && job->commit.nitems > 0) {
		job->commit.done = delivery_committed;
		job->commit.batch_end = delivery_batch_end;
		group_commit_submit(server->committer, &job->commit);
		return;
	}
	delivery_post(job);
}

static void delivery_free(struct delivery_job *job)
{
	inbound_auth_free(job->auth);
	smtp_virus_free(&job->virus);
	smtp_spam_free(&job->spam);
	for (unsigned i = 0; i < job->nrcpts; i++) {
		free(job->rcpts[i].staged);
		free(job->rcpts[i].folder_path);
		free(job->rcpts[i].redirects);
		smtp_vacation_free(job->rcpts[i].vacation);
		free(job->rcpts[i].refusal);
	}
	free(job->commit.items);
	free(job->queued);
	free(job->rcpts);	/* maildir strings belong to the session */
	free(job);
}

/* LMTP: the reply for each accepted RCPT in its order (RFC 2033 4.2):
 * 250, or 552 for a recipient whose mailbox was full. */
static void delivery_reply_lmtp(const struct delivery_job *job, struct smtp_session *s)
{
	unsigned n = s->final_replies > 0 ? s->final_replies : 1;

	s->final_replies = 0;
	for (unsigned k = 0; k < n && k < s->tx.rcpts_accepted; k++) {
		const char *addr = s->tx.accepted[k] < s->tx.nrcpts ? s->tx.rcpts[s->tx.accepted[k]].address : "";
		bool full = false;

		for (unsigned i = 0; i < job->nrcpts && !full; i++)
			full = job->rcpts[i].full && strcmp(job->rcpts[i].address, addr) == 0;
		if (full)
			smtp_reply(s, "552 5.2.2 <%s>: Mailbox full: the recipient's mailbox cannot take this"
				   " message until mail is deleted", addr);
		else
			smtp_reply(s, "250 2.0.0 <%s> Ok: delivered as %s", addr, job->txid);
	}
}

static void delivery_done(void *ctx)
{
	struct delivery_job *job = ctx;
	struct smtp_session *s = job->s;

	s->job_pending = false;
	if (s->conn_gone) {
		/* The client left: the message is stored (or not) all the same;
		 * it never saw a 250, so at worst it sends it again. */
		smtp_session_free(s);
		delivery_free(job);
		return;
	}
	stats_time(STATS_SMTP_DATA_TIME, job->started);
	if (job->status == 0) {
		stats_add(STATS_LOCAL_DELIVERIES, 0, job->nrcpts - job->nremote - job->nextra);
		stats_add(STATS_RELAY_QUEUED, 0, job->nremote > 0);
		if (job->nremote > 0)
			smtp_reply(s, "250 2.0.0 Ok: %s as %s", job->nremote < job->nrcpts ?
				   "delivered and queued" : "queued", job->txid);
		else if (job->lmtp)
			delivery_reply_lmtp(job, s);
		else
			smtp_reply(s, "250 2.0.0 Ok: delivered as %s", job->txid);
		for (unsigned i = 0; i < job->nrcpts; i++) {
			if (job->rcpts[i].extra)
				continue;
			if (job->rcpts[i].maildir == NULL) {
				log_info(job->sid, "smtp: queued id=%s queue=%s from=<%s> to=<%s> size=%zu"
					 " proto=%s", job->txid, job->queue_id, job->from,
					 job->rcpts[i].address, job->body_len, smtp_protocol_name(s));
				continue;
			}
			log_info(job->sid, "smtp: %s id=%s from=<%s> to=<%s> size=%zu proto=%s",
				 job->rcpts[i].full ? "refused (mailbox full)" :
				 job->rcpts[i].keep || job->rcpts[i].forward != NULL ? "delivered" :
				 job->rcpts[i].spam.spam ? "discarded (spam)" : "not kept (filter)", job->txid, job->from, job->rcpts[i].address,
				 job->body_len, smtp_protocol_name(s));
			/* A DSN (null reverse-path) for the account: the bounce
			 * signal of the compromised-account detection. */
			if (s->tx.from.null_path)
				sendguard_bounce(job->rcpts[i].address, job->ip);
		}
	} else if (job->status == 4 && job->field_error != NULL) {
		smtp_reply(s, "553 5.7.1 %s %s: the sender addresses of a message from login %s must be"
			   " readable and its own", job->field, job->field_error, s->auth_user);
		log_info(job->sid, "smtp: %s %s: refused for login %s", job->field, job->field_error,
			 s->auth_user);
		server_event("sender-refused", s->auth_user, job->ip, job->field_error);
		stats_inc(STATS_SMTP_REJECTS, REJECT_SENDER);
	} else if (job->status == 4) {
		char safe[300];

		smtp_reply_safe(safe, sizeof(safe), job->failed_rcpt);
		smtp_reply(s, "553 5.7.1 %s <%s>: Sender address not allowed for login %s: an account"
			   " sends as its own address (also +tag) and the addresses its domain"
			   " administrator gave it (%s)", job->field, safe, s->auth_user,
			   settings_key(SETTING_SEND_AS));
		log_info(job->sid, "smtp: %s <%s> refused for login %s", job->field, safe, s->auth_user);
		server_event("sender-refused", s->auth_user, job->ip, safe);
		stats_inc(STATS_SMTP_REJECTS, REJECT_SENDER);
	} else if (job->status == 5 && job->virus.found) {
		smtp_reply(s, "554 5.7.1 Message refused: it contains the virus %s", job->virus.name);
	} else if (job->status == 5) {
		smtp_reply(s, "451 4.7.1 The virus check is unavailable, try again later");
	} else if (job->status == 6) {
		smtp_reply(s, "550 5.7.1 %s", job->refusal);
		log_info(job->sid, "smtp: id=%s from=<%s> to=<%s> refused by the recipient's Sieve script: %s",
			 job->txid, job->from, job->rcpts[0].address, job->refusal);
	} else if (job->status == 3) {
		smtp_reply(s, "550 5.7.1 %s", inbound_auth_reject_text(job->auth));
		stats_inc(STATS_SMTP_REJECTS, REJECT_DMARC);
	} else if (job->status == 1) {
		smtp_reply(s, "552 5.2.2 <%s>: Mailbox full: the recipient's mailbox cannot take this"
			   " message until mail is deleted", job->failed_rcpt);
		server_event("rcpt-full", job->failed_rcpt, job->ip, "mailbox full at end of DATA");
		stats_inc(STATS_SMTP_REJECTS, REJECT_QUOTA);
	} else {
		smtp_local_error(s, "451 4.3.0 Local error while storing the message, try again later",
				 "the delivery of the message");
	}
	s->state = SMTP_S_READY;
	smtp_tx_reset(s);
	delivery_free(job);
	smtp_session_resume(s);
}

static void delivery_submit(void *arg)
{
	struct delivery_job *job = arg;

	worker_pool_submit(server->workers, NULL, delivery_run, NULL, job);
}

void smtp_deliver_start(struct smtp_session *s)
{
	struct delivery_job *job = calloc(1, sizeof(*job));
	char tlscomment[160] = "";

	if (job != NULL) {
		job->auth = s->tx.auth;	/* made at MAIL FROM, its DNS under way */
		s->tx.auth = NULL;
	}
	if (job == NULL || (job->rcpts = calloc(s->tx.nrcpts, sizeof(*job->rcpts))) == NULL ||
	    (job->auth == NULL && (job->auth = inbound_auth_new(s)) == NULL)) {
		if (job != NULL) {
			inbound_auth_free(job->auth);
			free(job->rcpts);
		}
		free(job);
		smtp_local_error(s, "451 4.3.0 Insufficient system resources", __func__);
		smtp_tx_reset(s);
		return;
	}
	job->s = s;
	smtp_virus_init(&job->virus);
	job->started = stats_now();
	str_copy(job->sid, sizeof(job->sid), s->conn->sid);
	str_copy(job->txid, sizeof(job->txid), s->tx.txid);
	str_copy(job->ip, sizeof(job->ip), s->conn->ip);
	smtp_spam_init(&job->spam, job->sid, job->txid, job->ip);
	mail_path_format(&s->tx.from, job->from, sizeof(job->from));
	rfc5322_date(job->date, sizeof(job->date));
	if (s->conn->tls) {
		/* RFC 8314 section 7.4: the "tls" clause names the cipher suite. */
		const char *suite = strchr(s->conn->tls_info, ' ');
		snprintf(tlscomment, sizeof(tlscomment), "\r\n\t(using %s)", s->conn->tls_info);
		str_copy(job->tls_suite, sizeof(job->tls_suite), suite != NULL ? suite + 1 : "unknown");
	}
	snprintf(job->received, sizeof(job->received),
		 "Received: from %s ([%s])\r\n\tby %s (Yubin) with %s id %s%s%s",
		 s->helo, s->conn->ip, s->lim.hostname, smtp_protocol_name(s), job->txid,
		 s->authenticated ? "\r\n\t(authenticated sender)" : "", tlscomment);
	if (s->tx.spool_fd >= 0) {
		job->body = NULL;
		job->body_fd = s->tx.spool_fd;
	} else {
		job->body_fd = -1;
		job->body = (const char *)evbuffer_pullup(s->tx.body, -1);
		if (job->body == NULL)
			job->body = "";
	}
	job->body_len = (size_t)s->tx.data.bytes;
	job->nrcpts = s->tx.nrcpts;
	job->lmtp = s->conn->service == SERVICE_LMTP && s->tx.accepted != NULL;
	if (s->authenticated)
		str_copy(job->login, sizeof(job->login), s->auth_user);
	for (unsigned i = 0; i < s->tx.nrcpts; i++) {
		str_copy(job->rcpts[i].address, sizeof(job->rcpts[i].address), s->tx.rcpts[i].address);
		job->rcpts[i].maildir = s->tx.rcpts[i].maildir;
		job->rcpts[i].quota_bytes = s->tx.rcpts[i].quota_bytes;
		job->rcpts[i].forward = s->tx.rcpts[i].forward;
		job->rcpts[i].keep = s->tx.rcpts[i].keep || s->tx.rcpts[i].forward == NULL;
		if (job->rcpts[i].maildir == NULL)
			job->nremote++;
	}
	if (job->nremote > 0 &&
	    smtp_batv_envelope_sender(job->from, job->queue_from, sizeof(job->queue_from)) < 0)
		str_copy(job->queue_from, sizeof(job->queue_from), job->from);
	job->base = s->conn->loop->base;
	s->state = SMTP_S_BUSY;
	s->job_pending = true;
	conn_pause(s->conn);
	/* the checks' DNS runs on the loop: the worker gets the message once
	 * their answers are in (or the message's DNS budget is spent) */
	inbound_auth_when_ready(job->auth, delivery_submit, job);
}

int smtp_batv_envelope_sender(const char *from, char *out, size_t size)
{
	struct directory *dir = server_directory();
	const char *at = strchr(from, '@');
	char hex[BATV_KEY_MAX * 2 + 1];
	unsigned char key[BATV_KEY_MAX];
	size_t keylen = 0;
	int r = -1;

	if (dir != NULL && at != NULL &&
	    settings_domain_bool(dir, at + 1, SETTING_BATV) &&
	    directory_batv_key(dir, at + 1, 0, true, hex, sizeof(hex)) > 0) {
		for (size_t i = 0; hex[i] != '\0' && hex[i + 1] != '\0' && keylen < sizeof(key); i += 2) {
			unsigned byte;
			if (sscanf(hex + i, "%2x", &byte) != 1)
				break;
			key[keylen++] = (unsigned char)byte;
		}
		r = batv_sign(from, 0, key, keylen, time(NULL), out, size);
		explicit_bzero(key, sizeof(key));
		explicit_bzero(hex, sizeof(hex));
		if (r == 0)
			return 0;
	}
	return str_copy(out, size, from);
}
