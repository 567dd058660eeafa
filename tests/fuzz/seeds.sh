#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# seeds.sh SRCDIR NAME: the seed folders of fuzz target NAME, for `make
# fuzz` and smoke.sh (generated ones under the build directory, checked-in
# ones under SRCDIR).
case $2 in
fuzz_proto) echo tests/fuzz/seeds ;;
fuzz_api_request) echo "$1/tests/fuzz/api_seeds" ;;
fuzz_loader) echo tests/fuzz/loader_seeds ;;
fuzz_agent_config) echo "$1/tests/fuzz/config_seeds" ;;
fuzz_agent_auth) echo "$1/tests/fuzz/auth_seeds" ;;
fuzz_decode) echo "$1/tests/fuzz/decode_seeds" ;;
fuzz_virtq) echo "$1/tests/fuzz/virtq_seeds" ;;
*) echo "seeds.sh: no fuzz target $2" >&2; exit 1 ;;
esac
