#!/usr/bin/python3
"""Writes the safetensors fixtures that tests/io reads, with a pure-Python writer and reader of
the format (https://github.com/huggingface/safetensors, "Format"; the reference implementation is
safetensors/src/tensor.rs). The `safetensors` package is not installed here; torch (Debian's
python3-torch) only turns tensors into bytes, as safetensors.torch does.

    /usr/bin/python3 tools/golden/make_safetensors_fixtures.py          # rewrite tests/fixtures/io
    /usr/bin/python3 tools/golden/make_safetensors_fixtures.py --check FILE...

--check reads files (for example ones tutor wrote) with the strict reader below and prints their
tensors, so a C++-written file can be verified against an independent implementation.

Fixtures:
  mixed_dtypes.safetensors     every dtype tutor loads, including the converted ones (F16, I32,
                               I16, I8, U8), a 0-dim and an empty tensor, known values; the header
                               lists tensors alphabetically while the data is in the reference's
                               order, and it is written with \\u escapes (ensure_ascii), so the
                               reader's offset sort and escape decoding are exercised.
  reference_layout.safetensors the tutor dtypes written exactly as the reference writer lays them
                               out; tests/io compares tutor's save_safetensors output to it byte
                               for byte.
"""
import json
import math
import pathlib
import struct
import sys

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "tests" / "fixtures" / "io"

MAX_HEADER_SIZE = 100_000_000  # the reference reader's limit

# The reference's Dtype enum in its order (increasing alignment) with element sizes.
DTYPES = [("BOOL", 1), ("U8", 1), ("I8", 1), ("F8_E5M2", 1), ("F8_E4M3", 1), ("I16", 2),
          ("U16", 2), ("F16", 2), ("BF16", 2), ("I32", 4), ("U32", 4), ("F32", 4), ("F64", 8),
          ("I64", 8), ("U64", 8)]
DTYPE_RANK = {name: i for i, (name, _) in enumerate(DTYPES)}
DTYPE_SIZE = dict(DTYPES)

TORCH_TO_FILE = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16",
                 torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32",
                 torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
FILE_TO_TORCH = {v: k for k, v in TORCH_TO_FILE.items()}


def tensor_bytes(t):
    """Row-major little-endian bytes of `t`, as safetensors.torch._tobytes makes them."""
    assert sys.byteorder == "little"
    t = t.contiguous().reshape(-1)
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16; the bits are what matter
    return t.numpy().tobytes()


