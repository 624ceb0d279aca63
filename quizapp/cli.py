"""flask --app quizapp <group> <command>: thin wrappers over services."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import Attempt, Contest, Round
from .services.attempts import finish, overdue_ids
from .services.backup import backup, restore
from .services import grading
from .services.bank import (BankInvalid, drafting, formats, fraction_to_credit, import_bank, lint,
                            read_bank, stats)
from .services.bank.formats import detect
from .services.bank.lint import bank_forbidden
from .services.branches import reports, standings
from .services.branches.counters import recompute
from .services.branches.exports import export
from .services.demo import DEMO_ACCOUNTS, WARD_CODE, clashes, has_users, is_seeded, seed, seed_contest
from .services.errors import DomainError
from .services.people.users import create_user, find_unit


def _bank_path(path: str | None) -> str:
    return path or current_app.config["BANK_PATH"]


bank_cli = click.Group("bank", help="Validate, import and count the question bank.")
users_cli = click.Group("users", help="Accounts.")
attempts_cli = click.Group("attempts", help="Quiz attempts.")
demo_cli = click.Group("demo", help="Demo data for trying the app.")


FORMAT_NAMES = ["yaml", "gift", "xml", "aiken", "xlsx"]


def _file_format(target, fmt: str | None) -> str | None:
    """The interchange format to read `target` in: --format, else what the extension says
    (see formats.detect). None for a directory and for a .yaml/.yml file without
    --format: those are read as the bundled bank (with its outline)."""
    if fmt is not None or not target.is_file() or target.suffix.lower() in (".yaml", ".yml"):
        return fmt
    with target.open("rb") as handle:
        found = detect(target.name, handle.read(65536))
    if found is None:
        raise click.ClickException(f"{target}: give --format ({', '.join(FORMAT_NAMES)}): "
                                   "the file name does not tell it")
    return found


def _known_sections() -> set[str] | None:
    """The database's section keys, or None when there is no database to ask (validating
    a file then checks only the shape of section keys)."""

    try:
        return formats.known_section_keys()
    except SQLAlchemyError:
        db.session.rollback()
        return None


def _category_sections(pairs: tuple[str, ...], known: set[str] | None) -> dict[str, str]:
    """--category-section "PATH=KEY" options as {category path: section key}, as the web
    preview's choice per category; a malformed pair or an unknown key is one clear line."""
    chosen: dict[str, str] = {}
    for pair in pairs:
        category, sep, key = pair.rpartition("=")
        category, key = category.strip(), key.strip()
        if not sep or not category or not key:
            raise click.ClickException(f"--category-section '{pair}': write CATEGORY=SECTION_KEY, "
                                       "e.g. '$course$/Nghị quyết/Quan điểm=viewpoints'")
        if known is not None and key not in known:
            raise click.ClickException(f"--category-section '{pair}': unknown section '{key}'")
        chosen[category] = key
    return chosen


def _answers_of(question) -> str:
    """One line per answer as the import preview shows it: letter, text, ✓ for a right
    one, and the credit when the file weighs the answers."""
    lines = []
    for index, choice in enumerate(question.choices):
        credit = f" ({fraction_to_credit(choice.fraction)} %)" if choice.fraction is not None else ""
        lines.append(f"    {chr(65 + index) if index < 26 else index + 1}. {choice.text}"
                     f"{' ✓' if choice.correct else ''}{credit}")
    return "\n".join(lines)


