// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "identity/kube_podlist.h"
#include "lib/strbuf.h"

/* The annotation a static pod's mirror carries: the uid the kubelet runs it under. */
#define MIRROR_ANNOTATION "kubernetes.io/config.mirror"

const char *kube__strip_container_scheme(const char *id)
{
	const char *sep = strstr(id, "://");

	return sep ? sep + 3 : id;
}

/* A string member of obj copied into dst; false when missing, not a string, empty or too long. */
static bool get_string(const json_t *obj, const char *key, char *dst, size_t size)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	size_t n;

	if (!json_is_string(v))
		return false;
	n = json_string_length(v);
	if (!n || n >= size)
		return false;
	memcpy(dst, json_string_value(v), n + 1);
	return true;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct builder {
	struct kube_podmap *m;
	size_t pods_cap, containers_cap;
};

static int add_container(struct builder *b, const char *id, const char *name)
{
	struct kube_podmap *m = b->m;

	if (m->nr_containers == b->containers_cap) {
		size_t cap = b->containers_cap ? b->containers_cap * 2 : 64;
		void *p = realloc(m->containers, cap * sizeof(*m->containers));

		if (!p)
			return -ENOMEM;
		m->containers = p;
		b->containers_cap = cap;
	}
	snprintf(m->containers[m->nr_containers].id, KUBE_ID_MAX, "%s", id);
	snprintf(m->containers[m->nr_containers].name, KUBE_NAME_MAX, "%s", name);
	m->nr_containers++;
	return 0;
}

/* One containerStatuses[] entry: its id and its previous instance's, both under its name. */
static int add_status(struct builder *b, const json_t *st)
{
	char name[KUBE_NAME_MAX], raw[KUBE_ID_MAX + 64];
	const json_t *last, *objs[2];
	const char *id;
	int err;

	if (!get_string(st, "name", name, sizeof(name))) {
		b->m->dropped++;
		return 0;
	}
	last = json_object_get(st, "lastState");
	last = json_is_object(last) ? json_object_get(last, "terminated") : NULL;
	objs[0] = st;
	objs[1] = last;

	for (int i = 0; i < 2; i++) {
		const json_t *v =
		    json_is_object(objs[i]) ? json_object_get(objs[i], "containerID") : NULL;

		if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)))
			continue; /* not started yet, or no previous instance */
		if (!get_string(objs[i], "containerID", raw, sizeof(raw))) {
			b->m->dropped++;
			continue;
		}
		id = kube__strip_container_scheme(raw);
		if (!*id || strlen(id) >= KUBE_ID_MAX) {
			b->m->dropped++;
			continue;
		}
		if (b->m->nr_containers >= KUBE_CONTAINERS_MAX) {
			b->m->dropped++;
			continue;
		}
		err = add_container(b, id, name);
		if (err)
			return err;
	}
	return 0;
}

static int add_pod(struct builder *b, const json_t *item)
{
	static const char *const lists[] = {"containerStatuses", "initContainerStatuses",
					    "ephemeralContainerStatuses"};
	struct kube_podmap *m = b->m;
	const json_t *meta = json_is_object(item) ? json_object_get(item, "metadata") : NULL;
	const json_t *status, *ann;
	struct kube_pod *p;
	int err;

	if (m->nr_pods >= KUBE_PODS_MAX) {
		m->dropped++;
		return 0;
	}
	if (m->nr_pods == b->pods_cap) {
		size_t cap = b->pods_cap ? b->pods_cap * 2 : 16;
		void *np = realloc(m->pods, cap * sizeof(*m->pods));

		if (!np)
			return -ENOMEM;
		m->pods = np;
		b->pods_cap = cap;
	}
	p = &m->pods[m->nr_pods];
	memset(p, 0, sizeof(*p));
	if (!get_string(meta, "uid", p->uid, sizeof(p->uid)) ||
	    !get_string(meta, "name", p->name, sizeof(p->name)) ||
	    !get_string(meta, "namespace", p->namespace_, sizeof(p->namespace_))) {
		m->dropped++;
		return 0;
	}
	ann = json_object_get(meta, "annotations");
	if (json_is_object(ann) && json_object_get(ann, MIRROR_ANNOTATION) &&
	    !get_string(ann, MIRROR_ANNOTATION, p->mirror_uid, sizeof(p->mirror_uid)))
		m->dropped++; /* the pod stays, known by its own uid */
	p->first_container = m->nr_containers;
	status = json_is_object(item) ? json_object_get(item, "status") : NULL;
	for (size_t l = 0; json_is_object(status) && l < sizeof(lists) / sizeof(lists[0]); l++) {
		const json_t *arr = json_object_get(status, lists[l]);
		size_t i;
		const json_t *st;

		if (!arr || json_is_null(arr))
			continue;
		if (!json_is_array(arr)) {
			m->dropped++;
			continue;
		}
		json_array_foreach(arr, i, st)
		{
			err = add_status(b, st);
			if (err)
				return err;
		}
	}
	p->nr_containers = m->nr_containers - p->first_container;
	m->nr_pods++;
	return 0;
}

