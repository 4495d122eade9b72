//! Twilsock V3.0 framing: `TWILSOCK V3.0 <header byte length>\r\n<JSON header>\r\n<payload>`.
//!
//! The header carries `method`, `id` and `payload_size` (the payload's byte length); a payload is JSON unless the
//! header's `payload_type` says otherwise (the SDK sends form bodies as `application/x-www-form-urlencoded`).

use serde_json::{Map, Value};

const MAGIC: &str = "TWILSOCK V3.0 ";

/// One decoded frame: the JSON header object and the raw payload bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub header: Map<String, Value>,
    pub payload: Vec<u8>,
}

#[derive(Debug, PartialEq)]
pub enum FrameError {
    BadMagic,
    BadHeaderLength,
    Truncated,
    HeaderNotJsonObject(String),
    BadPayloadSize,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::BadMagic => write!(f, "frame does not start with `{}`", MAGIC.trim_end()),
            FrameError::BadHeaderLength => write!(f, "header length is not a number followed by CRLF"),
            FrameError::Truncated => write!(f, "frame shorter than its declared sizes"),
            FrameError::HeaderNotJsonObject(e) => write!(f, "header is not a JSON object: {e}"),
            FrameError::BadPayloadSize => write!(f, "payload_size is not a non-negative integer"),
        }
    }
}

impl std::error::Error for FrameError {}

impl Frame {
    pub fn new(header: Map<String, Value>, payload: Vec<u8>) -> Self {
        Frame { header, payload }
    }

    pub fn method(&self) -> &str {
        self.header.get("method").and_then(Value::as_str).unwrap_or("")
    }

    pub fn id(&self) -> &str {
        self.header.get("id").and_then(Value::as_str).unwrap_or("")
    }

    /// The payload parsed as JSON, or `None` when empty or not JSON.
    pub fn json_payload(&self) -> Option<Value> {
        if self.payload.is_empty() {
            return None;
        }
        serde_json::from_slice(&self.payload).ok()
    }

    pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
        let rest = bytes.strip_prefix(MAGIC.as_bytes()).ok_or(FrameError::BadMagic)?;
        let crlf = rest.windows(2).position(|w| w == b"\r\n").ok_or(FrameError::BadHeaderLength)?;
        let header_len: usize = std::str::from_utf8(&rest[..crlf])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(FrameError::BadHeaderLength)?;
        let header_start = crlf + 2;
        let header_end = header_start.checked_add(header_len).ok_or(FrameError::Truncated)?;
        let header_bytes = rest.get(header_start..header_end).ok_or(FrameError::Truncated)?;
        let header: Map<String, Value> = serde_json::from_slice(header_bytes)
            .map_err(|e| FrameError::HeaderNotJsonObject(e.to_string()))?;
        let payload_size = match header.get("payload_size") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().ok_or(FrameError::BadPayloadSize)? as usize,
        };
        let payload = if payload_size == 0 {
            Vec::new()
        } else {
            // The header is followed by CRLF, then exactly payload_size bytes.
            let start = header_end + 2;
            rest.get(start..start + payload_size).ok_or(FrameError::Truncated)?.to_vec()
        };
        Ok(Frame { header, payload })
    }

    /// Encodes the frame, setting `payload_size` from the payload so the two can never disagree.
    pub fn encode(&self) -> Vec<u8> {
        let mut header = self.header.clone();
        header.insert("payload_size".into(), Value::from(self.payload.len()));
        let header_json = serde_json::to_vec(&Value::Object(header)).expect("a JSON map always serialises");
        let mut out = Vec::with_capacity(MAGIC.len() + 8 + header_json.len() + self.payload.len() + 4);
        out.extend_from_slice(MAGIC.as_bytes());
        out.extend_from_slice(header_json.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&header_json);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn round_trips_header_and_utf8_payload() {
        let payload = "{\"body\":\"héllo ✓\"}".as_bytes().to_vec();
        let frame = Frame::new(obj(json!({"method":"message","id":"TM1"})), payload.clone());
        let bytes = frame.encode();
        let decoded = Frame::decode(&bytes).unwrap();
        assert_eq!(decoded.method(), "message");
        assert_eq!(decoded.id(), "TM1");
        assert_eq!(decoded.payload, payload);
        assert_eq!(decoded.header["payload_size"], json!(payload.len()));
    }

    #[test]
    fn decodes_what_the_sdk_sends() {
        // Byte-for-byte the shape twilsock's Parser.createPacket produces (header length in bytes, then CRLFs).
        let header = r#"{"method":"reply","id":"TMabc","payload_type":"application/json","status":{"code":200,"status":"OK"},"payload_size":0}"#;
        let raw = format!("TWILSOCK V3.0 {}\r\n{}\r\n", header.len(), header);
        let f = Frame::decode(raw.as_bytes()).unwrap();
        assert_eq!(f.method(), "reply");
        assert!(f.payload.is_empty());
    }

    #[test]
    fn rejects_bad_input_clearly() {
        assert_eq!(Frame::decode(b"HELLO"), Err(FrameError::BadMagic));
        assert_eq!(Frame::decode(b"TWILSOCK V3.0 x\r\n{}"), Err(FrameError::BadHeaderLength));
        assert_eq!(Frame::decode(b"TWILSOCK V3.0 50\r\n{}"), Err(FrameError::Truncated));
        assert!(matches!(Frame::decode(b"TWILSOCK V3.0 2\r\n[]\r\n"), Err(FrameError::HeaderNotJsonObject(_))));
        assert_eq!(
            Frame::decode(b"TWILSOCK V3.0 18\r\n{\"payload_size\":9}\r\nabc"),
            Err(FrameError::Truncated)
        );
    }
}
