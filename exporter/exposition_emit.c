// SPDX-License-Identifier: GPL-2.0
/*
 * The exposition's writer: each call writes one family or series in the text format, or
 * hands it to the protobuf encoding (exposition_pb.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exposition.h"
#include "exposition_internal.h"
#include "lib/strbuf.h"

static const char *const type_names[] = {
    [EXPO_COUNTER] = "counter",
    [EXPO_GAUGE] = "gauge",
    [EXPO_HISTOGRAM] = "histogram",
};

void expo__init(struct expo *w, struct strbuf *out, bool protobuf)
{
	*w = (struct expo){.out = out, .protobuf = protobuf};
}

void expo__finish(struct expo *w)
{
	if (w->protobuf) {
		pb__family_end(w);
		if (w->head.oom || w->body.oom || w->scratch.oom)
			w->out->oom = true;
	}
	strbuf__free(&w->head);
	strbuf__free(&w->body);
	strbuf__free(&w->scratch);
}

void expo__family(struct expo *w, const char *name, enum expo_type type, const char *help)
{
	size_t len = strlen(name);

	if (w->protobuf)
		pb__family_end(w);
	if (len >= sizeof(w->name))
		len = sizeof(w->name) - 1;
	memcpy(w->name, name, len);
	w->name[len] = '\0';
	w->name_len = len;
	w->type = type;
	if (w->protobuf) {
		pb__family_begin(w, help);
		return;
	}
	strbuf__puts(w->out, "# HELP ");
	strbuf__append(w->out, w->name, len);
	strbuf__putc(w->out, ' ');
	strbuf__puts(w->out, help);
	strbuf__puts(w->out, "\n# TYPE ");
	strbuf__append(w->out, w->name, len);
	strbuf__putc(w->out, ' ');
	strbuf__puts(w->out, type_names[type]);
	strbuf__putc(w->out, '\n');
}

/* Whether value is its own visible form and text value: printable ASCII, no backslash or quote. */
static bool plain_value(const char *value, size_t *len)
{
	const unsigned char *u = (const unsigned char *)value;
	size_t i;

	for (i = 0; u[i]; i++) {
		if (u[i] < 0x20 || u[i] >= 0x7f || u[i] == '\\' || u[i] == '"')
			return false;
	}
	*len = i;
	return true;
}

void expo__label(const struct expo *w, struct strbuf *set, const char *name, const char *value)
{
	size_t len;

	/* most values (ids, names from the API, plain tool names) take the short way */
	if (plain_value(value, &len)) {
		if (w->protobuf) {
			pb__label(set, name, value, len);
			return;
		}
		if (set->len)
			strbuf__putc(set, ',');
		strbuf__puts(set, name);
		strbuf__append(set, "=\"", 2);
		strbuf__append(set, value, len);
		strbuf__putc(set, '"');
		return;
	}
	if (w->protobuf) {
		struct strbuf visible = {};

		strbuf__put_visible(&visible, value, strlen(value));
		if (visible.oom)
			set->oom = true;
		else
			pb__label(set, name, visible.buf ? visible.buf : "", visible.len);
		strbuf__free(&visible);
		return;
	}
	if (set->len)
		strbuf__putc(set, ',');
	strbuf__puts(set, name);
	strbuf__puts(set, "=\"");
	exposition__escape_label(set, value);
	strbuf__putc(set, '"');
}

/* Text: name, suffix, the labels and the space before the value. */
static void text_open(struct expo *w, const char *suffix, const struct expo_labels *base,
		      const char *label, const char *value)
{
	struct strbuf *out = w->out;
	bool based = base && base->len;

	strbuf__append(out, w->name, w->name_len);
	if (suffix)
		strbuf__puts(out, suffix);
	if (based || label) {
		strbuf__putc(out, '{');
		if (based)
			strbuf__append(out, base->buf, base->len);
		if (label) {
			if (based)
				strbuf__putc(out, ',');
			strbuf__puts(out, label);
			strbuf__append(out, "=\"", 2);
			strbuf__puts(out, value);
			strbuf__putc(out, '"');
		}
		strbuf__putc(out, '}');
	}
	strbuf__putc(out, ' ');
}

void expo__u64(struct expo *w, const struct expo_labels *base, const char *label, const char *value,
	       uint64_t v)
{
	if (w->protobuf) {
		pb__sample(w, base, label, value, (double)v);
		return;
	}
	text_open(w, NULL, base, label, value);
	strbuf__put_u64(w->out, v);
	strbuf__putc(w->out, '\n');
}

/* v / 10^decimals as the double nearest to it (exact quotient rounded once below 2^53). */
static double fixed_value(uint64_t v, unsigned int decimals)
{
	double scale = 1;

	for (unsigned int d = 0; d < decimals; d++)
		scale *= 10;
	return (double)v / scale;
}

