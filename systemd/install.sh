#!/usr/bin/env bash
# Installs Turnpike on this host as systemd services from a built checkout
# (`npm ci && npm run build`), for hosts without dpkg; on Debian, install the
# package instead (`npm run package`, see README). Re-running upgrades the code, the
# units and the host configuration, and leaves configuration, state,
# certificates, guest accounts and users as they are.
#
# Layout: the compiled JavaScript (dist/) is copied to /usr/lib/turnpike
# (root-owned, read-only to the services) with package.json and node_modules and
# run by plain `node`, as the Debian package lays it out. Configuration /etc/turnpike (0750 root:turnpike), state
# /var/lib/turnpike (0700 turnpike), guest homes and FTP roots /srv/turnpike.
#
# TURNPIKE_BUILD names the compiled tree (default dist/). The TURNPIKE_* variables below move every path and name; they exist so that
# systemd/units.test.ts can install into a scratch tree and remove it again.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${TURNPIKE_BUILD:-$SRC/dist}"
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
RUN_INIT="${TURNPIKE_RUN_INIT:-1}"
NODE="${TURNPIKE_NODE:-/usr/bin/node}"

say() { printf 'turnpike install: %s\n' "$*"; }
die() { printf 'turnpike install: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root"
[ -x "$NODE" ] || die "$NODE is missing (Node.js 20 or later)"
[ -d "$SRC/node_modules" ] || die "run 'npm ci' in $SRC first"
[ -f "$BUILD/appliance/cli/turnpike.js" ] || die "run 'npm run build' in $SRC first"

# Rewrites the default paths and names in a shipped file to the ones chosen above.
render() {
  sed -e "s#/usr/lib/turnpike#${PREFIX}#g" \
    -e "s#/etc/turnpike#${ETC_DIR}#g" \
    -e "s#/var/lib/turnpike#${STATE_DIR}#g" \
    -e "s#/srv/turnpike#${SRV_DIR}#g" \
    -e "s#/etc/ssh/turnpike-authorized-keys#${KEYS_DIR}#g" \
    -e "s#turnpike-guests#${GUEST_GROUP}#g" \
    -e "s#turnpike-ssh\b#${SSH_GROUP}#g" \
    -e "s#^User=turnpike\$#User=${SVC_USER}#" \
    -e "s#^Group=turnpike\$#Group=${SVC_USER}#" \
    "$1"
}

# --- users and groups -------------------------------------------------------
getent group "$SVC_USER" >/dev/null || groupadd --system "$SVC_USER"
if ! getent passwd "$SVC_USER" >/dev/null; then
  useradd --system --gid "$SVC_USER" --home-dir "$STATE_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "Turnpike appliance" "$SVC_USER"
fi
getent group "$GUEST_GROUP" >/dev/null || groupadd --system "$GUEST_GROUP"
getent group "$SSH_GROUP" >/dev/null || groupadd --system "$SSH_GROUP"

# --- directories ------------------------------------------------------------
install -d -m 0750 -o root -g "$SVC_USER" "$ETC_DIR"
install -d -m 0700 -o "$SVC_USER" -g "$SVC_USER" "$STATE_DIR"
install -d -m 0755 -o root -g root "$SRV_DIR" "$SRV_DIR/ftp" "$KEYS_DIR"
install -d -m 0711 -o root -g root "$SRV_DIR/home"
install -d -m 0755 -o root -g root "$ETC_DIR/vsftpd" "$ETC_DIR/vsftpd/users"
if [ ! -e "$ETC_DIR/vsftpd/user_list" ]; then
  install -m 0644 -o root -g root /dev/null "$ETC_DIR/vsftpd/user_list"
fi

# --- code -------------------------------------------------------------------
if [ "$SRC" != "$PREFIX" ]; then
  staging="${PREFIX}.new"
  rm -rf "$staging"
  install -d -m 0755 "$staging"
  cp -a "$BUILD/." "$staging/"
  for item in package.json package-lock.json node_modules; do
    if [ -e "$SRC/$item" ]; then cp -a "$SRC/$item" "$staging/"; fi
  done
  chown -R root:root "$staging"
  chmod -R go-w "$staging"
  rm -rf "${PREFIX}.old"
  if [ -e "$PREFIX" ]; then mv "$PREFIX" "${PREFIX}.old"; fi
  mv "$staging" "$PREFIX"
  rm -rf "${PREFIX}.old"
  say "code installed in $PREFIX"
fi

# --- host configuration for guest accounts ----------------------------------
render "$SRC/systemd/host/vsftpd-turnpike.conf" >"$ETC_DIR/vsftpd/vsftpd.conf"
chmod 0644 "$ETC_DIR/vsftpd/vsftpd.conf"
install -d -m 0755 "$PAM_DIR"
render "$SRC/systemd/host/pam-turnpike-vsftpd" >"$PAM_DIR/turnpike-vsftpd"
chmod 0644 "$PAM_DIR/turnpike-vsftpd"
if [ -d "$SSHD_DIR" ]; then
  render "$SRC/systemd/host/sshd-turnpike.conf" >"$SSHD_DIR/turnpike.conf"
  chmod 0644 "$SSHD_DIR/turnpike.conf"
  # A drop-in sshd refuses would lock everyone out at the next reload: take it back.
  if [ "$SSHD_DIR" = /etc/ssh/sshd_config.d ] && command -v sshd >/dev/null && ! sshd -t; then
    rm -f "$SSHD_DIR/turnpike.conf"
    die "sshd rejected $SSHD_DIR/turnpike.conf; removed it again"
  fi
fi
if [ ! -e "$ETC_DIR/provisioner.env" ]; then
  cat >"$ETC_DIR/provisioner.env" <<'ENV'
# Arguments for turnpike-provisioner (see provisioner/cli-options.ts). For gateway
# mode use: --driver nftables --lan-if IFACE --portal-ip IP --portal-port 80
PROVISIONER_ARGS=--listen 127.0.0.1:50051 --driver memory --accounts host
ENV
  chmod 0640 "$ETC_DIR/provisioner.env"
fi
if [ ! -e "$ETC_DIR/telemetry.env" ]; then
  install -m 0640 "$SRC/packaging/debian/telemetry.env" "$ETC_DIR/telemetry.env"
fi

# --- configuration, secrets and certificates --------------------------------
if [ "$RUN_INIT" = 1 ] && [ ! -e "$ETC_DIR/turnpike.json" ]; then
  (cd "$PREFIX" && "$NODE" appliance/cli/turnpike.js --config "$ETC_DIR/turnpike.json" init --data-dir "$STATE_DIR")
  chown root:"$SVC_USER" "$ETC_DIR/turnpike.json"
  chmod 0640 "$ETC_DIR/turnpike.json"
  chown -R "$SVC_USER:$SVC_USER" "$STATE_DIR"
fi

# --- units ------------------------------------------------------------------
install -d -m 0755 "$UNIT_DIR"
for unit in turnpike.service turnpike-provisioner.service turnpike-ftp.service; do
  render "$SRC/systemd/$unit" >"$UNIT_DIR/$unit"
  chmod 0644 "$UNIT_DIR/$unit"
done
if [ -d /run/systemd/system ] && [ "$UNIT_DIR" = /etc/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable turnpike-provisioner.service turnpike.service
  if [ -x /usr/sbin/vsftpd ]; then systemctl enable turnpike-ftp.service; fi
  if systemctl is-active --quiet ssh.service; then systemctl reload ssh.service; fi
  say "units enabled; start them with: systemctl start turnpike-provisioner turnpike"
else
  say "units written to $UNIT_DIR (systemd is not running here; nothing enabled)"
fi
