#ifndef YUBIN_SERVER_SMTP_SIEVE_H
#define YUBIN_SERVER_SMTP_SIEVE_H

#include <stdbool.h>
#include <stddef.h>

#include "server/smtp_spam.h"
#include "server/smtp_vacation.h"

/* The Sieve step of local delivery: the account's active script
 * (store/sieve_store.c), compiled once per change of its file and kept in
 * a cache shared by the workers, run on one recipient's copy of the
 * message. Its actions become a plan that delivery carries out. */

#define SIEVE_PLAN_COPIES 16	/* fileinto copies per recipient */

struct sieve_plan_copy {
	char name[256];		/* the folder's IMAP name ("INBOX": the inbox) */
	char flags[8];		/* Maildir flags for the copy, or "" */
};

struct sieve_plan {
	bool ran;		/* a script ran (else: deliver as before) */
	bool keep;		/* a copy where the message would have gone */
	char keep_flags[8];
	unsigned ncopies;	/* fileinto */
	struct sieve_plan_copy copies[SIEVE_PLAN_COPIES];
	char *redirect;		/* "a@x, b@y" (malloc'd), or NULL */
	bool reject;		/* reject/ereject: no copy */
	bool ereject;		/* it was ereject (a DSN, not an MDN, when not refused in SMTP) */
	char *reason;		/* the reject's reason (malloc'd), or NULL */
	bool error;		/* a run-time error: the implicit keep */
	struct smtp_vacation *vacation;	/* an auto-reply to send (owned), or NULL */
	char why[512];		/* what decided, for the log and the event */
};

struct smtp_sieve_msg {
	const char *sid, *txid;
	const char *maildir;	/* the recipient's mailbox */
	const char *address;	/* the recipient */
	const char *from;	/* the envelope sender, "" for <> */
	const char *prefix;	/* the trace fields its copy gets */
	size_t prefix_len;
	const char *body;	/* or body_fd */
	int body_fd;
	size_t body_len;
	const struct spam_verdict *spam;
};

/* Runs the recipient's active script, if it has one: 0 with *plan filled
 * (plan->ran false: no script), or -1 when the message cannot be read. */
int smtp_sieve_run(const struct smtp_sieve_msg *m, struct sieve_plan *plan);
void smtp_sieve_plan_free(struct sieve_plan *plan);

/* Drops every cached script (tests, shutdown). */
void smtp_sieve_cache_clear(void);

#endif
