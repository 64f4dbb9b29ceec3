//! Actions JSON (reference section 3): the program a task, a redirect URL or a
//! default runs, parsed into types and checked with Autopilot's rules.

mod collect;
mod flow;
mod output;

pub(crate) use collect::FailureKeyOrder;
pub use collect::{
    AllowedValues, Collect, Confirm, MaxAttempts, OnComplete, OnFailure, Prompt, Question,
    Validate, ValidateRules, ValidationWebhook,
};
pub use flow::{Handoff, HttpMethod, Listen, ListenOptions, Redirect, StringOrNumber, VoiceDigits};
pub use output::{Image, Play, Say, SayMessage, Show};

use serde_json::{Map, Value};

use crate::json::{ObjectBuilder, OrderedJson, ShapeError, compact_size, index_path, key_path};

/// Twilio error 90100, "Invalid Autopilot Actions JSON".
pub const INVALID_ACTIONS_JSON: u32 = 90100;
/// Most bytes an Actions JSON document may take: 16 KB.
pub const ACTIONS_SIZE_LIMIT: usize = 16 * 1024;
/// Most bytes of dialogue memory, Twilio-populated keys included.
pub const MEMORY_SIZE_LIMIT: usize = 16 * 1024;
/// Memory limit when the dialogue runs inside a Studio flow.
pub const STUDIO_MEMORY_SIZE_LIMIT: usize = 12 * 1024;

/// Why an Actions JSON document (or a memory object) was refused: Twilio error 90100.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ActionsError(ShapeError);

impl ActionsError {
    /// Twilio's error code for every Actions JSON problem: 90100.
    pub fn code(&self) -> u32 {
        INVALID_ACTIONS_JSON
    }

    /// Twilio's title for the code.
    pub fn title(&self) -> &'static str {
        "Invalid Autopilot Actions JSON"
    }

    /// Where in the document, e.g. `actions[1].collect.questions[0]`; empty for the whole document.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// What is wrong there.
    pub fn problem(&self) -> &str {
        &self.0.problem
    }

    /// The path-and-problem pair, to embed in another document's error.
    pub fn into_shape_error(self) -> ShapeError {
        self.0
    }
}

impl From<ShapeError> for ActionsError {
    fn from(error: ShapeError) -> ActionsError {
        ActionsError(error)
    }
}

/// One element of the `actions` array.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Say(Say),
    Play(Play),
    Show(Show),
    /// Key/value pairs merged into dialogue memory.
    Remember(Map<String, Value>),
    Listen(Listen),
    Collect(Collect),
    /// Also what the legacy `fetch_actions` action becomes.
    Redirect(Redirect),
    Handoff(Handoff),
}

const ACTION_NAMES: &str = "say, play, show, remember, listen, collect, redirect, handoff";

impl Action {
    /// The action's key in Actions JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Say(_) => "say",
            Action::Play(_) => "play",
            Action::Show(_) => "show",
            Action::Remember(_) => "remember",
            Action::Listen(_) => "listen",
            Action::Collect(_) => "collect",
            Action::Redirect(_) => "redirect",
            Action::Handoff(_) => "handoff",
        }
    }

    /// Why nothing may follow this action, for the actions that end a list.
    fn ends_the_list_because(&self) -> Option<&'static str> {
        match self {
            Action::Listen(_) => Some("ends the turn"),
            Action::Collect(_) => Some("takes over the conversation"),
            Action::Redirect(_) => Some("passes control to another program"),
            Action::Handoff(_) => Some("hands the call off"),
            Action::Say(_) | Action::Play(_) | Action::Show(_) | Action::Remember(_) => None,
        }
    }

    /// `name` is the key the author wrote, `element_path` where the element sits.
    fn read(name: &str, value: &Value, element_path: &str) -> Result<Action, ShapeError> {
        let path = key_path(element_path, name);
        let action = match name {
            "say" => Action::Say(Say::read(value, &path)?),
            "play" => Action::Play(Play::read(value, &path)?),
            "show" => Action::Show(Show::read(value, &path)?),
            "remember" => Action::Remember(read_remember(value, &path)?),
            "listen" => Action::Listen(Listen::read(value, &path)?),
            "collect" => Action::Collect(Collect::read(value, &path)?),
            "redirect" => Action::Redirect(Redirect::read(value, &path)?),
            "fetch_actions" => Action::Redirect(Redirect::read_legacy(value, &path)?),
            "handoff" => Action::Handoff(Handoff::read(value, &path)?),
            other => {
                return Err(ShapeError::new(
                    element_path,
                    format!("unknown action {other:?}; expected one of {ACTION_NAMES}"),
                ));
            }
        };
        Ok(action)
    }

    fn write(&self) -> OrderedJson {
        let value = match self {
            Action::Say(say) => say.write(),
            Action::Play(play) => play.write(),
            Action::Show(show) => show.write(),
            Action::Remember(memory) => OrderedJson::from(memory),
            Action::Listen(listen) => listen.write(),
            Action::Collect(collect) => collect.write(),
            Action::Redirect(redirect) => redirect.write(),
            Action::Handoff(handoff) => handoff.write(),
        };
        ObjectBuilder::new().field(self.name(), value).build()
    }
}

