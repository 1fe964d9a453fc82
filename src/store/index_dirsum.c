/* The fingerprint of a Maildir directory's names, for the message cache's
 * check that cur/ still holds exactly the files it knows (index_msgs.c):
 * the number of names and the sum of a 64-bit hash of each. The sum does
 * not depend on the order readdir gives, and the cache keeps its own sum
 * up to date name by name as it changes, so comparing the two needs one
 * reading of the directory and no table, sort or allocation. */
#include "store/index_private.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

uint64_t index_name_hash(const char *name)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a, then a finaliser (splitmix64's) */

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

bool index_dir_name_counts(const char *name)
{
	return name[0] != '.' && strlen(name) < INDEX_FILE_MAX;
}

int index_dir_sum(const char *path, const char *sub, size_t *count_r, uint64_t *sum_r)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	*count_r = 0;
	*sum_r = 0;
	snprintf(dir, sizeof(dir), "%s/%s", path, sub);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (!index_dir_name_counts(de->d_name))
			continue;
		(*count_r)++;
		*sum_r += index_name_hash(de->d_name);
	}
	closedir(d);
	return 0;
}
