/* yubinctl: the command line for a Yubin data directory. This file parses
 * the command line, picks the command from a table and holds the helpers
 * every command shares. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "directory/validate.h"
#include "lib/config.h"
#include "lib/json.h"
#include "lib/str.h"
#include "settings/settings.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	OPT_JSON = 1 << 0,
	OPT_FORCE = 1 << 1,
	OPT_PWSTDIN = 1 << 2,
	OPT_QUOTA = 1 << 3,
	OPT_MEMO = 1 << 4,
	OPT_HOSTNAME = 1 << 5,
	OPT_PORT_OFFSET = 1 << 6,
	OPT_LISTEN = 1 << 7,
	OPT_FROM = 1 << 8,
	OPT_NOW = 1 << 9,
	OPT_SHOW_SECRETS = 1 << 10,
	OPT_LIMIT = 1 << 11,
	OPT_TARGET = 1 << 12,
	OPT_ROLE = 1 << 13,
	OPT_DOMAIN = 1 << 14,
	OPT_EXPIRES = 1 << 15,
	OPT_KIND = 1 << 16,
	OPT_CHECK = 1 << 17,
	OPT_ACTOR = 1 << 18,
	OPT_HAM = 1 << 19,
	OPT_SPAM = 1 << 20,
	OPT_ACCOUNT = 1 << 21,
	OPT_LIST = 1 << 22,
	OPT_PORTABLE = 1 << 23,
	OPT_LANG = 1 << 24,
	OPT_SINCE = 1 << 25,
	OPT_TO = 1 << 28,		/* directory copy --to */
	OPT_NODE = 1 << 29,		/* account add --node */
	OPT_SEARCH_ONLY = 1 << 30,	/* index rebuild --search-only */
	OPT_NO_MOVE = 1 << 27,		/* node drain --no-move */
};

struct ctl_option {
	const char *name;
	unsigned flag;
	bool has_value;
};

static const struct ctl_option ctl_options[] = {
	{ "--json", OPT_JSON, false },
	{ "--force", OPT_FORCE, false },
	{ "--password-stdin", OPT_PWSTDIN, false },
	{ "--quota", OPT_QUOTA, true },
	{ "--memo", OPT_MEMO, true },
	{ "--hostname", OPT_HOSTNAME, true },
	{ "--port-offset", OPT_PORT_OFFSET, true },
	{ "--listen", OPT_LISTEN, true },
	{ "--from", OPT_FROM, true },
	{ "--now", OPT_NOW, false },
	{ "--show-secrets", OPT_SHOW_SECRETS, false },
	{ "--limit", OPT_LIMIT, true },
	{ "--target", OPT_TARGET, true },
	{ "--role", OPT_ROLE, true },
	{ "--domain", OPT_DOMAIN, true },
	{ "--expires", OPT_EXPIRES, true },
	{ "--kind", OPT_KIND, true },
	{ "--check", OPT_CHECK, false },
	{ "--actor", OPT_ACTOR, true },
	{ "--ham", OPT_HAM, true },
	{ "--spam", OPT_SPAM, true },
	{ "--account", OPT_ACCOUNT, true },
	{ "--list", OPT_LIST, true },
	{ "--portable", OPT_PORTABLE, false },
	{ "--lang", OPT_LANG, true },
	{ "--since", OPT_SINCE, true },
	{ "--search-only", OPT_SEARCH_ONLY, false },
	{ "--to", OPT_TO, true },
	{ "--node", OPT_NODE, true },
	{ "--no-move", OPT_NO_MOVE, false },
	{ NULL, 0, false },
};

struct ctl_command {
	const char *group, *verb;	/* verb NULL: the group is the command */
	int min_args, max_args;
	unsigned opts, required;	/* options allowed, options that must be given */
	ctl_cmd_fn *run;
};

