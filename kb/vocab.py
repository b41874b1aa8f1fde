"""Controlled vocabularies: countries, regions, policy types and the small enumerations.

Loaded once from the JSON data files in `kb/data/` (copied from the shared reference lists) and
used by validation, the index, the site and the API alike.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
LANGUAGES = ("en", "es", "pt", "zh")


@dataclass(frozen=True)
class Term:
    """One value of a vocabulary, with its labels in the four languages."""

    value: str
    labels: dict[str, str]
    synonyms: tuple[str, ...] = ()

    def label(self, lang: str = "en") -> str:
        """The label in `lang`, falling back to English."""
        return self.labels.get(lang) or self.labels["en"]


class Vocabulary:
    """An ordered set of terms looked up by value, with 'did you mean' suggestions."""

    def __init__(self, name: str, terms: list[Term]):
        self.name = name
        self.terms = terms
        self._by_value = {t.value: t for t in terms}

    def __contains__(self, value: object) -> bool:
        return value in self._by_value

    def __iter__(self):
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def get(self, value: str) -> Term | None:
        """The term for `value`, or None."""
        return self._by_value.get(value)

    def label(self, value: str, lang: str = "en") -> str:
        """The label of `value`, or the value itself when unknown."""
        term = self.get(value)
        return term.label(lang) if term else value

    def values(self) -> list[str]:
        """All values, in declaration order."""
        return [t.value for t in self.terms]

    def suggest(self, found: str) -> str | None:
        """The value a contributor most likely meant by `found`, or None."""
        key = _fold(found)
        for term in self.terms:
            names = [term.value, *term.labels.values(), *term.synonyms]
            if any(_fold(n) == key for n in names):
                return term.value
        candidates = {_fold(t.value): t.value for t in self.terms}
        close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.75)
        return candidates[close[0]] if close else None


def _fold(text: str) -> str:
    return "".join(ch for ch in str(text).lower() if ch.isalnum())


def _simple(name: str, values: list[str], labels: dict[str, dict[str, str]]) -> Vocabulary:
    return Vocabulary(name, [Term(v, labels.get(v, {"en": v})) for v in values])


def _load(name: str):
    with open(DATA_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


@cache
def countries() -> Vocabulary:
    """China and the 33 CELAC members, keyed by ISO 3166-1 alpha-3."""
    terms = [
        Term(c["alpha3"], c["name"], (c["alpha2"], *c["name"].values()))
        for c in _load("countries.json")
    ]
    return Vocabulary("countries", terms)


@cache
def country_records() -> dict[str, dict]:
    """The full country records (codes, sub-region) keyed by alpha-3."""
    return {c["alpha3"]: c for c in _load("countries.json")}


@cache
def alpha2_to_alpha3() -> dict[str, str]:
    """Map alpha-2 codes to alpha-3, for suggestions."""
    return {c["alpha2"]: c["alpha3"] for c in _load("countries.json")}


REGION_LABELS = {
    "caribbean": {"en": "Caribbean", "es": "Caribe", "pt": "Caribe", "zh": "加勒比"},
    "central-america": {
        "en": "Central America",
        "es": "Centroamérica",
        "pt": "América Central",
        "zh": "中美洲",
    },
    "south-america": {"en": "South America", "es": "Sudamérica", "pt": "América do Sul", "zh": "南美洲"},
    "eastern-asia": {"en": "Eastern Asia", "es": "Asia oriental", "pt": "Ásia Oriental", "zh": "东亚"},
}


def region_of(alpha3: str) -> str:
    """The UN M49 sub-region slug of a country (e.g. 'south-america')."""
    return country_records()[alpha3]["subregion"].lower().replace(" ", "-")


@cache
def regions() -> Vocabulary:
    """UN M49 sub-regions of the covered countries."""
    return _simple("regions", list(REGION_LABELS), REGION_LABELS)


@cache
def policy_types() -> Vocabulary:
    """The 18 policy types of the taxonomy, with labels and synonyms in four languages."""
    terms = []
    for p in _load("policy-types.json"):
        synonyms = tuple(s for lang in LANGUAGES for s in p.get("synonyms", {}).get(lang, []))
        terms.append(Term(p["slug"], p["labels"], synonyms))
    return Vocabulary("policy_types", terms)


STATUS_LABELS = {
    "pilot": {"en": "Pilot", "es": "Piloto", "pt": "Piloto", "zh": "试点"},
    "ongoing": {"en": "Ongoing", "es": "En curso", "pt": "Em curso", "zh": "实施中"},
    "scaled-up": {"en": "Scaled up", "es": "Ampliado", "pt": "Ampliado", "zh": "已推广"},
    "completed": {"en": "Completed", "es": "Concluido", "pt": "Concluído", "zh": "已完成"},
    "replaced": {"en": "Replaced", "es": "Reemplazado", "pt": "Substituído", "zh": "已被取代"},
    "discontinued": {"en": "Discontinued", "es": "Suspendido", "pt": "Descontinuado", "zh": "已终止"},
}
LANGUAGE_LABELS = {
    "en": {"en": "English", "es": "Inglés", "pt": "Inglês", "zh": "英语"},
    "es": {"en": "Spanish", "es": "Español", "pt": "Espanhol", "zh": "西班牙语"},
    "pt": {"en": "Portuguese", "es": "Portugués", "pt": "Português", "zh": "葡萄牙语"},
    "zh": {"en": "Chinese", "es": "Chino", "pt": "Chinês", "zh": "中文"},
}
SCALE_LABELS = {
    "national": {"en": "National", "es": "Nacional", "pt": "Nacional", "zh": "全国"},
    "subnational": {"en": "Subnational", "es": "Subnacional", "pt": "Subnacional", "zh": "地方（省级）"},
    "local": {"en": "Local", "es": "Local", "pt": "Local", "zh": "基层"},
    "multi-country": {"en": "Multi-country", "es": "Multinacional", "pt": "Multinacional", "zh": "多国"},
}
EVIDENCE_LABELS = {
    "rct": {"en": "Randomised controlled trial", "es": "Ensayo controlado aleatorio",
            "pt": "Ensaio controlado randomizado", "zh": "随机对照试验"},
    "quasi-experimental": {"en": "Quasi-experimental evaluation", "es": "Evaluación cuasiexperimental",
                           "pt": "Avaliação quase experimental", "zh": "准实验评估"},
    "mixed-methods": {"en": "Mixed methods", "es": "Métodos mixtos", "pt": "Métodos mistos", "zh": "混合方法"},
    "qualitative": {"en": "Qualitative study", "es": "Estudio cualitativo", "pt": "Estudo qualitativo",
                    "zh": "定性研究"},
    "monitoring": {"en": "Monitoring data", "es": "Datos de seguimiento", "pt": "Dados de monitoramento",
                   "zh": "监测数据"},
    "descriptive": {"en": "Descriptive only", "es": "Solo descriptiva", "pt": "Apenas descritiva", "zh": "仅描述性"},
}


@cache
def statuses() -> Vocabulary:
    """Life-cycle status of a practice."""
    return _simple("status", list(STATUS_LABELS), STATUS_LABELS)


@cache
def languages() -> Vocabulary:
    """Languages a practice body can be written in."""
    return _simple("language", list(LANGUAGE_LABELS), LANGUAGE_LABELS)


@cache
def scales() -> Vocabulary:
    """Geographic scale of a practice."""
    return _simple("geographic_scale", list(SCALE_LABELS), SCALE_LABELS)


@cache
def evidence_levels() -> Vocabulary:
    """Strength of the evidence behind a practice's results, strongest first."""
    return _simple("evidence_level", list(EVIDENCE_LABELS), EVIDENCE_LABELS)


