/* The ManageSieve server session (RFC 5804): STARTTLS, AUTHENTICATE PLAIN
 * (only under TLS, through the same login check as IMAP: brute-force
 * defence, the foreign-access restriction with foreign-auth-mail), then
 * the script commands on the account's scripts (store/sieve_store.c).
 * Every script is compiled by the Sieve engine before it is stored, so a
 * broken script never becomes active. Commands that touch the disk run
 * on the worker pool; the session reads nothing meanwhile. */
#include "server/sessions.h"
#include "server/auth.h"
#include "server/conn.h"
#include "server/proxy.h"
#include "ops/ops.h"
#include "proto/managesieve.h"
#include "proto/smtp.h"
#include "sieve/sieve.h"
#include "store/sieve_store.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/strbuf.h"
#include "lib/workers.h"

#include <errno.h>
#include <event2/buffer.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MS_MAX_ERRORS 20
#define MS_LITERAL_MAX OPS_SIEVE_SCRIPT_MAX

enum ms_state { MS_ANON, MS_SASL, MS_USER, MS_BUSY };

struct ms_limits {
	unsigned timeout;
	unsigned max_per_ip;
	size_t max_script;
	unsigned max_scripts;
};

struct ms_session {
	struct conn *conn;
	struct ms_limits lim;
	enum ms_state state;
	unsigned errors;
	size_t need;		/* input octets to wait for before parsing again */
	char address[320];
	char maildir[PATH_MAX];
	bool job_pending, conn_gone;
	struct auth_request auth_req;
	struct auth_result auth_res;
	struct proxy *proxy;	/* server.role = proxy: the way to the home node */
	char scratch[MSIEVE_MAX_ARGS * MSIEVE_QUOTED_MAX];
};

/* Changes of scripts are serialised (they are rare and quick), so two
 * sessions of one account never interleave a rename and a put. */
static pthread_mutex_t ms_store_lock = PTHREAD_MUTEX_INITIALIZER;

static void ms_free(struct ms_session *s)
{
	proxy_free(s->proxy);
	auth_request_wipe(&s->auth_req);
	free(s);
}

static void ms_close(struct ms_session *s)
{
	conn_finish(s->conn);
	s->conn = NULL;
}

/* One response line: OK, NO or BYE, an optional code, an optional text. */
static void ms_status(struct strbuf *out, const char *status, const char *code, const char *text)
{
	char q[2 * MSIEVE_QUOTED_MAX];

	strbuf_append_str(out, status);
	if (code != NULL)
		strbuf_printf(out, " (%s)", code);
	if (text != NULL && msieve_string(q, sizeof(q), text, strlen(text)) < sizeof(q))
		strbuf_printf(out, " %s", q);
	strbuf_append(out, "\r\n", 2);
}

static void ms_send(struct ms_session *s, struct strbuf *out)
{
	if (s->conn != NULL && out->len > 0)
		conn_write_raw(s->conn, out->data, out->len);
	strbuf_free(out);
}

static void ms_reply(struct ms_session *s, const char *status, const char *code, const char *text)
{
	struct strbuf out = STRBUF_INIT;

	ms_status(&out, status, code, text);
	ms_send(s, &out);
}

static void ms_error(struct ms_session *s, const char *text)
{
	ms_reply(s, "NO", NULL, text);
	if (++s->errors >= MS_MAX_ERRORS && s->conn != NULL) {
		ms_reply(s, "BYE", NULL, "Too many bad commands");
		ms_close(s);
	}
}

static void ms_capabilities(struct ms_session *s, struct strbuf *out)
{
	struct sieve_limits lim;

	sieve_limits_default(&lim);
	strbuf_append_str(out, "\"IMPLEMENTATION\" \"Yubin\"\r\n");
	strbuf_printf(out, "\"SIEVE\" \"%s\"\r\n", sieve_capabilities());
	strbuf_printf(out, "\"SASL\" \"%s\"\r\n", s->conn->tls || s->conn->proxy_peer ? "PLAIN" : "");
	if (!s->conn->tls)
		strbuf_append_str(out, "\"STARTTLS\"\r\n");
	strbuf_printf(out, "\"MAXREDIRECTS\" \"%u\"\r\n", lim.max_redirects);
	if (s->state == MS_USER)
		strbuf_printf(out, "\"OWNER\" \"%s\"\r\n", s->address);
	strbuf_append_str(out, "\"VERSION\" \"1.0\"\r\n");
}

