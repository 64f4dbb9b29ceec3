//! The sequence tagger that finds field values in an utterance: BIO labels
//! per field, predicted by a [`Crf`] from hashed per-token features.
//!
//! Features (in the spirit of snips-nlu's and sklearn-crfsuite's NER
//! features): the folded word, its stem, its shape (`Xxxx`, `dd`), prefixes
//! and suffixes, case and kind flags, a length bucket, first/last position;
//! the words, stems and shapes of the neighbours and word bigrams in a small
//! window; and caller-supplied [`Annotations`] (a custom value list or a
//! built-in type covering some tokens) for the token and its neighbours.
//!
//! Annotations from value lists ("lexical") are hidden at random while
//! training: in training every tagged value is in the list, at run time
//! many are not, and a tagger that saw the list feature on every training
//! value would trust it too much.

use serde::{Deserialize, Serialize};

use super::crf::{Constraints, Crf, CrfConfig, Feature, Sequence, hash};
use crate::text::{Token, TokenKind};

/// Token spans annotated by the caller (value-list matches, built-in types).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    spans: Vec<AnnotationSpan>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AnnotationSpan {
    first: u32,
    last: u32,
    id: u64,
    lexical: bool,
    /// Felt by the span's own tokens only, not by their neighbours.
    local: bool,
}

impl Annotations {
    pub fn new() -> Annotations {
        Annotations::default()
    }

    /// Tokens `first..=last` are covered by `name` as found by a rule that
    /// finds the same things at run time as in training (a built-in type
    /// parser, say `builtin:Twilio.NUMBER`).
    pub fn add(&mut self, name: &str, first: usize, last: usize) {
        self.push(Self::id(name), first, last, false);
    }

    /// The id of the annotation called `name`.
    pub fn id(name: &str) -> u64 {
        hash::str(SEED_ANNOTATION, name)
    }

    /// The id of a family of annotations (`kind`) with two numbers, say the
    /// similarity `level` to field `f`: built without formatting a name.
    pub fn id_of(kind: &str, a: u64, b: u64) -> u64 {
        hash::combine(hash::combine(Self::id(kind), a), b)
    }

    /// [`Annotations::add`] by id.
    pub fn add_id(&mut self, id: u64, first: usize, last: usize) {
        self.push(id, first, last, false);
    }

    /// [`Annotations::add_lexical`] by id.
    pub fn add_lexical_id(&mut self, id: u64, first: usize, last: usize) {
        self.push(id, first, last, true);
    }

    /// [`Annotations::add_local`] by id.
    pub fn add_local_id(&mut self, id: u64, token: usize) {
        self.push(id, token, token, false);
        if let Some(span) = self.spans.last_mut() {
            span.local = true;
        }
    }

    /// Tokens `first..=last` match a listed value of `name` (say
    /// `gaz:playlist`). Training hides such annotations at random
    /// ([`TaggerConfig::lexical_dropout`]).
    pub fn add_lexical(&mut self, name: &str, first: usize, last: usize) {
        self.push(Self::id(name), first, last, true);
    }

    /// Token `token` has property `name` (say `sim:size:3`, how much the word
    /// looks like a field's values): a feature of that token only.
    pub fn add_local(&mut self, name: &str, token: usize) {
        self.add_local_id(Self::id(name), token);
    }

    /// Per-token strings (`gaz:playlist:B`), each an annotation of its token alone.
    pub fn from_token_strings(per_token: &[Vec<String>]) -> Annotations {
        let mut annotations = Annotations::new();
        for (t, names) in per_token.iter().enumerate() {
            for name in names {
                annotations.add(name, t, t);
            }
        }
        annotations
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    fn push(&mut self, id: u64, first: usize, last: usize, lexical: bool) {
        let (first, last) = (first.min(last), first.max(last));
        self.spans.push(AnnotationSpan {
            first: first.min(u32::MAX as usize) as u32,
            last: last.min(u32::MAX as usize) as u32,
            id,
            lexical,
            local: false,
        });
    }
}

/// One utterance as the tagger sees it.
#[derive(Debug, Clone, Copy)]
pub struct Utterance<'a> {
    /// The text the tokens' byte spans point into (case and shape come from it).
    pub text: &'a str,
    pub tokens: &'a [Token],
    /// One stem per token (`fields::stems_of`); if the lengths differ the
    /// folded forms are used instead.
    pub stems: &'a [String],
    pub annotations: &'a Annotations,
}

