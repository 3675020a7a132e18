#!/usr/bin/env bash
# Debian 12 packages msta-edge needs to run, train and test (run as root, or through sudo).
# GStreamer decodes the cameras; gst-rtsp-server, Mosquitto and Prometheus are real peers in tests;
# Chromium (driven by puppeteer-core) tests the console page; PyTorch and onnx come from Debian for training/ (use /usr/bin/python3, not a pyenv python).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp \
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev \
  gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-rtsp-server-1.0 python3-gi \
  mosquitto mosquitto-clients openssl prometheus systemd \
  python3-torch python3-onnx python3-numpy python3-pytest python3-tqdm python3-jinja2 libopenblas0-pthread \
  ffmpeg x264 chromium \
  make g++ python3 ca-certificates
