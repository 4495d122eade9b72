//! `GET /status` on the admin listener: the chat queues at a glance for a supervisor (issue 28, item 3). Plain HTML
//! with inline SVG, made here on each request: no script, no build step, nothing fetched from elsewhere (its
//! Content-Security-Policy allows only its own inline style). It does not reload itself: an automatic refresh takes
//! the page away from someone still reading it (WCAG 2.2.1, axe-core's `meta-refresh` rule), so it is opt-in,
//! `/status?refresh=<seconds>` (10 to 3600), for a wall screen nobody reads with a screen reader.
//!
//! Per queue: chats waiting now and the longest of those waits, then over the last hour the median and 90th-percentile
//! wait of the chats an agent took, how many were taken and abandoned, the abandonment rate, and a bar chart of the
//! waits. The figures are `crate::chat::figures`' (TaskRouter's events, this replica's share).

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;

use crate::chat::figures::QueueStatus;
use crate::http::state::AppState;
use crate::infra::clock::unix_now;

/// The waits chart's bars: upper bounds in seconds (the last bar is everything longer) and their labels.
const BARS: [(u64, &str); 6] = [(20, "≤ 20 s"), (60, "≤ 1 min"), (120, "≤ 2 min"), (300, "≤ 5 min"), (600, "≤ 10 min"), (u64::MAX, "> 10 min")];

/// The page.
pub async fn page(State(state): State<Arc<AppState>>, Query(query): Query<Vec<(String, String)>>) -> impl IntoResponse {
    let now = unix_now();
    // A value out of bounds or not a number: no refresh (the page still answers; it is for people, not scripts).
    let refresh = query.iter().find(|(k, _)| k == "refresh").and_then(|(_, v)| v.parse::<u32>().ok()).filter(|s| (10..=3600).contains(s));
    let html = render(&state.figures.status(now), now, state.config.webhooks.is_some(), refresh);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"),
        ],
        html,
    )
}

/// The page for `queues` at `now`; `webhooks_on`: whether `TWILIO_WEBHOOKS` is on (else no event can arrive);
/// `refresh`: reload every this many seconds.
pub fn render(queues: &[QueueStatus], now: u64, webhooks_on: bool, refresh: Option<u32>) -> String {
    let mut h = String::with_capacity(4096);
    h.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    if let Some(secs) = refresh {
        let _ = write!(h, "<meta http-equiv=\"refresh\" content=\"{secs}\">");
    }
    h.push_str(concat!(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\"><title>Chat queues · flexdesk</title><style>",
        "body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#161616;background:#fff}h1{font-size:1.5rem;margin:0 0 .25rem}",
        "p.note{color:#525252;margin:0 0 1.5rem}section{border:1px solid #e0e0e0;padding:1rem 1.25rem;margin:0 0 1.5rem;max-width:56rem}",
        "h2{font-size:1.15rem;margin:0 0 .75rem}dl{display:grid;grid-template-columns:repeat(4,minmax(9rem,1fr));gap:.75rem 1.5rem;margin:0 0 1rem}",
        "dt{color:#525252;font-size:.8rem}dd{margin:0;font-size:1.6rem;font-weight:600}svg text{font:11px system-ui,sans-serif;fill:#525252}",
        ".bar{fill:#0f62fe}.warn{color:#da1e28}</style></head><body><h1>Chat queues</h1>"
    ));
    let reload = match refresh {
        Some(secs) => format!("reloads every {secs} s"),
        None => "reload for fresh figures (or open <a href=\"?refresh=30\">?refresh=30</a> on a wall screen)".to_string(),
    };
    let _ = write!(h, "<p class=\"note\">The last hour, from TaskRouter's events; updated {} UTC, {reload}.</p>", clock(now));
    if queues.is_empty() {
        h.push_str("<p id=\"empty\">No chat has reached a queue yet.");
        if !webhooks_on {
            h.push_str(" <span class=\"warn\">TWILIO_WEBHOOKS is off: no TaskRouter event can arrive.</span>");
        }
        h.push_str(" Set the TaskRouter workspace's Event Callback URL to <code>&lt;PUBLIC_BASE_URL&gt;/v1/twilio/webhooks</code> (docs/auth-server.md, “Live figures”).</p>");
    }
    for q in queues {
        let _ = write!(h, "<section data-queue=\"{0}\"><h2>{0}</h2><dl>", escape(&q.queue));
        figure(&mut h, "waiting-now", "Waiting now", &q.waiting_now.to_string());
        figure(&mut h, "longest-waiting", "Longest wait now", &q.longest_waiting.map_or("–".into(), duration));
        figure(&mut h, "median-wait", "Median wait, last hour", &q.percentile(0.5).map_or("–".into(), duration));
        figure(&mut h, "p90-wait", "90th percentile wait, last hour", &q.percentile(0.9).map_or("–".into(), duration));
        figure(&mut h, "answered", "Answered, last hour", &q.answered().to_string());
        figure(&mut h, "abandoned", "Abandoned before an agent, last hour", &q.abandoned.to_string());
        figure(&mut h, "abandonment-rate", "Abandonment rate, last hour", &q.abandonment_rate().map_or("–".into(), |r| format!("{:.0} %", r * 100.0)));
        h.push_str("</dl>");
        chart(&mut h, &q.waits);
        h.push_str("</section>");
    }
    h.push_str("</body></html>");
    h
}

