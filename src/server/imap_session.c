/* The loop side of an IMAP session: reading and parsing commands (with
 * literals streamed to a spool file for big APPENDs), dispatching them to
 * workers, IDLE, STARTTLS, LOGIN and AUTHENTICATE. */
#include "server/imap_session.h"
#include "server/proxy.h"
#include "server/stats.h"
#include "server/sessions.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"
#include "proto/smtp.h"
#include "store/mail_move.h"
#include "store/quota.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define IMAP_MAX_BAD 20
#define IMAP_STREAM_MIN (256 * 1024)
#define IMAP_OUT_KEEP 4096

static void imap_on_read(struct conn *c);
static void imap_flush(struct imap_session *s);

const char *imap_capabilities(const struct imap_session *s)
{
	static __thread char buf[512];
	const char *base = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT"
			   " CHILDREN UIDPLUS MOVE SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE"
			   " QUOTA QUOTA=RES-STORAGE CONDSTORE QRESYNC ESEARCH UTF8=ACCEPT BINARY MULTIAPPEND"
			   " SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES";

	if (s->state == IMAP_S_NOTAUTH && !s->conn->tls)
		snprintf(buf, sizeof(buf), "%s STARTTLS LOGINDISABLED", base);
	else if (s->state == IMAP_S_NOTAUTH)
		snprintf(buf, sizeof(buf), "%s AUTH=PLAIN", base);
	else
		snprintf(buf, sizeof(buf), "%s APPENDLIMIT=%llu", base,
			 (unsigned long long)s->append_limit);
	return buf;
}

/* ---- writing and closing ------------------------------------------------ */

/* Sends what the session wrote. Never while a job runs: the worker owns
 * s->out then (it appends its responses there), and reading or truncating
 * it from the loop at the same time loses responses, among them the
 * tagged one the client waits for. */
static void imap_send(struct imap_session *s)
{
	if (s->conn != NULL && s->out.len > 0)
		conn_write_raw(s->conn, s->out.data, s->out.len);
	/* A big response (a FETCH of whole messages) does not keep its
	 * buffer for the rest of the session. */
	if (s->out.cap > IMAP_OUT_KEEP)
		strbuf_free(&s->out);
	else
		strbuf_truncate(&s->out, 0);
}

static void imap_flush(struct imap_session *s)
{
	if (!s->busy)
		imap_send(s);
}

static void imap_close(struct imap_session *s)
{
	imap_flush(s);
	if (s->conn != NULL) {
		conn_finish(s->conn);
		s->conn = NULL;
	}
}

/* The login request and result live only while a login runs. */
static void imap_login_free(struct imap_session *s)
{
	if (s->auth_req != NULL) {
		explicit_bzero(s->auth_req, sizeof(*s->auth_req));
		free(s->auth_req);
		s->auth_req = NULL;
	}
	free(s->auth_res);
	s->auth_res = NULL;
}

static void imap_session_free(struct imap_session *s)
{
	imap_view_free(s);
	mail_index_release(s->idx);
	imap_parser_free(s->parser);
	if (s->spool_fd >= 0)
		close(s->spool_fd);
	imap_login_free(s);
	imap_fetch_run_free(s);
	if (s->stream_fd >= 0)
		close(s->stream_fd);
	strbuf_free(&s->out);
	imap_xmove_release(s);
	free(s->root);
	free(s);
}

static void imap_bad(struct imap_session *s, const char *tag, const char *msg)
{
	strbuf_printf(&s->out, "%s BAD %s\r\n", tag != NULL ? tag : "*", msg);
	if (++s->bad_commands >= IMAP_MAX_BAD) {
		imap_out(s, "* BYE Too many invalid commands");
		imap_close(s);
	}
}

/* ---- jobs --------------------------------------------------------------- */

struct imap_job {
	struct imap_session *s;
	const struct imap_cmd_def *def;
	const struct imap_command *cmd;
};

/* Borrows an index handle for the job (on the worker). */
static bool imap_job_index(struct imap_session *s)
{
	char err[256];

	if (s->root == NULL)
		return false;
	switch (mail_root_state(s->root)) {
	case MAIL_ROOT_MOVED:
		s->moved = true;	/* frozen or moved to another node */
		return false;
	case MAIL_ROOT_DELETED:
		/* the account deleted since the login (its mailbox with it):
		 * never make an empty one again */
		s->moved = s->deleted = true;
		return false;
	case MAIL_ROOT_HERE:
		break;
	}
	s->idx = mail_index_acquire(s->root, err, sizeof(err));
	if (s->idx == NULL)
		log_error(NULL, "imap: %s", err);
	return s->idx != NULL;
}

