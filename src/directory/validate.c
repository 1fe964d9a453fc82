#include "directory/validate.h"
#include "directory/directory.h"
#include "lib/str.h"

#include <ctype.h>
#include <string.h>

int validate_local_part(const char *local, const char **error_r)
{
	size_t len = strlen(local);

	if (len == 0) {
		*error_r = "the user name (before @) is empty";
		return -1;
	}
	if (len > DIR_LOCAL_MAX) {
		*error_r = "the user name (before @) is longer than 64 characters";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = local[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.')) {
			*error_r = "the user name may only use a-z, 0-9, '-', '_' and '.'";
			return -1;
		}
	}
	if (local[0] == '.' || local[len - 1] == '.' || strstr(local, "..") != NULL) {
		*error_r = "the user name may not start or end with '.' or contain '..'";
		return -1;
	}
	return 0;
}

int validate_domain(const char *domain, const char **error_r)
{
	size_t len = strlen(domain), label = 0, labels = 0;

	if (len == 0 || len > DIR_DOMAIN_MAX) {
		*error_r = "the domain name must be 1 to 253 characters";
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		char c = domain[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63) {
				*error_r = "each part of the domain name must be 1 to 63 characters";
				return -1;
			}
			if (domain[i - 1] == '-' || domain[i - label] == '-') {
				*error_r = "a part of the domain name may not start or end with '-'";
				return -1;
			}
			labels++;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			*error_r = "the domain name may only use a-z, 0-9, '-' and '.'";
			return -1;
		}
		label++;
	}
	if (labels < 2) {
		*error_r = "the domain name needs at least two parts (example.jp)";
		return -1;
	}
	return 0;
}

int validate_address(const char *address, char *local_r, size_t local_size,
		     char *domain_r, size_t domain_size, const char **error_r)
{
	const char *at = strchr(address, '@');

	if (at == NULL || strchr(at + 1, '@') != NULL) {
		*error_r = "the address must be user@domain (the login name is the full address)";
		return -1;
	}
	if (str_copyn(local_r, local_size, address, (size_t)(at - address)) < 0) {
		*error_r = "the user name (before @) is longer than 64 characters";
		return -1;
	}
	if (str_copy(domain_r, domain_size, at + 1) < 0) {
		*error_r = "the domain name is longer than 253 characters";
		return -1;
	}
	str_lower(local_r);
	str_lower(domain_r);
	if (validate_local_part(local_r, error_r) < 0)
		return -1;
	return validate_domain(domain_r, error_r);
}

static bool password_is_sequence(const char *p)
{
	static const char *const runs[] = {
		"0123456789012345678901234567890123",
		"abcdefghijklmnopqrstuvwxyzabcdefgh",
		"qwertyuiopasdfghjklzxcvbnmqwertyui",
	};
	char lower[DIR_PASSWORD_MAX + 1];

	if (str_copy(lower, sizeof(lower), p) < 0)
		return false;
	str_lower(lower);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		if (strstr(runs[i], lower) != NULL)
			return true;
	}
	return false;
}

int validate_password(const char *password, const char *address, const char **error_r)
{
	static const char *const common[] = {
		"password", "password1", "password123", "passw0rd", "12345678",
		"iloveyou", "sunshine", "princess", "football", "baseball",
		"welcome1", "letmein1", "qwerty123", "abc12345", "admin123",
		"changeme", "trustno1", "superman", "asdfghjk", NULL,
	};
	size_t len = strlen(password);
	bool all_digits = true, all_alpha = true, all_same = true;
	char local[DIR_LOCAL_MAX + 1];
	const char *at;

	if (len < DIR_PASSWORD_MIN || len > DIR_PASSWORD_MAX) {
		*error_r = "the password must be 8 to 128 characters";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)password[i];
		if (c < 0x21 || c > 0x7e) {
			*error_r = "the password may only use printable ASCII characters without spaces";
			return -1;
		}
		if (!isdigit(c))
			all_digits = false;
		if (!isalpha(c))
			all_alpha = false;
		if (password[i] != password[0])
			all_same = false;
	}
	if (all_digits) {
		*error_r = "the password is too easy to guess: use letters as well as digits";
		return -1;
	}
	if (all_same || password_is_sequence(password)) {
		*error_r = "the password is too easy to guess: avoid repeated or consecutive characters";
		return -1;
	}
	for (size_t i = 0; common[i] != NULL; i++) {
		if (str_eq_ci(password, common[i])) {
			*error_r = "the password is too easy to guess: it is a commonly used password";
			return -1;
		}
	}
	if (address != NULL) {
		at = strchr(address, '@');
		if (str_eq_ci(password, address) ||
		    (at != NULL && str_copyn(local, sizeof(local), address, (size_t)(at - address)) == 0 &&
		     (str_eq_ci(password, local) || (strlen(local) >= 4 && strcasestr(password, local) != NULL &&
						      all_alpha)))) {
			*error_r = "the password is too easy to guess: it must not contain the address or user name";
			return -1;
		}
		if (at != NULL && strcasestr(password, at + 1) != NULL) {
			*error_r = "the password is too easy to guess: it must not contain the domain name";
			return -1;
		}
	}
	return 0;
}

int validate_quota(unsigned long mb, const char **error_r)
{
	if (mb < DIR_QUOTA_MIN_MB || mb > DIR_QUOTA_MAX_MB) {
		*error_r = "the mailbox size must be 1 to 5000 MB";
		return -1;
	}
	return 0;
}
