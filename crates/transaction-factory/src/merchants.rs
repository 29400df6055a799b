//! The merchant catalogue: static names and category codes (so names are `Cow::Borrowed`), and the
//! layout of merchant ids: regular merchants grouped by country, then risky, card-testing and
//! unicode-named merchants.

use crate::geo::COUNTRIES;
use models::MerchantId;

/// Merchant category codes (ISO 18245) of the risky-merchant pattern: gambling, quasi-cash/crypto,
/// wire transfer.
pub const RISKY_MCCS: [u16; 3] = [7995, 6051, 4829];

static REGULAR: &[(&str, u16)] = &[
    ("FreshMart Grocery", 5411),
    ("Green Basket Market", 5411),
    ("Corner Deli & Grocery", 5411),
    ("Blue Bottle Coffee", 5814),
    ("Morning Brew Coffee House", 5814),
    ("Burger Barn", 5814),
    ("Golden Dragon Restaurant", 5812),
    ("Trattoria Roma", 5812),
    ("Joe's \"Famous\" Diner", 5812),
    ("The Olive Tree Bistro", 5812),
    ("QuickFuel Station", 5541),
    ("Highway Petrol", 5541),
    ("City Pharmacy", 5912),
    ("WellCare Chemist", 5912),
    ("MegaMart Department Store", 5311),
    ("ByteShop Electronics", 5732),
    ("Circuit City Gadgets", 5732),
    ("Urban Threads Clothing", 5651),
    ("Page Turner Books", 5942),
    ("Metro Transit", 4111),
    ("Yellow Cab Co", 4121),
    ("Starlight Cinema", 7832),
    ("Smith, Jones & Sons Hardware", 5251),
    ("Harbor View Hotel", 7011),
    ("SkyWay Airlines", 4511),
    ("PetPal Supplies", 5995),
    ("Home Comforts", 5712),
    ("FitLife Gym", 7997),
    ("StreamBox Subscription", 4899),
    ("Daily Bread Bakery", 5462),
];

static RISKY: &[(&str, u16)] = &[
    ("Lucky Star Casino Online", 7995),
    ("Royal Bet Sportsbook", 7995),
    ("Jackpot Palace", 7995),
    ("CoinVault Exchange", 6051),
    ("QuickCrypto Top-Up", 6051),
    ("ChainCash Vouchers", 6051),
    ("FastWire Money Transfer", 4829),
    ("GlobalRemit Express", 4829),
];

static TESTING: &[(&str, u16)] = &[
    ("PixelTunes Downloads", 5815),
    ("GameCoin Top-Up", 5816),
    ("eBook Corner", 5815),
    ("AppWorld Store", 5818),
    ("Help The Reef Donations", 8398),
    ("Open Hearts Charity", 8398),
    ("Streamly Gift Cards", 5818),
    ("TinyDomains Hosting", 5734),
];

/// Names that exercise text handling: accents, CJK, Cyrillic, Arabic (right-to-left), Greek,
/// Devanagari, emoji, and a quote plus a comma for CSV.
static UNICODE: &[(&str, u16)] = &[
    ("Café Zürich", 5812),
    ("東京ラーメン横丁", 5812),
    ("Пекарня «Хлеб»", 5462),
    ("مطعم الكويت", 5812),
    ("Ünïcödé Märkt", 5411),
    ("🍣 Sushi Bar 🍶", 5812),
    ("Crêperie \"La Bretonne\", Paris", 5812),
    ("São Paulo Açaí", 5814),
    ("Κρητική Ταβέρνα", 5812),
    ("मुंबई चाय", 5814),
    ("北京烤鸭店", 5812),
    ("Zoë's Bäckerei", 5462),
];

/// Number of risky merchants (ids right after the regular ones).
pub const RISKY_COUNT: u64 = 256;
/// Number of card-testing target merchants (small digital-goods shops and donation pages).
pub const TESTING_COUNT: u64 = 4096;

/// Which part of the catalogue a merchant belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerchantKind {
    /// An everyday merchant in one country; customers' usual merchants come from these.
    Regular,
    /// A high-risk category ([`RISKY_MCCS`]).
    Risky,
    /// A merchant that card testers probe; legitimate traffic never goes there.
    CardTestingTarget,
    /// A merchant with a non-ASCII name (edge cases).
    Unicode,
}

/// What the catalogue knows about a merchant id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MerchantInfo {
    pub id: MerchantId,
    pub name: &'static str,
    pub mcc: u16,
    pub kind: MerchantKind,
    /// For regular merchants, the index of their country in [`crate::geo::COUNTRIES`].
    pub country_index: Option<usize>,
}

