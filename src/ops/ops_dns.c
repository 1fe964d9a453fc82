/* The DNS records a hosted domain needs (MX, SPF, DKIM, DMARC, the mail
 * client service records of RFC 6186/8314, MTA-STS (RFC 8461) with its
 * policy, TLS reporting (RFC 8460)) and a live
 * check of what DNS answers for each now: published, missing or
 * different. The check makes blocking lookups (lib/dns.h) under one
 * deadline, so a caller on an event loop runs it on a worker thread. */
#include "ops/ops_server.h"
#include "lib/dns.h"
#include "lib/str.h"
#include "settings/settings.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

const char *ops_dns_state_name(enum ops_dns_state s)
{
	static const char *const names[] = {
		[OPS_DNS_UNCHECKED] = "unchecked", [OPS_DNS_PUBLISHED] = "published",
		[OPS_DNS_MISSING] = "missing", [OPS_DNS_DIFFERENT] = "different", [OPS_DNS_UNKNOWN] = "unknown",
	};

	return names[s];
}

/* The rua address: the domain's admin-address when it is in the domain,
 * else postmaster@DOMAIN (which RFC 5321 says must exist). */
static void ops_dmarc_rua(struct ops *o, const char *domain, char *buf, size_t size)
{
	char value[DIR_ADDRESS_MAX + 1];
	const char *at;

	snprintf(buf, size, "postmaster@%s", domain);
	if (settings_domain_string(o->dir, domain, SETTING_ADMIN_ADDRESS, value, sizeof(value)) > 0 &&
	    (at = strrchr(value, '@')) != NULL && strcasecmp(at + 1, domain) == 0)
		str_copy(buf, size, value);
}

static struct ops_rr *ops_rr_new(struct ops_dns_records *r, const char *purpose, const char *type)
{
	struct ops_rr *rr = &r->rr[r->n++];

	memset(rr, 0, sizeof(*rr));
	rr->purpose = purpose;
	rr->type = type;
	return rr;
}

/* The record of key k: false when it needs none (retired long enough) or
 * its key file is unusable. */
static bool ops_dkim_rr(const struct ops_dkim_key *k, struct ops_rr *rr)
{
	char until[40];

	if (k->info.state == DKIM_STATE_RETIRED && k->keep_until <= (int64_t)time(NULL))
		return false;	/* may be removed now */
	if (k->record[0] == '\0')
		return false;
	snprintf(rr->name, sizeof(rr->name), "%s.", k->dns_name);
	str_copy(rr->value, sizeof(rr->value), k->record);
	ops_time_text(k->keep_until, until, sizeof(until));
	snprintf(rr->explain, sizeof(rr->explain), "DKIM (%s, %s): %s%s%s", dkim_keytype_name(k->info.type),
		 dkim_state_name(k->info.state),
		 k->info.state == DKIM_STATE_ACTIVE ? "the public key receivers check this server's signatures with"
		 : k->info.state == DKIM_STATE_NEXT ? "publish now; yubinctl dkim activate switches to it"
						    : "retired key; keep the record until",
		 k->info.state == DKIM_STATE_RETIRED ? " " : "", k->info.state == DKIM_STATE_RETIRED ? until : "");
	return true;
}

/* RFC 6186 service records, so mail clients find their settings: implicit
 * TLS first (RFC 8314 §5.1: a lower priority number than the STARTTLS
 * ports, which this server also offers and so lists rather than "."),
 * IMAP before POP3. */
static void ops_dns_srv(struct ops_dns_records *r, const char *domain, const char *hostname)
{
	static const struct {
		const char *service, *what;
		unsigned priority, port;
	} srv[OPS_SRV_RECORDS] = {
		{"_submissions", "sending with implicit TLS", 0, 465},
		{"_submission", "sending with STARTTLS", 10, 587},
		{"_imaps", "IMAP with implicit TLS", 0, 993},
		{"_imap", "IMAP with STARTTLS", 10, 143},
		{"_pop3s", "POP3 with implicit TLS", 20, 995},
		{"_pop3", "POP3 with STARTTLS", 30, 110},
	};

	for (size_t i = 0; i < OPS_SRV_RECORDS; i++) {
		struct ops_rr *rr = ops_rr_new(r, "srv", "SRV");

		snprintf(rr->name, sizeof(rr->name), "%s._tcp.%s.", srv[i].service, domain);
		snprintf(rr->value, sizeof(rr->value), "%u 1 %u %s.", srv[i].priority, srv[i].port, hostname);
		snprintf(rr->explain, sizeof(rr->explain),
			 "SRV (RFC 6186): mail clients set up for %s find %s at %s port %u (log in with the full"
			 " address)", domain, srv[i].what, hostname, srv[i].port);
	}
}

