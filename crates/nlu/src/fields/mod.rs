//! Field extraction for one task: built-in types parsed in-process, custom
//! field types matched by value and synonym, and values never listed found
//! by a sequence tagger learned from the task's tagged samples.

pub mod crf;
mod fill;
pub mod gazetteer;
pub mod tagger;

pub(crate) use fill::{cut, fill_sample, open_fields, without_open_values};

use crate::rng::SplitMix;
use crate::text::{Stemmer, tokenize};
use tagger::{Annotations, FieldSpan, Tagger, TaggerConfig, TrainingSequence, Utterance};

use otto_builtin_types::{self as builtin, BuiltinType};
use serde::{Deserialize, Serialize};

use crate::model::FieldMatch;
use crate::text::{Language, Token, TokenKind};
use crate::training::{TaskData, TrainingData};
use gazetteer::Gazetteer;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FieldsConfig {
    /// For fields the tagger did not find, report listed custom values and
    /// built-in values found anywhere in the utterance (except listed values
    /// the samples use as ordinary words).
    pub values_anywhere: bool,
    pub tagger: TaggerConfig,
    /// Tell the tagger word clusters and each word's similarity to each
    /// field's values, from the static vectors (where the language has them).
    pub static_vectors: bool,
}

impl Default for FieldsConfig {
    fn default() -> Self {
        FieldsConfig {
            values_anywhere: true,
            tagger: TaggerConfig::default(),
            static_vectors: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum FieldKind {
    Builtin(#[serde(with = "builtin_by_name")] BuiltinType),
    /// Index of the custom type in the assistant's gazetteer.
    Custom(usize),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FieldSpec {
    name: String,
    field_type: String,
    kind: FieldKind,
}

/// Everything needed to find one task's fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldExtractor {
    language: Language,
    fields: Vec<FieldSpec>,
    /// Which of the assistant's custom types this task's fields use.
    wanted_types: Vec<bool>,
    /// Learned from the task's samples; `None` when they tag no field.
    tagger: Option<Tagger>,
    /// Per field, the direction of its values in static-vector space (unit
    /// length): how much a word looks like the field's values is a tagger
    /// feature. Empty without static vectors.
    centroids: Vec<Option<Vec<f32>>>,
    config: FieldsConfig,
}

/// An utterance prepared for field extraction.
pub struct Prepared<'a> {
    pub text: &'a str,
    pub tokens: &'a [Token],
    pub stems: &'a [String],
    pub reference: chrono::NaiveDateTime,
    /// The static-vector pieces of known words, cut once per model (the
    /// classifier's); without it words are cut at each parse, to the same pieces.
    pub pieces: Option<&'a crate::embeddings::PieceCache>,
    /// Each word's static vector and cluster, worked out by the first
    /// extractor that needs them and shared by the others (a close call
    /// runs two extractors on one utterance). `Default::default()`.
    pub word_vectors: std::cell::OnceCell<WordVectors>,
}

impl Prepared<'_> {
    /// The tokens (and their stems) between two byte offsets of the text;
    /// `None` if the stems are not one per token.
    fn within(&self, start: usize, end: usize) -> Option<(&[Token], &[String])> {
        if self.stems.len() != self.tokens.len() {
            return None;
        }
        let first = self.tokens.partition_point(|t| t.start < start);
        let last = self.tokens.partition_point(|t| t.end <= end).max(first);
        Some((&self.tokens[first..last], &self.stems[first..last]))
    }
}

/// Per token of an utterance, its static-vector cluster and its static
/// vector at unit length (zeros for tokens that are not words).
#[derive(Debug, Default)]
pub struct WordVectors {
    clusters: Vec<u16>,
    /// `dims` numbers per token.
    vectors: Vec<f32>,
    dims: usize,
}

impl WordVectors {
    fn new(vectors: &crate::embeddings::StaticVectors, utterance: &Prepared) -> Self {
        let dims = vectors.dims();
        let mut out = WordVectors {
            clusters: vec![0; utterance.tokens.len()],
            vectors: vec![0.0; utterance.tokens.len() * dims],
            dims,
        };
        for (t, token) in utterance.tokens.iter().enumerate() {
            if token.kind != TokenKind::Word {
                continue;
            }
            let v = &mut out.vectors[t * dims..(t + 1) * dims];
            out.clusters[t] = vectors.add_word_with_cluster(&token.norm, utterance.pieces, 1.0, v);
            crate::embeddings::normalize(v);
        }
        out
    }

    fn vector(&self, token: usize) -> &[f32] {
        &self.vectors[token * self.dims..(token + 1) * self.dims]
    }
}

/// Where an extractor found its fields in an utterance, before their values
/// are worked out ([`FieldExtractor::find`]; [`FieldExtractor::values`]
/// gives the fields): enough to cut them out of the utterance.
#[derive(Default)]
pub struct Found {
    candidates: Vec<Candidate>,
    /// In the order of the text.
    spans: Vec<FoundSpan>,
    /// The log-probability of the tagger's best tagging of the utterance, in
    /// units of `ln L` for `L` labels ([`Tagger::tag_scored`]), when
    /// [`FieldExtractor::find_scored`] was asked for it (0 otherwise, and
    /// without a tagger).
    pub tagging: f32,
}

/// A field's place (bytes) and where its value comes from.
struct FoundSpan {
    field: usize,
    start: usize,
    end: usize,
    value: ValueSource,
}

enum ValueSource {
    /// The value of `candidates[i]`.
    Candidate(usize),
    /// The words resolved against the custom type's listed values.
    Custom(usize),
    /// The words parsed as the built-in type.
    Builtin(BuiltinType),
}

impl FieldExtractor {
    pub fn train(
        task: &TaskData,
        data: &TrainingData,
        gazetteer: &Gazetteer,
        config: &FieldsConfig,
        stemmer: &Stemmer,
        seed: u64,
    ) -> Self {
        let mut wanted_types = vec![false; data.field_types.len()];
        let fields: Vec<FieldSpec> = task
            .fields
            .iter()
            .filter_map(|field| {
                let kind = match BuiltinType::from_name(&field.field_type) {
                    Some(b) => FieldKind::Builtin(b),
                    None => {
                        let index = gazetteer.type_index(&field.field_type)?;
                        wanted_types[index] = true;
                        FieldKind::Custom(index)
                    }
                };
                Some(FieldSpec {
                    name: field.name.clone(),
                    field_type: field.field_type.clone(),
                    kind,
                })
            })
            .collect();
        let centroids = match crate::embeddings::for_language(data.language) {
            Some(vectors) if config.static_vectors => task
                .fields
                .iter()
                .filter(|f| fields.iter().any(|s| s.name == f.name))
                .map(|f| value_centroid(vectors, &f.field_type, data))
                .collect(),
            _ => Vec::new(),
        };
        let mut extractor = FieldExtractor {
            language: data.language,
            fields,
            wanted_types,
            tagger: None,
            centroids,
            config: *config,
        };
        extractor.tagger = extractor.train_tagger(task, data, gazetteer, stemmer, seed);
        extractor
    }

    fn train_tagger(
        &self,
        task: &TaskData,
        data: &TrainingData,
        gazetteer: &Gazetteer,
        stemmer: &Stemmer,
        seed: u64,
    ) -> Option<Tagger> {
        let mut rng = SplitMix(seed);
        let mut utterances = Vec::new();
        for sample in &task.samples {
            let filled = fill_sample(sample, task, data, false, &mut rng);
            if filled.spans.is_empty() {
                // Samples without fields still teach the tagger where values are not.
                utterances.push((filled, Vec::new()));
                continue;
            }
            let tokens = tokenize(&filled.text, self.language);
            let spans = token_spans(&filled, &tokens, &task.fields, &self.fields);
            utterances.push((filled, spans));
        }
        if utterances.iter().all(|(_, spans)| spans.is_empty()) {
            return None;
        }
        let reference = chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a valid date");
        let prepared: Vec<(Vec<Token>, Vec<String>, Annotations)> = utterances
            .iter()
            .map(|(filled, _)| {
                let tokens = tokenize(&filled.text, self.language);
                let stems = stemmer.stems(&tokens);
                let prepared = Prepared {
                    text: &filled.text,
                    tokens: &tokens,
                    stems: &stems,
                    reference,
                    pieces: None,
                    word_vectors: Default::default(),
                };
                let annotations =
                    self.annotations(&prepared, &self.candidates(&prepared, gazetteer));
                (tokens, stems, annotations)
            })
            .collect();
        let sequences: Vec<TrainingSequence> = utterances
            .iter()
            .zip(&prepared)
            .map(
                |((filled, spans), (tokens, stems, annotations))| TrainingSequence {
                    utterance: Utterance {
                        text: &filled.text,
                        tokens,
                        stems,
                        annotations,
                    },
                    spans,
                },
            )
            .collect();
        let names = self.fields.iter().map(|f| f.name.clone()).collect();
        Some(Tagger::train(names, &sequences, &self.config.tagger, seed))
    }

    /// Where listed values of the task's custom types and values of its
    /// built-in types occur in the utterance.
    fn candidates(&self, utterance: &Prepared, gazetteer: &Gazetteer) -> Vec<Candidate> {
        let mut candidates: Vec<Candidate> = gazetteer
            .find(utterance.tokens, utterance.stems, &self.wanted_types)
            .into_iter()
            .map(|m| Candidate {
                kind: FieldKind::Custom(m.field_type),
                first: m.first,
                last: m.last,
                value: gazetteer.canonical(m.value).to_string(),
                edits: m.edits,
                ordinary: m.ordinary,
            })
            .collect();
        let context = builtin::Context {
            reference: utterance.reference,
            lang: builtin_lang(self.language),
        };
        for ty in self.builtin_types() {
            for m in builtin::find(ty, utterance.text, &context) {
                if let Some((first, last)) = byte_span_to_tokens(utterance.tokens, m.start, m.end) {
                    candidates.push(Candidate {
                        kind: FieldKind::Builtin(ty),
                        first,
                        last,
                        value: m.value,
                        edits: 0,
                        ordinary: false,
                    });
                }
            }
        }
        candidates
    }

    /// What the tagger is told about the utterance besides its words: where
    /// listed and built-in values are, each word's cluster, and how much each
    /// word looks like each field's values.
    fn annotations(&self, utterance: &Prepared, candidates: &[Candidate]) -> Annotations {
        let mut annotations = Annotations::new();
        for c in candidates {
            match c.kind {
                FieldKind::Custom(t) => annotations.add_lexical_id(
                    Annotations::id_of("gaz", t as u64, 0),
                    c.first,
                    c.last,
                ),
                FieldKind::Builtin(ty) => annotations.add(ty.name(), c.first, c.last),
            }
        }
        if let Some(vectors) = crate::embeddings::for_language(self.language)
            .filter(|_| self.config.static_vectors && !self.centroids.is_empty())
        {
            self.vector_annotations(vectors, utterance, &mut annotations);
        }
        annotations
    }

    fn vector_annotations(
        &self,
        vectors: &crate::embeddings::StaticVectors,
        utterance: &Prepared,
        annotations: &mut Annotations,
    ) {
        let words = (utterance.word_vectors).get_or_init(|| WordVectors::new(vectors, utterance));
        for (t, token) in utterance.tokens.iter().enumerate() {
            if token.kind != TokenKind::Word {
                continue;
            }
            let cluster = words.clusters[t] as u64;
            annotations.add_id(Annotations::id_of("cl", cluster, 0), t, t);
            let v = words.vector(t);
            for (f, centroid) in self.centroids.iter().enumerate() {
                let Some(centroid) = centroid else { continue };
                let cosine = crate::embeddings::dot(centroid, v);
                // Cumulative levels, so "at least this similar" is one feature.
                for (level, &at_least) in SIMILARITY_LEVELS.iter().enumerate() {
                    if cosine >= at_least {
                        annotations
                            .add_local_id(Annotations::id_of("sim", f as u64, level as u64), t);
                    }
                }
            }
        }
    }

    /// The built-in types of the task's fields, each once.
    fn builtin_types(&self) -> Vec<BuiltinType> {
        let mut types: Vec<BuiltinType> = Vec::new();
        for field in &self.fields {
            if let FieldKind::Builtin(ty) = field.kind
                && !types.contains(&ty)
            {
                types.push(ty);
            }
        }
        types
    }

    /// Builds the tagger's derived tables now rather than at the first parse.
    pub fn prepare(&self) {
        if let Some(tagger) = &self.tagger {
            tagger.prepare();
        }
    }

    /// The fields found in an utterance: where the tagger puts them, then,
    /// for fields it did not find, listed and built-in values wherever they
    /// occur (a synonym or a typo of a listed value is found even in a
    /// sentence unlike any sample).
    pub fn extract(&self, utterance: &Prepared, gazetteer: &Gazetteer) -> Vec<FieldMatch> {
        let found = self.find(utterance, gazetteer);
        self.values(found, utterance, gazetteer)
    }

    /// Where [`FieldExtractor::extract`] finds the fields, without working
    /// out their values (resolving a tagged span against the listed values,
    /// parsing it as a built-in type): what a close call needs of the
    /// candidates that do not win.
    pub fn find(&self, utterance: &Prepared, gazetteer: &Gazetteer) -> Found {
        self.find_scored(utterance, gazetteer, false)
    }

    /// [`FieldExtractor::find`], with the log-probability of the tagger's
    /// best tagging in [`Found::tagging`] when `scored` (the CRF's forward
    /// pass besides its Viterbi: a close call's third score).
    pub fn find_scored(&self, utterance: &Prepared, gazetteer: &Gazetteer, scored: bool) -> Found {
        if self.fields.is_empty() {
            return Found::default();
        }
        let candidates = self.candidates(utterance, gazetteer);
        let mut spans: Vec<FoundSpan> = Vec::new();
        let mut tagging = 0.0;
        if let Some(tagger) = &self.tagger {
            let annotations = self.annotations(utterance, &candidates);
            let utterance_to_tag = Utterance {
                text: utterance.text,
                tokens: utterance.tokens,
                stems: utterance.stems,
                annotations: &annotations,
            };
            let tagged = if scored {
                let (tagged, log_p) = tagger.tag_scored(&utterance_to_tag);
                tagging = log_p;
                tagged
            } else {
                tagger.tag(&utterance_to_tag)
            };
            for span in tagged {
                let (value, first, last) = self.value_of(span, &candidates);
                let (start, end) = (utterance.tokens[first].start, utterance.tokens[last].end);
                push_unless_overlapping(&mut spans, span.field, start, end, value);
            }
        }
        if self.config.values_anywhere || self.tagger.is_none() {
            self.add_candidates(&candidates, utterance, &mut spans);
        }
        spans.sort_by_key(|f| f.start);
        Found {
            candidates,
            spans,
            tagging,
        }
    }

    /// Whether the task has a field tagger (some sample tags a field).
    pub fn has_tagger(&self) -> bool {
        self.tagger.is_some()
    }

    /// The byte spans of `found` whose field is one of `names`.
    pub fn spans_of(&self, found: &Found, names: &[String]) -> Vec<(usize, usize)> {
        (found.spans.iter())
            .filter(|s| names.contains(&self.fields[s.field].name))
            .map(|s| (s.start, s.end))
            .collect()
    }

    /// The fields of `found` (by this extractor, in `utterance`) with their values.
    pub fn values(
        &self,
        found: Found,
        utterance: &Prepared,
        gazetteer: &Gazetteer,
    ) -> Vec<FieldMatch> {
        let context = builtin::Context {
            reference: utterance.reference,
            lang: builtin_lang(self.language),
        };
        let Found {
            candidates, spans, ..
        } = found;
        spans
            .into_iter()
            .map(|span| {
                let field = &self.fields[span.field];
                let raw = &utterance.text[span.start..span.end];
                let value = match span.value {
                    ValueSource::Candidate(c) => candidates[c].value.clone(),
                    ValueSource::Custom(t) => {
                        let resolved = match utterance.within(span.start, span.end) {
                            Some((tokens, stems)) => gazetteer.resolve_tokens(t, tokens, stems),
                            None => gazetteer.resolve(t, raw),
                        };
                        resolved.unwrap_or(raw).to_string()
                    }
                    ValueSource::Builtin(ty) => {
                        builtin::parse_answer(ty, raw, &context).unwrap_or_else(|| raw.to_string())
                    }
                };
                let (start, end) = char_span(utterance.text, span.start, span.end);
                FieldMatch {
                    name: field.name.clone(),
                    field_type: field.field_type.clone(),
                    raw: raw.to_string(),
                    value,
                    start,
                    end,
                }
            })
            .collect()
    }

    /// Where the value of a tagged span comes from and the tokens it covers.
    /// A built-in value overlapping the span wins with its own bounds (the
    /// tagger may tag `one` of `twenty-one`); otherwise the canonical custom
    /// value, the built-in normal form, or the words as said (a value never
    /// listed).
    fn value_of(&self, span: FieldSpan, candidates: &[Candidate]) -> (ValueSource, usize, usize) {
        let field = &self.fields[span.field];
        if let FieldKind::Builtin(ty) = field.kind
            && let Some(c) = candidates.iter().position(|c| {
                matches!(c.kind, FieldKind::Builtin(t) if t == ty)
                    && c.first <= span.last
                    && span.first <= c.last
            })
        {
            return (
                ValueSource::Candidate(c),
                candidates[c].first,
                candidates[c].last,
            );
        }
        let value = match field.kind {
            // The whole span as a listed value: already found among the
            // candidates, most often (resolving tokenises it again).
            FieldKind::Custom(t) => match candidates.iter().position(|c| {
                c.kind == FieldKind::Custom(t) && c.first == span.first && c.last == span.last
            }) {
                Some(c) => ValueSource::Candidate(c),
                None => ValueSource::Custom(t),
            },
            FieldKind::Builtin(ty) => ValueSource::Builtin(ty),
        };
        (value, span.first, span.last)
    }

    /// Candidates for the fields not found yet, longest first, where no
    /// field has claimed the words.
    fn add_candidates(
        &self,
        candidates: &[Candidate],
        utterance: &Prepared,
        found: &mut Vec<FoundSpan>,
    ) {
        let mut order: Vec<usize> = (0..candidates.len())
            .filter(|&c| !candidates[c].ordinary)
            .collect();
        order.sort_by_key(|&c| {
            let c = &candidates[c];
            (std::cmp::Reverse(c.last - c.first), c.edits, c.first)
        });
        for i in order {
            let c = &candidates[i];
            let Some(field) = self.fields.iter().position(|f| {
                f.kind == c.kind && !found.iter().any(|m| self.fields[m.field].name == f.name)
            }) else {
                continue;
            };
            let (start, end) = (
                utterance.tokens[c.first].start,
                utterance.tokens[c.last].end,
            );
            push_unless_overlapping(found, field, start, end, ValueSource::Candidate(i));
        }
    }
}

/// Cosine levels of a word against a field's value centroid that become features.
const SIMILARITY_LEVELS: [f32; 5] = [0.2, 0.35, 0.5, 0.65, 0.8];

/// The unit mean of the unit vectors of every word of a field type's values
/// (a custom type's values and synonyms, a built-in type's examples).
fn value_centroid(
    vectors: &crate::embeddings::StaticVectors,
    field_type: &str,
    data: &TrainingData,
) -> Option<Vec<f32>> {
    let values: Vec<String> = match BuiltinType::from_name(field_type) {
        Some(ty) => fill::builtin_examples(ty, data.language)
            .iter()
            .map(|s| s.to_string())
            .collect(),
        None => data
            .custom_type(field_type)?
            .values
            .iter()
            .map(|v| v.value.clone())
            .collect(),
    };
    let mut sum = vec![0.0f32; vectors.dims()];
    let mut word = vec![0.0f32; vectors.dims()];
    let mut count = 0;
    for value in &values {
        for token in tokenize(value, data.language) {
            if token.kind != TokenKind::Word {
                continue;
            }
            word.fill(0.0);
            vectors.add_word(&token.norm, 1.0, &mut word);
            crate::embeddings::normalize(&mut word);
            sum.iter_mut().zip(&word).for_each(|(s, w)| *s += w);
            count += 1;
        }
    }
    (count > 0).then(|| {
        crate::embeddings::normalize(&mut sum);
        sum
    })
}

/// A value found by a rule (a listed value or a built-in parser) at tokens `first..=last`.
struct Candidate {
    kind: FieldKind,
    first: usize,
    last: usize,
    value: String,
    edits: usize,
    /// Words the samples also use outside fields: only the tagger may make
    /// them a field.
    ordinary: bool,
}

/// Teaches the gazetteer which listed values the samples use as ordinary
/// words (outside their fields).
pub(crate) fn learn_ordinary_words(
    gazetteer: &mut Gazetteer,
    data: &TrainingData,
    stemmer: &Stemmer,
    seed: u64,
) {
    let mut rng = SplitMix(seed);
    for task in &data.tasks {
        for sample in &task.samples {
            let filled = fill_sample(sample, task, data, false, &mut rng);
            let tokens = tokenize(&filled.text, data.language);
            let stems = stemmer.stems(&tokens);
            let spans: Vec<(usize, usize)> = filled
                .spans
                .iter()
                .filter_map(|&(_, start, end)| byte_span_to_tokens(&tokens, start, end))
                .collect();
            gazetteer.learn_ordinary(&tokens, &stems, &spans);
        }
    }
}

/// The task field indexes of a filled sample's spans as token spans of the
/// extractor's fields (fields of an unknown type were dropped from those).
fn token_spans(
    filled: &fill::Filled,
    tokens: &[Token],
    task_fields: &[crate::training::FieldData],
    fields: &[FieldSpec],
) -> Vec<FieldSpan> {
    filled
        .spans
        .iter()
        .filter_map(|&(task_field, start, end)| {
            let name = &task_fields[task_field].name;
            let field = fields.iter().position(|f| &f.name == name)?;
            let (first, last) = byte_span_to_tokens(tokens, start, end)?;
            Some(FieldSpan { field, first, last })
        })
        .collect()
}

/// The tokens inside bytes `start..end` (a token counts when it overlaps).
fn byte_span_to_tokens(tokens: &[Token], start: usize, end: usize) -> Option<(usize, usize)> {
    let first = tokens.iter().position(|t| t.end > start)?;
    let last = tokens.iter().rposition(|t| t.start < end)?;
    (first <= last).then_some((first, last))
}

/// Built-in types are stored in model files by their Autopilot name
/// (`Twilio.NUMBER`), which never changes.
mod builtin_by_name {
    use otto_builtin_types::BuiltinType;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(ty: &BuiltinType, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(ty.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BuiltinType, D::Error> {
        let name = String::deserialize(deserializer)?;
        BuiltinType::from_name(&name)
            .ok_or_else(|| D::Error::custom(format!("unknown built-in type {name:?}")))
    }
}

/// Adds a field's span (bytes) unless it overlaps one already found: the
/// first extractor to claim words keeps them.
fn push_unless_overlapping(
    found: &mut Vec<FoundSpan>,
    field: usize,
    start: usize,
    end: usize,
    value: ValueSource,
) {
    if found.iter().any(|f| f.start < end && start < f.end) {
        return;
    }
    found.push(FoundSpan {
        field,
        start,
        end,
        value,
    });
}

/// Byte span → character span.
pub(crate) fn char_span(text: &str, start: usize, end: usize) -> (usize, usize) {
    let char_start = text[..start].chars().count();
    (char_start, char_start + text[start..end].chars().count())
}

/// One stem per token (other tokens keep their folded form), aligned with `tokens`.
pub(crate) fn stems_of(tokens: &[Token], language: Language) -> Vec<String> {
    crate::text::Stemmer::new(language).stems(tokens)
}

pub(crate) fn builtin_lang(language: Language) -> builtin::Lang {
    match language {
        Language::English => builtin::Lang::En,
        Language::Spanish => builtin::Lang::Es,
        Language::French => builtin::Lang::Fr,
        Language::German => builtin::Lang::De,
        Language::Italian => builtin::Lang::It,
        Language::Portuguese => builtin::Lang::Pt,
    }
}
