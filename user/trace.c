// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "anomaly.h"
#include "consumer.h"
#include "loader.h"
#include "log.h"
#include "registry.h"
#include "state.h"
#include "strbuf.h"
#include "trace.h"
#include "trace_format.h"
#include "trace_options.h"
#include "windows.h"

#define POLL_INTERVAL_MS	100	       /* ring buffer drained at least this often */
#define RECONCILE_INTERVAL_NS	10000000000ULL /* drop executions whose exit was lost */
#define LOST_REPORT_INTERVAL_NS 1000000000ULL  /* at most one "records lost" line a second */
#define TRACE_NAMES_MAX		100000	       /* names on lines; then "other" (~1 KiB each) */
#define TRACE_SUMMARY_TOOLS_MAX 1000	       /* tools of one summary period; then "other" */
#define TRACE_RINGBUF_BYTES	(4ULL << 20)
#define TRACE_MAX_PROCESSES	32768
#define MOUNTINFO_MAX_BYTES	(4 << 20)
#define CGROUP2_MAGIC		0x63677270 /* CGROUP2_SUPER_MAGIC */
#define NS_PER_S		1000000000ULL

#define PREFIX "toolwatch trace: "

#ifndef CAP_PERFMON /* Linux 5.8 headers */
#define CAP_PERFMON 38
#define CAP_BPF	    39
#endif

struct tracer {
	const struct trace_options *o;
	struct trace_clock clock;
	struct trace_layout layout;
	struct registry *registry;
	struct consumer *consumer;
	struct loader *loader;
	struct ring_buffer *rb;
	struct trace_summary *summary;
	struct strbuf out;
	uint64_t period_start_ns; /* CLOCK_MONOTONIC start of the summary period */
	uint64_t lost_reported;	  /* records lost, as last told */
	uint64_t lost_reported_ns;
	struct anomaly_detector *detector; /* --events anomaly */
	struct windows *windows;
	int write_err; /* first error writing stdout */
	bool summary_oom;
	bool summaries_printed;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void clock_init(struct trace_clock *c)
{
	uint64_t mono0 = clock_ns(CLOCK_MONOTONIC), real = clock_ns(CLOCK_REALTIME);
	uint64_t mono1 = clock_ns(CLOCK_MONOTONIC);
	time_t now = (time_t)(real / NS_PER_S);
	struct tm tm;

	/* the realtime reading lies between the two monotonic ones: take their middle */
	c->realtime_offset_ns = (int64_t)real - (int64_t)(mono0 + (mono1 - mono0) / 2);
	c->utc_offset_s = localtime_r(&now, &tm) ? tm.tm_gmtoff : 0;
}

static unsigned int terminal_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	return TRACE_WIDTH_DEFAULT;
}

/* Writes what sb holds to stdout (buffered); remembers the first error. */
static void emit(struct tracer *t, struct strbuf *sb)
{
	if (t->write_err || !sb->len)
		return;
	if (sb->oom) {
		fprintf(stderr, PREFIX "out of memory formatting output\n");
		t->write_err = -ENOMEM;
		return;
	}
	if (fwrite(sb->buf, 1, sb->len, stdout) != sb->len)
		t->write_err = errno ? -errno : -EIO;
}

static void flush(struct tracer *t)
{
	if (!t->write_err && fflush(stdout))
		t->write_err = errno ? -errno : -EIO;
}

static void on_event(const struct exec_event *ev, void *ctx)
{
	struct tracer *t = ctx;

	if (!trace_options__match(t->o, ev))
		return;
	if (t->summary) {
		if (trace_summary__add(t->summary, ev) && !t->summary_oom) {
			fprintf(stderr, PREFIX "out of memory: summary incomplete\n");
			t->summary_oom = true;
		}
		return;
	}
	if (!trace_options__shows(t->o, ev))
		return;
	strbuf__reset(&t->out);
	if (t->o->json)
		trace_format__json(&t->out, &t->layout, &t->clock, ev);
	else
		trace_format__line(&t->out, &t->layout, &t->clock, ev);
	emit(t, &t->out);
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	return consumer__handle(t->consumer, data, size);
}

