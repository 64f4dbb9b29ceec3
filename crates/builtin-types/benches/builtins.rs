//! `find` for each built-in type on a typical utterance.

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use otto_builtin_types::{BuiltinType, Context, Lang, find};
use std::hint::black_box;

fn utterance(ty: BuiltinType) -> &'static str {
    use BuiltinType::*;
    match ty {
        Number => "I'd like twenty-one tickets for the show please",
        NumberSequence => "my zip code is nine four one oh five",
        Alphanumeric => "my confirmation code is AB-123 thanks",
        PhoneNumber => "you can reach me at +1 (415) 555-0100 any time",
        YesNo => "yes please, that sounds good",
        Date => "can I book a table for next Friday at 3pm",
        Time => "can I book a table for next Friday at 3pm",
        FirstName => "hi, my name is John Smith and I need help",
        LastName => "hi, my name is John Smith and I need help",
        Email => "my email is john dot smith at gmail dot com",
        City => "I'm flying from New York to San Francisco tomorrow",
        UsState => "we moved from California to Texas last year",
        Country => "I would like to ship this package to Germany",
        CountryIsoAlpha2 => "I would like to ship this package to Germany",
        CountryIsoAlpha3 => "I would like to ship this package to Germany",
        Language => "do you have someone who speaks Spanish",
        Currency => "can I pay twenty euros instead of $25",
        DayOfWeek => "the store is closed on Sunday and Monday",
        Month => "my birthday is in March, not in May",
    }
}

fn bench(c: &mut Criterion) {
    let ctx = Context {
        reference: NaiveDate::from_ymd_opt(2026, 3, 11)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("valid date"),
        lang: Lang::En,
    };
    // Build the lazy tables outside the timings.
    for &ty in BuiltinType::all() {
        black_box(find(ty, utterance(ty), &ctx));
    }
    let mut group = c.benchmark_group("find");
    for &ty in BuiltinType::all() {
        let text = utterance(ty);
        group.bench_function(ty.name(), |b| b.iter(|| find(ty, black_box(text), &ctx)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
