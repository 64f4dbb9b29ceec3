//! Cardinal numbers, in digits ("21", "-3", "2.5", "1,000", "2,5" in French) and in words in
//! six languages ("twenty-one", "one hundred and five", "quatre-vingt-dix", "einundzwanzig",
//! "ventuno", "vinte e um").
//!
//! Words are split into morphemes (German and Italian glue them: "zweihundertfünf",
//! "duecentoventi"), then a small state machine adds them up and stops at the first
//! morpheme that cannot continue the number, so "one two" is two numbers and "vinte e um"
//! one. Values are kept as decimal digit strings, so nothing rounds.

use std::sync::LazyLock;

use crate::Lang;
use crate::phrases::FnvMap;
use crate::text::Toks;

/// A parsed number: sign, integer digits, fraction digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Number {
    pub neg: bool,
    pub int: String,
    pub frac: String,
}

impl Number {
    pub fn from_u64(n: u64) -> Number {
        Number {
            neg: false,
            int: n.to_string(),
            frac: String::new(),
        }
    }

    /// `21`, `-3`, `2.5`: no leading zeros, no trailing fraction zeros, no "-0".
    pub fn normalised(&self) -> String {
        let int = self.int.trim_start_matches('0');
        let frac = self.frac.trim_end_matches('0');
        let mut out = String::with_capacity(int.len() + frac.len() + 3);
        if self.neg && !(int.is_empty() && frac.is_empty()) {
            out.push('-');
        }
        out.push_str(if int.is_empty() { "0" } else { int });
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out
    }

    /// The value when it is a whole number that fits.
    pub fn as_u64(&self) -> Option<u64> {
        if self.neg || !self.frac.trim_end_matches('0').is_empty() {
            return None;
        }
        let int = self.int.trim_start_matches('0');
        if int.is_empty() {
            return Some(0);
        }
        int.parse().ok()
    }

    /// Multiplies by 10^`zeros` by moving the decimal point ("2.5" million).
    fn shift(&mut self, zeros: usize) {
        let take = zeros.min(self.frac.len());
        let moved: String = self.frac.drain(..take).collect();
        self.int.push_str(&moved);
        self.int.extend(std::iter::repeat_n('0', zeros - take));
    }
}

/// A number found at a token position.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub number: Number,
    /// Token index past the number.
    pub end: usize,
    /// Written in digits (not words).
    pub digits: bool,
}

/// One meaningful piece of a number word.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum M {
    /// 0–9.
    Unit(u64),
    /// 10–19.
    Teen(u64),
    /// 20, 30 … 90.
    Tens(u64),
    /// × 100 ("hundred", "cent", "hundert", "cento").
    Hundred,
    /// A whole hundreds word: "doscientos" 200, "quinhentos" 500, "cien" 100.
    Hundreds(u64),
    /// × 1000, × 10^6 …, closing a group.
    Big(u64),
    /// "and", "y", "et", "und", "e".
    And,
    /// English "a"/"an" before hundred/thousand/dozen.
    Article,
    /// × 12.
    Dozen,
}

use M::*;

type Lexicon = &'static [(&'static str, M)];

const EN: Lexicon = &[
    ("zero", Unit(0)),
    ("one", Unit(1)),
    ("two", Unit(2)),
    ("three", Unit(3)),
    ("four", Unit(4)),
    ("five", Unit(5)),
    ("six", Unit(6)),
    ("seven", Unit(7)),
    ("eight", Unit(8)),
    ("nine", Unit(9)),
    ("ten", Teen(10)),
    ("eleven", Teen(11)),
    ("twelve", Teen(12)),
    ("thirteen", Teen(13)),
    ("fourteen", Teen(14)),
    ("fifteen", Teen(15)),
    ("sixteen", Teen(16)),
    ("seventeen", Teen(17)),
    ("eighteen", Teen(18)),
    ("nineteen", Teen(19)),
    ("twenty", Tens(20)),
    ("thirty", Tens(30)),
    ("forty", Tens(40)),
    ("fourty", Tens(40)),
    ("fifty", Tens(50)),
    ("sixty", Tens(60)),
    ("seventy", Tens(70)),
    ("eighty", Tens(80)),
    ("ninety", Tens(90)),
    ("hundred", Hundred),
    ("thousand", Big(1_000)),
    ("million", Big(1_000_000)),
    ("billion", Big(1_000_000_000)),
    ("trillion", Big(1_000_000_000_000)),
    ("and", And),
    ("a", Article),
    ("an", Article),
    ("dozen", Dozen),
];

