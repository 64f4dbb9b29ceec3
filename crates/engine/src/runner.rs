//! Executing Actions JSON: the action list, redirects, tasks, remote programs
//! and the failure path.

use otto_model::actions::{Handoff, Listen, Redirect};
use otto_model::{Action, ActionsDocument, Target};

use crate::errors::{ErrorKind, INVALID_ACTIONS_JSON};
use crate::events::EventKind;
use crate::fetch::{ActionFetcher, FetchError, Method};
use crate::memory;
use crate::output::HandoffOutput;
use crate::state::{EndReason, ListenState, Waiting};
use crate::turn::Turn;

/// What to do after a step.
#[derive(Debug)]
pub(crate) enum Next {
    /// The turn is over.
    Done,
    Go(Jump),
    /// Something failed: take the fallback default, or apologise.
    Failure,
}

/// Control passing to a task or a URL.
#[derive(Debug)]
pub(crate) struct Jump {
    pub target: Target,
    pub method: Method,
    /// Whether it is a redirect, counted against the per-input limit.
    pub counts: bool,
}

impl Next {
    /// Routing (NLU, target task, defaults, digits): not counted as a redirect.
    pub fn route(target: Target, method: Method) -> Next {
        Next::Go(Jump {
            target,
            method,
            counts: false,
        })
    }

    /// A redirect, counted against the per-input limit.
    pub fn redirect(target: Target, method: Method) -> Next {
        Next::Go(Jump {
            target,
            method,
            counts: true,
        })
    }
}

impl<F: ActionFetcher> Turn<'_, F> {
    /// Follows steps until the turn is over.
    pub(crate) async fn drive(&mut self, mut next: Next) {
        loop {
            next = match next {
                Next::Done => return,
                Next::Go(jump) => self.go(jump).await,
                Next::Failure => self.failure(),
            };
        }
    }

    async fn go(&mut self, jump: Jump) -> Next {
        if jump.counts {
            self.redirects += 1;
            if self.redirects > self.engine.config.max_redirects {
                let message = format!(
                    "more than {} redirects for one input; not following {}",
                    self.engine.config.max_redirects, jump.target
                );
                self.error(ErrorKind::RedirectLimit, message);
                return Next::Failure;
            }
        }
        let program = match &jump.target {
            Target::Task(name) => self.enter_task(name).await,
            Target::Url(url) => self.fetch_actions(url, jump.method).await,
        };
        match program {
            Some(program) => self.execute(&program).await,
            None => Next::Failure,
        }
    }

    /// The fallback default once per input; after that (or without one) an
    /// apology that ends the dialogue.
    pub(crate) fn failure(&mut self) -> Next {
        if !self.fallback_used {
            self.fallback_used = true;
            if let Some(fallback) = self.bot.assistant.defaults.fallback.clone() {
                return Next::route(fallback, Method::Post);
            }
        }
        let apology = self.engine.config.apology.clone();
        self.output.push_say(apology);
        self.close_task();
        self.end_dialogue(EndReason::Error);
        Next::Done
    }

    /// Starts a task and returns its program.
    async fn enter_task(&mut self, name: &str) -> Option<ActionsDocument> {
        let assistant = self.bot.assistant;
        let Some(task) = assistant.task(name) else {
            self.error(
                ErrorKind::UnknownTask,
                format!("task://{name} names no task of the assistant"),
            );
            return None;
        };
        self.close_task();
        self.state.current_task = Some(name.to_owned());
        self.open_task = Some(name.to_owned());
        self.routed_task.get_or_insert_with(|| name.to_owned());
        self.emit(EventKind::TaskStart {
            task: name.to_owned(),
        });
        match &task.actions_url {
            Some(url) => self.fetch_actions(url, Method::Post).await,
            None => Some(task.actions.clone().unwrap_or_default()),
        }
    }

    /// Sends the Autopilot request to `url` and checks the answer is Actions JSON.
    async fn fetch_actions(&mut self, url: &str, method: Method) -> Option<ActionsDocument> {
        let request = self.request(url, method);
        self.emit(EventKind::ActionsFetch {
            url: url.to_owned(),
        });
        let value = match self.engine.fetcher.fetch(request).await {
            Ok(value) => value,
            Err(error) => {
                self.fetch_failed(url, &error);
                return None;
            }
        };
        match ActionsDocument::from_value(&value) {
            Ok(program) => Some(program),
            Err(error) => {
                self.error(
                    ErrorKind::InvalidActions,
                    format!("{url}: invalid Actions JSON: {error}"),
                );
                None
            }
        }
    }

    fn fetch_failed(&mut self, url: &str, error: &FetchError) {
        self.error(ErrorKind::Fetch, format!("{url}: {error}"));
        if matches!(
            error,
            FetchError::InvalidJson { .. } | FetchError::TooLarge { .. }
        ) {
            // An answer that is no Actions JSON at all is Twilio's 90100.
            if let Some(last) = self.errors.last_mut() {
                last.code = Some(INVALID_ACTIONS_JSON);
            }
        }
    }

    /// Runs an action list until a terminal action or its end.
    async fn execute(&mut self, program: &ActionsDocument) -> Next {
        for action in &program.actions {
            match action {
                Action::Say(say) => self.say(say.speech()),
                Action::Play(play) => self.output.push_play(play),
                Action::Show(show) => {
                    let body = self.render(&show.body);
                    self.output.push_show(show, body);
                }
                Action::Remember(values) => memory::merge(&mut self.state.memory, values),
                Action::Listen(listen) => return self.listen(listen),
                Action::Collect(collect) => return self.start_collect(collect).await,
                Action::Redirect(redirect) => return self.redirect(redirect),
                Action::Handoff(handoff) => return self.handoff(handoff),
            }
        }
        // Nothing left to wait for: the dialogue ends after this output.
        self.close_task();
        self.end_dialogue(EndReason::Completed);
        Next::Done
    }

    fn listen(&mut self, listen: &Listen) -> Next {
        let listening = ListenState::from(listen);
        self.output.listen = Some(listening.clone());
        self.state.waiting = Waiting::Listen(listening);
        self.close_task();
        Next::Done
    }

    /// A `redirect` (also `on_complete` and `max_attempts.redirect`): counted.
    pub(crate) fn redirect(&mut self, redirect: &Redirect) -> Next {
        match redirect.target() {
            Ok(target) => {
                let method = redirect.method().map_or(Method::Post, Method::from);
                Next::redirect(target, method)
            }
            Err(error) => {
                self.error(
                    ErrorKind::InvalidTarget,
                    format!("redirect not followed: {error}"),
                );
                Next::Failure
            }
        }
    }

    fn handoff(&mut self, handoff: &Handoff) -> Next {
        let params = self.request(&handoff.uri, Method::Post).params;
        self.output.handoff = Some(HandoffOutput::new(handoff, params));
        self.close_task();
        self.end_dialogue(EndReason::Handoff);
        Next::Done
    }
}
