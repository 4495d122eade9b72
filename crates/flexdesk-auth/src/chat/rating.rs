//! A customer's rating of a chat with an agent, for Flex Insights (issue 28; `POST /v1/sessions/{id}/rating`).
//!
//! Where it goes: Flex Insights reads a task's attributes when TaskRouter reports the task (`task.completed`,
//! `task.canceled`, `task.updated`), and takes custom conversation data from the `conversations` object of those
//! attributes: ten numeric custom measures `conversation_measure_1` … `conversation_measure_10` and ten text custom
//! attributes `conversation_attribute_1` … `conversation_attribute_10`
//! (<https://www.twilio.com/docs/flex/developer/insights/enhance-integration>, "Enhance your conversation data"). The
//! score is a number, so it goes to a measure (Insights can average and sum it); the comment is text, so it goes to
//! the attribute of the same slot (`RATING_INSIGHTS_SLOT`, default 1, for a contact centre that uses slot 1 already).
//! Labels (`conversation_label_*`) would not do for the comment: they are for a small set of values
//! (<https://www.twilio.com/docs/flex/developer/insights/labels>).
//!
//! When: the same page says a task "is deleted 5 minutes after its completion, Flex Insights will only reflect the
//! data from updates that occurred within this time limit", and TaskRouter deletes a canceled or completed task five
//! minutes after that state (<https://www.twilio.com/docs/taskrouter/lifecycle-task-state>). So the rating is written
//! while the task exists: a task that is gone (404), or whose update Twilio refuses, answers 409 `rating_closed`.
//! twilio-oai's `UpdateTask` says nothing of a completed or canceled task's `Attributes` (only that a `Reason` "queues
//! the task for deletion"), nor does the Task resource page: Twilio documents no refusal, and the 409 covers one.
//!
//! Who: only the ended session's credential, once (a [`crate::chat::single_use::SingleUse`] by session id, shared
//! through Redis), and within `RATING_WINDOW_SECONDS` of the end: the end this server recorded, else the
//! conversation's own `date_updated` when Twilio says it is closed (a session rebuilt from its credential).

use serde_json::{Map, Value};

use axum::http::StatusCode;
use flexdesk_core::wire::{RatingRequest, MAX_RATING_COMMENT_CHARS, MAX_RATING_SCORE};

use crate::chat::error::{AppError, ErrorCode};

/// A rating that passed the checks: the score and the comment, trimmed (`None` when empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    /// 1 to [`MAX_RATING_SCORE`].
    pub score: u8,
    /// What the customer wrote, trimmed; never empty.
    pub comment: Option<String>,
}

impl Rating {
    /// Checks the request's score and comment: 422 `invalid_body` with what is wrong.
    pub fn from_request(req: &RatingRequest) -> Result<Rating, AppError> {
        let invalid = |m: String| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidBody, m);
        if !(1..=MAX_RATING_SCORE).contains(&req.score) {
            return Err(invalid(format!("score must be a whole number from 1 to {MAX_RATING_SCORE}")));
        }
        let comment = req.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
        if let Some(c) = comment {
            if c.chars().count() > MAX_RATING_COMMENT_CHARS {
                return Err(invalid(format!("comment must be at most {MAX_RATING_COMMENT_CHARS} characters")));
            }
            if c.chars().any(|ch| ch.is_control() && ch != '\n') {
                return Err(invalid("comment must not contain control characters".into()));
            }
        }
        Ok(Rating { score: req.score, comment: comment.map(str::to_string) })
    }
}

/// The task's attributes with the rating written into their `conversations` object (slot `slot`), everything else
/// kept. A comment left out removes none written before (a rating is accepted once anyway).
pub fn with_rating(attributes: Value, rating: &Rating, slot: u8) -> Value {
    let mut attributes = match attributes {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let conversations = attributes.entry("conversations").or_insert_with(|| Value::Object(Map::new()));
    if !conversations.is_object() {
        *conversations = Value::Object(Map::new());
    }
    let c = conversations.as_object_mut().expect("made an object above");
    c.insert(format!("conversation_measure_{slot}"), Value::from(rating.score));
    if let Some(comment) = &rating.comment {
        c.insert(format!("conversation_attribute_{slot}"), Value::from(comment.as_str()));
    }
    Value::Object(attributes)
}

/// Whether a chat that ended at `ended_at` may still be rated at `now` (`window` seconds; 0: never).
pub fn window_open(ended_at: u64, now: u64, window: u64) -> bool {
    window > 0 && now <= ended_at.saturating_add(window)
}

/// 409 `chat_not_ended`.
pub fn not_ended() -> AppError {
    AppError::new(StatusCode::CONFLICT, ErrorCode::ChatNotEnded, "the chat has not ended; rate it once it is over")
}

/// 409 `already_rated`.
pub fn already_rated() -> AppError {
    AppError::new(StatusCode::CONFLICT, ErrorCode::AlreadyRated, "this chat was rated already")
}

/// 409 `rating_closed`, saying why.
pub fn closed(why: &str) -> AppError {
    AppError::new(StatusCode::CONFLICT, ErrorCode::RatingClosed, format!("this chat can no longer be rated: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(score: u8, comment: Option<&str>) -> RatingRequest {
        RatingRequest { session_credential: "c".into(), score, comment: comment.map(str::to_string) }
    }

    #[test]
    fn scores_from_one_to_five_and_short_comments_pass() {
        assert_eq!(Rating::from_request(&req(4, Some("  Quick and kind. "))).unwrap(), Rating { score: 4, comment: Some("Quick and kind.".into()) });
        assert_eq!(Rating::from_request(&req(1, Some("   "))).unwrap().comment, None, "blank is no comment");
        for bad in [req(0, None), req(6, None), req(3, Some(&"x".repeat(501))), req(3, Some("a\u{0}b"))] {
            assert_eq!(Rating::from_request(&bad).unwrap_err().code, ErrorCode::InvalidBody, "{bad:?}");
        }
    }

    #[test]
    fn the_rating_goes_into_the_conversations_object_and_keeps_the_rest() {
        let task = json!({"conversationSid": "CH1", "conversations": {"hang_up_by": "Customer", "conversation_measure_1": 2}});
        let rated = with_rating(task, &Rating { score: 5, comment: Some("great".into()) }, 1);
        assert_eq!(
            rated,
            json!({"conversationSid": "CH1", "conversations": {"hang_up_by": "Customer", "conversation_measure_1": 5, "conversation_attribute_1": "great"}})
        );
        let other_slot = with_rating(json!("not an object"), &Rating { score: 3, comment: None }, 7);
        assert_eq!(other_slot, json!({"conversations": {"conversation_measure_7": 3}}));
    }

    #[test]
    fn the_window_starts_at_the_end_and_zero_closes_it() {
        assert!(window_open(1_000, 1_900, 900));
        assert!(!window_open(1_000, 1_901, 900));
        assert!(!window_open(1_000, 1_000, 0), "0 = ratings refused");
    }
}