/* ---- MTA-STS (RFC 8461) and TLS reporting (RFC 8460) ---- */

struct mtasts_mx {
	char *text;
	size_t len, size;
};

/* Appends "mx: NAME" unless the policy names it already or it would not
 * fit with the max_age line after it (the text's room is bounded). */
static void mtasts_mx_add(struct mtasts_mx *m, const char *name)
{
	char line[DIR_DOMAIN_MAX + 16];
	int n = snprintf(line, sizeof(line), "mx: %s\r\n", name);

	if (name[0] == '\0' || n < 0 || (size_t)n >= sizeof(line) || m->len + (size_t)n + 40 >= m->size)
		return;
	for (const char *at = strcasestr(m->text, line); at != NULL; at = strcasestr(at + 1, line))
		if (at == m->text || at[-1] == '\n')
			return;
	memcpy(m->text + m->len, line, (size_t)n + 1);
	m->len += (size_t)n;
}

static void mtasts_mx_cb(const char *domain, const char *name, void *ctx)
{
	(void)domain;
	mtasts_mx_add(ctx, name);
}

int ops_mtasts_policy(struct ops *o, const char *domain, const char *hostname, struct ops_mtasts *p)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	struct mtasts_mx mtasts_mx;
	char mail[DIR_DOMAIN_MAX + 8];
	struct dir_domain d;
	uint64_t max_age;
	char age[32];
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = directory_domain_get(o->dir, domain, &d)) <= 0)
		return r;
	if (settings_domain_string(o->dir, domain, SETTING_MTA_STS, p->mode, sizeof(p->mode)) <= 0)
		str_copy(p->mode, sizeof(p->mode), settings_get(SETTING_MTA_STS)->def);
	/* stored as typed ("30d"), checked when stored */
	settings_domain_string(o->dir, domain, SETTING_MTA_STS_MAX_AGE, age, sizeof(age));
	if (settings_duration_parse(age, &max_age) < 0 &&
	    settings_duration_parse(settings_get(SETTING_MTA_STS_MAX_AGE)->def, &max_age) < 0)
		max_age = 0;
	/* RFC 8461 §3.2: CRLF-terminated "key: value" lines; an mx line for
	 * the server's name and each mail host name of the domain */
	mtasts_mx.text = p->text;
	mtasts_mx.size = sizeof(p->text);
	mtasts_mx.len = (size_t)snprintf(p->text, sizeof(p->text), "version: STSv1\r\nmode: %s\r\n", p->mode);
	mtasts_mx_add(&mtasts_mx, hostname);
	snprintf(mail, sizeof(mail), "mail.%s", d.name);
	mtasts_mx_add(&mtasts_mx, mail);
	directory_hostname_list(o->dir, d.name, mtasts_mx_cb, &mtasts_mx);
	snprintf(p->text + mtasts_mx.len, sizeof(p->text) - mtasts_mx.len, "max_age: %llu\r\n",
		 (unsigned long long)max_age);
	/* the id changes whenever the policy does (§3.1: 1-32 letters and digits) */
	crypto_hash_sha256(digest, (const unsigned char *)p->text, strlen(p->text));
	for (size_t i = 0; i < 10; i++)
		snprintf(p->id + 2 * i, sizeof(p->id) - 2 * i, "%02x", digest[i]);
	return 1;
}

