// SPDX-License-Identifier: GPL-2.0
/*
 * floor: loads floor.bpf.c (empty programs on the agent's tracepoints), attaches each
 * program on its own, prints one line per program and "ready", then waits for SIGINT or
 * SIGTERM. A program whose tracepoint this kernel lacks is reported and left out. With
 * --ring the exec's program outputs one record per execution, which floor consumes.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "floor.skel.h"

#define MAX_PROGS 64

static const char usage[] =
    "usage: floor [--stats] [--ring] [--skip TRACEPOINT]... [-v]\n"
    "\n"
    "Attaches empty BPF programs to the tracepoints toolwatch uses and waits for\n"
    "SIGINT/SIGTERM. Prints 'attached SECTION', 'missing SECTION', 'failed SECTION: ERR',\n"
    "then 'ready N/M'.\n"
    "\n"
    "  --stats  enable kernel BPF run-time statistics while running\n"
    "  --ring   output one 256-byte ring-buffer record per execution (consumed every\n"
    "           10 ms; printed as 'records N' at the end)\n"
    "  --skip   leave this tracepoint off, as the agent's defaults do\n"
    "  -v       show libbpf's messages\n"
    "\n"
    "EXAMPLES:\n"
    "  floor            # hold the floor until Ctrl-C\n"
    "  floor --stats    # then: bpftool prog show\n";

static bool verbose;
static unsigned long long records;

static int count_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	records++;
	return 0;
}

#define MAX_SKIPS 16
static const char *skips[MAX_SKIPS];
static int nr_skips;

/* Is the program's tracepoint one the agent leaves off by default (--skip NAME)? */
static bool skipped(const char *sec)
{
	const char *tp = strrchr(sec, '/');

	tp = tp ? tp + 1 : sec;
	for (int i = 0; i < nr_skips; i++)
		if (!strcmp(tp, skips[i]))
			return true;
	return false;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Does this kernel have the tracepoint a program's section names? */
static bool target_exists(const struct btf *vmlinux, const char *sec)
{
	char name[256];
	const char *tp;

	if (!strncmp(sec, "tp_btf/", 7)) {
		snprintf(name, sizeof(name), "btf_trace_%s", sec + 7);
		return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
	}
	if (!strncmp(sec, "tp/", 3)) {
		tp = sec + 3;
		snprintf(name, sizeof(name), "/sys/kernel/tracing/events/%s", tp);
		if (!access(name, F_OK))
			return true;
		snprintf(name, sizeof(name), "/sys/kernel/debug/tracing/events/%s", tp);
		return !access(name, F_OK);
	}
	return true;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[MAX_PROGS] = {};
	struct floor_bpf *skel = NULL;
	struct btf *vmlinux = NULL;
	struct ring_buffer *ring = NULL;
	struct bpf_program *prog;
	int err = 0, stats_fd = -1, sig, total = 0, attached = 0, n = 0;
	bool ring_exec = false;
	sigset_t mask;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stats")) {
			stats_fd = -2;
		} else if (!strcmp(argv[i], "--skip") && i + 1 < argc && nr_skips < MAX_SKIPS) {
			skips[nr_skips++] = argv[++i];
		} else if (!strcmp(argv[i], "--ring")) {
			ring_exec = true;
		} else if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "floor: unexpected argument '%s'\n%s", argv[i], usage);
			return 2;
		}
	}
	libbpf_set_print(libbpf_print);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if (stats_fd == -2) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			err = -errno;
			fprintf(stderr, "floor: cannot enable BPF statistics: %s\n",
				strerror(errno));
			goto cleanup;
		}
	}
	skel = floor_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "floor: cannot open skeleton: %s\n", strerror(errno));
		goto cleanup;
	}
	skel->rodata->ring_exec = ring_exec;
	vmlinux = btf__load_vmlinux_btf();
	bpf_object__for_each_program(prog, skel->obj)
	{
		total++;
		if (skipped(bpf_program__section_name(prog))) {
			printf("skipped %s\n", bpf_program__section_name(prog));
			bpf_program__set_autoload(prog, false);
		} else if (!target_exists(vmlinux, bpf_program__section_name(prog))) {
			printf("missing %s\n", bpf_program__section_name(prog));
			bpf_program__set_autoload(prog, false);
		}
	}
	err = floor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "floor: cannot load programs: %s\n", strerror(-err));
		goto cleanup;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		if (!bpf_program__autoload(prog) || n >= MAX_PROGS)
			continue;
		links[n] = bpf_program__attach(prog);
		if (!links[n]) {
			printf("failed %s: %s\n", bpf_program__section_name(prog), strerror(errno));
			continue;
		}
		printf("attached %s\n", bpf_program__section_name(prog));
		attached++;
		n++;
	}
	if (ring_exec) {
		ring = ring_buffer__new(bpf_map__fd(skel->maps.floor_events), count_record, NULL,
					NULL);
		if (!ring) {
			err = -errno;
			fprintf(stderr, "floor: cannot open the ring buffer: %s\n",
				strerror(errno));
			goto cleanup;
		}
	}
	printf("ready %d/%d\n", attached, total);
	fflush(stdout);

	if (ring) {
		struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};

		do
			ring_buffer__consume(ring);
		while (sigtimedwait(&mask, NULL, &tick) < 0);
		ring_buffer__consume(ring);
		printf("records %llu\n", records);
	} else {
		sigwait(&mask, &sig);
	}
cleanup:
	ring_buffer__free(ring);
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	floor_bpf__destroy(skel);
	btf__free(vmlinux);
	if (stats_fd >= 0)
		close(stats_fd);
	return err ? 1 : 0;
}
