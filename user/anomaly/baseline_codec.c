// SPDX-License-Identifier: GPL-2.0
/*
 * The save format of the detector's learned state (see baseline_codec.h): a fixed header,
 * a payload of little-endian fields in a fixed order, and zlib's CRC-32 of both.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "anomaly/anomaly_internal.h"
#include "anomaly/baseline_codec.h"

#define FORMAT_MAGIC	   "\x89TWBASE\n"
#define FORMAT_MAGIC_LEN   8
#define FORMAT_VERSION	   2 /* 2: latency causes (split sums, flag causes) */
#define FORMAT_VERSION_MIN 1
#define FORMAT_F_HOURS	   0x1
#define FORMAT_HEADER_LEN  (FORMAT_MAGIC_LEN + 4 + 4 + 8 + 8 + 8)
#define FORMAT_TRAILER_LEN 4

/* CRC-32 (IEEE 802.3, reflected): the format's checksum. */
static uint32_t checksum(const void *data, size_t len)
{
	return (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), data, len);
}

static void put_u8(struct strbuf *out, uint8_t v)
{
	strbuf__append(out, &v, 1);
}

static void put_u16(struct strbuf *out, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	strbuf__append(out, b, sizeof(b));
}

static void put_u32(struct strbuf *out, uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	strbuf__append(out, b, sizeof(b));
}

static void put_u64(struct strbuf *out, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	strbuf__append(out, b, sizeof(b));
}

static void put_f64(struct strbuf *out, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	put_u64(out, bits);
}

static void put_reservoir(struct strbuf *out, const struct reservoir *r)
{
	put_u32(out, r->n);
	for (uint32_t i = 0; i < r->n; i++) {
		put_f64(out, r->s[i].value);
		put_f64(out, r->s[i].key);
	}
}

static void put_dhist(struct strbuf *out, const struct dhist *h)
{
	put_u64(out, h->last_age);
	for (int i = 0; i < DHIST_BUCKETS; i++)
		put_f64(out, h->w[i]);
}

static void put_baseline(struct strbuf *out, const struct baseline *b)
{
	for (int g = 0; g < GROUP_MAX; g++) {
		put_u64(out, b->windows[g]);
		put_u64(out, b->samples[g]);
	}
	put_dhist(out, &b->duration);
	put_dhist(out, &b->memory);
	put_reservoir(out, &b->mean_duration);
	put_reservoir(out, &b->cpu);
	put_u64(out, b->split.last_age);
	put_f64(out, b->split.executions);
	for (int c = 0; c < ANOMALY_SPLIT_MAX; c++)
		put_f64(out, b->split.seconds[c]);
}

static void put_tool(struct strbuf *out, const struct tool *t)
{
	if (t->name) {
		size_t len = strlen(t->name);

		put_u16(out, (uint16_t)len);
		strbuf__append(out, t->name, len);
	}
	put_u64(out, t->last_active_age);
	put_u8(out, t->learned);
	for (int k = 0; k < ANOMALY_KIND_MAX; k++) {
		const struct flag *f = &t->flags[k];

		put_u8(out, f->active);
		put_u32(out, f->bad_streak);
		put_u32(out, f->good_streak);
		put_u64(out, f->raised_total);
		put_u64(out, f->raised_at_age);
		put_f64(out, f->ratio);
		put_u8(out, (uint8_t)f->cause);
	}
	put_baseline(out, &t->global);
	for (int h = 0; t->hours && h < HOURS; h++)
		put_baseline(out, &t->hours[h]);
}

/* The most bytes put_baseline() writes for reservoirs of cap samples, all full. */
#define BASELINE_MAX_LEN(cap)                                                                      \
	((size_t)GROUP_MAX * 16 + 2 * (8 + DHIST_BUCKETS * 8) + 2 * (4 + (cap)*16) + 8 + 8 +       \
	 ANOMALY_SPLIT_MAX * 8)

size_t anomaly__serialized_max(const struct anomaly_detector *d)
{
	/* the longest name, its flags, the global baseline and with seasonal the hours' */
	size_t tool = 2 + (ANOMALY_TOOL_NAME_MAX - 1) + 8 + 1 + ANOMALY_KIND_MAX * 34 +
		      BASELINE_MAX_LEN(RESERVOIR_GLOBAL) +
		      (d->cfg.seasonal ? HOURS * BASELINE_MAX_LEN(RESERVOIR_HOUR) : 0);

	return FORMAT_HEADER_LEN + 8 + 1 + 8 + 8 + tool + 4 + (size_t)d->cfg.max_tools * tool + 4 +
	       KNOWN_MAX * 8 + FORMAT_TRAILER_LEN;
}

