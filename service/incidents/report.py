"""The post-incident review: what happened when, how fast the team answered, how the replies read, and
which promises were kept. ``build`` gathers the figures from the store; ``markdown``, ``html`` and
``charts`` render them for a comms lead (the HTML embeds its charts, so it is one file to share)."""

from __future__ import annotations

import base64
import html as html_lib
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from service.errors import IncidentNotFound
from service.incidents import followups
from service.incidents.followups import REPLIED
from service.incidents.models import CrisisFile
from service.models import Draft, DraftKind, DraftStatus



def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    return round((b - a).total_seconds() / 60, 1) if a and b else None


def _approved_at(d: Draft) -> datetime | None:
    return d.review.approvals[-1].at if d.status in REPLIED and d.review.approvals else None


def _hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def build(store: Any, crisis: CrisisFile, incident_id: str, *, now: datetime) -> dict[str, Any]:
    """The review's figures for one incident, from the store (raises IncidentNotFound)."""
    inc = store.get_incident(incident_id)
    if inc is None:
        raise IncidentNotFound(f"no incident with id {incident_id!r}")
    linked = store.signals(incident_id=inc.id)
    drafts = store.incident_drafts(inc.id)
    alert = store.get_alert(inc.alert_id) if inc.alert_id else None
    replies = [d for d in drafts if d.kind is DraftKind.reply]
    follow_ups = [d for d in drafts if d.kind is DraftKind.follow_up]
    first = linked[0].at if linked else None
    approvals = sorted(t for t in (_approved_at(d) for d in replies) if t)

    # volume per hour of the linked complaints, against the recent rate of the incident's issue types
    volume: list[dict[str, Any]] = []
    baseline_per_hour = None
    bin_hours = 1
    if first is not None:
        start = _hour(first) - timedelta(hours=3)
        end = _hour(max(inc.resolved_at or linked[-1].at, linked[-1].at)) + timedelta(hours=2)
        before = store.signals(since=first - timedelta(hours=48), until=first)
        same = [s for s in before if s.issue_type in inc.issue_types]
        baseline_per_hour = round(len(same) / 48, 3)
        others = [s for s in store.signals(since=start, until=end) if s.issue_type in inc.issue_types and s.incident_id != inc.id]
        bin_hours = 1 if end - start <= timedelta(hours=96) else 24  # a long tail: one bin a day
        step = timedelta(hours=bin_hours)
        t = start
        while t < end:
            nxt = t + step
            volume.append({"hour": t.isoformat(), "linked": sum(1 for s in linked if t <= s.at < nxt),
                           "other_same_type": sum(1 for s in others if t <= s.at < nxt)})  # fmt: skip
            t = nxt

    deadlines = {"met": 0, "missed": 0, "open": 0}
    for d in replies:
        done = _approved_at(d)
        if done is not None:
            deadlines["met" if done <= d.deadline else "missed"] += 1
        elif d.status is DraftStatus.pending_review:
            deadlines["missed" if now > d.deadline else "open"] += 1
    response = [m for d in replies if (m := _minutes(d.created_at, _approved_at(d))) is not None]
    scores = [d.review.final_rubric.score for d in replies if d.status in REPLIED and d.review.final_rubric]
    variants = [v for d in replies for v in d.variants]
    ledger = followups.ledger(crisis, drafts)

    timeline = []
    if first:
        timeline.append({"at": first.isoformat(), "what": "first linked complaint"})
    if alert:
        timeline.append({"at": alert.detected_at.isoformat(),
                         "what": f"spike alert ({alert.count} complaints in the window, {alert.baseline:g} expected)"})  # fmt: skip
    timeline += [{"at": e.at.isoformat(), "what": e.what + (f" by {e.actor}" if e.actor and e.actor != "system" else "")}
                 for e in inc.timeline]  # fmt: skip
    if approvals:
        timeline.append({"at": approvals[0].isoformat(), "what": "first approved reply"})
    timeline.sort(key=lambda e: e["at"])

    return {
        "incident": {"id": inc.id, "title": inc.title, "status": inc.status.value, "issue_types": inc.issue_types,
                     "at_fault": inc.at_fault, "public_note": inc.public_note, "created_at": inc.created_at.isoformat(),
                     "resolved_at": inc.resolved_at.isoformat() if inc.resolved_at else None},
        "generated_at": now.isoformat(),
        "timeline": timeline,
        "complaints": {
            "linked": len(linked),
            "by_language": {k: sum(1 for s in linked if s.language.value == k) for k in sorted({s.language.value for s in linked})},
            "by_channel": {k: sum(1 for s in linked if s.channel.value == k) for k in sorted({s.channel.value for s in linked})},
            "reach": sum(s.reach or 0 for s in linked),
            "drafted": sum(1 for s in linked if s.draft_id),
        },
        "minutes": {
            "first_complaint_to_alert": _minutes(first, alert.detected_at if alert else None),
            "first_complaint_to_incident": _minutes(first, inc.created_at),
            "first_complaint_to_first_approved_reply": _minutes(first, approvals[0] if approvals else None),
            "first_complaint_to_resolution": _minutes(first, inc.resolved_at),
            "reply_approval_median": round(statistics.median(response), 1) if response else None,
        },
        "volume_per_hour": volume,
        "volume_bin_hours": bin_hours,
        "baseline_per_hour": baseline_per_hour,
        "deadlines": deadlines,
        "replies": {
            "drafted": len(replies),
            "approved_or_sent": sum(1 for d in replies if d.status in REPLIED),
            "rejected": sum(1 for d in replies if d.status is DraftStatus.rejected),
            "rejection_reasons": [d.review.rejected_reason for d in replies if d.review.rejected_reason],
            "edited": sum(1 for d in replies if any(a.edited for a in d.review.approvals)),
            "overrides": sum(1 for d in replies if d.review.final_rubric and not d.review.final_rubric.passed
                             and any(a.override_reason for a in d.review.approvals)),
            "rubric_score_mean_approved": round(statistics.mean(scores), 3) if scores else None,
            "variants_passing": round(sum(v.rubric.passed for v in variants) / len(variants), 3) if variants else None,
            "variants_revised": sum(1 for v in variants if v.revisions),
        },
        "follow_ups": {
            "prepared": len(follow_ups),
            "approved_or_sent": sum(1 for d in follow_ups if d.status in REPLIED),
            "threads_replied": sum(1 for d in replies if d.status in REPLIED),
            "threads_followed_up": len({d.follows for d in follow_ups}),
        },
        "commitments": {"made": len(ledger), "kept": sum(1 for c in ledger if c["kept"]), "ledger": ledger},
        "recovery_posts": inc.recovery_posts,
    }


