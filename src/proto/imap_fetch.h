#ifndef YUBIN_PROTO_IMAP_FETCH_H
#define YUBIN_PROTO_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/imap_parser.h"

/* FETCH data items (RFC 3501 6.4.5, RFC 9051 6.4.5, BINARY RFC 3516,
 * CONDSTORE/QRESYNC RFC 7162 modifiers). Pure. */

enum imap_fetch_type {
	IMAP_FETCH_FLAGS = 1,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822,		/* = BODY[] (sets \Seen) */
	IMAP_FETCH_RFC822_HEADER,	/* = BODY.PEEK[HEADER] */
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_RFC822_TEXT,		/* = BODY[TEXT] */
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY,		/* non-extensible BODYSTRUCTURE */
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_UID,
	IMAP_FETCH_MODSEQ,
	IMAP_FETCH_BODY_SECTION,	/* BODY[...]<...>, BODY.PEEK[...] */
	IMAP_FETCH_BINARY,		/* BINARY[...]<...>, BINARY.PEEK[...] */
	IMAP_FETCH_BINARY_SIZE,		/* BINARY.SIZE[...] */
};

enum imap_section_text {
	IMAP_SECTION_NONE = 0,		/* the whole message or part */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,		/* only after a part number */
};

struct imap_fetch_section {
	const uint32_t *parts;		/* 1.2.3 -> {1, 2, 3} */
	size_t nparts;
	enum imap_section_text text;
	const char *const *fields;	/* HEADER.FIELDS[.NOT]: names as given */
	size_t nfields;
};

struct imap_fetch_item {
	enum imap_fetch_type type;
	bool peek;			/* .PEEK: do not set \Seen */
	struct imap_fetch_section section;	/* BODY_SECTION, BINARY, BINARY_SIZE */
	bool partial;			/* <offset.count> */
	uint32_t offset, length;
	/* The item as the FETCH response names it: "BODY[1.HEADER.FIELDS
	 * (SUBJECT)]<0>", "BINARY.SIZE[2]", "RFC822.SIZE", ... */
	const char *response_name;
};

struct imap_fetch {
	const struct imap_fetch_item *items;
	size_t count;
	bool has_changedsince;
	uint64_t changedsince;
	bool vanished;
	/* Whether any item needs \Seen set (non-PEEK BODY[]/BINARY[], RFC822,
	 * RFC822.TEXT). */
	bool sets_seen;
};

/* Parses the FETCH arguments after the sequence set: a macro (ALL, FAST,
 * FULL), one item or a list of items, then an optional modifier list
 * "(CHANGEDSINCE n [VANISHED])". With uid (UID FETCH) a UID item is added
 * when missing; with CHANGEDSINCE a MODSEQ item is added (RFC 7162 3.1.4.1).
 * VANISHED needs uid and CHANGEDSINCE. Returns 0, or -1 with a reason. */
int imap_fetch_parse(const struct imap_arg *args, size_t count, bool uid, struct imap_arena *a,
		     struct imap_fetch *fetch_r, const char **error_r);
/* Parses one item's text ("BODY.PEEK[1.2.MIME]<0.100>"). */
int imap_fetch_item_parse(const char *s, size_t len, struct imap_arena *a,
			  struct imap_fetch_item *item_r, const char **error_r);

#endif
