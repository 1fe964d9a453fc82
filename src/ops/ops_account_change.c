/* Changes to an existing account: password, quota, memo, enable/disable,
 * unsuspend, delete. */
#include "ops/ops.h"
#include "store/journal.h"
#include "directory/password.h"
#include "directory/validate.h"
#include "lib/fsutil.h"
#include "lib/str.h"
#include "store/maildir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int ops_forbidden(struct ops_error *err, const char *target)
{
	return ops_fail(err, "forbidden", NULL, "you may not change %s",
			"%s を変更する権限がありません", target);
}

/* For operations a mail user may not do even to itself. */
static int ops_admin_get(struct ops *o, const struct ops_actor *actor, const char *address,
			 struct dir_account *a, struct ops_error *err)
{
	if (ops_actor_role(actor) == OPS_ACTOR_USER)
		return ops_forbidden(err, address);
	return ops_account_get(o, actor, address, a, err);
}

/* A mail user's own password change proves the current one. */
static int ops_current_check(struct ops *o, const char *address, const char *current,
			     struct ops_error *err)
{
	char hash[DIR_HASH_MAX];
	struct dir_account a;
	bool ok;

	if (current == NULL || current[0] == '\0')
		return ops_fail(err, "current_password_required", "current_password",
				"give the current password", "現在のパスワードを入力してください");
	if (password_init() < 0 ||
	    directory_account_get_auth(o->dir, address, &a, hash, sizeof(hash)) <= 0)
		return ops_fail(err, "internal", NULL, "cannot read the account %s", "アカウント %s を読めません",
				address);
	ok = password_verify(hash, current);
	explicit_bzero(hash, sizeof(hash));
	if (!ok)
		return ops_fail(err, "wrong_password", "current_password", "the current password is wrong",
				"現在のパスワードが違います");
	return 0;
}

int ops_account_passwd(struct ops *o, const struct ops_actor *actor, const char *address,
		       const char *current, const char *password, bool *lifted_r, struct ops_error *err)
{
	char hash[DIR_HASH_MAX];
	struct dir_account a;
	const char *error;
	int r;

	memset(err, 0, sizeof(*err));
	*lifted_r = false;
	if (ops_account_get(o, actor, address, &a, err) < 0)
		return -1;
	if (ops_actor_role(actor) == OPS_ACTOR_USER && ops_current_check(o, a.address, current, err) < 0)
		return -1;
	if (validate_password(password, a.address, &error) < 0)
		return ops_fail(err, "invalid_password", "password", "password refused: %s",
				"このパスワードは使えません: %s", error);
	if (password_init() < 0 || password_hash(password, hash, sizeof(hash)) < 0)
		return ops_fail(err, "internal", NULL, "cannot hash the password (out of memory?)",
				"パスワードをハッシュできません (メモリ不足?)");
	/* The new password and the end of every other session of the account
	 * (the actor's own, when it is this user's, stays) in one transaction. */
	r = directory_begin(o->dir);
	if (r == 0)
		r = directory_account_set_password(o->dir, a.address, hash, &error);
	else
		error = "database busy";
	if (r == 0 && directory_session_revoke(o->dir, true, a.address, actor->session) < 0)
		r = -1, error = "cannot end the sessions";
	if (r == 0 && directory_commit(o->dir) < 0)
		r = -1, error = "commit failed";
	if (r < 0)
		directory_rollback(o->dir);
	explicit_bzero(hash, sizeof(hash));
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot change the password of %s: %s",
				"%s のパスワードを変更できません: %s", a.address, error);
	ops_event(o, actor, "password-changed", a.address, "password set by %s", actor->name);
	ops_audit(o, actor, "account.passwd", a.address, "password changed");
	/* A new password ends a suspension for a compromised account. */
	if (directory_hold_lift(o->dir, a.address, "password change", &error) > 0) {
		*lifted_r = true;
		ops_event(o, actor, "send-unsuspended", a.address, "sending allowed again (%s)",
			  "password change");
	}
	return 0;
}

