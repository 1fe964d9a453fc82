/* `yubinctl directory migrate` brings the directory's schema (SQLite or
 * PostgreSQL, wherever the setting points) up to this build's version;
 * `yubinctl directory copy --to postgresql://...` copies this installation's
 * directory into an empty PostgreSQL database, after which the setting
 * may point there. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "settings/settings.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The directory where this installation keeps it, without migrating it;
 * NULL after a message. */
static struct directory *ctl_directory_raw(struct ctl *c, char *where, size_t size)
{
	char err[512];
	struct directory *dir;
	struct stat st;

	if (ctl_directory_where(c, where, size) < 0)
		return NULL;
	if (strncmp(where, "postgres", 8) != 0 && stat(where, &st) < 0) {
		ctl_fail("%s is not a Yubin data directory (no yubin.db): create it with yubinctl -d %s init"
			 " --hostname HOST, or pass -d DATA", c->data, c->data);
		return NULL;
	}
	dir = directory_open_raw(where, err, sizeof(err));
	if (dir == NULL)
		ctl_fail("cannot open the directory: %s", err);
	return dir;
}

int cmd_directory_migrate(struct ctl *c)
{
	char where[PATH_MAX + 1024], err[512];
	struct directory *dir = ctl_directory_raw(c, where, sizeof(where));
	int before, after, latest;

	if (dir == NULL)
		return 1;
	if (directory_schema_version(dir, &before, &latest) < 0) {
		directory_close(dir);
		return ctl_fail("cannot read the directory's schema version");
	}
	if (before > latest) {
		directory_close(dir);
		return ctl_fail("the directory's schema is version %d, newer than this yubinctl knows (%d):"
				" use the newer build", before, latest);
	}
	if (directory_migrate(dir, err, sizeof(err)) < 0 ||
	    directory_schema_version(dir, &after, &latest) < 0) {
		directory_close(dir);
		return ctl_fail("migration failed: %s", err);
	}
	directory_close(dir);
	if (after == before)
		printf("directory (%s): schema version %d, up to date\n",
		       strncmp(where, "postgres", 8) == 0 ? "PostgreSQL" : "SQLite", after);
	else
		printf("directory (%s): schema version %d -> %d\n",
		       strncmp(where, "postgres", 8) == 0 ? "PostgreSQL" : "SQLite", before, after);
	return 0;
}

static void copy_progress(const char *table, int64_t rows, void *ctx)
{
	(void)ctx;
	printf("  %-16s %lld rows\n", table, (long long)rows);
}

int cmd_directory_copy(struct ctl *c)
{
	char where[PATH_MAX + 1024], err[512];
	struct directory *from, *to;
	int r;

	if (strncmp(c->to, "postgresql://", 13) != 0 && strncmp(c->to, "postgres://", 11) != 0)
		return ctl_fail("--to takes a PostgreSQL connection URI (postgresql://[user@]host/db"
				" or postgresql:///db?host=/socket/dir)");
	from = ctl_directory_raw(c, where, sizeof(where));
	if (from == NULL)
		return 1;
	if (strcmp(where, c->to) == 0) {
		directory_close(from);
		return ctl_fail("--to names the directory this installation already uses");
	}
	to = directory_open_raw(c->to, err, sizeof(err));
	if (to == NULL) {
		directory_close(from);
		return ctl_fail("cannot open the target: %s", err);
	}
	printf("copying the directory into PostgreSQL (one transaction):\n");
	r = directory_copy(from, to, copy_progress, NULL, err, sizeof(err));
	directory_close(from);
	directory_close(to);
	if (r < 0)
		return ctl_fail("copy failed, nothing was kept in the target: %s", err);
	printf("done: every table copied and its rows counted on both sides.\n"
	       "next: stop yubind, yubinctl -d %s config set %s URI, start yubind\n", c->data,
	       settings_key(SETTING_CONF_DIRECTORY_URL));
	return 0;
}
