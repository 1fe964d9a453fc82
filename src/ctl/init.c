/* yubinctl init and config get/set/list: the data directory and
 * yubin.conf. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/config.h"
#include "settings/settings.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/str.h"
#include "lib/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTL_CONF_MAX (1 << 20)

/* A host name or listen address list given to init, checked (and the host
 * name lowercased in place) by the same rule as config set. */
static int ctl_conf_arg(enum setting_id id, char *value, size_t size)
{
	const struct setting *s = settings_get(id);
	char norm[512], warn[8];
	const char *error;

	if (settings_check(s, "", value, norm, sizeof(norm), warn, sizeof(warn), &error) < 0)
		return ctl_fail("'%s' is not a valid %s: %s", value, s->key, error);
	return str_copy(value, size, norm) < 0 ? ctl_fail("'%s' is too long", value) : 0;
}

/* The text of a fresh yubin.conf: every key with its help as a comment. */
static char *ctl_conf_text(const char *host, const char *listen, unsigned offset)
{
	size_t cap = 8192, len = 0;
	char *text = malloc(cap);
	char value[300];

	if (text == NULL)
		return NULL;
	len += (size_t)snprintf(text, cap, "# Yubin settings. Change them with"
				" `yubinctl config set KEY VALUE`.\n\n");
	for (unsigned i = 0; i < SETTING_COUNT; i++) {
		const struct setting *k = settings_get(i);
		size_t need;

		if (k->scopes != SETTING_SERVER)
			continue;
		if (k->id == SETTING_CONF_HOSTNAME)
			snprintf(value, sizeof(value), "%s", host);
		else if (k->id == SETTING_CONF_LISTEN_ADDRESS)
			snprintf(value, sizeof(value), "%s", listen);
		else if (k->type == SETTING_PORT)
			snprintf(value, sizeof(value), "%lu", strtoul(k->def, NULL, 10) + offset);
		else
			snprintf(value, sizeof(value), "%s", k->def);
		need = strlen(k->help_en) + strlen(k->help_ja) + strlen(k->key) + strlen(value) + 24;
		if (len + need >= cap) {
			char *bigger;

			cap = (cap + need) * 2;
			bigger = realloc(text, cap);
			if (bigger == NULL) {
				free(text);
				return NULL;
			}
			text = bigger;
		}
		len += (size_t)snprintf(text + len, cap - len, "# %s\n# %s\n%s = %s\n\n", k->help_en, k->help_ja,
					k->key, value);
	}
	return text;
}

static int ctl_mkdir(const char *path, const char *what)
{
	if (fs_mkdir_p(path, 0700) < 0)
		return ctl_fail("cannot create %s %s: %s", what, path, strerror(errno));
	return 0;
}

/* Creates the self-signed certificate unless a pair is already there (a
 * real one dropped in before init is kept). */
static int ctl_init_certificate(const struct ctl *c, const char *host)
{
	char crt[PATH_MAX], key[PATH_MAX], rel[300], err[256];
	struct stat st;

	snprintf(rel, sizeof(rel), "tls/%s.crt", host);
	if (ctl_path(c, crt, sizeof(crt), rel) < 0)
		return -1;
	snprintf(rel, sizeof(rel), "tls/%s.key", host);
	if (ctl_path(c, key, sizeof(key), rel) < 0)
		return -1;
	if (stat(crt, &st) == 0 && stat(key, &st) == 0) {
		printf("kept     %s and %s.key (already there)\n", crt, host);
		return 0;
	}
	/* A development server on loopback also gets its address in the
	 * certificate, so clients that connect to 127.0.0.1 can verify it. */
	if (tls_selfsigned_create(host, c->listen != NULL && (strncmp(c->listen, "127.", 4) == 0 ||
							    strcmp(c->listen, "::1") == 0)
				  ? "IP:127.0.0.1,IP:::1" : NULL, crt, key, err, sizeof(err)) < 0) {
		ctl_fail("cannot create the certificate for %s: %s", host, err);
		return -1;
	}
	printf("created  %s and %s.key (self-signed for %s, 10 years)\n", crt, host, host);
	return 0;
}

