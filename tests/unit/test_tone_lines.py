"""Reply files for `tenang eval tone`: a bad field is named with its file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.tone import load_tone_lines


def write(path: Path, *rows: dict) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_an_unknown_channel_is_named_with_its_line(tmp_path: Path) -> None:
    f = write(tmp_path / "r.jsonl", {"text": "Thanks!", "channel": "chat"}, {"text": "Sorry!", "channel": "whatsapp"})
    with pytest.raises(ValueError, match=r"r\.jsonl:2: 'channel' must be one of twitter, .*helpdesk, not 'whatsapp'"):
        load_tone_lines(f)


def test_a_channel_that_is_not_a_string_is_named_too(tmp_path: Path) -> None:
    f = write(tmp_path / "r.jsonl", {"text": "Sorry!", "channel": ["chat"]})
    with pytest.raises(ValueError, match=r"r\.jsonl:1: 'channel' must be one of"):
        load_tone_lines(f)


def test_public_must_be_a_boolean(tmp_path: Path) -> None:
    f = write(tmp_path / "r.jsonl", {"text": "Sorry!", "channel": "twitter", "public": "yes"})
    with pytest.raises(ValueError, match=r"r\.jsonl:1: 'public' must be true or false"):
        load_tone_lines(f)


def test_valid_lines_load_whole(tmp_path: Path) -> None:
    rows = [{"text": "Sorry!", "channel": "review", "public": True, "fail": []}, {"text": "Hi", "label": "x"}]
    assert load_tone_lines(write(tmp_path / "r.jsonl", *rows)) == rows
