/* The suspension notice: a MIME message in Japanese and English (UTF-8,
 * base64 body, RFC 2047 Subject) written durably into the owner's INBOX and
 * the domain's admin mailbox with maildir_deliver, so the customer learns
 * why sending stopped and how to restart it even when their client only
 * reads mail. Runs on a worker. */
#include "server/sendguard.h"
#include "server/server.h"
#include "directory/directory.h"
#include "store/maildir.h"
#include "store/quota.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/strbuf.h"
#include "settings/settings.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *notice_reason_ja(const char *reason)
{
	if (strcmp(reason, "burst") == 0)
		return "普段よりはるかに多い数の宛先への送信";
	if (strcmp(reason, "new-recipients") == 0)
		return "短時間に多数の新しい宛先への送信";
	if (strcmp(reason, "bounces") == 0)
		return "送信したメールのエラー返送（バウンス）の多発";
	if (strcmp(reason, "countries") == 0)
		return "短時間に複数の国からのログイン";
	return "不審な送信";
}

/* Appends text as RFC 2047 "B" encoded words of at most 75 characters,
 * split only between UTF-8 characters, folded onto continuation lines. */
static void notice_encode_words(struct strbuf *out, const char *text)
{
	size_t len = strlen(text), pos = 0;
	bool first = true;

	while (pos < len) {
		/* "Subject: " comes before the first word: lines stay under 76 */
		size_t most = first ? 36 : 45, take = len - pos > most ? most : len - pos;
		char b64[80];

		/* back off to a character boundary (not a continuation byte) */
		while (take < len - pos && take > 0 && ((unsigned char)text[pos + take] & 0xC0) == 0x80)
			take--;
		base64_encode((const unsigned char *)text + pos, take, b64);
		strbuf_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64);
		first = false;
		pos += take;
	}
}

static void notice_body_base64(struct strbuf *out, const char *text)
{
	size_t len = strlen(text);
	char b64[80];

	for (size_t pos = 0; pos < len; pos += 57) {
		size_t take = len - pos > 57 ? 57 : len - pos;
		base64_encode((const unsigned char *)text + pos, take, b64);
		strbuf_printf(out, "%s\r\n", b64);
	}
}

