// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "identity/kube_podlist.h"
#include "lib/strbuf.h"

#define HEX64(c)                                                                                   \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
	    c c c c c c c c c c c c c c c c c c c

/* The whole of tests/unit/data/<name>, found next to this source file. */
static char *read_data(const char *name, size_t *len)
{
	const char *slash = strrchr(__FILE__, '/');
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%.*sdata/%s", slash ? (int)(slash - __FILE__ + 1) : 0,
		 __FILE__, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open '%s'", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct kube_podmap *parse_ok(const char *text)
{
	struct kube_podmap *m = NULL;
	char why[256] = "";
	int err = kube_podlist__parse(text, strlen(text), &m, why, sizeof(why));

	if (err)
		fail_msg("parse failed (%d): %s", err, why);
	assert_non_null(m);
	return m;
}

static void parse_fails(const char *text)
{
	struct kube_podmap *m = (struct kube_podmap *)1;
	char why[256] = "";

	assert_int_equal(kube_podlist__parse(text, strlen(text), &m, why, sizeof(why)), -EINVAL);
	assert_null(m);
	assert_true(why[0]);
	assert_null(strchr(why, '\n')); /* one line */
}

static void assert_names(const struct kube_podmap *m, const char *uid, const char *cid,
			 const char *ns, const char *pod, const char *container)
{
	struct kube_pod_names n;

	memset(&n, 'x', sizeof(n));
	if (!kube_podmap__lookup(m, uid, cid, &n, NULL))
		fail_msg("pod '%s' unknown", uid);
	assert_string_equal(n.namespace_, ns);
	assert_string_equal(n.pod, pod);
	assert_string_equal(n.container, container);
}

static void test_kube_podlist_real_shapes(void **state)
{
	size_t len;
	char *text = read_data("podlist.json", &len);
	struct kube_podmap *m = NULL;
	char why[256];

	(void)state;
	assert_int_equal(kube_podlist__parse(text, len, &m, why, sizeof(why)), 0);
	assert_int_equal(m->nr_pods, 4);
	assert_int_equal(m->dropped, 0);
	/* containerd: main containers, the init container, a restarted one's previous id */
	assert_names(m, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", HEX64("4"), "shop",
		     "web-7d9f8c6b5-x2k4p", "nginx");
	assert_names(m, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", HEX64("3"), "shop",
		     "web-7d9f8c6b5-x2k4p", "nginx");
	assert_names(m, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", HEX64("2"), "shop",
		     "web-7d9f8c6b5-x2k4p", "log-shipper");
	assert_names(m, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", HEX64("1"), "shop",
		     "web-7d9f8c6b5-x2k4p", "migrate");
	/* cri-o:// and docker:// (an ephemeral container) */
	assert_names(m, "0b9e8d7c-6f5a-4b3c-2d1e-0f9a8b7c6d5e", HEX64("5"), "ops", "debug-shell",
		     "shell");
	assert_names(m, "0b9e8d7c-6f5a-4b3c-2d1e-0f9a8b7c6d5e", HEX64("6"), "ops", "debug-shell",
		     "debugger-x7");
	/* a static pod: by its own uid and by the kubelet's (the mirror annotation) */
	assert_names(m, "9d6c2a7e-1b3f-4c5d-8e9a-b0c1d2e3f4a5", HEX64("7"), "kube-system",
		     "kube-apiserver-node-a", "kube-apiserver");
	assert_names(m, "5b0d0b35c8bd0d4c2e8a6b1e3f7a9c21", HEX64("7"), "kube-system",
		     "kube-apiserver-node-a", "kube-apiserver");
	/* a pending pod: known, no container yet */
	assert_names(m, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", HEX64("8"), "batch",
		     "pending-job-abcde", "");
	assert_int_equal(m->nr_containers, 7);
	kube_podmap__free(m);
	free(text);
}

static void test_kube_podlist_lookup_misses(void **state)
{
	size_t len;
	char *text = read_data("podlist.json", &len);
	struct kube_podmap *m = NULL;
	struct kube_pod_names n;
	bool known = true;
	char why[256];

	(void)state;
	assert_int_equal(kube_podlist__parse(text, len, &m, why, sizeof(why)), 0);
	memset(&n, 'x', sizeof(n));
	assert_false(
	    kube_podmap__lookup(m, "ffffffff-0000-4000-8000-000000000000", HEX64("4"), &n, &known));
	assert_false(known);
	assert_string_equal(n.namespace_, "");
	assert_string_equal(n.pod, "");
	assert_string_equal(n.container, "");
	/* a known pod, a container id it does not have (a new instance): pod names only */
	assert_true(
	    kube_podmap__lookup(m, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", HEX64("9"), &n, &known));
	assert_false(known);
	assert_string_equal(n.pod, "web-7d9f8c6b5-x2k4p");
	assert_string_equal(n.container, "");
	/* no container id: the pod's names */
	assert_true(kube_podmap__lookup(m, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", NULL, &n, NULL));
	assert_true(kube_podmap__lookup(m, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "", &n, NULL));
	assert_string_equal(n.container, "");
	/* the scheme is not part of the id the cgroup path gives */
	assert_true(kube_podmap__lookup(m, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
					"containerd://" HEX64("4"), &n, &known));
	assert_false(known);
	assert_false(kube_podmap__lookup(m, "", NULL, &n, NULL));
	assert_false(kube_podmap__lookup(m, NULL, NULL, &n, NULL));
	assert_false(kube_podmap__lookup(NULL, "x", NULL, &n, NULL));
	kube_podmap__free(m);
	free(text);
}

static void test_kube_podlist_strip_scheme(void **state)
{
	(void)state;
	assert_string_equal(kube__strip_container_scheme("containerd://abc"), "abc");
	assert_string_equal(kube__strip_container_scheme("cri-o://abc"), "abc");
	assert_string_equal(kube__strip_container_scheme("docker://abc"), "abc");
	assert_string_equal(kube__strip_container_scheme("abc"), "abc");
	assert_string_equal(kube__strip_container_scheme("containerd://"), "");
}

static void test_kube_podlist_missing_and_mistyped_fields(void **state)
{
	struct kube_podmap *m;

	(void)state;
	m = parse_ok(
	    "{\"kind\":\"PodList\",\"items\":["
	    /* kept */
	    "{\"metadata\":{\"uid\":\"u1\",\"name\":\"p1\",\"namespace\":\"n1\"},"
	    "\"status\":{\"containerStatuses\":["
	    "{\"name\":\"c1\",\"containerID\":\"containerd://id1\"},"
	    "{\"containerID\":\"containerd://noname\"},"	 /* dropped */
	    "{\"name\":\"c3\",\"containerID\":42},"		 /* dropped */
	    "{\"name\":7,\"containerID\":\"containerd://id7\"}," /* dropped */
	    "{\"name\":\"c4\",\"containerID\":\"\"},"		 /* not started */
	    "{\"name\":\"c5\",\"containerID\":null},"		 /* not started */
	    "{\"name\":\"c6\"},"				 /* not started */
	    "\"not an object\","				 /* dropped */
	    "{\"name\":\"c8\",\"containerID\":\"containerd://id8\","
	    "\"lastState\":{\"terminated\":{\"containerID\":[]}}}]," /* previous dropped */
	    "\"initContainerStatuses\":{},"			     /* dropped */
	    "\"ephemeralContainerStatuses\":null}},"
	    "{\"metadata\":{\"name\":\"p2\",\"namespace\":\"n2\"}},"	       /* no uid */
	    "{\"metadata\":{\"uid\":\"u3\",\"namespace\":\"n3\"}},"	       /* no name */
	    "{\"metadata\":{\"uid\":\"u4\",\"name\":\"p4\"}},"		       /* no ns */
	    "{\"metadata\":{\"uid\":5,\"name\":\"p5\",\"namespace\":\"n5\"}}," /* type */
	    "{\"metadata\":[]},"
	    "{\"status\":{}},"
	    "17, null, \"pod\", [],"
	    "{\"metadata\":{\"uid\":\"u6\",\"name\":\"p6\",\"namespace\":\"n6\","
	    "\"annotations\":{\"kubernetes.io/config.mirror\":true}},"		     /* kept */
	    "\"status\":\"Running\"},"						     /* ignored */
	    "{\"metadata\":{\"uid\":\"\",\"name\":\"p7\",\"namespace\":\"n7\"}}]}"); /* "" */
	assert_int_equal(m->nr_pods, 2);
	assert_int_equal(m->nr_containers, 2);
	/* 5 containers, 1 list; 6 pods with bad metadata, 4 items not objects, 1 empty uid;
	 * 1 annotation */
	assert_int_equal(m->dropped, 5 + 1 + 6 + 4 + 1 + 1);
	assert_names(m, "u1", "id1", "n1", "p1", "c1");
	assert_names(m, "u1", "id8", "n1", "p1", "c8");
	assert_names(m, "u6", NULL, "n6", "p6", "");
	assert_null(kube_podmap__find(m, "u3"));
	assert_null(kube_podmap__find(m, "u4"));
	kube_podmap__free(m);
}

static void test_kube_podlist_not_a_podlist(void **state)
{
	struct kube_podmap *m;

	(void)state;
	parse_fails("");
	parse_fails("   ");
	parse_fails("<html><body>502 Bad Gateway</body></html>");
	parse_fails("[]");
	parse_fails("\"PodList\"");
	parse_fails("{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":403}");
	parse_fails("{\"kind\":7,\"items\":[]}");
	parse_fails("{\"kind\":\"PodList\",\"items\":{}}");
	parse_fails("{\"kind\":\"PodList\",\"items\":\"x\"}");
	/* truncated anywhere */
	parse_fails("{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"uid\":\"u1\",\"na");
	parse_fails("{\"kind\":\"PodList\",\"items\":[");
	/* invalid UTF-8, a NUL inside a string, duplicate keys */
	parse_fails("{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"uid\":\"\xff\xfe\"}}]}");
	parse_fails("{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"uid\":\"a\\u0000b\"}}]}");
	parse_fails("{\"items\":[],\"items\":[]}");
	/* a bad escape followed by a raw line break: jansson quotes both in its error */
	parse_fails("{\"kind\":\"Pod\\\nList\",\"items\":[]}");
	/* a list without kind, or with no items at all, is a list of no pods */
	m = parse_ok("{\"items\":[]}");
	assert_int_equal(m->nr_pods, 0);
	assert_null(kube_podmap__find(m, "u1"));
	kube_podmap__free(m);
	m = parse_ok("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":null}");
	assert_int_equal(m->nr_pods, 0);
	kube_podmap__free(m);
}

static void test_kube_podlist_string_bounds(void **state)
{
	struct strbuf b = {};
	char name[301];
	struct kube_podmap *m;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[300] = '\0';
	strbuf__puts(&b, "{\"items\":[");
	/* the longest pod name (253) fits; 254 does not */
	strbuf__appendf(
	    &b, "{\"metadata\":{\"uid\":\"u1\",\"name\":\"%.253s\",\"namespace\":\"n\"}},", name);
	strbuf__appendf(
	    &b, "{\"metadata\":{\"uid\":\"u2\",\"name\":\"%.254s\",\"namespace\":\"n\"}},", name);
	/* a uid or container id longer than 128 */
	strbuf__appendf(
	    &b, "{\"metadata\":{\"uid\":\"%.129s\",\"name\":\"p\",\"namespace\":\"n\"}},", name);
	strbuf__appendf(
	    &b,
	    "{\"metadata\":{\"uid\":\"u4\",\"name\":\"p4\",\"namespace\":\"n\"},"
	    "\"status\":{\"containerStatuses\":[{\"name\":\"c\",\"containerID\":"
	    "\"containerd://%.129s\"},{\"name\":\"d\",\"containerID\":\"x://%.128s\"}]}},",
	    name, name);
	/* escapes, unicode */
	strbuf__puts(&b, "{\"metadata\":{\"uid\":\"u5\",\"name\":\"p\\\"\\\\\\u00e9\","
			 "\"namespace\":\"\xe2\x82\xac\"}}]}");
	assert_false(b.oom);
	m = parse_ok(b.buf);
	assert_int_equal(m->nr_pods, 3);
	assert_int_equal(m->dropped, 3);
	assert_int_equal(strlen(kube_podmap__find(m, "u1")->name), 253);
	assert_null(kube_podmap__find(m, "u2"));
	assert_names(m, "u4", name + 300 - 129, "n", "p4", ""); /* dropped */
	name[128] = '\0';
	assert_names(m, "u4", name, "n", "p4", "d");
	assert_names(m, "u5", NULL, "\xe2\x82\xac", "p\"\\\xc3\xa9", "");
	kube_podmap__free(m);
	strbuf__free(&b);
}

static void test_kube_podlist_own_uid_beats_a_mirror_claim(void **state)
{
	/* the second pod's mirror annotation claims the first one's uid, in either order */
	static const char *const lists[] = {
	    "{\"kind\":\"PodList\",\"items\":["
	    "{\"metadata\":{\"name\":\"real\",\"namespace\":\"a\",\"uid\":\"u-1\"}},"
	    "{\"metadata\":{\"name\":\"claims\",\"namespace\":\"b\",\"uid\":\"u-2\","
	    "\"annotations\":{\"kubernetes.io/config.mirror\":\"u-1\"}}}]}",
	    "{\"kind\":\"PodList\",\"items\":["
	    "{\"metadata\":{\"name\":\"claims\",\"namespace\":\"b\",\"uid\":\"u-2\","
	    "\"annotations\":{\"kubernetes.io/config.mirror\":\"u-1\"}}},"
	    "{\"metadata\":{\"name\":\"real\",\"namespace\":\"a\",\"uid\":\"u-1\"}}]}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct kube_podmap *m = parse_ok(lists[i]);
		const struct kube_pod *p = kube_podmap__find(m, "u-1");

		assert_non_null(p);
		assert_string_equal(p->name, "real");
		assert_string_equal(kube_podmap__find(m, "u-2")->name, "claims");
		kube_podmap__free(m);
	}
}

static void test_kube_podlist_many_pods_and_duplicates(void **state)
{
	struct strbuf b = {};
	struct kube_podmap *m;
	char uid[64], pod[64], cid[80];

	(void)state;
	strbuf__puts(&b, "{\"kind\":\"PodList\",\"items\":[");
	for (int i = 0; i < 5000; i++)
		strbuf__appendf(
		    &b,
		    "%s{\"metadata\":{\"uid\":\"uid-%d\",\"name\":\"pod-%d\","
		    "\"namespace\":\"ns\"},\"status\":{\"containerStatuses\":[{\"name\":"
		    "\"c\",\"containerID\":\"containerd://%064x\"}]}}",
		    i ? "," : "", i, i, i);
	/* a uid seen again keeps its first pod */
	strbuf__puts(&b,
		     ",{\"metadata\":{\"uid\":\"uid-7\",\"name\":\"again\",\"namespace\":\"x\"}}");
	strbuf__puts(&b, "]}");
	assert_false(b.oom);
	m = parse_ok(b.buf);
	assert_int_equal(m->nr_pods, 5001);
	for (int i = 0; i < 5000; i++) {
		snprintf(uid, sizeof(uid), "uid-%d", i);
		snprintf(pod, sizeof(pod), "pod-%d", i);
		snprintf(cid, sizeof(cid), "%064x", i);
		assert_names(m, uid, cid, "ns", pod, "c");
	}
	assert_null(kube_podmap__find(m, "uid-5000"));
	kube_podmap__free(m);
	strbuf__free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kube_podlist_real_shapes),
	    cmocka_unit_test(test_kube_podlist_lookup_misses),
	    cmocka_unit_test(test_kube_podlist_strip_scheme),
	    cmocka_unit_test(test_kube_podlist_missing_and_mistyped_fields),
	    cmocka_unit_test(test_kube_podlist_not_a_podlist),
	    cmocka_unit_test(test_kube_podlist_string_bounds),
	    cmocka_unit_test(test_kube_podlist_many_pods_and_duplicates),
	    cmocka_unit_test(test_kube_podlist_own_uid_beats_a_mirror_claim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
