"""Readable reports for `tenang eval ... --report DIR`: Markdown, PNG charts, and provenance (the
exact command, the data file's hash, the versions of the model, prompts and rubric)."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service import __version__


def file_hash(path: Path | None) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path and path.exists() else "-"


def provenance(*, data: Sequence[Path | None], versions: dict[str, str]) -> list[str]:
    lines = [
        f"- command: `tenang {' '.join(sys.argv[1:])}`" if sys.argv and "tenang" in sys.argv[0] else
        f"- command: `{' '.join(sys.argv)}`",
        f"- run at: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- tenang {__version__}",
    ]  # fmt: skip
    for p in data:
        if p is not None:
            lines.append(f"- data: `{p}` (sha256 {file_hash(p)})")
    lines += [f"- {k}: {v}" for k, v in versions.items()]
    return lines


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bar_chart(path: Path, labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str) -> None:
    plt = _plt()
    height = max(3.0, 0.28 * len(labels) + 1.2)
    fig, ax = plt.subplots(figsize=(7.5, height))
    ax.barh(list(labels)[::-1], list(values)[::-1], color="#3b7dd8")
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    for i, v in enumerate(list(values)[::-1]):
        ax.text(min(v + 0.01, 0.93), i, f"{v:.2f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def confusion_chart(path: Path, labels: Sequence[str], matrix: Any, *, title: str) -> None:
    plt = _plt()
    n = len(labels)
    size = max(4.5, min(16.0, 0.35 * n + 3))
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels=list(labels), rotation=90, fontsize=7 if n > 20 else 9)
    ax.set_yticks(range(n), labels=list(labels), fontsize=7 if n > 20 else 9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if matrix[i][j]:
                    ax.text(j, i, str(int(matrix[i][j])), ha="center", va="center", fontsize=8,
                            color="white" if matrix[i][j] > matrix.max() / 2 else "black")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_markdown(path: Path, title: str, sections: Sequence[Sequence[str]]) -> None:
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [*section, ""]
    path.write_text("\n".join(lines), encoding="utf-8")
