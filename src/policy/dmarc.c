/* DMARC (RFC 7489): policy discovery at _dmarc.FROMDOMAIN and then at the
 * organizational domain, alignment of the SPF and DKIM identifiers with
 * the From: domain, and the disposition after pct= sampling. The public
 * suffix list comes from libpsl (the newest of its built-in list and the
 * distribution's file), loaded once per process. */
#include "policy/dmarc.h"
#include "lib/dns_async.h"
#include "mail/header.h"
#include "mail/rfc5322.h"
#include "lib/str.h"

#include <ctype.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *dmarc_res_name(enum dmarc_res r)
{
	switch (r) {
	case DMARC_RES_NONE: return "none";
	case DMARC_RES_PASS: return "pass";
	case DMARC_RES_FAIL: return "fail";
	case DMARC_RES_TEMPERROR: return "temperror";
	case DMARC_RES_PERMERROR: return "permerror";
	}
	return "permerror";
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_QUARANTINE: return "quarantine";
	case DMARC_POLICY_REJECT: return "reject";
	default: return "none";
	}
}

/* ---- the record (section 6.3) */

static int dmarc_policy_parse(const char *v, enum dmarc_policy *p_r)
{
	if (strcasecmp(v, "none") == 0)
		*p_r = DMARC_POLICY_NONE;
	else if (strcasecmp(v, "quarantine") == 0)
		*p_r = DMARC_POLICY_QUARANTINE;
	else if (strcasecmp(v, "reject") == 0)
		*p_r = DMARC_POLICY_REJECT;
	else
		return -1;
	return 0;
}

/* Trims blanks (SP, HTAB, CR, LF: records may be folded) in place. */
static char *dmarc_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

int dmarc_record_parse(const char *txt, struct dmarc_record *rec_r, const char **error_r)
{
	char buf[1024], *save = NULL, *tag;
	bool first = true, has_p = false, bad_p = false, bad_sp = false;

	memset(rec_r, 0, sizeof(*rec_r));
	rec_r->pct = 100;
	if (strlen(txt) >= sizeof(buf)) {
		/* longer than any sane record: look only at its start */
		if (strncmp(txt, "v=DMARC1", 8) != 0)
			return 0;
		*error_r = "the DMARC record is too long";
		return -1;
	}
	str_copy(buf, sizeof(buf), txt);
	for (tag = strtok_r(buf, ";", &save); tag != NULL; tag = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tag, '='), *name, *value;

		if (eq == NULL) {
			if (first)
				return 0;
			if (dmarc_trim(tag)[0] == '\0')
				continue;	/* ";;" or a final ";" */
			*error_r = "a DMARC tag without '='";
			return -1;
		}
		*eq = '\0';
		name = dmarc_trim(tag);
		value = dmarc_trim(eq + 1);
		if (first) {
			/* v=DMARC1 must come first, exactly */
			if (strcmp(name, "v") != 0 || strcmp(value, "DMARC1") != 0)
				return 0;
			first = false;
			continue;
		}
		if (strcmp(name, "p") == 0 && !has_p) {
			has_p = true;
			bad_p = dmarc_policy_parse(value, &rec_r->p) < 0;
		} else if (strcmp(name, "sp") == 0 && !rec_r->has_sp && !bad_sp) {
			bad_sp = dmarc_policy_parse(value, &rec_r->sp) < 0;
			rec_r->has_sp = !bad_sp;
		} else if (strcmp(name, "np") == 0 && !rec_r->has_np) {
			rec_r->has_np = dmarc_policy_parse(value, &rec_r->np) == 0;
		} else if (strcmp(name, "adkim") == 0) {
			rec_r->adkim_strict = strcasecmp(value, "s") == 0;
		} else if (strcmp(name, "aspf") == 0) {
			rec_r->aspf_strict = strcasecmp(value, "s") == 0;
		} else if (strcmp(name, "pct") == 0) {
			uint64_t pct;
			if (str_parse_uint(value, 100, &pct) == 0)
				rec_r->pct = (unsigned)pct;
		} else if (strcmp(name, "rua") == 0 && rec_r->rua[0] == '\0') {
			str_copy(rec_r->rua, sizeof(rec_r->rua), value);
		}
		/* other tags (ruf, fo, rf, ri, unknown ones) are ignored */
	}
	if (first)
		return 0;
	if (!has_p || bad_p || bad_sp) {
		/* section 6.6.3 step 6: with a reporting address, p=none */
		if (strncasecmp(rec_r->rua, "mailto:", 7) == 0) {
			rec_r->p = DMARC_POLICY_NONE;
			rec_r->has_sp = false;
			return 1;
		}
		*error_r = !has_p ? "the DMARC record has no p= policy" : "the DMARC record has an invalid policy";
		return -1;
	}
	return 1;
}

