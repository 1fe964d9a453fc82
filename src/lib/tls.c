#include "lib/tls.h"
#include "lib/str.h"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct tls_cert {
	char name[256];		/* host name, or "*.domain" */
	SSL_CTX *ctx;
};

struct tls_server {
	struct tls_cert *certs;
	size_t ncerts;
	SSL_CTX *default_ctx;
};

static void tls_error_string(char *err, size_t errsize, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errsize, "%s: %s", what, e != 0 ? buf : "unknown error");
	ERR_clear_error();
}

static int tls_sni_callback(SSL *ssl, int *alert, void *arg)
{
	struct tls_server *tls = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const char *dot;

	if (name == NULL)
		return SSL_TLSEXT_ERR_OK;
	for (size_t i = 0; i < tls->ncerts; i++) {
		if (str_eq_ci(tls->certs[i].name, name)) {
			SSL_set_SSL_CTX(ssl, tls->certs[i].ctx);
			return SSL_TLSEXT_ERR_OK;
		}
	}
	dot = strchr(name, '.');
	if (dot != NULL) {
		for (size_t i = 0; i < tls->ncerts; i++) {
			const char *c = tls->certs[i].name;
			if (c[0] == '*' && str_eq_ci(c + 1, dot)) {
				SSL_set_SSL_CTX(ssl, tls->certs[i].ctx);
				return SSL_TLSEXT_ERR_OK;
			}
		}
	}
	return SSL_TLSEXT_ERR_OK;	/* keep the default certificate */
}

#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static SSL_CTX *tls_ctx_load(const char *crt, const char *key, char *err, size_t errsize)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		tls_error_string(err, errsize, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* TLS 1.2: AEAD suites with forward secrecy only (no CBC), as in
	 * Mozilla's "intermediate" profile; TLS 1.3 keeps OpenSSL's defaults. */
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		tls_error_string(err, errsize, "SSL_CTX_set_cipher_list");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
				 SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1) {
		tls_error_string(err, errsize, crt);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_error_string(err, errsize, key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct tls_server *tls_server_new(const char *dir, const char *default_host,
				  char *err, size_t errsize)
{
	struct tls_server *tls = calloc(1, sizeof(*tls));
	DIR *d = opendir(dir);
	struct dirent *de;

	if (tls == NULL || d == NULL) {
		snprintf(err, errsize, "%s: cannot open the certificate directory", dir);
		free(tls);
		if (d != NULL)
			closedir(d);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char name[256], crt[1024], key[1024];
		struct tls_cert *grown;
		SSL_CTX *ctx;

		if (len < 5 || strcmp(de->d_name + len - 4, ".crt") != 0 || len - 4 >= sizeof(name))
			continue;
		memcpy(name, de->d_name, len - 4);
		name[len - 4] = '\0';
		snprintf(crt, sizeof(crt), "%s/%s.crt", dir, name);
		snprintf(key, sizeof(key), "%s/%s.key", dir, name);
		ctx = tls_ctx_load(crt, key, err, errsize);
		if (ctx == NULL) {
			closedir(d);
			tls_server_free(tls);
			return NULL;
		}
		grown = realloc(tls->certs, (tls->ncerts + 1) * sizeof(*grown));
		if (grown == NULL) {
			SSL_CTX_free(ctx);
			break;
		}
		tls->certs = grown;
		if (strncmp(name, "_wildcard.", 10) == 0)
			snprintf(tls->certs[tls->ncerts].name, sizeof(name), "*.%s", name + 10);
		else
			str_copy(tls->certs[tls->ncerts].name, sizeof(name), name);
		tls->certs[tls->ncerts++].ctx = ctx;
	}
	closedir(d);
	for (size_t i = 0; i < tls->ncerts; i++) {
		if (str_eq_ci(tls->certs[i].name, default_host))
			tls->default_ctx = tls->certs[i].ctx;
	}
	if (tls->default_ctx == NULL && tls->ncerts > 0)
		tls->default_ctx = tls->certs[0].ctx;
	if (tls->default_ctx == NULL) {
		snprintf(err, errsize, "%s: no certificate (expected %s.crt and %s.key)",
			 dir, default_host, default_host);
		tls_server_free(tls);
		return NULL;
	}
	for (size_t i = 0; i < tls->ncerts; i++) {
		SSL_CTX_set_tlsext_servername_callback(tls->certs[i].ctx, tls_sni_callback);
		SSL_CTX_set_tlsext_servername_arg(tls->certs[i].ctx, tls);
	}
	return tls;
}

void tls_server_free(struct tls_server *tls)
{
	if (tls == NULL)
		return;
	for (size_t i = 0; i < tls->ncerts; i++)
		SSL_CTX_free(tls->certs[i].ctx);
	free(tls->certs);
	free(tls);
}

SSL_CTX *tls_server_ctx(struct tls_server *tls)
{
	return tls->default_ctx;
}

int tls_selfsigned_create(const char *host, const char *extra_san, const char *crt_path,
			  const char *key_path, char *err, size_t errsize)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[600];
	FILE *f = NULL;
	int ret = -1;
	mode_t old;

	if (pkey == NULL || x == NULL) {
		tls_error_string(err, errsize, "key generation");
		goto out;
	}
	X509_set_version(x, 2);
	{
		unsigned char serial[16];
		BIGNUM *bn;
		str_random_id((char *)serial, sizeof(serial));
		bn = BN_bin2bn(serial, sizeof(serial) - 1, NULL);
		BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
		BN_free(bn);
	}
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s%s%s", host, extra_san != NULL ? "," : "",
		 extra_san != NULL ? extra_san : "");
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext == NULL) {
		tls_error_string(err, errsize, "subjectAltName");
		goto out;
	}
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (X509_sign(x, pkey, EVP_sha256()) == 0) {
		tls_error_string(err, errsize, "signing");
		goto out;
	}
	old = umask(077);
	f = fopen(key_path, "w");
	umask(old);
	if (f == NULL || PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		snprintf(err, errsize, "%s: cannot write the key", key_path);
		goto out;
	}
	fclose(f);
	f = fopen(crt_path, "w");
	if (f == NULL || PEM_write_X509(f, x) != 1) {
		snprintf(err, errsize, "%s: cannot write the certificate", crt_path);
		goto out;
	}
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ret;
}

void tls_describe(SSL *ssl, char *buf, size_t bufsize)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	snprintf(buf, bufsize, "%s %s", SSL_get_version(ssl),
		 c != NULL ? SSL_CIPHER_get_name(c) : "unknown");
}
