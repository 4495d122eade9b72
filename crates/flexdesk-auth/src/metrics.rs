//! Prometheus text metrics without a metrics framework: three small maps behind one mutex.
//! Served at `GET /metrics`. Routes are labelled by their pattern (`/v1/sessions/{id}`), never the raw path,
//! so session ids cannot blow up the label set.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Latency bucket upper bounds, seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    /// (route, method, status) → count
    requests: BTreeMap<(String, String, u16), u64>,
    /// route → latency
    latency: BTreeMap<String, Histogram>,
    /// (operation, outcome) → count; outcome is ok | retried | error
    twilio: BTreeMap<(&'static str, &'static str), u64>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    pub fn record_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.requests.entry((route.to_string(), method.to_string(), status)).or_default() += 1;
        let h = m.latency.entry(route.to_string()).or_default();
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    pub fn record_twilio(&self, operation: &'static str, outcome: &'static str) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.twilio.entry((operation, outcome)).or_default() += 1;
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP flexdesk_http_requests_total HTTP requests by route, method and status.\n");
        out.push_str("# TYPE flexdesk_http_requests_total counter\n");
        for ((route, method, status), n) in &m.requests {
            let _ = writeln!(out, "flexdesk_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP flexdesk_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE flexdesk_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "flexdesk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "flexdesk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "flexdesk_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "flexdesk_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        out.push_str("# HELP flexdesk_twilio_requests_total Twilio REST attempts by operation and outcome (ok, retried, error).\n");
        out.push_str("# TYPE flexdesk_twilio_requests_total counter\n");
        for ((op, outcome), n) in &m.twilio {
            let _ = writeln!(out, "flexdesk_twilio_requests_total{{operation=\"{op}\",outcome=\"{outcome}\"}} {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record_request("/healthz", "GET", 200, Duration::from_millis(20));
        m.record_request("/healthz", "GET", 200, Duration::from_millis(700));
        m.record_twilio("start_webchat", "retried");
        let text = m.render();
        assert!(text.contains("flexdesk_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"), "{text}");
        assert!(text.contains("flexdesk_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.025\"} 1"), "{text}");
        assert!(text.contains("flexdesk_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"1\"} 2"), "{text}");
        assert!(text.contains("flexdesk_http_request_duration_seconds_count{route=\"/healthz\"} 2"), "{text}");
        assert!(text.contains("flexdesk_twilio_requests_total{operation=\"start_webchat\",outcome=\"retried\"} 1"), "{text}");
    }
}
