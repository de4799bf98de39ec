/* SPDX-License-Identifier: GPL-2.0 */
/* Parsers for command-line flag values, pure. Nothing is written to *out on failure. */
#ifndef TOOLWATCH_PARSE_H
#define TOOLWATCH_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses a Prometheus-style duration into nanoseconds: one or more <number><unit>
 * components with units in strictly decreasing order, each at most once: `1w2d`, `1h30m`,
 * `1m30s`, `1.5s`, `10ms`, `500us`, `250ns`. Units: y (365d), w, d, h, m, s, ms, us, µs
 * (U+00B5 or U+03BC), ns. A number is decimal digits with an optional fraction (`1.5`, not
 * `.5` or `1.`); fractions of a nanosecond are truncated. The bare string "0" is zero.
 * Returns 0, -EINVAL for anything else (empty, missing or unknown unit, sign, whitespace,
 * NaN, trailing junk), -ERANGE when the total exceeds UINT64_MAX ns.
 */
int parse_duration_ns(const char *s, uint64_t *out_ns);

/*
 * Parses an unsigned decimal integer (digits only: no sign, space, prefix or suffix) in
 * [min, max]. Returns 0, -EINVAL when s is not a number, -ERANGE when out of range.
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Parses a size in bytes: decimal digits with an optional binary-multiple suffix,
 * B, K/k/Ki/KiB, M/m/Mi/MiB, G/g/Gi/GiB, T/t/Ti/TiB, P/p/Pi/PiB, E/e/Ei/EiB (powers of
 * 1024). Decimal-unit spellings such as KB are rejected as ambiguous. Returns 0, -EINVAL
 * on garbage, -ERANGE when the value exceeds UINT64_MAX.
 */
int parse_size_bytes(const char *s, uint64_t *out);

/*
 * Parses a listen address `[host]:port`: `:9477` (host "" = every address),
 * `0.0.0.0:9477`, `localhost:9477`, `[::1]:9477`, `[::]:9477`. An IPv6 host must be in
 * brackets (its brackets are not copied); a name or IPv4 host is letters, digits, '.', '-'
 * and '_'. The port is required, decimal, 0..65535. Writes the host (NUL terminated) into
 * host[host_size] and the port. Returns 0, -EINVAL when malformed or when the host does
 * not fit, -ERANGE when the port is above 65535.
 */
int parse_listen_address(const char *s, char *host, size_t host_size, uint16_t *port);

/* Parses true/yes/1 and false/no/0 (words in any case). Returns 0 or -EINVAL. */
int parse_bool(const char *s, bool *out);

/*
 * Copies a path flag's value into out: -EINVAL when it is empty, -ENAMETOOLONG when it
 * does not fit out_size with its NUL. out is unchanged on failure.
 */
int parse_path(const char *s, char *out, size_t out_size);

#endif /* TOOLWATCH_PARSE_H */
