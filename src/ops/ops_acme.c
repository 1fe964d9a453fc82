/* The ACME client (RFC 8555) over the HTTPS client: account, order,
 * authorizations answered with http-01 (a file the daemon's port 80
 * serves) or tls-alpn-01 (a certificate its port 443 answers with,
 * RFC 8737), finalize, download, install; and the renewal policy around
 * it (due dates, DNS pointing here, back-off, orders per day). Blocking:
 * runs on the daemon's certificate thread or in yubinctl. */
#include "ops/ops_cert.h"
#include "policy/acme_msg.h"
#include "directory/validate.h"
#include "lib/dns.h"
#include "lib/fsutil.h"
#include "lib/https_client.h"
#include "lib/log.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ACME_TIMEOUT_MS 30000
#define ACME_POLLS 60

struct acme {
	struct https_client *https;
	EVP_PKEY *key;
	struct acme_directory d;
	char kid[ACME_URL_MAX];
	char nonce[256];
	char thumb[64];
	const char *data;
	const struct config *cfg;
	const atomic_bool *stop;	/* the daemon is stopping: give up */
	char err[512];
};

static void acme_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int acme_http(struct acme *a, const char *method, const char *url, const char *body,
		     const char *accept, struct https_response *resp)
{
	struct https_request req = {
		.method = method, .url = url, .body = body, .body_len = body != NULL ? strlen(body) : 0,
		.content_type = body != NULL ? "application/jose+json" : NULL, .accept = accept,
		.timeout_ms = ACME_TIMEOUT_MS, .limits = { 16 * 1024, 256 * 1024 },
	};
	const char *nonce;

	memset(resp, 0, sizeof(*resp));
	if (a->stop != NULL && atomic_load(a->stop)) {
		snprintf(a->err, sizeof(a->err), "the server is stopping");
		return -1;
	}
	if (https_request(a->https, &req, resp, a->err, sizeof(a->err)) < 0)
		return -1;
	nonce = https_response_header(resp, "Replay-Nonce");
	if (nonce != NULL && acme_is_b64url(nonce, sizeof(a->nonce) - 1))
		str_copy(a->nonce, sizeof(a->nonce), nonce);
	return 0;
}

static void acme_problem(struct acme *a, const struct https_response *resp, const char *what)
{
	char prob[400];

	if (acme_parse_problem(resp->body, resp->body_len, prob, sizeof(prob)) == 0)
		snprintf(a->err, sizeof(a->err), "%s: %s", what, prob);
	else
		snprintf(a->err, sizeof(a->err), "%s: HTTP status %d", what, resp->status);
}

/* A signed POST (payload NULL: POST-as-GET), retried on badNonce. */
static int acme_post(struct acme *a, const char *url, const char *payload, const char *accept,
		     struct https_response *resp)
{
	for (int tries = 0; tries < 3; tries++) {
		char *jws;
		int r;

		if (a->nonce[0] == '\0') {
			struct https_response n;
			if (acme_http(a, "HEAD", a->d.new_nonce, NULL, NULL, &n) < 0)
				return -1;
			https_response_clear(&n);
			if (a->nonce[0] == '\0') {
				snprintf(a->err, sizeof(a->err), "the CA gave no nonce");
				return -1;
			}
		}
		jws = acme_jws(a->key, a->kid[0] != '\0' ? a->kid : NULL, a->nonce, url, payload);
		a->nonce[0] = '\0';
		if (jws == NULL) {
			snprintf(a->err, sizeof(a->err), "cannot sign the request");
			return -1;
		}
		r = acme_http(a, "POST", url, jws, accept, resp);
		free(jws);
		if (r < 0)
			return -1;
		if (resp->status == 400 && resp->body != NULL && strstr(resp->body, ":badNonce") != NULL) {
			https_response_clear(resp);
			continue;
		}
		if (resp->status >= 400) {
			acme_problem(a, resp, url);
			https_response_clear(resp);
			return -1;
		}
		return 0;
	}
	snprintf(a->err, sizeof(a->err), "the CA kept refusing our nonces");
	return -1;
}

