//! The public API on the tricky cases of every type, with exact values.
//!
//! The reference "now" is Wednesday 2026-03-11 10:00 unless a test says otherwise.

use chrono::{NaiveDate, NaiveDateTime};
use otto_builtin_types::{BuiltinType, Context, Lang, Match, find, parse_answer};

use BuiltinType::*;

fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("valid date")
}

fn ctx(lang: Lang) -> Context {
    Context::new(at(2026, 3, 11), lang)
}

fn en() -> Context {
    ctx(Lang::En)
}

/// The values `find` returns.
fn values(ty: BuiltinType, text: &str, c: &Context) -> Vec<String> {
    find(ty, text, c).into_iter().map(|m| m.value).collect()
}

fn answer(ty: BuiltinType, text: &str, c: &Context) -> Option<String> {
    parse_answer(ty, text, c)
}

fn one(ty: BuiltinType, text: &str, c: &Context) -> String {
    let v = values(ty, text, c);
    assert_eq!(v.len(), 1, "{ty} in {text:?}: {v:?}");
    v[0].clone()
}

#[test]
fn number_words_and_digits() {
    let c = en();
    for (text, want) in [
        ("twenty-one", "21"),
        ("one hundred and five", "105"),
        ("a dozen", "12"),
        ("2.5", "2.5"),
        ("1,000", "1000"),
        ("minus three", "-3"),
        ("-3", "-3"),
        ("I want 42 of them", "42"),
        ("two thousand and twenty six", "2026"),
    ] {
        assert_eq!(one(Number, text, &c), want, "{text}");
    }
    assert_eq!(values(Number, "one or two", &c), ["1", "2"]);
    assert_eq!(answer(Number, "it's 42", &c).as_deref(), Some("42"));
    assert_eq!(
        answer(Number, "about twenty one I think", &c).as_deref(),
        Some("21")
    );
    assert_eq!(answer(Number, "none", &c), None);
}

#[test]
fn number_words_in_other_languages() {
    for (lang, text, want) in [
        (Lang::Es, "veintiuno", "21"),
        (Lang::Es, "mil doscientos", "1200"),
        (Lang::Fr, "quatre-vingt-dix", "90"),
        (Lang::Fr, "soixante-dix-sept", "77"),
        (Lang::De, "einundzwanzig", "21"),
        (Lang::De, "hundertzwei", "102"),
        (Lang::It, "ventuno", "21"),
        (Lang::It, "tremila", "3000"),
        (Lang::Pt, "vinte e um", "21"),
        (Lang::Pt, "2,5", "2.5"),
    ] {
        assert_eq!(one(Number, text, &ctx(lang)), want, "{lang:?} {text}");
    }
    assert_eq!(
        answer(Number, "son veintiuno", &ctx(Lang::Es)).as_deref(),
        Some("21")
    );
}

#[test]
fn number_sequences() {
    let c = en();
    assert_eq!(one(NumberSequence, "four one five", &c), "415");
    assert_eq!(one(NumberSequence, "my pin is 0042", &c), "0042");
    assert_eq!(
        answer(NumberSequence, "it's nine four one oh five", &c).as_deref(),
        Some("94105")
    );
    assert_eq!(
        answer(NumberSequence, "415-555-0100", &c).as_deref(),
        Some("4155550100")
    );
    assert_eq!(
        answer(NumberSequence, "cuatro uno cinco", &ctx(Lang::Es)).as_deref(),
        Some("415")
    );
    assert_eq!(answer(NumberSequence, "no idea", &c), None);
}

#[test]
fn alphanumeric_codes() {
    let c = en();
    assert_eq!(one(Alphanumeric, "my code is AB-123", &c), "AB123");
    assert_eq!(one(Alphanumeric, "a b 1 2 3", &c), "AB123");
    assert_eq!(
        answer(Alphanumeric, "a b 1 2 3", &c).as_deref(),
        Some("AB123")
    );
    assert_eq!(answer(Alphanumeric, "AB-123", &c).as_deref(), Some("AB123"));
    assert_eq!(
        answer(Alphanumeric, "my confirmation number is x7y9z", &c).as_deref(),
        Some("X7Y9Z")
    );
    assert_eq!(
        answer(Alphanumeric, "alpha bravo one two three", &c).as_deref(),
        Some("AB123")
    );
    assert!(values(Alphanumeric, "see you at the park", &c).is_empty());
}

