/* \Recent (RFC 3501 2.3.2): a message is recent in the first session that
 * sees it with the mailbox selected read-write. The store keeps, per
 * mailbox, the lowest UID no such session has claimed yet (the "floor"):
 * every message at or above it is still unclaimed, whether it came by
 * delivery, APPEND or COPY. SELECT claims up to UIDNEXT; EXAMINE and
 * STATUS only look. The floors live in memory: after a restart the first
 * sync starts a mailbox's floor at the messages it finds in new/. */
#include "store/index_private.h"

#include <pthread.h>
#include <string.h>

/* A fixed table keyed by a hash of the mailbox path and its UIDVALIDITY;
 * a collision only costs the evicted mailbox its \Recent marks. */
#define RECENT_SLOTS 4096

struct recent_slot {
	uint64_t key;		/* 0: empty */
	uint32_t floor;
};

static struct recent_slot recent_table[RECENT_SLOTS];
static pthread_mutex_t recent_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t recent_key(const struct index_mailbox *mbox)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)mbox->path; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ mbox->uidvalidity) * 1099511628211ULL;
	return h != 0 ? h : 1;
}

/* The slot of mbox, made with floor init when missing. Locked. */
static struct recent_slot *recent_slot_get(const struct index_mailbox *mbox, uint32_t init)
{
	uint64_t key = recent_key(mbox);
	struct recent_slot *slot = &recent_table[key % RECENT_SLOTS];

	if (slot->key != key) {
		slot->key = key;
		slot->floor = init;
	}
	return slot;
}

void index_recent_mark(const struct index_mailbox *mbox, struct index_view *view)
{
	uint32_t init = view->uidnext, floor;

	/* Before the floor is known, the messages this sync moved out of
	 * new/ are the unclaimed ones. */
	for (size_t i = 0; i < view->count; i++) {
		if (view->msgs[i].recent && view->msgs[i].uid < init)
			init = view->msgs[i].uid;
	}
	pthread_mutex_lock(&recent_lock);
	floor = recent_slot_get(mbox, init)->floor;
	pthread_mutex_unlock(&recent_lock);
	for (size_t i = 0; i < view->count; i++)
		view->msgs[i].recent = view->msgs[i].uid >= floor;
}

uint32_t mail_index_recent_claim(const struct index_mailbox *mbox, uint32_t uidnext)
{
	struct recent_slot *slot;
	uint32_t floor;

	pthread_mutex_lock(&recent_lock);
	slot = recent_slot_get(mbox, uidnext);
	floor = slot->floor;
	if (uidnext > slot->floor)
		slot->floor = uidnext;
	pthread_mutex_unlock(&recent_lock);
	return floor;
}

void index_recent_note(const struct index_mailbox *mbox, uint32_t uid)
{
	pthread_mutex_lock(&recent_lock);
	recent_slot_get(mbox, uid);
	pthread_mutex_unlock(&recent_lock);
}
