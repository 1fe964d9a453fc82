/* Doctor's answers from recorded events (issue 15 §4): can't send (port
 * 25, relaying without a login, sending limits, SMTP AUTH refusals),
 * recent refusals of mail to the account, the failed logins behind
 * password prompts, host names clients asked for that no certificate
 * covers, and strange bounces with the signs of a compromised account.
 * Each question reads its kinds of events newest first from an index
 * (directory_event_since), stopping at the window's start. */
#include "ops/ops_doctor.h"
#include "lib/str.h"
#include "policy/abuse.h"
#include "settings/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DOCTOR_IPS 16		/* client addresses remembered per account */
#define DOCTOR_GROUPS 5		/* failed-login / SNI lines shown at most */

/* ---- the account's client addresses ---- */

struct doctor_ips {
	char ip[DOCTOR_IPS][64];
	size_t n;
};

static void doctor_ips_add(struct doctor_ips *s, const char *ip)
{
	if (ip[0] == '\0' || s->n == DOCTOR_IPS)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->ip[i], ip) == 0)
			return;
	}
	str_copy(s->ip[s->n++], sizeof(s->ip[0]), ip);
}

static bool doctor_ips_has(const struct doctor_ips *s, const char *ip)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->ip[i], ip) == 0)
			return true;
	}
	return false;
}

static void doctor_ips_cb(const struct dir_event *e, void *ctx)
{
	doctor_ips_add(ctx, e->ip);
}

/* ---- counting events ---- */

struct doctor_count {
	const struct doctor_ips *only;	/* NULL: every client address */
	const char *prefix;		/* the detail starts so, or NULL */
	unsigned n, accepted;
	struct dir_event last;		/* the newest counted */
};

static void doctor_count_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_count *c = ctx;

	if (c->only != NULL && !doctor_ips_has(c->only, e->ip))
		return;
	if (c->prefix != NULL && strncmp(e->detail, c->prefix, strlen(c->prefix)) != 0)
		return;
	if (strstr(e->detail, " accepted") != NULL)
		c->accepted++;
	if (c->n++ == 0)
		c->last = *e;	/* newest first */
}

static void doctor_count(struct ops *o, const struct ops_doctor *d, const char *address, const char *kind,
			 struct doctor_count *c)
{
	directory_event_since(o->dir, address, kind, doctor_since(d), doctor_count_cb, c);
}

static const char *doctor_s(unsigned n)
{
	return n == 1 ? "" : "s";
}

/* ---- can't send ---- */

/* AUTH on port 25 (accepted or refused; without TLS under no address)
 * and relaying refused to a client address the account logged in from:
 * the mail client should submit on 587. */
static bool doctor_port25(struct ops *o, struct ops_doctor *d, const struct dir_account *a,
			  const struct doctor_ips *ips)
{
	struct doctor_count p25, notls, relay;
	struct ops_doctor_check *c;
	char when[40];
	bool found = false;

	memset(&p25, 0, sizeof(p25));
	memset(&notls, 0, sizeof(notls));
	memset(&relay, 0, sizeof(relay));
	notls.only = relay.only = ips;
	doctor_count(o, d, a->address, "auth-port25", &p25);
	/* the server-wide kinds only for the account's client addresses */
	if (ips->n > 0) {
		doctor_count(o, d, "", "auth-port25", &notls);
		doctor_count(o, d, NULL, "relay-denied", &relay);
	}
	if (p25.n + notls.n > 0) {
		const struct dir_event *e = p25.n > 0 ? &p25.last : &notls.last;

		ops_time_text(e->ts, when, sizeof(when));
		c = doctor_add(d, OPS_DOCTOR_WARN, "the mail client sends through port 25 (%u time%s in the last %u"
			       " day%s, last from %s on %s: %s); many networks block port 25 (OP25B), so sending"
			       " fails away from home: set the outgoing (SMTP) server to port 587 with STARTTLS"
			       " (or 465 with SSL/TLS), with authentication and %s as the user name",
			       "メールソフトがポート 25 で送信しています (直近 %u 回%.0s (%u 日以内%.0s)、最後は %s から"
			       " %s: %s)。多くのネットワークはポート 25 を遮断している (OP25B) ため、外出先で送信できません。"
			       "送信 (SMTP) サーバーをポート 587 の STARTTLS (または 465 の SSL/TLS) にし、認証を有効にして"
			       "ユーザー名を %s にしてください",
			       p25.n + notls.n, doctor_s(p25.n + notls.n), d->days, doctor_s(d->days), e->ip, when,
			       e->detail, a->address);
		doctor_fix(c, "client:smtp-port=587", NULL);
		found = true;
	}
	if (relay.n > 0) {
		ops_time_text(relay.last.ts, when, sizeof(when));
		c = doctor_add(d, OPS_DOCTOR_WARN, "a mail client at %s, where %s logged in, tried to send to other"
			       " domains without logging in and was refused %u time%s (relay denied, last %s):"
			       " turn on \"outgoing server requires authentication\" with %s as the user name,"
			       " on port 587",
			       "%s (%s がログインした場所) のメールソフトがログインせずに他のドメインへ送ろうとして %u 回%.0s"
			       "拒否されました (中継拒否、最後は %s)。送信サーバーの「認証が必要」をオンにし、ユーザー名を"
			       " %s、ポートを 587 にしてください",
			       relay.last.ip, a->address, relay.n, doctor_s(relay.n), when, a->address);
		doctor_fix(c, "client:smtp-auth=on", NULL);
		found = true;
	}
	return found;
}

