"""The indicator catalogue: the default 40 indicators (data/indicators.csv, a copy of the
product brief's catalogue), the weight profiles, validation (SPEC §5.1), versioned snapshots,
and which profile a region is assessed with.

`install_defaults` takes the model classes so that migration 0002 can pass its historical
models and tests can restore the rows after a flush.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _

from .choices import DIMENSION_POINTS

CSV_PATH = Path(__file__).resolve().parent / "data" / "indicators.csv"

PROFILES = [
    # code, name, terrains, default
    ("plain", "平原/城区", ["plain", "hill"], True),
    ("mountain", "山区", ["mountain"], False),
]

# By count (SPEC §5.1): 基础/特色/创新 over all 40, 定量/定性 over the 35 scored ones.
EXPECTED_CATEGORY_SPLIT = {"basic": 24, "characteristic": 12, "innovation": 4}
EXPECTED_NATURE_SPLIT = {"quantitative": 21, "qualitative": 14}


def _split(expected: dict[str, int]) -> dict[str, str]:
    """24/12/4 and 60%/30%/10% for a message naming the expected split."""
    total = sum(expected.values())
    return {
        "want": "/".join(str(n) for n in expected.values()),
        "shares": "/".join(f"{round(100 * n / total)}%" for n in expected.values()),
    }


def _dec(text: str) -> Decimal | None:
    text = (text or "").strip()
    return Decimal(text) if text else None


def default_rows() -> list[dict]:
    with CSV_PATH.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def default_advice() -> dict[str, str]:
    """The suggested action shipped for each of the 40 indicators (data/advice.csv), shown in the
    diagnostic report and editable in the admin."""
    with (Path(__file__).parent / "data" / "advice.csv").open(encoding="utf-8") as f:
        return {row["code"]: row["advice"] for row in csv.DictReader(f)}


def install_advice(Indicator) -> None:
    """Fill the advice of indicators that have none (idempotent; never overwrites an edit)."""
    for code, advice in default_advice().items():
        Indicator.objects.filter(code=code, advice="").update(advice=advice)


def install_defaults(Indicator, WeightProfile, IndicatorWeight) -> None:
    """Create the default indicators and the `plain` / `mountain` profiles (idempotent)."""
    profiles = {}
    for code, name, terrains, is_default in PROFILES:
        profiles[code], _created = WeightProfile.objects.get_or_create(
            code=code, defaults={"name": name, "terrains": terrains, "is_default": is_default}
        )
    for order, row in enumerate(default_rows(), start=1):
        indicator, _created = Indicator.objects.get_or_create(
            code=row["code"],
            defaults={
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "dimension": row["dimension"],
                "category": row["category"],
                "nature": row["nature"],
                "source": row["source"],
                "rule": row["rule"],
                "floor": _dec(row["floor"]),
                "target": _dec(row["target"]),
                "ceiling": _dec(row["ceiling"]),
                "lead_department": row["lead_dept"],
                "collaborating_departments": row["collab_depts"],
                "value_definition": row["value_definition"],
                "sort_order": order,
            },
        )
        for profile_code in ("plain", "mountain"):
            weight = _dec(row[f"weight_{profile_code}"])
            if weight is not None:
                IndicatorWeight.objects.get_or_create(
                    profile=profiles[profile_code], indicator=indicator, defaults={"weight": weight}
                )


# --- Validation ----------------------------------------------------------------------------------------


@dataclass
class Validation:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    profile_totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    category_split: dict[str, int] = field(default_factory=dict)
    nature_split: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate(data: dict | None = None) -> Validation:
    """Profile and dimension sums are errors (a cycle refuses to run); the category and
    nature splits are warnings (an edited catalogue may leave them)."""
    data = data or current_data()
    result = Validation()
    indicators = data["indicators"]
    for profile, weights in data["profiles"].items():
        per_dim: dict[str, Decimal] = defaultdict(Decimal)
        for code, weight in weights.items():
            per_dim[indicators[code]["dimension"]] += Decimal(weight)
        total = sum(per_dim.values(), Decimal(0))
        result.profile_totals[profile] = {**{d: per_dim.get(d, Decimal(0)) for d in DIMENSION_POINTS}, "total": total}
        if total != 100:
            result.errors.append(
                _("权重方案 %(profile)s 合计 %(total)s 分，应为 100 分。") % {"profile": profile, "total": total}
            )
        for dim, points in DIMENSION_POINTS.items():
            if per_dim.get(dim, Decimal(0)) != points:
                result.errors.append(
                    _("权重方案 %(profile)s 的 %(dim)s 维度合计 %(got)s 分，应为 %(want)s 分。")
                    % {"profile": profile, "dim": dim, "got": per_dim.get(dim, Decimal(0)), "want": points}
                )
    result.category_split = dict(Counter(ind["category"] for ind in indicators.values()))
    scored = [ind for ind in indicators.values() if ind["rule"] != "veto"]
    result.nature_split = dict(Counter(ind["nature"] for ind in scored))
    if result.category_split != EXPECTED_CATEGORY_SPLIT:
        result.warnings.append(
            _("基础/特色/创新指标个数为 %(got)s，偏离 %(want)s（%(shares)s）。")
            % {
                "got": "/".join(str(result.category_split.get(k, 0)) for k in EXPECTED_CATEGORY_SPLIT),
                **_split(EXPECTED_CATEGORY_SPLIT),
            }
        )
    if result.nature_split != EXPECTED_NATURE_SPLIT:
        result.warnings.append(
            _("计分指标中定量/定性个数为 %(got)s，偏离 %(want)s（%(shares)s）。")
            % {
                "got": "/".join(str(result.nature_split.get(k, 0)) for k in EXPECTED_NATURE_SPLIT),
                **_split(EXPECTED_NATURE_SPLIT),
            }
        )
    return result


# --- Snapshots -----------------------------------------------------------------------------------------


def _plain(value):
    return None if value is None else str(value)


def current_data() -> dict:
    """The live catalogue as plain JSON: indicators, profiles and their weights."""
    from .models import Indicator, IndicatorWeight, WeightProfile

    indicators = {
        ind.code: {
            "code": ind.code,
            "name_zh": ind.name_zh,
            "name_en": ind.name_en,
            "dimension": ind.dimension,
            "category": ind.category,
            "nature": ind.nature,
            "source": ind.source,
            "rule": ind.rule,
            "floor": _plain(ind.floor),
            "target": _plain(ind.target),
            "ceiling": _plain(ind.ceiling),
            "lead": ind.lead_department,
            "collaborators": ind.collaborators,
            "order": ind.sort_order,
        }
        for ind in Indicator.objects.all()
    }
    profiles: dict[str, dict[str, str]] = {
        p.code: {} for p in WeightProfile.objects.all()
    }  # profiles without weights still appear
    for w in IndicatorWeight.objects.select_related("profile", "indicator"):
        if w.weight > 0:
            profiles[w.profile.code][w.indicator.code] = str(w.weight)
    meta = {p.code: {"terrains": p.terrains, "default": p.is_default} for p in WeightProfile.objects.all()}
    return {"indicators": indicators, "profiles": profiles, "profile_meta": meta}


def snapshot():
    """The CatalogueVersion holding the live catalogue (created when the content is new)."""
    from django.db import transaction
    from django.db.models import Max

    from .models import CatalogueVersion

    data = current_data()
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    existing = CatalogueVersion.objects.filter(digest=digest).first()
    if existing:
        return existing
    with transaction.atomic():
        number = (CatalogueVersion.objects.select_for_update().aggregate(n=Max("number"))["n"] or 0) + 1
        version, _created = CatalogueVersion.objects.get_or_create(
            digest=digest, defaults={"number": number, "data": data}
        )
    return version


def profile_for(data: dict, terrain: str, override: str | None = None) -> str:
    """The profile of a unit: its override, else the profile covering its terrain, else the default."""
    if override and override in data["profiles"]:
        return override
    meta = data["profile_meta"]
    for code, info in sorted(meta.items()):
        if terrain in info["terrains"]:
            return code
    return next((code for code, info in sorted(meta.items()) if info["default"]), sorted(meta)[0])
