//! The `otto` command.

mod commands;
mod training_data;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "otto",
    version,
    about = "Run Twilio Autopilot assistants on your own machines",
    long_about = "otto runs Twilio Autopilot assistants unchanged: it imports their schemas, \
                  understands users with its own NLU, and holds the conversations."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train an assistant's NLU model from its schema file.
    Train(commands::train::TrainArgs),
    /// Understand one utterance: task, confidence and fields.
    Query(commands::train::QueryArgs),
    /// Natural-language understanding tools: evaluate on a data set.
    Nlu {
        #[command(subcommand)]
        command: commands::nlu::NluCommand,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => commands::train::train(args),
        Command::Query(args) => commands::train::query(args),
        Command::Nlu { command } => commands::nlu::run(command),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
