//! The encoded form of an HDR histogram that snapshots and summaries carry (`histograms.latency_us`
//! and `histograms.service_time_us`): HdrHistogram's V2 serialization, deflated, in standard base64.

use crate::error::DecodeError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};

/// V2 + deflate, then standard base64.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    // Serializing into a Vec only fails for histograms larger than the format allows, which fixed
    // bounds rule out; an empty string then decodes as an error rather than a wrong figure.
    if V2DeflateSerializer::new().serialize(h, &mut buf).is_err() {
        return String::new();
    }
    STANDARD.encode(buf)
}

/// The inverse of [`encode`]. Surrounding whitespace is ignored; the histogram keeps the bounds and
/// precision it was serialized with.
pub fn decode(text: &str) -> Result<Histogram<u64>, DecodeError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| DecodeError::NotBase64(e.to_string()))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| DecodeError::NotHistogram(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in [0, 1, 999, 1_000, 12_345, 1_000_000] {
            h.record(v).unwrap();
        }
        let text = encode(&h);
        assert_eq!(decode(&text).unwrap(), h);
        assert_eq!(decode(&format!(" {text}\n")).unwrap(), h);
        assert!(
            decode("not base64!")
                .unwrap_err()
                .to_string()
                .contains("base64")
        );
        assert!(
            decode("aGVsbG8=")
                .unwrap_err()
                .to_string()
                .contains("HdrHistogram")
        );
        assert!(decode("").is_err(), "an empty string is not a histogram");
    }
}