static void imap_job_index_done(struct imap_session *s)
{
	mail_index_release(s->idx);
	s->idx = NULL;
}

static void imap_job_run(void *ctx)
{
	struct imap_job *job = ctx;
	struct imap_session *s = job->s;

	if (!imap_job_index(s)) {
		imap_fetch_abort(s);
		if (s->moved) {
			imap_out(s, s->deleted ? IMAP_BYE_DELETED : IMAP_BYE_MOVED);
			s->logout = true;
			return;
		}
		imap_tagged(s, job->cmd, "NO", "[UNAVAILABLE] The mailbox cannot be opened now, try again later");
		return;
	}
	job->def->run(s, job->cmd);
	imap_job_index_done(s);
}

/* Called on the loop when a command has finished. */
static void imap_command_finished(struct imap_session *s)
{
	stats_time(STATS_IMAP_COMMAND_TIME, s->cmd_started);
	s->cmd_started = 0;
	s->busy = false;
	s->cmd = NULL;
	if (s->conn_gone) {
		imap_session_free(s);
		return;
	}
	if (s->logout) {
		imap_close(s);
		return;
	}
	imap_flush(s);
	/* A big response stops the reading now (or, past the cap, the
	 * session), not only at the next read. */
	conn_output_full(s->conn);
	if (s->starttls) {
		s->starttls = false;
		if (conn_starttls(s->conn) < 0) {
			imap_out(s, "* BYE TLS failed");
			imap_close(s);
			return;
		}
		if (s->parser != NULL)
			imap_parser_reset(s->parser);
	}
	if (s->conn != NULL)
		conn_resume(s->conn);
}

static void imap_fetch_send(struct imap_session *s, struct imap_job *job);

static void imap_job_done(void *ctx)
{
	struct imap_job *job = ctx;
	struct imap_session *s = job->s;

	if (s->fetch != NULL && !s->conn_gone && s->conn != NULL) {
		imap_fetch_send(s, job);
		return;
	}
	free(job);
	imap_command_finished(s);
}

/* ---- a FETCH in pieces -------------------------------------------------- */

/* Sends the next piece of a FETCH as the output drains: first the literal
 * left to stream, read from the message file in chunks, then the job runs
 * again for the rest. The session stays busy (not reading) all along. */
static void imap_fetch_drained(struct conn *c)
{
	struct imap_session *s = c->session;
	struct imap_job *job = s->stream_job;
	char buf[65536];

	if (!s->streaming || conn_output_pending(c) > CONN_OUT_LOW)
		return;
	if (s->stream_left > 0) {
		size_t want = s->stream_left < sizeof(buf) ? (size_t)s->stream_left : sizeof(buf);
		ssize_t n = pread(s->stream_fd, buf, want, (off_t)s->stream_off);

		if (n <= 0) {
			/* The literal's size is sent: nothing can follow. */
			log_error(c->sid, "imap: cannot read a message being sent: %s",
				  n < 0 ? strerror(errno) : "it is shorter than its size");
			s->streaming = false;
			s->busy = false;
			conn_set_drain_cb(c, NULL, 0);
			free(job);
			s->stream_job = NULL;
			s->conn = NULL;
			conn_finish(c);
			return;
		}
		/* a plain literal cannot carry NUL (CHAR8): 0x80, as out_literal */
		for (char *z = memchr(buf, '\0', (size_t)n); z != NULL;
		     z = memchr(z, '\0', (size_t)(buf + n - z)))
			*z = (char)0x80;
		conn_write_raw(c, buf, (size_t)n);
		s->stream_off += (uint64_t)n;
		s->stream_left -= (uint64_t)n;
		if (s->stream_left > 0)
			return;
	}
	if (s->stream_fd >= 0)
		close(s->stream_fd);
	s->stream_fd = -1;
	s->streaming = false;
	s->stream_job = NULL;
	conn_set_drain_cb(c, NULL, 0);
	worker_pool_submit(server->workers, c->loop->base, imap_job_run, imap_job_done, job);
}

