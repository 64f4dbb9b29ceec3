//! The trained artefact: training, parsing and the versioned file format.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::classify::{ClassifierConfig, MaskingConfig, TaskClassifier};
use crate::features::{self, Grams};
use crate::fields::gazetteer::Gazetteer;
use crate::fields::{
    FieldExtractor, FieldsConfig, Found, Prepared, cut, fill_sample, learn_ordinary_words,
    open_fields, without_open_values,
};
use crate::rng::SplitMix;
use crate::text::{Language, Stemmer, Token, tokenize};
use crate::training::{TrainingData, TrainingError};

/// Bumped whenever the serialised layout or the meaning of a stored model
/// changes (including the stemmer version: stems can change between releases).
pub const MODEL_FORMAT_VERSION: u32 = 5;
const MAGIC: &[u8; 8] = b"OTTONLU\0";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TrainOptions {
    pub classifier: ClassifierConfig,
    pub fields: FieldsConfig,
    /// Seed of every random choice in training (which values fill the tags of
    /// samples): the same data and seed give the same model, byte for byte.
    pub seed: u64,
    /// The out-of-scope threshold: when the words of an utterance raise no
    /// allowed task's one-vs-rest SVM score at least this much above what an
    /// empty utterance scores, it is out of scope and the assistant's
    /// fallback runs. SVM scores are margins (a rise of 1 goes from unsure
    /// to sure), so one value suits assistants of any size.
    pub threshold: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            classifier: ClassifierConfig::default(),
            fields: FieldsConfig::default(),
            seed: 7,
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

/// Where training is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrainProgress {
    Preparing,
    Classifier,
    /// `done` of `total` tasks' field extractors trained.
    Fields {
        done: usize,
        total: usize,
    },
    Done,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the training data has {} problem(s): {}", .0.len(), join(.0))]
    InvalidTrainingData(Vec<TrainingError>),
    #[error("not an otto NLU model file (bad magic bytes)")]
    NotAModel,
    #[error(
        "model format version {found} is not supported by this otto (it reads version {MODEL_FORMAT_VERSION}); retrain the assistant"
    )]
    UnsupportedVersion { found: u32 },
    #[error("the model file is damaged: {0}")]
    Corrupt(String),
}

fn join(errors: &[TrainingError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A trained NLU model for one assistant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    language: Language,
    stemmer: Stemmer,
    tasks: Vec<String>,
    classifier: Option<TaskClassifier>,
    /// Folded training utterances that belong to exactly one task: answered
    /// without the classifier, with full confidence.
    #[serde(with = "crate::sorted_map")]
    exact: FxHashMap<String, u32>,
    threshold: f32,
    /// The values of every custom field type of the assistant.
    gazetteer: Gazetteer,
    fields: Vec<FieldExtractor>,
    /// Re-ranking of close calls without the values of open fields; `None`
    /// when switched off or when no task has an open field.
    masked_reranking: Option<MaskedReranking>,
}

/// What a parse needs of [`MaskingConfig`] at parse time.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MaskedReranking {
    /// Per task, the names of its open fields.
    open_fields: Vec<Vec<String>>,
    gap: f32,
    candidates: usize,
    weight: f32,
    /// Weight of the candidates' taggers' log-probability of their best
    /// tagging, per word and in units of `ln L` (0: not used).
    tagging: f32,
}

/// What to parse against.
#[derive(Debug, Clone)]
pub struct ParseOptions<'a> {
    /// Only these tasks may win (`listen.tasks`, the Query `Tasks` parameter).
    pub tasks: Option<&'a [String]>,
    /// The user's local "now", for relative dates ("next Friday").
    pub reference: chrono::NaiveDateTime,
}

