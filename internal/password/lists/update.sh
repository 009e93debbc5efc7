#!/bin/sh
# update.sh regenerates the embedded word lists of internal/password from the
# npm packages @zxcvbn-ts/language-common and @zxcvbn-ts/language-fr (MIT,
# see LICENSE-*.txt; the French common words also carry an ODC-BY notice, see
# NOTICE-language-fr.md). It needs npm and node, and writes plain text files,
# one lower-case entry per line, in the packages' frequency order, without
# duplicates or blank lines.
#
#   sh internal/password/lists/update.sh [COMMON_VERSION] [FR_VERSION]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
common=${1:-4.1.3}
fr=${2:-4.1.2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "@zxcvbn-ts/language-common@$common" "@zxcvbn-ts/language-fr@$fr" >/dev/null
mkdir common fr
tar xzf "zxcvbn-ts-language-common-$common.tgz" -C common
tar xzf "zxcvbn-ts-language-fr-$fr.tgz" -C fr
extract() { # extract JSON_ARRAY_FILE OUTPUT
	node -e '
const list = require(process.argv[1]);
const seen = new Set(); const out = [];
for (const w of list) {
  const v = String(w).normalize("NFC").toLowerCase().trim();
  if (v === "" || v.includes("\n") || seen.has(v)) continue;
  seen.add(v); out.push(v);
}
process.stdout.write(out.join("\n") + "\n");
' "$work/$1" >"$here/$2"
}
extract common/package/src/passwords.json passwords.txt
extract fr/package/src/commonWords.json fr-common-words.txt
extract fr/package/src/firstnames.json fr-firstnames.txt
extract fr/package/src/lastnames.json fr-lastnames.txt
cp common/package/LICENSE.txt "$here/LICENSE-language-common.txt"
cp fr/package/LICENSE.txt "$here/LICENSE-language-fr.txt"
cp fr/package/NOTICE.md "$here/NOTICE-language-fr.md"
cp fr/package/THIRD_PARTY_LICENSES.md "$here/THIRD_PARTY_LICENSES-language-fr.md"
printf '%s\n' "@zxcvbn-ts/language-common $common" "@zxcvbn-ts/language-fr $fr" >"$here/VERSIONS"
