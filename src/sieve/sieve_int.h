#ifndef YUBIN_SIEVE_SIEVE_INT_H
#define YUBIN_SIEVE_SIEVE_INT_H

/* The engine's inner parts: tokens, the compiled form and the matcher.
 * Not for use outside src/sieve/. */

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"
#include "sieve/sieve.h"

/* ---- lexer (sieve_lex.c) ---- */

enum sieve_tok {
	TOK_EOF, TOK_IDENT, TOK_TAG, TOK_NUMBER, TOK_STRING,
	TOK_LBRACKET, TOK_RBRACKET, TOK_COMMA, TOK_LPAREN, TOK_RPAREN,
	TOK_LBRACE, TOK_RBRACE, TOK_SEMI, TOK_ERROR,
};

struct sieve_lexer {
	const char *src;
	size_t len, pos;
	unsigned int line;
	unsigned int max_string;
	/* the current token */
	enum sieve_tok tok;
	unsigned int tok_line;
	const char *word;	/* identifier or tag name (tag without ':') */
	size_t word_len;
	uint64_t num;
	struct strbuf str;	/* a string's value */
	char error[160];
};

void sieve_lex_init(struct sieve_lexer *lx, const char *src, size_t len, unsigned int max_string);
/* Reads the next token into lx; TOK_ERROR with lx->error on bad input. */
enum sieve_tok sieve_lex_next(struct sieve_lexer *lx);
void sieve_lex_free(struct sieve_lexer *lx);

/* ---- compiled form ---- */

enum sieve_id {
	/* commands */
	SID_IF = 1, SID_ELSIF, SID_ELSE, SID_STOP, SID_KEEP, SID_DISCARD, SID_FILEINTO,
	SID_REDIRECT, SID_REJECT, SID_EREJECT, SID_SETFLAG, SID_ADDFLAG, SID_REMOVEFLAG,
	SID_SET, SID_VACATION, SID_INCLUDE, SID_RETURN, SID_GLOBAL,
	/* tests */
	SID_TRUE, SID_FALSE, SID_NOT, SID_ALLOF, SID_ANYOF, SID_ADDRESS, SID_HEADER,
	SID_EXISTS, SID_SIZE, SID_ENVELOPE, SID_BODY, SID_STRING, SID_HASFLAG, SID_DATE,
	SID_CURRENTDATE, SID_MAILBOXEXISTS, SID_DUPLICATE, SID_SPAMTEST, SID_VIRUSTEST,
	SID_COUNT_
};

enum sieve_match { MATCH_IS, MATCH_CONTAINS, MATCH_MATCHES, MATCH_REGEX, MATCH_VALUE, MATCH_COUNT };
enum sieve_cmp { CMP_ASCII, CMP_OCTET, CMP_UNICODE, CMP_NUMERIC };
enum sieve_rel { REL_GT, REL_GE, REL_LT, REL_LE, REL_EQ, REL_NE };
enum sieve_part { PART_ALL, PART_LOCAL, PART_DOMAIN, PART_USER, PART_DETAIL };
enum sieve_body { BODY_TEXT, BODY_RAW, BODY_CONTENT };

/* node flags */
#define NF_COPY 0x0001u
#define NF_LAST 0x0002u
#define NF_CREATE 0x0004u
#define NF_MIME 0x0008u
#define NF_SECONDS 0x0010u
#define NF_ORIGZONE 0x0020u
#define NF_PERCENT 0x0040u
#define NF_GLOBAL 0x0080u
#define NF_ONCE 0x0100u
#define NF_OPTIONAL 0x0200u
#define NF_UNDER 0x0400u
#define NF_UNIQUEID 0x0800u
#define NF_HAS_NUM 0x1000u
#define NF_HAS_FLAGS 0x2000u
#define NF_HAS_INDEX 0x4000u

/* set modifiers */
#define MOD_LOWER 0x01u
#define MOD_UPPER 0x02u
#define MOD_LOWERFIRST 0x04u
#define MOD_UPPERFIRST 0x08u
#define MOD_QUOTEWILD 0x10u
#define MOD_LENGTH 0x20u
#define MOD_QUOTEREGEX 0x40u

/* string-list slots of a node */
enum { SL_P0, SL_P1, SL_P2, SL_TAG, SL_SUBJECT, SL_FROM, SL_ADDRS, SL_HANDLE, SL_N };

/* One command or test. Nodes are stored in pre-order: the first child is
 * the next node, and end is the index just past the node's subtree. An
 * if/elsif has its test first, then its block's commands. */
struct sieve_node {
	uint8_t id, match, cmp, rel, part, mods;
	uint16_t flags;
	uint32_t line;
	uint32_t end;
	int32_t index;
	uint64_t num;
	uint32_t sl[SL_N];	/* index into lists; 0 = absent */
};

struct sieve_str {
	uint32_t off, len;
	bool has_var;		/* holds "${" and variables are on */
	int32_t regex;		/* index into script->regex, or -1 */
};

struct sieve_list {
	uint32_t first, count;
};

struct sieve_script {
	struct sieve_node *nodes;
	unsigned int node_count, node_cap;
	struct sieve_list *lists;
	unsigned int list_count, list_cap;
	struct sieve_str *strs;
	unsigned int str_count, str_cap;
	struct strbuf pool;
	regex_t *regex;		/* constant :regex keys, compiled once */
	unsigned int regex_count, regex_cap;
	uint32_t ext;
};

