/* SPF check_host() (RFC 7208). A record is checked for syntax as a whole
 * before any term is evaluated (section 4.6), then its mechanisms run
 * left to right; "include" and "redirect" recurse. Every DNS-querying
 * term counts toward the limit of 10 and lookups that find nothing toward
 * the limit of 2, for the whole evaluation, so a hostile record costs at
 * most a bounded number of queries. No I/O here: the lookups come through
 * struct spf_dns. "exp" is checked for syntax and otherwise ignored (the
 * explanation would only decorate a rejection, and Yubin does not reject
 * on SPF). */
#include "policy/spf.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* A value a macro letter stands for is at most this long (a sender is at
 * most 320 bytes, an IPv6 address in nibbles 63). */
#define SPF_VALUE_MAX 640
/* The expansion of one domain-spec, before truncation to 253. */
#define SPF_EXPAND_MAX 2048

enum spf_mech {
	MECH_ALL, MECH_INCLUDE, MECH_A, MECH_MX, MECH_PTR, MECH_IP4, MECH_IP6, MECH_EXISTS,
	MOD_REDIRECT, MOD_EXP, MOD_UNKNOWN
};

static const char *const spf_mech_names[] = {
	"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists", "redirect", "exp", NULL
};

/* One term of a record, its parts pointing into the record. */
struct spf_term {
	const char *text;	/* the whole term */
	size_t len;
	char qualifier;		/* + - ~ ? */
	enum spf_mech mech;
	const char *spec;	/* domain-spec (or macro-string of a modifier), NULL if none */
	size_t spec_len;
	unsigned cidr4, cidr6;
	struct spf_ip net;	/* ip4/ip6 */
};

struct spf_eval {
	const struct spf_dns *dns;
	const struct spf_request *req;
	struct spf_outcome *out;
	unsigned lookups, voids;
};

const char *spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_NONE: return "none";
	case SPF_NEUTRAL: return "neutral";
	case SPF_PASS: return "pass";
	case SPF_FAIL: return "fail";
	case SPF_SOFTFAIL: return "softfail";
	case SPF_TEMPERROR: return "temperror";
	case SPF_PERMERROR: return "permerror";
	}
	return "permerror";
}

int spf_ip_parse(const char *s, struct spf_ip *ip_r)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(ip_r, 0, sizeof(*ip_r));
	if (inet_pton(AF_INET, s, ip_r->addr) == 1) {
		ip_r->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip_r->addr) == 1) {
		ip_r->family = AF_INET6;
		if (memcmp(ip_r->addr, mapped, sizeof(mapped)) == 0) {
			memmove(ip_r->addr, ip_r->addr + 12, 4);
			memset(ip_r->addr + 4, 0, 12);
			ip_r->family = AF_INET;
		}
		return 0;
	}
	return -1;
}

/* Whether the first bits of a and b agree. */
static bool spf_ip_match(const struct spf_ip *a, const struct spf_ip *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (a->family != b->family)
		return false;
	if (memcmp(a->addr, b->addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a->addr[whole] ^ b->addr[whole]) & (0xff00u >> rest) & 0xff) == 0;
}

/* Records why (the first problem met is the one that matters): before,
 * the bytes arg[0..arg_len) made printable, after. */
static void spf_reason(struct spf_eval *e, const char *before, const char *arg, size_t arg_len,
		       const char *after)
{
	char piece[100];

	if (e->out->reason[0] != '\0')
		return;
	if (arg == NULL)
		arg_len = 0;
	if (arg_len >= sizeof(piece))
		arg_len = sizeof(piece) - 1;
	if (arg_len > 0)
		memcpy(piece, arg, arg_len);
	piece[arg_len] = '\0';
	for (char *p = piece; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	}
	snprintf(e->out->reason, sizeof(e->out->reason), "%s%s%s", before, piece, after);
}

/* ---- domain names */

/* RFC 7208 section 4.3: a multi-label name with labels of 1..63 bytes
 * (a final dot allowed), at most 253 bytes. */
static bool spf_domain_is_valid(const char *d)
{
	size_t len = strlen(d), label = 0, labels = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0)
				return false;
			labels++;
			label = 0;
			continue;
		}
		if (c <= ' ' || c >= 0x7f)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && labels >= 1;
}

/* Removes labels from the left until the name has at most 253 bytes. */
static void spf_domain_truncate(char *d)
{
	size_t len = strlen(d);

	while (len > 253) {
		char *dot = strchr(d, '.');
		if (dot == NULL) {
			d[0] = '\0';
			return;
		}
		memmove(d, dot + 1, len - (size_t)(dot + 1 - d) + 1);
		len = strlen(d);
	}
}

