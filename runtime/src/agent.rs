//! [`AgentEvent`]: the events of an AI agent run, ready for a [`Hub`](crate::hub::Hub).
//!
//! Their JSON form is tagged `"type"` in snake_case. `agent_thinking` and `progress_update`
//! are not critical (a slow connection may lose some and is told how many); every other one
//! is: a connection gets it or is closed with a reason, and can replay it on reconnect.
//! Applications define their own events the same way: any `Serialize + Debug` type that
//! implements [`Event`].
//!
//! ```
//! use isolate::agent::AgentEvent;
//! use isolate::Event;
//! use serde_json::json;
//!
//! let event = AgentEvent::tool_executing("search", json!({"query": "flights to Lisbon"}));
//! assert!(event.critical());
//! assert_eq!(
//!     serde_json::to_value(&event).unwrap(),
//!     json!({"type": "tool_executing", "tool": "search", "arguments": {"query": "flights to Lisbon"}}),
//! );
//! assert!(!AgentEvent::thinking("comparing fares").critical());
//! assert_eq!(AgentEvent::thinking("...").kind(), "agent_thinking");
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::events::Event;

/// What an agent run reports while it works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AgentEvent {
    /// The agent started on `input`. Critical.
    AgentStarted {
        /// Which agent.
        agent: String,
        /// What it was asked.
        input: Value,
    },
    /// An intermediate thought. Not critical.
    AgentThinking {
        /// The thought.
        thought: String,
    },
    /// A tool call started. Critical.
    ToolExecuting {
        /// The tool.
        tool: String,
        /// A summary of its arguments.
        arguments: Value,
    },
    /// A tool call returned. Critical.
    ToolCompleted {
        /// The tool.
        tool: String,
        /// A summary of its result.
        result: Value,
        /// How long it took.
        duration_ms: u64,
    },
    /// The agent finished with `result`. Critical.
    AgentCompleted {
        /// The answer.
        result: Value,
    },
    /// The agent failed. Critical.
    AgentError {
        /// What went wrong, for the user.
        message: String,
    },
    /// The agent ran out of time. Critical.
    AgentTimeout {
        /// How long it had.
        after_ms: u64,
    },
    /// How far along the agent is. Not critical.
    ProgressUpdate {
        /// Steps done.
        step: u64,
        /// Steps in all (as far as known).
        total: u64,
        /// What it is doing.
        message: String,
    },
}

impl AgentEvent {
    /// `agent_started`.
    pub fn started(agent: impl Into<String>, input: impl Into<Value>) -> Self {
        Self::AgentStarted {
            agent: agent.into(),
            input: input.into(),
        }
    }

    /// `agent_thinking`.
    pub fn thinking(thought: impl Into<String>) -> Self {
        Self::AgentThinking {
            thought: thought.into(),
        }
    }

    /// `tool_executing`.
    pub fn tool_executing(tool: impl Into<String>, arguments: impl Into<Value>) -> Self {
        Self::ToolExecuting {
            tool: tool.into(),
            arguments: arguments.into(),
        }
    }

    /// `tool_completed`.
    pub fn tool_completed(
        tool: impl Into<String>,
        result: impl Into<Value>,
        duration: Duration,
    ) -> Self {
        Self::ToolCompleted {
            tool: tool.into(),
            result: result.into(),
            duration_ms: millis(duration),
        }
    }

    /// `agent_completed`.
    pub fn completed(result: impl Into<Value>) -> Self {
        Self::AgentCompleted {
            result: result.into(),
        }
    }

    /// `agent_error`.
    pub fn error(message: impl Into<String>) -> Self {
        Self::AgentError {
            message: message.into(),
        }
    }

    /// `agent_timeout`.
    pub fn timeout(after: Duration) -> Self {
        Self::AgentTimeout {
            after_ms: millis(after),
        }
    }

    /// `progress_update`.
    pub fn progress(step: u64, total: u64, message: impl Into<String>) -> Self {
        Self::ProgressUpdate {
            step,
            total,
            message: message.into(),
        }
    }

    /// The `"type"` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AgentStarted { .. } => "agent_started",
            Self::AgentThinking { .. } => "agent_thinking",
            Self::ToolExecuting { .. } => "tool_executing",
            Self::ToolCompleted { .. } => "tool_completed",
            Self::AgentCompleted { .. } => "agent_completed",
            Self::AgentError { .. } => "agent_error",
            Self::AgentTimeout { .. } => "agent_timeout",
            Self::ProgressUpdate { .. } => "progress_update",
        }
    }

    /// Every `"type"` tag, in declaration order.
    pub const KINDS: [&'static str; 8] = [
        "agent_started",
        "agent_thinking",
        "tool_executing",
        "tool_completed",
        "agent_completed",
        "agent_error",
        "agent_timeout",
        "progress_update",
    ];
}

impl Event for AgentEvent {
    fn critical(&self) -> bool {
        !matches!(
            self,
            Self::AgentThinking { .. } | Self::ProgressUpdate { .. }
        )
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<AgentEvent> {
        vec![
            AgentEvent::started("a", "in"),
            AgentEvent::thinking("t"),
            AgentEvent::tool_executing("search", "q"),
            AgentEvent::tool_completed("search", "r", Duration::from_millis(7)),
            AgentEvent::completed("done"),
            AgentEvent::error("boom"),
            AgentEvent::timeout(Duration::from_secs(2)),
            AgentEvent::progress(1, 3, "p"),
        ]
    }

    #[test]
    fn tags_are_snake_case_and_match_kind() {
        let events = one_of_each();
        let tags: Vec<String> = events
            .iter()
            .map(|e| {
                serde_json::to_value(e).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(tags, AgentEvent::KINDS);
        for e in &events {
            assert_eq!(serde_json::to_value(e).unwrap()["type"], e.kind());
        }
    }

    #[test]
    fn only_thinking_and_progress_are_not_critical() {
        let not_critical: Vec<&str> = one_of_each()
            .iter()
            .filter(|e| !e.critical())
            .map(AgentEvent::kind)
            .collect();
        assert_eq!(not_critical, ["agent_thinking", "progress_update"]);
    }

    #[test]
    fn the_json_form_round_trips() {
        for e in one_of_each() {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<AgentEvent>(&json).unwrap(), e);
        }
    }
}
