/* DKIM keys shared through the directory: files <-> rows (dkim_share.h). */
#include "policy/dkim_share.h"
#include "policy/dkim_keys.h"
#include "directory/directory.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dkim_share_put(struct directory *dir, const char *data_dir, const char *domain, const struct dkim_keyinfo *k,
		   size_t n, const char **error_r)
{
	struct dir_dkim_key *rows;
	int r = -1;

	if (n > DKIM_KEYS_MAX) {
		*error_r = "too many keys";
		return -1;
	}
	rows = calloc(DKIM_KEYS_MAX, sizeof(*rows));
	if (rows == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		size_t len;
		char *pem;

		if (dkim_keys_pem_path(path, sizeof(path), data_dir, domain, &k[i]) < 0 ||
		    (pem = fs_read_file(path, DIR_DKIM_PEM_MAX, &len)) == NULL) {
			*error_r = "cannot read a key file";
			goto out;
		}
		str_copy(rows[i].selector, sizeof(rows[i].selector), k[i].selector);
		str_copy(rows[i].type, sizeof(rows[i].type), dkim_keytype_name(k[i].type));
		str_copy(rows[i].state, sizeof(rows[i].state), dkim_state_name(k[i].state));
		rows[i].since = k[i].since;
		memcpy(rows[i].pem, pem, len);
		rows[i].pem[len] = '\0';
		explicit_bzero(pem, len);
		free(pem);
	}
	r = directory_dkim_keys_set(dir, domain, rows, n, error_r);
out:
	explicit_bzero(rows, DKIM_KEYS_MAX * sizeof(*rows));
	free(rows);
	return r;
}

/* A domain with keys on disk only: stored in the directory. 0 or -1. */
static int share_put_files(struct directory *dir, const char *data_dir, const char *domain, const char **error_r)
{
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n = 0;

	if (dkim_keys_list(data_dir, domain, k, DKIM_KEYS_MAX, &n, error_r) < 0)
		return -1;
	return n > 0 ? dkim_share_put(dir, data_dir, domain, k, n, error_r) : 0;
}

/* A row's names back to the selectors file's values: 0 or -1. */
static int share_info(const struct dir_dkim_key *row, struct dkim_keyinfo *k)
{
	memset(k, 0, sizeof(*k));
	if (str_copy(k->selector, sizeof(k->selector), row->selector) < 0)
		return -1;
	if (strcmp(row->type, "rsa") == 0)
		k->type = DKIM_KEY_RSA;
	else if (strcmp(row->type, "ed25519") == 0)
		k->type = DKIM_KEY_ED25519;
	else
		return -1;
	if (strcmp(row->state, "next") == 0)
		k->state = DKIM_STATE_NEXT;
	else if (strcmp(row->state, "active") == 0)
		k->state = DKIM_STATE_ACTIVE;
	else if (strcmp(row->state, "retired") == 0)
		k->state = DKIM_STATE_RETIRED;
	else
		return -1;
	k->since = row->since;
	return 0;
}

/* Writes path when its content is not pem already: 1 written, 0 same, -1. */
static int share_write_pem(const char *path, const char *pem)
{
	size_t len = strlen(pem), have = 0;
	char *old = fs_read_file(path, DIR_DKIM_PEM_MAX, &have);
	bool same = old != NULL && have == len && memcmp(old, pem, len) == 0;

	if (old != NULL) {
		explicit_bzero(old, have);
		free(old);
	}
	if (same)
		return 0;
	return fs_write_file_atomic(path, pem, len, 0600) < 0 ? -1 : 1;
}

static bool share_same(const struct dkim_keyinfo *a, const struct dkim_keyinfo *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(a[i].selector, b[i].selector) != 0 || a[i].type != b[i].type ||
		    a[i].state != b[i].state || a[i].since != b[i].since)
			return false;
	}
	return true;
}

/* One domain's files from its rows: 1 changed, 0 as they were, -1. */
static int share_domain_out(struct directory *dir, const char *data_dir, const char *domain,
			    struct dir_dkim_key *rows)
{
	struct dkim_keyinfo want[DKIM_KEYS_MAX], have[DKIM_KEYS_MAX];
	size_t n = 0, nhave = 0;
	char path[PATH_MAX];
	const char *error = "";
	int changed = 0;

