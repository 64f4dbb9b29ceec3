//! Matching the values and synonyms of custom field types in an utterance.
//!
//! Tolerant the way users are sloppy: case and accents never matter, a plural
//! or other inflection matches through stems, and a small typo matches
//! (one edit in a word of 4+ letters, two in a word of 8+). Every match
//! reports the canonical value, so `"nope"` reads as `No` when `nope` is a
//! synonym of `No`.
//!
//! Values live in one word trie for all the custom types of an assistant, so
//! an utterance is walked once whatever the number of fields, and the walk
//! only follows prefixes that exist; callers say which types they want.
//! The first words a typo away from each training word are found once, when
//! the model is built or read ([`Gazetteer::cache_words`]), not per parse.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::text::{Language, Token, TokenKind, tokenize};
use crate::training::CustomFieldType;

/// A node of the word trie: the path from the root spells a value's words.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Node {
    /// The folded word on the edge into this node (for typo matching).
    word: String,
    /// Child nodes, for typo matching when no child matches exactly.
    children: Vec<u32>,
    /// `(type, canonical value)` of the values that end here.
    ends: Vec<(u32, u32)>,
    /// The samples use these words as ordinary words, outside any field.
    ordinary: bool,
}

/// The values of an assistant's custom field types, indexed for fast,
/// typo-tolerant lookup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gazetteer {
    language: Language,
    type_names: Vec<String>,
    canonical: Vec<String>,
    /// Node 0 is the root.
    nodes: Vec<Node>,
    /// `(parent node, hash of a stem)` → child node.
    #[serde(with = "crate::sorted_map")]
    edges: FxHashMap<(u32, u64), u32>,
    /// Hash of a first word's folded form or of one of its one-letter
    /// deletions → root children: finds first words one typo away.
    #[serde(with = "crate::sorted_map")]
    first_words: FxHashMap<u64, Vec<u32>>,
    /// Per known word, the first words one typo away (see
    /// [`Gazetteer::cache_words`]); derived from the rest, so not stored.
    #[serde(skip)]
    near_first_words: NearFirstWords,
    /// Each node's word length in characters (see [`Gazetteer::cache_words`]):
    /// the typo search of a node's children skips those whose length
    /// alone rules them out without reading their words. Derived, not stored.
    #[serde(skip)]
    node_chars: Vec<u32>,
}

/// Per word (by the hash of its folded form), the root children a typo
/// away from it as [`Gazetteer::walk_all`] finds them through
/// [`Gazetteer::first_words`], in the same order: `(child, edits)`.
#[derive(Debug, Clone, Default)]
struct NearFirstWords {
    index: FxHashMap<u64, (u32, u32)>,
    near: Vec<(u32, u32)>,
}

/// A value found in an utterance: tokens `first..=last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GazetteerMatch {
    /// Index of the custom type (see [`Gazetteer::type_index`]).
    pub field_type: usize,
    pub first: usize,
    pub last: usize,
    /// Index of the canonical value (see [`Gazetteer::canonical`]).
    pub value: usize,
    /// Number of edits needed to match; 0 for an exact (stemmed) match.
    pub edits: usize,
    /// The samples use these words outside any field (see [`Gazetteer::learn_ordinary`]).
    pub ordinary: bool,
}

/// Nodes with more children than this are not searched for typos: the
/// search would cost more than the typo is worth (a typo in a first word is
/// found through the deletion index instead).
const MAX_FUZZY_CHILDREN: usize = 64;

impl Gazetteer {
    pub fn new(types: &[CustomFieldType], language: Language) -> Gazetteer {
        let stemmer = language.stemmer();
        let mut gazetteer = Gazetteer {
            language,
            type_names: types.iter().map(|t| t.name.clone()).collect(),
            canonical: Vec::new(),
            nodes: vec![Node::default()],
            edges: FxHashMap::default(),
            first_words: FxHashMap::default(),
            near_first_words: NearFirstWords::default(),
            node_chars: Vec::new(),
        };
        for (type_index, field_type) in types.iter().enumerate() {
            let mut canonical_ids: FxHashMap<String, u32> = FxHashMap::default();
            for value in &field_type.values {
                let canonical = value
                    .synonym_of
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or(&value.value);
                let next = gazetteer.canonical.len() as u32;
                let id = *canonical_ids
                    .entry(crate::text::fold(canonical))
                    .or_insert_with(|| {
                        gazetteer.canonical.push(canonical.to_string());
                        next
                    });
                for text in [value.value.as_str(), canonical] {
                    gazetteer.add(text, type_index as u32, id, &stemmer);
                }
            }
        }
        gazetteer
    }