const ES: Lexicon = &[
    ("cero", Unit(0)),
    ("uno", Unit(1)),
    ("un", Unit(1)),
    ("una", Unit(1)),
    ("dos", Unit(2)),
    ("tres", Unit(3)),
    ("cuatro", Unit(4)),
    ("cinco", Unit(5)),
    ("seis", Unit(6)),
    ("siete", Unit(7)),
    ("ocho", Unit(8)),
    ("nueve", Unit(9)),
    ("diez", Teen(10)),
    ("once", Teen(11)),
    ("doce", Teen(12)),
    ("trece", Teen(13)),
    ("catorce", Teen(14)),
    ("quince", Teen(15)),
    ("dieciseis", Teen(16)),
    ("diecisiete", Teen(17)),
    ("dieciocho", Teen(18)),
    ("diecinueve", Teen(19)),
    ("veinte", Tens(20)),
    // "veintiuno" … "veintinueve" = "veinti" + unit.
    ("veinti", Tens(20)),
    ("treinta", Tens(30)),
    ("cuarenta", Tens(40)),
    ("cincuenta", Tens(50)),
    ("sesenta", Tens(60)),
    ("setenta", Tens(70)),
    ("ochenta", Tens(80)),
    ("noventa", Tens(90)),
    ("cien", Hundreds(100)),
    ("ciento", Hundreds(100)),
    ("doscientos", Hundreds(200)),
    ("doscientas", Hundreds(200)),
    ("trescientos", Hundreds(300)),
    ("trescientas", Hundreds(300)),
    ("cuatrocientos", Hundreds(400)),
    ("cuatrocientas", Hundreds(400)),
    ("quinientos", Hundreds(500)),
    ("quinientas", Hundreds(500)),
    ("seiscientos", Hundreds(600)),
    ("seiscientas", Hundreds(600)),
    ("setecientos", Hundreds(700)),
    ("setecientas", Hundreds(700)),
    ("ochocientos", Hundreds(800)),
    ("ochocientas", Hundreds(800)),
    ("novecientos", Hundreds(900)),
    ("novecientas", Hundreds(900)),
    ("mil", Big(1_000)),
    ("millon", Big(1_000_000)),
    ("millones", Big(1_000_000)),
    ("y", And),
    ("docena", Dozen),
];

const FR: Lexicon = &[
    ("zero", Unit(0)),
    ("un", Unit(1)),
    ("une", Unit(1)),
    ("deux", Unit(2)),
    ("trois", Unit(3)),
    ("quatre", Unit(4)),
    ("cinq", Unit(5)),
    ("six", Unit(6)),
    ("sept", Unit(7)),
    ("huit", Unit(8)),
    ("neuf", Unit(9)),
    ("dix", Teen(10)),
    ("onze", Teen(11)),
    ("douze", Teen(12)),
    ("treize", Teen(13)),
    ("quatorze", Teen(14)),
    ("quinze", Teen(15)),
    ("seize", Teen(16)),
    ("vingt", Tens(20)),
    ("vingts", Tens(20)),
    ("trente", Tens(30)),
    ("quarante", Tens(40)),
    ("cinquante", Tens(50)),
    ("soixante", Tens(60)),
    // Belgian and Swiss French.
    ("septante", Tens(70)),
    ("huitante", Tens(80)),
    ("octante", Tens(80)),
    ("nonante", Tens(90)),
    ("cent", Hundred),
    ("cents", Hundred),
    ("mille", Big(1_000)),
    ("mil", Big(1_000)),
    ("million", Big(1_000_000)),
    ("millions", Big(1_000_000)),
    ("milliard", Big(1_000_000_000)),
    ("milliards", Big(1_000_000_000)),
    ("et", And),
    ("douzaine", Dozen),
];

