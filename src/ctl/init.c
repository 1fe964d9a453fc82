/* yubinctl init and config get/set/list: the data directory and
 * yubin.conf. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/config.h"
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

static bool ctl_key_is_port(const struct config_key *k)
{
	size_t len = strlen(k->name);

	return k->type == CONFIG_UINT && len > 5 && strcmp(k->name + len - 5, ".port") == 0;
}

/* A host name for greetings and the certificate file name: LDH labels,
 * one label allowed (localhost). Lowercases in place. */
static int ctl_hostname_check(char *host)
{
	size_t len = strlen(host), label = 0;

	str_lower(host);
	if (len == 0 || len > 253)
		return ctl_fail("the host name must be 1 to 253 characters");
	for (size_t i = 0; i <= len; i++) {
		char ch = host[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || host[i - 1] == '-' || host[i - label] == '-')
				return ctl_fail("'%s' is not a valid host name: each part must be 1 to 63"
						" characters of a-z, 0-9 and '-', not starting or ending"
						" with '-'", host);
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return ctl_fail("'%s' is not a valid host name: use only a-z, 0-9, '-' and '.'",
					host);
		label++;
	}
	return 0;
}

/* listen.address: IP addresses separated by commas or spaces, as the
 * daemon reads them. */
static int ctl_listen_check(const char *list)
{
	char copy[256], *save = NULL, *a;
	unsigned char bin[16];
	int n = 0;

	if (str_copy(copy, sizeof(copy), list) < 0)
		return ctl_fail("the listen address list is too long");
	for (a = strtok_r(copy, ", ", &save); a != NULL; a = strtok_r(NULL, ", ", &save)) {
		if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1)
			return ctl_fail("'%s' is not an IP address (listen.address takes addresses like"
					" 0.0.0.0, 127.0.0.1 or ::1, separated by commas)", a);
		n++;
	}
	if (n == 0)
		return ctl_fail("listen.address needs at least one IP address");
	return 0;
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
	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		size_t need;

		if (strcmp(k->name, "hostname") == 0)
			snprintf(value, sizeof(value), "%s", host);
		else if (strcmp(k->name, "listen.address") == 0)
			snprintf(value, sizeof(value), "%s", listen);
		else if (ctl_key_is_port(k))
			snprintf(value, sizeof(value), "%lu", strtoul(k->def, NULL, 10) + offset);
		else
			snprintf(value, sizeof(value), "%s", k->def);
		need = strlen(k->help) + strlen(k->name) + strlen(value) + 16;
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
		len += (size_t)snprintf(text + len, cap - len, "# %s\n%s = %s\n\n", k->help, k->name, value);
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
	char host[256], conf[PATH_MAX], path[PATH_MAX], err[512];
	const char *listen = c->listen != NULL ? c->listen : "0.0.0.0";
	uint64_t offset = 0;
	struct config cfg;
	unsigned line;
	const char *error;
	struct stat st;
	char *text;
	int r;

	if (str_copy(host, sizeof(host), c->hostname) < 0)
		return ctl_fail("the host name must be 1 to 253 characters");
	if (ctl_hostname_check(host) != 0)
		return 1;
	if (c->port_offset != NULL && (str_parse_uint(c->port_offset, 65535, &offset) < 0 ||
				       offset + 995 > 65535))
		return ctl_fail("--port-offset must be a number from 0 to 64540 (every port + N must"
				" stay below 65536)");
	if (ctl_listen_check(listen) != 0)
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
	config_defaults(&cfg);
	if (config_parse(&cfg, text, strlen(text), &line, &error) < 0) {
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
	config_defaults(cfg);
	if (config_parse(cfg, text, len, &line, &error) < 0) {
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
	return ctl_fail("unknown setting '%s' (yubinctl config list shows every setting)", key);
}

int cmd_config_get(struct ctl *c)
{
	struct config cfg;
	char path[PATH_MAX], value[512];
	const char *key = c->argv[0];

	if (config_key_find(key) == NULL)
		return ctl_unknown_config_key(key);
	if (ctl_conf_load(c, &cfg, path, sizeof(path), NULL) != 0)
		return 1;
	if (config_get(&cfg, key, value, sizeof(value)) < 0)
		return ctl_fail("cannot read the setting '%s'", key);
	printf("%s\n", value);
	return 0;
}

int cmd_config_list(struct ctl *c)
{
	struct config cfg;
	char path[PATH_MAX], value[512];
	struct json j;

	if (ctl_conf_load(c, &cfg, path, sizeof(path), NULL) != 0)
		return 1;
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
	}
	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		if (config_get(&cfg, k->name, value, sizeof(value)) < 0)
			value[0] = '\0';
		if (c->json && k->type != CONFIG_STRING) {
			json_key(&j, k->name);
			json_uint(&j, strtoull(value, NULL, 10));
		} else if (c->json) {
			json_kv_string(&j, k->name, value);
		} else {
			printf("%s = %s\n", k->name, value);
		}
	}
	if (c->json) {
		json_object_end(&j);
		return ctl_json_print(&j);
	}
	return 0;
}

