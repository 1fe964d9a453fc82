/* What the web server's JSON API needs from the daemon on a worker
 * thread: the thread's directory handle, the data directory, the session
 * settings of the moment and the mail login check (brute-force defence and
 * the foreign-access restriction of server/auth.c). */
#include "server/web.h"
#include "server/auth.h"
#include "server/proxy.h"
#include "http/http_forward.h"
#include "lib/log.h"
#include "server/queue.h"
#include "server/server.h"
#include "server/certs.h"
#include "lib/str.h"
#include "server/stats.h"
#include "server/spam_learn.h"
#include "ops/ops_mail.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void web_login_refused(void)
{
	stats_auth_failed("web");
}

static void web_login_check(void *ctx, const char *address, const char *password, const char *ip,
			    const char *service, struct ops_login_result *r)
{
	struct auth_request req;
	struct auth_result res;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	str_copy(req.user, sizeof(req.user), address);
	str_copy(req.password, sizeof(req.password), password);
	str_copy(req.ip, sizeof(req.ip), ip);
	str_copy(req.service, sizeof(req.service), service);
	auth_check_now(&req, &res, &r->delay_ms);
	auth_request_wipe(&req);
	r->code = res.code == AUTH_OK && res.ok ? OPS_LOGIN_OK
		  : res.code == AUTH_FOREIGN ? OPS_LOGIN_FOREIGN
		  : res.code == AUTH_BLOCKED ? OPS_LOGIN_BLOCKED
		  : res.code == AUTH_TEMPFAIL ? OPS_LOGIN_TEMPFAIL : OPS_LOGIN_FAILED;
	str_copy(r->address, sizeof(r->address), res.address);
	str_copy(r->text, sizeof(r->text), res.text);
}

/* A retry from the API: the scheduler looks at the queue now. */
static bool web_queue_wake(const struct ops *o)
{
	(void)o;
	queue_wake();
	return true;
}

/* A server setting changed through the API: what SIGHUP does, from
 * within the daemon. */
static bool web_conf_reload(const struct ops *o)
{
	(void)o;
	server_reload();
	queue_wake();	/* settings such as the relay host may have changed */
	return true;
}

static bool web_certs_reload(const struct ops *o)
{
	(void)o;
	return server_tls_reload() == 0;
}

/* The webmail's moves into and out of Junk learn as IMAP's do. */
static void *web_learn_begin(const char *address, const char *src, const char *src_use, const char *dst,
			     const char *dst_use)
{
	int direction = spam_learn_direction(src, src_use, dst, dst_use);

	return direction != 0 ? spam_learn_new("web", address, direction) : NULL;
}

static int web_learn_add(void *batch, const char *path)
{
	return spam_learn_add(batch, path);
}

static void web_learn_drop(void *batch, int i)
{
	spam_learn_drop(batch, i);
}

static void web_learn_submit(void *batch)
{
	spam_learn_submit(batch);
}

static const struct ops_mail_learn web_mail_learn = {
	web_learn_begin, web_learn_add, web_learn_drop, web_learn_submit,
};

/* HOST:PORT (or [V6]:PORT) into a numeric host and a port. */
static int web_node_resolve(const char *hostport, struct http_forward_target *t)
{
	char host[DIR_NODE_ADDR_MAX + 1], *colon;
	struct addrinfo hints, *res = NULL;
	const char *name;
	int r;

	str_copy(host, sizeof(host), hostport);
	colon = strrchr(host, ':');
	if (colon == NULL)
		return -1;
	*colon = '\0';
	name = host;
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		name = host + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	r = getaddrinfo(name, colon + 1, &hints, &res);
	if (r != 0 || res == NULL ||
	    getnameinfo(res->ai_addr, res->ai_addrlen, t->host, sizeof(t->host), NULL, 0, NI_NUMERICHOST) != 0) {
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	t->port = (unsigned)strtoul(colon + 1, NULL, 10);
	t->ssl = proxy_tls_new(name, proxy_tls_is_on());
	return t->ssl != NULL ? 0 : -1;
}

/* server.role = proxy: the home node of address, for its web requests. */
static int web_forward_target(const char *address, struct http_forward_target *t)
{
	char addr[DIR_NODE_ADDR_MAX + 1], why[160];
	struct config cfg;
	int r;

	r = proxy_node_find(server_directory(), address, PROXY_HTTP, t->node, sizeof(t->node), addr, sizeof(addr),
			    why, sizeof(why));
	if (r == 0)
		return 0;	/* no such account: the route answers */
	if (r > 0 && web_node_resolve(addr, t) < 0) {
		snprintf(why, sizeof(why), "node %s: %s is not a usable HTTPS address", t->node, addr);
		r = -1;
	}
	if (r < 0) {
		log_warn(NULL, "api: the web requests of %s cannot go on: %s", address, why);
		return -1;
	}
	server_config(&cfg);
	str_copy(t->secret, sizeof(t->secret), cfg.proxy_secret);
	explicit_bzero(&cfg, sizeof(cfg));
	proxy_source_address(t->source, sizeof(t->source));
	return 1;
}

static bool web_proxy_is_trusted(const char *ip, const char *secret)
{
	return proxy_peer_is_trusted(ip) && proxy_secret_is(secret);
}

void web_api_env(struct http_api_env *env)
{
	struct config cfg;

	server_config(&cfg);
	memset(env, 0, sizeof(*env));
	env->dir = server_directory();
	env->data_dir = server->data_dir;
	env->session_idle = cfg.http_session_idle;
	env->session_lifetime = cfg.http_session_lifetime;
	env->login_check = web_login_check;
	env->login_refused = web_login_refused;
	env->admin_blocked = auth_admin_blocked;
	env->admin_failed = auth_admin_failed;
	env->queue_wake = web_queue_wake;
	env->conf_reload = web_conf_reload;
	env->certs_reload = web_certs_reload;
	env->certs_renew = certs_renew_request;
	env->mail_learn = &web_mail_learn;
	env->mail_submit = web_mail_submit;
	env->max_message_size = cfg.smtp_max_message_size;
	str_copy(env->hostname, sizeof(env->hostname), cfg.hostname);
	str_copy(env->dns_resolver, sizeof(env->dns_resolver), cfg.dns_resolver);
	env->sieve_max_script = (size_t)cfg.sieve_max_script_size;
	env->sieve_max_scripts = cfg.sieve_max_scripts;
	if (strcmp(cfg.role, "proxy") == 0)
		env->forward_target = web_forward_target;
	env->proxy_is_trusted = web_proxy_is_trusted;
	explicit_bzero(&cfg, sizeof(cfg));
}
