//! Request bodies: a [`BodyTemplate`] turns a transaction into the bytes an API expects, in our schema
//! (`{{transaction}}`, the default) or in the API's own, one field at a time (`{"amt": {{amount}}}`).
//!
//! A template is compiled once into literal text and typed field slots; rendering writes each field
//! as a JSON value straight into the output buffer (strings quoted and escaped, numbers bare, a
//! missing optional field `null`), so no request parses the template again.

use crate::wire;
use crate::{TargetConfigError, TargetError};
use bytes::{BufMut as _, BytesMut};
use models::{IdBuf, Transaction};

/// The placeholder a body template uses for the transaction's whole JSON object.
pub const TRANSACTION_PLACEHOLDER: &str = "{{transaction}}";

/// The content type sent, and assumed for body templates, when none is given.
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// One value of the transaction a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Transaction,
    Id,
    Timestamp,
    TimestampMs,
    Amount,
    AmountMinor,
    Currency,
    CardId,
    CustomerId,
    MerchantId,
    MerchantName,
    Mcc,
    Channel,
    Country,
    Lat,
    Lon,
    DeviceId,
    Ip,
}

impl Field {
    /// Every placeholder name and its field, in the order the docs list them.
    const NAMES: [(&'static str, Field); 18] = [
        ("transaction", Field::Transaction),
        ("id", Field::Id),
        ("timestamp", Field::Timestamp),
        ("timestamp_ms", Field::TimestampMs),
        ("amount", Field::Amount),
        ("amount_minor", Field::AmountMinor),
        ("currency", Field::Currency),
        ("card_id", Field::CardId),
        ("customer_id", Field::CustomerId),
        ("merchant_id", Field::MerchantId),
        ("merchant_name", Field::MerchantName),
        ("mcc", Field::Mcc),
        ("channel", Field::Channel),
        ("country", Field::Country),
        ("lat", Field::Lat),
        ("lon", Field::Lon),
        ("device_id", Field::DeviceId),
        ("ip", Field::Ip),
    ];

    fn named(name: &str) -> Option<Field> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, f)| f)
    }

    /// About how many bytes the value takes, for sizing buffers.
    fn room(self) -> usize {
        match self {
            // A typical transaction's JSON is about 330 bytes.
            Field::Transaction => 512,
            Field::MerchantName => 64,
            _ => 32,
        }
    }
}

/// The placeholder names a body template knows, `transaction` first.
pub fn placeholder_names() -> impl Iterator<Item = &'static str> {
    Field::NAMES.iter().map(|(n, _)| *n)
}

/// A request body template: literal text with `{{field}}` placeholders, each replaced by one value
/// of the transaction as JSON. The default is `{{transaction}}` alone: the transaction's JSON.
///
/// ```
/// use targets::BodyTemplate;
/// let t = BodyTemplate::parse(r#"{"ref": {{id}}, "amt": {{amount}}, "cur": {{currency}}}"#).unwrap();
/// assert!(BodyTemplate::parse(r#"{"x": {{amount_major}}}"#).unwrap_err().to_string().contains("amount_minor"));
/// # let _ = t;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyTemplate {
    /// The literal text around the slots: `parts.len() == slots.len() + 1`.
    parts: Vec<String>,
    slots: Vec<Field>,
}

impl Default for BodyTemplate {
    fn default() -> Self {
        Self {
            parts: vec![String::new(), String::new()],
            slots: vec![Field::Transaction],
        }
    }
}

impl BodyTemplate {
    /// Compiles a template for a JSON body (the default content type): see [`BodyTemplate::parse_for`].
    pub fn parse(template: &str) -> Result<Self, TargetConfigError> {
        Self::parse_for(template, DEFAULT_CONTENT_TYPE)
    }

    /// Compiles a template. An unknown or unclosed placeholder is an error that names it and lists
    /// the known ones. When `content_type` is JSON (`application/json`, `...+json`), sample
    /// transactions (one with every optional field, one without) are rendered and must parse as JSON,
    /// so that a template that cannot make a valid body fails here rather than on every request.
    pub fn parse_for(template: &str, content_type: &str) -> Result<Self, TargetConfigError> {
        let compiled = Self::compile(template)?;
        if is_json(content_type) {
            compiled.check_json()?;
        }
        Ok(compiled)
    }