int anomaly__serialize(const struct anomaly_detector *d, struct strbuf *out)
{
	size_t start = out->len, payload;
	uint32_t crc;

	strbuf__append(out, FORMAT_MAGIC, FORMAT_MAGIC_LEN);
	put_u32(out, FORMAT_VERSION);
	put_u32(out, d->cfg.seasonal ? FORMAT_F_HOURS : 0);
	put_u64(out, d->cfg.window_ns);
	put_u64(out, d->cfg.baseline_ns);
	put_u64(out, 0); /* payload length, patched below */
	payload = out->len;

	put_u64(out, d->age);
	put_u8(out, d->have_window_end);
	put_u64(out, (uint64_t)d->last_window_end);
	put_u64(out, d->rng);
	put_tool(out, &d->host);
	put_u32(out, (uint32_t)d->nr_tools);
	for (size_t i = 0; i < d->nr_tools; i++)
		put_tool(out, d->tools[i]);
	put_u32(out, d->nr_known);
	for (uint32_t i = 0; i < d->nr_known; i++) /* oldest first */
		put_u64(out, d->known[(d->known_next + KNOWN_MAX - d->nr_known + i) % KNOWN_MAX]);
	if (out->oom)
		return -ENOMEM;

	for (int i = 0; i < 8; i++)
		out->buf[payload - 8 + i] = (char)((uint64_t)(out->len - payload) >> (8 * i));
	crc = checksum(out->buf + start, out->len - start);
	put_u32(out, crc);
	return out->oom ? -ENOMEM : 0;
}

/* A bounds-checked reader: once past the end every read returns 0 and `bad` stays set. */
struct reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
	uint32_t version; /* of the record: what its payload holds */
};

