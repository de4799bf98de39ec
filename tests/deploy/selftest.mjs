// SPDX-License-Identifier: GPL-2.0
// The validator fails what it must: each mutation of the real manifests (an unknown field,
// a wrong type, a missing required field) must be reported. usage: node selftest.mjs
import { check, load } from "./validate.mjs";

const root = new URL("../../deploy/kubernetes/", import.meta.url).pathname;
const objects = [...load(root + "base/toolwatch.yaml"), ...load(root + "base/prometheusrule.yaml")];
const find = kind => structuredClone(objects.find(o => o.kind === kind));
const pod = ds => ds.spec.template.spec;
const cases = [
  ["hostPid instead of hostPID", "DaemonSet", o => { pod(o).hostPid = true; }],
  ["unknown container field", "DaemonSet", o => { pod(o).containers[0].securityContex = {}; }],
  ["capabilities as a string", "DaemonSet",
    o => { pod(o).containers[0].securityContext.capabilities.add = "BPF"; }],
  ["port as a word", "DaemonSet", o => { pod(o).containers[0].ports[0].containerPort = "x"; }],
  ["no selector", "DaemonSet", o => { delete o.spec.selector; }],
  ["jobLable typo", "PodMonitor", o => { o.spec.jobLable = o.spec.jobLabel; }],
  ["relabeling typo", "PodMonitor",
    o => { o.spec.podMetricsEndpoints[0].relabelings[0].source_labels = ["x"]; }],
  ["rule without expr", "PrometheusRule", o => { delete o.spec.groups[1].rules[0].expr; }],
  ["unknown rule field", "PrometheusRule", o => { o.spec.groups[1].rules[0].severity = "x"; }],
  ["namespace typo", "Namespace", o => { o.metadata.label = {}; }],
  ["service account typo", "ServiceAccount", o => { o.automountServiceAccountTokens = false; }],
];
let passed = 0, failed = 0;
for (const [name, kind, mutate] of cases) {
  const base = find(kind);
  const clean = await check(base);
  mutate(base);
  const errors = await check(base);
  if (clean.length === 0 && errors.length > 0) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${name}: unmutated ${JSON.stringify(clean)}, mutated ${JSON.stringify(errors)}`);
  }
}
console.log(`schema-selftest: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
