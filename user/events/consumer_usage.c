// SPDX-License-Identifier: GPL-2.0
// Usage credited to the tools: the CPU split, the roll-up of ended executions, live samples.
#include <string.h>

#include "events/consumer.h"
#include "events/consumer_internal.h"

void cpu__split(uint64_t cpu_ns, uint64_t utime, uint64_t stime, uint64_t *user, uint64_t *system)
{
	if (!stime)
		*user = cpu_ns;
	else if (!utime)
		*user = 0;
	else
		*user = (uint64_t)((unsigned __int128)cpu_ns * utime /
				   ((unsigned __int128)utime + stime));
	*system = cpu_ns - *user;
}

uint64_t usage__other_ns(uint64_t duration_ns, const struct tw_usage *u, bool blkio)
{
	uint64_t parts[3] = {u->cpu_user_ns + u->cpu_system_ns, u->runq_wait_ns,
			     blkio ? u->blkio_wait_ns : 0};

	if (parts[0] < u->cpu_user_ns)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (parts[i] >= duration_ns)
			return 0;
		duration_ns -= parts[i];
	}
	return duration_ns;
}

void consumer_totals_from_usage(struct usage_totals *t, const struct tw_usage *u)
{
	t->cpu_ns[MODE_USER] = u->cpu_user_ns;
	t->cpu_ns[MODE_SYSTEM] = u->cpu_system_ns;
	t->net_bytes[DIR_TX] = u->net_tx_bytes;
	t->net_bytes[DIR_RX] = u->net_rx_bytes;
	t->disk_bytes[DIR_READ] = u->disk_read_bytes;
	t->disk_bytes[DIR_WRITE] = u->disk_write_bytes;
	t->tcp_connects = u->tcp_connects;
	t->tcp_retransmits = u->tcp_retransmits;
	t->wait_ns[WAIT_RUNQUEUE] = u->runq_wait_ns;
	t->wait_ns[WAIT_BLKIO] = u->blkio_wait_ns;
}

/* Adds to s what grew in now since done, and records it as done: counters never shrink. */
static void credit(struct tool_stats *s, const struct usage_totals *now, struct usage_totals *done)
{
#define CREDIT(field, dst)                                                                         \
	do {                                                                                       \
		if (now->field > done->field) {                                                    \
			(dst) += now->field - done->field;                                         \
			done->field = now->field;                                                  \
		}                                                                                  \
	} while (0)
	CREDIT(cpu_ns[MODE_USER], s->cpu_ns[MODE_USER]);
	CREDIT(cpu_ns[MODE_SYSTEM], s->cpu_ns[MODE_SYSTEM]);
	CREDIT(net_bytes[DIR_TX], s->net_bytes[DIR_TX]);
	CREDIT(net_bytes[DIR_RX], s->net_bytes[DIR_RX]);
	CREDIT(disk_bytes[DIR_READ], s->disk_bytes[DIR_READ]);
	CREDIT(disk_bytes[DIR_WRITE], s->disk_bytes[DIR_WRITE]);
	CREDIT(tcp_connects, s->tcp_connects);
	CREDIT(tcp_retransmits, s->tcp_retransmits);
	CREDIT(wait_ns[WAIT_RUNQUEUE], s->wait_ns[WAIT_RUNQUEUE]);
	CREDIT(wait_ns[WAIT_BLKIO], s->wait_ns[WAIT_BLKIO]);
#undef CREDIT
}

