/* Doctor for an address: the questions of a hosting service's support
 * page (issue 15 §4: can't send, can't receive, mailbox full, [SPAM],
 * password prompts, certificate warnings, strange bounces), each answered
 * by findings with a level, one line of cause and fix in English and
 * Japanese, and the fix as a yubinctl command and a setting; then the
 * address's recent history in plain sentences. Here: adding findings, the
 * account, mailbox, login and spam checks, and the order of it all; the
 * answers from events are in ops_doctor_events.c, the live checks (DNS,
 * the messages) in ops_doctor_live.c. yubinctl doctor prints the result;
 * the API and the panel show it. */
#include "ops/ops_doctor.h"
#include "directory/password.h"
#include "directory/validate.h"
#include "lib/str.h"
#include "policy/foreign.h"
#include "settings/settings.h"
#include "store/maildir.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DOCTOR_AUTH_FAILURES_WARN 3
#define MIB DOCTOR_MIB

static const struct {
	const char *id, *en, *ja;
} doctor_groups[OPS_DQ_COUNT] = {
	[OPS_DQ_SEND] = { "send", "Can't send mail", "メールを送信できない" },
	[OPS_DQ_RECEIVE] = { "receive", "Can't receive mail", "メールを受信できない" },
	[OPS_DQ_FULL] = { "full", "Mailbox full", "メールボックスがいっぱい" },
	[OPS_DQ_SPAM] = { "spam", "\"[SPAM]\" in subjects", "件名に「[SPAM]」が付く" },
	[OPS_DQ_PASSWORD] = { "password", "The mail client asks for the password again",
			      "メールソフトがパスワードを何度も求める" },
	[OPS_DQ_CERT] = { "certificate", "Certificate warnings", "証明書の警告が出る" },
	[OPS_DQ_BOUNCES] = { "bounces", "Strange bounces", "身に覚えのないエラーメールが届く" },
	[OPS_DQ_FILTER] = { "filters", "Where mail went: sorting rules, Sieve and the auto-reply",
			    "振り分けルール・Sieve・自動応答でメールがどうなったか" },
};

const char *ops_doctor_group_id(enum ops_doctor_group g)
{
	return (unsigned)g < OPS_DQ_COUNT ? doctor_groups[g].id : "";
}

const char *ops_doctor_group_title(enum ops_doctor_group g, bool ja)
{
	if ((unsigned)g >= OPS_DQ_COUNT)
		return "";
	return ja ? doctor_groups[g].ja : doctor_groups[g].en;
}

