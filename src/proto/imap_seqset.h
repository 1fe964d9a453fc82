#ifndef YUBIN_PROTO_IMAP_SEQSET_H
#define YUBIN_PROTO_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/imap_parser.h"

/* RFC 3501/9051 sequence-set: "1:3,7,9:*,*", ranges in any order, plus "$"
 * (RFC 5182 SEARCHRES). Pure. */

/* Stands for "*" in a range: larger than any number. */
#define IMAP_SEQ_STAR (UINT64_C(1) << 32)

struct imap_seq_range {
	uint64_t lo, hi;	/* lo <= hi; either may be IMAP_SEQ_STAR */
};

struct imap_seqset {
	/* Ranges without "*" come first, sorted and merged (no overlap, no
	 * adjacency); ranges that end in "*" follow, sorted by lo, since their
	 * extent is known only with the value of "*". */
	const struct imap_seq_range *ranges;
	size_t count;
	size_t count_finite;	/* ranges[0..count_finite) have no "*" */
	bool searchres;		/* "$": the saved search result, no ranges */
};

/* Parses a sequence-set of len bytes; memory from the arena. With
 * allow_searchres, "$" alone is accepted. Returns 0, or -1 with a reason. */
int imap_seqset_parse(const char *s, size_t len, bool allow_searchres, struct imap_arena *a,
		      struct imap_seqset *set_r, const char **error_r);
/* The same from an atom argument. */
int imap_seqset_parse_arg(const struct imap_arg *arg, bool allow_searchres,
			  struct imap_arena *a, struct imap_seqset *set_r, const char **error_r);
/* Whether value is in the set when "*" stands for star (the largest
 * sequence number or UID in the mailbox; 0 for an empty one, where "*"
 * matches nothing). Always false for "$". */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t value, uint32_t star);
/* The set with "*" replaced by star, as sorted, merged uint32 ranges
 * (ranges_r[i][0] <= ranges_r[i][1]) in the arena. With star 0 the "*"
 * ranges are dropped. Returns 0 or -1 (out of memory). */
int imap_seqset_resolve(const struct imap_seqset *set, uint32_t star, struct imap_arena *a,
			uint32_t (**ranges_r)[2], size_t *count_r);

#endif
