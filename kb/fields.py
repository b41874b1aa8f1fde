"""The practice format, declared once: front-matter fields and search facets.

Validation, the index schema, the search sidebar, the API's parameters and the README's
front-matter reference are all driven from these two tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kb import vocab

SUMMARY_MAX = 600
TITLE_MAX = 200
NOTE_MAX = 200  # target_group, effect and note in the comparable-data blocks


@dataclass(frozen=True)
class Field:
    """One front-matter field of a practice file."""

    name: str
    kind: str  # text | int | year_end | date | enum | list | sources | slugs | sdgs | number | source | currency
    required: bool
    doc: str
    vocabulary: Callable[[], vocab.Vocabulary] | None = None
    max_length: int | None = None


FIELDS: tuple[Field, ...] = (
    Field("title", "text", True, "Name of the practice.", max_length=TITLE_MAX),
    Field("local_name", "text", False, "Name in its original language.", max_length=TITLE_MAX),
    Field("countries", "list", True, "ISO 3166-1 alpha-3 codes: CHN or a CELAC member.", vocab.countries),
    Field("policy_types", "list", True, "Taxonomy slugs; the first is the primary type.", vocab.policy_types),
    Field("summary", "text", True, f"Plain text, at most {SUMMARY_MAX} characters.", max_length=SUMMARY_MAX),
    Field("year_start", "int", True, "Year the practice started (integer)."),
    Field("year_end", "year_end", False, "Year it ended (integer >= year_start), or null."),
    Field("status", "enum", True, "Life-cycle status.", vocab.statuses),
    Field("language", "enum", True, "Language of the body.", vocab.languages),
    Field("geographic_scale", "enum", False, "Geographic scale.", vocab.scales),
    Field("evidence_level", "enum", False, "Strongest evidence of results.", vocab.evidence_levels),
    Field("sdg_targets", "sdgs", False, 'SDG targets as strings, e.g. ["1.3", "2.1"].'),
    Field("tags", "list", False, "Free keywords."),
    Field("related", "slugs", False, "Slugs of other practices; each must exist."),
    Field("sources", "sources", True, "At least one; each has title, publisher, year (int or null), url, "
          "and optionally authors, doi, container."),
    Field("last_reviewed", "date", True, "Date of the last review (YYYY-MM-DD)."),
    Field("translations", "translations", False,
          "Title and summary in the other languages: {es: {title, summary, kind: machine|human, reviewer}}."),
    Field("design", "design", False, "Programme design: target_group, benefits, conditionality, targeting."),
    Field("indicators", "indicators", False,
          "Comparable figures: [{indicator, value, year, source, currency, period, unit, note}]."),
    Field("evaluations", "evaluations", False, "Coded evaluations: [{design, outcome, effect, year, source, note}]."),
)
TRANSLATION_KINDS = ("machine", "human")

# A translation file (`slug.LANG.md`, kb.translation) holds only what a translation owns; the
# rest (countries, years, sources, ...) is the original's and is never repeated.
TRANSLATION_FILE_FIELDS: tuple[Field, ...] = (
    Field("title", "text", True, "The title, translated.", max_length=TITLE_MAX),
    Field("summary", "text", True, f"The summary, translated (at most {SUMMARY_MAX} characters).",
          max_length=SUMMARY_MAX),
    Field("local_name", "text", False, "The practice's name as written in this language.", max_length=TITLE_MAX),
    Field("kind", "kind", True, "machine or human."),
    Field("reviewer", "text", False, "Who reviewed the translation; required when kind is human.",
          max_length=TITLE_MAX),
    Field("translated_from", "sha256", True,
          "SHA-256 of the original's body when it was translated (`kb translations --hash SLUG`)."),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
SOURCE_KEYS = ("title", "publisher", "year", "url")
# Optional keys of a source: who wrote it, its DOI and the journal or series it appeared in, so a
# citation names its authors rather than its publisher (issue 16).
SOURCE_OPTIONAL_KEYS: tuple[Field, ...] = (
    Field("authors", "list", False, 'Authors as written, e.g. ["Fiszbein, Ariel", "Schady, Norbert"].'),
    Field("doi", "doi", False, "DOI without the resolver, e.g. 10.1596/978-0-8213-7352-1."),
    Field("container", "text", False, "Journal, report series or book it appeared in, e.g. The Lancet 382(9886).",
          max_length=TITLE_MAX),
)
MAX_AUTHORS = 30
AUTHOR_MAX = 100  # characters of one author's name

# The keys inside the three comparable-data blocks (issue 14), checked like top-level fields.
DESIGN_KEYS: tuple[Field, ...] = (
    Field("target_group", "text", False, f"Who the programme is for, at most {NOTE_MAX} characters.",
          max_length=NOTE_MAX),
    Field("benefits", "list", False, "What it gives.", vocab.benefits),
    Field("conditionality", "enum", False, "Whether benefits carry conditions.", vocab.conditionalities),
    Field("targeting", "list", False, "How beneficiaries are selected.", vocab.targeting_methods),
)
INDICATOR_KEYS: tuple[Field, ...] = (
    Field("indicator", "enum", True, "Which figure it is.", vocab.indicators),
    Field("value", "number", True, "The number exactly as the source states it."),
    Field("year", "int", True, "The year the figure refers to."),
    Field("source", "source", True, "Position of the document in `sources`, from 1."),
    Field("currency", "currency", False, "ISO 4217 code, e.g. BRL (expenditure-local-currency, benefit-amount)."),
    Field("period", "enum", False, "How often a benefit-amount is paid.", vocab.periods),
    Field("unit", "enum", False, "Who a benefit-amount is paid to.", vocab.benefit_units),
    Field("note", "text", False, f"Plain text, at most {NOTE_MAX} characters.", max_length=NOTE_MAX),
)
EVALUATION_KEYS: tuple[Field, ...] = (
    Field("design", "enum", True, "The evaluation's design (an evidence level).", vocab.evidence_levels),
    Field("outcome", "enum", True, "The outcome measured.", vocab.outcomes),
    Field("effect", "text", True, f"The finding as the study states it, at most {NOTE_MAX} characters.",
          max_length=NOTE_MAX),
    Field("year", "int", True, "The year the evaluation was published."),
    Field("source", "source", True, "Position of the study in `sources`, from 1."),
    Field("note", "text", False, f"Plain text, at most {NOTE_MAX} characters.", max_length=NOTE_MAX),
)
BLOCK_KEYS = {"design": DESIGN_KEYS, "indicators": INDICATOR_KEYS, "evaluations": EVALUATION_KEYS}


@dataclass(frozen=True)
class Facet:
    """A filterable dimension of the search: its URL parameter, index field and vocabulary."""

    name: str  # the URL and API parameter, also the index field
    label: str
    source: str  # the practice attribute it is read from
    vocabulary: Callable[[], vocab.Vocabulary] | None


FACETS: tuple[Facet, ...] = (
    Facet("country", "Country", "countries", vocab.countries),
    Facet("region", "Region", "regions", vocab.regions),
    Facet("policy_type", "Policy type", "policy_types", vocab.policy_types),
    Facet("status", "Status", "status", vocab.statuses),
    Facet("language", "Language", "language", vocab.languages),
    Facet("evidence_level", "Evidence", "evidence_level", vocab.evidence_levels),
    Facet("impact_evaluation", "Impact evaluation", "impact_evaluation", vocab.impact_evaluation),
    Facet("outcome", "Evaluated outcome", "outcomes", vocab.outcomes),
    Facet("geographic_scale", "Scale", "geographic_scale", vocab.scales),
    Facet("conditionality", "Conditionality", "conditionality", vocab.conditionalities),
    Facet("benefits", "Benefits", "benefits", vocab.benefits),
    Facet("targeting", "Targeting", "targeting", vocab.targeting_methods),
    Facet("decade", "Start year", "decade", None),
)
FACETS_BY_NAME = {f.name: f for f in FACETS}


def facet_label(facet: Facet, value: str, lang: str = "en") -> str:
    """The display label of one facet value."""
    if facet.vocabulary is None:
        return value
    return facet.vocabulary().label(value, lang)
