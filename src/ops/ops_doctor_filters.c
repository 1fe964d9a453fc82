/* doctor: what the mail filters did with the account's last messages
 * (the sieve-filed, sieve-rejected, sieve-error and sieve-vacation events
 * delivery records), with the rule of the panel that decided, when it was
 * the panel's generated script. */
#include "ops/ops_doctor.h"
#include "store/maildir.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILTER_SHOWN 10

struct filter_events {
	struct dir_event e[4 * FILTER_SHOWN];
	size_t n, per;
	unsigned total;
};

static void filter_cb(const struct dir_event *e, void *ctx)
{
	struct filter_events *f = ctx;

	f->total++;
	if (f->per < FILTER_SHOWN && f->n < sizeof(f->e) / sizeof(f->e[0])) {
		f->e[f->n++] = *e;
		f->per++;
	}
}

static int newest_first(const void *a, const void *b)
{
	const struct dir_event *x = a, *y = b;

	return x->ts < y->ts ? 1 : x->ts > y->ts ? -1 : (x->id < y->id) - (x->id > y->id);
}

/* The name of the panel rule around line (its "# rule N: NAME" comment
 * above it) into name, or "". */
static void panel_rule(const char *panel, size_t len, unsigned line, char *name, size_t size)
{
	const char *p = panel, *end = panel + len;
	unsigned at = 1;

	name[0] = '\0';
	while (p < end && at <= line) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 7 && strncmp(p, "# rule ", 7) == 0) {
			snprintf(name, size, "%.*s", (int)(n - 2), p + 2);
		} else if (n >= 14 && strncmp(p, "# auto-reply", 12) == 0) {
			str_copy(name, size, "the auto-reply");
		}
		at++;
		p = nl != NULL ? nl + 1 : end;
	}
}

/* The line a detail names last ("(line N)" or "(panel line N)"). */
static unsigned detail_line(const char *d)
{
	const char *p = d, *hit = NULL;

	while ((p = strstr(p, "line ")) != NULL)
		hit = p, p += 5;
	return hit != NULL ? (unsigned)strtoul(hit + 5, NULL, 10) : 0;
}

void doctor_filters(struct ops *o, struct ops_doctor *d, const struct dir_account *a)
{
	static const char *const kinds[] = { "sieve-filed", "sieve-rejected", "sieve-error", "sieve-vacation" };
	struct filter_events *f = calloc(1, sizeof(*f));
	char path[PATH_MAX], when[40], rule[200];
	char *panel = NULL;
	size_t plen = 0;

	d->group = OPS_DQ_FILTER;
	if (f == NULL)
		return;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		f->per = 0;
		directory_event_since(o->dir, a->address, kinds[k], doctor_since(d), filter_cb, f);
	}
	if (f->n == 0) {
		doctor_add(d, OPS_DOCTOR_OK, "no message to %s was filed, refused or answered by a mail filter in the last"
			   " %u days", "直近 %.0s%u 日間、メールの振り分けや自動応答が働いた記録はありません", a->address, d->days);
		free(f);
		return;
	}
	if (maildir_path(path, sizeof(path), o->data, a->domain, a->local) == 0 &&
	    strlen(path) + 16 < sizeof(path)) {
		strcat(path, "/sieve/panel");
		panel = fs_read_file(path, 1024 * 1024, &plen);
	}
	qsort(f->e, f->n, sizeof(f->e[0]), newest_first);
	for (size_t i = 0; i < f->n && i < FILTER_SHOWN; i++) {
		const struct dir_event *e = &f->e[i];
		bool bad = strcmp(e->kind, "sieve-rejected") == 0 || strcmp(e->kind, "sieve-error") == 0;
		bool from_panel = strncmp(e->detail, "panel: ", 7) == 0 || strstr(e->detail, "(panel line ") != NULL;

		ops_time_text(e->ts, when, sizeof(when));
		rule[0] = '\0';
		if (from_panel && panel != NULL)
			panel_rule(panel, plen, detail_line(e->detail), rule, sizeof(rule));
		doctor_fix(doctor_add(d, bad ? OPS_DOCTOR_WARN : OPS_DOCTOR_OK, "%s %s: %s%s%s%s",
				      "%s %s: %s%s%s%s", when, e->kind, e->detail, rule[0] != '\0' ? " (panel: " : "", rule,
				      rule[0] != '\0' ? ")" : ""),
			   from_panel ? "rules" : "sieve", from_panel ? "yubinctl rules list %s" : "yubinctl sieve list %s",
			   a->address);
	}
	free(panel);
	free(f);
}
