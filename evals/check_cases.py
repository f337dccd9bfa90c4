"""Validate evals/cases.jsonl against the corpus document.

Usage: python3 evals/check_cases.py [CASES_JSONL] [CORPUS_TXT]

Checks: valid JSON per line, unique ids, required fields, allowed types, minimum counts per
type, evidence is an exact substring of the corpus (warning if it occurs more than once) and
stays inside one sentence, unanswerable cases have [] answers and null evidence, other cases
have non-empty answers, history is well formed, and every body paragraph of the corpus
contains at least one evidence string. Prints a summary table; exits 1 on any failure.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_CASES = HERE / "cases.jsonl"
DEFAULT_CORPUS = HERE.parent / "corpus" / "seres-huawei-aito.txt"

BASE_TYPES = ("money", "percent", "date", "person", "org", "list", "why")
META_TYPES = ("unanswerable", "followup", "paraphrase", "typo")
ALLOWED_TYPES = BASE_TYPES + META_TYPES
MIN_COUNTS: dict[str, int] = {
    "money": 30,
    "percent": 10,
    "date": 10,
    "person": 8,
    "org": 12,
    "list": 5,
    "why": 8,
    "unanswerable": 15,
    "followup": 10,
    "paraphrase": 10,
    "typo": 10,
}
MIN_TOTAL = 130
REQUIRED_FIELDS = ("id", "question", "answers", "type", "evidence")
OPTIONAL_FIELDS = ("history", "answer_type")
MAX_ANSWER_WORDS = 12

# A sentence boundary: terminal punctuation (optionally followed by a closing quote), then
# whitespace, then an upper-case letter or an opening quote. Decimals like 1.729 never match.
SENTENCE_BREAK = re.compile(r"[.!?][\"']?\s+(?=[A-Z\"])")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9']*")
_STOPWORD_TEXT = """a about after all also an and any are as at be been before by can did do does
    for from had has have he her his how in into is it its long many much of on or our over she
    so than that the their them then there these they this those to up was were what when where
    which while who whom whose why will with would you your"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def is_body_paragraph(line: str) -> bool:
    """Body paragraphs: >= 12 words, or ending in sentence punctuation or a closing quote."""
    text = line.strip()
    if not text:
        return False
    return len(text.split()) >= 12 or text.endswith((".", "!", "?", '"'))


def sentences_of(paragraph: str) -> list[str]:
    """Split a paragraph into sentences (heuristic, good enough for this article)."""
    parts: list[str] = []
    start = 0
    for match in SENTENCE_BREAK.finditer(paragraph):
        end = match.end()
        parts.append(paragraph[start:end].strip())
        start = end
    parts.append(paragraph[start:].strip())
    return [p for p in parts if p]


def content_words(text: str) -> set[str]:
    words: set[str] = set()
    for raw in WORD.findall(text.lower()):
        word = raw.removesuffix("'s").rstrip("'")
        if word in STOPWORDS or len(word) < 2:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


def check_history(case_id: str, history: Any, errors: list[str]) -> None:
    if not isinstance(history, list) or not history:
        errors.append(f"{case_id}: history must be a non-empty list")
        return
    expected = "user"
    for i, msg in enumerate(history):
        if not isinstance(msg, dict) or set(msg) != {"role", "content"}:
            errors.append(f"{case_id}: history[{i}] must have exactly 'role' and 'content'")
            return
        if msg["role"] != expected:
            errors.append(f"{case_id}: history[{i}] role should be {expected!r}")
        if not isinstance(msg["content"], str) or not msg["content"].strip():
            errors.append(f"{case_id}: history[{i}] content must be a non-empty string")
        expected = "assistant" if expected == "user" else "user"
    if history[-1].get("role") != "assistant":
        errors.append(f"{case_id}: history must end with an assistant turn")


