// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "lib/log.h"
#include "events/registry.h"
#include "events/runtime.h"

#define POLL_INTERVAL_MS      100	      /* ring buffer drained at least this often */
#define NO_TIMEOUT	      (-1)	      /* epoll_wait: until something wakes the loop */
#define RECONCILE_INTERVAL_NS (10 * NS_PER_S) /* drop executions whose exit was lost */
#define REAP_INTERVAL_NS      NS_PER_S	      /* exits of zombies nobody reaps */
#define RUNTIME_MAX_WATCHES   8

struct watch {
	int fd;
	bool owned; /* a timerfd of ours: closed and read by the loop */
	runtime_fn fn;
};

struct runtime {
	struct runtime_config cfg;
	struct registry *registry;
	struct consumer *consumer;
	struct loader *loader;
	struct ring_buffer *rb;
	int sig_fd;
	int epfd;
	struct watch watches[RUNTIME_MAX_WATCHES];
	unsigned int nr_watches;
	uint64_t next_reconcile_ns;
	uint64_t next_reap_ns;
	bool running;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct runtime *rt = ctx;

	return consumer__handle(rt->consumer, data, size);
}

void runtime__feed(const void *rec, size_t size, void *ctx)
{
	struct runtime *rt = ctx;

	consumer__handle(rt->consumer, rec, size);
}

void runtime__drain(struct runtime *rt)
{
	int err = ring_buffer__consume(rt->rb);

	if (err < 0 && err != -EINTR)
		pr_debug("cannot consume ring buffer: %s", strerror(-err));
}

static bool exec_alive(uint32_t tgid, uint64_t start_ns, void *ctx)
{
	return loader__exec_alive(ctx, tgid, start_ns);
}

static int epoll_add(int epfd, int fd, unsigned int index)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = index};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* Registers fd as watch number nr_watches (epoll data: its index). */
static int add_watch(struct runtime *rt, int fd, bool owned, runtime_fn fn)
{
	int err;

	if (rt->nr_watches == RUNTIME_MAX_WATCHES)
		return -ENOSPC;
	err = epoll_add(rt->epfd, fd, rt->nr_watches);
	if (err)
		return err;
	rt->watches[rt->nr_watches++] = (struct watch){.fd = fd, .owned = owned, .fn = fn};
	return 0;
}

/* Signals that would otherwise end the process without the caller's clean-up. */
static const int handled[] = {SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGHUP};

static void handled_set(sigset_t *mask)
{
	sigemptyset(mask);
	for (unsigned int i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaddset(mask, handled[i]);
}

void runtime__block_signals(void)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	handled_set(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

static int setup_signals(struct runtime *rt)
{
	sigset_t mask;

	runtime__block_signals();
	handled_set(&mask);
	rt->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return rt->sig_fd < 0 ? -errno : 0;
}

struct runtime *runtime__new(const struct runtime_config *cfg)
{
	struct consumer_config ccfg = {
	    .keep_args = cfg->keep_args,
	    .sink = cfg->sink,
	    .sink_ctx = cfg->ctx,
	};
	struct runtime *rt = calloc(1, sizeof(*rt));
	int err;

	if (!rt)
		return NULL;
	rt->cfg = *cfg;
	rt->sig_fd = rt->epfd = -1;
	err = setup_signals(rt);
	if (err) {
		pr_err("cannot create signalfd: %s", strerror(-err));
		goto fail;
	}
	rt->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rt->epfd < 0) {
		err = -errno;
		pr_err("cannot create epoll instance: %s", strerror(-err));
		goto fail;
	}
	rt->registry = registry__new(cfg->tools_max);
	ccfg.registry = rt->registry;
	rt->consumer = rt->registry ? consumer__new(&ccfg) : NULL;
	if (!rt->consumer) {
		err = -errno;
		pr_err("cannot allocate the registry: %s", strerror(-err));
		goto fail;
	}
	rt->loader = loader__open(&cfg->loader);
	if (!rt->loader) {
		err = -errno; /* the loader said why */
		goto fail;
	}
	/* block I/O wait is reported only while delay accounting measures it */
	registry__host(rt->registry)->delayacct = loader__delayacct(rt->loader);
	rt->rb = ring_buffer__new(loader__events_fd(rt->loader), on_record, rt, NULL);
	if (!rt->rb) {
		err = -errno;
		pr_err("cannot create ring buffer: %s", strerror(-err));
		goto fail;
	}
	/* watch 0 is the ring buffer (drained every turn), watch 1 the signals */
	if ((err = add_watch(rt, ring_buffer__epoll_fd(rt->rb), false, NULL)) ||
	    (err = add_watch(rt, rt->sig_fd, false, NULL))) {
		pr_err("cannot watch the ring buffer: %s", strerror(-err));
		goto fail;
	}
	return rt;
fail:
	runtime__free(rt);
	errno = err ? -err : EIO;
	return NULL;
}

void runtime__free(struct runtime *rt)
{
	if (!rt)
		return;
	for (unsigned int i = 0; i < rt->nr_watches; i++)
		if (rt->watches[i].owned)
			close(rt->watches[i].fd);
	ring_buffer__free(rt->rb);
	loader__close(rt->loader);
	consumer__free(rt->consumer);
	registry__free(rt->registry);
	if (rt->epfd >= 0)
		close(rt->epfd);
	if (rt->sig_fd >= 0)
		close(rt->sig_fd);
	free(rt);
}

int runtime__every(struct runtime *rt, uint64_t first_ns, uint64_t interval_ns, runtime_fn fn)
{
	struct itimerspec its = {
	    .it_value = {.tv_sec = (time_t)(first_ns / NS_PER_S),
			 .tv_nsec = (long)(first_ns % NS_PER_S)},
	    .it_interval = {.tv_sec = (time_t)(interval_ns / NS_PER_S),
			    .tv_nsec = (long)(interval_ns % NS_PER_S)},
	};
	int fd, err;

	if (!first_ns) /* a zero it_value disarms the timer */
		its.it_value.tv_nsec = 1;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL))
		err = -errno;
	else
		err = add_watch(rt, fd, true, fn);
	if (err)
		close(fd);
	return err;
}

