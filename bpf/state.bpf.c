// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel side of toolwatch: one record per execution start, end and failed exec, with the
 * in-flight state in bounded maps. Built only on tracepoints (tp_btf with raw_tp
 * fallbacks for the sched events, tp/syscalls for failed execs) and task iterators.
 *
 * One file per probe family: exec and exit (probe exec), exec_failed, fork, net (probes
 * net, tcp, netcalls), oom, host (runqlat, blockio), iter (task_iter, sampler). Each is
 * compiled on its own and libbpf's static linker links them into one object, whose
 * skeleton the loader uses. This file has no programs: it defines the license, the maps
 * the families share (lib/state.bpf.h) and every tunable and counter of the skeleton's
 * rodata, bss and data. Helpers shared by several families are static inline functions
 * in lib/.
 */
#include "vmlinux.h"
#define TW_DEFINE_SHARED
#include "lib/state.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Filters (trace mode); zero means no filter. Set through rodata before load. */
const volatile __u32 targ_tgid = 0;
const volatile __u32 targ_ppid = 0;
const volatile bool targ_uid_set = false;
const volatile __u32 targ_uid = 0;
const volatile __u64 targ_cgroup_id = 0;
const volatile __u64 targ_min_duration_ns = 0;
const volatile bool targ_failed_only = false;
/* Wake the consumer only once this much data waits; it polls on a timer otherwise. */
const volatile __u64 wakeup_bytes = 0;
const volatile __u64 page_size = 4096;
/* BTF-typed tasks available: syscall tracepoints use bpf_get_current_task_btf() */
const volatile bool btf_tasks = false;
/* handle_preexec (sched_prepare_exec, Linux 6.10) notes the peak of an image an exec replaces */
const volatile bool prep_exec = false;
/* sched_switch also measures run-queue latency (probe runqlat, opt-in, BTF only) */
const volatile bool runqlat_enabled = false;
/* probe net: TCP bytes from the sockets' own counters (charged at state changes) */
const volatile bool net_enabled = true;
/* probe tcp: connections and retransmits per execution */
const volatile bool tcp_enabled = true;
/* probe netcalls (opt-in, BTF only): payload of every other socket call, per thread */
const volatile bool netcalls_enabled = false;
/* execs' entries - 1 (a power of two - 1): a process's slot is its tgid & execs_mask */
const volatile __u32 execs_mask = 32767;
/* the argv_comms keys' bits (tw_comm_key_bit()): a comm whose bit is clear is not a key */
const volatile __u64 argv_filter[TW_ARGV_FILTER_WORDS] = {};
/* the exit slots each CPU may use (bits; tests use fewer) */
const volatile __u64 slot_bits = ~0ULL;
/* the timer callback's own run time and runs (--bpf.stats): the kernel does not count it */
const volatile bool timer_stats = false;

/* Block I/O wait is read only while kernel.task_delayacct is on (the agent keeps it set). */
bool delayacct_on = false;

/*
 * Every exec record carries argv (trace, naming rules that read it); else only those
 * whose naming reads it (exec.bpf.c, argv_wanted()). Set by the agent at any time.
 */
bool args_all = true;

/*
 * Entries in exec_pending: the exec and exit paths look it up only while it holds any
 * (a lookup of an absent key still costs a cache miss or two on every execution).
 */
__s64 fails_pending = 0;

/*
 * Entries in execs_spill: lookups whose slot in execs holds another process look there
 * only while it holds any.
 */
__s64 execs_spilled = 0;

/*
 * CLOCK_MONOTONIC minus the scheduler's rq clock, measured where a runqueue's clock was just
 * updated (a new task's wakeup, fork.bpf.c); 0 in clock_synced until measured. Lets the
 * exec and exit paths read a running task's exact run time (lib/usage.bpf.h).
 */
__s64 clock_off = 0;
bool clock_synced = false;
__u64 clock_synced_jiffies = 0; /* the jiffy clock_off was last measured in */

/* Drop counters, read by the agent and exported; indexed by enum tw_lost_reason. */
__u64 lost[TW_LOST_MAX] = {};

/*
 * Raw tracepoints: exits emitted without their task's last switch having been seen (the
 * agent started mid-exit): at the next use of the task's address, or after
 * PENDING_EXPIRE_NS. Their last stretch of CPU is not counted.
 */
__u64 exits_unfreed = 0;

/* exits that found their CPU's exit slots busy and waited in exits_pending instead */
__u64 exits_unslotted = 0;

/*
 * Exits emitted with the run time they had so far: their task had not switched away for
 * good PENDING_EXPIRE_NS after its exit.
 */
__u64 exits_late = 0;
/* errno of the exit timer's set-up at load, 0 once set up (else the iterators' sweep emits) */
__u64 exit_timer_unready = 1;
/* the exit timer callback's run time and runs (with timer_stats) */
__u64 exit_timer_ns = 0;
__u64 exit_timer_runs = 0;
