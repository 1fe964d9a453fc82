/* GET /api/v1/mail/search: a mail user searches its own mailbox through
 * the full-text index (ops/ops_mail_search.c). Query: q, from, to,
 * subject, body (words), since, before (ISO 8601: YYYY-MM-DD in UTC or a
 * date-time with its offset; or Unix time), folder, offset, limit. Reply:
 * {"total","offset","limit","partial","hits":[{"folder","uid","date"
 * (arrival, ISO 8601 UTC),"from","subject","size","flags","snippet"}]},
 * newest first. */
#include "http/api.h"
#include "http/api_admin.h"
#include "mail/charset.h"
#include "ops/ops_mail_search.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A date or date-time of ISO 8601 as RFC 3339 writes it: "YYYY-MM-DD"
 * (midnight UTC) or "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)".
 * true with the Unix time in *t_r. */
static bool iso_time(const char *v, int64_t *t_r)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, oh = 0, om = 0;
	size_t len = strlen(v);
	const char *p;
	struct tm tm;
	int64_t off = 0;

	if (sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 || y < 1970 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31)
		return false;
	p = v + n;
	if (*p != '\0') {
		if ((*p != 'T' && *p != 't') || sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8 ||
		    h > 23 || mi > 59 || sec > 60)
			return false;
		p += 1 + n;
		if (*p == '.' && p[1] >= '0' && p[1] <= '9')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
			p++;
		} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
			   n == 5 && oh <= 23 && om <= 59) {
			off = (*p == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
			p += 6;
		} else {
			return false;
		}
	}
	if ((size_t)(p - v) != len)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t_r = (int64_t)timegm(&tm) - off;
	return true;
}

/* A date parameter: ISO 8601 (above) or Unix time. 1 given, 0 absent, -1
 * bad (answered 400). */
static int query_date(struct api_job *j, const char *name, int64_t *t_r)
{
	const char *v = api_query(j, name);

	*t_r = 0;
	if (v == NULL || *v == '\0')
		return 0;
	if (strspn(v, "0123456789") == strlen(v) && strlen(v) <= 12) {
		long long t = 0;
		sscanf(v, "%lld", &t);
		*t_r = t;
		return 1;
	}
	if (iso_time(v, t_r))
		return 1;
	api_error(j, 400, "invalid_field", name,
		  "a date is YYYY-MM-DD, an ISO 8601 date-time (2026-12-01T09:00:00+09:00) or a Unix time",
		  "日付は YYYY-MM-DD、ISO 8601 の日時 (2026-12-01T09:00:00+09:00) か Unix 時刻で指定してください");
	return -1;
}

static void flag_names(struct json *o, const struct ops_mail_hit *h)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = { { INDEX_FLAG_SEEN, "\\Seen" }, { INDEX_FLAG_ANSWERED, "\\Answered" },
		      { INDEX_FLAG_FLAGGED, "\\Flagged" }, { INDEX_FLAG_DELETED, "\\Deleted" },
		      { INDEX_FLAG_DRAFT, "\\Draft" } };

	json_key(o, "flags");
	json_array_begin(o);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (h->flags & names[i].bit)
			json_string(o, names[i].name);
	}
	for (const char *p = h->keywords; *p != '\0';) {
		size_t n = strcspn(p, " ");
		if (n > 0)
			json_string_n(o, p, n);
		p += n + (p[n] == ' ');
	}
	json_array_end(o);
}

static void hit_json(const struct ops_mail_hit *h, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "folder", h->folder);
	json_kv_uint(o, "uid", h->uid);
	api_json_time(o, "date", h->date);
	json_kv_string(o, "from", h->summary->from);
	json_kv_string(o, "subject", h->summary->subject);
	json_kv_uint(o, "size", h->size);
	flag_names(o, h);
	json_kv_string(o, "snippet", h->summary->snippet);
	json_object_end(o);
}

/* Text parameters must be UTF-8 without control characters. */
static bool query_text(struct api_job *j, const char *name, const char **out)
{
	const char *v = api_query(j, name);

	*out = v;
	if (v == NULL)
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p < 0x20 && *p != '\t') {
			api_error(j, 400, "invalid_field", name, "control characters are not allowed",
				  "制御文字は使えません");
			return false;
		}
	}
	if (!charset_utf8_is_valid(v, strlen(v))) {
		api_error(j, 400, "invalid_field", name, "not UTF-8", "UTF-8 ではありません");
		return false;
	}
	return true;
}

void api_mail_search(struct api_job *j)
{
	struct ops_mail_search_query q;
	struct ops_error err;
	uint64_t offset = 0, limit = 50;
	size_t total = 0;
	bool partial = false;
	struct json *o;

	memset(&q, 0, sizeof(q));
	if (!query_text(j, "q", &q.q) || !query_text(j, "from", &q.from) || !query_text(j, "to", &q.to) ||
	    !query_text(j, "subject", &q.subject) || !query_text(j, "body", &q.body) ||
	    !query_text(j, "folder", &q.folder) || query_date(j, "since", &q.since) < 0 ||
	    query_date(j, "before", &q.before) < 0 ||
	    api_query_uint(j, "offset", OPS_SEARCH_OFFSET_MAX, &offset) < 0 ||
	    api_query_uint(j, "limit", OPS_SEARCH_LIMIT_MAX, &limit) < 0)
		return;
	if (limit == 0) {
		api_error(j, 400, "invalid_field", "limit", "limit is 1 to 500", "limit は 1〜500 です");
		return;
	}
	q.offset = offset;
	q.limit = limit;
	o = api_reply(j, 200);
	json_key(o, "hits");
	json_array_begin(o);
	if (ops_mail_search(&j->ops, &j->actor, &q, hit_json, o, &total, &partial, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	json_kv_uint(o, "total", total);
	json_kv_uint(o, "offset", offset);
	json_kv_uint(o, "limit", limit);
	json_kv_bool(o, "partial", partial);
	api_reply_end(j);
}
