"""quizapp: study a Party resolution and run the emulation contest around it."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=True)
    from .config import load_config
    app.config.update(load_config(app.instance_path, config))
    register_instance_folder(app)
    register_extensions(app)
    register_i18n(app)
    from .hardening import init_id_converter
    init_id_converter(app)
    register_blueprints(app)
    register_errors(app)
    register_hardening(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def register_instance_folder(app: Flask) -> None:
    import os
    os.makedirs(app.instance_path, exist_ok=True)


def register_extensions(app: Flask) -> None:
    from .extensions import compress, csrf, db, limiter, login_manager, migrate
    from . import db_setup
    db.init_app(app)
    db_setup.configure_engine(app)
    migrate.init_app(app, db, directory=str(__import__("pathlib").Path(__file__).parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from .auth.session import configure_login
    configure_login(login_manager)


def register_i18n(app: Flask) -> None:
    from .i18n import init_babel
    init_babel(app)


def register_blueprints(app: Flask) -> None:
    from .auth import bp as auth_bp
    from .main import bp as main_bp
    from .quiz import bp as quiz_bp
    from .study import bp as study_bp
    from .api import bp as api_bp
    from .branch import bp as branch_bp
    from .contest import bp as contest_bp
    from .editor import bp as editor_bp
    from .organize import bp as organize_bp
    from .review import bp as review_bp
    from .meeting import bp as meeting_bp
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
    from .errors import init_errors
    init_errors(app)


def register_hardening(app: Flask) -> None:
    from .hardening import init_hardening
    init_hardening(app)


def register_template_helpers(app: Flask) -> None:
    from .templating import init_templating
    init_templating(app)


def register_cli(app: Flask) -> None:
    from .cli import init_cli
    init_cli(app)