struct ops_doctor_check *doctor_add(struct ops_doctor *d, enum ops_doctor_level level, const char *fmt,
				    const char *ja_fmt, ...)
{
	struct ops_doctor_check *c;
	va_list ap;

	if (level == OPS_DOCTOR_FAIL)
		d->problems++;
	else if (level == OPS_DOCTOR_WARN)
		d->warnings++;
	c = d->nchecks < OPS_DOCTOR_CHECKS ? &d->checks[d->nchecks++] : &d->spare;
	memset(c, 0, sizeof(*c));
	c->level = level;
	c->group = d->group;
	va_start(ap, ja_fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	va_start(ap, ja_fmt);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(c->ja, sizeof(c->ja), ja_fmt, ap);
#pragma GCC diagnostic pop
	va_end(ap);
	return c;
}

void doctor_fix(struct ops_doctor_check *c, const char *setting, const char *cmd_fmt, ...)
{
	va_list ap;

	str_copy(c->setting, sizeof(c->setting), setting != NULL ? setting : "");
	c->command[0] = '\0';
	if (cmd_fmt == NULL)
		return;
	va_start(ap, cmd_fmt);
	vsnprintf(c->command, sizeof(c->command), cmd_fmt, ap);
	va_end(ap);
}

int64_t doctor_since(const struct ops_doctor *d)
{
	return (int64_t)time(NULL) - (int64_t)d->days * 86400;
}

struct doctor_usage {
	bool present;
	uint64_t bytes, messages, quota_bytes, permille;
};

static void doctor_usage_get(struct ops *o, const struct dir_account *a, struct doctor_usage *u)
{
	char path[PATH_MAX];
	struct stat st;

	memset(u, 0, sizeof(*u));
	u->quota_bytes = (uint64_t)a->quota_mb * MIB;
	if (maildir_path(path, sizeof(path), o->data, a->domain, a->local) < 0 || stat(path, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return;
	u->present = true;
	(void)maildir_usage(path, &u->bytes, &u->messages);	/* a lower bound when a part is unreadable */
	if (u->quota_bytes > 0)
		u->permille = u->bytes * 1000 / u->quota_bytes;
}

/* "8.5 MB of 10 MB (85.8%), 1 message"; ja: "10 MB 中 8.5 MB (85.8%)、1 通" */
static void doctor_usage_text(const struct doctor_usage *u, bool ja, char *buf, size_t size)
{
	unsigned long long tenths = u->bytes * 10 / MIB, quota = u->quota_bytes / MIB;

	if (ja)
		snprintf(buf, size, "%llu MB 中 %llu.%llu MB (%llu.%llu%%)、%llu 通", quota, tenths / 10, tenths % 10,
			 (unsigned long long)(u->permille / 10), (unsigned long long)(u->permille % 10),
			 (unsigned long long)u->messages);
	else
		snprintf(buf, size, "%llu.%llu MB of %llu MB (%llu.%llu%%), %llu message%s", tenths / 10, tenths % 10,
			 quota, (unsigned long long)(u->permille / 10), (unsigned long long)(u->permille % 10),
			 (unsigned long long)u->messages, u->messages == 1 ? "" : "s");
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
static void doctor_recent_full(struct ops *o, struct ops_doctor *d, const struct dir_account *a, const char *used,
			       const char *used_ja)
{
	struct doctor_full f = { 0, 0 };
	struct ops_doctor_check *c;
	char when[40];

	if (directory_event_since(o->dir, a->address, "rcpt-full", time(NULL) - (int64_t)d->days * 86400,
				  doctor_full_cb, &f) < 0 || f.n == 0)
		return;
	ops_time_text(f.last, when, sizeof(when));
	d->group = OPS_DQ_FULL;
	c = doctor_add(d, OPS_DOCTOR_WARN, "the mailbox was full and refused mail %u time%s in the last %u day%s"
		   " (last %s); those senders got a bounce and must send again; it uses %s now%.0s",
		   "直近 %u 回%.0s (%u 日以内%.0s、最後は %s)、メールボックスが満杯でメールを拒否しました。送信者には"
		   "エラーメールが届いており、送り直しが必要です%.0s。現在の使用量: %s", f.n,
		   f.n == 1 ? "" : "s", d->days, d->days == 1 ? "" : "s", when, used, used_ja);
	doctor_fix(c, "quota", "yubinctl account quota %s %u", a->address, a->quota_mb * 2);
}

static void doctor_suspended(struct ops *o, struct ops_doctor *d, const char *address)
{
	struct dir_hold hold;
	struct ops_doctor_check *c;
	char since[40];

	if (directory_hold_get(o->dir, address, &hold) <= 0 || hold.lifted != 0)
		return;
	ops_time_text(hold.since, since, sizeof(since));
	d->group = OPS_DQ_SEND;
	c = doctor_add(d, OPS_DOCTOR_FAIL, "sending is suspended since %s because of suspicious activity (%s: %s);"
		   " submission gets 550 5.7.1 while reading mail works; lift it with a password change"
		   " (yubinctl account passwd %s) or yubinctl account unsuspend %s",
		   "不審な動きのため %s から送信を停止中です (%s: %s)。送信は 550 5.7.1 で拒否されますが、メールの"
		   "読み出しはできます。パスワードの変更 (yubinctl account passwd %s) か yubinctl account unsuspend"
		   " %s で解除してください", since, hold.reason, hold.detail, address, address);
	doctor_fix(c, "password", "yubinctl account passwd %s", address);
}

/* ---- mailbox full: where the space goes ---- */

#define DOCTOR_TOP_FOLDERS 3

struct doctor_folder {
	char name[64];
	uint64_t bytes, count;
};

struct doctor_folders {
	struct doctor_folder top[DOCTOR_TOP_FOLDERS], trash, junk;
	size_t ntop;
};

static void doctor_folder_cb(const char *name, uint64_t bytes, uint64_t count, void *ctx)
{
	struct doctor_folders *f = ctx;
	struct doctor_folder x;
	size_t i;

	memset(&x, 0, sizeof(x));
	snprintf(x.name, sizeof(x.name), "%s", name[0] != '\0' ? name : "INBOX");
	x.bytes = bytes;
	x.count = count;
	if (strcmp(name, "Trash") == 0)
		f->trash = x;
	else if (strcmp(name, "Junk") == 0)
		f->junk = x;
	for (i = f->ntop; i > 0 && f->top[i - 1].bytes < bytes; i--)
		if (i < DOCTOR_TOP_FOLDERS)
			f->top[i] = f->top[i - 1];
	if (i < DOCTOR_TOP_FOLDERS) {
		f->top[i] = x;
		if (f->ntop < DOCTOR_TOP_FOLDERS)
			f->ntop++;
	}
}

/* "INBOX 3.2 MB (12), Sent 1.0 MB (4)": sizes in tenths of a MB, counts. */
static void doctor_folder_list(const struct doctor_folders *f, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->ntop && len < size; i++) {
		unsigned long long tenths = f->top[i].bytes * 10 / MIB;
		int n = snprintf(buf + len, size - len, "%s%s %llu.%llu MB (%llu)", i > 0 ? ", " : "",
				 f->top[i].name, tenths / 10, tenths % 10, (unsigned long long)f->top[i].count);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/* The biggest folders and what the Trash and Junk hold: what to delete
 * first when the mailbox fills up. A warning when they hold a tenth of
 * the quota or more, with the way to empty them. */
static void doctor_folders(struct ops_doctor *d, const char *path, const struct doctor_usage *u)
{
	struct doctor_folders f;
	struct ops_doctor_check *c;
	char list[400];
	unsigned long long trash, junk, both;

	memset(&f, 0, sizeof(f));
	if (maildir_folder_usage(path, doctor_folder_cb, &f) < 0 || f.ntop == 0)
		return;
	doctor_folder_list(&f, list, sizeof(list));
	trash = f.trash.bytes * 10 / MIB;
	junk = f.junk.bytes * 10 / MIB;
	both = f.trash.bytes + f.junk.bytes;
	c = doctor_add(d, u->quota_bytes > 0 && both * 10 >= u->quota_bytes ? OPS_DOCTOR_WARN : OPS_DOCTOR_OK,
		   "biggest folders: %s; the Trash holds %llu message%s (%llu.%llu MB) and Junk %llu (%llu.%llu MB):"
		   " emptying them in the mail client (or the webmail) frees that space",
		   "大きいフォルダ: %s。ゴミ箱に %llu 通%.0s (%llu.%llu MB)、迷惑メールに %llu 通 (%llu.%llu MB)"
		   " あります。メールソフト (またはウェブメール) で空にするとその分の容量が空きます",
		   list, (unsigned long long)f.trash.count, f.trash.count == 1 ? "" : "s", trash / 10, trash % 10,
		   (unsigned long long)f.junk.count, junk / 10, junk % 10);
	doctor_fix(c, settings_key(SETTING_TRASH_EXPIRE_DAYS), NULL);
}

static void doctor_account(struct ops *o, struct ops_doctor *d, const struct dir_account *a)
{
	char created[40], path[PATH_MAX], used[128], used_ja[128], hash[DIR_HASH_MAX];
	struct dir_account again;
	struct doctor_usage u;

	ops_time_text(a->created, created, sizeof(created));
	d->group = OPS_DQ_RECEIVE;
	doctor_add(d, OPS_DOCTOR_OK, "the account exists (created %s)", "アカウントがあります (%s 作成)", created);
	if (a->enabled)
		doctor_add(d, OPS_DOCTOR_OK, "the account is enabled", "アカウントは有効です");
	else
		doctor_fix(doctor_add(d, OPS_DOCTOR_FAIL, "the account is disabled: logins are refused (535) and mail to it"
			   " is rejected (550 5.2.1); enable it with yubinctl account enable %s",
			   "アカウントが無効です: ログインは拒否され (535)、宛てのメールは受け取りを拒否されます"
			   " (550 5.2.1)。yubinctl account enable %s で有効にしてください", a->address),
			   settings_key(SETTING_ENABLED), "yubinctl account enable %s", a->address);
	doctor_suspended(o, d, a->address);
	if (directory_account_get_auth(o->dir, a->address, &again, hash, sizeof(hash)) > 0 &&
	    !password_hash_is_known(hash)) {
		d->group = OPS_DQ_PASSWORD;
		doctor_fix(doctor_add(d, OPS_DOCTOR_FAIL, "the stored password is in a format Yubin cannot check, so every"
			   " login fails; set a new one with yubinctl account passwd %s",
			   "保存されたパスワードの形式を Yubin が確認できないため、ログインはすべて失敗します。"
			   "yubinctl account passwd %s で新しいパスワードを設定してください", a->address),
			   "password", "yubinctl account passwd %s", a->address);
	}
	d->group = OPS_DQ_RECEIVE;
	explicit_bzero(hash, sizeof(hash));
	if (maildir_path(path, sizeof(path), o->data, a->domain, a->local) < 0)
		path[0] = '\0';
	doctor_usage_get(o, a, &u);
	if (!u.present) {
		doctor_add(d, OPS_DOCTOR_FAIL, "the mailbox directory %s is missing: deliveries to it fail; restore"
			   " it from a backup (or create it empty with cur/, new/ and tmp/)",
			   "メールボックスのディレクトリ %s がないため配送に失敗します。バックアップから戻すか、"
			   "cur/・new/・tmp/ を持つ空のディレクトリを作ってください", path);
		return;
	}
	doctor_add(d, OPS_DOCTOR_OK, "the mailbox directory is present (%s)", "メールボックスのディレクトリがあります (%s)",
		   path);
	doctor_usage_text(&u, false, used, sizeof(used));
	doctor_usage_text(&u, true, used_ja, sizeof(used_ja));
	/* a full mailbox is why mail does not arrive: under can't receive */
	d->group = u.bytes >= u.quota_bytes ? OPS_DQ_RECEIVE : OPS_DQ_FULL;
	if (u.bytes >= u.quota_bytes)
		doctor_fix(doctor_add(d, OPS_DOCTOR_FAIL, "the mailbox is full: %s%.0s; new mail is refused (552 5.2.2) until mail"
			   " is deleted or the Trash emptied, or the quota is raised with yubinctl account"
			   " quota %s MB", "メールボックスが満杯です: %.0s%s。メールを削除するかゴミ箱を空にするか、"
			   "yubinctl account quota %s MB で容量を増やすまで、新しいメールは拒否されます (552 5.2.2)",
			   used, used_ja, a->address),
			   "quota", "yubinctl account quota %s %u", a->address, a->quota_mb * 2);
	else if (u.permille >= 900)
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "the mailbox is nearly full: %s%.0s; delete mail or raise"
				      " the quota soon",
				      "メールボックスがほぼ満杯です: %.0s%s。早めにメールを削除するか容量を増やしてください",
				      used, used_ja),
			   "quota", "yubinctl account quota %s %u", a->address, a->quota_mb * 2);
	else
		doctor_add(d, OPS_DOCTOR_OK, "the mailbox uses %s%.0s", "メールボックスの使用量: %.0s%s", used, used_ja);
	d->group = OPS_DQ_FULL;
	doctor_folders(d, path, &u);
	doctor_messages(o, d, a, path);
	if (u.bytes < u.quota_bytes)
		doctor_recent_full(o, d, a, used, used_ja);
}

/* ---- logins with the local part alone as the login name ---- */

#define DOCTOR_BARE_REASON "login name is not a full address"

struct doctor_bare {
	unsigned n;
	struct dir_event last;
};

static void doctor_bare_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_bare *b = ctx;

	if (strstr(e->detail, DOCTOR_BARE_REASON) == NULL)
		return;
	if (b->n++ == 0)
		b->last = *e;	/* newest first */
}

/* A client that logs in as "user" instead of "user@example.jp" asks for
 * the password again and again: server/auth.c records those refusals
 * under the bare name, so they are looked up by the local part. */
static void doctor_bare_logins(struct ops *o, struct ops_doctor *d, const struct dir_account *a)
{
	struct doctor_bare b;
	char when[40], service[16];
	size_t len;

	memset(&b, 0, sizeof(b));
	if (directory_event_since(o->dir, a->local, "auth-failed", time(NULL) - (int64_t)d->days * 86400,
				  doctor_bare_cb, &b) < 0 || b.n == 0)
		return;
	ops_time_text(b.last.ts, when, sizeof(when));
	d->group = OPS_DQ_PASSWORD;
	len = strcspn(b.last.detail, " ");
	snprintf(service, sizeof(service), "%.*s", (int)(len < sizeof(service) ? len : sizeof(service) - 1),
		 b.last.detail);
	doctor_add(d, OPS_DOCTOR_WARN, "%u login%s in the last %u day%s used the login name \"%s\" instead of the"
		   " full address (last from %s over %s, %s); set the mail client's login name (user name) to %s",
		   "直近 %u 回%.0s (%u 日以内%.0s)、ログイン名に \"%s\" が使われ、メールアドレス全体ではありませんでした"
		   " (最後は %s から %s、%s)。メールソフトのログイン名 (ユーザー名) を %s にしてください",
		   b.n, b.n == 1 ? "" : "s", d->days, d->days == 1 ? "" : "s", a->local, b.last.ip, service, when, a->address);
}

/* ---- logins: the foreign-access restriction and the brute-force defence ---- */

struct doctor_sec {
	struct ops *o;
	int64_t now;
	char blocked_ip[64];
	int64_t blocked_until;
	char foreign_ip[64], foreign_detail[512];
};

static void doctor_sec_event_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_sec *s = ctx;
	struct dir_auth_block b;
	struct net_addr a;
	char key[64];

	if (strcmp(e->kind, "auth-foreign") == 0 && s->foreign_ip[0] == '\0') {
		str_copy(s->foreign_ip, sizeof(s->foreign_ip), e->ip);
		str_copy(s->foreign_detail, sizeof(s->foreign_detail), e->detail);
		return;
	}
	if (s->blocked_ip[0] != '\0' || net_addr_parse(e->ip, &a) < 0)
		return;
	net_addr_block_key(&a, key, sizeof(key));
	if (directory_auth_block_get(s->o->dir, key, &b) > 0 && b.until > s->now && strcmp(b.kind, "ip") == 0) {
		str_copy(s->blocked_ip, sizeof(s->blocked_ip), key);
		s->blocked_until = b.until;
	}
}

/* Logins of address affected by the foreign-access restriction or the
 * brute-force defence, decided as the daemon's login check does
 * (server/auth.c). */
static void doctor_logins(struct ops *o, struct ops_doctor *d, const char *address, const char *domain)
{
	struct doctor_sec s;
	struct dir_auth_block b;
	struct settings_foreign f;
	char until[40];
	bool on, mail;

	settings_foreign_get(o->dir, domain, &f);
	on = settings_foreign_applies(&f, "smtp");
	mail = settings_foreign_applies(&f, "imap");
	memset(&s, 0, sizeof(s));
	s.o = o;
	s.now = time(NULL);
	directory_event_since(o->dir, address, "auth-refused", s.now - 86400, doctor_sec_event_cb, &s);
	directory_event_since(o->dir, address, "auth-failed", s.now - 86400, doctor_sec_event_cb, &s);
	if (on)
		directory_event_since(o->dir, address, "auth-foreign", s.now - 86400, doctor_sec_event_cb, &s);
	if (s.blocked_ip[0] != '\0') {
		ops_time_text(s.blocked_until, until, sizeof(until));
		d->group = OPS_DQ_PASSWORD;
		doctor_fix(doctor_add(d, OPS_DOCTOR_FAIL, "logins from %s are blocked until %s after too many failed logins"
			   " (brute-force defence); if that is the user, fix the password saved in the mail"
			   " client, then run yubinctl security unblock %s",
			   "%s からのログインは、失敗が多すぎたため %s までブロックされています (総当たり攻撃への防御)。"
			   "本人であれば、メールソフトに保存されたパスワードを直してから yubinctl security unblock %s"
			   " を実行してください", s.blocked_ip, until, s.blocked_ip),
			   "", "yubinctl security unblock %s", s.blocked_ip);
	} else if (s.foreign_ip[0] != '\0') {
		char cc[8] = "", *p = strstr(s.foreign_detail, "country=");

		if (p != NULL)
			str_copyn(cc, sizeof(cc), p + 8, strcspn(p + 8, " ,"));
		d->group = OPS_DQ_SEND;
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "a login from %s (%s) was refused by the foreign-access restriction"
			   " of %s (logins only from %s) in the last 24 hours; if that was the user abroad, turn"
			   " it off while abroad: yubinctl domain set %s %s off",
			   "直近 24 時間に %s (%s) からのログインが %s の海外アクセス制限 (%s からのログインのみ) で"
			   "拒否されました。本人が海外にいるのであれば、滞在中はオフにしてください: yubinctl domain set"
			   " %s %s off", s.foreign_ip, cc[0] ? cc : "?", domain, f.home, domain,
			   settings_key(SETTING_FOREIGN_AUTH)),
			   settings_key(SETTING_FOREIGN_AUTH), "yubinctl domain set %s %s off", domain,
			   settings_key(SETTING_FOREIGN_AUTH));
	} else if (directory_auth_block_get(o->dir, address, &b) > 0 && b.until > s.now) {
		d->group = OPS_DQ_PASSWORD;
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "many failed logins for this account (%s): logins from new addresses"
			   " are slowed (never blocked); yubinctl security unblock %s resets it",
			   "このアカウントへのログイン失敗が多数あります (%s): 新しいアドレスからのログインは遅くなります"
			   " (ブロックはされません)。yubinctl security unblock %s でリセットできます", b.detail, address),
			   "", "yubinctl security unblock %s", address);
	} else if (on) {
		d->group = OPS_DQ_SEND;
		doctor_add(d, OPS_DOCTOR_OK, "foreign-access restriction of %s: on (SMTP AUTH%s only from %s)",
			   mail ? "%s の海外アクセス制限: オン (SMTP AUTH と POP3・IMAP は%.0s %s からのみ)"
				: "%s の海外アクセス制限: オン (SMTP AUTH は%.0s %s からのみ)",
			   domain, mail ? ", POP3 and IMAP" : "", f.home);
	} else {
		d->group = OPS_DQ_SEND;
		doctor_add(d, OPS_DOCTOR_OK, "foreign-access restriction of %s: off (logins from any country)",
			   "%s の海外アクセス制限: オフ (どの国からでもログインできます)", domain);
	}
}

