//! `Twilio.DATE` → `YYYY-MM-DD`, relative to the user's "now" (`Context::reference`).
//!
//! Recognised: relative words (today, tomorrow, "day after tomorrow", mañana, demain,
//! übermorgen …), offsets ("in 3 days", "2 weeks ago", "dans 3 jours", "vor 2 Tagen"),
//! weekdays with modifiers ("next Friday", "this friday", "el próximo viernes", "vendredi
//! prochain"), month-name dates ("March 3rd", "3rd of March", "3 de marzo de 2027",
//! "am 3. März"), numeric dates ("3/14", "14/3/2027", "2026-12-01", "14.03.2026"), a day of
//! the month ("on the 5th", "el día 5") and a few fixed holidays.
//!
//! Conventions (see the README): English "next Friday" is the Friday of next week (as in
//! Duckling), "this Friday"/"Friday" the coming one (today included); in the other languages
//! "próximo/prochain/nächsten/prossimo/próxima" is the first one after today. A date without
//! a year is the next one on or after today. Numeric dates are month-first in English and
//! day-first otherwise, unless only one reading is valid.

use std::sync::LazyLock;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

use crate::calendar::{month_at, weekday_at};
use crate::numbers::{self, small_at};
use crate::phrases::{Phrases, bit, with_english};
use crate::text::Toks;
use crate::{Cand, Context, Lang, Mode};

/// Relative day words: (phrase, days from today), per language.
const RELATIVE: [(Lang, &[(&str, i8)]); 6] = [
    (
        Lang::En,
        &[
            ("today", 0),
            ("tonight", 0),
            ("this morning", 0),
            ("this afternoon", 0),
            ("this evening", 0),
            ("tomorrow", 1),
            ("tmrw", 1),
            ("tmr", 1),
            ("tomorrow morning", 1),
            ("yesterday", -1),
            ("day after tomorrow", 2),
            ("the day after tomorrow", 2),
            ("overmorrow", 2),
            ("day before yesterday", -2),
            ("the day before yesterday", -2),
        ],
    ),
    (
        Lang::Es,
        &[
            ("hoy", 0),
            ("esta noche", 0),
            ("esta manana", 0),
            ("esta tarde", 0),
            ("manana", 1),
            ("pasado manana", 2),
            ("ayer", -1),
            ("anteayer", -2),
            ("antier", -2),
            ("antes de ayer", -2),
        ],
    ),
    (
        Lang::Fr,
        &[
            ("aujourd'hui", 0),
            ("aujourdhui", 0),
            ("ce soir", 0),
            ("ce matin", 0),
            ("cet apres-midi", 0),
            ("demain", 1),
            ("apres-demain", 2),
            ("hier", -1),
            ("avant-hier", -2),
        ],
    ),
    (
        Lang::De,
        &[
            ("heute", 0),
            ("heute abend", 0),
            ("heute morgen", 0),
            ("heute nachmittag", 0),
            ("morgen", 1),
            ("ubermorgen", 2),
            ("uebermorgen", 2),
            ("gestern", -1),
            ("vorgestern", -2),
        ],
    ),
    (
        Lang::It,
        &[
            ("oggi", 0),
            ("stasera", 0),
            ("stamattina", 0),
            ("domani", 1),
            ("dopodomani", 2),
            ("dopo domani", 2),
            ("ieri", -1),
            ("l'altro ieri", -2),
            ("altroieri", -2),
            ("ieri l'altro", -2),
        ],
    ),
    (
        Lang::Pt,
        &[
            ("hoje", 0),
            ("hoje a noite", 0),
            ("esta noite", 0),
            ("amanha", 1),
            ("depois de amanha", 2),
            ("ontem", -1),
            ("anteontem", -2),
            ("antes de ontem", -2),
        ],
    ),
];

static RELATIVE_INDEX: LazyLock<Phrases<i8>> = LazyLock::new(|| {
    let mut p = Phrases::new();
    for (lang, words) in RELATIVE {
        for (w, d) in words {
            p.insert(w, *d, bit(lang), false);
        }
    }
    p
});

/// Words before "mañana"/"morgen" that make it "morning", not "tomorrow".
const MORNING_CUES: &[&str] = &["la", "guten", "am", "jeden", "de", "por", "cada", "esta"];

