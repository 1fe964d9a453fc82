#ifndef YUBIN_PROTO_IMAP_SORT_H
#define YUBIN_PROTO_IMAP_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/* SORT and THREAD (RFC 5256, with DISPLAYFROM/DISPLAYTO of RFC 5957).
 * Pure: the session gathers what each message needs (decoded subject,
 * first addresses, dates, Message-ID and References) and gets back the
 * order or the thread tree. */

/* The base subject (RFC 5256 section 2.1) of a subject already decoded to
 * UTF-8: "Re: [list] Fwd: Hello (fwd)" -> "hello", without the reply and
 * forward markers and list blobs, whitespace collapsed, lowercased in
 * ASCII for comparison. *reply_r (may be NULL) says whether markers were
 * removed. Returns its length (truncated to size - 1). */
size_t imap_base_subject(const char *subject, char *out, size_t size, bool *reply_r);

enum imap_sort_key_kind {
	IMAP_SORT_ARRIVAL,
	IMAP_SORT_CC,
	IMAP_SORT_DATE,
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT,
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,
	IMAP_SORT_DISPLAYTO,
};

struct imap_sort_key {
	enum imap_sort_key_kind kind;
	bool reverse;
};

#define IMAP_SORT_KEYS_MAX 16

/* Parses sort criteria given as atoms ("REVERSE", "DATE", ...; case
 * insensitive). 0, or -1 with a reason. */
int imap_sort_criteria_parse(const char *const *atoms, size_t n, struct imap_sort_key *keys,
			     size_t *nkeys_r, const char **error_r);

/* What sorting and threading need of one message. Strings are never NULL
 * ("" when absent); from/to/cc are the addr-mailbox (local part) of the
 * first address, display_* the display name or else the address. */
struct imap_sort_msg {
	uint32_t seq, uid;
	int64_t arrival;	/* INTERNALDATE, seconds */
	int64_t date;		/* Date: header, seconds UTC; INTERNALDATE when absent/invalid */
	uint64_t size;
	const char *base_subject;	/* from imap_base_subject() */
	bool subject_is_reply;		/* the subject had Re:/Fwd:/[fwd: ...] markers */
	const char *from, *to, *cc, *display_from, *display_to;
	const char *message_id;		/* "<id@host>" or "" */
	const char *references;		/* References (or In-Reply-To) as in the header */
};

/* Sorts msgs in place by keys; ties keep sequence order (RFC 5256). */
void imap_sort(struct imap_sort_msg *msgs, size_t n, const struct imap_sort_key *keys, size_t nkeys);

enum imap_thread_algo { IMAP_THREAD_ORDEREDSUBJECT, IMAP_THREAD_REFERENCES };

/* Appends the THREAD response data ("(1 2)(3 (4)(5))") for msgs (any
 * order) to out, numbering with uids when use_uid, else seq. */
void imap_thread(const struct imap_sort_msg *msgs, size_t n, enum imap_thread_algo algo, bool use_uid,
		 struct strbuf *out);

#endif
