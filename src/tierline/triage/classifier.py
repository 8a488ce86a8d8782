"""The ticket classifier: train on the organisation's own tickets, evaluate, store versioned, predict at intake.

A classifier reads a ticket's subject and description and predicts one target field (queue, component, type
or priority). Features are TF-IDF word uni- and bigrams beside TF-IDF character 3-5-grams inside word
boundaries (they catch error codes, product names and typos); the estimator is a linear SVM whose scores are
turned into probabilities by Platt scaling fitted on cross-validated scores (`CalibratedClassifierCV`), or,
when some class is too small to calibrate, a logistic regression's own probabilities.

The pipeline (`tierline triage explain`, intake) calls `predict()` and applies a prediction whose confidence
reaches the threshold (`TIERLINE_CLASSIFIER_THRESHOLD`, default `CONFIDENCE_THRESHOLD`) to a field nobody set;
below it the prediction is kept as a suggestion. Fitting happens outside any database transaction (`fit`),
storing inside one (`store`), so a long training never holds the database's write lock.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tierline.platform import audit, clock
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.settings import get_settings
from tierline.triage import classifier_store
from tierline.triage.classifier_records import TARGETS, TriageClassifier
from tierline.triage.classifier_store import prepare_text
from tierline.triage.types import Prediction

CONFIDENCE_THRESHOLD = 0.6  # the default of TIERLINE_CLASSIFIER_THRESHOLD
TARGET_FIELDS = {"queue": "queue_id", "component": "component_id", "type": "type", "priority": "priority"}
MIN_SAMPLES_PER_CLASS = 2  # to train at all
CALIBRATION_FOLDS = 3  # every class needs this many samples for calibrated probabilities
HOLDOUT_SHARE = 0.2
HOLDOUT_MIN_PER_CLASS = 5  # smaller classes: no holdout, the metrics say why
WORD_FEATURES, CHAR_FEATURES = 50_000, 100_000
RANDOM_STATE = 0


def threshold() -> float:

    return get_settings().classifier_threshold


# --- fitting ---------------------------------------------------------------------------------------------

@dataclass
class Trained:
    pipeline: Any
    algorithm: str
    labels: list[str]
    metrics: dict[str, Any]
    n_samples: int


def label_order(labels: Sequence[str]) -> list[str]:
    """Distinct labels, ids in numeric order, names alphabetically."""
    return sorted(set(labels), key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))


def build_pipeline(*, n_samples: int, smallest_class: int) -> Any:
    """The untrained pipeline for a training set of this size whose smallest class has this many samples."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    min_df = 2 if n_samples >= 200 else 1  # a term seen once in a big set is noise (and memory)
    features = FeatureUnion([
        ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=min_df,
                                 max_features=WORD_FEATURES)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=min_df,
                                 max_features=CHAR_FEATURES)),
    ])
    if smallest_class >= CALIBRATION_FOLDS:
        svm = LinearSVC(C=0.5, class_weight="balanced", random_state=RANDOM_STATE)
        folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=RANDOM_STATE)
        model = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)
    else:
        model = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
    return Pipeline([("features", features), ("model", model)])


def algorithm_of(pipeline: Any) -> str:
    model = pipeline.named_steps["model"]
    inner = getattr(model, "estimator", None)
    name = f"{type(inner).__name__}+sigmoid calibration" if inner is not None else type(model).__name__
    return f"tfidf word 1-2 + char_wb 3-5 / {name}"


def check_training_set(texts: Sequence[str], labels: Sequence[str], *, per_class: int,
                       field: str = "labels", why: str = "to train") -> Counter:
    """Refuse what a classifier cannot learn from, naming the classes that are short."""
    if len(texts) != len(labels):
        raise Invalid("texts", "texts and labels differ in length")
    counts = Counter(labels)
    if len(counts) < 2:
        raise Invalid(field, f"needs at least 2 distinct labels, found {len(counts)} in {len(labels)} samples")
    short = sorted((n, label) for label, n in counts.items() if n < per_class)
    if short:
        listed = ", ".join(f"{label!r} ({n})" for n, label in short[:10]) + (" ..." if len(short) > 10 else "")
        raise Invalid(field, f"too few samples per class {why}: every label needs at least {per_class}; "
                             f"short: {listed}")
    return counts


