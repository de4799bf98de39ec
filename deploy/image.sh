#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Builds the toolwatch image with no registry: when the base image is missing from the
# engine, it is made from Debian's archive (debootstrap, from the mirror this machine's
# apt sources name) and imported. usage: deploy/image.sh TAG [VERSION]
# Environment: DOCKER (client command, default docker), BASE_IMAGE (default
# toolwatch-base:bookworm; e.g. debian:12-slim where a registry is at hand).
set -eu
tag=${1:?usage: deploy/image.sh TAG [VERSION]}
version=${2:-0.1.0}
docker=${DOCKER:-docker}
base=${BASE_IMAGE:-toolwatch-base:bookworm}
cd "$(dirname "$0")/.."

# The first http(s) URI of a bookworm suite in the apt sources (one-line and deb822).
apt_mirror() {
	python3 - <<'PY'
import glob, re
files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
for f in files:
    try:
        for line in open(f):
            w = line.split("#")[0].split()
            w = [x for x in w if not x.startswith("[")] if w else w
            if len(w) >= 3 and w[0] == "deb" and w[2] == "bookworm":
                print(w[1]); raise SystemExit
    except OSError:
        pass
for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(f).read()):
        fields = dict(re.findall(r"^(\S+):\s*(.*)$", stanza, re.M))
        if "bookworm" in fields.get("Suites", "").split() and \
                "deb" in fields.get("Types", "").split():
            print(fields["URIs"].split()[0]); raise SystemExit
raise SystemExit("no bookworm mirror in /etc/apt/sources*")
PY
}

if ! $docker image inspect "$base" >/dev/null 2>&1; then
	case $base in
	toolwatch-base:*) ;;
	*) echo "image: base image '$base' is missing; pull it first" >&2; exit 1 ;;
	esac
	command -v debootstrap >/dev/null || { echo "image: debootstrap missing (make deps)" >&2; exit 1; }
	mirror=$(apt_mirror)
	rootfs=$(mktemp -d "${TMPDIR:-/tmp}/twroot.XXXXXX")
	trap 'rm -rf "$rootfs"' EXIT
	echo "image: creating $base with debootstrap from $mirror"
	debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
		{ tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
	rm -f "$rootfs.log"
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
	tar -C "$rootfs" -c . | $docker import - "$base" >/dev/null
fi
echo "image: building $tag"
# The engine may have no bridge network (e.g. the tests' private dockerd): apt in the
# builder uses the host's network.
$docker build -q --network=host --build-arg BASE="$base" --build-arg VERSION="$version" \
	-f deploy/Dockerfile -t "$tag" .
