//! `Twilio.FIRST_NAME` and `Twilio.LAST_NAME` → the name, capitalised.
//!
//! Evidence, strongest first: a cue ("my name is", "me llamo", "je m'appelle", "ich heiße",
//! "mi chiamo", "meu nome é", "last name is", "Mr."); a name from the embedded lists of
//! given names and surnames; a capital letter. Names that are also common words ("Will",
//! "Rose", "Brown", "Luz") need a cue or a capital inside the sentence. A surname is looked
//! for right after a given name ("John Smith", "Maria da Silva").

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::data;
use crate::phrases::{ALL_LANGS, Phrases, bit, with_english};
use crate::places;
use crate::text::{Kind, Toks, title_case};
use crate::{Cand, Lang, Mode};

struct Lists {
    first: HashSet<String>,
    last: HashSet<String>,
}

static LISTS: LazyLock<Lists> = LazyLock::new(|| Lists {
    first: data::words(data::FIRST_NAMES)
        .map(crate::text::fold)
        .collect(),
    last: data::words(data::LAST_NAMES)
        .map(crate::text::fold)
        .collect(),
});

/// Names that are also everyday words in one of our languages.
const COMMON_WORDS: &[&str] = &[
    // English
    "will",
    "mark",
    "frank",
    "guy",
    "max",
    "bill",
    "rose",
    "grace",
    "hope",
    "joy",
    "faith",
    "summer",
    "autumn",
    "april",
    "may",
    "june",
    "august",
    "dawn",
    "crystal",
    "amber",
    "ruby",
    "pearl",
    "iris",
    "ivy",
    "daisy",
    "violet",
    "lily",
    "penny",
    "sandy",
    "candy",
    "misty",
    "cherry",
    "jewel",
    "charity",
    "gay",
    "fern",
    "olive",
    "angel",
    "chase",
    "rusty",
    "buddy",
    "junior",
    "sterling",
    "grant",
    "bob",
    "chuck",
    "rob",
    "don",
    "dean",
    "drew",
    "pat",
    "sue",
    "jack",
    "cliff",
    "rod",
    "clay",
    "van",
    "rocky",
    "ward",
    "miles",
    "rex",
    "hal",
    "lee",
    "ray",
    "dale",
    "glen",
    "lance",
    "art",
    "carol",
    "earl",
    "king",
    "major",
    "page",
    "hunter",
    "hazel",
    "heather",
    "holly",
    "ginger",
    "honey",
    "sunny",
    "star",
    "winter",
    "robin",
    "young",
    "queen",
    "son",
    "brain",
    "wm",
    "ed",
    "al",
    "ben",
    "jan",
    "kitty",
    "brown",
    "white",
    "black",
    "green",
    "gray",
    "grey",
    "hill",
    "wood",
    "woods",
    "hall",
    "long",
    "rice",
    "little",
    "price",
    "day",
    "love",
    "west",
    "park",
    "bell",
    "cook",
    "stone",
    "bird",
    "fox",
    "wolf",
    "lamb",
    "bush",
    "moss",
    "wells",
    "banks",
    "rivers",
    "fields",
    "lake",
    "marsh",
    "read",
    "reed",
    "rich",
    "street",
    "short",
    "strong",
    "sharp",
    "small",
    "best",
    "good",
    "bright",
    "law",
    "cash",
    "case",
    "frost",
    "snow",
    "storm",
    "march",
    "duke",
    "prince",
    "bishop",
    "pope",
    "church",
    "gates",
    "house",
    "mills",
    "sun",
    "moon",
    "power",
    "powers",
    "noble",
    "wise",
    "swift",
    "new",
    "english",
    "french",
    "german",
    "way",
    "hay",
    "bond",
    "money",
    "gold",
    "silver",
    "hunt",
    "fish",
    "salt",
    "cross",
    "ball",
    "bull",
    "bear",
    "buck",
    "crane",
    "hawk",
    "lord",
    "knight",
    "baker",
    "carpenter",
    "mason",
    "fisher",
    "cooper",
    "porter",
    "butler",
    "miller",
    "turner",
    "taylor",
    "carter",
    "archer",
    "barber",
    "shepherd",
    "walker",
    "parker",
    "ok",
    "sky",
    "river",
    "can",
    "do",
    "go",
    "so",
    "no",
    "yes",
    "le",
    "la",
    "de",
    "ho",
    "ma",
    "he",
    "han",
    "oh",
    "song",
    "nam",
    "sen",
    "das",
    "the",
    "an",
    "see",
    "tell",
    "call",
    // Spanish, Portuguese, Italian, French, German
    "luz",
    "rosa",
    "blanca",
    "dolores",
    "paz",
    "mercedes",
    "consuelo",
    "esperanza",
    "socorro",
    "amparo",
    "rosario",
    "pilar",
    "mar",
    "sol",
    "cruz",
    "santos",
    "reyes",
    "flores",
    "lima",
    "costa",
    "leon",
    "castillo",
    "campos",
    "vega",
    "mesa",
    "soto",
    "rios",
    "fuentes",
    "sierra",
    "luna",
    "blanco",
    "moreno",
    "rubio",
    "bravo",
    "guerra",
    "prado",
    "pinto",
    "rocha",
    "franco",
    "leal",
    "cordero",
    "lobo",
    "gallo",
    "pastor",
    "linda",
    "clara",
    "bella",
    "gloria",
    "alba",
    "victoria",
    "aurora",
    "nieves",
    "flor",
    "serena",
    "felice",
    "pierre",
    "claire",
    "blanche",
    "petit",
    "blanc",
    "brun",
    "roy",
    "roche",
    "moulin",
    "paris",
    "ernst",
    "klein",
    "fuchs",
    "vogel",
    "koch",
    "richter",
    "kaiser",
    "konig",
    "jung",
    "lang",
    "lange",
    "stein",
    "sommer",
    "engel",
    "busch",
    "horn",
    "schwarz",
    "braun",
    "weiss",
    "roth",
    "gross",
    "silva",
    "dias",
    "reis",
    "neves",
    "leite",
    "ramos",
    "testa",
    "monti",
    "villa",
    "fiore",
    "neri",
    "conti",
    "bianco",
    "greco",
    "romano",
    "marino",
    "serra",
    "sala",
    "mora",
    "gil",
    "parra",
    "vidal",
];

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| COMMON_WORDS.iter().copied().collect());