    fn add(
        &mut self,
        text: &str,
        field_type: u32,
        canonical: u32,
        stemmer: &rust_stemmers::Stemmer,
    ) {
        let mut node = 0u32;
        for token in tokenize(text, self.language) {
            if !token.is_word_like() {
                continue;
            }
            let stem = stemmer.stem(&token.norm);
            let key = (node, hash_word(stem.chars()));
            node = match self.edges.get(&key) {
                Some(&child) => child,
                None => self.add_child(node, key, token.norm),
            };
        }
        let ends = &mut self.nodes[node as usize].ends;
        if node != 0 && !ends.contains(&(field_type, canonical)) {
            ends.push((field_type, canonical));
        }
    }

    fn add_child(&mut self, parent: u32, key: (u32, u64), word: String) -> u32 {
        let child = self.nodes.len() as u32;
        if parent == 0 {
            let mut keys = Vec::new();
            deletion_keys(&word, &mut keys);
            for k in keys {
                self.first_words.entry(k).or_default().push(child);
            }
        }
        self.nodes.push(Node {
            word,
            ..Node::default()
        });
        self.nodes[parent as usize].children.push(child);
        self.edges.insert(key, child);
        child
    }

    /// Marks the values matched in a training utterance outside its field
    /// spans (`spans` are inclusive token ranges) as ordinary words: found
    /// in an utterance, such a value is a field only where the tagger says
    /// so (`the`, `me` or `now` as listed values would otherwise turn up in
    /// every sentence).
    pub fn learn_ordinary(&mut self, tokens: &[Token], stems: &[String], spans: &[(usize, usize)]) {
        let everything = vec![true; self.type_names.len()];
        let mut nodes = Vec::new();
        self.walk_all(tokens, stems, &everything, |m, node| {
            if !spans
                .iter()
                .any(|&(first, last)| m.first <= last && first <= m.last)
            {
                nodes.push(node);
            }
        });
        for node in nodes {
            self.nodes[node as usize].ordinary = true;
        }
    }

    /// The index of a custom type by name.
    pub fn type_index(&self, name: &str) -> Option<usize> {
        self.type_names.iter().position(|n| n == name)
    }

