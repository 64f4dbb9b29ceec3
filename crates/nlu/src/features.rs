//! Sparse text features for task classification.
//!
//! Two blocks, each TF-IDF weighted (sublinear term frequency) and L2
//! normalised on its own, then concatenated:
//! - words: folded word unigrams, their stems, and word bigrams (with sentence
//!   boundary markers), so word order and inflection both count;
//! - characters: 2- to 5-grams inside each word padded with spaces, which is
//!   what makes the model tolerant of typos, unseen inflections and compounds.
//!
//! N-grams are identified by a 64-bit hash of their text, so extracting them
//! allocates nothing; the vocabulary maps the hashes seen in training to
//! dense column numbers. The letter n-grams of each training word are also
//! kept per word (not stored in the model, rebuilt when it is read), so a
//! parse looks a known word up once instead of each of its n-grams.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::text::{Language, Token, TokenKind};

/// One sparse row: `(column, value)` pairs sorted by column, no duplicates.
pub type SparseRow = Vec<(u32, f32)>;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureConfig {
    /// Shortest and longest character n-gram.
    pub char_ngrams: (usize, usize),
    /// Relative weight of the character block against the word block.
    pub char_weight: f32,
    /// Add word bigrams to the word block.
    pub word_bigrams: bool,
    /// Add stems to the word block.
    pub stems: bool,
    /// Keep only n-grams that occur in at least this many training utterances.
    pub min_df: u32,
    /// Add the static-vector block (the IDF-weighted mean of the words'
    /// static vectors, see [`crate::embeddings`]) where the language has them.
    pub static_vectors: bool,
    /// Relative weight of the static block.
    pub static_weight: f32,
    /// How many of the static vectors' dimensions to use (they are principal
    /// components, most informative first).
    pub static_dims: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            char_ngrams: (2, 5),
            char_weight: 1.0,
            word_bigrams: true,
            stems: true,
            min_df: 1,
            static_vectors: true,
            static_weight: 1.0,
            // Fewer (32, 64) were 0.2 points worse on banking77 validation
            // folds for 10 % less training time.
            static_dims: 128,
        }
    }
}

const WORD_BLOCK: u64 = 0x9e37_79b9_7f4a_7c15;
const STEM_BLOCK: u64 = 0xc2b2_ae3d_27d4_eb4f;
const BIGRAM_BLOCK: u64 = 0x1656_67b1_9e37_79f9;
const CHAR_BLOCK: u64 = 0x27d4_eb2f_1656_67c5;
const BOUNDARY: &str = "\u{1}";

/// The n-grams of one utterance, as hashes, per block (with repeats).
#[derive(Debug, Default, Clone)]
pub struct Grams {
    pub words: Vec<u64>,
    pub chars: Vec<u64>,
    /// The words' unigram hashes and the words (folded, each followed by
    /// [`WORD_END`]), for the static block.
    pub plain_words: Vec<u64>,
    pub plain_text: String,
}

/// Ends each word of [`Grams::plain_text`] (never part of a token).
const WORD_END: char = '\u{0}';

/// Extracts the n-gram hashes of a tokenised utterance; `stems` is aligned with `tokens`.
pub fn grams(tokens: &[Token], stems: &[String], config: &FeatureConfig) -> Grams {
    let mut grams = Grams::default();
    grams_into(tokens, stems, config, &mut grams);
    grams
}

/// [`grams`] into a caller's buffers (a parse reuses them: growing fresh
/// vectors was a fifth of its time).
pub fn grams_into(tokens: &[Token], stems: &[String], config: &FeatureConfig, grams: &mut Grams) {
    grams.chars.clear();
    let letters: usize = tokens.iter().map(|t| t.norm.len() + 2).sum();
    let (low, high) = config.char_ngrams;
    grams
        .chars
        .reserve(letters * (high + 1).saturating_sub(low));
    for token in tokens.iter().filter(|t| t.kind == TokenKind::Word) {
        char_grams(&token.norm, config.char_ngrams, &mut grams.chars);
    }
    word_grams_into(tokens, stems, config, grams);
}

/// [`grams`] with each word's letter n-grams taken from `cache` (computed
/// and kept there the first time a word comes): the same n-grams, for the
/// many utterances of training, which mostly repeat a few thousand words.
/// `stems` may borrow (the stemmer's cache).
pub fn grams_cached<S: AsRef<str>>(
    tokens: &[Token],
    stems: &[S],
    config: &FeatureConfig,
    cache: &mut WordCharGrams,
) -> Grams {
    let mut grams = Grams::default();
    let range = *cache.range.get_or_insert(config.char_ngrams);
    assert_eq!(range, config.char_ngrams, "one n-gram range per cache");
    // Exactly the room needed (the grams of all utterances stay in memory
    // until the rows are built: fewer fresh pages to fault in).
    let words = || tokens.iter().filter(|t| t.kind == TokenKind::Word);
    let count = words()
        .map(|t| char_gram_count(t.norm.chars().count(), config.char_ngrams))
        .sum();
    grams.chars.reserve_exact(count);
    for token in words() {
        grams.chars.extend_from_slice(cache.of(&token.norm));
    }
    word_grams_into(tokens, stems, config, &mut grams);
    grams
}

