/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hand-over of snapshots from the event loop (the only writer of agent state) to readers
 * on other threads. A reader asks for a fresh snapshot and waits a bounded time; the
 * loop is woken through an eventfd, builds one and publishes it.
 */
#ifndef TOOLWATCH_HUB_H
#define TOOLWATCH_HUB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "events/snapshot.h"

struct hub {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct snapshot *latest; /* one reference held by the hub */
	uint64_t requested;	 /* generation asked for by readers */
	uint64_t published;	 /* generation of latest */
	int wake_fd;		 /* eventfd the loop polls; -1 when none */
};

/* 0 or -errno. */
int hub__init(struct hub *h);
/* Drops the latest snapshot and closes the eventfd. */
void hub__destroy(struct hub *h);

/*
 * Asks the loop for a snapshot newer than this call and waits up to timeout_ms for it.
 * Returns a reference to the newest snapshot available (possibly older, if the loop did
 * not answer in time; NULL if none was ever published). Release with snapshot__put().
 */
struct snapshot *hub__acquire(struct hub *h, unsigned int timeout_ms);

/*
 * For the loop: the generation readers wait for, or 0 when none waits; clears the eventfd.
 * A snapshot built after this call satisfies that generation.
 */
uint64_t hub__wanted(struct hub *h);

/* For the loop: publishes s as generation gen (takes over the caller's reference). */
void hub__publish(struct hub *h, struct snapshot *s, uint64_t gen);

#endif /* TOOLWATCH_HUB_H */
