/* The SMTP server session (RFC 5321): an explicit state machine driven by a
 * table of commands, with the limits of DESIGN.md and the replies each one
 * gives. Delivery and authentication run on the worker pool. */
#include "server/smtp_session.h"
#include "server/proxy.h"
#include "server/stats.h"
#include "server/sessions.h"
#include "server/inbound_auth.h"
#include "directory/directory.h"
#include "server/smtp_sendas.h"
#include "lib/log.h"
#include "lib/str.h"
#include "settings/settings.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ANY_STATE (SMTP_STATE_BIT(SMTP_S_INIT) | SMTP_STATE_BIT(SMTP_S_READY) | \
		   SMTP_STATE_BIT(SMTP_S_MAIL) | SMTP_STATE_BIT(SMTP_S_RCPT) | \
		   SMTP_STATE_BIT(SMTP_S_BDAT))
#define IN_TRANSACTION (SMTP_STATE_BIT(SMTP_S_MAIL) | SMTP_STATE_BIT(SMTP_S_RCPT) | \
			SMTP_STATE_BIT(SMTP_S_BDAT))
#define AFTER_HELO (SMTP_STATE_BIT(SMTP_S_READY) | SMTP_STATE_BIT(SMTP_S_MAIL) | \
		    SMTP_STATE_BIT(SMTP_S_RCPT))

static void smtp_on_read(struct conn *c);

void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	struct evbuffer *out;
	va_list ap;

	if (s->conn == NULL)
		return;
	out = bufferevent_get_output(s->conn->bev);
	/* LMTP (RFC 2033 4.2): the reply at the end of DATA once for each
	 * recipient accepted, in their order */
	for (unsigned n = s->final_replies > 1 ? s->final_replies : 1; n > 0; n--) {
		va_start(ap, fmt);
		evbuffer_add_vprintf(out, fmt, ap);
		va_end(ap);
		evbuffer_add(out, "\r\n", 2);
	}
	s->final_replies = 0;
}

void smtp_local_error(struct smtp_session *s, const char *reply, const char *where)
{
	smtp_reply(s, "%s", reply);
	if (s->conn != NULL)
		log_error(s->conn->sid, "smtp: local error in %s: replied %s", where, reply);
}

