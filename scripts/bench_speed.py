#!/usr/bin/env python3
"""Prefill and decode speed of lookaheadkv next to llama.cpp, on the same GGUF and thread count.

Runs `lookaheadkv bench` and then llama.cpp (through llama-cpp-python from .venv-dev, see
scripts/dev_venv.sh) on the same prompt tokens: the bundled Opticks text repeated to each length.
Both use prefill chunks of 512 tokens and greedy decoding; llama.cpp keeps its default f16 KV
cache. Prints prefill tokens/s at each prompt length and decode tokens/s (after the prompt), as
the median and [min, max] of the repeats, and the ratio ours / llama.cpp of the medians.

Usage: .venv-dev/bin/python scripts/bench_speed.py [--models gemma3,smollm2] [--lengths 512,2048,8192]
                                                  [--repeat 3] [--threads 2] [--decode 64] [--json OUT]
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import time

import llama_cpp
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODELS = {
    "gemma3": ROOT / "models/gemma-3-270m-q4_k_m.gguf",
    "smollm2": ROOT / "models/SmolLM2-135M-Instruct.Q4_1.gguf",
}


def ours(model, lengths, repeat, threads, decode):
    cmd = [str(ROOT / "build/lookaheadkv"), "--log-level", "warn", "bench", "-m", str(model),
           "--prompt-tokens", ",".join(map(str, lengths)), "--repeat", str(repeat), "-t", str(threads),
           "--decode-tokens", str(decode), "-f", str(ROOT / "data/opticks_opening.txt")]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = {}
    for r in json.loads(out)["results"]:
        rows[r["prompt_tokens"]] = (r["prefill_tokens_per_second"], r.get("decode_tokens_per_second"))
    return rows


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def llama(model, lengths, repeat, threads, decode):
    n_ctx = max(lengths) + decode + 8
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=n_ctx, n_batch=512, n_ubatch=512, n_threads=threads,
                          n_threads_batch=threads, verbose=False)
    text = (ROOT / "data/opticks_opening.txt").read_bytes()
    source = llm.tokenize(text, add_bos=False, special=False)
    bos = [llm.token_bos()] if llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true" else []
    rows = {}
    for n in lengths:
        prompt = bos + [source[i % len(source)] for i in range(n - len(bos))]
        pre, dec = [], []
        for _ in range(repeat):
            llm.reset()
            llm._ctx.kv_cache_clear() if hasattr(llm._ctx, "kv_cache_clear") else None
            t = time.perf_counter()
            llm.eval(prompt)
            pre.append(n / (time.perf_counter() - t))
            t = time.perf_counter()
            n_vocab = llm.n_vocab()
            for _ in range(decode):
                last = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
                token = int(np.argmax(np.ctypeslib.as_array(last, shape=(n_vocab,))))
                llm.eval([token])
            if decode:
                dec.append(decode / (time.perf_counter() - t))
        rows[n] = (summary(pre), summary(dec) if dec else None)
    return rows


def fmt(s):
    return f"{s['median']:.1f} [{s['min']:.1f}, {s['max']:.1f}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="gemma3,smollm2")
    ap.add_argument("--lengths", default="512,2048,8192")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--decode", type=int, default=64)
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    report = []
    print(f"threads {args.threads}, repeats {args.repeat}, decode {args.decode} tokens; tokens/s median [min, max]")
    print("| model | measure | lookaheadkv | llama.cpp | ratio |")
    print("|---|---|---|---|---|")
    for name in args.models.split(","):
        model = MODELS[name]
        a = ours(model, lengths, args.repeat, args.threads, args.decode)
        b = llama(model, lengths, args.repeat, args.threads, args.decode)
        for n in lengths:
            if n not in a:
                continue
            for kind, idx in (("prefill", 0), ("decode", 1)):
                x, y = a[n][idx], b[n][idx]
                if x is None or y is None:
                    continue
                label = f"{kind} @ {n}" if kind == "prefill" else f"decode after {n}"
                ratio = x["median"] / y["median"]
                print(f"| {name} | {label} | {fmt(x)} | {fmt(y)} | {ratio:.2f} |", flush=True)
                report.append({"model": name, "measure": label, "ours": x, "llama_cpp": y, "ratio": ratio})
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
