/* The sender policy of policy/sendas.h with the login's settings read
 * through the settings layer: the domain setting `sender-policy` of the
 * login's domain and the account setting `send-as`. */
#include "server/smtp_sendas.h"
#include "directory/directory.h"
#include "policy/sendas.h"
#include "settings/settings.h"

#include <string.h>

static int sendas_lookup(struct directory *dir, const char *login, enum sender_policy *policy_r,
			 char *list, size_t size)
{
	const char *at = strrchr(login, '@');
	char value[32];

	if (at == NULL)
		return -1;
	/* a directory error is a temporary failure, not "no permission" */
	if (settings_domain_string(dir, at + 1, SETTING_SENDER_POLICY, value, sizeof(value)) < 0 ||
	    settings_account_string(dir, login, SETTING_SEND_AS, list, size) < 0)
		return -1;
	/* a value from a later version: strict */
	if (sender_policy_parse(value, policy_r) < 0)
		*policy_r = SENDER_POLICY_STRICT;
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