static void ms_send_capabilities(struct ms_session *s, const char *text)
{
	struct strbuf out = STRBUF_INIT;

	ms_capabilities(s, &out);
	ms_status(&out, "OK", NULL, text);
	ms_send(s, &out);
}

/* ---- logging in ------------------------------------------------------- */

/* server.role = proxy: logged in at the home node (the session hands its
 * connection to the relay and ends), or a temporary error. */
static void ms_proxy_ready(void *ctx, bool ok, const char *line)
{
	struct ms_session *s = ctx;
	struct proxy *p = s->proxy;
	struct conn *c = s->conn;

	s->proxy = NULL;
	s->job_pending = false;
	if (s->conn_gone) {
		proxy_free(p);
		ms_free(s);
		return;
	}
	if (!ok) {
		proxy_free(p);
		s->state = MS_ANON;
		ms_reply(s, "NO", "TRYLATER", "The server of your mailbox cannot be reached now, try again later");
		conn_resume(c);
		return;
	}
	conn_write_raw(c, "OK ", 3);
	conn_write_raw(c, line, strlen(line));
	conn_write_raw(c, "\r\n", 2);
	log_info(c->sid, "sieve: login %s from %s (proxied)", s->address, c->ip);
	s->conn = NULL;
	ms_free(s);
	proxy_relay(p);
}

static void ms_proxy_start(struct ms_session *s)
{
	s->state = MS_BUSY;
	s->job_pending = true;
	s->proxy = proxy_start(s->conn, PROXY_SIEVE, s->address, ms_proxy_ready, s);
	if (s->proxy == NULL) {
		s->job_pending = false;
		s->state = MS_ANON;
		ms_reply(s, "NO", "TRYLATER", "Out of memory");
		conn_resume(s->conn);
	}
}

static void ms_login_done(void *ctx)
{
	struct ms_session *s = ctx;
	char domain[256], local[65];
	const char *at;

	s->job_pending = false;
	auth_request_wipe(&s->auth_req);
	if (s->conn_gone) {
		ms_free(s);
		return;
	}
	s->state = MS_ANON;
	if (!s->auth_res.ok) {
		log_info(s->conn->sid, "sieve: authentication failed for %s from %s: %s", s->auth_req.user,
			 s->conn->ip, s->auth_res.reason);
		if (s->auth_res.code == AUTH_BLOCKED || s->auth_res.code == AUTH_TEMPFAIL)
			ms_reply(s, "NO", "TRYLATER", s->auth_res.text);
		else if (s->auth_res.code == AUTH_FOREIGN)
			ms_error(s, s->auth_res.text);
		else
			ms_error(s, "Authentication failed: check the login name (your full mail address) and"
				 " the password");
		if (s->conn != NULL)
			conn_resume(s->conn);
		return;
	}
	str_copy(s->address, sizeof(s->address), s->auth_res.address);
	if (proxy_role_is_proxy()) {
		ms_proxy_start(s);
		return;
	}
	at = strchr(s->address, '@');
	str_copyn(local, sizeof(local), s->address, (size_t)(at - s->address));
	str_copy(domain, sizeof(domain), at + 1);
	if (server_maildir(s->maildir, sizeof(s->maildir), domain, local) < 0) {
		ms_reply(s, "NO", "TRYLATER", "Mailbox unavailable, try again later");
		conn_resume(s->conn);
		return;
	}
	s->state = MS_USER;
	log_info(s->conn->sid, "sieve: login %s from %s", s->address, s->conn->ip);
	ms_reply(s, "OK", NULL, "Logged in");
	conn_resume(s->conn);
}

