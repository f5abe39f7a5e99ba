#!/usr/bin/env python3
"""Regenerate the llama.cpp reference logits and greedy continuations used by the engine tests.

Runs each real model through llama-cpp-python (the development venv, see scripts/dev_venv.sh) with
an f32 KV cache and writes tests/golden/logits_<model>.json:
  - teacher-forced next-token logits over the first N tokens of data/opticks_opening.txt: per
    position the top-1 id, the top-8 ids with their logits, and the logits of 32 fixed ids;
  - greedy continuations of 64 tokens for 5 prompts, with the top-2 logit margin at each step so
    that a divergence can be checked against a near tie.
  - llama.cpp's agreement with itself when only its attention kernel changes (flash attention on
    instead of off): top-1 agreement and logit differences over the same tokens. These small models
    amplify rounding, so this is the noise floor any other implementation is compared against.
Token ids come from llama.cpp's tokenizer, so these tests do not depend on ours.
Usage: make_logits_golden.py [MODEL...] [--self-agreement-only]
"""
import json
import pathlib
import sys

import llama_cpp
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = {
    "gemma3": ROOT / "models/gemma-3-270m-q4_k_m.gguf",
    "smollm2": ROOT / "models/SmolLM2-135M-Instruct.Q4_1.gguf",
}
N_TEACHER = 600
N_GREEDY = 64
PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Once upon a time, in a small village by the sea, there lived",
    "List three properties of light:\n1.",
    "Water boils at 100 degrees Celsius. At high altitude, water boils at",
]
FIXED_IDS_SEED = 1234


def load(path, logits_all, n_ctx=1024, flash_attn=False):
    return llama_cpp.Llama(
        model_path=str(path), n_ctx=n_ctx, n_batch=512, n_threads=2, logits_all=logits_all,
        type_k=0, type_v=0, flash_attn=flash_attn, verbose=False)


def all_logits(path, ids, flash_attn):
    llm = load(path, logits_all=True, flash_attn=flash_attn)
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float32)


def self_agreement(path, ids):
    plain = all_logits(path, ids, flash_attn=False)
    flash = all_logits(path, ids, flash_attn=True)
    row_max = np.abs(plain - flash).max(axis=1)
    return {
        "variant": "flash attention on vs off, f32 KV cache",
        "top1_agreement": float((plain.argmax(1) == flash.argmax(1)).mean()),
        "max_abs_logit_diff": float(row_max.max()),
        "mean_row_max_abs_logit_diff": float(row_max.mean()),
    }


def teacher_forced(path, text):
    llm = load(path, logits_all=True)
    ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)[:N_TEACHER]
    llm.eval(ids)
    scores = np.array(llm.scores[: len(ids)], dtype=np.float32)
    rng = np.random.default_rng(FIXED_IDS_SEED)
    fixed = sorted(int(i) for i in rng.choice(scores.shape[1], 32, replace=False))
    positions = []
    for row in scores:
        top = np.argsort(-row, kind="stable")[:8]
        positions.append({
            "top_ids": [int(i) for i in top],
            "top_logits": [float(row[i]) for i in top],
            "fixed_logits": [float(row[i]) for i in fixed],
        })
    return {"ids": [int(i) for i in ids], "fixed_ids": fixed, "positions": positions}


def greedy(path):
    # logits_all keeps every row in llm.scores, which is where the last row is read from.
    llm = load(path, logits_all=True, n_ctx=256)
    runs = []
    for prompt in PROMPTS:
        llm.reset()
        ids = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        llm.eval(ids)
        out, margins = [], []
        for _ in range(N_GREEDY):
            row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            top2 = np.argsort(-row, kind="stable")[:2]
            out.append(int(top2[0]))
            margins.append(float(row[top2[0]] - row[top2[1]]))
            llm.eval([int(top2[0])])
        runs.append({"prompt": prompt, "prompt_ids": [int(i) for i in ids], "generated": out, "margins": margins})
    return runs


def main():
    text = (ROOT / "data/opticks_opening.txt").read_text(encoding="utf-8")
    only_self = "--self-agreement-only" in sys.argv
    names = [a for a in sys.argv[1:] if not a.startswith("--")] or list(MODELS)
    for name in names:
        path = MODELS[name]
        out = ROOT / f"tests/golden/logits_{name}.json"
        if only_self:
            golden = json.loads(out.read_text())
            golden["llama_cpp_self_agreement"] = self_agreement(path, golden["teacher_forced"]["ids"])
            out.write_text(json.dumps(golden, separators=(",", ":")))
            print(f"updated {out}: {golden['llama_cpp_self_agreement']}")
            continue
        golden = {
            "model": path.name,
            "reference": f"llama-cpp-python {llama_cpp.__version__}, f32 KV cache, 2 threads",
            "teacher_forced": teacher_forced(path, text),
            "greedy": greedy(path),
        }
        golden["llama_cpp_self_agreement"] = self_agreement(path, golden["teacher_forced"]["ids"])
        out.write_text(json.dumps(golden, separators=(",", ":")))
        print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
