//! `collect`: asking questions in order, checking answers (type, allowed
//! values, validation webhook), retry messages, attempts and completion.

use otto_model::actions::{Collect, Question, Redirect, SayMessage, Validate, ValidateRules};
use otto_model::assistant::{ValidateStyle, builtin_field_type};
use serde_json::Value;

use crate::errors::{ErrorKind, HTTP_RETRIEVAL_FAILURE};
use crate::events::EventKind;
use crate::fetch::{ActionFetcher, Method};
use crate::memory::{self, StoredAnswer};
use crate::output::CollectPrompt;
use crate::runner::Next;
use crate::state::{CollectDefinition, CollectState, DigitsState, Waiting};
use crate::turn::Turn;

/// Whether an answer was accepted, and as what.
enum Verdict {
    Valid(String),
    Invalid,
}

/// A question's validation settings, its own overriding the style sheet's.
struct Policy<'q> {
    failure_messages: &'q [SayMessage],
    repeat_question: bool,
    on_success: Option<&'q SayMessage>,
    max_attempts: Option<u32>,
    redirect: Option<&'q Redirect>,
}

impl<'q> Policy<'q> {
    fn of(
        question: &'q Question,
        style: &'q ValidateStyle,
        default_max: Option<u32>,
    ) -> Policy<'q> {
        let rules = rules(question);
        let own_failure = rules.and_then(|rules| rules.on_failure.as_ref());
        let style_failure = style.on_failure.as_ref();
        let failure_messages = own_failure
            .filter(|failure| !failure.messages.is_empty())
            .or(style_failure)
            .map_or(&[][..], |failure| &failure.messages);
        let repeat_question = own_failure
            .and_then(|failure| failure.repeat_question)
            .or_else(|| style_failure.and_then(|failure| failure.repeat_question))
            .unwrap_or(false);
        let max = rules.and_then(|rules| rules.max_attempts.as_ref());
        Policy {
            failure_messages,
            repeat_question,
            on_success: rules
                .and_then(|rules| rules.on_success.as_ref())
                .or(style.on_success.as_ref()),
            max_attempts: max
                .and_then(|max| max.num_attempts)
                .or(style.max_attempts)
                .or(default_max),
            redirect: max.and_then(|max| max.redirect.as_ref()),
        }
    }
}

/// The object form of `validate`, if the question has one.
fn rules(question: &Question) -> Option<&ValidateRules> {
    match &question.validate {
        Some(Validate::Rules(rules)) => Some(rules),
        _ => None,
    }
}

/// Allowed values match ignoring case and surrounding space.
fn same_value(allowed: &str, answer: &str) -> bool {
    allowed.trim().to_lowercase() == answer.trim().to_lowercase()
}

