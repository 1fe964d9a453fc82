/* An account's Sieve scripts, for ManageSieve, yubinctl and the API alike:
 * one set of rules (names, the per-account quota, every script compiled
 * before it is stored, the active script kept from deletion), with an
 * event and an audit row for each change. */
#include "ops/ops.h"
#include "proto/managesieve.h"
#include "sieve/sieve.h"
#include "store/maildir.h"
#include "store/sieve_store.h"
#include "lib/str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The account's mailbox into path, after the actor's scope check. */
static int sieve_mailbox(struct ops *o, const struct ops_actor *actor, const char *address, char *path,
			 size_t size, char *canon, size_t csize, struct ops_error *err)
{
	struct dir_account a;

	if (ops_account_get(o, actor, address, &a, err) < 0)
		return -1;
	if (maildir_path(path, size, o->data, a.domain, a.local) < 0)
		return ops_fail(err, "internal", NULL, "mailbox path of %s too long", "%s のメールボックスのパスが長すぎます",
				address);
	str_copy(canon, csize, a.address);
	return 0;
}

static int sieve_name_check(const char *name, struct ops_error *err)
{
	if (!msieve_name_valid(name, strlen(name)))
		return ops_fail(err, "invalid_name", "name",
				"'%s' is not a valid script name: 1 to 128 octets of UTF-8, no control characters"
				" or \"/\"", "'%s' はスクリプト名に使えません: UTF-8 で 1〜128 バイト、制御文字と \"/\" は不可",
				name);
	return 0;
}

static int sieve_store_fail(struct ops_error *err, const char *what, const char *name)
{
	int e = errno;

	return ops_fail(err, "internal", NULL, "cannot %s the script '%s': %s",
			"スクリプトの操作 (%s) に失敗しました: '%s': %s", what, name, strerror(e));
}

int ops_sieve_check(const char *text, size_t len, const struct ops_sieve_limits *lim, struct ops_error *err)
{
	struct sieve_limits sl;
	struct sieve_script *script = NULL;
	struct sieve_error e;

	memset(err, 0, sizeof(*err));
	if (len > lim->max_script)
		return ops_fail(err, "quota_size", "script", "a script may be at most %zu bytes (this one has %zu)",
				"スクリプトは %zu バイトまでです (このスクリプトは %zu バイト)", lim->max_script, len);
	sieve_limits_default(&sl);
	sl.max_script = lim->max_script;
	if (sieve_compile(text, len, &sl, &script, &e) < 0) {
		const char *msg = e.msg;
		unsigned line;
		int skip = 0;

		/* the engine says "line N: ..."; the line goes in err->line */
		if (sscanf(msg, "line %u: %n", &line, &skip) == 1 && skip > 0)
			msg += skip;
		ops_fail(err, "invalid_script", "script", "%s", "%s", msg);
		err->line = e.line;
		return -1;
	}
	sieve_script_free(script);
	return 0;
}

/* The quota check of storing size bytes as name in the mailbox at path. */
static int sieve_space_at(const char *path, const char *name, uint64_t size, const struct ops_sieve_limits *lim,
			  struct ops_error *err)
{
	unsigned count;
	uint64_t bytes;

	if (size > lim->max_script)
		return ops_fail(err, "quota_size", "script", "a script may be at most %zu bytes",
				"スクリプトは %zu バイトまでです", lim->max_script);
	if (sieve_store_usage(path, name, &count, &bytes) < 0)
		return sieve_store_fail(err, "count", name);
	if (count >= lim->max_scripts)
		return ops_fail(err, "quota_count", NULL, "at most %u scripts may be stored: delete one first",
				"保存できるスクリプトは %u 個までです: 先に 1 つ削除してください", lim->max_scripts);
	return 0;
}

int ops_sieve_space(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		    uint64_t size, const struct ops_sieve_limits *lim, struct ops_error *err)
{
	char path[PATH_MAX], canon[DIR_ADDRESS_MAX + 1];

	memset(err, 0, sizeof(*err));
	if (sieve_mailbox(o, actor, address, path, sizeof(path), canon, sizeof(canon), err) < 0 ||
	    sieve_name_check(name, err) < 0)
		return -1;
	return sieve_space_at(path, name, size, lim, err);
}

int ops_sieve_put(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		  const char *text, size_t len, const struct ops_sieve_limits *lim, struct ops_error *err)
{
	char path[PATH_MAX], canon[DIR_ADDRESS_MAX + 1];

	memset(err, 0, sizeof(*err));
	if (sieve_mailbox(o, actor, address, path, sizeof(path), canon, sizeof(canon), err) < 0 ||
	    sieve_name_check(name, err) < 0 || sieve_space_at(path, name, len, lim, err) < 0 ||
	    ops_sieve_check(text, len, lim, err) < 0)
		return -1;
	if (sieve_store_put(path, name, text, len) < 0)
		return sieve_store_fail(err, "store", name);
	ops_event(o, actor, "sieve-changed", canon, "script '%s' stored (%zu bytes)", name, len);
	ops_audit(o, actor, "sieve.put", canon, "%s (%zu bytes)", name, len);
	return 0;
}

