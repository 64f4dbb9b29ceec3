//! Task classification: features → linear SVMs → calibrated probabilities,
//! with an out-of-scope decision.

pub mod neighbours;
pub mod svm;

use serde::{Deserialize, Serialize};

use crate::features::{FeatureConfig, FeatureSpace, Grams, SparseRow};
use crate::text::Language;
use neighbours::{NeighbourConfig, Neighbours};
use svm::{LinearModel, SvmConfig};

/// Settings of the task classifier; the defaults were chosen on validation
/// splits (see `bench/README.md`), never on test files.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ClassifierConfig {
    pub features: FeatureConfig,
    pub svm: SvmConfig,
    /// Re-ranking of close calls by the nearest training utterances.
    pub neighbours: NeighbourConfig,
    /// Extra training utterances without the values of open fields.
    pub masking: MaskingConfig,
    /// Softmax temperature applied to SVM decision values.
    pub temperature: f32,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            features: FeatureConfig::default(),
            svm: SvmConfig::default(),
            neighbours: NeighbourConfig::default(),
            masking: MaskingConfig::default(),
            temperature: 0.15,
        }
    }
}

/// Each training utterance with values of open fields (names, titles: most
/// of a task's values of the field differ) also trains the classifier once
/// without them, so that the words around a name carry its task, not the
/// name itself (see `REPORT.md` section 14). Only annotated or tagged
/// samples have field values; data without fields trains as before.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MaskingConfig {
    pub enabled: bool,
    /// A field of a task is open when its distinct values (lower-cased) are
    /// at least this share of its values in the task's samples.
    pub distinct: f32,
    /// At parse time too (with `enabled`): when the two best tasks are a
    /// close call, each of the `candidates` best is scored again on the
    /// utterance without the values of its own open fields, as its field
    /// extractor finds them, and the candidates are re-ranked by the sum
    /// of both scores (see `REPORT.md` section 16).
    pub at_parse: bool,
    /// A close call: the two best tasks' scores (SVM margins) within this.
    pub gap: f32,
    /// How many of the best tasks a close call re-ranks.
    pub candidates: usize,
    /// Weight of the score without the open values against the score of
    /// the whole utterance (1).
    pub weight: f32,
    /// Weight of a third score in a close call: the log-probability of each
    /// candidate's best tagging of the utterance by its field tagger (its
    /// CRF), per word and in units of `ln L` for its `L` labels (-1: as
    /// unsure as a uniform choice of labels); a task whose tagger explains
    /// the utterance with more certainty gains. Only when every candidate
    /// has a tagger; 0: not used (see `REPORT.md` section 18).
    pub tagging: f32,
}

/// Chosen on ten validation folds of snips, snips_goo and snips small.
const TAGGING_WEIGHT: f32 = 4.0;

impl Default for MaskingConfig {
    fn default() -> Self {
        MaskingConfig {
            enabled: true,
            distinct: 0.9,
            at_parse: true,
            gap: 1.0,
            candidates: 2,
            weight: 1.0,
            tagging: TAGGING_WEIGHT,
        }
    }
}

/// A trained task classifier. Class `i` is `labels[i]`; the out-of-scope
/// class, when trained, is the last one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskClassifier {
    pub labels: Vec<String>,
    pub out_of_scope_class: Option<usize>,
    space: FeatureSpace,
    model: LinearModel,
    /// The training utterances' static vectors and word blocks, for
    /// re-ranking close calls (`None` when switched off or when the space
    /// has no static vectors).
    neighbours: Option<Neighbours>,
    temperature: f32,
}

