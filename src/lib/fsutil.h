#ifndef YUBIN_LIB_FSUTIL_H
#define YUBIN_LIB_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Creates a directory and its missing parents with the given mode. */
int fs_mkdir_p(const char *path, mode_t mode);
/* fsyncs a directory so that entries created or renamed in it are durable. */
int fs_fsync_dir(const char *path);
/* Writes data to path durably: temporary file, fsync, rename, fsync dir. */
int fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Reads a whole small file (at most max bytes) into a new NUL-terminated
 * buffer. Returns NULL with errno set. */
char *fs_read_file(const char *path, size_t max, size_t *len_r);
/* Writes all of buf to fd, retrying short writes and EINTR. */
int fs_write_all(int fd, const void *buf, size_t len);
/* Removes a directory tree. */
int fs_remove_tree(const char *path);

#endif