impl Default for ParseOptions<'_> {
    fn default() -> Self {
        ParseOptions {
            tasks: None,
            reference: chrono::Utc::now().naive_utc(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskScore {
    pub task: String,
    pub probability: f32,
}

/// A field found in an utterance. Offsets count characters (Unicode scalar
/// values), not bytes, as the data sets and Autopilot's users do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMatch {
    pub name: String,
    pub field_type: String,
    /// The words as the user wrote them.
    pub raw: String,
    /// The normalised value: the canonical custom value, or the built-in
    /// type's normal form (`21`, `2026-12-04`, `15:00`, `Yes`).
    pub value: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parse {
    /// The chosen task, or `None` when the utterance is out of scope (fallback).
    pub task: Option<String>,
    /// Autopilot's `CurrentTaskConfidence`: `(p1 - p2) / p1` of the two best tasks.
    pub confidence: f32,
    /// Autopilot's `NextBestTask`: the runner-up.
    pub next_best_task: Option<String>,
    /// How sure the model is that the utterance is any task's at all: how
    /// far its words raise the best task's SVM margin above an empty
    /// utterance's (0: no evidence; 1 or more: strong evidence). Below the
    /// model's threshold the utterance is out of scope.
    pub score: f32,
    /// The most probable tasks (at most [`RANKING_LENGTH`]), most probable first.
    pub ranking: Vec<TaskScore>,
    pub fields: Vec<FieldMatch>,
}

impl Model {
    /// Trains a model; deterministic for the same data and options.
    pub fn train(
        data: &TrainingData,
        options: &TrainOptions,
        progress: &mut dyn FnMut(TrainProgress),
    ) -> Result<Model, ModelError> {
        data.validate().map_err(ModelError::InvalidTrainingData)?;
        progress(TrainProgress::Preparing);
        let language = data.language;
        let mut stemmer = Stemmer::new(language);
        let mut rng = SplitMix(options.seed);
        let tasks: Vec<String> = data.tasks.iter().map(|t| t.name.clone()).collect();
        let oos_class = (!data.out_of_scope.is_empty()).then_some(tasks.len());

        // The samples with their tags filled (in order: the random values
        // drawn depend on it), then tokenised, stemmed and cut into n-grams
        // on all threads, each range of samples with a stemmer of its own.
        let mut filled = Vec::new();
        for (class, task) in data.tasks.iter().enumerate() {
            for sample in &task.samples {
                filled.push((fill_sample(sample, task, data, false, &mut rng), class));
            }
        }
        let masking = options.classifier.masking;
        let (copies, masked_reranking) = if masking.enabled {
            let open = open_fields(&filled, masking.distinct);
            let reranking = masking
                .at_parse
                .then(|| masked_reranking(data, &open, masking))
                .flatten();
            (without_open_values(&filled, &open), reranking)
        } else {
            (Vec::new(), None)
        };
        let mut texts: Vec<(String, usize)> = filled
            .into_iter()
            .map(|(filled, class)| (filled.text, class))
            .collect();
        if let Some(oos) = oos_class {
            texts.extend(data.out_of_scope.iter().map(|text| (text.clone(), oos)));
        }
        // The copies come last: they train the classifier (and its
        // neighbours) but are no sample to match exactly.
        let samples = texts.len();
        texts.extend(copies);
        let parts =
            crate::parallel::split(texts.len(), crate::parallel::threads(), MIN_PART, |range| {
                let mut stemmer = Stemmer::new(language);
                let mut char_grams = features::WordCharGrams::default();
                let prepared: Vec<(Grams, String)> = texts[range]
                    .iter()
                    .map(|(text, _)| {
                        let tokens = tokenize(text, language);
                        stemmer.learn(&tokens);
                        // Borrowed from the stemmer's cache: no string per token.
                        let stems = stemmer.stems_borrowed(&tokens);
                        let grams = features::grams_cached(
                            &tokens,
                            &stems,
                            &options.classifier.features,
                            &mut char_grams,
                        );
                        (grams, exact_key(&tokens))
                    })
                    .collect();
                (stemmer, prepared)
            });
        let mut examples = Vec::with_capacity(texts.len());
        let mut classes = Vec::with_capacity(texts.len());
        let mut exact: FxHashMap<String, u32> = FxHashMap::default();
        let mut ambiguous = rustc_hash::FxHashSet::default();
        let mut class_of = texts.iter().map(|&(_, class)| class);
        for (part_stemmer, prepared) in parts {
            stemmer.absorb(part_stemmer);
            for (grams, key) in prepared {
                let class = class_of.next().expect("one class per text");
                examples.push(grams);
                classes.push(class);
                if examples.len() > samples {
                    continue;
                }
                if exact.get(&key).is_some_and(|&c| c as usize != class) {
                    ambiguous.insert(key.clone());
                }
                exact.insert(key, class as u32);
            }
        }
        exact.retain(|k, c| !ambiguous.contains(k) && Some(*c as usize) != oos_class);

        progress(TrainProgress::Classifier);
        let mut labels = tasks.clone();
        if oos_class.is_some() {
            labels.push(OUT_OF_SCOPE.to_string());
        }
        let classifier = (labels.len() >= 2 && !examples.is_empty()).then(|| {
            let mut classifier = TaskClassifier::train(
                &options.classifier,
                language,
                labels,
                oos_class,
                &examples,
                &classes,
            );
            classifier.cache_words(stemmer.words());
            classifier
        });

        let mut gazetteer = Gazetteer::new(&data.field_types, language);
        if data.field_types.iter().any(|t| !t.values.is_empty()) {
            learn_ordinary_words(&mut gazetteer, data, &stemmer, options.seed);
        }
        let total = data.tasks.len();
        let mut fields = Vec::with_capacity(total);
        for (done, task) in data.tasks.iter().enumerate() {
            fields.push(FieldExtractor::train(
                task,
                data,
                &gazetteer,
                &options.fields,
                &stemmer,
                options.seed ^ done as u64,
            ));
            progress(TrainProgress::Fields {
                done: done + 1,
                total,
            });
        }
        gazetteer.cache_words(stemmer.words());
        fields.iter().for_each(FieldExtractor::prepare);
        let threshold = options.threshold;
        progress(TrainProgress::Done);
        Ok(Model {
            language,
            stemmer,
            tasks,
            classifier,
            exact,
            threshold,
            gazetteer,
            fields,
            masked_reranking,
        })
    }

    pub fn tasks(&self) -> &[String] {
        &self.tasks
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// The SVM score under which the utterance is out of scope.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub fn set_threshold(&mut self, threshold: f32) {
        self.threshold = threshold;
    }

    /// Classifies one utterance and extracts the chosen task's fields.
    pub fn parse(&self, text: &str, options: &ParseOptions) -> Parse {
        let tokens = tokenize(text, self.language);
        let stems = self.stemmer.stems(&tokens);
        let allowed = options.tasks.map(|names| self.allowed_classes(names));
        let (mut probabilities, score, classified) =
            self.probabilities(&tokens, &stems, allowed.as_deref());
        let prepared = Prepared {
            text,
            tokens: &tokens,
            stems: &stems,
            reference: options.reference,
            pieces: self.classifier.as_ref().map(TaskClassifier::piece_cache),
            word_vectors: Default::default(),
        };
        // Fields the re-ranking found, by task: the winner's are not sought twice.
        let mut extracted = Vec::new();
        if classified {
            extracted = self.rerank_masked(&prepared, allowed.as_deref(), &mut probabilities);
        }
        let order = self.most_probable(&probabilities);
        let oos_won = order.first().is_some_and(|&c| c >= self.tasks.len());
        let ranking: Vec<TaskScore> = order
            .iter()
            .filter(|&&c| c < self.tasks.len())
            .take(RANKING_LENGTH)
            .map(|&c| TaskScore {
                task: self.tasks[c].clone(),
                probability: probabilities[c],
            })
            .collect();
        let (p1, p2) = (
            ranking.first().map_or(0.0, |s| s.probability),
            ranking.get(1).map_or(0.0, |s| s.probability),
        );
        let winner = ranking
            .first()
            .filter(|_| score >= self.threshold && !oos_won)
            .map(|s| s.task.clone());
        let fields = match &winner {
            Some(task) => {
                let index = self.tasks.iter().position(|t| t == task).unwrap_or(0);
                let fields = &self.fields[index];
                match extracted.into_iter().find(|(task, _)| *task == index) {
                    Some((_, found)) => fields.values(found, &prepared, &self.gazetteer),
                    None => fields.extract(&prepared, &self.gazetteer),
                }
            }
            None => Vec::new(),
        };
        Parse {
            confidence: if p1 > 0.0 { (p1 - p2) / p1 } else { 0.0 },
            next_best_task: ranking.get(1).map(|s| s.task.clone()),
            task: winner,
            score,
            ranking,
            fields,
        }
    }

    /// Research hook (`examples/research.rs`): the exact-match class, the
    /// sorted classifier row, its word block and the raw SVM scores of one
    /// utterance, and where the static block starts.
    #[doc(hidden)]
    pub fn research_probe(&self, text: &str) -> ResearchProbe {
        let tokens = tokenize(text, self.language);
        let stems = self.stemmer.stems(&tokens);
        let exact = self.exact.get(&exact_key(&tokens)).map(|&c| c as usize);
        let classifier = self.classifier.as_ref().expect("a classifier");
        let (row, words, scores) = classifier.research_row(&tokens, &stems);
        ResearchProbe {
            exact,
            row,
            words,
            scores,
            sparse_dimension: classifier.research_sparse_dimension(),
        }
    }

    fn allowed_classes(&self, names: &[String]) -> Vec<bool> {
        let mut allowed: Vec<bool> = self.tasks.iter().map(|t| names.contains(t)).collect();
        if self
            .classifier
            .as_ref()
            .is_some_and(|c| c.out_of_scope_class.is_some())
        {
            allowed.push(true);
        }
        allowed
    }

    /// A close call between the best tasks re-ranked by each candidate's
    /// score on the utterance without its open fields' values (see
    /// [`MaskingConfig`]) and, with a tagging weight, by how sure each
    /// candidate's field tagger is of its best tagging; the candidates'
    /// probabilities are handed out again in the new order, so their set
    /// does not change. Returns where the candidates' extractors found their
    /// fields, by task (the winner's are not sought twice). The runner-up is
    /// not looked at when it cannot overtake the best task whatever its
    /// other scores.
    fn rerank_masked(
        &self,
        utterance: &Prepared,
        allowed: Option<&[bool]>,
        probabilities: &mut [f32],
    ) -> Vec<(usize, Found)> {
        let Some(masking) = &self.masked_reranking else {
            return Vec::new();
        };
        let Some(classifier) = &self.classifier else {
            return Vec::new();
        };
        let temperature = classifier.temperature();
        let order = self.candidates(probabilities, masking.candidates);
        if order.len() < 2
            || temperature * (probabilities[order[0]] / probabilities[order[1]]).ln() >= masking.gap
        {
            return Vec::new();
        }
        let tagging = self.tagging_weight(masking, utterance, &order);
        let mut extra: Vec<f32> = Vec::with_capacity(order.len());
        let mut extracted = Vec::new();
        let mut last = None;
        for (i, &c) in order.iter().enumerate() {
            if i == 1 && order.len() == 2 && masking.weight >= 0.0 && tagging >= 0.0 {
                // A masked score is at most 0 (a log-probability; probabilities
                // are at most 1), and so is a tagging's log-probability, so the
                // runner-up's combined score is at most its score on the whole
                // utterance. When the winner's combined score is at least that,
                // the order stays as it is (ties keep it too): the runner-up's
                // fields need not be sought.
                let first = temperature * probabilities[order[0]].ln() + extra[0];
                let ceiling = temperature * probabilities[c].ln();
                if first.total_cmp(&ceiling).is_ge() {
                    return extracted;
                }
            }
            let (score, found) = self.masked_score(
                masking,
                utterance,
                allowed,
                probabilities,
                c,
                tagging != 0.0,
                &mut last,
            );
            let tagged = found.as_ref().map_or(0.0, |f| f.tagging);
            extra.push(masking.weight * score + tagging * tagged);
            extracted.extend(found.map(|found| (c, found)));
        }
        let combined: Vec<f32> = (order.iter().zip(&extra))
            .map(|(&c, &e)| temperature * probabilities[c].ln() + e)
            .collect();
        let mut by_combined: Vec<usize> = (0..order.len()).collect();
        by_combined.sort_by(|&a, &b| combined[b].total_cmp(&combined[a]));
        let values: Vec<f32> = order.iter().map(|&c| probabilities[c]).collect();
        for (&i, value) in by_combined.iter().zip(values) {
            probabilities[order[i]] = value;
        }
        extracted
    }

    /// The weight of a tagging's log-probability in a close call between
    /// `candidates`: the configured weight per word of the utterance, and 0
    /// unless every candidate has a tagger (one without scores no tagging,
    /// and a sure 0 would favour it).
    fn tagging_weight(
        &self,
        masking: &MaskedReranking,
        utterance: &Prepared,
        candidates: &[usize],
    ) -> f32 {
        if masking.tagging == 0.0 || !candidates.iter().all(|&c| self.fields[c].has_tagger()) {
            return 0.0;
        }
        let words = utterance.tokens.iter().filter(|t| t.is_word_like()).count();
        masking.tagging / words.max(1) as f32
    }

    /// The `n` most probable tasks (not the out-of-scope class), most
    /// probable first.
    fn candidates(&self, probabilities: &[f32], n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.tasks.len().min(probabilities.len()))
            .filter(|&c| probabilities[c] > 0.0)
            .collect();
        order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
        order.truncate(n);
        order
    }

    /// For each task of `candidates`, [`Model::masked_score`] and the
    /// log-probability of its tagger's best tagging (0 unless every
    /// candidate has a tagger and the tagging weight is not 0), for the
    /// research hook and the tests.
    fn masked_scores(
        &self,
        masking: &MaskedReranking,
        utterance: &Prepared,
        probabilities: &[f32],
        candidates: &[usize],
    ) -> Vec<(f32, f32)> {
        let mut last = None;
        let scored = self.tagging_weight(masking, utterance, candidates) != 0.0;
        (candidates.iter())
            .map(|&c| {
                let (score, found) = self.masked_score(
                    masking,
                    utterance,
                    None,
                    probabilities,
                    c,
                    scored,
                    &mut last,
                );
                (score, found.map_or(0.0, |f| f.tagging))
            })
            .collect()
    }

    /// The score of task `c` (log-probability times the temperature) on the
    /// utterance without the values of its open fields where its field
    /// extractor finds them; on the whole utterance (`probabilities`) when
    /// it finds none. Also where the extractor found its fields, when it
    /// looked (their values are worked out for the winner only); with
    /// `scored`, it always looks, and scores its tagging
    /// ([`FieldExtractor::find_scored`]). `last`: the last masked utterance
    /// and its probabilities, for a candidate that cuts the same words out.
    #[allow(clippy::too_many_arguments)]
    fn masked_score(
        &self,
        masking: &MaskedReranking,
        utterance: &Prepared,
        allowed: Option<&[bool]>,
        probabilities: &[f32],
        c: usize,
        scored: bool,
        last: &mut Option<(String, Vec<f32>)>,
    ) -> (f32, Option<Found>) {
        let Some(classifier) = &self.classifier else {
            return (0.0, None);
        };
        let temperature = classifier.temperature();
        let score = |p: f32| temperature * p.max(1e-30).ln();
        let open = masking.open_fields.get(c).map_or(&[][..], |o| o.as_slice());
        if open.is_empty() && !scored {
            return (score(probabilities[c]), None);
        }
        let fields = &self.fields[c];
        let found = fields.find_scored(utterance, &self.gazetteer, scored);
        let spans = fields.spans_of(&found, open);
        if spans.is_empty() {
            return (score(probabilities[c]), Some(found));
        }
        let masked = cut(utterance.text, spans);
        if let Some((text, probabilities)) = last.as_ref()
            && *text == masked
        {
            return (score(probabilities[c]), Some(found));
        }
        let tokens = tokenize(&masked, self.language);
        let stems = self.stemmer.stems(&tokens);
        let classified = classifier.classify_tokens(&tokens, &stems, allowed);
        let masked_score = score(classified.probabilities[c]);
        *last = Some((masked, classified.probabilities));
        (masked_score, Some(found))
    }

    /// Research hook (`examples/mask_grid.rs`): an utterance's
    /// probabilities before the masked re-ranking (`None` when it matched
    /// a training sample exactly), its `n` best tasks, their masked scores
    /// and the classifier's temperature.
    #[doc(hidden)]
    pub fn research_masked(&self, text: &str, n: usize) -> Option<ResearchMasked> {
        let tokens = tokenize(text, self.language);
        let stems = self.stemmer.stems(&tokens);
        let (probabilities, _, classified) = self.probabilities(&tokens, &stems, None);
        if !classified {
            return None;
        }
        let classifier = self.classifier.as_ref()?;
        let masking = self.masked_reranking.as_ref()?;
        let order = self.candidates(&probabilities, n);
        let reference = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)?.and_hms_opt(12, 0, 0)?;
        let prepared = Prepared {
            text,
            tokens: &tokens,
            stems: &stems,
            reference,
            pieces: Some(classifier.piece_cache()),
            word_vectors: Default::default(),
        };
        let (masked, tagging) = (self.masked_scores(masking, &prepared, &probabilities, &order))
            .into_iter()
            .unzip();
        Some(ResearchMasked {
            probabilities,
            candidates: order,
            masked,
            temperature: classifier.temperature(),
            tagging,
            words: tokens.iter().filter(|t| t.is_word_like()).count(),
        })
    }

    /// Probability per class (tasks, then the out-of-scope class if
    /// trained), the best allowed task's SVM score, and whether the
    /// classifier gave them (not the exact-match table nor a lone task).
    fn probabilities(
        &self,
        tokens: &[Token],
        stems: &[String],
        allowed: Option<&[bool]>,
    ) -> (Vec<f32>, f32, bool) {
        let is_allowed = |class: usize| allowed.is_none_or(|a| a[class]);
        if let Some(&class) = self.exact.get(&exact_key(tokens))
            && is_allowed(class as usize)
        {
            let mut p = vec![0.0; allowed.map_or(self.tasks.len(), |a| a.len())];
            p[class as usize] = 1.0;
            return (p, SURE, false);
        }
        match &self.classifier {
            Some(classifier) => {
                let classified = classifier.classify_tokens(tokens, stems, allowed);
                // Unfamiliar text has no evidence, whatever its scores say.
                let evidence = if classified.unfamiliar {
                    NO_EVIDENCE
                } else {
                    classified.evidence
                };
                (classified.probabilities, evidence, true)
            }
            // One task and nothing to tell it from: it always wins.
            None => {
                let p = (0..self.tasks.len())
                    .map(|c| if is_allowed(c) { 1.0 } else { 0.0 })
                    .collect();
                (p, SURE, false)
            }
        }
    }

    /// Classes with a probability, most probable first; only the head of the
    /// list is sorted (a parse reports at most [`RANKING_LENGTH`] tasks).
    fn most_probable(&self, probabilities: &[f32]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..probabilities.len())
            .filter(|&c| probabilities[c] > 0.0)
            .collect();
        let by_probability = |a: &usize, b: &usize| probabilities[*b].total_cmp(&probabilities[*a]);
        // One more than reported: the out-of-scope class may be among them.
        let head = RANKING_LENGTH + 1;
        if order.len() > head {
            order.select_nth_unstable_by(head, by_probability);
            order.truncate(head);
        }
        order.sort_by(by_probability);
        order
    }

    /// The model as bytes: magic, format version, then the postcard payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&MODEL_FORMAT_VERSION.to_le_bytes());
        out.extend(postcard::to_stdvec(self).expect("a model always serialises"));
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(ModelError::NotAModel);
        }
        let found = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if found != MODEL_FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion { found });
        }
        let mut model: Model =
            postcard::from_bytes(&bytes[12..]).map_err(|e| ModelError::Corrupt(e.to_string()))?;
        if let Some(classifier) = model.classifier.as_mut() {
            classifier.cache_words(model.stemmer.words());
        }
        model.gazetteer.cache_words(model.stemmer.words());
        model.fields.iter().for_each(FieldExtractor::prepare);
        Ok(model)
    }
}