impl TaskClassifier {
    /// `examples[i]` is the n-grams of a training utterance of class `classes[i]`.
    pub fn train(
        config: &ClassifierConfig,
        language: Language,
        labels: Vec<String>,
        out_of_scope_class: Option<usize>,
        examples: &[Grams],
        classes: &[usize],
    ) -> TaskClassifier {
        let space = FeatureSpace::fit(config.features, language, examples);
        // Rows straight into the solver's flat arrays, through one buffer
        // per thread
        // (the solver needs no column order within a block), on all
        // threads, each range of examples apart, then joined in order.
        // The static block and the word block of each row are kept too,
        // for the neighbours.
        let sparse = space.sparse_dimension();
        let dims = if config.neighbours.enabled {
            space.dimension() - sparse
        } else {
            0
        };
        let parts =
            crate::parallel::split(examples.len(), crate::parallel::threads(), 1000, |range| {
                let mut rows = svm::Rows::new(space.dimension(), sparse);
                let mut vectors = vec![0.0; range.len() * dims];
                let mut words = (Vec::new(), Vec::new());
                let (mut row, mut scratch) =
                    (SparseRow::new(), crate::features::Scratch::unsorted());
                for (i, grams) in examples[range].iter().enumerate() {
                    let (_, word_entries) =
                        space.vectorize_into_with_words(grams, &mut row, &mut scratch);
                    rows.push(&row);
                    if dims > 0 {
                        static_vector(&row, sparse, &mut vectors[i * dims..(i + 1) * dims]);
                        // The row's word block is the row of its words alone.
                        words.0.push(words.1.len());
                        words.1.extend_from_slice(&row[..word_entries]);
                    }
                }
                (rows, vectors, words)
            });
        let mut parts = parts.into_iter();
        let (mut rows, mut vectors, (mut word_starts, mut word_entries)) =
            parts.next().expect("one part at least");
        for (part, part_vectors, (starts, entries)) in parts {
            rows.append(part);
            vectors.extend(part_vectors);
            let offset = word_entries.len();
            word_starts.extend(starts.into_iter().map(|s| s + offset));
            word_entries.extend(entries);
        }
        word_starts.push(word_entries.len());
        let words: Vec<&[(u32, f32)]> = word_starts
            .windows(2)
            .map(|w| &word_entries[w[0]..w[1]])
            .collect();
        let build_neighbours = || {
            Neighbours::build(
                config.neighbours,
                dims,
                &vectors,
                &words,
                classes,
                labels.len(),
            )
        };
        // The neighbours need nothing from the SVMs: built on a thread of
        // their own meanwhile, they take the core the SVMs' jobs leave idle
        // at their end.
        let (model, neighbours) = if crate::parallel::threads() > 1 {
            std::thread::scope(|scope| {
                let neighbours = scope.spawn(build_neighbours);
                let model = svm::train(&rows, classes, labels.len(), &config.svm);
                let neighbours = neighbours
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e));
                (model, neighbours)
            })
        } else {
            (
                svm::train(&rows, classes, labels.len(), &config.svm),
                build_neighbours(),
            )
        };
        TaskClassifier {
            labels,
            out_of_scope_class,
            space,
            model,
            neighbours,
            temperature: config.temperature,
        }
    }

    /// Caches the letter n-grams of `words` (see [`FeatureSpace::cache_words`]).
    pub fn cache_words<'a>(&mut self, words: impl IntoIterator<Item = &'a str> + Clone) {
        self.space.cache_words(words);
    }

    /// The static-vector pieces of the training words (see [`FeatureSpace::piece_cache`]).
    pub fn piece_cache(&self) -> &crate::embeddings::PieceCache {
        self.space.piece_cache()
    }

    /// The softmax temperature: probabilities' log ratios times this are
    /// differences of SVM scores.
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    pub fn feature_config(&self) -> FeatureConfig {
        self.space.config
    }

    /// Probability of every class for one utterance (`allowed[i] == false`
    /// removes class `i` from the distribution), and the evidence that the
    /// utterance is any allowed task's at all.
    pub fn classify(&self, grams: &Grams, allowed: Option<&[bool]>) -> Classified {
        let (row, coverage) = self.space.vectorize_with_coverage(grams);
        self.classify_row(&row, &grams.words, coverage, allowed)
    }

    /// Classifies a tokenised utterance, with buffers reused between calls
    /// on one thread (a parse then allocates little more than its answer).
    pub fn classify_tokens(
        &self,
        tokens: &[crate::text::Token],
        stems: &[String],
        allowed: Option<&[bool]>,
    ) -> Classified {
        thread_local! {
            static SCRATCH: std::cell::RefCell<(Grams, SparseRow, crate::features::Scratch)> =
                std::cell::RefCell::new((Grams::default(), SparseRow::new(), crate::features::Scratch::unsorted()));
        }
        SCRATCH.with(|cell| {
            let mut fresh = (
                Grams::default(),
                SparseRow::new(),
                crate::features::Scratch::unsorted(),
            );
            let mut borrowed = cell.try_borrow_mut();
            let (grams, row, scratch) = match &mut borrowed {
                Ok(scratch) => &mut **scratch,
                Err(_) => &mut fresh,
            };
            let coverage = self
                .space
                .vectorize_tokens_into(tokens, stems, grams, row, scratch);
            self.classify_row(row, &grams.words, coverage, allowed)
        })
    }

    /// Research hook (`examples/research.rs`): the sorted row, its word
    /// block alone (as the neighbours see it) and the raw SVM scores of a
    /// tokenised utterance, before any re-ranking.
    #[doc(hidden)]
    pub fn research_row(
        &self,
        tokens: &[crate::text::Token],
        stems: &[String],
    ) -> (SparseRow, SparseRow, Vec<f32>) {
        let (mut grams, mut row, mut scratch) = (
            Grams::default(),
            SparseRow::new(),
            crate::features::Scratch::default(),
        );
        self.space
            .vectorize_tokens_into(tokens, stems, &mut grams, &mut row, &mut scratch);
        let mut scores = vec![0.0; self.labels.len()];
        self.model.scores(&row, &mut scores);
        let words_only = Grams {
            words: grams.words.clone(),
            ..Grams::default()
        };
        (row, self.space.vectorize(&words_only), scores)
    }

    /// Research hook: where the dense static block starts.
    #[doc(hidden)]
    pub fn research_sparse_dimension(&self) -> usize {
        self.space.sparse_dimension()
    }

    /// `words` are the word n-grams of `row`'s utterance.
    fn classify_row(
        &self,
        row: &SparseRow,
        words: &[u64],
        coverage: crate::features::Coverage,
        allowed: Option<&[bool]>,
    ) -> Classified {
        let mut probabilities = vec![0.0; self.labels.len()];
        self.model.scores(row, &mut probabilities);
        let in_scope =
            |c: &usize| allowed.is_none_or(|a| a[*c]) && Some(*c) != self.out_of_scope_class;
        if let Some(neighbours) = &self.neighbours
            && neighbours.is_close(&probabilities, |c| in_scope(&c))
        {
            let mut query = [0.0f32; crate::embeddings::MAX_DIMS];
            let query = &mut query[..neighbours.dims()];
            static_vector(row, self.space.sparse_dimension(), query);
            let words_only = Grams {
                words: words.to_vec(),
                ..Grams::default()
            };
            let word_row = self.space.vectorize(&words_only);
            neighbours.rerank(query, &word_row, &mut probabilities, |c| in_scope(&c));
        }
        let best = |values: &[f32]| {
            (0..values.len())
                .filter(in_scope)
                .map(|c| values[c])
                .fold(f32::NEG_INFINITY, f32::max)
        };
        // Each one-vs-rest SVM scores how sure it is that the utterance is its
        // task's. An empty utterance scores every task at its bias; what the
        // words add on top of that is the evidence. With none, the utterance
        // is out of scope, even without out-of-scope training data.
        let evidence = best(&probabilities) - best(&self.model.bias);
        softmax(&mut probabilities, self.temperature, allowed);
        Classified {
            probabilities,
            evidence,
            unfamiliar: coverage.is_unfamiliar(),
        }
    }
}