def fit(texts: Sequence[str], labels: Sequence[str]) -> Trained:
    """Measure on a stratified holdout (when classes are big enough), then fit on everything."""
    labels = [str(v) for v in labels]
    counts = check_training_set(texts, labels, per_class=MIN_SAMPLES_PER_CLASS)
    prepared = [prepare_text(t) for t in texts]
    with _unlearnable():
        metrics = _holdout_metrics(prepared, labels, counts)
        pipeline = build_pipeline(n_samples=len(prepared), smallest_class=min(counts.values()))
        pipeline.fit(prepared, labels)
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        # The pruned terms are kept only for introspection and can outweigh the model itself.
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_
    return Trained(pipeline=pipeline, algorithm=algorithm_of(pipeline), labels=[str(c) for c in pipeline.classes_],
                   metrics=metrics, n_samples=len(prepared))


@contextmanager
def _unlearnable() -> Iterator[None]:
    """scikit-learn's word for texts it cannot learn from (e.g. no terms at all) as a clear input error."""
    try:
        yield
    except ValueError as exc:
        raise Invalid("texts", f"cannot learn from these texts: {exc}") from exc


def _holdout_metrics(texts: list[str], labels: list[str], counts: Counter) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    n_test = math.ceil(len(texts) * HOLDOUT_SHARE)
    if min(counts.values()) < HOLDOUT_MIN_PER_CLASS or n_test < len(counts):
        return {"method": "none", "reason": f"every label needs {HOLDOUT_MIN_PER_CLASS} samples for a holdout "
                                            "measurement; use `tierline triage evaluate`"}
    x_train, x_test, y_train, y_test = train_test_split(texts, labels, test_size=n_test, stratify=labels,
                                                        random_state=RANDOM_STATE)
    train_counts = Counter(y_train)
    pipeline = build_pipeline(n_samples=len(x_train), smallest_class=min(train_counts.values()))
    pipeline.fit(x_train, y_train)
    return {"method": "holdout", "holdout_share": HOLDOUT_SHARE,
            **scores(y_test, list(pipeline.predict(x_test)), labels=label_order(labels))}


# --- evaluation ------------------------------------------------------------------------------------------

def scores(y_true: Sequence[str], y_pred: Sequence[str], *, labels: list[str]) -> dict[str, Any]:
    """accuracy, macro_f1, per_class {label: {precision, recall, f1, support}}, confusion {labels, matrix}."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                                     zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 6),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 6),
        "n_samples": len(y_true),
        "per_class": {label: {"precision": round(float(p), 6), "recall": round(float(r), 6),
                              "f1": round(float(f), 6), "support": int(s)}
                      for label, p, r, f, s in zip(labels, precision, recall, f1, support)},
        "confusion": {"labels": labels,
                      "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }


def evaluate(texts: Sequence[str], labels: Sequence[str], *, folds: int = 5) -> dict[str, Any]:
    """Stratified k-fold cross-validation of the pipeline `fit` would train; every sample is predicted once by
    a model that did not see it, and the scores are over those predictions."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if folds < 2:
        raise Invalid("folds", "needs at least 2 folds")
    labels = [str(v) for v in labels]
    counts = check_training_set(texts, labels, per_class=folds, why=f"for {folds}-fold cross-validation")
    prepared = [prepare_text(t) for t in texts]
    smallest = min(counts.values())
    # A class of m samples keeps at least m - ceil(m / folds) of them in every training fold.
    smallest_in_training = min(m - math.ceil(m / folds) for m in counts.values())
    pipeline = build_pipeline(n_samples=len(prepared) * (folds - 1) // folds, smallest_class=smallest_in_training)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=RANDOM_STATE)
    with _unlearnable():
        predicted = cross_val_predict(pipeline, prepared, labels, cv=splitter)
    result = {"method": "stratified_cv", "folds": folds, "algorithm": algorithm_of(pipeline),
              "smallest_class": smallest, **scores(labels, list(predicted), labels=label_order(labels))}
    return result


# --- storing and activating ------------------------------------------------------------------------------

def check_target(target: str) -> str:
    if target not in TARGETS:
        raise Invalid("target", f"must be one of {', '.join(TARGETS)}")
    return target


def store(session: Session, *, actor: Any, target: str, trained: Trained, source: str) -> TriageClassifier:
    """Keep a fitted classifier as the next version (inactive); audited."""
    import sklearn

    check_target(target)
    data = classifier_store.dump(trained.pipeline)
    now = clock.now()
    version = (session.scalar(select(func.max(TriageClassifier.version))) or 0) + 1
    row = TriageClassifier(version=version, target=target, algorithm=trained.algorithm, labels=trained.labels,
                           metrics=audit.jsonable(trained.metrics), n_samples=trained.n_samples,
                           source=source[:500], sklearn_version=sklearn.__version__,
                           sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data), pipeline=data,
                           active=False, created_at=now, updated_at=now)
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"model version {version} was stored by another training meanwhile; train again") from exc
    audit.record_create(session, actor, row, exclude=("pipeline",))
    return row