/* ---- macros (RFC 7208 section 7) */

static bool spf_is_delim(char c)
{
	return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

/* The value of one macro letter into buf: 0, or -1 for an unknown letter. */
static int spf_macro_value(char letter, const struct spf_macro_ctx *mc, char *buf, size_t size)
{
	const char *sender = mc->sender != NULL ? mc->sender : "";
	const char *at = strrchr(sender, '@');

	buf[0] = '\0';
	switch (tolower((unsigned char)letter)) {
	case 's':
		str_copy(buf, size, sender);
		return 0;
	case 'l':
		if (at == NULL || at == sender)
			str_copy(buf, size, "postmaster");
		else
			str_copyn(buf, size, sender, (size_t)(at - sender));
		return 0;
	case 'o':
		str_copy(buf, size, at != NULL ? at + 1 : sender);
		return 0;
	case 'd':
		str_copy(buf, size, mc->domain != NULL ? mc->domain : "");
		return 0;
	case 'h':
		str_copy(buf, size, mc->helo != NULL ? mc->helo : "");
		return 0;
	case 'p':
		/* the validated reverse name: never validated here (section
		 * 7.3 allows "unknown"; the macro is deprecated) */
		str_copy(buf, size, "unknown");
		return 0;
	case 'v':
		str_copy(buf, size, mc->ip != NULL && mc->ip->family == AF_INET6 ? "ip6" : "in-addr");
		return 0;
	case 'i':
		if (mc->ip == NULL)
			return 0;
		if (mc->ip->family == AF_INET) {
			snprintf(buf, size, "%u.%u.%u.%u", mc->ip->addr[0], mc->ip->addr[1],
				 mc->ip->addr[2], mc->ip->addr[3]);
		} else if (size >= 64) {
			static const char hex[] = "0123456789abcdef";
			size_t o = 0;
			for (int i = 0; i < 16; i++) {
				buf[o++] = hex[mc->ip->addr[i] >> 4];
				buf[o++] = '.';
				buf[o++] = hex[mc->ip->addr[i] & 15];
				buf[o++] = i < 15 ? '.' : '\0';
			}
		}
		return 0;
	case 'c':
		if (!mc->exp)
			return -1;
		if (mc->ip != NULL)
			inet_ntop(mc->ip->family, mc->ip->addr, buf, (socklen_t)size);
		return 0;
	case 'r':
		if (!mc->exp)
			return -1;
		str_copy(buf, size, mc->receiver != NULL && mc->receiver[0] != '\0' ? mc->receiver : "unknown");
		return 0;
	case 't':
		if (!mc->exp)
			return -1;
		snprintf(buf, size, "%lld", mc->now);
		return 0;
	default:
		return -1;
	}
}

struct spf_out {
	char *buf;
	size_t size, len;
	bool overflow;
};

static void spf_out_add(struct spf_out *o, const char *s, size_t len)
{
	if (o->buf == NULL)
		return;		/* syntax check only */
	if (o->len + len >= o->size) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

/* Appends value transformed: split on delims, reversed if reverse, the
 * rightmost keep parts (0: all), joined with dots; URL-escaped if
 * escape. */
static void spf_macro_transform(struct spf_out *o, const char *value, const char *delims,
				unsigned keep, bool reverse, bool escape)
{
	size_t starts[SPF_VALUE_MAX + 1], lens[SPF_VALUE_MAX + 1];
	size_t n = 0, start = 0, vlen = strlen(value);
	size_t first;

	for (size_t i = 0; i <= vlen && n < SPF_VALUE_MAX + 1; i++) {
		bool cut = i == vlen || (delims[0] == '\0' ? value[i] == '.' : strchr(delims, value[i]) != NULL);
		if (!cut)
			continue;
		starts[n] = start;
		lens[n] = i - start;
		n++;
		start = i + 1;
	}
	first = keep > 0 && keep < n ? n - keep : 0;
	for (size_t k = first; k < n; k++) {
		/* the k-th part after the optional reversal */
		size_t idx = reverse ? n - 1 - k : k;
		const char *p = value + starts[idx];

		if (k > first)
			spf_out_add(o, ".", 1);
		if (!escape) {
			spf_out_add(o, p, lens[idx]);
			continue;
		}
		for (size_t j = 0; j < lens[idx]; j++) {
			unsigned char c = (unsigned char)p[j];
			char hex[4];
			if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
				spf_out_add(o, &p[j], 1);
				continue;
			}
			snprintf(hex, sizeof(hex), "%%%02X", c);
			spf_out_add(o, hex, 3);
		}
	}
}

/* Expands (or with o->buf NULL only checks) a macro-string. *ends_macro_r
 * tells whether it ends with a macro-expand; *last_dot_r is the offset
 * after the last literal '.' that is not the final character (or
 * SIZE_MAX). */
static int spf_macro_run(const char *src, size_t len, const struct spf_macro_ctx *mc, struct spf_out *o,
			 bool *ends_macro_r, size_t *last_dot_r, const char **error_r)
{
	size_t i = 0;

	*ends_macro_r = false;
	*last_dot_r = SIZE_MAX;
	while (i < len) {
		char c = src[i];

		if (c != '%') {
			if (((unsigned char)c < 0x21 && !(c == ' ' && mc->exp)) || (unsigned char)c > 0x7e) {
				*error_r = "invalid character in a macro string";
				return -1;
			}
			if (c == '.' && i + 1 < len)
				*last_dot_r = i + 1;
			spf_out_add(o, &src[i], 1);
			*ends_macro_r = false;
			i++;
			continue;
		}
		if (i + 1 >= len) {
			*error_r = "a '%' at the end of a macro string";
			return -1;
		}
		c = src[i + 1];
		if (c == '%' || c == '_' || c == '-') {
			spf_out_add(o, c == '%' ? "%" : c == '_' ? " " : "%20", c == '-' ? 3 : 1);
			*ends_macro_r = true;
			i += 2;
			continue;
		}
		if (c != '{') {
			*error_r = "a '%' not followed by '{', '%', '_' or '-'";
			return -1;
		}
		{
			char letter, value[SPF_VALUE_MAX], delims[8] = "";
			unsigned keep = 0, ndelim = 0;
			bool reverse = false, digits = false;
			size_t j = i + 2;

			if (j >= len) {
				*error_r = "an unterminated macro";
				return -1;
			}
			letter = src[j++];
			if (spf_macro_value(letter, mc, value, sizeof(value)) < 0) {
				*error_r = "an unknown macro letter";
				return -1;
			}
			while (j < len && isdigit((unsigned char)src[j])) {
				digits = true;
				if (keep < 1000)
					keep = keep * 10 + (unsigned)(src[j] - '0');
				j++;
			}
			if (digits && keep == 0) {
				*error_r = "a macro keeping 0 parts";
				return -1;
			}
			if (j < len && (src[j] == 'r' || src[j] == 'R')) {
				reverse = true;
				j++;
			}
			while (j < len && spf_is_delim(src[j])) {
				if (ndelim < sizeof(delims) - 1 && strchr(delims, src[j]) == NULL)
					delims[ndelim++] = src[j];
				j++;
			}
			if (j >= len || src[j] != '}') {
				*error_r = "a malformed macro";
				return -1;
			}
			spf_macro_transform(o, value, delims, keep, reverse, isupper((unsigned char)letter) != 0);
			*ends_macro_r = true;
			i = j + 1;
		}
	}
	if (o->overflow) {
		*error_r = "a macro expansion too long";
		return -1;
	}
	return 0;
}

int spf_macro_expand(const char *src, size_t len, const struct spf_macro_ctx *mc, bool domain,
		     char *out, size_t size, const char **error_r)
{
	struct spf_out o = { .buf = out, .size = size };
	bool ends_macro;
	size_t last_dot;

	if (size == 0) {
		*error_r = "no room";
		return -1;
	}
	out[0] = '\0';
	if (spf_macro_run(src, len, mc, &o, &ends_macro, &last_dot, error_r) < 0)
		return -1;
	if (domain)
		spf_domain_truncate(out);
	return 0;
}

/* ---- record syntax (section 12) */

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool spf_is_toplabel(const char *s, size_t len)
{
	bool alpha = false, hyphen = false;

	if (len == 0 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalpha(c))
			alpha = true;
		else if (c == '-')
			hyphen = true;
		else if (!isdigit(c))
			return false;
	}
	return alpha || hyphen;
}

