// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events/consumer.h"
#include "identity/identity.h"
#include "lib/log.h"
#include "naming/rules.h"
#include "naming/tools.h"
#include "events/consumer_internal.h"

#define INITIAL_SLOTS 1024

static size_t slot_of(const struct consumer *c, uint32_t tgid)
{
	return (size_t)((tgid * 0x9E3779B1u) & (c->cap - 1));
}

struct inflight *consumer_inflight_find(struct consumer *c, uint32_t tgid)
{
	for (size_t i = slot_of(c, tgid);; i = (i + 1) & (c->cap - 1)) {
		if (c->slots[i].tgid == tgid)
			return &c->slots[i];
		if (!c->slots[i].tgid)
			return NULL;
	}
}

static int inflight_grow(struct consumer *c)
{
	struct inflight *old = c->slots;
	size_t old_cap = c->cap;

	c->slots = calloc(old_cap * 2, sizeof(*c->slots));
	if (!c->slots) {
		c->slots = old;
		return -ENOMEM;
	}
	c->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (!old[i].tgid)
			continue;
		for (j = slot_of(c, old[i].tgid); c->slots[j].tgid; j = (j + 1) & (c->cap - 1))
			;
		c->slots[j] = old[i];
	}
	free(old);
	return 0;
}

/* Returns an empty entry for tgid (which must not be present), or NULL. */
static struct inflight *inflight_insert(struct consumer *c, uint32_t tgid)
{
	size_t i;

	if ((c->used + 1) * 2 > c->cap && inflight_grow(c))
		return NULL;
	for (i = slot_of(c, tgid); c->slots[i].tgid; i = (i + 1) & (c->cap - 1))
		;
	memset(&c->slots[i], 0, sizeof(c->slots[i]));
	c->slots[i].tgid = tgid;
	c->used++;
	return &c->slots[i];
}

/* Removes e by backward-shift deletion, keeping probe chains intact. */
/* Frees what an entry owns. */
static void inflight_free(struct inflight *e)
{
	free(e->path);
	free(e->args);
	for (unsigned int k = 0; k < e->via_count; k++)
		free(e->via[k]);
}

static void inflight_remove(struct consumer *c, struct inflight *e)
{
	size_t i = (size_t)(e - c->slots), j = i;

	inflight_free(e);
	for (;;) {
		size_t home;

		j = (j + 1) & (c->cap - 1);
		if (!c->slots[j].tgid)
			break;
		home = slot_of(c, c->slots[j].tgid);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			c->slots[i] = c->slots[j];
			i = j;
		}
	}
	memset(&c->slots[i], 0, sizeof(c->slots[i]));
	c->used--;
}

struct consumer *consumer__new(const struct consumer_config *cfg)
{
	struct consumer *c;

