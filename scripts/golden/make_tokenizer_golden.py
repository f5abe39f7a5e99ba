#!/usr/bin/env python3
"""Writes the tokenizer and chat-template golden files from llama.cpp (through llama-cpp-python).

    .venv-dev/bin/python scripts/golden/make_tokenizer_golden.py

For each model in models/ the script loads the vocabulary only. For a fixed list of test strings it
records the ids llama.cpp produces with three settings (add_special / parse_special) and the text
its token_to_piece gives back. It also records a sample of single-token pieces. Output:

  tests/golden/tokenizer_<model>.json
  tests/golden/chat_templates.json   rendered prompts: SmolLM2 through its own Jinja template
                                     (jinja2, as transformers renders it); Gemma and Llama 3
                                     through llama.cpp's built-in renderers of those formats
  tests/golden/tokenizer_pretokenizer.json
                                     BPE pre-tokenizer splits of the same strings by the
                                     models' original split regexes, run with the `regex`
                                     package (a second, regex-engine reference for our
                                     hand-written matchers, covering pre-tokenizers that no
                                     shipped model uses)

The test strings are generated deterministically (fixed seed), so rerunning with the same
llama.cpp version reproduces the files byte for byte.
"""
import ctypes
import json
import os
import random
import sys

import gguf
import jinja2
import jinja2.sandbox
import llama_cpp
import regex

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = {
    "gemma3": "models/gemma-3-270m-q4_k_m.gguf",
    "smollm2": "models/SmolLM2-135M-Instruct.Q4_1.gguf",
}

PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog. In 2024, researchers measured 1,234,567 samples "
    "and found that 42% of them didn't fit the model's assumptions; see https://example.org/a?b=c "
    "for details.\n\n    def f(x):\n        return x ** 2  # square\n"
)


def fixed_strings():
    s = [
        # whitespace
        "", " ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", " \n", "\n ", " \n ",
        "\r\n", "\r\n\r\n", "\r", "a  b", "a   b", "a    b", "hello   ", " hello", "  hello",
        "   hello", "\thello", "hello\tworld", "hello \tworld", "line1\nline2", "line1\r\nline2",
        "a\n\n\nb", "a \n b", " " * 33, " " * 64 + "x", "\n" * 40, "\t" * 35 + "y", "x" + " " * 32,
        "end with newline\n", "  \n\t \n", "word \n\n word",
        # special-token texts
        "<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n",
        "<start_of_turn>user\n  spaced  <end_of_turn>", "<bos>text", "<bos><bos>", "<eos>", "<unk>",
        "<pad>", "<mask>", "</s>text", "a</s>b", "<b>bold</b> and <i>italic</i>", "<start_of_image>",
        "<end_of_turn><end_of_turn>", "<start_of_tur", "<<start_of_turn>>", "x<end_of_turn>y",
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>", "<|im_end|>\n",
        " <|im_start|>", "<|im_start|><|im_end|>", "<reponame>a<filename>b", "<table><tr><td>1</td></tr></table>",
        "<h1>Title</h1>\n<p>para</p>", "<0x41>", "<unused5>", "▁", "▁▁hello", "hello▁world",
        # accented Latin and other scripts
        "café", "naïve résumé", "Ångström", "Straße", "ÆØÅ æøå", "Ça va? Très bien!", "e\u0301",
        "Ελληνικά γράμματα", "Καλημέρα κόσμε", "Привет, мир!", "Съешь же ещё этих мягких французских булок",
        "中文字符测试", "我爱自然语言处理。", "日本語のテキスト", "ひらがなとカタカナ", "한국어 텍스트",
        "العربية لغة جميلة", "مرحبا بالعالم", "עברית", "हिन्दी भाषा", "ภาษาไทย", "Tiếng Việt có dấu",
        "ქართული", "Հայերեն", "ᚠᛇᚻ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟘𝟙𝟚",
        # emoji
        "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇫🇷🇩🇪", "1️⃣", "I ❤️ NY", "emoji😀in👍text",
        "🙂" * 50,
        # numbers
        "0", "12", "123", "1234", "12345", "12345678901234567890", "3.14159", "1,000,000",
        "2024-01-15", "+1 (555) 123-4567", "٣٤٥", "①②③", "½ cup", "Ⅻ", "１２３", "x1y22z333",
        "v1.2.3-rc4", "0x1F 0b1010", "1e-10", "-42", "$100.00", "100%",
        # code
        "def main():\n    print('hello')\n    return 0\n",
        "int main() {\n\tint x = 0;\n\treturn x;\n}\n",
        '{"key": "value", "n": [1, 2, 3]}',
        "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
        "if x == 1:\n        pass\n    elif x != 2:\n        continue",
        "ls -la | grep '.txt' > out.log 2>&1",
        "SELECT * FROM users WHERE id = 42;",
        "a->b; c::d; e => f; g <= h; i >= j;",
        "#include <vector>\n", "    indented", "\t\ttabbed", "// comment\n/* block */",
        # URLs and mail
        "https://www.example.com/path/to/page?query=1&x=y#frag", "http://localhost:8080/",
        "user.name+tag@example.co.uk", "ftp://files.example.org/pub/file.tar.gz",
        # contractions
        "don't", "I'M", "I'm", "we'll", "they're", "you've", "she'd", "it's", "DON'T", "O'Reilly",
        "'s", "rock 'n' roll", "''", "'", "He said 'hello'", "We'RE", "You'Ve", "it’s", "can't won't",
        # punctuation
        "!!!", "...", "?!?!", "—–-", "«quoted»", "“smart quotes”", "a+b=c", "<=>", "^~|", "@#%&*",
        "(parens) [brackets] {braces}", "semi;colon:colon", "back\\slash", "under_score", "~tilde`",
        # unusual whitespace and controls
        "\u00a0", "a\u00a0b", "a\u3000b", "\u2003em space", "zero\u200bwidth", "a\u2028b", "next\u0085line",
        "a\x00b", "\x01\x02\x03", "del\x7f", "\x1c\x1d", "\ufeffBOM", "\uffff", "\U0010FFFF",
        # mixed scripts
        "hello世界", "abc123def", "Привет мир hello", "日本語とEnglish", "αβγ123", "mixed: café/カフェ/кафе",
        # long words
        "a" * 300, "supercalifragilistic" * 15, "Pneumonoultramicroscopicsilicovolcanoconiosis",
        "x" * 1000, "ab" * 200, "The" + "e" * 100,
        # longer text
        PARAGRAPH, PARAGRAPH * 3,
    ]
    return s


