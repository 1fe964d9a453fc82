/* Doctor's live checks (issue 15 §4): does the domain exist in public DNS
 * and do its MX records lead to this server (with the daemon's resolver,
 * under one deadline; the first time they did is remembered as a
 * "dns-mx-here" event of the domain), and, for a mailbox filling up, its
 * biggest messages and the old mail a POP client left on the server. */
#include "ops/ops_doctor.h"
#include "lib/dns.h"
#include "lib/str.h"
#include "lib/strbuf.h"
#include "mail/header.h"
#include "mail/rfc2047.h"
#include "store/maildir.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DOCTOR_ADDRS 8
#define DOCTOR_NS 4

/* ---- can't receive: DNS ----
 * Findings about DNS are warnings, never failures: DNS is outside this
 * server, a domain still being moved here is normal, and doctor's exit
 * status tells of the server's own state. */

struct doctor_host {
	struct dns_addr a[DOCTOR_ADDRS];
	size_t n;
};

static bool doctor_same_addr(const struct dns_addr *x, const struct dns_addr *y)
{
	const struct sockaddr *a = (const struct sockaddr *)&x->ss, *b = (const struct sockaddr *)&y->ss;

	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr, &((const struct sockaddr_in *)b)->sin_addr,
			      4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
		      16) == 0;
}

static bool doctor_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Does MX host lead to this server: its name, or one of its addresses? */
static bool doctor_mx_here(const char *host, const char *hostname, const struct doctor_host *self,
			   const char *resolver)
{
	struct doctor_host h;
	const char *error;

	if (doctor_same_name(host, hostname))
		return true;
	if (self->n == 0 || dns_addr_lookup(resolver, host, 25, h.a, DOCTOR_ADDRS, &h.n, &error) != DNS_OK)
		return false;
	for (size_t i = 0; i < h.n; i++) {
		for (size_t j = 0; j < self->n; j++) {
			if (doctor_same_addr(&h.a[i], &self->a[j]))
				return true;
		}
	}
	return false;
}

static void doctor_first_cb(const struct dir_event *e, void *ctx)
{
	*(int64_t *)ctx = e->ts;	/* newest first: the last one is the oldest */
}

/* When the MX was first seen pointing here (recorded now if never). */
static int64_t doctor_mx_first_seen(struct ops *o, const char *domain)
{
	int64_t first = 0;

	directory_event_since(o->dir, domain, "dns-mx-here", 0, doctor_first_cb, &first);
	if (first == 0 && directory_event_add(o->dir, "dns-mx-here", domain, "", "the MX points at this server") == 0) {
		/* the time the event holds, which later runs will show */
		directory_event_since(o->dir, domain, "dns-mx-here", 0, doctor_first_cb, &first);
		if (first == 0)
			first = (int64_t)time(NULL);
	}
	return first;
}

