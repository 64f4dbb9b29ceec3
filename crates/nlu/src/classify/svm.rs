//! One-vs-rest linear support vector machines trained by dual coordinate
//! descent (Hsieh et al., 2008, the algorithm behind liblinear's default
//! solver), with shrinking.
//!
//! Why this solver: it needs no step size, converges in a handful of passes on
//! text, touches only the non-zero features of each example, and its classes
//! train independently, so they run in parallel.

use rayon::prelude::*;

use crate::features::SparseRow;
use crate::rng::{SplitMix, shuffle};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SvmConfig {
    /// Inverse regularisation strength.
    pub c: f32,
    /// Stop when the projected-gradient spread falls below this.
    pub tolerance: f32,
    pub max_passes: usize,
    /// Deterministic shuffling of the visiting order.
    pub seed: u64,
    /// How many nearest class centroids decide which negatives a class starts with.
    pub candidates: usize,
    /// How many times missing negatives may be added back.
    pub max_rounds: usize,
    /// Share (per thousand) of the other examples each class starts with.
    pub far_sample_permille: usize,
}

impl Default for SvmConfig {
    fn default() -> Self {
        SvmConfig {
            c: 0.5,
            tolerance: 0.1,
            max_passes: 60,
            seed: 0x5eed,
            candidates: 10,
            max_rounds: 3,
            far_sample_permille: 100,
        }
    }
}

/// A trained one-vs-rest model, stored feature-major (`weights[feature * classes + class]`)
/// so scoring one sparse row reads contiguous memory.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinearModel {
    pub classes: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

impl LinearModel {
    /// The raw decision value of every class for one row.
    pub fn scores(&self, row: &SparseRow, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            unsafe { self.scores_avx2(row, out) };
            return;
        }
        self.scores_portable(row, out);
    }

    /// The same loop compiled for AVX2: eight classes per instruction
    /// instead of four. Scoring is most of the time of a parse.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn scores_avx2(&self, row: &SparseRow, out: &mut [f32]) {
        self.scores_portable(row, out);
    }

    #[inline(always)]
    fn scores_portable(&self, row: &SparseRow, out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        for &(feature, value) in row {
            let start = feature as usize * self.classes;
            let weights = &self.weights[start..start + self.classes];
            for (score, w) in out.iter_mut().zip(weights) {
                *score += value * w;
            }
        }
    }
}

/// Trains one binary SVM per class; `labels[i]` is the class of `rows[i]`.
/// `dimension` is the number of feature columns.
///
/// Most negatives of a class are far from it and end with alpha = 0; finding
/// that out is what costs a one-vs-rest solver its first passes. So each
/// class first trains on its positives and on the examples whose nearest
/// class centroids include it; a check over every example then adds any
/// negative the model still gets wrong (inside the margin) and trains again,
/// warm, until none is left. The result is the full problem's solution at a
/// fraction of its cost.
pub fn train(
    rows: &[SparseRow],
    labels: &[usize],
    classes: usize,
    dimension: usize,
    config: &SvmConfig,
) -> LinearModel {
    assert!(
        rows.iter()
            .flatten()
            .all(|&(f, _)| (f as usize) < dimension)
    );
    let norms: Vec<f32> = rows
        .iter()
        .map(|row| row.iter().map(|(_, v)| v * v).sum::<f32>() + BIAS * BIAS)
        .collect();
    let mut problems: Vec<Binary> = candidate_members(rows, labels, classes, dimension, config)
        .into_iter()
        .enumerate()
        .map(|(class, members)| Binary::new(class, members, dimension))
        .collect();
    for round in 0..=config.max_rounds {
        problems
            .par_iter_mut()
            .for_each(|p| p.solve(rows, labels, &norms, config));
        let model = assemble(&problems, classes, dimension);
        if round == config.max_rounds {
            return model;
        }
        let violators = margin_violators(&model, rows, labels, &problems);
        if violators.iter().all(Vec::is_empty) {
            return model;
        }
        for (problem, extra) in problems.iter_mut().zip(violators) {
            problem.add_members(extra);
        }
    }
    unreachable!("the last round returns")
}

