"""Vocabulary-only GGUF files for the tokenizer tests, exactly those that
scripts/make_golden_tokenizer.py made its golden files from (tests/golden/tokenizer_*.json
record their sha256). Writes <out>/vocabs/<name>.gguf.
"""
from pathlib import Path

import vocab_gguf

# name -> (general.architecture, vocabulary, tokenizer.ggml.pre)
VOCAB_FILES = {
    "bpe-llama-bpe": ("llama", "bpe", "llama-bpe"),
    "bpe-qwen2": ("qwen3", "bpe", "qwen2"),
    "bpe-gpt-2": ("gpt2", "bpe", "gpt-2"),
    "bpe-default": ("llama", "bpe", "default"),
    "spm": ("gemma3", "spm", "default"),
}


def write(out: Path) -> None:
    vocab_dir = out / "vocabs"
    vocab_dir.mkdir(parents=True, exist_ok=True)
    for name, (arch, vocab, pre) in VOCAB_FILES.items():
        vocab_gguf.write_vocab_gguf(vocab_dir / f"{name}.gguf", arch, vocab, pre)
