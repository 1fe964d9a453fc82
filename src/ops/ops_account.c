/* Account operations: add (one or a bulk file), password, quota, memo,
 * enable/disable, unsuspend, delete. */
#include "ops/ops.h"
#include "directory/password.h"
#include "directory/validate.h"
#include "lib/fsutil.h"
#include "lib/str.h"
#include "settings/settings.h"
#include "store/maildir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MEMO_MAX (sizeof(((struct dir_account *)0)->memo) - 1)

int ops_quota_parse(const char *text, unsigned *mb_r, struct ops_error *err)
{
	uint64_t mb;
	const char *error;

	if (str_parse_uint(text, UINT32_MAX, &mb) < 0)
		return ops_fail(err, "invalid_quota", "quota",
				"the mailbox size must be a whole number of MB from %d to %d, not '%s'",
				"メールボックスの容量は %d から %d までの整数 (MB) で指定してください ('%s' は不可)",
				DIR_QUOTA_MIN_MB, DIR_QUOTA_MAX_MB, text);
	if (validate_quota((unsigned long)mb, &error) < 0)
		return ops_fail(err, "invalid_quota", "quota", "%s, not %s",
				"%.0s容量は 1 から 5000 MB までの整数で指定してください (%s は不可)", error, text);
	*mb_r = (unsigned)mb;
	return 0;
}

int ops_memo_check(const char *memo, struct ops_error *err)
{
	if (strlen(memo) > MEMO_MAX)
		return ops_fail(err, "invalid_memo", settings_key(SETTING_MEMO), "the memo is too long (at most %zu bytes)",
				"メモが長すぎます (最大 %zu バイト)", MEMO_MAX);
	for (const unsigned char *p = (const unsigned char *)memo; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return ops_fail(err, "invalid_memo", settings_key(SETTING_MEMO),
					"the memo must be one line without control characters",
					"メモは制御文字を含まない 1 行にしてください");
	}
	return 0;
}

static int ops_forbidden(struct ops_error *err, const char *target)
{
	return ops_fail(err, "forbidden", NULL, "you may not change %s",
			"%s を変更する権限がありません", target);
}

int ops_account_get(struct ops *o, const struct ops_actor *actor, const char *address,
		    struct dir_account *a, struct ops_error *err)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1];
	const char *error;
	int r;

	if (validate_address(address, local, sizeof(local), domain, sizeof(domain), &error) < 0)
		return ops_fail(err, "invalid_address", "address", "'%s' is not a valid address: %s",
				"'%s' は正しいアドレスではありません: %s", address, error);
	/* Out of scope reads as forbidden whether or not it exists. */
	if (!ops_may_account(actor, address, true))
		return ops_forbidden(err, address);
	r = directory_account_get(o->dir, address, a);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the account %s from the database",
				"アカウント %s をデータベースから読めません", address);
	if (r == 0)
		return ops_fail(err, "not_found", "address",
				"no such account: %s (yubinctl account list %s shows the accounts of"
				" that domain)", "アカウント %s はありません (%s のアカウント一覧で確認できます)",
				address, domain);
	return 0;
}

/* Checks one new account before anything is written; the canonical
 * address into address_r. */
static int ops_account_check(struct ops *o, const struct ops_actor *actor,
			     const struct ops_account_new *n, char *address_r, size_t size,
			     struct ops_error *err)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1];
	const char *error;
	struct dir_account a;
	int r;

	if (validate_address(n->address, local, sizeof(local), domain, sizeof(domain), &error) < 0)
		return ops_fail(err, "invalid_address", "address", "'%s' is not a valid address: %s",
				"'%s' は正しいアドレスではありません: %s", n->address, error);
	snprintf(address_r, size, "%s@%s", local, domain);
	if (ops_actor_role(actor) == OPS_ACTOR_USER || !ops_may_domain(actor, domain))
		return ops_forbidden(err, domain);
	if (n->quota_mb != 0 && validate_quota(n->quota_mb, &error) < 0)
		return ops_fail(err, "invalid_quota", "quota", "%s, not %u",
				"%.0s容量は 1 から 5000 MB までです (%u は不可)", error, n->quota_mb);
	if (ops_memo_check(n->memo != NULL ? n->memo : "", err) < 0)
		return -1;
	r = directory_domain_exists(o->dir, domain);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the domain %s from the database",
				"ドメイン %s をデータベースから読めません", domain);
	if (r == 0)
		return ops_fail(err, "not_found", "domain",
				"the domain does not exist: add it first with yubinctl domain add %s",
				"ドメイン %s はありません: 先に追加してください", domain);
	if (directory_account_get(o->dir, address_r, &a) > 0)
		return ops_fail(err, "exists", "address", "the account %s already exists",
				"アカウント %s は既にあります", address_r);
	if (validate_password(n->password, address_r, &error) < 0)
		return ops_fail(err, "invalid_password", "password", "password refused: %s",
				"このパスワードは使えません: %s", error);
	return 0;
}

