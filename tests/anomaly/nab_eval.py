#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Detector quality on the Numenta Anomaly Benchmark (NAB) corpus: `make anomaly-eval`.

Runs `toolwatch backtest --file` (the agent's detector, C) over every NAB series, writes
NAB's results format (results/<detector>/<category>/<detector>_<file>.csv with
timestamp,value,anomaly_score,label) so NAB's own scorer can check the number, and scores
it with NAB's standard profile as NAB describes it (README; Lavin and Ahmad 2015,
arXiv:1510.03336):

- each labelled anomaly has a window; the first 15% of a file (at most 750 rows) is
  probation and is not scored;
- a detection is a row whose anomaly_score reaches the threshold (ours are 0 or 1: 1 at
  each window where a flag of the tool is raised);
- in a window only the earliest detection counts, weighted by the scaled sigmoid of its
  relative position, 2 sigmoid(-5 y) - 1 with y = -(right - i + 1) / width, divided by its
  value at the window's left edge (so the earliest is worth A_tp = 1);
- a window without a detection costs A_fn = -1;
- a detection outside every window costs A_fp = -0.11, weighted by the scaled sigmoid of
  its distance past the previous window's end relative to that window's width (-1 before
  any window): detections just after a window cost little;
- the total is normalised: 100 (S - S_null) / (S_perfect - S_null), S_null the score of
  a detector that never detects, S_perfect A_tp x the number of anomaly windows (NAB's
  runner counts the entries of its windows file).

