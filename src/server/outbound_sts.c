/* Outbound MTA-STS: policy discovery and cache, and the TLS result journal
 * (see outbound_sts.h). Runs on the queue's delivery threads; the cache is
 * shared between them under a mutex, never held across I/O. */
#include "server/outbound_sts.h"
#include "server/server.h"
#include "lib/dns.h"
#include "lib/dns_cache.h"
#include "lib/fsutil.h"
#include "lib/https_client.h"
#include "lib/log.h"
#include "lib/str.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STS_CACHE_MAX 512		/* domains kept; the oldest fetched goes first */
#define STS_FETCH_TIMEOUT_MS 20000
#define STS_JOURNAL_MAX (16u << 20)	/* bytes per day; more results are dropped */
#define STS_FETCH_BACKOFF 300		/* seconds before a failed fetch is tried again */
#define STS_EVENT_EVERY 3600		/* seconds between events of one kind for a domain */
#define STS_EVENT_SLOTS 256

struct sts_entry {
	char domain[256];
	char id[MTA_STS_ID_MAX + 1];
	struct mta_sts_policy policy;
	time_t fetched, expires;
	bool failed;			/* no policy: the fetch for id failed */
	char detail[256];		/* ... why */
};

static struct {
	pthread_mutex_t lock;
	struct sts_entry *e;
	size_t n;
	char data[4096];
	struct {
		char key[300];		/* "KIND DOMAIN" */
		time_t at;
	} ev[STS_EVENT_SLOTS];		/* the last events, by hash of the key */
} sts = { .lock = PTHREAD_MUTEX_INITIALIZER };

void outbound_sts_event(const char *kind, const char *domain, const char *detail)
{
	char key[300];
	time_t now = time(NULL);
	uint32_t h = 2166136261u;
	bool due;

	snprintf(key, sizeof(key), "%s %s", kind, domain);
	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h %= STS_EVENT_SLOTS;
	pthread_mutex_lock(&sts.lock);
	due = strcmp(sts.ev[h].key, key) != 0 || now - sts.ev[h].at >= STS_EVENT_EVERY || now < sts.ev[h].at;
	if (due) {
		str_copy(sts.ev[h].key, sizeof(sts.ev[h].key), key);
		sts.ev[h].at = now;
	}
	pthread_mutex_unlock(&sts.lock);
	if (due)
		server_event(kind, domain, "", detail);
}

void outbound_sts_start(const char *data_dir)
{
	pthread_mutex_lock(&sts.lock);
	str_copy(sts.data, sizeof(sts.data), data_dir);
	free(sts.e);
	sts.e = calloc(STS_CACHE_MAX, sizeof(*sts.e));
	sts.n = 0;
	pthread_mutex_unlock(&sts.lock);
}

void outbound_sts_stop(void)
{
	pthread_mutex_lock(&sts.lock);
	free(sts.e);
	sts.e = NULL;
	sts.n = 0;
	pthread_mutex_unlock(&sts.lock);
}

/* The cached policy of domain that has not expired: 1 copied, 0 none. */
static int cache_get(const char *domain, time_t now, struct sts_entry *out)
{
	int r = 0;

	pthread_mutex_lock(&sts.lock);
	for (size_t i = 0; i < sts.n; i++) {
		if (strcmp(sts.e[i].domain, domain) == 0 && sts.e[i].expires > now) {
			*out = sts.e[i];
			r = 1;
			break;
		}
	}
	pthread_mutex_unlock(&sts.lock);
	return r;
}

static void cache_put(const struct sts_entry *in)
{
	size_t slot = 0;

	pthread_mutex_lock(&sts.lock);
	if (sts.e == NULL) {
		pthread_mutex_unlock(&sts.lock);
		return;
	}
	for (slot = 0; slot < sts.n; slot++) {
		if (strcmp(sts.e[slot].domain, in->domain) == 0)
			break;
	}
	if (slot == sts.n) {
		if (sts.n < STS_CACHE_MAX) {
			sts.n++;
		} else {
			slot = 0;	/* full: replace the one fetched longest ago */
			for (size_t i = 1; i < sts.n; i++)
				if (sts.e[i].fetched < sts.e[slot].fetched)
					slot = i;
		}
	}
	sts.e[slot] = *in;
	pthread_mutex_unlock(&sts.lock);
}

/* TXT records of name through the daemon's DNS cache (the loops'
 * resolvers fill the same one), asked of resolver on a miss. */
