"""A GGUF file holding one tensor per supported ggml type plus, for each, the float32
values the `gguf` package's dequantize gives for it (tensor "<name>.expected"). The
reference dequantization test (tests/model/quant/dequantize_test.cc) requires Shoal's
values to match exactly.

Each type gets two tensors: realistic data quantized, and random bytes (every bit
pattern of the quants, with the half-precision scale fields set to finite values,
some subnormal and negative).
"""
from pathlib import Path

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType as Q, quants

import kquants

# (type, row length): row lengths are awkward multiples of the block size.
CASES = [
    (Q.F32, 37), (Q.F16, 37), (Q.BF16, 37),
    (Q.Q4_0, 96), (Q.Q4_1, 96), (Q.Q5_0, 96), (Q.Q5_1, 96), (Q.Q8_0, 96),
    (Q.Q4_K, 512), (Q.Q5_K, 512), (Q.Q6_K, 512),
]
ROWS = 3

# Byte offsets of the half-precision scale fields in each block.
HALF_FIELDS = {
    Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
    Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208],
}


def realistic(qtype, x: np.ndarray) -> np.ndarray:
    if qtype == Q.F32:
        return x
    if qtype.name in kquants.QUANTIZERS:
        return kquants.quantize(x, qtype.name)
    return quants.quantize(x, qtype)


def random_bytes(qtype, cols: int, rng) -> np.ndarray:
    if qtype in (Q.F32, Q.F16, Q.BF16):
        # Raw bit patterns except NaN/inf (their payloads are not worth comparing).
        # The exponent range covers subnormals of each type without overflowing it.
        low, high = (-20.0, 10.0) if qtype == Q.F16 else (-90.0, 60.0)
        values = rng.standard_normal((ROWS, cols)) * np.exp(rng.uniform(low, high, (ROWS, cols)))
        return values.astype(np.float32) if qtype == Q.F32 else quants.quantize(
            values.astype(np.float32), qtype)
    block, size = quants.GGML_QUANT_SIZES[qtype]
    n_blocks = ROWS * cols // block
    data = rng.integers(0, 256, (n_blocks, size), dtype=np.uint8)
    for offset in HALF_FIELDS[qtype]:
        # Finite halves across the range: normal, subnormal, negative.
        halves = (rng.standard_normal(n_blocks) * np.exp(rng.uniform(-16, 4, n_blocks))).astype(np.float16)
        data[:, offset:offset + 2] = halves.view(np.uint8).reshape(-1, 2)
    return data.reshape(ROWS, -1)


def write(out: Path) -> None:
    rng = np.random.default_rng(1234)
    writer = GGUFWriter(out / "quant_cases.gguf", arch="quant_cases")
    for qtype, cols in CASES:
        x = (rng.standard_normal((ROWS, cols)) * 0.1).astype(np.float32)
        for kind, data in (("realistic", realistic(qtype, x)), ("random", random_bytes(qtype, cols, rng))):
            name = f"{qtype.name}.{kind}"
            expected = quants.dequantize(data, qtype).astype(np.float32).reshape(ROWS, cols)
            if qtype in (Q.F32, Q.F16):
                writer.add_tensor(name, data)  # the numpy dtype gives the type
            else:
                writer.add_tensor(name, data, raw_dtype=qtype)  # data: [rows, bytes per row]
            writer.add_tensor(f"{name}.expected", expected)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
