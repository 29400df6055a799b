//! The wire payload ([`Transaction`]) and the label kept beside it ([`GroundTruth`]).
//!
//! Types here are built so that generating a transaction needs no heap allocation: ids are numbers
//! printed with a prefix, codes are fixed-size, and names are `Cow<'static, str>`.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de, ser};
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

/// A stack buffer for a prefixed id's wire form (see `TxnId::encode`): the longest prefix (5 bytes)
/// and the 16 hex digits of a `u64`.
#[derive(Debug, Clone, Copy)]
pub struct IdBuf([u8; IdBuf::LEN]);

impl IdBuf {
    const LEN: usize = 5 + 16;

    pub const fn new() -> Self {
        Self([0; Self::LEN])
    }

    /// `prefix` (ASCII, at most 5 bytes) then `n` in lower-case hex, zero-padded to 12 digits:
    /// what `format!("{prefix}{n:012x}")` prints.
    fn encode(&mut self, prefix: &str, n: u64) -> &str {
        // Invariant: an ASCII prefix and ASCII hex digits.
        std::str::from_utf8(self.encode_ascii(prefix, n)).unwrap_or("")
    }

    /// [`IdBuf::encode`] as bytes, for writers that need no `str` (no UTF-8 check).
    fn encode_ascii(&mut self, prefix: &str, n: u64) -> &[u8] {
        let p = prefix.len();
        self.0[..p].copy_from_slice(prefix.as_bytes());
        let digits = (16 - (n.leading_zeros() as usize) / 4).max(12);
        // All 16 digits at once, then the last `digits` of them: a quarter of the instructions of
        // a table lookup per digit (callgrind, docs/benchmarks.md).
        let mut hex = [0u8; 16];
        hex[..8].copy_from_slice(&hex8((n >> 32) as u32));
        hex[8..].copy_from_slice(&hex8(n as u32));
        self.0[p..p + digits].copy_from_slice(&hex[16 - digits..]);
        &self.0[..p + digits]
    }
}

