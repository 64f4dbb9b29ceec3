//! `Twilio.TIME` → `HH:MM`, 24-hour.
//!
//! Recognised: clock digits ("15:45", "3:30 pm", "15h30", "15 Uhr 30"), an hour with a
//! marker ("3pm", "7 o'clock", "4 in the afternoon", "3 de la tarde", "trois heures"),
//! English and German fractions ("half past seven", "quarter to nine", "halb acht",
//! "viertel vor neun"), Romance minute phrases ("las tres y media", "quatre heures moins le
//! quart", "le nove meno un quarto", "quinze para as nove"), noon and midnight in every
//! language, and a bare hour after a cue ("at 7", "a las tres", "um 15", "alle 3", "às 3").
//!
//! Without am/pm or a part of the day the hour is taken as said ("at 7" → 07:00): guessing
//! would be wrong as often as right.

use std::sync::LazyLock;

use crate::numbers::small_at;
use crate::phrases::{Phrases, bit};
use crate::text::Toks;
use crate::{Cand, Lang, Mode};

/// A part of the day after an hour.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Period {
    Am,
    Pm,
    Night,
}

const PERIODS: [(Lang, &[(&str, Period)]); 6] = [
    (
        Lang::En,
        &[
            ("am", Period::Am),
            ("pm", Period::Pm),
            ("in the morning", Period::Am),
            ("this morning", Period::Am),
            ("tomorrow morning", Period::Am),
            ("in the afternoon", Period::Pm),
            ("this afternoon", Period::Pm),
            ("in the evening", Period::Pm),
            ("this evening", Period::Pm),
            ("tonight", Period::Pm),
            ("at night", Period::Night),
        ],
    ),
    (
        Lang::Es,
        &[
            ("de la manana", Period::Am),
            ("en la manana", Period::Am),
            ("por la manana", Period::Am),
            ("de la madrugada", Period::Am),
            ("de la tarde", Period::Pm),
            ("por la tarde", Period::Pm),
            ("en la tarde", Period::Pm),
            ("de la noche", Period::Night),
            ("por la noche", Period::Night),
            ("en la noche", Period::Night),
        ],
    ),
    (
        Lang::Fr,
        &[
            ("du matin", Period::Am),
            ("ce matin", Period::Am),
            ("de l'apres-midi", Period::Pm),
            ("cet apres-midi", Period::Pm),
            ("du soir", Period::Pm),
            ("ce soir", Period::Pm),
            ("de la nuit", Period::Night),
        ],
    ),
    (
        Lang::De,
        &[
            ("morgens", Period::Am),
            ("fruh", Period::Am),
            ("vormittags", Period::Am),
            ("am morgen", Period::Am),
            ("am vormittag", Period::Am),
            ("nachmittags", Period::Pm),
            ("am nachmittag", Period::Pm),
            ("abends", Period::Pm),
            ("am abend", Period::Pm),
            ("heute abend", Period::Pm),
            ("nachts", Period::Night),
            ("in der nacht", Period::Night),
        ],
    ),
    (
        Lang::It,
        &[
            ("di mattina", Period::Am),
            ("del mattino", Period::Am),
            ("della mattina", Period::Am),
            ("di mattino", Period::Am),
            ("del pomeriggio", Period::Pm),
            ("di pomeriggio", Period::Pm),
            ("di sera", Period::Pm),
            ("della sera", Period::Pm),
            ("stasera", Period::Pm),
            ("di notte", Period::Night),
            ("della notte", Period::Night),
        ],
    ),
    (
        Lang::Pt,
        &[
            ("da manha", Period::Am),
            ("de manha", Period::Am),
            ("da madrugada", Period::Am),
            ("da tarde", Period::Pm),
            ("de tarde", Period::Pm),
            ("a tarde", Period::Pm),
            ("da noite", Period::Night),
            ("de noite", Period::Night),
            ("a noite", Period::Night),
        ],
    ),
];

static PERIOD_INDEX: LazyLock<Phrases<Period>> = LazyLock::new(|| {
    let mut p = Phrases::new();
    for (lang, words) in PERIODS {
        for (w, period) in words {
            p.insert(w, *period, bit(lang), false);
        }
    }
    p
});

