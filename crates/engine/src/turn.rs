//! One turn in progress: the dialogue being worked on and everything the turn
//! produced so far. The runner, routing and collect modules add behaviour.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::engine::{Bot, Engine, InputKind, Route, TurnInput, TurnResult};
use crate::errors::{EngineError, ErrorKind};
use crate::events::{Event, EventKind};
use crate::fetch::{ActionFetcher, Method, RemoteRequest};
use crate::lifecycle::{self, Opened};
use crate::memory;
use crate::output::Output;
use crate::request::{self, RequestContext};
use crate::state::{DialogueState, EndReason, Waiting};
use crate::templates::TemplateContext;
use crate::understanding::Understood;

pub(crate) struct Turn<'a, F> {
    pub engine: &'a Engine<F>,
    pub bot: Bot<'a>,
    pub now: DateTime<Utc>,
    pub state: DialogueState,
    pub input: TurnInput,
    /// The text or digits the user sent: `CurrentInput`.
    pub current_input: String,
    memory_before: Option<&'a Map<String, Value>>,
    pub output: Output,
    pub events: Vec<Event>,
    pub errors: Vec<EngineError>,
    pub route: Route,
    /// The first task the input led to.
    pub routed_task: Option<String>,
    /// The NLU's result, or a confidence of 1 for a target task.
    pub understood: Understood,
    pub redirects: u32,
    /// Whether the fallback default was already used in this turn.
    pub fallback_used: bool,
    /// The task that started and has not ended (for `onDialogueTaskEnd`).
    pub open_task: Option<String>,
}

impl<'a, F: ActionFetcher> Turn<'a, F> {
    pub fn new(
        engine: &'a Engine<F>,
        bot: Bot<'a>,
        opened: Opened<'a>,
        input: TurnInput,
        now: DateTime<Utc>,
    ) -> Turn<'a, F> {
        let current_input = match &input.kind {
            InputKind::Digits(digits) if input.text.is_empty() => digits.clone(),
            _ => input.text.clone(),
        };
        let open_task = match opened.state.waiting {
            Waiting::Collect(_) => opened.state.current_task.clone(),
            _ => None,
        };
        Turn {
            engine,
            bot,
            now,
            state: opened.state,
            input,
            current_input,
            memory_before: opened.memory_before,
            output: Output::default(),
            events: opened.events,
            errors: Vec::new(),
            route: Route::NotRouted,
            routed_task: None,
            understood: Understood::default(),
            redirects: 0,
            fallback_used: false,
            open_task,
        }
    }

    pub async fn run(mut self) -> TurnResult {
        if self.state.ended {
            // A hang-up with no dialogue to end.
            self.output.ended = true;
            return self.into_result();
        }
        if self.input.kind == InputKind::HangUp {
            self.close_task();
            self.end_dialogue(EndReason::HangUp);
        } else {
            self.merge_inbound();
            let next = self.route().await;
            self.drive(next).await;
        }
        self.finish()
    }

    /// Inbound `Memory` context and the channel's namespace, merged on every turn.
    fn merge_inbound(&mut self) {
        if let Some(inbound) = &self.input.inbound_memory {
            memory::merge(&mut self.state.memory, inbound);
        }
        if let Some(data) = &self.input.channel_data {
            memory::set_channel_data(&mut self.state.memory, &data.namespace, &data.values);
        }
    }

    /// Checks memory, stamps the turn and fires the closing events.
    fn finish(mut self) -> TurnResult {
        if let Err(error) = memory::check_size(&self.state.memory, self.engine.config.memory_limit)
        {
            let message = format!("memory refused and rolled back: {}", error.problem());
            self.error(ErrorKind::MemoryTooLarge, message);
            self.state.memory = self.memory_before.cloned().unwrap_or_default();
        }
        self.state.last_input_at = self.now;
        if self.input.kind != InputKind::HangUp {
            self.emit(EventKind::Turn);
        }
        if let Some(reason) = self.state.end_reason.filter(|_| self.state.ended) {
            self.emit(EventKind::DialogueEnd { reason });
            self.output.ended = true;
        }
        for event in &mut self.events {
            if event.dialogue_sid == self.state.sid {
                event.memory = self.state.memory.clone();
            }
        }
        self.into_result()
    }

    fn into_result(mut self) -> TurnResult {
        self.output.say_voice = self.bot.assistant.style_sheet.voice.say_voice.clone();
        TurnResult {
            state: self.state,
            output: self.output,
            route: self.route,
            task: self.routed_task,
            confidence: self.understood.confidence,
            next_best_task: self.understood.next_best_task,
            fields: self.understood.fields,
            events: self.events,
            errors: self.errors,
        }
    }

    /// Ends the dialogue once this turn's output is delivered.
    pub fn end_dialogue(&mut self, reason: EndReason) {
        self.state.waiting = Waiting::Nothing;
        self.state.ended = true;
        self.state.end_reason = Some(reason);
    }

    /// Fires `onDialogueTaskEnd` for the task that is running, if any.
    pub fn close_task(&mut self) {
        if let Some(task) = self.open_task.take() {
            self.emit(EventKind::TaskEnd { task });
        }
    }

    pub fn emit(&mut self, kind: EventKind) {
        if !self.bot.wants_event(&kind) {
            return;
        }
        let event = lifecycle::event(self.bot, &self.state, kind, &self.current_input, self.now);
        self.events.push(event);
    }

    pub fn error(&mut self, kind: ErrorKind, message: impl Into<String>) {
        let error = EngineError::new(kind, message, self.state.current_task.as_deref());
        self.errors.push(error);
    }

    /// Renders a template; on error the text as written, plus an operator error.
    pub fn render(&mut self, text: &str) -> String {
        let context = TemplateContext {
            user_identifier: &self.state.user_identifier,
            memory: &self.state.memory,
            channel: &self.state.channel,
            fields: &self.understood.fields,
            task: self.state.current_task.as_deref(),
        };
        match self.engine.templates.render(text, context) {
            Ok(rendered) => rendered.into_owned(),
            Err(error) => {
                self.error(
                    ErrorKind::Template,
                    format!("template {text:?} not rendered: {error}"),
                );
                text.to_owned()
            }
        }
    }

    /// Renders and says `text` (nothing for an empty text).
    pub fn say(&mut self, text: &str) {
        let speech = self.render(text);
        if !speech.is_empty() {
            self.output.push_say(speech);
        }
    }

    /// The Autopilot request for `url` as the dialogue stands now.
    pub fn request(&self, url: &str, method: Method) -> RemoteRequest {
        let payload_url = request::dialogue_payload_url(
            &self.engine.config.api_base_url,
            self.bot.assistant_sid.as_str(),
            self.state.sid.as_str(),
        );
        let context = RequestContext {
            account_sid: self.bot.account_sid.as_str(),
            assistant_sid: self.bot.assistant_sid.as_str(),
            dialogue_sid: self.state.sid.as_str(),
            user_identifier: &self.state.user_identifier,
            current_input: &self.current_input,
            current_task: self.state.current_task.as_deref(),
            confidence: self.understood.confidence,
            next_best_task: self.understood.next_best_task.as_deref(),
            fields: &self.understood.fields,
            dialogue_payload_url: &payload_url,
            memory: &self.state.memory,
            channel: &self.state.channel,
        };
        RemoteRequest {
            url: url.to_owned(),
            method,
            params: request::autopilot_params(&context, method),
        }
    }
}
