#!/usr/bin/env python3
"""Regenerates tests/golden/chat_encoding.json: conversations turned into prompt token
ids the way llama.cpp's server does it. The template is rendered by Python's jinja2
(configured as transformers does, tests/data_gen/templates.py); then, as llama.cpp's
common/chat.cpp does, a leading BOS text is dropped when the vocabulary adds BOS (and
a trailing EOS text when it adds EOS), and llama.cpp tokenizes the result with special
tokens parsed. Shoal's ModelFile::EncodeChat must give the same ids
(tests/model/chat_encoding_test.cc).

Models:
  gemma3-270m  the real Gemma 3 270M file with the built-in Gemma 3 template (the file
               has none, as llama.cpp falls back to its own Gemma template)
  gemma3-test  the test SentencePiece vocabulary (the generated gemma3 models)
  qwen3-test   the test byte-level BPE vocabulary with the Qwen3 template (the
               generated qwen3 models carry it)

Needs llama-cpp-python (`scripts/setup --reference`):
  .venv/bin/python scripts/make_golden_chat.py
"""
import json
import sys
import tempfile
from pathlib import Path

import llama_cpp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data_gen"))
import paths  # noqa: E402
import templates  # noqa: E402
import vocab_gguf  # noqa: E402

CONVERSATIONS = [
    {"messages": [{"role": "user", "content": "Why is the sky blue?"}]},
    {"messages": [{"role": "system", "content": "You are a terse assistant."},
                  {"role": "user", "content": "Name three prime numbers."}]},
    {"messages": [{"role": "user", "content": "Hi!"},
                  {"role": "assistant", "content": "Hello. How can I help?"},
                  {"role": "user", "content": "  Translate 'fish' to French, Japanese and emoji. \n"}]},
    {"messages": [{"role": "user", "content": "Continue: 1, 2, 3"},
                  {"role": "assistant", "content": "4, 5, 6"}],
     "add_generation_prompt": False},
    # Special-token text typed by a user is parsed as a special token (llama.cpp and
    # vLLM both do this when tokenizing the rendered prompt).
    {"messages": [{"role": "user", "content": "What does <end_of_turn> or <|im_end|> mean?"}]},
    {"messages": [{"role": "user", "content": "Écris du code:\n```py\nprint('ok')\n```\n\n"}]},
]

MODELS = {
    "gemma3-270m": dict(template=ROOT / "model/templates/gemma3.jinja", vocab=None),
    "gemma3-test": dict(template=ROOT / "model/templates/gemma3.jinja",
                        vocab=("gemma3", "spm", "default")),
    "qwen3-test": dict(template=paths.TEST_DATA / "templates/Qwen-Qwen3-0.6B.jinja",
                       vocab=("qwen3", "bpe", "qwen2"), extra={"enable_thinking": False}),
}


def piece(llm, token_id: int) -> str:
    if token_id < 0:
        return ""
    return llm.detokenize([token_id], special=True).decode("utf-8", errors="replace")


def encode_all(llm, template_path: Path, extra: dict) -> list:
    env = templates.make_environment()
    template = env.from_string(template_path.read_text())
    vocab = llm._model.vocab
    bos, eos = piece(llm, llama_cpp.llama_vocab_bos(vocab)), piece(llm, llama_cpp.llama_vocab_eos(vocab))
    add_bos, add_eos = llama_cpp.llama_vocab_get_add_bos(vocab), llama_cpp.llama_vocab_get_add_eos(vocab)
    cases = []
    for conversation in CONVERSATIONS:
        add_generation_prompt = conversation.get("add_generation_prompt", True)
        prompt = template.render(messages=conversation["messages"], tools=None,
                                 add_generation_prompt=add_generation_prompt,
                                 bos_token=bos, eos_token=eos, **extra)
        if add_bos and bos and prompt.startswith(bos):
            prompt = prompt[len(bos):]
        if add_eos and eos and prompt.endswith(eos):
            prompt = prompt[:-len(eos)]
        ids = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        cases.append({"messages": conversation["messages"],
                      "add_generation_prompt": add_generation_prompt, "extra": extra,
                      "prompt": prompt, "ids": ids})
    return cases


def main() -> int:
    golden = {"made_by": "scripts/make_golden_chat.py",
              "llama_cpp_python": llama_cpp.__version__, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in MODELS.items():
            if spec["vocab"] is None:
                path = paths.gemma3_gguf()
            else:
                path = Path(tmp) / f"{name}.gguf"
                vocab_gguf.write_vocab_gguf(path, *spec["vocab"])
            llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
            golden["models"][name] = encode_all(llm, spec["template"], spec.get("extra", {}))
    out = ROOT / "tests" / "golden" / "chat_encoding.json"
    out.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
