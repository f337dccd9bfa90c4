"""Every prompt the language model is given, in one place.

A prompt is code: each changes only with a measurement (figures in models/README.md).
Prompts are kept short: on 2 cores the model reads about 70 prompt tokens a second,
and the reading, not the writing, is nearly all of an answer's time.
"""

from __future__ import annotations

from collections.abc import Sequence

#: The reader: copy the answer, or say it is not there. Asking for "the shortest exact
#: phrase" keeps replies to SQuAD-style spans that ``quote.locate`` can find; the one
#: fixed word for "no answer" gives the first token's probability as a signal.
READER_SYSTEM = (
    "Answer the question with the shortest exact phrase copied from the passages, nothing "
    "else. If the passages do not state the answer, reply exactly: unanswerable"
)
DECLINE = "unanswerable"

#: Asked after the question in the reader's own prompt, without its reply (which the
#: model tends to agree with: AUC 0.60 for right quotes on SQuAD asked after the reply,
#: 0.72 asked alone); the model's cache holds the prompt up to the question, so only
#: this line is read. The probability of "yes" is a signal of whether the passages
#: answer at all.
STATED = "Do the passages explicitly state the answer? Reply yes or no."


def reader_messages(question: str, passages: Sequence[str]) -> list[dict[str, str]]:
    """Chat messages for the reader. Example: passages ["A.", "B."] -> "[1] A.\\n[2] B." in the user turn."""
    numbered = "\n".join(f"[{n}] {p}" for n, p in enumerate(passages, 1))
    return [
        {"role": "system", "content": READER_SYSTEM},
        {"role": "user", "content": f"Passages:\n{numbered}\n\nQuestion: {question}"},
    ]


def check_messages(question: str, passages: Sequence[str]) -> list[dict[str, str]]:
    """The reader's prompt with ``STATED`` after the question, without a reply before it.

    It shares the reader's prompt up to the question, so llama.cpp's cache reads only
    the last line again; the model's answer is not there to agree with.
    """
    reader = reader_messages(question, passages)
    return [reader[0], {"role": "user", "content": f"{reader[1]['content']}\n\n{STATED}"}]


#: Generated replies (``ASSISTANT_LLM``): one or two sentences, each citing its passage,
#: so that ``verify`` can check every figure and name against the passage it cites.
WRITER_SYSTEM = (
    "You answer questions about a document using only the numbered passages given. "
    "Reply in one or two short sentences. End every sentence with the number of the "
    "passage it comes from in brackets, like [1]. Copy figures, dates and names exactly "
    "as the passages write them. If the passages do not answer the question, reply: "
    "The document doesn't say."
)


def writer_messages(question: str, passages: Sequence[str], short: str) -> list[dict[str, str]]:
    """Chat messages for a generated reply; ``short`` is the extractive answer, in passage [1]."""
    numbered = "\n".join(f"[{n}] {p}" for n, p in enumerate(passages, 1))
    user = (
        f"Passages:\n{numbered}\n\nQuestion: {question}\n"
        f"A short answer found in passage [1]: {short}\n"
        "Answer in one or two sentences, each ending with its passage number, like [1]."
    )
    return [{"role": "system", "content": WRITER_SYSTEM}, {"role": "user", "content": user}]
