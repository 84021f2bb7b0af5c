"""Quantizers for ggml's k-quant blocks (Q4_K, Q5_K, Q6_K), which the `gguf` package
can dequantize but not produce. They make valid blocks by plain min/max rounding (not
llama.cpp's error-minimising search): test models need correct encodings, not the
best ones. Block layouts: REFERENCE.md §2.1; gguf-py's dequantize is the check.
"""
import numpy as np

QK_K = 256


def _f16(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16)


def _pack_scales_mins(sc: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Packs 8 six-bit scales and mins per block into 12 bytes (inverse of
    get_scale_min_k4)."""
    n = sc.shape[0]
    q = np.zeros((n, 12), dtype=np.uint8)
    q[:, 0:4] = sc[:, 0:4]
    q[:, 4:8] = m[:, 0:4]
    q[:, 8:12] = (sc[:, 4:8] & 0xF) | ((m[:, 4:8] & 0xF) << 4)
    q[:, 0:4] |= (sc[:, 4:8] >> 4) << 6
    q[:, 4:8] |= (m[:, 4:8] >> 4) << 6
    return q


def _affine_subblocks(x: np.ndarray, levels: int):
    """Per 32-element sub-block: 6-bit scale and min indices, super-block d/dmin (f16),
    and the quantized values in [0, levels]."""
    sub = x.reshape(-1, 8, 32)
    lo = np.minimum(sub.min(axis=2), 0.0)
    hi = sub.max(axis=2)
    scale = (hi - lo) / levels
    d = _f16(scale.max(axis=1) / 63)
    dmin = _f16((-lo).max(axis=1) / 63)
    d32 = d.astype(np.float32)[:, None]
    dmin32 = dmin.astype(np.float32)[:, None]
    sc = np.where(d32 > 0, np.rint(scale / np.where(d32 > 0, d32, 1)), 0).clip(0, 63)
    m = np.where(dmin32 > 0, np.rint(-lo / np.where(dmin32 > 0, dmin32, 1)), 0).clip(0, 63)
    step = (d32 * sc)[:, :, None]
    offset = (dmin32 * m)[:, :, None]
    q = np.where(step > 0, np.rint((sub + offset) / np.where(step > 0, step, 1)), 0)
    q = q.clip(0, levels).astype(np.uint8).reshape(-1, QK_K)
    return d, dmin, sc.astype(np.uint8), m.astype(np.uint8), q


def _nibbles(q: np.ndarray) -> np.ndarray:
    """qs bytes: for each 64-element chunk, low nibbles = first 32, high = next 32."""
    chunks = q.reshape(-1, 4, 2, 32)
    return ((chunks[:, :, 0, :] & 0xF) | ((chunks[:, :, 1, :] & 0xF) << 4)).reshape(-1, 128)


def quantize_q4_k(x: np.ndarray) -> np.ndarray:
    d, dmin, sc, m, q = _affine_subblocks(x, 15)
    return np.concatenate([d.view(np.uint8).reshape(-1, 2), dmin.view(np.uint8).reshape(-1, 2),
                           _pack_scales_mins(sc, m), _nibbles(q)], axis=1)


def quantize_q5_k(x: np.ndarray) -> np.ndarray:
    d, dmin, sc, m, q = _affine_subblocks(x, 31)
    chunks = q.reshape(-1, 4, 2, 32)
    fifth = (chunks >> 4) & 1  # [block, chunk, half, l]
    shifts = (2 * np.arange(4)[:, None] + np.arange(2)[None, :])[None, :, :, None]
    qh = (fifth << shifts).sum(axis=(1, 2)).astype(np.uint8)
    return np.concatenate([d.view(np.uint8).reshape(-1, 2), dmin.view(np.uint8).reshape(-1, 2),
                           _pack_scales_mins(sc, m), qh, _nibbles(q)], axis=1)


def quantize_q6_k(x: np.ndarray) -> np.ndarray:
    sub = x.reshape(-1, 16, 16)
    amax = np.abs(sub).max(axis=2)
    scale = amax / 31
    d = _f16(scale.max(axis=1) / 127)
    d32 = d.astype(np.float32)[:, None]
    sc = np.where(d32 > 0, np.rint(scale / np.where(d32 > 0, d32, 1)), 0).clip(-128, 127)
    step = (d32 * sc)[:, :, None]
    q = np.where(step != 0, np.rint(sub / np.where(step != 0, step, 1)), 0).clip(-32, 31)
    q = (q + 32).astype(np.uint8).reshape(-1, 2, 4, 32)  # [block, half, quarter, l]
    ql = np.concatenate([(q[:, :, 0] & 0xF) | ((q[:, :, 2] & 0xF) << 4),
                         (q[:, :, 1] & 0xF) | ((q[:, :, 3] & 0xF) << 4)], axis=2).reshape(-1, 128)
    qh = ((q[:, :, 0] >> 4) | ((q[:, :, 1] >> 4) << 2) | ((q[:, :, 2] >> 4) << 4) |
          ((q[:, :, 3] >> 4) << 6)).reshape(-1, 64)
    return np.concatenate([ql, qh, sc.astype(np.int8).view(np.uint8), d.view(np.uint8).reshape(-1, 2)],
                          axis=1)


QUANTIZERS = {"Q4_K": quantize_q4_k, "Q5_K": quantize_q5_k, "Q6_K": quantize_q6_k}


def quantize(x: np.ndarray, type_name: str) -> np.ndarray:
    """Rows of x (last dim a multiple of 256) -> uint8 array [rows, bytes per row]."""
    rows, cols = x.shape
    assert cols % QK_K == 0, f"k-quant rows need a multiple of {QK_K} elements, got {cols}"
    blocks = QUANTIZERS[type_name](np.ascontiguousarray(x, dtype=np.float32).reshape(-1, QK_K))
    return blocks.reshape(rows, -1)
