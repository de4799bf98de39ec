#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the PrometheusRule object for the Prometheus Operator from
deploy/prometheus/alerts.yml, line for line (the rules are indented under spec:).

usage: gen-prometheusrule.py [--check] [--runbook-base URL] [--label KEY=VALUE]... [-o FILE]
  --check             exit 1 when deploy/kubernetes/base/prometheusrule.yaml differs
  --runbook-base URL  the runbooks page every runbook_url points into (URL#<alert>), for a
                      copy of docs/runbooks.md hosted elsewhere (default: the project's)
  --label KEY=VALUE   a label on the PrometheusRule, e.g. release=NAME for a Prometheus
                      whose ruleSelector wants it (repeatable)
  -o FILE             write FILE instead of deploy/kubernetes/base/prometheusrule.yaml
Bad usage prints one line and exits 2."""

import os
import re
import sys
import urllib.parse

DEPLOY = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(DEPLOY, "prometheus", "alerts.yml")
TARGET = os.path.join(DEPLOY, "kubernetes", "base", "prometheusrule.yaml")
# The project's runbooks page: every runbook_url in alerts.yml is this and #<alert>.
RUNBOOK_BASE = "https://github.com/toolwatch/toolwatch/blob/main/docs/runbooks.md"
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
%sspec:
"""
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class Usage(Exception):
    pass


def check_base(url):
    """The runbook base as given, or Usage naming what is wrong with it."""
    p = urllib.parse.urlsplit(url)
    if p.scheme not in ("http", "https") or not p.netloc:
        raise Usage("invalid --runbook-base '%s': not an absolute http(s) URL" % url)
    if p.query or p.fragment or url.endswith("#"):
        raise Usage("invalid --runbook-base '%s': a page without query or #anchor "
                    "(each alert adds #<alert>)" % url)
    if re.search(r"[\s'\"\\]", url):
        raise Usage("invalid --runbook-base '%s': spaces, quotes or backslashes" % url)
    return url


def check_label(arg):
    """(key, value) of a Kubernetes label KEY=VALUE, or Usage."""
    key, sep, value = arg.partition("=")
    prefix, slash, name = key.rpartition("/")
    if not sep or not LABEL_NAME.fullmatch(name) or len(name) > 63 or \
            (slash and (not PREFIX.fullmatch(prefix) or len(prefix) > 253)):
        raise Usage("invalid --label '%s': not KEY=VALUE with a Kubernetes label key" % arg)
    if value and (not LABEL_NAME.fullmatch(value) or len(value) > 63):
        raise Usage("invalid --label '%s': not a Kubernetes label value" % arg)
    if key == "app.kubernetes.io/name":
        raise Usage("invalid --label '%s': app.kubernetes.io/name is toolwatch's" % arg)
    return key, value


def parse(argv):
    opts = {"check": False, "base": RUNBOOK_BASE, "labels": [], "output": TARGET}
    args = list(argv)
    while args:
        a = args.pop(0)
        name, eq, inline = a.partition("=") if a.startswith("--") else (a, "", "")
        takes = name in ("--runbook-base", "--label", "-o", "--output")
        if takes and not eq:
            if not args:
                raise Usage("option '%s' needs a value" % name)
            inline = args.pop(0)
        if name == "--check" and not eq:
            opts["check"] = True
        elif name == "--runbook-base":
            opts["base"] = check_base(inline)
        elif name == "--label":
            opts["labels"].append(check_label(inline))
        elif name in ("-o", "--output"):
            opts["output"] = inline
        else:
            raise Usage("unknown option '%s' (options: --check, --runbook-base URL, "
                        "--label KEY=VALUE, -o FILE)" % a)
    if opts["check"] and (opts["base"] != RUNBOOK_BASE or opts["labels"] or
                          opts["output"] != TARGET):
        raise Usage("--check compares the shipped file: no other option with it")
    return opts


def render(base=RUNBOOK_BASE, labels=()):
    with open(SOURCE) as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("groups:"))
    body = []
    for line in lines[start:]:
        m = re.match(r"^(\s*runbook_url:\s*)(\S+)$", line)
        if m:
            url = m.group(2).strip("'\"")
            if not url.startswith(RUNBOOK_BASE + "#"):
                raise SystemExit("%s: runbook_url '%s' is not %s#<alert>"
                                 % (SOURCE, url, RUNBOOK_BASE))
            line = m.group(1) + base + url[len(RUNBOOK_BASE):]
        body.append("  " + line if line.strip() else "")
    extra = "".join("    %s: %s\n" % (k, '"%s"' % v) for k, v in labels)
    return HEADER % extra + "\n".join(body) + "\n"


def main(argv):
    try:
        opts = parse(argv)
    except Usage as e:
        print("gen-prometheusrule.py: %s" % e, file=sys.stderr)
        return 2
    text = render(opts["base"], opts["labels"])
    if opts["check"]:
        with open(TARGET) as f:
            if f.read() != text:
                print("%s differs from %s: run make prometheusrule" % (TARGET, SOURCE))
                return 1
        return 0
    with open(opts["output"], "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
