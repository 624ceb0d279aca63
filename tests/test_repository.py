"""The repository stands alone and its README tells the truth: every command README
shows exists with the options and values it shows, every variable the code reads is in
README's configuration table, every `make` target named or declared has a rule, the
test tools are listed in requirements-dev.txt, nothing refers outside the repository,
and a skip under CI=true fails the run."""
from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"
SKIP_DIRS = {".git", ".venv", "__pycache__", "instance", "node_modules", "artifacts", "out"}


def _section(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no '## {heading}' section"
    return match.group(1)


# ---------------------------------------------------------------- README's commands

def _readme_commands() -> list[str]:
    """Each command of README's "Commands" block, without its comment; `a ; b` is two."""
    block = re.search(r"```sh\n(.*?)```", _section("Commands"), re.S)
    assert block, "README's Commands section has no ```sh block"
    commands = []
    for line in block.group(1).splitlines():
        line = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
        commands += [part.strip() for part in line.split(" ; ") if part.strip()]
    return commands


def _command_paths(words: list[str], group: click.Group) -> tuple[list[list[str]], list[str]]:
    """The command paths the words name (`import|export` is two) and the words left."""
    paths: list[list[str]] = [[]]
    rest = list(words)
    current: list[click.Command] = [group]
    while rest and all(isinstance(c, click.Group) for c in current):
        names = rest.pop(0).split("|")
        found = []
        for path, command in zip(paths, current):
            for name in names:
                assert name in command.commands, \
                    f"README names `{' '.join(path + [name])}`, which is not a command"
                found.append((path + [name], command.commands[name]))
        paths = [p for p, _ in found]
        current = [c for _, c in found]
    return paths, rest


def _resolve(path: list[str], group: click.Group) -> click.Command:
    command: click.Command = group
    for name in path:
        command = command.commands[name]
    return command


def _check_usage(path: list[str], command: click.Command, words: list[str]) -> list[str]:
    """What README shows that the command does not take: options, choice values, and
    more positional arguments than it has."""
    shown = " ".join(path)
    problems = []
    options = {opt: param for param in command.params if isinstance(param, click.Option)
               for opt in param.opts + param.secondary_opts}
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    positional = 0
    tokens = [t.strip("[]") for t in words]
    i = 0
    while i < len(tokens):
        alternatives = tokens[i].split("|")
        i += 1
        flags = [a for a in alternatives if a.startswith("--")]
        if not flags:
            positional += 1
            continue
        for flag in flags:
            param = options.get(flag)
            if param is None:
                problems.append(f"`{shown}` has no option {flag}")
                continue
            if param.is_flag:
                continue
            if i < len(tokens) and not tokens[i].startswith("--"):
                values = tokens[i].split("|")
                i += 1
                if isinstance(param.type, click.Choice):
                    problems += [f"`{shown} {flag}` does not accept {value!r}"
                                 for value in values if value not in param.type.choices]
    if positional > len(arguments):
        problems.append(f"`{shown}` takes {len(arguments)} argument(s); README shows {positional}")
    return problems


def test_readme_lists_commands_to_check():
    commands = _readme_commands()
    assert len(commands) >= 10, commands
    assert all(c.startswith("flask --app quizapp ") for c in commands), commands


@pytest.mark.parametrize("line", _readme_commands())
def test_every_readme_command_exists_with_the_options_it_shows(app, line):
    words = line.split()[3:]  # after `flask --app quizapp`
    paths, rest = _command_paths(words, app.cli)
    runner = app.test_cli_runner()
    problems = []
    for path in paths:
        result = runner.invoke(args=[*path, "--help"])
        assert result.exit_code == 0, f"`flask --app quizapp {' '.join(path)} --help`:\n{result.output}"
        problems += _check_usage(path, _resolve(path, app.cli), rest)
    assert problems == [], f"README: {line}"


@pytest.mark.slow
def test_readme_try_it_runs_on_a_fresh_database_and_again(tmp_path):
    """The "Try it" walk as a new user types it, on a scratch SQLite database: what
    `make run` does (migrate, import, seed if empty; here without the demo contest, which
    takes a minute), then README's `demo seed`."""
    env = {k: v for k, v in os.environ.items() if k not in ("QUIZAPP_ENV", "REDIS_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'try.sqlite3'}"
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "quizapp"]
    try_it = re.search(r"`(flask --app quizapp demo seed[^`]*)`", _section("Try it"))
    assert try_it, "README's Try it names no `flask --app quizapp demo seed`"
    steps = [["db", "upgrade"], ["bank", "import"], ["demo", "seed", "--if-empty", "--without-contest"],
             try_it.group(1).split()[3:]]
    for args in steps:
        done = subprocess.run(flask + args, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "already seeded" in done.stdout


# ---------------------------------------------------------------- Makefile

def _make_rules() -> set[str]:
    text = MAKEFILE.read_text(encoding="utf-8")
    return {name for line in text.splitlines()
            for name in re.findall(r"^([A-Za-z][\w.-]*(?:\s+[A-Za-z][\w.-]*)*)\s*:(?!=)", line)
            for name in name.split()}


def _phony() -> set[str]:
    text = MAKEFILE.read_text(encoding="utf-8")
    return {name for line in re.findall(r"^\.PHONY:(.*)$", text, re.M) for name in line.split()}


def test_every_phony_target_has_a_rule():
    missing = sorted(_phony() - _make_rules())
    assert missing == [], f"declared .PHONY without a rule: {missing}"


def test_every_make_target_readme_names_has_a_rule():
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", README.read_text(encoding="utf-8")))
    assert {"run", "test"} <= named
    assert sorted(named - _make_rules()) == []


def _make_n(*args: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    environ.update(env)
    done = subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_test_runs_test_sqlite_then_test_postgres():
    sqlite = _make_n("test-sqlite")
    assert re.search(r"-m pytest -q -rs\s*$", sqlite, re.M), sqlite
    postgres = _make_n("test-postgres", TEST_DATABASE_URL="postgresql://u@127.0.0.1:1/x")
    assert re.search(r"-m pytest -q -rs --db=postgresql\s*$", postgres, re.M), postgres
    both = _make_n("test", TEST_DATABASE_URL="postgresql://u@127.0.0.1:1/x")
    assert both.index("pytest -q -rs\n") < both.index("--db=postgresql"), both
    assert "--db=postgresql" not in _make_n("test")


def test_make_serve_has_a_control_socket_of_its_own_per_port():
    first, second = _make_n("serve", PORT="5101"), _make_n("serve", PORT="5102")
    sockets = [re.search(r"--control-socket (\S+)", out) for out in (first, second)]
    assert all(sockets), first
    paths = [m.group(1) for m in sockets]
    assert paths[0] != paths[1] and "5101" in paths[0], paths
    assert not any(p.startswith(str(Path.home() / ".gunicorn")) for p in paths), paths


# ---------------------------------------------------------------- configuration table

def _environ_keys(path: Path) -> set[str]:
    """Names read from the environment in a Python file: environ["X"], environ.get("X"),
    "X" in environ, os.getenv("X")."""
    keys = set()

    def is_environ(node) -> bool:
        return (isinstance(node, ast.Name) and node.id in ("environ", "os_environ")) or \
            (isinstance(node, ast.Attribute) and node.attr == "environ")

    def const(node):
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Subscript) and is_environ(node.value) and const(node.slice):
            keys.add(const(node.slice))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.args and const(node.args[0]) and (
                    (node.func.attr in ("get", "pop", "setdefault") and is_environ(node.func.value))
                    or (node.func.attr == "getenv")):
                keys.add(const(node.args[0]))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 \
                and isinstance(node.ops[0], (ast.In, ast.NotIn)) and is_environ(node.comparators[0]) \
                and const(node.left):
            keys.add(const(node.left))
    return keys


def _variables_read() -> dict[str, str]:
    """Every environment variable the app, the tests or the Makefile read → where."""
    found: dict[str, str] = {}
    for top in ("quizapp", "tests"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for key in _environ_keys(path):
                found.setdefault(key, str(path.relative_to(ROOT)))
    makefile = MAKEFILE.read_text(encoding="utf-8")
    for key in re.findall(r"^([A-Z][A-Z0-9_]*)\s*\?=", makefile, re.M):
        found.setdefault(key, "Makefile")
    for key in re.findall(r"\$\$\{([A-Z][A-Z0-9_]*)", makefile):
        found.setdefault(key, "Makefile")
    # Only the process's own plumbing, not settings of this project.
    for key in ("PATH", "HOME", "PYTHONUNBUFFERED", "PGPASSWORD"):
        found.pop(key, None)
    return found


def _variables_documented() -> set[str]:
    rows = [line for line in _section("Configuration (environment)").splitlines()
            if line.startswith("|") and not line.startswith("| ---")]
    names = set()
    for row in rows[1:]:
        first_cell = row.split("|")[1]
        names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_the_configuration_table_lists_every_variable_that_is_read():
    read, documented = _variables_read(), _variables_documented()
    assert {"SECRET_KEY", "DATABASE_URL", "QUIZAPP_ENV"} <= set(read)  # the scan works
    missing = [f"{name} (read by {where})" for name, where in sorted(read.items())
               if name not in documented]
    assert missing == [], f"README's configuration table lacks: {', '.join(missing)}"


def test_the_configuration_table_lists_nothing_that_is_not_read():
    stale = sorted(_variables_documented() - set(_variables_read()))
    assert stale == [], f"README documents variables nothing reads: {stale}"


# ---------------------------------------------------------------- standing alone

def _repository_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            if not name.endswith((".pyc", ".mo", ".png", ".xlsx", ".sqlite3", ".dump")):
                yield Path(dirpath) / name


def test_nothing_refers_to_files_outside_the_repository():
    outside = re.compile(r"\.\./" + "shared" + r"\b|/work/" + "shared")
    offenders = [str(p.relative_to(ROOT)) for p in _repository_files()
                 if outside.search(p.read_text(encoding="utf-8", errors="replace"))]
    assert offenders == []


def test_the_bank_source_document_is_in_the_repository():
    source = ROOT / "questions" / "source"
    assert (source / "README.md").is_file()
    text = (source / "02-CV-DU-de-cuong-tuyen-truyen.txt").read_text(encoding="utf-8")
    assert text.count("\n") == 247 and "02 -CV/ĐU" in text and "ĐỀ CƯƠNG TUYÊN TRUYỀN" in text


def _third_party_imports(top: str) -> dict[str, str]:
    local = {"quizapp", "tests", "harness", "httpclient", "profile_summary"}
    found: dict[str, str] = {}
    for path in sorted((ROOT / top).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                if root not in sys.stdlib_module_names and root not in local:
                    found.setdefault(root, str(path.relative_to(ROOT)))
    return found


def _pinned(*files: str) -> set[str]:
    names = set()
    for name in files:
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==", line.strip())
            if match:
                names.add(match.group(1).lower().replace("_", "-"))
    return names


@pytest.mark.parametrize("top,files", [("quizapp", ("requirements.txt",)),
                                       ("tests", ("requirements.txt", "requirements-dev.txt")),
                                       ("benchmarks", ("requirements.txt", "requirements-dev.txt"))])
def test_every_imported_package_is_pinned_in_the_requirements(top, files):
    distributions = importlib.metadata.packages_distributions()
    pinned = _pinned(*files)
    missing = []
    for module, where in sorted(_third_party_imports(top).items()):
        dists = [d.lower().replace("_", "-") for d in distributions.get(module, [module])]
        if not any(d in pinned for d in dists):
            missing.append(f"{module} ({'/'.join(dists)}, imported by {where})")
    assert missing == [], f"not pinned in {' or '.join(files)}: {missing}"


# ---------------------------------------------------------------- skips under CI

PROBE = '''
import pytest

@pytest.mark.postgres_only
def test_on_postgres():
    pass

def test_a_service_is_missing():
    pytest.skip("no such service here")

def test_passes():
    pass
'''


def _probe(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    # Not the run's own pytest settings (make's PYTEST_ADDOPTS, an xdist worker's name).
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("PYTEST_")}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path / "test_probe.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_skip_fails_the_run_under_ci(tmp_path):
    done = _probe(tmp_path, "true")
    assert done.returncode == 1, done.stdout
    assert "skipped under CI=true" in done.stdout and "no such service here" in done.stdout
    assert re.search(r"1 failed, 1 passed, 1 deselected", done.stdout), done.stdout
    assert "deselected 1 PostgreSQL-only test(s)" in done.stdout


def test_outside_ci_a_skip_is_reported_as_a_skip(tmp_path):
    done = _probe(tmp_path, None)
    assert done.returncode == 0, done.stdout
    assert re.search(r"1 passed, 1 skipped, 1 deselected", done.stdout), done.stdout
    assert "SKIPPED" in done.stdout and "no such service here" in done.stdout
