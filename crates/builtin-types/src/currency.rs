//! `Twilio.CURRENCY` → ISO 4217 code, with the amount when one is given: "$20" → `20 USD`,
//! "twenty euros" → `20 EUR`, "5 dollars and 50 cents" → `5.50 USD`, "yen" → `JPY`.
//!
//! Generic words go to the most used currency: "dollars" and "$" → USD, "pesos" → MXN,
//! "francs" → CHF, "pounds" → GBP, "crowns"/"krona" → SEK. Names that are common words
//! ("real", "won", "rand") count only next to an amount.

use std::sync::LazyLock;

use crate::data::{self, Row};
use crate::numbers::{Number, number_at};
use crate::phrases::{ALL_LANGS, FnvMap, Phrases, with_english};
use crate::text::Toks;
use crate::{Cand, Lang, Mode};

struct Currencies {
    rows: Vec<Row>,
    names: Phrases<u16>,
    /// (symbol, row), longest first.
    symbols: Vec<(&'static str, u16)>,
    /// Lowercase code → row.
    codes: FnvMap<String, u16>,
    /// First characters of the symbols: most tokens start with none of them.
    symbol_starts: Vec<char>,
}

static CURRENCIES: LazyLock<Currencies> = LazyLock::new(|| {
    let rows = data::rows(data::CURRENCIES, 3);
    let mut names = data::index(&rows, false);
    let mut symbols = Vec::new();
    let mut codes = FnvMap::default();
    for (n, row) in rows.iter().enumerate() {
        names.insert(row.fields[1], n as u16, ALL_LANGS, false);
        for s in row.fields[2].split_whitespace() {
            symbols.push((s, n as u16));
        }
        codes.insert(row.fields[0].to_ascii_lowercase(), n as u16);
    }
    symbols.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    let mut symbol_starts: Vec<char> = symbols
        .iter()
        .filter_map(|(s, _)| s.chars().next())
        .collect();
    symbol_starts.sort_unstable();
    symbol_starts.dedup();
    Currencies {
        rows,
        names,
        symbols,
        codes,
        symbol_starts,
    }
});

/// Uppercase words that are codes but usually mean something else.
const CODE_DENY: &[&str] = &[
    "ALL", "TOP", "CUP", "PEN", "TRY", "MAD", "SOS", "GEL", "MOP", "BAM", "CAD", "BOB",
];

/// Words for hundredths of the main unit.
const CENTS: &[&str] = &[
    "cent",
    "cents",
    "centavo",
    "centavos",
    "centimo",
    "centimos",
    "centime",
    "centimes",
    "centesimo",
    "centesimi",
    "penny",
    "pence",
    "p",
];

fn code_of(row: u16) -> &'static str {
    CURRENCIES.rows[row as usize].fields[0]
}

/// A currency symbol starting at token `i`: (row, token past it, made of letters).
fn symbol_at(toks: &Toks, i: usize) -> Option<(u16, usize, bool)> {
    let t = toks.toks.get(i)?;
    let rest = &toks.text[t.start..];
    let first = rest.chars().next()?;
    if CURRENCIES.symbol_starts.binary_search(&first).is_err() {
        return None;
    }
    for &(sym, row) in &CURRENCIES.symbols {
        if !rest.starts_with(sym) {
            continue;
        }
        let end_byte = t.start + sym.len();
        // The symbol must end exactly at a token boundary, its tokens glued.
        let Some(k) = (i..toks.len()).find(|&k| toks.toks[k].end >= end_byte) else {
            continue;
        };
        if toks.toks[k].end != end_byte || (i + 1..=k).any(|j| !toks.glued(j)) {
            continue;
        }
        let letters = sym.chars().all(char::is_alphabetic) || sym.ends_with('.');
        return Some((row, k + 1, letters));
    }
    None
}

/// A currency name or code at token `i` (not a symbol): (row, token past it, needs an
/// amount to be trusted).
fn name_at(toks: &Toks, i: usize, lang: Lang, mode: Mode) -> Option<(u16, usize, bool)> {
    let langs = match mode {
        Mode::Find => with_english(lang),
        Mode::Answer => ALL_LANGS,
    };
    if let Some(hit) = CURRENCIES.names.at(toks, i, langs) {
        return Some((hit.value, hit.end, hit.ambiguous));
    }
    if toks.is_word(i) && toks.norm(i).len() == 3 {
        let row = *CURRENCIES.codes.get(toks.norm(i))?;
        let t = toks.toks[i];
        let trusted = t.upper && toks.case_informative() && !CODE_DENY.contains(&toks.raw(i));
        let alone = mode == Mode::Answer && toks.len() == 1;
        return Some((row, i + 1, !(trusted || alone)));
    }
    None
}