    pub fn canonical(&self, value: usize) -> &str {
        &self.canonical[value]
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// For every token and every wanted type, the longest (then closest)
    /// value starting there. Matches of different types may overlap.
    pub fn find(&self, tokens: &[Token], stems: &[String], wanted: &[bool]) -> Vec<GazetteerMatch> {
        let mut found = Vec::new();
        self.walk_all(tokens, stems, wanted, |m, _| found.push(m));
        found
    }

    /// Calls `each` with every match of [`Gazetteer::find`] and its trie node.
    fn walk_all(
        &self,
        tokens: &[Token],
        stems: &[String],
        wanted: &[bool],
        mut each: impl FnMut(GazetteerMatch, u32),
    ) {
        if !wanted.iter().any(|&w| w) {
            return;
        }
        let stem_hashes: Vec<u64> = stems.iter().map(|s| hash_word(s.chars())).collect();
        let char_counts: Vec<usize> = tokens.iter().map(|t| t.norm.chars().count()).collect();
        let mut walk = Walk {
            gazetteer: self,
            tokens,
            char_counts: &char_counts,
            stem_hashes: &stem_hashes,
            wanted,
            start: 0,
            best: vec![None; wanted.len()],
        };
        let mut keys = Vec::new();
        let mut tried = Vec::new();
        for start in 0..tokens.len() {
            if !tokens[start].is_word_like() {
                continue;
            }
            walk.start = start;
            tried.clear();
            if let Some(&child) = self.edges.get(&(0, stem_hashes[start])) {
                tried.push(child);
                walk.descend(child, start, 0);
            }
            let norm = &tokens[start].norm;
            let near = &self.near_first_words;
            let cached = (!near.index.is_empty())
                .then(|| near.index.get(&hash_word(norm.chars())))
                .flatten();
            if let Some(&(from, to)) = cached {
                let exact = tried.first().copied();
                for &(child, edits) in &near.near[from as usize..to as usize] {
                    if Some(child) != exact {
                        walk.descend(child, start, edits as usize);
                    }
                }
            } else if typo_budget(char_counts[start]) > 0 {
                self.near_first(
                    norm,
                    char_counts[start],
                    &mut keys,
                    &mut tried,
                    |child, edits| walk.descend(child, start, edits),
                );
            }
            for (m, node) in walk.best.iter_mut().filter_map(Option::take) {
                each(m, node);
            }
        }
    }

    /// Calls `each` with the root children one typo away from `norm` (of
    /// `chars` characters) and their edits, in index order, skipping
    /// those in `tried` (and adding the others to it).
    fn near_first(
        &self,
        norm: &str,
        chars: usize,
        keys: &mut Vec<u64>,
        tried: &mut Vec<u32>,
        mut each: impl FnMut(u32, usize),
    ) {
        keys.clear();
        deletion_keys(norm, keys);
        for key in keys.iter() {
            for &child in self.first_words.get(key).into_iter().flatten() {
                if tried.contains(&child) {
                    continue;
                }
                tried.push(child);
                let word = &self.nodes[child as usize].word;
                if let Some(edits) = within_typo_budget_counted(word, norm, chars) {
                    each(child, edits);
                }
            }
        }
    }

    /// Remembers which first words are a typo away from each of `words`
    /// (folded forms, such as the training vocabulary), so that finding
    /// values in an utterance of known words skips the typo search of
    /// first words. Matches are the same either way. Call it once the
    /// values are all added.
    pub fn cache_words<'a>(&mut self, words: impl IntoIterator<Item = &'a str>) {
        let mut cache = NearFirstWords::default();
        let (mut keys, mut tried) = (Vec::new(), Vec::new());
        if !self.is_empty() {
            for word in words {
                let key = hash_word(word.chars());
                if cache.index.contains_key(&key) {
                    continue;
                }
                let from = cache.near.len() as u32;
                let chars = word.chars().count();
                if typo_budget(chars) > 0 {
                    tried.clear();
                    self.near_first(word, chars, &mut keys, &mut tried, |child, edits| {
                        cache.near.push((child, edits as u32))
                    });
                }
                cache.index.insert(key, (from, cache.near.len() as u32));
            }
        }
        self.near_first_words = cache;
        self.node_chars = self
            .nodes
            .iter()
            .map(|n| n.word.chars().count() as u32)
            .collect();
    }

    /// The canonical value of a whole answer of type `field_type`, if the
    /// answer is (close to) one of its values.
    pub fn resolve(&self, field_type: usize, text: &str) -> Option<&str> {
        let tokens = tokenize(text, self.language);
        let stems = super::stems_of(&tokens, self.language);
        self.resolve_tokens(field_type, &tokens, &stems)
    }

    /// [`Gazetteer::resolve`] on text already tokenized and stemmed (a span
    /// of a parsed utterance: no second tokenization, and the model's
    /// cached stems instead of stemming each word again).
    pub fn resolve_tokens(
        &self,
        field_type: usize,
        tokens: &[Token],
        stems: &[String],
    ) -> Option<&str> {
        let words: Vec<usize> = (0..tokens.len())
            .filter(|&i| tokens[i].is_word_like())
            .collect();
        let (&first, &last) = (words.first()?, words.last()?);
        let mut wanted = vec![false; self.type_names.len()];
        *wanted.get_mut(field_type)? = true;
        self.find(tokens, stems, &wanted)
            .into_iter()
            .find(|m| m.first == first && m.last == last)
            .map(|m| self.canonical(m.value))
    }
}

/// A depth-first walk of the trie along the utterance from one start token.
struct Walk<'a> {
    gazetteer: &'a Gazetteer,
    tokens: &'a [Token],
    /// Each token's length in characters.
    char_counts: &'a [usize],
    stem_hashes: &'a [u64],
    wanted: &'a [bool],
    start: usize,
    /// Best match so far per type, with its trie node.
    best: Vec<Option<(GazetteerMatch, u32)>>,
}

