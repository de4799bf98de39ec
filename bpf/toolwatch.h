/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI between the kernel programs and the agent: ring-buffer records, their limits
 * and the indices of the drop counters. Fixed-width fields ordered so that no implicit
 * padding exists; no includes (the including side provides __u32 and friends).
 */
#ifndef TOOLWATCH_H
#define TOOLWATCH_H

#define TW_COMM_LEN 16
#define TW_PATH_LEN 256 /* executable path, NUL terminated, truncated */
#define TW_ARGS_LEN 512 /* first bytes of argv, NUL separated; power of two */

/* Every record starts with a __u32 type; the consumer switches on it. */
enum tw_record_type {
	TW_REC_EXEC = 1,      /* an execution started (or was found running) */
	TW_REC_EXIT = 2,      /* an execution ended */
	TW_REC_EXEC_FAIL = 3, /* a process gave up exec'ing: every attempt failed */
	TW_REC_SAMPLE = 4,    /* live usage of one task of a running execution (iterator) */
	TW_REC_NO_EXEC = 5,   /* a forked child exited 127 without trying to exec */
	TW_REC_MAX,
};

/* tw_exec_rec.flags / tw_exit_rec.flags */
enum tw_exec_flags {
	TW_F_PARTIAL = 1 << 0,	  /* running before the agent started: exec not observed */
	TW_F_REEXEC = 1 << 1,	  /* exec'd again: continued, renamed after the new image */
	TW_F_OOM_KILLED = 1 << 2, /* chosen as victim by the OOM killer */
	TW_F_ARGS_TRUNC = 1 << 3, /* argv longer than TW_ARGS_LEN */
	TW_F_NO_ARGS = 1 << 4,	  /* argv not copied: its naming does not read it */
};

/*
 * A key of argv_comms: a comm without its trailing digits and dots, zero padded
 * (tool__argv_key() in user/naming/tools.c; handle_exec builds the same).
 */
#define TW_ARGV_COMMS_MAX 64
struct tw_comm_key {
	char c[TW_COMM_LEN];
};

/*
 * A 256-bit filter in front of argv_comms: a key's bit (a multiplicative hash of its two
 * words), set for every key by the loader and tested by handle_exec, which looks a comm up
 * only when its bit is set.
 */
#define TW_ARGV_FILTER_WORDS 4
static inline __u32 tw_comm_key_bit(const struct tw_comm_key *k)
{
	__u64 w0, w1;

	__builtin_memcpy(&w0, k->c, sizeof(w0));
	__builtin_memcpy(&w1, k->c + sizeof(w0), sizeof(w1));
	return (__u32)(((w0 ^ (w1 * 0x9e3779b97f4a7c15ULL)) * 0x9e3779b97f4a7c15ULL) >> 56);
}

/* Indices into the kernel's lost[] counter array (reasons an event was dropped). */
enum tw_lost_reason {
	TW_LOST_RINGBUF_EXEC = 0, /* ring buffer full: exec record */
	TW_LOST_RINGBUF_EXIT,	  /* ring buffer full: exit record */
	TW_LOST_RINGBUF_FAIL,	  /* ring buffer full: exec-failure record */
	TW_LOST_EXECS_FULL,	  /* execs map full: execution not tracked */
	TW_LOST_PENDING_FULL,	  /* exec_pending map full: failed exec not tracked */
	TW_LOST_OWNERS_FULL,	  /* execs map full at a fork: forked child not rolled up */
	TW_LOST_BLOCK_FULL,	  /* block_start map full: an I/O not timed */
	TW_LOST_MAX,
};

/* Exit slots per possible CPU where exits wait for their task's last switch (BTF kernels). */
#define TW_EXIT_SLOTS_PER_CPU 64

/* Host histograms kept in the kernel: log2 slots of nanoseconds. */
#define TW_LOG2_SLOTS 40
struct tw_log2_hist {
	__u64 slots[TW_LOG2_SLOTS]; /* slot s counts values in [2^s, 2^(s+1)) ns; 0 also in 0 */
	__u64 count;
	__u64 sum_ns;
};

/* Index of the block I/O latency histograms (per-CPU array block_hist). */
enum tw_block_op {
	TW_BLOCK_READ = 0,
	TW_BLOCK_WRITE,
	TW_BLOCK_FLUSH,
	TW_BLOCK_DISCARD,
	TW_BLOCK_OTHER,
	TW_BLOCK_MAX,
};

/* Host counters (per-CPU array host_counts). */
enum tw_host_counter {
	TW_HOST_TCP_RETRANSMITS = 0,
	TW_HOST_OOM_KILLS,
	TW_HOST_MAX,
};

/*
 * An execution that started: this header, then filename_size bytes of the executable's
 * path (its NUL included) and args_size bytes of argv (NUL separated), back to back and
 * unpadded. A ring-buffer record is exactly sizeof(struct tw_exec_rec) + filename_size +
 * args_size bytes: only what was copied travels (docs/architecture.md, "Exec records").
 */
struct tw_exec_rec {
	__u32 type; /* TW_REC_EXEC */
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u64 cgroup_id;
	__u64 start_ns; /* CLOCK_MONOTONIC of the exec (fork time when TW_F_PARTIAL) */
	__u32 flags;
	__u16 filename_size; /* bytes of data[] holding the path, <= TW_PATH_LEN */
	__u16 args_size;     /* bytes of data[] after the path holding argv, <= TW_ARGS_LEN */
	char comm[TW_COMM_LEN];
	char data[]; /* filename, then args */
};

