/* The ACME client's pure parts (see acme_msg.h): everything that turns
 * keys, tokens and names into the bytes RFC 8555 and RFC 8737 want, and
 * the server's JSON back into structs. */
#include "policy/acme_msg.h"
#include "lib/json.h"
#include "lib/json_parse.h"
#include "lib/str.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t acme_b64url(const void *data, size_t len, char *out, size_t outsize)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	size_t o = 0;

	if (outsize < (len + 2) / 3 * 4 + 1) {
		if (outsize > 0)
			out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		if (left > 1)
			out[o++] = tab[(v >> 6) & 63];
		if (left > 2)
			out[o++] = tab[v & 63];
	}
	out[o] = '\0';
	return o;
}

bool acme_is_b64url(const char *s, size_t max)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

	return n > 0 && n <= max && s[n] == '\0';
}

EVP_PKEY *acme_key_new(void)
{
	return EVP_EC_gen("P-256");
}

static int ec_coordinate(EVP_PKEY *key, const char *param, char *out, size_t outsize)
{
	BIGNUM *bn = NULL;
	unsigned char bin[32];
	int ok;

	if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
		return -1;
	ok = BN_bn2binpad(bn, bin, sizeof(bin)) == (int)sizeof(bin);
	BN_free(bn);
	return ok && acme_b64url(bin, sizeof(bin), out, outsize) > 0 ? 0 : -1;
}

int acme_jwk(EVP_PKEY *key, char *out, size_t outsize)
{
	char x[64], y[64];
	char curve[32] = "";

	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), NULL) != 1 ||
	    strcmp(curve, "prime256v1") != 0 ||
	    ec_coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X, x, sizeof(x)) < 0 ||
	    ec_coordinate(key, OSSL_PKEY_PARAM_EC_PUB_Y, y, sizeof(y)) < 0)
		return -1;
	if ((size_t)snprintf(out, outsize, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y) >= outsize)
		return -1;
	return 0;
}

int acme_thumbprint(EVP_PKEY *key, char *out, size_t outsize)
{
	char jwk[256];
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (acme_jwk(key, jwk, sizeof(jwk)) < 0)
		return -1;
	SHA256((const unsigned char *)jwk, strlen(jwk), md);
	return acme_b64url(md, sizeof(md), out, outsize) > 0 ? 0 : -1;
}

int acme_key_authorization(const char *token, const char *thumbprint, char *out, size_t outsize)
{
	if (!acme_is_b64url(token, 255) ||
	    (size_t)snprintf(out, outsize, "%s.%s", token, thumbprint) >= outsize)
		return -1;
	return 0;
}

int acme_ecdsa_raw(const unsigned char *der, size_t der_len, unsigned char raw[64])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r, *s;
	int ok;

	if (sig == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return ok && p == der + der_len ? 0 : -1;
}

/* ES256 over "PROTECTED.PAYLOAD", base64url into out. */
static int es256_sign(EVP_PKEY *key, const char *input, char *out, size_t outsize)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[128], raw[64];
	size_t der_len = sizeof(der);
	int ok;

	if (md == NULL)
		return -1;
	ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestSign(md, der, &der_len, (const unsigned char *)input, strlen(input)) == 1 &&
	     acme_ecdsa_raw(der, der_len, raw) == 0 && acme_b64url(raw, sizeof(raw), out, outsize) > 0;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/* The protected header's JSON text (malloc'd). */
static char *jws_header(EVP_PKEY *key, const char *kid, const char *nonce, const char *url)
{
	struct json h;
	const char *text;
	char x[64], y[64], *res = NULL;
	size_t len;

	json_init(&h);
	json_object_begin(&h);
	json_kv_string(&h, "alg", "ES256");
	if (kid != NULL) {
		json_kv_string(&h, "kid", kid);
	} else {
		if (ec_coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X, x, sizeof(x)) < 0 ||
		    ec_coordinate(key, OSSL_PKEY_PARAM_EC_PUB_Y, y, sizeof(y)) < 0)
			goto out;
		json_key(&h, "jwk");
		json_object_begin(&h);
		json_kv_string(&h, "crv", "P-256");
		json_kv_string(&h, "kty", "EC");
		json_kv_string(&h, "x", x);
		json_kv_string(&h, "y", y);
		json_object_end(&h);
	}
	json_kv_string(&h, "nonce", nonce);
	json_kv_string(&h, "url", url);
	json_object_end(&h);
	text = json_result(&h, &len);
	if (text != NULL)
		res = strdup(text);
