#!/usr/bin/env bash
# Installing the .deb over a swss container's C++ neighsyncd, and rolling back (docs/sonic.md):
# in a throwaway copy-on-write view of this machine's root (overlayfs in a private mount namespace),
# a stand-in `swss` package owns /usr/bin/neighsyncd; installing ours diverts it aside, `dpkg -r`
# brings it back. Nothing outside the overlay changes.
# Usage: Tests/package/install-rollback.sh path/to/neighsyncd_VERSION_ARCH.deb   (root)
set -uo pipefail
DEB=$(realpath "$1")
[ "$(id -u)" -eq 0 ] || { echo "FAIL install: needs root for mounts"; exit 1; }
DIR=$(mktemp -d /tmp/nsd-install-XXXXXX)
trap 'rm -rf "$DIR"' EXIT

# A stand-in for SONiC's swss package: it owns /usr/bin/neighsyncd, as the real one does.
mkdir -p "$DIR/swss/DEBIAN" "$DIR/swss/usr/bin"
printf '#!/bin/sh\necho "C++ neighsyncd"\n' > "$DIR/swss/usr/bin/neighsyncd"
chmod 755 "$DIR/swss/usr/bin/neighsyncd"
printf 'Package: swss\nVersion: 1.0.0\nArchitecture: all\nMaintainer: test <test@localhost>\nDescription: stand-in\n' \
  > "$DIR/swss/DEBIAN/control"
dpkg-deb --root-owner-group --build "$DIR/swss" "$DIR/swss.deb" >/dev/null || { echo "FAIL install: stand-in"; exit 1; }
cp "$DEB" "$DIR/neighsyncd.deb"

mkdir -p "$DIR/upper" "$DIR/work" "$DIR/root"
# shellcheck disable=SC2016  # expanded inside the chroot
unshare -m --propagation private sh -c '
  d=$0
  mount -t overlay overlay -o lowerdir=/,upperdir=$d/upper,workdir=$d/work $d/root || exit 1
  mount --bind /dev $d/root/dev && mount -t proc proc $d/root/proc || exit 1
  mkdir -p $d/root/tmp/debs && mount --bind $d $d/root/tmp/debs || exit 1
  exec chroot $d/root /bin/bash -s' "$DIR" <<'CHROOT'
fails=0
check() {
  local what=$1; shift
  if "$@" >/tmp/check.log 2>&1; then echo "ok   install: $what"
  else echo "FAIL install: $what"; sed 's/^/     | /' /tmp/check.log; fails=$((fails + 1)); fi
}
says() { [ "$("$1" --version 2>/dev/null)" = "$2" ]; }
dpkg -r neighsyncd >/dev/null 2>&1   # this machine's own install, if any, is not the test's
dpkg -i /tmp/debs/swss.deb >/dev/null || { echo "FAIL install: the stand-in swss"; exit 1; }
check "the stand-in swss owns /usr/bin/neighsyncd" says /usr/bin/neighsyncd "C++ neighsyncd"
version=$(dpkg-deb -f /tmp/debs/neighsyncd.deb Version)
check "dpkg -i installs over swss's binary" dpkg -i /tmp/debs/neighsyncd.deb
check "/usr/bin/neighsyncd is ours ($version)" says /usr/bin/neighsyncd "$version"
check "the C++ binary is kept as /usr/bin/neighsyncd.swss" says /usr/bin/neighsyncd.swss "C++ neighsyncd"
check "the supervisord entry is installed" test -s /usr/share/doc/neighsyncd/supervisord-neighsyncd.conf
check "reinstalling is fine" dpkg -i /tmp/debs/neighsyncd.deb
check "dpkg -r neighsyncd" dpkg -r neighsyncd
check "dpkg --purge neighsyncd after it" dpkg --purge neighsyncd
check "rollback: /usr/bin/neighsyncd is the C++ one again" says /usr/bin/neighsyncd "C++ neighsyncd"
check "rollback: no diversion left" test -z "$(dpkg-divert --list /usr/bin/neighsyncd)"
check "rollback: swss still owns it" dpkg -S /usr/bin/neighsyncd
exit $fails
CHROOT
rc=$?
[ "$rc" -eq 0 ] && echo "install: passed" || echo "install: $rc failed"
exit "$rc"
