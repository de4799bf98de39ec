// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "trace_options.h"

const char trace_usage[] =
    "usage: toolwatch trace [flags]\n"
    "\n"
    "Prints one line per program execution as it ends (and as it starts with\n"
    "--events exec), like execsnoop and exitsnoop, or per-tool summaries. Same\n"
    "kernel programs and tool names as the agent; runs with or without one.\n"
    "Only executions that start after tracing began are seen.\n"
    "\n"
    "filters (all must match; the first six run in the kernel):\n"
    "  --pid=N            executions of process N (programs it execs)\n"
    "  --ppid=N           executions whose parent was N at exec time\n"
    "  --uid=N            executions by user id N\n"
    "  --cgroup=PATH      executions in this cgroup v2 directory: absolute, or\n"
    "                     relative to the cgroup2 mount as in /proc/PID/cgroup\n"
    "  --min-duration=D   executions that ran at least D (drops failed execs)\n"
    "  --failed           failures only: exit code, signal, OOM kill, failed exec\n"
    "  --comm=NAME        task name (15 bytes at most); glob patterns allowed\n"
    "  --tool=NAME        tool name as on /metrics; glob patterns allowed\n"
    "\n"
    "output:\n"
    "  --events=LIST      exec, exit, net, mem, anomaly or all (default exit)\n"
    "  -w, --wide         every column (UID, CPU, memory, net, disk), full argv\n"
    "  --json             one JSON object per line (JSON Lines), full argv\n"
    "  --summary          per-tool duration histograms and a top table instead\n"
    "                     of lines, printed at the end (Ctrl-C or --duration)\n"
    "  --interval=D       print the summary every D (implies --summary)\n"
    "  --duration=D       stop after D (default: run until Ctrl-C)\n"
    "  -h, --help         show this help\n"
    "\n"
    "Durations: 500us, 10ms, 1.5s, 2m, 1h, 1m30s. Status words: ok, exit N,\n"
    "SIGKILL, SIGSEGV core, oom, exec failed: ENOENT.\n"
    "\n"
    "EXAMPLES:\n"
    "  toolwatch trace                        # executions as they end\n"
    "  toolwatch trace --events exec,exit     # starts too\n"
    "  toolwatch trace --failed -w            # failures, every column\n"
    "  toolwatch trace --ppid 1234            # children of process 1234\n"
    "  toolwatch trace --tool 'python*' --min-duration 1s\n"
    "  toolwatch trace --cgroup system.slice/cron.service\n"
    "  toolwatch trace --json --duration 30s > execs.jsonl\n"
    "  toolwatch trace --summary --duration 1m\n"
    "  toolwatch trace --interval 10s --comm make\n";

static const char *const event_names[] = {"exec", "exit", "net", "mem", "anomaly"};

#define NR_EVENT_NAMES (sizeof(event_names) / sizeof(event_names[0]))

void trace_options__init(struct trace_options *o)
{
	memset(o, 0, sizeof(*o));
	o->events = TRACE_EVENT_EXIT;
	o->anomaly_window_ns = 60 * 1000000000ULL;
	snprintf(o->state_dir, sizeof(o->state_dir), "%s", "/var/lib/toolwatch");
}

const char *trace_event__name(unsigned int bit)
{
	for (unsigned int i = 0; i < NR_EVENT_NAMES; i++)
		if (bit == 1u << i)
			return event_names[i];
	return "?";
}

int trace_events__parse(const char *list, unsigned int *mask, char *bad, size_t bad_size)
{
	unsigned int m = 0;
	const char *p = list;

	if (!*p) {
		snprintf(bad, bad_size, "%s", "");
		return -EINVAL;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		bool found = false;

		if (len == 3 && !strncmp(p, "all", 3)) {
			m |= TRACE_EVENT_ALL;
			found = true;
		}
		for (unsigned int i = 0; i < NR_EVENT_NAMES && !found; i++) {
			if (strlen(event_names[i]) == len && !strncmp(p, event_names[i], len)) {
				m |= 1u << i;
				found = true;
			}
		}
		if (!found) {
			snprintf(bad, bad_size, "%.*s", (int)len, p);
			return -EINVAL;
		}
		p += len;
		if (!*p)
			break;
		p++; /* the comma: an item must follow it */
	}
	*mask = m;
	return 0;
}

struct flag {
	const char *name; /* without the leading -- */
	char short_name;  /* 0: none */
	bool boolean;
	int (*set)(struct trace_options *o, const char *value, char *err, size_t err_size);
};

