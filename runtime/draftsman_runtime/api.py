"""The GraphQL API of a generated service: an ASGI application (ariadne on starlette).

The schema is the package's generated `schema.graphql`; this module binds it to the
registry, the same for every package. A mutation checks the caller and the input, stores
the command (`Service.accept`: durable before the answer) and answers with its correlation
id; flows run in the background, by the dispatcher thread this application starts (and by
any other dispatcher on the same store). `trace` and `wait` show what a command caused;
each aggregate has `get` and `filter`. A browser that GETs /graphql gets GraphiQL, from files
inside this package (no CDN). Health: `/healthz` (the process answers) and `/readyz` (the
store answers).

Needs the `api` extra: `pip install 'draftsman-runtime[api]'`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import importlib.resources
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar

from ariadne import MutationType, ObjectType, QueryType, ScalarType, make_executable_schema
from ariadne.asgi import GraphQL
from graphql import GraphQLError, GraphQLSchema, parse, validate
from graphql import GraphQLResolveInfo as _Info
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.utilities import TypeInfo
from graphql.validation import ASTValidationRule, ValidationContext, ValidationRule
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import AuthError, AuthSettings, Caller, authenticate, authorize
from .errors import ConcurrencyError, ConfigError, PayloadError, StoreError
from .explorer import OfflineGraphiQL, asset_routes
from .model import Mutation, Reader, Registry
from .payload import unicode_problem
from .service import TRACE_LIMIT, Service
from .store import Delivery

log = logging.getLogger("draftsman_runtime.api")
T = TypeVar("T")
V = TypeVar("V")
Info: TypeAlias = _Info[Any]  # graphql-core's resolve info, with a dict context

MAX_DEPTH = 15  # selection nesting of one query: GraphiQL's schema query nests 13
MAX_FIELDS = 2_000  # fields one query selects, fragments expanded (GraphiQL's: about 100)
MAX_MUTATIONS = 20  # mutations in one request
MAX_COSTLY = 5  # `wait` and `filter` fields in one request (each polls, or scans instances)
MAX_TOKENS = 20_000  # lexical tokens of one query
CACHED_QUERIES = 256  # query texts whose parse and validation are remembered
CACHED_QUERY_CHARS = 8_192  # longer texts are parsed and validated every time
MAX_PAGE = 500  # largest `first` of a filter
WAIT_POLL = 0.02  # seconds between two looks at a trace in `wait`
MAX_WAIT = 60.0  # longest `wait`

EXPLORER_QUERY = """# Submit a command with a mutation; follow what it caused with `wait` or `trace`.
# In Headers below, set "Authorization" to "Bearer <token>" (or send an "X-Api-Key").
# The Docs panel lists everything.
query Trace($id: String!) {
  wait(correlationId: $id) {
    complete
    runs { flow status reason message events { type version data } }
  }
}
"""

BASE_SCHEMA = """
"Any JSON value: the data of an event in a trace."
scalar JSON

type Query {
  "Every flow run a command caused so far, cross-aggregate deliveries included."
  trace(correlationId: String!): Trace!
  "`trace`, once nothing the command caused is pending any more (or after `timeout` seconds)."
  wait(correlationId: String!, timeout: Float = 10): Trace!
}

"A command that is stored: its flows run in the background."
type Accepted {
  correlationId: String!
}

type Trace {
  correlationId: String!
  "False while a flow run the command caused is pending (or the command is unknown)."
  complete: Boolean!
  runs: [FlowRun!]!
}

enum RunStatus {
  PENDING
  ACCEPTED
  REJECTED
  DEAD_LETTERED
}

"One run of one behavior flow: for the command itself, or for a domain event it caused."
type FlowRun {
  id: Int!
  flow: String!
  "The command or domain event that triggered the run."
  trigger: String!
  "The instance the event came from, for a cross-aggregate delivery."
  origin: String!
  "The business key of the instance the flow ran on, once known."
  key: String!
  status: RunStatus!
  reason: String!
  message: String!
  attempts: Int!
  events: [EmittedEvent!]!
  "ISO 8601 UTC."
  created: String!
  updated: String!
}

type EmittedEvent {
  type: String!
  version: Int!
  data: JSON!
}

