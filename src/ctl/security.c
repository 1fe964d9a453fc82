/* yubinctl security list|unblock: the brute-force defence's blocked
 * addresses and slowed accounts. They live in the directory (auth_blocks),
 * which the daemon reads at every login, so an unblock applies to the
 * next login without a restart. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "directory/validate.h"
#include "lib/json.h"
#include "lib/str.h"
#include "policy/foreign.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

struct ctl_sec_list {
	struct json *j;
	unsigned n;
};

static void ctl_security_cb(const struct dir_auth_block *b, void *ctx)
{
	struct ctl_sec_list *l = ctx;
	char since[40], until[40];

	l->n++;
	if (l->j != NULL) {
		json_object_begin(l->j);
		json_kv_string(l->j, "key", b->key);
		json_kv_string(l->j, "kind", b->kind);
		json_kv_int(l->j, "since", b->since);
		json_kv_int(l->j, "until", b->until);
		json_kv_uint(l->j, "failures", b->failures);
		json_kv_string(l->j, "detail", b->detail);
		json_object_end(l->j);
		return;
	}
	ctl_time_text(b->since, since, sizeof(since));
	ctl_time_text(b->until, until, sizeof(until));
	printf("%-8s %-40s since %s until %s\n         %s\n",
	       strcmp(b->kind, "ip") == 0 ? "blocked" : "slowed", b->key, since, until, b->detail);
}

int cmd_security_list(struct ctl *c)
{
	struct ctl_sec_list l = { NULL, 0 };
	struct json j;

	if (ctl_directory(c) == NULL)
		return 1;
	if (c->json) {
		json_init(&j);
		l.j = &j;
		json_array_begin(&j);
	}
	if (directory_auth_block_list(c->dir, time(NULL), ctl_security_cb, &l) < 0) {
		if (c->json)
			json_free(&j);
		return ctl_fail("cannot read the blocks from the database");
	}
	if (c->json) {
		json_array_end(&j);
		return ctl_json_print(&j);
	}
	if (l.n == 0)
		printf("no blocked addresses or slowed accounts\n");
	return 0;
}

int cmd_security_unblock(struct ctl *c)
{
	char key[DIR_ADDRESS_MAX + 1];
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	bool removed;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_security_unblock(o, &actor, c->argv[0], key, &removed, &err) < 0)
		return ctl_ops_fail(&err);
	if (!removed)
		printf("%s is not blocked or slowed\n", key);
	else
		printf("%s unblocked: the next login is checked normally\n", key);
	return 0;
}

struct ctl_sec_doctor {
	struct ctl *c;
	int64_t now;
	char blocked_ip[64];
	int64_t blocked_until;
	char foreign_ip[64], foreign_detail[512];
};

static void ctl_sec_event_cb(const struct dir_event *e, void *ctx)
{
	struct ctl_sec_doctor *d = ctx;
	struct net_addr a;
	struct dir_auth_block b;
	char key[64];

	if (strcmp(e->kind, "auth-foreign") == 0 && d->foreign_ip[0] == '\0') {
		str_copy(d->foreign_ip, sizeof(d->foreign_ip), e->ip);
		str_copy(d->foreign_detail, sizeof(d->foreign_detail), e->detail);
		return;
	}
	if (d->blocked_ip[0] != '\0' || net_addr_parse(e->ip, &a) < 0)
		return;
	net_addr_block_key(&a, key, sizeof(key));
	if (directory_auth_block_get(d->c->dir, key, &b) > 0 && b.until > d->now &&
	    strcmp(b.kind, "ip") == 0) {
		str_copy(d->blocked_ip, sizeof(d->blocked_ip), key);
		d->blocked_until = b.until;
	}
}

int ctl_security_doctor(struct ctl *c, const char *address, const char *domain, char *text, size_t size)
{
	struct ctl_sec_doctor d;
	struct dir_auth_block b;
	struct settings_foreign f;
	char until[40];
	bool on, mail;

	/* the same decision as the daemon's login check (server/auth.c) */
	settings_foreign_get(c->dir, domain, &f);
	on = settings_foreign_applies(&f, "smtp");
	mail = settings_foreign_applies(&f, "imap");
	memset(&d, 0, sizeof(d));
	d.c = c;
	d.now = time(NULL);
	directory_event_since(c->dir, address, "auth-refused", d.now - 86400, ctl_sec_event_cb, &d);
	directory_event_since(c->dir, address, "auth-failed", d.now - 86400, ctl_sec_event_cb, &d);
	if (on)
		directory_event_since(c->dir, address, "auth-foreign", d.now - 86400, ctl_sec_event_cb, &d);
	if (d.blocked_ip[0] != '\0') {
		ctl_time_text(d.blocked_until, until, sizeof(until));
		snprintf(text, size, "logins from %s are blocked until %s after too many failed logins"
			 " (brute-force defence); if that is the user, fix the password saved in the mail"
			 " client, then run yubinctl security unblock %s", d.blocked_ip, until, d.blocked_ip);
		return 2;
	}
	if (d.foreign_ip[0] != '\0') {
		char cc[8] = "", *p = strstr(d.foreign_detail, "country=");

		if (p != NULL)
			str_copyn(cc, sizeof(cc), p + 8, strcspn(p + 8, " ,"));
		snprintf(text, size, "a login from %s (%s) was refused by the foreign-access restriction of"
			 " %s (logins only from %s) in the last 24 hours; if that was the user abroad, turn it"
			 " off while abroad: yubinctl domain set %s %s off",
			 d.foreign_ip, cc[0] ? cc : "?", domain, f.home, domain,
			 settings_key(SETTING_FOREIGN_AUTH));
		return 1;
	}
	if (directory_auth_block_get(c->dir, address, &b) > 0 && b.until > d.now) {
		snprintf(text, size, "many failed logins for this account (%s): logins from new addresses are"
			 " slowed (never blocked); yubinctl security unblock %s resets it", b.detail, address);
		return 1;
	}
	if (on)
		snprintf(text, size, "foreign-access restriction of %s: on (SMTP AUTH%s only from %s)", domain,
			 mail ? ", POP3 and IMAP" : "", f.home);
	else
		snprintf(text, size, "foreign-access restriction of %s: off (logins from any country)", domain);
	return 0;
}