void expo__fixed(struct expo *w, const struct expo_labels *base, const char *label,
		 const char *value, uint64_t v, unsigned int decimals)
{
	if (w->protobuf) {
		pb__sample(w, base, label, value, fixed_value(v, decimals));
		return;
	}
	text_open(w, NULL, base, label, value);
	exposition__decimal(w->out, v, decimals);
	strbuf__putc(w->out, '\n');
}

void expo__double(struct expo *w, const struct expo_labels *base, const char *label,
		  const char *value, const char *fmt, double v)
{
	char text[64];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(text, sizeof(text), fmt, v);
#pragma GCC diagnostic pop
	if (w->protobuf) {
		/* the value the text shows, so both formats carry one number */
		pb__sample(w, base, label, value, strtod(text, NULL));
		return;
	}
	text_open(w, NULL, base, label, value);
	strbuf__puts(w->out, text);
	strbuf__putc(w->out, '\n');
}

/* The le="..." strings of a layout, formatted once per thread and layout. */
static const char *le_string(const struct hist_layout *layout, unsigned int i, size_t *len)
{
	static __thread struct {
		const struct hist_layout *layout;
		char text[HIST_MAX_BOUNDS + 1][32];
		size_t len[HIST_MAX_BOUNDS + 1];
	} cache[4];
	unsigned int slot;

	for (slot = 0; slot < 4 && cache[slot].layout && cache[slot].layout != layout; slot++)
		;
	if (slot == 4)
		slot = 0; /* more layouts than slots: reuse the first */
	if (cache[slot].layout != layout) {
		unsigned int decimals = exposition__layout_decimals(layout);

		for (unsigned int b = 0; b <= layout->nr_bounds; b++) {
			struct strbuf tmp = {};

			if (b < layout->nr_bounds)
				exposition__decimal(&tmp, layout->bounds[b], decimals);
			else
				strbuf__puts(&tmp, "+Inf");
			cache[slot].len[b] = tmp.oom ? 0 : tmp.len < 31 ? tmp.len : 31;
			if (cache[slot].len[b])
				memcpy(cache[slot].text[b], tmp.buf, cache[slot].len[b]);
			strbuf__free(&tmp);
		}
		cache[slot].layout = layout;
	}
	*len = cache[slot].len[i];
	return cache[slot].text[i];
}

void expo__histogram(struct expo *w, const struct expo_labels *base, const char *label,
		     const char *value, const struct expo_hist *hs)
{
	const struct hist_layout *layout = hs->layout;
	const struct hist *h = hs->h;
	struct strbuf prefix = {}, *out = w->out;
	uint64_t cumulative = 0;

	if (w->protobuf) {
		pb__histogram(w, base, label, value, hs);
		return;
	}
	/* name_bucket{labels,le=" once, then one line per bucket kept */
	strbuf__append(&prefix, w->name, w->name_len);
	strbuf__puts(&prefix, "_bucket{");
	if (base && base->len) {
		strbuf__append(&prefix, base->buf, base->len);
		strbuf__putc(&prefix, ',');
	}
	if (label) {
		strbuf__puts(&prefix, label);
		strbuf__append(&prefix, "=\"", 2);
		strbuf__puts(&prefix, value);
		strbuf__append(&prefix, "\",", 2);
	}
	strbuf__puts(&prefix, "le=\"");
	if (prefix.oom) {
		out->oom = true;
		return;
	}
	for (unsigned int i = 0; i <= layout->nr_bounds; i++) {
		size_t len;
		const char *le;

		cumulative += h->counts[i];
		if (i < layout->nr_bounds && !exposition__bound_kept(layout, i, hs->classic))
			continue;
		le = le_string(layout, i, &len);
		strbuf__append(out, prefix.buf, prefix.len);
		strbuf__append(out, le, len);
		strbuf__append(out, "\"} ", 3);
		/* +Inf is the count itself */
		strbuf__put_u64(out, i < layout->nr_bounds ? cumulative : h->count);
		strbuf__putc(out, '\n');
	}
	strbuf__free(&prefix);
	text_open(w, "_sum", base, label, value);
	exposition__decimal(out, h->sum, exposition__layout_decimals(layout));
	strbuf__putc(out, '\n');
	text_open(w, "_count", base, label, value);
	strbuf__put_u64(out, h->count);
	strbuf__putc(out, '\n');
}

void expo__gauge1(struct expo *w, const char *name, const char *help, uint64_t v)
{
	expo__family(w, name, EXPO_GAUGE, help);
	expo__u64(w, NULL, NULL, NULL, v);
}

void expo__counter1(struct expo *w, const char *name, const char *help, uint64_t v)
{
	expo__family(w, name, EXPO_COUNTER, help);
	expo__u64(w, NULL, NULL, NULL, v);
}
