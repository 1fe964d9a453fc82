#ifndef YUBIN_LIB_IPCOUNT_H
#define YUBIN_LIB_IPCOUNT_H

#include <stdbool.h>

/* Connections per client address, counted in one table shared by every
 * loop (a mutex around a hash table of the addresses that have some).
 * group keeps services apart (SMTP, POP3, IMAP and HTTP each have their
 * own limit). */

/* Counts one more connection of ip in group; false (nothing counted) when
 * max are already counted or memory runs out. */
bool ipcount_acquire(int group, const char *ip, unsigned max);
/* Gives back one connection counted by ipcount_acquire. */
void ipcount_release(int group, const char *ip);
/* Frees the table at shutdown. */
void ipcount_clear(void);

#endif
