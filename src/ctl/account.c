/* yubinctl account add/passwd/quota/del/enable/disable/set: the commands
 * that change an account. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "directory/password.h"
#include "directory/validate.h"
#include "lib/fsutil.h"
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
	size_t len;

	/* Unbuffered, so that no copy of the password stays in stdio's buffer. */
	setvbuf(stdin, NULL, _IONBF, 0);
	if (fgets(buf, (int)size, stdin) == NULL)
		return ctl_fail("--password-stdin: no password on standard input");
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(stdin)) {
		explicit_bzero(buf, size);
		return ctl_fail("the password must be %d to %d characters", DIR_PASSWORD_MIN,
				DIR_PASSWORD_MAX);
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
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

/* The new password for address, read (--password-stdin) or generated,
 * hashed into hash. *generated_r tells whether to print it. */
static int ctl_password_obtain(struct ctl *c, const char *address, char *password, size_t size,
			       char *hash, size_t hash_size, bool *generated_r)
{
	const char *error;

	if (password_init() < 0)
		return ctl_fail("cannot initialise the password library");
	*generated_r = !c->password_stdin;
	if (c->password_stdin) {
		if (ctl_password_read(password, size) != 0)
			return 1;
		if (validate_password(password, address, &error) < 0) {
			explicit_bzero(password, size);
			return ctl_fail("password refused: %s", error);
		}
	} else {
		ctl_password_generate(password, address);
	}
	if (password_hash(password, hash, hash_size) < 0) {
		explicit_bzero(password, size);
		return ctl_fail("cannot hash the password (out of memory?)");
	}
	return 0;
}

static int ctl_quota_parse(const char *text, unsigned *mb_r)
{
	uint64_t mb;
	const char *error;

	if (str_parse_uint(text, UINT32_MAX, &mb) < 0)
		return ctl_fail("the mailbox size must be a whole number of MB from %d to %d, not '%s'",
				DIR_QUOTA_MIN_MB, DIR_QUOTA_MAX_MB, text);
	if (validate_quota((unsigned long)mb, &error) < 0)
		return ctl_fail("%s, not %s", error, text);
	*mb_r = (unsigned)mb;
	return 0;
}

static int ctl_memo_check(const char *memo)
{
	if (strlen(memo) >= sizeof(((struct dir_account *)0)->memo))
		return ctl_fail("the memo is too long (at most %zu bytes)",
				sizeof(((struct dir_account *)0)->memo) - 1);
	for (const unsigned char *p = (const unsigned char *)memo; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return ctl_fail("the memo must be one line without control characters");
	}
	return 0;
}

static int ctl_maildir(const struct ctl *c, const struct dir_account *a, char *buf, size_t size)
{
	if (maildir_path(buf, size, c->data, a->domain, a->local) < 0)
		return ctl_fail("the mailbox path for %s is too long", a->address);
	return 0;
}

int cmd_account_add(struct ctl *c)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1], address[DIR_ADDRESS_MAX + 1];
	char password[CTL_LINE_MAX], hash[256], path[PATH_MAX];
	const char *memo = c->memo != NULL ? c->memo : "", *error;
	unsigned quota = DIR_QUOTA_DEFAULT_MB;
	struct dir_domain d;
	struct dir_account a;
	bool generated;
	int r;

	if (validate_address(c->argv[0], local, sizeof(local), domain, sizeof(domain), &error) < 0)
		return ctl_fail("'%s' is not a valid address: %s", c->argv[0], error);
	snprintf(address, sizeof(address), "%s@%s", local, domain);
	if ((c->quota != NULL && ctl_quota_parse(c->quota, &quota) != 0) || ctl_memo_check(memo) != 0)
		return 1;
	if (ctl_directory(c) == NULL)
		return 1;
	r = directory_domain_get(c->dir, domain, &d);
	if (r < 0)
		return ctl_fail("cannot read the domain %s from the database", domain);
	if (r == 0)
		return ctl_fail("the domain does not exist: add it first with yubinctl domain add %s",
				domain);
	if (directory_account_get(c->dir, address, &a) > 0)
		return ctl_fail("the account %s already exists", address);
	if (ctl_password_obtain(c, address, password, sizeof(password), hash, sizeof(hash),
				&generated) != 0)
		return 1;
	if (directory_account_add(c->dir, address, hash, quota, memo, &error) < 0) {
		explicit_bzero(password, sizeof(password));
		explicit_bzero(hash, sizeof(hash));
		return ctl_fail("cannot add %s: %s", address, error);
	}
	explicit_bzero(hash, sizeof(hash));
	str_copy(a.domain, sizeof(a.domain), domain);
	str_copy(a.local, sizeof(a.local), local);
	str_copy(a.address, sizeof(a.address), address);
	if (ctl_maildir(c, &a, path, sizeof(path)) != 0 || maildir_create(path) < 0) {
		int e = errno;

		explicit_bzero(password, sizeof(password));
		/* No account without its mailbox: undo. */
		directory_account_del(c->dir, address, &error);
		return ctl_fail("cannot create the mailbox %s: %s; the account was not added", path,
				strerror(e));
	}
	ctl_event(c, "account-added", address, "quota %u MB%s%s", quota, memo[0] != '\0' ? ", memo: " : "",
		  memo);
	printf("added %s (quota %u MB, mailbox %s)\n", address, quota, path);
	if (generated)
		printf("password: %s\n", password);
	explicit_bzero(password, sizeof(password));
	return 0;
}