const char *smtp_reply_safe(char *buf, size_t size, const char *text)
{
	size_t len = strlen(text), keep, n;

	if (size < 8) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	keep = len < size ? len : size - 4;
	for (n = 0; n < keep; n++) {
		unsigned char c = (unsigned char)text[n];
		buf[n] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (keep < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

const char *smtp_protocol_name(const struct smtp_session *s)
{
	if (s->conn != NULL && s->conn->service == SERVICE_LMTP)
		return "LMTP";
	if (!s->esmtp)
		return "SMTP";
	if (s->conn != NULL && s->conn->tls)
		return s->authenticated ? "ESMTPSA" : "ESMTPS";
	return s->authenticated ? "ESMTPA" : "ESMTP";
}

void smtp_error(struct smtp_session *s)
{
	if (++s->errors >= s->lim.smtp_max_errors && s->conn != NULL) {
		smtp_reply(s, "421 4.7.0 %s Too many errors, closing the connection", s->lim.hostname);
		log_info(s->conn->sid, "smtp: too many errors from %s", s->conn->ip);
		conn_finish(s->conn);
		s->conn = NULL;
	}
}

/* The current settings' SMTP limits. */
static void smtp_limits_load(struct smtp_limits *lim)
{
	struct config cfg;

	server_config(&cfg);
	str_copy(lim->hostname, sizeof(lim->hostname), cfg.hostname);
	str_copy(lim->dns_resolver, sizeof(lim->dns_resolver), cfg.dns_resolver);
	lim->smtp_max_message_size = cfg.smtp_max_message_size;
	lim->smtp_max_recipients = cfg.smtp_max_recipients;
	lim->smtp_max_connections = cfg.smtp_max_connections;
	lim->smtp_max_connections_per_ip = cfg.smtp_max_connections_per_ip;
	lim->smtp_max_line_length = cfg.smtp_max_line_length;
	lim->smtp_max_errors = cfg.smtp_max_errors;
	lim->smtp_max_commands = cfg.smtp_max_commands;
	lim->smtp_timeout = cfg.smtp_timeout;
	lim->smtp_data_timeout = cfg.smtp_data_timeout;
	lim->smtp_command_total_timeout = cfg.smtp_command_total_timeout;
	lim->smtp_data_total_timeout = cfg.smtp_data_total_timeout;
	lim->dns_message_budget = cfg.dns_message_budget;
}

void smtp_tx_init(struct smtp_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	tx->spool_fd = -1;
}

void smtp_tx_free(struct smtp_tx *tx)
{
	for (unsigned i = 0; i < tx->nrcpts; i++) {
		free(tx->rcpts[i].maildir);
		free(tx->rcpts[i].forward);
	}
	free(tx->rcpts);
	free(tx->accepted);
	if (tx->body != NULL)
		evbuffer_free(tx->body);
	if (tx->spool_fd >= 0)
		close(tx->spool_fd);
	inbound_auth_free(tx->auth);
	smtp_tx_init(tx);
}

void smtp_tx_reset(struct smtp_session *s)
{
	smtp_tx_free(&s->tx);
	if (s->state == SMTP_S_MAIL || s->state == SMTP_S_RCPT || s->state == SMTP_S_DATA ||
	    s->state == SMTP_S_BDAT)
		s->state = SMTP_S_READY;
}

void smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	smtp_tx_reset(s);
	explicit_bzero(s->auth_login_user, sizeof(s->auth_login_user));
	free(s);
}

static void cmd_helo(struct smtp_session *s, const struct smtp_command *cmd)
{
	bool tls = s->conn->tls;
	bool lmtp = s->conn->service == SERVICE_LMTP;
	bool may_auth = tls && !lmtp;

	if (lmtp != (cmd->verb == SMTP_VERB_LHLO)) {
		/* RFC 2033 4.1: LMTP has LHLO instead of HELO and EHLO */
		smtp_reply(s, "500 5.5.1 %s", lmtp ? "This is LMTP: send LHLO" : "Command unrecognized");
		smtp_error(s);
		return;
	}

	for (size_t i = 0; i < cmd->args_len; i++) {
		unsigned char c = (unsigned char)cmd->args[i];

		if (c < 0x20 || c == 0x7f) {
			/* refused, not cleaned: it would end up in Received */
			s->helo[0] = '\0';
			smtp_reply(s, "501 5.5.2 Control characters are not allowed in the %s argument",
				   cmd->verb == SMTP_VERB_EHLO ? "EHLO" : "HELO");
			smtp_error(s);
			return;
		}
	}
	if (cmd->args_len == 0 || str_copyn(s->helo, sizeof(s->helo), cmd->args, cmd->args_len) < 0 ||
	    strchr(s->helo, ' ') != NULL) {
		s->helo[0] = '\0';
		smtp_reply(s, "501 5.5.4 Syntax: %s hostname", cmd->verb == SMTP_VERB_EHLO ? "EHLO" : "HELO");
		smtp_error(s);
		return;
	}
	smtp_tx_reset(s);
	s->state = SMTP_S_READY;
	s->esmtp = cmd->verb == SMTP_VERB_EHLO || lmtp;
	if (!s->esmtp) {
		smtp_reply(s, "250 %s", s->lim.hostname);
		return;
	}
	smtp_reply(s, "250-%s Hello %s [%s]", s->lim.hostname, s->helo, s->conn->ip);
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-SIZE %llu", (unsigned long long)s->lim.smtp_max_message_size);
	if (!tls && s->conn->service != SERVICE_SMTPS && (!lmtp || s->conn->proxy_peer))
		smtp_reply(s, "250-STARTTLS");	/* LMTP: for proxy.node_tls */
	if (may_auth && !s->authenticated)
		smtp_reply(s, "250-AUTH PLAIN LOGIN");
	smtp_reply(s, "250-ENHANCEDSTATUSCODES");
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-CHUNKING");
	smtp_reply(s, "250 SMTPUTF8");
}

/* XCLIENT ADDR=ip [HELO=name] (LMTP from a trusted proxy, outside a
 * transaction): the client the proxy speaks for, so the inbound checks,
 * Received and the events see it (server/proxy.h). */
static void cmd_xclient(struct smtp_session *s, const struct smtp_command *cmd)
{
	char args[600], *save = NULL, addr[64] = "", helo[256] = "";

	if (s->conn->service != SERVICE_LMTP || !s->conn->proxy_peer) {
		smtp_reply(s, "550 5.7.0 XCLIENT is only for the proxies");
		smtp_error(s);
		return;
	}
	if (str_copyn(args, sizeof(args), cmd->args, cmd->args_len) < 0) {
		smtp_reply(s, "501 5.5.4 XCLIENT arguments too long");
		smtp_error(s);
		return;
	}
	for (char *a = strtok_r(args, " ", &save); a != NULL; a = strtok_r(NULL, " ", &save)) {
		if (strncasecmp(a, "ADDR=", 5) == 0)
			str_copy(addr, sizeof(addr), a + 5);
		else if (strncasecmp(a, "HELO=", 5) == 0)
			str_copy(helo, sizeof(helo), a + 5);
	}
	if (addr[0] == '\0' || proxy_client_address(s->conn, addr) < 0) {
		smtp_reply(s, "501 5.5.4 Syntax: XCLIENT ADDR=address [HELO=name] (once)");
		smtp_error(s);
		return;
	}
	for (const char *p = helo; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			helo[0] = '\0';	/* it would end up in Received */
			break;
		}
	}
	if (helo[0] != '\0')
		str_copy(s->helo, sizeof(s->helo), helo);
	smtp_reply(s, "250 2.0.0 Ok");
}

static void cmd_starttls(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (s->conn->tls) {
		smtp_reply(s, "503 5.5.1 TLS is already active");
		smtp_error(s);
		return;
	}
	if (cmd->args_len != 0) {
		smtp_reply(s, "501 5.5.4 Syntax: STARTTLS");
		smtp_error(s);
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	if (conn_starttls(s->conn) < 0) {
		smtp_reply(s, "454 4.7.0 TLS not available due to temporary reason");
		return;
	}
	/* RFC 3207: the client starts over, knowing nothing from before. */
	smtp_tx_reset(s);
	s->state = SMTP_S_INIT;
	s->helo[0] = '\0';
	s->esmtp = false;
}

static bool service_requires_auth(const struct smtp_session *s)
{
	return s->conn->service == SERVICE_SUBMISSION || s->conn->service == SERVICE_SMTPS;
}

/* The sender policy (policy/sendas.h) for an authenticated login's MAIL
 * FROM: 0 to go on, or -1 after replying. */
static int mail_check_sender(struct smtp_session *s)
{
	struct directory *dir = server_directory();
	char addr[MAIL_PATH_MAX + 8] = "", safe[300];
	int r;

	if (!s->tx.from.null_path)
		mail_path_format(&s->tx.from, addr, sizeof(addr));
	r = dir != NULL ? sendas_check(dir, s->auth_user, addr) : -1;
	if (r < 0) {
		smtp_local_error(s, "451 4.3.0 Temporary lookup failure, try again later", __func__);
		return -1;
	}
	if (r == 0) {
		smtp_reply_safe(safe, sizeof(safe), addr);
		smtp_reply(s, "553 5.7.1 <%s>: Sender address not allowed for login %s: an account sends"
			   " as its own address (also +tag) and the addresses its domain administrator"
			   " gave it (%s)", safe, s->auth_user, settings_key(SETTING_SEND_AS));
		stats_inc(STATS_SMTP_REJECTS, REJECT_SENDER);
		log_info(s->conn->sid, "smtp: MAIL FROM <%s> refused for login %s", safe, s->auth_user);
		server_event("sender-refused", s->auth_user, s->conn->ip, safe[0] != '\0' ? safe : "<>");
		smtp_error(s);
		return -1;
	}
	return 0;
}

static void cmd_mail(struct smtp_session *s, const struct smtp_command *cmd)
{
	const char *error;
	enum smtp_arg_error r;

	if (service_requires_auth(s) && !s->authenticated) {
		smtp_reply(s, "530 5.7.0 Authentication required: log in with your full mail address"
			   " and password (SMTP AUTH)");
		stats_inc(STATS_SMTP_REJECTS, REJECT_AUTH_REQUIRED);
		smtp_error(s);
		return;
	}
	if (atomic_load(&server->stopping)) {
		smtp_reply(s, "421 4.3.2 %s Server shutting down, try again later", s->lim.hostname);
		conn_finish(s->conn);
		s->conn = NULL;
		return;
	}
	r = smtp_mail_parse(cmd->args, cmd->args_len, &s->tx.from, &s->tx.params, &error);
	if (r != SMTP_ARG_OK) {
		if (r == SMTP_ARG_PARAM)
			smtp_reply(s, "555 5.5.4 %s", error);
		else if (r == SMTP_ARG_ADDRESS)
			smtp_reply(s, "501 5.1.7 Bad sender address syntax: %s", error);
		else
			smtp_reply(s, "501 5.5.4 %s", error);
		memset(&s->tx.from, 0, sizeof(s->tx.from));
		smtp_error(s);
		return;
	}
	if (s->tx.params.has_size && s->tx.params.size > s->lim.smtp_max_message_size) {
		smtp_reply(s, "552 5.3.4 Message size exceeds the limit of %llu bytes",
			   (unsigned long long)s->lim.smtp_max_message_size);
		stats_inc(STATS_SMTP_REJECTS, REJECT_SIZE);
		log_info(s->conn->sid, "smtp: refused MAIL with SIZE=%llu over the limit of %llu bytes"
			 " from %s", (unsigned long long)s->tx.params.size,
			 (unsigned long long)s->lim.smtp_max_message_size, s->conn->ip);
		memset(&s->tx.from, 0, sizeof(s->tx.from));
		return;
	}
	if (s->authenticated && mail_check_sender(s) < 0) {
		memset(&s->tx.from, 0, sizeof(s->tx.from));
		return;
	}
	if (s->authenticated) {
		char text[512];

		switch (sendguard_sender_open(&s->tx.sender, s->auth_user, s->conn->ip, text, sizeof(text))) {
		case SENDGUARD_OK:
			break;
		case SENDGUARD_SUSPENDED:
			smtp_reply(s, "550 5.7.1 %s", text);
			stats_inc(STATS_SMTP_REJECTS, REJECT_SUSPENDED);
			server_event("send-refused", s->auth_user, s->conn->ip, "sending is suspended");
			memset(&s->tx.from, 0, sizeof(s->tx.from));
			memset(&s->tx.sender, 0, sizeof(s->tx.sender));
			return;
		default:
			smtp_local_error(s, "451 4.3.0 Temporary lookup failure, try again later", __func__);
			memset(&s->tx.from, 0, sizeof(s->tx.from));
			memset(&s->tx.sender, 0, sizeof(s->tx.sender));
			return;
		}
	}
	str_random_id(s->tx.txid, 13);
	inbound_auth_free(s->tx.auth);
	s->tx.auth = inbound_auth_new(s);	/* SPF's DNS starts now (NULL: at the end of DATA) */
	s->state = SMTP_S_MAIL;
	smtp_reply(s, "250 2.1.0 Ok");
}

static void smtp_body_start(struct smtp_session *s)
{
	smtp_data_init(&s->tx.data);
	s->tx.body = evbuffer_new();
	s->tx.spool_fd = -1;
	s->tx.too_big = false;
	conn_set_timeout(s->conn, s->lim.smtp_data_timeout);
	conn_deadline_clear(s->conn);
	conn_deadline_arm(s->conn, s->lim.smtp_data_total_timeout);
}

static void cmd_data(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (cmd->args_len != 0) {
		smtp_reply(s, "501 5.5.4 Syntax: DATA");
		smtp_error(s);
		return;
	}
	smtp_body_start(s);
	s->state = SMTP_S_DATA;
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void cmd_rset(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_tx_reset(s);
	smtp_reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, "221 2.0.0 %s Bye", s->lim.hostname);
	conn_finish(s->conn);
	s->conn = NULL;
}

static void cmd_vrfy(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, "252 2.5.0 Cannot VRFY user, but will accept mail for local users");
}

static void cmd_expn(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, "502 5.5.1 EXPN is not available");
}

