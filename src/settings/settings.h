#ifndef YUBIN_SETTINGS_SETTINGS_H
#define YUBIN_SETTINGS_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every setting of Yubin in one typed table (settings_table.c): the
 * server's (yubin.conf, stored in struct config), the per-domain and the
 * per-account ones (stored in the directory). Each has one key, the same in
 * the file, the CLI, the JSON API and the panel; a type, a default, a
 * validator, help in English and Japanese. Code reads a setting through a
 * typed getter by its ID, never by its key text, and checks a new value
 * with settings_check(), so each rule has one home. */

struct config;
struct directory;

enum setting_id {
	/* server (yubin.conf) */
	SETTING_CONF_HOSTNAME,
	SETTING_CONF_LISTEN_ADDRESS,
	SETTING_CONF_SMTP_PORT,
	SETTING_CONF_SUBMISSION_PORT,
	SETTING_CONF_SMTPS_PORT,
	SETTING_CONF_POP3_PORT,
	SETTING_CONF_POP3S_PORT,
	SETTING_CONF_IMAP_PORT,
	SETTING_CONF_IMAPS_PORT,
	SETTING_CONF_SIEVE_PORT,
	SETTING_CONF_HTTP_PORT,
	SETTING_CONF_HTTPS_PORT,
	SETTING_CONF_HTTP_MAX_HEADER_SIZE,
	SETTING_CONF_HTTP_MAX_BODY_SIZE,
	SETTING_CONF_HTTP_TIMEOUT,
	SETTING_CONF_HTTP_REQUEST_TIMEOUT,
	SETTING_CONF_HTTP_MAX_CONNECTIONS,
	SETTING_CONF_HTTP_MAX_CONNECTIONS_PER_IP,
	SETTING_CONF_HTTP_SESSION_IDLE,
	SETTING_CONF_HTTP_SESSION_LIFETIME,
	SETTING_CONF_SMTP_MAX_MESSAGE_SIZE,
	SETTING_CONF_SMTP_MAX_RECIPIENTS,
	SETTING_CONF_SMTP_MAX_CONNECTIONS,
	SETTING_CONF_SMTP_MAX_CONNECTIONS_PER_IP,
	SETTING_CONF_SMTP_MAX_LINE_LENGTH,
	SETTING_CONF_SMTP_MAX_ERRORS,
	SETTING_CONF_SMTP_MAX_COMMANDS,
	SETTING_CONF_SMTP_TIMEOUT,
	SETTING_CONF_SMTP_DATA_TIMEOUT,
	SETTING_CONF_SMTP_COMMAND_TOTAL_TIMEOUT,
	SETTING_CONF_SMTP_DATA_TOTAL_TIMEOUT,
	SETTING_CONF_POP3_TIMEOUT,
	SETTING_CONF_POP3_COMMAND_TOTAL_TIMEOUT,
	SETTING_CONF_POP3_MAX_CONNECTIONS_PER_IP,
	SETTING_CONF_IMAP_TIMEOUT,
	SETTING_CONF_IMAP_IDLE_TIMEOUT,
	SETTING_CONF_IMAP_COMMAND_TOTAL_TIMEOUT,
	SETTING_CONF_IMAP_APPEND_LIMIT,
	SETTING_CONF_IMAP_MAX_CONNECTIONS_PER_IP,
	SETTING_CONF_SIEVE_TIMEOUT,
	SETTING_CONF_SIEVE_MAX_CONNECTIONS_PER_IP,
	SETTING_CONF_SIEVE_MAX_SCRIPT_SIZE,
	SETTING_CONF_SIEVE_MAX_SCRIPTS,
	SETTING_CONF_IMAP_MAX_LINE_LENGTH,
	SETTING_CONF_IMAP_SEARCH_INDEX,
	SETTING_CONF_SERVER_LOOPS,
	SETTING_CONF_SERVER_WORKERS,
	SETTING_CONF_SERVER_SHUTDOWN_GRACE,
	SETTING_CONF_SERVER_JOURNAL_MS,
	SETTING_CONF_SERVER_USER,
	SETTING_CONF_DIRECTORY_URL,
	SETTING_CONF_LOG_LEVEL,
	SETTING_CONF_SEND_LIMIT_HOUR,
	SETTING_CONF_SEND_LIMIT_DAY,
	SETTING_CONF_ABUSE_BURST_MIN,
	SETTING_CONF_ABUSE_BURST_FACTOR,
	SETTING_CONF_ABUSE_NEW_RCPT_MAX,
	SETTING_CONF_ABUSE_NEW_RCPT_WINDOW,
	SETTING_CONF_ABUSE_BOUNCE_MIN,
	SETTING_CONF_ABUSE_BOUNCE_PERCENT,
	SETTING_CONF_ABUSE_LOGIN_COUNTRIES,
	SETTING_CONF_ABUSE_LOGIN_WINDOW,
	SETTING_CONF_DNS_RESOLVER,
	SETTING_CONF_DNS_MESSAGE_BUDGET,
	SETTING_CONF_QUEUE_RETRY_MIN,
	SETTING_CONF_QUEUE_RETRY_MAX,
	SETTING_CONF_QUEUE_LIFETIME,
	SETTING_CONF_QUEUE_DELAY_WARNING,
	SETTING_CONF_QUEUE_MAX_PARALLEL,
	SETTING_CONF_QUEUE_DEST_CONCURRENCY,
	SETTING_CONF_SMTP_RELAYHOST,
	SETTING_CONF_SMTP_RELAYHOST_USER,
	SETTING_CONF_SMTP_RELAYHOST_PASSWORD,
	SETTING_CONF_SMTP_REMOTE_PORT,
	SETTING_CONF_GEOIP_MISSING,
	SETTING_CONF_FOREIGN_AUTH_ALLOW,
	SETTING_CONF_FOREIGN_AUTH_RDNS_ALLOW,
	SETTING_CONF_FOREIGN_AUTH_RDNS_TIMEOUT,
	SETTING_CONF_BRUTEFORCE_WINDOW,
	SETTING_CONF_BRUTEFORCE_IP_DELAY_AFTER,
	SETTING_CONF_BRUTEFORCE_IP_BLOCK_AFTER,
	SETTING_CONF_BRUTEFORCE_BLOCK_TIME,
	SETTING_CONF_BRUTEFORCE_BLOCK_MAX,
	SETTING_CONF_BRUTEFORCE_ACCOUNT_DELAY_AFTER,
	SETTING_CONF_BRUTEFORCE_DELAY_MAX,
	SETTING_CONF_VIRUS_CLAMD,
	SETTING_CONF_VIRUS_TIMEOUT,
	SETTING_CONF_VIRUS_UNAVAILABLE,
	SETTING_CONF_VIRUS_MAX_SIZE,
	SETTING_CONF_ACME,
	SETTING_CONF_ACME_DIRECTORY,
	SETTING_CONF_ACME_CONTACT,
	SETTING_CONF_ACME_CA_FILE,
	SETTING_CONF_ACME_ADDRESSES,
	SETTING_CONF_ACME_CHALLENGE,
	SETTING_CONF_MTA_STS_OUTBOUND,
	SETTING_CONF_MTA_STS_CA_FILE,
	SETTING_CONF_TLSRPT,
	SETTING_CONF_TLSRPT_FROM,
	SETTING_CONF_ROLE,		/* scale-out (issue 16): server/proxy*.c, lmtp*.c */
	SETTING_CONF_NODE_NAME,
	SETTING_CONF_LMTP_PORT,
	SETTING_CONF_PROXY_TRUSTED,
	SETTING_CONF_PROXY_USER,
	SETTING_CONF_PROXY_SECRET,
	SETTING_CONF_PROXY_CONNECT_TIMEOUT,
	SETTING_CONF_EVENTS_RETENTION_DAYS,	/* directory upkeep (server/dir_maint.c) */
	SETTING_CONF_AUDIT_RETENTION_DAYS,
	SETTING_CONF_AUTH_CACHE_ENTRIES,	/* server/auth.c */
	SETTING_CONF_PROXY_SIEVE_PORT,
	SETTING_CONF_PROXY_NODE_TLS,
	SETTING_CONF_PROXY_NODE_CA_FILE,
	SETTING_CONF_PROXY_NODE_TLS_NAME,
	/* domain and account (the directory) */
	SETTING_MEMO,
	SETTING_ENABLED,
	SETTING_FORWARD,
	SETTING_FORWARD_KEEP,
	SETTING_AUTOREPLY,
	SETTING_AUTOREPLY_SUBJECT,
	SETTING_AUTOREPLY_BODY,
	SETTING_AUTOREPLY_START,
	SETTING_AUTOREPLY_END,
	SETTING_AUTOREPLY_DAYS,
	SETTING_AUTOREPLY_QUOTE,
	SETTING_SEND_LIMIT_HOUR,
	SETTING_SEND_LIMIT_DAY,
	SETTING_ABUSE_DETECT,
	SETTING_TRASH_EXPIRE_DAYS,
	SETTING_ADMIN_ADDRESS,
	SETTING_BATV,
	SETTING_FOREIGN_AUTH,
	SETTING_FOREIGN_AUTH_COUNTRY,
	SETTING_FOREIGN_AUTH_ALLOW,
	SETTING_FOREIGN_AUTH_MAIL,
	SETTING_FOREIGN_AUTH_WEB,
	SETTING_INBOUND_DMARC,
	SETTING_SENDER_POLICY,
	SETTING_SEND_AS,
	SETTING_VIRUS,
	SETTING_SPAM,
	SETTING_SPAM_LEVEL,
	SETTING_SPAM_ACTION,
	SETTING_MTA_STS,
	SETTING_MTA_STS_MAX_AGE,
	SETTING_COUNT
};