static int set_pid_like(const char *flag, uint32_t *dst, const char *v, char *err, size_t n)
{
	uint64_t x;

	if (parse_u64(v, 1, TRACE_PID_MAX, &x)) {
		snprintf(err, n, "invalid --%s '%s': want a process id, 1..%u", flag, v,
			 TRACE_PID_MAX);
		return -EINVAL;
	}
	*dst = (uint32_t)x;
	return 0;
}

static int set_pid(struct trace_options *o, const char *v, char *err, size_t n)
{
	return set_pid_like("pid", &o->filter.tgid, v, err, n);
}

static int set_ppid(struct trace_options *o, const char *v, char *err, size_t n)
{
	return set_pid_like("ppid", &o->filter.ppid, v, err, n);
}

static int set_uid(struct trace_options *o, const char *v, char *err, size_t n)
{
	uint64_t x;

	/* (uid_t)-1 is "no user" to the kernel: never an owner */
	if (parse_u64(v, 0, UINT32_MAX - 1, &x)) {
		snprintf(err, n, "invalid --uid '%s': want a numeric user id, 0..%u", v,
			 UINT32_MAX - 1);
		return -EINVAL;
	}
	o->filter.uid_set = true;
	o->filter.uid = (uint32_t)x;
	return 0;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

static int set_comm(struct trace_options *o, const char *v, char *err, size_t n)
{
	size_t len = strlen(v);

	if (!len || len >= sizeof(o->comm)) {
		snprintf(err, n, "invalid --comm '%s': want a task name or pattern, 1..%zu bytes",
			 v, sizeof(o->comm) - 1);
		return -EINVAL;
	}
	/* the kernel keeps 15 bytes of a task name: match what it can hold */
	if (!has_glob(v) && len > TW_COMM_LEN - 1)
		len = TW_COMM_LEN - 1;
	memcpy(o->comm, v, len);
	o->comm[len] = '\0';
	return 0;
}

static int set_tool(struct trace_options *o, const char *v, char *err, size_t n)
{
	size_t len = strlen(v);

	if (!len || len >= sizeof(o->tool)) {
		snprintf(err, n, "invalid --tool '%s': want a tool name or pattern, 1..%zu bytes",
			 v, sizeof(o->tool) - 1);
		return -EINVAL;
	}
	memcpy(o->tool, v, len + 1);
	return 0;
}

static int set_cgroup(struct trace_options *o, const char *v, char *err, size_t n)
{
	size_t len = strlen(v);

	if (!len || len >= sizeof(o->cgroup_path)) {
		snprintf(err, n, "invalid --cgroup '%.64s': want a cgroup v2 directory path", v);
		return -EINVAL;
	}
	memcpy(o->cgroup_path, v, len + 1);
	return 0;
}

static int parse_duration_flag(const char *flag, const char *v, uint64_t min_ns, uint64_t *out,
			       char *err, size_t n)
{
	uint64_t ns;
	int e = parse_duration_ns(v, &ns);

	if (e == -ERANGE) {
		snprintf(err, n, "invalid --%s '%s': duration too long", flag, v);
		return -EINVAL;
	}
	if (e || ns < min_ns) {
		snprintf(err, n,
			 "invalid --%s '%s': want a %sduration such as 500us, 10ms, 1.5s, "
			 "2m or 1h",
			 flag, v, min_ns ? "positive " : "");
		return -EINVAL;
	}
	*out = ns;
	return 0;
}

static int set_min_duration(struct trace_options *o, const char *v, char *err, size_t n)
{
	return parse_duration_flag("min-duration", v, 0, &o->filter.min_duration_ns, err, n);
}

static int set_duration(struct trace_options *o, const char *v, char *err, size_t n)
{
	return parse_duration_flag("duration", v, 1, &o->duration_ns, err, n);
}

static int set_interval(struct trace_options *o, const char *v, char *err, size_t n)
{
	if (parse_duration_flag("interval", v, 1, &o->interval_ns, err, n))
		return -EINVAL;
	if (o->interval_ns < TRACE_INTERVAL_MIN_NS) {
		snprintf(err, n, "invalid --interval '%s': want at least 1ms", v);
		return -EINVAL;
	}
	return 0;
}

static int set_events(struct trace_options *o, const char *v, char *err, size_t n)
{
	char bad[64];

	if (trace_events__parse(v, &o->events, bad, sizeof(bad))) {
		snprintf(err, n,
			 "invalid --events '%s': %s%s%swant a list of exec, exit, net, "
			 "mem, anomaly or all",
			 v, bad[0] ? "unknown event '" : "empty item; ", bad, bad[0] ? "'; " : "");
		return -EINVAL;
	}
	return 0;
}

static int set_bool(const char *flag, bool *dst, const char *v, char *err, size_t n)
{
	if (parse_bool(v, dst)) {
		snprintf(err, n, "invalid --%s '%s': want true or false (or no value)", flag, v);
		return -EINVAL;
	}
	return 0;
}

static int set_failed(struct trace_options *o, const char *v, char *err, size_t n)
{
	return set_bool("failed", &o->filter.failed_only, v, err, n);
}

static int set_json(struct trace_options *o, const char *v, char *err, size_t n)
{
	return set_bool("json", &o->json, v, err, n);
}

static int set_summary(struct trace_options *o, const char *v, char *err, size_t n)
{
	return set_bool("summary", &o->summary, v, err, n);
}

static int set_wide(struct trace_options *o, const char *v, char *err, size_t n)
{
	return set_bool("wide", &o->wide, v, err, n);
}

static int set_anomaly_window(struct trace_options *o, const char *v, char *err, size_t n)
{
	if (parse_duration_flag("anomaly.window", v, 1, &o->anomaly_window_ns, err, n))
		return -EINVAL;
	if (o->anomaly_window_ns < 1000000000ULL) {
		snprintf(err, n, "invalid --anomaly.window '%s': want at least 1s", v);
		return -EINVAL;
	}
	return 0;
}

static int set_min_windows(struct trace_options *o, const char *v, char *err, size_t n)
{
	if (parse_u64(v, 1, 1000000, &o->anomaly_min_windows)) {
		snprintf(err, n, "invalid --anomaly.min-windows '%s': want 1..1000000", v);
		return -EINVAL;
	}
	return 0;
}

static int set_min_samples(struct trace_options *o, const char *v, char *err, size_t n)
{
	if (parse_u64(v, 1, 1000000000, &o->anomaly_min_samples)) {
		snprintf(err, n, "invalid --anomaly.min-samples '%s': want 1..1000000000", v);
		return -EINVAL;
	}
	return 0;
}

static int set_state_dir(struct trace_options *o, const char *v, char *err, size_t n)
{
	if (parse_path(v, o->state_dir, sizeof(o->state_dir))) {
		snprintf(err, n, "invalid --state.dir: want a directory path");
		return -EINVAL;
	}
	return 0;
}

static const struct flag trace_flags[] = {
    {"anomaly.window", 0, false, set_anomaly_window},
    {"anomaly.min-windows", 0, false, set_min_windows},
    {"anomaly.min-samples", 0, false, set_min_samples},
    {"state.dir", 0, false, set_state_dir},
    {"pid", 0, false, set_pid},
    {"ppid", 0, false, set_ppid},
    {"uid", 0, false, set_uid},
    {"comm", 0, false, set_comm},
    {"tool", 0, false, set_tool},
    {"cgroup", 0, false, set_cgroup},
    {"min-duration", 0, false, set_min_duration},
    {"failed", 0, true, set_failed},
    {"events", 0, false, set_events},
    {"duration", 0, false, set_duration},
    {"json", 0, true, set_json},
    {"summary", 0, true, set_summary},
    {"interval", 0, false, set_interval},
    {"wide", 'w', true, set_wide},
};

#define NR_TRACE_FLAGS (sizeof(trace_flags) / sizeof(trace_flags[0]))

/* The flag spelled by arg ("--name[=v]" or "-c"), *value set to the "=v" part or NULL. */
static const struct flag *flag_lookup(const char *arg, const char **value)
{
	const char *name, *eq;
	size_t len;

	*value = NULL;
	if (arg[0] == '-' && arg[1] && arg[1] != '-' && !arg[2]) {
		for (size_t k = 0; k < NR_TRACE_FLAGS; k++)
			if (trace_flags[k].short_name == arg[1])
				return &trace_flags[k];
		return NULL;
	}
	if (strncmp(arg, "--", 2))
		return NULL;
	name = arg + 2;
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	for (size_t k = 0; k < NR_TRACE_FLAGS; k++) {
		if (strlen(trace_flags[k].name) == len &&
		    !strncmp(trace_flags[k].name, name, len)) {
			*value = eq ? eq + 1 : NULL;
			return &trace_flags[k];
		}
	}
	return NULL;
}

enum options_result trace_options__parse(struct trace_options *o, int argc, char **argv, char *err,
					 size_t err_size)
{
	bool given[NR_TRACE_FLAGS] = {};

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *value;
		const struct flag *f;
		size_t k;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return OPTIONS_HELP;
		if (arg[0] != '-' || !arg[1]) {
			snprintf(err, err_size, "unexpected argument '%s'", arg);
			return OPTIONS_ERROR;
		}
		f = flag_lookup(arg, &value);
		if (!f) {
			snprintf(err, err_size, "unknown flag '%.*s'", (int)strcspn(arg, "="), arg);
			return OPTIONS_ERROR;
		}
		k = (size_t)(f - trace_flags);
		if (!value) {
			if (f->boolean) {
				value = "true";
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				snprintf(err, err_size, "flag '--%s' needs a value", f->name);
				return OPTIONS_ERROR;
			}
		}
		/* two filters of one kind are ambiguous (and? or?): refuse rather than guess */
		if (given[k] && !f->boolean) {
			snprintf(err, err_size, "flag '--%s' given twice", f->name);
			return OPTIONS_ERROR;
		}
		given[k] = true;
		if (f->set(o, value, err, err_size))
			return OPTIONS_ERROR;
	}
	if (o->interval_ns)
		o->summary = true;
	return OPTIONS_OK;
}

