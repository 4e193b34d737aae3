#!/usr/bin/env bash
# The main job on the embedded default: build the banking example into out/banking, install
# the generated service (with draftsman-runtime from this repository), run its generated
# tests, then use it from the command line against a SQLite file, and as a GraphQL server.
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

# The same service as a server: GraphQL at http://127.0.0.1:8765/graphql (GraphiQL in a
# browser), commands answered at once with a correlation id, flows run in the background.
export BANKING_JWT_SECRET="demo-secret-that-is-at-least-32-characters"
TELLER=$(.venv/bin/python -m banking token --sub tom --role teller)
.venv/bin/python -m banking serve --port 8765 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  .venv/bin/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8765/healthz')" \
    2>/dev/null && break
  sleep 0.1
done
gql() { echo "\$ graphql $1" >&2; .venv/bin/python scripts/graphql.py http://127.0.0.1:8765/graphql \
  "$@" --header "Authorization: Bearer $TELLER"; }
gql 'mutation { Banking { openAccount(input: {accountNumber: "NL02BANK0002", owner: "Grace", initialDeposit: 50}) { correlationId } } }' | tee out/mutation.json
CORRELATION=$(.venv/bin/python -c "import json; print(json.load(open('out/mutation.json'))['data']['Banking']['openAccount']['correlationId'])")
gql 'query($id: String!) { wait(correlationId: $id) { complete runs { flow status events { type version } } } }' "{\"id\": \"$CORRELATION\"}"
gql '{ Account { get(key: "NL02BANK0002") { owner balance } filter(first: 5) { items { accountNumber balance } cursor } } }'
kill $SERVER
wait $SERVER || true
echo "server stopped"
