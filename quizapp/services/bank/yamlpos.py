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


# libyaml's parser and composer when PyYAML was built with it (the wheels are): about 10×
# faster on a large file than the pure-Python one, which stays the fallback.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# One safe constructor for every scalar: bool/int/float/null/str resolved exactly as
# PyYAML's safe loader does, an unknown tag (!!python/…) refused.
_SCALARS = yaml.SafeLoader("")


def _scalar(node: yaml.ScalarNode) -> Any:
    construct = _SCALARS.yaml_constructors.get(node.tag) or _SCALARS.yaml_constructors[None]
    return construct(_SCALARS, node)


def _convert(node: yaml.Node, seen: set[int]) -> Any:
    # An alias (`*name`) is the anchored node itself, met a second time: refused, since
    # converting a graph of nesting aliases ("billion laughs") costs exponential time and
    # memory, and the question files never need them.
    if id(node) in seen:
        raise yaml.MarkedYAMLError(problem="aliases (*name) are not allowed (its anchor is here)",
                                   problem_mark=node.start_mark)
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, seen)
            if isinstance(key, (dict, list)):
                raise yaml.MarkedYAMLError(problem="a mapping key must be a scalar",
                                           problem_mark=key_node.start_mark)
            if key in out:
                raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}",
                                           problem_mark=key_node.start_mark)
            out[key] = _convert(value_node, seen)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LineList(_convert(item, seen) for item in node.value)
        seq.line = node.start_mark.line + 1
        return seq
    return _scalar(node)


def load(text: str) -> Any:
    """Parse YAML text; raise yaml.YAMLError (with a mark) on syntax errors and aliases."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return None
    return _convert(node, set())