/// `w · row`. The hot loop of training: `train` checked every column
/// against the dimension once, so the loop skips bounds checks.
#[inline]
fn dot(w: &[f32], row: &SparseRow) -> f32 {
    let mut sum = 0.0;
    for &(f, v) in row {
        debug_assert!((f as usize) < w.len());
        // SAFETY: every column of every row is below `w.len()` (asserted in `train`).
        sum += unsafe { w.get_unchecked(f as usize) } * v;
    }
    sum
}

/// `w += scale * row`, under the same guarantee as [`dot`].
#[inline]
fn add_scaled(w: &mut [f32], row: &SparseRow, scale: f32) {
    for &(f, v) in row {
        debug_assert!((f as usize) < w.len());
        // SAFETY: every column of every row is below `w.len()` (asserted in `train`).
        unsafe { *w.get_unchecked_mut(f as usize) += scale * v };
    }
}

/// The bias is learned as the weight of a constant feature of this value, as liblinear does.
const BIAS: f32 = 1.0;

/// For each class, the examples its binary problem starts with: its own,
/// and those that have it among their `candidates` nearest class centroids.
fn candidate_members(
    rows: &[SparseRow],
    labels: &[usize],
    classes: usize,
    dimension: usize,
    config: &SvmConfig,
) -> Vec<Vec<usize>> {
    if classes <= config.candidates {
        return vec![(0..rows.len()).collect(); classes];
    }
    let mut centroids = vec![0.0f32; dimension * classes];
    for (row, &label) in rows.iter().zip(labels) {
        for &(f, v) in row {
            centroids[f as usize * classes + label] += v;
        }
    }
    let centroids = LinearModel {
        classes,
        weights: centroids,
        bias: vec![0.0; classes],
    };
    let nearest: Vec<Vec<usize>> = rows
        .par_iter()
        .map(|row| {
            let mut scores = vec![0.0f32; classes];
            centroids.scores(row, &mut scores);
            let mut order: Vec<usize> = (0..classes).collect();
            order.select_nth_unstable_by(config.candidates, |&a, &b| {
                scores[b].total_cmp(&scores[a])
            });
            order.truncate(config.candidates);
            order
        })
        .collect();
    let mut members = vec![Vec::new(); classes];
    let mut rng = SplitMix(config.seed);
    let mut is_near = vec![false; classes];
    for (i, (near, &label)) in nearest.iter().zip(labels).enumerate() {
        near.iter().for_each(|&c| is_near[c] = true);
        is_near[label] = true;
        for (class, m) in members.iter_mut().enumerate() {
            // A random share of the far negatives keeps each class's bias
            // honest: without them every far example would land inside the margin.
            if is_near[class] || rng.below(1000) < config.far_sample_permille {
                m.push(i);
            }
        }
        near.iter().for_each(|&c| is_near[c] = false);
        is_near[label] = false;
    }
    members
}

/// Examples outside each class's problem that the current model puts inside
/// that class's margin: they would have had alpha > 0 in the full problem.
fn margin_violators(
    model: &LinearModel,
    rows: &[SparseRow],
    labels: &[usize],
    problems: &[Binary],
) -> Vec<Vec<usize>> {
    let classes = model.classes;
    let mut is_member = vec![false; rows.len() * classes];
    for p in problems {
        for &i in &p.members {
            is_member[i * classes + p.class] = true;
        }
    }
    let flagged: Vec<Vec<usize>> = rows
        .par_iter()
        .enumerate()
        .map(|(i, row)| {
            let mut scores = vec![0.0f32; classes];
            model.scores(row, &mut scores);
            (0..classes)
                .filter(|&c| !is_member[i * classes + c] && labels[i] != c && scores[c] > -1.0)
                .collect()
        })
        .collect();
    let mut violators = vec![Vec::new(); classes];
    for (i, classes) in flagged.into_iter().enumerate() {
        for c in classes {
            violators[c].push(i);
        }
    }
    violators
}

fn assemble(problems: &[Binary], classes: usize, dimension: usize) -> LinearModel {
    let mut weights = vec![0.0f32; dimension * classes];
    for p in problems {
        for (feature, &w) in p.weights.iter().enumerate() {
            weights[feature * classes + p.class] = w;
        }
    }
    LinearModel {
        classes,
        weights,
        bias: problems.iter().map(|p| p.bias).collect(),
    }
}

/// One class against the rest, over a subset of the examples.
struct Binary {
    class: usize,
    members: Vec<usize>,
    /// Dual variables, aligned with `members`.
    alpha: Vec<f32>,
    /// Members before this index were in the last solve.
    solved: usize,
    weights: Vec<f32>,
    bias: f32,
}