static void cmd_help(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY STARTTLS AUTH");
}

static void smtp_bdat_chunk_end(struct smtp_session *s);

/* BDAT size [LAST] (RFC 3030). The chunk's bytes follow the command line
 * and are read even when the command is refused, to stay in step. */
static void cmd_bdat(struct smtp_session *s, const struct smtp_command *cmd)
{
	char args[64], *sp;
	uint64_t size;
	bool last = false;

	if (str_copyn(args, sizeof(args), cmd->args, cmd->args_len) < 0)
		args[0] = '\0';
	sp = strchr(args, ' ');
	if (sp != NULL) {
		*sp = '\0';
		last = strcasecmp(sp + 1, "LAST") == 0;
	}
	if (str_parse_uint(args, UINT64_MAX, &size) < 0 || (sp != NULL && !last)) {
		/* Without a size there is no way to find the next command. */
		smtp_reply(s, "501 5.5.4 Syntax: BDAT size [LAST]; closing the connection");
		conn_finish(s->conn);
		s->conn = NULL;
		return;
	}
	s->tx.bdat_reply[0] = '\0';
	if (s->state != SMTP_S_RCPT && s->state != SMTP_S_BDAT) {
		snprintf(s->tx.bdat_reply, sizeof(s->tx.bdat_reply), "503 5.5.1 %s",
			 s->state == SMTP_S_MAIL ? "No valid recipients: send RCPT first"
			 : s->state == SMTP_S_INIT ? "Send EHLO first" : "Send MAIL first");
	} else if (s->state == SMTP_S_RCPT) {
		smtp_body_start(s);
		s->state = SMTP_S_BDAT;
	}
	s->tx.bdat_left = size;
	s->tx.bdat_last = last;
	if (size == 0)
		smtp_bdat_chunk_end(s);
}

