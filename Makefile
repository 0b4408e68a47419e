.PHONY: setup run test test-quick test-slow lint bench bench-warnings bench-sweep bench-reports bench-web bench-lists bench-uploads bench-detector
setup:
	bash scripts/setup.sh
run: setup
	YS_DEMO=1 .venv/bin/python run.py
test:
	bash scripts/test.sh
test-quick:
	bash scripts/test.sh --quick
test-slow:
	bash scripts/test.sh --slow
lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports
bench: setup
	YS_DEMO=1 .venv/bin/python bench/all.py
bench-sweep: setup
	YS_DEMO=1 .venv/bin/python bench/sweep.py --due 10 100 1000
bench-warnings: setup
	YS_DEMO=1 .venv/bin/python bench/warning_models.py --cases 1000000 --inspections 200000
bench-lists: setup
	YS_DEMO=1 .venv/bin/python bench/lists.py
bench-reports: setup
	YS_DEMO=1 .venv/bin/python bench/reports.py
bench-web: setup
	YS_DEMO=1 .venv/bin/python bench/web.py
bench-uploads: setup
	YS_DEMO=1 .venv/bin/python bench/uploads.py
bench-detector: setup
	YS_DEMO=1 .venv/bin/python bench/detector.py
