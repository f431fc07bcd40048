"""Syllables for plausible village names of Điện Biên (Thái, H'Mông and Kinh naming styles)."""

from __future__ import annotations

import random
import unicodedata

# Thái place names pair a landscape word ("nà" rice field, "huổi" stream, "pá" forest...)
# with a second syllable.
THAI_FIRST = (
    "Nà", "Huổi", "Pá", "Phiêng", "Co", "Hua", "Nậm", "Bó", "Na", "Pom", "Ten", "Hồng",
    "Mường", "Lọng", "Xôm", "Tin", "Cang", "Pú", "Chiềng", "Nong", "Kéo", "Pa", "Noong",
)  # fmt: skip
THAI_SECOND = (
    "Lếch", "Sáng", "Lanh", "Có", "Mới", "Lả", "Luông", "Tấu", "Phăng", "Pao", "Chua", "Ít",
    "Cưởm", "Sái", "Chá", "Ngựu", "Hả", "Xá", "Bua", "Cọ", "Khoang", "Nưa", "Tở", "Púng",
    "Đắng", "Hin", "Mạ", "Sản", "Lốm", "Món", "Ban", "Khá", "Che", "Hỏm", "Lĩnh", "Tòng",
)  # fmt: skip
HMONG_FIRST = ("Háng", "Sín", "Tả", "Phì", "Làng", "Lao", "Séo", "Sủng", "Pàng", "Xá")
HMONG_SECOND = (
    "Tàu", "Chải", "Sìn", "Dê", "Phình", "Páo", "Lử", "Chua", "Chử", "Dình", "Cáy", "Giàng",
)  # fmt: skip
KINH_NAMES = (
    "Đoàn Kết", "Tân Bình", "Thanh Bình", "Tân Lập", "Hòa Bình", "Thống Nhất", "Quyết Tiến",
    "Tân Tiến", "Đồng Tâm", "Hợp Thành", "Tiến Thành", "Thanh Sơn", "Tân Hưng", "Độc Lập",
)  # fmt: skip


def village_names(rng: random.Random, count: int, *, town: bool) -> list[str]:
    """`count` distinct village names for one commune.

    Town communes are divided into numbered residential groups (tổ dân phố); rural ones
    have Thái or H'Mông bản and a few Kinh thôn.
    """
    if town:
        return [f"Tổ dân phố {i}" for i in range(1, count + 1)]
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        roll = rng.random()
        if roll < 0.62:
            name = f"Bản {rng.choice(THAI_FIRST)} {rng.choice(THAI_SECOND)}"
        elif roll < 0.9:
            name = f"Bản {rng.choice(HMONG_FIRST)} {rng.choice(HMONG_SECOND)}"
        else:
            name = f"Thôn {rng.choice(KINH_NAMES)}"
        if name in seen:
            # Real communes number their homonymous villages ("Bản Huổi Lếch 2").
            name = f"{name} {sum(1 for n in names if n.startswith(name)) + 1}"
            if name in seen:
                continue
        seen.add(name)
        names.append(name)
    return names


def ascii_slug(text: str) -> str:
    """Lowercase ASCII letters and digits of a Vietnamese text ("Sở Y tế" -> "soyte")."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    kept = (c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in "".join(kept).lower() if c.isascii() and c.isalnum())