struct smtp_cmd_def {
	enum smtp_verb verb;
	unsigned states;
	const char *state_error;	/* 503 text when the state is wrong */
	void (*run)(struct smtp_session *s, const struct smtp_command *cmd);
};

static const struct smtp_cmd_def smtp_cmds[] = {
	{ SMTP_VERB_EHLO, ANY_STATE, NULL, cmd_helo },
	{ SMTP_VERB_HELO, ANY_STATE, NULL, cmd_helo },
	{ SMTP_VERB_LHLO, ANY_STATE, NULL, cmd_helo },
	{ SMTP_VERB_XCLIENT, SMTP_STATE_BIT(SMTP_S_READY), NULL, cmd_xclient },
	{ SMTP_VERB_STARTTLS, ANY_STATE & ~IN_TRANSACTION,
	  "STARTTLS is not allowed inside a mail transaction", cmd_starttls },
	{ SMTP_VERB_AUTH, SMTP_STATE_BIT(SMTP_S_READY), "Send EHLO first, and AUTH outside a mail transaction",
	  smtp_cmd_auth },
	{ SMTP_VERB_MAIL, SMTP_STATE_BIT(SMTP_S_READY), NULL, cmd_mail },
	{ SMTP_VERB_RCPT, SMTP_STATE_BIT(SMTP_S_MAIL) | SMTP_STATE_BIT(SMTP_S_RCPT), "Send MAIL first", smtp_cmd_rcpt },
	{ SMTP_VERB_DATA, SMTP_STATE_BIT(SMTP_S_RCPT), NULL, cmd_data },
	{ SMTP_VERB_BDAT, ANY_STATE, NULL, cmd_bdat },	/* checks its state itself */
	{ SMTP_VERB_RSET, ANY_STATE, NULL, cmd_rset },
	{ SMTP_VERB_NOOP, ANY_STATE, NULL, cmd_noop },
	{ SMTP_VERB_QUIT, ANY_STATE, NULL, cmd_quit },
	{ SMTP_VERB_VRFY, ANY_STATE, NULL, cmd_vrfy },
	{ SMTP_VERB_EXPN, ANY_STATE, NULL, cmd_expn },
	{ SMTP_VERB_HELP, ANY_STATE, NULL, cmd_help },
};