/// A field value found (or tagged): tokens `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldSpan {
    /// Index into the tagger's field names.
    pub field: usize,
    pub first: usize,
    pub last: usize,
}

/// A tagged utterance for training.
#[derive(Debug, Clone, Copy)]
pub struct TrainingSequence<'a> {
    pub utterance: Utterance<'a>,
    /// Overlapping spans are ignored after the first; out-of-range ones too.
    pub spans: &'a [FieldSpan],
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct TaggerConfig {
    /// Neighbour words within ±`window` tokens (0–3); stems and shapes of
    /// the next and previous tokens.
    pub window: usize,
    pub stems: bool,
    pub shapes: bool,
    /// Longest prefix and suffix (in characters) used as a feature; 0 for none.
    pub affixes: usize,
    /// Word bigrams around the token.
    pub bigrams: bool,
    /// Annotations are felt by tokens within ±`annotation_window`.
    pub annotation_window: usize,
    /// Probability of hiding a lexical annotation of a training utterance
    /// during one training epoch.
    pub lexical_dropout: f32,
    /// Probability of hiding the identity (word, stem, affixes, wherever
    /// they appear) of a token inside a tagged value during one training
    /// epoch, so that context and shape learn to find values never seen.
    pub word_dropout: f32,
    pub crf: CrfConfig,
}

impl Default for TaggerConfig {
    fn default() -> Self {
        TaggerConfig {
            window: 2,
            stems: true,
            shapes: true,
            affixes: 4,
            bigrams: true,
            annotation_window: 2,
            lexical_dropout: 0.5,
            word_dropout: 0.0,
            crf: CrfConfig::default(),
        }
    }
}

/// A trained tagger for the fields of one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tagger {
    field_names: Vec<String>,
    config: TaggerConfig,
    crf: Crf,
}

/// Most fields one tagger tags.
pub const MAX_FIELDS: usize = 4096;

/// Label of `O`, `B-field`, `I-field`.
const OUTSIDE: u16 = 0;
fn begin(field: usize) -> u16 {
    (1 + 2 * field) as u16
}
fn inside(field: usize) -> u16 {
    (2 + 2 * field) as u16
}

/// BIO labels of `n` tokens with `spans` tagged (overlaps and out-of-range spans skipped).
pub fn spans_to_labels(n: usize, spans: &[FieldSpan], num_fields: usize) -> Vec<u16> {
    let mut labels = vec![OUTSIDE; n];
    for s in spans {
        if s.field >= num_fields || s.first > s.last || s.last >= n {
            continue;
        }
        if labels[s.first..=s.last].iter().any(|&y| y != OUTSIDE) {
            continue;
        }
        labels[s.first] = begin(s.field);
        for y in &mut labels[s.first + 1..=s.last] {
            *y = inside(s.field);
        }
    }
    labels
}

/// Spans of BIO `labels`; a stray `I-x` starts a span.
pub fn labels_to_spans(labels: &[u16]) -> Vec<FieldSpan> {
    let mut spans: Vec<FieldSpan> = Vec::new();
    let mut open: Option<FieldSpan> = None;
    for (t, &y) in labels.iter().enumerate() {
        let continues = match open {
            Some(s) => y != OUTSIDE && y % 2 == 0 && (y as usize - 2) / 2 == s.field,
            None => false,
        };
        if continues {
            if let Some(s) = open.as_mut() {
                s.last = t;
            }
            continue;
        }
        spans.extend(open.take());
        if y != OUTSIDE {
            open = Some(FieldSpan {
                field: (y as usize - 1) / 2,
                first: t,
                last: t,
            });
        }
    }
    spans.extend(open);
    spans
}

/// BIO constraints: `I-x` only after `B-x` or `I-x`.
fn bio_constraints(num_fields: usize) -> Constraints {
    let l = 1 + 2 * num_fields;
    let mut c = Constraints::none(l);
    for f in 0..num_fields {
        let i = inside(f) as usize;
        c.start[i] = false;
        for from in 0..l {
            c.transitions[from * l + i] = from == begin(f) as usize || from == i;
        }
    }
    c
}

