/* MTA-STS (RFC 8461) records and policies and TLS-RPT (RFC 8460) records:
 * pure parsers, bounded by the structures they fill. */
#include "policy/mta_sts.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* A host name or "*."-pattern: labels of letters, digits and hyphens,
 * none empty or longer than 63, "*" only as the whole first label. */
static bool mx_pattern_is_valid(const char *s, size_t n)
{
	size_t label = 0;

	if (n > MTA_STS_NAME_MAX)
		return false;	/* (the whole pattern fits the policy's slot) */
	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n > MTA_STS_NAME_MAX)
		return false;
	if (s[n - 1] == '.')
		n--;		/* a final dot: the same name */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* The next "NAME=VALUE" field of a tag list after the version tag: the
 * name and value spans; 1 found, 0 at the end, -1 malformed. */
static int tag_next(const char **pp, const char **name, size_t *nlen, const char **val, size_t *vlen)
{
	const char *p = *pp;

	while (is_wsp(*p))
		p++;
	if (*p == '\0')
		return 0;
	if (*p != ';')
		return -1;
	p++;
	while (is_wsp(*p))
		p++;
	if (*p == '\0') {
		*pp = p;
		return 0;	/* a final ";" */
	}
	*name = p;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.')
		p++;
	*nlen = (size_t)(p - *name);
	if (*nlen == 0 || *p != '=')
		return -1;
	*val = ++p;
	while (*p > 0x20 && *p < 0x7f && *p != ';')
		p++;
	*vlen = (size_t)(p - *val);
	*pp = p;
	return 1;
}

/* "v=VERSION" at the start of txt followed by a field separator or the
 * end: the rest of the record, or NULL. */
static const char *tag_version(const char *txt, const char *version)
{
	size_t n = strlen(version);

	if (strncmp(txt, version, n) != 0)
		return NULL;
	txt += n;
	return *txt == '\0' || *txt == ';' || is_wsp(*txt) ? txt : NULL;
}

int mta_sts_txt_parse(const char *txt, char *id_r, const char **error_r)
{
	const char *p = tag_version(txt, "v=STSv1"), *name, *val;
	size_t nlen, vlen;
	int r;

	id_r[0] = '\0';
	if (p == NULL)
		return 0;
	while ((r = tag_next(&p, &name, &nlen, &val, &vlen)) > 0) {
		if (nlen != 2 || strncmp(name, "id", 2) != 0 || id_r[0] != '\0')
			continue;	/* other fields are extensions */
		if (vlen == 0 || vlen > MTA_STS_ID_MAX) {
			*error_r = "the id is not 1 to 32 letters and digits";
			return -1;
		}
		for (size_t i = 0; i < vlen; i++) {
			if (!isalnum((unsigned char)val[i])) {
				*error_r = "the id is not 1 to 32 letters and digits";
				id_r[0] = '\0';
				return -1;
			}
			id_r[i] = val[i];
		}
		id_r[vlen] = '\0';
	}
	if (r < 0) {
		*error_r = "malformed field list";
		id_r[0] = '\0';
		return -1;
	}
	if (id_r[0] == '\0') {
		*error_r = "no id field";
		return -1;
	}
	return 1;
}

/* One "key: value" line (trailing blanks already cut) into p; seen
 * records the keys met so that the first of each counts. */
static int policy_field(struct mta_sts_policy *p, const char *key, size_t klen, const char *val, size_t vlen,
			unsigned *seen, const char **error_r)
{
#define KEY_IS(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
	if (KEY_IS("version")) {
		if (*seen & 1)
			return 0;
		*seen |= 1;
		if (vlen != 5 || memcmp(val, "STSv1", 5) != 0) {
			*error_r = "version is not STSv1";
			return -1;
		}
	} else if (KEY_IS("mode")) {
		if (*seen & 2)
			return 0;
		*seen |= 2;
		if (vlen == 7 && memcmp(val, "enforce", 7) == 0)
			p->mode = MTA_STS_ENFORCE;
		else if (vlen == 7 && memcmp(val, "testing", 7) == 0)
			p->mode = MTA_STS_TESTING;
		else if (vlen == 4 && memcmp(val, "none", 4) == 0)
			p->mode = MTA_STS_NONE;
		else {
			*error_r = "mode is not enforce, testing or none";
			return -1;
		}
	} else if (KEY_IS("max_age")) {
		uint64_t v = 0;

		if (*seen & 4)
			return 0;
		*seen |= 4;
		if (vlen == 0 || vlen > 10) {
			*error_r = "max_age is not a number of seconds";
			return -1;
		}
		for (size_t i = 0; i < vlen; i++) {
			if (!isdigit((unsigned char)val[i])) {
				*error_r = "max_age is not a number of seconds";
				return -1;
			}
			v = v * 10 + (uint64_t)(val[i] - '0');
		}
		p->max_age = v > MTA_STS_MAX_AGE_MAX ? MTA_STS_MAX_AGE_MAX : (uint32_t)v;
	} else if (KEY_IS("mx")) {
		if (!mx_pattern_is_valid(val, vlen)) {
			*error_r = "an mx pattern is not a host name";
			return -1;
		}
		if (p->n_mx == MTA_STS_MX_MAX) {
			*error_r = "too many mx patterns";
			return -1;
		}
		if (val[vlen - 1] == '.')
			vlen--;
		for (size_t i = 0; i < vlen; i++)
			p->mx[p->n_mx][i] = (char)tolower((unsigned char)val[i]);
		p->mx[p->n_mx++][vlen] = '\0';
	}
	return 0;
#undef KEY_IS
}

