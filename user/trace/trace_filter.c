// SPDX-License-Identifier: GPL-2.0
/* The user-space side of `toolwatch trace` filters, and where cgroup2 is mounted; pure. */
#include <errno.h>
#include <fnmatch.h>
#include <string.h>

#include "identity/identity.h"
#include "lib/strbuf.h"
#include "trace/trace_options.h"

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

bool trace_options__match(const struct trace_options *o, const struct exec_event *ev)
{
	const struct loader_filter *f = &o->filter;

	if (!identity_matches(o, ev))
		return false;
	if (o->comm[0] && !name_matches(o->comm, ev->comm))
		return false;
	if (o->tool[0] && !tool_matches(o->tool, ev->tool))
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
