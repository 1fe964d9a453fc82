/* yubinctl dkim show|rotate|activate and domain dns: DKIM keys
 * (policy/dkim_keys.h) and the DNS records a domain needs.
 *
 * Rotation is two steps so that no mail is signed with a key that
 * receivers cannot find yet: `dkim rotate` makes new keys in state
 * "next" and prints their records; once they are published, `dkim
 * activate` signs with them and retires the old keys, whose records stay
 * in `domain dns` for RETIRED_KEEP_DAYS more (mail signed just before can
 * still be checked) and whose files go at the next rotation after that.
 * `dkim rotate --now` does both at once (for a domain whose records are
 * not published yet anyway). */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/config.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/str.h"
#include "lib/strbuf.h"
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RETIRED_KEEP_DAYS 7
#define TXT_CHUNK 255

static int ctl_dkim_domain(struct ctl *c, const char *arg, char *name, size_t size)
{
	struct dir_domain d;
	int r;

	if (ctl_domain_arg(arg, name, size) < 0 || ctl_directory(c) == NULL)
		return 1;
	r = directory_domain_get(c->dir, name, &d);
	if (r < 0)
		return ctl_fail("cannot read the domain %s from the database", name);
	if (r == 0)
		return ctl_fail("no such domain: %s (yubinctl domain list shows them)", name);
	if (!dkim_domain_is_safe(name))
		return ctl_fail("the domain name %s cannot be used for DKIM keys", name);
	return 0;
}

static int ctl_dkim_list(struct ctl *c, const char *domain, struct dkim_keyinfo *k, size_t *n_r)
{
	const char *error = "";

	if (dkim_keys_list(c->data, domain, k, DKIM_KEYS_MAX, n_r, &error) < 0)
		return ctl_fail("cannot read the DKIM keys of %s: %s", domain, error);
	return 0;
}

/* Generates one RSA and one Ed25519 key in state into k[*n]. */
static int ctl_dkim_generate(struct ctl *c, const char *domain, struct dkim_keyinfo *k, size_t *n,
			     enum dkim_key_state state)
{
	static const enum dkim_keytype types[] = { DKIM_KEY_RSA, DKIM_KEY_ED25519 };
	int64_t now = (int64_t)time(NULL);

	for (size_t i = 0; i < 2; i++) {
		struct dkim_keyinfo *nk = &k[*n];
		const char *error = "";

		if (*n == DKIM_KEYS_MAX)
			return ctl_fail("%s has too many DKIM keys", domain);
		memset(nk, 0, sizeof(*nk));
		nk->type = types[i];
		nk->state = state;
		nk->since = now;
		dkim_keys_selector_new(nk->selector, sizeof(nk->selector), k, *n, nk->type, now);
		if (dkim_keys_generate(c->data, domain, nk, &error) < 0)
			return ctl_fail("cannot make a DKIM key for %s: %s", domain, error);
		(*n)++;
	}
	return 0;
}

static int ctl_dkim_save(struct ctl *c, const char *domain, const struct dkim_keyinfo *k, size_t n)
{
	const char *error = "";

	if (dkim_keys_save(c->data, domain, k, n, &error) < 0)
		return ctl_fail("cannot save the DKIM keys of %s: %s", domain, error);
	return 0;
}

int ctl_dkim_domain_added(struct ctl *c, const char *domain)
{
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n = 0;

	if (!dkim_domain_is_safe(domain) || ctl_dkim_list(c, domain, k, &n) != 0)
		return 1;
	if (n > 0)
		return 0;	/* keys kept from before */
	if (ctl_dkim_generate(c, domain, k, &n, DKIM_STATE_ACTIVE) != 0 || ctl_dkim_save(c, domain, k, n) != 0)
		return 1;
	printf("DKIM keys made for %s (selectors %s, %s): publish them, see yubinctl domain dns %s\n",
	       domain, k[0].selector, k[1].selector, domain);
	return 0;
}

int ctl_dkim_domain_deleted(struct ctl *c, const char *domain)
{
	char dir[PATH_MAX];
	struct stat st;

	if (dkim_keys_dir(dir, sizeof(dir), c->data, domain) < 0 || stat(dir, &st) < 0)
		return 0;
	if (fs_remove_tree(dir) < 0) {
		ctl_warn("the DKIM keys of %s in %s could not be removed: %s", domain, dir, strerror(errno));
		return 1;
	}
	return 0;
}

