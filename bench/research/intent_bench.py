"""Intent classification benchmark for the otto recipe (TF-IDF word 1-2 + char_wb 2-5 [+ static embedding] -> LinearSVC).

  python3 bench/research/intent_bench.py            # validation figures (see nlu_common: never tune on test)
  python3 bench/research/intent_bench.py --test     # test figures of the chosen recipe vs the baseline
Needs the resource built by distill_static.py (default /tmp/research/resource/static_minilm_l6_128.bin).
"""
import sys, os, time, json, warnings; warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from scipy.sparse import hstack, csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC
from nlu_common import val_sets, test_sets, StaticEmb
ST = StaticEmb()
def features(tr, te, static_w):
    X, Y = [], []
    for v in (TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
              TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)):
        X.append(v.fit_transform([r["text"] for r in tr])); Y.append(v.transform([r["text"] for r in te]))
    if static_w:
        ST.fit_idf([r["text"] for r in tr])
        X.append(csr_matrix(ST.sent([r["text"] for r in tr]) * static_w)); Y.append(csr_matrix(ST.sent([r["text"] for r in te]) * static_w))
    return hstack(X).tocsr(), hstack(Y).tocsr()
def run(name, sets, static_w, C=0.5, max_iter=10):
    accs, fits = [], []
    for tr, te in sets:
        X, Y = features(tr, te, static_w)
        t = time.time(); clf = LinearSVC(C=C, max_iter=max_iter).fit(X, [r["intent"] for r in tr]); fits.append(time.time() - t)
        accs.append(np.mean(clf.predict(Y) == np.array([r["intent"] for r in te])))
    print(json.dumps(dict(name=name, static_w=static_w, C=C, max_iter=max_iter, acc=round(100 * np.mean(accs), 2),
                          per_split=[round(100 * a, 2) for a in accs], fit_s=round(np.mean(fits), 2))), flush=True)
if __name__ == "__main__":
    get = test_sets if "--test" in sys.argv else val_sets
    for ds in ("b77", "snips", "small"):
        sets = get(ds)
        run(f"{ds} baseline tfidf (C=0.5, converged)", sets, 0.0, max_iter=1000)
        run(f"{ds} tfidf + static128 (recipe)", sets, 1.0, max_iter=10)
