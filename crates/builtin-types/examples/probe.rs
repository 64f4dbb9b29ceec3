//! Prints what every built-in type finds in a text, and its `parse_answer` value.
//!
//! `cargo run -p otto-builtin-types --example probe -- [--lang es-MX] "text" ...`

use otto_builtin_types::{BuiltinType, Context, Lang, find, parse_answer};

fn main() {
    let mut lang = Lang::En;
    let mut texts = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--lang" {
            lang = Lang::from_tag(&args.next().unwrap_or_default());
        } else {
            texts.push(a);
        }
    }
    let ctx = Context::new(chrono::Local::now().naive_local(), lang);
    for text in texts {
        println!(
            "{text:?} ({lang:?}, now {})",
            ctx.reference.format("%a %Y-%m-%d %H:%M")
        );
        for &ty in BuiltinType::all() {
            let found: Vec<String> = find(ty, &text, &ctx)
                .into_iter()
                .map(|m| format!("{:?}→{}", m.raw, m.value))
                .collect();
            let answer = parse_answer(ty, &text, &ctx);
            if !found.is_empty() || answer.is_some() {
                println!(
                    "  {:<26} find: [{}]  answer: {:?}",
                    ty.name(),
                    found.join(", "),
                    answer
                );
            }
        }
    }
}
