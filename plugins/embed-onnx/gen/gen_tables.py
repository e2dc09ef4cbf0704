#!/usr/bin/env python3
"""Writes plugins/embed-onnx/unicode_tables.c: the per-code-point facts the
BERT tokenizer needs, taken from the reference it must agree with.

Usage:  python3 gen_tables.py [-o unicode_tables.c]
Needs:  pip install tokenizers==0.23.3   (the pinned reference)

Why the reference and not only the UCD: Hugging Face `tokenizers` takes its
categories from the `unicode_categories` crate (Unicode ~9, 2016), whitespace
and lowercase from Rust std (a newer Unicode) and NFD from
`unicode-normalization-alignments`. Code points assigned after the old crate
count as unassigned there and are deleted by clean_text. So each stage is
computed twice, from Python's `unicodedata` and by running the reference on
every code point; where they differ the reference wins, and the differences
are counted (and the first few listed) in the generated file's header.
Found with 0.23.3: clean_text keeps unassigned (Cn) code points, although
its source comment and embed.md 4.4 say Cn is deleted; the UCD prediction
below therefore deletes only Cc, Cf and Co (and NUL, U+FFFD).

Stages, each run alone on one code point, as the C pipeline composes them:
  clean      BertNormalizer(clean_text only): deleted, turned into ' ', kept
  cjk        BertNormalizer(handle_chinese_chars only): padded with spaces
  strip      BertNormalizer(strip_accents only) = NFD, then drop Mn
  lower      BertNormalizer(lowercase only) = Rust char::to_lowercase
  pretok     BertPreTokenizer: whitespace split, punctuation isolated
Canonical reordering (NFD across characters) matters only for non-starters
that survive the Mn filter; their combining classes are emitted too.
"""
import argparse
import sys
import unicodedata as ud

try:
    import tokenizers
    from tokenizers import normalizers as N, pre_tokenizers as P
except ImportError:
    sys.exit("gen_tables.py needs the reference: pip install tokenizers==0.23.3")

PINNED = "0.23.3"
MAXCP = 0x110000
SBASE, SCOUNT = 0xAC00, 11172

F_DELETE, F_SPACE, F_CJK, F_DROP, F_PT_SPACE, F_PT_PUNCT, F_BARRIER = 1, 2, 4, 8, 16, 32, 64


def code_points():
    for c in range(MAXCP):
        if not 0xD800 <= c <= 0xDFFF:
            yield c


