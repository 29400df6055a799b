//! Settings: the scenario's `[aws]` table ([`AwsSpec`]) with command-line overrides on top, and the SDK
//! configuration from the standard AWS credential and region chain.

use crate::sink::DEFAULT_NAMESPACE;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use models::AwsSpec;

/// The system's resources whose metrics the collector reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsResources {
    pub lambda_functions: Vec<String>,
    pub dynamodb_tables: Vec<String>,
    pub kinesis_streams: Vec<String>,
    pub bedrock_models: Vec<String>,
}

impl AwsResources {
    pub fn is_empty(&self) -> bool {
        self.lambda_functions.is_empty()
            && self.dynamodb_tables.is_empty()
            && self.kinesis_streams.is_empty()
            && self.bedrock_models.is_empty()
    }
}

/// Everything the AWS side of a run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsConfig {
    /// Publish run metrics to CloudWatch.
    pub cloudwatch: bool,
    /// Read X-Ray traces (and, with a sample rate above 0, emit segments).
    pub xray: bool,
    pub namespace: String,
    /// Region; when absent, the standard chain (`AWS_REGION`, profile, instance metadata) decides.
    pub region: Option<String>,
    /// Endpoint for every service (an emulator, a VPC endpoint); when absent, AWS's own.
    pub endpoint_url: Option<String>,
    pub resources: AwsResources,
    /// X-Ray filter expression for GetTraceSummaries; none reads every trace of the window.
    pub xray_filter: Option<String>,
    /// Emit X-Ray segments for sampled synthetic transactions.
    pub emit_segments: bool,
    /// Share of transactions emitted as X-Ray segments (0 to 1).
    pub xray_sample_rate: f64,
    /// Adds a `Worker` dimension to the published metrics.
    pub worker_dimension: Option<String>,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            cloudwatch: false,
            xray: false,
            namespace: DEFAULT_NAMESPACE.into(),
            region: None,
            endpoint_url: None,
            resources: AwsResources::default(),
            xray_filter: None,
            emit_segments: false,
            xray_sample_rate: 0.01,
            worker_dimension: None,
        }
    }
}

impl AwsConfig {
    /// From a scenario's `[aws]` table.
    pub fn from_spec(spec: &AwsSpec) -> Self {
        Self {
            cloudwatch: spec.cloudwatch,
            xray: spec.xray,
            namespace: spec
                .namespace
                .clone()
                .unwrap_or_else(|| DEFAULT_NAMESPACE.into()),
            region: spec.region.clone(),
            endpoint_url: spec.endpoint_url.clone(),
            resources: AwsResources {
                lambda_functions: spec.lambda_functions.clone(),
                dynamodb_tables: spec.dynamodb_tables.clone(),
                kinesis_streams: spec.kinesis_streams.clone(),
                bedrock_models: spec.bedrock_models.clone(),
            },
            xray_filter: spec.xray_filter.clone(),
            emit_segments: spec.emit_segments,
            xray_sample_rate: spec.segment_sample_rate.unwrap_or(0.01),
            ..Self::default()
        }
    }

    /// Applies command-line overrides.
    pub fn with_overrides(mut self, overrides: &AwsOverrides) -> Self {
        self.cloudwatch |= overrides.cloudwatch;
        self.xray |= overrides.xray;
        self.emit_segments |= overrides.emit_segments;
        if let Some(url) = &overrides.endpoint_url {
            self.endpoint_url = Some(url.clone());
        }
        if let Some(region) = &overrides.region {
            self.region = Some(region.clone());
        }
        self
    }

    /// True when anything AWS is switched on.
    pub fn enabled(&self) -> bool {
        self.cloudwatch || self.xray || self.emit_segments
    }

    /// The SDK loader with the standard credential and region chain, and this config's region and
    /// endpoint; add to it (for example fixed credentials) before `load()`.
    pub fn loader(&self) -> ConfigLoader {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        loader
    }

    /// Loads the SDK configuration through [`loader`](Self::loader).
    pub async fn load(&self) -> SdkConfig {
        self.loader().load().await
    }
}

/// Command-line overrides of the `[aws]` table: flags switch features on; values replace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsOverrides {
    pub cloudwatch: bool,
    pub xray: bool,
    /// Emit X-Ray segments for sampled transactions.
    pub emit_segments: bool,
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
}

impl AwsOverrides {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Merges the overrides into a scenario's `[aws]` table; a table is created when the overrides ask
    /// for something and the scenario has none.
    pub fn apply_to(&self, spec: Option<AwsSpec>) -> Option<AwsSpec> {
        if self.is_empty() {
            return spec;
        }
        let mut spec = spec.unwrap_or_default();
        spec.cloudwatch |= self.cloudwatch;
        spec.xray |= self.xray;
        spec.emit_segments |= self.emit_segments;
        if let Some(url) = &self.endpoint_url {
            spec.endpoint_url = Some(url.clone());
        }
        if let Some(region) = &self.region {
            spec.region = Some(region.clone());
        }
        Some(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_then_overrides() {
        let spec = AwsSpec {
            cloudwatch: true,
            region: Some("eu-west-1".into()),
            lambda_functions: vec!["score".into()],
            ..Default::default()
        };
        let config = AwsConfig::from_spec(&spec);
        assert_eq!(config.namespace, "StressRunner");
        assert_eq!(config.resources.lambda_functions, ["score"]);
        assert!(!config.xray);

        let overrides = AwsOverrides {
            xray: true,
            endpoint_url: Some("http://127.0.0.1:4566".into()),
            ..Default::default()
        };
        let config = config.with_overrides(&overrides);
        assert!(config.cloudwatch && config.xray);
        assert_eq!(config.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            config.endpoint_url.as_deref(),
            Some("http://127.0.0.1:4566")
        );

        let merged = overrides.apply_to(Some(spec.clone())).unwrap();
        assert!(merged.cloudwatch && merged.xray);
        assert_eq!(merged.lambda_functions, ["score"]);
        assert_eq!(AwsOverrides::default().apply_to(None), None);
        assert_eq!(
            AwsOverrides::default().apply_to(Some(spec.clone())),
            Some(spec)
        );
        let created = AwsOverrides {
            cloudwatch: true,
            ..Default::default()
        }
        .apply_to(None)
        .unwrap();
        assert!(created.cloudwatch && !created.xray);
    }
}
