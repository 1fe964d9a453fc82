#ifndef YUBIN_PROTO_IMAP_SEARCH_H
#define YUBIN_PROTO_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/imap_date.h"
#include "proto/imap_parser.h"
#include "proto/imap_seqset.h"

/* SEARCH programs (RFC 3501 6.4.4, RFC 9051 6.4.4, CONDSTORE MODSEQ,
 * ESEARCH RETURN RFC 4731, SEARCHRES "$" RFC 5182) into an AST. Pure. */

enum imap_search_type {
	IMAP_SEARCH_ALL = 1,
	IMAP_SEARCH_AND,		/* children: all must match ("(...)" and the top) */
	IMAP_SEARCH_OR,			/* two children */
	IMAP_SEARCH_NOT,		/* one child */
	IMAP_SEARCH_SEQSET,		/* message sequence numbers */
	IMAP_SEARCH_UID,		/* seqset holds UIDs */
	/* flags: no argument */
	IMAP_SEARCH_ANSWERED, IMAP_SEARCH_DELETED, IMAP_SEARCH_DRAFT, IMAP_SEARCH_FLAGGED,
	IMAP_SEARCH_SEEN, IMAP_SEARCH_RECENT, IMAP_SEARCH_NEW, IMAP_SEARCH_OLD,
	IMAP_SEARCH_UNANSWERED, IMAP_SEARCH_UNDELETED, IMAP_SEARCH_UNDRAFT,
	IMAP_SEARCH_UNFLAGGED, IMAP_SEARCH_UNSEEN,
	/* str: a keyword */
	IMAP_SEARCH_KEYWORD, IMAP_SEARCH_UNKEYWORD,
	/* str: the text to find (substring, case-insensitive) */
	IMAP_SEARCH_BCC, IMAP_SEARCH_BODY, IMAP_SEARCH_CC, IMAP_SEARCH_FROM,
	IMAP_SEARCH_SUBJECT, IMAP_SEARCH_TEXT, IMAP_SEARCH_TO,
	IMAP_SEARCH_HEADER,		/* header: field name, str: text */
	/* date: internal date (BEFORE ON SINCE) or Date: header (SENT*) */
	IMAP_SEARCH_BEFORE, IMAP_SEARCH_ON, IMAP_SEARCH_SINCE,
	IMAP_SEARCH_SENTBEFORE, IMAP_SEARCH_SENTON, IMAP_SEARCH_SENTSINCE,
	/* number: RFC822 size */
	IMAP_SEARCH_LARGER, IMAP_SEARCH_SMALLER,
	/* number: mod-sequence; entry_name/entry_type when given */
	IMAP_SEARCH_MODSEQ,
};

enum imap_search_entry_type {
	IMAP_SEARCH_ENTRY_NONE = 0, IMAP_SEARCH_ENTRY_PRIV, IMAP_SEARCH_ENTRY_SHARED,
	IMAP_SEARCH_ENTRY_ALL,
};

struct imap_search_key {
	enum imap_search_type type;
	const char *str;
	size_t str_len;
	const char *header;
	struct imap_date date;
	uint64_t number;
	struct imap_seqset seqset;
	const char *entry_name;
	enum imap_search_entry_type entry_type;
	const struct imap_search_key *children;
	size_t count;
};

/* ESEARCH RETURN options (RFC 4731, RFC 5182 SAVE) */
#define IMAP_SEARCH_RETURN_MIN   0x01u
#define IMAP_SEARCH_RETURN_MAX   0x02u
#define IMAP_SEARCH_RETURN_ALL   0x04u
#define IMAP_SEARCH_RETURN_COUNT 0x08u
#define IMAP_SEARCH_RETURN_SAVE  0x10u

struct imap_search {
	const char *charset;		/* NULL when not given */
	bool has_return;		/* RETURN given: reply with ESEARCH */
	unsigned return_opts;		/* RETURN () means ALL */
	struct imap_search_key root;	/* an AND of the top-level keys */
	bool uses_modseq;		/* a MODSEQ key is present (reply with (MODSEQ n)) */
};

/* Parses the SEARCH arguments: [RETURN (opts)] [CHARSET name] keys. The
 * charset is only reported (the caller checks it is one it supports).
 * Returns 0, or -1 with a reason. */
int imap_search_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		      struct imap_search *search_r, const char **error_r);

#endif
