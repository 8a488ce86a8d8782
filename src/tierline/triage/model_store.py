"""Stored models as something fast to call at intake, loaded once per process.

A scikit-learn pipeline asked about one text spends ~2 ms per model in input validation, sparse-matrix
assembly and the FeatureUnion, far more than the arithmetic. So a stored pipeline is *compiled* when first
loaded into the plain numbers it computes with: for each TF-IDF block its analyzer, vocabulary and idf, and the
linear model's weights (transposed, so one text's terms pick rows), intercepts and sigmoid calibration. The
active models form an `Ensemble` that shares one term index per analyzer: a text is analysed (tokenised,
n-grammed, counted) and looked up once, then each model is a numpy gather and a small product.

The compiled model must give the pipeline's own probabilities: after compiling, both are asked about probe
texts and, if they disagree (a scikit-learn release that changed its internals, a pipeline we did not build),
the pipeline itself is used, slowly but correctly, and a warning is logged.

Which models are active is read from the database on every call (one small indexed query), so a model
activated by another process is used from its next ticket on, and a transaction sees its own activation.
Compiled models are cached per process by (database, model id, sha256 of the stored bytes) and dropped once
no longer active.
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

from tierline.triage.model_records import TriageModel

log = structlog.get_logger("tierline.triage.classifier")

MAX_CHARS = 1500  # only the head of a long text is classified: it carries the subject and the symptom


def prepare_text(text: str) -> str:
    """The text a model sees, in training and at intake alike."""
    return (text or "")[:MAX_CHARS]


# --- serialising -----------------------------------------------------------------------------------------

def dump(pipeline: Any) -> bytes:
    return pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)


def load(data: bytes, *, sha256: str) -> Any:
    """Unpickle a stored pipeline after checking it is the one that was stored (pickles run code: only bytes
    this database holds, with the digest recorded beside them, are ever loaded)."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("stored model bytes do not match their sha256")
    return pickle.loads(data)  # noqa: S301 - our own rows, digest checked above


# --- analysing texts --------------------------------------------------------------------------------------

_GRAM_CACHE_SIZE = 200_000


def _char_wb_analyzer(min_n: int, max_n: int) -> Any:
    """scikit-learn's lower-cased `char_wb` analyzer, remembering each word's n-grams (support texts repeat
    their words: most words of a ticket were seen in an earlier one)."""
    cache: dict[str, tuple[str, ...]] = {}

    def grams_of(word: str) -> tuple[str, ...]:
        padded, out = f" {word} ", []
        size = len(padded)
        for n in range(min_n, max_n + 1):
            if size <= n:  # a short word counts once, whole
                out.append(padded)
                break
            out.extend(padded[i:i + n] for i in range(size - n + 1))
        return tuple(out)

    def analyse_text(doc: str) -> list[str]:
        out: list[str] = []
        for word in doc.lower().split():
            grams = cache.get(word)
            if grams is None:
                if len(cache) >= _GRAM_CACHE_SIZE:
                    cache.clear()
                grams = cache[word] = grams_of(word)
            out.extend(grams)
        return out

    return analyse_text


def _word_analyzer(pattern: str, min_n: int, max_n: int) -> Any:
    """scikit-learn's lower-cased word n-gram analyzer without stop words (the same terms, in another order)."""
    findall = re.compile(pattern).findall

    def analyse_text(doc: str) -> list[str]:
        tokens = findall(doc.lower())
        out = list(tokens) if min_n == 1 else []
        for n in range(max(min_n, 2), max_n + 1):
            out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
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

    kind, (min_n, max_n), lowercase, pattern, accents, stop, source = key[0], key[1], *key[2:7]
    if lowercase and accents is None and stop is None and source == "content":
        if kind == "char_wb":
            return _char_wb_analyzer(min_n, max_n)
        if kind == "word":
            return _word_analyzer(pattern, min_n, max_n)
    return clone(vectorizer).build_analyzer()


@dataclass
class Analysed:
    """One text's distinct terms for one analyzer, with plain and sublinear (1 + log) counts."""

    terms: list[str]
    counts: np.ndarray
    log_counts: np.ndarray


