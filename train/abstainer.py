"""Fit the abstainer (``make train``, after train/reader.py; about 5 minutes).

Data: every question of the ``dev`` articles of evals/squad_split.json (SQuAD 2.0 dev set,
Rajpurkar, Jia & Liang 2018, CC BY-SA 4.0), articles the reader never trained on. Each
article is its own corpus and index, as in ``python -m evals --squad``; for each question
the shipped reader, which never saw them, proposes candidates from the retrieved
paragraphs, and each candidate
is a row of ``assistant.abstain.features`` labelled 1 when its token F1 with a gold
answer is at least 0.5 (never for unanswerable questions). A logistic regression is fit
on the standardised rows; the threshold on the best candidate's probability is the one
that maximises overall SQuAD F1. Leave-one-article-out figures are printed first.
Writes models/abstainer.json.

    .venv/bin/python -m train.abstainer [--reuse]   # --reuse: refit on the last run's spans
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
POSITIVE_F1 = 0.5  # a candidate this close to a gold answer counts as right
ROOT = Path(__file__).resolve().parent.parent
SQUAD = Path(os.environ.get("SQUAD_FILE", ROOT.parent / "shared" / "data" / "squad2-public.json"))
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
from assistant.question import rewrite, validate_question  # noqa: E402
from assistant.reader import reader  # noqa: E402
from assistant.retrieve import HybridSearch  # noqa: E402
from evals.squad import article_text, file_name  # noqa: E402
from evals.squad_scoring import load_articles, load_split, squad_em_f1  # noqa: E402

# Every candidate scores 0.5: candidates keep the reader's order.
NEUTRAL = Abstainer(weights={}, bias=0.0, threshold=0.5, mean={}, scale={})


def collect(article: dict) -> list[dict]:
    """One entry per question: its gold answers and its candidates' rows and F1s."""
    corpus = WORK / article["title"] / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / file_name(article["title"])).write_text(article_text(article)[0], encoding="utf-8")
    settings = Settings.from_env(
        corpus_dir=corpus, index_dir=WORK / article["title"] / "index", answerer="learned"
    )
    index = build_index(settings)
    encoder = onnx_encoder(index.query_encoder) if index.query_encoder else embedder()
    search = HybridSearch(index, encoder, settings)
    answerer = LearnedAnswerer(index.passages, reader(), NEUTRAL)
    out = []
    for para in article["paragraphs"]:
        for qa in para["qas"]:
            golds = [a["text"] for a in qa["answers"]]
            query = rewrite(validate_question(qa["question"], 1000), [], search.vocabulary)
            cands = answerer.candidates(query.text, search.search(query.text), settings)
            out.append(
                {
                    "article": article["title"],
                    "golds": golds,
                    "evidence": [asdict(c.evidence) for c in cands],
                    "texts": [c.text for c in cands],
                    "f1": [squad_em_f1(c.text, golds)[1] if golds else 0.0 for c in cands],
                }
            )
    return out


def matrix(questions: list[dict], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    rows = [[r[n] for n in names] for q in questions for r in q["rows"]]
    labels = [float(f >= POSITIVE_F1) for q in questions for f in q["f1"]]
    return np.array(rows, dtype=np.float64), np.array(labels)


def fit(questions: list[dict], names: list[str]) -> Abstainer:
    from sklearn.linear_model import LogisticRegression

    x, y = matrix(questions, names)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=5000, random_state=SEED)
    model.fit((x - mean) / scale, y)
    return Abstainer(
        weights=dict(zip(names, model.coef_[0].tolist(), strict=True)),
        bias=float(model.intercept_[0]),
        threshold=0.5,
        mean=dict(zip(names, mean.tolist(), strict=True)),
        scale=dict(zip(names, scale.tolist(), strict=True)),
    )


def decisions(model: Abstainer, questions: list[dict]) -> list[tuple[float, float, float]]:
    """(best probability, F1 if answered, F1 if abstained) per question."""
    out = []
    for q in questions:
        abstain_f1 = 0.0 if q["golds"] else 1.0
        if not q["rows"]:
            out.append((0.0, abstain_f1, abstain_f1))
            continue
        probs = [model.probability(r) for r in q["rows"]]
        best = int(np.argmax(probs))
        answered = squad_em_f1(q["texts"][best], q["golds"])[1] if q["golds"] else 0.0
        out.append((probs[best], answered, abstain_f1))
    return out


def best_threshold(scored: list[tuple[float, float, float]]) -> tuple[float, float]:
    """The threshold maximising mean F1, and that F1 (in %)."""
    best = (0.5, -1.0)
    for t in np.linspace(0.02, 0.98, 97):
        f1 = float(np.mean([a if p >= t else b for p, a, b in scored]))
        if f1 > best[1]:
            best = (float(t), f1)
    return best[0], 100 * best[1]


def report(scored: list[tuple[float, float, float]], threshold: float, golds: list[bool]) -> dict:
    answered = [p >= threshold for p, _, _ in scored]
    f1 = [a if ok else b for (_, a, b), ok in zip(scored, answered, strict=True)]
    has = [i for i, g in enumerate(golds) if g]
    nil = [i for i, g in enumerate(golds) if not g]
    return {
        "f1": round(100 * float(np.mean(f1)), 1),
        "answerable_f1": round(100 * float(np.mean([f1[i] for i in has])), 1),
        "unanswerable_abstained": round(100 * float(np.mean([not answered[i] for i in nil])), 1),
        "answerable_abstained": round(100 * float(np.mean([not answered[i] for i in has])), 1),
    }


def main() -> None:
    np.random.seed(SEED)
    split = load_split()
    cache = WORK / "questions.json"
    if "--reuse" in sys.argv and cache.exists():  # refit on the rows of the last run
        questions = json.loads(cache.read_text(encoding="utf-8"))
    else:
        questions = []
        for article in load_articles(SQUAD, split["dev"]):
            questions += collect(article)
            print(
                f"{article['title']}: "
                f"{sum(q['article'] == article['title'] for q in questions)} questions",
                flush=True,
            )
        cache.write_text(json.dumps(questions), encoding="utf-8")
    for q in questions:  # features from the evidence, so a refit sees today's features
        q["rows"] = [features(Evidence(**e)) for e in q["evidence"]]
    names = sorted(next(q["rows"][0] for q in questions if q["rows"]).keys())
    figures = {}
    for held in split["dev"]:  # leave one article out: fit on the other, judge on it
        train = [q for q in questions if q["article"] != held]
        test = [q for q in questions if q["article"] == held]
        model = fit(train, names)
        threshold, _ = best_threshold(decisions(model, train))
        figures[held] = report(decisions(model, test), threshold, [bool(q["golds"]) for q in test])
        print(f"held out {held}: {figures[held]} at threshold {threshold:.2f}", flush=True)
    model = fit(questions, names)
    scored = decisions(model, questions)
    threshold, _ = best_threshold(scored)
    figures["all_dev_fit"] = report(scored, threshold, [bool(q["golds"]) for q in questions])
    print(f"fit on all dev articles: {figures['all_dev_fit']} at threshold {threshold:.2f}")
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
                "trained_on": split["dev"],
                "seed": SEED,
                "C": C,
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
