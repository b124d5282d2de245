"""The SHA-256 digests icvac records, made without OpenSSL."""
import hashlib
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from icvac.digest import sha256_hex


@given(st.binary(max_size=5000))
def test_digest_is_hashlibs(data):
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_loading_bundled_data_leaves_openssl_unloaded():
    # hashlib loads libcrypto: 3.7 MB of every command's memory, for digests of small files
    code = ("import sys\nfrom icvac.taxonomy import load_taxonomy\nfrom icvac.mapping import load_mapping\n"
            "load_mapping('gbvims', load_taxonomy())\nprint('hashlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
