#ifndef YUBIN_SERVER_INBOUND_AUTH_H
#define YUBIN_SERVER_INBOUND_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct smtp_session;

/* Inbound mail authentication: SPF (policy/spf.c),
 * DKIM (policy/dkim_verify.c) and DMARC (policy/dmarc.c), the
 * Authentication-Results field for the delivered copies, the removal of
 * fields that claim our authserv-id (forged), and the per-domain
 * `inbound-dmarc` enforcement. Mail of authenticated senders is not
 * checked, but forged fields go all the same. */

struct inbound_auth;

/* On the session's loop, when MAIL FROM is accepted: takes what the checks
 * need from the session (client address, HELO, MAIL FROM, host name,
 * resolver, dns.message_budget) and starts SPF's lookups on the loop.
 * NULL when out of memory. Freed on the loop. */
struct inbound_auth *inbound_auth_new(const struct smtp_session *s);
void inbound_auth_free(struct inbound_auth *a);
/* On the loop: message bytes as they arrive (a NULL a is fine). Once the
 * header is complete, the DKIM key and DMARC policy lookups start. */
void inbound_auth_feed(struct inbound_auth *a, const char *data, size_t len);
/* On the loop, at the end of DATA: cb(arg) runs once every lookup the
 * checks need has its answer or the message's DNS budget is used up (at
 * once when that is so already). From then on the checks need no DNS and
 * a may go to a worker for inbound_auth_run. */
void inbound_auth_when_ready(struct inbound_auth *a, void (*cb)(void *arg), void *arg);

/* On a worker: runs the checks (with the answers gathered on the loop, or
 * blocking DNS bounded by dns.message_budget when there were none) on
 * the message (*body in memory, or *body_fd),
 * builds the Authentication-Results field and, when the header holds
 * fields with our authserv-id, replaces the message with a copy without
 * them (*body / *body_fd / *body_len then point at the copy, owned by a).
 * 0, or -1 when the copy could not be made (a temporary failure: the
 * message must not be delivered with the forged fields). */
int inbound_auth_run(struct inbound_auth *a, const char **body, int *body_fd, size_t *body_len);

struct spam_auth;
/* The results for the spam rules (spam/spam_rules.h): RFC 8601 names,
 * "" when not checked (mail of an authenticated sender). */
void inbound_auth_results(const struct inbound_auth *a, struct spam_auth *r);

/* The field to put in front of each delivered copy ("" when none). */
const char *inbound_auth_header(const struct inbound_auth *a);

/* Applies DMARC to the local recipients rcpts[0..n) (local@domain): for
 * each one whose domain has `inbound-dmarc on`, a DMARC fail with
 * p=reject refuses the message and p=quarantine sets junk_r[i]. A
 * transaction is refused only if every recipient asks for it; when some
 * do not, those who do get the message in Junk. Records an event per
 * recipient affected. Returns true when the message is to be refused
 * (see inbound_auth_reject_text). */
bool inbound_auth_decide(struct inbound_auth *a, const char *const *rcpts, size_t n, bool *junk_r);
/* The text after "550 5.7.1 " for a refused message. */
const char *inbound_auth_reject_text(const struct inbound_auth *a);

/* The Junk folder of the mailbox at maildir into buf (created if the
 * mailbox lacks it): 0, or -1. */
int inbound_auth_junk_path(const char *maildir, char *buf, size_t size);

#endif
