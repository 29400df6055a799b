//! The detection rules of the four agents, as pure functions over a transaction and its card's state.
//! They never see a label. Each agent returns a [`Finding`]: a score in 0..1 and its reasons; scores
//! combine as independent evidence (noisy-OR: `1 - Π(1 - s)`).

use crate::card_store::{CardState, Recent};
use models::{Decision, FxTable, Transaction};

/// Thresholds and weights of the rules. The defaults are what the crate docs describe.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleConfig {
    /// Risk at which the decision is `review`.
    pub review_threshold: f64,
    /// Risk at which the decision is `decline`.
    pub decline_threshold: f64,
    /// Merchant categories with high fraud rates: gambling, lotteries, quasi-cash and crypto, wires.
    pub risky_mccs: Vec<u16>,
    /// Merchant categories that card testers probe: digital goods, software, charities.
    pub testing_mccs: Vec<u16>,
    /// A "micro" amount, in USD: below this (and above zero).
    pub micro_amount_usd: f64,
    /// Velocity: this many transactions on a card within `velocity_window_s`, this one included.
    pub velocity_count: usize,
    pub velocity_window_s: f64,
    /// Card testing: this many micro amounts on a card within `card_testing_window_s`.
    pub card_testing_count: usize,
    pub card_testing_window_s: f64,
    /// Impossible travel: faster than this from the card's last approved place...
    pub max_speed_kmh: f64,
    /// ...and farther than this.
    pub min_travel_km: f64,
    /// Amount anomaly: times the card's typical (geometric mean) amount, once it has 3 or more
    /// approved transactions...
    pub amount_ratio: f64,
    /// ...and with only 1 or 2.
    pub amount_ratio_thin: f64,
    /// A raised amount, which strengthens other evidence.
    pub raised_ratio: f64,
    /// A reviewed transaction's country and network are learned when they come back this much later.
    pub confirm_after_s: f64,
}

impl Default for RuleConfig {
    fn default() -> Self {
        Self {
            review_threshold: 0.5,
            decline_threshold: 0.8,
            risky_mccs: vec![4829, 6051, 6540, 7800, 7801, 7802, 7995],
            testing_mccs: vec![5734, 5815, 5816, 5817, 5818, 8398],
            micro_amount_usd: 2.5,
            velocity_count: 4,
            velocity_window_s: 10.0,
            card_testing_count: 2,
            card_testing_window_s: 600.0,
            max_speed_kmh: 900.0,
            min_travel_km: 500.0,
            amount_ratio: 8.0,
            amount_ratio_thin: 10.0,
            raised_ratio: 3.0,
            confirm_after_s: 30.0,
        }
    }
}

impl RuleConfig {
    pub fn validate(&self) -> Result<(), crate::SimError> {
        let ok = 0.0 < self.review_threshold
            && self.review_threshold <= self.decline_threshold
            && self.decline_threshold <= 1.0;
        if !ok {
            return Err(crate::SimError::Config {
                field: "rules.review_threshold".into(),
                reason: "thresholds must satisfy 0 < review_threshold <= decline_threshold <= 1"
                    .into(),
            });
        }
        Ok(())
    }
}

/// What one agent concluded.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Finding {
    pub score: f64,
    pub reasons: Vec<&'static str>,
}

impl Finding {
    /// Adds independent evidence.
    pub fn add(&mut self, score: f64, reason: &'static str) {
        self.score = combine(self.score, score);
        self.reasons.push(reason);
    }
}

/// Two independent pieces of evidence as one (noisy-OR).
pub(crate) fn combine(a: f64, b: f64) -> f64 {
    1.0 - (1.0 - a.clamp(0.0, 1.0)) * (1.0 - b.clamp(0.0, 1.0))
}

/// The amount in USD through the declared FX table (unknown currencies count at par).
pub(crate) fn amount_usd(txn: &Transaction, fx: &FxTable) -> f64 {
    let major = txn.amount_major();
    fx.convert(major, txn.currency, models::Currency::USD)
        .unwrap_or(major)
}

fn is_micro(usd: f64, cfg: &RuleConfig) -> bool {
    usd > 0.0 && usd < cfg.micro_amount_usd
}

/// transaction_analyzer: what the transaction alone says.
pub(crate) fn analyze(txn: &Transaction, usd: f64, cfg: &RuleConfig) -> Finding {
    let mut f = Finding::default();
    if cfg.risky_mccs.contains(&txn.mcc) {
        f.add(0.5, "risky_merchant_category");
    }
    if is_micro(usd, cfg) && cfg.testing_mccs.contains(&txn.mcc) {
        f.add(0.5, "micro_amount_at_probed_category");
    }
    if usd >= 10_000.0 {
        f.add(0.2, "large_amount");
    }
    f
}

