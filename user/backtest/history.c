// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest/history.h"

#define NS_PER_S   1e9
#define LINE_MAX_B 4096 /* a longer CSV line is refused */

enum column {
	COL_TIMESTAMP,
	COL_EXECUTIONS,
	COL_FAILURES,
	COL_DURATION,
	COL_CPU,
	COL_MEMORY,
	COL_VALUE,
	COL_MAX,
};

static const char *const column_names[COL_MAX] = {
    [COL_TIMESTAMP] = "timestamp", [COL_EXECUTIONS] = "executions",
    [COL_FAILURES] = "failures",   [COL_DURATION] = "duration_seconds",
    [COL_CPU] = "cpu_seconds",	   [COL_MEMORY] = "peak_memory_bytes",
    [COL_VALUE] = "value",
};

#define COLUMNS_MAX 16

void history__fini(struct history *h)
{
	if (!h)
		return;
	free(h->rows);
	h->rows = NULL;
	h->nr = h->cap = 0;
}

int history__append(struct history *h, const struct history_row *row)
{
	if (row->failures > row->executions || !isfinite(row->cpu_seconds) || row->cpu_seconds < 0)
		return -EINVAL;
	if (h->nr && row->time_unix_s < h->rows[h->nr - 1].time_unix_s)
		return -EINVAL;
	if (h->nr >= HISTORY_ROWS_MAX)
		return -E2BIG;
	if (h->nr == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct history_row *rows = realloc(h->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		h->rows = rows;
		h->cap = cap;
	}
	h->rows[h->nr++] = *row;
	return 0;
}

int64_t history__step_s(const struct history *h)
{
	int64_t step = 0;

	for (size_t i = 1; i < h->nr; i++) {
		int64_t gap = h->rows[i].time_unix_s - h->rows[i - 1].time_unix_s;

		if (gap > 0 && (!step || gap < step))
			step = gap;
	}
	return step;
}

static void fill(struct hist *hist, const struct hist_layout *layout, uint64_t n, double scaled)
{
	uint64_t v;

	memset(hist, 0, sizeof(*hist));
	if (!n)
		return;
	if (!(scaled > 0)) /* also NaN */
		scaled = 0;
	v = scaled >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)scaled;
	hist->counts[hist_layout__bucket(layout, v)] = n;
	hist->count = n;
	/* n x v, saturating as the registry's sums do */
	hist->sum = v && n > UINT64_MAX / v ? UINT64_MAX : n * v;
}

void history_row__set_duration(struct history_row *row, uint64_t n, double seconds)
{
	fill(&row->duration, &hist_duration_layout, n, seconds * NS_PER_S);
}

void history_row__set_memory(struct history_row *row, uint64_t n, double bytes)
{
	fill(&row->peak_memory, &hist_memory_layout, n, bytes);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Exactly n decimal digits at s into *v. */
static bool digits(const char *s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

/* An optional fraction: '.' and one or more digits. Returns the length taken. */
static size_t fraction_len(const char *s)
{
	size_t n = 0;

	if (*s != '.')
		return 0;
	while (s[n + 1] >= '0' && s[n + 1] <= '9')
		n++;
	return n ? n + 1 : 0;
}

int history__parse_time(const char *s, int64_t *unix_s)
{
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, se;
	size_t len = strlen(s), p;

	if (len >= 10 && s[4] == '-') {
		if (len < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
		    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != ' ' && s[10] != 'T') ||
		    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
		    s[16] != ':' || !digits(s + 17, 2, &se))
			return -EINVAL;
		p = 19 + fraction_len(s + 19);
		if (s[p] == 'Z')
			p++;
		if (s[p] || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
		    se > 60 || (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))))
			return -EINVAL;
		*unix_s = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
		return 0;
	}
	/* Unix seconds: digits, an optional fraction */
	p = 0;
	while (s[p] >= '0' && s[p] <= '9')
		p++;
	if (!p || p > 12 || s[p + fraction_len(s + p)])
		return -EINVAL;
	*unix_s = strtoll(s, NULL, 10);
	return 0;
}

/* A finite decimal number (no hex, inf or nan); the whole of s. */
static int parse_number(const char *s, double *v)
{
	char *end;

	if (!*s || strpbrk(s, "xXiInN") || *s == ' ')
		return -EINVAL;
	errno = 0;
	*v = strtod(s, &end);
	if (*end || errno || !isfinite(*v))
		return -EINVAL;
	return 0;
}

static int parse_count(const char *s, uint64_t *v)
{
	double x;

	if (parse_number(s, &x) || x < 0 || x > 1e18 || x != floor(x))
		return -EINVAL;
	*v = (uint64_t)x;
	return 0;
}

/* Splits line (modified in place) at commas into at most max cells. Returns their number. */
static int split(char *line, char **cells, int max)
{
	int n = 0;

	for (char *p = line;; p++) {
		if (n == max)
			return max + 1;
		cells[n++] = p;
		p = strchr(p, ',');
		if (!p)
			return n;
		*p = '\0';
	}
}

struct csv_state {
	int nr_columns;
	enum column columns[COLUMNS_MAX];
	bool have[COL_MAX];
};