static inline const char *sieve_str_ptr(const struct sieve_script *s, uint32_t i)
{
	return s->pool.data + s->strs[i].off;
}

/* ---- matching (sieve_match.c) ---- */

#define SIEVE_MATCH_VARS 10

struct sieve_matchvars {
	struct strbuf v[SIEVE_MATCH_VARS];
	unsigned int count;
};

/* Folds text for a comparator into out (i;ascii-casemap: A-Z only, same
 * length; i;unicode-casemap: sieve_unicode_fold). */
void sieve_fold(enum sieve_cmp cmp, const char *in, size_t len, struct strbuf *out);
/* :is, :contains, :matches on value against key under cmp. When mv is
 * given and the match is :matches, the wildcards' texts are stored. The
 * work spent (bytes, pattern steps) is taken from *work; at 0 the match
 * fails and the caller stops the run. */
bool sieve_match_str(enum sieve_match match, enum sieve_cmp cmp, const char *value, size_t vlen,
		     const char *key, size_t klen, struct sieve_matchvars *mv, uint64_t *work);
/* Relational compare of value against key under cmp (i;ascii-numeric
 * compares numbers). */
bool sieve_match_rel(enum sieve_rel rel, enum sieve_cmp cmp, const char *value, size_t vlen,
		     const char *key, size_t klen);
/* Compiles a :regex key; 0 or -1 with a message. Refuses back-references
 * and keys longer than max_len. */
int sieve_regex_compile(regex_t *re, const char *key, size_t klen, enum sieve_cmp cmp,
			char *error, size_t errsize);
bool sieve_regex_exec(const regex_t *re, const char *value, size_t vlen, struct sieve_matchvars *mv);
/* i;unicode-casemap (RFC 5051): each character of the UTF-8 text replaced
 * by its compatibility caseless form, NFKD(casefold(NFKD(casefold(NFD(c)))))
 * (Unicode 3.13 D146) from the generated sieve_casemap_table.h: full case
 * folding (ß and SS are ss) instead of RFC 5051's simple titlecase
 * mapping, and the full compatibility decomposition (fullwidth Ａ is a,
 * halfwidth ｶ is カ, é is e + U+0301, Hangul syllables by arithmetic).
 * Combining marks are put into canonical order (runs of more than 32
 * are left as they are), U+0345 folded to iota only after that, so the
 * result is the one of the whole string's D146 form. Octets that are not UTF-8 stay as they are. With map_r,
 * *map_r (malloc'd, out->len + 1 entries) gives for every folded octet
 * the offset in in of the character it came from. */
void sieve_unicode_fold(const char *in, size_t len, struct strbuf *out, size_t **map_r);
/* Is the string a valid i;ascii-numeric key? A number's value, or
 * UINT64_MAX for "positive infinity" (no leading digit). */
uint64_t sieve_numeric_value(const char *s, size_t len);

/* A redirect target (RFC 5228 4.2: an RFC 5322 addr-spec; one pair of
 * angle brackets is accepted, as Pigeonhole does) as an RFC 5321 path,
 * written "local@domain" into out (MAIL_PATH_MAX + 1 bytes). false when
 * it is not one address (or is a source route or relay trick). */
bool sieve_redirect_address(const char *in, char *out, size_t outsize);

/* A folder name fileinto accepts: 1 to 1024 bytes of UTF-8 without
 * control characters. */
bool sieve_folder_name_is_valid(const char *name);

/* ---- dates (sieve_date.c) ---- */

/* Parses an RFC 5322 date into UTC seconds and its zone in minutes. */
int sieve_date_parse(const char *s, size_t len, int64_t *t_r, int *zone_r);
/* Parses a zone "+hhmm" / "-hhmm" into minutes; -1 when invalid. */
int sieve_zone_parse(const char *s, size_t len, int *zone_r);
/* Appends date-part of time t shown in zone; -1 for an unknown part. */
int sieve_date_part(int64_t t, int zone, const char *part, struct strbuf *out);
bool sieve_date_part_is_known(const char *part);

/* ---- parser (sieve_parse.c, sieve_check.c) ---- */

struct sieve_parg {
	uint8_t type;		/* 'T' tag, 'N' number, 'L' string list */
	uint8_t tag;		/* enum sieve_tagid for tags */
	uint32_t line;
	uint64_t num;
	uint32_t list;		/* for 'L' */
};

struct sieve_parser {
	struct sieve_lexer lx;
	struct sieve_script *s;
	const struct sieve_limits *lim;
	unsigned int depth;
	unsigned int commands;
	bool error;
	struct sieve_error *err;
	bool saw_other;		/* a command other than require was seen */
};

void sieve_parse_error(struct sieve_parser *p, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Checks one command's or test's arguments against its grammar and fills
 * node. Returns 0 or -1 (error reported). */
int sieve_check_node(struct sieve_parser *p, struct sieve_node *node, const char *name,
		     const struct sieve_parg *args, unsigned int nargs, unsigned int ntests,
		     bool has_block);
/* The id of a command (is_test false) or test name, 0 when unknown, with
 * the extension it needs in *ext_r. */
int sieve_lookup(const char *name, bool is_test, uint32_t *ext_r);
/* The tag id of a tag name, 0 when unknown. */
int sieve_tag_lookup(const char *name, size_t len);
/* The extension bit for a require'd name, 0 when unsupported. */
uint32_t sieve_ext_lookup(const char *name);

#endif