def _read_file(path, fmt: str, section: str | None, known: set[str] | None,
               category_sections: tuple[str, ...] = (), show_answers: bool = False):
    """Parse one question file; print what was skipped, the warnings and (bounded) the
    errors; raise ClickException when there are errors. `show_answers`: every question
    with its kind and answers (right ones and credits), as the web preview lists them."""
    if not path.is_file():
        raise click.ClickException(f"{path}: not a file (--format reads one question file)")
    if section is not None and known is not None and section not in known:
        raise click.ClickException(f"unknown section '{section}'")
    chosen = _category_sections(category_sections, known)
    with path.open("rb") as handle:
        content = handle.read(formats.MAX_BYTES + 1)  # the parser reports a larger file
    extra = {"category_sections": chosen} if chosen else {}
    if chosen and fmt not in ("gift", "xml"):
        raise click.ClickException("--category-section goes with a file that has categories "
                                   "(GIFT or Moodle XML)")
    result = formats.FORMATS[fmt].parse(content, path.name, section, section_keys=known, **extra)
    formats.lint_parsed(result, bank_forbidden(current_app.config["BANK_PATH"]))
    for item in result.skipped:
        click.echo(item)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for category, count in result.unmatched_categories.items():
        where = f"go to section '{section}'" if section else "need --section"
        click.echo(f"category '{category}' names no section (key or title): {count} question(s) "
                   f"{where}, or choose one with --category-section '{category}=SECTION_KEY'", err=True)
    if result.errors:
        for line in result.errors.summary():
            click.echo(line, err=True)
        raise click.ClickException(f"{len(result.errors)} error(s) in {path}; nothing imported")
    if not result.questions and not result.skipped:
        raise click.ClickException(f"no questions in {path}")
    if show_answers:
        for question in result.questions:
            click.echo(f"{question.origin}: {question.key} · {question.section} · "
                       f"{grading.kind(question.kind).label}\n  {question.prompt}\n{_answers_of(question)}")
    return result


@bank_cli.command("validate")
@click.argument("path", required=False)
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES),
              help="Read one question file in this format (default: from the extension: .gift, "
                   ".txt, .aiken, .xlsx; a .yaml file or a directory is the bundled bank).")
@click.option("--section", help="Section key for questions the file does not place (Aiken needs it).")
@click.option("--category-section", "category_sections", multiple=True, metavar="CATEGORY=KEY",
              help="Put a category's questions in this section (repeatable), as the web preview's "
                   "choice per category.")
@click.option("--answers", "show_answers", is_flag=True,
              help="List every question with its kind and answers: the right ones (✓) and the credit "
                   "of each, as the web preview shows them.")
def bank_validate(path: str | None, fmt: str | None, section: str | None,
                  category_sections: tuple[str, ...], show_answers: bool) -> None:
    """Check the bank (directory or one question file) or, in any format, one question
    file without importing it (the same messages as the import preview); exit 1 on errors."""

    target = Path(_bank_path(path))
    fmt = _file_format(target, fmt)
    if fmt is not None:
        result = _read_file(target, fmt, section, _known_sections(), category_sections, show_answers)
        click.echo(f"OK: {target} ({fmt}): {len(result.questions)} questions, "
                   f"{len(result.skipped)} skipped, {len(result.warnings)} warning(s)")
        return
    if section is not None or category_sections:
        raise click.ClickException("--section and --category-section go with a question file (--format)")
    bank = read_bank(target)
    for error in bank.errors:
        click.echo(error, err=True)
    if bank.errors:
        raise click.ClickException(f"{len(bank.errors)} error(s)")
    click.echo(f"OK: {len(bank.sections)} sections, {len(bank.questions)} questions")


@bank_cli.command("lint")
@click.argument("path", required=False)
def bank_lint(path: str | None) -> None:
    """Check the bank (directory or one question file) for what unfits a question for a
    contest: positional references, page hints, forbidden strings, overlapping figures,
    duplicated prompts, giveaway pairs, missing purposes. Exit 1 on any finding."""
    target = _bank_path(path)
    bank = read_bank(target)
    for error in bank.errors:
        click.echo(error, err=True)
    if bank.errors:
        raise click.ClickException(f"{len(bank.errors)} error(s): run `bank validate` first")
    findings = lint.lint(bank.questions, lint.bank_forbidden(target), require_purpose=True)
    for finding in findings:
        click.echo(str(finding), err=True)
    if findings:
        raise click.ClickException(f"{len(findings)} finding(s)")
    drawable = sum(q.status != "retired" for q in bank.questions)
    click.echo(f"OK: {drawable} questions that can be drawn, no findings")


def _import_counts(result) -> str:
    return (f"questions: {result.created} new, {result.updated} updated, "
            f"{result.new_versions} new versions, {result.unchanged} unchanged")


@bank_cli.command("import")
@click.argument("path", required=False)
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES),
              help="Read one question file in this format (default: from the extension: .gift, "
                   ".txt, .aiken, .xlsx; without it a directory or .yaml file is the bundled "
                   "bank: outline + bank/*.yaml).")