/* "Hourly sending limit reached: a@b may send to 100 recipients per
 * hour; ..." → the setting and its number, doubled as the fix. */
static bool doctor_limits(struct ops *o, struct ops_doctor *d, const struct dir_account *a)
{
	struct doctor_count lim;
	struct ops_doctor_check *c;
	const char *p, *key;
	unsigned long long n = 0;
	char when[40];

	memset(&lim, 0, sizeof(lim));
	doctor_count(o, d, a->address, "send-limited", &lim);
	if (lim.n == 0)
		return false;
	ops_time_text(lim.last.ts, when, sizeof(when));
	key = settings_key(strncasecmp(lim.last.detail, "Daily", 5) == 0 ? SETTING_SEND_LIMIT_DAY
									 : SETTING_SEND_LIMIT_HOUR);
	if ((p = strstr(lim.last.detail, "may send to ")) != NULL)
		n = strtoull(p + 12, NULL, 10);
	c = doctor_add(d, OPS_DOCTOR_WARN, "the sending limit stopped mail %u time%s in the last %u day%s (last %s:"
		       " %s); recipients got 451 4.7.1 and the client retries later; if the sending is wanted,"
		       " raise %s",
		       "送信数の上限で %u 回%.0s送信が止まりました (%u 日以内%.0s、最後は %s: %s)。宛先は 451 4.7.1"
		       " で拒否され、メールソフトは後で再送します。必要な送信であれば %s を引き上げてください",
		       lim.n, doctor_s(lim.n), d->days, doctor_s(d->days), when, lim.last.detail, key);
	if (n > 0)
		doctor_fix(c, key, "yubinctl account set %s %s %llu", a->address, key, n * 2);
	else
		doctor_fix(c, key, "yubinctl account set %s %s unlimited", a->address, key);
	return true;
}

/* SMTP AUTH refused for the account: the outgoing server's saved login. */
static bool doctor_smtp_auth(struct ops *o, struct ops_doctor *d, const struct dir_account *a)
{
	struct doctor_count f = { .prefix = "smtp " };
	char when[40];
	const char *why;

	doctor_count(o, d, a->address, "auth-failed", &f);
	if (f.n == 0)
		return false;
	ops_time_text(f.last.ts, when, sizeof(when));
	why = strstr(f.last.detail, ": ");
	why = why != NULL ? why + 2 : f.last.detail;
	doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "SMTP AUTH (sending) was refused %u time%s in the last %u day%s"
			      " (last from %s, %s: %s): enter %s and its current password as the outgoing"
			      " server's login, or set a new password",
			      "SMTP 認証 (送信) が %u 回%.0s拒否されました (%u 日以内%.0s、最後は %s から %s: %s)。"
			      "送信サーバーのログインに %s と現在のパスワードを入れるか、新しいパスワードを設定して"
			      "ください",
			      f.n, doctor_s(f.n), d->days, doctor_s(d->days), f.last.ip, when, why, a->address),
		   "password", "yubinctl account passwd %s", a->address);
	return true;
}

