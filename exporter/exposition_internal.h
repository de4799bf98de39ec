/* SPDX-License-Identifier: GPL-2.0 */
/* What exposition.c and exposition_self.c share; nothing else includes this header. */
#ifndef TOOLWATCH_EXPOSITION_INTERNAL_H
#define TOOLWATCH_EXPOSITION_INTERNAL_H

#include <stdint.h>

#include "events/snapshot.h"
#include "lib/strbuf.h"

/* --- exposition.c --- */

/* Appends the HELP and TYPE lines of family name. */
void exposition__family(struct strbuf *out, const char *name, const char *type, const char *help);

/* Appends gauge family name with its one unlabelled series of value v. */
void exposition__gauge1(struct strbuf *out, const char *name, const char *help, uint64_t v);

/* Appends counter family name with its one unlabelled series of value v. */
void exposition__counter1(struct strbuf *out, const char *name, const char *help, uint64_t v);

/* --- exposition_self.c --- */

/* Appends the agent's toolwatch_* families of s (build info, events, probes, BPF runs). */
void exposition__render_agent(const struct snapshot *s, const char *version, struct strbuf *out);

/* Appends the toolwatch_kubernetes_* families of k; nothing unless k->enabled. */
void exposition__render_kube(const struct kube_stats *k, struct strbuf *out);

/* Appends the identity resolver's and series table's families; nothing unless enabled. */
void exposition__render_identity(const struct snapshot *s, struct strbuf *out);

#endif /* TOOLWATCH_EXPOSITION_INTERNAL_H */
