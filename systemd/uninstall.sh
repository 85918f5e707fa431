#!/usr/bin/env bash
# Removes what systemd/install.sh installed: units, code, host configuration.
# Configuration, state, certificates, guest accounts and the turnpike user stay
# unless --purge is given; --purge removes them too (every guest account in the
# guest group with the tp- prefix, its home and FTP files included).
# Takes the same TURNPIKE_* variables as install.sh.
set -euo pipefail

PREFIX="${TURNPIKE_PREFIX:-/usr/lib/turnpike}"
ETC_DIR="${TURNPIKE_ETC_DIR:-/etc/turnpike}"
STATE_DIR="${TURNPIKE_STATE_DIR:-/var/lib/turnpike}"
SRV_DIR="${TURNPIKE_SRV_DIR:-/srv/turnpike}"
UNIT_DIR="${TURNPIKE_UNIT_DIR:-/etc/systemd/system}"
SSHD_DIR="${TURNPIKE_SSHD_DIR:-/etc/ssh/sshd_config.d}"
KEYS_DIR="${TURNPIKE_KEYS_DIR:-/etc/ssh/turnpike-authorized-keys}"
PAM_DIR="${TURNPIKE_PAM_DIR:-/etc/pam.d}"
SVC_USER="${TURNPIKE_USER:-turnpike}"
GUEST_GROUP="${TURNPIKE_GUEST_GROUP:-turnpike-guests}"
SSH_GROUP="${TURNPIKE_SSH_GROUP:-turnpike-ssh}"

purge=0
case "${1:-}" in
  --purge) purge=1 ;;
  "") ;;
  *) echo "usage: uninstall.sh [--purge]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "turnpike uninstall: run as root" >&2; exit 1; }

units=(turnpike.service turnpike-provisioner.service turnpike-ftp.service)
if [ -d /run/systemd/system ] && [ "$UNIT_DIR" = /etc/systemd/system ]; then
  systemctl disable --now "${units[@]}" || true
fi
for unit in "${units[@]}"; do rm -f "$UNIT_DIR/$unit"; done
if [ -d /run/systemd/system ] && [ "$UNIT_DIR" = /etc/systemd/system ]; then
  systemctl daemon-reload
fi

rm -f "$SSHD_DIR/turnpike.conf" "$PAM_DIR/turnpike-vsftpd"
if [ -d /run/systemd/system ] && systemctl is-active --quiet ssh.service; then systemctl reload ssh.service; fi
rm -rf "$PREFIX" "${PREFIX}.new" "${PREFIX}.old"

if [ "$purge" = 1 ]; then
  guest_gid="$(getent group "$GUEST_GROUP" | cut -d: -f3 || true)"
  if [ -n "$guest_gid" ]; then
    # Only accounts the provisioner could have made: primary group AND prefix.
    getent passwd | awk -F: -v gid="$guest_gid" '$4 == gid && $1 ~ /^tp-/ { print $1 }' | while read -r login; do
      pkill -KILL -u "$login" || true
      userdel -r "$login" 2>/dev/null || userdel "$login"
    done
  fi
  for group in "$SSH_GROUP" "$GUEST_GROUP"; do
    if getent group "$group" >/dev/null; then groupdel "$group"; fi
  done
  if getent passwd "$SVC_USER" >/dev/null; then userdel "$SVC_USER"; fi
  if getent group "$SVC_USER" >/dev/null; then groupdel "$SVC_USER"; fi
  rm -rf "$ETC_DIR" "$STATE_DIR" "$SRV_DIR" "$KEYS_DIR"
fi
echo "turnpike uninstall: done$([ "$purge" = 1 ] && echo ' (purged)')"