static int parse_header(struct csv_state *st, char *line, char *err, size_t err_size)
{
	char *cells[COLUMNS_MAX];
	int n = split(line, cells, COLUMNS_MAX);

	if (n > COLUMNS_MAX) {
		snprintf(err, err_size, "line 1: more than %d columns", COLUMNS_MAX);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		int c;

		for (c = 0; c < COL_MAX; c++)
			if (!strcmp(cells[i], column_names[c]))
				break;
		if (c == COL_MAX) {
			snprintf(
			    err, err_size,
			    "line 1: unknown column '%.64s' (want timestamp, executions, "
			    "failures, duration_seconds, cpu_seconds, peak_memory_bytes or value)",
			    cells[i]);
			return -EINVAL;
		}
		if (st->have[c]) {
			snprintf(err, err_size, "line 1: column '%s' given twice", column_names[c]);
			return -EINVAL;
		}
		st->have[c] = true;
		st->columns[i] = c;
	}
	st->nr_columns = n;
	if (!st->have[COL_TIMESTAMP]) {
		snprintf(err, err_size, "line 1: no 'timestamp' column");
		return -EINVAL;
	}
	if (st->have[COL_VALUE] && st->have[COL_DURATION]) {
		snprintf(err, err_size,
			 "line 1: 'value' and 'duration_seconds' are the same column");
		return -EINVAL;
	}
	return 0;
}

static int parse_row(const struct csv_state *st, char *line, size_t lineno, struct history_row *row,
		     char *err, size_t err_size)
{
	char *cells[COLUMNS_MAX];
	double duration = 0, memory = 0;
	int n = split(line, cells, COLUMNS_MAX);

	if (n != st->nr_columns) {
		snprintf(err, err_size, "line %zu: %d cells, the header names %d", lineno,
			 n > COLUMNS_MAX ? COLUMNS_MAX + 1 : n, st->nr_columns);
		return -EINVAL;
	}
	memset(row, 0, sizeof(*row));
	row->executions = HISTORY_DEFAULT_EXECUTIONS;
	for (int i = 0; i < n; i++) {
		enum column c = st->columns[i];
		int bad;

		switch (c) {
		case COL_TIMESTAMP:
			bad = history__parse_time(cells[i], &row->time_unix_s);
			break;
		case COL_EXECUTIONS:
			bad = parse_count(cells[i], &row->executions);
			break;
		case COL_FAILURES:
			bad = parse_count(cells[i], &row->failures);
			break;
		case COL_CPU:
			bad = parse_number(cells[i], &row->cpu_seconds) || row->cpu_seconds < 0;
			break;
		case COL_MEMORY:
			bad = parse_number(cells[i], &memory);
			break;
		default: /* COL_DURATION, COL_VALUE */
			bad = parse_number(cells[i], &duration);
			break;
		}
		if (bad) {
			snprintf(err, err_size, "line %zu: bad %s '%.64s'", lineno, column_names[c],
				 cells[i]);
			return -EINVAL;
		}
	}
	if (row->failures > row->executions) {
		snprintf(err, err_size, "line %zu: more failures than executions", lineno);
		return -EINVAL;
	}
	if (st->have[COL_DURATION] || st->have[COL_VALUE])
		history_row__set_duration(row, row->executions, duration);
	if (st->have[COL_MEMORY])
		history_row__set_memory(row, row->executions, memory);
	return 0;
}

int history__parse_csv(struct history *h, const char *buf, size_t len, char *err, size_t err_size)
{
	struct csv_state st = {0};
	char line[LINE_MAX_B + 1];
	size_t pos = 0, lineno = 0;
	bool header = true;
	int ret;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		struct history_row row;

		lineno++;
		if (n && buf[pos + n - 1] == '\r')
			n--;
		if (n > LINE_MAX_B) {
			snprintf(err, err_size, "line %zu: longer than %d bytes", lineno,
				 LINE_MAX_B);
			return -EINVAL;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += (nl ? (size_t)(nl - (buf + pos)) + 1 : len - pos);
		if (!n)
			continue;
		if (memchr(line, '\0', n)) {
			snprintf(err, err_size, "line %zu: a NUL byte", lineno);
			return -EINVAL;
		}
		if (header) {
			ret = parse_header(&st, line, err, err_size);
			if (ret)
				return ret;
			header = false;
			continue;
		}
		ret = parse_row(&st, line, lineno, &row, err, err_size);
		if (ret)
			return ret;
		/* a clock stepped back: the row joins the window of the row before */
		if (h->nr && row.time_unix_s < h->rows[h->nr - 1].time_unix_s) {
			row.time_unix_s = h->rows[h->nr - 1].time_unix_s;
			h->clamped++;
		}
		ret = history__append(h, &row);
		if (ret == -E2BIG)
			snprintf(err, err_size, "line %zu: more than %d rows", lineno,
				 HISTORY_ROWS_MAX);
		else if (ret)
			snprintf(err, err_size, "line %zu: %s", lineno, strerror(-ret));
		if (ret)
			return ret;
	}
	if (header) {
		snprintf(err, err_size, "no header line");
		return -EINVAL;
	}
	return 0;
}