impl Walk<'_> {
    /// `node` matched token `at` with `edits` so far.
    fn descend(&mut self, node: u32, at: usize, edits: usize) {
        let n = &self.gazetteer.nodes[node as usize];
        for &(t, value) in &n.ends {
            let t = t as usize;
            if !self.wanted.get(t).copied().unwrap_or(false) {
                continue;
            }
            let better = self.best[t].as_ref().is_none_or(|(b, _)| {
                (at, std::cmp::Reverse(edits)) > (b.last, std::cmp::Reverse(b.edits))
            });
            if better {
                let m = GazetteerMatch {
                    field_type: t,
                    first: self.start,
                    last: at,
                    value: value as usize,
                    edits,
                    ordinary: n.ordinary,
                };
                self.best[t] = Some((m, node));
            }
        }
        if n.children.is_empty() {
            return;
        }
        // Punctuation inside a value is optional ("st. louis", "st louis").
        let mut next = at + 1;
        while next < self.tokens.len() && self.tokens[next].kind == TokenKind::Punct {
            next += 1;
        }
        if next >= self.tokens.len() {
            return;
        }
        let exact = self
            .gazetteer
            .edges
            .get(&(node, self.stem_hashes[next]))
            .copied();
        if let Some(child) = exact {
            self.descend(child, next, edits);
        }
        let norm = &self.tokens[next].norm;
        let norm_chars = self.char_counts[next];
        if n.children.len() <= MAX_FUZZY_CHILDREN && typo_budget(norm_chars) > 0 {
            for &child in &n.children {
                if Some(child) == exact || self.too_long_or_short(child, norm_chars) {
                    continue;
                }
                let word = &self.gazetteer.nodes[child as usize].word;
                if let Some(e) = within_typo_budget_counted(word, norm, norm_chars) {
                    self.descend(child, next, edits + e);
                }
            }
        }
    }
}

impl Walk<'_> {
    /// Whether `child`'s word is surely no typo of (nor equal to) a word
    /// of `have_chars` characters, by lengths alone: the test
    /// `within_typo_budget_counted` makes after comparing the words (which
    /// an other length rules out). `false` when the lengths are not known.
    #[inline]
    fn too_long_or_short(&self, child: u32, have_chars: usize) -> bool {
        let Some(&want_chars) = self.gazetteer.node_chars.get(child as usize) else {
            return false;
        };
        let want_chars = want_chars as usize;
        let budget = typo_budget(want_chars.min(have_chars));
        want_chars != have_chars && (budget == 0 || want_chars.abs_diff(have_chars) > budget)
    }
}

/// Edits between two words when small enough to be a typo, `None` otherwise.
/// `have_chars` is `have`'s length in characters (the caller knows it).
fn within_typo_budget_counted(want: &str, have: &str, have_chars: usize) -> Option<usize> {
    if want == have {
        return Some(0);
    }
    let want_chars = want.chars().count();
    let budget = typo_budget(want_chars.min(have_chars));
    if budget == 0 || want_chars.abs_diff(have_chars) > budget {
        return None;
    }
    osa_within(want, want_chars, have, have_chars, budget)
}

/// Edits allowed in a word of `len` letters: short words must be exact.
fn typo_budget(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Optimal-string-alignment distance, giving up (`None`) beyond `limit`.
/// Words of up to [`SHORT_WORD`] characters are compared on the stack (it
/// runs for every fuzzy trie step of every parse).
#[cfg(test)]
fn damerau_levenshtein(a: &str, b: &str, limit: usize) -> Option<usize> {
    osa_within(a, a.chars().count(), b, b.chars().count(), limit)
}

/// [`damerau_levenshtein`] of words `a_len` and `b_len` characters long.
fn osa_within(a: &str, a_len: usize, b: &str, b_len: usize, limit: usize) -> Option<usize> {
    let mut a_buf = ['\0'; SHORT_WORD];
    let mut b_buf = ['\0'; SHORT_WORD];
    if a_len.abs_diff(b_len) > limit {
        return None;
    }
    if a_len <= SHORT_WORD && b_len <= SHORT_WORD {
        for (slot, c) in a_buf.iter_mut().zip(a.chars()) {
            *slot = c;
        }
        for (slot, c) in b_buf.iter_mut().zip(b.chars()) {
            *slot = c;
        }
        let mut rows = [[0usize; SHORT_WORD + 1]; 3];
        osa_distance(&a_buf[..a_len], &b_buf[..b_len], limit, &mut rows)
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let row = || vec![0usize; b.len() + 1];
        osa_distance(&a, &b, limit, &mut [row(), row(), row()])
    }
}

/// Longest word compared without allocating.
const SHORT_WORD: usize = 32;

/// The distance over three rolling rows of at least `b.len() + 1` cells.
fn osa_distance<R: AsMut<[usize]>>(
    a: &[char],
    b: &[char],
    limit: usize,
    rows: &mut [R; 3],
) -> Option<usize> {
    for (j, cell) in rows[1].as_mut()[..=b.len()].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur].as_mut()[0] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[prev].as_mut()[j] + 1)
                .min(rows[cur].as_mut()[j - 1] + 1)
                .min(rows[prev].as_mut()[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[prev2].as_mut()[j - 2] + 1);
            }
            rows[cur].as_mut()[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return None;
        }
    }
    let distance = rows[a.len() % 3].as_mut()[b.len()];
    (distance <= limit).then_some(distance)
}