fn figure(h: &mut String, key: &str, label: &str, value: &str) {
    let _ = write!(h, "<div><dt>{label}</dt><dd data-figure=\"{key}\">{}</dd></div>", escape(value));
}

/// The waits of the last hour as bars (SVG, with a text alternative).
fn chart(h: &mut String, waits: &[u64]) {
    let mut counts = [0usize; BARS.len()];
    for w in waits {
        let i = BARS.iter().position(|(max, _)| w <= max).unwrap_or(BARS.len() - 1);
        counts[i] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0).max(1);
    let summary: Vec<String> = BARS.iter().zip(counts).map(|((_, label), n)| format!("{label}: {n}")).collect();
    let _ = write!(
        h,
        "<svg role=\"img\" width=\"480\" height=\"150\" viewBox=\"0 0 480 150\" aria-label=\"Waits of the chats answered in the last hour: {}\">",
        escape(&summary.join(", "))
    );
    for (i, ((_, label), n)) in BARS.iter().zip(counts).enumerate() {
        let x = 10 + i * 78;
        let height = (n * 100) / top;
        let y = 115 - height;
        let _ = write!(
            h,
            "<rect class=\"bar\" x=\"{x}\" y=\"{y}\" width=\"56\" height=\"{height}\"/><text x=\"{tx}\" y=\"{ny}\" text-anchor=\"middle\">{n}</text><text x=\"{tx}\" y=\"135\" text-anchor=\"middle\">{}</text>",
            escape(label),
            tx = x + 28,
            ny = y.saturating_sub(4).max(10),
        );
    }
    h.push_str("</svg>");
}

/// `5 s`, `1 min 40 s`, `1 h 5 min`.
pub fn duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 && s % 60 == 0 => format!("{} min", s / 60),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

fn clock(now: u64) -> String {
    let day = now % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, (day % 3600) / 60, day % 60)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_each_queue_and_escapes_its_name() {
        let q = QueueStatus { queue: "Sales <EU>".into(), waiting_now: 2, longest_waiting: Some(75), waits: vec![10, 40, 100], abandoned: 1 };
        let html = render(&[q], 3_600 * 10 + 61, true, None);
        assert!(html.contains("<h2>Sales &lt;EU&gt;</h2>"), "{html}");
        for (key, value) in [("waiting-now", "2"), ("longest-waiting", "1 min 15 s"), ("median-wait", "40 s"), ("p90-wait", "1 min 40 s"), ("answered", "3"), ("abandoned", "1"), ("abandonment-rate", "25 %")] {
            assert!(html.contains(&format!("data-figure=\"{key}\">{value}<")), "{key} = {value} in {html}");
        }
        assert!(html.contains("≤ 20 s: 1, ≤ 1 min: 1, ≤ 2 min: 1"), "{html}");
        assert!(html.contains("updated 10:01:01 UTC"));
        assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "no script, nothing fetched");
        assert!(!html.contains("http-equiv=\"refresh\""), "no automatic reload unless asked");
        assert!(render(&[], 0, true, Some(30)).contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    }

    #[test]
    fn an_empty_page_says_how_to_switch_the_events_on() {
        let html = render(&[], 0, false, None);
        assert!(html.contains("TWILIO_WEBHOOKS is off") && html.contains("Event Callback URL"), "{html}");
    }
}
