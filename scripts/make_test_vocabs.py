#!/usr/bin/env python3
"""Trains the two small vocabularies of Shoal's test models and writes them as JSON.

  tests/data/vocab_bpe.json  byte-level BPE (GPT-2 / Qwen / Llama 3 style), ~4000 tokens,
                             trained with Hugging Face `tokenizers`; ChatML specials
                             <|endoftext|> <|im_start|> <|im_end|> (CONTROL) and
                             <think> </think> (USER_DEFINED) appended at the end.
  tests/data/vocab_spm.json  SentencePiece BPE with byte fallback, ~4000 tokens, trained
                             with `sentencepiece`, laid out like Gemma 3's vocabulary:
                             <pad> 0, <eos> 1, <bos> 2, <unk> 3, <mask> 4, unused
                             controls, <start_of_turn> 105, <end_of_turn> 106, user-
                             defined newline/space runs and tags, <0x00>..<0xFF>, pieces.

The training text is offline: docstrings of a fixed list of Python standard-library
modules, some of their source lines, and multilingual lines written below. Output is
deterministic for a given Python version and package versions (recorded in the files).
tests/data_gen/vocab_gguf.py writes these vocabularies into GGUF files.

Needs the reference packages (`scripts/setup --reference`, then
`.venv/bin/pip install -r scripts/requirements-reference.txt`):
  .venv/bin/python scripts/make_test_vocabs.py
"""
import argparse
import importlib
import inspect
import json
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VOCAB_SIZE = 4000

MODULES = [
    "abc", "argparse", "ast", "asyncio", "base64", "bisect", "calendar", "collections",
    "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "email",
    "enum", "fnmatch", "fractions", "functools", "glob", "gzip", "hashlib", "heapq", "hmac",
    "html", "http.client", "inspect", "io", "ipaddress", "itertools", "json", "logging",
    "math", "numbers", "operator", "os", "pathlib", "pickle", "pprint", "queue", "random",
    "re", "secrets", "shlex", "shutil", "socket", "sqlite3", "statistics", "string",
    "struct", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "timeit",
    "tokenize", "traceback", "types", "typing", "unittest", "urllib.parse", "uuid",
    "warnings", "weakref", "xml.etree.ElementTree", "zipfile",
]
SOURCE_MODULES = ["textwrap", "json.encoder", "heapq", "bisect", "shlex", "fnmatch"]

MULTILINGUAL = """\
Déjà vu: the café on the Rue de l'Église serves crème brûlée and piña colada.
Ein größerer Fußgängerübergang führt über die Straße; Äpfel, Öl und Übermut.
¿Dónde está la estación? ¡Mañana será otro día, señor Núñez!
Ação, coração e informação são palavras portuguesas com cedilha e til.
Zażółć gęślą jaźń — łódź płynie po jeziorze; Čeština má háčky: ř, š, ž.
Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο. Καλημέρα κόσμε!
Съешь же ещё этих мягких французских булок да выпей чаю. Привет, мир!
Українська мова: їжак, ґанок, є, і. Слава працьовитим людям.
你好，世界！今天天气很好，我们去公园散步吧。机器学习和自然语言处理。
日本語のテキスト：こんにちは、世界。カタカナとひらがなと漢字を混ぜます。
한국어 문장입니다. 안녕하세요, 만나서 반갑습니다. 서울은 크고 아름답다.
مرحبا بالعالم. اللغة العربية تكتب من اليمين إلى اليسار.
שלום עולם. עברית נכתבת מימין לשמאל.
नमस्ते दुनिया। हिंदी देवनागरी लिपि में लिखी जाती है।
สวัสดีชาวโลก ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ
Tiếng Việt có nhiều dấu: Phở bò, bánh mì, cà phê sữa đá.
Emoji: 😀 😂 🥰 👍🏽 👩‍💻 👨‍👩‍👧‍👦 🇫🇷 🇯🇵 ❤️ ✨ 🚀 🎉
Math: ∀x ∈ ℝ, ∑ᵢ xᵢ² ≥ 0; π ≈ 3.14159; √2 ≈ 1.41421; ∞ ≠ −∞.
Prices: €12,50 £9.99 ¥1000 $3.5M; 50% off; 2024-06-01T12:00:00Z.
def fibonacci(n: int) -> int:
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)
for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }
const greet = (name) => `Hello, ${name}!`;
SELECT id, name FROM users WHERE age >= 18 ORDER BY name;
fn main() { println!("Hello, world! {}", 42); }
<div class="container"><p>Hello &amp; welcome</p></div>
{"key": "value", "list": [1, 2, 3], "nested": {"a": null, "b": true}}
I'm sure you're right; we'll see. They've said it's fine, and I'd agree. Don't!
IT'S LOUD. YOU'RE KIDDING. WE'LL SEE. THEY'VE GONE. I'D NEVER. DON'T.
"""


