/* yubinctl doctor ADDRESS: why can this user not log in or get mail? The
 * checks a support person would make, in order, each with the fix, then
 * the address's recent history in plain sentences. Exit status 1 when a
 * check failed (a FAIL line), 0 when there were only warnings or none. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "directory/password.h"
#include "directory/validate.h"
#include "store/maildir.h"

#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DOCTOR_EVENTS 20
#define DOCTOR_AUTH_FAILURES_WARN 3
#define DOCTOR_FULL_DAYS 7	/* how far back refusals for a full mailbox are reported */

/* Templates: %i the client address, %d the detail, %D " (detail)" when
 * there is one, %k the kind, %a and %b the keys of the settings a and b. */
static const struct {
	const char *kind;
	const char *text;
} ctl_event_texts[] = {
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
} ctl_event_keys[] = {
	{ "send-limited", SETTING_SEND_LIMIT_HOUR, SETTING_SEND_LIMIT_DAY },
	{ "dmarc-reject", SETTING_INBOUND_DMARC, SETTING_INBOUND_DMARC },
	{ "dmarc-quarantine", SETTING_INBOUND_DMARC, SETTING_INBOUND_DMARC },
};

static const char *ctl_event_key(const char *kind, bool second)
{
	for (size_t i = 0; i < sizeof(ctl_event_keys) / sizeof(ctl_event_keys[0]); i++) {
		if (strcmp(ctl_event_keys[i].kind, kind) == 0)
			return settings_key(second ? ctl_event_keys[i].b : ctl_event_keys[i].a);
	}
	return "";
}

static void ctl_append(char *buf, size_t size, size_t *len, const char *s)
{
	int n = snprintf(buf + *len, size - *len, "%s", s);

	if (n > 0)
		*len = *len + (size_t)n >= size ? size - 1 : *len + (size_t)n;
}

/* The value after "name=" in an event detail, up to a blank or comma. */
static void ctl_detail_field(const char *detail, const char *name, char *buf, size_t size)
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
static bool ctl_foreign_explain(const struct dir_event *e, const char *ip, char *buf, size_t size)
{
	char cc[8], domain[DIR_DOMAIN_MAX + 1], home[8];
	bool smtp = strncmp(e->detail, "smtp ", 5) == 0;

	ctl_detail_field(e->detail, "country=", cc, sizeof(cc));
	ctl_detail_field(e->detail, "domain=", domain, sizeof(domain));
	ctl_detail_field(e->detail, "home=", home, sizeof(home));
	if (domain[0] == '\0')
		return false;
	snprintf(buf, size, "%s from %s (%s) refused by the foreign-access restriction of %s (logins"
		 " only from %s) — turn it off while abroad: yubinctl domain set %s %s off",
		 smtp ? "AUTH" : "A mail login", ip, strcmp(cc, "--") == 0 || cc[0] == '\0' ? "country unknown" : cc,
		 domain, home[0] ? home : settings_get(SETTING_FOREIGN_AUTH_COUNTRY)->def, domain,
		 settings_key(smtp ? SETTING_FOREIGN_AUTH : SETTING_FOREIGN_AUTH_MAIL));
	return true;
}

void ctl_event_explain(const struct dir_event *e, char *buf, size_t size)
{
	const char *t, *ip = e->ip[0] != '\0' ? e->ip : "yubinctl";
	size_t len = 0, i;
	char one[2] = "";

	if (strcmp(e->kind, "auth-foreign") == 0 && ctl_foreign_explain(e, ip, buf, size))
		return;
	for (i = 0; ctl_event_texts[i].kind != NULL; i++) {
		if (strcmp(ctl_event_texts[i].kind, e->kind) == 0)
			break;
	}
	t = ctl_event_texts[i].text;	/* the last entry fits any kind */
	buf[0] = '\0';
	for (; *t != '\0' && len + 1 < size; t++) {
		if (*t != '%' || t[1] == '\0') {
			one[0] = *t;
			ctl_append(buf, size, &len, one);
			continue;
		}
		switch (*++t) {
		case 'i': ctl_append(buf, size, &len, ip); break;
		case 'd': ctl_append(buf, size, &len, e->detail); break;
		case 'k': ctl_append(buf, size, &len, e->kind); break;
		case 'a': ctl_append(buf, size, &len, ctl_event_key(e->kind, false)); break;
		case 'b': ctl_append(buf, size, &len, ctl_event_key(e->kind, true)); break;
		case 'D':
			if (e->detail[0] != '\0') {
				ctl_append(buf, size, &len, " (");
				ctl_append(buf, size, &len, e->detail);
				ctl_append(buf, size, &len, ")");
			}
			break;
		default: one[0] = *t; ctl_append(buf, size, &len, one); break;
		}
	}
}

