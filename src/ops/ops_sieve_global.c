/* The server's global Sieve scripts (RFC 6609 include :global):
 * DATA/sieve/NAME.sieve, written by the server administrator, read by
 * every account's scripts through `include :global "NAME"`. Stored like
 * an account's scripts (store/sieve_store.c: durable writes, the same
 * names) and compiled before they are stored; no quota but the script
 * size, no active one. */
#include "ops/ops.h"
#include "proto/managesieve.h"
#include "store/sieve_store.h"
#include "lib/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int global_allowed(const struct ops_actor *actor, const char *name, struct ops_error *err)
{
	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "only the server administrator manages global Sieve scripts",
				"グローバル Sieve スクリプトを管理できるのはサーバー管理者だけです");
	if (name != NULL && !msieve_name_valid(name, strlen(name)))
		return ops_fail(err, "invalid_name", "name",
				"'%s' is not a valid script name: 1 to 128 octets of UTF-8, no control characters"
				" or \"/\"", "'%s' はスクリプト名に使えません: UTF-8 で 1〜128 バイト、制御文字と \"/\" は不可",
				name);
	return 0;
}

static int global_fail(struct ops_error *err, const char *what, const char *name)
{
	int e = errno;

	return ops_fail(err, "internal", NULL, "cannot %s the global script '%s': %s",
			"グローバルスクリプトの操作 (%s) に失敗しました: '%s': %s", what, name, strerror(e));
}

int ops_sieve_global_list(struct ops *o, const struct ops_actor *actor, ops_sieve_list_cb *cb, void *ctx,
			  struct ops_error *err)
{
	if (global_allowed(actor, NULL, err) < 0)
		return -1;
	if (sieve_store_list(o->data, cb, ctx) < 0 && errno != ENOENT)
		return global_fail(err, "list", "*");
	return 0;
}

int ops_sieve_global_get(struct ops *o, const struct ops_actor *actor, const char *name, char **text_r,
			 size_t *len_r, struct ops_error *err)
{
	int r;

	*text_r = NULL;
	if (global_allowed(actor, name, err) < 0)
		return -1;
	r = sieve_store_get(o->data, name, OPS_SIEVE_SCRIPT_MAX, text_r, len_r);
	if (r < 0)
		return global_fail(err, "read", name);
	if (r == 0)
		return ops_fail(err, "not_found", "name", "there is no global script '%s'",
				"グローバルスクリプト '%s' はありません", name);
	return 0;
}

int ops_sieve_global_put(struct ops *o, const struct ops_actor *actor, const char *name, const char *text,
			 size_t len, const struct ops_sieve_limits *lim, struct ops_error *err)
{
	if (global_allowed(actor, name, err) < 0 || ops_sieve_check(text, len, lim, err) < 0)
		return -1;
	if (sieve_store_put(o->data, name, text, len) < 0)
		return global_fail(err, "store", name);
	ops_event(o, actor, "sieve-changed", NULL, "global script '%s' stored (%zu bytes)", name, len);
	ops_audit(o, actor, "sieve.global.put", name, "%zu bytes", len);
	return 0;
}

int ops_sieve_global_delete(struct ops *o, const struct ops_actor *actor, const char *name, struct ops_error *err)
{
	int r;

	if (global_allowed(actor, name, err) < 0)
		return -1;
	r = sieve_store_delete(o->data, name);
	if (r < 0)
		return global_fail(err, "delete", name);
	if (r == 0)
		return ops_fail(err, "not_found", "name", "there is no global script '%s'",
				"グローバルスクリプト '%s' はありません", name);
	ops_event(o, actor, "sieve-changed", NULL, "global script '%s' deleted", name);
	ops_audit(o, actor, "sieve.global.delete", name, "deleted");
	return 0;
}
