/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's own process_* metrics (internal to the HTTP server). */
#ifndef TOOLWATCH_HTTP_PROCESS_H
#define TOOLWATCH_HTTP_PROCESS_H

#include "exposition.h"

struct http_server;

/*
 * Fills e's process_* fields from /proc/self (CPU seconds, virtual and resident memory,
 * open descriptors) and the descriptor limit, like the Go client's process collector,
 * and marks them present; a figure that cannot be read stays 0.
 */
void process__read(const struct http_server *srv, struct exporter_stats *e);

#endif /* TOOLWATCH_HTTP_PROCESS_H */