static void doctor_list_names(char (*names)[DNS_NAME_MAX], size_t n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++) {
		int w = snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "", names[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

static void doctor_mx_list(const struct dns_mx *mx, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++) {
		int w = snprintf(buf + len, size - len, "%s%u %s", i > 0 ? ", " : "", mx[i].pref,
				 mx[i].host[0] != '\0' ? mx[i].host : ".");
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

/* The MX records found: all, some or none lead here. */
static void doctor_mx_verdict(struct ops *o, struct ops_doctor *d, const char *domain, const struct dns_mx *mx,
			      size_t n, const struct doctor_host *self, const struct ops_doctor_opts *opts,
			      const char *ns)
{
	char list[600], since[40];
	size_t here = 0;
	bool first_here;

	doctor_mx_list(mx, n, list, sizeof(list));
	if (n == 1 && mx[0].host[0] == '\0') {
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "the domain %s publishes a null MX (\".\"): it says it takes"
				      " no mail; publish MX 10 %s instead (yubinctl domain dns %s lists the records)",
				      "ドメイン %s は null MX (\".\") を公開しており、メールを受け取らないと宣言しています。"
				      "代わりに MX 10 %s を公開してください (yubinctl domain dns %s でレコードを確認できます)",
				      domain, opts->hostname, domain), "", "yubinctl domain dns %s --check", domain);
		return;
	}
	first_here = doctor_mx_here(mx[0].host, opts->hostname, self, opts->resolver);
	for (size_t i = 0; i < n; i++)
		here += i == 0 ? first_here : doctor_mx_here(mx[i].host, opts->hostname, self, opts->resolver);
	if (here == 0) {
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "the MX records of %s (%s) do not lead to this server (%s):"
				      " senders deliver its mail elsewhere; change them to MX 10 %s at the domain's DNS"
				      " provider (name servers: %s)",
				      "%s の MX レコード (%s) はこのサーバー (%s) を指していないため、メールは別の場所に"
				      "届きます。ドメインの DNS 事業者で MX 10 %s に変更してください (ネームサーバー: %s)",
				      domain, list, opts->hostname, opts->hostname, ns), "", "yubinctl domain dns %s --check",
			   domain);
		return;
	}
	ops_time_text(doctor_mx_first_seen(o, domain), since, sizeof(since));
	if (!first_here)
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "the MX records of %s (%s) list this server, but not first:"
				      " senders try %s first; give MX %s the lowest preference number",
				      "%s の MX レコード (%s) にこのサーバーはありますが最優先ではありません。送信側はまず %s"
				      " に送ります。MX %s の優先度の数字を最小にしてください", domain, list, mx[0].host,
				      opts->hostname), "", "yubinctl domain dns %s --check", domain);
	else
		doctor_add(d, OPS_DOCTOR_OK, "the MX of %s leads to this server (%s; seen so since %s); name servers:"
			   " %s", "%s の MX はこのサーバーを指しています (%s、%s から確認)。ネームサーバー: %s", domain,
			   list, since, ns);
}

void doctor_dns(struct ops *o, struct ops_doctor *d, const char *domain, const struct ops_doctor_opts *opts)
{
	char ns_names[DOCTOR_NS][DNS_NAME_MAX], ns[DOCTOR_NS * (DNS_NAME_MAX + 2)];
	struct doctor_host self;
	struct dns_mx *mx = NULL;
	size_t n = 0, nns = 0;
	const char *error = "";
	enum dns_result res, nres;

	if (opts->dns_timeout_ms == 0 || opts->hostname == NULL || opts->hostname[0] == '\0')
		return;
	d->group = OPS_DQ_RECEIVE;
	dns_deadline_set(opts->dns_timeout_ms);
	res = dns_mx_lookup(opts->resolver, domain, &mx, &n, &error);
	if (res == DNS_TEMPFAIL) {
		doctor_add(d, OPS_DOCTOR_WARN, "could not check the DNS of %s (%s): whether its MX leads here is"
			   " unknown; try again later", "%s の DNS を確認できませんでした (%s)。MX がこのサーバーを指して"
			   "いるかは不明です。後でもう一度試してください", domain, error);
		goto done;
	}
	if (res == DNS_NXDOMAIN) {
		doctor_add(d, OPS_DOCTOR_WARN, "the domain %s does not exist in public DNS (NXDOMAIN): no mail can"
			   " reach it; register or renew the domain, or fix its name servers at the registrar",
			   "ドメイン %s は公開 DNS に存在しません (NXDOMAIN)。メールは届きません。ドメインを登録または"
			   "更新するか、レジストラでネームサーバーを直してください", domain);
		goto done;
	}
	nres = dns_ns_lookup(opts->resolver, domain, ns_names, DOCTOR_NS, &nns, &error);
	if (nres == DNS_OK)
		doctor_list_names(ns_names, nns, ns, sizeof(ns));
	else
		str_copy(ns, sizeof(ns), "none found");
	if (dns_addr_lookup(opts->resolver, opts->hostname, 25, self.a, DOCTOR_ADDRS, &self.n, &error) != DNS_OK) {
		self.n = 0;
		doctor_add(d, OPS_DOCTOR_WARN, "this server's host name %s has no address in DNS: an MX naming it"
			   " leads nowhere; publish its A (and AAAA) records",
			   "このサーバーのホスト名 %s に DNS のアドレスがないため、それを指す MX はどこにも届きません。"
			   "A (と AAAA) レコードを公開してください", opts->hostname);
	}
	if (res == DNS_OK && n > 0)
		doctor_mx_verdict(o, d, domain, mx, n, &self, opts, ns);
	else
		doctor_fix(doctor_add(d, OPS_DOCTOR_WARN, "the domain %s has no MX record: senders cannot find this"
				      " server; publish MX 10 %s at the domain's DNS provider (name servers: %s)",
				      "ドメイン %s に MX レコードがないため、送信側はこのサーバーを見つけられません。ドメインの"
				      " DNS 事業者で MX 10 %s を公開してください (ネームサーバー: %s)", domain,
				      opts->hostname, ns), "", "yubinctl domain dns %s --check", domain);
done:
	free(mx);
	dns_deadline_set(0);
}