static const struct ctl_command ctl_commands[] = {
	{ "init", NULL, 0, 0, OPT_HOSTNAME | OPT_PORT_OFFSET | OPT_LISTEN, OPT_HOSTNAME, cmd_init },
	{ "domain", "add", 1, 1, 0, 0, cmd_domain_add },
	{ "domain", "del", 1, 1, OPT_FORCE, 0, cmd_domain_del },
	{ "domain", "list", 0, 0, OPT_JSON, 0, cmd_domain_list },
	{ "domain", "show", 1, 1, OPT_JSON, 0, cmd_domain_show },
	{ "domain", "set", 3, 3, 0, 0, cmd_domain_set },
	{ "domain", "unset", 2, 2, 0, 0, cmd_domain_unset },
	{ "domain", "dns", 1, 1, OPT_JSON | OPT_CHECK, 0, cmd_domain_dns },
	{ "account", "add", 1, 1, OPT_QUOTA | OPT_MEMO | OPT_PWSTDIN | OPT_NODE, 0, cmd_account_add },
	{ "node", "add", 2, 6, 0, 0, cmd_node_add },
	{ "node", "list", 0, 0, OPT_JSON, 0, cmd_node_list },
	{ "node", "drain", 1, 1, OPT_NO_MOVE, 0, cmd_node_drain },
	{ "account", "move", 2, 2, 0, 0, cmd_account_move },
	{ "node", "activate", 1, 1, 0, 0, cmd_node_activate },
	{ "node", "remove", 1, 1, 0, 0, cmd_node_remove },
	{ "account", "add-bulk", 1, 1, 0, 0, cmd_account_add_bulk },
	{ "account", "passwd", 1, 1, OPT_PWSTDIN, 0, cmd_account_passwd },
	{ "account", "quota", 2, 2, 0, 0, cmd_account_quota },
	{ "account", "show", 1, 1, OPT_JSON, 0, cmd_account_show },
	{ "account", "list", 0, 1, OPT_JSON, 0, cmd_account_list },
	{ "account", "del", 1, 1, 0, 0, cmd_account_del },
	{ "account", "enable", 1, 1, 0, 0, cmd_account_enable },
	{ "account", "disable", 1, 1, 0, 0, cmd_account_disable },
	{ "account", "set", 3, 3, 0, 0, cmd_account_set },
	{ "account", "unset", 2, 2, 0, 0, cmd_account_unset },
	{ "account", "unsuspend", 1, 1, 0, 0, cmd_account_unsuspend },
	{ "config", "get", 1, 1, OPT_JSON | OPT_SHOW_SECRETS, 0, cmd_config_get },
	{ "config", "set", 2, 2, 0, 0, cmd_config_set },
	{ "config", "list", 0, 0, OPT_JSON | OPT_SHOW_SECRETS, 0, cmd_config_list },
	{ "settings", "list", 0, 1, OPT_JSON, 0, cmd_settings_list },
	{ "doctor", NULL, 1, 1, OPT_JSON | OPT_LANG | OPT_SINCE, 0, cmd_doctor },
	{ "admin", "add", 1, 1, OPT_ROLE | OPT_DOMAIN | OPT_PWSTDIN, OPT_ROLE, cmd_admin_add },
	{ "admin", "list", 0, 0, OPT_JSON, 0, cmd_admin_list },
	{ "admin", "del", 1, 1, 0, 0, cmd_admin_del },
	{ "admin", "passwd", 1, 1, OPT_PWSTDIN, 0, cmd_admin_passwd },
	{ "token", "create", 0, 0, OPT_ROLE | OPT_DOMAIN | OPT_EXPIRES, OPT_ROLE, cmd_token_create },
	{ "token", "list", 0, 0, OPT_JSON, 0, cmd_token_list },
	{ "token", "revoke", 1, 1, 0, 0, cmd_token_revoke },
	{ "audit", NULL, 0, 0, OPT_JSON | OPT_LIMIT | OPT_TARGET | OPT_DOMAIN | OPT_ACTOR, 0, cmd_audit },
	{ "index", "rebuild", 1, 1, OPT_FORCE | OPT_SEARCH_ONLY, 0, cmd_index_rebuild },
	{ "directory", "migrate", 0, 0, 0, 0, cmd_directory_migrate },
	{ "directory", "copy", 0, 0, OPT_TO, OPT_TO, cmd_directory_copy },
	{ "queue", "list", 0, 0, OPT_JSON, 0, cmd_queue_list },
	{ "queue", "show", 1, 1, 0, 0, cmd_queue_show },
	{ "queue", "retry", 0, 1, 0, 0, cmd_queue_retry },
	{ "tlsrpt", "send", 0, 1, 0, 0, cmd_tlsrpt_send },
	{ "queue", "delete", 1, 1, 0, 0, cmd_queue_delete },
	{ "queue", "inject", 1, 1000, OPT_FROM, OPT_FROM, cmd_queue_inject },
	{ "geoip", "update", 0, 0, OPT_FROM, 0, cmd_geoip_update },
	{ "geoip", "lookup", 1, 1, 0, 0, cmd_geoip_lookup },
	{ "geoip", "override", 1, 3, 0, 0, cmd_geoip_override },
	{ "security", "list", 0, 0, OPT_JSON, 0, cmd_security_list },
	{ "security", "unblock", 1, 1, 0, 0, cmd_security_unblock },
	{ "security", "suspended", 0, 0, OPT_JSON, 0, cmd_security_suspended },
	{ "security", "events", 0, 0, OPT_JSON | OPT_LIMIT | OPT_TARGET | OPT_DOMAIN | OPT_KIND, 0,
	  cmd_security_events },
	{ "cert", "list", 0, 1, OPT_JSON, 0, cmd_cert_list },
	{ "cert", "show", 1, 1, OPT_JSON, 0, cmd_cert_show },
	{ "cert", "renew", 0, 1, OPT_JSON | OPT_FORCE, 0, cmd_cert_renew },
	{ "cert", "import", 3, 3, 0, 0, cmd_cert_import },
	{ "cert", "add", 2, 2, 0, 0, cmd_cert_add },
	{ "cert", "remove", 1, 1, 0, 0, cmd_cert_remove },
	{ "dkim", "show", 1, 1, OPT_JSON, 0, cmd_dkim_show },
	{ "dkim", "rotate", 1, 1, OPT_NOW, 0, cmd_dkim_rotate },
	{ "dkim", "activate", 1, 1, 0, 0, cmd_dkim_activate },
	{ "dkim", "verify", 0, 1, OPT_JSON, 0, cmd_dkim_verify },
	{ "spam", "score", 0, 100000, OPT_ACCOUNT | OPT_LIST, 0, cmd_spam_score },
	{ "spam", "train", 0, 0, OPT_HAM | OPT_SPAM | OPT_ACCOUNT | OPT_PORTABLE, 0, cmd_spam_train },
	{ "spam", "stats", 0, 0, OPT_ACCOUNT, 0, cmd_spam_stats },
	{ "spam", "allow", 2, 3, OPT_JSON, 0, cmd_spam_allow },
	{ "spam", "block", 2, 3, OPT_JSON, 0, cmd_spam_block },
	{ "sieve", NULL, 2, 4, OPT_JSON, 0, cmd_sieve },
	{ "rules", NULL, 2, 8, OPT_JSON, 0, cmd_rules },
	{ "autoreply", NULL, 2, 8, OPT_JSON, 0, cmd_autoreply }, /* not a setting key */
	{ NULL, NULL, 0, 0, 0, 0, NULL },
};