static void imap_fetch_send(struct imap_session *s, struct imap_job *job)
{
	imap_send(s);
	s->streaming = true;
	s->stream_job = job;
	conn_set_drain_cb(s->conn, imap_fetch_drained, CONN_OUT_LOW);
	imap_fetch_drained(s->conn);
}

static void imap_submit(struct imap_session *s, const struct imap_cmd_def *def,
			const struct imap_command *cmd)
{
	struct imap_job *job = calloc(1, sizeof(*job));

	if (job == NULL) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		imap_flush(s);
		return;
	}
	job->s = s;
	job->def = def;
	job->cmd = cmd;
	imap_flush(s);	/* replies to earlier pipelined input go first */
	s->busy = true;
	s->cmd = cmd;
	conn_pause(s->conn);
	worker_pool_submit(server->workers, s->conn->loop->base, imap_job_run, imap_job_done, job);
}

/* ---- login -------------------------------------------------------------- */

struct imap_login_job {
	struct imap_session *s;
	const struct imap_command *cmd;
	char tag[64];
	int result;
	struct proxy *proxy;	/* server.role = proxy: the way to the home node */
};

static void imap_open_run(void *ctx)
{
	struct imap_login_job *job = ctx;

	job->result = imap_session_open_store(job->s, job->s->auth_res->address);
}

static void imap_open_done(void *ctx)
{
	struct imap_login_job *job = ctx;
	struct imap_session *s = job->s;

	imap_login_free(s);
	if (!s->conn_gone) {
		if (job->result == 0) {
			s->state = IMAP_S_AUTH;
			strbuf_printf(&s->out, "%s OK [CAPABILITY %s] Logged in\r\n", job->tag,
				      imap_capabilities(s));
			log_info(s->conn->sid, "imap: login %s from %s", s->user, s->conn->ip);
		} else {
			strbuf_printf(&s->out, "%s NO [UNAVAILABLE] The mailbox cannot be opened now,"
				      " try again later\r\n", job->tag);
		}
	}
	free(job);
	imap_command_finished(s);
}

/* The reply to a refused login (RFC 5530 codes). A plain failure never
 * says which part was wrong; a refusal by policy says why, in the words
 * the auth check chose for the user. */
static void imap_auth_failed(struct imap_session *s, const char *tag)
{
	const struct auth_result *res = s->auth_res;

	switch (res->code) {
	case AUTH_FOREIGN:
		strbuf_printf(&s->out, "%s NO [AUTHENTICATIONFAILED] %s\r\n", tag, res->text);
		break;
	case AUTH_BLOCKED:
	case AUTH_TEMPFAIL:
		strbuf_printf(&s->out, "%s NO [UNAVAILABLE] %s\r\n", tag,
			      res->text[0] != '\0' ? res->text : "Login temporarily unavailable, try again later");
		break;
	default:
		strbuf_printf(&s->out, "%s NO [AUTHENTICATIONFAILED] Authentication failed: check the"
			      " login name (your full mail address) and the password\r\n", tag);
		break;
	}
	log_info(s->conn->sid, "imap: authentication failed for %s from %s: %s", s->auth_req->user,
		 s->conn->ip, res->code == AUTH_FOREIGN || res->code == AUTH_BLOCKED ? res->text : res->reason);
}

/* server.role = proxy: logged in at the home node (the session hands its
 * connection to the relay and ends), or a temporary error. */
static void imap_proxy_ready(void *ctx, bool ok, const char *line)
{
	struct imap_login_job *job = ctx;
	struct imap_session *s = job->s;
	struct proxy *p = job->proxy;
	char tag[sizeof(job->tag)];

	str_copy(tag, sizeof(tag), job->tag);
	free(job);
	if (s->conn_gone || !ok) {
		if (!s->conn_gone)
			strbuf_printf(&s->out, "%s NO [UNAVAILABLE] The server of your mailbox cannot be"
				      " reached now, try again later\r\n", tag);
		proxy_free(p);
		imap_command_finished(s);
		return;
	}
	strbuf_printf(&s->out, "%s OK %s\r\n", tag, line);
	log_info(s->conn->sid, "imap: login %s from %s (proxied)", s->user, s->conn->ip);
	s->busy = false;
	imap_send(s);
	s->conn = NULL;
	imap_session_free(s);
	proxy_relay(p);
}