static void ms_sasl_plain(struct ms_session *s, const char *b64, size_t len)
{
	char authz[320], authc[320], pass[256];
	const char *error;
	bool proxied;

	s->state = MS_ANON;
	if (sasl_plain_decode(b64, len, authz, sizeof(authz), authc, sizeof(authc), pass, sizeof(pass),
			      &error) < 0 ||
	    (authz[0] != '\0' && !str_eq_ci(authz, authc) && !s->conn->proxy_peer)) {
		explicit_bzero(pass, sizeof(pass));
		ms_error(s, "Invalid AUTHENTICATE PLAIN response");
		return;
	}
	/* a trusted proxy logs in on behalf of authz (server/proxy.h) */
	proxied = authz[0] != '\0' && !str_eq_ci(authz, authc);
	str_copy(s->auth_req.user, sizeof(s->auth_req.user), proxied ? authz : authc);
	str_copy(s->auth_req.password, sizeof(s->auth_req.password), pass);
	explicit_bzero(pass, sizeof(pass));
	str_copy(s->auth_req.ip, sizeof(s->auth_req.ip), s->conn->ip);
	str_copy(s->auth_req.service, sizeof(s->auth_req.service), "sieve");
	memset(&s->auth_res, 0, sizeof(s->auth_res));
	s->state = MS_BUSY;
	s->job_pending = true;
	conn_pause(s->conn);
	if (proxied)
		proxy_login_submit(s->conn->loop, authc, &s->auth_req, &s->auth_res, ms_login_done, s);
	else
		auth_submit(s->conn->loop, &s->auth_req, &s->auth_res, ms_login_done, s);
}

static void ms_authenticate(struct ms_session *s, const struct msieve_command *c)
{
	if (s->state == MS_USER) {
		ms_error(s, "Already logged in");
		return;
	}
	if (!s->conn->tls && !s->conn->proxy_peer) {
		ms_reply(s, "NO", "ENCRYPT-NEEDED", "Logging in needs TLS: use STARTTLS first");
		return;
	}
	if (c->nargs < 1 || c->nargs > 2 || c->args[0].type != MSIEVE_ARG_STRING ||
	    (c->nargs == 2 && c->args[1].type != MSIEVE_ARG_STRING)) {
		ms_error(s, "Syntax: AUTHENTICATE \"PLAIN\" [\"initial response\"]");
		return;
	}
	if (!str_eq_ci(c->args[0].data, "PLAIN") || c->args[0].len != 5) {
		ms_error(s, "Unsupported mechanism (PLAIN is offered)");
		return;
	}
	if (c->nargs == 2) {
		ms_sasl_plain(s, c->args[1].data, c->args[1].len);
		return;
	}
	s->state = MS_SASL;
	conn_write_raw(s->conn, "\"\"\r\n", 4);
}

/* ---- the script commands, on a worker ---------------------------------- */

struct ms_job {
	struct ms_session *s;
	enum msieve_verb verb;
	char name[SIEVE_STORE_NAME_MAX + 1], name2[SIEVE_STORE_NAME_MAX + 1];
	char *script;
	size_t len;
	uint64_t size;		/* HAVESPACE */
	char ip[64];
	struct strbuf out;
};

/* An ops refusal as a ManageSieve NO, with the response code RFC 5804
 * gives it. */
static void ms_ops_no(struct ms_job *j, const struct ops_error *err)
{
	static const struct { const char *ops, *code; } codes[] = {
		{ "not_found", "NONEXISTENT" }, { "exists", "ALREADYEXISTS" }, { "active", "ACTIVE" },
		{ "quota_size", "QUOTA/MAXSIZE" }, { "quota_count", "QUOTA/MAXSCRIPTS" }, { "internal", "TRYLATER" },
	};
	const char *code = NULL;

	for (size_t i = 0; err->code != NULL && i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (strcmp(err->code, codes[i].ops) == 0)
			code = codes[i].code;
	}
	if (err->line > 0 && strncmp(err->en, "line ", 5) != 0) {
		char text[600];
		snprintf(text, sizeof(text), "line %u: %s", err->line, err->en);
		ms_status(&j->out, "NO", code, text);
		return;
	}
	ms_status(&j->out, "NO", code, err->en);
}

static void ms_list_cb(const char *name, size_t size, bool active, void *ctx)
{
	struct strbuf *out = ctx;
	char q[4 * SIEVE_STORE_NAME_MAX];

	if (msieve_string(q, sizeof(q), name, strlen(name)) >= sizeof(q))
		return;
	strbuf_printf(out, "%s%s\r\n", q, active ? " ACTIVE" : "");
}