#[test]
fn phone_numbers() {
    let c = en();
    assert_eq!(one(PhoneNumber, "+1 (415) 555-0100", &c), "+14155550100");
    assert_eq!(
        answer(PhoneNumber, "my number is +1 415 555 0100", &c).as_deref(),
        Some("+14155550100")
    );
    assert_eq!(one(PhoneNumber, "call 415.555.0100", &c), "+14155550100");
    assert_eq!(one(PhoneNumber, "+44 20 7946 0958", &c), "+442079460958");
    assert_eq!(
        answer(
            PhoneNumber,
            "four one five five five five zero one zero zero",
            &c
        )
        .as_deref(),
        Some("+14155550100")
    );
    // A French number without a country code keeps its digits.
    assert_eq!(
        one(PhoneNumber, "06 12 34 56 78", &ctx(Lang::Fr)),
        "0612345678"
    );
    assert_eq!(answer(PhoneNumber, "twelve", &c), None);
}

#[test]
fn yes_and_no() {
    let c = en();
    for (text, want) in [
        ("yes", "Yes"),
        ("yeah", "Yes"),
        ("yep", "Yes"),
        ("sure", "Yes"),
        ("ok", "Yes"),
        ("of course", "Yes"),
        ("absolutely", "Yes"),
        ("correct", "Yes"),
        ("yes please", "Yes"),
        ("no", "No"),
        ("nope", "No"),
        ("nah", "No"),
        ("no thanks", "No"),
        ("never", "No"),
        ("Nope!", "No"),
    ] {
        assert_eq!(answer(YesNo, text, &c).as_deref(), Some(want), "{text}");
    }
    assert_eq!(answer(YesNo, "maybe", &c), None);
    for (lang, yes, no) in [
        (Lang::Es, "sí", "no"),
        (Lang::Fr, "oui", "non"),
        (Lang::De, "ja", "nein"),
        (Lang::It, "sì", "no"),
        (Lang::Pt, "sim", "não"),
    ] {
        assert_eq!(answer(YesNo, yes, &ctx(lang)).as_deref(), Some("Yes"));
        assert_eq!(answer(YesNo, no, &ctx(lang)).as_deref(), Some("No"));
    }
    // Another language's word as a whole answer still counts.
    assert_eq!(answer(YesNo, "si", &c).as_deref(), Some("Yes"));
    assert_eq!(values(YesNo, "yes, that's right", &c), ["Yes", "Yes"]);
}

#[test]
fn dates_relative_to_the_reference() {
    let c = en(); // Wednesday 2026-03-11
    for (text, want) in [
        ("today", "2026-03-11"),
        ("tomorrow", "2026-03-12"),
        ("yesterday", "2026-03-10"),
        ("the day after tomorrow", "2026-03-13"),
        ("this friday", "2026-03-13"),
        ("Friday", "2026-03-13"),
        ("next Friday", "2026-03-20"),
        ("last Monday", "2026-03-02"),
        ("on the 5th", "2026-04-05"),
        ("on the 20th", "2026-03-20"),
        ("March 3rd", "2027-03-03"),
        ("March 13", "2026-03-13"),
        ("the 3rd of April", "2026-04-03"),
        ("3/14", "2026-03-14"),
        ("12/25/2026", "2026-12-25"),
        ("2026-12-01", "2026-12-01"),
        ("in 3 days", "2026-03-14"),
        ("in two weeks", "2026-03-25"),
        ("3 days ago", "2026-03-08"),
        ("Friday, March 27", "2026-03-27"),
        ("christmas", "2026-12-25"),
    ] {
        assert_eq!(one(Date, text, &c), want, "{text}");
    }
}

