"""Names the CPU from what the machine reports, for benchmark reports.

A VM's /proc/cpuinfo may give a bare "AMD EPYC" as the model name; the
family and model numbers still say which generation it is, and the flags
say which vector instructions the kernels can use. Reads /proc/cpuinfo or
the text of `lscpu` (its keys are capitalised differently).
"""

from __future__ import annotations

from pathlib import Path

# AMD family 0x19 (25) spans two generations; model ranges from AMD's
# revision guides. Family 0x17 is Zen to Zen 2, 0x1A Zen 5.
_AMD_F19 = [((0x00, 0x0F), "Zen 3"), ((0x10, 0x1F), "Zen 4"), ((0x20, 0x2F), "Zen 3"),
            ((0x40, 0x5F), "Zen 3"), ((0x60, 0x7F), "Zen 4"), ((0xA0, 0xAF), "Zen 4")]
_VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_vbmi",
                 "avx512_vpopcntdq", "avx512_bf16", "amx_tile", "asimd", "sve")


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out.setdefault(k.strip().lower(), v.strip())
    return out


def microarchitecture(vendor: str, family: int, model: int) -> str | None:
    """AMD Zen generation from family/model, or None when not known here."""
    if "AMD" not in vendor:
        return None
    if family == 0x17:
        return "Zen 2" if model >= 0x30 else "Zen/Zen+"
    if family == 0x1A:
        return "Zen 5"
    if family == 0x19:
        for (lo, hi), name in _AMD_F19:
            if lo <= model <= hi:
                return name
    return None


def describe(text: str | None = None) -> str:
    """One line: model name, family/model (and the Zen generation they mean
    on AMD), and the vector flags present, with "no AVX-512" said when x86
    lacks it. text: /proc/cpuinfo or lscpu output; None reads /proc/cpuinfo."""
    if text is None:
        try:
            text = Path("/proc/cpuinfo").read_text()
        except OSError:
            return "unknown CPU"
    f = _fields(text)
    name = f.get("model name", "unknown CPU")
    vendor = f.get("vendor_id", f.get("vendor id", ""))
    parts = [name]
    try:
        fam, mod = int(f.get("cpu family", "")), int(f.get("model", ""))
    except ValueError:
        fam = mod = -1
    if fam >= 0:
        arch = microarchitecture(vendor, fam, mod)
        parts.append(f"(family {fam} model {mod}" + (f": {arch} class)" if arch else ")"))
    flags = set(f.get("flags", "").split())
    have = [x for x in _VECTOR_FLAGS if x in flags]
    if have:
        parts.append("with " + ", ".join(x.upper() for x in have))
    line = " ".join(parts)
    if "avx2" in flags and "avx512f" not in flags:
        line += "; no AVX-512"
    return line


if __name__ == "__main__":
    print(describe())