static const char ctl_usage_help[] =
	"usage: yubinctl [-d DATA] COMMAND ...\n"
	"  init --hostname HOST [--port-offset N] [--listen ADDR]\n"
	"  domain add|del|show DOMAIN          (del: --force when it has accounts)\n"
	"  domain list [--json]                 (show takes --json too)\n"
	"  domain set DOMAIN KEY VALUE          (yubinctl settings list domain: every key)\n"
	"  domain unset DOMAIN KEY              (back to the default)\n"
	"  domain dns DOMAIN [--json] [--check] (the MX, SPF, DKIM and DMARC records to publish;\n"
	"                                       --check: what DNS answers now for each)\n"
	"  account add ADDRESS [--quota MB] [--memo TEXT] [--password-stdin] [--node NODE]\n"
	"                                       (with nodes: the named one, else most free space)\n"
	"  account add-bulk FILE|-               (lines address,password,MB,memo; at most 100; all or none)\n"
	"  account passwd ADDRESS [--password-stdin]\n"
	"  account quota ADDRESS MB\n"
	"  account show ADDRESS [--json]\n"
	"  account list [DOMAIN] [--json]\n"
	"  account del ADDRESS                  (deletes its mail too)\n"
	"  account enable|disable ADDRESS\n"
	"  account set ADDRESS KEY VALUE        (yubinctl settings list account: every key)\n"
	"  account unset ADDRESS KEY            (back to the domain's value or the default)\n"
	"  account unsuspend ADDRESS            (lift a sending suspension)\n"
	"  node add NAME [imap=H:P] [pop3=H:P] [lmtp=H:P] [http=H:P] [capacity=SIZE]\n"
	"  node list [--json] | node drain|activate|remove NAME   (mail nodes: issue 16)\n"
	"                                       (drain moves the node's accounts away; --no-move: only\n"
	"                                       stops new ones)\n"
	"  account move ADDRESS NODE            (the mailbox, online; run it on a proxy)\n"
	"  config get KEY [--json] | config set KEY VALUE | config list [--json]\n"
	"                                       (secrets masked unless --show-secrets;\n"
	"                                       VALUE - reads it from standard input)\n"
	"  settings list [server|domain|account] [--json]   (every setting: type, default, help)\n"
