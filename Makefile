# iotscope: `make demo` (the main job) and `make test` (the whole suite) do all set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
SYSTEM_TOOLS := nmap tcpdump tshark softflowd nfdump dropbear-bin
# real servers the survey is tested against (tests/survey/test_real_servers.py); Debian's
# busybox-static has telnetd and httpd (its plain busybox package has neither)
SYSTEM_TOOLS += busybox-static lighttpd mini-httpd mosquitto login openssl
# an MRT reader, the oracle for iotscope's RIB parser (tests/attribution/test_mrt.py)
SYSTEM_TOOLS += bgpdump
# blocking at the source (tests/block): a real BGP peer, nft -c, named-checkzone
SYSTEM_TOOLS += bird2 nftables bind9-utils
# the peer BGP speaker benchmarks/bench_block.py measures against
SYSTEM_TOOLS += exabgp
# notices: a Japanese font embedded in PDF letters, pdffonts/pdftotext to check them
SYSTEM_TOOLS += fonts-ipaexfont-gothic poppler-utils
# the centre in a browser: Playwright drives Debian's Chromium (tests/centre/test_browser.py)
SYSTEM_TOOLS += chromium
# the centre's browser libraries (web/package.json, locked): npm ci into build/web, served by
# the app from there (iotscope.centre._assets); without node the pages show tables only
WEB    := build/web
WEB_STAMP := $(WEB)/.installed

.PHONY: demo test lint typecheck bench system-deps web-assets clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	@if command -v npm >/dev/null; then \
		mkdir -p $(WEB) && cp web/package.json web/package-lock.json $(WEB)/ && \
		(npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error && touch $@) || \
		echo "npm ci failed: the centre's charts are unavailable (tables still work)"; \
	else echo "npm not found: the centre's charts are unavailable (tables still work)"; fi

web-assets: $(WEB_STAMP)

demo: $(STAMP) web-assets
	$(BIN)/iotscope demo $(ARGS)

# Debian's protocol peers used by the real-world tests (nmap, tcpdump, softflowd, nfdump...).
# Installed when run as root; otherwise the tests that need them say they were skipped.
system-deps:
	@scripts/system-deps.sh $(SYSTEM_TOOLS)

test: $(STAMP) system-deps web-assets
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q -rs -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# make bench NAME=survey ARGS=--small   (NAME: lab survey fingerprint telescope collector c2)
bench: $(STAMP) system-deps
	$(BIN)/python -m benchmarks.bench_$(NAME) $(ARGS)

clean:
	rm -rf $(VENV) var build .pytest_cache .mypy_cache .ruff_cache
