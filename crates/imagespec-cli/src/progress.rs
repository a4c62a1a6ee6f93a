//! Progress on a terminal: every tracing span that carries a `progress`
//! field (hashing a tree, checking and building each image) shows as a
//! spinner with its elapsed time while it runs. Off the terminal, or with
//! `-q`, nothing is drawn.

use tracing_indicatif::IndicatifLayer;
use tracing_subscriber::filter::FilterFn;

/// The layer that draws the spinners.
pub fn layer<S>() -> IndicatifLayer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    IndicatifLayer::new().with_max_progress_bars(
        8,
        Some(
            indicatif::ProgressStyle::with_template(
                "{span_child_prefix}… and {pending_progress_bars} more",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        ),
    )
}

/// Only the spans meant as progress.
pub fn filter() -> FilterFn<fn(&tracing::Metadata<'_>) -> bool> {
    FilterFn::new(|meta| meta.is_span() && meta.fields().field("progress").is_some())
}