/* The slow hash, done before any transaction so that no write lock is
 * held while it runs. */
static int ops_hash(const char *password, char hash[DIR_HASH_MAX], struct ops_error *err)
{
	if (password_init() < 0 || password_hash(password, hash, DIR_HASH_MAX) < 0)
		return ops_fail(err, "internal", NULL, "cannot hash the password (out of memory?)",
				"パスワードをハッシュできません (メモリ不足?)");
	return 0;
}

/* Writes the checked account with its password hash and its mailbox (no
 * audit row). */
static int ops_account_write(struct ops *o, const struct ops_actor *actor, const char *address,
			     const struct ops_account_new *n, const char *hash, struct dir_account *a_r,
			     struct ops_error *err)
{
	char path[PATH_MAX];
	unsigned quota = n->quota_mb != 0 ? n->quota_mb : DIR_QUOTA_DEFAULT_MB;
	const char *memo = n->memo != NULL ? n->memo : "", *error;
	char node[DIR_NODE_NAME_MAX + 1];
	int r;

	if (ops_node_place(o, n->node, node, sizeof(node), err) < 0)
		return -1;
	/* The node has yet to delete the mailbox of an account deleted under
	 * this address: the new one must not find its mail there. */
	if (node[0] != '\0' && directory_mailbox_deletion_pending(o->dir, address, node) != 0)
		return ops_fail(err, "conflict", "address",
				"the mailbox of the deleted account %s on node %s is still being removed:"
				" add it again in a few seconds (or on another node)",
				"削除されたアカウント %s のメールボックスをノード %s がまだ削除中です:"
				" 数秒後にもう一度追加してください (または別のノードに)", address, node);
	r = directory_account_add(o->dir, address, hash, quota, memo, &error);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot add %s: %s", "%s を追加できません: %s",
				address, error);
	if (directory_account_get(o->dir, address, a_r) <= 0)
		return ops_fail(err, "internal", NULL, "cannot read the new account %s",
				"新しいアカウント %s を読めません", address);
	if (node[0] != '\0') {
		/* on a mail node: its mailbox is made there on first use */
		if (directory_account_set_node(o->dir, address, node, &error) <= 0) {
			directory_account_del(o->dir, address, &error);
			return ops_fail(err, "internal", NULL, "cannot place %s on node %s",
					"%s をノード %s に置けません", address, node);
		}
		ops_event(o, actor, "account-added", address, "quota %u MB, node %s", quota, node);
		return 0;
	}
	if (maildir_path(path, sizeof(path), o->data, a_r->domain, a_r->local) < 0 ||
	    maildir_create(path) < 0) {
		int e = errno;

		/* No account without its mailbox: undo. */
		directory_account_del(o->dir, address, &error);
		return ops_fail(err, "internal", NULL,
				"cannot create the mailbox %s: %s; the account was not added",
				"メールボックス %s を作れません: %s; アカウントは追加されていません",
				path, strerror(e));
	}
	ops_event(o, actor, "account-added", address, "quota %u MB%s%s", quota,
		  memo[0] != '\0' ? ", memo: " : "", memo);
	return 0;
}

int ops_account_add(struct ops *o, const struct ops_actor *actor, const struct ops_account_new *n,
		    struct dir_account *a_r, struct ops_error *err)
{
	char address[DIR_ADDRESS_MAX + 1], hash[DIR_HASH_MAX];
	int r;

	memset(err, 0, sizeof(*err));
	if (ops_account_check(o, actor, n, address, sizeof(address), err) < 0 || ops_hash(n->password, hash, err) < 0)
		return -1;
	r = ops_account_write(o, actor, address, n, hash, a_r, err);
	explicit_bzero(hash, sizeof(hash));
	if (r < 0)
		return -1;
	ops_audit(o, actor, "account.add", a_r->address, "quota %u MB%s%s", a_r->quota_mb,
		  a_r->memo[0] != '\0' ? ", memo: " : "", a_r->memo);
	return 0;
}

struct ops_bulk_line {
	char *fields[4];
	char address[DIR_ADDRESS_MAX + 1];
	char hash[DIR_HASH_MAX];
	struct ops_account_new n;
};

/* Splits one line "address,password,MB,memo" in place (the memo is the
 * rest of the line, commas and all). */