fn read_remember(value: &Value, path: &str) -> Result<Map<String, Value>, ShapeError> {
    value
        .as_object()
        .cloned()
        .ok_or_else(|| crate::json::wrong_type(path, "an object of keys to remember", value))
}

/// A whole Actions JSON document: `{"actions": [ … ]}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActionsDocument {
    pub actions: Vec<Action>,
    /// Keys next to `actions`, kept so a stored document is written back unchanged.
    pub extra: Map<String, Value>,
}

impl ActionsDocument {
    pub fn new(actions: Vec<Action>) -> ActionsDocument {
        ActionsDocument {
            actions,
            extra: Map::new(),
        }
    }

    /// Parses a document as received, e.g. an `actions_url` response body.
    /// The 16 KB limit applies to the text as received.
    pub fn parse(text: &str) -> Result<ActionsDocument, ActionsError> {
        check_size("the Actions JSON", text.len(), ACTIONS_SIZE_LIMIT)?;
        let tree: OrderedJson = serde_json::from_str(text)
            .map_err(|error| ShapeError::new("", format!("not valid JSON: {error}")))?;
        ActionsDocument::from_tree(tree)
    }

    /// Checks an already parsed document, e.g. a stored task's actions. The 16 KB
    /// limit applies to its compact serialisation. Keys of an action object are
    /// listed in sorted order in errors, since a `Value` no longer knows the
    /// author's order.
    pub fn from_value(value: &Value) -> Result<ActionsDocument, ActionsError> {
        check_size("the Actions JSON", compact_size(value), ACTIONS_SIZE_LIMIT)?;
        ActionsDocument::from_tree(OrderedJson::from(value))
    }

    /// The document in Autopilot's JSON shape, each action in the form its author used.
    pub fn to_value(&self) -> Value {
        self.to_ordered().into_value()
    }

    /// Like [`ActionsDocument::to_value`], keeping the written key order for printing.
    pub(crate) fn to_ordered(&self) -> OrderedJson {
        ObjectBuilder::new()
            .field(
                "actions",
                self.actions.iter().map(Action::write).collect::<Vec<_>>(),
            )
            .extra(&self.extra)
            .build()
    }

    fn from_tree(tree: OrderedJson) -> Result<ActionsDocument, ActionsError> {
        let (elements, extra) = split_envelope(tree)?;
        let mut actions = Vec::with_capacity(elements.len());
        let mut written_names = Vec::with_capacity(elements.len());
        for (index, element) in elements.into_iter().enumerate() {
            let (name, value) = single_action_entry(element, index)?;
            actions.push(Action::read(&name, &value, &index_path("actions", index))?);
            written_names.push(name);
        }
        check_terminal_actions_are_last(&actions, &written_names)?;
        check_show_without_collect(&actions)?;
        Ok(ActionsDocument { actions, extra })
    }
}

fn check_size(what: &str, size: usize, limit: usize) -> Result<(), ActionsError> {
    if size > limit {
        let problem = format!("{what} is {size} bytes; the limit is {limit} bytes");
        return Err(ShapeError::new("", problem).into());
    }
    Ok(())
}

