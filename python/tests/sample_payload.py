"""The payload format of the sample programs (samples_common/include/shmq_sample/payload.hpp),
so that Python code produces what `shmq-consumer --verify` checks and checks what
`shmq-producer` generates:

    bytes 0-15   the message's sequence number, 16 lowercase hex digits
    byte  16     ' '
    bytes 17-32  XXH3_64bits_withSeed(bytes 33..end, seed=sequence), 16 lowercase hex digits
    byte  33     ' ' (when the payload is longer than 33 bytes)
    bytes 34-    filler: byte i is 'a' + (i - 34) % 26 (the same for every message of a size)

XXH3 comes from the system's libxxhash (Debian's libxxhash0, which the library links too).
"""

import ctypes
import ctypes.util

MIN_SIZE = 33
_CHECKSUM_OFFSET = 17
_COVERED_OFFSET = 33
_FILLER_OFFSET = 34
_ALPHABET = b"abcdefghijklmnopqrstuvwxyz"

_xxhash = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
_xxh3 = _xxhash.XXH3_64bits_withSeed
_xxh3.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]
_xxh3.restype = ctypes.c_uint64


def _filler(length: int) -> bytes:
    return (_ALPHABET * (length // 26 + 1))[:length]


def make(sequence: int, size: int) -> bytes:
    """The payload of message `sequence`, `size` bytes long (size >= 33)."""
    assert size >= MIN_SIZE
    covered = b" " + _filler(size - _FILLER_OFFSET) if size > MIN_SIZE else b""
    checksum = _xxh3(covered, len(covered), sequence)
    return b"%016x %016x" % (sequence, checksum) + covered


def check(payload: bytes, sequence: int) -> str:
    """'ok', or what is wrong with `payload` as the payload of message `sequence`."""
    if len(payload) < MIN_SIZE:
        return "too_short"
    try:
        embedded = int(payload[:16], 16)
        checksum = int(payload[_CHECKSUM_OFFSET:_COVERED_OFFSET], 16)
    except ValueError:
        return "malformed"
    if payload[16:17] != b" " or (len(payload) > MIN_SIZE and payload[MIN_SIZE : MIN_SIZE + 1] != b" "):
        return "malformed"
    if embedded != sequence:
        return "wrong_sequence"
    covered = payload[_COVERED_OFFSET:]
    if checksum != _xxh3(covered, len(covered), sequence):
        return "bad_checksum"
    if len(payload) > MIN_SIZE and payload[_FILLER_OFFSET:] != _filler(len(payload) - _FILLER_OFFSET):
        return "bad_filler"
    return "ok"