@click.option("--section", help="Section key for questions the file does not place (Aiken needs it).")
@click.option("--category-section", "category_sections", multiple=True, metavar="CATEGORY=KEY",
              help="Put a category's questions in this section (repeatable), as the web preview's "
                   "choice per category.")
def bank_import(path: str | None, fmt: str | None, section: str | None,
                category_sections: tuple[str, ...]) -> None:
    """Import the bundled bank (a directory: outline + bank/*.yaml) or, with --format, one
    question file into existing sections; all or nothing; re-importing changes nothing."""

    target = Path(_bank_path(path))
    fmt = _file_format(target, fmt)
    if fmt is not None:
        _import_file(target, fmt, section, category_sections)
        return
    if section is not None or category_sections:
        raise click.ClickException("--section and --category-section go with --format (one question file)")
    bank = read_bank(target)
    try:
        result = import_bank(bank)
    except BankInvalid as exc:
        db.session.rollback()
        for error in exc.errors:
            click.echo(error, err=True)
        raise click.ClickException(f"{len(exc.errors)} error(s); nothing imported") from None
    db.session.commit()
    click.echo(f"sections: {result.sections_created} new, {result.sections_updated} updated; "
               + _import_counts(result))


def _import_file(path, fmt: str, section: str | None, category_sections: tuple[str, ...] = ()) -> None:
    """One question file in a format: print skipped items, warnings and the errors;
    upsert all or nothing."""
    result = _read_file(path, fmt, section, formats.known_section_keys() or set(), category_sections)
    try:
        outcome = formats.import_parsed(result)
    except BankInvalid as exc:
        db.session.rollback()
        for error in exc.errors[:100]:
            click.echo(error, err=True)
        raise click.ClickException(f"{len(exc.errors)} error(s) in {path}; nothing imported") from None
    db.session.commit()
    click.echo(f"{path} ({fmt}): {_import_counts(outcome)}; {len(result.skipped)} skipped")


@bank_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES),
              help="Default: from the file name (.yaml, .gift, .xml = Moodle XML, .txt = Aiken, .xlsx).")
def bank_export(path: str, fmt: str | None) -> None:
    """Write every current question (all statuses) to one file."""
    fmt = fmt or formats.detect(path)
    if fmt is None:
        raise click.ClickException("give --format: the file name does not tell it")
    content, written, left_out = formats.export_current(fmt)
    try:
        with open(path, "wb") as handle:
            handle.write(content)
    except OSError as exc:
        # One line, never a traceback: a missing folder, no permission, a full disk.
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {path} ({fmt}): {written} questions")
    if left_out:
        click.echo(f"skipped {left_out} question(s) {formats.FORMATS[fmt].label} cannot hold "
                   "(more than one right answer)")
    if len(content) > formats.MAX_BYTES:
        click.echo(f"warning: the file is larger than the import limit "
                   f"({formats.MAX_BYTES // 1024 // 1024} MiB): import it back in parts", err=True)


@bank_cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bank_stats(as_json: bool) -> None:
    """Counts of the imported bank."""
    data = stats()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return
    click.echo(f"total {data['total']}, approved {data['approved']}")
    for key, count in data["by_section"].items():
        click.echo(f"  {key}: {count}")
    for kind, count in data["by_kind"].items():
        click.echo(f"  [{kind}] {count}")
    for purpose, count in data["by_purpose"].items():
        click.echo(f"  <{purpose}> {count} approved")


@bank_cli.command("draft")
@click.argument("outline_file", type=click.Path(exists=True))
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the drafts here instead of standard output.")
@click.option("--contradictions", "contradictions_file", type=click.Path(exists=True, dir_okay=False),
              help="Strings no draft may rest on, one per line [default: the outline's own list: "
                   "OUTLINE.contradictions.txt beside it, the contradictions.txt of its bank "
                   "directory, or one naming it on an '# outlines:' line; none otherwise].")
@click.option("--no-contradictions", is_flag=True, help="Do not leave any draft out.")
@click.option("--outline-output", type=click.Path(dir_okay=False, writable=True),
              help="Also write the structured outline (useful for a plain-text OUTLINE_FILE).")
