/* yubinctl dkim show|rotate|activate and domain dns: DKIM keys
 * (policy/dkim_keys.h) and the DNS records a domain needs, through
 * ops/ops_dkim.c and ops/ops_dns.c (which explain the two-step rotation);
 * dkim verify checks a message's signatures. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/config.h"
#include "lib/json.h"
#include "lib/str.h"
#include "lib/strbuf.h"
#include "ops/ops_server.h"
#include "policy/dkim_keys.h"
#include "policy/dkim_sign.h"
#include "policy/dkim_verify.h"
#include "store/queue_file.h"
#include "settings/settings.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TXT_CHUNK 255

int ctl_dkim_domain_added(struct ctl *c, const char *domain, int64_t since)
{
	struct ops_dkim_keys *k = malloc(sizeof(*k));
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	int r = 1;

	if (k == NULL || (o = ctl_ops(c, &actor)) == NULL || ops_dkim_list(o, &actor, domain, k, &err) < 0) {
		free(k);
		return 1;
	}
	if (k->n >= 2) {
		if (k->keys[0].info.since >= since)
			printf("DKIM keys made for %s (selectors %s, %s): publish them, see yubinctl domain dns %s\n",
			       domain, k->keys[0].info.selector, k->keys[1].info.selector, domain);
		r = 0;
	}
	free(k);
	return r;
}

static void ctl_dkim_key_json(struct json *j, const struct ops_dkim_key *k)
{
	char since[32];

	ctl_time_iso(k->info.since, since, sizeof(since));
	json_object_begin(j);
	json_kv_string(j, "selector", k->info.selector);
	json_kv_string(j, "algorithm", k->info.type == DKIM_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256");
	json_kv_string(j, "state", dkim_state_name(k->info.state));
	json_kv_string(j, "since", since);
	if (k->info.state == DKIM_STATE_RETIRED) {
		ctl_time_iso(k->keep_until, since, sizeof(since));
		json_kv_string(j, "publish_until", since);
	}
	json_kv_string(j, "dns_name", k->dns_name);
	if (k->record[0] != '\0')
		json_kv_string(j, "record", k->record);
	if (k->file[0] != '\0')
		json_kv_string(j, "file", k->file);
	json_object_end(j);
}

static void ctl_dkim_unusable(const struct ops_dkim_keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		if (k->keys[i].record[0] == '\0')
			ctl_warn("the DKIM key %s of %s is not usable (%s)", k->keys[i].info.selector, k->domain,
				 k->keys[i].file);
	}
}

/* A heap result for the keys (big for a stack) and the command line's
 * ops; NULL after a message. */
static struct ops_dkim_keys *ctl_dkim_keys(struct ctl *c, struct ops **o_r, struct ops_actor *actor)
{
	struct ops_dkim_keys *k = malloc(sizeof(*k));

	if (k == NULL) {
		ctl_fail("out of memory");
		return NULL;
	}
	if ((*o_r = ctl_ops(c, actor)) == NULL) {
		free(k);
		return NULL;
	}
	return k;
}

