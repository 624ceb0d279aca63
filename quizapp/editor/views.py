"""The question bank editor (organizers): browse, search, edit, coverage, formats."""
import json
import os
import secrets
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..branch.views import _upload_dir as shared
from ..extensions import db
from ..forms import EmptyForm
from ..hardening import bounded_int
from ..models import Section
from ..policy import role_required
from ..services import bank as bank_service
from ..services.bank import credit_to_fraction, draft_store as drafting, editor, formats, fraction_to_credit
from ..services.bank.formats import xlsx as xlsx_format
from ..services.bank.messages import localized
from ..services.contests import sealing
from ..services.errors import DomainError
from ..services.people import audit
from ..services.people.audit import action_label
from .forms import CoverageForm, ImportForm, OutlineUploadForm, QuestionForm

bp = Blueprint("editor", __name__, url_prefix="/organize/bank")


@bp.before_request
@role_required("organizer")
def _organizers_only():
    """The bank is kept by organizers and admins."""


def _sections() -> list[Section]:
    return list(db.session.execute(select(Section).order_by(Section.position)).scalars())


def _section_choices(blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(s.key, ("— " * s.depth) + s.title) for s in _sections()]
    return ([SelectChoice("", blank)] if blank is not None else []) + choices


@bp.get("/")
def index():
    args = request.args
    page = max(1, args.get("page", 1, type=bounded_int))
    questions, total = editor.search(args.get("q", ""), args.get("section", ""), args.get("kind", ""),
                                     args.get("status", ""), args.get("flag", ""), page)
    return render_template("editor/index.html", questions=questions, total=total, page=page,
                           pages=max(1, -(-total // editor.PAGE_SIZE)), sections=_sections(),
                           flags=editor.FLAG_NAMES, args=args, form=EmptyForm())


def _fill_form(form: QuestionForm, question) -> None:
    form.key.data = question.key
    form.section.data = question.section.key
    form.kind.data = question.kind
    form.difficulty.data = question.difficulty
    form.status.data = question.status
    form.reserve.data = question.reserve
    form.prompt.data = question.prompt
    form.explanation.data = question.explanation
    form.covers.data = question.covers.replace(",", ", ")
    form.purpose.data = question.purpose or ""
    form.excludes.data = (question.excludes or "").replace(",", ", ")
    for entry, choice in zip(form.choices.entries, question.choices):
        entry.form.text.data = choice.text
        entry.form.correct.data = choice.is_correct
        entry.form.credit.data = "" if choice.fraction is None else fraction_to_credit(choice.fraction)


def _data_from(form: QuestionForm):
    return editor.form_data(
        form.key.data or "", form.section.data, form.kind.data, form.difficulty.data, form.status.data,
        form.prompt.data or "", form.explanation.data or "",
        [(e.form.text.data or "", e.form.correct.data, credit_to_fraction(e.form.credit.data or ""))
         for e in form.choices.entries],
        [c.strip() for c in (form.covers.data or "").split(",") if c.strip()],
        purpose=form.purpose.data or "", excludes=(form.excludes.data or "").split(","),
        reserve=bool(form.reserve.data))


def _flash_lint_warnings(data) -> None:
    for warning in editor.lint(data)[1]:
        flash(warning, "warning")


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = QuestionForm()
    form.section.choices = _section_choices()
    if not form.is_submitted():
        form.section.data = request.args.get("section") or None
        form.status.data = "draft"
    if form.validate_on_submit():
        data = _data_from(form)
        try:
            question = editor.save(current_user, data)
        except DomainError as exc:
            db.session.rollback()
            form.prompt.errors = list(form.prompt.errors) + [exc.message]
        else:
            flash(_("Question saved."), "success")
            _flash_lint_warnings(data)
            return redirect(url_for("editor.detail", key=question.key))
    return render_template("editor/form.html", form=form, question=None)


@bp.route("/q/<key>/edit", methods=["GET", "POST"])
def edit(key: str):
    question = editor.get_current(key)
    form = QuestionForm()
    form.section.choices = _section_choices()
    while len(form.choices.entries) < len(question.choices):
        form.choices.append_entry()
    if not form.is_submitted():
        _fill_form(form, question)
    if form.validate_on_submit():
        data = _data_from(form)
        try:
            saved = editor.save(current_user, data, original_key=key)
        except DomainError as exc:
            db.session.rollback()
            form.prompt.errors = list(form.prompt.errors) + [exc.message]
        else:
            flash(_("Saved as version %(v)d.", v=saved.version) if saved.version > question.version
                  else _("Question saved."), "success")
            _flash_lint_warnings(data)
            return redirect(url_for("editor.detail", key=key))
    return render_template("editor/form.html", form=form, question=question)


@bp.get("/q/<key>")
def detail(key: str):
    question = editor.get_current(key)
    versions, log = editor.history(key)
    return render_template("editor/detail.html", question=question, versions=versions, log=log,
                           form=EmptyForm(), transitions=sorted(editor.TRANSITIONS[question.status]),
                           action_label=action_label)


@bp.post("/q/<key>/status/<any(draft, approved, retired):status>")
def set_status(key: str, status: str):
    question = editor.get_current(key)
    if not EmptyForm().validate_on_submit():
        abort(400)
    editor.set_status(current_user, question, status)
    flash(_("Status changed."), "success")
    return redirect(request.form.get("back") if request.form.get("back", "").startswith("/organize/bank")
                    else url_for("editor.detail", key=key))


@bp.post("/q/<key>/duplicate")
def duplicate(key: str):
    question = editor.get_current(key)
    if not EmptyForm().validate_on_submit():
        abort(400)
    copy = editor.duplicate(current_user, question)
    flash(_("Copied as a draft: %(key)s.", key=copy.key), "success")
    return redirect(url_for("editor.edit", key=copy.key))


@bp.get("/coverage")
def coverage():
    form = CoverageForm(request.args)
    minimum = form.minimum.data if form.validate() and form.minimum.data is not None else 2
    rows = editor.coverage()
    return render_template("editor/coverage.html", rows=rows, minimum=minimum, form=form,
                           mix=editor.purpose_mix(rows), purposes=editor.PURPOSE_COLUMNS,
                           purpose_label=editor.purpose_label, notice=sealing.practice_notice())


@bp.post("/flags")
def refresh_flags():
    if not EmptyForm().validate_on_submit():
        abort(400)
    flagged = editor.refresh_flags()
    flash(_("Quality flags recomputed: %(n)d questions flagged.", n=flagged), "success")
    return redirect(url_for("editor.index"))


# ---------------------------------------------------------------- formats

def _upload_dir() -> Path:
    return shared()


# An import's body: the file at the formats' size limit (which admits our own export of a
# bank at the question limit), plus the form's other fields and the multipart framing.
IMPORT_MAX_BODY = formats.MAX_BYTES + 256 * 1024


@bp.url_value_preprocessor
def _import_body_limit(endpoint, _values):
    """The upload page admits a file as large as the CLI does (formats.MAX_BYTES), not just
    the app's MAX_CONTENT_LENGTH. Set before any before_request reads the body (CSRF)."""
    if endpoint == "editor.import_file":
        request.max_content_length = max(IMPORT_MAX_BODY, current_app.config["MAX_CONTENT_LENGTH"] or 0)


@bp.errorhandler(413)
def _upload_too_large(_exc):
    """A question file over the limit: the import page again, saying the limit, never a
    bare error page."""
    db.session.rollback()
    form = ImportForm(formdata=None)
    form.section.choices = _section_choices(blank=_("(none)"))
    flash(_("The file is larger than %(n)d MiB, the limit for a question file: split it into "
            "several files and import them one by one.", n=formats.MAX_BYTES // 1024 // 1024), "error")
    return render_template("editor/import.html", form=form, result=None, token=None, fmt=None,
                           confirm=EmptyForm(formdata=None), pending=False, read=None, categories=[],
                           sections=_sections(), chosen={}), 413


def _parse(content: bytes, filename: str, fmt: str, section: str | None,
           chosen: dict[str, str] | None = None):
    name = formats.detect(filename, content) if fmt == "auto" else fmt
    if name not in formats.FORMATS:
        return None, name
    result = formats.FORMATS[name].parse(content, filename, section or None, category_sections=chosen)
    formats.lint_parsed(result, editor.forbidden_strings())
    return result, name


def _only_categories_missing(content: bytes, filename: str, name: str, section: str | None, result):
    """When the file's only errors go away once each category that names no section gets
    one (tried with the first section), that trial's result (the questions the import
    will hold): the preview then asks for the sections instead of listing errors. Else None."""
    if not result.errors or not result.unmatched_categories:
        return None
    first = next(iter(_sections()), None)
    if first is None:
        return None
    trial, _name = _parse(content, filename, name, section, {c: first.key for c in result.unmatched_categories})
    return trial if trial is not None and not trial.errors and trial.questions else None


def _chosen_sections(categories: list[str]) -> dict[str, str]:
    """The preview's picks, category → section key (unknown keys and blanks left out)."""
    keys = {s.key for s in _sections()}
    picks = {category: request.form.get(f"category-{n}", "") for n, category in enumerate(categories)}
    return {category: key for category, key in picks.items() if key in keys}


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    """Upload → preview (counts, first rows, warnings, the first errors with their
    line/row and how many more; a section to pick for each category that names none) →
    commit."""
    form = ImportForm()
    form.section.choices = _section_choices(blank=_("(none)"))
    result = token = name = trial = None
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read()
        result, name = _parse(content, upload.filename or "", form.format.data, form.section.data)
        if result is None:
            flash(_("Choose the format: it cannot be told from the file name."), "error")
        else:
            trial = _only_categories_missing(content, upload.filename or "", name, form.section.data, result)
        if result is not None and (trial or (not result.errors and result.questions)):
            # Kept inside instance/ under a random name until the organizer confirms.
            token = secrets.token_hex(16)
            (_upload_dir() / f"bank-{token}.bin").write_bytes(content)
            (_upload_dir() / f"bank-{token}.json").write_text(json.dumps(
                {"format": name, "section": form.section.data or None,
                 "filename": upload.filename or "", "categories": list(result.unmatched_categories)}))
    return render_template("editor/import.html", form=form, result=result, token=token, fmt=name,
                           confirm=EmptyForm(), pending=trial is not None, read=trial or result,
                           sections=_sections(), chosen={},
                           categories=list(result.unmatched_categories.items()) if result else [])


@bp.post("/import/<token>")
def import_commit(token: str):
    if not EmptyForm().validate_on_submit() or not (token.isalnum() and len(token) == 32):
        abort(400)
    data_path, meta_path = _upload_dir() / f"bank-{token}.bin", _upload_dir() / f"bank-{token}.json"
    if not data_path.exists() or not meta_path.exists():
        flash(_("That upload has expired; upload the file again."), "error")
        return redirect(url_for("editor.import_file"))
    meta = json.loads(meta_path.read_text())
    categories = meta.get("categories", [])
    chosen = _chosen_sections(categories)
    content = data_path.read_bytes()
    result, name = _parse(content, meta["filename"], meta["format"], meta["section"], chosen)
    if result is not None and result.errors and categories:
        # A category still without a section: the same preview, with what was picked.
        flash(_("Choose a section for every category that names none (or a section for "
                "questions that name none); nothing was imported."), "error")
        form = ImportForm(formdata=None)
        form.section.choices = _section_choices(blank=_("(none)"))
        first, _name = _parse(content, meta["filename"], meta["format"], meta["section"])
        return render_template("editor/import.html", form=form, result=first, token=token, fmt=name,
                               confirm=EmptyForm(), pending=True, read=result, sections=_sections(),
                               chosen=chosen, categories=list(first.unmatched_categories.items()))
    if result is None or result.errors:
        flash(_("The file has errors; nothing was imported."), "error")
        return redirect(url_for("editor.import_file"))
    try:
        outcome = bank_service.upsert_questions(result.questions)
    except bank_service.BankInvalid as exc:
        db.session.rollback()
        for error in exc.errors[:20]:
            flash(localized(error), "error")
        return redirect(url_for("editor.import_file"))
    audit.log(current_user, "bank.import", "bank", {"format": name, "created": outcome.created,
                                                     "updated": outcome.updated,
                                                     "new_versions": outcome.new_versions,
                                                     "categories": chosen})
    os.remove(data_path)
    os.remove(meta_path)
    flash(_("Imported: %(c)d new, %(u)d updated, %(v)d new versions, %(n)d unchanged.",
            c=outcome.created, u=outcome.updated, v=outcome.new_versions, n=outcome.unchanged), "success")
    return redirect(url_for("editor.index"))


@bp.get("/export.<any(yaml, gift, xml, aiken, xlsx):fmt>")
def export(fmt: str):
    content, _written, _left_out = formats.export_current(fmt)
    chosen = formats.FORMATS[fmt]
    return Response(content, mimetype=chosen.mimetype, headers={
        "Content-Disposition": f'attachment; filename="ngan-hang-cau-hoi.{chosen.extension}"'})


@bp.get("/template.xlsx")
def xlsx_template():
    return Response(xlsx_format.template(),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="mau-cau-hoi.xlsx"'})


# ---------------------------------------------------------------- drafts from an outline

@bp.get("/drafts")
def drafts():
    questions, total = editor.search(status="draft", page=request.args.get("page", 1, type=bounded_int))
    return render_template("editor/drafts.html", questions=questions, total=total,
                           upload=OutlineUploadForm(), form=EmptyForm())


@bp.post("/drafts/generate")
def generate_drafts():
    """Draft questions from the bundled outline or from an uploaded one (.yaml, .txt,
    .md, .docx). New sections of an uploaded outline are added to the outline; drafts
    whose key exists already are left as they are (an edited draft is never overwritten)."""
    form = OutlineUploadForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("editor.drafts"))
    try:
        if form.file.data:
            filename = form.file.data.filename or "outline"
            sections = drafting.namespaced(
                drafting.sections_from_upload(form.file.data.read(), filename), drafting.prefix_for(filename))
            contradictions: set[str] = set()  # the bundled list is the bundled outline's own
        else:
            sections = drafting.bundled_sections(current_app.config["BANK_PATH"])
            contradictions = drafting.bundled_contradictions(current_app.config["BANK_PATH"])
        outcome = drafting.store_drafts(current_user, sections, contradictions)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("editor.drafts"))
    flash(_("%(n)d new drafts (%(s)d already there were kept as they are).",
            n=outcome["created"], s=outcome["kept"]), "success")
    return redirect(url_for("editor.drafts"))
