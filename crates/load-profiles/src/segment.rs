//! Execution segments: the `i`-th of `n` interleaved shares of a schedule, for splitting one run over
//! several workers or machines. Arrival `k` belongs to segment `k mod n`, so every worker carries `1/n`
//! of the rate all along and the segments' arrivals, merged, are the whole schedule.

use crate::error::SegmentError;
use std::fmt;
use std::str::FromStr;

/// Share `index` of `count` (written `"index/count"`). [`Segment::WHOLE`] is `0/1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    index: u64,
    count: u64,
}

impl Segment {
    /// The whole schedule.
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    /// Checks `count > 0` and `index < count`.
    pub fn new(index: u64, count: u64) -> Result<Segment, SegmentError> {
        if count == 0 {
            return Err(SegmentError::ZeroCount);
        }
        if index >= count {
            return Err(SegmentError::IndexOutOfRange { index, count });
        }
        Ok(Segment { index, count })
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether global arrival `k` is this segment's.
    pub fn contains(&self, k: u64) -> bool {
        self.count == 1 || k % self.count == self.index
    }

    /// The first global index `>= k` that is this segment's; `None` past `u64::MAX`.
    pub fn first_from(&self, k: u64) -> Option<u64> {
        if self.count == 1 {
            return Some(k);
        }
        let r = k % self.count;
        if r <= self.index {
            Some(k - r + self.index)
        } else {
            (k - r).checked_add(self.count + self.index)
        }
    }

    /// How many global indices in `[from, to)` are this segment's.
    pub fn count_in(&self, from: u64, to: u64) -> u64 {
        // Indices below x that are this segment's: those k = index + j * count < x.
        let below = |x: u64| match x.checked_sub(self.index) {
            Some(0) | None => 0,
            Some(d) => (d - 1) / self.count + 1,
        };
        below(to).saturating_sub(below(from))
    }
}

impl Default for Segment {
    fn default() -> Self {
        Segment::WHOLE
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Segment {
    type Err = SegmentError;

    /// Parses `"i/n"`, for example `"2/8"`.
    fn from_str(text: &str) -> Result<Segment, SegmentError> {
        let (i, n) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| SegmentError::Syntax {
                text: text.to_string(),
            })?;
        let number = |part: &'static str, value: &str| {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| SegmentError::Number {
                    text: text.to_string(),
                    part,
                    value: value.trim().to_string(),
                })
        };
        Segment::new(number("index", i)?, number("count", n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        assert_eq!(
            "2/8".parse::<Segment>().unwrap(),
            Segment::new(2, 8).unwrap()
        );
        assert_eq!(" 0 / 1 ".parse::<Segment>().unwrap(), Segment::WHOLE);
        assert!(matches!(
            "3".parse::<Segment>(),
            Err(SegmentError::Syntax { .. })
        ));
        assert!(matches!(
            "a/3".parse::<Segment>(),
            Err(SegmentError::Number { part: "index", .. })
        ));
        assert!(matches!(
            "1/-3".parse::<Segment>(),
            Err(SegmentError::Number { part: "count", .. })
        ));
        assert_eq!("0/0".parse::<Segment>(), Err(SegmentError::ZeroCount));
        let err = "4/4".parse::<Segment>().unwrap_err();
        assert_eq!(err, SegmentError::IndexOutOfRange { index: 4, count: 4 });
        assert!(err.to_string().contains("0..=3"));
        assert_eq!(Segment::new(2, 8).unwrap().to_string(), "2/8");
    }

    #[test]
    fn first_from_steps_to_own_indices() {
        let s = Segment::new(2, 5).unwrap();
        assert_eq!(s.first_from(0), Some(2));
        assert_eq!(s.first_from(2), Some(2));
        assert_eq!(s.first_from(3), Some(7));
        assert_eq!(s.first_from(7), Some(7));
        assert!(s.contains(12) && !s.contains(13));
        // Past the index space there is no next index (it used to overflow).
        assert_eq!(s.first_from(u64::MAX - 1), None);
    }

    #[test]
    fn count_in_counts_own_indices_in_a_range() {
        let s = Segment::new(2, 5).unwrap();
        for (from, to) in [(0, 0), (0, 3), (2, 3), (3, 7), (3, 8), (0, 23), (13, 40)] {
            let by_hand = (from..to).filter(|k| s.contains(*k)).count() as u64;
            assert_eq!(s.count_in(from, to), by_hand, "[{from}, {to})");
        }
        assert_eq!(s.count_in(9, 3), 0);
        assert_eq!(Segment::WHOLE.count_in(0, u64::MAX), u64::MAX);
    }
}