def analyse(analyzer: Any, text: str) -> Analysed:
    counted = Counter(analyzer(text))
    counts = np.fromiter(counted.values(), dtype=np.float64, count=len(counted))
    return Analysed(terms=list(counted), counts=counts, log_counts=np.log(counts) + 1.0)


# --- the compiled model ----------------------------------------------------------------------------------

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
class CompiledModel:
    model_id: int
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


def _probabilities(model: CompiledModel, scores: np.ndarray) -> np.ndarray:
    if model.kind == "sigmoid":  # Platt scaling per class, one-vs-rest, renormalised (as CalibratedClassifierCV)
        calibrated = _expit(-(model.calibration_a * scores + model.calibration_b))
        if len(calibrated) == 1:
            return np.array([1.0 - calibrated[0], calibrated[0]])
        total = calibrated.sum()
        return calibrated / total if total > 0 else np.full(len(calibrated), 1.0 / len(calibrated))
    if len(scores) == 1:  # binary logistic regression
        p = _expit(scores)[0]
        return np.array([1.0 - p, p])
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


_UNKNOWN = np.iinfo(np.int64).max  # a term no model knows: clipped onto every block's "absent" slot


class Ensemble:
    """The models active together, sharing one term index per analyzer: a text is analysed and its terms are
    looked up once, then each model picks its columns with one numpy gather."""

    def __init__(self, models: list[CompiledModel]) -> None:
        self.models = models
        self.analyzers: dict[tuple, Any] = {}
        self.indexes: dict[tuple, dict[str, int]] = {}
        for model in models:
            for block in model.blocks:
                self.analyzers.setdefault(block.key, block.analyzer)
                index = self.indexes.setdefault(block.key, {})
                for term in block.vocabulary:
                    index.setdefault(term, len(index))
        # For each block: shared term id -> the block's column, -1 when absent; the last slot is for unknowns.
        self.columns: dict[tuple[int, int], np.ndarray] = {}
        for m, model in enumerate(models):
            for b, block in enumerate(model.blocks):
                index = self.indexes[block.key]
                columns = np.full(len(index) + 1, -1, dtype=np.int64)
                columns[np.fromiter(map(index.__getitem__, block.vocabulary), np.int64, len(block.vocabulary))] = \
                    np.fromiter(block.vocabulary.values(), np.int64, len(block.vocabulary))
                self.columns[(m, b)] = columns

    def predict_proba(self, text: str) -> list[np.ndarray]:
        looked_up: dict[tuple, tuple[np.ndarray, Analysed]] = {}
        for key, analyzer in self.analyzers.items():
            found = analyse(analyzer, text)
            ids = np.fromiter(map(self.indexes[key].get, found.terms, itertools.repeat(_UNKNOWN)), np.int64,
                              len(found.terms))
            looked_up[key] = (ids, found)
        out = []
        for m, model in enumerate(self.models):
            if model.kind == "pipeline":
                out.append(model.pipeline.predict_proba([text])[0])
                continue
            scores = model.intercept.copy()
            for b, block in enumerate(model.blocks):
                ids, found = looked_up[block.key]
                columns = self.columns[(m, b)].take(ids, mode="clip")
                keep = columns >= 0
                columns = columns[keep]
                if not len(columns):
                    continue
                values = (found.log_counts if block.sublinear else found.counts)[keep] * block.idf[columns]
                if block.norm == "l2":
                    values /= np.sqrt(values @ values)
                elif block.norm == "l1":
                    values /= np.abs(values).sum()
                scores += values @ block.weights[columns]
            out.append(_probabilities(model, scores))
        return out


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
        raise TypeError("feature widths do not add up to the model's")
    return blocks


