#!/bin/sh
# Every function that libshmd exports (client/libshmd.map) or that its
# header declares (client/shmd.h: macros and inline functions too) has a
# man page that `make install` installs: a page whose NAME names it, or a
# .so link to one. `man 3 NAME` finds each, when man(1) is installed.
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TOP_BUILDDIR:-$top/build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
make -s -C "$build" install-man DESTDIR="$dir" >"$dir/log" 2>&1 ||
	{ cat "$dir/log"; echo "FAIL: make install-man"; exit 1; }
man3=$(find "$dir" -type d -name man3 | head -n 1)
[ -n "$man3" ] || { echo "FAIL: make install-man installed no man3"; exit 1; }
names=$( { sed -n 's/^[[:space:]]*\(shmd_[a-z0-9_]*\);$/\1/p' \
	"$top/client/libshmd.map"
	grep -o 'shmd_[a-z0-9_]*(' "$top/client/shmd.h" | tr -d '('; } |
	sort -u)
# Whether the NAME section of page $1 names $2.
names_it() {
	sed -n '/^\.SH NAME/{n;p;q;}' "$1" | tr ',' ' ' | grep -qw -- "$2"
}
passed=0 failed=0
for f in $names; do
	page=$man3/$f.3
	if [ ! -f "$page" ]; then
		echo "FAIL: $f: no man3/$f.3 installed"
		failed=$((failed + 1))
		continue
	fi
	target=$(sed -n '1s/^\.so //p' "$page")
	[ -n "$target" ] && page=$(dirname "$man3")/$target
	if [ ! -f "$page" ] || ! names_it "$page" "$f"; then
		echo "FAIL: $f: $page does not name it"
		failed=$((failed + 1))
		continue
	fi
	if command -v man >/dev/null 2>&1 &&
	    ! man -M "$(dirname "$man3")" -w 3 "$f" >/dev/null 2>&1; then
		echo "FAIL: man 3 $f finds nothing"
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + 1))
done
[ -f "$man3/libshmd.3" ] || { echo "FAIL: libshmd.3 is not installed"; failed=$((failed + 1)); }
echo "man pages: $passed functions have one, $failed failed"
[ "$passed" -ge 25 ] && [ "$failed" -eq 0 ]
