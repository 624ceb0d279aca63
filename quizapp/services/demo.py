"""Demo data for trying the app. Every name is invented; the sizes match the outline
(42 affiliated branches, 1,886 members). Never run by migrations."""
from __future__ import annotations

import random

from sqlalchemy import func, insert, select

from ..extensions import db
from ..models import User
from .users import create_unit, create_user

WARD_CODE = "tay-mo"
WARD_NAME = "Đảng bộ phường Tây Mỗ (dữ liệu mẫu)"
BRANCH_COUNT = 42
MEMBER_TOTAL = 1886
DEMO_PASSWORD = "demo-tay-mo-2025"
DEMO_ACCOUNTS = [
    ("admin", "admin", DEMO_PASSWORD),
    ("bantochuc", "organizer", DEMO_PASSWORD),
    ("bithu01", "secretary", DEMO_PASSWORD),
    ("dangvien01", "member", DEMO_PASSWORD),
]

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
           "Dương", "Lý", "Phan", "Trịnh", "Đinh", "Lương", "Tạ", "Kiều", "Chu"]
_MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Quang", "Hồng", "Ngọc", "Thanh", "Xuân",
           "Hữu", "Kim", "Bảo", "Anh", "Thế", "Diệu"]
_GIVEN = ["An", "Anh", "Bình", "Chi", "Cường", "Dung", "Dũng", "Giang", "Hà", "Hải", "Hạnh",
          "Hiếu", "Hoa", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Minh", "Nam",
          "Nga", "Ngọc", "Phong", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Thắng",
          "Trang", "Trung", "Tuấn", "Uyên", "Vân", "Việt", "Yến", "Đạt"]


def has_users() -> bool:
    return (db.session.scalar(select(func.count()).select_from(User)) or 0) > 0


def is_seeded() -> bool:
    """The demo's ward (its code and its "sample data" name) exists: `seed` has run on
    this database. A real ward with the same code is not the demo (see `clashes`)."""
    from ..models import Unit
    return db.session.scalar(select(func.count()).select_from(Unit).where(
        Unit.code == WARD_CODE, Unit.name == WARD_NAME)) > 0


def clashes() -> list[str]:
    """Unit codes and usernames `seed` would create that the database already holds
    (without the demo ward: someone else's data). Empty when `seed` can run."""
    from ..models import Unit
    codes = [WARD_CODE] + [f"cb-{n:02d}" for n in range(1, BRANCH_COUNT + 1)]
    usernames = [name for name, _role, _pw in DEMO_ACCOUNTS]
    usernames += [f"dv{n:04d}" for n in range(1, MEMBER_TOTAL + 1)]
    found = list(db.session.execute(select(Unit.code).where(Unit.code.in_(codes))).scalars())
    found += db.session.execute(select(User.username).where(User.username.in_(usernames))).scalars()
    return sorted(found)


def branch_sizes(rng: random.Random) -> list[int]:
    """42 roster sizes between 20 and 80 that add up to exactly 1,886."""
    sizes = [rng.randint(25, 65) for _ in range(BRANCH_COUNT)]
    diff = MEMBER_TOTAL - sum(sizes)
    i = 0
    while diff:
        step = 1 if diff > 0 else -1
        if 20 <= sizes[i % BRANCH_COUNT] + step <= 80:
            sizes[i % BRANCH_COUNT] += step
            diff -= step
        i += 1
    return sizes


