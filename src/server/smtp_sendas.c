/* The sender policy of policy/sendas.h with the login's settings looked
 * up in the directory: the domain setting `sender-policy` of the login's
 * domain and the account setting `send-as`. */
#include "server/smtp_sendas.h"
#include "directory/directory.h"
#include "policy/sendas.h"

#include <string.h>

static int sendas_lookup(struct directory *dir, const char *login, enum sender_policy *policy_r,
			 char *list, size_t size)
{
	const char *at = strrchr(login, '@');
	char value[32];
	int r;

	if (at == NULL)
		return -1;
	r = directory_setting_get(dir, "domain", at + 1, "sender-policy", value, sizeof(value));
	if (r < 0)
		return -1;
	/* unset, or a value from a later version: strict */
	if (r == 0 || sender_policy_parse(value, policy_r) < 0)
		*policy_r = SENDER_POLICY_STRICT;
	r = directory_setting_get(dir, "account", login, "send-as", list, size);
	if (r < 0)
		return -1;
	if (r == 0)
		list[0] = '\0';
	return 0;
}

int sendas_check(struct directory *dir, const char *login, const char *address)
{
	char list[SENDAS_VALUE_MAX];
	enum sender_policy policy;

	if (sendas_lookup(dir, login, &policy, list, sizeof(list)) < 0)
		return -1;
	return sendas_address_is_allowed(policy, login, list, address) ? 1 : 0;
}

int sendas_may_sign(struct directory *dir, const char *login, const char *domain)
{
	char list[SENDAS_VALUE_MAX];
	enum sender_policy policy;

	if (sendas_lookup(dir, login, &policy, list, sizeof(list)) < 0)
		return -1;
	return sendas_domain_is_allowed(login, list, domain) ? 1 : 0;
}
