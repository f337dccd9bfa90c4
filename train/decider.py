"""Fit the cascade's decider (``make train``, after train/abstainer.py; about 45 minutes).

Data: a seeded sample of ``PER_ARTICLE`` questions of each ``dev`` article of
evals/squad_split.json (SQuAD 2.0 dev set, Rajpurkar, Jia & Liang 2018, CC BY-SA 4.0;
articles the MiniLM reader never trained on) and of ``CASES_SAMPLED`` cases of
evals/cases.jsonl (the seed article). Each article is its own corpus and index, as in ``python -m evals
--squad``. For every question the fast answerer proposes (its confidence, its best
candidate) and the language model always reads (``answerer=llm``), so each row holds
the value of every choice: the quote, the fast answer, abstaining (SQuAD token F1, or
the seed eval's scorer for a case). Rows are appended to ``artifacts/decider/rows.jsonl``
as they come (a stopped run resumes; ``--fit`` refits from them alone), and with
``ASSISTANT_READINGS_FILE`` (``make train`` sets .cache/readings.sqlite) each reading is
kept too, so that rows made anew after a change of features read nothing twice.

Fit: a logistic regression on ``assistant.decide.features`` (label: the quote is right,
token F1 >= 0.5 or accepted by the scorer) and the four thresholds, chosen on
out-of-group probabilities (three groups: each dev article, the cases; each scored by
a model fit on the other two) to maximise the mean value over all questions without
doing worse than the fast answerer alone on any group; among settings within
``TOLERANCE`` of the best, the one sending the fewest questions to the language model.
Writes models/decider.json. evals/independent.jsonl is never read, nor the ``test``
articles.

    .venv/bin/python -m train.decider [--fit]
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

# --- settings ---------------------------------------------------------------------------
SEED = 1234
PER_ARTICLE = 180  # questions sampled from each dev article
CASES_SAMPLED = 171  # all the seed cases (each question costs the model about 5 s)
C = 1.0  # inverse L2 regularisation strength
POSITIVE_F1 = 0.5
TOLERANCE = 0.005  # mean value given up for fewer language-model reads
ROOT = Path(__file__).resolve().parent.parent
SQUAD = Path(os.environ.get("SQUAD_FILE", ROOT.parent / "shared" / "data" / "squad2-public.json"))
CASES = ROOT / "evals" / "cases.jsonl"
WORK = ROOT / "artifacts" / "decider"
ROWS = WORK / "rows.jsonl"
OUT = ROOT / "models" / "decider.json"
# ----------------------------------------------------------------------------------------

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from assistant import Settings, build_index  # noqa: E402
from assistant.cascade import CascadeAnswerer  # noqa: E402
from assistant.decide import Decider, Signals, features  # noqa: E402
from assistant.engine import engine_for  # noqa: E402
from assistant.question import rewrite, validate_history, validate_question  # noqa: E402
from evals.runner import load_cases  # noqa: E402
from evals.scoring import answer_correct  # noqa: E402
from evals.squad import article_text, file_name, sample  # noqa: E402
from evals.squad_scoring import load_articles, load_split, squad_em_f1  # noqa: E402

# Reads every question, answers nothing: the rows hold the raw signals, not its choices.
NEUTRAL = Decider({}, 0.0, {}, {}, threshold=0.5, fast_sure=2.0, fast_none=-1.0, fast_fallback=2.0)


def engine(corpus: Path, index_dir: Path) -> tuple[Settings, object, CascadeAnswerer]:
    settings = Settings.from_env(corpus_dir=corpus, index_dir=index_dir, answerer="fast")
    build_index(settings)
    search, fast = engine_for(settings)
    read = Settings.from_env(corpus_dir=corpus, index_dir=index_dir, answerer="llm")
    return read, search, CascadeAnswerer(fast, NEUTRAL, read)  # type: ignore[arg-type]


def row(question: str, history: list | None, found: tuple, value) -> dict:
    """One question's signals and the value of each choice (``value(text, abstained)``)."""
    settings, search, cascade = found
    text = validate_question(question, settings.max_question_chars)
    query = rewrite(text, validate_history(history), search.vocabulary)
    hits = search.search(query.text)
    proposal = cascade.fast.propose(text, query, hits, settings)
    fast = cascade._fast(text, query, hits, settings, proposal)
    began = time.perf_counter()
    quoted = cascade.quote(query, hits, settings, proposal)
    best = proposal.ranked[0].text if proposal.ranked else ""
    return {
        "signals": asdict(quoted.signals),
        "heading": proposal.heading,
        "fast_own": value(fast.answer, fast.abstained),  # the fast answerer's own decision
        "fast_value": value(best, False) if best else value("", True),
        "quote_value": value(quoted.signals.quote, False) if quoted.signals.quote else 0.0,
        "abstain_value": value("", True),
        "reply": quoted.reading.reply,
        "prompt_tokens": quoted.reading.prompt_tokens,
        "seconds": round(time.perf_counter() - began, 3),
    }