static const char *smtp_state_error(const struct smtp_session *s, enum smtp_verb verb)
{
	if (s->state == SMTP_S_INIT)
		return "Send EHLO (or HELO) first";
	switch (verb) {
	case SMTP_VERB_MAIL: return "Nested MAIL command: finish or RSET the current transaction";
	case SMTP_VERB_RCPT:
	case SMTP_VERB_DATA:
		if (s->state == SMTP_S_BDAT)
			return "Finish the BDAT transfer (BDAT ... LAST) or RSET first";
		break;
	default: break;
	}
	if (verb == SMTP_VERB_DATA)
		return s->state == SMTP_S_MAIL ? "No valid recipients: send RCPT first" : "Send MAIL first";
	return "Bad sequence of commands";
}

static void smtp_dispatch(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_command cmd;
	const char *error;

	if (++s->commands > s->lim.smtp_max_commands) {
		smtp_reply(s, "421 4.7.0 %s Too many commands in one connection", s->lim.hostname);
		conn_finish(s->conn);
		s->conn = NULL;
		return;
	}
	if (smtp_command_parse(line, len, &cmd, &error) < 0) {
		smtp_reply(s, "500 5.5.2 Syntax error: %s", error);
		smtp_error(s);
		return;
	}
	for (size_t i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++) {
		const struct smtp_cmd_def *def = &smtp_cmds[i];

		if (def->verb != cmd.verb)
			continue;
		if ((def->states & SMTP_STATE_BIT(s->state)) == 0) {
			smtp_reply(s, "503 5.5.1 %s", def->state_error != NULL && s->state != SMTP_S_INIT
				   ? def->state_error : smtp_state_error(s, cmd.verb));
			smtp_error(s);
			return;
		}
		def->run(s, &cmd);
		return;
	}
	smtp_reply(s, "500 5.5.2 Command unrecognized");
	smtp_error(s);
}

