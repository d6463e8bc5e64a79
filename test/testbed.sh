#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# testbed.sh — a real systemd (PID 1, system bus, journald) for berth's tests.
#
# On a machine whose PID 1 is not systemd, boot systemd as PID 1 of fresh PID, mount, UTS, IPC,
# cgroup and network namespaces, with /etc, /usr and /var/lib overlaid on top of the host's (so
# installing berth happens inside the testbed and vanishes with it). On a machine whose PID 1
# is systemd ("host mode") use the host itself.
#
# The network namespace holds only "lo" (up) when the testbed boots: bridges, veths and nftables
# rules made by berthd or by tests never touch the host's interfaces or firewall, and nothing in
# the testbed reaches the host's network. A process outside that wants to talk to a server on the
# testbed's 127.0.0.1 joins the namespace, /proc/$(testbed.sh pid DIR)/ns/net (setns(2) or
# nsenter --net=...): test/integration/conftest.py does so for the pytest process right after up.
#
#   testbed.sh up DIR                 boot a testbed whose state lives in DIR (created)
#   testbed.sh run DIR [--] CMD...    run CMD inside, in a transient scope; stdio and exit code
#                                     pass through
#   testbed.sh shell DIR 'CMD STRING' the same through sh -c
#   testbed.sh nsenter DIR [--] CMD...  run CMD inside with a bare nsenter: no scope, the
#                                     process sits in the testbed's root cgroup
#   testbed.sh install DIR BUILDDIR   meson install BUILDDIR inside, daemon-reload, create the
#                                     installed tmpfiles, reload dbus
#   testbed.sh pid DIR                print the init's host PID (empty in host mode)
#   testbed.sh status DIR             print "ns PID", "host" or "down"; exit 1 when not up
#   testbed.sh down DIR               kill everything, remove cgroups, mounts and DIR
#                                     (idempotent, also after a half-failed up)
#
# Environment: BERTH_TESTBED_TIMEOUT (seconds to wait for boot, default 30),
#              BERTH_TESTBED_MODE=host|ns (default: host when PID 1 is systemd, else ns),
#              BERTH_TESTBED_CGROUP=host|unified (ns mode: the host's cgroup layout, default, or
#              only cgroup2 at /sys/fs/cgroup),
#              BERTH_TESTBED_STORAGE=dir|btrfs (ns mode: /var/lib/berth is a directory of DIR,
#              default, or a fresh btrfs on a loop device, so berthd picks its btrfs driver).
#
# See /work/shared/design/TESTBED.md (the design notes this follows) for the why.

set -euo pipefail

export PATH="/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

readonly TARGET=berth-testbed.target
SELF="$(readlink -f "${BASH_SOURCE[0]}")"
readonly SELF

# Units that would change the host (kernel sysctls, modules, binfmt, static /dev nodes on the
# host's devtmpfs, wtmp in the host's /var/log) or that make no sense in a testbed. Masked in
# /run/systemd/system before systemd starts; pulled in only by Wants=, so masking is silent.
readonly MASKED_UNITS=(
        systemd-sysctl.service
        systemd-modules-load.service
        systemd-binfmt.service
        proc-sys-fs-binfmt_misc.automount
        proc-sys-fs-binfmt_misc.mount
        kmod-static-nodes.service
        systemd-tmpfiles-setup-dev.service
        systemd-update-utmp.service
        systemd-firstboot.service
        systemd-repart.service
        systemd-pcrphase.service
        systemd-pcrphase-sysinit.service
        systemd-machine-id-commit.service
        systemd-hwdb-update.service
        systemd-udevd.service
        systemd-udev-trigger.service
        systemd-udev-settle.service
        dev-hugepages.mount
        sys-fs-fuse-connections.mount
        sys-kernel-config.mount
        sys-kernel-debug.mount
        sys-kernel-tracing.mount
        systemd-ask-password-console.path
        systemd-ask-password-wall.path
)

die() {
        echo "testbed: $*" >&2
        exit 1
}

usage() {
        sed -n '/^#   testbed.sh/,/^#$/s/^# \{0,1\}//p' "$SELF" >&2
        exit 2
}

