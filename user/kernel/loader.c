// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel/loader.h"
#include "kernel/uprobes.h"
#include "lib/log.h"
#include "toolwatch.skel.h"

#define TRACEFS		 "/sys/kernel/tracing"
#define DEBUGFS_TRACING	 "/sys/kernel/debug/tracing"
#define MAX_FAMILY_PROGS 6

struct loader {
	struct toolwatch_bpf *skel;
	struct loader_config cfg;
	bool enabled[PROBE_MAX];
	int delayacct_restore; /* kernel.task_delayacct to put back at close; -1: untouched */
	struct bpf_link *links[PROBE_MAX][MAX_FAMILY_PROGS];
	struct bpf_link *libc_links[UPROBES_MAX_LINKS]; /* exec_failed_libc's, per site */
};

/* libbpf's own messages, one level quieter than ours */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log_level < LOG_DEBUG)
		return 0;
	if (level == LIBBPF_WARN && log_level < LOG_INFO)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* most of libbpf's messages name it already */
	log__print(level == LIBBPF_WARN ? LOG_INFO : LOG_DEBUG, "%s%s",
		   strncmp(msg, "libbpf: ", 8) ? "libbpf: " : "", msg);
	return 0;
}

/*
 * Whether path exists for our effective ids and capabilities: access(2) checks the real
 * uid, so a non-root agent holding CAP_DAC_READ_SEARCH would see tracefs as missing.
 */
static bool exists(const char *path)
{
	return !faccessat(AT_FDCWD, path, F_OK, AT_EACCESS);
}

/* Effective capability set (capget(2)); every bit when that fails, so that we just try. */
static uint64_t effective_caps(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &hdr, data))
		return ~0ULL;
	return (uint64_t)data[1].effective << 32 | data[0].effective;
}

static bool has_cap(uint64_t caps, int cap)
{
	return caps & (1ULL << cap);
}

/*
 * One line naming each capability the agent lacks for what it was asked to do, and what
 * each loses; the families that lack one are disabled alone, later, where they fail.
 */
static void report_capabilities(const struct loader_config *cfg, const bool want[PROBE_MAX])
{
	uint64_t caps = effective_caps();
	bool admin = has_cap(caps, CAP_SYS_ADMIN), root = geteuid() == 0;
	bool tracefs = want[PROBE_EXEC_FAILED] && !exists(TRACEFS "/events") &&
		       !exists(DEBUGFS_TRACING "/events");
	bool dac_tracefs = !root && want[PROBE_EXEC_FAILED];
	char line[768] = "";
	size_t used = 0;

#define MISSING(...)                                                                               \
	do {                                                                                       \
		if (used < sizeof(line))                                                           \
			used += (size_t)snprintf(line + used, sizeof(line) - used, __VA_ARGS__);   \
	} while (0)
	if (!admin && !has_cap(caps, CAP_BPF))
		MISSING("%sCAP_BPF (every family: loading programs)", used ? ", " : "");
	if (!admin && !has_cap(caps, CAP_PERFMON))
		MISSING("%sCAP_PERFMON (every family: tracepoints, iterators)", used ? ", " : "");
	if (!has_cap(caps, CAP_DAC_READ_SEARCH) && (dac_tracefs || cfg->cgroup_by_id))
		MISSING("%sCAP_DAC_READ_SEARCH (%s%s%s)", used ? ", " : "",
			dac_tracefs ? "exec_failed: reading tracefs" : "",
			dac_tracefs && cfg->cgroup_by_id ? "; " : "",
			cfg->cgroup_by_id ? "--metrics.labels: opening cgroups by id, so that a "
					    "live pod's idle series stays"
					  : "");
	if (!admin && (cfg->bpf_stats || tracefs))
		MISSING("%sCAP_SYS_ADMIN (%s%s%s)", used ? ", " : "",
			cfg->bpf_stats ? "--bpf.stats: program run times" : "",
			cfg->bpf_stats && tracefs ? "; " : "",
			tracefs ? "exec_failed: mounting tracefs" : "");
#undef MISSING
	if (!root || !admin)
		pr_info("missing capabilities: %s", used ? line : "none");
}

