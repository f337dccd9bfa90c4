"""The CLI: ``assistant ask "question" [--json] [--llm SPEC]``, ``assistant index [--rebuild]``,
``assistant add FILE... [--replace]``, ``assistant remove NAME`` and ``assistant documents``.

Thin: parses arguments, calls the library, prints. Errors become one line on
stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.types import Answer, DocumentInfo


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant", description="Ask questions about the documents in corpus/."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    ask.add_argument(
        "--llm",
        metavar="SPEC",
        help="write the reply with a local LLM, checked against the passages "
        "(llamacpp:/path/model.gguf, ollama:MODEL, openai:MODEL; default: $ASSISTANT_LLM)",
    )
    ask.add_argument(
        "--answerer",
        choices=("auto", "llm", "fast", "rules"),
        help="auto: the language model reads where the fast answerer is unsure (default); "
        "llm: it always reads; fast: no language model; rules: typed spans only",
    )
    index = sub.add_parser("index", help="build the index (reused when the corpus is unchanged)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if unchanged")
    add = sub.add_parser(
        "add",
        help="copy documents (.pdf .docx .html .md .txt, scans as .png .jpg .tif) into the "
        "corpus and index them",
    )
    add.add_argument("files", nargs="+", metavar="FILE")
    add.add_argument(
        "--replace", action="store_true", help="replace a different document of the same name"
    )
    remove = sub.add_parser("remove", help="take a document out of the index and the corpus")
    remove.add_argument("name", help="its name, as `assistant documents` lists it")
    sub.add_parser("documents", help="list the indexed documents and the skipped files")
    user = sub.add_parser("user", help="who may sign in to the web chat ($ASSISTANT_USERS_FILE)")
    user_sub = user.add_subparsers(dest="action", required=True)
    user_add = user_sub.add_parser(
        "add", help="add a user or set a password (read from a prompt, or stdin)"
    )
    user_add.add_argument("name")
    user_add.add_argument("--role", choices=("reader", "editor"), default="reader")
    user_sub.add_parser("remove", help="remove a user").add_argument("name")
    user_sub.add_parser("list", help="list the users and their roles")
    audit = sub.add_parser("audit", help="print the audit log (sign-ins, adds, removes)")
    audit.add_argument("--tail", type=int, metavar="N", help="only the last N entries")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        settings = Settings.from_env()
        if args.command == "index":
            from assistant.engine import build_index

            logging.getLogger("assistant").setLevel(logging.INFO)
            data = build_index(
                settings, rebuild=args.rebuild, progress=sys.stderr.isatty(), on_page=_ocr_progress
            )
            print(
                f"index ready: {_count(len(data.documents), 'document')}, "
                f"{_count(len(data.passages), 'passage')} in {settings.index_dir / data.store}"
            )
            for s in data.skipped:
                print(f"skipped: {s.reason}", file=sys.stderr)
            return 0
        if args.command in ("add", "remove", "documents"):
            return _corpus_command(args, settings)
        if args.command in ("user", "audit"):
            return _access_command(args, settings)
        from assistant.engine import ask_stream
        from assistant.types import Answer

        chosen = {k: v for k, v in (("llm", args.llm), ("answerer", args.answerer)) if v}
        if chosen:
            settings = Settings.from_env(**chosen)
        live = sys.stderr.isatty() and not args.json
        for item in ask_stream(args.question, settings=settings):
            if isinstance(item, Answer):
                answer = item
            elif live:  # the unchecked draft, as the model writes it
                print(item, end="", file=sys.stderr, flush=True)
        if live and answer.generated:
            print("\n", file=sys.stderr)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
            return 0
        print(answer.text)
        for c in answer.citations:
            print(f"[{c.n}] {c.source}:{c.start}-{c.end}  {c.section or ''}")
        if answer.generated:
            print(f"({_check_note(answer)})")
        print(f"({answer.how()})")
        return 0
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _corpus_command(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.corpus import add_documents, documents, remove_document

    if args.command == "add":
        logging.getLogger("assistant").setLevel(logging.INFO)
        added = add_documents(args.files, settings, replace=args.replace, on_page=_ocr_progress)
        for d in added:
            print(f"added {d.source}: {_describe(d)}")
    elif args.command == "remove":
        remove_document(args.name, settings)
        print(f"removed {args.name}")
    library = documents(settings)
    if args.command == "documents":
        for d in library.documents:
            print(f"{d.source}\t{_describe(d)}")
    for s in library.skipped:
        print(f"skipped: {s.reason}", file=sys.stderr)
    return 0


def _access_command(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.access import Audit
    from assistant.errors import ConfigError
    from assistant.users import Users

    if args.command == "audit":
        if settings.audit_path is None:
            raise ConfigError("no audit log: set ASSISTANT_USERS_FILE (or ASSISTANT_AUDIT_FILE)")
        entries = Audit(settings.audit_path).lines()
        for e in entries[-args.tail :] if args.tail else entries:
            print(
                "\t".join(
                    e.get(k, "") for k in ("time", "user", "action", "document", "sha256", "result")
                )
            )
        return 0
    if settings.users_file is None:
        raise ConfigError(
            "set ASSISTANT_USERS_FILE to the users file (outside the repository), "
            "e.g. ~/.config/assistant/users.json"
        )
    users = Users(settings.users_file)
    if args.action == "add":
        password = _read_password(args.name)
        user = users.add(args.name, password, args.role)
        print(f"{user.name} can sign in as {user.role} ({settings.users_file})")
    elif args.action == "remove":
        users.remove(args.name)
        print(f"removed {args.name}")
    else:
        for u in users.list():
            print(f"{u.name}\t{u.role}")
    return 0


def _read_password(name: str) -> str:
    """From a prompt (twice) on a terminal, else the first line of stdin; never an argument."""
    from assistant.errors import ConfigError

    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise ConfigError("the two passwords differ; nothing was changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _count(n: int, noun: str) -> str:
    """Example: (1, "document") -> "1 document"; (4, "passage") -> "4 passages"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _describe(d: DocumentInfo) -> str:
    from assistant.ocr import ocr_note

    pages = f", {_count(d.pages, 'page')}" if d.pages else ""
    note = f"; {ocr_note(d.ocr_pages, d.ocr_confidence)}" if d.ocr_pages else ""
    return f"{d.kind}{pages}, {d.chars:,} characters, {d.passages} passages{note}"


def _ocr_progress(name: str, done: int, total: int) -> None:
    """One line per page on stderr: "OCR scan.pdf: page 3/10"."""
    if done < total:
        print(f"OCR {name}: page {done + 1}/{total}", file=sys.stderr, flush=True)


def _check_note(answer: Answer) -> str:
    dropped = "; ".join(f"dropped {d.sentence!r}: {d.reason}" for d in answer.dropped)
    head = (
        "generated, every sentence checked against its passages"
        if answer.mode == "generated"
        else "the generated reply failed the check; quoted answer shown"
    )
    return f"{head}{'; ' + dropped if dropped else ''}"


if __name__ == "__main__":
    raise SystemExit(main())