def charts(data: dict[str, Any]) -> dict[str, bytes]:
    """PNG charts: complaints per hour against the baseline, and how the replies fared."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, bytes] = {}
    vol = data["volume_per_hour"]
    if vol:
        fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
        hours = [datetime.fromisoformat(v["hour"]).strftime("%d %H:%M") for v in vol]
        ax.bar(hours, [v["linked"] for v in vol], color="#c0504d", label="linked to the incident")
        ax.bar(hours, [v["other_same_type"] for v in vol], bottom=[v["linked"] for v in vol], color="#9bbb59",
               label="other complaints of its issue types")  # fmt: skip
        if data["baseline_per_hour"] is not None:
            ax.axhline(data["baseline_per_hour"] * data["volume_bin_hours"], color="#1f497d", linestyle="--", label="usual rate (48 h before)")
        ax.set_ylabel("complaints per hour" if data["volume_bin_hours"] == 1 else "complaints per day")
        ax.set_title(f"Volume: {data['incident']['title']}")
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        ax.legend(fontsize=7)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        out["volume.png"] = buf.getvalue()
    r, d, f = data["replies"], data["deadlines"], data["follow_ups"]
    fig, ax = plt.subplots(figsize=(6, 2.8), dpi=100)
    labels = ["approved", "rejected", "edited", "deadline met", "deadline missed", "follow-ups approved",
              "commitments kept", "commitments open"]  # fmt: skip
    values = [r["approved_or_sent"], r["rejected"], r["edited"], d["met"], d["missed"], f["approved_or_sent"],
              data["commitments"]["kept"], data["commitments"]["made"] - data["commitments"]["kept"]]  # fmt: skip
    ax.barh(labels, values, color=["#4f81bd", "#c0504d", "#f79646", "#9bbb59", "#c0504d", "#4f81bd", "#9bbb59", "#c0504d"])
    ax.invert_yaxis()
    ax.set_xlabel("drafts / commitments")
    ax.set_title("Replies, deadlines and promises")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    out["replies.png"] = buf.getvalue()
    return out


def _fmt(v: Any) -> str:
    return "–" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f}%"


def markdown(data: dict[str, Any], images: Sequence[str] = ()) -> str:
    inc, m, r, d, f, c = (data[k] for k in ("incident", "minutes", "replies", "deadlines", "follow_ups", "commitments"))
    lines = [
        f"# Post-incident review: {inc['title']}", "",
        f"Incident `{inc['id']}`, status **{inc['status']}**, issue types {', '.join(inc['issue_types'])}; "
        f"{'the brand was at fault' if inc['at_fault'] else 'not marked as the brand at fault'}. "
        f"Generated {data['generated_at']}.", "",
    ]  # fmt: skip
    if inc["public_note"]:
        lines += [f"> {inc['public_note']}", ""]
    lines += ["## Timeline", "", "| when (UTC) | what |", "|---|---|"]
    lines += [f"| {e['at'][:16].replace('T', ' ')} | {e['what']} |" for e in data["timeline"]]
    lines += ["", "## How fast", "", "| from the first complaint to | minutes |", "|---|---|"]
    for key, label in (("first_complaint_to_alert", "the spike alert"), ("first_complaint_to_incident", "the incident opened"),
                       ("first_complaint_to_first_approved_reply", "the first approved reply"),
                       ("first_complaint_to_resolution", "resolution")):  # fmt: skip
        lines.append(f"| {label} | {_fmt(m[key])} |")
    lines += ["", f"Median time from draft to approval: {_fmt(m['reply_approval_median'])} minutes. "
              f"Reply deadlines: {d['met']} met, {d['missed']} missed, {d['open']} still open.", ""]  # fmt: skip
    cm = data["complaints"]
    lines += ["## Volume", "", f"{cm['linked']} complaints linked ({cm['drafted']} drafted), by language "
              f"{cm['by_language']}, by channel {cm['by_channel']}, combined reach {cm['reach']}. "
              f"The incident's issue types usually run at {_fmt(data['baseline_per_hour'])} complaints an hour.", ""]  # fmt: skip
    lines += [f"![{Path(i).stem}]({i})" for i in images if i.startswith("volume")] + [""]
    lines += ["## Replies", "",
              f"{r['drafted']} reply drafts: {r['approved_or_sent']} approved or sent, {r['rejected']} rejected, "
              f"{r['edited']} edited by a reviewer, {r['overrides']} approved over a failing check. Mean rubric score "
              f"of the approved replies {_fmt(r['rubric_score_mean_approved'])}; {_pct(r['variants_passing'])} of the "
              f"variants passed the rubric, {r['variants_revised']} were revised.", ""]  # fmt: skip
    if r["rejection_reasons"]:
        lines += ["Rejections:", *[f"- {x}" for x in r["rejection_reasons"]], ""]
    lines += [f"![{Path(i).stem}]({i})" for i in images if i.startswith("replies")] + [""]
    lines += ["## Follow-ups and commitments", "",
              f"{f['prepared']} follow-up drafts prepared for {f['threads_followed_up']} of {f['threads_replied']} "
              f"threads that received a reply; {f['approved_or_sent']} approved or sent. "
              f"Commitments in approved replies: {c['kept']} of {c['made']} kept.", ""]  # fmt: skip
    if c["ledger"]:
        lines += ["| draft | commitment | kept |", "|---|---|---|"]
        lines += [f"| `{x['draft_id'][:8]}` | {x['commitment']} | {'yes' if x['kept'] else 'not yet'} |" for x in c["ledger"]]
        lines.append("")
    if data["recovery_posts"]:
        lines += [f"Recovery posts drafted: {', '.join(data['recovery_posts'])}.", ""]
    return "\n".join(lines)


def html(data: dict[str, Any], images: dict[str, bytes]) -> str:
    """A standalone page: the Markdown report's content as HTML, the charts embedded."""
    md = markdown(data, list(images))
    body: list[str] = []
    table: list[str] = []

    def flush_table() -> None:
        if table:
            rows = [r.strip("|").split("|") for r in table if not set(r.replace("|", "").strip()) <= {"-"}]
            head, *rest = rows
            body.append("<table><tr>" + "".join(f"<th>{html_lib.escape(h.strip())}</th>" for h in head) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{html_lib.escape(c.strip())}</td>" for c in row) + "</tr>" for row in rest)
                        + "</table>")  # fmt: skip
            table.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        if line.startswith("# "):
            body.append(f"<h1>{html_lib.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html_lib.escape(line[3:])}</h2>")
        elif line.startswith("!["):
            name = line[line.index("(") + 1 : -1]
            b64 = base64.b64encode(images[name]).decode()
            body.append(f'<img alt="{html_lib.escape(name)}" src="data:image/png;base64,{b64}">')
        elif line.startswith("> "):
            body.append(f"<blockquote>{html_lib.escape(line[2:])}</blockquote>")
        elif line.startswith("- "):
            body.append(f"<li>{html_lib.escape(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{html_lib.escape(line).replace('**', '')}</p>")
    flush_table()
    style = ("body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
             "img{max-width:100%}blockquote{border-left:4px solid #ccc;margin:0;padding-left:1em;color:#555}")  # fmt: skip
    title = html_lib.escape(f"Post-incident review: {data['incident']['title']}")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head><body>{''.join(body)}</body></html>"


def write(data: dict[str, Any], out: Path) -> list[Path]:
    """report.md (with the PNGs beside it), report.html (charts embedded), report.json."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    images = charts(data)
    paths = []
    for name, png in images.items():
        (out / name).write_bytes(png)
        paths.append(out / name)
    (out / "report.md").write_text(markdown(data, list(images)), encoding="utf-8")
    (out / "report.html").write_text(html(data, images), encoding="utf-8")
    (out / "report.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return [out / "report.md", out / "report.html", out / "report.json", *paths]