fn secs(micros: i64) -> f64 {
    micros as f64 / 1e6
}

/// Great-circle distance in km.
pub(crate) fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371.0 * a.sqrt().min(1.0).asin()
}

/// pattern_detector: velocity, card testing and impossible travel against the card's recent
/// transactions; records the transaction in them.
pub(crate) fn detect_patterns(
    txn: &Transaction,
    usd: f64,
    card: &mut CardState,
    cfg: &RuleConfig,
) -> Finding {
    let mut f = Finding::default();
    let ts = txn.timestamp.micros;
    let within = |r: &Recent, window_s: f64| (secs(ts) - secs(r.ts)).abs() <= window_s;
    // Velocity counts the card's use from this device or network: the cardholder's own purchases
    // right after a burst are not part of it.
    let same_source = |r: &Recent| match (txn.device_id, txn.ip) {
        (None, None) => true,
        (device, ip) => (device.is_some() && r.device == device) || (ip.is_some() && r.ip == ip),
    };

    let velocity = 1 + card
        .recent
        .iter()
        .filter(|r| within(r, cfg.velocity_window_s) && same_source(r))
        .count();
    if velocity >= cfg.velocity_count {
        f.add(0.9, "velocity");
    } else if velocity + 1 == cfg.velocity_count {
        f.add(0.35, "velocity_rising");
    }

    if is_micro(usd, cfg) {
        let micro = 1 + card
            .recent
            .iter()
            .filter(|r| is_micro(r.amount_usd, cfg) && within(r, cfg.card_testing_window_s))
            .count();
        if micro >= cfg.card_testing_count {
            f.add(0.9, "card_testing");
        }
    }

    // Impossible travel from the card's previous transaction, except when coming back to a country the
    // profile knows from one it does not (the cardholder home again after someone else's use).
    if let Some(prev) = card.recent.iter().rev().find(|r| r.ts <= ts) {
        let km = haversine_km(prev.lat, prev.lon, txn.lat, txn.lon);
        let hours = (secs(ts) - secs(prev.ts)) / 3_600.0;
        let returning =
            card.countries.contains(&txn.country) && !card.countries.contains(&prev.country);
        if km >= cfg.min_travel_km && km > cfg.max_speed_kmh * hours && !returning {
            f.add(0.92, "impossible_travel");
        }
    }

    card.push_recent(recent_of(txn, usd));
    f
}

/// risk_assessor: geography, device, network and amount against the card's profile (judged once the
/// profile has learned from at least one approved transaction).
pub(crate) fn assess_risk(
    txn: &Transaction,
    usd: f64,
    card: &CardState,
    cfg: &RuleConfig,
) -> Finding {
    let mut f = Finding::default();
    if card.profiled == 0 {
        return f;
    }
    let new_country = !card.countries.contains(&txn.country);
    let new_device = txn
        .device_id
        .is_some_and(|d| !card.devices.is_empty() && !card.devices.contains(&d));
    let new_ip = txn
        .ip
        .is_some_and(|ip| !card.ips.is_empty() && !card.ips.contains(&ip));
    let typical = card.amounts.mean.exp_m1().max(0.01);
    let ratio = usd / typical;
    let raised = ratio >= cfg.raised_ratio;

    let novelty = usize::from(new_country) + usize::from(new_device) + usize::from(new_ip);
    match (novelty, new_country) {
        (0, _) => {}
        (1, _) => f.add(
            0.25,
            if new_country {
                "new_country"
            } else if new_device {
                "new_device"
            } else {
                "new_ip"
            },
        ),
        (_, true) => f.add(if raised { 0.9 } else { 0.75 }, "account_takeover"),
        (_, false) => f.add(if raised { 0.75 } else { 0.55 }, "new_device_and_network"),
    }
    let high = if card.profiled >= 3 {
        cfg.amount_ratio
    } else {
        cfg.amount_ratio_thin
    };
    if ratio >= high {
        f.add(
            if card.profiled >= 3 { 0.85 } else { 0.6 },
            "high_value_anomaly",
        );
    } else if raised {
        f.add(0.15, "amount_above_usual");
    }
    f
}

