"""icvac: code records of violence against children into ICVAC (UNICEF 2023).

The library holds the behaviour; ``icvac.cli`` only wires options to it.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import (ConfigFileError, ExitCode, IcvacError, InputError, MappingError, OutputError, Problem,
                     TaxonomyError, UsageError)
from .taxonomy import Category, Taxonomy, Variable, VariableValue, check_taxonomy, load_taxonomy
from .text import fold, normalise

__all__ = [
    "__version__",
    "Category", "Taxonomy", "Variable", "VariableValue", "check_taxonomy", "load_taxonomy",
    "fold", "normalise",
    "ConfigFileError", "ExitCode", "IcvacError", "InputError", "MappingError", "OutputError", "Problem",
    "TaxonomyError", "UsageError",
]
