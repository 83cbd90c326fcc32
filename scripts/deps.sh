#!/usr/bin/env bash
# Installs what sluice needs on a fresh Debian machine, idempotently and
# without prompts. `scripts/deps.sh build` installs the build dependencies;
# `scripts/deps.sh test` adds the test tools (Criterion, a Python venv with
# pytest under .venv/, clang and its libFuzzer runtime for tests/fuzz/,
# Debian's PostgreSQL server for tests/servers/postgres.sh, Debian's chromium and
# playwright-core from npm under tests/e2e/ui/node_modules for the UI's
# browser tests).
# Packages already present are left alone.
# Each step prints one line ("  APT      install gcc make"); what apt-get
# and pip print is kept aside and shown whole, on stderr, only when the step
# fails. V=1 lets it all through as it comes.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-build}
case "$what" in build|test) ;; *) echo "usage: scripts/deps.sh [build|test]" >&2; exit 2 ;; esac

step_log=$(mktemp /tmp/sluice-deps-XXXXXX)
trap 'rm -f "$step_log"' EXIT

step() {  # step TAG WHAT COMMAND... — one line for the step; COMMAND's output only if it fails
    local tag=$1 label=$2 rc=0
    shift 2
    printf '  %-8s %s\n' "$tag" "$label"
    if [ "${V:-0}" = 1 ]; then
        "$@" || rc=$?
    else
        "$@" >"$step_log" 2>&1 </dev/null || rc=$?
        if [ "$rc" -ne 0 ]; then cat "$step_log" >&2; fi
    fi
    if [ "$rc" -ne 0 ]; then
        echo "deps: '$*' failed with exit code $rc" >&2
        exit "$rc"
    fi
}

build_packages=(gcc make pkg-config tzdata libyaml-dev libsqlite3-dev sqlite3 librdkafka-dev liblz4-dev libzstd-dev zlib1g-dev libsnappy-dev libssl-dev libmicrohttpd-dev libpq-dev libcurl4-openssl-dev libpcre2-dev libmurmurhash-dev libxxhash-dev)
test_packages=(libcriterion-dev python3-venv jq clang postgresql chromium prometheus openssl)

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
    # The UI's browser tests run Node (playwright-core from npm): Debian's
    # nodejs and npm unless a Node with npm is installed already.
    command -v npm >/dev/null || missing+=(nodejs npm)
fi
install() {  # install PACKAGE... with apt-get
    local sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    step APT update "${sudo_cmd[@]}" apt-get update
    step APT "install $*" "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "$@"
}
if [ "${#missing[@]}" -ne 0 ]; then
    install "${missing[@]}"
else
    printf '  %-8s %s\n' DEPS "the $what packages are installed"
fi

# libFuzzer's runtime is packaged apart from clang, per clang version
# (libclang-rt-14-dev for Debian 12's clang 14).
if [ "$what" = test ]; then
    fuzzer_lib="$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a"
    [ -f "$fuzzer_lib" ] || install "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
fi

if [ "$what" = test ]; then
    # Reinstalls when requirements.txt changes (a copy of it is the stamp).
    if [ ! -x .venv/bin/pytest ] || ! cmp -s tests/e2e/requirements.txt .venv/requirements.installed; then
        [ -x .venv/bin/pip ] || step VENV .venv python3 -m venv .venv
        step PIP "install -r tests/e2e/requirements.txt" \
            .venv/bin/pip install --disable-pip-version-check -r tests/e2e/requirements.txt
        cp tests/e2e/requirements.txt .venv/requirements.installed
    fi
fi

# playwright-core for the UI's browser tests (tests/e2e/ui), as its
# package-lock.json pins it; reinstalled when the lock file changes.
if [ "$what" = test ]; then
    ui_tests=tests/e2e/ui
    if [ ! -d "$ui_tests/node_modules/playwright-core" ] || ! cmp -s "$ui_tests/package-lock.json" "$ui_tests/node_modules/.package-lock.installed"; then
        step NPM "ci in $ui_tests" npm ci --prefix "$ui_tests" --no-audit --no-fund
        cp "$ui_tests/package-lock.json" "$ui_tests/node_modules/.package-lock.installed"
    fi
fi