/* Where a setting lives; a key may be both a domain and an account setting
 * (the account's value wins, then the domain's, then the default). */
enum setting_scope {
	SETTING_SERVER = 1 << 0,
	SETTING_DOMAIN = 1 << 1,
	SETTING_ACCOUNT = 1 << 2,
};

enum setting_type {
	SETTING_BOOL,		/* on/off (also yes/no, true/false, 1/0), stored on/off */
	SETTING_UINT,		/* a number within min..max */
	SETTING_PORT,		/* a TCP port, 0 = the listener is off */
	SETTING_SIZE,		/* bytes, K/M/G suffixes */
	SETTING_DURATION,	/* seconds, s/m/h/d suffixes */
	SETTING_LIMIT,		/* a number of recipients, or unlimited (0) */
	SETTING_ENUM,		/* one of choices */
	SETTING_STRING,		/* text, checked by the validator if any */
	SETTING_HOSTNAME,	/* a DNS host name */
	SETTING_ADDRESS,	/* one mail address */
	SETTING_ADDRESS_LIST,	/* mail addresses, comma-separated */
	SETTING_IP_LIST,	/* IP addresses, comma-separated */
	SETTING_CIDR_LIST,	/* networks, comma-separated */
	SETTING_COUNTRY,	/* ISO 3166-1 alpha-2 */
};

