/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one event loop of both commands: blocked signals read from a signalfd, the ring
 * buffer drained into the consumer, timers, extra fds, and the periodic reconciliation of
 * executions whose exit record was lost. The agent and `trace` differ only in the
 * callbacks they register. Owns the registry, the consumer, the loader and the ring buffer.
 */
#ifndef TOOLWATCH_RUNTIME_H
#define TOOLWATCH_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "events/consumer.h"
#include "kernel/loader.h"

#define NS_PER_S 1000000000ULL

/* Now on clock id (CLOCK_MONOTONIC, CLOCK_REALTIME), in ns. */
static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* A callback of the loop; ctx is runtime_config.ctx. */
typedef void (*runtime_fn)(void *ctx);

struct runtime_config {
	struct loader_config loader;
	unsigned int tools_max; /* tool names tracked by the registry */
	bool keep_args;		/* the consumer keeps argv and path until the end */
	consumer_sink_fn sink;	/* optional: every start, end and failed exec */
	/* SIGHUP: calls this (reload what is reloadable) when set, else ends the loop */
	runtime_fn on_hangup;
	/*
	 * Drain the ring buffer only when something wakes the loop (its wakeup threshold, a
	 * timer, a watched fd) instead of every POLL_INTERVAL_MS too: for a caller that reads
	 * what it counted only when asked (the agent, at a scrape or on its timer).
	 */
	bool wake_only;
	/* optional: after every turn of the loop; false ends it (e.g. stdout is gone) */
	bool (*after_turn)(void *ctx);
	void *ctx; /* passed to every callback */
};

struct runtime;

/*
 * Blocks the signals the runtime handles, so that one arriving before the loop runs is
 * not the default death. runtime__new() does it too; a caller with slow start-up work
 * before it calls this first.
 */
void runtime__block_signals(void);

/*
 * Blocks the signals (SIGINT, SIGTERM, SIGQUIT, SIGUSR1 and SIGUSR2 end the loop, SIGHUP
 * too unless on_hangup is set; SIGPIPE is ignored), creates the registry and consumer, loads and
 * attaches the programs and opens the ring buffer. NULL + errno on failure, the reason logged.
 */
struct runtime *runtime__new(const struct runtime_config *cfg);
/* Detaches and frees everything; NULL-safe. */
void runtime__free(struct runtime *rt);

/* Calls fn after first_ns, then every interval_ns (0: once). 0 or -errno. */
int runtime__every(struct runtime *rt, uint64_t first_ns, uint64_t interval_ns, runtime_fn fn);
/*
 * A one-shot timer calling fn, disarmed until runtime__arm(): its id (>= 0) or -errno.
 * fn may arm it again.
 */
int runtime__timer(struct runtime *rt, runtime_fn fn);
/* Arms timer id (from runtime__timer) to fire once, delay_ns from now. 0 or -errno. */
int runtime__arm(struct runtime *rt, int id, uint64_t delay_ns);
/* Calls fn (when not NULL) whenever fd is readable; fn reads it. 0 or -errno. */
int runtime__watch(struct runtime *rt, int fd, runtime_fn fn);

/*
 * Runs the loop until a signal, runtime__stop() or after_turn() says so, then drains what
 * the ring buffer still holds. 0, or -errno when the loop failed (logged).
 */
int runtime__run(struct runtime *rt);
/* Ends the loop after the current turn. */
void runtime__stop(struct runtime *rt);

/* Consumes what the ring buffer holds now (e.g. exits a sampling pass emitted). */
void runtime__drain(struct runtime *rt);

/* Feeds one record (ring-buffer layout) to the consumer: a loader__dump_tasks callback. */
void runtime__feed(const void *rec, size_t size, void *rt);

struct registry *runtime__registry(const struct runtime *rt);
struct consumer *runtime__consumer(const struct runtime *rt);
struct loader *runtime__loader(const struct runtime *rt);

#endif /* TOOLWATCH_RUNTIME_H */