def seed(rng_seed: int = 2025) -> dict[str, int]:
    """Create the ward, its 42 branches and 1,886 members. The demo accounts (one per
    role, password DEMO_PASSWORD) are among them; other members have no password yet,
    as on a real roster before first login."""
    rng = random.Random(rng_seed)
    ward = create_unit(WARD_CODE, WARD_NAME, kind="committee")
    branches = []
    for n in range(1, BRANCH_COUNT + 1):
        name = f"Chi bộ TDP số {n}" if n <= 30 else f"Chi bộ cơ quan số {n - 30}"
        branches.append(create_unit(f"cb-{n:02d}", name, parent=ward, position=n))
    sizes = branch_sizes(rng)
    for username, role, password in DEMO_ACCOUNTS:
        unit = ward if role in ("admin", "organizer") else branches[0]
        name = {"admin": "Quản trị hệ thống", "organizer": "Ban Tổ chức cuộc thi",
                "secretary": "Bí thư Chi bộ TDP số 1 (mẫu)",
                "member": "Đảng viên Mẫu Một"}[role]
        create_user(username, name, unit, role=role, password=password)
    rows = []
    counter = 0
    for branch, size in zip(branches, sizes):
        # The demo secretary and member count towards branch 1's roster.
        own = size - (2 if branch is branches[0] else 0)
        for _ in range(own):
            counter += 1
            rows.append({
                "username": f"dv{counter:04d}",
                "phone": f"09{rng.randint(0, 99999999):08d}" if rng.random() < 0.8 else None,
                "full_name": f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}",
                "role": "member", "unit_id": branch.id, "active": True, "session_version": 1,
            })
    # Phones must stay unique: drop collisions rather than fail.
    seen: set[str] = set()
    for row in rows:
        if row["phone"] in seen:
            row["phone"] = None
        elif row["phone"]:
            seen.add(row["phone"])
    from ..clock import utcnow
    now = utcnow()
    for row in rows:
        row["created_at"] = now
    db.session.execute(insert(User), rows)
    db.session.flush()
    from .counters import refresh_rosters
    refresh_rosters([ward.id] + [b.id for b in branches])
    return {"units": 1 + len(branches), "members": len(rows) + 2}


def seed_contest(rng_seed: int = 7, share: float = 0.35) -> dict[str, int]:
    """A demo contest: round 1 closed yesterday, taken by about `share` of each branch
    with invented answers; round 2 open for a week. Uses the real services with the
    clock moved back, so every counter is maintained as in real use."""
    from datetime import timedelta

    from .. import clock
    from ..models import Unit
    from . import attempts, contest
    rng = random.Random(rng_seed)
    organizer = db.session.execute(select(User).where(User.role == "organizer")).scalars().first()
    if organizer is None:
        raise ValueError("run the demo seed first")
    real_now = clock.utcnow()
    start = real_now - timedelta(days=2)
    the_contest = contest.create_contest(
        organizer, "Cuộc thi trắc nghiệm tìm hiểu Nghị quyết Đại hội (mẫu)",
        "Mỗi vòng 20 câu hỏi trong 20 phút. Xếp hạng theo điểm, rồi câu hỏi dự đoán, rồi thời gian.", [])
    first = contest.create_round(organizer, the_contest, contest.RoundSettings(
        title="Vòng 1", opens_at=start, closes_at=start + timedelta(days=1), time_limit_minutes=20,
        question_count=20, draw_plan="viewpoints: 1 each\nbreakthroughs: 1 each\nkey-tasks: 1 each\ntargets: rest",
        prediction_kind="participants", results_visibility="at_close"))
    second = contest.create_round(organizer, the_contest, contest.RoundSettings(
        title="Vòng 2", opens_at=real_now - timedelta(hours=1), closes_at=real_now + timedelta(days=7),
        time_limit_minutes=20, question_count=20, prediction_kind="full_scores",
        results_visibility="at_close"))
    members = db.session.execute(select(User).where(User.role == "member")).scalars().all()
    branch_skill = {u.id: rng.uniform(0.45, 0.9) for u in db.session.execute(select(Unit)).scalars()}
    branch_share = {uid: min(0.95, max(0.1, rng.gauss(share, 0.18))) for uid in branch_skill}
    taken = 0
    try:
        clock.set_clock(lambda: start)
        contest.schedule(organizer, first)
        contest.schedule(organizer, second)
        for member in members:
            if rng.random() > branch_share[member.unit_id]:
                continue
            moment = start + timedelta(minutes=rng.randint(5, 23 * 60))
            clock.set_clock(lambda m=moment: m)
            attempt = contest.start_round_attempt(member, first, rng)
            contest.set_prediction(attempt, rng.randint(500, 1500))
            skill = branch_skill[member.unit_id]
            answers = {}
            for item in attempt.items:
                choices = item.question.choices
                right = [c.id for c in choices if c.is_correct]
                pick = right if rng.random() < skill else [rng.choice([c.id for c in choices])]
                answers[item.question_id] = pick if item.question.kind == "multiple" else pick[:1]
            attempts.save_answers(attempt, answers)
            clock.set_clock(lambda m=moment + timedelta(seconds=rng.randint(240, 1150)): m)
            attempts.finish(attempt)
            taken += 1
    finally:
        clock.reset_clock()
    contest.refresh_prediction_actual(first)
    db.session.flush()
    return {"contest": the_contest.id, "attempts": taken}