    fn compile(template: &str) -> Result<Self, TargetConfigError> {
        let mut parts = Vec::new();
        let mut slots = Vec::new();
        let mut literal = String::new();
        let mut rest = template;
        while let Some(open) = rest.find("{{") {
            literal.push_str(&rest[..open]);
            let mut after = &rest[open + 2..];
            // `{{{id}}}` is a brace, then `{{id}}`: the placeholder is the innermost pair.
            while let Some(inner) = after.strip_prefix('{') {
                literal.push('{');
                after = inner;
            }
            let Some(close) = after.find("}}") else {
                return Err(bad_template(format!(
                    "a placeholder opened at byte {} is never closed with }}}}; {}",
                    template.len() - rest.len() + open,
                    known_list()
                )));
            };
            let name = after[..close].trim();
            let field = Field::named(name).ok_or_else(|| {
                bad_template(format!(
                    "unknown placeholder {{{{{name}}}}}; {}",
                    known_list()
                ))
            })?;
            parts.push(std::mem::take(&mut literal));
            slots.push(field);
            rest = &after[close + 2..];
        }
        literal.push_str(rest);
        parts.push(literal);
        Ok(Self { parts, slots })
    }

    /// Renders the samples and parses them as JSON.
    fn check_json(&self) -> Result<(), TargetConfigError> {
        for txn in samples() {
            let body = self
                .render(&txn)
                .map_err(|e| bad_template(format!("rendering a sample transaction: {e}")))?;
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
                let hint = if self.parts.iter().any(|p| p.ends_with('"')) {
                    " (placeholders insert JSON values, strings already quoted: write \"ref\": {{id}}, not \"ref\": \"{{id}}\")"
                } else {
                    ""
                };
                return Err(bad_template(format!(
                    "it does not make JSON ({e}){hint}; a sample transaction gives {}; \
                     fix the template or set content_type to what the API expects",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                )));
            }
        }
        Ok(())
    }

    /// Renders the body for one transaction into a new buffer.
    pub fn render(&self, txn: &Transaction) -> Result<Vec<u8>, TargetError> {
        let mut out = BytesMut::with_capacity(self.size_hint());
        self.render_into(txn, &mut out)?;
        Ok(out.to_vec())
    }

    /// About how many bytes a body takes: the literal text and room for each slot's value.
    pub fn size_hint(&self) -> usize {
        let literal: usize = self.parts.iter().map(String::len).sum();
        literal + self.slots.iter().map(|f| f.room()).sum::<usize>()
    }

    /// Appends the body for one transaction to `out`, each value written straight into the buffer.
    pub fn render_into(&self, txn: &Transaction, out: &mut BytesMut) -> Result<(), TargetError> {
        out.extend_from_slice(self.parts[0].as_bytes());
        for (field, part) in self.slots.iter().zip(&self.parts[1..]) {
            write_field(*field, txn, out)?;
            out.extend_from_slice(part.as_bytes());
        }
        Ok(())
    }
}

/// Writes one field as a JSON value (by `wire`, which writes what serde would).
fn write_field(field: Field, txn: &Transaction, out: &mut BytesMut) -> Result<(), TargetError> {
    let mut id = IdBuf::new();
    let mut write = || -> serde_json::Result<()> {
        match field {
            Field::Transaction => wire::write_transaction(txn, out)?,
            Field::Id => wire::quoted(out, txn.id.encode_ascii(&mut id)),
            Field::Timestamp => wire::write_timestamp(txn.timestamp, out)?,
            Field::TimestampMs => wire::write_i64(txn.timestamp.micros.div_euclid(1_000), out),
            Field::Amount => write_amount(txn, out),
            Field::AmountMinor => wire::write_u64(txn.amount_minor, out),
            Field::Currency => wire::write_str(txn.currency.code(), out)?,
            Field::CardId => wire::quoted(out, txn.card_id.encode_ascii(&mut id)),
            Field::CustomerId => wire::quoted(out, txn.customer_id.encode_ascii(&mut id)),
            Field::MerchantId => wire::quoted(out, txn.merchant_id.encode_ascii(&mut id)),
            Field::MerchantName => wire::write_str(&txn.merchant_name, out)?,
            Field::Mcc => wire::write_u64(u64::from(txn.mcc), out),
            Field::Channel => wire::write_str(txn.channel.as_str(), out)?,
            Field::Country => wire::write_str(txn.country.as_str(), out)?,
            Field::Lat => wire::write_f64(txn.lat, out),
            Field::Lon => wire::write_f64(txn.lon, out),
            Field::DeviceId => match txn.device_id {
                Some(d) => wire::quoted(out, d.encode_ascii(&mut id)),
                None => out.extend_from_slice(b"null"),
            },
            Field::Ip => match txn.ip {
                Some(ip) => wire::write_ip(ip, out),
                None => out.extend_from_slice(b"null"),
            },
        }
        Ok(())
    };
    write().map_err(|e| TargetError::Malformed {
        reason: format!("cannot write transaction {} as JSON: {e}", txn.id),
    })
}