/* domain-spec = macro-string domain-end
 * domain-end  = ( "." toplabel [ "." ] ) / macro-expand */
static int spf_domain_spec_check(const char *s, size_t len, const char **error_r)
{
	static const struct spf_macro_ctx none = { 0 };
	struct spf_out o = { 0 };
	bool ends_macro;
	size_t last_dot, end = len;

	if (len == 0) {
		*error_r = "an empty domain";
		return -1;
	}
	if (spf_macro_run(s, len, &none, &o, &ends_macro, &last_dot, error_r) < 0)
		return -1;
	if (s[end - 1] == '.')
		end--;
	/* ends with a macro, maybe followed by a dot (accepted: a final dot
	 * only makes the name absolute) */
	if (ends_macro || (end < len && end > 0 &&
			   spf_macro_run(s, end, &none, &o, &ends_macro, &last_dot, error_r) == 0 && ends_macro))
		return 0;
	/* the last label: after the last literal dot before the end */
	{
		size_t dot = SIZE_MAX;
		for (size_t i = 0; i < end; i++) {
			if (s[i] == '.')
				dot = i;
			else if (s[i] == '%')
				dot = SIZE_MAX, i++;	/* a macro is not a literal label part */
		}
		if (dot == SIZE_MAX || !spf_is_toplabel(s + dot + 1, end - dot - 1)) {
			*error_r = "a domain that does not end in a top-level label";
			return -1;
		}
	}
	return 0;
}