/// After the decision: an approved transaction teaches the card's profile (country, device, network,
/// merchant, amount); a declined one teaches nothing; a reviewed one is held back, and learned only when
/// a later reviewed transaction, at least `confirm_after_s` later, comes from the same country and
/// network: the cardholder coming back, not a burst of someone else's use. Without that, a profile
/// that learned a fraudster's first transaction would flag its owner for ever.
pub(crate) fn learn(
    txn: &Transaction,
    usd: f64,
    decision: Decision,
    card: &mut CardState,
    cfg: &RuleConfig,
) {
    let ts = txn.timestamp.micros;
    match decision {
        Decision::Approve => {}
        Decision::Decline => return,
        Decision::Review => {
            let confirmed = card.pending.is_some_and(|(at, country, ip)| {
                country == txn.country && ip == txn.ip && secs(ts) - secs(at) >= cfg.confirm_after_s
            });
            if !confirmed {
                card.pending = Some((ts, txn.country, txn.ip));
                return;
            }
        }
    }
    card.pending = None;
    card.profiled += 1;
    card.amounts.push(usd.max(0.0).ln_1p());
    card.countries.remember(txn.country);
    card.merchants.remember(txn.merchant_id);
    if let Some(d) = txn.device_id {
        card.devices.remember(d);
    }
    if let Some(ip) = txn.ip {
        card.ips.remember(ip);
    }
}

/// A settled transaction of the card's past (a warm start): recorded as the pattern detector records
/// what it sees, and learned as an approved transaction.
pub(crate) fn settle(txn: &Transaction, usd: f64, card: &mut CardState, cfg: &RuleConfig) {
    card.push_recent(recent_of(txn, usd));
    learn(txn, usd, Decision::Approve, card, cfg);
}

fn recent_of(txn: &Transaction, usd: f64) -> Recent {
    Recent {
        ts: txn.timestamp.micros,
        amount_usd: usd,
        device: txn.device_id,
        ip: txn.ip,
        lat: txn.lat,
        lon: txn.lon,
        country: txn.country,
    }
}

