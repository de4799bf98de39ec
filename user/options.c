// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "parse.h"

const char agent_usage[] =
	"usage: toolwatch [agent] [flags]\n"
	"\n"
	"Traces every program execution on the host with eBPF and serves per-tool\n"
	"Prometheus metrics.\n"
	"\n"
	"flags:\n"
	"  --web.listen-address=ADDR  address to serve /metrics on (default :9477)\n"
	"  --tools.max=N              distinct tool names tracked; the rest are\n"
	"                             counted as tool=\"other\" (default 500)\n"
	"  --probe.disable=LIST       probe families to leave off (comma separated):\n"
	"                             exec_failed, task_iter, fork, net, tcp, oom,\n"
	"                             blockio, sampler\n"
	"  --probe.enable=LIST        families that are off by default: runqlat\n"
	"                             (run-queue latency; hooks every context switch)\n"
	"  --bpf.ringbuf-size=SIZE    kernel->agent ring buffer (default 4MiB)\n"
	"  --bpf.max-processes=N      processes tracked at once (default 32768)\n"
	"  --bpf.stats                enable BPF run-time statistics while running\n"
	"  --anomaly.window=D         anomaly window (default 1m)\n"
	"  --anomaly.baseline=D       baseline span, decay time constant (default 7d)\n"
	"  --anomaly.seasonal         also learn hour-of-day baselines\n"
	"  --anomaly.min-windows=N    windows before a baseline is trusted (default 60)\n"
	"  --anomaly.min-samples=N    executions before a baseline is trusted (default 100)\n"
	"  --anomaly.raise-after=N    anomalous windows in a row to raise (default 2)\n"
	"  --anomaly.clear-after=N    clean windows in a row to clear (default 3)\n"
	"  --anomaly.new-tool-learning=D  quiet period before NEW_TOOL fires (default 24h)\n"
	"  --anomaly.new-tool-hold=D  how long NEW_TOOL stays raised; 0 off (default 1h)\n"
	"  --anomaly.relearn-after=D  a flag raised this long becomes the new normal\n"
	"                             (default 24h; 0 never)\n"
	"  --anomaly.max-tools=N      tools with baselines (default 2048)\n"
	"  --state.dir=DIR            where baselines persist (default /var/lib/toolwatch)\n"
	"  --state.save-interval=D    how often they are saved; 0 only at exit (default 5m)\n"
	"  --log.level=LEVEL          error, warn, info or debug (default info)\n"
	"  -h, --help                 show this help\n"
	"  --version                  print the version\n"
	"\n"
	"EXAMPLES:\n"
	"  toolwatch                               # serve on :9477\n"
	"  toolwatch --web.listen-address=127.0.0.1:9477 --tools.max=2000\n"
	"  toolwatch --probe.disable=exec_failed --log.level=debug\n"
	"  toolwatch trace --help                  # ad-hoc tracing\n";

void agent_options__init(struct agent_options *o)
{
	memset(o, 0, sizeof(*o));
	o->listen_port = 9477;
	o->tools_max = 500;
	o->log_level = LOG_INFO;
	o->ringbuf_bytes = 4 << 20;
	o->max_processes = 32768;
	/* run-queue latency hooks every wakeup and context switch: opt in */
	o->disable[PROBE_RUNQLAT] = true;
	anomaly_config__init(&o->anomaly);
	snprintf(o->state_dir, sizeof(o->state_dir), "%s", "/var/lib/toolwatch");
	o->state_save_interval_ns = 300ULL * 1000000000ULL;
}

struct flag {
	const char *name;
	bool boolean;
	int (*set)(struct agent_options *o, const char *value, char *err, size_t err_size);
};

