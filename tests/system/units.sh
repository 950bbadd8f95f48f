#!/bin/sh
# The installed units must pass systemd-analyze verify with no output at all
# (it exits 0 even when it warns). Usage: tests/system/units.sh [BUILD_DIR]
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: no systemd-analyze"
	exit 77
fi
work=$(mktemp -d /tmp/shmd-units-XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
mkdir -p "$work/build"
cd "$work/build"
"$top/configure" --quiet --prefix="$prefix" \
	--with-systemdsystemunitdir="$prefix/lib/systemd/system" \
	--with-sysusersdir="$prefix/lib/sysusers.d" \
	--with-tmpfilesdir="$prefix/lib/tmpfiles.d"
make -j"$(nproc)" >/dev/null
make install >/dev/null
units="$prefix/lib/systemd/system/shmd.socket $prefix/lib/systemd/system/shmd-admin.socket $prefix/lib/systemd/system/shmd.service"
# Documentation= is checked too: the man pages must be installed.
out=$(MANPATH="$prefix/share/man" systemd-analyze verify $units 2>&1) || {
	echo "FAIL: systemd-analyze verify exited non-zero:"; echo "$out"; exit 1; }
if [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify printed:"
	echo "$out"
	exit 1
fi
# What shmd(8) forbids in the units.
if grep -E '^(DynamicUser|RemoveIPC|PrivateIPC|PrivateUsers|RuntimeDirectory)=|^ProcSubset=pid' $units; then
	echo "FAIL: a forbidden option is set"
	exit 1
fi
grep -q '^Type=notify' "$prefix/lib/systemd/system/shmd.service"
grep -q '^User=shmd' "$prefix/lib/systemd/system/shmd.service"
grep -q "^ExecStart=$prefix/sbin/shmd" "$prefix/lib/systemd/system/shmd.service"
grep -q '^ListenStream=/run/shmd/shmd.sock' "$prefix/lib/systemd/system/shmd.socket"
# Root's socket: 0600, named for shmd to tell it apart, for the same service.
admin="$prefix/lib/systemd/system/shmd-admin.socket"
grep -q '^ListenStream=/run/shmd/admin.sock' "$admin"
grep -q '^SocketMode=0600' "$admin"
grep -q '^FileDescriptorName=admin' "$admin"
grep -q '^Service=shmd.service' "$admin"
grep -q '^Sockets=shmd.socket shmd-admin.socket' "$prefix/lib/systemd/system/shmd.service"
for f in sbin/shmd bin/shmdctl include/shmd.h lib/pkgconfig/libshmd.pc \
    share/man/man8/shmd.8 share/man/man1/shmdctl.1 share/man/man5/shmd.conf.5 \
    share/man/man3/libshmd.3 etc/shmd/shmd.conf lib/sysusers.d/shmd.conf \
    lib/tmpfiles.d/shmd.conf; do
	[ -e "$prefix/$f" ] || { echo "FAIL: make install did not install $f"; exit 1; }
done
ls "$prefix"/lib/libshmd.so.0* >/dev/null
echo "PASS: units verified, install complete"
