//! Tokenisation and folding shared by every recogniser.
//!
//! Every parser works on the same token stream: words (letters), numbers (ASCII digit runs)
//! and single punctuation characters, each with its byte span in the original text and a
//! folded form (lowercase, Latin diacritics removed) used for table look-ups. Letters and
//! digits are split apart ("3pm" → `3` `pm`, "AB123" → `ab` `123`) and each token records
//! whether whitespace preceded it, so parsers can tell "3pm" from "3 pm" when it matters.

/// What a token is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A run of letters (any script).
    Word,
    /// A run of ASCII digits.
    Num,
    /// One character that is neither a letter, a digit nor whitespace.
    Punct,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Tok {
    /// Byte span in the original text (end exclusive), always on char boundaries.
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    /// No whitespace between this token and the previous one.
    pub glued: bool,
    /// The first letter is uppercase in the original ("Paris", "CA").
    pub cap: bool,
    /// Every letter is uppercase and there are at least two ("CA", "USA").
    pub upper: bool,
    /// Folded form, as a range of `Toks::norm`.
    n0: u32,
    n1: u32,
}

/// A tokenised utterance.
pub(crate) struct Toks<'a> {
    pub text: &'a str,
    norm: String,
    pub toks: Vec<Tok>,
    /// The text contains lowercase letters: if it does not (or has no uppercase at all),
    /// capitalisation carries no information.
    pub has_lower: bool,
    pub has_upper: bool,
}

impl<'a> Toks<'a> {
    pub fn new(text: &'a str) -> Toks<'a> {
        let mut t = Toks {
            text,
            norm: String::with_capacity(text.len() + 8),
            toks: Vec::with_capacity(text.len() / 3 + 1),
            has_lower: false,
            has_upper: false,
        };
        t.scan();
        t
    }

    fn scan(&mut self) {
        let text = self.text;
        let mut chars = text.char_indices().peekable();
        let mut prev_end = usize::MAX;
        while let Some((i, c)) = chars.next() {
            if c.is_whitespace() {
                continue;
            }
            let kind = class(c);
            let n0 = self.norm.len();
            let mut end = i + c.len_utf8();
            let (mut cap, mut lowers, mut uppers) = (false, 0usize, 0usize);
            match kind {
                Kind::Punct => fold_into(c, &mut self.norm),
                Kind::Num => {
                    self.norm.push(c);
                    while let Some(&(j, d)) = chars.peek() {
                        if !d.is_ascii_digit() {
                            break;
                        }
                        self.norm.push(d);
                        end = j + 1;
                        chars.next();
                    }
                }
                Kind::Word => {
                    cap = c.is_uppercase();
                    let mut add = |ch: char, norm: &mut String| {
                        if ch.is_uppercase() {
                            uppers += 1;
                        } else if ch.is_lowercase() {
                            lowers += 1;
                        }
                        fold_into(ch, norm);
                    };
                    add(c, &mut self.norm);
                    while let Some(&(j, d)) = chars.peek() {
                        if !(is_letter(d) || is_combining(d)) {
                            break;
                        }
                        add(d, &mut self.norm);
                        end = j + d.len_utf8();
                        chars.next();
                    }
                }
            }
            self.has_lower |= lowers > 0;
            self.has_upper |= uppers > 0;
            self.toks.push(Tok {
                start: i,
                end,
                kind,
                glued: prev_end == i,
                cap,
                upper: uppers >= 2 && lowers == 0,
                n0: n0 as u32,
                n1: self.norm.len() as u32,
            });
            prev_end = end;
        }
    }

    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// Folded form of token `i` ("" past the end).
    pub fn norm(&self, i: usize) -> &str {
        self.toks
            .get(i)
            .map_or("", |t| &self.norm[t.n0 as usize..t.n1 as usize])
    }

    /// Original text of token `i`.
    pub fn raw(&self, i: usize) -> &'a str {
        self.toks.get(i).map_or("", |t| &self.text[t.start..t.end])
    }

    pub fn kind(&self, i: usize) -> Option<Kind> {
        self.toks.get(i).map(|t| t.kind)
    }

    pub fn is_word(&self, i: usize) -> bool {
        self.kind(i) == Some(Kind::Word)
    }

    pub fn is_num(&self, i: usize) -> bool {
        self.kind(i) == Some(Kind::Num)
    }

    /// Token `i` is the punctuation character `c`.
    pub fn is_punct(&self, i: usize, c: char) -> bool {
        self.kind(i) == Some(Kind::Punct) && self.norm(i).starts_with(c)
    }