static void imap_auth_done(void *ctx)
{
	struct imap_login_job *job = ctx;
	struct imap_session *s = job->s;

	auth_request_wipe(s->auth_req);
	if (s->conn_gone || !s->auth_res->ok) {
		if (!s->conn_gone)
			imap_auth_failed(s, job->tag);
		imap_login_free(s);
		free(job);
		imap_command_finished(s);
		return;
	}
	if (proxy_role_is_proxy()) {
		str_copy(s->user, sizeof(s->user), s->auth_res->address);
		imap_login_free(s);
		job->proxy = proxy_start(s->conn, PROXY_IMAP, s->user, imap_proxy_ready, job);
		if (job->proxy == NULL) {
			strbuf_printf(&s->out, "%s NO [SERVERBUG] Out of memory\r\n", job->tag);
			free(job);
			imap_command_finished(s);
		}
		return;
	}
	worker_pool_submit(server->workers, s->conn->loop->base, imap_open_run, imap_open_done, job);
}

/* authcid: a proxy's login on behalf of user (server/proxy.h); else NULL. */
static void imap_login_start(struct imap_session *s, const char *tag, const char *user, const char *pass,
			     const char *authcid)
{
	struct imap_login_job *job = calloc(1, sizeof(*job));

	if (job == NULL) {
		strbuf_printf(&s->out, "%s NO [SERVERBUG] Out of memory\r\n", tag);
		return;
	}
	imap_login_free(s);
	s->auth_req = calloc(1, sizeof(*s->auth_req));
	s->auth_res = calloc(1, sizeof(*s->auth_res));
	if (s->auth_req == NULL || s->auth_res == NULL) {
		imap_login_free(s);
		free(job);
		strbuf_printf(&s->out, "%s NO [SERVERBUG] Out of memory\r\n", tag);
		return;
	}
	job->s = s;
	str_copy(job->tag, sizeof(job->tag), tag);
	str_copy(s->auth_req->user, sizeof(s->auth_req->user), user);
	str_copy(s->auth_req->password, sizeof(s->auth_req->password), pass);
	str_copy(s->auth_req->ip, sizeof(s->auth_req->ip), s->conn->ip);
	str_copy(s->auth_req->service, sizeof(s->auth_req->service), "imap");
	if (authcid == NULL)
		s->mover = false;	/* a move logs in with the proxy login only */
	s->auth_req->mover = s->mover;
	imap_flush(s);
	s->busy = true;
	conn_pause(s->conn);
	if (authcid != NULL)
		proxy_login_submit(s->conn->loop, authcid, s->auth_req, s->auth_res, imap_auth_done, job);
	else
		auth_submit(s->conn->loop, s->auth_req, s->auth_res, imap_auth_done, job);
}

static void imap_sasl_plain(struct imap_session *s, const char *tag, const char *b64, size_t len)
{
	char authz[320], authc[320], pass[256];
	const char *error;

	if (sasl_plain_decode(b64, len, authz, sizeof(authz), authc, sizeof(authc),
			      pass, sizeof(pass), &error) < 0 ||
	    (authz[0] != '\0' && !str_eq_ci(authz, authc) && !s->conn->proxy_peer)) {
		explicit_bzero(pass, sizeof(pass));
		strbuf_printf(&s->out, "%s NO [AUTHENTICATIONFAILED] Invalid AUTHENTICATE PLAIN response\r\n", tag);
		return;
	}
	if (authz[0] != '\0' && !str_eq_ci(authz, authc))
		imap_login_start(s, tag, authz, pass, authc);	/* a trusted proxy */
	else
		imap_login_start(s, tag, authc, pass, NULL);
	explicit_bzero(pass, sizeof(pass));
}

/* ---- commands run on the loop ------------------------------------------ */

