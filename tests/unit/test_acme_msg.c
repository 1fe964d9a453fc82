/* Unit tests for src/policy/acme_msg.c: base64url, the JWK and its
 * thumbprint (RFC 7638) against values computed independently, JWS
 * (ES256) bodies verified back, key authorizations, CSRs, the
 * tls-alpn-01 certificate (RFC 8737), the server's JSON objects, renewal
 * timing and back-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "policy/acme_msg.h"
#include "lib/json_parse.h"

static const char key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSFowfTleDbPha+dz\n"
	"9vkTTUfOLahZhFkGQhw8qPI7yP+hRANCAARISnL5UcPjj/rZ7aKoOeVt+N1I1wQf\n"
	"8KT06D3ZfbqfvUvK+PbhK5S0T5qwnfS6P6KNEoPi6kzWLEftJxtCAVLp\n"
	"-----END PRIVATE KEY-----\n";

static EVP_PKEY *test_key(void)
{
	BIO *b = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(k);
	return k;
}

/* base64url decoding for the checks (the module only encodes). */
static size_t b64url_decode(const char *in, unsigned char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in != '\0'; in++) {
		const char *p = strchr(tab, *in);
		assert_non_null(p);
		acc = acc << 6 | (uint32_t)(p - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static void test_b64url_vectors(void **state)
{
	/* RFC 4648 §10 without padding, and the two URL-safe characters */
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" }, { "\xfb\xff", "-_8" },
	};
	char out[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(acme_b64url(v[i].in, strlen(v[i].in), out, sizeof(out)), strlen(v[i].out));
		assert_string_equal(out, v[i].out);
	}
	/* too small an output: nothing written */
	assert_int_equal(acme_b64url("foobar", 6, out, 8), 0);
	assert_string_equal(out, "");
	assert_true(acme_is_b64url("abc-_XYZ09", 255));
	assert_false(acme_is_b64url("", 255));
	assert_false(acme_is_b64url("ab/c", 255));
	assert_false(acme_is_b64url("ab=", 255));
	assert_false(acme_is_b64url("../x", 255));
	assert_false(acme_is_b64url("abcd", 3));
}

static void test_jwk_and_thumbprint(void **state)
{
	EVP_PKEY *k = test_key();
	char jwk[256], tp[64];

	assert_int_equal(acme_jwk(k, jwk, sizeof(jwk)), 0);
	assert_string_equal(jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"SEpy-VHD44_62e2iqDnlbfjdSNcEH_Ck9Og92X26n70\","
				 "\"y\":\"S8r49uErlLRPmrCd9Lo_oo0Sg-LqTNYsR-0nG0IBUuk\"}");
	assert_int_equal(acme_thumbprint(k, tp, sizeof(tp)), 0);
	assert_string_equal(tp, "COEGi57otbgsEQk1YenAqb5upgi9pT_PehYsgOw2RIk");
	assert_int_equal(acme_jwk(k, jwk, 40), -1);
	EVP_PKEY_free(k);
}

static void test_key_authorization(void **state)
{
	char out[128];

	assert_int_equal(acme_key_authorization("tok-EN_1", "THUMB", out, sizeof(out)), 0);
	assert_string_equal(out, "tok-EN_1.THUMB");
	assert_int_equal(acme_key_authorization("../etc", "THUMB", out, sizeof(out)), -1);
	assert_int_equal(acme_key_authorization("", "THUMB", out, sizeof(out)), -1);
	assert_int_equal(acme_key_authorization("abcdef", "THUMB", out, 8), -1);
}

static void test_ecdsa_raw(void **state)
{
	/* r with a leading zero byte dropped in DER (31 bytes), s full */
	ECDSA_SIG *sig = ECDSA_SIG_new();
	unsigned char r[31], s[32], raw[64], *der = NULL;
	int len;

	memset(r, 0x11, sizeof(r));
	memset(s, 0x92, sizeof(s));
	ECDSA_SIG_set0(sig, BN_bin2bn(r, sizeof(r), NULL), BN_bin2bn(s, sizeof(s), NULL));
	len = i2d_ECDSA_SIG(sig, &der);
	assert_int_equal(acme_ecdsa_raw(der, (size_t)len, raw), 0);
	assert_int_equal(raw[0], 0);
	assert_memory_equal(raw + 1, r, 31);
	assert_memory_equal(raw + 32, s, 32);
	/* trailing garbage and truncation refused */
	assert_int_equal(acme_ecdsa_raw(der, (size_t)len - 1, raw), -1);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
}

/* Checks a flattened JWS: its protected header has alg, the given key
 * member, nonce and url; the payload decodes to payload; the signature
 * verifies with k. */
static void check_jws(const char *text, EVP_PKEY *k, const char *key_member, const char *payload)
{
	static const struct json_limits lim = { 1 << 16, 8, 1000 };
	const char *error, *prot, *pay, *sig;
	struct json_doc *doc, *hdr;
	unsigned char buf[2048], raw[64], *der = NULL;
	char input[4096];
	size_t off, n;
	ECDSA_SIG *es = ECDSA_SIG_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int dlen;

	doc = json_parse(text, strlen(text), &lim, &error, &off);
	assert_non_null(doc);
	prot = json_value_str(json_member(json_doc_root(doc), "protected"));
	pay = json_value_str(json_member(json_doc_root(doc), "payload"));
	sig = json_value_str(json_member(json_doc_root(doc), "signature"));
	assert_non_null(prot);
	assert_non_null(pay);
	assert_non_null(sig);
	n = b64url_decode(prot, buf);
	hdr = json_parse((const char *)buf, n, &lim, &error, &off);
	assert_non_null(hdr);
	assert_string_equal(json_value_str(json_member(json_doc_root(hdr), "alg")), "ES256");
	assert_string_equal(json_value_str(json_member(json_doc_root(hdr), "nonce")), "NONCE1");
	assert_string_equal(json_value_str(json_member(json_doc_root(hdr), "url")), "https://ca.test/new-order");
	assert_non_null(json_member(json_doc_root(hdr), key_member));
	assert_null(json_member(json_doc_root(hdr), strcmp(key_member, "kid") == 0 ? "jwk" : "kid"));
	json_doc_free(hdr);
	n = b64url_decode(pay, buf);
	assert_int_equal(n, strlen(payload));
	assert_memory_equal(buf, payload, n);
	assert_int_equal(b64url_decode(sig, raw), 64);
	ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
	dlen = i2d_ECDSA_SIG(es, &der);
	snprintf(input, sizeof(input), "%s.%s", prot, pay);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestVerify(md, der, (size_t)dlen, (unsigned char *)input, strlen(input)), 1);
	/* one byte changed: no longer verifies */
	input[3] ^= 1;
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_not_equal(EVP_DigestVerify(md, der, (size_t)dlen, (unsigned char *)input, strlen(input)), 1);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	json_doc_free(doc);
}

