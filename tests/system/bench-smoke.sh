#!/bin/sh
# Keep the benchmark working: a quick run. Its figures are not asserted
# here. It runs in the system's IPC namespace beside a segment of someone
# else's, which its cleanup must leave alone.
set -e
b=${TOP_BUILDDIR:-..}
foreign=$(ipcmk -M 4096 | sed -n 's/^Shared memory id: //p')
[ -n "$foreign" ] || { echo "ipcmk made no segment"; exit 1; }
trap 'ipcrm -m "$foreign" 2>/dev/null || true' EXIT
# --help: the usage, exit 0; a bad option: exit 2
"$b/bench/shmd-bench" --help | grep -q "^usage: shmd-bench"
rc=0
"$b/bench/shmd-bench" --no-such-option >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { echo "a bad option exited $rc, not 2"; exit 1; }
out=$("$b/bench/shmd-bench" --quick --segments 50 --shared-ipc \
	--shmd "$b/daemon/shmd" --shmdctl "$b/client/shmdctl")
echo "$out"
echo "$out" | grep -q "shmd: Open p50"
echo "$out" | grep -q "a new process's first write"
echo "$out" | grep -q "recovered"
echo "$out" | grep -q "during a List flood"
echo "$out" | grep -q "silent watchers"
echo "$out" | grep -q "waiters: Create to the last answer"
# a new program's first contact, and its phases inside shmd; --against
# another daemon (here the same build) in the same turns
out=$("$b/bench/shmd-bench" --first-contact --quick --shared-ipc \
	--shmd "$b/daemon/shmd" --against "$b/daemon/shmd")
echo "$out"
echo "$out" | grep -q "shmd: first contact from main()"
echo "$out" | grep -Eq "^\| shmd / --against +\| [0-9.]+x"
echo "$out" | grep -q "fork-timed"
echo "$out" | grep -Eq "^\| -> reply sent +\| +[0-9.]+ us"
# the bench removed only what it made
ipcs -m -i "$foreign" >/dev/null 2>&1 ||
	{ echo "the bench's cleanup removed a segment it did not make"; exit 1; }
echo "bench smoke: the foreign segment $foreign survived"
