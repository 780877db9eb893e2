# Convenience targets; the scripts are the source of truth.
.PHONY: run test bench load soak load-smoke fuzz screenshots lint deb dist wine-check icons

run:
	scripts/run.sh

test:
	scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

# Release build packaged as target/debian/roomshare_<version>-1_<arch>.deb
# (cargo-deb, installed on first use); then:
#   sudo apt-get install ./target/debian/roomshare_*.deb
deb:
	scripts/deb.sh

# Windows download: target/dist/roomshare-<version>-x86_64-pc-windows-gnu.zip
# (release build cross-linked with mingw-w64; roomshare.exe, README.md and
# the licence texts).
dist:
	scripts/dist.sh

# The Windows binary under Wine, as CI runs it (after scripts/test.sh).
wine-check:
	scripts/wine-check.sh

# The PNGs in assets/icons/ from assets/roomshare.svg (needs librsvg2-bin).
icons:
	scripts/render-icons.sh

# Numbers (docs/benchmarks.md): criterion + engine vs echo, in one run.
bench:
	scripts/bench.sh

# The long load runs of docs/benchmarks.md (release build; ~1,000 sockets
# for fanout: the fd limit must allow 2,100, see `ulimit -n`).
load:
	cargo build --release --bin roomshare --example loadgen
	target/release/examples/loadgen mix --clients 200 --requests 1000
	target/release/examples/loadgen fanout --subscribers 1000 --events 100

soak:
	cargo build --release --bin roomshare --example loadgen
	target/release/examples/loadgen soak --soak-secs $${SOAK_SECS:-300}

# What CI runs: short load scenarios and 30 s of fuzzing per target.
load-smoke:
	scripts/load-smoke.sh

fuzz:
	scripts/fuzz.sh $${FUZZ_SECS:-300}
