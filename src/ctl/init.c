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
#include "ops/ops_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


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
				       offset + 4190 > 65535))
		return ctl_fail("--port-offset must be a number from 0 to 61345 (every port + N must"
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

/* The command line's ops for config: the directory only when there is
 * one (get and list need none, set records its event when it can). */
static struct ops *ctl_conf_ops(struct ctl *c, struct ops_actor *actor, bool with_dir)
{
	struct passwd *pw = getpwuid(getuid());
	char name[32];

	snprintf(name, sizeof(name), "uid %u", (unsigned)getuid());
	ops_actor_init(actor, OPS_ACTOR_CLI, pw != NULL ? pw->pw_name : name, "");
	memset(&c->ops, 0, sizeof(c->ops));
	c->ops.dir = with_dir ? ctl_directory(c) : NULL;
	c->ops.data = c->data;
	return &c->ops;
}

/* One key's value, as list and get show it (already masked unless
 * --show-secrets); numbers as numbers in JSON. */
static void ctl_config_show(struct json *j, const struct setting *s, const char *value)
{
	if (j == NULL)
		printf("%s = %s\n", s->key, value);
	else if (!settings_is_text(s))
		json_kv_uint(j, s->key, strtoull(value, NULL, 10));
	else
		json_kv_string(j, s->key, value);
}

int cmd_config_get(struct ctl *c)
{
	const struct setting *s;
	struct ops_actor actor;
	struct ops_error err;
	char value[OPS_CONF_VALUE_MAX];
	struct json j;
	int r = 0;

	if (ops_conf_get(ctl_conf_ops(c, &actor, false), &actor, c->argv[0], c->show_secrets, &s, value,
			 &err) < 0)
		return ctl_ops_fail(&err);
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
		ctl_config_show(&j, s, value);
		json_object_end(&j);
		r = ctl_json_print(&j);
	} else {
		printf("%s\n", value);
	}
	explicit_bzero(value, sizeof(value));
	return r;
}

static void ctl_config_list_cb(const struct setting *s, const char *value, void *ctx)
{
	ctl_config_show(ctx, s, value);
}

int cmd_config_list(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct json j;

	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
	}
	if (ops_conf_list(ctl_conf_ops(c, &actor, false), &actor, c->show_secrets, ctl_config_list_cb,
			  c->json ? &j : NULL, &err) < 0) {
		if (c->json)
			json_free(&j);
		return ctl_ops_fail(&err);
	}
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

static void ctl_config_cert_warn(struct ctl *c, const char *host)
{
	char rel[300], crt[PATH_MAX];
	struct stat st;

	snprintf(rel, sizeof(rel), "tls/%s.crt", host);
	if (ctl_path(c, crt, sizeof(crt), rel) == 0 && stat(crt, &st) < 0)
		ctl_warn("there is no certificate %s: put the certificate and key for %s in"
			 " %s/tls/ before yubind starts with this name", crt, host, c->data);
}

/* The value "-": one line of standard input. */
static int ctl_config_value_read(char *buf, size_t size)
{
	int r = ctl_stdin_line(buf, size);

	if (r == -1)
		return ctl_fail("config set KEY -: no value on standard input");
	if (r == -2)
		return ctl_fail("config set KEY -: the value is longer than %zu bytes", size - 2);
	return 0;
}

int cmd_config_set(struct ctl *c)
{
	struct ops_conf_result *r = calloc(1, sizeof(*r));
	const struct setting *s = settings_find(c->argv[0], SETTING_SERVER);
	char value[OPS_CONF_VALUE_MAX + 1];
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	int rc;

	if (r == NULL)
		return ctl_fail("out of memory");
	str_copy(value, sizeof(value), c->argv[1]);
	if (strcmp(c->argv[1], "-") == 0 && ctl_config_value_read(value, sizeof(value)) != 0) {
		free(r);
		return 1;
	}
	if (s != NULL && (s->flags & SETTING_SECRET) != 0 && strcmp(c->argv[1], "-") != 0 && value[0] != '\0')
		ctl_warn("%s given on the command line stays in the shell's history and is seen in the process"
			 " list while this runs; `yubinctl config set %s -` reads it from standard input", s->key,
			 s->key);
	o = ctl_conf_ops(c, &actor, s != NULL);
	rc = ops_conf_set(o, &actor, c->argv[0], value, r, &err);
	explicit_bzero(value, sizeof(value));
	if (rc < 0) {
		free(r);
		return ctl_ops_fail(&err);
	}
	if (r->warn[0] != '\0')
		ctl_warn("%s", r->warn);
	printf("%s = %s (was %s)\n", r->s->key, r->value, r->old);
	if (r->s->id == SETTING_CONF_HOSTNAME)
		ctl_config_cert_warn(c, r->value);
	ctl_daemon_reload(c, r->s);
	free(r);
	return 0;
}
