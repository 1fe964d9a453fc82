#ifndef YUBIN_PROTO_IMAP_PARSER_H
#define YUBIN_PROTO_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IMAP4rev1/IMAP4rev2 command parser (RFC 3501, RFC 9051) with LITERAL+ and
 * LITERAL- (RFC 7888) and BINARY literal8 (RFC 3516). Pure: bytes in, one
 * command tree out, no I/O. Everything a command holds lives in one arena
 * owned by the parser and freed in one call.
 *
 * A session drives it like this:
 *
 *   r = imap_parser_feed(p, in, in_len, &used); drain `used` bytes; then
 *   MORE            read more input
 *   CONTINUE        write "+ Ready for literal data\r\n" (or refuse the
 *                   literal: imap_parser_literal_reject + "tag NO ...")
 *   LITERAL_START   a big literal: open a file (APPEND), write "+ ..." if
 *                   sync; the next feeds return LITERAL_DATA chunks
 *   LITERAL_DATA    write in[0..used) to the file
 *   COMMAND         run imap_parser_get_command(p)
 *   ERROR           e = imap_parser_get_error(p): "tag BAD msg" ("* BAD" with
 *                   no tag) or "tag NO [TOOBIG] msg"; if e->fatal, "* BYE"
 *                   and close
 *
 * The parser stops right after the LF that ends a command, so lines that
 * are not commands (AUTHENTICATE responses, IDLE's DONE) can be read from
 * the buffer by the session itself.
 *
 * Memory per command is bounded by max_line (tokens) + max_args argument
 * structures + max_literal_mem (literals kept in memory). */

/* A bump allocator: many small allocations, freed together. */
struct imap_arena;

struct imap_arena *imap_arena_new(void);
void imap_arena_free(struct imap_arena *a);
/* Frees every allocation but keeps the first block for reuse. */
void imap_arena_reset(struct imap_arena *a);
/* Zeroed memory aligned for any type; NULL only when malloc fails. */
void *imap_arena_alloc(struct imap_arena *a, size_t size);
/* A NUL-terminated copy of len bytes. */
char *imap_arena_strndup(struct imap_arena *a, const char *s, size_t len);
/* Bytes handed out since the last reset (for limits and tests). */
size_t imap_arena_used(const struct imap_arena *a);

enum imap_arg_type {
	IMAP_ARG_ATOM = 1,	/* also "BODY[HEADER.FIELDS (A B)]<0.10>" as one atom */
	IMAP_ARG_NIL,		/* the atom NIL (any case); str still holds its text */
	IMAP_ARG_STRING,	/* quoted string, unescaped */
	IMAP_ARG_LITERAL,	/* {n}, {n+}, ~{n}, ~{n+} */
	IMAP_ARG_LIST,		/* ( ... ) */
};

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;		/* LITERAL: came as ~{n} */
	bool streamed;		/* LITERAL: handed to the caller, str is NULL */
	/* ATOM, NIL, STRING, LITERAL: the bytes, NUL-terminated (a literal8 may
	 * hold NULs, so len is the truth); LIST: NULL. */
	const char *str;
	size_t len;
	/* LIST: the elements. */
	const struct imap_arg *list;
	size_t count;
};

struct imap_command {
	const char *tag;
	const char *name;	/* uppercased; "FETCH" for UID FETCH */
	bool uid;		/* the command came as UID <name> */
	const struct imap_arg *args;
	size_t count;
};

struct imap_parser_limits {
	size_t max_line;	/* bytes of a command outside literals (default 65536) */
	uint64_t max_literal;	/* largest literal accepted (APPENDLIMIT) */
	/* Literal bytes of one command kept in the arena (default 1 MiB);
	 * bigger ones are streamed (see stream_min) or refused with TOOBIG. */
	size_t max_literal_mem;
	/* Literals of at least this many bytes are handed to the caller as
	 * IMAP_PARSE_LITERAL_START + IMAP_PARSE_LITERAL_DATA instead of kept;
	 * 0 keeps every literal in memory. */
	uint64_t stream_min;
	unsigned max_depth;	/* parenthesis nesting (default 100) */
	unsigned max_args;	/* arguments in one command, nested ones included (default 10000) */
	/* LITERAL- (RFC 7888): non-synchronising literals above 4096 bytes are
	 * refused and the connection closed. Otherwise LITERAL+ rules. */
	bool literal_minus;
};

