#!/usr/bin/env bash
# Boots systemd as PID 1 in a root of its own, for the package's real-systemd test.
#
#   boot-system-root.sh SCRATCH MARKER [FILE...]
#
# Booted on the host's own root, systemd would run `systemd-tmpfiles --remove`
# (emptying the host's /tmp and /var/tmp), apply sysctls and binfmt rules,
# load modules, re-trigger the host's devices and start the host's enabled
# services. So it gets, in new mount, PID, network, UTS, IPC and cgroup
# namespaces:
#   - an overlay of / whose writable layer is a tmpfs under SCRATCH (the host's
#     files are the read-only lower layer; every write, unlink and whiteout goes
#     to the tmpfs), pivoted into, with the host's tree unmounted from view;
#   - private tmpfs on /tmp, /var/tmp, /run, /dev (device nodes made with mknod,
#     no bind of the host's /dev); read-only /sys, /proc/sys, /proc/sysrq-trigger;
#   - no host service enabled, and the units that reach past a container masked;
#   - its own loopback network, so no port can clash with the host's.
# MARKER is a file the caller put in the host's /tmp: if it can be seen inside
# before the boot, the isolation failed and nothing is booted.
# FILEs are copied into the root's /opt/turnpike-test (the .debs under test).
# The caller finds systemd as the only child of this script's unshare, runs
# commands in it with `nsenter --target PID --all`, and ends it with SIGKILL to
# that PID (the kernel ends the namespace; nothing is unmounted on the host).
# If the caller dies first, the root goes with it.
set -euo pipefail

die() {
  printf 'boot-system-root: %s\n' "$*" >&2
  exit 1
}

if [ "${1:-}" != --inside ]; then
  [ "$(id -u)" -eq 0 ] || die "run as root"
  [ $# -ge 2 ] || die "usage: boot-system-root.sh SCRATCH MARKER [FILE...]"
  scratch="$(realpath "$1")"
  [ -d "$scratch" ] || die "$scratch is not a directory"
  [ -e "$2" ] || die "marker $2 does not exist"
  # A cgroup of its own, so the booted systemd manages only its subtree.
  if [ -d /sys/fs/cgroup/unified ]; then cgroot=/sys/fs/cgroup/unified; else cgroot=/sys/fs/cgroup; fi
  cgroup="$cgroot/turnpike-test-$(basename "$scratch")"
  mkdir -p "$cgroup"
  echo $$ >"$cgroup/cgroup.procs"
  # If the caller dies without ending the root, the root dies with it: unshare
  # gets SIGKILL when its parent goes, and takes its child (systemd) along.
  exec setpriv --pdeathsig KILL -- unshare --kill-child=SIGKILL --mount --propagation private --pid --fork \
    --mount-proc --net --uts --ipc --cgroup "$0" --inside "$@"
fi
shift
scratch="$1"
marker="$2"
shift 2

root="$scratch/root"
layers="$scratch/layers"
mkdir -p "$root" "$layers"
mount -t tmpfs -o mode=0755,size=4g turnpike-test-layers "$layers"
mkdir "$layers/upper" "$layers/work"
mount -t overlay turnpike-test-root -o "lowerdir=/,upperdir=$layers/upper,workdir=$layers/work" "$root"

mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/var/tmp"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
if [ -e "$root$marker" ] || [ -e "$root/var/tmp/$(basename "$marker")" ]; then
  die "the host's $marker is visible inside the root: /tmp is not private; not booting"
fi

mount -t proc proc "$root/proc"
for path in sys sysrq-trigger; do
  [ -e "$root/proc/$path" ] || continue
  mount --bind "$root/proc/$path" "$root/proc/$path"
  mount -o remount,bind,ro "$root/proc/$path"
done
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"

mount -t tmpfs -o mode=0755,nosuid tmpfs "$root/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r name major minor <<<"$node"
  mknod -m 0666 "$root/dev/$name" c "$major" "$minor"
done
mkdir -m 0755 "$root/dev/pts"
mkdir -m 1777 "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mknod -m 0600 "$root/dev/console" c 1 3 # /dev/null: no terminal to take over

# Nothing of the host's starts: its enabled services go (whiteouts in the
# overlay), and what would act on the kernel or devices beyond this root is masked.
rm -f "$root"/etc/systemd/system/*.wants/*
: >"$root/etc/fstab"
systemctl --root="$root" --quiet mask \
  getty.target console-getty.service serial-getty@.service swap.target cryptsetup.target \
  systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service \
  systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-hwdb-update.service \
  systemd-binfmt.service proc-sys-fs-binfmt_misc.automount systemd-modules-load.service \
  kmod-static-nodes.service systemd-sysctl.service systemd-random-seed.service systemd-repart.service \
  systemd-firstboot.service systemd-machine-id-commit.service systemd-pcrphase.service \
  systemd-pcrphase-sysinit.service systemd-timesyncd.service systemd-journald-audit.socket \
  systemd-remount-fs.service systemd-fsck-root.service sys-kernel-config.mount sys-kernel-debug.mount \
  sys-kernel-tracing.mount sys-fs-fuse-connections.mount dev-hugepages.mount apt-daily.timer \
  apt-daily-upgrade.timer modprobe@.service
systemctl --root="$root" --quiet set-default multi-user.target
# The host's SysV scripts (started through the generator) are the host's services too.
mkdir -p "$root/etc/systemd/system-generators"
ln -sf /dev/null "$root/etc/systemd/system-generators/systemd-sysv-generator"
ln -sf /dev/null "$root/etc/systemd/system-generators/systemd-rc-local-generator"
# A policy-rc.d on the host (CI keeps daemons from starting while it installs
# packages) is not this system's: here the package's services must start.
rm -f "$root/usr/sbin/policy-rc.d"

mkdir -p "$root/opt/turnpike-test"
for file in "$@"; do cp "$file" "$root/opt/turnpike-test/"; done
echo turnpike-test >"$root/etc/hostname"
hostname turnpike-test
ip link set lo up

cd "$root"
mkdir -p .host
pivot_root . .host
cd /
umount -l /.host
rmdir /.host
exec env -i container=turnpike-test PATH=/usr/sbin:/usr/bin:/sbin:/bin /lib/systemd/systemd </dev/null >/dev/null 2>&1
