/* DKIM keys of a domain (policy/dkim_keys.h): list, rotate, activate.
 *
 * Rotation is two steps so that no mail is signed with a key receivers
 * cannot find yet: rotate makes new keys in state "next"; once their
 * records are published, activate signs with them and retires the old
 * keys, whose records stay published OPS_DKIM_KEEP_DAYS more (mail signed
 * just before can still be checked) and whose files go at the next
 * rotation after that. rotate with now does both at once (for a domain
 * whose records are not published yet anyway). The daemon sees the
 * changed selectors file and reloads it without a restart. Every change
 * is stored in the directory too (policy/dkim_share.h), from which the
 * other daemons sharing it write their files. */
#include "ops/ops_server.h"
#include "policy/dkim_share.h"
#include "lib/str.h"
#include "lib/strbuf.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The domain, lower-cased into name, after the checks. */
static int ops_dkim_domain(struct ops *o, const struct ops_actor *actor, const char *domain, char *name,
			   struct ops_error *err)
{
	struct dir_domain d;
	int r;

	memset(err, 0, sizeof(*err));
	if (ops_actor_role(actor) == OPS_ACTOR_USER || !ops_may_domain(actor, domain))
		return ops_fail(err, "forbidden", "domain", "you may not manage the DKIM keys of %s",
				"%s の DKIM 鍵を管理する権限がありません", domain);
	r = strlen(domain) <= DIR_DOMAIN_MAX ? directory_domain_get(o->dir, domain, &d) : 0;
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the domain %s from the database",
				"ドメイン %s をデータベースから読めません", domain);
	if (r == 0)
		return ops_fail(err, "not_found", "domain", "no such domain: %s (yubinctl domain list shows them)",
				"ドメイン %s はありません", domain);
	str_copy(name, DIR_DOMAIN_MAX + 1, d.name);
	if (!dkim_domain_is_safe(name))
		return ops_fail(err, "invalid_domain", "domain", "the domain name %s cannot be used for DKIM keys",
				"ドメイン名 %s は DKIM 鍵に使えません", name);
	return 0;
}

static int ops_dkim_read(struct ops *o, const char *domain, struct dkim_keyinfo *k, size_t *n_r,
			 struct ops_error *err)
{
	const char *error = "";

	/* the directory's keys are the domain's (several proxies share them):
	 * the files here first brought up to date, or stored there */
	if (dkim_share_domain(o->dir, o->data, domain) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the DKIM keys of %s from the database",
				"%s の DKIM 鍵をデータベースから読めません", domain);
	if (dkim_keys_list(o->data, domain, k, DKIM_KEYS_MAX, n_r, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the DKIM keys of %s: %s",
				"%s の DKIM 鍵を読めません: %s", domain, error);
	return 0;
}

/* Fills r from the keys k[0..n): their records, files and keep times. */
static void ops_dkim_fill(struct ops *o, const char *domain, const struct dkim_keyinfo *k, size_t n,
			  struct ops_dkim_keys *r)
{
	str_copy(r->domain, sizeof(r->domain), domain);
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		struct ops_dkim_key *x = &r->keys[i];
		struct strbuf rec = STRBUF_INIT;
		const char *error = "";
		EVP_PKEY *key;

		x->info = k[i];
		x->keep_until = k[i].since + OPS_DKIM_KEEP_DAYS * 86400;
		snprintf(x->dns_name, sizeof(x->dns_name), "%s._domainkey.%s", k[i].selector, domain);
		x->record[0] = '\0';
		key = dkim_keys_load(o->data, domain, &k[i], &error);
		if (key != NULL && dkim_keys_record(key, &rec) == 0)
			str_copy(x->record, sizeof(x->record), strbuf_cstr(&rec));
		EVP_PKEY_free(key);
		strbuf_free(&rec);
		if (dkim_keys_pem_path(x->file, sizeof(x->file), o->data, domain, &k[i]) < 0)
			x->file[0] = '\0';
	}
}