/// Fixed-date holidays: (language, phrase, month, day).
const HOLIDAYS: &[(Lang, &str, u32, u32)] = &[
    (Lang::En, "christmas", 12, 25),
    (Lang::En, "christmas day", 12, 25),
    (Lang::En, "xmas", 12, 25),
    (Lang::En, "christmas eve", 12, 24),
    (Lang::En, "new year's eve", 12, 31),
    (Lang::En, "new years eve", 12, 31),
    (Lang::En, "new year's day", 1, 1),
    (Lang::En, "new years day", 1, 1),
    (Lang::En, "valentine's day", 2, 14),
    (Lang::En, "valentines day", 2, 14),
    (Lang::En, "halloween", 10, 31),
    (Lang::En, "independence day", 7, 4),
    (Lang::Es, "navidad", 12, 25),
    (Lang::Es, "nochebuena", 12, 24),
    (Lang::Es, "nochevieja", 12, 31),
    (Lang::Es, "ano nuevo", 1, 1),
    (Lang::Fr, "noel", 12, 25),
    (Lang::Fr, "jour de l'an", 1, 1),
    (Lang::Fr, "reveillon", 12, 31),
    (Lang::De, "weihnachten", 12, 25),
    (Lang::De, "heiligabend", 12, 24),
    (Lang::De, "silvester", 12, 31),
    (Lang::De, "neujahr", 1, 1),
    (Lang::It, "natale", 12, 25),
    (Lang::It, "vigilia di natale", 12, 24),
    (Lang::It, "capodanno", 1, 1),
    (Lang::Pt, "dia de natal", 12, 25),
    (Lang::Pt, "vespera de natal", 12, 24),
    (Lang::Pt, "ano novo", 1, 1),
];

static HOLIDAY_INDEX: LazyLock<Phrases<(u32, u32)>> = LazyLock::new(|| {
    let mut p = Phrases::new();
    for (lang, w, m, d) in HOLIDAYS {
        p.insert(w, (*m, *d), bit(*lang), false);
    }
    p
});

/// Time units for offsets: (word, unit) per language.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    Day,
    Week,
    Month,
    Year,
}

const UNITS: [(Lang, &[(&str, Unit)]); 6] = [
    (
        Lang::En,
        &[
            ("day", Unit::Day),
            ("days", Unit::Day),
            ("week", Unit::Week),
            ("weeks", Unit::Week),
            ("month", Unit::Month),
            ("months", Unit::Month),
            ("year", Unit::Year),
            ("years", Unit::Year),
        ],
    ),
    (
        Lang::Es,
        &[
            ("dia", Unit::Day),
            ("dias", Unit::Day),
            ("semana", Unit::Week),
            ("semanas", Unit::Week),
            ("mes", Unit::Month),
            ("meses", Unit::Month),
            ("ano", Unit::Year),
            ("anos", Unit::Year),
        ],
    ),
    (
        Lang::Fr,
        &[
            ("jour", Unit::Day),
            ("jours", Unit::Day),
            ("semaine", Unit::Week),
            ("semaines", Unit::Week),
            ("mois", Unit::Month),
            ("an", Unit::Year),
            ("ans", Unit::Year),
            ("annee", Unit::Year),
            ("annees", Unit::Year),
        ],
    ),
    (
        Lang::De,
        &[
            ("tag", Unit::Day),
            ("tage", Unit::Day),
            ("tagen", Unit::Day),
            ("woche", Unit::Week),
            ("wochen", Unit::Week),
            ("monat", Unit::Month),
            ("monate", Unit::Month),
            ("monaten", Unit::Month),
            ("jahr", Unit::Year),
            ("jahre", Unit::Year),
            ("jahren", Unit::Year),
        ],
    ),
    (
        Lang::It,
        &[
            ("giorno", Unit::Day),
            ("giorni", Unit::Day),
            ("settimana", Unit::Week),
            ("settimane", Unit::Week),
            ("mese", Unit::Month),
            ("mesi", Unit::Month),
            ("anno", Unit::Year),
            ("anni", Unit::Year),
        ],
    ),
    (
        Lang::Pt,
        &[
            ("dia", Unit::Day),
            ("dias", Unit::Day),
            ("semana", Unit::Week),
            ("semanas", Unit::Week),
            ("mes", Unit::Month),
            ("meses", Unit::Month),
            ("ano", Unit::Year),
            ("anos", Unit::Year),
        ],
    ),
];

fn unit_word(word: &str, lang: Lang) -> Option<Unit> {
    let table = UNITS.iter().find(|(l, _)| *l == lang)?.1;
    table.iter().find(|(w, _)| *w == word).map(|(_, u)| *u)
}