/* Syscall tracepoints need tracefs; mount it where libbpf looks if nobody did. */
static bool tracefs_ready(void)
{
	if (exists(TRACEFS "/events") || exists(DEBUGFS_TRACING "/events"))
		return true;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL)) {
		pr_warn("cannot mount tracefs on '%s': %s", TRACEFS, strerror(errno));
		return false;
	}
	pr_info("mounted tracefs on '%s'", TRACEFS);
	return true;
}

static bool tracepoint_exists(const char *category, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/%s/%s", category, name);
	if (exists(path))
		return true;
	snprintf(path, sizeof(path), DEBUGFS_TRACING "/events/%s/%s", category, name);
	return exists(path);
}

/*
 * Programs of a family, for the current kernel flavour (BTF or raw tracepoints). want:
 * the families wanted, for the program net and tcp share (attached once).
 */
static unsigned int family_progs(struct toolwatch_bpf *skel, enum probe p, bool btf,
				 const bool want[PROBE_MAX], struct bpf_program **out)
{
	unsigned int n = 0;

	switch (p) {
	case PROBE_EXEC:
		out[n++] = btf ? skel->progs.handle_exec : skel->progs.handle_exec_raw;
		out[n++] = btf ? skel->progs.handle_exit : skel->progs.handle_exit_raw;
		/* the clock exec and exit read exact run times with */
		out[n++] = btf ? skel->progs.handle_wnew : skel->progs.handle_wnew_raw;
		/*
		 * exits are emitted once the task has switched away for good, where its CPU
		 * time is final: a timer checks it on BTF kernels; raw tracepoints (no timers)
		 * need a program on every switch (not sched_process_free: lazy RCU delays it
		 * by seconds)
		 */
		if (!btf)
			out[n++] = skel->progs.switch_raw;
		if (btf && skel->rodata->prep_exec)
			out[n++] = skel->progs.handle_preexec;
		break;
	case PROBE_EXEC_FAILED:
		/* BTF kernels read a failed call's path at its exit, from the saved registers */
		if (!btf || !skel->rodata->prep_exec) {
			out[n++] = skel->progs.execve_enter;
			out[n++] = skel->progs.execveat_enter;
		}
		out[n++] = skel->progs.execve_exit;
		out[n++] = skel->progs.execveat_exit;
		break;
	case PROBE_EXEC_FAILED_LIBC: /* attached per C library and site, not here */
		out[n++] = skel->progs.handle_libc_execve;
		out[n++] = skel->progs.handle_libc_execveat;
		break;
	case PROBE_TASK_ITER:
		out[n++] = skel->progs.dump_task;
		break;
	case PROBE_FORK:
		out[n++] = skel->progs.handle_fork;
		break;
	case PROBE_NET: /* and iter/tcp, run by the sampler */
		out[n++] = skel->progs.handle_sk_state;
		break;
	case PROBE_TCP:
		if (!want[PROBE_NET])
			out[n++] = skel->progs.handle_sk_state;
		out[n++] = skel->progs.handle_retrans;
		break;
	case PROBE_NETCALLS:
		out[n++] = skel->progs.handle_sock_tx;
		out[n++] = skel->progs.handle_sock_rx;
		break;
	case PROBE_OOM:
		out[n++] = skel->progs.handle_oom_kill;
		break;
	case PROBE_RUNQLAT:
		out[n++] = skel->progs.handle_wakeup;
		out[n++] = skel->progs.handle_wake_new;
		out[n++] = skel->progs.handle_switch;
		break;
	case PROBE_BLOCKIO:
		out[n++] = skel->progs.handle_rq_issue;
		out[n++] = skel->progs.handle_rq_done;
		break;
	case PROBE_SAMPLER:
		out[n++] = skel->progs.sample_task;
		break;
	default:
		break;
	}
	return n;
}

/* Whether the kernel's BTF describes tracepoint name (Linux 6.10 added sched_prepare_exec). */
static bool btf_tracepoint_exists(const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char type[128];
	bool found;

	if (libbpf_get_error(vmlinux))
		return false;
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	found = btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) >= 0;
	btf__free(vmlinux);
	return found;
}

/*
 * Exit slots (BTF kernels; 1 on raw tracepoints): TW_EXIT_SLOTS_PER_CPU per possible CPU,
 * a power of two in all. TOOLWATCH_EXIT_SLOTS=1 (tests) makes it 1, which sends nearly
 * every exit to exits_pending instead.
 */
