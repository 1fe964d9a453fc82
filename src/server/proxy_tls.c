/* TLS on the hop from a proxy to a mail node (server/proxy.h): one client
 * context made at start-up with proxy.node_ca_file's CAs; each hop gets
 * an SSL from it that, with proxy.node_tls = on, verifies the node's
 * certificate chain and name (proxy.node_tls_name, else the host of the
 * node's address: a name or an IP address). With it off, only HTTPS is
 * encrypted (the node's web server speaks nothing else), unverified. */
#include "server/proxy.h"
#include "settings/settings.h"
#include "lib/log.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

static SSL_CTX *proxy_tls_ctx;

void proxy_tls_start(void)
{
	char ca_file[sizeof(server->cfg.proxy_node_ca_file)];

	pthread_rwlock_rdlock(&server->lock);
	str_copy(ca_file, sizeof(ca_file), server->cfg.proxy_node_ca_file);
	pthread_rwlock_unlock(&server->lock);
	proxy_tls_ctx = SSL_CTX_new(TLS_client_method());
	if (proxy_tls_ctx == NULL)
		log_fatal("proxy: cannot make the TLS client context for the nodes");
	SSL_CTX_set_min_proto_version(proxy_tls_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(proxy_tls_ctx, SSL_VERIFY_NONE, NULL);
	if (ca_file[0] != '\0' ? SSL_CTX_load_verify_locations(proxy_tls_ctx, ca_file, NULL) != 1
	    : SSL_CTX_set_default_verify_paths(proxy_tls_ctx) != 1) {
		log_warn(NULL, "proxy: cannot load the CAs %s: with %s on, no node will be trusted",
			 ca_file[0] != '\0' ? ca_file : "of the system", settings_key(SETTING_CONF_PROXY_NODE_TLS));
		ERR_clear_error();
	}
}

void proxy_tls_stop(void)
{
	SSL_CTX_free(proxy_tls_ctx);
	proxy_tls_ctx = NULL;
}

bool proxy_tls_is_on(void)
{
	bool on;

	pthread_rwlock_rdlock(&server->lock);
	on = strcmp(server->cfg.proxy_node_tls, "on") == 0;
	pthread_rwlock_unlock(&server->lock);
	return on;
}

/* The name or address the node's certificate must carry. */
static int proxy_tls_expect(SSL *ssl, const char *host)
{
	char name[sizeof(server->cfg.proxy_node_tls_name)];
	unsigned char bin[16];
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

	pthread_rwlock_rdlock(&server->lock);
	str_copy(name, sizeof(name), server->cfg.proxy_node_tls_name);
	pthread_rwlock_unlock(&server->lock);
	if (name[0] == '\0')
		str_copy(name, sizeof(name), host);
	if (inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1 ? 0 : -1;
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, name) != 1)
		return -1;
	SSL_set_tlsext_host_name(ssl, name);
	return 0;
}

SSL *proxy_tls_new(const char *host, bool verify)
{
	SSL *ssl;

	if (proxy_tls_ctx == NULL || (ssl = SSL_new(proxy_tls_ctx)) == NULL)
		return NULL;
	if (verify) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		if (proxy_tls_expect(ssl, host) < 0) {
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}