static void ms_getscript(struct ms_job *j, struct ops *o, const struct ops_actor *actor)
{
	struct ops_error err;
	char *text;
	size_t len;

	if (ops_sieve_get(o, actor, j->s->address, j->name, &text, &len, &err) < 0) {
		ms_ops_no(j, &err);
		return;
	}
	strbuf_printf(&j->out, "{%zu}\r\n", len);
	strbuf_append(&j->out, text, len);
	strbuf_append(&j->out, "\r\n", 2);
	free(text);
	ms_status(&j->out, "OK", NULL, NULL);
}

/* One script command through ops/ops_sieve.c, the rules yubinctl and the
 * API use too; 0, or -1 with err set. */
static int ms_job_ops(struct ms_job *j, struct ops *o, const struct ops_actor *actor, struct ops_error *err)
{
	const struct ops_sieve_limits lim = { j->s->lim.max_script, j->s->lim.max_scripts };

	switch (j->verb) {
	case MSIEVE_LISTSCRIPTS:
		if (ops_sieve_list(o, actor, j->s->address, ms_list_cb, &j->out, err) < 0) {
			strbuf_truncate(&j->out, 0);
			return -1;
		}
		return 0;
	case MSIEVE_HAVESPACE:
		return ops_sieve_space(o, actor, j->s->address, j->name, j->size, &lim, err);
	case MSIEVE_PUTSCRIPT:
		return ops_sieve_put(o, actor, j->s->address, j->name, j->script, j->len, &lim, err);
	case MSIEVE_DELETESCRIPT:
		return ops_sieve_delete(o, actor, j->s->address, j->name, err);
	case MSIEVE_RENAMESCRIPT:
		return ops_sieve_rename(o, actor, j->s->address, j->name, j->name2, err);
	case MSIEVE_SETACTIVE:
		return ops_sieve_activate(o, actor, j->s->address, j->name, err);
	case MSIEVE_CHECKSCRIPT:
		return ops_sieve_check(j->script, j->len, &lim, err);
	default:
		return ops_fail(err, "invalid", NULL, "not a script command", "スクリプトのコマンドではありません");
	}
}

static void ms_job_run(void *ctx)
{
	static const char *const done[] = {
		[MSIEVE_PUTSCRIPT] = "Stored", [MSIEVE_DELETESCRIPT] = "Deleted",
		[MSIEVE_RENAMESCRIPT] = "Renamed", [MSIEVE_SETACTIVE] = "Done",
	};
	struct ms_job *j = ctx;
	struct ops o = { .dir = server_directory(), .data = server->data_dir };
	struct ops_actor actor;
	struct ops_error err;

	ops_actor_init(&actor, OPS_ACTOR_USER, j->s->address, j->ip);
	if (o.dir == NULL) {
		ms_status(&j->out, "NO", "TRYLATER", "The directory is unavailable, try again later");
		return;
	}
	pthread_mutex_lock(&ms_store_lock);
	if (j->verb == MSIEVE_GETSCRIPT)
		ms_getscript(j, &o, &actor);
	else if (ms_job_ops(j, &o, &actor, &err) < 0)
		ms_ops_no(j, &err);
	else
		ms_status(&j->out, "OK", NULL, (size_t)j->verb < sizeof(done) / sizeof(done[0]) ? done[j->verb] : NULL);
	pthread_mutex_unlock(&ms_store_lock);
}

static void ms_job_done(void *ctx)
{
	struct ms_job *j = ctx;
	struct ms_session *s = j->s;

	s->job_pending = false;
	free(j->script);
	if (s->conn_gone) {
		strbuf_free(&j->out);
		free(j);
		ms_free(s);
		return;
	}
	s->state = MS_USER;
	if (j->verb != MSIEVE_LISTSCRIPTS && j->verb != MSIEVE_GETSCRIPT && j->verb != MSIEVE_HAVESPACE &&
	    j->verb != MSIEVE_CHECKSCRIPT)
		log_info(s->conn->sid, "sieve: %s %s%s%s: %.*s", s->address, j->name, j->name2[0] ? " -> " : "",
			 j->name2, (int)strcspn(j->out.data != NULL ? j->out.data : "", "\r"),
			 j->out.data != NULL ? j->out.data : "");
	ms_send(s, &j->out);
	free(j);
	conn_resume(s->conn);
}