/// Merchant id layout. Regular merchants `0..regular` are split into contiguous per-country ranges
/// sized by country weight (popularity inside a range follows a Zipf law: low offsets are popular).
#[derive(Debug, Clone)]
pub(crate) struct Catalogue {
    pub regular: u64,
    /// `(first id, count)` per country.
    pub ranges: Vec<(u64, u64)>,
}

impl Catalogue {
    pub(crate) fn new(regular: u64) -> Self {
        let total_weight: u64 = COUNTRIES.iter().map(|c| u64::from(c.weight)).sum();
        let mut ranges = Vec::with_capacity(COUNTRIES.len());
        let mut next = 0;
        for (i, c) in COUNTRIES.iter().enumerate() {
            let len = if i + 1 == COUNTRIES.len() {
                regular - next
            } else {
                (regular * u64::from(c.weight) / total_weight).max(1)
            };
            ranges.push((next, len));
            next += len;
        }
        Self { regular, ranges }
    }

    pub(crate) fn risky(&self, i: u64) -> MerchantId {
        MerchantId(self.regular + i % RISKY_COUNT)
    }

    pub(crate) fn testing(&self, i: u64) -> MerchantId {
        MerchantId(self.regular + RISKY_COUNT + i % TESTING_COUNT)
    }

    pub(crate) fn unicode(&self, i: u64) -> MerchantId {
        MerchantId(self.regular + RISKY_COUNT + TESTING_COUNT + i % UNICODE.len() as u64)
    }

    pub(crate) fn total(&self) -> u64 {
        self.regular + RISKY_COUNT + TESTING_COUNT + UNICODE.len() as u64
    }

    /// Name and category code, without the country lookup (hot path). Unknown ids get a regular name.
    #[inline]
    pub(crate) fn name_and_mcc(&self, id: MerchantId) -> (&'static str, u16) {
        let m = id.0;
        if m < self.regular {
            REGULAR[(crate::rng::mix64(m) % REGULAR.len() as u64) as usize]
        } else {
            self.info(id).map_or(REGULAR[0], |i| (i.name, i.mcc))
        }
    }

    pub(crate) fn info(&self, id: MerchantId) -> Option<MerchantInfo> {
        let m = id.0;
        let (table, kind, offset, country_index) = if m < self.regular {
            let country = self
                .ranges
                .iter()
                .position(|&(start, len)| m >= start && m < start + len);
            // Regular names are scattered over ids so neighbours differ.
            (
                REGULAR,
                MerchantKind::Regular,
                (crate::rng::mix64(m) % REGULAR.len() as u64) as usize,
                country,
            )
        } else if m < self.regular + RISKY_COUNT {
            (
                RISKY,
                MerchantKind::Risky,
                (m - self.regular) as usize,
                None,
            )
        } else if m < self.regular + RISKY_COUNT + TESTING_COUNT {
            (
                TESTING,
                MerchantKind::CardTestingTarget,
                (m - self.regular - RISKY_COUNT) as usize,
                None,
            )
        } else if m < self.total() {
            (
                UNICODE,
                MerchantKind::Unicode,
                (m - self.regular - RISKY_COUNT - TESTING_COUNT) as usize,
                None,
            )
        } else {
            return None;
        };
        let (name, mcc) = table[offset % table.len()];
        Some(MerchantInfo {
            id,
            name,
            mcc,
            kind,
            country_index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_regular_ids_exactly() {
        let c = Catalogue::new(20_000);
        assert_eq!(c.ranges.len(), COUNTRIES.len());
        let mut next = 0;
        for &(start, len) in &c.ranges {
            assert_eq!(start, next);
            assert!(len >= 1);
            next += len;
        }
        assert_eq!(next, 20_000);
    }

    #[test]
    fn every_kind_maps_back() {
        let c = Catalogue::new(5_000);
        assert_eq!(
            c.info(MerchantId(0)).map(|i| i.kind),
            Some(MerchantKind::Regular)
        );
        assert_eq!(
            c.info(c.risky(3)).map(|i| i.kind),
            Some(MerchantKind::Risky)
        );
        assert!(RISKY_MCCS.contains(&c.info(c.risky(3)).map(|i| i.mcc).unwrap_or(0)));
        assert_eq!(
            c.info(c.testing(9)).map(|i| i.kind),
            Some(MerchantKind::CardTestingTarget)
        );
        let u = c.info(c.unicode(1)).map(|i| i.name).unwrap_or("");
        assert!(!u.is_ascii());
        assert!(c.info(MerchantId(c.total())).is_none());
        assert!(UNICODE.iter().all(|(n, _)| !n.is_ascii()));
        assert!(RISKY.iter().all(|(_, mcc)| RISKY_MCCS.contains(mcc)));
        assert!(REGULAR.iter().all(|(_, mcc)| !RISKY_MCCS.contains(mcc)));
    }
}
