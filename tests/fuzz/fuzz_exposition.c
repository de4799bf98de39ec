// SPDX-License-Identifier: GPL-2.0
/*
 * The exposition of names from outside (a tool name from argv or a filename, identity
 * label values from cgroup paths and the Kubernetes API) under any --metrics.* modes: the
 * protobuf page is a stream of length-delimited messages that each decode as a
 * MetricFamily (protobuf-c's own unpacker), and a series' label values there are the
 * visible form of the input, the same values the text page shows once its escapes are
 * undone. Input: a mode byte, a label mask byte, then the tool name and the label values
 * separated by NUL.
 */
#include <string.h>

#include "exporter/metrics.pb-c.h"
#include "exposition.h"
#include "fuzz.h"
#include "identity/identity.h"
#include "lib/strbuf.h"

/* Longest label value the text page can show here: 4 bytes (\xNN) per byte of a name. */
#define VALUE_MAX 4096

/* The labels of the second tool_executions_total line of the text page, unescaped. */
static size_t text_labels(const struct strbuf *txt, char values[][VALUE_MAX], size_t max)
{
	const char *p = strstr(txt->buf, "\ntool_executions_total{");
	size_t n = 0;

	FUZZ_CHECK(p);
	p = strstr(p + 1, "\ntool_executions_total{");
	FUZZ_CHECK(p);
	p = strchr(p, '{') + 1;
	while (*p != '}' && n < max) {
		size_t len = 0;

		p = strchr(p, '"') + 1;
		for (; *p != '"'; p++) {
			FUZZ_CHECK(*p && *p != '\n' && len < VALUE_MAX - 1);
			if (*p == '\\') {
				p++;
				FUZZ_CHECK(*p == '\\' || *p == '"');
			}
			values[n][len++] = *p;
		}
		values[n++][len] = '\0';
		p++;
		if (*p == ',')
			p++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct identity_labels labels = {};
	struct strbuf txt = {0}, pb = {0};
	struct snapshot *s;
	char key[2048], tool[512] = "", text_values[1 + IDENTITY_LABELS][VALUE_MAX];
	const char *p, *end;
	size_t off = 0, nr_text;
	int field = -1;

	if (size < 2)
		return 0;
	s = snapshot__new(2);
	if (!s)
		return 0;
	s->metrics.native = data[0] % NATIVE_MODE_MAX;
	s->metrics.classic = (data[0] / NATIVE_MODE_MAX) % CLASSIC_BUCKETS_MAX;
	s->metrics.skip_zero_failures = data[0] & 0x80;
	s->identity_labels = data[1] & ((1u << IDENTITY_LABELS) - 1);
	/* the tool name any bytes but NUL; label values without controls, as identity takes */
	for (p = (const char *)data + 2, end = (const char *)data + size; p < end; p++) {
		char *dst = field < 0 ? tool : labels.value[field];
		size_t cap = field < 0 ? sizeof(tool) : sizeof(labels.value[0]);
		size_t len = strlen(dst);

		if (!*p) {
			if (++field == IDENTITY_LABELS)
				break;
			continue;
		}
		if (len + 1 < cap) {
			dst[len] = field >= 0 && (unsigned char)*p < 0x20 ? '?' : *p;
			dst[len + 1] = '\0';
		}
	}
	s->tools[0].name = "other";
	if (s->identity_labels) {
		if (!identity__key(&labels, tool, key, sizeof(key)))
			goto done;
		s->tools[1].name = key;
	} else {
		s->tools[1].name = tool;
	}
	native_hist__add(&s->tools[1].stats.duration_native, (double)size);
	hist__add(&s->tools[1].stats.duration, &hist_duration_layout, size * 1000);
	exposition__render(s, "v", &txt);
	exposition__render_protobuf(s, "v", NULL, &pb);
	if (txt.oom || pb.oom)
		goto done;
	nr_text = text_labels(&txt, text_values, 1 + IDENTITY_LABELS);
	while (off < pb.len) {
		const uint8_t *b = (const uint8_t *)pb.buf;
		Io__Prometheus__Client__MetricFamily *mf;
		uint64_t len = 0;
		unsigned int shift = 0;

		do {
			FUZZ_CHECK(off < pb.len && shift < 64);
			len |= (uint64_t)(b[off] & 0x7f) << shift;
			shift += 7;
		} while (b[off++] & 0x80);
		FUZZ_CHECK(len <= pb.len - off);
		mf = io__prometheus__client__metric_family__unpack(NULL, len, b + off);
		FUZZ_CHECK(mf);
		FUZZ_CHECK(mf->name && mf->n_metric > 0);
		if (!strcmp(mf->name, "tool_executions_total")) {
			const Io__Prometheus__Client__Metric *m = mf->metric[1];
			struct strbuf visible = {0};
			size_t k = 0;

			FUZZ_CHECK(mf->n_metric == 2 && m->n_label == nr_text);
			strbuf__put_visible(&visible, tool, strlen(tool));
			FUZZ_CHECK(!strcmp(m->label[0]->name, "tool"));
			FUZZ_CHECK(!strcmp(m->label[0]->value, visible.buf ? visible.buf : ""));
			for (int i = 0; i < IDENTITY_LABELS; i++) {
				if (!(s->identity_labels & (1u << i)))
					continue;
				k++;
				strbuf__reset(&visible);
				strbuf__put_visible(&visible, labels.value[i],
						    strlen(labels.value[i]));
				FUZZ_CHECK(!strcmp(m->label[k]->name, identity_label_names[i]));
				FUZZ_CHECK(
				    !strcmp(m->label[k]->value, visible.buf ? visible.buf : ""));
			}
			for (size_t i = 0; i < nr_text; i++)
				FUZZ_CHECK(!strcmp(m->label[i]->value, text_values[i]));
			strbuf__free(&visible);
		}
		io__prometheus__client__metric_family__free_unpacked(mf, NULL);
		off += len;
	}
done:
	strbuf__free(&txt);
	strbuf__free(&pb);
	snapshot__put(s);
	return 0;
}
