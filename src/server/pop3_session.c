/* The POP3 server session (RFC 1939, 2449 CAPA and response codes, 2595
 * STLS, 5034 SASL). POP3 sees the INBOX; deletions happen only at QUIT;
 * one session per mailbox at a time. Messages are streamed from their
 * files with dot-stuffing, a chunk at a time, so a 100 MB message costs no
 * more memory than a small one. */
#include "server/sessions.h"
#include "server/auth.h"
#include "server/conn.h"
#include "server/proxy.h"
#include "directory/directory.h"
#include "proto/pop3.h"
#include "proto/smtp.h"
#include "store/mail_move.h"
#include "store/maildir.h"
#include "store/index.h"
#include "store/quota.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define POP3_MAX_ERRORS 20
#define POP3_STREAM_CHUNK 65536

enum pop3_state { POP3_AUTHORIZATION, POP3_SASL, POP3_TRANSACTION, POP3_BUSY };

struct pop3_msg {
	struct maildir_entry e;
	char uidl[71];
	bool deleted;
};

struct pop3_stream {
	int fd;
	bool bol;		/* at the beginning of a line */
	bool in_body;
	bool line_empty;	/* nothing but CR so far on this line */
	long lines_left;	/* TOP: body lines still to send; -1 for all */
	bool last_was_lf;
};

/* The settings a POP3 session uses, copied at accept (a reload applies
 * to the next connection). */
struct pop3_limits {
	unsigned pop3_timeout;
	unsigned pop3_command_total_timeout;
	unsigned pop3_max_connections_per_ip;
};

struct pop3_session {
	struct conn *conn;
	struct pop3_limits lim;	/* copied at accept */
	enum pop3_state state;
	unsigned errors;
	char user[320];
	char address[320];
	char maildir[PATH_MAX];
	bool locked;
	struct pop3_msg *msgs;
	size_t nmsgs;
	struct pop3_stream stream;
	bool job_pending, conn_gone;
	struct auth_request auth_req;
	struct auth_result auth_res;
	struct proxy *proxy;	/* server.role = proxy: the way to the home node */
};

/* Mailboxes with a POP3 session, across all loops. */
struct pop3_lock {
	struct pop3_lock *next;
	char path[];
};
static pthread_mutex_t pop3_lock_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct pop3_lock *pop3_locks;

static bool pop3_lock_take(const char *path)
{
	struct pop3_lock *l;

	pthread_mutex_lock(&pop3_lock_mutex);
	for (l = pop3_locks; l != NULL; l = l->next) {
		if (strcmp(l->path, path) == 0) {
			pthread_mutex_unlock(&pop3_lock_mutex);
			return false;
		}
	}
	l = malloc(sizeof(*l) + strlen(path) + 1);
	if (l != NULL) {
		strcpy(l->path, path);
		l->next = pop3_locks;
		pop3_locks = l;
	}
	pthread_mutex_unlock(&pop3_lock_mutex);
	return l != NULL;
}

static void pop3_lock_drop(const char *path)
{
	struct pop3_lock **pp;

	pthread_mutex_lock(&pop3_lock_mutex);
	for (pp = &pop3_locks; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->path, path) == 0) {
			struct pop3_lock *l = *pp;
			*pp = l->next;
			free(l);
			break;
		}
	}
	pthread_mutex_unlock(&pop3_lock_mutex);
}