"  audit [--json] [--limit N] [--target DOMAIN|ADDRESS] [--domain D] [--actor admin:NAME]\n"
	"                                       (who changed what, newest first)\n"
"  admin add NAME --role server|domain [--domain D ...] [--password-stdin]\n"
	"  admin list [--json] | admin del NAME | admin passwd NAME [--password-stdin]\n"
	"  token create --role server|domain [--domain D ...] [--expires 90d]   (prints the token once)\n"
	"  token list [--json] | token revoke ID\n"
	"  doctor ADDRESS [--since 7d] [--json] [--lang en|ja]\n"
	"                                       (exit status 1 when it finds a problem: FAIL)\n"
	"  index rebuild ADDRESS [--force]      (--force: a new index and UIDVALIDITY)\n"
	"  index rebuild ADDRESS --search-only  (only the full-text search index)\n"
	"  directory migrate                    (bring the directory's schema up to date)\n"
	"  directory copy --to postgresql://... (this SQLite directory into an empty PostgreSQL database)\n"
	"  queue list [--json] | queue show ID  (the outbound queue)\n"
	"  queue retry [ID] | queue delete ID\n"
	"  queue inject --from SENDER RCPT... < MESSAGE   (--from '' for the null sender)\n"
	"  tlsrpt send [DAY|today]   (the daily TLS reports now; default yesterday, UTC)\n"
	"  geoip update [--from FILE.mmdb]      (the country database, into DATA/geoip)\n"
	"  geoip lookup IP | geoip override add CIDR CC | del CIDR | list\n"
	"  security list [--json] | security unblock IP|ADDRESS   (brute-force blocks)\n"
	"  security suspended [--json]          (accounts whose sending is suspended, with the reason)\n"
	"  security events [--json] [--limit N] [--domain D] [--target ADDRESS] [--kind KIND]\n"
	"  cert list [DOMAIN] [--json] | cert show NAME [--json]   (host names and their certificates)\n"
	"  cert renew [NAME] [--force] [--json] (ACME: due names, or NAME; --force: now)\n"
	"  cert import NAME CERT.pem KEY.pem    (your own certificate chain and key for NAME)\n"
	"  cert add DOMAIN NAME | cert remove NAME   (host names besides mail., autoconfig., mta-sts.)\n"
	"  dkim show DOMAIN [--json]            (keys, selectors, DNS records)\n"
	"  dkim rotate DOMAIN [--now]           (new keys; --now: sign with them at once)\n"
	"  dkim activate DOMAIN                 (sign with the keys dkim rotate made)\n"
	"  dkim verify [FILE] [--json]          (check the DKIM signatures of a message, stdin by default)\n"
	"  spam score FILE... [--list FILE] [--account ADDR]   (one FILE: the score and why)\n"
	"  spam train [--ham SRC] [--spam SRC] [--account ADDR] [--portable]\n"
	"                                       (SRC: Maildir, directory, mbox, message or list;\n"
	"                                        --portable: a new model for other sites)\n"
	"  spam stats [--account ADDR]          (the model: messages trained, size)\n"
	"  spam allow|block add|del DOMAIN|ADDRESS PATTERN, list DOMAIN|ADDRESS [--json]\n"
	"  sieve list ADDRESS [--json] | sieve get|del|activate ADDRESS NAME | sieve deactivate ADDRESS\n"
	"  sieve put ADDRESS NAME FILE|- | sieve rename ADDRESS OLD NEW | sieve check FILE|-\n"
	"  sieve global list [--json] | sieve global get|del NAME | sieve global put NAME FILE|-\n"
	"  rules list ADDRESS [--json] | rules add ADDRESS NAME FIELD MATCH VALUE ACTION [ARG] | rules add ADDRESS JSON\n"
	"  rules del|enable|disable ADDRESS N | rules move ADDRESS FROM TO\n"
	"  autoreply show ADDRESS [--json] | autoreply set ADDRESS on=on|off subject=S body=TEXT start=D end=D days=N quote=on|off\n"
	"                                       (PATTERN: user@d, *@d, *.d or *; allow wins)\n"
	"DATA is -d DATA, else $YUBIN_DATA, else ./yubin-data.\n"
	"Exit status: 0 done, 1 refused or failed (the reason on stderr), 2 usage error.\n";

