#!/usr/bin/env bash
# bench/rss/run.sh: resident memory of the whole sesame binary, idle at start,
# right after a person chose a password (the password dictionaries are then
# in memory) and logged in 10 times (10 argon2id verifications of 19 MiB
# each), and once idle again (password.DictionaryIdle, 10 min, plus a
# margin: the dictionaries are released, the runtime's periodic collection
# and scavenger give back the hashes' memory). Reference in the same run: "sesame version" (the bare
# binary, nothing served). Usage: bench/rss/run.sh [WAIT_SECONDS]; the last
# step waits WAIT_SECONDS (default 630).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.."
wait_release=${1:-630}
work=$(mktemp -d /tmp/sesame-rss.XXXXXX)
bin=$work/sesame
go build -o "$bin" ./cmd/sesame
port=$((20000 + RANDOM % 20000))
export SESAME_DATA_DIR=$work/data SESAME_LISTEN=127.0.0.1:$port SESAME_PUBLIC_URL=http://127.0.0.1:$port
base=$SESAME_PUBLIC_URL

rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

ref=$( { /usr/bin/time -f '%M' "$bin" version >/dev/null; } 2>&1 | tail -n1)
printf 'reference: "sesame version" peak RSS %.1f MiB\n' "$(echo "$ref / 1024" | bc -l)"

"$bin" migrate >/dev/null
"$bin" structure add le-beta --name "Le Bêta" --contact referente@le-beta.example >/dev/null
"$bin" service add le-beta nextcloud --name Nextcloud --url https://nc.example >/dev/null
printf 'Prénom;Nom;Courriel;Droits\nCamille;Lefèvre;camille@le-beta.example;nextcloud\n' >"$work/people.csv"
"$bin" import le-beta "$work/people.csv" >/dev/null

"$bin" serve >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done
for _ in 1 2 3 4 5; do curl -fs "$base/.well-known/openid-configuration" >/dev/null; done
sleep 5
echo "idle after start: $(rss $pid) MiB"

# The activation email (file driver) holds the link; choose a password.
link=""
for _ in $(seq 100); do
	link=$(grep -rhoE "$base/activate/[A-Za-z0-9_-]+" "$SESAME_DATA_DIR/mail" 2>/dev/null | head -n1 || true)
	[[ -n $link ]] && break
	sleep 0.1
done
[[ -n $link ]] || { echo "no activation email" >&2; exit 1; }
pw="sept hérissons lisent Proust sous la pluie"
status=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "password=$pw" --data-urlencode "confirm=$pw" \
	-H "Origin: $base" "$link")
[[ $status == 200 ]] || { echo "activation answered $status" >&2; exit 1; }

# 10 logins (the per-account limit is 10 a minute) through the OpenID Connect flow (Nextcloud's client: PKCE).
nc_redirect=https://nc.example/index.php/apps/user_oidc/code
for i in $(seq 10); do
	jar=$work/jar.$i
	verifier=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
	challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
	form=$(curl -s -c "$jar" -b "$jar" -G "$base/authorize" \
		--data-urlencode client_id=le-beta.nextcloud --data-urlencode "redirect_uri=$nc_redirect" \
		--data-urlencode response_type=code --data-urlencode scope=openid --data-urlencode state=s$i \
		--data-urlencode "code_challenge=$challenge" --data-urlencode code_challenge_method=S256)
	req=$(grep -oE 'name="req" value="[^"]+"' <<<"$form" | sed -E 's/.*value="([^"]+)"/\1/')
	to=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{redirect_url}' -H "Origin: $base" \
		--data-urlencode "req=$req" --data-urlencode username=camille.lefevre --data-urlencode "password=$pw" "$base/login")
	[[ $to == "$nc_redirect?code="* ]] || { echo "login $i ended on '$to'" >&2; exit 1; }
done
sleep 5
echo "after an activation and 10 logins: $(rss $pid) MiB"
sleep "$wait_release"
echo "after ${wait_release} s idle: $(rss $pid) MiB"