/* ---- the From: domain (section 6.6.1) */

struct from_scan {
	char addr[520];		/* the current element's address text */
	size_t alen;
	bool angle_seen;	/* the element had <...>: its content is the address */
	bool overflow;
	char domain[DNS_NAME_MAX];
	unsigned naddrs;
	const char *error;
};

/* Adds a byte to the current address text. */
static void from_add(struct from_scan *fs, char c)
{
	if (fs->alen + 1 >= sizeof(fs->addr)) {
		fs->overflow = true;
		return;
	}
	fs->addr[fs->alen++] = c;
	fs->addr[fs->alen] = '\0';
}

/* Ends one element of the address list: takes its domain. */
static void from_element_end(struct from_scan *fs)
{
	const char *a = fs->addr, *at = NULL;
	char dom[DNS_NAME_MAX];
	size_t n = 0;

	if (fs->error != NULL)
		return;
	if (fs->overflow) {
		fs->error = "a From address is too long";
		return;
	}
	while (*a == ' ' || *a == '\t')
		a++;
	if (*a == '\0' && !fs->angle_seen)
		goto done;	/* an empty element: display text only, or ",," */
	if (*a == '@') {
		/* obsolete route: "@a,@b:local@domain" */
		const char *colon = strchr(a, ':');
		a = colon != NULL ? colon + 1 : a + strlen(a);
	}
	at = rfc5322_addr_at(a, strlen(a));
	if (at == NULL) {
		fs->error = "a From address without a domain";
		goto done;
	}
	for (const char *p = at + 1; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == ' ' || c == '\t')
			continue;
		if (c == '[') {
			fs->error = "a From address with an address literal";
			goto done;
		}
		if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80) || n + 1 >= sizeof(dom)) {
			fs->error = "a malformed From domain";
			goto done;
		}
		dom[n++] = (char)tolower(c);
	}
	while (n > 0 && dom[n - 1] == '.')
		n--;
	dom[n] = '\0';
	if (n == 0 || dom[0] == '.' || strstr(dom, "..") != NULL) {
		fs->error = "a malformed From domain";
		goto done;
	}
	if (fs->naddrs++ == 0)
		str_copy(fs->domain, sizeof(fs->domain), dom);
	else if (strcmp(fs->domain, dom) != 0)
		fs->error = "From has addresses in more than one domain";
done:
	fs->alen = 0;
	fs->addr[0] = '\0';
	fs->angle_seen = false;
	fs->overflow = false;
}

/* Scans an address list value (folding and comments allowed). */
static void from_scan_value(struct from_scan *fs, const char *v, size_t len)
{
	size_t i = 0;
	bool in_angle = false;

	while (i < len && fs->error == NULL) {
		char c = v[i];

		if (c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c == '(') {
			/* a comment, nested, with quoted pairs */
			i += rfc5322_comment(v + i, len - i, NULL);
			if (!in_angle && !fs->angle_seen)
				from_add(fs, ' ');
			continue;
		}
		if (c == '"') {
			/* a quoted string: part of a local part, or a display name */
			size_t start = i;
			i += rfc5322_quoted(v + i, len - i, NULL);
			if (in_angle || !fs->angle_seen) {
				for (size_t k = start; k < i && k < len; k++)
					from_add(fs, v[k]);
			}
			continue;
		}
		if (in_angle) {
			if (c == '>')
				in_angle = false;
			else
				from_add(fs, c);
			i++;
			continue;
		}
		switch (c) {
		case '<':
			if (fs->angle_seen) {
				fs->error = "a From address with two <...>";
				return;
			}
			/* the display name before it is not the address */
			fs->alen = 0;
			fs->addr[0] = '\0';
			fs->overflow = false;
			fs->angle_seen = true;
			in_angle = true;
			break;
		case ',':
		case ';':
			from_element_end(fs);
			break;
		case ':':
			/* a group's display name ends: its members follow */
			fs->alen = 0;
			fs->addr[0] = '\0';
			fs->overflow = false;
			break;
		default:
			if (!fs->angle_seen)
				from_add(fs, c);
			break;
		}
		i++;
	}
	if (in_angle && fs->error == NULL)
		fs->error = "a From address with an unclosed '<'";
	from_element_end(fs);
}