def serialize(tensors, metadata=None, header_order=None, ensure_ascii=False):
    """The reference writer's layout: data sorted by decreasing dtype alignment, then name; the
    header is compact JSON, "__metadata__" first, padded with spaces to a multiple of 8.
    `header_order` (a key function) lists the tensors in the header in another order than the
    data, which the format allows."""
    order = sorted(tensors, key=lambda n: (-DTYPE_RANK[TORCH_TO_FILE[tensors[n].dtype]], n))
    infos, chunks, offset = {}, [], 0
    for name in order:
        t = tensors[name]
        data = tensor_bytes(t)
        infos[name] = {"dtype": TORCH_TO_FILE[t.dtype], "shape": list(t.shape),
                       "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name in sorted(infos, key=header_order) if header_order else order:
        header[name] = infos[name]
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=ensure_ascii).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def deserialize(buffer):
    """A strict reader with the reference's checks: returns (tensors, metadata) or raises."""
    if len(buffer) < 8:
        raise ValueError("header too small")
    (n,) = struct.unpack("<Q", buffer[:8])
    if n > MAX_HEADER_SIZE:
        raise ValueError("header too large")
    if 8 + n > len(buffer):
        raise ValueError("invalid header length")
    text = buffer[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("header does not start with '{'")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return dict(pairs)

    def no_floats(_):
        raise ValueError("non-integer number")

    header = json.loads(text, object_pairs_hook=no_duplicates, parse_float=no_floats,
                        parse_constant=no_floats)
    metadata = header.pop("__metadata__", None) or {}
    if not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("metadata values must be strings")
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    data = buffer[8 + n:]
    tensors, start = {}, 0
    for name, info in entries:
        if set(info) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{name}: fields {sorted(info)}")
        begin, end = info["data_offsets"]
        if begin != start or end < begin:
            raise ValueError(f"{name}: invalid offsets")
        shape = info["shape"]
        if any(not isinstance(d, int) or d < 0 for d in shape):
            raise ValueError(f"{name}: invalid shape")
        if end - begin != math.prod(shape) * DTYPE_SIZE[info["dtype"]]:
            raise ValueError(f"{name}: size does not match the shape")
        start = end
        dtype = FILE_TO_TORCH[info["dtype"]]
        raw = bytearray(data[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(shape)
    if start != len(data):
        raise ValueError("the tensors do not cover the data section")
    return tensors, metadata


def mixed_dtypes():
    inf, nan = float("inf"), float("nan")
    tensors = {
        "f32": torch.tensor([[-1.5, 0.0, 0.25], [3.0, 1e-3, -7.75]], dtype=torch.float32),
        "f64": torch.tensor([1.0 / 3.0, -1e300, 2.5], dtype=torch.float64),
        "bf16": torch.tensor([[1.0, -2.0], [0.5, 3.140625]], dtype=torch.bfloat16),
        # F16: normal, max, smallest subnormal, smallest normal, -0, +-inf, NaN, nearest to 1/3
        "f16": torch.tensor([[1.0, -2.5, 65504.0, 2.0**-24, 2.0**-14],
                             [-0.0, inf, -inf, nan, 1.0 / 3.0]], dtype=torch.float16),
        "i64": torch.tensor([-(2**40), 7], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), 2**31 - 1, -5], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 200, 255], dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(42.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "nested.layer.weight": torch.tensor([[[5.0, 6.0]]], dtype=torch.float32),
    }
    metadata = {"format": "pt", "note": "tab\t quote\" backslash\\ newline\n é ✓ \U0001D11E"}
    return tensors, metadata


def reference_layout():
    """Kept in step with the "reference layout" case in tests/io/test_safetensors.cpp."""
    tensors = {
        "b.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4,
        "a.bias": torch.tensor([-1.0, 2.0], dtype=torch.float32),
        "steps": torch.tensor(12345678901, dtype=torch.int64),
        "half": torch.tensor([0.5, -3.0, 1.0], dtype=torch.bfloat16),
        "double": torch.tensor([[1.25], [-0.125]], dtype=torch.float64),
        "keep": torch.tensor([True, False, False, True, True]),
        "none": torch.zeros(0, dtype=torch.float32),
        "\u00e9chelle": torch.tensor([2.0], dtype=torch.float32),  # sorts after ASCII, by bytes
    }
    metadata = {"format": "pt", "source": "tutor/\"fixture\""}
    return tensors, metadata


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and bool(
        torch.equal(a.view(torch.int16), b.view(torch.int16)) if a.dtype == torch.bfloat16 else
        (torch.isnan(a.float()) == torch.isnan(b.float())).all() and
        torch.equal(torch.nan_to_num(a.float()) if a.is_floating_point() else a,
                    torch.nan_to_num(b.float()) if b.is_floating_point() else b))


def write(name, buffer, tensors, metadata):
    back, back_metadata = deserialize(buffer)
    assert back_metadata == metadata, (back_metadata, metadata)
    assert set(back) == set(tensors)
    for k, t in tensors.items():
        assert same(back[k], t), k
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_bytes(buffer)
    print(f"wrote {OUT / name} ({len(buffer)} bytes, {len(tensors)} tensors)")


def check(paths):
    for path in paths:
        tensors, metadata = deserialize(pathlib.Path(path).read_bytes())
        print(f"{path}: valid; metadata {metadata}")
        for name, t in tensors.items():
            print(f"  {name}: {TORCH_TO_FILE[t.dtype]} {list(t.shape)} {t.flatten().tolist()}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        check(sys.argv[2:])
        return
    tensors, metadata = mixed_dtypes()
    write("mixed_dtypes.safetensors",
          serialize(tensors, metadata, header_order=lambda n: n, ensure_ascii=True), tensors,
          metadata)
    tensors, metadata = reference_layout()
    write("reference_layout.safetensors", serialize(tensors, metadata), tensors, metadata)


if __name__ == "__main__":
    main()