void doctor_send(struct ops *o, struct ops_doctor *d, const struct dir_account *a)
{
	struct doctor_ips ips;
	bool found;

	memset(&ips, 0, sizeof(ips));
	directory_event_since(o->dir, a->address, "auth-ok", doctor_since(d), doctor_ips_cb, &ips);
	directory_event_since(o->dir, a->address, "auth-port25", doctor_since(d), doctor_ips_cb, &ips);
	d->group = OPS_DQ_SEND;
	found = doctor_port25(o, d, a, &ips);
	found |= doctor_limits(o, d, a);
	found |= doctor_smtp_auth(o, d, a);
	if (!found)
		doctor_add(d, OPS_DOCTOR_OK, "no sending problem recorded for %s in the last %u day%s (port 25,"
			   " sending without logging in, sending limits, SMTP AUTH refusals)",
			   "直近 %.0s%u 日%.0sに送信の問題の記録はありません (ポート 25、ログインなしの送信、送信数の"
			   "上限、SMTP 認証の拒否)", a->address, d->days, doctor_s(d->days));
}

/* ---- can't receive: recent refusals of mail to the account ---- */

void doctor_rejections(struct ops *o, struct ops_doctor *d, const char *address)
{
	static const struct {
		const char *kind;
		int setting;	/* a setting_id, or -1: the quota, or none */
	} kinds[] = {
		{ "rcpt-rejected", SETTING_ENABLED }, { "rcpt-full", -1 }, { "dmarc-reject", SETTING_INBOUND_DMARC },
		{ "virus-refused", SETTING_COUNT },
	};
	char when[40], en[1000], ja[1500];
	bool found = false;

	d->group = OPS_DQ_RECEIVE;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct doctor_count c;
		struct ops_doctor_check *f;

		memset(&c, 0, sizeof(c));
		doctor_count(o, d, address, kinds[i].kind, &c);
		if (c.n == 0)
			continue;
		found = true;
		ops_time_text(c.last.ts, when, sizeof(when));
		ops_event_explain(&c.last, en, sizeof(en));
		ops_event_explain_ja(&c.last, ja, sizeof(ja));
		f = doctor_add(d, OPS_DOCTOR_WARN, "mail to %s was refused %u time%s in the last %u day%s (%s), last"
			       " %s: %s", "直近 %.0s%u 回%.0s (%u 日以内%.0s)、宛てのメールを拒否しました (%s)。最後は"
			       " %s: %s", address, c.n, doctor_s(c.n), d->days, doctor_s(d->days), kinds[i].kind,
			       when, en);
		snprintf(f->ja, sizeof(f->ja), "直近 %u 日以内に %s 宛てのメールを %u 回拒否しました (%s)。最後は %s: %s",
			 d->days, address, c.n, kinds[i].kind, when, ja);
		doctor_fix(f, kinds[i].setting < 0 ? "quota" : settings_key((enum setting_id)kinds[i].setting), NULL);
	}
	if (!found)
		doctor_add(d, OPS_DOCTOR_OK, "no mail to %s was refused in the last %u day%s",
			   "直近 %.0s%u 日%.0sに宛てのメールを拒否した記録はありません", address, d->days,
			   doctor_s(d->days));
}

/* ---- password prompts: failed logins by client address ---- */

struct doctor_login {
	char ip[64], login[DIR_ADDRESS_MAX + 1], service[16], reason[80];
	unsigned n;
	int64_t last;
};

struct doctor_logins {
	struct doctor_login g[DOCTOR_GROUPS];
	size_t n;
	unsigned total, more;
};

