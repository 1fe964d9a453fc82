#ifndef YUBIN_SERVER_SMTP_SESSION_H
#define YUBIN_SERVER_SMTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "proto/smtp.h"
#include "server/conn.h"
#include "server/sendguard.h"

struct evbuffer;
struct inbound_auth;

enum smtp_state {
	SMTP_S_INIT,		/* before EHLO/HELO */
	SMTP_S_READY,		/* after EHLO, no transaction */
	SMTP_S_MAIL,		/* MAIL accepted */
	SMTP_S_RCPT,		/* at least one RCPT accepted */
	SMTP_S_DATA,		/* receiving the message */
	SMTP_S_BDAT,		/* between BDAT chunks (RFC 3030) */
	SMTP_S_AUTH,		/* waiting for a SASL response line */
	SMTP_S_BUSY,		/* a worker job runs; input waits */
	SMTP_S_COUNT
};

#define SMTP_STATE_BIT(s) (1u << (s))

struct smtp_rcpt {
	char address[320];	/* local: canonical local@domain, lower case */
	char *maildir;		/* NULL for a remote recipient (queued) */
	uint64_t quota_bytes;
	char *forward;		/* local: the account's `forward` list, or NULL */
	bool keep;		/* local with forward: keep a copy too */
	char node[64];		/* server.role = proxy: the home node (maildir "") */
};

/* One mail transaction (RFC 5321 3.3), from MAIL FROM to the end of DATA
 * or RSET: everything it owns is released by smtp_tx_free. */
struct smtp_tx {
	char txid[16];
	struct mail_path from;
	struct smtp_mail_params params;
	struct smtp_rcpt *rcpts;
	unsigned nrcpts;
	struct sendguard_sender sender;	/* limits and state of the authenticated sender */
	struct inbound_auth *auth;	/* SPF/DKIM/DMARC, gathering DNS from MAIL on */
	struct smtp_data_parser data;
	struct evbuffer *body;
	int spool_fd;
	bool too_big;
	uint64_t bdat_left;	/* bytes of the current BDAT chunk still to read */
	bool bdat_last;
	char bdat_reply[160];	/* an error to give once the chunk is consumed */
	unsigned rcpts_accepted;	/* RCPT commands answered 250 (LMTP's reply count) */
	unsigned *accepted;	/* LMTP: the rcpts index of each of them, in order (NULL: out
				 * of memory, every recipient then gets the same reply) */
};

/* The settings an SMTP session uses, copied at accept (a reload applies
 * to the next connection). Names as in struct config. */
struct smtp_limits {
	char hostname[256];
	char dns_resolver[256];
	uint64_t smtp_max_message_size;
	unsigned smtp_max_recipients;
	unsigned smtp_max_connections;
	unsigned smtp_max_connections_per_ip;
	unsigned smtp_max_line_length;
	unsigned smtp_max_errors;
	unsigned smtp_max_commands;
	unsigned smtp_timeout;
	unsigned smtp_data_timeout;
	unsigned smtp_command_total_timeout;
	unsigned smtp_data_total_timeout;
	unsigned dns_message_budget;
};

enum smtp_auth_step { AUTH_STEP_NONE, AUTH_STEP_PLAIN, AUTH_STEP_LOGIN_USER, AUTH_STEP_LOGIN_PASS };

struct smtp_session {
	struct conn *conn;
	struct smtp_limits lim;
	enum smtp_state state;
	char helo[256];
	bool esmtp;
	bool authenticated;
	char auth_user[320];
	enum smtp_auth_step auth_step;
	char auth_login_user[320];

	struct smtp_tx tx;	/* the transaction; empty outside one */

	unsigned errors, commands;
	bool discard_line;
	bool job_pending;	/* a worker job holds the session */
	bool conn_gone;		/* freed when the job returns */
	bool counted;		/* holds a slot in server->connections */
	unsigned final_replies;	/* LMTP: the end of DATA's reply goes once per recipient */
};

void smtp_reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An empty transaction (no recipients, no body, no spool file). */
void smtp_tx_init(struct smtp_tx *tx);
/* Releases everything the transaction owns and leaves it empty. */
void smtp_tx_free(struct smtp_tx *tx);
/* Ends the session's transaction (RSET, end of DATA, QUIT): smtp_tx_free,
 * and back to the READY state from a transaction state. */
void smtp_tx_reset(struct smtp_session *s);
void smtp_session_free(struct smtp_session *s);
/* Continues reading after a job: resumes the connection. */
void smtp_session_resume(struct smtp_session *s);
/* A failing command: counts toward smtp.max_errors. */
void smtp_error(struct smtp_session *s);
/* A 4xx reply for a fault on this side (a failed look-up, no memory):
 * replies and logs it with the session id and where it happened. */
void smtp_local_error(struct smtp_session *s, const char *reply, const char *where);
/* Copies text for a reply: control characters become '?', and a text
 * longer than buf ends in "...". Returns buf. */
const char *smtp_reply_safe(char *buf, size_t size, const char *text);
/* Protocol name for Received (ESMTP, ESMTPS, ESMTPA, ESMTPSA, SMTP). */
const char *smtp_protocol_name(const struct smtp_session *s);

/* smtp_rcpt.c: RCPT TO and its checks; replies in every case. */
void smtp_cmd_rcpt(struct smtp_session *s, const struct smtp_command *cmd);

/* smtp_auth.c */
void smtp_cmd_auth(struct smtp_session *s, const struct smtp_command *cmd);
void smtp_auth_continue(struct smtp_session *s, const char *line, size_t len);

/* smtp_deliver.c: the end of DATA on a worker: local delivery, and the
 * outbound queue for remote recipients (authenticated senders only). */
void smtp_deliver_start(struct smtp_session *s);
/* Appends the end of a Received field to buf, whose first used bytes
 * are written: received (the field up to its id and comments), "for
 * <rcpt>" unless rcpt is NULL, the RFC 8314 tls clause when tls_suite is
 * not "", and the date. The new length, or -1 (used < 0 passes through,
 * so a failed snprintf before needs no check of its own). */
int smtp_trace_append(char *buf, size_t size, int used, const char *received, const char *rcpt,
		      const char *tls_suite, const char *date);
/* The envelope sender to use for mail from
 * `from` leaving for other domains: its BATV prvs= form when from's domain
 * has `batv on`, else from itself. 0, or -1 when out is too small. */
int smtp_batv_envelope_sender(const char *from, char *out, size_t size);

#endif
