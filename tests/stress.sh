#!/bin/sh
# The test suite again and again under load, stopping at the first failure
# with the failed test's name and log:
#
#	tests/stress.sh BUILDDIR [RUNS [OTHERS]]
#
# Two busy loops per core run meanwhile (a machine whose CPUs are taken,
# as when several suites run at once). The daemon integration suites (the
# check_* that start shmd) and the crash-point sample, where timing under
# load shows, run RUNS times (default 20); the rest of make check (unit
# tests, the Python client's tests, the scripts) every RUNS/OTHERS-th run,
# OTHERS times in all (default 4): twenty runs of the whole suite under
# load take about 40 minutes on 2 cores. OTHERS=RUNS runs the whole suite
# each time.
# Run it niced on a shared machine (nice -n 19: the loops inherit it).
set -eu
build=$(cd "$1" && pwd)
runs=${2:-20}
others=${3:-4}

# make check's test lists, from the build's Makefile
lists=$(make -s --no-print-directory -C "$build" -f Makefile -f - \
    stress-lists <<'EOF'
stress-lists:
	@echo "$(integration_tests)"
	@echo "$(TESTS)"
EOF
)
# SHMD_STRESS_ONLY=TEXT: only the tests whose path holds it (check_: C)
only=${SHMD_STRESS_ONLY:-}
daemon=
for t in $(echo "$lists" | sed -n 1p); do
	case $t in *"$only"*) daemon="$daemon $t" ;; esac
done
rest=
for t in $(echo "$lists" | sed -n 2p); do
	case $t in *"$only"*) ;; *) continue ;; esac
	case " $daemon " in
	*" $t "*) ;;
	*)
		case $t in
		*test_crashpoints*) daemon="$daemon $t" ;;
		*) rest="$rest $t" ;;
		esac ;;
	esac
done

# check_attack then holds its latencies to "answered", not the contract's
export SHMD_STRESS=1
loops=
stop_loops() {
	# only the loops this script started, by pid
	[ -z "$loops" ] || kill $loops 2>/dev/null || :
	loops=
}
trap stop_loops EXIT
trap 'stop_loops; exit 130' INT TERM
i=0
while [ $i -lt $((2 * $(nproc))) ]; do
	sh -c 'while :; do :; done' &
	loops="$loops $!"
	i=$((i + 1))
done

every=$(( (runs + others - 1) / others ))
echo "under $((2 * $(nproc))) busy loops: $runs runs of$daemon;" \
    "$(( (runs + every - 1) / every )) of$rest"
start=$(date +%s)
run=1
while [ "$run" -le "$runs" ]; do
	tests=$daemon
	if [ $(( (run - 1) % every )) -eq 0 ]; then
		tests="$tests$rest"
	fi
	t0=$(date +%s)
	if ! make -C "$build" -j"$(nproc)" check TESTS="$tests" \
	    >"$build/stress.out" 2>&1; then
		echo "run $run of $runs FAILED after $(( $(date +%s) - t0 )) s"
		failed=
		for t in $tests; do
			trs=$build/${t%.py}.trs
			grep -qsE '^:test-result: (FAIL|ERROR|XPASS)' "$trs" ||
				continue
			log=${trs%.trs}.log
			failed="$failed ${log#"$build"/}"
			echo "--- ${log#"$build"/} (the last 80 lines)"
			tail -n 80 "$log"
		done
		[ -n "$failed" ] || tail -n 40 "$build/stress.out"
		echo "failed:${failed:- the build (see above)}"
		exit 1
	fi
	echo "run $run of $runs: passed in $(( $(date +%s) - t0 )) s" \
	    "($(echo $tests | wc -w) tests)"
	run=$((run + 1))
done
echo "$runs runs, 0 failures, $(( $(date +%s) - start )) s"