int runtime__timer(struct runtime *rt, runtime_fn fn)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = add_watch(rt, fd, true, fn);
	if (err) {
		close(fd);
		return err;
	}
	return (int)rt->nr_watches - 1;
}

int runtime__arm(struct runtime *rt, int id, uint64_t delay_ns)
{
	struct itimerspec its = {
	    .it_value = {.tv_sec = (time_t)(delay_ns / NS_PER_S),
			 .tv_nsec = (long)(delay_ns % NS_PER_S)},
	};

	if (id < 0 || (unsigned int)id >= rt->nr_watches || !rt->watches[id].owned)
		return -EINVAL;
	if (!delay_ns) /* a zero it_value disarms the timer */
		its.it_value.tv_nsec = 1;
	return timerfd_settime(rt->watches[id].fd, 0, &its, NULL) ? -errno : 0;
}

int runtime__watch(struct runtime *rt, int fd, runtime_fn fn)
{
	return add_watch(rt, fd, false, fn);
}

void runtime__stop(struct runtime *rt)
{
	rt->running = false;
}

static void on_signal(struct runtime *rt)
{
	struct signalfd_siginfo si;

	if (read(rt->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP && rt->cfg.on_hangup) {
		pr_info("received %s, reloading", strsignal((int)si.ssi_signo));
		rt->cfg.on_hangup(rt->cfg.ctx);
		return;
	}
	pr_info("received %s, shutting down", strsignal((int)si.ssi_signo));
	rt->running = false;
}

static void dispatch(struct runtime *rt, unsigned int index)
{
	struct watch *w = &rt->watches[index];
	uint64_t expirations;

	if (w->fd == rt->sig_fd) {
		on_signal(rt);
		return;
	}
	/* a timer that has not expired (read fails with EAGAIN) calls nobody */
	if (w->owned && read(w->fd, &expirations, sizeof(expirations)) <= 0)
		return;
	if (w->fn)
		w->fn(rt->cfg.ctx);
}

static void reconcile(struct runtime *rt, uint64_t now)
{
	size_t dropped;

	if (now < rt->next_reconcile_ns)
		return;
	rt->next_reconcile_ns = now + RECONCILE_INTERVAL_NS;
	dropped = consumer__reconcile(rt->consumer, exec_alive, rt->loader);
	if (dropped)
		pr_debug("dropped %zu executions whose exit record was lost", dropped);
}

int runtime__run(struct runtime *rt)
{
	int err = 0;

	rt->running = true;
	rt->next_reconcile_ns = clock_ns(CLOCK_MONOTONIC) + RECONCILE_INTERVAL_NS;
	while (rt->running) {
		struct epoll_event evs[RUNTIME_MAX_WATCHES];
		int n = epoll_wait(rt->epfd, evs, RUNTIME_MAX_WATCHES,
				   rt->cfg.wake_only ? NO_TIMEOUT : POLL_INTERVAL_MS);

		if (n < 0 && errno != EINTR) {
			err = -errno;
			pr_err("epoll_wait: %s", strerror(-err));
			return err;
		}
		err = ring_buffer__consume(rt->rb);
		if (err < 0 && err != -EINTR) {
			pr_err("cannot consume ring buffer: %s", strerror(-err));
			return err;
		}
		for (int i = 0; i < n; i++)
			dispatch(rt, evs[i].data.u32);
		reconcile(rt, clock_ns(CLOCK_MONOTONIC));
		if (clock_ns(CLOCK_MONOTONIC) >= rt->next_reap_ns) {
			rt->next_reap_ns = clock_ns(CLOCK_MONOTONIC) + REAP_INTERVAL_NS;
			loader__reap(rt->loader);
		}
		if (rt->cfg.after_turn && !rt->cfg.after_turn(rt->cfg.ctx))
			rt->running = false;
	}
	/* what happened before the end is in the ring buffer already: count it */
	loader__reap(rt->loader);
	err = ring_buffer__consume(rt->rb);
	if (err < 0 && err != -EINTR) {
		pr_err("cannot consume ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

struct registry *runtime__registry(const struct runtime *rt)
{
	return rt->registry;
}

struct consumer *runtime__consumer(const struct runtime *rt)
{
	return rt->consumer;
}

struct loader *runtime__loader(const struct runtime *rt)
{
	return rt->loader;
}
