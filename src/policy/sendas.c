/* Sender addresses of an authenticated login (see sendas.h): the matching
 * and the parsers, pure (the settings are looked up by the caller,
 * server/smtp_sendas.c). */
#include "policy/sendas.h"
#include "directory/validate.h"
#include "lib/str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int sender_policy_parse(const char *value, enum sender_policy *policy_r)
{
	if (value[0] == '\0' || str_eq_ci(value, "strict"))
		*policy_r = SENDER_POLICY_STRICT;
	else if (str_eq_ci(value, "domain"))
		*policy_r = SENDER_POLICY_DOMAIN;
	else if (str_eq_ci(value, "off"))
		*policy_r = SENDER_POLICY_OFF;
	else
		return -1;
	return 0;
}

/* Splits a lowercased copy of address at its last '@'. false when it has
 * none or a part is empty or too long. */
static bool addr_split(const char *address, char *local, size_t lsize, char *domain, size_t dsize)
{
	const char *at = strrchr(address, '@');
	size_t ll;

	if (at == NULL || at == address || at[1] == '\0')
		return false;
	ll = (size_t)(at - address);
	if (ll >= lsize || str_copy(domain, dsize, at + 1) < 0)
		return false;
	memcpy(local, address, ll);
	local[ll] = '\0';
	str_lower(local);
	str_lower(domain);
	return true;
}

/* A dot-atom local part (RFC 5322 atext), up to 64 bytes. */
static bool local_is_dot_atom(const char *local)
{
	size_t n = strlen(local);

	if (n == 0 || n > 64 || local[0] == '.' || local[n - 1] == '.' || strstr(local, "..") != NULL)
		return false;
	for (const char *p = local; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && strchr("!#$%&'*+/=?^_`{|}~-", *p) == NULL)
			return false;
	}
	return true;
}

int sendas_list_parse(const char *value, char (*out)[SENDAS_ADDR_MAX], size_t *n_r,
		      const char **error_r)
{
	const char *p = value;

	*n_r = 0;
	while (*p != '\0') {
		char entry[SENDAS_ADDR_MAX], local[SENDAS_ADDR_MAX], domain[SENDAS_ADDR_MAX];
		size_t len = strcspn(p, ", \t");
		bool dup = false;

		if (len == 0) {
			p++;
			continue;
		}
		if (len >= sizeof(entry)) {
			*error_r = "an address is too long";
			return -1;
		}
		memcpy(entry, p, len);
		entry[len] = '\0';
		p += len;
		if (!addr_split(entry, local, sizeof(local), domain, sizeof(domain)) ||
		    (strcmp(local, "*") != 0 && !local_is_dot_atom(local)) ||
		    validate_domain(domain, error_r) < 0) {
			*error_r = "each entry must be an address local@domain or *@domain";
			return -1;
		}
		snprintf(entry, sizeof(entry), "%s@%s", local, domain);
		for (size_t i = 0; i < *n_r; i++)
			dup = dup || strcmp(out[i], entry) == 0;
		if (dup)
			continue;
		if (*n_r >= SENDAS_MAX) {
			*error_r = "too many addresses (at most 32)";
			return -1;
		}
		str_copy(out[(*n_r)++], SENDAS_ADDR_MAX, entry);
	}
	return 0;
}

/* local without its +tag ("a+b" -> "a"); a leading '+' is no tag. */
static void local_base(const char *local, char *out, size_t size)
{
	const char *plus = strchr(local, '+');

	str_copy(out, size, local);
	if (plus != NULL && plus != local && (size_t)(plus - local) < size)
		out[plus - local] = '\0';
}

bool sendas_address_is_allowed(enum sender_policy policy, const char *login, const char *list,
			       const char *address)
{
	char al[SENDAS_ADDR_MAX], ad[SENDAS_ADDR_MAX], base[SENDAS_ADDR_MAX];
	char ll[SENDAS_ADDR_MAX], ld[SENDAS_ADDR_MAX];
	char grants[SENDAS_MAX][SENDAS_ADDR_MAX];
	const char *error;
	size_t n = 0;

	if (policy == SENDER_POLICY_OFF)
		return true;
	if (!addr_split(address, al, sizeof(al), ad, sizeof(ad)) ||
	    !addr_split(login, ll, sizeof(ll), ld, sizeof(ld)))
		return false;
	local_base(al, base, sizeof(base));
	if (strcmp(ad, ld) == 0 && (policy == SENDER_POLICY_DOMAIN || strcmp(al, ll) == 0 ||
				    strcmp(base, ll) == 0))
		return true;
	if (sendas_list_parse(list, grants, &n, &error) < 0)
		return false;	/* a list that no longer parses grants nothing */
	for (size_t i = 0; i < n; i++) {
		char gl[SENDAS_ADDR_MAX], gd[SENDAS_ADDR_MAX];

		if (addr_split(grants[i], gl, sizeof(gl), gd, sizeof(gd)) && strcmp(gd, ad) == 0 &&
		    (strcmp(gl, "*") == 0 || strcmp(gl, al) == 0 || strcmp(gl, base) == 0))
			return true;
	}
	return false;
}

