# Convenience targets; the scripts are the source of truth.
.PHONY: run test bench load fuzz screenshots lint

run:
	scripts/run.sh

test:
	scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
