"""The web app: its ``/ask`` API through ``gradio_client`` against a real server, and the
page-building helpers of ``app.py`` on plain data."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import gradio as gr
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

import app
import sources_view
from assistant import Answer, Citation, QuestionError, Settings

if TYPE_CHECKING:
    from conftest import AppServer

YINWANG = "How much did Seres and Changan each invest in Yinwang?"


@pytest.fixture(scope="module")
def client(app_server: AppServer) -> Client:
    return Client(app_server.url, verbose=False)


# ---- the /ask endpoint on a real server -------------------------------------------------


def test_api_ask__answers_yinwang_stake_with_citations_that_round_trip(client: Client) -> None:
    result = client.predict(YINWANG, [], api_name="/ask")
    assert "11.5 billion" in result["answer"]
    assert result["abstained"] is False
    assert result["text"].startswith("**11.5 billion")
    assert "[1]" in result["text"]
    assert result["citations"], result
    corpus = Settings.from_env().corpus_dir
    for c in result["citations"]:
        doc = (corpus / c["source"]).read_text(encoding="utf-8")
        assert doc[c["start"] : c["end"]] == c["text"]
        assert 0.0 <= c["score"] <= 1.0
    assert "11.5 billion" in result["citations"][0]["text"]


def test_api_ask__follow_up_uses_history(client: Client) -> None:
    first = client.predict("How much did Seres lose in 2020?", [], api_name="/ask")
    # the article states the 2020 loss twice: "1.73 billion yuan" and, in a list, "1.729 billion"
    assert first["answer"] in {"1.73 billion yuan", "1.729 billion yuan"}
    history = [
        {"role": "user", "content": "How much did Seres lose in 2020?"},
        {"role": "assistant", "content": first["text"]},
    ]
    follow_up = client.predict("And in 2022?", history, api_name="/ask")
    assert "3.832" in follow_up["answer"]
    assert "2022" in follow_up["query"]


def test_api_ask__history_is_optional(client: Client) -> None:
    result = client.predict("Who is the chairman of Seres?", api_name="/ask")
    assert "Zhang Xinghai" in result["answer"]


def test_api_ask__unanswerable_question_abstains_with_closest_passages(client: Client) -> None:
    result = client.predict("Who founded Tesla?", [], api_name="/ask")
    assert result["abstained"] is True
    assert result["answer"] == ""
    assert "doesn't say" in result["text"]
    assert result["citations"]


@pytest.mark.parametrize(
    ("question", "history", "message"),
    [
        ("", [], "empty"),
        ("   ", [], "empty"),
        ("x" * 5000, [], "limit is 1,000"),
        ("And in 2022?", [{"role": "robot", "content": "hi"}], "history[0]"),
    ],
    ids=["empty", "blank", "5000-chars", "bad-history"],
)
def test_api_ask__bad_input_gets_clean_error(
    client: Client, question: str, history: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(AppError) as excinfo:
        client.predict(question, history, api_name="/ask")
    assert message in str(excinfo.value)
    assert "Traceback" not in str(excinfo.value)


def test_api_ask__server_survives_bad_input(client: Client) -> None:
    with pytest.raises(AppError):
        client.predict("", [], api_name="/ask")
    assert "11.5 billion" in client.predict(YINWANG, [], api_name="/ask")["answer"]


def test_api__only_ask_is_public(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]


# ---- the page's pieces on plain data (no server, no model) -------------------------------

DOC = (
    "Title\n"
    "## Money\n"
    "The firm paid <b>5 million</b> euros & more. Its chairman <img src=x onerror=alert(1)> "
    "spoke.\n"
)


@pytest.fixture
def corpus(tmp_path) -> Settings:
    (tmp_path / "doc.txt").write_text(DOC, encoding="utf-8")
    return Settings(answerer="fast", corpus_dir=tmp_path, index_dir=tmp_path / "index")


def _cited(text: str, n: int = 1, score: float = 1.0) -> Citation:
    start = DOC.index(text)
    return Citation(n, text, "doc.txt", start, start + len(text), "Money", score)


def test_render_sources__escapes_document_markup_and_marks_answer(corpus: Settings) -> None:
    c1 = _cited("The firm paid <b>5 million</b> euros & more.")
    c2 = _cited("Its chairman <img src=x onerror=alert(1)> spoke.", n=2, score=0.5)
    answer = Answer("How much?", "5 million", "**5 million**", False, [c1, c2])
    html = sources_view.render_sources(answer, corpus)
    assert "<b>" not in html and "<img" not in html
    assert "&lt;b&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<mark class="answer-span">5 million</mark>' in html
    assert "[2]" in html and "score 0.50" in html and "Money" in html
    assert 'id="ask-doc-1"' in html and 'id="ask-doc-2"' in html  # the document view
    assert "Title" in html  # the whole document is there


def test_render_sources__abstention_offers_closest_passages(corpus: Settings) -> None:
    c1 = _cited("Its chairman <img src=x onerror=alert(1)> spoke.")
    answer = Answer("Who?", "", "The document doesn't say.", True, [c1])
    html = sources_view.render_sources(answer, corpus)
    assert "closest passages" in html
    assert '<mark class="answer-span"' not in html


def test_surrounding__stays_in_paragraph_and_cuts_at_words() -> None:
    doc = "Heading\n" + "word " * 100 + "TARGET." + " tail" * 100 + "\nNext paragraph"
    start = doc.index("TARGET.")
    before, after = sources_view.surrounding(doc, start, start + len("TARGET."), width=30)
    assert before.startswith("…") and before.endswith("word ")
    assert after.endswith("…") and "Next" not in after
    short_before, short_after = sources_view.surrounding(DOC, DOC.index("Its"), len(DOC) - 1)
    assert short_before.startswith("The firm") and short_after == ""


def test_user_markdown__renders_markup_literally() -> None:
    assert sources_view.user_markdown("<script>x</script> *hi*") == (
        "&lt;script&gt;x&lt;/script&gt; \\*hi\\*"
    )
    assert (
        sources_view.reply_markdown("**a**\n\n> b <img> & c [1]")
        == "**a**\n\n> b &lt;img> &amp; c [1]"
    )


def test_ticking__says_while_it_waits_and_keeps_every_item_in_order() -> None:
    def slow() -> Any:
        yield "retrieved"
        time.sleep(0.3)  # a reading
        yield "answer"

    got = list(app._ticking(slow(), every=0.05))
    assert [g for g in got if not isinstance(g, app._Tick)] == ["retrieved", "answer"]
    assert sum(isinstance(g, app._Tick) for g in got) >= 3
    assert got.index("answer") > got.index("retrieved") + 3  # the ticks came between


def test_ticking__raises_what_the_answer_raised() -> None:
    def broken() -> Any:
        yield "retrieved"
        raise QuestionError("shorten it")

    with pytest.raises(QuestionError, match="shorten it"):
        list(app._ticking(broken(), every=0.05))


def test_respond__ignores_blank_input() -> None:
    respond = app.make_respond(Settings(answerer="fast"))
    (update,) = list(respond("   ", [], []))
    assert update == (gr.skip(),) * 4


def test_respond__overlong_question_gets_message_and_keeps_text() -> None:
    respond = app.make_respond(Settings(answerer="fast"))
    question = "Why? " * 300
    *_, (box, chat, turns, _sources) = respond(question, [], [])
    assert box == question  # left in the box to shorten
    assert "limit is 1,000" in chat[-1]["content"]
    assert chat[-1]["role"] == "assistant" and len(chat[0]["content"]) < 400
    assert turns == []


def test_build_app__builds_without_launching(corpus: Settings) -> None:
    demo = app.build_app(corpus)
    assert isinstance(demo, gr.Blocks)
    assert not demo.is_running


def test_render_library__escapes_names_and_lists_skipped_files_with_the_reason() -> None:
    from assistant import DocumentInfo, Library, Skipped
    from library_view import render_library

    library = Library(
        [DocumentInfo("<img src=x onerror=1>.pdf", "pdf", 1200, 9, 2, "0" * 64)],
        [
            Skipped(
                "tool.pdf", "corpus/tool.pdf is not a PDF (its content looks like an executable)"
            )
        ],
    )

    html = render_library(library)

    assert "<img" not in html
    assert "&lt;img src=x onerror=1&gt;.pdf" in html
    assert "PDF, 2 pages, 1,200 characters, 9 passages" in html
    assert "Not indexed:" in html and "tool.pdf is not a PDF" in html