int cmd_account_passwd(struct ctl *c)
{
	char password[CTL_LINE_MAX], hash[256];
	struct dir_account a;
	const char *error;
	bool generated;
	int r;

	if (ctl_account_get(c, c->argv[0], &a) != 0)
		return 1;
	if (ctl_password_obtain(c, a.address, password, sizeof(password), hash, sizeof(hash),
				&generated) != 0)
		return 1;
	r = directory_account_set_password(c->dir, a.address, hash, &error);
	explicit_bzero(hash, sizeof(hash));
	if (r < 0) {
		explicit_bzero(password, sizeof(password));
		return ctl_fail("cannot change the password of %s: %s", a.address, error);
	}
	ctl_event(c, "password-changed", a.address, "%s", generated ? "new random password set with yubinctl"
		  : "password set with yubinctl");
	printf("password of %s changed\n", a.address);
	ctl_abuse_lift(c, a.address, "password change");
	if (generated)
		printf("password: %s\n", password);
	explicit_bzero(password, sizeof(password));
	return 0;
}

int cmd_account_quota(struct ctl *c)
{
	struct dir_account a;
	struct ctl_usage u;
	const char *error;
	unsigned quota;
	char used[32];

	if (ctl_quota_parse(c->argv[1], &quota) != 0 || ctl_account_get(c, c->argv[0], &a) != 0)
		return 1;
	if (directory_account_set_quota(c->dir, a.address, quota, &error) < 0)
		return ctl_fail("cannot change the quota of %s: %s", a.address, error);
	ctl_event(c, "quota-changed", a.address, "%u MB -> %u MB", a.quota_mb, quota);
	printf("quota of %s: %u MB (was %u MB)\n", a.address, quota, a.quota_mb);
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
	struct dir_account a;
	struct ctl_usage u;
	char path[PATH_MAX], used[32];
	const char *error;

	if (ctl_account_get(c, c->argv[0], &a) != 0 || ctl_maildir(c, &a, path, sizeof(path)) != 0)
		return 1;
	ctl_usage_get(c, &a, &u);
	if (directory_account_del(c->dir, a.address, &error) < 0)
		return ctl_fail("cannot delete %s: %s", a.address, error);
	if (directory_setting_clear(c->dir, "account", a.address, &error) < 0)
		ctl_warn("the settings of %s were not removed: %s", a.address, error);
	ctl_mb_text(u.bytes, used, sizeof(used));
	if (u.present && fs_remove_tree(path) < 0) {
		ctl_event(c, "account-deleted", a.address, "mailbox %s could not be fully removed", path);
		return ctl_fail("the account %s is deleted but its mailbox %s could not be fully removed:"
				" %s", a.address, path, strerror(errno));
	}
	ctl_event(c, "account-deleted", a.address, "with its mailbox (%llu message%s, %s)",
		  (unsigned long long)u.messages, u.messages == 1 ? "" : "s", used);
	printf("deleted %s and its mailbox (%llu message%s, %s)\n", a.address,
	       (unsigned long long)u.messages, u.messages == 1 ? "" : "s", used);
	return 0;
}

int ctl_account_set_enabled(struct ctl *c, const char *address, bool enabled)
{
	struct dir_account a;
	const char *error;

	if (ctl_account_get(c, address, &a) != 0)
		return 1;
	if (a.enabled == enabled) {
		printf("%s is already %s\n", a.address, enabled ? "enabled: it can log in and receive mail"
						  : "disabled");
		return 0;
	}
	if (directory_account_set_enabled(c->dir, a.address, enabled, &error) < 0)
		return ctl_fail("cannot %s %s: %s", enabled ? "enable" : "disable", a.address, error);
	ctl_event(c, enabled ? "account-enabled" : "account-disabled", a.address, "with yubinctl");
	if (enabled)
		printf("%s is enabled: it can log in and receive mail\n", a.address);
	else
		printf("%s is disabled: logins are refused and mail to it is rejected\n", a.address);
	return 0;
}

int ctl_account_set_memo(struct ctl *c, const char *address, const char *memo)
{
	struct dir_account a;
	const char *error;

	if (ctl_memo_check(memo) != 0 || ctl_account_get(c, address, &a) != 0)
		return 1;
	if (directory_account_set_memo(c->dir, a.address, memo, &error) < 0)
		return ctl_fail("cannot change the memo of %s: %s", a.address, error);
	ctl_event(c, "memo-changed", a.address, "%s", memo);
	printf("memo of %s: %s\n", a.address, memo);
	return 0;
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