/// Words before an offset: (words, future?). "dentro de" and "daqui a" are two tokens.
fn offset_prefix(toks: &Toks, i: usize, lang: Lang) -> Option<(bool, usize)> {
    let w = toks.norm(i);
    let two = |a: &str, b: &str| w == a && toks.norm(i + 1) == b;
    let three = |a: &str, b: &str, c: &str| two(a, b) && toks.norm(i + 2) == c;
    match lang {
        Lang::En if w == "in" || w == "within" => Some((true, i + 1)),
        Lang::Es if two("dentro", "de") => Some((true, i + 2)),
        Lang::Es if w == "en" => Some((true, i + 1)),
        Lang::Es if w == "hace" => Some((false, i + 1)),
        Lang::Fr if w == "dans" => Some((true, i + 1)),
        Lang::Fr if three("il", "y", "a") => Some((false, i + 3)),
        Lang::De if w == "in" => Some((true, i + 1)),
        Lang::De if w == "vor" => Some((false, i + 1)),
        Lang::It if w == "tra" || w == "fra" => Some((true, i + 1)),
        Lang::Pt if two("daqui", "a") || two("dentro", "de") => Some((true, i + 2)),
        Lang::Pt if w == "em" => Some((true, i + 1)),
        Lang::Pt if w == "ha" => Some((false, i + 1)),
        _ => None,
    }
}

/// Words after an offset: "from now", "ago", "fa", "atrás".
fn offset_suffix(toks: &Toks, i: usize, lang: Lang) -> Option<(bool, usize)> {
    let w = toks.norm(i);
    match lang {
        Lang::En if w == "ago" => Some((false, i + 1)),
        Lang::En if w == "from" && toks.is_any(i + 1, &["now", "today"]) => Some((true, i + 2)),
        Lang::En if w == "later" => Some((true, i + 1)),
        Lang::It if w == "fa" => Some((false, i + 1)),
        Lang::Pt if w == "atras" => Some((false, i + 1)),
        _ => None,
    }
}

/// A count before a unit: a number, or an article ("a week", "una semana").
fn count_at(toks: &Toks, i: usize, lang: Lang) -> Option<(u64, usize)> {
    const ONE: &[&str] = &[
        "a", "an", "one", "un", "una", "une", "uno", "ein", "eine", "einem", "einer", "einen",
        "um", "uma",
    ];
    if let Some(found) = small_at(toks, i, lang, 400) {
        return Some(found);
    }
    toks.is_any(i, ONE).then_some((1, i + 1))
}

fn shift(date: NaiveDate, n: u64, unit: Unit, future: bool) -> Option<NaiveDate> {
    let n32 = u32::try_from(n).ok()?;
    match (unit, future) {
        (Unit::Day, true) => date.checked_add_days(Days::new(n)),
        (Unit::Day, false) => date.checked_sub_days(Days::new(n)),
        (Unit::Week, true) => date.checked_add_days(Days::new(n * 7)),
        (Unit::Week, false) => date.checked_sub_days(Days::new(n * 7)),
        (Unit::Month, true) => date.checked_add_months(Months::new(n32)),
        (Unit::Month, false) => date.checked_sub_months(Months::new(n32)),
        (Unit::Year, true) => date.checked_add_months(Months::new(n32.checked_mul(12)?)),
        (Unit::Year, false) => date.checked_sub_months(Months::new(n32.checked_mul(12)?)),
    }
}

/// "in 3 days", "2 weeks ago", "a week from now", "dans 3 jours", "3 giorni fa".
fn offset_at(toks: &Toks, i: usize, ctx: &Context) -> Option<(NaiveDate, usize)> {
    let today = ctx.reference.date();
    for lang in langs(ctx.lang) {
        if let Some((future, j)) = offset_prefix(toks, i, lang)
            && let Some((n, k)) = count_at(toks, j, lang)
            && let Some(unit) = unit_word(toks.norm(k), lang)
        {
            return Some((shift(today, n, unit, future)?, k + 1));
        }
        if let Some((n, k)) = count_at(toks, i, lang)
            && let Some(unit) = unit_word(toks.norm(k), lang)
            && let Some((future, end)) = offset_suffix(toks, k + 1, lang)
        {
            return Some((shift(today, n, unit, future)?, end));
        }
    }
    None
}

/// The user's language first, then English.
fn langs(lang: Lang) -> impl Iterator<Item = Lang> {
    std::iter::once(lang).chain((lang != Lang::En).then_some(Lang::En))
}