static void doctor_login_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_logins *l = ctx;
	char service[16];
	const char *why;
	size_t i;

	if (strstr(e->detail, "login name is not a full address") != NULL)
		return;		/* doctor_bare_logins' */
	str_copyn(service, sizeof(service), e->detail, strcspn(e->detail, " "));
	l->total++;
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->g[i].ip, e->ip) == 0 && strcmp(l->g[i].login, e->address) == 0 &&
		    strcmp(l->g[i].service, service) == 0) {
			l->g[i].n++;
			return;
		}
	}
	if (l->n == DOCTOR_GROUPS) {
		l->more++;
		return;
	}
	memset(&l->g[i], 0, sizeof(l->g[i]));
	str_copy(l->g[i].ip, sizeof(l->g[i].ip), e->ip);
	str_copy(l->g[i].login, sizeof(l->g[i].login), e->address);
	str_copy(l->g[i].service, sizeof(l->g[i].service), service);
	why = strstr(e->detail, ": ");
	str_copy(l->g[i].reason, sizeof(l->g[i].reason), why != NULL ? why + 2 : e->detail);
	l->g[i].n = 1;
	l->g[i].last = e->ts;	/* newest first */
	l->n++;
}

void doctor_password(struct ops *o, struct ops_doctor *d, const struct dir_account *a)
{
	struct doctor_logins l;
	char when[40];

	memset(&l, 0, sizeof(l));
	directory_event_since(o->dir, a->address, "auth-failed", doctor_since(d), doctor_login_cb, &l);
	d->group = OPS_DQ_PASSWORD;
	for (size_t i = 0; i < l.n; i++) {
		const struct doctor_login *g = &l.g[i];

		ops_time_text(g->last, when, sizeof(when));
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "%s: %u failed login%s as %s over %s (%s), last %s: the mail"
				      " client there has a wrong password saved; enter the current one, or set a"
				      " new one",
				      "%s: %u 回%.0s、%s として %s でログインに失敗 (%s)、最後は %s。そこのメールソフトに"
				      "保存されたパスワードが誤っています。現在のパスワードを入れ直すか、新しいパスワードを"
				      "設定してください", g->ip, g->n, doctor_s(g->n), g->login, g->service, g->reason, when),
			   "password", "yubinctl account passwd %s", a->address);
	}
	if (l.more > 0)
		doctor_add(d, OPS_DOCTOR_WARN, "%u more failed login%s from other client addresses",
			   "ほかのアドレスからのログイン失敗がさらに %u 件%.0sあります", l.more, doctor_s(l.more));
	if (l.total == 0)
		doctor_add(d, OPS_DOCTOR_OK, "no failed login as %s in the last %u day%s",
			   "直近 %.0s%u 日%.0sに、このアドレスでのログイン失敗はありません", a->address, d->days,
			   doctor_s(d->days));
}

/* ---- certificate warnings: host names no certificate covers ---- */

struct doctor_sni {
	const char *domain;
	struct {
		char name[DIR_DOMAIN_MAX + 1], service[16], ip[64];
		unsigned n;
		int64_t last;
	} g[DOCTOR_GROUPS];
	size_t n;
};

/* Is name the domain or a name under it? */
static bool doctor_in_domain(const char *name, const char *domain)
{
	size_t ln = strlen(name), ld = strlen(domain);

	if (ln == ld)
		return strcasecmp(name, domain) == 0;
	return ln > ld && name[ln - ld - 1] == '.' && strcasecmp(name + ln - ld, domain) == 0;
}

static void doctor_sni_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_sni *s = ctx;
	char name[DIR_DOMAIN_MAX + 1];
	const char *sp = strchr(e->detail, ' ');
	size_t i;

	/* detail: "NAME SERVICE" */
	if (str_copyn(name, sizeof(name), e->detail, sp != NULL ? (size_t)(sp - e->detail) : strlen(e->detail)) < 0 ||
	    !doctor_in_domain(name, s->domain))
		return;
	for (i = 0; i < s->n; i++) {
		if (strcasecmp(s->g[i].name, name) == 0) {
			s->g[i].n++;
			return;
		}
	}
	if (s->n == DOCTOR_GROUPS)
		return;
	str_copy(s->g[i].name, sizeof(s->g[i].name), name);
	str_copy(s->g[i].service, sizeof(s->g[i].service), sp != NULL ? sp + 1 : "?");
	str_copy(s->g[i].ip, sizeof(s->g[i].ip), e->ip);
	s->g[i].n = 1;
	s->g[i].last = e->ts;
	s->n++;
}