#define DOCTOR_SPAM_SHOWN 3

struct doctor_spam_seen {
	struct dir_event e[2 * DOCTOR_SPAM_SHOWN];
	unsigned n;
};

/* Keeps the newest DOCTOR_SPAM_SHOWN of each kind (each comes newest first). */
static void doctor_spam_seen_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_spam_seen *sp = ctx;

	if (sp->n < 2 * DOCTOR_SPAM_SHOWN)
		sp->e[sp->n++] = *e;
}

static void doctor_spam_one(struct ops_doctor *d, const struct dir_event *e)
{
	struct ops_doctor_check *c;
	char when[32], en[1100], ja[1700], sender[DIR_ADDRESS_MAX + 1] = "*";
	const char *from = strstr(e->detail, ", from <");
	struct tm tm;
	time_t t = (time_t)e->ts;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	ops_event_explain(e, en, sizeof(en));
	ops_event_explain_ja(e, ja, sizeof(ja));
	c = doctor_add(d, OPS_DOCTOR_WARN, "%s: %s", "%s: %s", when, en);
	snprintf(c->ja, sizeof(c->ja), "%s: %s", when, ja);
	if (from != NULL && from[8] != '>')
		str_copyn(sender, sizeof(sender), from + 8, strcspn(from + 8, ">"));
	doctor_fix(c, "allow", "yubinctl spam allow add %s %s", e->address, sender);
}