int mta_sts_policy_parse(const char *body, size_t len, struct mta_sts_policy *p, const char **error_r)
{
	const char *end = body + len;
	unsigned seen = 0;

	memset(p, 0, sizeof(*p));
	if (len > MTA_STS_POLICY_MAX) {
		*error_r = "the policy is too large";
		return -1;
	}
	while (body < end) {
		const char *eol = memchr(body, '\n', (size_t)(end - body)), *line_end, *colon, *val;

		line_end = eol != NULL ? eol : end;
		if (memchr(body, '\0', (size_t)(line_end - body)) != NULL) {
			*error_r = "a NUL byte in the policy";
			return -1;
		}
		if (line_end > body && line_end[-1] == '\r')
			line_end--;
		while (line_end > body && is_wsp(line_end[-1]))
			line_end--;
		if (line_end > body) {
			colon = memchr(body, ':', (size_t)(line_end - body));
			if (colon == NULL || colon == body) {
				*error_r = "a line is not \"key: value\"";
				return -1;
			}
			for (val = colon + 1; val < line_end && is_wsp(*val); val++)
				;
			if (policy_field(p, body, (size_t)(colon - body), val, (size_t)(line_end - val), &seen,
					 error_r) < 0)
				return -1;
		}
		body = eol != NULL ? eol + 1 : end;
	}
	if ((seen & 7) != 7) {
		*error_r = !(seen & 1) ? "no version" : !(seen & 2) ? "no mode" : "no max_age";
		return -1;
	}
	if (p->mode != MTA_STS_NONE && p->n_mx == 0) {
		*error_r = "no mx pattern";
		return -1;
	}
	return 1;
}

bool mta_sts_mx_match(const char *pattern, const char *host)
{
	size_t pn = strlen(pattern), hn = strlen(host);

	if (pn > 0 && pattern[pn - 1] == '.')
		pn--;
	if (hn > 0 && host[hn - 1] == '.')
		hn--;
	if (pn == 0 || hn == 0)
		return false;
	if (pn > 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* exactly one label in front of the rest */
		const char *dot = memchr(host, '.', hn);

		if (dot == NULL || dot == host)
			return false;
		return (size_t)(host + hn - dot) == pn - 1 && strncasecmp(dot, pattern + 1, pn - 1) == 0;
	}
	return pn == hn && strncasecmp(pattern, host, hn) == 0;
}

bool mta_sts_policy_allows(const struct mta_sts_policy *p, const char *host)
{
	for (size_t i = 0; i < p->n_mx; i++) {
		if (mta_sts_mx_match(p->mx[i], host))
			return true;
	}
	return false;
}

const char *mta_sts_mode_name(enum mta_sts_mode m)
{
	return m == MTA_STS_ENFORCE ? "enforce" : m == MTA_STS_TESTING ? "testing" : "none";
}

int tlsrpt_txt_parse(const char *txt, char rua_r[TLSRPT_RUA_MAX][TLSRPT_URI_MAX + 1], size_t *n_r,
		     const char **error_r)
{
	const char *p = tag_version(txt, "v=TLSRPTv1"), *name, *val;
	size_t nlen, vlen;
	bool have_rua = false;
	int r;

	*n_r = 0;
	if (p == NULL)
		return 0;
	while ((r = tag_next(&p, &name, &nlen, &val, &vlen)) > 0) {
		if (nlen != 3 || strncmp(name, "rua", 3) != 0 || have_rua)
			continue;
		have_rua = true;
		while (vlen > 0) {
			const char *comma = memchr(val, ',', vlen);
			size_t n = comma != NULL ? (size_t)(comma - val) : vlen;

			if (*n_r < TLSRPT_RUA_MAX && n <= TLSRPT_URI_MAX &&
			    ((n > 7 && strncasecmp(val, "mailto:", 7) == 0) ||
			     (n > 8 && strncasecmp(val, "https://", 8) == 0))) {
				memcpy(rua_r[*n_r], val, n);
				rua_r[(*n_r)++][n] = '\0';
			}
			val += n;
			vlen -= n;
			if (vlen > 0) {
				val++;
				vlen--;
			}
		}
	}
	if (r < 0) {
		*error_r = "malformed field list";
		return -1;
	}
	if (*n_r == 0) {
		*error_r = have_rua ? "no mailto: or https: address in rua" : "no rua field";
		return -1;
	}
	return 1;
}