out:
	json_free(&h);
	return res;
}

static char *b64url_dup(const char *s)
{
	size_t n = strlen(s), cap = n / 3 * 4 + 8;
	char *out = malloc(cap);

	if (out != NULL)
		acme_b64url(s, n, out, cap);
	return out;
}

char *acme_jws(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
	       const char *payload)
{
	char sig[128], *hdr = jws_header(key, kid, nonce, url);
	char *prot64 = hdr != NULL ? b64url_dup(hdr) : NULL;
	char *pay64 = b64url_dup(payload != NULL ? payload : "");
	char *input = NULL, *res = NULL;
	struct json body;
	const char *text;
	size_t len;

	json_init(&body);
	if (prot64 == NULL || pay64 == NULL)
		goto out;
	input = malloc(strlen(prot64) + strlen(pay64) + 2);
	if (input == NULL)
		goto out;
	sprintf(input, "%s.%s", prot64, pay64);
	if (es256_sign(key, input, sig, sizeof(sig)) < 0)
		goto out;
	json_object_begin(&body);
	json_kv_string(&body, "protected", prot64);
	json_kv_string(&body, "payload", pay64);
	json_kv_string(&body, "signature", sig);
	json_object_end(&body);
	text = json_result(&body, &len);
	if (text != NULL)
		res = strdup(text);
out:
	free(hdr);
	free(prot64);
	free(pay64);
	free(input);
	json_free(&body);
	return res;
}

static char *json_dup(struct json *j)
{
	size_t len;
	const char *text = json_result(j, &len);
	char *res = text != NULL ? strdup(text) : NULL;

	json_free(j);
	return res;
}

char *acme_account_payload(const char *contact)
{
	struct json j;
	char mailto[400];

	json_init(&j);
	json_object_begin(&j);
	json_kv_bool(&j, "termsOfServiceAgreed", true);
	if (contact != NULL && contact[0] != '\0') {
		if ((size_t)snprintf(mailto, sizeof(mailto), "mailto:%s", contact) >= sizeof(mailto)) {
			json_free(&j);
			return NULL;
		}
		json_key(&j, "contact");
		json_array_begin(&j);
		json_string(&j, mailto);
		json_array_end(&j);
	}
	json_object_end(&j);
	return json_dup(&j);
}

char *acme_order_payload(const char *const *names, size_t n)
{
	struct json j;

	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "identifiers");
	json_array_begin(&j);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(&j);
		json_kv_string(&j, "type", "dns");
		json_kv_string(&j, "value", names[i]);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	return json_dup(&j);
}

char *acme_finalize_payload(const char *csr)
{
	struct json j;

	json_init(&j);
	json_object_begin(&j);
	json_kv_string(&j, "csr", csr);
	json_object_end(&j);
	return json_dup(&j);
}

/* subjectAltName dNSName entries for names into req or cert extensions. */
static X509_EXTENSION *san_extension(const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	X509_EXTENSION *ext = NULL;

	if (gens == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (g == NULL || s == NULL || ASN1_STRING_set(s, names[i], (int)strlen(names[i])) != 1) {
			GENERAL_NAME_free(g);
			ASN1_IA5STRING_free(s);
			goto out;
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		sk_GENERAL_NAME_push(gens, g);
	}
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
out:
	GENERAL_NAMES_free(gens);
	return ext;
}

int acme_csr(EVP_PKEY *key, const char *const *names, size_t n, char *out, size_t outsize)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *san = n > 0 ? san_extension(names, n) : NULL;
	unsigned char *der = NULL;
	int der_len, ret = -1;

	if (req == NULL || exts == NULL || san == NULL)
		goto out;
	X509_REQ_set_version(req, 0);
	if (strlen(names[0]) <= 64)
		X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
					   (const unsigned char *)names[0], -1, -1, 0);
	sk_X509_EXTENSION_push(exts, san);
	san = NULL;
	if (X509_REQ_add_extensions(req, exts) != 1 || X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto out;
	der_len = i2d_X509_REQ(req, &der);
	if (der_len > 0 && acme_b64url(der, (size_t)der_len, out, outsize) > 0)
		ret = 0;
out:
	OPENSSL_free(der);
	X509_EXTENSION_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	ERR_clear_error();
	return ret;
}