/* _mta-sts, the policy host mta-sts.DOMAIN and _smtp._tls. */
static void ops_dns_mtasts(struct ops *o, struct ops_dns_records *r, const char *domain, const char *hostname,
			   const char *rua)
{
	struct ops_mtasts p;
	struct ops_rr *rr;

	if (ops_mtasts_policy(o, domain, hostname, &p) <= 0)
		return;
	rr = ops_rr_new(r, "sts", "TXT");
	snprintf(rr->name, sizeof(rr->name), "_mta-sts.%s.", domain);
	snprintf(rr->value, sizeof(rr->value), "v=STSv1; id=%s", p.id);
	snprintf(rr->explain, sizeof(rr->explain), "MTA-STS (RFC 8461): senders fetch the policy (mode %s, MX %s) from"
		 " https://mta-sts.%s/.well-known/mta-sts.txt; the id changes with the policy (domain setting %s)",
		 p.mode, hostname, domain, settings_key(SETTING_MTA_STS));
	rr = ops_rr_new(r, "sts-host", "CNAME");
	snprintf(rr->name, sizeof(rr->name), "mta-sts.%s.", domain);
	snprintf(rr->value, sizeof(rr->value), "%s.", hostname);
	snprintf(rr->explain, sizeof(rr->explain), "MTA-STS policy host: mta-sts.%s must reach this server's HTTPS"
		 " port with a certificate for that name (a CNAME, or A/AAAA records of %s)", domain, hostname);
	rr = ops_rr_new(r, "tlsrpt", "TXT");
	snprintf(rr->name, sizeof(rr->name), "_smtp._tls.%s.", domain);
	snprintf(rr->value, sizeof(rr->value), "v=TLSRPTv1; rua=mailto:%s", rua);
	snprintf(rr->explain, sizeof(rr->explain), "TLS reporting (RFC 8460): senders send daily reports of their TLS"
		 " connections to this server to %s", rua);
}

int ops_dns_records(struct ops *o, const struct ops_actor *actor, const char *domain, const char *hostname,
		    struct ops_dns_records *r, struct ops_error *err)
{
	struct ops_dkim_keys *keys = malloc(sizeof(*keys));
	char rua[DIR_ADDRESS_MAX + 1], name[DIR_DOMAIN_MAX + 1];
	struct ops_rr *rr;

	memset(r, 0, sizeof(*r));
	if (keys == NULL)
		return ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
	if (ops_dkim_list(o, actor, domain, keys, err) < 0) {
		free(keys);
		return -1;
	}
	str_copy(r->domain, sizeof(r->domain), keys->domain);
	str_copy(name, sizeof(name), keys->domain);
	domain = name;
	ops_dmarc_rua(o, domain, rua, sizeof(rua));

	rr = ops_rr_new(r, "mx", "MX");
	snprintf(rr->name, sizeof(rr->name), "%s.", domain);
	snprintf(rr->value, sizeof(rr->value), "10 %s.", hostname);
	snprintf(rr->explain, sizeof(rr->explain),
		 "MX: mail for %s is delivered to this server, %s (its A/AAAA records must point here)", domain,
		 hostname);
	rr = ops_rr_new(r, "spf", "TXT");
	snprintf(rr->name, sizeof(rr->name), "%s.", domain);
	snprintf(rr->value, sizeof(rr->value), "v=spf1 mx a:%s ~all", hostname);
	snprintf(rr->explain, sizeof(rr->explain),
		 "SPF: the MX hosts and %s may send mail from %s; others soft-fail (~all; use -all once"
		 " every sender is listed)", hostname, domain);
	for (size_t i = 0; i < keys->n; i++) {
		rr = ops_rr_new(r, "dkim", "TXT");
		if (!ops_dkim_rr(&keys->keys[i], rr)) {
			r->key_unusable |= keys->keys[i].record[0] == '\0';
			r->n--;
		}
	}
	rr = ops_rr_new(r, "dmarc", "TXT");
	snprintf(rr->name, sizeof(rr->name), "_dmarc.%s.", domain);
	snprintf(rr->value, sizeof(rr->value), "v=DMARC1; p=none; rua=mailto:%s", rua);
	snprintf(rr->explain, sizeof(rr->explain),
		 "DMARC: receivers send aggregate reports to %s; p=none only monitors (raise to"
		 " quarantine or reject once the reports show only your own mail)", rua);
	ops_dns_srv(r, domain, hostname);
	ops_dns_mtasts(o, r, domain, hostname, rua);
	r->no_dkim = keys->n == 0;
	free(keys);
	return 0;
}