/* The account key DATA/acme/account.key (P-256, 0600), made once. */
static EVP_PKEY *account_key(const char *data, char *err, size_t errsize)
{
	char path[4200];
	EVP_PKEY *key = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/acme/account.key", data);
	f = fopen(path, "r");
	if (f != NULL) {
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (key == NULL)
			snprintf(err, errsize, "%s: not a private key", path);
		return key;
	}
	key = acme_key_new();
	if (key != NULL) {
		BIO *b = BIO_new(BIO_s_secmem());	/* a key: wiped when freed */
		char *pem;
		long n;

		if (b != NULL && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1 &&
		    (n = BIO_get_mem_data(b, &pem)) > 0 && fs_write_file_atomic(path, pem, (size_t)n, 0600) == 0) {
			BIO_free(b);
			return key;
		}
		BIO_free(b);
		EVP_PKEY_free(key);
	}
	snprintf(err, errsize, "%s: cannot make the account key", path);
	return NULL;
}

/* The directory and the account (newAccount with the JWK; an existing
 * account for the key comes back the same way), so later requests use
 * the kid. */
static int acme_open(struct acme *a)
{
	struct https_response resp;
	const char *error, *loc;
	char *payload;
	int r;

	if (acme_http(a, "GET", a->cfg->acme_directory, NULL, "application/json", &resp) < 0)
		return -1;
	if (resp.status != 200 || acme_parse_directory(resp.body, resp.body_len, &a->d, &error) < 0) {
		snprintf(a->err, sizeof(a->err), "%s: not an ACME directory (HTTP %d)", a->cfg->acme_directory,
			 resp.status);
		https_response_clear(&resp);
		return -1;
	}
	https_response_clear(&resp);
	payload = acme_account_payload(a->cfg->acme_contact);
	if (payload == NULL) {
		snprintf(a->err, sizeof(a->err), "newAccount: cannot build the request");
		return -1;
	}
	r = acme_post(a, a->d.new_account, payload, NULL, &resp);
	free(payload);
	if (r < 0)
		return -1;
	loc = https_response_header(&resp, "Location");
	if (loc == NULL || str_copy(a->kid, sizeof(a->kid), loc) < 0) {
		snprintf(a->err, sizeof(a->err), "newAccount: no account URL");
		https_response_clear(&resp);
		return -1;
	}
	https_response_clear(&resp);
	return 0;
}

/* Publishes (or, with ka NULL, removes) the answer to a challenge. */
static int challenge_publish(struct acme *a, const char *type, const char *name, const char *token,
			     const char *ka)
{
	char path[4400];
	int r = 0;

	if (strcmp(type, "http-01") == 0) {
		snprintf(path, sizeof(path), "%s/acme/http-01/%s", a->data, token);
		if (ka == NULL)
			return unlink(path);
		r = fs_write_file_atomic(path, ka, strlen(ka), 0644);
	} else {
		char *pem;
		snprintf(path, sizeof(path), "%s/acme/tls-alpn/%s.pem", a->data, name);
		if (ka == NULL)
			return unlink(path);
		pem = acme_alpn_cert(name, ka);
		r = pem != NULL ? fs_write_file_atomic(path, pem, strlen(pem), 0600) : -1;
		free(pem);
	}
	if (r < 0)
		snprintf(a->err, sizeof(a->err), "%s: cannot write the challenge answer", path);
	return r;
}

/* POST-as-GET of an authorization; with wait, again until it is no
 * longer pending. */
static int authz_poll(struct acme *a, const char *url, struct acme_authz *az, bool wait)
{
	for (int i = 0; i < ACME_POLLS; i++) {
		struct https_response resp;
		const char *error;
		int r;

		if (acme_post(a, url, NULL, NULL, &resp) < 0)
			return -1;
		r = acme_parse_authz(resp.body, resp.body_len, az, &error);
		https_response_clear(&resp);
		if (r < 0) {
			snprintf(a->err, sizeof(a->err), "authorization: %s", error);
			return -1;
		}
		if (!wait || strcmp(az->status, "pending") != 0)
			return 0;
		acme_sleep_ms(i < 5 ? 300 : 1000);
	}
	snprintf(a->err, sizeof(a->err), "authorization still pending after %d polls", ACME_POLLS);
	return -1;
}

