// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "events/snapshot.h"

static const char *const error_type_names[ERROR_TYPE_MAX] = {
    [ERROR_EXIT_CODE] = "exit_code", [ERROR_SIGNAL] = "signal",
    [ERROR_CORE_DUMP] = "core_dump", [ERROR_EXEC_FAILED] = "exec_failed",
    [ERROR_OOM_KILL] = "oom_kill",   [ERROR_NOT_FOUND] = "not_found",
};

const char *const tool_family_names[TOOL_FAMILY_MAX + 1] = {
    [TOOL_FAMILY_DURATION] = "tool_execution_duration_seconds",
    [TOOL_FAMILY_SUCCESS] = "tool_execution_success_total",
    [TOOL_FAMILY_FAILURE] = "tool_execution_failure_total",
    [TOOL_FAMILY_RUNNING] = "tool_running",
    [TOOL_FAMILY_PEAK_MEMORY] = "tool_peak_memory_bytes",
    [TOOL_FAMILY_MEMORY_USAGE] = "tool_memory_usage_bytes",
    [TOOL_FAMILY_CPU] = "tool_cpu_seconds_total",
    [TOOL_FAMILY_DISK] = "tool_disk_bytes_total",
    [TOOL_FAMILY_NETWORK] = "tool_network_bytes_total",
    [TOOL_FAMILY_TCP_CONNECTIONS] = "tool_tcp_connections_total",
    [TOOL_FAMILY_TCP_RETRANSMITS] = "tool_tcp_retransmits_total",
    [TOOL_FAMILY_WAIT] = "tool_wait_seconds_total",
    [TOOL_FAMILY_MAX] = NULL,
};

const char *const native_mode_names[NATIVE_MODE_MAX + 1] = {"native", "both", "off", NULL};

const char *const classic_buckets_names[CLASSIC_BUCKETS_MAX + 1] = {"full", "coarse", "none", NULL};

static const char *const block_op_names[HOST_BLOCK_OPS] = {"read", "write", "flush", "discard",
							   "other"};

static const char *const kind_names[ANOMALY_KIND_MAX] = {
    [ANOMALY_LATENCY_DEGRADATION] = "LATENCY_DEGRADATION",
    [ANOMALY_STATISTICAL_OUTLIER] = "STATISTICAL_OUTLIER",
    [ANOMALY_FAILURE_RATE] = "FAILURE_RATE",
    [ANOMALY_CPU_SPIKE] = "CPU_SPIKE",
    [ANOMALY_MEMORY_SPIKE] = "MEMORY_SPIKE",
    [ANOMALY_NEW_TOOL] = "NEW_TOOL",
};

static const char *const kind_severities[ANOMALY_KIND_MAX] = {
    [ANOMALY_LATENCY_DEGRADATION] = "high", [ANOMALY_STATISTICAL_OUTLIER] = "medium",
    [ANOMALY_FAILURE_RATE] = "critical",    [ANOMALY_CPU_SPIKE] = "medium",
    [ANOMALY_MEMORY_SPIKE] = "medium",	    [ANOMALY_NEW_TOOL] = "info",
};

const char *error_type__name(enum error_type type)
{
	return (unsigned int)type < ERROR_TYPE_MAX ? error_type_names[type] : "unknown";
}

const char *block_op__name(unsigned int op)
{
	return op < HOST_BLOCK_OPS ? block_op_names[op] : "other";
}

const char *anomaly_kind__name(enum anomaly_kind k)
{
	return (unsigned int)k < ANOMALY_KIND_MAX ? kind_names[k] : "UNKNOWN";
}

const char *anomaly_cause__name(enum anomaly_cause c)
{
	static const char *const names[ANOMALY_CAUSE_MAX] = {
	    [ANOMALY_CAUSE_CPU] = "cpu",
	    [ANOMALY_CAUSE_RUNQUEUE] = "runqueue",
	    [ANOMALY_CAUSE_BLKIO] = "blkio",
	    [ANOMALY_CAUSE_OTHER] = "other",
	};

	return (unsigned int)c < ANOMALY_CAUSE_MAX ? names[c] : NULL;
}

const char *kube_failure__name(enum kube_failure f)
{
	static const char *const names[KUBE_FAIL_MAX] = {
	    [KUBE_FAIL_TIMEOUT] = "timeout",   [KUBE_FAIL_CONNECT] = "connect",
	    [KUBE_FAIL_TLS] = "tls",	       [KUBE_FAIL_TOKEN] = "token",
	    [KUBE_FAIL_HTTP_401] = "http_401", [KUBE_FAIL_HTTP_403] = "http_403",
	    [KUBE_FAIL_HTTP_5XX] = "http_5xx", [KUBE_FAIL_HTTP_OTHER] = "http_other",
	    [KUBE_FAIL_PARSE] = "parse",       [KUBE_FAIL_TOO_LARGE] = "too_large",
	    [KUBE_FAIL_OTHER] = "other",
	};

	return (unsigned int)f < KUBE_FAIL_MAX ? names[f] : "unknown";
}

const char *anomaly_kind__severity(enum anomaly_kind k)
{
	return (unsigned int)k < ANOMALY_KIND_MAX ? kind_severities[k] : "unknown";
}

struct snapshot *snapshot__new(size_t nr_tools)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->tools = calloc(nr_tools ? nr_tools : 1, sizeof(*s->tools));
	if (!s->tools) {
		free(s);
		return NULL;
	}
	s->refs = 1;
	s->nr_tools = nr_tools;
	return s;
}

struct snapshot *snapshot__get(struct snapshot *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void snapshot__put(struct snapshot *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (size_t i = 0; i < s->nr_anomalies; i++)
		free(s->anomalies[i].tool);
	free(s->anomalies);
	free(s->names);
	free(s->tools);
	free(s);
}