absdir() {
        # Absolute path of $1 without requiring it to exist.
        case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
        esac
}

host_is_systemd() {
        case "${BERTH_TESTBED_MODE:-}" in
        host) return 0 ;;
        ns) return 1 ;;
        esac
        [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]
}

mode_of() {
        local dir="$1"
        if [ -f "$dir/mode" ]; then
                cat "$dir/mode"
        else
                echo none
        fi
}

# Field 22 of /proc/PID/stat (start time in clock ticks): together with the PID it names one
# process for good, so a stale pid file never makes us kill a stranger.
proc_starttime() {
        local stat rest
        stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
        rest="${stat##*) }"
        # shellcheck disable=SC2086 # word splitting intended
        set -- $rest
        printf '%s\n' "${20}"
}

init_pid() {
        # Prints the init's host PID if it is (still) alive; fails otherwise.
        local dir="$1" pid start
        [ -f "$dir/pid" ] || return 1
        read -r pid start <"$dir/pid" || return 1
        [ -n "$pid" ] && [ -n "$start" ] || return 1
        [ "$(proc_starttime "$pid" 2>/dev/null)" = "$start" ] || return 1
        printf '%s\n' "$pid"
}

need_up() {
        local dir="$1" mode
        mode="$(mode_of "$dir")"
        case "$mode" in
        host) return 0 ;;
        ns) init_pid "$dir" >/dev/null || die "testbed in $dir is not running (init gone)" ;;
        *) die "no testbed in $dir (run: $0 up $dir)" ;;
        esac
}

# ---------------------------------------------------------------------------------------------
# cgroups

# Prints "MOUNTPOINT SUPEROPTS" for the cgroup hierarchy whose controllers are $1 ("" = v2).
cg_mount_of() {
        local want="$1"
        local _id _parent _dev root mp _opts rest fstype _src super
        while read -r _id _parent _dev root mp _opts rest; do
                rest=" $rest"
                rest="${rest#* - }"
                read -r fstype _src super <<<"$rest"
                [ "$root" = / ] || continue
                if [ -z "$want" ]; then
                        if [ "$fstype" = cgroup2 ]; then
                                printf '%s %s\n' "$mp" ""
                                return 0
                        fi
                        continue
                fi
                [ "$fstype" = cgroup ] || continue
                local ok=1 c
                for c in ${want//,/ }; do
                        case ",$super," in
                        *",$c,"*) ;;
                        *) ok=0 ;;
                        esac
                done
                if [ "$ok" = 1 ]; then
                        printf '%s %s\n' "$mp" "$want"
                        return 0
                fi
        done </proc/self/mountinfo
        return 1
}

# Creates DIR/cgroups (one child cgroup dir per line, host paths) and DIR/cgmounts (one
# "NAME OPTIONS" per line: how to mount each hierarchy again inside the testbed).
cg_setup() {
        local dir="$1" name="$2"
        local _hid ctrls path found mp opts child
        : >"$dir/cgroups"
        : >"$dir/cgmounts"
        while IFS=: read -r _hid ctrls path; do
                found="$(cg_mount_of "$ctrls")" || continue
                mp="${found%% *}"
                opts="${found#* }"
                child="$mp${path%/}/$name"
                # Recorded only once made by us: down must never touch another testbed's cgroup.
                mkdir "$child" || die "cannot create cgroup $child (another testbed of that name?)"
                echo "$child" >>"$dir/cgroups"
                if [ -f "$child/cpuset.cpus" ]; then
                        cat "$mp${path%/}/cpuset.cpus" >"$child/cpuset.cpus"
                        cat "$mp${path%/}/cpuset.mems" >"$child/cpuset.mems"
                fi
                if [ -z "$ctrls" ]; then
                        echo "unified -" >>"$dir/cgmounts"
                else
                        # name=systemd needs "none" too; plain controllers mount by their names.
                        case "$opts" in
                        name=*) opts="none,$opts" ;;
                        esac
                        echo "$(basename "$mp") $opts" >>"$dir/cgmounts"
                fi
        done </proc/self/cgroup
        grep -q . "$dir/cgmounts" || die "found no cgroup hierarchy to put the testbed in"
}

