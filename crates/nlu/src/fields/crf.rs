//! A linear-chain conditional random field over hashed binary features.
//!
//! Each token carries a handful of `u64` feature ids; each label is a `u16`.
//! A feature seen in training owns one *row*: the weights it gives to the
//! labels, stored contiguously (all labels, or only the labels it was seen
//! with, see [`CrfConfig::all_label_pairs`]). Label-to-label transitions,
//! start and end weights complete the model, and a mask of allowed
//! transitions (BIO: `I-x` only after `B-x` or `I-x`) is honoured by both
//! training and decoding.
//!
//! Training maximises the L2-regularised conditional log-likelihood by
//! stochastic gradient descent (forward-backward on every sequence, the
//! regulariser applied through a global scale so that a step costs only
//! the sequence's features), with the learning rate calibrated on a sample
//! as CRFsuite's `l2sgd` does, and the weights of the second half of the
//! epochs averaged. It is single-threaded and deterministic for a given
//! input and seed (about 0.4 s for 1,800 utterances with 29 labels). Feature groups can be dropped at random while
//! training (see [`Feature::group`]) so that the model does not over-trust
//! features that are always present in training but not at run time.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Stable 64-bit hashing for feature ids (independent of the platform and of
/// any crate's version: ids are stored in model files).
pub mod hash {
    const K1: u64 = 0x9E37_79B9_7F4A_7C15;
    const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;

    /// MurmurHash3's 64-bit finaliser.
    #[inline]
    pub fn fmix(mut x: u64) -> u64 {
        x ^= x >> 33;
        x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        x ^= x >> 33;
        x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        x ^ (x >> 33)
    }

    /// Combines two hashes (order matters).
    #[inline]
    pub fn combine(a: u64, b: u64) -> u64 {
        fmix(a.wrapping_mul(K1).rotate_left(31) ^ b.wrapping_add(K2))
    }

    /// Hashes bytes with a seed (the template or namespace).
    pub fn bytes(seed: u64, data: &[u8]) -> u64 {
        let mut h = fmix(seed ^ K2.wrapping_mul(data.len() as u64 + 1));
        let mut chunks = data.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            h = (h ^ fmix(u64::from_le_bytes(word)))
                .wrapping_mul(K1)
                .rotate_left(27);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            h = (h ^ fmix(u64::from_le_bytes(word) ^ 0xFF)).wrapping_mul(K1);
        }
        fmix(h)
    }

    /// Hashes a string with a seed.
    #[inline]
    pub fn str(seed: u64, s: &str) -> u64 {
        bytes(seed, s.as_bytes())
    }
}

/// A small deterministic generator (SplitMix64): training must not depend on
/// a crate's generator changing between versions.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        hash::fmix(self.0)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// One feature of one token in a training sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub id: u64,
    /// 0: always present. Otherwise the features of one group (within a
    /// sequence) are hidden together while training, with the group's
    /// probability ([`Sequence::dropout`]), drawn anew at every epoch.
    pub group: u32,
}

/// A labelled sequence for training. The features of token `t` are
/// `features[offsets[t]..offsets[t + 1]]`.
#[derive(Debug, Clone, Default)]
pub struct Sequence {
    pub features: Vec<Feature>,
    pub offsets: Vec<u32>,
    pub labels: Vec<u16>,
    /// `dropout[g]`: probability of hiding group `g` (missing: never).
    pub dropout: Vec<f32>,
}

impl Sequence {
    pub fn new() -> Sequence {
        Sequence {
            features: Vec::new(),
            offsets: vec![0],
            labels: Vec::new(),
            dropout: Vec::new(),
        }
    }

    /// Appends a token: its label and features.
    pub fn push(&mut self, label: u16, features: impl IntoIterator<Item = Feature>) {
        self.features.extend(features);
        self.offsets.push(self.features.len() as u32);
        self.labels.push(label);
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct CrfConfig {
    /// Coefficient of the L2 penalty `c2 · ‖w‖²` on the summed log-likelihood
    /// (CRFsuite's `c2`).
    pub c2: f64,
    /// Passes over the training sequences.
    pub epochs: usize,
    /// Initial learning rate; `None` calibrates it on a sample.
    pub learning_rate: Option<f64>,
    /// Give every feature a weight for every label (`true`), or only for the
    /// labels it was seen with in training (`false`: smaller, faster).
    pub all_label_pairs: bool,
    /// Weights smaller than this in magnitude are dropped after training.
    pub prune_below: f32,
    /// Average the weights at the ends of the second half of the epochs.
    pub average: bool,
}

impl Default for CrfConfig {
    fn default() -> Self {
        CrfConfig {
            c2: 0.1,
            epochs: 10,
            learning_rate: None,
            all_label_pairs: false,
            prune_below: 1e-4,
            average: true,
        }
    }
}

/// A trained linear-chain CRF.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Crf {
    num_labels: usize,
    /// Feature id → row.
    #[serde(with = "crate::sorted_map")]
    rows: FxHashMap<u64, u32>,
    /// Row `r` holds entries `row_start[r]..row_start[r + 1]`.
    row_start: Vec<u32>,
    entry_labels: Vec<u16>,
    entry_weights: Vec<f32>,
    /// `transitions[from * L + to]`.
    transitions: Vec<f32>,
    start: Vec<f32>,
    end: Vec<f32>,
    /// Allowed transitions (same layout), and allowed first labels.
    allowed: Vec<bool>,
    allowed_start: Vec<bool>,
    /// `transitions` and `start` with [`FORBIDDEN`] where not allowed (for Viterbi).
    transition_scores: Vec<f32>,
    start_scores: Vec<f32>,
    /// `rows` and the entries laid out for scoring; derived, so not stored
    /// (built when first needed, or by [`Crf::prepare`]).
    #[serde(skip)]
    table: std::sync::OnceLock<FeatureTable>,
    /// `transition_scores`' exponentials, for [`Crf::log_partition`];
    /// derived, so not stored (built when first needed).
    #[serde(skip)]
    exp_transitions: std::sync::OnceLock<Vec<f32>>,
}

/// `ln Σ exp(x)`, safe from overflow.
fn log_sum_exp(x: &[f32]) -> f32 {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    max + x.iter().map(|&v| (v - max).exp()).sum::<f32>().ln()
}

/// Score of a forbidden move in Viterbi.
const FORBIDDEN: f32 = -1e30;

/// Which label sequences are possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraints {
    /// `transitions[from * L + to]`.
    pub transitions: Vec<bool>,
    pub start: Vec<bool>,
}

impl Constraints {
    /// Everything allowed.
    pub fn none(num_labels: usize) -> Constraints {
        Constraints {
            transitions: vec![true; num_labels * num_labels],
            start: vec![true; num_labels],
        }
    }
}

