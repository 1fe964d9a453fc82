/* XMOVE: the node's side of an account move (ops/ops_move.c), spoken
 * only in a move's session: a trusted peer (proxy.trusted) that said ID
 * ("x-yubin-move" "1") before its proxy login (server/proxy_auth.c), so
 * no client relayed by a proxy can reach it. On the source (the home
 * node): FREEZE, THAW, FILES; on the target: FOLDER, PUT; on the source
 * after the switch: PURGE. store/mail_move.h has the disk side. */
#include "server/imap_session.h"
#include "server/imap_msgset.h"
#include "server/proxy.h"
#include "directory/directory.h"
#include "store/mail_move.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define XMOVE_CHUNK (6 * 1024)	/* file bytes per line: the PUT of it fits in imap.max_line_length 9 KiB */
#define XMOVE_FILE_MAX (256ull * 1024 * 1024)	/* a per-account file moved */
#define XMOVE_SUFFIX ".moving"

/* 1 the account's home node is this one, 0 another, -1 unknown. */
static int xmove_home_is_here(struct imap_session *s)
{
	struct directory *dir = server_directory();
	char node[DIR_NODE_NAME_MAX + 1];

	return dir == NULL ? -1 : proxy_account_is_here(dir, s->user, node, sizeof(node));
}

/* The mailbox's own path (root without ".moving") into buf. */
static void xmove_home_root(const struct imap_session *s, char *buf, size_t size)
{
	size_t n = strlen(s->root), k = strlen(XMOVE_SUFFIX);

	str_copy(buf, size, s->root);
	if (n > k && strcmp(s->root + n - k, XMOVE_SUFFIX) == 0 && n - k < size)
		buf[n - k] = '\0';
}

static bool xmove_is_frozen(const struct imap_session *s)
{
	char home[PATH_MAX];

	xmove_home_root(s, home, sizeof(home));
	return strcmp(home, s->root) != 0;
}

/* The accounts with a move's session on this node: one at a time, so two
 * runs of a move never work on one mailbox together. */
struct xmove_claim {
	struct xmove_claim *next;
	char address[];
};
static pthread_mutex_t xmove_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xmove_claim *xmove_claims;

static int xmove_claim(struct imap_session *s, const char *address)
{
	struct xmove_claim *c;
	int r = -1;

	if (s->move_claim != NULL)
		return strcasecmp(s->move_claim, address) == 0 ? 0 : -1;
	pthread_mutex_lock(&xmove_lock);
	for (c = xmove_claims; c != NULL; c = c->next) {
		if (strcasecmp(c->address, address) == 0)
			break;
	}
	if (c == NULL && (c = malloc(sizeof(*c) + strlen(address) + 1)) != NULL) {
		strcpy(c->address, address);
		c->next = xmove_claims;
		xmove_claims = c;
		s->move_claim = c->address;
		r = 0;
	}
	pthread_mutex_unlock(&xmove_lock);
	return r;
}

void imap_xmove_release(struct imap_session *s)
{
	pthread_mutex_lock(&xmove_lock);
	for (struct xmove_claim **pp = &xmove_claims; s->move_claim != NULL && *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->address == s->move_claim) {
			struct xmove_claim *c = *pp;
			*pp = c->next;
			free(c);
			break;
		}
	}
	pthread_mutex_unlock(&xmove_lock);
	s->move_claim = NULL;
}

int imap_xmove_open_root(struct imap_session *s, const char *address, char *root, size_t size)
{
	struct directory *dir = server_directory();
	char node[DIR_NODE_NAME_MAX + 1], frozen[PATH_MAX];
	const char *error;
	int here;

	if (s->mover && xmove_claim(s, address) < 0) {
		log_warn(s->sid, "imap: move of %s refused: another move's session holds it", address);
		return -1;
	}
	if (!mail_move_is_gone(root))
		return 0;
	if (!s->mover || dir == NULL)
		return -1;	/* moved away (or moving): NO [UNAVAILABLE], the client tries again */
	here = proxy_account_is_here(dir, address, node, sizeof(node));
	if (here < 0)
		return -1;
	if (here == 1) {
		/* the source, frozen by an earlier run of the same move */
		if (mail_move_frozen_path(root, frozen, sizeof(frozen)) < 0 || access(frozen, F_OK) < 0)
			return -1;
		return str_copy(root, size, frozen);
	}
	if (mail_move_clear(root, &error) < 0) {
		log_error(NULL, "imap: move of %s: %s", address, error);
		return -1;
	}
	return 0;
}

