//! Nothing panics on any input, and every match's offsets are char boundaries that slice
//! out its `raw` text.

use chrono::{NaiveDate, NaiveDateTime};
use otto_builtin_types::{BuiltinType, Context, Lang, find, parse_answer};
use proptest::prelude::*;

const LANGS: [Lang; 6] = [Lang::En, Lang::Es, Lang::Fr, Lang::De, Lang::It, Lang::Pt];

/// Pieces that reach deep into the parsers, glued together at random.
const PIECES: &[&str] = &[
    "twenty",
    "-",
    "one",
    "hundred",
    "and",
    "a",
    "dozen",
    "minus",
    "point",
    "five",
    "oh",
    "double",
    "3",
    "15",
    "2026",
    "12",
    "31",
    "0",
    "00",
    "+",
    "(",
    ")",
    ":",
    ".",
    ",",
    "/",
    "@",
    "at",
    "dot",
    "com",
    "gmail",
    "next",
    "friday",
    "this",
    "last",
    "on",
    "the",
    "5th",
    "of",
    "march",
    "may",
    "pm",
    "am",
    "p.m.",
    "half",
    "past",
    "quarter",
    "to",
    "noon",
    "midnight",
    "in",
    "days",
    "ago",
    "tomorrow",
    "mañana",
    "demain",
    "à",
    "15h",
    "um",
    "Uhr",
    "halb",
    "morgen",
    "alle",
    "às",
    "meia",
    "y",
    "media",
    "menos",
    "cuarto",
    "quatre",
    "vingt",
    "dix",
    "einundzwanzig",
    "ventuno",
    "vinte",
    "e",
    "yes",
    "no",
    "nope",
    "si",
    "my",
    "name",
    "is",
    "John",
    "Smith",
    "da",
    "Silva",
    "O'",
    "Brien",
    "NYC",
    "CA",
    "US",
    "FR",
    "USA",
    "Paris",
    "$",
    "€",
    "R$",
    "euros",
    "cents",
    "dollars",
    "yen",
    "español",
    "Deutsch",
    "x-ray",
    "AB",
    "123",
    "K9",
    "7",
    "👍",
    "😀",
    "日本",
    "مرحبا",
    "\u{301}",
    "ß",
    "İ",
    "’",
    " ",
    "  ",
    "\n",
    "9999999999999999999999999",
    "0.0.0.0",
    "1,000,000",
    "٣",
    "½",
    "ﬁ",
    "\u{200d}",
    "\t",
];

fn reference() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 11)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("valid date")
}

fn check(text: &str) {
    for lang in LANGS {
        let ctx = Context::new(reference(), lang);
        for &ty in BuiltinType::all() {
            let found = find(ty, text, &ctx);
            let mut last_end = 0;
            for m in &found {
                assert!(m.start < m.end, "{ty} {text:?}: empty match {m:?}");
                assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
                assert_eq!(&text[m.start..m.end], m.raw, "{ty} {text:?}");
                assert!(m.start >= last_end, "{ty} {text:?}: overlap or disorder");
                assert!(!m.value.is_empty(), "{ty} {text:?}: empty value");
                last_end = m.end;
            }
            if let Some(v) = parse_answer(ty, text, &ctx) {
                assert!(!v.is_empty(), "{ty} {text:?}: empty answer");
            }
        }
    }
}

fn pieces() -> impl Strategy<Value = String> {
    prop::collection::vec((0..PIECES.len(), any::<bool>()), 0..14).prop_map(|parts| {
        let mut s = String::new();
        for (i, space) in parts {
            s.push_str(PIECES[i]);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

proptest! {
    // PROPTEST_CASES=20000 for a longer soak.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_unicode(text in "\\PC{0,40}") {
        check(&text);
    }

    #[test]
    fn glued_pieces(text in pieces()) {
        check(&text);
    }

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        check(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn known_nasty_inputs() {
    for text in [
        "",
        " ",
        "-",
        "+",
        "@",
        "@@@",
        "a@b",
        "at at at dot dot",
        "- - -",
        "((((",
        "1/2/3/4/5",
        "99/99/9999",
        "2026-02-30",
        "31/02",
        "february 30th",
        "0:00 am",
        "24:00",
        "99:99",
        "a.m.",
        "the the the",
        "e e e e",
        "y y y",
        "and and",
        "one and",
        "twenty-",
        "-twenty",
        "quatre-vingt-",
        "um e",
        "in 999999999 days",
        "in 99999999999999999999 years",
        "9999-12-31",
        "0000-01-01",
        "+0",
        "+ (0) 0",
        "double",
        "x-",
        "O'",
        "Mr.",
        "my name is",
        "my name is 😀",
        "$",
        "$$$",
        "R$",
        "€€",
        "😀😀😀😀😀😀😀😀",
        "e\u{301}\u{301}\u{301}",
        "\u{feff}yes",
    ] {
        check(text);
    }
    // Far dates stay in range instead of overflowing.
    let late = Context::new(
        NaiveDate::MAX.and_hms_opt(0, 0, 0).expect("valid"),
        Lang::En,
    );
    for &ty in BuiltinType::all() {
        for text in [
            "tomorrow",
            "in 3 years",
            "next friday",
            "march 3rd",
            "on the 5th",
            "christmas",
        ] {
            let _ = find(ty, text, &late);
            let _ = parse_answer(ty, text, &late);
        }
    }
    let early = Context::new(
        NaiveDate::MIN.and_hms_opt(0, 0, 0).expect("valid"),
        Lang::En,
    );
    for text in ["yesterday", "3 weeks ago", "last monday"] {
        let _ = find(BuiltinType::Date, text, &early);
    }
}
