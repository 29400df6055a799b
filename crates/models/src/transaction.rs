//! The wire payload ([`Transaction`]) and the label kept beside it ([`GroundTruth`]).
//!
//! Types here are built so that generating a transaction needs no heap allocation: ids are numbers
//! printed with a prefix, codes are fixed-size, and names are `Cow<'static, str>`.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A payment transaction as it goes on the wire. It never carries its ground-truth label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    pub id: TxnId,
    pub timestamp: Timestamp,
    /// Amount in the currency's minor units (cents; yen; fils for KWD).
    pub amount_minor: u64,
    pub currency: Currency,
    pub card_id: CardId,
    pub customer_id: CustomerId,
    pub merchant_id: MerchantId,
    pub merchant_name: Cow<'static, str>,
    /// ISO 18245 merchant category code.
    pub mcc: u16,
    pub channel: Channel,
    pub country: CountryCode,
    pub lat: f64,
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<DeviceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Ipv4Addr>,
}

impl Transaction {
    /// The amount as a decimal number of major units (dollars, yen, dinars).
    pub fn amount_major(&self) -> f64 {
        self.amount_minor as f64 / 10f64.powi(i32::from(self.currency.minor_units()))
    }
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// The prefix printed before the hexadecimal number on the wire.
            pub const PREFIX: &'static str = $prefix;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{:012x}", $prefix, self.0)
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                s.strip_prefix($prefix)
                    .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                    .map($name)
                    .ok_or_else(|| format!("invalid {}: {s:?}, expected {}<hex digits>", stringify!($name), $prefix))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(de::Error::custom)
            }
        }
    };
}

prefixed_id!(
    /// Transaction id, `txn_` and 12+ hex digits. Derived from the stream index, so segments of a
    /// distributed run produce the same ids as a single process.
    TxnId, "txn_");
prefixed_id!(
    /// Card id, `card_` and hex digits.
    CardId, "card_");
prefixed_id!(
    /// Customer id, `cus_` and hex digits.
    CustomerId, "cus_");
prefixed_id!(
    /// Merchant id, `mer_` and hex digits.
    MerchantId, "mer_");
prefixed_id!(
    /// Device fingerprint id, `dev_` and hex digits.
    DeviceId, "dev_");

/// A UTC instant with microsecond precision, written as RFC 3339 (`2026-01-01T00:00:00.000000Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Microseconds since the Unix epoch.
    pub micros: i64,
}

impl Timestamp {
    pub const fn from_micros(micros: i64) -> Self {
        Self { micros }
    }

    pub const fn from_secs(secs: i64) -> Self {
        Self {
            micros: secs * 1_000_000,
        }
    }

    pub fn as_secs_f64(self) -> f64 {
        self.micros as f64 / 1e6
    }

    pub fn to_system_time(self) -> SystemTime {
        if self.micros >= 0 {
            UNIX_EPOCH + Duration::from_micros(self.micros as u64)
        } else {
            UNIX_EPOCH - Duration::from_micros(self.micros.unsigned_abs())
        }
    }

    pub fn from_system_time(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Self {
                micros: d.as_micros() as i64,
            },
            Err(e) => Self {
                micros: -(e.duration().as_micros() as i64),
            },
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&humantime::format_rfc3339_micros(self.to_system_time()), f)
    }
}