static int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("yubinctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(ctl_usage_help, stderr);
	return 2;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("yubinctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("yubinctl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ctl_stdin_line(char *buf, size_t size)
{
	size_t len;

	/* Unbuffered, so that no copy of a secret stays in stdio's buffer. */
	setvbuf(stdin, NULL, _IONBF, 0);
	if (fgets(buf, (int)size, stdin) == NULL)
		return -1;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(stdin)) {
		explicit_bzero(buf, size);
		return -2;
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return 0;
}

int ctl_path(const struct ctl *c, char *buf, size_t size, const char *rel)
{
	int n = snprintf(buf, size, "%s/%s", c->data, rel);

	if (n < 0 || (size_t)n >= size) {
		ctl_fail("the path %s/%s is too long", c->data, rel);
		return -1;
	}
	return 0;
}

int ctl_directory_where(struct ctl *c, char *buf, size_t size)
{
	char conf[PATH_MAX], err[512];
	struct config cfg;
	struct stat st;

	if (ctl_path(c, conf, sizeof(conf), "yubin.conf") < 0)
		return -1;
	if (stat(conf, &st) == 0) {
		if (settings_conf_load(&cfg, conf, err, sizeof(err)) < 0) {
			ctl_fail("%s", err);
			return -1;
		}
		if (cfg.directory_url[0] != '\0') {
			if (str_copy(buf, size, cfg.directory_url) < 0) {
				ctl_fail("the directory's location is too long");
				return -1;
			}
			return 0;
		}
	}
	return ctl_path(c, buf, size, "yubin.db");
}

struct directory *ctl_directory(struct ctl *c)
{
	char path[PATH_MAX], err[512];
	struct stat st;

	if (c->dir != NULL)
		return c->dir;
	if (ctl_directory_where(c, path, sizeof(path)) < 0)
		return NULL;
	if (strncmp(path, "postgres", 8) == 0) {
		c->dir = directory_open(path, err, sizeof(err));
		if (c->dir == NULL)
			ctl_fail("cannot open the directory: %s", err);
		return c->dir;
	}
	/* directory_open would create an empty database anywhere: only open
	 * one that init made. */
	if (stat(path, &st) < 0) {
		ctl_fail("%s is not a Yubin data directory (no yubin.db): create it with"
			 " yubinctl -d %s init --hostname HOST, or pass -d DATA", c->data, c->data);
		return NULL;
	}
	c->dir = directory_open(path, err, sizeof(err));
	if (c->dir == NULL)
		ctl_fail("cannot open the directory database: %s", err);
	return c->dir;
}

void ctl_event(struct ctl *c, const char *kind, const char *address, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (c->dir == NULL ||
	    directory_event_add(c->dir, kind, address != NULL ? address : "", "", detail) < 0)
		ctl_warn("could not record the %s event", kind);
}

struct ops *ctl_ops(struct ctl *c, struct ops_actor *actor)
{
	struct passwd *pw = getpwuid(getuid());
	char name[32];

	if (ctl_directory(c) == NULL)
		return NULL;
	snprintf(name, sizeof(name), "uid %u", (unsigned)getuid());
	ops_actor_init(actor, OPS_ACTOR_CLI, pw != NULL ? pw->pw_name : name, "");
	c->ops.dir = c->dir;
	c->ops.data = c->data;
	c->ops.queue_wake = ctl_queue_wake;
	return &c->ops;
}

int ctl_ops_fail(const struct ops_error *err)
{
	if (err->line > 0)
		return ctl_fail("line %u: %s", err->line, err->en);
	return ctl_fail("%s", err->en);
}

void ctl_time_text(int64_t ts, char *buf, size_t size)
{
	time_t t = (time_t)ts;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)ts);
}