/// decision_maker: combines the agents' findings into a risk score and a decision.
pub(crate) fn decide<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    cfg: &RuleConfig,
) -> (Decision, f64, Vec<String>) {
    let mut score = 0.0;
    let mut reasons = Vec::new();
    for f in findings {
        score = combine(score, f.score);
        reasons.extend(f.reasons.iter().map(|r| (*r).to_owned()));
    }
    let decision = if score >= cfg.decline_threshold {
        Decision::Decline
    } else if score >= cfg.review_threshold {
        Decision::Review
    } else {
        Decision::Approve
    };
    (decision, score, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::*;
    use std::borrow::Cow;
    use std::net::Ipv4Addr;

    fn txn(secs: i64, amount_minor: u64, lat: f64, lon: f64) -> Transaction {
        Transaction {
            id: TxnId(secs as u64),
            timestamp: Timestamp::from_secs(1_767_225_600 + secs),
            amount_minor,
            currency: Currency::USD,
            card_id: CardId(1),
            customer_id: CustomerId(1),
            merchant_id: MerchantId(secs as u64 % 3),
            merchant_name: Cow::Borrowed("Shop"),
            mcc: 5411,
            channel: Channel::CardPresent,
            country: CountryCode::new("FR"),
            lat,
            lon,
            device_id: Some(DeviceId(7)),
            ip: Some(Ipv4Addr::new(203, 0, 113, 7)),
        }
    }

    #[test]
    fn distances_are_right() {
        let paris_nyc = haversine_km(48.8566, 2.3522, 40.7128, -74.0060);
        assert!((paris_nyc - 5_837.0).abs() < 20.0, "{paris_nyc}");
    }

    #[test]
    fn velocity_fires_on_the_fourth_within_ten_seconds() {
        let cfg = RuleConfig::default();
        let mut card = CardState::default();
        let scores: Vec<f64> = (0..4)
            .map(|i| detect_patterns(&txn(i * 2, 2_000, 48.85, 2.35), 20.0, &mut card, &cfg).score)
            .collect();
        assert_eq!(scores[..2], [0.0, 0.0]);
        assert!(scores[2] > 0.0 && scores[2] < cfg.review_threshold);
        assert!(scores[3] >= 0.9);
        // A minute later the window is empty again.
        assert_eq!(
            detect_patterns(&txn(70, 2_000, 48.85, 2.35), 20.0, &mut card, &cfg).score,
            0.0
        );
    }

    #[test]
    fn impossible_travel_but_not_coming_home() {
        let cfg = RuleConfig::default();
        let mut card = CardState::default();
        let home = txn(0, 2_000, 48.85, 2.35);
        detect_patterns(&home, 20.0, &mut card, &cfg);
        learn(&home, 20.0, Decision::Approve, &mut card, &cfg);
        let mut far = txn(3_600, 2_000, 40.71, -74.0);
        far.country = CountryCode::new("US");
        let f = detect_patterns(&far, 20.0, &mut card, &cfg);
        assert!(f.reasons.contains(&"impossible_travel"));
        // Back in France, a country the profile knows: not suspicious.
        let f = detect_patterns(&txn(3_700, 2_000, 48.86, 2.34), 20.0, &mut card, &cfg);
        assert!(!f.reasons.contains(&"impossible_travel"));
    }

    #[test]
    fn amount_anomaly_needs_history() {
        let cfg = RuleConfig::default();
        let mut card = CardState::default();
        let big = txn(0, 5_000_000, 0.0, 0.0);
        assert_eq!(assess_risk(&big, 50_000.0, &card, &cfg).score, 0.0);
        for i in 0..5 {
            learn(
                &txn(i, 3_000, 0.0, 0.0),
                30.0,
                Decision::Approve,
                &mut card,
                &cfg,
            );
        }
        let f = assess_risk(&big, 50_000.0, &card, &cfg);
        assert!(f.reasons.contains(&"high_value_anomaly"), "{f:?}");
        assert_eq!(
            assess_risk(&txn(9, 3_500, 0.0, 0.0), 35.0, &card, &cfg).score,
            0.0
        );
    }

    #[test]
    fn new_country_device_and_network_together_look_like_takeover() {
        let cfg = RuleConfig::default();
        let mut card = CardState::default();
        learn(
            &txn(0, 3_000, 0.0, 0.0),
            30.0,
            Decision::Approve,
            &mut card,
            &cfg,
        );
        let mut t = txn(100, 30_000, 0.0, 0.0);
        t.country = CountryCode::new("BR");
        t.device_id = Some(DeviceId(99));
        t.ip = Some(Ipv4Addr::new(198, 51, 100, 1));
        let f = assess_risk(&t, 300.0, &card, &cfg);
        assert!(
            f.reasons.contains(&"account_takeover") && f.score >= cfg.decline_threshold,
            "{f:?}"
        );
    }

    #[test]
    fn first_card_testing_probe_is_flagged_by_category_and_the_next_by_repetition() {
        let cfg = RuleConfig::default();
        let mut card = CardState::default();
        let mut probe = txn(0, 100, 0.0, 0.0);
        probe.mcc = 5815;
        assert!(analyze(&probe, 1.0, &cfg).score >= cfg.review_threshold);
        detect_patterns(&probe, 1.0, &mut card, &cfg);
        let f = detect_patterns(&txn(1, 100, 0.0, 0.0), 1.0, &mut card, &cfg);
        assert!(f.reasons.contains(&"card_testing"));
    }

    #[test]
    fn settled_history_profiles_the_card_and_feeds_the_travel_check() {
        let cfg = RuleConfig::default();
        let mut card = CardState::default();
        for i in 0..3 {
            settle(&txn(i * 3_600, 3_000, 48.85, 2.35), 30.0, &mut card, &cfg);
        }
        assert_eq!(card.profiled, 3);
        assert_eq!(card.recent.len(), 3);
        // The first transaction of the run, ten times the usual amount: an anomaly at once.
        let big = txn(4 * 3_600, 30_000, 48.85, 2.35);
        assert!(
            assess_risk(&big, 300.0, &card, &cfg)
                .reasons
                .contains(&"high_value_anomaly")
        );
        // New York a minute after the last settled purchase in Paris.
        let mut far = txn(2 * 3_600 + 60, 3_000, 40.71, -74.0);
        far.country = CountryCode::new("US");
        let f = detect_patterns(&far, 30.0, &mut card, &cfg);
        assert!(f.reasons.contains(&"impossible_travel"), "{f:?}");
    }

    #[test]
    fn decisions_follow_thresholds() {
        let cfg = RuleConfig::default();
        let f = |s| Finding {
            score: s,
            reasons: vec!["x"],
        };
        assert_eq!(decide([&f(0.1)], &cfg).0, Decision::Approve);
        assert_eq!(decide([&f(0.3), &f(0.4)], &cfg).0, Decision::Review);
        assert_eq!(decide([&f(0.9)], &cfg).0, Decision::Decline);
    }
}