/// Named times: noon and midnight.
const NAMED: [(Lang, &[(&str, u32)]); 6] = [
    (Lang::En, &[("noon", 12), ("midday", 12), ("midnight", 0)]),
    (
        Lang::Es,
        &[("mediodia", 12), ("medio dia", 12), ("medianoche", 0)],
    ),
    (Lang::Fr, &[("midi", 12), ("minuit", 0)]),
    (Lang::De, &[("mittag", 12), ("mitternacht", 0)]),
    (Lang::It, &[("mezzogiorno", 12), ("mezzanotte", 0)]),
    (Lang::Pt, &[("meio-dia", 12), ("meia-noite", 0)]),
];

static NAMED_INDEX: LazyLock<Phrases<u32>> = LazyLock::new(|| {
    let mut p = Phrases::new();
    for (lang, words) in NAMED {
        for (w, h) in words {
            p.insert(w, *h, bit(lang), false);
        }
    }
    p
});

/// Words before a bare hour that make it a time ("at 7", "a las tres", "um 15").
const CUES: [(Lang, &[&str]); 6] = [
    (
        Lang::En,
        &[
            "at", "around", "about", "by", "before", "after", "until", "till", "from", "@",
        ],
    ),
    (
        Lang::Es,
        &[
            "a las",
            "a la",
            "las",
            "la",
            "sobre las",
            "hacia las",
            "desde las",
            "hasta las",
            "antes de las",
            "despues de las",
        ],
    ),
    (
        Lang::Fr,
        &["vers", "avant", "apres", "des", "jusqu'a", "a partir de"],
    ),
    (Lang::De, &["um", "gegen", "ab", "bis"]),
    (
        Lang::It,
        &[
            "alle", "alle ore", "all'", "verso le", "verso l'", "dalle", "entro le", "le", "l'",
        ],
    ),
    (
        Lang::Pt,
        &[
            "as",
            "por volta das",
            "por volta da",
            "ate as",
            "depois das",
            "antes das",
            "das",
        ],
    ),
];

static CUE_INDEX: LazyLock<Phrases<()>> = LazyLock::new(|| {
    let mut p = Phrases::new();
    for (lang, words) in CUES {
        for w in words {
            p.insert(w, (), bit(lang), false);
        }
    }
    p
});

/// Nouns after a bare number that make it a count, not an hour ("at 7 people").
const COUNT_NOUNS: &[&str] = &[
    "people",
    "persons",
    "guests",
    "personas",
    "personnes",
    "personen",
    "persone",
    "pessoas",
    "percent",
    "por",
    "pour",
    "fur",
    "per",
    "para",
];

/// The cue at token `i`: the token where the time would start.
fn cue_at(toks: &Toks, i: usize, lang: Lang) -> Option<usize> {
    // French "à" and Portuguese "às" fold to words that are common otherwise: check the
    // accent in the original.
    match toks.raw(i) {
        "à" | "À" if lang == Lang::Fr => return Some(i + 1),
        "às" | "Às" | "ÀS" if lang == Lang::Pt => return Some(i + 1),
        _ => {}
    }
    if toks.is_punct(i, '@') && lang == Lang::En {
        return Some(i + 1);
    }
    CUE_INDEX.at(toks, i, bit(lang)).map(|h| h.end)
}

/// (hour, minute) → "HH:MM".
fn clock(h: u32, m: u32) -> String {
    format!("{:02}:{:02}", h % 24, m)
}

/// The part of the day after token `i`: (period, token past it).
fn period_at(toks: &Toks, i: usize, lang: Lang) -> Option<(Period, usize)> {
    // "a.m.", "p.m.", "p. m." in every language; bare "am" is German for "on the".
    let w = toks.norm(i);
    if matches!(w, "a" | "p") && toks.is_punct(i + 1, '.') && toks.norm(i + 2) == "m" {
        let end = if toks.is_punct(i + 3, '.') {
            i + 4
        } else {
            i + 3
        };
        return Some((if w == "a" { Period::Am } else { Period::Pm }, end));
    }
    if w == "pm" || (w == "am" && lang != Lang::De) {
        return Some((if w == "am" { Period::Am } else { Period::Pm }, i + 1));
    }
    let hit = PERIOD_INDEX.at(toks, i, bit(lang) | bit(Lang::En))?;
    Some((hit.value, hit.end))
}

