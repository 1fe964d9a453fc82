/* Pruning the tables that grow for ever (events, audit, login state,
 * panel sessions) in small batches, on both backends: each batch is one
 * statement of its own, so a big backlog never holds the database (the
 * SQLite write lock, a long PostgreSQL transaction) for long. */
#include "directory/directory.h"
#include "directory/dir_sql.h"

#include <stdio.h>

/* One batch's DELETE per table: ?1 the cut-off, ?2 the batch size.
 * events go by their time index (v14), except the markers doctor keeps
 * for good (dns-mx-here: since when a domain's MX points here), so a pass
 * with nothing to prune reads the old markers only. audit rows are added
 * in time order and nothing in them is kept for good, so a batch looks at
 * the oldest ids only and stops at the first young row. The login state
 * has no such order and is small (the keys of a few days). */
static const char *const prune_sql[DIR_PRUNE_COUNT] = {
	[DIR_PRUNE_EVENTS] = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < ?1"
			     " AND kind <> 'dns-mx-here' ORDER BY ts LIMIT ?2)",
	[DIR_PRUNE_AUDIT] = "DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT ?2)"
			    " AND ts < ?1",
	[DIR_PRUNE_AUTH_COUNTERS] = "DELETE FROM auth_counters WHERE key IN"
				    " (SELECT key FROM auth_counters WHERE last < ?1 LIMIT ?2)",
	[DIR_PRUNE_AUTH_KNOWN] = "DELETE FROM auth_known WHERE (address, net) IN"
				 " (SELECT address, net FROM auth_known WHERE last < ?1 LIMIT ?2)",
	[DIR_PRUNE_AUTH_BLOCKS] = "DELETE FROM auth_blocks WHERE key IN"
				  " (SELECT key FROM auth_blocks WHERE until < ?1 LIMIT ?2)",
	[DIR_PRUNE_SESSIONS] = "DELETE FROM sessions WHERE hash IN"
			       " (SELECT hash FROM sessions WHERE last_seen < ?1 LIMIT ?2)",
	[DIR_PRUNE_ABUSE_COUNTS] = "DELETE FROM abuse_counts WHERE (address, kind, minute) IN"
				   " (SELECT address, kind, minute FROM abuse_counts WHERE minute * 60 < ?1 LIMIT ?2)",
};

static const char *const prune_names[DIR_PRUNE_COUNT] = {
	[DIR_PRUNE_EVENTS] = "events", [DIR_PRUNE_AUDIT] = "audit",
	[DIR_PRUNE_AUTH_COUNTERS] = "auth_counters", [DIR_PRUNE_AUTH_KNOWN] = "auth_known",
	[DIR_PRUNE_AUTH_BLOCKS] = "auth_blocks", [DIR_PRUNE_SESSIONS] = "sessions",
	[DIR_PRUNE_ABUSE_COUNTS] = "abuse_counts",
};

const char *directory_prune_name(enum dir_prune_table t)
{
	return (unsigned)t < DIR_PRUNE_COUNT ? prune_names[t] : "?";
}

int64_t directory_prune_batch(struct directory *dir, enum dir_prune_table t, int64_t before, unsigned batch)
{
	struct dir_stmt *st;
	int r;

	if ((unsigned)t >= DIR_PRUNE_COUNT || batch == 0 || directory_in_transaction(dir))
		return -1;
	st = dir_prepare(dir, prune_sql[t], NULL);
	if (st == NULL)
		return -1;
	dir_bind_int64(st, 1, before);
	dir_bind_int64(st, 2, batch);
	r = dir_step(st);
	dir_finish(dir, st);
	return r == DIR_DONE ? dir->be->changes(dir->db) : -1;
}

int64_t directory_prune(struct directory *dir, enum dir_prune_table t, int64_t before, unsigned batch,
			unsigned max_batches)
{
	int64_t total = 0;

	for (unsigned i = 0; i < max_batches; i++) {
		int64_t n = directory_prune_batch(dir, t, before, batch);

		if (n < 0)
			return total > 0 ? total : -1;
		total += n;
		if (n < (int64_t)batch)
			break;
	}
	return total;
}
