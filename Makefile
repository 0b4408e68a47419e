.PHONY: setup run test test-slow lint
setup:
	bash scripts/setup.sh
run: setup
	.venv/bin/python run.py
test:
	bash scripts/test.sh
test-slow:
	bash scripts/test.sh --slow
lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
