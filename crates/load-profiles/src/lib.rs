//! Rate curves, open-model arrival schedules and execution segments.
//!
//! A [`Profile`] turns a [`models::LoadProfile`] (ramp, sustained, burst, wave and chaos stages) into
//! a rate curve: [`Profile::rate_at`] in TPS, [`Profile::stage_at`] for phase labels and
//! [`Profile::integral`], the planned number of transactions in a window, in closed form for every
//! shape (the chaos curve is a seeded random walk held constant for each second, so it too integrates
//! exactly). A [`Schedule`] yields the intended send instant of every transaction, with its global
//! index, for uniform or seeded Poisson arrivals; [`Schedule::set_multiplier_at`] scales the load at
//! run time; [`Schedule::segment`] keeps one [`Segment`] (`"i/n"`) of the schedule for one worker.
//! [`ShapeSpec`] parses the command line's one-line shapes ([`SHAPE_SYNTAX`]).
//!
//! ```
//! use load_profiles::{Profile, Schedule, Segment, ShapeSpec};
//! use models::Arrival;
//! use std::time::Duration;
//!
//! let shape: ShapeSpec = "ramp:0..100@10s,sustained:100@20s".parse()?;
//! let profile = shape.profile(42)?;
//! assert_eq!(profile.duration(), Duration::from_secs(30));
//! assert_eq!(profile.rate_at(Duration::from_secs(5)), 50.0);
//! assert_eq!(profile.stage_at(Duration::from_secs(12)), Some((1, "sustained")));
//! assert_eq!(profile.integral(Duration::ZERO, Duration::from_secs(30)), 500.0 + 2000.0);
//!
//! // Uniform arrivals: as many as the integral, each with its transaction index.
//! let arrivals: Vec<_> = Schedule::new(profile.clone(), Arrival::Uniform, 7).collect();
//! assert_eq!(arrivals.len(), 2500);
//! assert_eq!(arrivals[0].index, 0);
//!
//! // The second of four workers sends arrivals 1, 5, 9, ... at the same instants.
//! let share: Vec<_> = Schedule::new(profile, Arrival::Uniform, 7).segment("1/4".parse::<Segment>()?).collect();
//! assert_eq!(share[1], arrivals[5]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chaos;
mod curve;
mod error;
mod profile;
mod schedule;
mod segment;
mod shape;

pub use chaos::derive_seed;
pub use error::{ProfileError, ScheduleError, SegmentError};
pub use profile::{Profile, StageInfo};
pub use schedule::{Schedule, ScheduledArrival};
pub use segment::Segment;
pub use shape::{SHAPE_SYNTAX, ShapeError, ShapeSpec};