static void test_jws_jwk_then_kid(void **state)
{
	EVP_PKEY *k = test_key();
	char *jws;

	jws = acme_jws(k, NULL, "NONCE1", "https://ca.test/new-order", "{\"termsOfServiceAgreed\":true}");
	assert_non_null(jws);
	check_jws(jws, k, "jwk", "{\"termsOfServiceAgreed\":true}");
	free(jws);
	/* POST-as-GET: an empty payload, with the account's kid */
	jws = acme_jws(k, "https://ca.test/acct/7\"", "NONCE1", "https://ca.test/new-order", NULL);
	assert_non_null(jws);
	check_jws(jws, k, "kid", "");
	free(jws);
	EVP_PKEY_free(k);
}

static void test_csr(void **state)
{
	EVP_PKEY *k = test_key();
	const char *names[2] = { "mail.example.test", "autoconfig.example.test" };
	char out[2048];
	unsigned char der[2048];
	const unsigned char *p = der;
	size_t n;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *gens;

	assert_int_equal(acme_csr(k, names, 2, out, sizeof(out)), 0);
	assert_null(strchr(out, '='));
	n = b64url_decode(out, der);
	req = d2i_X509_REQ(NULL, &p, (long)n);
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, k), 1);
	exts = X509_REQ_get_extensions(req);
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 2);
	assert_string_equal((const char *)ASN1_STRING_get0_data(sk_GENERAL_NAME_value(gens, 1)->d.dNSName),
			    "autoconfig.example.test");
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	assert_int_equal(acme_csr(k, names, 2, out, 100), -1);
	EVP_PKEY_free(k);
}

