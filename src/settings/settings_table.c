/* The table of every setting: key, scope, type, range, default, validator,
 * help in English and Japanese; and finding a setting by ID or key. Adding
 * a setting means adding its ID to settings.h and one row here; nothing
 * else names its key. */
#include "settings/settings.h"
#include "settings/settings_check.h"
#include "lib/config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
/* A yubin.conf setting stored in struct config's field f. */
#define CONF(id, key, type, flags, min, max, def, chk, f, en, ja) \
	[id] = { id, key, SETTING_SERVER, type, flags, min, max, def, NULL, chk, FIELD(f), en, ja, NULL }
#define CONF_ENUM(id, key, def, choices, f, en, ja) \
	[id] = { id, key, SETTING_SERVER, SETTING_ENUM, 0, 0, 0, def, choices, NULL, FIELD(f), en, ja, NULL }
/* A domain and/or account setting, stored in the directory. */
#define DIRS(id, key, scopes, type, flags, min, max, def, chk, en, ja) \
	[id] = { id, key, scopes, type, flags, min, max, def, NULL, chk, 0, 0, en, ja, NULL }
#define DIRS_ENUM(id, key, scopes, def, choices, en, ja) \
	[id] = { id, key, scopes, SETTING_ENUM, 0, 0, 0, def, choices, NULL, 0, 0, en, ja, NULL }
/* ... whose value is also checked against the directory when stored. */
#define DIRS_DB(id, key, scopes, type, def, chk, dbchk, en, ja) \
	[id] = { id, key, scopes, type, 0, 0, 0, def, NULL, chk, 0, 0, en, ja, dbchk }

#define PORT(id, key, def, f, en, ja) \
	CONF(id, key, SETTING_PORT, SETTING_RESTART, 0, 65535, def, NULL, f, en, ja)

static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const allow_deny[] = { "allow", "deny", NULL };
static const char *const on_off[] = { "on", "off", NULL };
static const char *const accept_defer[] = { "accept", "defer", NULL };
static const char *const sender_policies[] = { "strict", "domain", "off", NULL };
static const char *const acme_challenges[] = { "http-01", "tls-alpn-01", NULL };
static const char *const spam_actions[] = { "inbox", "junk", "trash", "delete", NULL };
static const char *const roles[] = { "mail", "proxy", NULL };
static const char *const mta_sts_modes[] = { "testing", "enforce", "none", NULL };