#define SPOOL_THRESHOLD (1024 * 1024)

/* Appends message bytes to the body, moving it to an unlinked spool file
 * once it grows past SPOOL_THRESHOLD so that big messages cost no memory. */
static int smtp_body_append(struct smtp_session *s, const char *data, size_t len)
{
	inbound_auth_feed(s->tx.auth, data, len);	/* DKIM/DMARC DNS once the header is in */
	if (s->tx.spool_fd < 0 && evbuffer_get_length(s->tx.body) + len > SPOOL_THRESHOLD) {
		char dir[4200];
		snprintf(dir, sizeof(dir), "%s/tmp", server->data_dir);
		s->tx.spool_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (s->tx.spool_fd < 0 || evbuffer_write(s->tx.body, s->tx.spool_fd) < 0)
			return -1;
		while (evbuffer_get_length(s->tx.body) > 0) {
			if (evbuffer_write(s->tx.body, s->tx.spool_fd) < 0)
				return -1;
		}
	}
	if (s->tx.spool_fd >= 0) {
		while (len > 0) {
			ssize_t n = write(s->tx.spool_fd, data, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			data += n;
			len -= (size_t)n;
		}
		return 0;
	}
	return evbuffer_add(s->tx.body, data, len);
}

/* Consumes DATA bytes from the input; returns true when the message ended. */
static bool smtp_data_consume(struct smtp_session *s, struct evbuffer *in)
{
	static __thread char out[2 * 65536 + 2];

	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec vec;
		size_t olen, used, chunk;
		int done;

		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
			break;
		chunk = vec.iov_len > 65536 ? 65536 : vec.iov_len;
		done = smtp_data_parse(&s->tx.data, vec.iov_base, chunk, out, &olen, &used);
		if (!s->tx.too_big && s->tx.data.bytes > s->lim.smtp_max_message_size) {
			s->tx.too_big = true;
			evbuffer_drain(s->tx.body, evbuffer_get_length(s->tx.body));
			if (s->tx.spool_fd >= 0) {
				close(s->tx.spool_fd);
				s->tx.spool_fd = -1;
			}
		}
		if (!s->tx.too_big && smtp_body_append(s, out, olen) < 0) {
			log_error(s->conn->sid, "smtp: cannot spool message data: %s", strerror(errno));
			s->tx.too_big = true;	/* fail the transaction below */
			s->tx.data.bytes = UINT64_MAX;
		}
		evbuffer_drain(in, used);
		if (done)
			return true;
	}
	return false;
}

/* Reads BDAT chunk bytes as they are, without any unstuffing. */
static bool smtp_bdat_consume(struct smtp_session *s, struct evbuffer *in)
{
	while (s->tx.bdat_left > 0 && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec vec;
		size_t n;

		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
			break;
		n = vec.iov_len < s->tx.bdat_left ? vec.iov_len : (size_t)s->tx.bdat_left;
		if (s->tx.bdat_reply[0] == '\0') {
			if (!s->tx.too_big && s->tx.data.bytes + n > s->lim.smtp_max_message_size) {
				s->tx.too_big = true;
				evbuffer_drain(s->tx.body, evbuffer_get_length(s->tx.body));
				if (s->tx.spool_fd >= 0) {
					close(s->tx.spool_fd);
					s->tx.spool_fd = -1;
				}
			}
			s->tx.data.bytes += n;
			if (!s->tx.too_big && smtp_body_append(s, vec.iov_base, n) < 0) {
				log_error(s->conn->sid, "smtp: cannot spool message data: %s", strerror(errno));
				s->tx.too_big = true;
				s->tx.data.bytes = UINT64_MAX;
			}
		}
		evbuffer_drain(in, n);
		s->tx.bdat_left -= n;
	}
	return s->tx.bdat_left == 0;
}

