#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Root integration tests: start the real agent, run real programs, assert on /metrics.

usage: run.py --bin build/toolwatch --helpers build/helpers [-k NAME ...] [--raw-tp]
Prints PASS/FAIL/SKIP per test and a closing "integration: N passed, N failed" line.
A skip is a failure under CI=true.
"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import Agent, Runner, Workdir, is_asan  # noqa: E402

import test_executions  # noqa: E402
import test_exposition  # noqa: E402
import test_lifecycle  # noqa: E402
import test_resources  # noqa: E402
import test_anomaly  # noqa: E402
import test_trace  # noqa: E402
import test_deploy  # noqa: E402
import test_container  # noqa: E402
import test_signals  # noqa: E402
import test_privileges  # noqa: E402
import test_web  # noqa: E402
import test_wait  # noqa: E402
import test_naming  # noqa: E402
import test_http  # noqa: E402
import test_kube  # noqa: E402
import test_identity  # noqa: E402
import test_kube_labels  # noqa: E402
import test_native  # noqa: E402
import test_backtest  # noqa: E402
import test_attacks  # noqa: E402
import test_semantics  # noqa: E402
import test_sampling  # noqa: E402

MODULES = [test_executions, test_exposition, test_lifecycle, test_resources, test_anomaly,
           test_trace, test_deploy, test_signals, test_privileges, test_web, test_wait,
           test_container, test_naming, test_http, test_kube, test_identity, test_kube_labels,
           test_backtest, test_attacks, test_native, test_semantics, test_sampling]


# Under --raw-tp (TOOLWATCH_FORCE_RAW_TP=1 for every agent: the fallback taken where
# BTF-typed tracepoints are refused) these tests are not run: they measure what only
# BTF-typed programs provide. Each is listed as NOT RUN with its reason, never as passed.
NEEDS_BTF = {
    "test_sigterm_detaches_everything": "expects the BTF-typed program set",
    "test_network_bytes_exact_over_loopback": "probe net needs BTF-typed tracepoints",
    "test_forked_child_bytes_roll_up_to_parent": "probe net needs BTF-typed tracepoints",
    "test_forked_child_bytes_before_exec_stay_with_parent": "probe net needs BTF-typed "
                                                            "tracepoints",
    "test_wrapper_script_child_is_its_own_tool": "probe net needs BTF-typed tracepoints",
    "test_daemon_counters_rise_while_running": "probe net needs BTF-typed tracepoints",
    "test_host_latency_histograms": "probe runqlat needs BTF-typed tracepoints",
    "test_deploy_files_use_exported_metrics": "the deploy files use network metrics",
    "test_trace_detaches_on_sigint_sigterm_and_duration": "expects the BTF-typed program "
                                                          "names",
    "test_capabilities_without_root": "expects probe net attached",
    "test_missing_capability_degrades_its_family_only": "expects probe net attached",
    "test_wait_anomaly_cause_runqueue_and_cpu": "the contended tool's runqueue cause is not "
                                                "raised in time on raw tracepoints",
}


# Nor these, whose subject is user-space code that runs the same on either tracepoint
# kind (HTTP, TLS and auth, the Kubernetes client, exposition formats, the series
# registry's churn, backtests, the deploy files), or that runs no agent of this pass (the
# image's agent takes the BTF-typed path it ships with): the BTF pass runs them.
USER_SPACE = "user-space subject, the same code on either tracepoint kind: run on BTF"
SAME_ON_RAW_TP = dict.fromkeys([
    "test_web_tls_basic_auth_client_certs_and_prometheus",
    "test_web_bad_config_at_start_is_one_line_exit_2",
    "test_web_promtool_accepts_every_documented_example",
    "test_web_gzip_body_decompresses_to_the_plain_body",
    "test_web_self_metrics_addresses_and_telemetry_path",
    "test_web_start_errors_are_one_line_and_attach_nothing",
    "test_web_slowloris_and_flood_do_not_stop_a_scrape",
    "test_web_tls_handshake_flood_does_not_stop_a_scrape",
    "test_web_basic_auth_without_tls_and_sighup_reload",
    "test_kube_lookup_contract_refresh_and_rate_limit",
    "test_kube_good_server_lists_pods_and_follows_token_rotation",
    "test_kube_failures_counted_without_stalling_events",
    "test_kube_tls_connect_and_token_failures",
    "test_kube_stops_promptly_during_a_slow_request",
    "test_kube_configuration_errors",
    "test_attacks_redos_exec_storm_keeps_events_fresh",
    "test_attacks_wrong_password_flood_keeps_scrapes_and_healthz",
    "test_attacks_torn_web_config_never_turns_auth_off",
    "test_attacks_downgrade_needs_the_explicit_key",
    "test_attacks_slow_and_stalled_readers_bound_memory",
    "test_attacks_reloads_racing_scrapes_drop_none",
    "test_attacks_oversized_state_file_is_refused_unread",
    "test_attacks_request_smuggling_is_refused_and_closed",
    "test_http_late_headers_within_deadline_survive_a_stalled_deadline_thread",
    "test_http_scrapes_keepalive_and_late_headers_under_cpu_load",
    "test_http_per_client_limit_refuses_counts_and_frees",
    "test_http_failed_scrape_reports_the_agent_log",
    "test_native_histogram_p95_real_prometheus",
    "test_native_negotiation_formats_and_bad_accept",
    "test_native_series_budget_and_thin_families",
    "test_identity_churn_leaves_metrics",
    "test_backtest_prometheus_raises_in_the_agents_window",
    "test_backtest_bad_input_one_line_and_status",
    "test_deploy_prometheus_files_valid",
    "test_deploy_expressions_evaluate_on_prometheus",
], USER_SPACE)
SAME_ON_RAW_TP["test_container_runs_as_the_daemonset"] = \
    "the image's agent takes the BTF-typed path whatever the pass: run on BTF"