Also reports per category precision (raises inside a window / all scored raises), recall
(windows detected / windows) and delay (rows from a window's start, and from its labelled
anomaly, to its first detection), and the raises on artificialNoAnomaly (all rows).
"""

import argparse
import csv
import datetime
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

A_TP, A_FP, A_FN = 1.0, 0.11, 1.0  # standard profile
PROBATION = 0.15
DETECTOR = "toolwatch"


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def scaled_sigmoid(y):
    return -1.0 if y > 3.0 else 2 * sigmoid(-5 * y) - 1.0


def parse_time(s):
    return datetime.datetime.strptime(s.split(".")[0], "%Y-%m-%d %H:%M:%S")


def probation_rows(n):
    return min(math.floor(PROBATION * n), PROBATION * 5000)


def score_file(times, detections, windows):
    """NAB's sweep for one file at one threshold. times: row timestamps; detections: rows
    detected; windows: [(start, end)] timestamps. Returns (score, windows scored, details)."""
    idx = {t: i for i, t in enumerate(times)}
    wins = [(idx[a], idx[b]) for a, b in windows]
    prob = probation_rows(len(times))
    max_tp = scaled_sigmoid(-1.0)
    tp_parts = {}
    fp_score = 0.0
    fp_rows, tp_rows = [], []
    # windows with a scorable row (not wholly in probation) count, detected or not
    for k, (a, b) in enumerate(wins):
        if b >= prob:
            tp_parts[k] = -A_FN
    first = {}
    for i in sorted(detections):
        if i < prob:
            continue
        inside = [k for k, (a, b) in enumerate(wins) if a <= i <= b]
        if inside:
            k = inside[0]
            a, b = wins[k]
            y = -(b - i + 1) / float(b - a + 1)
            tp_parts[k] = max(tp_parts[k], scaled_sigmoid(y) * A_TP / max_tp)
            first.setdefault(k, i)
            tp_rows.append(i)
            continue
        before = [(a, b) for a, b in wins if b < i]
        if not before:
            w = -1.0
        else:
            a, b = before[-1]
            w = scaled_sigmoid(abs(b - i) / float((b - a + 1) - 1))
        fp_score += w * A_FP
        fp_rows.append(i)
    return sum(tp_parts.values()) + fp_score, len(tp_parts), {
        "tp_rows": tp_rows, "fp_rows": fp_rows, "first": first, "wins": wins}


def nab_scorer(repo, python, results, nab):
    """Runs NAB's own scorer on our results in a scratch copy of its code; returns its
    standard-profile score, or an error string."""
    import re
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="nab-scorer.")
    nab, results = os.path.abspath(nab), os.path.abspath(results)
    try:
        for part in ("nab", "config", "run.py"):
            src = os.path.join(repo, part)
            (shutil.copytree if os.path.isdir(src) else shutil.copy)(
                src, os.path.join(tmp, part))
        shutil.copytree(os.path.join(repo, "results", "null"),
                        os.path.join(tmp, "results", "null"))
        shutil.copytree(os.path.join(results, DETECTOR), os.path.join(tmp, "results", DETECTOR))
        th = os.path.join(tmp, "config", "thresholds.json")
        with open(th) as f:
            thresholds = json.load(f)
        # our scores are 0 or 1: any threshold in (0, 1] makes every 1 a detection
        thresholds[DETECTOR] = {p: {"threshold": 0.5, "score": 0}
                                for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate")}
        with open(th, "w") as f:
            json.dump(thresholds, f)
        out = subprocess.run([python, "run.py", "-d", DETECTOR, "--score", "--normalize",
                              "--skipConfirmation", "--dataDir", os.path.join(nab, "data"),
                              "--windowsFile",
                              os.path.join(nab, "labels", "combined_windows.json")],
                             cwd=tmp, capture_output=True, text=True)
        m = re.search(r"Final score for '%s' detector on 'standard' profile = (-?[0-9.]+)"
                      % DETECTOR, out.stdout)
        if not m:
            return "NAB's scorer failed: " + (out.stderr.strip().splitlines() or ["?"])[-1]
        return float(m.group(1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_backtest(binary, path, extra):
    out = subprocess.run([binary, "backtest", "--file", path, "--json"] + extra,
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit("anomaly-eval: backtest of %s failed: %s" % (path, out.stderr.strip()))
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/toolwatch")
    ap.add_argument("--nab", default="../shared/nab", help="NAB corpus (data/, labels/)")
    ap.add_argument("--out", default="build/anomaly-eval.json")
    ap.add_argument("--results", default="build/nab-results",
                    help="NAB results tree written here (<detector>/<category>/...)")
    ap.add_argument("--only", action="append", default=[],
                    help="categories (or category/file) to run; default all")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--nab-scorer", default="",
                    help="a checkout of NAB's code (github.com/numenta/NAB): its own scorer "
                         "checks the number (needs python3 with numpy and pandas)")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="the python that runs NAB's scorer")
    ap.add_argument("args", nargs="*", help="more flags for toolwatch backtest (after --)")
    a = ap.parse_args()

    data = os.path.join(a.nab, "data")
    if not os.path.isdir(data):
        sys.exit("anomaly-eval: no NAB corpus at '%s' (NAB_DIR=... points elsewhere)" % a.nab)
    with open(os.path.join(a.nab, "labels", "combined_windows.json")) as f:
        windows = json.load(f)
    with open(os.path.join(a.nab, "labels", "combined_labels.json")) as f:
        labels = json.load(f)
    files = sorted(k for k in windows
                   if not a.only or any(k == o or k.startswith(o + "/") for o in a.only))

    def one(rel):
        res = run_backtest(a.bin, os.path.join(data, rel), a.args)
        return rel, res

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        runs = dict(ex.map(one, files))

    per_cat = {}
    total = {"score": 0.0, "null": 0.0, "perfect": 0.0}
    no_anomaly_flags = 0
    for rel in files:
        cat, name = rel.split("/")
        with open(os.path.join(data, rel)) as f:
            rows = list(csv.reader(f))[1:]
        times = [r[0] for r in rows]
        ev = runs[rel]["events"]
        raised = sorted({e["row"] for e in ev if e["state"] == "raised"})
        wins = [(parse_time(s), parse_time(e)) for s, e in windows[rel]]
        ptimes = [parse_time(t) for t in times]
        pwins = []
        for s, e in wins:  # window limits are row timestamps
            pwins.append((s, e))
        score, nwin, det = score_file(ptimes, raised, pwins)
        if cat == "artificialNoAnomaly":
            no_anomaly_flags += len(raised)
        # results in NAB's format
        label_rows = set()
        for a0, b0 in det["wins"]:
            label_rows.update(range(a0, b0 + 1))
        rdir = os.path.join(a.results, DETECTOR, cat)
        os.makedirs(rdir, exist_ok=True)
        rs = set(raised)
        with open(os.path.join(rdir, "%s_%s" % (DETECTOR, name)), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["timestamp", "value", "anomaly_score", "label"])
            for i, r in enumerate(rows):
                w.writerow([r[0], r[1], 1 if i in rs else 0, 1 if i in label_rows else 0])
        c = per_cat.setdefault(cat, {"score": 0.0, "null": 0.0, "perfect": 0.0, "windows": 0,
                                     "detected": 0, "raises": 0, "raises_in_window": 0,
                                     "delay_rows": [], "delay_from_label_rows": [],
                                     "files": 0})
        lab_idx = {t: i for i, t in enumerate(ptimes)}
        labs = [lab_idx.get(parse_time(t)) for t in labels.get(rel, [])]
        c["files"] += 1
        c["score"] += score
        c["null"] -= A_FN * nwin
        c["perfect"] += A_TP * len(windows[rel])
        c["windows"] += nwin
        c["detected"] += len(det["first"])
        c["raises"] += len(det["tp_rows"]) + len(det["fp_rows"])
        c["raises_in_window"] += len(det["tp_rows"])
        for k, i in det["first"].items():
            a0, b0 = det["wins"][k]
            c["delay_rows"].append(i - a0)
            lab = [x for x in labs if x is not None and a0 <= x <= b0]
            if lab:
                c["delay_from_label_rows"].append(i - lab[0])
        if not a.quiet:
            print("%-60s score %7.3f  windows %d detected %d  raises %d (%d outside)" % (
                rel, score, nwin, len(det["first"]), len(raised),
                len(det["fp_rows"])), file=sys.stderr)

    def norm(s, null, perfect):
        return 100.0 * (s - null) / (perfect - null) if perfect != null else 0.0

    report = {"categories": {}}
    for cat, c in sorted(per_cat.items()):
        for key in ("score", "null", "perfect"):
            total[key] += c[key]
        dl = c["delay_rows"]
        dlab = c["delay_from_label_rows"]
        report["categories"][cat] = {
            "files": c["files"],
            "standard_score": round(norm(c["score"], c["null"], c["perfect"]), 2)
            if c["windows"] else None,
            "raw_score": round(c["score"], 4),
            "windows": c["windows"],
            "detected": c["detected"],
            "recall": round(c["detected"] / c["windows"], 3) if c["windows"] else None,
            "raises": c["raises"],
            "precision": round(c["raises_in_window"] / c["raises"], 3) if c["raises"] else None,
            "mean_delay_rows_from_window_start": round(sum(dl) / len(dl), 1) if dl else None,
            "mean_delay_rows_from_label": round(sum(dlab) / len(dlab), 1) if dlab else None,
        }
    score = norm(total["score"], total["null"], total["perfect"])
    report["nab"] = {
        "profile": "standard",
        "standard_score": round(score, 2),
        "raw_score": round(total["score"], 4),
        "null_score": total["null"],
        "perfect_score": total["perfect"],
        "no_anomaly_flags": no_anomaly_flags,
        "results_dir": os.path.abspath(a.results),
        "detector": DETECTOR,
        "backtest_flags": a.args,
        "files": len(files),
    }
    if a.nab_scorer:
        theirs = nab_scorer(a.nab_scorer, a.python, a.results, a.nab)
        report["nab"]["nab_scorer_standard_score"] = theirs
        print("NAB's own scorer (%s): %s" % (a.nab_scorer, theirs))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print("%-22s %6s %6s %7s %8s %8s %9s" % ("category", "score", "recall", "windows",
                                            "precision", "raises", "delay"))
    for cat, c in report["categories"].items():
        print("%-22s %6s %6s %7d %8s %8d %9s" % (
            cat, c["standard_score"], c["recall"], c["windows"], c["precision"], c["raises"],
            c["mean_delay_rows_from_window_start"]))
    print("NAB standard score (whole corpus): %.2f; raises on artificialNoAnomaly: %d" % (
        score, no_anomaly_flags))
    print("wrote %s and NAB results under %s" % (a.out, a.results))


if __name__ == "__main__":
    main()
