"""The CLI: ``assistant ask "question" [--json]`` and ``assistant index [--rebuild]``.

Thin: parses arguments, calls the library, prints. Errors become one line on
stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from assistant.config import Settings
from assistant.errors import AssistantError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant", description="Ask questions about the documents in corpus/."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    index = sub.add_parser("index", help="build the index (reused when the corpus is unchanged)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if unchanged")
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
            data = build_index(settings, rebuild=args.rebuild, progress=sys.stderr.isatty())
            print(
                f"index ready: {len(data.passages)} passages in {settings.index_dir / data.store}"
            )
            return 0
        from assistant.engine import ask

        answer = ask(args.question, settings=settings)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(answer.text)
            for c in answer.citations:
                print(f"[{c.n}] {c.source}:{c.start}-{c.end}  {c.section or ''}")
        return 0
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