impl FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        humantime::parse_rfc3339(s)
            .map(Self::from_system_time)
            .map_err(|e| format!("invalid RFC 3339 UTC timestamp {s:?}: {e}"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// ISO 4217 currencies the factory generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Currency {
    USD,
    EUR,
    GBP,
    JPY,
    KWD,
    CHF,
    CAD,
    AUD,
    INR,
    BRL,
    MXN,
    SGD,
    SEK,
    ZAR,
    CNY,
}

impl Currency {
    pub const ALL: [Currency; 15] = [
        Currency::USD,
        Currency::EUR,
        Currency::GBP,
        Currency::JPY,
        Currency::KWD,
        Currency::CHF,
        Currency::CAD,
        Currency::AUD,
        Currency::INR,
        Currency::BRL,
        Currency::MXN,
        Currency::SGD,
        Currency::SEK,
        Currency::ZAR,
        Currency::CNY,
    ];

    /// Digits after the decimal point (ISO 4217 "minor unit"): JPY 0, KWD 3, the rest 2.
    pub const fn minor_units(self) -> u8 {
        match self {
            Currency::JPY => 0,
            Currency::KWD => 3,
            _ => 2,
        }
    }

    pub const fn code(self) -> &'static str {
        match self {
            Currency::USD => "USD",
            Currency::EUR => "EUR",
            Currency::GBP => "GBP",
            Currency::JPY => "JPY",
            Currency::KWD => "KWD",
            Currency::CHF => "CHF",
            Currency::CAD => "CAD",
            Currency::AUD => "AUD",
            Currency::INR => "INR",
            Currency::BRL => "BRL",
            Currency::MXN => "MXN",
            Currency::SGD => "SGD",
            Currency::SEK => "SEK",
            Currency::ZAR => "ZAR",
            Currency::CNY => "CNY",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Currency::ALL
            .iter()
            .copied()
            .find(|c| c.code().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let known: Vec<&str> = Currency::ALL.iter().map(|c| c.code()).collect();
                format!("unknown currency {s:?}; known: {}", known.join(", "))
            })
    }
}

/// ISO 3166-1 alpha-2 country code, two upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode(pub [u8; 2]);

impl CountryCode {
    /// Builds a code from a two-letter literal; panics at compile time for anything else when used in a const.
    pub const fn new(code: &str) -> Self {
        let b = code.as_bytes();
        assert!(b.len() == 2 && b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase());
        Self([b[0], b[1]])
    }

    pub fn as_str(&self) -> &str {
        // Invariant: always two ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CountryCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let b = s.as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic) {
            Ok(Self([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]))
        } else {
            Err(format!(
                "invalid country code {s:?}: expected two letters (ISO 3166-1 alpha-2)"
            ))
        }
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// How the card was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    CardPresent,
    Contactless,
    Ecommerce,
    Mobile,
    Atm,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::CardPresent,
        Channel::Contactless,
        Channel::Ecommerce,
        Channel::Mobile,
        Channel::Atm,
    ];
}

/// Fraud patterns the factory produces, each coherent with the customer's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FraudPattern {
    /// Bursts of tiny amounts at merchants new to the card.
    CardTesting,
    /// New device, new country, high amount.
    AccountTakeover,
    /// Many transactions on one card in a short window.
    Velocity,
    /// Two countries too far apart for the time between them.
    ImpossibleTravel,
    /// Far above the customer's usual amount.
    HighValueAnomaly,
    /// A merchant category with high fraud rates (gambling, crypto, wire transfer).
    RiskyMerchant,
}

impl FraudPattern {
    pub const ALL: [FraudPattern; 6] = [
        FraudPattern::CardTesting,
        FraudPattern::AccountTakeover,
        FraudPattern::Velocity,
        FraudPattern::ImpossibleTravel,
        FraudPattern::HighValueAnomaly,
        FraudPattern::RiskyMerchant,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            FraudPattern::CardTesting => "card_testing",
            FraudPattern::AccountTakeover => "account_takeover",
            FraudPattern::Velocity => "velocity",
            FraudPattern::ImpossibleTravel => "impossible_travel",
            FraudPattern::HighValueAnomaly => "high_value_anomaly",
            FraudPattern::RiskyMerchant => "risky_merchant",
        }
    }
}

/// Legitimate transactions that exercise the parser and the rules at their edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    ZeroAmount,
    MaxAmount,
    /// A currency with no minor unit (JPY).
    ZeroDecimalCurrency,
    /// A currency with three minor digits (KWD).
    ThreeDecimalCurrency,
    MissingOptionalFields,
    UnicodeMerchantName,
    /// Re-uses the id of an earlier transaction.
    ReplayedId,
    DayBoundary,
    MonthBoundary,
}

