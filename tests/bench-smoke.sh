#!/bin/sh
# Keep the benchmark working: a quick run. Its figures are not asserted here.
set -e
b=${TOP_BUILDDIR:-..}
out=$("$b/bench/shmd-bench" --quick --segments 50 --shmd "$b/daemon/shmd" \
	--shmdctl "$b/client/shmdctl")
echo "$out"
echo "$out" | grep -q "shmd: Open p50"
echo "$out" | grep -q "recovered"
echo "$out" | grep -q "during a List flood"
echo "$out" | grep -q "silent watchers"
echo "$out" | grep -q "waiters: Create to the last answer"