static int authorize(struct acme *a, const char *name, const char *url)
{
	const char *want = a->cfg->acme_challenge;
	const char *other = strcmp(want, "http-01") == 0 ? "tls-alpn-01" : "http-01";
	const struct acme_challenge *ch;
	struct acme_authz az;
	struct https_response resp;
	char ka[400];
	int r;

	if (authz_poll(a, url, &az, false) < 0)
		return -1;
	if (strcmp(az.status, "valid") == 0)
		return 0;
	ch = acme_authz_challenge(&az, want);
	if (ch == NULL)
		ch = acme_authz_challenge(&az, other);
	if (ch == NULL || !str_eq_ci(az.identifier, name)) {
		snprintf(a->err, sizeof(a->err), "%s: no http-01 or tls-alpn-01 challenge offered", name);
		return -1;
	}
	if (acme_key_authorization(ch->token, a->thumb, ka, sizeof(ka)) < 0 ||
	    challenge_publish(a, ch->type, name, ch->token, ka) < 0)
		return -1;
	r = acme_post(a, ch->url, "{}", NULL, &resp);
	if (r == 0) {
		https_response_clear(&resp);
		r = authz_poll(a, url, &az, true);
	}
	challenge_publish(a, ch->type, name, ch->token, NULL);
	if (r == 0 && strcmp(az.status, "valid") != 0) {
		const struct acme_challenge *done = acme_authz_challenge(&az, ch->type);
		snprintf(a->err, sizeof(a->err), "%s: %s validation %s%s%s", name, ch->type, az.status,
			 done != NULL && done->error[0] != '\0' ? ": " : "",
			 done != NULL ? done->error : "");
		r = -1;
	}
	return r;
}

/* POST-as-GET of the order until it is valid (or fails). */
static int order_poll(struct acme *a, const char *url, struct acme_order *o)
{
	for (int i = 0; i < ACME_POLLS; i++) {
		struct https_response resp;
		const char *error;
		int r;

		if (strcmp(o->status, "valid") == 0)
			return 0;
		if (strcmp(o->status, "invalid") == 0) {
			snprintf(a->err, sizeof(a->err), "the order became invalid");
			return -1;
		}
		acme_sleep_ms(i < 5 ? 300 : 1000);
		if (acme_post(a, url, NULL, NULL, &resp) < 0)
			return -1;
		r = acme_parse_order(resp.body, resp.body_len, o, &error);
		https_response_clear(&resp);
		if (r < 0) {
			snprintf(a->err, sizeof(a->err), "order: %s", error);
			return -1;
		}
	}
	snprintf(a->err, sizeof(a->err), "the order is still %s after %d polls", o->status, ACME_POLLS);
	return -1;
}

/* Writes the key and the chain into DATA/tls (0600 each, each replaced
 * atomically; the key first, so a reload between the two sees the old
 * pair mismatched at worst, which the loader skips). */
static int install(struct acme *a, const char *name, EVP_PKEY *key, const char *chain, size_t len)
{
	char crt[4400], keyp[4400];
	BIO *b = BIO_new(BIO_s_secmem());	/* the key: wiped when freed */
	char *pem;
	long n;
	int r = -1;

	snprintf(crt, sizeof(crt), "%s/tls/%s.crt", a->data, name);
	snprintf(keyp, sizeof(keyp), "%s/tls/%s.key", a->data, name);
	if (b != NULL && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(b, &pem)) > 0 && fs_write_file_atomic(keyp, pem, (size_t)n, 0600) == 0 &&
	    fs_write_file_atomic(crt, chain, len, 0600) == 0)
		r = 0;
	else
		snprintf(a->err, sizeof(a->err), "%s: cannot write the certificate: %s", crt, strerror(errno));
	BIO_free(b);
	return r;
}

