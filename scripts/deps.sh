#!/bin/sh
# Install the Debian packages shmd needs to build and test, if missing.
# Used by run.sh and test.sh; safe to run again (it installs only what lacks).
set -e

packages="build-essential autoconf automake libtool pkg-config \
libevent-dev libjson-c-dev check python3 procps"
# The test suite also wants these (sanitizers come with gcc).
if [ "${1:-}" = "--test" ]; then
	packages="$packages valgrind systemd man-db clang libclang-rt-dev"
	packages="$packages python3-numpy python3-yaml golang-go"
	packages="$packages strace faketime"	# crash points, clock steps
	packages="$packages zsh fish"		# shell completions
	# the Go client's tests on other architectures (test.sh)
	packages="$packages qemu-user-static"
	# the Python client's own checks (tests/daemon/test_python.py): mypy --strict,
	# and a wheel built offline from python/pyproject.toml
	packages="$packages mypy python3-pip python3-setuptools python3-wheel"
fi
# The benchmark's comparison with iceoryx's RouDi (BENCHMARKS.md): run
# configure again afterwards (./test.sh does) to build bench/roudi-first-write.
[ "${1:-}" = "--bench" ] && packages="$packages iceoryx libiceoryx-binding-c-dev"
# tests/system/containers with a real engine (test.sh under CI, SHMD_FULL or
# SHMD_CONTAINERS): rootful podman on runc, catatonit for its pause image,
# mmdebstrap for a local base image, podman-compose to read compose.yaml.
[ "${1:-}" = "--containers" ] && packages="$packages podman runc catatonit mmdebstrap podman-compose git"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "Installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt (unattended-upgrades at a machine's first boot, a second
# build) may hold dpkg's lock for a while: wait for it, not fail.
lock="-o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
$sudo apt-get $lock update -qq
# shellcheck disable=SC2086
$sudo apt-get $lock install -y -qq --no-install-recommends $missing