static enum dns_result sts_txt_cached(const char *resolver, const char *name, char ***txt_r, size_t *n_r,
				      const char **error_r)
{
	struct dns_cache *cache = server != NULL ? server->dns_cache : NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	enum dns_result r;

	*txt_r = NULL;
	*n_r = 0;
	if (cache == NULL || dns_cache_get(cache, name, ns_t_txt, &r, &buf, &len) == 0) {
		r = dns_raw_lookup(resolver, name, ns_t_txt, &buf, &len, error_r);
		if (cache != NULL)
			dns_cache_put(cache, name, ns_t_txt, r, buf, len);
	}
	if (r == DNS_OK)
		r = dns_txt_parse(buf, len, txt_r, n_r, error_r);
	free(buf);
	return r;
}

/* The id of the one STSv1 record at _mta-sts.domain: 1 found, 0 none
 * (no record, several, or a malformed one: §3.1 says no policy then), -1
 * the lookup failed for now. */
static int sts_txt(const char *resolver, const char *domain, char *id, char *detail, size_t size)
{
	char name[300], **txt = NULL, one[MTA_STS_ID_MAX + 1];
	const char *error = "";
	size_t n = 0, found = 0;
	enum dns_result r;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	r = sts_txt_cached(resolver, name, &txt, &n, &error);
	if (r == DNS_TEMPFAIL) {
		snprintf(detail, size, "%s: %s", name, error);
		return -1;
	}
	for (size_t i = 0; r == DNS_OK && i < n; i++) {
		const char *perr = "";
		int k = mta_sts_txt_parse(txt[i], one, &perr);

		if (k != 0)
			found++;
		if (k > 0)
			str_copy(id, MTA_STS_ID_MAX + 1, one);
		else if (k < 0)
			id[0] = '\0';
	}
	if (r == DNS_OK)
		dns_txt_free(txt, n);
	return found == 1 && id[0] != '\0' ? 1 : 0;
}

/* GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt (§3.3: 200 only, no
 * redirects, text/plain, at most 64 KiB) and parse it: 0, or -1 with why. */
static int sts_fetch(const char *resolver, const char *ca_file, const char *domain, struct mta_sts_policy *p,
		     char *detail, size_t size)
{
	struct https_request req = { 0 };
	struct https_response resp;
	struct https_client *c;
	const char *ctype, *error = "";
	char url[320], err[256];
	int ret = -1;

	c = https_client_new(ca_file, err, sizeof(err));
	if (c == NULL) {
		snprintf(detail, size, "%s", err);
		return -1;
	}
	snprintf(url, sizeof(url), "https://mta-sts.%s/.well-known/mta-sts.txt", domain);
	req.method = "GET";
	req.url = url;
	req.timeout_ms = STS_FETCH_TIMEOUT_MS;
	req.limits.max_header = 16 * 1024;
	req.limits.max_body = MTA_STS_POLICY_MAX;
	req.resolver = resolver;
	if (https_request(c, &req, &resp, err, sizeof(err)) < 0) {
		snprintf(detail, size, "%s", err);
	} else if (resp.status != 200) {
		snprintf(detail, size, "%s: HTTP status %d", url, resp.status);
	} else if ((ctype = https_response_header(&resp, "Content-Type")) == NULL ||
		   strncasecmp(ctype, "text/plain", 10) != 0 || (ctype[10] != '\0' && ctype[10] != ';' &&
								  ctype[10] != ' ')) {
		snprintf(detail, size, "%s: Content-Type is not text/plain", url);
	} else if (mta_sts_policy_parse(resp.body, resp.body_len, p, &error) < 0) {
		snprintf(detail, size, "%s: invalid policy: %s", url, error);
	} else {
		ret = 0;
	}
	https_response_clear(&resp);
	https_client_free(c);
	return ret;
}

