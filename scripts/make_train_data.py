#!/usr/bin/env python3
"""Builds the LookaheadKV training prompts offline, deterministically for a seed.

Each line of the output is one JSON object in LongBench's shape: `id`, `kind`, `source`,
`context` (the long part) and `input` (the instruction or question that follows it). The
`lookaheadkv train` command renders them (chat template or plain text), computes the model's own
answers and trains on them.

The mix (fractions of the examples):
  ledger     0.20  synthetic retrieval: payment notes planted in real text, one asked about
  handover   0.15  synthetic tracing: objects passed between people along chains, one traced
  tally      0.15  synthetic aggregation: tally lines with skewed counts, the most frequent asked
  document   0.30  real text with a generic instruction: summarize, list names, quote, continue,
                   answer about a word
  few-shot   0.20  many worked examples of a text transformation, then a new case

Templates differ from the evaluation tasks' (src/eval/ruler*.cpp): no "magic number" needles, no
variable assignments, no word lists, and the seeds start at 1,000,000,000, a range the evaluation
generators reject. Real text comes from the King James Bible and Newton's Opticks, as installed by
scripts/fetch_haystacks.sh. The evaluation suites use the same books as haystack filler, so
the two share raw text but no planted facts, questions or answers.

Lengths are set in characters (about 4 per token for these tokenizers). The trainer measures
tokens with the model's tokenizer and drops prompts above its --max-prompt-tokens.
"""
import argparse
import json
import os
import random
import re
import sys

TRAINING_SEED_BASE = 1_000_000_000
CHARS_PER_TOKEN = 4.0

FIRST_NAMES = ["Ada", "Bram", "Cora", "Dov", "Elin", "Fitz", "Greta", "Hugo", "Ines", "Jory", "Kasia", "Lior",
               "Mabel", "Niko", "Odile", "Piet", "Quinn", "Rosa", "Sven", "Tova", "Ulric", "Vera", "Wim", "Xenia",
               "Yusuf", "Zelda"]
SURNAMES = ["Ashdown", "Birchall", "Crane", "Dunmore", "Ellery", "Fairweather", "Gaskell", "Holloway", "Ivers",
            "Jellicoe", "Kettering", "Lowther", "Marlow", "Norcross", "Ormsby", "Pennock", "Quarles", "Rookwood",
            "Stanhope", "Thackery", "Upshaw", "Vance", "Whitlock", "Yardley"]
ITEMS = ["a copper kettle", "two bolts of linen", "a brass sextant", "a sack of barley", "a pair of boots",
         "a lantern", "a saddle", "a crate of pears", "a fiddle", "a wool blanket", "a clock key", "a set of chisels",
         "a barrel of cider", "a map of the coast", "a tin of tea", "a rope ladder"]
OBJECTS = ["the blue ledger", "the iron key", "the silver whistle", "the sealed letter", "the green umbrella",
           "the oak box", "the red notebook", "the old compass"]
TALLY_WORDS = ["heron", "otter", "badger", "lark", "stoat", "wren", "marten", "plover", "vole", "kestrel", "newt",
               "finch", "hare", "curlew", "shrew"]
DOC_INSTRUCTIONS = [
    "Summarize the passage above in three sentences.",
    "List the people and places that the passage above names.",
    "Continue the text above with the next few sentences, in the same style.",
    "What is the main subject of the passage above? Answer in one sentence.",
]


