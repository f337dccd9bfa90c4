"""The cascade's decisions on fixed inputs: routing, the quote's score, the model file."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from assistant.decide import DECIDER_FILE, Decider, Signals, features
from assistant.errors import ModelError

DECIDER = Decider(
    weights={"p_stated": 2.0, "declined": -3.0},
    bias=0.0,
    mean={},
    scale={},
    threshold=0.6,
    fast_sure=0.8,
    fast_none=0.02,
    fast_fallback=0.5,
)


def _signals(**kw: object) -> Signals:
    base = dict(
        question="Who chairs the Harbour Board?",
        quote="Marta Quill",
        declined=False,
        similarity=1.0,
        p_decline=0.01,
        p_stated=0.9,
        token_probs=(0.9, 0.6, 0.99),
        piece_rank=0,
        read="Its chair, Marta Quill, said so.",
        fast_confidence=0.4,
        fast_answer="Marta Quill",
        rules_answer="",
        top_dense=0.6,
        sentence="Its chair, Marta Quill, said so.",
    )
    base.update(kw)
    return Signals(**base)  # type: ignore[arg-type]


def test_route__sure_unsure_and_uncovered() -> None:
    assert DECIDER.route(0.9) == "fast"
    assert DECIDER.route(0.3) == "llm"
    assert DECIDER.route(0.01) == "abstain"


def test_features__a_stated_quote_scores_above_a_declined_one() -> None:
    stated = DECIDER.probability(features(_signals()))
    declined = DECIDER.probability(features(_signals(quote="", declined=True, p_stated=0.0)))
    assert stated > DECIDER.threshold > declined


def test_features__reply_probabilities_count_only_for_a_quote() -> None:
    row = features(_signals())
    assert row["reply_p_min"] == 0.6
    assert row["reply_p_mean"] == pytest.approx((0.9 * 0.6 * 0.99) ** (1 / 3))
    none = features(_signals(quote="", declined=True))
    assert none["reply_p_min"] == none["reply_p_mean"] == 0.0
    assert none["logit_stated"] == features(_signals())["logit_stated"]  # asked either way


def test_features__agreement_and_missing_names() -> None:
    row = features(_signals(read="Someone else chairs it."))
    assert row["agree_fast"] == 1.0 and row["names_missing"] == 1.0  # "Harbour Board" unread
    assert features(_signals(quote="", declined=True))["agree_fast"] == 0.0


def test_features__how_much_of_the_question_the_quotes_sentence_holds() -> None:
    # "chairs" and "Harbour Board" are asked; the sentence holds "chair" only
    assert features(_signals())["sentence_coverage"] == pytest.approx(1 / 3)
    full = _signals(sentence="Marta Quill chairs the Harbour Board.")
    assert features(full)["sentence_coverage"] == 1.0
    assert features(_signals(sentence="It rained."))["sentence_coverage"] == 0.0
    assert features(_signals(quote="", declined=True, sentence=""))["sentence_coverage"] == 0.0


def test_fit__rows_of_older_signals_are_refused_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import train.decider as fit

    older = {k: v for k, v in asdict(_signals()).items() if k != "sentence"}
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"signals": older}) + "\n", encoding="utf-8")
    monkeypatch.setattr(fit, "ROWS", rows)
    with pytest.raises(SystemExit, match="move it aside"):
        fit.load_rows()


def test_fit__thresholds_that_win_on_average_by_harming_one_group_are_not_chosen() -> None:
    import train.decider as fit

    def row(group: str, fast_right: bool) -> dict:  # unsure, no quote: answer or abstain
        return {
            "group": group,
            "heading": False,
            "signals": {"fast_confidence": 0.3, "quote": ""},
            "fast_own": float(fast_right),
            "fast_value": float(fast_right),
            "quote_value": 0.0,
            "abstain_value": float(not fast_right),
        }

    # abstaining is right on both article questions and wrong on the case: on average
    # abstaining wins (2/3), but the cases would lose the answer the fast path gets right
    rows = [row("article", False), row("article", False), row("cases", True)]
    (_, _, _, fallback), value, _ = fit.choose(rows, [0.0] * 3, own=0.2)
    assert fallback == 0.3 and value == pytest.approx(1 / 3)


def test_decider__the_shipped_model_loads_with_sane_thresholds() -> None:
    d = Decider.load(DECIDER_FILE)
    assert 0.0 < d.threshold < 1.0 and d.fast_none <= d.fast_sure
    assert set(d.weights) == set(features(_signals()))


def test_decider__a_damaged_file_is_a_model_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "decider.json"
    bad.write_text(json.dumps({"weights": {}}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"decider\.json.*make train"):
        Decider.load(bad)


def test_answer_how__says_which_path_answered_and_how_long() -> None:
    from assistant.types import Answer

    read = Answer("q", "a", "t", False, answered_by="llm", timings={"fast": 0.1, "read": 4.0})
    assert read.how() == "read by the language model in 4.1 s"
    kept = Answer("q", "a", "t", False, timings={"fast": 0.1, "read": 4.0})
    assert kept.how().startswith("read by the language model, the fast reader's answer kept")
    assert Answer("q", "a", "t", False, timings={"fast": 0.05}).how() == (
        "answered by the fast reader in 0.1 s"
    )


def test_pieces__the_fast_readers_sentence_leads_what_the_model_reads() -> None:
    from assistant import Settings
    from assistant.cascade import CascadeAnswerer
    from assistant.engine import engine_for

    settings = Settings.from_env(answerer="auto")
    retriever, answerer = engine_for(settings)
    assert isinstance(answerer, CascadeAnswerer)
    hits = retriever.search("Who is the chairman of Seres?")
    top = hits[0].passage
    lead = next(
        p
        for p in answerer.fast.passages
        if (p.source, p.paragraph) != (top.source, top.paragraph) and len(p.text) > 80
    )
    assert top.text in answerer.pieces(hits, settings)[0].text
    led = answerer.pieces(hits, settings, lead)
    assert lead.text in led[0].text and top.text not in led[0].text