/// Phrases before a given name; `true` when strong enough to trust any word after it.
const FIRST_CUES: [(Lang, &[(&str, bool)]); 6] = [
    (
        Lang::En,
        &[
            ("my name is", true),
            ("my name's", true),
            ("name is", true),
            ("name's", true),
            ("my first name is", true),
            ("first name is", true),
            ("call me", true),
            ("you can call me", true),
            ("i am", false),
            ("i'm", false),
            ("im", false),
            ("this is", false),
            ("it's", false),
        ],
    ),
    (
        Lang::Es,
        &[
            ("me llamo", true),
            ("mi nombre es", true),
            ("mi primer nombre es", true),
            ("llamame", true),
            ("soy", false),
            ("yo soy", false),
        ],
    ),
    (
        Lang::Fr,
        &[
            ("je m'appelle", true),
            ("je m appelle", true),
            ("mon nom est", true),
            ("mon prenom est", true),
            ("appelle-moi", true),
            ("appelez-moi", true),
            ("je suis", false),
            ("c'est", false),
            ("moi c'est", true),
        ],
    ),
    (
        Lang::De,
        &[
            ("ich heisse", true),
            ("mein name ist", true),
            ("mein vorname ist", true),
            ("nenn mich", true),
            ("nennen sie mich", true),
            ("ich bin", false),
            ("hier ist", false),
        ],
    ),
    (
        Lang::It,
        &[
            ("mi chiamo", true),
            ("il mio nome e", true),
            ("chiamami", true),
            ("sono", false),
            ("io sono", false),
        ],
    ),
    (
        Lang::Pt,
        &[
            ("meu nome e", true),
            ("me chamo", true),
            ("meu primeiro nome e", true),
            ("pode me chamar de", true),
            ("me chame de", true),
            ("eu sou", false),
            ("sou", false),
            ("aqui e", false),
        ],
    ),
];

