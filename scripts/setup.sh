#!/usr/bin/env bash
# setup.sh installs what ppnet needs beyond the Go toolchain, idempotently:
#   coinor-cbc     the MILP solver behind `configurator plan --solver ilp`
#   poppler-utils  pdftotext/pdftoppm, used by tests that read generated PDFs
#   chromium       headless browser for the billing web UI end-to-end test
# It installs only what is missing, so it is cheap to call before every run.
set -euo pipefail

need=()
command -v cbc >/dev/null 2>&1 || need+=(coinor-cbc)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if ((${#need[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root (or sudo) to install: ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
go mod download
