"""Bundled files: found in a source checkout and inside the installed package alike."""
from __future__ import annotations

from icvac.export import markdown_cell
from icvac.mapping import bundled_mappings
from icvac.resources import bundled_dirs, bundled_path, inside_package
from icvac.taxonomy import default_taxonomy_path

from .conftest import MAPPINGS, TAXONOMY


def test_the_checkout_copies_are_found_when_the_package_has_none(tmp_path, monkeypatch):
    import icvac.resources as resources

    monkeypatch.setattr(resources, "PACKAGE_DATA", tmp_path / "_data")  # as in an editable install
    assert bundled_path("taxonomy", "icvac.yaml") == default_taxonomy_path() == TAXONOMY
    assert bundled_dirs("mappings") == [MAPPINGS]
    assert bundled_mappings() == {path.stem: path for path in sorted(MAPPINGS.glob("*.yaml"))}
    assert {"gbvims", "iccs", "ncands", "england-cin", "icd10", "aihw", "primero"} <= set(bundled_mappings())
    assert bundled_path("taxonomy", "nope.yaml") is None and bundled_dirs("nope") == []


def test_the_installed_copy_comes_first(tmp_path, monkeypatch):
    import icvac.resources as resources

    installed = tmp_path / "_data"
    (installed / "mappings").mkdir(parents=True)
    (installed / "mappings" / "gbvims.yaml").write_text("id: x\n", encoding="utf-8")
    monkeypatch.setattr(resources, "PACKAGE_DATA", installed)
    found = bundled_mappings()
    assert found["gbvims"] == installed / "mappings" / "gbvims.yaml" and found["iccs"] == MAPPINGS / "iccs.yaml"
    assert inside_package(found["gbvims"]) and not inside_package(found["iccs"])


def test_markdown_cells_stay_in_their_cell_and_out_of_formulas():
    assert markdown_cell("a | b\nc") == "a \\| b c"
    assert markdown_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert markdown_cell(None) == "" and markdown_cell("-5") == "-5"