#[test]
fn next_friday_at_3pm_gives_date_and_time() {
    let c = en();
    let text = "book a table next Friday at 3pm";
    let date = find(Date, text, &c);
    assert_eq!(date.len(), 1);
    assert_eq!(date[0].value, "2026-03-20");
    assert_eq!(date[0].raw, "next Friday");
    let time = find(Time, text, &c);
    assert_eq!(time.len(), 1);
    assert_eq!(time[0].value, "15:00");
    assert_eq!(time[0].raw, "3pm");
    // The spans do not overlap, so both fields can be filled.
    assert!(date[0].end <= time[0].start);
}

#[test]
fn dates_in_other_languages() {
    for (lang, text, want) in [
        (Lang::Es, "mañana", "2026-03-12"),
        (Lang::Es, "pasado mañana", "2026-03-13"),
        (Lang::Es, "el 3 de abril", "2026-04-03"),
        (Lang::Es, "el próximo viernes", "2026-03-13"),
        (Lang::Fr, "demain", "2026-03-12"),
        (Lang::Fr, "le 1er mai", "2026-05-01"),
        (Lang::Fr, "vendredi prochain", "2026-03-13"),
        (Lang::De, "morgen", "2026-03-12"),
        (Lang::De, "am 3. April", "2026-04-03"),
        (Lang::De, "übermorgen", "2026-03-13"),
        (Lang::It, "domani", "2026-03-12"),
        (Lang::It, "il 3 aprile", "2026-04-03"),
        (Lang::Pt, "amanhã", "2026-03-12"),
        (Lang::Pt, "3 de abril", "2026-04-03"),
        (Lang::Pt, "sexta que vem", "2026-03-13"),
        (Lang::Es, "14/3/2026", "2026-03-14"),
        (Lang::De, "14.03.2026", "2026-03-14"),
    ] {
        assert_eq!(one(Date, text, &ctx(lang)), want, "{lang:?} {text}");
    }
    // "mañana" after "la" is the morning, not tomorrow.
    assert_eq!(
        values(Date, "mañana por la mañana", &ctx(Lang::Es)),
        ["2026-03-12"]
    );
    assert!(values(Date, "Guten Morgen", &ctx(Lang::De)).is_empty());
}

#[test]
fn date_answers() {
    let c = en();
    assert_eq!(
        answer(Date, "tomorrow please", &c).as_deref(),
        Some("2026-03-12")
    );
    assert_eq!(answer(Date, "the 15th", &c).as_deref(), Some("2026-03-15"));
    assert_eq!(answer(Date, "15", &c).as_deref(), Some("2026-03-15"));
    assert_eq!(answer(Date, "3", &c).as_deref(), Some("2026-04-03"));
    assert_eq!(answer(Date, "whenever", &c), None);
}

#[test]
fn times() {
    let c = en();
    for (text, want) in [
        ("3pm", "15:00"),
        ("3 pm", "15:00"),
        ("3:30 pm", "15:30"),
        ("3:30 p.m.", "15:30"),
        ("15:45", "15:45"),
        ("noon", "12:00"),
        ("midnight", "00:00"),
        ("4 in the afternoon", "16:00"),
        ("half past seven", "07:30"),
        ("quarter to nine", "08:45"),
        ("quarter past 3 pm", "15:15"),
        ("ten past four", "04:10"),
        ("7 o'clock", "07:00"),
        ("12 am", "00:00"),
        ("at 7", "07:00"),
        ("at seven thirty", "07:30"),
        ("eight at night", "20:00"),
    ] {
        assert_eq!(one(Time, text, &c), want, "{text}");
    }
    assert!(values(Time, "I have 7 kids", &c).is_empty());
    assert_eq!(answer(Time, "7", &c).as_deref(), Some("07:00"));
    assert_eq!(answer(Time, "around 6:15 pm", &c).as_deref(), Some("18:15"));
}