static int set_count(const char *flag, const char *v, uint64_t min, uint64_t max, uint64_t *dst,
		     char *err, size_t n)
{
	if (parse_u64(v, min, max, dst)) {
		snprintf(err, n, "invalid --%s '%s': want %llu..%llu", flag, v,
			 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

/* A bounded count into a 32-bit field; the field is unchanged on error. */
static int set_u32(const char *flag, const char *v, uint32_t min, uint32_t max, uint32_t *dst,
		   char *err, size_t n)
{
	uint64_t x;
	int ret = set_count(flag, v, min, max, &x, err, n);

	if (!ret)
		*dst = (uint32_t)x;
	return ret;
}

static int set_listen(struct agent_options *o, const char *v, char *err, size_t n)
{
	if (parse_listen_address(v, o->listen_host, sizeof(o->listen_host), &o->listen_port)) {
		snprintf(err, n, "invalid --web.listen-address '%s': want [HOST]:PORT", v);
		return -EINVAL;
	}
	return 0;
}

static int set_tools_max(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_u32("tools.max", v, 1, 1000000, &o->tools_max, err, n);
}

static int set_probe_disable(struct agent_options *o, const char *v, char *err, size_t n)
{
	char bad[64];

	if (probe__parse_list(v, o->disable, bad, sizeof(bad))) {
		snprintf(err, n, "invalid --probe.disable: '%s' is not an optional probe", bad);
		return -EINVAL;
	}
	return 0;
}

static int set_probe_enable(struct agent_options *o, const char *v, char *err, size_t n)
{
	bool enable[PROBE_MAX] = {};
	char bad[64];

	if (probe__parse_list(v, enable, bad, sizeof(bad))) {
		snprintf(err, n, "invalid --probe.enable: '%s' is not an optional probe", bad);
		return -EINVAL;
	}
	for (int p = 0; p < PROBE_MAX; p++)
		if (enable[p])
			o->disable[p] = false;
	return 0;
}

static int set_ringbuf(struct agent_options *o, const char *v, char *err, size_t n)
{
	uint64_t x;

	if (parse_size_bytes(v, &x) || x < 4096 || x > (1ULL << 30) || (x & (x - 1))) {
		snprintf(err, n, "invalid --bpf.ringbuf-size '%s': want a power of two, 4KiB..1GiB",
			 v);
		return -EINVAL;
	}
	o->ringbuf_bytes = x;
	return 0;
}

static int set_max_processes(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_u32("bpf.max-processes", v, 64, 4194304, &o->max_processes, err, n);
}

static int set_bpf_stats(struct agent_options *o, const char *v, char *err, size_t n)
{
	if (parse_bool(v, &o->bpf_stats)) {
		snprintf(err, n, "invalid --bpf.stats '%s': want true or false", v);
		return -EINVAL;
	}
	return 0;
}

static int set_log_level(struct agent_options *o, const char *v, char *err, size_t n)
{
	if (log__parse_level(v, &o->log_level)) {
		snprintf(err, n, "invalid --log.level '%s': want error, warn, info or debug", v);
		return -EINVAL;
	}
	return 0;
}

/* Duration flags: where the value goes and the least it may be. */
static int set_duration(const char *flag, const char *v, uint64_t min_ns, uint64_t *dst,
			char *err, size_t n)
{
	uint64_t ns;

	if (parse_duration_ns(v, &ns) || ns < min_ns) {
		snprintf(err, n, "invalid --%s '%s': want a duration like 500ms, 2m, 7d%s", flag, v,
			 min_ns ? " (at least 1s)" : "");
		return -EINVAL;
	}
	*dst = ns;
	return 0;
}

#define SECOND_NS 1000000000ULL

static int set_window(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_duration("anomaly.window", v, SECOND_NS, &o->anomaly.window_ns, err, n);
}

static int set_baseline(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_duration("anomaly.baseline", v, SECOND_NS, &o->anomaly.baseline_ns, err, n);
}

static int set_seasonal(struct agent_options *o, const char *v, char *err, size_t n)
{
	if (parse_bool(v, &o->anomaly.seasonal)) {
		snprintf(err, n, "invalid --anomaly.seasonal '%s': want true or false", v);
		return -EINVAL;
	}
	return 0;
}

static int set_min_windows(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_u32("anomaly.min-windows", v, 1, 1000000, &o->anomaly.min_windows, err, n);
}

static int set_min_samples(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_count("anomaly.min-samples", v, 1, 1000000000, &o->anomaly.min_samples, err, n);
}

static int set_raise_after(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_u32("anomaly.raise-after", v, 1, 1000, &o->anomaly.raise_after, err, n);
}

static int set_clear_after(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_u32("anomaly.clear-after", v, 1, 1000, &o->anomaly.clear_after, err, n);
}

static int set_new_tool_learning(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_duration("anomaly.new-tool-learning", v, 0, &o->anomaly.new_tool_learning_ns,
			    err, n);
}

static int set_new_tool_hold(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_duration("anomaly.new-tool-hold", v, 0, &o->anomaly.new_tool_hold_ns, err, n);
}

static int set_relearn_after(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_duration("anomaly.relearn-after", v, 0, &o->anomaly.relearn_after_ns, err, n);
}

static int set_anomaly_max_tools(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_u32("anomaly.max-tools", v, 1, 1000000, &o->anomaly.max_tools, err, n);
}

static int set_state_dir(struct agent_options *o, const char *v, char *err, size_t n)
{
	if (parse_path(v, o->state_dir, sizeof(o->state_dir))) {
		snprintf(err, n, "invalid --state.dir: want a directory path");
		return -EINVAL;
	}
	return 0;
}

static int set_save_interval(struct agent_options *o, const char *v, char *err, size_t n)
{
	return set_duration("state.save-interval", v, 0, &o->state_save_interval_ns, err, n);
}

static const struct flag agent_flags[] = {
	{ "anomaly.window", false, set_window },
	{ "anomaly.baseline", false, set_baseline },
	{ "anomaly.seasonal", true, set_seasonal },
	{ "anomaly.min-windows", false, set_min_windows },
	{ "anomaly.min-samples", false, set_min_samples },
	{ "anomaly.raise-after", false, set_raise_after },
	{ "anomaly.clear-after", false, set_clear_after },
	{ "anomaly.new-tool-learning", false, set_new_tool_learning },
	{ "anomaly.new-tool-hold", false, set_new_tool_hold },
	{ "anomaly.relearn-after", false, set_relearn_after },
	{ "anomaly.max-tools", false, set_anomaly_max_tools },
	{ "state.dir", false, set_state_dir },
	{ "state.save-interval", false, set_save_interval },
	{ "web.listen-address", false, set_listen },
	{ "tools.max", false, set_tools_max },
	{ "probe.disable", false, set_probe_disable },
	{ "probe.enable", false, set_probe_enable },
	{ "bpf.ringbuf-size", false, set_ringbuf },
	{ "bpf.max-processes", false, set_max_processes },
	{ "bpf.stats", true, set_bpf_stats },
	{ "log.level", false, set_log_level },
};

enum options_result agent_options__parse(struct agent_options *o, int argc, char **argv,
					 char *err, size_t err_size)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *name, *value, *eq;
		const struct flag *f = NULL;
		size_t name_len;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return OPTIONS_HELP;
		if (!strcmp(arg, "--version"))
			return OPTIONS_VERSION;
		if (strncmp(arg, "--", 2) || !arg[2]) {
			snprintf(err, err_size, "unexpected argument '%s'", arg);
			return OPTIONS_ERROR;
		}
		name = arg + 2;
		eq = strchr(name, '=');
		name_len = eq ? (size_t)(eq - name) : strlen(name);
		for (size_t k = 0; k < sizeof(agent_flags) / sizeof(agent_flags[0]); k++)
			if (strlen(agent_flags[k].name) == name_len &&
			    !strncmp(agent_flags[k].name, name, name_len))
				f = &agent_flags[k];
		if (!f) {
			snprintf(err, err_size, "unknown flag '--%.*s'", (int)name_len, name);
			return OPTIONS_ERROR;
		}
		if (eq) {
			value = eq + 1;
		} else if (f->boolean) {
			value = "true";
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			snprintf(err, err_size, "flag '--%s' needs a value", f->name);
			return OPTIONS_ERROR;
		}
		if (f->set(o, value, err, err_size))
			return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}
