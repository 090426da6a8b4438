#!/usr/bin/env bash
# Bring up the team's models on the GPU box.
set -euo pipefail

lms server start --port 1234
lms load qwen/qwen3-8b --identifier chat --context-length 16384 --gpu max --ttl 3600 -y
~/.lmstudio/bin/lms load qwen/qwen2.5-coder-14b \
    -c 32768 --gpu 0.75 --parallel 4 --exact
lms load text-embedding-nomic-embed-text-v1.5 --gpu off   # embeddings stay on the CPU
lms load google/gemma-3-1b --estimate-only                # only checks that it would fit
echo "models are up"