/// Applies a part of the day to an hour said on the 12-hour clock.
fn apply_period(h: u32, period: Period) -> Option<u32> {
    match period {
        Period::Am if h == 12 => Some(0),
        Period::Am => (h < 12).then_some(h),
        Period::Pm if h < 12 => Some(h + 12),
        Period::Pm => (h < 24).then_some(h),
        Period::Night if h == 12 => Some(0),
        Period::Night if (5..12).contains(&h) => Some(h + 12),
        Period::Night => (h < 24).then_some(h),
    }
}

/// Minutes said after the hour: +30 for "y media", −15 for "moins le quart".
fn minute_suffix(toks: &Toks, i: usize, lang: Lang) -> Option<(i32, usize)> {
    let w = toks.norm(i);
    let (plus, minus, half, quarter): (&[&str], &[&str], &[&str], &[&str]) = match lang {
        Lang::Es => (&["y"], &["menos"], &["media"], &["cuarto"]),
        Lang::Fr => (
            &["et"],
            &["moins"],
            &["demie", "demi"],
            &["quart", "le quart"],
        ),
        Lang::It => (
            &["e"],
            &["meno"],
            &["mezza", "mezzo"],
            &["quarto", "un quarto"],
        ),
        Lang::Pt => (
            &["e"],
            &["menos"],
            &["meia", "meio"],
            &["quarto", "um quarto"],
        ),
        Lang::En | Lang::De => return None,
    };
    let sign = if plus.contains(&w) {
        1
    } else if minus.contains(&w) {
        -1
    } else {
        return None;
    };
    let j = i + 1;
    let two = format!("{} {}", toks.norm(j), toks.norm(j + 1));
    let (m, end) = if half.contains(&toks.norm(j)) {
        (30, j + 1)
    } else if quarter.contains(&two.as_str()) {
        (15, j + 2)
    } else if quarter.contains(&toks.norm(j)) {
        (15, j + 1)
    } else {
        let (m, k) = small_at(toks, j, lang, 59)?;
        let k = if toks.is_any(k, &["minutos", "minutes", "minuti", "minuto", "minute"]) {
            k + 1
        } else {
            k
        };
        (m as i32, k)
    };
    if sign < 0 && m > 30 {
        return None;
    }
    Some((sign * m, end))
}

/// Adds signed minutes to an hour: (3, +30) → 3:30, (4, −15) → 3:45.
fn with_minutes(h: u32, delta: i32) -> Option<(u32, u32)> {
    if delta >= 0 {
        return (delta < 60).then_some((h, delta as u32));
    }
    let total = (h as i32) * 60 + delta;
    let total = total.rem_euclid(24 * 60);
    Some(((total / 60) as u32, (total % 60) as u32))
}

/// "HH:MM" or, before am/pm or "Uhr", "H.MM", after the hour digits at token `k`.
fn colon_minutes(toks: &Toks, k: usize, lang: Lang) -> Option<(i32, usize)> {
    let sep = if toks.is_punct(k, ':') {
        ':'
    } else if toks.is_punct(k, '.') {
        '.'
    } else {
        return None;
    };
    if !(toks.glued(k) && toks.glued(k + 1) && toks.is_num(k + 1) && toks.norm(k + 1).len() == 2) {
        return None;
    }
    let m: i32 = toks.norm(k + 1).parse().ok()?;
    let marked_after = period_at(toks, k + 2, lang).is_some() || toks.norm(k + 2) == "uhr";
    (m < 60 && (sep == ':' || marked_after)).then_some((m, k + 2))
}

/// "h", "heures", "Uhr", "horas", "ore" after an hour: the token past it.
fn hour_word(toks: &Toks, k: usize, lang: Lang) -> Option<usize> {
    let w = toks.norm(k);
    let ok = w == "h"
        || (lang == Lang::Fr && matches!(w, "heure" | "heures"))
        || (lang == Lang::De && w == "uhr")
        || (lang == Lang::Pt && matches!(w, "hora" | "horas"))
        || (lang == Lang::It && w == "ore")
        || (lang == Lang::Es && w == "horas");
    ok.then_some(k + 1)
}