const DE: Lexicon = &[
    ("null", Unit(0)),
    ("ein", Unit(1)),
    ("eins", Unit(1)),
    ("eine", Unit(1)),
    ("einen", Unit(1)),
    ("einem", Unit(1)),
    ("einer", Unit(1)),
    ("zwei", Unit(2)),
    ("zwo", Unit(2)),
    ("drei", Unit(3)),
    ("vier", Unit(4)),
    ("funf", Unit(5)),
    ("fuenf", Unit(5)),
    ("sechs", Unit(6)),
    // Stems used inside "sechzehn", "siebzehn".
    ("sech", Unit(6)),
    ("sieben", Unit(7)),
    ("sieb", Unit(7)),
    ("acht", Unit(8)),
    ("neun", Unit(9)),
    ("zehn", Teen(10)),
    ("elf", Teen(11)),
    ("zwolf", Teen(12)),
    ("zwoelf", Teen(12)),
    ("zwanzig", Tens(20)),
    ("dreissig", Tens(30)),
    ("dreizig", Tens(30)),
    ("vierzig", Tens(40)),
    ("funfzig", Tens(50)),
    ("fuenfzig", Tens(50)),
    ("sechzig", Tens(60)),
    ("siebzig", Tens(70)),
    ("achtzig", Tens(80)),
    ("neunzig", Tens(90)),
    ("hundert", Hundred),
    ("tausend", Big(1_000)),
    ("million", Big(1_000_000)),
    ("millionen", Big(1_000_000)),
    ("milliarde", Big(1_000_000_000)),
    ("milliarden", Big(1_000_000_000)),
    ("und", And),
    ("dutzend", Dozen),
];

const IT: Lexicon = &[
    ("zero", Unit(0)),
    ("uno", Unit(1)),
    ("un", Unit(1)),
    ("una", Unit(1)),
    ("due", Unit(2)),
    ("tre", Unit(3)),
    ("quattro", Unit(4)),
    ("cinque", Unit(5)),
    ("sei", Unit(6)),
    ("sette", Unit(7)),
    ("otto", Unit(8)),
    ("nove", Unit(9)),
    ("dieci", Teen(10)),
    ("undici", Teen(11)),
    ("dodici", Teen(12)),
    ("tredici", Teen(13)),
    ("quattordici", Teen(14)),
    ("quindici", Teen(15)),
    ("sedici", Teen(16)),
    ("diciassette", Teen(17)),
    ("diciotto", Teen(18)),
    ("diciannove", Teen(19)),
    // Tens lose their vowel before "uno" and "otto": "ventuno", "trentotto".
    ("venti", Tens(20)),
    ("vent", Tens(20)),
    ("trenta", Tens(30)),
    ("trent", Tens(30)),
    ("quaranta", Tens(40)),
    ("quarant", Tens(40)),
    ("cinquanta", Tens(50)),
    ("cinquant", Tens(50)),
    ("sessanta", Tens(60)),
    ("sessant", Tens(60)),
    ("settanta", Tens(70)),
    ("settant", Tens(70)),
    ("ottanta", Tens(80)),
    ("ottant", Tens(80)),
    ("novanta", Tens(90)),
    ("novant", Tens(90)),
    ("cento", Hundred),
    ("cent", Hundred),
    ("mille", Big(1_000)),
    ("mila", Big(1_000)),
    ("milione", Big(1_000_000)),
    ("milioni", Big(1_000_000)),
    ("miliardo", Big(1_000_000_000)),
    ("miliardi", Big(1_000_000_000)),
    ("e", And),
    ("dozzina", Dozen),
];

