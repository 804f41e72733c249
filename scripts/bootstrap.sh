# Sourced by scripts/dev and scripts/test: a project virtualenv with every
# pinned dependency, (re)installed only when pyproject.toml changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "Python 3.11 or newer is needed (found $("$python" --version 2>&1)); set PYTHON=..." >&2
    exit 1
}
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "Installing dependencies into .venv (once per pyproject.toml change)..." >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
    rm -f .venv/.installed-* && touch "$stamp"
fi
# The dashboard's browser tests drive Debian's Chromium (and need a CJK font for its
# screenshots): installed once, when missing, if we are root on a system with apt-get.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ]; then
    echo "Installing Chromium for the dashboard's browser tests (once)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
export PATH="$root/.venv/bin:$PATH"