	if (!dkim_domain_is_safe(domain) || directory_dkim_keys_get(dir, domain, rows, DKIM_KEYS_MAX, &n) < 0)
		return -1;
	if (dkim_keys_dir(path, sizeof(path), data_dir, domain) < 0 || fs_mkdir_p(path, 0700) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int w;

		if (share_info(&rows[i], &want[i]) < 0 ||
		    dkim_keys_pem_path(path, sizeof(path), data_dir, domain, &want[i]) < 0)
			return -1;
		w = share_write_pem(path, rows[i].pem);
		if (w < 0)
			return -1;
		changed |= w;
	}
	if (dkim_keys_list(data_dir, domain, have, DKIM_KEYS_MAX, &nhave, &error) < 0)
		nhave = DKIM_KEYS_MAX + 1;	/* unreadable: write it again */
	if (nhave == n && share_same(have, want, n))
		return changed;
	/* the key files first, then the list that names them */
	if (dkim_keys_save(data_dir, domain, want, n, &error) < 0)
		return -1;
	return 1;
}

int dkim_share_domain(struct directory *dir, const char *data_dir, const char *domain)
{
	struct dir_dkim_key *rows = calloc(DKIM_KEYS_MAX, sizeof(*rows));
	const char *error = "";
	size_t n = 0;
	int r = -1;

	if (rows == NULL || directory_dkim_keys_get(dir, domain, rows, DKIM_KEYS_MAX, &n) < 0)
		goto out;
	if (n > 0)
		r = share_domain_out(dir, data_dir, domain, rows);
	else
		r = share_put_files(dir, data_dir, domain, &error) < 0 ? -1 : 0;
out:
	if (rows != NULL)
		explicit_bzero(rows, DKIM_KEYS_MAX * sizeof(*rows));
	free(rows);
	return r;
}

struct share_names {
	char (*names)[256];
	size_t n, cap;
	bool failed;
};

static void share_name_add(const char *name, void *ctx)
{
	struct share_names *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 64 : l->cap * 2;
		char (*nn)[256] = realloc(l->names, cap * sizeof(nn[0]));

		if (nn == NULL) {
			l->failed = true;
			return;
		}
		l->names = nn;
		l->cap = cap;
	}
	if (str_copy(l->names[l->n], sizeof(l->names[0]), name) == 0)
		l->n++;
}

static int share_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* l sorted (share_names_sort) */
static bool share_names_have(const struct share_names *l, const char *name)
{
	return l->n > 0 && bsearch(name, l->names, l->n, sizeof(l->names[0]), share_name_cmp) != NULL;
}

static void share_names_sort(struct share_names *l)
{
	if (l->n > 1)
		qsort(l->names, l->n, sizeof(l->names[0]), share_name_cmp);
}

/* Domains with keys on disk but not in the directory: stored there, if
 * the domain is (keys left on a node by a domain deleted elsewhere must
 * not come back; they are left alone, not deleted: a directory set up
 * wrongly must never cost a node its keys). */
static void share_upload_missing(struct directory *dir, const char *data_dir, struct share_names *known)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((size_t)snprintf(path, sizeof(path), "%s/dkim", data_dir) >= sizeof(path) || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *error = "";

		struct dir_domain dom;

		if (de->d_name[0] == '.' || !dkim_domain_is_safe(de->d_name) || share_names_have(known, de->d_name) ||
		    directory_domain_get(dir, de->d_name, &dom) != 1)
			continue;
		if (share_put_files(dir, data_dir, de->d_name, &error) < 0)
			log_warn(NULL, "dkim: cannot store the keys of %s in the directory: %s", de->d_name, error);
	}
	closedir(d);
}

int dkim_share_sync(struct directory *dir, const char *data_dir, int64_t mark[2])
{
	struct share_names known = { NULL, 0, 0, false };
	struct dir_dkim_key *rows = NULL;
	int64_t now[2];
	int changed = 0, r = -1;

	if (directory_dkim_mark(dir, now) < 0)
		return -1;
	if (mark != NULL && mark[0] == now[0] && mark[1] == now[1])
		return 0;	/* nothing changed since the last pass */
	rows = calloc(DKIM_KEYS_MAX, sizeof(*rows));
	if (rows == NULL || directory_dkim_domains(dir, share_name_add, &known) < 0 || known.failed)
		goto out;
	for (size_t i = 0; i < known.n; i++) {
		int c = share_domain_out(dir, data_dir, known.names[i], rows);

		if (c < 0)
			log_warn(NULL, "dkim: cannot write the keys of %s from the directory", known.names[i]);
		else
			changed += c;
	}
	share_names_sort(&known);
	share_upload_missing(dir, data_dir, &known);
	/* the mark as it was before this pass: a change during it is seen
	 * on the next */
	if (mark != NULL) {
		mark[0] = now[0];
		mark[1] = now[1];
	}
	r = changed;
out:
	if (rows != NULL)
		explicit_bzero(rows, DKIM_KEYS_MAX * sizeof(*rows));
	free(rows);
	free(known.names);
	return r;
}
