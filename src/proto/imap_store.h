#ifndef YUBIN_PROTO_IMAP_STORE_H
#define YUBIN_PROTO_IMAP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/imap_date.h"
#include "proto/imap_parser.h"

/* Flag lists, STORE (RFC 3501 6.4.6, CONDSTORE UNCHANGEDSINCE RFC 7162)
 * and APPEND / MULTIAPPEND (RFC 3502) arguments. Pure. */

#define IMAP_FLAG_SEEN     0x01u
#define IMAP_FLAG_ANSWERED 0x02u
#define IMAP_FLAG_FLAGGED  0x04u
#define IMAP_FLAG_DELETED  0x08u
#define IMAP_FLAG_DRAFT    0x10u
#define IMAP_FLAG_RECENT   0x20u	/* never accepted from a client */

struct imap_flags {
	unsigned system;		/* IMAP_FLAG_* */
	const char *const *keywords;	/* atoms as given, case-insensitively unique */
	size_t nkeywords;
};

/* A flag list "(\Seen $Label1)". Rejects \Recent, unknown \ flags, and
 * keywords with characters an atom cannot hold. Returns 0, or -1 with a reason. */
int imap_flags_parse(const struct imap_arg *arg, struct imap_arena *a,
		     struct imap_flags *flags_r, const char **error_r);
/* Parses flags given as count separate atom arguments (STORE without
 * parentheses). */
int imap_flags_parse_args(const struct imap_arg *args, size_t count, struct imap_arena *a,
			  struct imap_flags *flags_r, const char **error_r);
/* Whether s is a valid flag-keyword (an atom, no "\"). */
bool imap_keyword_is_valid(const char *s, size_t len);
/* The name of one system flag bit ("\\Seen"), or NULL. */
const char *imap_flag_name(unsigned flag);

enum imap_store_op { IMAP_STORE_SET = 1, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_store {
	enum imap_store_op op;
	bool silent;
	bool has_unchangedsince;
	uint64_t unchangedsince;
	struct imap_flags flags;
};

/* Parses the STORE arguments after the sequence set:
 * ["(UNCHANGEDSINCE n)"] (FLAGS|+FLAGS|-FLAGS)[.SILENT] (flag-list | flag...). */
int imap_store_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		     struct imap_store *store_r, const char **error_r);

struct imap_append_msg {
	struct imap_flags flags;
	bool has_date;
	struct imap_datetime date;
	/* The message: a literal; when streamed (arg->streamed) the caller
	 * holds its bytes, and arg->len is their count. */
	const struct imap_arg *literal;
	bool utf8;			/* sent as UTF8 (~{n}) (RFC 6855) */
};

struct imap_append {
	const char *mailbox;		/* as sent (mUTF-7 or UTF-8) */
	const struct imap_append_msg *msgs;
	size_t count;			/* > 1 only for MULTIAPPEND */
};

/* Parses the APPEND arguments: mailbox then, once or more (MULTIAPPEND,
 * only with multi), [flag-list] [date-time] (literal | UTF8 (literal8)).
 * Returns 0, or -1 with a reason. */
int imap_append_parse(const struct imap_arg *args, size_t count, bool multi,
		      struct imap_arena *a, struct imap_append *append_r, const char **error_r);

#endif
