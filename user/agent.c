// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "consumer.h"
#include "http.h"
#include "hub.h"
#include "loader.h"
#include "log.h"
#include "registry.h"
#include "snapshot.h"
#include "state.h"
#include "windows.h"

#define POLL_INTERVAL_MS 100	     /* ring buffer drained at least this often */
#define TICK_INTERVAL_MS 1000	     /* periodic work */
#define RECONCILE_EVERY_TICKS 10     /* drop executions whose exit was lost */
#define SNAPSHOT_WAIT_MS 250	     /* a scrape waits this long for a fresh snapshot */
#define STALL_NS (5ULL * 1000000000) /* /healthz fails past this without a loop turn */
#define SAMPLE_MIN_GAP_NS 200000000ULL /* live usage read at most this often */

struct agent {
	const struct agent_options *opts;
	struct registry *registry;
	struct consumer *consumer;
	struct loader *loader;
	struct ring_buffer *rb;
	struct http_server *http;
	struct hub hub;
	bool hub_ready;
	uint64_t heartbeat_ns; /* written by the loop, read by the HTTP thread */
	uint64_t sampled_ns;
	unsigned long ticks;
	struct anomaly_detector *detector;
	struct windows *windows;
	uint64_t next_window_ns;
	uint64_t next_save_ns;
	uint64_t cpu_busy, cpu_total; /* /proc/stat at the last window close */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;

	return consumer__handle(a->consumer, data, size);
}

static void on_task(const void *rec, size_t size, void *ctx)
{
	struct agent *a = ctx;

	consumer__handle(a->consumer, rec, size);
}

/* Reads the host histograms and (rate limited) live usage of running executions. */
static void sample_live(struct agent *a)
{
	uint64_t now = now_ns();
	int err;

	loader__host(a->loader, registry__host(a->registry));
	if (now - a->sampled_ns < SAMPLE_MIN_GAP_NS)
		return;
	a->sampled_ns = now;
	consumer__begin_samples(a->consumer);
	err = loader__sample(a->loader, on_task, a);
	if (err && err != -EOPNOTSUPP)
		pr_debug("cannot sample running executions: %s", strerror(-err));
	consumer__end_samples(a->consumer);
}

static bool loop_healthy(void *ctx)
{
	struct agent *a = ctx;

	return now_ns() - __atomic_load_n(&a->heartbeat_ns, __ATOMIC_RELAXED) < STALL_NS;
}

static bool exec_alive(uint32_t tgid, uint64_t start_ns, void *ctx)
{
	return loader__exec_alive(ctx, tgid, start_ns);
}

static void publish(struct agent *a, uint64_t gen)
{
	uint64_t lost[TW_LOST_MAX];
	struct snapshot *s;

	sample_live(a);
	s = registry__snapshot(a->registry, now_ns());
	if (!s) {
		pr_warn("cannot build snapshot: %s", strerror(errno));
		return;
	}
	loader__lost(a->loader, lost);
	for (unsigned int i = 0; i < TW_LOST_MAX && i < SNAPSHOT_MAX_LOST; i++)
		s->lost[s->nr_lost++] = lost[i];
	loader__probes_enabled(a->loader, s->probe_enabled);
	if (windows__snapshot(a->detector, s))
		pr_warn("snapshot without anomalies: out of memory");
	s->prog_stats_enabled = a->opts->bpf_stats;
	if (s->prog_stats_enabled)
		s->nr_progs = loader__prog_stats(a->loader, s->progs, SNAPSHOT_MAX_PROGS);
	hub__publish(&a->hub, s, gen);
}

/* Host CPU utilisation since the previous call (0..1), or -1 when unknown. */
static double host_cpu_utilisation(struct agent *a)
{
	unsigned long long v[8] = {};
	uint64_t busy, total;
	double util = -1;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return -1;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) != 8) {
		fclose(f);
		return -1;
	}
	fclose(f);
	total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	busy = total - v[3] - v[4]; /* minus idle and iowait */
	if (a->cpu_total && total > a->cpu_total)
		util = (double)(busy - a->cpu_busy) / (double)(total - a->cpu_total);
	a->cpu_busy = busy;
	a->cpu_total = total;
	return util;
}