/// Phrases before a surname.
const LAST_CUES: [(Lang, &[&str]); 6] = [
    (
        Lang::En,
        &[
            "last name is",
            "my last name is",
            "surname is",
            "my surname is",
            "family name is",
            "my family name is",
            "last name",
            "surname",
        ],
    ),
    (
        Lang::Es,
        &[
            "mi apellido es",
            "apellido es",
            "apellido",
            "mis apellidos son",
        ],
    ),
    (
        Lang::Fr,
        &[
            "mon nom de famille est",
            "nom de famille est",
            "nom de famille",
        ],
    ),
    (Lang::De, &["mein nachname ist", "nachname ist", "nachname"]),
    (Lang::It, &["il mio cognome e", "cognome e", "cognome"]),
    (
        Lang::Pt,
        &[
            "meu sobrenome e",
            "sobrenome e",
            "sobrenome",
            "meu apelido e",
        ],
    ),
];

/// Titles before a surname ("Mr. Smith", "Frau Müller").
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mister",
    "dr",
    "doctor",
    "prof",
    "professor",
    "senor",
    "sr",
    "sra",
    "senora",
    "srta",
    "senorita",
    "don",
    "dona",
    "monsieur",
    "mme",
    "madame",
    "mlle",
    "herr",
    "frau",
    "signor",
    "signore",
    "signora",
    "sig",
    "senhor",
    "senhora",
    "dra",
];

/// Surname particles ("da Silva", "van der Berg", "de la Cruz").
const PARTICLES: &[&str] = &[
    "de", "del", "della", "da", "das", "do", "dos", "di", "du", "van", "von", "der", "den", "la",
    "le", "st", "saint", "mac", "ter", "ten", "zu",
];

static FIRST_CUE_INDEX: LazyLock<Phrases<bool>> = LazyLock::new(|| {
    let mut p = Phrases::new();
    for (lang, cues) in FIRST_CUES {
        for (c, strong) in cues {
            p.insert(c, *strong, bit(lang), false);
        }
    }
    p
});

static LAST_CUE_INDEX: LazyLock<Phrases<()>> = LazyLock::new(|| {
    let mut p = Phrases::new();
    for (lang, cues) in LAST_CUES {
        for c in cues {
            p.insert(c, (), bit(lang), false);
        }
    }
    p
});

/// A word that can be (part of) a name: letters, two or more ("O'Brien" counts).
fn name_word(toks: &Toks, i: usize) -> bool {
    toks.kind(i) == Some(Kind::Word)
        && (toks.norm(i).chars().count() >= 2
            || (matches!(toks.norm(i), "o" | "d" | "l")
                && toks.is_punct(i + 1, '\'')
                && toks.glued(i + 1)
                && toks.glued(i + 2)
                && toks.is_word(i + 2)))
}

/// Words that are never a name in an answer: pronouns, verbs and particles of speech.
const FUNCTION_WORDS: &[&str] = &[
    "i", "you", "he", "she", "it", "we", "they", "me", "him", "her", "us", "them", "my", "your",
    "his", "its", "our", "their", "a", "an", "the", "this", "that", "these", "those", "is", "are",
    "was", "were", "be", "been", "am", "do", "does", "did", "not", "dont", "can", "could", "would",
    "should", "will", "shall", "may", "might", "must", "have", "has", "had", "what", "who", "whom",
    "whose", "which", "when", "where", "why", "how", "yes", "no", "ok", "okay", "sure", "maybe",
    "please", "thanks", "thank", "hello", "hi", "hey", "bye", "and", "or", "but", "if", "then",
    "so", "to", "of", "in", "on", "at", "for", "from", "with", "about", "by", "as", "sorry", "idk",
    "know", "sure", "later", "nothing", "none", "nobody", "want", "need", "like", "just", "call",
    "name", "first", "last", "surname", "again", "el", "la", "los", "las", "un", "una", "yo", "tu",
    "que", "como", "por", "para", "con", "sin", "pero", "se", "lo", "le", "les", "mi", "su", "es",
    "soy", "no", "nombre", "llamo", "je", "tu", "il", "elle", "nous", "vous", "ils", "c'est",
    "est", "suis", "pas", "ne", "moi", "mon", "ma", "nom", "et", "ou", "du", "des", "ich", "du",
    "er", "sie", "es", "wir", "ihr", "bin", "ist", "nicht", "kein", "mein", "name", "und", "oder",
    "der", "die", "das", "ein", "eine", "io", "lui", "lei", "noi", "voi", "loro", "sono", "non",
    "mio", "il", "lo", "gli", "e", "eu", "ele", "ela", "nos", "voce", "sou", "nao", "meu", "minha",
    "o", "os", "as",
];