/// Index keys of a word: its folded form and, when long enough to allow a
/// typo, every one-letter deletion of it (two words one edit apart always
/// share a key). Keys are hashes: looking up allocates nothing.
fn deletion_keys(word: &str, keys: &mut Vec<u64>) {
    keys.push(hash_word(word.chars()));
    let len = word.chars().count();
    if typo_budget(len) > 0 {
        for skip in 0..len {
            let chars = word
                .chars()
                .enumerate()
                .filter(move |&(i, _)| i != skip)
                .map(|(_, c)| c);
            keys.push(hash_word(chars));
        }
    }
}

fn hash_word(chars: impl Iterator<Item = char>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in chars {
        h = (h ^ c as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::CustomValue;

    fn types() -> Vec<CustomFieldType> {
        let value = |v: &str, of: Option<&str>| CustomValue {
            value: v.into(),
            synonym_of: of.map(Into::into),
        };
        vec![
            CustomFieldType {
                name: "Pizza.SIZE".into(),
                values: vec![
                    value("large", None),
                    value("small", None),
                    value("big", Some("large")),
                    value("extra large", None),
                    value("Neapolitan style", None),
                ],
            },
            CustomFieldType {
                name: "Pizza.TOPPING".into(),
                values: vec![value("cheese", None), value("extra cheese", None)],
            },
        ]
    }

    fn find(text: &str) -> Vec<(String, String, usize)> {
        let gazetteer = Gazetteer::new(&types(), Language::English);
        let tokens = tokenize(text, Language::English);
        let stems = super::super::stems_of(&tokens, Language::English);
        gazetteer
            .find(&tokens, &stems, &[true, true])
            .into_iter()
            .map(|m| {
                (
                    text[tokens[m.first].start..tokens[m.last].end].to_string(),
                    gazetteer.canonical(m.value).to_string(),
                    m.field_type,
                )
            })
            .collect()
    }

    #[test]
    fn finds_values_and_resolves_synonyms() {
        assert_eq!(find("a BIG one"), [("BIG".into(), "large".into(), 0)]);
        assert_eq!(
            find("two smalls please"),
            [("smalls".into(), "small".into(), 0)]
        );
    }

    #[test]
    fn prefers_the_longest_value_per_type_at_each_start() {
        assert_eq!(
            find("extra large with extra cheese"),
            [
                ("extra large".into(), "extra large".into(), 0),
                ("large".into(), "large".into(), 0),
                ("extra cheese".into(), "extra cheese".into(), 1),
                ("cheese".into(), "cheese".into(), 1),
            ]
        );
    }

    #[test]
    fn tolerates_typos_in_long_words_only() {
        assert_eq!(find("a lrage pizza"), [("lrage".into(), "large".into(), 0)]);
        assert_eq!(
            find("neapolitain stlye"),
            [("neapolitain stlye".into(), "Neapolitan style".into(), 0)]
        );
        assert!(find("a bug").is_empty(), "three letters allow no typo");
    }

    #[test]
    fn only_wanted_types_match() {
        let gazetteer = Gazetteer::new(&types(), Language::English);
        let tokens = tokenize("large cheese", Language::English);
        let stems = super::super::stems_of(&tokens, Language::English);
        let found = gazetteer.find(&tokens, &stems, &[false, true]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field_type, 1);
    }

    #[test]
    fn values_used_as_ordinary_words_are_marked() {
        let mut gazetteer = Gazetteer::new(&types(), Language::English);
        let tokens = tokenize("a small cheese pizza", Language::English);
        let stems = super::super::stems_of(&tokens, Language::English);
        // "cheese" is the field here; "small" is used as an ordinary word.
        gazetteer.learn_ordinary(&tokens, &stems, &[(2, 2)]);
        let found = gazetteer.find(&tokens, &stems, &[true, true]);
        let ordinary: Vec<(usize, bool)> = found.iter().map(|m| (m.first, m.ordinary)).collect();
        assert_eq!(ordinary, [(1, true), (2, false)]);
    }

    #[test]
    fn resolves_whole_answers() {
        let gazetteer = Gazetteer::new(&types(), Language::English);
        assert_eq!(gazetteer.resolve(0, "Big!"), Some("large"));
        assert_eq!(gazetteer.resolve(0, "big pizza"), None);
        assert_eq!(gazetteer.resolve(0, ""), None);
        assert_eq!(gazetteer.resolve(1, "big"), None);
        assert_eq!(gazetteer.resolve(7, "big"), None);
        assert_eq!(gazetteer.type_index("Pizza.TOPPING"), Some(1));
    }

    #[test]
    fn a_span_of_a_parsed_utterance_resolves_as_its_text_does() {
        let gazetteer = Gazetteer::new(&types(), Language::English);
        let tokens = tokenize("one Big! pizza please", Language::English);
        let stems = super::super::stems_of(&tokens, Language::English);
        // "Big!": tokens 1 and 2, as a tagged span would cover them.
        let (span, span_stems) = (&tokens[1..3], &stems[1..3]);
        assert_eq!(gazetteer.resolve(0, "Big!"), Some("large"));
        assert_eq!(gazetteer.resolve_tokens(0, span, span_stems), Some("large"));
        assert_eq!(
            gazetteer.resolve_tokens(0, &tokens[1..4], &stems[1..4]),
            None
        );
        assert_eq!(gazetteer.resolve_tokens(0, &[], &[]), None);
    }

    #[test]
    fn cached_words_find_the_same_values() {
        let mut types = types();
        let value = |v: &str| CustomValue {
            value: v.into(),
            synonym_of: None,
        };
        types[1].values.extend([
            value("chese"),
            value("cheeses"),
            value("larges"),
            value("lager"),
        ]);
        let plain = Gazetteer::new(&types, Language::English);
        let mut cached = plain.clone();
        cached.cache_words([
            "large",
            "lrage",
            "chees",
            "cheese",
            "extra",
            "pizza",
            "neapolitain",
        ]);
        assert!(!cached.near_first_words.index.is_empty());
        assert_eq!(cached.node_chars.len(), cached.nodes.len());
        for text in [
            "a lrage pizza with extra chees",
            "large large lager, cheese and chese",
            "neapolitain stlye extra larg cheeses",
            // Typos in later words: the children searched by length first.
            "extra lrage, extra largeee, extra lar, neapolitan styel, neapolitan st",
            "nothing here at all",
        ] {
            let tokens = tokenize(text, Language::English);
            let stems = super::super::stems_of(&tokens, Language::English);
            for wanted in [[true, true], [false, true], [true, false]] {
                assert_eq!(
                    cached.find(&tokens, &stems, &wanted),
                    plain.find(&tokens, &stems, &wanted),
                    "{text:?}"
                );
            }
        }
        // Not stored.
        let bytes = postcard::to_stdvec(&cached).unwrap();
        let back: Gazetteer = postcard::from_bytes(&bytes).unwrap();
        assert!(back.near_first_words.index.is_empty() && back.node_chars.is_empty());
    }

    #[test]
    fn distance_is_bounded() {
        assert_eq!(damerau_levenshtein("large", "lrage", 2), Some(1));
        assert_eq!(damerau_levenshtein("kitten", "sitting", 3), Some(3));
        assert_eq!(damerau_levenshtein("kitten", "sitting", 1), None);
    }
}
