// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "events/hub.h"

int hub__init(struct hub *h)
{
	pthread_condattr_t attr;

	h->latest = NULL;
	h->requested = h->published = 0;
	h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->wake_fd < 0)
		return -errno;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &attr);
	pthread_condattr_destroy(&attr);
	return 0;
}

void hub__destroy(struct hub *h)
{
	snapshot__put(h->latest);
	h->latest = NULL;
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	h->wake_fd = -1;
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
}

struct snapshot *hub__acquire(struct hub *h, unsigned int timeout_ms)
{
	struct snapshot *s = NULL;
	struct timespec deadline;
	uint64_t gen, one = 1;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&h->lock);
	gen = ++h->requested;
	if (write(h->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the loop is already being woken */
	}
	while (h->published < gen) {
		if (pthread_cond_timedwait(&h->cond, &h->lock, &deadline) == ETIMEDOUT)
			break;
	}
	if (h->latest)
		s = snapshot__get(h->latest);
	pthread_mutex_unlock(&h->lock);
	return s;
}

uint64_t hub__wanted(struct hub *h)
{
	uint64_t buf, wanted;

	if (read(h->wake_fd, &buf, sizeof(buf)) < 0) {
		/* EAGAIN: nothing pending */
	}
	pthread_mutex_lock(&h->lock);
	wanted = h->requested > h->published ? h->requested : 0;
	pthread_mutex_unlock(&h->lock);
	return wanted;
}

void hub__publish(struct hub *h, struct snapshot *s, uint64_t gen)
{
	struct snapshot *old;

	pthread_mutex_lock(&h->lock);
	old = h->latest;
	h->latest = s;
	if (gen > h->published)
		h->published = gen;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	snapshot__put(old);
}