const PT: Lexicon = &[
    ("zero", Unit(0)),
    ("um", Unit(1)),
    ("uma", Unit(1)),
    ("dois", Unit(2)),
    ("duas", Unit(2)),
    ("tres", Unit(3)),
    ("quatro", Unit(4)),
    ("cinco", Unit(5)),
    ("seis", Unit(6)),
    ("sete", Unit(7)),
    ("oito", Unit(8)),
    ("nove", Unit(9)),
    ("dez", Teen(10)),
    ("onze", Teen(11)),
    ("doze", Teen(12)),
    ("treze", Teen(13)),
    ("catorze", Teen(14)),
    ("quatorze", Teen(14)),
    ("quinze", Teen(15)),
    ("dezesseis", Teen(16)),
    ("dezasseis", Teen(16)),
    ("dezessete", Teen(17)),
    ("dezassete", Teen(17)),
    ("dezoito", Teen(18)),
    ("dezenove", Teen(19)),
    ("dezanove", Teen(19)),
    ("vinte", Tens(20)),
    ("trinta", Tens(30)),
    ("quarenta", Tens(40)),
    ("cinquenta", Tens(50)),
    ("sessenta", Tens(60)),
    ("setenta", Tens(70)),
    ("oitenta", Tens(80)),
    ("noventa", Tens(90)),
    ("cem", Hundreds(100)),
    ("cento", Hundreds(100)),
    ("duzentos", Hundreds(200)),
    ("duzentas", Hundreds(200)),
    ("trezentos", Hundreds(300)),
    ("trezentas", Hundreds(300)),
    ("quatrocentos", Hundreds(400)),
    ("quatrocentas", Hundreds(400)),
    ("quinhentos", Hundreds(500)),
    ("quinhentas", Hundreds(500)),
    ("seiscentos", Hundreds(600)),
    ("seiscentas", Hundreds(600)),
    ("setecentos", Hundreds(700)),
    ("setecentas", Hundreds(700)),
    ("oitocentos", Hundreds(800)),
    ("oitocentas", Hundreds(800)),
    ("novecentos", Hundreds(900)),
    ("novecentas", Hundreds(900)),
    ("mil", Big(1_000)),
    ("milhao", Big(1_000_000)),
    ("milhoes", Big(1_000_000)),
    ("bilhao", Big(1_000_000_000)),
    ("bilhoes", Big(1_000_000_000)),
    ("e", And),
    ("duzia", Dozen),
];

/// Unit words that double as the indefinite article ("una mesa", "ein Tisch"): a number only
/// when they do not introduce a noun.
const ARTICLE_UNITS: &[&str] = &[
    "un", "una", "une", "ein", "eine", "einen", "einem", "einer", "um", "uma",
];

/// Words that make the next number negative.
fn is_minus(word: &str, lang: Lang) -> bool {
    match lang {
        Lang::En => matches!(word, "minus" | "negative"),
        Lang::Es | Lang::Pt => word == "menos",
        Lang::Fr => word == "moins",
        Lang::De => word == "minus",
        Lang::It => word == "meno",
    }
}

/// Words for the decimal point.
fn is_point(word: &str, lang: Lang) -> bool {
    match lang {
        Lang::En => matches!(word, "point"),
        Lang::Es => matches!(word, "coma" | "punto"),
        Lang::Fr => matches!(word, "virgule"),
        Lang::De => matches!(word, "komma"),
        Lang::It => matches!(word, "virgola"),
        Lang::Pt => matches!(word, "virgula"),
    }
}

fn lexicon(lang: Lang) -> Lexicon {
    match lang {
        Lang::En => EN,
        Lang::Es => ES,
        Lang::Fr => FR,
        Lang::De => DE,
        Lang::It => IT,
        Lang::Pt => PT,
    }
}

struct Lex {
    words: FnvMap<&'static str, M>,
    longest: usize,
}

static LEXICONS: LazyLock<[Lex; 6]> = LazyLock::new(|| {
    Lang::ALL.map(|lang| {
        let table = lexicon(lang);
        Lex {
            words: table.iter().copied().collect(),
            longest: table.iter().map(|(w, _)| w.len()).max().unwrap_or(0),
        }
    })
});

fn lex(lang: Lang) -> &'static Lex {
    &LEXICONS[lang as usize]
}

/// Morphemes of one folded word, or None when it is not entirely a number word.
/// Glued compounds are allowed in every language ("onehundred", "veintiuno"); "and" only
/// inside German ones ("einundzwanzig"), and the English article never.
pub(crate) fn morphemes(word: &str, lang: Lang) -> Option<Vec<M>> {
    let lex = lex(lang);
    if let Some(&m) = lex.words.get(word) {
        return Some(vec![m]);
    }
    if word.len() > 60 || !word.is_ascii() {
        return None;
    }
    let mut out = Vec::new();
    split(word, lex, lang, &mut out).then_some(out)
}

fn split(rest: &str, lex: &Lex, lang: Lang, out: &mut Vec<M>) -> bool {
    if rest.is_empty() {
        return true;
    }
    for len in (1..=lex.longest.min(rest.len())).rev() {
        let Some(&m) = lex.words.get(&rest[..len]) else {
            continue;
        };
        let allowed = match m {
            Article => false,
            And => lang == Lang::De,
            _ => len > 1,
        };
        if !allowed {
            continue;
        }
        out.push(m);
        if split(&rest[len..], lex, lang, out) {
            return true;
        }
        out.pop();
    }
    false
}

