// SPDX-License-Identifier: GPL-2.0
/*
 * The protobuf exposition: length-delimited io.prometheus.client.MetricFamily messages.
 * Every family is first rendered as text (exposition*.c), then carried over field by field,
 * so names, help, labels and values are the same in both formats by construction; the
 * tool_* histograms gain their native buckets on the way (one Metric per tool, in the
 * snapshot's order).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "exporter/metrics.pb-c.h"
#include "exposition.h"

typedef Io__Prometheus__Client__MetricFamily MetricFamily;
typedef Io__Prometheus__Client__Metric Metric;
typedef Io__Prometheus__Client__LabelPair LabelPair;
typedef Io__Prometheus__Client__Counter Counter;
typedef Io__Prometheus__Client__Gauge Gauge;
typedef Io__Prometheus__Client__Untyped Untyped;
typedef Io__Prometheus__Client__Histogram Histogram;
typedef Io__Prometheus__Client__Bucket Bucket;
typedef Io__Prometheus__Client__BucketSpan BucketSpan;

/* A bump allocator for one family's messages: chunks never move, reset per family. */
struct arena {
	struct chunk {
		struct chunk *next;
		size_t used, size;
		_Alignas(16) char data[];
	} * head, *cur;
	bool oom;
};

#define CHUNK_BYTES (64 << 10)

static void *arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->cur;

	n = (n + 15) & ~(size_t)15;
	while (c && c->used + n > c->size)
		c = c->next;
	if (!c) {
		size_t size = n > CHUNK_BYTES ? n : CHUNK_BYTES;

		c = malloc(sizeof(*c) + size);
		if (!c) {
			a->oom = true;
			return NULL;
		}
		c->size = size;
		c->used = 0;
		c->next = NULL;
		/* append, so a reset walks every chunk again */
		if (!a->head) {
			a->head = c;
		} else {
			struct chunk *t = a->cur ? a->cur : a->head;

			while (t->next)
				t = t->next;
			t->next = c;
		}
	}
	a->cur = c;
	memset(c->data + c->used, 0, n);
	c->used += n;
	return c->data + c->used - n;
}

static void arena_reset(struct arena *a)
{
	for (struct chunk *c = a->head; c; c = c->next)
		c->used = 0;
	a->cur = a->head;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *next = a->head->next;

		free(a->head);
		a->head = next;
	}
}

/* A growing array of pointers in the arena (copied on growth; old copies are left). */
struct ptrs {
	void **v;
	size_t n, cap;
};

static bool ptrs_push(struct arena *a, struct ptrs *p, void *x)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		void **v = arena_alloc(a, cap * sizeof(*v));

		if (!v)
			return false;
		if (p->n)
			memcpy(v, p->v, p->n * sizeof(*v));
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = x;
	return true;
}

