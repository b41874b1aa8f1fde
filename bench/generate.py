"""A seeded generator of practice-shaped files in the real format, with the real vocabularies.

Words are drawn from the case studies in `practices/` (per language), so analysers see real
English, Spanish, Portuguese and Chinese text.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from kb import vocab
from kb.practice import load_tree

ROOT = Path(__file__).resolve().parent.parent
LANG_SHARE = (("en", 0.80), ("es", 0.08), ("pt", 0.07), ("zh", 0.05))
STATUSES = vocab.statuses().values()
EVIDENCE = [*vocab.evidence_levels().values(), None]
SECTIONS = {"en": ["Context", "Design", "Implementation", "Results", "Lessons"],
            "es": ["Contexto", "Diseño", "Implementación", "Resultados", "Lecciones"],
            "pt": ["Contexto", "Desenho", "Implementação", "Resultados", "Lições"],
            "zh": ["背景", "设计", "实施", "成效", "经验与启示"]}
FALLBACK = {"en": "poverty programme families cash transfer rural health education school women",
            "es": "pobreza programa familias transferencia rural salud educación escuela mujeres",
            "pt": "pobreza programa famílias transferência rural saúde educação escola mulheres",
            "zh": "扶贫 农村 低保 家庭 教育 健康 产业 搬迁 贫困 人口"}


def word_pools(practices_dir: Path = ROOT / "practices") -> dict[str, list[str]]:
    """Words per language, from the real case studies (a small fallback if there are none)."""
    pools: dict[str, list[str]] = {lang: [] for lang in vocab.LANGUAGES}
    practices, _ = load_tree(practices_dir) if practices_dir.is_dir() else ([], [])
    for p in practices:
        if p.language == "zh":
            runs = re.findall(r"[\u4e00-\u9fff]+", p.body)
            pools["zh"] += [run[i:i + random.Random(i).choice((2, 2, 3, 4))] for run in runs
                            for i in range(0, len(run), 3)]
        else:
            pools[p.language] += re.findall(r"[^\W\d_]{3,}", p.body)
    return {lang: words or FALLBACK[lang].split() for lang, words in pools.items()}


def _pick_language(rng: random.Random) -> str:
    roll, acc = rng.random(), 0.0
    for lang, share in LANG_SHARE:
        acc += share
        if roll < acc:
            return lang
    return "en"


def _sentence(rng: random.Random, words: list[str], lang: str) -> str:
    chosen = rng.choices(words, k=rng.randint(8, 18))
    if lang == "zh":
        return "".join(chosen) + "。"
    return " ".join(chosen).capitalize() + "."


def practice_file(n: int, rng: random.Random, pools: dict[str, list[str]]) -> tuple[str, str]:
    """(slug, text) of the n-th generated practice."""
    countries = vocab.countries().values()
    types = vocab.policy_types().values()
    lang = _pick_language(rng)
    country = rng.choice(countries)
    extra = rng.sample(countries, rng.choice((0, 0, 0, 1, 2)))
    chosen_countries = list(dict.fromkeys([country, *extra]))
    chosen_types = rng.sample(types, rng.randint(1, 3))
    start = rng.randint(1962, 2024)
    end = rng.choice([None, None, min(2026, start + rng.randint(1, 15))])
    words = pools[lang]
    title = " ".join(w.capitalize() for w in rng.choices(pools["en"], k=rng.randint(2, 5)))
    target_words = rng.randint(600, 2000)
    paragraphs, count = [], 0
    sections = SECTIONS[lang]
    while count < target_words:
        sentence_block = " ".join(_sentence(rng, words, lang) for _ in range(rng.randint(3, 6)))
        paragraphs.append(sentence_block)
        count += len(sentence_block.split()) if lang != "zh" else len(sentence_block) // 2
    per = max(1, len(paragraphs) // len(sections))
    body = "\n\n".join(f"## {sections[i // per] if i // per < len(sections) else sections[-1]}\n\n{p}"
                       if i % per == 0 else p for i, p in enumerate(paragraphs))
    evidence = rng.choice(EVIDENCE)
    slug = f"{country.lower()}-gen-{n:06d}"
    front = [
        "---", f"title: \"{title} {n}\"", f"countries: [{', '.join(chosen_countries)}]",
        f"policy_types: [{', '.join(chosen_types)}]",
        f"summary: \"{_sentence(rng, words, lang)[:400]}\"", f"year_start: {start}",
        f"year_end: {end if end else 'null'}", f"status: {rng.choice(STATUSES)}", f"language: {lang}",
        *([f"evidence_level: {evidence}"] if evidence else []),
        "sources:", f"  - {{title: \"Report {n}\", publisher: World Bank, year: {start + 1}, "
                    f"url: \"https://example.org/report/{n}\"}}",
        "last_reviewed: 2026-11-01", "---", "",
    ]
    return slug, "\n".join(front) + body + "\n"


def generate(out: Path, count: int, seed: int = 42) -> Path:
    """Write `count` practices under `out` (in sub-folders of 500) and return `out`."""
    rng = random.Random(seed)
    pools = word_pools()
    out.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        slug, text = practice_file(n, rng, pools)
        folder = out / f"batch-{n // 500:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")
    return out


def main() -> None:
    """Command line: python -m bench.generate OUT --count N --seed S."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    generate(args.out, args.count, args.seed)
    print(f"wrote {args.count} practices to {args.out}")


if __name__ == "__main__":
    main()
