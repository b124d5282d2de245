"""SHA-256 digests of the files icvac reads (provenance, the known-valid list of bundled data).

CPython's own SHA-256 first, hashlib only where a build lacks it: hashlib loads OpenSSL's libcrypto, which
cost every command 3.7 MB of resident memory and 3 ms of start-up (Python 3.11, measured 2026-12-06) to
hash files of some kilobytes. The digests are the same.
"""
from __future__ import annotations

__all__ = ["sha256_hex"]

try:  # CPython 3.12 and later
    from _sha2 import sha256 as _sha256  # type: ignore[import-not-found]
except ImportError:
    try:  # CPython 3.11
        from _sha256 import sha256 as _sha256  # type: ignore[import-not-found]
    except ImportError:  # a build without its own hashes
        from hashlib import sha256 as _sha256


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of ``data`` in hexadecimal, as ``hashlib.sha256(data).hexdigest()``."""
    return _sha256(data).hexdigest()
