"""Random-weight GGUF models in the real shapes of Shoal's four architectures, written
with the `gguf` package (llama.cpp's writer). They are tiny (a few MB) but complete:
every metadata key and tensor a loader needs, real tokenizer vocabularies
(tests/data/vocab_*.json), the Qwen3 chat template in the qwen models (the others use
none, or gemma3's built-in one), and three weight formats:

  f32     every tensor float32 (logits comparable to a reference within ~1e-5)
  q8_0    2-D weights Q8_0
  q4_k_m  the tensor types llama.cpp's Q4_K_M recipe picks (REFERENCE.md §2.3),
          including its fallbacks for rows that are not a multiple of 256

Weights are drawn from a seeded generator, so files are identical on every run.
Writes <out>/models/<arch>-<format>.gguf.

Tied embeddings (qwen3, gemma3) need small embeddings. With unit-variance rows,
token_embd[x] dominates the residual stream h all the way up (the layers add O(1) per
dimension), and the output, token_embd . norm(h), peaks at the input token itself:
llama.cpp's top token was the input token at every position and greedy continuations
were one token repeated, so no equivalence test on these models could fail. As in
trained models, the tied rows here are small (`embd_std`, 0.01 or less; trained
checkpoints have a few hundredths), so the layers' history-dependent contributions
dominate h, and a large final norm weight (`output_norm_scale`) brings the logits
back to a spread of a few units. The tied code path (no output.weight; the output
reads token_embd, Q6_K in Q4_K_M) stays exercised. check_history_dependence() is the
bar every model must pass (scripts/make_golden_logits.py applies it to llama.cpp's
outputs; logits_reference_test.cc checks the committed goldens).
"""
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType as Q, quants

import kquants
import paths
import vocab_gguf


@dataclass(frozen=True)
class Spec:
    arch: str
    vocab: str  # "bpe" or "spm" (tests/data/vocab_<vocab>.json)
    pre: str  # tokenizer.ggml.pre
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_expert: int = 0
    n_expert_used: int = 0
    n_ff_exp: int = 0
    rope_base: float = 10000.0
    eps: float = 1e-5
    tied: bool = False
    chat_template: str = ""  # a file under tests/data/templates; "" = none in the file
    sliding_window: int = 0  # gemma3 only
    rope_freqs: bool = False  # llama 3.1-style per-frequency factors
    embd_std: float = 1.0  # token_embd's standard deviation (small when tied, see above)
    output_norm_scale: float = 1.0  # multiplies output_norm.weight


# Tied models' embedding scale and final norm gain (see the module comment). Gemma 3
# multiplies its input embeddings by sqrt(n_embd) = 17.9, hence its smaller rows. With
# these, llama.cpp's greedy continuations of the test prompts have 21-32 distinct tokens
# in 32 and the top token is never the input token (f32, q8_0, q4_k_m); with 0.05 rows
# gemma3 is back to one repeated token.
EMBD_STD_QWEN3, OUTPUT_NORM_SCALE_QWEN3 = 0.01, 20.0
EMBD_STD_GEMMA3, OUTPUT_NORM_SCALE_GEMMA3 = 0.005, 30.0

# Widths follow the real models' quirks at toy scale: llama and qwen rows are
# multiples of 256 (k-quants apply); gemma3's 320 is not (fallbacks, as 640 in the
# real Gemma 3 270M); qwen3 and gemma3 set head_dim independently of n_embd/n_head.
SPECS = [
    Spec("llama", "bpe", "llama-bpe", n_embd=256, n_layer=2, n_head=8, n_head_kv=2, head_dim=32,
         n_ff=512, rope_base=500000.0, rope_freqs=True),
    Spec("qwen3", "bpe", "qwen2", n_embd=256, n_layer=2, n_head=8, n_head_kv=4, head_dim=64,
         n_ff=512, rope_base=1000000.0, eps=1e-6, tied=True, embd_std=EMBD_STD_QWEN3,
         output_norm_scale=OUTPUT_NORM_SCALE_QWEN3, chat_template="Qwen-Qwen3-0.6B.jinja"),
    Spec("qwen3moe", "bpe", "qwen2", n_embd=256, n_layer=2, n_head=8, n_head_kv=4, head_dim=32,
         n_ff=512, n_expert=8, n_expert_used=2, n_ff_exp=256, rope_base=1000000.0, eps=1e-6,
         chat_template="Qwen-Qwen3-0.6B.jinja"),
    Spec("gemma3", "spm", "default", n_embd=320, n_layer=6, n_head=4, n_head_kv=1, head_dim=64,
         n_ff=512, rope_base=1000000.0, eps=1e-6, tied=True, sliding_window=8,
         embd_std=EMBD_STD_GEMMA3, output_norm_scale=OUTPUT_NORM_SCALE_GEMMA3),
]
FORMATS = ["f32", "q8_0", "q4_k_m"]
CONTEXT_LENGTH = 2048
LEGACY_FALLBACK = {"Q4_K": Q.Q5_0, "Q5_K": Q.Q5_1, "Q6_K": Q.Q8_0}