/* The chain's first certificate must be for key and cover name. */
static int chain_check(struct acme *a, const char *name, EVP_PKEY *key, const char *chain, size_t len)
{
	BIO *b = BIO_new_mem_buf(chain, (int)len);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	int ok = x != NULL && X509_check_private_key(x, key) == 1 &&
		 X509_check_host(x, name, strlen(name), 0, NULL) == 1;

	X509_free(x);
	BIO_free(b);
	if (!ok)
		snprintf(a->err, sizeof(a->err), "the CA's certificate does not match the order for %s", name);
	return ok ? 0 : -1;
}

static int finalize(struct acme *a, const char *name, const char *order_url, struct acme_order *o)
{
	EVP_PKEY *key = acme_key_new();
	char csr[2048], *payload = NULL;
	const char *names[1] = { name };
	struct https_response resp = { 0 };
	const char *error;
	int r = -1;

	if (key == NULL || acme_csr(key, names, 1, csr, sizeof(csr)) < 0 ||
	    (payload = acme_finalize_payload(csr)) == NULL) {
		snprintf(a->err, sizeof(a->err), "cannot make the CSR");
		goto out;
	}
	if (acme_post(a, o->finalize, payload, NULL, &resp) < 0)
		goto out;
	if (acme_parse_order(resp.body, resp.body_len, o, &error) < 0) {
		snprintf(a->err, sizeof(a->err), "finalize: %s", error);
		goto out;
	}
	https_response_clear(&resp);
	if (order_poll(a, order_url, o) < 0)
		goto out;
	if (o->certificate[0] == '\0') {
		snprintf(a->err, sizeof(a->err), "the valid order has no certificate URL");
		goto out;
	}
	if (acme_post(a, o->certificate, NULL, "application/pem-certificate-chain", &resp) < 0)
		goto out;
	if (chain_check(a, name, key, resp.body, resp.body_len) < 0 ||
	    install(a, name, key, resp.body, resp.body_len) < 0)
		goto out;
	r = 0;
out:
	free(payload);
	https_response_clear(&resp);
	EVP_PKEY_free(key);
	return r;
}

/* One order for name, from newOrder to the installed certificate. */
static int acme_issue(struct acme *a, const char *name)
{
	struct https_response resp;
	struct acme_order o;
	char *payload = acme_order_payload(&name, 1), order_url[ACME_URL_MAX];
	const char *error, *loc;
	int r;

	if (payload == NULL) {
		snprintf(a->err, sizeof(a->err), "newOrder: cannot build the request");
		return -1;
	}
	r = acme_post(a, a->d.new_order, payload, NULL, &resp);
	free(payload);
	if (r < 0)
		return -1;
	loc = https_response_header(&resp, "Location");
	if (loc == NULL || str_copy(order_url, sizeof(order_url), loc) < 0 ||
	    acme_parse_order(resp.body, resp.body_len, &o, &error) < 0) {
		snprintf(a->err, sizeof(a->err), "newOrder: no usable order");
		https_response_clear(&resp);
		return -1;
	}
	https_response_clear(&resp);
	for (size_t i = 0; i < o.nauthz; i++) {
		if (authorize(a, name, o.authz[i]) < 0)
			return -1;
	}
	if (strcmp(o.status, "pending") == 0 || strcmp(o.status, "ready") == 0) {
		/* the authorizations are done: wait until the order is ready */
		for (int i = 0; i < ACME_POLLS && strcmp(o.status, "ready") != 0; i++) {
			if (acme_post(a, order_url, NULL, NULL, &resp) < 0)
				return -1;
			if (acme_parse_order(resp.body, resp.body_len, &o, &error) < 0) {
				https_response_clear(&resp);
				snprintf(a->err, sizeof(a->err), "order: %s", error);
				return -1;
			}
			https_response_clear(&resp);
			if (strcmp(o.status, "ready") != 0 && strcmp(o.status, "pending") != 0)
				break;
			if (strcmp(o.status, "ready") != 0)
				acme_sleep_ms(500);
		}
	}
	if (strcmp(o.status, "ready") != 0) {
		snprintf(a->err, sizeof(a->err), "the order is %s, not ready", o.status);
		return -1;
	}
	return finalize(a, name, order_url, &o);
}

