#!/usr/bin/env python3
"""Kept indices of kvpress's SnapKV, StreamingLLM and PyramidKV on SmolLM2 for a fixed prompt.

The C++ test tests/eviction_kvpress_test.cpp runs our policies on the same token ids with the
same settings and reports how much the kept sets overlap per layer and KV head.

kvpress is configured like our policies where it can be: observation window 32, pooling kernel 7,
a budget of exactly `budget` entries per KV head (its compression ratio is chosen so that its
int(n * (1 - ratio)) equals the budget), 4 sinks. Its SnapKV and PyramidKV pool with an average
(avg_pool1d); ours is run with --pooling avg for the comparison. Its PyramidKV spreads the budget
with its own formula (per-layer budgets averaging B, the top layer B/beta), ours as the window
plus a pyramid of B - window; beta = 2 keeps kvpress from falling back to
uniform budgets on this short prompt, and the per-layer budgets of both are stored.

Kept indices are recovered without touching kvpress's internals: every key kvpress keeps is a row
of the uncompressed cache, found by exact equality (a prefill with a press computes every layer's
attention on the full prompt and compresses only the stored cache).

Run in the development environment (scripts/dev_venv.sh, plus `pip install kvpress transformers torch`):
  .venv-dev/bin/python scripts/golden/make_kvpress_golden.py
"""
import argparse
import json
import os
import sys

os.environ.setdefault("TQDM_DISABLE", "1")  # keep the log readable: no progress bars

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache

from kvpress import PyramidKVPress, SnapKVPress, StreamingLLMPress

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def layer_keys(cache, n_layer):
    if hasattr(cache, "layers"):
        return [cache.layers[i].keys[0] for i in range(n_layer)]
    return [cache.key_cache[i][0] for i in range(n_layer)]


def prefill(model, ids, press=None):
    cache = DynamicCache()
    with torch.no_grad():
        if press is None:
            model(ids, past_key_values=cache, use_cache=True)
        else:
            with press(model):
                model(ids, past_key_values=cache, use_cache=True)
    return layer_keys(cache, model.config.num_hidden_layers)


def kept_indices(full, kept):
    """Rows of `full` ([n_kv, n, d]) that `kept` ([n_kv, b, d]) holds, per KV head, sorted."""
    out = []
    for h in range(full.shape[0]):
        eq = (kept[h][:, None, :] == full[h][None, :, :]).all(dim=-1)  # [b, n]
        idx = sorted(int(eq[i].nonzero()[0, 0]) for i in range(eq.shape[0]))
        if len(set(idx)) != len(idx):
            raise SystemExit("two kept keys matched the same cache row; cannot recover indices")
        out.append(idx)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models"))
    ap.add_argument("--gguf", default="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--text", default=os.path.join(ROOT, "data", "opticks_opening.txt"))
    ap.add_argument("--tokens", type=int, default=400)
    ap.add_argument("--budget", type=int, default=128)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "kvpress_smollm2.json"))
    args = ap.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(args.model_dir, gguf_file=args.gguf)
    model = AutoModelForCausalLM.from_pretrained(args.model_dir, gguf_file=args.gguf, torch_dtype=torch.float32)
    model.eval()
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    ids = tok(text, return_tensors="pt").input_ids[:, : args.tokens]
    n = ids.shape[1]
    ratio = 1.0 - (args.budget + 0.5) / n  # int(n * (1 - ratio)) == budget

    full = prefill(model, ids)
    presses = {
        "snapkv": (SnapKVPress(compression_ratio=ratio, window_size=32, kernel_size=7),
                   {"window": 32, "kernel": 7, "pooling": "avg"}),
        "streamingllm": (StreamingLLMPress(compression_ratio=ratio, n_sink=4), {"sinks": 4}),
        "pyramidkv": (PyramidKVPress(compression_ratio=ratio, window_size=32, kernel_size=7, beta=2),
                      {"window": 32, "kernel": 7, "pooling": "avg", "beta": 2}),
    }
    golden = {
        "model": args.gguf,
        "generator": "scripts/golden/make_kvpress_golden.py",
        "kvpress_version": __import__("kvpress").__version__ if hasattr(__import__("kvpress"), "__version__") else "",
        "transformers_version": __import__("transformers").__version__,
        "ids": ids[0].tolist(),
        "budget": args.budget,
        "policies": {},
    }
    for name, (press, params) in presses.items():
        kept = prefill(model, ids, press)
        layers = [kept_indices(full[l], kept[l]) for l in range(len(full))]
        golden["policies"][name] = {"params": params, "kept": layers,
                                    "layer_budgets": [len(l[0]) for l in layers]}
        print(f"{name}: per-layer budgets {golden['policies'][name]['layer_budgets']}", file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"wrote {args.out}: {n} tokens, budget {args.budget}", file=sys.stderr)


if __name__ == "__main__":
    main()