def use_more_bits(i_layer: int, n_layer: int) -> bool:
    return (i_layer < n_layer // 8 or i_layer >= 7 * n_layer // 8 or
            (i_layer - n_layer // 8) % 3 == 2)


def q4_k_m_type(name: str, spec: Spec, ne0: int):
    """llama.cpp's Q4_K_M choice for one 2-D weight (llama-quant.cpp)."""
    layer = int(m.group(1)) if (m := re.match(r"blk\.(\d+)\.", name)) else -1
    if name == "output.weight" or (name == "token_embd.weight" and spec.tied):
        wanted = "Q6_K"
    elif "attn_v" in name:
        wanted = "Q8_0" if spec.n_expert == 8 else ("Q6_K" if use_more_bits(layer, spec.n_layer) else "Q4_K")
    elif "ffn_down" in name:
        wanted = "Q6_K" if use_more_bits(layer, spec.n_layer) else "Q4_K"
    elif "attn_output" in name and spec.n_expert == 8:
        wanted = "Q5_K"
    else:
        wanted = "Q4_K"
    if wanted.endswith("_K") and ne0 % 256 != 0:
        return LEGACY_FALLBACK[wanted]
    return getattr(Q, wanted)


def weight_type(name: str, spec: Spec, fmt: str, data: np.ndarray):
    # Never quantized: 1-D tensors (norms, rope_freqs) and MoE routers.
    if fmt == "f32" or data.ndim < 2 or "ffn_gate_inp" in name:
        return Q.F32
    if fmt == "q8_0":
        return Q.Q8_0
    return q4_k_m_type(name, spec, data.shape[-1])


def add_weight(writer: GGUFWriter, name: str, data: np.ndarray, qtype) -> None:
    if qtype == Q.F32:
        writer.add_tensor(name, data.astype(np.float32))
        return
    rows = data.reshape(-1, data.shape[-1])
    if qtype.name in kquants.QUANTIZERS:
        packed = kquants.quantize(rows, qtype.name)
    else:
        packed = quants.quantize(rows, qtype)
    writer.add_tensor(name, packed.reshape(*data.shape[:-1], -1), raw_dtype=qtype)


def tensors(spec: Spec, n_vocab: int, rng: np.random.Generator):
    """Yields (name, array) in numpy order [.., out, in] (= ggml ne reversed)."""
    E, D, F = spec.n_embd, spec.head_dim, spec.n_ff

    def linear(n_out, n_in, *lead):
        return rng.standard_normal((*lead, n_out, n_in), dtype=np.float32) / np.sqrt(n_in)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    yield "token_embd.weight", spec.embd_std * rng.standard_normal((n_vocab, E), dtype=np.float32)
    if spec.rope_freqs:
        yield "rope_freqs.weight", np.linspace(1.0, 8.0, D // 2, dtype=np.float32)
    for i in range(spec.n_layer):
        p = f"blk.{i}."
        yield p + "attn_norm.weight", norm(E)
        yield p + "attn_q.weight", linear(spec.n_head * D, E)
        yield p + "attn_k.weight", linear(spec.n_head_kv * D, E)
        yield p + "attn_v.weight", linear(spec.n_head_kv * D, E)
        yield p + "attn_output.weight", linear(E, spec.n_head * D)
        if spec.arch != "llama":
            yield p + "attn_q_norm.weight", norm(D)
            yield p + "attn_k_norm.weight", norm(D)
        if spec.arch == "gemma3":
            yield p + "post_attention_norm.weight", norm(E)
            yield p + "post_ffw_norm.weight", norm(E)
        yield p + "ffn_norm.weight", norm(E)
        if spec.n_expert:
            X, Fe = spec.n_expert, spec.n_ff_exp
            yield p + "ffn_gate_inp.weight", linear(X, E)
            yield p + "ffn_gate_exps.weight", linear(Fe, E, X)
            yield p + "ffn_up_exps.weight", linear(Fe, E, X)
            yield p + "ffn_down_exps.weight", linear(E, Fe, X)
        else:
            yield p + "ffn_gate.weight", linear(F, E)
            yield p + "ffn_up.weight", linear(F, E)
            yield p + "ffn_down.weight", linear(E, F)
    yield "output_norm.weight", spec.output_norm_scale * norm(E)
    if not spec.tied:
        yield "output.weight", linear(n_vocab, E)


def add_hparams(writer: GGUFWriter, spec: Spec, fmt: str) -> None:
    writer.add_name(f"shoal-test-{spec.arch}-{fmt}")
    writer.add_context_length(CONTEXT_LENGTH)
    writer.add_embedding_length(spec.n_embd)
    writer.add_block_count(spec.n_layer)
    writer.add_feed_forward_length(spec.n_ff)
    writer.add_head_count(spec.n_head)
    writer.add_head_count_kv(spec.n_head_kv)
    writer.add_key_length(spec.head_dim)
    writer.add_value_length(spec.head_dim)
    writer.add_rope_dimension_count(spec.head_dim)
    writer.add_rope_freq_base(spec.rope_base)
    writer.add_layer_norm_rms_eps(spec.eps)
    if spec.n_expert:
        writer.add_expert_count(spec.n_expert)
        writer.add_expert_used_count(spec.n_expert_used)
        writer.add_expert_feed_forward_length(spec.n_ff_exp)
    if spec.sliding_window:
        writer.add_sliding_window(spec.sliding_window)
    file_type = {"f32": 0, "q8_0": 7, "q4_k_m": 15}[fmt]
    writer.add_file_type(file_type)
    if fmt != "f32":
        writer.add_quantization_version(2)


def write_model(path: Path, spec: Spec, fmt: str) -> None:
    seed = sum(map(ord, spec.arch))  # the same weights in every format
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(path, arch=spec.arch)
    add_hparams(writer, spec, fmt)
    n_vocab = vocab_gguf.add_vocab(writer, spec.vocab, spec.pre)
    if spec.chat_template:
        writer.add_chat_template((paths.TEST_DATA / "templates" / spec.chat_template).read_text())
    for name, data in tensors(spec, n_vocab, rng):
        add_weight(writer, name, data, weight_type(name, spec, fmt, data))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write(out: Path) -> None:
    model_dir = out / "models"
    model_dir.mkdir(parents=True, exist_ok=True)
    for spec in SPECS:
        for fmt in FORMATS:
            write_model(model_dir / f"{spec.arch}-{fmt}.gguf", spec, fmt)


# The bar every random test model must pass on llama.cpp's outputs, so that equivalence
# tests (batched = alone, preempted = uninterrupted) can fail: greedy continuations of
# the test prompts that are not one token repeated, and a top token that depends on more
# than the input token.
MIN_DISTINCT_CONTINUATION_TOKENS = 4  # of 32
MAX_TOP1_IS_INPUT_FRACTION = 0.25


def check_history_dependence(tokens, top1, continuation) -> list:
    """Problems with one prompt's llama.cpp outputs: `tokens` the prompt, `top1` the top
    token at each of its positions, `continuation` the greedy continuation. [] = fine."""
    problems = []
    distinct = len(set(continuation))
    if distinct < MIN_DISTINCT_CONTINUATION_TOKENS:
        problems.append(f"greedy continuation has {distinct} distinct tokens in "
                        f"{len(continuation)} (want >= {MIN_DISTINCT_CONTINUATION_TOKENS})")
    echoes = sum(int(t == p) for t, p in zip(tokens, top1))
    if echoes > MAX_TOP1_IS_INPUT_FRACTION * len(tokens):
        problems.append(f"the top token is the input token at {echoes} of {len(tokens)} "
                        f"positions (want <= {MAX_TOP1_IS_INPUT_FRACTION:.0%})")
    return problems
