//! `otto nlu …`: NLU tools that work on data sets rather than assistants.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use otto_nlu::eval::{self, EvalProgress, Evaluation};
use otto_nlu::{Language, TrainOptions, TrainProgress, dataset};

use super::progress::bar;

#[derive(Subcommand)]
pub enum NluCommand {
    /// Train on a data set and measure on another.
    ///
    /// Data files hold one JSON object a line: `text`, `intent`, and
    /// `entities` (`start`, `end` as character offsets, `entity`, `value`);
    /// the intent `oos` marks out-of-scope utterances. The training file
    /// becomes an assistant as an Autopilot user would build it: a task per
    /// intent, samples tagged with fields, a custom field type per entity
    /// holding the values seen in training.
    Eval {
        /// Training examples (JSONL).
        #[arg(long)]
        train: PathBuf,
        /// Test examples (JSONL).
        #[arg(long)]
        test: PathBuf,
        /// Validation examples (JSONL): measured and printed too, for tuning
        /// without looking at the test figures. When they include
        /// out-of-scope (`oos`) examples, the out-of-scope threshold is
        /// chosen on them.
        #[arg(long)]
        val: Option<PathBuf>,
        /// Language of the data (BCP 47 tag).
        #[arg(long, default_value = "en-US")]
        language: String,
        /// Print one JSON object with the figures instead of a table.
        #[arg(long)]
        json: bool,
        /// Write the per-intent table, the worst confusions and a confusion
        /// matrix picture (SVG) into this folder.
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// Training options as JSON, for tuning on a validation set; unnamed
        /// options keep their defaults, e.g. '{"classifier":{"svm":{"c":0.5}}}'.
        #[arg(long, value_name = "JSON")]
        options: Option<String>,
    },
}

pub fn run(command: NluCommand) -> anyhow::Result<()> {
    match command {
        NluCommand::Eval {
            train,
            test,
            val,
            language,
            json,
            report,
            options,
        } => {
            let options: TrainOptions = match options {
                Some(json) => serde_json::from_str(&json)
                    .context("--options is not valid training options JSON")?,
                None => TrainOptions::default(),
            };
            let Some(language) = Language::from_tag(&language) else {
                bail!("language {language:?} is not supported; use en, es, fr, de, it or pt");
            };
            let train = dataset::load(&train)?;
            let test = dataset::load(&test)?;
            let val = val.map(|v| dataset::load(&v)).transpose()?;
            let evaluations = evaluate(&train, &test, val.as_deref(), language, &options, !json)?;
            let evaluation = &evaluations.test;
            if json {
                println!("{}", serde_json::to_string(&evaluation.summary)?);
            } else {
                if let Some(val) = &evaluations.val {
                    println!("validation set:");
                    print_table(val);
                    println!("\ntest set:");
                }
                print_table(evaluation);
                println!(
                    "out-of-scope threshold {:.2}{}",
                    evaluations.threshold,
                    if evaluations.threshold_from_val {
                        " (chosen on the validation set)"
                    } else {
                        ""
                    }
                );
            }
            if let Some(dir) = report {
                write_report(evaluation, &dir)?;
                if !json {
                    println!("report written to {}", dir.display());
                }
            }
            Ok(())
        }
    }
}

fn evaluate(
    train: &[dataset::Example],
    test: &[dataset::Example],
    val: Option<&[dataset::Example]>,
    language: Language,
    options: &TrainOptions,
    show_progress: bool,
) -> anyhow::Result<eval::Evaluations> {
    let progress = bar(0, "training");
    if !show_progress || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let evaluations = eval::evaluate(train, test, val, language, options, &mut |p| match p {
        EvalProgress::Training(TrainProgress::Fields { done, total }) => {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        }
        EvalProgress::Parsing { done, total } => {
            progress.set_message("parsing");
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        }
        _ => {}
    })?;
    progress.finish_and_clear();
    Ok(evaluations)
}

fn print_table(evaluation: &Evaluation) {
    let s = &evaluation.summary;
    let percent = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}%", v * 100.0));
    println!(
        "examples            {} train, {} test",
        evaluation.train_examples, evaluation.test_examples
    );
    println!("intent accuracy     {}", percent(Some(s.intent_accuracy)));
    println!("intent macro-F1     {}", percent(Some(s.intent_macro_f1)));
    println!("in-scope accuracy   {}", percent(s.in_scope_accuracy));
    println!("out-of-scope recall {}", percent(s.oos_recall));
    println!("slot precision      {}", percent(s.slot_precision));
    println!("slot recall         {}", percent(s.slot_recall));
    println!("slot F1             {}", percent(s.slot_f1));
    println!("training            {:.3} s", s.train_seconds);
    println!(
        "parse latency       p50 {:.1} µs, p99 {:.1} µs",
        s.parse_us_p50, s.parse_us_p99
    );
}

fn write_report(evaluation: &Evaluation, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let write = |name: &str, content: String| {
        let path = dir.join(name);
        std::fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))
    };
    write("per_intent.md", eval::per_intent_markdown(evaluation))?;
    write(
        "worst_confusions.md",
        eval::worst_confusions_markdown(evaluation, 30),
    )?;
    write("confusion_matrix.svg", eval::confusion_svg(evaluation))?;
    write(
        "summary.json",
        serde_json::to_string_pretty(&evaluation.summary)?,
    )?;
    Ok(())
}
