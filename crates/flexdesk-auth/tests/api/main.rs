//! HTTP-level tests of the auth server against a wiremock fake of Twilio (one test binary, several modules).

mod abuse;
mod availability;
mod hardening;
mod openapi_contract;
mod readiness;
mod sessions;
mod sms;
mod slowloris;
mod support;
mod twilio_calls;
mod webhooks;