def random_strings(n):
    """Random mixtures of the character classes the pre-tokenizers distinguish."""
    rng = random.Random(1234)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "0123456789",
        "     \t\n\r",
        ".,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`",
        "éèêàçñöüßøåæœ",
        "αβγδεζηθλμπσωΔΣΩ",
        "абвгдежзийклмнопрстуфхцчшщыэюя",
        "中文日本語한국어",
        "😀👍🏽❤️🎉",
        "٠١٢٣①½",
    ]
    out = []
    for _ in range(n):
        length = rng.randint(1, 40)
        chars = []
        for _ in range(length):
            pool = pools[rng.randrange(len(pools))]
            chars.append(pool[rng.randrange(len(pool))])
        out.append("".join(chars))
    return out


def chat_cases():
    return [
        {"name": "single_user", "messages": [{"role": "user", "content": "Hello!"}]},
        {"name": "system_user", "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What is 2+2?"}]},
        {"name": "multi_turn", "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "Tell me a joke."}]},
        {"name": "system_multi_turn", "messages": [
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "Good morning"},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": "Thanks"}]},
        {"name": "untrimmed_content", "messages": [
            {"role": "user", "content": "  padded question \n"}]},
        {"name": "multiline_unicode", "messages": [
            {"role": "user", "content": "Line one\nLine two: café, 中文, 😀"}]},
    ]


class Vocab:
    def __init__(self, path):
        llama_cpp.llama_backend_init()
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        self.model = llama_cpp.llama_model_load_from_file(path.encode(), params)
        if not self.model:
            sys.exit(f"cannot load {path}")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)

    def tokenize(self, text: bytes, add_special: bool, parse_special: bool):
        cap = len(text) + 16
        buf = (llama_cpp.llama_token * cap)()
        n = llama_cpp.llama_tokenize(self.vocab, text, len(text), buf, cap, add_special, parse_special)
        if n < 0:
            cap = -n
            buf = (llama_cpp.llama_token * cap)()
            n = llama_cpp.llama_tokenize(self.vocab, text, len(text), buf, cap, add_special, parse_special)
        return list(buf[:n])

    def piece(self, token: int, special: bool) -> bytes:
        buf = ctypes.create_string_buffer(256)
        n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, 256, 0, special)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, -n, 0, special)
        return buf.raw[:n]

    def detokenize(self, ids, special: bool) -> bytes:
        return b"".join(self.piece(t, special) for t in ids)


def text_field(b: bytes):
    """JSON cannot hold arbitrary bytes: valid UTF-8 stays text, anything else becomes hex."""
    try:
        return {"text": b.decode("utf-8")}
    except UnicodeDecodeError:
        return {"hex": b.hex()}


def make_tokenizer_golden(name, path, strings):
    v = Vocab(path)
    eog = [t for t in range(v.n_vocab) if llama_cpp.llama_vocab_is_eog(v.vocab, t)]

    cases = []
    n_roundtrip = 0
    for s in strings:
        b = s.encode("utf-8")
        plain = v.tokenize(b, False, False)
        detok = v.detokenize(plain, False)
        roundtrip = detok == b
        n_roundtrip += roundtrip
        cases.append({
            "text": s,
            "ids_add_special": v.tokenize(b, True, False),
            "ids_plain": plain,
            "ids_parse_special": v.tokenize(b, False, True),
            "decoded": text_field(detok),
            "roundtrip": roundtrip,
        })

    # Pieces of single tokens: the first 600 ids (controls, user-defined, bytes) and a stride.
    sample = sorted(set(list(range(min(600, v.n_vocab))) + list(range(0, v.n_vocab, 173)) + eog))
    pieces = [{"id": t, "plain": text_field(v.piece(t, False)), "special": text_field(v.piece(t, True))}
              for t in sample]

    out = {
        "generator": "scripts/golden/make_tokenizer_golden.py",
        "llama_cpp_python": llama_cpp.__version__,
        "model": os.path.basename(path),
        "vocab_size": v.n_vocab,
        "bos": llama_cpp.llama_vocab_bos(v.vocab),
        "eos": llama_cpp.llama_vocab_eos(v.vocab),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(v.vocab)),
        "add_eos": bool(llama_cpp.llama_vocab_get_add_eos(v.vocab)),
        "eog": eog,
        "cases": cases,
        "pieces": pieces,
    }
    dest = os.path.join(ROOT, "tests/golden", f"tokenizer_{name}.json")
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{dest}: {len(cases)} strings, {n_roundtrip} round-trip in llama.cpp, "
          f"{os.path.getsize(dest)} bytes")