/* The newest DOCTOR_SPAM_SHOWN tagged or deleted in the window, newest
 * first; how many there were. */
static unsigned doctor_spam_events(struct ops *o, struct ops_doctor *d)
{
	struct doctor_spam_seen *sp = calloc(1, sizeof(*sp));
	unsigned shown = 0, n;
	size_t tagged;

	if (sp == NULL)
		return 0;
	directory_event_since(o->dir, d->address, "spam-tagged", doctor_since(d), doctor_spam_seen_cb, sp);
	if (sp->n > DOCTOR_SPAM_SHOWN)
		sp->n = DOCTOR_SPAM_SHOWN;
	tagged = sp->n;
	directory_event_since(o->dir, d->address, "spam-deleted", doctor_since(d), doctor_spam_seen_cb, sp);
	n = sp->n;
	/* merge the two newest-first runs [0, tagged) and [tagged, n) */
	for (size_t i = 0, k = tagged; shown < DOCTOR_SPAM_SHOWN && (i < tagged || k < n); shown++) {
		if (k >= n || (i < tagged && sp->e[i].id > sp->e[k].id))
			doctor_spam_one(d, &sp->e[i++]);
		else
			doctor_spam_one(d, &sp->e[k++]);
	}
	free(sp);
	return shown;
}

