#ifndef YUBIN_STORE_QUOTA_H
#define YUBIN_STORE_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

/* Mailbox usage, kept in memory by the daemon (one table for all loops and
 * workers) and derived from the Maildir on first use, so it is always
 * rebuilt correctly after a crash. */

/* Current usage of the mailbox at path, scanning it the first time. */
int quota_usage(const char *path, uint64_t *bytes_r);
/* Reserves bytes against limit: true and the usage grows when
 * usage + bytes <= limit (limit 0: no check). */
bool quota_reserve(const char *path, uint64_t bytes, uint64_t limit);
/* Gives bytes back (a failed delivery, a deleted message). */
void quota_release(const char *path, uint64_t bytes);
/* Forgets a mailbox (deleted account): the next use scans again. */
void quota_forget(const char *path);

#endif
