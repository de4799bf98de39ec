// SPDX-License-Identifier: GPL-2.0
/* trace --json: an execution event as one JSON Lines object, and its shared members. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/json.h"
#include "identity/identity.h"
#include "trace/trace_format.h"
#include "trace/trace_format_internal.h"

void trace_format__json_time(struct json_object *w, const char *key, bool known, uint64_t wall_ns)
{
	char buf[40];

	if (!known) {
		json_object__string(w, key, NULL);
		return;
	}
	trace_format__utc_time(buf, sizeof(buf), wall_ns);
	json_object__string(w, key, buf);
}

/* argv as an array of strings split at NULs; a last word without its NUL is kept. */
static void json_argv(struct json_object *w, const char *args, size_t len)
{
	size_t p = 0;

	json_object__key(w, "argv");
	if (!args) {
		strbuf__puts(w->sb, "null");
		return;
	}
	strbuf__putc(w->sb, '[');
	while (p < len) {
		const char *nul = memchr(args + p, '\0', len - p);
		size_t end = nul ? (size_t)(nul - args) : len;

		if (p)
			strbuf__putc(w->sb, ',');
		json__append_string(w->sb, args + p, end - p);
		p = end + 1;
	}
	strbuf__putc(w->sb, ']');
}

/* The usage figures of JSON objects, in their order, but for the 32-bit TCP counters. */
static const struct usage_member {
	const char *key; /* NULL: the peak RSS, named by the caller */
	unsigned int what;
	size_t offset;
} usage_members[] = {
    {NULL, TRACE_MEASURE_MEMORY, offsetof(struct tw_usage, peak_rss_bytes)},
    {"cpu_user_ns", TRACE_MEASURE_CPU, offsetof(struct tw_usage, cpu_user_ns)},
    {"cpu_system_ns", TRACE_MEASURE_CPU, offsetof(struct tw_usage, cpu_system_ns)},
    {"net_tx_bytes", TRACE_MEASURE_NET, offsetof(struct tw_usage, net_tx_bytes)},
    {"net_rx_bytes", TRACE_MEASURE_NET, offsetof(struct tw_usage, net_rx_bytes)},
    {"disk_read_bytes", TRACE_MEASURE_DISK, offsetof(struct tw_usage, disk_read_bytes)},
    {"disk_write_bytes", TRACE_MEASURE_DISK, offsetof(struct tw_usage, disk_write_bytes)},
};

void trace_format__json_usage(struct json_object *o, const struct tw_usage *u,
			      unsigned int measured, const char *rss_key, bool tcp)
{
	static const struct tw_usage none;
	bool m;

	if (!u) {
		u = &none;
		measured = 0;
	}
	for (size_t i = 0; i < sizeof(usage_members) / sizeof(usage_members[0]); i++) {
		const struct usage_member *f = &usage_members[i];
		uint64_t v;

		memcpy(&v, (const char *)u + f->offset, sizeof(v));
		json_object__u64_or_null(o, f->key ? f->key : rss_key, measured & f->what, v);
	}
	if (!tcp)
		return;
	m = measured & TRACE_MEASURE_TCP;
	json_object__u64_or_null(o, "tcp_connects", m, u->tcp_connects);
	json_object__u64_or_null(o, "tcp_retransmits", m, u->tcp_retransmits);
}

/* Where the time went: run-queue and block I/O wait, and the rest off the CPU. */
static void json_waits(struct json_object *w, const struct exec_event *ev)
{
	const struct tw_usage *u = trace_format__end_usage(ev);
	bool timed = u && trace_format__has_duration(ev);

	json_object__u64_or_null(w, "runq_wait_ns", u, u ? u->runq_wait_ns : 0);
	json_object__u64_or_null(w, "blkio_wait_ns", u && ev->blkio, u ? u->blkio_wait_ns : 0);
	json_object__u64_or_null(w, "other_ns", timed,
				 timed ? usage__other_ns(ev->end_ns - ev->start_ns, u, ev->blkio)
				       : 0);
}