/* ---- mailbox full: the biggest messages, and what POP clients leave ---- */

#define DOCTOR_BIG 3
#define DOCTOR_POP_OLD_DAYS 30	/* an inbox message older than this: left by a POP client */

struct doctor_big {
	char folder[64], file[PATH_MAX], subject[80];
	uint64_t size;
	int64_t mtime;
};

struct doctor_scan {
	const char *path;
	struct doctor_big big[DOCTOR_BIG];
	size_t nbig;
	uint64_t old_count, old_bytes;
	int64_t old_before;
	char folders[32][64];
	size_t nfolders;
};

static void doctor_scan_folder_cb(const char *name, uint64_t bytes, uint64_t count, void *ctx)
{
	struct doctor_scan *s = ctx;

	(void)bytes;
	if (count > 0 && name[0] != '\0' && s->nfolders < 32)
		str_copy(s->folders[s->nfolders++], sizeof(s->folders[0]), name);
}

static void doctor_scan_one(struct doctor_scan *s, const char *folder, const char *dir)
{
	struct maildir_entry *e = NULL;
	size_t n = 0;

	if (maildir_list(dir, &e, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (folder[0] == '\0' && e[i].mtime < s->old_before) {
			s->old_count++;
			s->old_bytes += e[i].size;
		}
		for (k = s->nbig; k > 0 && s->big[k - 1].size < e[i].size; k--)
			if (k < DOCTOR_BIG)
				s->big[k] = s->big[k - 1];
		if (k >= DOCTOR_BIG)
			continue;
		memset(&s->big[k], 0, sizeof(s->big[k]));
		str_copy(s->big[k].folder, sizeof(s->big[k].folder), folder[0] != '\0' ? folder : "INBOX");
		maildir_entry_path(dir, &e[i], s->big[k].file, sizeof(s->big[k].file));
		s->big[k].size = e[i].size;
		s->big[k].mtime = e[i].mtime;
		if (s->nbig < DOCTOR_BIG)
			s->nbig++;
	}
	free(e);
}

/* The Subject of a message file, decoded, without control characters. */
static void doctor_subject(const char *file, char *out, size_t size)
{
	char head[8192];
	struct mail_header_field f;
	struct strbuf raw = STRBUF_INIT, dec = STRBUF_INIT;
	ssize_t got;
	size_t n = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	if (fd < 0)
		return;
	got = read(fd, head, sizeof(head));
	close(fd);
	if (got <= 0 || !mail_header_find(head, (size_t)got, "Subject", &f))
		return;
	mail_header_unfold(f.value, f.value_len, &raw);
	rfc2047_decode(strbuf_cstr(&raw), raw.len, &dec);
	for (const char *p = strbuf_cstr(&dec); *p != '\0' && n + 1 < size; p++) {
		/* keep whole UTF-8 sequences: stop before one that does not fit */
		unsigned char c = (unsigned char)*p;
		size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1, k;

		if (n + len >= size)
			break;
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xc0)) {
			out[n++] = c >= 0x80 ? '?' : ' ';
			continue;
		}
		for (k = 1; k < len && ((unsigned char)p[k] & 0xc0) == 0x80; k++)
			;
		if (k < len) {
			out[n++] = '?';	/* a cut sequence (never read past its end) */
			continue;
		}
		memcpy(out + n, p, len);
		n += len;
		p += len - 1;
	}
	out[n] = '\0';
	strbuf_free(&raw);
	strbuf_free(&dec);
}

