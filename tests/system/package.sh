#!/bin/sh
# The Debian packages, as an admin meets them: build them from a clean copy
# of the tree, check them with lintian, install them with apt-get, check
# where the files land (shmd(8)), run the installed shmd under
# systemd-socket-activate as the shmd user with the installed configuration,
# talk to it with the installed shmdctl, libshmd and Python module, then
# purge them and check that nothing is left but what Debian policy keeps.
# Needs root. Run by ./test.sh when CI is set, or by hand.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d /tmp/shmd-pkg-XXXXXX)
name=pkg.test.$$
daemon=
cleanup() {
	if [ -n "$daemon" ]; then
		shmdctl rm "$name" >/dev/null 2>&1 || true
		kill "$daemon" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
step() { printf '\n--- %s\n' "$*"; }

step "a clean copy of the tree"
mkdir "$work/src"
if [ -d "$top/.git" ]; then
	(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$work/src")
else
	cp -a "$top/." "$work/src"
fi

step "build dependencies and tools"
apt-get install -y -qq --no-install-recommends devscripts equivs lintian \
	dpkg-dev debhelper dh-python >/dev/null
(cd "$work" && mk-build-deps --install --remove \
	--tool 'apt-get -y -qq --no-install-recommends' src/debian/control >/dev/null 2>&1) ||
	fail "cannot install the build dependencies"

step "dpkg-buildpackage -us -uc -b (runs make check)"
(cd "$work/src" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) ||
	{ tail -n 80 "$work/build.log"; fail "dpkg-buildpackage"; }
ls "$work"/*.deb

step "lintian: no errors"
lintian --fail-on error "$work"/*.changes || fail "lintian found errors"

step "install with apt-get"
apt-get install -y -qq "$work"/shmd_*.deb "$work"/libshmd0_*.deb \
	"$work"/libshmd-dev_*.deb "$work"/python3-shmd_*.deb \
	"$work"/golang-shmd-dev_*.deb >/dev/null
for p in shmd libshmd0 libshmd-dev python3-shmd golang-shmd-dev; do
	dpkg -L "$p" >>"$work/files"
done

step "files where shmd(8) says"
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in /usr/sbin/shmd /usr/bin/shmdctl "/usr/lib/$ma/libshmd.so.0" \
    "/usr/lib/$ma/libshmd.so" /usr/include/shmd.h "/usr/lib/$ma/pkgconfig/libshmd.pc" \
    /usr/share/man/man8/shmd.8.gz /usr/share/man/man1/shmdctl.1.gz \
    /usr/share/man/man5/shmd.conf.5.gz /usr/share/man/man3/libshmd.3.gz \
    /usr/share/man/man7/shmd-protocol.7.gz /usr/share/varlink/io.shmd.varlink \
    /usr/share/bash-completion/completions/shmdctl \
    /usr/share/zsh/vendor-completions/_shmdctl \
    /usr/share/fish/vendor_completions.d/shmdctl.fish \
    /usr/share/man/man3/shmd_create.3.gz /usr/share/man/man3/shmd_watch_poll.3.gz \
    /lib/systemd/system/shmd.service /lib/systemd/system/shmd.socket \
    /lib/systemd/system/shmd-admin.socket /etc/shmd/shmd.conf /usr/lib/sysusers.d/shmd.conf /usr/lib/tmpfiles.d/shmd.conf \
    /usr/lib/python3/dist-packages/shmd/__init__.py \
    /usr/lib/python3/dist-packages/shmd/py.typed \
    /usr/share/gocode/src/github.com/shmd/shmd/go/client.go; do
	[ -e "$f" ] || fail "$f is not installed"
done
getent passwd shmd >/dev/null || fail "no shmd user (sysusers)"
[ "$(stat -c %U /run/shmd/state)" = shmd ] || fail "/run/shmd/state is not shmd's (tmpfiles)"
# The socket unit is enabled.
[ -e /etc/systemd/system/sockets.target.wants/shmd.socket ] || fail "shmd.socket not enabled"
[ -e /etc/systemd/system/sockets.target.wants/shmd-admin.socket ] ||
	fail "shmd-admin.socket not enabled"

step "the installed shmd, socket-activated, as the shmd user"
rm -f /run/shmd/shmd.sock
systemd-socket-activate -l /run/shmd/shmd.sock \
	setpriv --reuid=shmd --regid=shmd --clear-groups /usr/sbin/shmd \
	>"$work/shmd.log" 2>&1 &
daemon=$!
i=0
until shmdctl status >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 500 ] || { cat "$work/shmd.log"; fail "shmd does not answer"; }
	sleep 0.02
done
uid=$(shmdctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
[ "$uid" = "$(id -u shmd)" ] || fail "shmd runs as uid $uid"
shmdctl create $name 4K --lifetime persistent >/dev/null
shmdctl ls | grep -q $name || fail "ls"
echo hello | shmdctl write $name
[ "$(shmdctl read $name --size 5)" = hello ] || fail "read"
/usr/bin/python3 -c 'import shmd, shmd.aio, asyncio
import sys
with shmd.Client() as c, c.open(sys.argv[1]).attach(readonly=True) as v:
    assert bytes(v[:5]) == b"hello"
async def main():
    async with shmd.aio.connect() as c:
        assert (await c.open(sys.argv[1])).name == sys.argv[1]
asyncio.run(main())' "$name" || fail "the Python module"
cat >"$work/t.c" <<'C'
#include <shmd.h>
#include <stdio.h>
int main(void) {
	struct shmd_conn *c; struct shmd_segment s;
	if (shmd_connect(NULL, &c) != SHMD_OK || shmd_open(c, NAME, &s) != SHMD_OK)
		return 1;
	printf("%d\n", s.shmid);
	shmd_disconnect(c);
	return 0;
}
C
cc -DNAME="\"$name\"" -o "$work/t" "$work/t.c" $(pkg-config --cflags --libs libshmd) || fail "libshmd-dev"
"$work/t" >/dev/null || fail "a program linked with libshmd"
if command -v go >/dev/null 2>&1; then
	# as Debian's Go packages are used: GOPATH mode on /usr/share/gocode
	mkdir -p "$work/gouser"
	cat >"$work/gouser/main.go" <<'GO'
package main

import (
	"context"
	"fmt"
	"os"

	shmd "github.com/shmd/shmd/go"
)

func main() {
	c, err := shmd.Dial("")
	if err != nil {
		os.Exit(1)
	}
	s, err := c.Open(context.Background(), os.Args[1])
	if err != nil {
		os.Exit(2)
	}
	fmt.Println(s.Shmid)
}
GO
	(cd "$work/gouser" && GO111MODULE=off GOPATH=/usr/share/gocode \
	    GOCACHE="$work/gocache" GOPROXY=off go build -o "$work/gouser/u" .) ||
		fail "golang-shmd-dev: a Go program does not build"
	"$work/gouser/u" $name >/dev/null || fail "a Go program using golang-shmd-dev"
fi
shmdctl rm $name
kill "$daemon"
wait "$daemon" || fail "shmd did not exit 0 on SIGTERM"
daemon=

step "purge"
apt-get purge -y -qq shmd libshmd0 libshmd-dev python3-shmd golang-shmd-dev >/dev/null
left=
while read -r f; do
	[ -d "$f" ] && continue
	[ -e "$f" ] && left="$left $f"
done <"$work/files"
[ -z "$left" ] || fail "left after purge:$left"
[ ! -e /etc/shmd/shmd.conf ] || fail "/etc/shmd/shmd.conf left after purge"
echo "kept, as Debian policy wants: the shmd system user; /run/shmd (tmpfs)"
echo "PASS: packages build, install, run, and purge cleanly"