/// The 8 lower-case hex digits of `x`, most significant first, computed on all of them at once
/// in one `u64` (a digit per byte) instead of a table lookup per digit.
fn hex8(x: u32) -> [u8; 8] {
    // 0x0000_0000_ABCD_EFGH -> 0x0000_ABCD_0000_EFGH -> 0x00AB_00CD_00EF_00GH -> 0x0A0B_0C0D_0E0F_0G0H
    let mut v = u64::from(x);
    v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
    v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    // A byte of 10 or more carries into its bit 4 when 6 is added; those bytes move from the
    // digits ('0' + v) to the letters ('a' + v - 10), 39 further on. No byte carries into the next.
    let letters = ((v + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    (v + 0x3030_3030_3030_3030 + letters * 39).to_be_bytes()
}

impl Default for IdBuf {
    fn default() -> Self {
        Self::new()
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

        impl $name {
            /// Writes the wire form (the prefix, then at least 12 lower-case hex digits) into `buf`
            /// and returns it: no allocation and no `core::fmt`, for the serialiser's hot path.
            pub fn encode<'b>(&self, buf: &'b mut IdBuf) -> &'b str {
                buf.encode($prefix, self.0)
            }

            /// The same wire form as ASCII bytes (what a JSON writer copies; no UTF-8 check).
            pub fn encode_ascii<'b>(&self, buf: &'b mut IdBuf) -> &'b [u8] {
                buf.encode_ascii($prefix, self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.encode(&mut IdBuf::new()))
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
                s.serialize_str(self.encode(&mut IdBuf::new()))
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

impl Timestamp {
    /// Bytes of the wire form `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    pub const RFC3339_LEN: usize = 27;

    /// Writes the RFC 3339 form with microseconds (`2026-01-01T00:00:00.000000Z`) into `buf` and
    /// returns it; `None` outside the years 1970 to 9999. The same text as
    /// `humantime::format_rfc3339_micros` (the same civil-calendar arithmetic), without `core::fmt`.
    pub fn encode_rfc3339(self, buf: &mut [u8; Self::RFC3339_LEN]) -> Option<&str> {
        if !self.encode_rfc3339_ascii(buf) {
            return None;
        }
        // Invariant: ASCII digits and separators only.
        std::str::from_utf8(buf).ok()
    }

    /// [`Timestamp::encode_rfc3339`] for writers that copy bytes: fills `buf` and says whether it
    /// could (no UTF-8 check).
    pub fn encode_rfc3339_ascii(self, buf: &mut [u8; Self::RFC3339_LEN]) -> bool {
        /// 253402300800 s after the epoch is 10000-01-01T00:00:00Z.
        const END_MICROS: i64 = 253_402_300_800 * 1_000_000;
        // 2000-03-01, right after a 29 February and at the start of a 400-year cycle.
        const LEAPOCH: i64 = 11_017;
        const DAYS_PER_400Y: i64 = 365 * 400 + 97;
        const DAYS_PER_100Y: i64 = 365 * 100 + 24;
        const DAYS_PER_4Y: i64 = 365 * 4 + 1;
        if !(0..END_MICROS).contains(&self.micros) {
            return false;
        }
        let secs = self.micros / 1_000_000;
        let micros = self.micros % 1_000_000;
        let days = secs / 86_400 - LEAPOCH;
        let secs_of_day = secs % 86_400;

        let mut qc_cycles = days / DAYS_PER_400Y;
        let mut remdays = days % DAYS_PER_400Y;
        if remdays < 0 {
            remdays += DAYS_PER_400Y;
            qc_cycles -= 1;
        }
        let c_cycles = (remdays / DAYS_PER_100Y).min(3);
        remdays -= c_cycles * DAYS_PER_100Y;
        let q_cycles = (remdays / DAYS_PER_4Y).min(24);
        remdays -= q_cycles * DAYS_PER_4Y;
        let remyears = (remdays / 365).min(3);
        remdays -= remyears * 365;
        let mut year = 2000 + remyears + 4 * q_cycles + 100 * c_cycles + 400 * qc_cycles;
        // Months from March, so that February (and its leap day) comes last.
        const MONTHS: [i64; 12] = [31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 29];
        let mut mon = 0;
        for len in MONTHS {
            mon += 1;
            if remdays < len {
                break;
            }
            remdays -= len;
        }
        let mday = remdays + 1;
        let mon = if mon + 2 > 12 {
            year += 1;
            mon - 10
        } else {
            mon + 2
        };

        *buf = *b"0000-00-00T00:00:00.000000Z";
        let mut put = |at: usize, width: u32, value: i64| {
            let mut v = value;
            for i in (0..width as usize).rev() {
                buf[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, mon);
        put(8, 2, mday);
        put(11, 2, secs_of_day / 3600);
        put(14, 2, secs_of_day / 60 % 60);
        put(17, 2, secs_of_day % 60);
        put(20, 6, micros);
        true
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 with microseconds. Instants before 1970 or after 9999 cannot be written this way
    /// and give `fmt::Error`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0; Timestamp::RFC3339_LEN];
        f.write_str(self.encode_rfc3339(&mut buf).ok_or(fmt::Error)?)
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
        let mut buf = [0; Timestamp::RFC3339_LEN];
        match self.encode_rfc3339(&mut buf) {
            Some(text) => s.serialize_str(text),
            None => Err(ser::Error::custom(format_args!(
                "timestamp {} µs since the Unix epoch is outside the years 1970 to 9999 that RFC 3339 \
                 (as written here) can hold",
                self.micros
            ))),
        }
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

    /// The wire name (serde's `snake_case` form).
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::CardPresent => "card_present",
            Channel::Contactless => "contactless",
            Channel::Ecommerce => "ecommerce",
            Channel::Mobile => "mobile",
            Channel::Atm => "atm",
        }
    }
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
    use crate::Decision;

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

    /// What the `Display` impls printed before they were hand-written (the wire form).
    fn old_timestamp_text(t: Timestamp) -> String {
        humantime::format_rfc3339_micros(t.to_system_time()).to_string()
    }

    #[test]
    fn hand_written_forms_match_the_old_ones_at_the_edges() {
        for micros in [
            0,
            1,
            999_999,
            951_782_400_000_000,   // 2000-02-29
            951_868_799_999_999,   // 2000-02-29T23:59:59.999999
            4_107_542_400_000_000, // 2100-03-01 (2100 is not a leap year)
            1_767_225_600_000_000,
            253_402_300_799_999_999, // 9999-12-31T23:59:59.999999
        ] {
            let t = Timestamp::from_micros(micros);
            assert_eq!(t.to_string(), old_timestamp_text(t));
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", old_timestamp_text(t))
            );
        }
        for t in [
            Timestamp::from_micros(-1),
            Timestamp::from_micros(253_402_300_800_000_000),
        ] {
            let err = serde_json::to_string(&t).unwrap_err().to_string();
            assert!(err.contains("outside the years 1970 to 9999"), "{err}");
        }
        for n in [0, 1, 0xfff_ffff_ffff, 0x1000_0000_0000, u64::MAX] {
            assert_eq!(TxnId(n).to_string(), format!("txn_{n:012x}"));
            assert_eq!(DeviceId(n).to_string(), format!("dev_{n:012x}"));
            assert_eq!(
                serde_json::to_string(&CardId(n)).unwrap(),
                format!("\"card_{n:012x}\"")
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn timestamps_print_as_humantime_did(micros in 0i64..253_402_300_800_000_000) {
            let t = Timestamp::from_micros(micros);
            let old = old_timestamp_text(t);
            proptest::prop_assert_eq!(t.to_string(), old.clone());
            proptest::prop_assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{old}\""));
            proptest::prop_assert_eq!(old.parse::<Timestamp>().unwrap(), t);
        }

        #[test]
        fn ids_print_as_the_format_macro_did(n in proptest::num::u64::ANY, small in 0u64..1 << 48) {
            for v in [n, small] {
                proptest::prop_assert_eq!(TxnId(v).to_string(), format!("txn_{v:012x}"));
                proptest::prop_assert_eq!(CardId(v).to_string(), format!("card_{v:012x}"));
                proptest::prop_assert_eq!(CustomerId(v).to_string(), format!("cus_{v:012x}"));
                proptest::prop_assert_eq!(MerchantId(v).to_string(), format!("mer_{v:012x}"));
                proptest::prop_assert_eq!(
                    serde_json::to_string(&DeviceId(v)).unwrap(),
                    format!("\"dev_{v:012x}\"")
                );
                proptest::prop_assert_eq!(format!("txn_{v:012x}").parse::<TxnId>().unwrap(), TxnId(v));
            }
        }
    }

    /// The hand-written names that JSON writers copy are serde's.
    #[test]
    fn enum_names_are_the_serde_names() {
        for c in Channel::ALL {
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
        for c in Currency::ALL {
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.code())
            );
        }
        for d in [Decision::Approve, Decision::Review, Decision::Decline] {
            assert_eq!(
                serde_json::to_string(&d).unwrap(),
                format!("\"{}\"", d.as_str())
            );
            assert_eq!(Decision::from_wire(d.as_str()), Some(d));
        }
        assert_eq!(Decision::from_wire("Approve"), None);
        let mut buf = IdBuf::new();
        assert_eq!(TxnId(0xab).encode_ascii(&mut buf), b"txn_0000000000ab");
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
