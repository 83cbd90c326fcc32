#!/usr/bin/env bash
# Installs what sluice needs on a fresh Debian machine, idempotently and
# without prompts. `scripts/deps.sh build` installs the build dependencies;
# `scripts/deps.sh test` adds the test tools (Criterion, a Python venv with
# pytest under .venv/, clang and its libFuzzer runtime for tests/fuzz/).
# Packages already present are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-build}

build_packages=(gcc make pkg-config libyaml-dev libsqlite3-dev sqlite3 librdkafka-dev liblz4-dev libzstd-dev zlib1g-dev libsnappy-dev libssl-dev)
test_packages=(libcriterion-dev python3-venv jq clang)

wanted=("${build_packages[@]}")
[ "$what" = test ] && wanted+=("${test_packages[@]}")

missing=()
for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# Real servers for tests (tests/servers/) need a JDK and Maven: install
# Debian's only when the machine has none (this kind ships both).
if [ "$what" = test ]; then
    command -v java >/dev/null || missing+=(default-jdk-headless)
    command -v mvn >/dev/null || missing+=(maven)
fi
install() {  # install PACKAGE... with apt-get, quietly
    echo "deps: installing $*"
    local sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
[ "${#missing[@]}" -ne 0 ] && install "${missing[@]}"

# libFuzzer's runtime is packaged apart from clang, per clang version
# (libclang-rt-14-dev for Debian 12's clang 14).
if [ "$what" = test ]; then
    fuzzer_lib="$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a"
    [ -f "$fuzzer_lib" ] || install "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
fi

if [ "$what" = test ]; then
    # Reinstalls when requirements.txt changes (a copy of it is the stamp).
    if [ ! -x .venv/bin/pytest ] || ! cmp -s tests/e2e/requirements.txt .venv/requirements.installed; then
        echo "deps: installing the Python test packages into .venv"
        [ -x .venv/bin/pip ] || python3 -m venv .venv
        .venv/bin/pip install -q --disable-pip-version-check -r tests/e2e/requirements.txt
        cp tests/e2e/requirements.txt .venv/requirements.installed
    fi
fi
