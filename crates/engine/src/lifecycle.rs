//! Starting, resuming and ending dialogues (reference 6).

use chrono::{DateTime, Utc};
use serde_json::Map;

use crate::engine::{Bot, EngineConfig, Expired, InputKind, TurnInput};
use crate::events::{Event, EventKind};
use crate::state::{DialogueState, EndReason, Waiting};

/// The dialogue a turn works on.
pub(crate) struct Opened<'a> {
    pub state: DialogueState,
    /// Events that already happened: a previous dialogue's end, this one's start.
    pub events: Vec<Event>,
    /// The memory to restore if the turn leaves it over the size limit: the
    /// stored dialogue's, borrowed (a copy only if it is needed), or none for
    /// a new dialogue.
    pub memory_before: Option<&'a Map<String, serde_json::Value>>,
}

/// Continues the stored dialogue if it is live, otherwise starts a new one. A
/// previous dialogue that idled out or that a new call replaces is ended here.
/// `previous` is borrowed: the turn works on a copy, and restores the stored
/// memory from it only if it must.
pub(crate) fn open<'a>(
    config: &EngineConfig,
    bot: Bot<'_>,
    previous: Option<&'a DialogueState>,
    input: &TurnInput,
    now: DateTime<Utc>,
) -> Opened<'a> {
    let mut events = Vec::new();
    let live =
        previous.filter(|state| !state.ended && state.user_identifier == input.user_identifier);
    let live = match live {
        Some(stored) if is_idle(config, stored, now) => {
            events.extend(end(bot, &mut stored.clone(), EndReason::IdleTimeout, now));
            None
        }
        Some(stored) if input.kind == InputKind::CallStart => {
            events.extend(end(bot, &mut stored.clone(), EndReason::Replaced, now));
            None
        }
        other => other,
    };
    match live {
        Some(stored) => Opened {
            state: stored.clone(),
            events,
            memory_before: Some(&stored.memory),
        },
        None => {
            let mut state = new_dialogue(config, input, now);
            if input.kind == InputKind::HangUp {
                // Nothing to hang up on: the dialogue is over before it started.
                state.ended = true;
                state.end_reason = Some(EndReason::HangUp);
            } else if bot.wants_event(&EventKind::DialogueStart) {
                events.push(event(
                    bot,
                    &state,
                    EventKind::DialogueStart,
                    &input.text,
                    now,
                ));
            }
            Opened {
                state,
                events,
                memory_before: None,
            }
        }
    }
}

/// Whether the dialogue has gone without input for longer than the timeout.
pub(crate) fn is_idle(config: &EngineConfig, state: &DialogueState, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(state.last_input_at) > config.idle_timeout
}

/// Ends the dialogue if it idled out.
pub(crate) fn expire_idle(
    config: &EngineConfig,
    bot: Bot<'_>,
    mut state: DialogueState,
    now: DateTime<Utc>,
) -> Option<Expired> {
    if state.ended || !is_idle(config, &state, now) {
        return None;
    }
    let events = end(bot, &mut state, EndReason::IdleTimeout, now);
    Some(Expired { state, events })
}

/// Marks a stored dialogue ended, closing a task left open by a pending
/// collect; returns `onDialogueTaskEnd` (if any) and `onDialogueEnd`.
fn end(
    bot: Bot<'_>,
    state: &mut DialogueState,
    reason: EndReason,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let mut events = Vec::new();
    if let (Waiting::Collect(_), Some(task)) = (&state.waiting, &state.current_task) {
        let kind = EventKind::TaskEnd { task: task.clone() };
        if bot.wants_event(&kind) {
            events.push(event(bot, state, kind, "", now));
        }
    }
    state.waiting = Waiting::Nothing;
    state.ended = true;
    state.end_reason = Some(reason);
    let kind = EventKind::DialogueEnd { reason };
    if bot.wants_event(&kind) {
        events.push(event(bot, state, kind, "", now));
    }
    events
}

fn new_dialogue(config: &EngineConfig, input: &TurnInput, now: DateTime<Utc>) -> DialogueState {
    DialogueState {
        sid: config.sids.next(),
        user_identifier: input.user_identifier.clone(),
        channel: input.channel.clone(),
        memory: Map::new(),
        waiting: Waiting::Nothing,
        current_task: None,
        created_at: now,
        last_input_at: now,
        ended: false,
        end_reason: None,
    }
}

/// An event about `state` as it is now.
pub(crate) fn event(
    bot: Bot<'_>,
    state: &DialogueState,
    kind: EventKind,
    current_input: &str,
    now: DateTime<Utc>,
) -> Event {
    Event {
        kind,
        at: now,
        account_sid: bot.account_sid.clone(),
        assistant_sid: bot.assistant_sid.clone(),
        dialogue_sid: state.sid.clone(),
        user_identifier: state.user_identifier.clone(),
        channel: state.channel.clone(),
        current_task: state.current_task.clone(),
        current_input: current_input.to_owned(),
        memory: state.memory.clone(),
    }
}