/* A script name argument into buf: false (replied) when it is not one. */
static bool ms_name_arg(struct ms_session *s, const struct msieve_arg *a, bool empty_ok, char *buf, size_t size)
{
	if (a->type != MSIEVE_ARG_STRING) {
		ms_error(s, "A script name is a string");
		return false;
	}
	if (a->len == 0 && empty_ok) {
		buf[0] = '\0';
		return true;
	}
	if (!msieve_name_valid(a->data, a->len) || a->len >= size) {
		ms_error(s, "Not a valid script name: 1 to 128 octets of UTF-8, no control characters or \"/\"");
		return false;
	}
	memcpy(buf, a->data, a->len);
	buf[a->len] = '\0';
	return true;
}

/* The arguments each script command takes: names, then a script or a
 * number. */
static bool ms_job_args(struct ms_session *s, const struct msieve_command *c, struct ms_job *j)
{
	static const struct { enum msieve_verb verb; unsigned nargs; const char *usage; } forms[] = {
		{ MSIEVE_LISTSCRIPTS, 0, "LISTSCRIPTS" }, { MSIEVE_HAVESPACE, 2, "HAVESPACE name size" },
		{ MSIEVE_GETSCRIPT, 1, "GETSCRIPT name" }, { MSIEVE_PUTSCRIPT, 2, "PUTSCRIPT name script" },
		{ MSIEVE_DELETESCRIPT, 1, "DELETESCRIPT name" }, { MSIEVE_RENAMESCRIPT, 2, "RENAMESCRIPT old new" },
		{ MSIEVE_SETACTIVE, 1, "SETACTIVE name" }, { MSIEVE_CHECKSCRIPT, 1, "CHECKSCRIPT script" },
	};
	const struct msieve_arg *script = NULL;
	char usage[64];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (forms[i].verb != c->verb)
			continue;
		if (c->nargs != forms[i].nargs) {
			snprintf(usage, sizeof(usage), "Syntax: %s", forms[i].usage);
			ms_error(s, usage);
			return false;
		}
		break;
	}
	switch (c->verb) {
	case MSIEVE_HAVESPACE:
		if (c->args[1].type != MSIEVE_ARG_NUMBER) {
			ms_error(s, "Syntax: HAVESPACE name size");
			return false;
		}
		j->size = c->args[1].number;
		return ms_name_arg(s, &c->args[0], false, j->name, sizeof(j->name));
	case MSIEVE_GETSCRIPT:
	case MSIEVE_DELETESCRIPT:
		return ms_name_arg(s, &c->args[0], false, j->name, sizeof(j->name));
	case MSIEVE_SETACTIVE:
		return ms_name_arg(s, &c->args[0], true, j->name, sizeof(j->name));
	case MSIEVE_RENAMESCRIPT:
		return ms_name_arg(s, &c->args[0], false, j->name, sizeof(j->name)) &&
		       ms_name_arg(s, &c->args[1], false, j->name2, sizeof(j->name2));
	case MSIEVE_PUTSCRIPT:
		if (!ms_name_arg(s, &c->args[0], false, j->name, sizeof(j->name)))
			return false;
		script = &c->args[1];
		break;
	case MSIEVE_CHECKSCRIPT:
		script = &c->args[0];
		break;
	default:
		return true;
	}
	if (script->type != MSIEVE_ARG_STRING) {
		ms_error(s, "A script is a string (a literal {N+})");
		return false;
	}
	if ((j->script = malloc(script->len + 1)) == NULL) {
		ms_reply(s, "NO", "TRYLATER", "Out of memory");
		return false;
	}
	memcpy(j->script, script->data, script->len);
	j->script[script->len] = '\0';
	j->len = script->len;
	return true;
}

static void ms_script_command(struct ms_session *s, const struct msieve_command *c)
{
	struct ms_job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		ms_reply(s, "NO", "TRYLATER", "Out of memory");
		return;
	}
	j->s = s;
	j->verb = c->verb;
	str_copy(j->ip, sizeof(j->ip), s->conn->ip);
	strbuf_init(&j->out);
	if (!ms_job_args(s, c, j)) {
		free(j->script);
		free(j);
		return;
	}
	s->state = MS_BUSY;
	s->job_pending = true;
	conn_pause(s->conn);
	worker_pool_submit(server->workers, s->conn->loop->base, ms_job_run, ms_job_done, j);
}