/* The largest exec record: the header with a full path and a full argv. */
#define TW_EXEC_REC_MAX (sizeof(struct tw_exec_rec) + TW_PATH_LEN + TW_ARGS_LEN)
/*
 * The task iterator (dump_task) writes records of this fixed size: the header and a
 * TW_PATH_LEN slot holding filename_size bytes of path, args_size 0 (the agent reads argv
 * from /proc and hands the consumer a sized record).
 */
#define TW_EXEC_ITER_SIZE (sizeof(struct tw_exec_rec) + TW_PATH_LEN)

/*
 * Resources consumed by one execution, its threads and its children that did not exec
 * (and those that did, until their exec). CPU time is the scheduler's exact run time,
 * split into user and system in the ratio of the kernel's tick-sampled utime/stime, as
 * getrusage(2) does. Disk bytes and wait times are summed over the same tasks, each
 * thread's own values added as it exits: never a reaped child's again.
 */
struct tw_usage {
	__u64 cpu_user_ns;
	__u64 cpu_system_ns;
	__u64 peak_rss_bytes; /* the largest resident set of any of its processes */
	__u64 net_tx_bytes;
	__u64 net_rx_bytes;
	__u64 disk_read_bytes;
	__u64 disk_write_bytes;
	__u32 tcp_connects;
	__u32 tcp_retransmits;
	__u64 runq_wait_ns;  /* runnable but waiting for a CPU (sched_info.run_delay) */
	__u64 blkio_wait_ns; /* waiting for block I/O (delays->blkio_delay; 0: accounting off) */
};

/* A thread group's own counters as the kernel keeps them (before the user/system split). */
struct tw_raw_usage {
	__u64 cpu_ns;	/* sum_exec_runtime */
	__u64 utime_ns; /* tick-sampled */
	__u64 stime_ns;
	__u64 read_bytes; /* per thread only (task->ioac): storage reads */
	__u64 write_bytes;
	__u64 runq_ns;	/* per thread only: exited threads are not folded into the group */
	__u64 blkio_ns; /* per thread only, and 0 while delay accounting is off */
};

/*
 * Value of the execs and execs_spill maps (tgid -> running execution, or a forked child's
 * owner); read by the agent to tell whether an execution still runs.
 */
struct tw_exec_state {
	__u32 tgid; /* whose entry this is (execs' slots: 0 while free) */
	__u32 uid;  /* its last exec's (or its own at the agent's start): its exit's */
	__u64 start_ns;
	__u32 flags;
	__u32 exiting;		  /* ended; kept until its exit record is emitted */
	struct tw_usage usage;	  /* exited children, network and TCP so far */
	struct tw_raw_usage base; /* the process's own counters at exec (subtracted) */
	__u64 reexec_peak_bytes;  /* BTF kernels: the image's peak RSS at its last execve call */
	__u32 owner;		  /* a forked child that has not exec'd: its owner's tgid; 0 */
	__u32 clock_synced;	  /* clock_off below was measured */
	__s64 clock_off;	  /* the rq clock offset base was read with (lib/usage.bpf.h) */
	__u64 cgroup_id; /* its last exec's (or its own at the agent's start): its exit's */
};

/*
 * Live usage of one task belonging to a running execution, written by the sampling
 * iterator: the agent sums the records of an execution. Thread-group leaders include
 * their group's exited threads' CPU time; the execution's own leader also includes usage
 * (minus base) from its tw_exec_state, so the sum equals what the exit record would say now.
 */
struct tw_sample_rec {
	__u32 type; /* TW_REC_SAMPLE */
	__u32 exec_tgid;
	__u64 start_ns;		 /* of the execution, to match it */
	__u64 rss_bytes;	 /* group leaders: resident set now; else 0 */
	struct tw_raw_usage raw; /* this task (leaders: + exited threads), leader: - base */
	struct tw_usage usage;	 /* execution leader only: its tw_exec_state usage */
	__u64 net_tx_bytes;	 /* this thread's socket bytes not yet folded into usage */
	__u64 net_rx_bytes;
	__u32 is_exec_leader;
	__u32 pad;
};

struct tw_exit_rec {
	__u32 type; /* TW_REC_EXIT */
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u64 cgroup_id;
	__u64 start_ns;	 /* as in the matching tw_exec_rec */
	__u64 end_ns;	 /* CLOCK_MONOTONIC */
	__u32 exit_code; /* wait(2) status: code << 8 | core 0x80 | signal */
	__u32 flags;
	char comm[TW_COMM_LEN];
	struct tw_usage usage;
};

struct tw_exec_fail_rec {
	__u32 type; /* TW_REC_EXEC_FAIL */
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u64 cgroup_id;
	__u64 ts_ns;	/* CLOCK_MONOTONIC of the last failed attempt */
	__s32 error;	/* positive errno of the attempt reported (EACCES beats ENOENT) */
	__u32 attempts; /* failed execve calls folded into this record (PATH search) */
	char comm[TW_COMM_LEN];
	char filename[TW_PATH_LEN];
};

/*
 * A forked child that never exec'd, tried no exec and exited with status 127: a shell's
 * "command not found" (the shell searched PATH itself and found nothing to exec).
 */
struct tw_no_exec_rec {
	__u32 type;  /* TW_REC_NO_EXEC */
	__u32 tgid;  /* the child */
	__u32 owner; /* the tgid of the execution it belongs to */
	__u32 uid;
	__u64 cgroup_id;
	__u64 owner_start_ns; /* start_ns of that execution */
	__u64 ts_ns;	      /* CLOCK_MONOTONIC of the exit */
	char comm[TW_COMM_LEN];
};

#endif /* TOOLWATCH_H */