cg_pids() {
        local dir="$1" cg
        [ -f "$dir/cgroups" ] || return 0
        while read -r cg; do
                [ -d "$cg" ] || continue
                find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null || true
        done <"$dir/cgroups"
}

cg_teardown() {
        local dir="$1" cg left
        [ -f "$dir/cgroups" ] || return 0
        for _ in $(seq 100); do
                left=0
                while read -r cg; do
                        [ -d "$cg" ] || continue
                        find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
                        [ -d "$cg" ] && left=1
                done <"$dir/cgroups"
                [ "$left" = 0 ] && return 0
                # Still busy: something is being torn down; kill stragglers and retry.
                cg_pids "$dir" | xargs -r kill -9 2>/dev/null || true
                sleep 0.1
        done
        echo "testbed: could not remove cgroups:" >&2
        cat "$dir/cgroups" >&2
        return 1
}

# ---------------------------------------------------------------------------------------------
# inside: runs as PID 1 of the new namespaces, sets up mounts, execs systemd

cmd___init() {
        local dir="$1" name opts unit

        # A network namespace of its own: only the loopback, up before anything listens on it.
        ip link set lo up

        # Keep the host's /sys out of reach (read-only, as systemd-nspawn does): services such
        # as udev then skip themselves instead of acting on the host's devices. A sysfs of its
        # own, mounted from the new network namespace, shows the testbed's links in /sys/class/net.
        mount -o remount,bind,ro /sys
        mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys

        if [ "$(cat "$dir/cglayout" 2>/dev/null)" = unified ]; then
                # Only cgroup2 at /sys/fs/cgroup, as on a unified host. On a hybrid host its
                # controllers stay bound to the v1 hierarchies: limits are accepted, not enforced.
                mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
        else
                mount -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs /sys/fs/cgroup
        fi
        [ "$(cat "$dir/cglayout" 2>/dev/null)" = unified ] || while read -r name opts; do
                mkdir -p "/sys/fs/cgroup/$name"
                if [ "$opts" = - ]; then
                        mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "/sys/fs/cgroup/$name"
                else
                        mount -t cgroup -o "nosuid,nodev,noexec,$opts" cgroup "/sys/fs/cgroup/$name"
                fi
        done <"$dir/cgmounts"

        mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
        mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
        mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
        mkdir -p /var/log/journal
        mount -t tmpfs -o mode=2755,nosuid,nodev tmpfs /var/log/journal

        mount -t overlay overlay -o "lowerdir=/etc,upperdir=$dir/upper/etc,workdir=$dir/work/etc" /etc
        mount -t overlay overlay -o "lowerdir=/usr,upperdir=$dir/upper/usr,workdir=$dir/work/usr" /usr
        mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$dir/upper/varlib,workdir=$dir/work/varlib" /var/lib
        mkdir -p /var/lib/berth
        if [ -f "$dir/btrfs.img" ]; then
                mount -o loop "$dir/btrfs.img" /var/lib/berth
        else
                mount --bind "$dir/berth" /var/lib/berth
        fi

        # The host's /dev/console is not ours: give systemd (and whatever it runs with output
        # to the console) a file instead, as systemd-nspawn gives a pty.
        : >"$dir/console"
        mount --bind "$dir/console" /dev/console

        # Kernel messages are the host's, not the testbed's.
        mkdir -p /run/systemd/journald.conf.d
        printf '[Journal]\nReadKMsg=no\n' >/run/systemd/journald.conf.d/berth-testbed.conf

        mkdir -p /run/systemd/system
        cat >"/run/systemd/system/$TARGET" <<EOF
[Unit]
Description=berth testbed (system bus and journal only)
Requires=dbus.socket systemd-journald.socket
Wants=dbus.service systemd-journald.service
After=dbus.socket systemd-journald.socket dbus.service systemd-journald.service
AllowIsolate=yes
EOF
        for unit in "${MASKED_UNITS[@]}"; do
                ln -sf /dev/null "/run/systemd/system/$unit"
        done

        exec env -i container=berth-testbed LANG=C.UTF-8 \
                /lib/systemd/systemd --system "--unit=$TARGET" --log-target=console
}