static bool imap_loop_command(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name = cmd->name;

	if (strcmp(name, "CAPABILITY") == 0) {
		imap_out(s, "* CAPABILITY %s", imap_capabilities(s));
		imap_tagged(s, cmd, "OK", "CAPABILITY completed");
	} else if (strcmp(name, "LOGOUT") == 0) {
		imap_out(s, "* BYE Logging out");
		imap_tagged(s, cmd, "OK", "LOGOUT completed");
		imap_close(s);
	} else if (strcmp(name, "NOOP") == 0 && s->state == IMAP_S_NOTAUTH) {
		imap_tagged(s, cmd, "OK", "NOOP completed");
	} else if (strcmp(name, "STARTTLS") == 0) {
		if (s->conn->tls || s->state != IMAP_S_NOTAUTH)
			imap_tagged(s, cmd, "BAD", "TLS is already active");
		else {
			imap_tagged(s, cmd, "OK", "Begin TLS negotiation now");
			imap_flush(s);
			if (conn_starttls(s->conn) < 0) {
				imap_close(s);
				return true;
			}
			if (s->parser != NULL)
				imap_parser_reset(s->parser);
		}
	} else if (strcmp(name, "LOGIN") == 0 || strcmp(name, "AUTHENTICATE") == 0) {
		if (s->state != IMAP_S_NOTAUTH) {
			imap_tagged(s, cmd, "BAD", "Already logged in");
		} else if (!s->conn->tls && !s->conn->proxy_peer) {
			imap_tagged(s, cmd, "NO", "[PRIVACYREQUIRED] Log in only after STARTTLS (or on port 993)");
		} else if (strcmp(name, "LOGIN") == 0) {
			const char *user = cmd->count == 2 ? imap_arg_astring(&cmd->args[0]) : NULL;
			const char *pass = cmd->count == 2 ? imap_arg_astring(&cmd->args[1]) : NULL;
			if (user == NULL || pass == NULL)
				imap_tagged(s, cmd, "BAD", "Syntax: LOGIN user password");
			else
				imap_login_start(s, cmd->tag, user, pass, NULL);
		} else {
			const char *mech = cmd->count >= 1 ? imap_arg_atom(&cmd->args[0]) : NULL;
			if (mech == NULL || strcasecmp(mech, "PLAIN") != 0 || cmd->count > 2) {
				imap_tagged(s, cmd, "NO", "Unsupported mechanism (PLAIN is offered)");
			} else if (cmd->count == 2) {
				const char *ir = imap_arg_atom(&cmd->args[1]);
				if (ir == NULL)
					imap_tagged(s, cmd, "BAD", "Bad initial response");
				else
					imap_sasl_plain(s, cmd->tag, ir, strcmp(ir, "=") == 0 ? 0 : strlen(ir));
			} else {
				str_copy(s->sasl_tag, sizeof(s->sasl_tag), cmd->tag);
				imap_out(s, "+ ");
			}
		}
	} else {
		return false;
	}
	return true;
}

/* ---- IDLE --------------------------------------------------------------- */

static void imap_idle_sync_run(void *ctx)
{
	struct imap_session *s = ctx;

	if (!imap_job_index(s)) {
		if (s->moved)
			imap_out(s, s->deleted ? IMAP_BYE_DELETED : IMAP_BYE_MOVED);
		return;
	}
	imap_view_sync(s, true);
	imap_job_index_done(s);
}

static void imap_idle_sync_done(void *ctx)
{
	struct imap_session *s = ctx;

	s->busy = false;
	if (s->conn_gone) {
		imap_session_free(s);
		return;
	}
	if (s->moved) {
		imap_close(s);	/* after the BYE: the client connects again, to the new node */
		return;
	}
	imap_flush(s);
	conn_resume(s->conn);
}

/* Polls the account's change counter: cheap, no system call. */
static void imap_idle_check(struct imap_session *s)
{
	uint64_t gen;

	if (!s->idling || s->busy || s->conn == NULL)
		return;
	gen = store_generation(s->root);
	if (gen == s->idle_gen)
		return;
	s->idle_gen = gen;
	imap_flush(s);
	s->busy = true;
	conn_pause(s->conn);
	worker_pool_submit(server->workers, s->conn->loop->base, imap_idle_sync_run, imap_idle_sync_done, s);
}

/* The loop's IDLE timer: every session in IDLE on this loop. */
static void imap_idle_tick(evutil_socket_t fd, short what, void *arg)
{
	struct loop *loop = arg;

	for (struct imap_session *s = loop->idle_head, *next; s != NULL; s = next) {
		next = s->idle_next;
		imap_idle_check(s);
	}
}

static void imap_idle_link(struct imap_session *s, struct loop *loop)
{
	static const struct timeval tick = { 0, 250000 };

	if (s->idle_linked)
		return;
	if (loop->idle_tick == NULL) {
		loop->idle_tick = event_new(loop->base, -1, EV_PERSIST, imap_idle_tick, loop);
		if (loop->idle_tick != NULL)
			event_add(loop->idle_tick, &tick);
	}
	s->idle_prev = NULL;
	s->idle_next = loop->idle_head;
	if (loop->idle_head != NULL)
		loop->idle_head->idle_prev = s;
	loop->idle_head = s;
	s->idle_linked = true;
}