void outbound_sts_lookup(const char *resolver, const char *ca_file, const char *domain, struct outbound_sts *s_r)
{
	struct sts_entry cached, fresh;
	time_t now = time(NULL);
	char id[MTA_STS_ID_MAX + 1] = "";
	bool have_cache;
	int txt;

	memset(s_r, 0, sizeof(*s_r));
	if (strlen(domain) >= sizeof(s_r->domain) || domain[0] == '[')
		return;
	for (size_t i = 0; domain[i] != '\0'; i++)
		s_r->domain[i] = (char)tolower((unsigned char)domain[i]);
	have_cache = cache_get(s_r->domain, now, &cached) > 0;
	txt = sts_txt(resolver, s_r->domain, id, s_r->detail, sizeof(s_r->detail));
	if (have_cache && cached.failed) {
		/* a fetch for this id failed moments ago: not again for every
		 * message (each would wait for the same timeout) */
		if (txt > 0 && strcmp(id, cached.id) == 0) {
			s_r->fetch_error = true;
			str_copy(s_r->detail, sizeof(s_r->detail), cached.detail);
			return;
		}
		have_cache = false;
	}
	/* §5.1: the cached policy stands while it is current and the record
	 * names the same id (or cannot be read now) */
	if (have_cache && (txt <= 0 || strcmp(id, cached.id) == 0)) {
		str_copy(s_r->id, sizeof(s_r->id), cached.id);
		s_r->policy = cached.policy;
	} else if (txt > 0) {
		memset(&fresh, 0, sizeof(fresh));
		if (sts_fetch(resolver, ca_file, s_r->domain, &fresh.policy, s_r->detail, sizeof(s_r->detail)) < 0) {
			log_info(NULL, "outbound: MTA-STS policy of %s: %s", s_r->domain, s_r->detail);
			if (!have_cache) {
				str_copy(fresh.domain, sizeof(fresh.domain), s_r->domain);
				str_copy(fresh.id, sizeof(fresh.id), id);
				str_copy(fresh.detail, sizeof(fresh.detail), s_r->detail);
				fresh.failed = true;
				fresh.fetched = now;
				fresh.expires = now + STS_FETCH_BACKOFF;
				cache_put(&fresh);
				s_r->fetch_error = true;
				return;
			}
			str_copy(s_r->id, sizeof(s_r->id), cached.id);
			s_r->policy = cached.policy;	/* the old one, still current */
		} else {
			str_copy(fresh.domain, sizeof(fresh.domain), s_r->domain);
			str_copy(fresh.id, sizeof(fresh.id), id);
			fresh.fetched = now;
			fresh.expires = now + (time_t)fresh.policy.max_age;
			cache_put(&fresh);
			str_copy(s_r->id, sizeof(s_r->id), id);
			s_r->policy = fresh.policy;
			log_info(NULL, "outbound: MTA-STS policy of %s: mode %s, id %s, max_age %u", s_r->domain,
				 mta_sts_mode_name(fresh.policy.mode), id, fresh.policy.max_age);
		}
	} else {
		return;		/* no policy */
	}
	s_r->detail[0] = '\0';
	s_r->active = s_r->policy.mode != MTA_STS_NONE;
	s_r->enforce = s_r->policy.mode == MTA_STS_ENFORCE;
}

/* Journal fields never hold a tab or a newline. */
static void field(char *out, size_t size, const char *s)
{
	size_t i = 0;

	for (; *s != '\0' && i + 1 < size; s++)
		out[i++] = *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s;
	out[i] = '\0';
}

void outbound_sts_record(const char *domain, const struct outbound_sts *s, const char *result, const char *mx,
			 const char *ip)
{
	char dir[4200], path[4300], line[8192], mxs[MTA_STS_MX_MAX * (MTA_STS_NAME_MAX + 1) + 1] = "";
	char d[256], m[256], a[64], day[16];
	time_t now = time(NULL);
	struct tm tm;
	struct stat st;
	bool sts_policy = s != NULL && (s->active || s->fetch_error);
	int fd, n;

	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	pthread_mutex_lock(&sts.lock);
	snprintf(dir, sizeof(dir), "%s/tlsrpt", sts.data);
	n = sts.data[0] != '\0';
	pthread_mutex_unlock(&sts.lock);
	if (!n)
		return;		/* not started */
	for (size_t i = 0; s != NULL && s->active && i < s->policy.n_mx; i++) {
		size_t len = strlen(mxs);

		snprintf(mxs + len, sizeof(mxs) - len, "%s%s", i > 0 ? "," : "", s->policy.mx[i]);
	}
	field(d, sizeof(d), s != NULL && s->domain[0] != '\0' ? s->domain : domain);
	field(m, sizeof(m), mx != NULL ? mx : "");
	field(a, sizeof(a), ip != NULL ? ip : "");
	/* DOMAIN TYPE MODE MAX_AGE MX-PATTERNS RESULT MX-HOST MX-IP */
	n = snprintf(line, sizeof(line), "%s\t%s\t%s\t%u\t%s\t%s\t%s\t%s\n", d,
		     sts_policy ? "sts" : "no-policy-found",
		     s != NULL && s->active ? mta_sts_mode_name(s->policy.mode) : "",
		     s != NULL && s->active ? s->policy.max_age : 0, mxs, result, m, a);
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	if (fs_mkdir_p(dir, 0700) < 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, day);
	if (stat(path, &st) == 0 && st.st_size > (off_t)STS_JOURNAL_MAX)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn(NULL, "outbound: %s: %s", path, strerror(errno));
		return;
	}
	if (fs_write_all(fd, line, (size_t)n) < 0)
		log_warn(NULL, "outbound: %s: %s", path, strerror(errno));
	close(fd);
}