static void doctor_latest_cb(const struct dir_event *e, void *ctx)
{
	struct dir_event *latest = ctx;

	if (latest->ts == 0)
		*latest = *e;	/* newest first */
}

/* The domain's latest certificate failure of each kind in the window,
 * in the event's own words, with the command that shows the name. */
static void doctor_cert_events(struct ops *o, struct ops_doctor *d, const char *domain)
{
	static const char *const kinds[] = { "cert-failed", "cert-dns-elsewhere" };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct dir_event e = { 0 };
		char en[1200], ja[1200], name[256];
		struct ops_doctor_check *c;

		directory_event_since(o->dir, domain, kinds[k], doctor_since(d), doctor_latest_cb, &e);
		if (e.ts == 0)
			continue;
		ops_event_explain(&e, en, sizeof(en));
		ops_event_explain_ja(&e, ja, sizeof(ja));
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(e.detail, ": "), e.detail);
		c = doctor_add(d, OPS_DOCTOR_WARN, "%s%.0s", "%.0s%s", en, ja);
		doctor_fix(c, NULL, "yubinctl cert show %s", name);
	}
}

void doctor_cert(struct ops *o, struct ops_doctor *d, const char *domain, const char *hostname)
{
	struct doctor_sni s;
	char when[40];

	memset(&s, 0, sizeof(s));
	s.domain = domain;
	directory_event_since(o->dir, NULL, "tls-sni-unknown", doctor_since(d), doctor_sni_cb, &s);
	d->group = OPS_DQ_CERT;
	if (hostname == NULL || hostname[0] == '\0')
		hostname = "the server's host name";
	for (size_t i = 0; i < s.n; i++) {
		ops_time_text(s.g[i].last, when, sizeof(when));
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "mail clients asked for %s (over %s, %u time%s, last from %s"
				      " %s) but no certificate covers that name, so they warn about the certificate:"
				      " set the client's server name to %s, or point %s at this server so a"
				      " certificate is issued for it (yubinctl cert list shows the names covered)",
				      "メールソフトが %s を求めました (%s、%u 回%.0s、最後は %s から %s) が、その名前の"
				      "証明書がないため証明書の警告が出ます。メールソフトのサーバー名を %s にするか、%s を"
				      "このサーバーに向けて証明書を発行させてください (yubinctl cert list で対象の名前を"
				      "確認できます)", s.g[i].name, s.g[i].service, s.g[i].n, doctor_s(s.g[i].n),
				      s.g[i].ip, when, hostname, s.g[i].name),
			   "client:server-name", "yubinctl cert list");
	}
	doctor_cert_events(o, d, domain);
	if (s.n == 0)
		doctor_add(d, OPS_DOCTOR_OK, "no mail client asked for a name of %s that no certificate covers in the"
			   " last %u day%s (clients should use %s)",
			   "%s について、直近 %u 日%.0sに証明書のない名前を求めたメールソフトはありません (サーバー名は %s)",
			   domain, d->days, doctor_s(d->days), hostname);
}

/* ---- strange bounces and signs of a compromised account ---- */

struct doctor_countries {
	char cc[8][3];
	size_t n;
};

static void doctor_country_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_countries *c = ctx;
	char cc[3];

	if (!abuse_detail_country(e->detail, cc) || c->n == 8)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->cc[i], cc) == 0)
			return;
	}
	memcpy(c->cc[c->n++], cc, 3);
}