def hangul_nfd(c):
    s = c - SBASE
    out = [0x1100 + s // 588, 0x1161 + (s % 588) // 28]
    if s % 28:
        out.append(0x11A7 + s % 28)
    return out


def ucd_prediction(c):
    """What the UCD of Python's unicodedata says for each stage."""
    ch = chr(c)
    cat = ud.category(ch)
    flags = 0
    if c == 0 or c == 0xFFFD or (cat in ("Cc", "Cf", "Co") and ch not in "\t\n\r"):
        flags |= F_DELETE
    elif ch in "\t\n\r" or ch.isspace() and cat not in ("Cc",) or cat == "Zs":
        flags |= F_SPACE
    if (0x4E00 <= c <= 0x9FFF or 0x3400 <= c <= 0x4DBF or 0x20000 <= c <= 0x2A6DF
            or 0x2A700 <= c <= 0x2B73F or 0x2B740 <= c <= 0x2B81F or 0x2B920 <= c <= 0x2CEAF
            or 0xF900 <= c <= 0xFAFF or 0x2F800 <= c <= 0x2FA1F):
        flags |= F_CJK
    strip = "".join(x for x in ud.normalize("NFD", ch) if ud.category(x) != "Mn")
    if strip == "":
        flags |= F_DROP
    if ch.isspace() or cat == "Zs":
        flags |= F_PT_SPACE
    elif (c < 128 and not ch.isalnum() and 33 <= c <= 126) or cat.startswith("P"):
        flags |= F_PT_PUNCT
    return flags, strip, ch.lower()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", "--output", default="unicode_tables.c")
    args = ap.parse_args()
    if tokenizers.__version__ != PINNED:
        print(f"warning: tokenizers {tokenizers.__version__}, tables were pinned to {PINNED}",
              file=sys.stderr)

    clean = N.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                             lowercase=False)
    cjk = N.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False,
                           lowercase=False)
    strip = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                             lowercase=False)
    lower = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False,
                             lowercase=True)
    pretok = P.BertPreTokenizer()

    flags_of = {}
    decomp = {}     # cp -> list of code points (non-empty, differs from cp); Hangul excluded
    lowers = {}     # cp -> list of code points, differs from cp
    ccc = {}        # surviving non-starters -> canonical combining class
    overrides = {"clean": [], "cjk": [], "strip": [], "lower": [], "pretok": []}

    for c in code_points():
        ch = chr(c)
        f = 0
        r = clean.normalize_str(ch)
        if r == "":
            f |= F_DELETE
        elif r == " " and ch != " ":
            f |= F_SPACE
        elif r == " ":
            f |= F_SPACE
        elif r != ch:
            sys.exit(f"clean_text U+{c:04X}: unexpected {r!r}")
        r = cjk.normalize_str(ch)
        if r == f" {ch} ":
            f |= F_CJK
        elif r != ch:
            sys.exit(f"chinese chars U+{c:04X}: unexpected {r!r}")
        r = strip.normalize_str(ch)
        if r == "":
            f |= F_DROP
            # A dropped character whose NFD holds a starter still ends a run of
            # non-starters for canonical reordering.
            if any(ud.combining(x) == 0 for x in ud.normalize("NFD", ch)):
                f |= F_BARRIER
        elif r != ch:
            seq = [ord(x) for x in r]
            if SBASE <= c < SBASE + SCOUNT:
                if seq != hangul_nfd(c):
                    sys.exit(f"Hangul U+{c:04X} does not decompose algorithmically")
            else:
                decomp[c] = seq
        if r == ch and ud.combining(ch):
            ccc[c] = ud.combining(ch)
        r = lower.normalize_str(ch)
        if r != ch:
            lowers[c] = [ord(x) for x in r]
        pieces = [p for p, _ in pretok.pre_tokenize_str("a" + ch + "b")]
        if pieces == ["a", "b"]:
            f |= F_PT_SPACE
        elif pieces == ["a", ch, "b"]:
            f |= F_PT_PUNCT
        elif pieces != ["a" + ch + "b"]:
            sys.exit(f"pre-tokenizer U+{c:04X}: unexpected {pieces!r}")
        flags_of[c] = f

        uf, ustrip, ulower = ucd_prediction(c)
        uf |= f & F_BARRIER
        for name, mask in (("clean", F_DELETE | F_SPACE), ("cjk", F_CJK),
                           ("pretok", F_PT_SPACE | F_PT_PUNCT)):
            if (uf ^ f) & mask:
                overrides[name].append(c)
        if ustrip != strip.normalize_str(ch):
            overrides["strip"].append(c)
        if ulower != lower.normalize_str(ch):
            overrides["lower"].append(c)

    # The C pipeline relies on these; stop rather than emit wrong tables.
    for c, seq in lowers.items():
        assert not any(x in ccc for x in seq), f"lowercase of U+{c:04X} is a non-starter"
    for c in ccc:
        assert c not in lowers and not flags_of[c] & (F_PT_SPACE | F_PT_PUNCT | F_SPACE)
    for c, f in flags_of.items():
        if f & (F_PT_SPACE | F_PT_PUNCT | F_SPACE):
            assert c not in ccc

    write(args.output, flags_of, decomp, lowers, ccc, overrides)


def ranges_of(cps):
    out = []
    for c in sorted(cps):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def lower_runs(lowers):
    """Single-code-point mappings as runs (first, last, stride, delta)."""
    runs = []
    for c in sorted(c for c, v in lowers.items() if len(v) == 1):
        d = lowers[c][0] - c
        if runs:
            first, last, stride, delta = runs[-1]
            if delta == d and (c - last == stride or (first == last and c - last in (1, 2))):
                runs[-1] = [first, c, c - last, d]
                continue
        runs.append([c, c, 1, d])
    return runs


def wrapped(w, items):
    """Writes the items as C initializer lines of at most 100 columns."""
    line = "   "
    for item in items:
        if len(line) + len(item) > 100:
            w(line)
            line = "   "
        line += item
    w(line)


