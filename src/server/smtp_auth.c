/* SMTP AUTH (RFC 4954) with PLAIN and LOGIN, only under TLS. The password
 * check runs on a worker (argon2id is slow by design); the reason for a
 * failed password goes to the log and the events table, never to the
 * client. Policy refusals say why: the foreign-access restriction
 * (535 5.7.1) and a brute-force block of the address (454 4.7.0). */
#include "server/smtp_session.h"
#include "server/auth.h"
#include "server/server.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct smtp_auth_job {
	struct smtp_session *s;
	struct auth_request req;
	struct auth_result res;
};

/* A mail client that submits on port 25 works at home but fails on
 * networks that block outgoing port 25 (OP25B): an auth-port25 event
 * for each AUTH there, so doctor can say "use 587". */
static void smtp_auth_port25(struct smtp_session *s, const struct smtp_auth_job *job)
{
	char detail[200];

	if (s->conn->service != SERVICE_SMTP)
		return;
	snprintf(detail, sizeof(detail), "smtp AUTH on port 25 %s%s%s", job->res.ok ? "accepted" : "refused",
		 job->res.ok ? "" : ": ", job->res.ok ? "" : job->res.reason);
	server_event("auth-port25", job->res.ok ? job->res.address : job->req.user, s->conn->ip, detail);
}

static void smtp_auth_done(void *ctx)
{
	struct smtp_auth_job *job = ctx;
	struct smtp_session *s = job->s;

	s->job_pending = false;
	if (s->conn_gone) {
		smtp_session_free(s);
	} else {
		smtp_auth_port25(s, job);
		s->state = SMTP_S_READY;
		if (job->res.ok) {
			s->authenticated = true;
			str_copy(s->auth_user, sizeof(s->auth_user), job->res.address);
			smtp_reply(s, "235 2.7.0 Authentication successful");
			log_info(s->conn->sid, "smtp: authenticated %s from %s", s->auth_user, s->conn->ip);
		} else if (job->res.code == AUTH_FOREIGN) {
			smtp_reply(s, "535 5.7.1 %s", job->res.text);
			log_info(s->conn->sid, "smtp: authentication refused for %s from %s: %s",
				 job->req.user, s->conn->ip, job->res.text);
			smtp_error(s);
		} else if (job->res.code == AUTH_BLOCKED || job->res.code == AUTH_TEMPFAIL) {
			smtp_reply(s, "454 4.7.0 %s", job->res.text);
			log_info(s->conn->sid, "smtp: authentication refused for %s from %s: %s",
				 job->req.user, s->conn->ip, job->res.text);
			smtp_error(s);
		} else {
			smtp_reply(s, "535 5.7.8 Authentication credentials invalid: check the login name (your"
				   " full mail address) and the password");
			log_info(s->conn->sid, "smtp: authentication failed for %s from %s: %s",
				 job->req.user, s->conn->ip, job->res.reason);
			smtp_error(s);
		}
		smtp_session_resume(s);
	}
	auth_request_wipe(&job->req);
	free(job);
}

static void smtp_auth_submit(struct smtp_session *s, const char *user, const char *pass)
{
	struct smtp_auth_job *job = calloc(1, sizeof(*job));

	if (job == NULL) {
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		s->state = SMTP_S_READY;
		return;
	}
	job->s = s;
	str_copy(job->req.user, sizeof(job->req.user), user);
	str_copy(job->req.password, sizeof(job->req.password), pass);
	str_copy(job->req.ip, sizeof(job->req.ip), s->conn->ip);
	str_copy(job->req.service, sizeof(job->req.service), "smtp");
	s->state = SMTP_S_BUSY;
	s->job_pending = true;
	conn_pause(s->conn);
	auth_submit(s->conn->loop, &job->req, &job->res, smtp_auth_done, job);
}

/* Handles a PLAIN response (initial or continued). */
static void smtp_auth_plain(struct smtp_session *s, const char *b64, size_t len)
{
	char authz[320], authc[320], pass[256];
	const char *error;

	if (sasl_plain_decode(b64, len, authz, sizeof(authz), authc, sizeof(authc),
			      pass, sizeof(pass), &error) < 0) {
		smtp_reply(s, "501 5.5.2 Cannot decode the AUTH PLAIN response: %s", error);
		s->state = SMTP_S_READY;
		smtp_error(s);
		return;
	}
	if (authz[0] != '\0' && !str_eq_ci(authz, authc)) {
		explicit_bzero(pass, sizeof(pass));
		smtp_reply(s, "535 5.7.8 Authentication credentials invalid (authorization identity not allowed)");
		s->state = SMTP_S_READY;
		smtp_error(s);
		return;
	}
	smtp_auth_submit(s, authc, pass);
	explicit_bzero(pass, sizeof(pass));
}