/// Which occurrence of a weekday a modifier asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Which {
    /// Today or the next one ("Friday", "this Friday").
    Upcoming,
    /// The first one after today ("vendredi prochain").
    Coming,
    /// The one in next week (English "next Friday").
    NextWeek,
    /// The one in the week after next ("Friday after next").
    WeekAfterNext,
    /// The one in this week, even if past ("Friday this week").
    ThisWeek,
    /// The one in last week (English "last Friday").
    LastWeek,
    /// The last one before today ("vendredi dernier").
    Previous,
}

fn weekday_prefix(toks: &Toks, i: usize, lang: Lang) -> Option<(Which, usize)> {
    let w = toks.norm(i);
    let which = match lang {
        Lang::En => match w {
            "next" => Which::NextWeek,
            "this" if toks.norm(i + 1) == "coming" => return Some((Which::Upcoming, i + 2)),
            "this" | "coming" => Which::Upcoming,
            "last" | "past" => Which::LastWeek,
            _ => return None,
        },
        Lang::Es => match w {
            "proximo" => Which::Coming,
            "este" => Which::Upcoming,
            "pasado" => Which::Previous,
            _ => return None,
        },
        Lang::Fr => match w {
            "ce" => Which::Upcoming,
            _ => return None,
        },
        Lang::De => match w {
            "nachsten" | "nachster" | "nachste" | "kommenden" | "kommender" => Which::Coming,
            "diesen" | "dieser" | "diese" => Which::Upcoming,
            "letzten" | "letzter" | "vergangenen" => Which::Previous,
            _ => return None,
        },
        Lang::It => match w {
            "prossimo" => Which::Coming,
            "questo" => Which::Upcoming,
            "scorso" => Which::Previous,
            _ => return None,
        },
        Lang::Pt => match w {
            "proxima" | "proximo" => Which::Coming,
            "esta" | "este" | "nesta" | "neste" => Which::Upcoming,
            "ultima" | "ultimo" => Which::Previous,
            _ => return None,
        },
    };
    Some((which, i + 1))
}

fn weekday_suffix(toks: &Toks, i: usize, lang: Lang) -> Option<(Which, usize)> {
    let w = toks.norm(i);
    let next = toks.norm(i + 1);
    match lang {
        Lang::En => match (w, next) {
            ("next", "week") => Some((Which::NextWeek, i + 2)),
            ("this", "week") => Some((Which::ThisWeek, i + 2)),
            ("last", "week") => Some((Which::LastWeek, i + 2)),
            ("after", "next") => Some((Which::WeekAfterNext, i + 2)),
            _ => None,
        },
        Lang::Es => match (w, next) {
            ("proximo", _) => Some((Which::Coming, i + 1)),
            ("que", "viene") => Some((Which::Coming, i + 2)),
            ("pasado", _) => Some((Which::Previous, i + 1)),
            _ => None,
        },
        Lang::Fr => match w {
            "prochain" => Some((Which::Coming, i + 1)),
            "dernier" => Some((Which::Previous, i + 1)),
            _ => None,
        },
        Lang::It => match w {
            "prossimo" => Some((Which::Coming, i + 1)),
            "scorso" => Some((Which::Previous, i + 1)),
            _ => None,
        },
        Lang::Pt => match (w, next) {
            ("que", "vem") => Some((Which::Coming, i + 2)),
            ("passada" | "passado", _) => Some((Which::Previous, i + 1)),
            _ => None,
        },
        Lang::De => None,
    }
}

/// The date of weekday `day` picked by `which`, from `today`.
fn resolve_weekday(today: NaiveDate, day: Weekday, which: Which) -> Option<NaiveDate> {
    let t = i64::from(today.weekday().num_days_from_monday());
    let d = i64::from(day.num_days_from_monday());
    let ahead = (d - t).rem_euclid(7);
    let offset = match which {
        Which::Upcoming => ahead,
        Which::Coming => {
            if ahead == 0 {
                7
            } else {
                ahead
            }
        }
        Which::ThisWeek => d - t,
        Which::NextWeek => d - t + 7,
        Which::WeekAfterNext => d - t + 14,
        Which::LastWeek => d - t - 7,
        Which::Previous => {
            let back = (t - d).rem_euclid(7);
            -(if back == 0 { 7 } else { back })
        }
    };
    add_days(today, offset)
}

fn add_days(date: NaiveDate, n: i64) -> Option<NaiveDate> {
    if n >= 0 {
        date.checked_add_days(Days::new(n as u64))
    } else {
        date.checked_sub_days(Days::new(n.unsigned_abs()))
    }
}

