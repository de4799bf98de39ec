// SPDX-License-Identifier: GPL-2.0
/*
 * Network use per execution. Probe net: TCP payload bytes from the sockets' own counters,
 * charged at state changes (inet_sock_set_state) and by the sampler's iter/tcp. Probe
 * tcp: connections and retransmits. Probe netcalls (opt-in): payload of every other
 * socket call, per thread (sock_send_length, sock_recv_length).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "toolwatch.h"
#include "lib/maps.bpf.h"
#include "lib/state.bpf.h"
#include "lib/execs.bpf.h"

/*
 * A TCP socket seen opening, and the execution its bytes are charged to: the one that
 * connect()ed it, or for an accepted socket the one that first closes or shuts it down.
 */
struct sock_owner {
	__u64 tx; /* payload bytes charged so far */
	__u64 rx;
	__u64 start_ns; /* of the owning execution; 0: not known yet (accepted socket) */
	__u32 tgid;	/* the owning execution's tgid */
	__u32 active;	/* opened by connect(): its SYN is counted in bytes_acked */
};

/* struct sock address -> its owner; an entry lives from the open to TCP_CLOSE */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_owner);
} sock_owners SEC(".maps");

/* Hot paths read BTF-typed arguments directly (one load) instead of probe-reading. */
static __always_inline bool inet_family(struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	return family == 2 /* AF_INET */ || family == 10 /* AF_INET6 */;
}

#define IPPROTO_TCP 6

/* probe netcalls: what the TCP counters do not cover (all of it when probe net is off) */
static __always_inline bool netcall_counted(struct sock *sk)
{
	return inet_family(sk) && !(net_enabled && sk->sk_protocol == IPPROTO_TCP);
}

/* Socket payload bytes, summed in the kernel per execution (never one record per send). */
static __always_inline struct net_acc *current_net_acc(void)
{
	return bpf_task_storage_get(&net_accs, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(handle_sock_tx, struct sock *sk, int ret, int flags)
{
	struct net_acc *a;

	if (ret <= 0 || !netcall_counted(sk))
		return 0;
	a = current_net_acc();
	if (a)
		a->tx += (__u64)ret; /* the thread's own storage: it runs on one CPU at a time */
	return 0;
}

#define MSG_PEEK 2

SEC("tp_btf/sock_recv_length")
int BPF_PROG(handle_sock_rx, struct sock *sk, int ret, int flags)
{
	struct net_acc *a;

	/* peeked bytes are received again later: count them once */
	if (ret <= 0 || (flags & MSG_PEEK) || !netcall_counted(sk))
		return 0;
	a = current_net_acc();
	if (a)
		a->rx += (__u64)ret;
	return 0;
}

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3
#define TCP_FIN_WAIT1	4
#define TCP_FIN_WAIT2	5
#define TCP_TIME_WAIT	6
#define TCP_CLOSE	7
#define TCP_LAST_ACK	9
#define TCP_CLOSING	11
#define SOCK_DONE_BIT	1 /* enum sock_flags: a FIN was received */

/* our FIN is in write_seq (and in bytes_acked once acked) in these states */
static __always_inline bool fin_queued(int state)
{
	return state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING ||
	       state == TCP_LAST_ACK || state == TCP_TIME_WAIT;
}

/*
 * Charges what a TCP socket moved since its last charge to its owner's execution. Payload
 * written = bytes_acked + not yet acked (write_seq - snd_una) - SYN (active opens) - FIN;
 * received = bytes_received (in order, read or not) - FIN. state: the socket's state
 * before the change being traced (or now, from the iterator).
 */
static __always_inline void sock_charge(struct tcp_sock *tp, struct sock_owner *o, int state)
{
	__u64 tx = tp->bytes_acked + (__u32)(tp->write_seq - tp->snd_una);
	__u64 rx = tp->bytes_received, fix = o->active + fin_queued(state);
	struct tw_exec_state *st;

	tx = tx > fix ? tx - fix : 0;
	if ((tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags >> SOCK_DONE_BIT) & 1)
		rx = rx ? rx - 1 : 0;
	if (!o->start_ns)
		return;
	st = execs_get(o->tgid);
	if (!st || st->start_ns != o->start_ns)
		return; /* the execution has been emitted: the rest is not charged */
	if (tx > o->tx) {
		__sync_fetch_and_add(&st->usage.net_tx_bytes, tx - o->tx);
		o->tx = tx;
	}
	if (rx > o->rx) {
		__sync_fetch_and_add(&st->usage.net_rx_bytes, rx - o->rx);
		o->rx = rx;
	}
}

/*
 * TCP state changes: connect() (CLOSE -> SYN_SENT, in the caller) records the owner and
 * counts the connection; an accepted socket (SYN_RECV -> ESTABLISHED, in softirq) gets
 * its owner at the first close or shutdown (-> FIN_WAIT1 or LAST_ACK, in the caller);
 * every change charges the bytes so far, and TCP_CLOSE the last ones.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_sk_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct sock_owner fresh = {}, *o;
	struct tw_exec_state *st;
	struct tcp_sock *tp;
	__u64 key = (__u64)sk;
	__u32 tgid;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT) {
		st = exec_key_of(bpf_get_current_pid_tgid() >> 32, &tgid);
		if (!st)
			return 0;
		if (tcp_enabled)
			__sync_fetch_and_add(&st->usage.tcp_connects, 1);
		fresh.tgid = tgid;
		fresh.start_ns = st->start_ns;
		fresh.active = 1;
		bpf_map_update_elem(&sock_owners, &key, &fresh, BPF_ANY);
		return 0;
	}
	if (net_enabled && oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		bpf_map_update_elem(&sock_owners, &key, &fresh, BPF_NOEXIST);
		return 0;
	}
	o = bpf_map_lookup_elem(&sock_owners, &key);
	if (!o)
		return 0;
	if (net_enabled) {
		if (!o->start_ns && (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK)) {
			st = exec_key_of(bpf_get_current_pid_tgid() >> 32, &tgid);
			if (st) {
				o->tgid = tgid;
				o->start_ns = st->start_ns;
			}
		}
		tp = bpf_skc_to_tcp_sock((void *)sk);
		if (tp)
			sock_charge(tp, o, oldstate);
	}
	if (newstate == TCP_CLOSE)
		bpf_map_delete_elem(&sock_owners, &key);
	return 0;
}

/* Live TCP sockets (probe net with the sampler): charge their bytes so far. */
SEC("iter/tcp")
int sample_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct sock_owner *o;
	struct tcp_sock *tp;
	__u64 key;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	key = (__u64)tp;
	o = bpf_map_lookup_elem(&sock_owners, &key);
	if (o && o->start_ns)
		sock_charge(tp, o, skc->skc_state);
	return 0;
}

/* Retransmits run in softirq context: charge the socket's owning execution. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(handle_retrans, const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct tw_exec_state *st = NULL;
	struct sock_owner *o;

	map_percpu_inc(&host_counts, TW_HOST_TCP_RETRANSMITS);
	o = bpf_map_lookup_elem(&sock_owners, &key);
	if (o && o->start_ns)
		st = execs_get(o->tgid);
	if (st && st->start_ns == o->start_ns)
		__sync_fetch_and_add(&st->usage.tcp_retransmits, 1);
	return 0;
}
