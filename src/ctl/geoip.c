/* yubinctl geoip: the country database (update, lookup) and the
 * operator's override table (CIDR -> country), which the daemon reads at
 * every login, so changes apply at once. */
#include "ctl/ctl.h"
#include "ops/ops_server.h"
#include "directory/directory.h"
#include "lib/fsutil.h"
#include "lib/str.h"
#include "policy/foreign.h"
#include "policy/geoip.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Copies src to DATA/geoip/country.mmdb atomically, after checking it. */
static int ctl_geoip_install(struct ctl *c, const char *src, const char *dst)
{
	char err[300], dir[PATH_MAX];
	unsigned long nodes;
	size_t len;
	char *data;

	if (geoip_check_file(src, &nodes, err, sizeof(err)) < 0)
		return ctl_fail("not a usable MaxMind DB file: %s", err);
	data = fs_read_file(src, 1024UL * 1024 * 1024, &len);
	if (data == NULL)
		return ctl_fail("cannot read %s: %s", src, strerror(errno));
	if (ctl_path(c, dir, sizeof(dir), "geoip") < 0 || fs_mkdir_p(dir, 0755) < 0 ||
	    fs_write_file_atomic(dst, data, len, 0644) < 0) {
		free(data);
		return ctl_fail("cannot write %s: %s", dst, strerror(errno));
	}
	free(data);
	return 0;
}

/* Runs scripts/geoip-fetch.sh DATA from the source tree next to the
 * binary (build/yubinctl -> scripts/). */
static int ctl_geoip_fetch(struct ctl *c)
{
	char exe[PATH_MAX], script[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *env = getenv("YUBIN_GEOIP_FETCH");
	char *slash;
	pid_t pid;
	int status;

	if (env != NULL && env[0] != '\0') {
		str_copy(script, sizeof(script), env);
	} else {
		if (n <= 0)
			return ctl_fail("cannot find my own path to locate scripts/geoip-fetch.sh");
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL)
			*slash = '\0';
		snprintf(script, sizeof(script), "%s/../scripts/geoip-fetch.sh", exe);
	}
	if (access(script, R_OK) < 0)
		return ctl_fail("%s not found: set YUBIN_GEOIP_FETCH to the script, or install a"
				" downloaded file with yubinctl geoip update --from FILE.mmdb", script);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return ctl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		unsetenv("YUBIN_GEOIP_CACHE");	/* an update means a fresh download */
		execl("/bin/sh", "sh", script, c->data, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ctl_fail("the download failed (see above); the old database, if any, stays in use");
	return 0;
}

int cmd_geoip_update(struct ctl *c)
{
	char dst[PATH_MAX], err[300];
	unsigned long nodes;

	if (ctl_path(c, dst, sizeof(dst), "geoip/country.mmdb") < 0)
		return 1;
	if (c->from != NULL) {
		if (ctl_geoip_install(c, c->from, dst) != 0)
			return 1;
	} else if (ctl_geoip_fetch(c) != 0) {
		return 1;
	}
	if (geoip_check_file(dst, &nodes, err, sizeof(err)) < 0)
		return ctl_fail("the installed database is not usable: %s", err);
	if (ctl_directory(c) != NULL)
		ctl_event(c, "geoip-updated", "", "%s (%lu nodes)", dst, nodes);
	printf("geoip: %s installed (%lu nodes); yubind picks it up within %d s\n", dst, nodes,
	       GEOIP_RECHECK);
	return 0;
}

/* yubinctl geoip lookup IP: what the restriction sees for an address, as
 * one answer in the order the login check decides (ops_geoip_lookup).
 * What the database says is added when an override wins. */
int cmd_geoip_lookup(struct ctl *c)
{
	struct ops_geoip_answer r;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	const char *ip = c->argv[0];
	char db[400];
	struct net_addr addr;

	if (net_addr_parse(ip, &addr) < 0)
		return ctl_fail("'%s' is not an IP address", ip);
	o = ctl_ops(c, &actor);
	if (o == NULL)
		return 1;
	if (ops_geoip_lookup(o, &actor, ip, &r, &err) < 0)
		return ctl_ops_fail(&err);
	if (r.db == GEOIP_FOUND)
		snprintf(db, sizeof(db), "%s", r.db_country);
	else if (r.db == GEOIP_NOT_FOUND)
		snprintf(db, sizeof(db), "no country in the database (refused as an unknown country)");
	else
		snprintf(db, sizeof(db), "database unavailable: %s (%s decides)", r.db_error,
			 settings_key(SETTING_CONF_GEOIP_MISSING));
	if (r.source == OPS_GEOIP_OVERRIDE)
		printf("%s: %s (override %s), used instead of the database's answer (%s)\n", ip, r.country,
		       r.override_cidr, db);
	else if (r.source == OPS_GEOIP_PRIVATE)
		printf("%s: private or loopback address (always exempt)\n", ip);
	else if (r.source == OPS_GEOIP_DATABASE)
		printf("%s: %s (database)\n", ip, r.country);
	else
		printf("%s: %s\n", ip, db);
	return 0;
}

static void ctl_override_print_cb(const char *cidr, const char *country, int64_t created, void *ctx)
{
	char when[40];

	ctl_time_text(created, when, sizeof(when));
	printf("%-43s %s  (since %s)\n", cidr, country, when);
	(*(unsigned *)ctx)++;
}

/* yubinctl geoip override add CIDR CC | del CIDR | list */
int cmd_geoip_override(struct ctl *c)
{
	const char *verb = c->argv[0];
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o = ctl_ops(c, &actor);
	char cidr[OPS_CIDR_MAX], cc[3];

	if (o == NULL)
		return 1;
	if (strcmp(verb, "list") == 0 && c->argc == 1) {
		unsigned n = 0;

		if (ops_geoip_override_list(o, &actor, ctl_override_print_cb, &n, &err) < 0)
			return ctl_ops_fail(&err);
		if (n == 0)
			printf("no GeoIP overrides\n");
		return 0;
	}
	if ((strcmp(verb, "add") != 0 || c->argc != 3) && (strcmp(verb, "del") != 0 || c->argc != 2)) {
		fprintf(stderr, "usage: yubinctl geoip override add CIDR CC | del CIDR | list\n");
		return 2;
	}
	if (strcmp(verb, "add") == 0) {
		if (ops_geoip_override_add(o, &actor, c->argv[1], c->argv[2], cidr, cc, &err) < 0)
			return ctl_ops_fail(&err);
		printf("geoip override: %s = %s (applies to the next login)\n", cidr, cc);
		return 0;
	}
	if (ops_geoip_override_del(o, &actor, c->argv[1], cidr, &err) < 0)
		return ctl_ops_fail(&err);
	printf("geoip override: %s deleted\n", cidr);
	return 0;
}