/* The TXT record of key k, into rec. */
static int ctl_dkim_record(struct ctl *c, const char *domain, const struct dkim_keyinfo *k,
			   struct strbuf *rec)
{
	const char *error = "";
	EVP_PKEY *key = dkim_keys_load(c->data, domain, k, &error);
	int r;

	if (key == NULL) {
		ctl_warn("the DKIM key %s of %s is not usable: %s", k->selector, domain, error);
		return -1;
	}
	r = dkim_keys_record(key, rec);
	EVP_PKEY_free(key);
	return r;
}

/* "keep until" of a retired key. */
static int64_t ctl_dkim_keep_until(const struct dkim_keyinfo *k)
{
	return k->since + RETIRED_KEEP_DAYS * 86400;
}

static void ctl_dkim_key_json(struct ctl *c, struct json *j, const char *domain,
			      const struct dkim_keyinfo *k)
{
	char since[32], name[DKIM_SELECTOR_MAX + 300], path[PATH_MAX];
	struct strbuf rec = STRBUF_INIT;

	ctl_time_iso(k->since, since, sizeof(since));
	snprintf(name, sizeof(name), "%s._domainkey.%s", k->selector, domain);
	json_object_begin(j);
	json_kv_string(j, "selector", k->selector);
	json_kv_string(j, "algorithm", k->type == DKIM_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256");
	json_kv_string(j, "state", dkim_state_name(k->state));
	json_kv_string(j, "since", since);
	if (k->state == DKIM_STATE_RETIRED) {
		ctl_time_iso(ctl_dkim_keep_until(k), since, sizeof(since));
		json_kv_string(j, "publish_until", since);
	}
	json_kv_string(j, "dns_name", name);
	if (ctl_dkim_record(c, domain, k, &rec) == 0)
		json_kv_string(j, "record", strbuf_cstr(&rec));
	if (dkim_keys_pem_path(path, sizeof(path), c->data, domain, k) == 0)
		json_kv_string(j, "file", path);
	json_object_end(j);
	strbuf_free(&rec);
}

int cmd_dkim_show(struct ctl *c)
{
	char domain[DIR_DOMAIN_MAX + 1], since[40], path[PATH_MAX];
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n = 0;
	struct json j;

	if (ctl_dkim_domain(c, c->argv[0], domain, sizeof(domain)) != 0 || ctl_dkim_list(c, domain, k, &n) != 0)
		return 1;
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
		json_kv_string(&j, "domain", domain);
		json_key(&j, "keys");
		json_array_begin(&j);
		for (size_t i = 0; i < n; i++)
			ctl_dkim_key_json(c, &j, domain, &k[i]);
		json_array_end(&j);
		json_object_end(&j);
		return ctl_json_print(&j);
	}
	if (n == 0) {
		printf("%s has no DKIM keys: make them with yubinctl dkim rotate %s --now\n", domain, domain);
		return 0;
	}
	printf("DKIM keys of %s:\n", domain);
	for (size_t i = 0; i < n; i++) {
		struct strbuf rec = STRBUF_INIT;

		ctl_time_text(k[i].since, since, sizeof(since));
		printf("  %-14s %-8s %-8s since %s", k[i].selector, dkim_keytype_name(k[i].type),
		       dkim_state_name(k[i].state), since);
		if (k[i].state == DKIM_STATE_RETIRED) {
			ctl_time_text(ctl_dkim_keep_until(&k[i]), since, sizeof(since));
			printf(", keep its DNS record until %s", since);
		}
		printf("\n");
		if (dkim_keys_pem_path(path, sizeof(path), c->data, domain, &k[i]) == 0)
			printf("    key file  %s\n", path);
		if (ctl_dkim_record(c, domain, &k[i], &rec) == 0)
			printf("    DNS       %s._domainkey.%s TXT \"%s\"\n", k[i].selector, domain, strbuf_cstr(&rec));
		strbuf_free(&rec);
	}
	printf("signing with the active keys; yubinctl domain dns %s prints the zone records\n", domain);
	return 0;
}

