/* The actor, its scope, refusals and the audit log: what every operation
 * shares. */
#include "ops/ops.h"
#include "lib/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void ops_actor_init(struct ops_actor *a, enum ops_actor_kind kind, const char *name, const char *ip)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->role = kind;
	str_copy(a->name, sizeof(a->name), name != NULL ? name : "");
	str_copy(a->ip, sizeof(a->ip), ip != NULL ? ip : "");
}

int ops_actor_add_domain(struct ops_actor *a, const char *domain)
{
	if (a->ndomains == OPS_DOMAINS_MAX || strlen(domain) > DIR_DOMAIN_MAX)
		return -1;
	str_copy(a->domains[a->ndomains++], sizeof(a->domains[0]), domain);
	return 0;
}

enum ops_actor_kind ops_actor_role(const struct ops_actor *a)
{
	return a->kind == OPS_ACTOR_TOKEN ? a->role : a->kind;
}

bool ops_may_server(const struct ops_actor *a)
{
	enum ops_actor_kind role = ops_actor_role(a);

	return role == OPS_ACTOR_CLI || role == OPS_ACTOR_ADMIN;
}

bool ops_may_domain(const struct ops_actor *a, const char *domain)
{
	if (ops_may_server(a))
		return true;
	if (ops_actor_role(a) != OPS_ACTOR_DOMAIN_ADMIN)
		return false;
	for (size_t i = 0; i < a->ndomains; i++) {
		if (strcasecmp(a->domains[i], domain) == 0)
			return true;
	}
	return false;
}

bool ops_may_account(const struct ops_actor *a, const char *address, bool self_ok)
{
	const char *at = strrchr(address, '@');

	if (ops_actor_role(a) == OPS_ACTOR_USER)
		return self_ok && a->kind == OPS_ACTOR_USER && strcasecmp(a->name, address) == 0;
	return at != NULL && ops_may_domain(a, at + 1);
}

int ops_fail(struct ops_error *err, const char *code, const char *field, const char *en_fmt,
	     const char *ja_fmt, ...)
{
	va_list ap;

	err->code = code;
	err->field = field;
	va_start(ap, ja_fmt);
	vsnprintf(err->en, sizeof(err->en), en_fmt, ap);
	va_end(ap);
	va_start(ap, ja_fmt);
	/* the same arguments in the same order as en_fmt */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(err->ja, sizeof(err->ja), ja_fmt, ap);
#pragma GCC diagnostic pop
	va_end(ap);
	return -1;
}

void ops_actor_text(const struct ops_actor *a, char *buf, size_t size)
{
	static const char *const kinds[] = {
		[OPS_ACTOR_CLI] = "cli", [OPS_ACTOR_ADMIN] = "admin",
		[OPS_ACTOR_DOMAIN_ADMIN] = "domain-admin", [OPS_ACTOR_USER] = "user",
		[OPS_ACTOR_TOKEN] = "token",
	};

	snprintf(buf, size, "%s:%s", kinds[a->kind], a->name);
}

int ops_audit(struct ops *o, const struct ops_actor *a, const char *op, const char *target,
	      const char *fmt, ...)
{
	struct dir_audit row;
	va_list ap;

	memset(&row, 0, sizeof(row));
	row.ts = (int64_t)time(NULL);
	ops_actor_text(a, row.actor, sizeof(row.actor));
	str_copy(row.ip, sizeof(row.ip), a->ip);
	str_copy(row.op, sizeof(row.op), op);
	str_copy(row.target, sizeof(row.target), target != NULL ? target : "");
	va_start(ap, fmt);
	vsnprintf(row.summary, sizeof(row.summary), fmt, ap);
	va_end(ap);
	return directory_audit_add(o->dir, &row);
}

void ops_event(struct ops *o, const struct ops_actor *a, const char *kind, const char *address,
	       const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	(void)directory_event_add(o->dir, kind, address != NULL ? address : "", a->ip, detail);
}