/// An amount at token `i`: a number, or an article ("a dollar", "un euro"); the flag says
/// it was an article.
fn amount_at(toks: &Toks, i: usize, lang: Lang) -> Option<(Number, usize, bool)> {
    if let Some(f) = number_at(toks, i, lang) {
        return Some((f.number, f.end, false));
    }
    const ONE: &[&str] = &[
        "a", "an", "one", "un", "una", "une", "ein", "einen", "um", "uma", "uno",
    ];
    toks.is_any(i, ONE)
        .then(|| (Number::from_u64(1), i + 1, true))
}

/// "and 50 cents" after an amount and its currency: the cents and the token past them.
fn cents_at(toks: &Toks, i: usize, lang: Lang) -> Option<(u64, usize)> {
    let j = if toks.is_any(i, &["and", "y", "et", "und", "e", "con", "with"]) {
        i + 1
    } else {
        i
    };
    let f = number_at(toks, j, lang)?;
    let cents = f.number.as_u64().filter(|c| *c < 100)?;
    toks.is_any(f.end, CENTS).then_some((cents, f.end + 1))
}

/// "20", "5.50": amounts show cents when they have any.
fn format_amount(n: &Number) -> String {
    let s = n.normalised();
    match s.split_once('.') {
        Some((_, frac)) if frac.len() == 1 => format!("{s}0"),
        _ => s,
    }
}

fn with_amount(amount: Option<&Number>, row: u16) -> String {
    match amount {
        Some(n) => format!("{} {}", format_amount(n), code_of(row)),
        None => code_of(row).to_string(),
    }
}

/// A currency mention at token `i`: (value, token past it).
fn currency_at(toks: &Toks, i: usize, lang: Lang, mode: Mode) -> Option<(String, usize)> {
    // "$20", "US$ 20", "R$ 50", "€5,50", "USD 20"
    let lead = symbol_at(toks, i).or_else(|| {
        name_at(toks, i, lang, mode)
            .filter(|_| toks.norm(i).len() == 3)
            .map(|(row, end, _)| (row, end, true))
    });
    if let Some((row, end, letters)) = lead
        && let Some(f) = number_at(toks, end, lang)
        && (!letters || !toks.glued(end) || toks.is_num(end))
    {
        return Some((with_amount(Some(&f.number), row), f.end));
    }
    // "20 dollars", "20$", "twenty euros", "5 dollars and 50 cents", "a hundred bucks"
    if let Some((mut amount, end, article)) = amount_at(toks, i, lang) {
        // "a real problem": an article does not make a common word a currency.
        let after = symbol_at(toks, end)
            .map(|(row, e, _)| (row, e))
            .or_else(|| {
                name_at(toks, end, lang, Mode::Answer)
                    .filter(|(_, _, ambiguous)| !(article && *ambiguous))
                    .map(|(row, e, _)| (row, e))
            });
        if let Some((row, mut e)) = after {
            if let Some((cents, ce)) = cents_at(toks, e, lang)
                && amount.frac.is_empty()
            {
                amount.frac = format!("{cents:02}");
                e = ce;
            }
            return Some((with_amount(Some(&amount), row), e));
        }
    }
    // A name or code alone: "euros", "yen", "USD".
    if let Some((row, end, needs_amount)) = name_at(toks, i, lang, mode)
        && (!needs_amount || mode == Mode::Answer && toks.len() <= end + 1)
    {
        return Some((with_amount(None, row), end));
    }
    // A symbol alone ("in $ please"), except letter symbols.
    if let Some((row, end, false)) = symbol_at(toks, i) {
        return Some((with_amount(None, row), end));
    }
    None
}

pub(crate) fn find(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let mut i = 0;
    while i < toks.len() {
        match currency_at(toks, i, lang, mode) {
            Some((value, end)) if end > i => {
                out.push(Cand::new(i, end, value));
                i = end;
            }
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        find(&Toks::new(text), lang, Mode::Find, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    #[test]
    fn amounts_and_names() {
        assert_eq!(values("$20", Lang::En), ["20 USD"]);
        assert_eq!(values("it costs $1,299.99", Lang::En), ["1299.99 USD"]);
        assert_eq!(values("twenty euros", Lang::En), ["20 EUR"]);
        assert_eq!(values("yen", Lang::En), ["JPY"]);
        assert_eq!(values("5 dollars and 50 cents", Lang::En), ["5.50 USD"]);
        assert_eq!(values("a hundred bucks", Lang::En), ["100 USD"]);
        assert_eq!(values("10 pounds", Lang::En), ["10 GBP"]);
        assert_eq!(values("20 USD", Lang::En), ["20 USD"]);
        assert_eq!(values("R$ 50", Lang::Pt), ["50 BRL"]);
        assert_eq!(values("cinquenta reais", Lang::Pt), ["50 BRL"]);
        assert_eq!(values("5,50 €", Lang::De), ["5.50 EUR"]);
        assert_eq!(values("veinte pesos", Lang::Es), ["20 MXN"]);
        assert_eq!(values("Canadian dollars", Lang::En), ["CAD"]);
        assert!(values("a real problem", Lang::En).is_empty());
        assert!(values("I won", Lang::En).is_empty());
    }
}