/* The spam filter as it applies to the account, then its last messages
 * tagged [SPAM] in the window with the reason and the two ways out (the
 * sender on the allow list, or the filter off). */
static void doctor_spam(struct ops *o, struct ops_doctor *d)
{
	char level[16], action[16];

	d->group = OPS_DQ_SPAM;
	if (!settings_account_bool(o->dir, d->address, SETTING_SPAM)) {
		doctor_fix(doctor_add(d, OPS_DOCTOR_OK, "spam filter: off (%s off): mail from outside is not checked,"
				      " so nothing is tagged [SPAM] here; a [SPAM] in a subject was put there"
				      " before the mail arrived",
				      "迷惑メールフィルタ: オフ (%s off): 外部からのメールは判定しないため、ここで [SPAM]"
				      " は付きません。件名の [SPAM] は届く前に付けられたものです",
				      settings_key(SETTING_SPAM)),
			   settings_key(SETTING_SPAM), "yubinctl account set %s %s on", d->address,
			   settings_key(SETTING_SPAM));
		return;
	}
	settings_account_string(o->dir, d->address, SETTING_SPAM_LEVEL, level, sizeof(level));
	settings_account_string(o->dir, d->address, SETTING_SPAM_ACTION, action, sizeof(action));
	doctor_add(d, OPS_DOCTOR_OK, "spam filter: on, level %s of 1-6, detected spam is tagged [SPAM]%s%s",
		   "迷惑メールフィルタ: オン、強さ %s (1〜6)、判定したメールに [SPAM] を付け%s%s", level,
		   strcmp(action, "inbox") == 0 ? "" : ", action ", strcmp(action, "inbox") == 0 ? "" : action);
	if (doctor_spam_events(o, d) == 0)
		doctor_add(d, OPS_DOCTOR_OK, "no message to %s was tagged [SPAM] in the last %u day%s",
			   "直近 %.0s%u 日%.0sに [SPAM] を付けたメッセージはありません", d->address, d->days,
			   d->days == 1 ? "" : "s");
	else
		doctor_fix(doctor_add(d, OPS_DOCTOR_OK, "wanted mail tagged [SPAM]: put its sender on the allow list"
				      " (the command above), or turn the filter off for %s: yubinctl account set %s"
				      " %s off",
				      "必要なメールに [SPAM] が付いた場合: 送信者を許可リストに入れる (上のコマンド) か、"
				      "%s のフィルタを止める: yubinctl account set %s %s off",
				      d->address, d->address, settings_key(SETTING_SPAM)),
			   settings_key(SETTING_SPAM), "yubinctl account set %s %s off", d->address,
			   settings_key(SETTING_SPAM));
}