static __u32 exit_slots(bool btf)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 slots = 1, need = TW_EXIT_SLOTS_PER_CPU * (__u32)(ncpus > 0 ? ncpus : 1);

	if (!btf || getenv("TOOLWATCH_EXIT_SLOTS"))
		return 1;
	while (slots < need && slots < (1u << 20))
		slots <<= 1;
	return slots;
}

static void configure(struct toolwatch_bpf *skel, const struct loader_config *cfg,
		      const bool want[PROBE_MAX], bool btf)
{
	__u32 slots;
	struct bpf_program *prog, *progs[MAX_FAMILY_PROGS];

	skel->rodata->targ_tgid = cfg->filter.tgid;
	skel->rodata->targ_ppid = cfg->filter.ppid;
	skel->rodata->targ_uid_set = cfg->filter.uid_set;
	skel->rodata->targ_uid = cfg->filter.uid;
	skel->rodata->targ_cgroup_id = cfg->filter.cgroup_id;
	skel->rodata->targ_min_duration_ns = cfg->filter.min_duration_ns;
	skel->rodata->targ_failed_only = cfg->filter.failed_only;
	skel->rodata->wakeup_bytes = cfg->wakeup_bytes;
	skel->rodata->page_size = (__u64)sysconf(_SC_PAGESIZE);
	skel->rodata->btf_tasks = btf;
	skel->rodata->prep_exec = btf && btf_tracepoint_exists("sched_prepare_exec");
	skel->rodata->timer_stats = cfg->timer_stats && btf;
	skel->rodata->runqlat_enabled = want[PROBE_RUNQLAT] && btf;
	skel->rodata->net_enabled = want[PROBE_NET];
	skel->rodata->tcp_enabled = want[PROBE_TCP];
	skel->rodata->netcalls_enabled = want[PROBE_NETCALLS] && btf;

	bpf_map__set_max_entries(skel->maps.events, (__u32)cfg->ringbuf_bytes);
	bpf_map__set_max_entries(skel->maps.execs, cfg->max_processes);
	slots = exit_slots(btf);
	bpf_map__set_max_entries(skel->maps.exit_slots, slots);
	skel->rodata->slot_mask = slots - 1;

	bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, false);
	for (int p = 0; p < PROBE_MAX; p++) {
		unsigned int n;

		if (!want[p])
			continue;
		n = family_progs(skel, p, btf, want, progs);
		for (unsigned int i = 0; i < n; i++)
			bpf_program__set_autoload(progs[i], true);
	}
	/*
	 * the exit timer, set up once after loading (BTF kernels); TOOLWATCH_NO_EXIT_TIMER=1
	 * (tests) leaves it unset, as if the kernel had refused it
	 */
	bpf_program__set_autoload(skel->progs.init_exit_timer,
				  want[PROBE_EXEC] && btf && !getenv("TOOLWATCH_NO_EXIT_TIMER"));
	/* exits of zombies nobody reaps: the sampler's iterator, or this one without it */
	bpf_program__set_autoload(skel->progs.reap_task, !want[PROBE_SAMPLER]);
	/* live TCP bytes: the sampler runs this iterator before the task one */
	bpf_program__set_autoload(skel->progs.sample_tcp, want[PROBE_NET] && want[PROBE_SAMPLER]);
}

/* Least important first: what a failed load gives up, in turn. */
static const enum probe shed_order[] = {
    PROBE_NETCALLS,   PROBE_RUNQLAT, PROBE_BLOCKIO,   PROBE_OOM,  PROBE_TCP,
    PROBE_NET,	      PROBE_SAMPLER, PROBE_TASK_ITER, PROBE_FORK, PROBE_EXEC_FAILED_LIBC,
    PROBE_EXEC_FAILED};

static int try_load(struct loader *l, const bool want[PROBE_MAX], bool btf)
{
	int err;

	l->skel = toolwatch_bpf__open();
	if (!l->skel)
		return -errno;
	configure(l->skel, &l->cfg, want, btf);
	err = toolwatch_bpf__load(l->skel);
	if (err) {
		toolwatch_bpf__destroy(l->skel);
		l->skel = NULL;
	}
	return err;
}

