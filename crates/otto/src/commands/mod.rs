pub mod nlu;
mod progress;
pub mod train;