# ---- comparable programme data (issue 14): design, indicators, evaluations -------------------

@cache
def _programme() -> dict:
    return _load("programme-data.json")


def _from_programme(name: str) -> Vocabulary:
    labels = _programme()[name]
    return _simple(name, list(labels), labels)


@cache
def indicators() -> Vocabulary:
    """Comparable indicators (coverage, expenditure, benefit amount)."""
    return Vocabulary("indicators", [Term(i["value"], i["labels"]) for i in _programme()["indicators"]])


@dataclass(frozen=True)
class IndicatorRule:
    """What an indicator's value means and which extra keys it takes."""

    kind: str  # count | percent | money
    currency: str  # "required", "none", or the one code it implies (e.g. "USD")
    period: bool  # requires `period`
    unit: bool  # requires `unit`


@cache
def indicator_rules() -> dict[str, IndicatorRule]:
    """Per indicator, its kind and the keys it requires."""
    return {i["value"]: IndicatorRule(i["kind"], i["currency"], i["period"], i["unit"])
            for i in _programme()["indicators"]}


@cache
def outcomes() -> Vocabulary:
    """Outcomes an evaluation measures."""
    return _from_programme("outcomes")


@cache
def benefits() -> Vocabulary:
    """What a programme gives."""
    return _from_programme("benefits")


@cache
def conditionalities() -> Vocabulary:
    """Whether benefits carry conditions."""
    return _from_programme("conditionality")


@cache
def targeting_methods() -> Vocabulary:
    """How beneficiaries are selected."""
    return _from_programme("targeting")


@cache
def periods() -> Vocabulary:
    """How often a benefit amount is paid."""
    return _from_programme("periods")


@cache
def benefit_units() -> Vocabulary:
    """Who a benefit amount is paid to."""
    return _from_programme("units")


@cache
def impact_evaluation() -> Vocabulary:
    """The derived facet 'has an impact evaluation' (an rct or quasi-experimental evaluation)."""
    return _from_programme("impact_evaluation")


IMPACT_DESIGNS = ("rct", "quasi-experimental")


def has_impact_evaluation(evaluations: list[dict]) -> bool:
    """Whether any evaluation is an rct or quasi-experimental (the 'impact evaluation' facet)."""
    return any(e["design"] in IMPACT_DESIGNS for e in evaluations)


@cache
def currencies() -> Vocabulary:
    """Active ISO 4217 currency codes, with their English names."""
    return Vocabulary("currencies", [Term(c["code"], {"en": c["name"]}) for c in _load("iso4217.json")["currencies"]])
