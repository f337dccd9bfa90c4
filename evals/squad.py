"""``python -m evals --squad FILE``: the assistant on SQuAD 2.0 articles it never saw.

Each article becomes its own corpus (paragraphs joined by blank lines) with its own
index, built by the normal ``build_index``; every question goes through ``ask()`` as
written, without its paragraph. ``--foreign`` asks each article's questions of the next article's corpus (every one
should be abstained). ``--one-corpus`` puts all articles in one corpus (the
right document must also be found); ``--given-paragraph`` runs the reader alone on the
question's paragraph (the standard SQuAD setting). Scoring: :mod:`evals.squad_scoring`.
Reports: ``squad.json`` and ``squad.md``; thresholds (``evals/squad.toml``) gate CI.
Data: SQuAD 2.0 (Rajpurkar, Jia & Liang 2018), CC BY-SA 4.0.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evals.scoring import reading_of
from evals.squad_scoring import load_articles, load_split, squad_em_f1

DEFAULT_SQUAD_THRESHOLDS = Path(__file__).resolve().parent / "squad.toml"


@dataclass
class Row:
    """One question's outcome."""

    article: str
    id: str
    question: str
    golds: list[str]
    answer: str
    abstained: bool
    em: float
    f1: float
    evidence_at_1: bool | None  # None: unanswerable or given paragraph
    document_at_1: bool | None  # the first citation is in the question's article
    latency_ms: float
    path: str = "fast"  # which answerer decided: fast, llm or rules
    read: bool = False  # the language model read the question (its quote kept or not)
    cut: bool = False  # the reading ran past the question's deadline


def file_name(title: str) -> str:
    """A corpus file name for an article. Example: "Packet_switching" -> "Packet_switching.txt"."""
    return re.sub(r"[^\w.-]+", "_", title) + ".txt"


def article_text(article: dict[str, Any]) -> tuple[str, list[int]]:
    """The article as one document, and where each paragraph starts in it."""
    parts, starts, pos = [], [], 0
    for para in article["paragraphs"]:
        context = para["context"].strip()
        lead = len(para["context"]) - len(para["context"].lstrip())
        starts.append(pos - lead)  # answer_start counts from the unstripped context
        parts.append(context)
        pos += len(context) + 2
    return "\n\n".join(parts) + "\n", starts


def sample(article: dict[str, Any], per_article: int | None, seed: int) -> list[tuple[int, dict]]:
    """(paragraph number, qa) pairs of an article, a seeded sample when ``per_article``."""
    pairs = [(i, qa) for i, p in enumerate(article["paragraphs"]) for qa in p["qas"]]
    if per_article and per_article < len(pairs):
        keep = random.Random(f"{seed}-{article['title']}").sample(range(len(pairs)), per_article)
        pairs = [pairs[i] for i in sorted(keep)]
    return pairs


def run_squad(
    path: Path,
    titles: list[str],
    *,
    per_article: int | None = None,
    seed: int = 0,
    given_paragraph: bool = False,
    one_corpus: bool = False,
    foreign: bool = False,
    answerer: str | None = None,
    work_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Row]:
    """Ask every sampled question of ``titles`` and score it."""
    from assistant import Settings, ask, build_index

    articles = load_articles(path, titles)
    tmp = tempfile.TemporaryDirectory(prefix="squad-") if work_dir is None else None
    root = Path(tmp.name) if tmp else Path(work_dir or ".")
    texts = {a["title"]: article_text(a) for a in articles}
    settings_for: dict[str, Settings] = {}
    if not given_paragraph:
        groups = [articles] if one_corpus else [[a] for a in articles]
        for group in groups:
            name = "all" if one_corpus else group[0]["title"]
            corpus = root / name / "corpus"
            corpus.mkdir(parents=True, exist_ok=True)
            for a in group:
                (corpus / file_name(a["title"])).write_text(texts[a["title"]][0], encoding="utf-8")
            chosen = {"answerer": answerer} if answerer else {}
            settings = Settings.from_env(
                corpus_dir=corpus, index_dir=root / name / "index", **chosen
            )
            build_index(settings)
            for a in group:
                settings_for[a["title"]] = settings
        if foreign:  # each article's questions go to the next article's corpus
            titles_in = [a["title"] for a in articles]
            settings_for = {
                t: settings_for[titles_in[(i + 1) % len(titles_in)]]
                for i, t in enumerate(titles_in)
            }
    todo = [(a, i, qa) for a in articles for i, qa in sample(a, per_article, seed)]
    rows = []
    for n, (article, para, qa) in enumerate(todo, 1):
        golds = [] if foreign else [g["text"] for g in qa["answers"]]
        began = time.perf_counter()
        path = "llm" if given_paragraph and answerer == "llm" else "fast"
        read = cut = False
        if given_paragraph:
            answer, abstained, cites = _read_paragraph(
                qa["question"], article["paragraphs"][para], path
            )
        else:
            a = ask(qa["question"], settings=settings_for[article["title"]])
            answer, abstained, cites, path = a.answer, a.abstained, a.citations, a.answered_by
            read, cut = reading_of(a.timings)
        latency = 1000 * (time.perf_counter() - began)
        em, f1 = squad_em_f1("" if abstained else answer, golds)
        evidence = document = None
        if cites and not given_paragraph:
            document = cites[0].source == file_name(article["title"])
            if golds:
                offset = texts[article["title"]][1][para]
                spans = [
                    (offset + g["answer_start"], offset + g["answer_start"] + len(g["text"]))
                    for g in qa["answers"]
                ]
                evidence = document and any(
                    cites[0].start < b and a < cites[0].end for a, b in spans
                )
        elif golds and not given_paragraph:
            evidence = document = False
        rows.append(
            Row(
                article["title"],
                qa["id"],
                qa["question"],
                golds,
                answer,
                abstained,
                em,
                f1,
                evidence,
                document,
                latency,
                path,
                read,
                cut,
            )
        )
        if progress:
            progress(n, len(todo))
    if tmp:
        tmp.cleanup()
    return rows


