"""The ``icvac`` command line: parses options, calls the library, renders results.

Library exceptions become a one-line message and a documented exit code here,
at the edge, and nowhere else. The application and its table of commands are in
``_app``; each command lives in a ``*_cmd`` module, imported only when it runs.
"""
from __future__ import annotations

from ._app import app, main

__all__ = ["app", "main"]
