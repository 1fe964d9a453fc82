#ifndef YUBIN_OPS_OPS_CERT_H
#define YUBIN_OPS_OPS_CERT_H

#include "ops/ops.h"
#include "lib/config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Certificates for every mail host name (issue 15 §1): which names a
 * domain has, what certificate each has (DATA/tls/NAME.crt + NAME.key),
 * importing an administrator's own, and getting or renewing one from an
 * ACME CA (ops_acme.c). For yubinctl cert and /api/v1/certs alike; the
 * daemon's renewal thread (server/certs.c) calls ops_cert_renew too. */

#define OPS_CERT_PEM_MAX (64 * 1024)

struct ops_cert_info {
	char name[256], domain[256];
	char source[16];	/* "acme", "imported" */
	bool present;		/* DATA/tls/NAME.crt exists and parses */
	bool covers;		/* ... and covers name */
	bool self_signed;	/* (yubinctl init's): replaced by ACME at once */
	int64_t not_before, not_after, renew_at;
	char issuer[256];
	char sans[1024];	/* its DNS names, comma-separated */
	unsigned failures;
	int64_t next_try;
	char last_error[512];
};

typedef void ops_cert_cb(const struct ops_cert_info *c, void *ctx);

/* Every host name of the domains in the actor's scope (domain NULL: all),
 * mail., autoconfig., mta-sts. and the added ones, with its certificate. */
int ops_cert_list(struct ops *o, const struct ops_actor *actor, const char *domain, ops_cert_cb *cb,
		  void *ctx, struct ops_error *err);
/* One host name (which must be one of a hosted domain's). */
int ops_cert_show(struct ops *o, const struct ops_actor *actor, const char *name,
		  struct ops_cert_info *info_r, struct ops_error *err);
/* Installs an administrator's certificate chain and key (PEM) for name,
 * after checking that the key matches, the chain verifies as far as it
 * goes, name is covered and it is valid now. The ACME client leaves the
 * name alone from then on, until `renew --force`. */
int ops_cert_import(struct ops *o, const struct ops_actor *actor, const char *name, const char *cert_pem,
		    const char *key_pem, struct ops_error *err);
/* Adds or removes a host name of a domain (server actors and the domain's
 * administrators). */
int ops_hostname_add(struct ops *o, const struct ops_actor *actor, const char *domain, const char *name,
		     struct ops_error *err);
int ops_hostname_del(struct ops *o, const struct ops_actor *actor, const char *name, struct ops_error *err);
/* Removes what a host name's certificate left behind: DATA/tls/NAME.crt
 * and .key and its renewal state (the name is no longer served). */
void ops_cert_forget(struct ops *o, const char *name);

/* What ops_cert_renew did for one name. */
enum ops_renew_outcome {
	OPS_RENEW_ISSUED,	/* a new certificate is installed */
	OPS_RENEW_NOT_DUE,	/* valid for long enough (or backing off) */
	OPS_RENEW_IMPORTED,	/* the administrator's own: left alone */
	OPS_RENEW_DNS_ELSEWHERE,	/* its DNS does not point here: not ordered */
	OPS_RENEW_LIMITED,	/* the day's orders for the name are used up */
	OPS_RENEW_FAILED,	/* the order failed; the old certificate stays */
	OPS_RENEW_OFF,		/* acme is off */
};

struct ops_renew_result {
	char name[256];
	enum ops_renew_outcome outcome;
	char detail[512];
};

typedef void ops_renew_cb(const struct ops_renew_result *r, void *ctx);

/* Gets or renews certificates through ACME: name, or every host name that
 * is due when name is NULL. force: order now even if not due, backing off
 * or imported (never past the day's limit). stop (NULL: none): the
 * daemon is stopping, the run gives up at its next request. The settings come from cfg
 * (acme.*, dns.resolver); the runs of yubinctl and the daemon exclude
 * each other (a lock file). Calls o->conf_reload after installing
 * anything. Events: cert-issued, cert-failed, cert-dns-elsewhere. */
int ops_cert_renew(struct ops *o, const struct ops_actor *actor, const struct config *cfg,
		   const char *name, bool force, const atomic_bool *stop, ops_renew_cb *cb, void *ctx,
		   struct ops_error *err);
/* The host names of one domain's defaults ("mail", "autoconfig",
 * "mta-sts"), in that order. */
extern const char *const ops_cert_default_labels[3];
const char *ops_renew_outcome_name(enum ops_renew_outcome o);

/* The hosted domain name (lower case) belongs to, into domain_r, after
 * the actor's scope check. */
int ops_cert_name_check(struct ops *o, const struct ops_actor *actor, const char *name, char *domain_r,
			size_t size, struct ops_error *err);

/* Reads a PEM certificate into info (not_before, not_after, issuer, sans,
 * covers name). 0, or -1 when it does not parse. */
int ops_cert_read(const char *pem, size_t len, const char *name, struct ops_cert_info *info);

#endif
