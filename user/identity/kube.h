/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Kubernetes API client: names (namespace, pod, container) of the pods on this node.
 * A background thread lists the node's pods (GET /api/v1/pods?fieldSelector=
 * spec.nodeName=NODE, libcurl) every resync interval and when a lookup misses (rate
 * limited), parses the PodList (kube_podlist.c) and swaps in the new map; a failed list
 * is counted by reason and keeps the last good map. Lookups never wait for the network.
 */
#ifndef TOOLWATCH_KUBE_H
#define TOOLWATCH_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "identity/kube_podlist.h"
#include "events/snapshot.h"

#define KUBE_URL_MAX  1024
#define KUBE_PATH_MAX 4096

/* Where the in-cluster configuration lives (the service account's projected volume). */
#define KUBE_SA_TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define KUBE_SA_CA    "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"

/* --kubernetes.*: "" takes the in-cluster default. */
struct kube_options {
	bool enable;			/* --kubernetes.enable */
	char api_url[KUBE_URL_MAX];	/* "" https://$KUBERNETES_SERVICE_HOST:$..._PORT */
	char token_file[KUBE_PATH_MAX]; /* "" KUBE_SA_TOKEN when it exists, else no token */
	char ca_file[KUBE_PATH_MAX];	/* "" KUBE_SA_CA when it exists, else the system CAs */
	char node_name[KUBE_NAME_MAX];	/* "" $NODE_NAME */
	uint64_t timeout_ns;		/* one request, connect to last byte (default 5s) */
	uint64_t resync_ns;		/* periodic list (default 30s) */
	uint64_t min_refresh_ns;	/* on-demand lists at most this often (default 1s) */
	uint64_t max_body_bytes;	/* a larger body is a failure, too_large (default 4MiB) */
};

/* Fills o with the defaults above (enable false). Inline: the flag table stays pure. */
static inline void kube_options__init(struct kube_options *o)
{
	*o = (struct kube_options){
	    .timeout_ns = 5000000000ULL,
	    .resync_ns = 30000000000ULL,
	    .min_refresh_ns = 1000000000ULL,
	    .max_body_bytes = 4ULL << 20,
	};
}

/*
 * --kubernetes.api-url for the agent's and trace's flag tables: an http(s) URL without
 * query, fragment or blanks. 0, or -EINVAL with what is wanted in why.
 */
static inline int kube_options__set_api_url(struct kube_options *o, const char *v, char *why,
					    size_t n)
{
	if ((strncmp(v, "https://", 8) && strncmp(v, "http://", 7)) ||
	    strlen(v) >= sizeof(o->api_url) || strpbrk(v, "?# \t\r\n")) {
		snprintf(why, n, "want https://HOST[:PORT][/PATH]");
		return -EINVAL;
	}
	snprintf(o->api_url, sizeof(o->api_url), "%s", v);
	return 0;
}

struct kube;

/*
 * Resolves the configuration (flags over the in-cluster environment) and starts the
 * background thread; the first list runs at once, in that thread. NULL + errno, with one
 * line in err: ENOENT when the API or the node is not named at all (no --kubernetes.api-url
 * and no KUBERNETES_SERVICE_HOST/_PORT, or no --kubernetes.node-name and no NODE_NAME: not
 * in a pod), EINVAL when a value is malformed (a URL that is not http(s), a node name that
 * is not a DNS subdomain), else the errno of what failed (libcurl, thread).
 */
struct kube *kube__start(const struct kube_options *o, char *err, size_t err_size);

/* Stops the thread (an HTTP request in flight is aborted at once) and frees. NULL-safe. */
void kube__stop(struct kube *k);

/*
 * The names of pod_uid and container_id (as cut from a cgroup path; container_id may be
 * NULL or "") from the last good list. Non-blocking (a short mutex, never held across
 * I/O) and thread-safe. True when pod_uid is known (its uid or a static pod's mirror
 * uid): namespace and pod filled, container filled when container_id is one of its
 * containerStatuses[].containerID (scheme stripped), else "". An unknown pod, or an
 * unknown container of a known pod, asks the thread for a list (at most one per
 * min_refresh, backing off while the API fails; a pair still unknown after a list is not
 * asked for again before the next periodic list) and returns at once.
 */
bool kube__lookup(struct kube *k, const char *pod_uid, const char *container_id,
		  struct kube_pod_names *out);

/*
 * Incremented (from 0) each time a good list replaces the map: a caller that caches
 * lookups (per cgroup) redoes those with unknown names when it changes. Lock-free.
 */
uint64_t kube__generation(const struct kube *k);

/* The client's figures for the snapshot (enabled = true). Thread-safe. */
void kube__stats(struct kube *k, struct kube_stats *out);

/* The list URL the client requests (for logs). */
const char *kube__url(const struct kube *k);

#endif /* TOOLWATCH_KUBE_H */