static const uint8_t *get_bytes(struct reader *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t get_le(struct reader *r, size_t n)
{
	const uint8_t *p = get_bytes(r, n);
	uint64_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t get_u8(struct reader *r)
{
	return (uint8_t)get_le(r, 1);
}

static uint32_t get_u32(struct reader *r)
{
	return (uint32_t)get_le(r, 4);
}

static uint64_t get_u64(struct reader *r)
{
	return get_le(r, 8);
}

static double get_f64(struct reader *r)
{
	uint64_t bits = get_u64(r);
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* Reads a value that must lie in [lo, hi] (so never NaN or infinite). */
static double get_f64_in(struct reader *r, double lo, double hi)
{
	double v = get_f64(r);

	if (!(v >= lo && v <= hi))
		r->bad = true;
	return v;
}

static bool get_bool(struct reader *r)
{
	uint8_t v = get_u8(r);

	if (v > 1)
		r->bad = true;
	return v;
}

static uint64_t get_age(struct reader *r, uint64_t age)
{
	uint64_t v = get_u64(r);

	if (v > age)
		r->bad = true;
	return v;
}

static void get_reservoir(struct reader *r, struct reservoir *res)
{
	uint32_t n = get_u32(r);

	if (n > res->cap) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		res->s[i].value = get_f64_in(r, 0, VALUE_MAX);
		res->s[i].key = get_f64_in(r, -1e300, 1e300);
	}
	res->n = r->bad ? 0 : n;
}

static void get_dhist(struct reader *r, struct dhist *h, uint64_t age)
{
	h->last_age = get_age(r, age);
	for (int i = 0; i < DHIST_BUCKETS; i++)
		h->w[i] = get_f64_in(r, 0, DHIST_WEIGHT_MAX);
}

static void get_baseline(struct reader *r, struct baseline *b, uint64_t age)
{
	for (int g = 0; g < GROUP_MAX; g++) {
		b->windows[g] = get_u64(r);
		b->samples[g] = get_u64(r);
	}
	get_dhist(r, &b->duration, age);
	get_dhist(r, &b->memory, age);
	get_reservoir(r, &b->mean_duration);
	get_reservoir(r, &b->cpu);
	if (r->version < 2)
		return; /* no split sums yet: causes are named once it has learned some */
	b->split.last_age = get_age(r, age);
	b->split.executions = get_f64_in(r, 0, VALUE_MAX);
	for (int c = 0; c < ANOMALY_SPLIT_MAX; c++)
		b->split.seconds[c] = get_f64_in(r, 0, VALUE_MAX);
}

/*
 * Reads one tool record into t (initialised for d's config). file_hours: the record holds
 * HOURS hour baselines, read into scratch when t keeps none.
 */
static int get_tool(struct reader *r, struct anomaly_detector *d, struct tool *t, bool file_hours,
		    struct baseline *scratch)
{
	t->last_active_age = get_age(r, d->age);
	t->learned = get_bool(r);
	for (int k = 0; k < ANOMALY_KIND_MAX; k++) {
		struct flag *f = &t->flags[k];

		f->active = get_bool(r);
		f->bad_streak = get_u32(r);
		f->good_streak = get_u32(r);
		f->raised_total = get_u64(r);
		f->raised_at_age = get_age(r, d->age);
		f->held = f->active && f->good_streak >= d->cfg.clear_after;
		f->ratio = get_f64_in(r, 0, ANOMALY_RATIO_MAX);
		if (r->version >= 2) {
			uint8_t cause = get_u8(r);

			if (cause >= ANOMALY_CAUSE_MAX)
				r->bad = true;
			f->cause = cause < ANOMALY_CAUSE_MAX ? cause : ANOMALY_CAUSE_NONE;
		}
	}
	get_baseline(r, &t->global, d->age);
	for (int h = 0; file_hours && h < HOURS && !r->bad; h++)
		get_baseline(r, t->hours ? &t->hours[h] : scratch, d->age);
	return r->bad ? -EBADMSG : 0;
}

/* Reads the payload into d, a fresh detector with the target's config. */
static int get_payload(struct reader *r, struct anomaly_detector *d, bool file_hours)
{
	struct baseline scratch;
	uint32_t nr_tools, nr_known;
	int err;

	err = anomaly_baseline__init(&scratch, RESERVOIR_HOUR);
	if (err)
		return err;
	d->age = get_u64(r);
	d->have_window_end = get_bool(r);
	d->last_window_end = (int64_t)get_u64(r);
	d->rng = get_u64(r);
	err = get_tool(r, d, &d->host, file_hours, &scratch);
	if (err)
		goto out;

	nr_tools = get_u32(r);
	/* a tool record is far longer than 64 bytes: refuse counts the data cannot hold */
	if (r->bad || nr_tools > (r->len - r->off) / 64) {
		err = -EBADMSG;
		goto out;
	}
	err = anomaly_tools__reserve(d, nr_tools);
	if (err)
		goto out;
	for (uint32_t i = 0; i < nr_tools; i++) {
		size_t len = (size_t)get_le(r, 2);
		const uint8_t *name = get_bytes(r, len);
		struct tool *t;

		if (!name || !len || len >= ANOMALY_TOOL_NAME_MAX || memchr(name, 0, len)) {
			err = -EBADMSG;
			goto out;
		}
		t = malloc(sizeof(*t));
		if (!t || anomaly_tool__init(t, d->cfg.seasonal)) {
			free(t);
			err = -ENOMEM;
			goto out;
		}
		t->name = strndup((const char *)name, len);
		d->tools[d->nr_tools] = t; /* owned by d from here on */
		d->nr_tools++;
		if (!t->name) {
			err = -ENOMEM;
			goto out;
		}
		/* strictly sorted: keeps the binary search valid and names unique */
		if (i && strcmp(d->tools[i - 1]->name, t->name) >= 0) {
			err = -EBADMSG;
			goto out;
		}
		err = get_tool(r, d, t, file_hours, &scratch);
		if (err)
			goto out;
	}

	nr_known = get_u32(r);
	if (nr_known > KNOWN_MAX) {
		err = -EBADMSG;
		goto out;
	}
	for (uint32_t i = 0; i < nr_known; i++)
		d->known[i] = get_u64(r);
	d->nr_known = nr_known;
	d->known_next = nr_known % KNOWN_MAX;
	if (r->bad || r->off != r->len)
		err = -EBADMSG;
out:
	anomaly_baseline__fini(&scratch);
	return err;
}

int anomaly__deserialize(struct anomaly_detector *d, const void *data, size_t len)
{
	struct reader r = {.p = data, .len = len};
	struct anomaly_detector *fresh;
	uint64_t window_ns, baseline_ns, payload_len;
	uint32_t version, flags, crc;
	int err;

	if (!d || (!data && len))
		return -EINVAL;
	if (len < FORMAT_MAGIC_LEN || memcmp(data, FORMAT_MAGIC, FORMAT_MAGIC_LEN))
		return -EPROTO;
	get_bytes(&r, FORMAT_MAGIC_LEN);
	version = get_u32(&r);
	if (r.bad)
		return -EBADMSG;
	if (version < FORMAT_VERSION_MIN || version > FORMAT_VERSION)
		return -EPROTONOSUPPORT;
	r.version = version;
	flags = get_u32(&r);
	window_ns = get_u64(&r);
	baseline_ns = get_u64(&r);
	payload_len = get_u64(&r);
	if (r.bad || len - FORMAT_HEADER_LEN < FORMAT_TRAILER_LEN ||
	    payload_len != len - FORMAT_HEADER_LEN - FORMAT_TRAILER_LEN)
		return -EBADMSG;
	crc = (uint32_t)r.p[len - 4] | (uint32_t)r.p[len - 3] << 8 | (uint32_t)r.p[len - 2] << 16 |
	      (uint32_t)r.p[len - 1] << 24;
	if (crc != checksum(data, len - FORMAT_TRAILER_LEN))
		return -EBADMSG;
	if (flags & ~(uint32_t)FORMAT_F_HOURS)
		return -EBADMSG;
	if (window_ns != d->cfg.window_ns || baseline_ns != d->cfg.baseline_ns)
		return -ESTALE;

	fresh = anomaly__new(&d->cfg);
	if (!fresh)
		return -errno;
	r.len = len - FORMAT_TRAILER_LEN;
	err = get_payload(&r, fresh, flags & FORMAT_F_HOURS);
	if (err) {
		anomaly__free(fresh);
		return err;
	}
	anomaly__adopt(d, fresh);
	return 0;
}