/* fnmatch(3) of a pattern against a possibly NULL name. */
static bool name_matches(const char *pattern, const char *name)
{
	return fnmatch(pattern, name ? name : "", 0) == 0;
}

bool trace_options__match(const struct trace_options *o, const struct exec_event *ev)
{
	const struct loader_filter *f = &o->filter;

	if (o->comm[0] && !name_matches(o->comm, ev->comm))
		return false;
	if (o->tool[0] && !name_matches(o->tool, ev->tool))
		return false;
	switch (ev->kind) {
	case EXEC_EVENT_START:
		return true;
	case EXEC_EVENT_END:
		/* the kernel already did; cheap to repeat, and exact for any record */
		if (f->min_duration_ns &&
		    (ev->end_ns < ev->start_ns || ev->end_ns - ev->start_ns < f->min_duration_ns))
			return false;
		return !f->failed_only || !ev->success;
	case EXEC_EVENT_FAIL:
		if (f->tgid && f->tgid != ev->tgid)
			return false;
		if (f->ppid && f->ppid != ev->ppid)
			return false;
		if (f->uid_set && f->uid != ev->uid)
			return false;
		if (f->cgroup_id && f->cgroup_id != ev->cgroup_id)
			return false;
		return !f->min_duration_ns;
	}
	return false;
}