impl Binary {
    fn new(class: usize, members: Vec<usize>, dimension: usize) -> Binary {
        Binary {
            class,
            alpha: vec![0.0; members.len()],
            solved: 0,
            members,
            weights: vec![0.0; dimension],
            bias: 0.0,
        }
    }

    /// New members start at alpha = 0, which keeps the weights consistent
    /// with the dual variables: training resumes where it stopped.
    fn add_members(&mut self, extra: Vec<usize>) {
        self.alpha.resize(self.alpha.len() + extra.len(), 0.0);
        self.members.extend(extra);
    }

    /// L2-regularised squared-hinge SVM in the dual by coordinate descent
    /// (Hsieh et al. 2008, liblinear's default), with shrinking: a member
    /// whose gradient says it will stay at alpha = 0 is set aside until the
    /// final check.
    fn solve(&mut self, rows: &[SparseRow], labels: &[usize], norms: &[f32], config: &SvmConfig) {
        let n = self.members.len();
        let diag = 0.5 / config.c;
        let w = &mut self.weights;
        // Members already solved with alpha = 0 stay that way unless the new
        // ones move the weights: start with the rest, and let the final check
        // (a pass over everyone) bring back any that now matter.
        let mut active: Vec<usize> = (0..n)
            .filter(|&j| j >= self.solved || self.alpha[j] > 0.0)
            .collect();
        let mut rng =
            SplitMix(config.seed ^ (self.class as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut pg_max_old = f32::INFINITY;
        for _ in 0..config.max_passes {
            shuffle(&mut active, &mut rng);
            let mut pg_max = f32::NEG_INFINITY;
            let mut pg_min = f32::INFINITY;
            let mut k = 0;
            while k < active.len() {
                let j = active[k];
                let i = self.members[j];
                let y = if labels[i] == self.class { 1.0 } else { -1.0 };
                let row = &rows[i];
                let margin = dot(w, row) + self.bias * BIAS;
                let alpha = self.alpha[j];
                let gradient = y * margin - 1.0 + diag * alpha;
                let projected = if alpha == 0.0 {
                    if gradient > pg_max_old {
                        active.swap_remove(k);
                        continue;
                    }
                    gradient.min(0.0)
                } else {
                    gradient
                };
                pg_max = pg_max.max(projected);
                pg_min = pg_min.min(projected);
                if projected.abs() > 1e-12 {
                    let updated = (alpha - gradient / (norms[i] + diag)).max(0.0);
                    self.alpha[j] = updated;
                    let step = (updated - alpha) * y;
                    add_scaled(w, row, step);
                    self.bias += step * BIAS;
                }
                k += 1;
            }
            if pg_max - pg_min <= config.tolerance {
                if active.len() == n {
                    break;
                }
                // Converged on the shrunk set: check every member once more.
                active = (0..n).collect();
                pg_max_old = f32::INFINITY;
                continue;
            }
            pg_max_old = if pg_max <= 0.0 { f32::INFINITY } else { pg_max };
        }
        self.solved = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_linearly_separable_classes() {
        // Three classes, each owning one feature, plus a shared noise feature.
        let rows: Vec<SparseRow> = (0..30)
            .map(|i| vec![((i % 3) as u32, 1.0), (3, 0.5)])
            .collect();
        let labels: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let model = train(&rows, &labels, 3, 4, &SvmConfig::default());
        let mut scores = vec![0.0; 3];
        for (row, &label) in rows.iter().zip(&labels) {
            model.scores(row, &mut scores);
            let best = (0..3)
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
                .unwrap();
            assert_eq!(best, label);
        }
    }

    #[test]
    fn training_is_deterministic() {
        let rows: Vec<SparseRow> = (0..50)
            .map(|i| vec![((i % 5) as u32, 1.0), (5 + (i % 7) as u32, 0.3)])
            .collect();
        let labels: Vec<usize> = (0..50).map(|i| i % 5).collect();
        let a = train(&rows, &labels, 5, 12, &SvmConfig::default());
        let b = train(&rows, &labels, 5, 12, &SvmConfig::default());
        assert_eq!(a.weights, b.weights);
        assert_eq!(a.bias, b.bias);
    }
}
