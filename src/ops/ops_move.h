#ifndef YUBIN_OPS_MOVE_H
#define YUBIN_OPS_MOVE_H

/* Account moves between mail nodes (issue 16 §2): yubinctl account move
 * and node drain. The mover (ops_move.c) speaks IMAP to both nodes with
 * trusted proxy logins as the user (so it runs where proxy.trusted and
 * proxy.user/proxy.secret hold: a proxy), copies every folder with its
 * UIDVALIDITY, UIDs, flags, keywords and internal dates, catches up,
 * freezes the source, catches up a last time, moves the per-account
 * files, switches the home node in the directory and purges the source.
 * See docs/architecture.md, "Account moves". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"

struct ops_move_params {
	const char *source_ip;		/* bind here (a proxy.trusted address); NULL/"": any */
	const char *proxy_user, *proxy_secret;
	unsigned timeout;		/* seconds for each network step */
	/* Told of each step ("copy: INBOX 12 messages"); NULL: silent. */
	void (*progress)(void *ctx, const char *line);
	void *progress_ctx;
};

/* What a move did. */
struct ops_move_report {
	char from[64], to[64];
	unsigned folders, copied, updated, expunged, passes, files;
	bool purged;			/* the source's copy is gone */
};

/* Moves address's mailbox to node to (an active node other than its
 * home), online: 0, or -1 with err (before the switch the source is as it
 * was; after it, only the purge failed and err says so). */
int ops_account_move(struct ops *o, const struct ops_actor *actor, const char *address, const char *to,
		     const struct ops_move_params *p, struct ops_move_report *rep, struct ops_error *err);
/* Drains node name: marks it draining, then moves every account living
 * there to the active node with most free space. *moved_r counts them;
 * -1 at the first failure (err). */
int ops_node_drain_move(struct ops *o, const struct ops_actor *actor, const char *name,
			const struct ops_move_params *p, unsigned *moved_r, struct ops_error *err);

/* ---- pure helpers (ops_move_parse.c), unit-tested ---- */

#define MOVE_FLAGS_MAX 1024

/* A message as seen on one side: its UID and its flags, normalised. */
struct move_msg {
	uint32_t uid;
	char flags[MOVE_FLAGS_MAX];
	uint64_t size;		/* RFC822.SIZE: batches are made by it */
};

/* Flags as a canonical text: \Recent dropped, system flags capitalised as
 * in RFC 3501, sorted (case-insensitively), one space between. 0, or -1
 * when out is too small. */
int move_flags_normalize(const char *in, char *out, size_t size);

/* From the text of an untagged FETCH response after "* n FETCH ": UID,
 * FLAGS (their inside, normalised) and INTERNALDATE (without quotes);
 * missing items are left as they were. 0, or -1 when malformed. */
int move_parse_fetch(const char *line, uint32_t *uid_r, char *flags, size_t fsize, char *date, size_t dsize);
/* RFC822.SIZE of the same text into *size_r (left as it was when the item
 * is missing). 0, or -1 when malformed. */
int move_parse_fetch_size(const char *line, uint64_t *size_r);

/* The mailbox name (raw, as it came: quoted string unescaped, or atom) of
 * an untagged LIST response after "* LIST ". 0, or -1. *noselect_r: the
 * \Noselect or \NonExistent attribute. */
int move_parse_list(const char *line, char *name, size_t size, bool *noselect_r);

/* A response code's number in a line: "[UIDVALIDITY 5]" for code
 * "UIDVALIDITY". 0, or -1 when absent. */
int move_parse_code(const char *line, const char *code, uint64_t *value_r);

/* str as an IMAP quoted string into out: 0, or -1 (too long, or a CR/LF
 * that a quoted string cannot hold). */
int move_quote(const char *str, char *out, size_t size);

/* What a pass must do to make the target (dst, by ascending UID) equal to
 * the source (src, ascending): indexes into src of messages to copy and
 * to update (flags differ), and UIDs of dst to expunge. Arrays are
 * allocated by the caller with the sizes of src (copy, update) and dst
 * (expunge). */
struct move_plan {
	size_t *copy, ncopy;
	size_t *update, nupdate;
	uint32_t *expunge;
	size_t nexpunge;
};
void move_plan_make(const struct move_msg *src, size_t nsrc, const struct move_msg *dst, size_t ndst,
		    struct move_plan *plan);

#endif
