#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs each cmocka unit-test binary given as an argument, shows its output as cmocka
# prints it under a line naming the binary, and prints one closing line
# "unit: N passed, N failed". Exits non-zero if any case failed or a binary crashed.
set -u
passed=0 failed=0 crashed=0
for bin in "$@"; do
	echo "$(basename "$bin")"
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "$(basename "$bin"): exited with status $rc"
		crashed=$((crashed + 1))
	fi
done
failed=$((failed + crashed))
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
