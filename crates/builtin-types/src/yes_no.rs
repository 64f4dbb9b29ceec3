//! `Twilio.YES_NO`: affirmations and negations → `Yes` / `No`.
//!
//! A phrase table per language, longest phrase first, so "no problem" is a yes, "not sure"
//! is neither and "yes please" one answer. Weak words ("right", "fine", "great") only count
//! when they are the whole answer: inside a sentence they usually mean something else.

use std::sync::LazyLock;

use crate::phrases::{Phrases, bit, with_english};
use crate::text::Toks;
use crate::{Cand, Lang, Mode};

/// What a phrase means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Says {
    Yes,
    No,
    /// "maybe", "not sure": blocks the yes/no words inside it.
    Neither,
}

struct Table {
    yes: &'static [&'static str],
    no: &'static [&'static str],
    neither: &'static [&'static str],
    /// Yes-words that only count as a whole answer.
    weak_yes: &'static [&'static str],
    weak_no: &'static [&'static str],
}

const EN: Table = Table {
    yes: &[
        "yes",
        "yeah",
        "yea",
        "yeh",
        "yep",
        "yup",
        "ya",
        "yah",
        "yass",
        "yes please",
        "yes sir",
        "yessir",
        "sure",
        "sure thing",
        "ok",
        "okay",
        "okey",
        "okie",
        "o k",
        "alright",
        "all right",
        "absolutely",
        "definitely",
        "certainly",
        "of course",
        "correct",
        "that's correct",
        "that is correct",
        "that's right",
        "that is right",
        "affirmative",
        "indeed",
        "please do",
        "go ahead",
        "sounds good",
        "that works",
        "works for me",
        "why not",
        "you bet",
        "uh huh",
        "mhm",
        "no problem",
        "no doubt",
    ],
    no: &[
        "no",
        "nope",
        "nah",
        "naw",
        "nay",
        "no thanks",
        "no thank you",
        "no sir",
        "no way",
        "never",
        "negative",
        "not really",
        "not at all",
        "not now",
        "not interested",
        "i don't think so",
        "i dont think so",
        "absolutely not",
        "of course not",
        "certainly not",
        "definitely not",
        "not correct",
        "not right",
        "incorrect",
    ],
    neither: &[
        "not sure",
        "i'm not sure",
        "im not sure",
        "maybe",
        "perhaps",
        "i don't know",
        "i dont know",
        "i do not know",
        "dunno",
        "no idea",
        "not bad",
        "no matter",
    ],
    weak_yes: &[
        "right",
        "fine",
        "great",
        "perfect",
        "true",
        "k",
        "kk",
        "exactly",
        "totally",
        "cool",
        "good",
        "i do",
        "i would",
        "i will",
        "yes i do",
        "yes i would",
    ],
    // Inside a sentence these negate something else ("I don't want to wait").
    weak_no: &[
        "wrong",
        "false",
        "cancel",
        "i don't",
        "i dont",
        "i do not",
        "don't",
        "dont",
        "i would not",
        "i wouldn't",
        "i will not",
        "i won't",
    ],
};

const ES: Table = Table {
    yes: &[
        "si",
        "sip",
        "claro",
        "claro que si",
        "si claro",
        "vale",
        "dale",
        "por supuesto",
        "exacto",
        "correcto",
        "afirmativo",
        "de acuerdo",
        "esta bien",
        "si por favor",
        "si gracias",
        "como no",
        "desde luego",
        "con gusto",
    ],
    no: &[
        "no",
        "nop",
        "no gracias",
        "nunca",
        "para nada",
        "de ninguna manera",
        "negativo",
        "claro que no",
        "por supuesto que no",
        "tampoco",
        "en absoluto",
    ],
    neither: &[
        "no se",
        "no lo se",
        "no estoy seguro",
        "no estoy segura",
        "quizas",
        "quiza",
        "tal vez",
        "a lo mejor",
    ],
    weak_yes: &["bien", "perfecto", "cierto", "bueno", "listo", "por favor"],
    weak_no: &["incorrecto", "falso"],
};

