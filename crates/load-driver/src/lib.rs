//! The open-model load driver: sends each transaction at its intended instant.