static int ops_bulk_split(char *line, struct ops_bulk_line *b, struct ops_error *err)
{
	char *p = line;
	unsigned i;

	for (i = 0; i < 3; i++) {
		char *comma = strchr(p, ',');

		b->fields[i] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	if (i == 3)
		b->fields[3] = p;
	else
		b->fields[3] = NULL;
	if (i < 1)
		return ops_fail(err, "invalid_line", "line",
				"expected address,password,MB,memo", "「アドレス,パスワード,MB,メモ」の形式にしてください");
	return 0;
}

static int ops_bulk_parse(char *line, struct ops_bulk_line *b, struct ops_error *err)
{
	unsigned mb = 0;

	memset(b, 0, sizeof(*b));
	if (ops_bulk_split(line, b, err) < 0)
		return -1;
	if (b->fields[2] != NULL && b->fields[2][0] != '\0' && ops_quota_parse(b->fields[2], &mb, err) < 0)
		return -1;
	b->n.address = b->fields[0];
	b->n.password = b->fields[1];
	b->n.quota_mb = mb;
	b->n.memo = b->fields[3] != NULL ? b->fields[3] : "";
	return 0;
}

/* Cuts text into lines (CRLF or LF), dropping empty and '#' lines; the
 * 1-based line numbers into nums. */
static size_t ops_bulk_lines(char *text, char **lines, unsigned *nums, size_t max, bool *over_r)
{
	size_t n = 0;
	unsigned num = 0;
	char *p = text;

	*over_r = false;
	while (*p != '\0') {
		char *end = strchr(p, '\n'), *next = end != NULL ? end + 1 : p + strlen(p);

		if (end != NULL)
			*end = '\0';
		num++;
		size_t len = strlen(p);
		if (len > 0 && p[len - 1] == '\r')
			p[--len] = '\0';
		if (len > 0 && p[0] != '#') {
			if (n == max) {
				*over_r = true;
				return n;
			}
			lines[n] = p;
			nums[n++] = num;
		}
		p = next;
	}
	return n;
}

/* Checks every line (with the addresses earlier lines add). */
static int ops_bulk_check(struct ops *o, const struct ops_actor *actor, struct ops_bulk_line *b,
			  char **lines, const unsigned *nums, size_t n, struct ops_error *err)
{
	for (size_t i = 0; i < n; i++) {
		err->line = nums[i];
		if (ops_bulk_parse(lines[i], &b[i], err) < 0 ||
		    ops_account_check(o, actor, &b[i].n, b[i].address, sizeof(b[i].address), err) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(b[j].address, b[i].address) == 0)
				return ops_fail(err, "exists", "address", "%s is also on line %u",
						"%s は %u 行目にもあります", b[i].address, nums[j]);
		}
	}
	err->line = 0;
	return 0;
}

int ops_account_add_bulk(struct ops *o, const struct ops_actor *actor, const char *text,
			 unsigned *count_r, struct ops_error *err)
{
	size_t textlen = strlen(text) + 1;
	char *copy = strdup(text), *lines[OPS_BULK_MAX];
	unsigned nums[OPS_BULK_MAX];
	struct ops_bulk_line *b = calloc(OPS_BULK_MAX, sizeof(*b));
	struct dir_account a;
	size_t n = 0, done = 0;
	bool over;
	int r = -1;

	memset(err, 0, sizeof(*err));
	*count_r = 0;
	if (copy == NULL || b == NULL) {
		ops_fail(err, "internal", NULL, "out of memory", "メモリが足りません");
		goto out;
	}
	n = ops_bulk_lines(copy, lines, nums, OPS_BULK_MAX, &over);
	if (over) {
		ops_fail(err, "too_many", "lines", "at most %d accounts at once", "一度に追加できるのは %d 件までです",
			 OPS_BULK_MAX);
		goto out;
	}
	if (n == 0) {
		ops_fail(err, "empty", "lines", "no accounts in the input", "追加するアカウントがありません");
		goto out;
	}
	if (ops_bulk_check(o, actor, b, lines, nums, n, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (ops_hash(b[i].n.password, b[i].hash, err) < 0)
			goto out;
	}
	if (directory_begin(o->dir) < 0) {
		ops_fail(err, "internal", NULL, "the database is busy", "データベースが使用中です");
		goto out;
	}
	for (done = 0; done < n; done++) {
		err->line = nums[done];
		if (ops_account_write(o, actor, b[done].address, &b[done].n, b[done].hash, &a, err) < 0)
			break;
	}
	if (done == n && ops_audit(o, actor, "account.add-bulk", "", "%zu accounts (%s ... %s)", n,
				   b[0].address, b[n - 1].address) == 0 &&
	    directory_commit(o->dir) == 0) {
		err->line = 0;
		*count_r = (unsigned)n;
		r = 0;
	} else {
		directory_rollback(o->dir);
		if (done == n)
			ops_fail(err, "internal", NULL, "the accounts could not be committed",
				 "アカウントを保存できませんでした");
	}
out:
	/* the passwords */
	if (copy != NULL)
		explicit_bzero(copy, textlen);
	if (b != NULL)
		explicit_bzero(b, OPS_BULK_MAX * sizeof(*b));
	free(copy);
	free(b);
	return r;
}
