/* yubinctl account add/passwd/quota/del/enable/disable/set: the commands
 * that change an account. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "directory/validate.h"
#include "lib/str.h"
#include "store/maildir.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CTL_PASSWORD_GENERATED_LEN 16
#define CTL_LINE_MAX 256

int ctl_account_get(struct ctl *c, const char *address, struct dir_account *a)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1];
	const char *error;
	int r;

	if (validate_address(address, local, sizeof(local), domain, sizeof(domain), &error) < 0)
		return ctl_fail("'%s' is not a valid address: %s", address, error);
	if (ctl_directory(c) == NULL)
		return 1;
	r = directory_account_get(c->dir, address, a);
	if (r < 0)
		return ctl_fail("cannot read the account %s from the database", address);
	if (r == 0)
		return ctl_fail("no such account: %s (yubinctl account list %s shows the accounts of"
				" that domain)", address, domain);
	return 0;
}

/* Reads one line from stdin into buf, without its line end. */
static int ctl_password_read(char *buf, size_t size)
{
	int r = ctl_stdin_line(buf, size);

	if (r == -1)
		return ctl_fail("--password-stdin: no password on standard input");
	if (r == -2)
		return ctl_fail("the password must be %d to %d characters", DIR_PASSWORD_MIN, DIR_PASSWORD_MAX);
	return 0;
}

/* A random password that passes validate_password: letters and digits
 * without the easily confused ones (0 O 1 l I), at least one of each kind. */
static void ctl_password_generate(char *buf, const char *address)
{
	static const char upper[] = "ABCDEFGHJKLMNPQRSTUVWXYZ", lower[] = "abcdefghijkmnopqrstuvwxyz";
	static const char digits[] = "23456789";
	static const char all[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	const char *error;

	for (;;) {
		bool has_upper = false, has_lower = false, has_digit = false;

		for (int i = 0; i < CTL_PASSWORD_GENERATED_LEN; i++) {
			char ch = all[randombytes_uniform(sizeof(all) - 1)];

			has_upper |= strchr(upper, ch) != NULL;
			has_lower |= strchr(lower, ch) != NULL;
			has_digit |= strchr(digits, ch) != NULL;
			buf[i] = ch;
		}
		buf[CTL_PASSWORD_GENERATED_LEN] = '\0';
		if (has_upper && has_lower && has_digit && validate_password(buf, address, &error) == 0)
			return;
	}
}

/* The new password for address, read (--password-stdin) or generated.
 * *generated_r tells whether to print it. ops/ checks and hashes it. */
int ctl_password_obtain(struct ctl *c, const char *address, char *password, size_t size,
			bool *generated_r)
{
	*generated_r = !c->password_stdin;
	if (c->password_stdin)
		return ctl_password_read(password, size);
	ctl_password_generate(password, address);
	return 0;
}

static int ctl_quota_parse(const char *text, unsigned *mb_r)
{
	struct ops_error err;

	if (ops_quota_parse(text, mb_r, &err) < 0)
		return ctl_ops_fail(&err);
	return 0;
}

static int ctl_memo_check(const char *memo)
{
	struct ops_error err;

	if (ops_memo_check(memo, &err) < 0)
		return ctl_ops_fail(&err);
	return 0;
}

int cmd_account_add(struct ctl *c)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1], address[DIR_ADDRESS_MAX + 1];
	char password[CTL_LINE_MAX], path[PATH_MAX], node[DIR_NODE_NAME_MAX + 1];
	struct ops_account_new n = { .memo = c->memo != NULL ? c->memo : "" };
	struct dir_domain d;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct dir_account a;
	const char *error;
	bool generated;
	int r;

	if (validate_address(c->argv[0], local, sizeof(local), domain, sizeof(domain), &error) < 0)
		return ctl_fail("'%s' is not a valid address: %s", c->argv[0], error);
	snprintf(address, sizeof(address), "%s@%s", local, domain);
	n.quota_mb = DIR_QUOTA_DEFAULT_MB;
	if ((c->quota != NULL && ctl_quota_parse(c->quota, &n.quota_mb) != 0) ||
	    ctl_memo_check(n.memo) != 0)
		return 1;
	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	/* Refuse a missing domain or an existing account before asking for a
	 * password. */
	if (directory_domain_get(c->dir, domain, &d) == 0)
		return ctl_fail("the domain does not exist: add it first with yubinctl domain add %s",
				domain);
	if (directory_account_get(c->dir, address, &a) > 0)
		return ctl_fail("the account %s already exists", address);
	if (ctl_password_obtain(c, address, password, sizeof(password), &generated) != 0)
		return 1;
	n.address = address;
	n.password = password;
	n.node = c->node;
	r = ops_account_add(o, &actor, &n, &a, &err);
	if (r < 0) {
		explicit_bzero(password, sizeof(password));
		return ctl_ops_fail(&err);
	}
	if (maildir_path(path, sizeof(path), c->data, a.domain, a.local) < 0)
		path[0] = '\0';
	if (directory_account_node(c->dir, a.address, node, sizeof(node)) > 0 && node[0] != '\0')
		printf("added %s (quota %u MB, on node %s)\n", a.address, a.quota_mb, node);
	else
		printf("added %s (quota %u MB, mailbox %s)\n", a.address, a.quota_mb, path);
	if (generated)
		printf("password: %s\n", password);
	explicit_bzero(password, sizeof(password));
	return 0;
}

