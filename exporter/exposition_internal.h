/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the exposition's files share; nothing else includes this header. The families are
 * walked once (exposition.c, exposition_self.c) and written through a writer (struct expo,
 * exposition_emit.c) in one of two formats: the text format, or delimited protobuf
 * MetricFamily messages (exposition_pb.c). Names, help, labels and values come from the
 * same calls in both formats.
 */
#ifndef TOOLWATCH_EXPOSITION_INTERNAL_H
#define TOOLWATCH_EXPOSITION_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "events/snapshot.h"
#include "lib/hist.h"
#include "lib/nativehist.h"
#include "lib/strbuf.h"

#define EXPO_NAME_MAX 128 /* longest family name, NUL included */

enum expo_type {
	EXPO_COUNTER,
	EXPO_GAUGE,
	EXPO_HISTOGRAM,
};

/* A writer of metric families into out, in the text format or as protobuf. */
struct expo {
	struct strbuf *out;
	bool protobuf;
	enum expo_type type; /* of the family being written */
	char name[EXPO_NAME_MAX];
	size_t name_len;
	/* protobuf: the family's header and Metric fields, written to out when it ends */
	struct strbuf head, body, scratch;
	size_t metrics; /* Metrics in body */
};

/*
 * Labels prepared once for many series, in their writer's format: text `a="x",b="y"`
 * (escaped, no braces), or protobuf LabelPair fields of a Metric. Built with expo__label().
 */
struct expo_labels {
	const char *buf;
	size_t len;
};

/* One histogram series: what the text and the protobuf format show of it. */
struct expo_hist {
	const struct hist *h;
	const struct hist_layout *layout;
	enum classic_buckets classic;	  /* bounds kept; the text format always has +Inf */
	const struct native_hist *native; /* protobuf: native buckets too; NULL: none */
	bool native_only;		  /* protobuf: leave the classic buckets out */
};

/* --- exposition_emit.c --- */

/* Starts writing families to out (protobuf: delimited MetricFamily messages). */
void expo__init(struct expo *w, struct strbuf *out, bool protobuf);

/* Ends the last family and frees the writer's buffers (out stays). */
void expo__finish(struct expo *w);

/* Starts family name (the previous one ends); text: its HELP and TYPE lines. */
void expo__family(struct expo *w, const char *name, enum expo_type type, const char *help);

/*
 * Appends label name with the bytes of value to a label set being built in set, in w's
 * format; value is shown in its visible form (exposition__escape_label()).
 */
void expo__label(const struct expo *w, struct strbuf *set, const char *name, const char *value);

/*
 * One series of the current family: the labels of base (NULL: none), then label="value"
 * when label is not NULL. value must need no escaping (a constant identifier). The value
 * of the series is v; expo__fixed() shows v / 10^decimals, expo__double() v as printf's
 * fmt writes it (protobuf: the number that text reads as).
 */
void expo__u64(struct expo *w, const struct expo_labels *base, const char *label, const char *value,
	       uint64_t v);
void expo__fixed(struct expo *w, const struct expo_labels *base, const char *label,
		 const char *value, uint64_t v, unsigned int decimals);
void expo__double(struct expo *w, const struct expo_labels *base, const char *label,
		  const char *value, const char *fmt, double v);

/* One histogram series of the current family, labelled as expo__u64() says. */
void expo__histogram(struct expo *w, const struct expo_labels *base, const char *label,
		     const char *value, const struct expo_hist *hs);

/* A family with its one unlabelled series of value v. */
void expo__gauge1(struct expo *w, const char *name, const char *help, uint64_t v);
void expo__counter1(struct expo *w, const char *name, const char *help, uint64_t v);

/* --- exposition_pb.c: the protobuf format's wire encoding --- */

/* Appends the LabelPair field of a Metric for name and value (len bytes). */
void pb__label(struct strbuf *out, const char *name, const char *value, size_t len);

/* Appends one Metric field of a counter or gauge (type) to w->body. */
void pb__sample(struct expo *w, const struct expo_labels *base, const char *label,
		const char *value, double v);

/* Appends one Metric field of a histogram to w->body. */
void pb__histogram(struct expo *w, const struct expo_labels *base, const char *label,
		   const char *value, const struct expo_hist *hs);

/* Writes the family in w->head and w->body to w->out when it has Metrics, then empties both. */
void pb__family_end(struct expo *w);

/* Starts family name's header in w->head. */
void pb__family_begin(struct expo *w, const char *help);

/* --- exposition.c --- */

/* The decimal places of layout's unit (9 for nanoseconds shown as seconds). */
unsigned int exposition__layout_decimals(const struct hist_layout *layout);

/* Whether the classic layout c keeps bound i of layout. */
bool exposition__bound_kept(const struct hist_layout *layout, unsigned int i,
			    enum classic_buckets c);

/* --- exposition_self.c --- */

/* Writes the agent's toolwatch_* families of s (build info, events, probes, BPF runs). */
void exposition__render_agent(struct expo *w, const struct snapshot *s, const char *version);

/* Writes the toolwatch_kubernetes_* families of k; nothing unless k->enabled. */
void exposition__render_kube(struct expo *w, const struct kube_stats *k);

/* Writes the identity resolver's and series table's families; nothing unless enabled. */
void exposition__render_identity(struct expo *w, const struct snapshot *s);

struct exporter_stats;

/* Writes the process_* and toolwatch_http_* families of e. */
void exposition__exporter_families(struct expo *w, const struct exporter_stats *e);

#endif /* TOOLWATCH_EXPOSITION_INTERNAL_H */