def load_sentences(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith("kjv.txt"):
        return [line.strip() for line in text.splitlines() if line.strip()]
    text = re.sub(r"\s+", " ", text)
    return [s.strip() for s in re.split(r"(?<=[.;:?!])\s+", text) if len(s.strip()) > 20]


def passage(rng, sentences, n_chars):
    """Consecutive sentences from a random start, about n_chars long."""
    start = rng.randrange(0, max(1, len(sentences) - 2000))
    out, size = [], 0
    i = start
    while size < n_chars and i < len(sentences):
        out.append(sentences[i])
        size += len(sentences[i]) + 1
        i += 1
    return out


def plant(rng, filler, facts):
    """Inserts the facts, in their order, at random sentence boundaries; returns the joined text."""
    slots = sorted(rng.randrange(len(filler) + 1) for _ in facts)
    out, k = [], 0
    for i in range(len(filler) + 1):
        while k < len(slots) and slots[k] == i:
            out.append(facts[k])
            k += 1
        if i < len(filler):
            out.append(filler[i])
    return " ".join(out)


def person(rng):
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def make_ledger(rng, books, n_chars):
    n_notes = rng.randint(4, 12)
    people = set()
    while len(people) < n_notes:
        people.add(person(rng))
    people = sorted(people)
    rng.shuffle(people)
    notes = []
    for p in people:
        notes.append(f"Ledger note: {p} paid {rng.randint(3, 97)} shillings for {rng.choice(ITEMS)}.")
    filler = passage(rng, rng.choice(books), n_chars - sum(len(x) for x in notes))
    asked = rng.randrange(n_notes)
    question = f"According to the ledger notes in the text above, how many shillings did {people[asked]} pay, and for what?"
    return plant(rng, filler, notes), question


def make_handover(rng, books, n_chars):
    objects = rng.sample(OBJECTS, rng.randint(2, 4))
    events = []
    for obj in objects:
        holders = [person(rng) for _ in range(rng.randint(3, 6))]
        for a, b in zip(holders, holders[1:]):
            events.append((obj, a, b))
    # Interleave the objects while keeping each object's handovers in order.
    by_obj = {o: [e for e in events if e[0] == o] for o in objects}
    seq = []
    cursors = {o: 0 for o in objects}
    for _ in events:
        live = [o for o in objects if cursors[o] < len(by_obj[o])]
        o = rng.choice(live)
        seq.append(by_obj[o][cursors[o]])
        cursors[o] += 1
    facts = []
    for obj, a, b in seq:
        facts.append(f"Later, {a} handed {obj} to {b}.")
    filler = passage(rng, rng.choice(books), n_chars - sum(len(x) for x in facts))
    obj = rng.choice(objects)
    question = f"Follow every handover in the text above. Who holds {obj} at the end, and who held it first?"
    return plant(rng, filler, facts), question


def make_tally(rng, books, n_chars):
    words = rng.sample(TALLY_WORDS, rng.randint(6, 10))
    weights = [1.0 / (i + 1) ** 1.2 for i in range(len(words))]
    n_lines = rng.randint(20, 60)
    lines = [f"Tally mark: one {rng.choices(words, weights)[0]} seen at the pond." for _ in range(n_lines)]
    filler = passage(rng, rng.choice(books), n_chars - sum(len(x) for x in lines))
    question = "Count the tally marks in the text above. Which three animals were seen most often? Give each count."
    return plant(rng, filler, lines), question


def make_document(rng, books, n_chars):
    sentences = passage(rng, rng.choice(books), n_chars)
    kind = rng.randrange(len(DOC_INSTRUCTIONS) + 2)
    if kind < len(DOC_INSTRUCTIONS):
        return " ".join(sentences), DOC_INSTRUCTIONS[kind]
    # Ask about a capitalized word that occurs once, or quote its sentence.
    counts = {}
    for s in sentences:
        for w in re.findall(r"\b[A-Z][a-z]{4,}\b", s):
            counts[w] = counts.get(w, 0) + 1
    rare = sorted(w for w, c in counts.items() if c == 1) or ["light"]
    word = rng.choice(rare)
    if kind == len(DOC_INSTRUCTIONS):
        return " ".join(sentences), f"Quote the sentence of the passage above that mentions \"{word}\"."
    return " ".join(sentences), f"What does the passage above say about {word}?"


def make_few_shot(rng, books, n_chars):
    sentences = [s for s in rng.choice(books) if 6 <= len(s.split()) <= 40]
    style = rng.randrange(3)
    shots, size = [], 0

    def answer(s):
        words = re.findall(r"[A-Za-z']+", s)
        if style == 0:
            return f"{words[0]} ... {words[-1]}"
        if style == 1:
            return str(len(words))
        return max(words, key=len)

    label = ["First and last word", "Word count", "Longest word"][style]
    while size < n_chars:
        s = rng.choice(sentences)
        shot = f"Text: {s}\n{label}: {answer(s)}"
        shots.append(shot)
        size += len(shot) + 2
    query = rng.choice(sentences)
    return "\n\n".join(shots), f"Text: {query}\n{label}:"


MAKERS = [("ledger", 0.20, make_ledger), ("handover", 0.15, make_handover), ("tally", 0.15, make_tally),
          ("document", 0.30, make_document), ("few-shot", 0.20, make_few_shot)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="data/train/train.jsonl", help="output JSON Lines file")
    ap.add_argument("--haystack", default="data/haystack", help="folder filled by scripts/fetch_haystacks.sh")
    ap.add_argument("--count", type=int, default=240, help="number of prompts")
    ap.add_argument("--min-tokens", type=int, default=800, help="shortest context, in tokens (estimated)")
    ap.add_argument("--max-tokens", type=int, default=2400, help="longest context, in tokens (estimated)")
    ap.add_argument("--seed", type=int, default=TRAINING_SEED_BASE + 1, help="seed, at least 1000000000")
    args = ap.parse_args()
    if args.seed < TRAINING_SEED_BASE:
        sys.exit(f"error: seed {args.seed} is below {TRAINING_SEED_BASE}; smaller seeds belong to the evaluation")
    if not 0 < args.min_tokens <= args.max_tokens:
        sys.exit(f"error: token range {args.min_tokens}..{args.max_tokens} is invalid")
    books = []
    for name in ("kjv.txt", "opticks.txt"):
        path = os.path.join(args.haystack, name)
        if not os.path.isfile(path):
            sys.exit(f"error: {path} not found; run scripts/fetch_haystacks.sh first")
        books.append(load_sentences(path))

    rng = random.Random(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".partial"
    counts = {}
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(args.count):
            r, acc = rng.random(), 0.0
            for kind, share, make in MAKERS:
                acc += share
                if r < acc or kind == MAKERS[-1][0]:
                    break
            n_chars = int(rng.uniform(args.min_tokens, args.max_tokens) * CHARS_PER_TOKEN)
            context, instruction = make(rng, books, n_chars)
            counts[kind] = counts.get(kind, 0) + 1
            f.write(json.dumps({"id": f"train-{i:05d}", "kind": kind, "context": context, "input": instruction},
                               ensure_ascii=False) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.count} prompts to {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
