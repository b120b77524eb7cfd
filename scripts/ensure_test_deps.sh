#!/usr/bin/env bash
# What the test suite needs besides Python packages: PostgreSQL and Redis answering on their
# standard ports, Debian's chromium for the browser tests, perl (with prove) and node for the SMS
# reference adapters' tests and conformance suite, and SoX (with MP3) and eSpeak NG for sound files. Starts or installs what is missing (installing
# needs root, as on CI); says clearly what it could not do.
set -uo pipefail

have_pg() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
have_redis() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "ensure_test_deps: need root to install $*" >&2; return 1; fi
  # Another apt/dpkg process (unattended-upgrades, a parallel job) may hold the lock: wait for it
  # (up to 10 minutes) instead of failing the run.
  local wait_lock=(-o DPkg::Lock::Timeout=600)
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get "${wait_lock[@]}" update -qq >/dev/null && _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get "${wait_lock[@]}" install -y -qq "$@" >/dev/null
}

if ! have_pg; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql || true; fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start 2>/dev/null || true
  for _ in $(seq 1 30); do have_pg && break; sleep 0.5; done
  have_pg || { echo "ensure_test_deps: PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
fi

if ! have_redis; then
  command -v redis-server >/dev/null || apt_install redis-server || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 30); do have_redis && break; sleep 0.2; done
  have_redis || { echo "ensure_test_deps: Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }
fi

if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium || { echo "ensure_test_deps: cannot install chromium (browser tests need /usr/bin/chromium)" >&2; exit 1; }
fi
# The SMS adapters need nothing beyond these: Perl core modules (HTTP::Tiny, JSON::PP, Digest::SHA in
# Debian's perl) and Node's standard library (adapters/sms/node/package.json has no dependencies).
if ! command -v perl >/dev/null || ! command -v prove >/dev/null || ! perl -MHTTP::Tiny -MJSON::PP -MDigest::SHA -e1 2>/dev/null; then
  apt_install perl || { echo "ensure_test_deps: cannot install perl (SMS adapter tests need it)" >&2; exit 1; }
fi
if ! command -v node >/dev/null; then
  apt_install nodejs || { echo "ensure_test_deps: cannot install nodejs (SMS adapter tests need it)" >&2; exit 1; }
fi
# Sound files (apps.sounds, docs/sounds.md): SoX reads WAV/MP3/OGG and converts, eSpeak NG speaks.
if ! command -v sox >/dev/null || ! command -v espeak-ng >/dev/null \
    || ! sox -h 2>/dev/null | grep -i "AUDIO FILE FORMATS" | grep -qw mp3; then
  apt_install sox libsox-fmt-mp3 espeak-ng \
    || { echo "ensure_test_deps: cannot install sox, libsox-fmt-mp3 and espeak-ng (sound tests need them)" >&2; exit 1; }
fi
exit 0
