#!/usr/bin/env python3
"""The classic baseline otto's NLU is measured against, on the same files.

Intents: TF-IDF (word 1-2 grams + character 2-5 grams inside word
boundaries, sublinear term frequency) with a linear SVM (scikit-learn's
LinearSVC, its defaults otherwise). Slots, when the data has entities: a CRF
(sklearn-crfsuite, L-BFGS, c1=c2=0.1) over the usual word, shape, affix and
window features. These are the classic engines of the data sets' README.
Prints one JSON object: intent accuracy, slot F1 (exact span and label),
fit seconds of each model and their sum, and the median latency of
understanding one utterance at a time.

Usage: sklearn_baseline.py TRAIN.jsonl TEST.jsonl
"""
import json
import re
import statistics
import sys
import time

from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def tokens_with_spans(text):
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)]


def bio(example):
    labels = []
    for _, start, end in tokens_with_spans(example["text"]):
        label = "O"
        for e in example["entities"]:
            if e["start"] <= start < e["end"]:
                label = ("B-" if start == e["start"] or not labels or labels[-1][2:] != e["entity"] else "I-") + e["entity"]
        labels.append(label)
    return labels


def word_features(tokens, i):
    word = tokens[i][0]
    features = {
        "w": word.lower(), "suf3": word[-3:], "suf2": word[-2:], "pre3": word[:3],
        "upper": word.isupper(), "title": word.istitle(), "digit": word.isdigit(),
    }
    for offset in (-2, -1, 1, 2):
        j = i + offset
        features[f"w{offset}"] = tokens[j][0].lower() if 0 <= j < len(tokens) else "<pad>"
    return features


def spans(tokens, labels):
    found, current = set(), None
    for (word, start, end), label in zip(tokens, labels):
        if label.startswith("B-") or (label.startswith("I-") and (current is None or current[2] != label[2:])):
            if current:
                found.add(tuple(current))
            current = [start, end, label[2:]]
        elif label.startswith("I-"):
            current[1] = end
        else:
            if current:
                found.add(tuple(current))
            current = None
    if current:
        found.add(tuple(current))
    return found


def slot_baseline(train, test):
    import sklearn_crfsuite

    x = [[word_features(t, i) for i in range(len(t))] for t in (tokens_with_spans(e["text"]) for e in train)]
    y = [bio(e) for e in train]
    started = time.perf_counter()
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=0.1, c2=0.1, max_iterations=100)
    crf.fit(x, y)
    fit_seconds = time.perf_counter() - started
    right = predicted = gold = 0
    latencies = []
    for example in test:
        tokens = tokens_with_spans(example["text"])
        started = time.perf_counter()
        labels = crf.predict_single([word_features(tokens, i) for i in range(len(tokens))])
        latencies.append((time.perf_counter() - started) * 1e6)
        found = spans(tokens, labels)
        truth = {(e["start"], e["end"], e["entity"]) for e in example["entities"]}
        right += len(found & truth)
        predicted += len(found)
        gold += len(truth)
    precision = right / predicted if predicted else 0.0
    recall = right / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f1, fit_seconds, statistics.median(latencies)


def main(train_path, test_path):
    train, test = load(train_path), load(test_path)
    texts = [e["text"] for e in train]
    labels = [e["intent"] for e in train]
    vectorizers = [
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)),
        TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5)),
    ]
    started = time.perf_counter()
    matrix = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
    vectorize_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model = LinearSVC().fit(matrix, labels)
    fit_seconds = time.perf_counter() - started

    def predict(text):
        row = hstack([v.transform([text]) for v in vectorizers]).tocsr()
        return model.predict(row)[0]

    latencies, right = [], 0
    for example in test:
        started = time.perf_counter()
        predicted = predict(example["text"])
        latencies.append((time.perf_counter() - started) * 1e6)
        right += predicted == example["intent"]
    result = {
        "engine": "sklearn TF-IDF + LinearSVC",
        "intent_accuracy": right / len(test),
        "vectorize_seconds": vectorize_seconds,
        "intent_fit_seconds": fit_seconds,
        "fit_seconds": fit_seconds,
        "parse_us_p50": statistics.median(latencies),
        "slot_f1": None,
    }
    if any(e["entities"] for e in train):
        slot_f1, slot_fit, slot_us = slot_baseline(train, test)
        result.update(engine="sklearn TF-IDF + LinearSVC, sklearn-crfsuite CRF", slot_f1=slot_f1,
                      slot_fit_seconds=slot_fit, fit_seconds=fit_seconds + slot_fit,
                      parse_us_p50=result["parse_us_p50"] + slot_us)
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