static bool exec_alive(uint32_t tgid, uint64_t start_ns, void *ctx)
{
	return loader__exec_alive(ctx, tgid, start_ns);
}

static void print_summary(struct tracer *t)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct trace_summary_view v = {
	    .wall_ns = trace_clock__wall_ns(&t->clock, now),
	    .period_ns = now - t->period_start_ns,
	    .utc_offset_s = t->clock.utc_offset_s,
	    .wide = t->o->wide,
	    .measured = t->layout.measured,
	};

	strbuf__reset(&t->out);
	if (t->o->json) {
		trace_summary__json(t->summary, &t->out, &v);
	} else {
		/* consecutive --interval summaries: a blank line between them */
		if (t->summaries_printed)
			strbuf__putc(&t->out, '\n');
		trace_summary__text(t->summary, &t->out, &v);
	}
	emit(t, &t->out);
	t->summaries_printed = true;
	trace_summary__reset(t->summary);
	t->period_start_ns = now;
}

/* Tells on stderr how many records the kernel dropped since the last time it told. */
static int print_anomaly(const struct anomaly_state *st, void *ctx)
{
	struct tracer *t = ctx;

	strbuf__reset(&t->out);
	trace_format__anomaly(&t->out, &t->clock, clock_ns(CLOCK_REALTIME), st->tool,
			      anomaly_kind__name(st->kind), anomaly_kind__severity(st->kind),
			      st->active, st->deviation_ratio, st->raised_total, t->o->json);
	emit(t, &t->out);
	return 0;
}

/* Judges the window that just ended against the baselines; prints flags that changed. */
static void close_anomaly_window(struct tracer *t)
{
	windows__close(t->windows, t->registry, t->detector, -1, (int64_t)time(NULL));
	anomaly__for_each_change(t->detector, print_anomaly, t);
}

static void report_lost(struct tracer *t, bool force)
{
	uint64_t lost[TW_LOST_MAX], total = 0, now = clock_ns(CLOCK_MONOTONIC);
	char detail[256] = "";
	size_t used = 0;

	loader__lost(t->loader, lost);
	for (unsigned int i = 0; i < TW_LOST_MAX; i++) {
		total += lost[i];
		if (lost[i] && used < sizeof(detail)) {
			int n = snprintf(detail + used, sizeof(detail) - used, "%s%s %" PRIu64,
					 used ? ", " : "", lost_reason__name(i), lost[i]);
			used += n > 0 ? (size_t)n : 0;
		}
	}
	if (total == t->lost_reported)
		return;
	if (!force && now - t->lost_reported_ns < LOST_REPORT_INTERVAL_NS)
		return;
	fprintf(stderr, PREFIX "%" PRIu64 " records lost since start (%s): output is incomplete\n",
		total, detail);
	t->lost_reported = total;
	t->lost_reported_ns = now;
}

