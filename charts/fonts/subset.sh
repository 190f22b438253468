#!/bin/sh
# Rebuilds the embedded fonts: DejaVu Sans 2.37 (Debian's fonts-dejavu-core 2.37-6), cut down to
# what a chart prints (Latin, Cyrillic, digits, punctuation, ₽, ·, ³, №) so the binary carries
# under 40 KB per face instead of ~750 KB. The output is byte for byte the same on every run with the
# same inputs: the source files are checked by hash and fontTools is pinned.
#   apt-get install fonts-dejavu-core && pip install fonttools==4.68.0 && sh charts/fonts/subset.sh
set -eu
cd "$(dirname "$0")"
SRC=/usr/share/fonts/truetype/dejavu
PYTHON=${PYTHON:-python3}
[ "$("$PYTHON" -c 'import fontTools; print(fontTools.version)')" = 4.68.0 ] ||
    { echo "fontTools 4.68.0 is needed: pip install fonttools==4.68.0" >&2; exit 1; }
sha256sum -c <<SUMS
abdc775b21b1bc470d50c97e790d276f2054b7504e56e5bd3e64f48d68582322  $SRC/DejaVuSans.ttf
0d977336a6d5fba34eab8e3199eb218327161b5143749f802982c2bc34df0c96  $SRC/DejaVuSans-Bold.ttf
SUMS
# Basic Latin, Latin-1 (nbsp, «», ·, ³, ×), Cyrillic, dashes, ellipsis, narrow nbsp (thousands),
# ₽, №, minus sign.
UNICODES="U+0020-007E,U+00A0-00FF,U+0400-045F,U+2010-2015,U+2026,U+202F,U+20BD,U+2116,U+2212"
for face in DejaVuSans DejaVuSans-Bold; do
    "$PYTHON" -m fontTools.subset "$SRC/$face.ttf" --unicodes="$UNICODES" --layout-features='kern' \
        --no-hinting --desubroutinize --name-IDs='*' --name-languages='*' --output-file="$face.subset.ttf"
done
# The licence travels with the font, as it asks: its own text, from the font's name table.
"$PYTHON" -c 'import sys; from fontTools.ttLib import TTFont
print(TTFont(sys.argv[1])["name"].getDebugName(13).rstrip())' "$SRC/DejaVuSans.ttf" >LICENSE-DejaVu.txt
sha256sum DejaVuSans.subset.ttf DejaVuSans-Bold.subset.ttf