/// What [`Model::research_probe`] sees of an utterance.
#[doc(hidden)]
pub struct ResearchProbe {
    pub exact: Option<usize>,
    pub row: features::SparseRow,
    pub words: features::SparseRow,
    pub scores: Vec<f32>,
    pub sparse_dimension: usize,
}

/// What [`Model::research_masked`] sees of an utterance.
#[doc(hidden)]
pub struct ResearchMasked {
    /// Per class, before the masked re-ranking.
    pub probabilities: Vec<f32>,
    /// The best tasks, best first.
    pub candidates: Vec<usize>,
    /// Each candidate's score without its open fields' values.
    pub masked: Vec<f32>,
    pub temperature: f32,
    /// Each candidate's log-probability of its tagger's best tagging, in
    /// units of `ln L` for its `L` labels (0 unless every candidate has a
    /// tagger and the model weighs it).
    pub tagging: Vec<f32>,
    /// The utterance's words (and numbers).
    pub words: usize,
}

/// Fewest samples worth a thread of their own while preparing training.
const MIN_PART: usize = 500;

/// The score of an utterance the vocabulary knows nothing of.
const NO_EVIDENCE: f32 = -10.0;

/// The score of an utterance that is a training sample: sure.
const SURE: f32 = 2.0;

/// Name of the out-of-scope class inside the classifier; never reported as a task.
const OUT_OF_SCOPE: &str = "\u{0}out-of-scope";

