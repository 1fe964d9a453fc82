/* A mail node's side of the proxy tier: which peers are proxies, the
 * client address they pass on, and their logins on behalf of a user. */
#include "server/proxy.h"
#include "server/conn.h"
#include "directory/directory.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"
#include "policy/foreign.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool proxy_peer_is_trusted(const char *ip)
{
	struct net_addr a;
	bool trusted;

	if (net_addr_parse(ip, &a) < 0)
		return false;
	pthread_rwlock_rdlock(&server->lock);
	trusted = server->cfg.proxy_trusted[0] != '\0' && net_cidr_list_match(server->cfg.proxy_trusted, &a);
	pthread_rwlock_unlock(&server->lock);
	return trusted;
}

int proxy_client_address(struct conn *c, const char *ip)
{
	struct net_addr a;

	if (!c->proxy_peer || c->via[0] != '\0' || strlen(ip) >= sizeof(c->ip) || net_addr_parse(ip, &a) < 0)
		return -1;
	str_copy(c->via, sizeof(c->via), c->ip);
	str_copy(c->ip, sizeof(c->ip), ip);
	log_info(c->sid, "proxy: client %s via proxy %s", c->ip, c->via);
	return 0;
}

int proxy_account_is_here(struct directory *dir, const char *address, char *node_r, size_t size)
{
	char self[sizeof(server->cfg.node_name)];
	int r;

	node_r[0] = '\0';
	pthread_rwlock_rdlock(&server->lock);
	str_copy(self, sizeof(self), server->cfg.node_name);
	pthread_rwlock_unlock(&server->lock);
	if (self[0] == '\0')
		return 1;
	r = directory_account_node(dir, address, node_r, size);
	if (r < 0)
		return -1;
	return r > 0 && strcmp(node_r, self) == 0 ? 1 : 0;
}

/* An account move's login on its target: 1 when the account is being
 * moved to this node, 0 not, -1 directory error. */
static int proxy_move_is_to_here(struct directory *dir, const char *address)
{
	char self[sizeof(server->cfg.node_name)], moving[DIR_NODE_NAME_MAX + 1];

	pthread_rwlock_rdlock(&server->lock);
	str_copy(self, sizeof(self), server->cfg.node_name);
	pthread_rwlock_unlock(&server->lock);
	if (directory_account_moving(dir, address, moving, sizeof(moving)) < 0)
		return -1;
	return self[0] != '\0' && strcmp(moving, self) == 0 ? 1 : 0;
}

struct proxy_login {
	char authcid[320];
	const struct auth_request *req;
	struct auth_result *res;
	void (*done)(void *ctx);
	void *ctx;
};

/* Equal lengths and bytes, in time independent of where they differ. */
static bool proxy_secret_equal(const char *a, const char *b)
{
	unsigned char ha[32], hb[32];

	crypto_generichash(ha, sizeof(ha), (const unsigned char *)a, strlen(a), NULL, 0);
	crypto_generichash(hb, sizeof(hb), (const unsigned char *)b, strlen(b), NULL, 0);
	return sodium_memcmp(ha, hb, sizeof(ha)) == 0;
}

bool proxy_secret_is(const char *secret)
{
	char want[sizeof(server->cfg.proxy_secret)];
	bool ok;

	pthread_rwlock_rdlock(&server->lock);
	str_copy(want, sizeof(want), server->cfg.proxy_secret);
	pthread_rwlock_unlock(&server->lock);
	ok = want[0] != '\0' && proxy_secret_equal(secret, want);
	explicit_bzero(want, sizeof(want));
	return ok;
}

static void proxy_login_refuse(struct proxy_login *l, enum auth_code code, const char *reason)
{
	l->res->ok = false;
	l->res->code = code;
	str_copy(l->res->reason, sizeof(l->res->reason), reason);
	if (code == AUTH_TEMPFAIL)
		str_copy(l->res->text, sizeof(l->res->text), "Temporary authentication failure");
}

static void proxy_login_run(void *ctx)
{
	struct proxy_login *l = ctx;
	struct directory *dir = server_directory();
	struct dir_account acct;
	char user[64], secret[256], home[DIR_NODE_NAME_MAX + 1] = "", detail[256];
	bool ok;
	int r;

	pthread_rwlock_rdlock(&server->lock);
	str_copy(user, sizeof(user), server->cfg.proxy_user);
	str_copy(secret, sizeof(secret), server->cfg.proxy_secret);
	pthread_rwlock_unlock(&server->lock);
	ok = secret[0] != '\0' && strcmp(l->authcid, user) == 0 && proxy_secret_equal(l->req->password, secret);
	explicit_bzero(secret, sizeof(secret));
	if (!ok) {
		proxy_login_refuse(l, AUTH_FAILED, "wrong proxy credentials");
		log_warn(NULL, "proxy: %s login for %s from %s refused: wrong proxy credentials",
			 l->req->service, l->req->user, l->req->ip);
		return;
	}
	if (dir == NULL) {
		proxy_login_refuse(l, AUTH_TEMPFAIL, "directory unavailable");
		return;
	}
	r = directory_account_get(dir, l->req->user, &acct);
	if (r < 0) {
		proxy_login_refuse(l, AUTH_TEMPFAIL, "directory error");
		return;
	}
	if (r == 0 || !acct.enabled) {
		proxy_login_refuse(l, AUTH_FAILED, r == 0 ? "unknown user" : "account disabled");
		return;
	}
	r = proxy_account_is_here(dir, acct.address, home, sizeof(home));
	if (r == 0 && l->req->mover)
		r = proxy_move_is_to_here(dir, acct.address);
	if (r <= 0) {
		/* another node's mailbox: never open an empty one here */
		proxy_login_refuse(l, AUTH_TEMPFAIL, r < 0 ? "directory error" : "account on another node");
		if (r == 0)
			log_warn(NULL, "proxy: %s is on node '%s', not on this node", acct.address, home);
		return;
	}
	l->res->ok = true;
	l->res->code = AUTH_OK;
	str_copy(l->res->address, sizeof(l->res->address), acct.address);
	snprintf(detail, sizeof(detail), "%s login from %s through a proxy", l->req->service, l->req->ip);
	directory_event_add(dir, "auth-ok", acct.address, l->req->ip, detail);
}

static void proxy_login_done(void *ctx)
{
	struct proxy_login *l = ctx;

	l->done(l->ctx);
	explicit_bzero(l, sizeof(*l));
	free(l);
}

void proxy_login_submit(struct loop *loop, const char *authcid, const struct auth_request *req,
			struct auth_result *res, void (*done)(void *ctx), void *ctx)
{
	struct proxy_login *l = calloc(1, sizeof(*l));

	if (l == NULL)
		log_fatal("proxy: out of memory");
	str_copy(l->authcid, sizeof(l->authcid), authcid);
	l->req = req;
	l->res = res;
	l->done = done;
	l->ctx = ctx;
	worker_pool_submit(server->workers, loop->base, proxy_login_run, proxy_login_done, l);
}