static void pop3_reply(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pop3_reply(struct pop3_session *s, const char *fmt, ...)
{
	struct evbuffer *out;
	va_list ap;

	if (s->conn == NULL)
		return;
	out = bufferevent_get_output(s->conn->bev);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

static void pop3_close(struct pop3_session *s)
{
	/* The mailbox is free as soon as the session ends, not when the
	 * connection is finally torn down. */
	if (s->locked) {
		pop3_lock_drop(s->maildir);
		s->locked = false;
	}
	conn_finish(s->conn);
	s->conn = NULL;
}

static void pop3_error(struct pop3_session *s)
{
	if (++s->errors >= POP3_MAX_ERRORS && s->conn != NULL) {
		pop3_reply(s, "-ERR Too many bad commands, closing the connection");
		pop3_close(s);
	}
}

static void pop3_session_free(struct pop3_session *s)
{
	if (s->locked)
		pop3_lock_drop(s->maildir);
	if (s->stream.fd >= 0)
		close(s->stream.fd);
	auth_request_wipe(&s->auth_req);
	free(s->msgs);
	free(s);
}

/* RFC 1939 UIDs are 1-70 characters 0x21-0x7E: the Maildir base name when it
 * fits, else its SHA-256 in hex (stable, since the base name never
 * changes). */
static void pop3_make_uidl(const char *uid, char *out)
{
	size_t len = strlen(uid);
	bool ok = len > 0 && len <= 70;

	for (size_t i = 0; ok && i < len; i++)
		ok = uid[i] >= 0x21 && uid[i] <= 0x7e;
	if (ok) {
		memcpy(out, uid, len + 1);
		return;
	}
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)uid, len, md);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static int pop3_load(struct pop3_session *s)
{
	struct maildir_entry *entries;
	size_t n;

	if (maildir_list(s->maildir, &entries, &n) < 0)
		return -1;
	s->msgs = calloc(n > 0 ? n : 1, sizeof(*s->msgs));
	if (s->msgs == NULL) {
		free(entries);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		s->msgs[i].e = entries[i];
		pop3_make_uidl(entries[i].uid, s->msgs[i].uidl);
	}
	s->nmsgs = n;
	free(entries);
	return 0;
}

static void pop3_capa(struct pop3_session *s)
{
	pop3_reply(s, "+OK Capability list follows");
	pop3_reply(s, "TOP");
	pop3_reply(s, "UIDL");
	pop3_reply(s, "RESP-CODES");
	pop3_reply(s, "AUTH-RESP-CODE");
	pop3_reply(s, "PIPELINING");
	pop3_reply(s, "EXPIRE NEVER");
	pop3_reply(s, "IMPLEMENTATION Yubin");
	if (s->state == POP3_AUTHORIZATION) {
		if (s->conn->tls) {
			pop3_reply(s, "USER");
			pop3_reply(s, "SASL PLAIN");
		} else {
			pop3_reply(s, "STLS");
		}
	}
	pop3_reply(s, ".");
}

/* server.role = proxy: logged in at the home node (the session hands its
 * connection to the relay and ends), or a temporary error. */
static void pop3_proxy_ready(void *ctx, bool ok, const char *line)
{
	struct pop3_session *s = ctx;
	struct proxy *p = s->proxy;

	s->proxy = NULL;
	s->job_pending = false;
	if (s->conn_gone || !ok) {
		proxy_free(p);
		if (s->conn_gone) {
			pop3_session_free(s);
			return;
		}
		s->state = POP3_AUTHORIZATION;
		pop3_reply(s, "-ERR [SYS/TEMP] The server of your mailbox cannot be reached now, try again later");
		conn_resume(s->conn);
		return;
	}
	pop3_reply(s, "+OK %s", line);
	log_info(s->conn->sid, "pop3: login %s from %s (proxied)", s->address, s->conn->ip);
	s->conn = NULL;
	pop3_session_free(s);
	proxy_relay(p);
}

static void pop3_login_done(void *ctx)
{
	struct pop3_session *s = ctx;
	char domain[256], local[65];
	const char *at;

	s->job_pending = false;
	auth_request_wipe(&s->auth_req);
	if (s->conn_gone) {
		pop3_session_free(s);
		return;
	}
	s->state = POP3_AUTHORIZATION;
	if (!s->auth_res.ok) {
		if (s->auth_res.code == AUTH_FOREIGN)
			pop3_reply(s, "-ERR [AUTH] %s", s->auth_res.text);
		else if (s->auth_res.code == AUTH_BLOCKED || s->auth_res.code == AUTH_TEMPFAIL)
			pop3_reply(s, "-ERR [SYS/TEMP] %s", s->auth_res.text);
		else
			pop3_reply(s, "-ERR [AUTH] Authentication failed: check the login name (your full mail"
				   " address) and the password");
		log_info(s->conn->sid, "pop3: authentication failed for %s from %s: %s",
			 s->auth_req.user, s->conn->ip, s->auth_res.reason);
		pop3_error(s);
		if (s->conn != NULL)
			conn_resume(s->conn);
		return;
	}
	str_copy(s->address, sizeof(s->address), s->auth_res.address);
	if (proxy_role_is_proxy()) {
		s->state = POP3_BUSY;
		s->job_pending = true;
		s->proxy = proxy_start(s->conn, PROXY_POP3, s->address, pop3_proxy_ready, s);
		if (s->proxy == NULL)
			pop3_proxy_ready(s, false, "out of memory");
		return;
	}
	at = strchr(s->address, '@');
	str_copyn(local, sizeof(local), s->address, (size_t)(at - s->address));
	str_copy(domain, sizeof(domain), at + 1);
	if (server_maildir(s->maildir, sizeof(s->maildir), domain, local) < 0 ||
	    (access(s->maildir, F_OK) < 0 && maildir_create(s->maildir) < 0)) {
		pop3_reply(s, "-ERR [SYS/TEMP] Mailbox unavailable, try again later");
		conn_resume(s->conn);
		return;
	}
	if (!pop3_lock_take(s->maildir)) {
		pop3_reply(s, "-ERR [IN-USE] Mailbox is in use by another POP3 session, try again later");
		log_info(s->conn->sid, "pop3: %s already in use", s->address);
		conn_resume(s->conn);
		return;
	}
	s->locked = true;
	store_deletions_resume(s->maildir);	/* a QUIT cut short by a crash */
	if (pop3_load(s) < 0) {
		pop3_reply(s, "-ERR [SYS/TEMP] Cannot read the mailbox, try again later");
		pop3_lock_drop(s->maildir);
		s->locked = false;
		conn_resume(s->conn);
		return;
	}
	s->state = POP3_TRANSACTION;
	{
		uint64_t total = 0;
		for (size_t i = 0; i < s->nmsgs; i++)
			total += s->msgs[i].e.size;
		pop3_reply(s, "+OK Logged in, %zu messages (%llu octets)", s->nmsgs,
			   (unsigned long long)total);
	}
	log_info(s->conn->sid, "pop3: login %s from %s, %zu messages", s->address, s->conn->ip, s->nmsgs);
	conn_resume(s->conn);
}

/* authcid: a proxy's login on behalf of user (server/proxy.h); else NULL. */
static void pop3_login(struct pop3_session *s, const char *user, const char *pass, const char *authcid)
{
	str_copy(s->auth_req.user, sizeof(s->auth_req.user), user);
	str_copy(s->auth_req.password, sizeof(s->auth_req.password), pass);
	str_copy(s->auth_req.ip, sizeof(s->auth_req.ip), s->conn->ip);
	str_copy(s->auth_req.service, sizeof(s->auth_req.service), "pop3");
	memset(&s->auth_res, 0, sizeof(s->auth_res));
	s->state = POP3_BUSY;
	s->job_pending = true;
	conn_pause(s->conn);
	if (authcid != NULL)
		proxy_login_submit(s->conn->loop, authcid, &s->auth_req, &s->auth_res, pop3_login_done, s);
	else
		auth_submit(s->conn->loop, &s->auth_req, &s->auth_res, pop3_login_done, s);
}

static void pop3_sasl_plain(struct pop3_session *s, const char *b64, size_t len)
{
	char authz[320], authc[320], pass[256];
	const char *error;

	s->state = POP3_AUTHORIZATION;
	if (sasl_plain_decode(b64, len, authz, sizeof(authz), authc, sizeof(authc),
			      pass, sizeof(pass), &error) < 0 ||
	    (authz[0] != '\0' && !str_eq_ci(authz, authc) && !s->conn->proxy_peer)) {
		explicit_bzero(pass, sizeof(pass));
		pop3_reply(s, "-ERR [AUTH] Invalid AUTH PLAIN response");
		pop3_error(s);
		return;
	}
	if (authz[0] != '\0' && !str_eq_ci(authz, authc))
		pop3_login(s, authz, pass, authc);	/* a trusted proxy */
	else
		pop3_login(s, authc, pass, NULL);
	explicit_bzero(pass, sizeof(pass));
}

/* Looks up message n (1-based) that is not deleted; replies -ERR if none. */
static struct pop3_msg *pop3_msg_get(struct pop3_session *s, const char *arg)
{
	unsigned long n;

	if (pop3_parse_msgnum(arg, &n) < 0 || n > s->nmsgs) {
		pop3_reply(s, "-ERR No such message");
		return NULL;
	}
	if (s->msgs[n - 1].deleted) {
		pop3_reply(s, "-ERR Message %lu is deleted", n);
		return NULL;
	}
	return &s->msgs[n - 1];
}

static void pop3_stream_more(struct conn *c);

static void pop3_stream_end(struct pop3_session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->conn->bev);

	if (!s->stream.last_was_lf)
		evbuffer_add(out, "\r\n", 2);
	evbuffer_add(out, ".\r\n", 3);
	close(s->stream.fd);
	s->stream.fd = -1;
	conn_set_drain_cb(s->conn, NULL, 0);
	s->state = POP3_TRANSACTION;
	conn_resume(s->conn);
}

