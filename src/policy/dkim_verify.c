/* DKIM verification: see dkim_verify.h. The parsing and canonicalization
 * are mail/dkim.c; this file adds the key lookup and the cryptography. */
#include "policy/dkim_verify.h"
#include "mail/dkim.h"
#include "lib/dns.h"
#include "lib/dns_async.h"
#include "lib/str.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#define HEADER_FIELDS_MAX 2000

const char *dkim_res_name(enum dkim_res r)
{
	switch (r) {
	case DKIM_NONE: return "none";
	case DKIM_PASS: return "pass";
	case DKIM_FAIL: return "fail";
	case DKIM_NEUTRAL: return "neutral";
	case DKIM_POLICY: return "policy";
	case DKIM_TEMPERROR: return "temperror";
	case DKIM_PERMERROR: return "permerror";
	}
	return "permerror";
}

static void verdict(struct dkim_verdict *v, enum dkim_res r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void verdict(struct dkim_verdict *v, enum dkim_res r, const char *fmt, ...)
{
	va_list ap;

	v->result = r;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/* The DNS name of sig's key, SELECTOR._domainkey.DOMAIN: false when it is
 * longer than a DNS name may be. */
static bool key_name(const struct dkim_sig *sig, char *buf, size_t size)
{
	snprintf(buf, size, "%s._domainkey.%s", sig->selector, sig->domain);
	return strlen(buf) <= 253;
}

/* Looks the key of sig up. 0 with key filled, else the verdict is set. */
static int key_fetch(dkim_txt_lookup_fn *lookup, void *ctx, const struct dkim_sig *sig,
		     struct dkim_key *key, struct dkim_verdict *v)
{
	char name[DNS_NAME_MAX * 2], **txt = NULL;
	size_t n = 0;
	const char *error = "", *perror = NULL;
	int r;

	if (!key_name(sig, name, sizeof(name))) {
		verdict(v, DKIM_PERMERROR, "key name too long");
		return -1;
	}
	r = lookup(ctx, name, &txt, &n, &error);
	if (r == DNS_TEMPFAIL) {
		verdict(v, DKIM_TEMPERROR, "key lookup failed: %s", error != NULL ? error : "DNS error");
		return -1;
	}
	if (r != DNS_OK || n == 0) {
		dns_txt_free(txt, n);
		verdict(v, DKIM_PERMERROR, "no key for signature");
		return -1;
	}
	/* several records: the first that is a DKIM key (RFC 6376 §3.6.2.2
	 * leaves the choice open) */
	for (size_t i = 0; i < n; i++) {
		const char *e;
		if (dkim_key_parse(txt[i], strlen(txt[i]), key, &e) == 0) {
			dns_txt_free(txt, n);
			return 0;
		}
		if (perror == NULL)
			perror = e;
	}
	dns_txt_free(txt, n);
	verdict(v, DKIM_PERMERROR, "key syntax error: %s", perror != NULL ? perror : "empty");
	return -1;
}

/* Decoding a DER public key (OpenSSL's decoders) costs more than the
 * verification itself, and mail comes signed with a few keys over and
 * over: the RSA keys last decoded and accepted are kept here, keyed by
 * their exact DER bytes, and shared read-only (reference counted) by every
 * thread. */
#define KEY_CACHE_SIZE 32
#define KEY_CACHE_DER_MAX 1200	/* an 8192-bit RSA key's SubjectPublicKeyInfo */

static struct {
	unsigned char der[KEY_CACHE_DER_MAX];
	size_t len;
	EVP_PKEY *pk;
} key_cache[KEY_CACHE_SIZE];
static unsigned key_cache_next;
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The cached key for der (a new reference), or NULL. */
static EVP_PKEY *key_cache_get(const unsigned char *der, size_t len)
{
	EVP_PKEY *pk = NULL;

	pthread_mutex_lock(&key_cache_lock);
	for (unsigned i = 0; i < KEY_CACHE_SIZE && pk == NULL; i++) {
		if (key_cache[i].pk != NULL && key_cache[i].len == len &&
		    memcmp(key_cache[i].der, der, len) == 0 && EVP_PKEY_up_ref(key_cache[i].pk) == 1)
			pk = key_cache[i].pk;
	}
	pthread_mutex_unlock(&key_cache_lock);
	return pk;
}

static void key_cache_put(const unsigned char *der, size_t len, EVP_PKEY *pk)
{
	unsigned i;

	if (len > KEY_CACHE_DER_MAX || EVP_PKEY_up_ref(pk) != 1)
		return;
	pthread_mutex_lock(&key_cache_lock);
	i = key_cache_next++ % KEY_CACHE_SIZE;
	EVP_PKEY_free(key_cache[i].pk);
	memcpy(key_cache[i].der, der, len);
	key_cache[i].len = len;
	key_cache[i].pk = pk;
	pthread_mutex_unlock(&key_cache_lock);
}

/* Checks the key against the signature and makes the OpenSSL key. */
static EVP_PKEY *key_use(const struct dkim_sig *sig, const struct dkim_key *key, struct dkim_verdict *v)
{
	EVP_PKEY *pk = NULL;

	if (key->p_len == 0) {
		verdict(v, DKIM_PERMERROR, "key revoked");
		return NULL;
	}
	if ((sig->algo == DKIM_RSA_SHA256) != (key->type == DKIM_KEY_RSA)) {
		verdict(v, DKIM_PERMERROR, "key type does not match a=");
		return NULL;
	}
	if (!key->sha256_ok) {
		verdict(v, DKIM_PERMERROR, "key does not allow sha256 (h=)");
		return NULL;
	}
	if (!key->email_ok) {
		verdict(v, DKIM_PERMERROR, "key is not for email (s=)");
		return NULL;
	}
	if (key->strict) {
		const char *at = strrchr(sig->auid, '@');
		if (at == NULL || strcasecmp(at + 1, sig->domain) != 0) {
			verdict(v, DKIM_PERMERROR, "key requires i= in exactly d= (t=s)");
			return NULL;
		}
	}
	if (key->type == DKIM_KEY_ED25519) {
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key->p, key->p_len);
	} else if ((pk = key_cache_get(key->p, key->p_len)) != NULL) {
		return pk;	/* accepted when it was decoded */
	} else {
		const unsigned char *p = key->p;
		pk = d2i_PUBKEY(NULL, &p, (long)key->p_len);
		if (pk != NULL && EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
			EVP_PKEY_free(pk);
			verdict(v, DKIM_PERMERROR, "key is not an RSA key");
			return NULL;
		}
		if (pk != NULL && EVP_PKEY_get_bits(pk) < 1024) {
			EVP_PKEY_free(pk);
			verdict(v, DKIM_PERMERROR, "RSA key shorter than 1024 bits");
			return NULL;
		}
		if (pk != NULL)
			key_cache_put(key->p, key->p_len, pk);
	}
	if (pk == NULL)
		verdict(v, DKIM_PERMERROR, "key syntax error: unusable public key");
	return pk;
}

static void hash_update(void *ctx, const void *data, size_t len)
{
	EVP_DigestUpdate(ctx, data, len);
}

/* Body hash check; 0 when it matches, else the verdict is set. */
static int body_check(const struct dkim_sig *sig, const char *body, size_t len, struct dkim_verdict *v)
{
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	struct dkim_body b;
	unsigned char h[SHA256_DIGEST_LENGTH];
	int ok;

	if (sha == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(sha);
		verdict(v, DKIM_TEMPERROR, "out of memory");
		return -1;
	}
	dkim_body_init(&b, sig->bcanon, sig->has_l ? sig->l : UINT64_MAX, hash_update, sha);
	dkim_body_feed(&b, body, len);
	dkim_body_finish(&b);
	ok = EVP_DigestFinal_ex(sha, h, NULL) == 1;
	EVP_MD_CTX_free(sha);
	if (sig->has_l && sig->l > b.count) {
		verdict(v, DKIM_FAIL, "l= is longer than the body");
		return -1;
	}
	if (!ok || sig->bh_len != sizeof(h) || memcmp(h, sig->bh, sizeof(h)) != 0) {
		verdict(v, DKIM_FAIL, "body hash did not verify");
		return -1;
	}
	if (sig->has_l && sig->l < b.count)
		snprintf(v->reason, sizeof(v->reason), "only %" PRIu64 " of %" PRIu64 " body bytes signed (l=)",
			 sig->l, b.count);
	return 0;
}

static bool signature_ok(EVP_PKEY *pk, const struct dkim_sig *sig, const struct strbuf *data)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok;

	if (ctx == NULL)
		return false;
	if (sig->algo == DKIM_ED25519_SHA256) {
		unsigned char h[SHA256_DIGEST_LENGTH];
		SHA256((const unsigned char *)data->data, data->len, h);
		ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		     EVP_DigestVerify(ctx, sig->b, sig->b_len, h, sizeof(h)) == 1;
	} else {
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
		     EVP_DigestVerify(ctx, sig->b, sig->b_len, (const unsigned char *)data->data, data->len) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* One signature: field h[idx]. */
static void verify_one(dkim_txt_lookup_fn *lookup, void *ctx, const struct dkim_hdr *h,
		       size_t nh, size_t idx, const char *body, size_t body_len, int64_t now,
		       struct dkim_verdict *v)
{
	struct dkim_sig *sig = malloc(sizeof(*sig));
	struct dkim_key *key = malloc(sizeof(*key));
	const char *field = h[idx].p, *colon, *error = "";
	struct strbuf data = STRBUF_INIT;
	EVP_PKEY *pk = NULL;
	bool testing = false;

	memset(v, 0, sizeof(*v));
	if (sig == NULL || key == NULL) {
		verdict(v, DKIM_TEMPERROR, "out of memory");
		goto out;
	}
	colon = memchr(field, ':', h[idx].len);
	if (dkim_sig_parse(colon + 1, h[idx].len - (size_t)(colon + 1 - field), sig, &error) < 0) {
		str_copy(v->domain, sizeof(v->domain), sig->domain);
		str_copy(v->selector, sizeof(v->selector), sig->selector);
		str_copy(v->algo, sizeof(v->algo), sig->algo_name);
		str_copy(v->header_b, sizeof(v->header_b), sig->header_b);
		verdict(v, DKIM_PERMERROR, "%s", error);
		goto out;
	}
	str_copy(v->domain, sizeof(v->domain), sig->domain);
	str_copy(v->selector, sizeof(v->selector), sig->selector);
	str_copy(v->algo, sizeof(v->algo), sig->algo == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256");
	str_copy(v->header_b, sizeof(v->header_b), sig->header_b);
	if (sig->has_x && sig->x < now) {
		verdict(v, DKIM_PERMERROR, "signature expired");
		goto out;
	}
	if (key_fetch(lookup, ctx, sig, key, v) < 0)
		goto out;
	testing = key->testing;
	pk = key_use(sig, key, v);
	if (pk == NULL)
		goto out;
	if (body_check(sig, body, body_len, v) < 0)
		goto out;
	dkim_headers_select(h, nh, (const char (*)[DKIM_HNAME_MAX])sig->hnames, sig->n_hnames, sig->hcanon, &data);
	if (dkim_sig_hash_field(sig->hcanon, field, h[idx].len, &data) < 0) {
		verdict(v, DKIM_PERMERROR, "missing b= tag");
		goto out;
	}
	if (!signature_ok(pk, sig, &data)) {
		verdict(v, DKIM_FAIL, "signature did not verify");
		goto out;
	}
	v->result = DKIM_PASS;	/* reason: "" or the l= note */
out:
	if (testing) {
		size_t l = strlen(v->reason);
		snprintf(v->reason + l, sizeof(v->reason) - l, "%s(key in testing mode)", l > 0 ? " " : "");
	}
	EVP_PKEY_free(pk);
	strbuf_free(&data);
	free(sig);
	free(key);
}

size_t dkim_verify_with(dkim_txt_lookup_fn *lookup, void *ctx, const char *msg, size_t len,
			struct dkim_verdict *v, size_t max, int64_t now)
{
	struct dkim_hdr *h;
	size_t body_off, done = 0;
	int n;

	if (max > DKIM_VERIFY_MAX)
		max = DKIM_VERIFY_MAX;
	if (max == 0)
		return 0;
	h = calloc(HEADER_FIELDS_MAX, sizeof(*h));
	if (h == NULL)
		return 0;
	n = dkim_headers_split(msg, len, h, HEADER_FIELDS_MAX, &body_off);
	if (n < 0) {
		/* a header this long is an attack; say so if it is signed */
		if (memmem(msg, len, "DKIM-Signature", 14) != NULL ||
		    memmem(msg, len, "dkim-signature", 14) != NULL) {
			memset(&v[0], 0, sizeof(v[0]));
			verdict(&v[0], DKIM_PERMERROR, "too many header fields");
			done = 1;
		}
		free(h);
		return done;
	}
	for (size_t i = 0; i < (size_t)n && done < max; i++) {
		if (dkim_hdr_is(&h[i], "dkim-signature")) {
			verify_one(lookup, ctx, h, (size_t)n, i, msg + body_off, len - body_off, now, &v[done]);
			done++;
		}
	}
	free(h);
	return done;
}

static int txt_lookup(void *ctx, const char *name, char ***txt_r, size_t *n_r, const char **error_r)
{
	return dns_txt_lookup(ctx, name, txt_r, n_r, error_r);
}

size_t dkim_verify(const char *resolver, const char *msg, size_t len, struct dkim_verdict *v, size_t max)
{
	return dkim_verify_with(txt_lookup, (void *)(resolver != NULL ? resolver : ""), msg, len, v, max,
				(int64_t)time(NULL));
}

static int batch_lookup(void *ctx, const char *name, char ***txt_r, size_t *n_r, const char **error_r)
{
	return dns_batch_txt(ctx, name, txt_r, n_r, error_r);
}

size_t dkim_verify_batch(struct dns_batch *batch, const char *msg, size_t len, struct dkim_verdict *v, size_t max)
{
	return dkim_verify_with(batch_lookup, batch, msg, len, v, max, (int64_t)time(NULL));
}

void dkim_prefetch_batch(struct dns_batch *batch, const char *msg, size_t len)
{
	struct dkim_hdr *h = calloc(HEADER_FIELDS_MAX, sizeof(*h));
	struct dkim_sig *sig = malloc(sizeof(*sig));
	size_t body_off, asked = 0;
	int n = h != NULL && sig != NULL ? dkim_headers_split(msg, len, h, HEADER_FIELDS_MAX, &body_off) : -1;

	for (size_t i = 0; n > 0 && i < (size_t)n && asked < DKIM_VERIFY_MAX; i++) {
		const char *colon, *error = "";
		char name[DNS_NAME_MAX * 2], **txt = NULL;
		size_t ntxt = 0;

		if (!dkim_hdr_is(&h[i], "dkim-signature"))
			continue;
		asked++;
		colon = memchr(h[i].p, ':', h[i].len);
		if (dkim_sig_parse(colon + 1, h[i].len - (size_t)(colon + 1 - h[i].p), sig, &error) < 0 ||
		    !key_name(sig, name, sizeof(name)))
			continue;	/* the verification says why */
		if (dns_batch_txt(batch, name, &txt, &ntxt, &error) == DNS_OK)
			dns_txt_free(txt, ntxt);
	}
	free(sig);
	free(h);
}