def builtin_render(tmpl: str, messages, add_generation_prompt: bool) -> str:
    arr = (llama_cpp.llama_chat_message * len(messages))()
    keep = []
    for i, m in enumerate(messages):
        role, content = m["role"].encode(), m["content"].encode()
        keep += [role, content]
        arr[i].role = role
        arr[i].content = content
    cap = 8192
    buf = ctypes.create_string_buffer(cap)
    n = llama_cpp.llama_chat_apply_template(tmpl.encode(), arr, len(messages), add_generation_prompt, buf, cap)
    if n < 0 or n > cap:
        sys.exit(f"llama_chat_apply_template({tmpl}) failed: {n}")
    return buf.raw[:n].decode("utf-8")


def jinja_render(template: str, messages, add_generation_prompt: bool, bos: str, eos: str) -> str:
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=add_generation_prompt, bos_token=bos, eos_token=eos)


def make_chat_golden():
    smol = gguf.GGUFReader(os.path.join(ROOT, MODELS["smollm2"]))
    smol_template = smol.fields["tokenizer.chat_template"].contents()
    rendered = []
    for case in chat_cases():
        for gen in (True, False):
            msgs = case["messages"]
            entry = {"name": case["name"], "messages": msgs, "add_generation_prompt": gen}
            entry["smollm2"] = jinja_render(smol_template, msgs, gen, "<|im_start|>", "<|im_end|>")
            # llama.cpp's built-in renderers leave BOS to the tokenizer; our contract includes it.
            entry["gemma"] = "<bos>" + builtin_render("gemma", msgs, gen)
            entry["llama3"] = "<|begin_of_text|>" + builtin_render("llama3", msgs, gen)
            rendered.append(entry)
    dest = os.path.join(ROOT, "tests/golden/chat_templates.json")
    with open(dest, "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/golden/make_tokenizer_golden.py", "cases": rendered}, f,
                  ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{dest}: {len(rendered)} rendered prompts")
    return rendered


# Split regexes per tokenizer.ggml.pre value, applied in sequence as llama.cpp does. These are
# the patterns from the models' tokenizer.json files (the Llama 3 / Qwen2 contraction group is
# case-insensitive there).
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
PRE_TOKENIZERS = {
    "gpt-2": [GPT2_PATTERN],
    "smollm": [r"\p{N}", GPT2_PATTERN],
    "llama-bpe": [r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+"],
    "qwen2": [r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+"],
    "default": [r"[\p{P}\$\+<=>\^~\|]+", GPT2_PATTERN, r"\p{N}+", r"[0-9][0-9][0-9]"],
}


def split(patterns, text):
    """Piece end offsets (code points). Text between matches is a piece too, as in llama.cpp."""
    pieces = [text]
    for pattern in patterns:
        compiled = regex.compile(pattern)
        out = []
        for piece in pieces:
            pos = 0
            for m in compiled.finditer(piece):
                if m.start() > pos:
                    out.append(piece[pos:m.start()])
                out.append(m.group())
                pos = m.end()
            if pos < len(piece):
                out.append(piece[pos:])
        pieces = out
    ends, total = [], 0
    for p in pieces:
        total += len(p)
        ends.append(total)
    return ends


def make_pretokenizer_golden(strings):
    cases = [{"text": s, "ends": {k: split(v, s) for k, v in PRE_TOKENIZERS.items()}} for s in strings]
    dest = os.path.join(ROOT, "tests/golden/tokenizer_pretokenizer.json")
    with open(dest, "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/golden/make_tokenizer_golden.py", "regex": regex.__version__,
                   "patterns": PRE_TOKENIZERS, "cases": cases}, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{dest}: {len(cases)} strings x {len(PRE_TOKENIZERS)} pre-tokenizers")


def main():
    rendered = make_chat_golden()
    strings = fixed_strings() + random_strings(70)
    # The rendered prompts are tokenized too (with parse_special they exercise the partitioning).
    strings += sorted({r["gemma"] for r in rendered} | {r["smollm2"] for r in rendered})
    make_pretokenizer_golden(strings)
    for name, rel in MODELS.items():
        make_tokenizer_golden(name, os.path.join(ROOT, rel), strings)


if __name__ == "__main__":
    main()
