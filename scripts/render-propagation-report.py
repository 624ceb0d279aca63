"""Renders the first page of the propagation report (.docx) to PNG for the docs:
docs/screenshots/propagation-report-ward.png (the ward's, as the organizers download
it) and propagation-report-branch.png (one branch's, as its secretary does), from the
demo data (invented names) in a temporary database.

A manual step, not part of `make test`: it needs LibreOffice to lay the page out and
poppler's pdftoppm to draw it (Debian: `apt-get install --no-install-recommends
libreoffice-writer-nogui fonts-liberation2 poppler-utils`; Liberation Serif stands in
for Times New Roman, with the same metrics). Run:
`.venv/bin/python scripts/render-propagation-report.py [out-dir]`.
"""
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quizapp import create_app  # noqa: E402
from quizapp.extensions import db  # noqa: E402
from quizapp.models import Contest, User  # noqa: E402
from quizapp.services import demo  # noqa: E402
from quizapp.services.bank import import_bank, read_bank  # noqa: E402

WIDTH = 820          # px of the PNG: an A4 page legible on a screen
MAX_BYTES = 150 * 1024


def reports(folder: Path) -> dict[str, Path]:
    """The ward's and a branch's report, as downloaded, written into `folder`."""
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "REDIS_URL": None,
                      "SECRET_KEY": "render-propagation-report-0123456789",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite3'}",
                      "LOGIN_RATE_LIMIT": "1000 per minute",
                      "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute"})
    with app.app_context():
        db.create_all()
        import_bank(read_bank(ROOT / "questions"))
        demo.seed()
        demo.seed_contest()
        db.session.commit()
        contest_id = db.session.execute(select(Contest.id)).scalar_one()
        unit_id = db.session.execute(select(User.unit_id).where(User.username == "bithu01")).scalar_one()
    out = {}
    for name, username, url in [
            ("ward", "bantochuc", f"/branches/propagation.docx?contest={contest_id}"),
            ("branch", "bithu01", f"/branch/{unit_id}/propagation.docx?contest={contest_id}")]:
        client = app.test_client()
        login = client.post("/login", data={"login": username, "password": demo.DEMO_PASSWORD})
        assert login.status_code == 302, login.status_code
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        path = folder / f"{name}.docx"
        path.write_bytes(response.data)
        out[name] = path
    return out


def first_page_png(docx: Path) -> Image.Image:
    """The document laid out by LibreOffice (PDF), its first page drawn by pdftoppm."""
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(docx.parent),
                    str(docx)], check=True, capture_output=True, timeout=300)
    stem = docx.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
                    str(docx.with_suffix(".pdf")), str(stem)], check=True, capture_output=True, timeout=120)
    image = Image.open(stem.with_suffix(".png")).convert("RGB")
    height = round(image.height * WIDTH / image.width)
    return image.resize((WIDTH, height), Image.Resampling.LANCZOS)


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    missing = [tool for tool in ("soffice", "pdftoppm") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"not installed: {', '.join(missing)} (see this script's docstring)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, docx in reports(Path(tmp)).items():
            page = first_page_png(docx)
            small = page.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            buffer = io.BytesIO()
            small.save(buffer, format="PNG", optimize=True)
            assert len(buffer.getvalue()) <= MAX_BYTES, (name, len(buffer.getvalue()))
            path = target / f"propagation-report-{name}.png"
            path.write_bytes(buffer.getvalue())
            print(f"{path} ({len(buffer.getvalue()) // 1024} KB)")


if __name__ == "__main__":
    main()
