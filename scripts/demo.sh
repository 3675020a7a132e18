#!/usr/bin/env bash
# The newcomer's one command: install what msta-edge needs on Debian 12, build it, run the demo.
# The demo loops a synthetic action video through the whole pipeline with the small test model,
# starts an embedded MQTT broker on 127.0.0.1 and prints events as they happen.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-debian-deps.sh
command -v node >/dev/null || { echo "Node.js 20 or newer is needed (https://nodejs.org or Debian's nodejs)"; exit 1; }
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
npm run build
exec bin/msta-edge run "$@"