/*
 * Loads what is wanted, BTF-typed tracepoints first and raw ones for the core if those
 * are refused; gives up optional families one at a time until the rest loads.
 */
static int load(struct loader *l, bool want[PROBE_MAX], bool *btf)
{
	const unsigned int nr_shed = sizeof(shed_order) / sizeof(shed_order[0]);
	int err, raw_err;

	for (unsigned int round = 0;; round++) {
		err = *btf ? try_load(l, want, true) : -ENOTSUP;
		if (!err)
			return 0;
		/* no privilege: shedding families would not help */
		if (err == -EPERM)
			return err;
		raw_err = try_load(l, want, false);
		if (!raw_err) {
			if (*btf)
				pr_warn("BTF tracepoints refused (%s): using raw tracepoints",
					strerror(-err));
			*btf = false;
			goto raw;
		}
		/* raw tracepoints only (no BTF, or forced): theirs is the error to report */
		if (!*btf)
			err = raw_err;
		if (err == -EPERM)
			return err;
		while (round < nr_shed && !want[shed_order[round]])
			round++;
		if (round >= nr_shed)
			return err;
		pr_warn("probe '%s' disabled: loading BPF programs failed: %s",
			probe__name(shed_order[round]), strerror(-err));
		want[shed_order[round]] = false;
	}
raw:
	/*
	 * Per-call socket counts are folded in at exit from task storage, and run-queue waits
	 * end in the BTF-typed sched_switch program: neither family measures anything here.
	 */
	if (!want[PROBE_NETCALLS] && !want[PROBE_RUNQLAT])
		return 0;
	for (unsigned int i = 0; i < 2; i++) {
		enum probe p = i ? PROBE_RUNQLAT : PROBE_NETCALLS;

		if (want[p])
			pr_warn("probe '%s' disabled: needs BTF-typed tracepoints", probe__name(p));
		want[p] = false;
	}
	toolwatch_bpf__destroy(l->skel);
	l->skel = NULL;
	return try_load(l, want, false);
}

static int attach(struct loader *l, bool btf)
{
	struct bpf_program *progs[MAX_FAMILY_PROGS];

	for (int p = 0; p < PROBE_MAX; p++) {
		unsigned int n;

		if (!l->enabled[p] || p == PROBE_TASK_ITER || p == PROBE_SAMPLER)
			continue;
		if (p == PROBE_EXEC_FAILED_LIBC) {
			if (!uprobes__attach_libc(l->skel->progs.handle_libc_execve,
						  l->skel->progs.handle_libc_execveat,
						  l->libc_links)) {
				pr_warn("probe 'exec_failed_libc' disabled: no C library exec call "
					"to watch");
				l->enabled[p] = false;
			}
			continue;
		}
		n = family_progs(l->skel, p, btf, l->enabled, progs);
		for (unsigned int i = 0; i < n; i++) {
			struct bpf_link *link = bpf_program__attach(progs[i]);
			int err = -errno;

			if (link) {
				l->links[p][i] = link;
				continue;
			}
			if (p == PROBE_EXEC) {
				pr_err("cannot attach '%s': %s", bpf_program__name(progs[i]),
				       strerror(-err));
				return err;
			}
			pr_warn("probe '%s' disabled: cannot attach '%s': %s", probe__name(p),
				bpf_program__name(progs[i]), strerror(-err));
			for (unsigned int j = 0; j < i; j++) {
				bpf_link__destroy(l->links[p][j]);
				l->links[p][j] = NULL;
			}
			l->enabled[p] = false;
			break;
		}
	}
	return 0;
}

#define DELAYACCT_SYSCTL "/proc/sys/kernel/task_delayacct"

/* kernel.task_delayacct: 0 or 1, or -errno when it cannot be read */
static int delayacct_read(void)
{
	char buf[8] = {};
	int fd = open(DELAYACCT_SYSCTL, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	return buf[0] == '1';
}

static int delayacct_write(int on)
{
	int fd = open(DELAYACCT_SYSCTL, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, on ? "1\n" : "0\n", 2) != 2)
		err = -errno;
	close(fd);
	return err;
}

