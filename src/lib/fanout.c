#include "lib/fanout.h"
#include "lib/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct fanout {
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	fanout_fn *fn;
	void **items;
	size_t n, next, running;	/* next item to take; calls under way */
	bool stopping;
	unsigned nthreads;
	pthread_t threads[];
};

/* Takes and runs items until none is left (lock held on entry and exit). */
static void fanout_drain(struct fanout *f)
{
	while (f->next < f->n) {
		void *item = f->items[f->next++];

		f->running++;
		pthread_mutex_unlock(&f->lock);
		f->fn(item);
		pthread_mutex_lock(&f->lock);
		f->running--;
	}
	if (f->running == 0)
		pthread_cond_broadcast(&f->idle);
}

static void *fanout_main(void *arg)
{
	struct fanout *f = arg;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (f->next >= f->n && !f->stopping)
			pthread_cond_wait(&f->work, &f->lock);
		if (f->stopping)
			break;
		fanout_drain(f);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

struct fanout *fanout_new(unsigned threads)
{
	struct fanout *f = calloc(1, sizeof(*f) + threads * sizeof(pthread_t));

	if (f == NULL)
		log_fatal("fanout: out of memory");
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->work, NULL);
	pthread_cond_init(&f->idle, NULL);
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&f->threads[i], NULL, fanout_main, f) != 0)
			log_fatal("fanout: cannot start a thread");
		f->nthreads++;
	}
	return f;
}

void fanout_run(struct fanout *f, fanout_fn *fn, void **items, size_t n)
{
	if (f == NULL || n <= 1) {
		for (size_t i = 0; i < n; i++)
			fn(items[i]);
		return;
	}
	pthread_mutex_lock(&f->lock);
	f->fn = fn;
	f->items = items;
	f->n = n;
	f->next = 0;
	/* as many helpers as there are items beyond the caller's own, not
	 * every thread: a small batch wakes few */
	for (size_t i = 1; i < n && i <= f->nthreads; i++)
		pthread_cond_signal(&f->work);
	fanout_drain(f);
	while (f->running > 0)
		pthread_cond_wait(&f->idle, &f->lock);
	f->items = NULL;
	f->n = f->next = 0;
	pthread_mutex_unlock(&f->lock);
}

void fanout_free(struct fanout *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_cond_broadcast(&f->work);
	pthread_mutex_unlock(&f->lock);
	for (unsigned i = 0; i < f->nthreads; i++)
		pthread_join(f->threads[i], NULL);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->work);
	pthread_cond_destroy(&f->idle);
	free(f);
}
