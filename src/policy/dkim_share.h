#ifndef YUBIN_POLICY_DKIM_SHARE_H
#define YUBIN_POLICY_DKIM_SHARE_H

/* DKIM keys shared through the directory (issue 16 §1): the directory
 * holds every domain's keys (dkim_keys rows, with the private keys); the
 * files under DATA/dkim (dkim_keys.h) stay what the signer reads, and each
 * daemon writes them out from the rows. Blocking file and database I/O. */

#include <stddef.h>
#include <stdint.h>

struct directory;

struct dkim_keyinfo;

/* Stores domain's keys k[0..n) (their key files already written) in the
 * directory, replacing what it had: 0, or -1 with *error_r. Called before
 * the selectors file is written, so that a sync running meanwhile can
 * only write out the newer list. */
int dkim_share_put(struct directory *dir, const char *data_dir, const char *domain, const struct dkim_keyinfo *k,
		   size_t n, const char **error_r);
/* One domain: its files from the directory's rows when it has some, else
 * its files (if any) into the directory. 1 files changed, 0 not, -1. */
int dkim_share_domain(struct directory *dir, const char *data_dir, const char *domain);
/* Brings DATA/dkim up to date from the directory: each domain's key files
 * and selectors file written where they differ. A domain with keys on
 * disk but none in the directory (an installation from before the rows,
 * or copied in) is stored there. With mark (two numbers, {-1, -1} at
 * first), a pass is skipped while the directory's keys are unchanged
 * since the last (mark updated). Returns the number of domains whose
 * files changed, or -1. */
int dkim_share_sync(struct directory *dir, const char *data_dir, int64_t mark[2]);

#endif