int cmd_dkim_show(struct ctl *c)
{
	struct ops_dkim_keys *k;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	char since[40];
	struct json j;
	int r = 0;

	if ((k = ctl_dkim_keys(c, &o, &actor)) == NULL)
		return 1;
	if (ops_dkim_list(o, &actor, c->argv[0], k, &err) < 0) {
		free(k);
		return ctl_ops_fail(&err);
	}
	ctl_dkim_unusable(k);
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
		json_kv_string(&j, "domain", k->domain);
		json_key(&j, "keys");
		json_array_begin(&j);
		for (size_t i = 0; i < k->n; i++)
			ctl_dkim_key_json(&j, &k->keys[i]);
		json_array_end(&j);
		json_object_end(&j);
		r = ctl_json_print(&j);
	} else if (k->n == 0) {
		printf("%s has no DKIM keys: make them with yubinctl dkim rotate %s --now\n", k->domain, k->domain);
	} else {
		printf("DKIM keys of %s:\n", k->domain);
		for (size_t i = 0; i < k->n; i++) {
			const struct ops_dkim_key *x = &k->keys[i];

			ctl_time_text(x->info.since, since, sizeof(since));
			printf("  %-14s %-8s %-8s since %s", x->info.selector, dkim_keytype_name(x->info.type),
			       dkim_state_name(x->info.state), since);
			if (x->info.state == DKIM_STATE_RETIRED) {
				ctl_time_text(x->keep_until, since, sizeof(since));
				printf(", keep its DNS record until %s", since);
			}
			printf("\n");
			if (x->file[0] != '\0')
				printf("    key file  %s\n", x->file);
			if (x->record[0] != '\0')
				printf("    DNS       %s TXT \"%s\"\n", x->dns_name, x->record);
		}
		printf("signing with the active keys; yubinctl domain dns %s prints the zone records\n", k->domain);
	}
	free(k);
	return r;
}

static void ctl_dkim_print_records(const struct ops_dkim_keys *k, enum dkim_key_state state)
{
	for (size_t i = 0; i < k->n; i++) {
		if (k->keys[i].info.state == state && k->keys[i].record[0] != '\0')
			printf("  %s TXT \"%s\"\n", k->keys[i].dns_name, k->keys[i].record);
	}
}

/* The two keys a rotation made: the last two. */
static void ctl_dkim_rotated(const struct ops_dkim_keys *k)
{
	const char *d = k->domain;

	for (size_t i = 0; i < k->npruned; i++)
		printf("removed the retired DKIM key %s: delete the DNS record %s._domainkey.%s\n", k->pruned[i],
		       k->pruned[i], d);
	if (k->switched) {
		printf("%s now signs with the new DKIM keys %s and %s. Publish:\n", d, k->keys[k->n - 2].info.selector,
		       k->keys[k->n - 1].info.selector);
		ctl_dkim_print_records(k, DKIM_STATE_ACTIVE);
		if (k->had_active)
			printf("Keep the records of the retired keys for %d days (yubinctl dkim show %s).\n",
			       OPS_DKIM_KEEP_DAYS, d);
	} else {
		printf("New DKIM keys for %s: publish these records, wait for them to be visible, then run"
		       " yubinctl dkim activate %s\n", d, d);
		ctl_dkim_print_records(k, DKIM_STATE_NEXT);
	}
}

int cmd_dkim_rotate(struct ctl *c)
{
	struct ops_dkim_keys *k;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;

	if ((k = ctl_dkim_keys(c, &o, &actor)) == NULL)
		return 1;
	if (ops_dkim_rotate(o, &actor, c->argv[0], c->now, k, &err) < 0) {
		free(k);
		return ctl_ops_fail(&err);
	}
	ctl_dkim_rotated(k);
	free(k);
	return 0;
}

int cmd_dkim_activate(struct ctl *c)
{
	struct ops_dkim_keys *k;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;

	if ((k = ctl_dkim_keys(c, &o, &actor)) == NULL)
		return 1;
	if (ops_dkim_activate(o, &actor, c->argv[0], k, &err) < 0) {
		free(k);
		return ctl_ops_fail(&err);
	}
	printf("%s now signs with its new DKIM keys; keep the records of the retired ones for %d days"
	       " (yubinctl dkim show %s)\n", k->domain, OPS_DKIM_KEEP_DAYS, k->domain);
	free(k);
	return 0;
}

/* ---- yubinctl domain dns ---- */

static void ctl_rr_print(const struct ops_rr *rr, bool check)
{
	size_t len = strlen(rr->value);

	printf("; %s\n", rr->explain);
	if (check) {
		printf("; DNS now: %s%s%s\n", ops_dns_state_name(rr->state), rr->found[0] != '\0' ? ": " : "",
		       rr->found);
	}
	printf("%-32s 3600 IN %-3s ", rr->name, rr->type);
	if (strcmp(rr->type, "TXT") != 0) {
		printf("%s\n", rr->value);
		return;
	}
	/* character-strings of at most 255 bytes (RFC 1035 §3.3) */
	for (size_t off = 0; off < len || off == 0; off += TXT_CHUNK) {
		size_t n = len - off < TXT_CHUNK ? len - off : TXT_CHUNK;

		printf("%s\"%.*s\"", off > 0 ? " " : "", (int)n, rr->value + off);
		if (len == 0)
			break;
	}
	printf("\n");
}