/// "o'clock" (o ' clock) or "oclock": the token past it.
fn oclock(toks: &Toks, k: usize) -> Option<usize> {
    match toks.norm(k) {
        "oclock" => Some(k + 1),
        "o" if toks.is_punct(k + 1, '\'') && toks.norm(k + 2) == "clock" => Some(k + 3),
        _ => None,
    }
}

/// An hour-led time at token `j`: "3pm", "15:45", "15h30", "15 Uhr", "trois heures et
/// demie", "seven thirty", "las tres y media". Without a marker only when `cued`.
fn hour_led(toks: &Toks, j: usize, lang: Lang, cued: bool) -> Option<(u32, u32, usize)> {
    let (h, mut k) = small_at(toks, j, lang, 24)?;
    let h = h as u32;
    // Minutes after the hour, or before it when negative ("menos cuarto").
    let mut delta = 0i32;
    let mut marked = false;
    if toks.is_num(j)
        && let Some((m, e)) = colon_minutes(toks, k, lang)
    {
        (delta, k) = (m, e);
        marked = true;
    }
    if let Some(e) = hour_word(toks, k, lang) {
        // 15h30, 15 Uhr 30, trois heures vingt
        k = e;
        marked = true;
        if delta == 0
            && (toks.is_num(k) || lang != Lang::En)
            && let Some((m, e)) = small_at(toks, k, lang, 59)
        {
            (delta, k) = (m as i32, e);
        }
    } else if let Some(e) = oclock(toks, k).filter(|_| lang == Lang::En) {
        k = e;
        marked = true;
    } else if lang == Lang::En
        && delta == 0
        && let Some((m, e)) = english_minutes(toks, k)
    {
        // "seven thirty": a time only with a cue or am/pm (checked below).
        (delta, k) = (m as i32, e);
    }
    if delta == 0
        && let Some((d, e)) = minute_suffix(toks, k, lang)
    {
        (delta, k) = (d, e);
        marked = true;
    }
    let mut hour = h;
    if let Some((period, e)) = period_at(toks, k, lang) {
        hour = apply_period(h, period)?;
        k = e;
        marked = true;
    }
    if !marked && (!cued || toks.is_any(k, COUNT_NOUNS)) {
        return None;
    }
    let (hour, m) = with_minutes(hour, delta)?;
    (hour <= 24).then_some((hour, m, k))
}

/// English minutes after an hour in words: "thirty", "forty-five", "oh five".
fn english_minutes(toks: &Toks, k: usize) -> Option<(u32, usize)> {
    if toks.is_any(k, &["oh", "o"])
        && let Some((m, e)) = small_at(toks, k + 1, Lang::En, 9)
        && toks.is_word(k + 1)
    {
        return Some((m as u32, e));
    }
    if !toks.is_word(k) {
        return None;
    }
    let (m, e) = small_at(toks, k, Lang::En, 59)?;
    (m >= 10).then_some((m as u32, e))
}

/// "half past seven", "quarter to nine", "ten past four", "twenty to five".
fn english_fraction(toks: &Toks, j: usize) -> Option<(u32, u32, usize)> {
    let i = if toks.is_any(j, &["a"]) { j + 1 } else { j };
    let (minutes, mut k) = match toks.norm(i) {
        "half" => (30, i + 1),
        "quarter" => (15, i + 1),
        // Digits "5 to 9" are a range far more often than a time.
        _ if toks.is_word(i) => small_at(toks, i, Lang::En, 30).map(|(m, e)| (m as i32, e))?,
        _ => return None,
    };
    if toks.is_any(k, &["minutes", "minute", "mins"]) {
        k += 1;
    }
    let sign = match toks.norm(k) {
        "past" | "after" => 1,
        "to" | "till" | "til" | "before" | "of" if minutes != 30 => -1,
        _ => return None,
    };
    let (h, mut e) = small_at(toks, k + 1, Lang::En, 24)?;
    let mut h = h as u32;
    if let Some((period, pe)) = period_at(toks, e, Lang::En) {
        h = apply_period(h, period)?;
        e = pe;
    }
    let (h, m) = with_minutes(h, sign * minutes)?;
    Some((h, m, e))
}