/* A CIDR length: "0" or a number without leading zeros up to max. */
static int spf_cidr_parse(const char *s, size_t len, unsigned max, unsigned *bits_r)
{
	unsigned v = 0;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*bits_r = v;
	return 0;
}

/* Splits a trailing dual-cidr-length off arg[0..*len): "/N", "//M",
 * "/N//M". */
static int spf_dual_cidr(const char *arg, size_t *len, struct spf_term *t, const char **error_r)
{
	size_t n = *len, i = n;

	t->cidr4 = 32;
	t->cidr6 = 128;
	while (i > 0 && isdigit((unsigned char)arg[i - 1]))
		i--;
	if (i < n && i >= 2 && arg[i - 1] == '/' && arg[i - 2] == '/') {
		if (spf_cidr_parse(arg + i, n - i, 128, &t->cidr6) < 0) {
			*error_r = "an invalid IPv6 prefix length";
			return -1;
		}
		n = i - 2;
		i = n;
		while (i > 0 && isdigit((unsigned char)arg[i - 1]))
			i--;
	}
	if (i < n && i >= 1 && arg[i - 1] == '/') {
		if (spf_cidr_parse(arg + i, n - i, 32, &t->cidr4) < 0) {
			*error_r = "an invalid IPv4 prefix length";
			return -1;
		}
		n = i - 1;
	}
	*len = n;
	return 0;
}

/* ip4-network / ip6-network with an optional prefix length. */
static int spf_network_parse(const char *arg, size_t len, int family, struct spf_term *t,
			     const char **error_r)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = memchr(arg, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - arg) : len;
	unsigned max = family == AF_INET ? 32 : 128;
	unsigned bits = max;

	if (alen == 0 || alen >= sizeof(buf)) {
		*error_r = "an invalid network";
		return -1;
	}
	memcpy(buf, arg, alen);
	buf[alen] = '\0';
	memset(&t->net, 0, sizeof(t->net));
	t->net.family = family;
	if (inet_pton(family, buf, t->net.addr) != 1) {
		*error_r = family == AF_INET ? "an invalid IPv4 address" : "an invalid IPv6 address";
		return -1;
	}
	if (slash != NULL && spf_cidr_parse(slash + 1, len - alen - 1, max, &bits) < 0) {
		*error_r = "an invalid prefix length";
		return -1;
	}
	if (family == AF_INET)
		t->cidr4 = bits;
	else
		t->cidr6 = bits;
	return 0;
}

