"""The GraphQL API on the toy model, in process (starlette's TestClient runs the lifespan, so
the dispatcher thread runs as in `serve`). Real uvicorn servers are started by the
compiler's end-to-end tests (tests/test_api_server.py at the top of the repository)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from conftest import Clock
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient
from toy.registry import REGISTRY

from draftsman_runtime import ConfigError, Registry, Service, Settings, SQLiteEventStore
from draftsman_runtime.api import MAX_DEPTH, create_app
from draftsman_runtime.auth import AuthSettings

SECRET = "s" * 40
KEY = "test-api-key"


def token(sub: str = "ada", roles: list[str] | None = None, ttl: float = 600, **claims: Any) -> str:
    body = {"sub": sub, "exp": time.time() + ttl, "roles": roles or [], **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


def bearer(**kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(**kwargs)}"}


class Api:
    def __init__(self, client: TestClient, database: str) -> None:
        self.client = client
        self.database = database

    def post(self, query: str, headers: dict[str, str] | None = None, **variables: Any) -> Any:
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
        )
        return response.json()

    def create(self, name: str, limit: int = 100, headers: dict[str, str] | None = None) -> Any:
        return self.post(
            "mutation($i: CreateCounterInput!) { Counter { create(input: $i) { correlationId } } }",
            headers if headers is not None else {"X-Api-Key": KEY},
            i={"name": name, "limit": limit},
        )

    def wait(self, correlation: str) -> dict[str, Any]:
        answer = self.post(
            "query($c: String!) { wait(correlationId: $c) { complete runs { flow trigger "
            "origin key status reason message attempts events { type version data } } } }",
            {"X-Api-Key": KEY},
            c=correlation,
        )
        assert "errors" not in answer, answer
        trace: dict[str, Any] = answer["data"]["wait"]
        return trace

    def deliveries(self) -> int:
        store = SQLiteEventStore(self.database)
        try:
            return len(store.deliveries(("pending", "done", "rejected", "dead"), 10_000))
        finally:
            store.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    database = str(tmp_path / "api.sqlite3")
    env = {"TOY_JWT_SECRET": SECRET, "TOY_API_KEYS": f"other-key,{KEY}"}

    def make() -> Service:
        return Service(REGISTRY, SQLiteEventStore(database), settings=Settings(database=database))

    app = create_app(REGISTRY, environ=env, service=make, poll=0.05)
    with TestClient(app) as client:
        yield Api(client, database)


def correlation_of(answer: Any, field: str = "create") -> str:
    assert "errors" not in answer, answer
    value: str = answer["data"]["Counter"][field]["correlationId"]
    return value


# -- commands, traces, waiting -----------------------------------------------------------------
def test_a_command_is_stored_answered_and_run_in_the_background(api: Api) -> None:
    trace = api.wait(correlation_of(api.create("c1", 5)))
    assert trace["complete"] is True
    runs = {run["flow"]: run for run in trace["runs"]}
    # CreateCounter triggers two flows, each a run of its own
    assert set(runs) == {"Counter.Create", "Tally.Open"}
    create = runs["Counter.Create"]
    assert create["status"] == "ACCEPTED" and create["key"] == "c1"
    assert create["events"] == [
        {"type": "Created", "version": 1, "data": {"name": "c1", "limit": 5}}
    ]
    assert create["trigger"] == "CreateCounter" and create["attempts"] == 1


def test_the_trace_follows_events_into_other_aggregates(api: Api) -> None:
    api.wait(correlation_of(api.create("c2")))
    answer = api.post(
        'mutation { Counter { add(input: {name: "c2", amount: 3}) { correlationId } } }',
        bearer(),
    )
    trace = api.wait(correlation_of(answer, "add"))
    assert [(r["flow"], r["trigger"], r["status"]) for r in trace["runs"]] == [
        ("Counter.Add", "AddToCounter", "ACCEPTED"),
        ("Tally.Count", "Added", "ACCEPTED"),  # a delivery of the event the first run stored
    ]
    assert trace["runs"][1]["origin"] == "Counter c2@2"
    assert trace["runs"][1]["events"][0]["type"] == "Counted"


def test_a_rejected_flow_is_in_the_trace_with_its_reason(api: Api) -> None:
    trace = api.wait(
        correlation_of(
            api.post(
                'mutation { Counter { add(input: {name: "nobody", amount: 1}) { correlationId } } }',
                bearer(),
            ),
            "add",
        )
    )
    [run] = trace["runs"]
    assert run["status"] == "REJECTED" and run["reason"] == "not-found"
    assert "not found" in run["message"]


def test_an_unknown_correlation_id_has_an_empty_incomplete_trace(api: Api) -> None:
    answer = api.post(
        '{ trace(correlationId: "nope") { complete runs { id } } }', {"X-Api-Key": KEY}
    )
    assert answer["data"]["trace"] == {"complete": False, "runs": []}


# -- bad input: nothing stored -------------------------------------------------------------------
def test_a_payload_the_command_refuses_names_the_field_and_stores_nothing(api: Api) -> None:
    answer = api.post(
        'mutation { Counter { create(input: {name: "x", limit: 2147483647}) '
        "{ correlationId } } }",
        {"X-Api-Key": KEY},
    )
    assert "errors" not in answer  # a valid Int
    before = api.deliveries()
    # a lone surrogate: JSON text can carry it, the command refuses it
    body = (
        '{"query": "mutation($i: CreateCounterInput!) { Counter { create(input: $i) '
        '{ correlationId } } }", "variables": {"i": {"name": "\\ud800", "limit": 1}}}'
    )
    answer = api.client.post(
        "/graphql",
        content=body.encode(),
        headers={"X-Api-Key": KEY, "content-type": "application/json"},
    ).json()
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "name" in answer["errors"][0]["message"]
    assert api.deliveries() == before


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ('{name: "x", limit: "ten"}', "Int cannot represent"),
        ('{name: "x", colour: "red"}', "colour"),
        ("{limit: 3}", "name"),
        ('{name: "x", limit: 99999999999}', "Int cannot represent"),
    ],
)
def test_graphql_refuses_wrong_types_unknown_and_missing_fields(
    api: Api, inputs: str, expected: str
) -> None:
    answer = api.post(
        f"mutation {{ Counter {{ create(input: {inputs}) {{ correlationId }} }} }}",
        {"X-Api-Key": KEY},
    )
    assert expected in answer["errors"][0]["message"]
    assert api.deliveries() == 0


def test_malformed_requests_get_clear_errors(api: Api) -> None:
    bad_json = api.client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    syntax = api.post("mutation { Counter { create(input: ", {"X-Api-Key": KEY})
    assert "Syntax Error" in syntax["errors"][0]["message"]
    unknown = api.post("{ nothing }", {"X-Api-Key": KEY})
    assert "Cannot query field 'nothing'" in unknown["errors"][0]["message"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(api: Api) -> None:
    big = b'{"query": "' + b"x" * 1_100_000 + b'"}'
    response = api.client.post(
        "/graphql", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than 1,048,576 bytes" in response.json()["errors"][0]["message"]


def test_deep_queries_are_refused(api: Api) -> None:
    nested = "runs { events { type } }"
    fragment = "fragment F on Trace { complete " + nested + " }"
    ok = api.post('{ trace(correlationId: "x") { ...F } } ' + fragment, {"X-Api-Key": KEY})
    assert "errors" not in ok
    deep = "{ __schema { types { fields { type { " + "ofType { " * MAX_DEPTH + "name"
    deep += " }" * (MAX_DEPTH + 5)
    answer = api.post(deep, {"X-Api-Key": KEY})
    assert f"the limit is {MAX_DEPTH}" in answer["errors"][0]["message"]


# -- reading -------------------------------------------------------------------------------------
def test_get_and_filter_with_pagination(api: Api) -> None:
    for n in range(7):
        api.wait(correlation_of(api.create(f"k{n}", limit=10 * n)))
    got = api.post('{ Counter { get(key: "k3") { name limit count } } }', {"X-Api-Key": KEY})
    assert got["data"]["Counter"]["get"] == {"name": "k3", "limit": 30, "count": 0}
    missing = api.post('{ Counter { get(key: "zz") { name } } }', {"X-Api-Key": KEY})
    assert missing["data"]["Counter"]["get"] is None
    query = (
        "query($after: String) { Counter { filter(where: {limit: {gte: 20}, name: "
        '{beginsWith: "k"}}, first: 2, after: $after) { items { name } cursor } } }'
    )
    names, after = [], None
    for _page in range(5):
        page = api.post(query, {"X-Api-Key": KEY}, after=after)["data"]["Counter"]["filter"]
        names += [item["name"] for item in page["items"]]
        after = page["cursor"]
        if after is None:
            break
    assert names == ["k2", "k3", "k4", "k5", "k6"]
    bad = api.post('{ Counter { filter(after: "%%%") { cursor } } }', {"X-Api-Key": KEY})
    assert "not a cursor" in bad["errors"][0]["message"]
    too_many = api.post("{ Counter { filter(first: 501) { cursor } } }", {"X-Api-Key": KEY})
    assert "between 1 and 500" in too_many["errors"][0]["message"]


# -- authorization -------------------------------------------------------------------------------
def _expired() -> dict[str, str]:
    return bearer(ttl=-120)  # beyond the 30 s leeway


def _forged() -> dict[str, str]:
    body = {"sub": "ada", "exp": time.time() + 600, "roles": ["admin", "auditor"]}
    return {"Authorization": "Bearer " + jwt.encode(body, "w" * 40, algorithm="HS256")}


CREDENTIALS = {
    "none": dict,
    "wrong key": lambda: {"X-Api-Key": "guess"},
    "forged token": _forged,
    "expired token": _expired,
    "key": lambda: {"X-Api-Key": KEY},
    "token": lambda: bearer(),
    "admin token": lambda: bearer(roles=["admin"]),
}

# operation -> the credentials that may call it
MATRIX = {
    "create (anonymous)": {"key", "token", "admin token"},
    "add (authenticated)": {"token", "admin token"},
    "reset (role admin)": {"admin token"},
}
OPERATIONS = {
    "create (anonymous)": 'mutation { Counter { create(input: {name: "m"}) { correlationId } } }',
    "add (authenticated)": 'mutation { Counter { add(input: {name: "m", amount: 1}) '
    "{ correlationId } } }",
    "reset (role admin)": 'mutation { Counter { reset(input: {name: "m"}) { correlationId } } }',
}


@pytest.mark.parametrize("credential", sorted(CREDENTIALS))
@pytest.mark.parametrize("operation", sorted(MATRIX))
def test_authorization_matrix(api: Api, operation: str, credential: str) -> None:
    answer = api.post(OPERATIONS[operation], CREDENTIALS[credential]())
    if credential in MATRIX[operation]:
        assert "errors" not in answer, answer
        assert api.deliveries() >= 1
        return
    error = answer["errors"][0]
    # a valid token without the rights is forbidden; anything else is not authenticated
    expected = "FORBIDDEN" if credential in ("token", "admin token") else "UNAUTHENTICATED"
    assert error["extensions"]["code"] == expected, error
    assert api.deliveries() == 0  # rejected before anything is stored
    assert SECRET not in json.dumps(answer) and KEY not in json.dumps(answer)


def test_expired_and_forged_tokens_say_why(api: Api) -> None:
    expired = api.post(OPERATIONS["add (authenticated)"], _expired())
    assert expired["errors"][0]["message"] == "the token has expired"
    forged = api.post(OPERATIONS["add (authenticated)"], _forged())
    assert "Signature verification failed" in forged["errors"][0]["message"]
    scheme = api.post(OPERATIONS["add (authenticated)"], {"Authorization": "Basic YTpi"})
    assert "must be 'Bearer <token>'" in scheme["errors"][0]["message"]


def test_reading_needs_the_aggregates_access(api: Api) -> None:
    query = "{ Tally { filter { items { name } } } }"
    assert api.post(query, {"X-Api-Key": KEY})["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )
    assert api.post(query, bearer())["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "errors" not in api.post(query, bearer(roles=["auditor"]))


def test_traces_need_some_credential(api: Api) -> None:
    answer = api.post('{ trace(correlationId: "x") { complete } }')
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_user_must_match_and_username_auto_fill(api: Api) -> None:
    own = "mutation($n: String!) { Counter { createOwn(input: {name: $n}) { correlationId } } }"
    refused = api.post(own, bearer(sub="ada"), n="bob")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert api.deliveries() == 0
    api.wait(correlation_of(api.post(own, bearer(sub="ada"), n="ada"), "createOwn"))
    mine = "mutation { Counter { createMine(input: {limit: 4}) { correlationId } } }"
    trace = api.wait(correlation_of(api.post(mine, bearer(sub="cyd")), "createMine"))
    assert {run["key"] for run in trace["runs"]} == {"cyd"}


def test_rs256_tokens_from_a_public_key_file(tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "key.pem").write_bytes(pem)
    settings = AuthSettings.from_env("TOY", {"TOY_JWT_PUBLIC_KEY_FILE": str(tmp_path / "key.pem")})
    assert settings.jwt_algorithm == "RS256" and "PUBLIC KEY" not in repr(settings)
    database = str(tmp_path / "rs.sqlite3")
    app = create_app(
        REGISTRY,
        environ={"TOY_JWT_PUBLIC_KEY_FILE": str(tmp_path / "key.pem")},
        service=lambda: Service(REGISTRY, SQLiteEventStore(database), clock=Clock(time.time())),
        dispatch=False,
    )
    good = jwt.encode({"sub": "ada", "exp": time.time() + 60}, private, algorithm="RS256")
    hs = jwt.encode({"sub": "ada", "exp": time.time() + 60}, SECRET, algorithm="HS256")
    with TestClient(app) as client:
        query = {"query": OPERATIONS["add (authenticated)"]}
        ok = client.post("/graphql", json=query, headers={"Authorization": f"Bearer {good}"})
        assert "errors" not in ok.json()
        # an HS256 token signed with the public key as secret (algorithm confusion) is refused
        confused = client.post("/graphql", json=query, headers={"Authorization": f"Bearer {hs}"})
        assert confused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TOY_JWT_SECRET": "short"}, "at least 32 characters"),
        ({"TOY_JWT_SECRET": SECRET, "TOY_JWT_SECRET_FILE": "/x"}, "not both"),
        ({"TOY_JWT_SECRET_FILE": "/no/such/file"}, "cannot read /no/such/file"),
        ({"TOY_JWT_PUBLIC_KEY": "not a key"}, "RSA public key"),
        ({"TOY_JWT_SECRET": SECRET, "TOY_JWT_PUBLIC_KEY": "x"}, "not both"),
    ],
)
def test_bad_auth_configuration_is_one_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        AuthSettings.from_env("TOY", env)
    assert SECRET not in str(caught.value)


# -- health --------------------------------------------------------------------------------------
def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").text == "ok\n"
    assert api.client.get("/readyz").text == "ready\n"


# -- what an attacker tried (each was a finding; each is now refused cheaply) -------------------
def test_a_fragment_bomb_is_refused_in_linear_time(api: Api) -> None:
    chain = "".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(40))
    query = "query { ...F0 }\n" + chain + "fragment F40 on Query { __typename }"
    started = time.monotonic()
    answer = api.post(query, {"X-Api-Key": KEY})
    assert time.monotonic() - started < 2.0
    assert "the limit is 2000" in answer["errors"][0]["message"]


def test_too_many_fields_tokens_or_mutations_are_refused(api: Api) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(2_001))
    assert "the limit is 2000" in api.post("{ " + aliases + " }")["errors"][0]["message"]
    tokens = api.post("{ " + " ".join(["__typename"] * 20_001) + " }")
    assert "more than 20000 tokens" in tokens["errors"][0]["message"]
    creates = " ".join(
        f'c{i}: create(input: {{name: "n{i}"}}) {{ correlationId }}' for i in range(21)
    )
    many = api.post("mutation { Counter { " + creates + " } }", {"X-Api-Key": KEY})
    assert "21 mutations; the limit is 20" in many["errors"][0]["message"]
    assert api.deliveries() == 0


def test_each_mutation_of_a_request_answers_for_itself(api: Api) -> None:
    answer = api.post(
        'mutation { Counter { ok: create(input: {name: "good"}) { correlationId } '
        'bad: reset(input: {name: "good"}) { correlationId } } }',
        {"X-Api-Key": KEY},
    )
    assert answer["data"]["Counter"]["bad"] is None
    assert answer["errors"][0]["path"] == ["Counter", "bad"]
    # the one that was stored says so: the client can follow it, and not send it again
    trace = api.wait(answer["data"]["Counter"]["ok"]["correlationId"])
    assert trace["complete"]


def test_bodies_that_are_not_json_or_too_large_when_chunked(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    chunked = api.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413
    multipart = api.client.post(
        "/graphql",
        content=b"--b\r\n\r\n--b--\r\n",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert multipart.status_code == 415
    assert (
        api.client.post(
            "/graphql", content=b"{}", headers={"content-type": "text/plain"}
        ).status_code
        == 415
    )


def test_repeated_credential_headers_and_odd_claims_are_refused(api: Api) -> None:
    headers = [("Authorization", f"Bearer {token(roles=['admin'])}"), ("Authorization", "Bearer x")]
    response = api.client.post(
        "/graphql", json={"query": OPERATIONS["reset (role admin)"]}, headers=headers
    )
    assert "more than one authorization header" in response.json()["errors"][0]["message"]
    text_exp = jwt.encode({"sub": "ada", "exp": str(int(time.time()) + 600)}, SECRET, "HS256")
    odd = api.post(OPERATIONS["add (authenticated)"], {"Authorization": f"Bearer {text_exp}"})
    assert odd["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert api.deliveries() == 0


def test_client_errors_are_answered_not_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(20):
        api.post(OPERATIONS["add (authenticated)"], {"X-Api-Key": "guess"})
        api.post('{ Counter { get(key: "") { name } } }', {"X-Api-Key": KEY})
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_elliptic_curve_key_is_a_configuration_error(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(ConfigError, match="RSA public key .RS256., not"):
        AuthSettings.from_env("TOY", {"TOY_JWT_PUBLIC_KEY": pem})


def test_a_schema_that_does_not_fit_the_registry_is_a_configuration_error(tmp_path: Path) -> None:
    import dataclasses

    renamed = dataclasses.replace(REGISTRY.readers[0], aggregate="Gauge")
    registry = Registry(
        package="toy",
        project="Toy",
        env_prefix="TOY",
        generator="hand-written",
        aggregates=list(REGISTRY.aggregates.values()),
        commands=REGISTRY.commands,
        triggers=REGISTRY.triggers,
        mutations=REGISTRY.mutations,
        readers=[renamed],
    )
    database = str(tmp_path / "s.sqlite3")
    with pytest.raises(ConfigError, match="schema.graphql does not fit the package"):
        create_app(registry, service=lambda: Service(registry, SQLiteEventStore(database)))


def test_readiness_fails_when_the_database_file_is_deleted(api: Api) -> None:
    assert api.client.get("/readyz").status_code == 200
    for suffix in ("", "-wal", "-shm"):
        Path(api.database + suffix).unlink(missing_ok=True)
    answer = api.client.get("/readyz")
    assert (answer.status_code, answer.text) == (503, "not ready: the store cannot be used\n")
    assert api.database not in answer.text
    # and no command is acknowledged into the unlinked file
    refused = api.create("after-the-delete")
    assert refused["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert refused["data"]["Counter"]["create"] is None


def test_a_remembered_query_answers_as_the_first_time(api: Api) -> None:
    from draftsman_runtime import api as api_module

    calls = []
    real = api_module.validate

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    api_module.validate = counting  # type: ignore[assignment]
    try:
        for name in ("r1", "r2", "r3"):
            assert "errors" not in api.create(name)
        bad = "{ Counter { get(key: 1) { name } } }"
        first, second = api.post(bad, {"X-Api-Key": KEY}), api.post(bad, {"X-Api-Key": KEY})
    finally:
        api_module.validate = real  # type: ignore[assignment]
    assert len(calls) == 2  # one per distinct text
    assert first == second and "String cannot represent" in first["errors"][0]["message"]


def test_a_remembered_token_still_expires(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from draftsman_runtime import auth

    headers = bearer(ttl=60)
    assert "errors" not in api.post(OPERATIONS["add (authenticated)"], headers)
    later = time.time() + 3600
    monkeypatch.setattr(auth.time, "time", lambda: later)
    expired = api.post(OPERATIONS["add (authenticated)"], headers)
    assert expired["errors"][0]["message"] == "the token has expired"


def test_a_wrong_credential_rejects_the_whole_request(api: Api) -> None:
    """Even one that asks for nothing protected: a shown key or token must be valid."""
    for headers in (_forged(), {"X-Api-Key": "guess"}, _expired()):
        response = api.client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    fine = api.client.post("/graphql", json={"query": "{ __typename }"})
    assert fine.json() == {"data": {"__typename": "Query"}}


def test_an_empty_credential_header_is_no_credential(api: Api) -> None:
    """The explorer's headers editor starts with an empty Authorization header."""
    empty = {"Authorization": "", "X-Api-Key": ""}
    assert api.post("{ __typename }", empty) == {"data": {"__typename": "Query"}}
    refused = api.post(OPERATIONS["add (authenticated)"], empty)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# -- found in review ---------------------------------------------------------------------------