static void doctor_event_cb(const struct dir_event *e, void *ctx)
{
	struct ops_doctor *d = ctx;

	if (d->nevents < OPS_DOCTOR_EVENTS) {
		d->events[d->nevents].e = *e;
		ops_event_explain(e, d->events[d->nevents].text, sizeof(d->events[0].text));
		ops_event_explain_ja(e, d->events[d->nevents].ja, sizeof(d->events[0].ja));
		d->nevents++;
	}
}

static void doctor_events(struct ops *o, struct ops_doctor *d)
{
	unsigned auth_failures = 0;

	if (directory_event_list(o->dir, d->address, OPS_DOCTOR_EVENTS, doctor_event_cb, d) < 0)
		d->events_unreadable = true;
	for (size_t i = 0; i < d->nevents; i++)
		auth_failures += strcmp(d->events[i].e.kind, "auth-failed") == 0;
	d->group = OPS_DQ_PASSWORD;
	if (auth_failures >= DOCTOR_AUTH_FAILURES_WARN)
		doctor_add(d, OPS_DOCTOR_WARN, "%u of the last %zu events are refused logins: a mail client may"
			   " have an old password saved, or someone is guessing",
			   "ログインの拒否が %u 件あります (直近 %zu 件のイベント中): メールソフトに古いパスワードが"
			   "保存されているか、誰かが推測しています", auth_failures, d->nevents);
}

