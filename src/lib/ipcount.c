#include "lib/ipcount.h"
#include "lib/str.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IPCOUNT_BUCKETS 4096

struct ip_slot {
	struct ip_slot *next;
	char ip[64];
	int group;
	unsigned count;
};

static pthread_mutex_t ip_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ip_slot *ip_table[IPCOUNT_BUCKETS];

static unsigned ip_hash(const char *ip, int group)
{
	unsigned h = 2166136261u ^ (unsigned)group;

	for (; *ip != '\0'; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % IPCOUNT_BUCKETS;
}

/* The slot's link for (group, ip); the caller holds ip_lock. */
static struct ip_slot **ip_find(int group, const char *ip)
{
	struct ip_slot **pp = &ip_table[ip_hash(ip, group)];

	while (*pp != NULL && ((*pp)->group != group || strcmp((*pp)->ip, ip) != 0))
		pp = &(*pp)->next;
	return pp;
}

bool ipcount_acquire(int group, const char *ip, unsigned max)
{
	struct ip_slot **pp, *s;
	bool ok = false;

	if (strlen(ip) >= sizeof(s->ip))
		return false;
	pthread_mutex_lock(&ip_lock);
	pp = ip_find(group, ip);
	if (*pp == NULL && (s = calloc(1, sizeof(*s))) != NULL) {
		str_copy(s->ip, sizeof(s->ip), ip);
		s->group = group;
		*pp = s;
	}
	s = *pp;
	if (s != NULL && s->count < max) {
		s->count++;
		ok = true;
	} else if (s != NULL && s->count == 0) {
		*pp = s->next;	/* refused at once (max 0): keep no empty slot */
		free(s);
	}
	pthread_mutex_unlock(&ip_lock);
	return ok;
}

void ipcount_release(int group, const char *ip)
{
	struct ip_slot **pp, *s;

	pthread_mutex_lock(&ip_lock);
	pp = ip_find(group, ip);
	s = *pp;
	if (s != NULL && --s->count == 0) {
		*pp = s->next;
		free(s);
	}
	pthread_mutex_unlock(&ip_lock);
}

void ipcount_clear(void)
{
	pthread_mutex_lock(&ip_lock);
	for (unsigned h = 0; h < IPCOUNT_BUCKETS; h++) {
		while (ip_table[h] != NULL) {
			struct ip_slot *s = ip_table[h];
			ip_table[h] = s->next;
			free(s);
		}
	}
	pthread_mutex_unlock(&ip_lock);
}
