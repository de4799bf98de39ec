// SPDX-License-Identifier: GPL-2.0
/*
 * The protobuf exposition's wire encoding (exporter/metrics.proto): each family is one
 * length-delimited io.prometheus.client.MetricFamily message, written field by field with
 * the sizes computed on the way, in field-number order as protoc's encoders write them.
 * Every optional field a series has is present, zeros included.
 */
#include <string.h>

#include "exposition.h"
#include "exposition_internal.h"
#include "lib/nativehist.h"

/* Field keys: field number << 3 | wire type (0 varint, 1 fixed64, 2 length-delimited). */
#define KEY(field, wire) ((char)((field) << 3 | (wire)))
enum {
	WIRE_VARINT = 0,
	WIRE_FIXED64 = 1,
	WIRE_BYTES = 2,
};
/* MetricFamily */
#define FAMILY_NAME   KEY(1, WIRE_BYTES)
#define FAMILY_HELP   KEY(2, WIRE_BYTES)
#define FAMILY_TYPE   KEY(3, WIRE_VARINT)
#define FAMILY_METRIC KEY(4, WIRE_BYTES)
/* Metric */
#define METRIC_LABEL	 KEY(1, WIRE_BYTES)
#define METRIC_GAUGE	 KEY(2, WIRE_BYTES)
#define METRIC_COUNTER	 KEY(3, WIRE_BYTES)
#define METRIC_HISTOGRAM KEY(7, WIRE_BYTES)
/* LabelPair */
#define LABEL_NAME  KEY(1, WIRE_BYTES)
#define LABEL_VALUE KEY(2, WIRE_BYTES)
/* Counter, Gauge */
#define VALUE KEY(1, WIRE_FIXED64)
/* Histogram */
#define HIST_COUNT	    KEY(1, WIRE_VARINT)
#define HIST_SUM	    KEY(2, WIRE_FIXED64)
#define HIST_BUCKET	    KEY(3, WIRE_BYTES)
#define HIST_SCHEMA	    KEY(5, WIRE_VARINT)
#define HIST_ZERO_THRESHOLD KEY(6, WIRE_FIXED64)
#define HIST_ZERO_COUNT	    KEY(7, WIRE_VARINT)
#define HIST_POSITIVE_SPAN  KEY(12, WIRE_BYTES)
#define HIST_POSITIVE_DELTA KEY(13, WIRE_VARINT)
/* Bucket */
#define BUCKET_COUNT KEY(1, WIRE_VARINT)
#define BUCKET_BOUND KEY(2, WIRE_FIXED64)
/* BucketSpan */
#define SPAN_OFFSET KEY(1, WIRE_VARINT)
#define SPAN_LENGTH KEY(2, WIRE_VARINT)

