// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's "floor": empty programs on exactly the tracepoints the agent uses, so
 * that floor vs none is the price of the hooks themselves and agent vs floor is the price
 * of what the agent does in them. Keep this list equal to the agent's attach points in
 * bpf/ (the opt-in families' too: bench.py --skip's those the default leaves off);
 * tests/bench/bench.py compares both at run time and reports any difference.
 * Names are floor_ plus the agent's hook (ve: execve, vat: execveat), at most 15 characters
 * like the kernel's: bench.py matches the two by tracepoint, not by name.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/*
 * floor --ring: the exec's program also hands one 256-byte record to user space through a
 * ring buffer (no wakeup; floor consumes it every 10 ms), the least a design that reports
 * each execution pays beyond its hooks.
 */
const volatile bool ring_exec;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} floor_events SEC(".maps");

struct floor_rec {
	__u64 w[32];
};

/* executions */
SEC("tp_btf/sched_process_exec")
int floor_exec(void *ctx)
{
	struct floor_rec *rec;

	if (!ring_exec)
		return 0;
	rec = bpf_ringbuf_reserve(&floor_events, sizeof(*rec), 0);
	if (!rec)
		return 0;
	rec->w[0] = bpf_ktime_get_ns();
	rec->w[1] = bpf_get_current_pid_tgid();
	bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int floor_exit(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_process_free")
int floor_free(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_process_fork")
int floor_fork(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_prepare_exec")
int floor_preexec(void *ctx)
{
	return 0;
}

/* failed execs */
SEC("tp/syscalls/sys_enter_execve")
int floor_ve_enter(void *ctx)
{
	return 0;
}

SEC("tp/syscalls/sys_enter_execveat")
int floor_vat_enter(void *ctx)
{
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int floor_ve_exit(void *ctx)
{
	return 0;
}

SEC("tp/syscalls/sys_exit_execveat")
int floor_vat_exit(void *ctx)
{
	return 0;
}

/* network; sock_send_length/sock_recv_length only with --probe.enable=netcalls */
SEC("tp_btf/sock_send_length")
int floor_sock_tx(void *ctx)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int floor_sock_rx(void *ctx)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int floor_sk_state(void *ctx)
{
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int floor_retrans(void *ctx)
{
	return 0;
}

/* memory */
SEC("tp_btf/mark_victim")
int floor_oom_kill(void *ctx)
{
	return 0;
}

/* scheduler: only with --probe.enable=runqlat (bench.py --skip's them) */
SEC("tp_btf/sched_wakeup")
int floor_wakeup(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int floor_wake_new(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int floor_switch(void *ctx)
{
	return 0;
}

/* block I/O */
SEC("tp_btf/block_rq_issue")
int floor_rq_issue(void *ctx)
{
	return 0;
}

SEC("tp_btf/block_rq_complete")
int floor_rq_done(void *ctx)
{
	return 0;
}