def bank_draft(outline_file: str, output: str | None, contradictions_file: str | None,
               no_contradictions: bool, outline_output: str | None) -> None:
    """Draft questions (status draft) from an outline: a bank directory, a structured
    outline.yaml, or a plain .txt/.md/.docx outline (converted first). Per-section
    counts go to standard error."""
    try:
        sections = drafting.load_outline(outline_file)
    except drafting.OutlineError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        raise click.ClickException(f"cannot read the outline {outline_file}") from None
    if no_contradictions:
        contradictions: set[str] = set()
    elif contradictions_file:
        contradictions = drafting.read_contradictions(contradictions_file)
    else:
        contradictions = drafting.own_contradictions(outline_file)
    made = drafting.draft_questions(sections, contradictions)
    text = drafting.dump_questions_yaml(made)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)
    if outline_output:
        with open(outline_output, "w", encoding="utf-8") as handle:
            handle.write(drafting.dump_outline_yaml(sections))
    for key, count in drafting.counts_by_section(sections, made).items():
        click.echo(f"{key}: {count}", err=True)
    click.echo(f"{len(made)} drafts from {len(sections)} sections "
               f"({len(contradictions)} contradicted strings avoided)", err=True)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", default="member", show_default=True,
              type=click.Choice(["member", "secretary", "organizer", "admin"]))
@click.option("--unit", "unit_ref", required=True, help="Unit code or id.")
@click.option("--name", "full_name", default=None, help="Full name (default: the username).")
@click.option("--phone", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(username, role, unit_ref, full_name, phone, password_stdin) -> None:
    """Create an account (the first organizer or admin of a fresh install, or scripts)."""
    unit = find_unit(unit_ref)
    if unit is None:
        raise click.ClickException(f"unknown unit: {unit_ref}")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
    try:
        user = create_user(username, full_name or username, unit, role=role,
                           password=password, phone=phone)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"created {user.username} ({user.role}) in {unit.code}")


@attempts_cli.command("close-overdue")
def attempts_close_overdue() -> None:
    """Finish every attempt whose deadline (+ grace) has passed. Safe to run from cron,
    and while members are active: one short transaction per attempt, so the branch
    counters are never held locked across many finishes (no deadlock with requests that
    finish the same attempts lazily; the compare-and-set makes a double finish a no-op)."""
    count = 0
    while True:
        ids = overdue_ids(limit=500)
        if not ids:
            break
        for attempt_id in ids:
            attempt = db.session.get(Attempt, attempt_id)
            if attempt is not None and finish(attempt, reason="expired"):
                count += 1
            db.session.commit()
    click.echo(f"finished {count} overdue attempt(s)")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when any account exists.")
@click.option("--with-contest/--without-contest", default=True, show_default=True,
              help="Also a demo contest: one closed round with invented attempts, one open.")
def demo_seed(if_empty: bool, with_contest: bool) -> None:
    """The ward, 42 branches with 1,886 invented members, one account per role."""
    if if_empty and has_users():
        click.echo("accounts exist; demo not seeded")
        return
    if is_seeded():
        # Run again after `make run` (which seeds): nothing to do, and not an error.
        click.echo(f"the demo is already seeded (unit {WARD_CODE} exists); nothing changed")
        return
    taken = clashes()
    if taken:
        shown = ", ".join(taken[:10]) + (f" and {len(taken) - 10} more" if len(taken) > 10 else "")
        raise click.ClickException(f"the database already holds what the demo would create "
                                   f"({shown}); seed the demo into an empty database")
    if with_contest:
        if stats()["approved"] < 40:
            raise click.ClickException("the demo contest needs the question bank: run "
                                       "`flask --app quizapp bank import` first (or --without-contest)")
    summary = seed()
    db.session.commit()
    click.echo(f"seeded {summary['units']} units and {summary['members']} members "
               "(names are invented)")
    for username, role, password in DEMO_ACCOUNTS:
        click.echo(f"  {role:<10} {username} / {password}")
    if with_contest:
        result = seed_contest()
        db.session.commit()
        click.echo(f"demo contest {result['contest']}: round 1 closed with {result['attempts']} "
                   "invented attempts, round 2 open for a week")


contest_cli = click.Group("contest", help="Contest rounds.")


@contest_cli.command("export")
@click.argument("round_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--output", "output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--what", type=click.Choice(["results", "prizes", "collective"]), default="results",
              show_default=True)
