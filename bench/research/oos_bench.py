"""Out-of-scope threshold without OOS training data: hold out whole intents as pseudo-OOS.

  python3 bench/research/oos_bench.py b77|small
For each fold (5 folds of intents for banking77, leave-one-intent-out for the 7 snips intents): train the intent
recipe (intent_bench.features, LinearSVC C=0.5, 10 epochs) on the remaining intents (90% of them); calibrate
p = softmax(T * decision_scores) with T fitted by NLL on the in-scope 10% hold-out; choose the threshold tau on
max p that maximises balanced accuracy = 0.5*(in-scope correct-and-accepted rate + pseudo-OOS rejection rate).
Prints per-fold T, tau and the trade-off at fixed taus; the app's tau = median over folds.
"""
import sys, os, json, warnings; warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from sklearn.svm import LinearSVC
from nlu_common import load, split
import intent_bench
def softmax(S, T):
    Z = S * T; Z -= Z.max(1, keepdims=True); P = np.exp(Z); return P / P.sum(1, keepdims=True)
which = sys.argv[1] if len(sys.argv) > 1 else "small"
rows = load("banking77/train") if which == "b77" else load("snips/train_small")
intents = sorted(set(r["intent"] for r in rows)); rng = np.random.RandomState(0); perm = rng.permutation(len(intents))
nf = 5 if len(intents) > 10 else len(intents); res = []
for f in range(nf):
    held = set(intents[i] for i in perm[f::nf])
    ins = [r for r in rows if r["intent"] not in held]; oos = [r for r in rows if r["intent"] in held]
    tr, va = split(ins, 0.1, f); oos = [oos[i] for i in rng.permutation(len(oos))[:len(va)]]
    X, Y = intent_bench.features(tr, va + oos, 1.0)
    clf = LinearSVC(C=0.5, max_iter=10).fit(X, [r["intent"] for r in tr])
    S = clf.decision_function(Y); Sva, Soos = S[:len(va)], S[len(va):]
    yva = np.array([list(clf.classes_).index(r["intent"]) for r in va])
    Ts = np.exp(np.linspace(np.log(0.5), np.log(50), 60))
    T = Ts[int(np.argmin([-np.log(softmax(Sva, t)[np.arange(len(yva)), yva] + 1e-12).mean() for t in Ts]))]
    pin, pout = softmax(Sva, T).max(1), softmax(Soos, T).max(1); ok = Sva.argmax(1) == yva
    bal = lambda t: 0.5 * ((ok & (pin >= t)).mean() + (pout < t).mean())
    tau = max(np.unique(np.concatenate([pin, pout])), key=bal)
    out = dict(fold=f, held_out=sorted(held)[:3], T=round(float(T), 2), in_acc=round(100 * ok.mean(), 1), tau=round(float(tau), 3),
               bal_acc=round(100 * bal(tau), 1))
    for t in (0.5, 0.7, 0.9):
        out[f"tau{t}:in_kept/oos_rej"] = (round(100 * (ok & (pin >= t)).mean(), 1), round(100 * (pout < t).mean(), 1))
    print(json.dumps(out), flush=True); res.append(out)
print(json.dumps(dict(median_tau=float(np.median([r["tau"] for r in res])), median_T=float(np.median([r["T"] for r in res])),
                      mean_bal_acc=round(float(np.mean([r["bal_acc"] for r in res])), 1))))