static FUNCTION: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| FUNCTION_WORDS.iter().copied().collect());

fn is_function_word(w: &str) -> bool {
    FUNCTION.contains(w)
}

/// A name at token `i`, with hyphenated parts ("Jean-Pierre"): token past it.
fn name_end(toks: &Toks, i: usize) -> usize {
    let mut end = i + 1;
    while toks.is_punct(end, '-')
        && toks.glued(end)
        && toks.glued(end + 1)
        && name_word(toks, end + 1)
    {
        end += 2;
    }
    // "O'Brien", "D'Angelo"
    if end == i + 1
        && toks.norm(i).len() == 1
        && toks.is_punct(end, '\'')
        && toks.glued(end)
        && toks.glued(end + 1)
        && name_word(toks, end + 1)
    {
        end += 2;
    }
    end
}

fn is_first(w: &str) -> bool {
    LISTS.first.contains(w)
}

fn is_last(w: &str) -> bool {
    LISTS.last.contains(w)
}

fn is_common(w: &str) -> bool {
    COMMON.contains(w)
}

/// The name tokens `i..end`, capitalised; inner particles stay lowercase unless written
/// otherwise ("da Silva", "De Luca").
fn value(toks: &Toks, i: usize, end: usize) -> String {
    let mut out = String::new();
    let mut k = i;
    while k < end {
        if k > i && !toks.glued(k) {
            out.push(' ');
        }
        let raw = toks.raw(k);
        let particle = toks.is_any(k, PARTICLES) && k + 1 < end && !toks.glued(k + 1);
        if particle {
            if raw.chars().any(char::is_uppercase) && k == i {
                out.push_str(&title_case(raw));
            } else {
                out.push_str(&raw.to_lowercase());
            }
            k += 1;
            continue;
        }
        // A glued run ("Jean-Pierre", "O'Brien") is capitalised as a whole.
        let mut e = k + 1;
        while e < end && toks.glued(e) {
            e += 1;
        }
        let (s, se) = toks.span(k, e);
        out.push_str(&title_case(&toks.text[s..se]));
        k = e;
    }
    out
}

/// Would a word at `i` be taken for a name, given how it was introduced?
fn plausible(toks: &Toks, i: usize, known: bool, strong_cue: bool, weak_cue: bool) -> bool {
    if !name_word(toks, i) {
        return false;
    }
    let w = toks.norm(i);
    let t = toks.toks[i];
    let capital = t.cap && toks.case_informative();
    if strong_cue {
        return !crate::yes_no_word(w) && !is_function_word(w);
    }
    if weak_cue {
        return (known && !is_common(w)) || (capital && !is_common(w)) || (known && capital);
    }
    if is_common(w) {
        return capital && i > 0 && known;
    }
    known && (capital || !toks.case_informative() || t.upper)
}

