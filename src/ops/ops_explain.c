/* Events in plain sentences, each with its fix where there is one: what
 * doctor shows under an address and the panels beside each event. */
#include "ops/ops_server.h"
#include "lib/str.h"
#include "settings/settings.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Templates: %i the client address, %d the detail, %D " (detail)" when
 * there is one, %k the kind, %a and %b the keys of the settings a and b. */
static const struct {
	const char *kind;
	const char *text, *ja;
} ops_event_texts[] = {
	{ "auth-failed", "A login from %i was refused%D; if that was the user, the mail client has a"
	  " wrong password or login name (the login name is the full address).",
	  "%i からのログインが拒否されました%D。本人であれば、メールソフトに保存されたパスワードかログイン名が誤っています (ログイン名はメールアドレス全体です)。" },
	{ "delivered", "A message from %i was delivered into the mailbox%D.",
	  "%i からのメッセージがメールボックスに配送されました%D。" },
	{ "rcpt-full", "Mail from %i was refused because the mailbox is full%D; delete mail or raise"
	  " the quota.",
	  "メールボックスが満杯のため、%i からのメールを拒否しました%D。メールを削除するか容量を増やしてください。" },
	{ "rcpt-unknown", "Mail from %i was refused because no such account exists%D.",
	  "該当するアカウントがないため、%i からのメールを拒否しました%D。" },
	{ "rcpt-rejected", "Mail from %i was refused%D.",
	  "%i からのメールを拒否しました%D。" },
	{ "relay-denied", "A client at %i tried to send mail through this server without logging in"
	  " and was refused%D.",
	  "%i のクライアントがログインせずにこのサーバー経由でメールを送ろうとし、拒否されました%D。" },
	{ "account-added", "The account was created%D.",
	  "アカウントが作成されました%D。" },
	{ "account-deleted", "The account was deleted%D.",
	  "アカウントが削除されました%D。" },
	{ "mailbox-deleted", "The deleted account's mailbox was removed by its node%D.",
	  "削除されたアカウントのメールボックスをノードが消去しました%D。" },
	{ "mailbox-kept", "The node kept the mailbox of a deleted account because the address lives"
	  " there again%D.",
	  "アドレスが再びそのノードにあるため、削除されたアカウントのメールボックスをノードが残しました%D。" },
	{ "password-changed", "The password was changed%D.",
	  "パスワードが変更されました%D。" },
	{ "quota-changed", "The mailbox size limit was changed%D.",
	  "メールボックスの容量が変更されました%D。" },
	{ "account-enabled", "The account was enabled, so it can log in and receive mail again.",
	  "アカウントが有効になり、再びログインとメールの受信ができます。" },
	{ "account-disabled", "The account was disabled: logins are refused and mail to it is"
	  " rejected.",
	  "アカウントが無効になりました: ログインは拒否され、宛てのメールは受け取りを拒否されます。" },
	{ "memo-changed", "The memo was changed to \"%d\".",
	  "メモが「%d」に変更されました。" },
	{ "setting-changed", "A setting was changed: %d.",
	  "設定が変更されました: %d。" },
	{ "domain-added", "The domain was added%D.",
	  "ドメインが追加されました%D。" },
	{ "domain-deleted", "The domain was deleted%D.",
	  "ドメインが削除されました%D。" },
	{ "send-suspended", "Sending was suspended because the account looked compromised (%d); a"
	  " notice went to the mailbox; a password change or yubinctl account unsuspend lifts it.",
	  "アカウントが乗っ取られた疑いがあるため送信を停止しました (%d)。メールボックスに通知を届けました。パスワードの変更か yubinctl account unsuspend で解除できます。" },
	{ "send-unsuspended", "The sending suspension was lifted%D.",
	  "送信の停止が解除されました%D。" },
	{ "send-refused", "Mail submitted from %i was refused because sending is suspended.",
	  "送信が停止中のため、%i から送信されたメールを拒否しました。" },
	{ "send-limited", "The sending limit was reached, so recipients were refused with 451 4.7.1"
	  " until it resets%D; raise %a / %b if the sending is wanted.",
	  "送信数の上限に達したため、上限が戻るまで宛先を 451 4.7.1 で拒否しました%D。必要な送信であれば %a / %b を引き上げてください。" },
	{ "virus-refused", "Mail from %i was refused with 554 5.7.1 because it contains a virus (%d);"
	  " the sender saw the reason, nothing was delivered.",
	  "ウイルスを含むため、%i からのメールを 554 5.7.1 で拒否しました (%d)。送信者には理由が表示され、何も配送されていません。" },
	{ "virus-unavailable", "The virus check could not scan mail (%d); such mail is accepted with"
	  " X-Virus-Scan: unavailable or deferred, as %a says; check that clamd runs.",
	  "ウイルス検査ができませんでした (%d)。そのメールは %a の設定どおり X-Virus-Scan: unavailable を付けて受け取るか、後で再送を求めます。clamd が動いているか確認してください。" },
	{ "notice-delivered", "A notice was written into this mailbox%D.",
	  "このメールボックスに通知を書き込みました%D。" },
	{ "dmarc-reject", "Mail from %i was refused because it failed DMARC and the sender's domain"
	  " asks receivers to reject such mail (%a is on for this domain)%D.",
	  "DMARC に不合格で、送信元ドメインが拒否を求めているため %i からのメールを拒否しました (このドメインでは %a がオン)%D。" },
	{ "dmarc-quarantine", "Mail from %i failed DMARC and went to the Junk folder, as the sender's"
	  " domain asks (%a is on for this domain)%D.",
	  "%i からのメールは DMARC に不合格だったため、送信元ドメインの求めに従い迷惑メールフォルダに入れました (このドメインでは %a がオン)%D。" },
	{ "forwarded", "A message was forwarded%D.",
	  "メッセージを転送しました%D。" },
	{ "forward-limited", "A message was not forwarded and stayed in the mailbox because of the"
	  " sending limits%D.",
	  "送信数の上限のため、メッセージは転送されずメールボックスに残りました%D。" },
	{ "forward-loop", "A message came back through a forwarding loop and was kept here instead of"
	  " being forwarded again%D.",
	  "転送のループで戻ってきたメッセージを、再び転送せずここに保存しました%D。" },
	{ "batv-refused", "A bounce from %i was refused by BATV%D: it answered mail this domain did"
	  " not sign (backscatter), or its tag was forged or expired.",
	  "%i からのエラーメールを BATV で拒否しました%D: このドメインが署名していないメールへの返信 (バックスキャッター) か、タグが偽造または期限切れです。" },
	{ "auth-block", "Logins from %i were blocked by the brute-force defence (%d); if that is the"
	  " user's own network, fix the password saved in the mail client, then run yubinctl security"
	  " unblock %i.",
	  "総当たり攻撃への防御により %i からのログインをブロックしました (%d)。本人のネットワークであれば、メールソフトに保存されたパスワードを直してから yubinctl security unblock %i を実行してください。" },
	{ "auth-throttle", "Many failed logins for this account (%d): someone may be guessing the"
	  " password; logins from addresses it used before are not slowed.",
	  "このアカウントへのログイン失敗が多数あります (%d): パスワードを推測されている可能性があります。以前使ったアドレスからのログインは遅くなりません。" },
	{ "auth-refused", "A login from %i was refused because that address is blocked after too many"
	  " failed logins%D; yubinctl security unblock %i lifts it.",
	  "ログイン失敗が多すぎてブロック中のため、%i からのログインを拒否しました%D。yubinctl security unblock %i で解除できます。" },
	{ "auth-unblock", "A brute-force block was lifted%D.",
	  "総当たり攻撃へのブロックが解除されました%D。" },
	{ "auth-ok", "Logged in from %i%D.",
	  "%i からログインしました%D。" },
	{ "index-rebuilt", "The mail index was rebuilt from the mailbox files (%d); messages and flags"
	  " were kept; a folder with a new UIDVALIDITY is downloaded again by mail clients.",
	  "メールの索引をメールボックスのファイルから作り直しました (%d)。メッセージとフラグは保たれています。UIDVALIDITY が変わったフォルダはメールソフトが再ダウンロードします。" },
	{ "directory-unavailable", "The daemon could not reach its directory (%d); meanwhile logins and"
	  " recipients got temporary errors, which mail clients and servers retry.",
	  "デーモンがディレクトリに接続できませんでした (%d)。その間のログインと宛先には一時エラーを返しました (メールソフトやサーバーは再試行します)。" },
	{ "spam-learned", "The spam filter learned from a move in the mail client (%d).",
	  "メールソフトでの移動から迷惑メールフィルタが学習しました (%d)。" },
	{ "spam-list-changed", "The spam filter's lists were changed: %d.",
	  "迷惑メールフィルタのリストが変更されました: %d。" },
	{ "auth-port25", "A mail client at %i used SMTP AUTH on port 25 (%d); many networks block port 25,"
	  " so it should send on port 587 with STARTTLS (or 465).",
	  "%i のメールソフトがポート 25 で SMTP 認証を使いました (%d)。多くのネットワークはポート 25 を遮断するため、ポート 587 の STARTTLS (または 465) で送信してください。" },
	{ "tls-sni-unknown", "A client at %i asked for a host name no certificate covers (%d), so it warns"
	  " about the certificate; it should use the server's host name.",
	  "%i のクライアントが証明書のないホスト名を求めました (%d)。証明書の警告が出るため、サーバーのホスト名を使ってください。" },
	{ "cert-issued", "A certificate was issued by the ACME CA and installed for %d; mail clients"
	  " using that name see no certificate warning.",
	  "ACME 認証局から %d の証明書が発行され、導入されました。その名前を使うメールソフトに証明書の警告は出ません。" },
	{ "cert-failed", "Getting a certificate failed (%d); the old certificate (if any) stays in use and"
	  " the server tries again later; yubinctl cert show NAME says when.",
	  "証明書の取得に失敗しました (%d)。以前の証明書があればそのまま使われ、後で再試行します。時期は yubinctl cert show 名前 で確認できます。" },
	{ "cert-dns-elsewhere", "No certificate was ordered because the name's DNS does not point at this"
	  " server yet (%d); once its A/AAAA or CNAME record points here a certificate follows within"
	  " the hour.",
	  "名前の DNS がまだこのサーバーを指していないため、証明書を申請しませんでした (%d)。A/AAAA か CNAME レコードをこのサーバーに向ければ、1 時間以内に証明書が発行されます。" },
	{ "cert-imported", "An administrator's own certificate was installed (%d); the ACME client leaves"
	  " that name alone until yubinctl cert renew NAME --force.",
	  "管理者の証明書が導入されました (%d)。yubinctl cert renew 名前 --force を実行するまで、ACME クライアントはその名前の証明書を更新しません。" },
	{ "mta-sts-deferred", "Mail to a domain whose MTA-STS policy is enforce was held back and will be"
	  " retried (4xx), never sent without verified TLS (%d); the receiving domain's MX or certificate"
	  " does not match its policy.",
	  "MTA-STS ポリシーが enforce のドメイン宛てのメールを保留し、後で再送します (4xx)。検証済みの TLS なしには送りません (%d)。受信側ドメインの MX か証明書がポリシーに合っていません。" },
	{ "mta-sts-testing", "Mail to a domain whose MTA-STS policy is testing was delivered although the"
	  " check failed (%d); the failure goes into the domain's TLS report.",
	  "MTA-STS ポリシーが testing のドメイン宛てのメールは、検査に失敗しましたが配送しました (%d)。失敗はそのドメインへの TLS レポートに載ります。" },
	{ "mta-sts-fetch-failed", "The MTA-STS policy of a receiving domain could not be fetched (%d); mail"
	  " to it goes out as without a policy (or by the policy cached before) until it can.",
	  "受信側ドメインの MTA-STS ポリシーを取得できませんでした (%d)。取得できるまで、そのドメイン宛てはポリシーなし (または以前取得したポリシー) で送ります。" },
	{ "tlsrpt-sent", "A daily TLS report (RFC 8460) was sent%D.",
	  "1 日分の TLS レポート (RFC 8460) を送りました%D。" },
	{ "tlsrpt-failed", "A daily TLS report (RFC 8460) could not be sent%D.",
	  "1 日分の TLS レポート (RFC 8460) を送れませんでした%D。" },
	{ "dns-mx-here", "The domain's MX was first seen pointing at this server%D.",
	  "ドメインの MX がこのサーバーを指していることを初めて確認しました%D。" },
	{ NULL, "Event %k from %i%D.",
	  "%i からのイベント %k%D。" },
};

