// SPDX-License-Identifier: GPL-2.0
// Validates every Kubernetes object in the YAML files given against the Kubernetes and
// prometheus-operator schemas (npm kubernetes-models, offline), strictly: a field the
// schema does not define (a typo such as hostPid) is an error, as `kubectl apply
// --validate=strict` makes it. usage: node validate.mjs FILE.yaml...
// The packages' compiled validators accept unknown fields, so each object is wrapped in a
// proxy that records which fields the validator looked up: a field never looked up, in an
// object whose keys the validator did not enumerate (maps such as labels), is unknown.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseAllDocuments } from "yaml";

const SCHEMAS = {
  "v1/Namespace": "./node_modules/kubernetes-models/_schemas/IoK8sApiCoreV1Namespace",
  "v1/ServiceAccount": "./node_modules/kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount",
  "v1/Service": "./node_modules/kubernetes-models/_schemas/IoK8sApiCoreV1Service",
  "v1/ConfigMap": "./node_modules/kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap",
  "apps/v1/DaemonSet": "./node_modules/kubernetes-models/_schemas/IoK8sApiAppsV1DaemonSet",
  "rbac.authorization.k8s.io/v1/ClusterRole":
    "./node_modules/kubernetes-models/_schemas/IoK8sApiRbacV1ClusterRole",
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding":
    "./node_modules/kubernetes-models/_schemas/IoK8sApiRbacV1ClusterRoleBinding",
  "monitoring.coreos.com/v1/PodMonitor":
    "./node_modules/@kubernetes-models/prometheus-operator/_schemas/MonitoringCoreosComV1PodMonitor",
  "monitoring.coreos.com/v1/PrometheusRule":
    "./node_modules/@kubernetes-models/prometheus-operator/_schemas/MonitoringCoreosComV1PrometheusRule",
};

function track(value, path, objects) {
  if (Array.isArray(value)) return value.map((v, i) => track(v, `${path}/${i}`, objects));
  if (value === null || typeof value !== "object") return value;
  const info = { path, keys: Object.keys(value), read: new Set(), enumerated: false };
  objects.push(info);
  const copy = {};
  for (const k of info.keys) copy[k] = track(value[k], `${path}/${k}`, objects);
  return new Proxy(copy, {
    get(t, p, r) {
      if (typeof p === "string") info.read.add(p);
      return Reflect.get(t, p, r);
    },
    has(t, p) {
      if (typeof p === "string") info.read.add(p);
      return Reflect.has(t, p);
    },
    ownKeys(t) {
      info.enumerated = true;
      return Reflect.ownKeys(t);
    },
  });
}

// Returns the error lines of one object (empty when valid).
export async function check(obj) {
  const key = `${obj?.apiVersion}/${obj?.kind}`;
  if (!SCHEMAS[key]) return [`no schema for ${key}`];
  const { validate } = await import(`${SCHEMAS[key]}.mjs`);
  const objects = [];
  const ok = validate(track(obj, "", objects));
  const errors = ok ? [] : validate.errors.map(e => `${e.instancePath || "/"}: ${e.message ||
    e.keyword} ${JSON.stringify(e.params)}`);
  for (const o of objects)
    if (!o.enumerated)
      for (const k of o.keys)
        if (!o.read.has(k)) errors.push(`${o.path}/${k}: unknown field`);
  return errors;
}

// Returns the objects of a multi-document YAML file; throws on a syntax error.
export function load(file) {
  return parseAllDocuments(readFileSync(file, "utf8")).map(doc => {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJS();
  }).filter(obj => obj !== null);
}

async function main(files) {
let failed = 0, count = 0;
for (const file of files) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) {
      console.log(`FAIL ${file}: ${doc.errors[0].message}`);
      failed++;
      continue;
    }
    const obj = doc.toJS();
    if (obj === null) continue;
    count++;
    const name = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    const errors = await check(obj);
    if (errors.length) {
      failed++;
      console.log(`FAIL ${name}`);
      for (const e of errors) console.log(`    ${e}`);
    } else {
      console.log(`PASS ${name}`);
    }
  }
}
console.log(`schema: ${count - failed} passed, ${failed} failed`);
return failed || !count ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exit(await main(process.argv.slice(2)));
