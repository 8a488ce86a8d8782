"""Stored classifiers as something fast to call at intake, loaded once per process.

A scikit-learn pipeline asked about one text spends ~2 ms per classifier in input validation, sparse-matrix
assembly and the FeatureUnion, far more than the arithmetic. So a stored pipeline is *compiled* when first
loaded into the plain numbers it computes with: for each TF-IDF block its analyzer, vocabulary and idf, and the
linear model's weights (transposed, so one text's terms pick rows), intercepts and sigmoid calibration. The
active classifiers form an `Ensemble` that shares one term index per analyzer and stacks their weights: a
text is analysed (tokenised, n-grammed, counted) and looked up once, then all classifiers' scores come from
one numpy gather and one small matrix product per block kind.

The compiled classifier must give the pipeline's own probabilities: after compiling, both are asked about
probe texts and, if they disagree (a scikit-learn release that changed its internals, a pipeline we did not
build), the pipeline itself is used, slowly but correctly, and a warning is logged.

Which classifiers are active is read from the database on every call (one small indexed query), so one
activated by another process is used from its next ticket on, and a transaction sees its own activation. The
ensemble is cached per process and database, keyed by its classifiers' ids and the sha256 of their stored
bytes; when the active set changes it is rebuilt from the stored pipelines (activations are rare; one copy of
the weights stays in memory).
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform import reference_cache
from tierline.triage.classifier_records import TriageClassifier

log = structlog.get_logger("tierline.triage.classifier")

MAX_CHARS = 1000  # only the head of a long text is classified: it carries the subject and the symptom


def prepare_text(text: str) -> str:
    """The text a classifier sees, in training and at intake alike."""
    return (text or "")[:MAX_CHARS]


# --- serialising -----------------------------------------------------------------------------------------

def dump(pipeline: Any) -> bytes:
    return pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)


def load(data: bytes, *, sha256: str) -> Any:
    """Unpickle a stored pipeline after checking it is the one that was stored (pickles run code: only bytes
    this database holds, with the digest recorded beside them, are ever loaded)."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("stored classifier bytes do not match their sha256")
    return pickle.loads(data)  # noqa: S301 - our own rows, digest checked above


# --- analysing texts --------------------------------------------------------------------------------------

_WORD_CACHE_SIZE = 200_000  # words whose n-gram ids an ensemble remembers


