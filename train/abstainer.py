"""Fit the abstainer (``make train``, after train/reader.py; about 8 minutes).

Data: every question of the ``dev`` articles of evals/squad_split.json (SQuAD 2.0 dev set,
Rajpurkar, Jia & Liang 2018, CC BY-SA 4.0), articles the reader never trained on, and
every case of evals/cases.jsonl (the seed article). Each article is its own corpus and
index, as in ``python -m evals --squad``; for each question the shipped reader proposes
spans from the retrieved paragraphs and the rule-based answerer proposes its reply, and
each candidate is a row of ``assistant.abstain.features``, labelled 1 when it is right:
token F1 with a gold answer of at least 0.5 (never for unanswerable questions), or, for a
case, correct by the seed eval's scorer. A logistic regression is fit on the standardised
rows, a case's rows weighing ``CASE_WEIGHT`` times a SQuAD row's; the threshold on the best
candidate's probability is the lowest that still abstains on ``MIN_UNANSWERABLE_ABSTAINED``
of the unanswerable dev questions: every answer it lets through is worth more to a reader
than the fraction of F1 a higher threshold buys on SQuAD's half-unanswerable mix.
Leave-one-article-out figures (cases split in two halves alongside) are printed first.
Writes models/abstainer.json. evals/independent.jsonl is never read.

    .venv/bin/python -m train.abstainer [--reuse]   # --reuse: refit on the last run's candidates
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

# --- settings ---------------------------------------------------------------------------
SEED = 1234
C = 0.5  # inverse L2 regularisation strength
CASE_WEIGHT = 3.0  # a seed case's rows against a SQuAD question's
POSITIVE_F1 = 0.5  # a candidate this close to a gold answer counts as right
# Answer as often as possible while abstaining on at least this share of the unanswerable
# dev questions (the target the answerer is held to on new articles).
MIN_UNANSWERABLE_ABSTAINED = 0.70
ROOT = Path(__file__).resolve().parent.parent
SQUAD = Path(os.environ.get("SQUAD_FILE", ROOT.parent / "shared" / "data" / "squad2-public.json"))
CASES = ROOT / "evals" / "cases.jsonl"
WORK = ROOT / "artifacts" / "abstainer"
OUT = ROOT / "models" / "abstainer.json"
# ----------------------------------------------------------------------------------------

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from assistant import Settings, build_index  # noqa: E402
from assistant.abstain import Abstainer, Evidence, features  # noqa: E402
from assistant.learned import LearnedAnswerer  # noqa: E402
from assistant.models import embedder, onnx_encoder  # noqa: E402
from assistant.question import rewrite, validate_history, validate_question  # noqa: E402
from assistant.reader import reader  # noqa: E402
from assistant.retrieve import HybridSearch  # noqa: E402
from evals.runner import load_cases  # noqa: E402
from evals.scoring import answer_correct  # noqa: E402
from evals.squad import article_text, file_name  # noqa: E402
from evals.squad_scoring import load_articles, load_split, squad_em_f1  # noqa: E402

# Every candidate scores 0.5: candidates keep the reader's order.
NEUTRAL = Abstainer(weights={}, bias=0.0, threshold=0.5, mean={}, scale={})


def engine(corpus: Path, index_dir: Path) -> tuple[Settings, HybridSearch, LearnedAnswerer]:
    settings = Settings.from_env(corpus_dir=corpus, index_dir=index_dir, answerer="learned")
    index = build_index(settings)
    encoder = onnx_encoder(index.query_encoder) if index.query_encoder else embedder()
    search = HybridSearch(index, encoder, settings)
    return settings, search, LearnedAnswerer(index.passages, reader(), NEUTRAL)


def candidates(question: str, history: list | None, engine: tuple) -> list:
    """The question's candidates, as ``ask`` finds them."""
    settings, search, answerer = engine
    text = validate_question(question, settings.max_question_chars)
    query = rewrite(text, validate_history(history), search.vocabulary)
    hits = search.search(query.text)
    ruled = answerer.rules.answer(text, query, hits, settings)
    return answerer.candidates(query, hits, settings, ruled)


def collect(article: dict) -> list[dict]:
    """One entry per question: the value of answering each candidate, and of abstaining."""
    corpus = WORK / article["title"] / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / file_name(article["title"])).write_text(article_text(article)[0], encoding="utf-8")
    found = engine(corpus, WORK / article["title"] / "index")
    out = []
    for para in article["paragraphs"]:
        for qa in para["qas"]:
            golds = [a["text"] for a in qa["answers"]]
            cands = candidates(qa["question"], None, found)
            out.append(
                {
                    "set": "squad",
                    "article": article["title"],
                    "evidence": [asdict(c.evidence) for c in cands],
                    "texts": [c.text for c in cands],
                    "values": [squad_em_f1(c.text, golds)[1] if golds else 0.0 for c in cands],
                    "abstain_value": 0.0 if golds else 1.0,
                    "answerable": bool(golds),
                }
            )
    return out


def collect_cases() -> list[dict]:
    """The same for evals/cases.jsonl over the seed corpus; a value is 1 when correct."""
    found = engine(ROOT / "corpus", WORK / "seed" / "index")
    out = []
    for case in load_cases(CASES):
        cands = candidates(case.question, [dict(h) for h in case.history] or None, found)
        out.append(
            {
                "set": "cases",
                "article": "seed",
                "evidence": [asdict(c.evidence) for c in cands],
                "texts": [c.text for c in cands],
                "values": [float(answer_correct(case, c.text, False)) for c in cands],
                "abstain_value": float(answer_correct(case, "", True)),
                "answerable": case.answerable,
            }
        )
    return out


