#!/usr/bin/env python3
"""Prefill and decode speed of lookaheadkv next to llama.cpp, on the same GGUF and thread count.

Runs `lookaheadkv bench` and then llama.cpp (through llama-cpp-python from .venv-dev, see
scripts/dev_venv.sh) on the same prompt tokens: the bundled Opticks text repeated to each length.
Both use prefill chunks of 512 tokens and greedy decoding; llama.cpp keeps its default f16 KV
cache. Prints prefill tokens/s at each prompt length and decode tokens/s (after the prompt), as
the median and [min, max] of the repeats, and the ratio ours / llama.cpp of the medians.

A peer is a Python interpreter with llama-cpp-python installed, given as LABEL=PYTHON. With no
--peer the script's own interpreter is the one peer, labelled llama.cpp. Several peers compare
builds of llama.cpp in one run, for example the native build against one limited to AVX2:
  --peer native=.venv-dev/bin/python --peer avx2=.venv-avx2/bin/python
Each peer runs in its own process and prints the instruction sets its build uses.

Usage: .venv-dev/bin/python scripts/bench_speed.py [--models gemma3,smollm2] [--lengths 512,2048,8192]
                                                  [--repeat 3] [--threads 2] [--decode 64] [--json OUT]
                                                  [--peer LABEL=PYTHON ...]
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


def peer_rows(python, name, lengths, repeat, threads, decode):
    """Runs llama() for one model under another interpreter and returns its rows and system info."""
    cmd = [python, __file__, "--llama-only", "--models", name, "--lengths", ",".join(map(str, lengths)),
           "--repeat", str(repeat), "--threads", str(threads), "--decode", str(decode)]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    rows = {int(n): tuple(v) for n, v in out["rows"].items()}
    return rows, out["system_info"]


def system_info():
    return llama_cpp.llama_print_system_info().decode().strip()


def load_average():
    return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])


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
    ap.add_argument("--peer", action="append", default=[], metavar="LABEL=PYTHON",
                    help="a llama-cpp-python interpreter to compare with (repeatable)")
    ap.add_argument("--llama-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    if args.llama_only:  # child process of --peer: one model, JSON on stdout
        rows = llama(MODELS[args.models], lengths, args.repeat, args.threads, args.decode)
        print(json.dumps({"rows": rows, "system_info": system_info()}))
        return 0
    peers = []
    for spec in args.peer or [f"llama.cpp={sys.executable}"]:
        label, sep, python = spec.partition("=")
        if not sep or not label or not python:
            ap.error(f"--peer {spec!r} is invalid: write LABEL=PYTHON, e.g. avx2=.venv-avx2/bin/python")
        peers.append((label, python))
    report = []
    print(f"threads {args.threads}, repeats {args.repeat}, decode {args.decode} tokens; tokens/s median [min, max]")
    print(f"load average at start: {load_average()}")
    header = "| model | measure | lookaheadkv | " + " | ".join(f"{p} | ratio vs {p}" for p, _ in peers) + " |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for name in args.models.split(","):
        model = MODELS[name]
        a = ours(model, lengths, args.repeat, args.threads, args.decode)
        results = {}
        for label, python in peers:
            results[label], info = peer_rows(python, name, lengths, args.repeat, args.threads, args.decode)
            print(f"{label} ({python}): {info}", flush=True)
        for n in lengths:
            if n not in a:
                continue
            for kind, idx in (("prefill", 0), ("decode", 1)):
                x = a[n][idx]
                if x is None:
                    continue
                label = f"{kind} @ {n}" if kind == "prefill" else f"decode after {n}"
                row = {"model": name, "measure": label, "ours": x, "peers": {}}
                cells = []
                for peer, _ in peers:
                    y = results[peer].get(n, (None, None))[idx]
                    if y is None:
                        cells += ["–", "–"]
                        continue
                    ratio = x["median"] / y["median"]
                    cells += [fmt(y), f"{ratio:.2f}"]
                    row["peers"][peer] = {"llama_cpp": y, "ratio": ratio}
                print(f"| {name} | {label} | {fmt(x)} | " + " | ".join(cells) + " |", flush=True)
                report.append(row)
    print(f"load average at end: {load_average()}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"peers": dict(peers), "rows": report}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
