"""Writes the test vocabularies (tests/data/vocab_*.json, made by
scripts/make_test_vocabs.py) into GGUF files: the one place that decides which
tokenizer.ggml.* keys Shoal's test models carry.

  add_vocab(writer, vocab, pre)                adds the keys to a GGUFWriter
  write_vocab_gguf(path, arch, vocab, pre)     writes a vocabulary-only GGUF, which
                                               llama.cpp loads with vocab_only=True
                                               (it needs only general.architecture)

`vocab` is "bpe" or "spm" (tests/data/vocab_<vocab>.json), a path to such a file, or
its parsed dict. `pre` is tokenizer.ggml.pre: "llama-bpe", "qwen2", "gpt-2" or "default"
for the BPE vocabulary, "default" for the SentencePiece one.
"""
import json
from pathlib import Path

from gguf import GGUFWriter

TEST_DATA = Path(__file__).resolve().parents[1] / "data"

# tokenizer.ggml.pre values whose llama.cpp pre-tokenizer adds BOS by default.
LLAMA3_PRES = ("llama3", "llama-v3", "llama-bpe")
ID_KEYS = ("bos_token_id", "eos_token_id", "eot_token_id", "unknown_token_id",
           "padding_token_id")


def load_vocab(vocab) -> dict:
    if isinstance(vocab, dict):
        return vocab
    path = Path(vocab)
    if not path.suffix:
        path = TEST_DATA / f"vocab_{vocab}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def add_vocab(writer: GGUFWriter, vocab, pre: str) -> int:
    """Adds the tokenizer keys of `vocab` to `writer`; returns the number of tokens."""
    data = load_vocab(vocab)
    model = data["model"]
    writer.add_tokenizer_model(model)
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(data["tokens"])
    if "scores" in data:
        writer.add_token_scores(data["scores"])
    writer.add_token_types(data["token_types"])
    if model == "gpt2":
        writer.add_token_merges(data["merges"])
    for key in ID_KEYS:
        if key in data:
            writer.add_uint32(f"tokenizer.ggml.{key}", data[key])
    # Written explicitly, as llama.cpp's converters do. A BPE vocabulary adds BOS when
    # its pre-tokenizer is Llama 3's (llama.cpp's default) unless the JSON says otherwise.
    add_bos = data.get("add_bos_token", model == "gpt2" and pre in LLAMA3_PRES)
    writer.add_add_bos_token(bool(add_bos))
    writer.add_add_eos_token(bool(data.get("add_eos_token", False)))
    if "add_space_prefix" in data:
        writer.add_add_space_prefix(bool(data["add_space_prefix"]))
    return len(data["tokens"])


def write_vocab_gguf(path: Path, arch: str, vocab, pre: str) -> None:
    """Writes a GGUF holding only general.architecture and the tokenizer keys."""
    writer = GGUFWriter(str(path), arch=arch)
    add_vocab(writer, vocab, pre)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
