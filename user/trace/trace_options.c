// SPDX-License-Identifier: GPL-2.0
/* The flags of `toolwatch trace`: a flag table, its callbacks and the usage text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/flags.h"
#include "lib/parse.h"
#include "lib/strbuf.h"
#include "trace/trace_options.h"

const char trace_usage[] =
    "usage: toolwatch trace [flags]\n"
    "\n"
    "Prints one line per program execution as it ends (and as it starts with\n"
    "--events exec), like execsnoop and exitsnoop, or per-tool summaries. Same\n"
    "kernel programs and tool names as the agent; runs with or without one.\n"
    "Only executions that start after tracing began are seen. Lines come out in\n"
    "time order, 100ms after the event.\n"
    "\n"
    "filters (all must match; the first six run in the kernel):\n"
    "  -p, --pid=N        executions of process N (programs it execs)\n"
    "  --ppid=N           executions whose parent was N at exec time\n"
    "  -u, --uid=USER     executions by this user (a name or a user id)\n"
    "  --cgroup=PATH      executions in this cgroup v2 directory: absolute, or\n"
    "                     relative to the cgroup2 mount as in /proc/PID/cgroup\n"
    "  --min-duration=D   executions that ran at least D (drops failed execs)\n"
    "  -x, --failed       failures only: exit code, signal, OOM kill, failed exec\n"
    "  --comm=NAME        task name (15 bytes at most); glob patterns allowed\n"
    "  --tool=NAME        tool name as on /metrics; glob patterns allowed\n"
    "  -n, --name=REGEX   task name or tool name matches REGEX (PCRE2, anywhere)\n"
    "  -l, --line=REGEX   command line (argv joined by spaces) matches REGEX\n"
    "  --container=ID     executions in the container whose id starts with ID\n"
    "  --pod=NAME         in the pod of this name (glob), or whose pod uid\n"
    "                     starts with NAME\n"
    "  --namespace=NS     in a pod of this namespace (glob; needs the API)\n"
    "  --kubernetes.api-url=URL, --kubernetes.token-file=F, --kubernetes.ca-file=F,\n"
    "  --kubernetes.node-name=N\n"
    "                     pod names for --pod/--namespace from the Kubernetes API\n"
    "                     (default: the in-cluster service account and $NODE_NAME)\n"
    "\n"
    "naming:\n"
    "  --tools.rules=FILE naming rules (process-exporter's process_names format),\n"
    "                     as the agent's; failed execs and lone exits too\n"
    "\n"
    "output:\n"
    "  --events=LIST      exec, exit, anomaly or all (default exit)\n"
    "  --state.dir=DIR    --events anomaly: the agent's saved baselines (read only;\n"
    "                     default /var/lib/toolwatch)\n"
    "  --anomaly.window=D, --anomaly.min-windows=N, --anomaly.min-samples=N\n"
    "                     --events anomaly: the agent's detector settings\n"
    "  -w, --wide         every column (UID, CPU, memory, net, disk), full argv\n"
    "  -U, --print-uid    a UID column\n"
    "  -q, --quote        argv words in double quotes (\" and \\ escaped)\n"
    "  --max-args=N       show at most N argv words, then \"...\" (default all)\n"
    "  --json             one JSON object per line (JSON Lines), full argv\n"
    "  -t, --timestamp    TIME(s): seconds since tracing began\n"
    "  -T, --time         TIME as HH:MM:SS.mmm local time (the default)\n"
    "  --summary          per-tool duration histograms and a top table instead\n"
    "                     of lines, printed at the end (Ctrl-C or --duration)\n"
    "  --interval=D       print the summary every D (implies --summary)\n"
    "  --duration=D       stop after D (default: run until Ctrl-C)\n"
    "  -h, --help         show this help\n"
    "  -V, --version      print the version\n"
    "\n"
    "Durations: 500us, 10ms, 1.5s, 2m, 1h, 1m30s. Status words: ok, exit N,\n"
    "SIGKILL, SIGSEGV core, oom, exec failed: ENOENT.\n"
    "\n"
    "EXAMPLES:\n"
    "  toolwatch trace                        # executions as they end\n"
    "  toolwatch trace --events exec,exit     # starts too\n"
    "  toolwatch trace -x -w                  # failures, every column\n"
    "  toolwatch trace -p 1234 -t             # programs process 1234 execs, TIME(s)\n"
    "  toolwatch trace -u nobody -U           # executions by user nobody, UID column\n"
    "  toolwatch trace -n '^make$' -q         # make's executions, argv quoted\n"
    "  toolwatch trace -l 'tpkg'              # command lines containing \"tpkg\"\n"
    "  toolwatch trace --ppid 1234            # children of process 1234\n"
    "  toolwatch trace --tool 'python*' --min-duration 1s\n"
    "  toolwatch trace --tools.rules /etc/toolwatch/rules.yml\n"
    "  toolwatch trace --cgroup system.slice/cron.service\n"
    "  toolwatch trace --json --duration 30s > execs.jsonl\n"
    "  toolwatch trace --summary --duration 1m\n"
    "  toolwatch trace --interval 10s --comm make\n";

static const char *const event_names[] = {"exec", "exit", "anomaly", NULL};

void trace_options__init(struct trace_options *o)
{
	memset(o, 0, sizeof(*o));
	o->events = TRACE_EVENT_EXIT;
	o->anomaly_window_ns = 60 * 1000000000ULL;
	snprintf(o->state_dir, sizeof(o->state_dir), "%s", "/var/lib/toolwatch");
	kube_options__init(&o->kube);
}

void trace_options__free(struct trace_options *o)
{
	trace_regex__free(o->name_re);
	trace_regex__free(o->line_re);
	o->name_re = o->line_re = NULL;
}

const char *trace_event__name(unsigned int bit)
{
	for (unsigned int i = 0; event_names[i]; i++)
		if (bit == 1u << i)
			return event_names[i];
	return "?";
}

int trace_events__parse(const char *list, unsigned int *mask, char *bad, size_t bad_size)
{
	return flag_list__parse(event_names, list, mask, bad, bad_size);
}

static int set_uid(void *opts, const char *v, char *why, size_t n)
{
	struct trace_options *o = opts;
	uint64_t x;

	if (v[0] >= '0' && v[0] <= '9') {
		/* (uid_t)-1 is "no user" to the kernel: never an owner */
		if (parse_u64(v, 0, UINT32_MAX - 1, &x)) {
			snprintf(why, n, "want a user name or a user id, 0..%u", UINT32_MAX - 1);
			return -EINVAL;
		}
		o->filter.uid_set = true;
		o->filter.uid = (uint32_t)x;
		o->user[0] = '\0';
		return 0;
	}
	/* a name: looked up by the caller (the user database is I/O) */
	if (!v[0] || v[0] == '-' || strlen(v) >= sizeof(o->user) || strpbrk(v, ":/ \t\n")) {
		snprintf(why, n, "want a user name or a user id");
		return -EINVAL;
	}
	snprintf(o->user, sizeof(o->user), "%s", v);
	o->filter.uid_set = false;
	return 0;
}

