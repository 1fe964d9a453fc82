/* The brute-force defence's blocks: lifting one. */
#include "ops/ops.h"
#include "directory/validate.h"
#include "lib/str.h"
#include "policy/foreign.h"

#include <stdio.h>
#include <string.h>

/* IP -> its block key (IPv6: the /64); ADDRESS -> the lowercased address. */
static int ops_block_key(const char *arg, char *key, size_t size, struct ops_error *err)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1], host[64];
	struct net_addr a;
	const char *error, *slash = strchr(arg, '/');

	if (strchr(arg, '@') != NULL) {
		if (validate_address(arg, local, sizeof(local), domain, sizeof(domain), &error) < 0)
			return ops_fail(err, "invalid_address", "address", "'%s' is not a valid address: %s",
					"'%s' は正しいアドレスではありません: %s", arg, error);
		snprintf(key, size, "%s@%s", local, domain);
		return 0;
	}
	if (str_copyn(host, sizeof(host), arg, slash != NULL ? (size_t)(slash - arg) : strlen(arg)) < 0 ||
	    net_addr_parse(host, &a) < 0)
		return ops_fail(err, "invalid_target", "target", "'%s' is neither an IP address nor a mail address",
				"'%s' は IP アドレスでもメールアドレスでもありません", arg);
	net_addr_block_key(&a, key, size);
	return 0;
}

int ops_security_unblock(struct ops *o, const struct ops_actor *actor, const char *what, char *key_r,
			 bool *removed_r, struct ops_error *err)
{
	bool account = strchr(what, '@') != NULL;
	const char *error;
	int r;

	memset(err, 0, sizeof(*err));
	*removed_r = false;
	if (ops_block_key(what, key_r, DIR_ADDRESS_MAX + 1, err) < 0)
		return -1;
	if (account ? ops_actor_role(actor) == OPS_ACTOR_USER || !ops_may_account(actor, key_r, false)
		    : !ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "you may not unblock %s", "%s のブロックを解除する権限がありません",
				key_r);
	r = directory_auth_block_del(o->dir, key_r, &error);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot remove the block: %s", "ブロックを解除できません: %s",
				error);
	if (r == 0)
		return 0;
	*removed_r = true;
	ops_event(o, actor, "auth-unblock", account ? key_r : "", "%s unblocked by %s", key_r, actor->name);
	ops_audit(o, actor, "security.unblock", key_r, "block lifted");
	return 0;
}