/// The amount in major units as an exact JSON number with as many decimals as the currency has
/// (`12.30` EUR, `500` JPY, `1.234` KWD): computed from the integer minor units, never through a
/// float, so no amount is ever off by a rounding.
fn write_amount(txn: &Transaction, out: &mut BytesMut) {
    // ISO 4217 exponents are 0 to 4; 19 digits is all a u64 holds.
    let digits = usize::from(txn.currency.minor_units()).min(19);
    let scale = 10u64.pow(digits as u32);
    wire::write_u64(txn.amount_minor / scale, out);
    if digits > 0 {
        let mut minor = txn.amount_minor % scale;
        let mut text = [b'0'; 19];
        for d in text[..digits].iter_mut().rev() {
            *d = b'0' + (minor % 10) as u8;
            minor /= 10;
        }
        out.put_u8(b'.');
        out.extend_from_slice(&text[..digits]);
    }
}

/// `application/json`, `application/problem+json`, `application/json; charset=utf-8`, any case.
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn known_list() -> String {
    let names: Vec<String> = placeholder_names()
        .map(|n| format!("{{{{{n}}}}}"))
        .collect();
    format!("the known placeholders are {}", names.join(", "))
}

fn bad_template(reason: String) -> TargetConfigError {
    TargetConfigError::InvalidSetting {
        field: "body",
        reason,
    }
}