/* FOLDER name uidvalidity uidnext highestmodseq (target) */
static void xmove_folder(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name = cmd->count == 5 ? imap_mailbox_name(s, imap_arg_astring(&cmd->args[1])) : NULL;
	uint32_t uidvalidity, uidnext;
	uint64_t modseq;
	const char *error;

	if (name == NULL || imap_arg_nz_number(&cmd->args[2], &uidvalidity) < 0 ||
	    imap_arg_nz_number(&cmd->args[3], &uidnext) < 0 || imap_arg_modseq(&cmd->args[4], true, &modseq) < 0) {
		imap_tagged(s, cmd, "BAD", "XMOVE FOLDER name uidvalidity uidnext highestmodseq");
		return;
	}
	if (mail_index_mailbox_import(s->idx, name, uidvalidity, uidnext, modseq, &error) < 0) {
		imap_tagged(s, cmd, "NO", "%s", error);
		return;
	}
	imap_tagged(s, cmd, "OK", "XMOVE FOLDER completed");
}

/* FREEZE (source): nothing more lands in the mailbox; this session reads
 * the frozen copy. */
static void xmove_freeze(struct imap_session *s, const struct imap_command *cmd)
{
	char frozen[PATH_MAX];
	const char *error;
	char *copy;

	if (xmove_is_frozen(s)) {
		imap_tagged(s, cmd, "OK", "XMOVE FREEZE completed (frozen before)");
		return;
	}
	if (mail_move_frozen_path(s->root, frozen, sizeof(frozen)) < 0 || (copy = strdup(frozen)) == NULL) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		return;
	}
	if (mail_move_freeze(s->root, &error) < 0) {
		free(copy);
		log_error(s->sid, "imap: move of %s: freeze: %s", s->user, error);
		imap_tagged(s, cmd, "NO", "[SERVERBUG] %s", error);
		return;
	}
	log_info(s->sid, "imap: move of %s: mailbox frozen", s->user);
	free(s->root);
	s->root = copy;
	imap_tagged(s, cmd, "OK", "XMOVE FREEZE completed");
}

/* THAW (source): the move was given up before its switch. */
static void xmove_thaw(struct imap_session *s, const struct imap_command *cmd)
{
	char home[PATH_MAX];
	const char *error;
	char *copy;

	xmove_home_root(s, home, sizeof(home));
	if ((copy = strdup(home)) == NULL) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		return;
	}
	if (mail_move_thaw(home, &error) < 0) {
		free(copy);
		imap_tagged(s, cmd, "NO", "[SERVERBUG] %s", error);
		return;
	}
	log_info(s->sid, "imap: move of %s: mailbox thawed", s->user);
	free(s->root);
	s->root = copy;
	imap_tagged(s, cmd, "OK", "XMOVE THAW completed");
}

/* PURGE (source, after the switch): the frozen copy goes. */
static void xmove_purge(struct imap_session *s, const struct imap_command *cmd)
{
	char home[PATH_MAX];
	const char *error;
	char *copy;

	if (!xmove_is_frozen(s) || xmove_home_is_here(s) != 0) {
		imap_tagged(s, cmd, "NO", "[CANNOT] Only a frozen mailbox whose home moved away is purged");
		return;
	}
	xmove_home_root(s, home, sizeof(home));
	if ((copy = strdup(home)) == NULL) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		return;
	}
	if (mail_move_purge(home, &error) < 0) {
		free(copy);
		imap_tagged(s, cmd, "NO", "[SERVERBUG] %s", error);
		return;
	}
	log_info(s->sid, "imap: move of %s: old mailbox removed", s->user);
	free(s->root);
	s->root = copy;		/* the tombstone: any further command says BYE */
	imap_tagged(s, cmd, "OK", "XMOVE PURGE completed");
}

/* One file as "* XMOVE FILE rel offset last base64" lines. */
static int xmove_file_out(struct imap_session *s, const char *rel)
{
	unsigned char buf[XMOVE_CHUNK];
	char path[PATH_MAX], *b64;
	uint64_t off = 0;
	struct stat st;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", s->root, rel) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > XMOVE_FILE_MAX ||
	    (b64 = malloc(4 * ((sizeof(buf) + 2) / 3) + 1)) == NULL) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		bool last;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		last = (size_t)n < sizeof(buf) || off + (uint64_t)n >= (uint64_t)st.st_size;
		base64_encode(buf, (size_t)n, b64);
		imap_out(s, "* XMOVE FILE \"%s\" %llu %d %s", rel, (unsigned long long)off, last ? 1 : 0,
			 n > 0 ? b64 : "=");
		off += (uint64_t)n;
		if (last) {
			free(b64);
			close(fd);
			return 0;
		}
	}
	free(b64);
	close(fd);
	return -1;
}