/* Counts one ended execution in s (NULL: nothing), crediting final beyond done. */
void consumer_account_end(struct tool_stats *s, const struct tw_exit_rec *rec,
			  const struct exec_event *ev, const struct usage_totals *final,
			  struct usage_totals *done)
{
	if (!s)
		return;
	s->executions++;
	if (ev->success)
		s->successes++;
	else
		s->failures[ev->error]++;
	if (ev->flags & TW_F_PARTIAL) {
		s->partial++;
	} else {
		uint64_t d = rec->end_ns > rec->start_ns ? rec->end_ns - rec->start_ns : 0;

		hist__add(&s->duration, &hist_duration_layout, d);
		native_hist__add(&s->duration_native, (double)d / 1e9);
		s->observed_executions++;
		s->observed_duration_ns += d;
		s->observed_cpu_ns += rec->usage.cpu_user_ns + rec->usage.cpu_system_ns;
		s->observed_wait_ns[WAIT_RUNQUEUE] += rec->usage.runq_wait_ns;
		s->observed_wait_ns[WAIT_BLKIO] += rec->usage.blkio_wait_ns;
	}
	if (rec->usage.peak_rss_bytes) {
		hist__add(&s->peak_memory, &hist_memory_layout, rec->usage.peak_rss_bytes);
		native_hist__add(&s->peak_memory_native, (double)rec->usage.peak_rss_bytes);
	}
	credit(s, final, done);
	s->cpu_ns_ended += rec->usage.cpu_user_ns + rec->usage.cpu_system_ns;
}

void consumer__begin_samples(struct consumer *c)
{
	for (size_t i = 0; i < c->cap; i++)
		memset(&c->slots[i].live, 0, sizeof(c->slots[i].live));
}

void consumer_handle_sample(struct consumer *c, const struct tw_sample_rec *rec)
{
	struct inflight *e = consumer_inflight_find(c, rec->exec_tgid);
	struct live *l;

	if (!e || e->start_ns != rec->start_ns)
		return; /* ended meanwhile: its exit record settles it */
	l = &e->live;
	l->seen = true;
	l->raw.cpu_ns += rec->raw.cpu_ns;
	l->raw.utime_ns += rec->raw.utime_ns;
	l->raw.stime_ns += rec->raw.stime_ns;
	l->raw.read_bytes += rec->raw.read_bytes;
	l->raw.write_bytes += rec->raw.write_bytes;
	l->raw.runq_ns += rec->raw.runq_ns;
	l->raw.blkio_ns += rec->raw.blkio_ns;
	l->rss_bytes += rec->rss_bytes;
	l->net_bytes[DIR_TX] += rec->net_tx_bytes;
	l->net_bytes[DIR_RX] += rec->net_rx_bytes;
	if (rec->is_exec_leader)
		l->usage = rec->usage;
}

void consumer__end_samples(struct consumer *c)
{
	struct registry *r = c->cfg.registry;

	registry__clear_memory(r);
	if (c->series)
		registry__clear_memory(c->series);
	for (size_t i = 0; i < c->cap; i++) {
		struct inflight *e = &c->slots[i];
		struct tool_stats *s;
		struct usage_totals now;
		uint64_t user, sys;

		if (!e->tgid || !e->live.seen)
			continue;
		s = registry__stats(r, e->tool_id);
		if (!s)
			continue;
		consumer_totals_from_usage(&now, &e->live.usage);
		cpu__split(e->live.raw.cpu_ns, e->live.raw.utime_ns, e->live.raw.stime_ns, &user,
			   &sys);
		now.cpu_ns[MODE_USER] += user;
		now.cpu_ns[MODE_SYSTEM] += sys;
		now.disk_bytes[DIR_READ] += e->live.raw.read_bytes;
		now.disk_bytes[DIR_WRITE] += e->live.raw.write_bytes;
		now.wait_ns[WAIT_RUNQUEUE] += e->live.raw.runq_ns;
		now.wait_ns[WAIT_BLKIO] += e->live.raw.blkio_ns;
		now.net_bytes[DIR_TX] += e->live.net_bytes[DIR_TX];
		now.net_bytes[DIR_RX] += e->live.net_bytes[DIR_RX];
		if (c->series) {
			struct tool_stats *ss = registry__stats(c->series, e->series_id);
			struct usage_totals series_done = e->credited;

			if (ss) {
				credit(ss, &now, &series_done);
				ss->memory_bytes += e->live.rss_bytes;
			}
		}
		credit(s, &now, &e->credited);
		s->memory_bytes += e->live.rss_bytes;
	}
}
