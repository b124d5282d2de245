"""Files shipped with icvac: the taxonomy and the mappings.

They are edited at the top of a source checkout (``taxonomy/``, ``mappings/``) and installed inside the
package (``icvac/_data/``, see pyproject.toml), so each is looked for in both places, installed first.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PACKAGE_DATA", "bundled_dirs", "bundled_path", "inside_package"]

_HERE = Path(__file__).resolve().parent
PACKAGE_DATA = _HERE / "_data"


def bundled_dirs(name: str) -> list[Path]:
    """The existing folders called ``name`` (``taxonomy``, ``mappings``), installed copy first."""
    return [folder for folder in (PACKAGE_DATA / name, _HERE.parent / name) if folder.is_dir()]


def bundled_path(*parts: str) -> Path | None:
    """The first existing bundled file ``parts`` (e.g. ``"taxonomy", "icvac.yaml"``), or None."""
    return next((folder.joinpath(*parts[1:]) for folder in bundled_dirs(parts[0])
                 if folder.joinpath(*parts[1:]).is_file()), None)


def inside_package(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a file installed inside the package: not to be edited, it goes on upgrade."""
    return Path(path).resolve().is_relative_to(PACKAGE_DATA)