/* ---- reading commands -------------------------------------------------- */

static void ms_noop(struct ms_session *s, const struct msieve_command *c)
{
	char q[2 * MSIEVE_QUOTED_MAX], code[2 * MSIEVE_QUOTED_MAX + 8];

	if (c->nargs == 1 && c->args[0].type == MSIEVE_ARG_STRING && c->args[0].len <= 256 &&
	    msieve_string(q, sizeof(q), c->args[0].data, c->args[0].len) < sizeof(q)) {
		snprintf(code, sizeof(code), "TAG %s", q);
		ms_reply(s, "OK", code, "Done");
		return;
	}
	ms_reply(s, "OK", NULL, "Done");
}

/* XCLIENT "ADDR=ip" ["PORT=n"]: a trusted proxy names the client it speaks
 * for, before logging in (server/proxy.h); unknown to anyone else. */
static bool ms_xclient(struct ms_session *s, const struct msieve_command *c)
{
	bool done = false;

	if (!s->conn->proxy_peer || strcasecmp(c->verb_text, "XCLIENT") != 0)
		return false;
	for (unsigned i = 0; s->state == MS_ANON && i < c->nargs; i++) {
		if (c->args[i].type == MSIEVE_ARG_STRING && strncasecmp(c->args[i].data, "ADDR=", 5) == 0 &&
		    proxy_client_address(s->conn, c->args[i].data + 5) == 0)
			done = true;
	}
	if (done)
		ms_reply(s, "OK", NULL, "Client address noted");
	else
		ms_error(s, "XCLIENT needs ADDR=address, once, before logging in");
	return true;
}

static void ms_dispatch(struct ms_session *s, const struct msieve_command *c)
{
	switch (c->verb) {
	case MSIEVE_CAPABILITY:
		ms_send_capabilities(s, NULL);
		return;
	case MSIEVE_NOOP:
		ms_noop(s, c);
		return;
	case MSIEVE_LOGOUT:
		ms_reply(s, "OK", NULL, "Logout");
		ms_close(s);
		return;
	case MSIEVE_STARTTLS:
		if (s->conn->tls || s->state == MS_USER) {
			ms_error(s, s->conn->tls ? "TLS is already active" : "STARTTLS comes before logging in");
			return;
		}
		ms_reply(s, "OK", NULL, "Begin TLS negotiation now");
		if (conn_starttls(s->conn) < 0) {
			ms_reply(s, "BYE", NULL, "TLS is not available");
			ms_close(s);
			return;
		}
		/* RFC 5804 2.2: the capabilities again, under TLS */
		ms_send_capabilities(s, "TLS is active");
		return;
	case MSIEVE_AUTHENTICATE:
		ms_authenticate(s, c);
		return;
	case MSIEVE_UNKNOWN:
		if (!ms_xclient(s, c))
			ms_error(s, "Unknown command");
		return;
	case MSIEVE_UNAUTHENTICATE:
		ms_error(s, "Unknown command");
		return;
	default:
		break;
	}
	if (s->state != MS_USER) {
		ms_error(s, "Log in first (AUTHENTICATE \"PLAIN\" after STARTTLS)");
		return;
	}
	ms_script_command(s, c);
}

/* One command (or a SASL answer) from in[0..len): the octets used, 0 to
 * wait for more, or -1 when the connection was closed. */