input StringFilter {
  eq: String
  ne: String
  beginsWith: String
  gt: String
  gte: String
  lt: String
  lte: String
}

input IntFilter {
  eq: Int
  ne: Int
  gt: Int
  gte: Int
  lt: Int
  lte: Int
}

input FloatFilter {
  eq: Float
  ne: Float
  gt: Float
  gte: Float
  lt: Float
  lte: Float
}

input BooleanFilter {
  eq: Boolean
  ne: Boolean
}
"""
"""The types every service's API shares; a package's schema.graphql extends Query with its
aggregates and defines Mutation with its commands."""

_STATUS = {"pending": "PENDING", "dead": "DEAD_LETTERED", "rejected": "REJECTED"}


def schema_text(registry: Registry) -> str:
    """The package's generated schema.graphql."""
    resource = importlib.resources.files(registry.package).joinpath("schema.graphql")
    try:
        return resource.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise ConfigError(
            f"{registry.package}/schema.graphql cannot be read ({exc}): rebuild the package "
            "with draftsman-gen 0.3 or newer"
        ) from None


# -- resolvers -------------------------------------------------------------------------------
class _Api:
    """The resolvers: the same for every package, driven by the registry."""

    def __init__(self, service: Service, auth: AuthSettings, wake: threading.Event) -> None:
        self.service = service
        self.auth = auth
        self.wake = wake  # set when a command is stored: the dispatcher runs it at once

    def caller(self, info: Info) -> Caller:
        """The request's caller, as RequestLimits checked it (before GraphQL ran)."""
        request = info.context["request"]
        cached = getattr(request.state, "caller", None)
        if cached is None:
            cached = authenticate(self.auth, request.headers)
            request.state.caller = cached
        assert isinstance(cached, Caller)
        return cached

    def mutate(self, mutation: Mutation) -> Callable[..., Awaitable[dict[str, str]]]:
        what = f"{mutation.namespace}.{mutation.name}"

        async def resolve(_obj: Any, info: Info, input: Any = None) -> dict[str, str]:
            try:
                caller = self.caller(info)
                authorize(mutation.access, caller, what)
            except AuthError as exc:
                raise _error(str(exc), exc.code) from None
            payload = dict(input or {})
            if mutation.username_fields and not caller.username:
                raise _error(f"{what} fills in your username: it needs a token", "UNAUTHENTICATED")
            for name in mutation.username_fields:
                payload[name] = caller.username
            if mutation.user_must_match:
                value = payload.get(mutation.user_must_match)
                if value != caller.username:
                    raise _error(
                        f"{what}: {mutation.user_must_match} must be your own username",
                        "FORBIDDEN",
                    )
            # The mutations of one request are stored in the order written (their namespace
            # objects would let GraphQL resolve them at once): a lock per request, taken in
            # the order the resolvers start, which is the order of the query.
            async with info.context.setdefault("in_order", asyncio.Lock()):
                correlation = await _off_loop(self.service.accept, mutation.command, payload)
            self.wake.set()
            return {"correlationId": correlation}

        return resolve

    async def trace(self, _obj: Any, info: Info, correlationId: str) -> dict[str, Any]:
        self._any_caller(info, "trace")
        _check_text("correlationId", correlationId)
        return _trace(correlationId, await _off_loop(self.service.trace, correlationId))

    async def wait(
        self, _obj: Any, info: Info, correlationId: str, timeout: float = 10.0
    ) -> dict[str, Any]:
        self._any_caller(info, "wait")
        _check_text("correlationId", correlationId)
        deadline = time.monotonic() + min(max(timeout, 0.0), MAX_WAIT)
        while True:
            trace = _trace(correlationId, await _off_loop(self.service.trace, correlationId))
            if trace["complete"] or time.monotonic() >= deadline:
                return trace
            await asyncio.sleep(WAIT_POLL)

    def _any_caller(self, info: Info, what: str) -> None:
        """Traces are for anyone who may call something: an API key or a token."""
        try:
            caller = self.caller(info)
        except AuthError as exc:
            raise _error(str(exc), exc.code) from None
        if not (caller.api_key or caller.username):
            raise _error(f"{what} needs an API key (X-Api-Key) or a token", "UNAUTHENTICATED")

    def reader(self, reader: Reader) -> tuple[Callable[..., Any], Callable[..., Any]]:
        agg = self.service.aggregate(reader.aggregate)
        what = f"reading {reader.aggregate}"

        def check(info: Info) -> None:
            try:
                authorize(reader.access, self.caller(info), what)
            except AuthError as exc:
                raise _error(str(exc), exc.code) from None

        async def get(_obj: Any, info: Info, key: str) -> dict[str, Any] | None:
            check(info)
            _check_text("key", key)
            document = await _off_loop(self.service.show, agg.name, key)
            return None if document is None else _shown(document, reader.entities)

        async def filter_(
            _obj: Any,
            info: Info,
            where: Mapping[str, Any] | None = None,
            first: int = 20,
            after: str | None = None,
        ) -> dict[str, Any]:
            check(info)
            if not 1 <= first <= MAX_PAGE:
                raise _error(f"first must be between 1 and {MAX_PAGE}", "BAD_USER_INPUT")
            start = _decode_cursor(after) if after else None
            return await _off_loop(page, where or {}, first, start)

        def page(where: Mapping[str, Any], first: int, start: str | None) -> dict[str, Any]:
            items: list[dict[str, Any]] = []
            last = None
            for key, _id in self.service.store.keys(agg.name):
                if start is not None and key <= start:
                    continue
                document = self.service.show(agg.name, key)
                if document is None or not _matches(document, where):
                    continue
                if len(items) == first:
                    return {"items": items, "cursor": _encode_cursor(last or "")}
                items.append(_shown(document, reader.entities))
                last = key
            return {"items": items, "cursor": None}

        return get, filter_


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


