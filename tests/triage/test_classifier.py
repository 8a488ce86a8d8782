"""The ticket classifier: evaluation on generated labelled tickets, train -> store -> activate -> predict, the
compiled fast path against scikit-learn's own answers, and clear CLI errors for bad training data."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from tests.helpers import SYSTEM
from tests.triage.support_texts import LABELS, dataset, ticket, write_csv
from tierline.cli import app as cli
from tierline.platform import audit, clock
from tierline.settings import Settings
from tierline.triage import classifier, classifier_store
from tierline.triage.classifier_records import TriageClassifier


def _run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], terminal_width=200)


def _texts(rows):
    return [t for t, _ in rows], [label for _, label in rows]


@pytest.fixture(scope="module")
def fitted() -> dict[str, classifier.Trained]:
    """One model of each kind the trainer makes, fitted once for the module."""
    multi = dataset(40, seed=11)
    binary = dataset(20, seed=12, labels=["billing", "login"])
    tiny = dataset(2, seed=13)  # two per class: too few to calibrate, a logistic regression instead
    return {"sigmoid": classifier.fit(*_texts(multi)), "binary": classifier.fit(*_texts(binary)),
            "logistic": classifier.fit(*_texts(tiny))}


@pytest.fixture(scope="module")
def compiled(fitted) -> dict[str, classifier_store.Ensemble]:
    out = {}
    for kind, trained in fitted.items():
        model = classifier_store.compile_classifier(_Row(), trained.pipeline)
        assert model.kind == ("sigmoid" if kind == "binary" else kind)  # compiled, not the slow fallback
        out[kind] = classifier_store.Ensemble([model])
    return out


class _Row:
    def __init__(self, version: int = 1, target: str = "queue") -> None:
        self.id, self.version, self.target = version, version, target


def _stored(db) -> list[TriageClassifier]:
    with db.session(write=False) as session:
        return list(session.scalars(select(TriageClassifier).order_by(TriageClassifier.version)))


def _predict(db, text: str):
    with db.session(write=False) as session:
        return classifier.predict(session, text=text)


# --- evaluation --------------------------------------------------------------------------------------------

def test_evaluate_scores_generated_tickets_well_above_chance_and_writes_the_json_shape(db, tmp_path: Path):
    rows = dataset(50, seed=1)
    write_csv(tmp_path / "tickets.csv", rows, text_col="body", label_col="queue")
    out = tmp_path / "scores.json"
    r = _run("triage", "evaluate", "--csv", tmp_path / "tickets.csv", "--text-col", "body", "--label-col", "queue",
             "--folds", "5", "--json", out)
    assert r.exit_code == 0, r.output
    assert "macro-F1" in r.output and "confusion matrix" in r.output and "precision" in r.output
    scores = json.loads(out.read_text())
    assert {"accuracy", "macro_f1", "per_class", "confusion"} <= set(scores)
    chance = 1 / len(LABELS)
    assert scores["accuracy"] > 0.85 > 3 * chance
    assert scores["macro_f1"] > 0.85
    assert set(scores["per_class"]) == set(LABELS)
    for label, row in scores["per_class"].items():
        assert set(row) == {"precision", "recall", "f1", "support"}
        assert 0.0 <= row["precision"] <= 1.0 and 0.0 <= row["recall"] <= 1.0
    assert sum(row["support"] for row in scores["per_class"].values()) == len(rows)
    confusion = scores["confusion"]
    assert confusion["labels"] == sorted(LABELS)
    matrix = np.array(confusion["matrix"])
    assert matrix.shape == (len(LABELS), len(LABELS)) and matrix.sum() == len(rows)
    assert np.trace(matrix) / len(rows) == pytest.approx(scores["accuracy"], abs=1e-6)
    assert list(matrix.sum(axis=1)) == [Counter(label for _, label in rows)[lb] for lb in confusion["labels"]]
    assert _stored(db) == []  # evaluation stores nothing


def test_evaluate_with_several_text_columns_joins_them(db, tmp_path: Path):
    rng_rows = dataset(12, seed=2)
    path = tmp_path / "split.csv"
    path.write_text("subject,description,label\n" + "".join(
        f'"{text.split(chr(10))[0]}","{text.split(chr(10), 1)[1]}",{label}\n' for text, label in rng_rows))
    r = _run("triage", "evaluate", "--csv", path, "--text-col", "subject", "--text-col", "description",
             "--label-col", "label", "--folds", "3")
    assert r.exit_code == 0, r.output
    assert "3-fold" in r.output


# --- train, store, activate, predict ------------------------------------------------------------------------

def test_train_stores_a_version_that_predicts_confident_correct_labels_once_activated(db, factory, tmp_path: Path):
    write_csv(tmp_path / "history.csv", dataset(40, seed=3))
    r = _run("triage", "train", "--csv", tmp_path / "history.csv", "--text-col", "text", "--label-col", "queue",
             "--target", "queue")
    assert r.exit_code == 0, r.output
    assert "stored" in r.output and "version 1" in r.output
    [model] = _stored(db)
    assert (model.version, model.target, model.active, model.n_samples) == (1, "queue", False, 200)
    assert model.labels == sorted(LABELS) and model.source == "csv:history.csv"
    assert model.metrics["method"] == "holdout" and model.metrics["accuracy"] > 0.85
    assert {"macro_f1", "per_class", "confusion"} <= set(model.metrics)
    assert model.size_bytes > 0 and len(model.sha256) == 64 and "LinearSVC" in model.algorithm
    assert factory.audit_count(action="triage_models.create") == 1

    assert _predict(db, "Invoice charged twice, please refund") == []  # nothing active: no predictions

    r = _run("triage", "activate", "1")
    assert r.exit_code == 0, r.output
    assert factory.audit_count(action="triage_models.activate") == 1
    import random

    rng, right, confident = random.Random(99), 0, 0
    unseen = [(label, *ticket(label, rng)) for label in LABELS for _ in range(10)]
    for label, subject, description in unseen:
        [prediction] = _predict(db, f"{subject}\n{description}")
        assert (prediction.target, prediction.model_version, prediction.applied) == ("queue", 1, False)
        right += prediction.label == label
        confident += prediction.label == label and prediction.confidence >= classifier.CONFIDENCE_THRESHOLD
    assert right / len(unseen) >= 0.9
    assert confident / len(unseen) >= 0.8
    [billing] = _predict(db, "Our card was charged twice for invoice 4411, we need a refund of the payment")
    assert billing.label == "billing" and billing.confidence >= 0.6


def test_one_model_is_active_per_target_and_predictions_follow_the_activation(db, factory):
    rows = dataset(20, seed=4)
    with db.unit_of_work() as session:
        first = classifier.train(session, actor=SYSTEM, target="queue", texts=_texts(rows)[0],
                                 labels=_texts(rows)[1], source="test", activate_it=True)
        second = classifier.store(session, actor=SYSTEM, target="queue", trained=classifier.fit(*_texts(rows)),
                                  source="test")
        typed = classifier.train(session, actor=SYSTEM, target="type", texts=_texts(rows)[0],
                                 labels=[{"billing": "question", "login": "incident"}.get(lb, "bug") for lb in
                                         _texts(rows)[1]], source="test", activate_it=True)
        versions = (first.version, second.version, typed.version)
    assert versions == (1, 2, 3)
    text = "Users get AUTH-401 when they sign in through SAML"
    assert {(p.target, p.model_version) for p in _predict(db, text)} == {("queue", 1), ("type", 3)}
    assert classifier_store.cached_versions() == [1, 3]

    assert _run("triage", "activate", "2").exit_code == 0
    assert [(m.version, m.active) for m in _stored(db)] == [(1, False), (2, True), (3, True)]
    predictions = {p.target: p for p in _predict(db, text)}
    assert predictions["queue"].model_version == 2 and predictions["queue"].label == "login"
    assert predictions["type"].label == "incident"
    assert classifier_store.cached_versions() == [2, 3]
    assert factory.audit_count(action="triage_models.deactivate") == 1

    before = factory.audit_count()
    assert _run("triage", "activate", "2").exit_code == 0  # already active: nothing changes
    assert factory.audit_count() == before
    assert _run("triage", "deactivate", "type").exit_code == 0
    assert [p.target for p in _predict(db, text)] == ["queue"]
    listing = _run("triage", "models")
    assert listing.exit_code == 0 and "queue" in listing.output and "type" in listing.output


def test_train_from_db_learns_the_field_of_solved_and_closed_tickets(db, factory):
    from tierline.tickets.models import Ticket

    types = {"billing": "question", "login": "incident", "database": "bug", "performance": "problem",
             "integrations": "task"}
    rows = dataset(20, seed=5, label_noise=0.0)
    now = clock.now()
    with db.unit_of_work() as session:
        for i, (text, label) in enumerate(rows + rows[:10]):
            subject, description = text.split("\n", 1)
            status = "open" if i >= len(rows) else ("closed" if i % 2 else "solved")
            session.add(Ticket(subject=subject, description=description, status=status,
                               type=types[label] if i < len(rows) else "feature_request", priority="P3",
                               channel="email", requester_email="c@example.com", tags=[], custom_fields={},
                               created_at=now, updated_at=now))
    r = _run("triage", "train", "--from-db", "--target", "type", "--activate")
    assert r.exit_code == 0, r.output
    assert "read 100 solved and closed tickets" in r.output and "(active)" in r.output
    [model] = _stored(db)
    assert model.source == "database" and model.active and "feature_request" not in model.labels
    [prediction] = _predict(db, "Dashboard very slow\nThe dashboard takes 40 seconds to load, timeouts")
    assert (prediction.target, prediction.label) == ("type", "problem")


def test_tiny_classes_train_a_logistic_model_without_a_holdout(db, tmp_path: Path):
    write_csv(tmp_path / "tiny.csv", dataset(3, seed=6, label_noise=0.0))
    r = _run("triage", "train", "--csv", tmp_path / "tiny.csv", "--text-col", "text", "--label-col", "queue")
    assert r.exit_code == 0, r.output
    assert "not measured" in r.output
    [model] = _stored(db)
    assert model.metrics["method"] == "none" and "LinearSVC" in model.algorithm  # 3 per class: calibrated
    write_csv(tmp_path / "tinier.csv", dataset(2, seed=6, label_noise=0.0))
    assert _run("triage", "train", "--csv", tmp_path / "tinier.csv", "--text-col", "text", "--label-col",
                "queue").exit_code == 0
    assert "LogisticRegression" in _stored(db)[1].algorithm


# --- bad input: clear errors, exit 2, nothing stored ---------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["--text-col", "body", "--label-col", "queue"], "no column 'body'"),
    (["--text-col", "text", "--label-col", "team"], "no column 'team'"),
    (["--text-col", "text"], "--csv needs --text-col and --label-col"),
])
def test_csv_errors_are_clear_cli_errors_and_store_nothing(db, factory, tmp_path: Path, args, message):
    write_csv(tmp_path / "t.csv", dataset(10, seed=7))
    for command in ("train", "evaluate"):
        r = _run("triage", command, "--csv", tmp_path / "t.csv", *args)
        assert r.exit_code == 2, r.output
        assert message in r.output and "Traceback" not in r.output
        assert isinstance(r.exception, SystemExit)
    assert _stored(db) == [] and factory.audit_count() == 0


def test_too_few_samples_per_class_is_a_clear_cli_error(db, factory, tmp_path: Path):
    rows = dataset(10, seed=8, label_noise=0.0) + [("Refund please for invoice 1", "refunds")]
    write_csv(tmp_path / "t.csv", rows)
    r = _run("triage", "train", "--csv", tmp_path / "t.csv", "--text-col", "text", "--label-col", "queue")
    assert r.exit_code == 2 and "too few samples per class" in r.output and "'refunds' (1)" in r.output
    write_csv(tmp_path / "u.csv", dataset(4, seed=8, label_noise=0.0))
    r = _run("triage", "evaluate", "--csv", tmp_path / "u.csv", "--text-col", "text", "--label-col", "queue")
    assert r.exit_code == 2 and "5-fold" in r.output and "at least 5" in r.output
    write_csv(tmp_path / "one.csv", dataset(10, seed=8, labels=["billing"]))
    r = _run("triage", "train", "--csv", tmp_path / "one.csv", "--text-col", "text", "--label-col", "queue")
    assert r.exit_code == 2 and "at least 2 distinct labels" in r.output
    assert _stored(db) == [] and factory.audit_count() == 0


def test_other_bad_training_requests_exit_2(db, tmp_path: Path):
    write_csv(tmp_path / "t.csv", dataset(10, seed=9))
    csv_args = ["--csv", tmp_path / "t.csv", "--text-col", "text", "--label-col", "queue"]
    checks = [
        (["train", *csv_args, "--target", "colour"], "target: must be one of"),
        (["train", "--from-db", *csv_args], "exactly one of --from-db and --csv"),
        (["train"], "exactly one of --from-db and --csv"),
        (["train", "--from-db"], "no solved or closed tickets"),
        (["train", "--csv", tmp_path / "missing.csv", "--text-col", "a", "--label-col", "b"], "cannot read"),
        (["evaluate", *csv_args, "--folds", "1"], "at least 2 folds"),
        (["activate", "7"], "no classifier model version 7"),
        (["deactivate", "colour"], "must be one of"),
    ]
    for args, message in checks:
        r = _run("triage", *args)
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output, (args, r.output)
    (tmp_path / "empty.csv").write_text("text,queue\n,billing\nsome text,\n")
    r = _run("triage", "train", "--csv", tmp_path / "empty.csv", "--text-col", "text", "--label-col", "queue")
    assert r.exit_code == 2 and "no rows with both a text and a label" in r.output
    (tmp_path / "symbols.csv").write_text("text,queue\n" + "".join(f"!,{q}\n" for q in ("a", "b") * 6))
    r = _run("triage", "train", "--csv", tmp_path / "symbols.csv", "--text-col", "text", "--label-col", "queue")
    assert r.exit_code == 2 and "cannot learn from these texts" in r.output, r.output
    (tmp_path / "latin1.csv").write_bytes("text,queue\ncaf\xe9,billing\n".encode("latin-1"))
    r = _run("triage", "train", "--csv", tmp_path / "latin1.csv", "--text-col", "text", "--label-col", "queue")
    assert r.exit_code == 2 and "UTF-8" in r.output


# --- the compiled fast path -----------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=300), st.lists(st.sampled_from(
    "invoice refund login SAML AUTH-401 DB-1234 replica slow dashboard webhook 502 Bad Gateway the a and , . !"
    .split()), max_size=60).map(" ".join)))
def test_the_compiled_models_give_the_pipelines_own_probabilities(fitted, compiled, text):
    for kind, trained in fitted.items():
        [got] = compiled[kind].predict_proba(text)
        expected = trained.pipeline.predict_proba([text])[0]
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-10)


def test_an_ensemble_of_several_models_answers_like_each_model_alone(fitted):
    compiled = [classifier_store.compile_classifier(_Row(i + 1, t), trained.pipeline)
                for i, (t, trained) in enumerate(zip(("queue", "type", "priority"), fitted.values()))]
    text = "Payment failed with PAY-4431 when renewing; login with SAML also loops"
    together = classifier_store.Ensemble(compiled).predict_proba(text)
    for model, trained, got in zip(compiled, fitted.values(), together):
        np.testing.assert_allclose(got, trained.pipeline.predict_proba([text])[0], rtol=1e-7, atol=1e-10)


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=200))
def test_the_fast_analyzers_find_the_terms_scikit_learn_finds(text):
    from sklearn.feature_extraction.text import TfidfVectorizer

    for vectorizer in (TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)),
                       TfidfVectorizer(analyzer="word", ngram_range=(1, 2)),
                       TfidfVectorizer(analyzer="word", ngram_range=(1, 3))):
        key = classifier_store._analyzer_key(vectorizer)
        ours = classifier_store._analyzer(vectorizer, key)
        assert Counter(ours(text)) == Counter(vectorizer.build_analyzer()(text))


def test_a_pipeline_that_does_not_compile_is_used_as_it_is(fitted):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    texts, labels = _texts(dataset(10, seed=14))
    features = fitted["sigmoid"].pipeline.named_steps["features"]
    ensemble_calibrated = Pipeline([("features", features),
                                    ("model", CalibratedClassifierCV(LinearSVC(), cv=3, ensemble=True))])
    ensemble_calibrated.fit(texts, labels)
    compiled = classifier_store.compile_classifier(_Row(), ensemble_calibrated)
    assert compiled.kind == "pipeline"
    text = "Slack notifications stopped"
    [got] = classifier_store.Ensemble([compiled]).predict_proba(text)
    np.testing.assert_allclose(got, ensemble_calibrated.predict_proba([text])[0])


def test_stored_bytes_that_do_not_match_their_digest_are_not_unpickled_and_intake_goes_on(db, fitted):
    classifier_store.clear_cache()
    with db.unit_of_work() as session:
        row = classifier.store(session, actor=SYSTEM, target="queue", trained=fitted["sigmoid"], source="test")
        classifier.activate(session, actor=SYSTEM, version=row.version)
        row.pipeline = row.pipeline[:-1] + b"x"
    with pytest.raises(ValueError, match="sha256"):
        classifier_store.load(b"anything", sha256="0" * 64)
    assert _predict(db, "Invoice charged twice") == []


def test_the_threshold_setting_defaults_to_the_classifier_constant(monkeypatch):
    assert Settings().classifier_threshold == classifier.CONFIDENCE_THRESHOLD == 0.6
    monkeypatch.setenv("TIERLINE_CLASSIFIER_THRESHOLD", "0.8")
    assert Settings().classifier_threshold == 0.8
    monkeypatch.setenv("TIERLINE_CLASSIFIER_THRESHOLD", "1.5")
    with pytest.raises(ValueError):
        Settings()


def test_audit_events_of_a_model_never_carry_its_bytes(db, fitted):
    with db.unit_of_work() as session:
        row = classifier.store(session, actor=SYSTEM, target="queue", trained=fitted["sigmoid"], source="test")
        classifier.activate(session, actor=SYSTEM, version=row.version)
    with db.session(write=False) as session:
        events = list(session.scalars(select(audit.AuditEvent).where(audit.AuditEvent.entity_type == "triage_models")))
    assert [e.action for e in events] == ["triage_models.create", "triage_models.activate"]
    assert all("pipeline" not in e.changes for e in events)
    assert events[0].changes["version"] == [None, 1] and events[1].changes["active"] == [False, True]