bool sendas_domain_is_allowed(const char *login, const char *list, const char *domain)
{
	char ll[SENDAS_ADDR_MAX], ld[SENDAS_ADDR_MAX], d[SENDAS_ADDR_MAX];
	char grants[SENDAS_MAX][SENDAS_ADDR_MAX];
	const char *error;
	size_t n = 0;

	if (!addr_split(login, ll, sizeof(ll), ld, sizeof(ld)) || str_copy(d, sizeof(d), domain) < 0)
		return false;
	str_lower(d);
	if (strcmp(d, ld) == 0)
		return true;
	if (sendas_list_parse(list, grants, &n, &error) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *at = strrchr(grants[i], '@');
		if (at != NULL && strcmp(at + 1, d) == 0)
			return true;
	}
	return false;
}

/* ---- header address lists */

struct hdr_scan {
	char plain[SENDAS_ADDR_MAX], angle[SENDAS_ADDR_MAX];
	size_t plen, alen;
	bool in_angle, angle_seen, overflow;
};

static void hdr_add(struct hdr_scan *hs, char c)
{
	char *buf = hs->in_angle ? hs->angle : hs->plain;
	size_t *len = hs->in_angle ? &hs->alen : &hs->plen;

	if (*len + 1 >= SENDAS_ADDR_MAX) {
		hs->overflow = true;
		return;
	}
	buf[(*len)++] = c;
	buf[*len] = '\0';
}

/* Ends one mailbox: its address into out. 0, or -1 with a reason. */
static int hdr_element_end(struct hdr_scan *hs, char (*out)[SENDAS_ADDR_MAX], size_t max,
			   size_t *n_r, const char **error_r)
{
	const char *addr = hs->angle_seen ? hs->angle : hs->plain;
	int r = 0;

	if (hs->overflow) {
		*error_r = "an address is too long";
		r = -1;
	} else if (addr[0] == '\0' && !hs->angle_seen) {
		r = 0;	/* an empty element: ",," or the end of a group */
	} else if (strchr(addr, '@') == NULL) {
		*error_r = "an address without a domain";
		r = -1;
	} else if (*n_r >= max) {
		*error_r = "too many addresses";
		r = -1;
	} else {
		str_copy(out[*n_r], SENDAS_ADDR_MAX, addr);
		str_lower(out[(*n_r)++]);
	}
	memset(hs, 0, sizeof(*hs));
	return r;
}

int sendas_header_addresses(const char *value, size_t len, char (*out)[SENDAS_ADDR_MAX],
			    size_t max, size_t *n_r, const char **error_r)
{
	struct hdr_scan hs;
	unsigned depth = 0;	/* comment nesting */
	bool quoted = false;

	memset(&hs, 0, sizeof(hs));
	*n_r = 0;
	for (size_t i = 0; i < len; i++) {
		char c = value[i];

		if (depth > 0) {
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (quoted) {
			if (c == '\\' && i + 1 < len) {
				hdr_add(&hs, c);
				c = value[++i];
			} else if (c == '"') {
				quoted = false;
			}
			hdr_add(&hs, c);
			continue;
		}
		switch (c) {
		case '"': quoted = true; hdr_add(&hs, c); break;
		case '(': depth = 1; break;
		case ' ': case '\t': case '\r': case '\n': break;
		case '<':
			hs.in_angle = hs.angle_seen = true;
			hs.alen = 0;
			hs.angle[0] = '\0';
			break;
		case '>': hs.in_angle = false; break;
		case ':':	/* a route inside <>, a group's name outside */
			if (hs.in_angle) {
				hs.alen = 0;
				hs.angle[0] = '\0';
			} else {
				hs.plen = 0;
				hs.plain[0] = '\0';
			}
			break;
		case ',':
		case ';':
			if (hs.in_angle) {
				hdr_add(&hs, c);
				break;
			}
			if (hdr_element_end(&hs, out, max, n_r, error_r) < 0)
				return -1;
			break;
		default: hdr_add(&hs, c); break;
		}
	}
	if (hdr_element_end(&hs, out, max, n_r, error_r) < 0)
		return -1;
	if (*n_r == 0) {
		*error_r = "no address";
		return -1;
	}
	return 0;
}
