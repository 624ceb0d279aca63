"""quizapp: study a Party resolution and run the emulation contest around it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from . import db_setup
from .api import bp as api_bp
from .auth import bp as auth_bp
from .auth.session import configure_login
from .branch import bp as branch_bp
from .cli import init_cli
from .config import load_config
from .contest import bp as contest_bp
from .editor import bp as editor_bp
from .errors import init_errors
from .extensions import compress, csrf, db, limiter, login_manager, migrate
from .hardening import init_hardening, init_id_converter
from .i18n import init_babel
from .main import bp as main_bp
from .meeting import bp as meeting_bp
from .organize import bp as organize_bp
from .quiz import bp as quiz_bp
from .review import bp as review_bp
from .services import branches, contests
from .study import bp as study_bp
from .templating import init_templating
from .transaction import TransactionalFlask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    # TransactionalFlask: one commit per request, in one place (transaction.py).
    app = TransactionalFlask(__name__, template_folder="../templates", static_folder="../static",
                             instance_relative_config=True)
    app.config.update(load_config(app.instance_path, config))
    register_instance_folder(app)
    register_extensions(app)
    register_i18n(app)
    init_id_converter(app)
    register_service_hooks(app)
    register_blueprints(app)
    register_errors(app)
    register_hardening(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def register_instance_folder(app: Flask) -> None:
    os.makedirs(app.instance_path, exist_ok=True)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    db_setup.configure_engine(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    configure_login(login_manager)


def register_i18n(app: Flask) -> None:
    init_babel(app)


def register_service_hooks(app: Flask) -> None:
    """Connect the engine's hooks (attempts → contests' answer key; attempts and contests
    → branches' counters). Process-wide and idempotent: a second app changes nothing."""
    contests.connect_hooks()
    branches.connect_hooks()


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(study_bp)
    app.register_blueprint(quiz_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(contest_bp)
    app.register_blueprint(organize_bp)
    app.register_blueprint(branch_bp)
    app.register_blueprint(editor_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(meeting_bp)


def register_errors(app: Flask) -> None:
    init_errors(app)


def register_hardening(app: Flask) -> None:
    init_hardening(app)


def register_template_helpers(app: Flask) -> None:
    init_templating(app)


def register_cli(app: Flask) -> None:
    init_cli(app)
