"""Read a TensorFlow 1.x checkpoint (a "tensor bundle") with NumPy alone.

MusiCNN's weights ship as a TF1 checkpoint: an ``.index`` file (a LevelDB-style sorted
table mapping each variable name to where its bytes lie) and a ``.data-00000-of-00001``
file holding the raw little-endian values. Reading it directly keeps TensorFlow out of
the book's run time (importing it alone costs seconds); ``musicnn_nb.reference`` and the
tests check the result against TensorFlow's own reader.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_BYTES = 48
_BLOCK_TRAILER_BYTES = 5  # compression type (1 byte) + CRC (4 bytes)
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 10: np.bool_}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _block(buf: bytes, offset: int, size: int) -> list[tuple[bytes, bytes]]:
    """Decode one uncompressed table block into (key, value) pairs."""
    if buf[offset + size] != 0:
        raise ValueError("compressed checkpoint index blocks are not supported")
    data = buf[offset : offset + size]
    (n_restarts,) = struct.unpack_from("<I", data, size - 4)
    end = size - 4 - 4 * n_restarts
    entries, key, pos = [], b"", 0
    while pos < end:
        shared, pos = _varint(data, pos)
        unshared, pos = _varint(data, pos)
        value_len, pos = _varint(data, pos)
        key = key[:shared] + data[pos : pos + unshared]
        pos += unshared
        entries.append((key, data[pos : pos + value_len]))
        pos += value_len
    return entries


def _fields(msg: bytes) -> list[tuple[int, int | bytes]]:
    """Decode a protobuf message into (field number, value) pairs (no nesting)."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(msg):
        tag, pos = _varint(msg, pos)
        number, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(msg, pos)
        elif wire == 2:
            length, pos = _varint(msg, pos)
            value, pos = msg[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = struct.unpack_from("<I", msg, pos)[0], pos + 4
        elif wire == 1:
            value, pos = struct.unpack_from("<Q", msg, pos)[0], pos + 8
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
        out.append((number, value))
    return out


def _entry(value: bytes) -> tuple[type, tuple[int, ...], int, int]:
    """Decode a BundleEntryProto: dtype, shape, byte offset and byte size."""
    dtype, offset, size = 1, 0, 0
    shape: tuple[int, ...] = ()
    for number, field in _fields(value):
        if number == 2 and isinstance(field, bytes):
            dims = [d for n, d in _fields(field) if n == 2 and isinstance(d, bytes)]
            shape = tuple(next((int(v) for n, v in _fields(d) if n == 1 and isinstance(v, int)), 0) for d in dims)
        elif not isinstance(field, int):
            continue
        elif number == 1:
            dtype = field
        elif number == 3 and field != 0:
            raise ValueError("sharded checkpoints are not supported")
        elif number == 4:
            offset = field
        elif number == 5:
            size = field
    if dtype not in _DTYPES:
        raise ValueError(f"unsupported tensor dtype code {dtype}")
    return _DTYPES[dtype], shape, offset, size


def read_checkpoint(prefix: str | Path) -> dict[str, np.ndarray]:
    """Return every variable of the checkpoint at ``prefix`` as a NumPy array.

    ``prefix`` is the path without the ``.index`` suffix; MusiCNN's checkpoints have an
    empty file prefix, so theirs is the model folder followed by a slash.
    """
    prefix = str(prefix)
    index = Path(prefix + ".index").read_bytes()
    footer = index[-_FOOTER_BYTES:]
    if struct.unpack("<Q", footer[-8:])[0] != _TABLE_MAGIC:
        raise ValueError(f"{prefix}.index is not a TensorFlow checkpoint index")
    _, pos = _varint(footer, 0)  # metaindex handle: offset
    _, pos = _varint(footer, pos)  # metaindex handle: size
    index_offset, pos = _varint(footer, pos)
    index_size, _ = _varint(footer, pos)

    data = Path(prefix + ".data-00000-of-00001").read_bytes()
    variables: dict[str, np.ndarray] = {}
    for _, handle in _block(index, index_offset, index_size):
        block_offset, pos = _varint(handle, 0)
        block_size, _ = _varint(handle, pos)
        for key, value in _block(index, block_offset, block_size):
            if not key:  # the bundle header
                continue
            dtype, shape, offset, size = _entry(value)
            array = np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"),
                                  count=size // np.dtype(dtype).itemsize, offset=offset)
            variables[key.decode()] = array.reshape(shape).copy()
    return variables