static int set_kube_api_url(void *opts, const char *v, char *why, size_t n)
{
	return kube_options__set_api_url(&((struct trace_options *)opts)->kube, v, why, n);
}

#define AT(member) FLAG_FIELD(struct trace_options, member)

static const struct flag trace_flags[] = {
    /* kernel filters */
    {"pid", 'p', .kind = FLAG_U32, AT(filter.tgid), .min = 1, .max = TRACE_PID_MAX,
     .want = "a process id"},
    {"ppid", .kind = FLAG_U32, AT(filter.ppid), .min = 1, .max = TRACE_PID_MAX,
     .want = "a process id"},
    {"uid", 'u', .kind = FLAG_CUSTOM, .set = set_uid},
    {"cgroup", .kind = FLAG_STRING, AT(cgroup_path), .want = "a cgroup v2 directory path"},
    {"min-duration", .kind = FLAG_DURATION, AT(filter.min_duration_ns)},
    {"failed", 'x', .kind = FLAG_BOOL, AT(filter.failed_only)},
    /* user-space filters */
    {"comm", .kind = FLAG_STRING, AT(comm), .want = "a task name or pattern"},
    {"tool", .kind = FLAG_STRING, AT(tool), .want = "a tool name or pattern"},
    {"name", 'n', .kind = FLAG_STRING, AT(name), .want = "a regex"},
    {"line", 'l', .kind = FLAG_STRING, AT(line), .want = "a regex"},
    {"container", .kind = FLAG_STRING, AT(container), .want = "a container id or its prefix"},
    {"pod", .kind = FLAG_STRING, AT(pod), .want = "a pod name, pattern or uid prefix"},
    {"namespace", .kind = FLAG_STRING, AT(namespace_), .want = "a namespace or pattern"},
    {"kubernetes.api-url", .kind = FLAG_CUSTOM, .set = set_kube_api_url},
    {"kubernetes.token-file", .kind = FLAG_STRING, AT(kube.token_file), .want = "a file path"},
    {"kubernetes.ca-file", .kind = FLAG_STRING, AT(kube.ca_file), .want = "a file path"},
    {"kubernetes.node-name", .kind = FLAG_STRING, AT(kube.node_name), .want = "a node name"},
    /* naming */
    {"tools.rules", .kind = FLAG_STRING, AT(tools_rules), .want = "a file path"},
    /* output */
    {"events", .kind = FLAG_LIST, AT(events), .names = event_names},
    {"wide", 'w', .kind = FLAG_BOOL, AT(wide)},
    {"print-uid", 'U', .kind = FLAG_BOOL, AT(print_uid)},
    {"quote", 'q', .kind = FLAG_BOOL, AT(quote)},
    {"max-args", .kind = FLAG_U32, AT(max_args), .min = 1, .max = TRACE_MAX_ARGS_LIMIT,
     .want = "a number of argv words"},
    {"json", .kind = FLAG_BOOL, AT(json)},
    {"timestamp", 't', .kind = FLAG_BOOL, AT(timestamp)},
    {"time", 'T', .kind = FLAG_BOOL, AT(clock_time)},
    {"version", 'V', .kind = FLAG_BOOL, AT(version)},
    {"summary", .kind = FLAG_BOOL, AT(summary)},
    {"interval", .kind = FLAG_DURATION, AT(interval_ns), .min = TRACE_INTERVAL_MIN_NS},
    {"duration", .kind = FLAG_DURATION, AT(duration_ns), .min = 1},
    /* --events anomaly judges windows against the agent's saved baselines */
    {"anomaly.window", .kind = FLAG_DURATION, AT(anomaly_window_ns), .min = 1000000000ULL},
    {"anomaly.min-windows", .kind = FLAG_U64, AT(anomaly_min_windows), .min = 1, .max = 1000000},
    {"anomaly.min-samples", .kind = FLAG_U64, AT(anomaly_min_samples), .min = 1, .max = 1000000000},
    {"state.dir", .kind = FLAG_STRING, AT(state_dir), .want = "a directory path"},
};

