use super::{Language, fold_into};

/// What a token is made of; features and field parsers treat the kinds differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters, possibly with digits (`hello`, `3pm`, `a320`).
    Word,
    /// Digits, possibly with inner `.`, `,` or `:` (`42`, `3.5`, `1,000`, `15:30`).
    Number,
    /// One ideograph or kana: scripts written without spaces are split per character.
    Ideograph,
    /// An emoji or other pictographic symbol (`👍` carries meaning in chat).
    Symbol,
    /// A punctuation mark (`?`, `&`, `-`).
    Punct,
}

/// One token of an utterance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the token's first byte in the original text.
    pub start: usize,
    /// Byte offset just past the token in the original text.
    pub end: usize,
    /// The folded form (lower case, no accents, no inner apostrophes).
    pub norm: String,
    pub kind: TokenKind,
}

impl Token {
    pub fn is_word_like(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Word | TokenKind::Number | TokenKind::Ideograph
        )
    }
}

/// Splits `text` into tokens with their byte spans in `text`.
///
/// Rules, chosen to keep field values whole while matching loosely:
/// - a run of letters and digits is one token (`3pm`, `ab12`);
/// - an apostrophe inside a word is dropped from the folded form (`didn't` →
///   `didnt`, so the common typo without it matches), except after a French or
///   Italian elided article, where the word is split (`l'avion` → `l'`, `avion`);
/// - `.`, `,` and `:` between digits stay in the number (`3.5`, `15:30`);
/// - ideographs and kana are one token each, emoji one token each;
/// - any other visible character is a punctuation token; whitespace separates.
pub fn tokenize(text: &str, language: Language) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() || c.is_control() || is_joiner(c) {
            continue;
        }
        if is_ideograph(c) {
            tokens.push(single(text, start, c, TokenKind::Ideograph));
        } else if c.is_alphanumeric() {
            let mut end = start + c.len_utf8();
            let mut has_letter = c.is_alphabetic();
            while let Some(&(i, next)) = chars.peek() {
                let continues = (next.is_alphanumeric() && !is_ideograph(next))
                    || is_combining(next)
                    || (is_inner_mark(next) && joins_word(text, i + next.len_utf8()));
                if !continues {
                    break;
                }
                if is_elision_apostrophe(next) && is_elided_article(&text[start..i], language) {
                    // `l'avion`: keep the article with its apostrophe, start a new token after.
                    end = i + next.len_utf8();
                    chars.next();
                    break;
                }
                has_letter |= next.is_alphabetic();
                end = i + next.len_utf8();
                chars.next();
            }
            let kind = if has_letter {
                TokenKind::Word
            } else {
                TokenKind::Number
            };
            tokens.push(word(text, start, end, kind));
        } else if is_pictographic(c) {
            tokens.push(single(text, start, c, TokenKind::Symbol));
        } else {
            tokens.push(single(text, start, c, TokenKind::Punct));
        }
    }
    tokens
}

fn single(text: &str, start: usize, c: char, kind: TokenKind) -> Token {
    word(text, start, start + c.len_utf8(), kind)
}

fn word(text: &str, start: usize, end: usize, kind: TokenKind) -> Token {
    let raw = &text[start..end];
    let mut norm = String::with_capacity(raw.len());
    fold_into(raw, &mut norm);
    if kind == TokenKind::Word && !norm.ends_with('\'') {
        norm.retain(|c| c != '\'');
    }
    Token {
        start,
        end,
        norm,
        kind,
    }
}

/// `'` and `’` join letters (`don't`); `.`, `,` and `:` join digits (`3.5`).
fn is_inner_mark(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '.' | ',' | ':')
}