static int log_change(const struct anomaly_state *st, void *ctx)
{
	pr_info("anomaly %s: tool='%s' kind=%s severity=%s ratio=%.3g",
		st->active ? "raised" : "cleared", st->tool ? st->tool : "(host)",
		anomaly_kind__name(st->kind), anomaly_kind__severity(st->kind),
		st->deviation_ratio);
	return 0;
}

static void save_state(struct agent *a)
{
	int err = state__save(a->detector, a->opts->state_dir);

	if (err)
		pr_warn("cannot save baselines under '%s': %s", a->opts->state_dir,
			strerror(-err));
}

static void close_window(struct agent *a, uint64_t now)
{
	uint64_t dropped;
	int n;

	n = windows__close(a->windows, a->registry, a->detector, host_cpu_utilisation(a),
			   (int64_t)time(NULL));
	if (n < 0)
		pr_warn("cannot close anomaly window: %s", strerror(-n));
	dropped = anomaly__for_each_change(a->detector, log_change, NULL);
	if (dropped)
		pr_warn("%llu anomaly changes not logged", (unsigned long long)dropped);
	a->next_window_ns += a->opts->anomaly.window_ns;
	if (a->next_window_ns <= now) /* the loop stalled: skip, don't replay windows */
		a->next_window_ns = now + a->opts->anomaly.window_ns;
}

static void tick(struct agent *a)
{
	uint64_t now = now_ns();
	size_t dropped;

	a->ticks++;
	sample_live(a);
	if (now >= a->next_window_ns)
		close_window(a, now);
	if (a->opts->state_save_interval_ns && now >= a->next_save_ns) {
		save_state(a);
		a->next_save_ns = now + a->opts->state_save_interval_ns;
	}
	if (a->ticks % RECONCILE_EVERY_TICKS == 0) {
		dropped = consumer__reconcile(a->consumer, exec_alive, a->loader);
		if (dropped)
			pr_debug("dropped %zu executions whose exit record was lost", dropped);
	}
}

static int add_fd(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int event_loop(struct agent *a, int sig_fd)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = 0, .tv_sec = TICK_INTERVAL_MS / 1000 },
		.it_value = { .tv_nsec = 0, .tv_sec = TICK_INTERVAL_MS / 1000 },
	};
	int epfd, timer_fd, err = 0;
	bool running = true;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (epfd < 0 || timer_fd < 0) {
		err = -errno;
		goto out;
	}
	timerfd_settime(timer_fd, 0, &its, NULL);
	if ((err = add_fd(epfd, ring_buffer__epoll_fd(a->rb))) || (err = add_fd(epfd, sig_fd)) ||
	    (err = add_fd(epfd, a->hub.wake_fd)) || (err = add_fd(epfd, timer_fd)))
		goto out;

	while (running) {
		struct epoll_event evs[8];
		uint64_t gen;
		int n = epoll_wait(epfd, evs, 8, POLL_INTERVAL_MS);

		if (n < 0 && errno != EINTR) {
			err = -errno;
			pr_err("epoll_wait: %s", strerror(errno));
			break;
		}
		err = ring_buffer__consume(a->rb);
		if (err < 0) {
			pr_err("cannot consume ring buffer: %s", strerror(-err));
			break;
		}
		err = 0;
		__atomic_store_n(&a->heartbeat_ns, now_ns(), __ATOMIC_RELAXED);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sig_fd) {
				struct signalfd_siginfo si;

				if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
					pr_info("received %s, shutting down", strsignal((int)si.ssi_signo));
				running = false;
			} else if (evs[i].data.fd == timer_fd) {
				uint64_t expirations;

				if (read(timer_fd, &expirations, sizeof(expirations)) > 0)
					tick(a);
			}
		}
		gen = hub__wanted(&a->hub);
		if (gen)
			publish(a, gen);
	}
out:
	if (timer_fd >= 0)
		close(timer_fd);
	if (epfd >= 0)
		close(epfd);
	return err;
}

