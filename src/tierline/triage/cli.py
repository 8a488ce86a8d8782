"""`tierline triage ...`: triage from the command line (explain a ticket; the classifier's commands join here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from tierline.platform.auth.actor import Actor
from tierline.platform.db import get_database
from tierline.platform.errors import DomainError

triage_app = typer.Typer(help="Triage: explain routing, train and manage the classifier.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
CLI_ACTOR = Actor.system("cli")


@triage_app.command("explain")
def explain(file: Annotated[Path, typer.Argument(help="a ticket body as JSON, as POST /api/v1/tickets takes it",
                                                 exists=True, dir_okay=False, readable=True)]) -> None:
    """Print what intake would do with a ticket (signals, matched rules, actions, impact, queue, tier,
    assignee candidate, SLA policy) without saving it: the same JSON as POST /api/v1/triage/explain."""
    from tierline.flows import intake
    from tierline.tickets.schemas import TicketCreate

    try:
        data = TicketCreate.model_validate_json(file.read_bytes())
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "body"
            err.print(f"[red]error:[/red] {where}: {error['msg']}")
        raise typer.Exit(2) from exc
    session = get_database().session(write=False)  # explain only reads
    try:
        result = intake.explain(session, actor=CLI_ACTOR, data=data)
    except DomainError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    finally:
        session.close()
    print(json.dumps(result, indent=2, default=str, ensure_ascii=False))


# --- the classifier: evaluate, train, activate ---------------------------------------------------------------

TextCols = Annotated[list[str] | None, typer.Option("--text-col", help="text column (repeatable: joined)")]
LabelCol = Annotated[str | None, typer.Option("--label-col", help="label column")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _read_csv(csv: Path, text_col: list[str] | None, label_col: str | None) -> Any:
    from tierline.triage.training_data import read_csv

    if not text_col or not label_col:
        raise _fail("--csv needs --text-col and --label-col")
    data = read_csv(csv, text_cols=text_col, label_col=label_col)
    note = f", {data.skipped} rows without a label or text skipped" if data.skipped else ""
    console.print(f"read {len(data.texts)} labelled texts from {csv.name}{note}")
    return data


def _scores_tables(metrics: dict[str, Any], title: str) -> None:
    summary = Table(title=title, show_header=False)
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    summary.add_row("accuracy", f"{metrics['accuracy']:.3f}")
    summary.add_row("macro-F1", f"{metrics['macro_f1']:.3f}")
    summary.add_row("samples", str(metrics["n_samples"]))
    console.print(summary)
    per_class = Table(title="per class")
    for name in ("label", "precision", "recall", "f1", "support"):
        per_class.add_column(name, justify="left" if name == "label" else "right")
    for label, row in metrics["per_class"].items():
        per_class.add_row(label, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                          str(row["support"]))
    console.print(per_class)
    labels = metrics["confusion"]["labels"]
    confusion = Table(title="confusion matrix (rows: true label, columns: predicted)")
    confusion.add_column("true \\ predicted")
    for label in labels:
        confusion.add_column(label, justify="right")
    for i, (label, counts) in enumerate(zip(labels, metrics["confusion"]["matrix"])):
        confusion.add_row(label, *(f"[bold]{n}[/bold]" if i == j else str(n) for j, n in enumerate(counts)))
    console.print(confusion)


@triage_app.command("evaluate")
def evaluate(
    csv: Annotated[Path, typer.Option("--csv", help="labelled CSV with a header row")],
    text_col: TextCols = None,
    label_col: LabelCol = None,
    folds: Annotated[int, typer.Option(help="stratified cross-validation folds")] = 5,
    json_out: Annotated[Path | None, typer.Option("--json", help="also write the scores to this JSON file")] = None,
) -> None:
    """Cross-validate the classifier on a labelled CSV: accuracy, macro-F1, per-class precision and recall,
    confusion matrix. Nothing is stored."""
    from tierline.triage import classifier

    try:
        data = _read_csv(csv, text_col, label_col)
        with console.status(f"{folds}-fold cross-validation of {len(data.texts)} texts ..."):
            result = classifier.evaluate(data.texts, data.labels, folds=folds)
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    _scores_tables(result, f"{folds}-fold stratified cross-validation: {result['algorithm']}")
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"scores written to {json_out}")


@triage_app.command("train")
def train(
    from_db: Annotated[bool, typer.Option("--from-db", help="learn from solved and closed tickets")] = False,
    csv: Annotated[Path | None, typer.Option("--csv", help="learn from a labelled CSV instead")] = None,
    text_col: TextCols = None,
    label_col: LabelCol = None,
    target: Annotated[str, typer.Option(help="queue | component | type | priority")] = "queue",
    activate: Annotated[bool, typer.Option("--activate", help="make it the active model at once")] = False,
) -> None:
    """Train a model for one ticket field and store it as the next version (inactive unless --activate)."""
    from tierline.triage import classifier, training_data

    if from_db == (csv is not None):
        raise _fail("give exactly one of --from-db and --csv")
    database = get_database()
    try:
        classifier.check_target(target)
        if csv is not None:
            data = _read_csv(csv, text_col, label_col)
        else:
            with database.session(write=False) as session:
                data = training_data.from_tickets(session, target=target)
            console.print(f"read {len(data.texts)} solved and closed tickets")
        with console.status(f"training a {target} model on {len(data.texts)} texts ..."):
            trained = classifier.fit(data.texts, data.labels)  # outside the write transaction: it takes a while
        with database.unit_of_work() as session:
            row = classifier.store(session, actor=CLI_ACTOR, target=target, trained=trained, source=data.source)
            if activate:
                classifier.activate(session, actor=CLI_ACTOR, version=row.version)
            version, active = row.version, row.active
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    console.print(f"[green]stored[/green] {target} model version {version}: {trained.algorithm}, "
                  f"{trained.n_samples} samples, {len(trained.labels)} labels"
                  + (" [bold](active)[/bold]" if active else f"; activate with `tierline triage activate {version}`"))
    if trained.metrics.get("method") == "holdout":
        _scores_tables(trained.metrics, f"holdout ({trained.metrics['holdout_share']:.0%}) scores")
    else:
        console.print(f"not measured: {trained.metrics.get('reason')}")


@triage_app.command("activate")
def activate(version: Annotated[int, typer.Argument(help="the model version (see `tierline triage models`)")]) -> None:
    """Make a stored model its target's active one (the previous one stops predicting)."""
    from tierline.triage import classifier

    try:
        with get_database().unit_of_work() as session:
            target = classifier.activate(session, actor=CLI_ACTOR, version=version).target
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    console.print(f"[green]active[/green]: {target} model version {version}")