impl EdgeKind {
    pub const ALL: [EdgeKind; 9] = [
        EdgeKind::ZeroAmount,
        EdgeKind::MaxAmount,
        EdgeKind::ZeroDecimalCurrency,
        EdgeKind::ThreeDecimalCurrency,
        EdgeKind::MissingOptionalFields,
        EdgeKind::UnicodeMerchantName,
        EdgeKind::ReplayedId,
        EdgeKind::DayBoundary,
        EdgeKind::MonthBoundary,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EdgeKind::ZeroAmount => "zero_amount",
            EdgeKind::MaxAmount => "max_amount",
            EdgeKind::ZeroDecimalCurrency => "zero_decimal_currency",
            EdgeKind::ThreeDecimalCurrency => "three_decimal_currency",
            EdgeKind::MissingOptionalFields => "missing_optional_fields",
            EdgeKind::UnicodeMerchantName => "unicode_merchant_name",
            EdgeKind::ReplayedId => "replayed_id",
            EdgeKind::DayBoundary => "day_boundary",
            EdgeKind::MonthBoundary => "month_boundary",
        }
    }
}

/// The label kept beside a transaction (never inside it):
/// `{"kind":"legit"}`, `{"kind":"fraud","pattern":"card_testing"}`, `{"kind":"edge","pattern":"zero_amount"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GroundTruth {
    Legit,
    Fraud {
        pattern: FraudPattern,
    },
    /// Edge cases are legitimate transactions: a detector that declines them is wrong.
    Edge {
        pattern: EdgeKind,
    },
}

impl GroundTruth {
    pub const fn is_fraud(&self) -> bool {
        matches!(self, GroundTruth::Fraud { .. })
    }

    /// `"legit"`, the fraud pattern, or the edge kind: the key of per-pattern metrics.
    pub const fn pattern_name(&self) -> &'static str {
        match self {
            GroundTruth::Legit => "legit",
            GroundTruth::Fraud { pattern } => pattern.as_str(),
            GroundTruth::Edge { pattern } => pattern.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Transaction {
        Transaction {
            id: TxnId(42),
            timestamp: Timestamp::from_secs(1_767_225_600),
            amount_minor: 12_345,
            currency: Currency::EUR,
            card_id: CardId(7),
            customer_id: CustomerId(3),
            merchant_id: MerchantId(99),
            merchant_name: Cow::Borrowed("Café Zürich"),
            mcc: 5812,
            channel: Channel::Contactless,
            country: CountryCode::new("CH"),
            lat: 47.37,
            lon: 8.54,
            device_id: None,
            ip: Some(Ipv4Addr::new(203, 0, 113, 7)),
        }
    }

    #[test]
    fn wire_format_round_trips_with_documented_names() {
        let t = sample();
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains(r#""id":"txn_00000000002a""#), "{json}");
        assert!(
            json.contains(r#""timestamp":"2026-01-01T00:00:00.000000Z""#),
            "{json}"
        );
        assert!(json.contains(r#""currency":"EUR""#));
        assert!(json.contains(r#""channel":"contactless""#));
        assert!(json.contains(r#""country":"CH""#));
        assert!(
            !json.contains("device_id"),
            "absent optional fields are left out"
        );
        let back: Transaction = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn wire_payload_rejects_a_smuggled_label() {
        let mut v: serde_json::Value = serde_json::to_value(sample()).unwrap();
        v["label"] = serde_json::json!({"kind": "fraud"});
        assert!(serde_json::from_value::<Transaction>(v).is_err());
    }

    #[test]
    fn ground_truth_json_form() {
        let g = GroundTruth::Fraud {
            pattern: FraudPattern::ImpossibleTravel,
        };
        assert_eq!(
            serde_json::to_string(&g).unwrap(),
            r#"{"kind":"fraud","pattern":"impossible_travel"}"#
        );
        assert_eq!(
            serde_json::to_string(&GroundTruth::Legit).unwrap(),
            r#"{"kind":"legit"}"#
        );
        for p in FraudPattern::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for e in EdgeKind::ALL {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
    }

    #[test]
    fn amounts_respect_minor_units() {
        let mut t = sample();
        t.currency = Currency::JPY;
        assert_eq!(t.amount_major(), 12_345.0);
        t.currency = Currency::KWD;
        assert!((t.amount_major() - 12.345).abs() < 1e-9);
        assert_eq!("kwd".parse::<Currency>().unwrap(), Currency::KWD);
        assert!("XXX".parse::<Currency>().unwrap_err().contains("USD"));
    }
}
