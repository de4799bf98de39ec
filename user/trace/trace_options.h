/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line flags of `toolwatch trace` (trace_options.c) and its user-space filters
 * (trace_filter.c); pure.
 */
#ifndef TOOLWATCH_TRACE_OPTIONS_H
#define TOOLWATCH_TRACE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/consumer.h"
#include "kernel/filter.h"
#include "agent/options.h"

#define TRACE_NAME_MAX	      256	 /* --comm / --tool pattern, NUL included */
#define TRACE_PATTERN_MAX     1024	 /* --name / --line regex, NUL included */
#define TRACE_PATH_MAX	      4096	 /* --cgroup path, NUL included */
#define TRACE_MAX_ARGS_LIMIT  256	 /* --max-args: 512 bytes of argv hold no more words */
#define TRACE_PID_MAX	      4194304	 /* the kernel's PID_MAX_LIMIT */
#define TRACE_INTERVAL_MIN_NS 1000000ULL /* --interval below 1ms is a busy loop */

/* What --events selects, as bits. */
enum trace_event_bit {
	TRACE_EVENT_EXEC = 1u << 0,    /* a line per execution start */
	TRACE_EVENT_EXIT = 1u << 1,    /* a line per finished execution (failed execs too) */
	TRACE_EVENT_ANOMALY = 1u << 2, /* anomaly flags */
	TRACE_EVENT_ALL = (1u << 3) - 1,
};

/*
 * A --name or --line regex (PCRE2) with bounded matching: a match that hits the match,
 * depth or heap limit counts as no match, and is counted.
 */
struct trace_regex;

/*
 * Compiles pattern (UTF-8, invalid UTF-8 in subjects tolerated). NULL with errno EINVAL and
 * one line in why (the reason and the offset) for a bad pattern, or ENOMEM.
 */
struct trace_regex *trace_regex__new(const char *pattern, char *why, size_t why_size);

/* NULL-safe. */
void trace_regex__free(struct trace_regex *re);

/* True when the regex matches somewhere in s[0..len); false too when a limit was hit. */
bool trace_regex__search(struct trace_regex *re, const char *s, size_t len);

/* Searches that hit a limit so far (and counted as no match). */
uint64_t trace_regex__limited(const struct trace_regex *re);

struct trace_options {
	struct loader_filter filter;	  /* pid, ppid, uid, min duration, failed (kernel) */
	char comm[TRACE_NAME_MAX];	  /* "" = any; fnmatch(3) pattern */
	char tool[TRACE_NAME_MAX];	  /* "" = any; fnmatch(3) pattern */
	char cgroup_path[TRACE_PATH_MAX]; /* "" = any; resolved to filter.cgroup_id by the caller */
	char container[TRACE_NAME_MAX];	  /* "" = any; a container id or its prefix */
	char pod[TRACE_NAME_MAX];	  /* "" = any; pod name (glob), or pod uid or its prefix */
	char namespace_[TRACE_NAME_MAX];  /* "" = any; glob; needs a name source */
	char name[TRACE_PATTERN_MAX];	  /* -n: "" = any; regex on comm or tool name */
	char line[TRACE_PATTERN_MAX];	  /* -l: "" = any; regex on the command line */
	struct trace_regex *name_re;	  /* compiled by trace_options__parse */
	struct trace_regex *line_re;
	char user[TRACE_NAME_MAX];	  /* -u NAME: resolved to filter.uid by the caller */
	char tools_rules[TRACE_PATH_MAX]; /* --tools.rules: "" = default naming only */
	struct kube_options kube;	  /* pod names for --pod/--namespace (--kubernetes.*) */
	unsigned int events;		  /* TRACE_EVENT_* */
	uint64_t duration_ns;		  /* 0 = until a signal */
	uint64_t interval_ns;		  /* 0 = no periodic summary */
	bool json;
	bool summary; /* also set by --interval */
	bool wide;
	bool print_uid;			/* -U: UID column */
	bool quote;			/* -q: argv words in double quotes */
	uint32_t max_args;		/* --max-args: argv words shown, 0 = all captured */
	bool timestamp;			/* -t: TIME column in seconds since tracing began */
	bool clock_time;		/* -T: TIME column as HH:MM:SS.mmm (the default) */
	bool version;			/* -V, --version: print it and exit */
	uint64_t anomaly_window_ns;	/* --events anomaly: window, as the agent's */
	uint64_t anomaly_min_windows;	/* 0: the detector's default */
	uint64_t anomaly_min_samples;	/* 0: the detector's default */
	char state_dir[TRACE_PATH_MAX]; /* --events anomaly: the agent's saved baselines */
};

/* Fills o with the defaults: no filter, --events exit, text lines until Ctrl-C. */
void trace_options__init(struct trace_options *o);

/* Frees what parsing allocated (the compiled regexes); o can be parsed again after. */
void trace_options__free(struct trace_options *o);

/*
 * Parses argv[0..argc) (the flags after `trace`) into o, which holds defaults already,
 * with flags__parse() as the agent does: --flag=value and --flag value; booleans also bare
 * or =true/false; -w and -h (no --version). Rejects unknown flags, positional arguments,
 * bad values and a value flag given twice, with one line in err naming the flag
 * (OPTIONS_ERROR: exit status 2). --interval implies --summary. -u takes a user id or a
 * user name; a name is left in o->user for the caller to resolve (filter.uid_set stays
 * false). --name and --line are compiled (a bad regex is an error naming the flag); call
 * trace_options__free() after.
 */
enum options_result trace_options__parse(struct trace_options *o, int argc, char **argv, char *err,
					 size_t err_size);

/*
 * Parses a comma-separated --events list (exec, exit, anomaly, all) into a
 * TRACE_EVENT_* mask. Returns 0, or -EINVAL for an empty list, an empty item or an
 * unknown name (the offending item copied into bad, NUL terminated).
 */
int trace_events__parse(const char *list, unsigned int *mask, char *bad, size_t bad_size);

/* Name of one TRACE_EVENT_* bit as spelled in --events ("?" for anything else). */
const char *trace_event__name(unsigned int bit);

/*
 * True when ev passes the filters of o. User space applies --comm and --tool to every
 * event, and --container (a prefix of ev->identity's container id), --pod (a glob of the
 * pod name in ev->names, else a prefix of the pod uid) and --namespace (a glob of the
 * namespace in ev->names; no names: no match) to events of a resolved identity (others
 * never match them); the kernel filters (pid, ppid, uid, cgroup) again to failed execs, which the
 * kernel reports unfiltered; --min-duration drops failed execs (they never ran) and
 * --failed keeps them. Execution starts pass --min-duration and --failed: their outcome
 * is not known yet. --name searches comm and the tool name, --line the command line
 * (argv joined by spaces, else the executable path; nothing for exits without argv).
 */
bool trace_options__match(const struct trace_options *o, const struct exec_event *ev);

/* True when --events asks for lines of this kind of event (failed execs: exec or exit). */
bool trace_options__shows(const struct trace_options *o, const struct exec_event *ev);

/* Usage text of `toolwatch trace`. */
extern const char trace_usage[];

#endif /* TOOLWATCH_TRACE_OPTIONS_H */
