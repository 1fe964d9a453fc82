/* Read-only whole-file mappings (model files, mbox files). */
#include "lib/fsmap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_map_file(const char *path, size_t max, struct fs_map *map_r)
{
	struct stat st;
	void *p;
	int fd, e;

	memset(map_r, 0, sizeof(*map_r));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((unsigned long long)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			goto fail;
		map_r->data = p;
		map_r->size = (size_t)st.st_size;
	}
	close(fd);
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

void fs_map_free(struct fs_map *map)
{
	if (map == NULL || map->data == NULL)
		return;
	munmap((void *)map->data, map->size);
	map->data = NULL;
	map->size = 0;
}
