# Helpers shared by the set-up scripts (sourced after MLGYM_HOME is set; LOG_TAG names the script).
log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# apt_install [apt-get options] PACKAGE...: Debian only; `apt-get update` once per script; output to apt.log.
apt_updated=0
apt_install() {
  [ -r /etc/debian_version ] || return 1
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq >>"$MLGYM_HOME/apt.log" 2>&1 || return 1; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >>"$MLGYM_HOME/apt.log" 2>&1
}