/* id-pe-acmeIdentifier (RFC 8737 §6.1): critical, an OCTET STRING holding
 * the DER of an OCTET STRING of the digest. */
static X509_EXTENSION *acme_identifier_ext(const char *key_authorization)
{
	unsigned char inner[2 + SHA256_DIGEST_LENGTH];
	ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;

	inner[0] = 0x04;
	inner[1] = SHA256_DIGEST_LENGTH;
	SHA256((const unsigned char *)key_authorization, strlen(key_authorization), inner + 2);
	if (obj != NULL && val != NULL && ASN1_OCTET_STRING_set(val, inner, sizeof(inner)) == 1)
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, val);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(val);
	return ext;
}

static char *pem_pair(X509 *x, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *data, *res = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (PEM_write_bio_X509(b, x) == 1 && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1) {
		n = BIO_get_mem_data(b, &data);
		res = malloc((size_t)n + 1);
		if (res != NULL) {
			memcpy(res, data, (size_t)n);
			res[n] = '\0';
		}
	}
	BIO_free(b);
	return res;
}

char *acme_alpn_cert(const char *name, const char *key_authorization)
{
	EVP_PKEY *key = acme_key_new();
	X509 *x = X509_new();
	X509_EXTENSION *san = san_extension(&name, 1), *id = acme_identifier_ext(key_authorization);
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char *res = NULL;

	if (key == NULL || x == NULL || san == NULL || id == NULL)
		goto out;
	X509_set_version(x, 2);
	str_random_id((char *)serial, sizeof(serial));
	bn = BN_bin2bn(serial, sizeof(serial) - 1, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 7 * 24 * 3600);
	X509_set_pubkey(x, key);
	if (strlen(name) <= 64)
		X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					   (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (X509_add_ext(x, san, -1) != 1 || X509_add_ext(x, id, -1) != 1 ||
	    X509_sign(x, key, EVP_sha256()) == 0)
		goto out;
	res = pem_pair(x, key);
out:
	BN_free(bn);
	X509_EXTENSION_free(san);
	X509_EXTENSION_free(id);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return res;
}

static const struct json_limits acme_json_limits = { 256 * 1024, 8, 4096 };

static struct json_doc *parse_object(const char *text, size_t len, const char **error_r)
{
	size_t off;
	struct json_doc *doc = json_parse(text, len, &acme_json_limits, error_r, &off);

	if (doc != NULL && json_doc_root(doc)->type != JSON_OBJECT) {
		json_doc_free(doc);
		*error_r = "not a JSON object";
		return NULL;
	}
	return doc;
}

/* Copies the string member name of obj into out; -1 when missing or too
 * long (a required member). */
static int member_copy(const struct json_value *obj, const char *name, char *out, size_t outsize)
{
	const char *s = json_value_str(json_member(obj, name));

	out[0] = '\0';
	if (s == NULL)
		return -1;
	return str_copy(out, outsize, s);
}

int acme_parse_directory(const char *text, size_t len, struct acme_directory *d, const char **error_r)
{
	struct json_doc *doc = parse_object(text, len, error_r);
	const struct json_value *root;
	int ret = 0;

	memset(d, 0, sizeof(*d));
	if (doc == NULL)
		return -1;
	root = json_doc_root(doc);
	if (member_copy(root, "newNonce", d->new_nonce, sizeof(d->new_nonce)) < 0 ||
	    member_copy(root, "newAccount", d->new_account, sizeof(d->new_account)) < 0 ||
	    member_copy(root, "newOrder", d->new_order, sizeof(d->new_order)) < 0) {
		*error_r = "the directory lacks newNonce, newAccount or newOrder";
		ret = -1;
	}
	json_doc_free(doc);
	return ret;
}

int acme_parse_order(const char *text, size_t len, struct acme_order *o, const char **error_r)
{
	struct json_doc *doc = parse_object(text, len, error_r);
	const struct json_value *root, *az;
	int ret = -1;

	memset(o, 0, sizeof(*o));
	if (doc == NULL)
		return -1;
	root = json_doc_root(doc);
	az = json_member(root, "authorizations");
	if (member_copy(root, "status", o->status, sizeof(o->status)) < 0 ||
	    member_copy(root, "finalize", o->finalize, sizeof(o->finalize)) < 0 ||
	    az == NULL || az->type != JSON_ARRAY) {
		*error_r = "the order lacks status, finalize or authorizations";
		goto out;
	}
	for (const struct json_value *v = az->child; v != NULL; v = v->next) {
		const char *s = json_value_str(v);
		if (s == NULL || o->nauthz == ACME_MAX_AUTHZ ||
		    str_copy(o->authz[o->nauthz++], ACME_URL_MAX, s) < 0) {
			*error_r = "bad authorizations in the order";
			goto out;
		}
	}
	member_copy(root, "certificate", o->certificate, sizeof(o->certificate));
	ret = 0;
out:
	json_doc_free(doc);
	return ret;
}

/* "type: detail" of a problem object (RFC 7807) into out, "" if none. */
static void problem_text(const struct json_value *p, char *out, size_t outsize)
{
	const char *type = p != NULL ? json_value_str(json_member(p, "type")) : NULL;
	const char *detail = p != NULL ? json_value_str(json_member(p, "detail")) : NULL;

	out[0] = '\0';
	if (type == NULL)
		return;
	if (strncmp(type, "urn:ietf:params:acme:error:", 27) == 0)
		type += 27;
	snprintf(out, outsize, "%s%s%s", type, detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

int acme_parse_authz(const char *text, size_t len, struct acme_authz *a, const char **error_r)
{
	struct json_doc *doc = parse_object(text, len, error_r);
	const struct json_value *root, *chs;
	int ret = -1;

	memset(a, 0, sizeof(*a));
	if (doc == NULL)
		return -1;
	root = json_doc_root(doc);
	chs = json_member(root, "challenges");
	if (member_copy(root, "status", a->status, sizeof(a->status)) < 0 ||
	    json_member(root, "identifier") == NULL ||
	    member_copy(json_member(root, "identifier"), "value", a->identifier, sizeof(a->identifier)) < 0 ||
	    chs == NULL || chs->type != JSON_ARRAY) {
		*error_r = "the authorization lacks status, identifier or challenges";
		goto out;
	}
	for (const struct json_value *v = chs->child; v != NULL && a->nch < ACME_MAX_CHALLENGES; v = v->next) {
		struct acme_challenge *c = &a->ch[a->nch];
		if (v->type != JSON_OBJECT || member_copy(v, "type", c->type, sizeof(c->type)) < 0 ||
		    member_copy(v, "url", c->url, sizeof(c->url)) < 0)
			continue;	/* a type we do not know may look different */
		member_copy(v, "status", c->status, sizeof(c->status));
		member_copy(v, "token", c->token, sizeof(c->token));
		problem_text(json_member(v, "error"), c->error, sizeof(c->error));
		a->nch++;
	}
	ret = 0;
out:
	json_doc_free(doc);
	return ret;
}

int acme_parse_problem(const char *text, size_t len, char *out, size_t outsize)
{
	const char *error;
	struct json_doc *doc = text != NULL ? parse_object(text, len, &error) : NULL;

	if (doc == NULL)
		return -1;
	problem_text(json_doc_root(doc), out, outsize);
	json_doc_free(doc);
	return out[0] != '\0' ? 0 : -1;
}

const struct acme_challenge *acme_authz_challenge(const struct acme_authz *a, const char *type)
{
	for (size_t i = 0; i < a->nch; i++) {
		if (strcmp(a->ch[i].type, type) == 0 && acme_is_b64url(a->ch[i].token, 255))
			return &a->ch[i];
	}
	return NULL;
}

time_t acme_renew_time(time_t not_before, time_t not_after, uint32_t jitter)
{
	const time_t day = 86400;
	time_t life = not_after > not_before ? not_after - not_before : 0;
	time_t before = life >= 90 * day ? 30 * day : life / 3;
	time_t spread = life >= 60 * day ? day : life / 60;

	return not_after - before - (spread > 0 ? (time_t)(jitter % (uint32_t)spread) : 0);
}

unsigned acme_backoff(unsigned failures)
{
	unsigned s = 600;

	for (unsigned i = 1; i < failures && s < 86400; i++)
		s *= 2;
	return s < 86400 ? s : 86400;
}