impl Tagger {
    pub fn train(
        field_names: Vec<String>,
        sequences: &[TrainingSequence],
        config: &TaggerConfig,
        seed: u64,
    ) -> Tagger {
        // Labels are u16: fields past the limit are never tagged.
        let num_fields = field_names.len().min(MAX_FIELDS);
        let mut extractor = Extractor::default();
        let data: Vec<Sequence> = sequences
            .iter()
            .map(|s| {
                let labels = spans_to_labels(s.utterance.tokens.len(), s.spans, num_fields);
                let mut seq = Sequence::new();
                extractor.extract(config, &s.utterance, Some(&labels));
                seq.dropout = std::mem::take(&mut extractor.dropout);
                for (t, &y) in labels.iter().enumerate() {
                    let (a, b) = (
                        extractor.offsets[t] as usize,
                        extractor.offsets[t + 1] as usize,
                    );
                    seq.push(
                        y,
                        extractor.ids[a..b]
                            .iter()
                            .zip(&extractor.groups[a..b])
                            .map(|(&id, &group)| Feature { id, group }),
                    );
                }
                seq
            })
            .collect();
        let crf = Crf::train(
            &data,
            1 + 2 * num_fields,
            &bio_constraints(num_fields),
            &config.crf,
            seed,
        );
        Tagger {
            field_names,
            config: *config,
            crf,
        }
    }

    /// The field values found in `utterance`.
    pub fn tag(&self, utterance: &Utterance) -> Vec<FieldSpan> {
        if utterance.tokens.is_empty() || self.field_names.is_empty() {
            return Vec::new();
        }
        with_scratch(|scratch| {
            self.score(utterance, scratch);
            self.crf
                .viterbi_into(&scratch.scores, &mut scratch.back, &mut scratch.path);
            labels_to_spans(&scratch.path)
        })
    }

    /// Like [`Tagger::tag`], with the log-probability of the best tagging
    /// (of every label, `O` included) under the tagger's CRF, in units of
    /// `ln L` for `L` labels: a word whose labels are all equally likely
    /// costs 1 (taggers of more fields, more labels, are compared fairly
    /// with taggers of fewer).
    pub fn tag_scored(&self, utterance: &Utterance) -> (Vec<FieldSpan>, f32) {
        if utterance.tokens.is_empty() || self.field_names.is_empty() {
            return (Vec::new(), 0.0);
        }
        with_scratch(|scratch| {
            self.score(utterance, scratch);
            let best = self
                .crf
                .viterbi_into(&scratch.scores, &mut scratch.back, &mut scratch.path);
            let log_z = self.crf.log_partition(&scratch.scores);
            let unit = (self.crf.num_labels().max(2) as f32).ln();
            (
                labels_to_spans(&scratch.path),
                (best - log_z).min(0.0) / unit,
            )
        })
    }

    /// Like [`Tagger::tag`], each span with a confidence in `[0, 1]`: the
    /// smallest marginal probability of its tokens' labels.
    pub fn tag_with_confidence(&self, utterance: &Utterance) -> Vec<(FieldSpan, f32)> {
        if utterance.tokens.is_empty() || self.field_names.is_empty() {
            return Vec::new();
        }
        with_scratch(|scratch| {
            self.score(utterance, scratch);
            self.crf
                .viterbi_into(&scratch.scores, &mut scratch.back, &mut scratch.path);
            let marginals = self.crf.marginals(&scratch.scores);
            let l = self.crf.num_labels();
            let labels = &scratch.path;
            labels_to_spans(labels)
                .into_iter()
                .map(|s| {
                    let confidence = (s.first..=s.last)
                        .map(|t| marginals[t * l + labels[t] as usize])
                        .fold(1.0f32, f32::min);
                    (s, confidence)
                })
                .collect()
        })
    }

    fn score(&self, utterance: &Utterance, scratch: &mut Scratch) {
        let extractor = &mut scratch.extractor;
        extractor.extract(&self.config, utterance, None);
        self.crf
            .state_scores(&extractor.ids, &extractor.offsets, &mut scratch.scores);
    }

