//! Static word vectors: what a word means, roughly, before any training.
//!
//! The vectors were distilled from all-MiniLM-L6-v2 (Apache-2.0): every
//! WordPiece token of its vocabulary was run through the model on its own,
//! the outputs reduced to 128 dimensions (PCA) and quantised to one byte
//! each (`bench/research/distill_static.py` rebuilds the file; the method
//! and what it is worth are in `bench/research/REPORT.md`). A word's vector
//! is the mean of its pieces' vectors. They give the classifier a sense of
//! synonyms its training samples never showed, and the field tagger word
//! clusters and a measure of how much a word looks like a field's values.
//!
//! English only: the model and its vocabulary are English.

use std::sync::{LazyLock, RwLock};

use std::sync::atomic::{AtomicU16, Ordering};

use rustc_hash::FxHashMap;

use crate::text::Language;

/// Identifies the vector file; stored in models that use it, so a model is
/// never read with other vectors than it was trained with.
pub const RESOURCE_ID: &str = "minilm-l6-static-128/1";

const MAGIC: &[u8; 8] = b"OTTOSTV1";

/// [`StaticVectors::piece_clusters`] of a piece not looked at yet.
const NOT_YET: u16 = u16::MAX;

/// The most dimensions a vector file may have (callers sum on the stack).
pub const MAX_DIMS: usize = 512;
static ENGLISH_BYTES: &[u8] = include_bytes!("../resources/minilm-l6-static-128.bin");
static ENGLISH: LazyLock<StaticVectors> = LazyLock::new(|| {
    StaticVectors::parse(ENGLISH_BYTES).expect("the embedded vector file is valid")
});

/// The static vectors for a language, if otto has them.
pub fn for_language(language: Language) -> Option<&'static StaticVectors> {
    (language == Language::English).then(|| &*ENGLISH)
}

/// Word-piece vectors, quantised, with word clusters.
pub struct StaticVectors {
    dims: usize,
    pieces: FxHashMap<String, u32>,
    unknown: u32,
    /// `count × dims` bytes; a vector is `bytes × scale`.
    bytes: Vec<i8>,
    scales: Vec<f32>,
    /// `clusters × dims`, unit length.
    centroids: Vec<f32>,
    /// The nearest centroid of each piece (a one-piece word's cluster),
    /// [`NOT_YET`] until first asked for: a whole table costs 30,522 × 256 ×
    /// 128 multiply-adds (most of training a small assistant), and an
    /// assistant's words use a few thousand pieces.
    piece_clusters: Vec<AtomicU16>,
    /// The clusters of words of several pieces met so far (a nearest
    /// centroid costs 256 × 128 multiply-adds: a third of a parse with
    /// fields when computed every time), up to [`MAX_CACHED_WORDS`].
    word_clusters: RwLock<FxHashMap<Box<str>, u16>>,
}

/// Most multi-piece words whose cluster is remembered.
const MAX_CACHED_WORDS: usize = 100_000;