/* Sends the next chunk of a RETR/TOP: dot-stuffed, and for TOP cut after the
 * headers and the requested number of body lines. */
static void pop3_stream_more(struct conn *c)
{
	struct pop3_session *s = c->session;
	struct pop3_stream *st = &s->stream;
	char in[POP3_STREAM_CHUNK], out[POP3_STREAM_CHUNK * 2];
	ssize_t n;
	size_t o = 0;

	if (st->fd < 0)
		return;
	n = read(st->fd, in, sizeof(in));
	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		pop3_stream_end(s);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		char ch = in[i];

		if (st->bol && ch == '.')
			out[o++] = '.';
		out[o++] = ch;
		st->last_was_lf = ch == '\n';
		if (ch == '\n') {
			if (!st->in_body && st->line_empty) {
				st->in_body = true;
				if (st->lines_left == 0)
					break;
			} else if (st->in_body && st->lines_left > 0 && --st->lines_left == 0) {
				break;
			}
			st->bol = true;
			st->line_empty = true;
		} else {
			st->bol = false;
			if (ch != '\r')
				st->line_empty = false;
		}
	}
	evbuffer_add(bufferevent_get_output(c->bev), out, o);
	if (st->in_body && st->lines_left == 0)
		pop3_stream_end(s);
}