int dmarc_from_domain(const char *header, size_t len, char *domain_r, size_t size, const char **error_r)
{
	struct mail_header_iter it;
	struct mail_header_field f, from = { 0 };
	struct from_scan fs;
	unsigned nfrom = 0;

	domain_r[0] = '\0';
	mail_header_iter_init(&it, header, mail_header_block_size(header, len));
	while (mail_header_iter_next(&it, &f)) {
		if (mail_header_field_is(&f, "From") && nfrom++ == 0)
			from = f;
	}
	if (nfrom == 0) {
		*error_r = "no From field";
		return 0;
	}
	if (nfrom > 1) {
		*error_r = "several From fields";
		return -1;
	}
	memset(&fs, 0, sizeof(fs));
	from_scan_value(&fs, from.value, from.value_len);
	if (fs.error == NULL && fs.naddrs == 0)
		fs.error = "no address in the From field";
	if (fs.error != NULL) {
		*error_r = fs.error;
		return -1;
	}
	if (str_copy(domain_r, size, fs.domain) < 0) {
		*error_r = "the From domain is too long";
		return -1;
	}
	return 1;
}

/* ---- organizational domains and alignment (section 3.2) */

static pthread_once_t dmarc_psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *dmarc_psl;

static void dmarc_psl_load(void)
{
	/* the newer of the built-in list and the distribution's file */
	dmarc_psl = psl_latest(NULL);
	if (dmarc_psl == NULL)
		dmarc_psl = psl_builtin();
}

void dmarc_org_domain(const char *domain, char *buf, size_t size)
{
	char low[DNS_NAME_MAX];
	const char *reg = NULL;
	size_t n;

	str_copy(low, sizeof(low), domain);
	str_lower(low);
	n = strlen(low);
	while (n > 0 && low[n - 1] == '.')
		low[--n] = '\0';
	pthread_once(&dmarc_psl_once, dmarc_psl_load);
	if (dmarc_psl != NULL)
		reg = psl_registrable_domain(dmarc_psl, low);
	else {
		/* no list at all: the last two labels */
		const char *last = strrchr(low, '.');
		if (last != NULL) {
			const char *p = last;
			while (p > low && p[-1] != '.')
				p--;
			reg = p;
		}
	}
	str_copy(buf, size, reg != NULL ? reg : low);
}

bool dmarc_aligned(const char *a, const char *b, bool strict)
{
	char oa[DNS_NAME_MAX], ob[DNS_NAME_MAX];
	size_t la, lb;

	if (a == NULL || b == NULL || a[0] == '\0' || b[0] == '\0')
		return false;
	la = strlen(a);
	lb = strlen(b);
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	if (la == lb && strncasecmp(a, b, la) == 0)
		return true;
	if (strict)
		return false;
	dmarc_org_domain(a, oa, sizeof(oa));
	dmarc_org_domain(b, ob, sizeof(ob));
	return strcasecmp(oa, ob) == 0;
}

/* ---- policy discovery and the verdict (section 6.6) */

/* Looks for one DMARC record at _dmarc.domain: 1 found (*rec_r), 0 none
 * (or several: no DMARC then, step 5), -1 DNS trouble, -2 unusable. */
static int dmarc_fetch(dmarc_txt_fn *txt, dmarc_txt_free_fn *txt_free, void *ctx, const char *domain,
		       struct dmarc_record *rec_r, struct dmarc_verdict *v)
{
	char name[DNS_NAME_MAX + 8], **recs = NULL;
	size_t n = 0, found = 0;
	int bad = 0;
	enum dns_result r;
	const char *error = NULL;

	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	r = txt(ctx, name, &recs, &n);
	if (r == DNS_TEMPFAIL) {
		snprintf(v->reason, sizeof(v->reason), "DNS lookup of %s failed", name);
		return -1;
	}
	if (r != DNS_OK)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct dmarc_record rec;
		const char *e = NULL;
		int p = recs[i] != NULL ? dmarc_record_parse(recs[i], &rec, &e) : 0;

