#ifndef YUBIN_POLICY_SENDAS_H
#define YUBIN_POLICY_SENDAS_H

#include <stdbool.h>
#include <stddef.h>

/* Which sender addresses an authenticated login may use, for the envelope
 * (MAIL FROM) and the From:/Sender: header fields of what it submits, and
 * which domains its mail may be DKIM-signed for.
 *
 * Domain setting `sender-policy` (of the login's domain):
 *   strict  (default) the login's own address, its +tag forms, and the
 *           addresses of the account setting `send-as`;
 *   domain  any address of the login's own domain, plus `send-as`;
 *   off     anything (the null sender too).
 * Account setting `send-as`: a comma-separated list of addresses in hosted
 * domains, or `*@domain` for every address of a hosted domain; set by the
 * domain administrator (yubinctl account set ADDRESS send-as LIST).
 * DKIM signs only for the login's own domain and the domains of its
 * send-as entries, whatever the policy. Pure: server/smtp_sendas.c looks
 * the settings up. */

enum sender_policy { SENDER_POLICY_STRICT, SENDER_POLICY_DOMAIN, SENDER_POLICY_OFF };

#define SENDAS_MAX 32		/* entries in one send-as list */
#define SENDAS_ADDR_MAX 320
#define SENDAS_VALUE_MAX (SENDAS_MAX * (SENDAS_ADDR_MAX + 2))
#define SENDAS_HEADER_ADDRS 64	/* addresses looked at in one From: field */

/* "" (unset) is strict. 0, or -1 for an unknown value. Pure. */
int sender_policy_parse(const char *value, enum sender_policy *policy_r);

/* Parses a send-as value: entries separated by commas and/or blanks, each
 * local@domain (dot-atom local part) or *@domain, lowercased into out[]
 * (SENDAS_MAX). 0, or -1 with a reason. Pure: whether each domain is
 * hosted is for the caller to check. */
int sendas_list_parse(const char *value, char (*out)[SENDAS_ADDR_MAX], size_t *n_r,
		      const char **error_r);

/* Whether login may use address ("" for the null sender) under policy
 * with the send-as value list ("" for none). Case-insensitive. Pure. */
bool sendas_address_is_allowed(enum sender_policy policy, const char *login, const char *list,
			       const char *address);
/* Whether mail of login may be signed for domain. Pure. */
bool sendas_domain_is_allowed(const char *login, const char *list, const char *domain);

/* The addresses of an address-list header value (From:, Sender:):
 * display names, comments, quoted strings and groups skipped, the
 * addr-spec of each mailbox (route dropped) into out[] (at most max).
 * 0, or -1 with a reason (no address, too many, too long). Pure. */
int sendas_header_addresses(const char *value, size_t len, char (*out)[SENDAS_ADDR_MAX],
			    size_t max, size_t *n_r, const char **error_r);


#endif
