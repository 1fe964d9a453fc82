/* The RFC 8460 report (§4.4) of one policy domain from the journal of a
 * day: sessions grouped by the policy they ran under, counted as
 * successful or failed, failures by result type, MX host and address. */
#include "policy/tlsrpt.h"
#include "policy/mta_sts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_DOMAIN, F_TYPE, F_MODE, F_MAX_AGE, F_MXS, F_RESULT, F_MX, F_IP, F_COUNT };
#define FIELD_MAX 1024

struct row {
	char f[F_COUNT][FIELD_MAX];
};

struct detail {
	char result[64], mx[256], ip[64];
	unsigned long count;
};

struct pol {
	char type[32], mode[16], max_age[16], mxs[FIELD_MAX];
	unsigned long ok, failed;
	struct detail d[TLSRPT_DETAILS_MAX];
	size_t nd;
};

/* Splits one line (len bytes, no newline) into r: false when it has not
 * exactly F_COUNT fields or one is too long. */
static bool row_parse(const char *line, size_t len, struct row *r)
{
	size_t field = 0, n = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || line[i] == '\t') {
			if (field >= F_COUNT)
				return false;
			r->f[field++][n] = '\0';
			n = 0;
			continue;
		}
		if (field >= F_COUNT || n + 1 >= FIELD_MAX)
			return false;
		r->f[field][n++] = line[i];
	}
	return field == F_COUNT && r->f[F_DOMAIN][0] != '\0' && r->f[F_RESULT][0] != '\0';
}

/* Calls fn for each well-formed line. */
static void rows_each(const char *journal, size_t len, void (*fn)(const struct row *r, void *ctx), void *ctx)
{
	struct row *r = malloc(sizeof(*r));
	const char *p = journal, *end = journal + len;

	if (r == NULL)
		return;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);

		if (row_parse(p, n, r))
			fn(r, ctx);
		p = nl != NULL ? nl + 1 : end;
	}
	free(r);
}

struct domains {
	char (*seen)[FIELD_MAX];
	size_t n, max;
	void (*cb)(const char *domain, void *ctx);
	void *ctx;
};

static void domain_row(const struct row *r, void *ctx)
{
	struct domains *d = ctx;

	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->seen[i], r->f[F_DOMAIN]) == 0)
			return;
	if (d->n == d->max)
		return;
	memcpy(d->seen[d->n++], r->f[F_DOMAIN], FIELD_MAX);
	d->cb(r->f[F_DOMAIN], d->ctx);
}

void tlsrpt_journal_domains(const char *journal, size_t len, size_t max,
			    void (*cb)(const char *domain, void *ctx), void *ctx)
{
	struct domains d = { calloc(max > 0 ? max : 1, FIELD_MAX), 0, max, cb, ctx };

	if (d.seen == NULL)
		return;
	rows_each(journal, len, domain_row, &d);
	free(d.seen);
}

struct report {
	const char *domain;
	struct pol *p;
	size_t np;
	bool any;
};

static void count_row(const struct row *r, void *ctx)
{
	struct report *rep = ctx;
	struct pol *p = NULL;
	bool ok = strcmp(r->f[F_RESULT], "success") == 0;

	if (strcmp(r->f[F_DOMAIN], rep->domain) != 0)
		return;
	rep->any = true;
	for (size_t i = 0; i < rep->np && p == NULL; i++) {
		struct pol *q = &rep->p[i];

		if (strcmp(q->type, r->f[F_TYPE]) == 0 && strcmp(q->mode, r->f[F_MODE]) == 0 &&
		    strcmp(q->max_age, r->f[F_MAX_AGE]) == 0 && strcmp(q->mxs, r->f[F_MXS]) == 0)
			p = q;
	}
	if (p == NULL) {
		if (rep->np == TLSRPT_POLICIES_MAX)
			return;
		p = &rep->p[rep->np++];
		snprintf(p->type, sizeof(p->type), "%s", r->f[F_TYPE]);
		snprintf(p->mode, sizeof(p->mode), "%s", r->f[F_MODE]);
		snprintf(p->max_age, sizeof(p->max_age), "%s", r->f[F_MAX_AGE]);
		snprintf(p->mxs, sizeof(p->mxs), "%s", r->f[F_MXS]);
	}
	if (ok) {
		p->ok++;
		return;
	}
	p->failed++;
	for (size_t i = 0; i < p->nd; i++) {
		struct detail *d = &p->d[i];

		if (strcmp(d->result, r->f[F_RESULT]) == 0 && strcmp(d->mx, r->f[F_MX]) == 0 &&
		    strcmp(d->ip, r->f[F_IP]) == 0) {
			d->count++;
			return;
		}
	}
	if (p->nd < TLSRPT_DETAILS_MAX) {
		struct detail *d = &p->d[p->nd++];

		snprintf(d->result, sizeof(d->result), "%s", r->f[F_RESULT]);
		snprintf(d->mx, sizeof(d->mx), "%s", r->f[F_MX]);
		snprintf(d->ip, sizeof(d->ip), "%s", r->f[F_IP]);
		d->count = 1;
	}
}

