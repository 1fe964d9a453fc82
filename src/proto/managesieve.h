#ifndef YUBIN_PROTO_MANAGESIEVE_H
#define YUBIN_PROTO_MANAGESIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ManageSieve (RFC 5804), pure: the parser of one client command (an atom,
 * then strings and numbers; a string is quoted or a literal "{N+}" or
 * "{N}" followed by CRLF and N octets) and the quoting of the server's
 * strings. No I/O: the caller hands in what it has read so far. */

#define MSIEVE_MAX_ARGS 4
#define MSIEVE_QUOTED_MAX 1024	/* a quoted string's octets, unescaped */
#define MSIEVE_LINE_MAX 8192	/* the octets of a command outside its literals */

enum msieve_verb {
	MSIEVE_UNKNOWN,
	MSIEVE_AUTHENTICATE,
	MSIEVE_STARTTLS,
	MSIEVE_LOGOUT,
	MSIEVE_CAPABILITY,
	MSIEVE_HAVESPACE,
	MSIEVE_PUTSCRIPT,
	MSIEVE_LISTSCRIPTS,
	MSIEVE_SETACTIVE,
	MSIEVE_GETSCRIPT,
	MSIEVE_DELETESCRIPT,
	MSIEVE_RENAMESCRIPT,
	MSIEVE_CHECKSCRIPT,
	MSIEVE_NOOP,
	MSIEVE_UNAUTHENTICATE,
};

enum msieve_arg_type { MSIEVE_ARG_STRING, MSIEVE_ARG_NUMBER };

struct msieve_arg {
	enum msieve_arg_type type;
	const char *data;	/* a string: into the input (literal) or the scratch (quoted) */
	size_t len;
	uint64_t number;	/* a number (0 to 4294967295) */
};

struct msieve_command {
	enum msieve_verb verb;	/* MSIEVE_UNKNOWN: verb_text says which */
	char verb_text[24];
	unsigned nargs;
	struct msieve_arg args[MSIEVE_MAX_ARGS];
};

enum msieve_parse_result {
	MSIEVE_PARSE_MORE = 0,	/* incomplete: *need_r octets in all are wanted (a guess at least 1 more) */
	MSIEVE_PARSE_OK = 1,	/* a command of *used_r octets */
	MSIEVE_PARSE_ERROR = -1,	/* malformed: error_r says why; *used_r octets (the line) to skip */
	MSIEVE_PARSE_TOO_BIG = -2,	/* a literal above literal_max, or a line above MSIEVE_LINE_MAX:
					 * the client cannot be followed further (close) */
};

/* Parses one command at in[0..len). Quoted strings are unescaped into
 * scratch (at least MSIEVE_MAX_ARGS * MSIEVE_QUOTED_MAX octets), so the
 * arguments stay valid while in and scratch do. literal_max bounds one
 * literal. */
enum msieve_parse_result msieve_parse(const char *in, size_t len, size_t literal_max, char *scratch,
				      struct msieve_command *cmd, size_t *used_r, size_t *need_r,
				      const char **error_r);

/* The same for a line that holds just one string (the client's answer to
 * a SASL challenge), into *arg. */
enum msieve_parse_result msieve_parse_string_line(const char *in, size_t len, size_t literal_max,
						  char *scratch, struct msieve_arg *arg, size_t *used_r,
						  size_t *need_r, const char **error_r);

/* Is name[0..len) a script name the server keeps: 1 to 128 octets of
 * UTF-8 without control characters (RFC 5804 section 1.6), and not
 * containing "/"? */
bool msieve_name_valid(const char *name, size_t len);

/* Writes s[0..len) as a ManageSieve string into out (size octets): quoted
 * when it is short and has no CR, LF or NUL, else a literal "{N}\r\n"
 * header followed by the octets. Returns the length needed; the output is
 * complete only when that is below size. */
size_t msieve_string(char *out, size_t size, const char *s, size_t len);

#endif