static void index_put(struct kube_podmap *m, const char *key, size_t pod)
{
	size_t mask = m->index_size - 1;

	for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
		if (!m->index[i]) {
			m->index[i] = (uint32_t)(pod + 1);
			return;
		}
		/* a uid seen twice keeps its first pod */
		const struct kube_pod *q = &m->pods[m->index[i] - 1];

		if (!strcmp(q->uid, key) || !strcmp(q->mirror_uid, key))
			return;
	}
}

static int build_index(struct kube_podmap *m)
{
	size_t keys = m->nr_pods * 2, size = 16;

	while (size < keys * 2)
		size *= 2;
	m->index = calloc(size, sizeof(*m->index));
	if (!m->index)
		return -ENOMEM;
	m->index_size = size;
	/* every pod's own uid before any mirror annotation, which cannot take a uid's place */
	for (size_t i = 0; i < m->nr_pods; i++)
		index_put(m, m->pods[i].uid, i);
	for (size_t i = 0; i < m->nr_pods; i++) {
		if (m->pods[i].mirror_uid[0])
			index_put(m, m->pods[i].mirror_uid, i);
	}
	return 0;
}

int kube_podlist__parse(const char *text, size_t len, struct kube_podmap **out, char *why,
			size_t why_size)
{
	struct builder b = {};
	json_error_t jerr;
	const json_t *items, *kind, *item;
	json_t *root;
	size_t i;
	int err = 0;

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(why, why_size, "not JSON: %s at line %d column %d", jerr.text, jerr.line,
			 jerr.column);
		str__one_line(why); /* jansson quotes the offending bytes */
		return -EINVAL;
	}
	kind = json_object_get(root, "kind");
	items = json_object_get(root, "items");
	if (!json_is_object(root) ||
	    (kind && !(json_is_string(kind) && !strcmp(json_string_value(kind), "PodList")))) {
		snprintf(why, why_size, "not a PodList");
		err = -EINVAL;
		goto out;
	}
	if (!json_is_array(items) && !json_is_null(items)) {
		snprintf(why, why_size, "PodList without an items array");
		err = -EINVAL;
		goto out;
	}
	b.m = calloc(1, sizeof(*b.m));
	if (!b.m) {
		err = -ENOMEM;
		goto nomem;
	}
	json_array_foreach(items, i, item)
	{
		err = add_pod(&b, item);
		if (err)
			goto nomem;
	}
	err = build_index(b.m);
	if (err)
		goto nomem;
	*out = b.m;
	goto out;
nomem:
	snprintf(why, why_size, "out of memory");
	kube_podmap__free(b.m);
out:
	if (err)
		str__one_line(why); /* one line whatever a message quotes */
	json_decref(root);
	return err;
}

const struct kube_pod *kube_podmap__find(const struct kube_podmap *m, const char *uid)
{
	const struct kube_pod *mirror = NULL;
	size_t mask;

	if (!m || !m->index_size || !uid || !*uid)
		return NULL;
	mask = m->index_size - 1;
	/* a pod's own uid first: another pod's mirror annotation may claim the same string */
	for (size_t i = hash_str(uid) & mask; m->index[i]; i = (i + 1) & mask) {
		const struct kube_pod *p = &m->pods[m->index[i] - 1];

		if (!strcmp(p->uid, uid))
			return p;
		if (!mirror && !strcmp(p->mirror_uid, uid))
			mirror = p;
	}
	return mirror;
}

bool kube_podmap__lookup(const struct kube_podmap *m, const char *pod_uid, const char *container_id,
			 struct kube_pod_names *out, bool *container_known)
{
	const struct kube_pod *p = kube_podmap__find(m, pod_uid);

	out->namespace_[0] = out->pod[0] = out->container[0] = '\0';
	if (container_known)
		*container_known = false;
	if (!p)
		return false;
	memcpy(out->namespace_, p->namespace_, sizeof(out->namespace_));
	memcpy(out->pod, p->name, sizeof(out->pod));
	if (!container_id || !*container_id)
		return true;
	for (size_t i = 0; i < p->nr_containers; i++) {
		const struct kube_container *c = &m->containers[p->first_container + i];

		if (!strcmp(c->id, container_id)) {
			memcpy(out->container, c->name, sizeof(out->container));
			if (container_known)
				*container_known = true;
			break;
		}
	}
	return true;
}

void kube_podmap__free(struct kube_podmap *m)
{
	if (!m)
		return;
	free(m->pods);
	free(m->containers);
	free(m->index);
	free(m);
}