def _compile_fast(row: Any, pipeline: Any) -> CompiledModel:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    features, model = pipeline.named_steps["features"], pipeline.named_steps["model"]
    if not isinstance(features, FeatureUnion) or features.transformer_weights:
        raise TypeError("features are not a plain FeatureUnion")
    labels = [str(c) for c in model.classes_]
    if isinstance(model, CalibratedClassifierCV):
        pairs = model.calibrated_classifiers_
        if len(pairs) != 1 or pairs[0].method != "sigmoid":
            raise TypeError("only one sigmoid-calibrated classifier compiles")
        estimator, calibrators = pairs[0].estimator, pairs[0].calibrators
        if [str(c) for c in estimator.classes_] != labels:
            raise TypeError("the calibrated estimator saw other classes")
        return CompiledModel(
            model_id=row.id, target=row.target, version=row.version, labels=labels, kind="sigmoid",
            blocks=_blocks(features, np.asarray(estimator.coef_, np.float64).T),
            intercept=np.asarray(estimator.intercept_, np.float64).ravel().copy(),
            calibration_a=np.array([c.a_ for c in calibrators], np.float64),
            calibration_b=np.array([c.b_ for c in calibrators], np.float64))
    if isinstance(model, LogisticRegression):
        return CompiledModel(
            model_id=row.id, target=row.target, version=row.version, labels=labels, kind="logistic",
            blocks=_blocks(features, np.asarray(model.coef_, np.float64).T),
            intercept=np.asarray(model.intercept_, np.float64).ravel().copy())
    raise TypeError(f"cannot compile {type(model).__name__}")


def probe_texts(pipeline: Any) -> list[str]:
    """Texts that touch the model's vocabulary, to compare the compiled model with the pipeline."""
    texts = ["", "hello", "The export fails with error DB-1234 since this morning, 502 Bad Gateway!",
             "  Ünïcode\tTABS\n\nand   spaces: naïve café — ß ǅ İ x y z 42 a-b a_b  "]
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
        texts.append(" ".join(terms[:60]))
        texts.append(" ".join(terms[-60:]))
        texts.append("".join(terms[len(terms) // 2:len(terms) // 2 + 60]))
    return texts


def compile_model(row: Any, pipeline: Any) -> CompiledModel:
    """The fast form of a stored pipeline, or the pipeline itself when the fast form would differ."""
    fallback = CompiledModel(model_id=row.id, target=row.target, version=row.version,
                             labels=[str(c) for c in pipeline.classes_], kind="pipeline", pipeline=pipeline)
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

_lock = threading.Lock()
_models: dict[tuple[str, int, str], CompiledModel] = {}  # (database, model id, sha256) -> compiled
_ensembles: dict[str, tuple[tuple, Ensemble]] = {}  # database -> (its active models' keys, their ensemble)


def _database_key(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=True)


def active_ensemble(session: Session) -> Ensemble | None:
    """The active models (one per target) ready to predict, or None when no model is active. One small
    indexed query per call; a model is unpickled and compiled only the first time this process meets it."""
    with session.no_autoflush:
        rows = session.execute(
            select(TriageModel.id, TriageModel.sha256).where(TriageModel.active).order_by(TriageModel.target)
        ).all()
    if not rows:
        return None
    database = _database_key(session)
    keys = tuple((database, r.id, r.sha256) for r in rows)
    with _lock:
        current = _ensembles.get(database)
        if current is not None and current[0] == keys:
            return current[1]
        models = [_models.get(key) for key in keys]
    models = [m if m is not None else _load_and_compile(session, key[1]) for m, key in zip(models, keys)]
    ensemble = Ensemble(models)
    with _lock:
        for key in [k for k in _models if k[0] == database and k not in keys]:
            del _models[key]  # no longer active here: free its memory
        _models.update(zip(keys, models))
        _ensembles[database] = (keys, ensemble)
    return ensemble


def _load_and_compile(session: Session, model_id: int) -> CompiledModel:
    with session.no_autoflush:
        row = session.execute(
            select(TriageModel.id, TriageModel.target, TriageModel.version, TriageModel.sha256,
                   TriageModel.size_bytes, TriageModel.pipeline).where(TriageModel.id == model_id)
        ).one()
    pipeline = load(row.pipeline, sha256=row.sha256)
    compiled = compile_model(row, pipeline)
    log.info("classifier.loaded", model_version=row.version, target=row.target, size_bytes=row.size_bytes,
             compiled=compiled.kind != "pipeline")
    return compiled


def clear_cache() -> None:
    with _lock:
        _models.clear()
        _ensembles.clear()


def cached_versions() -> list[int]:
    """The model versions this process holds compiled (for tests and diagnostics)."""
    with _lock:
        return sorted(m.version for m in _models.values())