/* text's escapes undone (\\, \", \n), NUL-terminated in the arena */
static char *unescape(struct arena *a, const char *s, size_t len)
{
	char *out = arena_alloc(a, len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			i++;
			*o++ = s[i] == 'n' ? '\n' : s[i];
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static void put_varint(struct strbuf *out, uint64_t v)
{
	char b[10];
	size_t n = 0;

	do {
		b[n] = (char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= (char)0x80;
		n++;
	} while (v);
	strbuf__append(out, b, n);
}

/* One family being carried over, and where its native buckets come from. */
struct family_state {
	MetricFamily mf;
	size_t name_len; /* of mf.name */
	struct ptrs metrics;
	const char *key; /* labels of the current histogram Metric (text, without le) */
	size_t key_len;
	Metric *cur;
	struct ptrs buckets;  /* of cur */
	size_t native_offset; /* offsetof(struct tool_stats, ...) or 0: no native buckets */
	bool classic;	      /* the classic buckets go too */
};

/* Packs the family, if it has metrics, as one length-delimited message. */
static void flush(struct family_state *f, struct arena *a, struct strbuf *out)
{
	if (f->cur && f->cur->histogram) {
		f->cur->histogram->n_bucket = f->buckets.n;
		f->cur->histogram->bucket = (Bucket **)f->buckets.v;
	}
	if (f->mf.name && f->metrics.n && !a->oom) {
		size_t size;

		f->mf.n_metric = f->metrics.n;
		f->mf.metric = (Metric **)f->metrics.v;
		size = protobuf_c_message_get_packed_size(&f->mf.base);
		put_varint(out, size);
		/* packed in place, no copy */
		uint8_t *room = (uint8_t *)strbuf__reserve(out, size + 1);

		if (room) {
			out->len += protobuf_c_message_pack(&f->mf.base, room);
			out->buf[out->len] = '\0';
		}
	}
	memset(f, 0, sizeof(*f));
	arena_reset(a);
}

/* Adds the native buckets of nh to h: spans of consecutive buckets, deltas of counts. */
static void native_buckets(struct arena *a, Histogram *h, const struct native_hist *nh)
{
	size_t nspans = 0, nb = 0;
	BucketSpan **spans;
	int64_t *deltas, prev = 0;
	int32_t last_end = 0; /* index after the previous span */

	h->has_schema = true;
	h->schema = native_hist__schema(nh);
	h->has_zero_threshold = true;
	h->zero_threshold = NATIVE_HIST_ZERO_THRESHOLD;
	h->has_zero_count = true;
	h->zero_count = nh->zero_count;
	spans = arena_alloc(a, (nh->nr + 1) * sizeof(*spans));
	deltas = arena_alloc(a, (nh->nr + 1) * sizeof(*deltas));
	if (!spans || !deltas)
		return;
	for (uint16_t i = 0; i < nh->nr; i++) {
		int32_t key = nh->first + i;

		if (!nh->counts[i])
			continue;
		/* a run goes on through its zero gaps of at most 2 buckets, as client_golang */
		if (nspans && key - last_end <= 2) {
			for (int32_t k = last_end; k < key; k++) {
				deltas[nb++] = -prev;
				prev = 0;
			}
			spans[nspans - 1]->length += (uint32_t)(key - last_end + 1);
		} else {
			BucketSpan *sp = arena_alloc(a, sizeof(*sp));

			if (!sp)
				return;
			io__prometheus__client__bucket_span__init(sp);
			sp->has_offset = sp->has_length = true;
			sp->offset = nspans ? key - last_end : key;
			sp->length = 1;
			spans[nspans++] = sp;
		}
		deltas[nb++] = (int64_t)nh->counts[i] - prev;
		prev = (int64_t)nh->counts[i];
		last_end = key + 1;
	}
	if (!nspans) {
		/* no bucket yet: an empty span still marks the histogram as native */
		BucketSpan *sp = arena_alloc(a, sizeof(*sp));

		if (!sp)
			return;
		io__prometheus__client__bucket_span__init(sp);
		sp->has_offset = sp->has_length = true;
		spans[nspans++] = sp;
	}
	h->n_positive_span = nspans;
	h->positive_span = spans;
	h->n_positive_delta = nb;
	h->positive_delta = deltas;
}

/* Parses `a="b",c="d"` into label pairs, stopping at skip (a label left out, or NULL). */
static bool parse_labels(struct arena *a, const char *p, const char *end, Metric *m,
			 const char *skip)
{
	struct ptrs pairs = {};

	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p)), *v, *q;
		LabelPair *lp;

		if (!eq || eq + 1 >= end || eq[1] != '"')
			return false;
		v = eq + 2;
		for (q = v; q < end && *q != '"'; q++)
			if (*q == '\\')
				q++;
		if (q >= end)
			return false;
		if (!skip || (size_t)(eq - p) != strlen(skip) ||
		    memcmp(p, skip, (size_t)(eq - p))) {
			lp = arena_alloc(a, sizeof(*lp));
			if (!lp)
				return false;
			io__prometheus__client__label_pair__init(lp);
			lp->name = unescape(a, p, (size_t)(eq - p));
			lp->value = unescape(a, v, (size_t)(q - v));
			if (!lp->name || !lp->value || !ptrs_push(a, &pairs, lp))
				return false;
		}
		p = q + 1;
		if (p < end && *p == ',')
			p++;
	}
	m->n_label = pairs.n;
	m->label = (LabelPair **)pairs.v;
	return true;
}

static bool has_suffix(const char *name, size_t len, const char *base, size_t bl,
		       const char *suffix, size_t sl)
{
	return len == bl + sl && !memcmp(name, base, bl) && !memcmp(name + bl, suffix, sl);
}

/* The text of le="..." in labels [p, end), or NULL; *key_len the labels before it. */
static const char *find_le(const char *p, const char *end, size_t *key_len)
{
	for (const char *q = p; q + 4 <= end; q++) {
		if ((q == p || q[-1] == ',') && !memcmp(q, "le=\"", 4)) {
			*key_len = (size_t)(q > p ? q - 1 - p : 0);
			return q + 4;
		}
	}
	*key_len = (size_t)(end - p);
	return NULL;
}