static void imap_idle_unlink(struct imap_session *s, struct loop *loop)
{
	if (!s->idle_linked)
		return;
	if (s->idle_prev != NULL)
		s->idle_prev->idle_next = s->idle_next;
	else
		loop->idle_head = s->idle_next;
	if (s->idle_next != NULL)
		s->idle_next->idle_prev = s->idle_prev;
	s->idle_prev = s->idle_next = NULL;
	s->idle_linked = false;
}

static void imap_idle_start(struct imap_session *s, const struct imap_command *cmd)
{
	str_copy(s->idle_tag, sizeof(s->idle_tag), cmd->tag);
	s->idling = true;
	s->idle_gen = store_generation(s->root);
	imap_idle_link(s, s->conn->loop);
	conn_set_timeout(s->conn, s->idle_timeout);
	/* Sending a byte now and then does not make an IDLE last longer. */
	conn_deadline_clear(s->conn);
	conn_deadline_arm(s->conn, s->idle_timeout);
	imap_out(s, "+ idling");
	/* An idle session keeps no parser (its arena and buffers are most of
	 * a session's memory); DONE is read as a plain line. */
	imap_parser_free(s->parser);
	s->parser = NULL;
	/* The first tick syncs once, reporting anything that changed since
	 * the last command. */
	s->idle_gen = UINT64_MAX;
}

static void imap_idle_line(struct imap_session *s, const char *line)
{
	s->idling = false;
	imap_idle_unlink(s, s->conn->loop);
	conn_set_timeout(s->conn, s->timeout);
	conn_deadline_clear(s->conn);
	if (s->parser == NULL && (s->parser = imap_parser_new(&s->limits)) == NULL) {
		imap_out(s, "* BYE [SERVERBUG] Out of memory");
		imap_close(s);
		return;
	}
	if (strcasecmp(line, "DONE") == 0)
		strbuf_printf(&s->out, "%s OK IDLE terminated\r\n", s->idle_tag);
	else
		strbuf_printf(&s->out, "%s BAD Expected DONE\r\n", s->idle_tag);
}

/* ---- dispatch ----------------------------------------------------------- */

static void imap_dispatch_run(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_cmd_def *def;

	if (imap_loop_command(s, cmd))
		return;
	if (strcmp(cmd->name, "IDLE") == 0) {
		if (s->state == IMAP_S_NOTAUTH)
			imap_tagged(s, cmd, "BAD", "Log in first");
		else
			imap_idle_start(s, cmd);
		return;
	}
	def = imap_cmd_find(cmd->name);
	if (def == NULL || (cmd->uid && strcmp(cmd->name, "FETCH") != 0 && strcmp(cmd->name, "STORE") != 0 &&
			    strcmp(cmd->name, "SEARCH") != 0 && strcmp(cmd->name, "COPY") != 0 &&
			    strcmp(cmd->name, "SORT") != 0 && strcmp(cmd->name, "THREAD") != 0 &&
			    strcmp(cmd->name, "MOVE") != 0 && strcmp(cmd->name, "EXPUNGE") != 0)) {
		imap_bad(s, cmd->tag, "Unknown command");
		return;
	}
	if ((def->states & IMAP_BIT(s->state)) == 0) {
		imap_tagged(s, cmd, "BAD", s->state == IMAP_S_NOTAUTH ? "Log in first"
					    : "Select a mailbox first");
		return;
	}
	if (def->worker) {
		imap_submit(s, def, cmd);
		return;
	}
	def->run(s, cmd);
}

/* Runs a command, timed from here to its tagged reply: now when it ran
 * on the loop, else in imap_command_finished (IDLE is not timed). */
static void imap_dispatch(struct imap_session *s, const struct imap_command *cmd)
{
	s->cmd_started = strcmp(cmd->name, "IDLE") != 0 ? stats_now() : 0;
	imap_dispatch_run(s, cmd);
	if (!s->busy) {
		stats_time(STATS_IMAP_COMMAND_TIME, s->cmd_started);
		s->cmd_started = 0;
	}
}

/* A synchronising literal is announced: for APPEND, refuse at once what
 * cannot fit. A non-synchronising one comes anyway; the APPEND then fails
 * with its one tagged reply. */