def char_wb_grams(word: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's `char_wb` n-grams of one word: padded with a space each side; a short word once, whole."""
    padded, out = f" {word} ", []
    size = len(padded)
    for n in range(min_n, max_n + 1):
        if size <= n:
            out.append(padded)
            break
        out.extend(padded[i:i + n] for i in range(size - n + 1))
    return out


def _char_wb_analyzer(min_n: int, max_n: int) -> Any:
    """scikit-learn's lower-cased `char_wb` analyzer (whitespace-separated words, each n-grammed alone)."""

    def analyse_text(doc: str) -> list[str]:
        out: list[str] = []
        for word in doc.lower().split():
            out.extend(char_wb_grams(word, min_n, max_n))
        return out

    return analyse_text


def _word_analyzer(pattern: str, min_n: int, max_n: int) -> Any:
    """scikit-learn's lower-cased word n-gram analyzer without stop words (the same terms, in another order)."""
    findall = re.compile(pattern).findall

    def analyse_text(doc: str) -> list[str]:
        tokens = findall(doc.lower())
        out = list(tokens) if min_n == 1 else []
        for n in range(max(min_n, 2), max_n + 1):
            out.extend(map(" ".join, zip(*(tokens[i:] for i in range(n)))))
        return out

    return analyse_text


def _analyzer_key(vectorizer: Any) -> tuple:
    """Vectorizers with equal keys turn a text into the same terms, so a text is analysed once for all."""
    params = vectorizer.get_params()
    custom = [params.get(name) for name in ("preprocessor", "tokenizer") if callable(params.get(name))]
    if callable(params.get("analyzer")) or custom:
        return ("custom", id(vectorizer))  # not shared: we cannot tell two callables analyse alike
    stop = params.get("stop_words")
    return (params["analyzer"], tuple(params["ngram_range"]), params["lowercase"], params["token_pattern"],
            params["strip_accents"], tuple(sorted(stop)) if isinstance(stop, (list, set, frozenset)) else stop,
            params["input"], params["encoding"], params["decode_error"])


def _analyzer(vectorizer: Any, key: tuple) -> Any:
    """Our fast analyzer for the plain configurations we train, else scikit-learn's (of an unfitted twin: the
    fitted vectorizer's bound methods would keep the whole pipeline alive)."""
    from sklearn.base import clone

    if _plain(key):
        (min_n, max_n), pattern = key[1], key[3]
        if key[0] == "char_wb":
            return _char_wb_analyzer(min_n, max_n)
        if key[0] == "word":
            return _word_analyzer(pattern, min_n, max_n)
    return clone(vectorizer).build_analyzer()


def _plain(key: tuple) -> bool:
    """Lower-cased text content, no accent stripping, no stop words: the configurations we train."""
    return key[0] != "custom" and key[2] is True and key[4] is None and key[5] is None and key[6] == "content"


@dataclass
class Terms:
    """One text's distinct terms for one analyzer, as ids of the ensemble's index (unknown terms share the
    last id), with plain and sublinear (1 + log) counts."""

    ids: np.ndarray
    counts: np.ndarray
    log_counts: np.ndarray


# --- the compiled classifier -----------------------------------------------------------------------------

@dataclass
class _Block:
    """One TF-IDF vectorizer's slice of the feature vector and the linear weights for it."""

    key: tuple
    analyzer: Any
    vocabulary: dict[str, int]
    idf: np.ndarray
    sublinear: bool
    norm: str | None
    weights: np.ndarray  # (n_block_features, n_outputs): one row per term


@dataclass
class CompiledClassifier:
    classifier_id: int
    target: str
    version: int
    labels: list[str]
    kind: str  # "sigmoid" (calibrated one-vs-rest), "logistic" (softmax or binary) or "pipeline" (fallback)
    blocks: list[_Block] = field(default_factory=list)
    intercept: np.ndarray | None = None
    calibration_a: np.ndarray | None = None
    calibration_b: np.ndarray | None = None
    pipeline: Any = None  # kept only for the fallback


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _probabilities(classifier: CompiledClassifier, scores: np.ndarray) -> np.ndarray:
    if classifier.kind == "sigmoid":  # Platt scaling per class, one-vs-rest, renormalised (as sklearn does)
        calibrated = _expit(-(classifier.calibration_a * scores + classifier.calibration_b))
        if len(calibrated) == 1:
            return np.array([1.0 - calibrated[0], calibrated[0]])
        total = calibrated.sum()
        return calibrated / total if total > 0 else np.full(len(calibrated), 1.0 / len(calibrated))
    if len(scores) == 1:  # binary logistic regression
        p = _expit(scores)[0]
        return np.array([1.0 - p, p])
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


@dataclass
class _Group:
    """The blocks of all active classifiers that analyse alike and weigh alike, stacked: one row per term of
    the analyzer's shared index (plus a last, all-zero row for terms no classifier knows)."""

    key: tuple
    sublinear: bool
    norm: str | None
    idf: np.ndarray  # (terms + 1, members): 0 where a member lacks the term
    weights: np.ndarray  # (terms + 1, columns): the members' weight columns side by side
    member_of_column: np.ndarray  # (columns,)
    column_numbers: np.ndarray  # 0 .. columns - 1
    outputs: list[tuple[int, int, int]]  # per member: (classifier index, first column, end column)


class Ensemble:
    """The classifiers active together. A text is analysed and its terms looked up once per analyzer; then
    one gather and one small matrix product per group of blocks give every classifier's scores at once, so a
    second, third and fourth target cost little more than the first."""

    def __init__(self, classifiers: list[CompiledClassifier]) -> None:
        self.classifiers = classifiers
        self.analyzers: dict[tuple, Any] = {}
        self.indexes: dict[tuple, dict[str, int]] = {}
        members: dict[tuple, list[tuple[int, _Block]]] = {}
        for m, classifier in enumerate(classifiers):
            for block in classifier.blocks:
                self.analyzers.setdefault(block.key, block.analyzer)
                index = self.indexes.setdefault(block.key, {})
                for term in block.vocabulary:
                    index.setdefault(term, len(index))
                members.setdefault((block.key, block.sublinear, block.norm), []).append((m, block))
        self.groups = [self._stack(group, blocks) for group, blocks in members.items()]
        self.word_ids: dict[tuple, dict[str, np.ndarray]] = {
            key: {} for key in self.indexes if key[0] == "char_wb" and _plain(key)}

    def _stack(self, group: tuple, blocks: list[tuple[int, _Block]]) -> _Group:
        key, sublinear, norm = group
        index = self.indexes[key]
        width = sum(block.weights.shape[1] for _, block in blocks)
        idf = np.zeros((len(index) + 1, len(blocks)))
        weights = np.zeros((len(index) + 1, width))
        member_of_column = np.empty(width, dtype=np.int64)
        outputs, start = [], 0
        for j, (m, block) in enumerate(blocks):
            rows = np.fromiter(map(index.__getitem__, block.vocabulary), np.int64, len(block.vocabulary))
            columns = np.fromiter(block.vocabulary.values(), np.int64, len(block.vocabulary))
            stop = start + block.weights.shape[1]
            idf[rows, j] = block.idf[columns]
            weights[rows, start:stop] = block.weights[columns]
            member_of_column[start:stop] = j
            outputs.append((m, start, stop))
            start = stop
        return _Group(key=key, sublinear=sublinear, norm=norm, idf=idf, weights=weights,
                      member_of_column=member_of_column, column_numbers=np.arange(width), outputs=outputs)

    def release_blocks(self) -> None:
        """Drop the classifiers' own per-block arrays once stacked here (they would double the memory)."""
        for classifier in self.classifiers:
            classifier.blocks = []

    def terms(self, key: tuple, text: str) -> Terms:
        index = self.indexes[key]
        unknown = len(index)
        words = self.word_ids.get(key)
        if words is None:
            counted = Counter(self.analyzers[key](text))
            ids = np.fromiter(map(index.get, counted, itertools.repeat(unknown)), np.int64, len(counted))
            counts = np.fromiter(counted.values(), np.float64, len(counted))
        else:
            # char_wb n-grams never cross a word: look each distinct word's n-grams up once per process.
            (min_n, max_n), parts = key[1], []
            for word in text.lower().split():
                found = words.get(word)
                if found is None:
                    if len(words) >= _WORD_CACHE_SIZE:
                        words.clear()
                    grams = char_wb_grams(word, min_n, max_n)
                    found = words[word] = np.fromiter(map(index.get, grams, itertools.repeat(unknown)), np.int64,
                                                      len(grams))
                parts.append(found)
            ids, counts = np.unique(np.concatenate(parts), return_counts=True) if parts else (np.empty(0, np.int64),
                                                                                              np.empty(0))
            counts = counts.astype(np.float64)
        return Terms(ids=ids, counts=counts, log_counts=np.log(counts) + 1.0)

    def predict_proba(self, text: str) -> list[np.ndarray]:
        """Each classifier's class probabilities (in its `labels` order) for one text."""
        looked_up = {key: self.terms(key, text) for key in self.analyzers}
        scores = [m.intercept.copy() if m.kind != "pipeline" else None for m in self.classifiers]
        for group in self.groups:
            found = looked_up[group.key]
            ids = found.ids
            if not len(ids):
                continue
            # np.take: several times faster than fancy indexing for a row gather.
            values = np.take(group.idf, ids, axis=0)
            values *= (found.log_counts if group.sublinear else found.counts)[:, None]
            if group.norm is not None:
                norms = (np.sqrt(np.einsum("ij,ij->j", values, values)) if group.norm == "l2"
                         else np.abs(values).sum(axis=0))
                norms[norms == 0.0] = 1.0
                values /= norms
            # (members x terms) @ (terms x columns): each column's own member's row holds its score.
            products = values.T @ np.take(group.weights, ids, axis=0)
            contributions = products[group.member_of_column, group.column_numbers]
            for m, start, stop in group.outputs:
                scores[m] += contributions[start:stop]
        return [classifier.pipeline.predict_proba([text])[0] if classifier.kind == "pipeline"
                else _probabilities(classifier, score) for classifier, score in zip(self.classifiers, scores)]


def _blocks(features: Any, weights_t: np.ndarray) -> list[_Block]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    blocks, offset = [], 0
    for _, vectorizer in features.transformer_list:
        if not isinstance(vectorizer, TfidfVectorizer) or vectorizer.binary or vectorizer.use_idf is False:
            raise TypeError(f"cannot compile {type(vectorizer).__name__}")
        width, key = len(vectorizer.vocabulary_), _analyzer_key(vectorizer)
        blocks.append(_Block(key=key, analyzer=_analyzer(vectorizer, key), vocabulary=vectorizer.vocabulary_,
                             idf=np.asarray(vectorizer.idf_, np.float64), sublinear=bool(vectorizer.sublinear_tf),
                             norm=vectorizer.norm, weights=np.ascontiguousarray(weights_t[offset:offset + width])))
        offset += width
    if offset != weights_t.shape[0]:
        raise TypeError("feature widths do not add up to the estimator's")
    return blocks


def _compile_fast(row: Any, pipeline: Any) -> CompiledClassifier:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    features, estimator = pipeline.named_steps["features"], pipeline.named_steps["model"]
    if not isinstance(features, FeatureUnion) or features.transformer_weights:
        raise TypeError("features are not a plain FeatureUnion")
    labels = [str(c) for c in estimator.classes_]
    if isinstance(estimator, CalibratedClassifierCV):
        pairs = estimator.calibrated_classifiers_
        if len(pairs) != 1 or pairs[0].method != "sigmoid":
            raise TypeError("only one sigmoid-calibrated classifier compiles")
        estimator, calibrators = pairs[0].estimator, pairs[0].calibrators
        if [str(c) for c in estimator.classes_] != labels:
            raise TypeError("the calibrated estimator saw other classes")
        return CompiledClassifier(
            classifier_id=row.id, target=row.target, version=row.version, labels=labels, kind="sigmoid",
            blocks=_blocks(features, np.asarray(estimator.coef_, np.float64).T),
            intercept=np.asarray(estimator.intercept_, np.float64).ravel().copy(),
            calibration_a=np.array([c.a_ for c in calibrators], np.float64),
            calibration_b=np.array([c.b_ for c in calibrators], np.float64))
    if isinstance(estimator, LogisticRegression):
        return CompiledClassifier(
            classifier_id=row.id, target=row.target, version=row.version, labels=labels, kind="logistic",
            blocks=_blocks(features, np.asarray(estimator.coef_, np.float64).T),
            intercept=np.asarray(estimator.intercept_, np.float64).ravel().copy())
    raise TypeError(f"cannot compile {type(estimator).__name__}")


def probe_texts(pipeline: Any) -> list[str]:
    """Texts that touch the classifier's vocabulary, to compare the compiled classifier with the pipeline."""
    texts = ["", "hello", "The export fails with error DB-1234 since this morning, 502 Bad Gateway!",
             "  Ünïcode\tTABS\n\nand   spaces: naïve café — ß ǅ İ x y z 42 a-b a_b  "]
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
        texts.append(" ".join(terms[:60]))
        texts.append(" ".join(terms[-60:]))
        texts.append("".join(terms[len(terms) // 2:len(terms) // 2 + 60]))
    return texts


def compile_classifier(row: Any, pipeline: Any) -> CompiledClassifier:
    """The fast form of a stored pipeline, or the pipeline itself when the fast form would differ."""
    fallback = CompiledClassifier(classifier_id=row.id, target=row.target, version=row.version,
                                  labels=[str(c) for c in pipeline.classes_], kind="pipeline",
                                  pipeline=pipeline)
    try:
        fast = _compile_fast(row, pipeline)
        alone = Ensemble([fast])
        for text in probe_texts(pipeline):
            expected = pipeline.predict_proba([text])[0]
            got = alone.predict_proba(text)[0]
            if not np.allclose(expected, got, rtol=1e-6, atol=1e-9):
                raise ValueError(f"compiled probabilities differ on {text[:40]!r}")
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        log.warning("classifier.compile_fallback", model_version=row.version, target=row.target, reason=str(exc))
        return fallback
    return fast


# --- the per-process cache -------------------------------------------------------------------------------
#
# The ensemble lives in the reference cache under the triage_models token, so nothing is read per ticket; a
# change to the triage_models table (a classifier stored, another activated) makes the next transaction read
# the active ids and digests, and the classifiers are unpickled and compiled again only when that active set
# changed.

_lock = threading.Lock()
_ensembles: dict[Any, tuple[tuple, Ensemble | None]] = {}  # database URL -> (its active set's keys, ensemble)

# Built once: constructing a SELECT costs more than running this one.
_ACTIVE = (select(TriageClassifier.id, TriageClassifier.sha256).where(TriageClassifier.active)
           .order_by(TriageClassifier.target))


def active_ensemble(session: Session) -> Ensemble | None:
    """The active classifiers (one per target) ready to predict, or None when no classifier is active."""
    return reference_cache.cached(session, "triage_models", "triage.ensemble", _build_ensemble)


def _build_ensemble(session: Session) -> Ensemble | None:
    database = session.get_bind().engine.url  # .engine: the bind may be a Connection (tests join one)
    keys = tuple(map(tuple, session.connection().execute(_ACTIVE)))
    with _lock:
        current = _ensembles.get(database)
    if current is not None and current[0] == keys:
        return current[1]
    ensemble = None
    if keys:
        compiled = (_load_and_compile(session, classifier_id) for classifier_id, _ in keys)
        ensemble = Ensemble([c for c in compiled if c])
        ensemble.release_blocks()
    with _lock:
        _ensembles[database] = (keys, ensemble)
    return ensemble


def _load_and_compile(session: Session, classifier_id: int) -> CompiledClassifier | None:
    """The compiled classifier, or None (logged) when its stored bytes cannot be used: intake goes on without
    that target's prediction rather than failing every ticket."""
    with session.no_autoflush:
        row = session.execute(
            select(TriageClassifier.id, TriageClassifier.target, TriageClassifier.version,
                   TriageClassifier.sha256, TriageClassifier.size_bytes, TriageClassifier.pipeline)
            .where(TriageClassifier.id == classifier_id)
        ).one()
    try:
        pipeline = load(row.pipeline, sha256=row.sha256)
        compiled = compile_classifier(row, pipeline)
    except Exception as exc:  # noqa: BLE001 - any unpicklable or foreign object: skip it, keep intake
        log.error("classifier.unusable_model", model_version=row.version, target=row.target, error=repr(exc))
        return None
    log.info("classifier.loaded", model_version=row.version, target=row.target, size_bytes=row.size_bytes,
             compiled=compiled.kind != "pipeline")
    return compiled


def clear_cache() -> None:
    with _lock:
        _ensembles.clear()
    reference_cache.forget_all()


def cached_versions() -> list[int]:
    """The classifier versions this process holds ready (for tests and diagnostics)."""
    with _lock:
        return sorted(m.version for _, ensemble in _ensembles.values() if ensemble is not None
                      for m in ensemble.classifiers)
