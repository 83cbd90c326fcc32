#!/usr/bin/env bash
# Builds and runs one unit test against only the sources named, plain and
# under ASan+UBSan, without touching the shared build/ tree. For working on
# one module while others change (tests/unit/test_util.c, the helpers every
# unit test shares, is always linked in):
#   scripts/unit-one.sh tests/unit/json_test.c src/core/*.c
set -eu
test_src=$1; shift
name=$(basename "$test_src" .c)
out=$(mktemp -d /tmp/sluice-unit-XXXXXX)
flags="-std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow -Wstrict-prototypes -D_GNU_SOURCE -Isrc -Itests/unit -pthread"
libs="-lcriterion -lyaml -lsqlite3 -lrdkafka -llz4 -lssl -lcrypto -lm -pthread"
cc -O2 -g $flags -o "$out/$name" "$test_src" tests/unit/test_util.c "$@" $libs
cc -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined $flags -o "$out/$name-asan" "$test_src" tests/unit/test_util.c "$@" $libs
"$out/$name" --jobs 1
ASAN_OPTIONS=detect_leaks=1 "$out/$name-asan" --jobs 1
rm -rf "$out"
