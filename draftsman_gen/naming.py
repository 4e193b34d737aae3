"""Naming rules of the model language and the Python names derived from model names."""

from __future__ import annotations

import keyword
import re

PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
SNAKE = re.compile(r"^[a-z_][a-z0-9_]*$")

# Attributes of every flow object: no flow variable may take them. (Every other generated
# name is checked where it lives, by lower.py.)
RESERVED_VARIABLES = frozenset({"entity", "identity", "events"})


def snake(name: str) -> str:
    """PascalCase/camelCase -> snake_case; acronym runs stay together (HTTPServer -> http_server)."""
    step = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    step = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", step)
    return step.lower()


def is_keyword(name: str) -> bool:
    return keyword.iskeyword(name) or name in ("None", "True", "False")


def pascal_problem(name: str) -> str | None:
    if not PASCAL.match(name):
        return f"'{name}' must be PascalCase (a capital letter, then letters and digits)"
    return None


def camel_problem(name: str) -> str | None:
    if not CAMEL.match(name):
        return f"'{name}' must be camelCase (a lower-case letter, then letters and digits)"
    if is_keyword(name):
        return f"'{name}' is a Python keyword and cannot be used as a name"
    return None


def module_problem(name: str) -> str | None:
    if not SNAKE.match(name) or is_keyword(name):
        return f"'{name}' must be a snake_case Python module name"
    return None


def default_graphql_name(command: str, namespace: str) -> str:
    """The original's naming read backwards: OpenAccountRequested in namespace Account is
    `open`; in namespace Banking it is `openAccount`."""
    name = command.removesuffix("Requested") or command
    if name.endswith(namespace) and name != namespace:
        name = name.removesuffix(namespace)
    return name[0].lower() + name[1:]