/* --probe.enable=delayacct: delay accounting on while we run (block I/O wait per tool) */
static void delayacct_start(struct loader *l)
{
	int now = delayacct_read(), err;

	if (now < 0) {
		pr_warn("probe 'delayacct' disabled: cannot read '%s': %s", DELAYACCT_SYSCTL,
			strerror(-now));
		l->enabled[PROBE_DELAYACCT] = false;
		return;
	}
	if (now == 1) {
		pr_info("delay accounting was on already");
		return;
	}
	err = delayacct_write(1);
	if (err) {
		pr_warn("probe 'delayacct' disabled: cannot write '%s': %s", DELAYACCT_SYSCTL,
			strerror(-err));
		l->enabled[PROBE_DELAYACCT] = false;
		return;
	}
	l->delayacct_restore = 0;
	pr_info("delay accounting on (kernel.task_delayacct=1) until exit");
}

bool loader__delayacct(const struct loader *l)
{
	(void)l;
	return delayacct_read() == 1;
}

static int run_iter(struct bpf_program *prog, size_t rec_size, bool fill,
		    void (*fn)(const void *rec, size_t size, void *ctx), void *ctx);

/* Sets the exit timer up (see init_exit_timer in bpf/exit.bpf.c). */
static void init_exit_timer(struct loader *l)
{
	__u64 err;

	if (!bpf_program__autoload(l->skel->progs.init_exit_timer))
		return;
	if (run_iter(l->skel->progs.init_exit_timer, 0, false, NULL, NULL))
		err = EINVAL;
	else
		err = l->skel->data->exit_timer_unready;
	if (err)
		pr_warn("cannot set the exit timer up: %s; exits are emitted by the sampler's "
			"pass instead, up to a second late",
			strerror((int)err));
}

struct loader *loader__open(const struct loader_config *cfg)
{
	/* TOOLWATCH_FORCE_RAW_TP=1 takes the fallback path on purpose (tests) */
	bool btf = !faccessat(AT_FDCWD, "/sys/kernel/btf/vmlinux", R_OK, AT_EACCESS) &&
		   !getenv("TOOLWATCH_FORCE_RAW_TP");
	struct loader *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return NULL;
	l->cfg = *cfg;
	l->delayacct_restore = -1;
	libbpf_set_print(libbpf_print);

	for (int p = 0; p < PROBE_MAX; p++)
		l->enabled[p] = !cfg->disable[p];
	for (int p = 0; p < PROBE_MAX; p++)
		if (cfg->disable[p])
			pr_info("probe '%s' off (flags or default)", probe__name(p));
	report_capabilities(cfg, l->enabled);
	if (l->enabled[PROBE_EXEC_FAILED] &&
	    (!tracefs_ready() || !tracepoint_exists("syscalls", "sys_enter_execve"))) {
		pr_warn("probe 'exec_failed' disabled: tracepoint syscalls:sys_enter_execve "
			"not available (needs tracefs, readable with root or "
			"CAP_DAC_READ_SEARCH, and CONFIG_FTRACE_SYSCALLS)");
		l->enabled[PROBE_EXEC_FAILED] = false;
	}
	if (l->enabled[PROBE_EXEC_FAILED] && l->enabled[PROBE_EXEC_FAILED_LIBC]) {
		pr_info("probe 'exec_failed_libc' off: 'exec_failed' sees every exec call");
		l->enabled[PROBE_EXEC_FAILED_LIBC] = false;
	}
	if (!btf)
		pr_info("using raw tracepoints (no kernel BTF, or TOOLWATCH_FORCE_RAW_TP)");

	err = load(l, l->enabled, &btf);
	if (err) {
		pr_err("cannot load BPF programs: %s%s", strerror(-err),
		       err == -EPERM ? " (needs root, or CAP_BPF and CAP_PERFMON)" : "");
		goto fail;
	}
	err = attach(l, btf);
	if (err)
		goto fail;
	init_exit_timer(l);
	if (l->enabled[PROBE_DELAYACCT])
		delayacct_start(l);
	l->skel->bss->delayacct_on = delayacct_read() == 1;
	return l;
fail:
	loader__close(l);
	errno = -err;
	return NULL;
}