    pub fn field_names(&self) -> &[String] {
        &self.field_names
    }

    /// Builds what tagging derives from the model now (see [`Crf::prepare`]).
    pub fn prepare(&self) {
        self.crf.prepare();
    }

    pub fn crf(&self) -> &Crf {
        &self.crf
    }
}

/// Buffers reused between calls on one thread (tagging allocates only its result).
#[derive(Default)]
struct Scratch {
    extractor: Extractor,
    scores: Vec<f32>,
    back: Vec<u16>,
    path: Vec<u16>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

const SEED_ANNOTATION: u64 = 0xA770;

/// Feature template ids.
mod tpl {
    pub const BIAS: u64 = 1;
    pub const WORD: u64 = 2;
    pub const STEM: u64 = 3;
    pub const SHAPE: u64 = 4;
    pub const SHORT_SHAPE: u64 = 5;
    pub const PREFIX: u64 = 6;
    pub const SUFFIX: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const LENGTH: u64 = 9;
    pub const FIRST: u64 = 10;
    pub const LAST: u64 = 11;
    pub const NEIGHBOUR_WORD: u64 = 12;
    pub const NEIGHBOUR_STEM: u64 = 13;
    pub const NEIGHBOUR_SHAPE: u64 = 14;
    pub const BIGRAM: u64 = 15;
    pub const ANNOTATION: u64 = 16;
    pub const PADDING: u64 = 17;
}

fn word_hash(norm: &str) -> u64 {
    hash::str(tpl::WORD, norm)
}

/// Per-token base hashes, then features; buffers reused between utterances.
#[derive(Default)]
struct Extractor {
    word: Vec<u64>,
    stem: Vec<u64>,
    short_shape: Vec<u64>,
    ids: Vec<u64>,
    groups: Vec<u32>,
    offsets: Vec<u32>,
    /// Training only: dropout probability of each group. Group `1 + t` is
    /// token `t`'s identity, group `1 + n + k` the `k`-th lexical annotation.
    dropout: Vec<f32>,
    /// Training only: group of each token's identity features (0 if never hidden).
    identity_group: Vec<u32>,
    /// (token, feature, group) of annotation features, before sorting by token.
    annotation_features: Vec<(u32, u64, u32)>,
    shape_buf: String,
}

/// The id of a feature: a template applied to a value.
#[inline]
fn feature(template: u64, value: u64) -> u64 {
    hash::combine(template, value)
}

impl Extractor {
    /// Features of `u`; with `labels` (training), also the dropout groups.
    fn extract(&mut self, config: &TaggerConfig, u: &Utterance, labels: Option<&[u16]>) {
        let tokens = u.tokens;
        let n = tokens.len();
        self.dropout.clear();
        self.identity_group.clear();
        if let Some(labels) = labels {
            self.dropout.push(0.0);
            for (t, &y) in labels.iter().enumerate() {
                let p = if y != OUTSIDE {
                    config.word_dropout
                } else {
                    0.0
                };
                self.dropout.push(p);
                self.identity_group
                    .push(if p > 0.0 { 1 + t as u32 } else { 0 });
            }
        } else {
            self.identity_group.resize(n, 0);
        }
        self.word.clear();
        self.stem.clear();
        self.short_shape.clear();
        self.ids.clear();
        self.groups.clear();
        self.offsets.clear();
        self.offsets.push(0);
        let stems_ok = u.stems.len() == n;
        for (t, token) in tokens.iter().enumerate() {
            let w = word_hash(&token.norm);
            self.word.push(w);
            self.stem.push(if stems_ok {
                hash::str(tpl::WORD, &u.stems[t])
            } else {
                w
            });
            let raw = u.text.get(token.start..token.end).unwrap_or(&token.norm);
            shape_into(raw, &mut self.shape_buf, true);
            self.short_shape
                .push(hash::str(tpl::SHORT_SHAPE, &self.shape_buf));
        }
        // Annotation features land on the tokens near each span; collect them
        // per token first.
        let aw = config.annotation_window as i64;
        let mut annotation_features = std::mem::take(&mut self.annotation_features);
        annotation_features.clear();
        let mut lexical_group = 0u32;
        for span in &u.annotations.spans {
            if span.first as usize >= n {
                continue;
            }
            let last = (span.last as usize).min(n - 1);
            let group = if span.lexical && labels.is_some() && config.lexical_dropout > 0.0 {
                lexical_group += 1;
                self.dropout.push(config.lexical_dropout);
                n as u32 + lexical_group
            } else {
                0
            };
            for t in span.first as usize..=last {
                let position: u64 = match (t == span.first as usize, t == last) {
                    (true, true) => 0,
                    (true, false) => 1,
                    (false, false) => 2,
                    (false, true) => 3,
                };
                let window = if span.local { 0 } else { aw };
                for o in -window..=window {
                    let target = t as i64 - o;
                    if target < 0 || target >= n as i64 {
                        continue;
                    }
                    // Inside the span only the token's own position matters.
                    let target = target as usize;
                    if o != 0 && (span.first as usize..=last).contains(&target) {
                        continue;
                    }
                    let value = hash::combine(span.id, position * 16 + (o + 8) as u64);
                    annotation_features.push((
                        target as u32,
                        feature(tpl::ANNOTATION, value),
                        group,
                    ));
                }
            }
        }
        annotation_features.sort_unstable_by_key(|&(t, _, _)| t);
        let mut next_annotation = 0;
        for t in 0..n {
            self.token_features(config, u, t);
            while next_annotation < annotation_features.len()
                && annotation_features[next_annotation].0 as usize == t
            {
                let (_, id, group) = annotation_features[next_annotation];
                self.ids.push(id);
                self.groups.push(group);
                next_annotation += 1;
            }
            self.offsets.push(self.ids.len() as u32);
        }
        self.annotation_features = annotation_features;
    }

