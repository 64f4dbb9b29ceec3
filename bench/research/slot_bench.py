"""Slot filling benchmark for the otto recipe: one linear-chain CRF per intent (routed by the predicted intent),
features = words +-2, shape, affixes 1-4, number/time word detectors, static-embedding word clusters +-2 and
entity-type centroid similarities.  sklearn-crfsuite (pip install sklearn-crfsuite), L-BFGS c1=0 c2=0.1.

  python3 bench/research/slot_bench.py small [--test]   # train_small regime (validation or test)
  python3 bench/research/slot_bench.py snips [--test]   # full train (slow: ~5 min of CRF training)
  add --baseline to also run the single-CRF, no-embedding baseline.
Score: exact (start, end, label) char-span micro F1.
"""
import sys, os, re, time, json, warnings; warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from collections import defaultdict
import sklearn_crfsuite
from nlu_common import val_sets, test_sets, StaticEmb
import intent_bench
ST = intent_bench.ST
TOK = re.compile(r"\w+|[^\w\s]")
NUM = re.compile(r"\d+(st|nd|rd|th)?|one|two|three|four|five|six|seven|eight|nine|ten|first|second|third")
TIME = re.compile(r"am|pm|a\.m|p\.m|noon|midnight|morning|evening|night|afternoon|tonight|today|tomorrow|\d{1,2}:\d\d|"
                  r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|"
                  r"august|september|october|november|december|year|years|week|weeks|day|days|month|months|hour|hours|minute|minutes")
def tokens(t): return [(m.group(), m.start(), m.end()) for m in TOK.finditer(t)]
def bio(r):
    toks = tokens(r["text"]); lab = ["O"] * len(toks)
    for e in r["entities"]:
        first = True
        for i, (w, s, t) in enumerate(toks):
            if s < e["end"] and t > e["start"]: lab[i] = ("B-" if first else "I-") + e["entity"]; first = False
    return toks, lab
def spans(toks, lab):
    out, cur = set(), None
    for i, l in enumerate(lab + ["O"]):
        if cur and not (l.startswith("I-") and l[2:] == cur[2]): out.add((toks[cur[0]][1], toks[cur[1]][2], cur[2])); cur = None
        if l.startswith("B-") or (l.startswith("I-") and cur is None): cur = [i, i, l[2:]]
        elif l.startswith("I-") and cur: cur[1] = i
    return out
def shape(w):
    s = re.sub("[A-Z]", "X", w); s = re.sub("[a-z]", "x", s); s = re.sub("[0-9]", "d", s); return re.sub(r"(.)\1+", r"\1\1", s)
def unit(v): return v / (np.linalg.norm(v) + 1e-9)
class SlotModel:
    def __init__(self, use_emb=True, per_intent=True, c1=0.0, c2=0.1, cent_scale=3.0):
        self.use_emb, self.per_intent, self.c1, self.c2, self.cs = use_emb, per_intent, c1, c2, cent_scale
    def feats(self, toks):
        W = [w for w, _, _ in toks]; L = [w.lower() for w in W]; n = len(W); out = []
        cl = [str(ST.cluster(w)) for w in L] if self.use_emb else None
        for i in range(n):
            d = {"bias": 1.0}
            for o in range(-2, 3):
                j = i + o; edge = "<s>" if j < 0 else "</s>"
                d[f"w[{o}]"] = L[j] if 0 <= j < n else edge
                if cl: d[f"c[{o}]"] = cl[j] if 0 <= j < n else edge
            d["shape"] = shape(W[i]); d["title"] = W[i][:1].isupper(); d["digit"] = W[i].isdigit()
            for k in range(1, 5):
                if len(L[i]) >= k: d[f"p{k}"] = L[i][:k]; d[f"s{k}"] = L[i][-k:]
            d["num"] = bool(NUM.fullmatch(L[i])); d["time"] = bool(TIME.fullmatch(L[i]))
            if self.use_emb:
                sims = self.cent @ unit(ST.wvec(L[i]))
                for k, e in enumerate(self.cent_names): d["sim:" + e] = float(max(0.0, sims[k])) * self.cs
            out.append(d)
        return out
    def fit(self, rows):
        if self.use_emb:
            acc = defaultdict(list)
            for r in rows:
                for e in r["entities"]:
                    for w, _, _ in tokens(e["value"]): acc[e["entity"]].append(unit(ST.wvec(w.lower())))
            self.cent_names = sorted(acc); self.cent = np.stack([unit(np.mean(acc[e], 0)) for e in self.cent_names])
        groups = defaultdict(list)
        for r in rows: groups[r["intent"] if self.per_intent else "*"].append(r)
        self.crfs = {}
        for g, rs in groups.items():
            X, Y = [], []
            for r in rs: t, l = bio(r); X.append(self.feats(t)); Y.append(l)
            crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=self.c1, c2=self.c2, max_iterations=200, all_possible_transitions=True)
            crf.fit(X, Y); self.crfs[g] = crf
        return self
    def predict(self, text, intent):
        t = tokens(text); crf = self.crfs.get(intent if self.per_intent else "*")
        if crf is None or not t: return set()
        return spans(t, crf.predict_single(self.feats(t)))
def f1(rows, preds):
    tp = fp = fn = 0
    for r, p in zip(rows, preds):
        g = set((e["start"], e["end"], e["entity"]) for e in r["entities"]); tp += len(g & p); fp += len(p - g); fn += len(g - p)
    pr, rc = tp / max(1, tp + fp), tp / max(1, tp + fn); return 100 * 2 * pr * rc / max(1e-9, pr + rc)
def predicted_intents(tr, te):
    from sklearn.svm import LinearSVC
    X, Y = intent_bench.features(tr, te, 1.0)
    return list(LinearSVC(C=0.5, max_iter=10).fit(X, [r["intent"] for r in tr]).predict(Y))
if __name__ == "__main__":
    ds = sys.argv[1]; sets = (test_sets if "--test" in sys.argv else val_sets)(ds)
    configs = [("recipe: per-intent CRF + clusters + centroid sims", dict())]
    if "--baseline" in sys.argv: configs = [("baseline: single CRF, no embeddings", dict(use_emb=False, per_intent=False))] + configs
    for tr, te in sets:
        pi = predicted_intents(tr, te)
        for name, kw in configs:
            t0 = time.time(); m = SlotModel(**kw).fit(tr); ft = time.time() - t0
            t1 = time.time(); preds = [m.predict(r["text"], i) for r, i in zip(te, pi)]; pt = (time.time() - t1) / len(te)
            gold = [m.predict(r["text"], r["intent"]) for r in te] if m.per_intent else preds
            print(json.dumps(dict(set=ds, test="--test" in sys.argv, name=name, f1_pred_intent=round(f1(te, preds), 2),
                                  f1_gold_intent=round(f1(te, gold), 2), fit_s=round(ft, 1), predict_ms=round(pt * 1000, 2))), flush=True)
