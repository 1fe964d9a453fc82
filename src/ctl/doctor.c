/* yubinctl doctor ADDRESS [--since 7d] [--json] [--lang en|ja]: why can this user not
 * log in or get mail? ops_doctor (ops/ops_doctor.c) makes the checks; this
 * prints them, then the address's recent history in plain sentences, in
 * English or Japanese. --json prints what GET /api/v1/doctor returns for
 * the checks and counts. Exit status 1 when a check failed (a FAIL line),
 * 0 when there were only warnings or none, with or without --json. */
#include "ctl/ctl.h"
#include "lib/config.h"
#include "lib/json.h"
#include "ops/ops_server.h"

#include "settings/settings.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOCTOR_DNS_MS 5000	/* the live DNS check's limit */

static const char *doctor_level(enum ops_doctor_level l, bool word)
{
	if (word)
		return l == OPS_DOCTOR_FAIL ? "fail" : l == OPS_DOCTOR_WARN ? "warn" : "ok";
	return l == OPS_DOCTOR_FAIL ? "  FAIL  " : l == OPS_DOCTOR_WARN ? "  WARN  " : "  ok    ";
}

/* One finding: level, group, text and its fix (command, setting). */
static void doctor_json_check(struct json *j, const struct ops_doctor_check *c, bool ja)
{
	json_object_begin(j);
	json_kv_string(j, "level", doctor_level(c->level, true));
	json_kv_string(j, "group", ops_doctor_group_id(c->group));
	json_kv_string(j, "text", ja ? c->ja : c->text);
	json_key(j, "fix");
	json_object_begin(j);
	json_kv_string(j, "command", c->command);
	json_kv_string(j, "setting", c->setting);
	json_object_end(j);
	json_object_end(j);
}