#[test]
fn times_in_other_languages() {
    for (lang, text, want) in [
        (Lang::Es, "a las tres y media", "03:30"),
        (Lang::Es, "a las 3 de la tarde", "15:00"),
        (Lang::Es, "a las cuatro menos cuarto", "03:45"),
        (Lang::Fr, "à 15h", "15:00"),
        (Lang::Fr, "15h30", "15:30"),
        (Lang::Fr, "quatre heures moins le quart", "03:45"),
        (Lang::Fr, "midi", "12:00"),
        (Lang::De, "um 15 Uhr", "15:00"),
        (Lang::De, "halb acht", "07:30"),
        (Lang::De, "viertel vor neun", "08:45"),
        (Lang::It, "alle 15", "15:00"),
        (Lang::It, "alle tre e mezza", "03:30"),
        (Lang::It, "mezzogiorno", "12:00"),
        (Lang::Pt, "às 15h", "15:00"),
        (Lang::Pt, "meio-dia e meia", "12:30"),
        (Lang::Pt, "quinze para as nove", "08:45"),
    ] {
        assert_eq!(one(Time, text, &ctx(lang)), want, "{lang:?} {text}");
    }
}

#[test]
fn date_and_time_together_in_other_languages() {
    let fr = ctx(Lang::Fr);
    assert_eq!(values(Date, "demain à 15h", &fr), ["2026-03-12"]);
    assert_eq!(values(Time, "demain à 15h", &fr), ["15:00"]);
    let de = ctx(Lang::De);
    assert_eq!(values(Date, "morgen um 15 Uhr", &de), ["2026-03-12"]);
    assert_eq!(values(Time, "morgen um 15 Uhr", &de), ["15:00"]);
}

#[test]
fn first_and_last_names() {
    let c = en();
    assert_eq!(one(FirstName, "my name is john smith", &c), "John");
    assert_eq!(one(LastName, "my name is john smith", &c), "Smith");
    assert_eq!(one(FirstName, "call me Mike", &c), "Mike");
    assert_eq!(
        answer(FirstName, "it's Sarah", &c).as_deref(),
        Some("Sarah")
    );
    assert_eq!(answer(FirstName, "priya", &c).as_deref(), Some("Priya"));
    assert_eq!(answer(LastName, "Smith", &c).as_deref(), Some("Smith"));
    assert_eq!(
        answer(LastName, "my last name is García López", &c).as_deref(),
        Some("García López")
    );
    assert_eq!(answer(FirstName, "no", &c), None);
    assert_eq!(one(FirstName, "me llamo José", &ctx(Lang::Es)), "José");
    assert_eq!(
        one(FirstName, "je m'appelle Camille", &ctx(Lang::Fr)),
        "Camille"
    );
    assert_eq!(
        one(LastName, "ich heiße Jürgen Müller", &ctx(Lang::De)),
        "Müller"
    );
    assert_eq!(one(FirstName, "mi chiamo Giulia", &ctx(Lang::It)), "Giulia");
    assert_eq!(
        one(LastName, "meu nome é João da Silva", &ctx(Lang::Pt)),
        "da Silva"
    );
}

#[test]
fn emails() {
    let c = en();
    assert_eq!(
        one(Email, "my email is john dot smith at gmail dot com", &c),
        "john.smith@gmail.com"
    );
    assert_eq!(
        one(Email, "Write to Jane.Doe@Example.com!", &c),
        "jane.doe@example.com"
    );
    assert_eq!(
        answer(Email, "it's bob underscore lee at outlook dot com", &c).as_deref(),
        Some("bob_lee@outlook.com")
    );
    assert_eq!(
        one(Email, "maria arroba hotmail punto es", &ctx(Lang::Es)),
        "maria@hotmail.es"
    );
    assert_eq!(answer(Email, "I don't have one", &c), None);
}

