#!/usr/bin/env python3
"""Exact-math reference logits for the real models, from a float64 NumPy forward pass.

llama.cpp quantizes activations to 8 bits inside its matmuls, so its logits differ from exact
math by up to about 1 logit on these models. This script dequantizes the weights with the `gguf`
package and runs the transformer in float64, written from the architecture definitions: it checks
the engine's forward pass (in its reference-matmul mode) to float rounding, independently of
llama.cpp. Writes tests/golden/exact_<model>.json with, per position, the top-8 ids and logits.
Token ids are taken from tests/golden/logits_<model>.json (llama.cpp's tokenizer).
"""
import json
import pathlib
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

ROOT = pathlib.Path(__file__).resolve().parents[2]
N_TOKENS = 600  # above Gemma's 512-token sliding window


def load_weights(path):
    reader = GGUFReader(str(path))
    tensors = {t.name: t for t in reader.tensors}

    def weight(name, dtype=np.float64):
        t = tensors[name]
        a = dequantize(t.data, t.tensor_type).astype(dtype)
        return a.reshape([int(x) for x in reversed(t.shape)]) if len(t.shape) > 1 else a.reshape(-1)

    return reader, weight


def field(reader, key):
    return reader.fields[key].contents()


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rope(v, positions, base, n_rot, neox):
    half = n_rot // 2
    inv = base ** (-2.0 * np.arange(half) / n_rot)
    ang = positions[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    out = v.copy()
    if neox:
        a, b = v[..., :half], v[..., half:n_rot]
        out[..., :half], out[..., half:n_rot] = a * c - b * s, a * s + b * c
    else:
        a, b = v[..., 0:n_rot:2], v[..., 1:n_rot:2]
        out[..., 0:n_rot:2], out[..., 1:n_rot:2] = a * c - b * s, a * s + b * c
    return out


def attention(q, k, v, n_gqa, window):
    n, n_head, hd = q.shape
    out = np.zeros_like(q)
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    masked = j > i
    if window:
        masked |= (i - j) >= window
    for h in range(n_head):
        scores = q[:, h, :] @ k[:, h // n_gqa, :].T
        scores[masked] = -np.inf
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        out[:, h, :] = scores @ v[:, h // n_gqa, :]
    return out


def forward(path, ids):
    reader, weight = load_weights(path)
    arch = field(reader, "general.architecture")
    n_layer = field(reader, f"{arch}.block_count")
    d = field(reader, f"{arch}.embedding_length")
    n_head = field(reader, f"{arch}.attention.head_count")
    n_kv = field(reader, f"{arch}.attention.head_count_kv")
    eps = field(reader, f"{arch}.attention.layer_norm_rms_epsilon")
    base = field(reader, f"{arch}.rope.freq_base")
    hd = field(reader, f"{arch}.attention.key_length") if f"{arch}.attention.key_length" in reader.fields else d // n_head
    gemma = arch == "gemma3"
    window = field(reader, f"{arch}.attention.sliding_window") if gemma else 0
    n = len(ids)
    positions = np.arange(n, dtype=np.float64)

    embd = weight("token_embd.weight", np.float32)
    x = embd[ids].astype(np.float64) * (np.sqrt(np.float64(d)) if gemma else 1.0)
    for il in range(n_layer):
        p = f"blk.{il}."
        swa = gemma and il % 6 < 5
        h = rms_norm(x, weight(p + "attn_norm.weight"), eps)
        q = (h @ weight(p + "attn_q.weight").T).reshape(n, n_head, hd)
        k = (h @ weight(p + "attn_k.weight").T).reshape(n, n_kv, hd)
        v = (h @ weight(p + "attn_v.weight").T).reshape(n, n_kv, hd)
        if gemma:
            q = rms_norm(q, weight(p + "attn_q_norm.weight"), eps)
            k = rms_norm(k, weight(p + "attn_k_norm.weight"), eps)
        layer_base = 10000.0 if swa else base
        q = rope(q, positions, layer_base, hd, neox=gemma) / np.sqrt(hd)
        k = rope(k, positions, layer_base, hd, neox=gemma)
        o = attention(q, k, v, n_head // n_kv, window if swa else 0).reshape(n, -1)
        a = o @ weight(p + "attn_output.weight").T
        if gemma:
            a = rms_norm(a, weight(p + "post_attention_norm.weight"), eps)
        x = x + a
        h = rms_norm(x, weight(p + "ffn_norm.weight"), eps)
        gate = h @ weight(p + "ffn_gate.weight").T
        up = h @ weight(p + "ffn_up.weight").T
        if gemma:
            act = 0.5 * gate * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * gate * (1.0 + 0.044715 * gate * gate)))
        else:
            act = gate / (1.0 + np.exp(-gate))
        f = (act * up) @ weight(p + "ffn_down.weight").T
        if gemma:
            f = rms_norm(f, weight(p + "post_ffw_norm.weight"), eps)
        x = x + f
        print(f"layer {il + 1}/{n_layer}", file=sys.stderr, end="\r")
    x = rms_norm(x, weight("output_norm.weight"), eps)
    return (x.astype(np.float32) @ embd.T).astype(np.float64)


def main():
    models = {"gemma3": "models/gemma-3-270m-q4_k_m.gguf", "smollm2": "models/SmolLM2-135M-Instruct.Q4_1.gguf"}
    for name in sys.argv[1:] or list(models):
        ids = json.loads((ROOT / f"tests/golden/logits_{name}.json").read_text())["teacher_forced"]["ids"][:N_TOKENS]
        logits = forward(ROOT / models[name], ids)
        positions = []
        for row in logits:
            top = np.argsort(-row, kind="stable")[:8]
            positions.append({"top_ids": [int(i) for i in top], "top_logits": [float(row[i]) for i in top]})
        out = ROOT / f"tests/golden/exact_{name}.json"
        out.write_text(json.dumps({"model": models[name], "reference": "float64 NumPy forward pass",
                                   "ids": ids, "positions": positions}, separators=(",", ":")))
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