static void doctor_compromise(struct ops *o, struct ops_doctor *d, const struct dir_account *a)
{
	struct doctor_countries cc;
	struct doctor_count susp;
	char list[40] = "";
	size_t len = 0;

	memset(&cc, 0, sizeof(cc));
	memset(&susp, 0, sizeof(susp));
	directory_event_since(o->dir, a->address, "auth-ok", doctor_since(d), doctor_country_cb, &cc);
	doctor_count(o, d, a->address, "send-suspended", &susp);
	for (size_t i = 0; i < cc.n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i > 0 ? ", " : "", cc.cc[i]);
	if (cc.n < 2 && susp.n == 0) {
		doctor_add(d, OPS_DOCTOR_OK, "no sign that someone else uses %s (logins from %s%.0s, no suspension)",
			   "%s を他人が使っている兆候はありません (ログイン元 %.0s%s、送信停止なし)", a->address,
			   cc.n > 0 ? list : "no known country", cc.n > 0 ? list : "国の記録なし");
		return;
	}
	doctor_fix(doctor_add(d, OPS_DOCTOR_WARN,
			      "signs that someone else uses %s: logins from %zu countr%s (%s)%s%.0s; change the"
			      " password now and check the password saved in each mail client",
			      "%s を他人が使っている兆候があります: %zu か国%.0sからのログイン (%s)%.0s%s。すぐにパスワードを"
			      "変更し、すべてのメールソフトに保存されたパスワードを確認してください",
			      a->address, cc.n, cc.n == 1 ? "y" : "ies", cc.n > 0 ? list : "-",
			      susp.n > 0 ? ", and sending was suspended as compromised" : "",
			      susp.n > 0 ? "、乗っ取りの疑いで送信を停止しました" : ""),
		   "password", "yubinctl account passwd %s", a->address);
}

void doctor_bounces(struct ops *o, struct ops_doctor *d, const struct dir_account *a)
{
	struct doctor_count batv, dsn = { .prefix = "from <>" };
	bool on = settings_domain_bool(o->dir, a->domain, SETTING_BATV);
	char when[40];

	memset(&batv, 0, sizeof(batv));
	doctor_count(o, d, a->address, "batv-refused", &batv);
	doctor_count(o, d, a->address, "delivered", &dsn);
	d->group = OPS_DQ_BOUNCES;
	if (batv.n > 0) {
		ops_time_text(batv.last.ts, when, sizeof(when));
		doctor_add(d, OPS_DOCTOR_OK, "%u bounce%s for mail %s did not send %s refused by BATV (last from %s %s):"
			   " someone forges the address as the sender of their mail; those bounces never reached the"
			   " mailbox, and the password is not involved",
			   "%u 件%.0s、%s が送っていないメールへのエラーメールを BATV で拒否しました%.0s (最後は %s"
			   " から %s)。誰かがこのアドレスを送信者に偽装しています。そのエラーメールはメールボックスに"
			   "届いておらず、パスワードとは関係ありません",
			   batv.n, doctor_s(batv.n), a->address, batv.n == 1 ? "was" : "were", batv.last.ip, when);
	}
	if (dsn.n > 0 && !on)
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "%u bounce%s (delivery reports) reached the mailbox in the last"
				      " %u day%s; if they answer mail %s did not send, someone forges the address:"
				      " turn on BATV so such bounces are refused",
				      "直近 %u 件%.0s (%u 日以内%.0s) のエラーメール (配送通知) がメールボックスに届きました。"
				      "%s が送っていないメールへのものなら、誰かがアドレスを偽装しています。BATV をオンにすると"
				      "そうしたエラーメールを拒否します", dsn.n, doctor_s(dsn.n), d->days,
				      doctor_s(d->days), a->address),
			   settings_key(SETTING_BATV), "yubinctl domain set %s %s on", a->domain,
			   settings_key(SETTING_BATV));
	else if (dsn.n > 0)
		doctor_add(d, OPS_DOCTOR_OK, "%u bounce%s reached the mailbox in the last %u day%s, each checked by BATV:"
			   " they answer mail sent from %s",
			   "直近 %u 件%.0s (%u 日以内%.0s) のエラーメールが届きました。BATV で確認済みで、%s から送った"
			   "メールへの返信です", dsn.n, doctor_s(dsn.n), d->days, doctor_s(d->days), a->address);
	else if (batv.n == 0)
		doctor_add(d, OPS_DOCTOR_OK, "no bounce reached or was refused for %s in the last %u day%s (BATV %s)",
			   "%s: 直近 %u 日%.0sにエラーメールはありません (BATV %s)", a->address, d->days,
			   doctor_s(d->days), on ? "on" : "off");
	doctor_compromise(o, d, a);
}