/// The letter n-grams of the words seen so far (see [`grams_cached`]).
#[derive(Debug, Default)]
pub struct WordCharGrams {
    range: Option<(usize, usize)>,
    index: FxHashMap<Box<str>, (u32, u32)>,
    grams: Vec<u64>,
}

impl WordCharGrams {
    /// `word`'s letter n-grams, in order, as [`char_grams`] gives them.
    fn of(&mut self, word: &str) -> &[u64] {
        let (from, to) = match self.index.get(word) {
            Some(&at) => at,
            None => {
                let from = self.grams.len() as u32;
                let range = self.range.expect("a range is set before use");
                char_grams(word, range, &mut self.grams);
                let at = (from, self.grams.len() as u32);
                self.index.insert(word.into(), at);
                at
            }
        };
        &self.grams[from as usize..to as usize]
    }
}

/// The word block's n-grams and the static block's words of [`Grams`]
/// (the letter n-grams are left alone).
fn word_grams_into<S: AsRef<str>>(
    tokens: &[Token],
    stems: &[S],
    config: &FeatureConfig,
    grams: &mut Grams,
) {
    grams.words.clear();
    grams.plain_words.clear();
    grams.plain_text.clear();
    grams.words.reserve(3 * tokens.len() + 1);
    let words = || {
        tokens
            .iter()
            .zip(stems)
            .filter(|(t, _)| t.kind != TokenKind::Punct)
    };
    for (token, stem) in words() {
        let stem = stem.as_ref();
        let unigram = hash_str(WORD_BLOCK, &token.norm);
        grams.words.push(unigram);
        if config.static_vectors {
            grams.plain_words.push(unigram);
            grams.plain_text.push_str(&token.norm);
            grams.plain_text.push(WORD_END);
        }
        if config.stems && stem != token.norm {
            grams.words.push(hash_str(STEM_BLOCK, stem));
        }
    }
    // Question marks separate "I lost my card" from "did I lose my card?".
    for token in tokens.iter().filter(|t| t.kind == TokenKind::Punct) {
        grams.words.push(hash_str(WORD_BLOCK, &token.norm));
    }
    if config.word_bigrams {
        let mut previous = BOUNDARY;
        for token in words().map(|(t, _)| t.norm.as_str()).chain([BOUNDARY]) {
            grams.words.push(hash_pair(BIGRAM_BLOCK, previous, token));
            previous = token;
        }
    }
}

/// How many n-grams [`char_grams`] gives for a word of `chars` characters.
fn char_gram_count(chars: usize, (min, max): (usize, usize)) -> usize {
    let padded = chars + 2;
    (0..padded)
        .map(|start| (padded - start).min(max).saturating_sub(min.max(1) - 1))
        .sum()
}

fn char_grams(word: &str, (min, max): (usize, usize), out: &mut Vec<u64>) {
    let mut chars: Vec<char> = Vec::with_capacity(word.len() + 2);
    chars.push(' ');
    chars.extend(word.chars());
    chars.push(' ');
    for start in 0..chars.len() {
        let mut hash = CHAR_BLOCK;
        for (len, c) in chars[start..].iter().take(max).enumerate() {
            hash = mix(hash, *c as u64);
            if len + 1 >= min {
                out.push(finish(hash));
            }
        }
    }
}

fn hash_str(seed: u64, s: &str) -> u64 {
    finish(s.bytes().fold(seed, |h, b| mix(h, b as u64)))
}

fn hash_pair(seed: u64, a: &str, b: &str) -> u64 {
    let h = a.bytes().fold(seed, |h, b| mix(h, b as u64));
    finish(b.bytes().fold(mix(h, 0xff), |h, b| mix(h, b as u64)))
}

#[inline]
fn mix(h: u64, v: u64) -> u64 {
    (h ^ v).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(23)
}

#[inline]
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// The vocabulary and IDF weights learned from the training utterances.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureSpace {
    pub config: FeatureConfig,
    pub language: Language,
    #[serde(with = "crate::sorted_map")]
    columns: FxHashMap<u64, u32>,
    idf: Vec<f32>,
    /// The IDF an n-gram seen once would have: what unknown n-grams weigh.
    max_idf: f32,
    /// The static vectors of the last block ([`crate::embeddings::RESOURCE_ID`]),
    /// when the language has them and the configuration asks for them.
    static_vectors: Option<String>,
    /// The letter n-grams of known words, looked up once per word instead
    /// of once per n-gram; derived from the rest, so not stored.
    #[serde(skip)]
    word_grams: WordGrams,
    /// The static vectors' pieces of the same words (derived, not stored).
    #[serde(skip)]
    pieces: crate::embeddings::PieceCache,
}

