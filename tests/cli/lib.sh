# SPDX-License-Identifier: Apache-2.0
# Helpers of the vhctl tests (vhctl.sh, explain.sh, whatif.sh,
# insight.sh), sourced after tests/harness/tap.sh and tests/agent/lib.sh:
# the setup they share (a private HOME, vhctl on the agent's unix socket),
# a case per vhctl run and checks of its output.  $VHCTL is the vhctl to
# run and $RUN the run folder.

VHCTL=$top_builddir/cli/vhctl
# A spinner that spins for ever, its progress lines seldom.
SPIN="iters=0 report=1000000 work=1000"

# cli_require [FILE...]: what agent_require needs, vhctl and the FILEs
# (guests, vh-sim) built; bails out otherwise.
cli_require() {
	agent_require
	agent_env_require_built "$VHCTL" "$@"
}

# cli_setup NAME [VAR...]: agent_setup NAME, a private HOME and vhctl
# pointed at the agent's unix socket.  Nothing of the user's own settings
# may leak in: the settings variables are unset, and the VARs with them.
cli_setup() {
	agent_setup "$1"
	shift
	export HOME=$RUN/home
	unset XDG_CONFIG_HOME VH_TOKEN VH_CACERT VH_CERT VH_KEY "$@"
	mkdir -p "$HOME"
	export VH_URL=unix://$ASOCK
}

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

# show ARGS: vhctl explain's table output into the log, as comments.
show() {
	echo "# ---- vhctl explain $* ----"
	"$VHCTL" explain "$@" 2>&1 | sed 's/^/#   /'
}

# explain_check VM DESC EXPR: the case "explain VM -o json" over the last
# 2 s, the case DESC that EXPR holds over its JSON (as js), and the table
# output into the log (show).  VM may be --host.
explain_check() {
	vc 0 "explain $1 -o json" -o json explain "$1" --window 2
	js "$2" "$3"
	show "$1" --window 2
}

# stats_until VM TRIES EXPR: polls vhctl -o json vm stats VM every 0.2 s
# until the Python expression EXPR over d (the stats) holds, at most TRIES
# times; fails when it never does (the checks after it then say why).
# The stats stay in $RUN/out.
stats_until() {
	for _ in $(seq 1 "$2"); do
		"$VHCTL" -o json vm stats "$1" >"$RUN/out" 2>/dev/null &&
			"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not ($3))" "$RUN/out" &&
			return 0
		sleep 0.2
	done
	return 1
}
