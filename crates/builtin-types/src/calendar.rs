//! Weekday and month names (`Twilio.DAY_OF_WEEK`, `Twilio.MONTH`), also used by dates.
//!
//! Names that are ordinary words too ("may", "sun", "mar", Portuguese "quinta" = fifth) only
//! count with a cue: a preposition or determiner before them ("in May", "na sexta"), a
//! number next to them ("May 5"), a capital letter, or when they are the whole answer.

use std::sync::LazyLock;

use chrono::Weekday;

use crate::phrases::{ALL_LANGS, Phrases, bit, with_english};
use crate::text::Toks;
use crate::{Cand, Lang, Mode};

pub(crate) const WEEKDAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

pub(crate) const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Per language, per weekday from Monday: names; a leading `~` marks a name that is also a
/// common word, here or in another language ("mon" is French for "my", "sept" for seven).
const WEEKDAYS: [(Lang, [&[&str]; 7]); 6] = [
    (
        Lang::En,
        [
            &["monday", "mondays", "~mon"],
            &["tuesday", "tuesdays", "~tue", "~tues"],
            &["wednesday", "wednesdays", "~wed", "~weds"],
            &["thursday", "thursdays", "~thu", "~thur", "~thurs"],
            &["friday", "fridays", "~fri"],
            &["saturday", "saturdays", "~sat"],
            &["sunday", "sundays", "~sun"],
        ],
    ),
    (
        Lang::Es,
        [
            &["lunes"],
            &["martes"],
            &["miercoles"],
            &["jueves"],
            &["viernes"],
            &["sabado", "sabados"],
            &["domingo", "domingos"],
        ],
    ),
    (
        Lang::Fr,
        [
            &["lundi"],
            &["mardi"],
            &["mercredi"],
            &["jeudi"],
            &["vendredi"],
            &["samedi"],
            &["dimanche"],
        ],
    ),
    (
        Lang::De,
        [
            &["montag", "montags"],
            &["dienstag", "dienstags"],
            &["mittwoch", "mittwochs"],
            &["donnerstag", "donnerstags"],
            &["freitag", "freitags"],
            &["samstag", "samstags", "sonnabend"],
            &["sonntag", "sonntags"],
        ],
    ),
    (
        Lang::It,
        [
            &["lunedi"],
            &["martedi"],
            &["mercoledi"],
            &["giovedi"],
            &["venerdi"],
            &["sabato"],
            &["domenica"],
        ],
    ),
    (
        Lang::Pt,
        [
            &["segunda-feira", "~segunda"],
            &["terca-feira", "terca"],
            &["quarta-feira", "~quarta"],
            &["quinta-feira", "~quinta"],
            &["sexta-feira", "~sexta"],
            &["sabado"],
            &["domingo"],
        ],
    ),
];

const MONTHS: [(Lang, [&[&str]; 12]); 6] = [
    (
        Lang::En,
        [
            &["january", "~jan"],
            &["february", "~feb"],
            &["march", "~mar"],
            &["april", "~apr"],
            &["~may"],
            &["june", "~jun"],
            &["july", "~jul"],
            &["august", "~aug"],
            &["september", "~sep", "~sept"],
            &["october", "~oct"],
            &["november", "~nov"],
            &["december", "~dec"],
        ],
    ),
    (
        Lang::Es,
        [
            &["enero"],
            &["febrero"],
            &["marzo"],
            &["abril"],
            &["mayo"],
            &["junio"],
            &["julio"],
            &["agosto"],
            &["septiembre", "setiembre"],
            &["octubre"],
            &["noviembre"],
            &["diciembre"],
        ],
    ),
    (
        Lang::Fr,
        [
            &["janvier"],
            &["fevrier"],
            &["mars"],
            &["avril"],
            &["mai"],
            &["juin"],
            &["juillet"],
            &["aout"],
            &["septembre"],
            &["octobre"],
            &["novembre"],
            &["decembre"],
        ],
    ),
    (
        Lang::De,
        [
            &["januar", "janner"],
            &["februar"],
            &["marz", "maerz"],
            &["april"],
            &["mai"],
            &["juni"],
            &["juli"],
            &["august"],
            &["september"],
            &["oktober"],
            &["november"],
            &["dezember"],
        ],
    ),
    (
        Lang::It,
        [
            &["gennaio"],
            &["febbraio"],
            &["marzo"],
            &["aprile"],
            &["maggio"],
            &["giugno"],
            &["luglio"],
            &["agosto"],
            &["settembre"],
            &["ottobre"],
            &["novembre"],
            &["dicembre"],
        ],
    ),
    (
        Lang::Pt,
        [
            &["janeiro"],
            &["fevereiro"],
            &["marco"],
            &["abril"],
            &["maio"],
            &["junho"],
            &["julho"],
            &["agosto"],
            &["setembro"],
            &["outubro"],
            &["novembro"],
            &["dezembro"],
        ],
    ),
];

fn build<const N: usize>(table: &[(Lang, [&[&str]; N]); 6]) -> Phrases<u8> {
    let mut p = Phrases::new();
    for (lang, entries) in table {
        for (n, names) in entries.iter().enumerate() {
            for name in *names {
                let (name, ambiguous) = match name.strip_prefix('~') {
                    Some(n) => (n, true),
                    None => (*name, false),
                };
                p.insert(name, n as u8, bit(*lang), ambiguous);
            }
        }
    }
    p
}

static WEEKDAY_INDEX: LazyLock<Phrases<u8>> = LazyLock::new(|| build(&WEEKDAYS));
static MONTH_INDEX: LazyLock<Phrases<u8>> = LazyLock::new(|| build(&MONTHS));

