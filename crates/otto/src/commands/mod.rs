pub mod assistants;
pub mod chat;
pub mod db;
pub mod keys;
pub mod nlu;
mod progress;
pub mod serve;
pub mod test;
pub mod train;
