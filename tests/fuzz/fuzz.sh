#!/bin/sh
# Build the libFuzzer harness with clang (-fsanitize=fuzzer,address,undefined)
# and run it: tests/fuzz/fuzz.sh [SECONDS] (default 60). Needs a configured build/
# (for config.h; ./test.sh makes one). Findings land in build-fuzz/.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
out=$top/build-fuzz
mkdir -p "$out/corpus"
[ -f "$top/build/config.h" ] || { echo "run ./test.sh (or configure build/) first" >&2; exit 1; }
srcs=$(ls "$top"/daemon/*.c "$top"/daemon/*/*.c "$top"/common/*.c | grep -v '/daemon/main.c$')
# shellcheck disable=SC2086
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -DSYSCONFDIR='"/etc"' -I"$top/build" -I"$top/build/daemon" -I"$top/common" \
	-I"$top/daemon" -I"$top/daemon/lifecycle" -I"$top/daemon/server" $srcs "$top/tests/fuzz/fuzz_dispatch.c" \
	$(pkg-config --cflags --libs libevent_core json-c) \
	-o "$out/fuzz_dispatch"
cd "$out"
# New inputs go to corpus/; the seed corpus is read from the source tree.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	./fuzz_dispatch -max_total_time="$secs" -max_len=8192 -timeout=10 \
	-print_final_stats=1 corpus "$top/tests/fuzz/corpus" 2>&1 | tail -n 25