/// Where the previous morpheme left the number.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Last {
    Start,
    Article,
    Zero,
    Unit,
    Teen(u64),
    Tens,
    Hundred,
    Big,
    Dozen,
}

/// Running total of a number in words.
#[derive(Clone, Copy, Debug)]
struct Acc {
    total: u64,
    group: u64,
    last: Last,
    /// The last closed group's multiplier: the next one must be smaller.
    big_limit: u64,
    lang: Lang,
}

impl Acc {
    fn new(lang: Lang) -> Acc {
        Acc {
            total: 0,
            group: 0,
            last: Last::Start,
            big_limit: u64::MAX,
            lang,
        }
    }

    fn fresh(&self) -> bool {
        matches!(self.last, Last::Start | Last::Big) && self.group == 0
    }

    /// Adds one morpheme; false (state unspecified) when it cannot continue the number.
    fn step(&mut self, m: M, after_and: bool) -> bool {
        let fr = self.lang == Lang::Fr;
        let de = self.lang == Lang::De;
        let g = self.group;
        match m {
            Unit(0) => {
                let ok = self.last == Last::Start;
                self.last = Last::Zero;
                ok
            }
            Unit(u) => {
                let ok = self.fresh()
                    || (self.last == Last::Tens && !de && g.is_multiple_of(10))
                    || (self.last == Last::Hundred && g.is_multiple_of(100))
                    // "dix-sept", "soixante-dix-neuf"
                    || (fr && self.last == Last::Teen(10));
                self.group += u;
                self.last = Last::Unit;
                ok
            }
            Teen(t) => {
                let ok = self.fresh()
                    || (self.last == Last::Hundred && g.is_multiple_of(100))
                    // "soixante-dix", "quatre-vingt-onze"
                    || (fr && self.last == Last::Tens && matches!(g % 100, 60 | 80))
                    // German "drei|zehn"
                    || (de && t == 10 && self.last == Last::Unit && g % 100 < 10);
                self.group += t;
                self.last = Last::Teen(t);
                ok
            }
            Tens(t) => {
                let quatre_vingt = fr && t == 20 && self.last == Last::Unit && g % 100 == 4;
                let ok = self.fresh()
                    || (self.last == Last::Hundred && g.is_multiple_of(100))
                    || quatre_vingt
                    // German "ein|und|zwanzig"
                    || (de && after_and && self.last == Last::Unit && g % 100 < 10);
                self.group += if quatre_vingt { 76 } else { t };
                self.last = Last::Tens;
                ok
            }
            Hundred => {
                let ok = match self.last {
                    Last::Start | Last::Article | Last::Big => g == 0,
                    Last::Unit | Last::Teen(_) => (1..100).contains(&g),
                    _ => false,
                };
                self.group = if g == 0 { 100 } else { g * 100 };
                self.last = Last::Hundred;
                ok
            }
            Hundreds(h) => {
                let ok = self.fresh();
                self.group = h;
                self.last = Last::Hundred;
                ok
            }
            Big(b) => {
                let group = if matches!(self.last, Last::Start | Last::Article) {
                    1
                } else {
                    g
                };
                let ok = b < self.big_limit
                    && group > 0
                    && !matches!(self.last, Last::Zero | Last::Dozen);
                match group.checked_mul(b).and_then(|v| v.checked_add(self.total)) {
                    Some(total) if ok => {
                        self.total = total;
                        self.group = 0;
                        self.big_limit = b;
                        self.last = Last::Big;
                        true
                    }
                    _ => false,
                }
            }
            Dozen => {
                let ok = match self.last {
                    Last::Start | Last::Article => {
                        self.group = 12;
                        true
                    }
                    Last::Unit | Last::Teen(_) | Last::Tens => {
                        self.group = g * 12;
                        true
                    }
                    _ => false,
                };
                self.last = Last::Dozen;
                ok
            }
            Article => {
                let ok = self.last == Last::Start;
                self.last = Last::Article;
                ok
            }
            And => false,
        }
    }

    /// "and" may join what came before to `next`.
    fn and_allowed(&self, next: M) -> bool {
        let de = self.lang == Lang::De;
        match self.last {
            Last::Unit => de && matches!(next, Tens(_)),
            Last::Tens | Last::Hundred | Last::Big => {
                matches!(next, Unit(_) | Teen(_) | Tens(_) | Hundreds(_))
            }
            _ => false,
        }
    }

