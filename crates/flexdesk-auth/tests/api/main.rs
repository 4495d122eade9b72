//! HTTP-level tests of the auth server against a wiremock fake of Twilio (one test binary, several modules).

mod abandon;
mod abuse;
mod availability;
mod erase;
mod figures;
mod hardening;
mod media;
mod openapi_contract;
mod rating;
mod readiness;
mod sessions;
mod sms;
mod slowloris;
mod support;
mod twilio_calls;
mod webhooks;