/* Builds the whole message for recipient rcpt about address. */
static int notice_build(struct strbuf *msg, const char *hostname, const char *rcpt,
			const char *address, const char *reason, const char *why, const char *ip,
			int64_t since)
{
	char date[64], when[64], id[16], subject[256];
	struct strbuf body;
	time_t t = (time_t)since, now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	str_random_id(id, sizeof(id));
	snprintf(subject, sizeof(subject), "【重要】メール送信を停止しました / Sending suspended: %s", address);
	strbuf_init(&body);
	strbuf_printf(&body,
		"%s のメール送信を一時的に停止しました。\r\n"
		"\r\n"
		"理由: 不正利用が疑われる動きを検知しました（%s）。\r\n"
		"詳細: %s\r\n"
		"停止日時: %s\r\n"
		"接続元: %s\r\n"
		"\r\n"
		"パスワードが第三者に知られ、迷惑メールの送信に使われている可能性があります。\r\n"
		"メールの受信（POP3 / IMAP）はこれまでどおり利用できます。\r\n"
		"\r\n"
		"送信を再開するには:\r\n"
		"  1. 管理者にこのメールアドレスのパスワードの変更を依頼してください。\r\n"
		"     パスワードを変更すると送信停止は自動的に解除されます。\r\n"
		"  2. メールソフトやスマートフォンに保存されているパスワードも新しいものに\r\n"
		"     変更してください。\r\n"
		"  3. お使いのパソコンをウイルス対策ソフトで検査してください。\r\n"
		"心当たりがある大量送信の場合は、管理者に解除を依頼してください\r\n"
		"（yubinctl account unsuspend %s）。\r\n"
		"\r\n"
		"---- English ----\r\n"
		"\r\n"
		"Sending from %s has been suspended.\r\n"
		"\r\n"
		"Reason: activity that suggests the account is being misused (%s).\r\n"
		"Details: %s\r\n"
		"Since: %s\r\n"
		"Client address: %s\r\n"
		"\r\n"
		"The password may be known to someone else who uses it to send spam.\r\n"
		"Reading mail (POP3, IMAP) keeps working.\r\n"
		"\r\n"
		"To send again:\r\n"
		"  1. Ask the administrator to change the password of this address;\r\n"
		"     changing it lifts the suspension at once.\r\n"
		"  2. Put the new password into every mail client and phone that uses it.\r\n"
		"  3. Scan your computer with anti-virus software.\r\n"
		"If the sending was yours, ask the administrator to lift the suspension\r\n"
		"(yubinctl account unsuspend %s).\r\n",
		address, notice_reason_ja(reason), why, when, ip[0] != '\0' ? ip : "-", address,
		address, reason, why, when, ip[0] != '\0' ? ip : "-", address);
	strbuf_printf(msg,
		"Return-Path: <>\r\n"
		"Delivered-To: %s\r\n"
		"Received: by %s (Yubin) id %s;\r\n\t%s\r\n"
		"Date: %s\r\n"
		"From: Mail System <MAILER-DAEMON@%s>\r\n"
		"To: <%s>\r\n"
		"Subject: ", rcpt, hostname, id, date, date, hostname, rcpt);
	notice_encode_words(msg, subject);
	strbuf_printf(msg, "\r\n"
		"Message-ID: <%s.notice@%s>\r\n"
		"Auto-Submitted: auto-generated\r\n"
		"X-Yubin-Notice: send-suspended;\r\n\taccount=%s;\r\n\treason=%s\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=UTF-8\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"\r\n", id, hostname, address, reason);
	notice_body_base64(msg, strbuf_cstr(&body));
	strbuf_free(&body);
	return 0;
}

/* Delivers one notice into rcpt's INBOX; the quota does not stop it. */
static int notice_deliver_one(struct directory *dir, const char *hostname, const char *rcpt,
			      const char *address, const char *reason, const char *why, const char *ip,
			      int64_t since)
{
	struct dir_account acct;
	struct maildir_msg m;
	struct strbuf msg;
	char maildir[PATH_MAX], name[MAILDIR_NAME_MAX];
	const char *error = "out of memory";
	int r;

	if (directory_account_get(dir, rcpt, &acct) <= 0)
		return -1;
	if (server_maildir(maildir, sizeof(maildir), acct.domain, acct.local) < 0)
		return -1;
	strbuf_init(&msg);
	if (notice_build(&msg, hostname, acct.address, address, reason, why, ip, since) < 0) {
		strbuf_free(&msg);
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.prefix = "";
	m.body = strbuf_cstr(&msg);
	m.body_fd = -1;
	m.body_len = msg.len;
	quota_reserve(maildir, m.body_len, 0);
	r = maildir_deliver(maildir, &m, name, sizeof(name), &error);
	if (r < 0) {
		quota_release(maildir, m.body_len);
		log_error(NULL, "abuse: notice to %s failed: %s", acct.address, error);
	} else {
		char detail[400];
		snprintf(detail, sizeof(detail), "sending of %s suspended (%s)", address, reason);
		directory_event_add(dir, "notice-delivered", acct.address, ip, detail);
	}
	strbuf_free(&msg);
	return r;
}

int notice_suspension_deliver(const char *address, const char *reason, const char *why,
			      const char *ip, int64_t since)
{
	struct directory *dir = server_directory();
	const char *domain = strchr(address, '@');
	char admin[DIR_ADDRESS_MAX + 1];
	struct config cfg;
	int r;

	if (dir == NULL || domain == NULL)
		return -1;
	domain++;
	server_config(&cfg);
	r = notice_deliver_one(dir, cfg.hostname, address, address, reason, why, ip, since);
	if (settings_domain_string(dir, domain, SETTING_ADMIN_ADDRESS, admin, sizeof(admin)) <= 0)
		snprintf(admin, sizeof(admin), "postmaster@%s", domain);
	str_lower(admin);
	if (strcmp(admin, address) != 0 &&
	    notice_deliver_one(dir, cfg.hostname, admin, address, reason, why, ip, since) < 0)
		log_info(NULL, "abuse: no notice for the admin address %s of %s (not a local account)",
			 admin, domain);
	return r;
}