/* A number in [p, end): most are plain integers, read without strtod(). */
static double number(const char *p, const char *end)
{
	char buf[64];
	uint64_t n = 0;
	size_t len = 0;
	const char *q = p;

	while (q < end && *q >= '0' && *q <= '9' && q - p < 19)
		n = n * 10 + (uint64_t)(*q++ - '0');
	if (q > p && (q == end || *q == '\n' || *q == ' ' || *q == '"'))
		return (double)n;
	while (p + len < end && len < sizeof(buf) - 1 && p[len] != '\n' && p[len] != '"')
		len++;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return strtod(buf, NULL);
}

/* A count from a sample value: negative and NaN are 0, too large saturates. */
static uint64_t count_of(double v)
{
	if (!(v > 0))
		return 0;
	return v < 0x1p64 ? (uint64_t)v : UINT64_MAX;
}

/* One sample line of family f: name, labels [lp, le), value. */
static bool sample(struct family_state *f, struct arena *a, const struct snapshot *s,
		   const char *name, size_t name_len, const char *lp, const char *le,
		   const char *value, const char *eol)
{
	double v = number(value, eol);
	Metric *m;

	if (f->mf.type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM) {
		size_t key_len;
		const char *le_value = find_le(lp, le, &key_len);
		bool bucket = has_suffix(name, name_len, f->mf.name, f->name_len, "_bucket", 7);

		if (!f->cur || key_len != f->key_len || memcmp(lp, f->key, key_len)) {
			Histogram *h;

			if (f->cur) {
				f->cur->histogram->n_bucket = f->buckets.n;
				f->cur->histogram->bucket = (Bucket **)f->buckets.v;
			}
			m = arena_alloc(a, sizeof(*m));
			h = arena_alloc(a, sizeof(*h));
			if (!m || !h)
				return false;
			io__prometheus__client__metric__init(m);
			io__prometheus__client__histogram__init(h);
			m->histogram = h;
			if (!parse_labels(a, lp, le, m, "le") || !ptrs_push(a, &f->metrics, m))
				return false;
			if (f->native_offset && f->metrics.n <= s->nr_tools)
				native_buckets(
				    a, h,
				    (const struct native_hist
					 *)((const char *)&s->tools[f->metrics.n - 1].stats +
					    f->native_offset));
			f->cur = m;
			f->key = lp;
			f->key_len = key_len;
			memset(&f->buckets, 0, sizeof(f->buckets));
		}
		m = f->cur;
		if (bucket && le_value && f->classic && strncmp(le_value, "+Inf", 4)) {
			Bucket *b = arena_alloc(a, sizeof(*b));

			if (!b)
				return false;
			io__prometheus__client__bucket__init(b);
			b->has_cumulative_count = b->has_upper_bound = true;
			b->upper_bound = number(le_value, le);
			b->cumulative_count = count_of(v);
			return ptrs_push(a, &f->buckets, b);
		}
		if (has_suffix(name, name_len, f->mf.name, f->name_len, "_sum", 4)) {
			m->histogram->has_sample_sum = true;
			m->histogram->sample_sum = v;
		} else if (has_suffix(name, name_len, f->mf.name, f->name_len, "_count", 6)) {
			m->histogram->has_sample_count = true;
			m->histogram->sample_count = count_of(v);
		}
		return true;
	}
	m = arena_alloc(a, sizeof(*m));
	if (!m)
		return false;
	io__prometheus__client__metric__init(m);
	if (!parse_labels(a, lp, le, m, NULL))
		return false;
	switch (f->mf.type) {
	case IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER:
		m->counter = arena_alloc(a, sizeof(*m->counter));
		if (!m->counter)
			return false;
		io__prometheus__client__counter__init(m->counter);
		m->counter->has_value = true;
		m->counter->value = v;
		break;
	case IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE:
		m->gauge = arena_alloc(a, sizeof(*m->gauge));
		if (!m->gauge)
			return false;
		io__prometheus__client__gauge__init(m->gauge);
		m->gauge->has_value = true;
		m->gauge->value = v;
		break;
	default:
		m->untyped = arena_alloc(a, sizeof(*m->untyped));
		if (!m->untyped)
			return false;
		io__prometheus__client__untyped__init(m->untyped);
		m->untyped->has_value = true;
		m->untyped->value = v;
		break;
	}
	return ptrs_push(a, &f->metrics, m);
}