    fn complete(&self) -> bool {
        !matches!(self.last, Last::Start | Last::Article)
    }

    fn value(&self) -> u64 {
        self.total.saturating_add(self.group)
    }
}

/// A number in words starting at token `i` (no sign, no decimals).
pub(crate) fn words_at(toks: &Toks, i: usize, lang: Lang) -> Option<(u64, usize)> {
    let mut acc = Acc::new(lang);
    // (token index past the number, its value) at the last complete state.
    let mut done: Option<(usize, u64)> = None;
    let mut j = i;
    let mut pending_and = false;
    while toks.is_word(j) {
        let Some(ms) = morphemes(toks.norm(j), lang) else {
            break;
        };
        if ms == [And] {
            // A separate "and" counts only if the next word continues the number.
            if pending_and || done.is_none() {
                break;
            }
            pending_and = true;
            j += 1;
            continue;
        }
        let Some(next) = apply(acc, &ms, pending_and) else {
            break;
        };
        acc = next;
        pending_and = false;
        j += 1;
        if acc.complete() {
            done = Some((j, acc.value()));
        }
        // Hyphens inside "twenty-one", "quatre-vingt-dix".
        if toks.is_punct(j, '-') && toks.glued(j) && toks.glued(j + 1) && toks.is_word(j + 1) {
            j += 1;
        }
    }
    let (end, value) = done?;
    // A lone "una", "ein" before a noun is an article, not a number.
    if end == i + 1
        && ARTICLE_UNITS.contains(&toks.norm(i))
        && toks.is_word(end)
        && morphemes(toks.norm(end), lang).is_none()
    {
        return None;
    }
    Some((value, end))
}

/// The morphemes of one word applied to `acc`, or None if they cannot continue it.
fn apply(mut acc: Acc, ms: &[M], mut after_and: bool) -> Option<Acc> {
    for &m in ms {
        if m == And {
            if after_and || !acc.complete() {
                return None;
            }
            after_and = true;
            continue;
        }
        if after_and && !acc.and_allowed(m) {
            return None;
        }
        if !acc.step(m, after_and) {
            return None;
        }
        after_and = false;
    }
    (!after_and).then_some(acc)
}

/// A run of digits with separators ("1,000", "2.5", "1.000,50") at token `i`.
fn digits_at(toks: &Toks, i: usize, lang: Lang) -> Option<(Number, usize)> {
    if !toks.is_num(i) {
        return None;
    }
    let (thousands, decimal) = if lang == Lang::En {
        (',', '.')
    } else {
        ('.', ',')
    };
    let mut int = toks.norm(i).to_string();
    let mut frac = String::new();
    let mut j = i + 1;
    // Thousands groups: only when the first group is 1–3 digits and each next exactly 3.
    if int.len() <= 3 {
        while toks.is_punct(j, thousands)
            && toks.glued(j)
            && toks.is_num(j + 1)
            && toks.glued(j + 1)
            && toks.norm(j + 1).len() == 3
        {
            int.push_str(toks.norm(j + 1));
            j += 2;
        }
    }
    // Decimal part; in the other languages also "2.5" when the group is not 3 digits.
    let sep_ok = |j: usize| {
        toks.glued(j)
            && toks.is_num(j + 1)
            && toks.glued(j + 1)
            && (toks.is_punct(j, decimal)
                || (toks.is_punct(j, thousands) && lang != Lang::En && toks.norm(j + 1).len() != 3))
    };
    if sep_ok(j) {
        frac = toks.norm(j + 1).to_string();
        j += 2;
    }
    Some((
        Number {
            neg: false,
            int,
            frac,
        },
        j,
    ))
}