def contest_export(round_id: int, fmt: str, output: str, what: str) -> None:
    """Write a round's results, prize list or collective (branch) prize list as .xlsx or
    CSV. A prize list not yet confirmed says so in its title and file name."""
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise click.ClickException(f"no round {round_id}")
    content, _mimetype, _name = export(round_, what, fmt)
    with open(output, "wb") as handle:
        handle.write(content)
    db.session.commit()
    click.echo(f"wrote {output} ({len(content)} bytes)")


report_cli = click.Group("report", help="Branch and ward reports.")
standings_cli = click.Group("standings", help="The maintained branch counters.")


@report_cli.command("branches")
@click.argument("round_id", type=int, required=False)
@click.option("--contest", "contest_id", type=int, help="The whole contest instead of one round.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]), default="xlsx", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--include-hidden", is_flag=True,
              help="Include the scores of rounds whose results are not shown yet (the "
                   "organizers' view). Without it the report is what members may see.")
def report_branches(round_id, contest_id, fmt, output, include_hidden) -> None:
    """The branch standings of a round (ROUND_ID) or of a contest (--contest ID)."""
    # A report file travels: by default it carries only what members may see.
    viewer = standings.FULL_VIEW if include_hidden else None
    if (round_id is None) == (contest_id is None):
        raise click.ClickException("give either ROUND_ID or --contest ID")
    if round_id is not None:
        round_ = db.session.get(Round, round_id)
        if round_ is None:
            raise click.ClickException(f"no round {round_id}")
        contest, rows = round_.contest, standings.round_standings(round_, viewer=viewer)
    else:
        round_ = None
        contest = db.session.get(Contest, contest_id)
        if contest is None:
            raise click.ClickException(f"no contest {contest_id}")
        rows = standings.contest_standings(contest, viewer=viewer)
    content = reports.ward_report(rows, standings.Weights.of(contest),
                                  reports.report_title(round_, contest), fmt)
    with open(output, "wb") as handle:
        handle.write(content)
    click.echo(f"wrote {output}: {len(rows)} branches")


@standings_cli.command("recompute")
@click.option("--check", is_flag=True, help="Only compare; exit 1 on any difference.")
def standings_recompute(check: bool) -> None:
    """Rebuild every branch counter from the attempts and rosters (or, with --check,
    compare the maintained ones with a rebuild). On PostgreSQL both may run during a
    round: --check reads one snapshot, writes nothing and makes nobody wait; a rebuild
    first does the same and stops when nothing differs, else it locks the counters
    (starts and finishes wait until it commits: seconds, about 2 s a round of 20,000
    attempts), reads again and rewrites only the rows that differ, losing none. On
    SQLite, rebuild only when nothing can start or finish an attempt (no round open, no
    member on extra time, no paper sheet left to enter), and read a --check difference
    during such writes again after them."""
    started = time.perf_counter()
    diffs = recompute(check=check)
    elapsed = time.perf_counter() - started
    if check:
        for line in diffs[:200]:
            click.echo(line, err=True)
        if diffs:
            raise click.ClickException(f"{len(diffs)} difference(s) ({elapsed:.2f} s)")
        click.echo(f"OK: the maintained counters equal a recompute ({elapsed:.2f} s)")
    else:
        db.session.commit()
        click.echo(f"recomputed; {len(diffs)} row(s) corrected ({elapsed:.2f} s)")


def init_cli(app: Flask) -> None:
    for group in (bank_cli, users_cli, attempts_cli, demo_cli, contest_cli, report_cli, standings_cli):
        app.cli.add_command(group)
    _init_db_cli(app)


def _init_db_cli(app: Flask) -> None:
    """`flask db backup PATH` / `flask db restore PATH`, next to Flask-Migrate's commands."""
    group = app.cli.commands.get("db")
    if group is None:
        return

    @group.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False))
    def db_backup(path: str) -> None:
        """Copy the database to PATH: SQLite online backup, or pg_dump (custom format)."""
        size = backup(path)
        click.echo(f"backup written to {path} ({size} bytes)")

    @group.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--yes", is_flag=True, help="Confirm replacing the current data.")
    def db_restore(path: str, yes: bool) -> None:
        """Replace the database's data with a backup made by `db backup`."""
        if not yes:
            raise click.ClickException("restoring replaces every row of the database: add --yes")
        restore(path)
        click.echo(f"restored from {path}")