static int metric_type(const char *t, size_t len)
{
	static const struct {
		const char *name;
		int type;
	} types[] = {
	    {"counter", IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER},
	    {"gauge", IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE},
	    {"histogram", IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM},
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == len && !memcmp(types[i].name, t, len))
			return types[i].type;
	return IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED;
}

/* Which native histogram of a tool the histogram family name has, or 0 for none. */
static size_t native_of(const struct snapshot *s, const char *name)
{
	if (!s || s->metrics.native == NATIVE_OFF)
		return 0;
	if (!strcmp(name, "tool_execution_duration_seconds"))
		return offsetof(struct tool_stats, duration_native);
	if (!strcmp(name, "tool_peak_memory_bytes"))
		return offsetof(struct tool_stats, peak_memory_native);
	return 0;
}

void exposition__text_to_protobuf(const char *text, size_t len, const struct snapshot *s,
				  struct strbuf *out)
{
	struct family_state f = {};
	struct arena a = {};
	const char *p = text, *end = text + len;

	while (p < end && !a.oom) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if (eol - p > 7 && !memcmp(p, "# HELP ", 7)) {
			const char *name = p + 7, *sp = memchr(name, ' ', (size_t)(eol - name));

			flush(&f, &a, out);
			io__prometheus__client__metric_family__init(&f.mf);
			f.mf.name = unescape(&a, name, (size_t)((sp ? sp : eol) - name));
			f.name_len = f.mf.name ? strlen(f.mf.name) : 0;
			f.mf.help = sp ? unescape(&a, sp + 1, (size_t)(eol - sp - 1)) : NULL;
			f.mf.has_type = true;
			f.mf.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED;
		} else if (eol - p > 7 && !memcmp(p, "# TYPE ", 7)) {
			const char *name = p + 7, *sp = memchr(name, ' ', (size_t)(eol - name));

			if (!f.mf.name || !sp || (size_t)(sp - name) != f.name_len ||
			    memcmp(name, f.mf.name, (size_t)(sp - name))) {
				/* a TYPE without its HELP starts a family of its own */
				flush(&f, &a, out);
				io__prometheus__client__metric_family__init(&f.mf);
				f.mf.name = unescape(&a, name, (size_t)((sp ? sp : eol) - name));
				f.name_len = f.mf.name ? strlen(f.mf.name) : 0;
				f.mf.has_type = true;
			}
			f.mf.type = sp ? metric_type(sp + 1, (size_t)(eol - sp - 1))
				       : IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED;
			if (f.mf.name &&
			    f.mf.type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM)
				f.native_offset = native_of(s, f.mf.name);
			/* native_offset is 0 without a snapshot */
			f.classic = !f.native_offset || s->metrics.native == NATIVE_BOTH;
		} else if (p < eol && *p != '#' && f.mf.name) {
			const char *name_end = p, *lp, *le, *value;

			while (name_end < eol && *name_end != '{' && *name_end != ' ')
				name_end++;
			if (name_end < eol && *name_end == '{') {
				/* the labels end at the last '}' of the line */
				const char *close = eol - 1;

				while (close > name_end && *close != '}')
					close--;
				lp = name_end + 1;
				le = close;
				value = close + 1;
			} else {
				lp = le = name_end;
				value = name_end;
			}
			while (value < eol && *value == ' ')
				value++;
			/* a line it cannot read is left out (allocation failures set a.oom) */
			if (le >= lp && value < eol)
				sample(&f, &a, s, p, (size_t)(name_end - p), lp, le, value, eol);
		}
		p = nl ? nl + 1 : end;
	}
	if (a.oom)
		out->oom = true;
	else
		flush(&f, &a, out);
	arena_free(&a);
}

void exposition__render_protobuf(const struct snapshot *s, const char *version,
				 const struct exporter_stats *e, struct strbuf *out)
{
	struct strbuf text = {};
	struct snapshot view = *s;

	/* buckets the messages leave out need not be written and read back */
	if (s->metrics.native == NATIVE_ONLY)
		view.metrics.classic = CLASSIC_BUCKETS_NONE;
	exposition__render(&view, version, &text);
	if (e)
		exposition__render_exporter(e, &text);
	if (text.oom)
		out->oom = true;
	else
		exposition__text_to_protobuf(text.buf ? text.buf : "", text.len, &view, out);
	strbuf__free(&text);
}