def train(session: Session, *, actor: Any, target: str, texts: Sequence[str], labels: Sequence[str],
          source: str, activate_it: bool = False) -> TriageClassifier:
    """Fit and store in one go (the demo's way; the CLI fits before it opens its transaction)."""
    check_target(target)
    row = store(session, actor=actor, target=target, trained=fit(texts, labels), source=source)
    if activate_it:
        activate(session, actor=actor, version=row.version)
    return row


def get_by_version(session: Session, *, version: int) -> TriageClassifier:
    row = session.scalar(select(TriageClassifier).where(TriageClassifier.version == version))
    if row is None:
        raise NotFound(f"no classifier model version {version}")
    return row


def list_(session: Session, *, target: str | None = None) -> list[TriageClassifier]:
    """Newest first (without the stored bytes)."""
    stmt = select(TriageClassifier).order_by(TriageClassifier.version.desc())
    if target is not None:
        stmt = stmt.where(TriageClassifier.target == check_target(target))
    return list(session.scalars(stmt))


def _set_active(session: Session, actor: Any, row: TriageClassifier, active: bool) -> None:
    # Audited by hand: a snapshot would read (and record) the pickled bytes.
    before = {"active": row.active, "activated_at": row.activated_at}
    now = clock.now()
    row.active, row.updated_at = active, now
    if active:
        row.activated_at = now
    audit.record(session, actor, "triage_models.activate" if active else "triage_models.deactivate", row,
                 changes={k: [v, getattr(row, k)] for k, v in before.items() if v != getattr(row, k)},
                 note=f"{row.target} model v{row.version}")


def activate(session: Session, *, actor: Any, version: int) -> TriageClassifier:
    """Make this version its target's one active classifier (the previous one is deactivated); audited."""
    row = get_by_version(session, version=version)
    current = session.scalars(select(TriageClassifier)
                              .where(TriageClassifier.target == row.target, TriageClassifier.active)
                              .with_for_update()).all()
    if row.active:
        return row
    for other in current:
        _set_active(session, actor, other, False)
    # Flush the deactivation first: the one-active-per-target index is checked row by row.
    session.flush()
    _set_active(session, actor, row, True)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"another {row.target} model was activated meanwhile; try again") from exc
    return row


def deactivate(session: Session, *, actor: Any, target: str) -> TriageClassifier | None:
    """Stop predicting this target (its active classifier, if any, is deactivated); audited."""
    check_target(target)
    row = session.scalar(select(TriageClassifier)
                         .where(TriageClassifier.target == target, TriageClassifier.active)
                         .with_for_update())
    if row is not None:
        _set_active(session, actor, row, False)
        session.flush()
    return row


# --- predicting ------------------------------------------------------------------------------------------

def predict(session: Session, *, text: str) -> list[Prediction]:
    """One prediction per target that has an active classifier (none when none is active), `applied` False.

    The active classifiers come from the reference cache (no query unless the stored ones changed); each is
    unpickled and compiled once per process (see classifier_store) and the text is analysed once for all."""
    ensemble = classifier_store.active_ensemble(session)
    if ensemble is None:
        return []
    out = []
    for compiled, proba in zip(ensemble.classifiers, ensemble.predict_proba(prepare_text(text))):
        best = int(proba.argmax())
        out.append(Prediction(target=compiled.target, label=compiled.labels[best],
                              confidence=round(float(proba[best]), 4), model_version=compiled.version))
    return out


def field_value(prediction: Prediction) -> tuple[str, Any]:
    """The ticket field a prediction fills and its typed value (ids as int; None when not an id)."""
    field = TARGET_FIELDS[prediction.target]
    if field.endswith("_id"):
        return field, int(prediction.label) if prediction.label.isdigit() else None
    return field, prediction.label