/* Drops retired keys past their keep time, with their files. A selector
 * is never handed out again: it carries the day its key was made, and a
 * key goes only a week after it retired. */
static void ctl_dkim_prune(struct ctl *c, const char *domain, struct dkim_keyinfo *k, size_t *n)
{
	int64_t now = (int64_t)time(NULL);
	size_t o = 0;

	for (size_t i = 0; i < *n; i++) {
		char path[PATH_MAX];

		if (k[i].state == DKIM_STATE_RETIRED && ctl_dkim_keep_until(&k[i]) <= now) {
			if (dkim_keys_pem_path(path, sizeof(path), c->data, domain, &k[i]) == 0)
				unlink(path);
			printf("removed the retired DKIM key %s: delete the DNS record %s._domainkey.%s\n",
			       k[i].selector, k[i].selector, domain);
			continue;
		}
		k[o++] = k[i];
	}
	*n = o;
}

/* next -> active, active -> retired. */
static void ctl_dkim_switch(struct dkim_keyinfo *k, size_t n)
{
	int64_t now = (int64_t)time(NULL);

	for (size_t i = 0; i < n; i++) {
		if (k[i].state == DKIM_STATE_ACTIVE) {
			k[i].state = DKIM_STATE_RETIRED;
			k[i].since = now;
		} else if (k[i].state == DKIM_STATE_NEXT) {
			k[i].state = DKIM_STATE_ACTIVE;
			k[i].since = now;
		}
	}
}

static void ctl_dkim_print_records(struct ctl *c, const char *domain, const struct dkim_keyinfo *k,
				   size_t n, enum dkim_key_state state)
{
	for (size_t i = 0; i < n; i++) {
		struct strbuf rec = STRBUF_INIT;

		if (k[i].state == state && ctl_dkim_record(c, domain, &k[i], &rec) == 0)
			printf("  %s._domainkey.%s TXT \"%s\"\n", k[i].selector, domain, strbuf_cstr(&rec));
		strbuf_free(&rec);
	}
}

int cmd_dkim_rotate(struct ctl *c)
{
	char domain[DIR_DOMAIN_MAX + 1];
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n = 0, before;
	bool pending = false, active = false;

	if (ctl_dkim_domain(c, c->argv[0], domain, sizeof(domain)) != 0 || ctl_dkim_list(c, domain, k, &n) != 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		pending |= k[i].state == DKIM_STATE_NEXT;
		active |= k[i].state == DKIM_STATE_ACTIVE;
	}
	if (pending && !c->now)
		return ctl_fail("a rotation of %s is already waiting: publish its records (yubinctl domain dns %s),"
				" then run yubinctl dkim activate %s", domain, domain, domain);
	ctl_dkim_prune(c, domain, k, &n);
	/* a --now on top of a waiting rotation replaces the waiting keys */
	before = n;
	n = 0;
	for (size_t i = 0; i < before; i++) {
		char path[PATH_MAX];
		if (k[i].state == DKIM_STATE_NEXT) {
			if (dkim_keys_pem_path(path, sizeof(path), c->data, domain, &k[i]) == 0)
				unlink(path);
			continue;
		}
		k[n++] = k[i];
	}
	if (ctl_dkim_generate(c, domain, k, &n, DKIM_STATE_NEXT) != 0)
		return 1;
	if (c->now || !active)
		ctl_dkim_switch(k, n);
	if (ctl_dkim_save(c, domain, k, n) != 0)
		return 1;
	ctl_event(c, "dkim-rotated", domain, "new selectors %s, %s%s", k[n - 2].selector, k[n - 1].selector,
		  c->now || !active ? ", signing with them now" : ", waiting for activation");
	if (c->now || !active) {
		printf("%s now signs with the new DKIM keys %s and %s. Publish:\n", domain, k[n - 2].selector,
		       k[n - 1].selector);
		ctl_dkim_print_records(c, domain, k, n, DKIM_STATE_ACTIVE);
		if (active)
			printf("Keep the records of the retired keys for %d days (yubinctl dkim show %s).\n",
			       RETIRED_KEEP_DAYS, domain);
	} else {
		printf("New DKIM keys for %s: publish these records, wait for them to be visible, then run"
		       " yubinctl dkim activate %s\n", domain, domain);
		ctl_dkim_print_records(c, domain, k, n, DKIM_STATE_NEXT);
	}
	return 0;
}