/// Per word (by the hash of its folded form), its letter n-grams as they
/// come: the columns of those the vocabulary has, in order with repeats,
/// and the hashes of those it has not.
#[derive(Debug, Clone, Default)]
struct WordGrams {
    index: FxHashMap<u64, CachedWord>,
    columns: Vec<u32>,
    unknown: Vec<u64>,
}

#[derive(Debug, Clone, Copy)]
struct CachedWord {
    columns: (u32, u32),
    unknown: (u32, u32),
}

/// A letter n-gram of an utterance: its column, or its hash when it has none.
type Gram = Result<u32, u64>;

impl FeatureSpace {
    /// Builds the vocabulary from the training utterances' n-grams.
    pub fn fit(config: FeatureConfig, language: Language, documents: &[Grams]) -> FeatureSpace {
        Self::fit_in_parts(
            config,
            language,
            documents,
            crate::parallel::threads(),
            MIN_PART,
        )
    }

    /// [`FeatureSpace::fit`] counting over at most `parts` ranges of at
    /// least `min_part` utterances each.
    fn fit_in_parts(
        config: FeatureConfig,
        language: Language,
        documents: &[Grams],
        parts: usize,
        min_part: usize,
    ) -> FeatureSpace {
        // Each block's n-grams are counted on all threads, each over a
        // range of utterances, in order of first appearance; the ranges'
        // counts are then added in order, so every n-gram gets the column
        // and frequency one pass over all utterances would give it.
        let mut columns = FxHashMap::default();
        let mut df: Vec<u32> = Vec::new();
        let mut count_block = |grams: fn(&Grams) -> &[u64]| {
            let counted = crate::parallel::split(documents.len(), parts, min_part, |range| {
                count_grams(&documents[range], grams)
            });
            for (seen, counts) in counted {
                for (g, count) in seen.into_iter().zip(counts) {
                    let next = df.len() as u32;
                    let column = *columns.entry(g).or_insert(next) as usize;
                    if column == df.len() {
                        df.push(0);
                    }
                    df[column] += count;
                }
            }
            df.len()
        };
        // Word columns come first, so a row built block by block stays sorted.
        let word_columns = count_block(|d| &d.words);
        count_block(|d| &d.chars);
        // N-grams seen in fewer than `min_df` utterances are dropped: they
        // teach little and cost training time. What stays is renumbered
        // most frequent first within each block, so the weights most rows
        // use sit together in memory (training and parsing read the
        // weights of each n-gram of a row: scattered reads were most of
        // their time).
        let mut order: Vec<usize> = (0..df.len()).filter(|&c| df[c] >= config.min_df).collect();
        order.sort_by_key(|&c| (c >= word_columns, std::cmp::Reverse(df[c]), c));
        let mut renumber = vec![u32::MAX; df.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old] = new as u32;
        }
        columns.retain(|_, column| {
            *column = renumber[*column as usize];
            *column != u32::MAX
        });
        let n = documents.len() as f32;
        let idf = order
            .iter()
            .map(|&c| ((1.0 + n) / (1.0 + df[c] as f32)).ln() + 1.0)
            .collect();
        FeatureSpace {
            config,
            language,
            columns,
            idf,
            max_idf: ((1.0 + n) / 2.0).ln() + 1.0,
            static_vectors: (config.static_vectors
                && crate::embeddings::for_language(language).is_some())
            .then(|| crate::embeddings::RESOURCE_ID.to_string()),
            word_grams: WordGrams::default(),
            pieces: Default::default(),
        }
    }

    /// Remembers the letter n-grams of `words` (folded forms, such as the
    /// training vocabulary): a parse then looks each such word up once
    /// instead of each of its n-grams. Rows are the same either way.
    pub fn cache_words<'a>(&mut self, words: impl IntoIterator<Item = &'a str> + Clone) {
        self.pieces = match self.static_vectors() {
            Some(vectors) => crate::embeddings::PieceCache::new(vectors, words.clone()),
            None => Default::default(),
        };
        let mut cache = WordGrams::default();
        let mut grams = Vec::new();
        for word in words {
            let key = hash_str(WORD_BLOCK, word);
            if cache.index.contains_key(&key) {
                continue;
            }
            grams.clear();
            char_grams(word, self.config.char_ngrams, &mut grams);
            let (columns, unknown) = (cache.columns.len() as u32, cache.unknown.len() as u32);
            for g in &grams {
                match self.columns.get(g) {
                    Some(&column) => cache.columns.push(column),
                    None => cache.unknown.push(*g),
                }
            }
            cache.index.insert(
                key,
                CachedWord {
                    columns: (columns, cache.columns.len() as u32),
                    unknown: (unknown, cache.unknown.len() as u32),
                },
            );
        }
        self.word_grams = cache;
    }

    /// The static-vector pieces of the words given to
    /// [`FeatureSpace::cache_words`] (empty without static vectors).
    pub fn piece_cache(&self) -> &crate::embeddings::PieceCache {
        &self.pieces
    }

    pub fn dimension(&self) -> usize {
        self.idf.len() + self.static_dims()
    }

    /// The n-gram columns; the static block's dense columns follow them.
    pub fn sparse_dimension(&self) -> usize {
        self.idf.len()
    }

    fn static_dims(&self) -> usize {
        self.static_vectors()
            .map_or(0, |v| v.dims().min(self.config.static_dims))
    }

    fn static_vectors(&self) -> Option<&'static crate::embeddings::StaticVectors> {
        self.static_vectors
            .as_ref()
            .and_then(|_| crate::embeddings::for_language(self.language))
    }

    /// The static-vector file this space needs, if any.
    pub fn static_resource(&self) -> Option<&str> {
        self.static_vectors.as_deref()
    }

    /// The weighted sparse row of one utterance; n-grams never seen in training are dropped.
    pub fn vectorize(&self, grams: &Grams) -> SparseRow {
        self.vectorize_with_coverage(grams).0
    }

    /// The row and how familiar the utterance is (see [`Coverage`]).
    pub fn vectorize_with_coverage(&self, grams: &Grams) -> (SparseRow, Coverage) {
        let mut row = Vec::new();
        let coverage = self.vectorize_into(grams, &mut row, &mut Scratch::default());
        (row, coverage)
    }

    /// [`FeatureSpace::vectorize_with_coverage`] into a caller's buffers.
    /// With [`Scratch::unsorted`] the row's columns are in no particular
    /// order within a block (scoring does not mind; training does).
    pub fn vectorize_into(
        &self,
        grams: &Grams,
        row: &mut SparseRow,
        scratch: &mut Scratch,
    ) -> Coverage {
        self.vectorize_into_with_words(grams, row, scratch).0
    }

    /// [`FeatureSpace::vectorize_into`], and how many entries the row's
    /// word block has: `row[..words]` is the row of `grams.words` alone
    /// (the word block is weighted and normalised on its own, first).
    pub fn vectorize_into_with_words(
        &self,
        grams: &Grams,
        row: &mut SparseRow,
        scratch: &mut Scratch,
    ) -> (Coverage, usize) {
        row.clear();
        row.reserve(grams.words.len() + grams.chars.len() + self.static_dims());
        let words = self.add_block(self.lookup(&grams.words), 1.0, row, scratch);
        let word_entries = row.len();
        let chars = self.add_block(
            self.lookup(&grams.chars),
            self.config.char_weight,
            row,
            scratch,
        );
        self.add_static_block(grams, row);
        (coverage(words, chars, grams.chars.len()), word_entries)
    }

    /// [`FeatureSpace::vectorize_into`] straight from a tokenised
    /// utterance, with the letter n-grams of the words seen in training
    /// from the cache ([`FeatureSpace::cache_words`]): the same row.
    pub fn vectorize_tokens_into(
        &self,
        tokens: &[Token],
        stems: &[String],
        grams: &mut Grams,
        row: &mut SparseRow,
        scratch: &mut Scratch,
    ) -> Coverage {
        word_grams_into(tokens, stems, &self.config, grams);
        // Words the cache does not know have their n-grams computed here.
        grams.chars.clear();
        let mut sources = std::mem::take(&mut scratch.sources);
        sources.clear();
        let cache = &self.word_grams;
        let mut total = 0;
        for token in tokens.iter().filter(|t| t.kind == TokenKind::Word) {
            let cached = (!cache.index.is_empty())
                .then(|| cache.index.get(&hash_str(WORD_BLOCK, &token.norm)))
                .flatten();
            match cached {
                Some(&word) => {
                    total += (word.columns.1 - word.columns.0 + word.unknown.1 - word.unknown.0)
                        as usize;
                    sources.push(Ok(word));
                }
                None => {
                    let from = grams.chars.len();
                    char_grams(&token.norm, self.config.char_ngrams, &mut grams.chars);
                    total += grams.chars.len() - from;
                    sources.push(Err((from as u32, grams.chars.len() as u32)));
                }
            }
        }
        row.clear();
        row.reserve(grams.words.len() + total + self.static_dims());
        let words = self.add_block(self.lookup(&grams.words), 1.0, row, scratch);
        let chars = self.add_block(
            CachedGrams {
                space: self,
                sources: &sources,
                computed: &grams.chars,
            },
            self.config.char_weight,
            row,
            scratch,
        );
        scratch.sources = sources;
        self.add_static_block(grams, row);
        coverage(words, chars, total)
    }

    /// Each n-gram's column, or its hash when it has none.
    fn lookup<'a>(&'a self, grams: &'a [u64]) -> Lookup<'a> {
        Lookup { space: self, grams }
    }

    /// Appends one block's TF-IDF values, normalised over *all* its n-grams.
    ///
    /// N-grams never seen in training get no column, but they still count in
    /// the norm (weighted as the rarest known n-gram): an utterance made
    /// mostly of unknown words then has a short vector and low scores for
    /// every task, which is what lets gibberish fall out of scope instead of
    /// being blown up to full length from its two familiar letter pairs.
    /// Returns how many of the block's n-grams are known.
    fn add_block(
        &self,
        grams: impl GramSource,
        weight: f32,
        row: &mut SparseRow,
        scratch: &mut Scratch,
    ) -> usize {
        let start = row.len();
        let unknown = &mut scratch.unknown;
        unknown.clear();
        let mut known = 0;
        if let Some(slots) = scratch.slots.as_mut() {
            // Repeats counted through a column -> position table (reset
            // below): no sort, the row keeps the n-grams' order.
            if slots.len() < self.idf.len() {
                slots.resize(self.idf.len(), u32::MAX);
            }
            grams.for_each(|g| {
                known += usize::from(g.is_ok());
                match g {
                    Ok(column) => match slots[column as usize] {
                        u32::MAX => {
                            slots[column as usize] = row.len() as u32;
                            row.push((column, 1.0));
                        }
                        at => row[at as usize].1 += 1.0,
                    },
                    Err(g) => unknown.push(g),
                }
            });
            for &(column, _) in &row[start..] {
                slots[column as usize] = u32::MAX;
            }
        } else {
            grams.for_each(|g| {
                known += usize::from(g.is_ok());
                match g {
                    Ok(column) => row.push((column, 1.0)),
                    Err(g) => unknown.push(g),
                }
            });
            row[start..].sort_unstable_by_key(|(c, _)| *c);
            let mut unique = start;
            for i in start..row.len() {
                if unique > start && row[unique - 1].0 == row[i].0 {
                    row[unique - 1].1 += 1.0;
                } else {
                    row[unique] = row[i];
                    unique += 1;
                }
            }
            row.truncate(unique);
        }
        let mut norm = unknown_mass(unknown, self.max_idf);
        for (column, value) in &mut row[start..] {
            *value = (1.0 + value.ln()) * self.idf[*column as usize];
            norm += *value * *value;
        }
        if norm > 0.0 {
            let scale = weight / norm.sqrt();
            for (_, value) in &mut row[start..] {
                *value *= scale;
            }
        }
        known
    }
}

