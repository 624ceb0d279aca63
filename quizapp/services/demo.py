"""Demo data for trying the app. Every name is invented; the sizes match the outline
(42 affiliated branches, 1,886 members). Never run by migrations."""
from __future__ import annotations

import random

from sqlalchemy import func, insert, select

from ..extensions import db
from ..models import User
from .users import create_unit, create_user

WARD_CODE = "tay-mo"
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
    ward = create_unit(WARD_CODE, "Đảng bộ phường Tây Mỗ (dữ liệu mẫu)", kind="committee")
    branches = []
    for n in range(1, BRANCH_COUNT + 1):
        name = f"Chi bộ Tổ dân phố số {n} (mẫu)" if n <= 30 else f"Chi bộ cơ quan, trường học số {n - 30} (mẫu)"
        branches.append(create_unit(f"cb-{n:02d}", name, parent=ward, position=n))
    sizes = branch_sizes(rng)
    for username, role, password in DEMO_ACCOUNTS:
        unit = ward if role in ("admin", "organizer") else branches[0]
        name = {"admin": "Quản trị hệ thống", "organizer": "Ban Tổ chức cuộc thi",
                "secretary": "Bí thư Chi bộ số 1 (mẫu)",
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