/// Whether the mark just before byte `next` is inside a token: it must be
/// followed by an alphanumeric of the kind it joins.
fn joins_word(text: &str, next: usize) -> bool {
    let mark = text[..next].chars().next_back().unwrap_or(' ');
    let before = text[..next - mark.len_utf8()].chars().next_back();
    let after = text[next..].chars().next();
    match (mark, before, after) {
        ('\'' | '\u{2019}', Some(b), Some(a)) => b.is_alphabetic() && a.is_alphabetic(),
        ('.' | ',' | ':', Some(b), Some(a)) => b.is_ascii_digit() && a.is_ascii_digit(),
        _ => false,
    }
}

fn is_elision_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

fn is_elided_article(word: &str, language: Language) -> bool {
    let elisions = language.elisions();
    !elisions.is_empty() && elisions.iter().any(|e| word.eq_ignore_ascii_case(e))
}

fn is_combining(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}' | '\u{FE0F}')
}

fn is_ideograph(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{20000}'..='\u{2FFFF}')
}

fn is_pictographic(c: char) -> bool {
    matches!(c,
        '\u{1F000}'..='\u{1FAFF}'
        | '\u{2600}'..='\u{27BF}'
        | '\u{2B00}'..='\u{2BFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norms(text: &str) -> Vec<String> {
        tokenize(text, Language::English)
            .into_iter()
            .map(|t| t.norm)
            .collect()
    }

    #[test]
    fn splits_words_and_punctuation() {
        assert_eq!(
            norms("Add Clem Burke to my playlist, please!"),
            [
                "add", "clem", "burke", "to", "my", "playlist", ",", "please", "!"
            ]
        );
    }

    #[test]
    fn keeps_spans_into_the_original_text() {
        let text = "  Réservez à 15:30 😀 ok";
        for token in tokenize(text, Language::French) {
            assert!(text.is_char_boundary(token.start) && text.is_char_boundary(token.end));
        }
        let spans: Vec<&str> = tokenize(text, Language::French)
            .iter()
            .map(|t| &text[t.start..t.end])
            .collect();
        assert_eq!(spans, ["Réservez", "à", "15:30", "😀", "ok"]);
    }

    #[test]
    fn numbers_keep_inner_separators() {
        let tokens = tokenize("pay 1,000.50 at 3pm, 2 x 3.", Language::English);
        let kinds: Vec<(&str, TokenKind)> =
            tokens.iter().map(|t| (t.norm.as_str(), t.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("pay", TokenKind::Word),
                ("1,000.50", TokenKind::Number),
                ("at", TokenKind::Word),
                ("3pm", TokenKind::Word),
                (",", TokenKind::Punct),
                ("2", TokenKind::Number),
                ("x", TokenKind::Word),
                ("3", TokenKind::Number),
                (".", TokenKind::Punct),
            ]
        );
    }

    #[test]
    fn apostrophes_join_english_words_and_split_french_articles() {
        assert_eq!(norms("I didn’t get it"), ["i", "didnt", "get", "it"]);
        let french: Vec<String> = tokenize("l'avion d’Air France", Language::French)
            .into_iter()
            .map(|t| t.norm)
            .collect();
        assert_eq!(french, ["l'", "avion", "d'", "air", "france"]);
    }

    #[test]
    fn hyphens_and_quotes_separate() {
        assert_eq!(
            norms("twenty-one 'quoted'"),
            ["twenty", "-", "one", "'", "quoted", "'"]
        );
    }

    #[test]
    fn ideographs_and_emoji_are_single_tokens() {
        let tokens = tokenize("我想去東京👍🏽", Language::English);
        let kinds: Vec<TokenKind> = tokens.iter().map(|t| t.kind).collect();
        assert_eq!(tokens.len(), 7);
        assert_eq!(kinds[0], TokenKind::Ideograph);
        assert_eq!(kinds[5], TokenKind::Symbol);
    }

    #[test]
    fn empty_and_blank_input() {
        assert!(tokenize("", Language::English).is_empty());
        assert!(tokenize(" \t\n\u{200B} ", Language::English).is_empty());
    }

    #[test]
    fn long_input_is_linear() {
        let text = "word ".repeat(2048);
        assert_eq!(tokenize(&text, Language::English).len(), 2048);
    }
}
