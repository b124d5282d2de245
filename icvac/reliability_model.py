"""The reports of ``agree`` and ``evaluate``: what they found, as data, each with its JSON form.

Kept apart from the statistics (``icvac.reliability``) so that the pages that render a report
(``icvac.agreement_report``) need none of the computing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .agreement import Estimate
from .joining import JoinStats

__all__ = ["AgreementReport", "EvaluationReport", "LevelAgreement", "LevelAccuracy", "Matrix", "Listed",
           "CategoryScore", "MethodAccuracy", "rounded", "coder_letter"]


@dataclass(frozen=True)
class Listed:
    """A record that needs a look: its id, why, the first level where the codings differ, and each
    coding at the finest level (codes only; ``invalid`` stands for anything else)."""

    id: str
    status: str
    level: int | None
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Matrix:
    """Rows x columns counts at one level. ``kind``: ``A x B`` (coder A's rows, B's columns),
    ``gold x coded``, or ``coincidence`` (three coders or more: pairs of codings, each unit weighing 1)."""

    level: int
    kind: str
    categories: tuple[str, ...]
    counts: tuple[tuple[float, ...], ...]

    def to_dict(self) -> dict:
        return {"level": self.level, "kind": self.kind, "categories": list(self.categories),
                "counts": [[rounded(v) for v in row] for row in self.counts]}


@dataclass(frozen=True)
class LevelAgreement:
    level: int
    compared: int                  # records with two codings or more
    percent: Estimate
    kappa: Estimate
    kappa_kind: str                # cohen (two coders) or fleiss (three or more; records coded by all)
    alpha: Estimate
    per_act: float | None

    def to_dict(self) -> dict:
        return {"level": self.level, "compared": self.compared, "percent_agreement": self.percent.to_dict(),
                "kappa": {"kind": self.kappa_kind, **self.kappa.to_dict()},
                "krippendorff_alpha": self.alpha.to_dict(), "per_act_agreement": rounded(self.per_act)}


@dataclass
class AgreementReport:
    taxonomy: str
    stats: JoinStats
    levels: list[LevelAgreement]
    matrices: list[Matrix]
    most_disagreement: list[dict]
    multi_act: dict
    counts: dict                       # records by status
    listed: list[Listed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"command": "agree", "taxonomy": self.taxonomy, "files": _files(self.stats),
                "records": {"joined": self.stats.records, "in_every_file": self.stats.in_every_file,
                            **self.counts},
                "levels": [lv.to_dict() for lv in self.levels], "multi_act": self.multi_act,
                "confusion": [m.to_dict() for m in self.matrices], "most_disagreement": self.most_disagreement,
                "listed": [_listed(x) for x in self.listed], "warnings": self.warnings}


@dataclass(frozen=True)
class LevelAccuracy:
    level: int
    compared: int
    accuracy: Estimate
    accuracy_of_coded: Estimate
    kappa: Estimate
    per_act: float | None

    def to_dict(self) -> dict:
        return {"level": self.level, "compared": self.compared, "accuracy": self.accuracy.to_dict(),
                "accuracy_of_coded": self.accuracy_of_coded.to_dict(), "kappa": self.kappa.to_dict(),
                "per_act_accuracy": rounded(self.per_act)}


@dataclass(frozen=True)
class MethodAccuracy:
    method: str
    records: int
    accuracy: tuple[Estimate, ...]      # one per level

    def to_dict(self) -> dict:
        return {"method": self.method, "records": self.records,
                "accuracy": {str(i + 1): e.to_dict() for i, e in enumerate(self.accuracy)}}


@dataclass(frozen=True)
class CategoryScore:
    code: str
    title: str
    gold: int
    coded: int
    correct: int

    @property
    def precision(self) -> float | None:
        return self.correct / self.coded if self.coded else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        total = self.gold + self.coded
        return 2 * self.correct / total if total else None

    def to_dict(self) -> dict:
        return {"code": self.code, "title": self.title, "gold": self.gold, "coded": self.coded,
                "correct": self.correct, "precision": rounded(self.precision), "recall": rounded(self.recall),
                "f1": rounded(self.f1)}


@dataclass
class EvaluationReport:
    taxonomy: str
    stats: JoinStats
    level: int                          # the level of the categories and the confusion matrix
    coverage: dict
    levels: list[LevelAccuracy]
    by_method: list[MethodAccuracy]
    categories: list[CategoryScore]
    matrix: Matrix
    counts: dict
    listed: list[Listed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"command": "evaluate", "taxonomy": self.taxonomy, "files": _files(self.stats),
                "records": {"joined": self.stats.records, "in_both_files": self.stats.in_every_file, **self.counts},
                "coverage": self.coverage, "levels": [lv.to_dict() for lv in self.levels],
                "by_method": [m.to_dict() for m in self.by_method], "category_level": self.level,
                "categories": [c.to_dict() for c in self.categories], "confusion": self.matrix.to_dict(),
                "listed": [_listed(x) for x in self.listed], "warnings": self.warnings}


def rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _files(stats: JoinStats) -> list[dict]:
    return [{"coder": coder_letter(i), "file": name, "rows": stats.rows[i], "blank_ids": stats.blank_ids[i],
             "repeated_ids": stats.repeated_ids[i], "records_missing": stats.missing_from[i]}
            for i, name in enumerate(stats.files)]


def _listed(x: Listed) -> dict:
    return {"id": x.id, "status": x.status, "level": x.level, "codes": list(x.codes)}


def coder_letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"C{i + 1}"
