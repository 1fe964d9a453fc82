#ifndef YUBIN_PROTO_POP3_H
#define YUBIN_PROTO_POP3_H

#include <stddef.h>

/* POP3 command lines (RFC 1939, 2449, 5034). Pure. */

enum pop3_verb {
	POP3_VERB_UNKNOWN = 0,
	POP3_VERB_CAPA, POP3_VERB_USER, POP3_VERB_PASS, POP3_VERB_AUTH, POP3_VERB_STLS,
	POP3_VERB_STAT, POP3_VERB_LIST, POP3_VERB_UIDL, POP3_VERB_TOP, POP3_VERB_RETR,
	POP3_VERB_DELE, POP3_VERB_RSET, POP3_VERB_NOOP, POP3_VERB_QUIT, POP3_VERB_APOP,
	POP3_VERB_XCLIENT,	/* a trusted proxy: XCLIENT ADDR=ip [PORT=n] */
	POP3_VERB_COUNT
};

#define POP3_MAX_ARGS 2
#define POP3_LINE_MAX 255	/* RFC 2449: 255 octets including CRLF */

struct pop3_command {
	enum pop3_verb verb;
	unsigned nargs;
	char args[POP3_MAX_ARGS][POP3_LINE_MAX + 1];
	/* PASS takes the rest of the line (passwords may contain spaces). */
	char rest[POP3_LINE_MAX + 1];
};

/* Parses one line without CRLF. Returns 0, or -1 with a reason for lines
 * with control bytes, too many arguments or an overlong line. */
int pop3_command_parse(const char *line, size_t len, struct pop3_command *cmd_r,
		       const char **error_r);
/* Parses a message number argument (1-based, decimal, > 0). */
int pop3_parse_msgnum(const char *arg, unsigned long *num_r);

#endif