/* What imap_parser_feed found. */
enum imap_parse_result {
	IMAP_PARSE_ERROR = -1,		/* see imap_parser_get_error */
	IMAP_PARSE_MORE = 0,		/* all input used, none complete */
	IMAP_PARSE_COMMAND = 1,		/* see imap_parser_get_command */
	/* A synchronising literal {n} fits: write "+ Ready for literal data\r\n"
	 * (or refuse it with imap_parser_literal_reject) and feed on. */
	IMAP_PARSE_CONTINUE = 2,
	/* A literal of at least stream_min bytes begins (imap_parser_get_literal
	 * tells its size and whether it is synchronising, in which case the
	 * caller writes the continuation or calls imap_parser_literal_reject).
	 * The following feeds return IMAP_PARSE_LITERAL_DATA until it is all
	 * consumed; then parsing of the command goes on. */
	IMAP_PARSE_LITERAL_START = 3,
	/* The *consumed_r bytes at the start of the input given to this feed
	 * are literal data for the caller (to write to a file). */
	IMAP_PARSE_LITERAL_DATA = 4,
};

enum imap_parse_error_code {
	IMAP_PARSE_ERROR_BAD = 1,	/* reply "tag BAD message" (or "* BAD") */
	IMAP_PARSE_ERROR_TOOBIG,	/* a literal over the limit: "tag NO [TOOBIG] message" */
};

struct imap_parse_error {
	enum imap_parse_error_code code;
	const char *tag;	/* NULL when the line had no valid tag */
	const char *message;
	/* The stream can no longer be trusted (a line over max_line, an
	 * unsynchronised literal over the limits): reply "* BYE" and close. */
	bool fatal;
};

struct imap_literal_info {
	uint64_t size;
	bool sync;		/* {n}: the client waits for a continuation */
	bool literal8;
};

struct imap_parser;

/* limits may be NULL for the defaults; zero fields take their defaults too
 * (max_literal defaults to 64 MiB). */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser *p);

/* Parses from data and sets *consumed_r to the bytes used (the caller drains
 * them from its buffer and feeds the rest again after acting on the result).
 * Results are the same whatever the input is split into. After COMMAND or a
 * non-fatal ERROR the next feed starts a new command (freeing the previous
 * one); after a fatal ERROR every feed returns that error again. */
int imap_parser_feed(struct imap_parser *p, const unsigned char *data, size_t len,
		     size_t *consumed_r);
/* The command after IMAP_PARSE_COMMAND, valid until the next feed, reset or
 * free. */
const struct imap_command *imap_parser_get_command(const struct imap_parser *p);
/* The error after IMAP_PARSE_ERROR, valid until the next feed or reset. */
const struct imap_parse_error *imap_parser_get_error(const struct imap_parser *p);
/* The literal after IMAP_PARSE_CONTINUE or IMAP_PARSE_LITERAL_START. */
const struct imap_literal_info *imap_parser_get_literal(const struct imap_parser *p);
/* The tag of the command being parsed, or NULL. */
const char *imap_parser_get_tag(const struct imap_parser *p);
/* The command as far as it is parsed: tag, name and the complete top-level
 * arguments before the current position (e.g. the mailbox of an APPEND at
 * its LITERAL_START). Returns -1 before the command name is complete. */
int imap_parser_get_partial(const struct imap_parser *p, struct imap_command *cmd_r);
/* Refuses the synchronising literal just announced by CONTINUE or
 * LITERAL_START: the client will not send it, so the command is dropped and
 * the next byte starts a new command. The caller replies with the tag. */
void imap_parser_literal_reject(struct imap_parser *p);
/* Drops the current command and its memory; the next byte starts a new
 * command. Also clears a fatal error. */
void imap_parser_reset(struct imap_parser *p);
/* Frees the memory of the last command (same as reset). */
void imap_parser_command_free(struct imap_parser *p);
/* The arena of the current command, for the argument helpers. */
struct imap_arena *imap_parser_arena(struct imap_parser *p);

/* Argument accessors. */
/* An astring (atom, NIL text, quoted or buffered literal); NULL otherwise. */
const char *imap_arg_astring(const struct imap_arg *arg);
/* An atom's text (not a string); NULL otherwise. */
const char *imap_arg_atom(const struct imap_arg *arg);
/* A quoted or literal string, or NULL. */
const char *imap_arg_string(const struct imap_arg *arg);
bool imap_arg_is_atom(const struct imap_arg *arg, const char *upper);
bool imap_arg_is_nil(const struct imap_arg *arg);
/* number (RFC 9051: 0..2^32-1) from an atom. Returns 0 or -1. */
int imap_arg_number(const struct imap_arg *arg, uint32_t *num_r);
/* nz-number: 1..2^32-1. */
int imap_arg_nz_number(const struct imap_arg *arg, uint32_t *num_r);
/* mod-sequence-value (RFC 7162): 1..2^63-1; with zero_ok, 0 too. */
int imap_arg_modseq(const struct imap_arg *arg, bool zero_ok, uint64_t *value_r);
/* Decimal digits of len bytes into *value_r, at most max. Returns 0 or -1. */
int imap_parse_uint64(const char *s, size_t len, uint64_t max, uint64_t *value_r);

#endif