static void pop3_stream_start(struct pop3_session *s, struct pop3_msg *m, long lines)
{
	if ((s->stream.fd = maildir_entry_open(s->maildir, &m->e)) < 0) {
		s->stream.fd = -1;
		pop3_reply(s, "-ERR [SYS/TEMP] Cannot read the message: it may have been removed by another"
			   " client");
		return;
	}
	if (lines < 0)
		pop3_reply(s, "+OK %llu octets", (unsigned long long)m->e.size);
	else
		pop3_reply(s, "+OK Top of message follows");
	s->stream.bol = true;
	s->stream.in_body = false;
	s->stream.line_empty = true;
	s->stream.lines_left = lines;
	s->stream.last_was_lf = true;
	s->state = POP3_BUSY;
	conn_pause(s->conn);
	conn_set_drain_cb(s->conn, pop3_stream_more, POP3_STREAM_CHUNK);
	pop3_stream_more(s->conn);
}

struct pop3_update_job {
	struct pop3_session *s;
	int failed;
	uint64_t freed;
};

/* RFC 1939 UPDATE, all or nothing (maildir_delete_messages): a crash
 * part way leaves a record that the next use of the mailbox completes. */
static void pop3_update_run(void *ctx)
{
	struct pop3_update_job *job = ctx;
	struct pop3_session *s = job->s;
	const char **uids = calloc(s->nmsgs > 0 ? s->nmsgs : 1, sizeof(*uids));
	unsigned failed = 0;
	size_t n = 0;

	for (size_t i = 0; uids != NULL && i < s->nmsgs; i++) {
		if (s->msgs[i].deleted)
			uids[n++] = s->msgs[i].e.uid;
	}
	if (uids == NULL || maildir_delete_messages(s->maildir, uids, n, &job->freed, &failed) < 0) {
		job->failed = (int)n;
		free(uids);
		return;
	}
	free(uids);
	job->failed = (int)failed;
	quota_release(s->maildir, job->freed);
	if (job->freed > 0)
		store_changed(s->maildir);	/* IMAP sessions in IDLE see the expunges */
}

static void pop3_update_done(void *ctx)
{
	struct pop3_update_job *job = ctx;
	struct pop3_session *s = job->s;

	s->job_pending = false;
	if (!s->conn_gone) {
		if (job->failed > 0)
			pop3_reply(s, "-ERR [SYS/TEMP] %d messages could not be deleted", job->failed);
		else
			pop3_reply(s, "+OK Bye");
		log_info(s->conn->sid, "pop3: logout %s, freed %llu bytes", s->address,
			 (unsigned long long)job->freed);
		pop3_close(s);
	} else {
		pop3_session_free(s);
	}
	free(job);
}