enum setting_flag {
	SETTING_SECRET = 1 << 0,	/* never shown unless asked for */
	SETTING_RESTART = 1 << 1,	/* applies only when yubind restarts */
	SETTING_COLUMN = 1 << 2,	/* an account column, not in the settings table */
};

/* Checks value for the setting of `name` (the domain or address; "" for
 * server settings); writes the value to store into norm. A warning about
 * an accepted but risky value goes into warn. 0, or -1 with *error_r. */
typedef int setting_check_fn(const char *name, const char *value, char *norm, size_t normsize,
			     char *warn, size_t warnsize, const char **error_r);
/* A check of the normalised value against the directory (e.g. that a
 * domain it names is hosted here), made when the value is stored. */
typedef int setting_dir_check_fn(struct directory *dir, const char *norm, const char **error_r);

struct setting {
	enum setting_id id;
	const char *key;
	unsigned scopes;		/* enum setting_scope bits */
	enum setting_type type;
	unsigned flags;			/* enum setting_flag bits */
	uint64_t min, max;		/* numbers */
	const char *def;		/* the default's text form */
	const char *const *choices;	/* SETTING_ENUM, NULL-terminated */
	setting_check_fn *check;	/* on top of the type's own check, or NULL */
	size_t offset, size;		/* server settings: the field in struct config */
	const char *help_en, *help_ja;
	setting_dir_check_fn *dir_check;	/* when storing, or NULL */
};

/* The table, indexed by enum setting_id. */
extern const struct setting settings_table[SETTING_COUNT];

