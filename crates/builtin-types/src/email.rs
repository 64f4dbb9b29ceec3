//! `Twilio.EMAIL`: typed ("Jane.Doe@Example.com") and spoken ("john dot smith at gmail dot
//! com", "juan arroba gmail punto com") addresses → lowercase address.

use crate::text::{Kind, Toks};
use crate::{Cand, Lang};

/// Spoken symbols: (words, character) per language; English words work everywhere.
fn spoken_symbol(toks: &Toks, i: usize, lang: Lang) -> Option<(char, usize)> {
    let w = toks.norm(i);
    let two = |a: &str, b: &str| w == a && toks.norm(i + 1) == b;
    let at_words: &[&str] = match lang {
        Lang::En => &["at"],
        Lang::Es | Lang::Pt => &["arroba", "at"],
        Lang::Fr => &["arobase", "arrobase", "at"],
        Lang::De => &["at", "aet", "klammeraffe"],
        Lang::It => &["chiocciola", "at"],
    };
    if at_words.contains(&w) {
        return Some(('@', i + 1));
    }
    if two("at", "sign") || two("at", "symbol") {
        return Some(('@', i + 2));
    }
    let dot = match lang {
        Lang::En => &["dot", "period"][..],
        Lang::Es | Lang::It => &["punto", "dot"],
        Lang::Fr => &["point", "dot"],
        Lang::De => &["punkt", "dot"],
        Lang::Pt => &["ponto", "dot"],
    };
    if dot.contains(&w) {
        return Some(('.', i + 1));
    }
    if w == "underscore"
        || two("guion", "bajo")
        || two("tiret", "bas")
        || w == "unterstrich"
        || two("trattino", "basso")
        || w == "underline"
    {
        let n = if matches!(w, "underscore" | "unterstrich" | "underline") {
            1
        } else {
            2
        };
        return Some(('_', i + n));
    }
    if matches!(
        w,
        "dash" | "hyphen" | "guion" | "tiret" | "bindestrich" | "trattino" | "hifen"
    ) {
        return Some(('-', i + 1));
    }
    None
}

/// Characters allowed in an address.
fn email_token(toks: &Toks, k: usize) -> bool {
    match toks.kind(k) {
        Some(Kind::Word | Kind::Num) => toks.raw(k).is_ascii(),
        Some(Kind::Punct) => matches!(toks.norm(k), "." | "_" | "-" | "+" | "%"),
        None => false,
    }
}

/// A glued piece of an address ("john.smith", "gmail.com") from token `i`, not starting
/// or ending with punctuation: (lowercase text, token past it).
fn piece_at(toks: &Toks, i: usize) -> Option<(String, usize)> {
    if !matches!(toks.kind(i), Some(Kind::Word | Kind::Num)) || !email_token(toks, i) {
        return None;
    }
    let mut end = i + 1;
    while email_token(toks, end) && toks.glued(end) {
        end += 1;
    }
    while end > i + 1 && toks.kind(end - 1) == Some(Kind::Punct) {
        end -= 1;
    }
    let text: String = (i..end).map(|k| toks.norm(k)).collect();
    Some((text, end))
}

/// A domain from token `i`: pieces joined by "." (typed or spoken), ending in a top-level
/// domain of letters. (domain, token past it)
fn domain_at(toks: &Toks, i: usize, lang: Lang) -> Option<(String, usize)> {
    let (mut domain, mut end) = piece_at(toks, i)?;
    let mut best = None;
    loop {
        if valid_domain(&domain) {
            best = Some((domain.clone(), end));
        }
        let Some(('.', k)) = spoken_symbol(toks, end, lang) else {
            break;
        };
        let Some((piece, e)) = piece_at(toks, k) else {
            break;
        };
        domain.push('.');
        domain.push_str(&piece);
        end = e;
    }
    best
}

fn valid_domain(d: &str) -> bool {
    let Some((_, tld)) = d.rsplit_once('.') else {
        return false;
    };
    tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
        && d.split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
}

/// The first word or number of the glued run of address characters ending at `end`.
fn run_start(toks: &Toks, end: usize) -> Option<usize> {
    let mut p = end.checked_sub(1)?;
    if !email_token(toks, p) {
        return None;
    }
    while p > 0 && toks.glued(p) && email_token(toks, p - 1) {
        p -= 1;
    }
    while p < end && toks.kind(p) == Some(Kind::Punct) {
        p += 1;
    }
    (p < end).then_some(p)
}

/// The local part ending just before token `at`: (local part, first token).
fn local_before(toks: &Toks, at: usize, lang: Lang) -> Option<(String, usize)> {
    let mut first = run_start(toks, at)?;
    let (mut local, end) = piece_at(toks, first)?;
    if end != at {
        return None;
    }
    // Spoken joins before it: "john dot smith".
    loop {
        let join = (1..=2).find_map(|n| {
            let s = first.checked_sub(n)?;
            match spoken_symbol(toks, s, lang) {
                Some((c, e)) if e == first && c != '@' => Some((c, s)),
                _ => None,
            }
        });
        let Some((c, s)) = join else { break };
        let Some(q) = run_start(toks, s) else { break };
        let Some((piece, e)) = piece_at(toks, q) else {
            break;
        };
        if e != s {
            break;
        }
        local = format!("{piece}{c}{local}");
        first = q;
    }
    Some((local, first))
}

pub(crate) fn find(toks: &Toks, lang: Lang, out: &mut Vec<Cand>) {
    for at in 0..toks.len() {
        let (is_at, after) = if toks.is_punct(at, '@') {
            (true, at + 1)
        } else {
            match spoken_symbol(toks, at, lang) {
                Some(('@', e)) => (true, e),
                _ => (false, at),
            }
        };
        if !is_at {
            continue;
        }
        let Some((local, first)) = local_before(toks, at, lang) else {
            continue;
        };
        let Some((domain, end)) = domain_at(toks, after, lang) else {
            continue;
        };
        out.push(Cand::new(first, end, format!("{local}@{domain}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(text: &str, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        find(&Toks::new(text), lang, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    #[test]
    fn typed_addresses() {
        assert_eq!(
            emails("mail Jane.Doe@Example.COM.", Lang::En),
            ["jane.doe@example.com"]
        );
        assert_eq!(emails("a+b_c@mail.co.uk", Lang::En), ["a+b_c@mail.co.uk"]);
        assert!(emails("me@localhost", Lang::En).is_empty());
    }

    #[test]
    fn spoken_addresses() {
        assert_eq!(
            emails("my email is john dot smith at gmail dot com", Lang::En),
            ["john.smith@gmail.com"]
        );
        assert_eq!(
            emails("john.smith at gmail.com", Lang::En),
            ["john.smith@gmail.com"]
        );
        assert_eq!(
            emails("juan arroba gmail punto com", Lang::Es),
            ["juan@gmail.com"]
        );
        assert_eq!(
            emails("jean point dupont arobase orange point fr", Lang::Fr),
            ["jean.dupont@orange.fr"]
        );
        assert_eq!(
            emails("mary underscore jones at yahoo dot com", Lang::En),
            ["mary_jones@yahoo.com"]
        );
        assert!(emails("meet me at the station", Lang::En).is_empty());
    }
}