static void smtp_data_end(struct smtp_session *s);

static void smtp_bdat_chunk_end(struct smtp_session *s)
{
	if (s->tx.bdat_reply[0] != '\0') {
		smtp_reply(s, "%s", s->tx.bdat_reply);
		s->tx.bdat_reply[0] = '\0';
		smtp_error(s);
		return;
	}
	if (s->tx.bdat_last) {
		smtp_data_end(s);
		return;
	}
	smtp_reply(s, "250 2.0.0 %llu octets received",
		   (unsigned long long)(s->tx.data.bytes == UINT64_MAX ? 0 : s->tx.data.bytes));
}

static void smtp_data_end(struct smtp_session *s)
{
	if (s->conn->service == SERVICE_LMTP)
		s->final_replies = s->tx.rcpts_accepted;
	conn_set_timeout(s->conn, s->lim.smtp_timeout);
	conn_deadline_clear(s->conn);
	if (s->tx.data.bytes == UINT64_MAX) {
		smtp_reply(s, "451 4.3.0 Local error while receiving the message, try again later");
		log_error(s->conn->sid, "smtp: replied 451 at the end of the message: it could not be"
			  " spooled");
		smtp_tx_reset(s);
		return;
	}
	if (s->tx.too_big) {
		smtp_reply(s, "552 5.3.4 Message too big: the limit is %llu bytes",
			   (unsigned long long)s->lim.smtp_max_message_size);
		stats_inc(STATS_SMTP_REJECTS, REJECT_SIZE);
		log_info(s->conn->sid, "smtp: refused a message over the limit of %llu bytes from %s",
			 (unsigned long long)s->lim.smtp_max_message_size, s->conn->ip);
		smtp_tx_reset(s);
		return;
	}
	if (proxy_smtp_deliver(s))
		return;
	smtp_deliver_start(s);
}

/* Handles what the client sent, command by command, until the input is
 * used up, a job runs, or the replies wait unread (back-pressure). */
static void smtp_on_read(struct conn *c)
{
	struct smtp_session *s = c->session;
	struct evbuffer *in = conn_input(c);
	char line[65536 + 2];
	bool consumed = false;

	while (s->conn != NULL && s->state != SMTP_S_BUSY && !conn_output_full(c)) {
		struct evbuffer_ptr eol;
		size_t eol_len, llen;

		if (s->state == SMTP_S_DATA) {
			if (!smtp_data_consume(s, in))
				return;
			smtp_data_end(s);
			continue;
		}
		if (s->tx.bdat_left > 0) {
			if (!smtp_bdat_consume(s, in))
				return;
			smtp_bdat_chunk_end(s);
			continue;
		}
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (eol.pos < 0) {
			if (evbuffer_get_length(in) > s->lim.smtp_max_line_length) {
				s->discard_line = true;
				evbuffer_drain(in, evbuffer_get_length(in));
			}
			break;
		}
		llen = (size_t)eol.pos;
		consumed = true;
		if (s->discard_line || llen > s->lim.smtp_max_line_length) {
			s->discard_line = false;
			evbuffer_drain(in, llen + eol_len);
			smtp_reply(s, "500 5.5.2 Line too long (at most %u bytes)", s->lim.smtp_max_line_length);
			smtp_error(s);
			continue;
		}
		evbuffer_remove(in, line, llen);
		evbuffer_drain(in, eol_len);
		line[llen] = '\0';
		if (s->state == SMTP_S_AUTH)
			smtp_auth_continue(s, line, llen);
		else
			smtp_dispatch(s, line, llen);
		explicit_bzero(line, llen);
	}
	/* A BDAT transaction's deadline runs from its first chunk to LAST. */
	if (s->conn == NULL || s->state == SMTP_S_BDAT)
		return;
	if (s->discard_line)
		conn_deadline_arm(c, s->lim.smtp_command_total_timeout);
	else
		conn_line_deadline(c, consumed, s->lim.smtp_command_total_timeout);
}

static void smtp_on_timeout(struct conn *c)
{
	struct smtp_session *s = c->session;

	smtp_reply(s, "421 4.4.2 %s Timeout: closing the connection", s->lim.hostname);
	log_info(c->sid, "smtp: idle timeout from %s", c->ip);
	conn_finish(c);
	s->conn = NULL;
}

