/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Kubernetes PodList (the body of GET /api/v1/pods) turned into an immutable map:
 * pod uid -> namespace and pod name, container id -> container name. Pure: JSON text in,
 * map out (jansson); no I/O. The Kubernetes API client (kube.c) builds one per list.
 */
#ifndef TOOLWATCH_KUBE_PODLIST_H
#define TOOLWATCH_KUBE_PODLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/identity.h"

#define KUBE_NAME_MAX	    254	   /* a DNS subdomain (253, pod names) and its NUL */
#define KUBE_ID_MAX	    129	   /* pod uid or container id (after the scheme) and its NUL */
#define KUBE_PODS_MAX	    20000  /* pods kept from one list; the rest are dropped (counted) */
#define KUBE_CONTAINERS_MAX 100000 /* containers kept from one list */

/* struct kube_pod_names (the names of one execution's pod and container) is identity.h's */
_Static_assert(KUBE_NAME_MAX == IDENTITY_NAME_MAX, "one name size");

struct kube_container {
	char id[KUBE_ID_MAX]; /* containerID without its "containerd://" (...) scheme */
	char name[KUBE_NAME_MAX];
};

struct kube_pod {
	char uid[KUBE_ID_MAX];
	/* a static pod's mirror: the uid the kubelet (and the cgroup path) uses, else "" */
	char mirror_uid[KUBE_ID_MAX];
	char namespace_[KUBE_NAME_MAX];
	char name[KUBE_NAME_MAX];
	size_t first_container; /* its containers: containers[first .. first + nr) */
	size_t nr_containers;
};

struct kube_podmap {
	struct kube_pod *pods;
	size_t nr_pods;
	struct kube_container *containers;
	size_t nr_containers;
	uint32_t *index; /* open addressing over uid and mirror_uid: pod index + 1, 0 empty */
	size_t index_size;
	uint64_t dropped; /* pods and containers left out: missing, mistyped or over-long fields */
};

/*
 * Parses a PodList (a JSON object whose "items" is an array; "kind", when present, is
 * "PodList") into *out. Each pod needs metadata.uid, .name and .namespace as strings;
 * containers come from status.containerStatuses, initContainerStatuses and
 * ephemeralContainerStatuses (containerID and, for the previous instance of a restarted
 * container, lastState.terminated.containerID). A pod or container with a missing,
 * mistyped or over-long field is left out and counted in dropped; a container without an
 * id yet (waiting) is skipped silently. Returns 0; -EINVAL with one line in why when the
 * text is not such a document; -ENOMEM.
 */
int kube_podlist__parse(const char *text, size_t len, struct kube_podmap **out, char *why,
			size_t why_size);

/* The pod with this uid (or mirror uid), NULL when unknown. NULL-safe. */
const struct kube_pod *kube_podmap__find(const struct kube_podmap *m, const char *uid);

/*
 * Fills out (all three names) for pod_uid and container_id: false, out emptied, when the
 * pod is unknown; true with namespace and pod set and container set when container_id
 * (NULL or "" for none) is one of its containers, "" otherwise (*container_known tells,
 * when not NULL).
 */
bool kube_podmap__lookup(const struct kube_podmap *m, const char *pod_uid, const char *container_id,
			 struct kube_pod_names *out, bool *container_known);

/* NULL-safe. */
void kube_podmap__free(struct kube_podmap *m);

/*
 * The id in a containerStatuses[].containerID: the text after "<scheme>://" (containerd,
 * cri-o, docker or any other runtime's scheme), or the whole text when it has none.
 */
const char *kube__strip_container_scheme(const char *id);

#endif /* TOOLWATCH_KUBE_PODLIST_H */