static int doctor_json(const struct ops_doctor *d, bool ja)
{
	char when[40];
	struct json j;

	json_init(&j);
	json_object_begin(&j);
	json_kv_string(&j, "address", d->address);
	json_key(&j, "checks");
	json_array_begin(&j);
	for (size_t i = 0; i < d->nchecks; i++)
		doctor_json_check(&j, &d->checks[i], ja);
	json_array_end(&j);
	json_key(&j, "groups");
	json_array_begin(&j);
	for (int g = 0; g < OPS_DQ_COUNT; g++) {
		json_object_begin(&j);
		json_kv_string(&j, "id", ops_doctor_group_id((enum ops_doctor_group)g));
		json_kv_string(&j, "title", ops_doctor_group_title((enum ops_doctor_group)g, ja));
		json_key(&j, "findings");
		json_array_begin(&j);
		for (size_t i = 0; i < d->nchecks; i++) {
			if ((int)d->checks[i].group == g)
				doctor_json_check(&j, &d->checks[i], ja);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "events");
	json_array_begin(&j);
	for (size_t i = 0; i < d->nevents; i++) {
		ctl_time_iso(d->events[i].e.ts, when, sizeof(when));
		json_object_begin(&j);
		json_kv_string(&j, "time", when);
		json_kv_string(&j, "kind", d->events[i].e.kind);
		json_kv_string(&j, "ip", d->events[i].e.ip);
		json_kv_string(&j, "text", ja ? d->events[i].ja : d->events[i].text);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_kv_uint(&j, "problems", d->problems);
	json_kv_uint(&j, "warnings", d->warnings);
	json_kv_uint(&j, "days", d->days);
	json_object_end(&j);
	return ctl_json_print(&j);
}

/* The findings under each question (a question without any is left
 * out); a fix command on its own line, so it can be copied. */
static void doctor_text_groups(const struct ops_doctor *d, bool ja)
{
	for (int g = 0; g < OPS_DQ_COUNT; g++) {
		bool title = false;

		for (size_t i = 0; i < d->nchecks; i++) {
			const struct ops_doctor_check *c = &d->checks[i];

			if ((int)c->group != g)
				continue;
			if (!title)
				printf("\n%s:\n", ops_doctor_group_title((enum ops_doctor_group)g, ja));
			title = true;
			printf("%s%s\n", doctor_level(c->level, false), ja ? c->ja : c->text);
			if (c->command[0] != '\0' && c->level != OPS_DOCTOR_OK)
				printf(ja ? "          対処: %s\n" : "          fix: %s\n", c->command);
		}
	}
}

static void doctor_text(const struct ops_doctor *d, bool ja)
{
	char when[40];

	printf("doctor: %s\n", d->address);
	doctor_text_groups(d, ja);
	if (d->nevents == 0) {
		printf(ja ? "\n%s の記録はありません\n" : "\nno events recorded for %s\n", d->address);
	} else {
		if (ja)
			printf("\n%s の直近 %zu 件の記録 (新しい順):\n", d->address, d->nevents);
		else
			printf("\nlast %zu event%s for %s (newest first):\n", d->nevents, d->nevents == 1 ? "" : "s",
			       d->address);
		for (size_t i = 0; i < d->nevents; i++) {
			ctl_time_text(d->events[i].e.ts, when, sizeof(when));
			printf("  %s  %-17s %s\n", when, d->events[i].e.kind, ja ? d->events[i].ja : d->events[i].text);
		}
	}
	if (d->problems == 0 && d->warnings == 0)
		printf(ja ? "\nまとめ: 問題は見つかりませんでした\n" : "\nsummary: no problems found\n");
	else if (ja)
		printf("\nまとめ: 問題 %u 件、警告 %u 件\n", d->problems, d->warnings);
	else
		printf("\nsummary: %u problem%s, %u warning%s\n", d->problems, d->problems == 1 ? "" : "s",
		       d->warnings, d->warnings == 1 ? "" : "s");
}

/* The server's host name and resolver from yubin.conf, for the DNS
 * check (its defaults when it is unreadable). */
static void doctor_opts(struct ctl *c, struct config *cfg, struct ops_doctor_opts *opts, unsigned days)
{
	char path[PATH_MAX], err[256];

	if (ctl_path(c, path, sizeof(path), "yubin.conf") < 0 || settings_conf_load(cfg, path, err, sizeof(err)) < 0)
		settings_conf_defaults(cfg);
	memset(opts, 0, sizeof(*opts));
	opts->days = days;
	opts->hostname = cfg->hostname;
	opts->resolver = cfg->dns_resolver;
	opts->dns_timeout_ms = DOCTOR_DNS_MS;
}

int cmd_doctor(struct ctl *c)
{
	struct ops_doctor_opts opts;
	struct config cfg;
	struct ops_doctor *d;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	unsigned days = OPS_DOCTOR_DAYS;
	bool ja = false;
	int status;

	if (c->lang != NULL && strcmp(c->lang, "ja") == 0)
		ja = true;
	else if (c->lang != NULL && strcmp(c->lang, "en") != 0)
		return ctl_fail("--lang takes en or ja, not %s", c->lang);
	if (c->since != NULL && ops_doctor_days_parse(c->since, &days) < 0)
		return ctl_fail("--since takes a duration from 1s to %dd (7d, 48h), not %s", OPS_DOCTOR_DAYS_MAX,
				c->since);
	if ((d = malloc(sizeof(*d))) == NULL)
		return ctl_fail("out of memory");
	doctor_opts(c, &cfg, &opts, days);
	if ((o = ctl_ops(c, &actor)) == NULL || ops_doctor_run(o, &actor, c->argv[0], &opts, d, &err) < 0) {
		free(d);
		return o == NULL ? 1 : ctl_ops_fail(&err);
	}
	if (d->events_unreadable)
		ctl_warn("cannot read the events of %s", d->address);
	if (c->json) {
		if (doctor_json(d, ja) != 0) {
			free(d);
			return 1;
		}
	} else {
		doctor_text(d, ja);
	}
	/* A FAIL makes the exit status 1, so scripts and monitoring see it. */
	status = d->problems > 0 ? 1 : 0;
	free(d);
	return status;
}
