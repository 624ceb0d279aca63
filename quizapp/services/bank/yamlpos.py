"""YAML loading that remembers the line of every mapping and key, for file:line errors."""
from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A dict that knows the line it starts on and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    line: int = 0


def _convert(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(key_node)
            if isinstance(key, (dict, list)):
                raise yaml.MarkedYAMLError(problem="a mapping key must be a scalar",
                                           problem_mark=key_node.start_mark)
            if key in out:
                raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}",
                                           problem_mark=key_node.start_mark)
            out[key] = _convert(value_node)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LineList(_convert(item) for item in node.value)
        seq.line = node.start_mark.line + 1
        return seq
    # Scalars: let the safe constructor resolve bool/int/str exactly as PyYAML does.
    return yaml.SafeLoader(
        "").construct_object(node, deep=True)  # type: ignore[arg-type]


class _NoAliasLoader(yaml.SafeLoader):
    """Refuses aliases (`*name`): converting a node graph whose aliases nest ("billion
    laughs") costs exponential time and memory, and the question files never need them."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.MarkedYAMLError(problem="aliases (*name) are not allowed",
                                       problem_mark=self.peek_event().start_mark)
        return super().compose_node(parent, index)


def load(text: str) -> Any:
    """Parse YAML text; raise yaml.YAMLError (with a mark) on syntax errors and aliases."""
    node = yaml.compose(text, Loader=_NoAliasLoader)
    if node is None:
        return None
    return _convert(node)
