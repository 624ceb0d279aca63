"""Draft questions derived from an outline, and plain outlines turned into structured ones.

Three jobs:

* `draft_questions(sections, contradictions)` writes draft questions from a structured
  outline (the `SectionData` that `bank_format.read_bank` returns): numeric targets,
  "which of these is one of the N …", counts, completion of quoted slogans and
  true/false statements. The output depends only on the input: every random choice is
  seeded from the section key and the subject of the question.
* `parse_plain_outline(text)` turns a plain-text outline into sections;
  `dump_outline_yaml(sections)` writes them in the questions/ format.
* `read_document(content, filename)` reads an uploaded .txt, .md or .docx as text.

Nothing here touches the database; `draft_store` stores what this package makes.

The modules, from the bottom: `text` (folding, similarity, seeded randomness),
`figures` (values and near values), `documents` (uploads as text), `outline` (the
outline reader), `files` (YAML in and out), `contradictions`, `context` (items, lists
and quotes of an outline), `distractors`, the generators `numeric`, `lists` and
`slogans` writing into a `sink`, and `pipeline` (the run and the checks). Outside the
package only `..bank_format` is imported.
"""
from .contradictions import (answer_count_ok, default_contradictions, own_contradictions,
                             read_contradictions, rests_on_contradiction)
from .documents import MAX_DOCUMENT_BYTES, DocumentError, read_document
from .figures import Figure, parse_figure
from .files import OutlineError, dump_outline_yaml, dump_questions_yaml, load_outline
from .outline import parse_plain_outline
from .pipeline import counts_by_section, draft_questions

__all__ = [
    "DocumentError", "Figure", "MAX_DOCUMENT_BYTES", "OutlineError", "answer_count_ok",
    "counts_by_section", "default_contradictions", "draft_questions", "dump_outline_yaml",
    "dump_questions_yaml", "load_outline", "own_contradictions", "parse_figure", "parse_plain_outline",
    "read_contradictions", "read_document", "rests_on_contradiction",
]
