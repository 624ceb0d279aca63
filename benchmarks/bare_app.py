"""The ceiling of `autosave.py`: a bare Flask app with one route, served by the same
gunicorn with the same workers as the app. `GET /healthz` answers what the app's own
/healthz answers, without any of the app's hooks (session, CSRF, locale, login, rate
limits, security headers, request log). Only the benchmarks import it:
`gunicorn --pythonpath benchmarks bare_app:app`."""
from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