/* ---- the live check ---- */

/* a and b equal but for case, blanks and a final dot. */
static bool ops_dns_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* The tag-value list text without blanks, for comparing TXT records
 * (RFC 6376 §3.2 and RFC 7489 §6.4 allow blanks around tags; a DKIM p=
 * value may be split with blanks anywhere). */
static void ops_dns_squeeze(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in != '\0' && n + 1 < size; in++) {
		if (!isspace((unsigned char)*in))
			out[n++] = *in;
	}
	out[n] = '\0';
	/* "a;b;" and "a;b" are the same list */
	if (n > 0 && out[n - 1] == ';')
		out[n - 1] = '\0';
}

/* Does TXT text belong to the record's kind (so a different value is
 * "different", not some other record)? */
static bool ops_dns_kind_of(const struct ops_rr *rr, const char *txt)
{
	if (strcmp(rr->purpose, "spf") == 0)
		return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == '\0' || txt[6] == ' ');
	if (strcmp(rr->purpose, "dmarc") == 0)
		return strncmp(txt, "v=DMARC1", 8) == 0;
	if (strcmp(rr->purpose, "sts") == 0)
		return strncmp(txt, "v=STSv1", 7) == 0;
	if (strcmp(rr->purpose, "tlsrpt") == 0)
		return strncmp(txt, "v=TLSRPTv1", 10) == 0;
	return true;	/* anything at SEL._domainkey is the key's record */
}

static void ops_dns_check_txt(struct ops_rr *rr, const char *resolver)
{
	char want[OPS_RR_VALUE_MAX], have[OPS_RR_VALUE_MAX];
	char **txt = NULL;
	size_t n = 0;
	const char *error = "";
	enum dns_result res = dns_txt_lookup(resolver, rr->name, &txt, &n, &error);

	if (res == DNS_TEMPFAIL) {
		rr->state = OPS_DNS_UNKNOWN;
		snprintf(rr->found, sizeof(rr->found), "lookup failed: %s", error);
		return;
	}
	rr->state = OPS_DNS_MISSING;
	ops_dns_squeeze(rr->value, want, sizeof(want));
	for (size_t i = 0; res == DNS_OK && i < n; i++) {
		if (!ops_dns_kind_of(rr, txt[i]))
			continue;
		ops_dns_squeeze(txt[i], have, sizeof(have));
		if (strcmp(want, have) == 0) {
			rr->state = OPS_DNS_PUBLISHED;
			rr->found[0] = '\0';
			break;
		}
		if (rr->state == OPS_DNS_MISSING) {
			rr->state = OPS_DNS_DIFFERENT;
			str_copy(rr->found, sizeof(rr->found), txt[i]);
		}
	}
	if (res == DNS_OK)
		dns_txt_free(txt, n);
}

static void ops_dns_check_mx(struct ops_rr *rr, const char *hostname, const char *resolver)
{
	struct dns_mx *mx = NULL;
	size_t n = 0, used = 0;
	const char *error = "";
	enum dns_result res = dns_mx_lookup(resolver, rr->name, &mx, &n, &error);

	if (res == DNS_TEMPFAIL) {
		rr->state = OPS_DNS_UNKNOWN;
		snprintf(rr->found, sizeof(rr->found), "lookup failed: %s", error);
		return;
	}
	rr->state = res == DNS_OK && n > 0 ? OPS_DNS_DIFFERENT : OPS_DNS_MISSING;
	for (size_t i = 0; res == DNS_OK && i < n; i++) {
		int w;

		if (ops_dns_same_name(mx[i].host, hostname))
			rr->state = OPS_DNS_PUBLISHED;
		w = snprintf(rr->found + used, sizeof(rr->found) - used, "%s%u %s.", used > 0 ? ", " : "",
			     mx[i].pref, mx[i].host[0] != '\0' ? mx[i].host : "");
		if (w > 0 && (size_t)w < sizeof(rr->found) - used)
			used += (size_t)w;
	}
	if (rr->state == OPS_DNS_PUBLISHED)
		rr->found[0] = '\0';
	free(mx);
}