/// Checks a dialogue memory object against a size limit ([`MEMORY_SIZE_LIMIT`],
/// or [`STUDIO_MEMORY_SIZE_LIMIT`] inside Studio), measured as compact JSON.
/// Takes the object as a `Value` or as its map (no copy needed per turn).
pub fn check_memory_size<M: serde::Serialize + ?Sized>(
    memory: &M,
    limit: usize,
) -> Result<(), ActionsError> {
    check_size("the memory", compact_size(memory), limit)
}

/// The `actions` array's elements and the envelope's other keys.
fn split_envelope(tree: OrderedJson) -> Result<(Vec<OrderedJson>, Map<String, Value>), ShapeError> {
    let OrderedJson::Object(pairs) = tree else {
        let problem = format!(
            "expected an object {{\"actions\": [...]}}, found {}",
            tree.kind()
        );
        return Err(ShapeError::new("", problem));
    };
    reject_repeated_keys(&pairs, "")?;
    let mut list = None;
    let mut extra = Map::new();
    for (key, value) in pairs {
        match key.as_str() {
            "actions" => list = Some(value),
            _ => {
                extra.insert(key, value.into_value());
            }
        }
    }
    match list {
        Some(OrderedJson::Array(elements)) => Ok((elements, extra)),
        Some(other) => Err(ShapeError::new(
            "actions",
            format!("expected an array, found {}", other.kind()),
        )),
        None => Err(ShapeError::new("", "missing \"actions\"")),
    }
}

/// Repeated keys can only come from parsed text; a `Value` would silently keep the last.
fn reject_repeated_keys(pairs: &[(String, OrderedJson)], path: &str) -> Result<(), ShapeError> {
    for (index, (key, _)) in pairs.iter().enumerate() {
        if pairs[..index].iter().any(|(earlier, _)| earlier == key) {
            return Err(ShapeError::new(
                path,
                format!("key {key:?} appears more than once"),
            ));
        }
    }
    Ok(())
}

/// An action element must be an object with exactly one key, the action's name.
fn single_action_entry(element: OrderedJson, index: usize) -> Result<(String, Value), ShapeError> {
    let path = index_path("actions", index);
    let OrderedJson::Object(mut pairs) = element else {
        let problem = format!(
            "expected an object with one key naming the action, found {}",
            element.kind()
        );
        return Err(ShapeError::new(path, problem));
    };
    if pairs.len() != 1 {
        let keys: Vec<String> = pairs.iter().map(|(key, _)| format!("{key:?}")).collect();
        let listed = match keys.is_empty() {
            true => String::new(),
            false => format!(" ({})", keys.join(", ")),
        };
        let problem = format!(
            "an action object must have exactly one key, found {}{listed}",
            pairs.len()
        );
        return Err(ShapeError::new(path, problem));
    }
    let (name, value) = pairs.remove(0);
    Ok((name, value.into_value()))
}

fn check_terminal_actions_are_last(
    actions: &[Action],
    written_names: &[String],
) -> Result<(), ShapeError> {
    let last = actions.len().saturating_sub(1);
    for (index, action) in actions.iter().enumerate().take(last) {
        if let Some(reason) = action.ends_the_list_because() {
            let problem = format!(
                "{:?} {reason} and must be the last action; actions[{}] would never run",
                written_names[index],
                index + 1
            );
            return Err(ShapeError::new(index_path("actions", index), problem));
        }
    }
    Ok(())
}

/// Autopilot refuses `show` in a list that also collects; a redirect must separate them.
fn check_show_without_collect(actions: &[Action]) -> Result<(), ShapeError> {
    let position = |name: &str| actions.iter().position(|a| a.name() == name);
    if let (Some(show), Some(collect)) = (position("show"), position("collect")) {
        let problem = format!(
            "\"show\" cannot be combined with \"collect\" (actions[{collect}]) in one list; \
             put the show in another task and redirect between them"
        );
        return Err(ShapeError::new(index_path("actions", show), problem));
    }
    Ok(())
}

crate::json::serde_via_value!(ActionsDocument);