void loader__close(struct loader *l)
{
	if (!l)
		return;
	if (l->delayacct_restore >= 0) {
		int err = delayacct_write(l->delayacct_restore);

		if (err)
			pr_warn("cannot restore '%s': %s", DELAYACCT_SYSCTL, strerror(-err));
		else
			pr_info("delay accounting restored to %d", l->delayacct_restore);
	}
	for (int p = 0; p < PROBE_MAX; p++)
		for (int i = 0; i < MAX_FAMILY_PROGS; i++)
			bpf_link__destroy(l->links[p][i]);
	for (int i = 0; i < UPROBES_MAX_LINKS; i++)
		bpf_link__destroy(l->libc_links[i]);
	toolwatch_bpf__destroy(l->skel);
	free(l);
}

bool loader__probe_enabled(const struct loader *l, enum probe p)
{
	return (unsigned int)p < PROBE_MAX && l->enabled[p];
}

void loader__probes_enabled(const struct loader *l, bool out[PROBE_MAX])
{
	memcpy(out, l->enabled, sizeof(l->enabled));
}

int loader__events_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

/* Reads a whole small /proc file; returns bytes read or -1. */
static ssize_t read_proc(int pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

/*
 * Completes an iterator's exec record (TW_EXEC_ITER_SIZE bytes in rec, which has room for
 * TW_EXEC_REC_MAX) from /proc: the executable's path and argv. Returns its size.
 */
static size_t fill_from_proc(struct tw_exec_rec *rec)
{
	char link[64];
	ssize_t n;

	if (rec->filename_size > TW_PATH_LEN)
		rec->filename_size = 0;
	snprintf(link, sizeof(link), "/proc/%u/exe", rec->tgid);
	n = readlink(link, rec->data, TW_PATH_LEN - 1);
	if (n > 0) { /* else the kernel's name of the executable stays */
		rec->data[n] = '\0';
		rec->filename_size = (__u16)(n + 1);
	}
	n = read_proc((int)rec->tgid, "cmdline", rec->data + rec->filename_size, TW_ARGS_LEN);
	rec->args_size = n > 0 ? (__u16)n : 0;
	return sizeof(*rec) + rec->filename_size + rec->args_size;
}

/* Runs an iterator program whose output is a sequence of fixed-size records. */
static int run_iter(struct bpf_program *prog, size_t rec_size, bool fill,
		    void (*fn)(const void *rec, size_t size, void *ctx), void *ctx)
{
	static char buf[64 * TW_EXEC_REC_MAX];
	struct bpf_link *link;
	size_t have = 0;
	int fd, err = 0;

	link = bpf_program__attach_iter(prog, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out_link;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		for (; rec_size && have - off >= rec_size; off += rec_size) {
			union {
				struct tw_exec_rec exec;
				struct tw_sample_rec sample;
				char bytes[TW_EXEC_REC_MAX];
			} rec;
			size_t size = rec_size;

			memcpy(&rec, buf + off, rec_size);
			if (fill)
				size = fill_from_proc(&rec.exec);
			fn(&rec, size, ctx);
		}
		memmove(buf, buf + off, have - off);
		have = rec_size ? have - off : 0; /* an iterator that writes nothing */
	}
	close(fd);
out_link:
	bpf_link__destroy(link);
	return err;
}

int loader__dump_tasks(struct loader *l, void (*fn)(const void *rec, size_t size, void *ctx),
		       void *ctx)
{
	if (!l->enabled[PROBE_TASK_ITER])
		return -EOPNOTSUPP;
	return run_iter(l->skel->progs.dump_task, TW_EXEC_ITER_SIZE, true, fn, ctx);
}

int loader__reap(struct loader *l)
{
	if (!bpf_program__autoload(l->skel->progs.reap_task))
		return 0;
	return run_iter(l->skel->progs.reap_task, 0, false, NULL, NULL);
}

int loader__sample(struct loader *l, bool sockets,
		   void (*fn)(const void *rec, size_t size, void *ctx), void *ctx)
{
	if (!l->enabled[PROBE_SAMPLER])
		return -EOPNOTSUPP;
	/* charges live TCP sockets' bytes to their executions: the task samples read them */
	if (sockets && bpf_program__autoload(l->skel->progs.sample_tcp))
		run_iter(l->skel->progs.sample_tcp, 0, false, NULL, NULL);
	return run_iter(l->skel->progs.sample_task, sizeof(struct tw_sample_rec), false, fn, ctx);
}

/* Sums one entry of a per-CPU array of tw_log2_hist over all CPUs. */
static void read_log2(const struct loader *l, struct bpf_map *map, __u32 key, struct hist *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct tw_log2_hist *v, sum = {};

	if (ncpus <= 0)
		return;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return;
	if (!bpf_map__lookup_elem(map, &key, sizeof(key), v, (size_t)ncpus * sizeof(*v), 0)) {
		for (int c = 0; c < ncpus; c++) {
			for (int i = 0; i < TW_LOG2_SLOTS; i++)
				sum.slots[i] += v[c].slots[i];
			sum.count += v[c].count;
			sum.sum_ns += v[c].sum_ns;
		}
		hist__from_log2(out, &hist_latency_layout, (const uint64_t *)sum.slots,
				TW_LOG2_SLOTS, sum.count, sum.sum_ns);
	}
	free(v);
}

static uint64_t read_counter(const struct loader *l, __u32 key)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t total = 0;
	__u64 *v;

	if (ncpus <= 0)
		return 0;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return 0;
	if (!bpf_map__lookup_elem(l->skel->maps.host_counts, &key, sizeof(key), v,
				  (size_t)ncpus * sizeof(*v), 0))
		for (int c = 0; c < ncpus; c++)
			total += v[c];
	free(v);
	return total;
}

