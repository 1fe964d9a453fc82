/* The per-command arena of the IMAP parser: a list of blocks, bump
 * allocation, reset frees all but the first block. */
#include "proto/imap_parser.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

struct imap_arena {
	struct arena_block *first;	/* kept across resets */
	struct arena_block *cur;
	size_t total;
};

static struct arena_block *arena_block_new(size_t size)
{
	struct arena_block *b = malloc(sizeof(*b) + size);

	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct imap_arena *imap_arena_new(void)
{
	struct imap_arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->first = arena_block_new(ARENA_BLOCK);
	if (a->first == NULL) {
		free(a);
		return NULL;
	}
	a->cur = a->first;
	return a;
}

static void arena_free_after(struct arena_block *b)
{
	struct arena_block *next;

	for (b = b->next; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
}

void imap_arena_free(struct imap_arena *a)
{
	if (a == NULL)
		return;
	arena_free_after(a->first);
	free(a->first);
	free(a);
}

void imap_arena_reset(struct imap_arena *a)
{
	arena_free_after(a->first);
	a->first->next = NULL;
	a->first->used = 0;
	a->cur = a->first;
	a->total = 0;
}

void *imap_arena_alloc(struct imap_arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct arena_block *b = a->cur;
	size_t need, start;
	void *mem;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX / 2)
		return NULL;
	need = (size + align - 1) & ~(align - 1);
	start = b->used;
	if (b->size - start < need) {
		struct arena_block *nb = arena_block_new(need > ARENA_BLOCK ? need : ARENA_BLOCK);

		if (nb == NULL)
			return NULL;
		/* Keep the current block current when a big allocation gets a
		 * block of its own, so its free space is not wasted. */
		if (need > ARENA_BLOCK) {
			nb->next = b->next;
			b->next = nb;
			nb->used = need;
			a->total += size;
			memset(nb->data, 0, size);
			return nb->data;
		}
		nb->next = b->next;	/* keep big blocks already linked after b */
		b->next = nb;
		a->cur = b = nb;
		start = 0;
	}
	b->used = start + need;
	a->total += size;
	mem = b->data + start;
	memset(mem, 0, size);
	return mem;
}

char *imap_arena_strndup(struct imap_arena *a, const char *s, size_t len)
{
	char *d = imap_arena_alloc(a, len + 1);

	if (d == NULL)
		return NULL;
	if (len > 0)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

size_t imap_arena_used(const struct imap_arena *a)
{
	return a->total;
}
