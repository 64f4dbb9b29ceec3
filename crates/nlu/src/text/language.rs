use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

/// The languages otto has stemmers, number words and date words for.
/// Autopilot itself only ever supported `en-US`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Language {
    #[default]
    English,
    Spanish,
    French,
    German,
    Italian,
    Portuguese,
}

impl Language {
    /// Reads a BCP 47 tag such as `en-US`, `es-MX` or `pt_BR`; `None` for a
    /// language otto does not know (the caller decides whether that is an error).
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        Some(match primary.as_str() {
            "en" => Language::English,
            "es" => Language::Spanish,
            "fr" => Language::French,
            "de" => Language::German,
            "it" => Language::Italian,
            "pt" => Language::Portuguese,
            _ => return None,
        })
    }

    /// The tag written into samples and queries for this language.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en-US",
            Language::Spanish => "es-ES",
            Language::French => "fr-FR",
            Language::German => "de-DE",
            Language::Italian => "it-IT",
            Language::Portuguese => "pt-BR",
        }
    }

    pub fn stemmer(self) -> Stemmer {
        Stemmer::create(match self {
            Language::English => Algorithm::English,
            Language::Spanish => Algorithm::Spanish,
            Language::French => Algorithm::French,
            Language::German => Algorithm::German,
            Language::Italian => Algorithm::Italian,
            Language::Portuguese => Algorithm::Portuguese,
        })
    }

    /// Articles and pronouns glued to the next word by an apostrophe
    /// (`l'avion`, `dell'anno`): split off so the noun is matched on its own.
    pub(crate) fn elisions(self) -> &'static [&'static str] {
        match self {
            Language::French => &[
                "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu",
            ],
            Language::Italian => &[
                "l", "d", "un", "dell", "nell", "all", "sull", "dall", "quest", "quell",
            ],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_language_tags() {
        assert_eq!(Language::from_tag("en-US"), Some(Language::English));
        assert_eq!(Language::from_tag("es-MX"), Some(Language::Spanish));
        assert_eq!(Language::from_tag("pt_BR"), Some(Language::Portuguese));
        assert_eq!(Language::from_tag("DE"), Some(Language::German));
        assert_eq!(Language::from_tag("ja-JP"), None);
        assert_eq!(Language::from_tag(""), None);
    }

    #[test]
    fn stems_per_language() {
        assert_eq!(Language::English.stemmer().stem("running"), "run");
        assert_eq!(Language::Spanish.stemmer().stem("reservaciones"), "reserv");
        assert_eq!(Language::French.stemmer().stem("réservations"), "réserv");
        assert_eq!(Language::German.stemmer().stem("zahlungen"), "zahlung");
        assert_eq!(Language::Italian.stemmer().stem("prenotazioni"), "prenot");
        assert_eq!(Language::Portuguese.stemmer().stem("reservas"), "reserv");
    }
}
