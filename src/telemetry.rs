//! Logging: `RUST_LOG` filter (default `info`), human-readable or JSON lines.
//!
//! JSON lines are flat: the event's fields, then `timestamp`, `level`, `target`, `span` (the
//! innermost span's name) and the fields of every enclosing span at the top level. The reconcile
//! span's `namespace` and `name` therefore land on every line a reconcile logs, where log queries
//! expect them. (tracing-subscriber's own JSON format nests span fields next to the span's name
//! under the same key `name`, so a resource's `name` was lost to most JSON parsers.)

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the global subscriber. Logs go to stderr.
pub fn init(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,kube=warn"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .with_ansi(false)
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

/// One JSON object per event, span fields flattened (see the module comment). Span fields must be
/// recorded with [`JsonFields`] so they can be read back as JSON.
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        // Outer spans first, so an inner span's field wins over an outer one of the same name.
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields)
                {
                    line.extend(fields);
                }
                line.insert("span".into(), span.name().into());
            }
        }
        event.record(&mut JsonVisitor(&mut line));
        let meta = event.metadata();
        for (key, value) in [
            ("timestamp", jiff::Timestamp::now().to_string()),
            ("level", meta.level().as_str().to_string()),
            ("target", meta.target().to_string()),
        ] {
            // An event field of the same name (e.g. a rollout's `target`) moves aside instead of
            // being lost.
            if let Some(field) = line.insert(key.into(), value.into()) {
                line.insert(format!("field.{key}"), field);
            }
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Collects an event's fields as JSON values (numbers and booleans stay typed).
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines(log: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        let out = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .with_writer(move || out.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect()
    }

    #[test]
    fn reconcile_lines_carry_the_resource_namespace_and_name() {
        let lines = lines(|| {
            let span =
                tracing::info_span!("reconcile", namespace = "team-a", name = "openmetadata");
            let _entered = span.enter();
            tracing::info!(target = %"web", hash = "abc", replicas = 2, "rollout triggered");
        });
        let line = &lines[0];
        assert_eq!(line["namespace"], "team-a");
        assert_eq!(line["name"], "openmetadata");
        assert_eq!(line["span"], "reconcile");
        assert_eq!(line["message"], "rollout triggered");
        assert_eq!(line["hash"], "abc");
        assert_eq!(line["replicas"], 2);
        assert_eq!(line["level"], "INFO");
        // `target` is the log target, as in every line; the event's field of that name moves aside.
        assert!(line["target"].as_str().unwrap().contains("telemetry"));
        assert_eq!(line["field.target"], "web");
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn lines_outside_a_span_have_no_span_fields() {
        let lines = lines(|| tracing::warn!(error = "boom", "failed"));
        assert_eq!(lines[0]["error"], "boom");
        assert!(lines[0].get("span").is_none());
        assert!(lines[0].get("namespace").is_none());
    }
}