def fit(questions: list[dict], names: list[str]) -> Abstainer:
    """Logistic regression on the standardised rows; a case's rows weigh ``CASE_WEIGHT``."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[r.get(n, 0.0) for n in names] for q in questions for r in q["rows"]])
    y = np.array([float(v >= POSITIVE_F1) for q in questions for v in q["values"]])
    weight = np.array(
        [CASE_WEIGHT if q["set"] == "cases" else 1.0 for q in questions for _ in q["rows"]]
    )
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=5000, random_state=SEED)
    model.fit((x - mean) / scale, y, sample_weight=weight)
    return Abstainer(
        weights=dict(zip(names, model.coef_[0].tolist(), strict=True)),
        bias=float(model.intercept_[0]),
        threshold=0.5,
        mean=dict(zip(names, mean.tolist(), strict=True)),
        scale=dict(zip(names, scale.tolist(), strict=True)),
    )


def decisions(model: Abstainer, questions: list[dict]) -> list[tuple[float, float, float]]:
    """(best probability, value if answered, value if abstained) per question."""
    out = []
    for q in questions:
        if not q["rows"]:
            out.append((0.0, q["abstain_value"], q["abstain_value"]))
            continue
        probs = [model.probability(r) for r in q["rows"]]
        best = int(np.argmax(probs))
        out.append((probs[best], q["values"][best], q["abstain_value"]))
    return out


def best_threshold(model: Abstainer, questions: list[dict]) -> float:
    """The lowest threshold abstaining on ``MIN_UNANSWERABLE_ABSTAINED`` of unanswerable SQuAD questions."""
    unanswerable = [q for q in questions if q["set"] == "squad" and not q["answerable"]]
    best = [p for p, _, _ in decisions(model, unanswerable)]
    for t in np.linspace(0.02, 0.98, 49):
        if np.mean([p < t for p in best]) >= MIN_UNANSWERABLE_ABSTAINED:
            return float(t)
    return 0.98


def report(model: Abstainer, questions: list[dict], threshold: float) -> dict:
    """SQuAD-style figures (values in %) of answering at ``threshold``."""
    scored = decisions(model, questions)
    answered = [p >= threshold for p, _, _ in scored]
    value = [a if ok else b for (_, a, b), ok in zip(scored, answered, strict=True)]
    has = [i for i, q in enumerate(questions) if q["answerable"]]
    nil = [i for i, q in enumerate(questions) if not q["answerable"]]

    def pct(xs: list[float]) -> float | None:
        return round(100 * float(np.mean(xs)), 1) if xs else None

    return {
        "overall": pct(value),
        "answerable": pct([value[i] for i in has]),
        "unanswerable_abstained": pct([not answered[i] for i in nil]),
        "answerable_abstained": pct([not answered[i] for i in has]),
    }


def main() -> None:
    np.random.seed(SEED)
    split = load_split()
    cache = WORK / "questions.json"
    if "--reuse" in sys.argv and cache.exists():  # refit on the candidates of the last run
        questions = json.loads(cache.read_text(encoding="utf-8"))
    else:
        questions = []
        for article in load_articles(SQUAD, split["dev"]):
            questions += collect(article)
            print(f"{article['title']}: {len(questions)} questions so far", flush=True)
        questions += collect_cases()
        print(f"cases: {len(questions)} questions in all", flush=True)
        cache.write_text(json.dumps(questions), encoding="utf-8")
    for q in questions:  # features from the evidence, so a refit sees today's features
        q["rows"] = [features(Evidence(**e)) for e in q["evidence"]]
    names = sorted({n for q in questions for r in q["rows"] for n in r})
    cases = [q for q in questions if q["set"] == "cases"]
    half = np.random.default_rng(SEED).permutation(len(cases)) % 2
    figures = {}
    for k, held in enumerate(split["dev"]):  # leave one article (and half the cases) out
        held_cases = [c for c, h in zip(cases, half, strict=True) if h == k]
        out = {id(c) for c in held_cases}
        train = [q for q in questions if q["article"] != held and id(q) not in out]
        model = fit(train, names)
        threshold = best_threshold(model, train)
        figures[held] = report(model, [q for q in questions if q["article"] == held], threshold)
        figures[f"cases half {k}"] = report(model, held_cases, threshold)
        print(f"held out {held}: {figures[held]}, cases half {k}: {figures[f'cases half {k}']}")
    model = fit(questions, names)
    threshold = best_threshold(model, questions)
    figures["fit: dev articles"] = report(
        model, [q for q in questions if q["set"] == "squad"], threshold
    )
    figures["fit: cases"] = report(model, cases, threshold)
    print(f"fit on all at threshold {threshold:.2f}: {figures}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "about": "Logistic regression over assistant.abstain.features; see models/README.md.",
                "threshold": round(threshold, 4),
                "bias": model.bias,
                "weights": model.weights,
                "mean": model.mean,
                "scale": model.scale,
                "trained_on": [*split["dev"], "evals/cases.jsonl"],
                "seed": SEED,
                "C": C,
                "case_weight": CASE_WEIGHT,
                "min_unanswerable_abstained": MIN_UNANSWERABLE_ABSTAINED,
                "rows": int(sum(len(q["rows"]) for q in questions)),
                "questions": len(questions),
                "figures": figures,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
