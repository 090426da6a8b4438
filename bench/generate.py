"""Generate a profile tree for the benchmarks: N models, each with its own take on K of M
request overlays.

The files look like real profiles: load and inference blocks, comments, snake_case and
camelCase keys, ``!append``/``!replace``/``!reset`` tags, embedding models (every 25th),
``deploy: false`` models (every 10th) and, in each LLM profile, ``requests.<name>``
overrides of K request kinds. The default, 500 models x 20 requests with 20 overrides each,
is 521 files and about 2.1 MB. Everything is deterministic: the same options write the same
bytes. Run::

    .venv/bin/python bench/generate.py DIR [--models 500] [--requests 20] [--overrides 20]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["write_tree"]

GLOBAL = """\
# yaml-language-server: $schema=../schema.json
# Defaults for every model on this host.
load:
  gpu:
    ratio: max
  flash_attention: true
  offloadKVCacheToGpu: true
  try_mmap: true
inference:
  temperature: 0.7
  top_p_sampling: 0.95
  maxTokens: 1024
  stopStrings: ["</s>"]
  context_overflow_policy: truncateMiddle
ttl: null
"""

REQUEST_KINDS = (
    "description: Factual answers with little sampling noise.\n"
    "inference:\n  temperature: 0.{j}\n  top_k_sampling: {topk}\n  min_p_sampling: 0.1\n",
    "description: Brainstorming and free writing.\n"
    "inference:\n  temperature: 1.{j}\n  topPSampling: 0.98\n  repeat_penalty: 1.05\n"
    "  stop_strings: !append ['\\n\\nUser:']\n",
    "description: Pull fields out of text as JSON.\n"
    "inference:\n  temperature: 0\n  max_tokens: 512\n  structured: !replace\n"
    "    type: json\n    jsonSchema:\n      type: object\n      properties:\n"
    "        name: {{type: string}}\n        email: {{type: string}}\n"
    "      required: [name]\n      additionalProperties: false\n",
    "description: Long answers without a token limit.\n"
    "inference:\n  maxTokens: false\n  cpu_threads: {threads}\n  temperature: !reset\n",
)

LLM = """\
# yaml-language-server: $schema=../../schema.json
# Model {i}: a chat model with its own take on the request kinds.
model: vendor/model-{i}-8b
ttl: {ttl}
deploy: {deploy}
load:
  context_length: {ctx}
  evalBatchSize: {batch}
  gpu:
    ratio: {ratio}
    split_strategy: favorMainGpu
    mainGpu: 0
  seed: {seed}
  llama_k_cache_quantization_type: q8_0
  llamaVCacheQuantizationType: q8_0   # needs flash attention (global.yaml)
inference:
  temperature: 0.{t}
  top_k_sampling: 40
  stop_strings: !append ["<|im_end|>"]
"""

OVERRIDES = (
    "  r{r:02d}:  # a cooler take on r{r:02d}: less sampling noise, more stop strings\n"
    "    inference:\n      temperature: 0.{t}\n"
    "      top_k_sampling: {topk}\n      stopStrings: !append ['###', '<|end|>']\n",
    "  r{r:02d}:  # shorter answers on fewer threads, with a mild repeat penalty\n"
    "    inference:\n      max_tokens: {tokens}\n      min_p_sampling: 0.0{t}\n"
    "      repeatPenalty: 1.1\n      cpu_threads: {threads}\n",
    "  r{r:02d}:  # nucleus sampling, the default temperature, a rolling window\n"
    "    inference:\n      top_p_sampling: 0.9{t}\n      temperature: !reset\n"
    "      context_overflow_policy: rollingWindow\n      stop_strings: !replace ['\\n\\n']\n",
)

EMBEDDING = """\
# yaml-language-server: $schema=../../schema.json
# Embedding model {i} for retrieval.
model: vendor/embed-{i}
type: embedding
load:
  context_length: {ctx}
  keep_model_in_memory: true
"""


def _llm(i: int, requests: int, overrides: int) -> str:
    text = LLM.format(
        i=i,
        ttl="null" if i % 3 else 600 + i,
        deploy="false" if i % 10 == 9 else "true",
        ctx=2048 * (1 + i % 16),
        batch=256 * (1 + i % 4),
        ratio="max" if i % 2 else round(0.5 + (i % 5) / 10, 1),
        seed="false" if i % 4 else i,
        t=i % 10,
    )
    own = min(overrides, requests)
    if own:
        text += "requests:\n"
        for n in range(own):
            r = (i + n) % requests
            text += OVERRIDES[(i + n) % len(OVERRIDES)].format(
                r=r, t=(i + n) % 10, topk=10 + (i + n) % 90, tokens=128 * (1 + n % 8),
                threads=1 + n % 8,
            )  # fmt: skip
    return text


def write_tree(root: Path, models: int, requests: int, overrides: int | None = None) -> list[Path]:
    """Write the tree under ``root`` (created); return every file written.

    ``overrides`` is how many request kinds each LLM profile overrides (default: all).
    """
    own = requests if overrides is None else overrides
    (root / "models").mkdir(parents=True)
    (root / "requests").mkdir()
    files = [root / "global.yaml"]
    files[0].write_text(GLOBAL, encoding="utf-8")
    for j in range(requests):
        kind = REQUEST_KINDS[j % len(REQUEST_KINDS)]
        files.append(root / "requests" / f"r{j:02d}.yaml")
        files[-1].write_text(
            kind.format(j=j % 10, topk=20 + j, threads=4 + j % 4), encoding="utf-8"
        )
    for i in range(models):
        path = root / "models" / f"m{i:05d}.yaml"
        if i % 25 == 24:
            text = EMBEDDING.format(i=i, ctx=512 * (1 + i % 4))
        else:
            text = _llm(i, requests, own)
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """Write a tree into an empty or new directory and say what was written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("directory", type=Path, help="where to write (must not exist)")
    parser.add_argument("--models", type=int, default=500, help="model profiles (default 500)")
    parser.add_argument("--requests", type=int, default=20, help="request overlays (default 20)")
    parser.add_argument(
        "--overrides",
        type=int,
        default=None,
        help="request kinds each LLM profile overrides (default: all of them)",
    )
    args = parser.parse_args(argv)
    if args.directory.exists():
        parser.error(f"{args.directory} exists; give a new directory")
    files = write_tree(args.directory, args.models, args.requests, args.overrides)
    size = sum(file.stat().st_size for file in files)
    print(f"wrote {len(files)} files ({size / 1e6:.1f} MB) in {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
