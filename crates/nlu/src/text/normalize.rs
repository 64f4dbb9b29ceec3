use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Case- and accent-folded form of `s`: `"Réservé"` → `"reserve"`.
///
/// Users type without accents as often as with them, and speech transcripts
/// are inconsistent, so every comparison in the NLU is made on folded text.
/// Compatibility forms are unified too (`ﬁ` → `fi`, full-width digits → ASCII).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// [`fold`] appending to a buffer the caller reuses (the parse hot path).
pub fn fold_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.extend(s.chars().map(|c| c.to_ascii_lowercase()));
        return;
    }
    for c in s.nfkd().filter(|c| !is_combining_mark(*c)) {
        match c {
            // Typographic apostrophes and quotes read as the ASCII ones.
            '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{00B4}' | '`' => out.push('\''),
            'ß' => out.push_str("ss"),
            _ => out.extend(c.to_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold("Réservé"), "reserve");
        assert_eq!(fold("MAÑANA"), "manana");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("ﬁve ２"), "five 2");
        assert_eq!(fold("don’t"), "don't");
    }

    #[test]
    fn keeps_non_latin_text() {
        assert_eq!(fold("東京"), "東京");
        assert_eq!(fold("Привет"), "привет");
        assert_eq!(fold("👍"), "👍");
    }
}