void ctl_time_iso(int64_t ts, char *buf, size_t size)
{
	time_t t = (time_t)ts;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)ts);
}

int ctl_json_print(struct json *j)
{
	size_t len;
	const char *text = json_result(j, &len);

	if (text == NULL) {
		json_free(j);
		return ctl_fail("could not build the JSON output (out of memory)");
	}
	fwrite(text, 1, len, stdout);
	fputc('\n', stdout);
	json_free(j);
	return 0;
}

void ctl_list_begin(struct ctl *c, struct ctl_list *l, struct json *j)
{
	l->j = NULL;
	l->n = 0;
	if (c->json) {
		json_init(j);
		json_array_begin(j);
		l->j = j;
	}
}

int ctl_list_end(struct ctl_list *l, int r, const struct ops_error *err, const char *empty)
{
	if (r < 0) {
		if (l->j != NULL)
			json_free(l->j);
		return ctl_ops_fail(err);
	}
	if (l->j != NULL) {
		json_array_end(l->j);
		return ctl_json_print(l->j);
	}
	if (l->n == 0 && empty != NULL)
		printf("%s\n", empty);
	return 0;
}

int ctl_domain_arg(const char *arg, char *buf, size_t size)
{
	const char *error;

	if (str_copy(buf, size, arg) < 0) {
		ctl_fail("the domain name is longer than 253 characters");
		return -1;
	}
	str_lower(buf);
	if (validate_domain(buf, &error) < 0) {
		ctl_fail("'%s' is not a valid domain name: %s", arg, error);
		return -1;
	}
	return 0;
}