static void test_alpn_cert(void **state)
{
	char *pem = acme_alpn_cert("mail.example.test", "tok.THUMB");
	BIO *b;
	X509 *x;
	EVP_PKEY *k;
	ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *v;
	unsigned char want[32];
	int idx;

	assert_non_null(pem);
	b = BIO_new_mem_buf(pem, -1);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	assert_non_null(x);
	assert_non_null(k);
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_int_equal(X509_check_host(x, "mail.example.test", 0, 0, NULL), 1);
	idx = X509_get_ext_by_OBJ(x, obj, -1);
	assert_true(idx >= 0);
	ext = X509_get_ext(x, idx);
	assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
	v = X509_EXTENSION_get_data(ext);
	/* the extension's value is the DER OCTET STRING of SHA-256(ka) */
	assert_int_equal(ASN1_STRING_length(v), 34);
	assert_int_equal(ASN1_STRING_get0_data(v)[0], 0x04);
	assert_int_equal(ASN1_STRING_get0_data(v)[1], 32);
	SHA256((const unsigned char *)"tok.THUMB", 9, want);
	assert_memory_equal(ASN1_STRING_get0_data(v) + 2, want, 32);
	ASN1_OBJECT_free(obj);
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(b);
	free(pem);
}

static void test_parse_directory(void **state)
{
	static const char good[] = "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\","
				   "\"newOrder\":\"https://ca/o\",\"meta\":{\"termsOfService\":\"x\"}}";
	struct acme_directory d;
	const char *error;

	assert_int_equal(acme_parse_directory(good, strlen(good), &d, &error), 0);
	assert_string_equal(d.new_order, "https://ca/o");
	assert_int_equal(acme_parse_directory("{\"newNonce\":\"x\"}", 16, &d, &error), -1);
	assert_int_equal(acme_parse_directory("[1]", 3, &d, &error), -1);
	assert_int_equal(acme_parse_directory("{\"newNonce\":", 12, &d, &error), -1);
	assert_int_equal(acme_parse_directory("{\"newNonce\":1,\"newAccount\":\"a\",\"newOrder\":\"o\"}", 45, &d,
						&error), -1);
}

static void test_parse_order_and_authz(void **state)
{
	static const char order[] = "{\"status\":\"pending\",\"expires\":\"2026-12-07T00:00:00Z\","
		"\"identifiers\":[{\"type\":\"dns\",\"value\":\"mail.example.test\"}],"
		"\"authorizations\":[\"https://ca/authz/1\",\"https://ca/authz/2\"],"
		"\"finalize\":\"https://ca/finalize/1\"}";
	static const char authz[] = "{\"status\":\"invalid\",\"identifier\":{\"type\":\"dns\",\"value\":\"mail.example.test\"},"
		"\"challenges\":[{\"type\":\"dns-01\",\"url\":\"https://ca/c/1\",\"token\":\"t1\"},"
		"{\"type\":\"http-01\",\"url\":\"https://ca/c/2\",\"token\":\"../evil\",\"status\":\"pending\"},"
		"{\"type\":\"tls-alpn-01\",\"url\":\"https://ca/c/3\",\"token\":\"t3\",\"status\":\"invalid\","
		"\"error\":{\"type\":\"urn:ietf:params:acme:error:connection\",\"detail\":\"refused\"}},"
		"{\"type\":\"future-01\",\"somethingElse\":true}]}";
	struct acme_order o;
	struct acme_authz a;
	const struct acme_challenge *c;
	const char *error;
	char prob[128];

	assert_int_equal(acme_parse_order(order, strlen(order), &o, &error), 0);
	assert_string_equal(o.status, "pending");
	assert_int_equal(o.nauthz, 2);
	assert_string_equal(o.authz[1], "https://ca/authz/2");
	assert_string_equal(o.certificate, "");
	assert_int_equal(acme_parse_order("{\"status\":\"valid\"}", 18, &o, &error), -1);
	assert_int_equal(acme_parse_authz(authz, strlen(authz), &a, &error), 0);
	assert_int_equal(a.nch, 3);	/* the unknown shape is skipped */
	assert_string_equal(a.identifier, "mail.example.test");
	/* a token that is not base64url is never used (it names a file) */
	assert_null(acme_authz_challenge(&a, "http-01"));
	c = acme_authz_challenge(&a, "tls-alpn-01");
	assert_non_null(c);
	assert_string_equal(c->error, "connection: refused");
	static const char problem[] = "{\"type\":\"urn:ietf:params:acme:error:rateLimited\","
				      "\"detail\":\"too many\",\"status\":429}";
	assert_int_equal(acme_parse_problem(problem, strlen(problem), prob, sizeof(prob)), 0);
	assert_string_equal(prob, "rateLimited: too many");
	assert_int_equal(acme_parse_problem("not json", 8, prob, sizeof(prob)), -1);
	assert_int_equal(acme_parse_problem("{}", 2, prob, sizeof(prob)), -1);
}

