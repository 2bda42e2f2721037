"""Checks a built warmup_jax wheel: it holds the package alone and requires ranges, never pins.

python .ci/check_wheel.py dist/warmup_jax-X-py3-none-any.whl
"""

from __future__ import annotations

import sys
import zipfile
from email.parser import Parser


def problems(path: str) -> list[str]:
    found = []
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(wheel.read(info).decode())
    tops = {name.split("/", 1)[0] for name in names}
    extra = sorted(t for t in tops if t != "warmup_jax" and not t.endswith(".dist-info"))
    if extra:
        found.append(f"the wheel holds more than warmup_jax: {', '.join(extra)}")
    for requirement in metadata.get_all("Requires-Dist") or []:
        spec = requirement.split(";")[0].strip()  # without its environment marker
        if "==" in spec:
            found.append(f"a pinned requirement: {requirement}")
        if spec.startswith(("jax", "optax", "numpy")) and ">=" not in spec:
            found.append(f"a core requirement without a lower bound: {requirement}")
    return found


def main() -> int:
    found = problems(sys.argv[1])
    for problem in found:
        print(f"check_wheel: {problem}", file=sys.stderr)
    if not found:
        print(f"check_wheel: {sys.argv[1]}: warmup_jax alone, ranges only", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
