#ifndef YUBIN_SERVER_SMTP_VACATION_H
#define YUBIN_SERVER_SMTP_VACATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sieve vacation (RFC 5230, 6131) in delivery: the decision a run made,
 * carried by the delivery plan, is sent once the recipient's copy is on
 * disk. Never to <>, lists, bulk or auto-submitted mail, mail systems or
 * the user's own addresses (mail/autoreply.h, RFC 3834); once per sender
 * per handle per :days/:seconds (MAILDIR/sieve/vacation.db, a small text
 * file under an exclusive lock, expired lines pruned, at most
 * VACATION_DB_MAX lines); counted against the account's sending limits
 * like forwarding; from the null sender, signed for the account's
 * domain; into the sender's mailbox when it is local, else queued. Every
 * reply sent or not is a `sieve-vacation` event saying why. */

#define VACATION_DB_MAX 4096

struct sieve_vacation;

struct smtp_vacation {
	char *reason, *subject, *from, *handle;
	char **addresses;
	unsigned naddresses;
	uint64_t seconds;
	bool mime, reply;
	bool quote;		/* the panel's auto-reply quotes the original (AUTOREPLY_QUOTE_HANDLE) */
	unsigned line;		/* the script line of the vacation action */
	char script[64];	/* the script's name, for the event */
};

/* A copy of the engine's decision (NULL when out of memory). */
struct smtp_vacation *smtp_vacation_from(const struct sieve_vacation *v, const char *reason, unsigned line,
					 const char *script);
void smtp_vacation_free(struct smtp_vacation *v);

struct vacation_msg {
	const char *sid, *txid, *ip;
	const char *from;	/* the envelope sender */
	bool spam;		/* the spam step tagged it: no reply */
	const char *body;	/* or body_fd */
	int body_fd;
	size_t body_len;
};

/* Sends (or decides not to send) the reply for account. Worker thread. */
void smtp_vacation_send(const struct vacation_msg *m, const char *account, const char *maildir,
			const struct smtp_vacation *v);

/* Sieve reject (mdn: an MDN with the "deleted" disposition, RFC 8098) or
 * ereject (a DSN, RFC 3464) for account when the refusal could not be the
 * SMTP reply (RFC 5429 2.1, 2.2): to the envelope sender from the null
 * sender, never to <>, MAILER-DAEMON, the account itself, auto-submitted
 * mail, reports or spam; counted against the account's sending limits;
 * queued or delivered locally like a vacation reply. A `sieve-rejected`
 * event says what was sent or why not. Worker thread. */
void smtp_refusal_send(const struct vacation_msg *m, const char *account, bool mdn, const char *reason);

/* The once-per-period record: 1 when (handle, sender) has an unexpired
 * line, 0 when not, -1 on an error. With record set and not seen, a
 * line expiring at now + seconds is added. Exposed for the tests. */
int vacation_db_check(const char *maildir, const char *handle, const char *sender, uint64_t seconds,
		      int64_t now, bool record);

/* The duplicate extension's memory (RFC 7352) in the same file: 1 when
 * the id was seen under handle within its period, 0 not, -1 an error;
 * with record set the id is (re)recorded for seconds from now. */
int vacation_db_duplicate(const char *maildir, const char *handle, const char *id, uint64_t seconds,
			  int64_t now, bool record);

#endif
