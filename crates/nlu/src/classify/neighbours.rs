//! Nearest-neighbour re-ranking of close calls on the static sentence
//! vectors.
//!
//! The one-vs-rest SVMs are linear; when the best classes score close to
//! each other, the training utterances themselves are a second opinion:
//! each of the few best classes gets the mean cosine between the
//! utterance's static sentence vector (the IDF-weighted mean of the
//! distilled MiniLM word vectors, see [`crate::embeddings`]) and its
//! `nearest` most similar training utterances of that class, times
//! `weight`, added to its SVM score. The classes are ranked by that sum,
//! and their SVM scores are handed out again in the new order: the set of
//! scores (so the probabilities' shape and the out-of-scope evidence) does
//! not change, only which close class gets which.
//!
//! Chosen on ten validation folds of each training file (banking77 +0.44
//! points; `bench/research/REPORT.md`, section 12). Cost: the vectors of
//! the training utterances (int8, one scale each) in the model, and a scan
//! of the candidates' vectors in the parses whose two best classes are
//! closer than `gap`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NeighbourConfig {
    pub enabled: bool,
    /// How much the mean cosine of the static vectors of a class's nearest
    /// training utterances adds to its SVM score.
    pub weight: f32,
    /// The same for the word block (TF-IDF of words and word pairs).
    pub word_weight: f32,
    /// How many of a class's most similar training utterances are averaged.
    pub nearest: usize,
    /// How many of the best classes may be re-ranked.
    pub candidates: usize,
    /// Re-rank only when the two best SVM scores are closer than this.
    pub gap: f32,
}

impl Default for NeighbourConfig {
    fn default() -> Self {
        NeighbourConfig {
            enabled: true,
            weight: 3.0,
            word_weight: 1.0,
            nearest: 1,
            candidates: 3,
            gap: 0.25,
        }
    }
}

/// The static sentence vectors of the training utterances, grouped by class.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Neighbours {
    config: NeighbourConfig,
    dims: usize,
    /// Class `c`'s vectors are `starts[c]..starts[c + 1]`.
    starts: Vec<u32>,
    /// Unit vectors, quantised per vector: `values[i * dims + d] * scales[i]`.
    values: Vec<i8>,
    scales: Vec<f32>,
    /// The word blocks of the same utterances, per class an inverted
    /// index: class `c`'s entries are `word_starts[c]..word_starts[c + 1]`,
    /// each (column, utterance within the class, value), sorted.
    word_starts: Vec<u32>,
    word_postings: Vec<(u32, u32, f32)>,
}