/// The n-grams of a block, in order, as [`FeatureSpace::add_block`] reads them.
trait GramSource {
    fn for_each(self, f: impl FnMut(Gram));
}

/// N-gram hashes, each looked up.
struct Lookup<'a> {
    space: &'a FeatureSpace,
    grams: &'a [u64],
}

impl GramSource for Lookup<'_> {
    #[inline(always)]
    fn for_each(self, mut f: impl FnMut(Gram)) {
        for g in self.grams {
            f(self.space.columns.get(g).copied().ok_or(*g));
        }
    }
}

/// The letter n-grams of an utterance's words: from the cache, or looked up
/// for words it does not hold.
struct CachedGrams<'a> {
    space: &'a FeatureSpace,
    sources: &'a [Result<CachedWord, (u32, u32)>],
    computed: &'a [u64],
}

impl GramSource for CachedGrams<'_> {
    #[inline(always)]
    fn for_each(self, mut f: impl FnMut(Gram)) {
        let cache = &self.space.word_grams;
        for source in self.sources {
            match *source {
                Ok(word) => {
                    let (a, b) = word.columns;
                    for &column in &cache.columns[a as usize..b as usize] {
                        f(Ok(column));
                    }
                    let (a, b) = word.unknown;
                    for &g in &cache.unknown[a as usize..b as usize] {
                        f(Err(g));
                    }
                }
                Err((a, b)) => self
                    .space
                    .lookup(&self.computed[a as usize..b as usize])
                    .for_each(&mut f),
            }
        }
    }
}