/// "next Friday", "Friday", "vendredi prochain", "nächsten Freitag", "sexta que vem", and a
/// weekday followed by an explicit date ("Friday, March 13": the explicit date wins).
fn weekday_expr_at(toks: &Toks, i: usize, ctx: &Context, mode: Mode) -> Option<(NaiveDate, usize)> {
    let today = ctx.reference.date();
    for lang in langs(ctx.lang) {
        let (which, j) = weekday_prefix(toks, i, lang).unwrap_or((Which::Upcoming, i));
        // A modifier makes even an ambiguous name ("next sat") a weekday.
        let day_mode = if j > i { Mode::Answer } else { mode };
        let (day, k) = match weekday_at(toks, j, ctx.lang, day_mode) {
            Some(found) => found,
            None if j == i => {
                // … and so does one after it ("sexta que vem").
                let Some((day, k)) = weekday_at(toks, j, ctx.lang, Mode::Answer) else {
                    continue;
                };
                let Some((which, end)) = weekday_suffix(toks, k, lang) else {
                    continue;
                };
                return Some((resolve_weekday(today, day, which)?, end));
            }
            None => continue,
        };
        if j == i {
            // Bare weekday: an explicit date may follow.
            let after = if toks.is_punct(k, ',') { k + 1 } else { k };
            if let Some((date, end)) = absolute_at(toks, after, ctx, Mode::Answer) {
                return Some((date, end));
            }
            if let Some((which, end)) = weekday_suffix(toks, k, lang) {
                return Some((resolve_weekday(today, day, which)?, end));
            }
        }
        return Some((resolve_weekday(today, day, which)?, k));
    }
    None
}

/// A day of the month at token `i`: "5th", "first", "twenty-first", "1er", "3.", "ersten";
/// plain numbers ("5", "cinco") only if `cardinal`.
pub(crate) fn day_at(toks: &Toks, i: usize, lang: Lang, cardinal: bool) -> Option<(u32, usize)> {
    let valid = |d: u64| (1..=31).contains(&d);
    if toks.is_num(i) {
        let d: u64 = toks
            .norm(i)
            .parse()
            .ok()
            .filter(|_| toks.norm(i).len() <= 2)?;
        if !valid(d) {
            return None;
        }
        let next = toks.norm(i + 1);
        let glued = toks.glued(i + 1);
        let suffix = glued
            && match lang {
                Lang::En => matches!(next, "st" | "nd" | "rd" | "th"),
                Lang::Fr => matches!(next, "er" | "re" | "e" | "eme" | "ieme"),
                Lang::Es | Lang::It | Lang::Pt => matches!(next, "o" | "a"),
                Lang::De => next == ".",
            };
        if suffix {
            return Some((d as u32, i + 2));
        }
        // English ordinals are understood in every language ("the 5th").
        if glued && matches!(next, "st" | "nd" | "rd" | "th") {
            return Some((d as u32, i + 2));
        }
        return cardinal.then_some((d as u32, i + 1));
    }
    if let Some((d, end)) = ordinal_word_at(toks, i, lang) {
        return Some((d, end));
    }
    if cardinal && let Some((d, end)) = small_at(toks, i, lang, 31) {
        return valid(d).then_some((d as u32, end));
    }
    None
}

const EN_ORDINALS: &[(&str, u32)] = &[
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
    ("sixth", 6),
    ("seventh", 7),
    ("eighth", 8),
    ("ninth", 9),
    ("tenth", 10),
    ("eleventh", 11),
    ("twelfth", 12),
    ("thirteenth", 13),
    ("fourteenth", 14),
    ("fifteenth", 15),
    ("sixteenth", 16),
    ("seventeenth", 17),
    ("eighteenth", 18),
    ("nineteenth", 19),
    ("twentieth", 20),
    ("thirtieth", 30),
];