/// Transactions a template is checked with: every optional field set (and a name that needs
/// escaping), and none set.
fn samples() -> [Transaction; 2] {
    use models::{
        CardId, Channel, CountryCode, Currency, CustomerId, DeviceId, MerchantId, Timestamp, TxnId,
    };
    let full = Transaction {
        id: TxnId(0),
        timestamp: Timestamp::from_secs(1_767_225_600),
        amount_minor: 12_345,
        currency: Currency::KWD,
        card_id: CardId(1),
        customer_id: CustomerId(2),
        merchant_id: MerchantId(3),
        merchant_name: std::borrow::Cow::Borrowed("Caf\u{e9} \"Z\u{fc}rich\" \\ 東京"),
        mcc: 5812,
        channel: Channel::Ecommerce,
        country: CountryCode::new("CH"),
        lat: 47.37,
        lon: -8.54,
        device_id: Some(DeviceId(4)),
        ip: Some(std::net::Ipv4Addr::new(203, 0, 113, 7)),
    };
    let bare = Transaction {
        currency: Currency::JPY,
        device_id: None,
        ip: None,
        ..full.clone()
    };
    [full, bare]
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{Currency, DeviceId};
    use serde_json::{Value, json};

    fn sample() -> Transaction {
        samples()[0].clone()
    }

    fn render_str(template: &str, txn: &Transaction) -> String {
        String::from_utf8(BodyTemplate::parse(template).unwrap().render(txn).unwrap()).unwrap()
    }

    #[test]
    fn the_default_and_transaction_placeholders_wrap_the_transaction() {
        let txn = sample();
        let whole = serde_json::to_string(&txn).unwrap();
        assert_eq!(
            BodyTemplate::default().render(&txn).unwrap(),
            whole.as_bytes()
        );
        assert_eq!(
            BodyTemplate::parse(TRANSACTION_PLACEHOLDER).unwrap(),
            BodyTemplate::default()
        );
        assert_eq!(
            render_str("{\"a\":{{transaction}},\"b\":{{ transaction }}}", &txn),
            format!("{{\"a\":{whole},\"b\":{whole}}}")
        );
    }

    #[test]
    fn fields_are_json_values() {
        let txn = sample();
        let body = render_str(
            r#"{"id":{{id}},"ts":{{timestamp}},"ms":{{timestamp_ms}},"amt":{{amount}},"minor":{{amount_minor}},
               "cur":{{currency}},"card":{{card_id}},"cus":{{customer_id}},"mer":{{merchant_id}},
               "name":{{merchant_name}},"mcc":{{mcc}},"ch":{{channel}},"cc":{{country}},"lat":{{lat}},
               "lon":{{lon}},"dev":{{device_id}},"ip":{{ip}}}"#,
            &txn,
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v,
            json!({
                "id": txn.id.to_string(), "ts": txn.timestamp.to_string(),
                "ms": txn.timestamp.micros / 1000, "amt": 12.345, "minor": txn.amount_minor,
                "cur": "KWD", "card": txn.card_id.to_string(), "cus": txn.customer_id.to_string(),
                "mer": txn.merchant_id.to_string(), "name": txn.merchant_name, "mcc": txn.mcc,
                "ch": "ecommerce", "cc": "CH", "lat": txn.lat, "lon": txn.lon,
                "dev": txn.device_id.unwrap().to_string(), "ip": "203.0.113.7",
            })
        );
    }

    #[test]
    fn amounts_honour_the_currency_exponent_exactly() {
        let mut txn = sample();
        for (currency, minor, text) in [
            (Currency::EUR, 1230, "12.30"),
            (Currency::EUR, 5, "0.05"),
            (Currency::JPY, 500, "500"),
            (Currency::KWD, 1234, "1.234"),
            (Currency::KWD, 0, "0.000"),
            (Currency::USD, u64::MAX, "184467440737095516.15"),
        ] {
            txn.currency = currency;
            txn.amount_minor = minor;
            assert_eq!(render_str("{{amount}}", &txn), text, "{currency} {minor}");
        }
    }

    #[test]
    fn missing_optional_fields_are_null() {
        let mut txn = sample();
        txn.device_id = None;
        txn.ip = None;
        assert_eq!(render_str("[{{device_id}},{{ip}}]", &txn), "[null,null]");
        txn.device_id = Some(DeviceId(255));
        assert_eq!(
            render_str("[{{device_id}}]", &txn),
            "[\"dev_0000000000ff\"]"
        );
    }

    #[test]
    fn braces_around_a_placeholder_stay_literal() {
        let txn = sample();
        let t = BodyTemplate::parse_for("{{{mcc}}}", "text/plain").unwrap();
        assert_eq!(t.render(&txn).unwrap(), b"{5812}");
        assert_eq!(
            render_str(r#"{"a":{"b":{{mcc}}}}"#, &txn),
            r#"{"a":{"b":5812}}"#
        );
    }

    #[test]
    fn unknown_and_unclosed_placeholders_name_themselves_and_the_known_ones() {
        let err = BodyTemplate::parse(r#"{"x": {{amount_major}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`body`"), "{err}");
        assert!(err.contains("{{amount_major}}"), "{err}");
        for name in placeholder_names() {
            assert!(err.contains(&format!("{{{{{name}}}}}")), "{name}: {err}");
        }
        let err = BodyTemplate::parse(r#"{"x": {{id"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("never closed") && err.contains("byte 6"),
            "{err}"
        );
    }

    #[test]
    fn json_bodies_are_checked_when_compiled() {
        let err = BodyTemplate::parse(r#"{"ref": "{{id}}"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not make JSON"), "{err}");
        assert!(err.contains("strings already quoted"), "{err}");
        assert!(BodyTemplate::parse(r#"{"x": 1"#).is_err());
        assert!(BodyTemplate::parse("").is_err());
        // Other content types are the API's business.
        let form =
            BodyTemplate::parse_for("id={{id}}&mcc={{mcc}}", "application/x-www-form-urlencoded")
                .unwrap();
        assert_eq!(
            form.render(&sample()).unwrap(),
            b"id=\"txn_000000000000\"&mcc=5812"
        );
        assert!(BodyTemplate::parse_for(r#"{"a":{{id}}}"#, "application/vnd.api+json").is_ok());
        assert!(BodyTemplate::parse_for("x", "Application/JSON; charset=utf-8").is_err());
    }

    #[test]
    fn content_types_that_are_json() {
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "application/problem+json",
        ] {
            assert!(is_json(ct), "{ct}");
        }
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "",
            "json",
        ] {
            assert!(!is_json(ct), "{ct}");
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use models::{
        CardId, Channel, CountryCode, Currency, CustomerId, DeviceId, MerchantId, Timestamp, TxnId,
    };
    use proptest::prelude::*;
    use serde_json::Value;

    fn transaction() -> impl Strategy<Value = Transaction> {
        // Timestamps within the years RFC 3339 is written for here (1970 to 9999).
        let ids = (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>());
        let when = 0i64..253_402_300_800_000_000;
        let money = (
            any::<u64>(),
            proptest::sample::select(Currency::ALL.to_vec()),
        );
        let place = (
            "\\PC{0,20}",
            any::<u16>(),
            proptest::sample::select(Channel::ALL.to_vec()),
            "[A-Z]{2}",
            -90.0..90.0f64,
            -180.0..180.0f64,
        );
        let extra = (
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u32>()),
        );
        (ids, when, money, place, extra).prop_map(
            |((id, card, cus, mer), micros, (amount, currency), place, (dev, ip))| {
                let (name, mcc, channel, country, lat, lon) = place;
                Transaction {
                    id: TxnId(id),
                    timestamp: Timestamp::from_micros(micros),
                    amount_minor: amount,
                    currency,
                    card_id: CardId(card),
                    customer_id: CustomerId(cus),
                    merchant_id: MerchantId(mer),
                    merchant_name: name.into(),
                    mcc,
                    channel,
                    country: country.parse::<CountryCode>().unwrap(),
                    lat,
                    lon,
                    device_id: dev.map(DeviceId),
                    ip: ip.map(std::net::Ipv4Addr::from),
                }
            },
        )
    }

    proptest! {
        /// Whatever text a template holds, compiling it ends in a template or an error, and a
        /// compiled template renders without panicking.
        #[test]
        fn arbitrary_templates_never_panic(
            text in "([a-z_{} \"\\[\\]:,]|\\{\\{[a-z_ ]{0,14}\\}\\}|\\PC){0,60}",
            txn in transaction(),
        ) {
            if let Ok(t) = BodyTemplate::parse_for(&text, "text/plain") {
                let _ = t.render(&txn);
            }
            let _ = BodyTemplate::parse(&text);
        }

        /// A JSON template of any fields, in any order, renders any transaction as JSON that carries
        /// the transaction's values.
        #[test]
        fn json_templates_carry_the_transactions_values(
            picks in proptest::sample::subsequence(
                placeholder_names().collect::<Vec<_>>(), 1..=18).prop_shuffle(),
            txn in transaction(),
        ) {
            let fields: Vec<String> = picks.iter().map(|n| format!("\"{n}\": {{{{{n}}}}}")).collect();
            let template = BodyTemplate::parse(&format!("{{{}}}", fields.join(", "))).unwrap();
            let body: Value = serde_json::from_slice(&template.render(&txn).unwrap()).unwrap();
            // Read back from text like the body, so that both take the same float parsing.
            let whole: Value = serde_json::from_slice(&serde_json::to_vec(&txn).unwrap()).unwrap();
            for name in picks {
                let got = &body[name];
                match name {
                    "transaction" => prop_assert_eq!(got, &whole),
                    "timestamp_ms" => prop_assert_eq!(got.as_i64(), Some(txn.timestamp.micros.div_euclid(1000))),
                    "amount" => {
                        let scale = 10f64.powi(i32::from(txn.currency.minor_units()));
                        let expected = txn.amount_minor as f64 / scale;
                        let got = got.as_f64().unwrap();
                        prop_assert!((got - expected).abs() <= expected * 1e-12, "{} vs {}", got, expected);
                    }
                    "device_id" | "ip" => prop_assert_eq!(got, whole.get(name).unwrap_or(&Value::Null)),
                    _ => prop_assert_eq!(got, &whole[name]),
                }
            }
        }
    }
}