static const struct ctl_option *ctl_option_find(const char *arg, size_t namelen)
{
	for (const struct ctl_option *o = ctl_options; o->name != NULL; o++) {
		if (strlen(o->name) == namelen && strncmp(o->name, arg, namelen) == 0)
			return o;
	}
	return NULL;
}

static void ctl_option_store(struct ctl *c, unsigned flag, const char *value)
{
	switch (flag) {
	case OPT_JSON: c->json = true; break;
	case OPT_FORCE: c->force = true; break;
	case OPT_PWSTDIN: c->password_stdin = true; break;
	case OPT_QUOTA: c->quota = value; break;
	case OPT_MEMO: c->memo = value; break;
	case OPT_HOSTNAME: c->hostname = value; break;
	case OPT_PORT_OFFSET: c->port_offset = value; break;
	case OPT_LISTEN: c->listen = value; break;
	case OPT_FROM: c->from = value; break;
	case OPT_LIMIT: c->limit = value; break;
	case OPT_TARGET: c->target = value; break;
	case OPT_ROLE: c->role = value; break;
	case OPT_EXPIRES: c->expires = value; break;
	case OPT_KIND: c->kind = value; break;
	case OPT_CHECK: c->check = true; break;
	case OPT_ACTOR: c->actor = value; break;
	case OPT_HAM: c->ham = value; break;
	case OPT_SPAM: c->spam = value; break;
	case OPT_ACCOUNT: c->account = value; break;
	case OPT_LIST: c->list = value; break;
	case OPT_PORTABLE: c->portable = true; break;
	case OPT_LANG: c->lang = value; break;
	case OPT_SINCE: c->since = value; break;
	case OPT_NODE: c->node = value; break;
	case OPT_SEARCH_ONLY: c->search_only = true; break;
	case OPT_NO_MOVE: c->no_move = true; break;
	case OPT_TO: c->to = value; break;
	case OPT_DOMAIN:
		if (c->ndomains < OPS_DOMAINS_MAX)
			c->domains[c->ndomains] = value;
		c->ndomains++;
		break;
	case OPT_NOW: c->now = true; break;
	case OPT_SHOW_SECRETS: c->show_secrets = true; break;
	default: break;
	}
}

/* A negative number is an argument (so `account quota A -1` reaches the
 * range check), not an option. */
static bool ctl_arg_is_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0' && !(arg[1] >= '0' && arg[1] <= '9');
}

/* Sorts the words after the command into options and positional
 * arguments (kept in argv order in c->argv). Returns 0, a usage exit
 * status, or -1 when help was printed. */
static int ctl_args_parse(struct ctl *c, const struct ctl_command *cmd, int argc, char **argv,
			  const char *name)
{
	bool options_done = false;
	unsigned given = 0;

	c->argv = argv;
	c->argc = 0;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq, *value = NULL;
		const struct ctl_option *o;
		size_t namelen;

		if (options_done || !ctl_arg_is_option(arg)) {
			c->argv[c->argc++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			fputs(ctl_usage_help, stdout);
			return -1;
		}
		if (strcmp(arg, "-d") == 0 || strcmp(arg, "--data") == 0) {
			if (i + 1 >= argc)
				return ctl_usage_error("%s needs a directory", arg);
			c->data = argv[++i];
			continue;
		}
		if (strncmp(arg, "--data=", 7) == 0) {
			c->data = arg + 7;
			continue;
		}
		eq = strchr(arg, '=');
		namelen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		o = ctl_option_find(arg, namelen);
		if (o == NULL)
			return ctl_usage_error("unknown option %s", arg);
		if ((cmd->opts & o->flag) == 0)
			return ctl_usage_error("%s does not apply to `%s`", o->name, name);
		if (o->has_value) {
			if (eq != NULL)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else
				return ctl_usage_error("%s needs a value", o->name);
		} else if (eq != NULL) {
			return ctl_usage_error("%s takes no value", o->name);
		}
		ctl_option_store(c, o->flag, value);
		given |= o->flag;
	}
	for (const struct ctl_option *o = ctl_options; o->name != NULL; o++) {
		if ((cmd->required & o->flag) != 0 && (given & o->flag) == 0)
			return ctl_usage_error("`%s` needs %s", name, o->name);
	}
	if (c->argc < cmd->min_args)
		return ctl_usage_error("`%s` needs more arguments", name);
	if (c->argc > cmd->max_args)
		return ctl_usage_error("`%s` got too many arguments (%s)", name, c->argv[cmd->max_args]);
	return 0;
}

