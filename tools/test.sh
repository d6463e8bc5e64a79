#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test.sh — build berth and run all its tests; as root, from anywhere, on a fresh Debian 12.
#
#   1. install the build and test dependencies (tools/install-deps.sh)
#   2. meson setup (or --reconfigure) $BUILD with --prefix=/usr --werror, meson compile
#   3. shellcheck the project's shell scripts
#   4. meson test (unit tests)
#   5. pytest test/integration (a real systemd: see test/testbed.sh), then again in a testbed
#      with the unified cgroup layout (BERTH_TESTBED_CGROUP=unified) and once more with
#      /var/lib/berth on btrfs (BERTH_TESTBED_STORAGE=btrfs: berthd's btrfs storage driver),
#      unless PID 1 is systemd
#
# Environment: BUILD (build directory, default build), PYTEST_ARGS (extra pytest arguments),
# SANITIZE=1 (build with AddressSanitizer + UndefinedBehaviorSanitizer; the integration suite then
# runs the sanitized berthd, berth-nspawn and berthctl and fails on any sanitizer report).
# Exits non-zero if any step fails; the last line says which.

# shellcheck disable=SC2317 # functions are called through step and trap
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD="${BUILD:-build}"
PYTHON=/usr/bin/python3 # Debian's, with python3-pytest (a python3 on PATH may be another)

passed=()
failed=()

step() {
        local name="$1"
        shift
        echo
        echo "==> $name: $*"
        if "$@"; then
                passed+=("$name")
                return 0
        fi
        failed+=("$name")
        return 1
}

summary() {
        echo
        if [ ${#failed[@]} -eq 0 ]; then
                echo "test.sh: PASS (${passed[*]})"
        else
                echo "test.sh: FAIL: ${failed[*]}${passed[*]:+ (passed: ${passed[*]})}"
        fi
}
trap summary EXIT

if [ "$(id -u)" != 0 ]; then
        failed+=(root)
        echo "test.sh: must run as root (installs packages, boots a systemd testbed)" >&2
        exit 1
fi

MESON_ARGS=(--prefix=/usr --werror)
if [ "${SANITIZE:-0}" = 1 ]; then
        MESON_ARGS+=("-Db_sanitize=address,undefined" -Db_lundef=false)
fi

setup_build() {
        if [ -f "$BUILD/meson-private/coredata.dat" ]; then
                meson setup --reconfigure "$BUILD" "${MESON_ARGS[@]}"
        else
                rm -rf "$BUILD"
                meson setup "$BUILD" "${MESON_ARGS[@]}"
        fi
}

check_format() {
        local files
        mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find src test -name '*.[ch]')
        clang-format --dry-run --Werror "${files[@]}"
}

shell_scripts() {
        local f
        for f in .ci/run test/*.sh tools/*.sh shell-completion/*.bash; do
                if [ -f "$f" ]; then echo "$f"; fi
        done
}

lint_shell() {
        local scripts
        mapfile -t scripts < <(shell_scripts)
        shellcheck "${scripts[@]}"
}

step deps tools/install-deps.sh || exit 1
step setup setup_build || exit 1
step compile meson compile -C "$BUILD" || exit 1

rc=0
step shellcheck lint_shell || rc=1
step clang-format check_format || rc=1
step "meson-test" meson test -C "$BUILD" --print-errorlogs || rc=1
# shellcheck disable=SC2086 # PYTEST_ARGS is a list of words
step pytest env BERTH_BUILD_DIR="$(readlink -f "$BUILD")" BERTH_SANITIZE="${SANITIZE:-0}" \
        "$PYTHON" -m pytest -v ${PYTEST_ARGS:-} test/integration || rc=1
# The tests of the test peers themselves (-m peers: docker-registry, skopeo, the fault proxy) and
# the network tests (-m network: bridges, nftables, DNS; the same whatever the storage or cgroup
# layout) and those whose subject depends on neither layout (-m once: the Engine API frontend, CLI
# parsing and output, input validation) run in the first pass only.
# Again with only cgroup2 at /sys/fs/cgroup (the unified layout most hosts run), where the testbed
# boots its own systemd (not on a systemd host) and not in the sanitizer job, which runs the same
# code paths.
if [ ! -d /run/systemd/system ] && [ "${SANITIZE:-0}" != 1 ]; then
        # shellcheck disable=SC2086 # PYTEST_ARGS is a list of words
        step pytest-unified env BERTH_BUILD_DIR="$(readlink -f "$BUILD")" BERTH_TESTBED_CGROUP=unified \
                "$PYTHON" -m pytest -q -m "not peers and not network and not once" ${PYTEST_ARGS:-} test/integration || rc=1
        # The whole suite on the btrfs storage driver (a loop-mounted btrfs in the testbed).
        # shellcheck disable=SC2086 # PYTEST_ARGS is a list of words
        step pytest-btrfs env BERTH_BUILD_DIR="$(readlink -f "$BUILD")" BERTH_TESTBED_STORAGE=btrfs \
                "$PYTHON" -m pytest -q -m "not peers and not network and not once" ${PYTEST_ARGS:-} test/integration || rc=1
fi
exit "$rc"
