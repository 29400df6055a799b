//! Fault catalogue, injectors (built-in hooks and an HTTP proxy), degradation and resilience.