static int acme_init(struct acme *a, const char *data, const struct config *cfg)
{
	char dir[4200];

	memset(a, 0, sizeof(*a));
	a->data = data;
	a->cfg = cfg;
	snprintf(dir, sizeof(dir), "%s/acme/http-01", data);
	fs_mkdir_p(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/acme/tls-alpn", data);
	fs_mkdir_p(dir, 0700);
	a->https = https_client_new(cfg->acme_ca_file, a->err, sizeof(a->err));
	if (a->https == NULL)
		return -1;
	a->key = account_key(data, a->err, sizeof(a->err));
	if (a->key == NULL || acme_thumbprint(a->key, a->thumb, sizeof(a->thumb)) < 0)
		return -1;
	return 0;
}

static void acme_done(struct acme *a)
{
	https_client_free(a->https);
	EVP_PKEY_free(a->key);
	a->https = NULL;
	a->key = NULL;
}

/* ---- the renewal policy ---- */

/* This server's public addresses: acme.addresses, else listen.address
 * without wildcards, else every interface's. */
static size_t public_addresses(const struct config *cfg, struct sockaddr_storage *out, size_t max)
{
	const char *list = cfg->acme_addresses[0] != '\0' ? cfg->acme_addresses : cfg->listen_address;
	char copy[512], *save = NULL, *t;
	struct ifaddrs *ifs, *i;
	size_t n = 0;

	str_copy(copy, sizeof(copy), list);
	for (t = strtok_r(copy, ", \t", &save); t != NULL && n < max; t = strtok_r(NULL, ", \t", &save)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&out[n];
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out[n];

		memset(&out[n], 0, sizeof(out[n]));
		if (inet_pton(AF_INET, t, &in->sin_addr) == 1 && in->sin_addr.s_addr != INADDR_ANY) {
			in->sin_family = AF_INET;
			n++;
		} else if (inet_pton(AF_INET6, t, &in6->sin6_addr) == 1 &&
			   !IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
			in6->sin6_family = AF_INET6;
			n++;
		}
	}
	if (n > 0 || getifaddrs(&ifs) < 0)
		return n;
	for (i = ifs; i != NULL && n < max; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(&out[n++], i->ifa_addr, i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
										  : sizeof(struct sockaddr_in6));
	}
	freeifaddrs(ifs);
	return n;
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

/* 1 when name's A/AAAA records include one of our addresses, 0 when they
 * do not (why in detail), -1 when DNS could not say. */
static int dns_points_here(const struct config *cfg, const char *name, char *detail, size_t size)
{
	struct sockaddr_storage ours[16];
	struct dns_addr addrs[16];
	size_t nours = public_addresses(cfg, ours, 16), n = 0;
	const char *error = NULL;
	enum dns_result r = dns_addr_lookup(cfg->dns_resolver, name, 0, addrs, 16, &n, &error);
	char first[64] = "";

	if (r == DNS_TEMPFAIL) {
		snprintf(detail, size, "%s: DNS lookup failed (%s)", name, error != NULL ? error : "temporary");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const void *bin = addrs[i].ss.ss_family == AF_INET
			? (const void *)&((struct sockaddr_in *)&addrs[i].ss)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)&addrs[i].ss)->sin6_addr;
		if (i == 0)
			inet_ntop(addrs[i].ss.ss_family, bin, first, sizeof(first));
		for (size_t j = 0; j < nours; j++) {
			if (same_address(&addrs[i].ss, &ours[j]))
				return 1;
		}
	}
	if (n == 0)
		snprintf(detail, size, "%s has no A or AAAA record yet; no certificate ordered", name);
	else
		snprintf(detail, size, "%s points to %s, not to this server; no certificate ordered", name, first);
	return 0;
}

const char *ops_renew_outcome_name(enum ops_renew_outcome o)
{
	static const char *const names[] = { "issued", "not-due", "imported", "dns-elsewhere", "limited",
					     "failed", "off" };

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "unknown";
}

struct renew_run {
	struct ops *o;
	const struct ops_actor *actor;
	const struct config *cfg;
	struct acme a;
	int acme_state;		/* 0 not opened, 1 open, -1 failed (a->err) */
	bool force, issued;
	bool one;		/* a name asked for: its DNS is looked at again now */
	const atomic_bool *stop;
};