static long ms_parse_one(struct ms_session *s, const char *in, size_t len)
{
	struct msieve_command cmd;
	struct msieve_arg arg;
	enum msieve_parse_result r;
	size_t used = 0, need = 0;
	const char *error = NULL;

	if (s->state == MS_SASL)
		r = msieve_parse_string_line(in, len, MS_LITERAL_MAX, s->scratch, &arg, &used, &need, &error);
	else
		r = msieve_parse(in, len, MS_LITERAL_MAX, s->scratch, &cmd, &used, &need, &error);
	if (r == MSIEVE_PARSE_MORE) {
		s->need = need;
		return 0;
	}
	if (r == MSIEVE_PARSE_TOO_BIG) {
		ms_reply(s, "BYE", NULL, "Command too large");
		log_info(s->conn->sid, "sieve: command from %s too large; closing", s->conn->ip);
		ms_close(s);
		return -1;
	}
	if (r == MSIEVE_PARSE_ERROR) {
		s->state = s->state == MS_SASL ? MS_ANON : s->state;
		ms_error(s, error);
		return s->conn == NULL ? -1 : (long)used;
	}
	if (s->state == MS_SASL) {
		if (arg.len == 1 && arg.data[0] == '*') {
			s->state = MS_ANON;
			ms_reply(s, "NO", NULL, "Authentication cancelled");
		} else {
			ms_sasl_plain(s, arg.data, arg.len);
		}
	} else {
		ms_dispatch(s, &cmd);
	}
	explicit_bzero(s->scratch, sizeof(s->scratch));
	return (long)used;
}

static void ms_on_read(struct conn *c)
{
	struct ms_session *s = c->session;
	struct evbuffer *in = conn_input(c);
	bool consumed = false;

	while (s->conn != NULL && s->state != MS_BUSY && !conn_output_full(c)) {
		size_t len = evbuffer_get_length(in);
		const char *data;
		long used;

		if (len == 0 || len < s->need)
			break;
		if (len > MS_LITERAL_MAX + MSIEVE_LINE_MAX + 16)
			len = MS_LITERAL_MAX + MSIEVE_LINE_MAX + 16;
		s->need = 0;
		data = (const char *)evbuffer_pullup(in, (ssize_t)len);
		used = ms_parse_one(s, data, len);
		if (used <= 0)
			break;
		/* the job (if any) copied what it needs: the input can go */
		evbuffer_drain(in, (size_t)used);
		consumed = true;
	}
	if (s->conn != NULL)
		conn_line_deadline(c, consumed, s->lim.timeout);
}

static void ms_on_timeout(struct conn *c)
{
	struct ms_session *s = c->session;

	ms_reply(s, "BYE", NULL, "Disconnected for inactivity");
	ms_close(s);
}

static void ms_on_deadline(struct conn *c)
{
	struct ms_session *s = c->session;

	if (s->conn == NULL || s->state == MS_BUSY)
		return;
	ms_reply(s, "BYE", NULL, "Command not complete in time");
	log_info(c->sid, "sieve: command from %s not complete within %u s; closing", c->ip, s->lim.timeout);
	ms_close(s);
}

static void ms_on_shutdown(struct conn *c)
{
	struct ms_session *s = c->session;

	if (s->state == MS_BUSY)
		return;
	ms_reply(s, "BYE", "TRYLATER", "Server shutting down");
	ms_close(s);
}

static void ms_on_free(struct conn *c)
{
	struct ms_session *s = c->session;

	s->conn = NULL;
	if (s->job_pending)
		s->conn_gone = true;
	else
		ms_free(s);
}

static const struct conn_ops ms_conn_ops = {
	.on_read = ms_on_read,
	.on_timeout = ms_on_timeout,
	.on_shutdown = ms_on_shutdown,
	.on_deadline = ms_on_deadline,
	.on_free = ms_on_free,
};

void managesieve_session_accept(struct loop *loop, int fd, const struct sockaddr *sa, enum service service)
{
	struct ms_session *s = calloc(1, sizeof(*s));
	struct config cfg;
	struct conn *c;

	if (s == NULL) {
		close(fd);
		return;
	}
	server_config(&cfg);
	s->lim.timeout = cfg.sieve_timeout;
	s->lim.max_per_ip = cfg.sieve_max_connections_per_ip;
	s->lim.max_script = (size_t)cfg.sieve_max_script_size;
	s->lim.max_scripts = cfg.sieve_max_scripts;
	c = conn_new(loop, fd, sa, service, false, &ms_conn_ops, s);
	if (c == NULL) {
		free(s);
		return;
	}
	s->conn = c;
	conn_set_timeout(c, s->lim.timeout);
	if (!conn_ip_acquire(c, s->lim.max_per_ip)) {
		ms_reply(s, "BYE", "TRYLATER", "Too many connections from your address");
		ms_close(s);
		return;
	}
	ms_send_capabilities(s, "Yubin ManageSieve ready");
}