/* The start of each DKIM operation: clears *r, checks that actor may
 * manage domain (its lowercase name into name) and reads its keys into
 * k[*n_r]. 0, or -1 with err. */
static int ops_dkim_begin(struct ops *o, const struct ops_actor *actor, const char *domain, char *name,
			  struct dkim_keyinfo *k, size_t *n_r, struct ops_dkim_keys *r, struct ops_error *err)
{
	memset(r, 0, sizeof(*r));
	*n_r = 0;
	if (ops_dkim_domain(o, actor, domain, name, err) < 0 || ops_dkim_read(o, name, k, n_r, err) < 0)
		return -1;
	return 0;
}

int ops_dkim_list(struct ops *o, const struct ops_actor *actor, const char *domain,
		  struct ops_dkim_keys *r, struct ops_error *err)
{
	char name[DIR_DOMAIN_MAX + 1];
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n;

	if (ops_dkim_begin(o, actor, domain, name, k, &n, r, err) < 0)
		return -1;
	ops_dkim_fill(o, name, k, n, r);
	return 0;
}

/* Generates one RSA and one Ed25519 key in state into k[*n]. */
static int ops_dkim_generate(struct ops *o, const char *domain, struct dkim_keyinfo *k, size_t *n,
			     enum dkim_key_state state, struct ops_error *err)
{
	static const enum dkim_keytype types[] = { DKIM_KEY_RSA, DKIM_KEY_ED25519 };
	int64_t now = (int64_t)time(NULL);

	for (size_t i = 0; i < 2; i++) {
		struct dkim_keyinfo *nk = &k[*n];
		const char *error = "";

		if (*n == DKIM_KEYS_MAX)
			return ops_fail(err, "too_many_keys", NULL, "%s has too many DKIM keys",
					"%s の DKIM 鍵が多すぎます", domain);
		memset(nk, 0, sizeof(*nk));
		nk->type = types[i];
		nk->state = state;
		nk->since = now;
		dkim_keys_selector_new(nk->selector, sizeof(nk->selector), k, *n, nk->type, now);
		if (dkim_keys_generate(o->data, domain, nk, &error) < 0)
			return ops_fail(err, "internal", NULL, "cannot make a DKIM key for %s: %s",
					"%s の DKIM 鍵を作れません: %s", domain, error);
		(*n)++;
	}
	return 0;
}

static int ops_dkim_save(struct ops *o, const char *domain, const struct dkim_keyinfo *k, size_t n,
			 struct ops_error *err)
{
	const char *error = "";

	/* the directory first: a sync meanwhile then writes out this list */
	if (dkim_share_put(o->dir, o->data, domain, k, n, &error) < 0 ||
	    dkim_keys_save(o->data, domain, k, n, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot save the DKIM keys of %s: %s",
				"%s の DKIM 鍵を保存できません: %s", domain, error);
	return 0;
}

static void ops_dkim_unlink(struct ops *o, const char *domain, const struct dkim_keyinfo *k)
{
	char path[PATH_MAX];

	if (dkim_keys_pem_path(path, sizeof(path), o->data, domain, k) == 0)
		unlink(path);
}

/* Drops retired keys past their keep time, with their files, and waiting
 * (next) keys, which a new rotation replaces. A selector is never handed
 * out again: it carries the day its key was made, and a key goes only a
 * week after it retired. */
static void ops_dkim_prune(struct ops *o, const char *domain, struct dkim_keyinfo *k, size_t *n,
			   struct ops_dkim_keys *r)
{
	int64_t now = (int64_t)time(NULL);
	size_t kept = 0;

