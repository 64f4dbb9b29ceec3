//! After a run: every acknowledged turn must be in the store, in order, and
//! every completed conversation must have left the memory its script says.

use otto_model::Sid;
use otto_store::{PageRequest, Store};
use serde::Serialize;

use crate::drive::{Played, TurnOutcome};
use crate::script::{memory_at, memory_matches};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    /// Conversations with at least one acknowledged turn, all checked.
    pub conversations: usize,
    /// Of those, conversations whose every turn was acknowledged.
    pub complete: usize,
    /// Acknowledged turns found in the store.
    pub turns: u64,
    /// Memory values checked.
    pub memory_values: u64,
    /// Conversations whose first turn failed: nothing was acknowledged.
    pub never_acknowledged: usize,
    /// Failed turns that were nevertheless committed (the answer was lost,
    /// e.g. the instance died between commit and answer): allowed.
    pub committed_unacknowledged: u64,
    pub problems: Vec<String>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the played conversations against the store.
pub async fn verify(store: &Store, played: &[Played]) -> anyhow::Result<Verification> {
    let mut report = Verification::default();
    for conversation in played {
        let acknowledged: Vec<&str> = conversation
            .outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                TurnOutcome::Acknowledged { dialogue_sid, .. } => Some(dialogue_sid.as_str()),
                TurnOutcome::Failed { .. } => None,
            })
            .collect();
        if acknowledged.is_empty() {
            report.never_acknowledged += 1;
            continue;
        }
        report.conversations += 1;
        let problems_before = report.problems.len();
        check(store, conversation, &acknowledged, &mut report).await?;
        if report.problems.len() > problems_before && report.problems.len() > 50 {
            report
                .problems
                .push("… (stopped after 50 problems)".to_owned());
            break;
        }
    }
    Ok(report)
}

async fn check(
    store: &Store,
    played: &Played,
    acknowledged: &[&str],
    report: &mut Verification,
) -> anyhow::Result<()> {
    let who = format!(
        "conversation {} ({}, user {})",
        played.conversation.number, played.conversation.template, played.user
    );
    let sid_text = acknowledged[0];
    if let Some(other) = acknowledged.iter().find(|sid| **sid != sid_text) {
        report.problems.push(format!(
            "{who}: answered from two dialogues, {sid_text} and {other}"
        ));
        return Ok(());
    }
    let Ok(sid) = Sid::parse(sid_text) else {
        report.problems.push(format!(
            "{who}: the answer named no dialogue ({sid_text:?})"
        ));
        return Ok(());
    };
    let dialogue = match store.dialogue(&sid).await {
        Ok(dialogue) => dialogue,
        Err(otto_store::StoreError::NotFound { .. }) => {
            report.problems.push(format!(
                "{who}: dialogue {sid} is not in the store ({} turns were acknowledged)",
                acknowledged.len()
            ));
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    if dialogue.user_identifier != played.user {
        report.problems.push(format!(
            "{who}: dialogue {sid} belongs to user {:?}",
            dialogue.user_identifier
        ));
    }
    let mut stored = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let turns = store.list_turns(&sid, &page).await?;
        stored.extend(turns.items);
        match turns.next_page_token {
            Some(token) => {
                page = PageRequest {
                    page_size: 1000,
                    page_token: Some(token),
                }
            }
            None => break,
        }
    }
    // Consistency: seq 1..n without holes, and the dialogue's count agrees.
    for (index, turn) in stored.iter().enumerate() {
        if turn.seq != index as i64 + 1 {
            report.problems.push(format!(
                "{who}: turn {} of dialogue {sid} has seq {}",
                index + 1,
                turn.seq
            ));
            return Ok(());
        }
    }
    if dialogue.turn_count != stored.len() as i64 {
        report.problems.push(format!(
            "{who}: dialogue {sid} counts {} turns, {} are stored",
            dialogue.turn_count,
            stored.len()
        ));
    }
    let texts: Vec<&str> = played
        .conversation
        .turns
        .iter()
        .map(|turn| turn.text.as_str())
        .collect();
    let acked = acknowledged.len();
    // Acknowledged turns are a prefix of the script (a conversation stops at
    // its first failure); the failed turn itself may or may not be stored.
    let failed_then = played.outcomes.len() > acked;
    let allowed = if failed_then { acked + 1 } else { acked };
    if stored.len() < acked || stored.len() > allowed {
        report.problems.push(format!(
            "{who}: {} turns acknowledged, {} stored in dialogue {sid}",
            acked,
            stored.len()
        ));
        return Ok(());
    }
    for (index, turn) in stored.iter().enumerate() {
        if turn.input != texts[index] {
            report.problems.push(format!(
                "{who}: turn {} of dialogue {sid} is {:?}, the conversation said {:?}",
                index + 1,
                turn.input,
                texts[index]
            ));
            return Ok(());
        }
    }
    report.turns += acked as u64;
    if stored.len() > acked {
        report.committed_unacknowledged += 1;
    }
    if !played.complete() {
        return Ok(());
    }
    report.complete += 1;
    let memory = &dialogue.state.memory;
    for (path, expected) in &played.conversation.memory {
        report.memory_values += 1;
        match memory_at(memory, path) {
            Some(found) if memory_matches(found, expected) => {}
            found => report.problems.push(format!(
                "{who}: memory {path} is {}, expected {expected}",
                found.map_or("missing".to_owned(), ToString::to_string)
            )),
        }
    }
    if played.conversation.ends && dialogue.active {
        report
            .problems
            .push(format!("{who}: dialogue {sid} should have ended"));
    }
    Ok(())
}