static void pop3_quit(struct pop3_session *s)
{
	struct pop3_update_job *job;
	bool any = false;

	for (size_t i = 0; i < s->nmsgs; i++)
		any |= s->msgs[i].deleted;
	if (s->state != POP3_TRANSACTION || !any) {
		pop3_reply(s, "+OK Bye");
		pop3_close(s);
		return;
	}
	job = calloc(1, sizeof(*job));
	if (job == NULL) {
		pop3_reply(s, "-ERR [SYS/TEMP] Out of memory, messages not deleted");
		pop3_close(s);
		return;
	}
	job->s = s;
	s->state = POP3_BUSY;
	s->job_pending = true;
	conn_pause(s->conn);
	worker_pool_submit(server->workers, s->conn->loop->base, pop3_update_run, pop3_update_done, job);
}

static void pop3_cmd_transaction(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_msg *m;

	switch (cmd->verb) {
	case POP3_VERB_STAT: {
		size_t count = 0;
		uint64_t size = 0;
		for (size_t i = 0; i < s->nmsgs; i++) {
			if (!s->msgs[i].deleted) {
				count++;
				size += s->msgs[i].e.size;
			}
		}
		pop3_reply(s, "+OK %zu %llu", count, (unsigned long long)size);
		return;
	}
	case POP3_VERB_LIST:
	case POP3_VERB_UIDL:
		if (cmd->nargs == 1) {
			if ((m = pop3_msg_get(s, cmd->args[0])) == NULL)
				return;
			if (cmd->verb == POP3_VERB_LIST)
				pop3_reply(s, "+OK %s %llu", cmd->args[0], (unsigned long long)m->e.size);
			else
				pop3_reply(s, "+OK %s %s", cmd->args[0], m->uidl);
			return;
		}
		pop3_reply(s, "+OK");
		for (size_t i = 0; i < s->nmsgs; i++) {
			if (s->msgs[i].deleted)
				continue;
			if (cmd->verb == POP3_VERB_LIST)
				pop3_reply(s, "%zu %llu", i + 1, (unsigned long long)s->msgs[i].e.size);
			else
				pop3_reply(s, "%zu %s", i + 1, s->msgs[i].uidl);
		}
		pop3_reply(s, ".");
		return;
	case POP3_VERB_RETR:
		if (cmd->nargs != 1) {
			pop3_reply(s, "-ERR Syntax: RETR msg");
			pop3_error(s);
			return;
		}
		if ((m = pop3_msg_get(s, cmd->args[0])) != NULL)
			pop3_stream_start(s, m, -1);
		return;
	case POP3_VERB_TOP: {
		uint64_t lines;
		if (cmd->nargs != 2 || str_parse_uint(cmd->args[1], 1000000000, &lines) < 0) {
			pop3_reply(s, "-ERR Syntax: TOP msg lines");
			pop3_error(s);
			return;
		}
		if ((m = pop3_msg_get(s, cmd->args[0])) != NULL)
			pop3_stream_start(s, m, (long)lines);
		return;
	}
	case POP3_VERB_DELE:
		if (cmd->nargs != 1) {
			pop3_reply(s, "-ERR Syntax: DELE msg");
			pop3_error(s);
			return;
		}
		if ((m = pop3_msg_get(s, cmd->args[0])) != NULL) {
			m->deleted = true;
			pop3_reply(s, "+OK Message %s deleted", cmd->args[0]);
		}
		return;
	case POP3_VERB_RSET:
		for (size_t i = 0; i < s->nmsgs; i++)
			s->msgs[i].deleted = false;
		pop3_reply(s, "+OK");
		return;
	case POP3_VERB_NOOP:
		pop3_reply(s, "+OK");
		return;
	default:
		pop3_reply(s, "-ERR Command not valid after login");
		pop3_error(s);
	}
}

/* A command in the transaction state, once the mailbox is known to be
 * still here (one lstat): moved to another node, or gone with its
 * account since the login, the session ends (never an empty mailbox
 * made again). */