def _read_paragraph(question: str, paragraph: dict[str, Any], path: str) -> tuple[str, bool, list]:
    """The best span of the MiniLM reader, or the language model's located quote."""
    context = paragraph["context"]
    if path == "llm":
        from assistant import Settings
        from assistant.llm_reader import reader_for

        reading = reader_for(Settings.from_env()).read(question, [context])
        found = reading.located
        best = context[found.start : found.end] if found else ""
        return best, not best, []
    from assistant.reader import reader

    spans = reader().read(question, [context])
    best = context[spans[0].start : spans[0].end] if spans else ""
    return best, not best, []


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarize(rows: list[Row]) -> dict[str, Any]:
    """Overall, answerable and unanswerable EM/F1 (in %), evidence@1, abstention, latency."""
    answerable = [r for r in rows if r.golds]
    unanswerable = [r for r in rows if not r.golds]

    def pct(values: list[float]) -> float | None:
        m = _mean(values)
        return None if m is None else round(100 * m, 1)

    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "em": pct([r.em for r in rows]),
        "f1": pct([r.f1 for r in rows]),
        "answerable_em": pct([r.em for r in answerable]),
        "answerable_f1": pct([r.f1 for r in answerable]),
        "unanswerable_abstained": pct([float(r.abstained) for r in unanswerable]),
        "answerable_abstained": pct([float(r.abstained) for r in answerable]),
        "evidence_at_1": pct(
            [float(r.evidence_at_1) for r in answerable if r.evidence_at_1 is not None]
        ),
        "document_at_1": pct(
            [float(r.document_at_1) for r in answerable if r.document_at_1 is not None]
        ),
        "latency_p50_ms": _percentile([r.latency_ms for r in rows], 0.5),
        "latency_p95_ms": _percentile([r.latency_ms for r in rows], 0.95),
        "read_by_llm": pct([float(r.path == "llm") for r in rows]),
        "sent_to_llm": pct([float(r.read) for r in rows]),
        "deadline_hit": pct([float(r.cut) for r in rows]),
        **{f"{path}_f1": pct([r.f1 for r in rows if r.path == path]) for path in ("fast", "llm")},
    }


def check(summary: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """Missed thresholds; a key ending in ``_max`` is a ceiling, any other a floor."""
    failures = []
    for key, limit in thresholds.items():
        name = key.removesuffix("_max")
        value = summary.get(name)
        if value is None:
            continue
        if (value > limit) if key.endswith("_max") else (value < limit):
            failures.append(
                f"{name} = {value} ({'above' if key.endswith('_max') else 'below'} {limit})"
            )
    return failures


def format_markdown(summary: dict[str, Any], per_article: dict[str, dict[str, Any]]) -> str:
    keys = [
        "questions",
        "f1",
        "em",
        "answerable_f1",
        "answerable_em",
        "unanswerable_abstained",
        "answerable_abstained",
        "evidence_at_1",
        "document_at_1",
        "latency_p50_ms",
        "read_by_llm",
        "sent_to_llm",
        "deadline_hit",
        "fast_f1",
        "llm_f1",
    ]
    lines = ["| article | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for title, s in [*per_article.items(), ("**all**", summary)]:
        cells = [
            "-" if s[k] is None else (f"{s[k]:.0f}" if k.startswith("latency") else str(s[k]))
            for k in keys
        ]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(args: Any) -> int:
    """The ``--squad`` branch of ``python -m evals``; returns the exit code."""
    import sys

    titles = args.articles.split(",") if args.articles else load_split()["test"]
    if args.articles == "all":
        titles = [a["title"] for a in load_articles(args.squad)]

    def progress(n: int, total: int) -> None:
        if not args.quiet and sys.stderr.isatty():
            print(f"\r[{n}/{total}]", end="" if n < total else "\n", file=sys.stderr, flush=True)

    rows = run_squad(
        args.squad,
        titles,
        per_article=args.per_article,
        seed=args.seed,
        given_paragraph=args.given_paragraph,
        one_corpus=args.one_corpus,
        foreign=args.foreign,
        answerer=args.answerer,
        progress=progress,
    )
    summary = summarize(rows)
    per_article = {t: summarize([r for r in rows if r.article == t]) for t in titles}
    table = format_markdown(summary, per_article)
    print(table)
    thresholds = {}
    if args.thresholds:
        thresholds = tomllib.loads(Path(args.thresholds).read_text(encoding="utf-8"))
    failures = check(summary, thresholds)
    report_dir = Path(args.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "summary": summary,
        "articles": per_article,
        "thresholds": thresholds,
        "threshold_failures": failures,
        "rows": [asdict(r) for r in rows],
    }
    (report_dir / "squad.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (report_dir / "squad.md").write_text(table + "\n", encoding="utf-8")
    print(f"\nreports: {report_dir / 'squad.json'}, {report_dir / 'squad.md'}")
    for f in failures:
        print(f"THRESHOLD MISSED: {f}")
    if thresholds and not failures:
        print("all thresholds met")
    return 1 if failures else 0