static bool imap_literal_ok(struct imap_session *s, const struct imap_literal_info *lit)
{
	struct imap_command partial;

	if (lit->sync && imap_parser_get_partial(s->parser, &partial) == 0 &&
	    strcmp(partial.name, "APPEND") == 0 && s->quota_bytes > 0) {
		uint64_t used = 0;
		if (quota_usage(s->root, &used) == 0 && used + lit->size > s->quota_bytes) {
			strbuf_printf(&s->out, "%s NO [OVERQUOTA] The mailbox is full: the message does not"
				      " fit in the remaining quota\r\n", partial.tag);
			imap_parser_literal_reject(s->parser);
			return false;
		}
	}
	return true;
}

static int imap_spool_open(struct imap_session *s)
{
	char dir[PATH_MAX];

	if (s->spool_fd >= 0)
		close(s->spool_fd);
	snprintf(dir, sizeof(dir), "%s/tmp", server->data_dir);
	s->spool_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	s->spool_len = 0;
	return s->spool_fd >= 0 ? 0 : -1;
}

/* IDLE's DONE and AUTHENTICATE's response are plain lines, read without
 * the parser. Returns false when no whole line is buffered (or the
 * session closed). */
static bool imap_read_line(struct imap_session *s, struct evbuffer *in)
{
	size_t eol_len;
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	char line[2048], tag[64];

	if (eol.pos < 0) {
		if (evbuffer_get_length(in) > sizeof(line))
			imap_close(s);
		else if (!s->idling)
			conn_deadline_arm(s->conn, s->command_timeout);
		return false;
	}
	if ((size_t)eol.pos >= sizeof(line)) {
		imap_close(s);
		return false;
	}
	evbuffer_remove(in, line, (size_t)eol.pos);
	evbuffer_drain(in, eol_len);
	line[eol.pos] = '\0';
	if (s->idling) {
		imap_idle_line(s, line);
	} else {
		conn_deadline_clear(s->conn);
		str_copy(tag, sizeof(tag), s->sasl_tag);
		s->sasl_tag[0] = '\0';
		if (strcmp(line, "*") == 0)
			strbuf_printf(&s->out, "%s BAD Authentication cancelled\r\n", tag);
		else
			imap_sasl_plain(s, tag, line, strlen(line));
	}
	explicit_bzero(line, sizeof(line));
	return true;
}