/// Ordinal words for days: English 1st–31st, the "first" of the Romance languages, German
/// "dritten", "einundzwanzigsten".
fn ordinal_word_at(toks: &Toks, i: usize, lang: Lang) -> Option<(u32, usize)> {
    if !toks.is_word(i) {
        return None;
    }
    let w = toks.norm(i);
    let en = |w: &str| EN_ORDINALS.iter().find(|(o, _)| *o == w).map(|(_, d)| *d);
    match lang {
        Lang::En => {
            if let Some(d) = en(w) {
                return Some((d, i + 1));
            }
            // "twenty-first", "thirty first"
            let tens = match w {
                "twenty" => 20,
                "thirty" => 30,
                _ => return None,
            };
            let j = if toks.is_punct(i + 1, '-') {
                i + 2
            } else {
                i + 1
            };
            let unit = en(toks.norm(j)).filter(|d| *d < 10)?;
            (tens + unit <= 31).then_some((tens + unit, j + 1))
        }
        Lang::Es if matches!(w, "primero" | "primer") => Some((1, i + 1)),
        Lang::Fr if matches!(w, "premier" | "premiere") => Some((1, i + 1)),
        Lang::It if w == "primo" => Some((1, i + 1)),
        Lang::Pt if w == "primeiro" => Some((1, i + 1)),
        Lang::De => german_ordinal(w).map(|d| (d, i + 1)),
        _ => None,
    }
}

/// "ersten" 1, "dritte" 3, "siebten" 7, "zwanzigsten" 20, "einunddreißigsten" 31: a stem
/// and "-te"/"-ste" plus an ending; "erst", "dritt", "siebt", "acht" take the ending alone.
fn german_ordinal(w: &str) -> Option<u32> {
    const ENDINGS: &[&str] = &["n", "r", "s", "m", ""];
    for ending in ENDINGS {
        let Some(base) = w.strip_suffix(ending) else {
            continue;
        };
        let Some(base) = base.strip_suffix('e') else {
            continue;
        };
        let d = match base {
            "erst" => 1,
            "dritt" => 3,
            "siebt" => 7,
            "acht" => 8,
            _ => {
                let stem = base.strip_suffix("st").or_else(|| base.strip_suffix('t'))?;
                match numbers::words_at(&Toks::new(stem), 0, Lang::De) {
                    Some((v, 1)) => v as u32,
                    _ => continue,
                }
            }
        };
        if (1..=31).contains(&d) {
            return Some(d);
        }
    }
    None
}

/// A four-digit year at token `i` (optionally after ",", "of", "de", "del").
fn year_at(toks: &Toks, i: usize) -> Option<(i32, usize)> {
    let j = if toks.is_punct(i, ',') || toks.is_any(i, &["of", "de", "del"]) {
        i + 1
    } else {
        i
    };
    if !toks.is_num(j) || toks.norm(j).len() != 4 {
        return None;
    }
    let y: i32 = toks.norm(j).parse().ok()?;
    (1900..=2200).contains(&y).then_some((y, j + 1))
}

/// The date for a day and month with no year: the next one on or after today.
fn next_day_month(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    for year in today.year()..=today.year() + 8 {
        if let Some(d) = NaiveDate::from_ymd_opt(year, month, day)
            && d >= today
        {
            return Some(d);
        }
    }
    None
}

fn ymd(today: NaiveDate, year: Option<i32>, month: u32, day: u32) -> Option<NaiveDate> {
    match year {
        Some(y) => NaiveDate::from_ymd_opt(y, month, day),
        None => next_day_month(today, month, day),
    }
}

/// Month-name and numeric dates.
fn absolute_at(toks: &Toks, i: usize, ctx: &Context, mode: Mode) -> Option<(NaiveDate, usize)> {
    let today = ctx.reference.date();
    let lang = ctx.lang;
    let mut best: Option<(NaiveDate, usize)> = None;
    let mut consider = |found: Option<(NaiveDate, usize)>| {
        if let Some((d, end)) = found
            && best.is_none_or(|(_, e)| end > e)
        {
            best = Some((d, end));
        }
    };
    consider(numeric_at(toks, i, lang, today));
    // Month first: "March 3rd", "March the 3rd, 2027".
    if let Some((month, j)) = month_at(toks, i, lang, Mode::Answer, true) {
        let j2 = if toks.is_any(j, &["the"]) { j + 1 } else { j };
        if let Some((day, k)) = day_at(toks, j2, lang, true) {
            let year = year_at(toks, k);
            let end = year.map_or(k, |(_, e)| e);
            consider(ymd(today, year.map(|(y, _)| y), month, day).map(|d| (d, end)));
        }
    }
    // Day first: "3rd of March", "3 de marzo de 2027", "am 3. März", "le 1er mars".
    if let Some((day, j)) = day_at(toks, i, lang, true) {
        let j2 = if toks.is_any(j, &["of", "de", "di", "del"]) {
            j + 1
        } else {
            j
        };
        if let Some((month, k)) = month_at(toks, j2, lang, mode, true) {
            let year = year_at(toks, k);
            let end = year.map_or(k, |(_, e)| e);
            consider(ymd(today, year.map(|(y, _)| y), month, day).map(|d| (d, end)));
        }
    }
    best
}

