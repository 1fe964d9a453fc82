/* YUBIN_TEST_PG: when set to a PostgreSQL connection URI (a database of
 * the tests' own), the directory unit tests run on PostgreSQL instead of
 * an SQLite file; each test starts with the database emptied.
 * tests/integration/test_directory_pg.py runs them so on its server. */
#ifndef YUBIN_TESTS_PG_FIXTURE_H
#define YUBIN_TESTS_PG_FIXTURE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "directory/directory.h"

/* The URI of YUBIN_TEST_PG's database, emptied; NULL when unset. */
static inline const char *pg_fixture_fresh(void)
{
	const char *url = getenv("YUBIN_TEST_PG");
	PGconn *c;
	PGresult *res;
	bool ok;

	if (url == NULL || url[0] == '\0')
		return NULL;
	c = PQconnectdb(url);
	res = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "YUBIN_TEST_PG: %s", PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	if (!ok)
		abort();
	return url;
}

/* The directory a test works on: yubin.db in the temporary directory dir
 * (made from its XXXXXX template), or YUBIN_TEST_PG's database, emptied;
 * path gets what was opened. NULL on failure (said on stderr). */
static inline struct directory *pg_fixture_directory(char *dir, char *path, size_t size)
{
	char err[256] = "";
	const char *pg;
	struct directory *d;

	if (mkdtemp(dir) == NULL)
		return NULL;
	pg = pg_fixture_fresh();
	if (pg != NULL)
		snprintf(path, size, "%s", pg);
	else
		snprintf(path, size, "%s/yubin.db", dir);
	d = directory_open(path, err, sizeof(err));
	if (d == NULL)
		fprintf(stderr, "directory_open: %s\n", err);
	return d;
}

#endif
