#!/usr/bin/env bash
# `npm run package`: builds dist/turnpike_<version>_all.deb with dpkg-deb.
#   /usr/lib/turnpike        compiled JavaScript, run-time files, production node_modules
#   /usr/bin/turnpike        the CLI
#   /lib/systemd/system      turnpike, turnpike-provisioner, turnpike-ftp units
#   /etc/turnpike, /etc/pam.d, /etc/ssh/sshd_config.d   conffiles
#   /var/lib/turnpike        state (created by postinst, removed on purge)
#   /usr/share/turnpike/observability   Grafana dashboard, Prometheus rules, scrape example
# TURNPIKE_VERSION overrides the version from package.json; TURNPIKE_DEB_OUT the
# output directory; TURNPIKE_BUILD_DIR a compiled tree to package instead of
# compiling one (the upgrade test packages a changed copy).
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$SRC/packaging/debian"
VERSION="${TURNPIKE_VERSION:-$(node -p "require('$SRC/package.json').version")}"
OUT="${TURNPIKE_DEB_OUT:-$SRC/dist}"
DEB="$OUT/turnpike_${VERSION}_all.deb"

say() { printf 'package: %s\n' "$*"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/turnpike-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
lib="$root/usr/lib/turnpike"
install -d -m 0755 "$lib" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/doc/turnpike" \
  "$root/usr/share/lintian/overrides" "$root/etc/turnpike/vsftpd" "$root/etc/pam.d" \
  "$root/etc/ssh/sshd_config.d" "$root/DEBIAN"

# --- code: compiled JavaScript and production dependencies only ---------------
if [ -n "${TURNPIKE_BUILD_DIR:-}" ]; then
  cp -a "$TURNPIKE_BUILD_DIR/." "$lib/"
else
  node "$SRC/scripts/build.js" --out "$lib"
fi
cp "$SRC/package.json" "$SRC/package-lock.json" "$lib/"
(cd "$lib" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
node -e "
  const fs = require('node:fs');
  const p = JSON.parse(fs.readFileSync('$lib/package.json', 'utf8'));
  // Only what node needs at run time: the module type and the installed dependencies.
  const slim = { name: p.name, version: '$VERSION', type: p.type, private: true, dependencies: p.dependencies };
  fs.writeFileSync('$lib/package.json', JSON.stringify(slim, null, 2) + '\n');
"
rm -f "$lib/package-lock.json" "$lib/node_modules/.package-lock.json"
# Dependencies ship what runs and their licences; their own tooling and
# development files stay out (lintian: vcs, npm and eslint control files).
find "$lib/node_modules" -type f \( -name '*.map' -o -name '.npmignore' -o -name '.git*' -o -name '.eslintrc*' \
  -o -name 'eslint.config.*' -o -name '.travis.yml' -o -name '.editorconfig' -o -name '.prettierrc*' \) -delete
find "$lib/node_modules" -depth -type d \( -name test -o -name tests -o -name .github \) -exec rm -rf {} +
# Executable bits only on files that start with #!: npm leaves stray ones.
find "$lib" -type f -perm /111 -exec sh -c 'for f; do [ "$(head -c2 "$f")" = "#!" ] || chmod a-x "$f"; done' sh {} +
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod u+rw,go+r,go-w {} +

# --- CLI, units, configuration, documentation ---------------------------------
install -m 0755 "$HERE/turnpike" "$root/usr/bin/turnpike"
chmod 0755 "$lib/appliance/cli/turnpike.js"
install -d -m 0755 "$root/usr/share/man/man1"
gzip -9n <"$HERE/turnpike.1" >"$root/usr/share/man/man1/turnpike.1.gz"
chmod 0644 "$root/usr/share/man/man1/turnpike.1.gz"
for unit in turnpike.service turnpike-provisioner.service turnpike-ftp.service; do
  install -m 0644 "$SRC/systemd/$unit" "$root/lib/systemd/system/$unit"
done
install -m 0644 "$HERE/provisioner.env" "$root/etc/turnpike/provisioner.env"
install -m 0644 "$HERE/telemetry.env" "$root/etc/turnpike/telemetry.env"
install -m 0644 "$SRC/systemd/host/vsftpd-turnpike.conf" "$root/etc/turnpike/vsftpd/vsftpd.conf"
install -m 0644 "$SRC/systemd/host/pam-turnpike-vsftpd" "$root/etc/pam.d/turnpike-vsftpd"
install -m 0644 "$SRC/systemd/host/sshd-turnpike.conf" "$root/etc/ssh/sshd_config.d/turnpike.conf"
install -m 0644 "$HERE/copyright" "$root/usr/share/doc/turnpike/copyright"
install -m 0644 "$SRC/systemd/README.md" "$root/usr/share/doc/turnpike/systemd.md"
sed "s/@VERSION@/$VERSION/" "$HERE/changelog" | gzip -9n >"$root/usr/share/doc/turnpike/changelog.gz"
chmod 0644 "$root/usr/share/doc/turnpike/changelog.gz"
install -m 0644 "$HERE/lintian-overrides" "$root/usr/share/lintian/overrides/turnpike"
# Grafana dashboard, Prometheus rules and scrape example, with the README that says how
# to use them; not under /usr/share/doc, which minimal installs leave out.
(cd "$SRC/observability" && find . -type f ! -name '*.test.*' -printf '%P\n') | while read -r file; do
  install -D -m 0644 "$SRC/observability/$file" "$root/usr/share/turnpike/observability/$file"
done
find "$root/usr/share/turnpike" -type d -exec chmod 0755 {} +

# --- control ------------------------------------------------------------------
installed_size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$installed_size/" "$HERE/control.in" >"$root/DEBIAN/control"
install -m 0644 "$HERE/conffiles" "$root/DEBIAN/conffiles"
for script in preinst postinst prerm postrm; do install -m 0755 "$HERE/$script" "$root/DEBIAN/$script"; done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

mkdir -p "$OUT"
dpkg-deb --root-owner-group -Zxz --build "$root" "$DEB" >/dev/null
say "$DEB ($(du -h "$DEB" | cut -f1), installed ${installed_size} KiB)"