/* Finds the command named by argv[0] (and argv[1] for grouped ones);
 * *used_r tells how many words it took. */
static const struct ctl_command *ctl_command_find(int argc, char **argv, int *used_r, int *status_r)
{
	bool group_known = false;

	for (const struct ctl_command *cmd = ctl_commands; cmd->group != NULL; cmd++) {
		if (strcmp(cmd->group, argv[0]) != 0)
			continue;
		group_known = true;
		if (cmd->verb == NULL) {
			*used_r = 1;
			return cmd;
		}
		if (argc >= 2 && strcmp(cmd->verb, argv[1]) == 0) {
			*used_r = 2;
			return cmd;
		}
	}
	if (!group_known)
		*status_r = ctl_usage_error("unknown command '%s'", argv[0]);
	else if (argc < 2)
		*status_r = ctl_usage_error("`%s` needs a subcommand", argv[0]);
	else
		*status_r = ctl_usage_error("unknown command '%s %s'", argv[0], argv[1]);
	return NULL;
}

/* Run as root on a data directory that belongs to another user (the
 * daemon's server.user), become that user, so that the files and
 * mailboxes made here stay readable and writable by the daemon. */
static int ctl_become_data_owner(const struct ctl *c)
{
	struct stat st;

	if (geteuid() != 0 || stat(c->data, &st) < 0 || st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 || setuid(st.st_uid) < 0)
		return ctl_fail("cannot switch to the owner (uid %u) of %s: %s", (unsigned)st.st_uid,
				c->data, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl c;
	const struct ctl_command *cmd;
	char name[64], data_abs[PATH_MAX];
	int i = 1, used = 0, status = 2;
	const char *env;

	memset(&c, 0, sizeof(c));
	umask(077);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--data") == 0) {
			if (i + 1 >= argc)
				return ctl_usage_error("%s needs a directory", argv[i]);
			c.data = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--data=", 7) == 0) {
			c.data = argv[i++] + 7;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(ctl_usage_help, stdout);
			return 0;
		} else {
			return ctl_usage_error("unknown option %s", argv[i]);
		}
	}
	if (i >= argc)
		return ctl_usage_error("no command given");
	if (strcmp(argv[i], "help") == 0) {
		fputs(ctl_usage_help, stdout);
		return 0;
	}
	cmd = ctl_command_find(argc - i, argv + i, &used, &status);
	if (cmd == NULL)
		return status;
	snprintf(name, sizeof(name), "%s%s%s", cmd->group, cmd->verb != NULL ? " " : "",
		 cmd->verb != NULL ? cmd->verb : "");
	status = ctl_args_parse(&c, cmd, argc - i - used, argv + i + used, name);
	if (status != 0)
		return status < 0 ? 0 : status;
	if (c.data == NULL) {
		env = getenv("YUBIN_DATA");
		c.data = env != NULL && env[0] != '\0' ? env : "./yubin-data";
	}
	/* Absolute paths in what we print and in the JSON. */
	if (realpath(c.data, data_abs) != NULL)
		c.data = data_abs;
	if (ctl_become_data_owner(&c) != 0)
		return 1;
	ctl_dkim_hook(&c);
	status = cmd->run(&c);
	ctl_dkim_unhook();
	directory_close(c.dir);
	fflush(stdout);
	if (ferror(stdout))
		return ctl_fail("could not write the output");
	return status;
}