/* FILES (source): the account's files that move besides the folders. */
static void xmove_files(struct imap_session *s, const struct imap_command *cmd)
{
	static const char *const top[] = { "contacts.db", "contacts.db-wal" };
	char dir[PATH_MAX], rel[300];
	struct dirent *de;
	DIR *d;
	int r = 0;

	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]) && r == 0; i++)
		r = xmove_file_out(s, top[i]);
	snprintf(dir, sizeof(dir), "%s/sieve", s->root);
	if (r == 0 && (d = opendir(dir)) != NULL) {
		while (r == 0 && (de = readdir(d)) != NULL) {
			if (snprintf(rel, sizeof(rel), "sieve/%s", de->d_name) < (int)sizeof(rel) &&
			    mail_move_file_is_moved(rel))
				r = xmove_file_out(s, rel);
		}
		closedir(d);
	}
	if (r < 0)
		imap_tagged(s, cmd, "NO", "[SERVERBUG] A file of the account cannot be read");
	else
		imap_tagged(s, cmd, "OK", "XMOVE FILES completed");
}

/* PUT rel offset last base64 (target): written to rel.part, renamed into
 * place with the last piece. */
static void xmove_put(struct imap_session *s, const struct imap_command *cmd)
{
	const char *rel = cmd->count == 5 ? imap_arg_astring(&cmd->args[1]) : NULL;
	const char *data = cmd->count == 5 ? imap_arg_astring(&cmd->args[4]) : NULL;
	char path[PATH_MAX], part[PATH_MAX + 8];
	unsigned char *buf;
	uint32_t off, last;
	long n;
	int fd, r;

	if (rel == NULL || data == NULL || !mail_move_file_is_moved(rel) ||
	    imap_arg_number(&cmd->args[2], &off) < 0 || imap_arg_number(&cmd->args[3], &last) < 0 ||
	    last > 1 || (uint64_t)off + strlen(data) > XMOVE_FILE_MAX) {
		imap_tagged(s, cmd, "BAD", "XMOVE PUT file offset last base64");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", s->root, rel);
	snprintf(part, sizeof(part), "%s.part", path);
	if ((buf = malloc(strlen(data) * 3 / 4 + 3)) == NULL) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		return;
	}
	n = strcmp(data, "=") == 0 ? 0 : base64_decode(data, strlen(data), buf);
	if (n < 0) {
		free(buf);
		imap_tagged(s, cmd, "BAD", "XMOVE PUT: bad base64");
		return;
	}
	if (strncmp(rel, "sieve/", 6) == 0) {
		char sdir[PATH_MAX];
		snprintf(sdir, sizeof(sdir), "%s/sieve", s->root);
		fs_mkdir_p(sdir, 0700);
	}
	fd = open(part, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (off == 0 ? O_TRUNC : 0), 0600);
	r = fd < 0 ? -1 : 0;
	if (r == 0 && (lseek(fd, (off_t)off, SEEK_SET) < 0 || fs_write_all(fd, buf, (size_t)n) < 0))
		r = -1;
	if (r == 0 && last && (fsync(fd) < 0 || rename(part, path) < 0))
		r = -1;
	if (fd >= 0)
		close(fd);
	free(buf);
	if (r < 0) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot write %s", rel);
		return;
	}
	imap_tagged(s, cmd, "OK", "XMOVE PUT completed");
}

void imap_cmd_xmove(struct imap_session *s, const struct imap_command *cmd)
{
	const char *sub = cmd->count >= 1 ? imap_arg_atom(&cmd->args[0]) : NULL;
	int here;

	if (!s->mover || !s->conn->proxy_peer) {
		imap_tagged(s, cmd, "BAD", "Unknown command");
		return;
	}
	if (sub == NULL) {
		imap_tagged(s, cmd, "BAD", "XMOVE what?");
		return;
	}
	if (s->state != IMAP_S_AUTH) {
		imap_tagged(s, cmd, "BAD", "XMOVE runs with no mailbox selected");
		return;
	}
	here = xmove_home_is_here(s);
	if (here < 0) {
		imap_tagged(s, cmd, "NO", "[UNAVAILABLE] Directory error, try again later");
	} else if (strcasecmp(sub, "PURGE") == 0) {
		xmove_purge(s, cmd);
	} else if (strcasecmp(sub, "FOLDER") == 0 || strcasecmp(sub, "PUT") == 0) {
		if (here)
			imap_tagged(s, cmd, "NO", "[CANNOT] This node is the account's home: not a move's target");
		else if (strcasecmp(sub, "FOLDER") == 0)
			xmove_folder(s, cmd);
		else
			xmove_put(s, cmd);
	} else if (strcasecmp(sub, "FREEZE") == 0 || strcasecmp(sub, "THAW") == 0 ||
		   strcasecmp(sub, "FILES") == 0) {
		if (!here)
			imap_tagged(s, cmd, "NO", "[CANNOT] The account's home is another node");
		else if (strcasecmp(sub, "FREEZE") == 0)
			xmove_freeze(s, cmd);
		else if (strcasecmp(sub, "THAW") == 0)
			xmove_thaw(s, cmd);
		else
			xmove_files(s, cmd);
	} else {
		imap_tagged(s, cmd, "BAD", "Unknown XMOVE command");
	}
}