static void ctl_rr_json(struct json *j, const struct ops_rr *rr, bool check)
{
	size_t len = strlen(rr->value);

	json_object_begin(j);
	json_kv_string(j, "name", rr->name);
	json_kv_string(j, "type", rr->type);
	json_kv_string(j, "value", rr->value);
	if (strcmp(rr->type, "TXT") == 0) {
		json_key(j, "strings");
		json_array_begin(j);
		for (size_t off = 0; off < len; off += TXT_CHUNK)
			json_string_n(j, rr->value + off, len - off < TXT_CHUNK ? len - off : TXT_CHUNK);
		json_array_end(j);
	}
	json_kv_string(j, "explanation", rr->explain);
	if (check) {
		json_kv_string(j, "dns", ops_dns_state_name(rr->state));
		json_kv_string(j, "found", rr->found);
	}
	json_object_end(j);
}

int cmd_domain_dns(struct ctl *c)
{
	char path[PATH_MAX], err_text[256];
	struct ops_dns_records *r = malloc(sizeof(*r));
	struct ops_actor actor;
	struct ops_error err;
	struct config cfg;
	struct ops *o;
	struct json j;
	int status = 0;

	if (r == NULL)
		return ctl_fail("out of memory");
	if ((o = ctl_ops(c, &actor)) == NULL || ctl_path(c, path, sizeof(path), "yubin.conf") < 0) {
		free(r);
		return 1;
	}
	if (settings_conf_load(&cfg, path, err_text, sizeof(err_text)) < 0) {
		free(r);
		return ctl_fail("cannot read %s: %s", path, err_text);
	}
	if (ops_dns_records(o, &actor, c->argv[0], cfg.hostname, r, &err) < 0) {
		explicit_bzero(&cfg, sizeof(cfg));
		free(r);
		return ctl_ops_fail(&err);
	}
	if (r->key_unusable) {
		ctl_warn("a DKIM key of %s is not usable: its record is left out (yubinctl dkim show %s)",
			 r->domain, r->domain);
		status = 1;
	}
	if (c->check)
		ops_dns_check(r, cfg.hostname, cfg.dns_resolver, 10000);
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
		json_kv_string(&j, "domain", r->domain);
		json_kv_string(&j, settings_key(SETTING_CONF_HOSTNAME), cfg.hostname);
		json_key(&j, "records");
		json_array_begin(&j);
		for (size_t i = 0; i < r->n; i++)
			ctl_rr_json(&j, &r->rr[i], c->check);
		json_array_end(&j);
		json_object_end(&j);
		status = ctl_json_print(&j) != 0 ? 1 : status;
	} else {
		printf("; DNS records for %s (zone file syntax; TTL 3600 is a suggestion)\n", r->domain);
		for (size_t i = 0; i < r->n; i++)
			ctl_rr_print(&r->rr[i], c->check);
		if (r->no_dkim)
			printf("; no DKIM keys: make them with yubinctl dkim rotate %s --now\n", r->domain);
	}
	explicit_bzero(&cfg, sizeof(cfg));
	free(r);
	return status;
}

/* ---- signing for yubinctl queue inject ---- */

static struct dkim_signer *ctl_signer;

static char *ctl_queue_sign(void *ctx, const char *from, const struct maildir_msg *msg, size_t *len_r)
{
	struct strbuf out = STRBUF_INIT;
	const char *error = "";
	int n = dkim_signer_sign(ctx, from, msg, &out, NULL, &error);

	if (n <= 0) {
		if (n < 0)
			ctl_warn("the message is not DKIM-signed: %s", error);
		strbuf_free(&out);
		return NULL;
	}
	*len_r = out.len;
	return out.data;
}

