#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# usage: build_base.sh REF OUTDIR
# Builds the agent of git commit REF into OUTDIR/toolwatch for `make bench BASE=REF`: REF
# is checked out in a temporary git worktree (removed afterwards) and built with its own
# Makefile into its own output tree, so that nothing of this tree's build/ is reused.
set -eu
[ $# -eq 2 ] || { echo "usage: build_base.sh REF OUTDIR" >&2; exit 2; }
rev=$(git rev-parse --verify --quiet "$1^{commit}") ||
	{ echo "build_base.sh: unknown git ref '$1'" >&2; exit 2; }
out=$(realpath -m "$2")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/twbase.XXXXXX")
trap 'git worktree remove --force "$tmp" 2>/dev/null || rm -rf "$tmp"' EXIT
git worktree add --detach --quiet "$tmp" "$rev"
echo "bench: building base $1 ($(git rev-parse --short "$rev")) into $out"
make -C "$tmp" --no-print-directory -j"$(nproc)" OUTPUT="$out" all