impl<F: ActionFetcher> Turn<'_, F> {
    /// Starts a collect: earlier answers of the same form are cleared.
    pub(crate) async fn start_collect(&mut self, collect: &Collect) -> Next {
        memory::reset_collect(&mut self.state.memory, &collect.name);
        self.state.waiting = Waiting::Collect(CollectState {
            collect: CollectDefinition::new(collect.clone()),
            question: 0,
            attempts: 0,
            failure_message: 0,
            fields: self.understood.fields.clone(),
        });
        self.ask().await
    }

    /// The pending collect's name and current question.
    fn pending_question(&self) -> Option<(String, Question)> {
        let pending = self.state.collect()?;
        let question = pending.collect.action().questions.get(pending.question)?;
        Some((pending.collect.action().name.clone(), question.clone()))
    }

    /// The value of the field a question's `prefill` names, if the input that
    /// started the collect had it.
    fn prefill_value(&self, question: &Question) -> Option<String> {
        let name = question.prefill.as_ref()?;
        let fields = &self.state.collect()?.fields;
        let field = fields.iter().find(|field| &field.name == name)?;
        Some(field.value.clone())
    }

    /// Asks the current question, unless a `prefill` field answers it, in
    /// which case the next one comes.
    async fn ask(&mut self) -> Next {
        while let Some((collect, question)) = self.pending_question() {
            let prefill = self.prefill_value(&question);
            if let Some(value) = prefill
                && let Verdict::Valid(answer) = self.check(&question, &value).await
            {
                self.store(&collect, &question, &answer, true, 0);
                match self.advance() {
                    Some(next) => return next,
                    None => continue,
                }
            }
            self.prompt(&collect, &question, true);
            return Next::Done;
        }
        Next::Done
    }

    /// Says the question (when `ask`) and tells the channel what is pending.
    fn prompt(&mut self, collect: &str, question: &Question, ask: bool) {
        let prompt = self.render(question.question.speech());
        if ask && !prompt.is_empty() {
            self.output.push_say(prompt.clone());
        }
        self.output.collect_prompt = Some(CollectPrompt {
            collect: collect.to_owned(),
            question: question.name.clone(),
            prompt,
            field_type: question.field_type.clone(),
            voice_digits: question.voice_digits.as_ref().map(DigitsState::from),
            barge: question.barge,
        });
    }

    /// Takes the input as the answer to the pending question.
    pub(crate) async fn answer(&mut self, text: &str) -> Next {
        let Some((collect, question)) = self.pending_question() else {
            return Next::Done;
        };
        let attempts = match &mut self.state.waiting {
            Waiting::Collect(pending) => {
                pending.attempts += 1;
                pending.attempts
            }
            _ => 0,
        };
        let verdict = self.check(&question, text).await;
        let (success, output) = match &verdict {
            Verdict::Valid(answer) => (true, answer.clone()),
            Verdict::Invalid => (false, text.to_owned()),
        };
        self.emit(EventKind::CollectAttempt {
            collect: collect.clone(),
            question: question.name.clone(),
            success,
            output,
        });
        match verdict {
            Verdict::Valid(answer) => self.accept(&collect, &question, &answer, attempts).await,
            Verdict::Invalid => self.refuse(&collect, &question, text, attempts),
        }
    }

    async fn accept(
        &mut self,
        collect: &str,
        question: &Question,
        answer: &str,
        attempts: u32,
    ) -> Next {
        self.store(collect, question, answer, true, attempts);
        let style = &self.bot.assistant.style_sheet.collect.validate;
        let policy = Policy::of(question, style, self.engine.config.default_max_attempts);
        if let Some(message) = policy.on_success {
            self.say(message.say.speech());
        }
        match self.advance() {
            Some(next) => next,
            None => self.ask().await,
        }
    }

    /// A wrong answer: a retry message (and the question again), or, out of
    /// attempts, the question's redirect or `defaults.collect.validate_on_failure`.
    fn refuse(&mut self, collect: &str, question: &Question, text: &str, attempts: u32) -> Next {
        let style = &self.bot.assistant.style_sheet.collect.validate;
        let policy = Policy::of(question, style, self.engine.config.default_max_attempts);
        if policy.max_attempts.is_some_and(|max| attempts >= max) {
            self.store(collect, question, text.trim(), false, attempts);
            self.state.waiting = Waiting::Nothing;
            return self.out_of_attempts(policy.redirect);
        }
        let message = self.next_failure_message(policy.failure_messages);
        if let Some(message) = message {
            self.say(message.say.speech());
        }
        self.prompt(
            collect,
            question,
            policy.repeat_question || message.is_none(),
        );
        Next::Done
    }

    fn out_of_attempts(&mut self, redirect: Option<&Redirect>) -> Next {
        if let Some(redirect) = redirect {
            return self.redirect(redirect);
        }
        match self
            .bot
            .assistant
            .defaults
            .collect_validate_on_failure
            .clone()
        {
            Some(target) => Next::redirect(target, Method::Post),
            None => {
                let message = "a collect question ran out of attempts; neither max_attempts.redirect \
                               nor defaults.collect.validate_on_failure is set";
                self.error(ErrorKind::NoCollectFallback, message);
                Next::Failure
            }
        }
    }

    /// The `on_failure` messages are used in turn, starting over after the last.
    fn next_failure_message<'m>(&mut self, messages: &'m [SayMessage]) -> Option<&'m SayMessage> {
        let Waiting::Collect(pending) = &mut self.state.waiting else {
            return None;
        };
        if messages.is_empty() {
            return None;
        }
        let message = &messages[pending.failure_message % messages.len()];
        pending.failure_message += 1;
        Some(message)
    }

    /// Moves to the next question; at the end, the `on_complete` redirect.
    fn advance(&mut self) -> Option<Next> {
        let Waiting::Collect(pending) = &mut self.state.waiting else {
            return Some(Next::Done);
        };
        pending.question += 1;
        pending.attempts = 0;
        pending.failure_message = 0;
        if pending.question < pending.collect.action().questions.len() {
            return None;
        }
        let on_complete = pending.collect.action().on_complete.redirect.clone();
        self.state.waiting = Waiting::Nothing;
        Some(self.redirect(&on_complete))
    }

    fn store(
        &mut self,
        collect: &str,
        question: &Question,
        answer: &str,
        filled: bool,
        attempts: u32,
    ) {
        let stored = StoredAnswer {
            answer,
            field_type: question.field_type.as_deref(),
            filled,
            attempts,
        };
        memory::store_answer(&mut self.state.memory, collect, &question.name, &stored);
    }

    /// Type, allowed values, then the validation webhook.
    async fn check(&mut self, question: &Question, text: &str) -> Verdict {
        let raw = text.trim();
        if raw.is_empty() {
            return Verdict::Invalid;
        }
        let mut value = raw.to_owned();
        if let Some(field_type) = &question.field_type {
            let canonical = builtin_field_type(field_type).unwrap_or(field_type);
            match self.bot.understanding.normalize(canonical, raw, self.now) {
                Some(normalized) => value = normalized,
                None => return Verdict::Invalid,
            }
        }
        let rules = rules(question);
        if let Some(allowed) = rules.and_then(|rules| rules.allowed_values.as_ref()) {
            let found = allowed
                .list
                .iter()
                .find(|item| same_value(item, &value) || same_value(item, raw));
            match found {
                Some(item) => value = item.clone(),
                None => return Verdict::Invalid,
            }
        }
        if let Some(webhook) = rules.and_then(|rules| rules.webhook.as_ref()) {
            let method = webhook.method.map_or(Method::Post, Method::from);
            if !self.validate_remotely(&webhook.url, method, &value).await {
                return Verdict::Invalid;
            }
        }
        Verdict::Valid(value)
    }

    /// Asks a validation webhook; `{"valid": true}` accepts. A failing webhook
    /// refuses the answer and reports an error.
    async fn validate_remotely(&mut self, url: &str, method: Method, answer: &str) -> bool {
        let mut request = self.request(url, method);
        request
            .params
            .push(("ValidateFieldAnswer".to_owned(), answer.to_owned()));
        match self.engine.fetcher.fetch(request).await {
            Ok(response) => match response.get("valid") {
                Some(Value::Bool(valid)) => *valid,
                _ => {
                    let message =
                        format!("{url}: expected {{\"valid\": true|false}}, got {response}");
                    self.error(ErrorKind::ValidationWebhook, message);
                    false
                }
            },
            Err(error) => {
                self.error(ErrorKind::ValidationWebhook, format!("{url}: {error}"));
                if let Some(last) = self.errors.last_mut() {
                    last.code = Some(HTTP_RETRIEVAL_FAILURE);
                }
                false
            }
        }
    }
}