void smtp_cmd_auth(struct smtp_session *s, const struct smtp_command *cmd)
{
	char mech[32];
	const char *sp, *ir = NULL;
	size_t mlen, irlen = 0;

	if (!s->conn->tls) {
		smtp_reply(s, "538 5.7.11 Encryption required for requested authentication mechanism:"
			   " use STARTTLS first (or port 465)");
		if (s->conn->service == SERVICE_SMTP)
			server_event("auth-port25", "", s->conn->ip, "smtp AUTH on port 25 refused: no TLS");
		smtp_error(s);
		return;
	}
	if (s->authenticated) {
		smtp_reply(s, "503 5.5.1 Already authenticated");
		smtp_error(s);
		return;
	}
	sp = memchr(cmd->args, ' ', cmd->args_len);
	mlen = sp != NULL ? (size_t)(sp - cmd->args) : cmd->args_len;
	if (str_copyn(mech, sizeof(mech), cmd->args, mlen) < 0 || mlen == 0) {
		smtp_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		smtp_error(s);
		return;
	}
	if (sp != NULL) {
		ir = sp + 1;
		irlen = cmd->args_len - mlen - 1;
		if (irlen == 1 && ir[0] == '=')
			irlen = 0;	/* "=" is an empty initial response */
	}
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (ir == NULL) {
			s->auth_step = AUTH_STEP_PLAIN;
			s->state = SMTP_S_AUTH;
			smtp_reply(s, "334 ");
			return;
		}
		smtp_auth_plain(s, ir, irlen);
		return;
	}
	if (strcasecmp(mech, "LOGIN") == 0) {
		const char *error;
		s->state = SMTP_S_AUTH;
		if (ir == NULL) {
			s->auth_step = AUTH_STEP_LOGIN_USER;
			smtp_reply(s, "334 VXNlcm5hbWU6");	/* "Username:" */
			return;
		}
		if (sasl_login_decode(ir, irlen, s->auth_login_user, sizeof(s->auth_login_user), &error) < 0) {
			smtp_reply(s, "501 5.5.2 Cannot decode the AUTH LOGIN response: %s", error);
			s->state = SMTP_S_READY;
			smtp_error(s);
			return;
		}
		s->auth_step = AUTH_STEP_LOGIN_PASS;
		smtp_reply(s, "334 UGFzc3dvcmQ6");	/* "Password:" */
		return;
	}
	smtp_reply(s, "504 5.5.4 Unrecognized authentication type (PLAIN and LOGIN are offered)");
	smtp_error(s);
}

void smtp_auth_continue(struct smtp_session *s, const char *line, size_t len)
{
	char pass[256];
	const char *error;

	if (len == 1 && line[0] == '*') {
		s->state = SMTP_S_READY;
		s->auth_step = AUTH_STEP_NONE;
		smtp_reply(s, "501 5.0.0 Authentication cancelled");
		return;
	}
	switch (s->auth_step) {
	case AUTH_STEP_PLAIN:
		s->auth_step = AUTH_STEP_NONE;
		smtp_auth_plain(s, line, len);
		return;
	case AUTH_STEP_LOGIN_USER:
		if (sasl_login_decode(line, len, s->auth_login_user, sizeof(s->auth_login_user), &error) < 0)
			break;
		s->auth_step = AUTH_STEP_LOGIN_PASS;
		smtp_reply(s, "334 UGFzc3dvcmQ6");
		return;
	case AUTH_STEP_LOGIN_PASS:
		s->auth_step = AUTH_STEP_NONE;
		if (sasl_login_decode(line, len, pass, sizeof(pass), &error) < 0)
			break;
		smtp_auth_submit(s, s->auth_login_user, pass);
		explicit_bzero(pass, sizeof(pass));
		explicit_bzero(s->auth_login_user, sizeof(s->auth_login_user));
		return;
	default:
		break;
	}
	s->auth_step = AUTH_STEP_NONE;
	s->state = SMTP_S_READY;
	smtp_reply(s, "501 5.5.2 Cannot decode the authentication response");
	smtp_error(s);
}