/// How many tasks a parse ranks.
pub const RANKING_LENGTH: usize = 10;

/// Chosen on validation splits with whole intents held out as pseudo
/// out-of-scope utterances (see `bench/README.md`).
const DEFAULT_THRESHOLD: f32 = -0.5;

/// The names of each task's open fields (`open`: `(task, field index)`,
/// see [`MaskingConfig`]) and the settings of the re-ranking; `None` when
/// no task has one.
fn masked_reranking(
    data: &TrainingData,
    open: &rustc_hash::FxHashSet<(usize, usize)>,
    masking: MaskingConfig,
) -> Option<MaskedReranking> {
    if open.is_empty() {
        return None;
    }
    let open_fields = (data.tasks.iter().enumerate())
        .map(|(class, task)| {
            (task.fields.iter().enumerate())
                .filter(|(field, _)| open.contains(&(class, *field)))
                .map(|(_, field)| field.name.clone())
                .collect()
        })
        .collect();
    Some(MaskedReranking {
        open_fields,
        gap: masking.gap,
        candidates: masking.candidates,
        weight: masking.weight,
        tagging: masking.tagging,
    })
}

/// `text` without the values of `found` whose field is one of `open`
/// (`None` when there is none): how the masked re-ranking cut the utterance
/// from the fields as a parse reports them, before it cut the spans of
/// [`FieldExtractor::find`] (the tests check the two agree).
#[cfg(test)]
fn without_values(text: &str, found: &[FieldMatch], open: &[String]) -> Option<String> {
    let spans: Vec<(usize, usize)> = found
        .iter()
        .filter(|f| open.contains(&f.name))
        .map(|f| (f.start, f.end))
        .collect();
    if spans.is_empty() {
        return None;
    }
    // Field matches count characters; the cut needs bytes.
    let bytes: Vec<usize> = (text.char_indices().map(|(b, _)| b))
        .chain(std::iter::once(text.len()))
        .collect();
    let spans = spans
        .into_iter()
        .map(|(start, end)| (bytes[start], bytes[end]))
        .collect();
    Some(cut(text, spans))
}