const struct setting *settings_get(enum setting_id id);
const char *settings_key(enum setting_id id);
/* The setting called key that lives in scope, or NULL. */
const struct setting *settings_find(const char *key, enum setting_scope scope);
/* "server", "domain" or "account" (also the directory's scope names). */
const char *settings_scope_name(enum setting_scope scope);
/* "on|off", "0..3650", "debug|info|warn|error", "CIDR list", ... */
void settings_type_text(const struct setting *s, char *buf, size_t size);
/* Known keys of a scope, comma-separated, for "unknown setting" messages. */
void settings_keys_text(enum setting_scope scope, char *buf, size_t size);

/* true when the value is text (not a number) in struct config and JSON. */
bool settings_is_text(const struct setting *s);

/* The one boolean parser: on/off, yes/no, true/false, 1/0, any case. */
int settings_bool_parse(const char *s, bool *value_r);
/* A duration: digits with an optional s, m, h or d suffix, in seconds. */
int settings_duration_parse(const char *s, uint64_t *seconds_r);

/* Checks a new value of s for name (domain, address or ""), normalised into
 * norm (booleans become on/off, countries upper case, lists canonical).
 * 0 or -1 with *error_r, a sentence. */
int settings_check(const struct setting *s, const char *name, const char *value, char *norm,
		   size_t normsize, char *warn, size_t warnsize, const char **error_r);
/* What list/get print for the stored value: secrets masked unless show. */
const char *settings_display(const struct setting *s, const char *value, bool show);

/* ---- typed getters for domain and account settings. A missing or
 * unreadable value gives the default; an account getter of a key that is
 * also a domain setting falls back to the account's domain first. */
bool settings_domain_bool(struct directory *dir, const char *domain, enum setting_id id);
bool settings_account_bool(struct directory *dir, const char *address, enum setting_id id);
uint64_t settings_domain_uint(struct directory *dir, const char *domain, enum setting_id id);
/* The value (or default) into buf; 1 when stored, 0 the default, -1 the
 * default after a directory error. */
int settings_domain_string(struct directory *dir, const char *domain, enum setting_id id,
			   char *buf, size_t size);
int settings_account_string(struct directory *dir, const char *address, enum setting_id id,
			    char *buf, size_t size);
/* Checks value with settings_check and stores its normal form (into
 * norm) as the setting s of scope/name: the one way a domain or account
 * setting is written (yubinctl, and the JSON API next). Not for account
 * columns (SETTING_COLUMN). 0, or -1 with *error_r. */
int settings_store(struct directory *dir, enum setting_scope scope, const char *name,
		   const struct setting *s, const char *value, char *norm, size_t normsize,
		   char *warn, size_t warnsize, const char **error_r);
/* The sending limits in force for address: the account's setting, the
 * domain's, then yubin.conf's (0 = unlimited). */
void settings_send_limits(struct directory *dir, const struct config *cfg, const char *address,
			  uint64_t *hour_r, uint64_t *day_r);

/* The foreign-access restriction of a domain as the daemon applies it. */
struct settings_foreign {
	bool on;		/* foreign-auth: SMTP AUTH restricted */
	bool mail;		/* foreign-auth-mail: POP3 and IMAP too */
	bool web;		/* foreign-auth-web: mail users' panel logins */
	char home[3];		/* foreign-auth-country */
	char allow[1024];	/* foreign-auth-allow */
};
void settings_foreign_get(struct directory *dir, const char *domain, struct settings_foreign *f);
/* Whether a login to service ("smtp", "pop3", "imap", "web") is restricted. */
bool settings_foreign_applies(const struct settings_foreign *f, const char *service);

/* ---- yubin.conf through the table (settings_conf.c) */
void settings_conf_defaults(struct config *cfg);
/* Sets one server key from its text form after settings_check. */
int settings_conf_set(struct config *cfg, const char *key, const char *value, const char **error_r);
/* Formats one key's current value (secrets in clear: mask with
 * settings_display). -1 for an unknown key. */
int settings_conf_get(const struct config *cfg, const char *key, char *buf, size_t bufsize);
/* Parses a whole file's text on top of the current values (pure). */
int settings_conf_parse(struct config *cfg, const char *text, size_t len, unsigned *line_r,
			const char **error_r);
/* Reads and parses DATA/yubin.conf into cfg (defaults first). */
int settings_conf_load(struct config *cfg, const char *path, char *err, size_t errsize);

#endif
