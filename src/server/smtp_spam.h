#ifndef YUBIN_SERVER_SMTP_SPAM_H
#define YUBIN_SERVER_SMTP_SPAM_H

#include <stdbool.h>
#include <stddef.h>

/* The spam step of inbound delivery, on the delivery's worker. The order
 * at the end of DATA (docs/architecture.md, "Inbound order"):
 *     inbound DMARC -> virus -> allow/block lists -> spam -> forwarding
 * Only mail from outside is filtered (port 25 without a login); what a
 * login submits, also to local users, is not.
 *
 * The step removes the X-Spam-* verdict fields that came with the message
 * (for every recipient), then decides per local recipient with its
 * settings (spam, spam-level, spam-action: the account's over its
 * domain's), the allow and block lists (the account's and its domain's:
 * an allow match wins over block and over the classifier; a block match is
 * spam) and the score (server model + the account's own model + rules).
 * Spam gets a copy with "[SPAM] " in front of its Subject, shared by every
 * recipient that finds it spam; the X-Spam-* fields go into each
 * recipient's own trace header (smtp_spam_header). */

struct spam_auth;

enum spam_action {
	SPAM_ACTION_INBOX,
	SPAM_ACTION_JUNK,
	SPAM_ACTION_TRASH,
	SPAM_ACTION_DELETE,
};

struct spam_verdict {
	bool checked;		/* the filter looked at it for this recipient */
	bool spam;
	bool listed;		/* decided by an allow or block list, not the score */
	double score, threshold;
	unsigned level;
	enum spam_action action;
	char reason[160];
};

struct smtp_spam {
	char sid[12], txid[16], ip[64];
	char *clean, *tagged;	/* copies in memory, or */
	int clean_fd, tagged_fd;	/* in unnamed spool files */
	/* the tagged message for the recipients that find it spam */
	const char *tag_body;
	int tag_body_fd;
	size_t tag_body_len;
};

void smtp_spam_init(struct smtp_spam *sp, const char *sid, const char *txid, const char *ip);
void smtp_spam_free(struct smtp_spam *sp);
/* Runs the step for the local recipients rcpts[0..n) (NULL entries are
 * remote and skipped) of a message from env_from with the inbound checks'
 * results auth. *body / *body_fd / *body_len are replaced by a copy
 * without forged verdict fields when there were any. Fills v[0..n).
 * 0, or -1 when a copy could not be made (a temporary failure). */
int smtp_spam_run(struct smtp_spam *sp, const char *env_from, const struct spam_auth *auth,
		  const char **body, int *body_fd, size_t *body_len, const char *const *rcpts,
		  size_t n, struct spam_verdict *v);
/* The X-Spam-* fields for one recipient's copy into buf ("" when the
 * filter did not look): the length, or -1 when buf is too small. */
int smtp_spam_header(const struct spam_verdict *v, char *buf, size_t size);
const char *smtp_spam_action_name(enum spam_action a);

#endif