def test_a_nul_character_is_refused_on_every_store(api: Api) -> None:
    """PostgreSQL cannot keep NUL in text; a command with one would stop dispatching there."""
    answer = api.create("x\u0000y")
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NUL" in answer["errors"][0]["message"] and api.deliveries() == 0
    read = api.post('{ Counter { get(key: "a\\u0000b") { name } } }', {"X-Api-Key": KEY})
    assert read["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_mutations_of_one_request_are_stored_in_the_order_written(api: Api) -> None:
    adds = " ".join(
        f'a{n}: add(input: {{name: "o", amount: {n}}}) {{ correlationId }}' for n in range(1, 10)
    )
    answer = api.post(
        'mutation { Counter { c: create(input: {name: "o"}) { correlationId } ' + adds + " } }",
        bearer(),
    )
    assert "errors" not in answer, answer
    traces = [api.wait(answer["data"]["Counter"][f"a{n}"]["correlationId"]) for n in range(1, 10)]
    assert all(t["runs"][0]["status"] == "ACCEPTED" for t in traces)  # none ran before create
    store = SQLiteEventStore(api.database)
    try:
        added = [d for d in store.deliveries(("done",), 1000) if d.event_type == "AddToCounter"]
    finally:
        store.close()
    assert [d.data["amount"] for d in added] == list(range(1, 10))


def test_fragments_do_not_lift_the_mutation_limit(api: Api) -> None:
    creates = " ".join(
        f'c{i}: create(input: {{name: "f{i}"}}) {{ correlationId }}' for i in range(21)
    )
    for query in (
        "mutation { ... on Mutation { Counter { " + creates + " } } }",
        "mutation { Counter { ...F } } fragment F on CounterMutations { " + creates + " }",
    ):
        answer = api.post(query, {"X-Api-Key": KEY})
        assert "21 mutations; the limit is 20" in answer["errors"][0]["message"], answer
    assert api.deliveries() == 0


def test_wait_and_filter_fields_are_limited_per_request(api: Api) -> None:
    waits = " ".join(f'w{i}: wait(correlationId: "x", timeout: 0) {{ complete }}' for i in range(6))
    assert (
        "the limit is 5"
        in api.post("{ " + waits + " }", {"X-Api-Key": KEY})["errors"][0]["message"]
    )
    filters = " ".join(f"f{i}: filter {{ cursor }}" for i in range(6))
    answer = api.post("{ Counter { " + filters + " } }", {"X-Api-Key": KEY})
    assert "6 wait or filter fields" in answer["errors"][0]["message"]


def test_a_trace_as_long_as_the_limit_is_never_called_complete(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from draftsman_runtime import api as api_module
    from draftsman_runtime import service as service_module

    correlation = correlation_of(api.create("long"))
    assert len(api.wait(correlation)["runs"]) == 2  # CreateCounter: two flows
    monkeypatch.setattr(api_module, "TRACE_LIMIT", 2)
    monkeypatch.setattr(service_module, "TRACE_LIMIT", 2)
    answer = api.post(
        "query($c: String!) { trace(correlationId: $c) { complete runs { flow } } }",
        {"X-Api-Key": KEY},
        c=correlation,
    )
    assert answer["data"]["trace"]["complete"] is False
    assert len(answer["data"]["trace"]["runs"]) == 2
