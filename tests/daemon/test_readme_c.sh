#!/bin/sh
# The README's C programs, as written: producer.c and consumer.c are cut
# out of its one C block, built against this tree's libshmd, and run
# against a real shmd, the consumer first; it must print "frame 1".
set -eu
src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TOP_BUILDDIR:-$src/build}
cc=${CC:-cc}
lib=$build/client/.libs/libshmd.so
[ -f "$lib" ] || { echo "not built: $lib"; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() {
	rc=$?
	set +e
	SHMD_SOCKET=$tmp/shmd.sock "$build/client/shmdctl" rm cam0 >/dev/null 2>&1
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT

# the first ```c block of the README, split where consumer.c begins
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' "$src/README.md" >"$tmp/both.c"
sed -n '1,/^\/\* consumer\.c/p' "$tmp/both.c" | sed '$d' >"$tmp/producer.c"
sed -n '/^\/\* consumer\.c/,$p' "$tmp/both.c" >"$tmp/consumer.c"
grep -q 'int main' "$tmp/producer.c" && grep -q 'int main' "$tmp/consumer.c" ||
	{ echo "README: no producer.c and consumer.c in its C block"; exit 1; }

# a sanitized libshmd needs its runtime in the program too
flags=
ldd "$lib" | grep -q libasan && flags="-fsanitize=address,undefined"
for p in producer consumer; do
	$cc -std=gnu11 -Wall -Werror $flags -I"$src/client" -o "$tmp/$p" \
	    "$tmp/$p.c" "$lib" -Wl,-rpath,"$build/client/.libs"
done

"$build/daemon/shmd" --config /dev/null --socket "$tmp/shmd.sock" \
    --state-dir "$tmp/state" --admin-socket= 2>"$tmp/shmd.log" &
pid=$!
export SHMD_SOCKET="$tmp/shmd.sock"
i=0
until "$build/client/shmdctl" status >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 500 ] || { echo "shmd did not answer"; cat "$tmp/shmd.log"; exit 1; }
	sleep 0.02
done

# started in either order: the consumer waits for the name
"$tmp/consumer" >"$tmp/out" &
consumer=$!
"$tmp/producer" || { echo "producer failed"; exit 1; }
wait "$consumer" || { echo "consumer failed"; exit 1; }
[ "$(cat "$tmp/out")" = "frame 1" ] ||
	{ echo "consumer printed: $(cat "$tmp/out")"; exit 1; }
echo "README's producer.c and consumer.c: consumer printed 'frame 1'"
echo "1 passed, 0 failed"