/// Utterances that differ only in case, accents, spacing and punctuation share a key.
fn exact_key(tokens: &[Token]) -> String {
    let mut key = String::new();
    for token in tokens.iter().filter(|t| t.is_word_like()) {
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(&token.norm);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(name: &str, text: &str, value: &str) -> FieldMatch {
        let byte = text.find(value).expect("the value is in the text");
        let start = text[..byte].chars().count();
        FieldMatch {
            name: name.into(),
            field_type: "T".into(),
            raw: value.into(),
            value: value.into(),
            start,
            end: start + value.chars().count(),
        }
    }

    #[test]
    fn only_the_values_of_open_fields_are_cut_counting_characters() {
        let text = "joue Café Müller à l'opéra";
        let matches = [
            found("title", text, "Café Müller"),
            found("place", text, "l'opéra"),
        ];
        let open = vec!["title".to_string()];
        assert_eq!(
            without_values(text, &matches, &open).as_deref(),
            Some("joue   à l'opéra")
        );
        let both = vec!["title".to_string(), "place".to_string()];
        assert_eq!(
            without_values(text, &matches, &both).as_deref(),
            Some("joue   à  ")
        );
        // Nothing open among the fields found: nothing to score again.
        assert_eq!(without_values(text, &matches, &[]), None);
        assert_eq!(without_values(text, &[], &open), None);
    }

    /// The close calls of a model trained on snips small (the shared
    /// fixture), parsing snips training utterances it has not seen.
    fn snips_small() -> (Model, Vec<String>) {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/nlu/snips/"
        );
        let load = |name: &str| {
            crate::dataset::load(std::path::Path::new(&format!("{dir}{name}")))
                .expect("the shared snips fixture")
        };
        let data = crate::dataset::to_training_data(&load("train_small.jsonl"), Language::English);
        let model = Model::train(&data, &TrainOptions::default(), &mut |_| {}).expect("trains");
        let texts = (load("train.jsonl").into_iter().step_by(40))
            .map(|e| e.text)
            .collect();
        (model, texts)
    }

    #[test]
    fn fields_found_without_values_cut_and_report_what_the_whole_extraction_does() {
        let (model, texts) = snips_small();
        let masking = model
            .masked_reranking
            .as_ref()
            .expect("snips has open fields");
        let reference = chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a valid date");
        let pieces = model.classifier.as_ref().map(TaskClassifier::piece_cache);
        let (mut cuts, mut fields) = (0, 0);
        for text in &texts {
            let tokens = tokenize(text, model.language);
            let stems = model.stemmer.stems(&tokens);
            let prepared = || Prepared {
                text,
                tokens: &tokens,
                stems: &stems,
                reference,
                pieces,
                word_vectors: Default::default(),
            };
            // One utterance shared by every extractor (its word vectors
            // worked out once), against a fresh one for each.
            let shared = prepared();
            for (c, extractor) in model.fields.iter().enumerate() {
                let whole = extractor.extract(&prepared(), &model.gazetteer);
                let found = extractor.find(&shared, &model.gazetteer);
                let open = &masking.open_fields[c];
                let spans = extractor.spans_of(&found, open);
                let cut_now = (!spans.is_empty()).then(|| cut(text, spans));
                assert_eq!(cut_now, without_values(text, &whole, open), "{text}");
                cuts += usize::from(cut_now.is_some());
                fields += whole.len();
                assert_eq!(
                    extractor.values(found, &shared, &model.gazetteer),
                    whole,
                    "{text}"
                );
            }
        }
        assert!(cuts > 100 && fields > 500, "{cuts} cuts, {fields} fields");
    }

    #[test]
    fn close_calls_skip_the_runner_up_only_when_it_cannot_overtake() {
        let (model, texts) = snips_small();
        let masking = model
            .masked_reranking
            .as_ref()
            .expect("snips has open fields");
        let temperature = model
            .classifier
            .as_ref()
            .expect("a classifier")
            .temperature();
        assert!(masking.tagging > 0.0, "the default weighs the taggings");
        let (mut close, mut swapped, mut skipped, mut by_tagging) = (0, 0, 0, 0);
        for text in &texts {
            let tokens = tokenize(text, model.language);
            let stems = model.stemmer.stems(&tokens);
            let (before, _, classified) = model.probabilities(&tokens, &stems, None);
            let order = model.candidates(&before, masking.candidates);
            if !classified
                || order.len() < 2
                || temperature * (before[order[0]] / before[order[1]]).ln() >= masking.gap
            {
                continue;
            }
            close += 1;
            let prepared = Prepared {
                text,
                tokens: &tokens,
                stems: &stems,
                reference: chrono::NaiveDateTime::default(),
                pieces: None,
                word_vectors: Default::default(),
            };
            // Every candidate scored, as the re-ranking did before it skipped
            // any: the whole utterance, without the open values, and the
            // tagging's log-probability per word (every snips task has a tagger).
            let words = tokens.iter().filter(|t| t.is_word_like()).count() as f32;
            let scores = model.masked_scores(masking, &prepared, &before, &order);
            assert!(scores.iter().all(|&(_, t)| t <= 0.0), "{text}");
            let combined_with = |tagging: f32| -> Vec<f32> {
                (order.iter().zip(&scores))
                    .map(|(&c, &(m, t))| {
                        temperature * before[c].ln() + masking.weight * m + tagging / words * t
                    })
                    .collect()
            };
            let combined = combined_with(masking.tagging);
            let mut expected = before.clone();
            let swap = combined[1].total_cmp(&combined[0]).is_gt();
            if swap {
                swapped += 1;
                expected.swap(order[0], order[1]);
            }
            let without = combined_with(0.0);
            by_tagging += usize::from(swap != without[1].total_cmp(&without[0]).is_gt());
            let mut after = before.clone();
            let extracted = model.rerank_masked(&prepared, None, &mut after);
            assert_eq!(after, expected, "{text}");
            let runner_up = order[1];
            let open = |c: usize| !masking.open_fields[c].is_empty();
            if open(runner_up) && !extracted.iter().any(|(c, _)| *c == runner_up) {
                skipped += 1;
                assert!(
                    combined[0] >= temperature * before[runner_up].ln(),
                    "{text}"
                );
            }
        }
        // The taggings decide some close calls.
        assert!(
            close > 30 && swapped > 0 && skipped > 0 && by_tagging > 0,
            "{close} {swapped} {skipped} {by_tagging}"
        );
    }
}