def check_case(
    case: dict[str, Any], corpus: str, sentences: list[str], errors: list[str], warns: list[str]
) -> None:
    cid = str(case.get("id"))
    for field in REQUIRED_FIELDS:
        if field not in case:
            errors.append(f"{cid}: missing field {field!r}")
    extra = set(case) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if extra:
        errors.append(f"{cid}: unknown fields {sorted(extra)}")
    if not isinstance(case.get("id"), str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", cid):
        errors.append(f"{cid}: id must be a lower-case slug")
    question = case.get("question")
    if not isinstance(question, str) or not question.strip():
        errors.append(f"{cid}: question must be a non-empty string")
    ctype = case.get("type")
    if ctype not in ALLOWED_TYPES:
        errors.append(f"{cid}: type {ctype!r} not in {ALLOWED_TYPES}")
    answer_type = case.get("answer_type")
    if ctype in META_TYPES:
        if answer_type not in BASE_TYPES:
            errors.append(f"{cid}: {ctype} case needs answer_type in {BASE_TYPES}")
    elif answer_type is not None and answer_type != ctype:
        errors.append(f"{cid}: answer_type {answer_type!r} disagrees with type {ctype!r}")

    answers = case.get("answers")
    evidence = case.get("evidence")
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        errors.append(f"{cid}: answers must be a list of strings")
        answers = []
    if ctype == "unanswerable":
        if answers:
            errors.append(f"{cid}: unanswerable case must have answers == []")
        if evidence is not None:
            errors.append(f"{cid}: unanswerable case must have evidence == null")
    else:
        if not answers or not all(a.strip() for a in answers):
            errors.append(f"{cid}: answers must be a non-empty list of non-empty strings")
        if len(set(answers)) != len(answers):
            errors.append(f"{cid}: duplicate answer aliases")
        for ans in answers:
            if len(ans.split()) > MAX_ANSWER_WORDS:
                warns.append(f"{cid}: long answer alias ({len(ans.split())} words): {ans!r}")
        if not isinstance(evidence, str) or not evidence.strip():
            errors.append(f"{cid}: evidence must be a non-empty string")
        else:
            hits = corpus.count(evidence)
            if hits == 0:
                errors.append(f"{cid}: evidence not found in corpus: {evidence!r}")
            elif hits > 1:
                warns.append(f"{cid}: evidence occurs {hits} times in corpus: {evidence!r}")
            if "\n" in evidence:
                errors.append(f"{cid}: evidence spans a line break")
            elif hits and not any(evidence in s for s in sentences):
                errors.append(f"{cid}: evidence spans a sentence boundary: {evidence!r}")
            if ctype == "paraphrase" and isinstance(question, str):
                sentence = next((s for s in sentences if evidence in s), evidence)
                shared = content_words(question) & content_words(sentence)
                if shared:
                    warns.append(f"{cid}: paraphrase shares words with evidence: {sorted(shared)}")

    history = case.get("history")
    if ctype == "followup" and history is None:
        errors.append(f"{cid}: followup case needs a history")
    if history is not None:
        check_history(cid, history, errors)


def main(argv: list[str]) -> int:
    cases_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_CASES
    corpus_path = Path(argv[2]) if len(argv) > 2 else DEFAULT_CORPUS
    corpus = corpus_path.read_text(encoding="utf-8")
    lines = corpus.split("\n")
    sentences = [s for line in lines for s in sentences_of(line)]
    errors: list[str] = []
    warns: list[str] = []
    cases: list[dict[str, Any]] = []

    for lineno, raw in enumerate(cases_path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(f"line {lineno}: invalid JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"line {lineno}: not a JSON object")
            continue
        cases.append(obj)

    id_counts = Counter(str(c.get("id")) for c in cases)
    for cid, n in id_counts.items():
        if n > 1:
            errors.append(f"duplicate id {cid!r} ({n} times)")
    for case in cases:
        check_case(case, corpus, sentences, errors, warns)

    type_counts = Counter(str(c.get("type")) for c in cases)
    for ctype, minimum in MIN_COUNTS.items():
        if type_counts[ctype] < minimum:
            errors.append(f"type {ctype!r}: {type_counts[ctype]} cases < minimum {minimum}")
    if len(cases) < MIN_TOTAL:
        errors.append(f"only {len(cases)} cases < minimum {MIN_TOTAL}")

    evidences = [c["evidence"] for c in cases if isinstance(c.get("evidence"), str)]
    body = [(n, line) for n, line in enumerate(lines, 1) if is_body_paragraph(line)]
    covered = 0
    for n, line in body:
        if any(ev and ev in line for ev in evidences):
            covered += 1
        else:
            errors.append(f"corpus line {n} not covered by any evidence: {line[:70]!r}...")

    underlying = Counter(
        str(c.get("answer_type") or c.get("type")) for c in cases if c.get("type") in ALLOWED_TYPES
    )
    print(f"{'type':<14}{'cases':>7}{'min':>6}{'answer_type':>13}")
    for ctype in ALLOWED_TYPES:
        under = str(underlying[ctype]) if ctype in BASE_TYPES else "-"
        print(f"{ctype:<14}{type_counts[ctype]:>7}{MIN_COUNTS[ctype]:>6}{under:>13}")
    print(f"{'total':<14}{len(cases):>7}{MIN_TOTAL:>6}")
    print(f"body paragraphs covered: {covered}/{len(body)}")

    for msg in warns:
        print(f"WARNING: {msg}")
    for msg in errors:
        print(f"ERROR: {msg}")
    if errors:
        print(f"FAILED with {len(errors)} error(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
