/* Allow and block list patterns (see spam_list.h). */
#include "spam/spam_list.h"

#include <string.h>
#include <strings.h>

/* A domain name as patterns take it: labels of letters, digits, '-' and
 * '_' (IDNs in their A-label form), dots between; no label starts or ends
 * with '-'. */
static bool spam_list_domain_ok(const char *d)
{
	size_t label = 0;

	if (*d == '\0' || *d == '.')
		return false;
	for (; *d != '\0'; d++) {
		char c = *d;

		if (c == '.') {
			if (label == 0 || d[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (c == '-' && label == 0)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && d[-1] != '-';
}

static bool spam_list_local_ok(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '@' || c == '*' || c == '<' || c == '>' || c == ',')
			return false;
	}
	return true;
}

int spam_list_pattern_check(const char *pattern, char *norm, size_t size, const char **error_r)
{
	size_t len;
	const char *at;

	while (*pattern == ' ' || *pattern == '\t')
		pattern++;
	len = strlen(pattern);
	while (len > 0 && (pattern[len - 1] == ' ' || pattern[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= SPAM_LIST_PATTERN_MAX || len >= size) {
		*error_r = "a pattern is an address, *@DOMAIN, *.DOMAIN or * (at most 255 characters)";
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		norm[i] = (char)((pattern[i] >= 'A' && pattern[i] <= 'Z') ? pattern[i] | 0x20 : pattern[i]);
	norm[len] = '\0';
	if (strcmp(norm, "*") == 0)
		return 0;
	if (strncmp(norm, "*@", 2) == 0 && spam_list_domain_ok(norm + 2))
		return 0;
	if (strncmp(norm, "*.", 2) == 0 && spam_list_domain_ok(norm + 2))
		return 0;
	at = strrchr(norm, '@');
	if (at != NULL && norm[0] != '*' && spam_list_local_ok(norm, (size_t)(at - norm)) &&
	    spam_list_domain_ok(at + 1))
		return 0;
	*error_r = "a pattern is an address (user@example.com), *@example.com (a domain),"
		   " *.example.com (its subdomains) or * (everyone)";
	return -1;
}

bool spam_list_match(const char *pattern, const char *address)
{
	const char *at = strrchr(address, '@');
	const char *domain = at != NULL ? at + 1 : "";
	size_t dlen = strlen(domain), plen;

	if (strcmp(pattern, "*") == 0)
		return true;
	if (at == NULL)
		return false;
	if (strncmp(pattern, "*@", 2) == 0)
		return strcasecmp(pattern + 2, domain) == 0;
	if (strncmp(pattern, "*.", 2) == 0) {
		plen = strlen(pattern + 1);	/* ".example.com" */
		return dlen > plen && strcasecmp(domain + dlen - plen, pattern + 1) == 0;
	}
	return strcasecmp(pattern, address) == 0;
}