#define DOCTOR_VIRUS_DAYS 7	/* how far back an unavailable virus check is reported */

struct doctor_virus_seen {
	struct dir_event last;
	unsigned n;
};

static void doctor_virus_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_virus_seen *v = ctx;

	if (v->n++ == 0)
		v->last = *e;	/* newest first */
}

/* The virus check: the domain's switch, and whether clamd could not scan
 * mail lately (virus-unavailable events are the server's, not an
 * address's). */
static void doctor_virus(struct ops *o, struct ops_doctor *d, const char *domain)
{
	struct doctor_virus_seen v;
	char when[40];

	d->group = OPS_DQ_RECEIVE;
	if (!settings_domain_bool(o->dir, domain, SETTING_VIRUS))
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "the virus check is off for %s: its mail is delivered unscanned;"
			   " yubinctl domain set %s %s on turns it on",
			   "%s のウイルス検査はオフです: メールは検査なしで配送されます。yubinctl domain set %s %s on"
			   " でオンにできます", domain, domain, settings_key(SETTING_VIRUS)),
			   settings_key(SETTING_VIRUS), "yubinctl domain set %s %s on", domain,
			   settings_key(SETTING_VIRUS));
	memset(&v, 0, sizeof(v));
	if (directory_event_since(o->dir, "", "virus-unavailable", time(NULL) - DOCTOR_VIRUS_DAYS * 86400,
				  doctor_virus_cb, &v) < 0 || v.n == 0)
		return;
	ops_time_text(v.last.ts, when, sizeof(when));
	doctor_add(d, OPS_DOCTOR_WARN, "the virus check (clamd) could not scan mail in the last %d days"
		   " (%u report%s, last %s: %s); such mail was accepted with X-Virus-Scan: unavailable or"
		   " deferred (%s); check that clamd runs and listens at %s",
		   "直近 %d 日にウイルス検査 (clamd) が使えないことがありました (報告 %u 件%.0s、最後は %s: %s)。"
		   "そのメールは X-Virus-Scan: unavailable を付けて受け取るか再送を求めました (%s)。clamd が動き %s"
		   " で待ち受けているか確認してください", DOCTOR_VIRUS_DAYS, v.n,
		   v.n == 1 ? "" : "s", when, v.last.detail, settings_key(SETTING_CONF_VIRUS_UNAVAILABLE),
		   settings_key(SETTING_CONF_VIRUS_CLAMD));
}