/// A problem in a vector file.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the static vector file is damaged: {0}")]
pub struct VectorFileError(&'static str);

impl StaticVectors {
    fn parse(bytes: &[u8]) -> Result<StaticVectors, VectorFileError> {
        if bytes.len() < 20 || &bytes[..8] != MAGIC {
            return Err(VectorFileError("bad magic bytes"));
        }
        let u32_at =
            |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let (count, dims, clusters) = (u32_at(8), u32_at(12), u32_at(16));
        let vectors_end = 20 + count * dims;
        let scales_end = vectors_end + 4 * count;
        let centroids_end = scales_end + 4 * clusters * dims;
        if bytes.len() < centroids_end
            || dims == 0
            || dims > MAX_DIMS
            || clusters >= NOT_YET as usize
        {
            return Err(VectorFileError("truncated"));
        }
        let f32s = |range: std::ops::Range<usize>| -> Vec<f32> {
            bytes[range]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect()
        };
        let text = std::str::from_utf8(&bytes[centroids_end..])
            .map_err(|_| VectorFileError("the vocabulary is not UTF-8"))?;
        let pieces: FxHashMap<String, u32> = text
            .split('\n')
            .take(count)
            .enumerate()
            .map(|(i, piece)| (piece.to_string(), i as u32))
            .collect();
        let vectors = StaticVectors {
            dims,
            unknown: *pieces
                .get("[UNK]")
                .ok_or(VectorFileError("no [UNK] piece"))?,
            pieces,
            bytes: bytes[20..vectors_end].iter().map(|&b| b as i8).collect(),
            scales: f32s(vectors_end..scales_end),
            centroids: f32s(scales_end..centroids_end),
            piece_clusters: (0..count).map(|_| AtomicU16::new(NOT_YET)).collect(),
            word_clusters: RwLock::new(FxHashMap::default()),
        };
        if vectors.centroids.is_empty() {
            return Err(VectorFileError("no clusters"));
        }
        Ok(vectors)
    }

    /// The cluster of one piece, computed once (racing threads compute the
    /// same value, so relaxed ordering is enough).
    fn piece_cluster(&self, piece: u32) -> u16 {
        let slot = &self.piece_clusters[piece as usize];
        match slot.load(Ordering::Relaxed) {
            NOT_YET => {
                let mut v = [0.0; MAX_DIMS];
                let v = &mut v[..self.dims];
                self.add_piece(piece, 1.0, v);
                let cluster = self.nearest_centroid(v);
                slot.store(cluster, Ordering::Relaxed);
                cluster
            }
            cluster => cluster,
        }
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn clusters(&self) -> usize {
        self.centroids.len() / self.dims
    }

    /// Adds `weight` times the vector of `word` (folded) to `out`: the mean
    /// of its WordPiece pieces.
    pub fn add_word(&self, word: &str, weight: f32, out: &mut [f32]) {
        let mut pieces = [0u32; 16];
        let count = self.word_pieces(word, &mut pieces);
        self.add_pieces(&pieces[..count], weight, out);
    }

    /// [`StaticVectors::add_word`] for a word already cut into `pieces`
    /// (from a [`PieceCache`]): the same sums.
    pub fn add_pieces(&self, pieces: &[u32], weight: f32, out: &mut [f32]) {
        let share = weight / pieces.len() as f32;
        for &piece in pieces {
            self.add_piece(piece, share, out);
        }
    }

    /// The cluster of `word`: the nearest of the file's centroids.
    pub fn cluster(&self, word: &str) -> u16 {
        let mut pieces = [0u32; 16];
        let count = self.word_pieces(word, &mut pieces);
        self.cluster_of_pieces(word, &pieces[..count])
    }

    /// [`StaticVectors::add_word`] and [`StaticVectors::cluster`] at once
    /// (the word is cut into pieces once, or not at all when `cache` has it).
    pub fn add_word_with_cluster(
        &self,
        word: &str,
        cache: Option<&PieceCache>,
        weight: f32,
        out: &mut [f32],
    ) -> u16 {
        let mut buffer = [0u32; 16];
        let pieces = match cache.and_then(|c| c.get(word)) {
            Some(pieces) => pieces,
            None => {
                let count = self.word_pieces(word, &mut buffer);
                &buffer[..count]
            }
        };
        self.add_pieces(pieces, weight, out);
        self.cluster_of_pieces(word, pieces)
    }

    fn cluster_of_pieces(&self, word: &str, pieces: &[u32]) -> u16 {
        if let [piece] = pieces {
            return self.piece_cluster(*piece);
        }
        let cached = |cache: &FxHashMap<Box<str>, u16>| cache.get(word).copied();
        if let Some(cluster) = cached(&self.word_clusters.read().unwrap_or_else(|e| e.into_inner()))
        {
            return cluster;
        }
        let mut v = [0.0; MAX_DIMS];
        let v = &mut v[..self.dims];
        for &piece in pieces {
            self.add_piece(piece, 1.0, v);
        }
        let cluster = self.nearest_centroid(v);
        let mut cache = self
            .word_clusters
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() < MAX_CACHED_WORDS {
            cache.insert(word.into(), cluster);
        }
        cluster
    }

    fn add_piece(&self, piece: u32, weight: f32, out: &mut [f32]) {
        let start = piece as usize * self.dims;
        let scale = self.scales[piece as usize] * weight;
        for (o, &b) in out.iter_mut().zip(&self.bytes[start..start + self.dims]) {
            *o += b as f32 * scale;
        }
    }

    fn nearest_centroid(&self, v: &[f32]) -> u16 {
        let mut best = (f32::NEG_INFINITY, 0u16);
        for (k, centroid) in self.centroids.chunks_exact(self.dims).enumerate() {
            let score = dot(centroid, v);
            if score > best.0 {
                best = (score, k as u16);
            }
        }
        best.1
    }

    /// BERT's WordPiece: the longest vocabulary piece from the start, then
    /// `##`-continuations; a word that cannot be cut is `[UNK]`. Words of
    /// more than 16 pieces (or 100 characters) are `[UNK]` too.
    fn word_pieces(&self, word: &str, out: &mut [u32; 16]) -> usize {
        // Most words are one piece: found without building anything.
        if let Some(&piece) = self.pieces.get(word) {
            out[0] = piece;
            return 1;
        }
        // Greedy longest match (WordPiece), on the stack: at most 100
        // characters of at most 4 bytes, after "##".
        let mut bounds = [0usize; 101];
        let mut chars = 0;
        for (i, _) in word.char_indices() {
            if chars == 100 {
                out[0] = self.unknown;
                return 1;
            }
            bounds[chars] = i;
            chars += 1;
        }
        if chars == 0 {
            out[0] = self.unknown;
            return 1;
        }
        bounds[chars] = word.len();
        let mut buffer = [0u8; 2 + 400];
        buffer[..2].copy_from_slice(b"##");
        let mut count = 0;
        let mut start = 0;
        while start < chars {
            let mut end = chars;
            let mut found = None;
            while start < end {
                let piece = &word[bounds[start]..bounds[end]];
                let key = if start == 0 {
                    piece
                } else {
                    buffer[2..2 + piece.len()].copy_from_slice(piece.as_bytes());
                    std::str::from_utf8(&buffer[..2 + piece.len()]).expect("char boundaries")
                };
                if let Some(&piece) = self.pieces.get(key) {
                    found = Some(piece);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(piece) if count < out.len() => {
                    out[count] = piece;
                    count += 1;
                    start = end;
                }
                _ => {
                    out[0] = self.unknown;
                    return 1;
                }
            }
        }
        count
    }
}

/// The word pieces of a vocabulary (say a model's training words), cut
/// once: a parse then finds a known word's pieces with one lookup by a
/// 64-bit hash of the word, where cutting it looks up the word (and, for
/// words of several pieces, each candidate piece) by string in the 30,522
/// pieces. Derived from the vocabulary, so never stored in a model; like
/// the model's other per-word caches it trusts the hash to tell words apart.
#[derive(Debug, Clone, Default)]
pub struct PieceCache {
    index: FxHashMap<u64, (u32, u32)>,
    pieces: Vec<u32>,
}

impl PieceCache {
    pub fn new<'a>(vectors: &StaticVectors, words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut cache = PieceCache::default();
        let mut buffer = [0u32; 16];
        for word in words {
            let key = Self::key(word);
            if cache.index.contains_key(&key) {
                continue;
            }
            let count = vectors.word_pieces(word, &mut buffer);
            let from = cache.pieces.len() as u32;
            cache.pieces.extend_from_slice(&buffer[..count]);
            cache.index.insert(key, (from, cache.pieces.len() as u32));
        }
        cache
    }

    fn key(word: &str) -> u64 {
        crate::fields::crf::hash::str(0x5741_4543_4553, word)
    }

    /// The pieces of `word`, if it is one of the vocabulary's.
    #[inline]
    pub fn get(&self, word: &str) -> Option<&[u32]> {
        if self.index.is_empty() {
            return None;
        }
        let &(a, b) = self.index.get(&Self::key(word))?;
        Some(&self.pieces[a as usize..b as usize])
    }
}

/// `a · b`, summed in eight lanes: the compiler keeps a plain sum in
/// order, one add at a time, and the nearest of 256 centroids took 40 µs.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `v / |v|` in place (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(word: &str) -> Vec<f32> {
        let vectors = for_language(Language::English).unwrap();
        let mut v = vec![0.0; vectors.dims()];
        vectors.add_word(word, 1.0, &mut v);
        normalize(&mut v);
        v
    }

    fn cosine(a: &str, b: &str) -> f32 {
        vector(a).iter().zip(vector(b)).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_embedded_file_reads() {
        let vectors = for_language(Language::English).unwrap();
        assert_eq!((vectors.dims(), vectors.clusters()), (128, 256));
        assert!(for_language(Language::Spanish).is_none());
    }

    #[test]
    fn words_are_cut_into_word_pieces() {
        let vectors = for_language(Language::English).unwrap();
        let mut pieces = [0u32; 16];
        assert_eq!(
            vectors.word_pieces("playlist", &mut pieces),
            2,
            "play ##list"
        );
        assert_eq!(vectors.word_pieces("music", &mut pieces), 1);
        assert_eq!(vectors.word_pieces("", &mut pieces), 1);
        assert_eq!(pieces[0], vectors.unknown);
        assert_eq!(vectors.word_pieces(&"a".repeat(150), &mut pieces), 1);
        assert_eq!(pieces[0], vectors.unknown);
    }

    #[test]
    fn similar_words_share_clusters_more_often() {
        let vectors = for_language(Language::English).unwrap();
        let cluster = |w: &str| vectors.cluster(w);
        assert_eq!(cluster("monday"), cluster("tuesday"));
        // A word of several pieces: computed, then remembered, the same.
        assert_eq!(cluster("playlist"), cluster("playlist"));
        let mut v = vec![0.0; vectors.dims()];
        assert_eq!(
            vectors.add_word_with_cluster("playlist", None, 1.0, &mut v),
            cluster("playlist")
        );
        let mut w = vec![0.0; vectors.dims()];
        vectors.add_word("playlist", 1.0, &mut w);
        assert_eq!(v, w);
        assert_ne!(cluster("monday"), cluster("pizza"));
        assert!(cluster("playlist") < 256);
    }

    #[test]
    fn cached_pieces_give_the_same_vectors_and_clusters() {
        let vectors = for_language(Language::English).unwrap();
        // One piece, several pieces, unknown characters, a repeat.
        let known = [
            "monday",
            "playlist",
            "unbelievably",
            "zzqx",
            "日本",
            "monday",
        ];
        let cache = PieceCache::new(vectors, known);
        for word in known {
            let mut buffer = [0u32; 16];
            let count = vectors.word_pieces(word, &mut buffer);
            assert_eq!(cache.get(word), Some(&buffer[..count]), "{word}");
            let (mut with, mut without) = (vec![0.5; vectors.dims()], vec![0.5; vectors.dims()]);
            let a = vectors.add_word_with_cluster(word, Some(&cache), 0.7, &mut with);
            let b = vectors.add_word_with_cluster(word, None, 0.7, &mut without);
            assert_eq!(a, b);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&with), bits(&without), "{word}");
            let mut plain = vec![0.5; vectors.dims()];
            vectors.add_word(word, 0.7, &mut plain);
            assert_eq!(bits(&plain), bits(&with), "{word}");
        }
        assert_eq!(cache.get("tuesday"), None);
        assert_eq!(PieceCache::default().get("monday"), None);
    }

    #[test]
    fn similar_words_are_close() {
        assert!(cosine("money", "cash") > cosine("money", "weather"));
        assert!(cosine("song", "music") > cosine("song", "restaurant"));
        assert!(cosine("paris", "london") > cosine("paris", "sing"));
    }

    #[test]
    fn damaged_files_are_refused() {
        assert_eq!(
            StaticVectors::parse(b"nope").err(),
            Some(VectorFileError("bad magic bytes"))
        );
        assert_eq!(
            StaticVectors::parse(&ENGLISH_BYTES[..1000]).err(),
            Some(VectorFileError("truncated"))
        );
    }
}
