"""save_safetensors for the golden-fixture scripts (no dependency beyond torch)."""
import json
import os
import struct

import torch

DTYPES = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64'}


def save_safetensors(path, tensors, metadata):
    """The format of huggingface/safetensors: u64 LE header length N, N bytes of JSON padded with
    spaces to a multiple of 8, then the tensors' little-endian bytes back to back."""
    header, blobs, offset = {'__metadata__': metadata}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    print(f'wrote {path} ({os.path.getsize(path)} bytes, {len(tensors)} tensors)')