const struct setting settings_table[SETTING_COUNT] = {
	CONF(SETTING_CONF_HOSTNAME, "hostname", SETTING_HOSTNAME, 0, 0, 0, "localhost", NULL, hostname,
	     "host name in greetings, Received headers and the certificate",
	     "挨拶・Received ヘッダ・証明書に使うホスト名"),
	CONF(SETTING_CONF_LISTEN_ADDRESS, "listen.address", SETTING_IP_LIST, SETTING_RESTART, 0, 0,
	     "0.0.0.0", NULL, listen_address,
	     "comma-separated addresses the listeners bind to",
	     "待ち受けるアドレス（カンマ区切り）"),
	PORT(SETTING_CONF_SMTP_PORT, "smtp.port", "25", port_smtp,
	     "SMTP (MX), STARTTLS; 0 disables", "SMTP（MX 受信）、STARTTLS。0 で無効"),
	PORT(SETTING_CONF_SUBMISSION_PORT, "submission.port", "587", port_submission,
	     "submission, STARTTLS + AUTH", "メール送信（サブミッション）、STARTTLS と認証"),
	PORT(SETTING_CONF_SMTPS_PORT, "smtps.port", "465", port_smtps,
	     "submission over implicit TLS", "TLS 接続でのメール送信"),
	PORT(SETTING_CONF_POP3_PORT, "pop3.port", "110", port_pop3, "POP3, STLS", "POP3、STLS"),
	PORT(SETTING_CONF_POP3S_PORT, "pop3s.port", "995", port_pop3s,
	     "POP3 over implicit TLS", "TLS 接続での POP3"),
	PORT(SETTING_CONF_IMAP_PORT, "imap.port", "143", port_imap, "IMAP, STARTTLS", "IMAP、STARTTLS"),
	PORT(SETTING_CONF_IMAPS_PORT, "imaps.port", "993", port_imaps,
	     "IMAP over implicit TLS", "TLS 接続での IMAP"),
	PORT(SETTING_CONF_SIEVE_PORT, "sieve.port", "4190", port_sieve,
	     "ManageSieve (RFC 5804: mail filter scripts), STARTTLS; 0 disables",
	     "ManageSieve（RFC 5804：メール振り分けスクリプト）、STARTTLS。0 で無効"),
	PORT(SETTING_CONF_HTTP_PORT, "http.port", "80", port_http,
	     "web server without TLS: redirects to https.port, except /.well-known/ (0: off)",
	     "TLS なしの Web サーバー: https.port へ転送（/.well-known/ を除く、0 で無効）"),
	PORT(SETTING_CONF_HTTPS_PORT, "https.port", "443", port_https,
	     "web server over TLS (API and panels; same certificates as the mail ports; 0: off)",
	     "TLS の Web サーバー（API と管理パネル、メールと同じ証明書、0 で無効）"),
	CONF(SETTING_CONF_HTTP_MAX_HEADER_SIZE, "http.max_header_size", SETTING_SIZE, SETTING_RESTART,
	     1024, 1 << 20, "16K", NULL, http_max_header_size,
	     "largest request line and headers of an HTTP request, bytes (larger: 431 or 400)",
	     "HTTP リクエスト行とヘッダーの最大サイズ（バイト、超えると 431 か 400）"),
	CONF(SETTING_CONF_HTTP_MAX_BODY_SIZE, "http.max_body_size", SETTING_SIZE, SETTING_RESTART,
	     1024, 1ULL << 30, "1M", NULL, http_max_body_size,
	     "largest HTTP request body, bytes (larger: 413)",
	     "HTTP リクエスト本文の最大サイズ（バイト、超えると 413）"),
	CONF(SETTING_CONF_HTTP_TIMEOUT, "http.timeout", SETTING_DURATION, SETTING_RESTART, 1, 3600, "30",
	     NULL, http_timeout,
	     "seconds an HTTP connection may stay idle or stall (also between keep-alive requests)",
	     "HTTP 接続が無通信・停滞のまま待てる秒数（キープアライブの待ちにも適用）"),
	CONF(SETTING_CONF_HTTP_REQUEST_TIMEOUT, "http.request_timeout", SETTING_DURATION, SETTING_RESTART,
	     1, 86400, "120", NULL, http_request_timeout,
	     "seconds for a whole HTTPS request (line, headers, body) to arrive, counted from the "
	     "connection's start or the previous response (however slowly it trickles in)",
	     "HTTPS リクエスト全体（行・ヘッダー・本文）が届くまでの秒数（接続開始か前の応答から数える）"),
	CONF(SETTING_CONF_HTTP_MAX_CONNECTIONS, "http.max_connections", SETTING_UINT, SETTING_RESTART, 1,
	     1000000, "2000", NULL, http_max_connections,
	     "HTTPS connections in all (more are closed at once)",
	     "HTTPS 接続数の上限（全体、超えた接続はすぐ閉じる）"),
	CONF(SETTING_CONF_HTTP_MAX_CONNECTIONS_PER_IP, "http.max_connections_per_ip", SETTING_UINT,
	     SETTING_RESTART, 1, 100000, "50", NULL, http_max_connections_per_ip,
	     "HTTPS connections per client address (more get 503 and the close)",
	     "クライアントアドレスごとの HTTPS 接続数の上限（超えると 503 で閉じる）"),
	CONF(SETTING_CONF_HTTP_SESSION_IDLE, "http.session_idle", SETTING_DURATION, 0, 1, 86400, "1800",
	     NULL, http_session_idle,
	     "a panel session ends after this long without a request",
	     "パネルのセッションは、この時間リクエストがないと終わる"),
	CONF(SETTING_CONF_HTTP_SESSION_LIFETIME, "http.session_lifetime", SETTING_DURATION, 0, 60, 2592000,
	     "43200", NULL, http_session_lifetime,
	     "a panel session ends this long after its login, whatever its use",
	     "パネルのセッションは、使用中でもログインからこの時間で終わる"),
	CONF(SETTING_CONF_SMTP_MAX_MESSAGE_SIZE, "smtp.max_message_size", SETTING_SIZE, 0, 1024, 1ULL << 32,
	     "100M", NULL, smtp_max_message_size,
	     "largest message accepted, bytes (K/M/G suffixes)",
	     "受け付けるメールの最大サイズ（バイト、K/M/G 可）"),
	CONF(SETTING_CONF_SMTP_MAX_RECIPIENTS, "smtp.max_recipients", SETTING_UINT, 0, 1, 100000, "100",
	     NULL, smtp_max_recipients, "recipients per message", "1 通あたりの宛先数の上限"),
	CONF(SETTING_CONF_SMTP_MAX_CONNECTIONS, "smtp.max_connections", SETTING_UINT, 0, 1, 1000000,
	     "2000", NULL, smtp_max_connections, "SMTP connections in all", "SMTP 接続数の上限（全体）"),
	CONF(SETTING_CONF_SMTP_MAX_CONNECTIONS_PER_IP, "smtp.max_connections_per_ip", SETTING_UINT, 0, 1,
	     100000, "30", NULL, smtp_max_connections_per_ip,
	     "SMTP connections from one client address", "1 つの接続元アドレスからの SMTP 接続数の上限"),
	CONF(SETTING_CONF_SMTP_MAX_LINE_LENGTH, "smtp.max_line_length", SETTING_UINT, 0, 512, 65536, "4096",
	     NULL, smtp_max_line_length, "longest command line, bytes", "コマンド行の最大長（バイト）"),
	CONF(SETTING_CONF_SMTP_MAX_ERRORS, "smtp.max_errors", SETTING_UINT, 0, 1, 1000, "20", NULL,
	     smtp_max_errors, "bad commands before the connection is closed",
	     "接続を切るまでに許す誤ったコマンドの数"),
	CONF(SETTING_CONF_SMTP_MAX_COMMANDS, "smtp.max_commands", SETTING_UINT, 0, 10, 10000000, "10000",
	     NULL, smtp_max_commands, "commands in one connection", "1 接続あたりのコマンド数の上限"),
	CONF(SETTING_CONF_SMTP_TIMEOUT, "smtp.timeout", SETTING_DURATION, 0, 1, 86400, "300", NULL,
	     smtp_timeout, "seconds to wait for a command (RFC 5321 4.5.3.2: 5 minutes)",
	     "コマンドを待つ秒数（RFC 5321 4.5.3.2 では 5 分）"),
	CONF(SETTING_CONF_SMTP_DATA_TIMEOUT, "smtp.data_timeout", SETTING_DURATION, 0, 1, 86400, "600",
	     NULL, smtp_data_timeout, "seconds to wait for more message data",
	     "メール本文の続きを待つ秒数"),
	CONF(SETTING_CONF_SMTP_COMMAND_TOTAL_TIMEOUT, "smtp.command_total_timeout", SETTING_DURATION, 0, 1,
	     86400, "300", NULL, smtp_command_total_timeout,
	     "seconds a command line may take from its first byte to its end (however slowly it trickles)",
	     "1 行のコマンドが最初のバイトから行末まで届くのに許す秒数（少しずつ送られても）"),
	CONF(SETTING_CONF_SMTP_DATA_TOTAL_TIMEOUT, "smtp.data_total_timeout", SETTING_DURATION, 0, 1, 86400,
	     "1800", NULL, smtp_data_total_timeout,
	     "seconds a message's DATA (to the final dot) or BDAT chunks (to LAST) may take in all",
	     "1 通の DATA（最後のドットまで）または BDAT（LAST まで）にかけてよい秒数の合計"),
	CONF(SETTING_CONF_POP3_TIMEOUT, "pop3.timeout", SETTING_DURATION, 0, 1, 86400, "600", NULL,
	     pop3_timeout, "seconds of inactivity before a POP3 session ends (RFC 1939: 10 minutes)",
	     "無操作の POP3 セッションを終える秒数（RFC 1939 では 10 分）"),
	CONF(SETTING_CONF_POP3_COMMAND_TOTAL_TIMEOUT, "pop3.command_total_timeout", SETTING_DURATION, 0, 1,
	     86400, "300", NULL, pop3_command_total_timeout,
	     "seconds a POP3 command line may take from its first byte to its end",
	     "POP3 のコマンド 1 行が最初のバイトから行末まで届くのに許す秒数"),
	CONF(SETTING_CONF_POP3_MAX_CONNECTIONS_PER_IP, "pop3.max_connections_per_ip", SETTING_UINT, 0, 1,
	     100000, "30", NULL, pop3_max_connections_per_ip,
	     "POP3 connections from one client address", "1 つの接続元アドレスからの POP3 接続数の上限"),
	CONF(SETTING_CONF_SIEVE_TIMEOUT, "sieve.timeout", SETTING_DURATION, 0, 1, 86400, "600", NULL,
	     sieve_timeout, "seconds of inactivity before a ManageSieve session ends; also the most one"
	     " command with its script may take",
	     "無操作の ManageSieve セッションを終える秒数（スクリプトを含む 1 コマンドにかけてよい最長の時間も同じ）"),
	CONF(SETTING_CONF_SIEVE_MAX_CONNECTIONS_PER_IP, "sieve.max_connections_per_ip", SETTING_UINT, 0, 1,
	     100000, "10", NULL, sieve_max_connections_per_ip,
	     "ManageSieve connections from one client address", "1 つの接続元アドレスからの ManageSieve 接続数の上限"),
	CONF(SETTING_CONF_SIEVE_MAX_SCRIPT_SIZE, "sieve.max_script_size", SETTING_SIZE, 0, 1024, 1024 * 1024,
	     "64K", NULL, sieve_max_script_size, "largest Sieve script an account may store (at most 1M)",
	     "1 アカウントが保存できる Sieve スクリプトの最大サイズ（最大 1M）"),
	CONF(SETTING_CONF_SIEVE_MAX_SCRIPTS, "sieve.max_scripts", SETTING_UINT, 0, 1, 1000, "20", NULL,
	     sieve_max_scripts, "Sieve scripts one account may store",
	     "1 アカウントが保存できる Sieve スクリプトの数"),
	CONF(SETTING_CONF_IMAP_TIMEOUT, "imap.timeout", SETTING_DURATION, 0, 60, 86400, "1800", NULL,
	     imap_timeout, "seconds of inactivity before an IMAP session ends (RFC 9051: at least 30 minutes)",
	     "無操作の IMAP セッションを終える秒数（RFC 9051 では 30 分以上）"),
	CONF(SETTING_CONF_IMAP_IDLE_TIMEOUT, "imap.idle_timeout", SETTING_DURATION, 0, 60, 86400, "7200",
	     NULL, imap_idle_timeout,
	     "seconds an IMAP client may stay in one IDLE (clients renew IDLE every 29 minutes)",
	     "IMAP クライアントが 1 回の IDLE を続けられる秒数（クライアントは 29 分ごとに IDLE をやり直す）"),
	CONF(SETTING_CONF_IMAP_COMMAND_TOTAL_TIMEOUT, "imap.command_total_timeout", SETTING_DURATION, 0, 1,
	     86400, "1800", NULL, imap_command_total_timeout,
	     "seconds an IMAP command may take from its first byte to its end, literals included",
	     "IMAP のコマンドが最初のバイトから終わりまで（リテラルを含めて）にかけてよい秒数"),
	CONF(SETTING_CONF_IMAP_APPEND_LIMIT, "imap.append_limit", SETTING_SIZE, 0, 1024, 1ULL << 32, "100M",
	     NULL, imap_append_limit,
	     "largest message APPEND accepts, bytes (advertised as APPENDLIMIT; FETCH serves any size)",
	     "APPEND で受け付けるメールの最大サイズ（バイト、APPENDLIMIT として通知。FETCH は大きさを問わない）"),
	CONF(SETTING_CONF_IMAP_MAX_CONNECTIONS_PER_IP, "imap.max_connections_per_ip", SETTING_UINT, 0, 1,
	     100000, "50", NULL, imap_max_connections_per_ip,
	     "IMAP connections from one client address", "1 つの接続元アドレスからの IMAP 接続数の上限"),
	CONF(SETTING_CONF_IMAP_MAX_LINE_LENGTH, "imap.max_line_length", SETTING_UINT, 0, 1024, 1048576,
	     "65536", NULL, imap_max_line_length, "longest IMAP command line outside literals, bytes",
	     "リテラル以外の IMAP コマンド行の最大長（バイト）"),
	CONF_ENUM(SETTING_CONF_IMAP_SEARCH_INDEX, "imap.search_index", "on", on_off, imap_search_index,
		  "IMAP SEARCH answers text keys from the full-text index (off: it reads every message)",
		  "IMAP の SEARCH で本文などの検索に全文検索インデックスを使う（off ではメールを全部読む）"),
	CONF(SETTING_CONF_SERVER_LOOPS, "server.loops", SETTING_UINT, SETTING_RESTART, 0, 256, "0", NULL,
	     server_loops, "event loops (threads); 0 means one per core",
	     "イベントループ（スレッド）の数。0 は CPU コアごとに 1 つ"),
	CONF(SETTING_CONF_SERVER_WORKERS, "server.workers", SETTING_UINT, SETTING_RESTART, 1, 256, "4", NULL,
	     server_workers, "worker threads for blocking work (hashing, fsync, database writes)",
	     "待ちの生じる処理（ハッシュ計算・fsync・DB 書き込み）用のスレッド数"),
	CONF(SETTING_CONF_SERVER_SHUTDOWN_GRACE, "server.shutdown_grace", SETTING_DURATION, 0, 0, 3600, "30",
	     NULL, shutdown_grace, "seconds SIGTERM lets open transactions finish",
	     "SIGTERM 後、処理中の取引の完了を待つ秒数"),
	CONF(SETTING_CONF_SERVER_JOURNAL_MS, "server.journal_ms", SETTING_UINT, SETTING_RESTART, 0, 60000, "1000",
	     NULL, server_journal_ms,
	     "delivered mail is made durable through the delivery journal (one write and one fdatasync per batch)"
	     " and checkpointed every this many milliseconds; 0 turns the journal off (each file and its folder"
	     " fsync'd before the reply)",
	     "受信したメールを配送ジャーナル（まとめて 1 回の書き込みと fdatasync）で確定させ、このミリ秒ごとに"
	     "チェックポイントを取る。0 でジャーナルを使わない（返答の前にファイルとフォルダを個別に fsync）"),
	CONF(SETTING_CONF_SERVER_USER, "server.user", SETTING_STRING, SETTING_RESTART, 0, 0, "", NULL,
	     server_user, "user to run as after binding the ports when started as root (DATA must belong to it)",
	     "root で起動したとき、ポートを開いた後に切り替えるユーザ（DATA はそのユーザの所有に）"),
	CONF(SETTING_CONF_DIRECTORY_URL, "directory.url", SETTING_STRING, SETTING_RESTART | SETTING_SECRET, 0, 0,
	     "", settings_check_directory_url, directory_url,
	     "where the directory (domains, accounts, settings, events) lives: empty for DATA/yubin.db (SQLite),"
	     " an absolute SQLite file, or a PostgreSQL connection URI postgresql://[user@]host/db (several"
	     " nodes share it; yubinctl directory copy moves an SQLite directory there)",
	     "ディレクトリ（ドメイン・アカウント・設定・イベント）の置き場所：空なら DATA/yubin.db（SQLite）、"
	     "SQLite ファイルの絶対パス、または PostgreSQL の接続 URI postgresql://[user@]host/db（複数ノードで共有。"
	     "yubinctl directory copy で SQLite から移せる）"),
	CONF_ENUM(SETTING_CONF_LOG_LEVEL, "log.level", "info", log_levels, log_level,
		  "debug, info, warn or error", "ログの詳しさ：debug、info、warn、error"),
	CONF(SETTING_CONF_SEND_LIMIT_HOUR, "send_limit.hour", SETTING_UINT, 0, 0, 10000000, "1500", NULL,
	     send_limit_hour,
	     "recipients an account may send to in any 60 minutes (domain/account setting send-limit-hour"
	     " overrides; 0 = unlimited)",
	     "1 アカウントが任意の 60 分間に送れる宛先数（ドメイン・アカウントの send-limit-hour が優先、0 は無制限）"),
	CONF(SETTING_CONF_SEND_LIMIT_DAY, "send_limit.day", SETTING_UINT, 0, 0, 10000000, "15000", NULL,
	     send_limit_day,
	     "recipients an account may send to in any 24 hours (send-limit-day overrides; 0 = unlimited)",
	     "1 アカウントが任意の 24 時間に送れる宛先数（send-limit-day が優先、0 は無制限）"),
	CONF(SETTING_CONF_ABUSE_BURST_MIN, "abuse.burst_min", SETTING_UINT, 0, 0, 10000000, "500", NULL,
	     abuse_burst_min, "suspend sending after this many recipients in 60 minutes ... (0 = off)",
	     "60 分間にこの数の宛先へ送ると送信を停止…（0 で無効）"),
	CONF(SETTING_CONF_ABUSE_BURST_FACTOR, "abuse.burst_factor", SETTING_UINT, 0, 0, 1000, "10", NULL,
	     abuse_burst_factor,
	     "... when that is also this many times the account's busiest hour of the previous 7 days",
	     "…それが過去 7 日間で最も多かった 1 時間のこの倍数以上のとき"),
	CONF(SETTING_CONF_ABUSE_NEW_RCPT_MAX, "abuse.new_rcpt_max", SETTING_UINT, 0, 0, 10000000, "200",
	     NULL, abuse_new_rcpt_max, "suspend sending after this many distinct new recipients ... (0 = off)",
	     "初めての宛先がこの数に達すると送信を停止…（0 で無効）"),
	CONF(SETTING_CONF_ABUSE_NEW_RCPT_WINDOW, "abuse.new_rcpt_window", SETTING_DURATION, 0, 60, 86400,
	     "3600", NULL, abuse_new_rcpt_window, "... within this many seconds", "…この秒数のうちに"),
	CONF(SETTING_CONF_ABUSE_BOUNCE_MIN, "abuse.bounce_min", SETTING_UINT, 0, 0, 10000000, "50", NULL,
	     abuse_bounce_min, "suspend sending after this many bounces in 24 hours ... (0 = off)",
	     "24 時間にこの数のエラーメールが返ると送信を停止…（0 で無効）"),
	CONF(SETTING_CONF_ABUSE_BOUNCE_PERCENT, "abuse.bounce_percent", SETTING_UINT, 0, 1, 100, "30", NULL,
	     abuse_bounce_percent,
	     "... when they are also this percentage of the recipients sent in 24 hours",
	     "…それが 24 時間に送った宛先のこの割合（%）以上のとき"),
	CONF(SETTING_CONF_ABUSE_LOGIN_COUNTRIES, "abuse.login_countries", SETTING_UINT, 0, 0, 250, "3",
	     NULL, abuse_login_countries,
	     "suspend sending after successful logins from this many countries ... (0 = off)",
	     "この数の国からログインに成功すると送信を停止…（0 で無効）"),
	CONF(SETTING_CONF_ABUSE_LOGIN_WINDOW, "abuse.login_window", SETTING_DURATION, 0, 60, 604800, "3600",
	     NULL, abuse_login_window, "... within this many seconds", "…この秒数のうちに"),
	CONF(SETTING_CONF_DNS_RESOLVER, "dns.resolver", SETTING_STRING, 0, 0, 0, "", settings_check_resolver,
	     dns_resolver, "DNS server for MX/A/AAAA lookups, ADDRESS[:PORT] (empty: the system resolver)",
	     "MX・A・AAAA を引く DNS サーバ、アドレス[:ポート]（空ならシステムの設定）"),
	CONF(SETTING_CONF_DNS_MESSAGE_BUDGET, "dns.message_budget", SETTING_UINT, 0, 100, 60000, "5000", NULL,
	     dns_message_budget,
	     "milliseconds of DNS lookups one inbound message's SPF/DKIM/DMARC checks may wait for in all"
	     " (then missing answers count as temperror)",
	     "受信した 1 通の SPF・DKIM・DMARC の確認が DNS の応答を待てるミリ秒数の合計（過ぎた分は temperror）"),
	CONF(SETTING_CONF_QUEUE_RETRY_MIN, "queue.retry_min", SETTING_DURATION, 0, 1, 86400, "300", NULL,
	     queue_retry_min, "seconds before the first retry of a deferred message (doubles each time)",
	     "配送が遅れたメールの最初の再送までの秒数（毎回 2 倍に）"),
	CONF(SETTING_CONF_QUEUE_RETRY_MAX, "queue.retry_max", SETTING_DURATION, 0, 1, 604800, "3600", NULL,
	     queue_retry_max, "longest wait between two delivery attempts, seconds",
	     "再送の間隔の上限（秒）"),
	CONF(SETTING_CONF_QUEUE_LIFETIME, "queue.lifetime", SETTING_DURATION, 0, 1, 8640000, "432000", NULL,
	     queue_lifetime, "seconds a message may stay in the queue before it bounces",
	     "配送できないメールをキューに置く秒数（過ぎるとエラーを返送）"),
	CONF(SETTING_CONF_QUEUE_DELAY_WARNING, "queue.delay_warning", SETTING_DURATION, 0, 0, 8640000,
	     "14400", NULL, queue_delay_warning, "seconds before the sender gets a delay notice (0: never)",
	     "送信者に遅延を知らせるまでの秒数（0 は知らせない）"),
	CONF(SETTING_CONF_QUEUE_MAX_PARALLEL, "queue.max_parallel", SETTING_UINT, 0, 1, 1000, "10", NULL,
	     queue_max_parallel, "connections delivering at the same time (outbound threads)",
	     "同時に配送する接続の数（送信スレッド）"),
	CONF(SETTING_CONF_QUEUE_DEST_CONCURRENCY, "queue.dest_concurrency", SETTING_UINT, 0, 1, 1000, "5",
	     NULL, queue_dest_concurrency,
	     "connections to one destination (domain or relay host) at the same time",
	     "1 つの宛先（ドメインまたは中継ホスト）への同時接続数"),
	CONF(SETTING_CONF_SMTP_RELAYHOST, "smtp.relayhost", SETTING_STRING, 0, 0, 0, "", NULL, smtp_relayhost,
	     "smart host for all outbound mail: HOST[:PORT] (MX lookup) or [HOST]:PORT (no MX lookup);"
	     " empty: direct MX delivery",
	     "外向きのメールをすべて渡す中継ホスト：ホスト[:ポート]（MX を引く）または [ホスト]:ポート"
	     "（MX を引かない）。空なら宛先の MX へ直接"),
	CONF(SETTING_CONF_SMTP_RELAYHOST_USER, "smtp.relayhost_user", SETTING_STRING, 0, 0, 0, "", NULL,
	     smtp_relayhost_user, "SMTP AUTH user name at the relay host (sent only over TLS)",
	     "中継ホストでの SMTP 認証のユーザ名（TLS 上でのみ送る）"),
	CONF(SETTING_CONF_SMTP_RELAYHOST_PASSWORD, "smtp.relayhost_password", SETTING_STRING, SETTING_SECRET,
	     0, 0, "", NULL, smtp_relayhost_password, "SMTP AUTH password at the relay host (secret)",
	     "中継ホストでの SMTP 認証のパスワード（秘密）"),
	CONF(SETTING_CONF_SMTP_REMOTE_PORT, "smtp.remote_port", SETTING_UINT, 0, 1, 65535, "25", NULL,
	     smtp_remote_port, "TCP port of remote MX hosts (change only for tests)",
	     "相手の MX ホストの TCP ポート（試験のときだけ変える）"),
	CONF_ENUM(SETTING_CONF_GEOIP_MISSING, "geoip.missing", "allow", allow_deny, geoip_missing,
		  "foreign-access restriction when the GeoIP database is missing or unreadable: allow or deny",
		  "GeoIP データベースがないか読めないときの海外アクセス制限：allow（許可）か deny（拒否）"),
	CONF(SETTING_CONF_FOREIGN_AUTH_ALLOW, "foreign_auth.allow", SETTING_CIDR_LIST, 0, 0, 0, "",
	     settings_check_cidr_list, foreign_auth_allow,
	     "server-wide CIDRs exempt from the foreign-access restriction (comma-separated)",
	     "海外アクセス制限から除外するネットワーク（サーバ全体、CIDR をカンマ区切り）"),
	CONF(SETTING_CONF_FOREIGN_AUTH_RDNS_ALLOW, "foreign_auth.rdns_allow", SETTING_STRING, 0, 0, 0,
	     "google.com,outlook.com,hotmail.com,ap-northeast-1.compute.amazonaws.com,"
	     "ap-northeast-3.compute.amazonaws.com", NULL, foreign_auth_rdns,
	     "reverse-DNS suffixes (forward-confirmed) exempt from the foreign-access restriction",
	     "海外アクセス制限から除外する逆引きホスト名の末尾（正引きで確認）"),
	CONF(SETTING_CONF_FOREIGN_AUTH_RDNS_TIMEOUT, "foreign_auth.rdns_timeout", SETTING_UINT, 0, 100, 10000,
	     "1500", NULL, foreign_auth_rdns_timeout,
	     "milliseconds the reverse-DNS exemption check may take in all",
	     "逆引きによる除外の確認にかけてよいミリ秒数（合計）"),
	CONF(SETTING_CONF_BRUTEFORCE_WINDOW, "bruteforce.window", SETTING_DURATION, 0, 10, 86400, "900",
	     NULL, bf_window, "seconds over which failed logins are counted (per address and per account)",
	     "ログイン失敗を数える期間（秒、アドレスごと・アカウントごと）"),
	CONF(SETTING_CONF_BRUTEFORCE_IP_DELAY_AFTER, "bruteforce.ip_delay_after", SETTING_UINT, 0, 0, 100000,
	     "5", NULL, bf_ip_delay_after,
	     "failed logins from one address (IPv6: /64) before its failure replies are delayed",
	     "1 つのアドレス（IPv6 は /64）からの失敗がこの数を超えると応答を遅らせる"),
	CONF(SETTING_CONF_BRUTEFORCE_IP_BLOCK_AFTER, "bruteforce.ip_block_after", SETTING_UINT, 0, 0, 100000,
	     "15", NULL, bf_ip_block_after,
	     "failed logins from one address that block its logins for a while (0 = never)",
	     "1 つのアドレスからの失敗がこの数に達するとしばらくログインを止める（0 は止めない）"),
	CONF(SETTING_CONF_BRUTEFORCE_BLOCK_TIME, "bruteforce.block_time", SETTING_DURATION, 0, 1, 604800,
	     "900", NULL, bf_block_time, "seconds of a first block; a repeated block within a day doubles",
	     "最初の遮断の秒数。1 日以内に繰り返すと 2 倍に"),
	CONF(SETTING_CONF_BRUTEFORCE_BLOCK_MAX, "bruteforce.block_max", SETTING_DURATION, 0, 1, 2592000,
	     "86400", NULL, bf_block_max, "longest block, seconds", "遮断の最長（秒）"),
	CONF(SETTING_CONF_BRUTEFORCE_ACCOUNT_DELAY_AFTER, "bruteforce.account_delay_after", SETTING_UINT, 0,
	     0, 100000, "10", NULL, bf_account_delay_after,
	     "failed logins for one account before logins to it from new addresses are slowed (never"
	     " blocked; 0 = off)",
	     "1 アカウントへの失敗がこの数を超えると、新しいアドレスからのログインを遅らせる（遮断はしない、0 で無効）"),
	CONF(SETTING_CONF_BRUTEFORCE_DELAY_MAX, "bruteforce.delay_max", SETTING_UINT, 0, 0, 60, "8", NULL,
	     bf_delay_max, "longest reply delay, seconds (delays start at 1 and double)",
	     "応答を遅らせる最長の秒数（1 秒から倍々に）"),
	CONF(SETTING_CONF_VIRUS_CLAMD, "virus.clamd", SETTING_STRING, 0, 0, 0, "/run/clamav/clamd.ctl",
	     settings_check_clamd, virus_clamd,
	     "where clamd (ClamAV) listens: its Unix socket (an absolute path) or ADDRESS:PORT on loopback;"
	     " empty: no virus check",
	     "clamd（ClamAV）の待ち受け先：Unix ソケット（絶対パス）かループバックのアドレス:ポート。空ならウイルス検査なし"),
	CONF(SETTING_CONF_VIRUS_TIMEOUT, "virus.timeout", SETTING_DURATION, 0, 1, 600, "30", NULL,
	     virus_timeout, "seconds one message's virus scan may take (then clamd counts as unavailable)",
	     "1 通のウイルス検査にかけてよい秒数（過ぎると clamd は使えないものとして扱う）"),
	CONF_ENUM(SETTING_CONF_VIRUS_UNAVAILABLE, "virus.unavailable", "accept", accept_defer, virus_unavailable,
		  "when clamd cannot scan a message: accept (with X-Virus-Scan: unavailable) or defer"
		  " (451 4.7.1, the sender retries)",
		  "clamd で検査できないとき：accept（X-Virus-Scan: unavailable を付けて受け取る）か defer"
		  "（451 4.7.1 で再送を求める）"),
	CONF(SETTING_CONF_VIRUS_MAX_SIZE, "virus.max_size", SETTING_SIZE, 0, 0, 1ULL << 32, "25M", NULL,
	     virus_max_size, "larger messages are not sent to clamd and are delivered with X-Virus-Scan: skipped"
	     " (clamd refuses streams above its StreamMaxLength, 25M by default; keep this at or below it); 0: no"
	     " limit",
	     "これより大きいメッセージは clamd に送らず、X-Virus-Scan: skipped を付けて配送する（clamd は"
	     " StreamMaxLength（既定 25M）を超えるものを受け付けないので、これ以下にする）。0 なら制限なし"),
	CONF_ENUM(SETTING_CONF_ACME, "acme.enabled", "off", on_off, acme,
		  "get and renew a certificate for every mail host name (mail., autoconfig., mta-sts. of each"
		  " domain and the names added) from the ACME CA; a name is ordered only once its DNS points here",
		  "各ドメインのホスト名（mail.・autoconfig.・mta-sts. と追加した名前）の証明書を ACME の認証局から"
		  "取得・更新する（DNS がこのサーバーを指す名前だけ）"),
	CONF(SETTING_CONF_ACME_DIRECTORY, "acme.directory", SETTING_STRING, 0, 0, 0,
	     "https://acme-v02.api.letsencrypt.org/directory", settings_check_acme_url, acme_directory,
	     "the ACME CA's directory URL (https://)", "ACME 認証局のディレクトリ URL（https://）"),
	CONF(SETTING_CONF_ACME_CONTACT, "acme.contact", SETTING_STRING, 0, 0, 0, "", settings_check_acme_contact,
	     acme_contact, "mail address the CA may write to about the certificates (empty: none)",
	     "証明書について認証局が連絡するメールアドレス（空なら登録しない）"),
	CONF(SETTING_CONF_ACME_CA_FILE, "acme.ca_file", SETTING_STRING, 0, 0, 0, "", settings_check_path,
	     acme_ca_file, "PEM file of the CAs trusted for the ACME server's own certificate (empty: the system's)",
	     "ACME サーバー自身の証明書を検証する CA の PEM ファイル（空ならシステムの CA）"),
	CONF(SETTING_CONF_ACME_ADDRESSES, "acme.addresses", SETTING_STRING, 0, 0, 0, "",
	     settings_check_ip_list_or_empty, acme_addresses,
	     "this server's public IP addresses, comma-separated; a host name is ordered only when its A/AAAA"
	     " records are among them (empty: listen.address, or the interfaces' addresses when it is a wildcard)",
	     "このサーバーの公開 IP アドレス（カンマ区切り）。A/AAAA がこの中にあるホスト名だけ証明書を申し込む"
	     "（空なら listen.address、ワイルドカードならインターフェースのアドレス）"),
	CONF_ENUM(SETTING_CONF_ACME_CHALLENGE, "acme.challenge", "http-01", acme_challenges, acme_challenge,
		  "how the CA checks a name: http-01 (port 80) or tls-alpn-01 (port 443)",
		  "認証局による名前の確認方法：http-01（ポート 80）か tls-alpn-01（ポート 443）"),
	CONF_ENUM(SETTING_CONF_MTA_STS_OUTBOUND, "mta_sts.outbound", "on", on_off, mta_sts_outbound,
		  "honour recipient domains' MTA-STS policies (RFC 8461): to an enforce domain mail goes only to"
		  " the MX hosts its policy names, over TLS with a valid certificate, else it waits and is retried",
		  "宛先ドメインの MTA-STS ポリシー（RFC 8461）に従う：enforce のドメインには、ポリシーにある MX へ"
		  "有効な証明書の TLS でだけ送り、できなければ保留して再送する"),
	CONF(SETTING_CONF_MTA_STS_CA_FILE, "mta_sts.ca_file", SETTING_STRING, SETTING_RESTART, 0, 0, "",
	     settings_check_path, mta_sts_ca_file,
	     "PEM file of the CAs trusted for MTA-STS policy hosts and MX certificates (empty: the system's)",
	     "MTA-STS のポリシーのホストと MX の証明書を検証する CA の PEM ファイル（空ならシステムの CA）"),
	CONF_ENUM(SETTING_CONF_TLSRPT, "tlsrpt.enabled", "off", on_off, tlsrpt,
		  "send daily TLS reports (RFC 8460) to the domains that ask for them in their _smtp._tls record",
		  "_smtp._tls レコードで求めるドメインに 1 日ごとの TLS レポート（RFC 8460）を送る"),
	CONF(SETTING_CONF_TLSRPT_FROM, "tlsrpt.from", SETTING_STRING, 0, 0, 0, "", settings_check_acme_contact,
	     tlsrpt_from, "sender address of the TLS reports (empty: postmaster@ the server's host name)",
	     "TLS レポートの差出人アドレス（空ならサーバーのホスト名の postmaster）"),
	CONF_ENUM(SETTING_CONF_ROLE, "server.role", "mail", roles, role,
		  "mail: a mail server (alone or a mail node); proxy: IMAP, POP3, ManageSieve and web logins are"
		  " checked here and the sessions and API requests forwarded to each account's home node (restart"
		  " to change)",
		  "mail: メールサーバー（単体またはメールノード）。proxy: IMAP・POP3・ManageSieve・Web のログインを"
		  "ここで確かめ、各アカウントのホームノードへ中継する（変更は再起動で反映）"),
	CONF(SETTING_CONF_NODE_NAME, "node.name", SETTING_STRING, SETTING_RESTART, 0, 63, "", NULL, node_name,
	     "this machine's name in the directory's node list (empty: one machine holds every mailbox)",
	     "ディレクトリのノード一覧でのこのマシンの名前（空なら全メールボックスがこのマシン）"),
	PORT(SETTING_CONF_LMTP_PORT, "lmtp.port", "0", port_lmtp,
	     "LMTP (RFC 2033) for the proxies' deliveries, only from proxy.trusted; 0 disables",
	     "プロキシからの配送用の LMTP（RFC 2033、proxy.trusted からのみ）。0 で無効"),
	CONF(SETTING_CONF_PROXY_TRUSTED, "proxy.trusted", SETTING_CIDR_LIST, 0, 0, 0, "",
	     settings_check_cidr_list, proxy_trusted,
	     "networks of the proxies: only they may use LMTP and log in on behalf of a user (CIDRs)",
	     "プロキシのネットワーク：LMTP と代理ログインはここからだけ（CIDR をカンマ区切り）"),
	CONF(SETTING_CONF_PROXY_USER, "proxy.user", SETTING_STRING, 0, 0, 63, "yubin-proxy", NULL, proxy_user,
	     "the name a proxy logs in with on a node (SASL PLAIN authentication identity)",
	     "プロキシがノードにログインするときの名前（SASL PLAIN の認証 ID）"),
	CONF(SETTING_CONF_PROXY_SECRET, "proxy.secret", SETTING_STRING, SETTING_SECRET, 0, 255, "", NULL,
	     proxy_secret, "the proxies' password on the nodes (secret; empty: proxy logins refused)",
	     "プロキシがノードで使うパスワード（秘密、空なら代理ログインは拒否）"),
	CONF(SETTING_CONF_PROXY_CONNECT_TIMEOUT, "proxy.connect_timeout", SETTING_DURATION, 0, 1, 300, "10",
	     NULL, proxy_connect_timeout, "seconds a proxy waits for a node to answer before a temporary error",
	     "プロキシがノードの応答を待つ秒数（過ぎると一時エラー）"),
	CONF(SETTING_CONF_EVENTS_RETENTION_DAYS, "events.retention_days", SETTING_UINT, 0, 0, 36500, "90",
	     settings_check_retention_days,
	     events_retention_days,
	     "days the event log (logins, refusals, deliveries; doctor and the panels read it) is kept;"
	     " older events are deleted in small batches every 5 minutes (0 = kept for ever, else at least 7)",
	     "イベントログ（ログイン・拒否・配送。doctor やパネルが読む）を残す日数。古いものは 5 分ごとに"
	     "少しずつ消す（0 で消さない。それ以外は 7 以上）"),
	CONF(SETTING_CONF_AUDIT_RETENTION_DAYS, "audit.retention_days", SETTING_UINT, 0, 0, 36500, "365",
	     settings_check_retention_days,
	     audit_retention_days,
	     "days the audit log (who changed what) is kept; older rows are deleted like old events"
	     " (0 = kept for ever)",
	     "監査ログ（誰が何を変えたか）を残す日数。古い行はイベントと同じく消す（0 で消さない）"),
	CONF(SETTING_CONF_AUTH_CACHE_ENTRIES, "auth.cache_entries", SETTING_UINT, SETTING_RESTART, 1024, 4194304,
	     "65536", NULL, auth_cache_entries,
	     "verified logins remembered for an hour so a client's next login skips the password hash"
	     " (48 bytes each: the default 65536 takes 3 MB; a proxy for many users wants about two per"
	     " active user)",
	     "パスワード確認済みのログインを 1 時間覚える数（次のログインはハッシュ計算を省く。1 件 48 バイト、"
	     "既定の 65536 で 3 MB。多数の利用者を受けるプロキシでは利用者数の 2 倍ほど）"),
	CONF(SETTING_CONF_PROXY_SIEVE_PORT, "proxy.sieve_port", SETTING_PORT, 0, 1, 65535, "4190", NULL,
	     proxy_sieve_port,
	     "the nodes' ManageSieve port: a proxy reaches a node's ManageSieve on the host of its IMAP address"
	     " at this port",
	     "ノードの ManageSieve のポート：プロキシはノードの IMAP アドレスのホストのこのポートにつなぐ"),
	CONF_ENUM(SETTING_CONF_PROXY_NODE_TLS, "proxy.node_tls", "off", on_off, proxy_node_tls,
		  "on: a proxy speaks TLS to the nodes (IMAP, POP3, ManageSieve and LMTP by STARTTLS, HTTPS) and"
		  " checks each node's certificate against proxy.node_ca_file and proxy.node_tls_name; off: plain"
		  " TCP on a private network (HTTPS to the nodes stays encrypted, unchecked)",
		  "on: プロキシはノードへ TLS で話し（IMAP・POP3・ManageSieve・LMTP は STARTTLS、HTTPS）、"
		  "ノードの証明書を proxy.node_ca_file と proxy.node_tls_name で確かめる。off: 閉じたネットワーク上の"
		  "平文 TCP（ノードへの HTTPS は暗号化のみで確認しない）"),
	CONF(SETTING_CONF_PROXY_NODE_CA_FILE, "proxy.node_ca_file", SETTING_STRING, SETTING_RESTART, 0, 0, "",
	     settings_check_path, proxy_node_ca_file,
	     "PEM file of the CAs (or the self-signed certificates) the nodes' certificates must chain to when"
	     " proxy.node_tls is on (empty: the system's CAs)",
	     "proxy.node_tls が on のとき、ノードの証明書を検証する CA（または自己署名証明書）の PEM ファイル"
	     "（空ならシステムの CA）"),
	CONF(SETTING_CONF_PROXY_NODE_TLS_NAME, "proxy.node_tls_name", SETTING_STRING, 0, 0, 253, "",
	     settings_check_hostname_or_empty,
	     proxy_node_tls_name,
	     "the host name every node's certificate must carry when proxy.node_tls is on (empty: the host of"
	     " the node's address in the node list, a name or an IP address)",
	     "proxy.node_tls が on のとき、ノードの証明書に必要なホスト名（空ならノード一覧のアドレスのホスト：名前か"
	     " IP アドレス）"),

	DIRS(SETTING_MEMO, "memo", SETTING_ACCOUNT, SETTING_STRING, SETTING_COLUMN, 0, 0, "", NULL,
	     "a note about the account for the administrators", "管理者向けのアカウントのメモ"),
	DIRS(SETTING_ENABLED, "enabled", SETTING_ACCOUNT, SETTING_BOOL, SETTING_COLUMN, 0, 0, "on", NULL,
	     "off: logins are refused and mail to the account is rejected",
	     "off にするとログインを拒み、このアカウント宛てのメールも受け取らない"),
	DIRS(SETTING_FORWARD, "forward", SETTING_ACCOUNT, SETTING_ADDRESS_LIST, 0, 0, 0, "",
	     settings_check_forward,
	     "addresses every incoming message is forwarded to (up to 100, comma-separated; off or empty:"
	     " no forwarding)",
	     "届いたメールを転送する宛先（100 件まで、カンマ区切り。off か空で転送しない）"),
	DIRS(SETTING_FORWARD_KEEP, "forward-keep", SETTING_ACCOUNT, SETTING_BOOL, 0, 0, 0, "on", NULL,
	     "keep a copy of forwarded mail in the mailbox", "転送したメールの控えをメールボックスにも残す"),
	DIRS(SETTING_AUTOREPLY, "autoreply", SETTING_ACCOUNT, SETTING_BOOL, 0, 0, 0, "off", NULL,
	     "answer incoming mail with the auto-reply (once per sender per autoreply-days; never to lists,"
	     " bulk or automatic mail)",
	     "届いたメールに自動応答を返す（同じ差出人には autoreply-days 日に 1 回。メーリングリスト・一斉配信・"
	     "自動送信のメールには返さない）"),
	DIRS(SETTING_AUTOREPLY_SUBJECT, "autoreply-subject", SETTING_ACCOUNT, SETTING_STRING, 0, 0, 0, "",
	     settings_check_autoreply_subject,
	     "the auto-reply's subject (up to 200 bytes; empty: \"Auto: \" and the original subject)",
	     "自動応答の件名（200 バイトまで。空なら「Auto: 」と元の件名）"),
	DIRS(SETTING_AUTOREPLY_BODY, "autoreply-body", SETTING_ACCOUNT, SETTING_STRING, 0, 0, 0, "",
	     settings_check_autoreply_body,
	     "the auto-reply's text (up to 4000 bytes; a line break is written \\n, a backslash \\\\)",
	     "自動応答の本文（4000 バイトまで。改行は \\n、バックスラッシュは \\\\ と書く）"),
	DIRS(SETTING_AUTOREPLY_START, "autoreply-start", SETTING_ACCOUNT, SETTING_STRING, 0, 0, 0, "",
	     settings_check_autoreply_date,
	     "the first day the auto-reply is sent (YYYY-MM-DD, server time; empty: from now)",
	     "自動応答を始める日（YYYY-MM-DD、サーバーの時刻。空なら今すぐ）"),
	DIRS(SETTING_AUTOREPLY_END, "autoreply-end", SETTING_ACCOUNT, SETTING_STRING, 0, 0, 0, "",
	     settings_check_autoreply_date,
	     "the last day the auto-reply is sent (YYYY-MM-DD, server time; empty: until switched off)",
	     "自動応答を送る最後の日（YYYY-MM-DD、サーバーの時刻。空なら off にするまで）"),
	DIRS(SETTING_AUTOREPLY_DAYS, "autoreply-days", SETTING_ACCOUNT, SETTING_UINT, 0, 1, 365, "1", NULL,
	     "days before the same sender gets the auto-reply again (1..365)",
	     "同じ差出人に再び自動応答を返すまでの日数（1〜365）"),
	DIRS(SETTING_AUTOREPLY_QUOTE, "autoreply-quote", SETTING_ACCOUNT, SETTING_BOOL, 0, 0, 0, "off", NULL,
	     "quote the original's text (up to 8 KiB, \"> \" before each line) below the auto-reply's text",
	     "自動応答の本文の後に元のメールの本文を引用する（8 KiB まで、各行の先頭に「> 」）"),
	DIRS(SETTING_SEND_LIMIT_HOUR, "send-limit-hour", SETTING_DOMAIN | SETTING_ACCOUNT, SETTING_LIMIT, 0,
	     0, 10000000, NULL, NULL,
	     "recipients the account may send to in any 60 minutes (unlimited or 0: no limit; unset:"
	     " send_limit.hour)",
	     "任意の 60 分間に送れる宛先数（unlimited か 0 で無制限。未設定なら send_limit.hour）"),
	DIRS(SETTING_SEND_LIMIT_DAY, "send-limit-day", SETTING_DOMAIN | SETTING_ACCOUNT, SETTING_LIMIT, 0,
	     0, 10000000, NULL, NULL,
	     "recipients the account may send to in any 24 hours (unlimited or 0: no limit; unset:"
	     " send_limit.day)",
	     "任意の 24 時間に送れる宛先数（unlimited か 0 で無制限。未設定なら send_limit.day）"),
	DIRS(SETTING_ABUSE_DETECT, "abuse-detect", SETTING_DOMAIN | SETTING_ACCOUNT, SETTING_BOOL, 0, 0, 0,
	     "on", NULL, "suspend sending when the account looks compromised",
	     "乗っ取りが疑われるとき送信を停止する"),
	DIRS(SETTING_TRASH_EXPIRE_DAYS, "trash-expire-days", SETTING_DOMAIN, SETTING_UINT, 0, 0, 3650, "7",
	     NULL, "days Trash and Junk keep mail (0: forever)",
	     "ごみ箱と迷惑メールフォルダにメールを残す日数（0 は削除しない）"),
	DIRS(SETTING_ADMIN_ADDRESS, "admin-address", SETTING_DOMAIN, SETTING_ADDRESS, 0, 0, 0, NULL, NULL,
	     "who gets the domain's notices and DMARC reports (unset: postmaster@DOMAIN)",
	     "ドメインの通知と DMARC レポートの送り先（未設定なら postmaster@ドメイン）"),
	DIRS(SETTING_BATV, "batv", SETTING_DOMAIN, SETTING_BOOL, 0, 0, 0, "off", NULL,
	     "sign outgoing envelope senders (BATV) and refuse bounces to unsigned addresses",
	     "送信するメールのエンベロープ送信者に署名（BATV）し、署名のない宛先へのエラーメールを拒む"),
	DIRS(SETTING_FOREIGN_AUTH, "foreign-auth", SETTING_DOMAIN, SETTING_BOOL, 0, 0, 0, "on", NULL,
	     "allow SMTP AUTH only from the home country (turn off while abroad)",
	     "SMTP 認証を国内からだけ許す（海外にいる間は off に）"),
	DIRS(SETTING_FOREIGN_AUTH_COUNTRY, "foreign-auth-country", SETTING_DOMAIN, SETTING_COUNTRY, 0, 0, 0,
	     "JP", NULL, "the home country of the foreign-access restriction (two letters)",
	     "海外アクセス制限の「国内」とする国（2 文字）"),
	DIRS(SETTING_FOREIGN_AUTH_ALLOW, "foreign-auth-allow", SETTING_DOMAIN, SETTING_CIDR_LIST, 0, 0, 0, "",
	     settings_check_cidr_list, "networks exempt from the domain's foreign-access restriction (CIDRs)",
	     "このドメインの海外アクセス制限から除外するネットワーク（CIDR）"),
	DIRS(SETTING_FOREIGN_AUTH_MAIL, "foreign-auth-mail", SETTING_DOMAIN, SETTING_BOOL, 0, 0, 0, "off",
	     NULL, "restrict POP3 and IMAP logins too, not only SMTP AUTH",
	     "SMTP 認証だけでなく POP3 と IMAP のログインも制限する"),
	DIRS(SETTING_FOREIGN_AUTH_WEB, "foreign-auth-web", SETTING_DOMAIN, SETTING_BOOL, 0, 0, 0, "off",
	     NULL, "restrict mail users' web panel logins too (when foreign-auth is on)",
	     "メールユーザーの Web パネルへのログインも制限する（foreign-auth が on のとき）"),
	DIRS(SETTING_INBOUND_DMARC, "inbound-dmarc", SETTING_DOMAIN, SETTING_BOOL, 0, 0, 0, "off", NULL,
	     "enforce the sender domain's DMARC policy on mail to this domain (off: record only)",
	     "このドメイン宛てのメールに送信元ドメインの DMARC ポリシーを適用する（off は記録だけ）"),
	DIRS_ENUM(SETTING_SENDER_POLICY, "sender-policy", SETTING_DOMAIN, "strict", sender_policies,
		  "sender addresses a login of the domain may use (envelope and From:): strict (its own,"
		  " +tags and send-as), domain (any of its domain, and send-as) or off (any)",
		  "ドメインのログインが使える送信者アドレス（エンベロープと From:）：strict（自分・+タグ・"
		  "send-as）、domain（同じドメインの全アドレスと send-as）、off（制限なし）"),
	DIRS_DB(SETTING_SEND_AS, "send-as", SETTING_ACCOUNT, SETTING_ADDRESS_LIST, "", settings_check_send_as,
		settings_check_send_as_domains,
		"other addresses the account may send as, in domains hosted here (comma-separated;"
		" *@DOMAIN for all of a domain; off or empty: none)",
		"このアカウントが送信者として使えるほかのアドレス（ここで扱うドメインのもの、カンマ区切り。"
		"*@ドメイン でそのドメイン全体。off か空でなし）"),
	DIRS(SETTING_VIRUS, "virus", SETTING_DOMAIN, SETTING_BOOL, 0, 0, 0, "on", NULL,
	     "scan mail to and from this domain for viruses (clamd); a virus is refused with 554 5.7.1",
	     "このドメイン宛て・発のメールをウイルス検査する（clamd）。ウイルスは 554 5.7.1 で拒否"),
	DIRS(SETTING_SPAM, "spam", SETTING_DOMAIN | SETTING_ACCOUNT, SETTING_BOOL, 0, 0, 0, "on", NULL,
	     "check mail from outside for spam: tag it \"[SPAM]\" and apply spam-action",
	     "外部からのメールを迷惑メール判定し、「[SPAM]」を付けて spam-action に従う"),
	DIRS(SETTING_SPAM_LEVEL, "spam-level", SETTING_DOMAIN | SETTING_ACCOUNT, SETTING_UINT, 0, 1, 6, "3",
	     NULL, "how strict the spam filter is: 1 catches only the obvious, 6 is the strictest",
	     "迷惑メール判定の強さ：1 は明らかなものだけ、6 が最も厳しい"),
	DIRS_ENUM(SETTING_SPAM_ACTION, "spam-action", SETTING_DOMAIN | SETTING_ACCOUNT, "inbox", spam_actions,
		  "where detected spam goes: inbox (tagged only), junk (the Junk folder), trash, or delete",
		  "迷惑メールの行き先：inbox（印を付けるだけ）、junk（迷惑メールフォルダ）、trash（ごみ箱）、"
		  "delete（削除）"),
	DIRS_ENUM(SETTING_MTA_STS, "mta-sts", SETTING_DOMAIN, "testing", mta_sts_modes,
		  "the MTA-STS policy mode served at https://mta-sts.DOMAIN/ (RFC 8461): testing (senders"
		  " only report TLS failures), enforce (senders refuse to deliver without valid TLS to the"
		  " listed MX) or none (withdraw the policy)",
		  "https://mta-sts.ドメイン/ で公開する MTA-STS ポリシーのモード（RFC 8461）：testing（送信側は"
		  "TLS の失敗を報告するだけ）、enforce（正しい TLS で MX に届けられないときは送らない）、none"
		  "（ポリシーを取り下げる）"),
	DIRS(SETTING_MTA_STS_MAX_AGE, "mta-sts-max-age", SETTING_DOMAIN, SETTING_DURATION, 0, 86400, 31557600,
	     "604800", NULL, "how long senders may cache the MTA-STS policy (max_age; 1 day to 1 year)",
	     "送信側が MTA-STS ポリシーをキャッシュしてよい期間（max_age。1 日〜1 年）"),
};

const struct setting *settings_get(enum setting_id id)
{
	return (unsigned)id < SETTING_COUNT ? &settings_table[id] : NULL;
}

const char *settings_key(enum setting_id id)
{
	return (unsigned)id < SETTING_COUNT ? settings_table[id].key : "";
}

const struct setting *settings_find(const char *key, enum setting_scope scope)
{
	for (unsigned i = 0; i < SETTING_COUNT; i++) {
		if ((settings_table[i].scopes & scope) != 0 && strcmp(settings_table[i].key, key) == 0)
			return &settings_table[i];
	}
	return NULL;
}

const char *settings_scope_name(enum setting_scope scope)
{
	return scope == SETTING_SERVER ? "server" : scope == SETTING_DOMAIN ? "domain" : "account";
}

void settings_keys_text(enum setting_scope scope, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < SETTING_COUNT && len < size; i++) {
		if ((settings_table[i].scopes & scope) != 0)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "",
						settings_table[i].key);
	}
}