		if (p == 0)
			continue;
		if (++found == 1) {
			*rec_r = rec;
			bad = p < 0;
			error = e;
		}
	}
	txt_free(ctx, recs, n);
	if (found > 1) {
		snprintf(v->reason, sizeof(v->reason), "%s has more than one DMARC record", name);
		return 0;
	}
	if (found == 1 && bad) {
		snprintf(v->reason, sizeof(v->reason), "%s: %s", name, error != NULL ? error : "unusable");
		return -2;
	}
	return found == 1 ? 1 : 0;
}

static enum dmarc_policy dmarc_downgrade(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

enum dmarc_res dmarc_evaluate(dmarc_txt_fn *txt, dmarc_txt_free_fn *txt_free, void *ctx,
			      const struct dmarc_input *in, struct dmarc_verdict *v)
{
	char org[DNS_NAME_MAX];
	const char *from = in->from_domain;
	int r;

	memset(v, 0, sizeof(*v));
	if (from == NULL || from[0] == '\0') {
		str_copy(v->reason, sizeof(v->reason), "no From domain");
		return v->result = DMARC_RES_NONE;
	}
	dmarc_org_domain(from, org, sizeof(org));
	r = dmarc_fetch(txt, txt_free, ctx, from, &v->rec, v);
	if (r == 1 || r < 0) {
		str_copy(v->record_domain, sizeof(v->record_domain), from);
	} else if (v->reason[0] == '\0' && strcasecmp(org, from) != 0) {
		r = dmarc_fetch(txt, txt_free, ctx, org, &v->rec, v);
		str_copy(v->record_domain, sizeof(v->record_domain), org);
	}
	if (r == -1)
		return v->result = DMARC_RES_TEMPERROR;
	if (r == -2)
		return v->result = DMARC_RES_PERMERROR;
	if (r == 0) {
		v->record_domain[0] = '\0';
		if (v->reason[0] == '\0')
			snprintf(v->reason, sizeof(v->reason), "%s has no DMARC record", from);
		return v->result = DMARC_RES_NONE;
	}
	v->have_record = true;
	/* a record found at the organizational domain for a subdomain gives
	 * the subdomain policy (section 6.6.3 step 4 and 6.3 "sp") */
	v->policy = v->rec.p;
	if (strcasecmp(v->record_domain, from) != 0 && v->rec.has_sp)
		v->policy = v->rec.sp;
	v->spf_aligned = in->spf_pass && dmarc_aligned(in->spf_domain, from, v->rec.aspf_strict);
	for (size_t i = 0; i < in->ndkim && !v->dkim_aligned; i++)
		v->dkim_aligned = dmarc_aligned(in->dkim_domains[i], from, v->rec.adkim_strict);
	if (v->spf_aligned || v->dkim_aligned) {
		v->disposition = DMARC_POLICY_NONE;
		return v->result = DMARC_RES_PASS;
	}
	v->disposition = v->policy;
	if (in->sample >= v->rec.pct)
		v->disposition = dmarc_downgrade(v->policy);	/* not in the pct= sample */
	snprintf(v->reason, sizeof(v->reason), "no aligned identifier: %s%s",
		 in->spf_pass ? "SPF passed for another domain" : "SPF did not pass",
		 in->ndkim > 0 ? ", DKIM passed for another domain" : ", no DKIM signature passed");
	return v->result = DMARC_RES_FAIL;
}

static enum dns_result dmarc_real_txt(void *ctx, const char *name, char ***txt_r, size_t *n_r)
{
	const char *error;

	return dns_txt_lookup(ctx, name, txt_r, n_r, &error);
}

static void dmarc_real_free(void *ctx, char **txt, size_t n)
{
	dns_txt_free(txt, n);
}

enum dmarc_res dmarc_check(const char *resolver, const struct dmarc_input *in, struct dmarc_verdict *v)
{
	return dmarc_evaluate(dmarc_real_txt, dmarc_real_free, (void *)(resolver != NULL ? resolver : ""), in, v);
}

static enum dns_result dmarc_batch_txt(void *ctx, const char *name, char ***txt_r, size_t *n_r)
{
	const char *error;

	return dns_batch_txt(ctx, name, txt_r, n_r, &error);
}

enum dmarc_res dmarc_check_batch(struct dns_batch *batch, const struct dmarc_input *in, struct dmarc_verdict *v)
{
	return dmarc_evaluate(dmarc_batch_txt, dmarc_real_free, batch, in, v);
}
