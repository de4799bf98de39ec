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
#include "kernel/loader_internal.h"

#define TRACEFS		"/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"

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
 * Exit slots (BTF kernels; 1 on raw tracepoints, which use none): TW_EXIT_SLOTS_PER_CPU per
 * possible CPU, CPU c's from c * TW_EXIT_SLOTS_PER_CPU.
 */
static __u32 exit_slots(bool btf)
{
	int ncpus = libbpf_num_possible_cpus();

	return btf ? TW_EXIT_SLOTS_PER_CPU * (__u32)(ncpus > 0 ? ncpus : 1) : 1;
}

/*
 * The exit slots each CPU uses, as bits: all TW_EXIT_SLOTS_PER_CPU; TOOLWATCH_EXIT_SLOTS=N
 * (tests, 0 to TW_EXIT_SLOTS_PER_CPU) makes it N: with 0 every exit waits in exits_pending.
 */
static __u64 exit_slot_bits(void)
{
	const char *env = getenv("TOOLWATCH_EXIT_SLOTS");
	int n = env && *env ? atoi(env) : -1;

	if (n < 0 || n >= TW_EXIT_SLOTS_PER_CPU)
		return ~0ULL;
	return (1ULL << n) - 1;
}

/*
 * Slots of the execs map: max_processes rounded up to a power of two (a process's slot is
 * its tgid masked). TOOLWATCH_EXECS_SLOTS=N (tests, a power of two) makes it N, which sends
 * most processes to execs_spill instead.
 */
static __u32 execs_slots(__u32 max_processes)
{
	const char *env = getenv("TOOLWATCH_EXECS_SLOTS");
	__u32 slots = 1;

	if (env && atoi(env) > 0 && !(atoi(env) & (atoi(env) - 1)))
		return (__u32)atoi(env);
	while (slots < max_processes && slots < (1u << 22))
		slots <<= 1;
	return slots;
}

/* CPUs with exit slots and a timer of their own */
static __u32 exit_timer_cpus(void)
{
	int ncpus = libbpf_num_possible_cpus();

	return ncpus > 0 ? (__u32)ncpus : 1;
}

static void configure(struct toolwatch_bpf *skel, const struct loader_config *cfg,
		      const bool want[PROBE_MAX], bool btf)
{
	__u32 slots, execs;
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
	for (size_t i = 0; cfg->argv_keys && i < cfg->nr_argv_keys && i < TW_ARGV_COMMS_MAX; i++) {
		__u32 bit = tw_comm_key_bit((const struct tw_comm_key *)cfg->argv_keys[i]);

		skel->rodata->argv_filter[bit >> 6] |= 1ULL << (bit & 63);
	}
	execs = execs_slots(cfg->max_processes);
	bpf_map__set_max_entries(skel->maps.execs, execs);
	skel->rodata->execs_mask = execs - 1;
	bpf_map__set_max_entries(skel->maps.execs_spill,
				 cfg->max_processes / 2 > 64 ? cfg->max_processes / 2 : 64);
	slots = exit_slots(btf);
	bpf_map__set_max_entries(skel->maps.exit_slots, slots);
	skel->rodata->slot_bits = exit_slot_bits();
	/* the exit queue's timer and one per CPU for its slots */
	bpf_map__set_max_entries(skel->maps.exit_timer, btf ? 1 + exit_timer_cpus() : 1);

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
int loader_delayacct_read(void)
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
	int now = loader_delayacct_read(), err;

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
	return loader_delayacct_read() == 1;
}

/*
 * Fills argv_comms from the config's keys; exec records then carry argv only where the
 * naming reads it. Without keys, or if one cannot be added, every record carries it.
 */
static void init_argv_comms(struct loader *l)
{
	const struct loader_config *cfg = &l->cfg;
	const __u8 yes = 1;
	size_t i;

	l->argv_selective = false;
	if (!cfg->argv_keys || !cfg->nr_argv_keys || cfg->nr_argv_keys > TW_ARGV_COMMS_MAX)
		goto all;
	for (i = 0; i < cfg->nr_argv_keys; i++) {
		if (bpf_map__update_elem(l->skel->maps.argv_comms, cfg->argv_keys[i], TW_COMM_LEN,
					 &yes, sizeof(yes), BPF_ANY)) {
			pr_warn("cannot fill argv_comms: %s; every exec record carries argv",
				strerror(errno));
			goto all;
		}
	}
	l->argv_selective = true;
all:
	loader__set_args_all(l, cfg->args_all);
}

void loader__set_args_all(struct loader *l, bool all)
{
	if (l && l->skel)
		__atomic_store_n(&l->skel->data->args_all, all || !l->argv_selective,
				 __ATOMIC_RELAXED);
}

/* Sets the exit timer up (see init_exit_timer in bpf/exit.bpf.c). */
static void init_exit_timer(struct loader *l)
{
	__u64 err;

	if (!bpf_program__autoload(l->skel->progs.init_exit_timer))
		return;
	if (loader_run_iter(l->skel->progs.init_exit_timer, 0, false, NULL, NULL))
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
	init_argv_comms(l);
	err = attach(l, btf);
	if (err)
		goto fail;
	init_exit_timer(l);
	if (l->enabled[PROBE_DELAYACCT])
		delayacct_start(l);
	l->skel->bss->delayacct_on = loader_delayacct_read() == 1;
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
