/* Host names and their certificates: listing, showing, importing an
 * administrator's own, adding and removing names (see ops_cert.h). The
 * ACME side is ops_acme.c. */
#include "ops/ops_cert.h"
#include "policy/acme_msg.h"
#include "directory/validate.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const ops_cert_default_labels[3] = { "mail", "autoconfig", "mta-sts" };

static int64_t asn1_time_t(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void sans_text(X509 *x, char *out, size_t size)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *s;
		int n;

		if (g->type != GEN_DNS)
			continue;
		s = ASN1_STRING_get0_data(g->d.dNSName);
		n = ASN1_STRING_length(g->d.dNSName);
		if (len + (size_t)n + 3 >= size)
			break;
		len += (size_t)snprintf(out + len, size - len, "%s%.*s", len > 0 ? "," : "", n, s);
	}
	GENERAL_NAMES_free(gens);
}

int ops_cert_read(const char *pem, size_t len, const char *name, struct ops_cert_info *info)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	uint32_t h = 2166136261u;

	BIO_free(b);
	ERR_clear_error();
	if (x == NULL)
		return -1;
	info->present = true;
	info->covers = X509_check_host(x, name, strlen(name), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	info->self_signed = X509_check_issued(x, x) == X509_V_OK;
	info->not_before = asn1_time_t(X509_get0_notBefore(x));
	info->not_after = asn1_time_t(X509_get0_notAfter(x));
	X509_NAME_oneline(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
	sans_text(x, info->sans, sizeof(info->sans));
	for (const char *p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;	/* a name's own jitter */
	info->renew_at = acme_renew_time(info->not_before, info->not_after, h);
	X509_free(x);
	return 0;
}

/* The certificate file of name and the state row into info. */
static void cert_info_load(struct ops *o, const char *domain, const char *name, struct ops_cert_info *info)
{
	struct dir_cert_state st;
	char path[4400];
	size_t len;
	char *pem;

	memset(info, 0, sizeof(*info));
	str_copy(info->name, sizeof(info->name), name);
	str_copy(info->domain, sizeof(info->domain), domain);
	snprintf(path, sizeof(path), "%s/tls/%s.crt", o->data, name);
	pem = fs_read_file(path, OPS_CERT_PEM_MAX, &len);
	if (pem != NULL)
		ops_cert_read(pem, len, name, info);
	free(pem);
	directory_cert_state_get(o->dir, name, &st);
	str_copy(info->source, sizeof(info->source), st.source);
	info->failures = st.failures;
	info->next_try = st.next_try;
	str_copy(info->last_error, sizeof(info->last_error), st.last_error);
}

struct name_walk {
	struct ops *o;
	const struct ops_actor *actor;
	const char *only;	/* one domain, or NULL */
	ops_cert_cb *cb;
	void *ctx;
	char (*domains)[DIR_DOMAIN_MAX + 1];
	size_t ndomains, cap;
};

static void walk_domain(const struct dir_domain *d, void *ctx)
{
	struct name_walk *w = ctx;

	if ((w->only != NULL && !str_eq_ci(w->only, d->name)) || !ops_may_domain(w->actor, d->name))
		return;
	if (w->ndomains == w->cap) {
		size_t cap = w->cap == 0 ? 16 : w->cap * 2;
		void *grown = realloc(w->domains, cap * sizeof(*w->domains));
		if (grown == NULL)
			return;
		w->domains = grown;
		w->cap = cap;
	}
	str_copy(w->domains[w->ndomains++], DIR_DOMAIN_MAX + 1, d->name);
}

struct added {
	char (*names)[256];
	size_t n, cap;
};

static void added_cb(const char *domain, const char *name, void *ctx)
{
	struct added *a = ctx;

	if (a->n == a->cap) {
		size_t cap = a->cap == 0 ? 8 : a->cap * 2;
		void *grown = realloc(a->names, cap * sizeof(*a->names));
		if (grown == NULL)
			return;
		a->names = grown;
		a->cap = cap;
	}
	str_copy(a->names[a->n++], 256, name);
}

int ops_cert_list(struct ops *o, const struct ops_actor *actor, const char *domain, ops_cert_cb *cb,
		  void *ctx, struct ops_error *err)
{
	struct name_walk w = { o, actor, domain, cb, ctx, NULL, 0, 0 };
	struct ops_cert_info info;

	if (domain != NULL && !ops_may_domain(actor, domain))
		return ops_fail(err, "forbidden", "domain", "not allowed for %s", "%s は操作できません", domain);
	if (directory_domain_list(o->dir, walk_domain, &w) < 0) {
		free(w.domains);
		return ops_fail(err, "internal", NULL, "cannot read the domains", "ドメインを読めません");
	}
	for (size_t i = 0; i < w.ndomains; i++) {
		struct added a = { 0 };
		char name[512];

		for (size_t l = 0; l < 3; l++) {
			snprintf(name, sizeof(name), "%s.%s", ops_cert_default_labels[l], w.domains[i]);
			if (strlen(name) > 253)
				continue;
			cert_info_load(o, w.domains[i], name, &info);
			cb(&info, ctx);
		}
		directory_hostname_list(o->dir, w.domains[i], added_cb, &a);
		for (size_t k = 0; k < a.n; k++) {
			cert_info_load(o, w.domains[i], a.names[k], &info);
			cb(&info, ctx);
		}
		free(a.names);
	}
	free(w.domains);
	if (domain != NULL && w.ndomains == 0)
		return ops_fail(err, "not_found", "domain", "%s is not hosted here", "%s はここにありません", domain);
	return 0;
}

struct owner_find {
	const char *name;
	char domain[256];
};

static void owner_cb(const char *domain, const char *name, void *ctx)
{
	struct owner_find *f = ctx;

	if (str_eq_ci(name, f->name))
		str_copy(f->domain, sizeof(f->domain), domain);
}

/* The hosted domain name belongs to (an added name, or LABEL.DOMAIN with
 * one of the default labels) into domain_r; 0, or -1 when none. */
static int cert_name_owner(struct ops *o, const char *name, char *domain_r, size_t size)
{
	struct owner_find f = { name, "" };
	struct dir_domain d;
	const char *dot = strchr(name, '.');

	directory_hostname_list(o->dir, NULL, owner_cb, &f);
	if (f.domain[0] != '\0')
		return str_copy(domain_r, size, f.domain);
	if (dot == NULL)
		return -1;
	for (size_t l = 0; l < 3; l++) {
		size_t n = strlen(ops_cert_default_labels[l]);
		if ((size_t)(dot - name) == n && strncasecmp(name, ops_cert_default_labels[l], n) == 0 &&
		    directory_domain_get(o->dir, dot + 1, &d) == 1)
			return str_copy(domain_r, size, d.name);
	}
	return -1;
}

int ops_cert_name_check(struct ops *o, const struct ops_actor *actor, const char *name, char *domain_r,
			size_t size, struct ops_error *err)
{
	const char *error;

	if (strlen(name) > 253 || validate_domain(name, &error) < 0)
		return ops_fail(err, "invalid_name", "name", "%s is not a host name", "%s はホスト名ではありません",
				name);
	if (cert_name_owner(o, name, domain_r, size) < 0)
		return ops_fail(err, "not_found", "name", "%s is not a host name of a domain hosted here",
				"%s はここのドメインのホスト名ではありません", name);
	if (!ops_may_domain(actor, domain_r))
		return ops_fail(err, "forbidden", "name", "not allowed for %s", "%s は操作できません", name);
	return 0;
}

int ops_cert_show(struct ops *o, const struct ops_actor *actor, const char *name,
		  struct ops_cert_info *info_r, struct ops_error *err)
{
	char domain[256], lower[256];

	str_copy(lower, sizeof(lower), name);
	str_lower(lower);
	if (ops_cert_name_check(o, actor, lower, domain, sizeof(domain), err) < 0)
		return -1;
	cert_info_load(o, domain, lower, info_r);
	return 0;
}

/* Every certificate of a PEM chain, in order. */
static STACK_OF(X509) *chain_read(const char *pem)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;

	while (chain != NULL && b != NULL && sk_X509_num(chain) < 10 &&
	       (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(chain, x);
	BIO_free(b);
	ERR_clear_error();
	return chain;
}

/* Each certificate of the chain must be signed by the next one. */
static bool chain_links(STACK_OF(X509) *chain)
{
	for (int i = 0; i + 1 < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i), *issuer = sk_X509_value(chain, i + 1);
		EVP_PKEY *k = X509_get0_pubkey(issuer);

		if (X509_check_issued(issuer, c) != X509_V_OK || k == NULL || X509_verify(c, k) != 1)
			return false;
	}
	return true;
}

/* The PEM text of what b holds (malloc'd), or NULL. */
static char *bio_text(BIO *b)
{
	char *data, *res;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0 || (res = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(res, data, (size_t)n);
	res[n] = '\0';
	return res;
}

/* Checks an import and writes the normalised chain and key (PEM, nothing
 * else from the files given) into *chain_r and *key_r. */
static int import_check(const char *name, const char *cert_pem, const char *key_pem, char **chain_r,
			char **key_r, struct ops_error *err)
{
	STACK_OF(X509) *chain = chain_read(cert_pem);
	BIO *b = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *key = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	X509 *leaf = chain != NULL && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : NULL;
	BIO *out = BIO_new(BIO_s_mem()), *kout = BIO_new(BIO_s_secmem());
	time_t now = time(NULL);
	int r = -1;

	BIO_free(b);
	ERR_clear_error();
	if (leaf == NULL)
		ops_fail(err, "invalid_certificate", "certificate", "no PEM certificate found",
			 "PEM 形式の証明書がありません");
	else if (key == NULL)
		ops_fail(err, "invalid_key", "key", "no PEM private key found", "PEM 形式の秘密鍵がありません");
	else if (X509_check_private_key(leaf, key) != 1)
		ops_fail(err, "key_mismatch", "key", "the key does not belong to the certificate",
			 "秘密鍵が証明書と対になっていません");
	else if (X509_check_host(leaf, name, strlen(name), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1)
		ops_fail(err, "name_not_covered", "certificate", "the certificate does not cover %s",
			 "証明書が %s を含んでいません", name);
	else if (X509_cmp_time(X509_get0_notAfter(leaf), &now) <= 0)
		ops_fail(err, "expired", "certificate", "the certificate has expired", "証明書の期限が切れています");
	else if (X509_cmp_time(X509_get0_notBefore(leaf), &now) > 0)
		ops_fail(err, "not_yet_valid", "certificate", "the certificate is not valid yet",
			 "証明書の有効期間がまだ始まっていません");
	else if (!chain_links(chain))
		ops_fail(err, "bad_chain", "certificate",
			 "the chain is broken: each certificate must be followed by the one that signed it",
			 "証明書チェーンが正しくありません（各証明書の次にその発行者の証明書を置いてください）");
	else
		r = 0;
	for (int i = 0; r == 0 && i < sk_X509_num(chain); i++) {
		if (out == NULL || PEM_write_bio_X509(out, sk_X509_value(chain, i)) != 1)
			r = -1;
	}
	if (r == 0 && (kout == NULL || PEM_write_bio_PrivateKey(kout, key, NULL, NULL, 0, NULL, NULL) != 1 ||
		       (*chain_r = bio_text(out)) == NULL || (*key_r = bio_text(kout)) == NULL)) {
		free(*chain_r);
		*chain_r = NULL;
		r = ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
	}
	ERR_clear_error();
	BIO_free(out);
	BIO_free(kout);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

int ops_cert_import(struct ops *o, const struct ops_actor *actor, const char *name, const char *cert_pem,
		    const char *key_pem, struct ops_error *err)
{
	char domain[256], lower[256], crt[4400], keyp[4400];
	char *chain = NULL, *key = NULL;
	struct dir_cert_state st;
	struct ops_cert_info info = { 0 };
	const char *error;
	int r;

	str_copy(lower, sizeof(lower), name);
	str_lower(lower);
	if (ops_cert_name_check(o, actor, lower, domain, sizeof(domain), err) < 0)
		return -1;
	if (strlen(cert_pem) > OPS_CERT_PEM_MAX || strlen(key_pem) > OPS_CERT_PEM_MAX)
		return ops_fail(err, "too_large", "certificate", "the certificate or key is larger than 64 KiB",
				"証明書か秘密鍵が 64 KiB を超えています");
	if (import_check(lower, cert_pem, key_pem, &chain, &key, err) < 0)
		return -1;
	snprintf(crt, sizeof(crt), "%s/tls/%s.crt", o->data, lower);
	snprintf(keyp, sizeof(keyp), "%s/tls/%s.key", o->data, lower);
	r = fs_write_file_atomic(keyp, key, strlen(key), 0600) < 0 ||
	    fs_write_file_atomic(crt, chain, strlen(chain), 0600) < 0 ? -1 : 0;
	if (r < 0)
		ops_fail(err, "internal", NULL, "cannot write %s: %s", "%s に書き込めません: %s", crt, strerror(errno));
	else
		ops_cert_read(chain, strlen(chain), lower, &info);
	explicit_bzero(key, strlen(key));
	free(key);
	free(chain);
	if (r < 0)
		return -1;
	directory_cert_state_get(o->dir, lower, &st);
	str_copy(st.source, sizeof(st.source), "imported");
	st.failures = 0;
	st.next_try = 0;
	st.last_error[0] = '\0';
	directory_cert_state_set(o->dir, &st, &error);
	ops_event(o, actor, "cert-imported", domain, "%s until %lld", lower, (long long)info.not_after);
	ops_audit(o, actor, "cert.import", lower, "imported, valid until %lld", (long long)info.not_after);
	if (o->conf_reload != NULL)
		o->conf_reload(o);
	return 0;
}

int ops_hostname_add(struct ops *o, const struct ops_actor *actor, const char *domain, const char *name,
		     struct ops_error *err)
{
	char lower[256], dom[256], owner[256];
	struct dir_domain d;
	const char *error;
	size_t n, dn;

	str_copy(lower, sizeof(lower), name);
	str_lower(lower);
	str_copy(dom, sizeof(dom), domain);
	str_lower(dom);
	if (directory_domain_get(o->dir, dom, &d) != 1)
		return ops_fail(err, "not_found", "domain", "%s is not hosted here", "%s はここにありません", dom);
	if (!ops_may_domain(actor, dom))
		return ops_fail(err, "forbidden", "domain", "not allowed for %s", "%s は操作できません", dom);
	n = strlen(lower);
	dn = strlen(dom);
	if (n > 253 || validate_domain(lower, &error) < 0 || n <= dn + 1 || lower[n - dn - 1] != '.' ||
	    strcmp(lower + n - dn, dom) != 0)
		return ops_fail(err, "invalid_name", "name", "%s is not a host name under %s",
				"%s は %s の下のホスト名ではありません", lower, dom);
	if (cert_name_owner(o, lower, owner, sizeof(owner)) == 0)
		return ops_fail(err, "exists", "name", "%s is already a host name of %s",
				"%s はすでに %s のホスト名です", lower, owner);
	if (directory_hostname_add(o->dir, dom, lower, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot add %s: %s", "%s を追加できません: %s", lower, error);
	ops_audit(o, actor, "cert.name_add", lower, "host name of %s", dom);
	return 0;
}

void ops_cert_forget(struct ops *o, const char *name)
{
	char path[4400], lower[256];

	str_copy(lower, sizeof(lower), name);
	str_lower(lower);
	if (lower[0] == '\0' || strchr(lower, '/') != NULL || lower[0] == '.')
		return;
	snprintf(path, sizeof(path), "%s/tls/%s.crt", o->data, lower);
	unlink(path);
	snprintf(path, sizeof(path), "%s/tls/%s.key", o->data, lower);
	unlink(path);
	directory_cert_state_del(o->dir, lower);
}

int ops_hostname_del(struct ops *o, const struct ops_actor *actor, const char *name, struct ops_error *err)
{
	char lower[256], owner[256];
	struct owner_find f;
	const char *error;

	str_copy(lower, sizeof(lower), name);
	str_lower(lower);
	f.name = lower;
	f.domain[0] = '\0';
	directory_hostname_list(o->dir, NULL, owner_cb, &f);
	if (f.domain[0] == '\0')
		return ops_fail(err, "not_found", "name", "%s is not an added host name",
				"%s は追加されたホスト名ではありません", lower);
	str_copy(owner, sizeof(owner), f.domain);
	if (!ops_may_domain(actor, owner))
		return ops_fail(err, "forbidden", "name", "not allowed for %s", "%s は操作できません", lower);
	if (directory_hostname_del(o->dir, lower, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot remove %s: %s", "%s を削除できません: %s", lower, error);
	ops_cert_forget(o, lower);
	if (o->conf_reload != NULL)
		o->conf_reload(o);
	ops_audit(o, actor, "cert.name_del", lower, "host name of %s removed", owner);
	return 0;
}