struct doctor_pop {
	unsigned pop, imap;
	struct dir_event last;
};

static void doctor_pop_cb(const struct dir_event *e, void *ctx)
{
	struct doctor_pop *p = ctx;

	if (strncmp(e->detail, "pop3 ", 5) == 0) {
		if (p->pop++ == 0)
			p->last = *e;
	} else if (strncmp(e->detail, "imap ", 5) == 0) {
		p->imap++;
	}
}

static void doctor_big_text(const struct doctor_scan *s, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->nbig && len < size; i++) {
		unsigned long long tenths = s->big[i].size * 10 / DOCTOR_MIB;
		char when[40];
		int w;

		ops_time_text(s->big[i].mtime, when, sizeof(when));
		w = snprintf(buf + len, size - len, "%s%llu.%llu MB in %s (%.10s, \"%s\")", i > 0 ? "; " : "",
			     tenths / 10, tenths % 10, s->big[i].folder, when, s->big[i].subject);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

void doctor_messages(struct ops *o, struct ops_doctor *d, const struct dir_account *a, const char *path)
{
	struct doctor_scan *s = calloc(1, sizeof(*s));
	struct doctor_pop pop;
	char dir[PATH_MAX], list[900], when[40];

	if (s == NULL)
		return;
	s->path = path;
	s->old_before = (int64_t)time(NULL) - DOCTOR_POP_OLD_DAYS * 86400;
	maildir_folder_usage(path, doctor_scan_folder_cb, s);
	doctor_scan_one(s, "", path);
	for (size_t i = 0; i < s->nfolders; i++) {
		snprintf(dir, sizeof(dir), "%s/.%s", path, s->folders[i]);
		doctor_scan_one(s, s->folders[i], dir);
	}
	for (size_t i = 0; i < s->nbig; i++)
		doctor_subject(s->big[i].file, s->big[i].subject, sizeof(s->big[i].subject));
	d->group = OPS_DQ_FULL;
	if (s->nbig > 0) {
		doctor_big_text(s, list, sizeof(list));
		doctor_add(d, OPS_DOCTOR_OK, "biggest messages: %s", "大きいメッセージ: %s", list);
	}
	memset(&pop, 0, sizeof(pop));
	directory_event_since(o->dir, a->address, "auth-ok", doctor_since(d), doctor_pop_cb, &pop);
	if (pop.pop > 0 && s->old_count > 0) {
		unsigned long long tenths = s->old_bytes * 10 / DOCTOR_MIB;

		ops_time_text(pop.last.ts, when, sizeof(when));
		doctor_fix(doctor_add(d, pop.imap > 0 ? OPS_DOCTOR_OK : OPS_DOCTOR_WARN,
				      "a POP3 client logs in (last from %s, %s) and leaves mail on the server: %llu"
				      " message%s (%llu.%llu MB) in the inbox are older than %d days; in that client turn"
				      " off \"leave a copy on the server\", or set \"remove from the server after 14 days\"",
				      "POP3 のメールソフトがログインし (最後は %s から %s)、メールをサーバーに残しています:"
				      " 受信箱の %llu 通%.0s (%llu.%llu MB) が %d 日より古いものです。そのメールソフトで"
				      "「サーバーにメッセージのコピーを置く」をオフにするか、「14 日後にサーバーから削除」に"
				      "してください", pop.last.ip, when, (unsigned long long)s->old_count,
				      s->old_count == 1 ? "" : "s", tenths / 10, tenths % 10, DOCTOR_POP_OLD_DAYS),
			   "client:pop-leave-copy=off", NULL);
	}
	free(s);
}