	for (size_t i = 0; i < *n; i++) {
		if (k[i].state == DKIM_STATE_RETIRED && k[i].since + OPS_DKIM_KEEP_DAYS * 86400 <= now) {
			ops_dkim_unlink(o, domain, &k[i]);
			str_copy(r->pruned[r->npruned++], DKIM_SELECTOR_MAX, k[i].selector);
			continue;
		}
		if (k[i].state == DKIM_STATE_NEXT) {
			ops_dkim_unlink(o, domain, &k[i]);
			continue;
		}
		k[kept++] = k[i];
	}
	*n = kept;
}

/* next -> active, active -> retired. */
static void ops_dkim_switch(struct dkim_keyinfo *k, size_t n)
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

int ops_dkim_rotate(struct ops *o, const struct ops_actor *actor, const char *domain, bool now,
		    struct ops_dkim_keys *r, struct ops_error *err)
{
	char name[DIR_DOMAIN_MAX + 1];
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	bool pending = false, active = false;
	size_t n;

	if (ops_dkim_begin(o, actor, domain, name, k, &n, r, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		pending |= k[i].state == DKIM_STATE_NEXT;
		active |= k[i].state == DKIM_STATE_ACTIVE;
	}
	if (pending && !now)
		return ops_fail(err, "rotation_waiting", NULL,
				"a rotation of %s is already waiting: publish its records (yubinctl domain dns %s),"
				" then run yubinctl dkim activate %s",
				"%s の鍵交換が既に待機中です: DNS レコード (yubinctl domain dns %s) を公開してから"
				" yubinctl dkim activate %s を実行してください", name, name, name);
	ops_dkim_prune(o, name, k, &n, r);
	if (ops_dkim_generate(o, name, k, &n, DKIM_STATE_NEXT, err) < 0)
		return -1;
	r->had_active = active;
	r->switched = now || !active;
	if (r->switched)
		ops_dkim_switch(k, n);
	if (ops_dkim_save(o, name, k, n, err) < 0)
		return -1;
	ops_event(o, actor, "dkim-rotated", name, "new selectors %s, %s%s", k[n - 2].selector, k[n - 1].selector,
		  r->switched ? ", signing with them now" : ", waiting for activation");
	ops_audit(o, actor, "dkim.rotate", name, "new selectors %s, %s%s", k[n - 2].selector, k[n - 1].selector,
		  r->switched ? ", active now" : ", waiting for activation");
	ops_dkim_fill(o, name, k, n, r);
	return 0;
}

int ops_dkim_activate(struct ops *o, const struct ops_actor *actor, const char *domain,
		      struct ops_dkim_keys *r, struct ops_error *err)
{
	char name[DIR_DOMAIN_MAX + 1];
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	bool pending = false;
	size_t n;

	if (ops_dkim_begin(o, actor, domain, name, k, &n, r, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		pending |= k[i].state == DKIM_STATE_NEXT;
	if (!pending)
		return ops_fail(err, "no_waiting_keys", NULL,
				"%s has no new DKIM keys waiting: make them with yubinctl dkim rotate %s",
				"%s には待機中の新しい DKIM 鍵がありません: yubinctl dkim rotate %s で作ってください",
				name, name);
	ops_dkim_switch(k, n);
	if (ops_dkim_save(o, name, k, n, err) < 0)
		return -1;
	r->switched = true;
	ops_event(o, actor, "dkim-activated", name, "signing with the new keys");
	ops_audit(o, actor, "dkim.activate", name, "signing with the new keys");
	ops_dkim_fill(o, name, k, n, r);
	return 0;
}

int ops_dkim_domain_added(struct ops *o, const struct ops_actor *actor, const char *domain,
			  struct ops_dkim_keys *r, struct ops_error *err)
{
	char name[DIR_DOMAIN_MAX + 1];
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n;

	if (ops_dkim_begin(o, actor, domain, name, k, &n, r, err) < 0)
		return -1;
	if (n > 0)
		return 0;	/* keys kept from before */
	if (ops_dkim_generate(o, name, k, &n, DKIM_STATE_ACTIVE, err) < 0 || ops_dkim_save(o, name, k, n, err) < 0)
		return -1;
	ops_dkim_fill(o, name, k, n, r);
	return 1;
}