struct doctor {
	struct dir_event events[DOCTOR_EVENTS];
	unsigned nevents, problems, warnings;
};

static void doctor_event_cb(const struct dir_event *e, void *ctx)
{
	struct doctor *d = ctx;

	if (d->nevents < DOCTOR_EVENTS)
		d->events[d->nevents++] = *e;
}

static void doctor_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void doctor_line(struct doctor *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void doctor_ok(const char *fmt, ...)
{
	va_list ap;

	fputs("  ok    ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* level 1: a warning, 2: a problem. */
static void doctor_line(struct doctor *d, int level, const char *fmt, ...)
{
	va_list ap;

	fputs(level == 2 ? "  FAIL  " : "  WARN  ", stdout);
	if (level == 2)
		d->problems++;
	else
		d->warnings++;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

struct doctor_full {
	unsigned n;
	int64_t last;
};

static void doctor_full_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_full *f = ctx;

	if (f->n++ == 0)
		f->last = e->ts;	/* newest first */
}

/* A mailbox below its quota now may still have refused mail lately: the
 * sender got a bounce, and the user should know. */
static void doctor_recent_full(struct ctl *c, struct doctor *d, const struct dir_account *a,
			       const char *used)
{
	struct doctor_full f = { 0, 0 };
	char when[40];

	if (directory_event_since(c->dir, a->address, "rcpt-full", time(NULL) - DOCTOR_FULL_DAYS * 86400,
				  doctor_full_cb, &f) < 0 || f.n == 0)
		return;
	ctl_time_text(f.last, when, sizeof(when));
	doctor_line(d, 1, "the mailbox was full and refused mail %u time%s in the last %d days (last %s);"
		    " those senders got a bounce and must send again; it uses %s now", f.n,
		    f.n == 1 ? "" : "s", DOCTOR_FULL_DAYS, when, used);
}

static void doctor_account(struct ctl *c, struct doctor *d, const struct dir_account *a)
{
	char created[40], path[PATH_MAX], used[128];
	struct ctl_usage u;

	ctl_time_text(a->created, created, sizeof(created));
	doctor_ok("the account exists (created %s)", created);
	if (a->enabled)
		doctor_ok("the account is enabled");
	else
		doctor_line(d, 2, "the account is disabled: logins are refused (535) and mail to it is"
			    " rejected (550 5.2.1); enable it with yubinctl account enable %s", a->address);
	{
		char held[1024];

		if (ctl_abuse_suspended(c, a->address, held, sizeof(held)))
			doctor_line(d, 2, "%s", held);
	}
	{
		struct dir_account again;
		char hash[DIR_HASH_MAX];

		if (directory_account_get_auth(c->dir, a->address, &again, hash, sizeof(hash)) > 0 &&
		    !password_hash_is_known(hash))
			doctor_line(d, 2, "the stored password is in a format Yubin cannot check, so every"
				    " login fails; set a new one with yubinctl account passwd %s", a->address);
		explicit_bzero(hash, sizeof(hash));
	}
	if (maildir_path(path, sizeof(path), c->data, a->domain, a->local) < 0)
		path[0] = '\0';
	ctl_usage_get(c, a, &u);
	if (!u.present) {
		doctor_line(d, 2, "the mailbox directory %s is missing: deliveries to it fail; restore it"
			    " from a backup (or create it empty with cur/, new/ and tmp/)", path);
		return;
	}
	doctor_ok("the mailbox directory is present (%s)", path);
	ctl_usage_text(&u, used, sizeof(used));
	if (u.bytes >= u.quota_bytes)
		doctor_line(d, 2, "the mailbox is full: %s; new mail is refused (552 5.2.2) until mail"
			    " is deleted or the Trash emptied, or the quota is raised with yubinctl account"
			    " quota %s MB", used, a->address);
	else if (u.permille >= 900)
		doctor_line(d, 1, "the mailbox is nearly full: %s; delete mail or raise the quota soon",
			    used);
	else
		doctor_ok("the mailbox uses %s", used);
	if (u.bytes < u.quota_bytes)
		doctor_recent_full(c, d, a, used);
}

static void doctor_events(struct doctor *d, const char *address)
{
	char when[40], text[1200];
	unsigned auth_failures = 0;

	for (unsigned i = 0; i < d->nevents; i++) {
		if (strcmp(d->events[i].kind, "auth-failed") == 0)
			auth_failures++;
	}
	if (auth_failures >= DOCTOR_AUTH_FAILURES_WARN)
		doctor_line(d, 1, "%u of the last %u events are refused logins: a mail client may have an"
			    " old password saved, or someone is guessing", auth_failures, d->nevents);
	if (d->nevents == 0) {
		printf("\nno events recorded for %s\n", address);
		return;
	}
	printf("\nlast %u event%s for %s (newest first):\n", d->nevents, d->nevents == 1 ? "" : "s",
	       address);
	for (unsigned i = 0; i < d->nevents; i++) {
		ctl_time_text(d->events[i].ts, when, sizeof(when));
		ctl_event_explain(&d->events[i], text, sizeof(text));
		printf("  %s  %-17s %s\n", when, d->events[i].kind, text);
	}
}

int cmd_doctor(struct ctl *c)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1], address[DIR_ADDRESS_MAX + 1];
	struct doctor d;
	struct dir_domain dom;
	struct dir_account a;
	const char *error;
	int r;

	if (validate_address(c->argv[0], local, sizeof(local), domain, sizeof(domain), &error) < 0)
		return ctl_fail("'%s' is not a valid address: %s", c->argv[0], error);
	snprintf(address, sizeof(address), "%s@%s", local, domain);
	if (ctl_directory(c) == NULL)
		return 1;
	memset(&d, 0, sizeof(d));
	printf("doctor: %s\n", address);
	r = directory_domain_get(c->dir, domain, &dom);
	if (r < 0)
		return ctl_fail("cannot read the domain %s from the database", domain);
	if (r == 0) {
		doctor_line(&d, 2, "the domain %s is not hosted here: mail to it is refused as relaying"
			    " and logins fail; add it with yubinctl domain add %s", domain, domain);
	} else {
		doctor_ok("the domain %s is hosted here (%u account%s)", domain, dom.accounts,
			  dom.accounts == 1 ? "" : "s");
		r = directory_account_get(c->dir, address, &a);
		if (r < 0)
			return ctl_fail("cannot read the account %s from the database", address);
		if (r == 0)
			doctor_line(&d, 2, "there is no account %s: mail to it is refused (550 5.1.1) and"
				    " logins fail; create it with yubinctl account add %s", address, address);
		else
			doctor_account(c, &d, &a);
		{
			char sec[1024];
			int level = ctl_security_doctor(c, address, domain, sec, sizeof(sec));

			if (level == 0)
				doctor_ok("%s", sec);
			else if (level > 0)
				doctor_line(&d, level, "%s", sec);
		}
		explicit_bzero(&a, sizeof(a));
	}
	if (directory_event_list(c->dir, address, DOCTOR_EVENTS, doctor_event_cb, &d) < 0)
		ctl_warn("cannot read the events of %s", address);
	doctor_events(&d, address);
	if (d.problems == 0 && d.warnings == 0)
		printf("\nsummary: no problems found\n");
	else
		printf("\nsummary: %u problem%s, %u warning%s\n", d.problems, d.problems == 1 ? "" : "s",
		       d.warnings, d.warnings == 1 ? "" : "s");
	/* A FAIL makes the exit status 1, so scripts and monitoring see it. */
	return d.problems > 0 ? 1 : 0;
}