int cmd_init(struct ctl *c)
{
	static char data_abs[PATH_MAX];
	char host[256], listen[256], conf[PATH_MAX], path[PATH_MAX], err[512];
	uint64_t offset = 0;
	struct config cfg;
	unsigned line;
	const char *error;
	struct stat st;
	char *text;
	int r;

	if (str_copy(host, sizeof(host), c->hostname) < 0)
		return ctl_fail("the host name must be 1 to 253 characters");
	if (ctl_conf_arg(SETTING_CONF_HOSTNAME, host, sizeof(host)) != 0)
		return 1;
	if (str_copy(listen, sizeof(listen), c->listen != NULL ? c->listen
			: settings_get(SETTING_CONF_LISTEN_ADDRESS)->def) < 0)
		return ctl_fail("the listen address list is too long");
	if (c->port_offset != NULL && (str_parse_uint(c->port_offset, 65535, &offset) < 0 ||
				       offset + 995 > 65535))
		return ctl_fail("--port-offset must be a number from 0 to 64540 (every port + N must"
				" stay below 65536)");
	if (ctl_conf_arg(SETTING_CONF_LISTEN_ADDRESS, listen, sizeof(listen)) != 0)
		return 1;
	if (ctl_path(c, conf, sizeof(conf), "yubin.conf") < 0)
		return 1;
	if (stat(conf, &st) == 0)
		return ctl_fail("%s already exists: init does not overwrite it (change settings with"
				" yubinctl config set, or choose another directory with -d)", conf);

	text = ctl_conf_text(host, listen, (unsigned)offset);
	if (text == NULL)
		return ctl_fail("out of memory");
	/* The text must read back as valid settings before anything is made. */
	settings_conf_defaults(&cfg);
	if (settings_conf_parse(&cfg, text, strlen(text), &line, &error) < 0) {
		free(text);
		return ctl_fail("the new yubin.conf is invalid at line %u: %s", line, error);
	}

	r = 1;
	if (stat(c->data, &st) < 0) {
		if (ctl_mkdir(c->data, "the data directory") != 0)
			goto out;
		printf("created  %s (data directory, mode 0700)\n", c->data);
	}
	if (realpath(c->data, data_abs) != NULL) {
		c->data = data_abs;
		if (ctl_path(c, conf, sizeof(conf), "yubin.conf") < 0)
			goto out;
	}
	if (ctl_path(c, path, sizeof(path), "tls") < 0 || ctl_mkdir(path, "directory") != 0 ||
	    ctl_path(c, path, sizeof(path), "mail") < 0 || ctl_mkdir(path, "directory") != 0 ||
	    ctl_path(c, path, sizeof(path), "queue") < 0 || ctl_mkdir(path, "directory") != 0)
		goto out;
	printf("created  %s/tls/, %s/mail/, %s/queue/\n", c->data, c->data, c->data);
	if (ctl_init_certificate(c, host) < 0)
		goto out;
	if (ctl_path(c, path, sizeof(path), "yubin.db") < 0)
		goto out;
	c->dir = directory_open(path, err, sizeof(err));
	if (c->dir == NULL) {
		ctl_fail("cannot create the directory database: %s", err);
		goto out;
	}
	printf("created  %s/yubin.db (domains, accounts, settings, events)\n", c->data);
	/* yubin.conf last: its presence means init finished, and a failed
	 * init can simply be run again. */
	if (fs_write_file_atomic(conf, text, strlen(text), 0600) < 0) {
		ctl_fail("cannot write %s: %s", conf, strerror(errno));
		goto out;
	}
	printf("created  %s (hostname %s, listening on %s, SMTP port %u, submission %u)\n",
	       conf, host, listen, cfg.port_smtp, cfg.port_submission);
	ctl_event(c, "initialised", "", "data directory created for %s", host);
	printf("next: yubinctl -d %s domain add DOMAIN\n", c->data);
	r = 0;
out:
	free(text);
	return r;
}