/// A surname starting at token `i` (after a given name, a cue or a title), with particles.
fn surname_at(toks: &Toks, i: usize, strong: bool) -> Option<usize> {
    let mut j = i;
    // Particles: "da Silva", "van der Berg".
    while toks.is_any(j, PARTICLES) && name_word(toks, j + 1) && j < i + 3 {
        j += 1;
    }
    if !name_word(toks, j) {
        return None;
    }
    let w = toks.norm(j);
    let t = toks.toks[j];
    let capital = t.cap && toks.case_informative();
    let ok = if strong {
        !crate::yes_no_word(w)
    } else {
        (is_last(w) && (!is_common(w) || capital)) || (capital && !is_common(w))
    };
    ok.then(|| name_end(toks, j))
}

/// Given names in the text.
pub(crate) fn find_first(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let langs = with_english(lang);
    let mut i = 0;
    while i < toks.len() {
        if let Some(cue) = FIRST_CUE_INDEX.at(toks, i, langs) {
            let j = cue.end;
            let known = is_first(toks.norm(j));
            if plausible(toks, j, known, cue.value, !cue.value) {
                let end = name_end(toks, j);
                out.push(Cand::new(j, end, value(toks, j, end)));
                i = end;
                continue;
            }
        }
        let known = is_first(toks.norm(i));
        let after_title = i > 0 && toks.is_any(i - 1, TITLES)
            || (i > 1 && toks.is_punct(i - 1, '.') && toks.is_any(i - 2, TITLES));
        let place = i > 0 && places::is_place_at(toks, i);
        // "May 5th", "June 2027": a month, not a name.
        let dated = toks.is_num(i + 1) || (i > 0 && toks.is_num(i - 1));
        if known
            && !after_title
            && !place
            && !dated
            && (plausible(toks, i, true, false, false) || mode == Mode::Answer)
        {
            let end = name_end(toks, i);
            out.push(Cand::new(i, end, value(toks, i, end)));
            i = end;
            continue;
        }
        i += 1;
    }
}

/// Surnames in the text.
pub(crate) fn find_last(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let langs = with_english(lang);
    let mut i = 0;
    while i < toks.len() {
        // "my last name is X"
        if let Some(cue) = LAST_CUE_INDEX.at(toks, i, langs)
            && let Some(end) = surname_at(toks, cue.end, true)
        {
            out.push(Cand::new(cue.end, end, value(toks, cue.end, end)));
            i = end;
            continue;
        }
        // "Mr. Smith"
        if toks.is_any(i, TITLES) {
            let j = if toks.is_punct(i + 1, '.') {
                i + 2
            } else {
                i + 1
            };
            if let Some(end) = surname_at(toks, j, mode == Mode::Answer) {
                out.push(Cand::new(j, end, value(toks, j, end)));
                i = end;
                continue;
            }
        }
        // "my name is John Smith", "John Smith"
        let cue = FIRST_CUE_INDEX.at(toks, i, langs);
        let j = cue.map_or(i, |c| c.end);
        let strong = cue.is_some_and(|c| c.value);
        if name_word(toks, j) && (is_first(toks.norm(j)) || strong) {
            let first_end = name_end(toks, j);
            if let Some(end) = surname_at(toks, first_end, false) {
                out.push(Cand::new(first_end, end, value(toks, first_end, end)));
                i = end;
                continue;
            }
        }
        // A known surname on its own, capitalised.
        let w = toks.norm(i);
        if is_last(w)
            && !is_first(w)
            && !is_common(w)
            && toks.toks[i].cap
            && toks.case_informative()
            && !places::is_place_at(toks, i)
        {
            let end = name_end(toks, i);
            out.push(Cand::new(i, end, value(toks, i, end)));
            i = end;
            continue;
        }
        i += 1;
    }
}

/// The given name of a whole answer: its first name-like word ("john smith" → "John").
pub(crate) fn first_answer(toks: &Toks) -> Option<String> {
    let words: Vec<usize> = (0..toks.len())
        .filter(|&i| toks.kind(i) != Some(Kind::Punct))
        .collect();
    let &i = words.first()?;
    let w = toks.norm(i);
    if toks.is_any(i, TITLES) || !name_word(toks, i) || crate::yes_no_word(w) || is_function_word(w)
    {
        return None;
    }
    // A sentence is not a name unless it starts with a known one.
    if words.len() > 3 && !is_first(w) {
        return None;
    }
    let end = name_end(toks, i);
    Some(value(toks, i, end))
}