/* The settings an event's text names as %a and %b. */
static const struct {
	const char *kind;
	enum setting_id a, b;
} ops_event_keys[] = {
	{ "send-limited", SETTING_SEND_LIMIT_HOUR, SETTING_SEND_LIMIT_DAY },
	{ "virus-unavailable", SETTING_CONF_VIRUS_UNAVAILABLE, SETTING_CONF_VIRUS_CLAMD },
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
static bool ops_foreign_explain(const struct dir_event *e, const char *ip, bool ja, char *buf, size_t size)
{
	char cc[8], domain[DIR_DOMAIN_MAX + 1], home[8];
	bool smtp = strncmp(e->detail, "smtp ", 5) == 0, known;
	const char *key;

	ops_detail_field(e->detail, "country=", cc, sizeof(cc));
	ops_detail_field(e->detail, "domain=", domain, sizeof(domain));
	ops_detail_field(e->detail, "home=", home, sizeof(home));
	if (domain[0] == '\0')
		return false;
	known = strcmp(cc, "--") != 0 && cc[0] != '\0';
	if (home[0] == '\0')
		str_copy(home, sizeof(home), settings_get(SETTING_FOREIGN_AUTH_COUNTRY)->def);
	key = settings_key(smtp ? SETTING_FOREIGN_AUTH : SETTING_FOREIGN_AUTH_MAIL);
	if (ja)
		snprintf(buf, size, "%s (%s) からの%sは %s の海外アクセス制限 (%s からのログインのみ) で拒否されました"
			 " — 海外滞在中はオフにしてください: yubinctl domain set %s %s off", ip,
			 known ? cc : "国不明", smtp ? " SMTP AUTH " : "メールのログイン", domain, home, domain, key);
	else
		snprintf(buf, size, "%s from %s (%s) refused by the foreign-access restriction of %s (logins"
			 " only from %s) — turn it off while abroad: yubinctl domain set %s %s off",
			 smtp ? "AUTH" : "A mail login", ip, known ? cc : "country unknown", domain, home, domain, key);
	return true;
}

/* "A message from <x@y> was tagged [SPAM] (score ...). Wanted? ..." with
 * the two ways out: the sender on the account's allow list, or the
 * account's filter off. The detail is smtp_spam's: "REASON, action A,
 * from <SENDER>, id ID, subject: S". */
static bool ops_spam_explain(const struct dir_event *e, bool ja, char *buf, size_t size)
{
	const char *from = strstr(e->detail, ", from <"), *end, *action = strstr(e->detail, ", action ");
	const char *subject = strstr(e->detail, ", subject: ");
	char sender[DIR_ADDRESS_MAX + 1] = "", reason[520] = "", act[16] = "";
	bool deleted = strcmp(e->kind, "spam-deleted") == 0;
	size_t n;

	if (from == NULL || action == NULL || (end = strchr(from + 8, '>')) == NULL)
		return false;
	n = (size_t)(end - (from + 8));
	if (n < sizeof(sender))
		snprintf(sender, sizeof(sender), "%.*s", (int)n, from + 8);
	/* the subject is whole: smtp_spam cut it on a character boundary */
	snprintf(reason, sizeof(reason), "%.*s%s%s%s", (int)(action - e->detail), e->detail,
		 subject != NULL ? "; subject \"" : "", subject != NULL ? subject + 11 : "",
		 subject != NULL ? "\"" : "");
	ops_detail_field(action + 2, "action ", act, sizeof(act));
	if (sender[0] == '\0')
		str_copy(sender, sizeof(sender), "*");	/* a null sender: only "*" names it */
	if (ja)
		snprintf(buf, size, "<%s> からのメッセージを迷惑メールと判定し%s (%s)%s。必要なメールなら、送信者を許可リストに"
			 "入れる: yubinctl spam allow add %s %s、またはフィルタを止める: yubinctl account set %s %s off",
			 sender, deleted ? "削除しました" : "「[SPAM]」を付けました", reason,
			 deleted ? "" : strcmp(act, "junk") == 0 ? "、迷惑メールフォルダへ" :
			 strcmp(act, "trash") == 0 ? "、ごみ箱へ" : "", e->address, sender, e->address,
			 settings_key(SETTING_SPAM));
	else
		snprintf(buf, size, "A message from <%s> was %s (%s)%s. If it is wanted, put the sender on"
			 " the allow list: yubinctl spam allow add %s %s, or turn the filter off: yubinctl"
			 " account set %s %s off", sender, deleted ? "found to be spam and deleted" :
			 "tagged [SPAM]", reason, deleted ? "" : strcmp(act, "junk") == 0 ? " and put in Junk" :
			 strcmp(act, "trash") == 0 ? " and put in Trash" : "", e->address, sender, e->address,
			 settings_key(SETTING_SPAM));
	return true;
}

static void ops_event_render(const struct dir_event *e, bool ja, char *buf, size_t size)
{
	const char *t, *ip = e->ip[0] != '\0' ? e->ip : "yubinctl";
	size_t len = 0, i;
	char one[2] = "";

	if (strcmp(e->kind, "auth-foreign") == 0 && ops_foreign_explain(e, ip, ja, buf, size))
		return;
	if (strncmp(e->kind, "spam-", 5) == 0 && ops_spam_explain(e, ja, buf, size))
		return;
	for (i = 0; ops_event_texts[i].kind != NULL; i++) {
		if (strcmp(ops_event_texts[i].kind, e->kind) == 0)
			break;
	}
	/* the last entry fits any kind */
	t = ja ? ops_event_texts[i].ja : ops_event_texts[i].text;
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

void ops_event_explain(const struct dir_event *e, char *buf, size_t size)
{
	ops_event_render(e, false, buf, size);
}

void ops_event_explain_ja(const struct dir_event *e, char *buf, size_t size)
{
	ops_event_render(e, true, buf, size);
}
