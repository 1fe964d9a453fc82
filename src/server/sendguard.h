#ifndef YUBIN_SERVER_SENDGUARD_H
#define YUBIN_SERVER_SENDGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* The daemon's per-account sending state, shared by every loop: the
 * sending-limit windows, the compromised-account signals and suspensions.
 * Counting happens at RCPT for every accepted recipient of an
 * authenticated sender, local and remote, and for forwarded copies. Counts live in memory
 * and are flushed to the database by a worker every SENDGUARD_FLUSH_SECS
 * seconds as per-minute rows (one transaction per flush, not one write per
 * recipient); after a restart they are read back on an account's first
 * use, so limits survive restarts. */

#define SENDGUARD_FLUSH_SECS 10

/* What a transaction knows about its authenticated sender, read at MAIL so
 * that changed limits and unsuspend apply at the next transaction. */
struct sendguard_sender {
	bool active;			/* an authenticated sender is set */
	char address[320];
	uint64_t limit_hour, limit_day;	/* 0: unlimited */
	bool detect;			/* abuse-detect on */
	unsigned countries;		/* distinct login countries in the window */
	bool suspended;
	int64_t lifted;			/* the last lift of a suspension (0: none) */
	bool limit_noted;		/* the send-limited event of this transaction is written */
	char reason[32];
};

enum sendguard_status {
	SENDGUARD_OK,
	SENDGUARD_LIMIT,	/* 451 4.7.1: reply holds the text */
	SENDGUARD_SUSPENDED,	/* 550 5.7.1: reply holds the text */
	SENDGUARD_ERROR,	/* 451 4.3.0 */
};

/* At MAIL: resolves the sender's limits and state. SENDGUARD_SUSPENDED
 * (reply filled) when sending is suspended, also when the login-countries
 * signal crosses its threshold now. */
enum sendguard_status sendguard_sender_open(struct sendguard_sender *snd, const char *address,
					    const char *ip, char *reply, size_t size);
/* At RCPT, for a recipient that is otherwise accepted: checks the limits,
 * counts it and runs the detection. */
enum sendguard_status sendguard_rcpt(struct sendguard_sender *snd, const char *rcpt, const char *ip,
				     char *reply, size_t size);
/* Forwarding (smtp_forward.c): the n copies that address's forwarding
 * sends count against address's limits like recipients, all or none.
 * SENDGUARD_LIMIT: none is sent (the message stays in the mailbox). */
enum sendguard_status sendguard_count_forward(const char *address, unsigned n, char *reply, size_t size);
/* A bounce (null reverse-path mail) was delivered to address: the bounce
 * signal (with BATV on, only bounces for mail really sent from here get
 * this far); the signal also needs the account to have sent at least
 * abuse.bounce_min recipients, so backscatter alone never trips. */
void sendguard_bounce(const char *address, const char *ip);
/* The reply text for a suspended sender. */
void sendguard_suspended_text(const char *address, const char *reason, char *buf, size_t size);
/* Starts the flush timer on base; called by main before the loops run. */
void sendguard_start(struct event_base *base);
/* After the loops and workers are gone: writes the counts still in memory
 * synchronously and frees the table. */
void sendguard_stop(void);

/* notice.c: writes the suspension notice (Japanese and English) into the
 * owner's mailbox and the domain's admin address (setting admin-address,
 * default postmaster@DOMAIN when that account exists). Worker thread. */
int notice_suspension_deliver(const char *address, const char *reason, const char *why,
			      const char *ip, int64_t since);

#endif