/* Tells a running yubind to reload; prints what happens to the change. */
static void ctl_daemon_reload(const struct ctl *c, const char *key)
{
	char path[PATH_MAX], comm[64], *text;
	uint64_t pid = 0;
	bool listener = strcmp(key, "listen.address") == 0 || ctl_key_is_port(config_key_find(key));
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
		printf("sent SIGHUP to yubind (pid %" PRIu64 "); listener addresses and ports change"
		       " only when it restarts\n", pid);
	else
		printf("sent SIGHUP to yubind (pid %" PRIu64 "): the change applies now\n", pid);
}

/* The reason a value was refused, with the allowed range for numbers. */
static int ctl_config_refuse(const struct config_key *k, const char *value, const char *error)
{
	if (k->type != CONFIG_STRING && strcmp(error, "out of range") == 0)
		return ctl_fail("cannot set %s to '%s': out of range (allowed: %" PRIu64 " to %" PRIu64 "%s)",
				k->name, value, k->min, k->max,
				k->type == CONFIG_SIZE ? " bytes, K/M/G suffixes allowed" : "");
	return ctl_fail("cannot set %s to '%s': %s", k->name, value, error);
}

int cmd_config_set(struct ctl *c)
{
	const char *key = c->argv[0], *error;
	const struct config_key *k = config_key_find(key);
	char path[PATH_MAX], old[512], value[512], *text = NULL, *newtext;
	struct config cfg, check;
	unsigned line;
	struct stat st;
	mode_t mode = 0600;

	if (k == NULL)
		return ctl_unknown_config_key(key);
	if (str_copy(value, sizeof(value), c->argv[1]) < 0)
		return ctl_fail("the value for %s is too long", key);
	if (strpbrk(value, "\r\n") != NULL)
		return ctl_fail("a setting's value cannot contain a line break");
	/* The file keeps values trimmed; validate what will be read back. */
	memmove(value, str_trim(value), strlen(str_trim(value)) + 1);
	if (ctl_conf_load(c, &cfg, path, sizeof(path), &text) != 0)
		return 1;
	config_get(&cfg, key, old, sizeof(old));
	if (config_set(&cfg, key, value, &error) < 0) {
		free(text);
		return ctl_config_refuse(k, value, error);
	}
	if ((strcmp(key, "hostname") == 0 && ctl_hostname_check(value) != 0) ||
	    (strcmp(key, "listen.address") == 0 && ctl_listen_check(value) != 0)) {
		free(text);
		return 1;
	}
	newtext = config_text_set(text, key, value);
	free(text);
	if (newtext == NULL)
		return ctl_fail("out of memory");
	config_defaults(&check);
	if (config_parse(&check, newtext, strlen(newtext), &line, &error) < 0) {
		free(newtext);
		return ctl_fail("the changed yubin.conf would not read back (line %u: %s); nothing"
				" was changed", line, error);
	}
	if (stat(path, &st) == 0)
		mode = st.st_mode & 0777;
	if (fs_write_file_atomic(path, newtext, strlen(newtext), mode) < 0) {
		free(newtext);
		return ctl_fail("cannot write %s: %s", path, strerror(errno));
	}
	free(newtext);
	printf("%s = %s (was %s)\n", key, value, old);
	if (strcmp(key, "hostname") == 0) {
		char rel[300], crt[PATH_MAX];

		snprintf(rel, sizeof(rel), "tls/%s.crt", value);
		if (ctl_path(c, crt, sizeof(crt), rel) == 0 && stat(crt, &st) < 0)
			ctl_warn("there is no certificate %s: put the certificate and key for %s in"
				 " %s/tls/ before yubind starts with this name", crt, value, c->data);
	}
	if (ctl_directory(c) != NULL)
		ctl_event(c, "config-changed", "", "%s = %s (was %s)", key, value, old);
	ctl_daemon_reload(c, key);
	return 0;
}
