//! `otto train` and `otto query`: build an assistant's NLU model and ask it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use otto_nlu::{Model, ParseOptions, TrainOptions, TrainProgress};

use super::progress::bar;
use otto_server::training_data::training_data;

#[derive(Args)]
pub struct TrainArgs {
    /// The assistant: a schema file as the Autopilot CLI exported it.
    pub schema: PathBuf,
    /// Where to write the model (default: the schema's name with `.model`).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct QueryArgs {
    /// A model written by `otto train`, or a schema file (trained on the fly).
    pub model: PathBuf,
    /// The utterance to understand.
    pub text: String,
    /// Only these tasks may win (comma-separated), as `listen.tasks` does.
    #[arg(long, value_delimiter = ',')]
    pub tasks: Option<Vec<String>>,
    /// Print the whole parse as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn train(args: TrainArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let model = train_schema(&args.schema, true)?;
    let output = args
        .output
        .unwrap_or_else(|| args.schema.with_extension("model"));
    std::fs::write(&output, model.to_bytes())
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "trained {} tasks in {:.2} s; model written to {}",
        model.tasks().len(),
        started.elapsed().as_secs_f64(),
        output.display()
    );
    Ok(())
}

pub fn query(args: QueryArgs) -> anyhow::Result<()> {
    let model = load_model(&args.model)?;
    if let Some(tasks) = &args.tasks
        && let Some(unknown) = tasks.iter().find(|t| !model.tasks().contains(t))
    {
        bail!("--tasks names {unknown:?}, which is not a task of this model");
    }
    let options = ParseOptions {
        tasks: args.tasks.as_deref(),
        ..ParseOptions::default()
    };
    let parse = model.parse(&args.text, &options);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&parse)?);
        return Ok(());
    }
    match &parse.task {
        Some(task) => println!("task        {task}"),
        None => println!("task        (none: the fallback runs)"),
    }
    println!("confidence  {:.3}", parse.confidence);
    println!(
        "next best   {}",
        parse.next_best_task.as_deref().unwrap_or("-")
    );
    for field in &parse.fields {
        println!(
            "field       {} ({}) = {:?}  [said {:?} at {}..{}]",
            field.name, field.field_type, field.value, field.raw, field.start, field.end
        );
    }
    Ok(())
}

fn load_model(path: &Path) -> anyhow::Result<Model> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(b"OTTONLU") {
        return Model::from_bytes(&bytes).with_context(|| format!("{}", path.display()));
    }
    train_schema(path, false)
}

fn train_schema(path: &Path, show_progress: bool) -> anyhow::Result<Model> {
    let json =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let assistant =
        otto_model::import_schema(&json).with_context(|| format!("{}", path.display()))?;
    let data = training_data(&assistant);
    let progress = bar(data.tasks.len() as u64, "training");
    if !show_progress || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let model = Model::train(&data, &TrainOptions::default(), &mut |p| {
        if let TrainProgress::Fields { done, .. } = p {
            progress.set_position(done as u64);
        }
    })
    .with_context(|| format!("{}: cannot train", path.display()))?;
    progress.finish_and_clear();
    Ok(model)
}
