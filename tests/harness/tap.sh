# SPDX-License-Identifier: Apache-2.0
# TAP helpers for shell tests (sourced).  Each check is one test case;
# automake's tap-driver counts them.  Failures print their evidence as
# "#" diagnostics so the test log explains itself.
tap_n=0
tap_failed=0

tap_plan() { echo "1..$1"; }

tap_ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

# tap_not_ok DESC [FILE-OR-TEXT...]: diagnostics from files or strings.
tap_not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	for d in "$@"; do
		if [ -f "$d" ]; then
			sed 's/^/# /' "$d"
		else
			printf '%s\n' "$d" | sed 's/^/# /'
		fi
	done
}

# tap_check DESC COMMAND...: ok when the command succeeds; its output
# becomes the diagnostics when it does not.
tap_check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$desc"
	else
		tap_not_ok "$desc" "$out"
	fi
}

# tap_grep DESC REGEX FILE: ok when the file (CRs removed) matches.
tap_grep() {
	if [ -f "$3" ] && tr -d '\r' < "$3" | grep -Eq -- "$2"; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "no line matches /$2/ in ${3##*/}:" "$( [ -f "$3" ] && tr -d '\r' < "$3" | tail -20)"
	fi
}

# tap_expect_file DESC EXPECT LOG [PREFIX]: every line of EXPECT (an ERE;
# '#' lines are comments) matches a whole line of LOG after PREFIX.
tap_expect_file() {
	local re missing= log
	log=$(tr -d '\r' < "$3" 2>/dev/null)
	while IFS= read -r re; do
		case $re in '#'* | '') continue ;; esac
		grep -Eq -- "^${4-}$re\$" <<<"$log" || missing+="$re"$'\n'
	done < "$2"
	if [ -z "$missing" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "no line in ${3##*/} matches:" "$missing" \
			"$( [ -f "$3" ] && tr -d '\r' < "$3" | grep -i cpuid)"
	fi
}