const FR: Table = Table {
    yes: &[
        "oui",
        "ouais",
        "ouai",
        "oui merci",
        "oui s'il vous plait",
        "oui stp",
        "bien sur",
        "d'accord",
        "dac",
        "exact",
        "exactement",
        "tout a fait",
        "absolument",
        "volontiers",
        "avec plaisir",
        "ca marche",
        "c'est ca",
        "si",
        "bien entendu",
        "evidemment",
        "affirmatif",
        "oui bien sur",
    ],
    no: &[
        "non",
        "nan",
        "non merci",
        "jamais",
        "pas du tout",
        "pas question",
        "absolument pas",
        "certainement pas",
        "bien sur que non",
        "pas vraiment",
        "negatif",
    ],
    neither: &[
        "je ne sais pas",
        "je sais pas",
        "sais pas",
        "peut etre",
        "pas sur",
        "pas sure",
    ],
    weak_yes: &["parfait", "correct", "bien", "super", "vrai"],
    weak_no: &["faux", "incorrect"],
};

const DE: Table = Table {
    yes: &[
        "ja",
        "jawohl",
        "jo",
        "jap",
        "jep",
        "jup",
        "genau",
        "klar",
        "na klar",
        "sicher",
        "naturlich",
        "auf jeden fall",
        "ja bitte",
        "ja gerne",
        "einverstanden",
        "in ordnung",
        "doch",
        "selbstverstandlich",
        "alles klar",
        "ja klar",
    ],
    no: &[
        "nein",
        "no",
        "ne",
        "nee",
        "noe",
        "nein danke",
        "niemals",
        "nie",
        "auf keinen fall",
        "keineswegs",
        "gar nicht",
        "nicht wirklich",
        "eher nicht",
        "lieber nicht",
    ],
    neither: &[
        "weiss nicht",
        "ich weiss nicht",
        "vielleicht",
        "keine ahnung",
        "nicht sicher",
    ],
    weak_yes: &[
        "richtig", "korrekt", "stimmt", "passt", "gut", "perfekt", "gerne", "gern",
    ],
    weak_no: &["falsch"],
};

const IT: Table = Table {
    yes: &[
        "si",
        "certo",
        "certo che si",
        "va bene",
        "esatto",
        "esattamente",
        "d'accordo",
        "volentieri",
        "sicuro",
        "sicuramente",
        "assolutamente",
        "ovviamente",
        "si grazie",
        "come no",
        "senz'altro",
        "si certo",
    ],
    no: &[
        "no",
        "no grazie",
        "mai",
        "per niente",
        "assolutamente no",
        "nemmeno",
        "neanche",
        "certo che no",
        "macche",
        "negativo",
    ],
    neither: &["non lo so", "non so", "forse", "boh", "non sono sicuro"],
    weak_yes: &[
        "giusto",
        "perfetto",
        "bene",
        "corretto",
        "vero",
        "per favore",
    ],
    weak_no: &["sbagliato", "falso"],
};

const PT: Table = Table {
    yes: &[
        "sim",
        "claro",
        "claro que sim",
        "com certeza",
        "certo",
        "ta bom",
        "esta bem",
        "exato",
        "exatamente",
        "correto",
        "isso mesmo",
        "beleza",
        "sim por favor",
        "sim obrigado",
        "sim obrigada",
        "de acordo",
        "com prazer",
        "pois sim",
        "positivo",
    ],
    no: &[
        "nao",
        "nao obrigado",
        "nao obrigada",
        "nunca",
        "de jeito nenhum",
        "de forma alguma",
        "claro que nao",
        "nem pensar",
        "negativo",
    ],
    neither: &["nao sei", "talvez", "pode ser", "nao tenho certeza"],
    weak_yes: &[
        "perfeito",
        "otimo",
        "bem",
        "verdade",
        "por favor",
        "isso",
        "pois",
        "ta",
    ],
    weak_no: &["errado", "falso"],
};

fn table(lang: Lang) -> &'static Table {
    match lang {
        Lang::En => &EN,
        Lang::Es => &ES,
        Lang::Fr => &FR,
        Lang::De => &DE,
        Lang::It => &IT,
        Lang::Pt => &PT,
    }
}

static INDEX: LazyLock<Phrases<Says>> = LazyLock::new(|| {
    let mut p = Phrases::new();
    for lang in Lang::ALL {
        let t = table(lang);
        let b = bit(lang);
        for (words, says, weak) in [
            (t.yes, Says::Yes, false),
            (t.no, Says::No, false),
            (t.neither, Says::Neither, false),
            (t.weak_yes, Says::Yes, true),
            (t.weak_no, Says::No, true),
        ] {
            for w in words {
                p.insert(w, says, b, weak);
            }
        }
    }
    p
});