static const struct flag_set trace_flag_set = {
    .flags = trace_flags,
    .count = sizeof(trace_flags) / sizeof(trace_flags[0]),
};

/* Compiles the regex of flag into *re: 0, or -1 with one line in err naming the flag. */
static int compile(const char *flag, const char *pattern, struct trace_regex **re, char *err,
		   size_t err_size)
{
	char why[256], shown[80];

	if (!pattern[0])
		return 0;
	*re = trace_regex__new(pattern, why, sizeof(why));
	if (*re)
		return 0;
	snprintf(shown, sizeof(shown), "%.64s%s", pattern, strlen(pattern) > 64 ? "..." : "");
	if (errno == ENOMEM)
		snprintf(err, err_size, "cannot compile --%s '%s': %s", flag, shown,
			 strerror(ENOMEM));
	else
		snprintf(err, err_size, "invalid --%s '%s': %s", flag, shown, why);
	str__one_line(err);
	return -1;
}

enum options_result trace_options__parse(struct trace_options *o, int argc, char **argv, char *err,
					 size_t err_size)
{
	enum options_result r = flags__parse(&trace_flag_set, o, argc, argv, err, err_size);

	if (r != OPTIONS_OK)
		return r;
	if (o->version)
		return OPTIONS_VERSION;
	if (compile("name", o->name, &o->name_re, err, err_size) ||
	    compile("line", o->line, &o->line_re, err, err_size)) {
		trace_options__free(o);
		return OPTIONS_ERROR;
	}
	/* the kernel keeps 15 bytes of a task name: match what it can hold (not a pattern) */
	if (!strpbrk(o->comm, "*?[\\"))
		o->comm[TW_COMM_LEN - 1] = '\0';
	if (o->interval_ns)
		o->summary = true;
	if (o->timestamp && o->clock_time) {
		snprintf(err, err_size, "flags '-t' and '-T' name two TIME columns: give one");
		trace_options__free(o);
		return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}