static int add_fd(int epfd, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* A CLOCK_MONOTONIC timerfd firing after ns, then every interval_ns (0: once). */
static int timer_new(uint64_t ns, uint64_t interval_ns)
{
	struct itimerspec its = {
	    .it_value = {.tv_sec = (time_t)(ns / NS_PER_S), .tv_nsec = (long)(ns % NS_PER_S)},
	    .it_interval = {.tv_sec = (time_t)(interval_ns / NS_PER_S),
			    .tv_nsec = (long)(interval_ns % NS_PER_S)},
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int event_loop(struct tracer *t, int sig_fd)
{
	const struct trace_options *o = t->o;
	int epfd, end_fd = -1, interval_fd = -1, window_fd = -1, err = 0;
	uint64_t next_reconcile = clock_ns(CLOCK_MONOTONIC) + RECONCILE_INTERVAL_NS;
	bool running = true;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		err = -errno;
		goto out;
	}
	if (o->duration_ns) {
		end_fd = timer_new(o->duration_ns, 0);
		if (end_fd < 0) {
			err = end_fd;
			goto out;
		}
	}
	if (o->interval_ns) {
		interval_fd = timer_new(o->interval_ns, o->interval_ns);
		if (interval_fd < 0) {
			err = interval_fd;
			goto out;
		}
	}
	if (t->detector) {
		window_fd = timer_new(o->anomaly_window_ns, o->anomaly_window_ns);
		if (window_fd < 0) {
			err = window_fd;
			goto out;
		}
	}
	if ((err = add_fd(epfd, ring_buffer__epoll_fd(t->rb))) || (err = add_fd(epfd, sig_fd)) ||
	    (end_fd >= 0 && (err = add_fd(epfd, end_fd))) ||
	    (interval_fd >= 0 && (err = add_fd(epfd, interval_fd))) ||
	    (window_fd >= 0 && (err = add_fd(epfd, window_fd))))
		goto out;

	while (running && !t->write_err) {
		struct epoll_event evs[8];
		int n = epoll_wait(epfd, evs, 8, POLL_INTERVAL_MS);
		uint64_t now;

		if (n < 0 && errno != EINTR) {
			err = -errno;
			fprintf(stderr, PREFIX "epoll_wait: %s\n", strerror(errno));
			break;
		}
		err = ring_buffer__consume(t->rb);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, PREFIX "cannot consume ring buffer: %s\n", strerror(-err));
			break;
		}
		err = 0;
		for (int i = 0; i < n; i++) {
			uint64_t expirations;

			if (evs[i].data.fd == sig_fd || evs[i].data.fd == end_fd) {
				running = false;
			} else if (evs[i].data.fd == interval_fd &&
				   read(interval_fd, &expirations, sizeof(expirations)) > 0) {
				print_summary(t);
			} else if (evs[i].data.fd == window_fd &&
				   read(window_fd, &expirations, sizeof(expirations)) > 0) {
				close_anomaly_window(t);
			}
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= next_reconcile) {
			consumer__reconcile(t->consumer, exec_alive, t->loader);
			next_reconcile = now + RECONCILE_INTERVAL_NS;
		}
		report_lost(t, false);
		flush(t);
	}
	/* what happened before the end is in the ring buffer already: show it */
	if (!err && ring_buffer__consume(t->rb) < 0)
		err = -EIO;
out:
	if (window_fd >= 0)
		close(window_fd);
	if (interval_fd >= 0)
		close(interval_fd);
	if (end_fd >= 0)
		close(end_fd);
	if (epfd >= 0)
		close(epfd);
	return err;
}

/* Reads a whole (small, virtual) file into sb. 0 or -errno. */
static int read_file(const char *path, struct strbuf *sb, size_t max)
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0 || sb->len + (size_t)n > max)
			break;
		strbuf__append(sb, buf, (size_t)n);
	}
	close(fd);
	return sb->oom ? -ENOMEM : err;
}

static bool is_cgroup2_dir(const char *path)
{
	struct statfs fs;
	struct stat st;

	return !statfs(path, &fs) && fs.f_type == CGROUP2_MAGIC && !stat(path, &st) &&
	       S_ISDIR(st.st_mode);
}

/* The id bpf_get_current_cgroup_id() reports for tasks in the cgroup at path. */
static int cgroup_id_of(const char *path, uint64_t *id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	int mount_id;
	struct stat st;

	/* the kernfs node id, as the file handle carries it; the inode number otherwise */
	h.fh.handle_bytes = sizeof(uint64_t);
	if (!name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	if (stat(path, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

/*
 * Resolves --cgroup: an absolute path on the cgroup2 file system, or a path relative to
 * its mount (with or without a leading '/', as /proc/PID/cgroup shows it).
 */
static int resolve_cgroup(const char *arg, uint64_t *id, char *err, size_t err_size)
{
	struct strbuf mountinfo = {}, path = {};
	char mnt[TRACE_PATH_MAX];
	int e;

	if (arg[0] == '/' && is_cgroup2_dir(arg)) {
		e = cgroup_id_of(arg, id);
		if (e)
			snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg, strerror(-e));
		return e;
	}
	e = read_file("/proc/self/mountinfo", &mountinfo, MOUNTINFO_MAX_BYTES);
	if (!e)
		e = cgroup2__mount_point(mountinfo.buf ? mountinfo.buf : "", mnt, sizeof(mnt));
	strbuf__free(&mountinfo);
	if (e) {
		snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg,
			 e == -ENOENT ? "no cgroup v2 file system is mounted" : strerror(-e));
		return e;
	}
	strbuf__appendf(&path, "%s/%s", mnt, arg + strspn(arg, "/"));
	if (path.oom) {
		e = -ENOMEM;
		snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg, strerror(-e));
	} else if (!is_cgroup2_dir(path.buf)) {
		e = -ENOENT;
		snprintf(err, err_size,
			 "invalid --cgroup '%.200s': not a cgroup v2 directory (nor is '%.200s')",
			 arg, path.buf);
	} else {
		e = cgroup_id_of(path.buf, id);
		if (e)
			snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg, strerror(-e));
	}
	strbuf__free(&path);
	return e;
}