/* Published when one of the name's SRV records has the port and target
 * asked for (priorities and weights are the publisher's choice). */
static void ops_dns_check_srv(struct ops_rr *rr, const char *hostname, const char *resolver)
{
	struct dns_srv *srv = NULL;
	size_t n = 0, used = 0;
	unsigned port = 0;
	const char *error = "";
	enum dns_result res = dns_srv_lookup(resolver, rr->name, &srv, &n, &error);

	if (res == DNS_TEMPFAIL) {
		rr->state = OPS_DNS_UNKNOWN;
		snprintf(rr->found, sizeof(rr->found), "lookup failed: %s", error);
		return;
	}
	if (sscanf(rr->value, "%*u %*u %u", &port) != 1)
		port = 0;
	rr->state = res == DNS_OK && n > 0 ? OPS_DNS_DIFFERENT : OPS_DNS_MISSING;
	for (size_t i = 0; res == DNS_OK && i < n; i++) {
		int w;

		if (srv[i].port == port && ops_dns_same_name(srv[i].target, hostname))
			rr->state = OPS_DNS_PUBLISHED;
		w = snprintf(rr->found + used, sizeof(rr->found) - used, "%s%u %u %u %s.", used > 0 ? ", " : "",
			     srv[i].priority, srv[i].weight, srv[i].port, srv[i].target);
		if (w > 0 && (size_t)w < sizeof(rr->found) - used)
			used += (size_t)w;
	}
	if (rr->state == OPS_DNS_PUBLISHED)
		rr->found[0] = '\0';
	free(srv);
}

static void ops_dns_addr_text(const struct dns_addr *a, char *buf, size_t size)
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->ss;

	buf[0] = '\0';
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)size);
}

/* A host record (CNAME to hostname): published when the name's addresses
 * include one of hostname's, whatever the record type that gives them. */
static void ops_dns_check_host(struct ops_rr *rr, const char *hostname, const char *resolver)
{
	struct dns_addr want[8], have[8];
	size_t nw = 0, nh = 0, used = 0;
	const char *error = "";
	char ip[64];
	enum dns_result res = dns_addr_lookup(resolver, rr->name, 443, have, 8, &nh, &error);

	if (res == DNS_TEMPFAIL) {
		rr->state = OPS_DNS_UNKNOWN;
		snprintf(rr->found, sizeof(rr->found), "lookup failed: %s", error);
		return;
	}
	if (res != DNS_OK || nh == 0) {
		rr->state = OPS_DNS_MISSING;
		return;
	}
	if (dns_addr_lookup(resolver, hostname, 443, want, 8, &nw, &error) != DNS_OK)
		nw = 0;
	rr->state = OPS_DNS_DIFFERENT;
	for (size_t i = 0; i < nh; i++) {
		for (size_t k = 0; k < nw; k++) {
			char a[64];

			ops_dns_addr_text(&have[i], ip, sizeof(ip));
			ops_dns_addr_text(&want[k], a, sizeof(a));
			if (strcmp(ip, a) == 0)
				rr->state = OPS_DNS_PUBLISHED;
		}
		ops_dns_addr_text(&have[i], ip, sizeof(ip));
		int w = snprintf(rr->found + used, sizeof(rr->found) - used, "%s%s", used > 0 ? ", " : "", ip);
		if (w > 0 && (size_t)w < sizeof(rr->found) - used)
			used += (size_t)w;
	}
	if (rr->state == OPS_DNS_PUBLISHED)
		rr->found[0] = '\0';
}

void ops_dns_check(struct ops_dns_records *r, const char *hostname, const char *resolver,
		   unsigned timeout_ms)
{
	dns_deadline_set(timeout_ms);
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->rr[i].type, "MX") == 0)
			ops_dns_check_mx(&r->rr[i], hostname, resolver);
		else if (strcmp(r->rr[i].type, "SRV") == 0)
			ops_dns_check_srv(&r->rr[i], hostname, resolver);
		else if (strcmp(r->rr[i].type, "CNAME") == 0)
			ops_dns_check_host(&r->rr[i], hostname, resolver);
		else
			ops_dns_check_txt(&r->rr[i], resolver);
	}
	dns_deadline_set(0);
}
