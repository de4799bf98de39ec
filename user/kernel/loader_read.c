// SPDX-License-Identifier: GPL-2.0
// The loader's reads: its iterators (task dump, reap, samples) and the maps read back.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/loader.h"
#include "toolwatch.skel.h"
#include "kernel/loader_internal.h"

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
int loader_run_iter(struct bpf_program *prog, size_t rec_size, bool fill,
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
	return loader_run_iter(l->skel->progs.dump_task, TW_EXEC_ITER_SIZE, true, fn, ctx);
}

int loader__reap(struct loader *l)
{
	if (!bpf_program__autoload(l->skel->progs.reap_task))
		return 0;
	return loader_run_iter(l->skel->progs.reap_task, 0, false, NULL, NULL);
}

int loader__sample(struct loader *l, bool sockets,
		   void (*fn)(const void *rec, size_t size, void *ctx), void *ctx)
{
	if (!l->enabled[PROBE_SAMPLER])
		return -EOPNOTSUPP;
	/* charges live TCP sockets' bytes to their executions: the task samples read them */
	if (sockets && bpf_program__autoload(l->skel->progs.sample_tcp))
		loader_run_iter(l->skel->progs.sample_tcp, 0, false, NULL, NULL);
	return loader_run_iter(l->skel->progs.sample_task, sizeof(struct tw_sample_rec), false, fn,
			       ctx);
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
	delayacct = loader_delayacct_read();
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
	out->execs_spilled = __atomic_load_n(&l->skel->bss->execs_spilled, __ATOMIC_RELAXED);
}

void loader__lost(const struct loader *l, uint64_t lost[TW_LOST_MAX])
{
	for (int i = 0; i < TW_LOST_MAX; i++)
		lost[i] = __atomic_load_n(&l->skel->bss->lost[i], __ATOMIC_RELAXED);
}

bool loader__exec_alive(const struct loader *l, uint32_t tgid, uint64_t start_ns)
{
	__u32 slot = tgid & l->skel->rodata->execs_mask;
	struct tw_exec_state st;

	if (!bpf_map__lookup_elem(l->skel->maps.execs, &slot, sizeof(slot), &st, sizeof(st), 0) &&
	    st.tgid == tgid)
		return st.start_ns == start_ns;
	if (bpf_map__lookup_elem(l->skel->maps.execs_spill, &tgid, sizeof(tgid), &st, sizeof(st),
				 0))
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
