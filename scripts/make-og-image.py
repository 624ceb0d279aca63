"""Draws static/og-image.png, the picture Zalo and Facebook show beside a shared link
(1200 × 630, the Open Graph size). Run once by hand when the wording changes
(`.venv/bin/python scripts/make-og-image.py`); the PNG is committed, nothing is drawn or
fetched at run time. Needs Pillow and the DejaVu fonts (Debian: fonts-dejavu-core)."""
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630
RED, DARK, YELLOW, WHITE = (179, 38, 30), (140, 29, 23), (255, 221, 0), (255, 255, 255)
FONTS = Path("/usr/share/fonts/truetype/dejavu")
OUT = Path(__file__).resolve().parent.parent / "static" / "og-image.png"


def star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        angle = -math.pi / 2 + i * math.pi / 5
        radius = r if i % 2 == 0 else r * 0.382
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=YELLOW)


def main() -> None:
    image = Image.new("RGB", (WIDTH, HEIGHT), RED)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, HEIGHT - 90, WIDTH, HEIGHT], fill=DARK)
    star(draw, 170, 250, 110)
    bold = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 76)
    text = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 40)
    small = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 34)
    draw.text((330, 150), "Học tập", font=bold, fill=WHITE)
    draw.text((330, 240), "Nghị quyết", font=bold, fill=YELLOW)
    draw.text((330, 350), "Thi tìm hiểu trực tuyến", font=text, fill=WHITE)
    draw.text((330, 400), "trên điện thoại", font=text, fill=WHITE)
    draw.text((60, HEIGHT - 68), "Đảng bộ phường Tây Mỗ", font=small, fill=WHITE)
    image.save(OUT, optimize=True)


if __name__ == "__main__":
    main()