/// Fewest utterances worth a thread of their own when counting n-grams.
const MIN_PART: usize = 1000;

/// The distinct n-grams of `documents` (one block, picked by `grams`) in
/// order of first appearance, and in how many documents each appears.
fn count_grams(documents: &[Grams], grams: fn(&Grams) -> &[u64]) -> (Vec<u64>, Vec<u32>) {
    let mut index: FxHashMap<u64, u32> = FxHashMap::default();
    let (mut seen, mut df) = (Vec::new(), Vec::new());
    // The last utterance each n-gram was counted for: it counts once per
    // utterance however often it occurs there.
    let mut last_doc: Vec<u32> = Vec::new();
    for (d, doc) in documents.iter().enumerate() {
        for &g in grams(doc) {
            let next = seen.len() as u32;
            let at = *index.entry(g).or_insert(next) as usize;
            if at == seen.len() {
                seen.push(g);
                df.push(0);
                last_doc.push(u32::MAX);
            }
            if last_doc[at] != d as u32 {
                last_doc[at] = d as u32;
                df[at] += 1;
            }
        }
    }
    (seen, df)
}

/// Buffers [`FeatureSpace::vectorize_into`] works in.
#[derive(Debug, Default)]
pub struct Scratch {
    unknown: Vec<u64>,
    /// Per word of the utterance, its cached n-grams or where its computed
    /// ones are.
    sources: Vec<Result<CachedWord, (u32, u32)>>,
    /// Column -> position in the row being built, `u32::MAX` when absent.
    slots: Option<Vec<u32>>,
}

