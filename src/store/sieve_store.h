#ifndef YUBIN_STORE_SIEVE_STORE_H
#define YUBIN_STORE_SIEVE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An account's Sieve scripts: MAILDIR/sieve/NAME.sieve, each written
 * durably (temporary file, fsync, rename, fsync of the directory), and
 * MAILDIR/sieve/active holding the name of the active one (none when
 * absent). Names are those ManageSieve allows (msieve_name_valid); in a
 * file name "%" and a leading "." are written %25 and %2E. Callers
 * serialise changes of one account (the sessions hold its lock). */

#define SIEVE_STORE_NAME_MAX 128

/* Each script's name, sorted by its bytes, and whether it is active.
 * 0, or -1 with errno. */
typedef void sieve_store_list_cb(const char *name, size_t size, bool active, void *ctx);
int sieve_store_list(const char *maildir, sieve_store_list_cb *cb, void *ctx);

/* The number of scripts and their total size, not counting the one
 * named except (NULL: none): what a replacement would leave. */
int sieve_store_usage(const char *maildir, const char *except, unsigned *count_r, uint64_t *bytes_r);

/* The text of a script (malloc'd, NUL-terminated; at most max octets):
 * 1, 0 when there is no such script, -1 with errno. */
int sieve_store_get(const char *maildir, const char *name, size_t max, char **text_r, size_t *len_r);

/* The file of script name: 0, or -1 with errno (a bad name). */
int sieve_store_path(const char *maildir, const char *name, char *buf, size_t size);

/* Stores (creates or replaces) a script: 0, or -1 with errno. */
int sieve_store_put(const char *maildir, const char *name, const char *text, size_t len);

/* 1 deleted, 0 no such script, -1 with errno. The caller refuses to
 * delete the active one (RFC 5804 DELETESCRIPT). */
int sieve_store_delete(const char *maildir, const char *name);

/* 1 renamed, 0 no script from, -2 a script to exists, -1 with errno. The
 * active mark follows the script, and at every instant names a file that
 * is there. */
int sieve_store_rename(const char *maildir, const char *from, const char *to);

/* The active script's name into name (SIEVE_STORE_NAME_MAX + 1): 1, 0
 * when none (or its file is gone), -1 with errno. */
int sieve_store_active(const char *maildir, char *name, size_t size);

/* Makes name the active script (NULL or "": none is): 1, 0 when there is
 * no such script, -1 with errno. */
int sieve_store_activate(const char *maildir, const char *name);

#endif