void trace_format__json(struct strbuf *sb, const struct trace_layout *l,
			const struct trace_clock *c, const struct exec_event *ev)
{
	struct json_object w;
	bool end = ev->kind != EXEC_EVENT_START, signalled, exited;
	bool args_cut = ev->flags & TW_F_ARGS_TRUNC;
	size_t args_len = ev->args ? ev->args_size : 0;
	char status[64], tmp[32];

	if (l->max_args)
		args_len = trace_format__argv_shown(ev, l->max_args, false, &args_cut);

	json_object__begin(&w, sb);
	trace_format__json_time(&w, "time", true,
				trace_clock__wall_ns(c, trace_format__event_ns(ev)));
	json_object__string(&w, "event", end ? "exit" : "exec");
	json_object__visible(&w, "tool", ev->tool);
	json_object__string(&w, "comm", ev->comm);
	json_object__u64(&w, "pid", ev->tgid);
	json_object__u64(&w, "ppid", ev->ppid);
	json_object__u64(&w, "uid", ev->uid);
	json_object__u64(&w, "cgroup_id", ev->cgroup_id);
	json_object__string(&w, "container_id", ev->identity ? ev->identity->container_id : "");
	json_object__string(&w, "pod_uid", ev->identity ? ev->identity->pod_uid : "");
	if (ev->names) {
		json_object__visible(&w, "namespace", ev->names->namespace_);
		json_object__visible(&w, "pod", ev->names->pod);
		json_object__visible(&w, "container", ev->names->container);
	}
	if (end) {
		bool timed = trace_format__has_duration(ev);

		trace_format__json_time(&w, "start_time", ev->kind == EXEC_EVENT_END,
					trace_clock__wall_ns(c, ev->start_ns));
		json_object__u64_or_null(&w, "duration_ns", timed,
					 timed ? ev->end_ns - ev->start_ns : 0);
		trace_format__status(status, sizeof(status), ev);
		json_object__string(&w, "status", trace_format__status_kind(ev));
		json_object__string(&w, "status_text", status);
		exited = ev->kind == EXEC_EVENT_END && !(ev->status & 0x7f);
		signalled = ev->kind == EXEC_EVENT_END && (ev->status & 0x7f);
		json_object__u64_or_null(&w, "exit_code", exited, (ev->status >> 8) & 0xff);
		json_object__string(&w, "signal",
				    signalled ? trace_format__signal_name((int)(ev->status & 0x7f),
									  tmp, sizeof(tmp))
					      : NULL);
		json_object__bool(&w, "core_dumped", signalled && (ev->status & 0x80));
		json_object__string(&w, "error",
				    ev->kind == EXEC_EVENT_FAIL
					? trace_format__errno_name(ev->exec_errno, tmp, sizeof(tmp))
					: NULL);
		json_object__u64_or_null(&w, "wait_status", ev->kind == EXEC_EVENT_END, ev->status);
		json_object__bool(&w, "reexec", ev->flags & TW_F_REEXEC);
		json_object__key(&w, "via"); /* the earlier images of a re-exec'd execution */
		strbuf__putc(w.sb, '[');
		for (unsigned int i = 0; i < ev->via_count; i++) {
			if (i)
				strbuf__putc(w.sb, ',');
			json__append_string(w.sb, ev->via[i], strlen(ev->via[i]));
		}
		strbuf__putc(w.sb, ']');
		trace_format__json_usage(&w, trace_format__end_usage(ev), l->measured,
					 "peak_rss_bytes", true);
		json_waits(&w, ev);
	}
	json_object__string(&w, "filename", ev->filename && ev->filename[0] ? ev->filename : NULL);
	json_argv(&w, ev->args, ev->args ? args_len : 0);
	json_object__bool(&w, "argv_truncated", args_cut);
	json_object__bool(&w, "partial", ev->flags & TW_F_PARTIAL);
	json_object__end(&w);
	strbuf__putc(sb, '\n');
}
