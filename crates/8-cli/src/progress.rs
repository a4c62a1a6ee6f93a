//! Progress on a terminal: every tracing span that carries a `progress`
//! field (reading and hashing a spec's files, checking and building each
//! image) shows as a spinner with its elapsed time while it runs. Off the
//! terminal, or with `-q`, nothing is drawn.

use tracing_indicatif::IndicatifLayer;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::fmt::format::{FieldFn, Writer};

/// How one span field is written next to its spinner.
type FormatField =
    fn(&mut Writer<'_>, &tracing::field::Field, &dyn std::fmt::Debug) -> std::fmt::Result;

/// The span fields, space-separated.
type FieldFormatter =
    tracing_subscriber::field::delimited::Delimited<&'static str, FieldFn<FormatField>>;

/// A span field as `name=value`; the `progress` marker not at all.
fn format_field(
    w: &mut Writer<'_>,
    field: &tracing::field::Field,
    value: &dyn std::fmt::Debug,
) -> std::fmt::Result {
    match field.name() {
        "progress" => Ok(()),
        name => write!(w, "{name}={value:?}"),
    }
}

/// The layer that draws the spinners.
pub fn layer<S>() -> IndicatifLayer<S, FieldFormatter>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let format: FormatField = format_field;
    let fields: FieldFormatter = tracing_subscriber::fmt::format::debug_fn(format).delimited(" ");
    IndicatifLayer::new()
        .with_span_field_formatter(fields)
        .with_progress_style(
            indicatif::ProgressStyle::with_template(
                "{span_child_prefix}{spinner} {span_name} {span_fields} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        )
        .with_max_progress_bars(
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
