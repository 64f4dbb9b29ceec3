"""Shared helpers for the otto NLU research scripts (Python only, numpy/scipy/scikit-learn).

Data: /work/shared/data/nlu/<set>/<file>.jsonl, one {"text", "intent", "entities":[{start,end,entity,value}]} per line.
Validation protocol (never tune on test):
  * banking77: 3 stratified 10% hold-outs of train (seeds 0,1,2), mean accuracy reported.
  * snips full: one stratified 10% hold-out of snips/train (seed 0).
  * snips small: train on snips/train_small (70/intent), validate on 1,400 utterances drawn (stratified,
    seed 1) from snips/train minus any text that occurs in train_small.  NOTE: snips_goo/val must NOT be used to
    tune for snips: 346 of its 700 utterances are in snips/test.
"""
import json, re, math, os, struct
import numpy as np
from collections import Counter
DATA = os.environ.get("NLU_DATA", "/work/shared/data/nlu/")
RESOURCE = os.environ.get("OTTO_STATIC", "/tmp/research/resource/static_minilm_l6_128.bin")

def load(name):
    return [json.loads(l) for l in open(os.path.join(DATA, name + ".jsonl"), encoding="utf-8")]

def split(rows, frac=0.1, seed=0):
    """stratified hold-out by intent -> (train_rows, val_rows)"""
    rng = np.random.RandomState(seed); by = {}
    for i, r in enumerate(rows): by.setdefault(r["intent"], []).append(i)
    va = set()
    for k in sorted(by):
        idx = by[k]; rng.shuffle(idx); va.update(idx[:max(1, int(round(len(idx) * frac)))])
    return [r for i, r in enumerate(rows) if i not in va], [r for i, r in enumerate(rows) if i in va]

def val_sets(which):
    if which == "b77":
        rows = load("banking77/train"); return [split(rows, 0.1, s) for s in range(3)]
    if which == "snips":
        return [split(load("snips/train"), 0.1, 0)]
    if which == "small":
        tr = load("snips/train_small"); S = set(r["text"].lower() for r in tr)
        pool = [r for r in load("snips/train") if r["text"].lower() not in S]
        return [(tr, split(pool, 1400 / len(pool), seed=1)[1])]
    raise ValueError(which)

def test_sets(which):
    return {"b77": [(load("banking77/train"), load("banking77/test"))],
            "snips": [(load("snips/train"), load("snips/test"))],
            "small": [(load("snips/train_small"), load("snips/test"))]}[which]

# ---------------------------------------------------------------- static embedding resource
MAGIC = b"OTTOSTV1"
def write_resource(path, tokens, Q, scales, centroids):
    """Binary, little-endian:
      8 bytes magic 'OTTOSTV1' | u32 n_tokens | u32 dims | u32 n_centroids
      n_tokens x dims int8 (row-major)        -- quantised token vectors, vec = q * scale
      n_tokens x f32 scale
      n_centroids x dims f32                  -- k-means centroids (unit norm) for word clusters
      then n_tokens lines of UTF-8 token text, '\\n'-terminated (WordPiece vocab, same order as vocab.txt)"""
    with open(path, "wb") as f:
        f.write(MAGIC); f.write(struct.pack("<III", len(tokens), Q.shape[1], len(centroids)))
        f.write(Q.astype(np.int8).tobytes()); f.write(scales.astype("<f4").tobytes())
        f.write(centroids.astype("<f4").tobytes())
        f.write("".join(t + "\n" for t in tokens).encode("utf-8"))

def read_resource(path=RESOURCE):
    b = open(path, "rb").read(); assert b[:8] == MAGIC
    n, d, k = struct.unpack("<III", b[8:20]); o = 20
    Q = np.frombuffer(b, np.int8, n * d, o).reshape(n, d); o += n * d
    sc = np.frombuffer(b, "<f4", n, o); o += 4 * n
    C = np.frombuffer(b, "<f4", k * d, o).reshape(k, d); o += 4 * k * d
    toks = b[o:].decode("utf-8").split("\n")[:n]
    return toks, Q.astype(np.float32) * sc[:, None], C.copy()

class WordPiece:
    """BERT uncased basic tokenisation + greedy longest-match-first WordPiece (what the Rust side must do)."""
    def __init__(self, vocab):
        self.v = {t: i for i, t in enumerate(vocab)}; self.unk = self.v.get("[UNK]", 100)
    def word_ids(self, w, max_chars=100):
        if len(w) > max_chars: return [self.unk]
        out, s = [], 0
        while s < len(w):
            e, cur = len(w), None
            while s < e:
                sub = w[s:e] if s == 0 else "##" + w[s:e]
                if sub in self.v: cur = self.v[sub]; break
                e -= 1
            if cur is None: return [self.unk]
            out.append(cur); s = e
        return out

import unicodedata
def basic_words(text):
    """lower-case, strip accents, split on whitespace and punctuation (punctuation chars become words)."""
    t = unicodedata.normalize("NFD", text.lower())
    t = "".join(c for c in t if unicodedata.category(c) != "Mn")
    return re.findall(r"\w+|[^\w\s]", t)

WRE = re.compile(r"\w+")
class StaticEmb:
    """word vector = mean of its WordPiece token vectors; sentence vector = IDF-weighted mean of word vectors
    (IDF from the app's training utterances, unseen words get the max IDF), L2-normalised."""
    def __init__(self, path=RESOURCE):
        self.toks, self.E, self.C = read_resource(path); self.wp = WordPiece(self.toks); self.cache = {}
        self.idf, self.idf_unk = {}, 1.0
    def wvec(self, w):
        v = self.cache.get(w)
        if v is None:
            ids = self.wp.word_ids(w); v = self.E[ids].mean(0); self.cache[w] = v
        return v
    def cluster(self, w):
        v = self.wvec(w); return int(np.argmax(self.C @ (v / (np.linalg.norm(v) + 1e-9))))
    def fit_idf(self, texts):
        df = Counter(); n = len(texts)
        for t in texts: df.update(set(WRE.findall(t.lower())))
        self.idf = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items()}; self.idf_unk = math.log(1 + n) + 1
    def sent(self, texts):
        out = np.zeros((len(texts), self.E.shape[1]), np.float32)
        for k, t in enumerate(texts):
            ws = [w for w in basic_words(t) if WRE.fullmatch(w)]
            if not ws: continue
            wt = np.array([self.idf.get(w, self.idf_unk) for w in ws], np.float32)
            v = (np.stack([self.wvec(w) for w in ws]) * wt[:, None]).sum(0)
            out[k] = v / (np.linalg.norm(v) + 1e-9)
        return out
