/* SPDX-License-Identifier: GPL-2.0 */
/* What trace_format.c and trace_json.c share; nothing else includes this header. */
#ifndef TOOLWATCH_TRACE_FORMAT_INTERNAL_H
#define TOOLWATCH_TRACE_FORMAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/consumer.h"

/*
 * The bytes of ev's argv to show: trailing NULs dropped when trim, cut after max_args
 * words (0: all). *cut says whether words are missing (cut here or by the kernel).
 */
size_t trace_format__argv_shown(const struct exec_event *ev, uint32_t max_args, bool trim,
				bool *cut);

/* The usage figures an event carries: only ends of executions have them (else NULL). */
const struct tw_usage *trace_format__end_usage(const struct exec_event *ev);

#endif /* TOOLWATCH_TRACE_FORMAT_INTERNAL_H */