static void test_payloads(void **state)
{
	const char *names[2] = { "mail.example.test", "autoconfig.example.test" };
	char *p;

	p = acme_account_payload("postmaster@example.test");
	assert_string_equal(p, "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:postmaster@example.test\"]}");
	free(p);
	p = acme_account_payload("");
	assert_string_equal(p, "{\"termsOfServiceAgreed\":true}");
	free(p);
	/* a quote in the contact stays inside its string */
	p = acme_account_payload("a\"b@example.test");
	assert_string_equal(p, "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:a\\\"b@example.test\"]}");
	free(p);
	p = acme_order_payload(names, 2);
	assert_string_equal(p, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"mail.example.test\"},"
			       "{\"type\":\"dns\",\"value\":\"autoconfig.example.test\"}]}");
	free(p);
	p = acme_finalize_payload("MIIB-_x");
	assert_string_equal(p, "{\"csr\":\"MIIB-_x\"}");
	free(p);
}

static void test_renew_time(void **state)
{
	const time_t day = 86400, nb = 1700000000;

	/* 90 days: 30 days before the end, up to a day earlier */
	for (uint32_t j = 0; j < 5000; j += 97) {
		time_t t = acme_renew_time(nb, nb + 90 * day, j * 7919u);
		assert_true(t <= nb + 60 * day);
		assert_true(t > nb + 59 * day);
	}
	assert_int_equal(acme_renew_time(nb, nb + 90 * day, 0), nb + 60 * day);
	/* five years: still 30 days */
	assert_int_equal(acme_renew_time(nb, nb + 1826 * day, 0), nb + 1796 * day);
	/* six days: a third of the life before the end, spread a sixtieth */
	assert_int_equal(acme_renew_time(nb, nb + 6 * day, 0), nb + 4 * day);
	assert_true(acme_renew_time(nb, nb + 6 * day, 123456) > nb + 4 * day - 6 * day / 60);
	/* nonsense dates: renew now (not in the future) */
	assert_true(acme_renew_time(nb, nb - 10, 99) <= nb);
}

static void test_backoff(void **state)
{
	assert_int_equal(acme_backoff(1), 600);
	assert_int_equal(acme_backoff(2), 1200);
	assert_int_equal(acme_backoff(3), 2400);
	assert_int_equal(acme_backoff(8), 76800);
	assert_int_equal(acme_backoff(9), 86400);
	assert_int_equal(acme_backoff(1000), 86400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url_vectors),
		cmocka_unit_test(test_jwk_and_thumbprint),
		cmocka_unit_test(test_key_authorization),
		cmocka_unit_test(test_ecdsa_raw),
		cmocka_unit_test(test_jws_jwk_then_kid),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_alpn_cert),
		cmocka_unit_test(test_parse_directory),
		cmocka_unit_test(test_parse_order_and_authz),
		cmocka_unit_test(test_payloads),
		cmocka_unit_test(test_renew_time),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests_name("acme_msg", tests, NULL, NULL);
}