# ---------------------------------------------------------------------------------------------
# subcommands

cmd_up() {
        [ $# -eq 1 ] || usage
        local dir name sub pid state timeout
        dir="$(absdir "$1")"

        if [ -e "$dir/mode" ]; then
                case "$(mode_of "$dir")" in
                host) die "$dir already holds a (host mode) testbed" ;;
                *) init_pid "$dir" >/dev/null && die "a testbed is already running in $dir" ;;
                esac
                die "$dir holds a dead testbed; run: $0 down $dir"
        fi
        case "$dir" in
        *[,:[:space:]]*) die "the state directory's path must not contain ',', ':' or blanks (overlayfs options): $dir" ;;
        esac
        mkdir -p "$dir"

        if host_is_systemd; then
                [ "${BERTH_TESTBED_STORAGE:-dir}" = dir ] ||
                        die "BERTH_TESTBED_STORAGE=${BERTH_TESTBED_STORAGE} needs a testbed of its own (ns mode); on a systemd host, put /var/lib/berth on btrfs instead"
                echo host >"$dir/mode"
                return 0
        fi

        echo ns >"$dir/mode"
        case "${BERTH_TESTBED_STORAGE:-dir}" in
        dir) ;;
        btrfs)
                # Sparse: only what the tests write takes space.
                truncate -s 16G "$dir/btrfs.img"
                mkfs.btrfs -q "$dir/btrfs.img" >/dev/null
                ;;
        *) die "BERTH_TESTBED_STORAGE must be dir or btrfs, not ${BERTH_TESTBED_STORAGE}" ;;
        esac
        case "${BERTH_TESTBED_CGROUP:-}" in
        "" | host) ;;
        unified) echo unified >"$dir/cglayout" ;;
        *) die "BERTH_TESTBED_CGROUP must be host or unified, not ${BERTH_TESTBED_CGROUP}" ;;
        esac
        name="$(basename "$dir" | tr -c 'A-Za-z0-9_.\n-' '_')"
        name="berth-testbed-$name-$(printf '%s' "$dir" | sha256sum | cut -c1-8)"
        echo "$name" >"$dir/name"
        mkdir -p "$dir/upper/etc" "$dir/upper/usr" "$dir/upper/varlib" \
                "$dir/work/etc" "$dir/work/usr" "$dir/work/varlib" "$dir/berth"

        # From here on, any failure (die, set -e, fail_up) tears the half-made testbed down.
        UP_DIR="$dir"
        trap 'up_exit_trap' EXIT
        cg_setup "$dir" "$name"

        # The subshell moves itself into the new cgroups (builtins only: no helper children),
        # then becomes setsid → unshare, whose one child is the init.
        (
                while read -r cg; do
                        echo "$BASHPID" >"$cg/cgroup.procs"
                done <"$dir/cgroups"
                exec setsid unshare --fork --pid --mount --uts --ipc --cgroup --net --mount-proc \
                        --propagation private "$SELF" __init "$dir"
        ) </dev/null >>"$dir/console.log" 2>&1 &
        sub=$!
        disown "$sub"
        echo "$sub $(proc_starttime "$sub" || echo 0)" >"$dir/unshare.pid"

        timeout="${BERTH_TESTBED_TIMEOUT:-30}"
        pid=""
        for _ in $(seq $((timeout * 10))); do
                pid="$(find_init "$sub")" && break
                pid=""
                kill -0 "$sub" 2>/dev/null || break
                sleep 0.1
        done
        if [ -z "$pid" ]; then
                fail_up "$dir" "the init process did not appear"
        fi
        echo "$pid $(proc_starttime "$pid")" >"$dir/pid"

        state=""
        for _ in $(seq $((timeout * 10))); do
                if ! kill -0 "$pid" 2>/dev/null; then
                        fail_up "$dir" "the init process died"
                fi
                if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]; then
                        state="$(nsenter -t "$pid" -a systemctl is-system-running 2>/dev/null)" || true
                        case "$state" in
                        running) break ;;
                        degraded)
                                echo "testbed: booted degraded; failed units:" >&2
                                nsenter -t "$pid" -a systemctl --failed --no-legend --plain >&2 || true
                                break
                                ;;
                        esac
                fi
                sleep 0.1
        done
        case "$state" in
        running | degraded) ;;
        *) fail_up "$dir" "systemd did not reach running/degraded within ${timeout}s (state: ${state:-none})" ;;
        esac
        trap - EXIT
        UP_DIR=""
}