static void pop3_transaction(struct pop3_session *s, const struct pop3_command *cmd)
{
	switch (mail_root_state(s->maildir)) {
	case MAIL_ROOT_MOVED:
		pop3_reply(s, "-ERR [SYS/TEMP] This mailbox has moved to another server: connect again");
		pop3_close(s);
		return;
	case MAIL_ROOT_DELETED:
		pop3_reply(s, "-ERR This account has been deleted");
		pop3_close(s);
		return;
	case MAIL_ROOT_HERE:
		break;
	}
	pop3_cmd_transaction(s, cmd);
}

/* XCLIENT ADDR=ip [PORT=n]: a trusted proxy tells the client's address
 * (server/proxy.h); refused from anyone else. */
static void pop3_xclient(struct pop3_session *s, const struct pop3_command *cmd)
{
	for (unsigned i = 0; s->conn->proxy_peer && i < cmd->nargs; i++) {
		if (strncasecmp(cmd->args[i], "ADDR=", 5) == 0 &&
		    proxy_client_address(s->conn, cmd->args[i] + 5) == 0) {
			pop3_reply(s, "+OK");
			return;
		}
	}
	pop3_reply(s, "-ERR [AUTH] XCLIENT is only for trusted proxies");
	pop3_error(s);
}

static void pop3_cmd_authorization(struct pop3_session *s, const struct pop3_command *cmd)
{
	bool plain_ok = s->conn->tls || s->conn->proxy_peer;

	switch (cmd->verb) {
	case POP3_VERB_XCLIENT:
		pop3_xclient(s, cmd);
		return;
	case POP3_VERB_STLS:
		if (s->conn->tls) {
			pop3_reply(s, "-ERR TLS is already active");
			pop3_error(s);
			return;
		}
		pop3_reply(s, "+OK Begin TLS negotiation");
		if (conn_starttls(s->conn) < 0)
			pop3_reply(s, "-ERR [SYS/TEMP] TLS not available");
		s->user[0] = '\0';
		return;
	case POP3_VERB_USER:
	case POP3_VERB_PASS:
	case POP3_VERB_AUTH:
		if (!plain_ok) {
			pop3_reply(s, "-ERR [AUTH] Plaintext authentication is not allowed without TLS:"
				   " use STLS first (or port 995)");
			pop3_error(s);
			return;
		}
		break;
	case POP3_VERB_APOP:
		pop3_reply(s, "-ERR APOP is not supported: use USER/PASS or AUTH PLAIN over TLS");
		pop3_error(s);
		return;
	default:
		pop3_reply(s, "-ERR Log in first");
		pop3_error(s);
		return;
	}
	if (cmd->verb == POP3_VERB_USER) {
		if (cmd->nargs != 1 || str_copy(s->user, sizeof(s->user), cmd->args[0]) < 0) {
			pop3_reply(s, "-ERR Syntax: USER name");
			pop3_error(s);
			return;
		}
		pop3_reply(s, "+OK Send your password");
	} else if (cmd->verb == POP3_VERB_PASS) {
		if (s->user[0] == '\0') {
			pop3_reply(s, "-ERR Send USER first");
			pop3_error(s);
			return;
		}
		pop3_login(s, s->user, cmd->rest, NULL);
	} else {
		if (cmd->nargs < 1 || !str_eq_ci(cmd->args[0], "PLAIN")) {
			pop3_reply(s, "-ERR Unsupported mechanism (PLAIN is offered)");
			pop3_error(s);
			return;
		}
		if (cmd->nargs == 2) {
			pop3_sasl_plain(s, cmd->args[1], strlen(cmd->args[1]));
		} else {
			s->state = POP3_SASL;
			pop3_reply(s, "+ ");
		}
	}
}

static void pop3_dispatch(struct pop3_session *s, const char *line, size_t len)
{
	struct pop3_command cmd;
	const char *error;

	if (s->state == POP3_SASL) {
		if (len == 1 && line[0] == '*') {
			s->state = POP3_AUTHORIZATION;
			pop3_reply(s, "-ERR Authentication cancelled");
			return;
		}
		pop3_sasl_plain(s, line, len);
		return;
	}
	if (pop3_command_parse(line, len, &cmd, &error) < 0) {
		pop3_reply(s, "-ERR %s", error);
		pop3_error(s);
		return;
	}
	explicit_bzero((char *)line, len);
	if (cmd.verb == POP3_VERB_QUIT) {
		pop3_quit(s);
	} else if (cmd.verb == POP3_VERB_CAPA) {
		pop3_capa(s);
	} else if (cmd.verb == POP3_VERB_UNKNOWN) {
		pop3_reply(s, "-ERR Unknown command");
		pop3_error(s);
	} else if (s->state == POP3_TRANSACTION) {
		pop3_transaction(s, &cmd);
	} else {
		pop3_cmd_authorization(s, &cmd);
	}
	explicit_bzero(cmd.rest, sizeof(cmd.rest));
}