int cmd_dkim_activate(struct ctl *c)
{
	char domain[DIR_DOMAIN_MAX + 1];
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n = 0;
	bool pending = false;

	if (ctl_dkim_domain(c, c->argv[0], domain, sizeof(domain)) != 0 || ctl_dkim_list(c, domain, k, &n) != 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		pending |= k[i].state == DKIM_STATE_NEXT;
	if (!pending)
		return ctl_fail("%s has no new DKIM keys waiting: make them with yubinctl dkim rotate %s", domain,
				domain);
	ctl_dkim_switch(k, n);
	if (ctl_dkim_save(c, domain, k, n) != 0)
		return 1;
	ctl_event(c, "dkim-activated", domain, "signing with the new keys");
	printf("%s now signs with its new DKIM keys; keep the records of the retired ones for %d days"
	       " (yubinctl dkim show %s)\n", domain, RETIRED_KEEP_DAYS, domain);
	return 0;
}

/* ---- yubinctl domain dns ---- */

struct ctl_rr {
	char name[300];
	const char *type;
	struct strbuf value;		/* TXT: the whole text, unsplit */
	char explain[300];
};

static void ctl_rr_print(const struct ctl_rr *rr)
{
	printf("; %s\n%-32s 3600 IN %-3s ", rr->explain, rr->name, rr->type);
	if (strcmp(rr->type, "TXT") != 0) {
		printf("%s\n", strbuf_cstr(&rr->value));
		return;
	}
	/* character-strings of at most 255 bytes (RFC 1035 §3.3) */
	for (size_t off = 0; off < rr->value.len || off == 0; off += TXT_CHUNK) {
		size_t len = rr->value.len - off < TXT_CHUNK ? rr->value.len - off : TXT_CHUNK;
		printf("%s\"%.*s\"", off > 0 ? " " : "", (int)len, rr->value.data != NULL ? rr->value.data + off : "");
		if (rr->value.len == 0)
			break;
	}
	printf("\n");
}

static void ctl_rr_json(struct json *j, const struct ctl_rr *rr)
{
	json_object_begin(j);
	json_kv_string(j, "name", rr->name);
	json_kv_string(j, "type", rr->type);
	json_kv_string(j, "value", strbuf_cstr(&rr->value));
	if (strcmp(rr->type, "TXT") == 0) {
		json_key(j, "strings");
		json_array_begin(j);
		for (size_t off = 0; off < rr->value.len; off += TXT_CHUNK)
			json_string_n(j, rr->value.data + off,
				      rr->value.len - off < TXT_CHUNK ? rr->value.len - off : TXT_CHUNK);
		json_array_end(j);
	}
	json_kv_string(j, "explanation", rr->explain);
	json_object_end(j);
}

/* The record of key k into x: 1, 0 when it needs none (retired long
 * enough), -1 after a warning. */
static int ctl_dkim_rr(struct ctl *c, const char *domain, const struct dkim_keyinfo *k, struct ctl_rr *x)
{
	char until[40];

	if (k->state == DKIM_STATE_RETIRED && ctl_dkim_keep_until(k) <= (int64_t)time(NULL))
		return 0;	/* may be removed now */
	snprintf(x->name, sizeof(x->name), "%s._domainkey.%s.", k->selector, domain);
	x->type = "TXT";
	if (ctl_dkim_record(c, domain, k, &x->value) < 0) {
		strbuf_free(&x->value);
		return -1;
	}
	ctl_time_text(ctl_dkim_keep_until(k), until, sizeof(until));
	snprintf(x->explain, sizeof(x->explain), "DKIM (%s, %s): %s", dkim_keytype_name(k->type),
		 dkim_state_name(k->state),
		 k->state == DKIM_STATE_ACTIVE ? "the public key receivers check this server's signatures with"
		 : k->state == DKIM_STATE_NEXT ? "publish now; yubinctl dkim activate switches to it"
					       : "retired key; keep the record until");
	if (k->state == DKIM_STATE_RETIRED) {
		size_t l = strlen(x->explain);
		snprintf(x->explain + l, sizeof(x->explain) - l, " %s", until);
	}
	return 1;
}

/* The rua address: the domain's admin-address when it is in the domain,
 * else postmaster@DOMAIN (which RFC 5321 says must exist). */
static void ctl_dmarc_rua(struct ctl *c, const char *domain, char *buf, size_t size)
{
	char value[DIR_ADDRESS_MAX + 1];
	const char *at;

	snprintf(buf, size, "postmaster@%s", domain);
	if (settings_domain_string(c->dir, domain, SETTING_ADMIN_ADDRESS, value, sizeof(value)) > 0 &&
	    (at = strrchr(value, '@')) != NULL && strcasecmp(at + 1, domain) == 0)
		str_copy(buf, size, value);
}

int cmd_domain_dns(struct ctl *c)
{
	char domain[DIR_DOMAIN_MAX + 1], path[PATH_MAX], err[256], rua[DIR_ADDRESS_MAX + 1];
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	struct ctl_rr rr[4 + DKIM_KEYS_MAX];
	size_t n = 0, nrr = 0;
	struct config cfg;
	struct json j;
	int r = 0;

	if (ctl_dkim_domain(c, c->argv[0], domain, sizeof(domain)) != 0 || ctl_dkim_list(c, domain, k, &n) != 0 ||
	    ctl_path(c, path, sizeof(path), "yubin.conf") < 0)
		return 1;
	if (settings_conf_load(&cfg, path, err, sizeof(err)) < 0)
		return ctl_fail("cannot read %s: %s", path, err);
	ctl_dmarc_rua(c, domain, rua, sizeof(rua));
	memset(rr, 0, sizeof(rr));

	snprintf(rr[nrr].name, sizeof(rr[nrr].name), "%s.", domain);
	rr[nrr].type = "MX";
	strbuf_printf(&rr[nrr].value, "10 %s.", cfg.hostname);
	snprintf(rr[nrr].explain, sizeof(rr[nrr].explain),
		 "MX: mail for %s is delivered to this server, %s (its A/AAAA records must point here)", domain,
		 cfg.hostname);
	nrr++;
	snprintf(rr[nrr].name, sizeof(rr[nrr].name), "%s.", domain);
	rr[nrr].type = "TXT";
	strbuf_printf(&rr[nrr].value, "v=spf1 mx a:%s ~all", cfg.hostname);
	snprintf(rr[nrr].explain, sizeof(rr[nrr].explain),
		 "SPF: the MX hosts and %s may send mail from %s; others soft-fail (~all; use -all once"
		 " every sender is listed)", cfg.hostname, domain);
	nrr++;
	for (size_t i = 0; i < n; i++) {
		int got = ctl_dkim_rr(c, domain, &k[i], &rr[nrr]);
		if (got < 0)
			r = 1;
		else
			nrr += (size_t)got;
	}
	snprintf(rr[nrr].name, sizeof(rr[nrr].name), "_dmarc.%s.", domain);
	rr[nrr].type = "TXT";
	strbuf_printf(&rr[nrr].value, "v=DMARC1; p=none; rua=mailto:%s", rua);
	snprintf(rr[nrr].explain, sizeof(rr[nrr].explain),
		 "DMARC: receivers send aggregate reports to %s; p=none only monitors (raise to"
		 " quarantine or reject once the reports show only your own mail)", rua);
	nrr++;

	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
		json_kv_string(&j, "domain", domain);
		json_kv_string(&j, settings_key(SETTING_CONF_HOSTNAME), cfg.hostname);
		json_key(&j, "records");
		json_array_begin(&j);
		for (size_t i = 0; i < nrr; i++)
			ctl_rr_json(&j, &rr[i]);
		json_array_end(&j);
		json_object_end(&j);
		r = ctl_json_print(&j) != 0 ? 1 : r;
	} else {
		printf("; DNS records for %s (zone file syntax; TTL 3600 is a suggestion)\n", domain);
		for (size_t i = 0; i < nrr; i++)
			ctl_rr_print(&rr[i]);
		if (n == 0)
			printf("; no DKIM keys: make them with yubinctl dkim rotate %s --now\n", domain);
	}
	for (size_t i = 0; i < nrr; i++)
		strbuf_free(&rr[i].value);
	explicit_bzero(&cfg, sizeof(cfg));
	return r;
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