/// Words before a weekday or month that make an ambiguous name one.
const CUES: &[&str] = &[
    "on", "in", "of", "next", "this", "last", "every", "until", "till", "by", "since", "during",
    "early", "late", "mid", "coming", "na", "no", "nesta", "esta", "proxima", "proximo", "ultima",
    "ultimo", "de", "el", "la", "le", "ce", "am", "im", "il", "di", "em", "toda", "cada", "desde",
    "ate", "hasta", "en",
];

/// Accepts an ambiguous name with a cue (or in an answer).
fn cued(toks: &Toks, i: usize, end: usize, ambiguous: bool, mode: Mode) -> bool {
    if !ambiguous || mode == Mode::Answer {
        return true;
    }
    let t = &toks.toks[i];
    (t.cap && toks.case_informative() && i > 0)
        || (i > 0 && toks.is_any(i - 1, CUES))
        || toks.is_num(end)
        || (toks.is_punct(end, '.') && toks.is_num(end + 1))
        || (i > 0 && toks.is_num(i - 1))
}

/// Languages whose names are accepted: the user's and English; any in an answer.
fn langs(lang: Lang, mode: Mode) -> u8 {
    match mode {
        Mode::Find => with_english(lang),
        Mode::Answer => ALL_LANGS,
    }
}

/// A weekday name at token `i`: (weekday, token past it).
pub(crate) fn weekday_at(
    toks: &Toks,
    i: usize,
    lang: Lang,
    mode: Mode,
) -> Option<(Weekday, usize)> {
    let hit = WEEKDAY_INDEX.longest(toks, i, langs(lang, mode), |h| {
        cued(toks, i, h.end, h.ambiguous, mode)
    })?;
    // "sat" and "sun" as abbreviations want a period or a capital; the cue check did that.
    Some((weekday(hit.value), hit.end))
}

/// A month name at token `i`: (month 1–12, token past it). `near_number` relaxes the cue
/// check when the caller already saw a day number next to it.
pub(crate) fn month_at(
    toks: &Toks,
    i: usize,
    lang: Lang,
    mode: Mode,
    near_number: bool,
) -> Option<(u32, usize)> {
    let hit = MONTH_INDEX.longest(toks, i, langs(lang, mode), |h| {
        near_number || cued(toks, i, h.end, h.ambiguous, mode)
    })?;
    // A trailing period of an abbreviation ("Jan.") belongs to it.
    let mut end = hit.end;
    if toks.is_punct(end, '.') && toks.glued(end) && toks.norm(end - 1).len() <= 4 {
        end += 1;
    }
    Some((u32::from(hit.value) + 1, end))
}

pub(crate) fn weekday(n: u8) -> Weekday {
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ][usize::from(n % 7)]
}

pub(crate) fn weekday_name(d: Weekday) -> &'static str {
    WEEKDAY_NAMES[d.num_days_from_monday() as usize]
}

pub(crate) fn month_name(m: u32) -> &'static str {
    MONTH_NAMES[(m.clamp(1, 12) - 1) as usize]
}

pub(crate) fn find_weekday(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let mut i = 0;
    while i < toks.len() {
        match weekday_at(toks, i, lang, mode) {
            Some((d, end)) => {
                out.push(Cand::new(i, end, weekday_name(d).to_string()));
                i = end;
            }
            None => i += 1,
        }
    }
}

pub(crate) fn find_month(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    let mut i = 0;
    while i < toks.len() {
        match month_at(toks, i, lang, mode, false) {
            Some((m, end)) => {
                out.push(Cand::new(i, end, month_name(m).to_string()));
                i = end;
            }
            None => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn months(text: &str, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        find_month(&Toks::new(text), lang, Mode::Find, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    fn weekdays(text: &str, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        find_weekday(&Toks::new(text), lang, Mode::Find, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    #[test]
    fn weekday_names_in_every_language() {
        assert_eq!(weekdays("see you on Friday", Lang::En), ["Friday"]);
        assert_eq!(weekdays("el miércoles", Lang::Es), ["Wednesday"]);
        assert_eq!(
            weekdays("jeudi ou vendredi", Lang::Fr),
            ["Thursday", "Friday"]
        );
        assert_eq!(weekdays("am Sonntag", Lang::De), ["Sunday"]);
        assert_eq!(weekdays("venerdì", Lang::It), ["Friday"]);
        assert_eq!(weekdays("na sexta", Lang::Pt), ["Friday"]);
        assert_eq!(weekdays("sexta-feira", Lang::Pt), ["Friday"]);
        assert!(weekdays("a sexta parte", Lang::Pt).is_empty());
        assert!(weekdays("I sat in the sun", Lang::En).is_empty());
    }

    #[test]
    fn month_names_and_the_may_problem() {
        assert_eq!(months("in March", Lang::En), ["March"]);
        assert_eq!(months("in May", Lang::En), ["May"]);
        assert_eq!(months("may 5", Lang::En), ["May"]);
        assert!(months("may I book a table", Lang::En).is_empty());
        assert_eq!(months("en agosto", Lang::Es), ["August"]);
        assert_eq!(months("fin août", Lang::Fr), ["August"]);
        assert_eq!(months("im März", Lang::De), ["March"]);
        assert_eq!(months("a dicembre", Lang::It), ["December"]);
        assert_eq!(months("em março", Lang::Pt), ["March"]);
        assert_eq!(months("Sept. 3", Lang::En), ["September"]);
    }
}