/* Reads yubin.conf into text_r (may be NULL) and cfg; 1 after a message. */
static int ctl_conf_load(const struct ctl *c, struct config *cfg, char *path, size_t pathsize,
			 char **text_r)
{
	size_t len;
	unsigned line = 0;
	const char *error;
	char *text;

	if (ctl_path(c, path, pathsize, "yubin.conf") < 0)
		return 1;
	text = fs_read_file(path, CTL_CONF_MAX, &len);
	if (text == NULL) {
		if (errno == ENOENT)
			return ctl_fail("%s does not exist: create it with yubinctl -d %s init"
					" --hostname HOST, or pass -d DATA", path, c->data);
		return ctl_fail("cannot read %s: %s", path, strerror(errno));
	}
	settings_conf_defaults(cfg);
	if (settings_conf_parse(cfg, text, len, &line, &error) < 0) {
		free(text);
		return ctl_fail("%s line %u: %s (fix that line first)", path, line, error);
	}
	if (text_r != NULL)
		*text_r = text;
	else
		free(text);
	return 0;
}

static int ctl_unknown_config_key(const char *key)
{
	return ctl_fail("unknown setting '%s' (yubinctl config list shows every setting, yubinctl"
			" settings list server explains them)", key);
}

/* One key's value, as list and get show it: secrets masked unless
 * --show-secrets; numbers as numbers in JSON. */
static void ctl_config_show(struct ctl *c, struct json *j, const struct setting *s, const char *value)
{
	const char *shown = settings_display(s, value, c->show_secrets);

	if (j == NULL)
		printf("%s = %s\n", s->key, shown);
	else if (!settings_is_text(s))
		json_kv_uint(j, s->key, strtoull(value, NULL, 10));
	else
		json_kv_string(j, s->key, shown);
}

int cmd_config_get(struct ctl *c)
{
	const struct setting *s = settings_find(c->argv[0], SETTING_SERVER);
	struct config cfg;
	char path[PATH_MAX], value[1024];
	struct json j;

	if (s == NULL)
		return ctl_unknown_config_key(c->argv[0]);
	if (ctl_conf_load(c, &cfg, path, sizeof(path), NULL) != 0)
		return 1;
	if (settings_conf_get(&cfg, s->key, value, sizeof(value)) < 0)
		return ctl_fail("cannot read the setting '%s'", s->key);
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
		ctl_config_show(c, &j, s, value);
		json_object_end(&j);
		explicit_bzero(&cfg, sizeof(cfg));
		return ctl_json_print(&j);
	}
	printf("%s\n", settings_display(s, value, c->show_secrets));
	explicit_bzero(&cfg, sizeof(cfg));
	return 0;
}

int cmd_config_list(struct ctl *c)
{
	struct config cfg;
	char path[PATH_MAX], value[1024];
	struct json j;

	if (ctl_conf_load(c, &cfg, path, sizeof(path), NULL) != 0)
		return 1;
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
	}
	for (unsigned i = 0; i < SETTING_COUNT; i++) {
		const struct setting *s = settings_get(i);

		if (s->scopes != SETTING_SERVER)
			continue;
		if (settings_conf_get(&cfg, s->key, value, sizeof(value)) < 0)
			value[0] = '\0';
		ctl_config_show(c, c->json ? &j : NULL, s, value);
	}
	explicit_bzero(&cfg, sizeof(cfg));
	if (c->json) {
		json_object_end(&j);
		return ctl_json_print(&j);
	}
	return 0;
}

/* Tells a running yubind to reload; prints what happens to the change. */
static void ctl_daemon_reload(const struct ctl *c, const struct setting *s)
{
	char path[PATH_MAX], comm[64], *text;
	uint64_t pid = 0;
	bool listener = (s->flags & SETTING_RESTART) != 0;
	FILE *f;

	if (ctl_path(c, path, sizeof(path), "yubind.pid") < 0)
		return;
	text = fs_read_file(path, 64, NULL);
	if (text == NULL || str_parse_uint(str_trim(text), INT32_MAX, &pid) < 0 || pid < 2 ||
	    (kill((pid_t)pid, 0) < 0 && errno != EPERM)) {
		free(text);
		printf("yubind is not running: the change applies when it next starts\n");
		return;
	}
	free(text);
	/* A stale pid file may name an unrelated process by now. */
	snprintf(path, sizeof(path), "/proc/%" PRIu64 "/comm", pid);
	f = fopen(path, "r");
	if (f != NULL) {
		bool other = fgets(comm, sizeof(comm), f) != NULL && strcmp(str_trim(comm), "yubind") != 0;

		fclose(f);
		if (other) {
			printf("yubind is not running: the change applies when it next starts\n");
			return;
		}
	}
	if (kill((pid_t)pid, SIGHUP) < 0) {
		ctl_warn("cannot signal yubind (pid %" PRIu64 "): %s; restart it to apply the change",
			 pid, strerror(errno));
		return;
	}
	if (listener)
		printf("sent SIGHUP to yubind (pid %" PRIu64 "); %s changes only when it restarts\n",
		       pid, s->key);
	else
		printf("sent SIGHUP to yubind (pid %" PRIu64 "): the change applies now\n", pid);
}