    fn emit(&mut self, id: u64) {
        self.ids.push(id);
        self.groups.push(0);
    }

    fn emit_in(&mut self, id: u64, group: u32) {
        self.ids.push(id);
        self.groups.push(group);
    }

    fn token_features(&mut self, config: &TaggerConfig, u: &Utterance, t: usize) {
        let n = u.tokens.len();
        let token = &u.tokens[t];
        let own = self.identity_group[t];
        self.emit(tpl::BIAS);
        self.emit_in(feature(tpl::WORD, self.word[t]), own);
        if config.stems && self.stem[t] != self.word[t] {
            self.emit_in(feature(tpl::STEM, self.stem[t]), own);
        }
        let raw = u.text.get(token.start..token.end).unwrap_or(&token.norm);
        if config.shapes {
            let mut buf = std::mem::take(&mut self.shape_buf);
            shape_into(raw, &mut buf, false);
            self.emit(hash::str(tpl::SHAPE, &buf));
            self.shape_buf = buf;
            self.emit(feature(tpl::SHORT_SHAPE, self.short_shape[t]));
        }
        if config.affixes > 0 && token.kind == TokenKind::Word {
            let norm = token.norm.as_str();
            let chars = norm.chars().count();
            for k in 1..=config.affixes.min(chars.saturating_sub(1)) {
                let end = norm.char_indices().nth(k).map_or(norm.len(), |(i, _)| i);
                self.emit_in(hash::str(tpl::PREFIX, &norm[..end]), own);
                let start = norm.char_indices().nth_back(k - 1).map_or(0, |(i, _)| i);
                self.emit_in(hash::str(tpl::SUFFIX, &norm[start..]), own);
            }
        }
        let mut flags = token.kind as u64;
        let mut letters = raw.chars().filter(|c| c.is_alphabetic());
        if let Some(first) = letters.next() {
            let rest_lower = letters.clone().all(|c| !c.is_uppercase());
            let all_upper = first.is_uppercase() && letters.all(|c| c.is_uppercase());
            flags |= (first.is_uppercase() && rest_lower) as u64 * 8;
            flags |= all_upper as u64 * 16;
        }
        flags |= raw.chars().any(|c| c.is_ascii_digit()) as u64 * 32;
        self.emit(feature(tpl::FLAGS, flags));
        let len = token.norm.chars().count();
        let bucket = match len {
            0..=4 => len as u64,
            5..=6 => 5,
            7..=9 => 6,
            _ => 7,
        };
        self.emit(feature(tpl::LENGTH, bucket));
        if t == 0 {
            self.emit(tpl::FIRST);
        }
        if t + 1 == n {
            self.emit(tpl::LAST);
        }
        let window = config.window.min(3) as i64;
        for o in -window..=window {
            if o == 0 {
                continue;
            }
            let j = t as i64 + o;
            let offset = (o + 8) as u64;
            if j < 0 || j >= n as i64 {
                // Only the nearest padding: "nothing before/after".
                if j == -1 || j == n as i64 {
                    self.emit(feature(tpl::PADDING, offset));
                }
                continue;
            }
            let j = j as usize;
            let group = self.identity_group[j];
            self.emit_in(
                feature(tpl::NEIGHBOUR_WORD, hash::combine(self.word[j], offset)),
                group,
            );
            if config.stems && o.abs() == 1 && self.stem[j] != self.word[j] {
                self.emit_in(
                    feature(tpl::NEIGHBOUR_STEM, hash::combine(self.stem[j], offset)),
                    group,
                );
            }
            if config.shapes && o.abs() == 1 {
                self.emit(feature(
                    tpl::NEIGHBOUR_SHAPE,
                    hash::combine(self.short_shape[j], offset),
                ));
            }
        }
        if config.bigrams {
            let words = &self.word;
            let word_or_pad = |j: i64| -> u64 {
                if j < 0 || j >= n as i64 {
                    tpl::PADDING
                } else {
                    words[j as usize]
                }
            };
            let t = t as i64;
            let groups = &self.identity_group;
            let group_of = |j: i64| -> u32 {
                if j < 0 || j >= n as i64 {
                    0
                } else {
                    groups[j as usize]
                }
            };
            let mut bigrams = [(0u64, 0u32); 4];
            let mut count = 0;
            for (a, o) in [(-1, 0u64), (0, 1), (-2, 2), (1, 3)] {
                if (o == 2 || o == 3) && window < 2 {
                    continue;
                }
                let id = feature(
                    tpl::BIGRAM,
                    hash::combine(hash::combine(word_or_pad(t + a), word_or_pad(t + a + 1)), o),
                );
                // Hidden with either word (one group per feature: the first hideable).
                let group = match group_of(t + a) {
                    0 => group_of(t + a + 1),
                    g => g,
                };
                bigrams[count] = (id, group);
                count += 1;
            }
            for &(id, group) in &bigrams[..count] {
                self.emit_in(id, group);
            }
        }
    }
}

/// Word shape: `X` upper, `x` lower, `d` digit, other characters as they are;
/// `short` collapses runs (`Xxxxx` → `Xx`). Capped at 12 characters.
fn shape_into(raw: &str, out: &mut String, short: bool) {
    out.clear();
    let mut last = '\0';
    let mut count = 0;
    for c in raw.chars() {
        let s = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_numeric() {
            'd'
        } else if c.is_alphabetic() {
            // Letters without case (ideographs, Arabic…).
            'a'
        } else {
            c
        };
        if short && s == last {
            continue;
        }
        last = s;
        out.push(s);
        count += 1;
        if count >= 12 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::crf::SplitMix;
    use crate::text::{Language, tokenize};

    #[test]
    fn spans_and_bio_labels_round_trip() {
        let mut rng = SplitMix::new(1);
        for _ in 0..500 {
            let n = rng.below(12);
            let fields = 1 + rng.below(4);
            let mut spans = Vec::new();
            let mut t = 0;
            while t < n {
                if rng.below(3) == 0 {
                    let last = (t + rng.below(3)).min(n - 1);
                    spans.push(FieldSpan {
                        field: rng.below(fields),
                        first: t,
                        last,
                    });
                    t = last + 1;
                } else {
                    t += 1;
                }
            }
            let labels = spans_to_labels(n, &spans, fields);
            assert_eq!(labels.len(), n);
            assert_eq!(labels_to_spans(&labels), spans);
        }
    }

    #[test]
    fn bio_edge_cases() {
        let span = |field, first, last| FieldSpan { field, first, last };
        // Overlapping, out-of-range and unknown-field spans are skipped.
        let labels = spans_to_labels(
            4,
            &[
                span(0, 0, 1),
                span(1, 1, 2),
                span(0, 3, 9),
                span(5, 3, 3),
                span(1, 3, 3),
            ],
            2,
        );
        assert_eq!(labels, vec![begin(0), inside(0), OUTSIDE, begin(1)]);
        // A stray I starts a span; I of another field too.
        assert_eq!(
            labels_to_spans(&[inside(1), inside(1), inside(0), OUTSIDE, begin(0)]),
            vec![span(1, 0, 1), span(0, 2, 2), span(0, 4, 4)]
        );
        assert!(labels_to_spans(&[]).is_empty());
    }

    struct Sample {
        text: String,
        tokens: Vec<Token>,
        stems: Vec<String>,
        spans: Vec<FieldSpan>,
        annotations: Annotations,
    }

    /// `text` with fields marked `[field index|value]`.
    fn sample(marked: &str) -> Sample {
        let mut text = String::new();
        let mut marks = Vec::new();
        let mut rest = marked;
        while let Some(open) = rest.find('[') {
            text.push_str(&rest[..open]);
            let close = rest[open..].find(']').expect("]") + open;
            let (field, value) = rest[open + 1..close].split_once('|').expect("|");
            marks.push((
                field.parse::<usize>().expect("field"),
                text.len(),
                text.len() + value.len(),
            ));
            text.push_str(value);
            rest = &rest[close + 1..];
        }
        text.push_str(rest);
        let tokens = tokenize(&text, Language::English);
        let spans = marks
            .iter()
            .map(|&(field, start, end)| FieldSpan {
                field,
                first: tokens.iter().position(|t| t.start >= start).expect("first"),
                last: tokens.iter().rposition(|t| t.end <= end).expect("last"),
            })
            .collect();
        let stemmer = Language::English.stemmer();
        let stems = tokens
            .iter()
            .map(|t| stemmer.stem(&t.norm).into_owned())
            .collect();
        Sample {
            text,
            tokens,
            stems,
            spans,
            annotations: Annotations::new(),
        }
    }

    fn utterance(s: &Sample) -> Utterance<'_> {
        Utterance {
            text: &s.text,
            tokens: &s.tokens,
            stems: &s.stems,
            annotations: &s.annotations,
        }
    }

    fn train(samples: &[Sample], fields: &[&str], config: &TaggerConfig) -> Tagger {
        let sequences: Vec<TrainingSequence> = samples
            .iter()
            .map(|s| TrainingSequence {
                utterance: utterance(s),
                spans: &s.spans,
            })
            .collect();
        Tagger::train(
            fields.iter().map(|f| f.to_string()).collect(),
            &sequences,
            config,
            7,
        )
    }

    const SONGS: [&str; 8] = [
        "Yellow Submarine",
        "Hey Jude",
        "Help",
        "Something",
        "Let It Be",
        "Blackbird",
        "Come Together",
        "Yesterday",
    ];
    const ARTISTS: [&str; 8] = [
        "the Beatles",
        "Nina Simone",
        "Prince",
        "Miles Davis",
        "Bob Marley",
        "Adele",
        "Fela Kuti",
        "Björk",
    ];

    fn music_samples() -> Vec<Sample> {
        let mut samples = Vec::new();
        for (i, song) in SONGS.iter().enumerate() {
            let artist = ARTISTS[(i * 3) % ARTISTS.len()];
            samples.push(sample(&format!("play [0|{song}] by [1|{artist}]")));
            samples.push(sample(&format!("I want to hear [0|{song}] please")));
            samples.push(sample(&format!("put on something by [1|{artist}]")));
            samples.push(sample(&format!(
                "could you play [0|{song}] from [1|{artist}] now"
            )));
        }
        samples
    }

    #[test]
    fn finds_unseen_values_from_context() {
        let tagger = train(
            &music_samples(),
            &["song", "artist"],
            &TaggerConfig::default(),
        );
        for (marked, expected) in [
            (
                "play Purple Rain by Wendy Carlos",
                vec![(0, 1, 2), (1, 4, 5)],
            ),
            ("put on something by Kraftwerk", vec![(1, 4, 4)]),
            ("I want to hear Respect please", vec![(0, 4, 4)]),
        ] {
            let s = sample(marked);
            let found: Vec<(usize, usize, usize)> = tagger
                .tag(&utterance(&s))
                .iter()
                .map(|f| (f.field, f.first, f.last))
                .collect();
            assert_eq!(found, expected, "{marked}");
            let confident = tagger.tag_with_confidence(&utterance(&s));
            assert_eq!(confident.len(), expected.len());
            assert!(confident.iter().all(|(_, c)| (0.0..=1.0).contains(c)));
        }
    }

    #[test]
    fn training_is_deterministic() {
        let samples = music_samples();
        let a = train(&samples, &["song", "artist"], &TaggerConfig::default());
        let b = train(&samples, &["song", "artist"], &TaggerConfig::default());
        assert_eq!(
            postcard::to_stdvec(&a.crf).expect("serialise"),
            postcard::to_stdvec(&b.crf).expect("serialise")
        );
        let bytes = postcard::to_stdvec(&a).expect("serialise");
        let c: Tagger = postcard::from_bytes(&bytes).expect("deserialise");
        let s = sample("play Purple Rain by Wendy Carlos");
        assert_eq!(c.tag(&utterance(&s)), a.tag(&utterance(&s)));
    }

    #[test]
    fn annotations_are_used() {
        // Which field a value fills is given only by the annotation.
        let mut samples = Vec::new();
        let colours = ["red", "blue", "green", "black"];
        let animals = ["cat", "dog", "horse", "mouse"];
        for i in 0..4 {
            for (field, value) in [(0, colours[i]), (1, animals[i])] {
                let mut s = sample(&format!("show me [{field}|{value}] today"));
                let name = if field == 0 {
                    "gaz:colour"
                } else {
                    "gaz:animal"
                };
                s.annotations.add(name, 2, 2);
                samples.push(s);
            }
        }
        let config = TaggerConfig {
            lexical_dropout: 0.0,
            ..TaggerConfig::default()
        };
        let tagger = train(&samples, &["colour", "animal"], &config);
        for (name, field) in [("gaz:colour", 0), ("gaz:animal", 1)] {
            let mut s = sample("show me zebra today");
            s.annotations.add(name, 2, 2);
            assert_eq!(
                tagger.tag(&utterance(&s)),
                vec![FieldSpan {
                    field,
                    first: 2,
                    last: 2
                }],
                "{name}"
            );
        }
        // The per-token string form gives the same features for one-token spans.
        let strings = Annotations::from_token_strings(&[vec![], vec!["x".into()], vec![]]);
        assert_eq!(strings.len(), 1);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let config = TaggerConfig {
            lexical_dropout: 0.5,
            word_dropout: 0.3,
            ..TaggerConfig::default()
        };
        let mut samples = music_samples();
        for s in &mut samples {
            // Annotations past the end, and reversed.
            s.annotations.add_lexical("gaz:song", 1, 40);
            s.annotations.add("builtin:x", 3, 0);
        }
        // An empty utterance and a single token in training.
        samples.push(sample(""));
        samples.push(sample("[0|Help]"));
        let tagger = train(&samples, &["song", "artist"], &config);
        let long = "play Hey Jude by the Beatles ".repeat(342);
        for text in [
            "",
            "Help",
            "放一首周杰伦的七里香",
            "شغل أغنية فيروز",
            "🎵🎶 play 👍🏽",
            "   ",
            long.as_str(),
        ] {
            let mut s = sample(text);
            s.annotations.add_lexical("gaz:song", 0, 5000);
            let found = tagger.tag(&utterance(&s));
            assert!(
                found
                    .iter()
                    .all(|f| f.first <= f.last && f.last < s.tokens.len())
            );
            let _ = tagger.tag_with_confidence(&utterance(&s));
            // Stems missing or misaligned fall back to the folded words.
            let mut u = utterance(&s);
            u.stems = &[];
            let _ = tagger.tag(&u);
        }
        assert!(sample(&long).tokens.len() >= 2048);
        // No fields at all.
        let none = train(&music_samples(), &[], &config);
        assert!(none.tag(&utterance(&sample("play Help"))).is_empty());
    }
}