UP_DIR=""
up_exit_trap() {
        local rc=$?
        [ -n "$UP_DIR" ] || return 0
        local log
        for log in console.log console; do
                if [ -s "$UP_DIR/$log" ]; then
                        echo "testbed: last lines of $UP_DIR/$log:" >&2
                        tail -n 30 "$UP_DIR/$log" >&2 || true
                fi
        done
        echo "testbed: up failed (exit status $rc), tearing down $UP_DIR" >&2
        cmd_down "$UP_DIR" || true
}

fail_up() {
        shift
        echo "testbed: up failed: $*" >&2
        exit 1
}

# The init is the process below $1 that is PID 1 of its own PID namespace.
find_init() {
        local queue=("$1") p c nspid
        while [ ${#queue[@]} -gt 0 ]; do
                p="${queue[0]}"
                queue=("${queue[@]:1}")
                nspid="$(sed -n 's/^NSpid:[[:space:]]*//p' "/proc/$p/status" 2>/dev/null)" || continue
                # shellcheck disable=SC2086 # word splitting intended
                set -- $nspid
                if [ $# -ge 2 ] && [ "${!#}" = 1 ]; then
                        printf '%s\n' "$p"
                        return 0
                fi
                for c in /proc/"$p"/task/*/children; do
                        # shellcheck disable=SC2207 # the file is one line of PIDs
                        queue+=($(cat "$c" 2>/dev/null))
                done
        done
        return 1
}

join_cgroups() {
        # Move this process (about to exec nsenter) into the testbed's root cgroups, so that what
        # it starts is accounted to, and torn down with, the testbed in every hierarchy, also
        # those systemd does not realize for a scope (cpu, cpuset, blkio, freezer on v1).
        local dir="$1" cg
        while read -r cg; do
                echo "$$" >"$cg/cgroup.procs" 2>/dev/null || true
        done <"$dir/cgroups"
}

enter_args() {
        # nsenter arguments for the testbed in $1; keeps the caller's working directory when
        # the same path exists inside (/tmp, for one, is private to the testbed).
        local pid="$1" wd=/
        [ -d "/proc/$pid/root$PWD" ] && wd="$PWD"
        printf '%s\n' -t "$pid" -a "--wdns=$wd"
}

cmd_run() {
        [ $# -ge 2 ] || usage
        local dir pid
        dir="$(absdir "$1")"
        shift
        [ "${1:-}" = -- ] && shift
        [ $# -ge 1 ] || usage
        need_up "$dir"
        if [ "$(mode_of "$dir")" = host ]; then
                exec systemd-run --quiet --scope --collect -- "$@"
        fi
        pid="$(init_pid "$dir")"
        local args
        mapfile -t args < <(enter_args "$pid")
        join_cgroups "$dir"
        exec nsenter "${args[@]}" systemd-run --quiet --scope --collect -- "$@"
}

cmd_shell() {
        [ $# -eq 2 ] || usage
        cmd_run "$1" sh -c "$2"
}

cmd_nsenter() {
        [ $# -ge 2 ] || usage
        local dir pid
        dir="$(absdir "$1")"
        shift
        [ "${1:-}" = -- ] && shift
        [ $# -ge 1 ] || usage
        need_up "$dir"
        if [ "$(mode_of "$dir")" = host ]; then
                exec "$@"
        fi
        pid="$(init_pid "$dir")"
        local args
        mapfile -t args < <(enter_args "$pid")
        join_cgroups "$dir"
        exec nsenter "${args[@]}" -- "$@"
}

cmd_install() {
        [ $# -eq 2 ] || usage
        local dir build
        dir="$(absdir "$1")"
        build="$(readlink -f "$2")" || die "no build directory $2"
        [ -f "$build/build.ninja" ] || die "$build is not a meson build directory"
        need_up "$dir"

        "$SELF" run "$dir" meson install -C "$build" --no-rebuild --quiet
        "$SELF" run "$dir" systemctl daemon-reload

        local tmpfiles=()
        if [ -f "$build/meson-logs/install-log.txt" ]; then
                mapfile -t tmpfiles < <(grep -E '/tmpfiles\.d/[^/]+\.conf$' \
                        "$build/meson-logs/install-log.txt" || true)
        fi
        if [ ${#tmpfiles[@]} -gt 0 ]; then
                "$SELF" run "$dir" systemd-tmpfiles --create "${tmpfiles[@]}"
        fi
        "$SELF" run "$dir" systemctl reload dbus.service
}

cmd_pid() {
        [ $# -eq 1 ] || usage
        local dir
        dir="$(absdir "$1")"
        need_up "$dir"
        if [ "$(mode_of "$dir")" = ns ]; then
                init_pid "$dir"
        fi
}

cmd_status() {
        [ $# -eq 1 ] || usage
        local dir pid
        dir="$(absdir "$1")"
        case "$(mode_of "$dir")" in
        host) echo host ;;
        ns)
                if pid="$(init_pid "$dir")"; then
                        echo "ns $pid"
                else
                        echo down
                        return 1
                fi
                ;;
        *)
                echo down
                return 1
                ;;
        esac
}

cmd_down() {
        [ $# -eq 1 ] || usage
        local dir pid mp
        dir="$(absdir "$1")"
        [ -d "$dir" ] || return 0
        if [ ! -f "$dir/mode" ]; then
                # Never up (or not a testbed at all: then refuse to delete anything).
                rmdir "$dir" 2>/dev/null || die "$dir is not a testbed state directory; not touching it"
                return 0
        fi

        if [ "$(mode_of "$dir")" = host ]; then
                rm -rf --one-file-system "$dir"
                return 0
        fi

        # Killing the init takes the whole PID namespace with it.
        if pid="$(init_pid "$dir")"; then
                kill -9 "$pid" 2>/dev/null || true
                for _ in $(seq 100); do
                        [ -d "/proc/$pid" ] || break
                        # Gone once reaped (by unshare); a zombie still has /proc/PID.
                        [ "$(proc_starttime "$pid" 2>/dev/null)" = "$(cut -d' ' -f2 "$dir/pid")" ] || break
                        sleep 0.1
                done
        fi
        # Anything else in our cgroups (unshare, a half-started init) is ours alone.
        local pids
        for _ in $(seq 50); do
                pids="$(cg_pids "$dir")"
                [ -n "$pids" ] || break
                # shellcheck disable=SC2086 # word splitting intended
                kill -9 $pids 2>/dev/null || true
                sleep 0.1
        done
        # A half-failed up may have left unshare running before it moved into the cgroups.
        if [ -f "$dir/unshare.pid" ]; then
                local upid ustart
                read -r upid ustart <"$dir/unshare.pid" || true
                if [ -n "${upid:-}" ] && [ "$(proc_starttime "$upid" 2>/dev/null)" = "${ustart:-x}" ]; then
                        kill -9 "$upid" 2>/dev/null || true
                fi
        fi

        cg_teardown "$dir"

        # Nothing is mounted in the host's namespace (propagation is private), but be sure.
        awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
                sort -r | while read -r mp; do
                umount -l "$mp" || true
        done

        rm -rf --one-file-system "$dir"
}

main() {
        [ $# -ge 1 ] || usage
        local cmd="$1"
        shift
        case "$cmd" in
        up | run | shell | nsenter | install | pid | status | down | __init)
                [ "$(id -u)" = 0 ] || die "must run as root"
                "cmd_$cmd" "$@"
                ;;
        -h | --help | help) usage ;;
        *) usage ;;
        esac
}

main "$@"
