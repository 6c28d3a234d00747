#!/bin/sh
# Run each libFuzzer target for a while: run.sh BUILD SECONDS NAME...
#
# Each target starts from its seeds in tests/fuzz/corpus/NAME/ (read, never
# written) and from what earlier runs found, kept in BUILD/fuzz/corpus/NAME/.
# A crash leaves its input in BUILD/fuzz/crash/NAME/ (never in the tree) and
# fails the run; every target runs anyway, and one line per target says
# its executions, executions per second and coverage (libFuzzer's cov =
# code edges reached, ft = features).
set -u
build=$1
secs=$2
shift 2
here=$(dirname "$0")
failed=""
summary=""
for name in "$@"; do
	bin=$build/fuzz/fuzz_$name
	work=$build/fuzz/corpus/$name
	crash=$build/fuzz/crash/$name
	log=$build/fuzz/log/$name.log
	seeds=$here/corpus/$name
	mkdir -p "$work" "$crash" "$(dirname "$log")"
	[ -d "$seeds" ] || seeds=""
	dict=""
	[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
	echo "fuzz: $name, ${secs}s"
	# -timeout: an input taking 5 s is a hang; past -rss_limit_mb, a leak.
	"$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crash/" $dict "$work" $seeds >"$log" 2>&1
	rc=$?
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(printf '%s\n' "$last" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
	cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	line=$(printf '%-10s %10s execs %8s exec/s  cov %5s  ft %6s' "$name" "${execs:-?}" \
		"${rate:-?}" "${cov:-?}" "${ft:-?}")
	if [ "$rc" -ne 0 ]; then
		failed="$failed $name"
		line="$line  FAILED (exit $rc)"
		echo "fuzz: $name failed; its log ($log) ends:"
		tail -n 40 "$log"
		echo "fuzz: the input is in $crash/"
	fi
	summary="$summary$line
"
done
printf 'fuzz: summary\n%s' "$summary"
if [ -n "$failed" ]; then
	echo "fuzz: crashed:$failed"
	exit 1
fi
echo "fuzz: no crash"