/* "policy": type, the policy's lines (as served), domain, MX patterns. */
static void policy_json(const struct pol *p, const char *domain, struct json *j)
{
	bool sts = strcmp(p->type, "sts") == 0 && p->mode[0] != '\0';
	char line[FIELD_MAX + 16];

	json_key(j, "policy");
	json_object_begin(j);
	json_kv_string(j, "policy-type", p->type);
	if (sts) {
		json_key(j, "policy-string");
		json_array_begin(j);
		json_string(j, "version: STSv1");
		snprintf(line, sizeof(line), "mode: %s", p->mode);
		json_string(j, line);
		for (const char *m = p->mxs; *m != '\0';) {
			size_t n = strcspn(m, ",");

			snprintf(line, sizeof(line), "mx: %.*s", (int)n, m);
			json_string(j, line);
			m += n + (m[n] == ',');
		}
		snprintf(line, sizeof(line), "max_age: %s", p->max_age);
		json_string(j, line);
		json_array_end(j);
	}
	json_kv_string(j, "policy-domain", domain);
	if (sts) {
		json_key(j, "mx-host");
		json_array_begin(j);
		for (const char *m = p->mxs; *m != '\0';) {
			size_t n = strcspn(m, ",");

			json_string_n(j, m, n);
			m += n + (m[n] == ',');
		}
		json_array_end(j);
	}
	json_object_end(j);
}

int tlsrpt_report_json(const char *journal, size_t len, const char *domain, const struct tlsrpt_meta *m,
		       struct json *j)
{
	struct report rep = { domain, calloc(TLSRPT_POLICIES_MAX, sizeof(struct pol)), 0, false };

	if (rep.p == NULL) {
		j->failed = true;
		return 1;
	}
	rows_each(journal, len, count_row, &rep);
	if (!rep.any) {
		free(rep.p);
		return 0;
	}
	json_object_begin(j);
	json_kv_string(j, "organization-name", m->organization);
	json_key(j, "date-range");
	json_object_begin(j);
	json_kv_string(j, "start-datetime", m->start);
	json_kv_string(j, "end-datetime", m->end);
	json_object_end(j);
	json_kv_string(j, "contact-info", m->contact);
	json_kv_string(j, "report-id", m->report_id);
	json_key(j, "policies");
	json_array_begin(j);
	for (size_t i = 0; i < rep.np; i++) {
		const struct pol *p = &rep.p[i];

		json_object_begin(j);
		policy_json(p, domain, j);
		json_key(j, "summary");
		json_object_begin(j);
		json_kv_uint(j, "total-successful-session-count", p->ok);
		json_kv_uint(j, "total-failure-session-count", p->failed);
		json_object_end(j);
		if (p->nd > 0) {
			json_key(j, "failure-details");
			json_array_begin(j);
			for (size_t k = 0; k < p->nd; k++) {
				json_object_begin(j);
				json_kv_string(j, "result-type", p->d[k].result);
				if (p->d[k].mx[0] != '\0')
					json_kv_string(j, "receiving-mx-hostname", p->d[k].mx);
				if (p->d[k].ip[0] != '\0')
					json_kv_string(j, "receiving-ip", p->d[k].ip);
				json_kv_uint(j, "failed-session-count", p->d[k].count);
				json_object_end(j);
			}
			json_array_end(j);
		}
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	free(rep.p);
	return 1;
}
