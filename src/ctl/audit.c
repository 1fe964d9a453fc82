/* yubinctl audit (who changed what, when, from where) and account
 * add-bulk (many accounts from one file, all or none). */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/json.h"
#include "lib/str.h"
#include "ops/ops_server.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 100 lines of address (320), password (128), MB and a memo (511). */
#define CTL_BULK_BYTES (128 * 1024)

static void ctl_audit_cb(const struct dir_audit *a, void *ctx)
{
	struct ctl_list *ac = ctx;
	char when[64];

	ac->n++;
	if (ac->j != NULL) {
		ctl_time_iso(a->ts, when, sizeof(when));
		json_object_begin(ac->j);
		json_kv_int(ac->j, "id", a->id);
		json_kv_string(ac->j, "time", when);
		json_kv_string(ac->j, "actor", a->actor);
		json_kv_string(ac->j, "ip", a->ip);
		json_kv_string(ac->j, "operation", a->op);
		json_kv_string(ac->j, "target", a->target);
		json_kv_string(ac->j, "summary", a->summary);
		json_object_end(ac->j);
		return;
	}
	ctl_time_text(a->ts, when, sizeof(when));
	printf("%s  %s%s%s  %s %s: %s\n", when, a->actor, a->ip[0] != '\0' ? " from " : "", a->ip,
	       a->op, a->target[0] != '\0' ? a->target : "-", a->summary);
}

int ctl_log_query(struct ctl *c, struct ops_log_query *q)
{
	uint64_t limit = OPS_LOG_LIMIT_DEFAULT;

	if (c->limit != NULL && (str_parse_uint(c->limit, OPS_LOG_LIMIT_MAX, &limit) < 0 || limit == 0)) {
		fprintf(stderr, "yubinctl: --limit takes a number from 1 to %d, not '%s'\n", OPS_LOG_LIMIT_MAX,
			c->limit);
		return 2;
	}
	if (c->ndomains > 1) {
		fprintf(stderr, "yubinctl: give --domain once\n");
		return 2;
	}
	q->limit = (unsigned)limit;
	q->address = c->target;
	q->domain = c->ndomains == 1 ? c->domains[0] : NULL;
	q->kind = c->kind;
	q->actor = c->actor;
	return 0;
}

int cmd_audit(struct ctl *c)
{
	struct ctl_list ac;
	struct ops_log_query q;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct json j;
	int r;

	memset(&q, 0, sizeof(q));
	if (ctl_log_query(c, &q) != 0)
		return 2;
	if (c->target != NULL && c->target[0] == '\0')
		return ctl_fail("'%s' is not a domain or address", c->target);
	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	ctl_list_begin(c, &ac, &j);
	r = ctl_list_end(&ac, ops_audit_list(o, &actor, &q, ctl_audit_cb, &ac, &err), &err, NULL);
	if (r != 0 || ac.j != NULL)
		return r;
	if (ac.n == 0)
		printf("no changes recorded%s%s\n", c->target != NULL ? " for " : "",
		       c->target != NULL ? c->target : "");
	return 0;
}

/* The whole of FILE or stdin ("-"), at most CTL_BULK_BYTES. */
static char *ctl_bulk_read(const char *name)
{
	FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "r");
	char *buf;
	size_t len;

	if (f == NULL) {
		ctl_fail("cannot read %s", name);
		return NULL;
	}
	buf = malloc(CTL_BULK_BYTES + 1);
	if (buf == NULL) {
		ctl_fail("out of memory");
	} else {
		len = fread(buf, 1, CTL_BULK_BYTES + 1, f);
		if (ferror(f) || len > CTL_BULK_BYTES || memchr(buf, '\0', len) != NULL) {
			ctl_fail(ferror(f) ? "cannot read %s" : len > CTL_BULK_BYTES
				 ? "%s is too big for one bulk add (at most 100 lines)"
				 : "%s is not a text file", name);
			explicit_bzero(buf, len);
			free(buf);
			buf = NULL;
		} else {
			buf[len] = '\0';
		}
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

int cmd_account_add_bulk(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	unsigned count;
	char *text;
	int r;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if ((text = ctl_bulk_read(c->argv[0])) == NULL)
		return 1;
	r = ops_account_add_bulk(o, &actor, text, &count, &err);
	explicit_bzero(text, strlen(text));
	free(text);
	if (r < 0) {
		ctl_ops_fail(&err);
		fprintf(stderr, "yubinctl: no account was added\n");
		return 1;
	}
	printf("added %u account%s\n", count, count == 1 ? "" : "s");
	return 0;
}