async def _off_loop(function: Callable[..., T], *args: Any) -> T:
    """Run a store call in a worker thread, so that a slow or locked store (or a long
    filter) never stops the server from answering other requests; and turn the errors a
    client can cause, or must know about, into coded GraphQL errors."""
    try:
        return await run_in_threadpool(function, *args)
    except PayloadError as exc:
        raise _error(str(exc), "BAD_USER_INPUT") from None
    except (StoreError, ConcurrencyError) as exc:  # a read racing a writer, on PostgreSQL
        log.error("the store failed: %s", exc)  # the detail (paths) is for the operator
        raise _error("the store is not available; try again later", "UNAVAILABLE") from None


def _check_text(name: str, value: str) -> None:
    problem = unicode_problem(value)
    if problem:
        raise _error(f"{name}: {problem}", "BAD_USER_INPUT")


def _trace(correlation: str, runs: list[Delivery]) -> dict[str, Any]:
    return {
        "correlationId": correlation,
        # A trace as long as the store's limit may go on beyond it: never called complete.
        "complete": 0 < len(runs) < TRACE_LIMIT and all(run.status != "pending" for run in runs),
        "runs": [_run(run) for run in runs],
    }


def _run(run: Delivery) -> dict[str, Any]:
    if run.status == "done":
        status = "ACCEPTED" if run.reason == "accepted" else "REJECTED"
    else:
        status = _STATUS[run.status]
    return {
        "id": run.id,
        "flow": run.flow,
        "trigger": run.event_type,
        "origin": run.origin,
        "key": run.key,
        "status": status,
        "reason": run.reason,
        "message": run.message,
        "attempts": run.attempts,
        "events": [{"type": e.type, "version": e.version, "data": e.data} for e in run.emitted],
        "created": _iso(run.created),
        "updated": _iso(run.updated),
    }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def _shown(document: dict[str, Any], entities: tuple[str, ...]) -> dict[str, Any]:
    """A document as its GraphQL type: entity collections as lists, by entity key."""
    shown = dict(document)
    for name in entities:
        collection = shown.get(name) or {}
        shown[name] = [collection[k] for k in sorted(collection)]
    return shown


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "beginsWith": lambda a, b: a.startswith(b),
}


