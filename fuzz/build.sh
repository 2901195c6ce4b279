#!/usr/bin/env bash
# Builds every fuzz target the way OSS-Fuzz and ClusterFuzzLite do, and lays out $OUT as they
# expect: one binary per target, TARGET_seed_corpus.zip from fuzz/corpus/TARGET, TARGET.dict.
#
# In OSS-Fuzz / ClusterFuzzLite (base-builder-rust image) $SRC, $OUT and the sanitizer flags come
# from the environment and `cargo` is already nightly. Run by hand it builds with AddressSanitizer
# into fuzz/out: `bash fuzz/build.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

if [ -z "${OUT:-}" ]; then
  OUT="$here/out"
  export RUSTUP_TOOLCHAIN="${RUSTUP_TOOLCHAIN:-nightly}"
fi
mkdir -p "$OUT"

# -O: release with debug assertions kept (overflow checks find bugs), as OSS-Fuzz builds Rust.
cargo fuzz build -O --debug-assertions

triple="$(rustc -vV | sed -n 's/^host: //p')"
bins="$here/target/$triple/release"
for src in fuzz_targets/*.rs; do
  name="$(basename "$src" .rs)"
  cp "$bins/$name" "$OUT/"
  cp mqtt.dict "$OUT/$name.dict"
  if [ -d "corpus/$name" ]; then
    if command -v zip >/dev/null 2>&1; then
      rm -f "$OUT/${name}_seed_corpus.zip"
      zip -q -j "$OUT/${name}_seed_corpus.zip" "corpus/$name"/*
    else
      echo "note: zip not installed, no seed corpus archive for $name" >&2
    fi
  fi
  echo "built $OUT/$name"
done