def training_lines() -> list[str]:
    lines = []
    seen = set()
    for name in MODULES:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module)]
        for attr in sorted(vars(module)):
            if attr.startswith("_"):
                continue
            obj = getattr(module, attr)
            if getattr(obj, "__module__", None) == module.__name__:
                docs.append(inspect.getdoc(obj))
        for doc in docs:
            if doc and doc not in seen:
                seen.add(doc)
                lines.extend(line for line in doc.splitlines() if line.strip())
    for name in SOURCE_MODULES:
        lines.extend(inspect.getsource(importlib.import_module(name)).splitlines()[:400])
    multilingual = MULTILINGUAL.splitlines()
    lines.extend(multilingual * 20)  # enough weight to learn a few non-Latin pieces
    return [line for line in lines if line.strip()]


def versions() -> dict:
    import sentencepiece
    import tokenizers
    return {"python": platform.python_version(), "tokenizers": tokenizers.__version__,
            "sentencepiece": sentencepiece.__version__}


# --- byte-level BPE ------------------------------------------------------------------

BPE_CONTROL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
BPE_USER_DEFINED = ["<think>", "</think>"]


def make_bpe(lines: list[str]) -> dict:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    extra = len(BPE_CONTROL) + len(BPE_USER_DEFINED)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE - extra, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    # Lines keep their newline so that newline pieces are learned too.
    tokenizer.train_from_iterator([line + "\n" for line in lines], trainer=trainer)
    model = json.loads(tokenizer.to_str())["model"]
    vocab = sorted(model["vocab"].items(), key=lambda item: item[1])
    tokens = [text for text, _ in vocab]
    assert [i for _, i in vocab] == list(range(len(tokens)))
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    types = [1] * len(tokens)
    special = {}
    for text in BPE_CONTROL:
        special[text] = len(tokens)
        tokens.append(text)
        types.append(3)
    for text in BPE_USER_DEFINED:
        special[text] = len(tokens)
        tokens.append(text)
        types.append(4)
    return {
        "model": "gpt2",
        "tokens": tokens,
        "token_types": types,
        "merges": merges,
        "bos_token_id": special["<|endoftext|>"],
        "eos_token_id": special["<|im_end|>"],
        "eot_token_id": special["<|im_end|>"],
        "padding_token_id": special["<|endoftext|>"],
        "add_eos_token": False,
    }


# --- SentencePiece BPE ---------------------------------------------------------------

SPM_UNUSED = 99  # <unused0>..<unused98> fill ids 6..104 as in Gemma 3
SPM_USER_DEFINED = (["\n" * n for n in range(1, 5)] + [" " * n for n in range(2, 6)] +
                    ["<b>", "</b>", "<s>", "</s>", "<code>", "</code>"])


def make_spm(lines: list[str]) -> dict:
    import sentencepiece as spm

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        prefix = str(Path(tmp) / "spm")
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=prefix, model_type="bpe",
            vocab_size=VOCAB_SIZE - 100 - len(SPM_USER_DEFINED) - 4,
            character_coverage=0.9995, byte_fallback=True, split_digits=True,
            add_dummy_prefix=False, remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=True, normalization_rule_name="identity",
            pad_id=-1, bos_id=-1, eos_id=-1, unk_id=0, num_threads=1,
            input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2)
        processor = spm.SentencePieceProcessor(model_file=prefix + ".model")
        pieces = [(processor.id_to_piece(i), processor.get_score(i))
                  for i in range(processor.get_piece_size())]

    tokens, scores, types = [], [], []

    def add(text, score, kind):
        tokens.append(text)
        scores.append(score)
        types.append(kind)

    for text in ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "[multimodal]"]:
        add(text, -1000.0, 4 if text == "[multimodal]" else 3)
    for i in range(SPM_UNUSED):
        add(f"<unused{i}>", -1000.0, 3)
    add("<start_of_turn>", -1000.0, 3)
    add("<end_of_turn>", -1000.0, 3)
    assert tokens.index("<start_of_turn>") == 105
    for text in SPM_USER_DEFINED:
        add(text, -1000.0, 4)
    for byte in range(256):
        add(f"<0x{byte:02X}>", 0.0, 6)
    for text, score in pieces:
        if text in ("<unk>",) or (text.startswith("<0x") and len(text) == 6):
            continue
        add(text, float(score), 1)
    return {
        "model": "llama",
        "tokens": tokens,
        "scores": scores,
        "token_types": types,
        "bos_token_id": 2,
        "eos_token_id": 1,
        "unknown_token_id": 3,
        "padding_token_id": 0,
        "add_bos_token": True,
        "add_eos_token": False,
        "add_space_prefix": False,
    }


def write(path: Path, data: dict) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(data['tokens'])} tokens, {len(text.encode())} bytes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data")
    args = parser.parse_args()
    lines = training_lines()
    meta = {"made_by": "scripts/make_test_vocabs.py", "versions": versions(),
            "training_lines": len(lines)}
    write(args.out / "vocab_bpe.json", {"meta": meta, **make_bpe(lines)})
    write(args.out / "vocab_spm.json", {"meta": meta, **make_spm(lines)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