int ops_doctor_days_parse(const char *s, unsigned *days_r)
{
	uint64_t seconds;

	if (settings_duration_parse(s, &seconds) < 0 || seconds == 0 ||
	    seconds > (uint64_t)OPS_DOCTOR_DAYS_MAX * 86400)
		return -1;
	*days_r = (unsigned)((seconds + 86399) / 86400);
	return 0;
}

int ops_doctor(struct ops *o, const struct ops_actor *actor, const char *address, struct ops_doctor *d,
	       struct ops_error *err)
{
	return ops_doctor_since(o, actor, address, OPS_DOCTOR_DAYS, d, err);
}

int ops_doctor_since(struct ops *o, const struct ops_actor *actor, const char *address, unsigned days,
		     struct ops_doctor *d, struct ops_error *err)
{
	struct ops_doctor_opts opts = { .days = days, .hostname = "", .resolver = "" };

	return ops_doctor_run(o, actor, address, &opts, d, err);
}

/* The findings about a hosted account (or the missing one). */
static void doctor_hosted(struct ops *o, struct ops_doctor *d, const struct dir_account *a, bool exists,
			  const char *domain, const struct ops_doctor_opts *opts)
{
	if (!exists) {
		d->group = OPS_DQ_RECEIVE;
		doctor_fix(doctor_add(d, OPS_DOCTOR_FAIL, "there is no account %s: mail to it is refused (550 5.1.1)"
				      " and logins fail; create it with yubinctl account add %s",
				      "アカウント %s はありません: 宛てのメールは拒否され (550 5.1.1)、ログインは失敗"
				      "します。yubinctl account add %s で作成してください", d->address, d->address),
			   "", "yubinctl account add %s", d->address);
	} else {
		doctor_account(o, d, a);
		doctor_bare_logins(o, d, a);
		doctor_send(o, d, a);
		doctor_password(o, d, a);
		doctor_bounces(o, d, a);
		doctor_filters(o, d, a);
	}
	doctor_logins(o, d, d->address, domain);
	doctor_rejections(o, d, d->address);
	doctor_virus(o, d, domain);
	doctor_dns(o, d, domain, opts);
	doctor_cert(o, d, domain, opts->hostname);
}

int ops_doctor_run(struct ops *o, const struct ops_actor *actor, const char *address,
		   const struct ops_doctor_opts *opts, struct ops_doctor *d, struct ops_error *err)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1];
	struct dir_domain dom;
	struct dir_account a;
	const char *error;
	int r;

	memset(err, 0, sizeof(*err));
	memset(d, 0, sizeof(*d));
	d->days = opts->days >= 1 && opts->days <= OPS_DOCTOR_DAYS_MAX ? opts->days : OPS_DOCTOR_DAYS;
	if (validate_address(address, local, sizeof(local), domain, sizeof(domain), &error) < 0)
		return ops_fail(err, "invalid_address", "address", "'%s' is not a valid address: %s",
				"'%s' は正しいアドレスではありません: %s", address, error);
	snprintf(d->address, sizeof(d->address), "%s@%s", local, domain);
	if (ops_actor_role(actor) == OPS_ACTOR_USER || !ops_may_domain(actor, domain))
		return ops_fail(err, "forbidden", "address", "you may not examine %s", "%s を診断する権限がありません",
				d->address);
	r = directory_domain_get(o->dir, domain, &dom);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the domain %s from the database",
				"ドメイン %s をデータベースから読めません", domain);
	d->group = OPS_DQ_RECEIVE;
	if (r == 0) {
		doctor_fix(doctor_add(d, OPS_DOCTOR_FAIL, "the domain %s is not hosted here: mail to it is refused as"
				      " relaying and logins fail; add it with yubinctl domain add %s",
				      "ドメイン %s はこのサーバーにありません: 宛てのメールは中継として拒否され、ログインは"
				      "失敗します。yubinctl domain add %s で追加してください", domain, domain),
			   "", "yubinctl domain add %s", domain);
	} else {
		doctor_add(d, OPS_DOCTOR_OK, "the domain %s is hosted here (%u account%s)",
			   "ドメイン %s はこのサーバーにあります (アカウント %u 件%.0s)", domain, dom.accounts,
			   dom.accounts == 1 ? "" : "s");
		r = directory_account_get(o->dir, d->address, &a);
		if (r < 0)
			return ops_fail(err, "internal", NULL, "cannot read the account %s from the database",
					"アカウント %s をデータベースから読めません", d->address);
		doctor_hosted(o, d, &a, r > 0, domain, opts);
		explicit_bzero(&a, sizeof(a));
	}
	doctor_spam(o, d);
	doctor_events(o, d);
	return 0;
}
