#!/usr/bin/env python3
"""The classic baseline otto's NLU is measured against, on the same files.

TF-IDF (word 1-2 grams + character 2-5 grams inside word boundaries,
sublinear term frequency) with a linear SVM (scikit-learn's LinearSVC, C=1,
its defaults otherwise): the strongest classic engine of the data sets'
README. Prints one JSON object a line: intent accuracy, fit seconds, and the
median latency of classifying one utterance at a time.

Usage: sklearn_baseline.py TRAIN.jsonl TEST.jsonl
"""
import json
import statistics
import sys
import time

from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


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
    print(json.dumps({
        "engine": "sklearn TF-IDF + LinearSVC",
        "intent_accuracy": right / len(test),
        "vectorize_seconds": vectorize_seconds,
        "fit_seconds": fit_seconds,
        "parse_us_p50": statistics.median(latencies),
    }))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