/* Parses one term text[0..len). 0, or -1 with the reason. */
static int spf_term_parse(const char *text, size_t len, struct spf_term *t, const char **error_r)
{
	size_t i = 0, nlen;
	const char *name, *rest;
	size_t rlen;
	bool qualified = false;

	memset(t, 0, sizeof(*t));
	t->text = text;
	t->len = len;
	t->qualifier = '+';
	if (len > 0 && strchr("+-~?", text[0]) != NULL) {
		t->qualifier = text[0];
		qualified = true;
		i++;
	}
	name = text + i;
	if (i >= len || !isalpha((unsigned char)text[i])) {
		*error_r = "a term that does not start with a name";
		return -1;
	}
	while (i < len && (isalnum((unsigned char)text[i]) || text[i] == '-' || text[i] == '_' ||
			   text[i] == '.'))
		i++;
	nlen = (size_t)(text + i - name);
	rest = text + i;
	rlen = len - i;
	if (rlen > 0 && rest[0] == '=') {
		/* a modifier */
		if (qualified) {
			*error_r = "a qualifier on a modifier";
			return -1;
		}
		t->mech = MOD_UNKNOWN;
		if (nlen == 8 && strncasecmp(name, "redirect", 8) == 0)
			t->mech = MOD_REDIRECT;
		else if (nlen == 3 && strncasecmp(name, "exp", 3) == 0)
			t->mech = MOD_EXP;
		t->spec = rest + 1;
		t->spec_len = rlen - 1;
		if (t->mech == MOD_UNKNOWN) {
			static const struct spf_macro_ctx none = { 0 };
			struct spf_out o = { 0 };
			bool em;
			size_t ld;
			return spf_macro_run(t->spec, t->spec_len, &none, &o, &em, &ld, error_r);
		}
		return spf_domain_spec_check(t->spec, t->spec_len, error_r);
	}
	for (t->mech = MECH_ALL; t->mech <= MECH_EXISTS; t->mech++) {
		const char *m = spf_mech_names[t->mech];
		if (strlen(m) == nlen && strncasecmp(name, m, nlen) == 0)
			break;
	}
	if (t->mech > MECH_EXISTS) {
		*error_r = "an unknown mechanism";
		return -1;
	}
	switch (t->mech) {
	case MECH_ALL:
		if (rlen != 0) {
			*error_r = "\"all\" takes no argument";
			return -1;
		}
		return 0;
	case MECH_INCLUDE:
	case MECH_EXISTS:
		if (rlen < 2 || rest[0] != ':') {
			*error_r = "a mechanism without its domain";
			return -1;
		}
		t->spec = rest + 1;
		t->spec_len = rlen - 1;
		return spf_domain_spec_check(t->spec, t->spec_len, error_r);
	case MECH_A:
	case MECH_MX:
		if (spf_dual_cidr(rest, &rlen, t, error_r) < 0)
			return -1;
		if (rlen == 0)
			return 0;
		if (rest[0] != ':') {
			*error_r = "a malformed \"a\" or \"mx\" mechanism";
			return -1;
		}
		t->spec = rest + 1;
		t->spec_len = rlen - 1;
		return spf_domain_spec_check(t->spec, t->spec_len, error_r);
	case MECH_PTR:
		if (rlen == 0)
			return 0;
		if (rest[0] != ':') {
			*error_r = "a malformed \"ptr\" mechanism";
			return -1;
		}
		t->spec = rest + 1;
		t->spec_len = rlen - 1;
		return spf_domain_spec_check(t->spec, t->spec_len, error_r);
	case MECH_IP4:
	case MECH_IP6:
		if (rlen < 2 || rest[0] != ':') {
			*error_r = "an ip4/ip6 mechanism without its network";
			return -1;
		}
		return spf_network_parse(rest + 1, rlen - 1, t->mech == MECH_IP4 ? AF_INET : AF_INET6, t,
					 error_r);
	default:
		break;
	}
	*error_r = "an unknown mechanism";
	return -1;
}

/* The next term of a record after *pos (terms are separated by spaces).
 * 1 with the term, 0 at the end, -1 on a syntax error. */
static int spf_term_next(const char *rec, size_t *pos, struct spf_term *t, const char **error_r)
{
	size_t i = *pos, start;

	while (rec[i] == ' ')
		i++;
	if (rec[i] == '\0') {
		*pos = i;
		return 0;
	}
	start = i;
	while (rec[i] != '\0' && rec[i] != ' ')
		i++;
	*pos = i;
	return spf_term_parse(rec + start, i - start, t, error_r) < 0 ? -1 : 1;
}

/* The record without "v=spf1": checks every term; at most one redirect
 * and one exp. */
static int spf_terms_check(const char *terms, const char **error_r, const char **bad_r, size_t *bad_len_r)
{
	struct spf_term t;
	size_t pos = 0;
	int r, redirects = 0, exps = 0;

	while ((r = spf_term_next(terms, &pos, &t, error_r)) > 0) {
		if ((t.mech == MOD_REDIRECT && ++redirects > 1) || (t.mech == MOD_EXP && ++exps > 1)) {
			*error_r = "a modifier given twice";
			r = -1;
			break;
		}
	}
	if (r < 0) {
		*bad_r = t.text;
		*bad_len_r = t.len;
		return -1;
	}
	return 0;
}

/* Whether rec is an SPF record ("v=spf1" alone or followed by a space);
 * *terms_r: what follows the version. */
static bool spf_is_record(const char *rec, const char **terms_r)
{
	if (strncasecmp(rec, "v=spf1", 6) != 0 || (rec[6] != '\0' && rec[6] != ' '))
		return false;
	*terms_r = rec + 6;
	return true;
}

int spf_record_check(const char *record, const char **error_r)
{
	const char *terms, *bad;
	size_t bad_len;

	if (!spf_is_record(record, &terms)) {
		*error_r = "not an SPF record";
		return -1;
	}
	return spf_terms_check(terms, error_r, &bad, &bad_len);
}

/* ---- evaluation */

static enum spf_result spf_host(struct spf_eval *e, const char *domain, const char *sender,
				char *mech_r, size_t mech_size);