#[test]
fn places() {
    let c = en();
    assert_eq!(one(City, "I live in NYC", &c), "New York");
    assert_eq!(one(City, "flying to san francisco", &c), "San Francisco");
    assert_eq!(one(City, "vivo en Nueva York", &ctx(Lang::Es)), "New York");
    assert_eq!(answer(City, "Paris", &c).as_deref(), Some("Paris"));
    assert_eq!(answer(City, "bombay", &c).as_deref(), Some("Mumbai"));
    for text in ["CA", "calif", "california", "Calif."] {
        assert_eq!(
            answer(UsState, text, &c).as_deref(),
            Some("California"),
            "{text}"
        );
    }
    assert_eq!(one(UsState, "we moved to NY last year", &c), "New York");
    assert_eq!(
        one(Country, "shipping to Deutschland", &ctx(Lang::De)),
        "Germany"
    );
    assert_eq!(
        answer(Country, "the UK", &c).as_deref(),
        Some("United Kingdom")
    );
    assert_eq!(
        answer(CountryIsoAlpha2, "United States", &c).as_deref(),
        Some("US")
    );
    assert_eq!(
        answer(CountryIsoAlpha3, "United States", &c).as_deref(),
        Some("USA")
    );
    assert_eq!(answer(CountryIsoAlpha3, "fr", &c).as_deref(), Some("FRA"));
    assert_eq!(answer(CountryIsoAlpha2, "DEU", &c).as_deref(), Some("DE"));
    assert_eq!(
        answer(CountryIsoAlpha2, "México", &c).as_deref(),
        Some("MX")
    );
}

#[test]
fn languages() {
    let c = en();
    assert_eq!(answer(Language, "español", &c).as_deref(), Some("Spanish"));
    assert_eq!(one(Language, "do you speak French?", &c), "French");
    assert_eq!(one(Language, "¿hablas inglés?", &ctx(Lang::Es)), "English");
    assert_eq!(answer(Language, "Deutsch", &c).as_deref(), Some("German"));
    assert_eq!(
        answer(Language, "português", &c).as_deref(),
        Some("Portuguese")
    );
}

#[test]
fn currencies() {
    let c = en();
    assert_eq!(one(Currency, "$20", &c), "20 USD");
    assert_eq!(one(Currency, "twenty euros", &c), "20 EUR");
    assert_eq!(answer(Currency, "yen", &c).as_deref(), Some("JPY"));
    assert_eq!(
        answer(Currency, "in pounds please", &c).as_deref(),
        Some("GBP")
    );
    assert_eq!(one(Currency, "€5.50", &c), "5.50 EUR");
    assert_eq!(one(Currency, "veinte euros", &ctx(Lang::Es)), "20 EUR");
    assert_eq!(one(Currency, "10 Franken", &ctx(Lang::De)), "10 CHF");
}

#[test]
fn weekdays_and_months() {
    let c = en();
    assert_eq!(answer(DayOfWeek, "friday", &c).as_deref(), Some("Friday"));
    assert_eq!(
        answer(DayOfWeek, "tomorrow", &c).as_deref(),
        Some("Thursday")
    );
    assert_eq!(one(DayOfWeek, "closed on Sundays", &c), "Sunday");
    assert_eq!(one(DayOfWeek, "el sábado", &ctx(Lang::Es)), "Saturday");
    assert_eq!(answer(Month, "march", &c).as_deref(), Some("March"));
    assert_eq!(answer(Month, "3", &c).as_deref(), Some("March"));
    assert_eq!(answer(Month, "may", &c).as_deref(), Some("May"));
    assert_eq!(one(Month, "en diciembre", &ctx(Lang::Es)), "December");
    assert_eq!(one(Month, "im Oktober", &ctx(Lang::De)), "October");
}

#[test]
fn empty_and_whitespace_input() {
    let c = en();
    for &ty in BuiltinType::all() {
        assert!(find(ty, "", &c).is_empty(), "{ty}");
        assert!(find(ty, "   \n\t", &c).is_empty(), "{ty}");
        assert_eq!(parse_answer(ty, "", &c), None, "{ty}");
        assert_eq!(parse_answer(ty, "   ", &c), None, "{ty}");
    }
}