def collect(done: set[str]) -> None:
    """Append a row for every question not yet in ``rows.jsonl``."""
    WORK.mkdir(parents=True, exist_ok=True)
    split = load_split()
    with ROWS.open("a", encoding="utf-8") as out:
        for article in load_articles(SQUAD, split["dev"]):
            corpus = WORK / article["title"] / "corpus"
            corpus.mkdir(parents=True, exist_ok=True)
            text = article_text(article)[0]
            (corpus / file_name(article["title"])).write_text(text, encoding="utf-8")
            found = engine(corpus, WORK / article["title"] / "index")
            for _, qa in sample(article, PER_ARTICLE, SEED):
                if qa["id"] in done:
                    continue
                golds = [a["text"] for a in qa["answers"]]

                def value(answer: str, abstained: bool, golds: list[str] = golds) -> float:
                    if abstained or not answer:
                        return 0.0 if golds else 1.0
                    return squad_em_f1(answer, golds)[1] if golds else 0.0

                entry = row(qa["question"], None, found, value)
                entry.update(id=qa["id"], group=article["title"], answerable=bool(golds))
                out.write(json.dumps(entry) + "\n")
                out.flush()
                print(f"{qa['id']} {entry['seconds']:.1f}s {entry['reply']!r}", flush=True)
        found = engine(ROOT / "corpus", WORK / "seed" / "index")
        cases = load_cases(CASES)
        for case in random.Random(SEED).sample(cases, min(CASES_SAMPLED, len(cases))):
            if case.id in done:
                continue

            def scored(answer: str, abstained: bool, case=case) -> float:
                return float(answer_correct(case, answer, abstained))

            entry = row(case.question, [dict(h) for h in case.history] or None, found, scored)
            entry.update(id=case.id, group="cases", answerable=case.answerable)
            out.write(json.dumps(entry) + "\n")
            out.flush()
            print(f"{case.id} {entry['seconds']:.1f}s {entry['reply']!r}", flush=True)


def load_rows() -> list[dict]:
    if not ROWS.exists():
        return []
    rows = [json.loads(line) for line in ROWS.read_text(encoding="utf-8").splitlines() if line]
    for r in rows:
        try:
            r["x"] = features(Signals(**r["signals"]))
        except TypeError as exc:  # written when Signals had other fields
            raise SystemExit(
                f"{ROWS} holds rows of another version of the signals ({exc}); move it aside "
                "and run again (with ASSISTANT_READINGS_FILE the readings are not redone)"
            ) from None
    return rows


def fit(rows: list[dict], names: list[str]) -> Decider:
    from sklearn.linear_model import LogisticRegression

    quoted = [r for r in rows if r["signals"]["quote"]]
    x = np.array([[r["x"][n] for n in names] for r in quoted])
    y = np.array([float(r["quote_value"] >= POSITIVE_F1) for r in quoted])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=5000, random_state=SEED)
    model.fit((x - mean) / scale, y)
    return Decider(
        weights=dict(zip(names, model.coef_[0].tolist(), strict=True)),
        bias=float(model.intercept_[0]),
        mean=dict(zip(names, mean.tolist(), strict=True)),
        scale=dict(zip(names, scale.tolist(), strict=True)),
        threshold=0.5,
        fast_sure=2.0,
        fast_none=-1.0,
        fast_fallback=2.0,
    )


def outcome(
    r: dict, p: float, t: tuple[float, float, float, float], own: float
) -> tuple[float, bool]:
    """(value, read by the language model) of one question under thresholds ``t``."""
    threshold, sure, none, fallback = t
    conf = r["signals"]["fast_confidence"]
    if r["heading"] or conf >= sure:
        return r["fast_own"], False
    if conf < none:
        return r["abstain_value"], False
    if r["signals"]["quote"] and p >= threshold:
        return r["quote_value"], True
    if conf >= fallback and conf >= own:
        return r["fast_value"], True
    return r["abstain_value"], True