int agent__run(const struct agent_options *o)
{
	struct loader_config lcfg = {
		.ringbuf_bytes = o->ringbuf_bytes,
		.max_processes = o->max_processes,
		.wakeup_bytes = o->ringbuf_bytes / 16,
	};
	struct agent a = { .opts = o };
	struct consumer_config ccfg = {};
	struct http_config hcfg = {};
	int stats_fd = -1, sig_fd = -1, status = 1, err;
	char why[512];
	sigset_t mask;

	memcpy(lcfg.disable, o->disable, sizeof(lcfg.disable));
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0) {
		pr_err("cannot create signalfd: %s", strerror(errno));
		goto cleanup;
	}

	a.detector = anomaly__new(&o->anomaly);
	if (!a.detector) {
		pr_err("cannot create the anomaly detector: %s", strerror(errno));
		goto cleanup;
	}
	err = state__load(a.detector, o->state_dir, why, sizeof(why));
	if (!err)
		pr_info("loaded baselines of %zu tools (%llu windows old) from '%s'",
			anomaly__nr_tools(a.detector),
			(unsigned long long)anomaly__age_windows(a.detector), o->state_dir);
	else if (err == -ENOENT)
		pr_info("no saved baselines under '%s': learning from scratch", o->state_dir);
	else
		pr_warn("ignoring saved baselines: %s", why);
	a.windows = windows__new();
	a.registry = registry__new(o->tools_max);
	ccfg.registry = a.registry;
	a.consumer = a.registry && a.windows ? consumer__new(&ccfg) : NULL;
	if (!a.consumer) {
		pr_err("cannot allocate the registry: %s", strerror(errno));
		goto cleanup;
	}
	if (o->bpf_stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			pr_warn("cannot enable BPF run-time statistics: %s", strerror(errno));
	}
	a.loader = loader__open(&lcfg);
	if (!a.loader)
		goto cleanup;
	a.rb = ring_buffer__new(loader__events_fd(a.loader), on_sample, &a, NULL);
	if (!a.rb) {
		pr_err("cannot create ring buffer: %s", strerror(errno));
		goto cleanup;
	}
	err = loader__dump_tasks(a.loader, on_task, &a);
	if (err && err != -EOPNOTSUPP)
		pr_warn("cannot list running processes: %s", strerror(-err));
	pr_info("tracking %zu processes already running", consumer__inflight(a.consumer));

	err = hub__init(&a.hub);
	if (err) {
		pr_err("cannot create eventfd: %s", strerror(-err));
		goto cleanup;
	}
	a.hub_ready = true;
	publish(&a, 0);
	a.heartbeat_ns = now_ns();
	hcfg.host = o->listen_host;
	hcfg.port = o->listen_port;
	hcfg.version = TOOLWATCH_VERSION;
	hcfg.hub = &a.hub;
	hcfg.snapshot_wait_ms = SNAPSHOT_WAIT_MS;
	hcfg.healthy = loop_healthy;
	hcfg.ctx = &a;
	a.http = http__start(&hcfg);
	if (!a.http) {
		pr_err("cannot listen on '%s:%u': %s", o->listen_host, o->listen_port,
		       strerror(errno));
		goto cleanup;
	}
	pr_info("listening on '%s:%u', version %s", o->listen_host, o->listen_port,
		TOOLWATCH_VERSION);

	a.next_window_ns = now_ns() + o->anomaly.window_ns;
	a.next_save_ns = now_ns() + o->state_save_interval_ns;
	host_cpu_utilisation(&a);
	err = event_loop(&a, sig_fd);
	status = err ? 1 : 0;
	save_state(&a);
cleanup:
	http__stop(a.http);
	ring_buffer__free(a.rb);
	loader__close(a.loader);
	if (a.hub_ready)
		hub__destroy(&a.hub);
	consumer__free(a.consumer);
	registry__free(a.registry);
	windows__free(a.windows);
	anomaly__free(a.detector);
	if (stats_fd >= 0)
		close(stats_fd);
	if (sig_fd >= 0)
		close(sig_fd);
	return status;
}
