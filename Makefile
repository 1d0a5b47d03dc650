# Two commands: `make demo` and `make test`. Both set up what is missing first (system
# packages when run as root on Debian, then the .venv), and are quick the second time.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Debian packages: Tesseract with Japanese (horizontal and vertical) models, a Japanese font,
# and what tesserocr needs to build against the system libtesseract.
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert fonts-ipaexfont \
	libtesseract-dev libleptonica-dev pkg-config g++ python3-venv python3-dev \
	jbig2dec
# World two's samples (robots/samples/world2) are printed in Noto Sans/Serif CJK JP, fonts
# the reader is never tuned on.
SYSTEM_PACKAGES += fonts-noto-cjk
# Only the tests need a real spreadsheet program (LibreOffice opens the workbooks we write)
# and a real browser (Chromium renders the evaluation report's HTML page).
TEST_PACKAGES := libreoffice-calc-nogui chromium
# poppler-utils: pdftoppm and pdftotext read back the deposit-inquiry letters (PDF) in tests
TEST_PACKAGES += poppler-utils

.PHONY: setup demo test lint bench bench-faults clean system system-test samples forms

setup: system $(STAMP)

system:
	@bash .ci/system-deps $(SYSTEM_PACKAGES)

system-test:
	@bash .ci/system-deps $(SYSTEM_PACKAGES) $(TEST_PACKAGES)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# tesserocr is built from source against the system libtesseract (5.3): the manylinux wheel
	# bundles 5.5.4, which read worse here (see docs/engines.md).
	$(BIN)/python -m pip install --quiet --no-binary tesserocr -e '.[dev,fast,tessdata-standard]'
	@touch $(STAMP)

demo: system $(STAMP)
	OMP_THREAD_LIMIT=1 $(BIN)/rpa demo

test: system-test $(STAMP)
	OMP_THREAD_LIMIT=1 $(BIN)/python -m pytest -q
	$(BIN)/ruff check .

lint: $(STAMP)
	$(BIN)/ruff check .

bench: setup
	OMP_THREAD_LIMIT=1 $(BIN)/python bench/ocr_accuracy.py

# The long variants of the crash and fuzz tests of `make test` (figures in the README):
# >= 1,000 kills of main processes, workers and corrections imports in two campaigns
# (about 2 hours on 2 cores), 1,200 hostile inbox entries among 100 good scans, the worst files the limits
# let in with the peak memory of a worker.
bench-faults: $(STAMP)
	OMP_THREAD_LIMIT=1 $(BIN)/python bench/crash_kills.py --rounds 420 --seed 7 --worker-kills 0.6 --import-kills 1.0
	OMP_THREAD_LIMIT=1 $(BIN)/python bench/crash_kills.py --rounds 230 --seed 8 --delay 0.15 --worker-kills 1.0 --import-kills 1.0
	OMP_THREAD_LIMIT=1 $(BIN)/python bench/crash_kills.py --rounds 230 --seed 9 --delay 0.15 --worker-kills 1.0 --import-kills 1.0
	OMP_THREAD_LIMIT=1 $(BIN)/python bench/fuzz_inbox.py --bad 1200 --good 100 --seed 9 --jobs 2
	OMP_THREAD_LIMIT=1 $(BIN)/python bench/worst_file.py

clean:
	rm -rf $(VENV) demo .pytest_cache

# The bundled demo scans (deterministic; committed so that `make demo` needs no generation).
samples: $(STAMP)
	rm -rf samples/inbox/intake && mkdir -p samples/inbox/intake
	$(BIN)/rpa samples generate --form juminhyo_request --count 2 --seed 11 --degrade 1 --format pdf --out samples/inbox/intake
	$(BIN)/rpa samples generate --form juminhyo_request --count 1 --seed 12 --degrade 2 --format jpeg --out samples/inbox/intake
	$(BIN)/rpa samples generate --form juminhyo_request --count 3 --seed 13 --degrade 0 --format tiff --pages-per-file 3 --out samples/inbox/intake
	$(BIN)/rpa samples generate --form bid_qualification --count 1 --seed 15 --degrade 1 --format tiff --out samples/inbox/intake
	$(BIN)/rpa samples generate --form deposit_reply --count 1 --seed 16 --degrade 2 --format pdf --out samples/inbox/intake
	$(BIN)/rpa samples generate --form koza_furikae --count 3 --seed 23 --degrade 1 --format tiff --out samples/inbox/intake --register samples/data/residents/residents.csv
	head -c 3000 samples/inbox/intake/juminhyo_request-s11-0000.pdf > samples/inbox/intake/broken_scan.pdf
	# damaged, not merely cut short: it ends like a complete PDF, so it is quarantined at once
	# (a file that looks cut short waits [inbox] incomplete_max_age_seconds for the rest)
	printf '\n%%%%EOF\n' >> samples/inbox/intake/broken_scan.pdf
	rm -rf samples/inbox/deposit_inquiry samples/data/deposit_inquiry
	$(BIN)/rpa samples scenario deposit_inquiry --count 30 --seed 26 --out samples
	rm -rf samples/inbox/contracts samples/data/contracts
	$(BIN)/rpa samples scenario contracts --count 160 --seed 27 --out samples

# Blank forms beside their templates, rendered from the TOML at 300 dpi (registration uses them).
forms: $(STAMP)
	for t in scenarios/*/forms/*.toml; do id=$$(basename $$t .toml); \
	  $(BIN)/rpa forms render $$id --out $$(dirname $$t)/$$id.png; done
