#!/bin/sh
# make check: unit tests, then the network tests, then one summary line.
# VIPD_BUILD names the build directory (build/ or build-san/).
PYTHON=${PYTHON:-/usr/bin/python3}
here=$(dirname "$0")
ulog=$(mktemp)
nlog=$(mktemp)
trap 'rm -f "$ulog" "$nlog"' EXIT

echo "== unit tests ($VIPD_BUILD)"
sh "$here/run-unit.sh" "$@" | tee "$ulog"
urc=$?
upass=$(sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$ulog")
ufail=$(sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$ulog")

echo "== network tests ($VIPD_BUILD)"
if [ "$(id -u)" != 0 ]; then
	echo "network tests need root (network namespaces)" >&2
	npass=0
	nfail=1
else
	"$PYTHON" -m pytest -p no:cacheprovider -rfE -v --durations=25 "$here/net" 2>&1 | tee "$nlog"
	line=$(tail -n 1 "$nlog")
	npass=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
	nfail=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	nerr=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) error.*/\1/p')
	npass=${npass:-0}
	nfail=$(( ${nfail:-0} + ${nerr:-0} ))
	if [ "$npass" -eq 0 ] && [ "$nfail" -eq 0 ]; then
		nfail=1 # pytest collected nothing or crashed: that is a failure
	fi
fi

total_pass=$(( ${upass:-0} + npass ))
total_fail=$(( ${ufail:-1} + nfail ))
[ $urc -ne 0 ] && [ "${ufail:-0}" -eq 0 ] && total_fail=$((total_fail + 1))
echo "== summary ($VIPD_BUILD): unit ${upass:-0} passed ${ufail:-0} failed, network $npass passed $nfail failed"
echo "check: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
