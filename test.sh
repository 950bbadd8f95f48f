#!/bin/sh
# Build shmd and run every test: the suite with -Werror, the contract smoke
# test when ../shared is there, then the suite again under AddressSanitizer
# and UndefinedBehaviorSanitizer. With CI set (or SHMD_FULL=1), also fuzzing,
# valgrind, the Debian packages and make distcheck.
set -e
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
scripts/deps.sh --test

step() { printf '\n==> %s\n' "$*"; }
check() {
	# make check, showing the logs of what failed
	if ! make -C "$1" -j"$(nproc)" check >"$1/check.out" 2>&1; then
		cat "$1/check.out"
		for log in "$1"/tests/*/*.log; do
			grep -q '^FAIL' "$log" 2>/dev/null && { echo "--- $log"; tail -n 40 "$log"; }
		done
		exit 1
	fi
	grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS)|^# ' "$1/check.out"
}

step "build (-Werror)"
scripts/build.sh "$top/build" --enable-werror
step "make check"
check "$top/build"

step "Go client: gofmt, go vet, go test -race against the built daemon, and each architecture's build and tests (go/)"
(
	cd "$top/go"
	export GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$top/build/gocache" \
	    SHMD_DAEMON="$top/build/daemon/shmd"
	unformatted=$(gofmt -l .)
	if [ -n "$unformatted" ]; then
		echo "not gofmt-clean: $unformatted" >&2
		exit 1
	fi
	go vet ./...
	go test -race -count=1 ./...
	# Linux architectures Debian ships: each builds and vets. The tests
	# run against the same daemon on 386 natively (an amd64 kernel runs
	# i386 programs) and under qemu-user on two of each way to shmat:
	# ipc(2) (ppc64le, s390x: big-endian) and a syscall of its own (arm,
	# arm64). qemu-mips64el fails Go's setuid (AllThreadsSyscall), so
	# riscv64 and mips64le, shmat's own syscall too, only build.
	for arch in 386 arm arm64 ppc64le s390x riscv64 mips64le; do
		GOOS=linux GOARCH=$arch go build ./...
		GOOS=linux GOARCH=$arch go vet ./...
	done
	if [ "$(go env GOHOSTARCH)" = amd64 ]; then
		GOARCH=386 go test -count=1 ./...
	fi
	for arch in arm:arm arm64:aarch64 ppc64le:ppc64le s390x:s390x; do
		goarch=${arch%:*} qemu=qemu-${arch#*:}-static
		echo "$goarch ($qemu)"
		GOOS=linux GOARCH=$goarch go test -c -o "$top/build/go-$goarch.test" .
		SHMD_GO_EMULATOR=$qemu "$qemu" "$top/build/go-$goarch.test"
	done
)

step "installed units (systemd-analyze verify) and make install"
sh "$top/tests/system/units.sh" || [ $? -eq 77 ]

if [ -f "$top/../shared/contract-smoke.py" ]; then
	step "contract smoke test (../shared/contract-smoke.py)"
	python3 "$top/../shared/contract-smoke.py" "$top/build"
fi

# The containers (tests/system/containers): with podman under CI, SHMD_FULL or
# SHMD_CONTAINERS (an image build: a minute or two); else only the unshare
# stand-ins, which take seconds.
if [ -n "${CI:-}${SHMD_FULL:-}${SHMD_CONTAINERS:-}" ]; then
	step "containers: image, pod, restarts, process lifetime (tests/system/containers)"
	scripts/deps.sh --containers
	mode=auto
else
	step "containers: unshare stand-ins (tests/system/containers; SHMD_CONTAINERS=1 for podman)"
	mode=standin
fi
sh "$top/tests/system/containers" "$mode" "$top/build" || [ $? -eq 77 ]

step "build with AddressSanitizer and UndefinedBehaviorSanitizer"
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -g -O1"
scripts/build.sh "$top/build-asan" --enable-werror CFLAGS="$san" LDFLAGS="$san"
step "make check (sanitizers)"
(
	export SHMD_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	check "$top/build-asan"
)

if [ -n "${CI:-}" ] || [ -n "${SHMD_FULL:-}" ]; then
	step "fuzzing for 60 s (tests/fuzz/fuzz.sh)"
	sh "$top/tests/fuzz/fuzz.sh" 60

	step "crash points: every one the workload reaches, in all three modes, Creates announced in the page and in the log (tests/daemon/test_crashpoints.py --long --intent both)"
	TOP_BUILDDIR="$top/build" python3 "$top/tests/daemon/test_crashpoints.py" --long \
		--intent both --budget 3000 >"$top/build/crashpoints.out" 2>&1 ||
		{ cat "$top/build/crashpoints.out"; exit 1; }
	grep -E '^(FAIL|crash points|kill|enospc|eio)' "$top/build/crashpoints.out"

	# Twenty whole runs under load would take about 40 minutes: the
	# daemon suites and the crash-point sample (where timing shows) run
	# SHMD_STRESS_RUNS times, the unit tests and scripts 4 times.
	runs=${SHMD_STRESS_RUNS:-20}
	step "stress: the daemon suites and crash-point sample $runs times, the rest of make check 4 times, under two busy loops per core (tests/stress.sh)"
	sh "$top/tests/stress.sh" "$top/build" "$runs" 4

	step "integration tests with the daemon under valgrind"
	SHMD_VALGRIND=1 make -C "$top/build" check \
		TESTS="tests/daemon/check_libshmd tests/daemon/check_protocol tests/daemon/check_lifetime" \
		>"$top/build/valgrind.out" 2>&1 ||
		{ cat "$top/build/valgrind.out"; tail -n 60 "$top"/build/tests/*/check_*.log; exit 1; }
	grep -E '^(PASS|FAIL)|^# (PASS|FAIL)' "$top/build/valgrind.out"

	step "Debian packages: build, lintian, install, run, purge (tests/system/package.sh)"
	sh "$top/tests/system/package.sh"

	step "make distcheck"
	make -C "$top/build" distcheck >"$top/build/distcheck.out" 2>&1 ||
		{ tail -n 60 "$top/build/distcheck.out"; exit 1; }
	grep -E '^=+$|archives ready' -A1 "$top/build/distcheck.out" | tail -n 3
fi

step "all tests passed"