/* True when the effective capabilities allow loading tracing programs. */
static bool can_trace(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data))
		return true; /* cannot tell: let the loader find out */
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON));
}

/* Says once, on stderr, which asked-for kinds of events cannot be produced. */
static void note_unavailable_events(unsigned int events)
{
	if (events & TRACE_EVENT_NET)
		fprintf(stderr,
			PREFIX "--events net: not available yet: the kernel programs emit "
			       "no per-connection records (per-execution net bytes are in -w and "
			       "--json output)\n");
	if (events & TRACE_EVENT_MEM)
		fprintf(stderr,
			PREFIX "--events mem: not available yet: the kernel programs emit "
			       "no memory events (OOM kills end with status 'oom'; peak RSS is in "
			       "-w and --json output)\n");
}

/* --events anomaly: the agent's saved baselines, judged on this trace's own windows. */
static int anomaly_start(struct tracer *t)
{
	struct anomaly_config cfg;
	char why[512];
	int err;

	anomaly_config__init(&cfg);
	cfg.window_ns = t->o->anomaly_window_ns;
	if (t->o->anomaly_min_windows)
		cfg.min_windows = (uint32_t)t->o->anomaly_min_windows;
	if (t->o->anomaly_min_samples)
		cfg.min_samples = t->o->anomaly_min_samples;
	t->detector = anomaly__new(&cfg);
	t->windows = windows__new();
	if (!t->detector || !t->windows)
		return -ENOMEM;
	err = state__load(t->detector, t->o->state_dir, why, sizeof(why));
	if (err)
		fprintf(stderr,
			PREFIX "--events anomaly: no usable baselines (%s): flags need a "
			       "trusted baseline, so none will show until one is learned\n",
			why);
	else
		fprintf(stderr, PREFIX "--events anomaly: baselines of %zu tools from '%s'\n",
			anomaly__nr_tools(t->detector), t->o->state_dir);
	return 0;
}

static void print_ready(const struct trace_options *o)
{
	char d[16];

	if (o->duration_ns) {
		trace_format__duration(d, sizeof(d), o->duration_ns);
		fprintf(stderr, PREFIX "tracing executions for %s, ctrl-c to end early\n", d);
	} else {
		fprintf(stderr, PREFIX "tracing executions, ctrl-c to end\n");
	}
}