static void pop3_on_read(struct conn *c)
{
	struct pop3_session *s = c->session;
	struct evbuffer *in = conn_input(c);
	char line[1024];
	bool consumed = false;

	while (s->conn != NULL && s->state != POP3_BUSY && !conn_output_full(c)) {
		size_t eol_len, llen;
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);

		if (eol.pos < 0) {
			if (evbuffer_get_length(in) > sizeof(line) - 1) {
				pop3_reply(s, "-ERR Line too long");
				pop3_close(s);
			}
			break;
		}
		llen = (size_t)eol.pos;
		consumed = true;
		if (llen > sizeof(line) - 1) {
			evbuffer_drain(in, llen + eol_len);
			pop3_reply(s, "-ERR Line too long");
			pop3_error(s);
			continue;
		}
		evbuffer_remove(in, line, llen);
		evbuffer_drain(in, eol_len);
		line[llen] = '\0';
		pop3_dispatch(s, line, llen);
		explicit_bzero(line, llen);
	}
	if (s->conn != NULL)
		conn_line_deadline(c, consumed, s->lim.pop3_command_total_timeout);
}

static void pop3_on_timeout(struct conn *c)
{
	struct pop3_session *s = c->session;

	/* RFC 1939: an autologout timer ends the session without UPDATE. */
	pop3_reply(s, "-ERR Disconnected for inactivity");
	pop3_close(s);
}

static void pop3_on_deadline(struct conn *c)
{
	struct pop3_session *s = c->session;

	if (s->conn == NULL || s->state == POP3_BUSY)
		return;
	pop3_reply(s, "-ERR Command not complete within %u seconds; closing",
		   s->lim.pop3_command_total_timeout);
	log_info(c->sid, "pop3: command from %s not complete within %u s; closing", c->ip,
		 s->lim.pop3_command_total_timeout);
	pop3_close(s);
}

static void pop3_on_shutdown(struct conn *c)
{
	struct pop3_session *s = c->session;

	if (s->state == POP3_BUSY)
		return;
	pop3_reply(s, "-ERR [SYS/TEMP] Server shutting down, try again later");
	pop3_close(s);
}

static void pop3_on_free(struct conn *c)
{
	struct pop3_session *s = c->session;

	s->conn = NULL;
	if (s->job_pending)
		s->conn_gone = true;
	else
		pop3_session_free(s);
}

static const struct conn_ops pop3_conn_ops = {
	.on_read = pop3_on_read,
	.on_timeout = pop3_on_timeout,
	.on_shutdown = pop3_on_shutdown,
	.on_deadline = pop3_on_deadline,
	.on_free = pop3_on_free,
};

static void pop3_limits_load(struct pop3_limits *lim)
{
	struct config cfg;

	server_config(&cfg);
	lim->pop3_timeout = cfg.pop3_timeout;
	lim->pop3_command_total_timeout = cfg.pop3_command_total_timeout;
	lim->pop3_max_connections_per_ip = cfg.pop3_max_connections_per_ip;
}

void pop3_session_accept(struct loop *loop, int fd, const struct sockaddr *sa, enum service service)
{
	struct pop3_session *s = calloc(1, sizeof(*s));
	struct conn *c;

	if (s == NULL) {
		close(fd);
		return;
	}
	pop3_limits_load(&s->lim);
	s->stream.fd = -1;
	c = conn_new(loop, fd, sa, service, service == SERVICE_POP3S, &pop3_conn_ops, s);
	if (c == NULL) {
		free(s);
		return;
	}
	s->conn = c;
	conn_set_timeout(c, s->lim.pop3_timeout);
	if (!conn_ip_acquire(c, s->lim.pop3_max_connections_per_ip)) {
		pop3_reply(s, "-ERR [SYS/TEMP] Too many connections from your address, try again later");
		pop3_close(s);
		return;
	}
	pop3_reply(s, "+OK Yubin POP3 ready");
}
