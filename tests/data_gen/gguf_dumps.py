"""Dumps GGUF files as the `gguf` package (gguf-py) reads them, for comparison with
Shoal's reader (tests/model/gguf/gguf_reference_test.cc).

For every generated GGUF (models, vocabularies, quant cases) and the real Gemma 3 270M
file, writes
<out>/gguf_dumps/<file stem>.json:
  {"file": path, "version": n, "alignment": n, "data_offset": n,
   "metadata": [{"key": k, "type": t, "element_type": t?, "value": v}, ...],
   "tensors": [{"name", "type", "shape", "offset", "nbytes", "sha256"}, ...]}
Strings are written as text when they are valid UTF-8, else as {"hex": "..."}.
Floats are written as the exact doubles of their float32/float64 values.
"""
import hashlib
import json
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFValueType

import paths

TYPE_NAMES = {t: t.name.lower() for t in GGUFValueType}


def string_value(raw: bytes):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": raw.hex()}


def scalar_value(value_type: GGUFValueType, part: np.ndarray):
    if value_type == GGUFValueType.STRING:
        return string_value(part.tobytes())
    item = part[0].item()
    if value_type == GGUFValueType.BOOL:
        return bool(item)
    return item  # int or float (numpy's float32 -> exact Python float)


def field_entry(field) -> dict:
    main_type = field.types[0]
    entry = {"key": field.name, "type": TYPE_NAMES[main_type]}
    if main_type == GGUFValueType.ARRAY:
        element_type = field.types[-1]
        entry["element_type"] = TYPE_NAMES[element_type]
        entry["value"] = [scalar_value(element_type, field.parts[i]) for i in field.data]
    else:
        entry["value"] = scalar_value(main_type, field.parts[field.data[0]])
    return entry


def dump(path: Path) -> dict:
    reader = GGUFReader(path)
    # GGUFReader exposes the header as pseudo-fields named GGUF.*; they are not metadata.
    metadata = [field_entry(f) for name, f in reader.fields.items() if not name.startswith("GGUF.")]
    version = int(reader.fields["GGUF.version"].parts[-1][0])
    tensors = []
    for t in reader.tensors:
        data = t.data.tobytes() if t.data.flags["C_CONTIGUOUS"] else np.ascontiguousarray(t.data).tobytes()
        tensors.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "shape": [int(n) for n in t.shape],
            "offset": int(t.data_offset - reader.data_offset),
            "nbytes": int(t.n_bytes),
            "sha256": hashlib.sha256(data).hexdigest(),
        })
    return {
        "file": str(path),
        "version": version,
        "alignment": int(reader.alignment),
        "data_offset": int(reader.data_offset),
        "metadata": metadata,
        "tensors": tensors,
    }


def write(out: Path) -> None:
    dump_dir = out / "gguf_dumps"
    dump_dir.mkdir(parents=True, exist_ok=True)
    files = (sorted((out / "models").glob("*.gguf")) + sorted((out / "vocabs").glob("*.gguf")) +
             [out / "quant_cases.gguf", paths.gemma3_gguf()])
    for path in files:
        (dump_dir / f"{path.stem}.json").write_text(json.dumps(dump(path), ensure_ascii=False))
