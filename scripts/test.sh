#!/usr/bin/env bash
# test.sh is the project's one test command (README, CI): install what the
# tests need, check formatting and vet, then run every package's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n "$unformatted" ]]; then
  echo "gofmt: these files need formatting (run gofmt -w):" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
# Screenshots of the browser tests land in artifacts/ (ignored by git).
export PPNET_ARTIFACTS="${PPNET_ARTIFACTS:-$PWD/artifacts}"
go test -count=1 -timeout 15m ./... "$@"
# bench/ is a separate module (the peer libraries stay out of ppnet's own
# module graph); its tests check that every row of the peer table answers
# correctly, so keep it building and right too.
(cd bench && go vet ./... && go test -count=1 ./...)
