#ifndef YUBIN_PROTO_IMAP_ARGS_H
#define YUBIN_PROTO_IMAP_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/imap_parser.h"
#include "proto/imap_seqset.h"

/* Arguments of LIST (RFC 3501, LIST-EXTENDED RFC 5258, LIST-STATUS RFC
 * 5819, SPECIAL-USE RFC 6154), STATUS (with SIZE RFC 8438, HIGHESTMODSEQ
 * RFC 7162, DELETED RFC 9051), ENABLE (RFC 5161), ID (RFC 2971) and
 * SETQUOTA (RFC 9208), SELECT/EXAMINE parameters (CONDSTORE, QRESYNC
 * RFC 7162). Pure. */

#define IMAP_STATUS_MESSAGES      0x001u
#define IMAP_STATUS_RECENT        0x002u
#define IMAP_STATUS_UIDNEXT       0x004u
#define IMAP_STATUS_UIDVALIDITY   0x008u
#define IMAP_STATUS_UNSEEN        0x010u
#define IMAP_STATUS_DELETED       0x020u
#define IMAP_STATUS_SIZE          0x040u
#define IMAP_STATUS_HIGHESTMODSEQ 0x080u
#define IMAP_STATUS_APPENDLIMIT   0x100u

/* A list of status items "(MESSAGES UNSEEN SIZE)" into IMAP_STATUS_* bits.
 * Returns 0, or -1 with a reason (unknown item, empty list). */
int imap_status_items_parse(const struct imap_arg *list, unsigned *items_r,
			    const char **error_r);
/* STATUS mailbox (items). */
int imap_status_parse(const struct imap_arg *args, size_t count, const char **mailbox_r,
		      unsigned *items_r, const char **error_r);

#define IMAP_LIST_SELECT_SUBSCRIBED     0x01u
#define IMAP_LIST_SELECT_REMOTE         0x02u
#define IMAP_LIST_SELECT_RECURSIVEMATCH 0x04u
#define IMAP_LIST_SELECT_SPECIAL_USE    0x08u

#define IMAP_LIST_RETURN_SUBSCRIBED     0x01u
#define IMAP_LIST_RETURN_CHILDREN       0x02u
#define IMAP_LIST_RETURN_SPECIAL_USE    0x04u
#define IMAP_LIST_RETURN_STATUS         0x08u

struct imap_list {
	bool extended;			/* selection or return options, or several patterns */
	unsigned select;		/* IMAP_LIST_SELECT_* */
	unsigned ret;			/* IMAP_LIST_RETURN_* */
	unsigned status_items;		/* with IMAP_LIST_RETURN_STATUS */
	const char *reference;
	const char *const *patterns;	/* as sent: mUTF-7 or UTF-8, with * and % */
	size_t npatterns;
};

/* LIST [(selection)] reference (pattern | (patterns)) [RETURN (options)];
 * LSUB is LIST without options. Returns 0, or -1 with a reason. */
int imap_list_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		    struct imap_list *list_r, const char **error_r);

/* ENABLE cap...: the capability names, uppercased, in the arena. */
int imap_enable_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		      const char *const **caps_r, size_t *ncaps_r, const char **error_r);

struct imap_id_field {
	const char *name;
	const char *value;		/* NULL for NIL */
};

/* ID (("name" "value")... | NIL): at most 30 pairs, names at most 30
 * bytes, values at most 1024 (RFC 2971). */
int imap_id_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		  const struct imap_id_field **fields_r, size_t *nfields_r, const char **error_r);

struct imap_quota_limit {
	const char *resource;		/* uppercased: STORAGE, MESSAGE, ... */
	uint64_t limit;
};

/* SETQUOTA root (resource limit ...). */
int imap_setquota_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
			const char **root_r, const struct imap_quota_limit **limits_r,
			size_t *nlimits_r, const char **error_r);

struct imap_select_params {
	bool condstore;			/* (CONDSTORE) */
	bool qresync;			/* (QRESYNC (...)) */
	uint32_t uidvalidity;
	uint64_t modseq;
	bool has_known_uids;
	struct imap_seqset known_uids;
	bool has_seq_match;		/* (known-sequence-set known-uid-set) */
	struct imap_seqset match_seqs, match_uids;
};

/* SELECT/EXAMINE mailbox [(CONDSTORE | QRESYNC (uidvalidity modseq
 * [known-uids [(seqs uids)]]))]. Returns 0, or -1 with a reason. */
int imap_select_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		      const char **mailbox_r, struct imap_select_params *params_r,
		      const char **error_r);

#endif