impl Neighbours {
    /// `vectors[i * dims..][..dims]` is the static vector of example `i`,
    /// of class `labels[i]`, and `words[i]` its word block (the row's
    /// entries of the word n-grams, any order). `None` when switched off or
    /// without vectors.
    pub fn build(
        config: NeighbourConfig,
        dims: usize,
        vectors: &[f32],
        words: &[&[(u32, f32)]],
        labels: &[usize],
        classes: usize,
    ) -> Option<Neighbours> {
        if !config.enabled || dims == 0 || config.nearest == 0 || config.candidates < 2 {
            return None;
        }
        debug_assert_eq!(vectors.len(), labels.len() * dims);
        debug_assert_eq!(words.len(), labels.len());
        let mut starts = vec![0u32; classes + 1];
        for &label in labels {
            starts[label + 1] += 1;
        }
        for c in 0..classes {
            starts[c + 1] += starts[c];
        }
        let mut next: Vec<u32> = starts[..classes].to_vec();
        let mut values = vec![0i8; labels.len() * dims];
        let mut scales = vec![0f32; labels.len()];
        let mut order = vec![0usize; labels.len()];
        for (i, &label) in labels.iter().enumerate() {
            let at = next[label] as usize;
            next[label] += 1;
            order[at] = i;
            let v = &vectors[i * dims..(i + 1) * dims];
            scales[at] = quantize_into(v, &mut values[at * dims..(at + 1) * dims]);
        }
        // The inverted indexes by two counting sorts (linear time): every
        // entry by column, utterances in class order, then by class, which
        // keeps each class's entries sorted by column and utterance.
        let width = words
            .iter()
            .flat_map(|w| w.iter().map(|&(column, _)| column as usize + 1))
            .max()
            .unwrap_or(0);
        let mut by_column = vec![0u32; width + 1];
        for w in words {
            for &(column, _) in w.iter() {
                by_column[column as usize + 1] += 1;
            }
        }
        for c in 0..width {
            by_column[c + 1] += by_column[c];
        }
        let total = by_column[width] as usize;
        let mut sorted = vec![(0u32, 0u32, 0u32, 0f32); total];
        for class in 0..classes {
            let (from, to) = (starts[class] as usize, starts[class + 1] as usize);
            for (k, &i) in order[from..to].iter().enumerate() {
                for &(column, value) in words[i] {
                    let at = &mut by_column[column as usize];
                    sorted[*at as usize] = (class as u32, column, k as u32, value);
                    *at += 1;
                }
            }
        }
        let mut word_starts = vec![0u32; classes + 1];
        for &(class, ..) in &sorted {
            word_starts[class as usize + 1] += 1;
        }
        for c in 0..classes {
            word_starts[c + 1] += word_starts[c];
        }
        let mut next = word_starts[..classes].to_vec();
        let mut word_postings = vec![(0u32, 0u32, 0f32); total];
        for &(class, column, k, value) in &sorted {
            let at = &mut next[class as usize];
            word_postings[*at as usize] = (column, k, value);
            *at += 1;
        }
        Some(Neighbours {
            config,
            dims,
            starts,
            values,
            scales,
            word_starts,
            word_postings,
        })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Whether the scores are a close call worth [`Neighbours::rerank`]:
    /// the two best of the `eligible` classes are closer than the gap.
    pub fn is_close(&self, scores: &[f32], eligible: impl Fn(usize) -> bool) -> bool {
        let (mut first, mut second) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
        for (c, &s) in scores.iter().enumerate() {
            if !eligible(c) {
                continue;
            }
            if s > first {
                second = first;
                first = s;
            } else if s > second {
                second = s;
            }
        }
        second > f32::NEG_INFINITY && first - second < self.config.gap
    }

    /// Re-ranks the best `eligible` classes of `scores` in place by SVM
    /// score plus the weighted neighbour similarities of `query` (the
    /// utterance's static vector, any length) and `words` (its word block,
    /// any order); the scores are permuted among them, never changed.
    pub fn rerank(
        &self,
        query: &[f32],
        words: &[(u32, f32)],
        scores: &mut [f32],
        eligible: impl Fn(usize) -> bool,
    ) {
        if query.len() != self.dims {
            return;
        }
        // The query quantised as the stored vectors are: the dot products
        // are then exact integers, the same on every CPU.
        let (query, query_scale) = quantize(query);
        let norm = query_scale;
        // The best few eligible classes, best first.
        let wanted = self.config.candidates;
        let mut best: Vec<usize> = Vec::with_capacity(wanted + 1);
        for (c, &s) in scores.iter().enumerate() {
            if !eligible(c) || c + 1 >= self.starts.len() {
                continue;
            }
            let at = best.partition_point(|&b| scores[b] >= s);
            if at < wanted {
                best.insert(at, c);
                best.truncate(wanted);
            }
        }
        if best.len() < 2 {
            return;
        }
        let mut adjusted: Vec<(f32, usize)> = best
            .iter()
            .map(|&c| {
                let mut s = scores[c];
                if norm > 0.0 {
                    s += self.config.weight * self.similarity(&query, query_scale, c);
                }
                if !words.is_empty() {
                    s += self.config.word_weight * self.word_similarity(words, c);
                }
                (s, c)
            })
            .collect();
        // Stable: ties keep the SVM's order.
        adjusted.sort_by(|a, b| b.0.total_cmp(&a.0));
        let ordered: Vec<f32> = best.iter().map(|&c| scores[c]).collect();
        for (&(_, c), s) in adjusted.iter().zip(ordered) {
            scores[c] = s;
        }
    }

    /// Mean cosine of the quantised `query` (`query[d] * query_scale`, unit
    /// length) with the `nearest` most similar training vectors of `class`
    /// (0 when it has none).
    #[inline(always)]
    fn similarity(&self, query: &[i8], query_scale: f32, class: usize) -> f32 {
        let (from, to) = (self.starts[class] as usize, self.starts[class + 1] as usize);
        let mut dots = vec![0i32; to - from];
        dots_i8(
            query,
            &self.values[from * self.dims..to * self.dims],
            &mut dots,
        );
        self.nearest_mean(
            dots.iter()
                .zip(&self.scales[from..to])
                .map(|(&dot, &scale)| dot as f32 * query_scale * scale),
        )
    }

    /// Mean word-block dot product of the query (its word block: distinct
    /// columns, any order) with the `nearest` most similar training
    /// utterances of `class`.
    #[inline(always)]
    fn word_similarity(&self, words: &[(u32, f32)], class: usize) -> f32 {
        let (from, to) = (
            self.word_starts[class] as usize,
            self.word_starts[class + 1] as usize,
        );
        let postings = &self.word_postings[from..to];
        let mut dots = vec![0f32; (self.starts[class + 1] - self.starts[class]) as usize];
        for &(column, value) in words {
            let first = postings.partition_point(|&(c, _, _)| c < column);
            for &(_, k, stored) in postings[first..].iter().take_while(|p| p.0 == column) {
                dots[k as usize] += value * stored;
            }
        }
        self.nearest_mean(dots.into_iter())
    }

    /// Mean of the `nearest` largest values (0 when there are none).
    #[inline(always)]
    fn nearest_mean(&self, values: impl Iterator<Item = f32>) -> f32 {
        let mut top = [f32::NEG_INFINITY; 8];
        let nearest = self.config.nearest.clamp(1, top.len());
        let mut seen = 0;
        for value in values {
            seen += 1;
            if value > top[nearest - 1] {
                let mut at = nearest - 1;
                while at > 0 && top[at - 1] < value {
                    top[at] = top[at - 1];
                    at -= 1;
                }
                top[at] = value;
            }
        }
        let used = nearest.min(seen);
        if used == 0 {
            return 0.0;
        }
        top[..used].iter().sum::<f32>() / used as f32
    }
}

/// `v` as int8 values and the scale that turns them back into `v`'s
/// direction at unit length (0 for a zero vector).
fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let mut q = vec![0; v.len()];
    let scale = quantize_into(v, &mut q);
    (q, scale)
}