void loader__host(const struct loader *l, struct host_stats *h)
{
	int delayacct;

	if (l->enabled[PROBE_RUNQLAT])
		read_log2(l, l->skel->maps.runq_hist, 0, &h->runqueue);
	if (l->enabled[PROBE_BLOCKIO])
		for (__u32 op = 0; op < TW_BLOCK_MAX && op < HOST_BLOCK_OPS; op++)
			read_log2(l, l->skel->maps.block_hist, op, &h->block[op]);
	h->tcp_retransmits = read_counter(l, TW_HOST_TCP_RETRANSMITS);
	h->oom_kills = read_counter(l, TW_HOST_OOM_KILLS);
	delayacct = delayacct_read();
	h->delayacct_known = delayacct >= 0;
	h->delayacct = delayacct == 1;
	/* turned on or off by someone else meanwhile: the kernel programs follow */
	l->skel->bss->delayacct_on = h->delayacct;
}

void loader__exit_stats(const struct loader *l, struct exit_stats *out)
{
	out->timer = bpf_program__autoload(l->skel->progs.init_exit_timer) &&
		     l->skel->data->exit_timer_unready == 0;
	out->late = __atomic_load_n(&l->skel->bss->exits_late, __ATOMIC_RELAXED);
	out->unseen_switch = __atomic_load_n(&l->skel->bss->exits_unfreed, __ATOMIC_RELAXED);
	out->unslotted = __atomic_load_n(&l->skel->bss->exits_unslotted, __ATOMIC_RELAXED);
}

void loader__lost(const struct loader *l, uint64_t lost[TW_LOST_MAX])
{
	for (int i = 0; i < TW_LOST_MAX; i++)
		lost[i] = __atomic_load_n(&l->skel->bss->lost[i], __ATOMIC_RELAXED);
}

bool loader__exec_alive(const struct loader *l, uint32_t tgid, uint64_t start_ns)
{
	struct tw_exec_state st;

	if (bpf_map__lookup_elem(l->skel->maps.execs, &tgid, sizeof(tgid), &st, sizeof(st), 0))
		return false;
	return st.start_ns == start_ns;
}

unsigned int loader__prog_stats(const struct loader *l, struct snapshot_prog *out, unsigned int max)
{
	struct bpf_program *prog;
	unsigned int n = 0;

	bpf_object__for_each_program(prog, l->skel->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0 || n >= max || !bpf_program__autoload(prog))
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		out[n].name = bpf_program__name(prog);
		out[n].run_ns = info.run_time_ns;
		out[n].run_count = info.run_cnt;
		n++;
	}
	/* the exit slots' timer callback: the kernel does not count it, it measures itself */
	if (l->skel->rodata->timer_stats && n < max) {
		out[n].name = "exit_timer";
		out[n].run_ns = __atomic_load_n(&l->skel->bss->exit_timer_ns, __ATOMIC_RELAXED);
		out[n].run_count =
		    __atomic_load_n(&l->skel->bss->exit_timer_runs, __ATOMIC_RELAXED);
		n++;
	}
	return n;
}
