#!/usr/bin/env bash
# The main job on the embedded default: build the banking example into out/banking, install
# the generated service (with draftsman-runtime from this repository), run its generated
# tests, then use it from the command line against a SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
.venv/bin/draftsman-gen validate examples/banking
.venv/bin/draftsman-gen build examples/banking --out out/banking
.venv/bin/draftsman-gen check examples/banking --out out/banking
.venv/bin/python -m pip install --quiet ./out/banking
(cd out/banking && ../../.venv/bin/pytest -q -p no:cacheprovider)
export BANKING_DATABASE="$PWD/out/demo.sqlite3"
rm -f "$BANKING_DATABASE"*
run() { echo "\$ python -m banking $*"; .venv/bin/python -m banking "$@" || echo "(exit $?)"; }
run submit OpenAccountRequested '{"accountNumber": "NL01BANK0001", "owner": "Ada", "initialDeposit": 100}'
run --log-level INFO submit DepositRequested '{"accountNumber": "NL01BANK0001", "amount": 25.5, "reference": "r-1"}'
run submit DepositRequested '{"accountNumber": "NL01BANK0001", "amount": 25.5, "reference": "r-1"}'
run submit WithdrawalRequested '{"accountNumber": "NL01BANK0001", "amount": 1000, "reference": "w-1"}'
run submit DepositRequested '{"accountNumber": "NL01BANK0001", "amount": "lots"}'
run show Account NL01BANK0001
run history Account NL01BANK0001