@triage_app.command("deactivate")
def deactivate(target: Annotated[str, typer.Argument(help="queue | component | type | priority")]) -> None:
    """Stop predicting a target (its model is kept, inactive)."""
    from tierline.triage import classifier

    try:
        with get_database().unit_of_work() as session:
            row = classifier.deactivate(session, actor=CLI_ACTOR, target=target)
            version = None if row is None else row.version
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    console.print(f"no active {target} model" if version is None else f"deactivated {target} model v{version}")


@triage_app.command("models")
def list_classifiers(
    target: Annotated[str | None, typer.Option(help="only this target's models")] = None,
) -> None:
    """The stored classifier models, newest first."""
    from tierline.triage import classifier

    table = Table(title="classifier models")
    for name in ("version", "target", "active", "samples", "labels", "accuracy", "macro-F1", "size", "created",
                 "source"):
        table.add_column(name)
    try:
        with get_database().session(write=False) as session:
            for row in classifier.list_(session, target=target):
                measured = row.metrics.get("method") == "holdout"
                table.add_row(str(row.version), row.target, "yes" if row.active else "", str(row.n_samples),
                              str(len(row.labels)), f"{row.metrics['accuracy']:.3f}" if measured else "-",
                              f"{row.metrics['macro_f1']:.3f}" if measured else "-",
                              f"{row.size_bytes / 1e6:.1f} MB", row.created_at.strftime("%Y-%m-%d %H:%M"),
                              row.source)
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    console.print(table)