/// The static block of a row (its columns from `sparse` on) into `out`.
fn static_vector(row: &SparseRow, sparse: usize, out: &mut [f32]) {
    out.fill(0.0);
    // The static block comes last in a row.
    for &(column, value) in row.iter().rev() {
        let Some(d) = (column as usize).checked_sub(sparse) else {
            break;
        };
        if let Some(slot) = out.get_mut(d) {
            *slot = value;
        }
    }
}

pub struct Classified {
    pub probabilities: Vec<f32>,
    /// How far the best allowed task's SVM score rises above the best score
    /// an utterance without any known word would get.
    pub evidence: f32,
    /// The training vocabulary knows next to nothing of the utterance.
    pub unfamiliar: bool,
}

/// Turns decision values into probabilities in place; disallowed classes get 0.
fn softmax(scores: &mut [f32], temperature: f32, allowed: Option<&[bool]>) {
    let is_allowed = |i: usize| allowed.is_none_or(|a| a[i]);
    let max = (0..scores.len())
        .filter(|&i| is_allowed(i))
        .map(|i| scores[i])
        .fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        scores.fill(0.0);
        return;
    }
    let mut total = 0.0;
    for (i, s) in scores.iter_mut().enumerate() {
        *s = if is_allowed(i) {
            ((*s - max) / temperature).exp()
        } else {
            0.0
        };
        total += *s;
    }
    for s in scores.iter_mut() {
        *s /= total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_over_allowed_classes() {
        let mut scores = vec![1.0, 0.5, -1.0];
        softmax(&mut scores, 0.5, Some(&[false, true, true]));
        assert_eq!(scores[0], 0.0);
        assert!((scores[1] + scores[2] - 1.0).abs() < 1e-6);
        assert!(scores[1] > scores[2]);
    }

    #[test]
    fn softmax_with_nothing_allowed_is_all_zero() {
        let mut scores = vec![1.0, 2.0];
        softmax(&mut scores, 0.5, Some(&[false, false]));
        assert_eq!(scores, [0.0, 0.0]);
    }
}