/// A number (digits or words, optionally signed, with decimals) at token `i`.
pub(crate) fn number_at(toks: &Toks, i: usize, lang: Lang) -> Option<Found> {
    // Sign: "-3" (the minus glued to the digits, not to a previous word) or "minus three".
    let (neg, start) = if toks.is_punct(i, '-') || toks.is_punct(i, '−') {
        let glued_before = i > 0 && toks.glued(i);
        if toks.is_num(i + 1) && toks.glued(i + 1) && !glued_before {
            (true, i + 1)
        } else {
            return None;
        }
    } else if toks.is_word(i) && is_minus(toks.norm(i), lang) {
        (true, i + 1)
    } else {
        (false, i)
    };
    let mut found = if toks.is_num(start) {
        let (number, end) = digits_at(toks, start, lang)?;
        Found {
            number,
            end,
            digits: true,
        }
    } else {
        let (value, end) = words_at(toks, start, lang)?;
        let mut found = Found {
            number: Number::from_u64(value),
            end,
            digits: false,
        };
        if let Some((frac, end)) = spoken_fraction(toks, end, lang) {
            found.number.frac = frac;
            found.end = end;
        }
        found
    };
    // "5 million", "2.5 thousand": every multiplier is a power of ten.
    if found.digits && toks.is_word(found.end) {
        let zeros = match morphemes(toks.norm(found.end), lang).as_deref() {
            Some([Big(b)]) => Some(b.ilog10() as usize),
            Some([Hundred]) => Some(2),
            _ => None,
        };
        if let Some(zeros) = zeros {
            found.number.shift(zeros);
            found.end += 1;
        }
    }
    found.number.neg = neg;
    Some(found)
}

/// "point five", "virgule deux cinq": the fraction digits after a number in words.
fn spoken_fraction(toks: &Toks, i: usize, lang: Lang) -> Option<(String, usize)> {
    if !(toks.is_word(i) && is_point(toks.norm(i), lang)) {
        return None;
    }
    if toks.is_num(i + 1) {
        return Some((toks.norm(i + 1).to_string(), i + 2));
    }
    let mut frac = String::new();
    let mut j = i + 1;
    while toks.is_word(j) {
        match morphemes(toks.norm(j), lang).as_deref() {
            Some([Unit(d)]) => frac.push(char::from(b'0' + *d as u8)),
            _ => break,
        }
        j += 1;
    }
    if frac.is_empty() {
        // "two point twenty five"
        let (v, end) = words_at(toks, i + 1, lang)?;
        return Some((v.to_string(), end));
    }
    Some((frac, j))
}

/// A whole number of at most `max` at token `i`, in digits or words: hours, minutes, days.
pub(crate) fn small_at(toks: &Toks, i: usize, lang: Lang, max: u64) -> Option<(u64, usize)> {
    if toks.is_num(i) {
        let s = toks.norm(i);
        if s.len() > 4 {
            return None;
        }
        let v: u64 = s.parse().ok()?;
        return (v <= max).then_some((v, i + 1));
    }
    let (v, end) = words_at(toks, i, lang)?;
    (v <= max).then_some((v, end))
}

/// The digit a single word stands for in a spoken sequence ("four", "oh", "meia").
pub(crate) fn digit_word(word: &str, lang: Lang) -> Option<u8> {
    match (lang, word) {
        (Lang::En, "oh" | "o") => return Some(0),
        (Lang::Pt, "meia") => return Some(6),
        _ => {}
    }
    match lex(lang).words.get(word) {
        Some(Unit(d)) => Some(*d as u8),
        _ => None,
    }
}

/// Every number in the text, for `Twilio.NUMBER`.
pub(crate) fn find(toks: &Toks, lang: Lang, out: &mut Vec<crate::Cand>) {
    let mut i = 0;
    while i < toks.len() {
        if let Some(f) = number_at(toks, i, lang)
            && !part_of_code(toks, i, f.end)
        {
            out.push(crate::Cand::new(i, f.end, f.number.normalised()));
            i = f.end;
            continue;
        }
        i += 1;
    }
}

