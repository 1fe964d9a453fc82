#ifndef YUBIN_LIB_FSMAP_H
#define YUBIN_LIB_FSMAP_H

#include <stddef.h>

/* A whole file mapped read-only (MAP_PRIVATE): the bytes stay what they
 * were at open even when the file is replaced by a rename, so a reader
 * never sees half of a new file. */
struct fs_map {
	const void *data;	/* NULL for an empty file */
	size_t size;
};

/* Maps path; fails with EFBIG past max bytes. Returns 0, or -1 with errno. */
int fs_map_file(const char *path, size_t max, struct fs_map *map_r);
/* Unmaps; accepts an unmapped (zeroed) map. */
void fs_map_free(struct fs_map *map);

#endif