/// "2026-12-01", "3/14", "3/14/2027", "14/3/27", "14.03.2026".
fn numeric_at(toks: &Toks, i: usize, lang: Lang, today: NaiveDate) -> Option<(NaiveDate, usize)> {
    if !toks.is_num(i) || (i > 0 && toks.glued(i) && !toks.is_punct(i - 1, '(')) {
        return None;
    }
    // Up to three glued numbers separated by the same character.
    let sep = toks.norm(i + 1);
    if !matches!(sep, "/" | "-" | ".") || !toks.glued(i + 1) || !toks.glued(i + 2) {
        return None;
    }
    let mut parts = vec![toks.norm(i)];
    let mut j = i + 1;
    while parts.len() < 3
        && toks.norm(j) == sep
        && toks.glued(j)
        && toks.is_num(j + 1)
        && toks.glued(j + 1)
    {
        parts.push(toks.norm(j + 1));
        j += 2;
    }
    // Not part of something longer ("1/2/3/4", "1.2.3.4").
    if toks.norm(j) == sep && toks.glued(j) && toks.is_num(j + 1) {
        return None;
    }
    let num = |s: &str| s.parse::<u32>().ok();
    let date = match (parts.as_slice(), sep) {
        ([y, m, d], "-" | "/") if y.len() == 4 => {
            NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?)?
        }
        ([a, b, y], _) if a.len() <= 2 && b.len() <= 2 && matches!(y.len(), 2 | 4) => {
            let year = if y.len() == 2 {
                2000 + num(y)?
            } else {
                num(y)?
            } as i32;
            let (m, d) = month_day(num(a)?, num(b)?, lang, sep)?;
            NaiveDate::from_ymd_opt(year, m, d)?
        }
        ([a, b], "/") if a.len() <= 2 && b.len() <= 2 => {
            let (m, d) = month_day(num(a)?, num(b)?, lang, sep)?;
            next_day_month(today, m, d)?
        }
        // German "14.3." needs its closing period.
        ([a, b], ".") if lang == Lang::De && toks.is_punct(j, '.') && toks.glued(j) => {
            let (m, d) = month_day(num(a)?, num(b)?, lang, sep)?;
            let date = next_day_month(today, m, d)?;
            return Some((date, j + 1));
        }
        _ => return None,
    };
    Some((date, j))
}

/// Orders two numbers as (month, day): month first in English with "/", day first
/// otherwise, unless only the other order is valid.
fn month_day(a: u32, b: u32, lang: Lang, sep: &str) -> Option<(u32, u32)> {
    let month_first = lang == Lang::En && sep != ".";
    let (m, d) = if month_first { (a, b) } else { (b, a) };
    if (1..=12).contains(&m) && (1..=31).contains(&d) {
        Some((m, d))
    } else if (1..=12).contains(&d) && (1..=31).contains(&m) {
        Some((d, m))
    } else {
        None
    }
}

/// A day of the month alone: "on the 5th", "the 5th of next month", "el día 5", "am 5.",
/// "dia 5"; in an answer also "5th" or "5".
fn day_only_at(toks: &Toks, i: usize, ctx: &Context, mode: Mode) -> Option<(NaiveDate, usize)> {
    let lang = ctx.lang;
    let prev = if i > 0 { toks.norm(i - 1) } else { "" };
    // (token where the day starts, a plain number is fine, the context makes it a date)
    let (j, cardinal, cued) = match toks.norm(i) {
        "the" => (i + 1, false, prev == "on" || mode == Mode::Answer),
        "dia" if matches!(lang, Lang::Es | Lang::Pt) => (i + 1, true, true),
        "giorno" if lang == Lang::It => (i + 1, true, true),
        // A bare number is a day only as a whole answer (see `answer`).
        _ => (i, false, mode == Mode::Answer || prev == "on"),
    };
    let (day, mut end) = day_at(toks, j, lang, cardinal || (j > i && lang != Lang::En))?;
    let today = ctx.reference.date();
    let mut month_offset = 0u32;
    // "of the month", "of this month", "of next month"
    if toks.norm(end) == "of" {
        match (toks.norm(end + 1), toks.norm(end + 2)) {
            ("the" | "this", "month") => end += 3,
            ("next", "month") => {
                end += 3;
                month_offset = 1;
            }
            _ => {}
        }
    }
    let german = lang == Lang::De && toks.is_punct(j + 1, '.') && matches!(prev, "am" | "den");
    if !(cued || end > j + 2 || german) {
        return None;
    }
    let from = if month_offset == 0 {
        today
    } else {
        today
            .with_day(1)?
            .checked_add_months(Months::new(month_offset))?
    };
    Some((next_day_of_month(from, day)?, end))
}

