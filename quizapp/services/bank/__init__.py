"""The question bank: its file format, the store in the database, the linter, the
interchange formats, the editor and the drafting of questions from an outline.

    schema.py       the bank's YAML format (outline.yaml + bank/*.yaml) as dataclasses
    store.py        importing a bank or questions into the database (a changed question
                    used by attempts gets a new version), reading it back, counts
    lint.py         giveaway pairs, forbidden phrases, near-duplicates
    formats/        YAML, GIFT, Aiken and Excel in and out, with bounds on every input
    editor.py       the organizer's editor: save, review states, coverage, item statistics
    drafting/       draft questions from an outline (reader, per-kind generators,
                    distractors, contradictions); draft_store.py puts them in the bank

Callers import from this package. The bank imports attempts and contests only for the
editor's reads (a question's use and its item statistics); nothing in attempts,
contests or branches imports the bank.
"""
from . import draft_store, drafting, editor, formats, lint
from .schema import (KEY_RE, PURPOSES, STATUSES, TRUE_FALSE_TEXTS, Bank, ChoiceData, QuestionData,
                     SectionData, credit_to_fraction, fraction_to_credit, read_bank)
from .store import (BankInvalid, ImportResult, current_data, current_questions, fold, import_bank, stats,
                    to_data, upsert_questions)

__all__ = ["Bank", "BankInvalid", "ChoiceData", "ImportResult", "KEY_RE", "PURPOSES", "QuestionData",
           "STATUSES", "SectionData", "TRUE_FALSE_TEXTS", "credit_to_fraction", "current_data", "current_questions",
           "draft_store", "drafting", "editor", "fold", "fraction_to_credit", "formats", "import_bank", "lint", "read_bank",
           "stats", "to_data", "upsert_questions"]