int cmd_account_passwd(struct ctl *c)
{
	char password[CTL_LINE_MAX];
	struct ops_actor actor;
	struct ops_error err;
	struct dir_account a;
	struct ops *o;
	bool generated, lifted;

	if (ctl_account_get(c, c->argv[0], &a) != 0 || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ctl_password_obtain(c, a.address, password, sizeof(password), &generated) != 0)
		return 1;
	if (ops_account_passwd(o, &actor, a.address, NULL, password, &lifted, &err) < 0) {
		explicit_bzero(password, sizeof(password));
		return ctl_ops_fail(&err);
	}
	printf("password of %s changed\n", a.address);
	if (lifted)
		printf("the sending suspension of %s is lifted\n", a.address);
	if (generated)
		printf("password: %s\n", password);
	explicit_bzero(password, sizeof(password));
	return 0;
}

int cmd_account_quota(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct dir_account a;
	struct ctl_usage u;
	struct ops *o;
	unsigned quota, old;
	char used[32];

	if (ctl_quota_parse(c->argv[1], &quota) != 0 || ctl_account_get(c, c->argv[0], &a) != 0 ||
	    (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_account_quota(o, &actor, a.address, quota, &old, &err) < 0)
		return ctl_ops_fail(&err);
	printf("quota of %s: %u MB (was %u MB)\n", a.address, quota, old);
	a.quota_mb = quota;
	ctl_usage_get(c, &a, &u);
	if (u.present && u.bytes >= u.quota_bytes) {
		ctl_mb_text(u.bytes, used, sizeof(used));
		ctl_warn("the mailbox already holds %s, more than the new quota: new mail for %s is"
			 " refused until mail is deleted", used, a.address);
	}
	return 0;
}

int cmd_account_del(struct ctl *c)
{
	struct ops_del_result res;
	struct ops_actor actor;
	struct ops_error err;
	struct dir_account a;
	struct ops *o;
	char used[32];

	if (ctl_account_get(c, c->argv[0], &a) != 0 || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_account_del(o, &actor, a.address, &res, &err) < 0)
		return ctl_ops_fail(&err);
	if (res.node[0] != '\0') {
		printf("deleted %s; its mailbox on node %s is deleted by that node within a minute\n", a.address,
		       res.node);
		return 0;
	}
	if (res.mailbox_left)
		return ctl_fail("the account %s is deleted but its mailbox %s could not be fully removed",
				a.address, res.path);
	ctl_mb_text(res.bytes, used, sizeof(used));
	printf("deleted %s and its mailbox (%llu message%s, %s)\n", a.address,
	       (unsigned long long)res.messages, res.messages == 1 ? "" : "s", used);
	return 0;
}

int ctl_account_set_enabled(struct ctl *c, const char *address, bool enabled)
{
	struct ops_actor actor;
	struct ops_error err;
	struct dir_account a;
	struct ops *o;
	bool changed;

	if (ctl_account_get(c, address, &a) != 0 || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_account_enable(o, &actor, a.address, enabled, &changed, &err) < 0)
		return ctl_ops_fail(&err);
	ctl_account_enabled_print(a.address, enabled, changed);
	return 0;
}

void ctl_account_enabled_print(const char *address, bool enabled, bool changed)
{
	if (!changed)
		printf("%s is already %s\n", address, enabled ? "enabled: it can log in and receive mail"
						  : "disabled");
	else if (enabled)
		printf("%s is enabled: it can log in and receive mail\n", address);
	else
		printf("%s is disabled: logins are refused and mail to it is rejected\n", address);
}

int cmd_account_enable(struct ctl *c)
{
	return ctl_account_set_enabled(c, c->argv[0], true);
}

int cmd_account_disable(struct ctl *c)
{
	return ctl_account_set_enabled(c, c->argv[0], false);
}

int cmd_account_set(struct ctl *c)
{
	struct dir_account a;

	if (ctl_account_get(c, c->argv[0], &a) != 0)
		return 1;
	return ctl_setting_set(c, SETTING_ACCOUNT, a.address, c->argv[1], c->argv[2]);
}

int cmd_account_unset(struct ctl *c)
{
	struct dir_account a;

	if (ctl_account_get(c, c->argv[0], &a) != 0)
		return 1;
	return ctl_setting_unset(c, SETTING_ACCOUNT, a.address, c->argv[1]);
}
