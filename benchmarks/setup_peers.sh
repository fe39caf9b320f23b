#!/usr/bin/env bash
# Creates benchmarks/.venv-peers: the interpreter pipeline_bench.py runs the peer
# frameworks' apps with (Quix Streams and Bytewax pin their own confluent-kafka, so
# they don't share luong's .venv). Pinned to the newest releases that install on
# Python 3.11 here (quixstreams 3.28.1 pins confluent-kafka <2.13, which resolves to
# 2.12.2; bytewax[kafka] accepts it); re-running is cheap (pip skips what is there).
#
#     bash benchmarks/setup_peers.sh [PYTHON]      # PYTHON defaults to python3.11
set -euo pipefail

QUIXSTREAMS_VERSION=3.28.1
BYTEWAX_VERSION=0.21.1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-peers"
python="${1:-python3.11}"

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet \
    "quixstreams==$QUIXSTREAMS_VERSION" \
    "bytewax[kafka]==$BYTEWAX_VERSION"
"$venv/bin/python" - <<'PY'
from importlib.metadata import version

for name in ("quixstreams", "bytewax", "confluent-kafka"):
    print(f"{name}=={version(name)}")
PY