void ctl_dkim_hook(const struct ctl *c)
{
	ctl_signer = dkim_signer_new(c->data);
	if (ctl_signer != NULL)
		queue_file_set_signer(ctl_queue_sign, ctl_signer);
}

void ctl_dkim_unhook(void)
{
	queue_file_set_signer(NULL, NULL);
	dkim_signer_free(ctl_signer);
	ctl_signer = NULL;
}

/* ---- yubinctl dkim verify [FILE] ---- */

#define VERIFY_MAX_BYTES (64 * 1024 * 1024)

static char *ctl_read_all(FILE *f, size_t *len_r)
{
	struct strbuf b = STRBUF_INIT;
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		strbuf_append(&b, buf, n);
		if (b.len > VERIFY_MAX_BYTES) {
			strbuf_free(&b);
			return NULL;
		}
	}
	if (ferror(f)) {
		strbuf_free(&b);
		return NULL;
	}
	*len_r = b.len;
	if (b.data == NULL)
		return calloc(1, 1);
	return b.data;
}

int cmd_dkim_verify(struct ctl *c)
{
	char path[PATH_MAX], err[256];
	struct dkim_verdict v[DKIM_VERIFY_MAX];
	struct config cfg;
	size_t len = 0, n, passed = 0;
	char *msg;
	FILE *f = stdin;
	struct json j;

	if (ctl_path(c, path, sizeof(path), "yubin.conf") < 0)
		return 1;
	if (settings_conf_load(&cfg, path, err, sizeof(err)) < 0)
		return ctl_fail("cannot read %s: %s", path, err);
	if (c->argc > 0 && strcmp(c->argv[0], "-") != 0) {
		f = fopen(c->argv[0], "rb");
		if (f == NULL) {
			explicit_bzero(&cfg, sizeof(cfg));
			return ctl_fail("cannot open %s: %s", c->argv[0], strerror(errno));
		}
	}
	msg = ctl_read_all(f, &len);
	if (f != stdin)
		fclose(f);
	if (msg == NULL) {
		explicit_bzero(&cfg, sizeof(cfg));
		return ctl_fail("cannot read the message (at most %d MB)", VERIFY_MAX_BYTES >> 20);
	}
	n = dkim_verify(cfg.dns_resolver, msg, len, v, DKIM_VERIFY_MAX);
	explicit_bzero(&cfg, sizeof(cfg));
	free(msg);
	if (c->json) {
		json_init(&j);
		json_array_begin(&j);
	}
	for (size_t i = 0; i < n; i++) {
		passed += v[i].result == DKIM_PASS;
		if (c->json) {
			json_object_begin(&j);
			json_kv_string(&j, "result", dkim_res_name(v[i].result));
			json_kv_string(&j, "domain", v[i].domain);
			json_kv_string(&j, "selector", v[i].selector);
			json_kv_string(&j, "algorithm", v[i].algo);
			json_kv_string(&j, "header_b", v[i].header_b);
			json_kv_string(&j, "reason", v[i].reason);
			json_object_end(&j);
			continue;
		}
		printf("dkim=%s", dkim_res_name(v[i].result));
		if (v[i].reason[0] != '\0')
			printf(" (%s)", v[i].reason);
		printf(" header.d=%s header.s=%s header.a=%s header.b=%s\n", v[i].domain, v[i].selector,
		       v[i].algo, v[i].header_b);
	}
	if (c->json) {
		json_array_end(&j);
		if (ctl_json_print(&j) != 0)
			return 1;
	} else if (n == 0) {
		printf("dkim=none (the message has no DKIM signature)\n");
	}
	if (n == 0)
		return ctl_fail("the message is not DKIM-signed");
	if (passed < n)
		return ctl_fail("%zu of %zu DKIM signatures passed", passed, n);
	return 0;
}