	if (!cfg->registry) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->cap = INITIAL_SLOTS;
	c->slots = calloc(c->cap, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	return c;
}

void consumer__free(struct consumer *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		inflight_free(&c->slots[i]);
	free(c->slots);
	free(c);
}

void consumer__set_rules(struct consumer *c, struct rules *rules,
			 const char *(*username)(uint32_t uid, void *ctx), void *ctx)
{
	c->rules = rules;
	c->username = username;
	c->username_ctx = ctx;
}

void consumer__set_series(struct consumer *c, struct registry *series, consumer_labels_fn labels,
			  void *ctx)
{
	c->series = series;
	c->labels = labels;
	c->labels_ctx = ctx;
}

/* The series of tool id in the cgroup, 0 ("other") when it is "other" or untracked. */
static unsigned int series_id(struct consumer *c, unsigned int tool_id, uint64_t cgroup_id,
			      uint32_t tgid)
{
	static const struct identity_labels none;
	const struct identity_labels *l;
	const char *name;
	char key[IDENTITY_LABELS * IDENTITY_NAME_MAX + TOOL_NAME_MAX];

	if (!c->series || tool_id == TOOL_OTHER_ID)
		return TOOL_OTHER_ID;
	name = tool_table__name(registry__tools(c->cfg.registry), tool_id);
	l = c->labels ? c->labels(cgroup_id, tgid, c->labels_ctx) : NULL;
	if (!name || !identity__key(l ? l : &none, name, key, sizeof(key)))
		return TOOL_OTHER_ID;
	return registry__tool_id(c->series, key);
}

/* The series' stats of id, NULL without series. */
static struct tool_stats *series_stats(struct consumer *c, unsigned int id)
{
	return c->series ? registry__stats(c->series, id) : NULL;
}

void consumer__set_normalize(struct consumer *c, bool normalize)
{
	c->normalize = normalize;
}

/* The id of a tool name, normalised first when asked to. */
static unsigned int tool_id(struct consumer *c, char *name)
{
	if (c->normalize)
		tool__normalize(name);
	return registry__tool_id(c->cfg.registry, name);
}

size_t consumer__inflight(const struct consumer *c)
{
	return c->used;
}

/*
 * Names by the rules an execution the kernel told only part of (a failed exec, an exit
 * whose exec record was lost): true and name set when a rule matched.
 */
static bool name_by_rules(struct consumer *c, const char *comm, const char *args, size_t args_size,
			  uint32_t uid, char *name, size_t name_size)
{
	return c->rules && rules__name(c->rules,
				       &(struct rules_process){.comm = comm,
							       .args = args,
							       .args_size = args_size,
							       .uid = uid,
							       .username = c->username,
							       .ctx = c->username_ctx},
				       name, name_size);
}

/* Copies a fixed-size kernel string into a NUL-terminated buffer. */
static void copy_str(char *dst, size_t dst_size, const char *src, size_t src_size)
{
	size_t n = strnlen(src, src_size);

	if (n >= dst_size)
		n = dst_size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void emit(struct consumer *c, const struct exec_event *ev)
{
	if (c->cfg.sink)
		c->cfg.sink(ev, c->cfg.sink_ctx);
}

/* Ends e (if any) without an exit record: e.g. its exit was lost before a new exec. */
static void drop_running(struct consumer *c, struct inflight *e)
{
	registry__agent(c->cfg.registry)->exits_lost++;
	registry__stopped(c->cfg.registry, e->tool_id);
	if (c->series)
		registry__stopped(c->series, e->series_id);
	inflight_remove(c, e);
}

/* The kind, the tool name and the fields every record type shares, copied into ev. */
#define event_init(ev, k, r, rec)                                                                  \
	do {                                                                                       \
		(ev)->kind = (k);                                                                  \
		(ev)->tool = tool_table__name(registry__tools(r), (ev)->tool_id);                  \
		(ev)->tgid = (rec)->tgid;                                                          \
		(ev)->ppid = (rec)->ppid;                                                          \
		(ev)->uid = (rec)->uid;                                                            \
		(ev)->cgroup_id = (rec)->cgroup_id;                                                \
	} while (0)

/* Whether an exec record's variable parts fill exactly its size and stay in their limits. */
static bool exec_rec_valid(const struct tw_exec_rec *rec, size_t size)
{
	return rec->filename_size <= TW_PATH_LEN && rec->args_size <= TW_ARGS_LEN &&
	       size == sizeof(*rec) + rec->filename_size + rec->args_size;
}

/* Whether an image runs a shell: argv[0] (a login shell's "-" aside) or its path names one. */
static bool runs_shell(const char *path, const char *args, size_t args_size)
{
	char argv0[TW_COMM_LEN + 1];
	const char *base = args ? memchr(args, '\0', args_size) : NULL;
	const char *slash = strrchr(path, '/');
	size_t n;

	if (tool__is_shell(slash ? slash + 1 : path))
		return true;
	if (!base)
		return false;
	n = (size_t)(base - args);
	for (size_t i = 0; i < n; i++) {
		if (args[i] == '/') { /* the basename starts after the last slash */
			args += i + 1;
			n -= i + 1;
			i = (size_t)-1;
		}
	}
	if (n && args[0] == '-') {
		args++;
		n--;
	}
	if (!n || n > TW_COMM_LEN)
		return false;
	memcpy(argv0, args, n);
	argv0[n] = '\0';
	return tool__is_shell(argv0);
}

/* Remembers what an entry ran (trace mode): its path and argv. */
static void inflight_keep_args(struct inflight *e, const char *path, const char *args,
			       size_t args_size)
{
	free(e->path);
	free(e->args);
	e->path = strdup(path);
	e->args = args_size ? malloc(args_size) : NULL;
	e->args_size = 0;
	if (e->args) {
		memcpy(e->args, args, args_size);
		e->args_size = args_size;
	}
}

/*
 * A running execution exec'd again: it continues under the tool id of its new image, in
 * the series of the cgroup that exec ran in. What was credited to the earlier tool and
 * series stays there; the rest goes to the new ones.
 */
static void execution_rename(struct consumer *c, struct inflight *e, unsigned int id,
			     const struct tw_exec_rec *rec, const char *path, const char *args,
			     size_t args_size)
{
	struct registry *r = c->cfg.registry;
	const char *old;

	if (c->cfg.keep_args) {
		old = tool_table__name(registry__tools(r), e->tool_id);
		if (e->via_count < EXEC_VIA_MAX)
			e->via[e->via_count] = strdup(old ? old : "");
		if (e->via_count < EXEC_VIA_MAX && e->via[e->via_count])
			e->via_count++;
		inflight_keep_args(e, path, args, args_size);
	}
	e->flags = rec->flags;
	e->shell = runs_shell(path, args, args_size);
	if (id != e->tool_id) {
		registry__stopped(r, e->tool_id);
		registry__started(r, id);
		e->tool_id = id;
	}
	if (c->series) {
		unsigned int sid = series_id(c, id, rec->cgroup_id, rec->tgid);

		if (sid != e->series_id) {
			registry__stopped(c->series, e->series_id);
			registry__started(c->series, sid);
			e->series_id = sid;
		}
	}
}

/* Counts the naming regexes that hit a bound; each reason is logged once. */
static void count_match_errors(struct consumer *c, struct agent_stats *a)
{
	uint64_t fresh[RULES_MATCH_ERROR_MAX] = {};

	rules__take_match_errors(c->rules, fresh);
	for (int e = 0; e < RULES_MATCH_ERROR_MAX; e++) {
		if (!fresh[e])
			continue;
		a->rules_match_errors[e] += fresh[e];
		if (c->match_error_logged[e])
			continue;
		c->match_error_logged[e] = true;
		pr_warn("naming rules: cmdline regex '%s' failed (%s) on an execution's argv; it "
			"counts as no match (toolwatch_rules_match_errors_total, logged once)",
			rules__failed_regex(c->rules), rules_match_error__name(e));
	}
}

static void handle_exec(struct consumer *c, const struct tw_exec_rec *rec)
{
	struct registry *r = c->cfg.registry;
	char comm[TW_COMM_LEN + 1], path[TW_PATH_LEN + 1], name[TOOL_NAME_MAX];
	size_t args_size = rec->args_size;
	const char *args = rec->data + rec->filename_size;
	struct inflight *e;
	struct exec_event ev = {};

	registry__agent(r)->events_exec++;
	copy_str(comm, sizeof(comm), rec->comm, sizeof(rec->comm));
	copy_str(path, sizeof(path), rec->data, rec->filename_size);
	if (!c->rules || !rules__name(c->rules,
				      &(struct rules_process){.comm = comm,
							      .args = args,
							      .args_size = args_size,
							      .uid = rec->uid,
							      .username = c->username,
							      .ctx = c->username_ctx},
				      name, sizeof(name)))
		tool__name(path, comm, args, args_size, name, sizeof(name));
	if (c->rules)
		count_match_errors(c, registry__agent(r));

	ev.tool_id = tool_id(c, name);
	e = consumer_inflight_find(c, rec->tgid);
	if (e && (rec->flags & TW_F_REEXEC) && e->start_ns == rec->start_ns) {
		/* the same execution, renamed after the image it runs now */
		execution_rename(c, e, ev.tool_id, rec, path, args, args_size);
		e = NULL;
	} else {
		if (e)
			drop_running(c, e);
		e = inflight_insert(c, rec->tgid);
	}
	if (e) {
		e->tool_id = ev.tool_id;
		e->start_ns = rec->start_ns;
		e->flags = rec->flags;
		e->shell = runs_shell(path, args, args_size);
		if (c->cfg.keep_args)
			inflight_keep_args(e, path, args, args_size);
		registry__started(r, e->tool_id);
		if (c->series) {
			e->series_id = series_id(c, e->tool_id, rec->cgroup_id, rec->tgid);
			registry__started(c->series, e->series_id);
		}
	}

	event_init(&ev, EXEC_EVENT_START, r, rec);
	ev.start_ns = rec->start_ns;
	ev.flags = rec->flags;
	ev.success = true;
	ev.comm = comm;
	ev.filename = path;
	ev.args = args;
	ev.args_size = args_size;
	emit(c, &ev);
}

static void handle_exit(struct consumer *c, const struct tw_exit_rec *rec)
{
	struct registry *r = c->cfg.registry;
	char comm[TW_COMM_LEN + 1], name[TOOL_NAME_MAX];
	struct usage_totals none = {}, final;
	struct usage_totals *credited = &none;
	struct exec_event ev = {};
	struct tool_stats *s;
	struct inflight *e;

	registry__agent(r)->events_exit++;
	copy_str(comm, sizeof(comm), rec->comm, sizeof(rec->comm));
	e = consumer_inflight_find(c, rec->tgid);
	if (e && e->start_ns != rec->start_ns) {
		/* a stale entry: that execution's exit was lost */
		drop_running(c, e);
		e = NULL;
	}
	if (e) {
		ev.tool_id = e->tool_id;
		credited = &e->credited;
	} else {
		registry__agent(r)->exits_unmatched++;
		if (!name_by_rules(c, comm, NULL, 0, rec->uid, name, sizeof(name)))
			tool__name("", comm, NULL, 0, name, sizeof(name));
		ev.tool_id = tool_id(c, name);
	}

	s = registry__stats(r, ev.tool_id);
	event_init(&ev, EXEC_EVENT_END, r, rec);
	ev.start_ns = rec->start_ns;
	ev.end_ns = rec->end_ns;
	ev.status = rec->exit_code;
	ev.flags = rec->flags | (e ? e->flags : 0);
	ev.success = execution__classify(rec->exit_code, ev.flags, &ev.error);
	ev.comm = comm;
	ev.usage = &rec->usage;
	ev.blkio = registry__host(r)->delayacct;
	if (e) {
		ev.filename = e->path;
		ev.args = e->args;
		ev.args_size = e->args_size;
		ev.via = (const char *const *)e->via;
		ev.via_count = e->via_count;
	}
	consumer_totals_from_usage(&final, &rec->usage);
	if (c->series) {
		/* the series is credited what the tool is: from the same starting point */
		struct usage_totals series_done = *credited;
		unsigned int sid =
		    e ? e->series_id : series_id(c, ev.tool_id, rec->cgroup_id, rec->tgid);

		consumer_account_end(series_stats(c, sid), rec, &ev, &final, &series_done);
	}
	consumer_account_end(s, rec, &ev, &final, credited);
	emit(c, &ev);
	if (e) {
		registry__stopped(r, e->tool_id);
		if (c->series)
			registry__stopped(c->series, e->series_id);
		inflight_remove(c, e);
	}
}

static void handle_exec_fail(struct consumer *c, const struct tw_exec_fail_rec *rec)
{
	struct registry *r = c->cfg.registry;
	char comm[TW_COMM_LEN + 1], path[TW_PATH_LEN + 1], name[TOOL_NAME_MAX], prog[TW_COMM_LEN];
	struct exec_event ev = {};
	struct tool_stats *s;

	registry__agent(r)->events_exec_fail++;
	copy_str(comm, sizeof(comm), rec->comm, sizeof(rec->comm));
	copy_str(path, sizeof(path), rec->filename, sizeof(rec->filename));
	/* rules see the program as it would have run: comm from the path, argv[0] the path */
	if (path[0]) {
		const char *base = strrchr(path, '/');

		copy_str(prog, sizeof(prog), base ? base + 1 : path, TW_COMM_LEN - 1);
	}
	/* name the program that could not start, not the process that tried */
	if (!name_by_rules(c, path[0] ? prog : comm, path[0] ? path : NULL,
			   path[0] ? strlen(path) + 1 : 0, rec->uid, name, sizeof(name)))
		tool__name(path, path[0] ? "" : comm, NULL, 0, name, sizeof(name));
	ev.tool_id = tool_id(c, name);
	s = registry__stats(r, ev.tool_id);
	if (s) {
		s->executions++;
		s->failures[ERROR_EXEC_FAILED]++;
	}
	s = c->series ? series_stats(c, series_id(c, ev.tool_id, rec->cgroup_id, rec->tgid)) : NULL;
	if (s) {
		s->executions++;
		s->failures[ERROR_EXEC_FAILED]++;
	}
	event_init(&ev, EXEC_EVENT_FAIL, r, rec);
	ev.start_ns = ev.end_ns = rec->ts_ns;
	ev.error = ERROR_EXEC_FAILED;
	ev.exec_errno = rec->error;
	ev.comm = comm;
	ev.filename = path;
	emit(c, &ev);
}

/*
 * A shell's forked child exited 127 without trying an exec: a command the shell did not
 * find. Counted as a failed execution of the shell's tool (the missing name is not known).
 */
static void handle_no_exec(struct consumer *c, const struct tw_no_exec_rec *rec)
{
	struct registry *r = c->cfg.registry;
	char comm[TW_COMM_LEN + 1], name[TOOL_NAME_MAX];
	struct exec_event ev = {};
	struct inflight *e;
	struct tool_stats *s;
	unsigned int sid;

	copy_str(comm, sizeof(comm), rec->comm, sizeof(rec->comm));
	e = consumer_inflight_find(c, rec->owner);
	if (e && e->start_ns != rec->owner_start_ns)
		e = NULL;
	/* a shell's child: the execution it belongs to runs one (unknown: its comm says so) */
	if (e ? !e->shell : !tool__is_shell(comm))
		return;
	if (e) {
		ev.tool_id = e->tool_id;
		sid = e->series_id;
	} else {
		tool__name("", comm, NULL, 0, name, sizeof(name));
		ev.tool_id = tool_id(c, name);
		sid = series_id(c, ev.tool_id, rec->cgroup_id, rec->owner);
	}
	s = registry__stats(r, ev.tool_id);
	if (s) {
		s->executions++;
		s->failures[ERROR_NOT_FOUND]++;
	}
	s = c->series ? series_stats(c, sid) : NULL;
	if (s) {
		s->executions++;
		s->failures[ERROR_NOT_FOUND]++;
	}
	ev.kind = EXEC_EVENT_FAIL;
	ev.tool = tool_table__name(registry__tools(r), ev.tool_id);
	ev.tgid = rec->tgid;
	ev.ppid = rec->owner;
	ev.uid = rec->uid;
	ev.cgroup_id = rec->cgroup_id;
	ev.start_ns = ev.end_ns = rec->ts_ns;
	ev.status = 127 << 8;
	ev.error = ERROR_NOT_FOUND;
	ev.exec_errno = ENOENT; /* what trace shows: the shell's search found nothing */
	ev.comm = comm;
	emit(c, &ev);
}

/* The size a record of this type has at least, 0 for an unknown type. */
static size_t record_min_size(__u32 type)
{
	switch (type) {
	case TW_REC_EXEC:
		return sizeof(struct tw_exec_rec);
	case TW_REC_EXIT:
		return sizeof(struct tw_exit_rec);
	case TW_REC_EXEC_FAIL:
		return sizeof(struct tw_exec_fail_rec);
	case TW_REC_SAMPLE:
		return sizeof(struct tw_sample_rec);
	case TW_REC_NO_EXEC:
		return sizeof(struct tw_no_exec_rec);
	default:
		return 0;
	}
}

int consumer__handle(struct consumer *c, const void *data, size_t size)
{
	__u32 type = 0;
	size_t min;

	if (size >= sizeof(type))
		memcpy(&type, data, sizeof(type));
	min = record_min_size(type);
	if (!min || size < min || (type == TW_REC_EXEC && !exec_rec_valid(data, size))) {
		registry__agent(c->cfg.registry)->events_malformed++;
		return 0;
	}
	if (type == TW_REC_EXEC)
		handle_exec(c, data);
	else if (type == TW_REC_EXIT)
		handle_exit(c, data);
	else if (type == TW_REC_EXEC_FAIL)
		handle_exec_fail(c, data);
	else if (type == TW_REC_NO_EXEC)
		handle_no_exec(c, data);
	else
		consumer_handle_sample(c, data);
	return 0;
}

size_t consumer__reconcile(struct consumer *c,
			   bool (*alive)(uint32_t tgid, uint64_t start_ns, void *ctx), void *ctx)
{
	uint32_t *doomed;
	size_t n = 0, dropped = 0;

	/*
	 * Decide first, remove after: removal shifts entries, which could bring one already
	 * looked at under the scan again. An execution the kernel no longer knows may have
	 * its exit record on the way: only a second miss in a row drops it.
	 */
	doomed = malloc((c->used ? c->used : 1) * sizeof(*doomed));
	if (!doomed)
		return 0;
	for (size_t i = 0; i < c->cap; i++) {
		struct inflight *e = &c->slots[i];

		if (!e->tgid)
			continue;
		if (alive(e->tgid, e->start_ns, ctx)) {
			e->suspect = false;
		} else if (!e->suspect) {
			e->suspect = true;
		} else if (n < c->used) {
			doomed[n++] = e->tgid;
		}
	}
	for (size_t k = 0; k < n; k++) {
		struct inflight *e = consumer_inflight_find(c, doomed[k]);

		if (e) {
			drop_running(c, e);
			dropped++;
		}
	}
	free(doomed);
	return dropped;
}
