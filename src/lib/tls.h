#ifndef YUBIN_LIB_TLS_H
#define YUBIN_LIB_TLS_H

#include <openssl/ssl.h>

/* Server TLS: TLS 1.2+ only. Certificates live in DATA/tls/ as
 * NAME.crt + NAME.key; the SNI host name picks the matching one (exact, then
 * a `_wildcard.DOMAIN` pair for *.DOMAIN), else the server's own host name. */

struct tls_server;

struct tls_server *tls_server_new(const char *dir, const char *default_host,
				  char *err, size_t errsize);
void tls_server_free(struct tls_server *tls);
/* The context new connections start with (SNI may switch it). */
SSL_CTX *tls_server_ctx(struct tls_server *tls);

/* Creates a self-signed certificate (EC P-256, 10 years) whose CN and
 * subjectAltName are host, writing PEM files with mode 0644/0600.
 * extra_san, when not NULL, adds subjectAltName entries ("IP:127.0.0.1"). */
int tls_selfsigned_create(const char *host, const char *extra_san, const char *crt_path,
			  const char *key_path, char *err, size_t errsize);

/* Describes the negotiated TLS of ssl for Received headers and logs:
 * "TLSv1.3 TLS_AES_256_GCM_SHA384". */
void tls_describe(SSL *ssl, char *buf, size_t bufsize);

#endif