/// Whether a single folded word is a yes/no word in any language ("yes", "nein", "ok").
pub(crate) fn is_word(word: &str) -> bool {
    let toks = Toks::new(word);
    toks.len() == 1
        && INDEX
            .at(&toks, 0, crate::phrases::ALL_LANGS)
            .is_some_and(|h| h.end == 1)
}

/// Emoji that answer yes or no on chat channels.
fn emoji(toks: &Toks, i: usize) -> Option<Says> {
    match toks.raw(i) {
        "👍" | "✅" | "✔" | "👌" | "🆗" => Some(Says::Yes),
        "👎" | "❌" | "🚫" | "✖" => Some(Says::No),
        _ => None,
    }
}

/// Yes/no phrases of `lang` (and English) in the text.
pub(crate) fn find(toks: &Toks, lang: Lang, mode: Mode, out: &mut Vec<Cand>) {
    find_in(toks, with_english(lang), mode, out);
}

/// Yes/no phrases of the languages in `langs`.
pub(crate) fn find_in(toks: &Toks, langs: u8, mode: Mode, out: &mut Vec<Cand>) {
    let mut i = 0;
    while i < toks.len() {
        if let Some(says) = emoji(toks, i) {
            push(out, i, i + 1, says);
            i += 1;
            continue;
        }
        // "3.5k", "10k": a letter glued to a number is a unit, not an answer.
        let unit = i > 0 && toks.glued(i) && toks.is_num(i - 1);
        let hit = INDEX
            .longest(toks, i, langs, |h| mode == Mode::Answer || !h.ambiguous)
            .filter(|_| !unit);
        match hit {
            Some(h) => {
                push(out, i, h.end, h.value);
                i = h.end;
            }
            None => i += 1,
        }
    }
}

fn push(out: &mut Vec<Cand>, first: usize, end: usize, says: Says) {
    let value = match says {
        Says::Yes => "Yes",
        Says::No => "No",
        Says::Neither => return,
    };
    out.push(Cand::new(first, end, value.to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, lang: Lang, mode: Mode) -> Vec<String> {
        let mut out = Vec::new();
        find(&Toks::new(text), lang, mode, &mut out);
        out.into_iter().map(|c| c.value).collect()
    }

    #[test]
    fn english() {
        assert_eq!(values("Yes please!", Lang::En, Mode::Find), ["Yes"]);
        assert_eq!(values("nope", Lang::En, Mode::Find), ["No"]);
        assert_eq!(values("no thanks", Lang::En, Mode::Find), ["No"]);
        assert_eq!(values("of course", Lang::En, Mode::Find), ["Yes"]);
        assert_eq!(values("I don't think so", Lang::En, Mode::Find), ["No"]);
        assert_eq!(values("no problem", Lang::En, Mode::Find), ["Yes"]);
        assert!(values("I'm not sure", Lang::En, Mode::Find).is_empty());
        assert!(values("turn right", Lang::En, Mode::Find).is_empty());
        assert_eq!(values("right", Lang::En, Mode::Answer), ["Yes"]);
        assert_eq!(values("👍", Lang::En, Mode::Find), ["Yes"]);
    }

    #[test]
    fn other_languages() {
        assert_eq!(values("Sí, claro", Lang::Es, Mode::Find), ["Yes", "Yes"]);
        assert_eq!(values("no gracias", Lang::Es, Mode::Find), ["No"]);
        assert_eq!(values("oui", Lang::Fr, Mode::Find), ["Yes"]);
        assert_eq!(values("Non merci", Lang::Fr, Mode::Find), ["No"]);
        assert_eq!(values("ja", Lang::De, Mode::Find), ["Yes"]);
        assert_eq!(values("Nein", Lang::De, Mode::Find), ["No"]);
        assert_eq!(values("sì", Lang::It, Mode::Find), ["Yes"]);
        assert_eq!(values("sim", Lang::Pt, Mode::Find), ["Yes"]);
        assert_eq!(values("Não", Lang::Pt, Mode::Find), ["No"]);
        assert!(values("não sei", Lang::Pt, Mode::Find).is_empty());
        // English is understood in every language.
        assert_eq!(values("okay", Lang::De, Mode::Find), ["Yes"]);
        // … but not the other way round.
        assert!(values("ja", Lang::En, Mode::Find).is_empty());
    }
}