impl Scratch {
    /// Scratch space for rows that need not be sorted by column.
    pub fn unsorted() -> Scratch {
        Scratch {
            slots: Some(Vec::new()),
            ..Scratch::default()
        }
    }
}

fn coverage(known_words: usize, known_chars: usize, chars: usize) -> Coverage {
    Coverage {
        known_words,
        known_chars: if chars == 0 {
            0.0
        } else {
            known_chars as f32 / chars as f32
        },
    }
}

/// How much of an utterance the training vocabulary knows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coverage {
    /// Known words, stems and word pairs (with repeats).
    pub known_words: usize,
    /// Share of the character n-grams that are known (0 when there are none).
    pub known_chars: f32,
}

impl Coverage {
    /// Nothing familiar: not one known word and mostly unknown letter
    /// sequences (a typo such as `helo` keeps most of its letter pairs).
    pub fn is_unfamiliar(&self) -> bool {
        self.known_words == 0 && self.known_chars < 0.5
    }
}

impl FeatureSpace {
    /// Appends the IDF-weighted mean of the words' static vectors, unit
    /// length times the block weight, in the columns after the n-grams.
    fn add_static_block(&self, grams: &Grams, row: &mut SparseRow) {
        let Some(vectors) = self.static_vectors() else {
            return;
        };
        if grams.plain_words.is_empty() {
            return;
        }
        let mut sum = [0.0f32; crate::embeddings::MAX_DIMS];
        // Only the dimensions used (the first ones) are summed.
        let sum = &mut sum[..self.static_dims()];
        let words = grams.plain_text.split_terminator(WORD_END);
        for (unigram, word) in grams.plain_words.iter().zip(words) {
            let idf = self
                .columns
                .get(unigram)
                .map_or(self.max_idf, |&c| self.idf[c as usize]);
            match self.pieces.get(word) {
                Some(pieces) => vectors.add_pieces(pieces, idf, sum),
                None => vectors.add_word(word, idf, sum),
            }
        }
        crate::embeddings::normalize(sum);
        let first = self.idf.len() as u32;
        row.extend(
            sum.iter()
                .enumerate()
                .map(|(d, &v)| (first + d as u32, v * self.config.static_weight)),
        );
    }
}

