/* Events in plain sentences, each with its fix where there is one: what
 * doctor shows under an address and the panels beside each event. */
#include "ops/ops_server.h"
#include "settings/settings.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Templates: %i the client address, %d the detail, %D " (detail)" when
 * there is one, %k the kind, %a and %b the keys of the settings a and b. */
static const struct {
	const char *kind;
	const char *text;
} ops_event_texts[] = {
	{ "auth-failed", "A login from %i was refused%D; if that was the user, the mail client has a"
	  " wrong password or login name (the login name is the full address)." },
	{ "delivered", "A message from %i was delivered into the mailbox%D." },
	{ "rcpt-full", "Mail from %i was refused because the mailbox is full%D; delete mail or raise"
	  " the quota." },
	{ "rcpt-unknown", "Mail from %i was refused because no such account exists%D." },
	{ "rcpt-rejected", "Mail from %i was refused%D." },
	{ "relay-denied", "A client at %i tried to send mail through this server without logging in"
	  " and was refused%D." },
	{ "account-added", "The account was created%D." },
	{ "account-deleted", "The account was deleted%D." },
	{ "password-changed", "The password was changed%D." },
	{ "quota-changed", "The mailbox size limit was changed%D." },
	{ "account-enabled", "The account was enabled, so it can log in and receive mail again." },
	{ "account-disabled", "The account was disabled: logins are refused and mail to it is"
	  " rejected." },
	{ "memo-changed", "The memo was changed to \"%d\"." },
	{ "setting-changed", "A setting was changed: %d." },
	{ "domain-added", "The domain was added%D." },
	{ "domain-deleted", "The domain was deleted%D." },
	{ "send-suspended", "Sending was suspended because the account looked compromised (%d); a"
	  " notice went to the mailbox; a password change or yubinctl account unsuspend lifts it." },
	{ "send-unsuspended", "The sending suspension was lifted%D." },
	{ "send-refused", "Mail submitted from %i was refused because sending is suspended." },
	{ "send-limited", "The sending limit was reached, so recipients were refused with 451 4.7.1"
	  " until it resets%D; raise %a / %b if the sending is wanted." },
	{ "notice-delivered", "A notice was written into this mailbox%D." },
	{ "dmarc-reject", "Mail from %i was refused because it failed DMARC and the sender's domain"
	  " asks receivers to reject such mail (%a is on for this domain)%D." },
	{ "dmarc-quarantine", "Mail from %i failed DMARC and went to the Junk folder, as the sender's"
	  " domain asks (%a is on for this domain)%D." },
	{ "forwarded", "A message was forwarded%D." },
	{ "forward-limited", "A message was not forwarded and stayed in the mailbox because of the"
	  " sending limits%D." },
	{ "forward-loop", "A message came back through a forwarding loop and was kept here instead of"
	  " being forwarded again%D." },
	{ "batv-refused", "A bounce from %i was refused by BATV%D: it answered mail this domain did"
	  " not sign (backscatter), or its tag was forged or expired." },
	{ "auth-block", "Logins from %i were blocked by the brute-force defence (%d); if that is the"
	  " user's own network, fix the password saved in the mail client, then run yubinctl security"
	  " unblock %i." },
	{ "auth-throttle", "Many failed logins for this account (%d): someone may be guessing the"
	  " password; logins from addresses it used before are not slowed." },
	{ "auth-refused", "A login from %i was refused because that address is blocked after too many"
	  " failed logins%D; yubinctl security unblock %i lifts it." },
	{ "auth-unblock", "A brute-force block was lifted%D." },
	{ "auth-ok", "Logged in from %i%D." },
	{ "index-rebuilt", "The mail index was rebuilt from the mailbox files (%d); messages and flags"
	  " were kept; a folder with a new UIDVALIDITY is downloaded again by mail clients." },
	{ NULL, "Event %k from %i%D." },
};

/* The settings an event's text names as %a and %b. */
static const struct {
	const char *kind;
	enum setting_id a, b;
} ops_event_keys[] = {
	{ "send-limited", SETTING_SEND_LIMIT_HOUR, SETTING_SEND_LIMIT_DAY },
	{ "dmarc-reject", SETTING_INBOUND_DMARC, SETTING_INBOUND_DMARC },
	{ "dmarc-quarantine", SETTING_INBOUND_DMARC, SETTING_INBOUND_DMARC },
};

