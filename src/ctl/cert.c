/* yubinctl cert list|show|renew|import|add|remove: the host names of the
 * domains and their certificates, through ops/ops_cert.c and ops_acme.c.
 * A renewal or an import tells a running yubind (SIGHUP), which swaps its
 * certificates without a restart. */
#include "ctl/ctl.h"
#include "ops/ops_cert.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "settings/settings.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ctl_daemon_reload(const struct ops *o)
{
	return ctl_daemon_signal(o->data, SIGHUP);
}

static void cert_json(struct json *j, const struct ops_cert_info *c)
{
	char t[32];

	json_object_begin(j);
	json_kv_string(j, "name", c->name);
	json_kv_string(j, "domain", c->domain);
	json_kv_string(j, "source", c->source);
	json_kv_bool(j, "present", c->present);
	json_kv_bool(j, "covers", c->covers);
	json_kv_bool(j, "self_signed", c->self_signed);
	if (c->present) {
		ctl_time_iso(c->not_before, t, sizeof(t));
		json_kv_string(j, "not_before", t);
		ctl_time_iso(c->not_after, t, sizeof(t));
		json_kv_string(j, "not_after", t);
		ctl_time_iso(c->renew_at, t, sizeof(t));
		json_kv_string(j, "renew_at", t);
		json_kv_string(j, "issuer", c->issuer);
		json_kv_string(j, "names", c->sans);
	}
	json_kv_uint(j, "failures", c->failures);
	if (c->next_try > 0) {
		ctl_time_iso(c->next_try, t, sizeof(t));
		json_kv_string(j, "next_try", t);
	}
	json_kv_string(j, "last_error", c->last_error);
	json_object_end(j);
}

static void cert_line(const struct ops_cert_info *c)
{
	char until[40] = "no certificate";

	if (c->present)
		ctl_time_text(c->not_after, until, sizeof(until));
	printf("%-40s %-9s %s%s%s%s\n", c->name, c->source, c->present ? "until " : "", until,
	       c->present && !c->covers ? " (does not cover the name)" : "",
	       c->last_error[0] != '\0' ? " [last error]" : "");
}

static void list_cb(const struct ops_cert_info *c, void *ctx)
{
	struct ctl_list *l = ctx;

	l->n++;
	if (l->j != NULL)
		cert_json(l->j, c);
	else
		cert_line(c);
}

int cmd_cert_list(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ctl_list l;
	struct json j;
	struct ops *o = ctl_ops(c, &actor);

	if (o == NULL)
		return 1;
	ctl_list_begin(c, &l, &j);
	return ctl_list_end(&l, ops_cert_list(o, &actor, c->argc > 0 ? c->argv[0] : NULL, list_cb, &l, &err),
			    &err, "no host names (add a domain first)");
}

int cmd_cert_show(struct ctl *c)
{
	struct ops_cert_info info;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o = ctl_ops(c, &actor);
	char t[40];

	if (o == NULL)
		return 1;
	if (ops_cert_show(o, &actor, c->argv[0], &info, &err) < 0)
		return ctl_ops_fail(&err);
	if (c->json) {
		struct json j;
		json_init(&j);
		cert_json(&j, &info);
		return ctl_json_print(&j);
	}
	printf("name:        %s\ndomain:      %s\nsource:      %s\n", info.name, info.domain, info.source);
	if (info.present) {
		ctl_time_text(info.not_before, t, sizeof(t));
		printf("valid from:  %s\n", t);
		ctl_time_text(info.not_after, t, sizeof(t));
		printf("valid until: %s\n", t);
		ctl_time_text(info.renew_at, t, sizeof(t));
		printf("renew from:  %s\nissuer:      %s\nnames:       %s%s\n", t, info.issuer, info.sans,
		       info.covers ? "" : " (does not cover the name)");
	} else {
		printf("certificate: none (the server's own is shown to clients)\n");
	}
	if (info.failures > 0 || info.last_error[0] != '\0') {
		printf("failures:    %u\nlast error:  %s\n", info.failures, info.last_error);
		if (info.next_try > 0) {
			ctl_time_text(info.next_try, t, sizeof(t));
			printf("next try:    %s\n", t);
		}
	}
	return 0;
}

struct renew_print {
	struct json *j;
	unsigned failed;
};

static void renew_cb(const struct ops_renew_result *r, void *ctx)
{
	struct renew_print *p = ctx;

	if (r->outcome == OPS_RENEW_FAILED)
		p->failed++;
	if (p->j != NULL) {
		json_object_begin(p->j);
		json_kv_string(p->j, "name", r->name);
		json_kv_string(p->j, "outcome", ops_renew_outcome_name(r->outcome));
		json_kv_string(p->j, "detail", r->detail);
		json_object_end(p->j);
	} else {
		printf("%-40s %-13s %s\n", r->name, ops_renew_outcome_name(r->outcome), r->detail);
	}
}

int cmd_cert_renew(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct renew_print p = { NULL, 0 };
	struct config cfg;
	struct json j;
	char path[PATH_MAX], msg[512];
	struct ops *o = ctl_ops(c, &actor);
	int r;

	if (o == NULL || ctl_path(c, path, sizeof(path), "yubin.conf") < 0)
		return 1;
	if (settings_conf_load(&cfg, path, msg, sizeof(msg)) < 0)
		return ctl_fail("%s", msg);
	o->conf_reload = ctl_daemon_reload;
	if (c->json) {
		json_init(&j);
		json_array_begin(&j);
		p.j = &j;
	}
	r = ops_cert_renew(o, &actor, &cfg, c->argc > 0 ? c->argv[0] : NULL, c->force, NULL, renew_cb, &p, &err);
	if (r < 0) {
		if (p.j != NULL)
			json_free(&j);
		return ctl_ops_fail(&err);
	}
	if (p.j != NULL) {
		json_array_end(&j);
		if (ctl_json_print(&j) != 0)
			return 1;
	}
	return p.failed > 0 ? 1 : 0;
}

int cmd_cert_import(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o = ctl_ops(c, &actor);
	char *cert, *key;
	int r;

	if (o == NULL)
		return 1;
	cert = fs_read_file(c->argv[1], OPS_CERT_PEM_MAX + 1, NULL);
	if (cert == NULL)
		return ctl_fail("cannot read %s", c->argv[1]);
	key = fs_read_file(c->argv[2], OPS_CERT_PEM_MAX + 1, NULL);
	if (key == NULL) {
		free(cert);
		return ctl_fail("cannot read %s", c->argv[2]);
	}
	o->conf_reload = ctl_daemon_reload;
	r = ops_cert_import(o, &actor, c->argv[0], cert, key, &err);
	explicit_bzero(key, strlen(key));
	free(cert);
	free(key);
	if (r < 0)
		return ctl_ops_fail(&err);
	printf("certificate for %s installed\n", c->argv[0]);
	return 0;
}

int cmd_cert_add(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o = ctl_ops(c, &actor);

	if (o == NULL)
		return 1;
	if (ops_hostname_add(o, &actor, c->argv[0], c->argv[1], &err) < 0)
		return ctl_ops_fail(&err);
	printf("%s added to %s\n", c->argv[1], c->argv[0]);
	return 0;
}

int cmd_cert_remove(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o = ctl_ops(c, &actor);

	if (o == NULL)
		return 1;
	if (ops_hostname_del(o, &actor, c->argv[0], &err) < 0)
		return ctl_ops_fail(&err);
	printf("%s removed\n", c->argv[0]);
	return 0;
}