/// The squared TF-IDF mass of n-grams without a column.
fn unknown_mass(unknown: &mut [u64], idf: f32) -> f32 {
    unknown.sort_unstable();
    let mut mass = 0.0;
    for run in unknown.chunk_by(|a, b| a == b) {
        let value = (1.0 + (run.len() as f32).ln()) * idf;
        mass += value * value;
    }
    mass
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    fn grams_of(text: &str) -> Grams {
        let tokens = tokenize(text, Language::English);
        let stems = crate::text::Stemmer::new(Language::English).stems(&tokens);
        grams(&tokens, &stems, &FeatureConfig::default())
    }

    #[test]
    fn same_words_give_same_grams() {
        let a = grams_of("Book a table");
        let b = grams_of("book a TABLE");
        assert_eq!(a.words, b.words);
        assert_eq!(a.chars, b.chars);
    }

    #[test]
    fn word_order_changes_bigrams_only() {
        let a = grams_of("table book");
        let b = grams_of("book table");
        // Everything but the three bigrams (with the sentence boundaries).
        let mut a_uni: Vec<u64> = a.words[..a.words.len() - 3].to_vec();
        let mut b_uni: Vec<u64> = b.words[..b.words.len() - 3].to_vec();
        a_uni.sort();
        b_uni.sort();
        assert_eq!(a_uni, b_uni);
        assert_ne!(a.words, b.words);
    }

    #[test]
    fn cached_word_grams_are_the_grams() {
        let config = FeatureConfig::default();
        let mut cache = WordCharGrams::default();
        let mut stemmer = crate::text::Stemmer::new(Language::English);
        for text in [
            "Book a table for two",
            "book TWO tables, then book a taxi!",
            "Réservé l'hôtel 3pm 👍 東京",
            "",
            "a a a booking booked",
        ] {
            let tokens = tokenize(text, Language::English);
            stemmer.learn(&tokens);
            let stems = stemmer.stems(&tokens);
            let fresh = grams(&tokens, &stems, &config);
            let cached = grams_cached(
                &tokens,
                &stemmer.stems_borrowed(&tokens),
                &config,
                &mut cache,
            );
            assert_eq!(cached.words, fresh.words, "{text}");
            assert_eq!(cached.chars, fresh.chars, "{text}");
            assert_eq!(cached.plain_words, fresh.plain_words, "{text}");
            assert_eq!(cached.plain_text, fresh.plain_text, "{text}");
        }
        // Each word's n-grams were computed once.
        assert_eq!(cache.index.len(), 13);
    }

    #[test]
    fn char_gram_counts_are_the_counts_of_char_grams() {
        for range in [(2, 5), (1, 3), (3, 3), (0, 2), (2, 9)] {
            for word in ["", "a", "ab", "cat", "table", "réservation", "東京"] {
                let mut out = Vec::new();
                char_grams(word, range, &mut out);
                let count = char_gram_count(word.chars().count(), range);
                assert_eq!(count, out.len(), "{word} {range:?}");
            }
        }
    }

    #[test]
    fn char_grams_count() {
        let mut out = Vec::new();
        // " cat " has 5 chars: 4 bigrams, 3 trigrams, 2 four-grams, 1 five-gram.
        char_grams("cat", (2, 5), &mut out);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn vectors_are_normalised_per_block_and_drop_unknown_grams() {
        let config = FeatureConfig {
            static_vectors: false,
            ..FeatureConfig::default()
        };
        let grams_of = |text: &str| {
            let tokens = tokenize(text, Language::English);
            let stems = crate::text::Stemmer::new(Language::English).stems(&tokens);
            grams(&tokens, &stems, &config)
        };
        let docs = vec![grams_of("book a table"), grams_of("play some music")];
        let space = FeatureSpace::fit(config, Language::English, &docs);
        let row = space.vectorize(&grams_of("book a table"));
        let norm: f32 = row.iter().map(|(_, v)| v * v).sum();
        assert!(
            (norm - 2.0).abs() < 1e-4,
            "two blocks of norm 1, got {norm}"
        );
        assert!(row.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(space.vectorize(&grams_of("zzzz qqqq")).is_empty());
        // Unknown words shorten the vector of the words that are known.
        let half: f32 = space
            .vectorize(&grams_of("book zzzz qqqq"))
            .iter()
            .map(|(_, v)| v * v)
            .sum();
        assert!(half < 1.0, "norm {half}");
    }

    #[test]
    fn a_rows_word_block_is_the_row_of_its_words_alone() {
        let docs: Vec<Grams> = ["book a table", "play some music", "book some music now"]
            .iter()
            .map(|t| grams_of(t))
            .collect();
        let space = FeatureSpace::fit(FeatureConfig::default(), Language::English, &docs);
        for text in [
            "book a table",
            "book zzzz music",
            "qqqq",
            "play a table a table",
        ] {
            let grams = grams_of(text);
            for mut scratch in [Scratch::unsorted(), Scratch::default()] {
                let (mut row, mut alone) = (SparseRow::new(), SparseRow::new());
                let (coverage, words) =
                    space.vectorize_into_with_words(&grams, &mut row, &mut scratch);
                let words_only = Grams {
                    words: grams.words.clone(),
                    ..Grams::default()
                };
                space.vectorize_into(&words_only, &mut alone, &mut scratch);
                let bits = |r: &[(u32, f32)]| -> Vec<(u32, u32)> {
                    r.iter().map(|&(c, v)| (c, v.to_bits())).collect()
                };
                assert_eq!(bits(&row[..words]), bits(&alone), "{text}");
                let mut full = SparseRow::new();
                let again = space.vectorize_into(&grams, &mut full, &mut scratch);
                assert_eq!(bits(&row), bits(&full), "{text}");
                assert_eq!(coverage, again);
            }
        }
    }

    #[test]
    fn the_static_block_follows_the_n_grams_with_unit_length() {
        let docs = vec![grams_of("book a table"), grams_of("play some music")];
        let space = FeatureSpace::fit(FeatureConfig::default(), Language::English, &docs);
        assert_eq!(
            space.static_resource(),
            Some(crate::embeddings::RESOURCE_ID)
        );
        let row = space.vectorize(&grams_of("reserve a table"));
        let dense: Vec<f32> = row
            .iter()
            .filter(|(c, _)| *c as usize >= space.idf.len())
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(dense.len(), 128);
        let norm: f32 = dense.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        assert_eq!(space.dimension(), space.idf.len() + 128);
        // Other languages have no static vectors.
        let spanish = FeatureSpace::fit(FeatureConfig::default(), Language::Spanish, &docs);
        assert_eq!(spanish.static_resource(), None);
    }

    #[test]
    fn cached_words_give_the_same_rows_as_their_n_grams() {
        let config = FeatureConfig {
            min_df: 2,
            ..FeatureConfig::default()
        };
        let stemmer = crate::text::Stemmer::new(Language::English);
        let prepare = |text: &str| {
            let tokens = tokenize(text, Language::English);
            let stems = stemmer.stems(&tokens);
            (tokens, stems)
        };
        let training = [
            "book a table for two",
            "book a banana table",
            "play some music, please",
            "play music by abba",
        ];
        let docs: Vec<Grams> = training
            .iter()
            .map(|text| {
                let (tokens, stems) = prepare(text);
                grams(&tokens, &stems, &config)
            })
            .collect();
        let mut space = FeatureSpace::fit(config, Language::English, &docs);
        let mut cached = space.clone();
        // Every training word but one (so some words miss the cache).
        cached.cache_words(["book", "a", "table", "for", "two", "banana", "play", "some"]);
        // The static block's words are cut from the cache too.
        assert_eq!(cached.pieces.get("banana").map(<[u32]>::len), Some(1));
        for text in [
            "book a table",
            "Book a BANANA banana table for two? for two!",
            "play music by queen",
            "zzz qqq",
            "",
            "musik 42 table-tennis",
        ] {
            let (tokens, stems) = prepare(text);
            let mut grams = Grams::default();
            for scratch in [Scratch::unsorted, Scratch::default] {
                let mut expected = SparseRow::new();
                let plain = space.vectorize_into(
                    &super::grams(&tokens, &stems, &config),
                    &mut expected,
                    &mut scratch(),
                );
                for space in [&cached, &space] {
                    let mut row = SparseRow::new();
                    let coverage = space.vectorize_tokens_into(
                        &tokens,
                        &stems,
                        &mut grams,
                        &mut row,
                        &mut scratch(),
                    );
                    let bits = |row: &SparseRow| -> Vec<(u32, u32)> {
                        row.iter().map(|&(c, v)| (c, v.to_bits())).collect()
                    };
                    assert_eq!(bits(&row), bits(&expected), "{text:?}");
                    assert_eq!(coverage, plain, "{text:?}");
                }
            }
        }
        // Not stored: a model read back has no cache until it is rebuilt.
        space.cache_words(["book"]);
        assert!(!space.word_grams.index.is_empty());
        let bytes = postcard::to_stdvec(&space).unwrap();
        let back: FeatureSpace = postcard::from_bytes(&bytes).unwrap();
        assert!(back.word_grams.index.is_empty() && back.pieces.get("book").is_none());
    }

    #[test]
    fn counting_in_parts_gives_the_same_space() {
        let texts = [
            "book a table",
            "book a table for two",
            "play some music",
            "play music by abba",
            "book music",
            "a table, a table!",
            "two tables",
        ];
        let docs: Vec<Grams> = texts.iter().map(|t| grams_of(t)).collect();
        let config = FeatureConfig {
            min_df: 2,
            ..FeatureConfig::default()
        };
        let whole = FeatureSpace::fit_in_parts(config, Language::English, &docs, 1, 1);
        for parts in [2, 3, 7] {
            let split = FeatureSpace::fit_in_parts(config, Language::English, &docs, parts, 1);
            assert_eq!(
                postcard::to_stdvec(&split).unwrap(),
                postcard::to_stdvec(&whole).unwrap(),
                "{parts} parts"
            );
        }
    }

    #[test]
    fn columns_are_numbered_most_frequent_first_within_each_block() {
        let config = FeatureConfig {
            static_vectors: false,
            word_bigrams: false,
            stems: false,
            ..FeatureConfig::default()
        };
        let grams_of = |text: &str| {
            let tokens = tokenize(text, Language::English);
            let stems = crate::text::Stemmer::new(Language::English).stems(&tokens);
            grams(&tokens, &stems, &config)
        };
        let docs = vec![grams_of("zebra"), grams_of("ox"), grams_of("ox")];
        let space = FeatureSpace::fit(config, Language::English, &docs);
        let column = |g: &u64| space.columns[g];
        // "ox" (in two utterances) before "zebra", and every word before
        // every letter n-gram.
        assert_eq!(column(&docs[1].words[0]), 0);
        assert_eq!(column(&docs[0].words[0]), 1);
        assert!(docs[0].chars.iter().all(|g| column(g) >= 2));
        assert!(space.idf[0] < space.idf[1]);
    }
}
