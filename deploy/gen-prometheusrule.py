#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the PrometheusRule object for the Prometheus Operator from
deploy/prometheus/alerts.yml, line for line (the rules are indented under spec:).
usage: gen-prometheusrule.py [--check]   (--check: exit 1 when the file differs)"""

import os
import sys

DEPLOY = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(DEPLOY, "prometheus", "alerts.yml")
TARGET = os.path.join(DEPLOY, "kubernetes", "prometheusrule.yaml")
HEADER = """\
# SPDX-License-Identifier: GPL-2.0
# Generated from deploy/prometheus/alerts.yml by `make prometheusrule`: do not edit.
# Prometheus picks it up when its ruleSelector matches these labels (docs/deployment.md).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: toolwatch
  namespace: toolwatch
  labels:
    app.kubernetes.io/name: toolwatch
spec:
"""


def render():
    with open(SOURCE) as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("groups:"))
    body = ["  " + line if line.strip() else "" for line in lines[start:]]
    return HEADER + "\n".join(body) + "\n"


def main():
    text = render()
    if sys.argv[1:] == ["--check"]:
        with open(TARGET) as f:
            if f.read() != text:
                print("%s differs from %s: run make prometheusrule" % (TARGET, SOURCE))
                return 1
        return 0
    with open(TARGET, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