int ops_account_quota(struct ops *o, const struct ops_actor *actor, const char *address,
		      unsigned quota_mb, unsigned *old_r, struct ops_error *err)
{
	struct dir_account a;
	const char *error;

	memset(err, 0, sizeof(*err));
	if (validate_quota(quota_mb, &error) < 0)
		return ops_fail(err, "invalid_quota", "quota", "%s, not %u",
				"%.0s容量は 1 から 5000 MB までです (%u は不可)", error, quota_mb);
	if (ops_admin_get(o, actor, address, &a, err) < 0)
		return -1;
	if (directory_account_set_quota(o->dir, a.address, quota_mb, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot change the quota of %s: %s",
				"%s の容量を変更できません: %s", a.address, error);
	*old_r = a.quota_mb;
	ops_event(o, actor, "quota-changed", a.address, "%u MB -> %u MB", a.quota_mb, quota_mb);
	ops_audit(o, actor, "account.quota", a.address, "quota %u MB -> %u MB", a.quota_mb, quota_mb);
	return 0;
}

int ops_account_memo(struct ops *o, const struct ops_actor *actor, const char *address,
		     const char *memo, struct ops_error *err)
{
	struct dir_account a;
	const char *error;

	memset(err, 0, sizeof(*err));
	if (ops_memo_check(memo, err) < 0 || ops_admin_get(o, actor, address, &a, err) < 0)
		return -1;
	if (directory_account_set_memo(o->dir, a.address, memo, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot change the memo of %s: %s",
				"%s のメモを変更できません: %s", a.address, error);
	ops_event(o, actor, "memo-changed", a.address, "%s", memo);
	ops_audit(o, actor, "account.memo", a.address, "memo: %s", memo);
	return 0;
}

int ops_account_enable(struct ops *o, const struct ops_actor *actor, const char *address,
		       bool enabled, bool *changed_r, struct ops_error *err)
{
	struct dir_account a;
	const char *error;

	memset(err, 0, sizeof(*err));
	*changed_r = false;
	if (ops_admin_get(o, actor, address, &a, err) < 0)
		return -1;
	if (a.enabled == enabled)
		return 0;
	if (directory_account_set_enabled(o->dir, a.address, enabled, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot %s %s: %s", "%.0s%s の状態を変更できません: %s",
				enabled ? "enable" : "disable", a.address, error);
	*changed_r = true;
	ops_event(o, actor, enabled ? "account-enabled" : "account-disabled", a.address, "by %s",
		  actor->name);
	ops_audit(o, actor, enabled ? "account.enable" : "account.disable", a.address, "%s",
		  enabled ? "account enabled" : "account disabled");
	return 0;
}

int ops_account_unsuspend(struct ops *o, const struct ops_actor *actor, const char *address,
			  bool *lifted_r, struct ops_error *err)
{
	struct dir_account a;
	const char *error;
	int r;

	memset(err, 0, sizeof(*err));
	*lifted_r = false;
	if (ops_admin_get(o, actor, address, &a, err) < 0)
		return -1;
	r = directory_hold_lift(o->dir, a.address, "yubinctl account unsuspend", &error);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "could not lift the sending suspension of %s: %s",
				"%s の送信停止を解除できません: %s", a.address, error);
	if (r == 0)
		return 0;
	*lifted_r = true;
	ops_event(o, actor, "send-unsuspended", a.address, "sending allowed again (%s)",
		  "yubinctl account unsuspend");
	ops_audit(o, actor, "account.unsuspend", a.address, "sending suspension lifted");
	return 0;
}

/* An account with a home node (scale-out): its row and the request to
 * that node to delete the mailbox, in one transaction; the mailbox is
 * the node's to remove (server/node_purge.c), wherever this runs. */
static int ops_account_del_remote(struct ops *o, const struct dir_account *a, const char *node,
				  const char **error_r)
{
	if (directory_begin(o->dir) < 0) {
		*error_r = "database busy";
		return -1;
	}
	if (directory_account_del(o->dir, a->address, error_r) < 0 ||
	    directory_mailbox_deletion_add(o->dir, a->address, node, error_r) < 0) {
		directory_rollback(o->dir);
		return -1;
	}
	if (directory_commit(o->dir) < 0) {
		directory_rollback(o->dir);
		*error_r = "commit failed";
		return -1;
	}
	return 0;
}

int ops_account_del(struct ops *o, const struct ops_actor *actor, const char *address,
		    struct ops_del_result *res, struct ops_error *err)
{
	struct dir_account a;
	const char *error;
	struct stat st;

	memset(err, 0, sizeof(*err));
	memset(res, 0, sizeof(*res));
	if (ops_admin_get(o, actor, address, &a, err) < 0)
		return -1;
	if (directory_account_node(o->dir, a.address, res->node, sizeof(res->node)) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the home node of %s",
				"%s のノードを読めません", a.address);
	if (res->node[0] != '\0') {
		if (ops_account_del_remote(o, &a, res->node, &error) < 0)
			return ops_fail(err, "internal", NULL, "cannot delete %s: %s", "%s を削除できません: %s",
					a.address, error);
		(void)directory_setting_clear(o->dir, "account", a.address, &error);
		(void)directory_session_revoke(o->dir, true, a.address, NULL);
		ops_event(o, actor, "account-deleted", a.address, "its mailbox is deleted by its node %s", res->node);
		ops_audit(o, actor, "account.del", a.address, "deleted; the mailbox by node %s", res->node);
		return 0;
	}
	if (maildir_path(res->path, sizeof(res->path), o->data, a.domain, a.local) < 0)
		return ops_fail(err, "internal", NULL, "the mailbox path for %s is too long",
				"%s のメールボックスのパスが長すぎます", a.address);
	if (stat(res->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		res->mailbox_present = true;
		(void)maildir_usage(res->path, &res->bytes, &res->messages);
	}
	if (directory_account_del(o->dir, a.address, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot delete %s: %s", "%s を削除できません: %s",
				a.address, error);
	(void)directory_setting_clear(o->dir, "account", a.address, &error);
	(void)directory_session_revoke(o->dir, true, a.address, NULL);
	if (res->mailbox_present)
		journal_wait_all();	/* no replay into a mailbox made again */
	if (res->mailbox_present && fs_remove_tree(res->path) < 0) {
		res->mailbox_left = true;
		ops_event(o, actor, "account-deleted", a.address, "mailbox %s could not be fully removed",
			  res->path);
	} else {
		ops_event(o, actor, "account-deleted", a.address, "with its mailbox (%llu message%s)",
			  (unsigned long long)res->messages, res->messages == 1 ? "" : "s");
	}
	ops_audit(o, actor, "account.del", a.address, "deleted with its mailbox (%llu messages%s)",
		  (unsigned long long)res->messages, res->mailbox_left ? ", not fully removed" : "");
	return 0;
}