/// The next date on or after `from` whose day of the month is `day` (skipping months
/// without it).
pub(crate) fn next_day_of_month(from: NaiveDate, day: u32) -> Option<NaiveDate> {
    let mut month = from.with_day(1)?;
    for _ in 0..13 {
        if let Some(d) = month.with_day(day)
            && d >= from
        {
            return Some(d);
        }
        month = month.checked_add_months(Months::new(1))?;
    }
    None
}

/// "tomorrow", "mañana", "heute" (not "la mañana", "guten Morgen").
fn relative_at(toks: &Toks, i: usize, ctx: &Context) -> Option<(NaiveDate, usize)> {
    let hit = RELATIVE_INDEX.at(toks, i, with_english(ctx.lang))?;
    let w = toks.norm(i);
    if matches!(w, "manana" | "morgen") && i > 0 && toks.is_any(i - 1, MORNING_CUES) {
        return None;
    }
    Some((
        add_days(ctx.reference.date(), i64::from(hit.value))?,
        hit.end,
    ))
}

fn holiday_at(toks: &Toks, i: usize, ctx: &Context) -> Option<(NaiveDate, usize)> {
    let hit = HOLIDAY_INDEX.at(toks, i, with_english(ctx.lang))?;
    let (m, d) = hit.value;
    Some((next_day_month(ctx.reference.date(), m, d)?, hit.end))
}

/// The longest date starting at token `i`.
pub(crate) fn date_at(
    toks: &Toks,
    i: usize,
    ctx: &Context,
    mode: Mode,
) -> Option<(NaiveDate, usize)> {
    [
        relative_at(toks, i, ctx),
        offset_at(toks, i, ctx),
        weekday_expr_at(toks, i, ctx, mode),
        absolute_at(toks, i, ctx, mode),
        day_only_at(toks, i, ctx, mode),
        holiday_at(toks, i, ctx),
    ]
    .into_iter()
    .flatten()
    .max_by_key(|(_, end)| *end)
}

pub(crate) fn find(toks: &Toks, ctx: &Context, mode: Mode, out: &mut Vec<Cand>) {
    let mut i = 0;
    while i < toks.len() {
        match date_at(toks, i, ctx, mode) {
            Some((date, end)) => {
                out.push(Cand::new(i, end, date.format("%Y-%m-%d").to_string()));
                i = end;
            }
            None => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_ordinals() {
        assert_eq!(german_ordinal("ersten"), Some(1));
        assert_eq!(german_ordinal("dritte"), Some(3));
        assert_eq!(german_ordinal("siebten"), Some(7));
        assert_eq!(german_ordinal("achten"), Some(8));
        assert_eq!(german_ordinal("vierten"), Some(4));
        assert_eq!(german_ordinal("zwanzigsten"), Some(20));
        assert_eq!(german_ordinal("einunddreissigsten"), Some(31));
        assert_eq!(german_ordinal("einen"), None);
        assert_eq!(german_ordinal("morgen"), None);
        assert_eq!(german_ordinal("hunderte"), None);
    }

    #[test]
    fn weekday_conventions() {
        let wed = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(
            resolve_weekday(wed, Weekday::Fri, Which::Upcoming),
            d(2026, 3, 13)
        );
        assert_eq!(
            resolve_weekday(wed, Weekday::Wed, Which::Upcoming),
            d(2026, 3, 11)
        );
        assert_eq!(
            resolve_weekday(wed, Weekday::Wed, Which::Coming),
            d(2026, 3, 18)
        );
        assert_eq!(
            resolve_weekday(wed, Weekday::Fri, Which::NextWeek),
            d(2026, 3, 20)
        );
        assert_eq!(
            resolve_weekday(wed, Weekday::Mon, Which::NextWeek),
            d(2026, 3, 16)
        );
        assert_eq!(
            resolve_weekday(wed, Weekday::Fri, Which::LastWeek),
            d(2026, 3, 6)
        );
        assert_eq!(
            resolve_weekday(wed, Weekday::Mon, Which::Previous),
            d(2026, 3, 9)
        );
        assert_eq!(
            resolve_weekday(wed, Weekday::Fri, Which::WeekAfterNext),
            d(2026, 3, 27)
        );
    }
}