def choose(rows: list[dict], probs: list[float], own: float) -> tuple[tuple, float, float]:
    """The thresholds with the best mean value that do no harm (fewest reads among near-ties).

    Doing no harm: on no group (an article, the cases) is the value below the fast
    answerer's alone. Without that, the settings that abstain more often win on the
    articles, where half of the questions are unanswerable, and lose answers on the cases.
    """
    grid = itertools.product(
        np.round(np.linspace(0.05, 0.95, 19), 2),
        [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 2.0],
        [0.0, 0.01, 0.02, 0.05, 0.1],
        [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 2.0],
    )
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r["group"], []).append(i)
    alone = {g: np.mean([rows[i]["fast_own"] for i in idx]) for g, idx in groups.items()}
    scored, harmless = [], []
    for t in grid:
        out = [outcome(r, p, t, own) for r, p in zip(rows, probs, strict=True)]
        s = (float(np.mean([v for v, _ in out])), float(np.mean([k for _, k in out])), t)
        scored.append(s)
        if all(np.mean([out[i][0] for i in idx]) >= alone[g] - 1e-9 for g, idx in groups.items()):
            harmless.append(s)
    pool = harmless or scored
    top = max(s for s, _, _ in pool)
    value, reads, t = min((s for s in pool if s[0] >= top - TOLERANCE), key=lambda s: (s[1], -s[0]))
    return t, value, reads


def figures(rows: list[dict], probs: list[float], t: tuple, own: float) -> dict:
    out = [outcome(r, p, t, own) for r, p in zip(rows, probs, strict=True)]
    has = [i for i, r in enumerate(rows) if r["answerable"]]
    nil = [i for i, r in enumerate(rows) if not r["answerable"]]

    def pct(xs: list[float]) -> float | None:
        return round(100 * float(np.mean(xs)), 1) if xs else None

    return {
        "questions": len(rows),
        "value": pct([v for v, _ in out]),
        "answerable": pct([out[i][0] for i in has]),
        "unanswerable_abstained": pct([out[i][0] for i in nil]),
        "read_by_llm": pct([k for _, k in out]),
        "fast_alone": pct([r["fast_own"] for r in rows]),
    }


def quote_auc(rows: list[dict], probs: list[float]) -> float:
    """How well ``probs`` separate right quotes from wrong ones (ROC AUC over quotes)."""
    from sklearn.metrics import roc_auc_score

    quoted = [i for i, r in enumerate(rows) if r["signals"]["quote"]]
    labels = [rows[i]["quote_value"] >= POSITIVE_F1 for i in quoted]
    return float(roc_auc_score(labels, [probs[i] for i in quoted]))


def main() -> None:
    random.seed(SEED)
    np.random.seed(SEED)
    if "--fit" not in sys.argv:
        done = {r["id"] for r in load_rows()}
        collect(done)
    rows = load_rows()
    from assistant.abstain import abstainer

    own = abstainer().threshold
    names = sorted(rows[0]["x"])
    groups = sorted({r["group"] for r in rows})
    held_probs = [0.0] * len(rows)
    for g in groups:  # out-of-group probabilities for choosing the thresholds
        model = fit([r for r in rows if r["group"] != g], names)
        for i, r in enumerate(rows):
            if r["group"] == g:
                held_probs[i] = model.probability(r["x"])
    t, value, reads = choose(rows, held_probs, own)
    report = {"all (out of group)": figures(rows, held_probs, t, own)}
    for g in groups:
        idx = [i for i, r in enumerate(rows) if r["group"] == g]
        report[g] = figures([rows[i] for i in idx], [held_probs[i] for i in idx], t, own)
        # the same group with thresholds chosen without it, too
        rest = [i for i in range(len(rows)) if rows[i]["group"] != g]
        t_rest, _, _ = choose([rows[i] for i in rest], [held_probs[i] for i in rest], own)
        report[f"{g} (thresholds chosen without it)"] = figures(
            [rows[i] for i in idx], [held_probs[i] for i in idx], t_rest, own
        )
    for name, fig in report.items():
        print(f"{name}: {fig}")
    print(f"quote AUC, out of group: {quote_auc(rows, held_probs):.3f}")
    model = fit(rows, names)
    threshold, sure, none, fallback = t
    OUT.write_text(
        json.dumps(
            {
                "about": "Logistic regression over assistant.decide.features and the cascade's "
                "thresholds; see models/README.md.",
                "threshold": float(threshold),
                "fast_sure": float(sure),
                "fast_none": float(none),
                "fast_fallback": float(fallback),
                "bias": model.bias,
                "weights": model.weights,
                "mean": model.mean,
                "scale": model.scale,
                "trained_on": [*load_split()["dev"], "evals/cases.jsonl"],
                "per_article": PER_ARTICLE,
                "seed": SEED,
                "C": C,
                "figures": report,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"thresholds {t}: value {value:.3f}, read by the language model {reads:.1%}; wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