/// The CRF's features for scoring: an open-addressing table of feature
/// ids, each slot holding where its entries are, and the entries with
/// label and weight side by side. A feature costs one cache miss for the
/// slot (a missing one too, the probe staying in a line or two) and one for
/// its entries, where the hash map, `row_start` and the two entry arrays
/// cost four or five. The entries are in the rows' order, so scores sum in
/// the same order as from `rows`.
#[derive(Debug, Clone, Default)]
struct FeatureTable {
    /// Linear probing, a power of two long, at most half full; a slot
    /// with `start == end` is empty (rows without entries are left out:
    /// they add nothing).
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`: the slot of an id is its top bits after
    /// a multiplication (ids such as the bias are small numbers).
    shift: u32,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    id: u64,
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    weight: f32,
    label: u32,
}

impl FeatureTable {
    fn new(
        rows: &FxHashMap<u64, u32>,
        row_start: &[u32],
        labels: &[u16],
        weights: &[f32],
    ) -> FeatureTable {
        let capacity = (2 * rows.len()).next_power_of_two().max(2);
        let mut table = FeatureTable {
            slots: vec![Slot::default(); capacity],
            shift: 64 - capacity.trailing_zeros(),
            entries: labels
                .iter()
                .zip(weights)
                .map(|(&label, &weight)| Entry {
                    weight,
                    label: label as u32,
                })
                .collect(),
        };
        for (&id, &r) in rows {
            let (start, end) = (row_start[r as usize], row_start[r as usize + 1]);
            if start < end {
                let at = table.free_slot(id);
                table.slots[at] = Slot { id, start, end };
            }
        }
        table
    }

    fn home(&self, id: u64) -> usize {
        (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn free_slot(&self, id: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = self.home(id);
        while self.slots[at].start < self.slots[at].end {
            at = (at + 1) & mask;
        }
        at
    }

    /// Asks for the slot of `id` to be brought into the cache: the lookups
    /// of a sequence are then waited for together, not one after another.
    #[inline]
    fn prefetch_slot(&self, id: u64) {
        prefetch(&self.slots[self.home(id)]);
    }

    #[inline]
    fn prefetch_entries(&self, start: u32) {
        if let Some(entry) = self.entries.get(start as usize) {
            prefetch(entry);
        }
    }

    /// The range of `entries` of feature `id` (empty when it has none).
    #[inline]
    fn entries_of(&self, id: u64) -> (u32, u32) {
        let mask = self.slots.len() - 1;
        let mut at = self.home(id);
        loop {
            let slot = self.slots[at];
            if slot.start == slot.end || slot.id == id {
                return (slot.start, slot.end);
            }
            at = (at + 1) & mask;
        }
    }
}

/// A hint to load the cache line of `value`; no effect on results.
#[inline]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache; it never faults, and the
    // pointer comes from a reference anyway.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

impl Crf {
    pub fn num_labels(&self) -> usize {
        self.num_labels
    }

    /// Number of features with a row.
    pub fn num_features(&self) -> usize {
        self.row_start.len().saturating_sub(1)
    }

    /// Number of (feature, label) weights stored.
    pub fn num_weights(&self) -> usize {
        self.entry_weights.len()
    }

    /// Trains on `sequences` whose labels are all `< num_labels`.
    ///
    /// # Panics
    /// If a label is out of range, or `constraints` do not have the right size.
    pub fn train(
        sequences: &[Sequence],
        num_labels: usize,
        constraints: &Constraints,
        config: &CrfConfig,
        seed: u64,
    ) -> Crf {
        let l = num_labels.max(1);
        assert_eq!(constraints.transitions.len(), l * l);
        assert_eq!(constraints.start.len(), l);
        let mut trainer = Trainer::new(sequences, l, constraints, config);
        let sample = calibration_sample(trainer.data.len(), seed);
        let eta0 = match config.learning_rate {
            Some(eta) => eta,
            None => trainer.calibrate(&sample, seed),
        };
        trainer.run(eta0, config.epochs, seed, None);
        trainer.finish(config.prune_below)
    }

    /// Builds the lookup table scoring uses now rather than at the first
    /// parse (after reading a model, say).
    pub fn prepare(&self) {
        self.table();
        self.exp_transitions();
    }

    fn table(&self) -> &FeatureTable {
        self.table.get_or_init(|| {
            FeatureTable::new(
                &self.rows,
                &self.row_start,
                &self.entry_labels,
                &self.entry_weights,
            )
        })
    }

    /// Fills `scores[t * L + y]` with the state score of label `y` at token
    /// `t`; token `t`'s features are `features[offsets[t]..offsets[t + 1]]`
    /// (unknown ids are ignored).
    pub fn state_scores(&self, features: &[u64], offsets: &[u32], scores: &mut Vec<f32>) {
        thread_local! {
            static ROWS: std::cell::RefCell<Vec<(u32, u32)>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        ROWS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut rows) => self.state_scores_with(features, offsets, scores, &mut rows),
            Err(_) => self.state_scores_with(features, offsets, scores, &mut Vec::new()),
        })
    }

    fn state_scores_with(
        &self,
        features: &[u64],
        offsets: &[u32],
        scores: &mut Vec<f32>,
        rows: &mut Vec<(u32, u32)>,
    ) {
        let l = self.num_labels;
        let n = offsets.len().saturating_sub(1);
        scores.clear();
        scores.resize(n * l, 0.0);
        // All the lookups first, in a loop of independent loads: the table
        // is larger than the cache, and most of the time went to waiting
        // on one miss after another while scattering in between.
        let table = self.table();
        for &id in features {
            table.prefetch_slot(id);
        }
        rows.clear();
        rows.extend(features.iter().map(|&id| table.entries_of(id)));
        for &(a, _) in rows.iter() {
            table.prefetch_entries(a);
        }
        for t in 0..n {
            let row_scores = &mut scores[t * l..(t + 1) * l];
            for &(a, b) in &rows[offsets[t] as usize..offsets[t + 1] as usize] {
                for entry in &table.entries[a as usize..b as usize] {
                    row_scores[entry.label as usize] += entry.weight;
                }
            }
        }
    }

    /// The best label sequence for state scores from [`Crf::state_scores`].
    pub fn viterbi(&self, scores: &[f32]) -> Vec<u16> {
        let mut path = Vec::new();
        self.viterbi_into(scores, &mut Vec::new(), &mut path);
        path
    }

    /// [`Crf::viterbi`] with caller-owned buffers; returns the best path's
    /// total score (0 for an empty sequence).
    pub fn viterbi_into(&self, scores: &[f32], back: &mut Vec<u16>, path: &mut Vec<u16>) -> f32 {
        let l = self.num_labels;
        path.clear();
        let n = scores.len() / l.max(1);
        if n == 0 || l == 0 {
            return 0.0;
        }
        // Forbidden moves score FORBIDDEN: finite, so sums stay ordered, and
        // far below any real path (the `O` label is always reachable).
        let mut delta = [0f32; 64];
        let mut next = [0f32; 64];
        let mut delta_vec;
        let mut next_vec;
        let (delta, next): (&mut [f32], &mut [f32]) = if l <= 64 {
            (&mut delta[..l], &mut next[..l])
        } else {
            delta_vec = vec![0f32; l];
            next_vec = vec![0f32; l];
            (&mut delta_vec, &mut next_vec)
        };
        back.clear();
        back.resize(n * l, 0);
        for y in 0..l {
            delta[y] = self.start_scores[y] + scores[y];
        }
        for t in 1..n {
            let state = &scores[t * l..(t + 1) * l];
            let back_t = &mut back[t * l..(t + 1) * l];
            // Column-wise max over `from` for every `to`, row by row (cache-friendly).
            let d0 = delta[0];
            for (v, &tr) in next.iter_mut().zip(&self.transition_scores[..l]) {
                *v = d0 + tr;
            }
            back_t.fill(0);
            for (i, &d) in delta.iter().enumerate().skip(1) {
                let row = &self.transition_scores[i * l..(i + 1) * l];
                for ((v, b), &tr) in next.iter_mut().zip(back_t.iter_mut()).zip(row) {
                    let s = d + tr;
                    if s > *v {
                        *v = s;
                        *b = i as u16;
                    }
                }
            }
            for (v, &s) in next.iter_mut().zip(state) {
                *v += s;
            }
            delta.copy_from_slice(next);
        }
        let mut best = f32::NEG_INFINITY;
        let mut last = 0usize;
        for (y, (&d, &e)) in delta.iter().zip(&self.end).enumerate() {
            if d + e > best {
                best = d + e;
                last = y;
            }
        }
        path.resize(n, 0);
        path[n - 1] = last as u16;
        for t in (1..n).rev() {
            path[t - 1] = back[t * l + path[t] as usize];
        }
        best
    }

    /// The log of the partition function: the log of the sum, over every
    /// allowed label sequence, of the exponential of its score, for state
    /// scores from [`Crf::state_scores`]. A path's log-probability is its
    /// score (Viterbi's) minus this. Forward algorithm in probability space,
    /// rescaled at each token (two exponentials or logarithms a label and a
    /// token, and the transitions' exponentials worked out once per model).
    pub fn log_partition(&self, scores: &[f32]) -> f32 {
        let l = self.num_labels;
        let n = scores.len() / l.max(1);
        if n == 0 || l == 0 {
            return 0.0;
        }
        let exp_transitions = self.exp_transitions();
        // In log space: the first token's label scores, then each next
        // token's from the previous one's, rescaled by their maximum (added
        // to `scale`) before the exponentials.
        let mut log_alpha: Vec<f32> = (0..l).map(|y| self.start_scores[y] + scores[y]).collect();
        let mut alpha = vec![0f32; l];
        let mut next = vec![0f32; l];
        let mut scale = 0.0f32;
        for t in 1..n {
            let max = log_alpha.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            scale += max;
            for (a, &x) in alpha.iter_mut().zip(&log_alpha) {
                *a = (x - max).exp();
            }
            next.fill(0.0);
            for (from, &a) in alpha.iter().enumerate() {
                let row = &exp_transitions[from * l..(from + 1) * l];
                for (v, &e) in next.iter_mut().zip(row) {
                    *v += a * e;
                }
            }
            for ((x, &v), &s) in log_alpha.iter_mut().zip(&next).zip(&scores[t * l..]) {
                *x = v.ln() + s;
            }
        }
        for (x, &e) in log_alpha.iter_mut().zip(&self.end) {
            *x += e;
        }
        scale + log_sum_exp(&log_alpha)
    }

    /// `exp(transition_scores)` (0 where forbidden), built once.
    fn exp_transitions(&self) -> &[f32] {
        self.exp_transitions
            .get_or_init(|| self.transition_scores.iter().map(|&s| s.exp()).collect())
    }

    /// Per-token label marginals `P(y_t = y | x)` (same layout as `scores`).
    pub fn marginals(&self, scores: &[f32]) -> Vec<f32> {
        let l = self.num_labels;
        let n = scores.len() / l.max(1);
        if n == 0 || l == 0 {
            return Vec::new();
        }
        let mut lattice = Lattice::new(l);
        let trans: Vec<f64> = self.transitions.iter().map(|&w| w as f64).collect();
        let start: Vec<f64> = self.start.iter().map(|&w| w as f64).collect();
        let end: Vec<f64> = self.end.iter().map(|&w| w as f64).collect();
        lattice.set_transitions(&trans, &start, &end, &self.allowed, &self.allowed_start);
        lattice.reset(n);
        for (dst, &s) in lattice.state.iter_mut().zip(scores) {
            *dst = s as f64;
        }
        lattice.forward_backward();
        lattice.compute_marginals();
        lattice.marginals.iter().map(|&p| p as f32).collect()
    }

    /// Total score of a label sequence (for tests and diagnostics).
    pub fn sequence_score(&self, scores: &[f32], labels: &[u16]) -> f32 {
        let l = self.num_labels;
        let mut s = 0.0;
        for (t, &y) in labels.iter().enumerate() {
            let y = y as usize;
            if t == 0 {
                if !self.allowed_start[y] {
                    return f32::NEG_INFINITY;
                }
                s += self.start[y];
            } else {
                let p = labels[t - 1] as usize;
                if !self.allowed[p * l + y] {
                    return f32::NEG_INFINITY;
                }
                s += self.transitions[p * l + y];
            }
            s += scores[t * l + y];
        }
        if let Some(&y) = labels.last() {
            s += self.end[y as usize];
        }
        s
    }
}

/// Forward-backward in probability space with per-position scaling.
struct Lattice {
    l: usize,
    n: usize,
    /// exp(transition), 0 where forbidden.
    trans_exp: Vec<f64>,
    start_exp: Vec<f64>,
    end_exp: Vec<f64>,
    /// Raw state scores, then exp(score - max) per position.
    state: Vec<f64>,
    max: Vec<f64>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    scale: Vec<f64>,
    /// Σ_j alpha[n-1][j] · end_exp[j].
    z_tail: f64,
    /// Per-token label marginals, after `compute_marginals`.
    marginals: Vec<f64>,
    tmp: Vec<f64>,
}

impl Lattice {
    fn new(l: usize) -> Lattice {
        Lattice {
            l,
            n: 0,
            trans_exp: vec![0.0; l * l],
            start_exp: vec![0.0; l],
            end_exp: vec![0.0; l],
            state: Vec::new(),
            max: Vec::new(),
            alpha: Vec::new(),
            beta: Vec::new(),
            scale: Vec::new(),
            z_tail: 1.0,
            marginals: Vec::new(),
            tmp: vec![0.0; l],
        }
    }

    fn set_transitions(
        &mut self,
        trans: &[f64],
        start: &[f64],
        end: &[f64],
        allowed: &[bool],
        allowed_start: &[bool],
    ) {
        for k in 0..self.l * self.l {
            self.trans_exp[k] = if allowed[k] { trans[k].exp() } else { 0.0 };
        }
        for y in 0..self.l {
            self.start_exp[y] = if allowed_start[y] {
                start[y].exp()
            } else {
                0.0
            };
            self.end_exp[y] = end[y].exp();
        }
    }

    fn reset(&mut self, n: usize) {
        self.n = n;
        let size = n * self.l;
        self.state.clear();
        self.state.resize(size, 0.0);
        self.alpha.resize(size, 0.0);
        self.beta.resize(size, 0.0);
        self.max.resize(n, 0.0);
        self.scale.resize(n, 1.0);
    }

    /// Runs forward-backward over `state` (raw scores); returns log Z.
    fn forward_backward(&mut self) -> f64 {
        let (l, n) = (self.l, self.n);
        for t in 0..n {
            let row = &mut self.state[t * l..(t + 1) * l];
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            self.max[t] = m;
            for s in row.iter_mut() {
                *s = (*s - m).exp();
            }
        }
        // Forward.
        let mut sum = 0.0;
        for y in 0..l {
            let a = self.start_exp[y] * self.state[y];
            self.alpha[y] = a;
            sum += a;
        }
        self.normalise_alpha(0, sum);
        for t in 1..n {
            let (prev, cur) = self.alpha.split_at_mut(t * l);
            let prev = &prev[(t - 1) * l..];
            let cur = &mut cur[..l];
            cur.fill(0.0);
            for (i, &a) in prev.iter().enumerate() {
                if a == 0.0 {
                    continue;
                }
                let row = &self.trans_exp[i * l..(i + 1) * l];
                for (c, &tr) in cur.iter_mut().zip(row) {
                    *c += a * tr;
                }
            }
            let mut sum = 0.0;
            for (c, &e) in cur.iter_mut().zip(&self.state[t * l..(t + 1) * l]) {
                *c *= e;
                sum += *c;
            }
            self.normalise_alpha(t, sum);
        }
        let last = &self.alpha[(n - 1) * l..n * l];
        self.z_tail = last.iter().zip(&self.end_exp).map(|(a, e)| a * e).sum();
        if self.z_tail.is_nan() || self.z_tail <= 0.0 || self.z_tail.is_infinite() {
            self.z_tail = f64::MIN_POSITIVE;
        }
        // Backward.
        self.beta[(n - 1) * l..n * l].copy_from_slice(&self.end_exp);
        let mut tmp = std::mem::take(&mut self.tmp);
        for t in (0..n - 1).rev() {
            let c = self.scale[t + 1];
            for (j, v) in tmp.iter_mut().enumerate() {
                *v = self.state[(t + 1) * l + j] * self.beta[(t + 1) * l + j] / c;
            }
            for i in 0..l {
                let row = &self.trans_exp[i * l..(i + 1) * l];
                self.beta[t * l + i] = row.iter().zip(&tmp).map(|(a, b)| a * b).sum();
            }
        }
        self.tmp = tmp;
        self.scale.iter().map(|c| c.ln()).sum::<f64>()
            + self.max.iter().sum::<f64>()
            + self.z_tail.ln()
    }

    fn normalise_alpha(&mut self, t: usize, sum: f64) {
        let sum = if sum > 0.0 && sum.is_finite() {
            sum
        } else {
            f64::MIN_POSITIVE
        };
        self.scale[t] = sum;
        for a in &mut self.alpha[t * self.l..(t + 1) * self.l] {
            *a /= sum;
        }
    }

    fn compute_marginals(&mut self) {
        let size = self.n * self.l;
        let inv = 1.0 / self.z_tail;
        self.marginals.clear();
        self.marginals.extend(
            self.alpha[..size]
                .iter()
                .zip(&self.beta[..size])
                .map(|(a, b)| a * b * inv),
        );
    }
}

/// A training sequence with feature ids resolved to rows.
struct Prepared {
    rows: Vec<u32>,
    groups: Vec<u32>,
    offsets: Vec<u32>,
    labels: Vec<u16>,
    dropout: Vec<f32>,
}

struct Trainer<'c> {
    l: usize,
    config: &'c CrfConfig,
    ids: Vec<u64>,
    row_start: Vec<u32>,
    entry_labels: Vec<u16>,
    data: Vec<Prepared>,
    /// Transitions, start, end, then the row entries; true weight = `scale · w`.
    weights: Vec<f64>,
    scale: f64,
    allowed: Vec<bool>,
    allowed_start: Vec<bool>,
    lattice: Lattice,
    keep: Vec<bool>,
    factor: Vec<f64>,
}

const MAX_CALIBRATION_SAMPLE: usize = 600;

fn calibration_sample(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix::new(seed ^ 0xCA11_B8A7).shuffle(&mut order);
    order.truncate(MAX_CALIBRATION_SAMPLE);
    order
}

impl<'c> Trainer<'c> {
    fn new(
        sequences: &[Sequence],
        l: usize,
        constraints: &Constraints,
        config: &'c CrfConfig,
    ) -> Trainer<'c> {
        // Rows in order of first appearance (deterministic).
        let mut row_of: FxHashMap<u64, u32> = FxHashMap::default();
        let mut ids = Vec::new();
        let mut pairs: Vec<(u32, u16)> = Vec::new();
        let mut data = Vec::with_capacity(sequences.len());
        for seq in sequences {
            assert_eq!(seq.offsets.len(), seq.labels.len() + 1, "offsets/labels");
            let mut prepared = Prepared {
                rows: Vec::with_capacity(seq.features.len()),
                groups: Vec::with_capacity(seq.features.len()),
                offsets: seq.offsets.clone(),
                labels: seq.labels.clone(),
                dropout: seq.dropout.clone(),
            };
            for (t, &y) in seq.labels.iter().enumerate() {
                assert!((y as usize) < l, "label {y} out of range");
                let (a, b) = (seq.offsets[t] as usize, seq.offsets[t + 1] as usize);
                for f in &seq.features[a..b] {
                    let next = ids.len() as u32;
                    let r = *row_of.entry(f.id).or_insert_with(|| {
                        ids.push(f.id);
                        next
                    });
                    if !config.all_label_pairs {
                        pairs.push((r, y));
                    }
                    prepared.rows.push(r);
                    prepared.groups.push(f.group);
                    let g = f.group as usize;
                    if prepared.dropout.len() <= g {
                        prepared.dropout.resize(g + 1, 0.0);
                    }
                }
            }
            data.push(prepared);
        }
        let num_rows = ids.len();
        let mut row_start = Vec::with_capacity(num_rows + 1);
        let mut entry_labels = Vec::new();
        row_start.push(0u32);
        if config.all_label_pairs {
            for _ in 0..num_rows {
                entry_labels.extend(0..l as u16);
                row_start.push(entry_labels.len() as u32);
            }
        } else {
            pairs.sort_unstable();
            pairs.dedup();
            let mut k = 0;
            for r in 0..num_rows as u32 {
                while k < pairs.len() && pairs[k].0 == r {
                    entry_labels.push(pairs[k].1);
                    k += 1;
                }
                row_start.push(entry_labels.len() as u32);
            }
        }
        let weights = vec![0.0; l * l + 2 * l + entry_labels.len()];
        let mut lattice = Lattice::new(l);
        lattice.set_transitions(
            &vec![0.0; l * l],
            &vec![0.0; l],
            &vec![0.0; l],
            &constraints.transitions,
            &constraints.start,
        );
        Trainer {
            l,
            config,
            ids,
            row_start,
            entry_labels,
            data,
            weights,
            scale: 1.0,
            allowed: constraints.transitions.clone(),
            allowed_start: constraints.start.clone(),
            lattice,
            keep: Vec::new(),
            factor: Vec::new(),
        }
    }

    fn entries_offset(&self) -> usize {
        self.l * self.l + 2 * self.l
    }

    fn reset_weights(&mut self) {
        self.weights.fill(0.0);
        self.scale = 1.0;
    }

    /// Tries learning rates on a sample; the one with the lowest objective
    /// after one epoch wins (CRFsuite's calibration, simplified).
    fn calibrate(&mut self, sample: &[usize], seed: u64) -> f64 {
        let mut best = (f64::INFINITY, 0.1);
        for eta in [0.5, 0.2, 0.1, 0.05, 0.02, 0.01] {
            self.reset_weights();
            let loss = self.run(eta, 1, seed, Some(sample));
            if loss.is_finite() && loss < best.0 {
                best = (loss, eta);
            }
        }
        self.reset_weights();
        best.1
    }

    /// Runs SGD epochs over all data (or `subset`); returns the final
    /// objective (negative log-likelihood + penalty) measured during the last epoch.
    fn run(&mut self, eta0: f64, epochs: usize, seed: u64, subset: Option<&[usize]>) -> f64 {
        let mut order: Vec<usize> = match subset {
            Some(s) => s.to_vec(),
            None => (0..self.data.len()).collect(),
        };
        if order.is_empty() {
            return 0.0;
        }
        let n = order.len() as f64;
        let lambda = 2.0 * self.config.c2 / n;
        let t0 = 1.0 / (lambda * eta0);
        let mut rng = SplitMix::new(seed);
        let mut step = 0.0f64;
        let mut loss = 0.0;
        let average_from = if subset.is_none() && self.config.average {
            epochs / 2
        } else {
            usize::MAX
        };
        let mut sum: Vec<f64> = Vec::new();
        let mut snapshots = 0usize;
        for epoch in 0..epochs {
            rng.shuffle(&mut order);
            loss = 0.0;
            for &s in &order {
                let eta = 1.0 / (lambda * (t0 + step));
                step += 1.0;
                self.scale *= 1.0 - eta * lambda;
                if self.scale < 1e-20 || !(self.scale.is_finite()) {
                    self.rescale();
                }
                let gain = eta / self.scale;
                loss += self.step(s, gain, &mut rng);
            }
            let norm: f64 =
                self.weights.iter().map(|w| w * w).sum::<f64>() * self.scale * self.scale;
            loss += self.config.c2 * norm;
            if epoch >= average_from {
                sum.resize(self.weights.len(), 0.0);
                for (a, w) in sum.iter_mut().zip(&self.weights) {
                    *a += w * self.scale;
                }
                snapshots += 1;
            }
        }
        if snapshots > 0 {
            // Polyak-style averaging of the end-of-epoch weights.
            for (w, a) in self.weights.iter_mut().zip(&sum) {
                *w = a / snapshots as f64;
            }
            self.scale = 1.0;
        }
        loss
    }

    fn rescale(&mut self) {
        for w in &mut self.weights {
            *w *= self.scale;
        }
        self.scale = 1.0;
    }

    /// One stochastic gradient step on sequence `s`; returns its negative log-likelihood.
    fn step(&mut self, s: usize, gain: f64, rng: &mut SplitMix) -> f64 {
        let l = self.l;
        let off = self.entries_offset();
        let seq = &self.data[s];
        let n = seq.labels.len();
        if n == 0 {
            return 0.0;
        }
        // Which groups are kept this time.
        self.keep.clear();
        self.keep.push(true);
        for &p in seq.dropout.iter().skip(1) {
            self.keep.push(p <= 0.0 || rng.next_f64() >= p as f64);
        }
        // Transitions in probability space.
        let scale = self.scale;
        {
            let (trans, rest) = self.weights.split_at(l * l);
            let trans: Vec<f64> = trans.iter().map(|w| w * scale).collect();
            let start: Vec<f64> = rest[..l].iter().map(|w| w * scale).collect();
            let end: Vec<f64> = rest[l..2 * l].iter().map(|w| w * scale).collect();
            self.lattice
                .set_transitions(&trans, &start, &end, &self.allowed, &self.allowed_start);
        }
        self.lattice.reset(n);
        let mut gold = 0.0;
        for t in 0..n {
            let (a, b) = (seq.offsets[t] as usize, seq.offsets[t + 1] as usize);
            let state = &mut self.lattice.state[t * l..(t + 1) * l];
            for k in a..b {
                if !self.keep[seq.groups[k] as usize] {
                    continue;
                }
                let r = seq.rows[k] as usize;
                let (ea, eb) = (self.row_start[r] as usize, self.row_start[r + 1] as usize);
                for e in ea..eb {
                    state[self.entry_labels[e] as usize] += self.weights[off + e] * scale;
                }
            }
            gold += state[seq.labels[t] as usize];
        }
        for t in 0..n {
            let y = seq.labels[t] as usize;
            gold += scale
                * if t == 0 {
                    self.weights[l * l + y]
                } else {
                    self.weights[seq.labels[t - 1] as usize * l + y]
                };
        }
        gold += scale * self.weights[l * l + l + seq.labels[n - 1] as usize];
        let log_z = self.lattice.forward_backward();
        // Gradient ascent on the log-likelihood.
        self.lattice.compute_marginals();
        let lat = &self.lattice;
        for t in 0..n {
            let y_gold = seq.labels[t];
            let marginals = &lat.marginals[t * l..(t + 1) * l];
            let (a, b) = (seq.offsets[t] as usize, seq.offsets[t + 1] as usize);
            for k in a..b {
                if !self.keep[seq.groups[k] as usize] {
                    continue;
                }
                let r = seq.rows[k] as usize;
                let (ea, eb) = (self.row_start[r] as usize, self.row_start[r + 1] as usize);
                let labels = &self.entry_labels[ea..eb];
                let weights = &mut self.weights[off + ea..off + eb];
                for (w, &y) in weights.iter_mut().zip(labels) {
                    let observed = if y == y_gold { 1.0 } else { 0.0 };
                    *w += gain * (observed - marginals[y as usize]);
                }
            }
        }
        for y in 0..l {
            self.weights[l * l + y] -= gain * lat.marginals[y];
            self.weights[l * l + l + y] -= gain * lat.marginals[(n - 1) * l + y];
        }
        self.weights[l * l + seq.labels[0] as usize] += gain;
        self.weights[l * l + l + seq.labels[n - 1] as usize] += gain;
        // Expected transitions: P(y_{t-1} = i, y_t = j)
        //   = alpha[t-1][i] · trans_exp[i][j] · state[t][j] · beta[t][j] / (scale[t] · z).
        let mut factor = std::mem::take(&mut self.factor);
        factor.resize(l, 0.0);
        for t in 1..n {
            let norm = gain / (lat.scale[t] * lat.z_tail);
            for (j, f) in factor.iter_mut().enumerate() {
                *f = lat.state[t * l + j] * lat.beta[t * l + j] * norm;
            }
            for i in 0..l {
                let a = lat.alpha[(t - 1) * l + i];
                if a == 0.0 {
                    continue;
                }
                let trans_exp = &lat.trans_exp[i * l..(i + 1) * l];
                let weights = &mut self.weights[i * l..(i + 1) * l];
                for ((w, &te), &f) in weights.iter_mut().zip(trans_exp).zip(&factor) {
                    *w -= a * te * f;
                }
            }
            self.weights[seq.labels[t - 1] as usize * l + seq.labels[t] as usize] += gain;
        }
        self.factor = factor;
        log_z - gold
    }

    fn finish(mut self, prune_below: f32) -> Crf {
        self.rescale();
        let l = self.l;
        let off = self.entries_offset();
        let w = &self.weights;
        let mut rows = FxHashMap::default();
        let mut row_start = vec![0u32];
        let mut entry_labels = Vec::new();
        let mut entry_weights = Vec::new();
        for (r, &id) in self.ids.iter().enumerate() {
            let (a, b) = (self.row_start[r] as usize, self.row_start[r + 1] as usize);
            let before = entry_labels.len();
            for e in a..b {
                let weight = w[off + e] as f32;
                if weight.abs() >= prune_below && weight.is_finite() {
                    entry_labels.push(self.entry_labels[e]);
                    entry_weights.push(weight);
                }
            }
            if entry_labels.len() > before {
                rows.insert(id, (row_start.len() - 1) as u32);
                row_start.push(entry_labels.len() as u32);
            }
        }
        let transitions: Vec<f32> = w[..l * l].iter().map(|&x| x as f32).collect();
        let start: Vec<f32> = w[l * l..l * l + l].iter().map(|&x| x as f32).collect();
        let mask = |scores: &[f32], allowed: &[bool]| -> Vec<f32> {
            scores
                .iter()
                .zip(allowed)
                .map(|(&s, &ok)| if ok { s } else { FORBIDDEN })
                .collect()
        };
        Crf {
            num_labels: l,
            rows,
            row_start,
            entry_labels,
            entry_weights,
            transition_scores: mask(&transitions, &self.allowed),
            start_scores: mask(&start, &self.allowed_start),
            transitions,
            start,
            end: w[l * l + l..l * l + 2 * l]
                .iter()
                .map(|&x| x as f32)
                .collect(),
            allowed: self.allowed,
            allowed_start: self.allowed_start,
            table: Default::default(),
            exp_transitions: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(id: u64) -> Feature {
        Feature { id, group: 0 }
    }

    /// A random model with `l` labels, features `0..features`, and some
    /// forbidden transitions (never the ones into label 0).
    fn random_crf(l: usize, features: u64, rng: &mut SplitMix) -> Crf {
        let mut weight = || (rng.next_f64() * 4.0 - 2.0) as f32;
        let mut rows = FxHashMap::default();
        let mut row_start = vec![0u32];
        let mut entry_labels = Vec::new();
        let mut entry_weights = Vec::new();
        for f in 0..features {
            rows.insert(f, f as u32);
            for y in 0..l as u16 {
                entry_labels.push(y);
                entry_weights.push(weight());
            }
            row_start.push(entry_labels.len() as u32);
        }
        let transitions: Vec<f32> = (0..l * l).map(|_| weight()).collect();
        let start: Vec<f32> = (0..l).map(|_| weight()).collect();
        let end: Vec<f32> = (0..l).map(|_| weight()).collect();
        let mut mask_rng = SplitMix::new(l as u64);
        let allowed: Vec<bool> = (0..l * l)
            .map(|k| k % l == 0 || mask_rng.next_f64() < 0.7)
            .collect();
        let allowed_start: Vec<bool> = (0..l)
            .map(|y| y == 0 || mask_rng.next_f64() < 0.7)
            .collect();
        let mask = |s: &[f32], a: &[bool]| -> Vec<f32> {
            s.iter()
                .zip(a)
                .map(|(&s, &ok)| if ok { s } else { FORBIDDEN })
                .collect()
        };
        Crf {
            num_labels: l,
            rows,
            row_start,
            entry_labels,
            entry_weights,
            transition_scores: mask(&transitions, &allowed),
            start_scores: mask(&start, &allowed_start),
            transitions,
            start,
            end,
            allowed,
            allowed_start,
            table: Default::default(),
            exp_transitions: Default::default(),
        }
    }

    /// Every label sequence of length `n` over `l` labels.
    fn all_paths(l: usize, n: usize) -> Vec<Vec<u16>> {
        let mut paths = vec![Vec::new()];
        for _ in 0..n {
            paths = paths
                .into_iter()
                .flat_map(|p| {
                    (0..l as u16).map(move |y| {
                        let mut q = p.clone();
                        q.push(y);
                        q
                    })
                })
                .collect();
        }
        paths
    }

    fn random_input(n: usize, features: u64, rng: &mut SplitMix) -> (Vec<u64>, Vec<u32>) {
        let mut ids = Vec::new();
        let mut offsets = vec![0u32];
        for _ in 0..n {
            for _ in 0..3 {
                // Some ids are unknown to the model.
                ids.push(rng.below(features as usize + 2) as u64);
            }
            offsets.push(ids.len() as u32);
        }
        (ids, offsets)
    }

    /// State scores straight from `rows`, `row_start` and the entry
    /// arrays, as they were computed before the feature table.
    fn state_scores_from_rows(crf: &Crf, features: &[u64], offsets: &[u32]) -> Vec<f32> {
        let l = crf.num_labels;
        let mut scores = vec![0.0f32; (offsets.len() - 1) * l];
        for t in 0..offsets.len() - 1 {
            for id in &features[offsets[t] as usize..offsets[t + 1] as usize] {
                let Some(&r) = crf.rows.get(id) else { continue };
                let (a, b) = (crf.row_start[r as usize], crf.row_start[r as usize + 1]);
                for e in a as usize..b as usize {
                    scores[t * l + crf.entry_labels[e] as usize] += crf.entry_weights[e];
                }
            }
        }
        scores
    }

    #[test]
    fn the_feature_table_gives_the_scores_of_the_rows() {
        let mut rng = SplitMix::new(11);
        let mut crfs: Vec<Crf> = (1..6).map(|l| random_crf(l, 300, &mut rng)).collect();
        // A trained one too: pruned rows, hashed ids, uneven row lengths.
        let sequences = toy_sequences(200, &mut rng);
        let config = CrfConfig {
            prune_below: 0.05,
            ..CrfConfig::default()
        };
        crfs.push(Crf::train(&sequences, 3, &Constraints::none(3), &config, 5));
        for crf in &crfs {
            let known: Vec<u64> = crf.rows.keys().copied().collect();
            for n in [0, 1, 7, 30] {
                let mut features = Vec::new();
                let mut offsets = vec![0u32];
                for _ in 0..n {
                    for _ in 0..rng.below(12) {
                        // Known ids, unknown ones, and small numbers (the bias).
                        features.push(match rng.below(3) {
                            0 if !known.is_empty() => known[rng.below(known.len())],
                            1 => rng.next_u64(),
                            _ => rng.below(400) as u64,
                        });
                    }
                    offsets.push(features.len() as u32);
                }
                let mut scores = Vec::new();
                crf.state_scores(&features, &offsets, &mut scores);
                let expected = state_scores_from_rows(crf, &features, &offsets);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&scores), bits(&expected));
            }
        }
    }

    #[test]
    fn viterbi_and_marginals_agree_with_brute_force() {
        let mut rng = SplitMix::new(7);
        for trial in 0..60 {
            let l = 1 + trial % 4;
            let n = 1 + trial % 5;
            let crf = random_crf(l, 6, &mut rng);
            let (ids, offsets) = random_input(n, 6, &mut rng);
            let mut scores = Vec::new();
            crf.state_scores(&ids, &offsets, &mut scores);
            let paths = all_paths(l, n);
            let path_scores: Vec<f32> = paths
                .iter()
                .map(|p| crf.sequence_score(&scores, p))
                .collect();
            let best = path_scores
                .iter()
                .cloned()
                .fold(f32::NEG_INFINITY, f32::max);
            let decoded = crf.viterbi(&scores);
            assert_eq!(decoded.len(), n);
            let got = crf.sequence_score(&scores, &decoded);
            assert!((got - best).abs() < 1e-4, "trial {trial}: {got} vs {best}");
            // Marginals: Σ over paths through (t, y) of exp(score) / Z.
            let z: f64 = path_scores.iter().map(|&s| (s as f64).exp()).sum();
            let log_z = crf.log_partition(&scores) as f64;
            assert!(
                (log_z - z.ln()).abs() < 1e-4,
                "trial {trial}: log Z {log_z} vs {}",
                z.ln()
            );
            let marginals = crf.marginals(&scores);
            for t in 0..n {
                for y in 0..l {
                    let brute: f64 = paths
                        .iter()
                        .zip(&path_scores)
                        .filter(|(p, _)| p[t] as usize == y)
                        .map(|(_, &s)| (s as f64).exp())
                        .sum::<f64>()
                        / z;
                    let got = marginals[t * l + y] as f64;
                    assert!(
                        (got - brute).abs() < 1e-4,
                        "trial {trial} t {t} y {y}: {got} vs {brute}"
                    );
                }
            }
        }
    }

    #[test]
    fn viterbi_with_many_labels_matches_a_plain_dynamic_programme() {
        let mut rng = SplitMix::new(17);
        for l in [63, 64, 65, 130] {
            let crf = random_crf(l, 8, &mut rng);
            let (ids, offsets) = random_input(6, 8, &mut rng);
            let mut scores = Vec::new();
            crf.state_scores(&ids, &offsets, &mut scores);
            // Best score ending in each label, the obvious way.
            let mut best: Vec<f32> = (0..l)
                .map(|y| crf.sequence_score(&scores[..l], &[y as u16]) - crf.end[y])
                .collect();
            for t in 1..6 {
                best = (0..l)
                    .map(|j| {
                        (0..l)
                            .filter(|&i| crf.allowed[i * l + j])
                            .map(|i| best[i] + crf.transitions[i * l + j])
                            .fold(f32::NEG_INFINITY, f32::max)
                            + scores[t * l + j]
                    })
                    .collect();
            }
            let expected = (0..l)
                .map(|y| best[y] + crf.end[y])
                .fold(f32::NEG_INFINITY, f32::max);
            let path = crf.viterbi(&scores);
            let got = crf.sequence_score(&scores, &path);
            // The partition function is at least the best path's term.
            assert!(crf.log_partition(&scores) >= expected - 1e-3, "{l} labels");
            assert!(
                (got - expected).abs() < 1e-3,
                "{l} labels: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn log_partition_matches_brute_force() {
        let mut rng = SplitMix::new(11);
        let l = 3;
        let crf = random_crf(l, 5, &mut rng);
        let (ids, offsets) = random_input(4, 5, &mut rng);
        let mut scores = Vec::new();
        crf.state_scores(&ids, &offsets, &mut scores);
        let z: f64 = all_paths(l, 4)
            .iter()
            .map(|p| (crf.sequence_score(&scores, p) as f64).exp())
            .sum();
        let mut lattice = Lattice::new(l);
        let f64s = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        lattice.set_transitions(
            &f64s(&crf.transitions),
            &f64s(&crf.start),
            &f64s(&crf.end),
            &crf.allowed,
            &crf.allowed_start,
        );
        lattice.reset(4);
        for (d, &s) in lattice.state.iter_mut().zip(&scores) {
            *d = s as f64;
        }
        let log_z = lattice.forward_backward();
        assert!((log_z - z.ln()).abs() < 1e-4, "{log_z} vs {}", z.ln());
    }

    /// A toy language where a label depends on the previous label, not only
    /// on the word: `x` after a 1-labelled word is 2, otherwise 0; `a` is 1.
    fn toy_sequences(count: usize, rng: &mut SplitMix) -> Vec<Sequence> {
        (0..count)
            .map(|_| {
                let n = 1 + rng.below(8);
                let mut seq = Sequence::new();
                let mut previous = 0u16;
                for _ in 0..n {
                    let (word, label) = match rng.below(3) {
                        0 => (100, 1),
                        1 => (200, if previous == 1 || previous == 2 { 2 } else { 0 }),
                        _ => (300, 0),
                    };
                    seq.push(label, [feature(word)]);
                    previous = label;
                }
                seq
            })
            .collect()
    }

    fn decode(crf: &Crf, seq: &Sequence) -> Vec<u16> {
        let ids: Vec<u64> = seq.features.iter().map(|f| f.id).collect();
        let mut scores = Vec::new();
        crf.state_scores(&ids, &seq.offsets, &mut scores);
        crf.viterbi(&scores)
    }

    #[test]
    fn learns_a_toy_language_exactly() {
        let mut rng = SplitMix::new(3);
        let train = toy_sequences(300, &mut rng);
        let test = toy_sequences(200, &mut rng);
        for all_label_pairs in [false, true] {
            let config = CrfConfig {
                all_label_pairs,
                ..CrfConfig::default()
            };
            let crf = Crf::train(&train, 3, &Constraints::none(3), &config, 1);
            for seq in train.iter().chain(&test) {
                assert_eq!(
                    decode(&crf, seq),
                    seq.labels,
                    "all pairs: {all_label_pairs}"
                );
            }
        }
    }

    #[test]
    fn training_is_deterministic_and_serialisable() {
        let mut rng = SplitMix::new(5);
        let train = toy_sequences(100, &mut rng);
        let config = CrfConfig::default();
        let a = Crf::train(&train, 3, &Constraints::none(3), &config, 42);
        let b = Crf::train(&train, 3, &Constraints::none(3), &config, 42);
        let bytes_a = postcard::to_stdvec(&a).expect("serialise");
        let bytes_b = postcard::to_stdvec(&b).expect("serialise");
        assert_eq!(bytes_a, bytes_b);
        let c: Crf = postcard::from_bytes(&bytes_a).expect("deserialise");
        for seq in &train {
            assert_eq!(decode(&c, seq), decode(&a, seq));
        }
    }

    #[test]
    fn constraints_are_respected() {
        // Label 2 may only follow label 1; the data never contradicts it, but
        // the scores push hard for a forbidden 0 → 2.
        let mut rng = SplitMix::new(9);
        let train = toy_sequences(100, &mut rng);
        let mut constraints = Constraints::none(3);
        constraints.start[2] = false;
        constraints.transitions[2] = false; // 0 → 2
        let crf = Crf::train(&train, 3, &constraints, &CrfConfig::default(), 1);
        let scores = vec![0.0, 0.0, 50.0, 0.0, 0.0, 50.0];
        let path = crf.viterbi(&scores);
        assert_ne!(path[0], 2);
        for w in path.windows(2) {
            assert!(!(w[0] == 0 && w[1] == 2), "{path:?}");
        }
        let marginals = crf.marginals(&scores);
        assert!(marginals[2] < 1e-6, "{marginals:?}");
    }

    #[test]
    fn group_dropout_makes_other_features_learn() {
        // Feature 1000 + label (group 1) gives the label away in training but
        // is missing at test time: without dropout the word features learn
        // little; with it they must carry the labels.
        let mut rng = SplitMix::new(13);
        let base = toy_sequences(300, &mut rng);
        let test = toy_sequences(200, &mut rng);
        let accuracy = |dropout: f32| {
            let train: Vec<Sequence> = base
                .iter()
                .map(|seq| {
                    let mut with = Sequence::new();
                    for t in 0..seq.len() {
                        let y = seq.labels[t];
                        let oracle = Feature {
                            id: 1000 + y as u64,
                            group: 1,
                        };
                        with.push(y, [seq.features[seq.offsets[t] as usize], oracle]);
                    }
                    with.dropout = vec![0.0, dropout];
                    with
                })
                .collect();
            let config = CrfConfig {
                c2: 3.0,
                ..CrfConfig::default()
            };
            let crf = Crf::train(&train, 3, &Constraints::none(3), &config, 1);
            let (mut right, mut total) = (0, 0);
            for seq in &test {
                let got = decode(&crf, seq);
                right += got.iter().zip(&seq.labels).filter(|(a, b)| a == b).count();
                total += seq.len();
            }
            right as f64 / total as f64
        };
        let without = accuracy(0.0);
        let with = accuracy(0.5);
        assert!(with > 0.97, "with dropout: {with}");
        assert!(with > without, "{with} vs {without}");
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let empty: Vec<Sequence> = vec![Sequence::new(), Sequence::new()];
        let crf = Crf::train(&empty, 3, &Constraints::none(3), &CrfConfig::default(), 1);
        let mut scores = Vec::new();
        crf.state_scores(&[], &[0], &mut scores);
        assert!(crf.viterbi(&scores).is_empty());
        assert!(crf.marginals(&scores).is_empty());
        crf.state_scores(&[], &[], &mut scores);
        assert!(crf.viterbi(&scores).is_empty());
        // No data at all.
        let none = Crf::train(&[], 1, &Constraints::none(1), &CrfConfig::default(), 1);
        none.state_scores(&[1, 2], &[0, 1, 2], &mut scores);
        assert_eq!(none.viterbi(&scores), vec![0, 0]);
        // One token, and 2,048 tokens.
        let mut rng = SplitMix::new(1);
        let train = toy_sequences(50, &mut rng);
        let crf = Crf::train(&train, 3, &Constraints::none(3), &CrfConfig::default(), 1);
        for n in [1usize, 2048] {
            let ids: Vec<u64> = (0..n as u64)
                .map(|i| [100, 200, 300][i as usize % 3])
                .collect();
            let offsets: Vec<u32> = (0..=n as u32).collect();
            crf.state_scores(&ids, &offsets, &mut scores);
            assert_eq!(crf.viterbi(&scores).len(), n);
            let marginals = crf.marginals(&scores);
            assert!(marginals.iter().all(|p| p.is_finite()));
        }
    }

    #[test]
    fn hashes_are_stable() {
        // Model files store hashed ids: these values must never change.
        assert_eq!(hash::str(1, "play"), hash::str(1, "play"));
        assert_ne!(hash::str(1, "play"), hash::str(2, "play"));
        assert_ne!(hash::str(1, "ab"), hash::str(1, "ba"));
        assert_ne!(hash::str(1, ""), hash::str(1, "\0"));
        assert_ne!(hash::combine(1, 2), hash::combine(2, 1));
        assert_eq!(hash::fmix(0), 0);
        assert_eq!(hash::fmix(1), 0xB456_BCFC_34C2_CB2C);
    }
}