static enum spf_result spf_qualifier_result(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	default: return SPF_PASS;
	}
}

/* The target of a term: its expanded domain-spec or the current domain. */
static int spf_target(struct spf_eval *e, const struct spf_term *t, const char *domain,
		      const char *sender, char *buf, size_t size)
{
	struct spf_macro_ctx mc = {
		.sender = sender, .domain = domain, .helo = e->req->helo, .ip = &e->req->ip,
	};
	const char *error;

	if (t->spec == NULL)
		return str_copy(buf, size, domain);
	if (spf_macro_expand(t->spec, t->spec_len, &mc, true, buf, size, &error) < 0) {
		spf_reason(e, "", error, strlen(error), "");
		return -1;
	}
	return 0;
}

/* Counts a void lookup: -1 once there are too many. */
static int spf_void(struct spf_eval *e)
{
	if (++e->voids > SPF_VOID_LIMIT) {
		spf_reason(e, "more than 2 DNS lookups found nothing", "", 0, "");
		return -1;
	}
	return 0;
}

/* Whether one of name's addresses of the client's family is within the
 * prefix: 1, 0, or a result to return (temperror/permerror). */
static int spf_addr_match(struct spf_eval *e, const char *name, unsigned cidr4, unsigned cidr6,
			  bool count_void, enum spf_result *res_r)
{
	struct spf_ip addrs[32];
	size_t n = 0;
	const struct spf_ip *ip = &e->req->ip;
	enum dns_result r = e->dns->addr(e->dns->ctx, name, ip->family, addrs, 32, &n);

	if (r == DNS_TEMPFAIL) {
		spf_reason(e, "DNS lookup of ", name, strlen(name), " failed");
		*res_r = SPF_TEMPERROR;
		return -1;
	}
	if (r != DNS_OK) {
		if (count_void && spf_void(e) < 0) {
			*res_r = SPF_PERMERROR;
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < n && i < 32; i++) {
		if (spf_ip_match(&addrs[i], ip, ip->family == AF_INET ? cidr4 : cidr6))
			return 1;
	}
	return 0;
}

/* name equals domain or is a subdomain of it (case-insensitive, a final
 * dot ignored). */
static bool spf_name_within(const char *name, const char *domain)
{
	size_t nl = strlen(name), dl = strlen(domain);

	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (dl == 0 || nl < dl || strncasecmp(name + nl - dl, domain, dl) != 0)
		return false;
	return nl == dl || name[nl - dl - 1] == '.';
}

/* Evaluates one mechanism: 1 match, 0 no match, -1 with *res_r set. */
static int spf_mech_eval(struct spf_eval *e, const struct spf_term *t, const char *domain,
			 const char *sender, enum spf_result *res_r)
{
	char target[SPF_EXPAND_MAX];
	const struct spf_ip *ip = &e->req->ip;

	switch (t->mech) {
	case MECH_ALL:
		return 1;
	case MECH_IP4:
	case MECH_IP6:
		return spf_ip_match(&t->net, ip, t->mech == MECH_IP4 ? t->cidr4 : t->cidr6) ? 1 : 0;
	default:
		break;
	}
	/* everything else queries DNS */
	if (++e->lookups > SPF_LOOKUP_LIMIT) {
		spf_reason(e, "more than 10 DNS-querying terms", "", 0, "");
		*res_r = SPF_PERMERROR;
		return -1;
	}
	if (spf_target(e, t, domain, sender, target, sizeof(target)) < 0) {
		*res_r = SPF_PERMERROR;
		return -1;
	}
	switch (t->mech) {
	case MECH_INCLUDE: {
		char mech[96];
		enum spf_result r;

		if (!spf_domain_is_valid(target)) {
			spf_reason(e, "include of an invalid domain ", target, strlen(target), "");
			*res_r = SPF_PERMERROR;
			return -1;
		}
		r = spf_host(e, target, sender, mech, sizeof(mech));
		if (r == SPF_PASS)
			return 1;
		if (r == SPF_FAIL || r == SPF_SOFTFAIL || r == SPF_NEUTRAL)
			return 0;
		if (r == SPF_NONE)
			spf_reason(e, "included domain ", target, strlen(target), " has no SPF record");
		*res_r = r == SPF_TEMPERROR ? SPF_TEMPERROR : SPF_PERMERROR;
		return -1;
	}
	case MECH_A:
		if (!spf_domain_is_valid(target))
			return 0;
		return spf_addr_match(e, target, t->cidr4, t->cidr6, true, res_r);
	case MECH_MX: {
		char names[SPF_NAME_LIMIT + 1][DNS_NAME_MAX];
		size_t n = 0;
		enum dns_result r;

		if (!spf_domain_is_valid(target))
			return 0;
		r = e->dns->mx(e->dns->ctx, target, names, SPF_NAME_LIMIT + 1, &n);
		if (r == DNS_TEMPFAIL) {
			spf_reason(e, "DNS lookup of MX ", target, strlen(target), " failed");
			*res_r = SPF_TEMPERROR;
			return -1;
		}
		if (r != DNS_OK) {
			if (spf_void(e) < 0) {
				*res_r = SPF_PERMERROR;
				return -1;
			}
			return 0;
		}
		if (n > SPF_NAME_LIMIT) {
			spf_reason(e, "more than 10 MX names for ", target, strlen(target), "");
			*res_r = SPF_PERMERROR;
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			int m;
			if (names[i][0] == '\0')
				continue;	/* null MX */
			m = spf_addr_match(e, names[i], t->cidr4, t->cidr6, false, res_r);
			if (m != 0)
				return m;
		}
		return 0;
	}
	case MECH_PTR: {
		char names[SPF_NAME_LIMIT][DNS_NAME_MAX];
		size_t n = 0;
		enum dns_result r = e->dns->ptr(e->dns->ctx, ip, names, SPF_NAME_LIMIT, &n);

		if (r == DNS_NXDOMAIN || r == DNS_NODATA) {
			if (spf_void(e) < 0) {
				*res_r = SPF_PERMERROR;
				return -1;
			}
			return 0;
		}
		if (r != DNS_OK)
			return 0;	/* section 5.5: a DNS error makes ptr not match */
		for (size_t i = 0; i < n && i < SPF_NAME_LIMIT; i++) {
			enum spf_result ignored;
			if (!spf_name_within(names[i], target))
				continue;
			/* validated: the name has the client's address */
			if (spf_addr_match(e, names[i], 32, 128, false, &ignored) == 1)
				return 1;
		}
		return 0;
	}
	case MECH_EXISTS: {
		struct spf_ip addrs[4];
		size_t n = 0;
		enum dns_result r;

		if (!spf_domain_is_valid(target))
			return 0;
		r = e->dns->addr(e->dns->ctx, target, AF_INET, addrs, 4, &n);	/* always A (5.7) */
		if (r == DNS_TEMPFAIL) {
			spf_reason(e, "DNS lookup of ", target, strlen(target), " failed");
			*res_r = SPF_TEMPERROR;
			return -1;
		}
		if (r != DNS_OK) {
			if (spf_void(e) < 0) {
				*res_r = SPF_PERMERROR;
				return -1;
			}
			return 0;
		}
		return 1;
	}
	default:
		return 0;
	}
}

/* Copies a term's text into a bounded, printable buffer. */
static void spf_term_text(const struct spf_term *t, char *buf, size_t size)
{
	size_t n = t->len < size - 1 ? t->len : size - 1;

	memcpy(buf, t->text, n);
	buf[n] = '\0';
	for (char *p = buf; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			*p = '?';
	}
}

/* Fetches domain's SPF record: the result to return unless it is one
 * to evaluate (SPF_PASS here means "found", *rec_r malloc'd). */
static enum spf_result spf_record_fetch(struct spf_eval *e, const char *domain, char **rec_r)
{
	char **txt = NULL;
	size_t n = 0, found = 0;
	const char *terms;
	enum dns_result r = e->dns->txt(e->dns->ctx, domain, &txt, &n);

	*rec_r = NULL;
	if (r == DNS_TEMPFAIL) {
		spf_reason(e, "DNS lookup of ", domain, strlen(domain), "'s SPF record failed");
		return SPF_TEMPERROR;
	}
	if (r != DNS_OK) {
		spf_reason(e, "", domain, strlen(domain), " has no SPF record");
		return SPF_NONE;
	}
	for (size_t i = 0; i < n; i++) {
		if (txt[i] == NULL || !spf_is_record(txt[i], &terms))
			continue;
		if (++found == 1)
			*rec_r = strdup(txt[i]);
	}
	e->dns->free_txt(e->dns->ctx, txt, n);
	if (found > 1) {
		free(*rec_r);
		*rec_r = NULL;
		spf_reason(e, "", domain, strlen(domain), " has more than one SPF record");
		return SPF_PERMERROR;
	}
	if (found == 0) {
		spf_reason(e, "", domain, strlen(domain), " has no SPF record");
		return SPF_NONE;
	}
	if (*rec_r == NULL) {
		spf_reason(e, "out of memory", "", 0, "");
		return SPF_TEMPERROR;
	}
	return SPF_PASS;
}

static enum spf_result spf_host(struct spf_eval *e, const char *domain, const char *sender,
				char *mech_r, size_t mech_size)
{
	char *rec;
	const char *terms = "", *error, *bad;
	struct spf_term t, redirect = { 0 };
	bool has_redirect = false;
	size_t pos = 0, bad_len;
	enum spf_result res;
	int r;

	str_copy(mech_r, mech_size, "default");
	if (!spf_domain_is_valid(domain)) {
		spf_reason(e, "", domain, strlen(domain), " is not a valid domain name");
		return SPF_NONE;
	}
	res = spf_record_fetch(e, domain, &rec);
	if (res != SPF_PASS)
		return res;
	spf_is_record(rec, &terms);
	if (spf_terms_check(terms, &error, &bad, &bad_len) < 0) {
		char why[160];
		snprintf(why, sizeof(why), "syntax error in %s's SPF record (%s): ", domain, error);
		spf_reason(e, why, bad, bad_len, "");
		free(rec);
		return SPF_PERMERROR;
	}
	while ((r = spf_term_next(terms, &pos, &t, &error)) > 0) {
		int m;

		if (t.mech == MOD_REDIRECT) {
			redirect = t;
			has_redirect = true;
			continue;
		}
		if (t.mech >= MOD_REDIRECT)
			continue;	/* exp, unknown modifiers */
		m = spf_mech_eval(e, &t, domain, sender, &res);
		if (m < 0) {
			spf_term_text(&t, mech_r, mech_size);
			free(rec);
			return res;
		}
		if (m > 0) {
			spf_term_text(&t, mech_r, mech_size);
			free(rec);
			return spf_qualifier_result(t.qualifier);
		}
	}
	if (has_redirect) {	/* reached only when no "all" matched */
		char target[SPF_EXPAND_MAX];

		if (++e->lookups > SPF_LOOKUP_LIMIT) {
			spf_reason(e, "more than 10 DNS-querying terms", "", 0, "");
			free(rec);
			return SPF_PERMERROR;
		}
		if (spf_target(e, &redirect, domain, sender, target, sizeof(target)) < 0) {
			free(rec);
			return SPF_PERMERROR;
		}
		free(rec);
		res = spf_host(e, target, sender, mech_r, mech_size);
		if (res == SPF_NONE) {
			spf_reason(e, "redirect to ", target, strlen(target), ", which has no SPF record");
			return SPF_PERMERROR;
		}
		return res;
	}
	free(rec);
	return SPF_NEUTRAL;
}

enum spf_result spf_check_host(const struct spf_dns *dns, const struct spf_request *req,
			       const char *domain, const char *sender, struct spf_outcome *out)
{
	struct spf_eval e = { .dns = dns, .req = req, .out = out };
	enum spf_result r;

	out->reason[0] = '\0';
	r = spf_host(&e, domain, sender, out->mechanism, sizeof(out->mechanism));
	out->lookups = e.lookups;
	out->voids = e.voids;
	out->result = r;
	if (r != SPF_TEMPERROR && r != SPF_PERMERROR && r != SPF_NONE)
		out->reason[0] = '\0';	/* a problem met on the way that did not decide */
	return r;
}

enum spf_result spf_check(const struct spf_dns *dns, const struct spf_request *req,
			  struct spf_outcome *out)
{
	const char *from = req->mail_from != NULL ? req->mail_from : "";
	const char *at;

	memset(out, 0, sizeof(*out));
	if (from[0] == '\0') {
		const char *helo = req->helo != NULL ? req->helo : "";

		out->helo_identity = true;
		snprintf(out->identity, sizeof(out->identity), "postmaster@%s", helo);
		str_copy(out->domain, sizeof(out->domain), helo);
		str_lower(out->domain);
		if (helo[0] == '\0' || helo[0] == '[' || !spf_domain_is_valid(helo)) {
			out->result = SPF_NONE;
			str_copy(out->reason, sizeof(out->reason), "no HELO domain name to check");
			return SPF_NONE;
		}
		return spf_check_host(dns, req, out->domain, out->identity, out);
	}
	at = strrchr(from, '@');
	if (at == NULL || at[1] == '\0' || at[1] == '[') {
		str_copy(out->identity, sizeof(out->identity), from);
		out->result = SPF_NONE;
		str_copy(out->reason, sizeof(out->reason), "no domain in the MAIL FROM address");
		return SPF_NONE;
	}
	if (at == from)
		snprintf(out->identity, sizeof(out->identity), "postmaster%s", from);
	else
		str_copy(out->identity, sizeof(out->identity), from);
	str_copy(out->domain, sizeof(out->domain), at + 1);
	str_lower(out->domain);
	return spf_check_host(dns, req, out->domain, out->identity, out);
}