/* The reason a value was refused, with the allowed range for numbers. */
static int ctl_config_refuse(const struct setting *s, const char *value, const char *error)
{
	char type[256];

	settings_type_text(s, type, sizeof(type));
	if (strcmp(error, "out of range") == 0)
		return ctl_fail("cannot set %s to '%s': out of range (allowed: %s)", s->key, value, type);
	return ctl_fail("cannot set %s to '%s': %s", s->key, value, error);
}

/* The new text of yubin.conf with key = value, checked to read back. */
static char *ctl_config_new_text(const char *text, const char *key, const char *value)
{
	char *newtext = config_text_set(text, key, value);
	struct config check;
	const char *error;
	unsigned line;

	if (newtext == NULL) {
		ctl_fail("out of memory");
		return NULL;
	}
	settings_conf_defaults(&check);
	if (settings_conf_parse(&check, newtext, strlen(newtext), &line, &error) < 0) {
		free(newtext);
		ctl_fail("the changed yubin.conf would not read back (line %u: %s); nothing was"
			 " changed", line, error);
		newtext = NULL;
	}
	explicit_bzero(&check, sizeof(check));
	return newtext;
}

static void ctl_config_cert_warn(struct ctl *c, const char *host)
{
	char rel[300], crt[PATH_MAX];
	struct stat st;

	snprintf(rel, sizeof(rel), "tls/%s.crt", host);
	if (ctl_path(c, crt, sizeof(crt), rel) == 0 && stat(crt, &st) < 0)
		ctl_warn("there is no certificate %s: put the certificate and key for %s in"
			 " %s/tls/ before yubind starts with this name", crt, host, c->data);
}

int cmd_config_set(struct ctl *c)
{
	const struct setting *s = settings_find(c->argv[0], SETTING_SERVER);
	char path[PATH_MAX], old[1024], value[1024], norm[1024], warn[512], *text = NULL, *newtext;
	const char *error;
	struct config cfg;
	struct stat st;
	mode_t mode = 0600;

	if (s == NULL)
		return ctl_unknown_config_key(c->argv[0]);
	if (str_copy(value, sizeof(value), c->argv[1]) < 0)
		return ctl_fail("the value for %s is too long", s->key);
	/* The file keeps values trimmed; validate what will be read back. */
	memmove(value, str_trim(value), strlen(str_trim(value)) + 1);
	if (settings_check(s, "", value, norm, sizeof(norm), warn, sizeof(warn), &error) < 0)
		return ctl_config_refuse(s, value, error);
	if (ctl_conf_load(c, &cfg, path, sizeof(path), &text) != 0)
		return 1;
	settings_conf_get(&cfg, s->key, old, sizeof(old));
	explicit_bzero(&cfg, sizeof(cfg));
	newtext = ctl_config_new_text(text, s->key, norm);
	free(text);
	if (newtext == NULL)
		return 1;
	if (stat(path, &st) == 0)
		mode = st.st_mode & 0777;
	if (fs_write_file_atomic(path, newtext, strlen(newtext), mode) < 0) {
		free(newtext);
		return ctl_fail("cannot write %s: %s", path, strerror(errno));
	}
	free(newtext);
	if (warn[0] != '\0')
		ctl_warn("%s", warn);
	printf("%s = %s (was %s)\n", s->key, settings_display(s, norm, false),
	       settings_display(s, old, false));
	if (s->id == SETTING_CONF_HOSTNAME)
		ctl_config_cert_warn(c, norm);
	if (ctl_directory(c) != NULL)
		ctl_event(c, "config-changed", "", "%s = %s (was %s)", s->key, settings_display(s, norm, false),
			  settings_display(s, old, false));
	explicit_bzero(old, sizeof(old));
	explicit_bzero(value, sizeof(value));
	explicit_bzero(norm, sizeof(norm));
	ctl_daemon_reload(c, s);
	return 0;
}
