#include "server/auth.h"
#include "directory/directory.h"
#include "directory/password.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A verified-login cache: argon2id costs ~50 ms and 64 MB by design, so a
 * client that logs in every minute must not pay it every time. An entry
 * binds (address, stored hash, password) through a keyed BLAKE2b digest; a
 * password change alters the stored hash and so invalidates it at once. */
#define AUTH_CACHE_SLOTS 4096
#define AUTH_CACHE_TTL 3600

struct auth_cache_slot {
	unsigned char digest[32];
	time_t expires;
};

static pthread_mutex_t auth_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct auth_cache_slot auth_cache[AUTH_CACHE_SLOTS];
static unsigned char auth_cache_key[32];
static pthread_once_t auth_cache_once = PTHREAD_ONCE_INIT;

static char auth_dummy_hash[128];
/* argon2id wants 64 MB and a core per check: no more checks at once than
 * cores, so a burst of logins cannot starve fsync work or memory. */
static sem_t auth_hash_slots;

static void auth_cache_init(void)
{
	char pw[17];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	sem_init(&auth_hash_slots, 0, cores > 0 ? (unsigned)cores : 1);
	randombytes_buf(auth_cache_key, sizeof(auth_cache_key));
	str_random_id(pw, sizeof(pw));
	if (password_hash(pw, auth_dummy_hash, sizeof(auth_dummy_hash)) < 0)
		auth_dummy_hash[0] = '\0';
}

static void auth_cache_digest(const char *address, const char *hash, const char *password,
			      unsigned char out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, auth_cache_key, sizeof(auth_cache_key), 32);
	crypto_generichash_update(&st, (const unsigned char *)address, strlen(address) + 1);
	crypto_generichash_update(&st, (const unsigned char *)hash, strlen(hash) + 1);
	crypto_generichash_update(&st, (const unsigned char *)password, strlen(password));
	crypto_generichash_final(&st, out, 32);
}

static bool auth_cache_check(const unsigned char digest[32])
{
	struct auth_cache_slot *slot = &auth_cache[(digest[0] | (digest[1] << 8)) % AUTH_CACHE_SLOTS];
	bool hit;

	pthread_mutex_lock(&auth_cache_lock);
	hit = slot->expires > time(NULL) && sodium_memcmp(slot->digest, digest, 32) == 0;
	pthread_mutex_unlock(&auth_cache_lock);
	return hit;
}

static void auth_cache_store(const unsigned char digest[32])
{
	struct auth_cache_slot *slot = &auth_cache[(digest[0] | (digest[1] << 8)) % AUTH_CACHE_SLOTS];

	pthread_mutex_lock(&auth_cache_lock);
	memcpy(slot->digest, digest, 32);
	slot->expires = time(NULL) + AUTH_CACHE_TTL;
	pthread_mutex_unlock(&auth_cache_lock);
}

struct auth_work {
	const struct auth_request *req;
	struct auth_result *res;
	void (*done)(void *ctx);
	void *ctx;
};

static void auth_fail(struct auth_work *w, const char *reason, const char *address)
{
	char detail[160];

	w->res->ok = false;
	str_copy(w->res->reason, sizeof(w->res->reason), reason);
	snprintf(detail, sizeof(detail), "%s login refused: %s", w->req->service, reason);
	if (server_directory() != NULL)
		directory_event_add(server_directory(), "auth-failed", address, w->req->ip, detail);
}

static void auth_work_run(void *ctx)
{
	struct auth_work *w = ctx;
	struct directory *dir = server_directory();
	struct dir_account acct;
	unsigned char digest[32];
	int r;

	pthread_once(&auth_cache_once, auth_cache_init);
	if (dir == NULL) {
		auth_fail(w, "directory unavailable", w->req->user);
		return;
	}
	r = strchr(w->req->user, '@') != NULL ? directory_account_get(dir, w->req->user, &acct) : 0;
	if (r <= 0) {
		/* Spend the same time as a real check, so timing tells nothing. */
		sem_wait(&auth_hash_slots);
		password_verify(auth_dummy_hash, w->req->password);
		sem_post(&auth_hash_slots);
		auth_fail(w, r < 0 ? "directory error" : "unknown user", w->req->user);
		return;
	}
	auth_cache_digest(acct.address, acct.password_hash, w->req->password, digest);
	if (!auth_cache_check(digest)) {
		bool ok;

		sem_wait(&auth_hash_slots);
		ok = password_verify(acct.password_hash, w->req->password);
		sem_post(&auth_hash_slots);
		if (!ok) {
			auth_fail(w, "wrong password", acct.address);
			explicit_bzero(&acct, sizeof(acct));
			return;
		}
		auth_cache_store(digest);
	}
	if (!acct.enabled) {
		auth_fail(w, "account disabled", acct.address);
		return;
	}
	w->res->ok = true;
	str_copy(w->res->address, sizeof(w->res->address), acct.address);
	explicit_bzero(&acct, sizeof(acct));
}

static void auth_work_done(void *ctx)
{
	struct auth_work *w = ctx;

	w->done(w->ctx);
	free(w);
}

void auth_submit(struct loop *loop, const struct auth_request *req, struct auth_result *res,
		 void (*done)(void *ctx), void *ctx)
{
	struct auth_work *w = calloc(1, sizeof(*w));

	if (w == NULL)
		log_fatal("auth: out of memory");
	w->req = req;
	w->res = res;
	w->done = done;
	w->ctx = ctx;
	worker_pool_submit(server->workers, loop->base, auth_work_run, auth_work_done, w);
}

void auth_request_wipe(struct auth_request *req)
{
	explicit_bzero(req->password, sizeof(req->password));
}