#[test]
fn non_latin_text_yields_nothing() {
    let c = en();
    for text in [
        "我想明天下午三点预订",
        "أريد حجز طاولة غدا",
        "👍🏽🎉🔥",
        "Привет мир",
        "こんにちは",
    ] {
        for &ty in BuiltinType::all() {
            let found = find(ty, text, &c);
            // Only the thumbs-up emoji means anything (a yes).
            if ty == YesNo && text.starts_with('👍') {
                assert_eq!(found.len(), 1);
                assert_eq!(found[0].value, "Yes");
                continue;
            }
            assert!(found.is_empty(), "{ty} in {text:?}: {found:?}");
        }
    }
}

#[test]
fn offsets_are_bytes_on_char_boundaries() {
    let c = ctx(Lang::Es);
    let text = "¡Hola! 😀 Mañana a las 3 de la tarde, ¿sí?";
    let check = |ms: Vec<Match>| {
        for m in ms {
            assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
            assert_eq!(&text[m.start..m.end], m.raw);
        }
    };
    let date = find(Date, text, &c);
    assert_eq!(date[0].raw, "Mañana");
    assert_eq!(date[0].start, text.find("Mañana").unwrap());
    check(date);
    let time = find(Time, text, &c);
    assert_eq!(time[0].raw, "3 de la tarde");
    check(time);
    check(find(YesNo, text, &c));
}

#[test]
fn long_input_is_handled() {
    let c = en();
    let mut text = String::new();
    while text.len() < 2048 {
        text.push_str("call me at 415-555-0100 tomorrow at 3pm, ok? ");
    }
    text.truncate(2048);
    let phones = find(PhoneNumber, &text, &c);
    assert!(phones.len() >= 40);
    assert!(phones.iter().all(|m| m.value == "+14155550100"));
    let times = find(Time, &text, &c);
    assert!(times.iter().all(|m| m.value == "15:00"));
    for &ty in BuiltinType::all() {
        for m in find(ty, &text, &c) {
            assert_eq!(&text[m.start..m.end], m.raw);
        }
        let _ = parse_answer(ty, &text, &c);
    }
}

#[test]
fn punctuation_and_case_do_not_matter() {
    let c = en();
    assert_eq!(one(Date, "TOMORROW!!!", &c), "2026-03-12");
    assert_eq!(one(YesNo, "...Yes.", &c), "Yes");
    assert_eq!(one(Number, "(42)", &c), "42");
    assert_eq!(one(City, "LONDON?", &c), "London");
    assert_eq!(one(Date, "MAÑANA", &ctx(Lang::Es)), "2026-03-12");
}

#[test]
fn no_false_friends() {
    let c = en();
    // Nothing inside an address is a name or a country.
    let text = "write to Bob.Lee+test@sub.example.co.uk";
    assert!(find(FirstName, text, &c).is_empty());
    assert!(find(Country, text, &c).is_empty());
    assert_eq!(one(Email, text, &c), "bob.lee+test@sub.example.co.uk");
    // A letter glued to a number is a unit, not "k" = ok.
    assert_eq!(answer(YesNo, "it costs 3.5k", &c), None);
    // "call me on …" names nobody.
    assert!(find(FirstName, "call me on 555-1234", &c).is_empty());
    // French "mon" (my) and "sept" (seven) are not Monday and September.
    let fr = ctx(Lang::Fr);
    assert!(find(DayOfWeek, "mon numéro", &fr).is_empty());
    assert!(find(Month, "nous sommes sept", &fr).is_empty());
    assert_eq!(one(Number, "nous sommes sept", &fr), "7");
    // German "einen" is an article, not the first of the month.
    assert_eq!(
        answer(Date, "einen Tisch am Samstag", &ctx(Lang::De)).as_deref(),
        Some("2026-03-14")
    );
    // Digits in a clock time are not numbers on their own.
    assert!(find(Number, "at 7:30", &c).is_empty());
    // Spanish "la" is not Los Angeles, even in an answer.
    assert_eq!(answer(City, "a las ocho de la noche", &ctx(Lang::Es)), None);
}