/* metrics.proto's MetricType by enum expo_type */
static const uint8_t metric_types[] = {
    [EXPO_COUNTER] = 0,
    [EXPO_GAUGE] = 1,
    [EXPO_HISTOGRAM] = 4,
};

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void put_varint(struct strbuf *out, uint64_t v)
{
	char *p = strbuf__reserve(out, 10);
	size_t n = 0;

	if (!p)
		return;
	while (v >= 0x80) {
		p[n++] = (char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (char)v;
	out->len += n;
	out->buf[out->len] = '\0';
}

/* A key and a little-endian double. */
static void put_double(struct strbuf *out, char key, double v)
{
	char b[9];
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	b[0] = key;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (char)(bits >> (8 * i));
	strbuf__append(out, b, sizeof(b));
}

static void put_key_varint(struct strbuf *out, char key, uint64_t v)
{
	strbuf__putc(out, key);
	put_varint(out, v);
}

/* A key, a length and len bytes. */
static void put_bytes(struct strbuf *out, char key, const void *data, size_t len)
{
	strbuf__putc(out, key);
	put_varint(out, len);
	strbuf__append(out, data, len);
}

/* Size of a length-delimited field of len bytes, key included. */
static size_t bytes_len(size_t len)
{
	return 1 + varint_len(len) + len;
}

/* Size of the LabelPair body of name and a value of len bytes. */
static size_t label_body_len(size_t name_len, size_t len)
{
	return bytes_len(name_len) + bytes_len(len);
}

void pb__label(struct strbuf *out, const char *name, const char *value, size_t len)
{
	size_t name_len = strlen(name);

	strbuf__putc(out, METRIC_LABEL);
	put_varint(out, label_body_len(name_len, len));
	put_bytes(out, LABEL_NAME, name, name_len);
	put_bytes(out, LABEL_VALUE, value, len);
}

/* Size of a Metric's label fields: base's and label="value". */
static size_t labels_len(const struct expo_labels *base, const char *label, const char *value)
{
	size_t n = base ? base->len : 0;

	if (label)
		n += bytes_len(label_body_len(strlen(label), strlen(value)));
	return n;
}

static void put_labels(struct strbuf *out, const struct expo_labels *base, const char *label,
		       const char *value)
{
	if (base && base->len)
		strbuf__append(out, base->buf, base->len);
	if (label)
		pb__label(out, label, value, strlen(value));
}

void pb__sample(struct expo *w, const struct expo_labels *base, const char *label,
		const char *value, double v)
{
	size_t value_len = 1 + 8,
	       metric_len = labels_len(base, label, value) + bytes_len(value_len);

	strbuf__putc(&w->body, FAMILY_METRIC);
	put_varint(&w->body, metric_len);
	put_labels(&w->body, base, label, value);
	strbuf__putc(&w->body, w->type == EXPO_GAUGE ? METRIC_GAUGE : METRIC_COUNTER);
	put_varint(&w->body, value_len);
	put_double(&w->body, VALUE, v);
	w->metrics++;
}

static void put_span(struct strbuf *out, int32_t offset, uint32_t length)
{
	uint64_t z = zigzag(offset);

	strbuf__putc(out, HIST_POSITIVE_SPAN);
	put_varint(out, 2 + varint_len(z) + varint_len(length));
	put_key_varint(out, SPAN_OFFSET, z);
	put_key_varint(out, SPAN_LENGTH, length);
}

/*
 * The native fields of nh: schema, zero bucket, spans of consecutive buckets and the
 * deltas of their counts. A run goes on through zero gaps of at most 2 buckets, as
 * client_golang's; a histogram without buckets has one empty span, which still marks it
 * as native.
 */
static void put_native(struct strbuf *out, const struct native_hist *nh)
{
	struct {
		int32_t offset;
		uint32_t length;
	} spans[NATIVE_HIST_BUCKETS + 1];
	int64_t deltas[NATIVE_HIST_BUCKETS], prev = 0;
	size_t nspans = 0, nb = 0;
	int32_t last_end = 0; /* index after the previous span */

	put_key_varint(out, HIST_SCHEMA, zigzag(native_hist__schema(nh)));
	put_double(out, HIST_ZERO_THRESHOLD, NATIVE_HIST_ZERO_THRESHOLD);
	put_key_varint(out, HIST_ZERO_COUNT, nh->zero_count);
	for (uint16_t i = 0; i < nh->nr && i < NATIVE_HIST_BUCKETS; i++) {
		int32_t key = nh->first + i;

		if (!nh->counts[i])
			continue;
		if (nspans && key - last_end <= 2) {
			for (int32_t k = last_end; k < key; k++) {
				deltas[nb++] = -prev;
				prev = 0;
			}
			spans[nspans - 1].length += (uint32_t)(key - last_end + 1);
		} else {
			spans[nspans].offset = nspans ? key - last_end : key;
			spans[nspans].length = 1;
			nspans++;
		}
		deltas[nb++] = (int64_t)nh->counts[i] - prev;
		prev = (int64_t)nh->counts[i];
		last_end = key + 1;
	}
	if (!nspans) {
		spans[0].offset = 0;
		spans[0].length = 0;
		nspans = 1;
	}
	for (size_t i = 0; i < nspans; i++)
		put_span(out, spans[i].offset, spans[i].length);
	for (size_t i = 0; i < nb; i++)
		put_key_varint(out, HIST_POSITIVE_DELTA, zigzag(deltas[i]));
}

void pb__histogram(struct expo *w, const struct expo_labels *base, const char *label,
		   const char *value, const struct expo_hist *hs)
{
	const struct hist_layout *layout = hs->layout;
	const struct hist *h = hs->h;
	struct strbuf *hb = &w->scratch;
	uint64_t cumulative = 0;

	/* the Histogram message first, for its size */
	strbuf__reset(hb);
	put_key_varint(hb, HIST_COUNT, h->count);
	put_double(hb, HIST_SUM, (double)h->sum / layout->unit_scale);
	/* classic buckets as the text has them, but +Inf: the count is its value */
	for (unsigned int i = 0; !(hs->native && hs->native_only) && i < layout->nr_bounds; i++) {
		cumulative += h->counts[i];
		if (!exposition__bound_kept(layout, i, hs->classic))
			continue;
		strbuf__putc(hb, HIST_BUCKET);
		put_varint(hb, 1 + varint_len(cumulative) + 9);
		put_key_varint(hb, BUCKET_COUNT, cumulative);
		put_double(hb, BUCKET_BOUND, (double)layout->bounds[i] / layout->unit_scale);
	}
	if (hs->native)
		put_native(hb, hs->native);
	if (hb->oom) {
		w->body.oom = true;
		return;
	}
	strbuf__putc(&w->body, FAMILY_METRIC);
	put_varint(&w->body, labels_len(base, label, value) + bytes_len(hb->len));
	put_labels(&w->body, base, label, value);
	put_bytes(&w->body, METRIC_HISTOGRAM, hb->buf, hb->len);
	w->metrics++;
}

void pb__family_begin(struct expo *w, const char *help)
{
	strbuf__reset(&w->head);
	strbuf__reset(&w->body);
	w->metrics = 0;
	put_bytes(&w->head, FAMILY_NAME, w->name, w->name_len);
	put_bytes(&w->head, FAMILY_HELP, help, strlen(help));
	put_key_varint(&w->head, FAMILY_TYPE, metric_types[w->type]);
}

void pb__family_end(struct expo *w)
{
	/* a family without series is left out: the decoder would see it as empty */
	if (w->metrics && !w->head.oom && !w->body.oom) {
		put_varint(w->out, w->head.len + w->body.len);
		strbuf__append(w->out, w->head.buf, w->head.len);
		strbuf__append(w->out, w->body.buf, w->body.len);
	}
	if (w->head.oom || w->body.oom)
		w->out->oom = true;
	strbuf__reset(&w->head);
	strbuf__reset(&w->body);
	w->metrics = 0;
}