/// "halb acht" 7:30, "viertel nach drei" 3:15, "viertel vor neun" 8:45, "zehn nach vier".
fn german_fraction(toks: &Toks, j: usize) -> Option<(u32, u32, usize)> {
    let lang = Lang::De;
    let (delta, k) = match toks.norm(j) {
        "halb" => (-30, j + 1),
        "dreiviertel" => (-15, j + 1),
        _ => {
            let (minutes, k) = match toks.norm(j) {
                "viertel" => (15, j + 1),
                _ if toks.is_word(j) => small_at(toks, j, lang, 30)?,
                _ => return None,
            };
            let k = if toks.is_any(k, &["minuten", "minute"]) {
                k + 1
            } else {
                k
            };
            let sign = match toks.norm(k) {
                "nach" => 1,
                "vor" => -1,
                _ => return None,
            };
            (sign * minutes as i32, k + 1)
        }
    };
    let (h, mut e) = small_at(toks, k, lang, 24)?;
    let mut h = h as u32;
    if toks.norm(e) == "uhr" {
        e += 1;
    }
    if let Some((period, pe)) = period_at(toks, e, lang) {
        h = apply_period(h, period)?;
        e = pe;
    }
    let (h, m) = with_minutes(h, delta)?;
    Some((h, m, e))
}

/// Portuguese and Latin-American Spanish "quinze para as nove" 8:45.
fn para_las(toks: &Toks, j: usize, lang: Lang) -> Option<(u32, u32, usize)> {
    let (minutes, k) = match toks.norm(j) {
        "cuarto" | "quarto" => (15, j + 1),
        _ if toks.is_word(j) => small_at(toks, j, lang, 30)?,
        _ => return None,
    };
    if toks.norm(k) != "para" {
        return None;
    }
    let k = k + 1;
    let k = if toks.is_any(k, &["as", "a", "las", "la"]) {
        k + 1
    } else {
        k
    };
    let (h, e) = small_at(toks, k, lang, 24)?;
    let (h, m) = with_minutes(h as u32, -(minutes as i32))?;
    Some((h, m, e))
}

/// Noon and midnight, with their minute phrases ("meio-dia e meia", "midi et quart").
fn named_at(toks: &Toks, j: usize, lang: Lang) -> Option<(u32, u32, usize)> {
    let hit = NAMED_INDEX.at(toks, j, bit(lang) | bit(Lang::En))?;
    let mut e = hit.end;
    let (mut h, mut m) = (hit.value, 0);
    if let Some((delta, end)) = minute_suffix(toks, e, lang) {
        (h, m) = with_minutes(h, delta)?;
        e = end;
    }
    Some((h, m, e))
}

/// The longest time at token `j`.
fn time_expr(toks: &Toks, j: usize, lang: Lang, cued: bool) -> Option<(u32, u32, usize)> {
    let mut candidates = vec![hour_led(toks, j, lang, cued), named_at(toks, j, lang)];
    match lang {
        Lang::En => candidates.push(english_fraction(toks, j)),
        Lang::De => candidates.push(german_fraction(toks, j)),
        Lang::Pt | Lang::Es => candidates.push(para_las(toks, j, lang)),
        _ => {}
    }
    if lang != Lang::En {
        candidates.push(english_fraction(toks, j));
    }
    candidates.into_iter().flatten().max_by_key(|c| c.2)
}

pub(crate) fn find(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    // A bare number is an hour after a cue, or as a short answer ("7", "at 7 please").
    let short = (0..toks.len())
        .filter(|&k| toks.is_word(k) || toks.is_num(k))
        .count()
        <= 3;
    let mut i = 0;
    while i < toks.len() {
        let cue = cue_at(toks, i, lang);
        let start = cue.unwrap_or(i);
        let cued = cue.is_some() || (mode == Mode::Answer && short);
        if let Some((h, m, end)) = time_expr(toks, start, lang, cued) {
            out.push(Cand::new(start, end, clock(h, m)));
            i = end;
            continue;
        }
        i += 1;
    }
}