static void imap_on_read(struct conn *c)
{
	struct imap_session *s = c->session;
	struct evbuffer *in = conn_input(c);

	while (s->conn != NULL && !s->busy && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec vec;
		size_t consumed = 0;
		int r;

		/* Replies the client does not read stop the reading here; the
		 * drain of the output calls back (conn_output_full). */
		imap_flush(s);
		if (conn_output_full(c))
			break;

		if (s->idling || s->sasl_tag[0] != '\0') {
			if (!imap_read_line(s, in))
				break;
			continue;
		}
		if (s->parser == NULL || evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
			break;
		r = imap_parser_feed(s->parser, vec.iov_base, vec.iov_len, &consumed);
		if (r == IMAP_PARSE_LITERAL_DATA && s->spool_fd >= 0) {
			if (write(s->spool_fd, vec.iov_base, consumed) != (ssize_t)consumed) {
				close(s->spool_fd);
				s->spool_fd = -1;
			}
			s->spool_len += consumed;
		}
		evbuffer_drain(in, consumed);
		/* A command (its literals included) must be complete within
		 * imap.command_total_timeout of its first byte. */
		if (r == IMAP_PARSE_COMMAND || r == IMAP_PARSE_ERROR)
			conn_deadline_clear(c);
		else if (consumed > 0)
			conn_deadline_arm(c, s->command_timeout);
		switch (r) {
		case IMAP_PARSE_MORE:
		case IMAP_PARSE_LITERAL_DATA:
			break;
		case IMAP_PARSE_CONTINUE:
			if (imap_literal_ok(s, imap_parser_get_literal(s->parser)))
				imap_out(s, "+ Ready for literal data");
			break;
		case IMAP_PARSE_LITERAL_START: {
			const struct imap_literal_info *lit = imap_parser_get_literal(s->parser);
			if (!imap_literal_ok(s, lit))
				break;
			if (imap_spool_open(s) < 0)
				log_error(c->sid, "imap: cannot create a spool file: %s", strerror(errno));
			if (lit->sync)
				imap_out(s, "+ Ready for literal data");
			break;
		}
		case IMAP_PARSE_COMMAND:
			imap_dispatch(s, imap_parser_get_command(s->parser));
			break;
		case IMAP_PARSE_ERROR: {
			const struct imap_parse_error *e = imap_parser_get_error(s->parser);
			if (e->code == IMAP_PARSE_ERROR_TOOBIG) {
				strbuf_printf(&s->out, "%s NO [TOOBIG] %s\r\n", e->tag != NULL ? e->tag : "*",
					      e->message);
				log_info(s->sid, "imap: literal refused for %s: [TOOBIG] %s",
					 s->user[0] ? s->user : "-", e->message);
			} else
				imap_bad(s, e->tag, e->message);
			if (e->fatal) {
				imap_out(s, "* BYE %s", e->message);
				imap_close(s);
			}
			break;
		}
		default:
			break;
		}
	}
	imap_flush(s);
}

static void imap_on_timeout(struct conn *c)
{
	struct imap_session *s = c->session;

	imap_out(s, "* BYE Autologout: idle for too long");
	imap_close(s);
}

static void imap_on_deadline(struct conn *c)
{
	struct imap_session *s = c->session;

	if (s->busy || s->conn == NULL)
		return;
	if (s->idling) {
		imap_out(s, "* BYE IDLE for too long: issue IDLE again at least every %u seconds", s->idle_timeout);
		log_info(c->sid, "imap: IDLE of %s longer than %u s; closing", c->ip, s->idle_timeout);
	} else {
		imap_out(s, "* BYE Command not complete within %u seconds", s->command_timeout);
		log_info(c->sid, "imap: command from %s not complete within %u s; closing", c->ip,
			 s->command_timeout);
	}
	imap_close(s);
}

static void imap_on_shutdown(struct conn *c)
{
	struct imap_session *s = c->session;

	if (s->busy)
		return;
	imap_out(s, "* BYE [UNAVAILABLE] Server shutting down, try again later");
	imap_close(s);
}

static void imap_on_free(struct conn *c)
{
	struct imap_session *s = c->session;

	imap_idle_unlink(s, c->loop);
	s->conn = NULL;
	if (s->streaming) {
		free(s->stream_job);
		s->busy = false;
	}
	if (s->busy)
		s->conn_gone = true;
	else
		imap_session_free(s);
}

static const struct conn_ops imap_conn_ops = {
	.on_read = imap_on_read,
	.on_timeout = imap_on_timeout,
	.on_shutdown = imap_on_shutdown,
	.on_free = imap_on_free,
	.on_deadline = imap_on_deadline,
};

void imap_session_accept(struct loop *loop, int fd, const struct sockaddr *sa, enum service service)
{
	struct imap_session *s = calloc(1, sizeof(*s));
	struct config *cfg;
	unsigned max_per_ip;
	struct conn *c;

	if (s == NULL) {
		close(fd);
		return;
	}
	cfg = malloc(sizeof(*cfg));
	if (cfg == NULL) {
		free(s);
		close(fd);
		return;
	}
	server_config(cfg);
	s->timeout = cfg->imap_timeout;
	s->idle_timeout = cfg->imap_idle_timeout;
	s->append_limit = cfg->imap_append_limit;
	s->command_timeout = cfg->imap_command_total_timeout;
	s->search_index = strcmp(cfg->imap_search_index, "off") != 0;
	max_per_ip = cfg->imap_max_connections_per_ip;
	s->limits.max_line = cfg->imap_max_line_length;
	s->limits.max_literal = cfg->imap_append_limit;
	s->limits.stream_min = IMAP_STREAM_MIN;
	free(cfg);
	s->spool_fd = -1;
	s->stream_fd = -1;
	s->parser = imap_parser_new(&s->limits);
	c = conn_new(loop, fd, sa, service, service == SERVICE_IMAPS, &imap_conn_ops, s);
	if (c == NULL || s->parser == NULL) {
		imap_parser_free(s->parser);
		free(s);
		return;
	}
	s->conn = c;
	memcpy(s->sid, c->sid, sizeof(s->sid));
	conn_set_timeout(c, s->timeout);
	if (!conn_ip_acquire(c, max_per_ip)) {
		imap_out(s, "* BYE [UNAVAILABLE] Too many connections from your address, try again later");
		imap_close(s);
		return;
	}
	imap_out(s, "* OK [CAPABILITY %s] Yubin IMAP ready", imap_capabilities(s));
	imap_flush(s);
}
