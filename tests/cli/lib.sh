# SPDX-License-Identifier: Apache-2.0
# Helpers of the vhctl tests (vhctl.sh, explain.sh), sourced after
# tests/harness/tap.sh and tests/agent/lib.sh; $VHCTL is the vhctl to run
# and $RUN the run folder.

# vc WANT DESC ARGS...: one case: vhctl ARGS exits WANT.  stdout and
# stderr stay in $RUN/out and $RUN/err for the checks that follow.
vc() {
	local want=$1 desc=$2 rc=0
	shift 2
	"$VHCTL" "$@" >"$RUN/out" 2>"$RUN/err" || rc=$?
	if [ "$rc" = "$want" ]; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc (exit $rc, wanted $want): vhctl $*" "$RUN/out" "$RUN/err"
	fi
}

# out DESC REGEX / err DESC REGEX: the last vhctl's stdout / stderr matches.
out() { tap_grep "$1" "$2" "$RUN/out"; }
err() { tap_grep "$1" "$2" "$RUN/err"; }

# js DESC EXPR: a Python expression over d, the last stdout as JSON.
js() {
	local why
	if why=$("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); assert ($2), d" "$RUN/out" 2>&1); then
		tap_ok "$1"
	else
		tap_not_ok "$1" "$why"
	fi
}

# jsl DESC N EXPR: stdout is N lines, each a JSON document; EXPR over
# the list L of them.
jsl() {
	local why
	if why=$("$PY" -c "
import json,sys
L=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(L) == $2, 'got %d documents' % len(L)
assert ($3), L" "$RUN/out" 2>&1); then
		tap_ok "$1"
	else
		tap_not_ok "$1" "$why"
	fi
}