int trace__main(int argc, char **argv)
{
	struct trace_options o;
	struct loader_config lcfg = {
	    .ringbuf_bytes = TRACE_RINGBUF_BYTES,
	    .max_processes = TRACE_MAX_PROCESSES,
	    .wakeup_bytes = 0, /* wake per record: lines show up as things happen */
	};
	struct consumer_config ccfg = {};
	struct tracer t = {};
	int sig_fd = -1, status = 1, err;
	char msg[512];
	sigset_t mask;

	trace_options__init(&o);
	switch (trace_options__parse(&o, argc, argv, msg, sizeof(msg))) {
	case OPTIONS_HELP:
		fputs(trace_usage, stdout);
		return 0;
	case OPTIONS_ERROR:
	case OPTIONS_VERSION:
		fprintf(stderr, PREFIX "%s\n(see 'toolwatch trace --help')\n", msg);
		return 2;
	case OPTIONS_OK:
		break;
	}
	if (o.cgroup_path[0] &&
	    resolve_cgroup(o.cgroup_path, &o.filter.cgroup_id, msg, sizeof(msg))) {
		fprintf(stderr, PREFIX "%s\n", msg);
		return 2;
	}
	if (!can_trace()) {
		fprintf(stderr, PREFIX "needs root: loading BPF programs takes CAP_BPF and "
				       "CAP_PERFMON (or CAP_SYS_ADMIN)\n");
		return 1;
	}
	/* the loader's progress notes are agent talk; its warnings still matter here */
	log_level = LOG_WARN;
	note_unavailable_events(o.events);

	t.o = &o;
	t.layout.wide = o.wide;
	t.layout.width = terminal_width();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0) {
		fprintf(stderr, PREFIX "cannot create signalfd: %s\n", strerror(errno));
		goto cleanup;
	}

	t.registry = registry__new(TRACE_NAMES_MAX);
	ccfg.registry = t.registry;
	ccfg.keep_args = true;
	ccfg.sink = on_event;
	ccfg.sink_ctx = &t;
	t.consumer = t.registry ? consumer__new(&ccfg) : NULL;
	if (o.summary)
		t.summary = trace_summary__new(TRACE_SUMMARY_TOOLS_MAX);
	if (!t.consumer || (o.summary && !t.summary)) {
		fprintf(stderr, PREFIX "cannot allocate: %s\n", strerror(errno));
		goto cleanup;
	}

	lcfg.filter = o.filter;
	/* agent-only families: executions from before the start, live samples, host stats */
	lcfg.disable[PROBE_TASK_ITER] = true;
	lcfg.disable[PROBE_SAMPLER] = true;
	lcfg.disable[PROBE_RUNQLAT] = true;
	lcfg.disable[PROBE_BLOCKIO] = true;
	t.loader = loader__open(&lcfg);
	if (!t.loader) {
		err = errno;
		fprintf(stderr, PREFIX "cannot start tracing: %s%s\n", strerror(err),
			err == EPERM || err == EACCES ? " (run as root: needs CAP_BPF and "
							"CAP_PERFMON)"
						      : "");
		goto cleanup;
	}
	/* CPU, peak RSS and disk bytes are read at exit by the core programs */
	t.layout.measured = TRACE_MEASURE_CPU | TRACE_MEASURE_MEMORY | TRACE_MEASURE_DISK;
	if (loader__probe_enabled(t.loader, PROBE_NET))
		t.layout.measured |= TRACE_MEASURE_NET;
	if (loader__probe_enabled(t.loader, PROBE_TCP))
		t.layout.measured |= TRACE_MEASURE_TCP;
	if ((o.events & TRACE_EVENT_ANOMALY) && anomaly_start(&t)) {
		fprintf(stderr, PREFIX "cannot allocate: %s\n", strerror(ENOMEM));
		goto cleanup;
	}
	t.rb = ring_buffer__new(loader__events_fd(t.loader), on_sample, &t, NULL);
	if (!t.rb) {
		fprintf(stderr, PREFIX "cannot create ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	/* timestamps are converted from the moment tracing starts */
	clock_init(&t.clock);
	t.period_start_ns = clock_ns(CLOCK_MONOTONIC);
	t.lost_reported_ns = t.period_start_ns;
	if (!o.summary && !o.json) {
		trace_format__header(&t.out, &t.layout);
		emit(&t, &t.out);
	}
	flush(&t);
	print_ready(&o);

	err = event_loop(&t, sig_fd);
	if (!err && t.summary)
		print_summary(&t);
	flush(&t);
	report_lost(&t, true);
	if (t.write_err && t.write_err != -EPIPE) {
		fprintf(stderr, PREFIX "cannot write output: %s\n", strerror(-t.write_err));
		goto cleanup;
	}
	/* a reader that went away (| head) is a normal end */
	status = err ? 1 : 0;
cleanup:
	ring_buffer__free(t.rb);
	loader__close(t.loader);
	trace_summary__free(t.summary);
	windows__free(t.windows);
	anomaly__free(t.detector);
	consumer__free(t.consumer);
	registry__free(t.registry);
	strbuf__free(&t.out);
	if (sig_fd >= 0)
		close(sig_fd);
	return status;
}