def _matches(document: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    for field, conditions in where.items():
        value = document.get(field)
        for op, operand in (conditions or {}).items():
            if operand is None:
                continue
            if not isinstance(value, type(operand)) and not (
                isinstance(value, (int, float)) and isinstance(operand, (int, float))
            ):
                return False
            if not _COMPARE[op](value, operand):
                return False
    return True


def _encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8", "surrogatepass")).decode("ascii")


def _decode_cursor(cursor: str) -> str:
    try:
        key = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        if not key:
            raise ValueError("empty")
        return key.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise _error("after: not a cursor this API gave out", "BAD_USER_INPUT") from None


# -- limits ----------------------------------------------------------------------------------
class QueryLimits(ValidationRule):
    """Refuse operations nested deeper than MAX_DEPTH or selecting more than MAX_FIELDS
    fields (fragments counted where they are spread), and more than MAX_MUTATIONS mutations.
    Each fragment is measured once, so a chain of fragments that spread the next one twice
    costs linear time here, though it would select exponentially many fields."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.fragments: dict[str, tuple[int, int]] = {}  # name -> (depth, fields)

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        depth, fields = self._measure(node.selection_set, frozenset())
        if depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(f"the query nests {depth} levels; the limit is {MAX_DEPTH}", node)
            )
        elif fields > MAX_FIELDS:
            self.report_error(
                GraphQLError(f"the query selects {fields} fields; the limit is {MAX_FIELDS}", node)
            )
        top = self._field_nodes(node.selection_set, frozenset())
        costly = [f for f in top if f.name.value == "wait"] + [
            g
            for f in top
            if f.selection_set is not None
            for g in self._field_nodes(f.selection_set, frozenset())
            if g.name.value == "filter"
        ]
        if len(costly) > MAX_COSTLY:
            self.report_error(
                GraphQLError(
                    f"the query asks for {len(costly)} wait or filter fields; the limit is "
                    f"{MAX_COSTLY}",
                    node,
                )
            )
        if node.operation == OperationType.MUTATION:
            mutations = sum(
                self._fields(field.selection_set, frozenset()) if field.selection_set else 1
                for field in self._field_nodes(node.selection_set, frozenset())
            )
            if mutations > MAX_MUTATIONS:
                self.report_error(
                    GraphQLError(
                        f"the request holds {mutations} mutations; the limit is {MAX_MUTATIONS}",
                        node,
                    )
                )

    def _measure(
        self, selections: SelectionSetNode | None, seen: frozenset[str]
    ) -> tuple[int, int]:
        """(depth, number of fields) of a selection set, capped just above the limits."""
        if selections is None:
            return 0, 0
        depth, fields = 0, 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                inner_depth, inner_fields = self._measure(selection.selection_set, seen)
                depth, fields = max(depth, inner_depth + 1), fields + 1 + inner_fields
            elif isinstance(selection, InlineFragmentNode):
                inner_depth, inner_fields = self._measure(selection.selection_set, seen)
                depth, fields = max(depth, inner_depth), fields + inner_fields
            elif isinstance(selection, FragmentSpreadNode):
                inner_depth, inner_fields = self._fragment(selection.name.value, seen)
                depth, fields = max(depth, inner_depth), fields + inner_fields
            if depth > MAX_DEPTH or fields > MAX_FIELDS:
                break  # the verdict is in; stop counting
        return min(depth, MAX_DEPTH + 1), min(fields, MAX_FIELDS + 1)

    def _field_nodes(self, selections: SelectionSetNode, seen: frozenset[str]) -> list[FieldNode]:
        """The fields of a selection set, through fragments (a namespace's mutations)."""
        found: list[FieldNode] = []
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found += self._field_nodes(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:
                    found += self._field_nodes(fragment.selection_set, seen | {name})
            if len(found) > MAX_FIELDS:
                break
        return found

    def _fields(self, selections: SelectionSetNode, seen: frozenset[str]) -> int:
        return len(self._field_nodes(selections, seen))

    def _fragment(self, name: str, seen: frozenset[str]) -> tuple[int, int]:
        if name in self.fragments:
            return self.fragments[name]
        fragment = self.context.get_fragment(name)
        if fragment is None or name in seen:
            return 0, 0  # unknown or cyclic: graphql-core's own rules report it
        measured = self._measure(fragment.selection_set, seen | {name})
        self.fragments[name] = measured
        return measured


class QueryCache:
    """Parsing and validation, remembered per query text. Clients send the same few queries
    again and again, and graphql-core's validation is most of a request's cost (about 4 ms
    of 5 for a mutation here); the answer depends only on the schema and the text. Only
    short texts are kept (CACHED_QUERY_CHARS), at most CACHED_QUERIES of them."""

    def __init__(self) -> None:
        self.documents: OrderedDict[str, DocumentNode] = OrderedDict()
        self.errors: OrderedDict[str, list[GraphQLError]] = OrderedDict()

    def parse(self, _context: Any, data: dict[str, Any]) -> DocumentNode:
        """graphql-core's parser with a token limit: a huge query is refused as it is read."""
        text: str = data["query"]
        document = self.documents.get(text)
        if document is None:
            document = parse(text, max_tokens=MAX_TOKENS)
            _remember(self.documents, text, document)
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        document_ast: DocumentNode,
        rules: Collection[type[ASTValidationRule]] | None = None,
        max_errors: int | None = None,
        type_info: TypeInfo | None = None,
    ) -> list[GraphQLError]:
        text = document_ast.loc.source.body if document_ast.loc else None
        if text is not None and text in self.errors:
            return self.errors[text]
        errors = validate(schema, document_ast, rules, max_errors)
        if text is not None:
            _remember(self.errors, text, errors)
        return errors


def _remember(cache: OrderedDict[str, V], text: str, value: V) -> None:
    if len(text) > CACHED_QUERY_CHARS:
        return
    cache[text] = value
    if len(cache) > CACHED_QUERIES:
        cache.popitem(last=False)


class RequestLimits:
    """ASGI middleware for client input before GraphQL sees it: a POST must be JSON (415
    otherwise), show no wrong credential (401: a key or token that is shown must be valid,
    whatever the request asks), and be at most `limit` bytes (413, counted as it arrives,
    chunked or not). The body is read here, up to the limit, and handed on whole."""

    def __init__(self, app: ASGIApp, limit: int, auth: AuthSettings) -> None:
        self.app = app
        self.limit = limit
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind != b"application/json":
            await _refuse(scope, receive, send, 415, "send the request as application/json")
            return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _refuse(scope, receive, send, 413, self._too_large())
            return
        try:
            caller = authenticate(self.auth, Headers(scope=scope))
        except AuthError as exc:
            await _refuse(scope, receive, send, 401, str(exc), exc.code)
            return
        scope.setdefault("state", {})["caller"] = caller
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await _refuse(scope, receive, send, 413, self._too_large())
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.limit:,} bytes"


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, message: str, code: str = ""
) -> None:
    error: dict[str, Any] = {"message": message}
    if code:
        error["extensions"] = {"code": code}
    response = JSONResponse({"errors": [error]}, status_code=status)
    await response(scope, receive, send)


class ErrorLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Where ariadne logs the errors of a request. An error a client caused (bad input,
    credentials, a refused query) is answered, not logged: logging each with its traceback
    let one request write megabytes. An unexpected one (a bug) is logged once per error,
    its message cut short, without the query."""

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        original = getattr(error, "original_error", None)
        if original is None or isinstance(original, GraphQLError):
            return
        self.logger.error(
            "unexpected error in a resolver: %s: %.200s",
            type(original).__name__,
            original,
            exc_info=original,
        )


# -- the application -------------------------------------------------------------------------
def create_app(
    registry: Registry,
    *,
    environ: Mapping[str, str] | None = None,
    service: Callable[[], Service] | None = None,
    dispatch: bool = True,
    poll: float = 1.0,
) -> ASGIApp:
    """The ASGI application of one generated package. `service` makes a Service (one for the
    requests, one for the dispatcher thread); by default, on the store the environment names.
    With `dispatch`, a dispatcher thread runs stored commands and deliveries as they come."""
    import os

    make = service or (lambda: Service(registry))
    env = os.environ if environ is None else environ
    auth = AuthSettings.from_env(registry.env_prefix, env)
    api_service = make()
    wake = threading.Event()
    api = _Api(api_service, auth, wake)
    schema = _schema(registry, api)
    queries = QueryCache()
    graphql = GraphQL(
        schema,
        query_parser=queries.parse,
        query_validator=queries.validate,
        validation_rules=[QueryLimits],
        explorer=OfflineGraphiQL(
            f"{registry.project} API",
            default_query=EXPLORER_QUERY,
            default_headers='{"Authorization": ""}',
        ),
        debug=False,
        logger=ErrorLog(log, {}),
    )

    workers: dict[str, threading.Thread] = {}  # the dispatcher thread, once started

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_request: Request) -> Response:
        dispatcher = workers.get("dispatcher")
        if dispatcher is not None and not dispatcher.is_alive():
            return PlainTextResponse("not ready: the dispatcher stopped\n", status_code=503)
        problem = await run_in_threadpool(api_service.store.health)
        if problem:
            log.warning("not ready: %s", problem)  # the detail (paths) is for the operator
            return PlainTextResponse("not ready: the store cannot be used\n", status_code=503)
        return PlainTextResponse("ready\n")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        log.info("serving %s (%s)", registry.package, auth.describe())
        stop = threading.Event()
        worker = None
        if dispatch:
            worker = threading.Thread(
                target=_dispatch_loop,
                args=(make, stop, wake, poll),
                name="draftsman-dispatch",
                daemon=True,
            )
            worker.start()
            workers["dispatcher"] = worker
        try:
            yield
        finally:
            stop.set()
            wake.set()
            if worker is not None:
                worker.join(timeout=30)
            api_service.close()

    app = Starlette(
        routes=[
            *asset_routes(),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
    return RequestLimits(app, api_service.settings.max_payload_bytes, auth)


def _schema(registry: Registry, api: _Api) -> Any:
    """The package's schema bound to the resolvers; a schema that does not fit the registry
    (edited by hand, or from another build) is a ConfigError, not a crash."""
    text = schema_text(registry)
    try:
        return make_executable_schema([BASE_SCHEMA, text], *_bindables(registry, api))
    except (GraphQLError, ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"{registry.package}/schema.graphql does not fit the package ({first}): rebuild "
            "the package with draftsman-gen instead of editing it"
        ) from None


def _bindables(registry: Registry, api: _Api) -> list[Any]:
    query = QueryType()
    query.set_field("trace", api.trace)
    query.set_field("wait", api.wait)
    bindables: list[Any] = [query, ScalarType("JSON")]
    for reader in registry.readers:
        query.set_field(reader.aggregate, _marker)
        queries = ObjectType(f"{reader.aggregate}Queries")
        get, filter_ = api.reader(reader)
        queries.set_field("get", get)
        queries.set_field("filter", filter_)
        bindables.append(queries)
    mutation = MutationType()
    namespaces: dict[str, ObjectType] = {}
    for m in registry.mutations:
        if m.namespace not in namespaces:
            mutation.set_field(m.namespace, _marker)
            namespaces[m.namespace] = ObjectType(f"{m.namespace}Mutations")
        namespaces[m.namespace].set_field(m.name, api.mutate(m))
    if registry.mutations:  # a model without commands has no Mutation type
        bindables.append(mutation)
    return [*bindables, *namespaces.values()]


def _marker(*_args: Any) -> dict[str, str]:
    """A namespace field: its object only groups the fields below it."""
    return {}


def _dispatch_loop(
    make: Callable[[], Service], stop: threading.Event, wake: threading.Event, poll: float
) -> None:
    """Run what is due; then sleep until woken by a new command, the next retry, or `poll`
    seconds (to see work stored by other processes)."""
    service = None
    delay = poll
    while service is None:  # e.g. the database's connections are all taken: try again
        try:
            service = make()
        except (StoreError, ConfigError) as exc:
            log.error("the dispatcher cannot start (trying again in %.0f s): %s", delay, exc)
            if stop.wait(delay):
                return
            delay = min(delay * 2, 60.0)
    try:
        while not stop.is_set():
            wake.clear()
            try:
                service.dispatch()
                next_due = service.store.next_due()
            except StoreError as exc:
                log.warning("dispatch paused: %s", exc)
                next_due = None
            except Exception:  # a bug must not end dispatching while the API takes commands
                log.exception("dispatch failed; trying again")
                next_due = None
            wait = poll if next_due is None else min(poll, max(0.0, next_due - time.time()))
            wake.wait(wait)
    finally:
        service.close()
