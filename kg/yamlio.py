"""Read YAML while remembering the line of every mapping and key.

Curation files are edited by hand; an error must say on which line. The loader
returns :class:`LineDict` and :class:`LineList` objects that behave as ``dict``
and ``list`` and carry the 1-based line where they start, and for a mapping the
line of each key.

>>> data = load_text("a: 1\\nb:\\n  c: [x, y]\\n", "example.yaml")
>>> data.line, data.key_line("b"), data["b"].line
(1, 2, 3)
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml

from kg.errors import InputError, Problem


class LineDict(dict[str, Any]):
    """A mapping that knows where it and each of its keys start."""

    line: int = 0
    key_lines: dict[str, int]

    def key_line(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence that knows where it starts."""

    line: int = 0


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps line numbers and refuses duplicate keys."""


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same, on libyaml's parser when PyYAML has it (several times faster on a large
    registry). Its nodes carry the same line marks; on an error the text is parsed again
    by :class:`_Loader`, whose messages are PyYAML's usual ones."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain name, not a list or mapping",
                key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (datetime.date, int, float, bool)) or key is None:
            key = str(key_node.value)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date-like scalar that is not a real date (1945-07-32) stays text for the checks."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return str(node.value)


for _loader in (_Loader, _FastLoader):
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
                            _construct_sequence)


def load_text(text: str, name: str) -> Any:
    """Parse YAML ``text``; ``name`` is used in error messages."""
    try:
        return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError:
        pass
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(
            "YAML syntax error",
            problems=[Problem(str(problem), name, line, None,
                              "check indentation, colons and quotes on that line "
                              "or the one above")],
        ) from None


def load_file(path: Path, display: str | None = None) -> Any:
    """Read and parse a YAML file."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror}",
                         hint="check that the file exists and is readable") from None
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text", hint="save the file as UTF-8") from None
    return load_text(text, name)