static void smtp_on_deadline(struct conn *c)
{
	struct smtp_session *s = c->session;
	bool data = s->state == SMTP_S_DATA || s->state == SMTP_S_BDAT;

	if (s->conn == NULL || s->state == SMTP_S_BUSY)
		return;
	smtp_reply(s, "421 4.4.2 %s Timeout: the %s took too long; closing the connection", s->lim.hostname,
		   data ? "message data" : "command");
	log_info(c->sid, "smtp: %s from %s not complete within %u s; closing", data ? "message data" : "command",
		 c->ip, data ? s->lim.smtp_data_total_timeout : s->lim.smtp_command_total_timeout);
	conn_finish(c);
	s->conn = NULL;
}

static void smtp_on_shutdown(struct conn *c)
{
	struct smtp_session *s = c->session;

	/* Transactions in flight finish; their reply closes nothing, but the
	 * next command gets 421 (cmd_mail checks `stopping`). */
	if (s->state == SMTP_S_DATA || s->state == SMTP_S_BUSY || s->state == SMTP_S_BDAT)
		return;
	smtp_reply(s, "421 4.3.2 %s Server shutting down, try again later", s->lim.hostname);
	conn_finish(c);
	s->conn = NULL;
}

static void smtp_on_free(struct conn *c)
{
	struct smtp_session *s = c->session;

	s->conn = NULL;
	if (s->counted)
		atomic_fetch_sub(&server->connections[SERVICE_SMTP], 1);
	s->counted = false;
	if (s->job_pending)
		s->conn_gone = true;	/* the job's completion frees it */
	else
		smtp_session_free(s);
}

void smtp_session_resume(struct smtp_session *s)
{
	if (s->conn == NULL)
		return;
	if (atomic_load(&server->stopping) && s->state != SMTP_S_DATA) {
		smtp_on_shutdown(s->conn);
		return;
	}
	conn_resume(s->conn);
}

static const struct conn_ops smtp_conn_ops = {
	.on_read = smtp_on_read,
	.on_timeout = smtp_on_timeout,
	.on_shutdown = smtp_on_shutdown,
	.on_deadline = smtp_on_deadline,
	.on_free = smtp_on_free,
};

void smtp_session_accept(struct loop *loop, int fd, const struct sockaddr *sa, enum service service)
{
	struct smtp_session *s = calloc(1, sizeof(*s));
	struct conn *c;

	if (s == NULL) {
		close(fd);
		return;
	}
	smtp_limits_load(&s->lim);
	smtp_tx_init(&s->tx);
	c = conn_new(loop, fd, sa, service, service == SERVICE_SMTPS, &smtp_conn_ops, s);
	if (c == NULL) {
		free(s);
		return;
	}
	s->conn = c;
	conn_set_timeout(c, s->lim.smtp_timeout);
	s->counted = true;
	if (atomic_fetch_add(&server->connections[SERVICE_SMTP], 1) >= s->lim.smtp_max_connections) {
		smtp_reply(s, "421 4.7.0 %s Too many connections, try again later", s->lim.hostname);
		stats_inc(STATS_SMTP_REJECTS, REJECT_CONN_LIMIT);
		conn_finish(c);
		return;
	}
	if (!conn_ip_acquire(c, s->lim.smtp_max_connections_per_ip)) {
		smtp_reply(s, "421 4.7.0 %s Too many connections from your address %s, try again later",
			   s->lim.hostname, c->ip);
		stats_inc(STATS_SMTP_REJECTS, REJECT_CONN_LIMIT);
		log_info(c->sid, "smtp: connection limit for %s", c->ip);
		conn_finish(c);
		return;
	}
	log_debug(c->sid, "smtp: connection from %s port %u", c->ip, c->port);
	if (service == SERVICE_LMTP && !c->proxy_peer) {
		smtp_reply(s, "554 5.7.1 %s LMTP is only for the proxies (%s)", s->lim.hostname,
			   settings_key(SETTING_CONF_PROXY_TRUSTED));
		log_warn(c->sid, "lmtp: connection from %s refused: not in %s", c->ip,
			 settings_key(SETTING_CONF_PROXY_TRUSTED));
		conn_finish(c);
		return;
	}
	smtp_reply(s, "220 %s %s Yubin", s->lim.hostname, service == SERVICE_LMTP ? "LMTP" : "ESMTP");
}