    /// Token `i` is a word whose folded form is one of `words`.
    pub fn is_any(&self, i: usize, words: &[&str]) -> bool {
        self.is_word(i) && words.contains(&self.norm(i))
    }

    /// Token `i` exists and follows the previous one without whitespace.
    pub fn glued(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.glued)
    }

    /// Byte span covering tokens `first..end` (end exclusive, `end > first`).
    pub fn span(&self, first: usize, end: usize) -> (usize, usize) {
        (self.toks[first].start, self.toks[end - 1].end)
    }

    /// Capitalisation is informative: the text mixes cases.
    pub fn case_informative(&self) -> bool {
        self.has_lower && self.has_upper
    }
}

fn class(c: char) -> Kind {
    if c.is_ascii_digit() {
        Kind::Num
    } else if is_letter(c) {
        Kind::Word
    } else {
        Kind::Punct
    }
}

fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

/// Combining diacritics (decomposed input such as "e\u{301}"): part of the word, dropped
/// when folding.
fn is_combining(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// Appends the folded form of `c`: lowercase, Latin diacritics stripped, ligatures spelled
/// out. Other scripts pass through lowercased, so they simply match nothing in our tables.
pub(crate) fn fold_into(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if is_combining(c) {
        return;
    }
    if c == '’' || c == 'ʼ' || c == '‘' {
        out.push('\'');
        return;
    }
    for l in c.to_lowercase() {
        match latin_base(l) {
            Some(s) => out.push_str(s),
            None if is_combining(l) => {}
            None => out.push(l),
        }
    }
}

/// Folds a whole string (used for table keys).
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_into(c, &mut out);
    }
    out
}

fn latin_base(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ª' => "a",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'ĕ' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' | 'ĭ' => "i",
        'ñ' | 'ń' | 'ň' | 'ņ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'º' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ð' | 'ď' | 'đ' => "d",
        'þ' => "th",
        'ł' | 'ľ' | 'ĺ' => "l",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'ź' | 'ż' | 'ž' => "z",
        'ğ' => "g",
        'ř' => "r",
        'ť' | 'ţ' | 'ț' => "t",
        _ => return None,
    })
}

/// "new york" → "New York", "o'brien" → "O'Brien", "jean-luc" → "Jean-Luc",
/// "mcdonald" → "McDonald": each word part gets an uppercase initial.
pub(crate) fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start_of_part = true;
    let mut prev: Vec<char> = Vec::new();
    for c in s.chars() {
        if c.is_alphabetic() {
            let mc = prev.len() == 2
                && prev[0].eq_ignore_ascii_case(&'m')
                && prev[1].eq_ignore_ascii_case(&'c');
            if start_of_part || mc {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start_of_part = false;
            prev.push(c);
        } else {
            out.push(c);
            start_of_part = true;
            prev.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_letters_digits_and_punctuation() {
        let t = Toks::new("Meet at 3pm, São-Paulo!");
        let norms: Vec<&str> = (0..t.len()).map(|i| t.norm(i)).collect();
        assert_eq!(
            norms,
            ["meet", "at", "3", "pm", ",", "sao", "-", "paulo", "!"]
        );
        assert!(t.glued(3) && !t.glued(2));
        assert_eq!(t.raw(5), "São");
        assert!(t.toks[5].cap && !t.toks[5].upper);
    }

    #[test]
    fn folds_diacritics_ligatures_and_decomposed_marks() {
        assert_eq!(fold("Ñandú Straße Œuvre"), "nandu strasse oeuvre");
        let t = Toks::new("Cafe\u{301} ok");
        assert_eq!(t.norm(0), "cafe");
        assert_eq!(t.raw(0), "Cafe\u{301}");
    }

    #[test]
    fn non_latin_text_is_tokenised_without_panicking() {
        let t = Toks::new("你好 مرحبا 👍🏽");
        assert_eq!(t.len(), 4);
        assert_eq!(t.norm(0), "你好");
        assert_eq!(t.kind(2), Some(Kind::Punct));
    }

    #[test]
    fn title_cases_names() {
        assert_eq!(title_case("o'brien"), "O'Brien");
        assert_eq!(title_case("JEAN-LUC"), "Jean-Luc");
        assert_eq!(title_case("mcdonald"), "McDonald");
        assert_eq!(title_case("müller"), "Müller");
    }
}