def write(path, flags_of, decomp, lowers, ccc, overrides):
    runs = []
    prev = None
    for c in range(MAXCP):
        f = flags_of.get(c, F_DELETE)  # surrogates never reach the tables
        if f != prev:
            runs.append((c, f))
            prev = f
    multi = {c: v for c, v in lowers.items() if len(v) > 1}
    lruns = lower_runs(lowers)
    pool = []
    dentries = []
    for c in sorted(decomp):
        dentries.append((c, len(pool), len(decomp[c])))
        pool.extend(decomp[c])
    assert len(pool) < 65536 and max(n for _, _, n in dentries) <= 18

    o = []
    w = o.append
    w("/* Generated by plugins/embed-onnx/gen/gen_tables.py: do not edit.")
    w(f" * Reference: Hugging Face tokenizers {tokenizers.__version__}; Python unicodedata "
      f"{ud.unidata_version}.")
    w(" * Every stage below was read from the reference, one code point at a time. Where it")
    w(f" * differs from the UCD {ud.unidata_version} prediction the reference won; code points:")
    for name, cps in overrides.items():
        rs = ranges_of(cps)
        shown = ", ".join(f"{a:04X}" + (f"-{b:04X}" if b != a else "") for a, b in rs[:6])
        more = f", ... ({len(rs)} ranges)" if len(rs) > 6 else ""
        w(f" *   {name:<6} {len(cps):>6}: {shown}{more}".rstrip())
    w(" */")
    w('#include "unicode.h"')
    w("")
    w(f"/* {len(runs)} runs: (first code point << 8) | RUV__UNI_* flags, up to the next run. */")
    w(f"const uint32_t ruv__uni_runs[{len(runs)}] = {{")
    wrapped(w, (f" 0x{(c << 8) | f:08x}u," for c, f in runs))
    w("};")
    w(f"const size_t ruv__uni_nruns = {len(runs)};")
    w("")
    w("/* Accent stripping (NFD, then Mn dropped) where it neither keeps nor drops the")
    w(" * character; Hangul syllables are decomposed in code. */")
    w(f"const struct ruv__uni_decomp ruv__uni_decomps[{len(dentries)}] = {{")
    wrapped(w, (f" {{0x{c:x}, {off}, {n}}}," for c, off, n in dentries))
    w("};")
    w(f"const size_t ruv__uni_ndecomps = {len(dentries)};")
    w(f"const uint32_t ruv__uni_decomp_pool[{len(pool)}] = {{")
    wrapped(w, (f" 0x{x:x}," for x in pool))
    w("};")
    w("")
    w("/* Lowercase (Rust char::to_lowercase) as runs: first..last stepping by stride map to")
    w(" * cp + delta. Multi-code-point results are listed apart. */")
    w(f"const struct ruv__uni_lower_run ruv__uni_lower_runs[{len(lruns)}] = {{")
    wrapped(w, (f" {{0x{a:x}, 0x{b:x}, {s}, {d}}}," for a, b, s, d in lruns))
    w("};")
    w(f"const size_t ruv__uni_nlower_runs = {len(lruns)};")
    w(f"const struct ruv__uni_lower_multi ruv__uni_lower_multis[{len(multi)}] = {{")
    for c, v in sorted(multi.items()):
        assert len(v) <= 3
        vals = ", ".join(f"0x{x:x}" for x in v + [0] * (3 - len(v)))
        w(f"    {{0x{c:x}, {len(v)}, {{{vals}}}}},")
    w("};")
    w(f"const size_t ruv__uni_nlower_multis = {len(multi)};")
    w("")
    w("/* Canonical combining classes of the non-starters that survive accent stripping. */")
    w(f"const struct ruv__uni_ccc ruv__uni_cccs[{len(ccc)}] = {{")
    wrapped(w, (f" {{0x{c:x}, {k}}}," for c, k in sorted(ccc.items())))
    w("};")
    w(f"const size_t ruv__uni_ncccs = {len(ccc)};")
    with open(path, "w", encoding="ascii") as fh:
        fh.write("\n".join(o) + "\n")
    print(f"{path}: {len(runs)} flag runs, {len(dentries)} decompositions ({len(pool)} code points), "
          f"{len(lruns)} lowercase runs, {len(multi)} multi, {len(ccc)} ccc; overrides "
          + ", ".join(f"{k} {len(v)}" for k, v in overrides.items()))


if __name__ == "__main__":
    main()