/// The surname of a whole answer: after a known given name, else all its name words
/// ("Smith", "da Silva", "García López").
pub(crate) fn last_answer(toks: &Toks) -> Option<String> {
    let words: Vec<usize> = (0..toks.len())
        .filter(|&i| toks.kind(i) != Some(Kind::Punct))
        .collect();
    let &first = words.first()?;
    // Only name punctuation: "García-López", "O'Brien", "Mr. Smith", a final period.
    let odd_punct = (0..toks.len()).any(|k| {
        toks.kind(k) == Some(Kind::Punct)
            && !(matches!(toks.norm(k), "-" | "'" | ",")
                || (toks.norm(k) == "." && (k + 1 == toks.len() || !toks.glued(k + 1))))
    });
    if odd_punct {
        return None;
    }
    let particle = |i: usize| toks.is_any(i, PARTICLES);
    if words
        .iter()
        .any(|&i| !particle(i) && (!name_word(toks, i) || is_function_word(toks.norm(i))))
    {
        return None;
    }
    if words.len() > 4 || crate::yes_no_word(toks.norm(first)) {
        return None;
    }
    let mut start = first;
    if toks.is_any(start, TITLES) {
        start = words.get(1).copied()?;
    } else if words.len() >= 2 && is_first(toks.norm(first)) {
        start = name_end(toks, first);
        start = words.iter().copied().find(|&w| w >= start)?;
    }
    let end = *words.last()? + 1;
    let end = name_end(toks, end - 1).max(end);
    Some(value(toks, start, end))
}

/// Used by the cue check: all-language index of cue words (kept for answers).
pub(crate) fn strip_cue(toks: &Toks) -> usize {
    let mut i = 0;
    loop {
        let first = FIRST_CUE_INDEX.at(toks, i, ALL_LANGS).map(|h| h.end);
        let last = LAST_CUE_INDEX.at(toks, i, ALL_LANGS).map(|h| h.end);
        match first.max(last) {
            Some(end) if end > i => i = end,
            _ => return i,
        }
        while toks.is_punct(i, ',') || toks.is_punct(i, ':') {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&Toks, Lang, Mode, &mut Vec<Cand>), text: &str, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        f(&Toks::new(text), lang, Mode::Find, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    #[test]
    fn given_names() {
        assert_eq!(run(find_first, "my name is john", Lang::En), ["John"]);
        assert_eq!(run(find_first, "Hi, I'm Xiaoling", Lang::En), ["Xiaoling"]);
        assert!(run(find_first, "Hi, I'm tired", Lang::En).is_empty());
        assert_eq!(
            run(find_first, "book a table for Sarah", Lang::En),
            ["Sarah"]
        );
        assert!(run(find_first, "Will you book it?", Lang::En).is_empty());
        assert_eq!(run(find_first, "me llamo maría", Lang::Es), ["María"]);
        assert_eq!(
            run(find_first, "je m'appelle Jean-Pierre", Lang::Fr),
            ["Jean-Pierre"]
        );
        assert_eq!(run(find_first, "ich heiße Jürgen", Lang::De), ["Jürgen"]);
        assert_eq!(
            run(find_first, "mi chiamo giuseppe", Lang::It),
            ["Giuseppe"]
        );
        assert_eq!(run(find_first, "meu nome é joão", Lang::Pt), ["João"]);
    }

    #[test]
    fn surnames() {
        assert_eq!(run(find_last, "my name is John Smith", Lang::En), ["Smith"]);
        assert_eq!(
            run(find_last, "my last name is o'brien", Lang::En),
            ["O'Brien"]
        );
        assert_eq!(run(find_last, "ask for Mr. Garcia", Lang::En), ["Garcia"]);
        assert_eq!(run(find_last, "Maria da Silva", Lang::Pt), ["da Silva"]);
        assert!(run(find_last, "the brown dog", Lang::En).is_empty());
    }
}