/// Digits glued to letters are codes, ordinals or times ("AB123", "5th", "3pm"), not
/// numbers; nor are the parts of a clock time ("7:30").
pub(crate) fn part_of_code(toks: &Toks, first: usize, end: usize) -> bool {
    let clock_after =
        toks.is_punct(end, ':') && toks.glued(end) && toks.is_num(end + 1) && toks.glued(end + 1);
    let clock_before = first > 1
        && toks.is_punct(first - 1, ':')
        && toks.glued(first)
        && toks.glued(first - 1)
        && toks.is_num(first - 2);
    if clock_after || clock_before {
        return true;
    }
    let first_num = (first..end).find(|&k| toks.is_num(k));
    let Some(first_num) = first_num else {
        return false;
    };
    let before = first_num > 0 && toks.glued(first_num) && toks.is_word(first_num - 1);
    let after = toks.is_num(end - 1) && toks.glued(end) && toks.is_word(end);
    let at = toks.glued(end) && toks.is_punct(end, '@');
    before || after || at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str, lang: Lang) -> Option<String> {
        let toks = Toks::new(text);
        let f = number_at(&toks, 0, lang)?;
        (f.end == toks.len()).then(|| f.number.normalised())
    }

    #[test]
    fn english_words() {
        for (text, want) in [
            ("twenty-one", "21"),
            ("twenty one", "21"),
            ("one hundred and five", "105"),
            ("a hundred", "100"),
            ("a dozen", "12"),
            ("two dozen", "24"),
            ("minus three", "-3"),
            ("nineteen hundred", "1900"),
            ("three thousand four hundred fifty six", "3456"),
            ("a million", "1000000"),
            ("two point five", "2.5"),
            ("zero", "0"),
            ("onehundred", "100"),
        ] {
            assert_eq!(num(text, Lang::En).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn digits() {
        for (text, lang, want) in [
            ("2.5", Lang::En, "2.5"),
            ("1,000", Lang::En, "1000"),
            ("1,234,567.50", Lang::En, "1234567.5"),
            ("-3", Lang::En, "-3"),
            ("007", Lang::En, "7"),
            ("2,5", Lang::Fr, "2.5"),
            ("1.000", Lang::De, "1000"),
            ("1.000,25", Lang::Es, "1000.25"),
            ("2.5", Lang::De, "2.5"),
            ("5 million", Lang::En, "5000000"),
            ("2.5 million", Lang::En, "2500000"),
            ("3 mil", Lang::Es, "3000"),
        ] {
            assert_eq!(num(text, lang).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn other_languages() {
        for (text, lang, want) in [
            ("veintiuno", Lang::Es, "21"),
            ("treinta y dos", Lang::Es, "32"),
            ("ciento cinco", Lang::Es, "105"),
            ("dos mil quinientos", Lang::Es, "2500"),
            ("quatre-vingt-dix", Lang::Fr, "90"),
            ("quatre-vingts", Lang::Fr, "80"),
            ("soixante et onze", Lang::Fr, "71"),
            ("dix-sept", Lang::Fr, "17"),
            ("vingt et un", Lang::Fr, "21"),
            ("deux cent trois", Lang::Fr, "203"),
            ("einundzwanzig", Lang::De, "21"),
            ("dreizehn", Lang::De, "13"),
            ("siebzehn", Lang::De, "17"),
            ("zweihundertfünfundvierzig", Lang::De, "245"),
            ("zweitausend", Lang::De, "2000"),
            ("ventuno", Lang::It, "21"),
            ("ventitré", Lang::It, "23"),
            ("trentotto", Lang::It, "38"),
            ("duemilacinquecento", Lang::It, "2500"),
            ("centocinque", Lang::It, "105"),
            ("vinte e um", Lang::Pt, "21"),
            ("cento e cinco", Lang::Pt, "105"),
            ("duzentos e trinta e quatro", Lang::Pt, "234"),
            ("menos três", Lang::Pt, "-3"),
        ] {
            assert_eq!(num(text, lang).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn stops_where_the_number_stops() {
        let toks = Toks::new("one two");
        let f = number_at(&toks, 0, Lang::En).unwrap();
        assert_eq!((f.number.normalised(), f.end), ("1".into(), 1));
        let toks = Toks::new("um e dois");
        assert_eq!(number_at(&toks, 0, Lang::Pt).unwrap().end, 1);
        let toks = Toks::new("two and a half");
        assert_eq!(number_at(&toks, 0, Lang::En).unwrap().end, 1);
    }

    #[test]
    fn articles_are_not_numbers() {
        let toks = Toks::new("una mesa");
        assert!(number_at(&toks, 0, Lang::Es).is_none());
        let toks = Toks::new("quiero una");
        assert_eq!(
            number_at(&toks, 1, Lang::Es).unwrap().number.normalised(),
            "1"
        );
        let toks = Toks::new("a table");
        assert!(number_at(&toks, 0, Lang::En).is_none());
    }

    #[test]
    fn codes_are_not_numbers() {
        let mut out = Vec::new();
        find(&Toks::new("AB123 5th 3pm 42"), Lang::En, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].value, "42");
    }
}
