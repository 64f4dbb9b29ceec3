//! Where an input goes: a pending collect question, a DTMF redirect, the
//! target task, the initiation default or the NLU.

use otto_model::Target;

use crate::engine::{InputKind, Route};
use crate::errors::ErrorKind;
use crate::fetch::{ActionFetcher, Method};
use crate::runner::Next;
use crate::state::{ListenState, Waiting};
use crate::turn::Turn;

impl<F: ActionFetcher> Turn<'_, F> {
    /// The first step for this input.
    pub(crate) async fn route(&mut self) -> Next {
        // A stored question index past the end (a hand-edited state) is not
        // waited on: the input is routed as if nothing were pending.
        let asking = self
            .state
            .collect()
            .is_some_and(|pending| pending.question < pending.collect.action().questions.len());
        if asking {
            self.route = Route::CollectAnswer;
            self.routed_task = self.state.current_task.clone();
            let answer = self.current_input.clone();
            return self.answer(&answer).await;
        }
        let listening = match std::mem::take(&mut self.state.waiting) {
            Waiting::Listen(listen) => Some(listen),
            _ => None,
        };
        if let InputKind::Digits(digits) = self.input.kind.clone()
            && let Some(next) = self.digit_redirect(listening.as_ref(), &digits)
        {
            return next;
        }
        if let Some(task) = self.input.target_task.clone() {
            self.route = Route::TargetTask;
            self.understood.confidence = 1.0;
            return Next::route(Target::Task(task), Method::Post);
        }
        let initiation = self.bot.assistant.defaults.assistant_initiation.clone();
        if let (InputKind::CallStart, Some(target)) = (&self.input.kind, initiation) {
            self.route = Route::Initiation;
            return Next::route(target, Method::Post);
        }
        self.classify(listening.as_ref().and_then(ListenState::task_restriction))
    }

    /// `voice_digits.redirects`: keys pressed go straight to their target.
    fn digit_redirect(&mut self, listening: Option<&ListenState>, digits: &str) -> Option<Next> {
        let redirects = &listening?.voice_digits.as_ref()?.redirects;
        let redirect = redirects
            .iter()
            .find(|redirect| redirect.digits == digits)?;
        self.route = Route::Digits;
        match Target::parse(&redirect.uri) {
            Ok(target) => {
                let method = redirect.method.unwrap_or(Method::Post);
                Some(Next::route(target, method))
            }
            Err(error) => {
                self.error(
                    ErrorKind::InvalidTarget,
                    format!("digits {digits}: {error}"),
                );
                Some(Next::Failure)
            }
        }
    }

    /// Asks the NLU, restricted to `tasks` when a listen named them.
    fn classify(&mut self, tasks: Option<&[String]>) -> Next {
        self.route = Route::Nlu;
        self.understood = self
            .bot
            .understanding
            .parse(&self.current_input, tasks, self.now);
        let allowed = |task: &String| tasks.is_none_or(|tasks| tasks.contains(task));
        match self.understood.task.clone().filter(allowed) {
            Some(task) if self.bot.assistant.task(&task).is_some() => {
                Next::route(Target::Task(task), Method::Post)
            }
            Some(task) => {
                self.error(
                    ErrorKind::UnknownTask,
                    format!("the NLU chose {task:?}, which names no task"),
                );
                self.failure()
            }
            None => {
                if self.bot.assistant.defaults.fallback.is_none() {
                    let message = format!(
                        "no task matched {:?} and defaults.fallback is not set",
                        self.current_input
                    );
                    self.error(ErrorKind::NoFallback, message);
                }
                self.failure()
            }
        }
    }
}
