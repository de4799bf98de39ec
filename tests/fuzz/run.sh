#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs each libFuzzer binary given as an argument for FUZZ_SECONDS (default 20) from its
# seed corpus tests/fuzz/corpus/<name>/ (fuzz_<name>), new inputs kept in a scratch corpus
# next to the binary. Prints one line per target and "fuzz: N passed, N failed"; exits
# non-zero, with the crashing input's path, when any target crashed, leaked or timed out.
set -u
seconds=${FUZZ_SECONDS:-20}
# FUZZ_SEED fixes libFuzzer's random seed and FUZZ_RUNS stops each target after that many
# inputs (FUZZ_SECONDS still bounds it): each target then explores as much on any machine
# (CI); unset, every run explores anew for FUZZ_SECONDS
seed_arg=${FUZZ_SEED:+-seed=$FUZZ_SEED}
runs_arg=${FUZZ_RUNS:+-runs=$FUZZ_RUNS}
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	seeds=$here/corpus/$name
	work=$(dirname "$bin")/corpus/$name
	artifacts=$(dirname "$bin")/artifacts/$name/
	mkdir -p "$work" "$artifacts" "$seeds"
	log=$(dirname "$bin")/$name.log
	start=$(date +%s)
	"$bin" $seed_arg $runs_arg -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$artifacts" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ "$rc" -eq 0 ]; then
		echo "PASS fuzz_$name ($(($(date +%s) - start))s, ${runs:-?} runs)"
		passed=$((passed + 1))
	else
		tail -40 "$log"
		echo "FAIL fuzz_$name: exit $rc; input: $(ls "$artifacts" | head -1 | sed "s|^|$artifacts|")"
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
