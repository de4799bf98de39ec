// SPDX-License-Identifier: GPL-2.0
/* The user-space side of `toolwatch trace` filters, and where cgroup2 is mounted; pure. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "identity/identity.h"
#include "lib/strbuf.h"
#include "trace/trace_options.h"

/*
 * Bounds of one --name/--line search: a pattern that backtracks without end on some
 * command line must not stall the event loop. A search of a 512-byte command line by a
 * sane pattern stays far below them.
 */
#define REGEX_MATCH_LIMIT 100000 /* calls of the internal match() */
#define REGEX_DEPTH_LIMIT 1000	 /* backtracking depth */
#define REGEX_HEAP_KIB	  1024	 /* backtracking memory */
#define LINE_MAX_BYTES	  (TW_ARGS_LEN + TW_PATH_LEN + 1)

struct trace_regex {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	uint64_t limited;
};

void trace_regex__free(struct trace_regex *re)
{
	if (!re)
		return;
	pcre2_match_context_free(re->mctx);
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re);
}

struct trace_regex *trace_regex__new(const char *pattern, char *why, size_t why_size)
{
	struct trace_regex *re = calloc(1, sizeof(*re));
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE offset;
	int code;

	if (!re)
		return NULL;
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				 PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
	if (!re->code) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(why, why_size, "%s at offset %zu", (const char *)msg, (size_t)offset);
		trace_regex__free(re);
		errno = EINVAL;
		return NULL;
	}
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	re->mctx = pcre2_match_context_create(NULL);
	if (!re->md || !re->mctx) {
		trace_regex__free(re);
		errno = ENOMEM;
		return NULL;
	}
	pcre2_set_match_limit(re->mctx, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(re->mctx, REGEX_HEAP_KIB);
	return re;
}

bool trace_regex__search(struct trace_regex *re, const char *s, size_t len)
{
	int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, re->md, re->mctx);

	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT)
		re->limited++;
	return rc >= 0;
}

uint64_t trace_regex__limited(const struct trace_regex *re)
{
	return re ? re->limited : 0;
}

/* --name: the task name or the tool name. */
static bool name_regex_matches(struct trace_regex *re, const struct exec_event *ev)
{
	const char *comm = ev->comm ? ev->comm : "", *tool = ev->tool ? ev->tool : "";

	return trace_regex__search(re, comm, strlen(comm)) ||
	       (strcmp(tool, comm) && trace_regex__search(re, tool, strlen(tool)));
}

/* --line: argv joined by spaces (as ARGS shows it), else the executable path. */
static bool line_regex_matches(struct trace_regex *re, const struct exec_event *ev)
{
	char line[LINE_MAX_BYTES];
	size_t len = ev->args ? ev->args_size : 0;

	while (len && !ev->args[len - 1])
		len--;
	if (len) {
		len = len < sizeof(line) ? len : sizeof(line);
		for (size_t i = 0; i < len; i++)
			line[i] = ev->args[i] ? ev->args[i] : ' ';
		return trace_regex__search(re, line, len);
	}
	if (ev->filename && ev->filename[0])
		return trace_regex__search(re, ev->filename, strlen(ev->filename));
	return false;
}

/* fnmatch(3) of a pattern against a possibly NULL name. */
static bool name_matches(const char *pattern, const char *name)
{
	return fnmatch(pattern, name ? name : "", 0) == 0;
}

/* --tool: the name's bytes, or its label value as /metrics shows it (taken literally). */
static bool tool_matches(const char *pattern, const char *name)
{
	struct strbuf visible = {0};
	bool match;

	if (name_matches(pattern, name))
		return true;
	if (!name)
		return false;
	strbuf__put_visible(&visible, name, strlen(name));
	match = visible.buf && strcmp(visible.buf, name) &&
		fnmatch(pattern, visible.buf, FNM_NOESCAPE) == 0;
	strbuf__free(&visible);
	return match;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* --container, --pod, --namespace against what the event's cgroup and names say. */
static bool identity_matches(const struct trace_options *o, const struct exec_event *ev)
{
	const struct cgroup_identity *id = ev->identity;
	const struct kube_pod_names *n = ev->names;

	if (!o->container[0] && !o->pod[0] && !o->namespace_[0])
		return true;
	if (!id)
		return false;
	if (o->container[0] &&
	    (!id->container_id[0] || !has_prefix(id->container_id, o->container)))
		return false;
	if (o->pod[0] && !(n && n->pod[0] && name_matches(o->pod, n->pod)) &&
	    !(id->pod_uid[0] && has_prefix(id->pod_uid, o->pod)))
		return false;
	if (o->namespace_[0] &&
	    !(n && n->namespace_[0] && name_matches(o->namespace_, n->namespace_)))
		return false;
	return true;
}

/* The kernel's filters on what it does not filter itself, --min-duration and --failed. */
static bool outcome_matches(const struct trace_options *o, const struct exec_event *ev)
{
	const struct loader_filter *f = &o->filter;

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

bool trace_options__match(const struct trace_options *o, const struct exec_event *ev)
{
	if (!identity_matches(o, ev))
		return false;
	if (o->comm[0] && !name_matches(o->comm, ev->comm))
		return false;
	if (o->tool[0] && !tool_matches(o->tool, ev->tool))
		return false;
	if (!outcome_matches(o, ev))
		return false;
	/* the regexes last: the dearest */
	if (o->name_re && !name_regex_matches(o->name_re, ev))
		return false;
	return !o->line_re || line_regex_matches(o->line_re, ev);
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