/// [`quantize`] into `out` (as long as `v`); returns the scale.
fn quantize_into(v: &[f32], out: &mut [i8]) -> f32 {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if norm == 0.0 || max == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let inverse = 127.0 / max;
    for (q, &x) in out.iter_mut().zip(v) {
        // Rounded half away from zero, within [-127, 127].
        let y = x * inverse;
        *q = (y + 0.5f32.copysign(y)) as i8;
    }
    max / 127.0 / norm
}

/// The dot product of `query` with each row of `rows` (rows of
/// `query.len()` values) into `out`, exact.
fn dots_i8(query: &[i8], rows: &[i8], out: &mut [i32]) {
    let dims = query.len();
    #[cfg(target_arch = "x86_64")]
    if dims.is_multiple_of(32) && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { dots_i8_avx2(query, rows, out) };
        return;
    }
    for (row, dot) in rows.chunks_exact(dims).zip(out) {
        *dot = query
            .iter()
            .zip(row)
            .map(|(&a, &b)| a as i32 * b as i32)
            .sum();
    }
}

/// [`dots_i8`] 32 products per instruction; `query.len()` is a multiple of
/// 32 and no value is -128 (so `|a| * b` pairs never saturate 16 bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dots_i8_avx2(query: &[i8], rows: &[i8], out: &mut [i32]) {
    use std::arch::x86_64::*;
    let dims = query.len();
    let ones = _mm256_set1_epi16(1);
    for (row, dot) in rows.chunks_exact(dims).zip(out) {
        let mut sums = _mm256_setzero_si256();
        for d in (0..dims).step_by(32) {
            // SAFETY: d + 32 <= dims, within the query and the row.
            let (a, b) = unsafe {
                (
                    _mm256_loadu_si256(query.as_ptr().add(d) as *const __m256i),
                    _mm256_loadu_si256(row.as_ptr().add(d) as *const __m256i),
                )
            };
            // |a| * (b with a's sign) = a * b, in pairs summed to 16 bits,
            // then to 32.
            let pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(a), _mm256_sign_epi8(b, a));
            sums = _mm256_add_epi32(sums, _mm256_madd_epi16(pairs, ones));
        }
        let mut lanes = [0i32; 8];
        // SAFETY: `lanes` holds eight 32-bit integers.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, sums) };
        *dot = lanes.iter().sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: [f32; 4]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn neighbours() -> Neighbours {
        // Class 0 points along the first axis, class 1 along the second,
        // class 2 along the third; the examples come interleaved.
        let vectors: Vec<f32> = [
            unit([1.0, 0.1, 0.0, 0.0]),
            unit([0.0, 1.0, 0.1, 0.0]),
            unit([1.0, 0.0, 0.2, 0.0]),
            unit([0.1, 1.0, 0.0, 0.0]),
            unit([0.0, 0.0, 1.0, 0.1]),
        ]
        .concat();
        // Word blocks: column 0 is class 0's word, 1 class 1's, 2 class 2's.
        let words: [&[(u32, f32)]; 5] = [
            &[(0, 1.0)],
            &[(1, 1.0)],
            &[(0, 0.6), (3, 0.8)],
            &[(1, 1.0)],
            &[(2, 1.0)],
        ];
        let config = NeighbourConfig {
            nearest: 2,
            ..NeighbourConfig::default()
        };
        Neighbours::build(config, 4, &vectors, &words, &[0, 1, 0, 1, 2], 3).expect("enabled")
    }

    #[test]
    fn groups_the_vectors_by_class() {
        let n = neighbours();
        assert_eq!(n.starts, [0, 2, 4, 5]);
        assert_eq!(n.word_starts, [0, 3, 5, 6]);
        assert_eq!(
            &n.word_postings[..3],
            [(0, 0, 1.0), (0, 1, 0.6), (3, 1, 0.8)]
        );
        // A stored vector is its own nearest neighbour, cosine 1 (class 2
        // has one utterance, so its mean is over that one).
        let (query, scale) = quantize(&unit([0.0, 0.0, 1.0, 0.1]));
        assert!((n.similarity(&query, scale, 2) - 1.0).abs() < 0.01);
        assert!(n.similarity(&query, scale, 0) < 0.2);
        // Class 0's word blocks: (0: 1.0) and (0: 0.6, 3: 0.8); the mean of
        // the two products with the query (0: 1.0).
        assert!((n.word_similarity(&[(0, 1.0)], 0) - 0.8).abs() < 1e-6);
        assert_eq!(n.word_similarity(&[(0, 1.0)], 1), 0.0);
    }

    #[test]
    fn a_close_call_goes_to_the_class_of_the_nearest_utterances() {
        let n = neighbours();
        // SVM prefers class 0 by a little; the utterance looks like class 1's.
        let mut scores = vec![0.3, 0.1, -2.0];
        assert!(n.is_close(&scores, |_| true));
        n.rerank(&[0.05, 2.0, 0.0, 0.0], &[], &mut scores, |_| true);
        assert_eq!(scores, [0.1, 0.3, -2.0]);
        // The words alone can decide too.
        let mut scores = vec![0.3, 0.1, -2.0];
        n.rerank(&[0.0; 4], &[(1, 1.0)], &mut scores, |_| true);
        assert_eq!(scores, [0.1, 0.3, -2.0]);
        // Without anything to compare, nothing moves.
        n.rerank(&[0.0; 4], &[], &mut scores, |_| true);
        assert_eq!(scores, [0.1, 0.3, -2.0]);
    }

    #[test]
    fn scores_only_move_among_eligible_classes() {
        let n = neighbours();
        let mut scores = vec![0.3, 0.1, 0.2];
        // Class 1 is not allowed: class 2 (looks unlike the query) and 0 stay.
        n.rerank(&[0.05, 2.0, 0.0, 0.0], &[(1, 1.0)], &mut scores, |c| c != 1);
        assert_eq!(scores, [0.3, 0.1, 0.2]);
        assert!(!n.is_close(&[1.0, 0.0, 0.2], |_| true));
    }

    #[test]
    fn int8_dot_products_are_exact_on_every_path() {
        // 64 dimensions: the AVX2 path where the CPU has it.
        let query: Vec<i8> = (0..64).map(|d| (d * 37 % 255 - 127) as i8).collect();
        let rows: Vec<i8> = (0..64 * 3).map(|d| (d * 91 % 255 - 127) as i8).collect();
        let mut dots = [0i32; 3];
        dots_i8(&query, &rows, &mut dots);
        for (row, dot) in rows.chunks(64).zip(dots) {
            let exact: i32 = query
                .iter()
                .zip(row)
                .map(|(&a, &b)| a as i32 * b as i32)
                .sum();
            assert_eq!(dot, exact);
        }
        let (q, scale) = quantize(&[3.0, -4.0]);
        assert_eq!(q, [95, -127]);
        assert!((scale * 127.0 - 4.0 / 5.0).abs() < 1e-6);
        assert_eq!(quantize(&[0.0, 0.0]).1, 0.0);
    }

    #[test]
    fn switched_off_or_without_vectors_there_is_nothing() {
        let off = NeighbourConfig {
            enabled: false,
            ..NeighbourConfig::default()
        };
        assert!(Neighbours::build(off, 4, &[0.0; 4], &[&[]], &[0], 1).is_none());
        assert!(Neighbours::build(NeighbourConfig::default(), 0, &[], &[&[]], &[0], 1).is_none());
    }
}
