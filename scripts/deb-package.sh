#!/usr/bin/env bash
# Builds the Debian package (debian/) the way a packager does, with g++ and Debian's build flags and without
# warnings-as-errors, checks it with lintian (errors fail, warnings are printed), installs it, runs it, checks the
# files it ships, and purges it again, so the machine is left as it was.
#
# The build runs in a temp copy of the tree: dpkg-buildpackage writes its .deb, .buildinfo and .changes next to the
# source directory (..), and debian/ fills with build products.
# Usage: scripts/deb-package.sh    (as root, or a user with sudo; run by CI after scripts/install-deps.sh)
#   PGPULSE_DEB_BINARY_OUT=<path>   also copy the packaged /usr/bin/pgpulse there
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$PWD

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo=sudo; fi

# The packaging tools, if missing (the libraries' -dev packages come from scripts/install-deps.sh, and
# dpkg-checkbuilddeps below names any that are missing).
missing=()
for package in debhelper lintian dpkg-dev; do
  if [[ $(dpkg-query -W -f='${Status}' "$package" 2>/dev/null) != "install ok installed" ]]; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "deb-package: installing ${missing[*]}"
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if dpkg-query -W -f='${Status}' pgpulse 2>/dev/null | grep -q "install ok installed"; then
  echo "deb-package: a pgpulse package is already installed; refusing to replace and purge it" >&2
  exit 1
fi

root=$(mktemp -d)
installed=""
cleanup() {
  if [[ -n $installed ]]; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q pgpulse >/dev/null || true
  fi
  rm -rf "$root"
}
trap cleanup EXIT

# The tracked files and the untracked ones not ignored (a working tree's edits included), not build dirs.
mkdir "$root/pgpulse"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
  [[ -e $file || -L $file ]] && printf '%s\0' "$file"
done | tar -c --null -T - | tar -x -C "$root/pgpulse"

echo "deb-package: dpkg-buildpackage -b -us -uc"
(
  cd "$root/pgpulse"
  dpkg-checkbuilddeps
  DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" dpkg-buildpackage -b -us -uc >"$root/build.log" 2>&1
) || {
  tail -60 "$root/build.log"
  exit 1
}
debs=("$root"/pgpulse_*.deb)
dpkg-deb --info "${debs[0]}" | sed -n '/Package:/,$p'
# A copy of the packaged binary for the caller: CI's test build is sanitized, and it runs the tests that bound
# pgpulse's memory and latency again on this one.
if [[ -n ${PGPULSE_DEB_BINARY_OUT:-} ]]; then
  dpkg-deb --fsys-tarfile "${debs[0]}" | tar -xO ./usr/bin/pgpulse >"$PGPULSE_DEB_BINARY_OUT"
  chmod 755 "$PGPULSE_DEB_BINARY_OUT"
fi

echo "deb-package: lintian"
lintian_output=$(lintian --fail-on error --tag-display-limit 0 "$root"/pgpulse_*.changes 2>&1) || {
  echo "$lintian_output"
  echo "deb-package: lintian reports errors" >&2
  exit 1
}
if [[ -n $lintian_output ]]; then echo "$lintian_output"; fi

echo "deb-package: install, run, purge"
installed=yes
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${debs[0]}" >"$root/install.log" 2>&1 || {
  cat "$root/install.log"
  exit 1
}
/usr/bin/pgpulse --version
for path in /usr/bin/pgpulse /lib/systemd/system/pgpulse.service /etc/default/pgpulse \
  /usr/share/doc/pgpulse/examples/pgpulse.yml /usr/share/pgpulse/alerts/thresholds.yml \
  /usr/share/pgpulse/alerts/runbooks; do
  [[ -e $path ]] || {
    echo "deb-package: the package does not install $path" >&2
    exit 1
  }
done
for dir in dashboards alerts; do
  expected=$(cd "$source_dir/$dir" && shopt -s nullglob && printf '%s\n' *.json *.yml)
  shipped=$(cd "/usr/share/pgpulse/$dir" && shopt -s nullglob && printf '%s\n' *.json *.yml)
  [[ $expected == "$shipped" ]] || {
    echo "deb-package: /usr/share/pgpulse/$dir differs from $dir/:" >&2
    diff <(echo "$expected") <(echo "$shipped") >&2
    exit 1
  }
done
grep -qx 'ExecStart=/usr/bin/pgpulse .*' /lib/systemd/system/pgpulse.service || {
  echo "deb-package: the installed unit does not run /usr/bin/pgpulse" >&2
  exit 1
}

$sudo env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q pgpulse >/dev/null
installed=""
if [[ -e /usr/bin/pgpulse || -e /lib/systemd/system/pgpulse.service || -e /usr/share/pgpulse ]]; then
  echo "deb-package: purge left files behind" >&2
  exit 1
fi
echo "deb-package: ok"