static const char *ops_event_key(const char *kind, bool second)
{
	for (size_t i = 0; i < sizeof(ops_event_keys) / sizeof(ops_event_keys[0]); i++) {
		if (strcmp(ops_event_keys[i].kind, kind) == 0)
			return settings_key(second ? ops_event_keys[i].b : ops_event_keys[i].a);
	}
	return "";
}

static void ops_append(char *buf, size_t size, size_t *len, const char *s)
{
	int n = snprintf(buf + *len, size - *len, "%s", s);

	if (n > 0)
		*len = *len + (size_t)n >= size ? size - 1 : *len + (size_t)n;
}

/* The value after "name=" in an event detail, up to a blank or comma. */
static void ops_detail_field(const char *detail, const char *name, char *buf, size_t size)
{
	const char *p = strstr(detail, name);
	size_t n;

	buf[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(name);
	n = strcspn(p, " ,");
	if (n < size) {
		memcpy(buf, p, n);
		buf[n] = '\0';
	}
}

/* "AUTH from 203.0.113.9 (US) refused by the foreign-access restriction of
 * example.jp — turn it off while abroad: yubinctl domain set ..." */
static bool ops_foreign_explain(const struct dir_event *e, const char *ip, char *buf, size_t size)
{
	char cc[8], domain[DIR_DOMAIN_MAX + 1], home[8];
	bool smtp = strncmp(e->detail, "smtp ", 5) == 0;

	ops_detail_field(e->detail, "country=", cc, sizeof(cc));
	ops_detail_field(e->detail, "domain=", domain, sizeof(domain));
	ops_detail_field(e->detail, "home=", home, sizeof(home));
	if (domain[0] == '\0')
		return false;
	snprintf(buf, size, "%s from %s (%s) refused by the foreign-access restriction of %s (logins"
		 " only from %s) — turn it off while abroad: yubinctl domain set %s %s off",
		 smtp ? "AUTH" : "A mail login", ip, strcmp(cc, "--") == 0 || cc[0] == '\0' ? "country unknown" : cc,
		 domain, home[0] ? home : settings_get(SETTING_FOREIGN_AUTH_COUNTRY)->def, domain,
		 settings_key(smtp ? SETTING_FOREIGN_AUTH : SETTING_FOREIGN_AUTH_MAIL));
	return true;
}

void ops_event_explain(const struct dir_event *e, char *buf, size_t size)
{
	const char *t, *ip = e->ip[0] != '\0' ? e->ip : "yubinctl";
	size_t len = 0, i;
	char one[2] = "";

	if (strcmp(e->kind, "auth-foreign") == 0 && ops_foreign_explain(e, ip, buf, size))
		return;
	for (i = 0; ops_event_texts[i].kind != NULL; i++) {
		if (strcmp(ops_event_texts[i].kind, e->kind) == 0)
			break;
	}
	t = ops_event_texts[i].text;	/* the last entry fits any kind */
	buf[0] = '\0';
	for (; *t != '\0' && len + 1 < size; t++) {
		if (*t != '%' || t[1] == '\0') {
			one[0] = *t;
			ops_append(buf, size, &len, one);
			continue;
		}
		switch (*++t) {
		case 'i': ops_append(buf, size, &len, ip); break;
		case 'd': ops_append(buf, size, &len, e->detail); break;
		case 'k': ops_append(buf, size, &len, e->kind); break;
		case 'a': ops_append(buf, size, &len, ops_event_key(e->kind, false)); break;
		case 'b': ops_append(buf, size, &len, ops_event_key(e->kind, true)); break;
		case 'D':
			if (e->detail[0] != '\0') {
				ops_append(buf, size, &len, " (");
				ops_append(buf, size, &len, e->detail);
				ops_append(buf, size, &len, ")");
			}
			break;
		default: one[0] = *t; ops_append(buf, size, &len, one); break;
		}
	}
}