static void state_save(struct renew_run *run, const struct dir_cert_state *st)
{
	const char *error;

	if (directory_cert_state_set(run->o->dir, st, &error) < 0)
		log_warn(NULL, "certs: cannot record the state of %s: %s", st->name, error);
}

/* The ACME side failed for st's name: back off, say why in an event. */
static enum ops_renew_outcome renew_failed(struct renew_run *run, const char *domain, struct dir_cert_state *st,
					   const char *why, char *detail, size_t size)
{
	time_t now = time(NULL);

	st->failures++;
	st->next_try = now + acme_backoff(st->failures);
	str_copy(st->last_error, sizeof(st->last_error), why);
	state_save(run, st);
	snprintf(detail, size, "%s; the current certificate stays; next try in %u min", why,
		 (unsigned)((st->next_try - now) / 60));
	ops_event(run->o, run->actor, "cert-failed", domain, "%s: %s", st->name, detail);
	return OPS_RENEW_FAILED;
}

static void iso_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
}

/* Whether name needs an order now (or force); why not in detail. */
static bool renew_due(struct renew_run *run, const char *domain, const struct dir_cert_state *st,
		      enum ops_renew_outcome *out_r, char *detail, size_t size)
{
	struct ops_cert_info info;
	struct ops_error e;
	time_t now = time(NULL);
	char t1[32], t2[32];

	if (run->force)
		return true;
	if (strcmp(st->source, "imported") == 0) {
		*out_r = OPS_RENEW_IMPORTED;
		snprintf(detail, size, "the administrator's own certificate (renew --force to use ACME again)");
		return false;
	}
	if (ops_cert_show(run->o, run->actor, st->name, &info, &e) == 0 && info.present && info.covers &&
	    !info.self_signed && info.renew_at > now) {
		*out_r = OPS_RENEW_NOT_DUE;
		iso_time(info.not_after, t1, sizeof(t1));
		iso_time(info.renew_at, t2, sizeof(t2));
		snprintf(detail, size, "valid until %s, renewed from %s%s%s", t1, t2,
			 st->failures > 0 ? "; the last attempt failed: " : "", st->failures > 0 ? st->last_error : "");
		return false;
	}
	if (st->next_try > now && !(run->one && st->failures == 0)) {
		*out_r = OPS_RENEW_NOT_DUE;
		iso_time(st->next_try, t1, sizeof(t1));
		snprintf(detail, size, "next try at %s%s%s", t1, st->last_error[0] != '\0' ? " after: " : "",
			 st->last_error);
		return false;
	}
	return true;
}

static enum ops_renew_outcome renew_one(struct renew_run *run, const char *domain, const char *name,
					char *detail, size_t size)
{
	struct dir_cert_state st;
	enum ops_renew_outcome out = OPS_RENEW_NOT_DUE;
	time_t now = time(NULL);
	bool new_day;
	int here;

	directory_cert_state_get(run->o->dir, name, &st);
	str_copy(st.name, sizeof(st.name), name);
	if (!renew_due(run, domain, &st, &out, detail, size))
		return out;
	new_day = st.day != now / 86400;
	if (new_day) {
		st.day = now / 86400;
		st.orders = 0;
	}
	if (st.orders >= ACME_ORDERS_PER_DAY) {
		snprintf(detail, size, "%u orders today already; tomorrow again", st.orders);
		return OPS_RENEW_LIMITED;
	}
	here = dns_points_here(run->cfg, name, detail, size);
	if (here <= 0) {
		/* the same finding is said again once a day */
		bool repeated = strcmp(st.last_error, detail) == 0 && !new_day;
		if (here < 0)
			return renew_failed(run, domain, &st, detail, detail, size);
		str_copy(st.last_error, sizeof(st.last_error), detail);
		st.next_try = now + 3600;	/* look again in an hour */
		state_save(run, &st);
		if (!repeated || run->force)
			ops_event(run->o, run->actor, "cert-dns-elsewhere", domain, "%s", detail);
		return OPS_RENEW_DNS_ELSEWHERE;
	}
	if (run->acme_state == 0) {
		run->acme_state = acme_init(&run->a, run->o->data, run->cfg) == 0 ? 1 : -1;
		run->a.stop = run->stop;
		if (run->acme_state > 0 && acme_open(&run->a) < 0)
			run->acme_state = -1;
	}
	if (run->acme_state < 0)
		return renew_failed(run, domain, &st, run->a.err, detail, size);
	st.orders++;
	state_save(run, &st);
	if (acme_issue(&run->a, name) < 0)
		return renew_failed(run, domain, &st, run->a.err, detail, size);
	st.failures = 0;
	st.next_try = 0;
	st.last_error[0] = '\0';
	str_copy(st.source, sizeof(st.source), "acme");
	state_save(run, &st);
	snprintf(detail, size, "new certificate installed");
	ops_event(run->o, run->actor, "cert-issued", domain, "%s", name);
	run->issued = true;
	return OPS_RENEW_ISSUED;
}

