#ifndef YUBIN_STORE_QUEUE_SPARE_H
#define YUBIN_STORE_QUEUE_SPARE_H

/* Spare queue files. A queue file that is done (delivered, bounced,
 * expired) is not unlinked but renamed to ".spare.N" in the queue
 * directory and truncated to nothing; the next queue_file_stage renames a
 * spare to its temporary name and writes it, instead of creating a new
 * file. The inode is reused: no inode is freed and allocated again per
 * message. (On ext4 without a journal every allocation walks past the
 * inodes freed in the last minute or more, so at hundreds of messages a
 * second creating the queue file cost more CPU than the rest of the
 * message's way through the daemon.)
 *
 * Safety: the rename takes the queue file's name away in one step, as an
 * unlink does; a spare's name starts with a dot, so no scan, yubinctl
 * queue or queue count ever reads it as a message, and it holds no mail
 * (truncated right after the rename; a crash in between leaves a spare
 * with content, removed by queue_spare_init at the next start). At most
 * QUEUE_SPARE_MAX spares are kept; beyond that files are unlinked. */

#define QUEUE_SPARE_MAX 128

/* Removes every spare left in dir (by a crash or another process) and
 * makes dir the directory spares are kept in. Call at start-up, before
 * the queue is written to. */
void queue_spare_init(const char *dir);
/* Takes path (a queue file in the spares' directory) out of the queue:
 * renamed to a spare and truncated, or unlinked when the pool is full or
 * the rename fails. 0 when path is gone, -1 (errno) when it could not be
 * removed. */
int queue_spare_retire(const char *path);
/* Renames a spare of dir to path (a temporary name in dir): 0, or -1
 * when there is none (the caller creates the file). */
int queue_spare_take(const char *dir, const char *path);

#endif