bool trace_options__shows(const struct trace_options *o, const struct exec_event *ev)
{
	switch (ev->kind) {
	case EXEC_EVENT_START:
		return o->events & TRACE_EVENT_EXEC;
	case EXEC_EVENT_END:
		return o->events & TRACE_EVENT_EXIT;
	case EXEC_EVENT_FAIL:
		return o->events & (TRACE_EVENT_EXEC | TRACE_EVENT_EXIT);
	}
	return false;
}

/* Copies a mountinfo field of len bytes into out, decoding \NNN octal escapes. */
static int copy_mountinfo_field(const char *s, size_t len, char *out, size_t out_size)
{
	size_t j = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (j + 1 >= out_size)
			return -ENAMETOOLONG;
		out[j++] = c;
	}
	out[j] = '\0';
	return 0;
}

int cgroup2__mount_point(const char *mountinfo, char *out, size_t out_size)
{
	const char *line = mountinfo;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *p = line, *mnt = NULL, *sep;
		size_t line_len = end ? (size_t)(end - line) : strlen(line), mnt_len = 0;
		int field = 0;

		/* id parent major:minor root MOUNT_POINT options [optional...] - FSTYPE ... */
		while (p < line + line_len) {
			size_t len = strcspn(p, " \n");

			if (len > (size_t)(line + line_len - p))
				len = (size_t)(line + line_len - p);
			if (field == 4) {
				mnt = p;
				mnt_len = len;
			}
			field++;
			p += len;
			while (p < line + line_len && *p == ' ')
				p++;
		}
		sep = mnt ? strstr(mnt, " - ") : NULL;
		if (sep && sep < line + line_len && !strncmp(sep + 3, "cgroup2 ", 8))
			return copy_mountinfo_field(mnt, mnt_len, out, out_size);
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}