/* The names a run goes through: (domain, name) pairs. */
struct renew_names {
	char (*names)[2][256];
	size_t n, cap;
};

static void renew_list_cb(const struct ops_cert_info *c, void *ctx)
{
	struct renew_names *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 16 : l->cap * 2;
		void *grown = realloc(l->names, cap * sizeof(*l->names));
		if (grown == NULL)
			return;
		l->names = grown;
		l->cap = cap;
	}
	str_copy(l->names[l->n][0], 256, c->domain);
	str_copy(l->names[l->n++][1], 256, c->name);
}

/* The lock between yubinctl's and the daemon's runs (held until close). */
static int renew_lock(const char *data)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/acme", data);
	fs_mkdir_p(path, 0700);
	snprintf(path, sizeof(path), "%s/acme/lock", data);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int ops_cert_renew(struct ops *o, const struct ops_actor *actor, const struct config *cfg,
		   const char *name, bool force, const atomic_bool *stop, ops_renew_cb *cb, void *ctx,
		   struct ops_error *err)
{
	struct renew_run run = { .o = o, .actor = actor, .cfg = cfg, .force = force, .one = name != NULL,
				 .stop = stop };
	struct renew_names list = { 0 };
	struct ops_renew_result r;
	int fd;

	if (name != NULL) {
		char lower[256];
		str_copy(lower, sizeof(lower), name);
		str_lower(lower);
		list.names = calloc(1, sizeof(*list.names));
		if (list.names == NULL)
			return ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
		if (ops_cert_name_check(o, actor, lower, list.names[0][0], 256, err) < 0) {
			free(list.names);
			return -1;
		}
		str_copy(list.names[0][1], 256, lower);
		list.n = 1;
	} else if (!ops_may_server(actor)) {
		return ops_fail(err, "forbidden", NULL, "only server administrators renew every name",
				"すべての名前の更新はサーバー管理者だけができます");
	} else if (ops_cert_list(o, actor, NULL, renew_list_cb, &list, err) < 0) {
		free(list.names);
		return -1;
	}
	fd = renew_lock(o->data);
	for (size_t i = 0; i < list.n && !(stop != NULL && atomic_load(stop)); i++) {
		memset(&r, 0, sizeof(r));
		str_copy(r.name, sizeof(r.name), list.names[i][1]);
		if (strcmp(cfg->acme, "on") != 0) {
			r.outcome = OPS_RENEW_OFF;
			snprintf(r.detail, sizeof(r.detail), "ACME is off (yubinctl config set %s on)",
				 settings_key(SETTING_CONF_ACME));
		} else {
			r.outcome = renew_one(&run, list.names[i][0], list.names[i][1], r.detail, sizeof(r.detail));
		}
		if (name != NULL)
			ops_audit(o, actor, "cert.renew", r.name, "%s: %s", ops_renew_outcome_name(r.outcome), r.detail);
		if (cb != NULL)
			cb(&r, ctx);
	}
	if (fd >= 0)
		close(fd);
	acme_done(&run.a);
	free(list.names);
	if (run.issued && o->conf_reload != NULL)
		o->conf_reload(o);
	return 0;
}