int ops_sieve_list(struct ops *o, const struct ops_actor *actor, const char *address, ops_sieve_list_cb *cb,
		   void *ctx, struct ops_error *err)
{
	char path[PATH_MAX], canon[DIR_ADDRESS_MAX + 1];

	memset(err, 0, sizeof(*err));
	if (sieve_mailbox(o, actor, address, path, sizeof(path), canon, sizeof(canon), err) < 0)
		return -1;
	if (sieve_store_list(path, cb, ctx) < 0)
		return sieve_store_fail(err, "list", "*");
	return 0;
}

int ops_sieve_get(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		  char **text_r, size_t *len_r, struct ops_error *err)
{
	char path[PATH_MAX], canon[DIR_ADDRESS_MAX + 1];
	int r;

	memset(err, 0, sizeof(*err));
	*text_r = NULL;
	if (sieve_mailbox(o, actor, address, path, sizeof(path), canon, sizeof(canon), err) < 0 ||
	    sieve_name_check(name, err) < 0)
		return -1;
	r = sieve_store_get(path, name, OPS_SIEVE_SCRIPT_MAX, text_r, len_r);
	if (r < 0)
		return sieve_store_fail(err, "read", name);
	if (r == 0)
		return ops_fail(err, "not_found", "name", "%s has no script '%s'", "%s にスクリプト '%s' はありません",
				canon, name);
	return 0;
}

int ops_sieve_activate(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		       struct ops_error *err)
{
	char path[PATH_MAX], canon[DIR_ADDRESS_MAX + 1];
	int r;

	memset(err, 0, sizeof(*err));
	if (sieve_mailbox(o, actor, address, path, sizeof(path), canon, sizeof(canon), err) < 0 ||
	    (name[0] != '\0' && sieve_name_check(name, err) < 0))
		return -1;
	r = sieve_store_activate(path, name);
	if (r < 0)
		return sieve_store_fail(err, "activate", name);
	if (r == 0)
		return ops_fail(err, "not_found", "name", "%s has no script '%s'", "%s にスクリプト '%s' はありません",
				canon, name);
	if (name[0] != '\0') {
		ops_event(o, actor, "sieve-changed", canon, "script '%s' active", name);
		ops_audit(o, actor, "sieve.activate", canon, "%s", name);
	} else {
		ops_event(o, actor, "sieve-changed", canon, "no script active");
		ops_audit(o, actor, "sieve.deactivate", canon, "none active");
	}
	return 0;
}

int ops_sieve_delete(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		     struct ops_error *err)
{
	char path[PATH_MAX], canon[DIR_ADDRESS_MAX + 1], active[SIEVE_STORE_NAME_MAX + 1] = "";
	int r;

	memset(err, 0, sizeof(*err));
	if (sieve_mailbox(o, actor, address, path, sizeof(path), canon, sizeof(canon), err) < 0 ||
	    sieve_name_check(name, err) < 0)
		return -1;
	if (sieve_store_active(path, active, sizeof(active)) == 1 && strcmp(active, name) == 0)
		return ops_fail(err, "active", "name", "'%s' is the active script: activate another (or none) first",
				"'%s' は有効なスクリプトです: 先に別のスクリプトを有効にする (または無効にする) 必要があります",
				name);
	r = sieve_store_delete(path, name);
	if (r < 0)
		return sieve_store_fail(err, "delete", name);
	if (r == 0)
		return ops_fail(err, "not_found", "name", "%s has no script '%s'", "%s にスクリプト '%s' はありません",
				canon, name);
	ops_event(o, actor, "sieve-changed", canon, "script '%s' deleted", name);
	ops_audit(o, actor, "sieve.delete", canon, "%s", name);
	return 0;
}

int ops_sieve_rename(struct ops *o, const struct ops_actor *actor, const char *address, const char *from,
		     const char *to, struct ops_error *err)
{
	char path[PATH_MAX], canon[DIR_ADDRESS_MAX + 1];
	int r;

	memset(err, 0, sizeof(*err));
	if (sieve_mailbox(o, actor, address, path, sizeof(path), canon, sizeof(canon), err) < 0 ||
	    sieve_name_check(from, err) < 0 || sieve_name_check(to, err) < 0)
		return -1;
	r = sieve_store_rename(path, from, to);
	if (r == -2)
		return ops_fail(err, "exists", "name", "a script '%s' exists", "スクリプト '%s' はすでにあります", to);
	if (r < 0)
		return sieve_store_fail(err, "rename", from);
	if (r == 0)
		return ops_fail(err, "not_found", "name", "%s has no script '%s'", "%s にスクリプト '%s' はありません",
				canon, from);
	ops_event(o, actor, "sieve-changed", canon, "script '%s' renamed to '%s'", from, to);
	ops_audit(o, actor, "sieve.rename", canon, "%s -> %s", from, to);
	return 0;
}
