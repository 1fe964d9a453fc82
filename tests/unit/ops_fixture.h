/* Shared by the ops unit tests (test_ops*.c): a fresh directory in a
 * temporary folder and one actor of each kind, dropped again after the
 * test. */
#ifndef YUBIN_TESTS_OPS_FIXTURE_H
#define YUBIN_TESTS_OPS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory/directory.h"
#include "lib/fsutil.h"
#include "ops/ops.h"
#include "pg_fixture.h"

struct fixture {
	char dir[64];
	char path[1024];
	char conf[128];
	struct ops o;
	struct ops_actor cli, admin, dadmin, user, token;
};

/* Makes the folder from tmpl (ending in XXXXXX), opens its yubin.db with
 * a.example (and b.example when with_b) and sets up the actors: the
 * domain administrator of a.example, the user u@a.example and a token
 * with domain administration of token_domain. A new fixture, or NULL. */
static inline struct fixture *ops_fixture_new(const char *tmpl, bool with_b, const char *token_domain)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256] = "";
	const char *e;

	if (f == NULL)
		return NULL;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	if (mkdtemp(f->dir) == NULL)
		return NULL;
	snprintf(f->path, sizeof(f->path), "%s/yubin.db", f->dir);
	if (pg_fixture_fresh() != NULL)	/* the directory in PostgreSQL */
		snprintf(f->path, sizeof(f->path), "%s", getenv("YUBIN_TEST_PG"));
	f->o.dir = directory_open(f->path, err, sizeof(err));
	f->o.data = f->dir;
	if (f->o.dir == NULL || directory_domain_add(f->o.dir, "a.example", &e) < 0 ||
	    (with_b && directory_domain_add(f->o.dir, "b.example", &e) < 0))
		return NULL;
	ops_actor_init(&f->cli, OPS_ACTOR_CLI, "root", "");
	ops_actor_init(&f->admin, OPS_ACTOR_ADMIN, "boss", "192.0.2.1");
	ops_actor_init(&f->dadmin, OPS_ACTOR_DOMAIN_ADMIN, "alice", "192.0.2.7");
	ops_actor_add_domain(&f->dadmin, "a.example");
	ops_actor_init(&f->user, OPS_ACTOR_USER, "u@a.example", "198.51.100.1");
	ops_actor_init(&f->token, OPS_ACTOR_TOKEN, "tok1", "203.0.113.9");
	f->token.role = OPS_ACTOR_DOMAIN_ADMIN;
	ops_actor_add_domain(&f->token, token_domain);
	return f;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;

	directory_close(f->o.dir);
	fs_remove_tree(f->dir);
	free(f);
	return 0;
}

#endif