# With the ASan/UBSan build as --bin these are not run: they do not run that binary, so the
# unsanitized pass has run them exactly as they would run here.
NOT_THIS_BINARY = {
    "test_container_runs_as_the_daemonset": "the image holds its own build of the agent",
}


class Context:
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--helpers", required=True)
    ap.add_argument("-k", action="append", help="run tests whose name contains this")
    ap.add_argument("--raw-tp", action="store_true",
                    help="every agent on raw tracepoints (TOOLWATCH_FORCE_RAW_TP=1)")
    args = ap.parse_args()

    runner = Runner()
    for mod in MODULES:
        mod.register(runner)
    stale = (set(NEEDS_BTF) | set(SAME_ON_RAW_TP) | set(NOT_THIS_BINARY)) - \
        {t.__name__ for t in runner.tests}
    if stale:
        print("run.py: listed as not run in a pass, but no such test: %s"
              % ", ".join(sorted(stale)), file=sys.stderr)
        return 2
    if args.k and not any(k in t.__name__ for t in runner.tests for k in args.k):
        print("run.py: no test name contains %s" % " or ".join(repr(k) for k in args.k),
              file=sys.stderr)
        return 2
    def not_run(reasons, why):
        """Takes the tests named in reasons out of the run, each listed as NOT RUN."""
        for fn in [t for t in runner.tests if t.__name__ in reasons]:
            if not args.k or any(k in fn.__name__ for k in args.k):
                print("NOT RUN %s (%s: %s)" % (fn.__name__, why, reasons[fn.__name__]))
            runner.tests.remove(fn)

    if args.raw_tp:
        os.environ["TOOLWATCH_FORCE_RAW_TP"] = "1"
        not_run(dict(SAME_ON_RAW_TP, **NEEDS_BTF), "--raw-tp")
    if is_asan(args.bin):
        not_run(NOT_THIS_BINARY, "ASan build")
    if os.geteuid() != 0:
        ci = os.environ.get("CI") == "true"
        print("%s integration tests: need root" % ("FAIL" if ci else "SKIP"))
        print("integration: 0 passed, %d failed, %d skipped"
              % ((len(runner.tests), 0) if ci else (0, len(runner.tests))))
        return 1 if ci else 0

    # every temp file and dir of the run (agent logs, state dirs, fake servers' files) lives
    # in one dir: removed after a clean run, kept for reading after a failed one
    run_tmp = tempfile.mkdtemp(prefix="toolwatch-tests.")
    os.chmod(run_tmp, 0o1777)  # as /tmp: tests run programs as other users there
    tempfile.tempdir = run_tmp
    try:
        ok = run_suite(args, runner)
    finally:
        tempfile.tempdir = None
    if not ok:
        print("the run's temp files (agent logs, state dirs) are kept in %s" % run_tmp)
    else:
        remove_run_tmp(run_tmp)
    return 0 if ok else 1


def remove_run_tmp(path):
    """Removes the run's temp dir unless something is still mounted inside it."""
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        mounts = [ln.split()[4] for ln in f]
    inside = [m for m in mounts if m.startswith(path + "/")]
    if inside:
        print("kept %s: %s is still mounted there" % (path, inside[0]))
        return
    shutil.rmtree(path, onerror=lambda fn, p, exc: print("could not remove %s: %s"
                                                         % (p, exc[1])))


def run_suite(args, runner):
    ctx = Context()
    ctx.binary = os.path.abspath(args.bin)
    ctx.helpers = os.path.abspath(args.helpers)
    ctx.work = Workdir(ctx.helpers)
    # the suite's agent sees every execution on the machine, and each test names its tools
    # afresh: a high --tools.max keeps late tests' names out of "other" (the cap itself is
    # tested with agents of their own)
    # exec_failed is opt-in: the suite's agent counts failed execs too
    # (and --metrics.max-series, which caps tools by the series they export, likewise)
    ctx.agent = Agent(ctx.binary, ["--tools.max=100000", "--metrics.max-series=100000000",
                                   "--probe.enable=exec_failed"]).start()
    try:
        ok = runner.run(ctx, args.k)
    finally:
        rc = ctx.agent.stop()
        ctx.work.cleanup()
    if rc != 0:
        print("FAIL agent exited with status %d:\n%s" % (rc, ctx.agent.read_log()[-3000:]))
        ok = False
    return ok


if __name__ == "__main__":
    sys.exit(main())
