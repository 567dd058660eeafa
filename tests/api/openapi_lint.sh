#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# api/openapi.yaml passes api/lint-openapi, and the lint catches each kind
# of fault on purpose-broken copies (so it cannot pass silently), and its
# --routes cross-check reports operations missing on either side.
# Needs SYSTEM_PYTHON3 with python3-yaml and python3-jsonschema (make check
# exports it); fails loudly without them.
. "${top_srcdir:?top_srcdir is not set}/tests/harness/tap.sh"

PY=${SYSTEM_PYTHON3:-/usr/bin/python3}
LINT="$top_srcdir/api/lint-openapi"
SPEC="$top_srcdir/api/openapi.yaml"
work=$(mktemp -d "${TMPDIR:-/tmp}/openapi-lint.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

tap_plan 19

tap_check "python3 with yaml and jsonschema ($PY)" \
	"$PY" -c 'import yaml, jsonschema'
tap_check "api/openapi.yaml is clean" "$PY" "$LINT" "$SPEC"

# mutate NAME OLD NEW: a copy of the spec with the first OLD replaced by
# NEW (OLD must be there, so a stale self-test fails instead of passing).
mutate() {
	"$PY" - "$SPEC" "$work/$1.yaml" "$2" "$3" <<'EOF'
import sys
src, dst, old, new = sys.argv[1:5]
s = open(src).read()
if old not in s:
    sys.exit("mutation text not found: %r" % old)
open(dst, "w").write(s.replace(old, new, 1))
EOF
}

# expect_fail DESC NAME REGEX: the lint refuses the copy NAME and says why.
expect_fail() {
	if "$PY" "$LINT" "$work/$2.yaml" > "$work/$2.out" 2>&1; then
		tap_not_ok "$1 (the lint passed a broken copy)" "$work/$2.out"
	elif grep -Eq -- "$3" "$work/$2.out"; then
		tap_ok "$1"
	else
		tap_not_ok "$1 (no message matches /$3/)" "$work/$2.out"
	fi
}

broken() {
	desc=$1 name=$2 regex=$3 old=$4 new=$5
	if mutate "$name" "$old" "$new" > "$work/$name.mut" 2>&1; then
		expect_fail "$desc" "$name" "$regex"
	else
		tap_not_ok "$desc (cannot make the broken copy)" "$work/$name.mut"
	fi
}

broken "a dangling \$ref is refused" dangling \
	"schemas/VMCreat does not resolve" \
	"\$ref: '#/components/schemas/VMCreate'" "\$ref: '#/components/schemas/VMCreat'"
broken "a duplicate operationId is refused" dupid \
	"operationId getVm is also used" \
	"operationId: getVmStats" "operationId: getVm"
broken "an undeclared path parameter is refused" pathparam \
	"path parameter \\{vmx\\} is not declared" \
	"  /v1/vms/{vm}/stats:" "  /v1/vms/{vmx}/stats:"
broken "an error response without problem+json is refused" problem \
	"must be application/problem\\+json only" \
	"      content:
        application/problem+json:
          schema:
            \$ref: '#/components/schemas/Problem'
          example:
            type: https://vh.dev/problems/bad_json" \
	"      content:
        application/json:
          schema:
            \$ref: '#/components/schemas/Problem'
          example:
            type: https://vh.dev/problems/bad_json"
broken "an example that does not match its schema is refused" example \
	"example does not match its schema at vcpus" \
	"              name: web1
              vcpus: 2" \
	"              name: web1
              vcpus: 65"
broken "a nullable-less null in an example is refused" example_null \
	"example does not match its schema at state" \
	"        state: running
        state_changes: 1" \
	"        state: null
        state_changes: 1"
broken "a response without a description is refused" nodesc \
	"responses/204: no description|OpenAPI 3.0 schema" \
	"        '204':
          description: Removed.
        '401':" \
	"        '204':
          x-note: Removed.
        '401':"
broken "what the official schema forbids is refused" oas \
	"OpenAPI 3.0 schema" \
	"openapi: 3.0.3" "openapi: 3.1.0"
broken "a duplicate YAML key is refused" dupkey \
	"duplicate key '/v1/host'" \
	"  /v1/stats:" "  /v1/host:"
broken "an unquoted response code is refused" intkey \
	"key 204 is not a string" \
	"        '204':
          description: Removed." \
	"        204:
          description: Removed."
broken "a request body object without additionalProperties: false is refused" openobj \
	"must say additionalProperties: false" \
	"    Power:
      type: object
      additionalProperties: false" \
	"    Power:
      type: object"
broken "an operation without a declared tag is refused" tag \
	"tag vm is not declared" \
	"      operationId: getVm
      tags: [vms]" \
	"      operationId: getVm
      tags: [vm]"
broken "a bad parameter example is refused" paramex \
	"parameters/IdempotencyKey/example: example does not match" \
	"      example: 7c0e6a4e-create-web1" \
	"      example: has spaces in it"

# --routes: the agent's table ("METHOD PATH") against the contract.
"$PY" - "$SPEC" > "$work/routes" <<'EOF'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
print("# every operation of the contract, as vhagent --routes prints them")
for path, item in doc["paths"].items():
    for m in ("get", "put", "post", "delete", "patch"):
        if m in item:
            print(m.upper(), path.replace("{vm}", "{id}"))
print("HEAD /v1/host")
EOF
tap_check "--routes: the contract's own operations match" \
	"$PY" "$LINT" --routes "$work/routes" "$SPEC"
grep -v "^GET /v1/stats$" "$work/routes" > "$work/routes.bad"
echo "POST /v1/vms/{id}/migrate" >> "$work/routes.bad"
if "$PY" "$LINT" --routes "$work/routes.bad" "$SPEC" > "$work/routes.out" 2>&1; then
	tap_not_ok "--routes: missing and extra routes are reported" "$work/routes.out"
elif grep -q "GET /v1/stats is in the contract but not in the agent's routes" "$work/routes.out" &&
     grep -q "POST /v1/vms/{id}/migrate is served by the agent but not in the contract" \
	"$work/routes.out"; then
	tap_ok "--routes: missing and extra routes are reported"
else
	tap_not_ok "--routes: missing and extra routes are reported (messages)" "$work/routes.out"
fi

# --instances: what libvhapi really produces matches the contract.
SAMPLES="${top_builddir:?top_builddir is not set}/tests/api/api_samples"
if "$SAMPLES" > "$work/samples" 2> "$work/samples.err"; then
	tap_check "libvhapi's output (VM, VMSummary, VMStats, Host, Stats, Problem, VMCreate) matches the schemas" \
		"$PY" "$LINT" --instances "$work/samples" "$SPEC"
else
	tap_not_ok "libvhapi's output matches the schemas (api_samples failed)" "$work/samples.err"
fi
printf '%s\n' 'VM {"name":"x","uuid":"not-a-uuid"}' 'Problem {"type":"t","title":"t","status":200,"detail":"d","code":"nope"}' \
	> "$work/samples.bad"
if "$PY" "$LINT" --instances "$work/samples.bad" "$SPEC" > "$work/samples.out" 2>&1; then
	tap_not_ok "--instances: a wrong instance is refused" "$work/samples.out"
elif grep -q "VM: example does not match" "$work/samples.out" &&
     grep -q "Problem: example does not match its schema at code" "$work/samples.out"; then
	tap_ok "--instances: a wrong instance is refused"
else
	tap_not_ok "--instances: a wrong instance is refused (messages)" "$work/samples.out"
fi

[ "$tap_failed" -eq 0 ]
